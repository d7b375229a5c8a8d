//! The safe envelope scanner. It reads every SOAP message with quick-xml before anything else
//! does, enforces the XML limits while streaming (so a hostile document fails early and cheaply),
//! checks the SOAP 1.1 envelope structure, and hands on the single Body child as a standalone
//! fragment. Nothing that would make xml-rs expand entities (DOCTYPE, entity references) gets
//! through.

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, QName, ResolveResult};
use quick_xml::{NsReader, Writer};
use std::borrow::Cow;

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
const PREDEFINED: [&str; 5] = ["lt", "gt", "amp", "apos", "quot"];

/// Structural limits (defaults as Apache CXF's).
#[derive(Debug, Clone)]
pub struct XmlLimits {
    pub max_depth: usize,
    pub max_attributes: usize,
    pub max_children: usize,
    pub max_attribute_len: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_depth: 100,
            max_attributes: 500,
            max_children: 50_000,
            max_attribute_len: 64 * 1024,
        }
    }
}

/// A well-formed SOAP 1.1 envelope with exactly one Body child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedEnvelope {
    /// Namespace and local name of the Body child (the operation's request element).
    pub body_ns: Option<String>,
    pub body_local: String,
    /// The Body child as a standalone fragment, with every namespace in scope declared on it.
    pub body_xml: String,
    /// Header entries that carry `mustUnderstand="1"`.
    pub must_understand: Vec<(Option<String>, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message is not UTF-8")]
    NotUtf8,
    #[error("DOCTYPE is not allowed")]
    Doctype,
    #[error("processing instructions are not allowed")]
    ProcessingInstruction,
    #[error("entity references other than the predefined ones are not allowed")]
    EntityReference,
    #[error("elements nested deeper than {limit}")]
    TooDeep { limit: usize },
    #[error("more than {limit} attributes on an element")]
    TooManyAttributes { limit: usize },
    #[error("more than {limit} children of an element")]
    TooManyChildren { limit: usize },
    #[error("attribute value longer than {limit} bytes")]
    AttributeTooLong { limit: usize },
    #[error("not well formed: {0}")]
    Malformed(String),
    #[error("not a SOAP 1.1 envelope")]
    NotAnEnvelope,
    #[error("SOAP version mismatch")]
    VersionMismatch,
    #[error("no Body")]
    MissingBody,
    #[error("empty Body")]
    EmptyBody,
    #[error("more than one element in Body")]
    MultipleBodyChildren,
}

fn malformed(e: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Malformed(e.to_string())
}

/// Where in the envelope an element stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Envelope,
    Header,
    HeaderEntry,
    Body,
    /// Inside the Body child (the capture).
    Payload,
}

struct Scanner<'l> {
    limits: &'l XmlLimits,
    /// Place and child count of each open element.
    stack: Vec<(Place, usize)>,
    seen_root: bool,
    seen_header: bool,
    seen_body: bool,
    body_children: usize,
    capture: Option<Writer<Vec<u8>>>,
    result: Option<(Option<String>, String, String)>,
    must_understand: Vec<(Option<String>, String)>,
}

