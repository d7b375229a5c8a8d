//! The gateway's PKI: its own CA, the server certificate, client certificates for the callers
//! and the CRL that the TLS layer checks, all in one directory (layout in `store`); and `der`,
//! just enough DER for certificate extensions and for walking a CMS file on disk.
//! `cns` checks operators' smart-card (CNS/CIE) certificates; `cns_ca` is the demo CNS CA.

mod ca;
mod cns;
mod cns_ca;
mod cns_errore;
#[cfg(test)]
mod cns_tests;
pub mod der;
mod files;
mod store;
#[cfg(test)]
mod tests;

pub use ca::{fingerprint_sha256, CA_COMMON_NAME, CIE_POLICY_OID, CNS_POLICY_OID};
pub use cns::{
    verifica, CertificatoCns, ErroreBundleCns, TipoCertificato, TrustedCnsCas, CNS_CRL_FILE,
};
pub use cns_ca::{CnsCa, Emissione, CNS_CA_COMMON_NAME};
pub use cns_errore::{ClasseErrore, ErroreCertificato, NUMERO_VERDE};
pub use files::IssuedCert;
pub use store::{issue_foreign_client, Pki, RevokeTarget, CA_DAYS, CERT_DAYS, CRL_DAYS};
