//! Load benchmark: one SOAP operation end to end over mutual TLS with keep-alive connections,
//! every request logged durably, on this machine's loopback.
//!
//!     cargo bench --bench soap_load
//!     TSGATE_BENCH_OPERATION=TrasmissionePrenotazione cargo bench --bench soap_load
//!     TSGATE_BENCH_OPERATION=VerificaRinnovoCertificato cargo bench --bench soap_load
//!
//! VerificaAssistitoFuoriRegione (the default) reads, and its rows share commits (group
//! commit). TrasmissionePrenotazione writes: each connection books one demo patient, then
//! changes the booking's date on every request (a locked patient row, an update and the log row
//! in one transaction per request). VerificaRinnovoCertificato reads a TS-CNS card's state
//! (card, series, certificate, revocation, renewal and the extension rule in one query).
//! TSGATE_BENCH_SECONDS (default 10) and TSGATE_BENCH_CONNECTIONS (default 32) tune the run;
//! the database server is TSGATE_TEST_DATABASE_URL (default the local PostgreSQL). The client
//! runs in the same process and shares the two cores with the server and PostgreSQL.
//! TSGATE_BENCH_AGGREGATI=confronto alternates rounds with and without the trigger that keeps
//! the monitoring aggregates (TSGATE_BENCH_ROUNDS, default 6) and prints what they cost.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds = env_or("TSGATE_BENCH_SECONDS", 10);
    let connections = env_or("TSGATE_BENCH_CONNECTIONS", 32) as usize;
    let operation =
        std::env::var("TSGATE_BENCH_OPERATION").unwrap_or("VerificaAssistitoFuoriRegione".into());
    let (writes, tscns) = match operation.as_str() {
        "VerificaAssistitoFuoriRegione" => (false, false),
        "TrasmissionePrenotazione" => (true, false),
        "VerificaRinnovoCertificato" => (false, true),
        other => panic!(
            "TSGATE_BENCH_OPERATION={other}: VerificaAssistitoFuoriRegione, \
             TrasmissionePrenotazione or VerificaRinnovoCertificato"
        ),
    };
    let mut callers = vec![
        caller(
            "regione-lombardia",
            "REGIONE",
            Some("030"),
            &["VerificaAssistitoFuoriRegione"],
            &["127.0.0.0/8"],
        ),
        caller(
            "avn",
            "AVN",
            None,
            &["TrasmissionePrenotazione"],
            &["127.0.0.0/8"],
        ),
        caller(
            "cms-lombardia",
            "CMS",
            Some("030"),
            &["VerificaRinnovoCertificato"],
            &["127.0.0.0/8"],
        ),
    ];
    for c in &mut callers {
        c.limite_al_secondo = 1_000_000;
        c.limite_raffica = 1_000_000;
    }
    let server = TestServer::start_with(callers, |c| {
        c.database.pool_size = 16;
        c.log.level = "warn".into();
    })
    .await;
    let registry_size = env_or("TSGATE_BENCH_ASSISTITI", 500_000);
    grow_registry(&server, registry_size);
    let verifica_rinnovo = Op::tscns("VerificaRinnovoCertificato", "verificaRinnovoCertificato");
    let (client, path, action) = if tscns {
        (
            server.client("cms-lombardia"),
            verifica_rinnovo.path(),
            verifica_rinnovo.action(),
        )
    } else if writes {
        (
            server.client("avn"),
            PRENOTAZIONE.path(),
            PRENOTAZIONE.action(),
        )
    } else {
        let op = Op::new(
            "VerificaAssistitoFuoriRegione",
            "verificaAssistitoFuoriRegione",
        );
        (server.client("regione-lombardia"), op.path(), op.action())
    };
    let patients = demo_patients(&server, connections);
    // The body of request `n` of connection `w`: a booking insert first, then date changes.
    let body = move |w: usize, n: u64| -> bytes::Bytes {
        if tscns {
            return bytes::Bytes::from(verifica_rinnovo.envelope(&[
                ("numeroTessera", "80380030009000000001"),
                ("serialeCertificato", "5A3F0001"),
            ]));
        }
        if !writes {
            return bytes::Bytes::from(vafr_envelope(
                "BNCGLI85L42H501P",
                Some("80380120000000000002"),
                Some("2028-01-31"),
                None,
            ));
        }
        let data =
            chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date") + chrono::Days::new(n % 300);
        let data = data.to_string();
        let tipo = if n == 0 { "I" } else { "V" };
        bytes::Bytes::from(PRENOTAZIONE.envelope(&[
            ("tipoOperazione", tipo),
            ("codiceRegione", "030"),
            ("identificativoAssistito", &patients[w % patients.len()]),
            ("regionePrenotazione", "030"),
            ("dataPrenotazione", &data),
            ("dose", "1"),
        ]))
    };
    let body: Body = std::sync::Arc::new(body);

    // Warm-up: connections, pool, caches (and, for the bookings, the first insert).
    let mut conns = Vec::new();
    for w in 0..connections {
        let mut c = client.connect().await.expect("connect");
        let r = c.soap(&path, &action, body(w, 0)).await.expect("warm-up");
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            xml_text(&r.body, "esito").as_deref(),
            Some("00"),
            "{}",
            r.body
        );
        conns.push(c);
    }
    // TSGATE_BENCH_AGGREGATI=confronto: rounds with and without the monitoring trigger, in
    // turn (with, without, with, without…), on the same connections, to measure what keeping the
    // aggregates costs; otherwise one round as deployed (with it).
    let confronto = std::env::var("TSGATE_BENCH_AGGREGATI").is_ok_and(|v| v == "confronto");
    let rounds: Vec<bool> = if confronto {
        (0..env_or("TSGATE_BENCH_ROUNDS", 6))
            .map(|i| i % 2 == 0)
            .collect()
    } else {
        vec![true]
    };
    println!(
        "soap_load: {operation} over mTLS, {connections} keep-alive connections, {seconds} s a round, \
         registry of {registry_size} assistiti"
    );
    let mut per_modo: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for con_aggregati in rounds {
        set_trigger(&server, con_aggregati);
        let warm_rows = access_log_count(&server);
        let (back, mut all, errors, elapsed) =
            round(conns, seconds, body.clone(), &path, &action).await;
        conns = back;
        all.sort_unstable();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        let logged = access_log_count(&server) - warm_rows;
        let rate = all.len() as f64 / elapsed;
        per_modo[usize::from(con_aggregati)].push(rate);
        println!(
            "  round {} monitoring aggregates",
            if con_aggregati { "with   " } else { "without" }
        );
        println!("    requests ok     {}", all.len());
        println!("    errors          {errors}");
        println!("    throughput      {rate:.0} requests/s");
        println!("    latency p50     {:.2} ms", pct(0.50) as f64 / 1000.0);
        println!("    latency p99     {:.2} ms", pct(0.99) as f64 / 1000.0);
        println!(
            "    latency max     {:.2} ms",
            all.last().copied().unwrap_or(0) as f64 / 1000.0
        );
        println!(
            "    rows committed  {logged} (every answered request has its row: {})",
            logged as usize == all.len()
        );
    }
    set_trigger(&server, true);
    if confronto {
        let media = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (con, senza) = (media(&per_modo[1]), media(&per_modo[0]));
        println!(
            "  aggregates cost  {:.1} % of the throughput (mean {con:.0} with, {senza:.0} without)",
            (senza - con) * 100.0 / senza
        );
    }
    let metrics = server.state().metrics.render();
    if let Some(line) = metrics
        .lines()
        .find(|l| l.starts_with("tsgate_access_log_batch_size_sum"))
    {
        let batches = metrics
            .lines()
            .find(|l| l.starts_with("tsgate_access_log_batch_size_count"))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(1.0);
        let sum: f64 = line
            .split_whitespace()
            .last()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        if batches > 0.0 {
            println!(
                "  rows per commit {:.1} (mean over {batches} batches)",
                sum / batches
            );
        } else {
            println!("  rows per commit 1 (each row commits with its booking)");
        }
    }
    server.stop().await;
}

