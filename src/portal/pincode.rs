//! The operator's pincode: 10 random digits, the second factor for sending an OTP code
//! ("Profilo utente > Stampa pincode"). It is stored only encrypted (AES-256-GCM, bound to the
//! user's id) and never printed by `Debug`/`Display`, so it cannot reach a log by accident.
//!
//! Regenerating a pincode is writing the blob of a new one over the old: the old one no longer
//! verifies. Key file format: 64 hexadecimal characters (optionally followed by a newline), mode
//! 0600; a key file readable by group or others is refused.

use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Number of digits of a pincode.
pub const CIFRE: usize = 10;
/// Length of the nonce that opens a blob.
const NONCE: usize = 12;
/// Length of the GCM tag that closes a blob.
const TAG: usize = 16;
/// Length of an encrypted pincode: nonce, ciphertext, tag.
pub const LUNGHEZZA_CIFRATO: usize = NONCE + CIFRE + TAG;
/// Prefix of the additional authenticated data, so a blob of another purpose never decrypts here.
const AAD_PREFISSO: &[u8] = b"tsgate:pincode:v1:";

/// Why a pincode or its key could not be produced, loaded or opened.
#[derive(Debug, thiserror::Error)]
pub enum PincodeError {
    #[error("chiave del pincode {file}: lettura non riuscita: {source}")]
    ChiaveLettura {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("chiave del pincode {file}: scrittura non riuscita: {source}")]
    ChiaveScrittura {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("chiave del pincode {file}: sono richiesti 64 caratteri esadecimali (32 byte)")]
    ChiaveFormato { file: PathBuf },
    #[error(
        "chiave del pincode {file}: permessi {modo:o}, leggibile da gruppo o altri (usare 0600)"
    )]
    ChiavePermessi { file: PathBuf, modo: u32 },
    #[error("pincode: il dato cifrato non si apre con questa chiave per questo utente")]
    Decifratura,
    #[error("pincode: errore crittografico: {0}")]
    Crittografia(#[from] openssl::error::ErrorStack),
}

/// A pincode: exactly 10 ASCII digits (leading zeros allowed). `Debug` and `Display` print
/// `Pincode(**********)`; only [`Pincode::cifre`] gives the digits. It has no `PartialEq`: compare
/// through [`ChiavePincode::verifica`], which is constant-time.
#[derive(Clone)]
pub struct Pincode([u8; CIFRE]);

impl Pincode {
    /// A new pincode, each digit uniform over 0-9 and independent, from the OpenSSL CSPRNG.
    /// Rejection sampling: a random byte is used only if below 250, so `byte % 10` has no bias.
    pub fn genera() -> Result<Self, PincodeError> {
        let mut cifre = [0u8; CIFRE];
        let mut n = 0;
        let mut buf = [0u8; 32];
        while n < CIFRE {
            openssl::rand::rand_bytes(&mut buf)?;
            for c in buf.iter().filter_map(|&b| cifra_da_byte(b)) {
                if n == CIFRE {
                    break;
                }
                cifre[n] = c;
                n += 1;
            }
        }
        buf.fill(0);
        Ok(Self(cifre))
    }

    /// The pincode from its digits, if `s` is exactly 10 ASCII digits.
    fn da_byte(b: &[u8]) -> Option<Self> {
        let cifre: [u8; CIFRE] = b.try_into().ok()?;
        cifre.iter().all(u8::is_ascii_digit).then_some(Self(cifre))
    }

    /// The 10 digits, for the PDF: never log them.
    pub fn cifre(&self) -> &str {
        // The digits are ASCII by construction, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Pincode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pincode(**********)")
    }
}

impl fmt::Display for Pincode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pincode(**********)")
    }
}

/// The AES-256-GCM key that encrypts pincodes at rest. `Debug` does not print it.
pub struct ChiavePincode([u8; 32]);

impl fmt::Debug for ChiavePincode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChiavePincode(..)")
    }
}

impl ChiavePincode {
    /// Loads the key from `path`: 64 hexadecimal characters, surrounding whitespace ignored.
    /// Refuses a file that group or others may read, write or execute (mode must be 0600 or
    /// 0400); every error names the file.
    pub fn carica(path: &Path) -> Result<Self, PincodeError> {
        let lettura = |source| PincodeError::ChiaveLettura {
            file: path.to_owned(),
            source,
        };
        let modo = std::fs::metadata(path)
            .map_err(lettura)?
            .permissions()
            .mode();
        if modo & 0o077 != 0 {
            return Err(PincodeError::ChiavePermessi {
                file: path.to_owned(),
                modo: modo & 0o777,
            });
        }
        let mut testo = std::fs::read(path).map_err(lettura)?;
        let chiave =
            decodifica_hex(testo.trim_ascii()).ok_or_else(|| PincodeError::ChiaveFormato {
                file: path.to_owned(),
            });
        testo.fill(0);
        chiave.map(Self)
    }

