//! The gateway's Immuni-compatible OTP service, on its own port (`otp.servizio_listen`), over
//! mutual TLS with the SOAP port's context (a client certificate of the gateway CA, checked
//! against its CRL, is required). Two endpoints, as immuni-backend-otp and its ingestion check:
//!
//! - `POST /v1/otp` `{"otp": "...", "symptoms_started_on": "YYYY-MM-DD"}` → 204 authorised;
//!   400 `error_code` 1001 for a body, OTP (canonical upper-case form only) or date that does
//!   not fit; 409 `error_code` 1400 when the OTP is already live.
//! - `POST /v1/ingestion/check-otp` with `Authorization: Bearer <sha256 hex>` → 204 and the
//!   OTP is used up; 401 `error_code` 1101 otherwise.
//!
//! Only SHA-256 of an OTP is stored or logged.

use super::repo;
use crate::db::DbError;
use crate::domain::otp::verifica_inizio_sintomi;
use crate::domain::{tempo, Otp};
use crate::state::AppState;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use serde::Deserialize;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

/// Path of the authorisation (called by the HIS, here the portal).
pub const OTP_PATH: &str = "/v1/otp";
/// Path of the app-side check.
pub const CHECK_PATH: &str = "/v1/ingestion/check-otp";
/// Largest request body read, in bytes; a larger one is a schema error.
const MAX_BODY: usize = 4096;

const SCHEMA: (u16, &str) = (1001, "Request not compliant with the defined schema.");
const GIA_AUTORIZZATO: (u16, &str) = (1400, "OTP already authorized.");
const NON_AUTORIZZATO: (u16, &str) = (1101, "Unauthorized.");
const ERRORE: (u16, &str) = (1000, "An unknown error occurred.");

/// Accepts connections until `shutdown` turns true, then lets open connections finish their
/// requests (at most `server.shutdown_grace_ms`). Spawned by `app::start` when
/// `otp.servizio_listen` is not empty.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    connections.spawn(connection(state.clone(), tcp, peer, shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "OTP service: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let grace = Duration::from_millis(state.config.server.shutdown_grace_ms);
    if tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.abort_all();
    }
}

async fn connection(
    state: Arc<AppState>,
    tcp: TcpStream,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    let timeout = Duration::from_millis(state.config.server.handshake_timeout_ms);
    let stream = match crate::net::tls::accept_tls(&state.tls.acceptor(), tcp, timeout).await {
        Ok(s) => s,
        Err(why) => {
            tracing::info!(ip = %peer.ip(), reason = %why, "OTP service: TLS handshake refused");
            return;
        }
    };
    let client = stream
        .ssl()
        .peer_certificate()
        .and_then(|c| {
            c.subject_name()
                .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                .next()
                .and_then(|e| e.data().to_string().ok())
        })
        .unwrap_or_default();
    let span = tracing::info_span!("otp_connection", ip = %peer.ip(), client = %client);
    let client = Arc::new(client);
    let svc_state = state.clone();
    let service = service_fn(move |req| {
        let state = svc_state.clone();
        let client = client.clone();
        async move { Ok::<_, Infallible>(route(&state, &client, req).await) }
    });
    let header = Duration::from_millis(state.config.server.header_read_timeout_ms);
    crate::net::listen::serve_http1(stream, service, header, shutdown, "otp")
        .instrument(span)
        .await;
}

async fn route(state: &AppState, client: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if path != OTP_PATH && path != CHECK_PATH {
        return response(StatusCode::NOT_FOUND, None);
    }
    if req.method() != Method::POST {
        let mut r = response(StatusCode::METHOD_NOT_ALLOWED, None);
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    // Only the gateway's own OTP client (the portal, after pincode, captcha and limits) may
    // authorise; any other certificate of the gateway CA (a SOAP caller) may not.
    if path == OTP_PATH && client != super::CERTIFICATO_CLIENT {
        tracing::warn!(
            client,
            "OTP service: authorisation refused to a client that is not the gateway's OTP client"
        );
        return response(StatusCode::FORBIDDEN, Some(NON_AUTORIZZATO));
    }
    let esito = if path == OTP_PATH {
        autorizza(state, req).await
    } else {
        check(state, &req).await
    };
    match esito {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "OTP service: database error");
            let status = match e {
                DbError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            response(status, Some(ERRORE))
        }
    }
}

/// The body of `POST /v1/otp`; any other field is a schema error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Richiesta {
    otp: String,
    symptoms_started_on: String,
}

