//! Keys, certificates and CRLs: what the CA signs and how, with no file handling.

use super::der;
use anyhow::{bail, Context};
use chrono::{DateTime, TimeZone, Utc};
use openssl::asn1::{Asn1Object, Asn1OctetString, Asn1Time, Asn1TimeRef};
use openssl::bn::{BigNum, BigNumRef, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{
    CrlNumber, X509Builder, X509Crl, X509CrlBuilder, X509CrlRef, X509Extension, X509Name,
    X509NameBuilder, X509NameRef, X509Ref, X509RevokedBuilder, X509,
};
use std::collections::HashMap;
use std::net::IpAddr;

/// Subject CN of the gateway CA.
pub const CA_COMMON_NAME: &str = "tsgate CA di sviluppo";
/// Certificate policy of the Carta Nazionale dei Servizi (authentication certificates).
pub const CNS_POLICY_OID: &str = "1.3.76.16.2.1";
/// Certificate policy of the Carta d'Identità Elettronica (authentication certificates).
pub const CIE_POLICY_OID: &str = "1.3.76.47.4";

/// Certificates start this long before they are made, for peers whose clock is a little behind.
const BACKDATE_SECS: i64 = 3600;
/// How far a CRL's lastUpdate is set before its signing time.
const CRL_BACKDATE_SECS: i64 = 60;

/// Lowercase hex SHA-256 of the certificate's DER encoding (64 characters, no separators):
/// `openssl x509 -noout -fingerprint -sha256` lowercased without the colons. This is how the
/// gateway identifies a caller. Empty only if OpenSSL cannot compute a digest at all.
pub fn fingerprint_sha256(cert: &X509Ref) -> String {
    match cert.digest(MessageDigest::sha256()) {
        Ok(d) => d.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => String::new(),
    }
}

/// A fresh EC P-256 key.
pub(super) fn new_key() -> anyhow::Result<PKey<Private>> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

/// `C=IT, O=<org>, CN=<cn>`.
pub(super) fn subject(cn: &str, org: &str) -> anyhow::Result<X509Name> {
    let mut b = X509NameBuilder::new()?;
    b.append_entry_by_nid(Nid::COUNTRYNAME, "IT")?;
    b.append_entry_by_nid(Nid::ORGANIZATIONNAME, org)
        .with_context(|| format!("invalid organisation `{org}`"))?;
    b.append_entry_by_nid(Nid::COMMONNAME, cn)
        .with_context(|| format!("invalid common name `{cn}`"))?;
    Ok(b.build())
}

/// A random positive 128-bit serial (top bit set, so always 32 hex digits).
pub(super) fn random_serial() -> anyhow::Result<BigNum> {
    let mut bn = BigNum::new()?;
    bn.rand(128, MsbOption::ONE, false)?;
    Ok(bn)
}

/// Uppercase hex, as `openssl x509 -serial` prints it.
pub(super) fn hex(bn: &BigNumRef) -> anyhow::Result<String> {
    Ok(bn.to_hex_str()?.to_string())
}

pub(super) fn serial_of(cert: &X509Ref) -> anyhow::Result<String> {
    hex(&*cert.serial_number().to_bn()?)
}

/// A serial as an operator may type it (any case, optional `0x`, colons) in canonical form.
pub(super) fn normalize_serial(s: &str) -> anyhow::Result<String> {
    let t: String = s.trim().chars().filter(|&c| c != ':').collect();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(&t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("`{s}` is not a hexadecimal serial number");
    }
    hex(&*BigNum::from_hex_str(t)?)
}

pub(super) fn to_utc(t: &Asn1TimeRef) -> anyhow::Result<DateTime<Utc>> {
    let diff = Asn1Time::from_unix(0)?.diff(t)?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    Utc.timestamp_opt(secs, 0)
        .single()
        .context("time out of range")
}

pub(super) fn to_asn1(t: DateTime<Utc>) -> anyhow::Result<Asn1Time> {
    Ok(Asn1Time::from_unix(t.timestamp())?)
}

/// What a certificate is for.
pub(super) enum Profile<'a> {
    /// Self-signed CA: keyCertSign + cRLSign.
    Ca,
    /// TLS server with these DNS names / IP addresses in the SAN.
    Server(&'a [&'a str]),
    /// TLS client, with these certificate policy OIDs (none for ordinary callers).
    Client { policies: &'a [&'a str] },
}

