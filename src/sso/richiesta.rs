//! The AuthnRequest of a service provider, in either binding: decoded (HTTP-Redirect:
//! base64 of raw DEFLATE; HTTP-POST: base64), scanned under the XML limits before any parser
//! sees it, read, and its signature checked against the SP's registered certificates (the
//! query-string signature of the Redirect binding, or the enveloped XML signature of POST).

use super::{firma, BINDING_POST, NS_ASSERTION, NS_PROTOCOL};
use crate::soap::envelope::{scan_document, XmlLimits};
use chrono::{DateTime, Utc};
use libxml::parser::{Parser, ParserOptions};
use libxml::tree::Node;
use openssl::hash::MessageDigest;

/// Largest AuthnRequest accepted, decoded and inflated, in bytes (a real one is about 2 KiB).
pub const MASSIMO_XML: usize = 32 * 1024;
/// Largest RelayState (SAML bindings §3.4.3: 80 bytes).
pub const MASSIMO_RELAY_STATE: usize = 80;

/// The XML limits of a SAML message: much tighter than SOAP's.
fn limiti() -> XmlLimits {
    XmlLimits {
        max_depth: 16,
        max_attributes: 32,
        max_children: 64,
        max_attribute_len: 4096,
    }
}

/// Why an AuthnRequest was refused; each maps to a §2.5 esito and to the answer (a page, or a
/// SAML error Response when the SP is known and its request authentic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreRichiesta {
    #[error("malformed request: {0}")]
    Malformata(String),
    #[error("unknown service provider {0}")]
    SpSconosciuto(String),
    #[error("unsigned request from an SP that must sign")]
    FirmaAssente,
    #[error("signature: {0}")]
    FirmaNonValida(String),
    #[error("AssertionConsumerServiceURL {0} is not the registered one")]
    AcsNonValido(String),
    #[error("IssueInstant {0} outside the allowed skew")]
    Scaduta(String),
    #[error("request ID already received")]
    Ripetuta,
    #[error("not supported: {0}")]
    NonSupportata(String),
}

impl ErroreRichiesta {
    /// The §2.5 esito.
    pub fn esito(&self) -> &'static str {
        match self {
            ErroreRichiesta::Malformata(_) => "RICHIESTA_NON_VALIDA",
            ErroreRichiesta::SpSconosciuto(_) => "SP_SCONOSCIUTO",
            ErroreRichiesta::FirmaAssente => "FIRMA_ASSENTE",
            ErroreRichiesta::FirmaNonValida(_) => "FIRMA_NON_VALIDA",
            ErroreRichiesta::AcsNonValido(_) => "ACS_NON_VALIDO",
            ErroreRichiesta::Scaduta(_) => "RICHIESTA_SCADUTA",
            ErroreRichiesta::Ripetuta => "RICHIESTA_RIPETUTA",
            ErroreRichiesta::NonSupportata(_) => "RICHIESTA_NON_SUPPORTATA",
        }
    }

    /// The Italian text shown to the operator and put in a StatusMessage.
    pub fn messaggio(&self) -> &'static str {
        match self {
            ErroreRichiesta::Malformata(_) => "La richiesta di autenticazione non è valida.",
            ErroreRichiesta::SpSconosciuto(_) => {
                "La piattaforma che ha chiesto l'autenticazione non è registrata presso Sistema TS."
            }
            ErroreRichiesta::FirmaAssente => "La richiesta di autenticazione non è firmata.",
            ErroreRichiesta::FirmaNonValida(_) => {
                "La firma della richiesta di autenticazione non è valida."
            }
            ErroreRichiesta::AcsNonValido(_) => {
                "L'indirizzo di ritorno della richiesta non è quello registrato per la piattaforma."
            }
            ErroreRichiesta::Scaduta(_) => {
                "La richiesta di autenticazione è scaduta o ha un orario non valido."
            }
            ErroreRichiesta::Ripetuta => "La richiesta di autenticazione è già stata ricevuta.",
            ErroreRichiesta::NonSupportata(_) => {
                "La richiesta di autenticazione chiede un servizio non supportato."
            }
        }
    }

    /// Whether the SP may get a SAML error Response (it is known, the request is its own and
    /// the ACS is its registered one); otherwise only the operator sees a page.
    pub fn risposta_possibile(&self) -> bool {
        matches!(
            self,
            ErroreRichiesta::Scaduta(_)
                | ErroreRichiesta::Ripetuta
                | ErroreRichiesta::NonSupportata(_)
        )
    }
}

fn malformata(m: impl Into<String>) -> ErroreRichiesta {
    ErroreRichiesta::Malformata(m.into())
}

/// An AuthnRequest as read, before it is checked against the SP's registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: DateTime<Utc>,
    pub destination: Option<String>,
    pub acs_url: Option<String>,
    pub force_authn: bool,
    /// The SpidL level asked (1 when none is asked).
    pub livello: i16,
    /// Whether the XML carries an enveloped signature (POST binding).
    pub firmata_xml: bool,
    /// What the request asks that we do not offer (a binding, a NameID format, a level):
    /// reported only once the request is known to be authentic ([`controlla`]).
    pub non_supportato: Option<String>,
}

