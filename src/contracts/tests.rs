//! Round trips of the real messages, the structural checks of `from_xml`, and the generated
//! facet validation (each rule failing and passing).

use super::tipi_dati::*;
use super::verifica_assistito_fuori_regione::{
    VerificaAssistitoFuoriRegioneRicevuta as Ricevuta,
    VerificaAssistitoFuoriRegioneRichiesta as Richiesta, NAMESPACE,
};
use super::*;

const CF: &str = "<v:codiceFiscale>RSSMRA85T10A562S</v:codiceFiscale>";

/// A request with prefix `v` (as a SOAP client sends it, with the envelope's declarations).
fn request(inner: &str) -> String {
    format!(
        r#"<v:VerificaAssistitoFuoriRegioneRichiesta xmlns:v="{NAMESPACE}" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">{inner}</v:VerificaAssistitoFuoriRegioneRichiesta>"#
    )
}

fn decode(inner: &str) -> Result<Richiesta, String> {
    from_xml(&request(inner)).map_err(|e| e.to_string())
}

/// The violation of a value as written (`from_xml`), or else of the decoded value.
fn violation(inner: &str) -> (String, Facet) {
    match from_xml::<Richiesta>(&request(inner)).map(|r| r.validate()) {
        Err(Refusal::Value(v)) | Ok(Err(v)) => (v.field, v.facet),
        other => panic!("expected a violation for {inner}, got {other:?}"),
    }
}

fn ricevuta() -> Ricevuta {
    Ricevuta {
        identificativo_transazione: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
        esito: "00".into(),
        regione_assistenza: Some("120".into()),
        regione_residenza: None,
        descrizione_esito: "Dati coerenti & <ok>".into(),
        identificativo_cluster: Some("SANITARI".into()),
    }
}

fn messaggio(codice: &str) -> MessaggioType {
    MessaggioType {
        codice: codice.into(),
        descrizione: "testo".into(),
    }
}

#[test]
fn request_with_prefix_and_with_default_namespace() {
    let r = decode(&format!(
        "{CF}<v:dataScadenzaTessera>2027-01-31</v:dataScadenzaTessera>"
    ))
    .unwrap();
    assert_eq!(r.codice_fiscale, "RSSMRA85T10A562S");
    assert_eq!(r.data_scadenza_tessera.as_deref(), Some("2027-01-31"));
    assert_eq!(r.numero_tessera, None);
    assert_eq!(r.validate(), Ok(()));
    let d: Richiesta = from_xml(&format!(
        r#"<VerificaAssistitoFuoriRegioneRichiesta xmlns="{NAMESPACE}">
             <codiceFiscale>RSSMRA85T10A562S</codiceFiscale><!-- c -->
             <dataScadenzaTessera>
               2027-01-31+01:00 </dataScadenzaTessera>
             <regioneChiamante>030</regioneChiamante>
           </VerificaAssistitoFuoriRegioneRichiesta>"#
    ))
    .unwrap();
    assert_eq!(d.codice_fiscale, "RSSMRA85T10A562S");
    // xs:date collapses whitespace; the time zone goes, the calendar date stays.
    assert_eq!(d.data_scadenza_tessera.as_deref(), Some("2027-01-31"));
    // xs:string keeps it: a padded codice fiscale is 18 characters long, as for any validator.
    assert_eq!(
        violation("<v:codiceFiscale> RSSMRA85T10A562S </v:codiceFiscale>"),
        ("codiceFiscale".to_owned(), Facet::Length)
    );
    assert_eq!(d.regione_chiamante.as_deref(), Some("030"));
    // Character references are resolved and CDATA is text, before the facets judge the value.
    let e = decode("<v:codiceFiscale>RSSMRA85T10A&#x35;6<![CDATA[2S]]></v:codiceFiscale>").unwrap();
    assert_eq!(e.codice_fiscale, "RSSMRA85T10A562S");
}

