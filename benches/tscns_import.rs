//! TS-CNS first load, end to end: N cards of Lombardia (`TSGATE_BENCH_RECORDS`, default
//! 200,000) inserted first into a fresh database, one signed file of N records (an activation
//! for nine cards in ten, a revocation for the tenth), then spool + SHA-256 + signature + the
//! structure pass + the record-by-record apply with the web services' rules, as the server does.
//! `TSGATE_BENCH_BATCH` sets `flussi.batch_records` (default 20,000, capped at
//! `carica::MAX_BATCH`). The database server is `TSGATE_TEST_DATABASE_URL` (default: local
//! PostgreSQL).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "misure.rs"]
mod misure;

use misure::{loadavg, memory, rate};

use diesel::connection::SimpleConnection;
use diesel::pg::CopyFormat;
use diesel::prelude::*;
use diesel::PgConnection;
use std::io::Write;
use std::time::{Duration, Instant};
use tsgate::db::schema::tessera_sanitaria;
use tsgate::flussi::firma;
use tsgate::flussi::import::{self, ImportOptions, Progress};
use tsgate::flussi::ricevi::{self, Mittente};
use tsgate::services::tscns::flusso::NS;

const HOLDER: &str = "RSSMRA60C15F205L";

fn numero(i: usize) -> String {
    format!("80380030{:012}", 500_000_000 + i)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let n = env("TSGATE_BENCH_RECORDS", 200_000);
    let batch = env("TSGATE_BENCH_BATCH", 20_000);
    println!(
        "tscns_import: {n} records, batch {batch}; load average before: {}",
        loadavg()
    );
    let db = common::TestDb::create();
    run(&db.url, n, batch)
}

