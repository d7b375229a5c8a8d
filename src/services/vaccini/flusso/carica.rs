//! Importing a received bookings file (called by `crate::flussi::import`), in two phases.
//!
//! 1. Staging: the signed XML is parsed streaming; records that pass the rules needing no
//!    database are COPYed into the file's UNLOGGED partition of `flusso_record`, the others'
//!    errors into `flusso_errore`, in batches; each batch commits with `flusso.record_letti`,
//!    so a stopped import resumes after the last committed batch.
//! 2. Apply: one transaction runs the database rules set-based over the partition (patient,
//!    regions, duplicates in the file, existing bookings), stores their errors, writes
//!    `prenotazione`, marks the file ELABORATO and drops the partition: all or nothing.

use super::parse::Lettore;
use crate::db::schema::{flusso, flusso_errore, flusso_record};
use crate::flussi::import::{self, Esito, ImportOptions, Progress, SignedContent};
use crate::flussi::repo::Flusso;
use crate::flussi::Rifiuto;
use crate::services::vaccini::avn::{Errore, Prenotazione, TipoOperazione};
use diesel::connection::SimpleConnection;
use diesel::pg::CopyFormat;
use diesel::prelude::*;
use diesel::PgConnection;
use std::io::{Read, Write};
use std::time::Instant;

fn partition(id: i64) -> String {
    format!("flusso_record_{id}")
}

/// Stages and applies bookings file `f` (locked by the caller, not done yet). Blocking.
pub fn elabora(
    conn: &mut PgConnection,
    f: &Flusso,
    contenuto: &SignedContent<'_>,
    opz: &ImportOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Esito> {
    let (id, len) = (f.id, contenuto.len);
    let resume = prepara(conn, f)?;
    let input = contenuto.open()?;
    // Parsing (here) and PostgreSQL's COPY (there) overlap: a thread reads the next batch while
    // this one commits the previous; at most two batches are in memory.
    let (send, receive) = std::sync::mpsc::sync_channel::<Pezzo>(1);
    let batch_size = opz.batch;
    std::thread::scope(|scope| {
        scope.spawn(move || leggi(Lettore::new(input), id, resume, batch_size, send));
        let mut batches = 0usize;
        let started = Instant::now();
        for pezzo in receive {
            match pezzo {
                Pezzo::Batch(mut batch, bytes) => {
                    batch.commit(conn, None)?;
                    batches += 1;
                    progress(Progress::Reading {
                        record: batch.last,
                        bytes,
                        bytes_totali: len,
                        secondi: started.elapsed().as_secs_f64(),
                    });
                    if opz.max_batches.is_some_and(|m| batches >= m) || (opz.stop)() {
                        return Ok(Esito::Interrotto);
                    }
                }
                Pezzo::Fine(mut batch, totali) => {
                    batch.last = batch.last.max(resume as u64);
                    batch.commit(conn, Some(totali))?;
                    progress(Progress::Applying { record: totali });
                    applica(conn, f)?;
                    tracing::info!(protocollo = %f.protocollo, record = totali, "bulk file applied");
                    return Ok(Esito::Elaborato);
                }
                Pezzo::Rifiuto(rifiuto) => {
                    let drop = format!("DROP TABLE IF EXISTS {}", partition(id));
                    import::rifiuta(conn, id, &rifiuto, &drop)?;
                    import::remove_spool(f);
                    tracing::info!(protocollo = %f.protocollo, motivo = %rifiuto.testo(), "bulk file refused");
                    return Ok(Esito::Rifiutato);
                }
            }
        }
        anyhow::bail!("the reading thread of bulk file {} stopped", f.protocollo)
    })
}

/// What the reading thread hands over.
enum Pezzo {
    /// A full batch, and the bytes of content read so far.
    Batch(Batch, u64),
    /// The last (possibly empty) batch and the number of records of the file.
    Fine(Batch, u64),
    Rifiuto(Rifiuto),
}

/// Reads the records after `resume` into batches; stops when the receiver is gone.
fn leggi<R: Read>(
    mut lettore: Lettore<R>,
    id: i64,
    resume: i64,
    size: usize,
    send: std::sync::mpsc::SyncSender<Pezzo>,
) {
    let mut batch = Batch::new(id, size);
    loop {
        let (pos, result) = match lettore.next_record() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(rifiuto) => {
                let _ = send.send(Pezzo::Rifiuto(rifiuto));
                return;
            }
        };
        if pos as i64 <= resume {
            continue;
        }
        batch.push(pos, &result);
        if batch.records >= size {
            let full = std::mem::replace(&mut batch, Batch::new(id, size));
            if send.send(Pezzo::Batch(full, lettore.bytes_read())).is_err() {
                return;
            }
        }
    }
    let _ = send.send(Pezzo::Fine(batch, lettore.posizione()));
}

