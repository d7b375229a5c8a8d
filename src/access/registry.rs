//! The caller registry: callers, their certificates (by SHA-256 fingerprint), IP ranges,
//! operations and rate limits, loaded from PostgreSQL into an immutable snapshot that is swapped
//! on reload. Limiter state survives a reload when the caller's limits did not change.

use super::RateLimiter;
use crate::db::{schema, DbError};
use diesel::prelude::*;
use diesel::PgConnection as PgConn;
use ipnetwork::IpNetwork;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoChiamante {
    Regione,
    PiattaformaNazionale,
    Avn,
    Cms,
}

impl TipoChiamante {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "REGIONE" => Some(Self::Regione),
            "PIATTAFORMA_NAZIONALE" => Some(Self::PiattaformaNazionale),
            "AVN" => Some(Self::Avn),
            "CMS" => Some(Self::Cms),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regione => "REGIONE",
            Self::PiattaformaNazionale => "PIATTAFORMA_NAZIONALE",
            Self::Avn => "AVN",
            Self::Cms => "CMS",
        }
    }
}

/// A registered caller, as admission sees it.
pub struct Caller {
    pub id: i64,
    pub nome: String,
    pub tipo: TipoChiamante,
    pub codice_regione: Option<String>,
    pub reti: Vec<IpNetwork>,
    pub operazioni: HashSet<String>,
    pub limiter: Arc<RateLimiter>,
    /// VerificaSomministrazioni requires numeroTessera from this caller (section 6.3).
    pub tessera_obbligatoria: bool,
}

impl Caller {
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.reti.iter().any(|n| n.contains(ip))
    }

    pub fn allows_operation(&self, op: &str) -> bool {
        self.operazioni.contains(op)
    }
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("nome", &self.nome)
            .field("tipo", &self.tipo)
            .finish()
    }
}

/// id, nome, tipo, codice_regione, operazioni, limite_al_secondo, limite_raffica
type CallerRow = (
    i64,
    String,
    String,
    Option<String>,
    Vec<String>,
    i32,
    i32,
    bool,
);

/// One immutable snapshot of the registry.
#[derive(Default)]
pub struct Registry {
    by_fingerprint: HashMap<String, Arc<Caller>>,
    all_ranges: Vec<IpNetwork>,
    callers: Vec<Arc<Caller>>,
}

impl Registry {
    pub fn caller_by_fingerprint(&self, fingerprint: &str) -> Option<Arc<Caller>> {
        self.by_fingerprint.get(fingerprint).cloned()
    }

    /// True when `ip` is inside the range of at least one enabled caller: other addresses are
    /// dropped before the TLS handshake.
    pub fn any_range_contains(&self, ip: IpAddr) -> bool {
        self.all_ranges.iter().any(|n| n.contains(ip))
    }

    pub fn callers(&self) -> &[Arc<Caller>] {
        &self.callers
    }

    /// Loads enabled callers with their ranges and valid, unrevoked certificates. `previous`
    /// lends its limiters to callers whose limits are unchanged.
    pub fn load(conn: &mut PgConn, previous: Option<&Registry>) -> Result<Registry, DbError> {
        use schema::{chiamante as c, chiamante_certificato as cc, chiamante_rete as cr};
        let rows: Vec<CallerRow> = c::table
            .filter(c::abilitato.eq(true))
            .select((
                c::id,
                c::nome,
                c::tipo,
                c::codice_regione,
                c::operazioni,
                c::limite_al_secondo,
                c::limite_raffica,
                c::tessera_obbligatoria,
            ))
            .load(conn)?;
        let nets: Vec<(i64, IpNetwork)> =
            cr::table.select((cr::chiamante_id, cr::rete)).load(conn)?;
        let certs: Vec<(String, i64)> = cc::table
            .filter(cc::revocato_il.is_null())
            .filter(cc::scadenza.gt(diesel::dsl::now))
            .select((cc::impronta_sha256, cc::chiamante_id))
            .load(conn)?;

        let mut nets_by_caller: HashMap<i64, Vec<IpNetwork>> = HashMap::new();
        for (id, net) in nets {
            nets_by_caller.entry(id).or_default().push(net);
        }
        let old: HashMap<i64, &Arc<Caller>> = previous
            .map(|p| p.callers.iter().map(|c| (c.id, c)).collect())
            .unwrap_or_default();

        let mut registry = Registry::default();
        let mut by_id = HashMap::new();
        for (id, nome, tipo, regione, operazioni, per_second, burst, tessera_obbligatoria) in rows {
            let Some(tipo) = TipoChiamante::parse(&tipo) else {
                tracing::warn!(caller = %nome, tipo = %tipo, "caller of unknown kind ignored");
                continue;
            };
            let (per_second, burst) = (per_second.max(1) as u32, burst.max(1) as u32);
            let limiter = match old.get(&id) {
                Some(prev)
                    if prev.limiter.per_second == per_second && prev.limiter.burst == burst =>
                {
                    prev.limiter.clone()
                }
                _ => Arc::new(RateLimiter::new(per_second, burst)),
            };
            let reti = nets_by_caller.remove(&id).unwrap_or_default();
            registry.all_ranges.extend(reti.iter().copied());
            let caller = Arc::new(Caller {
                id,
                nome,
                tipo,
                codice_regione: regione,
                reti,
                operazioni: operazioni.into_iter().collect(),
                limiter,
                tessera_obbligatoria,
            });
            by_id.insert(id, caller.clone());
            registry.callers.push(caller);
        }
        for (fingerprint, id) in certs {
            if let Some(caller) = by_id.get(&id) {
                registry
                    .by_fingerprint
                    .insert(fingerprint.trim().to_owned(), caller.clone());
            }
        }
        Ok(registry)
    }
}

/// The current snapshot, swapped atomically on reload; readers never wait on the database.
#[derive(Default)]
pub struct CallerRegistry {
    current: RwLock<Arc<Registry>>,
}

impl CallerRegistry {
    pub fn new(initial: Registry) -> Self {
        Self {
            current: RwLock::new(Arc::new(initial)),
        }
    }

    pub fn snapshot(&self) -> Arc<Registry> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn reload(&self, conn: &mut PgConn) -> Result<(), DbError> {
        let previous = self.snapshot();
        let next = Arc::new(Registry::load(conn, Some(&previous))?);
        for caller in next.callers() {
            caller.limiter.prune();
        }
        match self.current.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        Ok(())
    }
}
