//! The tamper-evident audit chain against a real database: `registra` in and out of a caller's
//! transaction, `tsgate audit verify` on an intact chain and after an attacker's raw SQL (row
//! changed, middle row deleted, forged row inserted, last row deleted, head deleted), and
//! concurrent writers that cannot fork the chain.

mod common;
use common::*;
use diesel::{Connection, PgConnection, RunQueryDsl};
use std::process::Output;
use tsgate::audit::catena::{self, Anomalia, Azione, Verifica, VoceAudit};

const OPERATORE: &str = "RSSMRA80A01H501U";

fn voce(i: usize) -> VoceAudit {
    let azioni = [
        Azione::Login,
        Azione::AbilitaProfilo,
        Azione::SbloccaUtente,
        Azione::RigeneraPincode,
        Azione::LoginFallito,
    ];
    let v = VoceAudit::new(OPERATORE, azioni[i % azioni.len()])
        .oggetto(format!("VRDLGU80A01F205{i}"))
        .esito("OK");
    if i % 2 == 0 {
        v.dettaglio(format!("profilo medico ASL 20{i}"))
    } else {
        v
    }
}

/// A fresh database holding a chain of `n` rows.
fn con_catena(n: usize) -> TestDb {
    let db = TestDb::create();
    let mut conn = db.connection();
    for i in 1..=n {
        let id = catena::registra(&mut conn, &voce(i)).expect("registra");
        assert_eq!(id, i as i64);
    }
    db
}

fn audit_verify(url: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tsgate"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TSGATE_DATABASE_URL", url)
        .env("TSGATE_LOG_LEVEL", "warn")
        .current_dir(scratch_dir("audit"))
        .args(["audit", "verify"])
        .output()
        .expect("run tsgate")
}

/// Runs `tsgate audit verify`, asserts its exit code, returns its standard output.
fn verify_exit(db: &TestDb, code: i32) -> String {
    let out = audit_verify(&db.url);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn sql(db: &TestDb, q: &str) {
    diesel::sql_query(q)
        .execute(&mut db.connection())
        .expect("attacker's SQL");
}

fn anomalia(db: &TestDb) -> Anomalia {
    match catena::verifica(&mut db.connection()).expect("verifica") {
        Verifica::Compromessa(a) => a,
        Verifica::Integra(i) => panic!("chain reported intact: {i:?}"),
    }
}

#[test]
fn an_intact_chain_verifies_and_prints_its_head() {
    let db = con_catena(5);
    let out = verify_exit(&db, 0);
    assert!(out.contains("catena integra: 5 righe"), "{out}");
    let testa = count(&db, "SELECT ultimo_id AS n FROM audit_testa");
    assert_eq!(testa, 5);
    #[derive(diesel::QueryableByName)]
    struct H {
        #[diesel(sql_type = diesel::sql_types::Text)]
        h: String,
    }
    let h = diesel::sql_query("SELECT encode(ultimo_hash, 'hex') AS h FROM audit_testa")
        .get_result::<H>(&mut db.connection())
        .expect("head")
        .h;
    assert!(out.contains(&format!("riga 5 hash {h}")), "{out}");
    // The first row chains to 32 zero bytes, each next one to its predecessor.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM audit_amministrativo a \
             LEFT JOIN audit_amministrativo p ON p.id = a.id - 1 \
             WHERE a.hash_precedente = coalesce(p.hash, decode(repeat('00', 32), 'hex'))"
        ),
        5
    );
}

#[test]
fn the_empty_chain_verifies() {
    let db = TestDb::create();
    let out = verify_exit(&db, 0);
    assert!(out.contains("catena integra: 0 righe"), "{out}");
}

#[test]
fn a_changed_row_is_named() {
    let db = con_catena(5);
    sql(
        &db,
        "UPDATE audit_amministrativo SET dettaglio = 'profilo amministratore' WHERE id = 3",
    );
    let out = verify_exit(&db, 1);
    assert!(out.contains("riga 3 modificata"), "{out}");
}

#[test]
fn a_deleted_middle_row_names_the_row_after_the_gap() {
    let db = con_catena(5);
    sql(&db, "DELETE FROM audit_amministrativo WHERE id = 3");
    let out = verify_exit(&db, 1);
    assert!(
        out.contains("riga 3 cancellata/e prima della riga 4"),
        "{out}"
    );
    assert_eq!(anomalia(&db), Anomalia::RigheCancellate { da: 3, a: 3 });
}

#[test]
fn a_forged_row_is_named() {
    let db = con_catena(5);
    // Chained to the last row, with a made-up hash.
    sql(
        &db,
        "INSERT INTO audit_amministrativo \
         (id, istante, attore, azione, oggetto, hash_precedente, hash) \
         SELECT 6, now(), 'RSSMRA80A01H501U', 'ABILITA_PROFILO', 'XXXXXX', hash, \
         sha256('falso'::bytea) FROM audit_amministrativo WHERE id = 5",
    );
    let out = verify_exit(&db, 1);
    assert!(out.contains("riga 6 inserita"), "{out}");
}

