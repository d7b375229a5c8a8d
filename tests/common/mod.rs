//! Test harness: a database per test cloned from a migrated template, a PKI per test, the real
//! server on ephemeral ports, and a real mTLS HTTP/1.1 client.
#![allow(dead_code)]

pub mod browser;
pub mod client;
pub mod db;
pub mod portale;
pub mod sso;
pub mod stack;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tsgate::config::Config;
use tsgate::demo::CallerSpec;
use tsgate::pki::Pki;

pub use client::{Client, Reply};
pub use db::TestDb;

pub const VAFR_PATH: &str = "/ws/VerificaAssistitoFuoriRegione";
pub const VAFR_ACTION: &str =
    "urn:tsgate:vaccini:verificaAssistitoFuoriRegione#VerificaAssistitoFuoriRegione";
pub const VAFR_NS: &str = "urn:tsgate:vaccini:verificaAssistitoFuoriRegione";

/// The operations of section 4 and 6: (path, SOAPAction, namespace).
pub const PRENOTAZIONE: Op = Op::new("TrasmissionePrenotazione", "trasmissionePrenotazione");
pub const SOMMINISTRAZIONE: Op = Op::new(
    "TrasmissioneSomministrazione",
    "trasmissioneSomministrazione",
);
pub const VERIFICA_SOMMINISTRAZIONI: Op =
    Op::new("VerificaSomministrazioni", "verificaSomministrazioni");

/// A SOAP operation as a client sees it.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub name: &'static str,
    pub lower: &'static str,
    /// The service family in the namespace: `vaccini`, `tscns`.
    pub area: &'static str,
}

impl Op {
    pub const fn new(name: &'static str, lower: &'static str) -> Self {
        Self {
            name,
            lower,
            area: "vaccini",
        }
    }

    /// An operation of the TS-CNS services (`urn:tsgate:tscns:...`).
    pub const fn tscns(name: &'static str, lower: &'static str) -> Self {
        Self {
            name,
            lower,
            area: "tscns",
        }
    }

    pub fn path(&self) -> String {
        format!("/ws/{}", self.name)
    }

    pub fn action(&self) -> String {
        format!("urn:tsgate:{}:{}#{}", self.area, self.lower, self.name)
    }

    pub fn ns(&self) -> String {
        format!("urn:tsgate:{}:{}", self.area, self.lower)
    }

    /// A request envelope whose Richiesta holds `fields` (name, value) in order.
    pub fn envelope(&self, fields: &[(&str, &str)]) -> String {
        let inner: String = fields
            .iter()
            .map(|(k, v)| format!("<o:{k}>{v}</o:{k}>"))
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:o="{}"><soapenv:Body><o:{}Richiesta>{inner}</o:{}Richiesta></soapenv:Body></soapenv:Envelope>"#,
            self.ns(),
            self.name,
            self.name
        )
    }
}

/// The SSO IdP's signing key and certificate, made once per test process (RSA-3072 key
/// generation is too slow to repeat for every server).
pub fn sso_idp_key() -> (PathBuf, PathBuf) {
    static KEY: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let dir = scratch_dir("sso-idp");
        let (key, cert) = (dir.join("idp.key"), dir.join("idp.pem"));
        tsgate::sso::crea_chiave_se_manca(&key, &cert).expect("SSO key");
        (key, cert)
    })
    .clone()
}

/// A unique scratch directory under target/tmp.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub fn caller(
    nome: &str,
    tipo: &str,
    regione: Option<&str>,
    ops: &[&str],
    reti: &[&str],
) -> CallerSpec {
    CallerSpec {
        nome: nome.to_owned(),
        tipo: tipo.to_owned(),
        codice_regione: regione.map(str::to_owned),
        operazioni: ops.iter().map(|s| (*s).to_owned()).collect(),
        reti: reti.iter().map(|r| r.parse().expect("cidr")).collect(),
        limite_al_secondo: 1000,
        limite_raffica: 1000,
        tessera_obbligatoria: true,
    }
}

