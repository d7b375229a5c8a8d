//! TS-CNS revocation notices (decree 20 June 2011): loading the card events, ElencoRevoche and
//! ConfermaRevoche over the real server (pull, page, ack, redelivery, no cross-region leak,
//! callers, schema faults, access log), the per-region file and the sample requests.
//!
//! `fixtures/tscns/eventi.csv` queues, in a fresh database: 1, 2, 4 for Lombardia (030) and
//! 3, 5 for Lazio (120).

mod common;
use common::*;
use std::process::Command;
use tsgate::services::tscns::revoche::{self, eventi::EVENTI_DEMO};

const ELENCO: &str = "ElencoRevoche";
const CONFERMA: &str = "ConfermaRevoche";

fn envelope(op: &str, fields: &[(&str, &str)]) -> String {
    let lower = format!("{}{}", op[..1].to_lowercase(), &op[1..]);
    let inner: String = fields
        .iter()
        .map(|(k, v)| format!("<o:{k}>{v}</o:{k}>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="urn:tsgate:tscns:{lower}"><soapenv:Body><o:{op}Richiesta>{inner}</o:{op}Richiesta></soapenv:Body></soapenv:Envelope>"#
    )
}

async fn call(s: &TestServer, cert: &str, op: &str, fields: &[(&str, &str)]) -> Reply {
    let lower = format!("{}{}", op[..1].to_lowercase(), &op[1..]);
    s.client(cert)
        .soap(
            &format!("/ws/{op}"),
            &format!("urn:tsgate:tscns:{lower}#{op}"),
            envelope(op, fields),
        )
        .await
        .expect("reply")
}

fn carica_fixture(s: &TestServer) -> revoche::Caricamento {
    let mut conn = s.db.connection();
    revoche::carica(&mut conn, EVENTI_DEMO, "eventi.csv").expect("load events")
}

/// (idComunicazione list, cursoreSuccessivo, altreRevoche) of an ElencoRevoche answer.
fn pagina(r: &Reply) -> (Vec<String>, String, String) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    (
        xml_texts(&r.body, "idComunicazione"),
        xml_text(&r.body, "cursoreSuccessivo").expect("cursoreSuccessivo"),
        xml_text(&r.body, "altreRevoche").expect("altreRevoche"),
    )
}

async fn elenco(
    s: &TestServer,
    cert: &str,
    fields: &[(&str, &str)],
) -> (Vec<String>, String, String) {
    pagina(&call(s, cert, ELENCO, fields).await)
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The text column `t` of every row a query returns.
fn texts(db: &TestDb, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let mut conn = db.connection();
    diesel::sql_query(sql)
        .load::<T>(&mut conn)
        .expect("text query")
        .into_iter()
        .map(|r| r.t)
        .collect()
}

fn exec(db: &TestDb, sql: &str) {
    use diesel::connection::SimpleConnection;
    db.connection().batch_execute(sql).expect(sql);
}

fn tsgate_cmd(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tsgate"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", &db.url)
        .env("TSGATE_LOG_LEVEL", "warn")
        .current_dir(scratch_dir("cwd"));
    c
}

const INTESTAZIONE: &str = "numeroTessera;tipoEvento;dataEvento\n";
const LOMBARDIA_CA: &str = "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT";

