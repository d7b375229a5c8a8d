//! Multiple-booking notices (decree section 5): the files checked byte for byte against
//! `fixtures/notifiche/` (all but the generation time), the commands `notifiche genera`,
//! `elenco` and `esporta` through the binary, the section 5.5 log of every production and
//! transmission, the daily schedule, and the 12-month retention.

mod common;
use common::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, SmallInt, Text, Timestamptz};
use diesel::{PgConnection, RunQueryDsl};
use std::path::Path;
use std::process::Command;
use tsgate::domain::CodiceRegione;
use tsgate::services::vaccini::notifiche::{self, formato, NotificheError};

fn prenota(c: &mut PgConnection, cf: &str, dose: i16, regione: &str) {
    diesel::sql_query(
        "INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, \
             codice_aic, data_prenotazione, identificativo_transazione) \
         VALUES ($1, $2, $3, $3, CASE WHEN $2 > 1 THEN '012345678' END, CURRENT_DATE + 30, \
             gen_random_uuid())",
    )
    .bind::<Text, _>(cf)
    .bind::<SmallInt, _>(dose)
    .bind::<Text, _>(regione)
    .execute(c)
    .expect("booking inserted");
}

/// A cancel (tipoOperazione C) deletes the booking.
fn cancella(c: &mut PgConnection, cf: &str, dose: i16, regione: &str) {
    let n = diesel::sql_query(
        "DELETE FROM prenotazione \
         WHERE codice_fiscale = $1 AND dose = $2 AND regione_prenotazione = $3",
    )
    .bind::<Text, _>(cf)
    .bind::<SmallInt, _>(dose)
    .bind::<Text, _>(regione)
    .execute(c)
    .expect("booking deleted");
    assert_eq!(n, 1);
}

/// The bookings behind `fixtures/notifiche/`.
fn seed(c: &mut PgConnection) {
    // 030, booked only in its own region: not listed.
    prenota(c, "RSSMRA60C15F205L", 1, "030");
    prenota(c, "RSSMRA60C15F205L", 2, "030");
    // 030, booked in one other region.
    prenota(c, "FNTLCU04M06F205H", 1, "120");
    // 030, own region and another: count 2, only the other listed.
    prenota(c, "BRBPLA31H25F205V", 1, "030");
    prenota(c, "BRBPLA31H25F205V", 2, "090");
    // 030, the same dose in two other regions (listed sorted).
    prenota(c, "SPSSFN91H26F205G", 1, "050");
    prenota(c, "SPSSFN91H26F205G", 1, "010");
    // 030, three regions, one of them twice: 4 bookings, distinct regions.
    prenota(c, "BRBDVD91S10F205O", 1, "030");
    prenota(c, "BRBDVD91S10F205O", 1, "120");
    prenota(c, "BRBDVD91S10F205O", 2, "080");
    prenota(c, "BRBDVD91S10F205O", 2, "120");
    // 030, the only other-region booking cancelled: not listed.
    prenota(c, "GLLFNC33H02F205I", 1, "030");
    prenota(c, "GLLFNC33H02F205I", 1, "190");
    cancella(c, "GLLFNC33H02F205I", 1, "190");
    // 030, one of two other-region bookings cancelled: no longer counted.
    prenota(c, "FRRFNC65C47F205E", 1, "030");
    prenota(c, "FRRFNC65C47F205E", 1, "070");
    prenota(c, "FRRFNC65C47F205E", 2, "100");
    cancella(c, "FRRFNC65C47F205E", 2, "100");
    // 120, booked in 030: in 120's file, not in 030's.
    prenota(c, "BNCGLI85L42H501P", 1, "030");
    // 010, only its own region: 010's file is empty.
    prenota(c, "VRDLCU39S20L219J", 1, "010");
    // 030, booked in another region on a day already past: no longer current, not listed.
    prenota(c, "CSTLSN82A24F205Z", 1, "160");
    diesel::sql_query(
        "UPDATE prenotazione SET data_prenotazione = CURRENT_DATE - 2 \
         WHERE codice_fiscale = 'CSTLSN82A24F205Z'",
    )
    .execute(c)
    .expect("past booking");
    // 150, booked in 030 and in the virtual region 300.
    prenota(c, "SPSNNA90A49F839L", 1, "300");
    prenota(c, "SPSNNA90A49F839L", 2, "030");
}

