//! The operators' portal in a real headless Chromium over real TLS (tests/browser/*.mjs):
//! credentials login, lockout, forced password change, CSRF, logout; the database rows each
//! step must leave (section 2.5 access log, sessions).

mod common;

use common::{browser, TestServer};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName, Debug)]
struct Accesso {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    codice_fiscale: Option<String>,
    #[diesel(sql_type = Text)]
    operazione: String,
    #[diesel(sql_type = Text)]
    esito: String,
    #[diesel(sql_type = Text)]
    istante: String,
}

fn accessi(s: &TestServer) -> Vec<Accesso> {
    diesel::sql_query(
        "SELECT codice_fiscale, operazione, esito, \
         to_char(istante AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') AS istante \
         FROM accesso_operatore ORDER BY id",
    )
    .load(&mut s.db.connection())
    .unwrap()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(s: &TestServer, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<N>(&mut s.db.connection())
        .unwrap()
        .n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_login_services_and_logout() {
    let s = TestServer::start().await;
    let url = s.portal_url();
    let out = tokio::task::spawn_blocking(move || browser::run(&url, "credenziali", &[]))
        .await
        .unwrap();
    assert_eq!(out["ok"], true);
    let rows = accessi(&s);
    let di_rossi: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.codice_fiscale.as_deref() == Some("RSSMRA80A01H501U"))
        .map(|r| (r.operazione.as_str(), r.esito.as_str()))
        .collect();
    assert_eq!(
        di_rossi,
        [
            ("LOGIN_CREDENZIALI", "OK"),
            ("SERVIZI", "OK"),
            ("LOGOUT", "OK"),
            ("LOGIN_CREDENZIALI", "OK"),
            ("SERVIZI", "OK")
        ]
    );
    // Timestamps with milliseconds.
    assert!(rows.iter().all(|r| r.istante.len() == 23), "{rows:?}");
    // One live session (the second login); the logged-out one is gone.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM sessione WHERE utente_id IS NOT NULL"
        ),
        1
    );
}
