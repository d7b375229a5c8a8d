//! A service provider's SAML 2.0 metadata (`md:EntityDescriptor` with an `md:SPSSODescriptor`,
//! or an `md:EntitiesDescriptor` holding exactly one SP), read for its enrolment: the entity
//! id, the HTTP-POST AssertionConsumerService, the signing certificates and
//! `AuthnRequestsSigned`. The document passes the XML safety scan before libxml2 sees it; its
//! own XML signature, if any, is not checked (the operator vouches for the file).

use super::{firma, BINDING_POST, NS_METADATA, NS_PROTOCOL};
use crate::soap::envelope::{scan_document, XmlLimits};
use libxml::parser::{Parser, ParserOptions};
use libxml::tree::Node;

/// Largest metadata document accepted, in bytes.
pub const MASSIMO_XML: usize = 1024 * 1024;

/// What the enrolment needs from an SP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadatiSp {
    pub entity_id: String,
    /// The `Location` of the chosen HTTP-POST AssertionConsumerService (not checked here).
    pub acs_url: String,
    /// The signing certificates, as PEM text, in document order.
    pub certificati: Vec<String>,
    /// `AuthnRequestsSigned` as written; `None` when absent (the spec's default is false, our
    /// policy's is to require signed requests: the caller decides).
    pub richieste_firmate: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreMetadati {
    #[error("metadata larger than {MASSIMO_XML} bytes")]
    TroppoGrande,
    /// The XML safety scan refused the document (DOCTYPE, entities, limits, not well-formed).
    #[error("unsafe or malformed XML: {0}")]
    Xml(String),
    #[error("missing {0}")]
    Mancante(String),
    #[error("{0}")]
    NonValido(String),
}

/// Metadata is larger than a SAML message: an SPID SP lists tens of attribute services.
fn limiti() -> XmlLimits {
    XmlLimits {
        max_depth: 32,
        max_attributes: 64,
        max_children: 10_000,
        max_attribute_len: 16 * 1024,
    }
}

fn in_md(n: &Node, nome: &str) -> bool {
    in_ns(n, NS_METADATA, nome)
}

fn in_ns(n: &Node, ns: &str, nome: &str) -> bool {
    n.get_name() == nome && n.get_namespace().is_some_and(|x| x.get_href() == ns)
}

fn figli<'a>(n: &'a Node, ns: &'a str, nome: &'a str) -> impl Iterator<Item = Node> + 'a {
    n.get_child_elements()
        .into_iter()
        .filter(move |c| in_ns(c, ns, nome))
}

fn booleano(v: &str, nome: &str) -> Result<bool, ErroreMetadati> {
    match v.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        x => Err(ErroreMetadati::NonValido(format!(
            "{nome}=\"{x}\" is not an xs:boolean"
        ))),
    }
}

/// Reads an SP's metadata; see the module documentation.
pub fn leggi(xml: &[u8]) -> Result<MetadatiSp, ErroreMetadati> {
    if xml.len() > MASSIMO_XML {
        return Err(ErroreMetadati::TroppoGrande);
    }
    scan_document(xml, &limiti()).map_err(|e| ErroreMetadati::Xml(e.to_string()))?;
    let opzioni = ParserOptions {
        no_net: true,
        no_error: true,
        no_warning: true,
        ..ParserOptions::default()
    };
    let doc = Parser::default()
        .parse_string_with_options(xml, opzioni)
        .map_err(|_| ErroreMetadati::Xml("not well-formed XML".into()))?;
    let radice = doc
        .get_root_element()
        .ok_or_else(|| ErroreMetadati::Mancante("root element".into()))?;
    let entita = if in_md(&radice, "EntityDescriptor") {
        radice
    } else if in_md(&radice, "EntitiesDescriptor") {
        let mut sp = Vec::new();
        raccogli_sp(&radice, &mut sp);
        match sp.len() {
            1 => sp.remove(0),
            0 => {
                return Err(ErroreMetadati::Mancante(
                    "md:EntityDescriptor with an md:SPSSODescriptor in md:EntitiesDescriptor"
                        .into(),
                ))
            }
            n => {
                return Err(ErroreMetadati::NonValido(format!(
                    "md:EntitiesDescriptor holds {n} service providers: name a file with one"
                )))
            }
        }
    } else {
        return Err(ErroreMetadati::NonValido(format!(
            "the root element is {} (namespace {}), not md:EntityDescriptor or \
             md:EntitiesDescriptor ({NS_METADATA})",
            radice.get_name(),
            radice
                .get_namespace()
                .map(|n| n.get_href())
                .unwrap_or_else(|| "none".into())
        )));
    };
    entita_sp(&entita)
}

