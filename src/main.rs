//! The `tsgate` command line: serve, demo, migrate, purge, pki, notifiche, flusso, tscns, audit,
//! contratti, sso, report.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use tsgate::config::Config;
use tsgate::db::{self, embedded::EmbeddedPostgres};
use tsgate::domain::CodiceRegione;
use tsgate::pki::Pki;
use tsgate::services::vaccini::notifiche;

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

#[derive(Subcommand)]
enum ContrattiAction {
    /// Write every WSDL and the schemas it imports into DIR, side by side with relative
    /// schemaLocations, ready for wsdl2h, wsimport or SoapUI.
    Esporta {
        dir: PathBuf,
        /// The base URL written in each soap:address (default: server.public_base_url, else
        /// https://<server.soap_listen>).
        #[arg(long)]
        indirizzo: Option<String>,
    },
}

#[derive(Subcommand)]
enum SsoAction {
    /// The enrolment of the regions and of the Piattaforma Nazionale: their service providers
    /// and the operator types they accept.
    Piattaforme {
        #[command(subcommand)]
        action: PiattaformeAction,
    },
}

#[derive(Subcommand)]
enum PiattaformeAction {
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

#[derive(Subcommand)]
enum AuditAction {
    /// Verify the chain: exit 0 when intact (prints the head hash), 1 at the first row changed,
    /// inserted or deleted, 2 when the database cannot be read.
    Verify,
}

#[derive(Subcommand)]
enum TscnsAction {
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
enum EventiAction {
    /// Load a CSV `numeroTessera;tipoEvento;dataEvento` (with header); idempotent.
    Carica { file: PathBuf },
}

#[derive(Subcommand)]
enum RevocheAction {
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

#[derive(Subcommand)]
enum NotificheAction {
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

#[derive(Subcommand)]
enum FlussoAction {
    /// Receive and import a signed file (.p7m) as sent by a caller; progress on stderr.
    Importa {
        file: PathBuf,
        /// The caller the file comes from (chiamante.nome): an AVN for bookings, a CMS for
        /// TS-CNS files (applied for its region).
        #[arg(long)]
        chiamante: String,
        /// What the file carries: `prenotazioni` (AVN bookings) or `tscns` (TS-CNS first load).
        #[arg(long, default_value = "prenotazioni", value_parser = ["prenotazioni", "tscns"])]
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

#[derive(Subcommand)]
enum PkiAction {
    /// Issue a client certificate for a registered caller and bind it to the caller.
    Issue {
        /// Caller name (chiamante.nome).
        #[arg(long)]
        caller: String,
        /// Certificate name, used for its files (default: the caller name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Revoke a client certificate (by name or serial): CRL rewritten, database updated.
    Revoke {
        #[arg(long, conflicts_with = "serial", required_unless_present = "serial")]
        name: Option<String>,
        #[arg(long)]
        serial: Option<String>,
    },
    /// List the issued certificates.
    List,
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
        Command::Purge => {
            let (mut conn, _pg) = connect_one(&config)?;
            tsgate::audit::retention::ensure_partitions(&mut conn)?;
            let dropped =
                tsgate::audit::retention::purge(&mut conn, config.access_log.retention_months)?;
            println!("{} partition(s) dropped {:?}", dropped.len(), dropped);
            let aggregati = tsgate::monitoraggio::aggregati::purge(
                &mut conn,
                config.monitoraggio.retention_months,
            )?;
            println!("{aggregati} monitoring aggregate row(s) older than monitoraggio.retention_months deleted");
            let purged = notifiche::purge(&mut conn, config.access_log.retention_months)?;
            println!(
                "{} multiple-booking file(s) and {} transmission record(s) deleted",
                purged.file, purged.trasmissioni
            );
            let revoche = tsgate::services::tscns::revoche::purge(
                &mut conn,
                config.access_log.retention_months,
            )?;
            println!(
                "{} acknowledged revocation notice(s), {} revocation file(s) and {} transmission \
                 record(s) deleted",
                revoche.comunicazioni, revoche.file, revoche.trasmissioni
            );
            Ok(())
        }
        Command::Pki { action } => pki(&config, action),
        Command::Notifiche { action } => notifiche_cmd(&config, action),
        Command::Flusso { action } => flusso(&config, &runtime, action),
        Command::Tscns { action } => tscns(&config, action),
        Command::Contratti {
            action: ContrattiAction::Esporta { dir, indirizzo },
        } => {
            let base = indirizzo.unwrap_or_else(|| {
                if config.server.public_base_url.is_empty() {
                    format!("https://{}", config.server.soap_listen)
                } else {
                    config.server.public_base_url.clone()
                }
            });
            let files = tsgate::soap::wsdl::esporta(tsgate::soap::operation::all(), &base, &dir)
                .with_context(|| format!("writing {}", dir.display()))?;
            for f in &files {
                println!("{}", dir.join(f).display());
            }
            Ok(())
        }
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

/// `tsgate audit verify`: the exit code (0 intact, 1 anomaly, 2 database error); the private
/// cluster, if one was started, is stopped before returning.
fn audit_verify(config: &Config) -> i32 {
    use tsgate::audit::catena::{self, Verifica};
    let (mut conn, pg) = match connect_one(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tsgate: {e:#}");
            return 2;
        }
    };
    let code = match catena::verifica(&mut conn) {
        Ok(Verifica::Integra(i)) => {
            println!(
                "catena integra: {} righe (chain intact: {} rows)",
                i.righe, i.righe
            );
            println!(
                "testa: riga {} hash {} (keep a copy elsewhere to detect a full rewrite)",
                i.ultimo_id,
                catena::esadecimale(&i.hash_testa)
            );
            0
        }
        Ok(Verifica::Compromessa(a)) => {
            println!("catena compromessa: {a}");
            1
        }
        Err(e) => {
            eprintln!("tsgate: audit verify: {e}");
            2
        }
    };
    drop(conn);
    drop(pg);
    code
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}

/// The database URL, starting the private cluster when none is configured.
fn database(config: &Config) -> anyhow::Result<(String, Option<EmbeddedPostgres>)> {
    if !config.database.url.is_empty() {
        return Ok((config.database.url.clone(), None));
    }
    let (pg, url) =
        EmbeddedPostgres::start(&config.database.embedded_dir, config.database.embedded_port)?;
    Ok((url, Some(pg)))
}

fn connect_one(
    config: &Config,
) -> anyhow::Result<(diesel::PgConnection, Option<EmbeddedPostgres>)> {
    use diesel::Connection;
    let (url, pg) = database(config)?;
    let conn = diesel::PgConnection::establish(&url).context("cannot connect to the database")?;
    Ok((conn, pg))
}

async fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    if !demo && config.database.url.is_empty() {
        bail!(
            "database.url (TSGATE_DATABASE_URL) is not set: `serve` needs a PostgreSQL server; \
             `tsgate demo` starts a private one for trying things out"
        );
    }
    let (url, pg) = tokio::task::block_in_place(|| database(&config))?;
    let pool = db::connect(
        &url,
        config.database.pool_size,
        Duration::from_millis(config.database.pool_timeout_ms),
    )?;
    if demo {
        let pki_dir = config.pki.dir.clone();
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            db::migrate(&mut conn)?;
            tsgate::demo::load_fixtures(&mut conn)?;
            tsgate::services::tscns::revoche::eventi::carica(
                &mut conn,
                tsgate::services::tscns::revoche::eventi::EVENTI_DEMO,
                "eventi.csv",
            )?;
            let pki = Pki::open_or_create(&pki_dir, &["localhost", "127.0.0.1", "::1"])?;
            tsgate::demo::provision(&mut conn, &pki)?;
            // A CNS smart-card certificate (with its .p12) for every demo operator.
            let operatori = tsgate::portal::operatori::demo()?
                .iter()
                .map(|o| tsgate::domain::CodiceFiscale::parse(&o.codice_fiscale))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("demo operators: {e}"))?;
            tsgate::demo::issue_cns_demo(&pki_dir, &operatori)?;
            // Operator SSO: the demo SPs' certificates and the enrolment of fixtures/demo_sso.toml.
            tsgate::sso::piattaforme::iscrivi_demo(&mut conn, &pki_dir.join("sso"))?;
            Ok(())
        })
        .await??;
        // The SSO identity provider's signing key, unless other files were configured.
        let sso = tsgate::config::SsoConfig::default();
        if config.sso.key_file == sso.key_file && config.sso.cert_file == sso.cert_file {
            config.sso.key_file = config.pki.dir.join("sso").join("idp.key");
            config.sso.cert_file = config.pki.dir.join("sso").join("idp.pem");
        }
        tsgate::sso::crea_chiave_se_manca(&config.sso.key_file, &config.sso.cert_file)?;
        // The key of the pincodes at rest, made once (0600).
        let chiave = config.portal.pincode_key_file.clone();
        if let Some(dir) = chiave.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        tsgate::portal::pincode::ChiavePincode::crea_se_manca(&chiave)
            .map_err(|e| anyhow::anyhow!("portal.pincode_key_file: {e}"))?;
        // The OTP client presents the demo PKI's tsgate-otp certificate and trusts its CA,
        // unless other files were configured.
        let otp = tsgate::config::OtpConfig::default();
        let (cert, key) = {
            let clients = config.pki.dir.join("clients");
            let name = tsgate::otp::CERTIFICATO_CLIENT;
            (
                clients.join(format!("{name}.pem")),
                clients.join(format!("{name}.key")),
            )
        };
        if config.otp.client_cert_file == otp.client_cert_file
            && config.otp.client_key_file == otp.client_key_file
        {
            config.otp.client_cert_file = cert;
            config.otp.client_key_file = key;
        }
        if config.otp.ca_file == otp.ca_file {
            config.otp.ca_file = config.pki.dir.join("ca.pem");
        }
        // The portal trusts the demo CNS CA unless another bundle was configured.
        if config.portal.cns_ca_file == tsgate::config::PortalConfig::default().cns_ca_file {
            config.portal.cns_ca_file = tsgate::pki::CnsCa::dir_in(&config.pki.dir).join("ca.pem");
        }
    }
    let running = tsgate::app::start(config.clone(), pool).await?;
    if demo {
        print_demo_help(&config, &running.base_url);
    }
    let result = running.run_until_signal().await;
    drop(pg);
    result
}

fn print_demo_help(config: &Config, base_url: &str) {
    let pki = config.pki.dir.display();
    let op = &tsgate::services::vaccini::VERIFICA_ASSISTITO_FUORI_REGIONE;
    println!(
        "\ntsgate demo is serving on {base_url}\n\
         Call VerificaAssistitoFuoriRegione as the Lombardy region (copy and paste):\n\n\
         curl --cacert {pki}/ca.pem --cert {pki}/clients/regione-lombardia.pem --key {pki}/clients/regione-lombardia.key \\\n  \
         -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: \"{action}\"' \\\n  \
         --data-binary @fixtures/requests/VerificaAssistitoFuoriRegione.xml {base_url}{path}\n\n\
         WSDL: {base_url}{path}?wsdl (same client certificate)\n\
         The other operations: the same command with fixtures/requests/<Operation>.xml, its path\n\
         and SOAPAction (see README); the AVN transmissions with {pki}/clients/avn.pem and .key.\n\
         Metrics: http://{admin}/metrics\n\
         Operators' portal: https://{portal}/ (demo operators in fixtures/demo_operatori.toml, e.g.\n  \
         RSSMRA80A01H501U / Demo.Tsgate1; security administrator VRDLCU70M10H501X / Demo.Tsgate1);\n  \
         CNS smart cards to import in the browser: {pki}/cns/clients/<codice fiscale>.p12 (password demo).\n  \
         Monitoraggio servizi (traffic, vaccination data, misuse): CNTFBA76L03H501N / Demo.Tsgate1 (MEF,\n  \
         every region), RCCMRT83P62H501G / Demo.Tsgate1 (region 120 only); CLI: tsgate report --help.\n\
         Operator SSO (SAML IdP): metadata https://{portal}/sso/metadata; log in as BNCNNA78D52H501J /\n  \
         Demo.Tsgate1 and open \"Vaccinazioni anti SARS-CoV-2\" (demo platforms: tsgate sso piattaforme\n  \
         elenco). A demo platform that shows what it received (pysaml2, in the venv of scripts/test):\n  \
         curl -sk https://{portal}/sso/metadata > var/idp.xml\n  \
         .venv/bin/python tests/sso/sp.py servi --nome 'Regione Lazio (demo)' --entity-id https://127.0.0.1:9543/sp-lazio \\\n    \
         --acs https://127.0.0.1:9543/acs --sign-cert {pki}/sso/sp-lazio.pem --sign-key {pki}/sso/sp-lazio.key --idp-metadata var/idp.xml\n  \
         then open https://127.0.0.1:9543/login (SP-initiated) or choose Lazio in the portal (IdP-initiated).\n\
         Immuni OTP service: https://{otp}/v1/otp and /v1/ingestion/check-otp (client certificate\n  \
         {pki}/clients/tsgate-otp.pem and .key); the portal authorises OTPs there.\n\
         The certificate {pki}/clients/{revoked}.pem is revoked: the handshake fails with it.\n\
         Stop with Ctrl-C.\n",
        action = op.soap_action,
        path = op.path,
        admin = config.server.admin_listen,
        portal = config.portal.listen,
        otp = config.otp.servizio_listen,
        revoked = tsgate::demo::REVOKED_DEMO_CERT,
    );
}

fn flusso(
    config: &Config,
    runtime: &tokio::runtime::Runtime,
    action: FlussoAction,
) -> anyhow::Result<()> {
    use tsgate::flussi::{cli, Tipo};
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
            let tipo = if tipo == "tscns" {
                Tipo::Tscns
            } else {
                Tipo::Prenotazioni
            };
            runtime.block_on(cli::importa(config, &url, &file, &chiamante, tipo))
        }
        FlussoAction::Esito { protocollo, out } => cli::esito(&url, &protocollo, out.as_deref()),
        FlussoAction::Elenco => cli::elenco(&url),
        FlussoAction::Firma { .. } => Ok(()),
    }
}

fn pki(config: &Config, action: PkiAction) -> anyhow::Result<()> {
    let pki = Pki::open(&config.pki.dir)
        .with_context(|| format!("no PKI in {}", config.pki.dir.display()))?;
    match action {
        PkiAction::List => {
            for cert in pki.list()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    cert.name,
                    cert.serial,
                    cert.fingerprint,
                    if cert.revoked { "REVOCATO" } else { "valido" }
                );
            }
            Ok(())
        }
        PkiAction::Issue { caller, name } => {
            let (mut conn, _pg) = connect_one(config)?;
            let name = name.unwrap_or_else(|| caller.clone());
            let cert = tsgate::demo::issue_for_caller(&mut conn, &pki, &caller, &name)?;
            println!(
                "issued {} (serial {}, sha256 {})",
                cert.cert_path.display(),
                cert.serial,
                cert.fingerprint
            );
            println!("key: {}", cert.key_path.display());
            Ok(())
        }
        PkiAction::Revoke { name, serial } => {
            let cert = match (name, serial) {
                (Some(n), _) => pki.revoke_name(&n)?,
                (None, Some(s)) => pki.revoke_serial(&s)?,
                (None, None) => bail!("give --name or --serial"),
            };
            let (mut conn, _pg) = connect_one(config)?;
            tsgate::access::repo::revoke_certificate(&mut conn, &cert.fingerprint)?;
            println!(
                "revoked {} (serial {}); CRL rewritten: {}",
                cert.name,
                cert.serial,
                pki.crl_pem_path().display()
            );
            Ok(())
        }
    }
}

fn parse_regione(r: &str) -> anyhow::Result<CodiceRegione> {
    CodiceRegione::parse(r)
        .map_err(|_| anyhow::anyhow!("--regione `{r}`: a codice regione is 3 digits, e.g. 030"))
}

fn regione_arg(regione: Option<&str>) -> anyhow::Result<Option<CodiceRegione>> {
    regione.map(parse_regione).transpose()
}

fn notifiche_cmd(config: &Config, action: NotificheAction) -> anyhow::Result<()> {
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

fn piattaforme(config: &Config, action: PiattaformeAction) -> anyhow::Result<()> {
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

fn tscns(config: &Config, action: TscnsAction) -> anyhow::Result<()> {
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
