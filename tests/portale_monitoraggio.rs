//! "Monitoraggio servizi" in the portal, on aggregates seeded with known numbers: the three views
//! in a real headless Chromium (tests/browser/monitoraggio.mjs: each chart, «Altri», the
//! previous and next period, a screenshot of each view, the CSV downloaded and read back here
//! with Python's csv module against the page's table); a region's monitor refused another
//! region's figures as page, CSV, JSON and SVG, and logged; the exports (CSV, JSON, SVG) and
//! their section 2.5 rows; a bad query answered 400 in Italian.

mod common;

use bytes::Bytes;
use common::client::{Client, Reply};
use common::portale::{esiti, pair, scenario};
use common::sso::Navigatore;
use common::{standard_callers, TestServer};
use diesel::prelude::*;
use http_body_util::Full;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// MEF staff: every region.
const CONTI: &str = "CNTFBA76L03H501N";
/// Region 120's staff.
const RICCI: &str = "RCCMRT83P62H501G";
/// No MONITORAGGIO_SERVIZI profile.
const VERDI: &str = "VRDLCU70M10H501X";

const TRAFFICO: &str = "MONITORAGGIO_TRAFFICO";
const VACCINAZIONI: &str = "MONITORAGGIO_VACCINAZIONI";
const ANOMALIE: &str = "MONITORAGGIO_ANOMALIE";
const INDICE: &str = "MONITORAGGIO";

/// The seeded calls of the last 7 days: all, region 120's; the 7 days before; and the
/// vaccination records (all, region 120's).
const TOTALE: i64 = 276;
const TOTALE_120: i64 = 86;
const TOTALE_PRECEDENTE: i64 = 20;
const VACCINAZIONI_TOTALE: i64 = 107;
const VACCINAZIONI_120: i64 = 47;

/// A server whose reports show 3 groups before «Altri», without the monitoring job (it would
/// recount the patients per region).
async fn server() -> TestServer {
    let s = TestServer::start_with(standard_callers(), |c| {
        c.monitoraggio.top = 3;
        c.monitoraggio.intervallo_secs = 86_400;
    })
    .await;
    semina(&mut s.db.connection());
    s
}

