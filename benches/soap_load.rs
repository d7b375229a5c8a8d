//! Load benchmark: one SOAP operation end to end over mutual TLS, every request logged durably,
//! on this machine's loopback, the load sent from a separate process.
//!
//!     cargo bench --bench soap_load
//!     TSGATE_BENCH_OPERATION=TrasmissionePrenotazione cargo bench --bench soap_load
//!     TSGATE_BENCH_OPERATION=VerificaSomministrazioni cargo bench --bench soap_load
//!     TSGATE_BENCH_OPERATION=VerificaRinnovoCertificato cargo bench --bench soap_load
//!     TSGATE_BENCH_HANDSHAKE=1 cargo bench --bench soap_load
//!     TSGATE_BENCH_IDLE=10000 cargo bench --bench soap_load
//!
//! The gateway runs in this process; the load generator is this same executable started again
//! as a child (`TSGATE_BENCH_ROLE=carico`), so the client's CPU is not the gateway's and the
//! gateway's CPU per request can be read from /proc, PostgreSQL's from its processes.
//!
//! VerificaAssistitoFuoriRegione (the default) reads, and its rows share commits (group
//! commit); VerificaSomministrazioni reads a patient's administrations. TrasmissionePrenotazione
//! writes: each connection books one demo patient, then changes the booking's date on every
//! request (a locked patient row, an update and the log row in one transaction per request).
//! VerificaRinnovoCertificato reads a TS-CNS card's state (card, series, certificate,
//! revocation, renewal and the extension rule in one query).
//!
//! TSGATE_BENCH_HANDSHAKE=1 sends every request on a new connection (a full mTLS handshake, one
//! request, close): the figure is handshakes per second. TSGATE_BENCH_IDLE=N opens N more
//! keep-alive connections first (one request each, then idle, from 127.0.1.x source addresses,
//! at most 1,000 per address) and keeps them open during the load: it prints the gateway's
//! resident memory with them. Since `server.header_read_timeout_ms` also closes a keep-alive
//! connection idle that long (hyper's header timer runs while a connection waits for its next
//! request), the bench raises it to 15 minutes for that run.
//!
//! TSGATE_BENCH_SECONDS (default 10) and TSGATE_BENCH_CONNECTIONS (default 32) tune the run,
//! TSGATE_BENCH_LOOKUP_THREADS and TSGATE_BENCH_WRITE_THREADS the gateway's
//! `database.lookup_threads` and `database.write_threads`;
//! the database server is TSGATE_TEST_DATABASE_URL (default the local PostgreSQL).
//! TSGATE_BENCH_AGGREGATI=confronto alternates rounds with and without the triggers that keep
//! the monitoring aggregates (TSGATE_BENCH_ROUNDS, default 6) and prints what they cost.
//!
//! The last line, `TABELLA<TAB>…`, is the row `scripts/bench` puts in its table.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "misure.rs"]
mod misure;

use common::*;
use std::io::{BufRead, Write};
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
    if std::env::var("TSGATE_BENCH_ROLE").is_ok_and(|r| r == "carico") {
        runtime.block_on(carico::run());
    } else {
        runtime.block_on(run());
    }
}

/// What a request carries.
#[derive(Clone, Copy, PartialEq)]
enum Carico {
    Vafr,
    VerificaSomministrazioni,
    Prenotazione,
    Tscns,
}

impl Carico {
    fn parse(operation: &str) -> Self {
        match operation {
            "VerificaAssistitoFuoriRegione" => Self::Vafr,
            "VerificaSomministrazioni" => Self::VerificaSomministrazioni,
            "TrasmissionePrenotazione" => Self::Prenotazione,
            "VerificaRinnovoCertificato" => Self::Tscns,
            other => panic!(
                "TSGATE_BENCH_OPERATION={other}: VerificaAssistitoFuoriRegione, \
                 VerificaSomministrazioni, TrasmissionePrenotazione or VerificaRinnovoCertificato"
            ),
        }
    }

