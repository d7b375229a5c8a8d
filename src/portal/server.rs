//! The portal port: TLS (a client certificate asked for, not required), HTTP/1.1 keep-alive,
//! each request handled in one blocking database transaction. Drains on shutdown.

use super::contesto::CertificatoPresentato;
use super::Portale;
use crate::state::AppState;
use hyper::service::service_fn;
use openssl::ssl::SslAcceptor;
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub async fn serve(state: Arc<AppState>, listener: TcpListener, shutdown: watch::Receiver<bool>) {
    let grace = Duration::from_millis(state.config.server.shutdown_grace_ms);
    let per_connessione = shutdown.clone();
    crate::net::listen::accept(listener, shutdown, grace, "portal", |tcp, peer| {
        let _ = tcp.set_nodelay(true);
        Some(connection(
            state.clone(),
            state.portale.clone(),
            state.portale.tls.acceptor(),
            tcp,
            peer.ip().to_canonical(),
            per_connessione.clone(),
        ))
    })
    .await;
}

async fn connection(
    state: Arc<AppState>,
    portale: Arc<Portale>,
    acceptor: Arc<SslAcceptor>,
    tcp: TcpStream,
    ip: IpAddr,
    shutdown: watch::Receiver<bool>,
) {
    let timeout = Duration::from_millis(state.config.server.handshake_timeout_ms);
    let stream = match crate::net::tls::accept_tls(&acceptor, tcp, timeout).await {
        Ok(s) => s,
        Err(why) => {
            tracing::debug!(%ip, reason = %why, "portal TLS handshake failed");
            return;
        }
    };
    let certificato = stream.ssl().peer_certificate().map(|foglia| {
        let catena = stream
            .ssl()
            .peer_cert_chain()
            .map(|c| c.iter().map(|x| x.to_owned()).collect())
            .unwrap_or_default();
        Arc::new(CertificatoPresentato { foglia, catena })
    });
    let state_header_ms = state.config.server.header_read_timeout_ms;
    let service = service_fn(move |req| {
        let (state, portale, certificato) = (state.clone(), portale.clone(), certificato.clone());
        async move { Ok::<_, Infallible>(super::handle(state, portale, ip, certificato, req).await) }
    });
    let header = Duration::from_millis(state_header_ms);
    crate::net::listen::serve_http1(stream, service, header, shutdown, "portal").await;
}
