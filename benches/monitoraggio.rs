//! Monitoring reports at national scale: "with the aggregates of 12 months of traffic at 2
//! million calls a day across 21 regions, 200 callers and 2,000 IPs, every report answers in
//! ≤ 300 ms on this 2-core machine".
//!
//!     cargo bench --bench monitoraggio
//!     TSGATE_TEST_KEEP_DB=1 cargo bench --bench monitoraggio      # keep the generated database
//!     TSGATE_BENCH_DB_URL=postgres://postgres@127.0.0.1:5432/t_… cargo bench --bench monitoraggio
//!     TSGATE_BENCH_EXPLAIN=1 cargo bench --bench monitoraggio     # or =all
//!
//! What it generates, in a fresh database of the test harness (`TSGATE_TEST_DATABASE_URL`,
//! default the local PostgreSQL), with set-based SQL (`INSERT … SELECT … FROM generate_series`)
//! run on two connections: the aggregates a real year would leave, already merged
//! (`compattata`), for the 365 days (Europe/Rome) ending today, up to the current hour.
//! - 200 callers `bench-caller-NNN`: 190 regional ones round-robin over the 21 real regions
//!   (table `regione`, without the virtual one), 10 national ones (`regione` ''); each uses 2
//!   of the 4 operations (70 % / 30 %) and has 10 IPs `10.x.y.z` (2,000 in all), 3 of them
//!   active in any hour (rotating); 7 are in use from the first day, the others appear during
//!   the year, 8 of them in the last 5 days (the "new IP" flags).
//! - ≈2,000,000 calls a day: by hour of day (night low, peaks at 10 and 15), weekday (Saturday
//!   0.64×, Sunday 0.45× a weekday) and season (±10 %, an autumn peak), 15 % from the national
//!   callers, 85 % from the regions in proportion to their patients (Lombardia ≈80× Valle
//!   d'Aosta) and unevenly among a region's callers; Lazio (120) calls 4× its usual two days
//!   ago (a misuse flag). Esito '00' ≈90 %, '01' 8 %, refused ('' with TSG-0301) 2 %, present
//!   in one hour in five of each caller. Every (caller, active IP, operation, esito) of an
//!   hour has a row, of at least 1 call (≈2,500 rows an hour).
//! - `mon_traffico_ip` hourly rows (caller × active IP × operation × esito), `mon_traffico`
//!   the same without the IP; the daily, weekly and monthly grains are derived from the hourly
//!   rows with `GROUP BY mon_periodo(…)`, so every grain sums to the same calls. `mon_ip` is the
//!   first hour each (caller, IP) appears. `mon_vaccinazioni`: every day, 21 regions × 2 kinds
//!   × 2 channels × 3 operations, ≈500,000 records a day. `mon_assistiti`: patients per region
//!   (≈59 million). The migration's indexes are dropped during the load and rebuilt from their
//!   own definitions, then `VACUUM (ANALYZE)` (what autovacuum does after a bulk insert).
//!
//! A database from an earlier run (the table `bench_monitoraggio` says when it was generated
//! and which day was "today") is reused when `TSGATE_BENCH_DB_URL` points to it; the reports
//! are then asked as of that day. Keep one with `TSGATE_TEST_KEEP_DB=1` (the URL is printed).
//!
//! What it prints: the server's settings and load, the generation time per phase, rows and
//! calls per table and grain, the indexes of the aggregates; then each report through
//! `tsgate::monitoraggio::report` (the portal's path, with the pool's session limits), run once
//! to warm up and then 5 times: the rows of the report's tables, the time of its slowest query
//! in one more (captured) run (its main query), the median and maximum in ms and whether the median is within 300 ms
//! ("OVER BUDGET" otherwise). The reports are those of the issue (traffic by month, week, day
//! and hour, per region, operation, caller, IP, esito and error; the vaccination data; the
//! misuse flags, national and for region 120; a regional scope), then the widest requests the
//! limits allow (`Granularita::giorni_massimi`), apart. The bench measures: it exits 0 whatever it finds. With
//! `TSGATE_BENCH_EXPLAIN=1` it prints `EXPLAIN (ANALYZE, BUFFERS)` of the slowest report's main
//! query (`=all`: of every report's), its parameters written in.

#[path = "../tests/common/mod.rs"]
mod common;

use chrono::NaiveDate;
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Text};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tsgate::config::MonitoraggioConfig;
use tsgate::monitoraggio::{self, Ambito, Report, Richiesta, TipoReport};

const BUDGET_MS: f64 = 300.0;
const RUNS: usize = 5;
/// Connections that generate the data (one per core).
const WORKERS: usize = 2;
/// Days per generation job.
const GIORNI_PER_LOTTO: i64 = 14;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

#[derive(QueryableByName)]
struct Marcatore {
    #[diesel(sql_type = Date)]
    oggi: NaiveDate,
    #[diesel(sql_type = BigInt)]
    righe: i64,
}

/// The day the data of `url` end on, if a previous run filled it completely.
fn gia_generato(url: &str) -> Option<NaiveDate> {
    let mut conn = PgConnection::establish(url).ok()?;
    let m: Marcatore = diesel::sql_query(
        "SELECT oggi, (SELECT count(*) FROM mon_traffico)::int8 AS righe \
         FROM bench_monitoraggio WHERE completo LIMIT 1",
    )
    .get_result(&mut conn)
    .ok()?;
    (m.righe > 0).then_some(m.oggi)
}

