//! Monitoring (decree annex A 7.4, 7.7): the aggregates agree with the access log after a random
//! mixed workload through the real server (refusals, handshake failures, writes committed with
//! their own transaction, a merge running meanwhile); the rebuild from the log; each report's
//! numbers on a known workload; the misuse flags firing for an abusive region and a new IP and
//! not for normal traffic; the CLI printing the portal's numbers.

mod common;
use common::*;
use diesel::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use tsgate::config::MonitoraggioConfig;
use tsgate::monitoraggio::{self, aggregati, anomalie, Ambito, Richiesta, TipoReport};

const BIANCHI: &str = "BNCGLI85L42H501P"; // assisted by 120
const ROSSI: &str = "RSSMRA60C15F205L"; // assisted by 030
const UNKNOWN: &str = "RCCMNL83S18D969H"; // valid, not in the registry

/// A small deterministic generator (xorshift64*): the seed is printed, a failure reproducible.
struct Caso(u64);

impl Caso {
    fn new() -> Caso {
        let seed = std::env::var("TSGATE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
            | 1;
        eprintln!("workload seed: TSGATE_TEST_SEED={seed}");
        Caso(seed)
    }

    fn sotto(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn totale(db: &TestDb, sql: &str) -> i64 {
    count(db, sql)
}

/// One request of the mix (a handshake failure's row is not waited for).
async fn una_richiesta(s: &TestServer, kind: u64, i: u64) {
    match kind {
        // Answered look-ups, positive and negative.
        0 | 1 => {
            let caller = if kind == 0 {
                "regione-lombardia"
            } else {
                "regione-lazio"
            };
            let _ = s
                .call(caller, vafr_envelope(BIANCHI, None, None, None))
                .await;
        }
        2 => {
            let _ = s
                .call("regione-lazio", vafr_envelope(UNKNOWN, None, None, None))
                .await;
        }
        // Refused: a malformed value, an operation not entitled, an unknown element.
        3 => {
            let _ = s
                .call(
                    "regione-lombardia",
                    vafr_envelope("NOT-A-CODE", None, None, None),
                )
                .await;
        }
        4 => {
            let _ = s
                .call("avn", vafr_envelope(BIANCHI, None, None, None))
                .await;
        }
        5 => {
            let _ = s
                .client("piattaforma-nazionale")
                .soap("/ws/VerificaAssistitoFuoriRegione", "x", "<nonXml")
                .await;
        }
        // Writes whose row commits in the handler's own transaction (one of them refused).
        6 => {
            let dose = (i % 9 + 1).to_string();
            let data = "2027-01-15";
            let mut f = vec![
                ("tipoOperazione", "I"),
                ("codiceRegione", "030"),
                ("identificativoAssistito", ROSSI),
                ("regionePrenotazione", "030"),
            ];
            if dose != "1" {
                f.push(("codiceAIC", "049269018"));
            }
            f.extend([("dataPrenotazione", data), ("dose", dose.as_str())]);
            let _ = s.call_op("avn", PRENOTAZIONE, &f).await;
        }
        // A handshake without a certificate: its row is submitted without waiting.
        _ => {
            let _ = s.anonymous_client().soap("/ws/x", "x", "<x/>").await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aggregates_agree_with_the_log_after_a_random_mixed_workload() {
    let s = TestServer::start().await;
    let mut caso = Caso::new();
    let piano: Vec<(u64, u64)> = (0..240).map(|i| (caso.sotto(8), i)).collect();
    let s = std::sync::Arc::new(s);
    let mut lotti = Vec::new();
    for lotto in piano.chunks(30) {
        let lotto = lotto.to_vec();
        let s = s.clone();
        lotti.push(tokio::spawn(async move {
            for (kind, i) in lotto {
                una_richiesta(&s, kind, i).await;
            }
        }));
    }
    // Merges run while the requests are being written.
    let url = s.db.url.clone();
    let merges = tokio::task::spawn_blocking(move || {
        let mut c = PgConnection::establish(&url).expect("db");
        for _ in 0..20 {
            aggregati::compatta(&mut c).expect("merge");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    for l in lotti {
        l.await.expect("requests");
    }
    let Ok(s) = std::sync::Arc::try_unwrap(s) else {
        panic!("server still shared")
    };
    merges.await.expect("merges");
    // A last waited-for row commits after every submitted one (one writer, in order).
    let _ = s
        .call("regione-lazio", vafr_envelope(BIANCHI, None, None, None))
        .await;

    let righe = totale(&s.db, "SELECT count(*) AS n FROM access_log");
    assert!(righe >= 241, "{righe}");
    let rifiutate = totale(
        &s.db,
        "SELECT count(*) AS n FROM access_log WHERE codice_errore IS NOT NULL",
    );
    assert!(rifiutate > 0, "the mix has refusals");
    // Exact before any merge (the deltas not moved yet are part of the aggregates), and after.
    let mut c = s.db.connection();
    assert_eq!(aggregati::confronta(&mut c).expect("compare"), vec![]);
    aggregati::compatta(&mut c).expect("merge");
    assert_eq!(totale(&s.db, "SELECT count(*) AS n FROM mon_delta"), 0);
    assert_eq!(aggregati::confronta(&mut c).expect("compare"), vec![]);
    for g in ["ora", "giorno", "settimana", "mese"] {
        for t in ["mon_traffico", "mon_traffico_ip"] {
            assert_eq!(
                totale(
                    &s.db,
                    &format!(
                        "SELECT coalesce(sum(chiamate), 0)::int8 AS n FROM {t} WHERE grana = '{g}'"
                    )
                ),
                righe,
                "{t} {g}"
            );
        }
    }
    // Refused requests are counted with their code.
    assert_eq!(
        totale(
            &s.db,
            "SELECT coalesce(sum(chiamate), 0)::int8 AS n FROM mon_traffico \
             WHERE grana = 'giorno' AND codice_errore <> ''"
        ),
        rifiutate
    );
    // Every booking written is counted once, in the web-service channel.
    assert_eq!(
        totale(
            &s.db,
            "SELECT coalesce(sum(numero), 0)::int8 AS n FROM mon_vaccinazioni \
             WHERE tipo = 'PRENOTAZIONE' AND canale = 'WS' AND operazione = 'INSERIMENTO' AND regione = '030'"
        ),
        totale(&s.db, "SELECT count(*) AS n FROM prenotazione")
    );

    // A merge and a rebuild change nothing: the rebuild finds what the aggregates held.
    assert_eq!(
        totale(
            &s.db,
            "SELECT count(*) AS n FROM mon_traffico WHERE NOT compattata"
        ),
        0
    );
    let oggi = tsgate::domain::tempo::oggi_roma();
    let fatte =
        aggregati::ricostruisci(&mut c, oggi - chrono::Duration::days(1), oggi).expect("rebuild");
    assert_eq!(fatte.len(), 4);
    for r in &fatte {
        assert_eq!(r.prima, r.dopo, "{r:?}");
        assert_eq!(r.dopo, righe, "{r:?}");
    }
    assert_eq!(aggregati::confronta(&mut c).expect("compare"), vec![]);

    // Drift is detected, and the rebuild repairs it.
    diesel::sql_query(
        "UPDATE mon_traffico SET chiamate = chiamate + 5 WHERE grana = 'giorno' \
         AND ctid = (SELECT ctid FROM mon_traffico WHERE grana = 'giorno' LIMIT 1)",
    )
    .execute(&mut c)
    .unwrap();
    assert_eq!(aggregati::confronta(&mut c).unwrap().len(), 1);
    let fatte = aggregati::ricostruisci(&mut c, oggi, oggi).expect("rebuild");
    assert!(fatte.iter().any(|r| r.prima == r.dopo + 5), "{fatte:?}");
    assert_eq!(aggregati::confronta(&mut c).expect("compare"), vec![]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuild_that_would_lose_aggregates_is_refused() {
    let db = TestDb::new().await;
    let mut c = db.connection();
    let da = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap();
    let e = aggregati::ricostruisci(&mut c, da, da).unwrap_err();
    assert!(e.to_string().contains("does not cover"), "{e}");
    let oggi = tsgate::domain::tempo::oggi_roma();
    let e = aggregati::ricostruisci(&mut c, oggi, oggi - chrono::Duration::days(1)).unwrap_err();
    assert!(e.to_string().contains("after"), "{e}");
}

/// Inserts `n` access-log rows at `ts` (SQL timestamptz expression).
/// `(op, caller, ip)`: the operation, the caller and the client IP of the rows.
fn righe_log(
    c: &mut PgConnection,
    n: i64,
    ts: &str,
    (op, caller, ip): (&str, &str, &str),
    esito: Option<&str>,
    codice: Option<&str>,
) {
    diesel::sql_query(format!(
        "INSERT INTO access_log (ts_richiesta, identificativo_transazione, operazione, chiamante, \
             ip_client, esito, codice_errore, durata_ms) \
         SELECT {ts}, gen_random_uuid(), '{op}', '{caller}', '{ip}', {}, {}, 10 \
         FROM generate_series(1, {n})",
        esito.map_or("NULL".into(), |e| format!("'{e}'")),
        codice.map_or("NULL".into(), |e| format!("'{e}'")),
    ))
    .execute(c)
    .expect("log rows");
}

fn richiesta(tipo: TipoReport, q: &[(&str, &str)]) -> Richiesta {
    let q: HashMap<String, String> = q
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Richiesta::da_coppie(tipo, &q, tsgate::domain::tempo::oggi_roma()).expect("request")
}

/// The cells of the row of a section's table whose first cell is `prima`, as page text.
fn riga(r: &monitoraggio::Report, sezione: &str, prima: &str) -> Vec<String> {
    let s = r.sezioni.iter().find(|s| s.id == sezione).expect("section");
    s.tabella
        .righe
        .iter()
        .find(|r| r[0].italiano() == prima)
        .unwrap_or_else(|| panic!("no row {prima} in {:?}", s.tabella))
        .iter()
        .map(|c| c.italiano())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_report_gives_the_numbers_of_a_known_workload() {
    let s = TestServer::start().await;
    let mut c = s.db.connection();
    let ieri = "(date_trunc('day', now(), 'Europe/Rome') - interval '1 day' + interval '10 hours')";
    let oggi = "(date_trunc('day', now(), 'Europe/Rome') + interval '1 hour')";
    righe_log(
        &mut c,
        30,
        ieri,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lazio",
            "127.0.0.1",
        ),
        Some("00"),
        None,
    );
    righe_log(
        &mut c,
        5,
        ieri,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lazio",
            "127.0.0.1",
        ),
        Some("02"),
        None,
    );
    righe_log(
        &mut c,
        20,
        oggi,
        ("VerificaSomministrazioni", "regione-lombardia", "127.0.0.2"),
        None,
        None,
    );
    righe_log(
        &mut c,
        7,
        oggi,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lombardia",
            "127.0.0.3",
        ),
        None,
        Some("TSG-0301"),
    );
    let cfg = MonitoraggioConfig::default();
    let tutti = Ambito::nazionale();

    let r = monitoraggio::report(
        &mut c,
        &cfg,
        &tutti,
        &richiesta(TipoReport::Traffico, &[("per", "regione")]),
    )
    .unwrap();
    assert_eq!(riga(&r, "distribuzione", "120 - Lazio")[1], "35");
    assert_eq!(riga(&r, "distribuzione", "030 - Lombardia")[1], "27");
    let tot = riga(&r, "distribuzione", "Totale");
    assert_eq!(tot[1..5], ["62", "100,0", "5", "7"], "{tot:?}");
    assert_eq!(tot[5], "10,0", "mean latency");
    let serie = &r.sezioni[0].tabella;
    assert_eq!(
        serie.righe.len(),
        7,
        "one row per day of the default period"
    );
    assert_eq!(serie.righe[6].last().unwrap().italiano(), "27", "today");
    assert_eq!(serie.righe[5].last().unwrap().italiano(), "35", "yesterday");
    let andamento: Vec<String> = r.sezioni[2].tabella.righe[6]
        .iter()
        .map(|c| c.italiano())
        .collect();
    assert_eq!(
        andamento[1..],
        ["27", "0", "7", "25,9", "10,0", "10"],
        "today's outcomes and latency"
    );

    // By IP (the IP aggregate), filtered by esito; by error code.
    let r = monitoraggio::report(
        &mut c,
        &cfg,
        &tutti,
        &richiesta(TipoReport::Traffico, &[("per", "ip"), ("esito", "00")]),
    )
    .unwrap();
    assert_eq!(riga(&r, "distribuzione", "127.0.0.1")[1], "30");
    assert_eq!(
        riga(&r, "distribuzione", "127.0.0.2")[1],
        "20",
        "a positive outcome not kept counts as 00"
    );
    let r = monitoraggio::report(
        &mut c,
        &cfg,
        &tutti,
        &richiesta(
            TipoReport::Traffico,
            &[("per", "errore"), ("esito", "rifiutata")],
        ),
    )
    .unwrap();
    assert_eq!(riga(&r, "distribuzione", "TSG-0301")[1], "7");
    // Hour by hour today: the 20 + 7 calls in the hour after midnight.
    let d = tsgate::domain::tempo::oggi_roma()
        .format("%Y-%m-%d")
        .to_string();
    let r = monitoraggio::report(
        &mut c,
        &cfg,
        &tutti,
        &richiesta(
            TipoReport::Traffico,
            &[("da", &d), ("a", &d), ("granularita", "ora")],
        ),
    )
    .unwrap();
    let ore = &r.sezioni[0].tabella.righe;
    assert!(ore.len() >= 23 && ore.len() <= 25, "{}", ore.len());
    assert_eq!(ore[1].last().unwrap().italiano(), "27");
    assert_eq!(ore[0].last().unwrap().italiano(), "0");

    // A region's scope: its own figures only.
    let lazio = Ambito::regione("120");
    let q = lazio
        .applica(&richiesta(TipoReport::Traffico, &[("per", "chiamante")]))
        .unwrap();
    let r = monitoraggio::report(&mut c, &cfg, &lazio, &q).unwrap();
    assert_eq!(riga(&r, "distribuzione", "Totale")[1], "35");
    assert!(!serde_json::to_string(&r).unwrap().contains("lombardia"));
    assert!(lazio
        .applica(&richiesta(TipoReport::Traffico, &[("regione", "030")]))
        .is_err());

    // Vaccination data: two bookings by web service, three by a bulk file, one cancelled.
    diesel::sql_query(
        "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
             data_prenotazione, identificativo_transazione) \
         VALUES ('BNCGLI85L42H501P', 1, '030', '030', CURRENT_DATE + 30, gen_random_uuid()), \
                ('RSSMRA60C15F205L', 1, '030', '030', CURRENT_DATE + 30, gen_random_uuid())",
    )
    .execute(&mut c)
    .unwrap();
    c.transaction(|c| {
        diesel::sql_query("SET LOCAL tsgate.canale = 'FLUSSO'").execute(c)?;
        diesel::sql_query(
            "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
                 codice_aic, data_prenotazione, identificativo_transazione) \
             VALUES ('BNCGLI85L42H501P', 1, '120', '120', NULL, CURRENT_DATE + 30, gen_random_uuid()), \
                    ('RSSMRA60C15F205L', 1, '120', '120', NULL, CURRENT_DATE + 30, gen_random_uuid()), \
                    ('RSSMRA60C15F205L', 2, '120', '120', '049269018', CURRENT_DATE + 60, gen_random_uuid())",
        )
        .execute(c)?;
        diesel::sql_query("DELETE FROM prenotazione WHERE dose = 2").execute(c)?;
        diesel::QueryResult::Ok(())
    })
    .unwrap();
    let r = monitoraggio::report(
        &mut c,
        &cfg,
        &tutti,
        &richiesta(TipoReport::Vaccinazioni, &[]),
    )
    .unwrap();
    assert_eq!(
        riga(&r, "regioni", "030 - Lombardia")[1..7],
        ["2", "0", "0", "0", "0", "2"]
    );
    assert_eq!(
        riga(&r, "regioni", "120 - Lazio")[1..7],
        ["0", "4", "0", "0", "1", "4"]
    );
    let serie = &r.sezioni[0].tabella.righe;
    assert_eq!(
        serie[6].iter().map(|c| c.italiano()).collect::<Vec<_>>()[1..],
        ["2", "4", "0", "0", "6"]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn misuse_flags_fire_for_an_abusive_region_and_a_new_ip_only() {
    let s = TestServer::start().await;
    let mut c = s.db.connection();
    diesel::sql_query(
        "INSERT INTO mon_assistiti (regione, assistiti) VALUES ('120', 10000), ('030', 10000), ('050', 1000000)",
    )
    .execute(&mut c)
    .unwrap();
    // 28 days of normal traffic for both regions (20 calls a day = 2 per 1,000 patients), from
    // their usual IPs; then, today, region 120 makes 400 calls (40 ‰: under the daily threshold
    // of 50 ‰ but 20 times its median), 150 of them from an IP never seen.
    for giorno in 1..=28 {
        let ts = format!("(date_trunc('day', now(), 'Europe/Rome') - interval '{giorno} days' + interval '9 hours')");
        righe_log(
            &mut c,
            20,
            &ts,
            (
                "VerificaAssistitoFuoriRegione",
                "regione-lazio",
                "127.0.0.1",
            ),
            Some("00"),
            None,
        );
        righe_log(
            &mut c,
            20,
            &ts,
            (
                "VerificaAssistitoFuoriRegione",
                "regione-lombardia",
                "127.0.0.2",
            ),
            Some("00"),
            None,
        );
    }
    let oggi_ts = "(date_trunc('day', now(), 'Europe/Rome') + interval '1 hour')";
    righe_log(
        &mut c,
        250,
        oggi_ts,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lazio",
            "127.0.0.1",
        ),
        Some("00"),
        None,
    );
    righe_log(
        &mut c,
        150,
        oggi_ts,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lazio",
            "127.0.0.9",
        ),
        Some("00"),
        None,
    );
    righe_log(
        &mut c,
        21,
        oggi_ts,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lombardia",
            "127.0.0.2",
        ),
        Some("00"),
        None,
    );

    // Region 050's caller starts today: no history to judge a jump by, no earlier IP to make
    // its first one news.
    righe_log(
        &mut c,
        400,
        oggi_ts,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-veneto",
            "127.0.0.77",
        ),
        Some("00"),
        None,
    );
    let cfg = MonitoraggioConfig::default();
    let oggi = tsgate::domain::tempo::oggi_roma();
    let d = oggi.format("%Y-%m-%d").to_string();
    let r = richiesta(TipoReport::Anomalie, &[("da", &d), ("a", &d)]);
    let esame = anomalie::analizza(&mut c, &cfg, &r).unwrap();
    let mut tipi: Vec<(&str, &str, Option<&str>)> = esame
        .segnalazioni
        .iter()
        .map(|s| (s.tipo, s.regione.as_str(), s.ip.as_deref()))
        .collect();
    tipi.sort();
    tipi.dedup();
    assert!(tipi.contains(&(anomalie::MEDIANA, "120", None)), "{tipi:?}");
    assert!(
        tipi.contains(&(anomalie::IP_NUOVO, "120", Some("127.0.0.9"))),
        "{tipi:?}"
    );
    assert!(
        !tipi.iter().any(|t| t.1 == "030"),
        "normal traffic is not flagged: {tipi:?}"
    );
    assert!(
        !tipi.iter().any(|t| t.1 == "050"),
        "a caller without history is not flagged: {tipi:?}"
    );
    assert!(
        !tipi.iter().any(|t| t.0 == anomalie::SOGLIA_GIORNALIERA),
        "40 ‰ is under 50 ‰: {tipi:?}"
    );
    let salto = esame
        .segnalazioni
        .iter()
        .find(|s| s.tipo == anomalie::MEDIANA && s.da == oggi)
        .expect("the day's jump");
    assert_eq!((salto.chiamate, salto.mediana), (400, Some(20.0)));
    assert!(
        salto.motivo.contains("20,0 volte") && salto.motivo.contains("(20,0)"),
        "{}",
        salto.motivo
    );
    assert!(salto.href().starts_with(&format!(
        "/servizi/monitoraggio/traffico?da={d}&a={d}&granularita=ora"
    )));
    let ip = esame
        .segnalazioni
        .iter()
        .find(|s| s.tipo == anomalie::IP_NUOVO)
        .unwrap();
    assert_eq!(ip.chiamate, 150);
    assert!((ip.valore.unwrap() - 37.5).abs() < 1e-9, "150 of 400 calls");

    // A lower threshold flags the day on the ratio too, with the numbers behind it.
    let stretta = MonitoraggioConfig {
        soglia_giornaliera_per_mille: 30.0,
        ..cfg.clone()
    };
    let esame = anomalie::analizza(&mut c, &stretta, &r).unwrap();
    let soglia = esame
        .segnalazioni
        .iter()
        .find(|s| s.tipo == anomalie::SOGLIA_GIORNALIERA)
        .expect("threshold flag");
    assert_eq!(
        (soglia.regione.as_str(), soglia.chiamate, soglia.assistiti),
        ("120", 400, Some(10000))
    );
    assert!((soglia.valore.unwrap() - 40.0).abs() < 1e-9);

    // The report lists them with the evidence and links; region 030's monitor sees none.
    let rep = monitoraggio::report(&mut c, &cfg, &Ambito::nazionale(), &r).unwrap();
    let seg = rep.sezioni.iter().find(|s| s.id == "segnalazioni").unwrap();
    assert!(seg
        .tabella
        .righe
        .iter()
        .all(|r| r.last().unwrap().href().is_some()));
    let lomb = Ambito::regione("030");
    let rep = monitoraggio::report(&mut c, &cfg, &lomb, &lomb.applica(&r).unwrap()).unwrap();
    let seg = rep.sezioni.iter().find(|s| s.id == "segnalazioni").unwrap();
    assert!(seg.tabella.righe.is_empty(), "{:?}", seg.tabella.righe);

    // The periodic job counts them for the metrics.
    let stato = monitoraggio::lavoro_periodico(&mut c, &cfg).unwrap();
    assert!(stato.totale() >= 2, "{stato:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_prints_the_portal_numbers() {
    let s = TestServer::start().await;
    let mut c = s.db.connection();
    let ts = "(date_trunc('day', now(), 'Europe/Rome') + interval '2 hours')";
    righe_log(
        &mut c,
        12,
        ts,
        (
            "VerificaAssistitoFuoriRegione",
            "regione-lazio",
            "127.0.0.1",
        ),
        Some("00"),
        None,
    );
    righe_log(
        &mut c,
        3,
        ts,
        ("VerificaSomministrazioni", "regione-lazio", "127.0.0.1"),
        Some("01"),
        None,
    );
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsgate"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TSGATE_DATABASE_URL", &s.db.url)
            .env("TSGATE_LOG_LEVEL", "warn")
            .current_dir(scratch_dir("cwd"))
            .arg("report")
            .args(args)
            .output()
            .expect("tsgate report");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let json: Value = serde_json::from_str(&cli(&[
        "traffico",
        "--per",
        "operazione",
        "--formato",
        "json",
    ]))
    .unwrap();
    let portale = monitoraggio::report(
        &mut c,
        &MonitoraggioConfig::default(),
        &Ambito::nazionale(),
        &richiesta(TipoReport::Traffico, &[("per", "operazione")]),
    )
    .unwrap();
    assert_eq!(json, serde_json::to_value(&portale).unwrap());
    let csv = cli(&[
        "traffico",
        "--per",
        "operazione",
        "--formato",
        "csv",
        "--sezione",
        "distribuzione",
    ]);
    assert!(csv.starts_with("\u{feff}Operazione;Chiamate;"), "{csv}");
    assert!(
        csv.contains("\r\nVerificaAssistitoFuoriRegione;12;80,0;0;0;10,0;10\r\n"),
        "{csv}"
    );
    let testo = cli(&["traffico"]);
    assert!(testo.contains("Totale") && testo.contains("15"), "{testo}");
    let rebuilt = cli(&[
        "ricostruisci",
        "--da",
        &tsgate::domain::tempo::oggi_roma().to_string(),
        "--a",
        &tsgate::domain::tempo::oggi_roma().to_string(),
    ]);
    assert!(
        rebuilt.contains("mese") && !rebuilt.contains("differivano"),
        "{rebuilt}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_tsgate"))
        .env("TSGATE_DATABASE_URL", &s.db.url)
        .args(["report", "traffico", "--granularita", "anno"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("granularita"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_transmitted_writes_are_counted() {
    let db = TestDb::new().await;
    let mut c = db.connection();
    diesel::sql_query(
        "INSERT INTO somministrazione (codice_fiscale, dose, regione_somministrazione, codice_regione, \
             codice_aic, data_somministrazione, deroga_sequenza, identificativo_transazione) \
         VALUES ('RSSMRA60C15F205L', 2, '030', '030', '049269018', CURRENT_DATE, TRUE, gen_random_uuid())",
    )
    .execute(&mut c)
    .unwrap();
    // What the service does to the next dose when dose n-1 arrives: bookkeeping, not a
    // transmission (the row's transaction stays).
    diesel::sql_query("UPDATE somministrazione SET deroga_sequenza = FALSE")
        .execute(&mut c)
        .unwrap();
    // A transmitted change sets the row's transaction.
    diesel::sql_query(
        "UPDATE somministrazione SET data_somministrazione = CURRENT_DATE - 1, \
         identificativo_transazione = gen_random_uuid()",
    )
    .execute(&mut c)
    .unwrap();
    let n = |op: &str| {
        count(
            &db,
            &format!(
                "SELECT coalesce(sum(numero), 0)::int8 AS n FROM mon_vaccinazioni \
                 WHERE tipo = 'SOMMINISTRAZIONE' AND regione = '030' AND operazione = '{op}'"
            ),
        )
    };
    assert_eq!((n("INSERIMENTO"), n("VARIAZIONE")), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn hours_follow_the_italian_clock_across_daylight_saving() {
    use tsgate::monitoraggio::{periodi, Granularita};
    let db = TestDb::new().await;
    let mut c = db.connection();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Summer time ends on 25 October 2026: 25 hours, the repeated one said so.
    let ore = periodi(&mut c, Granularita::Ora, d("2026-10-25"), d("2026-10-25")).unwrap();
    let etichette: Vec<&str> = ore.iter().map(|p| p.etichetta.as_str()).collect();
    assert_eq!(ore.len(), 25, "{etichette:?}");
    assert_eq!(etichette[2..4], ["25/10 02:00", "25/10 02:00 (2ª)"]);
    assert_eq!(ore[0].inizio.to_rfc3339(), "2026-10-24T22:00:00+00:00");
    // It starts on 29 March: 23 hours, 02:00 skipped.
    let ore = periodi(&mut c, Granularita::Ora, d("2026-03-29"), d("2026-03-29")).unwrap();
    assert_eq!(ore.len(), 23);
    assert_eq!(ore[2].etichetta, "29/03 03:00");
    // Days and weeks start at Italian midnight whatever the offset.
    let giorni = periodi(
        &mut c,
        Granularita::Giorno,
        d("2026-10-24"),
        d("2026-10-26"),
    )
    .unwrap();
    let inizi: Vec<String> = giorni.iter().map(|p| p.inizio.to_rfc3339()).collect();
    assert_eq!(
        inizi,
        [
            "2026-10-23T22:00:00+00:00",
            "2026-10-24T22:00:00+00:00",
            "2026-10-25T23:00:00+00:00"
        ]
    );
}

/// Every path of the bookings' and administrations' trigger (insert, transmitted change,
/// cancellation; web service or bulk file) counts in mon_vaccinazioni by region and channel.
#[tokio::test(flavor = "multi_thread")]
async fn the_vaccination_trigger_counts_every_kind_of_write_of_both_tables() {
    let db = TestDb::new().await;
    let mut c = db.connection();
    let exec = |c: &mut diesel::PgConnection, sql: &str| {
        diesel::sql_query(sql).execute(c).unwrap();
    };
    let booking = |dose: u8| {
        format!(
            "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
             codice_aic, data_prenotazione, identificativo_transazione) \
             VALUES ('RSSMRA60C15F205L', {dose}, '030', '030', '049269018', CURRENT_DATE + 7, gen_random_uuid())"
        )
    };
    exec(&mut c, &booking(1));
    exec(
        &mut c,
        "UPDATE prenotazione SET data_prenotazione = CURRENT_DATE + 8, \
         identificativo_transazione = gen_random_uuid() WHERE dose = 1",
    );
    exec(&mut c, "DELETE FROM prenotazione WHERE dose = 1");
    c.transaction(|c| {
        exec(c, "SET LOCAL tsgate.canale = 'FLUSSO'");
        exec(c, &booking(2));
        diesel::QueryResult::Ok(())
    })
    .unwrap();
    exec(
        &mut c,
        "INSERT INTO somministrazione (codice_fiscale, dose, regione_somministrazione, codice_regione, \
             codice_aic, data_somministrazione, deroga_sequenza, identificativo_transazione) \
         VALUES ('RSSMRA60C15F205L', 1, '030', '030', '049269018', CURRENT_DATE, FALSE, gen_random_uuid())",
    );
    exec(&mut c, "DELETE FROM somministrazione");
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Riga {
        #[diesel(sql_type = diesel::sql_types::Text)]
        r: String,
    }
    let righe: Vec<String> = diesel::sql_query(
        "SELECT concat_ws(' ', tipo, regione, canale, operazione, sum(numero)) AS r \
         FROM mon_vaccinazioni GROUP BY tipo, regione, canale, operazione ORDER BY 1",
    )
    .load::<Riga>(&mut c)
    .unwrap()
    .into_iter()
    .map(|r| r.r)
    .collect();
    assert_eq!(
        righe,
        [
            "PRENOTAZIONE 030 FLUSSO INSERIMENTO 1",
            "PRENOTAZIONE 030 WS CANCELLAZIONE 1",
            "PRENOTAZIONE 030 WS INSERIMENTO 1",
            "PRENOTAZIONE 030 WS VARIAZIONE 1",
            "SOMMINISTRAZIONE 030 WS CANCELLAZIONE 1",
            "SOMMINISTRAZIONE 030 WS INSERIMENTO 1",
        ]
    );
}
