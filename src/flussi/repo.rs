//! Queries on the `flusso` and `flusso_errore` tables (the staging and the apply are in
//! `import`, being set-based SQL over the per-file partition).

use super::{Stato, Tipo};
use crate::db::schema::{flusso, flusso_errore};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = flusso)]
pub struct Flusso {
    pub id: i64,
    pub protocollo: String,
    pub identificativo_transazione: Uuid,
    pub chiamante: String,
    pub impronta_sha256: String,
    pub stato: String,
    pub codice_rifiuto: Option<String>,
    pub motivo_rifiuto: Option<String>,
    pub percorso: Option<String>,
    pub contenuto_inizio: Option<i64>,
    pub contenuto_lunghezza: Option<i64>,
    pub record_letti: i64,
    pub record_totali: Option<i64>,
    pub record_scartati: Option<i64>,
    pub ricevuto_il: DateTime<Utc>,
    pub terminato_il: Option<DateTime<Utc>>,
    /// `Genere::codice`.
    pub tipo: String,
    /// The sender's region, for the files applied for a region (TS-CNS).
    pub codice_regione: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = flusso)]
pub struct NuovoFlusso<'a> {
    pub protocollo: String,
    pub identificativo_transazione: Uuid,
    pub chiamante: &'a str,
    pub impronta_sha256: &'a str,
    pub stato: &'a str,
    pub codice_rifiuto: Option<&'a str>,
    pub motivo_rifiuto: Option<String>,
    pub percorso: Option<String>,
    pub contenuto_inizio: Option<i64>,
    pub contenuto_lunghezza: Option<i64>,
}

#[derive(QueryableByName)]
struct Protocollo {
    #[diesel(sql_type = diesel::sql_types::Text)]
    p: String,
}

/// A new protocol number: yyMMddHHmmss (UTC) and 5 digits of a sequence.
pub fn nuovo_protocollo(conn: &mut PgConnection) -> QueryResult<String> {
    diesel::sql_query(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYMMDDHH24MISS') \
         || lpad((nextval('flusso_protocollo_seq') % 100000)::text, 5, '0') AS p",
    )
    .get_result::<Protocollo>(conn)
    .map(|r| r.p)
}

/// Records a file of kind `tipo` (sent for region `regione`, when the kind is applied for
/// one); `None` when the same caller's same file (not refused) won a concurrent insert.
pub fn inserisci(
    conn: &mut PgConnection,
    nuovo: &NuovoFlusso<'_>,
    tipo: Tipo,
    regione: Option<&str>,
) -> QueryResult<Option<Flusso>> {
    use diesel::result::{DatabaseErrorKind, Error};
    // In a savepoint of its own: a refused duplicate leaves the caller's transaction usable.
    let result = conn.transaction(|c| {
        diesel::insert_into(flusso::table)
            .values((
                nuovo,
                flusso::tipo.eq(tipo.codice),
                flusso::codice_regione.eq(regione),
            ))
            .returning(Flusso::as_returning())
            .get_result(c)
    });
    match result {
        Ok(f) => Ok(Some(f)),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("flusso_impronta_accettata") =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The file with this digest that `chiamante` sent before and that was not refused: a refused
/// file may be sent again (its refusal may have been temporary, e.g. a certificate not yet
/// registered), and one caller never learns of another's files.
pub fn per_impronta(
    conn: &mut PgConnection,
    chiamante: &str,
    sha: &str,
) -> QueryResult<Option<Flusso>> {
    flusso::table
        .filter(flusso::chiamante.eq(chiamante))
        .filter(flusso::impronta_sha256.eq(sha))
        .filter(flusso::stato.ne(Stato::Rifiutato.as_str()))
        .select(Flusso::as_select())
        .first(conn)
        .optional()
}

pub fn per_protocollo(conn: &mut PgConnection, protocollo: &str) -> QueryResult<Option<Flusso>> {
    flusso::table
        .filter(flusso::protocollo.eq(protocollo))
        .select(Flusso::as_select())
        .first(conn)
        .optional()
}

/// Whether the sender of `f` may still send it: an enabled caller of the file's kind, entitled
/// to its upload and, for a file with a region, still of that region.
pub fn mittente_abilitato(conn: &mut PgConnection, f: &Flusso, t: Tipo) -> QueryResult<bool> {
    use crate::db::schema::chiamante;
    type Riga = (bool, String, Option<String>, Vec<String>);
    let row: Option<Riga> = chiamante::table
        .filter(chiamante::nome.eq(&f.chiamante))
        .select((
            chiamante::abilitato,
            chiamante::tipo,
            chiamante::codice_regione,
            chiamante::operazioni,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((abilitato, tipo, regione, operazioni)) => {
            abilitato
                && t.mittente.as_str() == tipo
                && operazioni.iter().any(|o| o == t.invio)
                && (f.codice_regione.is_none() || f.codice_regione == regione)
        }
        None => false,
    })
}

pub fn per_id(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Flusso>> {
    flusso::table
        .find(id)
        .select(Flusso::as_select())
        .first(conn)
        .optional()
}

/// Files waiting for the worker (received, or interrupted while processed), oldest first.
pub fn da_elaborare(conn: &mut PgConnection) -> QueryResult<Vec<i64>> {
    flusso::table
        .filter(flusso::stato.eq_any(["RICEVUTO", "IN_ELABORAZIONE"]))
        .order(flusso::id)
        .select(flusso::id)
        .load(conn)
}

/// The latest files, newest first.
pub fn elenco(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Flusso>> {
    flusso::table
        .order(flusso::id.desc())
        .limit(limit)
        .select(Flusso::as_select())
        .load(conn)
}

/// Errors of the positions in (`after`, `upto`], in position and field order.
pub fn errori_dopo(
    conn: &mut PgConnection,
    id: i64,
    after: i64,
    upto: i64,
) -> QueryResult<Vec<(i64, String)>> {
    flusso_errore::table
        .filter(flusso_errore::flusso_id.eq(id))
        .filter(flusso_errore::posizione.gt(after))
        .filter(flusso_errore::posizione.le(upto))
        .order((flusso_errore::posizione, flusso_errore::ordine))
        .select((flusso_errore::posizione, flusso_errore::codice))
        .load(conn)
}

/// Takes the file for this session, if no other session (worker or CLI) has it.
pub fn try_lock(conn: &mut PgConnection, id: i64) -> QueryResult<bool> {
    lock(conn, "pg_try_advisory_lock", id)
}

pub fn unlock(conn: &mut PgConnection, id: i64) -> QueryResult<bool> {
    lock(conn, "pg_advisory_unlock", id)
}

fn lock(conn: &mut PgConnection, function: &str, id: i64) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Got {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        got: bool,
    }
    diesel::sql_query(format!("SELECT {function}($1) AS got"))
        .bind::<diesel::sql_types::BigInt, _>(LOCK_BASE.wrapping_add(id))
        .get_result::<Got>(conn)
        .map(|g| g.got)
}

/// Advisory-lock keys of the files: this base plus the file id.
const LOCK_BASE: i64 = 0x7467_666c_0000_0000;
