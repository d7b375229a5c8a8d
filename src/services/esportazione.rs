//! What the file exports share (multiple-booking notices, TS-CNS revocation files): the SHA-256
//! of a file, a duration for the transmission logs, and writing a file durably, readable by its
//! owner only, under a temporary name beside its final place before renaming it there.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Lower-case hexadecimal SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    openssl::sha::sha256(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Milliseconds since `start`, saturated.
pub fn elapsed_ms(start: Instant) -> i32 {
    i32::try_from(start.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// The temporary name of `path`: `.<name>.tmp` in the same directory (so the rename is atomic).
pub fn temporaneo(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `data` to `tmp`, created anew with mode 0600 (the files hold codici fiscali; a stale
/// temporary file is replaced), and flushes it to disk.
pub fn scrivi_riservato(tmp: &Path, data: &[u8]) -> std::io::Result<()> {
    match std::fs::remove_file(tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Renames `tmp` to `path` and flushes the directory, so the rename survives a crash.
pub fn pubblica(tmp: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::rename(tmp, path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_is_written_for_its_owner_only_and_renamed_into_place() {
        let dir = std::env::temp_dir().join(format!("tsgate-esportazione-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        let tmp = temporaneo(&path);
        assert_eq!(tmp, dir.join(".f.txt.tmp"));
        std::fs::write(&tmp, b"stale").unwrap();
        scrivi_riservato(&tmp, b"abc").unwrap();
        pubblica(&tmp, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!tmp.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sha256_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
