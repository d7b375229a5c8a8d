//! Bulk booking files end to end: real server, mTLS, PostgreSQL, and CMS signatures made with
//! the test PKI. Waiting for the asynchronous worker polls the outcome (never asserts on time).

mod common;

use bytes::Bytes;
use common::*;
use diesel::{QueryableByName, RunQueryDsl};
use http_body_util::Full;
use std::time::Duration;
use tsgate::catalogo::PRENOTAZIONI;
use tsgate::demo::CallerSpec;
use tsgate::flussi::{firma, import, ricevi};
use tsgate::services::vaccini::flusso::{ESITO, INVIO};

const AVN: &str = "avn-flussi";
const NS: &str = "urn:tsgate:vaccini:flussoPrenotazioni";
const AIC2: &str = "049269018";

fn callers() -> Vec<CallerSpec> {
    let ops = [INVIO, ESITO];
    let mut v = standard_callers();
    v.push(caller(AVN, "AVN", None, &ops, &["127.0.0.0/8"]));
    v.push(caller("avn-altro", "AVN", None, &ops, &["127.0.0.0/8"]));
    v.push(caller(
        "regione-flussi",
        "REGIONE",
        Some("030"),
        &ops,
        &["127.0.0.0/8"],
    ));
    v
}

async fn server(tweak: impl FnOnce(&mut tsgate::config::Config)) -> TestServer {
    let spool = scratch_dir("flussi");
    TestServer::start_with(callers(), |c| {
        c.flussi.dir = spool;
        tweak(c);
    })
    .await
}

/// One record; `None` fields are left out.
#[derive(Clone)]
struct Rec {
    tipo: &'static str,
    cr: &'static str,
    cf: String,
    rp: &'static str,
    aic: Option<&'static str>,
    data: &'static str,
    dose: String,
}

fn rec(tipo: &'static str, cf: &str, rp: &'static str, dose: u8, data: &'static str) -> Rec {
    Rec {
        tipo,
        cr: "030",
        cf: cf.to_owned(),
        rp,
        aic: (dose > 1).then_some(AIC2),
        data,
        dose: dose.to_string(),
    }
}

impl Rec {
    fn xml(&self) -> String {
        self.xml_with("")
    }

    fn xml_with(&self, extra: &str) -> String {
        let aic = self
            .aic
            .map(|a| format!("<f:codiceAIC>{a}</f:codiceAIC>"))
            .unwrap_or_default();
        format!(
            "<f:prenotazione><f:tipoOperazione>{}</f:tipoOperazione><f:codiceRegione>{}</f:codiceRegione>\
             <f:identificativoAssistito>{}</f:identificativoAssistito><f:regionePrenotazione>{}</f:regionePrenotazione>\
             {aic}<f:dataPrenotazione>{}</f:dataPrenotazione><f:dose>{}</f:dose>{extra}</f:prenotazione>\n",
            self.tipo, self.cr, self.cf, self.rp, self.data, self.dose
        )
    }
}

fn document(records: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<f:flussoPrenotazioni xmlns:f=\"{NS}\">\n{}</f:flussoPrenotazioni>\n",
        records.concat()
    )
}

fn sign_with(cert: &std::path::Path, key: &std::path::Path, xml: &str) -> Vec<u8> {
    let cert = std::fs::read(cert).expect("cert");
    let key = std::fs::read(key).expect("key");
    firma::firma(xml.as_bytes(), &cert, &key).expect("sign")
}

fn sign(s: &TestServer, cert: &str, xml: &str) -> Vec<u8> {
    let (c, k) = s.pki.client_paths(cert);
    sign_with(&c, &k, xml)
}

async fn upload_as(s: &TestServer, cert: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let mut conn = s.client(cert).connect().await.expect("connect");
    let req = http::Request::post("/ws/flussi/prenotazioni")
        .header("host", conn.host().to_owned())
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    conn.send(req).await.expect("reply")
}

async fn upload(s: &TestServer, body: Vec<u8>) -> Reply {
    upload_as(s, AVN, "application/pkcs7-mime", body).await
}

async fn outcome(s: &TestServer, cert: &str, protocollo: &str) -> Reply {
    s.client(cert)
        .get(&format!("/ws/flussi/prenotazioni/{protocollo}"))
        .await
        .expect("reply")
}

/// Polls the outcome until the file is done (bounded, so a stuck worker fails the test).
async fn wait_done(s: &TestServer, protocollo: &str) -> Reply {
    wait_done_as(s, AVN, protocollo).await
}

