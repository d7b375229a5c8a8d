//! The portal's TLS material: the acceptor (server certificate of `[tls]`, the CNS CAs named in
//! the certificate request) and the trusted CNS bundle, rebuilt when one of their files
//! changes (checked on the same tick as the SOAP port's), so a renewed server certificate or a
//! new CNS bundle needs no restart. A broken new file keeps the previous material.

use crate::config::TlsConfig;
use crate::pki::TrustedCnsCas;
use openssl::ssl::SslAcceptor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

type Materiale = (Arc<SslAcceptor>, Option<Arc<TrustedCnsCas>>);

pub struct PortalTls {
    tls: TlsConfig,
    cns_file: PathBuf,
    attuale: RwLock<Materiale>,
    stamps: Mutex<Vec<Option<SystemTime>>>,
}

fn build(tls: &TlsConfig, cns_file: &Path) -> anyhow::Result<Materiale> {
    let cns = if cns_file.exists() {
        Some(Arc::new(
            TrustedCnsCas::load(cns_file)
                .map_err(|e| anyhow::anyhow!("portal.cns_ca_file: {e}"))?,
        ))
    } else {
        tracing::warn!(
            file = %cns_file.display(),
            "portal.cns_ca_file does not exist: no CNS card will be accepted"
        );
        None
    };
    let cas = cns
        .as_ref()
        .map(|t| t.certificates().to_vec())
        .unwrap_or_default();
    let acceptor = crate::net::tls::build_portal_acceptor(tls, &cas)?;
    Ok((Arc::new(acceptor), cns))
}

impl PortalTls {
    /// Loads the material; a file that exists but cannot be used stops the start.
    pub fn load(tls: &TlsConfig, cns_file: &Path) -> anyhow::Result<PortalTls> {
        Ok(PortalTls {
            attuale: RwLock::new(build(tls, cns_file)?),
            stamps: Mutex::new(stamps(tls, cns_file)),
            tls: tls.clone(),
            cns_file: cns_file.to_owned(),
        })
    }

    fn read_files(&self) -> Materiale {
        match self.attuale.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn acceptor(&self) -> Arc<SslAcceptor> {
        self.read_files().0
    }

    /// The trusted CNS CAs, `None` when `portal.cns_ca_file` does not exist.
    pub fn cns(&self) -> Option<Arc<TrustedCnsCas>> {
        self.read_files().1
    }

    /// Rebuilds the material if a file changed since the last look.
    pub fn reload_if_changed(&self) {
        let ora = stamps(&self.tls, &self.cns_file);
        let Ok(mut viste) = self.stamps.lock() else {
            return;
        };
        if *viste == ora {
            return;
        }
        match build(&self.tls, &self.cns_file) {
            Ok(m) => {
                if let Ok(mut g) = self.attuale.write() {
                    *g = m;
                }
                *viste = ora;
                tracing::info!(
                    "portal TLS material reloaded (certificate, key or CNS bundle changed)"
                );
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "portal TLS files changed but cannot be loaded: keeping the previous ones")
            }
        }
    }
}

fn stamps(tls: &TlsConfig, cns_file: &Path) -> Vec<Option<SystemTime>> {
    [tls.cert_file.as_path(), tls.key_file.as_path(), cns_file]
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}
