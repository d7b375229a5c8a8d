//! The client that authorises an OTP: `POST {otp, symptoms_started_on}` as JSON to
//! `otp.servizio_url` over mutual TLS with the gateway's client certificate, the whole call
//! (connection, handshake, answer) bounded by `otp.timeout_ms`. Logs carry the OTP's SHA-256
//! prefix only.

use crate::config::OtpConfig;
use crate::domain::Otp;
use bytes::Bytes;
use chrono::NaiveDate;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVersion};
use std::pin::Pin;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

/// Largest answer body read, in bytes.
const MAX_RISPOSTA: usize = 64 * 1024;

/// A client built once from `[otp]`: the TLS context (client certificate and key, trusted CA)
/// and the destination. Cheap to share behind an `Arc`.
pub struct OtpClient {
    connector: SslConnector,
    host: String,
    port: u16,
    path: String,
    timeout: Duration,
}

impl std::fmt::Debug for OtpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtpClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A setting of `[otp]` the client cannot use; the message names it.
#[derive(Debug, thiserror::Error)]
pub enum OtpClientError {
    #[error("{setting}: {message}")]
    Impostazione {
        setting: &'static str,
        message: String,
    },
}

/// The outcome of one authorisation, as the portal shows and records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EsitoAutorizzazione {
    /// 204: the OTP is authorised.
    Autorizzato,
    /// 409: the OTP was already authorised.
    GiaAutorizzato,
    /// Anything else: 400 (with its `error_code`), another status, a timeout, a refused
    /// connection, a TLS failure. `motivo` is Italian, for the record and the log.
    Negativo { motivo: String },
}

impl EsitoAutorizzazione {
    pub fn positivo(&self) -> bool {
        matches!(self, Self::Autorizzato)
    }

    /// The reason of a negative outcome (`"OTP già autorizzato"` for a 409); `None` if positive.
    pub fn motivo(&self) -> Option<&str> {
        match self {
            Self::Autorizzato => None,
            Self::GiaAutorizzato => Some("OTP già autorizzato"),
            Self::Negativo { motivo } => Some(motivo),
        }
    }
}

fn impostazione(setting: &'static str, message: impl Into<String>) -> OtpClientError {
    OtpClientError::Impostazione {
        setting,
        message: message.into(),
    }
}

impl OtpClient {
    /// Loads the client certificate, key and CA files and checks the URL. TLS 1.2 or later; the
    /// server certificate must be signed by `otp.ca_file` and name the URL's host.
    pub fn new(cfg: &OtpConfig) -> Result<OtpClient, OtpClientError> {
        let (host, port, path) = cfg
            .destinazione()
            .map_err(|e| impostazione("otp.servizio_url", e.to_string()))?;
        if cfg.timeout_ms == 0 {
            return Err(impostazione("otp.timeout_ms", "must be greater than zero"));
        }
        let tls = |setting, e: openssl::error::ErrorStack| impostazione(setting, e.to_string());
        let mut b =
            SslConnector::builder(SslMethod::tls_client()).map_err(|e| tls("otp.ca_file", e))?;
        b.set_min_proto_version(Some(SslVersion::TLS1_2))
            .map_err(|e| tls("otp.ca_file", e))?;
        for (setting, file) in [
            ("otp.ca_file", &cfg.ca_file),
            ("otp.client_cert_file", &cfg.client_cert_file),
            ("otp.client_key_file", &cfg.client_key_file),
        ] {
            if !file.is_file() {
                return Err(impostazione(
                    setting,
                    format!(
                        "{} does not exist (`tsgate demo` issues the gateway's OTP client certificate)",
                        file.display()
                    ),
                ));
            }
        }
        // Only the CAs of `otp.ca_file` are trusted (not the system's store).
        let pem =
            std::fs::read(&cfg.ca_file).map_err(|e| impostazione("otp.ca_file", e.to_string()))?;
        let mut store =
            openssl::x509::store::X509StoreBuilder::new().map_err(|e| tls("otp.ca_file", e))?;
        for ca in openssl::x509::X509::stack_from_pem(&pem).map_err(|e| tls("otp.ca_file", e))? {
            store.add_cert(ca).map_err(|e| tls("otp.ca_file", e))?;
        }
        b.set_verify_cert_store(store.build())
            .map_err(|e| tls("otp.ca_file", e))?;
        b.set_certificate_chain_file(&cfg.client_cert_file)
            .map_err(|e| tls("otp.client_cert_file", e))?;
        b.set_private_key_file(&cfg.client_key_file, SslFiletype::PEM)
            .map_err(|e| tls("otp.client_key_file", e))?;
        b.check_private_key()
            .map_err(|e| tls("otp.client_key_file", e))?;
        Ok(OtpClient {
            connector: b.build(),
            host,
            port,
            path,
            timeout: Duration::from_millis(cfg.timeout_ms),
        })
    }
}

