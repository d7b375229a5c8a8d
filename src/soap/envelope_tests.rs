use super::*;

const NS: &str = "urn:tsgate:vaccini:verificaAssistitoFuoriRegione";

fn env(body: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="{SOAP11_ENV}" xmlns:v="{NS}"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

fn err(input: &str) -> EnvelopeError {
    scan(input.as_bytes(), &XmlLimits::default()).unwrap_err()
}

const REQ: &str = "<v:Req><v:codiceFiscale a=\"x &amp; y\">AB&lt;C</v:codiceFiscale><v:n><![CDATA[<raw>]]></v:n></v:Req>";

#[test]
fn valid_envelope_yields_a_standalone_body() {
    let s = scan(env(REQ).as_bytes(), &XmlLimits::default()).unwrap();
    assert_eq!(s.body_ns.as_deref(), Some(NS));
    assert_eq!(s.body_local, "Req");
    assert!(s.must_understand.is_empty());
    // Parse it back standalone: namespaces resolve, content is intact.
    let mut r = NsReader::from_str(&s.body_xml);
    let mut names = Vec::new();
    let mut text = String::new();
    loop {
        match r.read_resolved_event().unwrap() {
            (ResolveResult::Bound(n), Event::Start(e)) => {
                names.push((n.0.to_owned(), e.local_name().as_ref().to_owned()))
            }
            (_, Event::Text(t)) => text.push_str(&t.xml10_content()),
            (_, Event::GeneralRef(g)) => text.push_str(&format!("&{};", g.xml10_content())),
            (_, Event::Eof) => break,
            _ => {}
        }
    }
    assert_eq!(names[0], (NS.to_owned(), "Req".to_owned()));
    assert_eq!(names[1], (NS.to_owned(), "codiceFiscale".to_owned()));
    assert_eq!(text, "AB&lt;C");
    assert!(s.body_xml.contains("a=\"x &amp; y\""), "{}", s.body_xml);
    assert!(s.body_xml.contains("<![CDATA[<raw>]]>"), "{}", s.body_xml);
    assert!(s
        .body_xml
        .contains(&format!("xmlns:soapenv=\"{SOAP11_ENV}\"")));
}

#[test]
fn other_prefixes_default_namespace_header_and_bom() {
    let input = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><!-- c --><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP11_ENV}\"><SOAP-ENV:Header><h xmlns=\"urn:h\">x</h></SOAP-ENV:Header><SOAP-ENV:Body>\n <Req xmlns=\"{NS}\"><codiceFiscale/></Req>\n</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    );
    let s = scan(input.as_bytes(), &XmlLimits::default()).unwrap();
    assert_eq!(s.body_ns.as_deref(), Some(NS));
    assert!(s.body_xml.starts_with("<Req "), "{}", s.body_xml);
    assert!(s.body_xml.contains(&format!("xmlns=\"{NS}\"")));
}

#[test]
fn must_understand_headers_are_reported() {
    let input = format!(
        r#"<s:Envelope xmlns:s="{SOAP11_ENV}"><s:Header><w:Sec xmlns:w="urn:w" s:mustUnderstand="1"/><w:Opt xmlns:w="urn:w" s:mustUnderstand="0"/></s:Header><s:Body><Req xmlns="{NS}"/></s:Body></s:Envelope>"#
    );
    let s = scan(input.as_bytes(), &XmlLimits::default()).unwrap();
    assert_eq!(
        s.must_understand,
        vec![(Some("urn:w".to_owned()), "Sec".to_owned())]
    );
    assert!(s.body_xml.starts_with("<Req"), "{}", s.body_xml);
}

#[test]
fn dangerous_constructs_are_refused() {
    let doctype = format!(
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        env("<v:Req>&e;</v:Req>")
    );
    assert_eq!(err(&doctype), EnvelopeError::Doctype);
    assert_eq!(
        err(&format!("<!DOCTYPE x>{}", env(REQ))),
        EnvelopeError::Doctype
    );
    assert_eq!(
        err(&env("<v:Req>&e;</v:Req>")),
        EnvelopeError::EntityReference
    );
    assert_eq!(
        err(&env("<v:Req a=\"&e;\"/>")),
        EnvelopeError::EntityReference
    );
    assert_eq!(
        err(&format!("<?xml version=\"1.0\"?><?pi x?>{}", env(REQ))),
        EnvelopeError::ProcessingInstruction
    );
    assert!(scan(
        env("<v:Req>&#65;&#x42;&amp;</v:Req>").as_bytes(),
        &XmlLimits::default()
    )
    .is_ok());
}

