//! `tsgate report …`: the portal's reports on the terminal (the same requests, the same
//! numbers), and the rebuild of the aggregates from the access log.

use super::esporta::{self, Formato};
use super::richiesta::{Ambito, Richiesta, TipoReport};
use crate::config::MonitoraggioConfig;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use diesel::PgConnection;
use std::collections::HashMap;

#[derive(clap::Subcommand)]
pub enum ReportAction {
    /// Calls per operation, calling region, caller, client IP or esito, per period.
    Traffico(Argomenti),
    /// Bookings and administrations transmitted, by region, web service and bulk file apart.
    Vaccinazioni(Argomenti),
    /// Misuse flags: calls per 1,000 patients against the threshold and the trailing median,
    /// new client IPs.
    Anomalie(Argomenti),
    /// Rebuild the aggregates of the periods holding --da … --a from the access log, printing
    /// per granularity the calls the aggregates held and the calls of the log.
    Ricostruisci {
        #[arg(long, value_name = "YYYY-MM-DD")]
        da: NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        a: NaiveDate,
    },
}

#[derive(clap::Args)]
pub struct Argomenti {
    /// First day (Europe/Rome), default 6 days before --a.
    #[arg(long, value_name = "YYYY-MM-DD")]
    da: Option<String>,
    /// Last day, included; default today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    a: Option<String>,
    /// Group by: operazione, regione, chiamante, ip, esito, errore.
    #[arg(long)]
    per: Option<String>,
    /// ora, giorno, settimana, mese.
    #[arg(long)]
    granularita: Option<String>,
    /// tabella (default), csv (one section: --sezione), json (the whole report).
    #[arg(long, default_value = "tabella")]
    formato: String,
    /// The section of a CSV export (default the first: serie, distribuzione, regioni,
    /// segnalazioni, ip).
    #[arg(long)]
    sezione: Option<String>,
    #[arg(long)]
    regione: Option<String>,
    #[arg(long)]
    chiamante: Option<String>,
    #[arg(long)]
    ip: Option<String>,
    #[arg(long)]
    operazione: Option<String>,
    #[arg(long)]
    esito: Option<String>,
}

/// Runs `azione`, printing to stdout.
pub fn esegui(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    azione: ReportAction,
) -> anyhow::Result<()> {
    let (tipo, arg) = match azione {
        ReportAction::Traffico(a) => (TipoReport::Traffico, a),
        ReportAction::Vaccinazioni(a) => (TipoReport::Vaccinazioni, a),
        ReportAction::Anomalie(a) => (TipoReport::Anomalie, a),
        ReportAction::Ricostruisci { da, a } => {
            let fatte = super::aggregati::ricostruisci(conn, da, a)?;
            println!("granularità  chiamate prima  chiamate dal log");
            for r in fatte {
                println!(
                    "{:<11}  {:>15}  {:>16}{}",
                    r.granularita.as_str(),
                    r.prima,
                    r.dopo,
                    if r.prima == r.dopo {
                        ""
                    } else {
                        "  (differivano)"
                    }
                );
            }
            return Ok(());
        }
    };
    let formato = Formato::parse(&arg.formato)
        .with_context(|| format!("--formato {}: tabella, csv or json", arg.formato))?;
    let mut q = HashMap::new();
    for (k, v) in [
        ("da", arg.da),
        ("a", arg.a),
        ("per", arg.per),
        ("granularita", arg.granularita),
        ("regione", arg.regione),
        ("chiamante", arg.chiamante),
        ("ip", arg.ip),
        ("operazione", arg.operazione),
        ("esito", arg.esito),
    ] {
        if let Some(v) = v {
            q.insert(k.to_owned(), v);
        }
    }
    let richiesta = Richiesta::da_coppie(tipo, &q, crate::domain::tempo::oggi_roma())
        .map_err(anyhow::Error::msg)?;
    let report = super::report(conn, cfg, &Ambito::nazionale(), &richiesta)?;
    match formato {
        Formato::Tabella => print!("{}", esporta::testo(&report)),
        Formato::Json => println!("{}", esporta::json(&report)),
        Formato::Csv => {
            let sezione = match &arg.sezione {
                None => report.sezioni.first(),
                Some(id) => report.sezioni.iter().find(|s| s.id == id.as_str()),
            };
            let Some(sezione) = sezione else {
                let ids: Vec<&str> = report.sezioni.iter().map(|s| s.id).collect();
                bail!("--sezione: one of {}", ids.join(", "));
            };
            print!("{}", esporta::csv(sezione));
        }
    }
    Ok(())
}
