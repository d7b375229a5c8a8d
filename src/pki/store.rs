//! Layout of the PKI directory:
//! `ca.key` `ca.pem` `server.key` `server.pem` `crl.pem` `clients/<name>.{key,pem}` and
//! `index.tsv` (one line per issued client certificate: name, serial, fingerprint, not after,
//! revoked at).

use anyhow::{bail, Context};
use chrono::{DateTime, TimeZone, Utc};
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{
    CrlNumber, X509Builder, X509CrlBuilder, X509Name, X509NameBuilder, X509Ref, X509RevokedBuilder,
    X509,
};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A client certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCert {
    pub name: String,
    /// Serial number, uppercase hex.
    pub serial: String,
    /// SHA-256 of the DER, lowercase hex without separators: how callers are identified.
    pub fingerprint: String,
    pub not_after: DateTime<Utc>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub revoked: bool,
}

pub struct Pki {
    dir: PathBuf,
    ca_cert: X509,
    ca_key: PKey<Private>,
}

/// Lowercase hex SHA-256 of the certificate's DER encoding.
pub fn fingerprint_sha256(cert: &X509Ref) -> String {
    match cert.digest(MessageDigest::sha256()) {
        Ok(d) => d.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => String::new(),
    }
}

fn new_key() -> anyhow::Result<PKey<Private>> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

fn name(cn: &str, org: &str) -> anyhow::Result<X509Name> {
    let mut b = X509NameBuilder::new()?;
    b.append_entry_by_nid(Nid::COUNTRYNAME, "IT")?;
    b.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)?;
    b.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(b.build())
}

fn random_serial() -> anyhow::Result<Asn1Integer> {
    let mut bn = BigNum::new()?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    Ok(bn.to_asn1_integer()?)
}

fn serial_hex(cert: &X509Ref) -> anyhow::Result<String> {
    Ok(cert.serial_number().to_bn()?.to_hex_str()?.to_string())
}

fn not_after(cert: &X509Ref) -> anyhow::Result<DateTime<Utc>> {
    let epoch = Asn1Time::from_unix(0)?;
    let diff = epoch.diff(cert.not_after())?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    Utc.timestamp_opt(secs, 0)
        .single()
        .context("certificate expiry out of range")
}

/// Writes `data` to `path` atomically (temporary file + rename), with `mode`.
fn write_atomic(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn valid_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

/// Builds and signs a certificate.
struct Spec<'a> {
    subject: &'a X509Name,
    key: &'a PKey<Private>,
    days: u32,
    ca: bool,
    server_names: &'a [&'a str],
    client: bool,
}

fn sign(spec: Spec<'_>, issuer: Option<(&X509Ref, &PKey<Private>)>) -> anyhow::Result<X509> {
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = random_serial()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(spec.subject)?;
    b.set_issuer_name(
        issuer
            .map(|(c, _)| c.subject_name())
            .unwrap_or(spec.subject),
    )?;
    b.set_pubkey(spec.key)?;
    b.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    b.set_not_after(&*Asn1Time::days_from_now(spec.days)?)?;
    if spec.ca {
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
    } else {
        b.append_extension(BasicConstraints::new().critical().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        let mut eku = ExtendedKeyUsage::new();
        if spec.client {
            eku.client_auth();
        } else {
            eku.server_auth();
        }
        b.append_extension(eku.build()?)?;
    }
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer.map(|(c, _)| c), None))?;
    b.append_extension(ski)?;
    if let Some((ca, _)) = issuer {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(ca), None))?;
        b.append_extension(aki)?;
    }
    if !spec.server_names.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for n in spec.server_names {
            if n.parse::<std::net::IpAddr>().is_ok() {
                san.ip(n);
            } else {
                san.dns(n);
            }
        }
        let ext = san.build(&b.x509v3_context(issuer.map(|(c, _)| c), None))?;
        b.append_extension(ext)?;
    }
    let signer = issuer.map(|(_, k)| k).unwrap_or(spec.key);
    b.sign(signer, MessageDigest::sha256())?;
    Ok(b.build())
}

impl Pki {
    /// Opens the PKI in `dir`, creating the CA, the server certificate (for `server_names`)
    /// and an empty CRL the first time. Existing files are reused as they are.
    pub fn open_or_create(dir: &Path, server_names: &[&str]) -> anyhow::Result<Pki> {
        std::fs::create_dir_all(dir.join("clients"))
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if !dir.join("ca.pem").exists() {
            let key = new_key()?;
            let subject = name("tsgate CA di sviluppo", "tsgate")?;
            let spec = Spec {
                subject: &subject,
                key: &key,
                days: 3650,
                ca: true,
                server_names: &[],
                client: false,
            };
            let cert = sign(spec, None)?;
            write_atomic(&dir.join("ca.key"), &key.private_key_to_pem_pkcs8()?, 0o600)?;
            write_atomic(&dir.join("ca.pem"), &cert.to_pem()?, 0o644)?;
        }
        let pki = Self::open(dir)?;
        if !dir.join("server.pem").exists() {
            let key = new_key()?;
            let subject = name(
                server_names.first().copied().unwrap_or("localhost"),
                "tsgate",
            )?;
            let spec = Spec {
                subject: &subject,
                key: &key,
                days: 730,
                ca: false,
                server_names,
                client: false,
            };
            let cert = sign(spec, Some((&pki.ca_cert, &pki.ca_key)))?;
            write_atomic(
                &dir.join("server.key"),
                &key.private_key_to_pem_pkcs8()?,
                0o600,
            )?;
            write_atomic(&dir.join("server.pem"), &cert.to_pem()?, 0o644)?;
        }
        if !dir.join("crl.pem").exists() {
            pki.write_crl(&pki.list()?)?;
        }
        Ok(pki)
    }

