//! The Responses tsgate sends to a service provider's AssertionConsumerService (HTTP-POST
//! binding), in the shape the SPID technical rules ask for: the Response and its Assertion
//! both signed; a transient NameID qualified by the IdP; a bearer SubjectConfirmation with
//! Recipient, NotOnOrAfter and InResponseTo; Conditions with a backdated NotBefore and the SP
//! as the only Audience; the SpidL level of the login; the operator's attributes. An error
//! Response carries a status and a message, never an Assertion.

use super::{classe_livello, firma, Idp, NS_ASSERTION, NS_PROTOCOL};
use chrono::{DateTime, Duration, Utc};
use quick_xml::escape::escape;

pub const STATO_SUCCESSO: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATO_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
pub const STATO_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const STATO_AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
pub const STATO_REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
pub const STATO_REQUEST_UNSUPPORTED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported";
pub const STATO_NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
const ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

/// The attributes of an Assertion: SAML name, description (for the metadata and docs/portal.md).
pub const ATTRIBUTI: &[(&str, &str)] = &[
    (
        "fiscalNumber",
        "Codice fiscale dell'operatore con prefisso TINIT- (come SPID)",
    ),
    ("codiceFiscale", "Codice fiscale dell'operatore"),
    ("name", "Nome"),
    ("familyName", "Cognome"),
    (
        "tipoOperatore",
        "Tipo di operatore (codice della tabella tipo_operatore)",
    ),
    (
        "codiceRegione",
        "Regione scelta per la sessione (anche virtuale, es. 300)",
    ),
    (
        "codiceAsl",
        "ASL scelta per la sessione (assente per una regione virtuale)",
    ),
];

/// Who is sent on, and where to.
#[derive(Debug, Clone)]
pub struct Operatore {
    pub codice_fiscale: String,
    pub nome: String,
    pub cognome: String,
    pub tipo_operatore: String,
    pub codice_regione: String,
    pub codice_asl: Option<String>,
    /// The SpidL level of the login (1 credentials, 2 CNS smart card).
    pub livello: i16,
    pub autenticato_il: DateTime<Utc>,
}

/// The SP the Response is for.
#[derive(Debug, Clone)]
pub struct Destinatario {
    pub sp_entity_id: String,
    pub acs_url: String,
    /// The AuthnRequest's ID (SP-initiated), or none (IdP-initiated).
    pub in_response_to: Option<String>,
}

/// A fresh SAML ID: `_` and 160 random bits in hex (an NCName, as xs:ID wants).
pub fn nuovo_id() -> String {
    let t = crate::portal::sessione::token_casuale();
    format!("_{}", &t[..40])
}