/// The EntityDescriptors with an SP role under an EntitiesDescriptor (nested ones included).
fn raccogli_sp(n: &Node, out: &mut Vec<Node>) {
    for c in n.get_child_elements() {
        if in_md(&c, "EntitiesDescriptor") {
            raccogli_sp(&c, out);
        } else if in_md(&c, "EntityDescriptor")
            && figli(&c, NS_METADATA, "SPSSODescriptor").next().is_some()
        {
            out.push(c);
        }
    }
}

fn entita_sp(e: &Node) -> Result<MetadatiSp, ErroreMetadati> {
    let entity_id = e
        .get_attribute("entityID")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ErroreMetadati::Mancante("entityID on md:EntityDescriptor".into()))?;
    if entity_id.len() > 1024 {
        return Err(ErroreMetadati::NonValido(
            "entityID longer than 1024 characters".into(),
        ));
    }
    let sp = figli(e, NS_METADATA, "SPSSODescriptor")
        .find(|s| {
            s.get_attribute("protocolSupportEnumeration")
                .is_some_and(|p| p.split_whitespace().any(|x| x == NS_PROTOCOL))
        })
        .ok_or_else(|| {
            ErroreMetadati::Mancante(format!(
                "md:SPSSODescriptor with protocolSupportEnumeration {NS_PROTOCOL} in the \
                 EntityDescriptor of {entity_id}"
            ))
        })?;
    let richieste_firmate = sp
        .get_attribute("AuthnRequestsSigned")
        .map(|v| booleano(&v, "AuthnRequestsSigned"))
        .transpose()?;
    Ok(MetadatiSp {
        acs_url: acs(&sp)?,
        certificati: certificati(&sp)?,
        entity_id,
        richieste_firmate,
    })
}

/// The HTTP-POST AssertionConsumerService: `isDefault="true"`, else the lowest `index`, else
/// the first.
fn acs(sp: &Node) -> Result<String, ErroreMetadati> {
    let mut candidati = Vec::new();
    for (pos, a) in figli(sp, NS_METADATA, "AssertionConsumerService").enumerate() {
        if a.get_attribute("Binding").as_deref().map(str::trim) != Some(BINDING_POST) {
            continue;
        }
        let location = a
            .get_attribute("Location")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ErroreMetadati::Mancante(format!(
                    "Location on md:AssertionConsumerService number {}",
                    pos + 1
                ))
            })?;
        let predefinito = a
            .get_attribute("isDefault")
            .map(|v| booleano(&v, "isDefault"))
            .transpose()?
            .unwrap_or(false);
        let indice = a
            .get_attribute("index")
            .map(|v| {
                v.trim().parse::<u16>().map_err(|_| {
                    ErroreMetadati::NonValido(format!(
                        "index=\"{v}\" on md:AssertionConsumerService is not an unsignedShort"
                    ))
                })
            })
            .transpose()?;
        candidati.push((predefinito, indice, location));
    }
    let scelto = match candidati.iter().position(|c| c.0) {
        Some(i) => Some(i),
        None => candidati
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.1.map(|x| (x, i)))
            .min()
            .map(|(_, i)| i)
            .or((!candidati.is_empty()).then_some(0)),
    };
    scelto.map(|i| candidati.swap_remove(i).2).ok_or_else(|| {
        ErroreMetadati::Mancante(format!(
            "md:AssertionConsumerService with Binding {BINDING_POST} in md:SPSSODescriptor"
        ))
    })
}

