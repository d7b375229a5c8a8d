//! Multiple-booking notices (decree section 5): per region, the file of its patients booked in
//! another region; produced daily and on demand, stored, listed, exported, and every production
//! and transmission recorded with the section 5.5 fields. Layout in `formato`, queries in `repo`.

pub mod formato;
pub mod repo;

pub use formato::RigaNotifica;
pub use repo::{FileNotifica, VoceElenco};

use crate::domain::CodiceRegione;
use crate::services::esportazione::{self, elapsed_ms, sha256_hex};
use chrono::{DateTime, NaiveTime, SubsecRound, Utc};
use diesel::prelude::*;
use repo::Trasmissione;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Operatore recorded for the server's daily production.
pub const OPERATORE_SERVER: &str = "tsgate-server";
/// Esito of a successful production or transmission; failures record `NotificheError::esito`.
pub const ESITO_OK: &str = "OK";

/// Any failure of the notices; `esito()` is the code written in the transmission log.
#[derive(Debug, thiserror::Error)]
pub enum NotificheError {
    #[error("regione {0} does not exist")]
    RegioneSconosciuta(String),
    #[error("no multiple-booking file with id {0}")]
    FileInesistente(i64),
    #[error("file {id} is for regione {regione}, not for ente {ente}")]
    EnteNonAutorizzato {
        id: i64,
        regione: String,
        ente: String,
    },
    #[error("cannot write {}: {source}", path.display())]
    Scrittura {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("operatore {0}")]
    Operatore(&'static str),
    #[error("file not produced: {0}")]
    Formato(#[from] formato::FormatoError),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
}

impl NotificheError {
    /// The esito recorded for this failure (docs/services/vaccini.md, "Multiple-booking notices").
    pub fn esito(&self) -> &'static str {
        match self {
            Self::RegioneSconosciuta(_) => "REGIONE_SCONOSCIUTA",
            Self::FileInesistente(_) => "FILE_INESISTENTE",
            Self::EnteNonAutorizzato { .. } => "ENTE_NON_AUTORIZZATO",
            Self::Scrittura { .. } => "SCRITTURA_FALLITA",
            Self::Operatore(_) => "OPERATORE_NON_VALIDO",
            Self::Formato(_) | Self::Db(_) => "ERRORE_INTERNO",
        }
    }
}

/// One file just produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prodotto {
    pub id: i64,
    pub codice_regione: String,
    pub nome_file: String,
    pub numero_record: i32,
    pub sha256: String,
    pub generata_il: DateTime<Utc>,
}

fn now_ms() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// An operatore is a codice fiscale or a name: printable, not blank, at most 128 characters.
fn operatore(op: &str) -> Result<String, NotificheError> {
    let op = op.trim();
    if op.is_empty() {
        return Err(NotificheError::Operatore("must not be empty"));
    }
    if op.chars().count() > 128 {
        return Err(NotificheError::Operatore("is longer than 128 characters"));
    }
    if op.chars().any(char::is_control) {
        return Err(NotificheError::Operatore("contains control characters"));
    }
    Ok(op.to_owned())
}

/// Produces the files of one region, or of every region when `regione` is `None` (a region with
/// no patient to notify gets a file with header and trailer only), stores them and records one
/// PRODUZIONE row each, all in one transaction. Returns the files in region order.
pub fn genera(
    conn: &mut PgConnection,
    regione: Option<&CodiceRegione>,
    operatore_: &str,
) -> Result<Vec<Prodotto>, NotificheError> {
    let op = operatore(operatore_)?;
    let (start, at) = (Instant::now(), now_ms());
    let regione = regione.map(CodiceRegione::as_str);
    conn.transaction(|c| produci(c, regione, &op, false))
        .inspect_err(|e| produzione_fallita(conn, regione, &op, start, at, e))
}