#[tokio::test(flavor = "multi_thread")]
async fn loading_counts_bad_lines_and_is_idempotent() {
    let s = TestServer::start().await;
    let c = carica_fixture(&s);
    assert_eq!(
        (c.letti, c.nuovi, c.comunicazioni, c.gia_comunicati),
        (8, 7, 5, 1)
    );
    assert_eq!((c.senza_certificato, c.gia_caricati), (1, 0));
    assert_eq!(c.tessere_sconosciute.len(), 1);
    assert_eq!(c.tessere_sconosciute[0].riga, 9);
    assert!(
        c.tessere_sconosciute[0]
            .motivo
            .contains("80380999000000000099"),
        "{:?}",
        c.tessere_sconosciute
    );
    assert_eq!(c.errate.len(), 1);
    assert_eq!(c.errate[0].riga, 10);
    assert!(c.errate[0].motivo.contains("FURTO"), "{:?}", c.errate);
    // Loaded again: every event is checked again, and nothing new is queued.
    let again = carica_fixture(&s);
    assert_eq!(
        (
            again.letti,
            again.nuovi,
            again.gia_caricati,
            again.comunicazioni
        ),
        (8, 0, 7, 0)
    );
    assert_eq!((again.gia_comunicati, again.senza_certificato), (6, 1));
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM evento_tessera"), 7);
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM comunicazione_revoca"),
        5
    );
    // Each notice goes to the card's issuing region, with the active certificate.
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM comunicazione_revoca r \
             JOIN tessera_sanitaria t ON t.numero = r.numero_tessera \
             JOIN tscns_certificato c ON c.numero_tessera = r.numero_tessera \
             WHERE r.codice_regione = t.codice_regione AND r.seriale_certificato = c.seriale \
               AND r.emittente_certificato = c.emittente AND r.codice_fiscale = t.codice_fiscale"
        ),
        5
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_loads_exports_and_lists() {
    let s = TestServer::start().await;
    let tsgate = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tsgate"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TSGATE_DATABASE_URL", &s.db.url)
            .env("TSGATE_LOG_LEVEL", "warn")
            .current_dir(scratch_dir("cwd"));
        c
    };
    let csv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tscns/eventi.csv");
    let out = tsgate()
        .args(["tscns", "eventi", "carica"])
        .arg(&csv)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A bad line and an unknown card: loaded all the same, reported by line, exit status 1.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "line 9: numeroTessera 80380999000000000099: unknown card\nline 10: tipoEvento `FURTO`"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("events read 8, new 7, loaded before 0, notices queued 5"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 bad line(s) and 1 unknown card(s) not loaded"),
        "{stderr}"
    );
    // A file of good lines only: exit status 0.
    let clean = scratch_dir("eventi").join("ok.csv");
    std::fs::write(
        &clean,
        format!("{INTESTAZIONE}80380030000000000013;DECESSO;2026-10-01\n"),
    )
    .expect("csv");
    let out = tsgate()
        .args(["tscns", "eventi", "carica"])
        .arg(&clean)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("loaded before 1, notices queued 0, already notified 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let dir = scratch_dir("revoche");
    let out = tsgate()
        .args(["tscns", "revoche", "esporta", "--regione", "120", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 record(s)"));
    let out = tsgate()
        .args(["tscns", "revoche", "elenco"])
        .output()
        .expect("run");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.lines().count(), 2, "{listing}");
    assert!(listing.contains("REVOCHE_TSCNS_120_"), "{listing}");
    let out = tsgate()
        .args(["tscns", "eventi", "carica", "/nonexistent.csv"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("/nonexistent.csv").count(), 1, "{stderr}");
    let out = tsgate()
        .args(["tscns", "revoche", "esporta", "--regione", "30"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--regione `30`: a codice regione is 3 digits"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_page_ack_and_redelivery_until_acknowledged() {
    let s = TestServer::start().await;
    // Nothing queued yet: 00, no list, the cursor given back.
    let r = call(&s, "cms-lombardia", ELENCO, &[("cursore", "7")]).await;
    assert_eq!(pagina(&r), (vec![], "7".to_owned(), "false".to_owned()));
    assert!(!r.body.contains("listaRevoche"), "{}", r.body);
    carica_fixture(&s);

    let r = call(&s, "cms-lombardia", ELENCO, &[]).await;
    assert_eq!(
        pagina(&r),
        (ids(&["1", "2", "4"]), "4".into(), "false".into())
    );
    assert_eq!(
        xml_text(&r.body, "numeroTessera").as_deref(),
        Some("80380030000000000013")
    );
    assert_eq!(
        xml_text(&r.body, "serialeCertificato").as_deref(),
        Some("5A3F0013")
    );
    assert_eq!(
        xml_text(&r.body, "emittenteCertificato").as_deref(),
        Some("CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT")
    );
    assert_eq!(
        xml_texts(&r.body, "motivo"),
        ["decesso", "sostituzione", "riemissione"]
    );
    assert_eq!(
        xml_text(&r.body, "dataEvento").as_deref(),
        Some("2026-10-01")
    );
    // The day it was queued, in Italy (read back, so the test holds across midnight).
    let queued = texts(
        &s.db,
        "SELECT to_char(creata_il AT TIME ZONE 'Europe/Rome', 'YYYY-MM-DD') AS t \
         FROM comunicazione_revoca WHERE id = 1",
    );
    assert_eq!(
        xml_text(&r.body, "dataComunicazione"),
        queued.first().cloned()
    );
    assert_eq!(
        xml_text(&r.body, "codiceFiscale").map(|c| c.len()),
        Some(16)
    );

    // Pages of two, in id order, with altreRevoche.
    let max2 = [("numeroMassimo", "2")];
    assert_eq!(
        elenco(&s, "cms-lombardia", &max2).await,
        (ids(&["1", "2"]), "2".into(), "true".into())
    );
    // Exactly as many left as asked: no more follow.
    let max3 = [("numeroMassimo", "3")];
    assert_eq!(
        elenco(&s, "cms-lombardia", &max3).await,
        (ids(&["1", "2", "4"]), "4".into(), "false".into())
    );
    let rest = [("cursore", "1"), ("numeroMassimo", "2")];
    assert_eq!(
        elenco(&s, "cms-lombardia", &rest).await,
        (ids(&["2", "4"]), "4".into(), "false".into())
    );
    let next = [("cursore", "2"), ("numeroMassimo", "2")];
    assert_eq!(
        elenco(&s, "cms-lombardia", &next).await,
        (ids(&["4"]), "4".into(), "false".into())
    );
    let past = [("cursore", "4")];
    assert_eq!(
        elenco(&s, "cms-lombardia", &past).await,
        (vec![], "4".into(), "false".into())
    );

    // Ack 1 (twice: idempotent); a pull without cursor redelivers only the unacknowledged.
    for _ in 0..2 {
        let r = call(&s, "cms-lombardia", CONFERMA, &[("idComunicazione", "1")]).await;
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("00"),
            "{}",
            r.body
        );
        assert_eq!(xml_text(&r.body, "numeroConfermate").as_deref(), Some("1"));
        assert!(!r.body.contains("listaErrori"));
    }
    assert_eq!(elenco(&s, "cms-lombardia", &[]).await.0, ids(&["2", "4"]));
    assert_eq!(
        elenco(&s, "cms-lombardia", &[("cursore", "0")]).await.0,
        ids(&["2", "4"])
    );
    // Not acknowledged yet: delivered again however often it is pulled.
    assert_eq!(elenco(&s, "cms-lombardia", &[]).await.0, ids(&["2", "4"]));
    let both = [
        ("idComunicazione", "4"),
        ("idComunicazione", "2"),
        ("idComunicazione", "4"),
    ];
    let r = call(&s, "cms-lombardia", CONFERMA, &both).await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(xml_text(&r.body, "numeroConfermate").as_deref(), Some("2"));
    assert_eq!(
        elenco(&s, "cms-lombardia", &[]).await,
        (vec![], "0".into(), "false".into())
    );
    // The first acknowledgement is the one kept.
    let tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM comunicazione_revoca \
                 WHERE id IN (2, 4) AND transazione_conferma = '{tx}'"
            )
        ),
        2
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_never_sees_nor_acknowledges_another_regions_notices() {
    let s = TestServer::start().await;
    carica_fixture(&s);
    let r = call(&s, "cms-lazio", ELENCO, &[]).await;
    assert_eq!(pagina(&r), (ids(&["3", "5"]), "5".into(), "false".into()));
    assert!(!r.body.contains("80380030"), "{}", r.body);
    // Lombardia's 1 and an id that does not exist get the same answer.
    let mixed = [
        ("idComunicazione", "1"),
        ("idComunicazione", "3"),
        ("idComunicazione", "999"),
    ];
    let r = call(&s, "cms-lazio", CONFERMA, &mixed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("01"),
        "{}",
        r.body
    );
    assert_eq!(xml_text(&r.body, "numeroConfermate").as_deref(), Some("1"));
    assert_eq!(xml_texts(&r.body, "codice"), ["CNS-0401", "CNS-0401"]);
    let descr = xml_texts(&r.body, "descrizione");
    assert!(descr[0].starts_with("idComunicazione 1:"), "{descr:?}");
    assert!(descr[1].starts_with("idComunicazione 999:"), "{descr:?}");
    assert_eq!(descr[0].replace(" 1:", ""), descr[1].replace(" 999:", ""));
    // The valid id was acknowledged; Lombardia's 1 is still pending for Lombardia.
    assert_eq!(elenco(&s, "cms-lazio", &[]).await.0, ids(&["5"]));
    assert_eq!(
        elenco(&s, "cms-lombardia", &[]).await.0,
        ids(&["1", "2", "4"])
    );
    let r = call(&s, "cms-lazio", CONFERMA, &[("idComunicazione", "2")]).await;
    assert_eq!(xml_text(&r.body, "esito").as_deref(), Some("01"));
    assert_eq!(xml_text(&r.body, "numeroConfermate").as_deref(), Some("0"));
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM comunicazione_revoca WHERE confermata_il IS NOT NULL"
        ),
        1
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_cms_callers_and_schema_faults() {
    let s = TestServer::start().await;
    carica_fixture(&s);
    for cert in ["regione-lombardia", "avn", "piattaforma-nazionale"] {
        for op in [ELENCO, CONFERMA] {
            let fields: &[(&str, &str)] = if op == CONFERMA {
                &[("idComunicazione", "1")]
            } else {
                &[]
            };
            let r = call(&s, cert, op, fields).await;
            assert_eq!(r.status, 500, "{cert} {op}: {}", r.body);
            assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"), "{cert} {op}");
        }
    }
    let bad: [(&str, Vec<(&str, &str)>); 8] = [
        (ELENCO, vec![("numeroMassimo", "0")]),
        (ELENCO, vec![("numeroMassimo", "1001")]),
        (ELENCO, vec![("cursore", "-1")]),
        (ELENCO, vec![("cursore", "abc")]),
        (ELENCO, vec![("numeroMassimo", "5"), ("cursore", "1")]),
        (CONFERMA, vec![]),
        (CONFERMA, vec![("idComunicazione", "0")]),
        (CONFERMA, vec![("idComunicazione", "99999999999999999999")]),
    ];
    for (op, fields) in &bad {
        let r = call(&s, "cms-lombardia", op, fields).await;
        assert_eq!(
            fault_code(&r).as_deref(),
            Some("TSG-0301"),
            "{op} {fields:?}: {}",
            r.body
        );
    }
    let many: Vec<(&str, &str)> = (0..1001).map(|_| ("idComunicazione", "1")).collect();
    let r = call(&s, "cms-lombardia", CONFERMA, &many).await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0301"), "{}", r.body);
    // Nothing was acknowledged by the refused requests.
    assert_eq!(
        elenco(&s, "cms-lombardia", &[]).await.0,
        ids(&["1", "2", "4"])
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_writes_one_access_log_row() {
    let s = TestServer::start().await;
    carica_fixture(&s);
    let r1 = call(&s, "cms-lombardia", ELENCO, &[]).await;
    let r2 = call(&s, "cms-lombardia", CONFERMA, &[("idComunicazione", "1")]).await;
    let r3 = call(&s, "cms-lazio", CONFERMA, &[("idComunicazione", "2")]).await;
    let r4 = call(&s, "cms-lazio", ELENCO, &[("numeroMassimo", "0")]).await;
    let log = access_log(&s.db);
    assert_eq!(log.len(), 4, "{log:?}");
    for (r, op, caller, esito) in [
        (&r1, ELENCO, "cms-lombardia", "00"),
        (&r2, CONFERMA, "cms-lombardia", "00"),
        (&r3, CONFERMA, "cms-lazio", "01"),
    ] {
        let tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
        let row = log_row(&s.db, &tx);
        assert_eq!(row.operazione.as_deref(), Some(op));
        assert_eq!(row.chiamante.as_deref(), Some(caller));
        assert_eq!(row.esito.as_deref(), Some(esito));
        assert_eq!(row.ip_client, "127.0.0.1");
        assert_eq!(row.ts.len(), 23, "milliseconds: {}", row.ts);
    }
    let fault = log
        .iter()
        .find(|r| r.codice_errore.is_some())
        .expect("fault row");
    assert_eq!(fault.codice_errore.as_deref(), Some("TSG-0301"));
    assert_eq!(fault.operazione.as_deref(), Some(ELENCO));
    assert!(r4.body.contains(&fault.transazione), "{}", r4.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_file_lists_the_regions_pending_notices() {
    let s = TestServer::start().await;
    carica_fixture(&s);
    call(&s, "cms-lombardia", CONFERMA, &[("idComunicazione", "2")]).await;
    let dir = scratch_dir("revoche-file");
    let regione = tsgate::domain::CodiceRegione::parse("030").expect("regione");
    let mut conn = s.db.connection();
    let f = revoche::esporta(&mut conn, &regione, &dir, "operatore-test").expect("export");
    assert_eq!(f.numero_record, 2);
    assert!(
        f.nome_file.starts_with("REVOCHE_TSCNS_030_"),
        "{}",
        f.nome_file
    );
    let bytes = std::fs::read(dir.join(&f.nome_file)).expect("written file");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(&f.nome_file))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        let entries = std::fs::read_dir(&dir).expect("dir").count();
        assert_eq!(entries, 1, "no temporary file left");
    }
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(&lines[0][..17], "0REVOCHE_TSCNS030");
    assert!(
        lines[1].starts_with("100000000000180380030000000000013"),
        "{}",
        lines[1]
    );
    assert_eq!(&lines[1][49..61], "DECESSO     ");
    assert_eq!(&lines[1][61..69], "20261001");
    assert_eq!(lines[1][77..117].trim_end(), "5A3F0013");
    assert_eq!(
        &lines[1][117..],
        "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT"
    );
    assert!(
        lines[2].starts_with("100000000000480380030000000000045"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "9000000002");
    // Stored whole, with its hash; the export is recorded; nothing was acknowledged.
    let lazio = tsgate::domain::CodiceRegione::parse("120").expect("regione");
    let got = revoche::scarica(&mut conn, f.id, &regione, "operatore-030").expect("download");
    assert_eq!(got.contenuto, bytes);
    let other = revoche::scarica(&mut conn, f.id, &lazio, "operatore-120").unwrap_err();
    assert_eq!(other.esito(), "ENTE_NON_AUTORIZZATO", "{other}");
    let missing = revoche::scarica(&mut conn, f.id + 1000, &regione, "operatore-030").unwrap_err();
    assert_eq!(missing.esito(), "FILE_INESISTENTE", "{missing}");
    // A region that does not exist: refused and recorded (without it, or the row would break
    // the foreign key and the attempt would go unrecorded).
    let fantasma = tsgate::domain::CodiceRegione::parse("998").expect("shape");
    let unknown = revoche::scarica(&mut conn, f.id, &fantasma, "operatore-998").unwrap_err();
    assert_eq!(unknown.esito(), "REGIONE_SCONOSCIUTA", "{unknown}");
    assert_eq!(
        texts(
            &s.db,
            "SELECT esito || ' ' || coalesce(ente, '-') || ' ' || coalesce(fornitura_id::text, '-') \
             AS t FROM fornitura_revoche_trasmissione WHERE tipo = 'DOWNLOAD' ORDER BY id"
        ),
        [
            format!("OK 030 {}", f.id),
            format!("ENTE_NON_AUTORIZZATO 120 {}", f.id),
            "FILE_INESISTENTE 030 -".to_owned(),
            "REGIONE_SCONOSCIUTA - -".to_owned(),
        ]
    );
    assert_eq!(f.sha256.len(), 64);
    let listed = revoche::elenco_file(&mut conn, None, 10).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].nome_file, f.nome_file);
    assert_eq!(elenco(&s, "cms-lombardia", &[]).await.0, ids(&["1", "4"]));
    // An unknown region fails, and the failure is recorded too.
    let nessuna = tsgate::domain::CodiceRegione::parse("999").expect("shape");
    let err = revoche::esporta(&mut conn, &nessuna, &dir, "operatore-test").unwrap_err();
    assert_eq!(err.esito(), "REGIONE_SCONOSCIUTA");
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM fornitura_revoche_trasmissione WHERE tipo = 'ESPORTAZIONE' \
             AND ((esito = 'OK' AND ente = '030' AND operatore = 'operatore-test' AND fornitura_id IS NOT NULL) \
                OR (esito = 'REGIONE_SCONOSCIUTA' AND ente IS NULL))"
        ),
        2
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_requests_get_esito_00_on_the_demo_data() {
    let s = TestServer::start().await;
    carica_fixture(&s); // as `tsgate demo` does
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/requests");
    for op in [ELENCO, CONFERMA] {
        let lower = format!("{}{}", op[..1].to_lowercase(), &op[1..]);
        let body = std::fs::read(dir.join(format!("{op}.xml"))).expect("sample");
        let r = s
            .client("cms-lombardia")
            .soap(
                &format!("/ws/{op}"),
                &format!("urn:tsgate:tscns:{lower}#{op}"),
                body,
            )
            .await
            .expect("reply");
        assert_eq!(r.status, 200, "{op}: {}", r.body);
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("00"),
            "{op}: {}",
            r.body
        );
    }
    s.stop().await;
}

fn carica_testo(s: &TestServer, righe: &str) -> revoche::Caricamento {
    let mut conn = s.db.connection();
    revoche::carica(&mut conn, &format!("{INTESTAZIONE}{righe}"), "prova.csv").expect("load")
}

#[tokio::test(flavor = "multi_thread")]
async fn no_notice_for_a_revoked_card_nor_a_certificate_expired_before_the_event() {
    let s = TestServer::start().await;
    exec(
        &s.db,
        "INSERT INTO tscns_revoca (numero_tessera, motivo, data_revoca, identificativo_transazione) \
         VALUES ('80380030000000000045', 'furto', '2026-09-01', gen_random_uuid())",
    );
    // 009..001's certificate ended on 2020-03-31; 009..002's ends on 2020-05-31, the event day.
    let c = carica_testo(
        &s,
        "80380030009000000001;DECESSO;2026-10-01\n\
         80380030000000000045;RIEMISSIONE;2026-10-12\n\
         80380030009000000002;DECESSO;2020-05-31\n",
    );
    assert_eq!(
        (
            c.nuovi,
            c.comunicazioni,
            c.senza_certificato,
            c.gia_comunicati
        ),
        (3, 1, 2, 0)
    );
    assert_eq!(
        texts(
            &s.db,
            "SELECT numero_tessera || ' ' || seriale_certificato AS t FROM comunicazione_revoca"
        ),
        ["80380030009000000002 5A3F0002"]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_load_reads_the_card_under_its_lock_so_a_renewal_committing_meanwhile_counts() {
    let s = TestServer::start().await;
    use diesel::connection::SimpleConnection;
    // A renewal in flight: the card locked (as RegistraRinnovoCertificato does), the serial
    // replaced, not committed yet.
    let mut holder = s.db.connection();
    holder
        .batch_execute(
            "BEGIN; \
             SELECT 1 FROM tessera_sanitaria WHERE numero = '80380030000000000013' FOR NO KEY UPDATE; \
             UPDATE tscns_certificato SET seriale = '5A3F1013' \
             WHERE numero_tessera = '80380030000000000013'",
        )
        .expect("renewal in flight");
    let url = s.db.url.clone();
    let load = tokio::task::spawn_blocking(move || {
        let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&url).expect("db");
        revoche::carica(
            &mut conn,
            &format!("{INTESTAZIONE}80380030000000000013;DECESSO;2026-10-01\n"),
            "race.csv",
        )
        .expect("load")
    });
    let waiting = format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
        s.db.name
    );
    // The load must wait for the card; one that does not finishes meanwhile (and is wrong).
    let mut tries = 0;
    while count(&s.db, &waiting) < 1 && !load.is_finished() {
        tries += 1;
        assert!(tries < 1000, "the load neither waited nor finished");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    holder.batch_execute("COMMIT").expect("commit the renewal");
    let c = load.await.expect("load task");
    assert_eq!(c.comunicazioni, 1);
    assert_eq!(
        texts(
            &s.db,
            "SELECT seriale_certificato AS t FROM comunicazione_revoca"
        ),
        ["5A3F1013"],
        "the notice names the serial the renewal committed"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_queues_the_notice_of_an_event_stored_before_the_certificate() {
    let s = TestServer::start().await;
    let riga = "80380030000000000001;DECESSO;2026-10-22\n";
    let c = carica_testo(&s, riga);
    assert_eq!((c.nuovi, c.senza_certificato, c.comunicazioni), (1, 1, 0));
    // The card is activated afterwards.
    exec(
        &s.db,
        &format!(
            "INSERT INTO tscns_certificato (numero_tessera, seriale, emittente, valido_dal, \
             valido_al, data_attivazione, identificativo_transazione) VALUES \
             ('80380030000000000001', 'ABC1', '{LOMBARDIA_CA}', '2025-01-01', '2027-06-30', \
              '2025-01-10', gen_random_uuid())"
        ),
    );
    let c = carica_testo(&s, riga);
    assert_eq!(
        (
            c.nuovi,
            c.gia_caricati,
            c.comunicazioni,
            c.senza_certificato
        ),
        (0, 1, 1, 0)
    );
    assert_eq!(
        texts(
            &s.db,
            "SELECT r.seriale_certificato || ' ' || (r.evento_id = e.id)::text AS t \
             FROM comunicazione_revoca r, evento_tessera e"
        ),
        ["ABC1 true"]
    );
    // Nothing changed since: nothing new.
    let c = carica_testo(&s, riga);
    assert_eq!((c.comunicazioni, c.gia_comunicati), (0, 1));
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM comunicazione_revoca"),
        1
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_is_in_place_before_the_commit_and_a_failed_rename_stores_nothing() {
    let s = TestServer::start().await;
    carica_fixture(&s);
    let regione = tsgate::domain::CodiceRegione::parse("030").expect("regione");
    let mut conn = s.db.connection();
    let files = "SELECT count(*) AS n FROM fornitura_revoche";
    // A rename that fails: rolled back, only the failure recorded, nothing left on disk.
    let dir = scratch_dir("revoche-rename");
    let err = revoche::fornitura::esporta_con(
        &mut conn,
        &regione,
        &dir,
        "operatore-test",
        revoche::MASSIMO_RECORD,
        |tmp, _| {
            assert!(tmp.exists(), "written before the rename");
            Err(std::io::Error::other("rename refused"))
        },
    )
    .unwrap_err();
    assert_eq!(err.esito(), "SCRITTURA_FALLITA", "{err}");
    assert_eq!(count(&s.db, files), 0);
    assert_eq!(
        texts(
            &s.db,
            "SELECT esito || ' ' || coalesce(fornitura_id::text, '-') AS t \
             FROM fornitura_revoche_trasmissione"
        ),
        ["SCRITTURA_FALLITA -"]
    );
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
    // The rename happens while the stored file is not yet committed.
    let dir = scratch_dir("revoche-rename-ok");
    let f = revoche::fornitura::esporta_con(
        &mut conn,
        &regione,
        &dir,
        "operatore-test",
        revoche::MASSIMO_RECORD,
        |tmp, path| {
            tsgate::services::esportazione::pubblica(tmp, path)?;
            assert_eq!(count(&s.db, files), 0, "renamed before the commit");
            Ok(())
        },
    )
    .expect("export");
    assert_eq!(count(&s.db, files), 1);
    assert!(f.percorso.exists());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_over_the_record_limit_is_refused_not_cut_short() {
    let s = TestServer::start().await;
    carica_fixture(&s); // 3 pending notices for Lombardia
    let regione = tsgate::domain::CodiceRegione::parse("030").expect("regione");
    let mut conn = s.db.connection();
    let dir = scratch_dir("revoche-limite");
    let err = revoche::fornitura::esporta_con(
        &mut conn,
        &regione,
        &dir,
        "operatore-test",
        2,
        tsgate::services::esportazione::pubblica,
    )
    .unwrap_err();
    assert_eq!(err.esito(), "TROPPI_RECORD");
    assert!(err.to_string().contains("more than 2 pending"), "{err}");
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM fornitura_revoche"),
        0
    );
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
    assert_eq!(
        texts(
            &s.db,
            "SELECT esito || ' ' || ente AS t FROM fornitura_revoche_trasmissione"
        ),
        ["TROPPI_RECORD 030"]
    );
    // Exactly at the limit: produced whole.
    let f = revoche::fornitura::esporta_con(
        &mut conn,
        &regione,
        &dir,
        "operatore-test",
        3,
        tsgate::services::esportazione::pubblica,
    )
    .expect("export");
    assert_eq!(f.numero_record, 3);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_deletes_old_acknowledged_notices_files_and_their_log() {
    let s = TestServer::start().await;
    carica_fixture(&s);
    let mut conn = s.db.connection();
    let dir = scratch_dir("revoche-purge");
    let lombardia = tsgate::domain::CodiceRegione::parse("030").expect("regione");
    let lazio = tsgate::domain::CodiceRegione::parse("120").expect("regione");
    let vecchio = revoche::esporta(&mut conn, &lombardia, &dir, "op").expect("export");
    let recente = revoche::esporta(&mut conn, &lazio, &dir, "op").expect("export");
    // 1 acknowledged 13 months ago, 2 acknowledged 11 months ago, 3 pending for two years; the
    // Lombardia file and its log row 13 months old.
    exec(
        &s.db,
        &format!(
            "UPDATE comunicazione_revoca SET confermata_il = now() - interval '13 months', \
                 transazione_conferma = gen_random_uuid() WHERE id = 1; \
             UPDATE comunicazione_revoca SET confermata_il = now() - interval '11 months', \
                 transazione_conferma = gen_random_uuid() WHERE id = 2; \
             UPDATE comunicazione_revoca SET creata_il = now() - interval '2 years' WHERE id = 3; \
             UPDATE fornitura_revoche SET generata_il = now() - interval '13 months' WHERE id = {0}; \
             UPDATE fornitura_revoche_trasmissione SET trasmessa_il = now() - interval '13 months' \
                 WHERE fornitura_id = {0};",
            vecchio.id
        ),
    );
    let out = tsgate_cmd(&s.db).arg("purge").output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "1 acknowledged revocation notice(s), 1 revocation file(s) and 1 transmission record(s) deleted"
        ),
        "{stdout}"
    );
    assert_eq!(
        texts(
            &s.db,
            "SELECT id::text AS t FROM comunicazione_revoca ORDER BY id"
        ),
        ["2", "3", "4", "5"]
    );
    assert_eq!(
        texts(&s.db, "SELECT nome_file AS t FROM fornitura_revoche"),
        std::slice::from_ref(&recente.nome_file)
    );
    assert_eq!(
        texts(
            &s.db,
            "SELECT nome_file AS t FROM fornitura_revoche_trasmissione"
        ),
        [recente.nome_file]
    );
    // Nothing more to delete.
    let again = revoche::purge(&mut conn, 12).expect("purge");
    assert_eq!(again.comunicazioni + again.file + again.trasmissioni, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_loads_never_make_a_reader_by_cursor_skip_a_notice() {
    let s = TestServer::start().await;
    // 300 more Lombardia cards, each with an active certificate.
    exec(
        &s.db,
        &format!(
            "INSERT INTO tessera_sanitaria (numero, codice_fiscale, data_scadenza, codice_regione) \
             SELECT '8038003000800000' || lpad(i::text, 4, '0'), 'FNTLCU04M06F205H', '2030-12-31', '030' \
             FROM generate_series(0, 299) i; \
             INSERT INTO tscns_certificato (numero_tessera, seriale, emittente, valido_dal, \
                 valido_al, data_attivazione, identificativo_transazione) \
             SELECT '8038003000800000' || lpad(i::text, 4, '0'), 'C' || lpad(i::text, 5, '0'), \
                 '{LOMBARDIA_CA}', '2025-01-01', '2030-12-31', '2025-01-10', gen_random_uuid() \
             FROM generate_series(0, 299) i;"
        ),
    );
    let file = |range: std::ops::Range<u32>| -> String {
        let mut t = INTESTAZIONE.to_owned();
        for i in range {
            t.push_str(&format!("8038003000800000{i:04};DECESSO;2026-10-01\n"));
        }
        t
    };
    let carica = |n: usize, testo: String| {
        let url = s.db.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn =
                <diesel::PgConnection as diesel::Connection>::establish(&url).expect("db");
            revoche::carica(&mut conn, &testo, &format!("parallelo-{n}.csv")).expect("load")
        })
    };
    let waiting = format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
        s.db.name
    );
    let attendi = |finito: &dyn Fn() -> bool, attese: i64| {
        let mut tries = 0;
        while count(&s.db, &waiting) < attese && !finito() {
            tries += 1;
            assert!(tries < 1000, "the loads neither waited nor finished");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    // The first load is held on its last card (locked by a renewal in flight) once it has
    // queued its other notices, so the second one runs meanwhile: without the queue lock it
    // would commit higher ids while the first one's lower ids are still invisible.
    use diesel::connection::SimpleConnection;
    let mut holder = s.db.connection();
    holder
        .batch_execute(
            "BEGIN; SELECT 1 FROM tessera_sanitaria WHERE numero = '80380030008000000149' \
             FOR NO KEY UPDATE",
        )
        .expect("hold the card");
    let a = carica(0, file(0..150));
    attendi(&|| a.is_finished(), 1);
    let b = carica(1, file(150..300));
    attendi(&|| b.is_finished(), 2);
    // The reader drains by cursor what is visible, then the first load goes on.
    let (mut letti, mut cursore) = (Vec::new(), "0".to_owned());
    let mut rilasciato = false;
    for _ in 0..10_000 {
        let finiti = a.is_finished() && b.is_finished();
        let (pagina, successivo, altre) = elenco(
            &s,
            "cms-lombardia",
            &[("cursore", &cursore), ("numeroMassimo", "7")],
        )
        .await;
        letti.extend(pagina.into_iter().map(|id| id.parse::<i64>().expect("id")));
        cursore = successivo;
        if altre == "false" {
            if finiti {
                break;
            }
            if !rilasciato {
                holder.batch_execute("COMMIT").expect("release");
                rilasciato = true;
            }
        }
    }
    let loads = [a, b];
    let mut queued = 0;
    for l in loads {
        queued += l.await.expect("load task").comunicazioni;
    }
    assert_eq!(queued, 300);
    let tutte: Vec<i64> = texts(
        &s.db,
        "SELECT id::text AS t FROM comunicazione_revoca WHERE codice_regione = '030' ORDER BY id",
    )
    .iter()
    .map(|t| t.parse().expect("id"))
    .collect();
    assert_eq!(tutte.len(), 300);
    assert_eq!(letti, tutte, "the reader skipped or repeated a notice");
    s.stop().await;
}
