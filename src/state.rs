//! The shared state every server and background task reads: settings, pool, caller registry,
//! access-log writer, TLS material, the catalogue's tables. Built once by `app::start`; a bottom
//! module, so the servers depend on it and never on `app`.

use crate::access::CallerRegistry;
use crate::audit::AccessLogWriter;
use crate::config::Config;
use crate::db::PgPool;
use crate::flussi::genere::Generi;
use crate::metrics::Metrics;
use crate::net::tls::TlsContext;
use crate::portal::stato::Portale;
use crate::soap::batch::Batches;
use crate::soap::envelope::XmlLimits;
use crate::soap::operation::Operation;
use crate::soap::wsdl::Contracts;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};

/// Everything a request needs, built once.
pub struct AppState {
    pub config: Config,
    pub pool: PgPool,
    pub registry: CallerRegistry,
    pub access_log: AccessLogWriter,
    /// The handlers of concurrent requests and their rows, batched (`soap::batch`): the
    /// look-ups, and the writes (one transaction a batch, a savepoint a request).
    pub lookups: Batches,
    pub writes: Batches,
    pub metrics: Arc<Metrics>,
    pub tls: TlsContext,
    /// Every SOAP operation served (`catalogo::operazioni`).
    pub operations: &'static [&'static Operation],
    /// Every kind of bulk file received (`catalogo::GENERI`).
    pub generi: Generi,
    pub contracts: Contracts,
    pub concurrency: Arc<Semaphore>,
    /// `server.max_connections` and `server.max_connections_per_ip` of the SOAP port.
    pub connections: Arc<crate::net::caps::ConnectionCaps>,
    pub xml_limits: XmlLimits,
    /// The operators' portal (its TLS material, pincode key, limits).
    pub portale: Arc<Portale>,
    /// Wakes the bulk-file worker (`flussi::worker`).
    pub flussi: Arc<Notify>,
}

impl AppState {
    pub fn access_log_running(&self) -> bool {
        self.access_log.is_running()
    }
}
