//! Group commit: requests hand their row to one writer task and wait; the writer takes every row
//! waiting at that moment (up to `batch_max`), commits them in one INSERT, then wakes each
//! waiter. Under load, batches grow by themselves, so durability costs one commit per batch.

use super::AccessRecord;
use crate::db::{self, PgPool};
use crate::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("access log unavailable: {0}")]
    Unavailable(String),
    #[error("access log writer stopped")]
    Stopped,
}

struct Pending {
    record: AccessRecord,
    done: Option<oneshot::Sender<Result<(), WriteError>>>,
}

/// Handle to the writer task; clone freely.
#[derive(Clone)]
pub struct AccessLogWriter {
    tx: mpsc::UnboundedSender<Pending>,
}

impl AccessLogWriter {
    /// Starts the writer task. It ends after `WriterTask::close`, or once every handle is
    /// dropped, in both cases after committing every row it had received.
    pub fn start(pool: PgPool, metrics: Arc<Metrics>, batch_max: usize) -> (Self, WriterTask) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (close, closed) = oneshot::channel();
        let handle = tokio::spawn(run(rx, closed, pool, metrics, batch_max.max(1)));
        (Self { tx }, WriterTask { close, handle })
    }

    /// False once the writer task has stopped.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Queues `record` and waits until it is committed.
    pub async fn commit(&self, record: AccessRecord) -> Result<(), WriteError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending {
                record,
                done: Some(done),
            })
            .map_err(|_| WriteError::Stopped)?;
        wait.await.unwrap_or(Err(WriteError::Stopped))
    }

    /// Queues `record` without waiting (for events that have no response to hold back, such as
    /// a failed TLS handshake). It is committed with the next batch.
    pub fn submit(&self, record: AccessRecord) {
        if self.tx.send(Pending { record, done: None }).is_err() {
            tracing::error!("access log writer stopped: a row was lost");
        }
    }
}

/// The running writer, to be closed at shutdown once no request is left.
pub struct WriterTask {
    close: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<()>,
}

impl WriterTask {
    /// Refuses new rows, commits the queued ones, and waits for the task to end.
    pub async fn close(self) {
        let _ = self.close.send(());
        if let Err(e) = self.handle.await {
            tracing::error!(error = %e, "access log writer failed");
        }
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Pending>,
    mut closed: oneshot::Receiver<()>,
    pool: PgPool,
    metrics: Arc<Metrics>,
    batch_max: usize,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(batch_max);
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, batch_max) => n,
            _ = &mut closed, if !rx.is_closed() => {
                rx.close();
                continue;
            }
        };
        if received == 0 {
            break;
        }
        let (rows, waiters): (Vec<AccessRecord>, Vec<_>) =
            batch.drain(..).map(|p| (p.record, p.done)).unzip();
        let size = rows.len();
        let result = insert_with_retry(&pool, rows).await;
        metrics.access_log_batch(size);
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = size, "access log batch not committed");
        }
        for done in waiters.into_iter().flatten() {
            let _ = done.send(result.clone());
        }
    }
    tracing::debug!("access log writer flushed and stopped");
}

async fn insert_with_retry(pool: &PgPool, rows: Vec<AccessRecord>) -> Result<(), WriteError> {
    let rows = Arc::new(rows);
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        let batch = rows.clone();
        let result = db::blocking(pool, move |conn| {
            super::insert_many(conn, batch.as_slice())?;
            Ok(())
        })
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(WriteError::Unavailable(last))
}
