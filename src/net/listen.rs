//! The accept loop every TLS port shares: accept until shutdown, one task per connection, then
//! let open connections finish for `server.shutdown_grace_ms` before closing them.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Serves `listener` until `shutdown` turns true. `admit` turns an accepted connection into
/// its task, or refuses it (`None`: the stream is dropped). `port` names the port in logs.
pub async fn accept<F>(
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
    port: &'static str,
    mut admit: impl FnMut(TcpStream, SocketAddr) -> Option<F>,
) where
    F: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    if let Some(task) = admit(tcp, peer) {
                        connections.spawn(task);
                    }
                }
                Err(e) => {
                    tracing::warn!(port, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let open = connections.len();
    tracing::info!(port, open, "port closed; draining connections");
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            port,
            left = connections.len(),
            "grace period over: closing remaining connections"
        );
        connections.abort_all();
    }
}

/// Serves HTTP/1.1 keep-alive on an established connection until the peer closes it or
/// `shutdown` turns true (then in-flight requests finish first). `port` names the port in logs.
pub async fn serve_http1<S>(
    stream: tokio_openssl::SslStream<TcpStream>,
    service: S,
    header_read_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
    port: &'static str,
) where
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(port, error = %e, "connection ended with an error");
    }
}
