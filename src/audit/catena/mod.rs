//! The tamper-evident audit log of administrative changes and operator logins: each row carries
//! the hash of the previous one (rules in `regole`, storage in `repo`, what callers record in `voce`).
//!
//! Use: `registra(conn, &VoceAudit::new(cf, Azione::AbilitaProfilo).oggetto(cf_utente))` inside
//! the transaction of the change; `verifica(conn)` (or `tsgate audit verify`) reports the first
//! row changed, inserted or deleted. Rows are kept for ever (no purge).

pub mod regole;
pub mod repo;
pub mod voce;

pub use regole::{esadecimale, Anomalia, Integra, RigaAudit, Testa, Verifica, Verificatore};
pub use repo::{registra, verifica, verifica_a_lotti, ErroreAudit, RIGHE_PER_LOTTO};
pub use voce::{Azione, VoceAudit, ATTORE_CLI};
