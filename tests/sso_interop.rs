//! Operator SSO judged by independent parts: pysaml2 (tests/sso/sp.py, verifying with the
//! xmlsec1 program) plays the regional platform and the Piattaforma Nazionale: it makes the
//! signed AuthnRequests and parses tsgate's Responses with its own checks (signatures,
//! Destination, Audience, validity window, InResponseTo, attributes); the xmlsec1 program
//! verifies a Response and the metadata directly; OneLogin's python3-saml (tests/sso/onelogin.py,
//! strict, rejecting deprecated algorithms) gives a second opinion on a sample of Responses.

mod common;

use common::sso::{
    self, certificato_idp, file_sp, inviata, iscrivi, json_di, FileSp, Navigatore, SpTest,
};
use common::TestServer;
use serde_json::Value;

const BIANCHI: &str = "BNCNNA78D52H501J";

fn sp_py(f: &FileSp, args: &[&str]) -> Value {
    let mut cmd = f.script("sp.py", args[0], true);
    cmd.args(["--acs", &f.sp.acs_url]).args(&args[1..]);
    json_di(cmd, "sp.py")
}

/// pysaml2's verdict on a base64 Response.
fn verifica(f: &FileSp, b64: &str, in_response_to: Option<&str>) -> Value {
    let file = f.dir.join("response.b64");
    std::fs::write(&file, b64).unwrap();
    let file = file.to_string_lossy().into_owned();
    let mut args = vec!["verifica", "--response-file", &file];
    if let Some(id) = in_response_to {
        args.extend(["--in-response-to", id]);
    }
    sp_py(f, &args)
}

/// python3-saml's verdict (strict mode, `rejectDeprecatedAlgorithm`) on a base64 Response,
/// with the SP's clock moved by `offset_secs`.
fn onelogin(f: &FileSp, b64: &str, in_response_to: Option<&str>, offset_secs: i64) -> Value {
    let file = f.dir.join("response-onelogin.b64");
    std::fs::write(&file, b64).unwrap();
    let mut cmd = f.script("onelogin.py", "verifica", false);
    cmd.args(["--acs", &f.sp.acs_url])
        .arg("--response-file")
        .arg(&file)
        .args(["--now-offset-secs", &offset_secs.to_string()]);
    if let Some(id) = in_response_to {
        cmd.args(["--in-response-to", id]);
    }
    json_di(cmd, "onelogin.py")
}

