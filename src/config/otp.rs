//! `[otp]`: the Immuni-compatible OTP service this gateway serves, and the client that authorises OTPs.

use super::{invalid, ConfigError, Errori};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The Immuni-compatible OTP service this gateway serves, and the client that authorises OTPs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtpConfig {
    /// Address of the OTP service (mutual TLS); empty = not served.
    pub servizio_listen: String,
    /// Where the client sends `POST /v1/otp`; port 0 = the port the own service was bound to.
    pub servizio_url: String,
    pub timeout_ms: u64,
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    pub ca_file: PathBuf,
}

impl Default for OtpConfig {
    fn default() -> Self {
        Self {
            servizio_listen: "127.0.0.1:9444".into(),
            servizio_url: "https://127.0.0.1:9444/v1/otp".into(),
            timeout_ms: 5_000,
            client_cert_file: "var/pki/clients/tsgate-otp.pem".into(),
            client_key_file: "var/pki/clients/tsgate-otp.key".into(),
            ca_file: "var/pki/ca.pem".into(),
        }
    }
}

impl OtpConfig {
    /// `servizio_url` split into host, port and path; it must be `https://host[:port]/path`.
    pub fn destinazione(&self) -> Result<(String, u16, String), ConfigError> {
        let bad = |why: &str| invalid("otp.servizio_url", format!("`{}` {why}", self.servizio_url));
        let uri: http::Uri = self.servizio_url.parse().map_err(|_| bad("is not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("must start with https://"));
        }
        let host = uri.host().ok_or_else(|| bad("has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ok((host, uri.port_u16().unwrap_or(443), path))
    }

    pub(crate) fn validate(&self, errs: &mut Errori) {
        if !self.servizio_listen.is_empty() {
            errs.address("otp.servizio_listen", &self.servizio_listen);
        }
        errs.ok(self.destinazione());
        if self.timeout_ms > 300_000 {
            errs.invalid("otp.timeout_ms", "at most 300000 (five minutes)");
        }
        errs.positive(&[("otp.timeout_ms", self.timeout_ms)]);
    }
}
