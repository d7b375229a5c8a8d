//! The table `otp_autorizzato`: set-if-absent authorisation, the once-only check, the purge.
//! Every rule is one statement, so it holds across gateway nodes sharing the database.

use chrono::NaiveDate;
use diesel::sql_types::{BigInt, Date, Text};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// Stores `sha256` as authorised for [`super::VALIDITA_SECS`] seconds unless a live row exists
/// (an expired one is replaced, used or not). `true` = stored (204), `false` = already
/// authorised (409).
pub fn autorizza(conn: &mut PgConnection, sha256: &str, inizio: NaiveDate) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "INSERT INTO otp_autorizzato (sha256, inizio_sintomi, autorizzato_il, scade_il) \
         VALUES ($1, $2, now(), now() + make_interval(secs => $3::float8)) \
         ON CONFLICT (sha256) DO UPDATE SET inizio_sintomi = EXCLUDED.inizio_sintomi, \
           autorizzato_il = EXCLUDED.autorizzato_il, scade_il = EXCLUDED.scade_il, usato_il = NULL \
         WHERE otp_autorizzato.scade_il <= now()",
    )
    .bind::<Text, _>(sha256)
    .bind::<Date, _>(inizio)
    .bind::<BigInt, _>(super::VALIDITA_SECS)
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks a live, unused row as used; `true` when there was one (204), `false` otherwise (401).
pub fn usa(conn: &mut PgConnection, sha256: &str) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE otp_autorizzato SET usato_il = now() \
         WHERE sha256 = $1 AND scade_il > now() AND usato_il IS NULL",
    )
    .bind::<Text, _>(sha256)
    .execute(conn)?;
    Ok(n == 1)
}

/// Deletes the expired rows (they already count as absent); returns how many. For the
/// retention task.
pub fn purge(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM otp_autorizzato WHERE scade_il <= now()").execute(conn)
}
