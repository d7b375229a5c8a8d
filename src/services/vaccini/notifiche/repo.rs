//! Queries of the multiple-booking notices: the set-based selection of the patients, the stored
//! files, the section 5.5 transmission log and its retention.

use super::formato::RigaNotifica;
use crate::db::schema::{notifica_prenotazioni as np, notifica_trasmissione as nt, regione};
use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Time};

#[derive(QueryableByName)]
struct RigaDb {
    #[diesel(sql_type = Text)]
    codice_fiscale: String,
    #[diesel(sql_type = Text)]
    regione_assistenza: String,
    #[diesel(sql_type = BigInt)]
    numero_prenotazioni: i64,
    #[diesel(sql_type = Array<Text>)]
    altre_regioni: Vec<String>,
}

/// The patients to notify, with their assistance region, sorted by region then codice fiscale:
/// one `GROUP BY` over the current bookings (dated today or later, Italian time: a past booking
/// was kept or missed, and is no longer a double booking to act on) joined to the registry. A
/// patient is listed when at least one booking is in a region other than the assistance region
/// (which covers "booked in more than one region": two regions cannot both be the assistance
/// region).
pub fn righe(conn: &mut PgConnection, regione: Option<&str>) -> QueryResult<Vec<RigaNotifica>> {
    let rows: Vec<RigaDb> = diesel::sql_query(
        "SELECT p.codice_fiscale, a.regione_assistenza, count(*) AS numero_prenotazioni, \
                array_agg(DISTINCT p.regione_prenotazione ORDER BY p.regione_prenotazione) \
                    FILTER (WHERE p.regione_prenotazione <> a.regione_assistenza) AS altre_regioni \
         FROM prenotazione p \
         JOIN assistito a ON a.codice_fiscale = p.codice_fiscale \
         WHERE ($1::text IS NULL OR a.regione_assistenza = $1) \
           AND p.data_prenotazione >= (now() AT TIME ZONE 'Europe/Rome')::date \
         GROUP BY a.regione_assistenza, p.codice_fiscale \
         HAVING bool_or(p.regione_prenotazione <> a.regione_assistenza) \
         ORDER BY a.regione_assistenza COLLATE \"C\", p.codice_fiscale COLLATE \"C\"",
    )
    .bind::<Nullable<Text>, _>(regione)
    .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let numero = u32::try_from(r.numero_prenotazioni).map_err(|_| {
                diesel::result::Error::DeserializationError(
                    format!("numero prenotazioni {} out of range", r.numero_prenotazioni).into(),
                )
            })?;
            Ok(RigaNotifica {
                codice_fiscale: r.codice_fiscale,
                regione_assistenza: r.regione_assistenza,
                numero_prenotazioni: numero,
                altre_regioni: r.altre_regioni,
            })
        })
        .collect()
}

/// Every region code (the 21 regions and the virtual ones), sorted.
pub fn regioni(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    regione::table
        .select(regione::codice)
        .order(regione::codice)
        .load(conn)
}

/// The database's clock, to the millisecond: the production's time, on the same clock as the
/// daily schedule's check (`produzione_dovuta`).
pub fn adesso(conn: &mut PgConnection) -> QueryResult<DateTime<Utc>> {
    #[derive(QueryableByName)]
    struct Adesso {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        t: DateTime<Utc>,
    }
    let row: Adesso =
        diesel::sql_query("SELECT date_trunc('milliseconds', now()) AS t").get_result(conn)?;
    Ok(row.t)
}

#[derive(Insertable)]
#[diesel(table_name = np)]
pub struct NuovoFile<'a> {
    pub codice_regione: &'a str,
    pub generata_il: DateTime<Utc>,
    pub nome_file: &'a str,
    pub numero_record: i32,
    pub sha256: &'a str,
    pub contenuto: &'a [u8],
    pub automatica: bool,
}

pub fn inserisci_file(conn: &mut PgConnection, file: &NuovoFile<'_>) -> QueryResult<i64> {
    diesel::insert_into(np::table)
        .values(file)
        .returning(np::id)
        .get_result(conn)
}

/// One row of the section 5.5 log.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = nt)]
pub struct Trasmissione {
    pub notifica_id: Option<i64>,
    pub nome_file: Option<String>,
    pub tipo: &'static str,
    pub ente: Option<String>,
    pub operatore: String,
    pub trasmessa_il: DateTime<Utc>,
    pub esito: &'static str,
    pub durata_ms: i32,
    pub dettaglio: Option<String>,
}

