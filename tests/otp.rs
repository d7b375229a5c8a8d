//! Immuni OTP end to end: the contract of the gateway's own OTP service (real mutual TLS, real
//! PostgreSQL), and the client `otp::autorizza` against it and against small test servers that
//! answer 409, 400, 500, nothing at all, or refuse the connection or the certificate.

mod common;

use bytes::Bytes;
use chrono::{Duration, NaiveDate};
use common::{count, Client, Reply, TestServer};
use http::Request;
use http_body_util::Full;
use tsgate::config::OtpConfig;
use tsgate::domain::{tempo, Otp};
use tsgate::otp::{autorizza, EsitoAutorizzazione, OtpClient};

const SCHEMA: &str =
    r#"{"error_code":1001,"message":"Request not compliant with the defined schema."}"#;

fn oggi() -> NaiveDate {
    tempo::oggi_roma()
}

fn json(otp: &str, data: NaiveDate) -> String {
    serde_json::json!({ "otp": otp, "symptoms_started_on": data.to_string() }).to_string()
}

/// A client of the own OTP service presenting `cert` (`None` = no certificate).
fn otp_client(s: &TestServer, cert: Option<(std::path::PathBuf, std::path::PathBuf)>) -> Client {
    let addr = s.running().otp_addr.expect("OTP service served");
    Client::new(addr, &s.pki.ca_pem_path(), cert)
}

fn gateway_otp_client(s: &TestServer) -> Client {
    otp_client(s, Some(s.pki.client_paths(tsgate::otp::CERTIFICATO_CLIENT)))
}

