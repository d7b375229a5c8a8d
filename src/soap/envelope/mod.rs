//! The safe envelope scanner. Every SOAP message is read here, with quick-xml, before anything
//! else sees it: the XML limits are enforced while streaming (a hostile document fails early and
//! cheaply), the SOAP 1.1 envelope structure is checked, and the single Body child is handed on as
//! a standalone fragment. Nothing that would make xml-rs (yaserde) expand entities, read external
//! resources or choke on ill-formed input gets through: no DOCTYPE, no processing instruction, no
//! entity reference but the five predefined ones and valid character references.
//!
//! The fragment is rebuilt from the parsed events: every start tag, end tag, text, reference and
//! CDATA section of the Body child is written back in its original (already escaped) form, so
//! values round-trip exactly; comments are dropped; the root start tag also declares every
//! namespace binding in scope that it does not declare itself.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::PrefixDeclaration;
use quick_xml::NsReader;
use syntax::{check_attributes, check_decl, check_qname, check_reference, is_xml_char, namespace};

mod charset;
mod syntax;

use charset::decode;
pub use charset::{transcode, Charset};

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Structural limits, applied to the whole document while it streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlLimits {
    /// Element nesting, the Envelope being depth 1.
    pub max_depth: usize,
    /// Attributes of one element, namespace declarations included.
    pub max_attributes: usize,
    /// Element children of one element.
    pub max_children: usize,
    /// Bytes of one attribute value, as written (before unescaping).
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
    /// Namespace URI of the Body child (the operation's request element).
    pub body_ns: Option<String>,
    /// Local name of the Body child.
    pub body_local: String,
    /// The Body child as a standalone fragment (no XML declaration), with every namespace
    /// binding in scope declared on its root start tag.
    pub body_xml: String,
    /// Header entries that carry `soap:mustUnderstand="1"`: namespace and local name.
    pub must_understand: Vec<(Option<String>, String)>,
}

/// Why a message was refused; each variant maps to one stable fault code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("message is not UTF-8")]
    NotUtf8,
    /// A UTF-16 message that cannot be read, or bytes that contradict the declared charset;
    /// the detail (Italian) says which.
    #[error("encoding: {0}")]
    Encoding(String),
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
    #[error("text directly inside Body")]
    TextInBody,
}

fn malformed(e: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Malformed(e.to_string())
}

/// Scans `input`; see the module documentation.
pub fn scan(input: &[u8], limits: &XmlLimits) -> Result<ScannedEnvelope, EnvelopeError> {
    scan_with(input, limits, false)?.finish()
}

/// Checks a whole XML document that is not a SOAP envelope (a SAML message, metadata) by the
/// same rules and limits: well-formed UTF-8, no DOCTYPE, no processing instruction, no entity
/// but the predefined ones, depth, attributes and children within `limits`. Only a document
/// that passes may be handed to a parser that would expand entities (libxml2, xml-rs).
pub fn scan_document(input: &[u8], limits: &XmlLimits) -> Result<(), EnvelopeError> {
    let s = scan_with(input, limits, true)?;
    if !s.stack.is_empty() {
        return Err(malformed("unexpected end of document"));
    }
    if !s.root_seen {
        return Err(malformed("no root element"));
    }
    Ok(())
}

fn scan_with(input: &[u8], limits: &XmlLimits, document: bool) -> Result<Scanner, EnvelopeError> {
    let text = decode(input)?;
    if let Some(c) = text.chars().find(|&c| !is_xml_char(c)) {
        return Err(malformed(format!(
            "character U+{:04X} is not allowed in XML",
            u32::from(c)
        )));
    }
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    config.trim_text(false);

    let mut s = Scanner {
        limits: limits.clone(),
        document,
        ..Scanner::default()
    };
    let mut first = true;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Decl(d) if first => check_decl(&d, document)?,
            Event::Decl(_) => return Err(malformed("XML declaration not at the start")),
            Event::DocType(_) => return Err(EnvelopeError::Doctype),
            Event::PI(_) => return Err(EnvelopeError::ProcessingInstruction),
            Event::Start(e) => s.open(&reader, &e, false)?,
            Event::Empty(e) => s.open(&reader, &e, true)?,
            Event::End(e) => s.close(e.name().as_ref())?,
            Event::Text(t) => {
                if t.contains("]]>") {
                    return Err(malformed("`]]>` in text"));
                }
                let blank = t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
                s.content(&t, blank)?;
            }
            Event::GeneralRef(r) => {
                check_reference(&r)?;
                s.content(&format!("&{};", &*r), false)?;
            }
            Event::CData(c) => s.content(&format!("<![CDATA[{}]]>", &*c), false)?,
            Event::Comment(_) => {}
            Event::Eof => break,
        }
        first = false;
    }
    Ok(s)
}

/// Where in the envelope an element stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Envelope,
    Header,
    /// A Header entry or anything inside one.
    HeaderEntry,
    Body,
    /// The Body child or anything inside it: copied into the fragment.
    Payload,
    /// Anything, in a document that is not an envelope ([`scan_document`]).
    Document,
}

struct Frame {
    place: Place,
    children: usize,
}

struct BodyChild {
    ns: Option<String>,
    local: String,
    xml: String,
}

#[derive(Default)]
struct Scanner {
    limits: XmlLimits,
    /// A plain document, not an envelope: any root, any content.
    document: bool,
    stack: Vec<Frame>,
    root_seen: bool,
    header_seen: bool,
    body_seen: bool,
    body: Option<BodyChild>,
    must_understand: Vec<(Option<String>, String)>,
}

