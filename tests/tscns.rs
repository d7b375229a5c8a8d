//! TS-CNS web services for the regional CMS end to end: AttivazioneTSCNS, RevocaTSCNS,
//! ElencoSerieCarte, VerificaRinnovoCertificato and RegistraRinnovoCertificato. Every esito and
//! error code, idempotency, another region's cards, the caller kinds, the access log.

mod common;
use common::*;

const ATTIVAZIONE: Op = Op::tscns("AttivazioneTSCNS", "attivazioneTSCNS");
const REVOCA: Op = Op::tscns("RevocaTSCNS", "revocaTSCNS");
const SERIE: Op = Op::tscns("ElencoSerieCarte", "elencoSerieCarte");
const VERIFICA: Op = Op::tscns("VerificaRinnovoCertificato", "verificaRinnovoCertificato");
const REGISTRA: Op = Op::tscns("RegistraRinnovoCertificato", "registraRinnovoCertificato");

const ROSSI: &str = "RSSMRA60C15F205L";
/// Rossi's card (030), not activated in the fixtures.
const CARTA_ROSSI: &str = "80380030000000000001";
/// Galli's card (030, GLLFNC33H02F205I), not activated.
const CARTA_GALLI: &str = "80380030000000000056";
const GALLI: &str = "GLLFNC33H02F205I";
/// Esposito's card (030), expired on 2026-03-22.
const CARTA_SCADUTA: &str = "80380030000000000023";
const ESPOSITO: &str = "SPSSFN91H26F205G";
/// Bianchi's card, issued for Lazio (120), active with 7B200002.
const CARTA_LAZIO: &str = "80380120000000000002";
const EMITTENTE: &str = "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT";

/// A request's fields and the error codes it must get.
type Case = (Vec<(&'static str, &'static str)>, &'static [&'static str]);

/// esito, descrizioneEsito, error codes, transaction id.
struct Esito {
    esito: String,
    descrizione: String,
    codici: Vec<String>,
    transazione: String,
    body: String,
}

async fn call(s: &TestServer, cert: &str, op: Op, fields: &[(&str, &str)]) -> Esito {
    let r = s.call_op(cert, op, fields).await;
    assert_eq!(r.status, 200, "{}: {}", op.name, r.body);
    Esito {
        esito: xml_text(&r.body, "esito").unwrap_or_default(),
        descrizione: xml_text(&r.body, "descrizioneEsito").unwrap_or_default(),
        codici: xml_texts(&r.body, "codice"),
        transazione: xml_text(&r.body, "identificativoTransazione").unwrap_or_default(),
        body: r.body,
    }
}

async fn lombardia(s: &TestServer, op: Op, fields: &[(&str, &str)]) -> Esito {
    call(s, "cms-lombardia", op, fields).await
}

fn attivazione<'a>(
    cf: &'a str,
    numero: &'a str,
    seriale: &'a str,
    dal: &'a str,
    al: &'a str,
    data: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("codiceFiscale", cf),
        ("numeroTessera", numero),
        ("serialeCertificato", seriale),
        ("emittenteCertificato", EMITTENTE),
        ("dataInizioValidita", dal),
        ("dataFineValidita", al),
        ("dataAttivazione", data),
    ]
}

fn rossi(seriale: &str) -> Vec<(&str, &str)> {
    attivazione(
        ROSSI,
        CARTA_ROSSI,
        seriale,
        "2024-07-01",
        "2027-06-30",
        "2024-07-15",
    )
}

fn revoca<'a>(numero: &'a str, motivo: &'a str, data: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("numeroTessera", numero),
        ("motivo", motivo),
        ("dataRevoca", data),
    ]
}

