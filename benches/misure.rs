//! What the benchmarks measure and print besides time: machine load, memory, CPU time of this
//! process and of PostgreSQL (from /proc), rates, the signed file the bulk ones import, and the
//! row of `scripts/bench`'s table. Included by `bulk_import.rs`, `tscns_import.rs`,
//! `cms_memory.rs` and `soap_load.rs`, each using a part.
#![allow(dead_code)]

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

/// Linux's USER_HZ is 100 on every architecture tsgate runs on.
pub const MICROS_PER_TICK: f64 = 10_000.0;

/// utime + stime of process `pid` ("self" for this one), in ticks.
fn cpu_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // After the command, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // Fields 14 and 15 of stat(5), counted from the state (field 3) at index 0.
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    at(11) + at(12)
}

pub fn cpu_ticks_self() -> u64 {
    cpu_ticks("self")
}

/// Every process named `postgres` (the server, its backends and background workers).
pub fn cpu_ticks_postgres() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|pid| cpu_ticks(&pid))
        .sum()
}

fn status_kib(pid: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn rss_kib(pid: &str) -> u64 {
    status_kib(pid, "VmRSS:")
}

pub fn peak_rss_kib() -> u64 {
    status_kib("self", "VmHWM:")
}

/// CPU microseconds per record of `ticks` over `n` records, for the table.
pub fn per_record(ticks: u64, n: usize) -> String {
    format!("{:.1}", ticks as f64 * MICROS_PER_TICK / n.max(1) as f64)
}

/// Prints the row `scripts/bench` puts in its table: benchmark, rate, p50 and p99 (ms), CPU µs
/// per request or record of the measured process and of PostgreSQL, rows committed against
/// answers, peak RSS (MiB); `-` where a column does not apply.
pub fn tabella(colonne: &[String]) {
    println!("TABELLA\t{}", colonne.join("\t"));
}
