//! The lexical checks quick-xml leaves to us: the XML declaration, references, names, attribute lists and namespaces.

use super::{malformed, EnvelopeError, XmlLimits, SOAP11_ENV};
use quick_xml::escape::unescape;
use quick_xml::events::{BytesDecl, BytesStart};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

const PREDEFINED: [&str; 5] = ["lt", "gt", "amp", "apos", "quot"];

/// XML's `EncName`: `[A-Za-z] ([A-Za-z0-9._] | '-')*`.
fn is_enc_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The `Char` production of XML 1.0.
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A strict XML declaration: `version="1.0"`, then optionally `encoding` and `standalone`, in
/// that order (quick-xml itself accepts junk after the version). In a SOAP message (the text
/// already decoded by the HTTP charset, `transcode`) the `encoding` is ignored, as the Simple
/// SOAP Binding Profile (R1019) asks, if it is a well-formed encoding name; in a `document`
/// (SAML, metadata: bytes that libxml2 will decode by that declaration) it must be UTF-8.
pub(super) fn check_decl(d: &BytesDecl<'_>, document: bool) -> Result<(), EnvelopeError> {
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
pub(super) fn check_reference(name: &str) -> Result<(), EnvelopeError> {
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
pub(super) fn check_qname(name: &str) -> Result<(), EnvelopeError> {
    let ok = match name.split_once(':') {
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
        None => is_ncname(name),
    };
    ok.then_some(())
        .ok_or_else(|| malformed(format!("invalid name `{name}`")))
}

/// The namespace URI of a resolved name, unescaped.
pub(super) fn namespace(resolved: ResolveResult<'_>) -> Result<Option<String>, EnvelopeError> {
    match resolved {
        ResolveResult::Bound(ns) => Ok(Some(unescape(ns.0).map_err(malformed)?.into_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(malformed(format!("unbound prefix `{p}`"))),
    }
}

/// Checks the attributes of `e` against the limits and the namespace rules (no unbound prefix,
/// no two attributes with the same expanded name); returns whether it has a true
/// `soap:mustUnderstand`.
pub(super) fn check_attributes(
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
