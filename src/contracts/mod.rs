//! The message types of every operation, generated at build time from `xsd/*.xsd` by
//! `codegen/` (see `build.rs`), and the runtime they use: the XML entry points `from_xml` /
//! `to_xml`, the content models `from_xml` enforces, and the facet checks (`Validate`).
//!
//! Generated API, per schema file `xsd/FooBar.xsd` a module `foo_bar` with `NAMESPACE`, a
//! `validate_<type>(&str)` per simple type, and per top-level element or complex type a struct
//! (`VerificaAssistitoFuoriRegioneRichiesta`, `MessaggioType`, inline types as
//! `<Parent><Element>`) with snake_case fields renamed to the XML names.
//!
//! Mapping: a required single element is a `T` (a required string that is empty counts as
//! missing), `minOccurs="0"` an `Option<T>`, `maxOccurs` above 1 a `Vec<T>`. Every simple
//! value (string, date, number, boolean, base64) is a `String` holding its lexical value.
//! `from_xml` judges each value as written (whitespace as the type's `whiteSpace` facet says,
//! then lexical space and facets: see `shape`); `normalize` then puts each value in the
//! canonical form the domain types parse: surrounding whitespace gone (also, for free text,
//! where the schema keeps it), a date with a time zone reduced to its calendar date as
//! written (`2028-01-31+01:00` and `2028-01-31Z` are 2028-01-31), integers without sign `+` or
//! leading zeros, booleans as `true`/`false`. `validate` checks a value built in code (the
//! responses) against the same facets.
//!
//! Encoding writes each namespace with a prefix made of the initials of its file name
//! (`vafr:`, `td:`), declared on the root (or on the element where another schema's type
//! starts), children qualified as `elementFormDefault="qualified"` asks.
//!
//! Decoding is strict where yaserde is lenient: yaserde ignores unknown, repeated and
//! misordered elements and never looks at the root's name, so `from_xml` first checks the
//! text against the generated content model (see `shape`).

mod shape;
pub mod validate;

pub use shape::{Content, Element, Particle, Refusal, WhiteSpace};

include!(concat!(env!("OUT_DIR"), "/contracts.rs"));

/// The facet a value broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    /// A required element is missing, or (strings) empty.
    Required,
    MinOccurs,
    MaxOccurs,
    Length,
    MinLength,
    MaxLength,
    Pattern,
    Enumeration,
    /// min/maxInclusive, min/maxExclusive.
    Range,
    /// The lexical form of a built-in type: xs:date as YYYY-MM-DD that is a real date,
    /// xs:dateTime, numbers, booleans, base64, and characters XML cannot carry.
    Lexical,
}

/// The first facet violation found, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetViolation {
    /// XML path of the value below the root, e.g. `codiceFiscale` or
    /// `listaMessaggi/messaggio[2]/codice` (1-based index on repeated elements).
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

impl std::fmt::Display for FacetViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}: {}", self.field, self.facet, self.detail)
    }
}

/// The facets of the XSD that yaserde does not check, implemented by every generated type.
pub trait Validate: Element {
    /// Returns the first violation in document order.
    fn validate(&self) -> Result<(), FacetViolation>;

    /// Puts every simple value in its canonical lexical form (see the module's doc).
    fn normalize(&mut self);
}

/// Decodes a standalone element (the Body child handed on by the envelope scanner, with the
/// namespace declarations in scope copied onto it), any prefix or a default namespace.
///
/// The text is first checked against the type's content model: root name and namespace,
/// child elements known, in order, within maxOccurs, required ones present; no stray text or
/// attributes; and each simple value as written against its type (`Refusal::Value`).
/// Structural errors read `<path>: <problem>`; a missing element reads
/// `<path> is a required field (...)`. The values decoded are then `normalize`d.
pub fn from_xml<T: yaserde::YaDeserialize + Validate>(xml: &str) -> Result<T, Refusal> {
    shape::check(xml, T::element())?;
    let mut value: T = yaserde::de::from_str(xml).map_err(|e| Refusal::Structure(e.to_string()))?;
    value.normalize();
    Ok(value)
}

/// Serializes an element without XML declaration or indentation, for embedding in a SOAP
/// Body; the namespace is declared on the element itself. It does not validate: call
/// `validate` first.
pub fn to_xml<T: yaserde::YaSerialize>(value: &T) -> Result<String, String> {
    let config = yaserde::ser::Config {
        perform_indent: false,
        write_document_declaration: false,
        indent_string: None,
    };
    yaserde::ser::to_string_with_config(value, &config).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