#[test]
fn wrong_root_is_a_clear_error() {
    let expected = format!("expected {{{NAMESPACE}}}VerificaAssistitoFuoriRegioneRichiesta");
    for xml in [
        r#"<VerificaAssistitoFuoriRegioneRichiesta xmlns="urn:altro"><codiceFiscale>X</codiceFiscale></VerificaAssistitoFuoriRegioneRichiesta>"#.to_owned(),
        "<VerificaAssistitoFuoriRegioneRichiesta><codiceFiscale>X</codiceFiscale></VerificaAssistitoFuoriRegioneRichiesta>".to_owned(),
        format!(r#"<Altro xmlns="{NAMESPACE}"><codiceFiscale>X</codiceFiscale></Altro>"#),
    ] {
        let err = from_xml::<Richiesta>(&xml).unwrap_err().to_string();
        assert!(err.starts_with("the root element is ") && err.ends_with(&expected), "{err}");
    }
    let err = from_xml::<Richiesta>("<v:X/>").unwrap_err().to_string();
    assert!(err.contains("undeclared namespace prefix `v`"), "{err}");
    let err = from_xml::<Richiesta>(&format!("{}<x/>", request(CF)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("content after the root element"), "{err}");
}

#[test]
fn structure_is_checked_before_yaserde() {
    let err = |inner: &str| decode(inner).unwrap_err();
    // A child in another namespace, or unknown, is refused (yaserde would skip it).
    let e = err(r#"<x:codiceFiscale xmlns:x="urn:x">RSSMRA85T10A562S</x:codiceFiscale>"#);
    assert_eq!(
        e,
        "codiceFiscale is a required field (missing element, found {urn:x}codiceFiscale)"
    );
    let e = err(&format!("{CF}<v:altro>1</v:altro>"));
    assert_eq!(
        e,
        format!("altro: element {{{NAMESPACE}}}altro not expected here")
    );
    // Repeated single elements and wrong order (yaserde would keep the last / accept).
    let e = err(&format!("{CF}{CF}"));
    assert!(
        e.starts_with("codiceFiscale: element") && e.ends_with("repeated or out of order"),
        "{e}"
    );
    let e = err(&format!(
        "<v:regioneChiamante>030</v:regioneChiamante><v:numeroTessera>1</v:numeroTessera>{CF}"
    ));
    assert!(e.starts_with("codiceFiscale is a required field"), "{e}");
    let e = err(&format!(
        "{CF}<v:regioneChiamante>030</v:regioneChiamante><v:numeroTessera>1</v:numeroTessera>"
    ));
    assert!(
        e.ends_with("numeroTessera not expected here") || e.ends_with("repeated or out of order"),
        "{e}"
    );
    // Missing, stray text, children of simple elements, attributes.
    assert_eq!(
        err(""),
        "codiceFiscale is a required field (missing element)"
    );
    assert_eq!(
        err(&format!("testo{CF}")),
        "VerificaAssistitoFuoriRegioneRichiesta: text not allowed here"
    );
    assert_eq!(
        err("<v:codiceFiscale><v:b>X</v:b></v:codiceFiscale>"),
        "codiceFiscale: unexpected child element b"
    );
    assert_eq!(
        err(r#"<v:codiceFiscale id="1">RSSMRA85T10A562S</v:codiceFiscale>"#),
        "codiceFiscale: attribute id not allowed"
    );
    let nil = r#"<v:numeroTessera xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>"#;
    assert_eq!(
        err(&format!("{CF}{nil}")),
        "numeroTessera: attribute xsi:nil not allowed"
    );
    assert!(err("<v:codiceFiscale>").starts_with("not well-formed XML"));
}

#[test]
fn facets_of_the_request() {
    assert_eq!(decode(CF).unwrap().validate(), Ok(()));
    let cases = [
        (
            "<v:codiceFiscale></v:codiceFiscale>",
            "codiceFiscale",
            Facet::Required,
        ),
        ("<v:codiceFiscale/>", "codiceFiscale", Facet::Required),
        (
            "<v:codiceFiscale>rssmra85t10a562s</v:codiceFiscale>",
            "codiceFiscale",
            Facet::Pattern,
        ),
        (
            "<v:codiceFiscale>RSSMRA85T10A562</v:codiceFiscale>",
            "codiceFiscale",
            Facet::Length,
        ),
        (
            "<v:codiceFiscale>RSSMRA85T10A562S1</v:codiceFiscale>",
            "codiceFiscale",
            Facet::Length,
        ),
    ];
    for (inner, field, facet) in cases {
        assert_eq!(violation(inner), (field.to_owned(), facet), "{inner}");
    }
    let after_cf = [
        (
            "<v:numeroTessera>123</v:numeroTessera>",
            "numeroTessera",
            Facet::Length,
        ),
        ("<v:numeroTessera/>", "numeroTessera", Facet::Length),
        (
            "<v:numeroTessera>8038000000000000000A</v:numeroTessera>",
            "numeroTessera",
            Facet::Pattern,
        ),
        (
            "<v:dataScadenzaTessera>2027-02-30</v:dataScadenzaTessera>",
            "dataScadenzaTessera",
            Facet::Lexical,
        ),
        (
            "<v:dataScadenzaTessera>2027-1-31</v:dataScadenzaTessera>",
            "dataScadenzaTessera",
            Facet::Lexical,
        ),
        (
            "<v:dataScadenzaTessera>2027-01-31+15:00</v:dataScadenzaTessera>",
            "dataScadenzaTessera",
            Facet::Lexical,
        ),
        (
            "<v:dataScadenzaTessera>12027-01-31</v:dataScadenzaTessera>",
            "dataScadenzaTessera",
            Facet::Pattern,
        ),
        (
            "<v:regioneChiamante>3A0</v:regioneChiamante>",
            "regioneChiamante",
            Facet::Pattern,
        ),
        // The first violation in document order wins.
        (
            "<v:numeroTessera>1</v:numeroTessera><v:regioneChiamante>3</v:regioneChiamante>",
            "numeroTessera",
            Facet::Length,
        ),
    ];
    for (inner, field, facet) in after_cf {
        assert_eq!(
            violation(&format!("{CF}{inner}")),
            (field.to_owned(), facet),
            "{inner}"
        );
    }
    let ok = "<v:numeroTessera>80380000000000000001</v:numeroTessera><v:dataScadenzaTessera>2028-02-29</v:dataScadenzaTessera><v:regioneChiamante>030</v:regioneChiamante>";
    assert_eq!(decode(&format!("{CF}{ok}")).unwrap().validate(), Ok(()));
}

#[test]
fn response_round_trips_and_is_checked() {
    let r = ricevuta();
    assert_eq!(r.validate(), Ok(()));
    let xml = to_xml(&r).unwrap();
    assert!(
        xml.starts_with("<vafr:VerificaAssistitoFuoriRegioneRicevuta xmlns:vafr=\""),
        "{xml}"
    );
    assert!(
        xml.contains("<vafr:esito>00</vafr:esito>") && xml.contains("&amp; &lt;ok&gt;"),
        "{xml}"
    );
    assert!(!xml.contains("regioneResidenza"), "{xml}");
    assert_eq!(from_xml::<Ricevuta>(&xml).unwrap(), r);
    let req = decode(&format!("{CF}<v:regioneChiamante>030</v:regioneChiamante>")).unwrap();
    assert_eq!(from_xml::<Richiesta>(&to_xml(&req).unwrap()).unwrap(), req);

    let bad = |f: fn(&mut Ricevuta)| {
        let mut r = ricevuta();
        f(&mut r);
        r.validate().map_err(|v| (v.field, v.facet))
    };
    let v = |field: &str, facet| Err((field.to_owned(), facet));
    assert_eq!(
        bad(|r| r.esito = "03".into()),
        v("esito", Facet::Enumeration)
    );
    assert_eq!(bad(|r| r.esito.clear()), v("esito", Facet::Required));
    assert_eq!(
        bad(|r| r.descrizione_esito = "x".repeat(256)),
        v("descrizioneEsito", Facet::MaxLength)
    );
    assert_eq!(
        bad(|r| r.descrizione_esito = "è".repeat(255)),
        Ok(()),
        "lengths count characters"
    );
    assert_eq!(
        bad(|r| r.descrizione_esito = "a\u{1}b".into()),
        v("descrizioneEsito", Facet::Lexical)
    );
    assert_eq!(
        bad(|r| r.identificativo_cluster = Some(String::new())),
        v("identificativoCluster", Facet::MinLength)
    );
    assert_eq!(
        bad(|r| r.identificativo_cluster = Some("a-b".into())),
        v("identificativoCluster", Facet::Pattern)
    );
    assert_eq!(
        bad(|r| r.identificativo_transazione = "01890A5D-AC96-774B-BCCE-B302099A8057".into()),
        v("identificativoTransazione", Facet::Pattern)
    );
}

#[test]
fn nested_lists_check_occurrences_and_report_paths() {
    let list = ListaMessaggiType {
        messaggio: vec![messaggio("E01"), messaggio(&"X".repeat(11))],
    };
    let e = list.validate().unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.facet),
        ("messaggio[2]/codice", Facet::MaxLength)
    );
    assert_eq!(
        e.clone().within("listaMessaggi").field,
        "listaMessaggi/messaggio[2]/codice"
    );
    assert_eq!(
        ListaMessaggiType::default().validate().unwrap_err().facet,
        Facet::MinOccurs
    );
    let many = ListaMessaggiType {
        messaggio: vec![messaggio("E"); 101],
    };
    assert_eq!(many.validate().unwrap_err().facet, Facet::MaxOccurs);
    let ok = ListaMessaggiType {
        messaggio: vec![messaggio("E"); 100],
    };
    assert_eq!(ok.validate(), Ok(()));
    // Round trip in the shared namespace; the content model sees the 101st element.
    let xml = to_xml(&ok).unwrap();
    assert!(
        xml.starts_with(&format!(
            "<td:listaMessaggiType xmlns:td=\"{}\"><td:messaggio>",
            super::tipi_dati::NAMESPACE
        )),
        "{xml}"
    );
    assert_eq!(from_xml::<ListaMessaggiType>(&xml).unwrap(), ok);
    let err = from_xml::<ListaMessaggiType>(&to_xml(&many).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("messaggio[100]: element") || err.contains("repeated or out of order"),
        "{err}"
    );
    let err = from_xml::<ListaMessaggiType>(&to_xml(&ListaMessaggiType::default()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("messaggio is a required field"), "{err}");
    let missing = format!(
        r#"<listaMessaggiType xmlns="{}"><messaggio><codice>A</codice></messaggio></listaMessaggiType>"#,
        super::tipi_dati::NAMESPACE
    );
    assert_eq!(
        from_xml::<ListaMessaggiType>(&missing)
            .unwrap_err()
            .to_string(),
        "messaggio[1]/descrizione is a required field (missing element)"
    );
}

#[test]
fn simple_type_validators_are_reusable() {
    assert_eq!(validate_codice_fiscale_type("RCCMNL83S18D969H"), Ok(()));
    assert_eq!(
        validate_codice_regione_type("30").unwrap_err().0,
        Facet::Length
    );
    assert_eq!(validate_esito_type("02"), Ok(()));
}
