//! Tests of the envelope scanner: limits, SOAP structure, the Body fragment, documents and charsets.

use super::*;
use quick_xml::escape::unescape;
use quick_xml::name::ResolveResult;

const NS: &str = "urn:tsgate:vaccini:verificaAssistitoFuoriRegione";

/// An envelope (prefix `soapenv`, request prefix `v` declared on the Envelope) around `body`.
fn env(body: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="{SOAP11_ENV}" xmlns:v="{NS}"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

fn ok(input: &str) -> ScannedEnvelope {
    match scan(input.as_bytes(), &XmlLimits::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e:?} for {input}"),
    }
}

fn err(input: &str) -> EnvelopeError {
    match scan(input.as_bytes(), &XmlLimits::default()) {
        Ok(s) => panic!("accepted {input}: {s:?}"),
        Err(e) => e,
    }
}

fn is_malformed(e: EnvelopeError) -> bool {
    matches!(e, EnvelopeError::Malformed(_))
}

const REQ: &str = "<v:Req><v:codiceFiscale a=\"x &amp; y\" b='say \"hi\"'>AB&lt;C&#x41;</v:codiceFiscale><v:n><![CDATA[<raw>]]></v:n><x:e xmlns:x=\"urn:x\" x:k=\"1\"/><!-- dropped --></v:Req>";

/// Parses a standalone fragment with quick-xml: resolved (namespace, local name) of every
/// element, unescaped text, and the unescaped attribute values by local name.
type Parsed = (Vec<(Option<String>, String)>, String, Vec<(String, String)>);

fn parse_back(xml: &str) -> Parsed {
    let mut r = NsReader::from_str(xml);
    r.config_mut().check_end_names = true;
    let (mut names, mut text, mut attrs) = (Vec::new(), String::new(), Vec::new());
    loop {
        let (ns, ev) = r.read_resolved_event().expect("fragment is well formed");
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.0.to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => panic!("unbound prefix {p} in {xml}"),
        };
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                names.push((ns, e.local_name().as_ref().to_owned()));
                for a in e.attributes() {
                    let a = a.expect("attribute");
                    if a.key.as_namespace_binding().is_none() {
                        let v = unescape(&a.value).expect("value").into_owned();
                        attrs.push((a.key.local_name().as_ref().to_owned(), v));
                    }
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(c) => text.push_str(&c),
            Event::GeneralRef(g) => match g.resolve_char_ref().expect("char ref") {
                Some(c) => text.push(c),
                None => text.push_str(&unescape(&format!("&{};", &*g)).expect("entity")),
            },
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) => panic!("unexpected in {xml}"),
            _ => {}
        }
    }
    (names, text, attrs)
}

#[test]
fn valid_envelope_yields_a_standalone_body() {
    let s = ok(&env(REQ));
    assert_eq!(s.body_ns.as_deref(), Some(NS));
    assert_eq!(s.body_local, "Req");
    assert!(s.must_understand.is_empty());
    assert!(!s.body_xml.contains("dropped"), "{}", s.body_xml);
    let (names, text, attrs) = parse_back(&s.body_xml);
    let ns = Some(NS.to_owned());
    assert_eq!(
        names,
        vec![
            (ns.clone(), "Req".to_owned()),
            (ns.clone(), "codiceFiscale".to_owned()),
            (ns, "n".to_owned()),
            (Some("urn:x".to_owned()), "e".to_owned()),
        ]
    );
    assert_eq!(text, "AB<CA<raw>");
    assert_eq!(
        attrs,
        vec![
            ("a".to_owned(), "x & y".to_owned()),
            ("b".to_owned(), "say \"hi\"".to_owned()),
            ("k".to_owned(), "1".to_owned()),
        ]
    );
    // Every binding in scope is carried, the SOAP one included.
    assert!(s.body_xml.starts_with(&format!(
        "<v:Req xmlns:soapenv=\"{SOAP11_ENV}\" xmlns:v=\"{NS}\">"
    )));
}

