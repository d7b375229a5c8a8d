//! Listeners: the mutual-TLS SOAP port (IP pre-check, handshake, caller identity) and the
//! plain-HTTP admin port on loopback.

pub mod admin;
pub mod caps;
pub mod listen;
pub mod server;
pub mod tls;