/// The certificates of the signing KeyDescriptors (`use="signing"` or no `use`), as PEM.
fn certificati(sp: &Node) -> Result<Vec<String>, ErroreMetadati> {
    let mut out = Vec::new();
    for k in figli(sp, NS_METADATA, "KeyDescriptor") {
        match k.get_attribute("use").as_deref().map(str::trim) {
            None | Some("signing") => {}
            Some(_) => continue,
        }
        for info in figli(&k, firma::DSIG_NS, "KeyInfo") {
            for dati in figli(&info, firma::DSIG_NS, "X509Data") {
                for c in figli(&dati, firma::DSIG_NS, "X509Certificate") {
                    out.push(pem(&c.get_content(), out.len() + 1)?);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(ErroreMetadati::Mancante(
            "ds:X509Certificate in a signing md:KeyDescriptor (use=\"signing\" or no use) of \
             md:SPSSODescriptor"
                .into(),
        ));
    }
    Ok(out)
}

fn pem(b64: &str, n: usize) -> Result<String, ErroreMetadati> {
    let pulito: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let errore = |m: String| ErroreMetadati::NonValido(format!("signing certificate {n}: {m}"));
    let der = openssl::base64::decode_block(&pulito)
        .map_err(|_| errore("ds:X509Certificate is not base64".into()))?;
    let cert = openssl::x509::X509::from_der(&der)
        .map_err(|e| errore(format!("not an X.509 certificate ({e})")))?;
    let pem = cert.to_pem().map_err(|e| errore(e.to_string()))?;
    String::from_utf8(pem).map_err(|e| errore(e.to_string()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A self-signed RSA-2048 certificate: (PEM, DER in base64).
    pub(crate) fn certificato_prova(cn: &str) -> (String, String) {
        let (_, x) = crate::sso::autofirmato(cn, 2048, 365).unwrap();
        let pem = String::from_utf8(x.to_pem().unwrap()).unwrap();
        (pem, openssl::base64::encode_block(&x.to_der().unwrap()))
    }

    /// An SPID-style SP metadata (as pysaml2 / spid-sp-test write it): signing and encryption
    /// keys, two POST ACSs and a Redirect one, SLO, attribute services, SPID extensions.
    pub(crate) fn metadati_spid(firma: &str, cifratura: &str, acs: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:spid="https://spid.gov.it/saml-extensions"
    entityID="https://lazio.example/sp" ID="_a3f1c0e2-6a4b-4d43-9d6e-1c2b3a4d5e6f">
  <md:Extensions>
    <spid:VATNumber>IT12345678901</spid:VATNumber>
    <spid:Public/>
  </md:Extensions>
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cifratura}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo>
        <ds:X509Data>
          <ds:X509Certificate>
{firma}
          </ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://lazio.example/slo"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://lazio.example/acs-redirect" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://lazio.example/acs-secondo" index="2"/>
    {acs}
    <md:AttributeConsumingService index="0">
      <md:ServiceName xml:lang="it">Vaccinazioni</md:ServiceName>
      <md:RequestedAttribute Name="fiscalNumber"/>
      <md:RequestedAttribute Name="name"/>
      <md:RequestedAttribute Name="familyName"/>
    </md:AttributeConsumingService>
  </md:SPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="it">Regione Lazio</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="it">Regione Lazio</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="it">https://lazio.example/</md:OrganizationURL>
  </md:Organization>
</md:EntityDescriptor>
"#
        )
    }

    const ACS_DEFAULT: &str = r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://lazio.example/acs" index="1" isDefault="true"/>"#;

    #[test]
    fn reads_an_spid_sp_metadata() {
        let (pem_firma, b64_firma) = certificato_prova("sp firma");
        let (_, b64_cifr) = certificato_prova("sp cifratura");
        // Wrapped base64, as most tools write it.
        let a_capo: String = b64_firma
            .as_bytes()
            .chunks(64)
            .map(|c| format!("            {}\n", String::from_utf8_lossy(c)))
            .collect();
        let xml = metadati_spid(&a_capo, &b64_cifr, ACS_DEFAULT);
        let m = leggi(xml.as_bytes()).unwrap();
        assert_eq!(m.entity_id, "https://lazio.example/sp");
        assert_eq!(m.acs_url, "https://lazio.example/acs");
        assert_eq!(m.certificati, vec![pem_firma]);
        assert_eq!(m.richieste_firmate, Some(true));
    }

    #[test]
    fn acs_choice_default_then_lowest_index_then_first() {
        let (_, b) = certificato_prova("sp");
        let xml = metadati_spid(
            &b,
            &b,
            r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://lazio.example/acs-uno" index="1"/>"#,
        );
        assert_eq!(
            leggi(xml.as_bytes()).unwrap().acs_url,
            "https://lazio.example/acs-uno"
        );
        // No index anywhere: the first POST one.
        let xml = xml.replace(" index=\"2\"", "").replace(" index=\"1\"", "");
        assert_eq!(
            leggi(xml.as_bytes()).unwrap().acs_url,
            "https://lazio.example/acs-secondo"
        );
        // Only a Redirect ACS: named as missing.
        let solo_redirect = metadati_spid(&b, &b, "").replace(
            r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://lazio.example/acs-secondo" index="2"/>"#,
            "",
        );
        let e = leggi(solo_redirect.as_bytes()).unwrap_err().to_string();
        assert!(
            e.contains("AssertionConsumerService with Binding") && e.contains("HTTP-POST"),
            "{e}"
        );
    }

    #[test]
    fn key_without_use_counts_as_signing_and_encryption_only_is_refused() {
        let (pem, b) = certificato_prova("sp");
        let xml = metadati_spid(&b, &b, ACS_DEFAULT);
        let senza_use = xml.replace(r#"<md:KeyDescriptor use="signing">"#, "<md:KeyDescriptor>");
        assert_eq!(leggi(senza_use.as_bytes()).unwrap().certificati, vec![pem]);
        let solo_cifratura = xml.replace(
            r#"<md:KeyDescriptor use="signing">"#,
            r#"<md:KeyDescriptor use="encryption">"#,
        );
        let e = leggi(solo_cifratura.as_bytes()).unwrap_err().to_string();
        assert!(
            e.contains("missing ds:X509Certificate in a signing md:KeyDescriptor"),
            "{e}"
        );
        let rotto = xml.replace(&b[10..40], "!!!!");
        let e = leggi(rotto.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("signing certificate 1"), "{e}");
    }

    #[test]
    fn authn_requests_signed_absent_false_and_invalid() {
        let (_, b) = certificato_prova("sp");
        let xml = metadati_spid(&b, &b, ACS_DEFAULT);
        let assente = xml.replace(r#"AuthnRequestsSigned="true" "#, "");
        assert_eq!(leggi(assente.as_bytes()).unwrap().richieste_firmate, None);
        let falso = xml.replace(
            r#"AuthnRequestsSigned="true""#,
            r#"AuthnRequestsSigned="false""#,
        );
        assert_eq!(
            leggi(falso.as_bytes()).unwrap().richieste_firmate,
            Some(false)
        );
        let strano = xml.replace(
            r#"AuthnRequestsSigned="true""#,
            r#"AuthnRequestsSigned="yes""#,
        );
        assert!(leggi(strano.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("AuthnRequestsSigned"));
    }

    #[test]
    fn entities_descriptor_with_exactly_one_sp() {
        let (_, b) = certificato_prova("sp");
        let uno = metadati_spid(&b, &b, ACS_DEFAULT);
        let corpo = uno.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let idp = r#"<md:EntityDescriptor entityID="https://idp.example"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>"#;
        let avvolto = |dentro: String| {
            format!(
                r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{dentro}</md:EntitiesDescriptor>"#
            )
        };
        let m = leggi(avvolto(format!("{idp}{corpo}")).as_bytes()).unwrap();
        assert_eq!(m.entity_id, "https://lazio.example/sp");
        let due = avvolto(format!(
            "{corpo}{}",
            corpo.replace("lazio.example/sp\"", "altro.example/sp\"")
        ));
        assert!(leggi(due.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("holds 2 service providers"));
        let nessuno = avvolto(idp.to_owned());
        assert!(leggi(nessuno.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("missing md:EntityDescriptor"));
    }

    #[test]
    fn unsafe_or_wrong_documents_are_refused() {
        let (_, b) = certificato_prova("sp");
        let xml = metadati_spid(&b, &b, ACS_DEFAULT);
        let dtd = xml.replace(
            "<md:EntityDescriptor ",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><md:EntityDescriptor ",
        );
        assert_eq!(
            leggi(dtd.as_bytes()).unwrap_err(),
            ErroreMetadati::Xml("DOCTYPE is not allowed".into())
        );
        assert!(matches!(
            leggi(b"<md:EntityDescriptor").unwrap_err(),
            ErroreMetadati::Xml(_)
        ));
        let e = leggi(b"<EntityDescriptor entityID=\"x\"/>")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not md:EntityDescriptor"), "{e}");
        let senza_id = xml.replace(r#"entityID="https://lazio.example/sp""#, "");
        assert!(leggi(senza_id.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("missing entityID"));
        let senza_sp = xml.replace("SPSSODescriptor", "IDPSSODescriptor");
        assert!(leggi(senza_sp.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("missing md:SPSSODescriptor"));
    }
}