async fn run() {
    let loadavg = || {
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let riuso = std::env::var("TSGATE_BENCH_DB_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let mut _db = None;
    let (url, oggi) = match riuso.as_deref().map(|u| (u, gia_generato(u))) {
        Some((u, Some(oggi))) => {
            println!("database: {u} (reused; data generated up to {oggi})");
            (u.to_owned(), oggi)
        }
        other => {
            if let Some((u, None)) = other {
                println!("database: {u} holds no complete bench data: generating a fresh one");
            }
            let db = common::TestDb::new().await;
            let url = db.url.clone();
            if std::env::var_os("TSGATE_TEST_KEEP_DB").is_some() {
                println!("database: {url} (kept: reuse with TSGATE_BENCH_DB_URL={url})");
            } else {
                println!(
                    "database: {url} (dropped at the end; TSGATE_TEST_KEEP_DB=1 keeps it for \
                     TSGATE_BENCH_DB_URL)"
                );
            }
            let oggi = genera(&url);
            _db = Some(db);
            (url, oggi)
        }
    };
    let pool = tsgate::db::connect(&url, 1, Duration::from_secs(30)).expect("pool");
    let mut conn = pool.get().expect("connection");
    stampa_ambiente(&mut conn, &loadavg());
    stampa_conteggi(&mut conn);
    stampa_indici(&mut conn);

    let cattura = Arc::new(Mutex::new(Cattura::default()));
    {
        let c = cattura.clone();
        conn.set_instrumentation(move |evento: InstrumentationEvent<'_>| {
            let mut c = c.lock().expect("capture");
            if !c.attiva {
                return;
            }
            match evento {
                InstrumentationEvent::StartQuery { query, .. } => {
                    c.corrente = Some((Instant::now(), query.to_string()));
                }
                InstrumentationEvent::FinishQuery { .. } => {
                    if let Some((t, sql)) = c.corrente.take() {
                        c.query.push((sql, t.elapsed()));
                    }
                }
                _ => {}
            }
        });
    }

    // Deltas the monitoring job has not moved yet, which every report reads too: a minute of
    // traffic far above the national peak (TSGATE_BENCH_DELTA rows, default 20,000).
    let delta: i64 = std::env::var("TSGATE_BENCH_DELTA")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(&format!(
            "TRUNCATE mon_delta; \
             INSERT INTO mon_delta (ora, operazione, chiamante, regione, ip_client, esito, codice_errore, \
                                    chiamate, durata_ms_somma, durata_ms_max) \
             SELECT date_trunc('hour', now(), 'UTC'), 'VerificaAssistitoFuoriRegione', \
                    'bench-caller-' || lpad((i % 200)::text, 3, '0'), '120', \
                    ('10.250.' || (i % 200) || '.' || (i % 10))::inet, '00', '', 3, 15, 9 \
             FROM generate_series(1, {delta}) i; ANALYZE mon_delta"
        ))
        .expect("pending deltas");
        println!("\npending deltas in mon_delta: {delta} rows");
    }
    let cfg = MonitoraggioConfig::default();
    println!(
        "\nreports as of {oggi} (warm-up run, then {RUNS} runs; budget {BUDGET_MS:.0} ms for the \
         median); load average {}",
        loadavg()
    );
    let mut risultati = Vec::new();
    for caso in casi(oggi) {
        risultati.push(misura(&mut conn, &cfg, &cattura, caso));
    }
    stampa_tabella(&risultati);

    let explain = std::env::var("TSGATE_BENCH_EXPLAIN").unwrap_or_default();
    let scelti: Vec<&Risultato> = match explain.as_str() {
        "1" => risultati
            .iter()
            .filter(|r| r.mediana.is_some())
            .max_by(|a, b| a.mediana.partial_cmp(&b.mediana).expect("ordered"))
            .into_iter()
            .collect(),
        "all" => risultati.iter().collect(),
        _ => Vec::new(),
    };
    cattura.lock().expect("capture").attiva = false;
    for r in scelti {
        spiega(&mut conn, r);
    }
    println!("\nload average at the end: {}", loadavg());
}

// ---------------------------------------------------------------------------------------------
// Generation.

/// Helper tables: the marker (which day is "today"), the regions with their patients, the
/// callers with their share of the calls, operations, IPs and when each IP comes into use, the
/// hours of the year with the national calls of each.
const PREPARA: &str = r"
TRUNCATE mon_traffico, mon_traffico_ip, mon_ip, mon_vaccinazioni;
DROP TABLE IF EXISTS bench_monitoraggio, bench_mon_regione, bench_mon_chiamante, bench_mon_ora,
    bench_mon_primo;
CREATE TABLE bench_monitoraggio (
    oggi         DATE             NOT NULL,
    inizio       TIMESTAMPTZ      NOT NULL,
    fine         TIMESTAMPTZ      NOT NULL,
    generato_il  TIMESTAMPTZ      NOT NULL DEFAULT now(),
    secondi      DOUBLE PRECISION,
    completo     BOOLEAN          NOT NULL DEFAULT FALSE
);
INSERT INTO bench_monitoraggio (oggi, inizio, fine)
SELECT d, (d - 364)::timestamp AT TIME ZONE 'Europe/Rome', date_trunc('hour', now()) + interval '1 hour'
FROM (SELECT (now() AT TIME ZONE 'Europe/Rome')::date AS d) x;

CREATE OR REPLACE FUNCTION bench_mon_rnd(x BIGINT) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (hashint8(x)::bigint & 1048575) / 1048576.0 $$;

CREATE TABLE bench_mon_regione AS
SELECT r.codice, (row_number() OVER (ORDER BY r.codice) - 1)::int AS idx,
       coalesce(a.assistiti, 1000000)::bigint AS assistiti
FROM regione r
LEFT JOIN (VALUES ('010', 4252000), ('020', 122000), ('030', 10020000), ('041', 536000),
                  ('042', 545000), ('050', 4851000), ('060', 1195000), ('070', 1508000),
                  ('080', 4437000), ('090', 3661000), ('100', 856000), ('110', 1484000),
                  ('120', 5715000), ('130', 1272000), ('140', 290000), ('150', 5593000),
                  ('160', 3922000), ('170', 537000), ('180', 1847000), ('190', 4814000),
                  ('200', 1578000)) a (codice, assistiti) ON a.codice = r.codice