/// Scans `input`; see the module documentation.
pub fn scan(input: &[u8], limits: &XmlLimits) -> Result<ScannedEnvelope, EnvelopeError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|_| EnvelopeError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.trim_text(false);
    }
    let mut s = Scanner {
        limits,
        stack: Vec::new(),
        seen_root: false,
        seen_header: false,
        seen_body: false,
        body_children: 0,
        capture: None,
        result: None,
        must_understand: Vec::new(),
    };
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(malformed)?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.0.to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => return Err(malformed(format!("unbound prefix {p}"))),
        };
        match event {
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(malformed)?;
                    if !enc.eq_ignore_ascii_case("utf-8") {
                        return Err(EnvelopeError::NotUtf8);
                    }
                }
            }
            Event::DocType(_) => return Err(EnvelopeError::Doctype),
            Event::PI(_) => return Err(EnvelopeError::ProcessingInstruction),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                if !(name.starts_with('#') || PREDEFINED.contains(&name.as_ref())) {
                    return Err(EnvelopeError::EntityReference);
                }
                s.text_like(Event::GeneralRef(r), false)?;
            }
            Event::Start(e) => s.open(&reader, ns, &e, false)?,
            Event::Empty(e) => s.open(&reader, ns, &e, true)?,
            Event::End(e) => s.close(Event::End(e))?,
            Event::Text(t) => {
                let blank = t.xml10_content().trim().is_empty();
                s.text_like(Event::Text(t), blank)?;
            }
            Event::CData(c) => s.text_like(Event::CData(c), false)?,
            Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !s.stack.is_empty() {
        return Err(malformed("unexpected end of document"));
    }
    if !s.seen_root {
        return Err(EnvelopeError::NotAnEnvelope);
    }
    if !s.seen_body {
        return Err(EnvelopeError::MissingBody);
    }
    let Some((body_ns, body_local, body_xml)) = s.result else {
        return Err(EnvelopeError::EmptyBody);
    };
    Ok(ScannedEnvelope {
        body_ns,
        body_local,
        body_xml,
        must_understand: s.must_understand,
    })
}