fn fixture(regione: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/notifiche/{regione}.txt"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Compares `actual` with the fixture of `regione`, all bytes but the header's generation
/// time, which must be `generata` (yyyyMMddHHmmssSSS).
fn assert_matches_fixture(regione: &str, actual: &[u8], generata: &str) {
    let expected = fixture(regione);
    let field = formato::TESTATA_DATA_ORA;
    assert!(actual.len() >= field.end, "file too short");
    assert_eq!(
        std::str::from_utf8(&actual[field.clone()]).unwrap(),
        generata,
        "generation time in the header"
    );
    let mut normalised = actual.to_vec();
    normalised[field.clone()].copy_from_slice(&expected[field]);
    assert_eq!(
        String::from_utf8_lossy(&normalised),
        String::from_utf8_lossy(&expected),
        "file of regione {regione} differs from fixtures/notifiche/{regione}.txt"
    );
}

#[derive(Debug, diesel::QueryableByName)]
struct Row55 {
    #[diesel(sql_type = Nullable<BigInt>)]
    notifica_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    nome_file: Option<String>,
    #[diesel(sql_type = Text)]
    tipo: String,
    #[diesel(sql_type = Nullable<Text>)]
    ente: Option<String>,
    #[diesel(sql_type = Text)]
    operatore: String,
    #[diesel(sql_type = Timestamptz)]
    trasmessa_il: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Text)]
    esito: String,
    #[diesel(sql_type = Integer)]
    durata_ms: i32,
    #[diesel(sql_type = Nullable<Text>)]
    dettaglio: Option<String>,
}

fn log55(c: &mut PgConnection) -> Vec<Row55> {
    diesel::sql_query(
        "SELECT notifica_id, nome_file, tipo, ente, operatore, trasmessa_il, esito, durata_ms, \
                dettaglio \
         FROM notifica_trasmissione ORDER BY id",
    )
    .load(c)
    .expect("transmission log")
}

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    contenuto_sha: String,
    #[diesel(sql_type = Text)]
    sha256: String,
    #[diesel(sql_type = Bool)]
    automatica: bool,
}