WHERE NOT r.virtuale;

CREATE TABLE bench_mon_chiamante AS
WITH c AS (
    SELECT n, CASE WHEN n <= 190 THEN (n - 1) % (SELECT count(*) FROM bench_mon_regione) END AS idx,
           1 + n % 3 AS peso
    FROM generate_series(1, 200) n
), o AS (
    SELECT ARRAY['VerificaAssistitoFuoriRegione', 'VerificaSomministrazioni',
                 'TrasmissionePrenotazione', 'TrasmissioneSomministrazione'] AS nomi,
           ARRAY[35, 45, 80, 90] AS latenze
), i AS (
    SELECT n, array_agg(format('10.%s.%s.%s', n / 100, n % 100, 10 + j)::inet ORDER BY j) AS ips,
           array_agg(CASE
               WHEN j < 7 THEN b.inizio
               WHEN j = 9 AND n % 25 = 0
                   THEN ((b.oggi - (n / 25) % 5)::timestamp AT TIME ZONE 'Europe/Rome') + interval '8 hours'
               ELSE b.inizio + ((n * 53 + j * 97) % 330) * interval '1 day'
                    + ((n * 7 + j) % 24) * interval '1 hour'
           END ORDER BY j) AS attivo
    FROM generate_series(1, 200) n CROSS JOIN generate_series(0, 9) j CROSS JOIN bench_monitoraggio b
    GROUP BY n
)
SELECT c.n, format('bench-caller-%s', lpad(c.n::text, 3, '0')) AS nome,
       coalesce(r.codice, '') AS regione,
       o.nomi[c.n % 4 + 1] AS op1, o.latenze[c.n % 4 + 1] AS lat1,
       o.nomi[(c.n + 1) % 4 + 1] AS op2, o.latenze[(c.n + 1) % 4 + 1] AS lat2,
       CASE WHEN r.codice IS NULL THEN 0.15 / 10
            ELSE 0.85 * r.assistiti / (SELECT sum(assistiti) FROM bench_mon_regione)
                 * c.peso / sum(c.peso) OVER (PARTITION BY c.idx)
       END::double precision AS quota,
       i.ips, i.attivo
FROM c CROSS JOIN o JOIN i ON i.n = c.n LEFT JOIN bench_mon_regione r ON r.idx = c.idx;

CREATE TABLE bench_mon_ora AS
WITH p AS (
    SELECT ARRAY[0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.50, 1.20, 2.50, 3.60, 4.00, 3.90,
                 3.00, 2.60, 3.20, 3.60, 3.40, 2.80, 2.00, 1.30, 0.90, 0.60, 0.40, 0.25]::float8[] AS peso
)
SELECT (row_number() OVER (ORDER BY ts) - 1)::int AS h, ts,
       (ts AT TIME ZONE 'Europe/Rome')::date AS giorno,
       2000000.0 * p.peso[extract(hour FROM ts AT TIME ZONE 'Europe/Rome')::int + 1]
           / (SELECT sum(x) FROM unnest(p.peso) x)
           * CASE extract(isodow FROM ts AT TIME ZONE 'Europe/Rome') WHEN 6 THEN 0.7 WHEN 7 THEN 0.5 ELSE 1.1 END
           / (6.7 / 7)
           * (1 + 0.1 * cos(2 * pi() * (extract(doy FROM ts AT TIME ZONE 'Europe/Rome') - 319) / 365.25))
           AS volume
FROM bench_monitoraggio b CROSS JOIN p
CROSS JOIN generate_series(b.inizio, b.fine - interval '1 hour', interval '1 hour') ts;
CREATE INDEX ON bench_mon_ora (ts);
CREATE TABLE bench_mon_primo (chiamante TEXT, ip_client INET, regione TEXT, primo TIMESTAMPTZ);
ANALYZE bench_mon_regione, bench_mon_chiamante, bench_mon_ora;
";

