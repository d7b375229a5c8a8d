//! Browser scenarios: `node tests/browser/<name>.mjs` drives Debian's chromium (playwright-core)
//! against the test server's portal. The scenario asserts what the pages show and prints one
//! JSON line; screenshots go to `target/screenshots/<name>/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Installs playwright-core from the lock file when it is missing (scripts/test does it first).
fn ensure_node_modules() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if !browser_dir().join("node_modules/playwright-core").is_dir() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(browser_dir())
                .status()
                .expect("npm");
            assert!(status.success(), "npm ci in tests/browser failed");
        }
    });
}

/// Runs the scenario with `PORTALE_URL` and `extra` in its environment; panics with the
/// scenario's output when it fails; returns its JSON result.
pub fn run(portal_url: &str, name: &str, extra: &[(&str, String)]) -> serde_json::Value {
    ensure_node_modules();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/screenshots")
        .join(name);
    let mut cmd = Command::new("node");
    cmd.arg(browser_dir().join(format!("{name}.mjs")))
        .env("PORTALE_URL", portal_url)
        .env("SCREENSHOT_DIR", &shots);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser scenario {name} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("{}");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("scenario {name}: bad JSON {last}: {e}"))
}
