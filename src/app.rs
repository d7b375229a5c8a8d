//! Wiring: builds the shared state once (`state::AppState`, with the catalogue's tables),
//! binds the listeners, starts the background tasks, and shuts everything down in order (stop
//! accepting, drain requests, flush the access log). The only place that wires servers; they
//! take the state, never this module.

use crate::access::CallerRegistry;
use crate::audit::{retention, AccessLogWriter};
use crate::config::Config;
use crate::db::{self, PgPool};
use crate::metrics::Metrics;
use crate::net::tls::TlsContext;
use crate::services::vaccini::notifiche;
use crate::soap::envelope::XmlLimits;
use crate::soap::wsdl::Contracts;
use crate::state::AppState;
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

/// A started gateway.
pub struct Running {
    pub soap_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub portal_addr: SocketAddr,
    /// The Immuni-compatible OTP service, when `otp.servizio_listen` is not empty.
    pub otp_addr: Option<SocketAddr>,
    pub base_url: String,
    shutdown: watch::Sender<bool>,
    soap: JoinHandle<()>,
    admin: JoinHandle<()>,
    portal: JoinHandle<()>,
    otp: Option<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    writer: crate::audit::writer::WriterTask,
    state: Arc<AppState>,
}

/// Migrates the database, loads the registry and TLS context, binds both ports, and serves.
pub async fn start(mut config: Config, pool: PgPool) -> anyhow::Result<Running> {
    let metrics = Arc::new(Metrics::new());
    let initial = db::blocking(&pool, |c| {
        db::migrate(c).map_err(|e| db::DbError::Unavailable(format!("{e:#}")))?;
        retention::ensure_partitions(c)?;
        crate::access::Registry::load(c, None)
    })
    .await
    .context("database not ready")?;
    let registry = CallerRegistry::new(initial);
    tokio::task::block_in_place(|| refresh_own_crl(&config));
    let tls = TlsContext::load(&config.tls)?;
    let soap_listener = TcpListener::bind(&config.server.soap_listen)
        .await
        .with_context(|| {
            format!(
                "server.soap_listen: cannot bind {}",
                config.server.soap_listen
            )
        })?;
    let admin_listener = TcpListener::bind(&config.server.admin_listen)
        .await
        .with_context(|| {
            format!(
                "server.admin_listen: cannot bind {}",
                config.server.admin_listen
            )
        })?;
    let portal_listener = TcpListener::bind(&config.portal.listen)
        .await
        .with_context(|| format!("portal.listen: cannot bind {}", config.portal.listen))?;
    let otp_listener = bind_otp(&mut config).await?;
    let portal_addr = portal_listener.local_addr()?;
    config.sso.con_porta(portal_addr.port());
    let portale = Arc::new(crate::portal::stato::Portale::new(&config)?);
    let soap_addr = soap_listener.local_addr()?;
    let admin_addr = admin_listener.local_addr()?;
    let base_url = if config.server.public_base_url.is_empty() {
        format!("https://{soap_addr}")
    } else {
        config
            .server
            .public_base_url
            .trim_end_matches('/')
            .to_owned()
    };
    let (access_log, writer) =
        AccessLogWriter::start(pool.clone(), metrics.clone(), config.access_log.batch_max);
    let batches = |kind, threads| {
        crate::soap::batch::Batches::start(
            kind,
            pool.clone(),
            metrics.clone(),
            threads,
            config.access_log.batch_max,
        )
        .context("cannot start the batch threads")
    };
    let lookups = batches(
        crate::soap::batch::Kind::Lookups,
        config.database.lookup_threads,
    )?;
    let writes = batches(
        crate::soap::batch::Kind::Writes,
        config.database.write_threads,
    )?;
    let xml_limits = XmlLimits {
        max_depth: config.xml.max_depth,
        max_attributes: config.xml.max_attributes,
        max_children: config.xml.max_children,
        ..XmlLimits::default()
    };
    let state = Arc::new(AppState {
        concurrency: Arc::new(Semaphore::new(config.server.max_concurrent_requests)),
        connections: crate::net::caps::ConnectionCaps::new(
            config.server.max_connections,
            config.server.max_connections_per_ip,
        ),
        contracts: Contracts::new(crate::catalogo::operazioni(), &base_url),
        operations: crate::catalogo::operazioni(),
        generi: crate::catalogo::GENERI,
        config,
        pool,
        registry,
        access_log,
        lookups,
        writes,
        metrics,
        tls,
        xml_limits,
        flussi: Arc::new(tokio::sync::Notify::new()),
        portale,
    });
    let (shutdown, watcher) = watch::channel(false);
    let soap = tokio::spawn(crate::net::server::serve(
        state.clone(),
        soap_listener,
        watcher.clone(),
    ));
    let admin = tokio::spawn(crate::net::admin::serve(
        state.clone(),
        admin_listener,
        watcher.clone(),
    ));
    let portal = tokio::spawn(crate::portal::server::serve(
        state.clone(),
        portal_listener,
        watcher.clone(),
    ));
    let otp_addr = otp_listener.as_ref().and_then(|l| l.local_addr().ok());
    let otp = otp_listener.map(|listener| {
        tokio::spawn(crate::otp::servizio::serve(
            state.clone(),
            listener,
            watcher.clone(),
        ))
    });
    let background = background_tasks(&state, &watcher);
    tracing::info!(%soap_addr, %admin_addr, %portal_addr, ?otp_addr, %base_url, "tsgate serving");
    Ok(Running {
        soap_addr,
        admin_addr,
        portal_addr,
        otp_addr,
        base_url,
        shutdown,
        soap,
        admin,
        portal,
        otp,
        background,
        writer,
        state,
    })
}

