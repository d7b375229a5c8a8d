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
pub use fornitura::{elenco_file, esporta, scarica, Esportato, FileRevoche};

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
    /// The esito recorded in `fornitura_revoche_trasmissione` for a failed export.
    pub fn esito(&self) -> &'static str {
        match self {
            Self::RegioneSconosciuta(_) => "REGIONE_SCONOSCIUTA",
            Self::Scrittura { .. } => "SCRITTURA_FALLITA",
            Self::Operatore(_) => "OPERATORE_NON_VALIDO",
            _ => "ERRORE_INTERNO",
        }
    }
}
