use super::*;

fn doc(records: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><f:flussoTSCNS xmlns:f="{NS}">{records}</f:flussoTSCNS>"#
    )
}

const ATT: &str = "<f:attivazione><f:codiceFiscale>RSSMRA60C15F205L</f:codiceFiscale><f:numeroTessera>80380030000000000001</f:numeroTessera><f:serialeCertificato>00ab12</f:serialeCertificato><f:emittenteCertificato>CN=CA &amp; Co</f:emittenteCertificato><f:dataInizioValidita>2025-01-01</f:dataInizioValidita><f:dataFineValidita>2027-06-30</f:dataFineValidita><f:dataAttivazione>2025-01-10</f:dataAttivazione></f:attivazione>";
const REV: &str = "<f:revoca><f:numeroTessera>80380030000000000013</f:numeroTessera><f:motivo>furto</f:motivo><f:dataRevoca>2026-01-15</f:dataRevoca></f:revoca>";

fn oggi() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

fn all(xml: &str) -> Result<Vec<Record>, Rifiuto> {
    let mut l = Lettore::new(xml.as_bytes(), oggi());
    let mut out = Vec::new();
    while let Some(r) = l.next_record()? {
        out.push(r);
    }
    Ok(out)
}

#[test]
fn both_kinds_in_any_order_with_positions() {
    let r = all(&doc(&format!("{REV}\n{ATT}<!-- c -->{REV}"))).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].tipo, TipoRecord::Revoca);
    assert_eq!(r[1].tipo, TipoRecord::Attivazione);
    assert_eq!(r[2].posizione, 3);
    match &r[1].esito {
        Ok(Operazione::Attivazione(a)) => {
            assert_eq!(a.certificato.seriale, "AB12");
            assert_eq!(a.certificato.emittente, "CN=CA & Co");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r[0].numero_tessera.as_deref(), Some("80380030000000000013"));
}

#[test]
fn field_errors_are_those_of_the_rules() {
    let bad = REV
        .replace(">furto<", ">rubata<")
        .replace(">80380030000000000013<", "> 123 <")
        .replace("<f:dataRevoca>2026-01-15</f:dataRevoca>", "<f:dataRevoca/>");
    let r = all(&doc(&format!("{bad}<f:attivazione/>"))).unwrap();
    assert_eq!(
        r[0].esito,
        Err(vec![
            Errore::NumeroTesseraNonValido,
            Errore::MotivoNonValido,
            Errore::CampoMancante
        ])
    );
    assert_eq!(r[0].numero_tessera.as_deref(), Some("123"));
    assert_eq!(r[1].esito, Err(vec![Errore::CampoMancante]));
    assert_eq!(r[1].numero_tessera, None);
    let long = REV.replace(">80380030000000000013<", &format!(">{}<", "9".repeat(200)));
    let r = all(&doc(&long)).unwrap();
    assert_eq!(
        r[0].numero_tessera.as_ref().map(|n| n.len()),
        Some(MAX_NUMERO)
    );
    assert_eq!(r[0].esito, Err(vec![Errore::NumeroTesseraNonValido]));
}

#[test]
fn long_values_are_kept_whole_up_to_the_rules_limits_and_never_stored_cut_short() {
    // 255 characters of two bytes: more than the bookings' cap, accepted whole.
    let issuer = "é".repeat(255);
    let r = all(&doc(&ATT.replace("CN=CA &amp; Co", &issuer))).unwrap();
    match &r[0].esito {
        Ok(Operazione::Attivazione(a)) => assert_eq!(a.certificato.emittente, issuer),
        other => panic!("{other:?}"),
    }
    // Longer, whatever the bytes: cut at MAX_CAMPO and refused by the rule, never stored.
    for long in ["é".repeat(600), "X".repeat(5000)] {
        let r = all(&doc(&ATT.replace("CN=CA &amp; Co", &long))).unwrap();
        assert_eq!(r[0].esito, Err(vec![Errore::EmittenteNonValido]));
    }
}

#[test]
fn structure_errors_refuse_the_file() {
    let cases = [
        (
            doc(&format!("{ATT}<f:altro/>")),
            MotivoRifiuto::XmlNonValido,
        ),
        (
            doc(&REV.replace("</f:revoca>", "<f:motivo>furto</f:motivo></f:revoca>")),
            MotivoRifiuto::XmlNonValido,
        ),
        (
            doc(&REV.replace(
                "</f:revoca>",
                "<f:codiceFiscale>X</f:codiceFiscale></f:revoca>",
            )),
            MotivoRifiuto::XmlNonValido,
        ),
        (
            doc(&REV.replace(">furto<", "><x/><")),
            MotivoRifiuto::XmlNonValido,
        ),
        (
            format!("<!DOCTYPE x>{}", doc(REV)),
            MotivoRifiuto::XmlNonValido,
        ),
        (
            doc(&REV.replace(">furto<", ">&foo;<")),
            MotivoRifiuto::XmlNonValido,
        ),
        (
            format!("<f:flussoPrenotazioni xmlns:f=\"{NS}\">{REV}</f:flussoPrenotazioni>"),
            MotivoRifiuto::RadiceNonValida,
        ),
        (
            format!("<flussoTSCNS>{REV}</flussoTSCNS>"),
            MotivoRifiuto::RadiceNonValida,
        ),
    ];
    for (xml, motivo) in cases {
        assert_eq!(all(&xml).map_err(|e| e.motivo).err(), Some(motivo), "{xml}");
    }
    let truncated = doc(REV);
    assert_eq!(
        all(&truncated[..truncated.len() - 5]).unwrap_err().motivo,
        MotivoRifiuto::XmlNonValido
    );
}

#[test]
fn an_empty_document_has_no_records() {
    assert!(all(&doc("")).unwrap().is_empty());
    assert!(all(&format!("<f:flussoTSCNS xmlns:f=\"{NS}\"/>"))
        .unwrap()
        .is_empty());
}