    fn op(self) -> Op {
        match self {
            Self::Vafr => Op::new(
                "VerificaAssistitoFuoriRegione",
                "verificaAssistitoFuoriRegione",
            ),
            Self::VerificaSomministrazioni => VERIFICA_SOMMINISTRAZIONI,
            Self::Prenotazione => PRENOTAZIONE,
            Self::Tscns => Op::tscns("VerificaRinnovoCertificato", "verificaRinnovoCertificato"),
        }
    }

    fn certificate(self) -> &'static str {
        match self {
            Self::Vafr | Self::VerificaSomministrazioni => "regione-lombardia",
            Self::Prenotazione => "avn",
            Self::Tscns => "cms-lombardia",
        }
    }

    /// The body of request `n` of connection `w`: for the bookings, an insert first, then date
    /// changes.
    fn body(self, patients: &[String], w: usize, n: u64) -> bytes::Bytes {
        let op = self.op();
        bytes::Bytes::from(match self {
            Self::Tscns => op.envelope(&[
                ("numeroTessera", "80380030009000000001"),
                ("serialeCertificato", "5A3F0001"),
            ]),
            Self::Vafr => vafr_envelope(
                "BNCGLI85L42H501P",
                Some("80380120000000000002"),
                Some("2028-01-31"),
                None,
            ),
            Self::VerificaSomministrazioni => op.envelope(&[
                ("codiceFiscale", "BNCGLI85L42H501P"),
                ("numeroTessera", "80380120000000000002"),
            ]),
            Self::Prenotazione => {
                let data = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date")
                    + chrono::Days::new(n % 300);
                let data = data.to_string();
                let tipo = if n == 0 { "I" } else { "V" };
                op.envelope(&[
                    ("tipoOperazione", tipo),
                    ("codiceRegione", "030"),
                    ("identificativoAssistito", &patients[w % patients.len()]),
                    ("regionePrenotazione", "030"),
                    ("dataPrenotazione", &data),
                    ("dose", "1"),
                ])
            }
        })
    }
}

