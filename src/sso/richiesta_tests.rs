use super::*;
use chrono::TimeZone;

const SSO: &str = "https://ts.example/sso/login";
const ACS: &str = "https://lazio.example/acs";

fn ora() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
}

/// An AuthnRequest as SPID SPs write it; `extra` goes inside, after the Issuer.
fn richiesta(attributi: &str, extra: &str) -> String {
    format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" \
         ID=\"_r1\" Version=\"2.0\" IssueInstant=\"2026-12-07T10:00:00Z\" Destination=\"{SSO}\" \
         AssertionConsumerServiceURL=\"{ACS}\" {attributi}>\
         <saml:Issuer>https://lazio.example/sp</saml:Issuer>{extra}</samlp:AuthnRequest>"
    )
}

fn contesto(comparison: &str, classi: &[&str]) -> String {
    let classi: String = classi
        .iter()
        .map(|c| format!("<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"))
        .collect();
    format!("<samlp:RequestedAuthnContext Comparison=\"{comparison}\">{classi}</samlp:RequestedAuthnContext>")
}

fn leggi_str(xml: &str) -> Result<AuthnRequest, ErroreRichiesta> {
    leggi(xml.as_bytes())
}

#[test]
fn reads_the_fields_of_a_request() {
    let r = leggi_str(&richiesta(
        "ForceAuthn=\"true\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"",
        &format!(
            "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"/>{}",
            contesto("minimum", &["https://www.spid.gov.it/SpidL2"])
        ),
    ))
    .unwrap();
    assert_eq!(r.id, "_r1");
    assert_eq!(r.issuer, "https://lazio.example/sp");
    assert_eq!(r.issue_instant, ora());
    assert_eq!(r.destination.as_deref(), Some(SSO));
    assert_eq!(r.acs_url.as_deref(), Some(ACS));
    assert!(r.force_authn);
    assert_eq!(r.livello, 2);
    assert!(!r.firmata_xml);
    assert_eq!(r.non_supportato, None);
    // No context asked: level 1; ForceAuthn absent or false: no forced login.
    let r = leggi_str(&richiesta("ForceAuthn=\"false\"", "")).unwrap();
    assert_eq!((r.livello, r.force_authn), (1, false));
}

#[test]
fn the_level_follows_the_comparison() {
    let l1 = "https://www.spid.gov.it/SpidL1";
    let l2 = "https://www.spid.gov.it/SpidL2";
    let l3 = "https://www.spid.gov.it/SpidL3";
    let casi: [(&str, &[&str], i16, bool); 6] = [
        ("exact", &[l2], 2, false),
        ("minimum", &[l1, l2], 1, false),
        ("better", &[l1], 2, false),
        ("maximum", &[l2], 1, false),
        // SpidL3 is beyond what a password or a CNS gives: reported once authentic.
        ("minimum", &[l3], 2, true),
        ("better", &[l2], 2, true),
    ];
    for (comparison, classi, livello, oltre) in casi {
        let r = leggi_str(&richiesta("", &contesto(comparison, classi))).unwrap();
        assert_eq!(r.livello, livello, "{comparison} {classi:?}");
        assert_eq!(r.non_supportato.is_some(), oltre, "{comparison} {classi:?}");
    }
    let ignota = leggi_str(&richiesta("", &contesto("exact", &["urn:altro"]))).unwrap();
    assert!(ignota.non_supportato.unwrap().contains("urn:altro"));
    assert!(matches!(
        leggi_str(&richiesta("", &contesto("circa", &[l1]))),
        Err(ErroreRichiesta::Malformata(_))
    ));
}

#[test]
fn what_we_do_not_offer_is_noted_not_refused_yet() {
    let redirect = leggi_str(&richiesta(
        "ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\"",
        "",
    ))
    .unwrap();
    assert!(redirect
        .non_supportato
        .unwrap()
        .starts_with("ProtocolBinding"));
    let persistente = leggi_str(&richiesta(
        "",
        "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\"/>",
    ))
    .unwrap();
    assert!(persistente.non_supportato.unwrap().contains("persistent"));
}

