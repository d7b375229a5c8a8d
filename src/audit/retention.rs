//! Retention of the access log: monthly partitions are created ahead of time and dropped whole
//! once their month is older than the retention period (12 months by default).

use crate::db::DbError;
use diesel::sql_types::{Integer, Text};
use diesel::PgConnection as PgConn;
use diesel::RunQueryDsl;

#[derive(diesel::QueryableByName)]
struct Dropped {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Creates the partitions from last month to three months ahead (idempotent).
pub fn ensure_partitions(conn: &mut PgConn) -> Result<(), DbError> {
    diesel::sql_query(
        "SELECT access_log_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 31, 4)",
    )
    .execute(conn)?;
    Ok(())
}

/// Drops the partitions whose whole month ended more than `months` months ago; returns their names.
pub fn purge(conn: &mut PgConn, months: u32) -> Result<Vec<String>, DbError> {
    let months = i32::try_from(months).unwrap_or(i32::MAX);
    let dropped: Vec<Dropped> = diesel::sql_query(
        "SELECT access_log_drop_partitions_before(now() - make_interval(months => $1)) AS name",
    )
    .bind::<Integer, _>(months)
    .load(conn)?;
    Ok(dropped.into_iter().map(|d| d.name).collect())
}
