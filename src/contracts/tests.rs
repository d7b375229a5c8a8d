use super::tipi_dati::*;
use super::verifica_assistito_fuori_regione::{
    VerificaAssistitoFuoriRegioneRicevuta as Ricevuta,
    VerificaAssistitoFuoriRegioneRichiesta as Richiesta, NAMESPACE,
};
use super::*;

fn request(inner: &str) -> String {
    format!(
        r#"<v:VerificaAssistitoFuoriRegioneRichiesta xmlns:v="{NAMESPACE}" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">{inner}</v:VerificaAssistitoFuoriRegioneRichiesta>"#
    )
}

#[test]
fn request_with_prefix_and_with_default_namespace() {
    let r: Richiesta = from_xml(&request(
        "<v:codiceFiscale>RSSMRA85T10A562S</v:codiceFiscale><v:dataScadenzaTessera>2027-01-31</v:dataScadenzaTessera>",
    ))
    .unwrap();
    assert_eq!(r.codice_fiscale, "RSSMRA85T10A562S");
    assert_eq!(r.data_scadenza_tessera.as_deref(), Some("2027-01-31"));
    assert_eq!(r.numero_tessera, None);
    assert!(r.validate().is_ok());
    let d: Richiesta = from_xml(&format!(
        r#"<VerificaAssistitoFuoriRegioneRichiesta xmlns="{NAMESPACE}"><codiceFiscale>RSSMRA85T10A562S</codiceFiscale><regioneChiamante>030</regioneChiamante></VerificaAssistitoFuoriRegioneRichiesta>"#
    ))
    .unwrap();
    assert_eq!(d.regione_chiamante.as_deref(), Some("030"));
}

#[test]
fn wrong_namespace_is_an_error_and_foreign_children_are_ignored() {
    let wrong = r#"<VerificaAssistitoFuoriRegioneRichiesta xmlns="urn:altro"><codiceFiscale>X</codiceFiscale></VerificaAssistitoFuoriRegioneRichiesta>"#;
    assert!(from_xml::<Richiesta>(wrong).is_err());
    // yaserde itself refuses a missing required element (here: present only in another namespace).
    let err = from_xml::<Richiesta>(&request(
        r#"<x:codiceFiscale xmlns:x="urn:x">ZZZ</x:codiceFiscale>"#,
    ))
    .unwrap_err();
    assert!(err.contains("codice_fiscale is a required field"), "{err}");
    // An empty required element is present for yaserde, missing for the validator.
    let r: Richiesta = from_xml(&request("<v:codiceFiscale></v:codiceFiscale>")).unwrap();
    assert_eq!(r.validate().unwrap_err().facet, Facet::Required);
}

#[test]
fn facets_of_the_request() {
    let check = |inner: &str| from_xml::<Richiesta>(&request(inner)).unwrap().validate();
    let cf = "<v:codiceFiscale>RSSMRA85T10A562S</v:codiceFiscale>";
    assert!(check(cf).is_ok());
    let e = check("<v:codiceFiscale>rssmra85t10a562s</v:codiceFiscale>").unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.facet),
        ("codiceFiscale", Facet::Pattern)
    );
    let e = check("<v:codiceFiscale>RSSMRA85T10A562</v:codiceFiscale>").unwrap_err();
    assert_eq!(e.facet, Facet::Length);
    let e = check(&format!("{cf}<v:numeroTessera>123</v:numeroTessera>")).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.facet),
        ("numeroTessera", Facet::Length)
    );
    let e = check(&format!(
        "{cf}<v:dataScadenzaTessera>2027-02-30</v:dataScadenzaTessera>"
    ))
    .unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.facet),
        ("dataScadenzaTessera", Facet::Lexical)
    );
    let e = check(&format!("{cf}<v:regioneChiamante>3A0</v:regioneChiamante>")).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.facet),
        ("regioneChiamante", Facet::Pattern)
    );
}

#[test]
fn response_round_trips_and_is_checked() {
    let r = Ricevuta {
        identificativo_transazione: "01890a5d-ac96-774b-bcce-b302099a8057".into(),
        esito: "00".into(),
        regione_assistenza: Some("120".into()),
        regione_residenza: None,
        descrizione_esito: "Dati coerenti & <ok>".into(),
        identificativo_cluster: Some("SANITARI".into()),
    };
    assert!(r.validate().is_ok());
    let xml = to_xml(&r).unwrap();
    assert!(!xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(&format!("xmlns:tns=\"{NAMESPACE}\"")), "{xml}");
    assert!(xml.contains("&amp; &lt;ok&gt;"), "{xml}");
    assert!(!xml.contains("regioneResidenza"), "{xml}");
    assert_eq!(from_xml::<Ricevuta>(&xml).unwrap(), r);
    let bad = Ricevuta {
        esito: "03".into(),
        ..r.clone()
    };
    assert_eq!(bad.validate().unwrap_err().facet, Facet::Enumeration);
    let bad = Ricevuta {
        descrizione_esito: "x".repeat(256),
        ..r
    };
    assert_eq!(bad.validate().unwrap_err().facet, Facet::MaxLength);
}

#[test]
fn nested_lists_report_their_path() {
    let list = ListaMessaggiType {
        messaggio: vec![
            MessaggioType {
                codice: "E01".into(),
                descrizione: "uno".into(),
            },
            MessaggioType {
                codice: "X".repeat(11),
                descrizione: "due".into(),
            },
        ],
    };
    let e = list.validate().unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.facet),
        ("messaggio[2]/codice", Facet::MaxLength)
    );
    assert_eq!(
        ListaMessaggiType::default().validate().unwrap_err().facet,
        Facet::MinOccurs
    );
    assert!(validate_codice_fiscale_type("RCCMNL83S18D969H").is_ok());
}
