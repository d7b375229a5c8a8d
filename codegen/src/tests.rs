use super::*;

fn real() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../xsd");
    match generate(&dir) {
        Ok(code) => code,
        Err(e) => panic!("{e}"),
    }
}

/// One schema `X.xsd` in namespace urn:x with `body` inside xs:schema, next to TipiDati.
fn one(body: &str) -> Result<String, String> {
    let xsd = format!(
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:td="urn:tsgate:tipidati"
            xmlns:tns="urn:x" targetNamespace="urn:x" elementFormDefault="qualified">{body}</xs:schema>"#
    );
    let tipi =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../xsd/TipiDati.xsd"))
            .map_err(|e| e.to_string())?;
    generate_from(&[("TipiDati".into(), tipi), ("X".into(), xsd)])
}

fn fails(body: &str, expected: &[&str]) {
    match one(body) {
        Ok(_) => panic!("accepted: {body}"),
        Err(e) => {
            assert!(e.starts_with("X.xsd: "), "{e}");
            for part in expected {
                assert!(e.contains(part), "`{e}` does not mention `{part}`");
            }
        }
    }
}

#[test]
fn real_contracts_generate() {
    let code = real();
    for part in [
        "pub mod tipi_dati {",
        "pub mod verifica_assistito_fuori_regione {",
        "pub const NAMESPACE: &str = \"urn:tsgate:vaccini:verificaAssistitoFuoriRegione\";",
        "pub struct VerificaAssistitoFuoriRegioneRichiesta {",
        "pub struct VerificaAssistitoFuoriRegioneRicevuta {",
        "pub codice_fiscale: String,",
        "pub numero_tessera: Option<String>,",
        "pub messaggio: Vec<super::tipi_dati::MessaggioType>,",
        "#[yaserde(rename = \"codiceFiscale\", prefix = \"vafr\")]",
        "/// Only from the Piattaforma Nazionale: the region on whose behalf it calls.",
        "pub fn validate_codice_fiscale_type(value: &str)",
        "v::occurs(self.messaggio.len(), 1, 100, \"messaggio\")?;",
        "v::builtin(v::Builtin::Date, x)",
    ] {
        assert!(code.contains(part), "missing `{part}`");
    }
}

#[test]
fn inline_types_and_lists() {
    let code = one(
        r#"<xs:element name="ProvaRichiesta"><xs:complexType><xs:sequence>
             <xs:element name="motivo" minOccurs="0"><xs:simpleType><xs:restriction base="xs:string">
               <xs:maxLength value="50"/></xs:restriction></xs:simpleType></xs:element>
             <xs:element name="voce" maxOccurs="unbounded"><xs:complexType><xs:sequence>
               <xs:element name="importo" type="tns:importoType"/></xs:sequence></xs:complexType></xs:element>
             <xs:element name="messaggi" type="td:listaMessaggiType" minOccurs="0"/>
           </xs:sequence></xs:complexType></xs:element>
           <xs:simpleType name="importoType"><xs:restriction base="xs:decimal">
             <xs:minExclusive value="0"/><xs:maxInclusive value="9999.99"/></xs:restriction></xs:simpleType>"#,
    )
    .unwrap();
    for part in [
        "pub fn validate_prova_richiesta_motivo(value: &str)",
        "pub struct ProvaRichiestaVoce {",
        "pub voce: Vec<ProvaRichiestaVoce>,",
        "pub messaggi: Option<super::tipi_dati::ListaMessaggiType>,",
        "v::range(v::Builtin::Decimal, value, Some((\"0\", false)), Some((\"9999.99\", true)))?;",
        "content: super::Content::Complex(&super::x::PROVA_RICHIESTA_VOCE_CONTENT)",
        "max: u32::MAX",
    ] {
        assert!(code.contains(part), "missing `{part}` in\n{code}");
    }
}

