//! XSD tree -> model. Every element and attribute is either understood or refused with its
//! line and the construct it belongs to: nothing is skipped silently.

use crate::model::*;
use crate::names::camel;
use crate::tree::{self, Node};

type Res<T> = Result<T, String>;

/// What the schema element says about the whole document.
struct Ctx {
    /// The prefix that binds the XML Schema namespace ("" if it is the default namespace).
    xs: String,
    /// Namespace declarations of the schema element, (prefix, URI).
    prefixes: Vec<(String, String)>,
}

impl Ctx {
    /// Resolves a QName-valued attribute (`td:codiceFiscaleType`, `xs:date`).
    fn qname(&self, n: &Node, q: &str) -> Res<TypeName> {
        let (prefix, name) = q.split_once(':').unwrap_or(("", q));
        let ns = self
            .prefixes
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, ns)| ns.clone())
            .ok_or_else(|| at(n, format!("unbound prefix `{prefix}` in `{q}`")))?;
        Ok(TypeName {
            ns,
            name: name.to_owned(),
        })
    }

    /// The XML Schema children of `n`, refusing anything else (foreign elements, stray text).
    fn children<'n>(&self, n: &'n Node) -> Res<impl Iterator<Item = &'n Node>> {
        if let Some(c) = n.children.iter().find(|c| c.prefix() != self.xs) {
            return Err(at(c, format!("`{}` is not an XML Schema element", c.name)));
        }
        if !n.text.trim().is_empty() && n.local() != "documentation" && n.local() != "appinfo" {
            return Err(at(n, format!("unexpected text in xs:{}", n.local())));
        }
        Ok(n.children.iter())
    }
}

fn at(n: &Node, msg: String) -> String {
    format!("line {}: {msg}", n.line)
}

/// Refuses any attribute of `n` not in `allowed` (namespace declarations only on xs:schema).
fn attrs(n: &Node, allowed: &[&str], what: &str) -> Res<()> {
    for (k, _) in &n.attrs {
        let decl = k == "xmlns" || k.starts_with("xmlns:");
        if decl && n.local() == "schema" {
            continue;
        }
        if decl {
            return Err(at(
                n,
                format!("{what}: namespace declarations are only supported on xs:schema"),
            ));
        }
        if !allowed.contains(&k.as_str()) {
            return Err(at(n, format!("{what}: unsupported attribute `{k}`")));
        }
    }
    Ok(())
}

fn required<'n>(n: &'n Node, key: &str, what: &str) -> Res<&'n str> {
    n.attr(key)
        .ok_or_else(|| at(n, format!("{what}: attribute `{key}` is required")))
}

fn unsupported(n: &Node, what: &str) -> String {
    at(n, format!("{what}: xs:{} is not supported", n.local()))
}

/// The text of the xs:documentation of `n`, whitespace collapsed.
fn doc(ctx: &Ctx, n: &Node) -> Res<Option<String>> {
    let mut parts = Vec::new();
    for a in ctx.children(n)?.filter(|c| c.local() == "annotation") {
        for d in ctx.children(a)? {
            match d.local() {
                "documentation" => {
                    parts.push(d.text.split_whitespace().collect::<Vec<_>>().join(" "))
                }
                "appinfo" => {}
                _ => return Err(unsupported(d, "xs:annotation")),
            }
        }
    }
    Ok(Some(parts.join(" ")).filter(|s| !s.is_empty()))
}

