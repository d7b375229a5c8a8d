//! `tsgate sso piattaforme`: the regional platforms and the PN that operators log in to (SAML SPs).

use super::connect_one;
use clap::Subcommand;
use std::path::PathBuf;
use tsgate::config::Config;

#[derive(Subcommand)]
pub enum SsoAction {
    /// The enrolment of the regions and of the Piattaforma Nazionale: their service providers
    /// and the operator types they accept.
    Piattaforme {
        #[command(subcommand)]
        action: PiattaformeAction,
    },
}

#[derive(Subcommand)]
pub enum PiattaformeAction {
    /// Make the enrolment equal to a TOML file (platforms and SPs not in it are removed); prints
    /// one line per change, each recorded in the audit chain; effective at once.
    Applica {
        file: PathBuf,
        /// Check the file and print the changes without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the enrolled platforms.
    Elenco,
}

pub fn piattaforme(config: &Config, action: PiattaformeAction) -> anyhow::Result<()> {
    use tsgate::sso::piattaforme;
    match action {
        PiattaformeAction::Applica { file, dry_run } => {
            // The file first: a bad one fails without touching the database.
            let isc = piattaforme::leggi_file(&file)?;
            let (mut conn, _pg) = connect_one(config)?;
            let righe = piattaforme::applica(&mut conn, &isc, dry_run)?;
            for r in &righe {
                println!("{r}");
            }
            if righe.is_empty() {
                println!("nessuna modifica (no changes)");
            }
            if dry_run {
                println!("--dry-run: nulla è stato scritto (nothing written)");
            }
            Ok(())
        }
        PiattaformeAction::Elenco => {
            let (mut conn, _pg) = connect_one(config)?;
            print!("{}", piattaforme::elenco(&mut conn)?);
            Ok(())
        }
    }
}
