//! The server TLS context: TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers only, no
//! renegotiation, no compression, no session resumption (so a revoked certificate cannot ride
//! an old session), a client certificate required and verified against the gateway CA and its
//! CRL. The context is rebuilt when the certificate, key, CA or CRL files change.

use crate::config::TlsConfig;
use anyhow::Context;
use openssl::ssl::{
    SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod, SslOptions, SslSessionCacheMode,
    SslVerifyMode, SslVersion,
};
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::X509;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

const TLS12_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const TLS13_SUITES: &str =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/// The settings both ports share: protocol versions, ciphers, options, certificate and key.
fn server_builder(cfg: &TlsConfig) -> anyhow::Result<SslAcceptorBuilder> {
    for (setting, path) in [
        ("tls.cert_file", &cfg.cert_file),
        ("tls.key_file", &cfg.key_file),
    ] {
        if !path.is_file() {
            anyhow::bail!(
                "{setting}: {} does not exist (`tsgate demo` creates a development PKI under pki.dir)",
                path.display()
            );
        }
    }
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    b.set_max_proto_version(Some(SslVersion::TLS1_3))?;
    b.set_cipher_list(TLS12_CIPHERS)?;
    b.set_ciphersuites(TLS13_SUITES)?;
    b.set_options(
        SslOptions::NO_RENEGOTIATION
            | SslOptions::NO_COMPRESSION
            | SslOptions::CIPHER_SERVER_PREFERENCE
            | SslOptions::NO_TICKET,
    );
    b.set_session_cache_mode(SslSessionCacheMode::OFF);
    b.set_certificate_chain_file(&cfg.cert_file)
        .with_context(|| format!("tls.cert_file: cannot load {}", cfg.cert_file.display()))?;
    b.set_private_key_file(&cfg.key_file, SslFiletype::PEM)
        .with_context(|| format!("tls.key_file: cannot load {}", cfg.key_file.display()))?;
    b.check_private_key()
        .context("tls.key_file does not match tls.cert_file")?;
    Ok(b)
}

/// The portal's acceptor: same protocols and server certificate as the SOAP port; a client
/// certificate is asked for (naming the CAs of `cns_cas`, so a browser offers only smart-card
/// certificates) but not required and not verified here: the CNS pages verify it, so a bad
/// certificate gets a readable page instead of a failed handshake.
pub fn build_portal_acceptor(cfg: &TlsConfig, cns_cas: &[X509]) -> anyhow::Result<SslAcceptor> {
    let mut b = server_builder(cfg)?;
    for ca in cns_cas {
        b.add_client_ca(ca)?;
    }
    b.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
    b.set_session_id_context(b"tsgate-portale")?;
    Ok(b.build())
}

/// Builds the acceptor from the configured files.
pub fn build_acceptor(cfg: &TlsConfig) -> anyhow::Result<SslAcceptor> {
    for (setting, path) in [
        ("tls.client_ca_file", &cfg.client_ca_file),
        ("tls.crl_file", &cfg.crl_file),
    ] {
        if !path.is_file() {
            anyhow::bail!(
                "{setting}: {} does not exist (`tsgate demo` creates a development PKI under pki.dir)",
                path.display()
            );
        }
    }
    let mut b = server_builder(cfg)?;
    let ca_pem = std::fs::read(&cfg.client_ca_file).with_context(|| {
        format!(
            "tls.client_ca_file: cannot read {}",
            cfg.client_ca_file.display()
        )
    })?;
    let ca = X509::from_pem(&ca_pem).context("tls.client_ca_file is not a PEM certificate")?;
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(ca.clone())?;
    let lookup = store.add_lookup(X509Lookup::file())?;
    lookup
        .load_crl_file(&cfg.crl_file, SslFiletype::PEM)
        .with_context(|| format!("tls.crl_file: cannot load {}", cfg.crl_file.display()))?;
    store.set_flags(X509VerifyFlags::CRL_CHECK)?;
    b.set_verify_cert_store(store.build())?;
    b.add_client_ca(&ca)?;
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    b.set_session_id_context(b"tsgate")?;
    Ok(b.build())
}

/// The current acceptor, swapped when its files change.
pub struct TlsContext {
    cfg: TlsConfig,
    current: RwLock<Arc<SslAcceptor>>,
    stamp: Mutex<Vec<Option<SystemTime>>>,
}

impl TlsContext {
    pub fn load(cfg: &TlsConfig) -> anyhow::Result<Self> {
        let acceptor = build_acceptor(cfg)?;
        Ok(Self {
            cfg: cfg.clone(),
            current: RwLock::new(Arc::new(acceptor)),
            stamp: Mutex::new(stamps(cfg)),
        })
    }

    pub fn acceptor(&self) -> Arc<SslAcceptor> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Rebuilds the acceptor if a file changed; a broken new file keeps the old context.
    pub fn reload_if_changed(&self) {
        let now = stamps(&self.cfg);
        let Ok(mut stamp) = self.stamp.lock() else {
            return;
        };
        if *stamp == now {
            return;
        }
        match build_acceptor(&self.cfg) {
            Ok(acceptor) => {
                if let Ok(mut g) = self.current.write() {
                    *g = Arc::new(acceptor);
                }
                *stamp = now;
                tracing::info!("TLS context reloaded (certificate, CA or CRL changed)");
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "TLS files changed but cannot be loaded: keeping the previous context")
            }
        }
    }
}

fn stamps(cfg: &TlsConfig) -> Vec<Option<SystemTime>> {
    [
        &cfg.cert_file,
        &cfg.key_file,
        &cfg.client_ca_file,
        &cfg.crl_file,
    ]
    .iter()
    .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    .collect()
}

/// The server side of a TLS handshake on `tcp`, under `timeout`; on failure, why (with the
/// certificate verification result when it is not OK), for the caller's log line.
pub async fn accept_tls(
    acceptor: &SslAcceptor,
    tcp: tokio::net::TcpStream,
    timeout: std::time::Duration,
) -> Result<tokio_openssl::SslStream<tokio::net::TcpStream>, String> {
    let mut stream = openssl::ssl::Ssl::new(acceptor.context())
        .and_then(|ssl| tokio_openssl::SslStream::new(ssl, tcp))
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    match tokio::time::timeout(timeout, std::pin::Pin::new(&mut stream).accept()).await {
        Ok(Ok(())) => Ok(stream),
        Ok(Err(e)) => {
            let verify = stream.ssl().verify_result();
            Err(if verify == openssl::x509::X509VerifyResult::OK {
                e.to_string()
            } else {
                format!("{e} ({})", verify.error_string())
            })
        }
        Err(_) => Err("timeout".to_owned()),
    }
}