fn codes(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activation_is_recorded_once_and_logged_with_the_card() {
    let s = TestServer::start().await;
    let a = lombardia(&s, ATTIVAZIONE, &rossi("1A2B3C4D5E6F")).await;
    assert_eq!((a.esito.as_str(), a.codici.len()), ("00", 0), "{}", a.body);
    assert_eq!(a.descrizione, "Attivazione della TS-CNS registrata");
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera = '{CARTA_ROSSI}' \
                 AND seriale = '1A2B3C4D5E6F' AND identificativo_transazione = '{}'",
                a.transazione
            )
        ),
        1
    );
    // The same activation again, the serial written with leading zeros and in lower case.
    let b = lombardia(&s, ATTIVAZIONE, &rossi("001a2b3c4d5e6f")).await;
    assert_eq!(b.esito, "00", "{}", b.body);
    assert!(
        b.descrizione.contains("nessuna modifica"),
        "{}",
        b.descrizione
    );
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM tscns_certificato WHERE identificativo_transazione = '{}'",
                a.transazione
            )
        ),
        1,
        "the resubmission writes nothing"
    );
    for t in [&a.transazione, &b.transazione] {
        let row = log_row(&s.db, t);
        assert_eq!(row.operazione.as_deref(), Some("AttivazioneTSCNS"));
        assert_eq!(row.chiamante.as_deref(), Some("cms-lombardia"));
        assert_eq!(row.esito.as_deref(), Some("00"));
        assert_eq!(row.numero_tessera.as_deref(), Some(CARTA_ROSSI));
        assert_eq!(row.codice_fiscale, None);
        assert_eq!(row.ip_client, "127.0.0.1");
        assert_eq!(row.ts.len(), "2026-11-28T10:00:00.123".len());
    }

    // Another certificate on the active card; the same certificate with other data.
    let c = lombardia(&s, ATTIVAZIONE, &rossi("FFEE01")).await;
    assert_eq!(
        (c.esito.as_str(), c.codici.clone()),
        ("01", codes(&["CNS-0107"]))
    );
    let mut altro = rossi("1A2B3C4D5E6F");
    altro[3].1 = "CN=Altra CA,C=IT";
    let d = lombardia(&s, ATTIVAZIONE, &altro).await;
    assert_eq!(d.codici, codes(&["CNS-0110"]));
    assert_eq!(log_row(&s.db, &d.transazione).esito.as_deref(), Some("01"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_activation_error_code() {
    let s = TestServer::start().await;
    let cases: Vec<Case> = vec![
        // Valid shape, wrong check character.
        (
            attivazione(
                "RSSMRA60C15F205X",
                CARTA_ROSSI,
                "AB",
                "2024-07-01",
                "2027-06-30",
                "2024-07-15",
            ),
            &["CNS-0101"],
        ),
        (
            attivazione(
                ROSSI,
                "80380030000000009999",
                "AB",
                "2024-07-01",
                "2027-06-30",
                "2024-07-15",
            ),
            &["CNS-0102"],
        ),
        // Another region's card: that reason alone, although the holder is wrong too.
        (
            attivazione(
                ROSSI,
                CARTA_LAZIO,
                "AB",
                "2024-07-01",
                "2027-06-30",
                "2024-07-15",
            ),
            &["CNS-0103"],
        ),
        (
            attivazione(
                ROSSI,
                CARTA_GALLI,
                "AB",
                "2024-07-01",
                "2027-06-30",
                "2024-07-15",
            ),
            &["CNS-0104"],
        ),
        (
            attivazione(
                ESPOSITO,
                CARTA_SCADUTA,
                "AB",
                "2025-01-01",
                "2027-01-01",
                "2026-03-23",
            ),
            &["CNS-0106"],
        ),
        (
            attivazione(
                ROSSI,
                CARTA_ROSSI,
                "AB",
                "2024-07-01",
                "2099-06-30",
                "2099-01-01",
            ),
            &["CNS-0108"],
        ),
        (
            attivazione(
                ROSSI,
                CARTA_ROSSI,
                "AB",
                "2027-06-30",
                "2024-07-01",
                "2025-01-01",
            ),
            &["CNS-0109"],
        ),
        (
            attivazione(
                ROSSI,
                CARTA_ROSSI,
                "AB",
                "2024-07-01",
                "2027-06-30",
                "2024-06-30",
            ),
            &["CNS-0109"],
        ),
    ];
    for (fields, expected) in cases {
        let e = lombardia(&s, ATTIVAZIONE, &fields).await;
        assert_eq!(e.esito, "01", "{fields:?}: {}", e.body);
        assert_eq!(e.codici, codes(expected), "{fields:?}");
        assert_eq!(
            xml_texts(&e.body, "descrizione").len(),
            expected.len(),
            "every code has its description"
        );
    }
    // An issuer with a tab passes the schema, not the rules.
    let mut tab = rossi("AB");
    tab[3].1 = "CN=CA\tO=Regione";
    let e = lombardia(&s, ATTIVAZIONE, &tab).await;
    assert_eq!(e.codici, codes(&["CNS-0007"]), "{}", e.body);
    // The day of the expiry is still valid.
    let ok = lombardia(
        &s,
        ATTIVAZIONE,
        &attivazione(
            ESPOSITO,
            CARTA_SCADUTA,
            "AB",
            "2025-01-01",
            "2027-01-01",
            "2026-03-22",
        ),
    )
    .await;
    assert_eq!(ok.esito, "00", "{}", ok.body);

    // Revoked, and held by someone else: every reason at once.
    let r = lombardia(&s, REVOCA, &revoca(CARTA_GALLI, "furto", "2026-01-10")).await;
    assert_eq!(r.esito, "00", "{}", r.body);
    let e = lombardia(
        &s,
        ATTIVAZIONE,
        &attivazione(
            ROSSI,
            CARTA_GALLI,
            "AB",
            "2024-07-01",
            "2027-06-30",
            "2024-07-15",
        ),
    )
    .await;
    assert_eq!(e.codici, codes(&["CNS-0104", "CNS-0105"]));
    let e = lombardia(
        &s,
        ATTIVAZIONE,
        &attivazione(
            GALLI,
            CARTA_GALLI,
            "AB",
            "2024-07-01",
            "2027-06-30",
            "2024-07-15",
        ),
    )
    .await;
    assert_eq!(e.codici, codes(&["CNS-0105"]));
    assert_eq!(
        count(
            &s.db,
            &format!("SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera IN ('{CARTA_ROSSI}', '{CARTA_GALLI}')")
        ),
        0,
        "no refused activation is stored"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_faults_keep_the_card_number_in_the_log() {
    let s = TestServer::start().await;
    let mut fields = rossi("AB");
    fields.remove(2); // no serialeCertificato
    let r = s.call_op("cms-lombardia", ATTIVAZIONE, &fields).await;
    assert_eq!(r.status, 500);
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0301"));
    let r = s
        .call_op(
            "cms-lombardia",
            REVOCA,
            &revoca(CARTA_ROSSI, "rubata", "2026-01-01"),
        )
        .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0301"), "{}", r.body);
    let log = access_log(&s.db);
    assert_eq!(log.len(), 2);
    for row in log {
        assert_eq!(row.codice_errore.as_deref(), Some("TSG-0301"));
        assert_eq!(row.numero_tessera.as_deref(), Some(CARTA_ROSSI));
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_card_management_systems_may_call() {
    // A region wrongly entitled to the TS-CNS operations is still refused.
    let mut callers = standard_callers();
    for c in callers.iter_mut().filter(|c| c.nome == "regione-lombardia") {
        c.operazioni
            .extend(TSCNS_OPERAZIONI.iter().map(|o| o.to_string()));
    }
    let s = TestServer::start_with(callers, |_| {}).await;
    for cert in ["regione-lombardia", "avn", "piattaforma-nazionale"] {
        let r = s.call_op(cert, ATTIVAZIONE, &rossi("AB")).await;
        assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"), "{cert}");
        let r = s.call_op(cert, SERIE, &[]).await;
        assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"), "{cert}");
    }
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera = '80380030000000000001'"),
        0
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_activations_of_one_card_leave_one_certificate() {
    let s = TestServer::start().await;
    // Eight identical activations, each on its own connection and task: all 00, one row.
    let body = ATTIVAZIONE.envelope(&rossi("AB01"));
    let client = s.client("cms-lombardia");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (c, b) = (client.clone(), body.clone());
            tokio::spawn(async move { c.soap(&ATTIVAZIONE.path(), &ATTIVAZIONE.action(), b).await })
        })
        .collect();
    for call in calls {
        let r = call.await.expect("task").expect("reply");
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("00"),
            "{}",
            r.body
        );
    }
    // Two different certificates for Galli's card: exactly one wins.
    let a = attivazione(
        GALLI,
        CARTA_GALLI,
        "C1",
        "2024-07-01",
        "2027-06-30",
        "2024-07-15",
    );
    let b = attivazione(
        GALLI,
        CARTA_GALLI,
        "C2",
        "2024-07-01",
        "2027-06-30",
        "2024-07-15",
    );
    // The card is held locked while both requests arrive, so both read its state only after
    // the first's write: a read that saw the starting snapshot would insert twice. Each waits
    // for the lock, or (when both fell in one write batch, `soap::batch`) the second runs
    // after the first in the batch's transaction and sees its insert.
    use diesel::connection::SimpleConnection;
    let mut holder = s.db.connection();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM tessera_sanitaria WHERE numero = '{CARTA_GALLI}' FOR UPDATE"
        ))
        .expect("hold the card");
    let client = s.client("cms-lombardia");
    let calls: Vec<_> = [a, b]
        .into_iter()
        .map(|f| {
            let (c, body) = (client.clone(), ATTIVAZIONE.envelope(&f));
            tokio::spawn(async move {
                c.soap(&ATTIVAZIONE.path(), &ATTIVAZIONE.action(), body)
                    .await
            })
        })
        .collect();
    let waiting = format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
        s.db.name
    );
    let mut tries = 0;
    while count(&s.db, &waiting) < 1 {
        tries += 1;
        assert!(tries < 500, "no activation waited for the card lock");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Time for the second to arrive and wait, or queue behind the first.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    holder.batch_execute("COMMIT").expect("release");
    let mut replies = Vec::new();
    for call in calls {
        let r = call.await.expect("task").expect("reply");
        assert_eq!(r.status, 200, "{}", r.body);
        replies.push((
            xml_text(&r.body, "esito").unwrap_or_default(),
            xml_texts(&r.body, "codice"),
        ));
    }
    replies.sort();
    assert_eq!(
        replies,
        [
            ("00".to_owned(), vec![]),
            ("01".to_owned(), vec!["CNS-0107".to_owned()])
        ]
    );
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera IN ('80380030000000000001', '80380030000000000056')"),
        2
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_is_idempotent_and_stops_activations() {
    let s = TestServer::start().await;
    let a = lombardia(
        &s,
        REVOCA,
        &revoca(CARTA_ROSSI, "smarrimento", "2026-11-01"),
    )
    .await;
    assert_eq!(a.esito, "00", "{}", a.body);
    assert_eq!(a.descrizione, "Revoca della TS-CNS registrata");
    let b = lombardia(
        &s,
        REVOCA,
        &revoca(CARTA_ROSSI, "smarrimento", "2026-11-01"),
    )
    .await;
    assert_eq!(b.esito, "00");
    assert!(b.descrizione.contains("nessuna modifica"));
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM tscns_revoca"), 1);
    let c = lombardia(&s, REVOCA, &revoca(CARTA_ROSSI, "furto", "2026-11-01")).await;
    assert_eq!(c.codici, codes(&["CNS-0201"]));
    let c = lombardia(
        &s,
        REVOCA,
        &revoca(CARTA_ROSSI, "smarrimento", "2026-11-02"),
    )
    .await;
    assert_eq!(c.codici, codes(&["CNS-0201"]));
    let d = lombardia(&s, ATTIVAZIONE, &rossi("AB")).await;
    assert_eq!(d.codici, codes(&["CNS-0105"]));

    let cases: [Case; 3] = [
        (revoca(CARTA_LAZIO, "decesso", "2026-11-01"), &["CNS-0103"]),
        (
            revoca("80380030000000009999", "altro", "2026-11-01"),
            &["CNS-0102"],
        ),
        (
            revoca(CARTA_GALLI, "sostituzione", "2099-01-01"),
            &["CNS-0108"],
        ),
    ];
    for (fields, expected) in cases {
        let e = lombardia(&s, REVOCA, &fields).await;
        assert_eq!(e.codici, codes(expected), "{fields:?}");
        assert_eq!(
            log_row(&s.db, &e.transazione).numero_tessera.as_deref(),
            Some(fields[0].1)
        );
    }
    // Lazio's own CMS may revoke it; the revocation is not visible to Lombardia's as anything
    // but "another region".
    let l = call(
        &s,
        "cms-lazio",
        REVOCA,
        &revoca(CARTA_LAZIO, "decesso", "2026-11-01"),
    )
    .await;
    assert_eq!(l.esito, "00", "{}", l.body);
    let e = lombardia(&s, REVOCA, &revoca(CARTA_LAZIO, "decesso", "2026-11-01")).await;
    assert_eq!(e.codici, codes(&["CNS-0103"]));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_card_series_with_their_software() {
    let s = TestServer::start().await;
    let e = lombardia(&s, SERIE, &[]).await;
    assert_eq!(e.esito, "00", "{}", e.body);
    let sigle = xml_texts(&e.body, "sigla");
    assert_eq!(
        sigle,
        [
            "AC2013", "AC2014", "AC2018", "ACe2021", "ACx2021", "ID2019", "OT2015", "OT2016",
            "ST2021"
        ]
    );
    let puk = xml_texts(&e.body, "pukRichiesto");
    let con_puk: Vec<&str> = sigle
        .iter()
        .zip(&puk)
        .filter(|(_, p)| *p == "true")
        .map(|(s, _)| s.as_str())
        .collect();
    assert_eq!(con_puk, ["AC2013", "AC2014", "AC2018"]);
    assert_eq!(xml_texts(&e.body, "software").len(), 8 * 6 + 6);

    let one = lombardia(&s, SERIE, &[("sigla", "ST2021")]).await;
    assert_eq!(xml_texts(&one.body, "produttore"), ["STMICROELECTRONICS"]);
    assert_eq!(
        xml_texts(&one.body, "sistemaOperativo"),
        [
            "WINDOWS",
            "WINDOWS 32bit",
            "macOS",
            "LINUX 64bit",
            "LINUX 32bit",
            "EXTEND SOGEI STM"
        ]
    );
    assert_eq!(
        xml_texts(&one.body, "nomeSoftware")[0],
        "SafeDive2022_setup.exe ver 4.6.1"
    );
    let none = lombardia(&s, SERIE, &[("sigla", "ZZ1999")]).await;
    assert_eq!(none.esito, "00");
    assert!(xml_texts(&none.body, "serie").is_empty());
    s.stop().await;
}

async fn verifica(s: &TestServer, numero: &str, seriale: &str) -> Esito {
    lombardia(
        s,
        VERIFICA,
        &[("numeroTessera", numero), ("serialeCertificato", seriale)],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn renewal_check_on_the_edges_of_the_extension_rules() {
    let s = TestServer::start().await;
    // (card, serial, state, PUK, extended expiry): fixtures/README.md, "TS-CNS cards".
    let cases = [
        (
            "80380030009000000001",
            "5A3F0001",
            "RINNOVABILE",
            Some("true"),
            Some("2020-06-30"),
        ),
        (
            "80380030009000000002",
            "5A3F0002",
            "RINNOVABILE",
            Some("false"),
            Some("2020-06-30"),
        ),
        (
            "80380030009000000003",
            "5A3F0003",
            "NON_RINNOVABILE",
            None,
            None,
        ),
        (
            "80380030009000000004",
            "5A3F0004",
            "RINNOVABILE",
            Some("true"),
            Some("2020-06-30"),
        ),
        (
            "80380030009000000005",
            "5A3F0005",
            "NON_RINNOVABILE",
            None,
            None,
        ),
        (
            "80380030009000000006",
            "5A3F0006",
            "RINNOVABILE",
            Some("false"),
            Some("2023-12-31"),
        ),
        (
            "80380030009000000007",
            "5A3F0007",
            "NON_RINNOVABILE",
            None,
            None,
        ),
        (
            "80380030000000000013",
            "5A3F0013",
            "NON_RINNOVABILE",
            None,
            None,
        ),
    ];
    for (numero, seriale, stato, puk, scadenza) in cases {
        let e = verifica(&s, numero, seriale).await;
        assert_eq!(e.esito, "00", "{numero}: {}", e.body);
        assert_eq!(
            xml_text(&e.body, "statoRinnovo").as_deref(),
            Some(stato),
            "{numero}"
        );
        assert_eq!(
            xml_text(&e.body, "pukRichiesto").as_deref(),
            puk,
            "{numero}"
        );
        assert_eq!(
            xml_text(&e.body, "dataScadenzaProrogata").as_deref(),
            scadenza,
            "{numero}"
        );
        assert!(xml_text(&e.body, "siglaSerie").is_some());
        assert_eq!(
            log_row(&s.db, &e.transazione).numero_tessera.as_deref(),
            Some(numero)
        );
    }
    let non = verifica(&s, "80380030009000000003", "5A3F0003").await;
    assert_eq!(
        non.descrizione,
        "Nessun certificato rinnovabile presente nella carta"
    );

    // Refusals: a serial that is not the card's, a card never activated, another region, unknown.
    let refusals = [
        ("80380030009000000001", "5A3F0002", "CNS-0301"),
        (CARTA_ROSSI, "5A3F0001", "CNS-0301"),
        (CARTA_LAZIO, "7B200002", "CNS-0103"),
        ("80380030000000009999", "AB", "CNS-0102"),
    ];
    for (numero, seriale, code) in refusals {
        let e = verifica(&s, numero, seriale).await;
        assert_eq!(
            (e.esito.as_str(), e.codici.clone()),
            ("01", codes(&[code])),
            "{numero}"
        );
        assert_eq!(xml_text(&e.body, "statoRinnovo"), None);
    }
    // Lazio's CMS sees its own card.
    let l = call(
        &s,
        "cms-lazio",
        VERIFICA,
        &[
            ("numeroTessera", CARTA_LAZIO),
            ("serialeCertificato", "7b200002"),
        ],
    )
    .await;
    assert_eq!(
        xml_text(&l.body, "statoRinnovo").as_deref(),
        Some("NON_RINNOVABILE")
    );

    // Rules are data: a rule no longer in force renews nothing.
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE proroga_scadenza SET in_vigore = false WHERE codice = 'DL9-2020'",
        )
        .execute(&mut s.db.connection())
        .expect("update");
    }
    let e = verifica(&s, "80380030009000000001", "5A3F0001").await;
    assert_eq!(
        xml_text(&e.body, "statoRinnovo").as_deref(),
        Some("NON_RINNOVABILE")
    );
    let e = verifica(&s, "80380030009000000006", "5A3F0006").await;
    assert_eq!(
        xml_text(&e.body, "statoRinnovo").as_deref(),
        Some("RINNOVABILE")
    );

    // A revoked card renews nothing.
    let r = lombardia(
        &s,
        REVOCA,
        &revoca("80380030009000000006", "furto", "2026-01-01"),
    )
    .await;
    assert_eq!(r.esito, "00");
    let e = verifica(&s, "80380030009000000006", "5A3F0006").await;
    assert_eq!(e.codici, codes(&["CNS-0105"]));
    s.stop().await;
}

fn rinnovo<'a>(
    numero: &'a str,
    seriale: &'a str,
    nuovo: &'a str,
    scadenza: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("numeroTessera", numero),
        ("serialeCertificato", seriale),
        ("serialeNuovoCertificato", nuovo),
        ("dataScadenzaNuovoCertificato", scadenza),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewal_is_recorded_once() {
    let s = TestServer::start().await;
    const CARTA: &str = "80380030009000000002"; // printed expiry 2020-05-31, extended to 2020-06-30
    let refusals: [Case; 5] = [
        (
            rinnovo(CARTA, "5A3F0002", "5A3F1002", "2020-07-01"),
            &["CNS-0304"],
        ),
        (
            rinnovo(CARTA, "5A3F0002", "5A3F1002", "2020-05-31"),
            &["CNS-0304"],
        ),
        (
            rinnovo(CARTA, "5A3F0002", "05a3f0002", "2020-06-30"),
            &["CNS-0305"],
        ),
        (
            rinnovo("80380030009000000003", "5A3F0003", "5A3F1003", "2020-06-30"),
            &["CNS-0302"],
        ),
        (
            rinnovo(CARTA, "5A3F0099", "5A3F1002", "2020-06-30"),
            &["CNS-0301"],
        ),
    ];
    for (fields, expected) in refusals {
        let e = lombardia(&s, REGISTRA, &fields).await;
        assert_eq!(e.codici, codes(expected), "{fields:?}: {}", e.body);
    }
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM tscns_rinnovo"), 0);

    let ok = lombardia(
        &s,
        REGISTRA,
        &rinnovo(CARTA, "5A3F0002", "5A3F1002", "2020-06-30"),
    )
    .await;
    assert_eq!(ok.esito, "00", "{}", ok.body);
    assert_eq!(ok.descrizione, "Rinnovo del certificato registrato");
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera = '80380030009000000002' \
             AND seriale = '5A3F1002' AND valido_al = '2020-06-30'"
        ),
        1,
        "the new certificate replaces the old"
    );
    let again = lombardia(
        &s,
        REGISTRA,
        &rinnovo(CARTA, "5A3F0002", "5a3f1002", "2020-06-30"),
    )
    .await;
    assert_eq!(again.esito, "00");
    assert!(again.descrizione.contains("nessuna modifica"));
    let other = lombardia(
        &s,
        REGISTRA,
        &rinnovo(CARTA, "5A3F0002", "5A3F2002", "2020-06-30"),
    )
    .await;
    assert_eq!(other.codici, codes(&["CNS-0303"]));
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM tscns_rinnovo"), 1);
    for seriale in ["5A3F0002", "5A3F1002"] {
        let e = verifica(&s, CARTA, seriale).await;
        assert_eq!(
            xml_text(&e.body, "statoRinnovo").as_deref(),
            Some("GIA_RINNOVATO")
        );
    }
    // The renewed certificate is the card's active one: its activation is already recorded.
    let fields = attivazione(
        "BRBPLA31H25F205V",
        CARTA,
        "5A3F1002",
        "2017-05-31",
        "2020-06-30",
        "2017-06-10",
    );
    let a = lombardia(&s, ATTIVAZIONE, &fields).await;
    assert_eq!(a.esito, "00", "{}", a.body);
    assert!(
        a.descrizione.contains("nessuna modifica"),
        "{}",
        a.descrizione
    );
    // Another region cannot renew Lombardia's card.
    let l = call(
        &s,
        "cms-lazio",
        REGISTRA,
        &rinnovo("80380030009000000001", "5A3F0001", "AA", "2020-06-30"),
    )
    .await;
    assert_eq!(l.codici, codes(&["CNS-0103"]));
    assert_eq!(log_row(&s.db, &ok.transazione).esito.as_deref(), Some("00"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activation_whose_log_row_cannot_be_committed_is_not_stored() {
    let s = TestServer::start().await;
    // No partition for this month: every access-log insert fails.
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "DO $$ BEGIN EXECUTE format('DROP TABLE access_log_%s', \
             to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$",
        )
        .execute(&mut s.db.connection())
        .expect("drop partition");
    }
    let r = s.call_op("cms-lombardia", ATTIVAZIONE, &rossi("AB")).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0504"));
    let r = s
        .call_op(
            "cms-lombardia",
            REVOCA,
            &revoca(CARTA_ROSSI, "furto", "2026-01-01"),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(
        count(&s.db, "SELECT (SELECT count(*) FROM tscns_certificato WHERE numero_tessera = '80380030000000000001') + (SELECT count(*) FROM tscns_revoca) AS n"),
        0,
        "the writes rolled back with their log rows"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_is_active_on_one_card_and_regions_stay_apart() {
    let s = TestServer::start().await;
    // 5A3F0013 with this issuer is active on card 80380030000000000013.
    let e = lombardia(
        &s,
        ATTIVAZIONE,
        &attivazione(
            GALLI,
            CARTA_GALLI,
            "5a3f0013",
            "2024-07-01",
            "2027-06-30",
            "2024-07-15",
        ),
    )
    .await;
    assert_eq!(e.codici, codes(&["CNS-0111"]), "{}", e.body);
    // A renewal to a serial active elsewhere.
    let r = lombardia(
        &s,
        REGISTRA,
        &rinnovo("80380030009000000001", "5A3F0001", "5A3F0013", "2020-06-30"),
    )
    .await;
    assert_eq!(r.codici, codes(&["CNS-0111"]), "{}", r.body);
    // Lazio's CMS on a Lombardia card: another region, whatever the card's state.
    let l = call(&s, "cms-lazio", ATTIVAZIONE, &rossi("AB")).await;
    assert_eq!(l.codici, codes(&["CNS-0103"]));
    let l = call(
        &s,
        "cms-lazio",
        VERIFICA,
        &[
            ("numeroTessera", "80380030009000000001"),
            ("serialeCertificato", "5A3F0001"),
        ],
    )
    .await;
    assert_eq!(l.codici, codes(&["CNS-0103"]));
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera IN ('80380030000000000056', '80380030000000000001')"),
        0
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_latest_rule_wins_and_the_last_day_before_a_new_expiry_is_extended() {
    let s = TestServer::start().await;
    {
        use diesel::connection::SimpleConnection;
        s.db.connection()
            .batch_execute(
                "INSERT INTO proroga_scadenza (codice, riferimento, scadenza_dal, scadenza_al, prorogata_al) \
                 VALUES ('TEST-2024', 'Regola di prova', '2020-01-01', '2020-03-31', '2024-06-30'); \
                 INSERT INTO tessera_sanitaria (numero, codice_fiscale, data_scadenza, sigla_serie) VALUES \
                   ('80380030009000000008', 'RSSMRA60C15F205L', '2023-12-30', 'OT2015'); \
                 INSERT INTO tscns_certificato (numero_tessera, seriale, emittente, valido_dal, valido_al, \
                   data_attivazione, identificativo_transazione) VALUES ('80380030009000000008', '5A3F0008', \
                   'CN=CA', '2020-12-30', '2023-12-30', '2021-01-10', '00000000-0000-7000-8000-000000000000')",
            )
            .expect("seed");
    }
    // Covered by DL9-2020 (to 2020-06-30) and TEST-2024 (to 2024-06-30): the later date.
    let e = verifica(&s, "80380030009000000001", "5A3F0001").await;
    assert_eq!(
        xml_text(&e.body, "dataScadenzaProrogata").as_deref(),
        Some("2024-06-30"),
        "{}",
        e.body
    );
    // Outside TEST-2024's range: DL9-2020 only.
    let e = verifica(&s, "80380030009000000002", "5A3F0002").await;
    assert_eq!(
        xml_text(&e.body, "dataScadenzaProrogata").as_deref(),
        Some("2020-06-30")
    );
    // 2023-12-30, the last day of PROROGA-2023's range.
    let e = verifica(&s, "80380030009000000008", "5A3F0008").await;
    assert_eq!(
        xml_text(&e.body, "statoRinnovo").as_deref(),
        Some("RINNOVABILE")
    );
    assert_eq!(
        xml_text(&e.body, "dataScadenzaProrogata").as_deref(),
        Some("2023-12-31")
    );
    assert_eq!(xml_text(&e.body, "pukRichiesto").as_deref(), Some("false"));
    // The renewal is recorded under the rule that extends the card (the latest).
    let r = lombardia(
        &s,
        REGISTRA,
        &rinnovo("80380030009000000001", "5A3F0001", "5A3F1001", "2024-06-30"),
    )
    .await;
    assert_eq!(r.esito, "00", "{}", r.body);
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM tscns_rinnovo WHERE numero_tessera = '80380030009000000001' AND proroga = 'TEST-2024'"),
        1
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_regions_card_is_refused_without_waiting_for_its_lock() {
    let s = TestServer::start().await;
    // Lazio holds its card (say, a long first-load batch).
    use diesel::connection::SimpleConnection;
    let mut holder = s.db.connection();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM tessera_sanitaria WHERE numero = '{CARTA_LAZIO}' FOR UPDATE"
        ))
        .expect("hold the card");
    // Lombardia's CMS is answered CNS-0103 at once: it never locks (nor waits for) the card, so
    // it gets no 503 after the lock timeout.
    let e = lombardia(&s, REVOCA, &revoca(CARTA_LAZIO, "furto", "2026-01-01")).await;
    assert_eq!(e.codici, codes(&["CNS-0103"]), "{}", e.body);
    let e = lombardia(
        &s,
        ATTIVAZIONE,
        &attivazione(
            ROSSI,
            CARTA_LAZIO,
            "AB",
            "2024-07-01",
            "2027-06-30",
            "2024-07-15",
        ),
    )
    .await;
    assert_eq!(e.codici, codes(&["CNS-0103"]), "{}", e.body);
    holder.batch_execute("COMMIT").expect("release");
    s.stop().await;
}
