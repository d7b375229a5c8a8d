//! Build-time generator: the XSD files of `xsd/` become Rust message types with yaserde derives
//! and validators for the facets yaserde does not check. It supports the subset our contracts
//! use (simple types restricting a built-in or another simple type with length, minLength,
//! maxLength, pattern, enumeration, minInclusive/maxInclusive; complex types with a sequence of
//! elements; top-level elements) and fails the build, naming file and construct, on anything else.

mod emit;
mod model;
mod parse;

use std::path::Path;

/// Generates the Rust source for every `*.xsd` in `dir` (sorted by name).
pub fn generate(dir: &Path) -> Result<String, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .collect();
    files.sort();
    let mut schemas = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        schemas.push(parse::schema(stem, &text).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    emit::all(&schemas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_contracts_generate() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../xsd");
        let code = generate(&dir).unwrap();
        assert!(code.contains("pub mod tipi_dati"));
        assert!(code.contains("pub struct VerificaAssistitoFuoriRegioneRichiesta"));
        assert!(code.contains("pub codice_fiscale: String"));
        assert!(code.contains("pub numero_tessera: Option<String>"));
    }

    #[test]
    fn unsupported_constructs_fail_with_their_name() {
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">
            <xs:element name="A"><xs:complexType><xs:choice/></xs:complexType></xs:element></xs:schema>"#;
        let err = parse::schema("X", xsd).unwrap_err();
        assert!(err.contains("choice"), "{err}");
        let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">
            <xs:simpleType name="t"><xs:restriction base="xs:string"><xs:pattern value="\i+"/></xs:restriction></xs:simpleType></xs:schema>"#;
        let s = parse::schema("X", xsd).unwrap();
        assert!(emit::all(&[s]).unwrap_err().contains("pattern"));
    }
}
