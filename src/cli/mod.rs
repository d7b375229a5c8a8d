//! The command families of the `tsgate` binary, one module each, and what they share: the
//! database of a one-shot command (the configured one, or the private cluster).

pub mod audit;
pub mod contratti;
pub mod flusso;
pub mod notifiche;
pub mod pki;
pub mod purge;
pub mod serve;
pub mod sso;
pub mod tscns;

use anyhow::Context;
use tsgate::config::Config;
use tsgate::db::embedded::EmbeddedPostgres;
use tsgate::domain::CodiceRegione;

/// The database URL, starting the private cluster when none is configured.
pub fn database(config: &Config) -> anyhow::Result<(String, Option<EmbeddedPostgres>)> {
    if !config.database.url.is_empty() {
        return Ok((config.database.url.clone(), None));
    }
    let (pg, url) =
        EmbeddedPostgres::start(&config.database.embedded_dir, config.database.embedded_port)?;
    Ok((url, Some(pg)))
}

pub fn connect_one(
    config: &Config,
) -> anyhow::Result<(diesel::PgConnection, Option<EmbeddedPostgres>)> {
    use diesel::Connection;
    let (url, pg) = database(config)?;
    let conn = diesel::PgConnection::establish(&url).context("cannot connect to the database")?;
    Ok((conn, pg))
}

pub fn parse_regione(r: &str) -> anyhow::Result<CodiceRegione> {
    CodiceRegione::parse(r)
        .map_err(|_| anyhow::anyhow!("--regione `{r}`: a codice regione is 3 digits, e.g. 030"))
}

pub fn regione_arg(regione: Option<&str>) -> anyhow::Result<Option<CodiceRegione>> {
    regione.map(parse_regione).transpose()
}
