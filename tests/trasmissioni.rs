//! TrasmissionePrenotazione and TrasmissioneSomministrazione end to end (decree 31 May 2021,
//! annex A, sections 4.1.3, 4.2.3 and 4.3): every esito and error code the web services can
//! give, idempotent resubmission, changes and cancels, the sequence rules, the access log.

mod common;
use common::*;

const ROSSI: &str = "RSSMRA60C15F205L"; // assisted by 030
const BIANCHI: &str = "BNCGLI85L42H501P"; // assisted by 120
const UNKNOWN: &str = "RCCMNL83S18D969H"; // valid, not in the registry
const COMIRNATY: &str = "049269018";
const SPIKEVAX: &str = "049283017";

/// A request's fields, in order.
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// A booking request: tipo, patient, dose, booking region, AIC, date.
fn booking<'a>(
    tipo: &'a str,
    cf: &'a str,
    dose: &'a str,
    regione: &'a str,
    aic: Option<&'a str>,
    data: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("tipoOperazione", tipo),
        ("codiceRegione", "030"),
        ("identificativoAssistito", cf),
        ("regionePrenotazione", regione),
    ];
    if let Some(a) = aic {
        f.push(("codiceAIC", a));
    }
    f.extend([("dataPrenotazione", data), ("dose", dose)]);
    f
}

/// An administration request: tipo, patient, dose, AIC, date (region 030).
fn dose<'a>(
    tipo: &'a str,
    cf: &'a str,
    dose: &'a str,
    aic: &'a str,
    data: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tipoOperazione", tipo),
        ("codiceRegione", "030"),
        ("identificativoAssistito", cf),
        ("regioneSomministrazione", "030"),
        ("codiceAIC", aic),
        ("dataSomministrazione", data),
        ("dose", dose),
    ]
}

/// One call of `op` by the AVN: esito, descrizioneEsito and the error codes.
async fn send(s: &TestServer, op: Op, fields: &[(&str, &str)]) -> (String, String, Vec<String>) {
    outcome(&s.call_op("avn", op, fields).await)
}

/// One call of `op` by the AVN that must be answered 00.
async fn accepted(s: &TestServer, op: Op, fields: &[(&str, &str)]) {
    let (esito, descr, errors) = send(s, op, fields).await;
    assert_eq!(esito, "00", "{descr} {errors:?}");
}

/// Asserts an esito 01 with exactly these error codes.
fn refused(esito: &str, errors: &[String], codes: &[&str]) {
    assert_eq!(
        (esito, errors),
        (
            "01",
            codes
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .as_slice()
        )
    );
}

/// esito, descrizioneEsito and the error codes of a Ricevuta.
fn outcome(r: &Reply) -> (String, String, Vec<String>) {
    assert_eq!(r.status, 200, "{}", r.body);
    (
        xml_text(&r.body, "esito").expect("esito"),
        xml_text(&r.body, "descrizioneEsito").expect("descrizioneEsito"),
        xml_texts(&r.body, "codice"),
    )
}

fn bookings(s: &TestServer, cf: &str) -> i64 {
    count(
        &s.db,
        &format!("SELECT count(*) AS n FROM prenotazione WHERE codice_fiscale = '{cf}'"),
    )
}

