//! The demo and test "CNS" CA: a CA distinct from the gateway's, which issues certificates
//! shaped like those of the smart cards (CNS or CIE policy, codice fiscale in the subject CN).
//!
//! Layout (`<pki.dir>/cns/`): `ca.pem`, `ca.key` (0600), `clients/<name>.{pem,key,p12}`.
//! `ca.pem` is the bundle the portal trusts (`portal.cns_ca_file`). There is no index and no
//! CRL: issuing a name again replaces its files.

use super::ca::{self, Profile};
use super::files::{self, IssuedCert, KEY_MODE, PUBLIC_MODE};
use super::TipoCertificato;
use crate::domain::CodiceFiscale;
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::{X509Ref, X509};
use std::path::{Path, PathBuf};

/// Subject CN of the demo CNS CA.
pub const CNS_CA_COMMON_NAME: &str = "tsgate CA CNS di sviluppo";
/// Organisation of the demo CNS CA and of its certificates.
const CNS_ORG: &str = "tsgate CNS di sviluppo";
/// Certificates start this long before they are issued, for clocks a little behind.
const BACKDATE_SECS: i64 = 3600;

/// What to put in a CNS-style certificate; [`Emissione::new`] gives an ordinary one, and the
/// fields can be changed to make the faulty certificates that tests need.
#[derive(Debug, Clone)]
pub struct Emissione {
    /// The first 16 characters of the subject CN. Only its shape is checked (16 uppercase
    /// letters and digits), not its check character, so tests can issue a wrong one.
    pub codice_fiscale: String,
    /// Which policy to write; `None` writes no certificatePolicies extension.
    pub tipo: Option<TipoCertificato>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl Emissione {
    /// A certificate for `codice_fiscale` of kind `tipo`, valid from an hour ago for `days`.
    pub fn new(codice_fiscale: &CodiceFiscale, tipo: TipoCertificato, days: u32) -> Emissione {
        let now = Utc::now();
        Emissione {
            codice_fiscale: codice_fiscale.as_str().to_owned(),
            tipo: Some(tipo),
            not_before: now - chrono::Duration::seconds(BACKDATE_SECS),
            not_after: now + chrono::Duration::days(i64::from(days)),
        }
    }
}

/// The demo CNS CA, in its own directory.
pub struct CnsCa {
    dir: PathBuf,
    ca_cert: X509,
    ca_key: PKey<Private>,
}

impl std::fmt::Debug for CnsCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CnsCa").field("dir", &self.dir).finish()
    }
}

impl CnsCa {
    /// Where the CNS CA of the PKI in `pki_dir` lives: `<pki_dir>/cns`.
    pub fn dir_in(pki_dir: &Path) -> PathBuf {
        pki_dir.join("cns")
    }

