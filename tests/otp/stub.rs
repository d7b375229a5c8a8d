//! Small OTP servers for the client's tests: real TLS with a certificate of a test PKI (the
//! client certificate required and verified), plain hyper, a fixed answer or none at all; each
//! request is recorded.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use openssl::ssl::{Ssl, SslAcceptor, SslFiletype, SslMethod, SslVerifyMode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_openssl::SslStream;
use tsgate::config::OtpConfig;
use tsgate::otp::OtpClient;
use tsgate::pki::Pki;

/// What a stub answers.
#[derive(Clone, Copy)]
pub enum Answer {
    Status(u16, &'static str),
    /// Reads the request and never answers.
    Never,
}

/// A request as the stub received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub content_type: String,
    pub client_cn: String,
    pub body: Vec<u8>,
}

pub struct Stub {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

/// A fresh PKI (server certificate for 127.0.0.1) with the gateway's OTP client certificate.
pub fn pki() -> Pki {
    let dir = crate::common::scratch_dir("otp-stub-pki");
    let pki = Pki::open_or_create(&dir, &["localhost", "127.0.0.1"]).expect("pki");
    pki.issue_client(tsgate::otp::CERTIFICATO_CLIENT, "tsgate", 30)
        .expect("client cert");
    pki
}

/// The client settings of `pki` (its OTP certificate, its CA), with no URL yet.
pub fn config(pki: &Pki, timeout_ms: u64) -> OtpConfig {
    let (cert, key) = pki.client_paths(tsgate::otp::CERTIFICATO_CLIENT);
    OtpConfig {
        timeout_ms,
        client_cert_file: cert,
        client_key_file: key,
        ca_file: pki.ca_pem_path(),
        ..OtpConfig::default()
    }
}

impl Stub {
    /// Serves with the server certificate of `server_pki`, requiring a client certificate of
    /// the same CA.
    pub async fn start(server_pki: &Pki, answer: Answer) -> Stub {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        b.set_certificate_chain_file(server_pki.server_cert_path())
            .unwrap();
        b.set_private_key_file(server_pki.server_key_path(), SslFiletype::PEM)
            .unwrap();
        b.set_ca_file(server_pki.ca_pem_path()).unwrap();
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        let acceptor = Arc::new(b.build());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, log) = (acceptor.clone(), log.clone());
                tokio::spawn(async move {
                    let ssl = Ssl::new(acceptor.context()).unwrap();
                    let mut stream = SslStream::new(ssl, tcp).unwrap();
                    if Pin::new(&mut stream).accept().await.is_err() {
                        return;
                    }
                    let cn = stream
                        .ssl()
                        .peer_certificate()
                        .and_then(|c| {
                            c.subject_name()
                                .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                                .next()
                                .and_then(|e| e.data().to_string().ok())
                        })
                        .unwrap_or_default();
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (log, cn) = (log.clone(), cn.clone());
                        async move {
                            let path = req.uri().path().to_owned();
                            let content_type = req
                                .headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            log.lock().unwrap().push(Seen {
                                path,
                                content_type,
                                client_cn: cn,
                                body: body.to_vec(),
                            });
                            let (status, text) = match answer {
                                Answer::Status(s, t) => (s, t),
                                Answer::Never => std::future::pending().await,
                            };
                            let mut r =
                                Response::new(Full::new(Bytes::from_static(text.as_bytes())));
                            *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, Infallible>(r)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Stub { addr, seen, task }
    }

    /// A client of this stub with `client_pki`'s certificate and CA.
    pub fn client(&self, client_pki: &Pki, timeout_ms: u64) -> OtpClient {
        let cfg = OtpConfig {
            servizio_url: format!("https://{}/v1/otp", self.addr),
            ..config(client_pki, timeout_ms)
        };
        OtpClient::new(&cfg).expect("client")
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}
