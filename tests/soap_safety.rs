//! Hostile and broken SOAP never reaches the typed layer: each gets its own fault code, an
//! Italian faultstring, the right HTTP status, and an access-log row.

mod common;
use bytes::Bytes;
use common::*;
use http::Request;
use http_body_util::Full;

const ENV_OPEN: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v="urn:tsgate:vaccini:verificaAssistitoFuoriRegione"><soapenv:Body>"#;
const ENV_CLOSE: &str = "</soapenv:Body></soapenv:Envelope>";
const GOOD_BODY: &str = "<v:VerificaAssistitoFuoriRegioneRichiesta><v:codiceFiscale>BNCGLI85L42H501P</v:codiceFiscale></v:VerificaAssistitoFuoriRegioneRichiesta>";

fn wrap(inner: &str) -> String {
    format!("{ENV_OPEN}{inner}{ENV_CLOSE}")
}

fn nested(depth: usize) -> String {
    // Envelope (1) + Body (2) + request (3) + codiceFiscale... : pad inside the request element.
    let extra = depth - 3;
    format!(
        "{ENV_OPEN}<v:VerificaAssistitoFuoriRegioneRichiesta>{}{}</v:VerificaAssistitoFuoriRegioneRichiesta>{ENV_CLOSE}",
        "<x>".repeat(extra),
        "</x>".repeat(extra)
    )
}

fn attributes(n: usize) -> String {
    let attrs: String = (0..n).map(|i| format!(" a{i}=\"1\"")).collect();
    wrap(&format!(
        "<v:VerificaAssistitoFuoriRegioneRichiesta{attrs}/>"
    ))
}

fn children(n: usize) -> String {
    wrap(&format!(
        "<v:VerificaAssistitoFuoriRegioneRichiesta>{}</v:VerificaAssistitoFuoriRegioneRichiesta>",
        "<c/>".repeat(n)
    ))
}