pub fn registra(conn: &mut PgConnection, rows: &[Trasmissione]) -> QueryResult<usize> {
    diesel::insert_into(nt::table).values(rows).execute(conn)
}

/// A stored file, content included.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct FileNotifica {
    pub id: i64,
    pub codice_regione: String,
    pub generata_il: DateTime<Utc>,
    pub nome_file: String,
    pub numero_record: i32,
    pub sha256: String,
    pub contenuto: Vec<u8>,
}

pub fn carica(conn: &mut PgConnection, id: i64) -> QueryResult<Option<FileNotifica>> {
    np::table
        .filter(np::id.eq(id))
        .select((
            np::id,
            np::codice_regione,
            np::generata_il,
            np::nome_file,
            np::numero_record,
            np::sha256,
            np::contenuto,
        ))
        .first(conn)
        .optional()
}

/// A stored file as listed: its generation time also in Europe/Rome, formatted by PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct VoceElenco {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub codice_regione: String,
    #[diesel(sql_type = Text)]
    pub generata_il_roma: String,
    #[diesel(sql_type = Integer)]
    pub numero_record: i32,
    #[diesel(sql_type = Text)]
    pub nome_file: String,
    #[diesel(sql_type = Text)]
    pub sha256: String,
    #[diesel(sql_type = Bool)]
    pub automatica: bool,
}

/// The newest `limite` files (of one region, or all), newest first.
pub fn elenco(
    conn: &mut PgConnection,
    regione: Option<&str>,
    limite: i64,
) -> QueryResult<Vec<VoceElenco>> {
    diesel::sql_query(
        "SELECT id, codice_regione, \
                to_char(generata_il AT TIME ZONE 'Europe/Rome', 'YYYY-MM-DD HH24:MI:SS.MS') \
                    AS generata_il_roma, \
                numero_record, nome_file, sha256, automatica \
         FROM notifica_prenotazioni \
         WHERE $1::text IS NULL OR codice_regione = $1 \
         ORDER BY generata_il DESC, id DESC \
         LIMIT $2",
    )
    .bind::<Nullable<Text>, _>(regione)
    .bind::<BigInt, _>(limite)
    .load(conn)
}

#[derive(QueryableByName)]
struct Preso {
    #[diesel(sql_type = Bool)]
    preso: bool,
}

/// Takes the production lock for the current transaction; false when another session holds it.
pub fn blocca_produzione(conn: &mut PgConnection) -> QueryResult<bool> {
    let row: Preso = diesel::sql_query("SELECT pg_try_advisory_xact_lock(72430061) AS preso")
        .get_result(conn)?;
    Ok(row.preso)
}

/// The whole-table `GROUP BY` of a production may outlast the pool's 10 s statement timeout:
/// 10 minutes for the rest of the current transaction.
pub fn timeout_produzione(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SET LOCAL statement_timeout = '10min'").execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Dovuta {
    #[diesel(sql_type = Bool)]
    dovuta: bool,
}

/// Whether the daily production is due: no automatic production since the latest scheduled
/// time `ora` (Europe/Rome) that has passed, today's or else yesterday's.
pub fn produzione_dovuta(conn: &mut PgConnection, ora: NaiveTime) -> QueryResult<bool> {
    let row: Dovuta = diesel::sql_query(
        "WITH s AS (SELECT date_trunc('day', now() AT TIME ZONE 'Europe/Rome') + $1 AS oggi, \
                           now() AT TIME ZONE 'Europe/Rome' AS adesso) \
         SELECT NOT EXISTS ( \
             SELECT 1 FROM notifica_prenotazioni n \
             WHERE n.automatica AND n.generata_il >= \
                 (CASE WHEN s.adesso >= s.oggi THEN s.oggi ELSE s.oggi - interval '1 day' END) \
                     AT TIME ZONE 'Europe/Rome') AS dovuta \
         FROM s",
    )
    .bind::<Time, _>(ora)
    .get_result(conn)?;
    Ok(row.dovuta)
}

/// Deletes the files and the log rows older than `months` months; returns how many of each.
pub fn purge(conn: &mut PgConnection, months: i32) -> QueryResult<(usize, usize)> {
    conn.transaction(|c| {
        use crate::db::delete_oldest;
        let trasmissioni = delete_oldest(c, "notifica_trasmissione", "trasmessa_il", months)?;
        let file = delete_oldest(c, "notifica_prenotazioni", "generata_il", months)?;
        Ok((file, trasmissioni))
    })
}
