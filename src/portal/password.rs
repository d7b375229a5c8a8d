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

/// A temporary password that meets the policy: 14 characters from an alphabet without look-alikes
/// (no 0/O, 1/l/I), with at least one upper-case letter, one lower-case, one digit and one of
/// `.-_@#`.
pub fn temporanea() -> Result<String, ErroreHash> {
    const CLASSI: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b".-_@#",
    ];
    let mut casuali = [0u8; 28];
    openssl::rand::rand_bytes(&mut casuali).map_err(|e| ErroreHash(e.to_string()))?;
    let tutti: Vec<u8> = CLASSI.concat();
    let mut out: Vec<u8> = (0..14)
        .map(|i| {
            let alfabeto = CLASSI.get(i).copied().unwrap_or(&tutti);
            alfabeto[usize::from(casuali[i]) % alfabeto.len()]
        })
        .collect();
    // Shuffle, so the classes are not always in the first four places.
    for i in (1..out.len()).rev() {
        let j = usize::from(casuali[14 + i]) % (i + 1);
        out.swap(i, j);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
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

    #[test]
    fn temporary_passwords_meet_the_policy() {
        for _ in 0..200 {
            let p = temporanea().unwrap();
            assert_eq!(p.len(), 14);
            assert_eq!(
                super::super::regole::verifica_password(&p, &[]),
                Ok(()),
                "{p}"
            );
        }
        assert_ne!(temporanea().unwrap(), temporanea().unwrap());
    }
}
