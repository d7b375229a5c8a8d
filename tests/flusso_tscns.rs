//! TS-CNS first load end to end: real server, mTLS, PostgreSQL, CMS signatures made with the
//! test PKI. Waiting for the asynchronous worker polls the outcome (never asserts on time).

mod common;

use bytes::Bytes;
use common::*;
use diesel::RunQueryDsl;
use http_body_util::Full;
use std::time::Duration;
use tsgate::demo::CallerSpec;
use tsgate::flussi::ricevi::{self, Mittente};
use tsgate::flussi::{firma, import};
use tsgate::services::tscns::flusso::{ESITO, INVIO, NS};

const LOMBARDIA: &str = "cms-lombardia";
const LAZIO: &str = "cms-lazio";
const ISSUER: &str = "CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT";

fn callers() -> Vec<CallerSpec> {
    let ops = [INVIO, ESITO];
    let mut v = standard_callers();
    // Entitled, but of a kind that may not send first-load files.
    v.push(caller("avn-tscns", "AVN", None, &ops, &["127.0.0.0/8"]));
    v.push(caller(
        "regione-tscns",
        "REGIONE",
        Some("030"),
        &ops,
        &["127.0.0.0/8"],
    ));
    v
}

async fn server(tweak: impl FnOnce(&mut tsgate::config::Config)) -> TestServer {
    let spool = scratch_dir("flussi-tscns");
    TestServer::start_with(callers(), |c| {
        c.flussi.dir = spool;
        tweak(c);
    })
    .await
}

/// An activation; `None` fields are left out.
fn att(fields: [Option<&str>; 7]) -> String {
    let names = [
        "codiceFiscale",
        "numeroTessera",
        "serialeCertificato",
        "emittenteCertificato",
        "dataInizioValidita",
        "dataFineValidita",
        "dataAttivazione",
    ];
    let body: String = names
        .iter()
        .zip(fields)
        .filter_map(|(n, v)| v.map(|v| format!("<f:{n}>{v}</f:{n}>")))
        .collect();
    format!("<f:attivazione>{body}</f:attivazione>\n")
}

/// A good-looking activation of `numero` held by `cf` with certificate `seriale`.
fn attiva(cf: &str, numero: &str, seriale: &str) -> String {
    att([
        Some(cf),
        Some(numero),
        Some(seriale),
        Some(ISSUER),
        Some("2025-01-01"),
        Some("2026-12-31"),
        Some("2025-02-01"),
    ])
}

fn revoca(numero: &str, motivo: &str, data: &str) -> String {
    format!(
        "<f:revoca><f:numeroTessera>{numero}</f:numeroTessera><f:motivo>{motivo}</f:motivo>\
         <f:dataRevoca>{data}</f:dataRevoca></f:revoca>\n"
    )
}

fn document(records: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<f:flussoTSCNS xmlns:f=\"{NS}\">\n{}</f:flussoTSCNS>\n",
        records.concat()
    )
}

fn sign(s: &TestServer, cert: &str, xml: &str) -> Vec<u8> {
    let (c, k) = s.pki.client_paths(cert);
    let cert = std::fs::read(c).expect("cert");
    let key = std::fs::read(k).expect("key");
    firma::firma(xml.as_bytes(), &cert, &key).expect("sign")
}

async fn post(s: &TestServer, cert: &str, path: &str, body: Vec<u8>) -> Reply {
    let mut conn = s.client(cert).connect().await.expect("connect");
    let req = http::Request::post(path)
        .header("host", conn.host().to_owned())
        .header("content-type", "application/pkcs7-mime")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    conn.send(req).await.expect("reply")
}

async fn upload_as(s: &TestServer, cert: &str, body: Vec<u8>) -> Reply {
    post(s, cert, "/ws/flussi/tscns", body).await
}

async fn outcome(s: &TestServer, cert: &str, protocollo: &str) -> Reply {
    s.client(cert)
        .get(&format!("/ws/flussi/tscns/{protocollo}"))
        .await
        .expect("reply")
}

