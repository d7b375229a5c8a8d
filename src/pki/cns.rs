//! Checks of the CNS (or CIE) certificate an operator presents to the portal: validity dates,
//! chain to the trusted CNS CAs, CNS/CIE authentication policy, codice fiscale in the subject CN.
//! The portal's TLS layer accepts any client certificate at the handshake; this decides.

use super::ca::{self, CIE_POLICY_OID, CNS_POLICY_OID};
use super::der;
use super::ErroreCertificato;
use crate::domain::CodiceFiscale;
use chrono::{DateTime, Utc};
use openssl::asn1::Asn1Object;
use openssl::nid::Nid;
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509NameRef, X509PurposeId, X509Ref, X509StoreContext, X509};
use std::path::{Path, PathBuf};

/// The CRL file read, if it exists, from the directory of the CA bundle.
pub const CNS_CRL_FILE: &str = "crl.pem";

/// Which card the certificate comes from, by its certificate policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TipoCertificato {
    /// Carta Nazionale dei Servizi (also the TS-CNS): policy `1.3.76.16.2.1`.
    Cns,
    /// Carta d'Identità Elettronica: policy `1.3.76.47.4`.
    Cie,
}

impl TipoCertificato {
    /// The certificate policy OID that marks this kind of authentication certificate.
    pub fn policy_oid(self) -> &'static str {
        match self {
            TipoCertificato::Cns => CNS_POLICY_OID,
            TipoCertificato::Cie => CIE_POLICY_OID,
        }
    }
}

/// A certificate that passed every check of [`verifica`]: what the portal binds to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatoCns {
    /// The first 16 characters of the subject CN, with a correct check character.
    pub codice_fiscale: CodiceFiscale,
    /// SHA-256 of the DER, lowercase hex (see [`fingerprint_sha256`](super::fingerprint_sha256)):
    /// what identifies "this card" when the operator logs in again.
    pub fingerprint: String,
    /// Serial number, uppercase hex.
    pub serial: String,
    /// Issuer and subject, `C=IT, O=..., CN=...` in certificate order.
    pub issuer: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub tipo: TipoCertificato,
}

/// Why the bundle of trusted CNS CAs cannot be loaded; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ErroreBundleCns {
    #[error("cannot read the CNS CA bundle {path}: {source}")]
    Lettura {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a PEM bundle of CA certificates: {source}")]
    Formato {
        path: PathBuf,
        source: openssl::error::ErrorStack,
    },
    #[error("{path} holds no certificate")]
    Vuoto { path: PathBuf },
    #[error(
        "{path} holds a certificate that is not a CA (no basicConstraints CA:TRUE): {subject}"
    )]
    NonCa { path: PathBuf, subject: String },
    #[error("cannot load the CNS revocation list {path}: {source}")]
    Crl {
        path: PathBuf,
        source: openssl::error::ErrorStack,
    },
}

/// The CAs whose CNS/CIE certificates the portal accepts (setting `portal.cns_ca_file`).
/// Every certificate of the bundle is a trust anchor, roots or intermediates alike. If a
/// [`CNS_CRL_FILE`] sits beside the bundle (at load, or from any later time), revocation is
/// checked against it at every verification (re-read each time, so a refreshed file needs no
/// restart; one that disappears after load refuses every card); it must then hold a
/// current CRL of every CA that issues cards, or those cards are refused as
/// [`ErroreCertificato::SistemiSicurezza`].
#[derive(Debug, Clone)]
pub struct TrustedCnsCas {
    path: PathBuf,
    anchors: Vec<X509>,
    /// [`CNS_CRL_FILE`] beside the bundle.
    crl: PathBuf,
    /// Whether the CRL was there at load: then its disappearance is a failure, not a reason to
    /// stop checking revocation.
    crl_richiesto: bool,
}

// Shared by every connection of the portal.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TrustedCnsCas>();
};

impl TrustedCnsCas {
    /// Loads the PEM bundle at `path` (one or more CA certificates) and notes the CRL file
    /// beside it if there is one (checked to load now, so a bad one stops the start).
    pub fn load(path: &Path) -> Result<TrustedCnsCas, ErroreBundleCns> {
        let pem = std::fs::read(path).map_err(|source| ErroreBundleCns::Lettura {
            path: path.to_owned(),
            source,
        })?;
        let anchors = X509::stack_from_pem(&pem).map_err(|source| ErroreBundleCns::Formato {
            path: path.to_owned(),
            source,
        })?;
        if anchors.is_empty() {
            return Err(ErroreBundleCns::Vuoto {
                path: path.to_owned(),
            });
        }
        let crl = path.parent().unwrap_or(Path::new(".")).join(CNS_CRL_FILE);
        let trusted = TrustedCnsCas {
            path: path.to_owned(),
            anchors,
            crl_richiesto: crl.exists(),
            crl,
        };
        for a in &trusted.anchors {
            if !is_ca(a) {
                return Err(ErroreBundleCns::NonCa {
                    path: path.to_owned(),
                    subject: dn(a.subject_name()),
                });
            }
        }
        if trusted.crl_richiesto {
            trusted
                .store(Utc::now())
                .map_err(|source| ErroreBundleCns::Crl {
                    path: trusted.crl.clone(),
                    source,
                })?;
        }
        Ok(trusted)
    }