fn stored(c: &mut PgConnection, id: i64) -> Stored {
    diesel::sql_query(
        "SELECT encode(sha256(contenuto), 'hex') AS contenuto_sha, sha256, automatica \
         FROM notifica_prenotazioni WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result(c)
    .expect("stored file")
}

fn content(c: &mut PgConnection, id: i64) -> Vec<u8> {
    notifiche::repo::carica(c, id)
        .expect("query")
        .expect("file exists")
        .contenuto
}

#[test]
fn every_region_gets_its_file_matching_the_fixtures() {
    let db = TestDb::create();
    let mut c = db.connection();
    seed(&mut c);
    let files = notifiche::genera(&mut c, None, "tester").expect("production");
    // 21 regions and the virtual 300, each with a file (empty ones: header and trailer).
    assert_eq!(files.len(), 22);
    let generata = files[0].generata_il.format("%Y%m%d%H%M%S%3f").to_string();
    for f in &files {
        assert_eq!(f.generata_il, files[0].generata_il);
        assert_eq!(
            f.nome_file,
            format!("PRENOTAZIONI_MULTIPLE_{}_{generata}.txt", f.codice_regione)
        );
        let s = stored(&mut c, f.id);
        assert_eq!(
            s.sha256, s.contenuto_sha,
            "recorded sha256 of {}",
            f.nome_file
        );
        assert_eq!(s.sha256, f.sha256);
        assert!(!s.automatica);
        let body = content(&mut c, f.id);
        match f.codice_regione.as_str() {
            "030" | "120" | "150" | "010" => {
                assert_matches_fixture(&f.codice_regione, &body, &generata)
            }
            other => {
                let expected = format!("0PRENOTAZIONI_MULTIPLE{other}{generata}\n9000000000\n");
                assert_eq!(String::from_utf8_lossy(&body), expected);
            }
        }
        let expected_records = match f.codice_regione.as_str() {
            "030" => 5,
            "120" | "150" => 1,
            _ => 0,
        };
        assert_eq!(f.numero_record, expected_records, "{}", f.codice_regione);
    }
    // One PRODUZIONE row per file, every section 5.5 field present.
    let log = log55(&mut c);
    assert_eq!(log.len(), 22);
    for (row, f) in log.iter().zip(&files) {
        assert_eq!(row.notifica_id, Some(f.id));
        assert_eq!(row.nome_file.as_deref(), Some(f.nome_file.as_str()));
        assert_eq!(row.tipo, "PRODUZIONE");
        assert_eq!(row.ente.as_deref(), Some(f.codice_regione.as_str()));
        assert_eq!(row.operatore, "tester");
        assert_eq!(row.trasmessa_il, f.generata_il);
        assert_eq!(row.esito, "OK");
        assert!(row.durata_ms >= 0);
        assert_eq!(row.dettaglio, None);
    }
}

#[test]
fn one_region_on_demand_and_bookings_changing_between_productions() {
    let db = TestDb::create();
    let mut c = db.connection();
    seed(&mut c);
    let r030 = CodiceRegione::parse("030").unwrap();
    let files = notifiche::genera(&mut c, Some(&r030), "tester").expect("production");
    assert_eq!(files.len(), 1);
    let generata = files[0].generata_il.format("%Y%m%d%H%M%S%3f").to_string();
    assert_matches_fixture("030", &content(&mut c, files[0].id), &generata);

    // Cancelling FNTLCU04M06F205H's only booking drops them from the next file.
    cancella(&mut c, "FNTLCU04M06F205H", 1, "120");
    let next = notifiche::genera(&mut c, Some(&r030), "tester").expect("production");
    let body = String::from_utf8(content(&mut c, next[0].id)).unwrap();
    assert!(!body.contains("FNTLCU04M06F205H"), "{body}");
    assert!(body.ends_with("\n9000000004\n"), "{body}");
    assert_eq!(next[0].numero_record, 4);

    let unknown = CodiceRegione::parse("999").unwrap();
    let err = notifiche::genera(&mut c, Some(&unknown), "tester").unwrap_err();
    assert!(
        matches!(err, NotificheError::RegioneSconosciuta(_)),
        "{err}"
    );
    assert!(err.to_string().contains("999"), "{err}");
    let failed = log55(&mut c).pop().expect("failed production recorded");
    assert_eq!(failed.tipo, "PRODUZIONE");
    assert_eq!(failed.esito, "REGIONE_SCONOSCIUTA");
    assert_eq!(failed.ente, None);
    assert_eq!(failed.notifica_id, None);
    assert_eq!(failed.operatore, "tester");
    assert!(failed.dettaglio.unwrap_or_default().contains("999"));
    let err = notifiche::genera(&mut c, Some(&r030), "  ").unwrap_err();
    assert!(err.to_string().contains("operatore"), "{err}");
}

#[test]
fn portal_download_is_recorded_and_limited_to_the_region() {
    let db = TestDb::create();
    let mut c = db.connection();
    seed(&mut c);
    let r120 = CodiceRegione::parse("120").unwrap();
    let r030 = CodiceRegione::parse("030").unwrap();
    let files = notifiche::genera(&mut c, Some(&r120), "tester").expect("production");
    let id = files[0].id;
    let f = notifiche::scarica(&mut c, id, &r120, "RSSMRA60C15F205L").expect("download");
    assert_eq!(f.nome_file, files[0].nome_file);
    let err = notifiche::scarica(&mut c, id, &r030, "RSSMRA60C15F205L").unwrap_err();
    assert_eq!(err.esito(), "ENTE_NON_AUTORIZZATO");
    let err = notifiche::scarica(&mut c, id + 1000, &r120, "RSSMRA60C15F205L").unwrap_err();
    assert_eq!(err.esito(), "FILE_INESISTENTE");
    let log = log55(&mut c);
    let downloads: Vec<&Row55> = log.iter().filter(|r| r.tipo == "DOWNLOAD").collect();
    assert_eq!(downloads.len(), 3);
    assert_eq!(downloads[0].esito, "OK");
    assert_eq!(downloads[0].ente.as_deref(), Some("120"));
    assert_eq!(downloads[0].notifica_id, Some(id));
    assert_eq!(downloads[0].operatore, "RSSMRA60C15F205L");
    assert_eq!(downloads[1].esito, "ENTE_NON_AUTORIZZATO");
    assert_eq!(downloads[1].ente.as_deref(), Some("030"));
    assert!(downloads[1].dettaglio.is_some());
    assert_eq!(downloads[2].esito, "FILE_INESISTENTE");
    assert_eq!(downloads[2].notifica_id, None);
    assert_eq!(downloads[2].ente.as_deref(), Some("120"));
}

#[test]
fn daily_production_runs_once_per_scheduled_time() {
    let db = TestDb::create();
    let mut c = db.connection();
    seed(&mut c);
    // An automatic production two days ago does not cover today's schedule.
    diesel::sql_query(
        "INSERT INTO notifica_prenotazioni (codice_regione, generata_il, nome_file, \
             numero_record, sha256, contenuto, automatica) \
         VALUES ('030', now() - interval '2 days', 'vecchio.txt', 0, repeat('0', 64), '', TRUE)",
    )
    .execute(&mut c)
    .expect("old production");
    let midnight = chrono::NaiveTime::from_hms_opt(0, 0, 0).unwrap();
    let files = notifiche::produzione_giornaliera(&mut c, midnight).expect("daily run");
    assert_eq!(files.len(), 22);
    assert!(stored(&mut c, files[0].id).automatica);
    let again = notifiche::produzione_giornaliera(&mut c, midnight).expect("daily run");
    assert!(again.is_empty(), "produced twice for the same schedule");
    let log = log55(&mut c);
    assert_eq!(log.len(), 22);
    assert!(log
        .iter()
        .all(|r| r.operatore == notifiche::OPERATORE_SERVER));
}

fn tsgate(db: &TestDb) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tsgate"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", &db.url)
        .env("TSGATE_LOG_LEVEL", "warn")
        .current_dir(scratch_dir("cwd"));
    c
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run tsgate");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn commands_produce_list_and_export_and_each_is_recorded() {
    let db = TestDb::create();
    let mut c = db.connection();
    seed(&mut c);
    let (ok, out, err) = run(tsgate(&db).args(["notifiche", "genera", "--regione", "030"]));
    assert!(ok, "{err}");
    assert!(out.contains("1 file(s) produced"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("PRENOTAZIONI_MULTIPLE_030_"))
        .unwrap_or_else(|| panic!("no file in {out}"));
    assert!(line.contains("5 record(s)"), "{line}");
    let id: i64 = line.split('\t').next().unwrap().parse().expect("id first");

    let (ok, out, err) = run(tsgate(&db).args(["notifiche", "genera"]));
    assert!(ok, "{err}");
    assert!(out.contains("22 file(s) produced"), "{out}");

    let (ok, out, err) = run(tsgate(&db).args(["notifiche", "elenco", "--regione", "030"]));
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(out.lines().next().unwrap().contains("Europe/Rome"));
    let listed = rows
        .iter()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .expect("listed");
    let cols: Vec<&str> = listed.split('\t').collect();
    assert_eq!(cols[1], "030");
    assert_eq!(cols[3], "5");
    assert!(
        cols[4].starts_with("PRENOTAZIONI_MULTIPLE_030_"),
        "{listed}"
    );
    let (ok, out, _) = run(tsgate(&db).args(["notifiche", "elenco"]));
    assert!(ok);
    assert_eq!(out.lines().count(), 1 + 23, "{out}");

    let dir = scratch_dir("export");
    let dest = dir.join("030.txt");
    let (ok, out, err) = run(tsgate(&db).args([
        "notifiche",
        "esporta",
        &id.to_string(),
        "--out",
        dest.to_str().unwrap(),
        "--operatore",
        "BNCGLI85L42H501P",
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("written to"), "{out}");
    let file = notifiche::repo::carica(&mut c, id).unwrap().unwrap();
    let written = std::fs::read(&dest).expect("exported file");
    assert_eq!(written, file.contenuto);
    // Codici fiscali: readable by the owner only, and no temporary file left beside it.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dest)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 1);
    }
    let generata = file.generata_il.format("%Y%m%d%H%M%S%3f").to_string();
    assert_matches_fixture("030", &written, &generata);

    // Failures: unknown id, unwritable path, blank operatore, bad region.
    let (ok, _, err) = run(tsgate(&db).args([
        "notifiche",
        "esporta",
        "987654",
        "--out",
        dest.to_str().unwrap(),
        "--operatore",
        "mario",
    ]));
    assert!(!ok);
    assert!(err.contains("987654"), "{err}");
    let nowhere = dir.join("no/such/dir/x.txt");
    let (ok, _, err) = run(tsgate(&db).args([
        "notifiche",
        "esporta",
        &id.to_string(),
        "--out",
        nowhere.to_str().unwrap(),
        "--operatore",
        "mario",
    ]));
    assert!(!ok);
    assert!(err.contains("cannot write"), "{err}");
    let (ok, _, err) = run(tsgate(&db).args([
        "notifiche",
        "esporta",
        &id.to_string(),
        "--out",
        dest.to_str().unwrap(),
        "--operatore",
        "",
    ]));
    assert!(!ok);
    assert!(err.contains("operatore"), "{err}");
    let (ok, _, err) = run(tsgate(&db).args(["notifiche", "genera", "--regione", "30"]));
    assert!(!ok);
    assert!(err.contains("--regione"), "{err}");
    let (ok, _, err) = run(tsgate(&db).args([
        "notifiche",
        "esporta",
        "abc",
        "--out",
        "x",
        "--operatore",
        "m",
    ]));
    assert!(!ok);
    assert!(err.contains("abc"), "{err}");

    // Section 5.5: 1 + 22 productions, the export, and the two failed exports.
    let log = log55(&mut c);
    assert_eq!(log.iter().filter(|r| r.tipo == "PRODUZIONE").count(), 23);
    assert!(log
        .iter()
        .filter(|r| r.tipo == "PRODUZIONE")
        .all(|r| r.operatore == "tsgate-cli" && r.esito == "OK" && r.ente.is_some()));
    let exports: Vec<&Row55> = log.iter().filter(|r| r.tipo == "ESPORTAZIONE").collect();
    assert_eq!(exports.len(), 3, "{exports:?}");
    let good = exports[0];
    assert_eq!(good.notifica_id, Some(id));
    assert_eq!(good.nome_file.as_deref(), Some(file.nome_file.as_str()));
    assert_eq!(good.ente.as_deref(), Some("030"));
    assert_eq!(good.operatore, "BNCGLI85L42H501P");
    assert_eq!(good.esito, "OK");
    assert!(good.durata_ms >= 0);
    assert!(good.trasmessa_il >= file.generata_il);
    assert_eq!(good.dettaglio, None);
    assert_eq!(exports[1].esito, "FILE_INESISTENTE");
    assert_eq!(exports[1].notifica_id, None);
    assert_eq!(exports[1].ente, None);
    assert_eq!(exports[1].operatore, "mario");
    assert!(exports[1]
        .dettaglio
        .as_deref()
        .unwrap_or("")
        .contains("987654"));
    assert_eq!(exports[2].esito, "SCRITTURA_FALLITA");
    assert_eq!(exports[2].notifica_id, Some(id));
    assert_eq!(exports[2].ente.as_deref(), Some("030"));
}

#[test]
fn retention_keeps_eleven_months_and_deletes_thirteen() {
    let db = TestDb::create();
    let mut c = db.connection();
    diesel::sql_query(
        "WITH f AS ( \
             INSERT INTO notifica_prenotazioni (codice_regione, generata_il, nome_file, \
                 numero_record, sha256, contenuto) \
             VALUES ('030', now() - interval '11 months', 'undici.txt', 0, repeat('a', 64), ''), \
                    ('030', now() - interval '13 months', 'tredici.txt', 0, repeat('b', 64), '') \
             RETURNING id, nome_file, generata_il) \
         INSERT INTO notifica_trasmissione (notifica_id, nome_file, tipo, ente, operatore, \
             trasmessa_il, esito, durata_ms) \
         SELECT id, nome_file, 'PRODUZIONE', '030', 'tester', generata_il, 'OK', 1 FROM f",
    )
    .execute(&mut c)
    .expect("old rows");
    let (ok, out, err) = run(tsgate(&db).arg("purge"));
    assert!(ok, "{err}");
    assert!(
        out.contains("1 multiple-booking file(s) and 1 transmission record(s) deleted"),
        "{out}"
    );
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        nome_file: String,
    }
    let files: Vec<Name> = diesel::sql_query("SELECT nome_file FROM notifica_prenotazioni")
        .load(&mut c)
        .unwrap();
    assert_eq!(
        files
            .iter()
            .map(|n| n.nome_file.as_str())
            .collect::<Vec<_>>(),
        ["undici.txt"]
    );
    let log = log55(&mut c);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].nome_file.as_deref(), Some("undici.txt"));
    assert!(log[0].notifica_id.is_some());
    // Nothing more to delete.
    let purged = notifiche::purge(&mut c, 12).unwrap();
    assert_eq!(
        purged,
        notifiche::Purged {
            file: 0,
            trasmissioni: 0
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_produces_the_daily_files_itself() {
    let s = TestServer::start_with(standard_callers(), |c| {
        c.notifiche.controllo_secs = 1;
        c.notifiche.ora_produzione = "00:00".into();
    })
    .await;
    // Waits for the event (bounded so a broken schedule fails instead of hanging).
    let mut produced = 0;
    for _ in 0..120 {
        let db_url = s.db.url.clone();
        produced = tokio::task::spawn_blocking(move || {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let mut c = <PgConnection as diesel::Connection>::establish(&db_url).expect("db");
            diesel::sql_query("SELECT count(*) AS n FROM notifica_prenotazioni WHERE automatica")
                .get_result::<N>(&mut c)
                .expect("count")
                .n
        })
        .await
        .expect("count task");
        if produced > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(produced, 22, "no daily production by the server");
    let log = log55(&mut s.db.connection());
    assert_eq!(log.len(), 22);
    assert!(log
        .iter()
        .all(|r| r.operatore == notifiche::OPERATORE_SERVER && r.esito == "OK"));
    s.stop().await;
}
