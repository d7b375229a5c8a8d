//! Importing a first-load file (called by `crate::flussi::import`), in two passes over the
//! signed XML:
//!
//! 1. Structure: the whole file is read once, nothing written; a file that cannot be read
//!    whole is refused before any record is applied. The count goes to `record_totali`, which
//!    also marks the pass as done for a resumed import.
//! 2. Records, in file order, `flussi.batch_records` a transaction: each parsed record is
//!    applied with the web services' rules and writes (`tscns::repo::applica_*`, for the
//!    sender's region, carrying the file's `identificativo_transazione`); its outcome row, its
//!    errors and the resume point (`record_letti`) commit in the same transaction, so a stop
//!    or a crash resumes after the last committed batch, with no duplicates or losses. A batch
//!    is at most `MAX_BATCH` records: the cards it names stay locked until it commits, and a
//!    web-service call about one of them waits (up to the sessions' `lock_timeout`).

use super::parse::{Lettore, Operazione, Record, TipoRecord};
use crate::db::schema::{flusso, flusso_errore, flusso_tscns_record};
use crate::domain::tempo::oggi_roma;
use crate::flussi::import::{self, Esito, ImportOptions, Progress, SignedContent};
use crate::flussi::repo::Flusso;
use crate::flussi::{Rifiuto, Stato};
use crate::services::tscns::errore::Errore;
use crate::services::tscns::repo as tscns_repo;
use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;
use std::collections::HashSet;
use std::time::Instant;

/// Records a transaction at most, whatever `flussi.batch_records` says (about 0.2 s of locks).
pub const MAX_BATCH: usize = 1_000;

/// Imports first-load file `f` (locked by the caller, not done yet). Blocking.
pub fn elabora(
    conn: &mut PgConnection,
    f: &Flusso,
    contenuto: &SignedContent<'_>,
    opz: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Esito> {
    let regione = f
        .codice_regione
        .as_deref()
        .with_context(|| format!("TS-CNS file {} without a region", f.protocollo))?;
    diesel::update(flusso::table.find(f.id))
        .set(flusso::stato.eq(Stato::InElaborazione.as_str()))
        .execute(conn)?;
    let totali = match f.record_totali {
        Some(t) => t as u64,
        None => match struttura(contenuto)? {
            Ok(n) => {
                diesel::update(flusso::table.find(f.id))
                    .set(flusso::record_totali.eq(n as i64))
                    .execute(conn)?;
                n
            }
            Err(rifiuto) => {
                let prima = format!("DELETE FROM flusso_tscns_record WHERE flusso_id = {}", f.id);
                import::rifiuta(conn, f.id, &rifiuto, &prima)?;
                import::remove_spool(f);
                tracing::info!(protocollo = %f.protocollo, motivo = %rifiuto.testo(), "bulk file refused");
                return Ok(Esito::Rifiutato);
            }
        },
    };
    progress(Progress::Applying { record: totali });
    let resume = f.record_letti.max(0) as u64;
    if resume > 0 {
        tracing::info!(protocollo = %f.protocollo, record = resume, "bulk file resumed");
    }
    let mut visti = visti(conn, f.id)?;
    let mut lettore = Lettore::new(contenuto.open()?, oggi_roma());
    let size = opz.batch.clamp(1, MAX_BATCH);
    let mut batch: Vec<Record> = Vec::with_capacity(size);
    let (mut batches, started) = (0usize, Instant::now());
    let mut statistiche = Statistiche::new();
    loop {
        let next = lettore.next_record().map_err(|r| {
            anyhow::anyhow!("spool file of {} changed: {}", f.protocollo, r.testo())
        })?;
        let Some(mut record) = next else { break };
        if record.posizione <= resume {
            continue;
        }
        if let Ok(op) = &record.esito {
            if !visti.insert((record.tipo, chiave(op.numero_tessera()))) {
                record.esito = Err(vec![Errore::RecordDuplicato]);
            }
        }
        batch.push(record);
        if batch.len() >= size {
            applica(conn, f, regione, &batch, None)?;
            statistiche.dopo(conn, batch.len())?;
            batch.clear();
            batches += 1;
            progress(Progress::Reading {
                record: lettore.posizione(),
                bytes: lettore.bytes_read(),
                bytes_totali: contenuto.len,
                secondi: started.elapsed().as_secs_f64(),
            });
            if opz.max_batches.is_some_and(|m| batches >= m) || (opz.stop)() {
                return Ok(Esito::Interrotto);
            }
        }
    }
    if lettore.posizione() != totali {
        anyhow::bail!(
            "spool file of {} changed: {} records, {totali} at the first reading",
            f.protocollo,
            lettore.posizione()
        );
    }
    applica(conn, f, regione, &batch, Some(totali))?;
    import::remove_spool(f);
    tracing::info!(protocollo = %f.protocollo, record = totali, "bulk file applied");
    Ok(Esito::Elaborato)
}

/// A first load may multiply the rows of the TS-CNS tables many times while the web services'
/// cached generic plans (prepared once per connection) still assume the old sizes, e.g. a
/// sequential scan of a table that had a few rows: the tables are analyzed each time the
/// records applied by this run double (from 1,000), which updates their statistics and makes
/// PostgreSQL plan those statements again.
struct Statistiche {
    applicati: usize,
    prossima: usize,
}

impl Statistiche {
    fn new() -> Self {
        Self {
            applicati: 0,
            prossima: 1_000,
        }
    }

    fn dopo(&mut self, conn: &mut PgConnection, n: usize) -> QueryResult<()> {
        self.applicati += n;
        if self.applicati >= self.prossima {
            self.prossima = self.applicati.saturating_mul(2);
            conn.batch_execute("ANALYZE tscns_certificato, tscns_revoca")?;
        }
        Ok(())
    }
}

/// Pass 1: the number of records, or why the file cannot be read whole.
fn struttura(contenuto: &SignedContent<'_>) -> anyhow::Result<Result<u64, Rifiuto>> {
    let mut lettore = Lettore::new(contenuto.open()?, oggi_roma());
    loop {
        match lettore.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Ok(lettore.posizione())),
            Err(r) => return Ok(Err(r)),
        }
    }
}

