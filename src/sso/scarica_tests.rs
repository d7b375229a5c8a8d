use super::*;
use openssl::ssl::{SslAcceptor, SslFiletype};
use std::net::TcpListener;
use std::path::PathBuf;

/// A development PKI whose server certificate names only 127.0.0.1.
pub(crate) struct Pki {
    dir: PathBuf,
    pub pki: crate::pki::Pki,
}

impl Pki {
    pub(crate) fn new(nome: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tsgate-scarica-{nome}-{}", std::process::id()));
        let pki = crate::pki::Pki::open_or_create(&dir, &["127.0.0.1"]).unwrap();
        Pki { dir, pki }
    }

    pub(crate) fn ca(&self) -> PathBuf {
        self.pki.ca_pem_path()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serves one TLS connection on 127.0.0.1 with `risposta` once the request's headers arrived
/// (`None`: says nothing, for a while); returns the port.
pub(crate) fn servi_una(pki: &Pki, risposta: Option<Vec<u8>>) -> u16 {
    let mut a = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    a.set_certificate_chain_file(pki.pki.server_cert_path())
        .unwrap();
    a.set_private_key_file(pki.pki.server_key_path(), SslFiletype::PEM)
        .unwrap();
    let a = a.build();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let porta = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((tcp, _)) = l.accept() else { return };
        let Ok(mut tls) = a.accept(tcp) else { return };
        let mut letto = Vec::new();
        let mut b = [0u8; 1024];
        while !letto.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut b) {
                Ok(0) | Err(_) => return,
                Ok(n) => letto.extend_from_slice(&b[..n]),
            }
        }
        match risposta {
            Some(r) => {
                let _ = tls.write_all(&r);
                let _ = tls.shutdown();
            }
            None => std::thread::sleep(Duration::from_secs(3)),
        }
    });
    porta
}

fn http(stato: &str, intestazioni: &str, corpo: &str) -> Option<Vec<u8>> {
    Some(format!("HTTP/1.1 {stato}\r\n{intestazioni}\r\n{corpo}").into_bytes())
}

fn breve() -> Limiti {
    Limiti {
        tempo: Duration::from_millis(800),
        byte: 64,
    }
}

#[test]
fn a_verified_https_answer_gives_its_body() {
    let pki = Pki::new("ok");
    let corpo = "<md:EntityDescriptor/>";
    let porta = servi_una(
        &pki,
        http(
            "200 OK",
            &format!(
                "Content-Type: application/samlmetadata+xml\r\nContent-Length: {}\r\n",
                corpo.len()
            ),
            corpo,
        ),
    );
    let url = format!("https://127.0.0.1:{porta}/metadata?x=1");
    assert_eq!(
        scarica(&url, Some(&pki.ca()), breve()).unwrap(),
        corpo.as_bytes()
    );
    // Without Content-Length, the end of the connection ends the body.
    let porta = servi_una(&pki, http("200 OK", "", corpo));
    let url = format!("https://127.0.0.1:{porta}/");
    assert_eq!(
        scarica(&url, Some(&pki.ca()), breve()).unwrap(),
        corpo.as_bytes()
    );
}

#[test]
fn the_server_must_be_trusted_and_named() {
    let pki = Pki::new("fiducia");
    // The development CA is not in the system's store.
    let porta = servi_una(&pki, http("200 OK", "", "x"));
    let e = scarica(&format!("https://127.0.0.1:{porta}/"), None, breve()).unwrap_err();
    assert!(e.starts_with("TLS with 127.0.0.1:"), "{e}");
    assert!(e.contains("certificate verify failed"), "{e}");
    // The certificate names 127.0.0.1, not localhost.
    let porta = servi_una(&pki, http("200 OK", "", "x"));
    let e = scarica(
        &format!("https://localhost:{porta}/"),
        Some(&pki.ca()),
        breve(),
    )
    .unwrap_err();
    assert!(
        e.contains("TLS with localhost") || e.contains("cannot connect"),
        "{e}"
    );
    let e = scarica("http://127.0.0.1/", None, breve()).unwrap_err();
    assert_eq!(e, "only https URLs are fetched");
    let e = scarica("non un url", None, breve()).unwrap_err();
    assert!(e.starts_with("not a URL"), "{e}");
}

#[test]
fn redirects_errors_sizes_and_silence_are_refused() {
    let pki = Pki::new("rifiuti");
    let ca = pki.ca();
    let prova = |r: Option<Vec<u8>>| {
        let porta = servi_una(&pki, r);
        scarica(&format!("https://127.0.0.1:{porta}/m"), Some(&ca), breve()).unwrap_err()
    };
    let e = prova(http(
        "302 Found",
        "Location: https://altrove.example/m\r\n",
        "",
    ));
    assert_eq!(
        e,
        "HTTP 302, redirected to https://altrove.example/m: enrol the final URL"
    );
    assert_eq!(prova(http("404 Not Found", "", "no")), "HTTP 404");
    let e = prova(http("200 OK", "", &"x".repeat(65)));
    assert_eq!(e, "the metadata exceeds 64 bytes");
    let e = prova(http("200 OK", "", &"x".repeat(64 * 1024)));
    assert_eq!(e, "the answer exceeds 64 bytes");
    let e = prova(http("200 OK", "Content-Length: 10\r\n", "corto"));
    assert_eq!(e, "the answer was cut: 5 of 10 bytes");
    let e = prova(http(
        "200 OK",
        "Transfer-Encoding: chunked\r\n",
        "5\r\nciao!\r\n0\r\n\r\n",
    ));
    assert!(e.contains("transfer encoding"), "{e}");
    let e = prova(Some(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()));
    assert!(e.starts_with("the answer is not HTTP"), "{e}");
    let e = prova(None);
    assert_eq!(e, "no answer within 800ms");
}