#[test]
fn a_forged_row_with_a_correct_hash_is_still_named_by_the_head() {
    let db = con_catena(5);
    let mut conn = db.connection();
    let ultima: catena::RigaAudit = {
        use diesel::prelude::*;
        use tsgate::db::schema::audit_amministrativo::dsl::*;
        audit_amministrativo
            .filter(id.eq(5))
            .select(catena::RigaAudit::as_select())
            .first(&mut conn)
            .expect("row 5")
    };
    let mut falsa = catena::RigaAudit {
        id: 6,
        azione: "ABILITA_PROFILO".into(),
        hash_precedente: ultima.hash.clone(),
        ..ultima
    };
    falsa.hash = falsa.contenuto().hash(&falsa.hash_precedente).to_vec();
    diesel::sql_query(
        "INSERT INTO audit_amministrativo \
         (id, istante, attore, azione, oggetto, dettaglio, esito, hash_precedente, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind::<diesel::sql_types::BigInt, _>(falsa.id)
    .bind::<diesel::sql_types::Timestamptz, _>(falsa.istante)
    .bind::<diesel::sql_types::Text, _>(&falsa.attore)
    .bind::<diesel::sql_types::Text, _>(&falsa.azione)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(&falsa.oggetto)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(&falsa.dettaglio)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(&falsa.esito)
    .bind::<diesel::sql_types::Bytea, _>(&falsa.hash_precedente)
    .bind::<diesel::sql_types::Bytea, _>(&falsa.hash)
    .execute(&mut conn)
    .expect("forged row");
    assert_eq!(anomalia(&db), Anomalia::RigaInserita { id: 6 });
    let out = verify_exit(&db, 1);
    assert!(out.contains("riga 6 inserita"), "{out}");
}

#[test]
fn a_deleted_last_row_is_reported_as_a_tail_deletion() {
    let db = con_catena(5);
    sql(&db, "DELETE FROM audit_amministrativo WHERE id = 5");
    let out = verify_exit(&db, 1);
    assert!(out.contains("riga 5 cancellata/e in coda"), "{out}");
}

#[test]
fn a_deleted_head_is_reported_and_stops_the_writers() {
    let db = con_catena(2);
    sql(&db, "DELETE FROM audit_testa");
    let out = verify_exit(&db, 1);
    assert!(out.contains("testa della catena mancante"), "{out}");
    let err = catena::registra(&mut db.connection(), &voce(3)).expect_err("no head");
    assert!(matches!(err, catena::ErroreAudit::TestaMancante), "{err}");
}

#[test]
fn a_database_error_exits_with_2() {
    let out = audit_verify("postgres://postgres@127.0.0.1:1/nessuno");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot connect to the database"), "{err}");
}

#[test]
fn the_row_commits_and_rolls_back_with_the_callers_transaction() {
    let db = con_catena(1);
    let mut conn = db.connection();
    let annullata: Result<(), diesel::result::Error> = conn.transaction(|c| {
        let id = catena::registra(c, &voce(2)).expect("registra");
        assert_eq!(id, 2);
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(annullata.is_err());
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM audit_amministrativo"),
        1
    );
    assert_eq!(count(&db, "SELECT ultimo_id AS n FROM audit_testa"), 1);
    let id = conn
        .transaction(|c| catena::registra(c, &voce(3)))
        .expect("committed");
    assert_eq!(id, 2, "ids stay contiguous after a rollback");
    let out = verify_exit(&db, 0);
    assert!(out.contains("catena integra: 2 righe"), "{out}");
}

#[test]
fn an_empty_actor_is_refused() {
    let db = TestDb::create();
    let err = catena::registra(&mut db.connection(), &VoceAudit::new("", Azione::Login))
        .expect_err("empty actor");
    assert!(matches!(err, catena::ErroreAudit::AttoreVuoto), "{err}");
}

#[test]
fn concurrent_writers_do_not_fork_the_chain_and_a_concurrent_verifier_sees_it_intact() {
    let db = TestDb::create();
    let url = db.url.clone();
    let finito = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let verificatore = {
        let (url, finito) = (url.clone(), finito.clone());
        std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).expect("connection");
            let mut verifiche = 0;
            while !finito.load(std::sync::atomic::Ordering::SeqCst) || verifiche == 0 {
                match catena::verifica_a_lotti(&mut conn, 7).expect("verifica") {
                    Verifica::Integra(_) => verifiche += 1,
                    Verifica::Compromessa(a) => panic!("concurrent verification: {a}"),
                }
            }
            verifiche
        })
    };
    let scrittori: Vec<_> = (0..8)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).expect("connection");
                (0..25)
                    .map(|i| catena::registra(&mut conn, &voce(t * 25 + i)).expect("registra"))
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut ids: Vec<i64> = scrittori
        .into_iter()
        .flat_map(|s| s.join().expect("writer"))
        .collect();
    finito.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(verificatore.join().expect("verifier") > 0);
    ids.sort_unstable();
    assert_eq!(ids, (1..=200).collect::<Vec<i64>>());
    match catena::verifica_a_lotti(&mut db.connection(), 7).expect("verifica") {
        Verifica::Integra(i) => {
            assert_eq!((i.righe, i.ultimo_id), (200, 200));
        }
        Verifica::Compromessa(a) => panic!("{a}"),
    }
    let out = verify_exit(&db, 0);
    assert!(out.contains("catena integra: 200 righe"), "{out}");
}
