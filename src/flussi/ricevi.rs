//! Receiving a file: streamed to the spool directory while hashed (SHA-256), then checked for a
//! duplicate digest and for its signature, then recorded with a protocol number (RICEVUTO, or
//! RIFIUTATO with the reason). Shared by the upload and by `tsgate flusso importa`.

use super::repo::{self, Flusso, NuovoFlusso};
use super::{firma, Stato, Tipo};
use crate::audit::AccessRecord;
use crate::db::PgPool;
use anyhow::Context;
use diesel::Connection;
use openssl::sha::Sha256;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// A file being written to the spool directory.
pub struct Spool {
    file: tokio::io::BufWriter<tokio::fs::File>,
    part: PathBuf,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    max: u64,
}

/// A complete spool file.
#[derive(Debug, Clone)]
pub struct Spooled {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("file larger than {0} bytes")]
    TooLarge(u64),
    #[error("spool: {0}")]
    Io(#[from] std::io::Error),
}

impl Spool {
    /// Creates `<dir>/<tx>.p7m.part`; at most `max` bytes may be written.
    pub async fn create(dir: &Path, tx: Uuid, max: u64) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        // Health data: the directory and the files are the gateway's only.
        tokio::fs::create_dir_all(dir).await?;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).await?;
        // An absolute path is recorded: the worker and the CLI may run from other directories.
        let dir = &tokio::fs::canonicalize(dir).await?;
        let path = dir.join(format!("{tx}.p7m"));
        let part = dir.join(format!("{tx}.p7m.part"));
        // create_new: never through an existing file or link.
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&part)
            .await?;
        Ok(Self {
            file: tokio::io::BufWriter::with_capacity(256 * 1024, file),
            part,
            path,
            hasher: Sha256::new(),
            size: 0,
            max,
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), SpoolError> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(SpoolError::TooLarge(self.max));
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Flushes and syncs the file, then gives it its final name.
    pub async fn finish(mut self) -> std::io::Result<Spooled> {
        self.file.flush().await?;
        self.file.get_ref().sync_all().await?;
        tokio::fs::rename(&self.part, &self.path).await?;
        let digest = self.hasher.finish();
        Ok(Spooled {
            path: self.path,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            size: self.size,
        })
    }

    /// Removes the partial file (upload refused or interrupted).
    pub async fn discard(self) {
        drop(self.file);
        if let Err(e) = tokio::fs::remove_file(&self.part).await {
            tracing::warn!(error = %e, path = %self.part.display(), "partial spool file not removed");
        }
    }
}

/// What the sender is told.
#[derive(Debug, Clone)]
pub struct Ricevuta {
    pub flusso: Flusso,
    /// True when a file with the same digest had already been received: nothing new recorded.
    pub duplicato: bool,
    /// The upload's access-log row was committed with the file's row.
    pub logged: bool,
}

/// The upload's access-log row, for an accepted and for a refused file: the one that applies
/// commits in the same transaction as the file's row.
pub struct LogRows {
    pub accepted: AccessRecord,
    pub refused: AccessRecord,
}

impl Ricevuta {
    pub fn stato(&self) -> Option<Stato> {
        Stato::parse(&self.flusso.stato)
    }
}

/// Who sent a file, and what kind of file it is.
#[derive(Debug, Clone, Copy)]
pub struct Mittente<'a> {
    pub chiamante: &'a str,
    pub tipo: Tipo,
    /// The caller's region, for the kinds applied for a region (TS-CNS).
    pub regione: Option<&'a str>,
}

/// Records a spooled file of kind `mittente.tipo` sent by `mittente.chiamante` in transaction
/// `tx`. `bound` says whether a certificate fingerprint belongs to that caller; `fiducia` is
/// the gateway CA and CRL. Blocking.
pub fn registra(
    pool: &PgPool,
    spooled: &Spooled,
    tx: Uuid,
    mittente: Mittente<'_>,
    fiducia: &firma::TrustAnchors,
    bound: &dyn Fn(&str) -> bool,
    log: Option<&LogRows>,
) -> anyhow::Result<Ricevuta> {
    let chiamante = mittente.chiamante;
    let existing = {
        let mut conn = pool.get().context("database")?;
        repo::per_impronta(&mut conn, chiamante, &spooled.sha256)?
    };
    if let Some(flusso) = existing {
        remove(&spooled.path);
        return Ok(Ricevuta {
            flusso,
            duplicato: true,
            logged: false,
        });
    }
    let esame = firma::verifica(&spooled.path, fiducia, bound)?;
    let mut conn = pool.get().context("database")?;
    let protocollo = repo::nuovo_protocollo(&mut conn)?;
    let mut nuovo = NuovoFlusso {
        protocollo,
        identificativo_transazione: tx,
        chiamante,
        impronta_sha256: &spooled.sha256,
        stato: Stato::Ricevuto.as_str(),
        codice_rifiuto: None,
        motivo_rifiuto: None,
        percorso: None,
        contenuto_inizio: None,
        contenuto_lunghezza: None,
    };
    match &esame {
        Ok(v) => {
            nuovo.percorso = Some(spooled.path.to_string_lossy().into_owned());
            nuovo.contenuto_inizio = Some(v.contenuto_inizio as i64);
            nuovo.contenuto_lunghezza = Some(v.contenuto_lunghezza as i64);
        }
        Err(r) => {
            nuovo.stato = Stato::Rifiutato.as_str();
            nuovo.codice_rifiuto = Some(r.motivo.codice());
            nuovo.motivo_rifiuto = Some(r.testo());
        }
    }
    let inserted = conn.transaction(|c| {
        let inserted = repo::inserisci(c, &nuovo, mittente.tipo, mittente.regione)?;
        if let (Some(_), Some(log)) = (&inserted, log) {
            let row = if esame.is_ok() {
                &log.accepted
            } else {
                &log.refused
            };
            crate::audit::insert_in(c, row)?;
        }
        Ok::<_, diesel::result::Error>(inserted)
    })?;
    if esame.is_err() {
        remove(&spooled.path);
    }
    match inserted {
        Some(flusso) => {
            tracing::info!(
                protocollo = %flusso.protocollo,
                tipo = %flusso.tipo,
                stato = %flusso.stato,
                bytes = spooled.size,
                "bulk file received"
            );
            Ok(Ricevuta {
                flusso,
                duplicato: false,
                logged: log.is_some(),
            })
        }
        None => {
            // The same file arrived concurrently and won the insert.
            if esame.is_ok() {
                remove(&spooled.path);
            }
            let flusso = repo::per_impronta(&mut conn, chiamante, &spooled.sha256)?
                .context("duplicate file vanished")?;
            Ok(Ricevuta {
                flusso,
                duplicato: true,
                logged: false,
            })
        }
    }
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(error = %e, path = %path.display(), "spool file not removed");
    }
}
