use super::*;
use chrono::TimeZone;

fn idp() -> Idp {
    let (pkey, x) = crate::sso::autofirmato("idp", 2048, 30).unwrap();
    let chiave = firma::ChiaveFirma::da_pem(
        &pkey.private_key_to_pem_pkcs8().unwrap(),
        &x.to_pem().unwrap(),
    )
    .unwrap();
    Idp {
        cfg: crate::config::SsoConfig::default(),
        entity_id: "https://ts.example/sso".into(),
        chiave,
        successivo: None,
    }
}

fn pem(idp: &Idp) -> Vec<String> {
    vec![String::from_utf8(idp.chiave.certificato_pem.clone()).unwrap()]
}

fn ora() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
}

fn destinatario(in_response_to: Option<&str>) -> Destinatario {
    Destinatario {
        sp_entity_id: "https://lazio.example/sp".into(),
        acs_url: "https://lazio.example/acs?x=1&y=2".into(),
        in_response_to: in_response_to.map(str::to_owned),
    }
}

fn operatore() -> Operatore {
    Operatore {
        codice_fiscale: "BNCNNA78D52H501J".into(),
        nome: "ANNA".into(),
        cognome: "D'ANGELO & <FIGLI>".into(),
        tipo_operatore: "MEDICO".into(),
        codice_regione: "120".into(),
        codice_asl: Some("003".into()),
        livello: 1,
        autenticato_il: ora() - Duration::minutes(2),
    }
}

