//! Batches: the handlers of concurrent requests, and their access-log rows, in one hop and one
//! commit. A few dedicated database threads share one queue; a thread takes every request
//! waiting (up to `access_log.batch_max`), runs their handlers one after the other on one
//! connection, commits all their rows in one INSERT, and only then wakes the requests.
//!
//! Two kinds, by what the handlers do ([`Kind`]):
//! - **look-ups** only read: each statement stands alone, so one request's failure cannot touch
//!   another's; the rows' INSERT is retried on a fresh connection if it fails.
//! - **writes** run in one transaction, each request in its own savepoint, rolled back alone
//!   when its handler fails; the rows' INSERT is the transaction's last statement. A request is
//!   answered only once the whole batch committed; if it cannot commit, nothing of the batch
//!   is stored and every member is answered 503.
//!
//! Against the general road (the handler on the blocking pool, then its row through the
//! group-commit writer) a request costs one thread hop instead of three, one pool checkout per
//! batch instead of two per request, and a write shares its commit (its fsync) with the batch.

use crate::audit::{AccessRecord, WriteError};
use crate::db::PgPool;
use crate::metrics::Metrics;
use diesel::{Connection, PgConnection};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// What the handlers of a batch do to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lookups,
    Writes,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Lookups => "lookup",
            Self::Writes => "write",
        }
    }
}

/// What one member's work leaves: its value for the request, its row (none when the work
/// committed its row itself), and whether its savepoint is kept (writes only).
pub struct Member<T> {
    pub value: T,
    pub row: Option<AccessRecord>,
    pub keep: bool,
}

/// Handle to the threads of one kind of batch; clone freely. The threads end once every handle
/// is dropped, after running what was queued.
#[derive(Clone)]
pub struct Batches {
    tx: mpsc::Sender<Box<dyn Job>>,
}

/// One queued request: its work, and how it is told the batch's fate.
trait Job: Send {
    /// Runs the work on `conn` (in a savepoint for writes); returns the row to commit and
    /// what to do once it is.
    fn run(self: Box<Self>, conn: &mut PgConnection, kind: Kind) -> Ran;
    /// No connection could be had: the work did not run.
    fn fail(self: Box<Self>, e: WriteError);
}

type Reply = Box<dyn FnOnce(Result<(), WriteError>) + Send>;

struct Ran {
    row: Option<AccessRecord>,
    reply: Reply,
}

struct Queued<F, T> {
    work: F,
    done: oneshot::Sender<Result<T, WriteError>>,
}

impl<F, T> Job for Queued<F, T>
where
    F: FnOnce(&mut PgConnection) -> Member<T> + Send,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut PgConnection, kind: Kind) -> Ran {
        let Queued { work, done } = *self;
        let member = match kind {
            Kind::Lookups => work(conn),
            Kind::Writes => {
                let mut member = None;
                // The savepoint: kept, or rolled back alone. If even that fails, the
                // connection is broken and the batch's commit fails with it.
                let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
                    let m = work(c);
                    let keep = m.keep;
                    member = Some(m);
                    if keep {
                        Ok(())
                    } else {
                        Err(diesel::result::Error::RollbackTransaction)
                    }
                });
                match member {
                    Some(m) => m,
                    // The savepoint could not even begin: the work did not run.
                    None => {
                        return Ran {
                            row: None,
                            reply: Box::new(move |_| {
                                let _ = done.send(Err(WriteError::Unavailable(
                                    "savepoint not begun".to_owned(),
                                )));
                            }),
                        }
                    }
                }
            }
        };
        let Member { value, row, .. } = member;
        Ran {
            row,
            reply: Box::new(move |committed| {
                let _ = done.send(committed.map(|()| value));
            }),
        }
    }

    fn fail(self: Box<Self>, e: WriteError) {
        let _ = self.done.send(Err(e));
    }
}

