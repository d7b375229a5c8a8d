//! A real HTTPS/1.1 client with an optional client certificate and source address, built on
//! hyper's client connection and tokio-openssl.

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVersion};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use tokio::net::TcpSocket;
use tokio_openssl::SslStream;

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Clone)]
pub struct Client {
    addr: SocketAddr,
    connector: SslConnector,
    source: Option<IpAddr>,
}

pub struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Client {
    pub fn new(addr: SocketAddr, ca: &Path, cert: Option<(PathBuf, PathBuf)>) -> Self {
        Self::with_connector(addr, ca, cert, |_| {})
    }

    pub fn with_connector(
        addr: SocketAddr,
        ca: &Path,
        cert: Option<(PathBuf, PathBuf)>,
        tweak: impl FnOnce(&mut openssl::ssl::SslConnectorBuilder),
    ) -> Self {
        let mut b = SslConnector::builder(SslMethod::tls_client()).expect("connector");
        b.set_ca_file(ca).expect("ca");
        if let Some((cert, key)) = cert {
            b.set_certificate_file(&cert, SslFiletype::PEM)
                .expect("client cert");
            b.set_private_key_file(&key, SslFiletype::PEM)
                .expect("client key");
        }
        b.set_min_proto_version(Some(SslVersion::TLS1_2))
            .expect("min version");
        tweak(&mut b);
        Self {
            addr,
            connector: b.build(),
            source: None,
        }
    }

    /// Connect from this local address (any 127.x.y.z works on loopback).
    pub fn bound_to(mut self, ip: &str) -> Self {
        self.source = Some(ip.parse().expect("ip"));
        self
    }

    /// TCP + TLS handshake, without HTTP: for tests that write raw bytes.
    pub async fn tls_stream(&self) -> Result<SslStream<tokio::net::TcpStream>, String> {
        let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        if let Some(ip) = self.source {
            socket
                .bind(SocketAddr::new(ip, 0))
                .map_err(|e| e.to_string())?;
        }
        let tcp = socket
            .connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let ssl = self
            .connector
            .configure()
            .and_then(|c| c.into_ssl("127.0.0.1"))
            .map_err(|e| e.to_string())?;
        let mut stream = SslStream::new(ssl, tcp).map_err(|e| e.to_string())?;
        Pin::new(&mut stream)
            .connect()
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        Ok(stream)
    }

    /// TCP + TLS handshake + HTTP/1.1 handshake.
    pub async fn connect(&self) -> Result<Conn, String> {
        let stream = self.tls_stream().await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("http handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: self.addr.to_string(),
        })
    }

    /// One SOAP POST on a fresh connection.
    pub async fn soap(
        &self,
        path: &str,
        action: &str,
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        self.connect().await?.soap(path, action, body).await
    }

    pub async fn get(&self, path_and_query: &str) -> Result<Reply, String> {
        let mut conn = self.connect().await?;
        let req = Request::get(path_and_query)
            .header("host", conn.host.clone())
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        conn.send(req).await
    }
}

impl Conn {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub async fn soap(
        &mut self,
        path: &str,
        action: &str,
        body: impl Into<Bytes>,
    ) -> Result<Reply, String> {
        let req = Request::post(path)
            .header("host", self.host.clone())
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", format!("\"{action}\""))
            .body(Full::new(body.into()))
            .map_err(|e| e.to_string())?;
        self.send(req).await
    }

    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Reply, String> {
        self.sender
            .ready()
            .await
            .map_err(|e| format!("not ready: {e}"))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// A SOAP request kept in flight: headers and the start of the body are sent, the rest waits
/// for `finish`.
pub struct HeldRequest {
    stream: SslStream<tokio::net::TcpStream>,
    rest: Vec<u8>,
}

impl Client {
    pub async fn hold(&self, path: &str, action: &str, body: &str) -> HeldRequest {
        use tokio::io::AsyncWriteExt;
        let mut stream = self.tls_stream().await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: text/xml; charset=utf-8\r\nsoapaction: \"{action}\"\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.expect("write");
        stream.write_all(first).await.expect("write");
        stream.flush().await.expect("flush");
        HeldRequest {
            stream,
            rest: rest.to_vec(),
        }
    }
}

impl HeldRequest {
    /// Sends the rest of the body; returns the start of the raw response.
    pub async fn finish(mut self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        self.stream.write_all(&self.rest).await.expect("write");
        self.stream.flush().await.expect("flush");
        let mut buf = vec![0u8; 4096];
        let n = self.stream.read(&mut buf).await.expect("read");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}