/// `wait_done` for the file of the caller `cert`.
async fn wait_done_as(s: &TestServer, cert: &str, protocollo: &str) -> Reply {
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

/// Uploads `xml` signed by the AVN (a good signature: 202), waits for the worker, and asserts
/// that it refused the whole file with `code`; returns the outcome.
async fn refused_while_importing(s: &TestServer, xml: &str, code: &str) -> Reply {
    let r = upload(s, sign(s, AVN, xml)).await;
    assert_eq!(r.status, 202, "the signature is good: {}", r.body);
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let done = wait_done(s, &p).await;
    assert_eq!(xml_text(&done.body, "stato").as_deref(), Some("RIFIUTATO"));
    assert_eq!(
        xml_text(&done.body, "codice").as_deref(),
        Some(code),
        "{}",
        done.body
    );
    done
}

/// (posizione, esito, error codes) of every record of an outcome document.
fn records(xml: &str) -> Vec<(u64, String, Vec<String>)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut current: Option<(u64, String, Vec<String>)> = None;
    let mut field = String::new();
    loop {
        match reader.read_event().expect("outcome XML") {
            Event::Start(e) => {
                field = e.local_name().as_ref().to_owned();
                if field == "record" {
                    current = Some((0, String::new(), Vec::new()));
                }
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    match field.as_str() {
                        "posizione" => c.0 = t.parse().expect("posizione"),
                        "esito" => c.1 = t.to_string(),
                        "codice" => c.2.push(t.to_string()),
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

type Row = (String, i16, String, String, Option<String>, String, String);

/// Every booking: (cf, dose, regione, codice regione, aic, data, transazione), sorted.
fn prenotazioni(db: &TestDb) -> Vec<Row> {
    #[derive(diesel::QueryableByName)]
    struct R {
        #[diesel(sql_type = diesel::sql_types::Text)]
        cf: String,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        dose: i16,
        #[diesel(sql_type = diesel::sql_types::Text)]
        rp: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        cr: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        aic: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Text)]
        data: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        tx: String,
    }
    let mut conn = db.connection();
    diesel::sql_query(
        "SELECT codice_fiscale AS cf, dose, regione_prenotazione AS rp, codice_regione AS cr, \
         codice_aic AS aic, data_prenotazione::text AS data, identificativo_transazione::text AS tx \
         FROM prenotazione ORDER BY 1, 2, 3",
    )
    .load::<R>(&mut conn)
    .expect("prenotazioni")
    .into_iter()
    .map(|r| (r.cf, r.dose, r.rp, r.cr, r.aic, r.data, r.tx))
    .collect()
}

fn sql(db: &TestDb, q: &str) {
    let mut conn = db.connection();
    diesel::sql_query(q).execute(&mut conn).expect(q);
}

/// The transaction id of the file with this protocol.
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

/// A codice fiscale with a right check character that is not a patient of the fixtures.
fn unknown_cf() -> String {
    let first = "BRNLCU70A01H501";
    let c = tsgate::domain::CodiceFiscale::check_char(first.as_bytes()) as char;
    format!("{first}{c}")
}

const ROSSI: &str = "RSSMRA60C15F205L";
const BIANCHI: &str = "BNCGLI85L42H501P";
const VERDI: &str = "VRDLCU39S20L219J";
const ESPOSITO: &str = "SPSNNA90A49F839L";

#[tokio::test(flavor = "multi_thread")]
async fn every_record_gets_its_outcome_and_only_good_ones_are_written() {
    let s = server(|_| {}).await;
    sql(
        &s.db,
        &format!(
            "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
             data_prenotazione, identificativo_transazione) VALUES \
             ('{ESPOSITO}', 1, '150', '150', '2026-12-01', '00000000-0000-7000-8000-000000000001')"
        ),
    );
    sql(
        &s.db,
        &format!(
            "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
             codice_aic, data_prenotazione, identificativo_transazione) VALUES \
             ('{ESPOSITO}', 2, '150', '150', '{AIC2}', '2027-01-01', '00000000-0000-7000-8000-000000000001')"
        ),
    );
    let mut bad_cf = rec("I", ROSSI, "030", 1, "2026-12-01");
    bad_cf.cf = "RSSMRA60C15F205X".into();
    let mut bad_cr = rec("I", ROSSI, "120", 1, "2026-12-01");
    bad_cr.cr = "999";
    let mut no_aic = rec("I", BIANCHI, "030", 2, "2026-12-01");
    no_aic.aic = None;
    let mut bad_aic = rec("I", BIANCHI, "050", 2, "2026-12-01");
    bad_aic.aic = Some("049269019");
    let mut bad_dose = rec("I", BIANCHI, "010", 1, "2026-12-01");
    bad_dose.dose = "0".into();
    let mut bad_esp = rec("I", ESPOSITO, "150", 1, "2026-12-05");
    bad_esp.cr = "150";
    let mut same_esp = rec("I", ESPOSITO, "150", 2, "2027-01-01");
    same_esp.cr = "150";
    let mut unknown_both = rec("I", &unknown_cf(), "030", 1, "2026-12-01");
    unknown_both.cr = "999";
    let mut verdi_bad_cr = rec("I", VERDI, "080", 1, "2026-12-01");
    verdi_bad_cr.cr = "999";
    let file = vec![
        rec("I", ROSSI, "030", 1, "2026-12-01").xml(), // 1: 00
        rec("I", BIANCHI, "120", 2, "2026-12-10").xml(), // 2: 00
        rec("I", &unknown_cf(), "030", 1, "2026-12-01").xml(), // 3: patient unknown
        bad_cr.xml(),                                  // 4: codiceRegione unknown
        rec("I", ROSSI, "998", 1, "2026-12-01").xml(), // 5: regione unknown
        no_aic.xml(),                                  // 6: AIC required
        bad_cf.xml(),                                  // 7: CF check character
        rec("X", VERDI, "010", 1, "2026-12-01").xml(), // 8: tipoOperazione
        bad_aic.xml(),                                 // 9: AIC check digit
        bad_dose.xml(),                                // 10: dose
        rec("I", VERDI, "010", 1, "2026-02-30").xml(), // 11: date
        rec("V", VERDI, "010", 1, "2026-12-01").xml(), // 12: change of a missing booking
        rec("C", VERDI, "020", 1, "2026-12-01").xml(), // 13: cancel of a missing booking
        rec("I", ROSSI, "030", 1, "2026-12-03").xml(), // 14: same key as 1
        rec("I", VERDI, "030", 1, "2026-12-01").xml_with("<f:note>x</f:note>"), // 15
        rec("I", VERDI, "050", 1, "2026-12-01").xml_with("<f:dose>1</f:dose>"), // 16
        bad_esp.xml(),                                 // 17: exists, other data
        same_esp.xml(),                                // 18: exists, same data: no-op
        unknown_both.xml(), // 19: both errors, in the web service's order
        verdi_bad_cr.xml(), // 20: codiceRegione unknown...
        rec("I", VERDI, "080", 1, "2026-12-01").xml(), // 21: ...corrected: not a duplicate
    ];
    let r = upload(&s, sign(&s, AVN, &document(&file))).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(xml_text(&r.body, "stato").as_deref(), Some("RICEVUTO"));
    assert_eq!(xml_text(&r.body, "duplicato").as_deref(), Some("false"));
    let protocollo = xml_text(&r.body, "protocollo").expect("protocollo");
    assert_eq!(protocollo.len(), 17);
    assert!(protocollo.bytes().all(|b| b.is_ascii_digit()));
    let upload_tx = xml_text(&r.body, "identificativoTransazione").expect("tx");

    let done = wait_done(&s, &protocollo).await;
    assert_eq!(
        xml_text(&done.body, "stato").as_deref(),
        Some("ELABORATO"),
        "{}",
        done.body
    );
    assert_eq!(xml_text(&done.body, "recordTotali").as_deref(), Some("21"));
    assert_eq!(
        xml_text(&done.body, "recordScartati").as_deref(),
        Some("17"),
        "{}",
        done.body
    );
    let got = records(&done.body);
    let codes = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let expected: Vec<(u64, String, Vec<String>)> = vec![
        (1, "00", codes(&[])),
        (2, "00", codes(&[])),
        (3, "01", codes(&["AVN-0102"])),
        (4, "01", codes(&["AVN-0103"])),
        (5, "01", codes(&["AVN-0104"])),
        (6, "01", codes(&["AVN-0106"])),
        (7, "01", codes(&["AVN-0101"])),
        (8, "01", codes(&["AVN-0100"])),
        (9, "01", codes(&["AVN-0105"])),
        (10, "01", codes(&["AVN-0107"])),
        (11, "01", codes(&["AVN-0108"])),
        (12, "01", codes(&["AVN-0202"])),
        (13, "01", codes(&["AVN-0202"])),
        (14, "01", codes(&["AVN-0203"])),
        (15, "01", codes(&["AVN-0401"])),
        (16, "01", codes(&["AVN-0402"])),
        (17, "01", codes(&["AVN-0201"])),
        (18, "00", codes(&[])),
        (19, "01", codes(&["AVN-0102", "AVN-0103"])),
        (20, "01", codes(&["AVN-0103"])),
        (21, "00", codes(&[])),
    ]
    .into_iter()
    .map(|(p, e, c)| (p, e.to_owned(), c))
    .collect();
    assert_eq!(got, expected);
    assert!(done
        .body
        .contains("Assistito non presente nella banca dati"));

    let tx = file_tx(&s.db, &protocollo);
    assert_eq!(tx, upload_tx, "rows carry the upload's transaction");
    let old = "00000000-0000-7000-8000-000000000001".to_owned();
    assert_eq!(
        prenotazioni(&s.db),
        vec![
            (
                BIANCHI.into(),
                2,
                "120".into(),
                "030".into(),
                Some(AIC2.into()),
                "2026-12-10".into(),
                tx.clone()
            ),
            (
                ROSSI.into(),
                1,
                "030".into(),
                "030".into(),
                None,
                "2026-12-01".into(),
                tx.clone()
            ),
            (
                ESPOSITO.into(),
                1,
                "150".into(),
                "150".into(),
                None,
                "2026-12-01".into(),
                old.clone()
            ),
            (
                ESPOSITO.into(),
                2,
                "150".into(),
                "150".into(),
                Some(AIC2.into()),
                "2027-01-01".into(),
                old
            ),
            (
                VERDI.into(),
                1,
                "080".into(),
                "030".into(),
                None,
                "2026-12-01".into(),
                tx.clone()
            ),
        ]
    );

    // The applied file (health data) is gone from the spool directory, which only the gateway reads.
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = &s.config.flussi.dir;
        let left: Vec<_> = std::fs::read_dir(dir).expect("spool dir").collect();
        assert!(left.is_empty(), "{left:?}");
        let mode = std::fs::metadata(dir)
            .expect("spool dir")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    // Access log: the upload and every outcome request, with the §4.3 fields, no codice fiscale.
    let log = access_log(&s.db);
    let up = log_row(&s.db, &upload_tx);
    assert_eq!(up.operazione.as_deref(), Some(INVIO));
    assert_eq!(up.chiamante.as_deref(), Some(AVN));
    assert_eq!(up.esito.as_deref(), Some("00"));
    assert_eq!(up.ip_client, "127.0.0.1");
    let outcome_tx = xml_text(&done.body, "identificativoTransazione").expect("tx");
    let out = log_row(&s.db, &outcome_tx);
    assert_eq!(out.operazione.as_deref(), Some(ESITO));
    assert_eq!(out.esito.as_deref(), Some("00"));
    assert!(log.iter().all(|r| r.codice_fiscale.is_none()));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn insert_change_and_cancel_across_two_files() {
    let s = server(|_| {}).await;
    let first = document(&[
        rec("I", ROSSI, "030", 1, "2026-12-01").xml(),
        rec("I", BIANCHI, "120", 1, "2026-12-02").xml(),
    ]);
    let r = upload(&s, sign(&s, AVN, &first)).await;
    let p1 = xml_text(&r.body, "protocollo").expect("protocollo");
    wait_done(&s, &p1).await;
    let second = document(&[
        rec("V", ROSSI, "030", 1, "2026-12-15").xml(),
        rec("C", BIANCHI, "120", 1, "2026-12-02").xml(),
        rec("I", BIANCHI, "120", 2, "2027-01-10").xml(),
    ]);
    let r = upload(&s, sign(&s, AVN, &second)).await;
    let p2 = xml_text(&r.body, "protocollo").expect("protocollo");
    let done = wait_done(&s, &p2).await;
    assert!(
        records(&done.body).iter().all(|r| r.1 == "00"),
        "{}",
        done.body
    );
    let tx2 = file_tx(&s.db, &p2);
    assert_eq!(
        prenotazioni(&s.db),
        vec![
            (
                BIANCHI.into(),
                2,
                "120".into(),
                "030".into(),
                Some(AIC2.into()),
                "2027-01-10".into(),
                tx2.clone()
            ),
            (
                ROSSI.into(),
                1,
                "030".into(),
                "030".into(),
                None,
                "2026-12-15".into(),
                tx2
            ),
        ]
    );
    // The monitoring counts every write of both files under the bulk channel, by region of
    // booking and kind, in the transactions that applied them.
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Conteggio {
        #[diesel(sql_type = diesel::sql_types::Text)]
        chiave: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let conteggi: Vec<Conteggio> = diesel::sql_query(
        "SELECT concat_ws(' ', canale, regione, operazione) AS chiave, sum(numero)::int8 AS n \
         FROM mon_vaccinazioni WHERE tipo = 'PRENOTAZIONE' GROUP BY 1 ORDER BY 1",
    )
    .load(&mut s.db.connection())
    .expect("monitoring counts");
    let conteggi: Vec<(&str, i64)> = conteggi.iter().map(|c| (c.chiave.as_str(), c.n)).collect();
    assert_eq!(
        conteggi,
        vec![
            ("FLUSSO 030 INSERIMENTO", 1),
            ("FLUSSO 030 VARIAZIONE", 1),
            ("FLUSSO 120 CANCELLAZIONE", 1),
            ("FLUSSO 120 INSERIMENTO", 2),
        ]
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_signature_refuses_the_whole_file() {
    let s = server(|_| {}).await;
    let xml = document(&[rec("I", ROSSI, "030", 1, "2026-12-01").xml()]);
    let mut tampered = sign(&s, AVN, &xml);
    let at = tampered
        .windows(10)
        .position(|w| w == b"2026-12-01")
        .expect("content in the DER");
    tampered[at + 9] = b'2';
    let foreign = tsgate::pki::issue_foreign_client(&scratch_dir("foreign"), "straniero")
        .expect("foreign cert");
    // A second certificate of the AVN caller, revoked in the CRL only (the database still
    // binds it): the CRL the TLS layer checks refuses it as a signer too.
    let revoked = {
        let mut conn = s.db.connection();
        tsgate::demo::issue_for_caller(&mut conn, &s.pki, AVN, "avn-flussi-revocato")
            .expect("issue")
    };
    s.pki.revoke_serial(&revoked.serial).expect("revoke");
    s.reload_registry().await;
    // The last byte of the envelope is the signature value's (there are no unsigned
    // attributes): the content and its digest are intact, the signature is not.
    let mut altered_signature = sign(&s, AVN, &xml);
    if let Some(last) = altered_signature.last_mut() {
        *last ^= 0x01;
    }
    // A valid CMS signature, but without signed attributes (no messageDigest to check).
    let without_attributes = {
        use openssl::cms::{CMSOptions, CmsContentInfo};
        let (c, k) = s.pki.client_paths(AVN);
        let cert = openssl::x509::X509::from_pem(&std::fs::read(c).expect("cert")).expect("pem");
        let key = openssl::pkey::PKey::private_key_from_pem(&std::fs::read(k).expect("key"))
            .expect("key pem");
        CmsContentInfo::sign(
            Some(&cert),
            Some(&key),
            None,
            Some(xml.as_bytes()),
            CMSOptions::BINARY | CMSOptions::NOATTR,
        )
        .and_then(|cms| cms.to_der())
        .expect("cms without attributes")
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("tampered", tampered, "AVN-0505"),
        (
            "foreign CA",
            sign_with(&foreign.cert_path, &foreign.key_path, &xml),
            "AVN-0503",
        ),
        (
            "region's certificate",
            sign(&s, "regione-lombardia", &xml),
            "AVN-0504",
        ),
        (
            "another AVN caller",
            sign(&s, "avn-altro", &xml),
            "AVN-0504",
        ),
        ("not CMS", xml.clone().into_bytes(), "AVN-0501"),
        ("signature value altered", altered_signature, "AVN-0506"),
        ("no signed attributes", without_attributes, "AVN-0502"),
        (
            "revoked certificate",
            sign_with(&revoked.cert_path, &revoked.key_path, &xml),
            "AVN-0503",
        ),
    ];
    for (what, body, code) in cases {
        let r = upload(&s, body).await;
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert_eq!(
            xml_text(&r.body, "stato").as_deref(),
            Some("RIFIUTATO"),
            "{what}"
        );
        assert_eq!(
            xml_text(&r.body, "codice").as_deref(),
            Some(code),
            "{what}: {}",
            r.body
        );
        let p = xml_text(&r.body, "protocollo").expect("protocollo");
        let o = outcome(&s, AVN, &p).await;
        assert_eq!(
            xml_text(&o.body, "stato").as_deref(),
            Some("RIFIUTATO"),
            "{what}"
        );
        let tx = xml_text(&r.body, "identificativoTransazione").expect("tx");
        assert_eq!(log_row(&s.db, &tx).esito.as_deref(), Some("01"), "{what}");
    }
    assert!(prenotazioni(&s.db).is_empty());
    // Refused files leave nothing in the spool directory.
    let left: Vec<_> = std::fs::read_dir(&s.config.flussi.dir)
        .expect("spool dir")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_file_twice_is_detected_and_applied_once() {
    let s = server(|_| {}).await;
    let xml = document(&[rec("I", ROSSI, "030", 1, "2026-12-01").xml()]);
    let signed = sign(&s, AVN, &xml);
    let r1 = upload(&s, signed.clone()).await;
    let p = xml_text(&r1.body, "protocollo").expect("protocollo");
    wait_done(&s, &p).await;
    // Before the first is recorded the rows exist; cancel them so a second apply would show.
    let r2 = upload(&s, signed).await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_eq!(
        xml_text(&r2.body, "protocollo").as_deref(),
        Some(p.as_str())
    );
    assert_eq!(xml_text(&r2.body, "duplicato").as_deref(), Some("true"));
    assert_eq!(xml_text(&r2.body, "stato").as_deref(), Some("ELABORATO"));
    assert_ne!(
        xml_text(&r2.body, "identificativoTransazione"),
        xml_text(&r1.body, "identificativoTransazione")
    );
    sql(&s.db, "DELETE FROM prenotazione");
    s.state().flussi.notify_one();
    let done = wait_done(&s, &p).await;
    assert_eq!(records(&done.body).len(), 1);
    assert!(prenotazioni(&s.db).is_empty(), "applied twice");
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM flusso"), 1);

    // Another file sent four times at once: one is recorded, the others are told it is theirs.
    let other = sign(
        &s,
        AVN,
        &document(&[rec("I", BIANCHI, "120", 1, "2026-12-01").xml()]),
    );
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let (client, body) = (s.client(AVN), other.clone());
            tokio::spawn(async move {
                let mut conn = client.connect().await.expect("connect");
                let req = http::Request::post("/ws/flussi/prenotazioni")
                    .header("host", conn.host().to_owned())
                    .header("content-type", "application/pkcs7-mime")
                    .body(Full::new(Bytes::from(body)))
                    .expect("request");
                conn.send(req).await.expect("reply")
            })
        })
        .collect();
    let mut protocols = Vec::new();
    let mut fresh = 0;
    for call in calls {
        let r = call.await.expect("task");
        assert!(r.status == 202 || r.status == 200, "{}", r.body);
        if xml_text(&r.body, "duplicato").as_deref() == Some("false") {
            fresh += 1;
        }
        protocols.push(xml_text(&r.body, "protocollo").expect("protocollo"));
    }
    assert_eq!(fresh, 1, "{protocols:?}");
    protocols.dedup();
    assert_eq!(protocols.len(), 1, "one protocol for the four uploads");
    assert_eq!(count(&s.db, "SELECT count(*) AS n FROM flusso"), 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn callers_other_than_the_sender_and_the_avn_are_refused() {
    let s = server(|_| {}).await;
    let xml = document(&[rec("I", ROSSI, "030", 1, "2026-12-01").xml()]);
    for who in ["regione-lombardia", "regione-flussi", "avn"] {
        let r = upload_as(&s, who, "application/pkcs7-mime", sign(&s, AVN, &xml)).await;
        assert_eq!(
            fault_code(&r).as_deref(),
            Some("TSG-0104"),
            "{who}: {}",
            r.body
        );
    }
    let r = upload_as(&s, AVN, "text/xml", sign(&s, AVN, &xml)).await;
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0602"), "{}", r.body);
    let r = upload_as(&s, AVN, "application/octet-stream", sign(&s, AVN, &xml)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let other = outcome(&s, "avn-altro", &p).await;
    assert_eq!(
        fault_code(&other).as_deref(),
        Some("TSG-0601"),
        "{}",
        other.body
    );
    let unknown = outcome(&s, AVN, "26112700000000000").await;
    assert_eq!(fault_code(&unknown).as_deref(), Some("TSG-0601"));
    let refused: Vec<_> = access_log(&s.db)
        .into_iter()
        .filter(|r| r.codice_errore.as_deref() == Some("TSG-0104"))
        .collect();
    assert_eq!(refused.len(), 3);
    assert!(refused
        .iter()
        .all(|r| r.operazione.as_deref() == Some(INVIO)));
    s.stop().await;
}

/// 300 records with distinct keys, some rejected: the same file for every run.
fn big_file() -> String {
    let patients = [ROSSI, BIANCHI, VERDI, ESPOSITO];
    let regions = [
        "010", "020", "030", "041", "042", "050", "060", "070", "080", "090", "100", "110",
    ];
    let mut out = Vec::new();
    let mut n = 0;
    'outer: for p in patients {
        for r in regions {
            for dose in 1..=9u8 {
                n += 1;
                let mut x = rec("I", p, r, dose, "2026-12-01");
                if n % 7 == 0 {
                    x.cf = unknown_cf();
                }
                if n % 11 == 0 {
                    x.dose = "0".into();
                }
                out.push(x.xml());
                if n % 13 == 0 {
                    out.push(rec("I", p, r, dose, "2026-12-09").xml());
                }
                if out.len() >= 300 {
                    break 'outer;
                }
            }
        }
    }
    document(&out)
}

/// Outcome records and booking rows without transaction ids, to compare two runs.
async fn result(s: &TestServer, p: &str) -> (Vec<(u64, String, Vec<String>)>, Vec<Row>) {
    let done = wait_done(s, p).await;
    assert_eq!(xml_text(&done.body, "stato").as_deref(), Some("ELABORATO"));
    let rows = prenotazioni(&s.db)
        .into_iter()
        .map(|mut r| {
            r.6.clear();
            r
        })
        .collect();
    (records(&done.body), rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_import_resumes_without_duplicates_or_losses() {
    let xml = big_file();
    // Reference: the same file, uninterrupted.
    let reference = server(|c| c.flussi.batch_records = 40).await;
    let r = upload(&reference, sign(&reference, AVN, &xml)).await;
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let expected = result(&reference, &p).await;
    assert_eq!(expected.0.len(), 300);
    assert!(expected.0.iter().any(|r| r.1 == "01") && expected.0.iter().any(|r| r.1 == "00"));
    reference.stop().await;

    // The worker only wakes when told to (no upload here): the test drives the first runs.
    let mut s = server(|c| {
        c.flussi.batch_records = 40;
        c.flussi.poll_secs = 3600;
    })
    .await;
    let tx = uuid::Uuid::now_v7();
    let mut spool = ricevi::Spool::create(&s.config.flussi.dir, tx, u64::MAX)
        .await
        .expect("spool");
    spool.write(&sign(&s, AVN, &xml)).await.expect("write");
    let spooled = spool.finish().await.expect("finish");
    let state = s.state().clone();
    let ricevuta = tokio::task::spawn_blocking(move || {
        let registry = state.registry.snapshot();
        let avn = registry
            .callers()
            .iter()
            .find(|c| c.nome == AVN)
            .expect("caller")
            .id;
        let bound = |fp: &str| {
            registry
                .caller_by_fingerprint(fp)
                .is_some_and(|c| c.id == avn)
        };
        let fiducia = firma::TrustAnchors::from_tls(&state.config.tls);
        let mittente = ricevi::Mittente {
            chiamante: AVN,
            tipo: tsgate::catalogo::PRENOTAZIONI,
            regione: None,
        };
        ricevi::registra(&state.pool, &spooled, tx, mittente, &fiducia, &bound, None)
    })
    .await
    .expect("task")
    .expect("registra");
    let id = ricevuta.flusso.id;
    let p = ricevuta.flusso.protocollo.clone();

    // Stopped after 3 batches (120 records staged), as by a crash after the third commit.
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
    let o = outcome(&s, AVN, &p).await;
    assert_eq!(
        xml_text(&o.body, "stato").as_deref(),
        Some("IN_ELABORAZIONE")
    );
    assert_eq!(xml_text(&o.body, "recordLetti").as_deref(), Some("120"));
    assert!(
        prenotazioni(&s.db).is_empty(),
        "nothing applied before the whole file is read"
    );

    // The staged rows vanish (an unlogged table after a database crash): staging starts over.
    sql(&s.db, &format!("TRUNCATE flusso_record_{id}"));
    assert_eq!(run(&s, 2).await.expect("task"), import::Esito::Interrotto);
    let o = outcome(&s, AVN, &p).await;
    assert_eq!(xml_text(&o.body, "recordLetti").as_deref(), Some("80"));

    // A restarted server resumes after the last committed batch and finishes.
    s.restart().await;
    s.state().flussi.notify_one();
    let got = result(&s, &p).await;
    assert_eq!(got, expected);
    let tx = file_tx(&s.db, &p);
    assert!(prenotazioni(&s.db).iter().all(|r| r.6 == tx));
    s.stop().await;

    // The server's own worker stopped by a restart at whatever point it has reached (one record
    // a batch, so most likely mid-file): the end result is the same.
    let mut s = server(|c| c.flussi.batch_records = 1).await;
    let r = upload(&s, sign(&s, AVN, &xml)).await;
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    s.restart().await;
    let got = result(&s, &p).await;
    assert_eq!(got, expected);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_document_refuses_the_whole_file_after_staging_began() {
    let s = server(|c| c.flussi.batch_records = 2).await;
    let mut xml = document(&[
        rec("I", ROSSI, "030", 1, "2026-12-01").xml(),
        rec("I", BIANCHI, "120", 1, "2026-12-01").xml(),
        rec("I", VERDI, "010", 1, "2026-12-01").xml(),
        rec("I", ESPOSITO, "150", 1, "2026-12-01").xml(),
        rec("I", ROSSI, "050", 1, "2026-12-01").xml(),
    ]);
    xml.truncate(xml.len() - 40);
    let done = refused_while_importing(&s, &xml, "AVN-0511").await;
    assert!(records(&done.body).is_empty());
    assert!(
        prenotazioni(&s.db).is_empty(),
        "nothing of a refused file is applied"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_file_may_be_sent_again_and_duplicates_are_per_caller() {
    let s = server(|_| {}).await;
    let xml = document(&[rec("I", ROSSI, "030", 1, "2026-12-01").xml()]);
    let signed = sign(&s, "avn-altro", &xml);
    // Sent by the wrong AVN caller: refused (the signer is not its certificate)...
    let r = upload(&s, signed.clone()).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(xml_text(&r.body, "codice").as_deref(), Some("AVN-0504"));
    let refused = xml_text(&r.body, "protocollo").expect("protocollo");
    // ...then by its signer: a new file, accepted, not the other caller's refused protocol.
    let r = upload_as(&s, "avn-altro", "application/pkcs7-mime", signed.clone()).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(xml_text(&r.body, "duplicato").as_deref(), Some("false"));
    let accepted = xml_text(&r.body, "protocollo").expect("protocollo");
    assert_ne!(accepted, refused);
    wait_done_as(&s, "avn-altro", &accepted).await;
    // The same bytes again from the first caller: evaluated (and refused) again, never told of
    // the other caller's file.
    let r = upload(&s, signed).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_ne!(xml_text(&r.body, "protocollo"), Some(accepted));
    assert_eq!(prenotazioni(&s.db).len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_with_another_root_is_refused_whole() {
    let s = server(|_| {}).await;
    let xml = format!(
        "<?xml version=\"1.0\"?><f:altroFlusso xmlns:f=\"{NS}\">{}</f:altroFlusso>",
        rec("I", ROSSI, "030", 1, "2026-12-01").xml()
    );
    refused_while_importing(&s, &xml, "AVN-0512").await;
    assert!(prenotazioni(&s.db).is_empty());
    // Refused while importing: its spool file is gone too.
    let left: Vec<_> = std::fs::read_dir(&s.config.flussi.dir)
        .expect("spool dir")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_bounded_by_flussi_max_bytes_not_by_the_soap_limit() {
    let s = server(|c| c.flussi.max_bytes = 1_500_000).await;
    let patients = [ROSSI, BIANCHI, VERDI, ESPOSITO];
    let regions = ["010", "020", "030", "041", "042", "050"];
    let mut recs = Vec::new();
    while recs.len() * 330 < 1_200_000 {
        let i = recs.len();
        recs.push(
            rec(
                "I",
                patients[i % 4],
                regions[(i / 4) % 6],
                1 + (i / 24 % 9) as u8,
                "2026-12-01",
            )
            .xml(),
        );
    }
    let big = sign(&s, AVN, &document(&recs));
    assert!(big.len() > s.config.server.max_body_bytes && big.len() < 1_500_000);
    let r = upload(&s, big).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let done = wait_done(&s, &p).await;
    assert_eq!(xml_text(&done.body, "stato").as_deref(), Some("ELABORATO"));

    // Refused on its Content-Length: the server may answer and close while the client is
    // still writing the body, which the client then sees as a write error. Either way the
    // refusal is logged; when the answer arrives it is the 413.
    let too_big = sign(&s, AVN, &document(&[recs.concat(), recs.concat()]));
    let mut conn = s.client(AVN).connect().await.expect("connect");
    let req = http::Request::post("/ws/flussi/prenotazioni")
        .header("host", conn.host().to_owned())
        .header("content-type", "application/pkcs7-mime")
        .body(Full::new(Bytes::from(too_big)))
        .expect("request");
    if let Ok(r) = conn.send(req).await {
        assert_eq!(r.status, 413);
        assert_eq!(fault_code(&r).as_deref(), Some("TSG-0230"));
    }
    let mut refused = 0;
    for _ in 0..100 {
        refused = count(
            &s.db,
            "SELECT count(*) AS n FROM access_log WHERE codice_errore = 'TSG-0230'",
        );
        if refused > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(refused, 1, "the refusal is logged");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_envelopes_are_refused_never_panic() {
    let s = server(|_| {}).await;
    let xml = document(&[rec("I", ROSSI, "030", 1, "2026-12-01").xml()]);
    let good = sign(&s, AVN, &xml);
    let dir = scratch_dir("damaged");
    let fiducia = firma::TrustAnchors::from_tls(&s.config.tls);
    let check = |bytes: &[u8], what: String| {
        let path = dir.join("f.p7m");
        std::fs::write(&path, bytes).expect("write");
        let result = firma::verifica(&path, &fiducia, &|_| true).expect("no I/O error");
        assert!(result.is_err(), "{what} accepted");
    };
    for cut in (0..good.len()).step_by(7) {
        check(&good[..cut], format!("truncated at {cut}"));
    }
    let content = good
        .windows(10)
        .position(|w| w == b"2026-12-01")
        .expect("content");
    for i in (0..good.len()).step_by(3) {
        if (content.saturating_sub(400)..content + 400).contains(&i) {
            continue; // inside the XML a flipped byte is a content change, tested elsewhere
        }
        let mut bad = good.clone();
        bad[i] ^= 0x5a;
        let path = dir.join("f.p7m");
        std::fs::write(&path, &bad).expect("write");
        // Any answer but a panic or an I/O error; most of these are refusals.
        let _ = firma::verifica(&path, &fiducia, &|_| true).expect("no I/O error");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outcome_lists_every_position_across_pages() {
    let s = server(|_| {}).await;
    // 10,003 records: errors on both sides of the outcome's 10,000-position page boundary.
    let mut recs = Vec::new();
    for i in 1..=10_003u32 {
        let mut r = rec("C", ROSSI, "030", 1, "2026-12-01");
        if matches!(i, 1 | 9_999 | 10_000 | 10_001 | 10_003) {
            r.dose = "0".into();
        }
        recs.push(r.xml());
    }
    let r = upload(&s, sign(&s, AVN, &document(&recs))).await;
    let p = xml_text(&r.body, "protocollo").expect("protocollo");
    let done = wait_done(&s, &p).await;
    let got = records(&done.body);
    assert_eq!(got.len(), 10_003);
    for (i, (pos, esito, codes)) in got.iter().enumerate() {
        assert_eq!(*pos, i as u64 + 1);
        let expected: &[&str] = match pos {
            1 | 9_999 | 10_000 | 10_001 | 10_003 => &["AVN-0107"],
            2 => &["AVN-0202"],
            _ => &["AVN-0203"],
        };
        assert_eq!(codes, expected, "position {pos}");
        assert_eq!(esito, "01");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_signs_imports_with_progress_and_writes_the_outcome() {
    let s = server(|c| c.flussi.poll_secs = 3600).await;
    let dir = scratch_dir("cli-flusso");
    let tsgate = |args: &[&str]| {
        let out = flussi_cli(&s, &dir, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        (stdout, stderr)
    };
    let xml = document(&[
        rec("I", ROSSI, "030", 1, "2026-12-01").xml(),
        rec("I", BIANCHI, "120", 1, "2026-12-01").xml(),
        rec("V", VERDI, "010", 1, "2026-12-01").xml(),
        rec("I", ESPOSITO, "150", 1, "2026-12-01").xml(),
        rec("I", ROSSI, "050", 1, "2026-12-01").xml(),
    ]);
    std::fs::write(dir.join("f.xml"), &xml).expect("xml");
    let (cert, key) = s.pki.client_paths(AVN);
    let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
    tsgate(&[
        "flusso", "firma", "f.xml", "--cert", &cert, "--key", &key, "--out", "f.p7m",
    ]);
    let (out, err) = tsgate(&["flusso", "importa", "f.p7m", "--chiamante", AVN]);
    let (p, stato) = out.trim().split_once('\t').expect("protocol and state");
    assert_eq!(stato, "ELABORATO", "{err}");
    assert!(
        err.contains("letti 2 record") && err.contains("letti 4 record"),
        "{err}"
    );
    assert!(err.contains("record/s"), "{err}");
    tsgate(&["flusso", "esito", p, "--out", "esito.xml"]);
    let esito = std::fs::read_to_string(dir.join("esito.xml")).expect("outcome");
    let got: Vec<_> = records(&esito).into_iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        got,
        vec![
            (1, vec![]),
            (2, vec![]),
            (3, vec!["AVN-0202".to_owned()]),
            (4, vec![]),
            (5, vec![]),
        ]
    );
    let (list, _) = tsgate(&["flusso", "elenco"]);
    assert!(list.contains(p), "{list}");
    let (again, err) = tsgate(&["flusso", "importa", "f.p7m", "--chiamante", AVN]);
    assert_eq!(again, out, "{err}");
    assert!(err.contains("già ricevuto"), "{err}");
    assert_eq!(prenotazioni(&s.db).len(), 4);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_whose_log_row_cannot_be_committed_is_not_recorded() {
    let s = server(|_| {}).await;
    sql(
        &s.db,
        "DO $$ BEGIN EXECUTE format('DROP TABLE access_log_%s', \
         to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$",
    );
    let xml = document(&[rec("I", ROSSI, "030", 1, "2026-12-01").xml()]);
    let r = upload(&s, sign(&s, AVN, &xml)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(fault_code(&r).as_deref(), Some("TSG-0504"));
    assert_eq!(
        count(&s.db, "SELECT count(*) AS n FROM flusso"),
        0,
        "the file's row rolled back with its log row"
    );
    let left: Vec<_> = std::fs::read_dir(&s.config.flussi.dir)
        .expect("spool dir")
        .collect();
    assert!(left.is_empty(), "no unrecorded file left: {left:?}");
    s.stop().await;
}

#[test]
fn a_duplicate_insert_leaves_the_transaction_usable() {
    use diesel::Connection;
    use tsgate::flussi::repo;
    let db = TestDb::create();
    let mut conn = db.connection();
    let sha = "ab".repeat(32);
    let nuovo = |p: &str| repo::NuovoFlusso {
        protocollo: p.to_owned(),
        identificativo_transazione: uuid::Uuid::now_v7(),
        chiamante: AVN,
        impronta_sha256: &sha,
        stato: "RICEVUTO",
        codice_rifiuto: None,
        motivo_rifiuto: None,
        percorso: Some("/nonexistent".into()),
        contenuto_inizio: Some(0),
        contenuto_lunghezza: Some(1),
    };
    conn.transaction(|c| {
        assert!(repo::inserisci(c, &nuovo("26112700000000001"), PRENOTAZIONI, None)?.is_some());
        // The same caller's same file: refused by the partial unique index, in a savepoint.
        assert!(repo::inserisci(c, &nuovo("26112700000000002"), PRENOTAZIONI, None)?.is_none());
        // The transaction still works and commits the first row.
        diesel::sql_query("SELECT 1").execute(c)?;
        Ok::<_, diesel::result::Error>(())
    })
    .expect("transaction usable after the duplicate");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM flusso"), 1);
}