/// The signer of a certificate: `None` for the self-signed CA.
pub(super) type Issuer<'a> = Option<(&'a X509Ref, &'a PKeyRef<Private>)>;

/// Builds and signs a certificate valid from about now for `days` days.
pub(super) fn sign(
    subject: &X509NameRef,
    key: &PKeyRef<Private>,
    serial: &BigNumRef,
    days: u32,
    profile: Profile<'_>,
    issuer: Issuer<'_>,
) -> anyhow::Result<X509> {
    let now = Utc::now().timestamp();
    let validity = (now - BACKDATE_SECS, now + i64::from(days) * 86_400);
    sign_between(subject, key, serial, validity, profile, issuer)
}

/// As [`sign`], valid between the two Unix times of `validity` (notBefore, notAfter), which
/// may lie in the past or in the future (for tests of expired or not yet valid certificates).
pub(super) fn sign_between(
    subject: &X509NameRef,
    key: &PKeyRef<Private>,
    serial: &BigNumRef,
    validity: (i64, i64),
    profile: Profile<'_>,
    issuer: Issuer<'_>,
) -> anyhow::Result<X509> {
    if validity.0 >= validity.1 {
        bail!("a certificate must end after it starts");
    }
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    b.set_serial_number(&*serial.to_asn1_integer()?)?;
    b.set_subject_name(subject)?;
    b.set_issuer_name(issuer.map_or(subject, |(c, _)| c.subject_name()))?;
    b.set_pubkey(key)?;
    b.set_not_before(&*Asn1Time::from_unix(validity.0)?)?;
    b.set_not_after(&*Asn1Time::from_unix(validity.1)?)?;
    match &profile {
        Profile::Ca => {
            b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            let ku = KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?;
            b.append_extension(ku)?;
        }
        Profile::Server(_) | Profile::Client { .. } => {
            b.append_extension(BasicConstraints::new().critical().build()?)?;
            b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
            let mut eku = ExtendedKeyUsage::new();
            match profile {
                Profile::Server(_) => eku.server_auth(),
                _ => eku.client_auth(),
            };
            b.append_extension(eku.build()?)?;
        }
    }
    let issuer_cert = issuer.map(|(c, _)| c);
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer_cert, None))?;
    b.append_extension(ski)?;
    if let Some(ca) = issuer_cert {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&b.x509v3_context(Some(ca), None))?;
        b.append_extension(aki)?;
    }
    match profile {
        Profile::Server(names) => {
            let mut san = SubjectAlternativeName::new();
            for n in names {
                if n.parse::<IpAddr>().is_ok() {
                    san.ip(n);
                } else {
                    check_dns_name(n)?;
                    san.dns(n);
                }
            }
            b.append_extension(san.build(&b.x509v3_context(issuer_cert, None))?)?;
        }
        Profile::Client { policies } if !policies.is_empty() => {
            b.append_extension(certificate_policies(policies)?)?;
        }
        _ => {}
    }
    let signer = issuer.map_or(key, |(_, k)| k);
    b.sign(signer, MessageDigest::sha256())?;
    Ok(b.build())
}

/// Host names go into an OpenSSL configuration string: letters, digits, `.`, `-`, `_`, `*`.
fn check_dns_name(n: &str) -> anyhow::Result<()> {
    let ok = !n.is_empty()
        && n.len() <= 253
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'*'));
    if !ok {
        bail!("`{n}` is neither a host name nor an IP address");
    }
    Ok(())
}

/// Whether the server certificate's SAN covers `name` (a host name or an IP address).
pub(super) fn san_covers(cert: &X509Ref, name: &str) -> bool {
    let Some(sans) = cert.subject_alt_names() else {
        return false;
    };
    let ip = name.parse::<IpAddr>().ok();
    sans.iter().any(|g| match ip {
        Some(IpAddr::V4(a)) => g.ipaddress() == Some(&a.octets()[..]),
        Some(IpAddr::V6(a)) => g.ipaddress() == Some(&a.octets()[..]),
        None => g.dnsname().is_some_and(|d| d.eq_ignore_ascii_case(name)),
    })
}