    /// Opens an existing PKI.
    pub fn open(dir: &Path) -> anyhow::Result<Pki> {
        let ca_cert = X509::from_pem(
            &std::fs::read(dir.join("ca.pem"))
                .with_context(|| format!("no CA in {}", dir.display()))?,
        )?;
        let ca_key = PKey::private_key_from_pem(&std::fs::read(dir.join("ca.key"))?)?;
        Ok(Pki {
            dir: dir.to_owned(),
            ca_cert,
            ca_key,
        })
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
        (
            self.dir.join("clients").join(format!("{name}.pem")),
            self.dir.join("clients").join(format!("{name}.key")),
        )
    }

    /// Issues a client certificate (clientAuth) with CN `name` and O `organisation`.
    /// Names become file names: `[a-z0-9][a-z0-9._-]{0,63}`; an existing name is refused.
    pub fn issue_client(
        &self,
        name_: &str,
        organisation: &str,
        days: u32,
    ) -> anyhow::Result<IssuedCert> {
        if !valid_name(name_) {
            bail!("invalid certificate name `{name_}`: use [a-z0-9][a-z0-9._-]{{0,63}}");
        }
        if self.find_client(name_)?.is_some() {
            bail!("a certificate named `{name_}` was already issued");
        }
        let key = new_key()?;
        let subject = name(name_, organisation)?;
        let spec = Spec {
            subject: &subject,
            key: &key,
            days,
            ca: false,
            server_names: &[],
            client: true,
        };
        let cert = sign(spec, Some((&self.ca_cert, &self.ca_key)))?;
        let (cert_path, key_path) = self.client_paths(name_);
        write_atomic(&key_path, &key.private_key_to_pem_pkcs8()?, 0o600)?;
        write_atomic(&cert_path, &cert.to_pem()?, 0o644)?;
        let issued = IssuedCert {
            name: name_.to_owned(),
            serial: serial_hex(&cert)?,
            fingerprint: fingerprint_sha256(&cert),
            not_after: not_after(&cert)?,
            cert_path,
            key_path,
            revoked: false,
        };
        let mut all = self.list()?;
        all.push(issued.clone());
        self.write_index(&all)?;
        Ok(issued)
    }

    pub fn find_client(&self, name: &str) -> anyhow::Result<Option<IssuedCert>> {
        Ok(self.list()?.into_iter().find(|c| c.name == name))
    }

    /// Every issued client certificate, in issue order.
    pub fn list(&self) -> anyhow::Result<Vec<IssuedCert>> {
        let index = self.dir.join("index.tsv");
        let text = match std::fs::read_to_string(&index) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", index.display())),
        };
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            let [name, serial, fingerprint, not_after, revoked] = f[..] else {
                bail!("{}: malformed line `{line}`", index.display());
            };
            let (cert_path, key_path) = self.client_paths(name);
            out.push(IssuedCert {
                name: name.to_owned(),
                serial: serial.to_owned(),
                fingerprint: fingerprint.to_owned(),
                not_after: DateTime::parse_from_rfc3339(not_after)?.with_timezone(&Utc),
                cert_path,
                key_path,
                revoked: revoked != "-",
            });
        }
        Ok(out)
    }

    pub fn revoke_name(&self, name: &str) -> anyhow::Result<IssuedCert> {
        self.revoke_where(|c| c.name == name, name)
    }

    pub fn revoke_serial(&self, serial: &str) -> anyhow::Result<IssuedCert> {
        self.revoke_where(|c| c.serial.eq_ignore_ascii_case(serial), serial)
    }

    fn revoke_where(
        &self,
        pick: impl Fn(&IssuedCert) -> bool,
        what: &str,
    ) -> anyhow::Result<IssuedCert> {
        let mut all = self.list()?;
        let Some(cert) = all.iter_mut().find(|c| pick(c)) else {
            bail!("no certificate `{what}` was issued by this CA");
        };
        cert.revoked = true;
        let revoked = cert.clone();
        self.write_crl(&all)?;
        self.write_index(&all)?;
        Ok(revoked)
    }

    fn write_index(&self, all: &[IssuedCert]) -> anyhow::Result<()> {
        let text: String = all
            .iter()
            .map(|c| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    c.name,
                    c.serial,
                    c.fingerprint,
                    c.not_after.to_rfc3339(),
                    if c.revoked { "revocato" } else { "-" }
                )
            })
            .collect();
        write_atomic(&self.dir.join("index.tsv"), text.as_bytes(), 0o644)
    }

    /// Rewrites crl.pem: every revoked certificate, signed by the CA, valid 7 days.
    fn write_crl(&self, all: &[IssuedCert]) -> anyhow::Result<()> {
        let mut b = X509CrlBuilder::new()?;
        b.set_issuer_name(self.ca_cert.subject_name())?;
        let now = Asn1Time::days_from_now(0)?;
        let next = Asn1Time::days_from_now(7)?;
        b.set_last_update(&now)?;
        b.set_next_update(&next)?;
        for c in all.iter().filter(|c| c.revoked) {
            let mut r = X509RevokedBuilder::new()?;
            let serial = BigNum::from_hex_str(&c.serial)?.to_asn1_integer()?;
            r.set_serial_number(&serial)?;
            r.set_revocation_date(&now)?;
            b.add_revoked(r.build())?;
        }
        b.sort()?;
        // The authority key identifier, computed as for a certificate the CA issues.
        let scratch = X509Builder::new()?;
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&scratch.x509v3_context(Some(&self.ca_cert), None))?;
        b.append_extension(aki)?;
        // CRL numbers must grow: the issue time in milliseconds does.
        let number = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        b.append_extension(CrlNumber::new(BigNum::from_dec_str(&number.to_string())?)?.build()?)?;
        b.sign(&self.ca_key, MessageDigest::sha256())?;
        let crl = b.build()?;
        write_atomic(&self.crl_pem_path(), &crl.to_pem()?, 0o644)
    }
}

