//! Operator SSO (issue 13) without a browser: the SSO endpoint in both bindings, the choice,
//! the signed Response, the refusals, and the §2.5 rows of each. The Responses are checked
//! here with libxmlsec1 and the xmlsec1 program; tests/sso_interop.rs has pysaml2 and
//! python3-saml judge them, tests/sso_browser.rs the whole flow in Chromium.

mod common;

use common::portale::{accessi, count};
use common::sso::{
    self, attributi, certificato_idp, inviata, iscrivi, url_sso, Navigatore, SpTest,
};
use common::TestServer;
use tsgate::sso::firma;

const BIANCHI: &str = "BNCNNA78D52H501J";

struct Ambiente {
    s: TestServer,
    lazio: SpTest,
    pn: SpTest,
}

async fn ambiente() -> Ambiente {
    let s = TestServer::start().await;
    let (lazio, pn) = (SpTest::new("lazio"), SpTest::new("pn"));
    iscrivi(&s, &lazio, &pn);
    Ambiente { s, lazio, pn }
}

/// The esiti of the §2.5 rows of `operazione`, oldest first.
fn esiti(s: &TestServer, operazione: &str) -> Vec<String> {
    accessi(s)
        .into_iter()
        .filter(|r| r.operazione == operazione)
        .map(|r| r.esito)
        .collect()
}

