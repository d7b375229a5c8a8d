//! Interoperability: the independent Python client zeep reads each served WSDL over mutual TLS,
//! calls the service, reads every output field, and validates every request and response
//! against the served XSD (lxml/libxml2). Needs the venv made by `scripts/test` (or
//! TSGATE_TEST_PYTHON pointing at a python with zeep).

mod common;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TSGATE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// Runs `tests/interop/<script>` with the server's base URL, the CA and `args`; returns the
/// JSON object it prints.
async fn run(s: &TestServer, script: &str, args: Vec<PathBuf>) -> Value {
    let python = python();
    assert!(
        python.exists(),
        "{} not found: run scripts/test (it creates the venv with zeep) or set TSGATE_TEST_PYTHON",
        python.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let base = s.running().base_url.clone();
    let ca = s.pki.ca_pem_path();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base)
            .arg(ca)
            .args(args)
            .output()
    })
    .await
    .expect("script task")
    .expect("run zeep");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "zeep failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn cert_args(s: &TestServer, name: &str) -> [PathBuf; 2] {
    let (cert, key) = s.pki.client_paths(name);
    [cert, key]
}

fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{path} in {v}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn zeep_consumes_the_wsdl_and_reads_every_field() {
    let s = TestServer::start().await;
    let v = run(
        &s,
        "zeep_vafr.py",
        cert_args(&s, "regione-lombardia").to_vec(),
    )
    .await;
    assert_eq!(text(&v, "/00/esito"), "00");
    assert_eq!(text(&v, "/00/regioneAssistenza"), "120");
    assert_eq!(text(&v, "/00/regioneResidenza"), "030");
    assert_eq!(text(&v, "/00/identificativoCluster"), "SANITARI");
    assert!(text(&v, "/00/descrizioneEsito").contains("fuori regione"));
    assert_eq!(text(&v, "/00/identificativoTransazione").len(), 36);
    assert_eq!(text(&v, "/01/esito"), "01");
    assert_eq!(v.pointer("/01/regioneAssistenza"), Some(&Value::Null));
    assert_eq!(text(&v, "/02/esito"), "02");
    assert_eq!(text(&v, "/fault/codice"), "TSG-0303");
    assert!(text(&v, "/fault/faultcode").contains("Client"));
    // zeep's calls were logged like any other.
    assert_eq!(access_log(&s.db).len(), 4);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zeep_calls_the_avn_transmissions_and_verifica_somministrazioni() {
    let s = TestServer::start().await;
    let mut args = cert_args(&s, "avn").to_vec();
    args.extend(cert_args(&s, "regione-lombardia"));
    let v = run(&s, "zeep_vaccini.py", args).await;
    assert_eq!(text(&v, "/prenotazione_I/esito"), "00");
    assert_eq!(
        text(&v, "/prenotazione_I/descrizioneEsito"),
        "Prenotazione registrata"
    );
    assert_eq!(text(&v, "/prenotazione_I_again/esito"), "00");
    assert_eq!(text(&v, "/prenotazione_V_missing/esito"), "01");
    assert_eq!(
        text(&v, "/prenotazione_V_missing/listaErrori/errore/0/codice"),
        "AVN-0202"
    );
    assert_eq!(text(&v, "/somministrazione_1/esito"), "00");
    assert_eq!(
        text(&v, "/somministrazione_3/listaErrori/errore/0/codice"),
        "AVN-0302"
    );
    assert_eq!(text(&v, "/somministrazione_3_deroga/esito"), "00");
    assert_eq!(text(&v, "/verifica_00/esito"), "00");
    let list = &v["verifica_00"]["listaSomministrazioni"]["somministrazione"];
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{v}");
    // xs:int in the schema: zeep reads a number.
    assert_eq!(list[0]["numeroDose"], 1);
    assert_eq!(list[1]["numeroDose"], 3);
    assert_eq!(text(list, "/1/codiceAIC"), "049269018");
    assert_eq!(text(&v, "/verifica_01/esito"), "01");
    assert_eq!(text(&v, "/verifica_fault/codice"), "TSG-0306");
    assert_eq!(access_log(&s.db).len(), 9);
    s.stop().await;
}

/// Validates `docs` against `schema` with lxml (tests/interop/valida_xsd.py).
fn valida(schema: &std::path::Path, docs: &[PathBuf]) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/valida_xsd.py");
    let out = Command::new(python())
        .arg(script)
        .arg(schema)
        .args(docs)
        .output()
        .expect("run lxml");
    assert!(
        out.status.success(),
        "not valid against {}: {}{}",
        schema.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bulk_file_receipt_and_outcome_are_valid_against_their_schemas() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sample = root.join("fixtures/requests/FlussoPrenotazioni.xml");
    valida(
        &root.join("xsd/flussi/FlussoPrenotazioni.xsd"),
        std::slice::from_ref(&sample),
    );

    let mut callers = standard_callers();
    callers.push(caller(
        "avn-flussi",
        "AVN",
        None,
        &["InvioFlussoPrenotazioni", "EsitoFlussoPrenotazioni"],
        &["127.0.0.0/8"],
    ));
    let spool = scratch_dir("flussi");
    let s = TestServer::start_with(callers, |c| c.flussi.dir = spool).await;
    let (cert, key) = s.pki.client_paths("avn-flussi");
    let signed = tsgate::flussi::firma::firma(
        &std::fs::read(&sample).expect("sample"),
        &std::fs::read(cert).expect("cert"),
        &std::fs::read(key).expect("key"),
    )
    .expect("sign");
    let mut conn = s.client("avn-flussi").connect().await.expect("connect");
    let req = http::Request::post("/ws/flussi/prenotazioni")
        .header("host", conn.host().to_owned())
        .header("content-type", "application/pkcs7-mime")
        .body(http_body_util::Full::new(bytes::Bytes::from(signed)))
        .expect("request");
    let receipt = conn.send(req).await.expect("reply");
    assert_eq!(receipt.status, 202, "{}", receipt.body);
    let protocollo = xml_text(&receipt.body, "protocollo").expect("protocollo");
    let mut outcome = None;
    for _ in 0..600 {
        let r = s
            .client("avn-flussi")
            .get(&format!("/ws/flussi/prenotazioni/{protocollo}"))
            .await
            .expect("outcome");
        if xml_text(&r.body, "stato").as_deref() == Some("ELABORATO") {
            outcome = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let outcome = outcome.expect("file processed");
    assert_eq!(xml_texts(&outcome.body, "esito"), ["00", "00", "01"]);
    assert_eq!(
        xml_text(&outcome.body, "codice").as_deref(),
        Some("AVN-0105")
    );
    let dir = scratch_dir("flussi-docs");
    let (r, o) = (dir.join("ricevuta.xml"), dir.join("esito.xml"));
    std::fs::write(&r, &receipt.body).expect("write");
    std::fs::write(&o, &outcome.body).expect("write");
    valida(&root.join("xsd/flussi/FlussoPrenotazioni.xsd"), &[r]);
    valida(&root.join("xsd/flussi/EsitoFlussoPrenotazioni.xsd"), &[o]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zeep_calls_the_tscns_services() {
    let s = TestServer::start().await;
    let v = run(&s, "zeep_tscns.py", cert_args(&s, "cms-lombardia").to_vec()).await;
    assert_eq!(text(&v, "/attivazione/esito"), "00", "{v}");
    assert_eq!(
        text(&v, "/attivazione/descrizioneEsito"),
        "Attivazione della TS-CNS registrata"
    );
    assert_eq!(text(&v, "/attivazione_again/esito"), "00");
    assert_eq!(
        text(&v, "/attivazione_altro/listaErrori/errore/0/codice"),
        "CNS-0107"
    );
    assert_eq!(text(&v, "/attivazione_fault/codice"), "TSG-0301");
    assert_eq!(text(&v, "/revoca/esito"), "00");
    assert_eq!(
        text(&v, "/revoca_altra_regione/listaErrori/errore/0/codice"),
        "CNS-0103"
    );
    assert_eq!(v["serie"]["serie"].as_array().map(Vec::len), Some(9), "{v}");
    // xs:boolean in the schema: zeep reads a boolean.
    assert_eq!(v["serie"]["serie"][0]["pukRichiesto"], true);
    assert_eq!(
        text(&v, "/serie_st/serie/0/produttore"),
        "STMICROELECTRONICS"
    );
    assert_eq!(
        v["serie_st"]["serie"][0]["software"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    assert_eq!(text(&v, "/verifica/statoRinnovo"), "RINNOVABILE");
    assert_eq!(v["verifica"]["pukRichiesto"], true);
    assert_eq!(text(&v, "/verifica/dataScadenzaProrogata"), "2020-06-30");
    assert_eq!(text(&v, "/verifica/siglaSerie"), "AC2014");
    assert_eq!(text(&v, "/verifica_non/statoRinnovo"), "NON_RINNOVABILE");
    assert_eq!(v["verifica_non"]["pukRichiesto"], Value::Null);
    assert_eq!(text(&v, "/registra/esito"), "00");
    assert_eq!(text(&v, "/verifica_gia/statoRinnovo"), "GIA_RINNOVATO");
    assert_eq!(access_log(&s.db).len(), 12);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zeep_pulls_and_acknowledges_the_revocation_notices() {
    let s = TestServer::start().await;
    {
        let mut conn = s.db.connection();
        tsgate::services::tscns::revoche::carica(
            &mut conn,
            tsgate::services::tscns::revoche::eventi::EVENTI_DEMO,
            "eventi.csv",
        )
        .expect("load events");
    }
    let mut args = cert_args(&s, "cms-lombardia").to_vec();
    args.extend(cert_args(&s, "cms-lazio"));
    let v = run(&s, "zeep_tscns_revoche.py", args).await;
    let ids = |key: &str| -> Vec<i64> {
        v[key]["listaRevoche"]["revoca"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["idComunicazione"].as_i64())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(text(&v, "/elenco/esito"), "00");
    assert_eq!(ids("elenco"), [1, 2, 4], "{v}");
    let first = &v["elenco"]["listaRevoche"]["revoca"][0];
    assert_eq!(text(first, "/numeroTessera"), "80380030000000000013");
    assert_eq!(text(first, "/serialeCertificato"), "5A3F0013");
    assert_eq!(text(first, "/motivo"), "decesso");
    assert_eq!(text(first, "/dataEvento"), "2026-10-01");
    // xs:long and xs:boolean in the schema: zeep reads a number and a boolean.
    assert_eq!(v["elenco"]["cursoreSuccessivo"], 4);
    assert_eq!(v["elenco"]["altreRevoche"], false);
    assert_eq!(ids("pagina_1"), [1, 2]);
    assert_eq!(v["pagina_1"]["altreRevoche"], true);
    assert_eq!(ids("pagina_2"), [4]);
    assert_eq!(v["pagina_2"]["altreRevoche"], false);
    assert_eq!(text(&v, "/conferma_00/esito"), "00");
    assert_eq!(v["conferma_00"]["numeroConfermate"], 1);
    assert_eq!(ids("elenco_dopo"), [2, 4]);
    assert_eq!(ids("lazio"), [3, 5]);
    assert_eq!(text(&v, "/conferma_01/esito"), "01");
    assert_eq!(
        text(&v, "/conferma_01/listaErrori/errore/0/codice"),
        "CNS-0401"
    );
    assert_eq!(ids("lazio_dopo"), [5]);
    assert_eq!(text(&v, "/fault/codice"), "TSG-0301");
    assert_eq!(access_log(&s.db).len(), 9);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tscns_file_receipt_and_outcome_are_valid_against_their_schemas() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sample = root.join("fixtures/requests/FlussoTSCNS.xml");
    valida(
        &root.join("xsd/flussi/FlussoTSCNS.xsd"),
        std::slice::from_ref(&sample),
    );
    let spool = scratch_dir("flussi-tscns");
    let s = TestServer::start_with(standard_callers(), |c| c.flussi.dir = spool).await;
    let (cert, key) = s.pki.client_paths("cms-lombardia");
    let signed = tsgate::flussi::firma::firma(
        &std::fs::read(&sample).expect("sample"),
        &std::fs::read(cert).expect("cert"),
        &std::fs::read(key).expect("key"),
    )
    .expect("sign");
    let mut conn = s.client("cms-lombardia").connect().await.expect("connect");
    let req = http::Request::post("/ws/flussi/tscns")
        .header("host", conn.host().to_owned())
        .header("content-type", "application/pkcs7-mime")
        .body(http_body_util::Full::new(bytes::Bytes::from(signed)))
        .expect("request");
    let receipt = conn.send(req).await.expect("reply");
    assert_eq!(receipt.status, 202, "{}", receipt.body);
    let protocollo = xml_text(&receipt.body, "protocollo").expect("protocollo");
    let mut outcome = None;
    for _ in 0..600 {
        let r = s
            .client("cms-lombardia")
            .get(&format!("/ws/flussi/tscns/{protocollo}"))
            .await
            .expect("outcome");
        if xml_text(&r.body, "stato").as_deref() == Some("ELABORATO") {
            outcome = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let outcome = outcome.expect("file processed");
    assert_eq!(xml_texts(&outcome.body, "esito"), ["00", "00", "01", "01"]);
    assert_eq!(xml_texts(&outcome.body, "codice"), ["CNS-0103", "CNS-0006"]);
    let dir = scratch_dir("flussi-tscns-docs");
    let (r, o) = (dir.join("ricevuta.xml"), dir.join("esito.xml"));
    std::fs::write(&r, &receipt.body).expect("write");
    std::fs::write(&o, &outcome.body).expect("write");
    valida(&root.join("xsd/flussi/FlussoTSCNS.xsd"), &[r]);
    valida(&root.join("xsd/flussi/EsitoFlussoTSCNS.xsd"), &[o]);
    s.stop().await;
}
