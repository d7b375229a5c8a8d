//! The batches (`soap::batch`) on a real PostgreSQL. Look-ups: concurrent ones run in one
//! batch, one failing member touches no other, every row commits in one INSERT before any
//! member is answered, and a connection killed mid-batch loses no answered request's row.
//! Writes: one transaction a batch, a member's failure rolls back its savepoint alone, and a
//! batch killed before its commit stores nothing and answers no member.

mod common;

use common::count;
use common::db::TestDb;
use diesel::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tsgate::audit::{AccessRecord, LogFields};
use tsgate::soap::batch::{Batches, Kind, Member};
use uuid::Uuid;

fn record(tx: Uuid, outcome: Result<&str, &str>) -> AccessRecord {
    AccessRecord::new(
        chrono::Utc::now(),
        tx,
        Some("VerificaAssistitoFuoriRegione"),
        Some("regione-lombardia".into()),
        "127.0.0.1".parse().unwrap(),
        outcome,
        LogFields::default(),
    )
}

/// A member answering `r`, its row 00, or TSG-0500 with its savepoint rolled back.
fn member<T>(r: Result<T, String>, tx: Uuid) -> Member<Result<T, String>> {
    let outcome = if r.is_ok() { Ok("00") } else { Err("TSG-0500") };
    Member {
        keep: r.is_ok(),
        row: Some(record(tx, outcome)),
        value: r,
    }
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}

/// A look-up that answers `n` (or the database's error) and its row: esito 00, or the fault
/// TSG-0500 when its query failed.
fn lookup(
    sql: String,
    tx: Uuid,
) -> impl FnOnce(&mut PgConnection) -> Member<Result<i32, String>> + Send {
    move |c| {
        let r = diesel::sql_query(sql)
            .get_result::<N>(c)
            .map(|r| r.n)
            .map_err(|e| e.to_string());
        member(r, tx)
    }
}

async fn start(db: &TestDb, kind: Kind, threads: usize) -> Batches {
    start_with(db, kind, threads, Arc::new(tsgate::metrics::Metrics::new()))
}

fn start_with(
    db: &TestDb,
    kind: Kind,
    threads: usize,
    metrics: Arc<tsgate::metrics::Metrics>,
) -> Batches {
    let pool = tsgate::db::connect(&db.url, 4, Duration::from_secs(5)).unwrap();
    Batches::start(kind, pool, metrics, threads, 100).unwrap()
}

