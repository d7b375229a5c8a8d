//! A small element tree of an XSD document, built with quick-xml, with line numbers for the
//! error messages.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

pub struct Node {
    /// Qualified name as written, e.g. `xs:element`.
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
    pub line: usize,
}

impl Node {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    pub fn prefix(&self) -> &str {
        self.name.split_once(':').map(|(p, _)| p).unwrap_or("")
    }

    /// Namespace declarations on this element: (prefix, URI), "" for the default namespace.
    pub fn namespace_decls(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attrs.iter().filter_map(|(k, v)| {
            if k == "xmlns" {
                Some(("", v.as_str()))
            } else {
                k.strip_prefix("xmlns:").map(|p| (p, v.as_str()))
            }
        })
    }
}

fn node(e: &BytesStart<'_>, line: usize) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("line {line}: {e}"))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("line {line}: {e}"))?;
        let key = a.key.0.to_owned();
        attrs.push((key, value.into_owned()));
    }
    Ok(Node {
        name: e.name().0.to_owned(),
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
    })
}

/// Parses `text` into its root element.
pub fn parse(text: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let line_at = |pos: u64| {
        let end = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
        text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    let mut stack: Vec<Node> = Vec::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("line {}: {e}", line_at(reader.error_position())))?;
        let closed = match event {
            Event::Start(e) => {
                stack.push(node(&e, line_at(pos))?);
                None
            }
            Event::Empty(e) => Some(node(&e, line_at(pos))?),
            Event::End(_) => Some(stack.pop().ok_or("unbalanced end tag")?),
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
                None
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
                None
            }
            Event::GeneralRef(r) => {
                if let Some(n) = stack.last_mut() {
                    let s = format!("&{};", r.xml10_content());
                    n.text
                        .push_str(&quick_xml::escape::unescape(&s).map_err(|e| e.to_string())?);
                }
                None
            }
            Event::DocType(_) => return Err("DOCTYPE is not supported in a schema".into()),
            Event::Eof => return Err("no root element".into()),
            _ => None,
        };
        if let Some(n) = closed {
            match stack.last_mut() {
                Some(parent) => parent.children.push(n),
                None => return Ok(n),
            }
        }
    }
}
