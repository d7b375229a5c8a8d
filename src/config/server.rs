//! `[server]`: the SOAP and admin listeners, request limits and timeouts.

use super::Errori;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub soap_listen: String,
    pub admin_listen: String,
    pub public_base_url: String,
    pub max_body_bytes: usize,
    pub max_concurrent_requests: usize,
    /// Open connections of the SOAP port, in all and from one address.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub handshake_timeout_ms: u64,
    pub header_read_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub shutdown_grace_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            soap_listen: "127.0.0.1:8443".into(),
            admin_listen: "127.0.0.1:9090".into(),
            public_base_url: String::new(),
            max_body_bytes: 1024 * 1024,
            max_concurrent_requests: 200,
            max_connections: 20_000,
            max_connections_per_ip: 2_000,
            handshake_timeout_ms: 10_000,
            header_read_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            shutdown_grace_ms: 30_000,
        }
    }
}

impl ServerConfig {
    pub(crate) fn validate(&self, errs: &mut Errori) {
        errs.address("server.soap_listen", &self.soap_listen);
        let admin = errs.address("server.admin_listen", &self.admin_listen);
        if admin.is_some_and(|a| !a.ip().is_loopback()) {
            errs.invalid(
                "server.admin_listen",
                "the admin port must be bound to loopback",
            );
        }
        let url = &self.public_base_url;
        if !url.is_empty() && !url.starts_with("https://") {
            errs.invalid(
                "server.public_base_url",
                "must be empty or start with https://",
            );
        }
        errs.positive(&[
            ("server.max_body_bytes", self.max_body_bytes as u64),
            (
                "server.max_concurrent_requests",
                self.max_concurrent_requests as u64,
            ),
            ("server.max_connections", self.max_connections as u64),
            (
                "server.max_connections_per_ip",
                self.max_connections_per_ip as u64,
            ),
            ("server.handshake_timeout_ms", self.handshake_timeout_ms),
            ("server.header_read_timeout_ms", self.header_read_timeout_ms),
            ("server.request_timeout_ms", self.request_timeout_ms),
        ]);
    }
}