#[test]
fn prefixes_default_namespace_declaration_and_bom() {
    for prefix in ["soapenv", "soap", "SOAP-ENV", "s"] {
        let input = format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->\n<{prefix}:Envelope xmlns:{prefix}=\"{SOAP11_ENV}\" xmlns=\"urn:outer\">\n <{prefix}:Body>\n  <Req xmlns=\"{NS}\"><codiceFiscale>X</codiceFiscale><o xmlns=\"\"/></Req>\n </{prefix}:Body>\n</{prefix}:Envelope>\n<!-- after -->\n"
        );
        let s = ok(&input);
        assert_eq!(s.body_ns.as_deref(), Some(NS));
        assert_eq!(s.body_local, "Req");
        // The element's own default declaration wins over the Envelope's.
        assert!(!s.body_xml.contains("urn:outer"), "{}", s.body_xml);
        let (names, _, _) = parse_back(&s.body_xml);
        assert_eq!(names[0], (Some(NS.to_owned()), "Req".to_owned()));
        assert_eq!(names[1], (Some(NS.to_owned()), "codiceFiscale".to_owned()));
        assert_eq!(names[2], (None, "o".to_owned()));
    }
}

#[test]
fn inherited_default_and_shadowed_prefixes_are_carried() {
    let input = format!(
        r#"<s:Envelope xmlns:s="{SOAP11_ENV}" xmlns='{NS}' xmlns:p="urn:old"><s:Body xmlns:p='urn:"new"'><Req p:a="1"><p:c/></Req></s:Body></s:Envelope>"#
    );
    let s = ok(&input);
    assert_eq!(s.body_ns.as_deref(), Some(NS));
    assert!(!s.body_xml.contains("urn:old"), "{}", s.body_xml);
    let (names, _, attrs) = parse_back(&s.body_xml);
    assert_eq!(names[0], (Some(NS.to_owned()), "Req".to_owned()));
    assert_eq!(
        names[1],
        (Some("urn:&quot;new&quot;".to_owned()), "c".to_owned())
    );
    assert_eq!(attrs, vec![("a".to_owned(), "1".to_owned())]);
}

#[test]
fn empty_body_child_and_header_without_must_understand() {
    let input = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Header><h:Info xmlns:h="urn:h">free text &amp; <b>x</b></h:Info></soap:Header><soap:Body><v:Req xmlns:v="{NS}" a="1"/></soap:Body></soap:Envelope>"#
    );
    let s = ok(&input);
    assert!(s.must_understand.is_empty());
    assert_eq!(
        (s.body_ns.as_deref(), s.body_local.as_str()),
        (Some(NS), "Req")
    );
    assert_eq!(
        s.body_xml,
        format!("<v:Req xmlns:soap=\"{SOAP11_ENV}\" xmlns:v=\"{NS}\" a=\"1\"/>")
    );
}

#[test]
fn must_understand_headers_are_reported() {
    let input = format!(
        r#"<s:Envelope xmlns:s="{SOAP11_ENV}"><s:Header><w:Sec xmlns:w="urn:w" s:mustUnderstand="1"><w:In s:mustUnderstand="1"/></w:Sec><w:Opt xmlns:w="urn:w" s:mustUnderstand="0"/><Plain mustUnderstand="1"/></s:Header><s:Body><Req xmlns="{NS}"/></s:Body></s:Envelope>"#
    );
    let s = ok(&input);
    assert_eq!(
        s.must_understand,
        vec![(Some("urn:w".to_owned()), "Sec".to_owned())]
    );
    assert!(s.body_xml.starts_with("<Req"), "{}", s.body_xml);
}

#[test]
fn doctype_in_every_shape_is_refused() {
    let internal = format!("<!DOCTYPE x [<!ELEMENT x ANY>]>{}", env(REQ));
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]>{}",
        env("<v:Req>&lol2;</v:Req>")
    );
    let xxe = format!(
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        env("<v:Req>&e;</v:Req>")
    );
    let external = format!("<!DOCTYPE x SYSTEM \"http://evil/x.dtd\">{}", env(REQ));
    let lower = format!("<!doctype x>{}", env(REQ));
    for input in [internal, laughs, xxe, external, lower] {
        assert_eq!(err(&input), EnvelopeError::Doctype, "{input}");
    }
}

