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

#[tokio::test(flavor = "multi_thread")]
async fn loading_counts_bad_lines_and_is_idempotent() {
    let s = TestServer::start().await;
    let c = carica_fixture(&s);
    assert_eq!(
        (c.letti, c.nuovi, c.comunicazioni, c.gia_comunicati),
        (8, 7, 5, 1)
    );
    assert_eq!((c.senza_certificato, c.tessere_sconosciute), (1, 1));
    assert_eq!(c.errate.len(), 1);
    assert_eq!(c.errate[0].riga, 10);
    assert!(c.errate[0].motivo.contains("FURTO"), "{:?}", c.errate);
    let again = carica_fixture(&s);
    assert_eq!((again.letti, again.nuovi, again.comunicazioni), (8, 0, 0));
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("line 10: tipoEvento `FURTO`"), "{stdout}");
    assert!(
        stdout.contains("events read 8, new 7, notices queued 5"),
        "{stdout}"
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
    let oggi = tsgate::domain::tempo::oggi_roma().to_string();
    assert_eq!(xml_text(&r.body, "dataComunicazione"), Some(oggi));
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
    assert_eq!(got.map(|g| g.contenuto), Some(bytes));
    let other = revoche::scarica(&mut conn, f.id, &lazio, "operatore-120").expect("download");
    assert_eq!(other, None);
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM fornitura_revoche_trasmissione WHERE tipo = 'DOWNLOAD' \
             AND esito IN ('OK', 'ENTE_NON_AUTORIZZATO')"
        ),
        2
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
            "SELECT count(*) AS n FROM fornitura_revoche_trasmissione \
             WHERE (esito = 'OK' AND ente = '030' AND operatore = 'operatore-test' AND fornitura_id IS NOT NULL) \
                OR (esito = 'REGIONE_SCONOSCIUTA' AND ente IS NULL)"
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
