//! XSD regular expressions (XML Schema part 2, appendix F) -> `regex` crate syntax.
//!
//! The two dialects mostly agree; the differences handled here:
//! - XSD patterns match the whole value: the result is wrapped in `^(?:...)$`, and the
//!   alternatives of several xs:pattern facets of one step are joined with `|`;
//! - `^` and `$` are ordinary characters in XSD: escaped;
//! - `.` excludes `\n` and `\r` in XSD;
//! - `\s` is `[ \t\n\r]` and `\w` is "not punctuation, separator or other" in XSD, narrower
//!   resp. different from Unicode `\s`/`\w` in `regex`: spelled out;
//! - inside a class, `&` and `~` are literal in XSD but set operators (`&&`, `~~`) in `regex`:
//!   escaped.
//!
//! Refused (the build fails naming the pattern): class subtraction `[a-z-[aeiou]]`, the
//! XML-name escapes `\i \I \c \C`, block escapes `\p{IsBasicLatin}`, nested `[` in a class,
//! `(?` groups, and any escape XSD does not define.

/// Translates one XSD pattern (not anchored) to `regex` syntax (not anchored).
pub fn translate(xsd: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = xsd.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let e = chars.next().ok_or("pattern ends with `\\`")?;
                out.push_str(&escape(e, in_class, &mut chars)?);
            }
            '[' if in_class => {
                return Err(
                    "`[` inside a character class (class subtraction?) is not supported".into(),
                )
            }
            '[' => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            ']' if in_class && !at_class_start => {
                in_class = false;
                out.push(']');
            }
            '-' if in_class && chars.peek() == Some(&'[') => {
                return Err("class subtraction `-[...]` is not supported".into())
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '^' | '$' if !in_class => {
                out.push('\\');
                out.push(c);
            }
            '.' if !in_class => out.push_str(r"[^\n\r]"),
            '(' if chars.peek() == Some(&'?') && !in_class => {
                return Err("`(?` is not XSD syntax".into())
            }
            _ => out.push(c),
        }
    }
    if in_class {
        return Err("unterminated character class".into());
    }
    Ok(out)
}

/// One escape sequence `\e` (the backslash already consumed).
fn escape(
    e: char,
    in_class: bool,
    rest: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<String, String> {
    const S: &str = r" \t\n\r";
    const W: &str = r"\p{P}\p{Z}\p{C}";
    Ok(match e {
        // Single-character escapes of XSD.
        'n' | 'r' | 't' | '\\' | '|' | '.' | '-' | '^' | '?' | '*' | '+' | '{' | '}' | '('
        | ')' | '[' | ']' => format!("\\{e}"),
        'd' | 'D' => format!("\\{e}"),
        's' if in_class => S.into(),
        's' => format!("[{S}]"),
        'S' => format!("[^{S}]"),
        'w' => format!("[^{W}]"),
        'W' => format!("[{W}]"),
        'p' | 'P' => {
            if rest.next() != Some('{') {
                return Err(format!("`\\{e}` without `{{`"));
            }
            let mut name = String::new();
            loop {
                match rest.next() {
                    Some('}') => break,
                    Some(c) => name.push(c),
                    None => return Err(format!("unterminated `\\{e}{{`")),
                }
            }
            if name.starts_with("Is") {
                return Err(format!("block escape `\\{e}{{{name}}}` is not supported"));
            }
            format!("\\{e}{{{name}}}")
        }
        'i' | 'I' | 'c' | 'C' => {
            return Err(format!("`\\{e}` (XML name characters) is not supported"))
        }
        other => return Err(format!("`\\{other}` is not an XSD escape")),
    })
}

/// The anchored expression for the alternatives of one restriction step.
pub fn anchored(patterns: &[String]) -> Result<String, String> {
    let parts = patterns
        .iter()
        .map(|p| translate(p).map_err(|e| format!("pattern `{p}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let joined = if parts.len() == 1 {
        parts.concat()
    } else {
        parts
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|")
    };
    let re = format!("^(?:{joined})$");
    regex::Regex::new(&re).map_err(|e| format!("pattern `{}`: {e}", patterns.join("` | `")))?;
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(xsd: &str, value: &str) -> bool {
        let re = anchored(&[xsd.to_owned()]).unwrap();
        regex::Regex::new(&re).unwrap().is_match(value)
    }

    #[test]
    fn dialect_differences() {
        assert!(matches("[0-9]{3}", "030"));
        assert!(!matches("[0-9]{3}", "0301"), "implicitly anchored");
        assert!(matches("a|b", "b") && !matches("a|b", "ab"));
        assert!(matches("^a$", "^a$"), "^ and $ are literal");
        assert!(!matches("a.b", "a\rb") && matches("a.b", "a b"));
        assert!(matches(r"\s", "\t") && !matches(r"\s", "\u{a0}"));
        assert!(matches(r"\w+", "ab$") && !matches(r"\w", "_"));
        assert!(matches("[a&b]", "&") && matches("[~]", "~"));
        assert!(matches(r"[\s\d]+", "1 2"));
        assert!(matches(r"\p{Lu}+", "ÀB"));
        assert!(matches("[^-a]", "b") && matches("[]a]", "]"));
    }

    #[test]
    fn refused_constructs() {
        for bad in [
            r"\i\c*",
            "[a-z-[aeiou]]",
            r"\p{IsBasicLatin}",
            "(?i)a",
            r"\z",
            "[a",
            "a\\",
        ] {
            assert!(anchored(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn several_patterns_are_alternatives() {
        let re = anchored(&["[0-9]{2}".into(), "[A-Z]".into()]).unwrap();
        let re = regex::Regex::new(&re).unwrap();
        assert!(re.is_match("12") && re.is_match("Q") && !re.is_match("12Q"));
    }
}
