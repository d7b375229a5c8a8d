//! Bulk booking import, end to end: N bookings (`TSGATE_BENCH_RECORDS`, default 1,000,000) for
//! N patients inserted first into a fresh database, one signed file, then spool + SHA-256 +
//! signature + streaming parse + validation + staging + apply, as the server does; then the same
//! rows loaded with a plain `COPY prenotazione FROM STDIN` into the emptied table, for comparison.
//! The database server is `TSGATE_TEST_DATABASE_URL` (default: local PostgreSQL).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "misure.rs"]
mod misure;

use misure::{loadavg, memory, rate, tabella};

use diesel::connection::SimpleConnection;
use diesel::pg::CopyFormat;
use diesel::prelude::*;
use diesel::PgConnection;
use std::io::Write;
use std::time::{Duration, Instant};
use tsgate::db::schema::{assistito, prenotazione};
use tsgate::flussi::import::{self, ImportOptions, Progress};
use tsgate::flussi::{firma, ricevi};

const NS: &str = "urn:tsgate:vaccini:flussoPrenotazioni";
const REGIONS: [&str; 5] = ["010", "030", "050", "080", "120"];

/// The i-th codice fiscale: six letters from i, a fixed birth part, its check character.
fn cf(i: usize) -> String {
    let mut letters = [b'A'; 6];
    let mut n = i;
    for l in letters.iter_mut().rev() {
        *l = b'A' + (n % 26) as u8;
        n /= 26;
    }
    let first = format!(
        "{}80A01H501",
        std::str::from_utf8(&letters).unwrap_or("AAAAAA")
    );
    let check = tsgate::domain::CodiceFiscale::check_char(first.as_bytes()) as char;
    format!("{first}{check}")
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("TSGATE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "bulk_import: {n} records; load average before: {}",
        loadavg()
    );
    // A database of its own, migrated with the fixtures, dropped at the end (the tests' harness).
    let db = common::TestDb::create();
    run(&db.url, n)
}

