//! `[log]`: the format and level of the tracing output.

use super::Errori;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: String,
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl LogConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        if !matches!(self.format.as_str(), "text" | "json") {
            errs.invalid("log.format", "must be `text` or `json`");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.level).is_err() {
            errs.invalid("log.level", "not a valid tracing filter (e.g. `info`)");
        }
    }
}
