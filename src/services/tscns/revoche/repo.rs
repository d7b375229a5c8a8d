//! Queries of the revocation notices: the loaded events, the queue of notices per region (read
//! by cursor, acknowledged by id), the stored files and their transmission log.

use crate::db::schema::{
    comunicazione_revoca as cr, evento_tessera as ev, fornitura_revoche as fr,
    fornitura_revoche_trasmissione as ft, regione,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use uuid::Uuid;

/// Key of the transaction-scoped advisory lock taken by whoever queues notices: one writer at a
/// time, so the ids (the CMS cursor) become visible in increasing order and a CMS reading by
/// cursor never skips a notice committed late with a lower id.
const LOCK_CODA: i64 = 0x7473_6e73_7265_766f; // "tsnsrevo"

pub fn blocca_coda(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(LOCK_CODA)
        .execute(conn)
        .map(|_| ())
}

/// Stores an event; `None` when the same event (card, type, date) was loaded before.
pub fn inserisci_evento(
    conn: &mut PgConnection,
    numero: &str,
    tipo: &str,
    data: NaiveDate,
    fonte: &str,
) -> QueryResult<Option<i64>> {
    diesel::insert_into(ev::table)
        .values((
            ev::numero_tessera.eq(numero),
            ev::tipo.eq(tipo),
            ev::data_evento.eq(data),
            ev::fonte.eq(fonte),
        ))
        .on_conflict_do_nothing()
        .returning(ev::id)
        .get_result(conn)
        .optional()
}

/// The id of the event (card, type, date) stored before (`NotFound` when there is none).
pub fn evento(
    conn: &mut PgConnection,
    numero: &str,
    tipo: &str,
    data: NaiveDate,
) -> QueryResult<i64> {
    ev::table
        .filter(ev::numero_tessera.eq(numero))
        .filter(ev::tipo.eq(tipo))
        .filter(ev::data_evento.eq(data))
        .select(ev::id)
        .get_result(conn)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cr)]
pub struct NuovaComunicazione<'a> {
    pub codice_regione: &'a str,
    pub numero_tessera: &'a str,
    pub codice_fiscale: &'a str,
    pub seriale_certificato: &'a str,
    pub emittente_certificato: &'a str,
    pub motivo: &'a str,
    pub data_evento: NaiveDate,
    pub evento_id: i64,
}

/// Queues a notice (call under `blocca_coda`); false when that card certificate already has one.
pub fn inserisci_comunicazione(
    conn: &mut PgConnection,
    c: &NuovaComunicazione<'_>,
) -> QueryResult<bool> {
    let n = diesel::insert_into(cr::table)
        .values(c)
        .on_conflict((cr::numero_tessera, cr::seriale_certificato))
        .do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}

/// One notice as delivered to the CMS.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Comunicazione {
    pub id: i64,
    pub numero_tessera: String,
    pub codice_fiscale: String,
    pub seriale_certificato: String,
    pub emittente_certificato: String,
    pub motivo: String,
    pub data_evento: NaiveDate,
    pub creata_il: DateTime<Utc>,
}

/// Up to `limite` pending notices of `regione` with id greater than `dopo`, by id.
pub fn pendenti(
    conn: &mut PgConnection,
    regione: &str,
    dopo: i64,
    limite: i64,
) -> QueryResult<Vec<Comunicazione>> {
    cr::table
        .filter(cr::codice_regione.eq(regione))
        .filter(cr::confermata_il.is_null())
        .filter(cr::id.gt(dopo))
        .order(cr::id)
        .limit(limite)
        .select((
            cr::id,
            cr::numero_tessera,
            cr::codice_fiscale,
            cr::seriale_certificato,
            cr::emittente_certificato,
            cr::motivo,
            cr::data_evento,
            cr::creata_il,
        ))
        .load(conn)
}

