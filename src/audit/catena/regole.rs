//! The pure rules of the chain: the canonical encoding of a row, its hash, and the checks that
//! find the first anomaly in the rows read in id order. No database here.
//!
//! # Canonical encoding (version 1)
//!
//! ```text
//! 0x01                              version of the encoding
//! id                                8 bytes, big-endian
//! istante                           8 bytes, big-endian: milliseconds since 1970-01-01T00:00:00Z
//! attore, azione                    8-byte big-endian byte length, then the UTF-8 bytes
//! oggetto, dettaglio, esito         0x00 when NULL; else 0x01, 8-byte length, UTF-8 bytes
//! ```
//!
//! Every field is fixed-size or length-prefixed and they come in a fixed order, so two different
//! rows never have the same encoding (NULL and '' differ too).
//! `hash = SHA-256(hash_precedente || encoding)`, with 32 zero bytes before the first row.

use crate::db::schema::audit_amministrativo;
use chrono::{DateTime, Utc};
use openssl::sha::Sha256;
use std::fmt;

/// `hash_precedente` of the first row, and the head's hash while the chain is empty.
pub const HASH_ZERO: [u8; 32] = [0; 32];

const VERSIONE_CODIFICA: u8 = 1;

/// The hashed content of a row (everything but the two hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contenuto<'a> {
    pub id: i64,
    /// Milliseconds since the Unix epoch (the column keeps milliseconds).
    pub istante_ms: i64,
    pub attore: &'a str,
    pub azione: &'a str,
    pub oggetto: Option<&'a str>,
    pub dettaglio: Option<&'a str>,
    pub esito: Option<&'a str>,
}

impl Contenuto<'_> {
    /// The canonical encoding described at the top of this module.
    pub fn codifica(&self) -> Vec<u8> {
        fn testo(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u64).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        fn facoltativo(out: &mut Vec<u8>, s: Option<&str>) {
            match s {
                None => out.push(0),
                Some(s) => {
                    out.push(1);
                    testo(out, s);
                }
            }
        }
        let mut out = Vec::with_capacity(64 + self.attore.len() + self.azione.len());
        out.push(VERSIONE_CODIFICA);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.istante_ms.to_be_bytes());
        testo(&mut out, self.attore);
        testo(&mut out, self.azione);
        facoltativo(&mut out, self.oggetto);
        facoltativo(&mut out, self.dettaglio);
        facoltativo(&mut out, self.esito);
        out
    }

    /// SHA-256(`hash_precedente` || encoding).
    pub fn hash(&self, hash_precedente: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(hash_precedente);
        h.update(&self.codifica());
        h.finish()
    }
}

/// A row as stored in `audit_amministrativo`.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = audit_amministrativo)]
pub struct RigaAudit {
    pub id: i64,
    pub istante: DateTime<Utc>,
    pub attore: String,
    pub azione: String,
    pub oggetto: Option<String>,
    pub dettaglio: Option<String>,
    pub esito: Option<String>,
    pub hash_precedente: Vec<u8>,
    pub hash: Vec<u8>,
}

impl RigaAudit {
    pub fn contenuto(&self) -> Contenuto<'_> {
        Contenuto {
            id: self.id,
            istante_ms: self.istante.timestamp_millis(),
            attore: &self.attore,
            azione: &self.azione,
            oggetto: self.oggetto.as_deref(),
            dettaglio: self.dettaglio.as_deref(),
            esito: self.esito.as_deref(),
        }
    }

    /// Whether the stored hash is the hash of the stored content and `hash_precedente`.
    pub fn hash_coerente(&self) -> bool {
        self.contenuto().hash(&self.hash_precedente).as_slice() == self.hash.as_slice()
    }
}

/// The head as stored in `audit_testa`: id and hash of the last row (0 and [`HASH_ZERO`] while
/// the chain is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Testa {
    pub ultimo_id: i64,
    pub ultimo_hash: Vec<u8>,
}

/// The first anomaly found. Rows are named by their id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomalia {
    /// The row's hash does not match its content: a field (or `hash_precedente`) was changed.
    RigaModificata { id: i64 },
    /// The row matches its own hash but not the previous row's hash: it was inserted or replaced
    /// by a forged row, or the previous row was rewritten with a recomputed hash.
    RigaNonConcatenata { id: i64 },
    /// Rows `da..=a` are missing: the chain jumps to row `a + 1`.
    RigheCancellate { da: i64, a: i64 },
    /// A row that does not belong to the recorded chain: its id is out of sequence or beyond
    /// the head's last id.
    RigaInserita { id: i64 },
    /// The last rows `da..=a` were deleted: the head says the chain ends at `a`.
    CodaCancellata { da: i64, a: i64 },
    /// The head's hash is not the last row's (`ultimo_id`): the head or that row was rewritten.
    TestaNonCorrispondente { ultimo_id: i64 },
    /// `audit_testa` has no row.
    TestaMancante,
}

impl Anomalia {
    /// The first row the anomaly names (for `RigheCancellate`, the row after the gap), if any.
    pub fn riga(&self) -> Option<i64> {
        match *self {
            Anomalia::RigaModificata { id }
            | Anomalia::RigaNonConcatenata { id }
            | Anomalia::RigaInserita { id } => Some(id),
            Anomalia::RigheCancellate { a, .. } => Some(a + 1),
            Anomalia::CodaCancellata { da, .. } => Some(da),
            Anomalia::TestaNonCorrispondente { ultimo_id } => Some(ultimo_id),
            Anomalia::TestaMancante => None,
        }
    }
}

