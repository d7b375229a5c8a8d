//! Issue 6 end to end in a real Chromium: "Caricamento App Immuni" against the gateway's own
//! OTP service (real mutual TLS), and the rows each step leaves (invio_otp, section 2.5,
//! otp_autorizzato), with the OTP never in clear.

mod common;

use common::portale::{count, esiti, scenario};
use common::TestServer;
use diesel::prelude::*;
use tsgate::domain::Otp;

/// Gives ROSSI a pincode (as "Stampa pincode" would) and returns its digits.
fn pincode_di_rossi(s: &TestServer) -> String {
    let key =
        tsgate::portal::pincode::ChiavePincode::carica(&s.config.portal.pincode_key_file).unwrap();
    let id = count(
        s,
        "SELECT id AS n FROM utente WHERE codice_fiscale = 'RSSMRA80A01H501U'",
    );
    let (pincode, blob) = key.nuovo_pincode(id).unwrap();
    diesel::sql_query(
        "UPDATE utente SET pincode_cifrato = $1, pincode_generato_il = now() WHERE id = $2",
    )
    .bind::<diesel::sql_types::Bytea, _>(blob)
    .bind::<diesel::sql_types::BigInt, _>(id)
    .execute(&mut s.db.connection())
    .unwrap();
    pincode.cifre().to_owned()
}

/// `otp` with another valid-alphabet last character, so only the check character is wrong.
fn controllo_errato(otp: &Otp) -> String {
    let s = otp.as_str();
    let last = s.as_bytes()[9];
    let other = if last == b'A' { 'E' } else { 'A' };
    format!("{}{}", &s[..9], other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_flow_pincode_validation_and_both_outcomes() {
    let s = TestServer::start().await;
    let pincode = pincode_di_rossi(&s);
    let otp = Otp::casuale().unwrap();
    let out = scenario(
        &s,
        "otp",
        vec![
            ("PINCODE", pincode),
            ("OTP1", otp.as_str().to_owned()),
            ("OTP_CONTROLLO", controllo_errato(&otp)),
            ("DATABASE_URL", s.db.url.clone()),
        ],
    )
    .await;

    let sha = otp.sha256_hex();
    // Two calls reached the OTP service, for the same OTP: 204 then 409.
    assert_eq!(
        count(
            &s,
            &format!(
                "SELECT count(*) AS n FROM invio_otp WHERE otp_sha256 = '{sha}' AND esito = 'POSITIVO' \
                 AND id_transazione = '{}' AND codice_regione = '120' AND codice_asl = '001' \
                 AND inizio_sintomi = (now() AT TIME ZONE 'Europe/Rome')::date - 3",
                out["id1"].as_str().unwrap()
            )
        ),
        1
    );
    assert_eq!(
        count(
            &s,
            &format!(
                "SELECT count(*) AS n FROM invio_otp WHERE otp_sha256 = '{sha}' AND esito = 'NEGATIVO' \
                 AND motivo = 'OTP già autorizzato' AND id_transazione = '{}'",
                out["id2"].as_str().unwrap()
            )
        ),
        1
    );
    assert_eq!(
        count(
            &s,
            &format!("SELECT count(*) AS n FROM otp_autorizzato WHERE sha256 = '{sha}'")
        ),
        1
    );
    // The eight refused submissions made no call: the service holds only the one OTP.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM invio_otp WHERE esito = 'NON_VALIDO'"
        ),
        8
    );
    assert_eq!(count(&s, "SELECT count(*) AS n FROM otp_autorizzato"), 1);
    // The OTP in clear is nowhere in the database.
    let clear = otp.as_str();
    for table in [
        "invio_otp",
        "accesso_operatore",
        "sessione",
        "otp_autorizzato",
        "audit_amministrativo",
    ] {
        assert_eq!(
            count(
                &s,
                &format!(
                    "SELECT count(*) AS n FROM {table} t WHERE upper(t::text) LIKE '%{clear}%'"
                )
            ),
            0,
            "{table}"
        );
    }
    let rossi = esiti(&s, "RSSMRA80A01H501U");
    for expected in [
        ("INVIO_OTP_PINCODE", "PINCODE_ERRATO"),
        ("INVIO_OTP_PINCODE", "OK"),
        ("INVIO_OTP", "POSITIVO"),
        ("INVIO_OTP", "NEGATIVO"),
        ("INVIO_OTP", "NON_VALIDO"),
        ("INVIO_OTP_PINCODE", "PINCODE_BLOCCATO"),
        ("INVIO_OTP_PAGINA", "SERVIZIO_BLOCCATO"),
    ] {
        assert!(
            rossi.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {rossi:?}"
        );
    }
    assert!(esiti(&s, "VRDLCU70M10H501X")
        .contains(&("INVIO_OTP_PAGINA".into(), "NON_ABILITATO".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_submissions_are_limited_per_operator_and_hour() {
    let s =
        TestServer::start_with(common::standard_callers(), |c| c.portal.otp_invii_ora = 2).await;
    let pincode = pincode_di_rossi(&s);
    scenario(&s, "otp_limite", vec![("PINCODE", pincode)]).await;
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM invio_otp WHERE esito = 'LIMITE'"
        ),
        1
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) AS n FROM invio_otp WHERE esito = 'NON_VALIDO'"
        ),
        2
    );
}