async fn post(c: &Client, path: &str, body: &str, bearer: Option<&str>) -> Result<Reply, String> {
    let mut conn = c.connect().await?;
    let mut req = Request::post(path)
        .header("host", conn.host().to_owned())
        .header("content-type", "application/json");
    if let Some(b) = bearer {
        req = req.header("authorization", format!("Bearer {b}"));
    }
    conn.send(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
}

async fn authorise(c: &Client, otp: &Otp, data: NaiveDate) -> Reply {
    post(c, "/v1/otp", &json(otp.as_str(), data), None)
        .await
        .expect("reply")
}

async fn check(c: &Client, bearer: &str) -> Reply {
    post(c, "/v1/ingestion/check-otp", "", Some(bearer))
        .await
        .expect("reply")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorise_then_conflict_and_check_once() {
    let s = TestServer::start().await;
    let c = gateway_otp_client(&s);
    let otp = Otp::casuale().unwrap();
    let r = authorise(&c, &otp, oggi()).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, "");
    assert_eq!(r.headers["cache-control"], "no-store");
    let r = authorise(&c, &otp, oggi() - Duration::days(3)).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        r#"{"error_code":1400,"message":"OTP already authorized."}"#
    );
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");

    // Only the SHA-256 is stored, with the first authorisation's date.
    let sha = otp.sha256_hex();
    assert_eq!(
        count(&s.db, &format!(
            "SELECT count(*) AS n FROM otp_autorizzato WHERE sha256 = '{sha}' AND inizio_sintomi = '{}' \
             AND scade_il BETWEEN autorizzato_il + interval '149 s' AND autorizzato_il + interval '151 s'",
            oggi()
        )),
        1
    );
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM otp_autorizzato t WHERE t::text LIKE '%{}%'",
                otp.as_str()
            )
        ),
        0
    );

    let wrong = Otp::casuale().unwrap().sha256_hex();
    let r = check(&c, &wrong).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, r#"{"error_code":1101,"message":"Unauthorized."}"#);
    let r = post(&c, "/v1/ingestion/check-otp", "", None).await.unwrap();
    assert_eq!(r.status, 401);
    let r = check(&c, otp.as_str()).await;
    assert_eq!(r.status, 401, "the clear code is not a token");
    // The app's check: the first one uses the OTP up (upper-case hex is the same token).
    let r = check(&c, &sha.to_uppercase()).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = check(&c, &sha).await;
    assert_eq!(r.status, 401);
    // Still live: a used OTP cannot be authorised again until it expires.
    assert_eq!(authorise(&c, &otp, oggi()).await.status, 409);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_authorisation_counts_as_absent_and_is_purged() {
    let s = TestServer::start().await;
    let c = gateway_otp_client(&s);
    let otp = Otp::casuale().unwrap();
    let sha = otp.sha256_hex();
    assert_eq!(authorise(&c, &otp, oggi()).await.status, 204);
    let expire = |sha: &str| {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE otp_autorizzato SET scade_il = now() - interval '1 second' WHERE sha256 = '{sha}'"
        ))
        .execute(&mut s.db.connection())
        .unwrap()
    };
    assert_eq!(expire(&sha), 1);
    assert_eq!(check(&c, &sha).await.status, 401);
    // A new authorisation replaces the expired row, used or not, and can be checked once.
    assert_eq!(authorise(&c, &otp, oggi()).await.status, 204);
    assert_eq!(check(&c, &sha).await.status, 204);
    assert_eq!(expire(&sha), 1);
    assert_eq!(authorise(&c, &otp, oggi()).await.status, 204);
    assert_eq!(
        count(&s.db, &format!("SELECT count(*) AS n FROM otp_autorizzato WHERE sha256 = '{sha}' AND usato_il IS NULL")),
        1
    );

    let live = Otp::casuale().unwrap();
    assert_eq!(authorise(&c, &live, oggi()).await.status, 204);
    assert_eq!(expire(&sha), 1);
    let purged = tsgate::otp::repo::purge(&mut s.db.connection()).unwrap();
    assert_eq!(purged, 1);
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM otp_autorizzato"), 1);
    assert_eq!(check(&c, &live.sha256_hex()).await.status, 204);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_outside_the_schema_are_400_1001() {
    let s = TestServer::start().await;
    let c = gateway_otp_client(&s);
    let valid = Otp::casuale().unwrap();
    let code = valid.as_str();
    let mut wrong_check = code.to_owned();
    let last = if code.ends_with('A') { "E" } else { "A" };
    wrong_check.replace_range(9.., last);
    let cases = [
        ("bad JSON", "{\"otp\": ".to_owned()),
        ("empty body", String::new()),
        ("missing date", format!(r#"{{"otp":"{code}"}}"#)),
        (
            "extra field",
            format!(
                r#"{{"otp":"{code}","symptoms_started_on":"{}","x":1}}"#,
                oggi()
            ),
        ),
        ("bad check character", json(&wrong_check, oggi())),
        ("outside the alphabet", json("NEFHIJ1234", oggi())),
        ("lower case", json(&code.to_lowercase(), oggi())),
        ("future date", json(code, oggi() + Duration::days(1))),
        ("181 days back", json(code, oggi() - Duration::days(181))),
        ("not a date", json(code, oggi()).replace('-', "/")),
    ];
    for (what, body) in cases {
        let r = post(&c, "/v1/otp", &body, None).await.expect("reply");
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(r.body, SCHEMA, "{what}");
    }
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM otp_autorizzato"), 0);
    // The window's far edge is accepted.
    assert_eq!(
        authorise(&c, &valid, oggi() - Duration::days(180))
            .await
            .status,
        204
    );
    // Other methods and paths.
    let r = c.get("/v1/otp").await.unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "POST");
    assert_eq!(c.get("/v1/altro").await.unwrap().status, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_a_gateway_certificate_are_refused() {
    let s = TestServer::start().await;
    let body = json(Otp::casuale().unwrap().as_str(), oggi());
    // No certificate: the server ends the handshake (with TLS 1.3 the client may only notice
    // when it sends the request).
    let anonymous = otp_client(&s, None);
    let r = post(&anonymous, "/v1/otp", &body, None).await;
    assert!(r.is_err(), "{r:?}");
    // A certificate of another CA.
    let dir = common::scratch_dir("otp-foreign");
    let foreign = tsgate::pki::issue_foreign_client(&dir, "estraneo").unwrap();
    let r = post(
        &otp_client(&s, Some((foreign.cert_path, foreign.key_path))),
        "/v1/otp",
        &body,
        None,
    )
    .await;
    assert!(r.is_err(), "{r:?}");
    // A revoked certificate of the gateway CA.
    let r = post(
        &otp_client(&s, Some(s.pki.client_paths("regione-lombardia-revocato"))),
        "/v1/otp",
        &body,
        None,
    )
    .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM otp_autorizzato"), 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_authorises_with_the_own_service_and_the_app_checks() {
    let s = TestServer::start().await;
    let cfg = &s.state().config.otp;
    assert_eq!(
        cfg.servizio_url,
        format!("https://{}/v1/otp", s.running().otp_addr.unwrap())
    );
    let client = OtpClient::new(cfg).expect("client");
    let otp = Otp::casuale().unwrap();
    let inizio = oggi() - Duration::days(2);
    assert_eq!(
        autorizza(&client, &otp, inizio).await,
        EsitoAutorizzazione::Autorizzato
    );
    assert_eq!(
        autorizza(&client, &otp, inizio).await,
        EsitoAutorizzazione::GiaAutorizzato
    );
    let app = gateway_otp_client(&s);
    assert_eq!(check(&app, &otp.sha256_hex()).await.status, 204);
    // The client's own date check is the caller's job: the service still refuses a future date.
    let other = Otp::casuale().unwrap();
    let e = autorizza(&client, &other, oggi() + Duration::days(1)).await;
    assert_eq!(
        e.motivo(),
        Some("richiesta rifiutata dal servizio OTP (HTTP 400, error_code 1001: Request not compliant with the defined schema.)")
    );
    s.stop().await;
}

#[path = "otp/stub.rs"]
mod stub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_maps_every_answer_and_failure() {
    let pki = stub::pki();
    let otp = Otp::casuale().unwrap();
    let inizio = oggi();

    let ok = stub::Stub::start(&pki, stub::Answer::Status(204, "")).await;
    let e = autorizza(&ok.client(&pki, 5000), &otp, inizio).await;
    assert_eq!(e, EsitoAutorizzazione::Autorizzato);
    let seen = ok.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/otp");
    assert_eq!(seen[0].content_type, "application/json; charset=utf-8");
    assert_eq!(seen[0].client_cn, tsgate::otp::CERTIFICATO_CLIENT);
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "otp": otp.as_str(), "symptoms_started_on": inizio.to_string() })
    );

    let conflict = stub::Stub::start(
        &pki,
        stub::Answer::Status(
            409,
            r#"{"error_code":1400,"message":"OTP already authorized."}"#,
        ),
    )
    .await;
    let e = autorizza(&conflict.client(&pki, 5000), &otp, inizio).await;
    assert_eq!(e, EsitoAutorizzazione::GiaAutorizzato);
    assert_eq!(e.motivo(), Some("OTP già autorizzato"));

    let bad = stub::Stub::start(&pki, stub::Answer::Status(400, SCHEMA)).await;
    let e = autorizza(&bad.client(&pki, 5000), &otp, inizio).await;
    assert_eq!(
        e.motivo(),
        Some("richiesta rifiutata dal servizio OTP (HTTP 400, error_code 1001: Request not compliant with the defined schema.)")
    );

    let broken = stub::Stub::start(&pki, stub::Answer::Status(500, "boom")).await;
    let e = autorizza(&broken.client(&pki, 5000), &otp, inizio).await;
    assert_eq!(
        e.motivo(),
        Some("risposta inattesa del servizio OTP: HTTP 500")
    );

    let silent = stub::Stub::start(&pki, stub::Answer::Never).await;
    let started = std::time::Instant::now();
    let e = autorizza(&silent.client(&pki, 300), &otp, inizio).await;
    assert_eq!(e.motivo(), Some("timeout dopo 300 ms"));
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(
        silent.requests().len(),
        1,
        "the request reached the silent server"
    );

    // A closed port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = OtpConfig {
        servizio_url: format!("https://127.0.0.1:{port}/v1/otp"),
        ..stub::config(&pki, 5000)
    };
    let e = autorizza(&OtpClient::new(&cfg).unwrap(), &otp, inizio).await;
    assert_eq!(
        e.motivo(),
        Some(format!("connessione rifiutata da 127.0.0.1:{port}").as_str())
    );

    // A server whose certificate another CA signed.
    let other = stub::pki();
    let stranger = stub::Stub::start(&other, stub::Answer::Status(204, "")).await;
    let e = autorizza(&stranger.client(&pki, 5000), &otp, inizio).await;
    let motivo = e.motivo().unwrap_or_default().to_owned();
    assert!(motivo.starts_with("TLS non riuscito"), "{motivo}");
    assert!(motivo.contains("certificate"), "{motivo}");
    assert!(stranger.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_gateways_otp_client_may_authorise() {
    let s = TestServer::start().await;
    // A SOAP caller's certificate of the same CA: accepted at the handshake, refused here.
    let regione = otp_client(&s, Some(s.pki.client_paths("regione-lombardia")));
    let otp = Otp::casuale().unwrap();
    let r = authorise(&regione, &otp, oggi()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = authorise(&gateway_otp_client(&s), &otp, oggi()).await;
    assert_eq!(r.status, 204, "{}", r.body);
}
