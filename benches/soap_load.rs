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
    let body = std::sync::Arc::new(body);

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
    let warm_rows = access_log_count(&server);

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, mut c) in conns.into_iter().enumerate() {
        let (body, path, action) = (body.clone(), path.clone(), action.clone());
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
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("worker");
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let logged = access_log_count(&server) - warm_rows;
    println!(
        "soap_load: {operation} over mTLS, {connections} keep-alive connections, {seconds} s, \
         registry of {registry_size} assistiti"
    );
    println!("  requests ok     {}", all.len());
    println!("  errors          {errors}");
    println!(
        "  throughput      {:.0} requests/s",
        all.len() as f64 / elapsed
    );
    println!("  latency p50     {:.2} ms", pct(0.50) as f64 / 1000.0);
    println!("  latency p99     {:.2} ms", pct(0.99) as f64 / 1000.0);
    println!(
        "  latency max     {:.2} ms",
        all.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "  rows committed  {logged} (every answered request has its row: {})",
        logged as usize == all.len()
    );
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
