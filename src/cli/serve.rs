//! `tsgate serve` and `tsgate demo`: tracing, the database, the gateway until a signal.

use super::database;
use anyhow::{bail, Context};
use std::time::Duration;
use tsgate::config::Config;
use tsgate::db::{self};
use tsgate::pki::Pki;

pub fn init_tracing(config: &Config) {
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

pub async fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
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

pub fn print_demo_help(config: &Config, base_url: &str) {
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
         and SOAPAction (see docs/integrators.md); the AVN transmissions with {pki}/clients/avn.pem and .key.\n\
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