/// One job: the days [`{lo}`, `{hi}`): the hourly rows per IP, and from them in the same
/// statement the hourly rows without IP, the daily rows with and without IP and the first hour
/// of each (caller, IP).
const LOTTO: &str = r"
WITH hc AS (
    SELECT o.h, o.ts, c.n, c.nome, c.regione, c.ips, c.attivo, c.op1, c.lat1, c.op2, c.lat2,
           o.volume * c.quota * (0.85 + 0.3 * bench_mon_rnd(o.h::int8 * 1000 + c.n))
               * CASE WHEN c.regione = '120' AND o.giorno = b.oggi - 2 THEN 4 ELSE 1 END AS v,
           (o.h + c.n * 3) % 5 = 0 AS con_errori,
           (o.h + c.n) % 10 AS j0, (o.h + c.n + 3) % 10 AS j1, (o.h + c.n + 7) % 10 AS j2
    FROM bench_monitoraggio b
    JOIN bench_mon_ora o ON o.ts >= ('{lo}'::date::timestamp AT TIME ZONE 'Europe/Rome')
                        AND o.ts < ('{hi}'::date::timestamp AT TIME ZONE 'Europe/Rome')
    CROSS JOIN bench_mon_chiamante c
), hq AS (
    SELECT hc.*,
           0.5 * (attivo[j0 + 1] <= ts)::int + 0.3 * (attivo[j1 + 1] <= ts)::int
               + 0.2 * (attivo[j2 + 1] <= ts)::int AS qtot
    FROM hc
), righe AS (
    SELECT hq.ts, hq.nome, hq.regione, hq.ips[s.j + 1] AS ip, op.operazione, op.latenza, e.esito,
           e.codice_errore,
           greatest(1, round(hq.v * s.q / hq.qtot * op.q
                                 * CASE e.k WHEN 1 THEN CASE WHEN hq.con_errori THEN 0.82 ELSE 0.92 END
                                            WHEN 2 THEN 0.08 ELSE 0.10 END))::int8 AS chiamate,
           ((hq.h::int8 * 256 + hq.n) * 16 + s.j) * 8 + op.k * 3 + e.k AS seme
    FROM hq
    CROSS JOIN LATERAL (VALUES (hq.j0, 0.5), (hq.j1, 0.3), (hq.j2, 0.2)) s (j, q)
    CROSS JOIN LATERAL (VALUES (1, hq.op1, hq.lat1, 0.7), (2, hq.op2, hq.lat2, 0.3)) op (k, operazione, latenza, q)
    CROSS JOIN (VALUES (1, '00', ''), (2, '01', ''), (3, '', 'TSG-0301')) e (k, esito, codice_errore)
    WHERE hq.attivo[s.j + 1] <= hq.ts AND (e.k < 3 OR hq.con_errori)
), ip_ora AS (
    INSERT INTO mon_traffico_ip (grana, periodo, operazione, chiamante, regione, ip_client, esito,
                                 codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT 'ora', ts, operazione, nome, regione, ip, esito, codice_errore, chiamate,
           round(chiamate * CASE WHEN esito = '' THEN 3 ELSE latenza END
                 * (0.7 + 0.6 * bench_mon_rnd(seme * 7 + 1)))::int8,
           round(CASE WHEN esito = '' THEN 3 ELSE latenza END
                 * (1.5 + CASE WHEN chiamate > 1 THEN 6 ELSE 0 END * bench_mon_rnd(seme * 7 + 2)))::int,
           TRUE
    FROM righe
    RETURNING periodo, operazione, chiamante, regione, ip_client, esito, codice_errore, chiamate,
              durata_ms_somma, durata_ms_max
), t_ora AS (
    INSERT INTO mon_traffico (grana, periodo, operazione, chiamante, regione, esito, codice_errore,
                              chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT 'ora', periodo, operazione, chiamante, regione, esito, codice_errore, sum(chiamate),
           sum(durata_ms_somma), max(durata_ms_max), TRUE
    FROM ip_ora GROUP BY 2, 3, 4, 5, 6, 7
), ip_giorno AS (
    INSERT INTO mon_traffico_ip (grana, periodo, operazione, chiamante, regione, ip_client, esito,
                                 codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT 'giorno', mon_periodo('giorno', periodo), operazione, chiamante, regione, ip_client,
           esito, codice_errore, sum(chiamate), sum(durata_ms_somma), max(durata_ms_max), TRUE
    FROM ip_ora GROUP BY 2, 3, 4, 5, 6, 7, 8
    RETURNING periodo, operazione, chiamante, regione, esito, codice_errore, chiamate,
              durata_ms_somma, durata_ms_max
), t_giorno AS (
    INSERT INTO mon_traffico (grana, periodo, operazione, chiamante, regione, esito, codice_errore,
                              chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT 'giorno', periodo, operazione, chiamante, regione, esito, codice_errore, sum(chiamate),
           sum(durata_ms_somma), max(durata_ms_max), TRUE
    FROM ip_giorno GROUP BY 2, 3, 4, 5, 6, 7
)
INSERT INTO bench_mon_primo (chiamante, ip_client, regione, primo)
SELECT chiamante, ip_client, regione, min(periodo) FROM ip_ora GROUP BY 1, 2, 3
";

/// The weekly or monthly grain (`{g}`) from the daily rows, with and without IP.
const DA_GIORNI: &str = r"
WITH ip AS (
    INSERT INTO mon_traffico_ip (grana, periodo, operazione, chiamante, regione, ip_client, esito,
                                 codice_errore, chiamate, durata_ms_somma, durata_ms_max, compattata)
    SELECT '{g}', mon_periodo('{g}', periodo), operazione, chiamante, regione, ip_client,
           esito, codice_errore, sum(chiamate), sum(durata_ms_somma), max(durata_ms_max), TRUE
    FROM mon_traffico_ip WHERE grana = 'giorno' GROUP BY 2, 3, 4, 5, 6, 7, 8
    RETURNING periodo, operazione, chiamante, regione, esito, codice_errore, chiamate,
              durata_ms_somma, durata_ms_max
)
INSERT INTO mon_traffico (grana, periodo, operazione, chiamante, regione, esito, codice_errore,
                          chiamate, durata_ms_somma, durata_ms_max, compattata)
SELECT '{g}', periodo, operazione, chiamante, regione, esito, codice_errore, sum(chiamate),
       sum(durata_ms_somma), max(durata_ms_max), TRUE
FROM ip GROUP BY 2, 3, 4, 5, 6, 7
";

const MON_IP: &str = r"
INSERT INTO mon_ip (chiamante, ip_client, regione, primo_uso)
SELECT chiamante, ip_client, min(regione),
       min(primo) + (abs(hashtext(chiamante || host(ip_client))) % 3600) * interval '1 second'
FROM bench_mon_primo GROUP BY 1, 2
";

const VACCINAZIONI: &str = r"
INSERT INTO mon_vaccinazioni (giorno, tipo, regione, canale, operazione, numero, compattata)
SELECT x.giorno, t.tipo, r.codice, c.canale, op.operazione,
       greatest(1, round(500000.0 * r.assistiti / (SELECT sum(assistiti) FROM bench_mon_regione)
           * t.q * c.q * op.q
           * CASE extract(isodow FROM x.giorno) WHEN 6 THEN 0.6 WHEN 7 THEN 0.3 ELSE 1.15 END / (6.65 / 7)
           * (1 + 0.3 * cos(2 * pi() * (extract(doy FROM x.giorno) - 305) / 365.25))
           * (0.8 + 0.4 * bench_mon_rnd(hashtext(x.giorno::text || r.codice || t.tipo || c.canale
                                                 || op.operazione)))))::int8,
       TRUE
FROM bench_monitoraggio b
CROSS JOIN LATERAL generate_series(b.oggi - 364, b.oggi, interval '1 day') d
CROSS JOIN LATERAL (SELECT d::date AS giorno) x
CROSS JOIN bench_mon_regione r
CROSS JOIN (VALUES ('PRENOTAZIONE', 0.45), ('SOMMINISTRAZIONE', 0.55)) t (tipo, q)
CROSS JOIN (VALUES ('WS', 0.6), ('FLUSSO', 0.4)) c (canale, q)
CROSS JOIN (VALUES ('INSERIMENTO', 0.85), ('VARIAZIONE', 0.12), ('CANCELLAZIONE', 0.03)) op (operazione, q)
";

const ASSISTITI: &str = r"
INSERT INTO mon_assistiti (regione, assistiti) SELECT codice, assistiti FROM bench_mon_regione
ON CONFLICT (regione) DO UPDATE SET assistiti = excluded.assistiti, aggiornato_il = now()
";

/// Runs `lavori` (name, SQL) on `WORKERS` connections, each taking the next job when done.
fn in_parallelo(url: &str, fase: &str, lavori: Vec<(String, String)>) {
    let t = Instant::now();
    let n = lavori.len();
    let coda = Arc::new(Mutex::new(VecDeque::from(lavori)));
    let fili: Vec<_> = (0..WORKERS)
        .map(|_| {
            let coda = coda.clone();
            let url = url.to_owned();
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).expect("generation connection");
                conn.batch_execute(
                    "SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'; \
                     SET synchronous_commit = off",
                )
                .expect("session settings");
                loop {
                    let Some((nome, sql)) = coda.lock().expect("queue").pop_front() else {
                        break;
                    };
                    conn.batch_execute(&sql)
                        .unwrap_or_else(|e| panic!("generation, {nome}: {e}"));
                }
            })
        })
        .collect();
    for f in fili {
        f.join().expect("generation worker");
    }
    println!(
        "  {fase:<58} {n:>3} job(s) {:>7.1} s",
        t.elapsed().as_secs_f64()
    );
}

#[derive(QueryableByName)]
struct Indice {
    #[diesel(sql_type = Text)]
    nome: String,
    #[diesel(sql_type = Text)]
    definizione: String,
}

/// Fills the database of `url`; returns the day the data end on ("today").
fn genera(url: &str) -> NaiveDate {
    println!("\ngenerating a year of aggregates ({WORKERS} connections)");
    let t = Instant::now();
    let mut conn = PgConnection::establish(url).expect("connection");
    conn.batch_execute(PREPARA).expect("helper tables");
    let oggi = oggi_del_marcatore(&mut conn);
    println!(
        "  {:<58} {:>3} job(s) {:>7.1} s",
        "helper tables",
        1,
        t.elapsed().as_secs_f64()
    );
    // Bulk load without the indexes, rebuilt afterwards from their own definitions.
    let indici: Vec<Indice> = diesel::sql_query(
        "SELECT indexname AS nome, indexdef AS definizione FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename IN ('mon_traffico', 'mon_traffico_ip')",
    )
    .load(&mut conn)
    .expect("indexes");
    for i in &indici {
        conn.batch_execute(&format!("DROP INDEX {}", i.nome))
            .expect("drop index");
    }
    let inizio = oggi - chrono::Duration::days(364);
    let mut lotti = Vec::new();
    let mut lo = inizio;
    while lo <= oggi {
        let hi =
            (lo + chrono::Duration::days(GIORNI_PER_LOTTO)).min(oggi + chrono::Duration::days(1));
        lotti.push((
            format!("days {lo}..{hi}"),
            LOTTO
                .replace("{lo}", &lo.to_string())
                .replace("{hi}", &hi.to_string()),
        ));
        lo = hi;
    }
    in_parallelo(url, "hourly and daily rows, with and without IP", lotti);
    in_parallelo(
        url,
        "weekly, monthly rows; mon_ip, vaccinazioni, assistiti",
        vec![
            ("weeks".into(), DA_GIORNI.replace("{g}", "settimana")),
            ("months".into(), DA_GIORNI.replace("{g}", "mese")),
            ("mon_ip".into(), MON_IP.into()),
            ("mon_vaccinazioni".into(), VACCINAZIONI.into()),
            ("mon_assistiti".into(), ASSISTITI.into()),
        ],
    );
    in_parallelo(
        url,
        "indexes of the migration",
        indici
            .iter()
            // A partitioned table's index reads `ON ONLY`: built again on every partition.
            .map(|i| (i.nome.clone(), i.definizione.replace(" ON ONLY ", " ON ")))
            .collect(),
    );
    in_parallelo(
        url,
        "VACUUM (ANALYZE)",
        [
            "mon_traffico_ip",
            "mon_traffico",
            "mon_ip",
            "mon_vaccinazioni",
            "mon_assistiti",
        ]
        .iter()
        .map(|t| (t.to_string(), format!("VACUUM (ANALYZE) {t}")))
        .collect(),
    );
    let secondi = t.elapsed().as_secs_f64();
    conn.batch_execute(
        "DROP TABLE bench_mon_ora, bench_mon_primo, bench_mon_chiamante, bench_mon_regione; \
         DROP FUNCTION bench_mon_rnd(BIGINT)",
    )
    .expect("drop helper tables");
    diesel::sql_query("UPDATE bench_monitoraggio SET completo = TRUE, secondi = $1")
        .bind::<Double, _>(secondi)
        .execute(&mut conn)
        .expect("marker");
    println!("  generation took {secondi:.1} s");
    oggi
}

fn oggi_del_marcatore(conn: &mut PgConnection) -> NaiveDate {
    #[derive(QueryableByName)]
    struct Oggi {
        #[diesel(sql_type = Date)]
        oggi: NaiveDate,
    }
    diesel::sql_query("SELECT oggi FROM bench_monitoraggio")
        .get_result::<Oggi>(conn)
        .expect("marker")
        .oggi
}

// ---------------------------------------------------------------------------------------------
// What the database holds.

#[derive(QueryableByName)]
struct Riga3 {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Text)]
    c: String,
}

