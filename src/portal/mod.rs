//! The operators' portal: server-rendered HTML (askama) on its own HTTPS port, credentials and
//! CNS smart-card login, sessions in PostgreSQL, the services of the operator's profiles.

pub mod captcha;
pub mod cns;
pub mod contesto;
pub mod file;
pub mod http;
pub mod invio_otp;
pub mod login;
pub mod monitoraggio;
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
pub mod sso;
pub mod stampa;
pub mod stato;
pub mod tls;
pub mod utenze;

use crate::config::PortalConfig;
use crate::state::AppState;
use contesto::{CertificatoPresentato, Contesto};
use diesel::Connection;
use http_body_util::{BodyExt, Limited};
pub use stato::Portale;
use std::net::IpAddr;
use std::sync::Arc;

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
    #[error("audit chain: {0}")]
    Audit(#[from] crate::audit::catena::ErroreAudit),
    #[error("pincode: {0}")]
    Pincode(#[from] pincode::PincodeError),
    #[error("{0}")]
    Interno(String),
}

/// Records an administrative change or a login in the tamper-evident audit chain, inside the
/// request's transaction: the change and its audit row commit together or not at all.
pub fn audit(
    ctx: &mut Contesto<'_>,
    attore: &str,
    azione: crate::audit::catena::Azione,
    oggetto: Option<&str>,
    dettaglio: &str,
) -> Result<(), ErrorePortale> {
    let mut voce = crate::audit::catena::VoceAudit::new(attore, azione).esito("OK");
    if let Some(o) = oggetto {
        voce = voce.oggetto(o);
    }
    if !dettaglio.is_empty() {
        voce = voce.dettaglio(dettaglio);
    }
    crate::audit::catena::registra(ctx.conn, &voce)?;
    Ok(())
}

/// One portal request: static files answered at once, everything else in one transaction.
pub async fn handle(
    state: Arc<AppState>,
    portale: Arc<Portale>,
    ip: IpAddr,
    certificato: Option<Arc<CertificatoPresentato>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> http::Response {
    if req.method() == ::http::Method::GET {
        match req.uri().path() {
            "/static/portale.css" => {
                return http::static_asset(
                    "text/css; charset=utf-8",
                    include_bytes!("../../static/portale.css"),
                )
            }
            "/static/sso_invio.js" => {
                return http::static_asset(
                    "text/javascript; charset=utf-8",
                    include_bytes!("../../static/sso_invio.js"),
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
    let richiesta = http::Request::new(parts.method, &parts.uri, &parts.headers, &corpo);
    // The portal may hold at most half of the database pool, so a burst of logins (argon2id
    // under a row lock) cannot starve the SOAP services; a request that cannot get a slot in
    // time gets a 503 page.
    let attesa = std::time::Duration::from_millis(state.config.database.pool_timeout_ms);
    let _slot = match tokio::time::timeout(attesa, portale.lavori.clone().acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        _ => {
            tracing::warn!(%ip, percorso = %richiesta.path, "portal busy: request refused");
            return routes::failure_page(&ErrorePortale::Pool("portal busy".into()));
        }
    };
    let pool = state.pool.clone();
    let (percorso, token) = (
        richiesta.path.clone(),
        richiesta.cookies.get(http::SESSION_COOKIE).cloned(),
    );
    let esito = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| ErrorePortale::Pool(e.to_string()))?;
        conn.transaction(|c| {
            let ora = chrono::Utc::now().trunc_subsecs_ms();
            let token = richiesta.cookies.get(http::SESSION_COOKIE).cloned();
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
            let mut risposta = routes::dispatch(&mut ctx)?;
            if let Some(cookie) = ctx.nuovo_cookie.take() {
                http::set_session_cookie(&mut risposta, cookie.as_deref());
            }
            Ok::<_, ErrorePortale>(risposta)
        })
    })
    .await;
    let errore = match esito {
        Ok(Ok(r)) => return r,
        Ok(Err(e)) => e,
        Err(e) => ErrorePortale::Interno(e.to_string()),
    };
    tracing::error!(%ip, %percorso, error = %errore, "portal request failed");
    // The request's transaction is gone: its section 2.5 row is written on its own, if the
    // database answers at all.
    let esito = match errore {
        ErrorePortale::Db(_) | ErrorePortale::Pool(_) => "SERVIZIO_NON_DISPONIBILE",
        _ => "ERRORE_INTERNO",
    };
    let pool = state.pool.clone();
    let registrato = tokio::task::spawn_blocking(move || -> Result<(), ErrorePortale> {
        let mut c = pool.get().map_err(|e| ErrorePortale::Pool(e.to_string()))?;
        let cf = match token.filter(|t| t.len() == 64) {
            Some(t) => repo::sessione(&mut c, &sessione::hash_token(&t))?
                .and_then(|s| s.utente_id)
                .map(|id| repo::utente(&mut c, id))
                .transpose()?
                .flatten()
                .map(|u| u.codice_fiscale),
            None => None,
        };
        let operazione = routes::operation_of(&percorso);
        repo::registra_accesso(
            &mut c,
            cf.as_deref(),
            chrono::Utc::now().trunc_subsecs_ms(),
            &operazione,
            esito,
            ip,
            None,
        )?;
        Ok(())
    })
    .await;
    if !matches!(registrato, Ok(Ok(()))) {
        tracing::warn!(%ip, "the failed portal request could not be recorded in accesso_operatore");
    }
    routes::failure_page(&errore)
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
    crate::sso::repo::purge(conn, ora - chrono::Duration::days(2))?;
    let accessi = crate::db::delete_oldest(
        conn,
        "accesso_operatore",
        "istante",
        i32::try_from(months).unwrap_or(i32::MAX),
    )?;
    Ok((sessioni, accessi))
}