/// The OTP and date of a well-formed body, or `None` for a schema error: the OTP must be in
/// its canonical (upper-case, untrimmed) form, the date `YYYY-MM-DD` within the allowed window.
fn parse_body(body: &[u8]) -> Option<(Otp, chrono::NaiveDate)> {
    let r: Richiesta = serde_json::from_slice(body).ok()?;
    let otp = Otp::parse(&r.otp).ok().filter(|o| o.as_str() == r.otp)?;
    let d = &r.symptoms_started_on;
    if d.len() != 10 {
        return None;
    }
    let data = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    verifica_inizio_sintomi(data, tempo::oggi_roma()).ok()?;
    Some((otp, data))
}

async fn autorizza(
    state: &AppState,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DbError> {
    let limit = Duration::from_millis(state.config.server.request_timeout_ms);
    let body = tokio::time::timeout(limit, Limited::new(req.into_body(), MAX_BODY).collect()).await;
    let Some((otp, data)) = body
        .ok()
        .and_then(Result::ok)
        .and_then(|b| parse_body(&b.to_bytes()))
    else {
        tracing::info!("OTP service: authorisation refused, request not compliant");
        return Ok(response(StatusCode::BAD_REQUEST, Some(SCHEMA)));
    };
    let sha = otp.sha256_hex();
    let nuovo = {
        let sha = sha.clone();
        crate::db::blocking(&state.pool, move |c| Ok(repo::autorizza(c, &sha, data)?)).await?
    };
    tracing::info!(otp = %otp, inizio_sintomi = %data, autorizzato = nuovo, "OTP service: authorisation");
    Ok(if nuovo {
        response(StatusCode::NO_CONTENT, None)
    } else {
        response(StatusCode::CONFLICT, Some(GIA_AUTORIZZATO))
    })
}

async fn check(
    state: &AppState,
    req: &Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DbError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let usato = match token {
        Some(sha) => {
            let hash = sha.clone();
            let ok = crate::db::blocking(&state.pool, move |c| Ok(repo::usa(c, &hash)?)).await?;
            tracing::info!(otp_sha256 = %&sha[..8], valido = ok, "OTP service: check-otp");
            ok
        }
        None => {
            tracing::info!("OTP service: check-otp without a Bearer SHA-256");
            false
        }
    };
    Ok(if usato {
        response(StatusCode::NO_CONTENT, None)
    } else {
        response(StatusCode::UNAUTHORIZED, Some(NON_AUTORIZZATO))
    })
}

/// An answer with `Cache-Control: no-store` and, when given, the JSON error body.
fn response(status: StatusCode, errore: Option<(u16, &str)>) -> Response<Full<Bytes>> {
    let body = errore
        .map(|(code, message)| {
            serde_json::json!({ "error_code": code, "message": message }).to_string()
        })
        .unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if errore.is_some() {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(otp: &str, data: &str) -> Vec<u8> {
        serde_json::json!({ "otp": otp, "symptoms_started_on": data })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn the_body_must_fit_the_schema() {
        let oggi = tempo::oggi_roma();
        let d = |days: i64| (oggi - chrono::Duration::days(days)).to_string();
        assert!(parse_body(&body("KJ23IWY5UJ", &d(0))).is_some());
        assert!(parse_body(&body("KJ23IWY5UJ", &d(180))).is_some());
        for bad in [
            body("KJ23IWY5UJ", &d(181)),
            body("KJ23IWY5UJ", &d(-1)),
            body("kj23iwy5uj", &d(0)),
            body(" KJ23IWY5UJ", &d(0)),
            body("KJ23IWY5UK", &d(0)),
            body("KJ23IWY5UJ", "2026-1-5"),
            body("KJ23IWY5UJ", "05/01/2026"),
            br#"{"otp":"KJ23IWY5UJ"}"#.to_vec(),
            format!(
                r#"{{"otp":"KJ23IWY5UJ","symptoms_started_on":"{}","altro":1}}"#,
                d(0)
            )
            .into_bytes(),
            br#"{"otp":1,"symptoms_started_on":"2026-01-05"}"#.to_vec(),
            b"not json".to_vec(),
        ] {
            assert!(
                parse_body(&bad).is_none(),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
    }

    #[test]
    fn error_bodies_are_immunis() {
        let r = response(StatusCode::CONFLICT, Some(GIA_AUTORIZZATO));
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = response(StatusCode::NO_CONTENT, None);
        assert!(r.headers().get(header::CONTENT_TYPE).is_none());
    }
}
