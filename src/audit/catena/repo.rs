//! The chain in PostgreSQL: appending a row under the head's lock, and verifying the stored
//! chain in batches inside one snapshot.

use super::regole::{Contenuto, RigaAudit, Testa, Verifica, Verificatore};
use super::voce::VoceAudit;
use crate::db::schema::{audit_amministrativo, audit_testa};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;

/// Rows read per query by [`verifica`].
pub const RIGHE_PER_LOTTO: i64 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum ErroreAudit {
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    /// `audit_testa` has no row: nothing is appended to a chain whose head is gone.
    #[error("testa della catena mancante (audit_testa è vuota): la catena va verificata")]
    TestaMancante,
    /// The head's hash is not 32 bytes, or its id cannot grow.
    #[error("testa della catena non valida: la catena va verificata")]
    TestaNonValida,
    #[error("attore vuoto")]
    AttoreVuoto,
}

/// Appends `voce` to the chain and returns its id.
///
/// Call it **inside the transaction of the change it records** (e.g. within
/// `conn.transaction(|c| { ...change...; registra(c, &voce) })`): it then runs in a savepoint of
/// that transaction, so the change and its audit row commit or roll back together. Outside a
/// transaction it opens and commits its own (for events with no other write, e.g. a refused
/// login).
///
/// Guarantees: it locks the head row (`SELECT ... FOR UPDATE`), so concurrent writers append
/// one after the other and never fork the chain; the new row's id is the head's id + 1 (ids are
/// contiguous, a rollback rolls the head back too); the head is updated in the same transaction.
/// The lock is held until the caller's transaction ends: call it last, just before committing.
/// The caller's transaction should be READ COMMITTED (the default): under REPEATABLE READ a
/// concurrent append makes it fail with a serialization error.
pub fn registra(conn: &mut PgConnection, voce: &VoceAudit) -> Result<i64, ErroreAudit> {
    if voce.attore.is_empty() {
        return Err(ErroreAudit::AttoreVuoto);
    }
    conn.transaction(|conn| {
        let (ultimo_id, ultimo_hash) = audit_testa::table
            .select((audit_testa::ultimo_id, audit_testa::ultimo_hash))
            .for_update()
            .first::<(i64, Vec<u8>)>(conn)
            .optional()?
            .ok_or(ErroreAudit::TestaMancante)?;
        if ultimo_hash.len() != 32 {
            return Err(ErroreAudit::TestaNonValida);
        }
        let id = ultimo_id
            .checked_add(1)
            .ok_or(ErroreAudit::TestaNonValida)?;
        let adesso = Utc::now();
        // The column keeps milliseconds: hash exactly what is stored.
        let istante = DateTime::from_timestamp_millis(adesso.timestamp_millis()).unwrap_or(adesso);
        let contenuto = Contenuto {
            id,
            istante_ms: istante.timestamp_millis(),
            attore: &voce.attore,
            azione: voce.azione.as_str(),
            oggetto: voce.oggetto.as_deref(),
            dettaglio: voce.dettaglio.as_deref(),
            esito: voce.esito.as_deref(),
        };
        let hash = contenuto.hash(&ultimo_hash).to_vec();
        diesel::insert_into(audit_amministrativo::table)
            .values((
                audit_amministrativo::id.eq(id),
                audit_amministrativo::istante.eq(istante),
                audit_amministrativo::attore.eq(contenuto.attore),
                audit_amministrativo::azione.eq(contenuto.azione),
                audit_amministrativo::oggetto.eq(contenuto.oggetto),
                audit_amministrativo::dettaglio.eq(contenuto.dettaglio),
                audit_amministrativo::esito.eq(contenuto.esito),
                audit_amministrativo::hash_precedente.eq(&ultimo_hash),
                audit_amministrativo::hash.eq(&hash),
            ))
            .execute(conn)?;
        diesel::update(audit_testa::table)
            .set((
                audit_testa::ultimo_id.eq(id),
                audit_testa::ultimo_hash.eq(&hash),
            ))
            .execute(conn)?;
        Ok(id)
    })
}

/// Verifies the whole stored chain and reports its first anomaly (see
/// [`Verificatore::riga`] for the rules), reading [`RIGHE_PER_LOTTO`] rows at a time.
pub fn verifica(conn: &mut PgConnection) -> Result<Verifica, ErroreAudit> {
    verifica_a_lotti(conn, RIGHE_PER_LOTTO)
}

/// [`verifica`], reading `righe_per_lotto` rows per query (at least 1).
///
/// Runs in its own REPEATABLE READ, READ ONLY transaction, so the head and the rows are one
/// snapshot even while operators keep appending; memory stays one batch whatever the length.
/// Call it on a connection with no open transaction.
pub fn verifica_a_lotti(
    conn: &mut PgConnection,
    righe_per_lotto: i64,
) -> Result<Verifica, ErroreAudit> {
    let lotto = righe_per_lotto.max(1);
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(|conn| {
            let testa = audit_testa::table
                .select((audit_testa::ultimo_id, audit_testa::ultimo_hash))
                .first::<(i64, Vec<u8>)>(conn)
                .optional()?
                .map(|(ultimo_id, ultimo_hash)| Testa {
                    ultimo_id,
                    ultimo_hash,
                });
            let mut v = Verificatore::new(testa);
            let mut dopo = i64::MIN;
            loop {
                let righe: Vec<RigaAudit> = audit_amministrativo::table
                    .filter(audit_amministrativo::id.gt(dopo))
                    .order(audit_amministrativo::id.asc())
                    .limit(lotto)
                    .select(RigaAudit::as_select())
                    .load(conn)?;
                for r in &righe {
                    if let Err(a) = v.riga(r) {
                        return Ok(Verifica::Compromessa(a));
                    }
                }
                match righe.last() {
                    Some(r) if righe.len() as i64 == lotto => dopo = r.id,
                    _ => break,
                }
            }
            Ok(match v.fine() {
                Ok(i) => Verifica::Integra(i),
                Err(a) => Verifica::Compromessa(a),
            })
        })
}
