//! XML signatures of SAML messages, made and checked by libxmlsec1 (the `xmlsec` crate over
//! libxml2): enveloped, exclusive canonicalisation, SHA-256 digest, RSA-SHA256 or ECDSA-SHA256.
//!
//! Signing fills the `<ds:Signature>` templates the message builder wrote (see
//! [`modello`]), innermost first, so the Response's signature covers the signed Assertion.
//! Verifying accepts only a signature that is a direct child of the document's root element,
//! with exactly one Reference to the root's own `ID` (no signature-wrapping), with the
//! algorithms above and nothing else (no XSLT, no XPath, no SHA-1), against the certificates
//! registered for the sender, never against a key the message carries.

use libxml::parser::{Parser, ParserOptions};
use libxml::tree::{Document, Node, SaveOptions};
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// libxmlsec1's error callback (`xmlsec/errors.h`, not in the crate's bindings).
type RichiamoErrori = Option<
    unsafe extern "C" fn(
        file: *const std::ffi::c_char,
        line: std::ffi::c_int,
        func: *const std::ffi::c_char,
        error_object: *const std::ffi::c_char,
        error_subject: *const std::ffi::c_char,
        reason: std::ffi::c_int,
        msg: *const std::ffi::c_char,
    ),
>;

extern "C" {
    fn xmlSecErrorsSetCallback(callback: RichiamoErrori);
}

/// libxmlsec1 reports each failed check (a wrong digest, a wrong signature: what any caller
/// can send) on stderr by default; they go to the log at debug level instead, since the
/// refusal itself is reported by the caller of [`verifica`].
fn errori_nel_log() {
    unsafe extern "C" fn al_log(
        _file: *const std::ffi::c_char,
        _line: std::ffi::c_int,
        func: *const std::ffi::c_char,
        _error_object: *const std::ffi::c_char,
        _error_subject: *const std::ffi::c_char,
        reason: std::ffi::c_int,
        msg: *const std::ffi::c_char,
    ) {
        let testo = |p: *const std::ffi::c_char| {
            if p.is_null() {
                String::new()
            } else {
                // SAFETY: libxmlsec1 passes NUL-terminated strings valid for the call.
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_string_lossy()
                    .into_owned()
            }
        };
        tracing::debug!(func = %testo(func), reason, msg = %testo(msg), "libxmlsec1");
    }
    static UNA_VOLTA: std::sync::Once = std::sync::Once::new();
    // The crate initialises libxmlsec1 on first use; the callback is set after that, once.
    UNA_VOLTA.call_once(|| {
        let _ = xmlsec::XmlSecSignatureContext::new();
        // SAFETY: a plain function pointer with the C signature libxmlsec1 declares.
        unsafe { xmlSecErrorsSetCallback(Some(al_log)) }
    });
}

#[derive(Debug, thiserror::Error)]
pub enum ErroreFirma {
    #[error("the key or certificate cannot be used: {0}")]
    Chiave(String),
    #[error("not well-formed XML")]
    Xml,
    #[error("no signature")]
    Assente,
    #[error("signature not acceptable: {0}")]
    NonAmmessa(String),
    #[error("signature does not verify")]
    NonValida,
    #[error("signing failed")]
    Firma,
}

/// The IdP's signing key and certificate (PEM), read once at start.
#[derive(Clone)]
pub struct ChiaveFirma {
    chiave_pem: Vec<u8>,
    /// The certificate's DER in base64, as `ds:X509Certificate` carries it.
    pub certificato_b64: String,
    pub certificato_pem: Vec<u8>,
    /// RSA-SHA256 or ECDSA-SHA256, after the key's type.
    pub algoritmo: &'static str,
}

impl std::fmt::Debug for ChiaveFirma {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChiaveFirma")
            .field("algoritmo", &self.algoritmo)
            .finish_non_exhaustive()
    }
}

impl ChiaveFirma {
    /// A key (PEM, PKCS#8 or traditional) and its certificate (PEM). RSA keys below 2048 bits
    /// are refused (SPID asks for at least 2048).
    pub fn da_pem(chiave_pem: &[u8], certificato_pem: &[u8]) -> Result<ChiaveFirma, ErroreFirma> {
        let e = |m: String| ErroreFirma::Chiave(m);
        let chiave = openssl::pkey::PKey::private_key_from_pem(chiave_pem)
            .map_err(|x| e(format!("private key: {x}")))?;
        let cert = openssl::x509::X509::from_pem(certificato_pem)
            .map_err(|x| e(format!("certificate: {x}")))?;
        let pubblica = cert.public_key().map_err(|x| e(x.to_string()))?;
        if !chiave.public_eq(&pubblica) {
            return Err(e("the certificate is not the key's".into()));
        }
        let algoritmo = match chiave.id() {
            openssl::pkey::Id::RSA if chiave.bits() >= 2048 => RSA_SHA256,
            openssl::pkey::Id::RSA => return Err(e("RSA key shorter than 2048 bits".into())),
            openssl::pkey::Id::EC => ECDSA_SHA256,
            _ => return Err(e("only RSA and EC keys are supported".into())),
        };
        let der = cert.to_der().map_err(|x| e(x.to_string()))?;
        Ok(ChiaveFirma {
            chiave_pem: chiave_pem.to_vec(),
            certificato_b64: openssl::base64::encode_block(&der),
            certificato_pem: certificato_pem.to_vec(),
            algoritmo,
        })
    }
}