impl Scanner {
    fn open(
        &mut self,
        reader: &NsReader<&[u8]>,
        e: &BytesStart<'_>,
        empty: bool,
    ) -> Result<(), EnvelopeError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(EnvelopeError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children += 1;
                if parent.children > self.limits.max_children {
                    return Err(EnvelopeError::TooManyChildren {
                        limit: self.limits.max_children,
                    });
                }
            }
            None if self.root_seen => return Err(malformed("content after the root element")),
            None => {}
        }
        check_qname(e.name().as_ref())?;
        let must_understand = check_attributes(&self.limits, reader, e)?;
        let ns = namespace(reader.resolver().resolve_element(e.name()).0)?;
        let local = e.local_name().as_ref().to_owned();
        let soap = |name: &str| ns.as_deref() == Some(SOAP11_ENV) && local == name;

        let place = match self.stack.last().map(|f| f.place) {
            _ if self.document => {
                self.root_seen = true;
                Place::Document
            }
            None => {
                self.root_seen = true;
                if soap("Envelope") {
                    Place::Envelope
                } else if local == "Envelope" {
                    return Err(EnvelopeError::VersionMismatch);
                } else {
                    return Err(EnvelopeError::NotAnEnvelope);
                }
            }
            Some(Place::Envelope) if soap("Header") && !self.header_seen && !self.body_seen => {
                self.header_seen = true;
                Place::Header
            }
            Some(Place::Envelope) if soap("Body") && !self.body_seen => {
                self.body_seen = true;
                Place::Body
            }
            Some(Place::Envelope) => return Err(EnvelopeError::NotAnEnvelope),
            Some(Place::Header) => {
                if must_understand {
                    self.must_understand.push((ns, local));
                }
                Place::HeaderEntry
            }
            Some(Place::HeaderEntry) => Place::HeaderEntry,
            Some(Place::Body) => {
                if self.body.is_some() {
                    return Err(EnvelopeError::MultipleBodyChildren);
                }
                let xml = body_root_tag(reader, e, empty);
                self.body = Some(BodyChild { ns, local, xml });
                Place::Payload
            }
            Some(Place::Payload) => {
                self.write(&["<", e, if empty { "/>" } else { ">" }]);
                Place::Payload
            }
            Some(Place::Document) => Place::Document,
        };
        if !empty {
            self.stack.push(Frame { place, children: 0 });
        }
        Ok(())
    }

    fn close(&mut self, name: &str) -> Result<(), EnvelopeError> {
        let Some(frame) = self.stack.pop() else {
            return Err(malformed("unexpected end tag"));
        };
        if frame.place == Place::Payload {
            self.write(&["</", name, ">"]);
        }
        Ok(())
    }

    /// Appends to the Body child's fragment.
    fn write(&mut self, parts: &[&str]) {
        if let Some(body) = self.body.as_mut() {
            parts.iter().for_each(|p| body.xml.push_str(p));
        }
    }

    /// Text, references and CDATA (`raw`, as written): copied inside the Body child, ignored
    /// inside Header entries, elsewhere only whitespace is allowed.
    fn content(&mut self, raw: &str, blank: bool) -> Result<(), EnvelopeError> {
        match self.stack.last().map(|f| f.place) {
            Some(Place::Payload) => {
                self.write(&[raw]);
                Ok(())
            }
            Some(Place::HeaderEntry) | Some(Place::Document) => Ok(()),
            _ if blank => Ok(()),
            Some(Place::Body) => Err(EnvelopeError::TextInBody),
            _ => Err(malformed("text outside of the envelope elements")),
        }
    }

    fn finish(self) -> Result<ScannedEnvelope, EnvelopeError> {
        if !self.stack.is_empty() {
            return Err(malformed("unexpected end of document"));
        }
        if !self.root_seen {
            return Err(EnvelopeError::NotAnEnvelope);
        }
        if !self.body_seen {
            return Err(EnvelopeError::MissingBody);
        }
        let Some(body) = self.body else {
            return Err(EnvelopeError::EmptyBody);
        };
        Ok(ScannedEnvelope {
            body_ns: body.ns,
            body_local: body.local,
            body_xml: body.xml,
            must_understand: self.must_understand,
        })
    }
}

/// The start tag of the Body child: its own name and attributes as written, plus a declaration
/// of every namespace binding in scope that the element does not declare itself.
fn body_root_tag(reader: &NsReader<&[u8]>, e: &BytesStart<'_>, empty: bool) -> String {
    let mut tag = String::from("<");
    tag.push_str(e.name().as_ref());
    for (prefix, uri) in reader.resolver().bindings() {
        let own = e
            .attributes()
            .flatten()
            .any(|a| a.key.as_namespace_binding() == Some(prefix));
        if own {
            continue;
        }
        match prefix {
            PrefixDeclaration::Default => tag.push_str(" xmlns=\""),
            PrefixDeclaration::Named(p) => {
                tag.push_str(" xmlns:");
                tag.push_str(p);
                tag.push_str("=\"");
            }
        }
        // The value as written; it may have come from a single-quoted declaration.
        tag.push_str(&uri.0.replace('"', "&quot;"));
        tag.push('"');
    }
    tag.push_str(e.attributes_raw());
    tag.push_str(if empty { "/>" } else { ">" });
    tag
}

#[cfg(test)]
mod tests;
