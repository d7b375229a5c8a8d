//! `[database]`: the PostgreSQL URL and pool, or the embedded server's directory and port.

use super::Errori;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
    pub pool_timeout_ms: u64,
    pub embedded_dir: PathBuf,
    pub embedded_port: u16,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            pool_size: 16,
            pool_timeout_ms: 2_000,
            embedded_dir: "var/pg".into(),
            embedded_port: 54329,
        }
    }
}

impl DatabaseConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[
            ("database.pool_size", u64::from(self.pool_size)),
            ("database.pool_timeout_ms", self.pool_timeout_ms),
        ]);
        if !self.url.is_empty() && !self.url.starts_with("postgres") {
            errs.invalid("database.url", "must be empty or a postgres:// URL");
        }
    }
}
