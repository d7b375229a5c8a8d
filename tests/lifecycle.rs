//! Operations around the requests: admin endpoints and metrics, graceful shutdown that
//! answers in-flight requests and flushes their rows, and retention by partition.

mod common;
use bytes::Bytes;
use common::*;
use diesel::RunQueryDsl;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::time::Duration;

async fn admin_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(path)
        .header("host", "admin")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_port_reports_health_and_metrics() {
    let s = TestServer::start().await;
    let admin = s.running().admin_addr;
    assert!(admin.ip().is_loopback());
    assert_eq!(admin_get(admin, "/healthz").await.0, 200);
    assert_eq!(admin_get(admin, "/readyz").await.0, 200);
    let client = s.client("regione-lombardia");
    client
        .soap(
            VAFR_PATH,
            VAFR_ACTION,
            vafr_envelope("BNCGLI85L42H501P", None, None, None),
        )
        .await
        .unwrap();
    client
        .soap(VAFR_PATH, VAFR_ACTION, "garbage")
        .await
        .unwrap();
    s.call("avn", vafr_envelope("BNCGLI85L42H501P", None, None, None))
        .await;
    let (status, metrics) = admin_get(admin, "/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        r#"tsgate_requests_total{operation="VerificaAssistitoFuoriRegione",esito="00"} 1"#,
        r#"tsgate_requests_total{operation="VerificaAssistitoFuoriRegione",esito="TSG-0210"} 1"#,
        r#"tsgate_faults_total{code="TSG-0104"} 1"#,
        "tsgate_request_duration_seconds_bucket",
        "tsgate_access_log_batch_size_count",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    assert_eq!(admin_get(admin, "/nope").await.0, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_answers_in_flight_requests_and_flushes_their_rows() {
    let mut s = TestServer::start().await;
    let body = vafr_envelope("BNCGLI85L42H501P", None, None, None);
    let held = s
        .client("regione-lombardia")
        .hold(VAFR_PATH, VAFR_ACTION, &body)
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let running = s.running.take().unwrap();
    let addr = running.soap_addr;
    let stopping = tokio::spawn(running.shutdown());
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are no longer accepted...
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err()
            || s.client("regione-lombardia").connect().await.is_err()
    );
    // ...but the request in flight completes.
    let reply = held.finish().await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown finished")
        .unwrap();
    let rows = access_log(&s.db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].esito.as_deref(), Some("00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_drops_whole_expired_partitions_only() {
    let s = TestServer::start().await;
    s.call(
        "regione-lombardia",
        vafr_envelope("BNCGLI85L42H501P", None, None, None),
    )
    .await;
    let mut conn = s.db.connection();
    diesel::sql_query(
        "SELECT access_log_ensure_partitions((now() - interval '15 months')::date, 5)",
    )
    .execute(&mut conn)
    .unwrap();
    for (age, code) in [("14 months", "TSG-0500"), ("11 months", "TSG-0504")] {
        diesel::sql_query(format!(
            "INSERT INTO access_log (ts_richiesta, identificativo_transazione, ip_client, codice_errore) \
             VALUES (now() - interval '{age}', gen_random_uuid(), '127.0.0.1', '{code}')"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    assert_eq!(access_log(&s.db).len(), 3);
    let dropped = tsgate::audit::retention::purge(&mut conn, 12).unwrap();
    assert!(!dropped.is_empty(), "old partitions dropped");
    let rows = access_log(&s.db);
    assert_eq!(
        rows.len(),
        2,
        "only the row older than 12 months went: {rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.codice_errore.as_deref() == Some("TSG-0504")),
        "11 months old kept"
    );
    assert!(rows.iter().any(|r| r.esito.as_deref() == Some("00")));
    // Idempotent; the current months stay.
    assert!(tsgate::audit::retention::purge(&mut conn, 12)
        .unwrap()
        .is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_ca_keeps_its_crl_alive() {
    let s = TestServer::start_with(standard_callers(), |c| c.tls.crl_reload_secs = 1).await;
    let crl = s.pki.crl_pem_path();
    std::fs::remove_file(&crl).unwrap();
    for _ in 0..50 {
        if crl.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(crl.exists(), "CRL not re-signed");
    // The re-signed CRL lists the revoked certificate.
    let revoked = s
        .pki
        .find_client("regione-lombardia-revocato")
        .unwrap()
        .unwrap();
    let parsed = openssl::x509::X509Crl::from_pem(&std::fs::read(&crl).unwrap()).unwrap();
    let listed: Vec<String> = parsed
        .get_revoked()
        .map(|st| {
            st.iter()
                .map(|r| {
                    r.serial_number()
                        .to_bn()
                        .unwrap()
                        .to_hex_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        listed
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&revoked.serial)),
        "{listed:?} vs {}",
        revoked.serial
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let body = vafr_envelope("BNCGLI85L42H501P", None, None, None);
    assert!(
        s.client("regione-lombardia-revocato")
            .soap(VAFR_PATH, VAFR_ACTION, body.clone())
            .await
            .is_err(),
        "revoked certificate accepted after the CRL was re-signed"
    );
    let r = s
        .client("regione-lombardia")
        .soap(VAFR_PATH, VAFR_ACTION, body)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    s.stop().await;
}
