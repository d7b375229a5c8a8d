//! Downloading a service provider's SAML metadata from its HTTPS URL, for
//! `tsgate sso piattaforme applica` (a command, so a blocking client is enough).
//!
//! One `GET` over TLS 1.2+ with the server certificate verified (the system's trust store plus
//! an optional CA file) and its name checked against the URL's host; HTTP/1.0, so the answer is
//! never chunked; no redirects followed (the URL to enrol is the final one); a deadline for the
//! whole exchange and a size limit, as for any input a third party controls.

use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

/// The limits of one download.
#[derive(Debug, Clone, Copy)]
pub struct Limiti {
    /// For the whole exchange: connection, handshake, request and answer.
    pub tempo: Duration,
    /// Of the body.
    pub byte: usize,
}

impl Default for Limiti {
    fn default() -> Self {
        Limiti {
            tempo: Duration::from_secs(15),
            byte: 1024 * 1024,
        }
    }
}

/// The body of `url` (https only) when the server answers 200; else what went wrong, in words
/// fit for the operator running the command.
pub fn scarica(url: &str, ca: Option<&Path>, limiti: Limiti) -> Result<Vec<u8>, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    if uri.scheme_str() != Some("https") {
        return Err("only https URLs are fetched".into());
    }
    let host = uri.host().ok_or("the URL has no host")?;
    let nome = host.trim_start_matches('[').trim_end_matches(']');
    let porta = uri.port_u16().unwrap_or(443);
    let percorso = uri.path_and_query().map_or("/", |p| p.as_str());
    let fine = Instant::now() + limiti.tempo;
    let resto = || {
        fine.checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("no answer within {:?}", limiti.tempo))
    };

    let indirizzi = (nome, porta)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {nome}: {e}"))?;
    let mut ultimo = format!("{nome} has no address");
    let mut tcp = None;
    for a in indirizzi {
        match TcpStream::connect_timeout(&a, resto()?) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => ultimo = format!("cannot connect to {a}: {e}"),
        }
    }
    let tcp = tcp.ok_or(ultimo)?;
    tcp.set_read_timeout(Some(resto()?))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(resto()?))
        .map_err(|e| e.to_string())?;

    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(|e| e.to_string())?;
    if let Some(ca) = ca {
        b.set_ca_file(ca)
            .map_err(|e| format!("CA file {}: {e}", ca.display()))?;
    }
    let mut tls = b
        .build()
        .connect(nome, tcp)
        .map_err(|e| format!("TLS with {nome}:{porta}: {e}"))?;
    let richiesta = format!(
        "GET {percorso} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: tsgate\r\n\
         Accept: application/samlmetadata+xml, application/xml, text/xml\r\n\r\n"
    );
    tls.write_all(richiesta.as_bytes())
        .map_err(|e| format!("sending the request: {e}"))?;

    // Headers (up to 16 KiB) and body (up to the limit): one more byte tells it is too big.
    let massimo = limiti.byte + 16 * 1024;
    let mut risposta = Vec::new();
    let mut blocco = [0u8; 16 * 1024];
    loop {
        resto()?;
        match tls.read(&mut blocco) {
            Ok(0) => break,
            Ok(n) => {
                risposta.extend_from_slice(&blocco[..n]);
                if risposta.len() > massimo {
                    return Err(format!("the answer exceeds {} bytes", limiti.byte));
                }
            }
            // A server that closes without close_notify: what arrived is the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return Err(format!("no answer within {:?}", limiti.tempo))
            }
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
    }
    corpo(&risposta, limiti.byte)
}

/// The body of a complete HTTP/1.x answer read to the end of the connection.
fn corpo(risposta: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let fine_testa = risposta
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP (no end of headers)")?;
    let testa = std::str::from_utf8(&risposta[..fine_testa])
        .map_err(|_| "the answer's headers are not text")?;
    let mut righe = testa.split("\r\n");
    let stato = righe.next().unwrap_or_default();
    let codice = match stato.split(' ').collect::<Vec<_>>().as_slice() {
        [v, c, ..] if v.starts_with("HTTP/1.") => c.parse::<u16>().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("the answer is not HTTP: {stato:.80}"))?;
    let intestazione = |nome: &str| {
        testa.split("\r\n").skip(1).find_map(|r| {
            let (k, v) = r.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(nome)
                .then(|| v.trim().to_owned())
        })
    };
    match codice {
        200 => {}
        300..=399 => {
            return Err(format!(
                "HTTP {codice}, redirected to {}: enrol the final URL",
                intestazione("location").unwrap_or_default()
            ))
        }
        _ => return Err(format!("HTTP {codice}")),
    }
    if intestazione("transfer-encoding").is_some() {
        return Err("the server sent a transfer encoding to an HTTP/1.0 request".into());
    }
    let body = &risposta[fine_testa + 4..];
    if body.len() > max {
        return Err(format!("the metadata exceeds {max} bytes"));
    }
    if let Some(n) = intestazione("content-length") {
        if n.parse::<usize>().ok() != Some(body.len()) {
            return Err(format!("the answer was cut: {} of {n} bytes", body.len()));
        }
    }
    Ok(body.to_vec())
}

#[cfg(test)]
#[path = "scarica_tests.rs"]
pub(crate) mod tests;
