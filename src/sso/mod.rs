//! Operator SSO (decree annex A §2): tsgate as a SAML 2.0 identity provider for the regional
//! vaccination platforms and the Piattaforma Nazionale, following the SPID technical rules.
//! Messages, signatures, metadata and the enrolment of platforms live here; the pages are in
//! `portal::sso`.

pub mod firma;
pub mod metadata;
pub mod metadata_sp;
pub mod piattaforme;
pub mod repo;
pub mod richiesta;
pub mod risposta;
pub mod scarica;

use crate::config::SsoConfig;
use anyhow::Context;

/// SAML namespaces.
pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// The SPID authentication levels as `AuthnContextClassRef`.
pub fn classe_livello(livello: i16) -> &'static str {
    match livello {
        3 => "https://www.spid.gov.it/SpidL3",
        2 => "https://www.spid.gov.it/SpidL2",
        _ => "https://www.spid.gov.it/SpidL1",
    }
}

/// The path of the SSO endpoint (both bindings) and of the metadata, under `sso.base_url`.
pub const PERCORSO_SSO: &str = "/sso/login";
pub const PERCORSO_METADATA: &str = "/sso/metadata";

/// The identity provider: its settings and signing material, loaded at start.
#[derive(Debug, Clone)]
pub struct Idp {
    pub cfg: SsoConfig,
    pub entity_id: String,
    pub chiave: firma::ChiaveFirma,
    /// The next certificate (DER in base64), published for a key rollover.
    pub successivo: Option<String>,
}

impl Idp {
    /// Reads the key and certificates `cfg` names; a missing or unusable one stops the start.
    pub fn carica(cfg: &SsoConfig) -> anyhow::Result<Idp> {
        let leggi = |nome: &str, p: &std::path::Path| {
            std::fs::read(p).with_context(|| format!("sso.{nome}: cannot read {}", p.display()))
        };
        let chiave = leggi("key_file", &cfg.key_file)?;
        let cert = leggi("cert_file", &cfg.cert_file)?;
        let chiave = firma::ChiaveFirma::da_pem(&chiave, &cert)
            .map_err(|e| anyhow::anyhow!("sso.key_file/sso.cert_file: {e}"))?;
        let successivo = if cfg.cert_file_successivo.as_os_str().is_empty() {
            None
        } else {
            let pem = leggi("cert_file_successivo", &cfg.cert_file_successivo)?;
            Some(
                firma::certificato_b64(&pem)
                    .map_err(|e| anyhow::anyhow!("sso.cert_file_successivo: {e}"))?,
            )
        };
        Ok(Idp {
            entity_id: cfg.entity_id(),
            cfg: cfg.clone(),
            chiave,
            successivo,
        })
    }

    /// The absolute URL of a path of the portal.
    pub fn url(&self, percorso: &str) -> String {
        format!("{}{percorso}", self.cfg.base_url.trim_end_matches('/'))
    }
}

/// A self-signed RSA key and certificate (`O=tsgate demo`, `CN=cn`), valid `giorni` days from
/// now: the demo's IdP key, and the keys of the tests.
pub fn autofirmato(
    cn: &str,
    bit: u32,
    giorni: u32,
) -> Result<
    (
        openssl::pkey::PKey<openssl::pkey::Private>,
        openssl::x509::X509,
    ),
    openssl::error::ErrorStack,
> {
    use openssl::{asn1::Asn1Time, bn::BigNum, hash::MessageDigest, pkey::PKey, rsa::Rsa};
    let pkey = PKey::from_rsa(Rsa::generate(bit)?)?;
    let mut name = openssl::x509::X509NameBuilder::new()?;
    name.append_entry_by_text("C", "IT")?;
    name.append_entry_by_text("O", "tsgate demo")?;
    name.append_entry_by_text("CN", cn)?;
    let name = name.build();
    let mut b = openssl::x509::X509Builder::new()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&pkey)?;
    b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    b.set_not_after(&*Asn1Time::days_from_now(giorni)?)?;
    b.sign(&pkey, MessageDigest::sha256())?;
    Ok((pkey, b.build()))
}

/// Makes a self-signed RSA-3072 signing key and certificate for the IdP at `key`/`cert` unless
/// both exist (the demo and the tests; production brings its own).
pub fn crea_chiave_se_manca(key: &std::path::Path, cert: &std::path::Path) -> anyhow::Result<()> {
    if key.exists() && cert.exists() {
        return Ok(());
    }
    let (pkey, x) = autofirmato("tsgate SSO IdP (demo)", 3072, 3 * 365)?;
    if let Some(dir) = key.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if let Some(dir) = cert.parent() {
        std::fs::create_dir_all(dir)?;
    }
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(key)
            .with_context(|| format!("cannot write {}", key.display()))?;
        f.write_all(&pkey.private_key_to_pem_pkcs8()?)?;
    }
    std::fs::write(cert, x.to_pem()?)?;
    Ok(())
}