fn doses(s: &TestServer, cf: &str) -> i64 {
    count(
        &s.db,
        &format!("SELECT count(*) AS n FROM somministrazione WHERE codice_fiscale = '{cf}'"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_booking_is_stored_with_its_transaction_and_logged_per_section_4_3() {
    let s = TestServer::start().await;
    let r = s
        .call_op(
            "avn",
            PRENOTAZIONE,
            &booking("I", ROSSI, "1", "030", None, "2026-12-15"),
        )
        .await;
    let (esito, descr, errors) = outcome(&r);
    assert_eq!((esito.as_str(), errors.len()), ("00", 0), "{}", r.body);
    assert_eq!(descr, "Prenotazione registrata");
    let tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM prenotazione WHERE codice_fiscale = '{ROSSI}' AND dose = 1 \
                 AND regione_prenotazione = '030' AND codice_regione = '030' AND codice_aic IS NULL \
                 AND data_prenotazione = '2026-12-15' AND identificativo_transazione = '{tx}'"
            )
        ),
        1
    );
    // 4.3: caller, timestamp, esito, transaction id, client IP; no patient data.
    let row = log_row(&s.db, &tx);
    assert_eq!(row.operazione.as_deref(), Some("TrasmissionePrenotazione"));
    assert_eq!(row.chiamante.as_deref(), Some("avn"));
    assert_eq!(row.ip_client, "127.0.0.1");
    assert_eq!(row.esito.as_deref(), Some("00"));
    assert_eq!(row.codice_errore, None);
    assert_eq!(row.codice_fiscale, None);
    assert_eq!(row.numero_tessera, None);
    assert_eq!(row.ts.len(), 23);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_insert_twice_stores_one_booking_and_a_different_one_is_refused() {
    let s = TestServer::start().await;
    let req = booking("I", ROSSI, "2", "030", Some(COMIRNATY), "2026-12-15");
    for expected in [
        "Prenotazione registrata",
        "Prenotazione già registrata con gli stessi dati: nessuna modifica",
    ] {
        let (esito, descr, _) = send(&s, PRENOTAZIONE, &req).await;
        assert_eq!((esito.as_str(), descr.as_str()), ("00", expected));
    }
    assert_eq!(bookings(&s, ROSSI), 1);
    let other_date = booking("I", ROSSI, "2", "030", Some(COMIRNATY), "2026-12-20");
    let (esito, _, errors) = send(&s, PRENOTAZIONE, &other_date).await;
    refused(&esito, &errors, &["AVN-0201"]);
    assert_eq!(bookings(&s, ROSSI), 1);
    // The same dose booked in another region is another booking (a multiple booking).
    let lazio = booking("I", ROSSI, "2", "120", Some(COMIRNATY), "2026-12-20");
    accepted(&s, PRENOTAZIONE, &lazio).await;
    assert_eq!(bookings(&s, ROSSI), 2);
    // Every answer was logged, refused ones with esito 01.
    let esiti: Vec<_> = access_log(&s.db)
        .into_iter()
        .filter_map(|r| r.esito)
        .collect();
    assert_eq!(esiti, ["00", "00", "01", "00"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_identical_inserts_store_one_booking() {
    let s = TestServer::start().await;
    let body = PRENOTAZIONE.envelope(&booking("I", BIANCHI, "1", "120", None, "2026-12-01"));
    let client = s.client("avn");
    // Each on its own connection and task, so the server sees them at the same time.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (c, b) = (client.clone(), body.clone());
            tokio::spawn(async move {
                c.soap(&PRENOTAZIONE.path(), &PRENOTAZIONE.action(), b)
                    .await
            })
        })
        .collect();
    for call in calls {
        let r = call.await.expect("task").expect("reply");
        assert_eq!(outcome(&r).0, "00", "{}", r.body);
    }
    assert_eq!(bookings(&s, BIANCHI), 1);
    assert_eq!(access_log(&s.db).len(), 8);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_booking_is_changed_and_cancelled_and_a_missing_one_cannot_be() {
    let s = TestServer::start().await;
    let missing = booking("V", ROSSI, "1", "030", None, "2026-12-20");
    let (esito, _, errors) = send(&s, PRENOTAZIONE, &missing).await;
    refused(&esito, &errors, &["AVN-0202"]);

    s.call_op(
        "avn",
        PRENOTAZIONE,
        &booking("I", ROSSI, "1", "030", None, "2026-12-15"),
    )
    .await;
    let change = booking("V", ROSSI, "1", "030", Some(SPIKEVAX), "2026-12-20");
    let (esito, descr, _) = send(&s, PRENOTAZIONE, &change).await;
    assert_eq!(
        (esito.as_str(), descr.as_str()),
        ("00", "Prenotazione variata")
    );
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM prenotazione WHERE codice_fiscale = '{ROSSI}' \
                      AND data_prenotazione = '2026-12-20' AND codice_aic = '{SPIKEVAX}'"
            )
        ),
        1
    );
    let cancel = booking("C", ROSSI, "1", "030", None, "2026-12-20");
    let (esito, descr, _) = send(&s, PRENOTAZIONE, &cancel).await;
    assert_eq!(
        (esito.as_str(), descr.as_str()),
        ("00", "Prenotazione annullata: il record è stato rimosso")
    );
    assert_eq!(bookings(&s, ROSSI), 0);
    let (esito, _, errors) = send(&s, PRENOTAZIONE, &cancel).await;
    refused(&esito, &errors, &["AVN-0202"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_booking_error_code_and_all_errors_at_once() {
    let s = TestServer::start().await;
    let cases: Vec<(Fields, Vec<&str>)> = vec![
        (
            booking("I", "RSSMRA60C15F205X", "1", "030", None, "2026-12-15"),
            vec!["AVN-0101"],
        ),
        (
            booking("I", UNKNOWN, "1", "030", None, "2026-12-15"),
            vec!["AVN-0102"],
        ),
        (
            {
                let mut b = booking("I", ROSSI, "1", "030", None, "2026-12-15");
                b[1] = ("codiceRegione", "999");
                b
            },
            vec!["AVN-0103"],
        ),
        (
            booking("I", ROSSI, "1", "998", None, "2026-12-15"),
            vec!["AVN-0104"],
        ),
        (
            booking("I", ROSSI, "1", "030", Some("049269019"), "2026-12-15"),
            vec!["AVN-0105"],
        ),
        (
            booking("I", ROSSI, "2", "030", None, "2026-12-15"),
            vec!["AVN-0106"],
        ),
        (
            booking("I", "RSSMRA60C15F205X", "2", "030", None, "2026-12-15"),
            vec!["AVN-0101", "AVN-0106"],
        ),
        (
            booking("I", UNKNOWN, "1", "998", None, "2026-12-15"),
            vec!["AVN-0102", "AVN-0104"],
        ),
    ];
    for (req, expected) in cases {
        let r = s.call_op("avn", PRENOTAZIONE, &req).await;
        let (esito, descr, errors) = outcome(&r);
        assert_eq!(esito, "01", "{req:?}");
        assert_eq!(errors, expected, "{req:?}");
        assert!(descr.contains("listaErrori"));
        assert_eq!(
            xml_texts(&r.body, "descrizione").len(),
            expected.len(),
            "each error has its description"
        );
    }
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM prenotazione"), 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_errors_are_faults_and_only_avn_may_transmit() {
    let s = TestServer::start().await;
    for (field, value) in [
        ("tipoOperazione", "X"),
        ("dose", "0"),
        ("dose", "10"),
        ("dataPrenotazione", "2026-02-30"),
    ] {
        let mut req = booking("I", ROSSI, "1", "030", None, "2026-12-15");
        for f in req.iter_mut() {
            if f.0 == field {
                f.1 = value;
            }
        }
        let r = s.call_op("avn", PRENOTAZIONE, &req).await;
        assert_eq!(r.status, 500, "{field}={value}");
        assert_eq!(
            fault_code(&r).as_deref(),
            Some("TSG-0301"),
            "{field}={value}"
        );
        assert!(
            r.body.contains(field),
            "the fault names {field}: {}",
            r.body
        );
    }
    // A region may not transmit, even if its entitlements say so (the decree's callers).
    let region = s
        .call_op(
            "regione-lombardia",
            SOMMINISTRAZIONE,
            &dose("I", ROSSI, "1", COMIRNATY, "2026-01-10"),
        )
        .await;
    assert_eq!(fault_code(&region).as_deref(), Some("TSG-0104"));
    s.stop().await;

    let mut callers = standard_callers();
    callers.push(caller(
        "regione-piemonte",
        "REGIONE",
        Some("010"),
        &["TrasmissionePrenotazione"],
        &["127.0.0.0/8"],
    ));
    let s = TestServer::start_with(callers, |_| {}).await;
    let r = s
        .call_op(
            "regione-piemonte",
            PRENOTAZIONE,
            &booking("I", ROSSI, "1", "030", None, "2026-12-15"),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"));
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM prenotazione"), 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn administrations_follow_the_dose_sequence_unless_the_region_asks_otherwise() {
    let s = TestServer::start().await;
    // Dose 2 without dose 1.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "2", COMIRNATY, "2026-02-10"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0302"]);

    let first = dose("I", ROSSI, "1", COMIRNATY, "2026-01-10");
    let (esito, descr, _) = send(&s, SOMMINISTRAZIONE, &first).await;
    assert_eq!(
        (esito.as_str(), descr.as_str()),
        ("00", "Somministrazione registrata")
    );
    // The same record again: detected, nothing written twice.
    let (esito, descr, _) = send(&s, SOMMINISTRAZIONE, &first).await;
    assert_eq!(
        (esito.as_str(), descr.as_str()),
        (
            "00",
            "Somministrazione già registrata con gli stessi dati: nessuna modifica"
        )
    );
    // The same dose with other data: a duplicate.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "1", SPIKEVAX, "2026-01-10"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0304"]);
    // Dose 2 dated before dose 1.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "2", COMIRNATY, "2026-01-09"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0303"]);
    accepted(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "2", COMIRNATY, "2026-02-10"),
    )
    .await;
    // Dose 4 without dose 3: refused, then accepted with the region's explicit exception.
    let mut fourth = dose("I", ROSSI, "4", SPIKEVAX, "2026-06-10");
    let (esito, _, errors) = send(&s, SOMMINISTRAZIONE, &fourth).await;
    refused(&esito, &errors, &["AVN-0302"]);
    fourth.push(("derogaSequenzaDosi", "true"));
    accepted(&s, SOMMINISTRAZIONE, &fourth).await;
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM somministrazione WHERE dose = 4 AND deroga_sequenza"
        ),
        1
    );
    assert_eq!(doses(&s, ROSSI), 3);
    // 4.3: no patient data in the log, an esito for every call.
    let log = access_log(&s.db);
    assert_eq!(log.len(), 8);
    assert!(log
        .iter()
        .all(|r| r.codice_fiscale.is_none() && r.esito.is_some()));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn administration_dates_codes_changes_and_cancels() {
    let s = TestServer::start().await;
    let cases: Vec<(Fields, Vec<&str>)> = vec![
        (
            dose("I", ROSSI, "1", COMIRNATY, "2099-01-01"),
            vec!["AVN-0301"],
        ),
        (
            dose("I", UNKNOWN, "1", COMIRNATY, "2026-01-10"),
            vec!["AVN-0102"],
        ),
        (
            dose("I", ROSSI, "1", "049269019", "2026-01-10"),
            vec!["AVN-0105"],
        ),
        (
            dose("I", "RSSMRA60C15F205X", "1", "049269019", "2099-01-01"),
            vec!["AVN-0101", "AVN-0105", "AVN-0301"],
        ),
        (
            dose("V", ROSSI, "1", COMIRNATY, "2026-01-10"),
            vec!["AVN-0305"],
        ),
        (
            dose("C", ROSSI, "1", COMIRNATY, "2026-01-10"),
            vec!["AVN-0305"],
        ),
        (
            {
                let mut d = dose("I", ROSSI, "1", COMIRNATY, "2026-01-10");
                d[3] = ("regioneSomministrazione", "998");
                d
            },
            vec!["AVN-0104"],
        ),
        (
            {
                let mut d = dose("I", ROSSI, "1", COMIRNATY, "2026-01-10");
                d[1] = ("codiceRegione", "999");
                d
            },
            vec!["AVN-0103"],
        ),
    ];
    for (req, expected) in cases {
        let (esito, _, errors) = send(&s, SOMMINISTRAZIONE, &req).await;
        assert_eq!(
            (esito.as_str(), errors),
            ("01", expected.iter().map(|e| e.to_string()).collect()),
            "{req:?}"
        );
    }
    assert_eq!(doses(&s, ROSSI), 0);
    // codiceAIC is required by the schema.
    let no_aic: Vec<_> = dose("I", ROSSI, "1", COMIRNATY, "2026-01-10")
        .into_iter()
        .filter(|f| f.0 != "codiceAIC")
        .collect();
    let r = s.call_op("avn", SOMMINISTRAZIONE, &no_aic).await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0301"));
    assert!(r.body.contains("codiceAIC"), "{}", r.body);

    for (d, data) in [("1", "2026-01-10"), ("2", "2026-02-10")] {
        accepted(&s, SOMMINISTRAZIONE, &dose("I", ROSSI, d, COMIRNATY, data)).await;
    }
    let (esito, descr, _) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("V", ROSSI, "2", SPIKEVAX, "2026-02-12"),
    )
    .await;
    assert_eq!(
        (esito.as_str(), descr.as_str()),
        ("00", "Somministrazione variata")
    );
    assert_eq!(
        count(&s.db, &format!("SELECT count(*) AS n FROM somministrazione WHERE codice_fiscale = '{ROSSI}' AND dose = 2 AND codice_aic = '{SPIKEVAX}' AND data_somministrazione = '2026-02-12'")),
        1
    );
    // A change may not put dose 2 before dose 1.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("V", ROSSI, "2", SPIKEVAX, "2026-01-01"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0303"]);
    // Dose 1 cannot be cancelled below dose 2; dose 2 can, and is removed.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("C", ROSSI, "1", COMIRNATY, "2026-01-10"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0306"]);
    let (esito, descr, _) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("C", ROSSI, "2", SPIKEVAX, "2026-02-12"),
    )
    .await;
    assert_eq!(
        (esito.as_str(), descr.as_str()),
        (
            "00",
            "Somministrazione annullata: il record è stato rimosso"
        )
    );
    assert_eq!(doses(&s, ROSSI), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_whose_log_row_cannot_be_committed_is_not_stored_nor_answered_00() {
    let s = TestServer::start().await;
    // No partition for this month: every access-log insert fails.
    {
        use diesel::RunQueryDsl;
        let mut conn = s.db.connection();
        diesel::sql_query(
            "DO $$ BEGIN EXECUTE format('DROP TABLE access_log_%s', \
             to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$",
        )
        .execute(&mut conn)
        .expect("drop partition");
    }
    let r = s
        .call_op(
            "avn",
            PRENOTAZIONE,
            &booking("I", ROSSI, "1", "030", None, "2026-12-15"),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0504"));
    assert_eq!(
        bookings(&s, ROSSI),
        0,
        "the booking rolled back with its log row"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gap_below_an_excepted_dose_is_filled_in_order() {
    let s = TestServer::start().await;
    send(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "1", COMIRNATY, "2026-01-10"),
    )
    .await;
    let mut third = dose("I", ROSSI, "3", COMIRNATY, "2026-03-10");
    third.push(("derogaSequenzaDosi", "true"));
    accepted(&s, SOMMINISTRAZIONE, &third).await;
    // Dose 2 after dose 3: out of sequence; between 1 and 3: accepted, dose 3 no longer excepted.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "2", COMIRNATY, "2026-04-01"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0303"]);
    accepted(
        &s,
        SOMMINISTRAZIONE,
        &dose("I", ROSSI, "2", COMIRNATY, "2026-02-10"),
    )
    .await;
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM somministrazione WHERE deroga_sequenza"
        ),
        0
    );
    // A change may not move dose 1 after dose 2.
    let (esito, _, errors) = send(
        &s,
        SOMMINISTRAZIONE,
        &dose("V", ROSSI, "1", COMIRNATY, "2026-03-01"),
    )
    .await;
    refused(&esito, &errors, &["AVN-0303"]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_cancel_and_next_dose_never_both_succeed() {
    // Cancelling dose 1 while dose 2 arrives: with the patient lock, either the cancel goes
    // first (dose 2 then lacks dose 1) or dose 2 does (the cancel is then below a later dose).
    for round in 0..5 {
        let s = TestServer::start().await;
        send(
            &s,
            SOMMINISTRAZIONE,
            &dose("I", ROSSI, "1", COMIRNATY, "2026-01-10"),
        )
        .await;
        let client = s.client("avn");
        let (path, action) = (SOMMINISTRAZIONE.path(), SOMMINISTRAZIONE.action());
        let bodies = [
            SOMMINISTRAZIONE.envelope(&dose("C", ROSSI, "1", COMIRNATY, "2026-01-10")),
            SOMMINISTRAZIONE.envelope(&dose("I", ROSSI, "2", COMIRNATY, "2026-02-10")),
        ];
        let calls: Vec<_> = bodies
            .into_iter()
            .map(|b| {
                let (c, p, a) = (client.clone(), path.clone(), action.clone());
                tokio::spawn(async move { c.soap(&p, &a, b).await })
            })
            .collect();
        let mut esiti = Vec::new();
        for call in calls {
            esiti.push(outcome(&call.await.expect("task").expect("reply")).0);
        }
        assert_ne!(esiti, ["00", "00"], "round {round}: both applied");
        assert!(esiti.contains(&"00".to_owned()), "round {round}: {esiti:?}");
        let left = doses(&s, ROSSI);
        assert!(left == 0 || left == 2, "round {round}: {left} doses left");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_patient_locked_too_long_is_a_retryable_503_and_nothing_is_stored() {
    use diesel::connection::SimpleConnection;
    let s = TestServer::start().await;
    // Another session holds the patient's row past the 3 s lock timeout of pooled sessions.
    let mut holder = s.db.connection();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM assistito WHERE codice_fiscale = '{ROSSI}' FOR UPDATE"
        ))
        .expect("lock");
    let r = s
        .call_op(
            "avn",
            PRENOTAZIONE,
            &booking("I", ROSSI, "1", "030", None, "2026-12-15"),
        )
        .await;
    holder.batch_execute("ROLLBACK").expect("unlock");
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0504"));
    assert_eq!(bookings(&s, ROSSI), 0);
    let row = log_row(
        &s.db,
        &xml_text(&r.body, "identificativoTransazione").expect("tx"),
    );
    assert_eq!(row.codice_errore.as_deref(), Some("TSG-0504"));
    s.stop().await;
}