async fn expect_fault(s: &TestServer, body: impl Into<Bytes>, status: u16, code: &str) -> Reply {
    let r = s
        .client("regione-lombardia")
        .soap(VAFR_PATH, VAFR_ACTION, body)
        .await
        .expect("reply");
    assert_eq!(
        (r.status, fault_code(&r).as_deref()),
        (status, Some(code)),
        "{}",
        r.body
    );
    assert!(xml_text(&r.body, "faultstring").is_some_and(|f| !f.is_empty()));
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn dangerous_xml_is_refused_before_parsing() {
    let s = TestServer::start().await;
    let xxe = format!(
        r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>{ENV_OPEN}<v:VerificaAssistitoFuoriRegioneRichiesta><v:codiceFiscale>&x;</v:codiceFiscale></v:VerificaAssistitoFuoriRegioneRichiesta>{ENV_CLOSE}"#
    );
    let r = expect_fault(&s, xxe, 500, "TSG-0212").await;
    assert!(!r.body.contains("root:"), "entity expanded");
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>{}"#,
        wrap("<v:VerificaAssistitoFuoriRegioneRichiesta><v:codiceFiscale>&lol3;</v:codiceFiscale></v:VerificaAssistitoFuoriRegioneRichiesta>")
    );
    expect_fault(&s, laughs, 500, "TSG-0212").await;
    // An undeclared entity with no DOCTYPE at all.
    expect_fault(&s, wrap("<v:VerificaAssistitoFuoriRegioneRichiesta><v:codiceFiscale>&x;</v:codiceFiscale></v:VerificaAssistitoFuoriRegioneRichiesta>"), 500, "TSG-0214").await;
    expect_fault(
        &s,
        format!("<?xml version=\"1.0\"?><?evil x?>{}", wrap(GOOD_BODY)),
        500,
        "TSG-0213",
    )
    .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn structural_limits_hold_at_their_edges() {
    let s = TestServer::start().await;
    expect_fault(&s, nested(101), 500, "TSG-0215").await;
    // 100 levels pass the scanner (and then fail the schema, which is fine).
    expect_fault(&s, nested(100), 500, "TSG-0301").await;
    expect_fault(&s, attributes(501), 500, "TSG-0216").await;
    expect_fault(&s, attributes(500), 500, "TSG-0301").await;
    expect_fault(&s, children(50_001), 500, "TSG-0217").await;
    expect_fault(&s, children(50_000), 500, "TSG-0301").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn size_encoding_and_shape_faults() {
    let s = TestServer::start().await;
    let big = wrap(&format!("<v:VerificaAssistitoFuoriRegioneRichiesta><!--{}--></v:VerificaAssistitoFuoriRegioneRichiesta>", "x".repeat(1024 * 1024)));
    expect_fault(&s, big, 413, "TSG-0230").await;
    expect_fault(
        &s,
        format!("{ENV_OPEN}<v:VerificaAssistitoFuoriRegioneRichiesta>{ENV_CLOSE}"),
        500,
        "TSG-0210",
    )
    .await;
    expect_fault(&s, "not xml at all", 500, "TSG-0210").await;
    let mut latin1 = wrap("<v:VerificaAssistitoFuoriRegioneRichiesta><v:codiceFiscale>X</v:codiceFiscale></v:VerificaAssistitoFuoriRegioneRichiesta>").into_bytes();
    let pos = latin1.iter().position(|&b| b == b'X').unwrap();
    latin1[pos] = 0xE8; // 'è' in ISO-8859-1, invalid UTF-8
    expect_fault(&s, latin1, 500, "TSG-0211").await;
    expect_fault(
        &s,
        wrap(&format!("{GOOD_BODY}{GOOD_BODY}")),
        500,
        "TSG-0221",
    )
    .await;
    expect_fault(&s, wrap(""), 500, "TSG-0221").await;
    let soap12 = format!(
        r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:v="urn:tsgate:vaccini:verificaAssistitoFuoriRegione"><env:Body>{GOOD_BODY}</env:Body></env:Envelope>"#
    );
    let r = expect_fault(&s, soap12, 500, "TSG-0220").await;
    assert_eq!(
        xml_text(&r.body, "faultcode").as_deref(),
        Some("soapenv:VersionMismatch")
    );
    let other_op = wrap("<v:AltraOperazione/>");
    expect_fault(&s, other_op, 500, "TSG-0201").await;
    let header = format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v="urn:tsgate:vaccini:verificaAssistitoFuoriRegione"><soapenv:Header><w:Security xmlns:w="urn:x" soapenv:mustUnderstand="1"/></soapenv:Header><soapenv:Body>{GOOD_BODY}</soapenv:Body></soapenv:Envelope>"#
    );
    let r = expect_fault(&s, header, 500, "TSG-0222").await;
    assert_eq!(
        xml_text(&r.body, "faultcode").as_deref(),
        Some("soapenv:MustUnderstand")
    );
    // Every refusal above has its row.
    let rows = access_log(&s.db);
    assert_eq!(rows.len(), 9, "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r.codice_errore.is_some() && r.chiamante.as_deref() == Some("regione-lombardia")));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_level_faults() {
    let s = TestServer::start().await;
    let client = s.client("regione-lombardia");
    let r = client
        .soap(VAFR_PATH, "urn:altro#Altro", wrap(GOOD_BODY))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0202"), "{}", r.body);
    let r = client
        .soap("/ws/Inesistente", VAFR_ACTION, wrap(GOOD_BODY))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0201"), "{}", r.body);

    let mut conn = client.connect().await.unwrap();
    let send = |ct: &str, action: Option<&str>| {
        let mut b = Request::post(VAFR_PATH)
            .header("host", "x")
            .header("content-type", ct);
        if let Some(a) = action {
            b = b.header("soapaction", a);
        }
        b.body(Full::new(Bytes::from(wrap(GOOD_BODY)))).unwrap()
    };
    let r = conn.send(send("text/xml", None)).await.unwrap();
    assert_eq!(
        fault_code(&r).as_deref(),
        Some("TSG-0202"),
        "missing SOAPAction: {}",
        r.body
    );
    let r = conn
        .send(send("application/json", Some(VAFR_ACTION)))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0203"), "{}", r.body);
    let r = conn
        .send(send("application/soap+xml; charset=utf-8", None))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0220"), "{}", r.body);
    let r = conn
        .send(send("text/xml; charset=iso-8859-1", Some(VAFR_ACTION)))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0211"), "{}", r.body);
    assert!(
        r.body.contains("charset=iso-8859-1 non supportato"),
        "{}",
        r.body
    );

    // UTF-16 (WS-I BP 1.1 R1012), with or without BOM, either byte order; the declaration's
    // encoding is ignored in favour of the HTTP charset (R1019).
    let utf16 =
        |xml: &str, bom: bool, le: bool| {
            let mut v: Vec<u8> = match (bom, le) {
                (false, _) => vec![],
                (true, true) => vec![0xFF, 0xFE],
                (true, false) => vec![0xFE, 0xFF],
            };
            v.extend(xml.encode_utf16().flat_map(|u| {
                if le {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            }));
            v
        };
    let declared = |enc: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"{enc}\"?>{}",
            wrap(GOOD_BODY)
        )
    };
    let raw = |ct: &str, body: Vec<u8>| {
        Request::post(VAFR_PATH)
            .header("host", "x")
            .header("content-type", ct)
            .header("soapaction", VAFR_ACTION)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    for (ct, bom, le, enc) in [
        ("text/xml; charset=utf-16", true, true, "UTF-16"),
        ("text/xml; charset=\"UTF-16\"", true, false, "UTF-16"),
        ("text/xml; charset=utf-16le", false, true, "UTF-16"),
        ("text/xml; charset=utf-16be", false, false, "utf-16"),
        ("text/xml", true, true, "UTF-16"),
        // The declaration lies; the charset is believed.
        ("text/xml; charset=utf-16", true, true, "UTF-8"),
    ] {
        let r = conn
            .send(raw(ct, utf16(&declared(enc), bom, le)))
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{ct} bom={bom} le={le}: {}", r.body);
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("00"),
            "{}",
            r.body
        );
    }
    let r = conn
        .send(raw(
            "text/xml; charset=iso-8859-1",
            declared("UTF-8").into_bytes(),
        ))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0211"), "{}", r.body);
    let r = conn
        .send(raw(
            "text/xml; charset=utf-8",
            utf16(&declared("UTF-16"), true, true),
        ))
        .await
        .unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0211"), "{}", r.body);
    assert!(r.body.contains("BOM di UTF-16"), "{}", r.body);
    let r = conn
        .send(raw(
            "text/xml; charset=utf-8",
            declared("ISO-8859-1").into_bytes(),
        ))
        .await
        .unwrap();
    assert_eq!(
        r.status, 200,
        "declared ISO-8859-1, sent as UTF-8: {}",
        r.body
    );
    // Unquoted SOAPAction is accepted too.
    let r = conn
        .send(send("text/xml", Some(VAFR_ACTION)))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let put = Request::put(VAFR_PATH)
        .header("host", "x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let r = conn.send(put).await.unwrap();
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0204"), "{}", r.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wsdl_and_schemas_are_served_with_the_running_address() {
    let s = TestServer::start().await;
    let client = s.client("regione-lombardia");
    let wsdl = client.get(&format!("{VAFR_PATH}?wsdl")).await.unwrap();
    assert_eq!(wsdl.status, 200);
    let endpoint = format!("https://{}{VAFR_PATH}", s.addr());
    assert!(
        wsdl.body.contains(&format!("location=\"{endpoint}\"")),
        "{}",
        wsdl.body
    );
    assert!(wsdl.body.contains(&format!(
        "schemaLocation=\"{endpoint}?xsd=VerificaAssistitoFuoriRegione.xsd\""
    )));
    let xsd = client
        .get(&format!(
            "{VAFR_PATH}?xsd=VerificaAssistitoFuoriRegione.xsd"
        ))
        .await
        .unwrap();
    assert!(
        xsd.body
            .contains(&format!("schemaLocation=\"{endpoint}?xsd=TipiDati.xsd\"")),
        "{}",
        xsd.body
    );
    let td = client
        .get(&format!("{VAFR_PATH}?xsd=TipiDati.xsd"))
        .await
        .unwrap();
    assert!(td.body.contains("codiceFiscaleType"));
    let missing = client
        .get(&format!("{VAFR_PATH}?xsd=../../etc/passwd"))
        .await
        .unwrap();
    assert_eq!(fault_code(&missing).as_deref(), Some("TSG-0201"));
    s.stop().await;
}
