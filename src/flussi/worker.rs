//! The background worker: woken by each upload (and every `flussi.poll_secs`), it imports the
//! files waiting, oldest first, one at a time; at shutdown it stops after the current batch.

use super::import::{self, Esito, ImportOptions};
use super::{repo, Generi};
use crate::db::PgPool;
use crate::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub fn start(state: Arc<AppState>, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.flussi.poll_secs);
        loop {
            let st = state.clone();
            let stop = shutdown.clone();
            let job = tokio::task::spawn_blocking(move || {
                let batch = st.config.flussi.batch_records;
                run_pending(&st.pool, st.generi, batch, &move || *stop.borrow())
            });
            match job.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "bulk import failed"),
                Err(e) => tracing::error!(error = %e, "bulk import task failed"),
            }
            tokio::select! {
                _ = state.flussi.notified() => {}
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => break,
            }
        }
    })
}

/// Imports every waiting file, until none is left or `stop` says so. Blocking.
pub fn run_pending(
    pool: &PgPool,
    generi: Generi,
    batch: usize,
    stop: &(dyn Fn() -> bool + Sync),
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    loop {
        if stop() {
            return Ok(());
        }
        let mut progressed = false;
        for id in repo::da_elaborare(&mut conn)? {
            let opz = ImportOptions {
                batch,
                max_batches: None,
                stop,
            };
            match import::elabora(&mut conn, generi, id, &opz, &mut |_| {}) {
                Err(e) => {
                    // Left IN_ELABORAZIONE: retried at the next round, after the others.
                    tracing::error!(file = id, error = %format!("{e:#}"), "bulk file not imported");
                    continue;
                }
                Ok(Esito::Occupato) => continue,
                Ok(Esito::Interrotto) => return Ok(()),
                Ok(Esito::Elaborato | Esito::Rifiutato) => {
                    progressed = true;
                    break;
                }
            }
        }
        if !progressed {
            return Ok(());
        }
    }
}