/// The server's daily production: produces every region's file when no automatic production
/// has happened since the latest passed `ora` (Europe/Rome), otherwise nothing. Safe with several
/// servers on one database: the one holding a transaction-scoped advisory lock checks and
/// produces, the others skip this round.
pub fn produzione_giornaliera(
    conn: &mut PgConnection,
    ora: NaiveTime,
) -> Result<Vec<Prodotto>, NotificheError> {
    let (start, at) = (Instant::now(), now_ms());
    conn.transaction(|c| {
        if !repo::blocca_produzione(c)? || !repo::produzione_dovuta(c, ora)? {
            return Ok(Vec::new());
        }
        produci(c, None, OPERATORE_SERVER, true)
    })
    .inspect_err(|e| produzione_fallita(conn, None, OPERATORE_SERVER, start, at, e))
}

/// Records a failed production (its transaction rolled back) with the error's esito; `ente` is
/// the requested region when it exists, NULL for all regions. Best effort: when the database
/// itself failed, the record may fail too, and that is only logged.
fn produzione_fallita(
    conn: &mut PgConnection,
    regione: Option<&str>,
    op: &str,
    start: Instant,
    at: DateTime<Utc>,
    err: &NotificheError,
) {
    let ente = match err {
        NotificheError::RegioneSconosciuta(_) => None,
        _ => regione.map(str::to_owned),
    };
    let row = Trasmissione {
        notifica_id: None,
        nome_file: None,
        tipo: "PRODUZIONE",
        ente,
        operatore: op.to_owned(),
        trasmessa_il: at,
        esito: err.esito(),
        durata_ms: elapsed_ms(start),
        dettaglio: Some(err.to_string()),
    };
    if let Err(e) = repo::registra(conn, &[row]) {
        tracing::warn!(error = %e, production_error = %err, "failed production not recorded");
    }
}

fn produci(
    c: &mut PgConnection,
    regione: Option<&str>,
    op: &str,
    automatica: bool,
) -> Result<Vec<Prodotto>, NotificheError> {
    let start = Instant::now();
    let generata_il = repo::adesso(c)?;
    repo::timeout_produzione(c)?;
    let regioni = match regione.map(|r| (r, CodiceRegione::parse(r))) {
        Some((r, Ok(code))) if super::repo::regione_esiste(c, &code)? => vec![r.to_owned()],
        Some((r, _)) => return Err(NotificheError::RegioneSconosciuta(r.to_owned())),
        None => repo::regioni(c)?,
    };
    let righe = repo::righe(c, regione)?;
    let mut prodotti = Vec::with_capacity(regioni.len());
    for r in regioni {
        // Rows are sorted by region: this region's are one contiguous run.
        let first = righe.partition_point(|x| x.regione_assistenza < r);
        let last = righe.partition_point(|x| x.regione_assistenza <= r);
        let mine = &righe[first..last];
        let contenuto = formato::formatta(&r, generata_il, mine)?;
        let nome_file = formato::nome_file(&r, generata_il);
        let sha256 = sha256_hex(&contenuto);
        let numero_record = i32::try_from(mine.len()).map_err(|_| formato::FormatoError {
            campo: "numero record",
            valore: mine.len().to_string(),
        })?;
        let id = repo::inserisci_file(
            c,
            &repo::NuovoFile {
                codice_regione: &r,
                generata_il,
                nome_file: &nome_file,
                numero_record,
                sha256: &sha256,
                contenuto: &contenuto,
                automatica,
            },
        )?;
        prodotti.push(Prodotto {
            id,
            codice_regione: r,
            nome_file,
            numero_record,
            sha256,
            generata_il,
        });
    }
    // Duration of a production: the whole run (query, formatting, storage), the same on each row.
    let durata_ms = elapsed_ms(start);
    let log: Vec<Trasmissione> = prodotti
        .iter()
        .map(|p| Trasmissione {
            notifica_id: Some(p.id),
            nome_file: Some(p.nome_file.clone()),
            tipo: "PRODUZIONE",
            ente: Some(p.codice_regione.clone()),
            operatore: op.to_owned(),
            trasmessa_il: generata_il,
            esito: ESITO_OK,
            durata_ms,
            dettaglio: None,
        })
        .collect();
    repo::registra(c, &log)?;
    Ok(prodotti)
}