/// Parses one schema document; `stem` is its file name without extension.
pub fn schema(stem: &str, text: &str) -> Res<Schema> {
    let root = tree::parse(text)?;
    let xs = root.prefix().to_owned();
    let prefixes: Vec<(String, String)> = root
        .namespace_decls()
        .map(|(p, u)| (p.to_owned(), u.to_owned()))
        .collect();
    let bound = prefixes
        .iter()
        .find(|(p, _)| *p == xs)
        .map(|(_, u)| u.as_str());
    if root.local() != "schema" || bound != Some(XS) {
        return Err(at(&root, "the root element is not xs:schema".into()));
    }
    attrs(
        &root,
        &[
            "targetNamespace",
            "elementFormDefault",
            "attributeFormDefault",
            "version",
            "id",
            "xml:lang",
            "blockDefault",
            "finalDefault",
        ],
        "xs:schema",
    )?;
    let target_ns = required(&root, "targetNamespace", "xs:schema")?.to_owned();
    if root.attr("elementFormDefault") != Some("qualified") {
        return Err(at(
            &root,
            "xs:schema: only elementFormDefault=\"qualified\" is supported".into(),
        ));
    }
    let ctx = Ctx { xs, prefixes };
    let mut s = Schema {
        stem: stem.to_owned(),
        target_ns,
        doc: doc(&ctx, &root)?,
        simple: Vec::new(),
        complex: Vec::new(),
    };
    for child in ctx.children(&root)? {
        match child.local() {
            "annotation" => {}
            "import" => attrs(child, &["namespace", "schemaLocation", "id"], "xs:import")?,
            "simpleType" => {
                attrs(child, &["name", "id"], "xs:simpleType")?;
                let name = required(child, "name", "top-level xs:simpleType")?;
                s.simple
                    .push(simple(&ctx, child, name, &format!("simpleType `{name}`"))?);
            }
            "complexType" => {
                attrs(child, &["name", "id"], "xs:complexType")?;
                let name = required(child, "name", "top-level xs:complexType")?;
                let mut ct = complex(
                    &ctx,
                    child,
                    &camel(name),
                    name,
                    &format!("complexType `{name}`"),
                )?;
                ct.type_name = Some(name.to_owned());
                s.complex.push(ct);
            }
            "element" => {
                let name = required(child, "name", "top-level xs:element")?;
                let what = format!("element `{name}`");
                attrs(
                    child,
                    &["name", "id"],
                    &format!("{what} (a top-level element defines its type inline)"),
                )?;
                let mut inline = None;
                for c in ctx.children(child)? {
                    match c.local() {
                        "annotation" => {}
                        "complexType" if inline.is_none() => inline = Some(c),
                        _ => return Err(unsupported(c, &what)),
                    }
                }
                let ct_node = inline.ok_or_else(|| {
                    at(
                        child,
                        format!("{what}: an inline xs:complexType is required"),
                    )
                })?;
                attrs(ct_node, &["id"], &format!("{what}: xs:complexType"))?;
                let mut ct = complex(&ctx, ct_node, &camel(name), name, &what)?;
                ct.doc = ct.doc.or(doc(&ctx, child)?);
                s.complex.push(ct);
            }
            _ => return Err(unsupported(child, "xs:schema")),
        }
    }
    Ok(s)
}

/// A simple type: one xs:restriction of a named base with facets.
fn simple(ctx: &Ctx, n: &Node, name: &str, what: &str) -> Res<SimpleType> {
    let mut restriction = None;
    for c in ctx.children(n)? {
        match c.local() {
            "annotation" => {}
            "restriction" if restriction.is_none() => restriction = Some(c),
            _ => return Err(unsupported(c, what)),
        }
    }
    let r = restriction.ok_or_else(|| at(n, format!("{what}: an xs:restriction is required")))?;
    attrs(r, &["base", "id"], what)?;
    let base = ctx.qname(r, required(r, "base", &format!("{what}: xs:restriction"))?)?;
    let mut f = Facets::default();
    for facet in ctx.children(r)? {
        let kind = facet.local();
        if kind == "annotation" {
            continue;
        }
        let fwhat = format!("{what}: xs:{kind}");
        attrs(facet, &["value", "fixed", "id"], &fwhat)?;
        if ctx.children(facet)?.any(|c| c.local() != "annotation") {
            return Err(at(facet, format!("{fwhat}: unexpected content")));
        }
        let value = required(facet, "value", &fwhat)?.to_owned();
        let num = || {
            value
                .parse::<usize>()
                .map_err(|_| at(facet, format!("{fwhat}: `{value}` is not a length")))
        };
        let once = |slot_taken: bool| {
            if slot_taken {
                Err(at(facet, format!("{fwhat}: given twice")))
            } else {
                Ok(())
            }
        };
        match kind {
            "length" => {
                once(f.length.is_some())?;
                f.length = Some(num()?)
            }
            "minLength" => {
                once(f.min_length.is_some())?;
                f.min_length = Some(num()?)
            }
            "maxLength" => {
                once(f.max_length.is_some())?;
                f.max_length = Some(num()?)
            }
            "pattern" => f.patterns.push(value),
            "enumeration" => f.enumeration.push(value),
            "minInclusive" | "minExclusive" => {
                once(f.min.is_some())?;
                f.min = Some(Bound {
                    value,
                    inclusive: kind == "minInclusive",
                });
            }
            "maxInclusive" | "maxExclusive" => {
                once(f.max.is_some())?;
                f.max = Some(Bound {
                    value,
                    inclusive: kind == "maxInclusive",
                });
            }
            _ => return Err(unsupported(facet, what)),
        }
    }
    if f.length.is_some() && (f.min_length.is_some() || f.max_length.is_some()) {
        return Err(at(
            r,
            format!("{what}: length together with minLength/maxLength"),
        ));
    }
    if let (Some(lo), Some(hi)) = (f.min_length, f.max_length) {
        if lo > hi {
            return Err(at(r, format!("{what}: minLength above maxLength")));
        }
    }
    Ok(SimpleType {
        name: name.to_owned(),
        origin: what.to_owned(),
        base,
        facets: f,
        doc: doc(ctx, n)?,
    })
}