#[test]
fn unsafe_or_wrong_documents_are_refused() {
    let buona = richiesta("", "");
    let dtd = format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{buona}");
    let altra_radice = buona.replace("samlp:AuthnRequest", "samlp:LogoutRequest");
    let altro_ns = buona.replace(NS_PROTOCOL, "urn:altro");
    let senza_id = buona.replace("ID=\"_r1\" ", "");
    let id_vuoto = buona.replace("ID=\"_r1\"", "ID=\"\"");
    let versione = buona.replace("Version=\"2.0\"", "Version=\"1.1\"");
    let istante = buona.replace("2026-12-07T10:00:00Z", "ieri");
    let senza_issuer = buona.replace("<saml:Issuer>https://lazio.example/sp</saml:Issuer>", "");
    let issuer_vuoto = buona.replace("https://lazio.example/sp", "  ");
    let profonda = richiesta("", &format!("{}{}", "<x>".repeat(20), "</x>".repeat(20)));
    let rotta = buona.replace("</samlp:AuthnRequest>", "");
    for (nome, xml) in [
        ("dtd", dtd),
        ("altra radice", altra_radice),
        ("altro ns", altro_ns),
        ("senza id", senza_id),
        ("id vuoto", id_vuoto),
        ("versione", versione),
        ("istante", istante),
        ("senza issuer", senza_issuer),
        ("issuer vuoto", issuer_vuoto),
        ("profonda", profonda),
        ("rotta", rotta),
    ] {
        let e = leggi_str(&xml).expect_err(nome);
        assert!(matches!(e, ErroreRichiesta::Malformata(_)), "{nome}: {e:?}");
        assert_eq!(e.esito(), "RICHIESTA_NON_VALIDA");
        assert!(!e.risposta_possibile(), "{nome}");
    }
}

#[test]
fn decoding_is_bounded_in_both_bindings() {
    let xml = richiesta("", "");
    let post = openssl::base64::encode_block(xml.as_bytes());
    assert_eq!(decodifica(&post, false).unwrap(), xml.as_bytes());
    // Line breaks inside the base64 (as some SPs send it) are fine.
    let spezzata = post
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    assert_eq!(decodifica(&spezzata, false).unwrap(), xml.as_bytes());
    let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
    let redirect = openssl::base64::encode_block(&deflated);
    assert_eq!(decodifica(&redirect, true).unwrap(), xml.as_bytes());
    // A deflate bomb: 40 KiB of nothing compresses to a few bytes and is still refused.
    let bomba = miniz_oxide::deflate::compress_to_vec(&vec![b' '; MASSIMO_XML + 8 * 1024], 9);
    assert!(bomba.len() < 1024);
    let e = decodifica(&openssl::base64::encode_block(&bomba), true).unwrap_err();
    assert!(e.to_string().contains("once inflated"), "{e}");
    let grande = openssl::base64::encode_block(&vec![b'x'; MASSIMO_XML + 1]);
    assert!(decodifica(&grande, false).is_err());
    assert!(decodifica("non è base64!", false).is_err());
    assert!(decodifica(&post, true)
        .unwrap_err()
        .to_string()
        .contains("DEFLATE"));
}

struct Sp {
    key: openssl::pkey::PKey<openssl::pkey::Private>,
    pem: String,
}

fn sp() -> Sp {
    let (key, x) = crate::sso::autofirmato("sp", 2048, 30).unwrap();
    let pem = String::from_utf8(x.to_pem().unwrap()).unwrap();
    Sp { key, pem }
}

/// The Redirect binding's query string, signed with `sp` when given.
fn query(xml: &str, relay: Option<&str>, sp: Option<&Sp>) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
    let mut q = format!(
        "SAMLRequest={}",
        enc(&openssl::base64::encode_block(&deflated))
    );
    if let Some(r) = relay {
        q.push_str(&format!("&RelayState={}", enc(r)));
    }
    if let Some(sp) = sp {
        q.push_str(&format!("&SigAlg={}", enc(firma::RSA_SHA256)));
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &sp.key).unwrap();
        s.update(q.as_bytes()).unwrap();
        let sig = openssl::base64::encode_block(&s.sign_to_vec().unwrap());
        q.push_str(&format!("&Signature={}", enc(&sig)));
    }
    q
}

fn controlla_con(
    xml: &str,
    q: &str,
    certificati: &[String],
    firmate: bool,
) -> Result<(), ErroreRichiesta> {
    let req = leggi_str(xml)?;
    let reg = Registrazione {
        acs_url: ACS,
        certificati,
        richieste_firmate: firmate,
    };
    controlla(
        &req,
        xml.as_bytes(),
        &Trasporto::Redirect { query: q },
        &reg,
        SSO,
        ora(),
        chrono::Duration::seconds(180),
    )
}