/// Authorises `otp` with the symptom-onset date `inizio_sintomi` (which the caller has already
/// checked). Never fails: every failure is an [`EsitoAutorizzazione::Negativo`] with its reason.
pub async fn autorizza(
    cfg: &OtpClient,
    otp: &Otp,
    inizio_sintomi: NaiveDate,
) -> EsitoAutorizzazione {
    let ms = cfg.timeout.as_millis();
    let esito = match tokio::time::timeout(cfg.timeout, chiama(cfg, otp, inizio_sintomi)).await {
        Ok(Ok((status, body))) => da_risposta(status, &body),
        Ok(Err(motivo)) => EsitoAutorizzazione::Negativo { motivo },
        Err(_) => EsitoAutorizzazione::Negativo {
            motivo: format!("timeout dopo {ms} ms"),
        },
    };
    match &esito {
        EsitoAutorizzazione::Negativo { motivo } => {
            tracing::warn!(otp = %otp, %motivo, "OTP authorisation negative")
        }
        e => tracing::info!(otp = %otp, esito = ?e, "OTP authorisation"),
    }
    esito
}

/// The outcome of an HTTP answer.
fn da_risposta(status: StatusCode, body: &[u8]) -> EsitoAutorizzazione {
    match status {
        StatusCode::NO_CONTENT => EsitoAutorizzazione::Autorizzato,
        StatusCode::CONFLICT => EsitoAutorizzazione::GiaAutorizzato,
        StatusCode::BAD_REQUEST => {
            let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
            let field = |k: &str| json.as_ref().and_then(|j| j.get(k));
            let code = field("error_code").map(|v| v.to_string());
            let message = field("message").and_then(|v| v.as_str());
            let motivo = match (code, message) {
                (Some(code), Some(msg)) => {
                    format!(
                        "richiesta rifiutata dal servizio OTP (HTTP 400, error_code {code}: {msg})"
                    )
                }
                (Some(code), None) => {
                    format!("richiesta rifiutata dal servizio OTP (HTTP 400, error_code {code})")
                }
                _ => "richiesta rifiutata dal servizio OTP (HTTP 400)".to_owned(),
            };
            EsitoAutorizzazione::Negativo { motivo }
        }
        other => EsitoAutorizzazione::Negativo {
            motivo: format!(
                "risposta inattesa del servizio OTP: HTTP {}",
                other.as_u16()
            ),
        },
    }
}

/// One call on a fresh connection: status and body, or the reason it failed.
async fn chiama(
    cfg: &OtpClient,
    otp: &Otp,
    inizio_sintomi: NaiveDate,
) -> Result<(StatusCode, Bytes), String> {
    let tcp = TcpStream::connect((cfg.host.as_str(), cfg.port))
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                format!("connessione rifiutata da {}:{}", cfg.host, cfg.port)
            }
            _ => format!("connessione a {}:{} non riuscita: {e}", cfg.host, cfg.port),
        })?;
    let _ = tcp.set_nodelay(true);
    let ssl = cfg
        .connector
        .configure()
        .and_then(|c| c.into_ssl(&cfg.host))
        .map_err(|e| format!("TLS non riuscito: {e}"))?;
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| format!("TLS non riuscito: {e}"))?;
    if let Err(e) = Pin::new(&mut stream).connect().await {
        let verify = stream.ssl().verify_result();
        let detail = if verify == openssl::x509::X509VerifyResult::OK {
            e.to_string()
        } else {
            format!("{e} ({})", verify.error_string())
        };
        return Err(format!("TLS non riuscito: {detail}"));
    }
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP non riuscito: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let body = serde_json::json!({
        "otp": otp.as_str(),
        "symptoms_started_on": inizio_sintomi.format("%Y-%m-%d").to_string(),
    })
    .to_string();
    let authority = if cfg.host.contains(':') {
        format!("[{}]:{}", cfg.host, cfg.port)
    } else {
        format!("{}:{}", cfg.host, cfg.port)
    };
    let req = Request::post(cfg.path.as_str())
        .header(header::HOST, authority)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("richiesta non valida: {e}"))?;
    let result = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("nessuna risposta dal servizio OTP: {e}"))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_RISPOSTA)
            .collect()
            .await
            .map_err(|e| format!("risposta del servizio OTP illeggibile: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_outcomes() {
        assert_eq!(
            da_risposta(StatusCode::NO_CONTENT, b""),
            EsitoAutorizzazione::Autorizzato
        );
        assert_eq!(
            da_risposta(StatusCode::CONFLICT, b"{}"),
            EsitoAutorizzazione::GiaAutorizzato
        );
        let e = da_risposta(
            StatusCode::BAD_REQUEST,
            br#"{"error_code":1001,"message":"Request not compliant with the defined schema."}"#,
        );
        assert_eq!(
            e.motivo(),
            Some("richiesta rifiutata dal servizio OTP (HTTP 400, error_code 1001: Request not compliant with the defined schema.)")
        );
        let e = da_risposta(StatusCode::BAD_REQUEST, b"<html>");
        assert_eq!(
            e.motivo(),
            Some("richiesta rifiutata dal servizio OTP (HTTP 400)")
        );
        let e = da_risposta(StatusCode::OK, b"");
        assert_eq!(
            e.motivo(),
            Some("risposta inattesa del servizio OTP: HTTP 200")
        );
        assert!(!e.positivo());
        assert_eq!(
            EsitoAutorizzazione::GiaAutorizzato.motivo(),
            Some("OTP già autorizzato")
        );
    }

    #[test]
    fn missing_files_name_the_setting() {
        let cfg = OtpConfig {
            ca_file: "/nonexistent/ca.pem".into(),
            ..OtpConfig::default()
        };
        let e = OtpClient::new(&cfg).unwrap_err();
        assert!(e.to_string().starts_with("otp.ca_file:"), "{e}");
    }
}