fn righe(da: i64, a: i64) -> String {
    if da == a {
        format!("riga {da}")
    } else {
        format!("righe {da}-{a}")
    }
}

impl fmt::Display for Anomalia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Anomalia::RigaModificata { id } => write!(
                f,
                "riga {id} modificata: l'hash non corrisponde al contenuto \
                 (row {id} changed: its hash does not match its content)"
            ),
            Anomalia::RigaNonConcatenata { id } => write!(
                f,
                "riga {id} non concatenata alla precedente: inserita o sostituita, oppure la \
                 precedente è stata riscritta (row {id} does not chain to the previous row: \
                 inserted or replaced, or the previous row was rewritten)"
            ),
            Anomalia::RigheCancellate { da, a } => write!(
                f,
                "{} cancellata/e prima della riga {} (row(s) {da}-{a} deleted before row {})",
                righe(da, a),
                a + 1,
                a + 1
            ),
            Anomalia::RigaInserita { id } => write!(
                f,
                "riga {id} inserita: non appartiene alla catena registrata \
                 (row {id} inserted: it is not part of the recorded chain)"
            ),
            Anomalia::CodaCancellata { da, a } => write!(
                f,
                "{} cancellata/e in coda: la testa indica l'ultima riga {a} \
                 (row(s) {da}-{a} deleted at the end: the head says the last row is {a})",
                righe(da, a)
            ),
            Anomalia::TestaNonCorrispondente { ultimo_id } => write!(
                f,
                "testa della catena non corrispondente all'ultima riga {ultimo_id}: la testa o \
                 la riga {ultimo_id} è stata riscritta (the head does not match the last row \
                 {ultimo_id}: the head or that row was rewritten)"
            ),
            Anomalia::TestaMancante => write!(
                f,
                "testa della catena mancante (audit_testa è vuota) \
                 (the head of the chain is missing)"
            ),
        }
    }
}

/// A chain found intact: how many rows, and the head hash (keep a copy elsewhere: it is what
/// detects a rewrite of the whole table and head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integra {
    pub righe: u64,
    pub ultimo_id: i64,
    pub hash_testa: Vec<u8>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verifica {
    Integra(Integra),
    /// The first anomaly in id order (row anomalies before the head's).
    Compromessa(Anomalia),
}

/// Checks rows fed one at a time in increasing id order, keeping only the previous hash, so a
/// chain of any length is verified in constant memory. Ids must run 1, 2, 3, ... (as
/// `registra` assigns them).
#[derive(Debug, Clone)]
pub struct Verificatore {
    testa: Option<Testa>,
    atteso: i64,
    precedente: Vec<u8>,
    righe: u64,
}

impl Verificatore {
    /// `testa`: the stored head, `None` when `audit_testa` is empty.
    pub fn new(testa: Option<Testa>) -> Self {
        Self {
            testa,
            atteso: 1,
            precedente: HASH_ZERO.to_vec(),
            righe: 0,
        }
    }

    /// Checks the next row. In order: its id is the next in sequence (else rows were deleted
    /// before it, or it was inserted) and not beyond the head (else inserted); its hash matches
    /// its content (else changed); its `hash_precedente` is the previous row's hash (else not
    /// chained).
    pub fn riga(&mut self, r: &RigaAudit) -> Result<(), Anomalia> {
        if r.id < self.atteso {
            return Err(Anomalia::RigaInserita { id: r.id });
        }
        if r.id > self.atteso {
            return Err(Anomalia::RigheCancellate {
                da: self.atteso,
                a: r.id - 1,
            });
        }
        if matches!(&self.testa, Some(t) if r.id > t.ultimo_id) {
            return Err(Anomalia::RigaInserita { id: r.id });
        }
        if !r.hash_coerente() {
            return Err(Anomalia::RigaModificata { id: r.id });
        }
        if r.hash_precedente != self.precedente {
            return Err(Anomalia::RigaNonConcatenata { id: r.id });
        }
        self.atteso += 1;
        self.precedente.clone_from(&r.hash);
        self.righe += 1;
        Ok(())
    }

    /// After the last row: the head exists, names the last row checked, and holds its hash.
    pub fn fine(self) -> Result<Integra, Anomalia> {
        let testa = self.testa.ok_or(Anomalia::TestaMancante)?;
        let ultimo = self.atteso - 1;
        if testa.ultimo_id > ultimo {
            return Err(Anomalia::CodaCancellata {
                da: ultimo + 1,
                a: testa.ultimo_id,
            });
        }
        if testa.ultimo_hash != self.precedente {
            return Err(Anomalia::TestaNonCorrispondente { ultimo_id: ultimo });
        }
        Ok(Integra {
            righe: self.righe,
            ultimo_id: ultimo,
            hash_testa: self.precedente,
        })
    }

    /// Verifies a whole sequence of rows (in id order) against `testa`.
    pub fn verifica<'a>(
        testa: Option<Testa>,
        righe: impl IntoIterator<Item = &'a RigaAudit>,
    ) -> Verifica {
        let mut v = Self::new(testa);
        for r in righe {
            if let Err(a) = v.riga(r) {
                return Verifica::Compromessa(a);
            }
        }
        match v.fine() {
            Ok(i) => Verifica::Integra(i),
            Err(a) => Verifica::Compromessa(a),
        }
    }
}

/// Lower-case hexadecimal of a hash, as the CLI prints it.
pub fn esadecimale(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "regole_tests.rs"]
mod tests;
