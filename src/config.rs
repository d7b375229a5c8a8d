//! Settings: `conf/tsgate.toml` < environment `TSGATE_<SECTION>_<KEY>` < CLI flags.
//!
//! Every setting has a default (see `conf/tsgate.toml`). Values are checked while they are merged,
//! so a bad value stops the start with the setting's name. The environment is passed in as pairs
//! so tests hand over a map instead of touching the process environment.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub soap_listen: String,
    pub admin_listen: String,
    pub public_base_url: String,
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
    pub handshake_timeout_ms: u64,
    pub header_read_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            soap_listen: "127.0.0.1:8443".into(),
            admin_listen: "127.0.0.1:9090".into(),
            public_base_url: String::new(),
            max_body_bytes: 1024 * 1024,
            max_concurrent_requests: 200,
            handshake_timeout_ms: 10_000,
            header_read_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            shutdown_grace_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: PathBuf,
    pub crl_file: PathBuf,
    pub crl_reload_secs: u64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert_file: "var/pki/server.pem".into(),
            key_file: "var/pki/server.key".into(),
            client_ca_file: "var/pki/ca.pem".into(),
            crl_file: "var/pki/crl.pem".into(),
            crl_reload_secs: 30,
        }
    }
}

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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct XmlConfig {
    pub max_depth: usize,
    pub max_attributes: usize,
    pub max_children: usize,
}

impl Default for XmlConfig {
    fn default() -> Self {
        Self {
            max_depth: 100,
            max_attributes: 500,
            max_children: 50_000,
        }
    }
}

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

/// The monitoring reports and the misuse analysis (decree annex A 7.4, 7.7).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitoraggioConfig {
    /// Months the aggregates are kept (longer than the access log they summarise).
    pub retention_months: u32,
    /// How often the background job merges the aggregates' deltas, refreshes the patients per
    /// region and evaluates the misuse flags, in seconds.
    pub intervallo_secs: u64,
    /// Misuse: calls of a region per day, per 1,000 patients of the region, above which the day
    /// is flagged.
    pub soglia_giornaliera_per_mille: f64,
    /// The same per week.
    pub soglia_settimanale_per_mille: f64,
    /// Misuse: a day (week) whose calls exceed this many times the region's median of the
    /// preceding days (weeks) is flagged, even under the threshold.
    pub fattore_mediana: f64,
    /// How many preceding days make the trailing median (weeks: this ÷ 7, at least 4).
    pub finestra_mediana_giorni: u32,
    /// Days and weeks with fewer calls than this are never flagged against the median.
    pub minimo_chiamate: i64,
    /// Groups shown in a report before the rest is summed as "Altri".
    pub top: usize,
}

impl Default for MonitoraggioConfig {
    fn default() -> Self {
        Self {
            retention_months: 60,
            intervallo_secs: 60,
            soglia_giornaliera_per_mille: 50.0,
            soglia_settimanale_per_mille: 250.0,
            fattore_mediana: 3.0,
            finestra_mediana_giorni: 28,
            minimo_chiamate: 100,
            top: 10,
        }
    }
}

/// The SAML 2.0 identity provider of operator SSO (decree annex A §2), on the portal's port.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoConfig {
    /// The portal's public base URL (`https://host[:port]`, no path): the SSO endpoints and the
    /// metadata are under it. Port 0 = the port the portal was bound to (tests).
    pub base_url: String,
    /// The IdP's entityID; empty = `<base_url>/sso`.
    pub entity_id: String,
    /// The signing key and certificate (PEM) of Responses, Assertions and metadata.
    pub key_file: PathBuf,
    pub cert_file: PathBuf,
    /// A second certificate published in the metadata for a key rollover (empty = none): SPs
    /// learn it before `key_file`/`cert_file` switch to it.
    pub cert_file_successivo: PathBuf,
    /// Validity of an Assertion and of its bearer confirmation, in seconds.
    pub validita_secs: u64,
    /// How far `NotBefore` is backdated, in seconds (many SPs allow no clock skew).
    pub retrodatazione_secs: u64,
    /// Clock skew allowed on an AuthnRequest's `IssueInstant`, in seconds, both ways.
    pub tolleranza_secs: u64,
    /// How long an accepted AuthnRequest waits for the operator (login, choice), in seconds.
    pub attesa_secs: u64,
}

