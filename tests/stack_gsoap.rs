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

fn sorgenti() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/stacks/gsoap")
}

/// The cache key: the bundle's files (the server's address, which changes every run, replaced),
/// the client's sources and the installed gSOAP.
fn chiave(bundle: &Path, base_url: &str) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bundle)
        .expect("bundle")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut h = openssl::sha::Sha256::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("bundle file");
        h.update(f.file_name().expect("name").as_encoded_bytes());
        h.update(text.replace(base_url, "BASE_URL").as_bytes());
    }
    for name in ["build.sh", "typemap.dat", "client.cpp"] {
        h.update(name.as_bytes());
        h.update(&std::fs::read(sorgenti().join(name)).expect("gsoap source"));
    }
    // The installed gSOAP (its version is in the header): an upgrade rebuilds.
    h.update(&std::fs::read("/usr/include/stdsoap2.h").unwrap_or_default());
    h.finish()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The client built from this bundle: from the cache, or built now (into a temporary directory
/// renamed into place, so a concurrent run never sees half a build).
fn client(bundle: &Path, base_url: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gsoap");
    let dir = root.join(chiave(bundle, base_url));
    let exe = dir.join("client");
    if exe.exists() {
        eprintln!("gsoap: cached client {}", exe.display());
        return exe;
    }
    std::fs::create_dir_all(&root).expect("gsoap cache dir");
    let tmp = root.join(format!(
        "{}.tmp-{}",
        dir.file_name().expect("key").to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let t = Instant::now();
    let out = Command::new("bash")
        .arg(sorgenti().join("build.sh"))
        .arg(&tmp)
        .arg(bundle)
        .output()
        .expect("run build.sh");
    assert!(
        out.status.success(),
        "gSOAP build failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("gsoap: client built in {:.1?}", t.elapsed());
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another run put the same build in place first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    assert!(exe.exists(), "{} missing after the build", exe.display());
    exe
}

fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{path} in {v}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn gsoap_client_calls_every_operation() {
    let s = TestServer::start().await;
    let a = Ambiente::prepara(&s, "gsoap");
    let env: Value =
        serde_json::from_slice(&std::fs::read(&a.file).expect("ambiente.json")).expect("json");
    let base = text(&env, "/base_url").to_owned();
    let exe = tokio::task::spawn_blocking({
        let (bundle, base) = (a.dir.join("contratti"), base.clone());
        move || client(&bundle, &base)
    })
    .await
    .expect("build task");

    let mut cmd = Command::new(exe);
    cmd.arg(&base).arg(text(&env, "/ca"));
    for op in env["operations"].as_array().expect("operations") {
        let caller = text(op, "/caller");
        let pem = text(&env["callers"][caller], "/pem");
        cmd.arg(format!("{}={pem}", text(op, "/name")));
    }
    let t = Instant::now();
    let v = a.esegui(cmd).await;
    eprintln!("gsoap: client ran in {:.1?}", t.elapsed());

    // What gSOAP's struct tm mapping puts on the wire for an xs:date: the date and "Z" (the 8
    // xs:date elements of the valid requests).
    let date = v["date_sul_filo"].as_object().expect("date_sul_filo");
    assert_eq!(
        text(
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
        text(&v, "/valid/VerificaAssistitoFuoriRegione/regioneAssistenza"),
        "120"
    );
    assert_eq!(
        text(
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
            text(&v, &format!("/valid/{op}/identificativoTransazione")).len(),
            36
        );
        assert_eq!(
            text(&v, &format!("/faults/{op}/identificativoTransazione")).len(),
            36
        );
    }
    s.stop().await;
}