/// Which binding carried the request, with what its signature check needs.
pub enum Trasporto<'a> {
    /// `query` is the query string as sent.
    Redirect {
        query: &'a str,
    },
    Post,
}

/// The base64 `SAMLRequest` of either binding, decoded (and inflated for Redirect).
pub fn decodifica(saml_request: &str, redirect: bool) -> Result<Vec<u8>, ErroreRichiesta> {
    let pulito: String = saml_request.split_whitespace().collect();
    if pulito.len() > MASSIMO_XML * 2 {
        return Err(malformata("SAMLRequest too large"));
    }
    let grezzo = openssl::base64::decode_block(&pulito)
        .map_err(|_| malformata("SAMLRequest is not base64"))?;
    if !redirect {
        if grezzo.len() > MASSIMO_XML {
            return Err(malformata("SAMLRequest too large"));
        }
        return Ok(grezzo);
    }
    miniz_oxide::inflate::decompress_to_vec_with_limit(&grezzo, MASSIMO_XML).map_err(|e| {
        match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                malformata("SAMLRequest too large once inflated")
            }
            _ => malformata("SAMLRequest is not DEFLATE data"),
        }
    })
}

fn figlio(n: &Node, ns: &str, nome: &str) -> Option<Node> {
    n.get_child_elements()
        .into_iter()
        .find(|c| c.get_name() == nome && c.get_namespace().is_some_and(|x| x.get_href() == ns))
}

/// Reads an AuthnRequest (after the XML safety scan).
pub fn leggi(xml: &[u8]) -> Result<AuthnRequest, ErroreRichiesta> {
    scan_document(xml, &limiti()).map_err(|e| malformata(e.to_string()))?;
    let opzioni = ParserOptions {
        no_net: true,
        no_error: true,
        no_warning: true,
        ..ParserOptions::default()
    };
    let doc = Parser::default()
        .parse_string_with_options(xml, opzioni)
        .map_err(|_| malformata("not well-formed XML"))?;
    let radice = doc
        .get_root_element()
        .ok_or_else(|| malformata("no root element"))?;
    let ns = radice.get_namespace().map(|n| n.get_href());
    if radice.get_name() != "AuthnRequest" || ns.as_deref() != Some(NS_PROTOCOL) {
        return Err(malformata("the root element is not samlp:AuthnRequest"));
    }
    if radice.get_attribute("Version").as_deref() != Some("2.0") {
        return Err(malformata("Version is not 2.0"));
    }
    let id = radice
        .get_attribute("ID")
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .ok_or_else(|| malformata("no valid ID"))?;
    let issue_instant = radice
        .get_attribute("IssueInstant")
        .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| malformata("no valid IssueInstant"))?;
    let issuer = figlio(&radice, NS_ASSERTION, "Issuer")
        .map(|n| n.get_content().trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformata("no Issuer"))?;
    let mut non_supportato = None;
    if let Some(b) = radice.get_attribute("ProtocolBinding") {
        if b != BINDING_POST {
            non_supportato = Some(format!("ProtocolBinding {b}"));
        }
    }
    if let Some(p) = figlio(&radice, NS_PROTOCOL, "NameIDPolicy") {
        match p.get_attribute("Format").as_deref() {
            None | Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient") => {}
            Some(f) => non_supportato = Some(format!("NameID format {f}")),
        }
    }
    let livello = match figlio(&radice, NS_PROTOCOL, "RequestedAuthnContext") {
        None => 1,
        Some(r) => {
            let classi: Vec<String> = r
                .get_child_elements()
                .into_iter()
                .filter(|c| c.get_name() == "AuthnContextClassRef")
                .map(|c| c.get_content().trim().to_owned())
                .collect();
            let livelli: Vec<i16> = classi
                .iter()
                .filter_map(|c| match c.as_str() {
                    "https://www.spid.gov.it/SpidL1" => Some(1),
                    "https://www.spid.gov.it/SpidL2" => Some(2),
                    "https://www.spid.gov.it/SpidL3" => Some(3),
                    _ => None,
                })
                .collect();
            match (
                livelli.iter().min().copied(),
                r.get_attribute("Comparison").as_deref(),
            ) {
                (None, _) => {
                    non_supportato = Some(format!("AuthnContextClassRef {}", classi.join(" ")));
                    1
                }
                (Some(m), None | Some("exact") | Some("minimum")) => m,
                (Some(m), Some("better")) => m + 1,
                // "maximum": the weakest level satisfies it.
                (Some(_), Some("maximum")) => 1,
                (Some(_), Some(c)) => return Err(malformata(format!("Comparison {c}"))),
            }
        }
    };
    if livello > 2 {
        non_supportato = Some(format!("SpidL{livello}"));
    }
    let livello = livello.min(2);
    let firmata_xml = radice
        .get_child_elements()
        .iter()
        .any(|c| c.get_name() == "Signature");
    Ok(AuthnRequest {
        id,
        issuer,
        issue_instant,
        destination: radice.get_attribute("Destination"),
        acs_url: radice.get_attribute("AssertionConsumerServiceURL"),
        force_authn: matches!(
            radice.get_attribute("ForceAuthn").as_deref().map(str::trim),
            Some("true") | Some("1")
        ),
        livello,
        firmata_xml,
        non_supportato,
    })
}

