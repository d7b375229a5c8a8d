//! `[flussi]`: where uploaded flussi are kept, their size and time limits, and the import batches.

use super::Errori;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlussiConfig {
    pub dir: PathBuf,
    pub max_bytes: u64,
    pub upload_timeout_secs: u64,
    pub batch_records: usize,
    pub poll_secs: u64,
}

impl Default for FlussiConfig {
    fn default() -> Self {
        Self {
            dir: "var/flussi".into(),
            max_bytes: 2 * 1024 * 1024 * 1024,
            upload_timeout_secs: 1_800,
            batch_records: 20_000,
            poll_secs: 5,
        }
    }
}

impl FlussiConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.positive(&[
            ("flussi.max_bytes", self.max_bytes),
            ("flussi.upload_timeout_secs", self.upload_timeout_secs),
            ("flussi.batch_records", self.batch_records as u64),
            ("flussi.poll_secs", self.poll_secs),
        ]);
    }
}