    /// The bundle file this was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The trusted CA certificates, in bundle order.
    pub fn certificates(&self) -> &[X509] {
        &self.anchors
    }

    /// A store of the anchors (and CRLs) that verifies at `now` for TLS client authentication.
    fn store(
        &self,
        now: DateTime<Utc>,
    ) -> Result<openssl::x509::store::X509Store, openssl::error::ErrorStack> {
        let mut b = X509StoreBuilder::new()?;
        for a in &self.anchors {
            b.add_cert(a.clone())?;
        }
        let mut flags = X509VerifyFlags::PARTIAL_CHAIN;
        // A CRL that appears later is used from then on; one that was there and went missing
        // fails the load below (the lookup cannot read it), so revocation is never skipped.
        if self.crl_richiesto || self.crl.exists() {
            b.add_lookup(X509Lookup::file())?
                .load_crl_file(&self.crl, openssl::ssl::SslFiletype::PEM)?;
            flags |= X509VerifyFlags::CRL_CHECK;
        }
        let mut param = X509VerifyParam::new()?;
        param.set_flags(flags)?;
        param.set_purpose(X509PurposeId::SSL_CLIENT)?;
        param.set_time(now.timestamp());
        b.set_param(&param)?;
        Ok(b.build())
    }
}

/// `C=IT, O=..., CN=...`: the entries of a name in certificate order.
fn dn(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".to_owned());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// OpenSSL verification results (X509_V_ERR_*, stable across versions).
const ERR_UNABLE_TO_GET_CRL: i32 = 3;
const ERR_CERT_NOT_YET_VALID: i32 = 9;
const ERR_CERT_HAS_EXPIRED: i32 = 10;
const ERR_CRL_NOT_YET_VALID: i32 = 11;
const ERR_CRL_HAS_EXPIRED: i32 = 12;
const ERR_CERT_REVOKED: i32 = 23;
const ERR_INVALID_PURPOSE: i32 = 26;

/// Checks the certificate an operator presented: `leaf` with the certificates the browser sent
/// after it (`chain`, untrusted: only the bundle is trusted) at time `now`. In this order:
/// validity dates of the leaf (not yet valid / expired), the chain to `trusted` (with the CAs'
/// own dates, purpose TLS client and, if there is a CRL file, revocation), the certificate
/// policy CNS `1.3.76.16.2.1` or CIE `1.3.76.47.4`, and the codice fiscale in the first 16
/// characters of the subject CN (check character included). Every refusal is of class
/// [`Certificato`](super::ClasseErrore::Certificato), except a CRL file that cannot be used
/// ([`SistemiSicurezza`](super::ClasseErrore::SistemiSicurezza)). Whether the codice fiscale
/// belongs to an enabled user is for the caller to decide.
pub fn verifica(
    trusted: &TrustedCnsCas,
    leaf: &X509Ref,
    chain: &[X509],
    now: DateTime<Utc>,
) -> Result<CertificatoCns, ErroreCertificato> {
    let illeggibile = |e: &dyn std::fmt::Display| ErroreCertificato::Illeggibile {
        dettaglio: e.to_string(),
    };
    let not_before = ca::to_utc(leaf.not_before()).map_err(|e| illeggibile(&e))?;
    let not_after = ca::to_utc(leaf.not_after()).map_err(|e| illeggibile(&e))?;
    if now < not_before {
        return Err(ErroreCertificato::NonAncoraValido { dal: not_before });
    }
    if now > not_after {
        return Err(ErroreCertificato::Scaduto { il: not_after });
    }
    verifica_catena(trusted, leaf, chain, now)?;
    let tipo = tipo(leaf)?;
    let cn = leaf
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_default();
    let codice_fiscale = cn
        .get(..16)
        .and_then(|cf| CodiceFiscale::parse(cf).ok())
        .ok_or_else(|| ErroreCertificato::CodiceFiscaleNonValido { cn: cn.clone() })?;
    Ok(CertificatoCns {
        codice_fiscale,
        fingerprint: ca::fingerprint_sha256(leaf),
        serial: ca::serial_of(leaf).map_err(|e| illeggibile(&e))?,
        issuer: dn(leaf.issuer_name()),
        subject: dn(leaf.subject_name()),
        not_before,
        not_after,
        tipo,
    })
}

fn verifica_catena(
    trusted: &TrustedCnsCas,
    leaf: &X509Ref,
    chain: &[X509],
    now: DateTime<Utc>,
) -> Result<(), ErroreCertificato> {
    let sistemi = |e: openssl::error::ErrorStack| ErroreCertificato::SistemiSicurezza {
        dettaglio: format!("CNS verification store: {e}"),
    };
    let store = trusted.store(now).map_err(sistemi)?;
    let mut untrusted = Stack::new().map_err(sistemi)?;
    for c in chain {
        untrusted.push(c.clone()).map_err(sistemi)?;
    }
    let mut ctx = X509StoreContext::new().map_err(sistemi)?;
    let outcome = ctx
        .init(&store, leaf, &untrusted, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error(), c.error_depth()))
        })
        .map_err(sistemi)?;
    let (ok, error, depth) = outcome;
    if ok {
        return Ok(());
    }
    let dettaglio = format!("{} (depth {depth})", error.error_string());
    Err(match (error.as_raw(), depth) {
        (ERR_CERT_NOT_YET_VALID | ERR_CERT_HAS_EXPIRED, 0) => {
            // The dates were checked against `now` already; only a race at the boundary.
            ErroreCertificato::Illeggibile { dettaglio }
        }
        (ERR_CERT_REVOKED, _) => ErroreCertificato::Revocato,
        (ERR_INVALID_PURPOSE, 0) => ErroreCertificato::NonAutenticazione,
        (ERR_UNABLE_TO_GET_CRL | ERR_CRL_NOT_YET_VALID | ERR_CRL_HAS_EXPIRED, _) => {
            ErroreCertificato::SistemiSicurezza { dettaglio }
        }
        _ => ErroreCertificato::CaNonAffidabile { dettaglio },
    })
}