/// A client certificate from a CA the gateway does not trust (for tests of the refusal).
pub fn issue_foreign_client(dir: &Path, name: &str) -> anyhow::Result<IssuedCert> {
    let pki = Pki::open_or_create(dir, &["localhost"])?;
    pki.issue_client(name, "estranei", 30)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::stack::Stack;
    use openssl::x509::store::{X509Lookup, X509StoreBuilder};
    use openssl::x509::verify::X509VerifyFlags;
    use openssl::x509::X509StoreContext;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tsgate-pki-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn verify(pki: &Pki, cert: &Path) -> Result<(), String> {
        let cert = X509::from_pem(&std::fs::read(cert).unwrap()).unwrap();
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(pki.ca_cert.clone()).unwrap();
        let lookup = store.add_lookup(X509Lookup::file()).unwrap();
        lookup
            .load_crl_file(pki.crl_pem_path(), openssl::ssl::SslFiletype::PEM)
            .unwrap();
        store.set_flags(X509VerifyFlags::CRL_CHECK).unwrap();
        let store = store.build();
        let mut ctx = X509StoreContext::new().unwrap();
        let chain = Stack::new().unwrap();
        ctx.init(&store, &cert, &chain, |c| {
            let ok = c.verify_cert()?;
            Ok(if ok {
                Ok(())
            } else {
                Err(c.error().error_string().to_owned())
            })
        })
        .unwrap()
    }

    #[test]
    fn issue_verify_revoke() {
        let dir = tmp("a");
        let pki = Pki::open_or_create(&dir, &["localhost", "127.0.0.1"]).unwrap();
        let a = pki.issue_client("regione-a", "Regione A", 30).unwrap();
        let b = pki.issue_client("regione-b", "Regione B", 30).unwrap();
        assert_eq!(a.fingerprint.len(), 64);
        assert!(a
            .fingerprint
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        verify(&pki, &a.cert_path).unwrap();
        pki.revoke_name("regione-a").unwrap();
        assert_eq!(
            verify(&pki, &a.cert_path).unwrap_err(),
            "certificate revoked"
        );
        verify(&pki, &b.cert_path).unwrap();
        let again = Pki::open_or_create(&dir, &["localhost"]).unwrap();
        let listed = again.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].revoked && !listed[1].revoked);
        assert_eq!(listed[1], b);
        let mode = std::fs::metadata(&b.key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::metadata(dir.join("ca.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    #[test]
    fn fingerprint_matches_the_der_digest() {
        let dir = tmp("b");
        let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
        let c = pki.issue_client("x", "X", 1).unwrap();
        let cert = X509::from_pem(&std::fs::read(&c.cert_path).unwrap()).unwrap();
        let der = cert.to_der().unwrap();
        let digest = openssl::sha::sha256(&der);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(c.fingerprint, hex);
    }

    #[test]
    fn bad_or_duplicate_names_are_refused() {
        let dir = tmp("c");
        let pki = Pki::open_or_create(&dir, &["localhost"]).unwrap();
        for bad in ["", "../x", "Maiuscolo", "a b", &"x".repeat(65)] {
            assert!(pki.issue_client(bad, "o", 1).is_err(), "{bad}");
        }
        pki.issue_client("uno", "o", 1).unwrap();
        assert!(pki.issue_client("uno", "o", 1).is_err());
        assert!(pki.revoke_name("nessuno").is_err());
    }

    #[test]
    fn foreign_ca_does_not_verify() {
        let ours = Pki::open_or_create(&tmp("d"), &["localhost"]).unwrap();
        let foreign = issue_foreign_client(&tmp("e"), "intruso").unwrap();
        assert!(verify(&ours, &foreign.cert_path).is_err());
    }
}
