//! `[access]` and `[access_log]`: the access registry's refresh, the access log's batches and retention.

use super::Errori;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    pub registry_refresh_secs: u64,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            registry_refresh_secs: 30,
        }
    }
}

impl AccessConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[("access.registry_refresh_secs", self.registry_refresh_secs)]);
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessLogConfig {
    pub batch_max: usize,
    pub retention_months: u32,
    pub purge_interval_secs: u64,
}

impl Default for AccessLogConfig {
    fn default() -> Self {
        Self {
            batch_max: 1_000,
            retention_months: 12,
            purge_interval_secs: 86_400,
        }
    }
}

impl AccessLogConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[
            ("access_log.batch_max", self.batch_max as u64),
            (
                "access_log.retention_months",
                u64::from(self.retention_months),
            ),
            ("access_log.purge_interval_secs", self.purge_interval_secs),
        ]);
        if self.batch_max > 5_000 {
            // 12 columns a row: PostgreSQL takes at most 65,535 parameters a statement.
            errs.invalid("access_log.batch_max", "at most 5000 rows a batch");
        }
        if self.retention_months < 12 {
            errs.invalid(
                "access_log.retention_months",
                "the decree requires at least 12 months",
            );
        }
    }
}