impl Default for SsoConfig {
    fn default() -> Self {
        Self {
            base_url: "https://127.0.0.1:9443".into(),
            entity_id: String::new(),
            key_file: "var/pki/sso/idp.key".into(),
            cert_file: "var/pki/sso/idp.pem".into(),
            cert_file_successivo: PathBuf::new(),
            validita_secs: 300,
            retrodatazione_secs: 60,
            tolleranza_secs: 180,
            attesa_secs: 900,
        }
    }
}

impl SsoConfig {
    /// A `base_url` with port 0 takes the port the portal was bound to (tests bind port 0).
    pub fn con_porta(&mut self, porta: u16) {
        if let Some(host) = self.base_url.strip_suffix(":0") {
            self.base_url = format!("{host}:{porta}");
        }
    }

    /// The entityID in force.
    pub fn entity_id(&self) -> String {
        if self.entity_id.is_empty() {
            format!("{}/sso", self.base_url.trim_end_matches('/'))
        } else {
            self.entity_id.clone()
        }
    }
}

/// The Immuni-compatible OTP service this gateway serves, and the client that authorises OTPs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtpConfig {
    /// Address of the OTP service (mutual TLS); empty = not served.
    pub servizio_listen: String,
    /// Where the client sends `POST /v1/otp`; port 0 = the port the own service was bound to.
    pub servizio_url: String,
    pub timeout_ms: u64,
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    pub ca_file: PathBuf,
}

impl Default for OtpConfig {
    fn default() -> Self {
        Self {
            servizio_listen: "127.0.0.1:9444".into(),
            servizio_url: "https://127.0.0.1:9444/v1/otp".into(),
            timeout_ms: 5_000,
            client_cert_file: "var/pki/clients/tsgate-otp.pem".into(),
            client_key_file: "var/pki/clients/tsgate-otp.key".into(),
            ca_file: "var/pki/ca.pem".into(),
        }
    }
}

