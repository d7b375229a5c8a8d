//! `[portal]`: the operators' web portal: its listener, CNS CA, pincode key, login and session limits.

use super::Errori;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    pub listen: String,
    pub cns_ca_file: PathBuf,
    pub pincode_key_file: PathBuf,
    pub max_tentativi: u32,
    pub blocco_minuti: u32,
    pub scadenza_password_giorni: u32,
    pub sessione_inattiva_secs: u64,
    pub sessione_massima_secs: u64,
    pub otp_invii_ora: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9443".into(),
            cns_ca_file: "var/pki/cns/ca.pem".into(),
            pincode_key_file: "var/portal/pincode.key".into(),
            max_tentativi: 5,
            blocco_minuti: 15,
            scadenza_password_giorni: 90,
            sessione_inattiva_secs: 900,
            sessione_massima_secs: 28_800,
            otp_invii_ora: 30,
        }
    }
}

impl PortalConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.address("portal.listen", &self.listen);
        for (name, v, max) in [
            (
                "portal.sessione_inattiva_secs",
                self.sessione_inattiva_secs,
                86_400,
            ),
            (
                "portal.sessione_massima_secs",
                self.sessione_massima_secs,
                7 * 86_400,
            ),
            (
                "portal.blocco_minuti",
                u64::from(self.blocco_minuti),
                7 * 24 * 60,
            ),
            (
                "portal.scadenza_password_giorni",
                u64::from(self.scadenza_password_giorni),
                3_650,
            ),
            ("portal.max_tentativi", u64::from(self.max_tentativi), 100),
        ] {
            if v > max {
                errs.invalid(name, format!("{v} is more than the largest allowed, {max}"));
            }
        }
        errs.positive(&[
            ("portal.max_tentativi", u64::from(self.max_tentativi)),
            ("portal.blocco_minuti", u64::from(self.blocco_minuti)),
            (
                "portal.scadenza_password_giorni",
                u64::from(self.scadenza_password_giorni),
            ),
            ("portal.sessione_inattiva_secs", self.sessione_inattiva_secs),
            ("portal.sessione_massima_secs", self.sessione_massima_secs),
            ("portal.otp_invii_ora", u64::from(self.otp_invii_ora)),
        ]);
    }
}
