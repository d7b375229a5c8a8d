//! Tests of the CNS certificate checks (`cns`) with certificates of the demo CNS CA (`cns_ca`).

use super::ca::{self, Profile};
use super::*;
use crate::domain::CodiceFiscale;
use chrono::{Duration, Utc};
use openssl::x509::X509;
use std::path::{Path, PathBuf};

fn tmp(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "tsgate-cns-{tag}-{}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A valid codice fiscale from its first 15 characters.
fn cf(first15: &str) -> CodiceFiscale {
    let cc = CodiceFiscale::check_char(first15.as_bytes()) as char;
    CodiceFiscale::parse(&format!("{first15}{cc}")).unwrap()
}

fn load(path: &Path) -> X509 {
    X509::from_pem(&std::fs::read(path).unwrap()).unwrap()
}

struct Setup {
    dir: PathBuf,
    ca: CnsCa,
    trusted: TrustedCnsCas,
}

fn setup(tag: &str) -> Setup {
    let dir = tmp(tag);
    let ca = CnsCa::open_or_create(&CnsCa::dir_in(&dir)).unwrap();
    let trusted = TrustedCnsCas::load(&ca.ca_pem_path()).unwrap();
    Setup { dir, ca, trusted }
}

impl Setup {
    fn issue(&self, name: &str, spec: &Emissione) -> X509 {
        load(&self.ca.issue_with(name, spec).unwrap().cert_path)
    }

    fn check(&self, leaf: &X509) -> Result<CertificatoCns, ErroreCertificato> {
        verifica(&self.trusted, leaf, &[], Utc::now())
    }
}

/// The error of a refused certificate, after checking its class and code.
fn refused(
    r: Result<CertificatoCns, ErroreCertificato>,
    classe: ClasseErrore,
    codice: &str,
) -> ErroreCertificato {
    let e = r.expect_err("the certificate should be refused");
    assert_eq!((e.classe(), e.codice()), (classe, codice), "{e:?}");
    e
}

#[test]
fn a_valid_cns_certificate_gives_its_codice_fiscale() {
    let s = setup("ok");
    let rossi = cf("PROVZA80A01H501");
    let issued =
        s.ca.issue("rossi", &rossi, 30, TipoCertificato::Cns)
            .unwrap();
    let leaf = load(&issued.cert_path);
    let c = s.check(&leaf).unwrap();
    assert_eq!(c.codice_fiscale, rossi);
    assert_eq!(c.tipo, TipoCertificato::Cns);
    assert_eq!(c.fingerprint, issued.fingerprint);
    assert_eq!(c.fingerprint, fingerprint_sha256(&leaf));
    assert_eq!(c.serial, issued.serial);
    assert_eq!(c.not_after, issued.not_after);
    assert!(c.not_before < Utc::now());
    assert!(
        c.issuer.ends_with(&format!("CN={CNS_CA_COMMON_NAME}")),
        "{}",
        c.issuer
    );
    assert!(c.subject.contains(&format!("CN={rossi}/")), "{}", c.subject);
    assert_ne!(s.ca.ca_cert().subject_name().to_der().unwrap(), {
        let pki = Pki::open_or_create(&s.dir.join("gw"), &[]).unwrap();
        pki.ca_cert().subject_name().to_der().unwrap()
    });
}

#[test]
fn a_cie_policy_is_accepted_as_cie() {
    let s = setup("cie");
    let bianchi = cf("BGNCHR09P59M700");
    let leaf = s.issue(
        "bianchi",
        &Emissione::new(&bianchi, TipoCertificato::Cie, 30),
    );
    let c = s.check(&leaf).unwrap();
    assert_eq!((c.codice_fiscale, c.tipo), (bianchi, TipoCertificato::Cie));
}

#[test]
fn expired_and_not_yet_valid_are_told_apart() {
    let s = setup("dates");
    let mut spec = Emissione::new(&cf("PROVZA80A01H501"), TipoCertificato::Cns, 30);
    spec.not_before = Utc::now() - Duration::days(400);
    spec.not_after = Utc::now() - Duration::days(2);
    let expired = s.issue("scaduto", &spec);
    let e = refused(s.check(&expired), ClasseErrore::Certificato, "CNS_SCADUTO");
    let day = crate::domain::tempo::data_roma(spec.not_after).format("%d/%m/%Y");
    assert_eq!(
        e.to_string(),
        format!("Certificato non valido: scaduto il {day}")
    );
    assert!(e.indicazioni().contains("regione"));

    spec.not_before = Utc::now() + Duration::days(2);
    spec.not_after = Utc::now() + Duration::days(30);
    let future = s.issue("futuro", &spec);
    refused(
        s.check(&future),
        ClasseErrore::Certificato,
        "CNS_NON_ANCORA_VALIDO",
    );
    // The same certificate is fine at a time inside its validity: `now` is what counts.
    let later = Utc::now() + Duration::days(3);
    assert!(verifica(&s.trusted, &future, &[], later).is_ok());
    let too_late = Utc::now() + Duration::days(31);
    refused(
        verifica(&s.trusted, &future, &[], too_late),
        ClasseErrore::Certificato,
        "CNS_SCADUTO",
    );
}

#[test]
fn a_certificate_of_the_gateway_ca_is_not_trusted_for_cns() {
    let s = setup("gateway");
    let pki = Pki::open_or_create(&s.dir.join("gw"), &[]).unwrap();
    let issued = pki
        .issue_cns_client("rossi", cf("PROVZA80A01H501").as_str(), "medici", 30)
        .unwrap();
    let e = refused(
        s.check(&load(&issued.cert_path)),
        ClasseErrore::Certificato,
        "CNS_CA_NON_AFFIDABILE",
    );
    assert_eq!(e.to_string(), "CA non valida o non affidabile");
}

#[test]
fn a_self_signed_certificate_is_not_trusted() {
    let s = setup("self");
    let spec = Emissione::new(&cf("PROVZA80A01H501"), TipoCertificato::Cns, 30);
    let (leaf, _) = s.ca.sign(&spec, None).unwrap();
    assert_eq!(
        leaf.issuer_name().to_der().unwrap(),
        leaf.subject_name().to_der().unwrap()
    );
    refused(
        s.check(&leaf),
        ClasseErrore::Certificato,
        "CNS_CA_NON_AFFIDABILE",
    );
    // Sending itself as the chain changes nothing.
    refused(
        verifica(&s.trusted, &leaf, std::slice::from_ref(&leaf), Utc::now()),
        ClasseErrore::Certificato,
        "CNS_CA_NON_AFFIDABILE",
    );
}

#[test]
fn without_the_cns_or_cie_policy_it_is_not_an_authentication_certificate() {
    let s = setup("policy");
    let mut spec = Emissione::new(&cf("PROVZA80A01H501"), TipoCertificato::Cns, 30);
    spec.tipo = None;
    let leaf = s.issue("senza-policy", &spec);
    assert!(cns::policy_oids(&leaf.to_der().unwrap())
        .unwrap()
        .is_empty());
    let e = refused(
        s.check(&leaf),
        ClasseErrore::Certificato,
        "CNS_NON_AUTENTICAZIONE",
    );
    assert_eq!(
        e.to_string(),
        "Il certificato non è un certificato di autenticazione CNS"
    );
}

#[test]
fn a_server_certificate_of_the_cns_ca_is_not_for_client_authentication() {
    let s = setup("server");
    let cn = ca::cns_common_name(cf("PROVZA80A01H501").as_str()).unwrap();
    let now = Utc::now().timestamp();
    let leaf = ca::sign_between(
        &ca::subject(&cn, "x").unwrap(),
        &ca::new_key().unwrap(),
        &ca::random_serial().unwrap(),
        (now - 60, now + 86_400),
        Profile::Server(&["localhost"]),
        s.ca.signer(),
    )
    .unwrap();
    refused(
        s.check(&leaf),
        ClasseErrore::Certificato,
        "CNS_NON_AUTENTICAZIONE",
    );
}

#[test]
fn a_wrong_check_character_in_the_cn_is_refused() {
    let s = setup("cf");
    let good = cf("PROVZA80A01H501");
    let last = good.as_str().as_bytes()[15];
    let wrong = if last == b'A' { 'B' } else { 'A' };
    let mut spec = Emissione::new(&good, TipoCertificato::Cns, 30);
    spec.codice_fiscale = format!("{}{wrong}", &good.as_str()[..15]);
    let leaf = s.issue("cf-errato", &spec);
    let e = refused(
        s.check(&leaf),
        ClasseErrore::Certificato,
        "CNS_CF_NON_VALIDO",
    );
    assert!(
        matches!(&e, ErroreCertificato::CodiceFiscaleNonValido { cn } if cn.starts_with(&spec.codice_fiscale))
    );
}

#[test]
fn a_chain_through_an_intermediate_ca_is_accepted() {
    let s = setup("chain");
    let now = Utc::now().timestamp();
    let int_key = ca::new_key().unwrap();
    let intermediate = ca::sign_between(
        &ca::subject("tsgate CA CNS intermedia", "tsgate").unwrap(),
        &int_key,
        &ca::random_serial().unwrap(),
        (now - 60, now + 365 * 86_400),
        Profile::Ca,
        s.ca.signer(),
    )
    .unwrap();
    let rossi = cf("PROVZA80A01H501");
    let spec = Emissione::new(&rossi, TipoCertificato::Cns, 30);
    let (leaf, _) = s.ca.sign(&spec, Some((&intermediate, &int_key))).unwrap();
    let c = verifica(
        &s.trusted,
        &leaf,
        std::slice::from_ref(&intermediate),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(c.codice_fiscale, rossi);
    assert!(c.issuer.ends_with("CN=tsgate CA CNS intermedia"));
    // Without the intermediate the chain does not reach the bundle.
    refused(
        s.check(&leaf),
        ClasseErrore::Certificato,
        "CNS_CA_NON_AFFIDABILE",
    );
}

#[test]
fn a_crl_beside_the_bundle_is_checked() {
    let s = setup("crl");
    let revoked =
        s.ca.issue("revocato", &cf("PROVZA80A01H501"), 30, TipoCertificato::Cns)
            .unwrap();
    let good = s.issue(
        "buono",
        &Emissione::new(&cf("BGNCHR09P59M700"), TipoCertificato::Cns, 30),
    );
    let key = openssl::pkey::PKey::private_key_from_pem(
        &std::fs::read(s.ca.dir().join("ca.key")).unwrap(),
    )
    .unwrap();
    let write_crl = |issued_at, days| {
        let crl = ca::sign_crl(
            s.ca.ca_cert(),
            &key,
            openssl::bn::BigNum::from_u32(1).unwrap(),
            &[(revoked.serial.clone(), Utc::now())],
            issued_at,
            days,
        )
        .unwrap();
        std::fs::write(s.ca.dir().join(CNS_CRL_FILE), crl.to_pem().unwrap()).unwrap();
        TrustedCnsCas::load(&s.ca.ca_pem_path()).unwrap()
    };
    let trusted = write_crl(Utc::now() - Duration::minutes(1), 7);
    let e = verifica(&trusted, &load(&revoked.cert_path), &[], Utc::now()).unwrap_err();
    assert_eq!(
        (e.classe(), e.codice()),
        (ClasseErrore::Certificato, "CNS_REVOCATO")
    );
    assert!(verifica(&trusted, &good, &[], Utc::now()).is_ok());
    // An out-of-date CRL means revocation cannot be checked: our side, not the card's.
    let stale = write_crl(Utc::now() - Duration::days(30), 7);
    let e = verifica(&stale, &good, &[], Utc::now()).unwrap_err();
    assert_eq!(
        (e.classe(), e.codice()),
        (ClasseErrore::SistemiSicurezza, "CNS_SISTEMI_SICUREZZA")
    );
    assert!(e.indicazioni().contains(NUMERO_VERDE));
    // The bundle without a CRL file does not check revocation.
    std::fs::remove_file(s.ca.dir().join(CNS_CRL_FILE)).unwrap();
    assert!(s.check(&load(&revoked.cert_path)).is_ok());
}

#[test]
fn bundle_errors_name_the_file() {
    let s = setup("bundle");
    let missing = s.dir.join("nessuno.pem");
    let e = TrustedCnsCas::load(&missing).unwrap_err();
    assert!(matches!(e, ErroreBundleCns::Lettura { .. }));
    assert!(e.to_string().contains("nessuno.pem"), "{e}");

    let empty = s.dir.join("vuoto.pem");
    std::fs::write(&empty, "").unwrap();
    let e = TrustedCnsCas::load(&empty).unwrap_err();
    assert!(e.to_string().contains("vuoto.pem"), "{e}");

    let issued =
        s.ca.issue("foglia", &cf("PROVZA80A01H501"), 30, TipoCertificato::Cns)
            .unwrap();
    let e = TrustedCnsCas::load(&issued.cert_path).unwrap_err();
    assert!(matches!(e, ErroreBundleCns::NonCa { .. }), "{e}");
    assert!(e.to_string().contains("foglia.pem"), "{e}");

    // Two CAs in one bundle: certificates of either are accepted.
    let pki = Pki::open_or_create(&s.dir.join("gw"), &[]).unwrap();
    let both = s.dir.join("due.pem");
    let mut pem = std::fs::read(s.ca.ca_pem_path()).unwrap();
    pem.extend(std::fs::read(pki.ca_pem_path()).unwrap());
    std::fs::write(&both, pem).unwrap();
    let trusted = TrustedCnsCas::load(&both).unwrap();
    assert_eq!(trusted.certificates().len(), 2);
    let from_gateway = pki
        .issue_cns_client("rossi", cf("PROVZA80A01H501").as_str(), "medici", 30)
        .unwrap();
    assert!(verifica(&trusted, &load(&from_gateway.cert_path), &[], Utc::now()).is_ok());
    assert!(verifica(&trusted, &load(&issued.cert_path), &[], Utc::now()).is_ok());
}

#[test]
fn the_cns_ca_is_reused_and_writes_a_pkcs12() {
    let s = setup("reuse");
    let again = CnsCa::open_or_create(s.ca.dir()).unwrap();
    assert_eq!(
        again.ca_cert().to_der().unwrap(),
        s.ca.ca_cert().to_der().unwrap()
    );
    let key_mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(key_mode(&s.ca.dir().join("ca.key")), 0o600);
    let issued =
        s.ca.issue("rossi", &cf("PROVZA80A01H501"), 30, TipoCertificato::Cns)
            .unwrap();
    assert_eq!(key_mode(&issued.key_path), 0o600);
    assert_eq!(s.ca.find_valid("rossi", 1).unwrap(), Some(issued.clone()));
    assert_eq!(s.ca.find_valid("rossi", 60).unwrap(), None);
    assert_eq!(s.ca.find_valid("bianchi", 1).unwrap(), None);
    let p12 = s.ca.write_pkcs12("rossi", "demo").unwrap();
    assert_eq!(key_mode(&p12), 0o600);
    let parsed = openssl::pkcs12::Pkcs12::from_der(&std::fs::read(&p12).unwrap())
        .unwrap()
        .parse2("demo")
        .unwrap();
    assert_eq!(
        fingerprint_sha256(&parsed.cert.unwrap()),
        issued.fingerprint
    );
    assert!(parsed.pkey.is_some());
    let bad = openssl::pkcs12::Pkcs12::from_der(&std::fs::read(&p12).unwrap())
        .unwrap()
        .parse2("sbagliata");
    assert!(bad.is_err());
}