#[test]
fn limits_hold_at_their_edges() {
    let limits = XmlLimits {
        max_depth: 10,
        max_attributes: 5,
        max_children: 7,
        max_attribute_len: 60,
    };
    let deep = |n: usize| {
        env(&format!(
            "<v:Req>{}{}</v:Req>",
            "<a>".repeat(n),
            "</a>".repeat(n)
        ))
    };
    assert!(scan(deep(7).as_bytes(), &limits).is_ok()); // 3 + 7 = 10
    assert_eq!(
        scan(deep(8).as_bytes(), &limits).unwrap_err(),
        EnvelopeError::TooDeep { limit: 10 }
    );
    let attrs = |n: usize| {
        env(&format!(
            "<v:Req{}/>",
            (0..n).map(|i| format!(" a{i}=\"1\"")).collect::<String>()
        ))
    };
    assert!(scan(attrs(5).as_bytes(), &limits).is_ok());
    assert_eq!(
        scan(attrs(6).as_bytes(), &limits).unwrap_err(),
        EnvelopeError::TooManyAttributes { limit: 5 }
    );
    let kids = |n: usize| env(&format!("<v:Req>{}</v:Req>", "<c/>".repeat(n)));
    assert!(scan(kids(7).as_bytes(), &limits).is_ok());
    assert_eq!(
        scan(kids(8).as_bytes(), &limits).unwrap_err(),
        EnvelopeError::TooManyChildren { limit: 7 }
    );
    let long = |n: usize| env(&format!("<v:Req a=\"{}\"/>", "x".repeat(n)));
    assert!(scan(long(60).as_bytes(), &limits).is_ok());
    assert_eq!(
        scan(long(61).as_bytes(), &limits).unwrap_err(),
        EnvelopeError::AttributeTooLong { limit: 60 }
    );
}

#[test]
fn encoding_is_utf8_only() {
    let mut latin1 = env("<v:Req>X</v:Req>").into_bytes();
    let pos = latin1.iter().position(|&b| b == b'X').unwrap();
    latin1[pos] = 0xE8;
    assert_eq!(
        scan(&latin1, &XmlLimits::default()).unwrap_err(),
        EnvelopeError::NotUtf8
    );
    assert_eq!(
        err(&format!(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{}",
            env(REQ)
        )),
        EnvelopeError::NotUtf8
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(env(REQ).encode_utf16().flat_map(|u| u.to_le_bytes()));
    assert_eq!(
        scan(&utf16, &XmlLimits::default()).unwrap_err(),
        EnvelopeError::NotUtf8
    );
}

#[test]
fn structure_errors() {
    assert!(matches!(err(&env("<v:Req>")), EnvelopeError::Malformed(_)));
    assert!(matches!(
        err("garbage"),
        EnvelopeError::NotAnEnvelope | EnvelopeError::Malformed(_)
    ));
    assert!(matches!(
        err(&format!("{}<x/>", env(REQ))),
        EnvelopeError::Malformed(_)
    ));
    assert!(matches!(
        err(&env("<v:Req a=\"1\" a=\"2\"/>")),
        EnvelopeError::Malformed(_)
    ));
    assert!(matches!(err(&env("<q:Req/>")), EnvelopeError::Malformed(_)));
    assert!(matches!(err(&env("text")), EnvelopeError::Malformed(_)));
    assert_eq!(
        err(&env(&format!("{REQ}{REQ}"))),
        EnvelopeError::MultipleBodyChildren
    );
    assert_eq!(err(&env("")), EnvelopeError::EmptyBody);
    assert_eq!(
        err(&format!("<s:Envelope xmlns:s=\"{SOAP11_ENV}\"/>")),
        EnvelopeError::MissingBody
    );
    assert_eq!(
        err(&format!(
            "<s:Envelope xmlns:s=\"{SOAP11_ENV}\"><s:Header/></s:Envelope>"
        )),
        EnvelopeError::MissingBody
    );
    assert_eq!(
        err(&format!(
            "<e:Envelope xmlns:e=\"{SOAP12_ENV}\"><e:Body>{REQ}</e:Body></e:Envelope>"
        )),
        EnvelopeError::VersionMismatch
    );
    assert_eq!(
        err(&format!("<x:Foo xmlns:x=\"{SOAP11_ENV}\"/>")),
        EnvelopeError::NotAnEnvelope
    );
    assert_eq!(
        err(&format!(
            "<s:Envelope xmlns:s=\"{SOAP11_ENV}\"><s:Body/><s:Body/></s:Envelope>"
        )),
        EnvelopeError::NotAnEnvelope
    );
}

#[test]
fn mutations_never_panic() {
    let base = env(REQ).into_bytes();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let mut m = base.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % m.len();
            match next() % 3 {
                0 => m[i] = (next() & 0xff) as u8,
                1 => {
                    m.remove(i);
                }
                _ => m.insert(i, b"<>&;\"'/="[(next() % 8) as usize]),
            }
        }
        let _ = scan(&m, &XmlLimits::default());
    }
}