fn testi(conn: &mut PgConnection, sql: &str) -> Vec<Riga3> {
    diesel::sql_query(sql).load(conn).expect(sql)
}

fn stampa_ambiente(conn: &mut PgConnection, load: &str) {
    let righe = testi(
        conn,
        "SELECT name AS a, setting || coalesce(' ' || unit, '') AS b, '' AS c FROM pg_settings \
         WHERE name IN ('server_version', 'shared_buffers', 'work_mem', 'effective_cache_size', \
                        'jit', 'max_parallel_workers_per_gather', 'random_page_cost', \
                        'statement_timeout') ORDER BY 1",
    );
    let cpu = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "\nserver ({cpu} cores, load average {load}; this session as the portal's pool sets it):"
    );
    for r in righe {
        println!("  {:<34} {}", r.a, r.b);
    }
}

fn stampa_conteggi(conn: &mut PgConnection) {
    let t = Instant::now();
    let righe = testi(
        conn,
        "WITH b AS (SELECT * FROM bench_monitoraggio LIMIT 1),
         p AS (
             SELECT g.grana, count(DISTINCT mon_periodo(g.grana, ts))::int8 AS periodi
             FROM b, generate_series(b.inizio, b.fine - interval '1 hour', interval '1 hour') ts,
                  (VALUES ('ora'), ('giorno'), ('settimana'), ('mese')) g (grana)
             GROUP BY 1
         ),
         t AS (
             SELECT 'mon_traffico' AS tabella, grana, count(*)::int8 AS righe,
                    sum(chiamate)::int8 AS numero FROM mon_traffico GROUP BY grana
             UNION ALL
             SELECT 'mon_traffico_ip', grana, count(*), sum(chiamate) FROM mon_traffico_ip GROUP BY grana
         )
         SELECT t.tabella || ' ' || t.grana AS a,
                format('%s rows (%s per period), %s calls', t.righe,
                       round(t.righe::numeric / p.periodi), t.numero) AS b,
                format('%s periods', p.periodi) AS c
         FROM t JOIN p USING (grana)
         ORDER BY t.tabella, array_position(ARRAY['ora', 'giorno', 'settimana', 'mese'], t.grana)",
    );
    let giorni = testi(
        conn,
        "SELECT 'calls a day' AS a, \
                format('mean %s, weekday max %s, min %s (Sunday; today is partial)', \
                       round(avg(n)), max(n), min(n)) AS b, '' AS c \
         FROM (SELECT sum(chiamate) AS n FROM mon_traffico WHERE grana = 'giorno' \
               AND periodo < (SELECT oggi::timestamp AT TIME ZONE 'Europe/Rome' FROM bench_monitoraggio) \
               GROUP BY periodo) x",
    );
    let altre = testi(
        conn,
        "SELECT 'mon_ip' AS a, format('%s rows (caller, IP), %s callers, %s first used in the last 7 days',
                    count(*), count(DISTINCT chiamante),
                    count(*) FILTER (WHERE primo_uso >= (SELECT oggi - 6 FROM bench_monitoraggio)::timestamp
                                                        AT TIME ZONE 'Europe/Rome')) AS b, '' AS c
         FROM mon_ip
         UNION ALL
         SELECT 'mon_vaccinazioni', format('%s rows, %s records (%s a day)', count(*), sum(numero),
                round(sum(numero) / count(DISTINCT giorno))), ''
         FROM mon_vaccinazioni
         UNION ALL
         SELECT 'mon_assistiti', format('%s regions, %s patients (max %s, min %s)', count(*),
                sum(assistiti), max(assistiti), min(assistiti)), ''
         FROM mon_assistiti
         UNION ALL
         SELECT 'size of ' || relname, pg_size_pretty(pg_total_relation_size(oid)), 'with indexes'
         FROM pg_class WHERE relname IN ('mon_traffico', 'mon_traffico_ip') AND relkind = 'r'",
    );
    println!("\nrows per table and grain:");
    for r in righe.into_iter().chain(giorni) {
        println!("  {:<28} {:<58} {}", r.a, r.b, r.c);
    }
    for r in altre {
        println!("  {:<28} {} {}", r.a, r.b, r.c);
    }
    println!("  (counted in {:.1} s)", t.elapsed().as_secs_f64());
}

