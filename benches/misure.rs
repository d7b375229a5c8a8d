//! What the bulk benchmarks measure and print besides time: machine load, memory, rates, and
//! the signed file they import. Included by `bulk_import.rs` and `tscns_import.rs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// `VmRSS` and `VmHWM` (peak) of this process, in MB.
pub fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

pub fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Signs `xml` with the certificate of `cert`, writes `work/flusso.p7m` and prints its size and
/// the time since `t`; returns the path and the size in bytes.
pub fn firma_su_file(
    xml: &[u8],
    cert: &tsgate::pki::IssuedCert,
    work: &Path,
    t: Instant,
) -> anyhow::Result<(PathBuf, u64)> {
    let signed = tsgate::flussi::firma::firma(
        xml,
        &std::fs::read(&cert.cert_path)?,
        &std::fs::read(&cert.key_path)?,
    )?;
    let p7m = work.join("flusso.p7m");
    std::fs::write(&p7m, &signed)?;
    let size = std::fs::metadata(&p7m)?.len();
    println!(
        "setup: signed file of {:.0} MB in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Ok((p7m, size))
}