/// CNS or CIE by the certificatePolicies extension (2.5.29.32); neither is a refusal.
fn tipo(leaf: &X509Ref) -> Result<TipoCertificato, ErroreCertificato> {
    let der = leaf.to_der().map_err(|e| ErroreCertificato::Illeggibile {
        dettaglio: e.to_string(),
    })?;
    let policies = policy_oids(&der).map_err(|e| ErroreCertificato::Illeggibile {
        dettaglio: format!("certificatePolicies: {e}"),
    })?;
    for tipo in [TipoCertificato::Cns, TipoCertificato::Cie] {
        let oid = Asn1Object::from_str(tipo.policy_oid()).map_err(|e| {
            ErroreCertificato::Illeggibile {
                dettaglio: e.to_string(),
            }
        })?;
        if policies.iter().any(|p| p.as_slice() == oid.as_slice()) {
            return Ok(tipo);
        }
    }
    Err(ErroreCertificato::NonAutenticazione)
}

/// The content of the extnValue OCTET STRING of the extension `oid` (content bytes of the
/// OID) in a DER certificate, if present.
fn extension<'a>(cert_der: &'a [u8], oid: &[u8]) -> Result<Option<&'a [u8]>, der::DerError> {
    let bad = |m: &str| der::DerError(m.to_owned());
    let (_, certificate, _, _) = der::split(cert_der)?;
    let (tag, tbs, _, _) = der::split(certificate)?;
    if tag != 0x30 {
        return Err(bad("tbsCertificate is not a SEQUENCE"));
    }
    let Some((_, extensions, _, _)) = der::children(tbs)?.into_iter().find(|c| c.0 == 0xa3) else {
        return Ok(None);
    };
    let (_, extensions, _, _) = der::split(extensions)?;
    for (_, ext, _, _) in der::children(extensions)? {
        let parts = der::children(ext)?;
        let Some((0x06, id, _, _)) = parts.first().copied() else {
            return Err(bad("extension without extnID"));
        };
        if id != oid {
            continue;
        }
        let Some((0x04, value, _, _)) = parts.last().copied() else {
            return Err(bad("extension without extnValue"));
        };
        return Ok(Some(value));
    }
    Ok(None)
}

/// The policy OIDs (content bytes of each policyIdentifier) of a DER certificate's
/// certificatePolicies extension (2.5.29.32); empty if it has none.
pub(super) fn policy_oids(cert_der: &[u8]) -> Result<Vec<Vec<u8>>, der::DerError> {
    let Some(value) = extension(cert_der, &[0x55, 0x1d, 0x20])? else {
        return Ok(Vec::new());
    };
    let (_, infos, _, _) = der::split(value)?;
    let mut out = Vec::new();
    for (_, info, _, _) in der::children(infos)? {
        match der::split(info)? {
            (0x06, policy, _, _) => out.push(policy.to_vec()),
            _ => {
                return Err(der::DerError(
                    "PolicyInformation without policyIdentifier".into(),
                ))
            }
        }
    }
    Ok(out)
}

/// Whether a certificate says it is a CA: basicConstraints (2.5.29.19) with cA TRUE.
fn is_ca(c: &X509Ref) -> bool {
    let Ok(der) = c.to_der() else {
        return false;
    };
    let Ok(Some(value)) = extension(&der, &[0x55, 0x1d, 0x13]) else {
        return false;
    };
    match der::split(value) {
        Ok((0x30, seq, _, _)) => matches!(der::split(seq), Ok((0x01, [b, ..], _, _)) if *b != 0),
        _ => false,
    }
}
