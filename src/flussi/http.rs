//! The HTTP side, on the mTLS port, after the pipeline's admission (caller, IP, entitlement,
//! rate limit): `POST /ws/flussi/<kind>` uploads a .p7m (streamed to the spool, never held in
//! memory), `GET /ws/flussi/<kind>/{protocollo}` answers state or outcome, for every kind
//! registered (`AppState::generi`).

use super::ricevi::{self, Mittente, Spool, SpoolError};
use super::{documenti, repo, Generi, Stato, Tipo};
use crate::access::{Caller, TipoChiamante};
use crate::audit::LogFields;
use crate::db::{self, DbError};
use crate::soap::{Fault, FaultCode, RequestCtx};
use crate::state::AppState;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Every path under this prefix is served here.
pub const PREFIX: &str = "/ws/flussi/";

/// An answer: status, XML body, and the esito for the access log (00 served, 01 file refused).
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    pub esito: &'static str,
    /// The access-log row was committed with the file's row.
    pub logged: bool,
}

fn protocollo(tipo: Tipo, path: &str) -> Option<&str> {
    path.strip_prefix(tipo.path)?
        .strip_prefix('/')
        .filter(|p| !p.is_empty() && !p.contains('/'))
}

/// The operation a request under `PREFIX` asks for (its name is what entitlements list).
pub fn operation<B>(generi: Generi, req: &Request<B>) -> Result<&'static str, FaultCode> {
    let path = req.uri().path();
    for tipo in generi.iter() {
        let is_upload = path == tipo.path;
        let is_esito = protocollo(tipo, path).is_some();
        match *req.method() {
            Method::POST if is_upload => return Ok(tipo.invio),
            Method::GET if is_esito => return Ok(tipo.esito),
            _ if is_upload || is_esito => return Err(FaultCode::MethodNotAllowed),
            _ => {}
        }
    }
    Err(FaultCode::UnknownOperation)
}

/// The kind of file and whether it is the upload, of an operation `operation` returned.
fn tipo_di(generi: Generi, op: &str) -> Option<(Tipo, bool)> {
    generi.iter().find_map(|t| {
        if op == t.invio {
            Some((t, true))
        } else if op == t.esito {
            Some((t, false))
        } else {
            None
        }
    })
}

/// The kinds of caller that may call `op`, whatever the entitlements say: the sender of its
/// kind only (`Genere::mittente`).
pub fn callers(generi: Generi, op: &str) -> &'static [TipoChiamante] {
    match tipo_di(generi, op) {
        Some((t, _)) => std::slice::from_ref(&t.mittente),
        None => &[],
    }
}

/// Serves an admitted request for operation `op`.
pub async fn serve<B>(state: &AppState, ctx: &RequestCtx, req: Request<B>) -> Result<Reply, Fault>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    match tipo_di(state.generi, ctx.operation) {
        Some((tipo, true)) => upload(state, ctx, tipo, req).await,
        Some((tipo, false)) => {
            let p = protocollo(tipo, req.uri().path())
                .unwrap_or_default()
                .to_owned();
            outcome(state, &ctx.caller, ctx.transaction_id, tipo, p).await
        }
        None => Err(Fault::new(FaultCode::UnknownOperation)),
    }
}

fn check_content_type<B>(req: &Request<B>) -> Result<(), Fault> {
    let mime = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "application/pkcs7-mime" | "application/octet-stream" => Ok(()),
        _ => Err(Fault::new(FaultCode::FlussoContentType)),
    }
}