/// The operator's browser follows pysaml2's AuthnRequest URL, chooses `scelta`; returns the
/// page that posts the Response.
async fn flusso(s: &TestServer, nav: &mut Navigatore, url: &str, scelta: &str) -> sso::Pagina {
    let percorso = &url[url.find("/sso/login").expect("SSO URL")..];
    let arrivo = nav.get_da_fuori(percorso).await;
    assert_eq!(arrivo.status, 200, "{}", arrivo.body);
    let continua = regex::Regex::new(r#"href="(/sso/continua\?r=[0-9a-f]{64})""#)
        .unwrap()
        .captures(&arrivo.body)
        .expect("continue link")[1]
        .to_owned();
    let dopo = nav.get(&continua).await;
    let pagina = nav.get(dopo.location.as_deref().unwrap()).await;
    let csrf = sso::csrf(&pagina.body);
    let _ = s;
    nav.scegli(&csrf, scelta).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysaml2_platforms_accept_the_responses_and_refuse_a_tampered_one() {
    let s = TestServer::start().await;
    let (lazio, pn) = (SpTest::new("lazio"), SpTest::new("pn"));
    iscrivi(&s, &lazio, &pn);
    let lazio = file_sp(&s, lazio).await;
    let pn = file_sp(&s, pn).await;
    let mut nav = Navigatore::new(&s);
    nav.login(BIANCHI).await;

    // SP-initiated, Lazio: pysaml2's signed Redirect request, then its ACS checks.
    let req = sp_py(&lazio, &["richiesta", "--relay", "ritorno-1"]);
    let id = req["id"].as_str().unwrap().to_owned();
    let invio = flusso(&s, &mut nav, req["url"].as_str().unwrap(), "120:003").await;
    let r = inviata(&invio);
    assert_eq!(r.relay_state.as_deref(), Some("ritorno-1"));
    let v = verifica(&lazio, &r.saml_response, Some(&id));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["in_response_to"], id.as_str());
    assert_eq!(v["issuer"], format!("{}/sso", s.portal_url()));
    assert_eq!(v["audience"][0], lazio.sp.entity_id.as_str());
    assert_eq!(v["authn_context"], "https://www.spid.gov.it/SpidL1");
    assert_eq!(
        v["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    );
    assert_eq!(v["name_qualifier"], format!("{}/sso", s.portal_url()));
    let a = &v["attributes"];
    assert_eq!(a["fiscalNumber"][0], format!("TINIT-{BIANCHI}"));
    assert_eq!(a["codiceFiscale"][0], BIANCHI);
    assert_eq!(a["name"][0], "ANNA");
    assert_eq!(a["familyName"][0], "BIANCHI");
    assert_eq!(a["tipoOperatore"][0], "MEDICO");
    assert_eq!(a["codiceRegione"][0], "120");
    assert_eq!(a["codiceAsl"][0], "003");

    // python3-saml agrees, and refuses it for another request, another SP, or once expired
    // (NotOnOrAfter is 5 minutes; python3-saml allows 300 s of drift on top).
    let o = onelogin(&lazio, &r.saml_response, Some(&id), 0);
    assert_eq!(o["ok"], true, "{o}");
    assert_eq!(o["attributes"]["fiscalNumber"], format!("TINIT-{BIANCHI}"));
    assert_eq!(o["attributes"]["codiceRegione"], "120");
    assert_eq!(o["attributes"]["codiceAsl"], "003");
    assert_eq!(o["authn_contexts"][0], "https://www.spid.gov.it/SpidL1");
    assert_eq!(o["name_id_nq"], format!("{}/sso", s.portal_url()));
    assert_eq!(o["in_response_to"], id.as_str());
    for (f, irt, offset) in [
        (&lazio, "_un-altro-id", 0),
        (&pn, id.as_str(), 0),
        (&lazio, id.as_str(), 700),
    ] {
        let o = onelogin(f, &r.saml_response, Some(irt), offset);
        assert_eq!(o["ok"], false, "{irt} +{offset}s: {o}");
    }

    // The same Response for another request ID, or for another SP: refused by pysaml2.
    let altro = verifica(&lazio, &r.saml_response, Some("_un-altro-id"));
    assert_eq!(altro["ok"], false, "{altro}");
    let a_pn = verifica(&pn, &r.saml_response, None);
    assert_eq!(a_pn["ok"], false, "{a_pn}");

    // Tampered after signing (an attribute value): the signature no longer holds.
    let alterato = r.xml.replace(">003<", ">002<");
    assert_ne!(alterato, r.xml);
    let b64 = openssl::base64::encode_block(alterato.as_bytes());
    let v = verifica(&lazio, &b64, Some(&id));
    assert_eq!(v["ok"], false, "{v}");
    let o = onelogin(&lazio, &b64, Some(&id), 0);
    assert_eq!(o["ok"], false, "{o}");

    // The xmlsec1 program verifies the Response (both signatures) and the metadata.
    let cert = lazio.dir.join("idp.pem");
    std::fs::write(&cert, certificato_idp(&s)).unwrap();
    let xml = lazio.dir.join("response.xml");
    std::fs::write(&xml, &r.xml).unwrap();
    for (file, id_attr) in [
        (xml.clone(), "urn:oasis:names:tc:SAML:2.0:protocol:Response"),
        (
            lazio.metadata.clone(),
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        ),
    ] {
        let out = std::process::Command::new("xmlsec1")
            .args(["--verify", "--id-attr:ID", id_attr])
            .arg("--pubkey-cert-pem")
            .arg(&cert)
            .arg(&file)
            .output()
            .expect("xmlsec1 (Debian package xmlsec1)");
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // IdP-initiated to the PN (virtual region 300): accepted as unsolicited.
    let pagina = nav.get("/servizi/vaccinazioni").await;
    let csrf = sso::csrf(&pagina.body);
    let invio = nav.scegli(&csrf, "300:").await;
    let r = inviata(&invio);
    assert_eq!(r.acs, pn.sp.acs_url);
    let v = verifica(&pn, &r.saml_response, None);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["attributes"]["codiceRegione"][0], "300");
    assert!(v["attributes"].get("codiceAsl").is_none());
    assert_eq!(v["in_response_to"], Value::Null);
    let o = onelogin(&pn, &r.saml_response, None, 0);
    assert_eq!(o["ok"], true, "{o}");
    assert_eq!(o["attributes"]["codiceRegione"], "300");
    assert_eq!(o["in_response_to"], Value::Null);

    // SP-initiated through the PN for Lombardia, asking SpidL2 with a credentials session:
    // refused; the cancel button then gives pysaml2 an error status, not an assertion.
    let req = sp_py(&pn, &["richiesta", "--livello", "2"]);
    let id = req["id"].as_str().unwrap().to_owned();
    let invio = flusso(&s, &mut nav, req["url"].as_str().unwrap(), "030:002").await;
    assert_eq!(invio.status, 400);
    let csrf = sso::csrf(&invio.body);
    let annulla = nav.annulla(&csrf).await;
    let errore = inviata(&annulla).saml_response;
    let o = onelogin(&pn, &errore, Some(&id), 0);
    assert_eq!(o["ok"], false, "{o}");
    assert_eq!(
        o["status"],
        serde_json::json!([
            "urn:oasis:names:tc:SAML:2.0:status:Responder",
            "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
        ]),
        "{o}"
    );
    let v = verifica(&pn, &errore, Some(&id));
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("AuthnFailed")
            || v["error"].as_str().unwrap().contains("Status"),
        "{v}"
    );
}
