//! XSD text -> model, through a small element tree built with quick-xml.

use crate::model::*;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }
}

fn node(e: &BytesStart<'_>) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attrs.push((a.key.0.to_owned(), value.into_owned()));
    }
    Ok(Node {
        name: e.name().0.to_owned(),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

fn tree(text: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(node(&e)?),
            Event::Empty(e) => {
                let n = node(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => return Ok(n),
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => return Ok(n),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    let s = format!("&{};", r.xml10_content());
                    n.text
                        .push_str(&quick_xml::escape::unescape(&s).map_err(|e| e.to_string())?);
                }
            }
            Event::Eof => return Err("no root element".into()),
            _ => {}
        }
    }
}

struct Ctx {
    prefixes: Vec<(String, String)>,
}

impl Ctx {
    fn qname(&self, q: &str) -> Result<TypeName, String> {
        let (prefix, name) = match q.split_once(':') {
            Some((p, n)) => (p, n),
            None => ("", q),
        };
        let ns = self
            .prefixes
            .iter()
            .find(|(p, _)| p == prefix)
            .map(|(_, ns)| ns.clone())
            .ok_or_else(|| format!("unbound prefix `{prefix}` in `{q}`"))?;
        Ok(TypeName {
            ns,
            name: name.to_owned(),
        })
    }
}

fn doc(n: &Node) -> Option<String> {
    n.children
        .iter()
        .find(|c| c.local() == "annotation")
        .and_then(|a| a.children.iter().find(|c| c.local() == "documentation"))
        .map(|d| d.text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn occurs(v: Option<&str>, what: &str) -> Result<Option<u32>, String> {
    match v {
        None => Ok(Some(1)),
        Some("unbounded") => Ok(None),
        Some(n) => n.parse().map(Some).map_err(|_| format!("bad {what} `{n}`")),
    }
}

/// Parses one schema document.
pub fn schema(stem: &str, text: &str) -> Result<Schema, String> {
    let root = tree(text)?;
    if root.local() != "schema" {
        return Err("root is not xs:schema".into());
    }
    let target_ns = root
        .attr("targetNamespace")
        .ok_or("schema without targetNamespace")?
        .to_owned();
    let mut prefixes = Vec::new();
    for (k, v) in &root.attrs {
        if k == "xmlns" {
            prefixes.push((String::new(), v.clone()));
        } else if let Some(p) = k.strip_prefix("xmlns:") {
            prefixes.push((p.to_owned(), v.clone()));
        }
    }
    let self_prefix = prefixes
        .iter()
        .find(|(p, ns)| !p.is_empty() && *ns == target_ns)
        .map(|(p, _)| p.clone());
    let ctx = Ctx { prefixes };
    let mut s = Schema {
        stem: stem.to_owned(),
        target_ns,
        self_prefix,
        simple: Vec::new(),
        complex: Vec::new(),
        complex_names: Vec::new(),
    };
    for child in &root.children {
        match child.local() {
            "annotation" | "import" => {}
            "simpleType" => s.simple.push(simple(&ctx, child)?),
            "complexType" => {
                let name = child.attr("name").ok_or("complexType without name")?;
                s.complex_names.push(name.to_owned());
                let ct = complex(&ctx, child, &upper_first(name), name)?;
                s.complex.push(ct);
            }
            "element" => {
                let name = child.attr("name").ok_or("top-level element without name")?;
                if child.attr("type").is_some() {
                    return Err(format!(
                        "element `{name}`: top-level elements must define their type inline"
                    ));
                }
                let ct_node = child
                    .children
                    .iter()
                    .find(|c| c.local() == "complexType")
                    .ok_or_else(|| format!("element `{name}` has no complexType"))?;
                let mut ct = complex(&ctx, ct_node, name, name)?;
                ct.doc = ct.doc.or_else(|| doc(child));
                s.complex.push(ct);
            }
            other => return Err(format!("unsupported top-level construct xs:{other}")),
        }
    }
    Ok(s)
}

fn simple(ctx: &Ctx, n: &Node) -> Result<SimpleType, String> {
    let name = n.attr("name").ok_or("simpleType without name")?.to_owned();
    let restriction = n
        .children
        .iter()
        .find(|c| c.local() == "restriction")
        .ok_or_else(|| format!("simpleType `{name}`: only xs:restriction is supported"))?;
    let base = ctx.qname(restriction.attr("base").ok_or("restriction without base")?)?;
    let mut f = Facets::default();
    for facet in &restriction.children {
        let value = facet.attr("value").unwrap_or_default().to_owned();
        let num = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("simpleType `{name}`: bad {} `{v}`", facet.local()))
        };
        match facet.local() {
            "length" => f.length = Some(num(&value)?),
            "minLength" => f.min_length = Some(num(&value)?),
            "maxLength" => f.max_length = Some(num(&value)?),
            "pattern" => f.patterns.push(value),
            "enumeration" => f.enumeration.push(value),
            "minInclusive" => f.min_inclusive = Some(value),
            "maxInclusive" => f.max_inclusive = Some(value),
            "annotation" => {}
            other => return Err(format!("simpleType `{name}`: unsupported facet xs:{other}")),
        }
    }
    Ok(SimpleType {
        name,
        base,
        facets: f,
        doc: doc(n),
    })
}

fn complex(ctx: &Ctx, n: &Node, rust_name: &str, xml_name: &str) -> Result<ComplexType, String> {
    let mut fields = Vec::new();
    for part in &n.children {
        match part.local() {
            "annotation" => {}
            "sequence" => {
                for el in &part.children {
                    match el.local() {
                        "annotation" => continue,
                        "element" => {}
                        other => {
                            return Err(format!(
                                "`{xml_name}`: unsupported xs:{other} in a sequence"
                            ))
                        }
                    }
                    let name = el.attr("name").ok_or_else(|| {
                        format!("`{xml_name}`: element without name (ref is not supported)")
                    })?;
                    let min = occurs(el.attr("minOccurs"), "minOccurs")?.unwrap_or(1);
                    let max = occurs(el.attr("maxOccurs"), "maxOccurs")?;
                    let ty = match (el.attr("type"), el.children.iter().find(|c| c.local() == "complexType")) {
                        (Some(t), None) => FieldType::Named(ctx.qname(t)?),
                        (None, Some(inline)) => {
                            let inner_name = format!("{}{}", upper_first(rust_name), upper_first(name));
                            let ct = complex(ctx, inline, &inner_name, name)?;
                            FieldType::Inline(Box::new(ct))
                        }
                        _ => return Err(format!("`{xml_name}/{name}`: give exactly one of type= or an inline complexType")),
                    };
                    fields.push(Field {
                        name: name.to_owned(),
                        ty,
                        min,
                        max,
                        doc: doc(el),
                    });
                }
            }
            other => {
                return Err(format!(
                    "complexType `{xml_name}`: unsupported xs:{other} (only xs:sequence)"
                ))
            }
        }
    }
    Ok(ComplexType {
        rust_name: rust_name.to_owned(),
        xml_name: xml_name.to_owned(),
        fields,
        doc: doc(n),
    })
}