impl Scanner<'_> {
    fn open(
        &mut self,
        reader: &NsReader<&[u8]>,
        ns: Option<String>,
        e: &BytesStart<'_>,
        empty: bool,
    ) -> Result<(), EnvelopeError> {
        let depth = self.stack.len() + 1;
        if depth > self.limits.max_depth {
            return Err(EnvelopeError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        if let Some((_, children)) = self.stack.last_mut() {
            *children += 1;
            if *children > self.limits.max_children {
                return Err(EnvelopeError::TooManyChildren {
                    limit: self.limits.max_children,
                });
            }
        } else if self.seen_root {
            return Err(malformed("content after the root element"));
        }
        let attrs = self.check_attributes(reader, e)?;
        let local = e.local_name().as_ref().to_owned();
        let is_soap = |name: &str| ns.as_deref() == Some(SOAP11_ENV) && local == name;
        let place = match self.stack.last().map(|(p, _)| *p) {
            None => {
                self.seen_root = true;
                if is_soap("Envelope") {
                    Place::Envelope
                } else if local == "Envelope" {
                    return Err(EnvelopeError::VersionMismatch);
                } else {
                    return Err(EnvelopeError::NotAnEnvelope);
                }
            }
            Some(Place::Envelope) if is_soap("Header") && !self.seen_header && !self.seen_body => {
                self.seen_header = true;
                Place::Header
            }
            Some(Place::Envelope) if is_soap("Body") && !self.seen_body => {
                self.seen_body = true;
                Place::Body
            }
            Some(Place::Envelope) => return Err(EnvelopeError::NotAnEnvelope),
            Some(Place::Header) => {
                let must = attrs.iter().any(|(ans, name, value)| {
                    ans.as_deref() == Some(SOAP11_ENV)
                        && name == "mustUnderstand"
                        && matches!(value.trim(), "1" | "true")
                });
                if must {
                    self.must_understand.push((ns.clone(), local.clone()));
                }
                Place::HeaderEntry
            }
            Some(Place::HeaderEntry) => Place::HeaderEntry,
            Some(Place::Body) => {
                self.body_children += 1;
                if self.body_children > 1 {
                    return Err(EnvelopeError::MultipleBodyChildren);
                }
                self.start_capture(reader, ns.clone(), &local, e, empty)?;
                Place::Payload
            }
            Some(Place::Payload) => {
                self.write(if empty {
                    Event::Empty(e.borrow())
                } else {
                    Event::Start(e.borrow())
                })?;
                Place::Payload
            }
        };
        if !empty {
            self.stack.push((place, 0));
        } else if place == Place::Body {
            return Ok(());
        }
        Ok(())
    }

    /// Counts and checks the attributes; returns (namespace, local name, value) of each.
    fn check_attributes(
        &self,
        reader: &NsReader<&[u8]>,
        e: &BytesStart<'_>,
    ) -> Result<Vec<(Option<String>, String, String)>, EnvelopeError> {
        let mut out = Vec::new();
        for attr in e.attributes() {
            let attr = attr.map_err(malformed)?;
            if out.len() >= self.limits.max_attributes {
                return Err(EnvelopeError::TooManyAttributes {
                    limit: self.limits.max_attributes,
                });
            }
            if attr.value.len() > self.limits.max_attribute_len {
                return Err(EnvelopeError::AttributeTooLong {
                    limit: self.limits.max_attribute_len,
                });
            }
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|_| EnvelopeError::EntityReference)?
                .into_owned();
            let (ans, local) = reader.resolver().resolve_attribute(attr.key);
            let ans = match ans {
                ResolveResult::Bound(n) => Some(n.0.to_owned()),
                ResolveResult::Unbound => None,
                ResolveResult::Unknown(p) => return Err(malformed(format!("unbound prefix {p}"))),
            };
            out.push((ans, local.as_ref().to_owned(), value));
        }
        Ok(out)
    }

    /// Starts copying the Body child: its start tag gets every namespace binding in scope.
    fn start_capture(
        &mut self,
        reader: &NsReader<&[u8]>,
        ns: Option<String>,
        local: &str,
        e: &BytesStart<'_>,
        empty: bool,
    ) -> Result<(), EnvelopeError> {
        let declared: Vec<String> = e
            .attributes()
            .flatten()
            .filter(|a| a.key.as_namespace_binding().is_some())
            .map(|a| a.key.0.to_owned())
            .collect();
        let mut start = BytesStart::new(e.name().0.to_owned());
        for (prefix, namespace) in reader.resolver().bindings() {
            let key = match prefix {
                PrefixDeclaration::Default => "xmlns".to_owned(),
                PrefixDeclaration::Named(p) => format!("xmlns:{p}"),
            };
            if !declared.contains(&key) {
                start.push_attribute(Attribute {
                    key: QName(&key),
                    value: Cow::Borrowed(namespace.0),
                });
            }
        }
        for attr in e.attributes() {
            start.push_attribute(attr.map_err(malformed)?);
        }
        self.capture = Some(Writer::new(Vec::new()));
        self.write(if empty {
            Event::Empty(start.borrow())
        } else {
            Event::Start(start.borrow())
        })?;
        if empty {
            self.finish_capture(ns, local)?;
        } else {
            self.result = Some((ns, local.to_owned(), String::new()));
        }
        Ok(())
    }

    fn finish_capture(&mut self, ns: Option<String>, local: &str) -> Result<(), EnvelopeError> {
        let bytes = self
            .capture
            .take()
            .map(Writer::into_inner)
            .unwrap_or_default();
        let xml = String::from_utf8(bytes).map_err(|_| EnvelopeError::NotUtf8)?;
        self.result = Some((ns, local.to_owned(), xml));
        Ok(())
    }

    fn close(&mut self, end: Event<'_>) -> Result<(), EnvelopeError> {
        let Some((place, _)) = self.stack.pop() else {
            return Err(malformed("unexpected end tag"));
        };
        if place == Place::Payload {
            self.write(end)?;
            let body_child_closed = self.stack.last().map(|(p, _)| *p) == Some(Place::Body);
            if body_child_closed {
                let (ns, local) = match &self.result {
                    Some((ns, local, _)) => (ns.clone(), local.clone()),
                    None => (None, String::new()),
                };
                self.finish_capture(ns, &local)?;
            }
        }
        Ok(())
    }

    /// Text, CDATA and character references: copied inside the payload; elsewhere only
    /// whitespace (and header content) is allowed.
    fn text_like(&mut self, event: Event<'_>, blank: bool) -> Result<(), EnvelopeError> {
        match self.stack.last().map(|(p, _)| *p) {
            Some(Place::Payload) => self.write(event),
            Some(Place::HeaderEntry) => Ok(()),
            _ if blank => Ok(()),
            Some(Place::Body) => Err(EnvelopeError::Malformed("text directly inside Body".into())),
            _ => Err(malformed("text outside of the envelope elements")),
        }
    }

    fn write(&mut self, event: Event<'_>) -> Result<(), EnvelopeError> {
        match self.capture.as_mut() {
            Some(w) => w.write_event(event).map_err(malformed),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