async fn run() {
    let seconds = env_or("TSGATE_BENCH_SECONDS", 10);
    let connections = env_or("TSGATE_BENCH_CONNECTIONS", 32) as usize;
    let idle = env_or("TSGATE_BENCH_IDLE", 0) as usize;
    let handshake = env_or("TSGATE_BENCH_HANDSHAKE", 0) == 1;
    let operation =
        std::env::var("TSGATE_BENCH_OPERATION").unwrap_or("VerificaAssistitoFuoriRegione".into());
    let carico = Carico::parse(&operation);
    let mut callers = vec![
        caller(
            "regione-lombardia",
            "REGIONE",
            Some("030"),
            &["VerificaAssistitoFuoriRegione", "VerificaSomministrazioni"],
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
        if idle > 0 {
            // The header read timeout also closes a keep-alive connection idle that long.
            c.server.header_read_timeout_ms = 900_000;
        }
        if let Ok(Ok(n)) = std::env::var("TSGATE_BENCH_LOOKUP_THREADS").map(|v| v.parse()) {
            c.database.lookup_threads = n;
        }
        if let Ok(Ok(n)) = std::env::var("TSGATE_BENCH_WRITE_THREADS").map(|v| v.parse()) {
            c.database.write_threads = n;
        }
    })
    .await;
    let registry_size = env_or("TSGATE_BENCH_ASSISTITI", 500_000);
    grow_registry(&server, registry_size);
    let patients = demo_patients(&server, connections);
    let rss_before = misure::rss_kib("self");

    let (cert, key) = server.pki.client_paths(carico.certificate());
    let mut child = std::process::Command::new(std::env::current_exe().expect("own executable"))
        .env("TSGATE_BENCH_ROLE", "carico")
        .env("TSGATE_CARICO_ADDR", server.addr().to_string())
        .env("TSGATE_CARICO_CA", server.pki.ca_pem_path())
        .env("TSGATE_CARICO_CERT", cert)
        .env("TSGATE_CARICO_KEY", key)
        .env("TSGATE_CARICO_OPERATION", &operation)
        .env("TSGATE_CARICO_CONNECTIONS", connections.to_string())
        .env("TSGATE_CARICO_SECONDS", seconds.to_string())
        .env("TSGATE_CARICO_IDLE", idle.to_string())
        .env("TSGATE_CARICO_HANDSHAKE", u8::from(handshake).to_string())
        .env("TSGATE_CARICO_ASSISTITI", patients.join(","))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("load generator");
    let mut to_child = child.stdin.take().expect("stdin");
    let mut from_child = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next_line = move || {
        from_child
            .next()
            .and_then(Result::ok)
            .expect("the load generator ended early")
    };
    // Warm-up (connections, pool, caches and, for the bookings, the first insert), then the
    // idle connections, both in the child.
    let ready = tokio::task::block_in_place(&mut next_line);
    assert_eq!(ready, "PRONTO", "load generator: {ready}");
    let rss_idle = misure::rss_kib("self");

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
    let how = if handshake {
        "a new connection (full mTLS handshake) per request".to_owned()
    } else {
        format!("{connections} keep-alive connections")
    };
    println!(
        "soap_load: {operation} over mTLS, {how}, {seconds} s a round, registry of \
         {registry_size} assistiti, load from a separate process (pid {})",
        child.id()
    );
    if idle > 0 {
        println!(
            "  idle connections {idle} more, open during the load: gateway RSS {:.0} MiB before \
             them, {:.0} MiB with them ({:.1} KiB each)",
            rss_before as f64 / 1024.0,
            rss_idle as f64 / 1024.0,
            (rss_idle.saturating_sub(rss_before)) as f64 / idle as f64
        );
    }
    let mut per_modo: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut riga = Vec::new();
    for con_aggregati in rounds {
        set_trigger(&server, con_aggregati);
        let warm_rows = access_log_count(&server);
        let (cpu_self, cpu_pg) = (misure::cpu_ticks_self(), misure::cpu_ticks_postgres());
        writeln!(to_child, "ROUND").expect("to the load generator");
        to_child.flush().expect("to the load generator");
        let line = tokio::task::block_in_place(&mut next_line);
        let r = Round::parse(&line);
        let cpu_self = misure::cpu_ticks_self() - cpu_self;
        let cpu_pg = misure::cpu_ticks_postgres() - cpu_pg;
        let logged = access_log_count(&server) - warm_rows;
        let rate = r.ok as f64 / r.elapsed;
        per_modo[usize::from(con_aggregati)].push(rate);
        let per_request = |ticks: u64| ticks as f64 * misure::MICROS_PER_TICK / r.ok.max(1) as f64;
        let (rss, peak) = (misure::rss_kib("self"), misure::peak_rss_kib());
        println!(
            "  round {} monitoring aggregates",
            if con_aggregati { "with   " } else { "without" }
        );
        println!("    requests ok     {}", r.ok);
        println!("    errors          {}", r.errors);
        println!(
            "    throughput      {rate:.0} {}/s",
            if handshake { "handshakes" } else { "requests" }
        );
        println!("    latency p50     {:.2} ms", r.p50_us as f64 / 1000.0);
        println!("    latency p99     {:.2} ms", r.p99_us as f64 / 1000.0);
        println!("    latency max     {:.2} ms", r.max_us as f64 / 1000.0);
        println!(
            "    CPU per request {:.0} µs gateway, {:.0} µs PostgreSQL",
            per_request(cpu_self),
            per_request(cpu_pg)
        );
        println!(
            "    rows committed  {logged} (every answered request has its row: {})",
            logged == r.ok
        );
        println!(
            "    gateway RSS     {:.0} MiB (peak {:.0} MiB)",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        );
        let mut nome = operation.clone();
        if handshake {
            nome.push_str(" (handshake per request)");
        }
        if idle > 0 {
            nome.push_str(&format!(" (+{idle} idle)"));
        }
        riga = vec![
            nome,
            format!("{rate:.0}"),
            format!("{:.2}", r.p50_us as f64 / 1000.0),
            format!("{:.2}", r.p99_us as f64 / 1000.0),
            format!("{:.0}", per_request(cpu_self)),
            format!("{:.0}", per_request(cpu_pg)),
            format!("{logged} = {}: {}", r.ok, logged == r.ok),
            format!("{:.0}", peak as f64 / 1024.0),
        ];
    }
    drop(to_child);
    let _ = child.wait();
    set_trigger(&server, true);
    if confronto {
        let media = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (con, senza) = (media(&per_modo[1]), media(&per_modo[0]));
        println!(
            "  aggregates cost  {:.1} % of the throughput (mean {con:.0} with, {senza:.0} without)",
            (senza - con) * 100.0 / senza
        );
    }
    print_rows_per_commit(&server);
    server.stop().await;
    misure::tabella(&riga);
}

