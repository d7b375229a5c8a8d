//! `tsgate pki`: the client certificates of the gateway CA.

use super::connect_one;
use anyhow::{bail, Context};
use clap::Subcommand;
use tsgate::config::Config;
use tsgate::pki::Pki;

#[derive(Subcommand)]
pub enum PkiAction {
    /// Issue a client certificate for a registered caller and bind it to the caller.
    Issue {
        /// Caller name (chiamante.nome).
        #[arg(long)]
        caller: String,
        /// Certificate name, used for its files (default: the caller name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Revoke a client certificate (by name or serial): CRL rewritten, database updated.
    Revoke {
        #[arg(long, conflicts_with = "serial", required_unless_present = "serial")]
        name: Option<String>,
        #[arg(long)]
        serial: Option<String>,
    },
    /// List the issued certificates.
    List,
}

pub fn pki(config: &Config, action: PkiAction) -> anyhow::Result<()> {
    let pki = Pki::open(&config.pki.dir)
        .with_context(|| format!("no PKI in {}", config.pki.dir.display()))?;
    match action {
        PkiAction::List => {
            for cert in pki.list()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    cert.name,
                    cert.serial,
                    cert.fingerprint,
                    if cert.revoked { "REVOCATO" } else { "valido" }
                );
            }
            Ok(())
        }
        PkiAction::Issue { caller, name } => {
            let (mut conn, _pg) = connect_one(config)?;
            let name = name.unwrap_or_else(|| caller.clone());
            let cert = tsgate::demo::issue_for_caller(&mut conn, &pki, &caller, &name)?;
            println!(
                "issued {} (serial {}, sha256 {})",
                cert.cert_path.display(),
                cert.serial,
                cert.fingerprint
            );
            println!("key: {}", cert.key_path.display());
            Ok(())
        }
        PkiAction::Revoke { name, serial } => {
            let cert = match (name, serial) {
                (Some(n), _) => pki.revoke_name(&n)?,
                (None, Some(s)) => pki.revoke_serial(&s)?,
                (None, None) => bail!("give --name or --serial"),
            };
            let (mut conn, _pg) = connect_one(config)?;
            tsgate::access::repo::revoke_certificate(&mut conn, &cert.fingerprint)?;
            println!(
                "revoked {} (serial {}); CRL rewritten: {}",
                cert.name,
                cert.serial,
                pki.crl_pem_path().display()
            );
            Ok(())
        }
    }
}
