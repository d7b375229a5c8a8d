//! Integrator stacks: Python zeep and suds (suds-community), from the exported bundle's WSDL
//! files over mutual TLS, calling every operation with the fixture data as Python values
//! (`datetime.date`, bool, int) and once with an invalid request
//! (`tests/stacks/python/client.py --stack zeep|suds`). Every request written and every body
//! received is validated against the bundle's XSD with lxml. Needs the venv of `scripts/test`
//! (or TSGATE_TEST_PYTHON pointing at a python with zeep, suds and lxml).

mod common;
use common::stack::*;
use common::*;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TSGATE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// Runs the client of `stack` against a server of its own and checks what every stack must
/// agree on, and what a Python stack must: dates sent as `AAAA-MM-GG` (datetime.date has no
/// time zone), every received body valid, xs:date and xs:boolean read as `date` and `bool`,
/// xs:int and xs:long as `int` (zeep; suds leaves restrictions of them as text).
async fn esegui_stack(stack: &str) {
    let python = python();
    assert!(
        python.exists(),
        "{} not found: run scripts/test (it creates the venv) or set TSGATE_TEST_PYTHON",
        python.display()
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let s = TestServer::start().await;
    let a = Ambiente::prepara(&s, stack);
    let mut cmd = Command::new(python);
    cmd.arg(root.join("tests/stacks/python/client.py"))
        .args(["--stack", stack])
        .arg(&a.file);
    let v = a.esegui(cmd).await;
    verifica(&s, stack, &v);

    // Every received body (11 answers, 11 fault details) was valid against the bundle's XSD.
    assert_eq!(v["validati"], 22, "{stack}: {v}");
    // Every date went as the fixture has it.
    let mut date = 0;
    for (op, sent) in v["date_inviate"].as_object().expect("date_inviate") {
        let fixture = std::fs::read_to_string(root.join(format!("fixtures/requests/{op}.xml")))
            .expect("fixture");
        for (name, text) in sent.as_object().expect("dates") {
            assert_eq!(
                text.as_str(),
                xml_text(&fixture, name).as_deref(),
                "{stack}: {op}/{name}"
            );
            date += 1;
        }
    }
    assert_eq!(date, 8, "{stack}: the dates of the fixtures: {v}");
    // Native types read back.
    let tipo = |op: &str, path: &str| {
        v["tipi"][op][path]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert_eq!(
        tipo("VerificaRinnovoCertificato", "/dataScadenzaProrogata"),
        "date",
        "{stack}: {v}"
    );
    assert_eq!(tipo("VerificaRinnovoCertificato", "/pukRichiesto"), "bool");
    assert_eq!(tipo("ElencoSerieCarte", "/serie/0/pukRichiesto"), "bool");
    // xs:int and xs:long: zeep reads an int; suds only translates the built-in types
    // themselves, and these are restrictions of them (td:doseType, cursoreRevocheType,
    // numeroConfermeType): it hands back their text.
    let intero = if stack == "suds" { "" } else { "int" };
    assert_eq!(tipo("ElencoRevoche", "/cursoreSuccessivo"), intero, "{v}");
    assert_eq!(tipo("ElencoRevoche", "/altreRevoche"), "bool");
    assert_eq!(tipo("ConfermaRevoche", "/numeroConfermate"), intero);
    let lista =
        &v["valid"]["VerificaSomministrazioni"]["listaSomministrazioni"]["somministrazione"];
    let dose = if stack == "suds" {
        json!("1")
    } else {
        json!(1)
    };
    assert_eq!(lista[0]["numeroDose"], dose, "{stack}: {v}");
    assert_eq!(
        lista[0]["dataSomministrazione"], "2026-01-10",
        "{stack}: {v}"
    );
    assert_eq!(
        tipo(
            "VerificaSomministrazioni",
            "/listaSomministrazioni/somministrazione/0/dataSomministrazione"
        ),
        "date"
    );
    // The demo notices of Lombardia's CMS (1, 2 and 4), and 1 and 2 acknowledged.
    let ids: Vec<String> = v["valid"]["ElencoRevoche"]["listaRevoche"]["revoca"]
        .as_array()
        .map(|a| a.iter().map(|r| r["idComunicazione"].to_string()).collect())
        .unwrap_or_default();
    let attesi: &[&str] = if stack == "suds" {
        &["\"1\"", "\"2\"", "\"4\""]
    } else {
        &["1", "2", "4"]
    };
    assert_eq!(ids, attesi, "{stack}: {v}");
    assert_eq!(
        v["valid"]["ConfermaRevoche"]["numeroConfermate"]
            .to_string()
            .trim_matches('"'),
        "2"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn zeep_calls_every_operation() {
    esegui_stack("zeep").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suds_calls_every_operation() {
    esegui_stack("suds").await;
}
