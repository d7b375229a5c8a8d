//! `[tls]`: the SOAP listener's certificate, key, client CA and CRL.

use super::Errori;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: PathBuf,
    pub crl_file: PathBuf,
    pub crl_reload_secs: u64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert_file: "var/pki/server.pem".into(),
            key_file: "var/pki/server.key".into(),
            client_ca_file: "var/pki/ca.pem".into(),
            crl_file: "var/pki/crl.pem".into(),
            crl_reload_secs: 30,
        }
    }
}

impl TlsConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[("tls.crl_reload_secs", self.crl_reload_secs)]);
    }
}