fn stampa_indici(conn: &mut PgConnection) {
    let righe = testi(
        conn,
        "SELECT i.relname AS a, pg_size_pretty(pg_relation_size(i.oid)) AS b, \
                pg_get_indexdef(i.oid) AS c \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relname IN ('mon_traffico', 'mon_traffico_ip', 'mon_ip', 'mon_vaccinazioni') \
         ORDER BY t.relname, i.relname",
    );
    println!("\nindexes of the aggregates:");
    for r in righe {
        let def = r.c.split_once(" USING ").map_or(r.c.as_str(), |(_, d)| d);
        println!("  {:<40} {:>8}  {def}", r.a, r.b);
    }
}

// ---------------------------------------------------------------------------------------------
// The reports.

#[derive(Default)]
struct Cattura {
    attiva: bool,
    corrente: Option<(Instant, String)>,
    query: Vec<(String, Duration)>,
}

struct Caso {
    nome: String,
    extra: bool,
    ambito: Ambito,
    richiesta: Result<Richiesta, String>,
}

/// A report as the portal asks for it: `query` is the page's query (`da=…&a=…&per=…`), the
/// days written as offsets from today (`{-364}`, `{0}`).
fn caso(nome: &str, tipo: TipoReport, query: &str, ambito: Ambito, oggi: NaiveDate) -> Caso {
    let mut q = query.to_owned();
    for n in [364, 175, 84, 30, 13, 6, 1, 0] {
        let d = oggi - chrono::Duration::days(n);
        let segnaposto = if n == 0 {
            "{0}".to_owned()
        } else {
            format!("{{-{n}}}")
        };
        q = q.replace(&segnaposto, &d.to_string());
    }
    let q: HashMap<String, String> = q
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let richiesta = Richiesta::da_coppie(tipo, &q, oggi).and_then(|r| ambito.applica(&r));
    Caso {
        nome: nome.to_owned(),
        extra: false,
        ambito,
        richiesta,
    }
}