    /// Loads the key at `path`, or first writes a fresh random one there (mode 0600, written to a
    /// temporary file and linked into place, so a concurrent start never sees a partial key and
    /// never overwrites another's). For the demo and tests; production keys are provisioned.
    pub fn crea_se_manca(path: &Path) -> Result<Self, PincodeError> {
        if path.exists() {
            return Self::carica(path);
        }
        let scrittura = |source| PincodeError::ChiaveScrittura {
            file: path.to_owned(),
            source,
        };
        let mut chiave = [0u8; 32];
        openssl::rand::rand_bytes(&mut chiave)?;
        let mut hex = codifica_hex(&chiave);
        hex.push('\n');
        let nome = path.file_name().map(|n| n.to_string_lossy().into_owned());
        static CONTATORE: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_file_name(format!(
            ".{}.{}.{}.tmp",
            nome.unwrap_or_default(),
            std::process::id(),
            CONTATORE.fetch_add(1, Ordering::Relaxed)
        ));
        let scritto = (|| {
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(hex.as_bytes())?;
            f.sync_all()?;
            std::fs::hard_link(&tmp, path)
        })();
        let _ = std::fs::remove_file(&tmp);
        chiave.fill(0);
        match scritto {
            // Another process wrote it first: use that key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            r => r.map_err(scrittura)?,
        }
        Self::carica(path)
    }

    /// A fresh pincode for user `utente_id` and its blob to store (overwriting the old blob is
    /// what invalidates the old pincode).
    pub fn nuovo_pincode(&self, utente_id: i64) -> Result<(Pincode, Vec<u8>), PincodeError> {
        let pincode = Pincode::genera()?;
        let blob = self.cifra(&pincode, utente_id)?;
        Ok((pincode, blob))
    }

    /// Encrypts `pincode` for user `utente_id`: a fresh random 12-byte nonce, the 10-byte
    /// ciphertext and the 16-byte tag ([`LUNGHEZZA_CIFRATO`] bytes). The user id is authenticated
    /// data, so the blob copied to another user's row does not decrypt.
    pub fn cifra(&self, pincode: &Pincode, utente_id: i64) -> Result<Vec<u8>, PincodeError> {
        let mut nonce = [0u8; NONCE];
        openssl::rand::rand_bytes(&mut nonce)?;
        let mut tag = [0u8; TAG];
        let cifrato = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(&nonce),
            &aad(utente_id),
            &pincode.0,
            &mut tag,
        )?;
        let mut blob = Vec::with_capacity(LUNGHEZZA_CIFRATO);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&cifrato);
        blob.extend_from_slice(&tag);
        Ok(blob)
    }

    /// Decrypts a blob made by [`ChiavePincode::cifra`] for the same user with the same key.
    /// A blob of another user, another key, of the wrong length or altered in any byte gives
    /// [`PincodeError::Decifratura`].
    pub fn decifra(&self, blob: &[u8], utente_id: i64) -> Result<Pincode, PincodeError> {
        if blob.len() != LUNGHEZZA_CIFRATO {
            return Err(PincodeError::Decifratura);
        }
        let (nonce, resto) = blob.split_at(NONCE);
        let (cifrato, tag) = resto.split_at(CIFRE);
        let mut chiaro = decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.0,
            Some(nonce),
            &aad(utente_id),
            cifrato,
            tag,
        )
        .map_err(|_| PincodeError::Decifratura)?;
        let pincode = Pincode::da_byte(&chiaro).ok_or(PincodeError::Decifratura);
        chiaro.fill(0);
        pincode
    }

    /// Whether `candidato` is exactly the pincode in `blob` (no trimming: the caller trims the
    /// form field). The digits are compared in constant time; a blob that does not decrypt, or a
    /// candidate that is not 10 bytes long, is simply `false`.
    pub fn verifica(&self, blob: &[u8], utente_id: i64, candidato: &str) -> bool {
        match self.decifra(blob, utente_id) {
            Ok(p) => candidato.len() == CIFRE && openssl::memcmp::eq(&p.0, candidato.as_bytes()),
            Err(_) => false,
        }
    }
}

impl Drop for ChiavePincode {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

/// The ASCII digit of a uniform random byte, or `None` for 250-255: each digit comes from
/// exactly 25 of the 250 accepted values, so the digit is uniform.
fn cifra_da_byte(b: u8) -> Option<u8> {
    (b < 250).then_some(b'0' + b % 10)
}

/// Authenticated data of a blob: purpose and user id.
fn aad(utente_id: i64) -> Vec<u8> {
    let mut a = AAD_PREFISSO.to_vec();
    a.extend_from_slice(&utente_id.to_be_bytes());
    a
}

fn codifica_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn decodifica_hex(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let val = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (o, coppia) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = val(coppia[0])? << 4 | val(coppia[1])?;
    }
    Some(out)
}

#[cfg(test)]
#[path = "pincode_tests.rs"]
mod tests;
