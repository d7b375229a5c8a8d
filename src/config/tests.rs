//! The loader's tests: defaults, the shipped file, environment overrides, and every bad value named in one error.

use super::*;
use std::path::Path;

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
    let err = Config::load(None, env(&[("TSGATE_NOTIFICHE_ORA_PRODUZIONE", "25:00")])).unwrap_err();
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
    let err = Config::load(None, env(&[("TSGATE_ACCESS_LOG_RETENTION_MONTHS", "6")])).unwrap_err();
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

/// A scratch file holding `text`, unique per test.
fn file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tsgate-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn three_bad_values_in_three_sections_are_one_error_naming_all_three() {
    let f = file(
        "three.toml",
        "[portal]\nmax_tentativi = 0\n[sso]\nvalidita_secs = 5\n[monitoraggio]\ntop = 99\n",
    );
    let err = Config::load(Some(&f), env(&[])).unwrap_err();
    let ConfigError::Several(all) = &err else {
        panic!("one error for three bad values: {err}");
    };
    assert_eq!(all.len(), 3, "{err}");
    let text = err.to_string();
    for setting in [
        "portal.max_tentativi",
        "sso.validita_secs",
        "monitoraggio.top",
    ] {
        assert!(text.contains(setting), "{setting} missing: {text}");
    }
    assert!(text.contains("got 5"), "{text}");
}

#[test]
fn unknown_keys_wrong_types_ranges_and_the_environment_are_reported_together() {
    let f = file(
        "mixed.toml",
        "[server]\nmax_bodybytes = 1\nmax_body_bytes = \"big\"\n\
         [database]\nembedded_port = 70000\n[nope]\nx = 1\n[log]\nformat = \"xml\"\n",
    );
    let err = Config::load(
        Some(&f),
        env(&[
            ("TSGATE_FLUSSI_POLL_SECS", "soon"),
            ("TSGATE_XML_MAX_DEPTH", "0"),
        ]),
    )
    .unwrap_err();
    let text = err.to_string();
    for setting in [
        "server.max_bodybytes",
        "server.max_body_bytes",
        "database.embedded_port",
        "`nope`",
        "log.format",
        "flussi.poll_secs (from TSGATE_FLUSSI_POLL_SECS)",
        "xml.max_depth",
    ] {
        assert!(text.contains(setting), "{setting} missing: {text}");
    }
    assert!(
        matches!(&err, ConfigError::Several(all) if all.len() == 7),
        "{text}"
    );
}

#[test]
fn a_setting_is_reported_once() {
    // 0 months is both not positive and under the decree's 12: one mistake, one line.
    let err = Config::load(None, env(&[("TSGATE_ACCESS_LOG_RETENTION_MONTHS", "0")])).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { setting, .. } if setting == "access_log.retention_months"),
        "{err}"
    );
}