/// The standard cast: two regions (Lazio need not send numeroTessera to
/// VerificaSomministrazioni), the Piattaforma Nazionale, AVN (entitled to the transmissions
/// only), two CMS (Lombardia and Lazio, entitled to every TS-CNS operation), a caller
/// registered only for another address, and a revoked certificate.
pub fn standard_callers() -> Vec<CallerSpec> {
    let op = ["VerificaAssistitoFuoriRegione", "VerificaSomministrazioni"];
    vec![
        caller(
            "regione-lombardia",
            "REGIONE",
            Some("030"),
            &op,
            &["127.0.0.0/8"],
        ),
        CallerSpec {
            tessera_obbligatoria: false,
            ..caller(
                "regione-lazio",
                "REGIONE",
                Some("120"),
                &op,
                &["127.0.0.0/8"],
            )
        },
        caller(
            "piattaforma-nazionale",
            "PIATTAFORMA_NAZIONALE",
            None,
            &op,
            &["127.0.0.0/8"],
        ),
        caller(
            "avn",
            "AVN",
            None,
            &["TrasmissionePrenotazione", "TrasmissioneSomministrazione"],
            &["127.0.0.0/8"],
        ),
        caller(
            "cms-lombardia",
            "CMS",
            Some("030"),
            TSCNS_OPERAZIONI,
            &["127.0.0.0/8"],
        ),
        caller(
            "cms-lazio",
            "CMS",
            Some("120"),
            TSCNS_OPERAZIONI,
            &["127.0.0.0/8"],
        ),
        caller(
            "regione-veneto",
            "REGIONE",
            Some("050"),
            &op,
            &["127.0.0.77/32"],
        ),
    ]
}

/// Every TS-CNS operation: the standard CMS callers are entitled to all of them.
pub const TSCNS_OPERAZIONI: &[&str] = &[
    "AttivazioneTSCNS",
    "RevocaTSCNS",
    "ElencoRevoche",
    "ConfermaRevoche",
    "ElencoSerieCarte",
    "VerificaRinnovoCertificato",
    "RegistraRinnovoCertificato",
    "InvioFlussoTSCNS",
    "EsitoFlussoTSCNS",
];

