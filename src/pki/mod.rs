//! The gateway's PKI: its own CA, the server certificate, client certificates for the callers
//! and the CRL that the TLS layer checks, all in one directory (layout in `store`); and `der`,
//! just enough DER for certificate extensions and for walking a CMS file on disk.

mod ca;
pub mod der;
mod files;
mod store;
#[cfg(test)]
mod tests;

pub use ca::{fingerprint_sha256, CA_COMMON_NAME, CNS_POLICY_OID};
pub use files::IssuedCert;
pub use store::{issue_foreign_client, Pki, RevokeTarget, CA_DAYS, CERT_DAYS, CRL_DAYS};