/// The raw value of `nome` in a query string, as sent (still percent-encoded).
fn parametro_grezzo<'a>(query: &'a str, nome: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == nome)
        .map(|(_, v)| v)
}

fn decodifica_url(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Checks the signature of the Redirect binding (SAML bindings §3.4.4.1): over
/// `SAMLRequest=…[&RelayState=…]&SigAlg=…` as sent, with RSA-SHA256/384/512 or ECDSA-SHA256.
/// `Ok(false)` when the request carries no signature.
pub fn verifica_redirect(query: &str, certificati: &[String]) -> Result<bool, ErroreRichiesta> {
    let (Some(sig_alg), Some(firma)) = (
        parametro_grezzo(query, "SigAlg"),
        parametro_grezzo(query, "Signature"),
    ) else {
        return Ok(false);
    };
    let req = parametro_grezzo(query, "SAMLRequest").ok_or_else(|| malformata("no SAMLRequest"))?;
    let mut firmato = format!("SAMLRequest={req}");
    if let Some(r) = parametro_grezzo(query, "RelayState") {
        firmato.push_str("&RelayState=");
        firmato.push_str(r);
    }
    firmato.push_str("&SigAlg=");
    firmato.push_str(sig_alg);
    let digest = match decodifica_url(sig_alg).as_str() {
        firma::RSA_SHA256 | firma::ECDSA_SHA256 => MessageDigest::sha256(),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => MessageDigest::sha384(),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => MessageDigest::sha512(),
        a => {
            return Err(ErroreRichiesta::FirmaNonValida(format!(
                "SigAlg {a} not accepted"
            )))
        }
    };
    let pulita: String = decodifica_url(firma).split_whitespace().collect();
    let firma = openssl::base64::decode_block(&pulita)
        .map_err(|_| ErroreRichiesta::FirmaNonValida("Signature is not base64".into()))?;
    for pem in certificati {
        let Ok(cert) = openssl::x509::X509::from_pem(pem.as_bytes()) else {
            continue;
        };
        let Ok(chiave) = cert.public_key() else {
            continue;
        };
        let Ok(mut v) = openssl::sign::Verifier::new(digest, &chiave) else {
            continue;
        };
        if v.update(firmato.as_bytes()).is_ok() && v.verify(&firma).unwrap_or(false) {
            return Ok(true);
        }
    }
    Err(ErroreRichiesta::FirmaNonValida(
        "no registered certificate verifies it".into(),
    ))
}

/// What the SP registered, against which a request is checked.
pub struct Registrazione<'a> {
    pub acs_url: &'a str,
    pub certificati: &'a [String],
    pub richieste_firmate: bool,
}

/// The checks that need the SP's registration: signature (mandatory when the SP must sign),
/// ACS, Destination, IssueInstant within `tolleranza` of `ora`. The replay check is the
/// database's (one ID per SP).
pub fn controlla(
    req: &AuthnRequest,
    xml: &[u8],
    trasporto: &Trasporto<'_>,
    reg: &Registrazione<'_>,
    url_sso: &str,
    ora: DateTime<Utc>,
    tolleranza: chrono::Duration,
) -> Result<(), ErroreRichiesta> {
    let firmata = match trasporto {
        Trasporto::Redirect { query } => verifica_redirect(query, reg.certificati)?,
        Trasporto::Post if req.firmata_xml => {
            let v = firma::verifica(xml, reg.certificati).map_err(|e| match e {
                firma::ErroreFirma::Assente => ErroreRichiesta::FirmaAssente,
                e => ErroreRichiesta::FirmaNonValida(e.to_string()),
            })?;
            if v.id != req.id {
                return Err(ErroreRichiesta::FirmaNonValida(
                    "signed element is not the request".into(),
                ));
            }
            true
        }
        Trasporto::Post => false,
    };
    if reg.richieste_firmate && !firmata {
        return Err(ErroreRichiesta::FirmaAssente);
    }
    if let Some(acs) = &req.acs_url {
        if acs != reg.acs_url {
            return Err(ErroreRichiesta::AcsNonValido(acs.clone()));
        }
    }
    if let Some(d) = &req.destination {
        if d != url_sso {
            return Err(malformata(format!("Destination {d} is not {url_sso}")));
        }
    }
    if (req.issue_instant - ora).abs() > tolleranza {
        return Err(ErroreRichiesta::Scaduta(
            req.issue_instant.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ));
    }
    if let Some(n) = &req.non_supportato {
        return Err(ErroreRichiesta::NonSupportata(n.clone()));
    }
    Ok(())
}

#[cfg(test)]
#[path = "richiesta_tests.rs"]
mod tests;