impl OtpConfig {
    /// `servizio_url` split into host, port and path; it must be `https://host[:port]/path`.
    pub fn destinazione(&self) -> Result<(String, u16, String), ConfigError> {
        let bad = |why: &str| invalid("otp.servizio_url", format!("`{}` {why}", self.servizio_url));
        let uri: http::Uri = self.servizio_url.parse().map_err(|_| bad("is not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("must start with https://"));
        }
        let host = uri.host().ok_or_else(|| bad("has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ok((host, uri.port_u16().unwrap_or(443), path))
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
}

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
}

fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        message: message.into(),
    }
}

impl Config {
    /// Loads the defaults, then `file` (if any), then the `TSGATE_*` pairs of `env`, and checks
    /// every value. `TSGATE_CONFIG` (the file's path) and `TSGATE_TEST_*` are not settings.
    pub fn load<I>(file: Option<&Path>, env: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut merged = toml::Value::try_from(Config::default())
            .map_err(|e| invalid("(defaults)", e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let value: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
            merge_file(&mut merged, value)?;
        }
        for (key, raw) in env {
            if !key.starts_with("TSGATE_")
                || key == "TSGATE_CONFIG"
                || key.starts_with("TSGATE_TEST_")
            {
                continue;
            }
            merge_env(&mut merged, &key, &raw)?;
        }
        let config: Config = merged
            .try_into()
            .map_err(|e: toml::de::Error| invalid("(configuration)", e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Semantic checks the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let addr = |name: &str, v: &str| -> Result<SocketAddr, ConfigError> {
            v.parse()
                .map_err(|_| invalid(name, format!("`{v}` is not an address like 127.0.0.1:8443")))
        };
        addr("server.soap_listen", &self.server.soap_listen)?;
        addr("portal.listen", &self.portal.listen)?;
        if !self.otp.servizio_listen.is_empty() {
            addr("otp.servizio_listen", &self.otp.servizio_listen)?;
        }
        self.otp.destinazione()?;
        let base = &self.sso.base_url;
        let host = base.strip_prefix("https://").unwrap_or("");
        if host.is_empty() || host.contains('/') || host.contains(['?', '#', ' ']) {
            return Err(invalid(
                "sso.base_url",
                format!("`{base}` is not an https URL without a path, like https://portale.example:9443"),
            ));
        }
        for (name, v, min, max) in [
            ("sso.validita_secs", self.sso.validita_secs, 30, 3600),
            (
                "sso.retrodatazione_secs",
                self.sso.retrodatazione_secs,
                0,
                600,
            ),
            ("sso.tolleranza_secs", self.sso.tolleranza_secs, 0, 3600),
            ("sso.attesa_secs", self.sso.attesa_secs, 60, 86_400),
        ] {
            if !(min..=max).contains(&v) {
                return Err(invalid(name, format!("between {min} and {max}")));
            }
        }
        if self.otp.timeout_ms > 300_000 {
            return Err(invalid("otp.timeout_ms", "at most 300000 (five minutes)"));
        }
        for (name, v, max) in [
            (
                "portal.sessione_inattiva_secs",
                self.portal.sessione_inattiva_secs,
                86_400,
            ),
            (
                "portal.sessione_massima_secs",
                self.portal.sessione_massima_secs,
                7 * 86_400,
            ),
            (
                "portal.blocco_minuti",
                u64::from(self.portal.blocco_minuti),
                7 * 24 * 60,
            ),
            (
                "portal.scadenza_password_giorni",
                u64::from(self.portal.scadenza_password_giorni),
                3_650,
            ),
            (
                "portal.max_tentativi",
                u64::from(self.portal.max_tentativi),
                100,
            ),
        ] {
            if v > max {
                return Err(invalid(
                    name,
                    format!("{v} is more than the largest allowed, {max}"),
                ));
            }
        }
        let admin = addr("server.admin_listen", &self.server.admin_listen)?;
        if !admin.ip().is_loopback() {
            return Err(invalid(
                "server.admin_listen",
                "the admin port must be bound to loopback",
            ));
        }
        let url = &self.server.public_base_url;
        if !url.is_empty() && !url.starts_with("https://") {
            return Err(invalid(
                "server.public_base_url",
                "must be empty or start with https://",
            ));
        }
        let positive = [
            ("server.max_body_bytes", self.server.max_body_bytes as u64),
            (
                "server.max_concurrent_requests",
                self.server.max_concurrent_requests as u64,
            ),
            (
                "server.handshake_timeout_ms",
                self.server.handshake_timeout_ms,
            ),
            (
                "server.header_read_timeout_ms",
                self.server.header_read_timeout_ms,
            ),
            ("server.request_timeout_ms", self.server.request_timeout_ms),
            ("tls.crl_reload_secs", self.tls.crl_reload_secs),
            ("database.pool_size", u64::from(self.database.pool_size)),
            ("database.pool_timeout_ms", self.database.pool_timeout_ms),
            ("xml.max_depth", self.xml.max_depth as u64),
            ("portal.max_tentativi", u64::from(self.portal.max_tentativi)),
            ("portal.blocco_minuti", u64::from(self.portal.blocco_minuti)),
            (
                "portal.scadenza_password_giorni",
                u64::from(self.portal.scadenza_password_giorni),
            ),
            (
                "portal.sessione_inattiva_secs",
                self.portal.sessione_inattiva_secs,
            ),
            (
                "portal.sessione_massima_secs",
                self.portal.sessione_massima_secs,
            ),
            ("portal.otp_invii_ora", u64::from(self.portal.otp_invii_ora)),
            ("xml.max_attributes", self.xml.max_attributes as u64),
            ("xml.max_children", self.xml.max_children as u64),
            (
                "access.registry_refresh_secs",
                self.access.registry_refresh_secs,
            ),
            ("access_log.batch_max", self.access_log.batch_max as u64),
            (
                "access_log.retention_months",
                u64::from(self.access_log.retention_months),
            ),
            (
                "access_log.purge_interval_secs",
                self.access_log.purge_interval_secs,
            ),
            ("notifiche.controllo_secs", self.notifiche.controllo_secs),
            ("flussi.max_bytes", self.flussi.max_bytes),
            (
                "flussi.upload_timeout_secs",
                self.flussi.upload_timeout_secs,
            ),
            ("flussi.batch_records", self.flussi.batch_records as u64),
            ("flussi.poll_secs", self.flussi.poll_secs),
            ("otp.timeout_ms", self.otp.timeout_ms),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(invalid(name, "must be greater than zero"));
            }
        }
        if self.access_log.batch_max > 5_000 {
            // 12 columns a row: PostgreSQL takes at most 65,535 parameters a statement.
            return Err(invalid("access_log.batch_max", "at most 5000 rows a batch"));
        }
        let m = &self.monitoraggio;
        let positive_m = [
            (
                "monitoraggio.retention_months",
                u64::from(m.retention_months),
            ),
            ("monitoraggio.intervallo_secs", m.intervallo_secs),
            (
                "monitoraggio.finestra_mediana_giorni",
                u64::from(m.finestra_mediana_giorni),
            ),
            ("monitoraggio.top", m.top as u64),
        ];
        for (name, value) in positive_m {
            if value == 0 {
                return Err(invalid(name, "must be greater than zero"));
            }
        }
        for (name, value) in [
            (
                "monitoraggio.soglia_giornaliera_per_mille",
                m.soglia_giornaliera_per_mille,
            ),
            (
                "monitoraggio.soglia_settimanale_per_mille",
                m.soglia_settimanale_per_mille,
            ),
            ("monitoraggio.fattore_mediana", m.fattore_mediana),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(invalid(name, "must be a number greater than zero"));
            }
        }
        if m.finestra_mediana_giorni > 366 {
            return Err(invalid(
                "monitoraggio.finestra_mediana_giorni",
                "at most 366 days",
            ));
        }
        if m.top > 50 {
            return Err(invalid("monitoraggio.top", "at most 50 groups"));
        }
        if m.retention_months < self.access_log.retention_months {
            return Err(invalid(
                "monitoraggio.retention_months",
                "the aggregates must be kept at least as long as the access log",
            ));
        }
        if self.access_log.retention_months < 12 {
            return Err(invalid(
                "access_log.retention_months",
                "the decree requires at least 12 months",
            ));
        }
        self.notifiche.ora()?;
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(invalid("log.format", "must be `text` or `json`"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(invalid(
                "log.level",
                "not a valid tracing filter (e.g. `info`)",
            ));
        }
        if !self.database.url.is_empty() && !self.database.url.starts_with("postgres") {
            return Err(invalid(
                "database.url",
                "must be empty or a postgres:// URL",
            ));
        }
        Ok(())
    }
}

/// Overlays a file's table on the defaults: every key must exist and keep its type.
fn merge_file(base: &mut toml::Value, file: toml::Table) -> Result<(), ConfigError> {
    for (section, value) in file {
        let Some(target) = base.get_mut(&section).and_then(|v| v.as_table_mut()) else {
            return Err(ConfigError::Unknown(section));
        };
        let toml::Value::Table(entries) = value else {
            return Err(invalid(&section, "must be a table ([section])"));
        };
        for (key, v) in entries {
            let name = format!("{section}.{key}");
            let Some(slot) = target.get_mut(&key) else {
                return Err(ConfigError::Unknown(name));
            };
            if slot.type_str() != v.type_str() {
                return Err(invalid(
                    &name,
                    format!("expected a {}, found a {}", slot.type_str(), v.type_str()),
                ));
            }
            *slot = v;
        }
    }
    Ok(())
}

/// Applies one `TSGATE_<SECTION>_<KEY>` variable, parsed as the setting's type.
fn merge_env(base: &mut toml::Value, var: &str, raw: &str) -> Result<(), ConfigError> {
    let Some(sections) = base.as_table_mut() else {
        return Err(invalid(var, "internal: defaults are not a table"));
    };
    for (section, table) in sections.iter_mut() {
        let Some(table) = table.as_table_mut() else {
            continue;
        };
        for (key, slot) in table.iter_mut() {
            if format!("TSGATE_{section}_{key}").to_uppercase() != var {
                continue;
            }
            let name = format!("{section}.{key} (from {var})");
            *slot = match slot {
                toml::Value::String(_) => toml::Value::String(raw.to_owned()),
                toml::Value::Integer(_) => toml::Value::Integer(
                    raw.trim()
                        .parse()
                        .map_err(|_| invalid(&name, format!("`{raw}` is not a whole number")))?,
                ),
                toml::Value::Boolean(_) => toml::Value::Boolean(
                    raw.trim()
                        .parse()
                        .map_err(|_| invalid(&name, format!("`{raw}` is not true or false")))?,
                ),
                other => {
                    return Err(invalid(
                        &name,
                        format!("cannot be set from the environment ({})", other.type_str()),
                    ))
                }
            };
            return Ok(());
        }
    }
    Err(ConfigError::Unknown(var.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.server.max_concurrent_requests, 200);
        assert_eq!(c.server.max_body_bytes, 1024 * 1024);
    }

    #[test]
    fn shipped_file_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/tsgate.toml");
        let from_file = Config::load(Some(&path), env(&[])).unwrap();
        let defaults = Config::default();
        assert_eq!(
            toml::Value::try_from(from_file).unwrap(),
            toml::Value::try_from(defaults).unwrap()
        );
    }

    #[test]
    fn environment_overrides_and_names_the_setting() {
        let c = Config::load(None, env(&[("TSGATE_SERVER_MAX_CONCURRENT_REQUESTS", "7")])).unwrap();
        assert_eq!(c.server.max_concurrent_requests, 7);
        let err = Config::load(None, env(&[("TSGATE_SERVER_MAX_BODY_BYTES", "lots")])).unwrap_err();
        assert!(err.to_string().contains("server.max_body_bytes"), "{err}");
        let err = Config::load(None, env(&[("TSGATE_SERVER_NOPE", "1")])).unwrap_err();
        assert!(err.to_string().contains("TSGATE_SERVER_NOPE"), "{err}");
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let err =
            Config::load(None, env(&[("TSGATE_SERVER_ADMIN_LISTEN", "0.0.0.0:9090")])).unwrap_err();
        assert!(err.to_string().contains("server.admin_listen"), "{err}");
        let err =
            Config::load(None, env(&[("TSGATE_NOTIFICHE_ORA_PRODUZIONE", "25:00")])).unwrap_err();
        assert!(
            err.to_string().contains("notifiche.ora_produzione"),
            "{err}"
        );
        let err = Config::load(None, env(&[("TSGATE_LOG_FORMAT", "xml")])).unwrap_err();
        assert!(err.to_string().contains("log.format"), "{err}");
        for (var, value, setting) in [
            (
                "TSGATE_OTP_SERVIZIO_URL",
                "http://127.0.0.1:9444/v1/otp",
                "otp.servizio_url",
            ),
            (
                "TSGATE_OTP_SERVIZIO_URL",
                "https:///v1/otp",
                "otp.servizio_url",
            ),
            (
                "TSGATE_OTP_SERVIZIO_LISTEN",
                "localhost",
                "otp.servizio_listen",
            ),
            ("TSGATE_OTP_TIMEOUT_MS", "0", "otp.timeout_ms"),
        ] {
            let err = Config::load(None, env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(setting), "{value}: {err}");
        }
        let c = Config::load(None, env(&[("TSGATE_OTP_SERVIZIO_LISTEN", "")])).unwrap();
        assert!(c.otp.servizio_listen.is_empty());
        assert_eq!(
            c.otp.destinazione().unwrap(),
            ("127.0.0.1".to_owned(), 9444, "/v1/otp".to_owned())
        );
        let err =
            Config::load(None, env(&[("TSGATE_ACCESS_LOG_RETENTION_MONTHS", "6")])).unwrap_err();
        assert!(
            err.to_string().contains("access_log.retention_months"),
            "{err}"
        );
    }

    #[test]
    fn file_type_errors_and_unknown_keys_name_the_setting() {
        let dir = std::env::temp_dir().join(format!("tsgate-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.toml");
        std::fs::write(&f, "[server]\nmax_body_bytes = \"big\"\n").unwrap();
        let err = Config::load(Some(&f), env(&[])).unwrap_err();
        assert!(err.to_string().contains("server.max_body_bytes"), "{err}");
        std::fs::write(&f, "[server]\nmax_bodybytes = 1\n").unwrap();
        let err = Config::load(Some(&f), env(&[])).unwrap_err();
        assert!(err.to_string().contains("server.max_bodybytes"), "{err}");
    }
}
