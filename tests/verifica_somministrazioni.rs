//! VerificaSomministrazioni end to end (decree 31 May 2021, annex A, sections 6.3 and 6.5), and
//! the cluster rule of VerificaAssistitoFuoriRegione (section 3.3) on real bookings and
//! administrations sent through the AVN services.

mod common;
use common::*;

const ROSSI: &str = "RSSMRA60C15F205L"; // assisted by 030
const ROSSI_TS: &str = "80380030000000000001";
const BIANCHI: &str = "BNCGLI85L42H501P"; // assisted by 120, cluster SANITARI
const BIANCHI_TS: &str = "80380120000000000002";
const UNKNOWN: &str = "RCCMNL83S18D969H";

async fn administer(s: &TestServer, cf: &str, dose: &str, aic: &str, data: &str, regione: &str) {
    let r = s
        .call_op(
            "avn",
            SOMMINISTRAZIONE,
            &[
                ("tipoOperazione", "I"),
                ("codiceRegione", regione),
                ("identificativoAssistito", cf),
                ("regioneSomministrazione", regione),
                ("codiceAIC", aic),
                ("dataSomministrazione", data),
                ("dose", dose),
            ],
        )
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
}

fn verifica<'a>(cf: &'a str, tessera: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("codiceFiscale", cf)];
    if let Some(t) = tessera {
        f.push(("numeroTessera", t));
    }
    f
}

