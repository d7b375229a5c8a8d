//! The admin port (plain HTTP, loopback only): `/healthz` (the process answers), `/readyz` (the
//! database answers and the access-log writer runs), `/metrics` (Prometheus text format).

use crate::state::AppState;
use bytes::Bytes;
use diesel::RunQueryDsl;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(route(&state, req).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
}

async fn route<B>(state: &AppState, req: Request<B>) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n", "text/plain; charset=utf-8"),
        "/readyz" => {
            let db = crate::db::blocking(&state.pool, |c| {
                diesel::sql_query("SELECT 1").execute(c)?;
                Ok(())
            })
            .await;
            match (db, state.access_log_running()) {
                (Ok(()), true) => text(StatusCode::OK, "ready\n", "text/plain; charset=utf-8"),
                (Err(e), _) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("database: {e}\n"),
                    "text/plain; charset=utf-8",
                ),
                (_, false) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "access log writer stopped\n",
                    "text/plain; charset=utf-8",
                ),
            }
        }
        "/metrics" => text(
            StatusCode::OK,
            &state.metrics.render(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found\n",
            "text/plain; charset=utf-8",
        ),
    }
}

fn text(status: StatusCode, body: &str, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}