/// Marks the file IN_ELABORAZIONE, creates its partition, and returns the resume position: the
/// last committed one, or 0 when the staged rows do not match it (then the staging restarts).
fn prepara(conn: &mut PgConnection, f: &Flusso) -> anyhow::Result<i64> {
    let id = f.id;
    let part = partition(id);
    conn.batch_execute(&format!(
        "UPDATE flusso SET stato = 'IN_ELABORAZIONE' WHERE id = {id}; \
         CREATE UNLOGGED TABLE IF NOT EXISTS {part} PARTITION OF flusso_record FOR VALUES IN ({id})"
    ))?;
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        staged: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rejected: i64,
    }
    let c: Counts = diesel::sql_query(format!(
        "SELECT (SELECT count(*) FROM {part}) AS staged, \
         (SELECT count(DISTINCT posizione) FROM flusso_errore WHERE flusso_id = {id}) AS rejected"
    ))
    .get_result(conn)?;
    if c.staged + c.rejected == f.record_letti {
        if f.record_letti > 0 {
            tracing::info!(protocollo = %f.protocollo, record = f.record_letti, "bulk file resumed");
        }
        return Ok(f.record_letti);
    }
    tracing::warn!(
        protocollo = %f.protocollo,
        committed = f.record_letti,
        staged = c.staged,
        "staged records lost (database crash?): staging the file again"
    );
    conn.transaction(|c| {
        c.batch_execute(&format!(
            "TRUNCATE {part}; DELETE FROM flusso_errore WHERE flusso_id = {id}; \
             UPDATE flusso SET record_letti = 0, record_totali = NULL WHERE id = {id}"
        ))
    })?;
    Ok(0)
}

/// The records of one staging transaction: COPY text and error rows.
struct Batch {
    id: i64,
    copy: Vec<u8>,
    errors: Vec<(i64, i64, i16, &'static str)>,
    records: usize,
    last: u64,
}

impl Batch {
    fn new(id: i64, size: usize) -> Self {
        Self {
            id,
            copy: Vec::with_capacity(size.saturating_mul(96)),
            errors: Vec::new(),
            records: 0,
            last: 0,
        }
    }

    fn push(&mut self, pos: u64, result: &Result<Prenotazione, Vec<Errore>>) {
        self.records += 1;
        self.last = pos;
        match result {
            Ok(p) => copy_line(&mut self.copy, self.id, pos, p),
            Err(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    self.errors
                        .push((self.id, pos as i64, i as i16 + 1, e.codice()));
                }
            }
        }
    }

    /// Stages the batch and moves the resume point, in one transaction.
    fn commit(&mut self, conn: &mut PgConnection, totali: Option<u64>) -> anyhow::Result<()> {
        let (id, copy, errors) = (self.id, &self.copy, &self.errors);
        let last = self.last as i64;
        conn.transaction(|c| -> QueryResult<()> {
            if !copy.is_empty() {
                diesel::copy_from(flusso_record::table)
                    .from_raw_data(flusso_record::table, |w| {
                        w.write_all(copy)
                            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
                    })
                    .with_format(CopyFormat::Text)
                    .execute(c)?;
            }
            for chunk in errors.chunks(10_000) {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|(f, p, o, code)| {
                        (
                            flusso_errore::flusso_id.eq(f),
                            flusso_errore::posizione.eq(p),
                            flusso_errore::ordine.eq(o),
                            flusso_errore::codice.eq(*code),
                        )
                    })
                    .collect();
                diesel::insert_into(flusso_errore::table)
                    .values(rows)
                    .execute(c)?;
            }
            diesel::update(flusso::table.find(id))
                .set((
                    flusso::record_letti.eq(last),
                    flusso::record_totali.eq(totali.map(|t| t as i64)),
                ))
                .execute(c)?;
            Ok(())
        })?;
        self.copy.clear();
        self.errors.clear();
        self.records = 0;
        Ok(())
    }
}

/// One row of the COPY text format; every value is a checked domain value (no escaping needed).
fn copy_line(out: &mut Vec<u8>, id: i64, pos: u64, p: &Prenotazione) {
    let _ = writeln!(
        out,
        "{id}\t{pos}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        p.tipo_operazione.as_str(),
        p.codice_fiscale.as_str(),
        p.dose,
        p.regione_prenotazione.as_str(),
        p.codice_regione.as_str(),
        p.codice_aic.as_ref().map_or("\\N", |a| a.as_str()),
        p.data_prenotazione.format("%Y-%m-%d"),
    );
}

