//! Integrator stack: Node.js with npm `soap` (node-soap, the version of
//! `tests/stacks/node/package-lock.json`), a client from each WSDL file of the exported bundle,
//! over mutual TLS (`ClientSSLSecurity` with the caller's PEM certificate and key and the CA),
//! calling every operation with the fixture data as JavaScript values and once with an invalid
//! request (`tests/stacks/node/client.mjs`). node-soap validates nothing, so the client checks
//! every request it wrote and every envelope received against the bundle's XSD with xmllint.
//!
//! node-soap cannot write a `Date`: it writes an empty element for it (pinned below, so that a
//! node-soap that learns to will be noticed), and the client turns each Date into its calendar
//! day before the call, as an integrator has to. Needs `node` and `xmllint`, and
//! `tests/stacks/node/node_modules` (`npm ci` there, which `scripts/test` runs).

mod common;
use common::stack::*;
use common::*;
use std::path::PathBuf;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn node_soap_calls_every_operation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let client = root.join("tests/stacks/node/client.mjs");
    assert!(
        root.join("tests/stacks/node/node_modules/soap").exists(),
        "npm soap not installed: run scripts/test, or npm ci in tests/stacks/node"
    );
    let s = TestServer::start().await;
    let a = Ambiente::prepara(&s, "node");
    let mut cmd = Command::new("node");
    // An integrator in Italy: a Date built for a day is the previous day's 23:00 in UTC.
    cmd.arg(&client).arg(&a.file).env("TZ", "Europe/Rome");
    let v = a.esegui(cmd).await;
    verifica(&s, "node", &v);

    // Every received envelope (11 answers, 11 faults with their detail) was valid against the
    // bundle's XSD.
    assert_eq!(v["validati"], 22, "node: {v}");

    // node-soap's own rendering of a Date is an empty element, which the schema refuses; the
    // day the client sent instead is the fixture's.
    let mut date = 0;
    for (op, native) in v["date_native"].as_object().expect("date_native") {
        let fixture = std::fs::read_to_string(root.join(format!("fixtures/requests/{op}.xml")))
            .expect("fixture");
        for (name, text) in native.as_object().expect("dates") {
            assert_eq!(
                text, "",
                "node: {op}/{name}: node-soap now writes a Date: send Date objects as they are"
            );
            assert_eq!(
                v["date_inviate"][op][name].as_str(),
                xml_text(&fixture, name).as_deref(),
                "node: {op}/{name}: {v}"
            );
            date += 1;
        }
        assert!(
            v["date_native_errori"][op]
                .as_str()
                .is_some_and(|e| e.contains(
                    "is not a valid value of the atomic type '{urn:tsgate:tipidati}dataType'"
                )),
            "node: {op}: the empty date should not be valid: {v}"
        );
    }
    assert_eq!(date, 8, "node: the dates of the fixtures: {v}");

    // Native types read back: node-soap turns xs:date, xs:boolean and xs:int/xs:long into
    // Date, boolean and number only when the element's type is the built-in one itself;
    // restrictions of them (td:doseType, cursoreRevocheType, numeroConfermeType) stay text.
    let tipo = |op: &str, path: &str| v["tipi"][op][path].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        tipo("VerificaRinnovoCertificato", "/dataScadenzaProrogata"),
        "Date",
        "node: {v}"
    );
    assert_eq!(
        tipo("VerificaRinnovoCertificato", "/pukRichiesto"),
        "boolean"
    );
    assert_eq!(tipo("ElencoSerieCarte", "/serie/0/pukRichiesto"), "boolean");
    assert_eq!(tipo("ElencoRevoche", "/altreRevoche"), "boolean");
    assert_eq!(tipo("ElencoRevoche", "/cursoreSuccessivo"), "string");
    assert_eq!(tipo("ConfermaRevoche", "/numeroConfermate"), "string");
    let lista =
        &v["valid"]["VerificaSomministrazioni"]["listaSomministrazioni"]["somministrazione"];
    assert_eq!(lista[0]["dataSomministrazione"], "2026-01-10", "node: {v}");
    assert_eq!(lista[0]["numeroDose"], "1", "node: {v}");
    assert_eq!(
        tipo(
            "VerificaSomministrazioni",
            "/listaSomministrazioni/somministrazione/0/dataSomministrazione"
        ),
        "Date"
    );
    // The demo notices of Lombardia's CMS (1, 2 and 4), and 1 and 2 acknowledged.
    let ids: Vec<&str> = v["valid"]["ElencoRevoche"]["listaRevoche"]["revoca"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["idComunicazione"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids, ["1", "2", "4"], "node: {v}");
    assert_eq!(v["valid"]["ConfermaRevoche"]["numeroConfermate"], "2");
    s.stop().await;
}