/// The aggregates of a known workload, `giorni` days before today (Italian time), at 10:00,
/// at every grain (as the triggers would write them), plus patients and first uses of IPs.
fn semina(c: &mut PgConnection) {
    let eventi = "
        (1, 'VerificaAssistitoFuoriRegione', 'regione-lazio', '120', '10.120.0.1', '00', '', 40),
        (1, 'VerificaAssistitoFuoriRegione', 'regione-lazio', '120', '10.120.0.2', '01', '', 5),
        (2, 'VerificaSomministrazioni', 'regione-lazio', '120', '10.120.0.1', '00', '', 20),
        (2, 'VerificaAssistitoFuoriRegione', 'regione-lazio', '120', '10.120.0.2', '', 'TSG-0102', 3),
        (3, 'VerificaSomministrazioni', 'regione-lazio', '120', '10.120.0.1', '00', '', 12),
        (1, 'AttivazioneTSCNS', 'cms-lazio', '120', '10.120.0.5', '00', '', 6),
        (1, 'VerificaAssistitoFuoriRegione', 'regione-lombardia', '030', '10.30.0.1', '00', '', 100),
        (2, 'VerificaAssistitoFuoriRegione', 'regione-lombardia', '030', '10.30.0.1', '01', '', 7),
        (2, 'VerificaAssistitoFuoriRegione', 'regione-lombardia', '030', '10.30.0.2', '', 'TSG-0102', 3),
        (3, 'VerificaSomministrazioni', 'regione-lombardia', '030', '10.30.0.1', '00', '', 30),
        (1, 'TrasmissionePrenotazione', 'avn', '', '10.0.0.9', '00', '', 25),
        (2, 'TrasmissioneSomministrazione', 'avn', '', '10.0.0.9', '00', '', 15),
        (3, 'VerificaAssistitoFuoriRegione', 'piattaforma-nazionale', '', '10.0.0.8', '00', '', 10),
        (10, 'VerificaAssistitoFuoriRegione', 'regione-lazio', '120', '10.120.0.1', '00', '', 9),
        (10, 'VerificaAssistitoFuoriRegione', 'regione-lombardia', '030', '10.30.0.1', '00', '', 11)";
    for sql in [
        format!(
            "INSERT INTO mon_traffico_ip (grana, periodo, operazione, chiamante, regione, ip_client, \
                 esito, codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata) \
             SELECT g.grana, mon_periodo(g.grana, e.ts), e.operazione, e.chiamante, e.regione, \
                    e.ip::inet, e.esito, e.errore, sum(e.chiamate), sum(e.chiamate * 10), 50, TRUE \
             FROM (SELECT (((now() AT TIME ZONE 'Europe/Rome')::date - v.giorni)::timestamp \
                             + interval '10 hours') AT TIME ZONE 'Europe/Rome' AS ts, v.* \
                   FROM (VALUES {eventi}) AS v (giorni, operazione, chiamante, regione, ip, \
                                                 esito, errore, chiamate)) e \
             CROSS JOIN (VALUES ('ora'), ('giorno'), ('settimana'), ('mese')) AS g (grana) \
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"
        ),
        "INSERT INTO mon_traffico (grana, periodo, operazione, chiamante, regione, esito, \
             codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata) \
         SELECT grana, periodo, operazione, chiamante, regione, esito, codice_errore, \
                sum(chiamate), sum(durata_ms_somma), max(durata_ms_max), TRUE \
         FROM mon_traffico_ip GROUP BY 1, 2, 3, 4, 5, 6, 7"
            .to_owned(),
        // 10.120.0.2 is new for regione-lazio (first used yesterday); the others are old.
        "INSERT INTO mon_ip (chiamante, ip_client, regione, primo_uso) VALUES \
             ('regione-lazio', '10.120.0.1', '120', now() - interval '60 days'), \
             ('regione-lazio', '10.120.0.2', '120', \
              (((now() AT TIME ZONE 'Europe/Rome')::date - 1)::timestamp + interval '10 hours') AT TIME ZONE 'Europe/Rome'), \
             ('cms-lazio', '10.120.0.5', '120', now() - interval '60 days'), \
             ('regione-lombardia', '10.30.0.1', '030', now() - interval '60 days'), \
             ('regione-lombardia', '10.30.0.2', '030', now() - interval '60 days'), \
             ('avn', '10.0.0.9', '', now() - interval '60 days'), \
             ('piattaforma-nazionale', '10.0.0.8', '', now() - interval '60 days')"
            .to_owned(),
        "INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero, compattata) \
         SELECT (now() AT TIME ZONE 'Europe/Rome')::date - v.giorni, v.tipo, v.regione, v.canale, \
                v.operazione, v.numero, TRUE \
         FROM (VALUES \
             (1, 'PRENOTAZIONE', '120', 'WS', 'INSERIMENTO', 12), \
             (1, 'SOMMINISTRAZIONE', '120', 'FLUSSO', 'INSERIMENTO', 30), \
             (2, 'SOMMINISTRAZIONE', '120', 'WS', 'INSERIMENTO', 5), \
             (1, 'PRENOTAZIONE', '030', 'WS', 'INSERIMENTO', 50), \
             (1, 'PRENOTAZIONE', '030', 'WS', 'CANCELLAZIONE', 2), \
             (2, 'SOMMINISTRAZIONE', '030', 'WS', 'VARIAZIONE', 8) \
         ) AS v (giorni, tipo, regione, canale, operazione, numero)"
            .to_owned(),
        // Region 120's 51 calls of yesterday are 51 per 1,000 patients: over the daily 50.
        "INSERT INTO mon_assistiti (regione, assistiti) VALUES ('120', 1000), ('030', 100000)"
            .to_owned(),
    ] {
        diesel::sql_query(&sql)
            .execute(c)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

/// A logged-in operator's requests, with the answers' headers.
struct Operatore {
    client: Client,
    cookie: String,
}

impl Operatore {
    async fn accedi(s: &TestServer, cf: &str) -> Operatore {
        let mut n = Navigatore::new(s);
        let p = n.login(cf).await;
        assert_eq!(
            (p.status, p.location.as_deref()),
            (303, Some("/servizi")),
            "login {cf}: {}",
            p.body
        );
        Operatore {
            client: Client::new(s.running().portal_addr, &s.pki.ca_pem_path(), None),
            cookie: n.cookie.expect("session cookie"),
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        let mut conn = self.client.connect().await.expect("connect");
        let req = http::Request::get(path)
            .header("host", conn.host().to_owned())
            .header("cookie", format!("__Host-tsgate-sessione={}", self.cookie))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let r = conn.send(req).await.expect("reply");
        for v in r.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap_or("");
            if let Some(t) = v.strip_prefix("__Host-tsgate-sessione=") {
                self.cookie = t.split(';').next().unwrap_or("").to_owned();
            }
        }
        r
    }
}

fn intestazione<'a>(r: &'a Reply, nome: &str) -> &'a str {
    r.headers
        .get(nome)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The Python of the test venv (scripts/test makes it), `TSGATE_TEST_PYTHON`, or python3 (only
/// the standard library's csv module is needed).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TSGATE_TEST_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// A CSV as Python's csv module reads it (UTF-8 with BOM, `;`).
fn leggi_csv(file: &std::path::Path) -> Vec<Vec<String>> {
    let out = Command::new(python())
        .args([
            "-c",
            "import csv, json, sys\n\
             with open(sys.argv[1], encoding='utf-8-sig', newline='') as f:\n\
             \x20   print(json.dumps(list(csv.reader(f, delimiter=';'))))",
        ])
        .arg(file)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "python csv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("rows as JSON")
}

/// A CSV body (as received) read back by Python.
fn leggi_csv_testo(nome: &str, corpo: &str) -> Vec<Vec<String>> {
    let dir = common::scratch_dir("monitoraggio-csv");
    let file = dir.join(nome);
    std::fs::write(&file, corpo).expect("write csv");
    leggi_csv(&file)
}

/// The page's table (cells as shown, numbers with thousands dots) equals the CSV's rows.
fn stessa_tabella(pagina: &Value, csv: &[Vec<String>]) {
    let righe = pagina.as_array().expect("rows");
    assert_eq!(righe.len(), csv.len(), "page {pagina} csv {csv:?}");
    for (p, c) in righe.iter().zip(csv) {
        let p = p.as_array().expect("cells");
        assert_eq!(p.len(), c.len(), "page {p:?} csv {c:?}");
        for (cella, testo) in p.iter().zip(c) {
            let mostrato = cella[0].as_str().expect("text");
            let atteso = if cella[1].as_bool() == Some(true) {
                mostrato.replace('.', "")
            } else {
                mostrato.to_owned()
            };
            assert_eq!(&atteso, testo, "page {p:?} csv {c:?}");
        }
    }
}

fn riga<'a>(righe: &'a [Vec<String>], prima: &str) -> &'a [String] {
    righe
        .iter()
        .find(|r| r.first().map(String::as_str) == Some(prima))
        .unwrap_or_else(|| panic!("no row {prima} in {righe:?}"))
}

