//! Importing a received file: one session at a time (advisory lock), resumable, dispatched to
//! the import of its kind (`Genere::elabora`).

use super::repo::{self, Flusso};
use super::{Generi, Rifiuto, Stato};
use crate::db::schema::{flusso, flusso_errore};
use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;

/// How to import.
pub struct ImportOptions<'a> {
    /// Records a transaction.
    pub batch: usize,
    /// Stop (as if the process died) after this many batches: for the resume tests.
    pub max_batches: Option<usize>,
    /// Checked between batches: a true value stops the import, to be resumed later.
    pub stop: &'a (dyn Fn() -> bool + Sync),
}

/// Progress reports, for the CLI.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Reading {
        record: u64,
        bytes: u64,
        bytes_totali: u64,
        secondi: f64,
    },
    Applying {
        record: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Esito {
    Elaborato,
    Rifiutato,
    /// Stopped before the end; the file stays IN_ELABORAZIONE and resumes later.
    Interrotto,
    /// Another session (worker or CLI) is importing it.
    Occupato,
}

/// Imports file `id` (resuming where a previous run stopped). Blocking.
pub fn elabora(
    conn: &mut PgConnection,
    generi: Generi,
    id: i64,
    opz: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Esito> {
    if !repo::try_lock(conn, id)? {
        return Ok(Esito::Occupato);
    }
    let result = elabora_preso(conn, generi, id, opz, progress);
    if let Err(e) = repo::unlock(conn, id) {
        tracing::warn!(error = %e, "advisory lock of a bulk file not released");
    }
    result
}

fn elabora_preso(
    conn: &mut PgConnection,
    generi: Generi,
    id: i64,
    opz: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Esito> {
    let f = repo::per_id(conn, id)?.context("bulk file not found")?;
    match Stato::parse(&f.stato) {
        // Done before (e.g. the process died before removing its spool file).
        Some(Stato::Elaborato) => {
            remove_spool(&f);
            return Ok(Esito::Elaborato);
        }
        Some(Stato::Rifiutato) => {
            remove_spool(&f);
            return Ok(Esito::Rifiutato);
        }
        _ => {}
    }
    let (Some(path), Some(start), Some(len)) =
        (&f.percorso, f.contenuto_inizio, f.contenuto_lunghezza)
    else {
        anyhow::bail!("bulk file {} has no spool file", f.protocollo);
    };
    let contenuto = SignedContent {
        path,
        start: start as u64,
        len: len as u64,
    };
    // A file not started yet is applied only if its sender may still send it: still enabled,
    // of the kind the file needs and, for a region's file, still of that region. (A file
    // already under way is finished: part of it is applied.)
    let tipo = generi.di(&f)?;
    if f.record_letti == 0 && !repo::mittente_abilitato(conn, &f, tipo)? {
        let rifiuto = Rifiuto::new(super::MotivoRifiuto::MittenteNonAbilitato);
        rifiuta(conn, f.id, &rifiuto, "")?;
        remove_spool(&f);
        tracing::info!(protocollo = %f.protocollo, motivo = %rifiuto.testo(), "bulk file refused");
        return Ok(Esito::Rifiutato);
    }
    (tipo.elabora)(conn, &f, &contenuto, opz, progress)
}

/// Where the signed XML lies in the spool file.
pub struct SignedContent<'a> {
    pub path: &'a str,
    pub start: u64,
    pub len: u64,
}

impl SignedContent<'_> {
    /// The signed XML, from its first byte.
    pub fn open(&self) -> anyhow::Result<std::io::Take<std::fs::File>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file =
            std::fs::File::open(self.path).with_context(|| format!("spool file {}", self.path))?;
        file.seek(SeekFrom::Start(self.start))?;
        Ok(file.take(self.len))
    }
}

/// Removes the spool file of a file that is done (applied or refused): health data that is no
/// longer needed, the outcome being in the database.
pub fn remove_spool(f: &Flusso) {
    if let Some(path) = &f.percorso {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, path = %path, "spool file not removed"),
        }
    }
}

/// The whole file is refused (XML structure): `prima` (SQL of the kind, e.g. dropping what was
/// staged) and the stored errors go, in the transaction that marks it RIFIUTATO.
pub fn rifiuta(conn: &mut PgConnection, id: i64, r: &Rifiuto, prima: &str) -> anyhow::Result<()> {
    conn.transaction(|c| -> QueryResult<()> {
        if !prima.is_empty() {
            c.batch_execute(prima)?;
        }
        diesel::delete(flusso_errore::table.filter(flusso_errore::flusso_id.eq(id))).execute(c)?;
        diesel::update(flusso::table.find(id))
            .set((
                flusso::stato.eq(Stato::Rifiutato.as_str()),
                flusso::codice_rifiuto.eq(r.motivo.codice()),
                flusso::motivo_rifiuto.eq(r.testo()),
                flusso::record_totali.eq(None::<i64>),
                flusso::terminato_il.eq(diesel::dsl::now),
            ))
            .execute(c)?;
        Ok(())
    })?;
    Ok(())
}
