//! Settings: the `Config` root and its one loader, `conf/tsgate.toml` < environment `TSGATE_<SECTION>_<KEY>` < CLI flags.
//!
//! Every setting has a default (see `conf/tsgate.toml`). Each section lives in its own file with
//! the checks of its values. A bad value does not stop the checks: the loader goes on and fails
//! with one error that lists every bad setting by name (only a file that cannot be read or is not
//! TOML stops it at once). The environment is passed in as pairs so tests hand over a map instead
//! of touching the process environment. CLI flags are applied by the caller, which then calls
//! `Config::validate` again.

mod access;
mod database;
mod errori;
mod flussi;
mod log;
mod monitoraggio;
mod notifiche;
mod otp;
mod pki;
mod portal;
mod server;
mod sso;
#[cfg(test)]
mod tests;
mod tls;
mod xml;

pub use access::{AccessConfig, AccessLogConfig};
pub use database::DatabaseConfig;
pub use errori::ConfigError;
pub(crate) use errori::{invalid, Errori};
pub use flussi::FlussiConfig;
pub use log::LogConfig;
pub use monitoraggio::MonitoraggioConfig;
pub use notifiche::NotificheConfig;
pub use otp::OtpConfig;
pub use pki::PkiConfig;
pub use portal::PortalConfig;
pub use server::ServerConfig;
pub use sso::SsoConfig;
pub use tls::TlsConfig;
pub use xml::XmlConfig;

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub database: DatabaseConfig,
    pub xml: XmlConfig,
    pub access: AccessConfig,
    pub access_log: AccessLogConfig,
    pub log: LogConfig,
    pub pki: PkiConfig,
    pub notifiche: NotificheConfig,
    pub flussi: FlussiConfig,
    pub portal: PortalConfig,
    pub otp: OtpConfig,
    pub sso: SsoConfig,
    pub monitoraggio: MonitoraggioConfig,
}

impl Config {
    /// Loads the defaults, then `file` (if any), then the `TSGATE_*` pairs of `env`, and checks
    /// every value. `TSGATE_CONFIG` (the file's path) and `TSGATE_TEST_*` are not settings.
    /// A setting that is unknown, of the wrong type or out of range keeps its default while the
    /// rest are checked; the error then names all of them.
    pub fn load<I>(file: Option<&Path>, env: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let defaults = toml::Value::try_from(Config::default())
            .map_err(|e| invalid("(defaults)", e.to_string()))?;
        let mut merged = defaults.clone();
        let mut errs = Errori::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let value: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
            merge_file(&defaults, &mut merged, value, &mut errs);
        }
        for (key, raw) in env {
            if !key.starts_with("TSGATE_")
                || key == "TSGATE_CONFIG"
                || key.starts_with("TSGATE_TEST_")
            {
                continue;
            }
            merge_env(&defaults, &mut merged, &key, &raw, &mut errs);
        }
        let config = errs.ok(merged
            .try_into::<Config>()
            .map_err(|e| invalid("(configuration)", e.to_string())));
        if let Some(config) = &config {
            config.check(&mut errs);
        }
        errs.into_result()?;
        config.ok_or_else(|| invalid("(configuration)", "could not be built"))
    }

    /// Semantic checks the types cannot express: every bad value, in one error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut errs = Errori::default();
        self.check(&mut errs);
        errs.into_result()
    }

    /// Each section's checks, then those across sections.
    fn check(&self, errs: &mut Errori) {
        self.server.validate(errs);
        self.tls.validate(errs);
        self.database.validate(errs);
        self.xml.validate(errs);
        self.access.validate(errs);
        self.access_log.validate(errs);
        self.log.validate(errs);
        self.notifiche.validate(errs);
        self.flussi.validate(errs);
        self.portal.validate(errs);
        self.otp.validate(errs);
        self.sso.validate(errs);
        self.monitoraggio.validate(errs);
        if self.monitoraggio.retention_months < self.access_log.retention_months {
            errs.invalid(
                "monitoraggio.retention_months",
                "the aggregates must be kept at least as long as the access log",
            );
        }
    }
}

/// Overlays a file's table on the defaults: every key must exist, keep its type and fit it.
fn merge_file(
    defaults: &toml::Value,
    merged: &mut toml::Value,
    file: toml::Table,
    errs: &mut Errori,
) {
    for (section, value) in file {
        let Some(target) = merged.get_mut(&section).and_then(|v| v.as_table_mut()) else {
            errs.push(ConfigError::Unknown(section));
            continue;
        };
        let toml::Value::Table(entries) = value else {
            errs.invalid(&section, "must be a table ([section])");
            continue;
        };
        for (key, v) in entries {
            let name = format!("{section}.{key}");
            let Some(slot) = target.get_mut(&key) else {
                errs.push(ConfigError::Unknown(name));
                continue;
            };
            if slot.type_str() != v.type_str() {
                errs.invalid(
                    &name,
                    format!("expected a {}, found a {}", slot.type_str(), v.type_str()),
                );
                continue;
            }
            match fits(defaults, &section, &key, &v) {
                Ok(()) => *slot = v,
                Err(why) => errs.invalid(&name, why),
            }
        }
    }
}

/// Applies one `TSGATE_<SECTION>_<KEY>` variable, parsed as the setting's type.
fn merge_env(
    defaults: &toml::Value,
    merged: &mut toml::Value,
    var: &str,
    raw: &str,
    errs: &mut Errori,
) {
    let Some(sections) = merged.as_table_mut() else {
        errs.invalid(var, "internal: defaults are not a table");
        return;
    };
    for (section, table) in sections.iter_mut() {
        let Some(table) = table.as_table_mut() else {
            continue;
        };
        for (key, slot) in table.iter_mut() {
            if format!("TSGATE_{section}_{key}").to_uppercase() != var {
                continue;
            }
            let value = match &*slot {
                toml::Value::String(_) => Ok(toml::Value::String(raw.to_owned())),
                toml::Value::Integer(_) => raw
                    .trim()
                    .parse()
                    .map(toml::Value::Integer)
                    .map_err(|_| format!("`{raw}` is not a whole number")),
                toml::Value::Boolean(_) => raw
                    .trim()
                    .parse()
                    .map(toml::Value::Boolean)
                    .map_err(|_| format!("`{raw}` is not true or false")),
                other => Err(format!(
                    "cannot be set from the environment ({})",
                    other.type_str()
                )),
            };
            match value.and_then(|v| fits(defaults, section, key, &v).map(|()| v)) {
                Ok(v) => *slot = v,
                Err(why) => errs.invalid(&format!("{section}.{key} (from {var})"), why),
            }
            return;
        }
    }
    errs.push(ConfigError::Unknown(var.to_owned()));
}

/// Whether the setting's Rust type takes `value`: a whole number may not fit it (70000 for a
/// port, -1 for a count), which only deserialising shows.
fn fits(
    defaults: &toml::Value,
    section: &str,
    key: &str,
    value: &toml::Value,
) -> Result<(), String> {
    let mut probe = defaults.clone();
    if let Some(slot) = probe.get_mut(section).and_then(|s| s.get_mut(key)) {
        *slot = value.clone();
    }
    probe
        .try_into::<Config>()
        .map(drop)
        .map_err(|e| e.message().to_owned())
}
