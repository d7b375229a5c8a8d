//! Sessions kept in PostgreSQL, so any node can serve any request: the cookie carries 32
//! random bytes (hex), the table their SHA-256, so a copy of the table opens no session. Every
//! session has its own CSRF token; login rotates the session (a new token, the old row gone).

use super::repo::{self, Sessione};
use crate::config::PortalConfig;
use chrono::{DateTime, Duration, Utc};
use diesel::{PgConnection, QueryResult};

/// 32 random bytes as 64 hex characters.
pub fn token_casuale() -> String {
    let mut b = [0u8; 32];
    // The OpenSSL CSPRNG fails only if it cannot be seeded at all; then no token is safe.
    if openssl::rand::rand_bytes(&mut b).is_err() {
        tracing::error!("OpenSSL random generator unavailable");
        std::process::abort();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn hash_token(token: &str) -> Vec<u8> {
    openssl::sha::sha256(token.as_bytes()).to_vec()
}

/// Whether the session is past its idle timeout or its maximum life.
pub fn scaduta(s: &Sessione, ora: DateTime<Utc>, cfg: &PortalConfig) -> bool {
    let inattiva = Duration::seconds(i64::try_from(cfg.sessione_inattiva_secs).unwrap_or(i64::MAX));
    let massima = Duration::seconds(i64::try_from(cfg.sessione_massima_secs).unwrap_or(i64::MAX));
    ora - s.ultimo_uso >= inattiva || ora - s.creata_il >= massima
}

/// The live session of this cookie value, its last use moved to `ora`; an expired one is
/// deleted and reported as `Scaduta` (the page then says so).
pub enum Caricata {
    Nessuna,
    Scaduta,
    Attiva(Sessione),
}

pub fn carica(
    conn: &mut PgConnection,
    token: Option<&str>,
    ora: DateTime<Utc>,
    cfg: &PortalConfig,
) -> QueryResult<Caricata> {
    let Some(token) = token.filter(|t| t.len() == 64) else {
        return Ok(Caricata::Nessuna);
    };
    let hash = hash_token(token);
    // Locked until the request's transaction ends: two requests of one session (a double
    // click) run one after the other, so a captcha or a pincode count is never read stale.
    match repo::sessione_bloccata(conn, &hash)? {
        None => Ok(Caricata::Nessuna),
        Some(s) if scaduta(&s, ora, cfg) => {
            repo::elimina_sessione(conn, &hash)?;
            Ok(if s.utente_id.is_some() {
                Caricata::Scaduta
            } else {
                Caricata::Nessuna
            })
        }
        Some(mut s) => {
            repo::tocca_sessione(conn, &hash, ora)?;
            s.ultimo_uso = ora;
            Ok(Caricata::Attiva(s))
        }
    }
}

/// A new session (anonymous when `utente_id` is `None`); returns the cookie value.
pub fn crea(
    conn: &mut PgConnection,
    utente_id: Option<i64>,
    modalita: Option<&str>,
    cambio_password: bool,
    messaggio: Option<String>,
    ora: DateTime<Utc>,
) -> QueryResult<(String, Sessione)> {
    let token = token_casuale();
    let s = Sessione {
        token_hash: hash_token(&token),
        utente_id,
        csrf: token_casuale(),
        modalita: modalita.map(str::to_owned),
        cambio_password,
        messaggio,
        creata_il: ora,
        ultimo_uso: ora,
        pincode_verificato: false,
        pincode_errori: 0,
        captcha: None,
        captcha_scade: None,
    };
    repo::inserisci_sessione(conn, &s)?;
    Ok((token, s))
}

/// Whether the form's CSRF token is the session's (compared in constant time).
pub fn csrf_valido(s: &Sessione, inviato: &str) -> bool {
    inviato.len() == s.csrf.len() && openssl::memcmp::eq(inviato.as_bytes(), s.csrf.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessione(creata: i64, uso: i64) -> Sessione {
        let t = |s| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        Sessione {
            token_hash: vec![0; 32],
            utente_id: Some(1),
            csrf: "a".repeat(64),
            modalita: None,
            cambio_password: false,
            messaggio: None,
            creata_il: t(creata),
            ultimo_uso: t(uso),
            pincode_verificato: false,
            pincode_errori: 0,
            captcha: None,
            captcha_scade: None,
        }
    }

    #[test]
    fn idle_and_absolute_timeouts() {
        let cfg = PortalConfig::default();
        let ora = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(!scaduta(&sessione(-100, -899), ora, &cfg));
        assert!(scaduta(&sessione(-100, -900), ora, &cfg));
        assert!(scaduta(&sessione(-28_800, -1), ora, &cfg));
    }

    #[test]
    fn tokens_are_random_hex_and_csrf_compares_exactly() {
        let a = token_casuale();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, token_casuale());
        let s = sessione(0, 0);
        assert!(csrf_valido(&s, &"a".repeat(64)));
        assert!(!csrf_valido(&s, &"a".repeat(63)));
        assert!(!csrf_valido(&s, ""));
        assert!(!csrf_valido(&s, &"b".repeat(64)));
    }
}
