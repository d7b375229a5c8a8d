//! Simple types -> validator functions: `validate_<type>` checks the base type, then the
//! type's own facets (length, pattern, enumeration, bounds).

use crate::model::*;
use crate::pattern;
use crate::world::{doc, validator, Category, Resolved, World};
use std::fmt::Write;

/// Emits `pub fn validate_<type>(value: &str) -> Result<(), (Facet, String)>`: the checks of
/// the base type first, then this step's facets in a fixed order.
pub fn simple(
    out: &mut String,
    world: &World<'_>,
    st: &SimpleType,
    taken: &mut Vec<String>,
) -> Result<(), String> {
    let func = validator(st);
    if taken.contains(&func) {
        return Err(format!("{}: validator name `{func}` is taken", st.origin));
    }
    taken.push(func.clone());
    let (kind, cat) = world.primitive(st)?;
    let f = &st.facets;
    let what = &st.origin;
    doc(out, "    ", &st.doc);
    let _ = writeln!(
        out,
        "    /// Checks a value against the facets of {} (and of its base types).",
        st.origin.replace('`', "")
    );
    let _ = writeln!(
        out,
        "    pub fn {func}(value: &str) -> Result<(), (super::Facet, String)> {{"
    );
    match world.resolve(&st.base)? {
        Resolved::Builtin(b, _) => {
            let _ = writeln!(out, "        v::builtin(v::Builtin::{b}, value)?;");
        }
        Resolved::Simple { module, st: base } => {
            let _ = writeln!(out, "        super::{module}::{}(value)?;", validator(base));
        }
        Resolved::Complex { .. } => return Err(format!("{what}: restricts a complex type")),
    }
    let opt = |v: Option<usize>| v.map_or("None".into(), |n| format!("Some({n})"));
    if f.length.is_some() || f.min_length.is_some() || f.max_length.is_some() {
        if cat != Category::Text {
            return Err(format!(
                "{what}: length facets on xs:{kind} are not supported"
            ));
        }
        let _ = writeln!(
            out,
            "        v::length(value, {}, {}, {})?;",
            opt(f.length),
            opt(f.min_length),
            opt(f.max_length)
        );
    }
    if !f.patterns.is_empty() {
        let re = pattern::anchored(&f.patterns).map_err(|e| format!("{what}: {e}"))?;
        let shown = f.patterns.join(" | ");
        let _ = writeln!(out, "        static RE: std::sync::LazyLock<regex::Regex> =\n            std::sync::LazyLock::new(|| v::compile({re:?}));");
        let _ = writeln!(out, "        v::pattern(value, &RE, {shown:?})?;");
    }
    if !f.enumeration.is_empty() {
        if cat != Category::Text {
            return Err(format!("{what}: enumeration on xs:{kind} is not supported (values, not strings, would be compared)"));
        }
        let _ = writeln!(out, "        v::one_of(value, &{:?})?;", f.enumeration);
    }
    if f.min.is_some() || f.max.is_some() {
        if !matches!(cat, Category::Numeric | Category::Date) {
            return Err(format!(
                "{what}: range facets on xs:{kind} are not supported"
            ));
        }
        let bound = |b: &Option<Bound>| -> Result<String, String> {
            let Some(b) = b else { return Ok("None".into()) };
            if !valid_bound(cat, &b.value) {
                return Err(format!(
                    "{what}: `{}` is not a valid xs:{kind} bound",
                    b.value
                ));
            }
            Ok(format!("Some(({:?}, {}))", b.value, b.inclusive))
        };
        let _ = writeln!(
            out,
            "        v::range(v::Builtin::{kind}, value, {}, {})?;",
            bound(&f.min)?,
            bound(&f.max)?
        );
    }
    out.push_str("        Ok(())\n    }\n\n");
    Ok(())
}

/// A bound must be in the lexical space the runtime compares: decimals, or YYYY-MM-DD.
fn valid_bound(cat: Category, v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match cat {
        Category::Numeric => {
            let v = v.strip_prefix(['+', '-']).unwrap_or(v);
            let (int, frac) = v.split_once('.').unwrap_or((v, ""));
            (digits(int) || (int.is_empty() && digits(frac))) && (frac.is_empty() || digits(frac))
        }
        Category::Date => {
            let p: Vec<&str> = v.split('-').collect();
            p.len() == 3
                && p[0].len() == 4
                && p[1].len() == 2
                && p[2].len() == 2
                && p.iter().all(|x| digits(x))
        }
        _ => false,
    }
}
