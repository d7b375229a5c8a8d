//! Files of the PKI directory: atomic writes, certificate names, and the index of issued
//! client certificates (`index.tsv`).

use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Utc};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Mode of private keys.
pub(super) const KEY_MODE: u32 = 0o600;
/// Mode of certificates, the CRL and the index.
pub(super) const PUBLIC_MODE: u32 = 0o644;

pub(super) const INDEX_FILE: &str = "index.tsv";
const INDEX_HEADER: &str = "# name\tserial\tsha256\tnot_after\trevoked_at";

/// A client certificate the CA issued, as recorded in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCert {
    /// Certificate name: its subject CN (except CNS-style certificates) and its file names.
    pub name: String,
    /// Serial number, uppercase hex without separators.
    pub serial: String,
    /// SHA-256 of the DER, lowercase hex without separators: how callers are identified.
    pub fingerprint: String,
    pub not_after: DateTime<Utc>,
    /// `clients/<name>.pem`. After a reissue, a revoked entry's path holds its successor.
    pub cert_path: PathBuf,
    /// `clients/<name>.key` (mode 0600).
    pub key_path: PathBuf,
    pub revoked: bool,
    /// When it was revoked; `None` if not revoked, or revoked in an index written before the
    /// date was recorded.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Certificate names become file names: `[a-z0-9][a-z0-9._-]{0,63}`.
pub(super) fn check_name(n: &str) -> anyhow::Result<()> {
    let b = n.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        });
    if !ok {
        bail!("invalid certificate name `{n}`: use [a-z0-9][a-z0-9._-]{{0,63}}");
    }
    Ok(())
}

/// Writes `data` to `path` atomically: a temporary file in the same directory, created with
/// `mode`, synced, then renamed over `path`; the directory is synced too. A crash leaves either
/// the old file or the new one, never a partial one (at worst a stray `.<name>.*.tmp`).
pub(super) fn write_atomic(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy();
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed `mode`; certificates must stay readable.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// The contents of `path`, or `None` if it does not exist.
pub(super) fn read_optional(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Reads the index: one line per issued client certificate, in issue order,
/// `name serial sha256 not_after revoked_at` separated by tabs, `-` when not revoked.
/// (`revocato` in the last column, from older indexes, means revoked at an unknown date.)
pub(super) fn read_index(
    dir: &Path,
    paths: impl Fn(&str) -> (PathBuf, PathBuf),
) -> anyhow::Result<Vec<IssuedCert>> {
    let index = dir.join(INDEX_FILE);
    let Some(data) = read_optional(&index)? else {
        return Ok(Vec::new());
    };
    let text =
        String::from_utf8(data).with_context(|| format!("{} is not UTF-8", index.display()))?;
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("{}:{}: malformed line `{line}`", index.display(), no + 1);
        let f: Vec<&str> = line.split('\t').collect();
        let [name, serial, fingerprint, not_after, revoked] = f[..] else {
            bail!(bad());
        };
        let not_after = DateTime::parse_from_rfc3339(not_after)
            .with_context(bad)?
            .with_timezone(&Utc);
        let (revoked, revoked_at) = match revoked {
            "-" => (false, None),
            "revocato" => (true, None),
            t => (
                true,
                Some(
                    DateTime::parse_from_rfc3339(t)
                        .with_context(bad)?
                        .with_timezone(&Utc),
                ),
            ),
        };
        let (cert_path, key_path) = paths(name);
        out.push(IssuedCert {
            name: name.to_owned(),
            serial: serial.to_owned(),
            fingerprint: fingerprint.to_owned(),
            not_after,
            cert_path,
            key_path,
            revoked,
            revoked_at,
        });
    }
    Ok(out)
}

/// Rewrites the index atomically.
pub(super) fn write_index(dir: &Path, all: &[IssuedCert]) -> anyhow::Result<()> {
    let mut text = format!("{INDEX_HEADER}\n");
    for c in all {
        let revoked = match (c.revoked, c.revoked_at) {
            (false, _) => "-".to_owned(),
            (true, None) => "revocato".to_owned(),
            (true, Some(t)) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        };
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{revoked}\n",
            c.name,
            c.serial,
            c.fingerprint,
            c.not_after.to_rfc3339_opts(SecondsFormat::Secs, true),
        ));
    }
    write_atomic(&dir.join(INDEX_FILE), text.as_bytes(), PUBLIC_MODE)
}
