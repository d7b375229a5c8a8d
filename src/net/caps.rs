//! Connection caps of the SOAP port: `server.max_connections` open connections in all and
//! `server.max_connections_per_ip` from one address. A connection beyond either is closed
//! before its TLS handshake, so a refusal costs an accept and a close, no cryptography.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    open: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnectionCaps {
    pub fn new(max: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            max_per_ip,
            open: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a slot for a connection from `ip`; the slot is given back when dropped.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if self.open.load(Ordering::Relaxed) >= self.max {
            return Err(Refused::Total);
        }
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(Refused::PerIp);
        }
        *n += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            caps: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open_now(&self) -> usize {
        self.open.load(Ordering::Relaxed)
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
        let mut per_ip = self.caps.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.caps.open.fetch_sub(1, Ordering::Relaxed);
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
