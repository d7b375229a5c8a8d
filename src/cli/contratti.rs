//! `tsgate contratti`: the published contracts (WSDL and XSD bundle) for integrators.

use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;
use tsgate::config::Config;

#[derive(Subcommand)]
pub enum ContrattiAction {
    /// Write every WSDL and the schemas it imports into DIR, side by side with relative
    /// schemaLocations, ready for wsdl2h, wsimport or SoapUI.
    Esporta {
        dir: PathBuf,
        /// The base URL written in each soap:address (default: server.public_base_url, else
        /// https://<server.soap_listen>).
        #[arg(long)]
        indirizzo: Option<String>,
    },
}

/// Writes the WSDL and XSD bundle into `dir`, the endpoints at `indirizzo` (default the
/// public base URL, or the SOAP port's address), and prints the files written.
pub fn esporta(
    config: &Config,
    dir: &std::path::Path,
    indirizzo: Option<String>,
) -> anyhow::Result<()> {
    let base = indirizzo.unwrap_or_else(|| {
        if config.server.public_base_url.is_empty() {
            format!("https://{}", config.server.soap_listen)
        } else {
            config.server.public_base_url.clone()
        }
    });
    let files = tsgate::soap::wsdl::esporta(tsgate::catalogo::operazioni(), &base, dir)
        .with_context(|| format!("writing {}", dir.display()))?;
    for f in &files {
        println!("{}", dir.join(f).display());
    }
    Ok(())
}
