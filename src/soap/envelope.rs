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

use quick_xml::escape::unescape;
use quick_xml::events::{BytesDecl, BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::NsReader;
use std::borrow::Cow;

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
const PREDEFINED: [&str; 5] = ["lt", "gt", "amp", "apos", "quot"];

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

/// XML's `EncName`: `[A-Za-z] ([A-Za-z0-9._] | '-')*`.
fn is_enc_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The charsets a SOAP message may travel in (WS-I Basic Profile 1.1, R1012).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// `utf-16`: the byte order from the BOM (big-endian without one, RFC 2781).
    Utf16,
    Utf16Le,
    Utf16Be,
}

impl Charset {
    /// The charset named by a Content-Type `charset` parameter; `None` if not supported.
    pub fn from_label(label: &str) -> Option<Self> {
        let l = label.trim().trim_matches('"');
        [
            ("utf-8", Self::Utf8),
            ("utf8", Self::Utf8),
            ("utf-16", Self::Utf16),
            ("utf-16le", Self::Utf16Le),
            ("utf-16be", Self::Utf16Be),
        ]
        .into_iter()
        .find(|(name, _)| l.eq_ignore_ascii_case(name))
        .map(|(_, c)| c)
    }
}

const BOM_LE: &[u8] = b"\xFF\xFE";
const BOM_BE: &[u8] = b"\xFE\xFF";

/// The message as UTF-8 bytes, for `scan`: the HTTP charset decides (the XML declaration's
/// `encoding` is ignored, R1019); without one, a UTF-16 BOM says UTF-16, otherwise it is UTF-8.
/// Bytes that contradict the charset (a UTF-16 BOM under `charset=utf-8`) and malformed
/// UTF-16 (odd length, unpaired surrogates) are refused with a detail saying so.
pub fn transcode(input: &[u8], charset: Option<Charset>) -> Result<Cow<'_, [u8]>, EnvelopeError> {
    let utf16_bom = input.starts_with(BOM_LE) || input.starts_with(BOM_BE);
    // Without charset nor BOM, XML 1.0 appendix F: `<` as a UTF-16 code unit.
    let utf16_sniffed = charset.is_none() && matches!(input, [b'<', 0, ..] | [0, b'<', ..]);
    let (little, body) = match charset {
        None if !utf16_bom && !utf16_sniffed => return Ok(Cow::Borrowed(input)),
        Some(Charset::Utf8) if !utf16_bom => return Ok(Cow::Borrowed(input)),
        Some(Charset::Utf8) => {
            return Err(EnvelopeError::Encoding(
                "dichiarato charset=utf-8, ma il messaggio inizia con il BOM di UTF-16".into(),
            ))
        }
        None | Some(Charset::Utf16) => match input {
            [0xFF, 0xFE, rest @ ..] => (true, rest),
            [0xFE, 0xFF, rest @ ..] => (false, rest),
            // Without BOM: `<` tells the byte order, else big-endian as RFC 2781 says.
            [b'<', 0, ..] => (true, input),
            _ => (false, input),
        },
        Some(Charset::Utf16Le) => (true, input.strip_prefix(BOM_LE).unwrap_or(input)),
        Some(Charset::Utf16Be) => (false, input.strip_prefix(BOM_BE).unwrap_or(input)),
    };
    if body.len() % 2 != 0 {
        return Err(EnvelopeError::Encoding(
            "UTF-16 non valido: numero dispari di byte".into(),
        ));
    }
    let units = body.chunks_exact(2).map(|p| {
        let pair = [p[0], p[1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let text: String = char::decode_utf16(units)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            EnvelopeError::Encoding(format!(
                "UTF-16 non valido: surrogato isolato {:04X}",
                e.unpaired_surrogate()
            ))
        })?;
    Ok(Cow::Owned(text.into_bytes()))
}

/// UTF-8 only: a UTF-8 BOM is skipped; other BOMs, UTF-16/32 without BOM (NUL bytes in the
/// first four) and invalid UTF-8 are refused.
fn decode(input: &[u8]) -> Result<&str, EnvelopeError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    if input.iter().take(4).any(|&b| b == 0) {
        return Err(EnvelopeError::NotUtf8);
    }
    std::str::from_utf8(input).map_err(|_| EnvelopeError::NotUtf8)
}

/// The `Char` production of XML 1.0.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A strict XML declaration: `version="1.0"`, then optionally `encoding` and `standalone`, in
/// that order (quick-xml itself accepts junk after the version). In a SOAP message (the text
/// already decoded by the HTTP charset, `transcode`) the `encoding` is ignored, as the Simple
/// SOAP Binding Profile (R1019) asks, if it is a well-formed encoding name; in a `document`
/// (SAML, metadata: bytes that libxml2 will decode by that declaration) it must be UTF-8.
fn check_decl(d: &BytesDecl<'_>, document: bool) -> Result<(), EnvelopeError> {
    let bad = || malformed("invalid XML declaration");
    let tag = BytesStart::from_content(&**d, 3);
    if !attributes_separated(tag.attributes_raw()) {
        return Err(bad());
    }
    let mut allowed = ["version", "encoding", "standalone"].into_iter();
    let mut version_seen = false;
    for attr in tag.attributes() {
        let attr = attr.map_err(malformed)?;
        let key = attr.key.as_ref();
        if version_seen != (key != "version") || !allowed.any(|k| k == key) {
            return Err(bad());
        }
        version_seen = true;
        let value = attr.value.as_ref();
        match key {
            "version" if value != "1.0" => {
                return Err(malformed(format!("XML version {value} is not supported")));
            }
            "encoding" if document && !value.eq_ignore_ascii_case("utf-8") => {
                return Err(EnvelopeError::NotUtf8)
            }
            "encoding" if !is_enc_name(value) => return Err(bad()),
            "standalone" if !matches!(value, "yes" | "no") => return Err(bad()),
            _ => {}
        }
    }
    version_seen.then_some(()).ok_or_else(bad)
}

