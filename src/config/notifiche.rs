//! `[notifiche]`: when the daily notifications are produced and how often the job looks.

use super::{invalid, ConfigError, Errori};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificheConfig {
    pub ora_produzione: String,
    pub controllo_secs: u64,
}

impl Default for NotificheConfig {
    fn default() -> Self {
        Self {
            ora_produzione: "02:00".into(),
            controllo_secs: 300,
        }
    }
}

impl NotificheConfig {
    /// `ora_produzione` as a time of day (Europe/Rome).
    pub fn ora(&self) -> Result<chrono::NaiveTime, ConfigError> {
        chrono::NaiveTime::parse_from_str(&self.ora_produzione, "%H:%M").map_err(|_| {
            invalid(
                "notifiche.ora_produzione",
                format!("`{}` is not a time like 02:00", self.ora_produzione),
            )
        })
    }

    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[("notifiche.controllo_secs", self.controllo_secs)]);
        errs.ok(self.ora());
    }
}
