//! The checks the generated validators call: presence, occurrences, the lexical spaces of
//! the built-in types, and the facets. A simple value check returns `(Facet, detail)`; the
//! generated code adds the field path with `field`.

use super::{Facet, FacetViolation};
use std::cmp::Ordering;

/// The outcome of checking one simple value.
pub type Check = Result<(), (Facet, String)>;

/// The built-in XSD types a simple type can be based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    String,
    NormalizedString,
    Token,
    Date,
    DateTime,
    Time,
    Boolean,
    Base64Binary,
    Decimal,
    Integer,
    NonNegativeInteger,
    PositiveInteger,
    Long,
    Int,
    Short,
}

/// A required element's value: present and not empty.
pub fn required(value: &str, field: &str) -> Result<(), FacetViolation> {
    if value.is_empty() {
        return Err(FacetViolation::new(
            field,
            Facet::Required,
            "required element missing or empty".into(),
        ));
    }
    Ok(())
}

/// Occurrences of a repeated element; `max` is `u32::MAX` when unbounded.
pub fn occurs(n: usize, min: u32, max: u32, field: &str) -> Result<(), FacetViolation> {
    if n < min as usize {
        let detail = format!("{n} occurrences, at least {min}");
        return Err(FacetViolation::new(field, Facet::MinOccurs, detail));
    }
    if n > max as usize {
        let detail = format!("{n} occurrences, at most {max}");
        return Err(FacetViolation::new(field, Facet::MaxOccurs, detail));
    }
    Ok(())
}

/// Attaches the path of the value to a simple check.
pub fn field(check: Check, path: &str) -> Result<(), FacetViolation> {
    check.map_err(|(facet, detail)| FacetViolation::new(path, facet, detail))
}

/// The path of the `i`-th (0-based) occurrence of a repeated element: `name[i + 1]`.
pub fn item(name: &str, i: usize) -> String {
    format!("{name}[{}]", i + 1)
}

/// Compiles a pattern the generator has already translated and compiled once.
pub fn compile(re: &str) -> regex::Regex {
    regex::Regex::new(re).unwrap_or_else(|e| panic!("generated pattern {re} does not compile: {e}"))
}

/// Lengths in characters, as XSD counts them for strings.
pub fn length(value: &str, exact: Option<usize>, min: Option<usize>, max: Option<usize>) -> Check {
    let n = value.chars().count();
    match (exact, min, max) {
        (Some(e), _, _) if n != e => Err((Facet::Length, format!("length {n}, expected {e}"))),
        (_, Some(m), _) if n < m => Err((Facet::MinLength, format!("length {n}, at least {m}"))),
        (_, _, Some(m)) if n > m => Err((Facet::MaxLength, format!("length {n}, at most {m}"))),
        _ => Ok(()),
    }
}

/// An XSD pattern, translated and anchored by the generator; `shown` is the XSD text.
pub fn pattern(value: &str, re: &regex::Regex, shown: &str) -> Check {
    if re.is_match(value) {
        Ok(())
    } else {
        Err((Facet::Pattern, format!("does not match {shown}")))
    }
}

pub fn one_of(value: &str, allowed: &[&str]) -> Check {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err((Facet::Enumeration, format!("not one of {allowed:?}")))
    }
}

/// min/max bounds as (value, inclusive). `value` has passed `builtin(kind, ..)` already.
pub fn range(
    kind: Builtin,
    value: &str,
    min: Option<(&str, bool)>,
    max: Option<(&str, bool)>,
) -> Check {
    let cmp = |bound: &str| match kind {
        // YYYY-MM-DD compares as text, the calendar date as written (see `canonical`).
        Builtin::Date => Some(split_zone(value).map_or(value, |(d, _)| d).cmp(bound)),
        _ => compare_decimals(value, bound),
    };
    let below = min.is_some_and(|(b, incl)| {
        cmp(b).is_none_or(|o| o == Ordering::Less || (!incl && o == Ordering::Equal))
    });
    let above = max.is_some_and(|(b, incl)| {
        cmp(b).is_none_or(|o| o == Ordering::Greater || (!incl && o == Ordering::Equal))
    });
    if below || above {
        let show = |b: Option<(&str, bool)>, open: &str, closed: &str| {
            b.map(|(v, incl)| format!("{}{v}", if incl { closed } else { open }))
                .unwrap_or_default()
        };
        let bounds = format!("{} {}", show(min, ">", ">="), show(max, "<", "<="));
        return Err((Facet::Range, format!("out of range ({})", bounds.trim())));
    }
    Ok(())
}

