//! `tsgate flusso ...`: import a local file through the same receive and import code as the
//! server (no HTTP, so no access-log row), write an outcome, list the files, sign a file.

use super::import::{self, Esito, ImportOptions, Progress};
use super::ricevi::{self, Mittente, Spool};
use super::{documenti, firma, repo, Generi, Tipo};
use crate::access::Registry;
use crate::config::Config;
use crate::db::{self, PgPool};
use anyhow::{bail, Context};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

fn pool(url: &str) -> anyhow::Result<PgPool> {
    Ok(db::connect(url, 2, Duration::from_secs(5))?)
}

/// Receives `file` (of kind `tipo`) as sent by `chiamante` and imports it, with progress on
/// stderr.
pub async fn importa(
    config: &Config,
    url: &str,
    file: &Path,
    chiamante: &str,
    generi: Generi,
    tipo: Tipo,
) -> anyhow::Result<()> {
    let pool = pool(url)?;
    let registry = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Registry> {
            let mut conn = pool.get()?;
            Ok(Registry::load(&mut conn, None)?)
        })
        .await??
    };
    let caller = registry
        .callers()
        .iter()
        .find(|c| c.nome == chiamante)
        .with_context(|| format!("no enabled caller named `{chiamante}`"))?
        .clone();
    if caller.tipo != tipo.mittente {
        bail!(
            "`{chiamante}` is not a caller of kind {:?}: {} files come from those only",
            tipo.mittente,
            tipo.codice
        );
    }
    let regione = match tipo.per_regione {
        true => Some(
            caller
                .codice_regione
                .clone()
                .with_context(|| format!("`{chiamante}` has no region"))?,
        ),
        false => None,
    };
    let tx = uuid::Uuid::now_v7();
    let mut input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("{}", file.display()))?;
    let mut spool = Spool::create(&config.flussi.dir, tx, config.flussi.max_bytes).await?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = input.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if let Err(e) = spool.write(&buf[..n]).await {
            spool.discard().await;
            return Err(e.into());
        }
    }
    let spooled = spool.finish().await?;
    eprintln!(
        "{}: {} bytes, SHA-256 {}",
        file.display(),
        spooled.size,
        spooled.sha256
    );
    let fiducia = firma::TrustAnchors::from_tls(&config.tls);
    let batch = config.flussi.batch_records;
    let (caller_id, caller_name) = (caller.id, caller.nome.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let bound = |fp: &str| {
            registry
                .caller_by_fingerprint(fp)
                .is_some_and(|c| c.id == caller_id)
        };
        let started = Instant::now();
        let mittente = Mittente {
            chiamante: &caller_name,
            tipo,
            regione: regione.as_deref(),
        };
        let ricevuta = ricevi::registra(&pool, &spooled, tx, mittente, &fiducia, &bound, None)?;
        let f = &ricevuta.flusso;
        eprintln!(
            "protocollo {} stato {}{} (firma verificata in {:.1} s)",
            f.protocollo,
            f.stato,
            if ricevuta.duplicato {
                ", file già ricevuto"
            } else {
                ""
            },
            started.elapsed().as_secs_f64()
        );
        if let Some(m) = &f.motivo_rifiuto {
            eprintln!("rifiutato: {m}");
        }
        if ricevuta.duplicato || f.codice_rifiuto.is_some() {
            println!("{}\t{}", f.protocollo, f.stato);
            return Ok(());
        }
        let mut conn = pool.get()?;
        let never = || false;
        let opz = ImportOptions {
            batch,
            max_batches: None,
            stop: &never,
        };
        let mut show = |a: Progress| match a {
            Progress::Reading {
                record,
                bytes,
                bytes_totali,
                secondi,
            } => eprintln!(
                "letti {record} record, {:.0}/{:.0} MB ({:.0}%), {:.0} record/s",
                bytes as f64 / 1e6,
                bytes_totali as f64 / 1e6,
                100.0 * bytes as f64 / bytes_totali.max(1) as f64,
                record as f64 / secondi.max(1e-9)
            ),
            Progress::Applying { record } => {
                eprintln!("letti {record} record: applicazione alla banca dati...")
            }
        };
        let esito = import::elabora(&mut conn, generi, f.id, &opz, &mut show)?;
        let f = repo::per_id(&mut conn, f.id)?.context("file vanished")?;
        eprintln!(
            "{:?} in {:.1} s: {} record, {} scartati",
            esito,
            started.elapsed().as_secs_f64(),
            f.record_totali.unwrap_or(f.record_letti),
            f.record_scartati.unwrap_or(0)
        );
        if esito == Esito::Occupato {
            eprintln!("il file è in elaborazione in un'altra sessione (server)");
        }
        println!("{}\t{}", f.protocollo, f.stato);
        Ok(())
    })
    .await?
}

/// Writes the outcome document of `protocollo` to `out` (stdout when `None`).
pub fn esito(
    url: &str,
    generi: Generi,
    protocollo: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let mut conn = pool(url)?.get()?;
    let f = repo::per_protocollo(&mut conn, protocollo)?
        .with_context(|| format!("no bulk file with protocol {protocollo}"))?;
    let tipo = generi.di(&f)?;
    let tx = uuid::Uuid::now_v7().to_string();
    match out {
        Some(path) => {
            let file =
                std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            documenti::scrivi(&mut conn, tipo, &f, &tx, &mut w)?;
            w.flush()?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            documenti::scrivi(&mut conn, tipo, &f, &tx, &mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}

/// The latest files, one a line.
pub fn elenco(url: &str) -> anyhow::Result<()> {
    let mut conn = pool(url)?.get()?;
    println!("protocollo\tstato\tchiamante\tricevuto_il\tletti\ttotali\tscartati\ttipo");
    for f in repo::elenco(&mut conn, 100)? {
        let n = |v: Option<i64>| v.map_or("-".to_owned(), |v| v.to_string());
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            f.protocollo,
            f.stato,
            f.chiamante,
            f.ricevuto_il.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            f.record_letti,
            n(f.record_totali),
            n(f.record_scartati),
            f.tipo
        );
    }
    Ok(())
}

/// Signs `xml` into a .p7m (CMS SignedData, DER, content included).
pub fn firma(xml: &Path, cert: &Path, key: &Path, out: &Path) -> anyhow::Result<()> {
    let data = std::fs::read(xml).with_context(|| format!("{}", xml.display()))?;
    let cert = std::fs::read(cert).with_context(|| format!("{}", cert.display()))?;
    let key = std::fs::read(key).with_context(|| format!("{}", key.display()))?;
    let signed = firma::firma(&data, &cert, &key)?;
    std::fs::write(out, signed).with_context(|| format!("{}", out.display()))?;
    Ok(())
}