#[test]
fn the_redirect_signature_is_checked_over_the_query_as_sent() {
    let (sp, altro) = (sp(), sp());
    let xml = richiesta("", "");
    let certs = [sp.pem.clone()];
    let q = query(&xml, Some("torna/qui?x=1"), Some(&sp));
    assert_eq!(verifica_redirect(&q, &certs), Ok(true));
    assert_eq!(controlla_con(&xml, &q, &certs, true), Ok(()));
    // Any registered certificate will do (a rollover).
    assert_eq!(
        verifica_redirect(&q, &[altro.pem.clone(), sp.pem.clone()]),
        Ok(true)
    );
    // Another key, or a changed RelayState: not valid.
    let e = verifica_redirect(&q, std::slice::from_ref(&altro.pem)).unwrap_err();
    assert_eq!(e.esito(), "FIRMA_NON_VALIDA");
    let cambiata = q.replace("torna", "vai");
    assert!(matches!(
        verifica_redirect(&cambiata, &certs),
        Err(ErroreRichiesta::FirmaNonValida(_))
    ));
    // SHA-1 is not accepted.
    let sha1 = q.replace("rsa%2Dsha256", "rsa%2Dsha1");
    assert!(verifica_redirect(&sha1, &certs).is_err());
    // Unsigned: fine only for an SP registered as not signing.
    let nuda = query(&xml, None, None);
    assert_eq!(verifica_redirect(&nuda, &certs), Ok(false));
    assert_eq!(
        controlla_con(&xml, &nuda, &certs, true),
        Err(ErroreRichiesta::FirmaAssente)
    );
    assert_eq!(controlla_con(&xml, &nuda, &certs, false), Ok(()));
}

#[test]
fn acs_destination_and_clock_are_checked_after_the_signature() {
    let sp = sp();
    let certs = [sp.pem.clone()];
    let caso = |xml: String| {
        let q = query(&xml, None, Some(&sp));
        controlla_con(&xml, &q, &certs, true)
    };
    let buona = richiesta("", "");
    let e = caso(buona.replace(ACS, "https://altrove.example/acs")).unwrap_err();
    assert_eq!(e.esito(), "ACS_NON_VALIDO");
    assert!(
        !e.risposta_possibile(),
        "never answer to an unregistered ACS"
    );
    let e = caso(buona.replace(SSO, "https://altro-idp.example/sso")).unwrap_err();
    assert_eq!(e.esito(), "RICHIESTA_NON_VALIDA");
    // Within the skew (3 minutes) either way; beyond it, expired.
    assert_eq!(
        caso(buona.replace("10:00:00Z", "10:02:59Z")),
        Ok(()),
        "ahead within the skew"
    );
    assert_eq!(caso(buona.replace("10:00:00Z", "09:57:01Z")), Ok(()));
    let e = caso(buona.replace("10:00:00Z", "09:56:59Z")).unwrap_err();
    assert_eq!(e.esito(), "RICHIESTA_SCADUTA");
    assert!(e.risposta_possibile());
    assert!(caso(buona.replace("10:00:00Z", "10:03:01Z")).is_err());
    // An authentic request asking what we do not offer gets a SAML answer.
    let e = caso(richiesta(
        "",
        &contesto("exact", &["https://www.spid.gov.it/SpidL3"]),
    ))
    .unwrap_err();
    assert_eq!(e.esito(), "RICHIESTA_NON_SUPPORTATA");
    assert!(e.risposta_possibile());
    // Without ACS and Destination (both optional in SAML) the registered ACS is used.
    let minima = buona
        .replace(&format!(" Destination=\"{SSO}\""), "")
        .replace(&format!(" AssertionConsumerServiceURL=\"{ACS}\""), "");
    assert_eq!(caso(minima), Ok(()));
}

#[test]
fn the_post_signature_must_cover_the_request() {
    let sp = sp();
    let certs = [sp.pem.clone()];
    let chiave = firma::ChiaveFirma::da_pem(
        &sp.key.private_key_to_pem_pkcs8().unwrap(),
        sp.pem.as_bytes(),
    )
    .unwrap();
    let xml = richiesta("", "").replace(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{}", firma::modello("_r1", &chiave)),
    );
    let firmato = firma::firma(&xml, &chiave).unwrap();
    let req = leggi_str(&firmato).unwrap();
    assert!(req.firmata_xml);
    let reg = Registrazione {
        acs_url: ACS,
        certificati: &certs,
        richieste_firmate: true,
    };
    let prova = |xml: &str| {
        let req = leggi_str(xml)?;
        controlla(
            &req,
            xml.as_bytes(),
            &Trasporto::Post,
            &reg,
            SSO,
            ora(),
            chrono::Duration::seconds(180),
        )
    };
    assert_eq!(prova(&firmato), Ok(()));
    let alterato = firmato.replace("lazio.example/sp", "lazio.example/sp2");
    assert_eq!(prova(&alterato).unwrap_err().esito(), "FIRMA_NON_VALIDA");
    let nuda = richiesta("", "");
    assert_eq!(prova(&nuda), Err(ErroreRichiesta::FirmaAssente));
}
