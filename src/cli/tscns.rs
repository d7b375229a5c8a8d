//! `tsgate tscns`: TS-CNS card events and revocation notices.

use super::{connect_one, parse_regione, regione_arg};
use clap::Subcommand;
use std::path::PathBuf;
use tsgate::config::Config;

#[derive(Subcommand)]
pub enum TscnsAction {
    /// Card events (death, replacement, reissue) that queue revocation notices.
    Eventi {
        #[command(subcommand)]
        action: EventiAction,
    },
    /// Revocation notices to the CMS: export a region's pending ones as a file, list the files.
    Revoche {
        #[command(subcommand)]
        action: RevocheAction,
    },
}

#[derive(Subcommand)]
pub enum EventiAction {
    /// Load a CSV `numeroTessera;tipoEvento;dataEvento` (with header); idempotent.
    Carica { file: PathBuf },
}

#[derive(Subcommand)]
pub enum RevocheAction {
    /// Produce and store the file of a region's pending notices and write it into a directory.
    Esporta {
        /// Codice regione (e.g. 030).
        #[arg(long)]
        regione: String,
        /// Directory the file is written into, under its own name.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Operatore recorded for the export.
        #[arg(long, default_value = "tsgate-cli")]
        operatore: String,
    },
    /// List the stored files, newest first (generation time in Europe/Rome).
    Elenco {
        #[arg(long)]
        regione: Option<String>,
        /// Most files listed.
        #[arg(long, default_value_t = 100)]
        limite: u32,
    },
}

pub fn tscns(config: &Config, action: TscnsAction) -> anyhow::Result<()> {
    use tsgate::services::tscns::revoche::cli;
    let (mut conn, _pg) = connect_one(config)?;
    match action {
        TscnsAction::Eventi {
            action: EventiAction::Carica { file },
        } => cli::carica_eventi(&mut conn, &file),
        TscnsAction::Revoche { action } => match action {
            RevocheAction::Esporta {
                regione,
                dir,
                operatore,
            } => {
                let regione = parse_regione(&regione)?;
                cli::esporta(&mut conn, &regione, &dir, &operatore)
            }
            RevocheAction::Elenco { regione, limite } => {
                let regione = regione_arg(regione.as_deref())?;
                cli::elenco(&mut conn, regione.as_ref(), limite)
            }
        },
    }
}