/// The group commit's mean batch, from the gateway's own metrics.
fn print_rows_per_commit(server: &TestServer) {
    let metrics = server.state().metrics.render();
    let value = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
    };
    if let (Some(sum), Some(batches)) = (
        value("tsgate_access_log_batch_size_sum"),
        value("tsgate_access_log_batch_size_count"),
    ) {
        if batches > 0.0 {
            println!(
                "  rows per commit {:.1} (mean over {batches} batches)",
                sum / batches
            );
        } else {
            println!("  rows per commit 1 (each row commits with its booking)");
        }
    }
}

/// What the load generator reports for one round.
struct Round {
    ok: u64,
    errors: u64,
    elapsed: f64,
    p50_us: u32,
    p99_us: u32,
    max_us: u32,
}

impl Round {
    fn line(&self) -> String {
        format!(
            "ROUND {} {} {} {} {} {}",
            self.ok, self.errors, self.elapsed, self.p50_us, self.p99_us, self.max_us
        )
    }

    fn parse(line: &str) -> Self {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(f.len() == 7 && f[0] == "ROUND", "load generator: {line}");
        let n = |i: usize| f[i].parse::<f64>().expect("a number");
        Self {
            ok: n(1) as u64,
            errors: n(2) as u64,
            elapsed: n(3),
            p50_us: n(4) as u32,
            p99_us: n(5) as u32,
            max_us: n(6) as u32,
        }
    }
}

/// The load generator: the child process. Opens the connections, warms them up, opens the idle
/// ones, says `PRONTO`, then runs one round per `ROUND` line on its input until that closes.
mod carico {
    use super::*;

    fn var(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
    }

    pub async fn run() {
        let addr: std::net::SocketAddr = var("TSGATE_CARICO_ADDR").parse().expect("address");
        let client = client::Client::new(
            addr,
            var("TSGATE_CARICO_CA").as_ref(),
            Some((
                var("TSGATE_CARICO_CERT").into(),
                var("TSGATE_CARICO_KEY").into(),
            )),
        );
        let carico = Carico::parse(&var("TSGATE_CARICO_OPERATION"));
        let connections: usize = var("TSGATE_CARICO_CONNECTIONS").parse().expect("number");
        let seconds: u64 = var("TSGATE_CARICO_SECONDS").parse().expect("number");
        let idle: usize = var("TSGATE_CARICO_IDLE").parse().expect("number");
        let handshake = var("TSGATE_CARICO_HANDSHAKE") == "1";
        let patients: Vec<String> = var("TSGATE_CARICO_ASSISTITI")
            .split(',')
            .map(str::to_owned)
            .collect();
        let (path, action) = (carico.op().path(), carico.op().action());
        let mut conns = Vec::new();
        for w in 0..connections {
            let mut c = client.connect().await.expect("connect");
            let r = c
                .soap(&path, &action, carico.body(&patients, w, 0))
                .await
                .expect("warm-up");
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(
                xml_text(&r.body, "esito").as_deref(),
                Some("00"),
                "{}",
                r.body
            );
            conns.push(c);
        }
        let _idle = open_idle(&client, carico, &patients, idle).await;
        println!("PRONTO");
        let mut input = std::io::stdin().lock().lines();
        while let Some(Ok(line)) = tokio::task::block_in_place(|| input.next()) {
            if line != "ROUND" {
                continue;
            }
            let (back, latencies, errors, elapsed) =
                round(&client, conns, seconds, carico, &patients, handshake).await;
            conns = back;
            println!("{}", summary(latencies, errors, elapsed).line());
        }
    }

