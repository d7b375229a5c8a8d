//! Queries that manage the registry: callers, their IP ranges and certificates.

use crate::db::schema::{chiamante as c, chiamante_certificato as cc, chiamante_rete as cr};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ipnetwork::IpNetwork;

/// A caller to create (or update) with its ranges.
#[derive(Debug, Clone)]
pub struct NewCaller<'a> {
    pub nome: &'a str,
    pub tipo: &'a str,
    pub codice_regione: Option<&'a str>,
    pub operazioni: Vec<String>,
    pub limite_al_secondo: i32,
    pub limite_raffica: i32,
    pub tessera_obbligatoria: bool,
    pub reti: Vec<IpNetwork>,
}

/// Inserts or updates the caller by name and replaces its ranges; returns its id.
pub fn upsert_caller(conn: &mut PgConnection, new: &NewCaller<'_>) -> QueryResult<i64> {
    conn.transaction(|conn| {
        let id: i64 = diesel::insert_into(c::table)
            .values((
                c::nome.eq(new.nome),
                c::tipo.eq(new.tipo),
                c::codice_regione.eq(new.codice_regione),
                c::operazioni.eq(&new.operazioni),
                c::limite_al_secondo.eq(new.limite_al_secondo),
                c::limite_raffica.eq(new.limite_raffica),
                c::tessera_obbligatoria.eq(new.tessera_obbligatoria),
            ))
            .on_conflict(c::nome)
            .do_update()
            .set((
                c::tipo.eq(new.tipo),
                c::codice_regione.eq(new.codice_regione),
                c::operazioni.eq(&new.operazioni),
                c::limite_al_secondo.eq(new.limite_al_secondo),
                c::limite_raffica.eq(new.limite_raffica),
                c::tessera_obbligatoria.eq(new.tessera_obbligatoria),
            ))
            .returning(c::id)
            .get_result(conn)?;
        diesel::delete(cr::table.filter(cr::chiamante_id.eq(id))).execute(conn)?;
        let rows: Vec<_> = new
            .reti
            .iter()
            .map(|r| (cr::chiamante_id.eq(id), cr::rete.eq(*r)))
            .collect();
        diesel::insert_into(cr::table).values(&rows).execute(conn)?;
        Ok(id)
    })
}

pub fn caller_id(conn: &mut PgConnection, nome: &str) -> QueryResult<Option<i64>> {
    c::table
        .filter(c::nome.eq(nome))
        .select(c::id)
        .first(conn)
        .optional()
}

/// Binds a certificate to a caller (idempotent on the fingerprint).
pub fn register_certificate(
    conn: &mut PgConnection,
    caller_id: i64,
    fingerprint: &str,
    serial: &str,
    not_after: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(cc::table)
        .values((
            cc::impronta_sha256.eq(fingerprint),
            cc::chiamante_id.eq(caller_id),
            cc::seriale.eq(serial),
            cc::scadenza.eq(not_after),
        ))
        .on_conflict(cc::impronta_sha256)
        .do_nothing()
        .execute(conn)?;
    Ok(())
}

/// Marks a certificate revoked; returns whether it was known.
pub fn revoke_certificate(conn: &mut PgConnection, fingerprint: &str) -> QueryResult<bool> {
    let n = diesel::update(
        cc::table
            .filter(cc::impronta_sha256.eq(fingerprint))
            .filter(cc::revocato_il.is_null()),
    )
    .set(cc::revocato_il.eq(diesel::dsl::now))
    .execute(conn)?;
    Ok(n > 0)
}
