//! The account rules of the credentials login, with no I/O: password policy, lockout after
//! repeated failures, forced password change. The repository applies their decisions.

use chrono::{DateTime, Duration, Utc};

/// The settings the rules need (from `[portal]`).
#[derive(Debug, Clone, Copy)]
pub struct Politica {
    pub max_tentativi: u32,
    pub blocco: Duration,
    pub scadenza_password: Duration,
}

impl Politica {
    pub fn da_config(cfg: &crate::config::PortalConfig) -> Self {
        Self {
            max_tentativi: cfg.max_tentativi,
            blocco: Duration::minutes(i64::from(cfg.blocco_minuti)),
            scadenza_password: Duration::days(i64::from(cfg.scadenza_password_giorni)),
        }
    }
}

/// The password rules, as stated on the page that asks for a new password.
pub const REGOLE_PASSWORD: [&str; 5] = [
    "da 8 a 64 caratteri;",
    "almeno una lettera maiuscola, una minuscola e una cifra;",
    "almeno un carattere speciale (ad esempio . , ; : ! ? - _ @ #);",
    "non deve contenere il Codice Identificativo, il cognome o il nome;",
    "deve essere diversa dalla parola chiave attuale.",
];

/// Why a new password is refused (each with the message shown beside the field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordNonValida {
    #[error("La parola chiave deve avere da 8 a 64 caratteri.")]
    Lunghezza,
    #[error(
        "La parola chiave deve contenere almeno una lettera maiuscola, una minuscola e una cifra."
    )]
    Composizione,
    #[error("La parola chiave deve contenere almeno un carattere speciale.")]
    CarattereSpeciale,
    #[error("La parola chiave non deve contenere il Codice Identificativo, il cognome o il nome.")]
    DatiPersonali,
    #[error("La nuova parola chiave deve essere diversa da quella attuale.")]
    UgualeAllaPrecedente,
    #[error("Le due parole chiave inserite non coincidono.")]
    ConfermaDiversa,
}

/// Checks a new password against the policy. `personali` are the codice identificativo,
/// cognome and nome (compared case-insensitively; parts shorter than 3 characters are ignored).
/// Whether it equals the current password is checked by the caller against the stored hash.
pub fn verifica_password(nuova: &str, personali: &[&str]) -> Result<(), PasswordNonValida> {
    let n = nuova.chars().count();
    if !(8..=64).contains(&n) {
        return Err(PasswordNonValida::Lunghezza);
    }
    let maiuscola = nuova.chars().any(char::is_uppercase);
    let minuscola = nuova.chars().any(char::is_lowercase);
    let cifra = nuova.chars().any(|c| c.is_ascii_digit());
    if !(maiuscola && minuscola && cifra) {
        return Err(PasswordNonValida::Composizione);
    }
    if !nuova
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
    {
        return Err(PasswordNonValida::CarattereSpeciale);
    }
    let bassa = nuova.to_lowercase();
    for parola in personali.iter().flat_map(|p| p.split_whitespace()) {
        let parola = parola.to_lowercase();
        if parola.chars().count() >= 3 && bassa.contains(&parola) {
            return Err(PasswordNonValida::DatiPersonali);
        }
    }
    Ok(())
}

/// The lockout state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocco {
    pub tentativi_falliti: u32,
    pub bloccato_fino: Option<DateTime<Utc>>,
}

/// What a login attempt leads to, before the password is even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ammissione {
    /// The account is locked until then: the password is not checked, the attempt not counted
    /// (so a stream of attempts cannot keep an account locked forever beyond `blocco`).
    Bloccato(DateTime<Utc>),
    /// The password may be checked.
    Ammesso,
}

impl Blocco {
    pub fn ammissione(&self, ora: DateTime<Utc>) -> Ammissione {
        match self.bloccato_fino {
            Some(fino) if fino > ora => Ammissione::Bloccato(fino),
            _ => Ammissione::Ammesso,
        }
    }

    /// The state after a wrong password: the failures count up from zero once a lock has
    /// expired; the `max_tentativi`-th failure in a row locks the account for `blocco`.
    pub fn dopo_errore(&self, ora: DateTime<Utc>, p: &Politica) -> Blocco {
        let precedenti = match self.bloccato_fino {
            Some(fino) if fino <= ora => 0,
            _ => self.tentativi_falliti,
        };
        let tentativi = precedenti.saturating_add(1);
        if tentativi >= p.max_tentativi {
            Blocco {
                tentativi_falliti: 0,
                bloccato_fino: Some(ora + p.blocco),
            }
        } else {
            Blocco {
                tentativi_falliti: tentativi,
                bloccato_fino: None,
            }
        }
    }
}

