use super::*;
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Crl, X509PurposeId, X509StoreContext, X509};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn tmp(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!(
        "tsgate-pki-{tag}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cert(path: &Path) -> X509 {
    X509::from_pem(&std::fs::read(path).unwrap()).unwrap()
}

fn crl(pki: &Pki) -> X509Crl {
    X509Crl::from_pem(&std::fs::read(pki.crl_pem_path()).unwrap()).unwrap()
}

/// Verifies `leaf` against the PKI's CA file and CRL file, as the TLS layer does.
fn verify(pki: &Pki, leaf: &Path, purpose: X509PurposeId) -> Result<(), String> {
    let leaf = cert(leaf);
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(cert(&pki.ca_pem_path())).unwrap();
    let lookup = store.add_lookup(X509Lookup::file()).unwrap();
    lookup
        .load_crl_file(pki.crl_pem_path(), openssl::ssl::SslFiletype::PEM)
        .unwrap();
    store.set_flags(X509VerifyFlags::CRL_CHECK).unwrap();
    store.set_purpose(purpose).unwrap();
    let store = store.build();
    let mut ctx = X509StoreContext::new().unwrap();
    ctx.init(&store, &leaf, &Stack::new().unwrap(), |c| {
        Ok(if c.verify_cert()? {
            Ok(())
        } else {
            Err(c.error().error_string().to_owned())
        })
    })
    .unwrap()
}

fn client_ok(pki: &Pki, c: &IssuedCert) -> Result<(), String> {
    verify(pki, &c.cert_path, X509PurposeId::SSL_CLIENT)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn text(c: &X509) -> String {
    String::from_utf8(c.to_text().unwrap()).unwrap()
}

fn no_temporaries(dir: &Path) {
    for d in [dir.to_owned(), dir.join("clients")] {
        for e in std::fs::read_dir(&d).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!n.ends_with(".tmp"), "left behind: {n}");
        }
    }
}

#[test]
fn created_once_then_reused() {
    let dir = tmp("create");
    let pki = Pki::open_or_create(&dir, &["localhost", "127.0.0.1", "::1"]).unwrap();
    let files = ["ca.key", "ca.pem", "server.key", "server.pem", "crl.pem"];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let again = Pki::open_or_create(&dir, &["localhost", "127.0.0.1", "::1"]).unwrap();
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    assert_eq!(before, after, "a second open_or_create rewrote files");
    assert_eq!(
        again.ca_cert().to_der().unwrap(),
        pki.ca_cert().to_der().unwrap()
    );
    Pki::open(&dir).unwrap();

    let ca = cert(&pki.ca_pem_path());
    let cn = ca
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .unwrap();
    assert_eq!(cn.data().to_string().unwrap(), CA_COMMON_NAME);
    let t = text(&ca);
    assert!(
        t.contains("X509v3 Basic Constraints: critical\n                CA:TRUE"),
        "{t}"
    );
    assert!(
        t.contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
        "{t}"
    );
    assert!(t.contains("X509v3 Subject Key Identifier"), "{t}");
    assert!(t.contains("ASN1 OID: prime256v1"), "{t}");

    verify(&pki, &pki.server_cert_path(), X509PurposeId::SSL_SERVER).unwrap();
    let t = text(&cert(&pki.server_cert_path()));
    assert!(
        t.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
        "{t}"
    );
    assert!(t.contains("TLS Web Server Authentication"), "{t}");
    assert_eq!(mode(&dir.join("ca.key")), 0o600);
    assert_eq!(mode(&pki.server_key_path()), 0o600);
    assert_eq!(mode(&pki.ca_pem_path()), 0o644);

    let empty = crl(&pki);
    assert!(empty.get_revoked().is_none());
    assert!(empty.verify(&pki.ca_cert().public_key().unwrap()).unwrap());
    assert!(Pki::open(&tmp("empty")).is_err());
    no_temporaries(&dir);
}

