//! The gateway's PKI: a CA of its own, the server certificate, client certificates for the
//! callers, and the CRL that the TLS layer checks. Everything lives in one directory
//! (`pki.dir`); files are written atomically and private keys with mode 0600.

mod store;

pub use store::{fingerprint_sha256, issue_foreign_client, IssuedCert, Pki};
