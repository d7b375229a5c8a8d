//! Build-time generator: the XSD files of `xsd/` become Rust message types with yaserde
//! derives, content models, and validators for the facets yaserde does not check.
//!
//! Supported subset (everything else fails the build, naming file, line and construct):
//! - `xs:schema` with a targetNamespace and `elementFormDefault="qualified"`, `xs:import`;
//! - top-level `xs:element`s with an inline `xs:complexType` (the operation messages);
//! - named and inline `xs:complexType`s holding at most one `xs:sequence` of local
//!   `xs:element`s (`name`, `type` or inline type, `minOccurs`, `maxOccurs`);
//! - named and inline `xs:simpleType`s: one `xs:restriction` of a built-in or another simple
//!   type with length, minLength, maxLength, pattern, enumeration, min/maxInclusive,
//!   min/maxExclusive;
//! - built-ins: string, normalizedString, token, date, dateTime, time, boolean, base64Binary,
//!   decimal, integer, nonNegativeInteger, positiveInteger, long, int, short;
//! - `xs:annotation/xs:documentation`, which becomes doc comments.

mod emit;
mod emit_simple;
mod emit_struct;
mod model;
mod names;
mod parse;
mod pattern;
mod tree;
mod world;

use std::path::{Path, PathBuf};

/// The `*.xsd` files of `dir`, sorted by name.
pub fn schema_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .collect();
    files.sort();
    Ok(files)
}

/// Generates the Rust source for every `*.xsd` in `dir`.
pub fn generate(dir: &Path) -> Result<String, String> {
    let mut sources = Vec::new();
    for f in schema_files(dir)? {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        sources.push((stem, text));
    }
    generate_from(&sources).map_err(|e| format!("{}/{e}", dir.display()))
}

/// Generates the Rust source for schemas given as (file stem, text); errors start with the
/// file name.
pub fn generate_from(sources: &[(String, String)]) -> Result<String, String> {
    let schemas = sources
        .iter()
        .map(|(stem, text)| parse::schema(stem, text).map_err(|e| format!("{stem}.xsd: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    emit::all(&schemas)
}

#[cfg(test)]
mod tests;