#[test]
fn issue_verify_revoke() {
    let dir = tmp("revoke");
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    let a = pki.issue_client("regione-a", "Regione A", 30).unwrap();
    let b = pki
        .issue_client("regione-b", "Regione B", CERT_DAYS)
        .unwrap();
    assert_eq!(a.serial.len(), 32);
    assert_ne!(a.serial, b.serial);
    assert_eq!(mode(&a.key_path), 0o600);
    assert_eq!(mode(&a.cert_path), 0o644);
    client_ok(&pki, &a).unwrap();
    client_ok(&pki, &b).unwrap();
    // A client certificate is no server certificate.
    assert!(verify(&pki, &a.cert_path, X509PurposeId::SSL_SERVER).is_err());
    let t = text(&cert(&a.cert_path));
    assert!(t.contains("TLS Web Client Authentication"), "{t}");
    assert!(t.contains("X509v3 Authority Key Identifier"), "{t}");
    assert!(t.contains("Digital Signature"), "{t}");
    assert!(
        t.contains("Subject: C=IT, O=Regione A, CN=regione-a"),
        "{t}"
    );
    let days = (a.not_after - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");
    let number_before = super::ca::crl_number(&crl(&pki)).unwrap();

    let revoked = pki.revoke(RevokeTarget::Name("regione-a")).unwrap();
    assert!(revoked.revoked && revoked.revoked_at.is_some());
    assert_eq!(client_ok(&pki, &a).unwrap_err(), "certificate revoked");
    client_ok(&pki, &b).unwrap();
    let number_after = super::ca::crl_number(&crl(&pki)).unwrap();
    assert!(number_after > number_before);

    // Again, by serial typed with colons in lower case: nothing changes but the CRL.
    let colons: Vec<String> = a
        .serial
        .to_lowercase()
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8(p.to_vec()).unwrap())
        .collect();
    let again = pki.revoke_serial(&colons.join(":")).unwrap();
    assert_eq!(again, revoked);
    assert!(pki.revoke_name("nessuno").is_err());
    assert!(pki.revoke_serial("zz").is_err());

    let reopened = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    let listed = reopened.list().unwrap();
    assert_eq!(listed, vec![revoked.clone(), b.clone()]);
    assert_eq!(reopened.find_client("regione-a").unwrap(), Some(revoked));
    assert_eq!(client_ok(&reopened, &a).unwrap_err(), "certificate revoked");
    no_temporaries(&dir);
}

#[test]
fn fingerprint_is_the_lowercase_der_sha256() {
    let dir = tmp("fp");
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    let c = pki.issue_client("x", "X", 1).unwrap();
    let der = cert(&c.cert_path).to_der().unwrap();
    // What `openssl x509 -noout -fingerprint -sha256` prints after the `=`.
    let openssl_style: Vec<String> =
        openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &der)
            .unwrap()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
    let expected = openssl_style.join(":").to_lowercase().replace(':', "");
    assert_eq!(c.fingerprint, expected);
    assert_eq!(fingerprint_sha256(&cert(&c.cert_path)), expected);
    assert_eq!(expected.len(), 64);
}

#[test]
fn names_and_reissue() {
    let dir = tmp("names");
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    let long = "x".repeat(65);
    for bad in [
        "",
        "../x",
        "x/y",
        ".x",
        "-x",
        "Maiuscolo",
        "a b",
        "é",
        long.as_str(),
    ] {
        assert!(pki.issue_client(bad, "o", 1).is_err(), "{bad}");
    }
    pki.issue_client(&"x".repeat(64), "o", 1).unwrap();
    pki.issue_client("0a._-z", "o", 1).unwrap();
    assert!(pki.issue_client("uno", "o", 0).is_err());

    let first = pki.issue_client("uno", "o", 1).unwrap();
    let err = pki.issue_client("uno", "o", 1).unwrap_err().to_string();
    assert!(err.contains("already issued"), "{err}");

    // Reissue: the old one revoked, the files now hold the new one.
    let second = pki.reissue_client("uno", "o", 1).unwrap();
    assert_ne!(first.serial, second.serial);
    client_ok(&pki, &second).unwrap();
    let old = crl(&pki);
    let serial = BigNum::from_hex_str(&first.serial)
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    assert!(matches!(
        old.get_by_serial(&serial),
        openssl::x509::CrlStatus::Revoked(_)
    ));
    assert_eq!(pki.find_client("uno").unwrap(), Some(second.clone()));

    // A revoked name may be issued again without reissue.
    pki.revoke_name("uno").unwrap();
    let third = pki.issue_client("uno", "o", 1).unwrap();
    client_ok(&pki, &third).unwrap();
    let listed: Vec<(String, bool)> = pki
        .list()
        .unwrap()
        .into_iter()
        .filter(|c| c.name == "uno")
        .map(|c| (c.serial, c.revoked))
        .collect();
    assert_eq!(
        listed,
        vec![
            (first.serial, true),
            (second.serial, true),
            (third.serial, false)
        ]
    );
    // Validity is cut to the CA's.
    let long_lived = pki.issue_client("lunga", "o", 100_000).unwrap();
    assert!(long_lived.not_after <= super::ca::to_utc(pki.ca_cert().not_after()).unwrap());
}