/// Splits a decimal into (negative, integer digits, fraction digits), without leading or
/// trailing zeros; None if it is not a decimal.
fn decimal_parts(s: &str) -> Option<(bool, &str, &str)> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let (int, frac) = (int.trim_start_matches('0'), frac.trim_end_matches('0'));
    Some((neg && !(int.is_empty() && frac.is_empty()), int, frac))
}

/// Exact comparison of two decimals of any size.
fn compare_decimals(a: &str, b: &str) -> Option<Ordering> {
    let (an, ai, af) = decimal_parts(a)?;
    let (bn, bi, bf) = decimal_parts(b)?;
    let magnitude = ai.len().cmp(&bi.len()).then(ai.cmp(bi)).then(af.cmp(bf));
    Some(match (an, bn) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
    })
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits a time-zone suffix (`Z`, `+hh:mm`, `-hh:mm`) off a date or time; `None` if the
/// suffix is malformed or out of range (-14:00 to +14:00).
fn split_zone(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_suffix('Z') {
        return Some((rest, "Z"));
    }
    let i = s.len().checked_sub(6)?;
    let (body, tz) = s.split_at_checked(i)?;
    match tz.as_bytes() {
        [b'+' | b'-', _, _, b':', _, _] => {
            let (h, m) = (&tz[1..3], &tz[4..6]);
            let ok =
                digits(h, 2) && digits(m, 2) && m < "60" && (h < "14" || (h, m) == ("14", "00"));
            ok.then_some((body, tz))
        }
        _ => Some((s, "")),
    }
}

