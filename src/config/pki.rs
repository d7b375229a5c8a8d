//! `[pki]`: where the gateway's own CA and issued certificates live.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PkiConfig {
    pub dir: PathBuf,
}

impl Default for PkiConfig {
    fn default() -> Self {
        Self {
            dir: "var/pki".into(),
        }
    }
}