/// A reference (the text between `&` and `;`): one of the five predefined entities or a
/// character reference to a legal XML character.
fn check_reference(name: &str) -> Result<(), EnvelopeError> {
    if let Some(num) = name.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix('x') {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        let valid = !digits.is_empty()
            && digits.chars().all(|c| c.is_digit(radix))
            && u32::from_str_radix(digits, radix)
                .ok()
                .and_then(char::from_u32)
                .is_some_and(is_xml_char);
        let invalid = || malformed(format!("invalid character reference &{name};"));
        valid.then_some(()).ok_or_else(invalid)
    } else if PREDEFINED.contains(&name) {
        Ok(())
    } else if is_ncname(name) {
        Err(EnvelopeError::EntityReference)
    } else {
        Err(malformed("`&` not starting a reference"))
    }
}

/// A raw (escaped) attribute value: no `<`, and only allowed references.
fn check_attribute_value(raw: &str) -> Result<(), EnvelopeError> {
    if raw.contains('<') {
        return Err(malformed("`<` in an attribute value"));
    }
    let mut rest = raw;
    while let Some((_, after)) = rest.split_once('&') {
        let Some((name, tail)) = after.split_once(';') else {
            return Err(malformed("unterminated reference in an attribute value"));
        };
        check_reference(name)?;
        rest = tail;
    }
    Ok(())
}

/// An XML name without colons. Exact for ASCII; other characters are accepted.
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let start_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    start_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') || !c.is_ascii())
}

/// A qualified name: `local` or `prefix:local`.
fn check_qname(name: &str) -> Result<(), EnvelopeError> {
    let ok = match name.split_once(':') {
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
        None => is_ncname(name),
    };
    ok.then_some(())
        .ok_or_else(|| malformed(format!("invalid name `{name}`")))
}

/// The namespace URI of a resolved name, unescaped.
fn namespace(resolved: ResolveResult<'_>) -> Result<Option<String>, EnvelopeError> {
    match resolved {
        ResolveResult::Bound(ns) => Ok(Some(unescape(ns.0).map_err(malformed)?.into_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(malformed(format!("unbound prefix `{p}`"))),
    }
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

/// Checks the attributes of `e` against the limits and the namespace rules (no unbound prefix,
/// no two attributes with the same expanded name); returns whether it has a true
/// `soap:mustUnderstand`.
fn check_attributes(
    limits: &XmlLimits,
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
) -> Result<bool, EnvelopeError> {
    if !attributes_separated(e.attributes_raw()) {
        return Err(malformed("attributes not separated by whitespace"));
    }
    let mut must_understand = false;
    let mut qualified: Vec<(&str, String)> = Vec::new();
    for (count, attr) in e.attributes().enumerate() {
        if count >= limits.max_attributes {
            return Err(EnvelopeError::TooManyAttributes {
                limit: limits.max_attributes,
            });
        }
        let attr = attr.map_err(malformed)?;
        if attr.value.len() > limits.max_attribute_len {
            return Err(EnvelopeError::AttributeTooLong {
                limit: limits.max_attribute_len,
            });
        }
        check_qname(attr.key.as_ref())?;
        check_attribute_value(&attr.value)?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
        let ns = match resolved {
            ResolveResult::Bound(ns) => ns.0,
            ResolveResult::Unbound => continue,
            ResolveResult::Unknown(p) => return Err(malformed(format!("unbound prefix `{p}`"))),
        };
        let local = local.as_ref().to_owned();
        if qualified.iter().any(|(n, l)| *n == ns && *l == local) {
            return Err(malformed(format!("duplicate attribute {{{ns}}}{local}")));
        }
        if ns == SOAP11_ENV && local == "mustUnderstand" {
            let value = unescape(&attr.value).map_err(malformed)?;
            must_understand = matches!(value.trim(), "1" | "true");
        }
        qualified.push((ns, local));
    }
    Ok(must_understand)
}

/// Whether every quoted value in a raw attribute list is followed by whitespace or the end
/// (quick-xml accepts `a="1"b="2"`).
fn attributes_separated(raw: &str) -> bool {
    let mut quote = None;
    let mut after_value = false;
    for c in raw.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
                after_value = true;
            }
        } else if after_value && !matches!(c, ' ' | '\t' | '\n' | '\r') {
            return false;
        } else {
            after_value = false;
            if c == '"' || c == '\'' {
                quote = Some(c);
            }
        }
    }
    true
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
#[path = "envelope_tests.rs"]
mod tests;