/// Acknowledges the pending notices of `regione` among `ids` for `transazione` (the ones already
/// acknowledged keep their first acknowledgement); returns every id among `ids` that is a notice
/// of `regione`, acknowledged now or before.
pub fn conferma(
    conn: &mut PgConnection,
    regione: &str,
    ids: &[i64],
    transazione: Uuid,
) -> QueryResult<Vec<i64>> {
    diesel::update(
        cr::table
            .filter(cr::codice_regione.eq(regione))
            .filter(cr::id.eq_any(ids))
            .filter(cr::confermata_il.is_null()),
    )
    .set((
        cr::confermata_il.eq(
            diesel::dsl::sql::<Nullable<diesel::sql_types::Timestamptz>>(
                "date_trunc('milliseconds', now())",
            ),
        ),
        cr::transazione_conferma.eq(transazione),
    ))
    .execute(conn)?;
    cr::table
        .filter(cr::codice_regione.eq(regione))
        .filter(cr::id.eq_any(ids))
        .select(cr::id)
        .order(cr::id)
        .load(conn)
}

pub fn regione_esiste(conn: &mut PgConnection, codice: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(regione::table.find(codice))).get_result(conn)
}

/// The database clock, to the millisecond.
pub fn adesso(conn: &mut PgConnection) -> QueryResult<DateTime<Utc>> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
        "date_trunc('milliseconds', now())",
    ))
    .get_result(conn)
}

#[derive(Insertable)]
#[diesel(table_name = fr)]
pub struct NuovoFile<'a> {
    pub codice_regione: &'a str,
    pub generata_il: DateTime<Utc>,
    pub nome_file: &'a str,
    pub numero_record: i32,
    pub sha256: &'a str,
    pub contenuto: &'a [u8],
}

pub fn inserisci_file(conn: &mut PgConnection, file: &NuovoFile<'_>) -> QueryResult<i64> {
    diesel::insert_into(fr::table)
        .values(file)
        .returning(fr::id)
        .get_result(conn)
}

/// One row of the transmission log.
#[derive(Insertable)]
#[diesel(table_name = ft)]
pub struct Trasmissione {
    pub fornitura_id: Option<i64>,
    pub nome_file: Option<String>,
    pub tipo: &'static str,
    pub ente: Option<String>,
    pub operatore: String,
    pub trasmessa_il: DateTime<Utc>,
    pub esito: &'static str,
    pub durata_ms: i32,
    pub dettaglio: Option<String>,
}

pub fn registra(conn: &mut PgConnection, row: &Trasmissione) -> QueryResult<()> {
    diesel::insert_into(ft::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A stored file, as listed.
#[derive(Debug, Clone, QueryableByName)]
pub struct VoceFile {
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
}

/// The newest `limite` files (of one region, or all), newest first.
pub fn elenco_file(
    conn: &mut PgConnection,
    regione: Option<&str>,
    limite: i64,
) -> QueryResult<Vec<VoceFile>> {
    diesel::sql_query(
        "SELECT id, codice_regione, \
                to_char(generata_il AT TIME ZONE 'Europe/Rome', 'YYYY-MM-DD HH24:MI:SS.MS') \
                    AS generata_il_roma, \
                numero_record, nome_file, sha256 \
         FROM fornitura_revoche \
         WHERE $1::text IS NULL OR codice_regione = $1 \
         ORDER BY generata_il DESC, id DESC \
         LIMIT $2",
    )
    .bind::<Nullable<Text>, _>(regione)
    .bind::<BigInt, _>(limite)
    .load(conn)
}

/// Region and name of file `id`, locked against its deletion until the transaction ends.
pub fn intestazione_file(
    conn: &mut PgConnection,
    id: i64,
) -> QueryResult<Option<(String, String)>> {
    fr::table
        .find(id)
        .select((fr::codice_regione, fr::nome_file))
        .for_key_share()
        .get_result(conn)
        .optional()
}

/// Content of file `id`.
pub fn contenuto_file(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Vec<u8>>> {
    fr::table
        .find(id)
        .select(fr::contenuto)
        .get_result(conn)
        .optional()
}

/// Deletes the notices acknowledged, the files produced and the log rows recorded more than
/// `months` months ago; returns how many of each.
pub fn purge(conn: &mut PgConnection, months: i32) -> QueryResult<(usize, usize, usize)> {
    conn.transaction(|c| {
        use crate::db::delete_oldest;
        let comunicazioni = delete_oldest(c, "comunicazione_revoca", "confermata_il", months)?;
        let trasmissioni =
            delete_oldest(c, "fornitura_revoche_trasmissione", "trasmessa_il", months)?;
        let file = delete_oldest(c, "fornitura_revoche", "generata_il", months)?;
        Ok((comunicazioni, file, trasmissioni))
    })
}
