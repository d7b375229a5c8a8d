//! Connection caps of the SOAP port: `server.max_connections` open connections in all and
//! `server.max_connections_per_ip` from one address. A connection beyond either is closed
//! before its TLS handshake, so a refusal costs an accept and a close, no cryptography.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Why a connection was refused (the `reason` label of `tsgate_connections_refused_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerIp,
}

impl Refused {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Total => "max_connections",
            Self::PerIp => "max_connections_per_ip",
        }
    }
}

/// The open connections, counted in all and by address.
#[derive(Debug)]
pub struct ConnectionCaps {
    max: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl ConnectionCaps {
    pub fn new(max: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            max_per_ip,
            open: Mutex::new(Open::default()),
        })
    }

    /// Takes a slot for a connection from `ip`; the slot is given back when dropped.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let mut open = self.lock();
        if open.total >= self.max {
            return Err(Refused::Total);
        }
        let n = open.per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(Refused::PerIp);
        }
        *n += 1;
        open.total += 1;
        Ok(Slot {
            caps: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open_now(&self) -> usize {
        self.lock().total
    }

    /// The counts stay consistent even if a holder panicked: each update is one step.
    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One open connection's place under the caps.
#[derive(Debug)]
pub struct Slot {
    caps: Arc<ConnectionCaps>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.caps.lock();
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
        }
        open.total -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_refuse_beyond_their_bound_and_free_on_close() {
        let caps = ConnectionCaps::new(3, 2);
        let a: IpAddr = "127.0.0.1".parse().expect("ip");
        let b: IpAddr = "127.0.0.2".parse().expect("ip");
        let a1 = caps.open(a).expect("first");
        let _a2 = caps.open(a).expect("second");
        assert_eq!(caps.open(a).err(), Some(Refused::PerIp));
        let _b1 = caps.open(b).expect("other address");
        assert_eq!(caps.open(b).err(), Some(Refused::Total));
        drop(a1);
        assert_eq!(caps.open_now(), 2);
        let _a3 = caps.open(a).expect("a slot was given back");
        assert_eq!(caps.open_now(), 3);
    }
}
