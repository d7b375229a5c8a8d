//! `tsgate audit verify`: the tamper-evident audit chain checked end to end.

use super::connect_one;
use clap::Subcommand;
use tsgate::config::Config;

#[derive(Subcommand)]
pub enum AuditAction {
    /// Verify the chain: exit 0 when intact (prints the head hash), 1 at the first row changed,
    /// inserted or deleted, 2 when the database cannot be read.
    Verify,
}

/// `tsgate audit verify`: the exit code (0 intact, 1 anomaly, 2 database error); the private
/// cluster, if one was started, is stopped before returning.
pub fn audit_verify(config: &Config) -> i32 {
    use tsgate::audit::catena::{self, Verifica};
    let (mut conn, pg) = match connect_one(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tsgate: {e:#}");
            return 2;
        }
    };
    let code = match catena::verifica(&mut conn) {
        Ok(Verifica::Integra(i)) => {
            println!(
                "catena integra: {} righe (chain intact: {} rows)",
                i.righe, i.righe
            );
            println!(
                "testa: riga {} hash {} (keep a copy elsewhere to detect a full rewrite)",
                i.ultimo_id,
                catena::esadecimale(&i.hash_testa)
            );
            0
        }
        Ok(Verifica::Compromessa(a)) => {
            println!("catena compromessa: {a}");
            1
        }
        Err(e) => {
            eprintln!("tsgate: audit verify: {e}");
            2
        }
    };
    drop(conn);
    drop(pg);
    code
}
