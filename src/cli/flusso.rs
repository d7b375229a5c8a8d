//! `tsgate flusso`: bulk files — import, outcome, list, sign.

use super::database;
use clap::Subcommand;
use std::path::PathBuf;
use tsgate::config::Config;

#[derive(Subcommand)]
pub enum FlussoAction {
    /// Receive and import a signed file (.p7m) as sent by a caller; progress on stderr.
    Importa {
        file: PathBuf,
        /// The caller the file comes from (chiamante.nome): an AVN for bookings, a CMS for
        /// TS-CNS files (applied for its region).
        #[arg(long)]
        chiamante: String,
        /// What the file carries, as the last part of its upload path: `prenotazioni` (AVN
        /// bookings) or `tscns` (TS-CNS first load).
        #[arg(long, default_value = "prenotazioni")]
        tipo: String,
    },
    /// Write the outcome document of a file.
    Esito {
        protocollo: String,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the latest files and their state.
    Elenco,
    /// Sign an XML file as CMS SignedData (DER, content included).
    Firma {
        file: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn flusso(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    action: FlussoAction,
) -> anyhow::Result<()> {
    use tsgate::catalogo::GENERI;
    use tsgate::flussi::cli;
    if let FlussoAction::Firma {
        file,
        cert,
        key,
        out,
    } = &action
    {
        return cli::firma(file, cert, key, out);
    }
    let (url, _pg) = database(config)?;
    match action {
        FlussoAction::Importa {
            file,
            chiamante,
            tipo,
        } => {
            let tipo = GENERI.per_nome(&tipo).ok_or_else(|| {
                let noti: Vec<&str> = GENERI.iter().map(|t| t.nome()).collect();
                anyhow::anyhow!("--tipo {tipo}: not a kind of file ({})", noti.join(", "))
            })?;
            runtime.block_on(cli::importa(config, &url, &file, &chiamante, GENERI, tipo))
        }
        FlussoAction::Esito { protocollo, out } => {
            cli::esito(&url, GENERI, &protocollo, out.as_deref())
        }
        FlussoAction::Elenco => cli::elenco(&url),
        FlussoAction::Firma { .. } => Ok(()),
    }
}