/// Enables or disables the trigger that keeps the monitoring aggregates.
fn set_trigger(server: &TestServer, on: bool) {
    use diesel::connection::SimpleConnection;
    let verb = if on { "ENABLE" } else { "DISABLE" };
    server
        .db
        .connection()
        .batch_execute(&format!(
            "ALTER TABLE access_log {verb} TRIGGER access_log_monitoraggio"
        ))
        .expect("trigger");
}

type Body = std::sync::Arc<dyn Fn(usize, u64) -> bytes::Bytes + Send + Sync>;

/// One timed round on `conns`: every connection sends requests until the deadline. Returns
/// the connections, the latencies (µs) of the answers 00, the errors and the seconds taken.
async fn round(
    conns: Vec<common::client::Conn>,
    seconds: u64,
    body: Body,
    path: &str,
    action: &str,
) -> (Vec<common::client::Conn>, Vec<u32>, u64, f64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, mut c) in conns.into_iter().enumerate() {
        let (body, path, action) = (body.clone(), path.to_owned(), action.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut n = 1;
            while Instant::now() < deadline {
                let t = Instant::now();
                match c.soap(&path, &action, body(w, n)).await {
                    Ok(r) if r.status == 200 && r.body.contains(">00<") => {
                        latencies.push(t.elapsed().as_micros() as u32)
                    }
                    _ => errors += 1,
                }
                n += 1;
            }
            (c, latencies, errors)
        }));
    }
    let mut back = Vec::new();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (c, l, e) = t.await.expect("worker");
        back.push(c);
        all.extend(l);
        errors += e;
    }
    (back, all, errors, started.elapsed().as_secs_f64())
}

/// Valid codici fiscali of the demo registry, one per connection where there are enough.
fn demo_patients(server: &TestServer, n: usize) -> Vec<String> {
    use diesel::prelude::*;
    use tsgate::db::schema::assistito::dsl as a;
    let mut conn = server.db.connection();
    a::assistito
        .select(a::codice_fiscale)
        .filter(a::codice_fiscale.not_like("ZZZ%"))
        .order(a::codice_fiscale)
        .limit(n as i64)
        .load(&mut conn)
        .expect("patients")
}

/// A registry of production size, so the planner picks the plans production gets.
fn grow_registry(server: &TestServer, n: u64) {
    use diesel::connection::SimpleConnection;
    let mut conn = server.db.connection();
    conn.batch_execute(&format!(
        "INSERT INTO assistito (codice_fiscale, cognome, nome, regione_assistenza, asl_assistenza, regione_residenza, identificativo_cluster) \
         SELECT 'ZZZBEN' || lpad(i::text, 10, '0'), 'Bench', 'Bench', '120', '001', '120', 'POP_16_59' FROM generate_series(1, {n}) i; \
         INSERT INTO tessera_sanitaria (numero, codice_fiscale, data_scadenza) \
         SELECT '9' || lpad(i::text, 19, '0'), 'ZZZBEN' || lpad(i::text, 10, '0'), DATE '2030-01-01' FROM generate_series(1, {n}) i; \
         ANALYZE assistito, tessera_sanitaria;"
    ))
    .expect("registry");
}

fn access_log_count(server: &TestServer) -> u64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = server.db.connection();
    diesel::sql_query("SELECT count(*) AS n FROM access_log")
        .get_result::<N>(&mut conn)
        .expect("count")
        .n as u64
}