impl Batches {
    /// Starts `threads` threads running batches of `kind` on `pool`.
    pub fn start(
        kind: Kind,
        pool: PgPool,
        metrics: Arc<Metrics>,
        threads: usize,
        batch_max: usize,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let (rx, pool, metrics) = (rx.clone(), pool.clone(), metrics.clone());
            std::thread::Builder::new()
                .name(format!("tsgate-{}-{i}", kind.name()))
                .spawn(move || worker(kind, &rx, &pool, &metrics, batch_max.max(1)))?;
        }
        Ok(Self { tx })
    }

    /// Runs `work` in the next batch; its value once the batch committed (with the row it
    /// returns, if any). For look-ups, `work` must only read. It runs inside the caller's
    /// tracing span.
    pub async fn run<T, F>(&self, work: F) -> Result<T, WriteError>
    where
        F: FnOnce(&mut PgConnection) -> Member<T> + Send + 'static,
        T: Send + 'static,
    {
        let span = tracing::Span::current();
        let (done, wait) = oneshot::channel();
        let job = Queued {
            work: move |conn: &mut PgConnection| {
                let _entered = span.enter();
                work(conn)
            },
            done,
        };
        self.tx
            .send(Box::new(job))
            .map_err(|_| WriteError::Stopped)?;
        wait.await.unwrap_or(Err(WriteError::Stopped))
    }
}

fn worker(
    kind: Kind,
    rx: &Mutex<mpsc::Receiver<Box<dyn Job>>>,
    pool: &PgPool,
    metrics: &Metrics,
    batch_max: usize,
) {
    loop {
        let jobs = {
            let Ok(rx) = rx.lock() else {
                return;
            };
            let Ok(first) = rx.recv() else {
                return;
            };
            let mut jobs = vec![first];
            while jobs.len() < batch_max {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
        // A panic in one batch (a bug) ends that batch's requests with 503, not the thread.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch(kind, jobs, pool, metrics)
        }))
        .is_err()
        {
            tracing::error!(
                kind = kind.name(),
                "batch panicked: its requests are answered 503"
            );
        }
    }
}

fn batch(kind: Kind, jobs: Vec<Box<dyn Job>>, pool: &PgPool, metrics: &Metrics) {
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => {
            let e = WriteError::Unavailable(e.to_string());
            tracing::warn!(error = %e, requests = jobs.len(), kind = kind.name(), "batch without a connection");
            for job in jobs {
                job.fail(e.clone());
            }
            return;
        }
    };
    let mut replies = Vec::with_capacity(jobs.len());
    let mut rows = Vec::with_capacity(jobs.len());
    let committed = match kind {
        Kind::Lookups => {
            for job in jobs {
                let ran = job.run(&mut conn, kind);
                rows.extend(ran.row);
                replies.push(ran.reply);
            }
            if rows.is_empty() {
                Ok(())
            } else {
                insert_with_retry(pool, &mut conn, &rows)
            }
        }
        Kind::Writes => conn
            .transaction::<(), diesel::result::Error, _>(|c| {
                for job in jobs {
                    let ran = job.run(c, kind);
                    rows.extend(ran.row);
                    replies.push(ran.reply);
                }
                if !rows.is_empty() {
                    crate::audit::insert_many(c, &rows)?;
                }
                Ok(())
            })
            .map_err(|e| WriteError::Unavailable(e.to_string())),
    };
    metrics.access_log_batch(replies.len());
    if let Err(e) = &committed {
        tracing::error!(error = %e, requests = replies.len(), kind = kind.name(), "batch not committed");
    }
    for reply in replies {
        reply(committed.clone());
    }
}

/// A look-up batch's rows in one INSERT; on failure twice more, on a fresh connection.
fn insert_with_retry(
    pool: &PgPool,
    conn: &mut PgConnection,
    rows: &[AccessRecord],
) -> Result<(), WriteError> {
    let mut last = match crate::audit::insert_many(conn, rows) {
        Ok(()) => return Ok(()),
        Err(e) => e.to_string(),
    };
    for attempt in 1..3u64 {
        std::thread::sleep(Duration::from_millis(50 * attempt));
        match pool.get() {
            Ok(mut fresh) => match crate::audit::insert_many(&mut fresh, rows) {
                Ok(()) => return Ok(()),
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
    }
    Err(WriteError::Unavailable(last))
}