/// A card number as a key (20 digits fit in 128 bits; memory of a set of them stays small).
fn chiave(numero: &str) -> u128 {
    numero.parse().unwrap_or(u128::MAX)
}

/// The records of the file already committed that passed the field rules: a later one of the
/// same kind for the same card is a duplicate (CNS-0006).
/// Read without the pool's statement timeout: a resumed file may hold millions of records.
fn visti(conn: &mut PgConnection, id: i64) -> QueryResult<HashSet<(TipoRecord, u128)>> {
    let rows: Vec<(String, Option<String>)> = conn.transaction(|c| {
        diesel::sql_query("SET LOCAL statement_timeout = 0").execute(c)?;
        flusso_tscns_record::table
            .filter(flusso_tscns_record::flusso_id.eq(id))
            .filter(flusso_tscns_record::valido)
            .select((
                flusso_tscns_record::tipo_record,
                flusso_tscns_record::numero_tessera,
            ))
            .load(c)
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, n)| Some((TipoRecord::parse(&t)?, chiave(&n?))))
        .collect())
}

/// Applies `batch` and moves the resume point, in one transaction; `fine` (the number of
/// records) also marks the file ELABORATO.
fn applica(
    conn: &mut PgConnection,
    f: &Flusso,
    regione: &str,
    batch: &[Record],
    fine: Option<u64>,
) -> anyhow::Result<()> {
    let tx = f.identificativo_transazione;
    conn.transaction(|c| -> QueryResult<()> {
        // The batch's cards of the region, locked at once in card order: a concurrent events
        // load or another file waits instead of deadlocking with this batch.
        let numeri: Vec<&str> = batch
            .iter()
            .filter_map(|r| match &r.esito {
                Ok(Operazione::Attivazione(a)) => Some(a.numero_tessera.as_str()),
                Ok(Operazione::Revoca(rv)) => Some(rv.numero_tessera.as_str()),
                Err(_) => None,
            })
            .collect();
        tscns_repo::blocca_tessere(c, &numeri, Some(regione))?;
        let mut errori = Vec::new();
        for r in batch {
            let esito = match &r.esito {
                Err(e) => Err(e.clone()),
                Ok(Operazione::Attivazione(a)) => {
                    tscns_repo::applica_attivazione(c, regione, a, tx)?.map(|_| ())
                }
                Ok(Operazione::Revoca(rv)) => {
                    tscns_repo::applica_revoca(c, regione, rv, tx)?.map(|_| ())
                }
            };
            if let Err(e) = esito {
                for (i, e) in e.iter().enumerate() {
                    errori.push((
                        flusso_errore::flusso_id.eq(f.id),
                        flusso_errore::posizione.eq(r.posizione as i64),
                        flusso_errore::ordine.eq(i as i16 + 1),
                        flusso_errore::codice.eq(e.codice()),
                    ));
                }
            }
        }
        let righe: Vec<_> = batch
            .iter()
            .map(|r| {
                (
                    flusso_tscns_record::flusso_id.eq(f.id),
                    flusso_tscns_record::posizione.eq(r.posizione as i64),
                    flusso_tscns_record::tipo_record.eq(r.tipo.as_str()),
                    flusso_tscns_record::numero_tessera.eq(r.numero_tessera.as_deref()),
                    flusso_tscns_record::valido.eq(valido(r)),
                )
            })
            .collect();
        for chunk in righe.chunks(10_000) {
            diesel::insert_into(flusso_tscns_record::table)
                .values(chunk)
                .execute(c)?;
        }
        for chunk in errori.chunks(10_000) {
            diesel::insert_into(flusso_errore::table)
                .values(chunk)
                .execute(c)?;
        }
        if let Some(last) = batch.last() {
            diesel::update(flusso::table.find(f.id))
                .set(flusso::record_letti.eq(last.posizione as i64))
                .execute(c)?;
        }
        if let Some(totali) = fine {
            // Counted over the whole file: no statement timeout for a large one.
            diesel::sql_query("SET LOCAL statement_timeout = 0").execute(c)?;
            let scartati = flusso_errore::table
                .filter(flusso_errore::flusso_id.eq(f.id))
                .select(diesel::dsl::count(flusso_errore::posizione).aggregate_distinct())
                .first::<i64>(c)?;
            diesel::update(flusso::table.find(f.id))
                .set((
                    flusso::stato.eq(Stato::Elaborato.as_str()),
                    flusso::record_letti.eq(totali as i64),
                    flusso::record_totali.eq(totali as i64),
                    flusso::record_scartati.eq(scartati),
                    flusso::terminato_il.eq(diesel::dsl::now),
                ))
                .execute(c)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// The record passed the field rules (a duplicate did too: it stays a key already seen).
fn valido(r: &Record) -> bool {
    match &r.esito {
        Ok(_) => true,
        Err(e) => e == &[Errore::RecordDuplicato],
    }
}