/// The newest `limite` stored files, of one region or all, newest first.
pub fn elenco(
    conn: &mut PgConnection,
    regione: Option<&CodiceRegione>,
    limite: u32,
) -> Result<Vec<VoceElenco>, NotificheError> {
    Ok(repo::elenco(
        conn,
        regione.map(CodiceRegione::as_str),
        i64::from(limite),
    )?)
}

/// Writes file `id` to `out` for `operatore` and records the ESPORTAZIONE, failed or not (an
/// unknown id or an unwritable path is recorded with its esito, then returned as the error).
pub fn esporta(
    conn: &mut PgConnection,
    id: i64,
    out: &Path,
    operatore_: &str,
) -> Result<FileNotifica, NotificheError> {
    let op = operatore(operatore_)?;
    // Written beside `out` first, renamed only once the 5.5 row is committed: the file never
    // leaves without its record.
    let scrittura = |source| NotificheError::Scrittura {
        path: out.to_owned(),
        source,
    };
    let tmp = esportazione::temporaneo(out);
    let result = trasmetti(conn, id, None, "ESPORTAZIONE", &op, |f| {
        esportazione::scrivi_riservato(&tmp, &f.contenuto).map_err(scrittura)
    });
    match result {
        Ok(file) => esportazione::pubblica(&tmp, out)
            .map(|()| file)
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                scrittura(e)
            }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The portal's download: file `id` for an operatore of region `ente`, who may fetch only the
/// files of that region. Records the DOWNLOAD, failed or not; the caller sends the content.
pub fn scarica(
    conn: &mut PgConnection,
    id: i64,
    ente: &CodiceRegione,
    operatore_: &str,
) -> Result<FileNotifica, NotificheError> {
    let op = operatore(operatore_)?;
    trasmetti(conn, id, Some(ente.as_str()), "DOWNLOAD", &op, |_| Ok(()))
}

fn trasmetti(
    conn: &mut PgConnection,
    id: i64,
    ente: Option<&str>,
    tipo: &'static str,
    op: &str,
    invia: impl FnOnce(&FileNotifica) -> Result<(), NotificheError>,
) -> Result<FileNotifica, NotificheError> {
    let start = Instant::now();
    let trasmessa_il = now_ms();
    let file = repo::carica(conn, id)?;
    let outcome = match &file {
        None => Err(NotificheError::FileInesistente(id)),
        Some(f) => match ente {
            Some(e) if e != f.codice_regione => Err(NotificheError::EnteNonAutorizzato {
                id,
                regione: f.codice_regione.clone(),
                ente: e.to_owned(),
            }),
            _ => invia(f),
        },
    };
    let row = Trasmissione {
        notifica_id: file.as_ref().map(|f| f.id),
        nome_file: file.as_ref().map(|f| f.nome_file.clone()),
        tipo,
        // The ente the file went (or was to go) to: the requesting region for a download, the
        // file's region for an export; unknown only for an export of a missing file.
        ente: ente
            .map(str::to_owned)
            .or_else(|| file.as_ref().map(|f| f.codice_regione.clone())),
        operatore: op.to_owned(),
        trasmessa_il,
        esito: match &outcome {
            Ok(()) => ESITO_OK,
            Err(e) => e.esito(),
        },
        durata_ms: elapsed_ms(start),
        dettaglio: outcome.as_ref().err().map(ToString::to_string),
    };
    repo::registra(conn, &[row])?;
    outcome?;
    file.ok_or(NotificheError::FileInesistente(id))
}

/// What the retention removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub file: usize,
    pub trasmissioni: usize,
}

/// Deletes the stored files and the transmission rows older than `months` months (the access
/// log's retention, `access_log.retention_months`).
pub fn purge(conn: &mut PgConnection, months: u32) -> Result<Purged, NotificheError> {
    let months = i32::try_from(months).unwrap_or(i32::MAX);
    let (file, trasmissioni) = repo::purge(conn, months)?;
    Ok(Purged { file, trasmissioni })
}