/// A certificate (PEM) as `ds:X509Certificate` carries it: its DER in base64.
pub fn certificato_b64(pem: &[u8]) -> Result<String, ErroreFirma> {
    let cert = openssl::x509::X509::from_pem(pem)
        .map_err(|x| ErroreFirma::Chiave(format!("certificate: {x}")))?;
    let der = cert
        .to_der()
        .map_err(|x| ErroreFirma::Chiave(x.to_string()))?;
    Ok(openssl::base64::encode_block(&der))
}

/// The `<ds:Signature>` template of an enveloped signature over the element whose `ID` is
/// `id`; goes right after that element's `Issuer` (SAML's schema places it there).
pub fn modello(id: &str, chiave: &ChiaveFirma) -> String {
    format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <ds:SignatureMethod Algorithm=\"{alg}\"/>\
         <ds:Reference URI=\"#{id}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{ENVELOPED}\"/><ds:Transform Algorithm=\"{EXC_C14N}\"/>\
         </ds:Transforms><ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue></ds:DigestValue>\
         </ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>\
         <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
         </ds:Signature>",
        alg = chiave.algoritmo,
        cert = chiave.certificato_b64,
    )
}

fn analizza(xml: &[u8]) -> Result<Document, ErroreFirma> {
    errori_nel_log();
    let parser = Parser::default();
    let opzioni = ParserOptions {
        no_net: true,
        no_error: true,
        no_warning: true,
        ..ParserOptions::default()
    };
    parser
        .parse_string_with_options(xml, opzioni)
        .map_err(|_| ErroreFirma::Xml)
}

/// Registers every `ID` attribute as an XML ID, so `URI="#..."` finds its element; two
/// elements with the same ID make the document unacceptable.
fn registra_id(doc: &Document) -> Result<(), ErroreFirma> {
    doc.specify_idattr("//*[@ID]", "ID", None)
        .map_err(|e| ErroreFirma::NonAmmessa(format!("ID attributes: {e}")))
}

fn e_firma(n: &Node) -> bool {
    n.get_name() == "Signature" && n.get_namespace().is_some_and(|ns| ns.get_href() == DSIG_NS)
}

/// Every `ds:Signature` element, in document order.
fn firme(n: &Node, out: &mut Vec<Node>) {
    for c in n.get_child_elements() {
        if e_firma(&c) {
            out.push(c.clone());
        }
        firme(&c, out);
    }
}

fn serializza(doc: &Document) -> String {
    doc.to_string_with_options(SaveOptions {
        format: false,
        no_declaration: true,
        ..SaveOptions::default()
    })
}

/// Signs every signature template of `xml`, innermost (last) first; returns the document.
pub fn firma(xml: &str, chiave: &ChiaveFirma) -> Result<String, ErroreFirma> {
    let doc = analizza(xml.as_bytes())?;
    registra_id(&doc)?;
    let radice = doc.get_root_element().ok_or(ErroreFirma::Xml)?;
    let mut tutte = Vec::new();
    firme(&radice, &mut tutte);
    if tutte.is_empty() {
        return Err(ErroreFirma::Assente);
    }
    for nodo in tutte.iter().rev() {
        let key = XmlSecKey::from_memory(&chiave.chiave_pem, XmlSecKeyFormat::Pem, None)
            .map_err(|e| ErroreFirma::Chiave(e.to_string()))?;
        let mut ctx = XmlSecSignatureContext::new();
        ctx.insert_key(key);
        ctx.sign_node(nodo).map_err(|_| ErroreFirma::Firma)?;
    }
    Ok(serializza(&doc))
}

/// What a verified signature proved: the signed root's `ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verificata {
    pub id: String,
}

/// Whether the root element of `xml` carries a signature at all (a direct child).
pub fn ha_firma(xml: &[u8]) -> Result<bool, ErroreFirma> {
    let doc = analizza(xml)?;
    let radice = doc.get_root_element().ok_or(ErroreFirma::Xml)?;
    let presente = radice.get_child_elements().iter().any(e_firma);
    Ok(presente)
}