/// Phase 2: the database rules and the writes, set-based, in one transaction.
fn applica(conn: &mut PgConnection, f: &Flusso) -> anyhow::Result<()> {
    let id = f.id;
    let part = partition(id);
    let tx = f.identificativo_transazione;
    let sql = format!(
        r#"
SET LOCAL statement_timeout = 0;
SET LOCAL work_mem = '256MB';
-- The monitoring counts this file's writes under the bulk channel (mon_vaccinazioni).
SET LOCAL tsgate.canale = 'FLUSSO';
-- The bookings the file names are locked first (in id order, counted rather than sent back), so
-- a web-service change or cancel, which reads the booking FOR UPDATE, waits for this file.
SELECT count(*) FROM (
    SELECT 1 FROM prenotazione p JOIN {part} s
        ON p.codice_fiscale = s.codice_fiscale AND p.dose = s.dose
       AND p.regione_prenotazione = s.regione_prenotazione
    ORDER BY p.id
    FOR UPDATE OF p
) locked;
CREATE TEMP TABLE flusso_verifica ON COMMIT DROP AS
SELECT x.*,
       CASE WHEN NOT (e_cr OR e_as OR e_rp OR e_dup) THEN
            CASE WHEN tipo_operazione = '{ins}' AND p_id IS NOT NULL AND NOT uguale THEN '{gia}'
                 WHEN tipo_operazione <> '{ins}' AND p_id IS NULL THEN '{non}'
            END
       END AS e_es
FROM (
    SELECT s.posizione, s.tipo_operazione, s.codice_fiscale, s.dose, s.regione_prenotazione,
           s.codice_regione, s.codice_aic, s.data_prenotazione,
           rc.codice IS NULL AS e_cr,
           a.codice_fiscale IS NULL AS e_as,
           rp.codice IS NULL AS e_rp,
           -- The same booking in an earlier record of the file that named a known patient and
           -- known regions (records refused for those do not hide a corrected one).
           coalesce(count(*) FILTER (WHERE rc.codice IS NOT NULL AND a.codice_fiscale IS NOT NULL
                                       AND rp.codice IS NOT NULL)
                    OVER (PARTITION BY s.codice_fiscale, s.dose, s.regione_prenotazione
                          ORDER BY s.posizione
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) > 0 AS e_dup,
           p.id AS p_id,
           (p.codice_regione = s.codice_regione AND p.codice_aic IS NOT DISTINCT FROM s.codice_aic
            AND p.data_prenotazione = s.data_prenotazione) AS uguale
    FROM {part} s
    LEFT JOIN regione rc ON rc.codice = s.codice_regione
    LEFT JOIN assistito a ON a.codice_fiscale = s.codice_fiscale
    LEFT JOIN regione rp ON rp.codice = s.regione_prenotazione
    LEFT JOIN prenotazione p ON p.codice_fiscale = s.codice_fiscale AND p.dose = s.dose
                            AND p.regione_prenotazione = s.regione_prenotazione
) x;

INSERT INTO flusso_errore (flusso_id, posizione, ordine, codice)
SELECT {id}, v.posizione, e.ordine, e.codice
FROM (SELECT * FROM flusso_verifica
      WHERE e_cr OR e_as OR e_rp OR e_dup OR e_es IS NOT NULL) v
CROSS JOIN LATERAL (VALUES
    (1::smallint, CASE WHEN v.e_as THEN '{asx}' END),
    (2::smallint, CASE WHEN v.e_cr THEN '{cr}' END),
    (3::smallint, CASE WHEN v.e_rp THEN '{rp}' END),
    (4::smallint, CASE WHEN v.e_dup AND NOT (v.e_cr OR v.e_as OR v.e_rp) THEN '{dup}' END),
    (5::smallint, v.e_es)) AS e (ordine, codice)
WHERE e.codice IS NOT NULL;

DELETE FROM flusso_verifica WHERE e_cr OR e_as OR e_rp OR e_dup OR e_es IS NOT NULL;

INSERT INTO prenotazione (codice_fiscale, dose, regione_prenotazione, codice_regione, codice_aic,
                          data_prenotazione, identificativo_transazione)
SELECT codice_fiscale, dose, regione_prenotazione, codice_regione, codice_aic, data_prenotazione,
       '{tx}'
FROM flusso_verifica WHERE tipo_operazione = '{ins}' AND p_id IS NULL;

UPDATE prenotazione p
SET codice_regione = v.codice_regione, codice_aic = v.codice_aic,
    data_prenotazione = v.data_prenotazione, identificativo_transazione = '{tx}',
    aggiornata_il = now()
FROM flusso_verifica v
WHERE v.tipo_operazione = '{var}' AND p.id = v.p_id;

DELETE FROM prenotazione p USING flusso_verifica v
WHERE v.tipo_operazione = '{can}' AND p.id = v.p_id;

UPDATE flusso
SET stato = 'ELABORATO', terminato_il = now(),
    record_scartati = (SELECT count(DISTINCT posizione) FROM flusso_errore WHERE flusso_id = {id})
WHERE id = {id};

DROP TABLE {part};
"#,
        ins = TipoOperazione::Inserimento.as_str(),
        var = TipoOperazione::Variazione.as_str(),
        can = TipoOperazione::Cancellazione.as_str(),
        gia = Errore::PrenotazioneGiaPresente.codice(),
        non = Errore::PrenotazioneNonPresente.codice(),
        cr = Errore::CodiceRegioneSconosciuto.codice(),
        asx = Errore::AssistitoSconosciuto.codice(),
        rp = Errore::RegioneSconosciuta.codice(),
        dup = Errore::RecordDuplicatoNelFlusso.codice(),
    );
    conn.transaction(|c| c.batch_execute(&sql))?;
    import::remove_spool(f);
    Ok(())
}
