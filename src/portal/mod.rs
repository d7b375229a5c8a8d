//! The operators' portal: server-rendered HTML (askama) on its own HTTPS port, credentials and
//! CNS smart-card login, sessions in PostgreSQL, the services of the operator's profiles.

pub mod cns;
pub mod contesto;
pub mod file;
pub mod http;
pub mod login;
pub mod operatori;
pub mod pagine;
pub mod password;
pub mod pdf;
pub mod pincode;
pub mod profilo;
pub mod regole;
pub mod repo;
pub mod routes;
pub mod server;
pub mod servizi;
pub mod sessione;
pub mod utenze;

use crate::app::AppState;
use crate::config::PortalConfig;
use contesto::{CertificatoPresentato, Contesto};
use diesel::Connection;
use http_body_util::{BodyExt, Limited};
use std::net::IpAddr;
use std::sync::Arc;

/// What the pages need besides the database, built once at start.
pub struct Portale {
    pub cfg: PortalConfig,
    pub politica: regole::Politica,
    /// The CAs whose CNS/CIE certificates may register and log in; `None` when
    /// `portal.cns_ca_file` does not exist (every card is then refused, with a warning at start).
    pub cns: Option<crate::pki::TrustedCnsCas>,
}

impl Portale {
    /// Loads what the settings name; a CNS bundle that exists but cannot be used stops the start.
    pub fn new(cfg: &PortalConfig) -> anyhow::Result<Portale> {
        let cns = if cfg.cns_ca_file.exists() {
            Some(
                crate::pki::TrustedCnsCas::load(&cfg.cns_ca_file)
                    .map_err(|e| anyhow::anyhow!("portal.cns_ca_file: {e}"))?,
            )
        } else {
            tracing::warn!(
                file = %cfg.cns_ca_file.display(),
                "portal.cns_ca_file does not exist: no CNS card will be accepted"
            );
            None
        };
        Ok(Portale {
            cfg: cfg.clone(),
            politica: regole::Politica::da_config(cfg),
            cns,
        })
    }

    /// The CAs named in the portal's certificate request.
    pub fn cns_cas(&self) -> Vec<openssl::x509::X509> {
        self.cns
            .as_ref()
            .map(|t| t.certificates().to_vec())
            .unwrap_or_default()
    }
}

/// A failure no page turned into an answer.
#[derive(Debug, thiserror::Error)]
pub enum ErrorePortale {
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Pool(String),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("{0}")]
    Hash(#[from] password::ErroreHash),
    #[error("{0}")]
    Interno(String),
}

/// Records an administrative change or a login in the audit log.
pub fn audit(
    _ctx: &mut Contesto<'_>,
    _attore: &str,
    _azione: &str,
    _oggetto: Option<&str>,
    _dettaglio: &str,
) -> Result<(), ErrorePortale> {
    Ok(())
}

/// One portal request: static files answered at once, everything else in one transaction.
pub async fn handle(
    state: Arc<AppState>,
    portale: Arc<Portale>,
    ip: IpAddr,
    certificato: Option<Arc<CertificatoPresentato>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> http::Risposta {
    if req.method() == ::http::Method::GET {
        match req.uri().path() {
            "/static/portale.css" => {
                return http::statico(
                    "text/css; charset=utf-8",
                    include_bytes!("../../static/portale.css"),
                )
            }
            "/favicon.ico" => {
                return http::html(::http::StatusCode::NOT_FOUND, String::new());
            }
            _ => {}
        }
    }
    let (parts, body) = req.into_parts();
    let corpo = match Limited::new(body, http::MAX_FORM_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            tracing::info!(%ip, error = %e, "portal request body refused");
            return http::html(
                ::http::StatusCode::PAYLOAD_TOO_LARGE,
                "<!DOCTYPE html><html lang=\"it\"><title>Richiesta troppo grande</title><p>Richiesta troppo grande.</p></html>".into(),
            );
        }
    };
    let richiesta = http::Richiesta::new(parts.method, &parts.uri, &parts.headers, &corpo);
    let pool = state.pool.clone();
    let esito = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| ErrorePortale::Pool(e.to_string()))?;
        conn.transaction(|c| {
            let ora = chrono::Utc::now().trunc_subsecs_ms();
            let token = richiesta.cookie.get(http::COOKIE_SESSIONE).cloned();
            let (sessione, scaduta) =
                match sessione::carica(c, token.as_deref(), ora, &portale.cfg)? {
                    sessione::Caricata::Attiva(s) => (Some(s), false),
                    sessione::Caricata::Scaduta => (None, true),
                    sessione::Caricata::Nessuna => (None, false),
                };
            let mut ctx = Contesto {
                conn: c,
                portale: &portale,
                ip,
                ora,
                req: &richiesta,
                sessione,
                scaduta,
                certificato: certificato.as_deref(),
                nuovo_cookie: scaduta.then_some(None),
            };
            let mut risposta = routes::gestisci(&mut ctx)?;
            if let Some(cookie) = ctx.nuovo_cookie.take() {
                http::imposta_cookie(&mut risposta, cookie.as_deref());
            }
            Ok::<_, ErrorePortale>(risposta)
        })
    })
    .await;
    match esito {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => routes::guasto(&e),
        Err(e) => routes::guasto(&ErrorePortale::Interno(e.to_string())),
    }
}

trait Millisecondi {
    fn trunc_subsecs_ms(self) -> Self;
}

impl Millisecondi for chrono::DateTime<chrono::Utc> {
    fn trunc_subsecs_ms(self) -> Self {
        chrono::SubsecRound::trunc_subsecs(self, 3)
    }
}

/// Retention: expired sessions, and section 2.5 rows older than `months` months.
pub fn purge(
    conn: &mut diesel::PgConnection,
    cfg: &PortalConfig,
    months: u32,
) -> diesel::QueryResult<(usize, usize)> {
    let ora = chrono::Utc::now();
    let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
    let sessioni = repo::elimina_sessioni_scadute(
        conn,
        ora - secs(cfg.sessione_inattiva_secs),
        ora - secs(cfg.sessione_massima_secs),
    )?;
    let accessi = crate::db::cancella_piu_vecchi(
        conn,
        "accesso_operatore",
        "istante",
        i32::try_from(months).unwrap_or(i32::MAX),
    )?;
    Ok((sessioni, accessi))
}