/// Polls the outcome until the file is done (bounded, so a stuck worker fails the test).
async fn wait_done(s: &TestServer, cert: &str, protocollo: &str) -> Reply {
    for _ in 0..1200 {
        let r = outcome(s, cert, protocollo).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let stato = xml_text(&r.body, "stato").unwrap_or_default();
        if stato == "ELABORATO" || stato == "RIFIUTATO" {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("file {protocollo} not processed");
}

/// Uploads `xml` signed by `cert` (accepted: 202) and waits for its outcome.
async fn send(s: &TestServer, cert: &str, xml: &str) -> (String, Reply) {
    let r = upload_as(s, cert, sign(s, cert, xml)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let done = wait_done(s, cert, &p).await;
    (p, done)
}

/// (posizione, tipo, numeroTessera, esito, error codes) of every record of an outcome.
type Out = (u64, String, Option<String>, String, Vec<String>);

fn records(xml: &str) -> Vec<Out> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<Out> = None;
    let mut field = String::new();
    loop {
        match reader.read_event().expect("outcome XML") {
            Event::Start(e) => {
                field = e.local_name().as_ref().to_owned();
                if field == "record" {
                    current = Some((0, String::new(), None, String::new(), Vec::new()));
                }
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    match field.as_str() {
                        "posizione" => c.0 = t.parse().expect("posizione"),
                        "tipo" => c.1 = t.to_string(),
                        "numeroTessera" => c.2 = Some(t.to_string()),
                        "esito" => c.3 = t.to_string(),
                        "codice" => c.4.push(t.to_string()),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                if e.local_name().as_ref() == "record" {
                    out.push(current.take().expect("record"));
                }
                field.clear();
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

/// Positions and their error codes only.
fn codes(xml: &str) -> Vec<(u64, Vec<String>)> {
    records(xml).into_iter().map(|r| (r.0, r.4)).collect()
}

fn v(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

/// Every certificate and revocation of the cards `numero LIKE pattern`:
/// (card, serial or motivo, transaction).
fn state(db: &TestDb, pattern: &str) -> Vec<(String, String, String)> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        n: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        tx: String,
    }
    let mut conn = db.connection();
    diesel::sql_query(
        "SELECT numero_tessera AS n, 'cert ' || seriale || ' ' || data_attivazione AS v, \
                identificativo_transazione::text AS tx FROM tscns_certificato WHERE numero_tessera LIKE $1 \
         UNION ALL \
         SELECT numero_tessera, 'revoca ' || motivo || ' ' || data_revoca, identificativo_transazione::text \
         FROM tscns_revoca WHERE numero_tessera LIKE $1 ORDER BY 1, 2",
    )
    .bind::<diesel::sql_types::Text, _>(pattern)
    .load::<R>(&mut conn)
    .expect("state")
    .into_iter()
    .map(|r| (r.n, r.v, r.tx))
    .collect()
}

fn file_tx(db: &TestDb, protocollo: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let mut conn = db.connection();
    diesel::sql_query(
        "SELECT identificativo_transazione::text AS t FROM flusso WHERE protocollo = $1",
    )
    .bind::<diesel::sql_types::Text, _>(protocollo)
    .get_result::<T>(&mut conn)
    .expect("flusso")
    .t
}

fn sql(db: &TestDb, q: &str) {
    let mut conn = db.connection();
    diesel::sql_query(q).execute(&mut conn).expect(q);
}

const ROSSI: &str = "RSSMRA60C15F205L";

#[tokio::test(flavor = "multi_thread")]
async fn every_record_gets_its_outcome_and_only_good_ones_are_written() {
    let s = server(|c| c.flussi.batch_records = 4).await;
    let xml = document(&[
        // 1: good.
        attiva(ROSSI, "80380030000000000001", "1a01"),
        // 2..6: the file-only codes of the field rules.
        att([
            Some(ROSSI),
            Some("80380030000000000056"),
            Some("1A02"),
            None,
            Some("2025-01-01"),
            Some("2026-12-31"),
            Some(""),
        ]),
        attiva(ROSSI, "123", "1A03"),
        revoca("80380030000000000064", "furto", "2026-13-01"),
        attiva("GLLFNC33H02F205I", "80380030000000000056", "XYZ"),
        revoca("80380030000000000064", "rubata", "2026-01-15"),
        // 7: the same card's activation again (the same data, too): a duplicate.
        attiva(ROSSI, "80380030000000000001", "1A01"),
        // 8: unknown card; 9: a Lazio card; 10: not the holder.
        attiva(ROSSI, "80380030000000099999", "1A04"),
        attiva("RMNGNN54T19H501W", "80380120000000000127", "1A05"),
        attiva(ROSSI, "80380030000000000056", "1A06"),
        // 11, 12: revoked, then activated in the same file.
        revoca("80380030000000000060", "furto", "2026-01-15"),
        attiva("FRRFNC65C47F205E", "80380030000000000060", "1A07"),
        // 13: already active with another certificate.
        attiva("FNTLCU04M06F205H", "80380030000000000013", "1A08"),
        // 14, 15: activated, then revoked in the same file.
        attiva("CSTLSN82A24F205Z", "80380030000000000062", "1A09"),
        revoca("80380030000000000062", "smarrimento", "2026-03-01"),
        // 16: a date after today; 17: a wrong check character.
        revoca("80380030000000000064", "furto", "2099-01-01"),
        attiva("RSSMRA60C15F205X", "80380030000000000075", "1A0A"),
        // 18: the certificate record 1 activated, on another card.
        attiva("FNTLSS85L51F205H", "80380030000000000075", "1A01"),
        // 19: an issuer with a control character (a tab, as a character reference).
        att([
            Some("FNTLSS85L51F205H"),
            Some("80380030000000000075"),
            Some("1A0B"),
            Some("CN=CA&#9;Lombardia"),
            Some("2025-01-01"),
            Some("2026-12-31"),
            Some("2025-02-01"),
        ]),
    ]);
    let r = upload_as(&s, LOMBARDIA, sign(&s, LOMBARDIA, &xml)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.body.contains("<ricevutaFlussoTSCNS"), "{}", r.body);
    assert_eq!(xml_text(&r.body, "stato").as_deref(), Some("RICEVUTO"));
    let upload_tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let done = wait_done(&s, LOMBARDIA, &p).await;
    assert!(done.body.contains("<esitoFlussoTSCNS"), "{}", done.body);
    assert_eq!(xml_text(&done.body, "stato").as_deref(), Some("ELABORATO"));
    assert_eq!(xml_text(&done.body, "recordTotali").as_deref(), Some("19"));
    assert_eq!(xml_text(&done.body, "recordLetti").as_deref(), Some("19"));
    assert_eq!(
        xml_text(&done.body, "recordScartati").as_deref(),
        Some("15")
    );
    assert_eq!(
        codes(&done.body),
        vec![
            (1, v(&[])),
            (2, v(&["CNS-0001"])),
            (3, v(&["CNS-0002"])),
            (4, v(&["CNS-0003"])),
            (5, v(&["CNS-0004"])),
            (6, v(&["CNS-0005"])),
            (7, v(&["CNS-0006"])),
            (8, v(&["CNS-0102"])),
            (9, v(&["CNS-0103"])),
            (10, v(&["CNS-0104"])),
            (11, v(&[])),
            (12, v(&["CNS-0105"])),
            (13, v(&["CNS-0107"])),
            (14, v(&[])),
            (15, v(&[])),
            (16, v(&["CNS-0108"])),
            (17, v(&["CNS-0101"])),
            (18, v(&["CNS-0111"])),
            (19, v(&["CNS-0007"])),
        ],
        "{}",
        done.body
    );
    let all = records(&done.body);
    assert_eq!(all[0].1, "attivazione");
    assert_eq!(all[0].2.as_deref(), Some("80380030000000000001"));
    assert_eq!(all[0].3, "00");
    assert_eq!(all[2].2.as_deref(), Some("123"));
    assert_eq!(all[3].1, "revoca");
    assert_eq!(all[4].3, "01");
    assert!(done
        .body
        .contains("<descrizione>Record duplicato nel flusso"));

    // Only the good records were written, each with the file's transaction.
    let tx = file_tx(&s.db, &p);
    assert_eq!(tx, upload_tx);
    let t = |n: &str, v: &str| (n.to_owned(), v.to_owned(), tx.clone());
    assert_eq!(
        state(&s.db, "8038003000000000%"),
        vec![
            t("80380030000000000001", "cert 1A01 2025-02-01"),
            t("80380030000000000060", "revoca furto 2026-01-15"),
            t("80380030000000000062", "cert 1A09 2025-02-01"),
            t("80380030000000000062", "revoca smarrimento 2026-03-01"),
        ]
        .into_iter()
        .chain(
            // The fixtures' active cards, untouched.
            state(&s.db, "8038003000000000%")
                .into_iter()
                .filter(|r| r.2 != tx),
        )
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    assert!(state(&s.db, "80380030000000000013")[0]
        .1
        .starts_with("cert 5A3F0013"));
    assert!(state(&s.db, "80380120000000000127").is_empty());

    // Access log: the upload and every outcome request, with the caller and the client IP.
    let up = log_row(&s.db, &upload_tx);
    assert_eq!(up.operazione.as_deref(), Some(INVIO));
    assert_eq!(up.chiamante.as_deref(), Some(LOMBARDIA));
    assert_eq!(up.esito.as_deref(), Some("00"));
    assert_eq!(up.ip_client, "127.0.0.1");
    let outcome_tx = xml_text(&done.body, "identificativoTransazione").expect("tx");
    let out = log_row(&s.db, &outcome_tx);
    assert_eq!(out.operazione.as_deref(), Some(ESITO));
    assert_eq!(out.chiamante.as_deref(), Some(LOMBARDIA));
    assert_eq!(out.esito.as_deref(), Some("00"));
    assert!(access_log(&s.db).iter().all(|r| r.codice_fiscale.is_none()));

    // A second file: records equal to what is recorded are esito 00 and write nothing; a
    // revocation with other data is refused by the rules of the web service.
    let before = state(&s.db, "8038003000000000%");
    let xml2 = document(&[
        attiva(ROSSI, "80380030000000000001", "001A01"),
        revoca("80380030000000000060", "furto", "2026-01-15"),
        revoca("80380030000000000062", "altro", "2026-03-01"),
    ]);
    let (_, done2) = send(&s, LOMBARDIA, &xml2).await;
    assert_eq!(
        codes(&done2.body),
        vec![(1, v(&[])), (2, v(&[])), (3, v(&["CNS-0201"]))],
        "{}",
        done2.body
    );
    assert_eq!(state(&s.db, "8038003000000000%"), before);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cms_acts_only_for_its_region_and_only_cms_may_send() {
    let s = server(|_| {}).await;
    let xml = document(&[attiva(ROSSI, "80380030000000000001", "2B01")]);
    // Lazio's CMS sends a Lombardia card: CNS-0103, nothing written.
    let (p, done) = send(&s, LAZIO, &xml).await;
    assert_eq!(codes(&done.body), vec![(1, v(&["CNS-0103"]))]);
    assert!(state(&s.db, "80380030000000000001").is_empty());
    // Lombardia's file sent by Lazio's CMS: the signer is not the sender (refused whole).
    let r = upload_as(&s, LAZIO, sign(&s, LOMBARDIA, &xml)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(xml_text(&r.body, "codice").as_deref(), Some("AVN-0504"));
    // Lazio's outcome is Lazio's only; the bookings path does not show it either.
    let other = outcome(&s, LOMBARDIA, &p).await;
    assert_eq!(fault_code(&other).as_deref(), Some("TSG-0601"));
    let wrong_path = s
        .client(LAZIO)
        .get(&format!("/ws/flussi/prenotazioni/{p}"))
        .await
        .expect("reply");
    assert_eq!(fault_code(&wrong_path).as_deref(), Some("TSG-0104"));
    // Only CMS callers, whatever their entitlements; a CMS may not send bookings.
    for who in ["avn-tscns", "regione-tscns", "avn"] {
        let r = upload_as(&s, who, sign(&s, LOMBARDIA, &xml)).await;
        assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"), "{who}");
    }
    let r = post(
        &s,
        LOMBARDIA,
        "/ws/flussi/prenotazioni",
        sign(&s, LOMBARDIA, &xml),
    )
    .await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0104"), "{}", r.body);
    let refused: Vec<_> = access_log(&s.db)
        .into_iter()
        .filter(|r| r.codice_errore.as_deref() == Some("TSG-0104"))
        .collect();
    assert_eq!(refused.len(), 5);
    assert_eq!(
        refused
            .iter()
            .filter(|r| r.operazione.as_deref() == Some(INVIO))
            .count(),
        3
    );
    // And Lombardia's own CMS activates it.
    let (_, done) = send(&s, LOMBARDIA, &xml).await;
    assert_eq!(codes(&done.body), vec![(1, v(&[]))]);
    assert_eq!(state(&s.db, "80380030000000000001").len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_file_twice_gets_the_same_protocol_and_is_applied_once() {
    let s = server(|_| {}).await;
    let xml = document(&[
        attiva(ROSSI, "80380030000000000001", "3C01"),
        revoca("80380030000000000018", "deterioramento", "2026-02-02"),
    ]);
    let signed = sign(&s, LOMBARDIA, &xml);
    let (p, _) = {
        let r = upload_as(&s, LOMBARDIA, signed.clone()).await;
        assert_eq!(r.status, 202, "{}", r.body);
        let p = xml_text(&r.body, "protocollo").expect("protocollo");
        (p.clone(), wait_done(&s, LOMBARDIA, &p).await)
    };
    let again = upload_as(&s, LOMBARDIA, signed).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(xml_text(&again.body, "protocollo"), Some(p.clone()));
    assert_eq!(xml_text(&again.body, "duplicato").as_deref(), Some("true"));
    assert_eq!(xml_text(&again.body, "stato").as_deref(), Some("ELABORATO"));
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM flusso"), 1);
    let tx = file_tx(&s.db, &p);
    assert_eq!(
        state(&s.db, "80380030000000000001"),
        vec![(
            "80380030000000000001".to_owned(),
            "cert 3C01 2025-02-01".to_owned(),
            tx
        )]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_cannot_be_read_whole_is_refused_before_anything_is_applied() {
    let s = server(|c| c.flussi.batch_records = 1).await;
    for (tail, code) in [
        ("<f:altro/>", "AVN-0511"),
        (
            "<f:revoca><f:motivo>furto</f:motivo><f:motivo>furto</f:motivo></f:revoca>",
            "AVN-0511",
        ),
    ] {
        let xml = document(&[
            attiva(ROSSI, "80380030000000000001", "4D01"),
            revoca("80380030000000000018", "furto", "2026-02-02"),
            tail.to_owned(),
        ]);
        let (_, done) = send(&s, LOMBARDIA, &xml).await;
        assert_eq!(xml_text(&done.body, "stato").as_deref(), Some("RIFIUTATO"));
        assert_eq!(xml_text(&done.body, "codice").as_deref(), Some(code));
        assert!(records(&done.body).is_empty());
    }
    let wrong_root = format!(
        "<?xml version=\"1.0\"?><f:flussoPrenotazioni xmlns:f=\"{NS}\">{}</f:flussoPrenotazioni>",
        attiva(ROSSI, "80380030000000000001", "4D01")
    );
    let (_, done) = send(&s, LOMBARDIA, &wrong_root).await;
    assert_eq!(xml_text(&done.body, "codice").as_deref(), Some("AVN-0512"));
    assert!(state(&s.db, "80380030000000000001").is_empty());
    assert!(!state(&s.db, "80380030000000000018")
        .iter()
        .any(|r| r.1.starts_with("revoca")));
    let left: Vec<_> = std::fs::read_dir(&s.config.flussi.dir)
        .expect("spool dir")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    s.stop().await;
}

/// 150 cards of Lombardia, made for the resume test: 80380030007000000001..150.
/// Receives `xml` from Lombardia's CMS as an upload does, without waking the worker:
/// (file id, protocollo).
async fn registra_senza_worker(s: &TestServer, xml: &str) -> (i64, String) {
    let tx = uuid::Uuid::now_v7();
    let mut spool = ricevi::Spool::create(&s.config.flussi.dir, tx, u64::MAX)
        .await
        .expect("spool");
    spool.write(&sign(s, LOMBARDIA, xml)).await.expect("write");
    let spooled = spool.finish().await.expect("finish");
    let state_ = s.state().clone();
    let ricevuta = tokio::task::spawn_blocking(move || {
        let registry = state_.registry.snapshot();
        let cms = registry
            .callers()
            .iter()
            .find(|c| c.nome == LOMBARDIA)
            .expect("caller")
            .id;
        let bound = |fp: &str| {
            registry
                .caller_by_fingerprint(fp)
                .is_some_and(|c| c.id == cms)
        };
        let fiducia = firma::TrustAnchors::from_tls(&state_.config.tls);
        let mittente = Mittente {
            chiamante: LOMBARDIA,
            tipo: tsgate::catalogo::TSCNS,
            regione: Some("030"),
        };
        ricevi::registra(&state_.pool, &spooled, tx, mittente, &fiducia, &bound, None)
    })
    .await
    .expect("task")
    .expect("registra");
    (ricevuta.flusso.id, ricevuta.flusso.protocollo.clone())
}

fn more_cards(db: &TestDb) {
    sql(
        db,
        "INSERT INTO tessera_sanitaria (numero, codice_fiscale, data_scadenza, codice_regione) \
         SELECT '80380030007' || lpad(i::text, 9, '0'), 'RSSMRA60C15F205L', '2029-12-31', '030' \
         FROM generate_series(1, 150) i",
    );
}

/// 200 records over those cards, some refused, duplicates and revocations among them.
fn big_file() -> String {
    let mut out = Vec::new();
    for i in 1..=150u32 {
        let n = format!("80380030007{i:09}");
        let cf = if i % 11 == 0 {
            "BNCGLI85L42H501P"
        } else {
            ROSSI
        };
        if i % 10 == 0 {
            out.push(revoca(&n, "smarrimento", "2026-04-02"));
        }
        out.push(attiva(cf, &n, &format!("{:X}", 0xE000 + i)));
        if i % 3 == 0 {
            out.push(revoca(&n, "furto", "2026-04-01"));
        }
        if i % 7 == 0 {
            out.push(attiva(ROSSI, &n, &format!("{:X}", 0xF000 + i)));
        }
        if out.len() >= 200 {
            break;
        }
    }
    // Record 121, just after the first resume point (120), repeats record 1: it is CNS-0006
    // only if the resumed import rebuilt the records already seen.
    out[120] = out[0].clone();
    document(&out)
}

/// Outcome records and the cards' state without transaction ids, to compare two runs.
async fn result(s: &TestServer, p: &str) -> (Vec<Out>, Vec<(String, String)>) {
    let done = wait_done(s, LOMBARDIA, p).await;
    assert_eq!(xml_text(&done.body, "stato").as_deref(), Some("ELABORATO"));
    let tx = file_tx(&s.db, p);
    let st = state(&s.db, "80380030007%");
    assert!(st.iter().all(|r| r.2 == tx));
    (
        records(&done.body),
        st.into_iter().map(|r| (r.0, r.1)).collect(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_import_resumes_without_duplicates_or_losses() {
    let xml = big_file();
    // Reference: the same file, uninterrupted.
    let reference = server(|c| c.flussi.batch_records = 40).await;
    more_cards(&reference.db);
    let r = upload_as(&reference, LOMBARDIA, sign(&reference, LOMBARDIA, &xml)).await;
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let expected = result(&reference, &p).await;
    assert_eq!(expected.0.len(), 200);
    assert_eq!(
        expected.0[120].4,
        v(&["CNS-0006"]),
        "record 121 repeats record 1"
    );
    for code in ["CNS-0104", "CNS-0105", "CNS-0006"] {
        assert!(
            expected.0.iter().any(|r| r.4.contains(&code.to_owned())),
            "{code}"
        );
    }
    assert!(expected.0.iter().filter(|r| r.3 == "00").count() > 100);
    reference.stop().await;

    // The worker only wakes when told to (no upload here): the test drives the first runs.
    let mut s = server(|c| {
        c.flussi.batch_records = 40;
        c.flussi.poll_secs = 3600;
    })
    .await;
    more_cards(&s.db);
    let (id, p) = registra_senza_worker(&s, &xml).await;

    // Stopped after 3 batches (120 records applied), as by a crash after the third commit.
    let run = |s: &TestServer, batches: usize| {
        let state = s.state().clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = state.pool.get().expect("conn");
            let never = || false;
            let opz = import::ImportOptions {
                batch: 40,
                max_batches: Some(batches),
                stop: &never,
            };
            import::elabora(&mut conn, tsgate::catalogo::GENERI, id, &opz, &mut |_| {})
                .expect("import")
        })
    };
    assert_eq!(run(&s, 3).await.expect("task"), import::Esito::Interrotto);
    let o = outcome(&s, LOMBARDIA, &p).await;
    assert_eq!(
        xml_text(&o.body, "stato").as_deref(),
        Some("IN_ELABORAZIONE")
    );
    assert_eq!(xml_text(&o.body, "recordLetti").as_deref(), Some("120"));
    assert_eq!(xml_text(&o.body, "recordTotali").as_deref(), Some("200"));
    assert!(records(&o.body).is_empty());
    // Applied so far: exactly the first 120 records' writes.
    let applied = state(&s.db, "80380030007%").len();
    assert!(applied > 0);
    assert_eq!(
        count(
            &s.db,
            &format!("SELECT count(*) AS n FROM flusso_tscns_record WHERE flusso_id = {id}")
        ),
        120
    );
    // One more batch, then a restarted server resumes after the last committed one.
    assert_eq!(run(&s, 1).await.expect("task"), import::Esito::Interrotto);
    s.restart().await;
    s.state().flussi.notify_one();
    let got = result(&s, &p).await;
    assert_eq!(got, expected);
    s.stop().await;

    // The server's own worker stopped by a restart at whatever point it has reached (one record
    // a batch, so most likely mid-file): the end result is the same.
    let mut s = server(|c| c.flussi.batch_records = 1).await;
    more_cards(&s.db);
    let r = upload_as(&s, LOMBARDIA, sign(&s, LOMBARDIA, &xml)).await;
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    s.restart().await;
    let got = result(&s, &p).await;
    assert_eq!(got, expected);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_imports_a_tscns_file_with_progress_and_writes_the_outcome() {
    let s = server(|c| c.flussi.poll_secs = 3600).await;
    let dir = scratch_dir("cli-flusso-tscns");
    let tsgate = |args: &[&str]| {
        let out = flussi_cli(&s, &dir, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stdout, stderr)
    };
    let xml = document(&[
        attiva(ROSSI, "80380030000000000001", "5E01"),
        attiva(ROSSI, "80380030000000000001", "5E01"),
        revoca("80380030000000000018", "furto", "2026-02-02"),
    ]);
    std::fs::write(dir.join("f.xml"), &xml).expect("xml");
    let (cert, key) = s.pki.client_paths(LOMBARDIA);
    let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
    let (ok, _, err) = tsgate(&[
        "flusso", "firma", "f.xml", "--cert", &cert, "--key", &key, "--out", "f.p7m",
    ]);
    assert!(ok, "{err}");
    // A CMS file is not a bookings file.
    let (ok, _, err) = tsgate(&["flusso", "importa", "f.p7m", "--chiamante", LOMBARDIA]);
    assert!(!ok && err.contains("PRENOTAZIONI"), "{err}");
    let (ok, out, err) = tsgate(&[
        "flusso",
        "importa",
        "f.p7m",
        "--chiamante",
        LOMBARDIA,
        "--tipo",
        "tscns",
    ]);
    assert!(ok, "{err}");
    let (p, stato) = out.trim().split_once('\t').expect("protocol and state");
    assert_eq!(stato, "ELABORATO", "{err}");
    assert!(
        err.contains("letti 2 record") && err.contains("record/s"),
        "{err}"
    );
    let (ok, _, err) = tsgate(&["flusso", "esito", p, "--out", "esito.xml"]);
    assert!(ok, "{err}");
    let esito = std::fs::read_to_string(dir.join("esito.xml")).expect("outcome");
    assert_eq!(
        codes(&esito),
        vec![(1, v(&[])), (2, v(&["CNS-0006"])), (3, v(&[]))]
    );
    let (_, list, _) = tsgate(&["flusso", "elenco"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with(p) && l.ends_with("TSCNS")),
        "{list}"
    );
    assert_eq!(state(&s.db, "80380030000000000001").len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_and_cut_values_fail_their_record_not_the_file() {
    let s = server(|_| {}).await;
    let long_issuer = format!("CN=X{}Y", " ".repeat(2000));
    let xml = document(&[
        // A character reference to U+0001 and a raw NUL in the card number.
        attiva(ROSSI, "8038003000000000000&#1;", "A1"),
        attiva(ROSSI, "8038003000000000000\0", "A2"),
        // Longer than a field's cap: cut, and never mistaken for "CN=X" once trimmed.
        att([
            Some("GLLFNC33H02F205I"),
            Some("80380030000000000056"),
            Some("A3"),
            Some(&long_issuer),
            Some("2025-01-01"),
            Some("2026-12-31"),
            Some("2025-02-01"),
        ]),
        attiva(ROSSI, "80380030000000000001", "A4"),
    ]);
    let (_, done) = send(&s, "cms-lombardia", &xml).await;
    assert_eq!(
        xml_text(&done.body, "stato").as_deref(),
        Some("ELABORATO"),
        "{}",
        done.body
    );
    // `records` parses the outcome strictly: it is well-formed XML.
    let out = records(&done.body);
    assert_eq!(
        out.iter().map(|r| (r.0, r.4.clone())).collect::<Vec<_>>(),
        [
            (1, v(&["CNS-0002"])),
            (2, v(&["CNS-0002"])),
            (3, v(&["CNS-0007"])),
            (4, v(&[])),
        ]
    );
    assert_eq!(out[0].2.as_deref(), Some("8038003000000000000\u{FFFD}"));
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera = '80380030000000000056'"
        ),
        0
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_file_is_not_applied_once_its_sender_changed_region() {
    let s = server(|c| c.flussi.poll_secs = 3600).await;
    let xml = document(&[attiva(ROSSI, "80380030000000000001", "B1")]);
    let (id, _) = registra_senza_worker(&s, &xml).await;
    // Lombardia's CMS is moved to Lazio before the file is imported.
    sql(
        &s.db,
        "UPDATE chiamante SET codice_regione = '120' WHERE nome = 'cms-lombardia'",
    );
    let state = s.state().clone();
    let esito = tokio::task::spawn_blocking(move || {
        let mut conn = state.pool.get().expect("conn");
        let never = || false;
        let opz = import::ImportOptions {
            batch: 40,
            max_batches: None,
            stop: &never,
        };
        import::elabora(&mut conn, tsgate::catalogo::GENERI, id, &opz, &mut |_| {}).expect("import")
    })
    .await
    .expect("task");
    assert_eq!(esito, import::Esito::Rifiutato);
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM flusso WHERE id = {id} AND codice_rifiuto = 'AVN-0507'"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera = '80380030000000000001'"
        ),
        0
    );
    s.stop().await;
}