fn run(url: &str, n: usize, batch: usize) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join(format!("tsgate-bench-tscns-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut conn = PgConnection::establish(url)?;

    // The cards, the CMS caller and its certificate.
    let t = Instant::now();
    diesel::copy_from(tessera_sanitaria::table)
        .from_raw_data(
            (
                tessera_sanitaria::numero,
                tessera_sanitaria::codice_fiscale,
                tessera_sanitaria::data_scadenza,
                tessera_sanitaria::codice_regione,
            ),
            |w| {
                for i in 0..n {
                    writeln!(w, "{}\t{HOLDER}\t2029-12-31\t030", numero(i))
                        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                }
                Ok::<_, diesel::result::Error>(())
            },
        )
        .with_format(CopyFormat::Text)
        .execute(&mut conn)?;
    conn.batch_execute("ANALYZE tessera_sanitaria")?;
    println!("setup: {n} cards in {:.1} s", t.elapsed().as_secs_f64());
    let pki = tsgate::pki::Pki::open_or_create(&work.join("pki"), &["localhost"])?;
    let spec = tsgate::demo::CallerSpec {
        nome: "cms".into(),
        tipo: "CMS".into(),
        codice_regione: Some("030".into()),
        operazioni: vec!["InvioFlussoTSCNS".into()],
        reti: vec!["127.0.0.0/8".parse()?],
        limite_al_secondo: 10,
        limite_raffica: 10,
        tessera_obbligatoria: false,
    };
    tsgate::demo::upsert(&mut conn, &spec)?;
    let cert = tsgate::demo::issue_for_caller(&mut conn, &pki, "cms", "cms")?;

    let t = Instant::now();
    let mut xml = Vec::with_capacity(n * 450 + 200);
    writeln!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<f:flussoTSCNS xmlns:f=\"{NS}\">"
    )?;
    for i in 0..n {
        if i % 10 == 9 {
            writeln!(
                xml,
                "<f:revoca><f:numeroTessera>{}</f:numeroTessera><f:motivo>sostituzione</f:motivo>\
                 <f:dataRevoca>2026-02-{:02}</f:dataRevoca></f:revoca>",
                numero(i),
                1 + i % 28
            )?;
        } else {
            writeln!(
                xml,
                "<f:attivazione><f:codiceFiscale>{HOLDER}</f:codiceFiscale><f:numeroTessera>{}</f:numeroTessera>\
                 <f:serialeCertificato>{:X}</f:serialeCertificato>\
                 <f:emittenteCertificato>CN=CA Regione Lombardia TS-CNS,O=Regione Lombardia,C=IT</f:emittenteCertificato>\
                 <f:dataInizioValidita>2025-01-01</f:dataInizioValidita><f:dataFineValidita>2027-12-31</f:dataFineValidita>\
                 <f:dataAttivazione>2025-01-{:02}</f:dataAttivazione></f:attivazione>",
                numero(i),
                0x5A00_0000 + i,
                1 + i % 28
            )?;
        }
    }
    writeln!(xml, "</f:flussoTSCNS>")?;
    let (p7m, size) = misure::firma_su_file(&xml, &cert, &work, t)?;
    drop(xml);

    let registry = tsgate::access::Registry::load(&mut conn, None)?;
    let cms = registry
        .callers()
        .iter()
        .find(|c| c.nome == "cms")
        .map(|c| c.id)
        .unwrap_or_default();
    let pool = tsgate::db::connect(url, 4, Duration::from_secs(5))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let spool_dir = work.join("spool");
    let tx = uuid::Uuid::now_v7();
    println!("load average before the import: {}", loadavg());
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
            .is_some_and(|c| c.id == cms)
    };
    let fiducia = firma::TrustAnchors {
        ca_file: pki.ca_pem_path(),
        crl_file: Some(pki.crl_pem_path()),
    };
    let mittente = Mittente {
        chiamante: "cms",
        tipo: tsgate::catalogo::TSCNS,
        regione: Some("030"),
    };
    let ricevuta = ricevi::registra(&pool, &spooled, tx, mittente, &fiducia, &bound, None)?;
    anyhow::ensure!(
        ricevuta.flusso.codice_rifiuto.is_none(),
        "file refused: {:?}",
        ricevuta.flusso.motivo_rifiuto
    );
    let t_signature = start.elapsed() - t_spool;
    let mut checked_at = None;
    let never = || false;
    let opz = ImportOptions {
        batch,
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
                checked_at = Some(start.elapsed());
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
    let count = |conn: &mut PgConnection, q: &str| -> anyhow::Result<usize> {
        Ok(diesel::sql_query(q).get_result::<Count>(conn)?.n as usize)
    };
    let certs = count(
        &mut conn,
        "SELECT count(*) AS n FROM tscns_certificato WHERE numero_tessera LIKE '803800300005%'",
    )?;
    let revoked = count(
        &mut conn,
        "SELECT count(*) AS n FROM tscns_revoca WHERE numero_tessera LIKE '803800300005%'",
    )?;
    anyhow::ensure!(
        certs + revoked == n && revoked == n / 10,
        "{certs} activations and {revoked} revocations written for {n} records"
    );
    let checked_at = checked_at.unwrap_or(total);
    println!(
        "end to end: {n} records in {:.2} s = {:.0} records/s \
         (spool+SHA-256 {:.2} s, signature {:.2} s, structure pass {:.2} s, apply {:.2} s = {:.0} records/s)",
        total.as_secs_f64(),
        rate(n, total),
        t_spool.as_secs_f64(),
        t_signature.as_secs_f64(),
        (checked_at - t_spool - t_signature).as_secs_f64(),
        (total - checked_at).as_secs_f64(),
        rate(n, total - checked_at),
    );
    println!(
        "load average after the import: {}; peak RSS {:.0} MB for the {:.0} MB file",
        loadavg(),
        memory().1,
        size as f64 / 1e6
    );
    misure::tabella(&[
        "TS-CNS first load, signed file end to end (records/s)".to_owned(),
        format!("{:.0}", rate(n, total)),
        "-".into(),
        "-".into(),
        misure::per_record(misure::cpu_ticks_self() - cpu.0, n),
        misure::per_record(misure::cpu_ticks_postgres() - cpu.1, n),
        format!("{} = {n}: {}", certs + revoked, certs + revoked == n),
        format!("{:.0}", memory().1),
    ]);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
