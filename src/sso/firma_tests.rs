use super::*;

fn chiave() -> ChiaveFirma {
    let (pkey, x) = crate::sso::autofirmato("test", 2048, 1).unwrap();
    ChiaveFirma::da_pem(
        &pkey.private_key_to_pem_pkcs8().unwrap(),
        &x.to_pem().unwrap(),
    )
    .unwrap()
}

fn documento(c: &ChiaveFirma) -> String {
    format!(
        "<r:Radice xmlns:r=\"urn:t\" ID=\"_a1\"><r:Issuer>x</r:Issuer>{}\
         <r:Interno ID=\"_b2\"><r:Issuer>y</r:Issuer>{}<r:Valore>42</r:Valore></r:Interno></r:Radice>",
        modello("_a1", c),
        modello("_b2", c)
    )
}

fn pem(c: &ChiaveFirma) -> Vec<String> {
    vec![String::from_utf8(c.certificato_pem.clone()).unwrap()]
}

#[test]
fn signs_inner_and_outer_and_verifies() {
    let c = chiave();
    let firmato = firma(&documento(&c), &c).unwrap();
    assert!(
        !firmato.contains("<ds:DigestValue></ds:DigestValue>"),
        "{firmato}"
    );
    assert_eq!(verifica(firmato.as_bytes(), &pem(&c)).unwrap().id, "_a1");
}

#[test]
fn a_changed_value_or_another_key_does_not_verify() {
    let c = chiave();
    let firmato = firma(&documento(&c), &c).unwrap();
    let alterato = firmato.replace(">42<", ">43<");
    assert!(matches!(
        verifica(alterato.as_bytes(), &pem(&c)),
        Err(ErroreFirma::NonValida)
    ));
    let altra = chiave();
    assert!(matches!(
        verifica(firmato.as_bytes(), &pem(&altra)),
        Err(ErroreFirma::NonValida)
    ));
    // Any of the registered certificates (a rollover) will do.
    let mut due = pem(&altra);
    due.extend(pem(&c));
    assert!(verifica(firmato.as_bytes(), &due).is_ok());
}

#[test]
fn a_reference_to_another_element_or_sha1_is_refused() {
    let c = chiave();
    let firmato = firma(&documento(&c), &c).unwrap();
    let altrove = firmato.replacen("URI=\"#_a1\"", "URI=\"#_b2\"", 1);
    assert!(matches!(
        verifica(altrove.as_bytes(), &pem(&c)),
        Err(ErroreFirma::NonAmmessa(_))
    ));
    let sha1 = firmato.replacen(SHA256, "http://www.w3.org/2000/09/xmldsig#sha1", 1);
    assert!(matches!(
        verifica(sha1.as_bytes(), &pem(&c)),
        Err(ErroreFirma::NonAmmessa(_))
    ));
    let doppio = firmato.replacen("ID=\"_b2\"", "ID=\"_a1\"", 1);
    assert!(verifica(doppio.as_bytes(), &pem(&c)).is_err());
    let senza = documento(&c).replacen(&modello("_a1", &c), "", 1);
    assert!(matches!(
        verifica(senza.as_bytes(), &pem(&c)),
        Err(ErroreFirma::Assente)
    ));
}

/// The independent verifier: the xmlsec1 program (Debian `xmlsec1`), when installed.
#[test]
fn xmlsec1_program_verifies_the_signature() {
    let Ok(out) = std::process::Command::new("xmlsec1")
        .arg("--version")
        .output()
    else {
        eprintln!("xmlsec1 not installed: skipped");
        return;
    };
    assert!(out.status.success());
    let c = chiave();
    let firmato = firma(&documento(&c), &c).unwrap();
    let dir = std::env::temp_dir().join(format!("tsgate-firma-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (doc, cert) = (dir.join("doc.xml"), dir.join("cert.pem"));
    std::fs::write(&doc, &firmato).unwrap();
    std::fs::write(&cert, &c.certificato_pem).unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new("xmlsec1")
            .args([
                "--verify",
                "--id-attr:ID",
                "Radice",
                "--id-attr:ID",
                "Interno",
            ])
            .arg("--pubkey-cert-pem")
            .arg(&cert)
            .arg(file)
            .output()
            .unwrap()
    };
    let ok = run(&doc);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::write(&doc, firmato.replace(">42<", ">43<")).unwrap();
    assert!(!run(&doc).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
