//! What the generator understands of a schema.

pub const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// A qualified type name: namespace URI and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    pub ns: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Facets {
    pub length: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub patterns: Vec<String>,
    pub enumeration: Vec<String>,
    pub min_inclusive: Option<String>,
    pub max_inclusive: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SimpleType {
    pub name: String,
    pub base: TypeName,
    pub facets: Facets,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub enum FieldType {
    Named(TypeName),
    /// An anonymous complex type, generated as a struct of this name.
    Inline(Box<ComplexType>),
}

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
    /// XML name: the element's for top-level elements, the type's otherwise.
    pub xml_name: String,
    pub fields: Vec<Field>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub stem: String,
    pub target_ns: String,
    /// The prefix the schema itself binds to its target namespace, if any.
    pub self_prefix: Option<String>,
    pub simple: Vec<SimpleType>,
    /// Named complex types (by XML type name) and top-level elements.
    pub complex: Vec<ComplexType>,
    pub complex_names: Vec<String>,
}
