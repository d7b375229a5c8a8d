//! Content models and the structural check `from_xml` runs before yaserde.
//!
//! yaserde 0.13 matches child elements by (namespace, name) in any order, keeps the last of
//! repeated single elements, skips unknown elements and text, and does not compare the root's
//! name (nor its namespace when it has none). This walk closes those gaps with the model the
//! generator emits for each type, so that only XSD-valid structure reaches yaserde.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

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
    /// Text only.
    Simple,
    /// A sequence of child elements.
    Complex(&'static [Particle]),
}

/// A generated type's element: name, namespace and content model.
pub trait Element {
    fn element() -> &'static Particle
    where
        Self: Sized;
}

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// An element being read: where it is in its parent's sequence.
struct Frame {
    /// Path below the root ("" for the root itself).
    path: String,
    name: &'static str,
    particles: &'static [Particle],
    simple: bool,
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

/// Closes an element: its required children must all have occurred.
fn end(f: Frame, stack: &[Frame], done: &mut bool) -> Result<(), String> {
    if !f.simple {
        f.finish()?;
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
pub fn check(xml: &str, root: &'static Particle) -> Result<(), String> {
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
                        ))
                    }
                    Some(f) if f.simple => {
                        return Err(format!("{}: unexpected child element {name}", f.label()))
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
                        return Err(format!("{at}: attribute {} not allowed", a.key.0));
                    }
                }
                let (particles, simple) = match p.content {
                    Content::Simple => (&[][..], true),
                    Content::Complex(c) => (c, false),
                };
                let frame = Frame {
                    path,
                    name: p.name,
                    particles,
                    simple,
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
                match stack.last() {
                    Some(f) if f.simple || blank => {}
                    None if blank => {}
                    Some(f) => return Err(format!("{}: text not allowed here", f.label())),
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(_) | Event::GeneralRef(_) => match stack.last() {
                Some(f) if f.simple => {}
                Some(f) => return Err(format!("{}: text not allowed here", f.label())),
                None => return Err("text outside the root element".into()),
            },
            Event::DocType(_) => return Err("DOCTYPE not allowed".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof if done => return Ok(()),
            Event::Eof => return Err("no complete root element".into()),
        }
    }
}
