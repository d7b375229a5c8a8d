//! The `tsgate` binary: configuration errors name the setting, `migrate`, `purge`, and the
//! certificate commands against a real database and PKI.

mod common;
use common::*;
use std::process::Command;

/// Runs the command, asserts success, returns its standard output.
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tsgate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tsgate(db: &TestDb, pki: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tsgate"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", &db.url)
        .env("TSGATE_PKI_DIR", pki)
        .env("TSGATE_LOG_LEVEL", "warn")
        .current_dir(scratch_dir("cwd"));
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_settings_stop_the_start_naming_the_setting() {
    let db = TestDb::new().await;
    let out = tsgate(&db, &scratch_dir("pki"))
        .env("TSGATE_SERVER_MAX_CONCURRENT_REQUESTS", "many")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.max_concurrent_requests"), "{err}");
    let out = tsgate(&db, &scratch_dir("pki"))
        .env("TSGATE_NO_SUCH_THING", "1")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("TSGATE_NO_SUCH_THING"));
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_and_purge_run_against_the_database() {
    let db = TestDb::new().await;
    let out = run_ok(tsgate(&db, &scratch_dir("pki")).arg("migrate"));
    assert!(out.contains("0 migration(s) applied"));
    let out = run_ok(tsgate(&db, &scratch_dir("pki")).arg("purge"));
    assert!(out.contains("partition(s) dropped"));
}

#[tokio::test(flavor = "multi_thread")]
async fn pki_issue_binds_and_revoke_refuses() {
    let s = TestServer::start().await;
    // Issue a second certificate for regione-lazio through the CLI...
    run_ok(tsgate(&s.db, &s.pki_dir).args([
        "pki",
        "issue",
        "--caller",
        "regione-lazio",
        "--name",
        "lazio-2",
    ]));
    // ...the registry picks it up at its next reload, and it works.
    s.reload_registry().await;
    let body = vafr_envelope("RSSMRA60C15F205L", None, None, None);
    let r = s
        .client("lazio-2")
        .soap(VAFR_PATH, VAFR_ACTION, body.clone())
        .await
        .expect("new certificate");
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );

    run_ok(tsgate(&s.db, &s.pki_dir).args(["pki", "revoke", "--name", "lazio-2"]));
    let listed = tsgate(&s.db, &s.pki_dir)
        .args(["pki", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("lazio-2") && l.contains("REVOCATO")),
        "{listed}"
    );
    // The server reloads the CRL when the file changes.
    s.state().tls.reload_if_changed();
    assert!(
        s.client("lazio-2")
            .soap(VAFR_PATH, VAFR_ACTION, body.clone())
            .await
            .is_err(),
        "revoked certificate still accepted"
    );
    let r = s
        .client("regione-lazio")
        .soap(VAFR_PATH, VAFR_ACTION, body)
        .await
        .expect("other certificate");
    assert_eq!(r.status, 200);

    let out = tsgate(&s.db, &s.pki_dir)
        .args(["pki", "issue", "--caller", "nessuno"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nessuno"));
    s.stop().await;
}