fn occurs(n: &Node, key: &str, what: &str) -> Res<Option<u32>> {
    match n.attr(key) {
        None => Ok(Some(1)),
        Some("unbounded") if key == "maxOccurs" => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| at(n, format!("{what}: bad {key} `{v}`"))),
    }
}

/// A complex type: an optional xs:sequence of local elements.
fn complex(ctx: &Ctx, n: &Node, rust_name: &str, xml_name: &str, what: &str) -> Res<ComplexType> {
    let mut fields = Vec::new();
    let mut seen_sequence = false;
    for part in ctx.children(n)? {
        match part.local() {
            "annotation" => {}
            "sequence" if !seen_sequence => {
                seen_sequence = true;
                attrs(
                    part,
                    &["id"],
                    &format!("{what}: xs:sequence (occurrences on a sequence)"),
                )?;
                for el in ctx.children(part)? {
                    match el.local() {
                        "annotation" => {}
                        "element" => fields.push(field(ctx, el, rust_name, xml_name)?),
                        _ => return Err(unsupported(el, &format!("{what}: xs:sequence"))),
                    }
                }
            }
            _ => return Err(unsupported(part, what)),
        }
    }
    Ok(ComplexType {
        rust_name: rust_name.to_owned(),
        xml_name: xml_name.to_owned(),
        type_name: None,
        fields,
        doc: doc(ctx, n)?,
    })
}

/// A local element of a sequence: `type=` or an inline simple or complex type.
fn field(ctx: &Ctx, el: &Node, parent_rust: &str, parent_xml: &str) -> Res<Field> {
    let name = el.attr("name").ok_or_else(|| {
        at(
            el,
            format!("`{parent_xml}`: an element needs a name (ref= is not supported)"),
        )
    })?;
    let what = format!("element `{parent_xml}/{name}`");
    attrs(el, &["name", "type", "minOccurs", "maxOccurs", "id"], &what)?;
    let min = occurs(el, "minOccurs", &what)?.unwrap_or(1);
    let max = occurs(el, "maxOccurs", &what)?;
    if max == Some(0) || max.is_some_and(|m| m < min) {
        return Err(at(
            el,
            format!("{what}: maxOccurs must be at least 1 and minOccurs"),
        ));
    }
    let mut inline = None;
    for c in ctx.children(el)? {
        match c.local() {
            "annotation" => {}
            "complexType" | "simpleType" if inline.is_none() => inline = Some(c),
            _ => return Err(unsupported(c, &what)),
        }
    }
    let ty = match (el.attr("type"), inline) {
        (Some(t), None) => FieldType::Named(ctx.qname(el, t)?),
        (None, Some(c)) if c.local() == "complexType" => {
            attrs(c, &["id"], &format!("{what}: xs:complexType"))?;
            let rust = format!("{parent_rust}{}", camel(name));
            FieldType::InlineComplex(Box::new(complex(ctx, c, &rust, name, &what)?))
        }
        (None, Some(c)) => {
            attrs(c, &["id"], &format!("{what}: xs:simpleType"))?;
            let made_up = format!("{parent_rust}_{name}");
            FieldType::InlineSimple(Box::new(simple(ctx, c, &made_up, &what)?))
        }
        _ => {
            return Err(at(
                el,
                format!("{what}: give exactly one of type= or an inline type"),
            ))
        }
    };
    Ok(Field {
        name: name.to_owned(),
        ty,
        min,
        max,
        doc: doc(ctx, el)?,
    })
}