use openssl::bn::BigNum;

#[test]
fn foreign_ca_does_not_verify() {
    let ours = Pki::open_or_create(&tmp("ours"), &["localhost"]).unwrap();
    let dir = tmp("foreign");
    let foreign = issue_foreign_client(&dir, "intruso").unwrap();
    assert_eq!(mode(&foreign.key_path), 0o600);
    let err = verify(&ours, &foreign.cert_path, X509PurposeId::SSL_CLIENT).unwrap_err();
    assert!(err.contains("local issuer"), "{err}");
    assert!(dir.join("foreign-ca.pem").exists());
}

#[test]
fn crl_is_repaired_and_refreshed() {
    let dir = tmp("crl");
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    let a = pki.issue_client("a", "o", 10).unwrap();
    assert!(!pki.refresh_crl_if_due().unwrap());

    // A revocation recorded in the index whose CRL was never written (a crash between them).
    let index = dir.join("index.tsv");
    let text = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, text.replace("\t-\n", "\trevocato\n")).unwrap();
    client_ok(&pki, &a).unwrap();
    assert!(pki.refresh_crl_if_due().unwrap());
    assert_eq!(client_ok(&pki, &a).unwrap_err(), "certificate revoked");
    let listed = pki.list().unwrap();
    assert!(listed[0].revoked && listed[0].revoked_at.is_none());

    // The date of an older index's revocation carries over from CRL to CRL.
    let date = |p: &Pki| {
        let c = crl(p);
        let r = c.get_revoked().unwrap();
        super::ca::to_utc(r.get(0).unwrap().revocation_date()).unwrap()
    };
    let first = date(&pki);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    pki.refresh_crl().unwrap();
    assert_eq!(date(&pki), first);

    // Missing CRL: made again on open.
    std::fs::remove_file(pki.crl_pem_path()).unwrap();
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    assert_eq!(client_ok(&pki, &a).unwrap_err(), "certificate revoked");
    let next = crl(&pki)
        .next_update()
        .map(|t| super::ca::to_utc(t).unwrap())
        .unwrap();
    let days = (next - chrono::Utc::now()).num_hours();
    assert!((i64::from(CRL_DAYS) * 24 - 1..=i64::from(CRL_DAYS) * 24).contains(&days));
}

#[test]
fn missing_or_mismatched_files() {
    let dir = tmp("files");
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    pki.issue_client("a", "o", 1).unwrap();
    // A server key that does not match its certificate: both made again.
    std::fs::write(
        pki.server_key_path(),
        super::ca::new_key()
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap(),
    )
    .unwrap();
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    let c = cert(&pki.server_cert_path());
    let k = std::fs::read(pki.server_key_path()).unwrap();
    let k = openssl::pkey::PKey::private_key_from_pem(&k).unwrap();
    assert!(c.public_key().unwrap().public_eq(&k));
    // The CA is never replaced once it issued certificates.
    std::fs::remove_file(dir.join("ca.pem")).unwrap();
    assert!(Pki::open_or_create(&dir, &["localhost"]).is_err());
    assert!(Pki::open(&dir).is_err());
    assert!(Pki::open_or_create(&tmp("bad"), &["bad name,DNS:x"]).is_err());
}

#[test]
fn cns_style_certificate() {
    let dir = tmp("cns");
    let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
    assert!(pki
        .issue_cns_client("op", "rssmra80a01h501u", "ASL", 30)
        .is_err());
    let c = pki
        .issue_cns_client("operatore-1", "RSSMRA80A01H501U", "ASL Roma 1", 30)
        .unwrap();
    client_ok(&pki, &c).unwrap();
    let x = cert(&c.cert_path);
    let cn = x
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .unwrap();
    let cn = cn.data().to_string().unwrap();
    assert!(cn.starts_with("RSSMRA80A01H501U/"), "{cn}");
    assert_eq!(cn.len(), 16 + 1 + 16 + 1 + 28, "{cn}");
    let t = text(&x);
    assert!(t.contains(&format!("Policy: {CNS_POLICY_OID}")), "{t}");
}