#[test]
fn references_and_processing_instructions() {
    assert_eq!(
        err(&env("<v:Req>&e;</v:Req>")),
        EnvelopeError::EntityReference
    );
    assert_eq!(
        err(&env("<v:Req a=\"&e;\"/>")),
        EnvelopeError::EntityReference
    );
    assert_eq!(
        err(&env("<v:Req>&nbsp;</v:Req>")),
        EnvelopeError::EntityReference
    );
    for bad in [
        "&#0;",
        "&#1;",
        "&#xFFFE;",
        "&#xD800;",
        "&#x;",
        "&#+65;",
        "&#99999999999;",
        "& x;",
        "a & b",
    ] {
        assert!(
            is_malformed(err(&env(&format!("<v:Req>{bad}</v:Req>")))),
            "{bad}"
        );
        assert!(
            is_malformed(err(&env(&format!("<v:Req a=\"{bad}\"/>")))),
            "{bad}"
        );
    }
    let s = ok(&env(
        "<v:Req a=\"&#65;&lt;\">&#65;&#x42;&amp;&quot;&apos;&gt;&lt;</v:Req>",
    ));
    assert_eq!(parse_back(&s.body_xml).1, "AB&\"'><");
    assert_eq!(
        err(&format!("<?xml version=\"1.0\"?><?pi x?>{}", env(REQ))),
        EnvelopeError::ProcessingInstruction
    );
    assert_eq!(
        err(&env("<v:Req><?xml-stylesheet href=\"x\"?></v:Req>")),
        EnvelopeError::ProcessingInstruction
    );
    // An XML declaration anywhere but at the very start is not one.
    assert!(is_malformed(err(&format!(
        " <?xml version=\"1.0\"?>{}",
        env(REQ)
    ))));
    assert!(is_malformed(err(&env(
        "<v:Req><?xml version=\"1.0\"?></v:Req>"
    ))));
}

#[test]
fn depth_limit() {
    // Envelope (1) > Body (2) > Req (3) > n levels of <a>.
    let deep = |n: usize| {
        env(&format!(
            "<v:Req>{}{}</v:Req>",
            "<a>".repeat(n),
            "</a>".repeat(n)
        ))
    };
    ok(&deep(97));
    assert_eq!(err(&deep(98)), EnvelopeError::TooDeep { limit: 100 });
    // Streaming: an endless nest fails at the limit, never reading its end.
    let endless = "<a>".repeat(300_000);
    assert!(matches!(err(&env(&endless)), EnvelopeError::TooDeep { .. }));
}

#[test]
fn attribute_limits() {
    let attrs = |n: usize| {
        let a: String = (0..n).map(|i| format!(" a{i}=\"1\"")).collect();
        env(&format!("<v:Req{a}/>"))
    };
    ok(&attrs(500));
    assert_eq!(
        err(&attrs(501)),
        EnvelopeError::TooManyAttributes { limit: 500 }
    );
    assert!(matches!(
        err(&attrs(100_000)),
        EnvelopeError::TooManyAttributes { .. }
    ));
    // Namespace declarations count as attributes.
    let decls: String = (0..499).map(|i| format!(" a{i}=\"1\"")).collect();
    assert_eq!(
        err(&env(&format!("<v:Req xmlns:z=\"urn:z\"{decls} b=\"2\"/>"))),
        EnvelopeError::TooManyAttributes { limit: 500 }
    );
    let long = |n: usize| env(&format!("<v:Req a=\"{}\"/>", "x".repeat(n)));
    ok(&long(64 * 1024));
    assert_eq!(
        err(&long(64 * 1024 + 1)),
        EnvelopeError::AttributeTooLong { limit: 64 * 1024 }
    );
}

#[test]
fn children_limit() {
    let kids = |n: usize| env(&format!("<v:Req>{}</v:Req>", "<c/>".repeat(n)));
    ok(&kids(50_000));
    assert_eq!(
        err(&kids(50_001)),
        EnvelopeError::TooManyChildren { limit: 50_000 }
    );
    // Text between children does not count.
    ok(&env(&format!("<v:Req>{}</v:Req>", "<c/> ".repeat(50_000))));
}

