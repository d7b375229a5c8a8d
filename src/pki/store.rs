//! The PKI directory and the operations on it.
//!
//! Layout (`pki.dir`):
//! - `ca.key` (0600), `ca.pem`: the CA, EC P-256, self-signed, 10 years;
//! - `server.key` (0600), `server.pem`: the gateway's TLS certificate, 2 years;
//! - `crl.pem`: the CRL, valid 7 days, rewritten at every revocation;
//! - `clients/<name>.key` (0600), `clients/<name>.pem`: client certificates;
//! - `index.tsv`: every client certificate issued, in issue order (see `files::read_index`).
//!
//! Every file is replaced atomically. Writers within one process are serialised; two processes
//! writing the same directory at once (say `tsgate pki issue` twice in parallel) are not.

use super::ca::{self, Profile};
use super::files::{self, IssuedCert, KEY_MODE, PUBLIC_MODE};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use openssl::bn::BigNum;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Crl, X509Ref, X509};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Validity of the CA, in days.
pub const CA_DAYS: u32 = 3650;
/// Validity of the server certificate and, by default, of client certificates.
pub const CERT_DAYS: u32 = 730;
/// Validity of each CRL: it must be rewritten within this many days (see
/// [`Pki::refresh_crl_if_due`]), or the gateway refuses every client.
pub const CRL_DAYS: u32 = 7;
/// The server certificate is renewed when it has fewer days left than this.
const SERVER_RENEW_DAYS: i64 = 30;
/// The CRL is re-signed when it has fewer days left than this.
const CRL_RENEW_DAYS: i64 = 3;

/// Which client certificate to revoke.
#[derive(Debug, Clone, Copy)]
pub enum RevokeTarget<'a> {
    /// The newest certificate with this name.
    Name(&'a str),
    /// Serial in hex, any case, colons allowed.
    Serial(&'a str),
}

/// The gateway's CA and everything it issued, in one directory.
pub struct Pki {
    dir: PathBuf,
    ca_cert: X509,
    ca_key: PKey<Private>,
    write_lock: Mutex<()>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").field("dir", &self.dir).finish()
    }
}

fn load_cert(path: &Path) -> anyhow::Result<X509> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    X509::from_pem(&pem).with_context(|| format!("{} is not a PEM certificate", path.display()))
}

fn load_key(path: &Path) -> anyhow::Result<PKey<Private>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    PKey::private_key_from_pem(&pem)
        .with_context(|| format!("{} is not a PEM private key", path.display()))
}

/// Now, to the second, as the index and the certificates record times.
fn now_secs() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now)
}

/// Whether `cert` expires within `days` days (or already has).
fn expires_within(cert: &X509Ref, days: i64) -> anyhow::Result<bool> {
    Ok(ca::to_utc(cert.not_after())? < Utc::now() + chrono::Duration::days(days))
}

