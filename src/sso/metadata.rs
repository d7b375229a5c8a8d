//! The IdP's SAML metadata (`GET /sso/metadata`), signed: entityID, the SSO endpoint in both
//! bindings, `WantAuthnRequestsSigned`, one signing `KeyDescriptor` per certificate in force
//! (two during a key rollover), the transient NameID format and the attributes it releases.

use super::{firma, risposta, Idp, BINDING_POST, BINDING_REDIRECT, NS_ASSERTION, NS_METADATA};
use quick_xml::escape::escape;

fn chiave(b64: &str) -> String {
    format!(
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{}\"><ds:X509Data>\
         <ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
        firma::DSIG_NS
    )
}

/// The signed metadata document.
pub fn documento(idp: &Idp) -> Result<String, firma::ErroreFirma> {
    let id = risposta::nuovo_id();
    let sso = escape(idp.url(super::PERCORSO_SSO)).into_owned();
    let mut chiavi = chiave(&idp.chiave.certificato_b64);
    if let Some(s) = &idp.successivo {
        chiavi.push_str(&chiave(s));
    }
    let attributi: String = risposta::ATTRIBUTI
        .iter()
        .map(|(nome, descrizione)| {
            format!(
                "<saml:Attribute Name=\"{nome}\" FriendlyName=\"{}\" \
                 NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\"/>",
                escape(*descrizione)
            )
        })
        .collect();
    let xml = format!(
        "<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" xmlns:saml=\"{NS_ASSERTION}\" \
         ID=\"{id}\" entityID=\"{entity}\" cacheDuration=\"PT1H\">{firma}\
         <md:IDPSSODescriptor WantAuthnRequestsSigned=\"true\" \
         protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{chiavi}\
         <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>\
         <md:SingleSignOnService Binding=\"{BINDING_REDIRECT}\" Location=\"{sso}\"/>\
         <md:SingleSignOnService Binding=\"{BINDING_POST}\" Location=\"{sso}\"/>\
         {attributi}</md:IDPSSODescriptor>\
         <md:Organization><md:OrganizationName xml:lang=\"it\">Sistema Tessera Sanitaria (tsgate)</md:OrganizationName>\
         <md:OrganizationDisplayName xml:lang=\"it\">Sistema TS</md:OrganizationDisplayName>\
         <md:OrganizationURL xml:lang=\"it\">{base}</md:OrganizationURL></md:Organization>\
         </md:EntityDescriptor>",
        entity = escape(&idp.entity_id),
        firma = firma::modello(&id, &idp.chiave),
        base = escape(idp.url("/")),
    );
    firma::firma(&xml, &idp.chiave)
}
