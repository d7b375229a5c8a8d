//! Content models and the structural check `from_xml` runs before yaserde.
//!
//! yaserde 0.13 matches child elements by (namespace, name) in any order, keeps the last of
//! repeated single elements, skips unknown elements and text, and does not compare the root's
//! name (nor its namespace when it has none). This walk closes those gaps with the model the
//! generator emits for each type, so that only XSD-valid structure reaches yaserde.
//!
//! It also judges every simple value on the text as written, which yaserde no longer has (it
//! trims): the text with its character references resolved, its whitespace handled as the
//! type's `whiteSpace` facet says (xs:string preserves, xs:normalizedString replaces, every
//! other built-in collapses), then the type's lexical space and facets.

use super::validate::Check;
use super::{Facet, FacetViolation};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};
use std::borrow::Cow;

/// An element in a content model.
#[derive(Debug)]
pub struct Particle {
    pub ns: &'static str,
    pub name: &'static str,
    pub min: u32,
    /// `u32::MAX` for unbounded.
    pub max: u32,
    pub content: Content,
}

#[derive(Debug)]
pub enum Content {
    /// Text only: how its whitespace is handled, and the check of its type (lexical space
    /// and facets).
    Simple(WhiteSpace, fn(&str) -> Check),
    /// A sequence of child elements.
    Complex(&'static [Particle]),
}

/// The `whiteSpace` facet of a simple type (XSD 1.0 part 2, 4.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteSpace {
    /// xs:string and its restrictions: the value is the text as written.
    Preserve,
    /// xs:normalizedString: tab, CR and LF become spaces.
    Replace,
    /// Every other built-in: as Replace, then runs of spaces become one, and leading and
    /// trailing ones go.
    Collapse,
}

impl WhiteSpace {
    pub fn apply<'a>(self, text: &'a str) -> Cow<'a, str> {
        let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        match self {
            Self::Preserve => Cow::Borrowed(text),
            Self::Replace if !text.contains(['\t', '\n', '\r']) => Cow::Borrowed(text),
            Self::Replace => Cow::Owned(text.replace(['\t', '\n', '\r'], " ")),
            Self::Collapse => {
                let trimmed = text.trim_matches(ws);
                if !trimmed.contains(['\t', '\n', '\r']) && !trimmed.contains("  ") {
                    return Cow::Borrowed(trimmed);
                }
                Cow::Owned(
                    trimmed
                        .split(ws)
                        .filter(|w| !w.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
        }
    }
}

/// Why `check` refused a text: its structure, or a simple value (with the value's path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Structure(String),
    Value(FacetViolation),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Structure(s) => f.write_str(s),
            Self::Value(v) => v.fmt(f),
        }
    }
}

impl From<String> for Refusal {
    fn from(s: String) -> Self {
        Self::Structure(s)
    }
}

impl From<&str> for Refusal {
    fn from(s: &str) -> Self {
        Self::Structure(s.to_owned())
    }
}

/// A generated type's element: name, namespace and content model.
pub trait Element {
    fn element() -> &'static Particle
    where
        Self: Sized;
}

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// How a simple element's text is judged: its whitespace rule and its type's check.
type SimpleValue = (WhiteSpace, fn(&str) -> Check);

/// An element being read: where it is in its parent's sequence.
struct Frame {
    /// Path below the root ("" for the root itself).
    path: String,
    name: &'static str,
    particles: &'static [Particle],
    /// For a simple element: its type's whitespace rule and check, and the text read so far.
    simple: Option<SimpleValue>,
    text: String,
    /// minOccurs ≥ 1: an empty value is reported as missing.
    required: bool,
    /// Index of the particle being filled and how many times it occurred.
    at: usize,
    count: u32,
}

impl Frame {
    /// How errors name this element: its path, or its name for the root.
    fn label(&self) -> &str {
        if self.path.is_empty() {
            self.name
        } else {
            &self.path
        }
    }

    fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.path)
        }
    }

    /// Accepts child `(ns, name)` as the next item of the sequence, or explains why not.
    fn accept(&mut self, ns: &str, name: &str) -> Result<(String, &'static Particle), String> {
        let (mut at, mut count) = (self.at, self.count);
        while let Some(p) = self.particles.get(at) {
            if p.ns == ns && p.name == name && count < p.max {
                (self.at, self.count) = (at, count + 1);
                let path = self.child_path(name);
                let path = if p.max > 1 {
                    format!("{path}[{}]", count + 1)
                } else {
                    path
                };
                return Ok((path, p));
            }
            if count < p.min {
                return Err(self.missing(p, count, Some(&expanded(ns, name))));
            }
            (at, count) = (at + 1, 0);
        }
        let known = self.particles.iter().any(|p| p.ns == ns && p.name == name);
        let why = if known {
            "repeated or out of order"
        } else {
            "not expected here"
        };
        Err(format!(
            "{}: element {} {why}",
            self.child_path(name),
            expanded(ns, name)
        ))
    }

    /// At the end tag: every remaining particle must have its minimum.
    fn finish(&self) -> Result<(), String> {
        let mut count = self.count;
        for p in self.particles.iter().skip(self.at) {
            if count < p.min {
                return Err(self.missing(p, count, None));
            }
            count = 0;
        }
        Ok(())
    }

    fn missing(&self, p: &Particle, count: u32, found: Option<&str>) -> String {
        let path = self.child_path(p.name);
        let found = found.map(|f| format!(", found {f}")).unwrap_or_default();
        if count == 0 {
            format!("{path} is a required field (missing element{found})")
        } else {
            format!("{path}: {count} occurrences, at least {}{found}", p.min)
        }
    }
}