/// The value of `attr` on the first element named `elemento`.
fn attributo_di(xml: &str, elemento: &str, attr: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"<{elemento}\b[^>]*\s{attr}="([^"]*)""#)).unwrap();
    re.captures(xml).map(|c| c[1].to_owned())
}

/// The Assertion as a document of its own (the `saml` prefix declared on it), to verify it.
fn asserzione(xml: &str) -> String {
    let da = xml.find("<saml:Assertion ").unwrap();
    let a = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    xml[da..a].replacen(
        "<saml:Assertion ",
        &format!("<saml:Assertion xmlns:saml=\"{NS_ASSERTION}\" "),
        1,
    )
}

#[test]
fn a_success_response_has_the_spid_shape_and_both_signatures() {
    let idp = idp();
    let (id, xml) = successo(&idp, &destinatario(Some("_r1")), &operatore(), ora()).unwrap();
    assert_eq!(attributo_di(&xml, "samlp:Response", "ID"), Some(id.clone()));
    assert!(id.starts_with('_') && id.len() == 41, "{id}");
    // Destination, Recipient and the ACS are the same, escaped once.
    let acs = "https://lazio.example/acs?x=1&amp;y=2";
    assert_eq!(
        attributo_di(&xml, "samlp:Response", "Destination").as_deref(),
        Some(acs)
    );
    assert_eq!(
        attributo_di(&xml, "saml:SubjectConfirmationData", "Recipient").as_deref(),
        Some(acs)
    );
    for el in ["samlp:Response", "saml:SubjectConfirmationData"] {
        assert_eq!(
            attributo_di(&xml, el, "InResponseTo").as_deref(),
            Some("_r1")
        );
    }
    // The window: NotBefore backdated 60 s, NotOnOrAfter 5 minutes on.
    assert_eq!(
        attributo_di(&xml, "saml:Conditions", "NotBefore").as_deref(),
        Some("2026-12-07T09:59:00.000Z")
    );
    assert_eq!(
        attributo_di(&xml, "saml:Conditions", "NotOnOrAfter").as_deref(),
        Some("2026-12-07T10:05:00.000Z")
    );
    assert_eq!(
        attributo_di(&xml, "saml:SubjectConfirmationData", "NotOnOrAfter").as_deref(),
        Some("2026-12-07T10:05:00.000Z")
    );
    assert_eq!(
        attributo_di(&xml, "saml:AuthnStatement", "AuthnInstant").as_deref(),
        Some("2026-12-07T09:58:00.000Z")
    );
    assert!(xml.contains("<saml:Audience>https://lazio.example/sp</saml:Audience>"));
    assert_eq!(
        attributo_di(&xml, "saml:NameID", "Format").as_deref(),
        Some(TRANSIENT)
    );
    assert_eq!(
        attributo_di(&xml, "saml:NameID", "NameQualifier").as_deref(),
        Some("https://ts.example/sso")
    );
    assert!(xml.contains("<saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL1<"));
    assert!(xml.contains(STATO_SUCCESSO));
    // The attributes, escaped.
    for (nome, valore) in [
        ("fiscalNumber", "TINIT-BNCNNA78D52H501J"),
        ("codiceFiscale", "BNCNNA78D52H501J"),
        ("familyName", "D'ANGELO &amp; &lt;FIGLI&gt;"),
        ("tipoOperatore", "MEDICO"),
        ("codiceRegione", "120"),
        ("codiceAsl", "003"),
    ] {
        assert!(
            xml.contains(&format!(
                "Name=\"{nome}\" NameFormat=\"{BASIC}\"><saml:AttributeValue>{valore}<"
            )),
            "{nome} in {xml}"
        );
    }
    // Both signed: the Response by its ID, the Assertion on its own.
    assert_eq!(firma::verifica(xml.as_bytes(), &pem(&idp)).unwrap().id, id);
    let a = asserzione(&xml);
    let id_a = attributo_di(&a, "saml:Assertion", "ID").unwrap();
    assert_ne!(id_a, id);
    assert_eq!(firma::verifica(a.as_bytes(), &pem(&idp)).unwrap().id, id_a);
    let alterata = a.replace(">003<", ">004<");
    assert!(firma::verifica(alterata.as_bytes(), &pem(&idp)).is_err());
}

#[test]
fn smart_card_virtual_region_and_idp_initiated() {
    let idp = idp();
    let mut op = operatore();
    op.livello = 2;
    op.codice_regione = "300".into();
    op.codice_asl = None;
    let (_, xml) = successo(&idp, &destinatario(None), &op, ora()).unwrap();
    assert!(xml.contains("<saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2<"));
    assert!(!xml.contains("InResponseTo"), "IdP-initiated: {xml}");
    assert!(!xml.contains("Name=\"codiceAsl\""));
    assert!(xml.contains("<saml:AttributeValue>300<"));
    // A login "in the future" (clock steps) never yields an AuthnInstant after IssueInstant.
    op.autenticato_il = ora() + Duration::minutes(1);
    let (_, xml) = successo(&idp, &destinatario(None), &op, ora()).unwrap();
    assert_eq!(
        attributo_di(&xml, "saml:AuthnStatement", "AuthnInstant").as_deref(),
        Some("2026-12-07T10:00:00.000Z")
    );
    // Each Response, Assertion, NameID and session index is new.
    let (a, x1) = successo(&idp, &destinatario(None), &op, ora()).unwrap();
    let (b, x2) = successo(&idp, &destinatario(None), &op, ora()).unwrap();
    assert_ne!(a, b);
    let nameid = |x: &str| {
        regex::Regex::new(r"<saml:NameID [^>]*>([^<]+)<")
            .unwrap()
            .captures(x)
            .unwrap()[1]
            .to_owned()
    };
    assert_ne!(nameid(&x1), nameid(&x2));
}

#[test]
fn an_error_response_has_its_status_and_no_assertion() {
    let idp = idp();
    let (id, xml) = errore(
        &idp,
        &destinatario(Some("_r9")),
        STATO_REQUESTER,
        Some(STATO_REQUEST_DENIED),
        "L'operatore ha annullato l'accesso <sic>",
        ora(),
    )
    .unwrap();
    assert!(!xml.contains("Assertion"), "{xml}");
    assert!(xml.contains(&format!(
        "<samlp:StatusCode Value=\"{STATO_REQUESTER}\"><samlp:StatusCode Value=\"{STATO_REQUEST_DENIED}\"/></samlp:StatusCode>"
    )));
    assert!(xml.contains(
        "<samlp:StatusMessage>L'operatore ha annullato l'accesso &lt;sic&gt;</samlp:StatusMessage>"
    ));
    assert_eq!(
        attributo_di(&xml, "samlp:Response", "InResponseTo").as_deref(),
        Some("_r9")
    );
    assert_eq!(firma::verifica(xml.as_bytes(), &pem(&idp)).unwrap().id, id);
    let (_, xml) = errore(&idp, &destinatario(None), STATO_RESPONDER, None, "x", ora()).unwrap();
    assert!(xml.contains(&format!("<samlp:StatusCode Value=\"{STATO_RESPONDER}\"")));
    assert_eq!(xml.matches("<samlp:StatusCode").count(), 1, "{xml}");
}
