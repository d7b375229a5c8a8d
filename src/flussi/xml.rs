//! What every bulk-file parser shares: a quick-xml reader configured for untrusted input, the
//! byte budget between two events, capped field values, and the file-level refusal of content
//! that cannot be read (`MotivoRifiuto::XmlNonValido`).

use super::{MotivoRifiuto, Rifiuto};
use quick_xml::events::BytesRef;
use quick_xml::NsReader;
use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes the parser may take from the file between two events it hands back: one construct
/// larger than this (a text, a tag, a comment, a CDATA section, an unknown element being skipped)
/// refuses the file before the parser has buffered more. Real records are a few hundred bytes.
pub const MAX_EVENT: u64 = 1024 * 1024;
/// The read-ahead of the parser's buffer, counted within the budget above.
pub const READ_AHEAD: usize = 256 * 1024;
/// Longest field value kept: longer values (a field split by comments into many texts) make
/// the record invalid without growing memory.
pub const MAX_FIELD: usize = 256;

/// The namespace-aware reader of a file, and the counter of bytes read since its last event
/// (reset with `Budget::reset` after each event).
pub type Reader<R> = NsReader<BufReader<CountingReader<R>>>;

#[derive(Clone)]
pub struct Budget(Arc<AtomicU64>);

impl Budget {
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// A reader over `input` for untrusted content: end names and comments checked, no dangling
/// `&`, text untrimmed.
pub fn reader<R: Read>(input: R) -> (Reader<R>, Budget) {
    let since_event = Arc::new(AtomicU64::new(0));
    let limited = CountingReader {
        inner: input,
        since_event: since_event.clone(),
    };
    let mut reader = NsReader::from_reader(BufReader::with_capacity(READ_AHEAD, limited));
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    config.trim_text(false);
    (reader, Budget(since_event))
}

pub fn xml_error(at: u64, what: impl std::fmt::Display) -> Rifiuto {
    Rifiuto::con(
        MotivoRifiuto::XmlNonValido,
        format!("byte {at} del contenuto: {what}"),
    )
}

/// Appends to a field up to one character past `MAX_FIELD` bytes: enough for the record rules
/// to refuse the value, never more memory.
pub fn push_capped(field: &mut String, text: &str) {
    push_capped_to(field, text, MAX_FIELD);
}

/// What a field cut at its cap ends with: a control character, which every record rule refuses
/// (a cut value trimmed of its blanks must not pass for a short valid one).
pub const CUT: char = '\u{1}';

/// `push_capped` up to `max` bytes; a longer value ends with `CUT`.
pub fn push_capped_to(field: &mut String, text: &str, max: usize) {
    for c in text.chars() {
        if field.len() > max {
            if !field.ends_with(CUT) {
                field.push(CUT);
            }
            return;
        }
        field.push(c);
    }
}

/// A value as it may be echoed in an outcome or stored as text: control characters (a raw NUL,
/// `&#1;`) become U+FFFD, so PostgreSQL stores it and the outcome stays well-formed XML.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

pub fn blank(b: &str) -> bool {
    b.bytes().all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

/// The character of a character reference or of a predefined entity; any other entity
/// refuses the file.
pub fn char_reference(r: &BytesRef<'_>, at: u64) -> Result<char, Rifiuto> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(c),
        _ => match &**r {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            _ => Err(xml_error(at, "char_reference a entità non ammesso")),
        },
    }
}

/// The file as the parser reads it: counts the bytes read since the parser's last event.
pub struct CountingReader<R> {
    inner: R,
    since_event: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.since_event.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > MAX_EVENT + READ_AHEAD as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("costrutto XML più lungo di {MAX_EVENT} byte"),
            ));
        }
        Ok(n)
    }
}