/// `{namespace}name`, or just `name` without namespace.
fn expanded(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{{{ns}}}{name}")
    }
}

/// Closes an element: its required children must all have occurred; its value, if simple,
/// must be one its type allows.
fn end(f: Frame, stack: &[Frame], done: &mut bool) -> Result<(), Refusal> {
    match f.simple {
        None => f.finish()?,
        Some((ws, check)) => {
            let value = ws.apply(&f.text);
            check(&value).map_err(|(facet, detail)| {
                let (facet, detail) = if value.is_empty() && f.required {
                    (Facet::Required, "required element empty".to_owned())
                } else {
                    (facet, detail)
                };
                Refusal::Value(FacetViolation::new(f.label(), facet, detail))
            })?
        }
    }
    *done = stack.is_empty();
    Ok(())
}

fn namespace(r: ResolveResult<'_>) -> Result<String, String> {
    match r {
        ResolveResult::Bound(ns) => Ok(ns.as_ref().to_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(p) => Err(format!("undeclared namespace prefix `{p}`")),
    }
}

/// Checks `xml` (one element) against `root`.
pub fn check(xml: &str, root: &'static Particle) -> Result<(), Refusal> {
    let mut reader = NsReader::from_str(xml);
    let mut stack: Vec<Frame> = Vec::new();
    let mut done = false;
    loop {
        let (res, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let ns = namespace(res)?;
                let local = e.local_name();
                let name = local.as_ref();
                let (path, p) = match stack.last_mut() {
                    None if done => return Err("content after the root element".into()),
                    None if ns == root.ns && name == root.name => (String::new(), root),
                    None => {
                        return Err(format!(
                            "the root element is {}, expected {}",
                            expanded(&ns, name),
                            expanded(root.ns, root.name)
                        )
                        .into())
                    }
                    Some(f) if f.simple.is_some() => {
                        return Err(format!("{}: unexpected child element {name}", f.label()).into())
                    }
                    Some(f) => f.accept(&ns, name)?,
                };
                for a in e.attributes() {
                    let at = if path.is_empty() {
                        p.name
                    } else {
                        path.as_str()
                    };
                    let a = a.map_err(|e| format!("{at}: {e}"))?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(a.key);
                    let ans = namespace(ans)?;
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| format!("{at}: {e}"))?;
                    let nil = local.as_ref() == "nil" && matches!(value.trim(), "true" | "1");
                    // xsi:type and xsi:schemaLocation are tolerated; xsi:nil="true" is not (no
                    // element of ours is nillable), nor any other attribute.
                    if ans != XSI || nil {
                        return Err(format!("{at}: attribute {} not allowed", a.key.0).into());
                    }
                }
                let (particles, simple) = match p.content {
                    Content::Simple(ws, check) => (&[][..], Some((ws, check))),
                    Content::Complex(c) => (c, None),
                };
                let frame = Frame {
                    path,
                    name: p.name,
                    particles,
                    simple,
                    text: String::new(),
                    required: p.min > 0,
                    at: 0,
                    count: 0,
                };
                if matches!(event, Event::Empty(_)) {
                    end(frame, &stack, &mut done)?;
                } else {
                    stack.push(frame);
                }
            }
            Event::End(_) => {
                let f = stack.pop().ok_or("unbalanced end tag")?;
                end(f, &stack, &mut done)?;
            }
            Event::Text(t) => {
                let blank = t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
                match stack.last_mut() {
                    Some(f) if f.simple.is_some() => f.text.push_str(&t.xml10_content()),
                    Some(_) | None if blank => {}
                    Some(f) => return Err(format!("{}: text not allowed here", f.label()).into()),
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(ref c) => match stack.last_mut() {
                Some(f) if f.simple.is_some() => f.text.push_str(&c.xml10_content()),
                Some(f) => return Err(format!("{}: text not allowed here", f.label()).into()),
                None => return Err("text outside the root element".into()),
            },
            Event::GeneralRef(ref r) => match stack.last_mut() {
                Some(f) if f.simple.is_some() => {
                    let name: &str = r.as_ref();
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => f.text.push(c),
                        _ => match quick_xml::escape::resolve_predefined_entity(name) {
                            Some(s) => f.text.push_str(s),
                            None => {
                                return Err(format!("{}: unknown entity &{name};", f.label()).into())
                            }
                        },
                    }
                }
                Some(f) => return Err(format!("{}: text not allowed here", f.label()).into()),
                None => return Err("text outside the root element".into()),
            },
            Event::DocType(_) => return Err("DOCTYPE not allowed".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof if done => return Ok(()),
            Event::Eof => return Err("no complete root element".into()),
        }
    }
}