/// XSD's `-?YYYY-MM-DD` (more than four year digits allowed, then without leading zeros; no
/// year 0000), a real day of the proleptic Gregorian calendar; no time zone.
fn is_plain_date(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut p = body.rsplitn(3, '-');
    let (Some(d), Some(m), Some(y)) = (p.next(), p.next(), p.next()) else {
        return false;
    };
    if !digits(d, 2) || !digits(m, 2) || y.len() < 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if (y.len() > 4 && y.starts_with('0')) || y.bytes().all(|b| b == b'0') {
        return false;
    }
    let (Ok(month), Ok(day)) = (m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    // Only the year modulo 400 matters (the tsgate schemas narrow dates to four-digit years;
    // for negative years, XSD 1.0 and its implementations disagree on the leap rule anyway).
    let y400 = y
        .bytes()
        .fold(0u32, |a, b| (a * 10 + u32::from(b - b'0')) % 400);
    let leap = y400 % 4 == 0 && (y400 % 100 != 0 || y400 % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// xs:date: a date, optionally with a time zone.
fn is_date(s: &str) -> bool {
    split_zone(s).is_some_and(|(d, _)| is_plain_date(d))
}

/// `hh:mm:ss[.s+]`, or `24:00:00[.0+]` (the end of the day), optionally with a time zone.
fn is_time(s: &str) -> bool {
    let Some((clock, _)) = split_zone(s) else {
        return false;
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => {
            (hms, frac)
        }
        Some(_) => return false,
        None => (clock, ""),
    };
    let p: Vec<&str> = hms.split(':').collect();
    if p.len() != 3 || !p.iter().all(|x| digits(x, 2)) {
        return false;
    }
    (p[0] < "24" && p[1] < "60" && p[2] < "60")
        || (p == ["24", "00", "00"] && frac.bytes().all(|b| b == b'0'))
}

/// Integer lexical form: optional sign, digits.
fn is_integer(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
}

fn is_base64(s: &str) -> bool {
    let b: Vec<u8> = s.bytes().filter(|b| !b" \t\r\n".contains(b)).collect();
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    b.len() % 4 == 0
        && pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// The lexical space of a built-in type; for every type, the characters XML 1.0 can carry.
pub fn builtin(kind: Builtin, value: &str) -> Check {
    if let Some(c) = value.chars().find(|&c| !matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)) {
        return Err((Facet::Lexical, format!("character U+{:04X} is not allowed in XML", u32::from(c))));
    }
    let ok = match kind {
        Builtin::String | Builtin::NormalizedString | Builtin::Token => true,
        Builtin::Date => is_date(value),
        Builtin::DateTime => value
            .split_once('T')
            .is_some_and(|(d, t)| is_date(d) && is_time(t)),
        Builtin::Time => is_time(value),
        Builtin::Boolean => matches!(value, "true" | "false" | "1" | "0"),
        Builtin::Base64Binary => is_base64(value),
        Builtin::Decimal => decimal_parts(value).is_some(),
        Builtin::Integer => is_integer(value),
        Builtin::NonNegativeInteger => {
            is_integer(value) && compare_decimals(value, "0") != Some(Ordering::Less)
        }
        Builtin::PositiveInteger => {
            is_integer(value) && compare_decimals(value, "0") == Some(Ordering::Greater)
        }
        Builtin::Long => is_integer(value) && value.parse::<i64>().is_ok(),
        Builtin::Int => is_integer(value) && value.parse::<i32>().is_ok(),
        Builtin::Short => is_integer(value) && value.parse::<i16>().is_ok(),
    };
    if ok {
        Ok(())
    } else {
        let form = match kind {
            Builtin::Date => " (YYYY-MM-DD, optionally with a time zone)",
            Builtin::DateTime => " (YYYY-MM-DDThh:mm:ss, optionally with a time zone)",
            _ => "",
        };
        Err((
            Facet::Lexical,
            format!("not a valid xs:{}{form}", xs_name(kind)),
        ))
    }
}

/// The canonical form of a value `builtin(kind, ..)` accepted, for the domain types to parse:
/// a date's calendar date as written, without its time zone (`2028-01-31+01:00` and
/// `2028-01-31Z` are 2028-01-31: a date in a message is a day of the sender's calendar, not an
/// instant); integers and decimals without `+` and leading zeros; booleans `true`/`false`.
/// Other values are left as they are.
pub fn canonical(kind: Builtin, value: &mut String) {
    let canon = match kind {
        Builtin::Date => match split_zone(value) {
            Some((d, tz)) if !tz.is_empty() => d.to_owned(),
            _ => return,
        },
        Builtin::Boolean => match value.as_str() {
            "1" => "true".to_owned(),
            "0" => "false".to_owned(),
            _ => return,
        },
        Builtin::Integer
        | Builtin::NonNegativeInteger
        | Builtin::PositiveInteger
        | Builtin::Long
        | Builtin::Int
        | Builtin::Short
        | Builtin::Decimal => {
            let Some((neg, int, frac)) = decimal_parts(value) else {
                return;
            };
            let int = if int.is_empty() { "0" } else { int };
            let sign = if neg { "-" } else { "" };
            match (kind, frac) {
                (Builtin::Decimal, f) if !f.is_empty() => format!("{sign}{int}.{f}"),
                _ => format!("{sign}{int}"),
            }
        }
        _ => return,
    };
    *value = canon;
}

fn xs_name(kind: Builtin) -> &'static str {
    match kind {
        Builtin::String => "string",
        Builtin::NormalizedString => "normalizedString",
        Builtin::Token => "token",
        Builtin::Date => "date",
        Builtin::DateTime => "dateTime",
        Builtin::Time => "time",
        Builtin::Boolean => "boolean",
        Builtin::Base64Binary => "base64Binary",
        Builtin::Decimal => "decimal",
        Builtin::Integer => "integer",
        Builtin::NonNegativeInteger => "nonNegativeInteger",
        Builtin::PositiveInteger => "positiveInteger",
        Builtin::Long => "long",
        Builtin::Int => "int",
        Builtin::Short => "short",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexical(kind: Builtin, good: &[&str], bad: &[&str]) {
        for v in good {
            assert_eq!(builtin(kind, v), Ok(()), "{kind:?} {v}");
        }
        for v in bad {
            assert_eq!(
                builtin(kind, v).map_err(|e| e.0),
                Err(Facet::Lexical),
                "{kind:?} {v}"
            );
        }
    }

    #[test]
    fn lexical_spaces() {
        lexical(Builtin::String, &["", "à\tb\n"], &["a\u{0}", "\u{FFFE}"]);
        lexical(
            Builtin::Date,
            &[
                "2024-02-29",
                "0001-01-01",
                "2024-01-01Z",
                "2028-01-31+01:00",
                "2028-01-31-14:00",
                "12024-02-29",
                "-0044-03-15",
            ],
            &[
                "2023-02-29",
                "2024-13-01",
                "24-01-01",
                "2024-01-01+15:00",
                "0000-01-01",
                "",
            ],
        );
        lexical(
            Builtin::DateTime,
            &[
                "2024-02-29T23:59:59",
                "2024-02-29T00:00:00.123Z",
                "2024-02-29T10:00:00+01:00",
            ],
            &[
                "2024-02-29",
                "2024-02-29 10:00:00",
                "2024-02-29T24:00:01",
                "2024-02-29T10:00:00+15:00",
                "2024-02-29T10:00:00.",
            ],
        );
        lexical(
            Builtin::Time,
            &["10:00:00", "23:59:59.5-05:00"],
            &["10:00", "25:00:00"],
        );
        lexical(
            Builtin::Boolean,
            &["true", "false", "1", "0"],
            &["TRUE", "yes", ""],
        );
        lexical(
            Builtin::Base64Binary,
            &["", "QUJD", "QUI=", "QQ==", "QU JD"],
            &["QUJ", "Q===", "QU=D", "QUJ*"],
        );
        lexical(
            Builtin::Decimal,
            &["1", "-1.5", "+.5", "5.", "007"],
            &[".", "1e3", "1,5", "", "--1"],
        );
        lexical(
            Builtin::Integer,
            &["-123456789012345678901234567890", "+0"],
            &["1.0", ""],
        );
        lexical(Builtin::NonNegativeInteger, &["0", "-0", "12"], &["-1"]);
        lexical(Builtin::PositiveInteger, &["1", "+007"], &["0", "-3"]);
        lexical(
            Builtin::Int,
            &["2147483647", "-2147483648"],
            &["2147483648", " 1"],
        );
        lexical(Builtin::Short, &["32767"], &["32768"]);
        lexical(
            Builtin::Long,
            &["-9223372036854775808"],
            &["9223372036854775808"],
        );
    }

    #[test]
    fn ranges_compare_values_exactly() {
        let r = |v: &str, min, max| range(Builtin::Decimal, v, min, max).map_err(|e| e.0);
        assert_eq!(r("0.1", Some(("0", false)), None), Ok(()));
        assert_eq!(r("0.000", Some(("0", false)), None), Err(Facet::Range));
        assert_eq!(r("-0", Some(("0", true)), None), Ok(()));
        assert_eq!(
            r(
                "99999999999999999999.01",
                None,
                Some(("99999999999999999999", true))
            ),
            Err(Facet::Range)
        );
        assert_eq!(r("-10", Some(("-9.5", true)), None), Err(Facet::Range));
        assert_eq!(
            r("-9.50", Some(("-9.5", true)), Some(("10", false))),
            Ok(())
        );
        assert_eq!(r("10", None, Some(("10", false))), Err(Facet::Range));
        let d = |v: &str| {
            range(
                Builtin::Date,
                v,
                Some(("2021-01-01", true)),
                Some(("2021-12-31", true)),
            )
        };
        assert_eq!(d("2021-06-30"), Ok(()));
        assert_eq!(d("2022-01-01").map_err(|e| e.0), Err(Facet::Range));
    }

    #[test]
    fn lengths_and_lists() {
        assert_eq!(length("àèì", Some(3), None, None), Ok(()));
        assert_eq!(
            length("ab", None, Some(3), None).map_err(|e| e.0),
            Err(Facet::MinLength)
        );
        assert_eq!(
            length("abcd", None, None, Some(3)).map_err(|e| e.0),
            Err(Facet::MaxLength)
        );
        assert_eq!(one_of("01", &["00", "01"]), Ok(()));
        assert_eq!(occurs(0, 0, u32::MAX, "x"), Ok(()));
        assert_eq!(
            occurs(3, 0, 2, "x").map_err(|e| e.facet),
            Err(Facet::MaxOccurs)
        );
        assert_eq!(required(" ", "x"), Ok(()));
        assert_eq!(item("messaggio", 0), "messaggio[1]");
    }
}
