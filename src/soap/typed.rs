//! The typed body: yaserde decoding of the (already scanned) body element, then the facets of
//! the XSD that yaserde does not check. Any failure is a TSG-0301 fault naming the field.

use super::{Fault, FaultCode};
use crate::contracts::{self, Facet, FacetViolation, Refusal, Validate};

/// Decodes and validates a request element: its structure and every value as written, then
/// the values in canonical form (`contracts::from_xml`).
pub fn decode<T: yaserde::YaDeserialize + Validate>(xml: &str) -> Result<T, Fault> {
    contracts::from_xml(xml).map_err(|e| {
        tracing::debug!(error = %e, "body refused");
        let detail = match e {
            Refusal::Value(v) => describe(&v),
            // A missing required element reads "<path> is a required field ...".
            Refusal::Structure(e) => match e.split_once(" is a required field") {
                Some((field, _)) => format!("campo {}: obbligatorio e assente", xml_name(field)),
                None => "struttura della richiesta non riconosciuta".to_owned(),
            },
        };
        Fault::with_detail(FaultCode::SchemaViolation, detail)
    })
}

/// Encodes a response element; a response that would break its own schema is an internal error.
pub fn encode<T: yaserde::YaSerialize + Validate>(value: &T) -> Result<String, Fault> {
    if let Err(v) = value.validate() {
        tracing::error!(field = %v.field, facet = ?v.facet, "response violates its schema");
        return Err(Fault::new(FaultCode::Internal));
    }
    contracts::to_xml(value).map_err(|e| {
        tracing::error!(error = %e, "response not serializable");
        Fault::new(FaultCode::Internal)
    })
}

/// The text of the first element named `local` (any namespace), for the rare uses of a field of
/// a request that failed to decode. Entities are not expanded (the scanner refused them).
pub fn field_text(xml: &str, local: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == local => inside = true,
            Event::Text(t) if inside => return Some(t.xml10_content().trim().to_owned()),
            Event::End(_) if inside => return Some(String::new()),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// The XML name of a generated field (`codice_fiscale` -> `codiceFiscale`).
fn xml_name(rust_field: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in rust_field.trim_end_matches('_').chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// An Italian description of a facet violation, e.g. "campo codiceFiscale: formato non valido".
pub fn describe(v: &FacetViolation) -> String {
    let what = match v.facet {
        Facet::Required | Facet::MinOccurs => "obbligatorio e assente",
        Facet::MaxOccurs => "ripetuto oltre il numero massimo di occorrenze",
        Facet::Length | Facet::MinLength | Facet::MaxLength => "lunghezza non ammessa",
        Facet::Pattern => "formato non valido",
        Facet::Enumeration => "valore non previsto",
        Facet::Range => "valore fuori dall'intervallo ammesso",
        Facet::Lexical => {
            "valore non valido per il tipo dello schema (date AAAA-MM-GG con fuso orario \
             facoltativo, numeri interi, booleani true/false/1/0)"
        }
    };
    format!("campo {}: {}", v.field, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_read_from_an_undecodable_request() {
        let xml = r#"<v:R xmlns:v="urn:x"><v:codiceFiscale> RSSMRA60C15F205L </v:codiceFiscale><v:x/></v:R>"#;
        assert_eq!(
            field_text(xml, "codiceFiscale").as_deref(),
            Some("RSSMRA60C15F205L")
        );
        assert_eq!(field_text(xml, "numeroTessera"), None);
        assert_eq!(field_text("<a><b></b></a>", "b").as_deref(), Some(""));
    }

    #[test]
    fn field_names_go_back_to_xml() {
        assert_eq!(xml_name("codice_fiscale"), "codiceFiscale");
        assert_eq!(xml_name("type_"), "type");
        assert_eq!(xml_name("esito"), "esito");
    }
}