fn casi(oggi: NaiveDate) -> Vec<Caso> {
    use TipoReport::{Anomalie, Traffico, Vaccinazioni};
    let n = Ambito::nazionale();
    let lazio = Ambito::regione("120");
    #[rustfmt::skip]
    let elenco = [
        ("traffico 12 months by month, per regione", Traffico,
         "da={-364}&a={0}&granularita=mese&per=regione", &n),
        ("traffico 12 months by week, per operazione", Traffico,
         "da={-364}&a={0}&granularita=settimana&per=operazione", &n),
        ("traffico 31 days by day, per chiamante", Traffico,
         "da={-30}&a={0}&granularita=giorno&per=chiamante", &n),
        ("traffico 6 months by day, per regione", Traffico,
         "da={-175}&a={0}&granularita=giorno&per=regione", &n),
        ("traffico yesterday by hour, per ip", Traffico,
         "da={-1}&a={-1}&granularita=ora&per=ip", &n),
        ("traffico 14 days by day, per ip, one caller", Traffico,
         "da={-13}&a={0}&granularita=giorno&per=ip&chiamante=bench-caller-003", &n),
        ("traffico 7 days by day, per esito", Traffico, "da={-6}&a={0}&per=esito", &n),
        ("traffico 7 days by day, per errore", Traffico, "da={-6}&a={0}&per=errore", &n),
        ("vaccinazioni 12 months by week", Vaccinazioni,
         "da={-364}&a={0}&granularita=settimana", &n),
        ("vaccinazioni 31 days by day", Vaccinazioni, "da={-30}&a={0}", &n),
        ("anomalie 7 days, national", Anomalie, "da={-6}&a={0}", &n),
        ("anomalie 7 days, regione 120", Anomalie, "da={-6}&a={0}", &lazio),
        ("traffico 31 days by day, per chiamante, scope 120", Traffico,
         "da={-30}&a={0}&per=chiamante", &lazio),
    ];
    // The widest requests the limits allow (`Granularita::giorni_massimi`, `giorni_massimi_ip`).
    #[rustfmt::skip]
    let estremi = [
        ("traffico 31 days by hour, per operazione", Traffico,
         "da={-30}&a={0}&granularita=ora&per=operazione", &n),
        ("traffico 2 days by hour, per ip", Traffico, "da={-1}&a={0}&granularita=ora&per=ip", &n),
        ("traffico 13 weeks by week, per ip", Traffico,
         "da={-84}&a={0}&granularita=settimana&per=ip", &n),
        ("traffico 12 months by month, per ip", Traffico,
         "da={-364}&a={0}&granularita=mese&per=ip", &n),
        ("traffico 6 months by day, per chiamante", Traffico,
         "da={-175}&a={0}&granularita=giorno&per=chiamante", &n),
        ("traffico 14 days by day, per ip", Traffico,
         "da={-13}&a={0}&granularita=giorno&per=ip", &n),
    ];
    let mut v: Vec<Caso> = elenco
        .iter()
        .map(|(nome, t, q, a)| caso(nome, *t, q, (*a).clone(), oggi))
        .collect();
    v.extend(estremi.iter().map(|(nome, t, q, a)| Caso {
        extra: true,
        ..caso(nome, *t, q, (*a).clone(), oggi)
    }));
    v
}

struct Risultato {
    nome: String,
    extra: bool,
    errore: Option<String>,
    righe: String,
    mediana: Option<f64>,
    massimo: f64,
    /// The slowest query of a run: its text with the binds, and its time.
    principale: Option<(String, Duration)>,
    query: usize,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn misura(
    conn: &mut PgConnection,
    cfg: &MonitoraggioConfig,
    cattura: &Arc<Mutex<Cattura>>,
    caso: Caso,
) -> Risultato {
    let mut out = Risultato {
        nome: caso.nome.clone(),
        extra: caso.extra,
        errore: None,
        righe: String::new(),
        mediana: None,
        massimo: 0.0,
        principale: None,
        query: 0,
    };
    let r = match &caso.richiesta {
        Ok(r) => r,
        Err(e) => {
            out.errore = Some(format!("request refused: {e}"));
            println!(
                "  {:<52} {}",
                caso.nome,
                out.errore.as_deref().unwrap_or("")
            );
            return out;
        }
    };
    let esegui = |conn: &mut PgConnection| -> Result<(Report, Duration), String> {
        let t = Instant::now();
        let rep = monitoraggio::report(conn, cfg, &caso.ambito, r).map_err(|e| e.to_string())?;
        Ok((rep, t.elapsed()))
    };
    // Warm-up, with the queries captured.
    {
        let mut c = cattura.lock().expect("capture");
        c.attiva = true;
        c.query.clear();
    }
    let primo = esegui(conn);
    let query = {
        let mut c = cattura.lock().expect("capture");
        c.attiva = false;
        std::mem::take(&mut c.query)
    };
    let rep = match primo {
        Ok((rep, _)) => rep,
        Err(e) => {
            out.errore = Some(e);
            println!(
                "  {:<52} ERROR {}",
                caso.nome,
                out.errore.as_deref().unwrap_or("")
            );
            return out;
        }
    };
    out.righe = rep
        .sezioni
        .iter()
        .map(|s| s.tabella.righe.len().to_string())
        .collect::<Vec<_>>()
        .join("+");
    let mut tempi = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        match esegui(conn) {
            Ok((_, d)) => tempi.push(ms(d)),
            Err(e) => {
                out.errore = Some(e);
                return out;
            }
        }
    }
    // One more run, captured, for the time of each query when warm.
    {
        let mut c = cattura.lock().expect("capture");
        c.attiva = true;
        c.query.clear();
    }
    let _ = esegui(conn);
    let caldo = {
        let mut c = cattura.lock().expect("capture");
        c.attiva = false;
        std::mem::take(&mut c.query)
    };
    out.query = caldo.len().max(query.len());
    out.principale = caldo.into_iter().max_by_key(|(_, d)| *d);
    tempi.sort_by(f64::total_cmp);
    out.mediana = Some(tempi[tempi.len() / 2]);
    out.massimo = tempi.last().copied().unwrap_or(0.0);
    out
}

