//! The SOAP port: drop addresses outside every registered range before the handshake, run the
//! mutual-TLS handshake under a timeout, identify the caller by its certificate fingerprint, then
//! serve HTTP/1.1 keep-alive requests through the pipeline. Drains on shutdown.

use crate::audit::{AccessRecord, LogFields};
use crate::soap::pipeline::{self, ConnInfo};
use crate::soap::FaultCode;
use crate::state::AppState;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::{Ssl, SslVerifyMode};
use openssl::x509::X509VerifyResult;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_openssl::SslStream;
use tracing::Instrument;
use uuid::Uuid;

/// Accepts connections until `shutdown` turns true, then waits for open connections to finish
/// their requests (at most `server.shutdown_grace_ms`).
pub async fn serve(state: Arc<AppState>, listener: TcpListener, shutdown: watch::Receiver<bool>) {
    let grace = Duration::from_millis(state.config.server.shutdown_grace_ms);
    let per_connessione = shutdown.clone();
    crate::net::listen::accept(listener, shutdown, grace, "soap", |tcp, peer| {
        admit(&state, tcp, peer, per_connessione.clone())
    })
    .await;
}

/// The IP pre-check; returns the connection's task when the address may go on.
fn admit(
    state: &Arc<AppState>,
    tcp: TcpStream,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    let ip = peer.ip().to_canonical();
    if !state.registry.snapshot().any_range_contains(ip) {
        state.metrics.connection_refused("ip_not_registered");
        tracing::info!(%ip, "connection dropped: address outside every registered range");
        return None;
    }
    let slot = match state.connections.open(ip) {
        Ok(slot) => slot,
        Err(refused) => {
            state.metrics.connection_refused(refused.reason());
            tracing::info!(%ip, reason = refused.reason(), "connection dropped: too many open");
            return None;
        }
    };
    let _ = tcp.set_nodelay(true);
    Some(connection(state.clone(), tcp, ip, slot, shutdown))
}

async fn connection(
    state: Arc<AppState>,
    tcp: TcpStream,
    ip: std::net::IpAddr,
    // Held until the connection ends, then given back to `server.max_connections`.
    _slot: crate::net::caps::Slot,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = state.tls.acceptor();
    // Remember the leaf certificate the client presented, even if verification refuses it.
    let presented = Arc::new(Mutex::new(None::<String>));
    let seen = presented.clone();
    let stream = Ssl::new(acceptor.context()).and_then(|mut ssl| {
        ssl.set_verify_callback(
            SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            move |ok, ctx| {
                if ctx.error_depth() == 0 {
                    if let (Some(cert), Ok(mut slot)) = (ctx.current_cert(), seen.lock()) {
                        *slot = Some(crate::pki::fingerprint_sha256(cert));
                    }
                }
                ok
            },
        );
        SslStream::new(ssl, tcp)
    });
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up TLS for a connection");
            return;
        }
    };
    let timeout = Duration::from_millis(state.config.server.handshake_timeout_ms);
    let started = std::time::Instant::now();
    let handshake = tokio::time::timeout(timeout, Pin::new(&mut stream).accept()).await;
    if let Err(reason) = handshake
        .map_err(|_| "timeout".to_owned())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        let presented = presented.lock().ok().and_then(|p| p.clone());
        handshake_refused(&state, &stream, ip, &reason, presented, started);
        return;
    }
    let fingerprint = stream
        .ssl()
        .peer_certificate()
        .map(|c| crate::pki::fingerprint_sha256(&c));
    let caller = fingerprint
        .as_deref()
        .and_then(|f| state.registry.snapshot().caller_by_fingerprint(f));
    let span = tracing::debug_span!("connection", %ip, caller = caller.as_ref().map(|c| c.nome.as_str()).unwrap_or("-"));
    let info = Arc::new(ConnInfo {
        peer_ip: ip,
        fingerprint,
        caller,
    });

    let svc_state = state.clone();
    let service = service_fn(move |req| {
        let state = svc_state.clone();
        let info = info.clone();
        async move { Ok::<_, Infallible>(pipeline::handle(state, info, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(
            state.config.server.header_read_timeout_ms,
        ))
        .keep_alive(true)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(stream), service);
    let serve = async move {
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => log_end(result),
            _ = shutdown.changed() => {
                conn.as_mut().graceful_shutdown();
                log_end(conn.await);
            }
        }
    };
    serve.instrument(span).await;
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// A failed handshake is not a request, but it is a refusal: it gets an access-log row
/// (TSG-0101) with the certificate's fingerprint when one was presented.
fn handshake_refused(
    state: &AppState,
    stream: &SslStream<TcpStream>,
    ip: std::net::IpAddr,
    reason: &str,
    presented: Option<String>,
    started: std::time::Instant,
) {
    let verify = stream.ssl().verify_result();
    let why = if verify != X509VerifyResult::OK {
        verify.error_string().to_owned()
    } else if presented.is_none() {
        "no client certificate".to_owned()
    } else {
        reason.to_owned()
    };
    state.metrics.connection_refused("handshake");
    tracing::info!(%ip, reason = %why, "TLS handshake refused");
    let caller = presented.map(|f| format!("sha256:{f}"));
    let record = AccessRecord::new(
        chrono::Utc::now(),
        Uuid::now_v7(),
        None,
        caller,
        ip,
        Err(FaultCode::HandshakeRefused.code()),
        LogFields::default(),
    )
    .durata_da(started);
    state.access_log.submit(record);
}
