//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes, one lane, as OWASP
//! recommends), in the PHC string format stored in `utente.password_hash`.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
#[error("argon2id: {0}")]
pub struct ErroreHash(String);

pub fn hash(password: &str) -> Result<String, ErroreHash> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ErroreHash(e.to_string()))
}

/// Whether `password` matches the stored hash; a malformed hash matches nothing.
pub fn verifica(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash cannot be parsed");
            false
        }
    }
}

/// A hash to verify against when the codice identificativo is unknown, so that an unknown
/// user costs as much time as a wrong password (no user enumeration by timing).
pub fn hash_fittizio() -> &'static str {
    static FITTIZIO: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FITTIZIO.get_or_init(|| hash("fittizio-non-usato").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash("Più-Sicura.2026").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verifica("Più-Sicura.2026", &h));
        assert!(!verifica("Piu-Sicura.2026", &h));
        assert_ne!(h, hash("Più-Sicura.2026").unwrap(), "salted");
        assert!(!verifica("x", "not a hash"));
    }
}
