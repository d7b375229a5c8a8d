//! The model across schemas: the module name and prefix of each schema, and what a type
//! reference stands for (a built-in, a simple or a complex type). Read by every emitter.

use crate::model::*;
use crate::names::{prefix, snake};
use std::fmt::Write;

/// The built-in types we map, with the variant of `contracts::validate::Builtin` that checks
/// their lexical space and the facets that make sense on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Text,
    Numeric,
    Date,
    Other,
}

pub fn builtin(name: &str) -> Option<(&'static str, Category)> {
    use Category::*;
    Some(match name {
        "string" => ("String", Text),
        "normalizedString" => ("NormalizedString", Text),
        "token" => ("Token", Text),
        "date" => ("Date", Date),
        "dateTime" => ("DateTime", Other),
        "time" => ("Time", Other),
        "boolean" => ("Boolean", Other),
        "base64Binary" => ("Base64Binary", Other),
        "decimal" => ("Decimal", Numeric),
        "integer" => ("Integer", Numeric),
        "nonNegativeInteger" => ("NonNegativeInteger", Numeric),
        "positiveInteger" => ("PositiveInteger", Numeric),
        "long" => ("Long", Numeric),
        "int" => ("Int", Numeric),
        "short" => ("Short", Numeric),
        _ => return None,
    })
}

/// What a type reference stands for.
pub enum Resolved<'a> {
    Builtin(&'static str, Category),
    Simple {
        module: &'a str,
        st: &'a SimpleType,
    },
    Complex {
        module: &'a str,
        ct: &'a ComplexType,
    },
}

/// All schemas, with the module name and namespace prefix given to each.
pub struct World<'a> {
    pub schemas: &'a [Schema],
    pub modules: Vec<String>,
    pub prefixes: Vec<String>,
}

impl<'a> World<'a> {
    pub fn new(schemas: &'a [Schema]) -> Result<Self, String> {
        let mut modules: Vec<String> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for (i, s) in schemas.iter().enumerate() {
            let m = snake(&s.stem);
            if modules.contains(&m) {
                return Err(format!(
                    "{}.xsd: module name `{m}` is taken by another file",
                    s.stem
                ));
            }
            if schemas[..i].iter().any(|o| o.target_ns == s.target_ns) {
                return Err(format!(
                    "{}.xsd: namespace {} is the target of another file",
                    s.stem, s.target_ns
                ));
            }
            modules.push(m);
            prefixes.push(prefix(&s.stem, &prefixes));
        }
        Ok(World {
            schemas,
            modules,
            prefixes,
        })
    }

    pub fn resolve(&self, t: &TypeName) -> Result<Resolved<'_>, String> {
        if t.ns == XS {
            let (variant, cat) = builtin(&t.name)
                .ok_or_else(|| format!("built-in type xs:{} is not supported", t.name))?;
            return Ok(Resolved::Builtin(variant, cat));
        }
        let i = self
            .schemas
            .iter()
            .position(|s| s.target_ns == t.ns)
            .ok_or_else(|| format!("no schema in xsd/ has the namespace of {t}"))?;
        let (s, module) = (&self.schemas[i], self.modules[i].as_str());
        if let Some(st) = s.simple.iter().find(|x| x.name == t.name) {
            return Ok(Resolved::Simple { module, st });
        }
        if let Some(ct) = s
            .complex
            .iter()
            .find(|c| c.type_name.as_deref() == Some(&t.name))
        {
            return Ok(Resolved::Complex { module, ct });
        }
        Err(format!("unknown type {t}"))
    }

    /// The built-in type at the bottom of a simple type's derivation chain.
    pub fn primitive(&self, st: &SimpleType) -> Result<(&'static str, Category), String> {
        let mut base = st.base.clone();
        for _ in 0..32 {
            match self.resolve(&base)? {
                Resolved::Builtin(v, c) => return Ok((v, c)),
                Resolved::Simple { st, .. } => base = st.base.clone(),
                Resolved::Complex { .. } => {
                    return Err(format!("{}: restricts complex type {base}", st.origin))
                }
            }
        }
        Err(format!(
            "{}: derivation chain too long (a cycle?)",
            st.origin
        ))
    }
}

/// A doc comment line, when the schema documents the item.
pub fn doc(out: &mut String, indent: &str, d: &Option<String>) {
    if let Some(d) = d {
        let _ = writeln!(out, "{indent}/// {d}");
    }
}

/// The validator function name of a simple type.
pub fn validator(st: &SimpleType) -> String {
    format!("validate_{}", snake(&st.name))
}