fn run(url: &str, n: usize) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join(format!("tsgate-bench-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut conn = PgConnection::establish(url)?;

    // Patients, the AVN caller and its certificate.
    let t = Instant::now();
    diesel::copy_from(assistito::table)
        .from_raw_data(
            (
                assistito::codice_fiscale,
                assistito::cognome,
                assistito::nome,
                assistito::regione_assistenza,
                assistito::regione_residenza,
            ),
            |w| {
                for i in 0..n {
                    let r = REGIONS[i % REGIONS.len()];
                    writeln!(w, "{}\tBench\tPaziente\t{r}\t{r}", cf(i))
                        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                }
                Ok::<_, diesel::result::Error>(())
            },
        )
        .with_format(CopyFormat::Text)
        .execute(&mut conn)?;
    conn.batch_execute("ANALYZE assistito")?;
    println!("setup: {n} patients in {:.1} s", t.elapsed().as_secs_f64());
    let pki = tsgate::pki::Pki::open_or_create(&work.join("pki"), &["localhost"])?;
    let spec = tsgate::demo::CallerSpec {
        nome: "avn".into(),
        tipo: "AVN".into(),
        codice_regione: None,
        operazioni: vec!["InvioFlussoPrenotazioni".into()],
        reti: vec!["127.0.0.0/8".parse()?],
        limite_al_secondo: 10,
        limite_raffica: 10,
        tessera_obbligatoria: true,
    };
    tsgate::demo::upsert(&mut conn, &spec)?;
    let cert = tsgate::demo::issue_for_caller(&mut conn, &pki, "avn", "avn")?;

    // The file: I of dose 1 for every patient, in one of five regions, signed.
    let t = Instant::now();
    let mut xml = Vec::with_capacity(n * 340 + 200);
    write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<f:flussoPrenotazioni xmlns:f=\"{NS}\">\n"
    )?;
    for i in 0..n {
        let r = REGIONS[(i / 7) % REGIONS.len()];
        writeln!(
            xml,
            "<f:prenotazione><f:tipoOperazione>I</f:tipoOperazione><f:codiceRegione>{r}</f:codiceRegione>\
             <f:identificativoAssistito>{}</f:identificativoAssistito><f:regionePrenotazione>{r}</f:regionePrenotazione>\
             <f:dataPrenotazione>2026-12-{:02}</f:dataPrenotazione><f:dose>1</f:dose></f:prenotazione>",
            cf(i),
            1 + i % 28
        )?;
    }
    writeln!(xml, "</f:flussoPrenotazioni>")?;
    let (p7m, size) = misure::firma_su_file(&xml, &cert, &work, t)?;
    drop(xml);

    // End to end, as the server does it.
    let registry = tsgate::access::Registry::load(&mut conn, None)?;
    let avn = registry
        .callers()
        .iter()
        .find(|c| c.nome == "avn")
        .map(|c| c.id)
        .unwrap_or_default();
    let pool = tsgate::db::connect(url, 4, Duration::from_secs(5))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let spool_dir = work.join("spool");
    let tx = uuid::Uuid::now_v7();
    println!("load average before the import: {}", loadavg());
    // Resets the peak RSS, so the peak printed after the import is the import's own.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (rss_before, _) = memory();
    let cpu = (misure::cpu_ticks_self(), misure::cpu_ticks_postgres());
    let start = Instant::now();
    let spooled = runtime.block_on(async {
        let mut input = tokio::fs::File::open(&p7m).await?;
        let mut spool = ricevi::Spool::create(&spool_dir, tx, u64::MAX).await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            use tokio::io::AsyncReadExt;
            let k = input.read(&mut buf).await?;
            if k == 0 {
                break;
            }
            spool.write(&buf[..k]).await?;
        }
        anyhow::Ok(spool.finish().await?)
    })?;
    let t_spool = start.elapsed();
    let bound = |fp: &str| {
        registry
            .caller_by_fingerprint(fp)
            .is_some_and(|c| c.id == avn)
    };
    let fiducia = firma::TrustAnchors {
        ca_file: pki.ca_pem_path(),
        crl_file: Some(pki.crl_pem_path()),
    };
    let ricevuta = ricevi::registra(
        &pool,
        &spooled,
        tx,
        ricevi::Mittente {
            chiamante: "avn",
            tipo: tsgate::catalogo::PRENOTAZIONI,
            regione: None,
        },
        &fiducia,
        &bound,
        None,
    )?;
    anyhow::ensure!(
        ricevuta.flusso.codice_rifiuto.is_none(),
        "file refused: {:?}",
        ricevuta.flusso.motivo_rifiuto
    );
    let t_signature = start.elapsed() - t_spool;
    let mut staged_at = None;
    let never = || false;
    let opz = ImportOptions {
        batch: 20_000,
        max_batches: None,
        stop: &never,
    };
    let mut pooled = pool.get()?;
    let esito = import::elabora(
        &mut pooled,
        tsgate::catalogo::GENERI,
        ricevuta.flusso.id,
        &opz,
        &mut |a| {
            if let Progress::Applying { .. } = a {
                staged_at = Some(start.elapsed());
            }
        },
    )?;
    let total = start.elapsed();
    anyhow::ensure!(esito == import::Esito::Elaborato, "import ended {esito:?}");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let written: Count =
        diesel::sql_query("SELECT count(*) AS n FROM prenotazione").get_result(&mut conn)?;
    anyhow::ensure!(
        written.n as usize == n,
        "{} rows written, {n} expected",
        written.n
    );
    let staged_at = staged_at.unwrap_or(total);
    println!(
        "end to end: {n} records in {:.2} s = {:.0} records/s \
         (spool+SHA-256 {:.2} s, signature {:.2} s, parse+validate+stage {:.2} s, apply {:.2} s)",
        total.as_secs_f64(),
        rate(n, total),
        t_spool.as_secs_f64(),
        t_signature.as_secs_f64(),
        (staged_at - t_spool - t_signature).as_secs_f64(),
        (total - staged_at).as_secs_f64(),
    );
    println!("load average after the import: {}", loadavg());
    let (_, peak) = memory();
    let import_row = vec![
        "Bulk bookings, signed file end to end (records/s)".to_owned(),
        format!("{:.0}", rate(n, total)),
        "-".into(),
        "-".into(),
        misure::per_record(misure::cpu_ticks_self() - cpu.0, n),
        misure::per_record(misure::cpu_ticks_postgres() - cpu.1, n),
        format!("{} = {n}: {}", written.n, written.n as usize == n),
        format!("{peak:.0}"),
    ];
    println!(
        "memory: RSS {rss_before:.0} MB before the import, peak {peak:.0} MB during it \
         (the {:.0} MB file is never held in memory)",
        size as f64 / 1e6
    );

    // The same rows with a plain COPY into the emptied table.
    conn.batch_execute("TRUNCATE prenotazione; SET statement_timeout = 0")?;
    let tx = tx.to_string();
    let mut text = Vec::with_capacity(n * 80);
    for i in 0..n {
        let r = REGIONS[(i / 7) % REGIONS.len()];
        writeln!(
            text,
            "{}\t1\t{r}\t{r}\t\\N\t2026-12-{:02}\t{tx}",
            cf(i),
            1 + i % 28
        )?;
    }
    let cpu = (misure::cpu_ticks_self(), misure::cpu_ticks_postgres());
    let start = Instant::now();
    diesel::copy_from(prenotazione::table)
        .from_raw_data(
            (
                prenotazione::codice_fiscale,
                prenotazione::dose,
                prenotazione::regione_prenotazione,
                prenotazione::codice_regione,
                prenotazione::codice_aic,
                prenotazione::data_prenotazione,
                prenotazione::identificativo_transazione,
            ),
            |w| {
                w.write_all(&text)
                    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
            },
        )
        .with_format(CopyFormat::Text)
        .execute(&mut conn)?;
    let copy = start.elapsed();
    println!(
        "plain COPY: {n} rows in {:.2} s = {:.0} rows/s",
        copy.as_secs_f64(),
        rate(n, copy)
    );
    println!("load average after: {}", loadavg());
    println!(
        "import / plain COPY: {:.2}",
        rate(n, total) / rate(n, copy).max(1e-9)
    );
    tabella(&import_row);
    tabella(&[
        "Bulk bookings, plain COPY of the same rows (rows/s)".to_owned(),
        format!("{:.0}", rate(n, copy)),
        "-".into(),
        "-".into(),
        misure::per_record(misure::cpu_ticks_self() - cpu.0, n),
        misure::per_record(misure::cpu_ticks_postgres() - cpu.1, n),
        "-".into(),
        "-".into(),
    ]);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
