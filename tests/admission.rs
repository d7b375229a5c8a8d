//! Admission end to end: certificates (none, unknown, foreign CA, revoked), IP ranges,
//! entitlements, rate limits, the concurrency cap, and the TLS policy. Every refusal is
//! answered (or the handshake fails) and leaves an access-log row.

mod common;
use common::*;
use std::time::Duration;

fn ok_body() -> String {
    vafr_envelope("BNCGLI85L42H501P", None, None, None)
}

async fn wait_for_rows(s: &TestServer, n: usize) -> Vec<LogRow> {
    for _ in 0..100 {
        let rows = access_log(&s.db);
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    access_log(&s.db)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_certificate_is_refused_in_the_handshake_and_logged() {
    let s = TestServer::start().await;
    let err = s
        .anonymous_client()
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .unwrap_err();
    assert!(
        err.contains("handshake") || err.contains("request") || err.contains("ready"),
        "{err}"
    );
    let rows = wait_for_rows(&s, 1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].codice_errore.as_deref(), Some("TSG-0101"));
    assert_eq!(rows[0].chiamante, None);
    assert_eq!(rows[0].ip_client, "127.0.0.1");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_ca_and_revoked_certificates_are_refused() {
    let s = TestServer::start().await;
    let foreign =
        tsgate::pki::issue_foreign_client(&scratch_dir("foreign"), "intruso").expect("foreign");
    let client = Client::new(
        s.addr(),
        &s.pki.ca_pem_path(),
        Some((foreign.cert_path.clone(), foreign.key_path.clone())),
    );
    assert!(
        client
            .soap(VAFR_PATH, VAFR_ACTION, ok_body())
            .await
            .is_err(),
        "foreign CA accepted"
    );

    let revoked = s.client("regione-lombardia-revocato");
    assert!(
        revoked
            .soap(VAFR_PATH, VAFR_ACTION, ok_body())
            .await
            .is_err(),
        "revoked certificate accepted"
    );
    // The same caller's valid certificate still works.
    let r = s
        .client("regione-lombardia")
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("valid cert");
    assert_eq!(r.status, 200, "{}", r.body);

    let rows = wait_for_rows(&s, 3).await;
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.codice_errore.as_deref() == Some("TSG-0101"))
        .collect();
    assert_eq!(refused.len(), 2, "{rows:?}");
    assert!(refused.iter().all(|r| r
        .chiamante
        .as_deref()
        .is_some_and(|c| c.starts_with("sha256:"))));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_of_no_caller_gets_a_fault() {
    let s = TestServer::start().await;
    let stray = s
        .pki
        .issue_client("non-registrato", "nessuno", 30)
        .expect("issue");
    let client = Client::new(
        s.addr(),
        &s.pki.ca_pem_path(),
        Some((stray.cert_path.clone(), stray.key_path.clone())),
    );
    let r = client
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(
        (r.status, fault_code(&r).as_deref()),
        (500, Some("TSG-0102")),
        "{}",
        r.body
    );
    let row = &access_log(&s.db)[0];
    assert_eq!(
        row.chiamante.as_deref(),
        Some(format!("sha256:{}", stray.fingerprint).as_str())
    );
    assert_eq!(row.codice_errore.as_deref(), Some("TSG-0102"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn address_outside_the_callers_ranges_gets_a_fault() {
    let s = TestServer::start().await;
    // regione-veneto is registered for 127.0.0.77/32 only.
    let r = s
        .client("regione-veneto")
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0103"), "{}", r.body);
    let r = s
        .client("regione-veneto")
        .bound_to("127.0.0.77")
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    let rows = access_log(&s.db);
    assert_eq!(rows[0].codice_errore.as_deref(), Some("TSG-0103"));
    assert_eq!(rows[1].ip_client, "127.0.0.77");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn address_outside_every_range_is_dropped_before_the_handshake() {
    let op = ["VerificaAssistitoFuoriRegione"];
    let callers = vec![caller(
        "regione-lombardia",
        "REGIONE",
        Some("030"),
        &op,
        &["127.0.0.1/32"],
    )];
    let s = TestServer::start_with(callers, |_| {}).await;
    let err = s
        .client("regione-lombardia")
        .bound_to("127.0.0.2")
        .connect()
        .await
        .err()
        .expect("dropped");
    assert!(err.contains("handshake"), "{err}");
    assert!(s.client("regione-lombardia").connect().await.is_ok());
    let metrics = s.state().metrics.render();
    assert!(
        metrics.contains("reason=\"ip_not_registered\""),
        "{metrics}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn operation_not_entitled_gets_a_fault() {
    let s = TestServer::start().await;
    let r = s
        .client("avn")
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"), "{}", r.body);
    assert_eq!(access_log(&s.db)[0].chiamante.as_deref(), Some("avn"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_answers_429_with_headers() {
    let op = ["VerificaAssistitoFuoriRegione"];
    let mut slow = caller(
        "regione-lombardia",
        "REGIONE",
        Some("030"),
        &op,
        &["127.0.0.0/8"],
    );
    slow.limite_al_secondo = 1;
    slow.limite_raffica = 2;
    let s = TestServer::start_with(vec![slow], |_| {}).await;
    let mut conn = s
        .client("regione-lombardia")
        .connect()
        .await
        .expect("connect");
    let first = conn
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("1");
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["x-ratelimit-limit"], "2");
    assert_eq!(first.headers["x-ratelimit-remaining"], "1");
    assert_eq!(
        conn.soap(VAFR_PATH, VAFR_ACTION, ok_body())
            .await
            .expect("2")
            .status,
        200
    );
    let limited = conn
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("3");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(fault_code(&limited).as_deref(), Some("TSG-0429"));
    assert_eq!(limited.headers["x-ratelimit-remaining"], "0");
    assert_eq!(limited.headers["retry-after"], "1");
    assert_eq!(limited.headers["x-ratelimit-reset"], "1");
    let rows = access_log(&s.db);
    assert_eq!(
        rows.iter()
            .filter(|r| r.codice_errore.as_deref() == Some("TSG-0429"))
            .count(),
        1
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_cap_answers_503() {
    let s =
        TestServer::start_with(standard_callers(), |c| c.server.max_concurrent_requests = 1).await;
    // Hold the only slot: headers and half a body, then wait.
    let held = s
        .client("regione-lombardia")
        .hold(VAFR_PATH, VAFR_ACTION, &ok_body())
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let r = s
        .client("regione-lazio")
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(
        (r.status, fault_code(&r).as_deref()),
        (503, Some("TSG-0503")),
        "{}",
        r.body
    );
    assert_eq!(
        xml_text(&r.body, "faultcode").as_deref(),
        Some("soapenv:Server")
    );

    let reply = held.finish().await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let r = s
        .client("regione-lazio")
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(r.status, 200, "slot released");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_caps_close_connections_beyond_them_before_the_handshake() {
    let s = TestServer::start_with(standard_callers(), |c| {
        c.server.max_connections = 3;
        c.server.max_connections_per_ip = 2;
    })
    .await;
    let client = s.client("regione-lombardia");
    let mut first = client.connect().await.expect("first connection");
    let second = client.connect().await.expect("second connection");
    // A third from the same address is closed before the handshake: connect fails.
    assert!(client.connect().await.is_err(), "beyond the per-IP cap");
    // The connections within the cap still serve requests.
    let r = first
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("reply");
    assert_eq!(r.status, 200, "{}", r.body);
    let refused = s.state().metrics.render();
    assert!(
        refused.contains("reason=\"max_connections_per_ip\""),
        "the refusal is counted"
    );
    // Closing one gives its slot back.
    drop(second);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(c) = client.connect().await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "a slot is free once a connection closes");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_policy_refuses_old_protocols_and_weak_ciphers() {
    use openssl::ssl::SslVersion;
    let s = TestServer::start().await;
    let paths = s.pki.client_paths("regione-lombardia");
    let probe = |min: SslVersion, max: SslVersion, ciphers: &'static str| {
        Client::with_connector(
            s.addr(),
            &s.pki.ca_pem_path(),
            Some(paths.clone()),
            move |b| {
                b.set_min_proto_version(Some(min)).unwrap();
                b.set_max_proto_version(Some(max)).unwrap();
                b.set_cipher_list(ciphers).unwrap();
            },
        )
    };
    // TLS 1.0 and 1.1, even with a cipher the server would otherwise pick.
    for v in [SslVersion::TLS1, SslVersion::TLS1_1] {
        let c = probe(v, v, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0");
        assert!(c.connect().await.is_err(), "{v:?} accepted");
    }
    // TLS 1.2 with ECDHE but without AEAD (CBC with SHA-1 or SHA-2), one suite at a time.
    for suite in [
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-ECDSA-AES256-SHA384",
    ] {
        let c = probe(SslVersion::TLS1_2, SslVersion::TLS1_2, suite);
        assert!(c.connect().await.is_err(), "{suite} accepted");
    }
    // Each accepted TLS 1.2 suite is ECDHE with AEAD.
    for suite in [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ] {
        let c = probe(SslVersion::TLS1_2, SslVersion::TLS1_2, suite);
        let r = c
            .soap(VAFR_PATH, VAFR_ACTION, ok_body())
            .await
            .unwrap_or_else(|e| panic!("{suite}: {e}"));
        assert_eq!(r.status, 200);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_caller_is_refused_on_an_open_connection() {
    use diesel::RunQueryDsl;
    let s = TestServer::start().await;
    let mut conn = s
        .client("regione-lombardia")
        .connect()
        .await
        .expect("connect");
    let r = conn
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("first");
    assert_eq!(r.status, 200, "{}", r.body);
    diesel::sql_query("UPDATE chiamante SET abilitato = false WHERE nome = 'regione-lombardia'")
        .execute(&mut s.db.connection())
        .unwrap();
    s.reload_registry().await;
    let r = conn
        .soap(VAFR_PATH, VAFR_ACTION, ok_body())
        .await
        .expect("second");
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0102"), "{}", r.body);
    s.stop().await;
}

/// Revocation is checked against the CRL held in memory, not a file read per handshake: with
/// the CRL file gone (and a reload attempted, which keeps the loaded context), the revoked
/// certificate is still refused and a valid one still admitted, handshake after handshake.
#[tokio::test(flavor = "multi_thread")]
async fn revocation_is_checked_from_memory_without_reading_the_crl_file() {
    let s = TestServer::start().await;
    let crl = s.pki.crl_pem_path();
    let away = crl.with_extension("pem.away");
    std::fs::rename(&crl, &away).unwrap();
    s.state().tls.reload_if_changed();
    for _ in 0..3 {
        assert!(
            s.client("regione-lombardia-revocato")
                .soap(VAFR_PATH, VAFR_ACTION, ok_body())
                .await
                .is_err(),
            "revoked certificate accepted with the CRL file gone"
        );
        let r = s
            .client("regione-lombardia")
            .soap(VAFR_PATH, VAFR_ACTION, ok_body())
            .await
            .expect("valid certificate refused with the CRL file gone");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    std::fs::rename(&away, &crl).unwrap();
    s.stop().await;
}
