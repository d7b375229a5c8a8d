//! Immuni OTP: the gateway's own Immuni-compatible OTP service (`servizio`, with its table in
//! `repo`) and the client with which the portal authorises an OTP (`client`).

pub mod client;
pub mod repo;
pub mod servizio;

pub use client::{autorizza, EsitoAutorizzazione, OtpClient, OtpClientError};

/// Name of the gateway's client certificate for the OTP service in the PKI (`clients/<name>.pem`).
pub const CERTIFICATO_CLIENT: &str = "tsgate-otp";
/// How long an authorised OTP stays live, in seconds (immuni-backend-otp: 150).
pub const VALIDITA_SECS: i64 = 150;