async fn upload<B>(
    state: &AppState,
    ctx: &RequestCtx,
    tipo: Tipo,
    req: Request<B>,
) -> Result<Reply, Fault>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    check_content_type(&req)?;
    let (caller, tx) = (&ctx.caller, ctx.transaction_id);
    // A file applied for the sender's region (TS-CNS first load) needs a sender with one.
    let regione = match (tipo.per_regione, &caller.codice_regione) {
        (false, _) => None,
        (true, Some(r)) => Some(r.clone()),
        (true, None) => return Err(Fault::new(FaultCode::OperationNotAllowed)),
    };
    let cfg = &state.config.flussi;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cfg.max_bytes) {
        return Err(Fault::new(FaultCode::TooLarge));
    }
    let mut spool = Spool::create(&cfg.dir, tx, cfg.max_bytes)
        .await
        .map_err(|e| internal("spool file not created", e))?;
    let mut body = std::pin::pin!(req.into_body());
    let receive = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                tracing::info!(error = %e, "bulk file not received");
                Fault::new(FaultCode::Malformed)
            })?;
            if let Ok(data) = frame.into_data() {
                spool.write(&data).await.map_err(|e| match e {
                    SpoolError::TooLarge(_) => Fault::new(FaultCode::TooLarge),
                    SpoolError::Io(e) => internal("spool write failed", e),
                })?;
            }
        }
        Ok::<(), Fault>(())
    };
    let timeout = Duration::from_secs(cfg.upload_timeout_secs);
    let received = match tokio::time::timeout(timeout, receive).await {
        Err(_) => Err(Fault::new(FaultCode::RequestTimeout)),
        Ok(r) => r,
    };
    if let Err(fault) = received {
        spool.discard().await;
        return Err(fault);
    }
    let spooled = spool
        .finish()
        .await
        .map_err(|e| internal("spool file not completed", e))?;
    let pool = state.pool.clone();
    let registry = state.registry.snapshot();
    let fiducia = super::firma::TrustAnchors::from_tls(&state.config.tls);
    let (caller_id, caller_name) = (caller.id, caller.nome.clone());
    // The access-log row commits with the file's row: accepted (00) or refused (01).
    let righe = ricevi::LogRows {
        accepted: ctx.access_record("00", LogFields::default()),
        refused: ctx.access_record("01", LogFields::default()),
    };
    let span = tracing::Span::current();
    let ricevuta = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let bound = |fp: &str| {
            registry
                .caller_by_fingerprint(fp)
                .is_some_and(|c| c.id == caller_id)
        };
        let mittente = Mittente {
            chiamante: &caller_name,
            tipo,
            regione: regione.as_deref(),
        };
        let result = ricevi::registra(
            &pool,
            &spooled,
            tx,
            mittente,
            &fiducia,
            &bound,
            Some(&righe),
        );
        if result.is_err() {
            // Not recorded: the caller sends it again; no unrecorded health data stays on disk.
            if let Err(e) = std::fs::remove_file(&spooled.path) {
                tracing::warn!(error = %e, "unrecorded spool file not removed");
            }
        }
        result
    })
    .await
    .map_err(|e| internal("receiving task failed", e))?
    .map_err(|e| {
        if e.downcast_ref::<diesel::r2d2::PoolError>().is_some() {
            tracing::warn!(error = %format!("{e:#}"), "database unavailable");
            Fault::new(FaultCode::Unavailable)
        } else {
            internal("bulk file not recorded", e)
        }
    })?;
    let rifiutato = ricevuta.stato() == Some(Stato::Rifiutato);
    if !ricevuta.duplicato && !rifiutato {
        state.flussi.notify_one();
    }
    let status = match (ricevuta.duplicato, rifiutato) {
        (true, _) => StatusCode::OK,
        (false, true) => StatusCode::UNPROCESSABLE_ENTITY,
        (false, false) => StatusCode::ACCEPTED,
    };
    Ok(Reply {
        status,
        body: documenti::ricevuta(tipo, &ricevuta, &tx.to_string()),
        esito: if rifiutato { "01" } else { "00" },
        logged: ricevuta.logged,
    })
}

async fn outcome(
    state: &AppState,
    caller: &Arc<Caller>,
    tx: Uuid,
    tipo: Tipo,
    protocollo: String,
) -> Result<Reply, Fault> {
    let caller_name = caller.nome.clone();
    let found = db::blocking(&state.pool, move |c| {
        match repo::per_protocollo(c, &protocollo)? {
            // Only the sender, and only on the path of the file's kind.
            Some(f) if f.chiamante == caller_name && f.tipo == tipo.codice => {
                let mut out = Vec::new();
                documenti::scrivi(c, tipo, &f, &tx.to_string(), &mut out)
                    .map_err(|e| DbError::Task(format!("{e:#}")))?;
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    })
    .await;
    match found {
        Ok(Some(body)) => Ok(Reply {
            status: StatusCode::OK,
            body: String::from_utf8_lossy(&body).into_owned(),
            esito: "00",
            logged: false,
        }),
        Ok(None) => Err(Fault::new(FaultCode::FlussoNonTrovato)),
        Err(DbError::Unavailable(e)) => {
            tracing::warn!(error = %e, "database unavailable");
            Err(Fault::new(FaultCode::Unavailable))
        }
        Err(e) => Err(internal("outcome not produced", e)),
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> Fault {
    tracing::error!(error = %e, "{what}");
    Fault::new(FaultCode::Internal)
}