#[test]
fn custom_limits_apply() {
    let limits = XmlLimits {
        max_depth: 4,
        max_attributes: 2,
        max_children: 3,
        max_attribute_len: 60,
    };
    let run = |body: &str| scan(env(body).as_bytes(), &limits);
    assert!(run(&format!(
        "<v:Req><a b=\"{}\"/><a/><a/></v:Req>",
        "x".repeat(60)
    ))
    .is_ok());
    assert_eq!(
        run("<v:Req><a><b/></a></v:Req>"),
        Err(EnvelopeError::TooDeep { limit: 4 })
    );
    assert_eq!(
        run("<v:Req><a/><a/><a/><a/></v:Req>"),
        Err(EnvelopeError::TooManyChildren { limit: 3 })
    );
    // The Envelope carries two declarations already: at the limit.
    assert!(run("<v:Req a=\"1\" b=\"2\"/>").is_ok());
    assert_eq!(
        run("<v:Req a=\"1\" b=\"2\" c=\"3\"/>"),
        Err(EnvelopeError::TooManyAttributes { limit: 2 })
    );
    assert_eq!(
        run(&format!("<v:Req a=\"{}\"/>", "x".repeat(61))),
        Err(EnvelopeError::AttributeTooLong { limit: 60 })
    );
}

