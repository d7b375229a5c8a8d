//! "Scambio File" in a real headless Chromium over real TLS (tests/browser/scambio_file.mjs):
//! an operator of region 120 lists and downloads only region 120's files (both kinds); the
//! section 5.5 rows of every download attempt and the section 2.5 rows of every request.

mod common;

use common::portale::{esiti, pair};
use common::{browser, scratch_dir, TestServer};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use tsgate::domain::CodiceRegione;
use tsgate::services::tscns::revoche::{self, eventi::EVENTI_DEMO};
use tsgate::services::vaccini::notifiche;

const ROSSI: &str = "RSSMRA80A01H501U";
const VERDI: &str = "VRDLCU70M10H501X";
const BIANCHI: &str = "BNCGPP75C45F205F";

#[derive(QueryableByName, Debug, PartialEq)]
struct Trasmissione {
    #[diesel(sql_type = Nullable<BigInt>)]
    file_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    ente: Option<String>,
    #[diesel(sql_type = Text)]
    operatore: String,
    #[diesel(sql_type = Text)]
    esito: String,
    #[diesel(sql_type = Text)]
    trasmessa_il: String,
    #[diesel(sql_type = Integer)]
    durata_ms: i32,
}

/// The DOWNLOAD rows of `tabella` (whose file column is `colonna`), oldest first.
fn download(s: &TestServer, tabella: &str, colonna: &str) -> Vec<Trasmissione> {
    diesel::sql_query(format!(
        "SELECT {colonna} AS file_id, ente, operatore, esito, durata_ms, \
         to_char(trasmessa_il AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS') AS trasmessa_il \
         FROM {tabella} WHERE tipo = 'DOWNLOAD' ORDER BY id"
    ))
    .load(&mut s.db.connection())
    .unwrap()
}

/// (operazione, esito) of `cf`'s section 2.5 rows of this service, oldest first.
fn accessi(s: &TestServer, cf: &str) -> Vec<(String, String)> {
    esiti(s, cf)
        .into_iter()
        .filter(|(operazione, _)| operazione.starts_with("SCAMBIO_FILE"))
        .collect()
}

/// A patient of region 120 booked in 030: one record in region 120's notice file.
fn prenota(c: &mut PgConnection) {
    diesel::sql_query(
        "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
             data_prenotazione, identificativo_transazione) \
         VALUES ('BNCGLI85L42H501P', 1, '030', '030', CURRENT_DATE + 30, gen_random_uuid())",
    )
    .execute(c)
    .expect("booking inserted");
}

fn regione(r: &str) -> CodiceRegione {
    CodiceRegione::parse(r).expect("regione")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_download_and_its_log_row() {
    let s = TestServer::start().await;
    let mut conn = s.db.connection();
    prenota(&mut conn);
    let n120 = notifiche::genera(&mut conn, Some(&regione("120")), "test")
        .expect("notice 120")
        .remove(0);
    let n030 = notifiche::genera(&mut conn, Some(&regione("030")), "test")
        .expect("notice 030")
        .remove(0);
    assert_eq!(n120.numero_record, 1);
    revoche::carica(&mut conn, EVENTI_DEMO, "eventi.csv").expect("load events");
    let r120 = revoche::esporta(&mut conn, &regione("120"), &scratch_dir("file"), "test")
        .expect("revocation file 120");
    drop(conn);

    let url = s.portal_url();
    let env = vec![
        ("NOTIFICA_120", format!("{} {}", n120.id, n120.nome_file)),
        ("NOTIFICA_030", format!("{} {}", n030.id, n030.nome_file)),
        ("REVOCA_120", format!("{} {}", r120.id, r120.nome_file)),
    ];
    let out = tokio::task::spawn_blocking(move || browser::run(&url, "scambio_file", &env))
        .await
        .unwrap();
    assert_eq!(out["ok"], true);
    // What the browser saved is what was stored.
    assert_eq!(out["sha_notifica"], n120.sha256.as_str());
    assert_eq!(out["sha_revoca"], r120.sha256.as_str());

    // Section 5.5: the download, the other region's file, an unknown id; all by ROSSI for 120.
    let righe = download(&s, "notifica_trasmissione", "notifica_id");
    let attesi = [
        (Some(n120.id), "OK"),
        (Some(n030.id), "ENTE_NON_AUTORIZZATO"),
        (None, "FILE_INESISTENTE"),
    ];
    assert_eq!(righe.len(), attesi.len(), "{righe:?}");
    for (r, (id, esito)) in righe.iter().zip(attesi) {
        assert_eq!((r.file_id, r.esito.as_str()), (id, esito), "{r:?}");
        assert_eq!(r.ente.as_deref(), Some("120"));
        assert_eq!(r.operatore, ROSSI);
        assert_eq!(r.trasmessa_il.len(), 23, "milliseconds: {r:?}");
        assert!(r.durata_ms >= 0);
    }
    let righe = download(&s, "fornitura_revoche_trasmissione", "fornitura_id");
    let attesi = [(Some(r120.id), "OK"), (None, "FILE_INESISTENTE")];
    assert_eq!(righe.len(), attesi.len(), "{righe:?}");
    for (r, (id, esito)) in righe.iter().zip(attesi) {
        assert_eq!((r.file_id, r.esito.as_str()), (id, esito), "{r:?}");
        assert_eq!(r.ente.as_deref(), Some("120"));
        assert_eq!(r.operatore, ROSSI);
        assert_eq!(r.trasmessa_il.len(), 23, "milliseconds: {r:?}");
        assert!(r.durata_ms >= 0);
    }

    // Section 2.5: one row per request, refusals included.
    const E: &str = "SCAMBIO_FILE_ELENCO";
    const D: &str = "SCAMBIO_FILE_DOWNLOAD";
    assert_eq!(
        accessi(&s, ROSSI),
        pair(&[
            (E, "OK"),
            (D, "OK"),
            (D, "OK"),
            (D, "ENTE_NON_AUTORIZZATO"),
            (D, "FILE_INESISTENTE"),
            (D, "FILE_INESISTENTE"),
            (D, "RICHIESTA_NON_VALIDA"),
        ])
    );
    assert_eq!(
        accessi(&s, VERDI),
        pair(&[(E, "NON_ABILITATO"), (D, "NON_ABILITATO")])
    );
    assert_eq!(accessi(&s, BIANCHI), pair(&[(E, "OK")]));
    s.stop().await;
}
