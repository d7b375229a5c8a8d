//! The `tsgate` command line: serve, demo, migrate, purge, pki, notifiche, flusso, tscns, audit,
//! contratti, sso, report.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tsgate::config::Config;
use tsgate::db;

mod cli;
use cli::audit::{audit_verify, AuditAction};
use cli::connect_one;
use cli::contratti::ContrattiAction;
use cli::flusso::{flusso, FlussoAction};
use cli::notifiche::{notifiche_cmd, NotificheAction};
use cli::pki::{pki, PkiAction};
use cli::serve::{init_tracing, serve};
use cli::sso::{piattaforme, SsoAction};
use cli::tscns::{tscns, TscnsAction};

#[derive(Parser)]
#[command(
    name = "tsgate",
    version,
    about = "Gateway for the cooperative services of Sistema Tessera Sanitaria"
)]
struct Cli {
    /// Configuration file (default: conf/tsgate.toml when it exists).
    #[arg(long, global = true, env = "TSGATE_CONFIG")]
    config: Option<PathBuf>,
    /// Override database.url.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Override server.soap_listen.
    #[arg(long, global = true)]
    listen: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the SOAP and admin ports until SIGINT/SIGTERM.
    Serve,
    /// Demo: private database, migrations, fixtures, development PKI, then serve.
    Demo,
    /// Apply the pending database migrations.
    Migrate,
    /// Drop the access-log partitions older than access_log.retention_months, and delete the
    /// notice files, their logs and the acknowledged revocation notices older than that; and the
    /// monitoring aggregates older than monitoraggio.retention_months.
    Purge,
    /// Manage client certificates of the gateway CA.
    Pki {
        #[command(subcommand)]
        action: PkiAction,
    },
    /// Multiple-booking notices (decree section 5): produce, list, export.
    Notifiche {
        #[command(subcommand)]
        action: NotificheAction,
    },
    /// Bulk files (AVN bookings, TS-CNS first load): import, outcome, list, sign.
    Flusso {
        #[command(subcommand)]
        action: FlussoAction,
    },
    /// TS-CNS services of the regional Card Management Systems.
    Tscns {
        #[command(subcommand)]
        action: TscnsAction,
    },
    /// The tamper-evident audit log of administrative changes and operator logins.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The published contracts (WSDL and XSD) for integrators.
    Contratti {
        #[command(subcommand)]
        action: ContrattiAction,
    },
    /// Operator SSO (tsgate as SAML identity provider of the regional platforms and the PN).
    Sso {
        #[command(subcommand)]
        action: SsoAction,
    },
    /// Monitoring reports (decree annex A 7.4): traffic, vaccination data, misuse; and the
    /// rebuild of their aggregates from the access log.
    Report {
        #[command(subcommand)]
        action: tsgate::monitoraggio::cli::ReportAction,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("tsgate: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config_path = cli.config.clone().or_else(|| {
        let default = PathBuf::from("conf/tsgate.toml");
        default.exists().then_some(default)
    });
    let mut config = Config::load(config_path.as_deref(), std::env::vars())?;
    if let Some(url) = cli.database_url {
        config.database.url = url;
    }
    if let Some(listen) = cli.listen {
        config.server.soap_listen = listen;
    }
    config.validate()?;
    init_tracing(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve => runtime.block_on(serve(config, false)),
        Command::Demo => runtime.block_on(serve(config, true)),
        Command::Migrate => {
            let (mut conn, _pg) = connect_one(&config)?;
            let n = db::migrate(&mut conn)?;
            println!("{n} migration(s) applied");
            Ok(())
        }
        Command::Purge => cli::purge::purge(&config),
        Command::Pki { action } => pki(&config, action),
        Command::Notifiche { action } => notifiche_cmd(&config, action),
        Command::Flusso { action } => flusso(&config, &runtime, action),
        Command::Tscns { action } => tscns(&config, action),
        Command::Contratti {
            action: ContrattiAction::Esporta { dir, indirizzo },
        } => cli::contratti::esporta(&config, &dir, indirizzo),
        Command::Sso {
            action: SsoAction::Piattaforme { action },
        } => piattaforme(&config, action),
        Command::Report { action } => {
            let (mut conn, _pg) = connect_one(&config)?;
            tsgate::monitoraggio::cli::esegui(&mut conn, &config.monitoraggio, action)
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let code = audit_verify(&config);
            drop(runtime);
            std::process::exit(code)
        }
    }
}
