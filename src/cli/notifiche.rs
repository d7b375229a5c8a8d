//! `tsgate notifiche`: the multiple-booking notices (decree section 5).

use super::{connect_one, regione_arg};
use clap::Subcommand;
use std::path::PathBuf;
use tsgate::config::Config;
use tsgate::services::vaccini::notifiche;

#[derive(Subcommand)]
pub enum NotificheAction {
    /// Produce and store the files now: of one region, or of every region.
    Genera {
        /// Codice regione (e.g. 030); all regions when omitted.
        #[arg(long)]
        regione: Option<String>,
        /// Operatore recorded for the production.
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
    /// Write a stored file to a path and record the export (section 5.5).
    Esporta {
        /// Id of the file (see `elenco`).
        id: i64,
        #[arg(long)]
        out: PathBuf,
        /// Codice fiscale or name of the operatore receiving the file.
        #[arg(long)]
        operatore: String,
    },
}

pub fn notifiche_cmd(config: &Config, action: NotificheAction) -> anyhow::Result<()> {
    let (mut conn, _pg) = connect_one(config)?;
    match action {
        NotificheAction::Genera { regione, operatore } => {
            let regione = regione_arg(regione.as_deref())?;
            let files = notifiche::genera(&mut conn, regione.as_ref(), &operatore)?;
            for f in &files {
                println!(
                    "{}\t{}\t{}\t{} record(s)\tsha256 {}",
                    f.id, f.codice_regione, f.nome_file, f.numero_record, f.sha256
                );
            }
            println!("{} file(s) produced", files.len());
        }
        NotificheAction::Elenco { regione, limite } => {
            let regione = regione_arg(regione.as_deref())?;
            println!("id\tregione\tgenerata_il (Europe/Rome)\trecord\tnome_file\tsha256\torigine");
            for v in notifiche::elenco(&mut conn, regione.as_ref(), limite)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    v.id,
                    v.codice_regione,
                    v.generata_il_roma,
                    v.numero_record,
                    v.nome_file,
                    v.sha256,
                    if v.automatica {
                        "giornaliera"
                    } else {
                        "comando"
                    }
                );
            }
        }
        NotificheAction::Esporta { id, out, operatore } => {
            let f = notifiche::esporta(&mut conn, id, &out, &operatore)?;
            println!(
                "file {} ({}, regione {}, {} record(s), sha256 {}) written to {}",
                f.id,
                f.nome_file,
                f.codice_regione,
                f.numero_record,
                f.sha256,
                out.display()
            );
        }
    }
    Ok(())
}
