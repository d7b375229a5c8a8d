//! Integrator stack: PHP's `SoapClient` (ext/soap) in WSDL mode from the exported bundle, over
//! mutual TLS (`stream_context` with the caller's certificate and key in one PEM), calling every
//! operation with the fixture data and once with an invalid request
//! (`tests/stacks/php/client.php`). ext/soap validates nothing it receives, so the client checks
//! every received body against the bundle's XSD with `DOMDocument::schemaValidate`.

mod common;
use common::stack::*;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn php_soapclient_calls_every_operation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let s = TestServer::start().await;
    let a = Ambiente::prepara(&s, "php");
    let mut cmd = Command::new("php");
    // An integrator in Italy: ext/soap writes dates in the C library's local time zone.
    cmd.arg(root.join("tests/stacks/php/client.php"))
        .arg(&a.file)
        .env("TZ", "Europe/Rome");
    let v = a.esegui(cmd).await;
    verifica(&s, "php", &v);

    // Every received body (11 answers, 11 fault details) was valid against the bundle's XSD.
    assert_eq!(v["validati"], 22, "{v}");
    // ext/soap writes an xs:date from the Unix timestamp it is given, in the local time zone
    // (Europe/Rome here): the fixture's day with its offset, `2024-07-15+02:00`.
    assert_eq!(date_inviate(&v), 8, "{v}");
    // xs:boolean, xs:int and xs:long (and restrictions of them) are read as PHP bool and int;
    // xs:date as the string received.
    let valid = &v["valid"];
    assert_eq!(
        valid["ElencoSerieCarte"]["serie"][0]["pukRichiesto"], true,
        "{v}"
    );
    assert_eq!(valid["ElencoRevoche"]["cursoreSuccessivo"], 4, "{v}");
    assert_eq!(valid["ElencoRevoche"]["altreRevoche"], false, "{v}");
    let ids: Vec<&Value> = valid["ElencoRevoche"]["listaRevoche"]["revoca"]
        .as_array()
        .map(|a| a.iter().map(|r| &r["idComunicazione"]).collect())
        .unwrap_or_default();
    assert_eq!(ids, [1, 2, 4], "{v}");
    assert_eq!(valid["ConfermaRevoche"]["numeroConfermate"], 2, "{v}");
    assert_eq!(
        valid["VerificaRinnovoCertificato"]["dataScadenzaProrogata"],
        "2020-06-30"
    );
    // The administration sent as 2026-01-10+01:00 is read back as that day.
    let lista = &valid["VerificaSomministrazioni"]["listaSomministrazioni"]["somministrazione"];
    assert_eq!(lista[0]["numeroDose"], 1, "{v}");
    assert_eq!(lista[0]["dataSomministrazione"], "2026-01-10", "{v}");
    s.stop().await;
}

/// Checks every date the client reports having sent (`date_inviate`: op → element → the text
/// in the request) against the fixture: the same day, with Rome's offset of that day
/// (`+01:00` or `+02:00`). Returns how many it checked.
fn date_inviate(v: &Value) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    let sent = v["date_inviate"].as_object().expect("date_inviate");
    for (op, dates) in sent {
        let fixture = std::fs::read_to_string(root.join(format!("fixtures/requests/{op}.xml")))
            .expect("fixture");
        for (name, text) in dates.as_object().expect("dates") {
            let text = text.as_str().expect("date text");
            let day = xml_text(&fixture, name).expect("fixture date");
            assert!(
                [format!("{day}+01:00"), format!("{day}+02:00")].contains(&text.to_owned()),
                "php: {op}/{name} sent {text}, the fixture has {day}"
            );
            n += 1;
        }
    }
    n
}
