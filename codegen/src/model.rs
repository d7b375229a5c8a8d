//! What the generator understands of a schema: the XSD subset, after parsing and before any
//! cross-schema resolution.

pub const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// A qualified type name: namespace URI and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    pub ns: String,
    pub name: String,
}

impl std::fmt::Display for TypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{}}}{}", self.ns, self.name)
    }
}

/// A bound of minInclusive/maxInclusive/minExclusive/maxExclusive.
#[derive(Debug, Clone)]
pub struct Bound {
    pub value: String,
    pub inclusive: bool,
}

/// The facets of one restriction step.
#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub length: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// Alternatives: a value must match one of them (XSD ORs the patterns of one step).
    pub patterns: Vec<String>,
    pub enumeration: Vec<String>,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
}

#[derive(Debug, Clone)]
pub struct SimpleType {
    /// The XML name, or a made-up one (`<Struct>_<field>`) for an anonymous type.
    pub name: String,
    /// Where it is declared, for messages.
    pub origin: String,
    pub base: TypeName,
    pub facets: Facets,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub enum FieldType {
    Named(TypeName),
    /// An anonymous complex type, generated as a struct of its own.
    InlineComplex(Box<ComplexType>),
    /// An anonymous simple type, generated as a validator function of its own.
    InlineSimple(Box<SimpleType>),
}

/// A child element of a sequence.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    pub min: u32,
    /// None = unbounded.
    pub max: Option<u32>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ComplexType {
    /// Rust struct name.
    pub rust_name: String,
    /// XML name the struct is written as: the element's for top-level elements, the type's
    /// for named types (only used when such a value is serialized on its own).
    pub xml_name: String,
    /// The type name, for named complex types.
    pub type_name: Option<String>,
    pub fields: Vec<Field>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    /// File stem, e.g. `TipiDati`.
    pub stem: String,
    pub target_ns: String,
    pub doc: Option<String>,
    pub simple: Vec<SimpleType>,
    /// Named complex types and top-level elements, in document order.
    pub complex: Vec<ComplexType>,
}
