//! The configuration's error type and `Errori`, the collector that lets one run report every bad value.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A setting that could not be used; the message names it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("unknown setting `{0}`")]
    Unknown(String),
    #[error("invalid value for setting `{setting}`: {message}")]
    Invalid { setting: String, message: String },
    /// More than one setting is bad: all of them, in the order of the sections.
    #[error("{} settings are invalid:{}", .0.len(), list(.0))]
    Several(Vec<ConfigError>),
}

fn list(errors: &[ConfigError]) -> String {
    errors.iter().map(|e| format!("\n  - {e}")).collect()
}

pub(crate) fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        message: message.into(),
    }
}

/// The bad values found so far. Every section's `validate` adds to it instead of stopping, so the
/// operator sees all of them at once; `into_result` turns them into one error.
#[derive(Debug, Default)]
pub(crate) struct Errori(Vec<ConfigError>);

impl Errori {
    /// Records an error. A setting already reported keeps its first error (a value of 0 that is
    /// also below a minimum is one mistake, not two).
    pub(crate) fn push(&mut self, error: ConfigError) {
        if let ConfigError::Invalid { setting, .. } = &error {
            let seen = self
                .0
                .iter()
                .any(|e| matches!(e, ConfigError::Invalid { setting: s, .. } if s == setting));
            if seen {
                return;
            }
        }
        self.0.push(error);
    }

    pub(crate) fn invalid(&mut self, setting: &str, message: impl Into<String>) {
        self.push(invalid(setting, message));
    }

    /// The value of a check that may fail; its error is recorded.
    pub(crate) fn ok<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `value` must be a socket address.
    pub(crate) fn address(&mut self, setting: &str, value: &str) -> Option<SocketAddr> {
        self.ok(value.parse().map_err(|_| {
            invalid(
                setting,
                format!("`{value}` is not an address like 127.0.0.1:8443"),
            )
        }))
    }

    /// Each of the settings must be greater than zero.
    pub(crate) fn positive(&mut self, settings: &[(&str, u64)]) {
        for &(setting, value) in settings {
            if value == 0 {
                self.invalid(setting, "must be greater than zero");
            }
        }
    }

    /// Each of the settings must lie in `min..=max`.
    pub(crate) fn between(&mut self, settings: &[(&str, u64, u64, u64)]) {
        for &(setting, value, min, max) in settings {
            if !(min..=max).contains(&value) {
                self.invalid(
                    setting,
                    format!("must be between {min} and {max}, got {value}"),
                );
            }
        }
    }

    /// No error, the only one, or all of them as `ConfigError::Several`.
    pub(crate) fn into_result(mut self) -> Result<(), ConfigError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => Err(ConfigError::Several(self.0)),
        }
    }
}
