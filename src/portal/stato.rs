//! What the portal's pages need besides the database, loaded once at start from the settings:
//! the portal's TLS material, the pincode key, the OTP client, the SSO identity provider.

use super::{pincode, regole, tls};
use crate::config::PortalConfig;
use std::sync::Arc;

/// What the pages need besides the database, built once at start.
pub struct Portale {
    pub cfg: PortalConfig,
    pub politica: regole::Politica,
    /// The acceptor and the trusted CNS CAs, reloaded when their files change.
    pub tls: tls::PortalTls,
    /// The key of the pincodes at rest (`portal.pincode_key_file`; `tsgate demo` creates it).
    pub chiave_pincode: pincode::ChiavePincode,
    /// The client of the OTP service (`[otp]`); `None` when its certificate is not there (every
    /// submission is then negative, with that reason).
    pub client_otp: Option<crate::otp::client::OtpClient>,
    /// The SAML identity provider of operator SSO; `None` when its key is not there (the SSO
    /// pages then say the service is not configured).
    pub idp: Option<Arc<crate::sso::Idp>>,
    /// Requests of the portal working on the database at once (half the pool, at least one).
    pub lavori: Arc<tokio::sync::Semaphore>,
    /// The monitoring reports' settings (`[monitoraggio]`: groups shown, misuse thresholds).
    pub monitoraggio: crate::config::MonitoraggioConfig,
}

impl Portale {
    /// Loads what the settings name; a file that exists but cannot be used stops the start.
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Portale> {
        let cfg = &config.portal;
        let pool_size = config.database.pool_size;
        let tls = tls::PortalTls::load(&config.tls, &cfg.cns_ca_file)?;
        let client_otp = match crate::otp::client::OtpClient::new(&config.otp) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "OTP client not configured: OTP submissions will be negative");
                None
            }
        };
        let chiave_pincode = pincode::ChiavePincode::carica(&cfg.pincode_key_file).map_err(|e| {
            anyhow::anyhow!(
                "portal.pincode_key_file: {e} (make one with `openssl rand -hex 32 > FILE && chmod 600 FILE`; \
                 a new key makes every stored pincode unreadable)"
            )
        })?;
        let idp = match crate::sso::Idp::carica(&config.sso) {
            Ok(i) => Some(Arc::new(i)),
            Err(e) => {
                tracing::warn!(error = %e, "SSO identity provider not configured: operator SSO disabled");
                None
            }
        };
        Ok(Portale {
            idp,
            cfg: cfg.clone(),
            politica: regole::Politica::da_config(cfg),
            tls,
            chiave_pincode,
            client_otp,
            lavori: Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(pool_size / 2).unwrap_or(1).max(1),
            )),
            monitoraggio: config.monitoraggio.clone(),
        })
    }
}
