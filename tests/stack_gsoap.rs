//! Integrator stack: gSOAP (Debian gsoap and libgsoap-dev). `tests/stacks/gsoap/build.sh` runs
//! wsdl2h over the 11 WSDLs of the exported bundle (one header, xs:date as `struct tm`),
//! soapcpp2 -C -j and g++ with OpenSSL; the C++ client calls every operation over mutual TLS,
//! reads the answers with SOAP_XML_STRICT and the fault detail as the generated
//! `_err__erroreGateway`. The built client is kept under the target dir, keyed by the bundle
//! (its server address left out) and the sources, and rebuilt only when they change.

mod common;
use common::stack::*;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The client: built by `tests/stacks/gsoap/build.sh`, rebuilt when the installed gSOAP
/// changes (its version is in the header).
fn compilato() -> Compilato<'static> {
    Compilato {
        stack: "gsoap",
        sources: &["build.sh", "typemap.dat", "client.cpp"],
        toolchain: std::fs::read("/usr/include/stdsoap2.h").unwrap_or_default(),
        env: &[],
        done: "client",
    }
}

fn client(bundle: &Path, base_url: &str) -> PathBuf {
    compilato().client(bundle, base_url).join("client")
}

#[tokio::test(flavor = "multi_thread")]
async fn gsoap_client_calls_every_operation() {
    let s = TestServer::start().await;
    let a = Ambiente::prepara(&s, "gsoap");
    let env: Value =
        serde_json::from_slice(&std::fs::read(&a.file).expect("ambiente.json")).expect("json");
    let base = testo(&env, "/base_url").to_owned();
    let exe = tokio::task::spawn_blocking({
        let (bundle, base) = (a.dir.join("contratti"), base.clone());
        move || client(&bundle, &base)
    })
    .await
    .expect("build task");

    let mut cmd = Command::new(exe);
    cmd.arg(&base).arg(testo(&env, "/ca"));
    for op in env["operations"].as_array().expect("operations") {
        let caller = testo(op, "/caller");
        let pem = testo(&env["callers"][caller], "/pem");
        cmd.arg(format!("{}={pem}", testo(op, "/name")));
    }
    let t = Instant::now();
    let v = a.esegui(cmd).await;
    eprintln!("gsoap: client ran in {:.1?}", t.elapsed());

    // What gSOAP's struct tm mapping puts on the wire for an xs:date: the date and "Z" (the 8
    // xs:date elements of the valid requests).
    let date = v["date_sul_filo"].as_object().expect("date_sul_filo");
    assert_eq!(
        testo(
            &v,
            "/date_sul_filo/VerificaAssistitoFuoriRegione.dataScadenzaTessera"
        ),
        "2028-01-31Z"
    );
    assert!(
        date.len() == 8
            && date
                .values()
                .all(|d| d.as_str().is_some_and(|d| d.ends_with('Z'))),
        "{v}"
    );
    // SOAP_XML_STRICT on input: crafted answers breaking a length, a range, an enumeration, a
    // required element, an unknown element, a date and maxOccurs are refused; patterns are only
    // checked through the fsvalidate hook the client installs.
    let auto = &v["validazione"]["autoverifica"];
    for (caso, errore) in [
        ("conforme", "SOAP_OK"),
        ("conforme_lista", "SOAP_OK"),
        ("lunghezza", "SOAP_LENGTH"),
        ("pattern", "SOAP_PATTERN"),
        ("enumerazione", "SOAP_TYPE"),
        ("obbligatorio_mancante", "SOAP_OCCURS"),
        ("elemento_sconosciuto", "SOAP_TAG_MISMATCH"),
        ("intervallo", "SOAP_LENGTH"),
        ("data", "SOAP_TYPE"),
        ("data_con_zona", "SOAP_OK"),
        ("occorrenze_massime", "SOAP_OCCURS"),
    ] {
        assert_eq!(
            auto[caso].as_str(),
            Some(errore),
            "strict check {caso}: {v}"
        );
    }
    assert!(
        v["validazione"]["pattern_verificati"]
            .as_i64()
            .is_some_and(|n| n > 0),
        "{v}"
    );
    assert_eq!(
        v["validazione"]["pattern_falliti"].as_array().map(Vec::len),
        Some(0),
        "the server's answers break no pattern: {v}"
    );

    verifica(&s, "gsoap", &v);

    // The typed answers, as gSOAP read them.
    assert_eq!(
        testo(&v, "/valid/VerificaAssistitoFuoriRegione/regioneAssistenza"),
        "120"
    );
    assert_eq!(
        testo(
            &v,
            "/valid/VerificaAssistitoFuoriRegione/identificativoCluster"
        ),
        "SANITARI"
    );
    let lista = v["valid"]["VerificaSomministrazioni"]["listaSomministrazioni"]
        .as_array()
        .expect("listaSomministrazioni");
    assert!(
        lista
            .iter()
            .any(|x| x["dataSomministrazione"] == "2026-01-10"
                && x["numeroDose"] == 1
                && x["codiceAIC"] == "049269018"),
        "{v}"
    );
    for (op, _, _) in OPERAZIONI {
        assert_eq!(
            testo(&v, &format!("/valid/{op}/identificativoTransazione")).len(),
            36
        );
        assert_eq!(
            testo(&v, &format!("/faults/{op}/identificativoTransazione")).len(),
            36
        );
    }
    s.stop().await;
}
