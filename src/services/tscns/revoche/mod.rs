//! TS-CNS revocation notices to the regional CMS (decree 20 June 2011): card events loaded by
//! command queue notices, pulled by ElencoRevoche, acknowledged by ConfermaRevoche, exported as files.

pub mod cli;
pub mod conferma;
pub mod elenco;
pub mod eventi;
pub mod formato;
pub mod fornitura;
pub mod repo;

pub use conferma::CONFERMA_REVOCHE;
pub use elenco::ELENCO_REVOCHE;
pub use eventi::{carica, carica_file, Caricamento, RigaErrata};
pub use fornitura::{elenco_file, esporta, scarica, Esportato, FileRevoche, MASSIMO_RECORD};

use diesel::PgConnection;

/// Any failure of the loading and the export; the CLI reports it.
#[derive(Debug, thiserror::Error)]
pub enum RevocheError {
    #[error("cannot read {path}: {source}")]
    Lettura {
        path: String,
        source: std::io::Error,
    },
    #[error("line 1: the header must be `{}`", eventi::INTESTAZIONE)]
    Intestazione,
    #[error("regione {0} does not exist")]
    RegioneSconosciuta(String),
    #[error(
        "regione {regione} has more than {massimo} pending notices: no file produced \
         (the CMS must acknowledge some first, or pull them with ElencoRevoche)"
    )]
    TroppiRecord { regione: String, massimo: i64 },
    #[error("no revocation file with id {0}")]
    FileInesistente(i64),
    #[error("file {id} is for regione {regione}, not for ente {ente}")]
    EnteNonAutorizzato {
        id: i64,
        regione: String,
        ente: String,
    },
    #[error("cannot write {path}: {source}")]
    Scrittura {
        path: String,
        source: std::io::Error,
    },
    #[error("operatore {0}")]
    Operatore(&'static str),
    #[error("file not produced: {0}")]
    Formato(#[from] formato::FormatoError),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
}

impl RevocheError {
    /// The esito recorded in `fornitura_revoche_trasmissione` for a failed export or download.
    pub fn esito(&self) -> &'static str {
        match self {
            Self::RegioneSconosciuta(_) => "REGIONE_SCONOSCIUTA",
            Self::TroppiRecord { .. } => "TROPPI_RECORD",
            Self::FileInesistente(_) => "FILE_INESISTENTE",
            Self::EnteNonAutorizzato { .. } => "ENTE_NON_AUTORIZZATO",
            Self::Scrittura { .. } => "SCRITTURA_FALLITA",
            Self::Operatore(_) => "OPERATORE_NON_VALIDO",
            _ => "ERRORE_INTERNO",
        }
    }
}

/// What the retention removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Notices acknowledged more than the retention period ago.
    pub comunicazioni: usize,
    pub file: usize,
    pub trasmissioni: usize,
}

/// Deletes the notices acknowledged, the files produced and the transmission rows recorded more
/// than `months` months ago (the access log's retention, `access_log.retention_months`), in one
/// transaction. Pending notices are kept however old.
pub fn purge(conn: &mut PgConnection, months: u32) -> Result<Purged, RevocheError> {
    let months = i32::try_from(months).unwrap_or(i32::MAX);
    let (comunicazioni, file, trasmissioni) = repo::purge(conn, months)?;
    Ok(Purged {
        comunicazioni,
        file,
        trasmissioni,
    })
}
