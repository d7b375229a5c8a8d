//! The operators' portal in a real headless Chromium over real TLS (tests/browser/*.mjs):
//! credentials login, lockout, forced password change, CSRF, logout; the database rows each
//! step must leave (section 2.5 access log, sessions).

mod common;

use common::portale::{accessi, count, esiti, pair, scenario};
use common::TestServer;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName, Debug, PartialEq)]
struct Audit {
    #[diesel(sql_type = Text)]
    attore: String,
    #[diesel(sql_type = Text)]
    azione: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    oggetto: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    dettaglio: Option<String>,
}

fn audit(s: &TestServer) -> Vec<(String, String, Option<String>, Option<String>)> {
    diesel::sql_query(
        "SELECT attore, azione, oggetto, dettaglio FROM audit_amministrativo ORDER BY id",
    )
    .load::<Audit>(&mut s.db.connection())
    .unwrap()
    .into_iter()
    .map(|a| (a.attore, a.azione, a.oggetto, a.dettaglio))
    .collect()
}

/// `tsgate audit verify` on the test database: its exit status and output.
fn verifica_catena(s: &TestServer) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsgate"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", &s.db.url)
        .env("TSGATE_LOG_LEVEL", "warn")
        .args(["audit", "verify"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_login_services_and_logout() {
    let s = TestServer::start().await;
    let out = scenario(&s, "credenziali", vec![]).await;
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
    // Timestamps kept with milliseconds (timestamptz(3)), and some rows show them.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'accesso_operatore' \
             AND column_name = 'istante' AND datetime_precision = 3"
        ),
        1
    );
    assert!(
        rows.iter().any(|r| !r.istante.ends_with(".000")),
        "{rows:?}"
    );
    // Every login and logout is in the audit chain.
    let azioni: Vec<(String, Option<String>)> = audit(&s)
        .into_iter()
        .filter(|a| a.0 == "RSSMRA80A01H501U")
        .map(|a| (a.1, a.3))
        .collect();
    assert_eq!(
        azioni,
        [
            ("LOGIN".to_owned(), Some("CREDENZIALI".to_owned())),
            ("LOGOUT".to_owned(), None),
            ("LOGIN".to_owned(), Some("CREDENZIALI".to_owned())),
        ]
    );
    // One live session (the second login); the logged-out one is gone.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM sessione WHERE utente_id IS NOT NULL"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let s = TestServer::start().await;
    scenario(&s, "blocco", vec![]).await;
    let cf = "GLLNDR90B12F205N";
    assert_eq!(
        esiti(&s, cf),
        pair(&[
            ("LOGIN", "PASSWORD_ERRATA"),
            ("LOGIN", "PASSWORD_ERRATA"),
            ("LOGIN", "PASSWORD_ERRATA"),
            ("LOGIN", "PASSWORD_ERRATA"),
            ("LOGIN", "UTENZA_BLOCCATA"),
            ("LOGIN", "UTENZA_BLOCCATA"),
        ])
    );
    // Locked for 15 minutes from the fifth failure (to the second, in the database's clock).
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente WHERE codice_fiscale = 'GLLNDR90B12F205N' \
             AND bloccato_fino BETWEEN now() + interval '14 minutes' AND now() + interval '15 minutes'"
        ),
        1
    );
    // Each refused login of the operator and the lock are in the audit chain.
    let azioni: Vec<String> = audit(&s)
        .into_iter()
        .filter(|a| a.0 == "GLLNDR90B12F205N")
        .map(|a| a.1)
        .collect();
    assert_eq!(
        azioni,
        [
            "LOGIN_FALLITO",
            "LOGIN_FALLITO",
            "LOGIN_FALLITO",
            "LOGIN_FALLITO",
            "BLOCCO_UTENTE",
            "LOGIN_FALLITO"
        ]
    );
    // The unknown user's attempt is recorded without a codice fiscale, with what was typed.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM accesso_operatore WHERE codice_fiscale IS NULL \
             AND esito = 'UTENTE_SCONOSCIUTO' AND dettaglio = 'XXXXXX00X00X000X'"
        ),
        1
    );
    // When the lock has run out, the right password opens the services again.
    diesel::sql_query(
        "UPDATE utente SET bloccato_fino = now() - interval '1 second' \
         WHERE codice_fiscale = 'GLLNDR90B12F205N'",
    )
    .execute(&mut s.db.connection())
    .unwrap();
    scenario(
        &s,
        "accesso_ok",
        vec![
            ("CODICE", cf.to_owned()),
            ("PAROLA", "Demo.Tsgate1".to_owned()),
        ],
    )
    .await;
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente WHERE codice_fiscale = 'GLLNDR90B12F205N' \
             AND tentativi_falliti = 0 AND bloccato_fino IS NULL"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_is_forced_at_first_login_and_after_ninety_days() {
    let s = TestServer::start().await;
    diesel::sql_query(
        "UPDATE utente SET password_cambiata_il = now() - interval '90 days 1 minute' \
         WHERE codice_fiscale = 'RSSMRA80A01H501U'",
    )
    .execute(&mut s.db.connection())
    .unwrap();
    scenario(&s, "cambio_password", vec![]).await;
    let neri = esiti(&s, "NREPLA85T50H501Z");
    assert_eq!(neri[0], ("LOGIN_CREDENZIALI".into(), "OK".into()));
    assert_eq!(
        neri.iter()
            .filter(|(o, e)| o == "CAMBIO_PASSWORD" && e == "NON_VALIDA")
            .count(),
        5
    );
    assert!(neri.contains(&("CAMBIO_PASSWORD".into(), "OK".into())));
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente WHERE codice_fiscale = 'NREPLA85T50H501Z' \
             AND NOT cambio_password_obbligatorio AND password_cambiata_il > now() - interval '5 minutes' \
             AND password_hash LIKE '$argon2id$%'"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_session_csrf_token_are_refused() {
    let s = TestServer::start().await;
    let out = scenario(&s, "csrf", vec![]).await;
    let rossi = esiti(&s, "RSSMRA80A01H501U");
    assert_eq!(
        rossi,
        pair(&[
            ("LOGIN_CREDENZIALI", "OK"),
            ("SERVIZI", "OK"),
            ("ESCI", "CSRF_NON_VALIDO"),
            ("SERVIZI", "OK"),
            ("PASSWORD", "CSRF_NON_VALIDO"),
        ])
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM accesso_operatore WHERE codice_fiscale IS NULL \
             AND operazione = 'ACCESSO_CREDENZIALI' AND esito = 'CSRF_NON_VALIDO'"
        ),
        1
    );
    // The password did not change.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente WHERE codice_fiscale = 'RSSMRA80A01H501U' \
             AND password_cambiata_il < now() - interval '10 seconds'"
        ),
        1
    );

    // Idle timeout: the same session, unused for longer than portal.sessione_inattiva_secs.
    diesel::sql_query("UPDATE sessione SET ultimo_uso = now() - interval '901 seconds' WHERE utente_id IS NOT NULL")
        .execute(&mut s.db.connection())
        .unwrap();
    let token = out["sessione"].as_str().unwrap().to_owned();
    scenario(&s, "sessione_scaduta", vec![("SESSIONE", token)]).await;
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM sessione WHERE utente_id IS NOT NULL"
        ),
        0,
        "the expired session is deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_administrator_manages_only_the_users_of_their_asl() {
    let s = TestServer::start().await;
    diesel::sql_query(
        "UPDATE utente SET bloccato_fino = now() + interval '10 minutes' \
         WHERE codice_fiscale = 'RSSMRA80A01H501U'",
    )
    .execute(&mut s.db.connection())
    .unwrap();
    let galli = count(
        &s,
        "SELECT id AS n FROM utente WHERE codice_fiscale = 'GLLNDR90B12F205N'",
    );
    scenario(&s, "amministratore", vec![("GALLI_ID", galli.to_string())]).await;
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente_profilo p JOIN utente u ON u.id = p.utente_id \
             WHERE u.codice_fiscale = 'NREPLA85T50H501Z' AND p.profilo = 'INVIO_OTP' \
             AND p.abilitato_da = 'VRDLCU70M10H501X'"
        ),
        1
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente WHERE codice_fiscale = 'RSSMRA80A01H501U' AND bloccato_fino IS NULL"
        ),
        1
    );
    // GALLI (another ASL) was not touched.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente_profilo p JOIN utente u ON u.id = p.utente_id \
             WHERE u.codice_fiscale = 'GLLNDR90B12F205N' AND p.profilo = 'INVIO_OTP'"
        ),
        0
    );
    let verdi = esiti(&s, "VRDLCU70M10H501X");
    for expected in [
        ("UTENZE_ELENCO", "OK"),
        ("UTENZE_PROFILI", "OK"),
        ("UTENZE_SBLOCCA", "OK"),
        ("UTENZE_PROFILI", "UTENTE_NON_DELLA_ASL"),
        ("UTENZE_SBLOCCA", "UTENTE_NON_DELLA_ASL"),
    ] {
        assert!(
            verdi.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {verdi:?}"
        );
    }
    assert!(
        esiti(&s, "RSSMRA80A01H501U").contains(&("UTENZE_ELENCO".into(), "NON_ABILITATO".into()))
    );
    // The administrative changes are in the audit chain, and the chain verifies.
    let righe = audit(&s);
    let verdi = "VRDLCU70M10H501X".to_owned();
    assert!(righe.contains(&(
        verdi.clone(),
        "ABILITA_PROFILO".into(),
        Some("NREPLA85T50H501Z".into()),
        Some("INVIO_OTP".into())
    )));
    for azione in ["ABILITA_PROFILO", "DISABILITA_PROFILO"] {
        assert!(righe.contains(&(
            verdi.clone(),
            azione.into(),
            Some("NREPLA85T50H501Z".into()),
            Some("VACCINAZIONI_SSO".into())
        )));
    }
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente_profilo p JOIN utente u ON u.id = p.utente_id \
             WHERE u.codice_fiscale = 'NREPLA85T50H501Z' AND p.profilo = 'VACCINAZIONI_SSO'"
        ),
        0
    );
    assert!(righe.contains(&(
        verdi.clone(),
        "SBLOCCA_UTENTE".into(),
        Some("RSSMRA80A01H501U".into()),
        None
    )));
    assert!(!righe
        .iter()
        .any(|r| r.2.as_deref() == Some("GLLNDR90B12F205N")));
    let (status, out) = verifica_catena(&s);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("catena integra"), "{out}");
    // Changing the administrator's row is detected.
    diesel::sql_query(
        "UPDATE audit_amministrativo SET dettaglio = 'SCAMBIO_FILE' WHERE azione = 'ABILITA_PROFILO'",
    )
    .execute(&mut s.db.connection())
    .unwrap();
    let (status, out) = verifica_catena(&s);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("modificata"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_page_and_pincode_pdf_regenerated() {
    let s = TestServer::start().await;
    let out = scenario(&s, "profilo", vec![]).await;
    let pincodes: Vec<String> = out["pincode"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    // Stored encrypted (nonce + 10 bytes + tag), never in clear anywhere in the database.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM utente WHERE codice_fiscale = 'RSSMRA80A01H501U' \
             AND length(pincode_cifrato) = 38 AND pincode_generato_il IS NOT NULL"
        ),
        1
    );
    for p in &pincodes {
        let dump = format!(
            "SELECT count(*) AS n FROM accesso_operatore a WHERE a::text LIKE '%{p}%' \
             OR EXISTS (SELECT 1 FROM utente u WHERE u::text LIKE '%{p}%')"
        );
        assert_eq!(count(&s, &dump), 0, "pincode {p} found in clear");
    }
    // The stored one is the second: the first no longer verifies.
    let key =
        tsgate::portal::pincode::ChiavePincode::carica(&s.config.portal.pincode_key_file).unwrap();
    #[derive(QueryableByName)]
    struct Blob {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        pincode_cifrato: Vec<u8>,
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let b: Blob = diesel::sql_query(
        "SELECT pincode_cifrato, id FROM utente WHERE codice_fiscale = 'RSSMRA80A01H501U'",
    )
    .get_result(&mut s.db.connection())
    .unwrap();
    assert!(key.verifica(&b.pincode_cifrato, b.id, &pincodes[1]));
    assert!(!key.verifica(&b.pincode_cifrato, b.id, &pincodes[0]));
    let rossi = esiti(&s, "RSSMRA80A01H501U");
    for expected in [
        ("PROFILO", "OK"),
        ("STAMPA_PINCODE", "OK"),
        ("RIGENERA_PINCODE", "OK"),
    ] {
        assert!(
            rossi.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?}"
        );
    }
}