pub struct TestServer {
    pub db: TestDb,
    pub pki: Pki,
    pub pki_dir: PathBuf,
    pub running: Option<tsgate::app::Running>,
    pub config: Config,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(standard_callers(), |_| {}).await
    }

    /// Starts the server with `callers` (each with a certificate named after it, plus
    /// `regione-lombardia-revocato`, revoked) and a config adjusted by `tweak`.
    pub async fn start_with(callers: Vec<CallerSpec>, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new().await;
        let pki_dir = scratch_dir("pki");
        let pki = Pki::open_or_create(&pki_dir, &["localhost", "127.0.0.1"]).expect("pki");
        {
            let mut conn = db.connection();
            for spec in &callers {
                tsgate::demo::upsert(&mut conn, spec).expect("caller");
                tsgate::demo::issue_for_caller(&mut conn, &pki, &spec.nome, &spec.nome)
                    .expect("issue");
            }
            if callers.iter().any(|c| c.nome == "regione-lombardia") {
                let cert = tsgate::demo::issue_for_caller(
                    &mut conn,
                    &pki,
                    "regione-lombardia",
                    "regione-lombardia-revocato",
                )
                .expect("issue");
                pki.revoke_serial(&cert.serial).expect("revoke");
                // Deliberately left unrevoked in the database: only the CRL can refuse it.
            }
        }
        // The demo "CNS" CA the portal trusts for smart-card access (pki_dir/cns/ca.pem).
        tsgate::pki::CnsCa::open_or_create(&tsgate::pki::CnsCa::dir_in(&pki_dir)).expect("CNS CA");
        let mut config = Config::default();
        config.server.soap_listen = "127.0.0.1:0".into();
        config.server.admin_listen = "127.0.0.1:0".into();
        config.database.url = db.url.clone();
        config.database.pool_size = 8;
        config.tls.cert_file = pki.server_cert_path();
        config.tls.key_file = pki.server_key_path();
        config.tls.client_ca_file = pki.ca_pem_path();
        config.tls.crl_file = pki.crl_pem_path();
        config.pki.dir = pki_dir.clone();
        config.portal.listen = "127.0.0.1:0".into();
        config.portal.cns_ca_file = pki_dir.join("cns").join("ca.pem");
        config.portal.pincode_key_file = pki_dir.join("pincode.key");
        // The own OTP service on an ephemeral port (the URL's port 0 becomes it), and its client.
        let otp = pki
            .issue_client(tsgate::otp::CERTIFICATO_CLIENT, "tsgate", 30)
            .expect("otp");
        config.otp.servizio_listen = "127.0.0.1:0".into();
        config.otp.servizio_url = "https://127.0.0.1:0/v1/otp".into();
        (config.otp.client_cert_file, config.otp.client_key_file) = (otp.cert_path, otp.key_path);
        config.otp.ca_file = pki.ca_pem_path();
        // The SAML IdP of operator SSO: its own signing key, the portal's bound port.
        config.sso.base_url = "https://127.0.0.1:0".into();
        (config.sso.key_file, config.sso.cert_file) = sso_idp_key();
        tweak(&mut config);
        config.validate().expect("test config");
        tsgate::portal::pincode::ChiavePincode::crea_se_manca(&config.portal.pincode_key_file)
            .expect("pincode key");
        let pool = tsgate::db::connect(
            &config.database.url,
            config.database.pool_size,
            Duration::from_secs(5),
        )
        .expect("pool");
        let running = tsgate::app::start(config.clone(), pool)
            .await
            .expect("server start");
        Self {
            db,
            pki,
            pki_dir,
            running: Some(running),
            config,
        }
    }

    pub fn running(&self) -> &tsgate::app::Running {
        self.running.as_ref().expect("server running")
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.running().soap_addr
    }

    /// The demo CNS CA of this server's PKI.
    pub fn cns_ca(&self) -> tsgate::pki::CnsCa {
        tsgate::pki::CnsCa::open_or_create(&tsgate::pki::CnsCa::dir_in(&self.pki_dir))
            .expect("CNS CA")
    }

    /// The portal's base URL, `https://127.0.0.1:<port>`.
    pub fn portal_url(&self) -> String {
        format!("https://{}", self.running().portal_addr)
    }

    pub fn state(&self) -> &Arc<tsgate::state::AppState> {
        self.running().state()
    }

    /// A client presenting the certificate named `cert` (issued by this server's PKI).
    pub fn client(&self, cert: &str) -> Client {
        Client::new(
            self.addr(),
            &self.pki.ca_pem_path(),
            Some(self.pki.client_paths(cert)),
        )
    }

    pub fn anonymous_client(&self) -> Client {
        Client::new(self.addr(), &self.pki.ca_pem_path(), None)
    }

    /// One VerificaAssistitoFuoriRegione call with the certificate `cert`, on a fresh connection.
    pub async fn call(&self, cert: &str, body: impl Into<bytes::Bytes>) -> Reply {
        self.client(cert)
            .soap(VAFR_PATH, VAFR_ACTION, body)
            .await
            .expect("reply")
    }

    /// One call of `op` with the certificate `cert`, on a fresh connection.
    pub async fn call_op(&self, cert: &str, op: Op, fields: &[(&str, &str)]) -> Reply {
        self.client(cert)
            .soap(&op.path(), &op.action(), op.envelope(fields))
            .await
            .expect("reply")
    }

    /// Reloads the caller registry now, as the server's periodic task would.
    pub async fn reload_registry(&self) {
        let state = self.state().clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = state.pool.get().expect("pool");
            state.registry.reload(&mut conn).expect("reload")
        })
        .await
        .expect("reload task");
    }

    /// Stops the server and starts it again on the same database, PKI and configuration (as
    /// after a restart of the process); the new server listens on a new port.
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let pool = tsgate::db::connect(
            &self.config.database.url,
            self.config.database.pool_size,
            Duration::from_secs(5),
        )
        .expect("pool");
        self.running = Some(
            tsgate::app::start(self.config.clone(), pool)
                .await
                .expect("server restart"),
        );
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// A VerificaAssistitoFuoriRegione request envelope.
pub fn vafr_envelope(
    cf: &str,
    tessera: Option<&str>,
    scadenza: Option<&str>,
    regione: Option<&str>,
) -> String {
    let mut inner = format!("<v:codiceFiscale>{cf}</v:codiceFiscale>");
    if let Some(t) = tessera {
        inner.push_str(&format!("<v:numeroTessera>{t}</v:numeroTessera>"));
    }
    if let Some(s) = scadenza {
        inner.push_str(&format!(
            "<v:dataScadenzaTessera>{s}</v:dataScadenzaTessera>"
        ));
    }
    if let Some(r) = regione {
        inner.push_str(&format!("<v:regioneChiamante>{r}</v:regioneChiamante>"));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v="{VAFR_NS}"><soapenv:Header/><soapenv:Body><v:VerificaAssistitoFuoriRegioneRichiesta>{inner}</v:VerificaAssistitoFuoriRegioneRichiesta></soapenv:Body></soapenv:Envelope>"#
    )
}

