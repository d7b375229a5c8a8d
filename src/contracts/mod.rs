//! The message types of every operation, generated at build time from `xsd/*.xsd` by
//! `codegen/` (see `build.rs`), and the runtime support they use: the `Validate` trait for the
//! facets yaserde does not check, and the XML entry points.
//!
//! Mapping: a required single element is a `T` (a required string that is empty counts as
//! missing), `minOccurs="0"` an `Option<T>`, `maxOccurs` above 1 a `Vec<T>`; simple types are
//! `String`s holding the lexical value, checked by `validate_<type>` functions.

include!(concat!(env!("OUT_DIR"), "/contracts.rs"));

/// The facet a value broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Required,
    MinOccurs,
    MaxOccurs,
    Length,
    MinLength,
    MaxLength,
    Pattern,
    Enumeration,
    Range,
    /// The lexical form of a built-in type (xs:date, xs:int, ...).
    Lexical,
}

/// The first facet violation found, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetViolation {
    /// XML path of the value, e.g. `codiceFiscale` or `listaMessaggi/messaggio[2]/codice`.
    pub field: String,
    pub facet: Facet,
    /// A short English explanation, for logs.
    pub detail: String,
}

impl FacetViolation {
    pub fn new(field: &str, facet: Facet, detail: String) -> Self {
        Self {
            field: field.to_owned(),
            facet,
            detail,
        }
    }

    /// The same violation seen from the enclosing element `parent`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = format!("{parent}/{}", self.field);
        self
    }
}

/// Facet validation of a generated type.
pub trait Validate {
    fn validate(&self) -> Result<(), FacetViolation>;
}

/// Deserializes a standalone element (the Body child handed on by the envelope scanner).
pub fn from_xml<T: yaserde::YaDeserialize>(xml: &str) -> Result<T, String> {
    yaserde::de::from_str(xml).map_err(|e| e.to_string())
}

/// Serializes an element without XML declaration, for embedding in a SOAP Body.
pub fn to_xml<T: yaserde::YaSerialize>(value: &T) -> Result<String, String> {
    let config = yaserde::ser::Config {
        perform_indent: false,
        write_document_declaration: false,
        indent_string: None,
    };
    yaserde::ser::to_string_with_config(value, &config).map_err(|e| e.to_string())
}

/// Checks used by the generated validators.
pub mod support {
    use super::{Facet, FacetViolation};
    use chrono::{DateTime, NaiveDate, NaiveDateTime};

    type Check = Result<(), (Facet, String)>;

    pub fn required(value: &str, field: &str) -> Result<(), FacetViolation> {
        if value.is_empty() {
            return Err(FacetViolation::new(
                field,
                Facet::Required,
                "required element missing or empty".into(),
            ));
        }
        Ok(())
    }

    pub fn occurs(n: usize, min: u32, max: Option<u32>, field: &str) -> Result<(), FacetViolation> {
        if n < min as usize {
            return Err(FacetViolation::new(
                field,
                Facet::MinOccurs,
                format!("{n} occurrences, at least {min}"),
            ));
        }
        if let Some(max) = max {
            if n > max as usize {
                return Err(FacetViolation::new(
                    field,
                    Facet::MaxOccurs,
                    format!("{n} occurrences, at most {max}"),
                ));
            }
        }
        Ok(())
    }

    /// Lengths in characters, as XSD counts them.
    pub fn length(
        value: &str,
        exact: Option<usize>,
        min: Option<usize>,
        max: Option<usize>,
    ) -> Check {
        let n = value.chars().count();
        if exact.is_some_and(|e| n != e) {
            return Err((
                Facet::Length,
                format!("length {n}, expected {}", exact.unwrap_or(0)),
            ));
        }
        if min.is_some_and(|m| n < m) {
            return Err((Facet::MinLength, format!("length {n} below the minimum")));
        }
        if max.is_some_and(|m| n > m) {
            return Err((Facet::MaxLength, format!("length {n} above the maximum")));
        }
        Ok(())
    }

    pub fn one_of(value: &str, allowed: &[&str]) -> Check {
        if allowed.contains(&value) {
            Ok(())
        } else {
            Err((Facet::Enumeration, format!("not one of {allowed:?}")))
        }
    }

    pub fn range(value: &str, min: Option<&str>, max: Option<&str>) -> Check {
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|_| (Facet::Lexical, "not a number".to_owned()))?;
        let bound = |b: Option<&str>| b.and_then(|b| b.parse::<f64>().ok());
        if bound(min).is_some_and(|m| v < m) || bound(max).is_some_and(|m| v > m) {
            return Err((Facet::Range, "out of range".into()));
        }
        Ok(())
    }

    /// The lexical space of the built-in types our schemas use.
    pub fn builtin(kind: &str, value: &str) -> Check {
        let ok = match kind {
            "date" => NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
            "dateTime" => {
                DateTime::parse_from_rfc3339(value).is_ok()
                    || NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            }
            "int" => value.trim().parse::<i32>().is_ok(),
            "short" => value.trim().parse::<i16>().is_ok(),
            "long" => value.trim().parse::<i64>().is_ok(),
            "integer" => value.trim().parse::<i128>().is_ok(),
            "decimal" => {
                let v = value.trim().trim_start_matches(['+', '-']);
                !v.is_empty()
                    && v.chars().all(|c| c.is_ascii_digit() || c == '.')
                    && v.matches('.').count() <= 1
            }
            "boolean" => matches!(value.trim(), "true" | "false" | "1" | "0"),
            "base64Binary" => value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/= \r\n\t".contains(&b)),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err((Facet::Lexical, format!("not a valid xs:{kind}")))
        }
    }
}

#[cfg(test)]
mod tests;