impl Pki {
    /// Opens the PKI in `dir`, creating whatever is missing: the CA, the server certificate
    /// (CN the first of `server_names`, all of them in the SAN; `localhost` if none) and the CRL.
    /// What exists is reused, so a second call changes nothing, except that an expiring server
    /// certificate is renewed and a stale CRL re-signed (see [`Pki::refresh_crl_if_due`]).
    /// An existing server certificate that does not cover `server_names` is kept, with a warning.
    pub fn open_or_create(dir: &Path, server_names: &[&str]) -> anyhow::Result<Pki> {
        std::fs::create_dir_all(dir.join("clients"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if !dir.join("ca.pem").exists() {
            if dir.join(files::INDEX_FILE).exists() {
                bail!(
                    "{} has issued certificates but no ca.pem: restore the CA rather than \
                     make a new one",
                    dir.display()
                );
            }
            // A ca.key without ca.pem is from a creation that did not finish: replaced.
            let (cert, key) = ca::new_ca(ca::CA_COMMON_NAME, "tsgate", CA_DAYS)?;
            files::write_atomic(
                &dir.join("ca.key"),
                &key.private_key_to_pem_pkcs8()?,
                KEY_MODE,
            )?;
            files::write_atomic(&dir.join("ca.pem"), &cert.to_pem()?, PUBLIC_MODE)?;
            tracing::info!(dir = %dir.display(), "PKI: new CA");
        }
        let pki = Self::open(dir)?;
        pki.ensure_server_cert(server_names)?;
        pki.refresh_crl_if_due()?;
        Ok(pki)
    }

    /// Opens an existing PKI: the CA certificate and its key must be there and match.
    pub fn open(dir: &Path) -> anyhow::Result<Pki> {
        let ca_cert = load_cert(&dir.join("ca.pem"))
            .with_context(|| format!("no CA in {}", dir.display()))?;
        let key_path = dir.join("ca.key");
        let ca_key = load_key(&key_path)?;
        if !ca_cert.public_key()?.public_eq(&ca_key) {
            bail!(
                "{} does not match {}/ca.pem",
                key_path.display(),
                dir.display()
            );
        }
        let mode = std::fs::metadata(&key_path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %key_path.display(), mode = format!("{:o}", mode & 0o777),
                "PKI: the CA key is readable by others");
        }
        Ok(Pki {
            dir: dir.to_owned(),
            ca_cert,
            ca_key,
            write_lock: Mutex::new(()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The CA certificate (what the gateway trusts for clients).
    pub fn ca_cert(&self) -> &X509Ref {
        &self.ca_cert
    }
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn crl_pem_path(&self) -> PathBuf {
        self.dir.join("crl.pem")
    }
    pub fn server_cert_path(&self) -> PathBuf {
        self.dir.join("server.pem")
    }
    pub fn server_key_path(&self) -> PathBuf {
        self.dir.join("server.key")
    }
    /// Certificate and key files of the client certificate `name`.
    pub fn client_paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let clients = self.dir.join("clients");
        (
            clients.join(format!("{name}.pem")),
            clients.join(format!("{name}.key")),
        )
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates the server certificate if missing, unusable or expiring within 30 days.
    fn ensure_server_cert(&self, server_names: &[&str]) -> anyhow::Result<()> {
        let _guard = self.lock();
        let (cert_path, key_path) = (self.server_cert_path(), self.server_key_path());
        let current = (|| -> anyhow::Result<X509> {
            let cert = load_cert(&cert_path)?;
            let key = load_key(&key_path)?;
            if !cert.public_key()?.public_eq(&key) {
                bail!("server.key does not match server.pem");
            }
            if cert.verify(&self.ca_key)? && !expires_within(&cert, SERVER_RENEW_DAYS)? {
                Ok(cert)
            } else {
                bail!("server.pem is not signed by the CA or expires soon")
            }
        })();
        match current {
            Ok(cert) => {
                let missing: Vec<&str> = server_names
                    .iter()
                    .copied()
                    .filter(|n| !ca::san_covers(&cert, n))
                    .collect();
                if !missing.is_empty() {
                    tracing::warn!(path = %cert_path.display(), ?missing,
                        "PKI: the server certificate does not cover these names; delete it to make a new one");
                }
                return Ok(());
            }
            Err(e) if cert_path.exists() => {
                tracing::info!(reason = %format!("{e:#}"), "PKI: new server certificate");
            }
            Err(_) => {}
        }
        let names: &[&str] = if server_names.is_empty() {
            &["localhost"]
        } else {
            server_names
        };
        let key = ca::new_key()?;
        let cert = ca::sign(
            &*ca::subject(names[0], "tsgate")?,
            &key,
            &*ca::random_serial()?,
            self.clamp_days(CERT_DAYS)?,
            Profile::Server(names),
            Some((&self.ca_cert, &self.ca_key)),
        )?;
        files::write_atomic(&key_path, &key.private_key_to_pem_pkcs8()?, KEY_MODE)?;
        files::write_atomic(&cert_path, &cert.to_pem()?, PUBLIC_MODE)
    }

    /// `days`, or fewer so as not to outlive the CA; an error for 0 or an expired CA.
    fn clamp_days(&self, days: u32) -> anyhow::Result<u32> {
        if days == 0 {
            bail!("a certificate must be valid for at least one day");
        }
        let left = (ca::to_utc(self.ca_cert.not_after())? - Utc::now()).num_days();
        if left < 1 {
            bail!("the CA in {} has expired", self.dir.display());
        }
        Ok(days.min(u32::try_from(left).unwrap_or(u32::MAX)))
    }

    /// Issues a client certificate: clientAuth, CN `name`, O `organisation`, valid `days` days
    /// (the callers use [`CERT_DAYS`]), a random 128-bit serial. Writes `clients/<name>.{pem,key}`.
    /// Names become file names: `[a-z0-9][a-z0-9._-]{0,63}`. A name whose newest certificate
    /// is not revoked is refused (use [`Pki::reissue_client`]); a revoked name may be issued
    /// again, its files then holding the new certificate.
    pub fn issue_client(
        &self,
        name: &str,
        organisation: &str,
        days: u32,
    ) -> anyhow::Result<IssuedCert> {
        self.issue(name, name, organisation, days, &[], false)
    }

    /// As [`Pki::issue_client`], but a current certificate with this name is revoked (and the
    /// CRL rewritten) in the same step: the way to renew a certificate or replace a lost key.
    pub fn reissue_client(
        &self,
        name: &str,
        organisation: &str,
        days: u32,
    ) -> anyhow::Result<IssuedCert> {
        self.issue(name, name, organisation, days, &[], true)
    }

    /// A test certificate shaped like a CNS authentication certificate: subject CN
    /// `<codice_fiscale>/<card number>.<hash>` (its first 16 characters are the codice fiscale),
    /// certificate policy [`CNS_POLICY_OID`](super::CNS_POLICY_OID), clientAuth. Files and
    /// rules as for [`Pki::issue_client`]; `name` only names the files and the index entry.
    pub fn issue_cns_client(
        &self,
        name: &str,
        codice_fiscale: &str,
        organisation: &str,
        days: u32,
    ) -> anyhow::Result<IssuedCert> {
        let cn = ca::cns_common_name(codice_fiscale)?;
        self.issue(name, &cn, organisation, days, &[ca::CNS_POLICY_OID], false)
    }

    fn issue(
        &self,
        name: &str,
        common_name: &str,
        organisation: &str,
        days: u32,
        policies: &[&str],
        reissue: bool,
    ) -> anyhow::Result<IssuedCert> {
        files::check_name(name)?;
        let days = self.clamp_days(days)?;
        let _guard = self.lock();
        let mut all = self.read_index()?;
        let now = now_secs();
        let mut superseded = false;
        if let Some(prev) = all.iter_mut().rev().find(|c| c.name == name) {
            if !prev.revoked {
                if !reissue {
                    bail!("a certificate named `{name}` was already issued (serial {}) and is not revoked", prev.serial);
                }
                prev.revoked = true;
                prev.revoked_at = Some(now);
                superseded = true;
            }
        }
        let serial = loop {
            let s = ca::random_serial()?;
            let h = ca::hex(&s)?;
            if !all.iter().any(|c| c.serial == h) {
                break s;
            }
        };
        let key = ca::new_key()?;
        let cert = ca::sign(
            &*ca::subject(common_name, organisation)?,
            &key,
            &serial,
            days,
            Profile::Client { policies },
            Some((&self.ca_cert, &self.ca_key)),
        )?;
        let (cert_path, key_path) = self.client_paths(name);
        let issued = IssuedCert {
            name: name.to_owned(),
            serial: ca::serial_of(&cert)?,
            fingerprint: ca::fingerprint_sha256(&cert),
            not_after: ca::to_utc(cert.not_after())?,
            cert_path,
            key_path,
            revoked: false,
            revoked_at: None,
        };
        all.push(issued.clone());
        // The index first: whatever the CA signed is on record, hence revocable, even if a
        // crash comes before the files are written.
        files::write_index(&self.dir, &all)?;
        if superseded {
            self.write_crl(&all)?;
        }
        files::write_atomic(&issued.key_path, &key.private_key_to_pem_pkcs8()?, KEY_MODE)?;
        files::write_atomic(&issued.cert_path, &cert.to_pem()?, PUBLIC_MODE)?;
        Ok(issued)
    }

    /// The newest certificate issued with this name, revoked or not.
    pub fn find_client(&self, name: &str) -> anyhow::Result<Option<IssuedCert>> {
        Ok(self.list()?.into_iter().rev().find(|c| c.name == name))
    }

    /// Every client certificate issued, in issue order, with its revocation state.
    pub fn list(&self) -> anyhow::Result<Vec<IssuedCert>> {
        self.read_index()
    }

    fn read_index(&self) -> anyhow::Result<Vec<IssuedCert>> {
        files::read_index(&self.dir, |n| self.client_paths(n))
    }

    /// Revokes a client certificate and rewrites the CRL. Revoking a revoked certificate
    /// changes nothing but re-signs the CRL, so a revocation interrupted half-way can be
    /// repeated. By name, the newest certificate with that name is revoked.
    pub fn revoke(&self, which: RevokeTarget<'_>) -> anyhow::Result<IssuedCert> {
        let _guard = self.lock();
        let mut all = self.read_index()?;
        let found = match which {
            RevokeTarget::Name(n) => all.iter_mut().rev().find(|c| c.name == n),
            RevokeTarget::Serial(s) => {
                let s = ca::normalize_serial(s)?;
                all.iter_mut().find(|c| c.serial.eq_ignore_ascii_case(&s))
            }
        };
        let Some(cert) = found else {
            let (RevokeTarget::Name(what) | RevokeTarget::Serial(what)) = which;
            bail!("no certificate `{what}` was issued by this CA");
        };
        if !cert.revoked {
            cert.revoked = true;
            cert.revoked_at = Some(now_secs());
        }
        let revoked = cert.clone();
        files::write_index(&self.dir, &all)?;
        self.write_crl(&all)?;
        Ok(revoked)
    }

    pub fn revoke_name(&self, name: &str) -> anyhow::Result<IssuedCert> {
        self.revoke(RevokeTarget::Name(name))
    }

    pub fn revoke_serial(&self, serial: &str) -> anyhow::Result<IssuedCert> {
        self.revoke(RevokeTarget::Serial(serial))
    }

    /// Re-signs the CRL now (valid [`CRL_DAYS`] days) from the index.
    pub fn refresh_crl(&self) -> anyhow::Result<()> {
        let _guard = self.lock();
        self.write_crl(&self.read_index()?)
    }

    /// Re-signs the CRL if it is missing, unreadable, not signed by this CA, expires within
    /// 3 days, or does not list exactly the revoked serials of the index (a revocation cut
    /// short). Returns whether it did. Whoever keeps the gateway running should call this at
    /// least daily: an expired CRL makes every handshake fail.
    pub fn refresh_crl_if_due(&self) -> anyhow::Result<bool> {
        let _guard = self.lock();
        let all = self.read_index()?;
        let current = (|| -> Option<bool> {
            let crl = X509Crl::from_pem(&files::read_optional(&self.crl_pem_path()).ok()??).ok()?;
            let next = ca::to_utc(crl.next_update()?).ok()?;
            let fresh = next > Utc::now() + chrono::Duration::days(CRL_RENEW_DAYS);
            let listed = ca::crl_entries(&crl);
            let revoked: Vec<&IssuedCert> = all.iter().filter(|c| c.revoked).collect();
            let same = listed.len() == revoked.len()
                && revoked.iter().all(|c| listed.contains_key(&c.serial));
            Some(crl.verify(&self.ca_key).ok()? && fresh && same)
        })();
        if current == Some(true) {
            return Ok(false);
        }
        self.write_crl(&all)?;
        Ok(true)
    }

    /// Rewrites crl.pem from `all`: every revoked certificate, signed by the CA, lastUpdate
    /// now, nextUpdate in [`CRL_DAYS`] days, CRL number one more than the previous CRL's.
    fn write_crl(&self, all: &[IssuedCert]) -> anyhow::Result<()> {
        let path = self.crl_pem_path();
        let previous = files::read_optional(&path)?.and_then(|pem| X509Crl::from_pem(&pem).ok());
        let previous = previous.filter(|crl| crl.verify(&self.ca_key).unwrap_or(false));
        let mut number = BigNum::from_u32(1)?;
        if let Some(n) = previous.as_ref().and_then(|c| ca::crl_number(c)) {
            if n.num_bits() < 159 {
                number.checked_add(&n, &*BigNum::from_u32(1)?)?;
            }
        }
        // Entries revoked at an unknown date (older indexes) keep the date of the last CRL.
        let known = previous
            .as_ref()
            .map(|c| ca::crl_entries(c))
            .unwrap_or_default();
        let now = Utc::now();
        let mut revoked: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for c in all.iter().filter(|c| c.revoked) {
            let date = c
                .revoked_at
                .or_else(|| known.get(&c.serial).copied())
                .unwrap_or(now);
            revoked.insert(c.serial.clone(), date);
        }
        let revoked: Vec<(String, DateTime<Utc>)> = revoked.into_iter().collect();
        let crl = ca::sign_crl(&self.ca_cert, &self.ca_key, number, &revoked, now, CRL_DAYS)?;
        files::write_atomic(&path, &crl.to_pem()?, PUBLIC_MODE)
    }
}

/// A client certificate from a CA the gateway does not trust, for tests of the refusal.
/// Writes `dir/foreign-ca.pem` (CN "tsgate CA estranea", its key is not kept),
/// `dir/<name>.pem` and `dir/<name>.key` (0600); replaces them if they exist.
pub fn issue_foreign_client(dir: &Path, name: &str) -> anyhow::Result<IssuedCert> {
    files::check_name(name)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (ca_cert, ca_key) = ca::new_ca("tsgate CA estranea", "estranei", 365)?;
    let key = ca::new_key()?;
    let cert = ca::sign(
        &*ca::subject(name, "estranei")?,
        &key,
        &*ca::random_serial()?,
        30,
        Profile::Client { policies: &[] },
        Some((&ca_cert, &ca_key)),
    )?;
    let (cert_path, key_path) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    files::write_atomic(&dir.join("foreign-ca.pem"), &ca_cert.to_pem()?, PUBLIC_MODE)?;
    files::write_atomic(&key_path, &key.private_key_to_pem_pkcs8()?, KEY_MODE)?;
    files::write_atomic(&cert_path, &cert.to_pem()?, PUBLIC_MODE)?;
    Ok(IssuedCert {
        name: name.to_owned(),
        serial: ca::serial_of(&cert)?,
        fingerprint: ca::fingerprint_sha256(&cert),
        not_after: ca::to_utc(cert.not_after())?,
        cert_path,
        key_path,
        revoked: false,
        revoked_at: None,
    })
}
