//! A complex type -> a yaserde struct, its content model (checked by `contracts::from_xml`
//! before yaserde sees the text) and its `Validate` implementation.

use crate::emit_simple;
use crate::model::*;
use crate::names::snake;
use crate::world::{doc, validator, Resolved, World};
use std::fmt::Write;

/// How one field is typed and checked.
struct Plan {
    /// Rust type of one occurrence.
    rust: String,
    /// For simple values: the call that checks the value `{x}` (a `&String`).
    check: Option<String>,
    /// For complex values: the static that holds the content model.
    content: Option<String>,
    /// For simple values: the `contracts::validate::Builtin` variant at the bottom of the type.
    kind: Option<&'static str>,
}

/// The `whiteSpace` facet of a built-in (restrictions inherit it; the subset has no
/// `xs:whiteSpace` of its own).
fn whitespace(kind: &str) -> &'static str {
    match kind {
        "String" => "Preserve",
        "NormalizedString" => "Replace",
        _ => "Collapse",
    }
}

/// Whether `contracts::validate::canonical` changes values of this built-in.
fn has_canonical_form(kind: &str) -> bool {
    !matches!(
        kind,
        "String" | "NormalizedString" | "Token" | "Base64Binary"
    )
}

fn content_static(module: &str, rust_name: &str) -> String {
    format!(
        "super::{module}::{}_CONTENT",
        snake(rust_name).to_uppercase()
    )
}

fn plan(
    world: &World<'_>,
    module: &str,
    f: &Field,
    fns: &mut Vec<String>,
    out: &mut String,
) -> Result<Plan, String> {
    Ok(match &f.ty {
        FieldType::InlineComplex(inner) => Plan {
            rust: inner.rust_name.clone(),
            check: None,
            content: Some(content_static(module, &inner.rust_name)),
            kind: None,
        },
        FieldType::InlineSimple(st) => {
            emit_simple::simple(out, world, st, fns)?;
            Plan {
                rust: "String".into(),
                check: Some(format!("{}({{x}})", validator(st))),
                content: None,
                kind: Some(world.primitive(st)?.0),
            }
        }
        FieldType::Named(t) => match world.resolve(t)? {
            Resolved::Builtin(b, _) => Plan {
                rust: "String".into(),
                check: Some(format!("v::builtin(v::Builtin::{b}, {{x}})")),
                content: None,
                kind: Some(b),
            },
            Resolved::Simple { module, st } => Plan {
                rust: "String".into(),
                check: Some(format!("super::{module}::{}({{x}})", validator(st))),
                content: None,
                kind: Some(world.primitive(st)?.0),
            },
            Resolved::Complex { module, ct } => Plan {
                rust: format!("super::{module}::{}", ct.rust_name),
                check: None,
                content: Some(content_static(module, &ct.rust_name)),
                kind: None,
            },
        },
    })
}

/// Refuses a type that contains itself (its struct would need a `Box`).
fn recursion<'a>(
    world: &'a World<'_>,
    c: &'a ComplexType,
    path: &mut Vec<&'a str>,
) -> Result<(), String> {
    if path.contains(&c.rust_name.as_str()) {
        path.push(&c.rust_name);
        return Err(format!(
            "recursive types are not supported: {}",
            path.join(" -> ")
        ));
    }
    path.push(&c.rust_name);
    for f in &c.fields {
        match &f.ty {
            FieldType::InlineComplex(inner) => recursion(world, inner, path)?,
            FieldType::Named(t) => {
                if let Ok(Resolved::Complex { ct, .. }) = world.resolve(t) {
                    recursion(world, ct, path)?;
                }
            }
            FieldType::InlineSimple(_) => {}
        }
    }
    path.pop();
    Ok(())
}

