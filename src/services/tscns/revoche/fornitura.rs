//! The file of a region's pending notices for the portal's file exchange: produced on demand
//! (`tsgate tscns revoche esporta`), stored whole in `fornitura_revoche`, written to a directory,
//! and every export, failed ones included, recorded in `fornitura_revoche_trasmissione`.
//! Exporting does not acknowledge anything: only ConfermaRevoche does.

use super::repo::{self, Trasmissione, VoceFile};
use super::{formato, RevocheError};
use crate::domain::CodiceRegione;
use crate::services::esportazione;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Most notices in one file. A region with more pending notices gets no file: the export is
/// refused (`TROPPI_RECORD`) rather than cut short, since a file must list them all.
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
/// own name, mode 0600) and records the export, in one transaction: the file is written under
/// a temporary name, flushed and renamed into place before the transaction commits, so a
/// stored file was always written, and a failure leaves neither a file nor a stored record. A
/// failure is recorded too (after the rollback) and returned. A region with more than
/// `MASSIMO_RECORD` pending notices is refused (`TroppiRecord`).
pub fn esporta(
    conn: &mut PgConnection,
    regione: &CodiceRegione,
    dir: &Path,
    operatore_: &str,
) -> Result<Esportato, RevocheError> {
    esporta_con(
        conn,
        regione,
        dir,
        operatore_,
        MASSIMO_RECORD,
        esportazione::pubblica,
    )
}

/// `esporta` with the record limit and the final rename given (for the tests of the limit and
/// of a failed rename).
#[doc(hidden)]
pub fn esporta_con(
    conn: &mut PgConnection,
    regione: &CodiceRegione,
    dir: &Path,
    operatore_: &str,
    massimo: i64,
    pubblica: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> Result<Esportato, RevocheError> {
    let op = operatore(operatore_)?;
    let (start, at) = (Instant::now(), Utc::now().trunc_subsecs(3));
    let regione = regione.as_str();
    // What is on disk, to remove when the transaction does not commit.
    let mut tmp: Option<PathBuf> = None;
    let mut pubblicato: Option<PathBuf> = None;
    let result = conn.transaction(|c| {
        if !repo::regione_esiste(c, regione)? {
            return Err(RevocheError::RegioneSconosciuta(regione.to_owned()));
        }
        let generata_il = repo::adesso(c)?;
        // One more than the limit: whether it is exceeded, without counting them all.
        let righe = repo::pendenti(c, regione, 0, massimo.saturating_add(1))?;
        if i64::try_from(righe.len()).unwrap_or(i64::MAX) > massimo {
            return Err(RevocheError::TroppiRecord {
                regione: regione.to_owned(),
                massimo,
            });
        }
        let contenuto = formato::formatta(regione, generata_il, &righe)?;
        let nome_file = formato::nome_file(regione, generata_il);
        let sha256 = esportazione::sha256_hex(&contenuto);
        let numero_record = i32::try_from(righe.len()).map_err(|_| formato::FormatoError {
            campo: "numero record",
            valore: righe.len().to_string(),
        })?;
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
        let t = esportazione::temporaneo(&percorso);
        tmp = Some(t.clone());
        esportazione::scrivi_riservato(&t, &contenuto).map_err(scrittura)?;
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
                durata_ms: esportazione::elapsed_ms(start),
                dettaglio: None,
            },
        )?;
        // Last step before the commit: if the commit fails, the file is removed below.
        pubblicato = Some(percorso.clone());
        pubblica(&t, &percorso).map_err(scrittura)?;
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
    if let Err(err) = &result {
        for f in tmp.iter().chain(&pubblicato) {
            match std::fs::remove_file(f) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(path = %f.display(), error = %e, "file of a failed export not removed");
                }
                _ => {}
            }
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
            durata_ms: esportazione::elapsed_ms(start),
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
/// fetch only that region's files. Records the DOWNLOAD, failed or not (an `ente` that is not a
/// region is recorded without it, as `REGIONE_SCONOSCIUTA`), then returns the file or the
/// failure (`RegioneSconosciuta`, `FileInesistente`, `EnteNonAutorizzato`), like the
/// multiple-booking notices' `scarica`. The content is read only once the download is allowed.
pub fn scarica(
    conn: &mut PgConnection,
    id: i64,
    ente: &CodiceRegione,
    operatore_: &str,
) -> Result<FileRevoche, RevocheError> {
    let op = operatore(operatore_)?;
    let (start, at) = (Instant::now(), Utc::now().trunc_subsecs(3));
    let ente = ente.as_str();
    let esito = conn.transaction(|c| {
        let ente_esiste = repo::regione_esiste(c, ente)?;
        let intestazione = if ente_esiste {
            repo::intestazione_file(c, id)?
        } else {
            None
        };
        let outcome = match &intestazione {
            _ if !ente_esiste => Err(RevocheError::RegioneSconosciuta(ente.to_owned())),
            None => Err(RevocheError::FileInesistente(id)),
            Some((regione, _)) if regione != ente => Err(RevocheError::EnteNonAutorizzato {
                id,
                regione: regione.clone(),
                ente: ente.to_owned(),
            }),
            Some((regione, nome_file)) => repo::contenuto_file(c, id)?
                .map(|contenuto| FileRevoche {
                    id,
                    codice_regione: regione.clone(),
                    nome_file: nome_file.clone(),
                    contenuto,
                })
                .ok_or(RevocheError::FileInesistente(id)),
        };
        repo::registra(
            c,
            &Trasmissione {
                fornitura_id: intestazione.as_ref().map(|_| id),
                nome_file: intestazione.map(|(_, n)| n),
                tipo: "DOWNLOAD",
                ente: ente_esiste.then(|| ente.to_owned()),
                operatore: op,
                trasmessa_il: at,
                esito: match &outcome {
                    Ok(_) => "OK",
                    Err(e) => e.esito(),
                },
                durata_ms: esportazione::elapsed_ms(start),
                dettaglio: outcome.as_ref().err().map(ToString::to_string),
            },
        )?;
        Ok::<_, RevocheError>(outcome)
    })?;
    esito
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