    /// Opens the CNS CA in `dir`, creating it (10 years, CN [`CNS_CA_COMMON_NAME`]) if
    /// `ca.pem` is missing. An existing `ca.pem` must match `ca.key`.
    pub fn open_or_create(dir: &Path) -> anyhow::Result<CnsCa> {
        std::fs::create_dir_all(dir.join("clients"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
        if !cert_path.exists() {
            let (cert, key) = ca::new_ca(CNS_CA_COMMON_NAME, CNS_ORG, super::CA_DAYS)?;
            files::write_atomic(&key_path, &key.private_key_to_pem_pkcs8()?, KEY_MODE)?;
            files::write_atomic(&cert_path, &cert.to_pem()?, PUBLIC_MODE)?;
            tracing::info!(dir = %dir.display(), "PKI: new CNS CA");
        }
        let ca_cert = X509::from_pem(&std::fs::read(&cert_path)?)
            .with_context(|| format!("{} is not a PEM certificate", cert_path.display()))?;
        let ca_key = PKey::private_key_from_pem(&std::fs::read(&key_path)?)
            .with_context(|| format!("{} is not a PEM private key", key_path.display()))?;
        if !ca_cert.public_key()?.public_eq(&ca_key) {
            bail!(
                "{} does not match {}",
                key_path.display(),
                cert_path.display()
            );
        }
        Ok(CnsCa {
            dir: dir.to_owned(),
            ca_cert,
            ca_key,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate.
    pub fn ca_cert(&self) -> &X509Ref {
        &self.ca_cert
    }

    /// The CA as a signer, for tests that build other chains.
    #[cfg(test)]
    pub(super) fn signer(&self) -> ca::Issuer<'_> {
        Some((&self.ca_cert, &self.ca_key))
    }

    /// `ca.pem`: the bundle the portal should trust for CNS logins.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `clients/<name>.pem`, `clients/<name>.key`.
    pub fn client_paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let clients = self.dir.join("clients");
        (
            clients.join(format!("{name}.pem")),
            clients.join(format!("{name}.key")),
        )
    }

    /// `clients/<name>.p12`, written by [`CnsCa::write_pkcs12`].
    pub fn pkcs12_path(&self, name: &str) -> PathBuf {
        self.dir.join("clients").join(format!("{name}.p12"))
    }

    /// Issues a CNS-style certificate (see [`Emissione::new`]) and writes its files.
    /// `name` names the files: `[a-z0-9][a-z0-9._-]{0,63}`.
    pub fn issue(
        &self,
        name: &str,
        codice_fiscale: &CodiceFiscale,
        days: u32,
        tipo: TipoCertificato,
    ) -> anyhow::Result<IssuedCert> {
        self.issue_with(name, &Emissione::new(codice_fiscale, tipo, days))
    }

    /// Issues a certificate as `spec` says, signed by this CA: subject
    /// `C=IT, O=tsgate CNS di sviluppo, CN=<cf>/<card number>.<hash>`, clientAuth,
    /// digitalSignature. Replaces the files of `name`.
    pub fn issue_with(&self, name: &str, spec: &Emissione) -> anyhow::Result<IssuedCert> {
        let (cert, key) = self.sign(spec, Some((&self.ca_cert, &self.ca_key)))?;
        self.write(name, &cert, &key)
    }

    /// The certificate and key of `spec`, signed by `issuer` (`None`: self-signed), written
    /// nowhere: for tests that need other signers.
    pub(super) fn sign(
        &self,
        spec: &Emissione,
        issuer: ca::Issuer<'_>,
    ) -> anyhow::Result<(X509, PKey<Private>)> {
        let cn = ca::cns_common_name(&spec.codice_fiscale)?;
        let policies: Vec<&str> = spec.tipo.iter().map(|t| t.policy_oid()).collect();
        let key = ca::new_key()?;
        let cert = ca::sign_between(
            &*ca::subject(&cn, CNS_ORG)?,
            &key,
            &*ca::random_serial()?,
            (spec.not_before.timestamp(), spec.not_after.timestamp()),
            Profile::Client {
                policies: &policies,
            },
            issuer,
        )?;
        Ok((cert, key))
    }

    fn write(&self, name: &str, cert: &X509, key: &PKey<Private>) -> anyhow::Result<IssuedCert> {
        files::check_name(name)?;
        let (cert_path, key_path) = self.client_paths(name);
        files::write_atomic(&key_path, &key.private_key_to_pem_pkcs8()?, KEY_MODE)?;
        files::write_atomic(&cert_path, &cert.to_pem()?, PUBLIC_MODE)?;
        issued(name, cert, cert_path, key_path)
    }

    /// The certificate `name` if its files exist, match, were signed by this CA and it is valid
    /// for at least `min_days` more days; `None` otherwise (the caller issues a new one).
    pub fn find_valid(&self, name: &str, min_days: i64) -> anyhow::Result<Option<IssuedCert>> {
        files::check_name(name)?;
        let (cert_path, key_path) = self.client_paths(name);
        let (Some(pem), Some(key)) = (
            files::read_optional(&cert_path)?,
            files::read_optional(&key_path)?,
        ) else {
            return Ok(None);
        };
        let (Ok(cert), Ok(key)) = (X509::from_pem(&pem), PKey::private_key_from_pem(&key)) else {
            return Ok(None);
        };
        let matches = cert.public_key()?.public_eq(&key) && cert.verify(&self.ca_key)?;
        let left = ca::to_utc(cert.not_after())? - Utc::now();
        if !matches || left.num_days() < min_days {
            return Ok(None);
        }
        issued(name, &cert, cert_path, key_path).map(Some)
    }

    /// Writes `clients/<name>.p12` (mode 0600): the key, the certificate and this CA, protected
    /// by `password`, for importing into a browser. Returns its path.
    pub fn write_pkcs12(&self, name: &str, password: &str) -> anyhow::Result<PathBuf> {
        files::check_name(name)?;
        let (cert_path, key_path) = self.client_paths(name);
        let cert = X509::from_pem(&std::fs::read(&cert_path)?)
            .with_context(|| format!("{} is not a PEM certificate", cert_path.display()))?;
        let key = PKey::private_key_from_pem(&std::fs::read(&key_path)?)
            .with_context(|| format!("{} is not a PEM private key", key_path.display()))?;
        let mut cas = Stack::new()?;
        cas.push(self.ca_cert.clone())?;
        let p12: Pkcs12 = Pkcs12::builder()
            .name(name)
            .pkey(&key)
            .cert(&cert)
            .ca(cas)
            .build2(password)
            .context("cannot build the PKCS#12 file")?;
        let path = self.pkcs12_path(name);
        files::write_atomic(&path, &p12.to_der()?, KEY_MODE)?;
        Ok(path)
    }
}

fn issued(
    name: &str,
    cert: &X509Ref,
    cert_path: PathBuf,
    key_path: PathBuf,
) -> anyhow::Result<IssuedCert> {
    Ok(IssuedCert {
        name: name.to_owned(),
        serial: ca::serial_of(cert)?,
        fingerprint: ca::fingerprint_sha256(cert),
        not_after: ca::to_utc(cert.not_after())?,
        cert_path,
        key_path,
        revoked: false,
        revoked_at: None,
    })
}
