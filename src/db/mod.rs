//! PostgreSQL access: the r2d2 pool, embedded migrations, the private cluster for the demo,
//! and `blocking`, the one way async code runs diesel work.

pub mod embedded;
pub mod schema;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Errors of the data layer. `Unavailable` (pool exhausted, server down) becomes a 503 at the
/// edge; everything else is an internal failure whose details stay in the log.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("query failed: {0}")]
    Query(diesel::result::Error),
    #[error("blocking task failed: {0}")]
    Task(String),
}

/// A failure worth retrying (serialization failure, deadlock, lock or statement timeout, lost
/// connection) is `Unavailable`, answered 503 so the caller retries; the rest is a bug or bad
/// data. Diesel does not expose the SQLSTATE, so deadlocks and timeouts are told by PostgreSQL's
/// message (English, as `lc_messages` is by default).
impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        let transient = match &e {
            E::DatabaseError(
                K::SerializationFailure | K::ClosedConnection | K::UnableToSendCommand,
                _,
            ) => true,
            E::DatabaseError(_, info) => {
                let m = info.message();
                m.contains("deadlock detected")
                    || m.contains("lock timeout")
                    || m.contains("statement timeout")
            }
            _ => false,
        };
        if transient {
            Self::Unavailable(e.to_string())
        } else {
            Self::Query(e)
        }
    }
}

/// Every pooled connection gives up on a statement after 10 s and on a lock after 3 s, so a
/// stuck query or a queued `DROP TABLE` of the retention task cannot hold requests forever.
#[derive(Debug)]
struct SessionLimits;

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionLimits {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        use diesel::connection::SimpleConnection;
        // No JIT: its compilation (hundreds of ms) dwarfs the short queries of a gateway, and it
        // starts at an estimated cost that a month of monitoring aggregates already reaches.
        conn.batch_execute("SET statement_timeout = '10s'; SET lock_timeout = '3s'; SET jit = off")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool; fails if no connection can be made.
pub fn connect(url: &str, size: u32, timeout: Duration) -> Result<PgPool, DbError> {
    Pool::builder()
        .max_size(size)
        .connection_customizer(Box::new(SessionLimits))
        .min_idle(Some(size.min(4)))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(|e| DbError::Unavailable(e.to_string()))
}

/// Applies the pending embedded migrations; returns how many ran.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<usize> {
    let done = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(done.len())
}

/// Runs `f` with a pooled connection on the blocking thread pool, inside the caller's tracing
/// span. A panic inside `f` is reported as `DbError::Task`, never unwinds into the request.
pub async fn blocking<T, F>(pool: &PgPool, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConn) -> Result<T, DbError> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut conn = pool
            .get()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| DbError::Task(e.to_string()))?
}

/// Deletes the rows of `table` whose `column` (a timestamp) is more than `months` months old;
/// returns how many. Names come from the code, never from a caller.
pub fn delete_oldest(
    conn: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    months: i32,
) -> diesel::QueryResult<usize> {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "DELETE FROM {table} WHERE {column} < now() - make_interval(months => $1)"
    ))
    .bind::<diesel::sql_types::Integer, _>(months)
    .execute(conn)
}
