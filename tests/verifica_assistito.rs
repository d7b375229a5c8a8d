//! VerificaAssistitoFuoriRegione end to end: every esito, every input fault, and the access-log
//! row each of them leaves (decree 31 May 2021, annex A, 3.3 and 3.5).

mod common;
use common::*;

const BIANCHI: &str = "BNCGLI85L42H501P"; // assisted by 120, resident in 030, cluster SANITARI
const BIANCHI_TS: &str = "80380120000000000002"; // expires 2028-01-31
const ROSSI: &str = "RSSMRA60C15F205L"; // assisted by and resident in 030
const ROSSI_TS: &str = "80380030000000000001"; // expires 2027-06-30
const VERDI: &str = "VRDLCU39S20L219J"; // 010, cluster OVER80
const ESPOSITO: &str = "SPSNNA90A49F839L"; // 150, no cluster, two cards
const UNKNOWN: &str = "RCCMNL83S18D969H"; // valid, not in the registry

#[tokio::test(flavor = "multi_thread")]
async fn esito_00_with_every_output_field() {
    let s = TestServer::start().await;
    let r = s
        .call(
            "regione-lombardia",
            vafr_envelope(BIANCHI, Some(BIANCHI_TS), Some("2028-01-31"), None),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(xml_text(&r.body, "esito").as_deref(), Some("00"));
    assert_eq!(
        xml_text(&r.body, "regioneAssistenza").as_deref(),
        Some("120")
    );
    assert_eq!(
        xml_text(&r.body, "regioneResidenza").as_deref(),
        Some("030")
    );
    assert_eq!(
        xml_text(&r.body, "identificativoCluster").as_deref(),
        Some("SANITARI")
    );
    assert!(xml_text(&r.body, "descrizioneEsito").is_some_and(|d| d.contains("fuori regione")));
    let tx = xml_text(&r.body, "identificativoTransazione").expect("transaction id");
    assert_eq!(
        uuid::Uuid::parse_str(&tx).expect("uuid").get_version_num(),
        7
    );
    assert!(r.headers.get("x-ratelimit-remaining").is_some());

    // 3.5: positive outcome -> codice fiscale, but no card number nor expiry.
    let row = log_row(&s.db, &tx);
    assert_eq!(
        row.operazione.as_deref(),
        Some("VerificaAssistitoFuoriRegione")
    );
    assert_eq!(row.chiamante.as_deref(), Some("regione-lombardia"));
    assert_eq!(row.ip_client, "127.0.0.1");
    assert_eq!(row.esito.as_deref(), Some("00"));
    assert_eq!(row.codice_errore, None);
    assert_eq!(row.codice_fiscale.as_deref(), Some(BIANCHI));
    assert_eq!(row.numero_tessera, None);
    assert_eq!(row.data_scadenza_tessera, None);
    assert_eq!(row.ts.len(), 23, "timestamp with milliseconds: {}", row.ts);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn esito_00_omits_residence_when_equal_and_cluster_when_unknown() {
    let s = TestServer::start().await;
    let r = s
        .call("regione-lombardia", vafr_envelope(VERDI, None, None, None))
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(
        xml_text(&r.body, "regioneAssistenza").as_deref(),
        Some("010")
    );
    assert_eq!(xml_text(&r.body, "regioneResidenza"), None);
    assert_eq!(
        xml_text(&r.body, "identificativoCluster").as_deref(),
        Some("OVER80")
    );

    let r = s
        .call(
            "regione-lombardia",
            vafr_envelope(ESPOSITO, None, Some("2031-01-31"), None),
        )
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(xml_text(&r.body, "identificativoCluster"), None);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn esito_01_for_each_inconsistency_logs_card_and_expiry() {
    let s = TestServer::start().await;
    let cases = [
        (
            vafr_envelope(UNKNOWN, Some(ROSSI_TS), Some("2027-06-30"), None),
            "non presente",
        ),
        (
            vafr_envelope(BIANCHI, Some(ROSSI_TS), None, None),
            "Numero di tessera",
        ),
        (
            vafr_envelope(BIANCHI, Some(BIANCHI_TS), Some("2027-06-30"), None),
            "scadenza",
        ),
        (
            vafr_envelope(ESPOSITO, None, Some("2030-01-31"), None),
            "scadenza",
        ),
    ];
    for (body, expected) in cases {
        let r = s.call("regione-lazio", body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("01"),
            "{}",
            r.body
        );
        assert!(
            xml_text(&r.body, "descrizioneEsito")
                .unwrap_or_default()
                .contains(expected),
            "{}",
            r.body
        );
        assert_eq!(xml_text(&r.body, "regioneAssistenza"), None);
        assert_eq!(xml_text(&r.body, "identificativoCluster"), None);
    }
    let rows = access_log(&s.db);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.esito.as_deref() == Some("01")));
    assert_eq!(rows[0].codice_fiscale.as_deref(), Some(UNKNOWN));
    assert_eq!(rows[0].numero_tessera.as_deref(), Some(ROSSI_TS));
    assert_eq!(rows[0].data_scadenza_tessera.as_deref(), Some("2027-06-30"));
    assert_eq!(rows[1].numero_tessera.as_deref(), Some(ROSSI_TS));
    assert_eq!(rows[1].data_scadenza_tessera, None);
    assert_eq!(rows[3].numero_tessera, None);
    assert_eq!(rows[3].data_scadenza_tessera.as_deref(), Some("2030-01-31"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn esito_02_for_the_region_of_assistance() {
    let s = TestServer::start().await;
    let r = s
        .call(
            "regione-lombardia",
            vafr_envelope(ROSSI, Some(ROSSI_TS), None, None),
        )
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("02"),
        "{}",
        r.body
    );
    let tx = xml_text(&r.body, "identificativoTransazione").unwrap();
    let row = log_row(&s.db, &tx);
    assert_eq!(row.esito.as_deref(), Some("02"));
    assert_eq!(row.codice_fiscale.as_deref(), Some(ROSSI));
    assert_eq!(
        row.numero_tessera, None,
        "02 is not a negative outcome: card not kept"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn piattaforma_nazionale_calls_on_behalf_of_a_region() {
    let s = TestServer::start().await;
    let pn = "piattaforma-nazionale";
    let r = s
        .call(pn, vafr_envelope(ROSSI, None, None, Some("030")))
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("02"),
        "{}",
        r.body
    );
    let r = s
        .call(pn, vafr_envelope(ROSSI, None, None, Some("120")))
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "{}",
        r.body
    );
    assert_eq!(
        xml_text(&r.body, "regioneAssistenza").as_deref(),
        Some("030")
    );
    let r = s
        .call(pn, vafr_envelope(ROSSI, None, None, Some("300")))
        .await;
    assert_eq!(
        xml_text(&r.body, "esito").as_deref(),
        Some("00"),
        "virtual region: {}",
        r.body
    );

    let r = s.call(pn, vafr_envelope(ROSSI, None, None, None)).await;
    assert_eq!(
        (r.status, fault_code(&r).as_deref()),
        (500, Some("TSG-0304")),
        "{}",
        r.body
    );
    let r = s
        .call(pn, vafr_envelope(ROSSI, None, None, Some("999")))
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0305"), "{}", r.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn input_faults_are_client_faults_and_logged() {
    let s = TestServer::start().await;
    // A region may not send regioneChiamante.
    let r = s
        .call(
            "regione-lombardia",
            vafr_envelope(BIANCHI, None, None, Some("120")),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0303"), "{}", r.body);
    assert_eq!(
        xml_text(&r.body, "faultcode").as_deref(),
        Some("soapenv:Client")
    );
    assert!(xml_text(&r.body, "faultstring")
        .unwrap()
        .contains("Piattaforma Nazionale"));
    let tx = xml_text(&r.body, "identificativoTransazione").unwrap();
    let row = log_row(&s.db, &tx);
    assert_eq!(
        (row.esito, row.codice_errore.as_deref()),
        (None, Some("TSG-0303"))
    );
    assert_eq!(row.codice_fiscale.as_deref(), Some(BIANCHI));

    // Wrong check character: pattern passes, the domain rule does not.
    let r = s
        .call(
            "regione-lombardia",
            vafr_envelope("BNCGLI85L42H501A", None, None, None),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0302"), "{}", r.body);
    // Schema facets: pattern, length, date, missing required element.
    for body in [
        vafr_envelope("bncgli85l42h501p", None, None, None),
        vafr_envelope(BIANCHI, Some("123"), None, None),
        vafr_envelope(BIANCHI, None, Some("2028-02-30"), None),
        vafr_envelope(BIANCHI, None, None, Some("12")),
        vafr_envelope("", None, None, None),
    ] {
        let r = s.call("regione-lombardia", body).await;
        assert_eq!(
            (r.status, fault_code(&r).as_deref()),
            (500, Some("TSG-0301")),
            "{}",
            r.body
        );
        assert!(
            xml_text(&r.body, "descrizione").unwrap().contains("campo "),
            "{}",
            r.body
        );
    }
    // A missing required element names the field.
    let missing =
        vafr_envelope("X", None, None, None).replace("<v:codiceFiscale>X</v:codiceFiscale>", "");
    let r = s.call("regione-lombardia", missing).await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0301"), "{}", r.body);
    assert!(
        xml_text(&r.body, "descrizione")
            .unwrap()
            .contains("campo codiceFiscale: obbligatorio"),
        "{}",
        r.body
    );
    let rows = access_log(&s.db);
    assert_eq!(rows.len(), 8);
    assert!(rows
        .iter()
        .all(|r| r.esito.is_none() && r.codice_errore.is_some()));
    s.stop().await;
}
