//! tsgate: a gateway for the cooperative services of Sistema Tessera Sanitaria.
//!
//! Every SOAP request walks the same road (see `../shared/DESIGN.md`): TLS and caller identity
//! (`net`, `access`), limits and the envelope (`soap`), the typed body (`contracts`), a handler
//! (`services`), the repository (`db`), and the access log (`audit`), answered only after commit.

pub mod access;
pub mod app;
pub mod audit;
pub mod catalogo;
pub mod config;
pub mod contracts;
pub mod db;
pub mod demo;
pub mod domain;
pub mod flussi;
pub mod metrics;
pub mod monitoraggio;
pub mod net;
pub mod otp;
pub mod pki;
pub mod portal;
pub mod services;
pub mod soap;
pub mod sso;
pub mod state;