#[tokio::test(flavor = "multi_thread")]
async fn esito_00_lists_the_administrations_in_dose_order() {
    let s = TestServer::start().await;
    administer(&s, ROSSI, "1", "049269018", "2026-01-10", "030").await;
    administer(&s, ROSSI, "2", "049283017", "2026-02-11", "120").await;
    let r = s
        .call_op(
            "regione-lombardia",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica(ROSSI, Some(ROSSI_TS)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(xml_text(&r.body, "esito").as_deref(), Some("00"));
    assert_eq!(
        xml_text(&r.body, "descrizioneEsito").as_deref(),
        Some("Dati coerenti: 2 somministrazioni registrate")
    );
    assert_eq!(
        xml_texts(&r.body, "dataSomministrazione"),
        ["2026-01-10", "2026-02-11"]
    );
    assert_eq!(xml_texts(&r.body, "numeroDose"), ["1", "2"]);
    assert_eq!(xml_texts(&r.body, "codiceAIC"), ["049269018", "049283017"]);
    assert_eq!(
        xml_texts(&r.body, "regioneSomministrazione"),
        ["030", "120"]
    );

    // 6.5: codice fiscale always, esito only when negative (here: neither esito nor error).
    let tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
    let row = log_row(&s.db, &tx);
    assert_eq!(row.operazione.as_deref(), Some("VerificaSomministrazioni"));
    assert_eq!(row.chiamante.as_deref(), Some("regione-lombardia"));
    assert_eq!(row.ip_client, "127.0.0.1");
    assert_eq!(row.codice_fiscale.as_deref(), Some(ROSSI));
    assert_eq!((row.esito, row.codice_errore), (None, None));
    assert_eq!(
        (row.numero_tessera, row.data_scadenza_tessera),
        (None, None)
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn esito_00_without_administrations_has_no_list() {
    let s = TestServer::start().await;
    let r = s
        .call_op(
            "piattaforma-nazionale",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica(BIANCHI, Some(BIANCHI_TS)),
        )
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(
        xml_text(&r.body, "descrizioneEsito").as_deref(),
        Some("Dati coerenti: nessuna somministrazione registrata")
    );
    assert!(xml_text(&r.body, "listaSomministrazioni").is_none());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn esito_01_for_an_unknown_patient_or_a_card_not_theirs_logged_with_the_esito() {
    let s = TestServer::start().await;
    administer(&s, ROSSI, "1", "049269018", "2026-01-10", "030").await;
    for (cf, ts, descr) in [
        (
            UNKNOWN,
            "80380030000000000001",
            "Codice fiscale non presente nella banca dati del Sistema TS",
        ),
        (
            ROSSI,
            BIANCHI_TS,
            "Numero di tessera sanitaria non coerente con il codice fiscale",
        ),
    ] {
        let r = s
            .call_op(
                "regione-lombardia",
                VERIFICA_SOMMINISTRAZIONI,
                &verifica(cf, Some(ts)),
            )
            .await;
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("01"),
            "{}",
            r.body
        );
        assert_eq!(
            xml_text(&r.body, "descrizioneEsito").as_deref(),
            Some(descr)
        );
        assert!(
            xml_text(&r.body, "listaSomministrazioni").is_none(),
            "no data on 01"
        );
        let row = log_row(
            &s.db,
            &xml_text(&r.body, "identificativoTransazione").expect("tx"),
        );
        assert_eq!(row.esito.as_deref(), Some("01"));
        assert_eq!(row.codice_fiscale.as_deref(), Some(cf));
        assert_eq!(row.numero_tessera, None, "6.5 keeps no card number");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_card_number_is_required_per_calling_region() {
    let s = TestServer::start().await;
    // Lombardia must send it (the default); Lazio need not.
    let r = s
        .call_op(
            "regione-lombardia",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica(ROSSI, None),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0306"), "{}", r.body);
    let tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
    let row = log_row(&s.db, &tx);
    assert_eq!(row.codice_errore.as_deref(), Some("TSG-0306"));
    assert_eq!(row.codice_fiscale.as_deref(), Some(ROSSI));
    let r = s
        .call_op(
            "regione-lazio",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica(ROSSI, None),
        )
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_for_a_bad_check_character_a_bad_card_and_the_avn() {
    let s = TestServer::start().await;
    let r = s
        .call_op(
            "regione-lazio",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica("RSSMRA60C15F205X", None),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0302"));
    let r = s
        .call_op(
            "regione-lazio",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica(ROSSI, Some("123")),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0301"));
    assert!(r.body.contains("numeroTessera"), "{}", r.body);
    // 6.5: the codice fiscale is kept even on a request the schema refused.
    let row = log_row(
        &s.db,
        &xml_text(&r.body, "identificativoTransazione").expect("tx"),
    );
    assert_eq!(row.codice_errore.as_deref(), Some("TSG-0301"));
    assert_eq!(row.codice_fiscale.as_deref(), Some(ROSSI));
    let r = s
        .call_op(
            "avn",
            VERIFICA_SOMMINISTRAZIONI,
            &verifica(ROSSI, Some(ROSSI_TS)),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"));
    s.stop().await;
}

/// VerificaAssistitoFuoriRegione's cluster for BIANCHI, asked by Lombardia.
async fn cluster(s: &TestServer) -> Option<String> {
    let r = s
        .call(
            "regione-lombardia",
            vafr_envelope(BIANCHI, None, None, None),
        )
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    xml_text(&r.body, "identificativoCluster")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cluster_is_given_only_without_bookings_or_administrations() {
    let s = TestServer::start().await;
    assert_eq!(cluster(&s).await.as_deref(), Some("SANITARI"));
    let booking = |tipo| {
        vec![
            ("tipoOperazione", tipo),
            ("codiceRegione", "120"),
            ("identificativoAssistito", BIANCHI),
            ("regionePrenotazione", "120"),
            ("dataPrenotazione", "2026-12-15"),
            ("dose", "1"),
        ]
    };
    let r = s.call_op("avn", PRENOTAZIONE, &booking("I")).await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(cluster(&s).await, None, "booked: no cluster");
    s.call_op("avn", PRENOTAZIONE, &booking("C")).await;
    assert_eq!(
        cluster(&s).await.as_deref(),
        Some("SANITARI"),
        "booking cancelled"
    );
    administer(&s, BIANCHI, "1", "049269018", "2026-01-10", "120").await;
    assert_eq!(cluster(&s).await, None, "vaccinated: no cluster");
    let cancel = s
        .call_op(
            "avn",
            SOMMINISTRAZIONE,
            &[
                ("tipoOperazione", "C"),
                ("codiceRegione", "120"),
                ("identificativoAssistito", BIANCHI),
                ("regioneSomministrazione", "120"),
                ("codiceAIC", "049269018"),
                ("dataSomministrazione", "2026-01-10"),
                ("dose", "1"),
            ],
        )
        .await;
    assert_eq!(
        xml_text(&cancel.body, "esito").as_deref(),
        Some("00"),
        "{}",
        cancel.body
    );
    assert_eq!(
        cluster(&s).await.as_deref(),
        Some("SANITARI"),
        "administration cancelled"
    );
    s.stop().await;
}
