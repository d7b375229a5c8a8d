//! Interoperability: the independent Python client zeep reads the served WSDL over mutual TLS,
//! calls the service, reads every output field, and validates every response against the XSD.
//! Needs the venv made by `scripts/test` (or TSGATE_TEST_PYTHON pointing at a python with zeep).

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TSGATE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

#[tokio::test(flavor = "multi_thread")]
async fn zeep_consumes_the_wsdl_and_reads_every_field() {
    let python = python();
    assert!(
        python.exists(),
        "{} not found: run scripts/test (it creates the venv with zeep) or set TSGATE_TEST_PYTHON",
        python.display()
    );
    let s = TestServer::start().await;
    let (cert, key) = s.pki.client_paths("regione-lombardia");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/zeep_vafr.py");
    let base = s.running().base_url.clone();
    let ca = s.pki.ca_pem_path();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base)
            .arg(ca)
            .arg(cert)
            .arg(key)
            .output()
    })
    .await
    .unwrap()
    .expect("run zeep");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "zeep failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let field = |case: &str, name: &str| -> String {
        let key = format!("\"{name}\": ");
        let start = stdout.find(&format!("\"{case}\": {{")).expect(case);
        let section = &stdout[start..];
        let section = &section[..section.find('}').unwrap()];
        let v = &section[section
            .find(&key)
            .unwrap_or_else(|| panic!("{case}.{name} in {stdout}"))
            + key.len()..];
        v.split([',', '}'])
            .next()
            .unwrap()
            .trim()
            .trim_matches('"')
            .to_owned()
    };
    assert_eq!(field("00", "esito"), "00");
    assert_eq!(field("00", "regioneAssistenza"), "120");
    assert_eq!(field("00", "regioneResidenza"), "030");
    assert_eq!(field("00", "identificativoCluster"), "SANITARI");
    assert!(field("00", "descrizioneEsito").contains("fuori regione"));
    assert_eq!(field("00", "identificativoTransazione").len(), 36);
    assert_eq!(field("01", "esito"), "01");
    assert_eq!(field("01", "regioneAssistenza"), "null");
    assert_eq!(field("02", "esito"), "02");
    assert!(stdout.contains("\"codice\": \"TSG-0303\""), "{stdout}");
    assert!(stdout.contains("Client"), "{stdout}");
    // zeep's calls were logged like any other.
    assert_eq!(access_log(&s.db).len(), 4);
    s.stop().await;
}