/// Emits `c` and, first, the structs and validators of its inline types.
pub fn complex(
    out: &mut String,
    world: &World<'_>,
    i: usize,
    c: &ComplexType,
    structs: &mut Vec<String>,
    fns: &mut Vec<String>,
) -> Result<(), String> {
    let (module, prefix, ns) = (
        &world.modules[i],
        &world.prefixes[i],
        &world.schemas[i].target_ns,
    );
    recursion(world, c, &mut Vec::new())?;
    if structs.contains(&c.rust_name) {
        return Err(format!(
            "`{}`: struct name `{}` is taken",
            c.xml_name, c.rust_name
        ));
    }
    structs.push(c.rust_name.clone());
    for f in &c.fields {
        if let FieldType::InlineComplex(inner) = &f.ty {
            complex(out, world, i, inner, structs, fns)?;
        }
    }
    let mut plans = Vec::new();
    for f in &c.fields {
        plans.push(
            plan(world, module, f, fns, out)
                .map_err(|e| format!("element `{}/{}`: {e}", c.xml_name, f.name))?,
        );
    }
    let name = &c.rust_name;
    let upper = snake(name).to_uppercase();

    // The struct.
    doc(out, "    ", &c.doc);
    out.push_str("    #[derive(Debug, Clone, Default, PartialEq, yaserde::YaSerialize, yaserde::YaDeserialize)]\n");
    let _ = writeln!(out, "    #[yaserde(rename = {:?}, prefix = {prefix:?}, namespaces = {{ {prefix:?} = {ns:?} }})]", c.xml_name);
    let _ = writeln!(out, "    pub struct {name} {{");
    let mut field_names: Vec<String> = Vec::new();
    for (f, p) in c.fields.iter().zip(&plans) {
        let field = snake(&f.name);
        if field_names.contains(&field) {
            return Err(format!(
                "`{}`: two elements map to the field `{field}`",
                c.xml_name
            ));
        }
        field_names.push(field.clone());
        let ty = match (f.min, f.max) {
            (0, Some(1)) => format!("Option<{}>", p.rust),
            (_, Some(1)) => p.rust.clone(),
            _ => format!("Vec<{}>", p.rust),
        };
        doc(out, "        ", &f.doc);
        let _ = writeln!(
            out,
            "        #[yaserde(rename = {:?}, prefix = {prefix:?})]",
            f.name
        );
        let _ = writeln!(out, "        pub {field}: {ty},");
    }
    out.push_str("    }\n\n");

    // The content model and the element.
    let _ = writeln!(
        out,
        "    #[doc(hidden)]\n    pub static {upper}_CONTENT: [super::Particle; {}] = [",
        c.fields.len()
    );
    for (f, p) in c.fields.iter().zip(&plans) {
        let content = match (&p.content, &p.check, p.kind) {
            (Some(s), _, _) => format!("super::Content::Complex(&{s})"),
            (None, Some(check), Some(kind)) => format!(
                "super::Content::Simple(super::WhiteSpace::{}, |x: &str| {})",
                whitespace(kind),
                check.replace("{x}", "x")
            ),
            _ => return Err(format!("`{}/{}`: no content model", c.xml_name, f.name)),
        };
        let max = f.max.map_or("u32::MAX".into(), |m| m.to_string());
        let _ = writeln!(out, "        super::Particle {{ ns: NAMESPACE, name: {:?}, min: {}, max: {max}, content: {content} }},", f.name, f.min);
    }
    out.push_str("    ];\n\n");
    let _ = writeln!(out, "    impl super::Element for {name} {{\n        fn element() -> &'static super::Particle {{");
    let _ = writeln!(out, "            static ELEMENT: super::Particle = super::Particle {{ ns: NAMESPACE, name: {:?}, min: 1, max: 1, content: super::Content::Complex(&{upper}_CONTENT) }};", c.xml_name);
    out.push_str("            &ELEMENT\n        }\n    }\n\n");

    // The facets, in document order.
    let _ = writeln!(out, "    impl super::Validate for {name} {{\n        fn validate(&self) -> Result<(), super::FacetViolation> {{");
    for ((f, p), field) in c.fields.iter().zip(&plans).zip(&field_names) {
        validate_field(out, f, p, field);
    }
    out.push_str("            Ok(())\n        }\n\n");
    out.push_str("        fn normalize(&mut self) {\n");
    for ((f, p), field) in c.fields.iter().zip(&plans).zip(&field_names) {
        normalize_field(out, f, p, field);
    }
    out.push_str("        }\n    }\n\n");
    Ok(())
}

/// The canonical form of one field's values (simple) or of its children (complex).
fn normalize_field(out: &mut String, f: &Field, p: &Plan, field: &str) {
    // `x` is a `&mut` to one value.
    let one = |x: &str| match p.kind {
        Some(kind) => format!("v::canonical(v::Builtin::{kind}, {x});"),
        None => format!("{x}.normalize();"),
    };
    if p.kind.is_some_and(|k| !has_canonical_form(k)) {
        return;
    }
    let _ = match (f.min, f.max) {
        (0, Some(1)) => writeln!(
            out,
            "            if let Some(x) = &mut self.{field} {{\n                {}\n            }}",
            one("x")
        ),
        (_, Some(1)) if p.kind.is_some() => {
            writeln!(out, "            {}", one(&format!("&mut self.{field}")))
        }
        (_, Some(1)) => writeln!(out, "            {}", one(&format!("self.{field}"))),
        _ => writeln!(
            out,
            "            for x in &mut self.{field} {{\n                {}\n            }}",
            one("x")
        ),
    };
}
/// The checks of one field: presence and occurrences, then each value (simple: its
/// validator; complex: its own `validate`, with the path prefixed).
fn validate_field(out: &mut String, f: &Field, p: &Plan, field: &str) {
    let xml = format!("{:?}", f.name);
    // `x` is a reference to one value; `path` an expression giving its path.
    let one = |x: &str, path: &str| match &p.check {
        Some(check) => format!("v::field({}, {path})?;", check.replace("{x}", x)),
        None => format!("{x}.validate().map_err(|e| e.within({path}))?;"),
    };
    match (f.min, f.max) {
        (0, Some(1)) => {
            let _ = writeln!(
                out,
                "            if let Some(x) = &self.{field} {{\n                {}\n            }}",
                one("x", &xml)
            );
        }
        (_, Some(1)) => {
            if p.check.is_some() {
                let _ = writeln!(out, "            v::required(&self.{field}, {xml})?;");
            }
            let x = if p.check.is_some() {
                format!("&self.{field}")
            } else {
                format!("self.{field}")
            };
            let _ = writeln!(out, "            {}", one(&x, &xml));
        }
        (min, max) => {
            let max = max.map_or("u32::MAX".into(), |m| m.to_string());
            let _ = writeln!(
                out,
                "            v::occurs(self.{field}.len(), {min}, {max}, {xml})?;"
            );
            let _ = writeln!(out, "            for (i, x) in self.{field}.iter().enumerate() {{\n                {}\n            }}", one("x", &format!("&v::item({xml}, i)")));
        }
    }
}
