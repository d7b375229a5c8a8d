//! `[sso]`: the SAML 2.0 identity provider of operator SSO: its URLs, signing keys and time limits.

use super::Errori;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The SAML 2.0 identity provider of operator SSO (decree annex A §2), on the portal's port.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoConfig {
    /// The portal's public base URL (`https://host[:port]`, no path): the SSO endpoints and the
    /// metadata are under it. Port 0 = the port the portal was bound to (tests).
    pub base_url: String,
    /// The IdP's entityID; empty = `<base_url>/sso`.
    pub entity_id: String,
    /// The signing key and certificate (PEM) of Responses, Assertions and metadata.
    pub key_file: PathBuf,
    pub cert_file: PathBuf,
    /// A second certificate published in the metadata for a key rollover (empty = none): SPs
    /// learn it before `key_file`/`cert_file` switch to it.
    pub cert_file_successivo: PathBuf,
    /// Validity of an Assertion and of its bearer confirmation, in seconds.
    pub validita_secs: u64,
    /// How far `NotBefore` is backdated, in seconds (many SPs allow no clock skew).
    pub retrodatazione_secs: u64,
    /// Clock skew allowed on an AuthnRequest's `IssueInstant`, in seconds, both ways.
    pub tolleranza_secs: u64,
    /// How long an accepted AuthnRequest waits for the operator (login, choice), in seconds.
    pub attesa_secs: u64,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            base_url: "https://127.0.0.1:9443".into(),
            entity_id: String::new(),
            key_file: "var/pki/sso/idp.key".into(),
            cert_file: "var/pki/sso/idp.pem".into(),
            cert_file_successivo: PathBuf::new(),
            validita_secs: 300,
            retrodatazione_secs: 60,
            tolleranza_secs: 180,
            attesa_secs: 900,
        }
    }
}

impl SsoConfig {
    /// A `base_url` with port 0 takes the port the portal was bound to (tests bind port 0).
    pub fn con_porta(&mut self, porta: u16) {
        if let Some(host) = self.base_url.strip_suffix(":0") {
            self.base_url = format!("{host}:{porta}");
        }
    }

    /// The entityID in force.
    pub fn entity_id(&self) -> String {
        if self.entity_id.is_empty() {
            format!("{}/sso", self.base_url.trim_end_matches('/'))
        } else {
            self.entity_id.clone()
        }
    }

    pub(crate) fn validate(&self, errs: &mut Errori) {
        let base = &self.base_url;
        let host = base.strip_prefix("https://").unwrap_or("");
        if host.is_empty() || host.contains('/') || host.contains(['?', '#', ' ']) {
            errs.invalid(
                "sso.base_url",
                format!("`{base}` is not an https URL without a path, like https://portale.example:9443"),
            );
        }
        errs.between(&[
            ("sso.validita_secs", self.validita_secs, 30, 3600),
            ("sso.retrodatazione_secs", self.retrodatazione_secs, 0, 600),
            ("sso.tolleranza_secs", self.tolleranza_secs, 0, 3600),
            ("sso.attesa_secs", self.attesa_secs, 60, 86_400),
        ]);
    }
}