#[test]
fn encodings_are_utf8_and_utf16() {
    let mut latin1 = env("<v:Req>X</v:Req>").into_bytes();
    if let Some(pos) = latin1.iter().position(|&b| b == b'X') {
        latin1[pos] = 0xE8; // 'è' in Latin-1
    }
    assert_eq!(
        scan(&latin1, &XmlLimits::default()),
        Err(EnvelopeError::NotUtf8)
    );
    // The declaration's encoding is ignored (R1019): the text was decoded by the HTTP charset.
    for enc in ["ISO-8859-1", "UTF-16", "windows-1252", "UTF-8", "utf-8"] {
        ok(&format!(
            "<?xml version='1.0' encoding='{enc}' standalone='yes'?>{}",
            env(REQ)
        ));
    }
    assert!(matches!(
        err(&format!(
            "<?xml version=\"1.0\" encoding=\"8bit\"?>{}",
            env(REQ)
        )),
        EnvelopeError::Malformed(_)
    ));
    // A SAML document is handed to libxml2 as bytes: there the declaration must say UTF-8.
    let saml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>";
    assert_eq!(
        scan_document(saml.as_bytes(), &XmlLimits::default()),
        Err(EnvelopeError::NotUtf8)
    );
    let text = format!("<?xml version=\"1.0\" encoding=\"UTF-16\"?>{}", env(REQ));
    let utf16 =
        |bom: &[u8], le: bool| {
            let mut v = bom.to_vec();
            v.extend(text.encode_utf16().flat_map(|u| {
                if le {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            }));
            v
        };
    let read = |bytes: &[u8], charset| {
        transcode(bytes, charset)
            .and_then(|t| scan(&t, &XmlLimits::default()).map(|s| s.body_local))
    };
    for (bom, le, charsets) in [
        (
            &[0xFF, 0xFE][..],
            true,
            &[None, Some(Charset::Utf16), Some(Charset::Utf16Le)][..],
        ),
        (
            &[0xFE, 0xFF][..],
            false,
            &[None, Some(Charset::Utf16), Some(Charset::Utf16Be)][..],
        ),
        (
            &[][..],
            true,
            &[None, Some(Charset::Utf16), Some(Charset::Utf16Le)][..],
        ),
        (
            &[][..],
            false,
            &[None, Some(Charset::Utf16), Some(Charset::Utf16Be)][..],
        ),
    ] {
        for &c in charsets {
            assert_eq!(
                read(&utf16(bom, le), c).as_deref(),
                Ok("Req"),
                "{bom:?} {le} {c:?}"
            );
        }
    }
    assert!(matches!(
        read(&utf16(&[0xFF, 0xFE], true), Some(Charset::Utf8)),
        Err(EnvelopeError::Encoding(_))
    ));
    let mut odd = utf16(&[0xFF, 0xFE], true);
    odd.push(b'x');
    assert!(matches!(read(&odd, None), Err(EnvelopeError::Encoding(_))));
    let lone = [0xFF, 0xFE, b'<', 0, 0x00, 0xD8, b'a', 0];
    assert!(matches!(read(&lone, None), Err(EnvelopeError::Encoding(_))));
    assert_eq!(Charset::from_label("\"UTF-16\""), Some(Charset::Utf16));
    assert_eq!(Charset::from_label("iso-8859-1"), None);
    for decl in [
        "<?xml version=\"1.1\"?>",
        "<?xml?>",
        "<?xml encoding=\"UTF-8\"?>",
        "<?xml encoding=\"UTF-8\" version=\"1.0\"?>",
        "<?xml version=\"1.0\" version=\"1.0\"?>",
        "<?xml version=\"1.0\"junk?>",
        "<?xml version=\"1.0\" standalone=\"maybe\"?>",
        "<?xml version=\"1.0\" foo=\"bar\"?>",
    ] {
        assert!(is_malformed(err(&format!("{decl}{}", env(REQ)))), "{decl}");
    }
    // Characters XML 1.0 does not allow, even as raw UTF-8.
    assert!(is_malformed(err(&env("<v:Req>a\u{1}b</v:Req>"))));
    assert!(is_malformed(err(&env("<v:Req>a\u{0}b</v:Req>"))));
    assert!(is_malformed(err(&env("<v:Req>\u{FFFF}</v:Req>"))));
    // Non-ASCII UTF-8 is fine and round-trips.
    let s = ok(&env("<v:Req>Città è ü 𝄞</v:Req>"));
    assert_eq!(parse_back(&s.body_xml).1, "Città è ü 𝄞");
}

#[test]
fn malformed_documents() {
    let cases = [
        env("<v:Req>"),
        env("<v:Req></v:Other>"),
        format!("{}<x/>", env(REQ)),
        format!("{}trailing", env(REQ)),
        format!("junk{}", env(REQ)),
        env("<v:Req a=\"1\" a=\"2\"/>"),
        env("<v:Req xmlns:p=\"urn:a\" xmlns:q=\"urn:a\" p:x=\"1\" q:x=\"2\"/>"),
        env("<q:Req/>"),
        env("<v:Req q:a=\"1\"/>"),
        env("<v:Req xmlns:p=\"\"><p:x/></v:Req>"),
        env("<v:Req xmlns:xml=\"urn:not-xml\"/>"),
        env("<v:Req a=\"<\"/>"),
        env("<v:Req a=1/>"),
        env("<v:Req a=\"1\"b='2'/>"),
        env("<v:Req>]]></v:Req>"),
        env("<v:Req><1a/></v:Req>"),
        env("<v:Req><a:b:c/></v:Req>"),
        env("<v:Req><!-- a -- b --></v:Req>"),
        env("<v:Req><![CDATA[x</v:Req>"),
        format!("<s:Envelope xmlns:s=\"{SOAP11_ENV}\">x<s:Body>{REQ}</s:Body></s:Envelope>"),
        "<s:Envelope xmlns:s=\"x\"".to_owned(),
        "<".to_owned(),
        "</a>".to_owned(),
        "garbage".to_owned(),
    ];
    for input in cases {
        assert!(is_malformed(err(&input)), "{input}: {:?}", err(&input));
    }
}

#[test]
fn structure_errors() {
    assert_eq!(err(""), EnvelopeError::NotAnEnvelope);
    assert_eq!(
        err("  <!-- only a comment -->  "),
        EnvelopeError::NotAnEnvelope
    );
    assert_eq!(
        err(&format!("<x:Foo xmlns:x=\"{SOAP11_ENV}\"/>")),
        EnvelopeError::NotAnEnvelope
    );
    assert_eq!(err("<Request/>"), EnvelopeError::NotAnEnvelope);
    assert_eq!(
        err(&format!(
            "<e:Envelope xmlns:e=\"{SOAP12_ENV}\"><e:Body>{REQ}</e:Body></e:Envelope>"
        )),
        EnvelopeError::VersionMismatch
    );
    assert_eq!(
        err("<Envelope><Body/></Envelope>"),
        EnvelopeError::VersionMismatch
    );
    assert_eq!(
        err(&env(&format!("{REQ}{REQ}"))),
        EnvelopeError::MultipleBodyChildren
    );
    assert_eq!(
        err(&env("<v:A/> <v:B/>")),
        EnvelopeError::MultipleBodyChildren
    );
    assert_eq!(err(&env("")), EnvelopeError::EmptyBody);
    assert_eq!(err(&env(" <!-- nothing --> ")), EnvelopeError::EmptyBody);
    let s = SOAP11_ENV;
    assert_eq!(
        err(&format!(
            "<s:Envelope xmlns:s=\"{s}\"><s:Body/></s:Envelope>"
        )),
        EnvelopeError::EmptyBody
    );
    assert_eq!(
        err(&format!("<s:Envelope xmlns:s=\"{s}\"/>")),
        EnvelopeError::MissingBody
    );
    assert_eq!(
        err(&format!(
            "<s:Envelope xmlns:s=\"{s}\"><s:Header/></s:Envelope>"
        )),
        EnvelopeError::MissingBody
    );
    assert_eq!(err(&env("text")), EnvelopeError::TextInBody);
    assert_eq!(err(&env(&format!("{REQ}text"))), EnvelopeError::TextInBody);
    assert_eq!(err(&env("<![CDATA[x]]>")), EnvelopeError::TextInBody);
    assert_eq!(err(&env("&amp;")), EnvelopeError::TextInBody);
    let s = format!("{SOAP11_ENV}\" xmlns:v=\"{NS}");
    let wrong_order = [
        format!(
            "<s:Envelope xmlns:s=\"{s}\"><s:Body>{REQ}</s:Body><s:Body>{REQ}</s:Body></s:Envelope>"
        ),
        format!("<s:Envelope xmlns:s=\"{s}\"><s:Body>{REQ}</s:Body><s:Header/></s:Envelope>"),
        format!(
            "<s:Envelope xmlns:s=\"{s}\"><s:Header/><s:Header/><s:Body>{REQ}</s:Body></s:Envelope>"
        ),
        format!("<s:Envelope xmlns:s=\"{s}\"><s:Body>{REQ}</s:Body><s:Extra/></s:Envelope>"),
        format!("<s:Envelope xmlns:s=\"{s}\"><Body>{REQ}</Body></s:Envelope>"),
    ];
    for input in wrong_order {
        assert_eq!(err(&input), EnvelopeError::NotAnEnvelope, "{input}");
    }
}

#[test]
fn mutations_never_panic() {
    let bases = [
        env(REQ).into_bytes(),
        format!(
            "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"{SOAP11_ENV}\"><s:Header><h xmlns=\"urn:h\" s:mustUnderstand=\"1\">&#65;</h></s:Header><s:Body><Req xmlns=\"{NS}\" a='&amp;'><b/></Req></s:Body></s:Envelope>"
        )
        .into_bytes(),
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"<>&;\"'/=:!?[]-#x \x00\xC3\xA8\xFF";
    let mut accepted = 0;
    for round in 0..6_000 {
        let mut m = bases[round % bases.len()].clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % (m.len() + 1);
            let b = alphabet[(next() as usize) % alphabet.len()];
            match next() % 4 {
                0 if i < m.len() => m[i] = (next() & 0xff) as u8,
                1 if i < m.len() => {
                    m.remove(i);
                }
                2 if i < m.len() => {
                    let end = (i + (next() as usize) % 16).min(m.len());
                    let chunk = m[i..end].to_vec();
                    m.splice(i..i, chunk);
                }
                _ => m.insert(i, b),
            }
        }
        if let Ok(s) = scan(&m, &XmlLimits::default()) {
            accepted += 1;
            // Whatever is accepted yields a fragment that parses on its own.
            parse_back(&s.body_xml);
        }
    }
    assert!(accepted > 0);
}