/// (operazione, esito) of `cf`'s monitoring rows, oldest first.
fn accessi(s: &TestServer, cf: &str) -> Vec<(String, String)> {
    esiti(s, cf)
        .into_iter()
        .filter(|(o, _)| o.starts_with("MONITORAGGIO"))
        .collect()
}

#[derive(QueryableByName, Debug)]
struct Dettaglio {
    #[diesel(sql_type = diesel::sql_types::Text)]
    esito: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    dettaglio: Option<String>,
}

/// (esito, dettaglio) of `cf`'s rows of `operazione`, oldest first.
fn dettagli(s: &TestServer, cf: &str, operazione: &str) -> Vec<(String, String)> {
    diesel::sql_query(
        "SELECT esito, dettaglio FROM accesso_operatore \
         WHERE codice_fiscale = $1 AND operazione = $2 ORDER BY id",
    )
    .bind::<diesel::sql_types::Text, _>(cf)
    .bind::<diesel::sql_types::Text, _>(operazione)
    .load::<Dettaglio>(&mut s.db.connection())
    .expect("accesso_operatore")
    .into_iter()
    .map(|d| (d.esito, d.dettaglio.unwrap_or_default()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_views_in_the_browser() {
    let s = server().await;
    let attesi = serde_json::json!({
        "mef": CONTI,
        "regione": RICCI,
        "totale_traffico": TOTALE.to_string(),
        "totale_traffico_precedente": TOTALE_PRECEDENTE.to_string(),
        "totale_traffico_120": TOTALE_120.to_string(),
        "totale_vaccinazioni": VACCINAZIONI_TOTALE.to_string(),
        "totale_vaccinazioni_120": VACCINAZIONI_120.to_string(),
    });
    let out = scenario(&s, "monitoraggio", vec![("ATTESI", attesi.to_string())]).await;
    assert_eq!(out["ok"], true);

    // What the browser saved, read by Python's csv, is the page's table, cell by cell.
    for vista in ["traffico", "vaccinazioni"] {
        let file = PathBuf::from(out[vista]["file"].as_str().expect("file"));
        let csv = leggi_csv(&file);
        stessa_tabella(&out[vista]["righe"], &csv);
    }
    let traffico = leggi_csv(&PathBuf::from(out["traffico"]["file"].as_str().unwrap()));
    assert_eq!(
        traffico[0],
        [
            "Operazione",
            "Chiamate",
            "Quota %",
            "Esito negativo",
            "Rifiutate",
            "Latenza media ms",
            "Latenza massima ms"
        ]
    );
    assert_eq!(
        riga(&traffico, "Totale"),
        ["Totale", "276", "100,0", "12", "6", "10,0", "50"]
    );
    assert_eq!(riga(&traffico, "Altri (2)")[1], "21");

    // Every view and download by CONTI is a row; RICCI's refusal too.
    let conti = accessi(&s, CONTI);
    for (op, n) in [(INDICE, 3), (TRAFFICO, 6), (VACCINAZIONI, 2), (ANOMALIE, 1)] {
        let ok = conti.iter().filter(|r| r.0 == op && r.1 == "OK").count();
        assert!(ok >= n, "{op}: {ok} rows OK, {conti:?}");
    }
    assert!(conti.iter().all(|r| r.1 == "OK"), "{conti:?}");
    let ricci = dettagli(&s, RICCI, TRAFFICO);
    let rifiuti: Vec<&(String, String)> = ricci.iter().filter(|r| r.0 == "NON_ABILITATO").collect();
    assert_eq!(rifiuti.len(), 2, "{ricci:?}");
    for (_, d) in rifiuti {
        assert!(
            d.contains("i dati della regione 030 non sono consultabili"),
            "{d}"
        );
    }
    for nome in [
        "indice",
        "traffico",
        "vaccinazioni",
        "anomalie",
        "traffico_regione_120",
        "rifiuto_regione_030",
    ] {
        let png = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/screenshots/monitoraggio")
            .join(format!("{nome}.png"));
        assert!(png.is_file(), "{}", png.display());
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_scope_refusals_and_their_log_rows() {
    let s = server().await;
    let t = "/servizi/monitoraggio/traffico";

    // MEF: the index, the page, every export.
    let mut conti = Operatore::accedi(&s, CONTI).await;
    let r = conti.get("/servizi/monitoraggio").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Dati di tutte le regioni"));
    let r = conti.get(t).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<td class=\"numero\">276</td>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<svg"));
    assert!(!r.body.contains(" style="), "the CSP blocks inline styles");

    let r = conti.get(&format!("{t}?formato=csv")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(intestazione(&r, "content-type"), "text/csv; charset=utf-8");
    let disposizione = intestazione(&r, "content-disposition");
    assert!(
        regex::Regex::new(
            r#"^attachment; filename="tsgate-traffico-serie-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"$"#
        )
        .unwrap()
        .is_match(disposizione),
        "{disposizione}"
    );
    assert!(r.body.starts_with('\u{feff}'), "BOM");
    let serie = leggi_csv_testo("serie.csv", &r.body);
    assert_eq!(serie[0][0], "Periodo");
    assert_eq!(serie.len(), 1 + 7, "header and 7 days: {serie:?}");
    let somma: i64 = serie[1..]
        .iter()
        .map(|r| r.last().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(somma, TOTALE);

    let r = conti
        .get(&format!("{t}?formato=csv&sezione=distribuzione"))
        .await;
    assert_eq!(r.status, 200);
    let distr = leggi_csv_testo("distribuzione.csv", &r.body);
    assert_eq!(
        riga(&distr, "Totale"),
        ["Totale", "276", "100,0", "12", "6", "10,0", "50"]
    );
    assert_eq!(
        riga(&distr, "VerificaAssistitoFuoriRegione")[..2],
        ["VerificaAssistitoFuoriRegione", "168"]
    );
    assert_eq!(riga(&distr, "Altri (2)")[1], "21");

    let r = conti.get(&format!("{t}?formato=json")).await;
    assert_eq!(r.status, 200);
    assert!(intestazione(&r, "content-type").starts_with("application/json"));
    let j: Value = serde_json::from_str(&r.body).expect("JSON");
    assert_eq!(j["tipo"], "traffico");
    let sezione = j["sezioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "distribuzione")
        .expect("distribuzione");
    let righe = sezione["tabella"]["righe"].as_array().unwrap();
    let tot = righe.iter().find(|r| r[0] == "Totale").expect("Totale");
    assert_eq!(tot[1], TOTALE);
    assert_eq!(tot[3], 12);
    assert_eq!(tot[4], 6);
    let valori = &sezione["grafico"]["serie"][0]["valori"];
    assert_eq!(valori, &serde_json::json!([168.0, 62.0, 25.0, 21.0]));

    let r = conti
        .get(&format!("{t}?formato=svg&sezione=distribuzione"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(intestazione(&r, "content-type"), "image/svg+xml");
    xml_ben_formato(&r.body);
    assert!(r.body.contains("Altri"));

    // Without a chart, a section has no SVG: 404.
    let r = conti
        .get("/servizi/monitoraggio/anomalie?formato=svg&sezione=segnalazioni")
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("non ha un grafico"));

    // Bad queries: 400, the Italian message on top, the form as sent.
    let r = conti.get(&format!("{t}?da=2026-13-01&per=chiamante")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r
        .body
        .contains("da: «2026-13-01» non è una data nel formato AAAA-MM-GG (es. 2026-11-30)."));
    assert!(r.body.contains("class=\"messaggio errore\" role=\"alert\""));
    assert!(r
        .body
        .contains("name=\"da\" type=\"date\" value=\"2026-13-01\""));
    assert!(r.body.contains("<option value=\"chiamante\" selected>"));
    assert!(!r.body.contains("<table"));
    for (q, parole) in [
        ("formato=xlsx", "formato: «xlsx» non valido"),
        (
            "formato=csv&sezione=nessuna",
            "sezione: «nessuna» non esiste",
        ),
        ("regione=12", "non è un codice regione"),
    ] {
        let r = conti.get(&format!("{t}?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert!(r.body.contains(parole), "{q}: {}", r.body);
    }

    // The vaccination data and another region's traffic (MEF sees every region).
    let r = conti
        .get("/servizi/monitoraggio/vaccinazioni?formato=json")
        .await;
    assert_eq!(r.status, 200);
    let j: Value = serde_json::from_str(&r.body).unwrap();
    let regioni = j["sezioni"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "regioni")
        .unwrap();
    let tot = regioni["tabella"]["righe"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == "Totale")
        .unwrap();
    // Bookings (web service, bulk), administrations (web service, bulk), deletions, total.
    assert_eq!(
        tot,
        &serde_json::json!(["Totale", 64, 0, 13, 30, 2, VACCINAZIONI_TOTALE])
    );
    let r = conti
        .get(&format!(
            "{t}?regione=030&per=regione&formato=csv&sezione=distribuzione"
        ))
        .await;
    assert_eq!(r.status, 200);
    let lombardia = leggi_csv_testo("lombardia.csv", &r.body);
    assert_eq!(
        riga(&lombardia, "030 - Lombardia")[..2],
        ["030 - Lombardia", "140"]
    );

    assert_eq!(
        accessi(&s, CONTI),
        pair(&[
            (INDICE, "OK"),
            (TRAFFICO, "OK"),
            (TRAFFICO, "OK"),
            (TRAFFICO, "OK"),
            (TRAFFICO, "OK"),
            (TRAFFICO, "OK"),
            (ANOMALIE, "GRAFICO_ASSENTE"),
            (TRAFFICO, "RICHIESTA_NON_VALIDA"),
            (TRAFFICO, "RICHIESTA_NON_VALIDA"),
            (TRAFFICO, "RICHIESTA_NON_VALIDA"),
            (TRAFFICO, "RICHIESTA_NON_VALIDA"),
            (VACCINAZIONI, "OK"),
            (TRAFFICO, "OK"),
        ])
    );
    let d = dettagli(&s, CONTI, TRAFFICO);
    assert!(
        regex::Regex::new(
            r"^formato=csv sezione=distribuzione da=\d{4}-\d\d-\d\d a=\d{4}-\d\d-\d\d granularita=giorno per=operazione$"
        )
        .unwrap()
        .is_match(&d[2].1),
        "{d:?}"
    );
    assert!(d[5].1.contains("2026-13-01"), "{d:?}");
    assert!(d[9].1.ends_with("per=regione regione=030"), "{d:?}");
    assert!(
        d[9].1.starts_with("formato=csv sezione=distribuzione "),
        "{d:?}"
    );
    assert!(d.iter().all(|(_, d)| d.chars().count() <= 200));

    // Region 120: its own figures only, in every export.
    let mut ricci = Operatore::accedi(&s, RICCI).await;
    for (percorso, atteso) in [
        (format!("{t}?formato=csv&sezione=distribuzione"), TOTALE_120),
        (
            format!("{t}?formato=csv&sezione=distribuzione&per=regione"),
            TOTALE_120,
        ),
        (
            format!("{t}?formato=csv&sezione=distribuzione&per=chiamante&regione=120"),
            TOTALE_120,
        ),
        (
            format!("{t}?formato=csv&sezione=distribuzione&per=ip"),
            TOTALE_120,
        ),
        (
            "/servizi/monitoraggio/vaccinazioni?formato=csv&sezione=regioni".to_owned(),
            VACCINAZIONI_120,
        ),
    ] {
        let r = ricci.get(&percorso).await;
        assert_eq!(r.status, 200, "{percorso}: {}", r.body);
        for altro in ["Lombardia", "lombardia", "030", "avn", "piattaforma"] {
            assert!(!r.body.contains(altro), "{percorso}: {altro} in {}", r.body);
        }
        let righe = leggi_csv_testo("120.csv", &r.body);
        // The calls (traffic), the total of the records (vaccination data).
        let totale = riga(&righe, "Totale");
        let n = if percorso.contains("vaccinazioni") {
            totale.last()
        } else {
            totale.get(1)
        };
        assert_eq!(n, Some(&atteso.to_string()), "{percorso}: {righe:?}");
    }
    for sezione in ["regioni", "segnalazioni", "ip"] {
        let r = ricci
            .get(&format!(
                "/servizi/monitoraggio/anomalie?formato=csv&sezione={sezione}"
            ))
            .await;
        assert_eq!(r.status, 200);
        assert!(
            !r.body.contains("Lombardia") && !r.body.contains("030"),
            "{}",
            r.body
        );
        if sezione == "segnalazioni" {
            assert!(r.body.contains("Soglia giornaliera superata"), "{}", r.body);
        }
    }
    let j: Value = serde_json::from_str(
        &ricci
            .get("/servizi/monitoraggio/traffico?formato=json&per=regione")
            .await
            .body,
    )
    .unwrap();
    assert!(!j.to_string().contains("Lombardia"));

    // Another region's figures: refused, whatever the format; the figures never leave.
    for (percorso, op) in [
        (format!("{t}?regione=030"), TRAFFICO),
        (
            format!("{t}?regione=030&formato=csv&sezione=distribuzione"),
            TRAFFICO,
        ),
        (
            "/servizi/monitoraggio/vaccinazioni?regione=030&formato=json".to_owned(),
            VACCINAZIONI,
        ),
        (
            "/servizi/monitoraggio/anomalie?regione=030&formato=svg&sezione=regioni".to_owned(),
            ANOMALIE,
        ),
    ] {
        let r = ricci.get(&percorso).await;
        assert_eq!(r.status, 403, "{percorso}: {}", r.body);
        assert!(intestazione(&r, "content-type").starts_with("text/html"));
        assert!(r.headers.get("content-disposition").is_none());
        assert!(
            r.body.contains(
                "L'utenza è abilitata ai soli dati della regione 120: i dati della regione 030 non sono consultabili."
            ) || r.body.contains(
                "L&#39;utenza è abilitata ai soli dati della regione 120: i dati della regione 030 non sono consultabili."
            ),
            "{percorso}: {}",
            r.body
        );
        assert!(!r.body.contains("Lombardia") && !r.body.contains("Totale"));
        let ultimo = dettagli(&s, RICCI, op).pop().unwrap();
        assert_eq!(ultimo.0, "NON_ABILITATO");
        assert!(ultimo.1.contains("regione 030"), "{ultimo:?}");
    }
    let mut attese = vec![(TRAFFICO, "OK"); 4];
    attese.push((VACCINAZIONI, "OK"));
    attese.extend([(ANOMALIE, "OK"); 3]);
    attese.push((TRAFFICO, "OK"));
    attese.extend([
        (TRAFFICO, "NON_ABILITATO"),
        (TRAFFICO, "NON_ABILITATO"),
        (VACCINAZIONI, "NON_ABILITATO"),
        (ANOMALIE, "NON_ABILITATO"),
    ]);
    assert_eq!(accessi(&s, RICCI), pair(&attese));

    // Without the profile: refused.
    let mut verdi = Operatore::accedi(&s, VERDI).await;
    for p in ["/servizi/monitoraggio", &format!("{t}?formato=csv")] {
        let r = verdi.get(p).await;
        assert_eq!(r.status, 403, "{p}");
        assert!(
            r.body.contains("Servizio non abilitato per l&#39;utenza")
                || r.body.contains("Servizio non abilitato per l'utenza")
        );
    }
    assert_eq!(
        accessi(&s, VERDI),
        pair(&[(INDICE, "NON_ABILITATO"), (TRAFFICO, "NON_ABILITATO")])
    );
    assert_eq!(
        dettagli(&s, VERDI, INDICE)[0].1,
        "profilo MONITORAGGIO_SERVIZI assente"
    );

    // Neither MEF staff nor a region's: refused.
    diesel::sql_query(format!(
        "UPDATE utente SET tipo = 'MEDICO' WHERE codice_fiscale = '{CONTI}'"
    ))
    .execute(&mut s.db.connection())
    .unwrap();
    let r = conti.get("/servizi/monitoraggio").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        dettagli(&s, CONTI, INDICE).pop().unwrap(),
        (
            "NON_ABILITATO".to_owned(),
            "utenza senza regione".to_owned()
        )
    );
    s.stop().await;
}

/// The document parses as XML from start to end, and its root is `<svg>` in the SVG namespace.
fn xml_ben_formato(svg: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut radice = None;
    let mut profondita = 0i32;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if radice.is_none() {
                    let ns = e
                        .try_get_attribute("xmlns")
                        .ok()
                        .flatten()
                        .map(|a| a.value.into_owned());
                    radice = Some((AsRef::<str>::as_ref(&e.name()).to_owned(), ns));
                }
                profondita += 1;
            }
            Ok(Event::End(_)) => profondita -= 1,
            Ok(Event::Eof) => break,
            Ok(Event::DocType(_)) => panic!("no DOCTYPE in a chart"),
            Ok(_) => {}
            Err(e) => panic!("SVG not well formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(profondita, 0, "every element closed");
    assert_eq!(
        radice,
        Some((
            "svg".to_owned(),
            Some("http://www.w3.org/2000/svg".to_owned())
        ))
    );
}