#[test]
fn unsupported_constructs_fail_with_their_place() {
    let el = |inner: &str| {
        format!(r#"<xs:element name="A"><xs:complexType>{inner}</xs:complexType></xs:element>"#)
    };
    fails(&el("<xs:choice/>"), &["line 2", "element `A`", "xs:choice"]);
    fails(
        &el("<xs:attribute name=\"a\" type=\"xs:string\"/>"),
        &["xs:attribute"],
    );
    fails(&el("<xs:sequence><xs:any/></xs:sequence>"), &["xs:any"]);
    fails(
        &el("<xs:sequence><xs:element ref=\"tns:b\"/></xs:sequence>"),
        &["ref="],
    );
    fails(&el("<xs:sequence maxOccurs=\"2\"><xs:element name=\"b\" type=\"xs:string\"/></xs:sequence>"), &["xs:sequence"]);
    fails(&el("<xs:sequence><xs:element name=\"b\" type=\"xs:string\" nillable=\"true\"/></xs:sequence>"), &["A/b", "nillable"]);
    fails(
        &el("<xs:sequence><xs:element name=\"b\" type=\"xs:string\" default=\"x\"/></xs:sequence>"),
        &["A/b", "default"],
    );
    fails(
        &el("<xs:sequence><xs:element name=\"b\" type=\"xs:duration\"/></xs:sequence>"),
        &["A/b", "xs:duration"],
    );
    fails(
        &el("<xs:sequence><xs:element name=\"b\" type=\"tns:nope\"/></xs:sequence>"),
        &["A/b", "unknown type {urn:x}nope"],
    );
    fails(
        &el("<xs:sequence><xs:element name=\"b\" type=\"q:nope\"/></xs:sequence>"),
        &["unbound prefix `q`"],
    );
    fails(
        &el("<xs:sequence><xs:element name=\"b\"/></xs:sequence>"),
        &["A/b", "exactly one of type="],
    );
    fails(&el("<xs:complexContent/>"), &["xs:complexContent"]);
    fails(
        r#"<xs:element name="A" type="tns:T"/>"#,
        &["element `A`", "type"],
    );
    fails(r#"<xs:group name="g"/>"#, &["xs:group"]);
    fails(r#"<xs:include schemaLocation="y.xsd"/>"#, &["xs:include"]);
    let st = |inner: &str| format!(r#"<xs:simpleType name="t">{inner}</xs:simpleType>"#);
    fails(
        &st("<xs:list itemType=\"xs:string\"/>"),
        &["simpleType `t`", "xs:list"],
    );
    fails(&st("<xs:union memberTypes=\"xs:string\"/>"), &["xs:union"]);
    fails(&st("<xs:restriction base=\"xs:string\"><xs:whiteSpace value=\"collapse\"/></xs:restriction>"), &["xs:whiteSpace"]);
    fails(
        &st("<xs:restriction base=\"xs:decimal\"><xs:totalDigits value=\"5\"/></xs:restriction>"),
        &["xs:totalDigits"],
    );
    fails(
        &st(r#"<xs:restriction base="xs:string"><xs:pattern value="\i\c*"/></xs:restriction>"#),
        &["simpleType `t`", "\\i"],
    );
    fails(
        &st(
            r#"<xs:restriction base="xs:string"><xs:pattern value="[a-z-[aeiou]]"/></xs:restriction>"#,
        ),
        &["subtraction"],
    );
    fails(
        &st("<xs:restriction base=\"xs:int\"><xs:maxLength value=\"5\"/></xs:restriction>"),
        &["length facets on xs:Int"],
    );
    fails(
        &st("<xs:restriction base=\"xs:int\"><xs:enumeration value=\"5\"/></xs:restriction>"),
        &["enumeration on xs:Int"],
    );
    fails(
        &st("<xs:restriction base=\"xs:string\"><xs:minInclusive value=\"5\"/></xs:restriction>"),
        &["range facets"],
    );
    fails(
        &st("<xs:restriction base=\"xs:int\"><xs:minInclusive value=\"five\"/></xs:restriction>"),
        &["`five`"],
    );
    fails(
        &st("<xs:restriction base=\"xs:string\"><xs:length value=\"-1\"/></xs:restriction>"),
        &["`-1` is not a length"],
    );
}

#[test]
fn schema_level_requirements() {
    let unqualified =
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:y"/>"#;
    let err = generate_from(&[("Y".into(), unqualified.into())]).unwrap_err();
    assert!(
        err.contains("Y.xsd") && err.contains("elementFormDefault"),
        "{err}"
    );
    let not_xsd = r#"<schema xmlns="urn:other" targetNamespace="urn:y"/>"#;
    assert!(generate_from(&[("Y".into(), not_xsd.into())]).is_err());
    let err = one(r#"<xs:complexType name="nodo"><xs:sequence><xs:element name="figlio" type="tns:nodo" minOccurs="0"/></xs:sequence></xs:complexType>"#)
        .unwrap_err();
    assert!(
        err.contains("recursive types are not supported: Nodo -> Nodo"),
        "{err}"
    );
    let err = one(r#"<xs:element name="A"><xs:complexType/></xs:element><xs:element name="A"><xs:complexType/></xs:element>"#)
        .unwrap_err();
    assert!(err.contains("struct name `A` is taken"), "{err}");
}
