//! `tsgate purge`: every retention at once — access-log partitions, monitoring aggregates,
//! multiple-booking notices and acknowledged revocation notices.

use super::connect_one;
use tsgate::config::Config;
use tsgate::services::vaccini::notifiche;

pub fn purge(config: &Config) -> anyhow::Result<()> {
    let (mut conn, _pg) = connect_one(config)?;
    tsgate::audit::retention::ensure_partitions(&mut conn)?;
    let dropped = tsgate::audit::retention::purge(&mut conn, config.access_log.retention_months)?;
    println!("{} partition(s) dropped {:?}", dropped.len(), dropped);
    let aggregati =
        tsgate::monitoraggio::aggregati::purge(&mut conn, config.monitoraggio.retention_months)?;
    println!(
        "{aggregati} monitoring aggregate row(s) older than monitoraggio.retention_months deleted"
    );
    let purged = notifiche::purge(&mut conn, config.access_log.retention_months)?;
    println!(
        "{} multiple-booking file(s) and {} transmission record(s) deleted",
        purged.file, purged.trasmissioni
    );
    let revoche =
        tsgate::services::tscns::revoche::purge(&mut conn, config.access_log.retention_months)?;
    println!(
        "{} acknowledged revocation notice(s), {} revocation file(s) and {} transmission \
         record(s) deleted",
        revoche.comunicazioni, revoche.file, revoche.trasmissioni
    );
    Ok(())
}