    /// `n` connections from 127.0.1.x (at most 1,000 per address), one request each, then left
    /// idle; concurrently, a few hundred handshakes at a time.
    async fn open_idle(
        client: &client::Client,
        carico: Carico,
        patients: &[String],
        n: usize,
    ) -> Vec<client::Conn> {
        let (path, action) = (carico.op().path(), carico.op().action());
        let mut open = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
            let mut tasks = Vec::new();
            for &i in chunk {
                let client = client
                    .clone()
                    .bound_to(&format!("127.0.1.{}", 1 + i / 1000));
                let (path, action) = (path.clone(), action.clone());
                let body = carico.body(patients, 0, 1 + i as u64);
                tasks.push(tokio::spawn(async move {
                    let mut c = client.connect().await.expect("idle connect");
                    let r = c.soap(&path, &action, body).await.expect("idle request");
                    assert_eq!(r.status, 200, "{}", r.body);
                    c
                }));
            }
            for t in tasks {
                open.push(t.await.expect("idle task"));
            }
        }
        open
    }

    fn summary(mut all: Vec<u32>, errors: u64, elapsed: f64) -> Round {
        all.sort_unstable();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        Round {
            ok: all.len() as u64,
            errors,
            elapsed,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            max_us: all.last().copied().unwrap_or(0),
        }
    }

    /// One timed round on `conns`: every connection sends requests until the deadline (with
    /// `handshake`, each on a new connection). Returns the connections, the latencies (µs) of
    /// the answers 00, the errors and the seconds taken.
    async fn round(
        client: &client::Client,
        conns: Vec<client::Conn>,
        seconds: u64,
        carico: Carico,
        patients: &[String],
        handshake: bool,
    ) -> (Vec<client::Conn>, Vec<u32>, u64, f64) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        let (path, action) = (carico.op().path(), carico.op().action());
        for (w, mut c) in conns.into_iter().enumerate() {
            let (path, action, client) = (path.clone(), action.clone(), client.clone());
            let patients = patients.to_vec();
            tasks.push(tokio::spawn(async move {
                let mut latencies: Vec<u32> = Vec::with_capacity(100_000);
                let mut errors = 0u64;
                let mut n = 1;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let body = carico.body(&patients, w, n);
                    let reply = if handshake {
                        client.soap(&path, &action, body).await
                    } else {
                        c.soap(&path, &action, body).await
                    };
                    match reply {
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
}

/// Enables or disables the triggers that keep the monitoring aggregates (the access log's,
/// and the bookings' and administrations').
fn set_trigger(server: &TestServer, on: bool) {
    use diesel::connection::SimpleConnection;
    let verb = if on { "ENABLE" } else { "DISABLE" };
    let mut sql = format!("ALTER TABLE access_log {verb} TRIGGER access_log_monitoraggio;");
    for table in ["prenotazione", "somministrazione"] {
        for what in ["ins", "upd", "del"] {
            sql.push_str(&format!(
                "ALTER TABLE {table} {verb} TRIGGER {table}_monitoraggio_{what};"
            ));
        }
    }
    server.db.connection().batch_execute(&sql).expect("trigger");
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