fn istante(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn in_risposta(dest: &Destinatario) -> String {
    dest.in_response_to
        .as_deref()
        .map(|id| format!(" InResponseTo=\"{}\"", escape(id)))
        .unwrap_or_default()
}

fn attributo(nome: &str, valore: &str) -> String {
    format!(
        "<saml:Attribute Name=\"{nome}\" NameFormat=\"{BASIC}\">\
         <saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>",
        escape(valore)
    )
}

/// The signed Response with the operator's Assertion; returns (Response ID, XML).
pub fn successo(
    idp: &Idp,
    dest: &Destinatario,
    op: &Operatore,
    ora: DateTime<Utc>,
) -> Result<(String, String), firma::ErroreFirma> {
    let (id_risposta, id_asserzione) = (nuovo_id(), nuovo_id());
    let validita = Duration::seconds(i64::try_from(idp.cfg.validita_secs).unwrap_or(300));
    let retro = Duration::seconds(i64::try_from(idp.cfg.retrodatazione_secs).unwrap_or(60));
    let emittente = escape(&idp.entity_id);
    let acs = escape(&dest.acs_url);
    let audience = escape(&dest.sp_entity_id);
    let mut attributi = vec![
        attributo("fiscalNumber", &format!("TINIT-{}", op.codice_fiscale)),
        attributo("codiceFiscale", &op.codice_fiscale),
        attributo("name", &op.nome),
        attributo("familyName", &op.cognome),
        attributo("tipoOperatore", &op.tipo_operatore),
        attributo("codiceRegione", &op.codice_regione),
    ];
    if let Some(a) = &op.codice_asl {
        attributi.push(attributo("codiceAsl", a));
    }
    let xml = format!(
        "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" \
         ID=\"{id_risposta}\" Version=\"2.0\" IssueInstant=\"{ora_s}\" Destination=\"{acs}\"{irt}>\
         <saml:Issuer Format=\"{ENTITY}\">{emittente}</saml:Issuer>{firma_r}\
         <samlp:Status><samlp:StatusCode Value=\"{STATO_SUCCESSO}\"/></samlp:Status>\
         <saml:Assertion ID=\"{id_asserzione}\" Version=\"2.0\" IssueInstant=\"{ora_s}\">\
         <saml:Issuer Format=\"{ENTITY}\">{emittente}</saml:Issuer>{firma_a}\
         <saml:Subject><saml:NameID Format=\"{TRANSIENT}\" NameQualifier=\"{emittente}\">{nameid}</saml:NameID>\
         <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
         <saml:SubjectConfirmationData Recipient=\"{acs}\" NotOnOrAfter=\"{fino}\"{irt}/>\
         </saml:SubjectConfirmation></saml:Subject>\
         <saml:Conditions NotBefore=\"{da}\" NotOnOrAfter=\"{fino}\">\
         <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>\
         </saml:Conditions>\
         <saml:AuthnStatement AuthnInstant=\"{autenticato}\" SessionIndex=\"{sessione}\">\
         <saml:AuthnContext><saml:AuthnContextClassRef>{classe}</saml:AuthnContextClassRef></saml:AuthnContext>\
         </saml:AuthnStatement>\
         <saml:AttributeStatement>{attributi}</saml:AttributeStatement>\
         </saml:Assertion></samlp:Response>",
        ora_s = istante(ora),
        irt = in_risposta(dest),
        firma_r = firma::modello(&id_risposta, &idp.chiave),
        firma_a = firma::modello(&id_asserzione, &idp.chiave),
        nameid = nuovo_id(),
        fino = istante(ora + validita),
        da = istante(ora - retro),
        autenticato = istante(op.autenticato_il.min(ora)),
        sessione = nuovo_id(),
        classe = classe_livello(op.livello),
        attributi = attributi.concat(),
    );
    Ok((id_risposta.clone(), firma::firma(&xml, &idp.chiave)?))
}

/// A signed error Response: top-level `stato` (Requester or Responder), an optional
/// second-level code, and an Italian `messaggio`; no Assertion.
pub fn errore(
    idp: &Idp,
    dest: &Destinatario,
    stato: &str,
    secondo: Option<&str>,
    messaggio: &str,
    ora: DateTime<Utc>,
) -> Result<(String, String), firma::ErroreFirma> {
    let id = nuovo_id();
    let interno = secondo
        .map(|s| format!("<samlp:StatusCode Value=\"{s}\"/>"))
        .unwrap_or_default();
    let xml = format!(
        "<samlp:Response xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" \
         ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{ora_s}\" Destination=\"{acs}\"{irt}>\
         <saml:Issuer Format=\"{ENTITY}\">{emittente}</saml:Issuer>{firma_r}\
         <samlp:Status><samlp:StatusCode Value=\"{stato}\">{interno}</samlp:StatusCode>\
         <samlp:StatusMessage>{msg}</samlp:StatusMessage></samlp:Status></samlp:Response>",
        ora_s = istante(ora),
        acs = escape(&dest.acs_url),
        irt = in_risposta(dest),
        emittente = escape(&idp.entity_id),
        firma_r = firma::modello(&id, &idp.chiave),
        msg = escape(messaggio),
    );
    Ok((id.clone(), firma::firma(&xml, &idp.chiave)?))
}

#[cfg(test)]
#[path = "risposta_tests.rs"]
mod tests;