/// Binds the OTP service's port unless `otp.servizio_listen` is empty; a `otp.servizio_url`
/// with port 0 then points at the port bound.
async fn bind_otp(config: &mut Config) -> anyhow::Result<Option<TcpListener>> {
    let otp = &mut config.otp;
    if otp.servizio_listen.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(&otp.servizio_listen)
        .await
        .with_context(|| format!("otp.servizio_listen: cannot bind {}", otp.servizio_listen))?;
    if let Ok((host, 0, path)) = otp.destinazione() {
        let port = listener.local_addr()?.port();
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        otp.servizio_url = format!("https://{host}:{port}{path}");
    }
    Ok(Some(listener))
}

fn background_tasks(
    state: &Arc<AppState>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let cfg = &state.config;
    let every = |secs: u64, name: &'static str, job: fn(&AppState)| {
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(secs));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let st = state.clone();
                        if let Err(e) = tokio::task::spawn_blocking(move || job(&st)).await {
                            tracing::error!(task = name, error = %e, "background task failed");
                        }
                    }
                    _ = shutdown.changed() => break,
                }
            }
        })
    };
    vec![
        crate::flussi::worker::start(state.clone(), shutdown.clone()),
        every(cfg.access.registry_refresh_secs, "registry", |s| {
            let result = s
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut c| s.registry.reload(&mut c).map_err(|e| e.to_string()));
            if let Err(e) = result {
                tracing::warn!(error = %e, "caller registry not reloaded; keeping the previous one");
            }
        }),
        every(cfg.tls.crl_reload_secs, "tls", |s| {
            refresh_own_crl(&s.config);
            s.tls.reload_if_changed();
            s.portale.tls.reload_if_changed();
        }),
        every(cfg.access_log.purge_interval_secs, "retention", |s| {
            let months = s.config.access_log.retention_months;
            let result = s.pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                retention::ensure_partitions(&mut c).map_err(|e| e.to_string())?;
                retention::purge(&mut c, months).map_err(|e| e.to_string())
            });
            match result {
                Ok(dropped) if !dropped.is_empty() => {
                    tracing::info!(?dropped, "expired access-log partitions dropped")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "access-log retention not run"),
            }
            let result = s
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut c| notifiche::purge(&mut c, months).map_err(|e| e.to_string()));
            match result {
                Ok(p) if p.file + p.trasmissioni > 0 => {
                    tracing::info!(?p, "expired multiple-booking notices deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "multiple-booking notices retention not run"),
            }
            let result = s.pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                crate::monitoraggio::aggregati::purge(
                    &mut c,
                    s.config.monitoraggio.retention_months,
                )
                .map_err(|e| e.to_string())
            });
            match result {
                Ok(n) if n > 0 => tracing::info!(rows = n, "expired monitoring aggregates deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "monitoring aggregates retention not run"),
            }
            let result = s.pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                crate::portal::purge(&mut c, &s.config.portal, months).map_err(|e| e.to_string())
            });
            if let Err(e) = result {
                tracing::warn!(error = %e, "portal sessions and operator access log retention not run");
            }
            let result = s
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut c| crate::otp::repo::purge(&mut c).map_err(|e| e.to_string()));
            if let Err(e) = result {
                tracing::warn!(error = %e, "expired OTP authorisations not purged");
            }
            let result = s.pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                crate::services::tscns::revoche::purge(&mut c, months).map_err(|e| e.to_string())
            });
            match result {
                Ok(p) if p.comunicazioni + p.file + p.trasmissioni > 0 => {
                    tracing::info!(?p, "expired TS-CNS revocation notices and files deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "TS-CNS revocation notices retention not run"),
            }
        }),
        every(cfg.monitoraggio.intervallo_secs, "monitoraggio", |s| {
            let result = s.pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
                crate::monitoraggio::lavoro_periodico(&mut c, &s.config.monitoraggio)
                    .map_err(|e| e.to_string())
            });
            match result {
                Ok(stato) => {
                    s.metrics.monitoring_ran(chrono::Utc::now().timestamp());
                    s.metrics.set_misuse_flags(stato.totale());
                    for (tipo, n) in stato.per_tipo {
                        s.metrics.set_misuse_flags_by_kind(tipo, n);
                    }
                }
                Err(e) => {
                    s.metrics.monitoring_error();
                    tracing::warn!(error = %e, "monitoring aggregates not merged or flags not evaluated");
                }
            }
        }),
        every(cfg.notifiche.controllo_secs, "notifiche", |s| {
            let result = s
                .config
                .notifiche
                .ora()
                .map_err(|e| e.to_string())
                .and_then(|ora| {
                    let mut c = s.pool.get().map_err(|e| e.to_string())?;
                    notifiche::produzione_giornaliera(&mut c, ora).map_err(|e| e.to_string())
                });
            match result {
                Ok(files) if !files.is_empty() => {
                    tracing::info!(files = files.len(), "multiple-booking notices produced")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "multiple-booking notices not produced"),
            }
        }),
    ]
}

/// When the gateway's own CA (`pki.dir`) issues the CRL it checks, re-signs the CRL before it
/// expires: an expired CRL would make every handshake fail. A CRL from elsewhere is left alone.
fn refresh_own_crl(config: &Config) {
    let dir = &config.pki.dir;
    if config.tls.crl_file != dir.join("crl.pem") || !dir.join("ca.key").is_file() {
        return;
    }
    match crate::pki::Pki::open(dir).and_then(|pki| pki.refresh_crl_if_due()) {
        Ok(true) => tracing::info!("CRL re-signed by the gateway CA"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "CRL not refreshed"),
    }
}

impl Running {
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting, lets in-flight requests finish, then flushes the access log.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.soap.await;
        let _ = self.admin.await;
        let _ = self.portal.await;
        if let Some(otp) = self.otp {
            let _ = otp.await;
        }
        for task in self.background {
            task.abort();
        }
        self.writer.close().await;
        tracing::info!("tsgate stopped");
    }

    /// Serves until SIGINT or SIGTERM, then shuts down.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
            _ = term.recv() => tracing::info!("SIGTERM received"),
        }
        self.shutdown().await;
        Ok(())
    }
}