/// Verifies the enveloped signature of the root element of `xml` against any of
/// `certificati` (PEM); see the module documentation for what is accepted.
pub fn verifica(xml: &[u8], certificati: &[String]) -> Result<Verificata, ErroreFirma> {
    let doc = analizza(xml)?;
    registra_id(&doc)?;
    let radice = doc.get_root_element().ok_or(ErroreFirma::Xml)?;
    let id = radice
        .get_attribute("ID")
        .ok_or_else(|| ErroreFirma::NonAmmessa("the signed element has no ID".into()))?;
    let dirette: Vec<Node> = radice
        .get_child_elements()
        .into_iter()
        .filter(e_firma)
        .collect();
    let nodo = match dirette.as_slice() {
        [] => return Err(ErroreFirma::Assente),
        [n] => n.clone(),
        _ => return Err(ErroreFirma::NonAmmessa("more than one signature".into())),
    };
    controlla_signed_info(&nodo, &id)?;
    for pem in certificati {
        let key = XmlSecKey::from_memory(pem.as_bytes(), XmlSecKeyFormat::CertPem, None)
            .map_err(|e| ErroreFirma::Chiave(e.to_string()))?;
        let mut ctx = XmlSecSignatureContext::new();
        ctx.insert_key(key);
        // Only same-document references, and only the transforms of a SAML signature.
        // SAFETY: the context is alive for the whole block and owned by `ctx`.
        unsafe {
            let p = ctx.as_ptr();
            (*p).enabledReferenceUris = xmlsec::bindings::xmlSecTransformUriTypeSameDocument as _;
            let riferimento = [
                xmlsec::bindings::xmlSecTransformEnvelopedGetKlass(),
                xmlsec::bindings::xmlSecTransformExclC14NGetKlass(),
                xmlsec::bindings::xmlSecOpenSSLTransformSha256GetKlass(),
            ];
            for t in riferimento {
                if xmlsec::bindings::xmlSecDSigCtxEnableReferenceTransform(p, t) < 0 {
                    return Err(ErroreFirma::Chiave("transform setup".into()));
                }
            }
            let firma = [
                xmlsec::bindings::xmlSecTransformExclC14NGetKlass(),
                xmlsec::bindings::xmlSecOpenSSLTransformRsaSha256GetKlass(),
                xmlsec::bindings::xmlSecOpenSSLTransformEcdsaSha256GetKlass(),
            ];
            for t in firma {
                if xmlsec::bindings::xmlSecDSigCtxEnableSignatureTransform(p, t) < 0 {
                    return Err(ErroreFirma::Chiave("transform setup".into()));
                }
            }
        }
        if let Ok(true) = ctx.verify_node(&nodo) {
            return Ok(Verificata { id });
        }
    }
    Err(ErroreFirma::NonValida)
}

/// One Reference, to the root's own ID, and the algorithms we accept (checked on the tree
/// before libxmlsec runs, so the refusal names what was wrong).
fn controlla_signed_info(firma: &Node, id: &str) -> Result<(), ErroreFirma> {
    let no = |m: &str| Err(ErroreFirma::NonAmmessa(m.into()));
    let figli = firma.get_child_elements();
    let Some(si) = figli.iter().find(|n| n.get_name() == "SignedInfo") else {
        return no("no SignedInfo");
    };
    let algoritmo = |n: &Node, nome: &str| {
        n.get_child_elements()
            .into_iter()
            .find(|c| c.get_name() == nome)
            .and_then(|c| c.get_attribute("Algorithm"))
    };
    if algoritmo(si, "CanonicalizationMethod").as_deref() != Some(EXC_C14N) {
        return no("canonicalisation other than exclusive c14n");
    }
    match algoritmo(si, "SignatureMethod").as_deref() {
        Some(RSA_SHA256) | Some(ECDSA_SHA256) => {}
        _ => return no("signature algorithm other than RSA-SHA256 or ECDSA-SHA256"),
    }
    let riferimenti: Vec<Node> = si
        .get_child_elements()
        .into_iter()
        .filter(|c| c.get_name() == "Reference")
        .collect();
    let [r] = riferimenti.as_slice() else {
        return no("not exactly one Reference");
    };
    if r.get_attribute("URI").as_deref() != Some(&format!("#{id}")) {
        return no("the Reference is not to the signed element");
    }
    if algoritmo(r, "DigestMethod").as_deref() != Some(SHA256) {
        return no("digest other than SHA-256");
    }
    Ok(())
}

#[cfg(test)]
#[path = "firma_tests.rs"]
mod tests;
