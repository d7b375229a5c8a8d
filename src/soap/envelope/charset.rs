//! The charsets a SOAP message may travel in, and its transcoding to the UTF-8 the scanner reads.

use super::EnvelopeError;
use std::borrow::Cow;

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
pub(super) fn decode(input: &[u8]) -> Result<&str, EnvelopeError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    if input.iter().take(4).any(|&b| b == 0) {
        return Err(EnvelopeError::NotUtf8);
    }
    std::str::from_utf8(input).map_err(|_| EnvelopeError::NotUtf8)
}