/// `certificatePolicies` with one PolicyInformation (no qualifiers) per OID. The openssl crate
/// has no builder for it and deprecates (since 0.10.51) the configuration-string constructors
/// (`X509Extension::new_nid`) in favour of `new_from_der`, so the DER (two nested SEQUENCEs
/// around each OID) is encoded here.
fn certificate_policies(oids: &[&str]) -> anyhow::Result<X509Extension> {
    let mut infos = Vec::new();
    for oid in oids {
        if oid.is_empty() || !oid.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            bail!("`{oid}` is not a dotted OID");
        }
        let obj = Asn1Object::from_str(oid).with_context(|| format!("invalid OID `{oid}`"))?;
        let policy_id = der::encode(0x06, obj.as_slice());
        infos.extend(der::encode(0x30, &policy_id));
    }
    let value = Asn1OctetString::new_from_bytes(&der::encode(0x30, &infos))?;
    let ext_id = Asn1Object::from_str("2.5.29.32")?;
    Ok(X509Extension::new_from_der(&ext_id, false, &value)?)
}

/// A CNS-style subject CN: `<codice fiscale>/<16-digit card number>.<base64 SHA-1>`, so that
/// its first 16 characters are the holder's codice fiscale, as on the real cards.
pub(super) fn cns_common_name(codice_fiscale: &str) -> anyhow::Result<String> {
    let cf = codice_fiscale;
    if cf.len() != 16
        || !cf
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        bail!("`{cf}` is not shaped like a codice fiscale (16 uppercase letters and digits)");
    }
    let mut r = [0u8; 8];
    openssl::rand::rand_bytes(&mut r)?;
    let card = u64::from_be_bytes(r) % 10_000_000_000_000_000;
    let tag = format!("{cf}/{card:016}");
    let hash = openssl::base64::encode_block(&openssl::sha::sha1(tag.as_bytes()));
    Ok(format!("{tag}.{hash}"))
}

/// Signs a CRL listing `revoked` (serial in hex, revocation date), valid until `days` days
/// after `now`, with CRL number `number` and the CA's key identifier. Its lastUpdate is
/// backdated a minute: OpenSSL checks it against `time()`, which on Linux reads the coarse
/// clock and can be a few milliseconds behind `now`, so a CRL signed in the first
/// milliseconds of a second was "not yet valid" for the rest of it.
pub(super) fn sign_crl(
    ca: &X509Ref,
    key: &PKeyRef<Private>,
    number: BigNum,
    revoked: &[(String, DateTime<Utc>)],
    now: DateTime<Utc>,
    days: u32,
) -> anyhow::Result<X509Crl> {
    let mut b = X509CrlBuilder::new()?;
    b.set_issuer_name(ca.subject_name())?;
    b.set_last_update(&*to_asn1(
        now - chrono::Duration::seconds(CRL_BACKDATE_SECS),
    )?)?;
    b.set_next_update(&*to_asn1(now + chrono::Duration::days(i64::from(days)))?)?;
    for (serial, date) in revoked {
        let mut r = X509RevokedBuilder::new()?;
        r.set_serial_number(&*BigNum::from_hex_str(serial)?.to_asn1_integer()?)?;
        r.set_revocation_date(&*to_asn1(*date)?)?;
        b.add_revoked(r.build())?;
    }
    b.sort()?;
    // The authority key identifier, computed as for a certificate the CA issues.
    let scratch = X509Builder::new()?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&scratch.x509v3_context(Some(ca), None))?;
    b.append_extension(aki)?;
    b.append_extension(CrlNumber::new(number)?.build()?)?;
    b.sign(key, MessageDigest::sha256())?;
    Ok(b.build()?)
}

/// The CRL number extension, if present.
pub(super) fn crl_number(crl: &X509CrlRef) -> Option<BigNum> {
    let (_, n) = crl.extension::<CrlNumber>().ok()??;
    n.to_bn().ok()
}

/// Serial (hex) → revocation date of every entry of a CRL.
pub(super) fn crl_entries(crl: &X509CrlRef) -> HashMap<String, DateTime<Utc>> {
    let mut out = HashMap::new();
    for r in crl.get_revoked().into_iter().flatten() {
        let serial = r.serial_number().to_bn().ok().and_then(|b| hex(&b).ok());
        if let (Some(s), Ok(d)) = (serial, to_utc(r.revocation_date())) {
            out.insert(s, d);
        }
    }
    out
}

/// The CA certificate and key of a new CA with common name `cn` and organisation `org`.
pub(super) fn new_ca(cn: &str, org: &str, days: u32) -> anyhow::Result<(X509, PKey<Private>)> {
    let key = new_key()?;
    let cert = sign(
        &*subject(cn, org)?,
        &key,
        &*random_serial()?,
        days,
        Profile::Ca,
        None,
    )?;
    Ok((cert, key))
}
