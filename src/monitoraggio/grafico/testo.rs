//! Text in the document: estimated widths, shortening, Italian numbers, coordinates and XML escaping.

use super::PX_CARATTERE;
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// The estimated width of a 12 px text.
pub(super) fn larghezza_testo(s: &str) -> f64 {
    s.chars().count() as f64 * PX_CARATTERE
}

/// `s` cut to `max` characters, the last one an ellipsis.
pub(super) fn tronca(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        return Cow::Borrowed(s);
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    Cow::Owned(t)
}

/// A number the Italian way with `decimali` decimal digits (`1.500`, `0,2`; zero is `0`);
/// from 10^15 on, `1,5e20`.
pub(super) fn numero(v: f64, decimali: usize) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    if v.abs() >= 1e15 {
        return format!("{v:.1e}").replace(".0e", "e").replace('.', ",");
    }
    crate::monitoraggio::modello::Cella::decimale(v, u8::try_from(decimali).unwrap_or(u8::MAX))
        .italiano()
}

/// A value in a tooltip or in the description: integers as such, others with up to 2 decimals.
pub(super) fn valore_testo(v: f64) -> String {
    if v.fract() == 0.0 {
        return numero(v, 0);
    }
    let s = numero(v, 2);
    if s.contains(',') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches(',').to_owned()
    } else {
        s
    }
}

/// A coordinate, with at most one decimal digit.
pub(super) struct C(pub(super) f64);

impl fmt::Display for C {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = if self.0.is_finite() {
            self.0.clamp(-1e7, 1e7)
        } else {
            0.0
        };
        let r = (x * 10.0).round() / 10.0;
        if r.fract() == 0.0 {
            write!(f, "{}", r as i64)
        } else {
            write!(f, "{r:.1}")
        }
    }
}

/// A text, XML-escaped, with the characters XML 1.0 cannot carry replaced (line breaks and tabs
/// by a space, other control characters by U+FFFD).
pub(super) struct E<'a>(pub(super) &'a str);

impl fmt::Display for E<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_char(' ')?,
                '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => f.write_char('\u{FFFD}')?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_numbers() {
        assert_eq!(numero(1_234_567.0, 0), "1.234.567");
        assert_eq!(numero(0.5, 1), "0,5");
        assert_eq!(numero(-1500.25, 2), "-1.500,25");
        assert_eq!(numero(2e20, 0), "2e20");
        assert_eq!(numero(1.5e20, 0), "1,5e20");
        assert_eq!(valore_testo(87.0), "87");
        assert_eq!(valore_testo(12.5), "12,5");
        assert_eq!(valore_testo(1234.567), "1.234,57");
    }
}
