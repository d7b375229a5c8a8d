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
    /// Threads that run the look-ups, and the writes, of concurrent requests in batches
    /// (`soap::batch`); each takes a pooled connection per batch.
    pub lookup_threads: usize,
    pub write_threads: usize,
    pub embedded_dir: PathBuf,
    pub embedded_port: u16,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            pool_size: 16,
            pool_timeout_ms: 2_000,
            lookup_threads: 4,
            write_threads: 4,
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
            ("database.lookup_threads", self.lookup_threads as u64),
            ("database.write_threads", self.write_threads as u64),
        ]);
        if self.lookup_threads + self.write_threads > self.pool_size as usize {
            errs.invalid(
                "database.lookup_threads",
                "lookup_threads + write_threads must not exceed database.pool_size (each \
                 thread takes a connection per batch)",
            );
        }
        if !self.url.is_empty() && !self.url.starts_with("postgres") {
            errs.invalid("database.url", "must be empty or a postgres:// URL");
        }
    }
}