fn stampa_tabella(risultati: &[Risultato]) {
    println!(
        "\n  {:<52} {:>14} {:>8} {:>10} {:>9} {:>8}  ≤ {BUDGET_MS:.0} ms",
        "report", "rows (tables)", "queries", "main q. ms", "median ms", "max ms"
    );
    let mut oltre = 0;
    let mut extra_visti = false;
    for r in risultati {
        if r.extra && !extra_visti {
            extra_visti = true;
            println!("  -- the widest requests allowed (not in the issue's list):");
        }
        let Some(m) = r.mediana else {
            println!(
                "  {:<52} {}",
                r.nome,
                r.errore.as_deref().unwrap_or("no result")
            );
            continue;
        };
        let ok = m <= BUDGET_MS;
        if !ok {
            oltre += 1;
        }
        println!(
            "  {:<52} {:>14} {:>8} {:>10.1} {:>9.1} {:>8.1}  {}",
            r.nome,
            r.righe,
            r.query,
            r.principale.as_ref().map_or(0.0, |(_, d)| ms(*d)),
            m,
            r.massimo,
            if ok { "yes" } else { "no   OVER BUDGET" }
        );
    }
    println!(
        "\n  {} of {} reports within {BUDGET_MS:.0} ms (median){}",
        risultati
            .iter()
            .filter(|r| r.mediana.is_some_and(|m| m <= BUDGET_MS))
            .count(),
        risultati.len(),
        if oltre > 0 {
            format!("; {oltre} OVER BUDGET")
        } else {
            String::new()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN of a report's main query.

/// Splits diesel's `[a, Some("b, c"), None]` at its top-level commas.
fn elementi(lista: &str) -> Vec<String> {
    let interno = lista
        .trim()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or("");
    let mut out = Vec::new();
    let (mut profondita, mut in_stringa, mut escape) = (0i32, false, false);
    let mut cur = String::new();
    for ch in interno.chars() {
        if in_stringa {
            cur.push(ch);
            if escape {
                escape = false;
            } else if ch == '\\' {
                escape = true;
            } else if ch == '"' {
                in_stringa = false;
            }
            continue;
        }
        match ch {
            '"' => {
                in_stringa = true;
                cur.push(ch);
            }
            '(' | '[' | '{' => {
                profondita += 1;
                cur.push(ch);
            }
            ')' | ']' | '}' => {
                profondita -= 1;
                cur.push(ch);
            }
            ',' if profondita == 0 => out.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(ch),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// A bind as diesel's Debug writes it, as an SQL literal.
fn letterale(v: &str) -> Option<String> {
    let v = v.trim();
    if v == "None" {
        return Some("NULL".into());
    }
    if let Some(dentro) = v.strip_prefix("Some(").and_then(|s| s.strip_suffix(')')) {
        return letterale(dentro);
    }
    if let Some(s) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        let mut testo = String::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                match it.next()? {
                    'n' => testo.push('\n'),
                    't' => testo.push('\t'),
                    c @ ('\\' | '"' | '\'') => testo.push(c),
                    _ => return None,
                }
            } else {
                testo.push(c);
            }
        }
        return Some(format!("'{}'", testo.replace('\'', "''")));
    }
    if NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() {
        return Some(format!("'{v}'::date"));
    }
    if let Some((_, resto)) = v.split_once("addr: ") {
        let ip: String = resto
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '.' || *c == ':')
            .collect();
        return ip
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|_| format!("'{ip}'::inet"));
    }
    if v.parse::<i64>().is_ok() || v.parse::<f64>().is_ok() {
        return Some(v.to_owned());
    }
    None
}

/// diesel's "SQL -- binds: [...]" as one statement with the values written in.
fn con_valori(debug: &str) -> Option<String> {
    let (sql, binds) = debug.rsplit_once(" -- binds: ")?;
    let valori: Vec<String> = elementi(binds)
        .iter()
        .map(|v| letterale(v))
        .collect::<Option<_>>()?;
    let mut sql = sql.to_owned();
    for (i, v) in valori.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), v);
    }
    Some(sql)
}

#[derive(QueryableByName)]
struct Piano {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    riga: String,
}

fn spiega(conn: &mut PgConnection, r: &Risultato) {
    let Some((debug, d)) = &r.principale else {
        return;
    };
    println!(
        "\nEXPLAIN (ANALYZE, BUFFERS) of the main query of «{}» ({:.1} ms in the report):",
        r.nome,
        ms(*d)
    );
    let Some(sql) = con_valori(debug) else {
        println!("  (its binds could not be written in) {debug}");
        return;
    };
    println!("{}\n", sql.trim());
    match diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")).load::<Piano>(conn) {
        Ok(piano) => {
            for p in piano {
                println!("  {}", p.riga);
            }
        }
        Err(e) => println!("  EXPLAIN failed: {e}"),
    }
}