/// Text of the first element with this local name, ignoring prefixes (entities resolved).
pub fn xml_text(xml: &str, local: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if !inside && e.local_name().as_ref() == local => inside = true,
            Event::Text(t) if inside => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => {
                let name = r.xml10_content();
                let resolved = quick_xml::escape::unescape(&format!("&{name};"))
                    .ok()?
                    .into_owned();
                text.push_str(&resolved);
            }
            Event::End(_) if inside => return Some(text),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// One access-log row, as the tests read it.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct LogRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub transazione: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub operazione: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub chiamante: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub ip_client: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub esito: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub codice_errore: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub codice_fiscale: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub numero_tessera: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub data_scadenza_tessera: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub ts: String,
}

/// The access log in commit order.
pub fn access_log(db: &TestDb) -> Vec<LogRow> {
    use diesel::RunQueryDsl;
    let mut conn = db.connection();
    diesel::sql_query(
        "SELECT identificativo_transazione::text AS transazione, operazione, chiamante, \
         host(ip_client) AS ip_client, esito::text AS esito, codice_errore, codice_fiscale::text AS codice_fiscale, \
         numero_tessera::text AS numero_tessera, data_scadenza_tessera::text AS data_scadenza_tessera, \
         to_char(ts_richiesta AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') AS ts \
         FROM access_log ORDER BY id",
    )
    .load(&mut conn)
    .expect("access log")
}

/// The row of one transaction.
pub fn log_row(db: &TestDb, transaction: &str) -> LogRow {
    access_log(db)
        .into_iter()
        .find(|r| r.transazione == transaction)
        .unwrap_or_else(|| panic!("no access-log row for {transaction}"))
}

/// The fault code in a fault response.
pub fn fault_code(reply: &Reply) -> Option<String> {
    xml_text(&reply.body, "codice")
}

/// Texts of every element with this local name, in document order.
pub fn xml_texts(xml: &str, local: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == local => {
                current = Some(String::new())
            }
            Ok(Event::Text(t)) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.xml10_content());
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == local => {
                if let Some(c) = current.take() {
                    out.push(c);
                }
            }
            Ok(Event::Eof) | Err(_) => return out,
            _ => {}
        }
    }
}

/// The single integer a query returns (as `n`).
pub fn count(db: &TestDb, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.connection();
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .expect("count query")
        .n
}

/// Runs the `tsgate` binary for the bulk-file commands against `s`'s database and PKI, with the
/// spool under `dir` and two records a batch.
pub fn flussi_cli(s: &TestServer, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tsgate"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", &s.db.url)
        .env("TSGATE_TLS_CLIENT_CA_FILE", s.pki.ca_pem_path())
        .env("TSGATE_TLS_CRL_FILE", s.pki.crl_pem_path())
        .env("TSGATE_FLUSSI_DIR", dir.join("spool"))
        .env("TSGATE_FLUSSI_BATCH_RECORDS", "2")
        .env("TSGATE_LOG_LEVEL", "warn")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run tsgate")
}