/// Whether the operator must choose a new password before anything else: never chosen one
/// (first login, or a temporary one from an administrator), or the last is older than allowed.
pub fn cambio_obbligatorio(
    obbligatorio: bool,
    cambiata_il: Option<DateTime<Utc>>,
    ora: DateTime<Utc>,
    p: &Politica,
) -> bool {
    match cambiata_il {
        _ if obbligatorio => true,
        None => true,
        Some(t) => ora - t >= p.scadenza_password,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn politica() -> Politica {
        Politica {
            max_tentativi: 5,
            blocco: Duration::minutes(15),
            scadenza_password: Duration::days(90),
        }
    }

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(min)
    }

    #[test]
    fn password_policy() {
        let pers = ["RSSMRA80A01H501U", "ROSSI", "MARIO"];
        assert_eq!(
            verifica_password("Corta1!", &pers),
            Err(PasswordNonValida::Lunghezza)
        );
        assert_eq!(
            verifica_password(&format!("Aa1!{}", "x".repeat(61)), &pers),
            Err(PasswordNonValida::Lunghezza)
        );
        assert_eq!(
            verifica_password(&format!("Aa1!{}", "x".repeat(60)), &pers),
            Ok(())
        );
        assert_eq!(
            verifica_password("tuttominuscole1!", &pers),
            Err(PasswordNonValida::Composizione)
        );
        assert_eq!(
            verifica_password("TUTTOMAIUSCOLE1!", &pers),
            Err(PasswordNonValida::Composizione)
        );
        assert_eq!(
            verifica_password("SenzaCifre!!", &pers),
            Err(PasswordNonValida::Composizione)
        );
        assert_eq!(
            verifica_password("SenzaSpeciali12", &pers),
            Err(PasswordNonValida::CarattereSpeciale)
        );
        assert_eq!(
            verifica_password("Mario.Bello2026", &pers),
            Err(PasswordNonValida::DatiPersonali)
        );
        assert_eq!(
            verifica_password("xrssmra80a01h501u.A", &pers),
            Err(PasswordNonValida::DatiPersonali)
        );
        assert_eq!(verifica_password("Più-Sicura.2026", &pers), Ok(()));
        // Short name parts do not forbid common syllables.
        assert_eq!(verifica_password("Lontano.2026", &["LI", "LO"]), Ok(()));
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes() {
        let p = politica();
        let mut b = Blocco {
            tentativi_falliti: 0,
            bloccato_fino: None,
        };
        for i in 1..5 {
            b = b.dopo_errore(t(0), &p);
            assert_eq!(b.tentativi_falliti, i);
            assert_eq!(b.ammissione(t(0)), Ammissione::Ammesso);
        }
        b = b.dopo_errore(t(1), &p);
        assert_eq!(b.bloccato_fino, Some(t(16)));
        assert_eq!(b.ammissione(t(1)), Ammissione::Bloccato(t(16)));
        assert_eq!(b.ammissione(t(15)), Ammissione::Bloccato(t(16)));
        // The lock ends on time; the next failure starts a new count.
        assert_eq!(b.ammissione(t(16)), Ammissione::Ammesso);
        let after = b.dopo_errore(t(17), &p);
        assert_eq!(
            after,
            Blocco {
                tentativi_falliti: 1,
                bloccato_fino: None
            }
        );
    }

    #[test]
    fn configured_threshold_is_honoured() {
        let p = Politica {
            max_tentativi: 2,
            ..politica()
        };
        let b = Blocco {
            tentativi_falliti: 0,
            bloccato_fino: None,
        }
        .dopo_errore(t(0), &p);
        assert_eq!(b.bloccato_fino, None);
        assert_eq!(b.dopo_errore(t(0), &p).bloccato_fino, Some(t(15)));
    }

    #[test]
    fn password_change_is_forced_at_first_login_and_after_90_days() {
        let p = politica();
        assert!(cambio_obbligatorio(true, Some(t(0)), t(1), &p));
        assert!(cambio_obbligatorio(false, None, t(1), &p));
        let changed = t(0);
        assert!(!cambio_obbligatorio(
            false,
            Some(changed),
            changed + Duration::days(89),
            &p
        ));
        assert!(cambio_obbligatorio(
            false,
            Some(changed),
            changed + Duration::days(90),
            &p
        ));
    }
}
