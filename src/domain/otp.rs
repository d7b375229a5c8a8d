//! The Immuni OTP code: 10 characters of [`ALFABETO`], the last a check character over the
//! first nine (immuni-backend-common, `OtpCodeValidator`), and the rule on the symptom-onset date.

use chrono::{Duration, NaiveDate};
use std::fmt;

/// The 25 symbols of an OTP (no 0, B, C, D, G, M, N, O, P, T, V).
pub const ALFABETO: &[u8; 25] = b"AEFHIJKLQRSUWXYZ123456789";
/// Characters in an OTP, the check character included.
pub const LUNGHEZZA: usize = 10;
/// How many days back the symptom-onset date may be (today minus 180 days is still accepted).
pub const GIORNI_INIZIO_SINTOMI: i64 = 180;

/// An OTP with a verified alphabet and check character, always upper-case.
///
/// `Debug` and `Display` never show the code: they print `Otp(sha256:<first 8 hex>…)`. The
/// clear text is only available through [`Otp::as_str`], for the body of the authorisation call.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Otp(String);

/// Why a typed OTP was refused; each variant is a message for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreOtp {
    #[error("codice OTP: sono richiesti 10 caratteri (inseriti {0})")]
    Lunghezza(usize),
    #[error("codice OTP: il carattere «{carattere}» in posizione {posizione} non è ammesso")]
    Alfabeto {
        carattere: char,
        /// 1-based.
        posizione: usize,
    },
    #[error("codice OTP: carattere di controllo errato")]
    Controllo,
}

/// Why a symptom-onset date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreInizioSintomi {
    #[error("data inizio sintomi: non può essere nel futuro")]
    Futura,
    #[error("data inizio sintomi: non può essere anteriore di più di 180 giorni")]
    TroppoLontana,
}

/// Value of a symbol at a 0-based even index (the "odd" positions counting from 1), in the
/// order of [`ALFABETO`].
const DISPARI: [u32; 25] = [
    1, 9, 13, 17, 19, 21, 2, 4, 6, 8, 12, 16, 22, 25, 24, 23, 0, 5, 7, 9, 13, 15, 17, 19, 21,
];
/// Value of a symbol at a 0-based odd index, in the order of [`ALFABETO`].
const PARI: [u32; 25] = [
    0, 4, 5, 7, 8, 9, 10, 11, 16, 17, 18, 20, 22, 23, 24, 25, 1, 2, 3, 4, 5, 6, 7, 8, 9,
];

fn indice(c: u8) -> Option<usize> {
    ALFABETO.iter().position(|&a| a == c)
}

impl Otp {
    /// Parses what an operator typed: surrounding white space is ignored and lower-case
    /// letters are taken as upper-case (Immuni shows codes upper-case). Then the length (10
    /// characters), the alphabet (the first bad character is named) and the check character
    /// are verified, in this order.
    pub fn parse(s: &str) -> Result<Otp, ErroreOtp> {
        let s = s.trim();
        let n = s.chars().count();
        if n != LUNGHEZZA {
            return Err(ErroreOtp::Lunghezza(n));
        }
        let upper = s.to_ascii_uppercase();
        if let Some((i, c)) = upper
            .chars()
            .enumerate()
            .find(|&(_, c)| !c.is_ascii() || indice(c as u8).is_none())
        {
            return Err(ErroreOtp::Alfabeto {
                carattere: c,
                posizione: i + 1,
            });
        }
        let b = upper.as_bytes();
        if Self::carattere_di_controllo(&b[..LUNGHEZZA - 1]) != Some(b[LUNGHEZZA - 1]) {
            return Err(ErroreOtp::Controllo);
        }
        Ok(Otp(upper))
    }

    /// The check character of the first nine symbols; `None` if `primi9` is not nine symbols
    /// of the alphabet. Index 0, 2, 4… use the odd map, 1, 3, 5… the even map; the check
    /// character is `ALFABETO[sum mod 25]`.
    pub fn carattere_di_controllo(primi9: &[u8]) -> Option<u8> {
        if primi9.len() != LUNGHEZZA - 1 {
            return None;
        }
        let mut sum = 0;
        for (i, &c) in primi9.iter().enumerate() {
            let k = indice(c)?;
            sum += if i % 2 == 0 { DISPARI[k] } else { PARI[k] };
        }
        ALFABETO.get((sum % 25) as usize).copied()
    }

    /// A random valid OTP (nine uniform symbols from the system's CSPRNG and their check
    /// character): for the demo and the tests.
    pub fn casuale() -> Result<Otp, openssl::error::ErrorStack> {
        let mut code = Vec::with_capacity(LUNGHEZZA);
        while code.len() < LUNGHEZZA - 1 {
            let mut buf = [0u8; 16];
            openssl::rand::rand_bytes(&mut buf)?;
            // 250 = 10 × 25: rejecting 250..=255 keeps the symbols uniform.
            code.extend(
                buf.iter()
                    .filter(|&&x| x < 250)
                    .map(|&x| ALFABETO[usize::from(x % 25)])
                    .take(LUNGHEZZA - 1 - code.len()),
            );
        }
        let check = Self::carattere_di_controllo(&code).unwrap_or(b'A');
        code.push(check);
        Ok(Otp(code.into_iter().map(char::from).collect()))
    }

    /// The code in clear, upper-case: only for the JSON body sent to the OTP service.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the code (its ASCII bytes), lowercase hex: what is stored and logged, and the
    /// Bearer token with which the app proves the OTP.
    pub fn sha256_hex(&self) -> String {
        hex(&openssl::sha::sha256(self.0.as_bytes()))
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.sha256_hex();
        write!(f, "Otp(sha256:{}…)", &h[..8])
    }
}

impl fmt::Display for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Checks a symptom-onset date against `oggi` (today in Italy, [`super::tempo::oggi_roma`]):
/// not after today, not more than [`GIORNI_INIZIO_SINTOMI`] days before it.
pub fn verifica_inizio_sintomi(
    data: NaiveDate,
    oggi: NaiveDate,
) -> Result<(), ErroreInizioSintomi> {
    if data > oggi {
        Err(ErroreInizioSintomi::Futura)
    } else if data < oggi - Duration::days(GIORNI_INIZIO_SINTOMI) {
        Err(ErroreInizioSintomi::TroppoLontana)
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[path = "otp_tests.rs"]
mod tests;
