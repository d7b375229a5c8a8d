//! The file of a region's pending notices for the portal's file exchange: produced on demand
//! (`tsgate tscns revoche esporta`), stored whole in `fornitura_revoche`, written to a directory,
//! and every export, failed ones included, recorded in `fornitura_revoche_trasmissione`.
//! Exporting does not acknowledge anything: only ConfermaRevoche does.

use super::repo::{self, Trasmissione, VoceFile};
use super::{formato, RevocheError};
use crate::domain::CodiceRegione;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Most notices in one file (a region's backlog beyond it waits for the next file).
pub const MASSIMO_RECORD: i64 = 1_000_000;

/// A file just produced and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Esportato {
    pub id: i64,
    pub codice_regione: String,
    pub nome_file: String,
    pub numero_record: i32,
    pub sha256: String,
    pub generata_il: DateTime<Utc>,
    pub percorso: PathBuf,
}

fn sha256_hex(data: &[u8]) -> String {
    openssl::sha::sha256(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn elapsed_ms(start: Instant) -> i32 {
    i32::try_from(start.elapsed().as_millis()).unwrap_or(i32::MAX)
}

fn operatore(op: &str) -> Result<String, RevocheError> {
    let op = op.trim();
    if op.is_empty() {
        return Err(RevocheError::Operatore("must not be empty"));
    }
    if op.chars().count() > 128 || op.chars().any(char::is_control) {
        return Err(RevocheError::Operatore(
            "must be at most 128 printable characters",
        ));
    }
    Ok(op.to_owned())
}

/// Produces the file of `regione`'s pending notices, stores it, writes it into `dir` (under its
/// own name) and records the export, in one transaction: the file is stored only when written,
/// and the written file is renamed into place only once stored. A failure is recorded too (after
/// the rollback) and returned.
pub fn esporta(
    conn: &mut PgConnection,
    regione: &CodiceRegione,
    dir: &Path,
    operatore_: &str,
) -> Result<Esportato, RevocheError> {
    let op = operatore(operatore_)?;
    let (start, at) = (Instant::now(), Utc::now().trunc_subsecs(3));
    let regione = regione.as_str();
    let mut tmp: Option<PathBuf> = None;
    let result = conn.transaction(|c| {
        if !repo::regione_esiste(c, regione)? {
            return Err(RevocheError::RegioneSconosciuta(regione.to_owned()));
        }
        let generata_il = repo::adesso(c)?;
        let righe = repo::pendenti(c, regione, 0, MASSIMO_RECORD)?;
        let contenuto = formato::formatta(regione, generata_il, &righe)?;
        let nome_file = formato::nome_file(regione, generata_il);
        let sha256 = sha256_hex(&contenuto);
        let numero_record = i32::try_from(righe.len()).unwrap_or(i32::MAX);
        let id = repo::inserisci_file(
            c,
            &repo::NuovoFile {
                codice_regione: regione,
                generata_il,
                nome_file: &nome_file,
                numero_record,
                sha256: &sha256,
                contenuto: &contenuto,
            },
        )?;
        let percorso = dir.join(&nome_file);
        let scrittura = |source| RevocheError::Scrittura {
            path: percorso.display().to_string(),
            source,
        };
        let t = dir.join(format!(".{nome_file}.tmp"));
        tmp = Some(t.clone());
        std::fs::write(&t, &contenuto).map_err(scrittura)?;
        repo::registra(
            c,
            &Trasmissione {
                fornitura_id: Some(id),
                nome_file: Some(nome_file.clone()),
                tipo: "ESPORTAZIONE",
                ente: Some(regione.to_owned()),
                operatore: op.clone(),
                trasmessa_il: generata_il,
                esito: "OK",
                durata_ms: elapsed_ms(start),
                dettaglio: None,
            },
        )?;
        Ok(Esportato {
            id,
            codice_regione: regione.to_owned(),
            nome_file,
            numero_record,
            sha256,
            generata_il,
            percorso,
        })
    });
    let result = result.and_then(|e| match &tmp {
        Some(t) => std::fs::rename(t, &e.percorso)
            .map(|()| e.clone())
            .map_err(|source| RevocheError::Scrittura {
                path: e.percorso.display().to_string(),
                source,
            }),
        None => Ok(e),
    });
    if let Err(err) = &result {
        if let Some(t) = &tmp {
            let _ = std::fs::remove_file(t);
        }
        let row = Trasmissione {
            fornitura_id: None,
            nome_file: None,
            tipo: "ESPORTAZIONE",
            ente: match err {
                RevocheError::RegioneSconosciuta(_) => None,
                _ => Some(regione.to_owned()),
            },
            operatore: op,
            trasmessa_il: at,
            esito: err.esito(),
            durata_ms: elapsed_ms(start),
            dettaglio: Some(err.to_string()),
        };
        if let Err(e) = repo::registra(conn, &row) {
            tracing::warn!(error = %e, export_error = %err, "failed export not recorded");
        }
    }
    result
}

/// A stored file, as downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRevoche {
    pub id: i64,
    pub codice_regione: String,
    pub nome_file: String,
    pub contenuto: Vec<u8>,
}

/// The portal's download (a later issue): file `id` for an operatore of region `ente`, who may
/// fetch only that region's files. Records the DOWNLOAD, failed or not; `None` when the file
/// does not exist or is another region's (recorded as `FILE_INESISTENTE` or
/// `ENTE_NON_AUTORIZZATO`).
pub fn scarica(
    conn: &mut PgConnection,
    id: i64,
    ente: &CodiceRegione,
    operatore_: &str,
) -> Result<Option<FileRevoche>, RevocheError> {
    let op = operatore(operatore_)?;
    let (start, at) = (Instant::now(), Utc::now().trunc_subsecs(3));
    let file = repo::file(conn, id)?;
    let esito = match &file {
        None => "FILE_INESISTENTE",
        Some((regione, _, _)) if regione != ente.as_str() => "ENTE_NON_AUTORIZZATO",
        Some(_) => "OK",
    };
    repo::registra(
        conn,
        &Trasmissione {
            fornitura_id: file.as_ref().map(|_| id),
            nome_file: file.as_ref().map(|(_, n, _)| n.clone()),
            tipo: "DOWNLOAD",
            ente: Some(ente.as_str().to_owned()),
            operatore: op,
            trasmessa_il: at,
            esito,
            durata_ms: elapsed_ms(start),
            dettaglio: None,
        },
    )?;
    Ok(file
        .filter(|_| esito == "OK")
        .map(|(codice_regione, nome_file, contenuto)| FileRevoche {
            id,
            codice_regione,
            nome_file,
            contenuto,
        }))
}

/// The newest `limite` stored files, of one region or all, newest first.
pub fn elenco_file(
    conn: &mut PgConnection,
    regione: Option<&CodiceRegione>,
    limite: u32,
) -> Result<Vec<VoceFile>, RevocheError> {
    Ok(repo::elenco_file(
        conn,
        regione.map(CodiceRegione::as_str),
        i64::from(limite),
    )?)
}