/// A logged-in operator's browser that sent an AuthnRequest by HTTP-Redirect and followed the
/// continue link; returns the choice page.
async fn richiesta_redirect(
    a: &Ambiente,
    nav: &mut Navigatore,
    id: &str,
    relay: Option<&str>,
    livello: u8,
) -> sso::Pagina {
    let xml = a
        .lazio
        .authn_request(id, &url_sso(&a.s), chrono::Utc::now(), livello);
    let q = a.lazio.redirect(&xml, relay, true);
    let arrivo = nav.get_da_fuori(&format!("/sso/login?{q}")).await;
    assert_eq!(arrivo.status, 200, "{}", arrivo.body);
    let continua = regex::Regex::new(r#"href="(/sso/continua\?r=[0-9a-f]{64})""#)
        .unwrap()
        .captures(&arrivo.body)
        .expect("continue link")[1]
        .to_owned();
    assert!(
        arrivo.body.contains(&format!("url={continua}")),
        "meta refresh"
    );
    let dopo = nav.get(&continua).await;
    assert_eq!(dopo.status, 303);
    let dove = dopo.location.clone().unwrap();
    nav.get(&dove).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_signed_and_complete() {
    let a = ambiente().await;
    let mut nav = Navigatore::new(&a.s);
    let m = nav.get("/sso/metadata").await;
    assert_eq!(m.status, 200);
    let idp = &a.s.portal_url();
    for atteso in [
        format!("entityID=\"{idp}/sso\""),
        "WantAuthnRequestsSigned=\"true\"".into(),
        format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{idp}/sso/login\""),
        format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{idp}/sso/login\""),
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient".into(),
        "Name=\"fiscalNumber\"".into(),
        "Name=\"codiceRegione\"".into(),
        "<md:KeyDescriptor use=\"signing\">".into(),
    ] {
        assert!(m.body.contains(&atteso), "{atteso} not in {}", m.body);
    }
    firma::verifica(m.body.as_bytes(), &[certificato_idp(&a.s)]).expect("metadata signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_initiated_redirect_sends_a_signed_response_after_the_choice() {
    let a = ambiente().await;
    let mut nav = Navigatore::new(&a.s);
    assert_eq!(nav.login(BIANCHI).await.status, 303);
    let scelta = richiesta_redirect(&a, &mut nav, "_req-1", Some("torna/qui"), 1).await;
    assert_eq!(scelta.status, 200, "{}", scelta.body);
    // Pre-filtered to what Lazio's SP serves: Lazio's ASL, not Lombardia's nor 300.
    assert!(scelta.body.contains("value=\"120:003\""), "{}", scelta.body);
    assert!(!scelta.body.contains("value=\"030:002\""));
    assert!(!scelta.body.contains("value=\"300:\""));
    let csrf = sso::csrf(&scelta.body);
    let invio = nav.scegli(&csrf, "120:003").await;
    assert_eq!(invio.status, 200, "{}", invio.body);
    let csp = "form-action";
    assert!(invio.body.contains("/static/sso_invio.js"), "{csp}");
    let r = inviata(&invio);
    assert_eq!(r.acs, a.lazio.acs_url);
    assert_eq!(r.relay_state.as_deref(), Some("torna/qui"));
    let v =
        firma::verifica(r.xml.as_bytes(), &[certificato_idp(&a.s)]).expect("Response signature");
    assert!(r.xml.contains(&format!("ID=\"{}\"", v.id)));
    for atteso in [
        "InResponseTo=\"_req-1\"",
        &format!("Destination=\"{}\"", a.lazio.acs_url),
        &format!("Recipient=\"{}\"", a.lazio.acs_url),
        &format!("<saml:Audience>{}</saml:Audience>", a.lazio.entity_id),
        "https://www.spid.gov.it/SpidL1",
        "Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"",
        &format!("NameQualifier=\"{}/sso\"", a.s.portal_url()),
    ] {
        assert!(r.xml.contains(atteso), "{atteso} not in {}", r.xml);
    }
    let att = attributi(&r.xml);
    assert_eq!(att["fiscalNumber"], format!("TINIT-{BIANCHI}"));
    assert_eq!(att["codiceFiscale"], BIANCHI);
    assert_eq!(att["name"], "ANNA");
    assert_eq!(att["familyName"], "BIANCHI");
    assert_eq!(att["tipoOperatore"], "MEDICO");
    assert_eq!(att["codiceRegione"], "120");
    assert_eq!(att["codiceAsl"], "003");
    // The Assertion alone verifies too (it is signed on its own).
    let inizio = r.xml.find("<saml:Assertion").unwrap();
    let fine = r.xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let asserzione = r.xml[inizio..fine].replacen(
        "<saml:Assertion",
        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        1,
    );
    firma::verifica(asserzione.as_bytes(), &[certificato_idp(&a.s)]).expect("Assertion signature");
    // The request is answered once: the same choice again is IdP-initiated (no InResponseTo).
    let di_nuovo = nav.get("/servizi/vaccinazioni").await;
    let csrf = sso::csrf(&di_nuovo.body);
    let seconda = nav.scegli(&csrf, "120:003").await;
    assert!(!inviata(&seconda).xml.contains("InResponseTo"));
    assert_eq!(esiti(&a.s, "SSO_RICHIESTA"), ["OK"]);
    assert_eq!(esiti(&a.s, "SSO"), ["OK", "OK"]);
    assert_eq!(
        count(
            &a.s,
            &format!(
                "SELECT count(*) AS n FROM accesso_operatore WHERE operazione = 'SSO' \
             AND codice_fiscale = '{BIANCHI}' AND dettaglio LIKE 'regione=120 asl=003 sp={}%'",
                a.lazio.entity_id
            )
        ),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_runs_first_and_returns_to_the_flow() {
    let a = ambiente().await;
    let mut nav = Navigatore::new(&a.s);
    let xml = a
        .lazio
        .authn_request("_req-login", &url_sso(&a.s), chrono::Utc::now(), 1);
    let arrivo = nav
        .get_da_fuori(&format!(
            "/sso/login?{}",
            a.lazio.redirect(&xml, None, true)
        ))
        .await;
    let continua = regex::Regex::new(r#"href="(/sso/continua\?r=[0-9a-f]{64})""#)
        .unwrap()
        .captures(&arrivo.body)
        .unwrap()[1]
        .to_owned();
    let dopo = nav.get(&continua).await;
    assert_eq!(
        dopo.location.as_deref(),
        Some("/"),
        "not logged in: the access page"
    );
    let login = nav.login(BIANCHI).await;
    assert_eq!(login.location.as_deref(), Some("/servizi"));
    let servizi = nav.get("/servizi").await;
    assert_eq!(servizi.location.as_deref(), Some("/servizi/vaccinazioni"));
    let scelta = nav.get("/servizi/vaccinazioni").await;
    let csrf = sso::csrf(&scelta.body);
    let invio = nav.scegli(&csrf, "120:003").await;
    assert!(inviata(&invio).xml.contains("InResponseTo=\"_req-login\""));
    // The continue link worked once: another browser cannot take it.
    let mut altro = Navigatore::new(&a.s);
    assert_eq!(altro.get(&continua).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_post_binding_and_the_pn_with_a_virtual_region() {
    let a = ambiente().await;
    let mut nav = Navigatore::new(&a.s);
    nav.login(BIANCHI).await;
    let id = "_req-post";
    let xml =
        a.pn.authn_request(id, &url_sso(&a.s), chrono::Utc::now(), 1);
    let con_modello = xml.replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{}", a.pn.modello(id)),
        1,
    );
    let saml = a.pn.post(&con_modello);
    let arrivo = nav
        .post(
            "/sso/login",
            &[("SAMLRequest", &saml), ("RelayState", "pn")],
            false,
        )
        .await;
    assert_eq!(arrivo.status, 200, "{}", arrivo.body);
    let continua = regex::Regex::new(r#"href="(/sso/continua\?r=[0-9a-f]{64})""#)
        .unwrap()
        .captures(&arrivo.body)
        .unwrap()[1]
        .to_owned();
    let dopo = nav.get(&continua).await;
    let scelta = nav.get(dopo.location.as_deref().unwrap()).await;
    // The PN serves Lombardia (which uses it) and the virtual region 300, not Lazio.
    assert!(scelta.body.contains("value=\"030:002\""), "{}", scelta.body);
    assert!(scelta.body.contains("value=\"300:\""));
    assert!(!scelta.body.contains("value=\"120:003\""));
    let csrf = sso::csrf(&scelta.body);
    let invio = nav.scegli(&csrf, "300:").await;
    let r = inviata(&invio);
    assert_eq!(r.acs, a.pn.acs_url);
    firma::verifica(r.xml.as_bytes(), &[certificato_idp(&a.s)]).unwrap();
    let att = attributi(&r.xml);
    assert_eq!(att["codiceRegione"], "300");
    assert!(!att.contains_key("codiceAsl"));
    assert!(r.xml.contains("InResponseTo=\"_req-post\""));
}

/// Sends `q` to the Redirect endpoint from outside; returns the page.
async fn arriva(a: &Ambiente, q: &str) -> sso::Pagina {
    Navigatore::new(&a.s)
        .get_da_fuori(&format!("/sso/login?{q}"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_logged() {
    let a = ambiente().await;
    let ora = chrono::Utc::now();
    let sso_url = url_sso(&a.s);
    // Unknown SP.
    let ignoto = SpTest::new("ignoto");
    let p = arriva(
        &a,
        &ignoto.redirect(&ignoto.authn_request("_x1", &sso_url, ora, 1), None, true),
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("non è registrata"), "{}", p.body);
    // Wrong ACS.
    let xml = a
        .lazio
        .authn_request("_x2", &sso_url, ora, 1)
        .replace(&a.lazio.acs_url, "https://evil.example/acs");
    assert_eq!(
        arriva(&a, &a.lazio.redirect(&xml, None, true)).await.status,
        400
    );
    // Unsigned while signing is required.
    let xml = a.lazio.authn_request("_x3", &sso_url, ora, 1);
    assert_eq!(
        arriva(&a, &a.lazio.redirect(&xml, None, false))
            .await
            .status,
        400
    );
    // Signed by another key.
    let q = a.lazio.redirect(&xml, None, true);
    let altra = ignoto.redirect(&xml, None, true);
    let firma_altrui = altra.split("&Signature=").nth(1).unwrap();
    let falsa = format!(
        "{}&Signature={firma_altrui}",
        q.split("&Signature=").next().unwrap()
    );
    assert_eq!(arriva(&a, &falsa).await.status, 400);
    // A RelayState added after signing.
    assert_eq!(
        arriva(&a, &q.replacen("&SigAlg", "&RelayState=x&SigAlg", 1))
            .await
            .status,
        400
    );
    // Accepted once, then replayed: the replay gets an error Response to the registered ACS.
    assert_eq!(arriva(&a, &q).await.status, 200);
    let replay = arriva(&a, &q).await;
    let r = inviata(&replay);
    assert_eq!(r.acs, a.lazio.acs_url);
    assert!(
        r.xml
            .contains("urn:oasis:names:tc:SAML:2.0:status:Requester"),
        "{}",
        r.xml
    );
    assert!(!r.xml.contains("Assertion"));
    firma::verifica(r.xml.as_bytes(), &[certificato_idp(&a.s)]).unwrap();
    // Expired (IssueInstant an hour ago).
    let vecchia = a
        .lazio
        .authn_request("_x4", &sso_url, ora - chrono::Duration::hours(1), 1);
    let r = inviata(&arriva(&a, &a.lazio.redirect(&vecchia, None, true)).await);
    assert!(r.xml.contains("InResponseTo=\"_x4\"") && r.xml.contains("RequestDenied"));
    // Huge and DTD-bearing requests, and garbage.
    let enorme = a.lazio.authn_request("_x5", &sso_url, ora, 1).replace(
        "<saml:Issuer>",
        &format!("<!-- {} --><saml:Issuer>", "x".repeat(200_000)),
    );
    assert_eq!(
        arriva(&a, &a.lazio.redirect(&enorme, None, true))
            .await
            .status,
        400
    );
    let dtd = format!(
        "<!DOCTYPE r [<!ENTITY e \"x\">]>{}",
        a.lazio.authn_request("_x6", &sso_url, ora, 1)
    );
    assert_eq!(
        arriva(&a, &a.lazio.redirect(&dtd, None, true)).await.status,
        400
    );
    assert_eq!(arriva(&a, "SAMLRequest=%%%").await.status, 400);
    assert_eq!(arriva(&a, "").await.status, 400);
    assert_eq!(
        esiti(&a.s, "SSO_RICHIESTA"),
        [
            "SP_SCONOSCIUTO",
            "ACS_NON_VALIDO",
            "FIRMA_ASSENTE",
            "FIRMA_NON_VALIDA",
            "FIRMA_NON_VALIDA",
            "OK",
            "RICHIESTA_RIPETUTA",
            "RICHIESTA_SCADUTA",
            "RICHIESTA_NON_VALIDA",
            "RICHIESTA_NON_VALIDA",
            "RICHIESTA_NON_VALIDA",
            "RICHIESTA_NON_VALIDA",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_without_an_admissible_choice_see_why() {
    let a = ambiente().await;
    // A pharmacist: Lazio does not accept the type, nor does 300.
    let mut costa = Navigatore::new(&a.s);
    costa.login("CSTGNN82H14F205R").await;
    let p = costa.get("/servizi/vaccinazioni").await;
    assert_eq!(p.status, 200);
    assert!(
        p.body
            .contains("Nessuna piattaforma vaccinale è disponibile"),
        "{}",
        p.body
    );
    assert!(p.body.contains("non ammette il tipo di operatore"));
    let csrf = sso::csrf(&p.body);
    let rifiuto = costa.scegli(&csrf, "120:003").await;
    assert_eq!(rifiuto.status, 400);
    // A nurse of Campania (not enrolled): her ASL is refused with the reason, 300 is offered.
    let mut marino = Navigatore::new(&a.s);
    marino.login("MRNLSE88E61F839Q").await;
    let p = marino.get("/servizi/vaccinazioni").await;
    assert!(p.body.contains("non aderisce al servizio"), "{}", p.body);
    assert!(p.body.contains("value=\"300:\""));
    assert!(!p.body.contains("value=\"150:001\""));
    // Without the profile: no access.
    let mut rossi = Navigatore::new(&a.s);
    rossi.login("RSSMRA80A01H501U").await;
    assert_eq!(rossi.get("/servizi/vaccinazioni").await.status, 403);
    assert_eq!(esiti(&a.s, "SSO"), ["TIPO_NON_AMMESSO"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smart_card_level_and_the_cancel_button() {
    let a = ambiente().await;
    let mut nav = Navigatore::new(&a.s);
    nav.login(BIANCHI).await;
    let scelta = richiesta_redirect(&a, &mut nav, "_req-l2", None, 2).await;
    assert!(
        scelta.body.contains("accesso con smart card (CNS)"),
        "{}",
        scelta.body
    );
    let csrf = sso::csrf(&scelta.body);
    let rifiuto = nav.scegli(&csrf, "120:003").await;
    assert_eq!(rifiuto.status, 400);
    let annulla = nav.annulla(&csrf).await;
    let r = inviata(&annulla);
    assert!(r.xml.contains("InResponseTo=\"_req-l2\""));
    assert!(r
        .xml
        .contains("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"));
    assert!(!r.xml.contains("Assertion"));
    assert_eq!(esiti(&a.s, "SSO"), ["LIVELLO_INSUFFICIENTE", "ANNULLATO"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_changes_are_effective_at_once() {
    let a = ambiente().await;
    let mut nav = Navigatore::new(&a.s);
    nav.login(BIANCHI).await;
    assert!(nav
        .get("/servizi/vaccinazioni")
        .await
        .body
        .contains("value=\"120:003\""));
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "DELETE FROM sso_piattaforma_tipo WHERE codice = '120' AND tipo_operatore = 'MEDICO'",
        ),
        &mut a.s.db.connection(),
    )
    .unwrap();
    let p = nav.get("/servizi/vaccinazioni").await;
    assert!(!p.body.contains("value=\"120:003\""));
    assert!(p.body.contains("non ammette il tipo di operatore"));
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE sso_piattaforma SET abilitata = FALSE WHERE codice = 'PN'"),
        &mut a.s.db.connection(),
    )
    .unwrap();
    let p = nav.get("/servizi/vaccinazioni").await;
    assert!(
        !p.body.contains("value=\"030:002\""),
        "through the PN, now inhibited"
    );
}