/// The number of batches and of their members, from the gateway's metrics.
fn batch_sizes(metrics: &tsgate::metrics::Metrics) -> (String, String) {
    let text = metrics.render();
    let value = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or("")
            .to_owned()
    };
    (
        value("tsgate_access_log_batch_size_count"),
        value("tsgate_access_log_batch_size_sum"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_share_a_batch_and_a_failing_one_touches_no_other() {
    let db = TestDb::new().await;
    let batches = start(&db, Kind::Lookups, 1).await;
    // The one thread is held by a slow look-up while the others queue behind it.
    let slow_tx = Uuid::now_v7();
    let slow = tokio::spawn({
        let b = batches.clone();
        async move {
            b.run(lookup("SELECT 7 AS n FROM pg_sleep(0.5)".into(), slow_tx))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut queued = Vec::new();
    for i in 0..10 {
        let tx = Uuid::now_v7();
        // The fifth member's query fails in the database.
        let sql = if i == 4 {
            "SELECT n FROM no_such_table".to_owned()
        } else {
            format!("SELECT {i} AS n")
        };
        let b = batches.clone();
        queued.push((
            i,
            tx,
            tokio::spawn(async move { b.run(lookup(sql, tx)).await }),
        ));
    }
    assert_eq!(slow.await.unwrap().unwrap(), Ok(7));
    let mut ids = Vec::new();
    for (i, tx, task) in queued {
        let answer = task.await.unwrap().expect("committed");
        if i == 4 {
            assert!(
                answer.as_ref().is_err_and(|e| e.contains("no_such_table")),
                "{answer:?}"
            );
        } else {
            assert_eq!(answer, Ok(i));
        }
        ids.push(format!("'{tx}'"));
    }
    let ids = ids.join(",");
    // Every member's row, the failing one's with its fault, all from one INSERT (one xmin).
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM access_log WHERE identificativo_transazione IN ({ids}) \
                 AND esito = '00'"
            )
        ),
        9
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM access_log WHERE identificativo_transazione IN ({ids}) \
                 AND codice_errore = 'TSG-0500' AND esito IS NULL"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(DISTINCT xmin::text) AS n FROM access_log \
                 WHERE identificativo_transazione IN ({ids})"
            )
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_killed_mid_batch_loses_no_answered_request() {
    let db = TestDb::new().await;
    let batches = start(&db, Kind::Lookups, 1).await;
    // The batch's connection is terminated while its first member runs.
    let slow = tokio::spawn({
        let b = batches.clone();
        async move {
            b.run(lookup(
                "SELECT 1 AS n FROM pg_sleep(1)".into(),
                Uuid::now_v7(),
            ))
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut queued = Vec::new();
    for i in 0..5 {
        let tx = Uuid::now_v7();
        let b = batches.clone();
        queued.push((
            tx,
            tokio::spawn(async move { b.run(lookup(format!("SELECT {i} AS n"), tx)).await }),
        ));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(terminate(&db, "SELECT 1 AS n FROM pg_sleep%"), 1);
    // The killed member failed; whoever was answered has its row.
    let slow = slow.await.unwrap();
    assert!(
        slow.as_ref().map_or(true, |r| r.is_err()),
        "the killed look-up answered {slow:?}"
    );
    let mut answered = 0;
    for (tx, task) in queued {
        if task.await.unwrap().is_ok() {
            answered += 1;
            assert_eq!(
                count(
                    &db,
                    &format!(
                        "SELECT count(*) AS n FROM access_log WHERE identificativo_transazione = '{tx}'"
                    )
                ),
                1,
                "answered without its row"
            );
        }
    }
    // The batch goes on after the kill: the queued members are answered (their rows commit
    // on a fresh connection).
    assert_eq!(answered, 5);
    // And the thread serves the next batch.
    let tx = Uuid::now_v7();
    assert_eq!(
        batches
            .run(lookup("SELECT 3 AS n".into(), tx))
            .await
            .unwrap(),
        Ok(3)
    );
}

/// Through the SOAP port: a look-up's row is committed when its answer arrives, and a look-up
/// whose row cannot be committed is answered 503, never 00.
#[tokio::test(flavor = "multi_thread")]
async fn a_lookup_is_answered_only_once_its_row_is_committed() {
    let s = common::TestServer::start().await;
    let body = common::vafr_envelope("BNCGLI85L42H501P", None, None, None);
    let r = s.call("regione-lombardia", body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tx = common::xml_text(&r.body, "identificativoTransazione").expect("transaction id");
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) AS n FROM access_log WHERE identificativo_transazione = '{tx}' \
                 AND operazione = 'VerificaAssistitoFuoriRegione' AND esito = '00'"
            )
        ),
        1
    );
    // No partition for this month: every access-log insert fails.
    diesel::sql_query(
        "DO $$ BEGIN EXECUTE format('DROP TABLE access_log_%s', \
         to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$",
    )
    .execute(&mut s.db.connection())
    .expect("drop partition");
    let r = s.call("regione-lombardia", body).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(common::fault_code(&r).as_deref(), Some("TSG-0504"));
    s.stop().await;
}

/// Terminates the backends running a query like `pattern`; returns how many.
fn terminate(db: &TestDb, pattern: &str) -> i64 {
    count(
        db,
        &format!(
            "SELECT count(pg_terminate_backend(pid))::bigint AS n FROM pg_stat_activity \
             WHERE query LIKE '{pattern}' AND pid <> pg_backend_pid()"
        ),
    )
}

fn exec(db: &TestDb, sql: &str) {
    diesel::sql_query(sql)
        .execute(&mut db.connection())
        .unwrap();
}

/// A write: inserts `id` into `scritture` (a slow one first sleeps), its row 00, or TSG-0500
/// with its savepoint rolled back when the insert fails.
fn write(
    id: i32,
    sleep: f64,
    tx: Uuid,
) -> impl FnOnce(&mut PgConnection) -> Member<Result<(), String>> + Send {
    move |c| {
        let r = diesel::sql_query(format!(
            "INSERT INTO scritture SELECT {id} FROM pg_sleep({sleep})"
        ))
        .execute(c)
        .map(|_| ())
        .map_err(|e| e.to_string());
        member(r, tx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_rolls_back_its_savepoint_alone_and_the_batch_commits_together() {
    let db = TestDb::new().await;
    exec(&db, "CREATE TABLE scritture (id integer PRIMARY KEY)");
    let metrics = Arc::new(tsgate::metrics::Metrics::new());
    let batches = start_with(&db, Kind::Writes, 1, metrics.clone());
    let slow = tokio::spawn({
        let b = batches.clone();
        async move { b.run(write(100, 0.5, Uuid::now_v7())).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut queued = Vec::new();
    for i in 0..6 {
        let tx = Uuid::now_v7();
        // The fourth member inserts the slow write's id, committed before: a unique violation
        // whatever order the members reach the queue in.
        let id = if i == 3 { 100 } else { i };
        let b = batches.clone();
        queued.push((
            i,
            tx,
            tokio::spawn(async move { b.run(write(id, 0.0, tx)).await }),
        ));
    }
    assert_eq!(slow.await.unwrap().unwrap(), Ok(()));
    let mut ids = Vec::new();
    for (i, tx, task) in queued {
        let answer = task.await.unwrap().expect("committed");
        if i == 3 {
            assert!(answer.is_err_and(|e| e.contains("duplicate key")));
        } else {
            assert_eq!(answer, Ok(()));
        }
        ids.push(format!("'{tx}'"));
    }
    let ids = ids.join(",");
    // The five other writes stored, the failing one's rolled back, every row committed; the
    // queued members made one batch (one transaction) after the slow one's.
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM scritture WHERE id < 100"),
        5
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM access_log WHERE identificativo_transazione IN ({ids}) \
                 AND (esito = '00' OR codice_errore = 'TSG-0500')"
            )
        ),
        6
    );
    assert_eq!(batch_sizes(&metrics), ("2".into(), "7.0".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_batch_killed_before_its_commit_stores_nothing_and_answers_no_member() {
    let db = TestDb::new().await;
    exec(&db, "CREATE TABLE scritture (id integer PRIMARY KEY)");
    let batches = start(&db, Kind::Writes, 1).await;
    // The thread is held by a first batch while the two members of the next one queue: a
    // quick write, then a slow one, the connection terminated during the second.
    let blocker = tokio::spawn({
        let b = batches.clone();
        async move { b.run(write(100, 0.3, Uuid::now_v7())).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut members = Vec::new();
    for (id, sleep) in [(1, 0.0), (2, 1.5)] {
        let tx = Uuid::now_v7();
        let b = batches.clone();
        members.push((
            tx,
            tokio::spawn(async move { b.run(write(id, sleep, tx)).await }),
        ));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(blocker.await.unwrap().unwrap(), Ok(()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(terminate(&db, "INSERT INTO scritture SELECT 2 %"), 1);
    for (tx, task) in members {
        let answer = task.await.unwrap();
        assert!(
            answer.is_err(),
            "a member of the killed batch was answered: {answer:?}"
        );
        assert_eq!(
            count(
                &db,
                &format!(
                    "SELECT count(*) AS n FROM access_log WHERE identificativo_transazione = '{tx}'"
                )
            ),
            0
        );
    }
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM scritture WHERE id < 100"),
        0
    );
    // The next batch is served, on a fresh connection.
    assert_eq!(
        batches.run(write(3, 0.0, Uuid::now_v7())).await.unwrap(),
        Ok(())
    );
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM scritture WHERE id < 100"),
        1
    );
}
