//! The extension point of bulk-file kinds: what the shared machinery (upload, signature, spool,
//! worker, outcome) needs to know about one kind, as plain data and two functions. A kind
//! declares one `Genere` in its own folder (`services/<area>/flusso/`) and is registered once,
//! in `crate::catalogo`; nothing in `flussi/` names a kind.

use super::import::{Esito, ImportOptions, Progress, SignedContent};
use super::repo::Flusso;
use crate::access::TipoChiamante;
use diesel::PgConnection;
use std::io::Write;

/// Imports a received file of the kind (its records, in batches, resumable). Blocking.
pub type Elabora = fn(
    &mut PgConnection,
    &Flusso,
    &SignedContent<'_>,
    &ImportOptions<'_>,
    &mut dyn FnMut(Progress),
) -> anyhow::Result<Esito>;

/// Writes the records of an imported file into its outcome document, streaming.
pub type Records = fn(&mut PgConnection, &Flusso, &mut dyn Write) -> anyhow::Result<()>;

/// One kind of bulk file.
pub struct Genere {
    /// As stored in `flusso.tipo`.
    pub codice: &'static str,
    /// The upload path; `{path}/{protocollo}` answers the outcome. Under `http::PREFIX`.
    pub path: &'static str,
    /// Operation names of the upload and of the outcome (entitlements, access log).
    pub invio: &'static str,
    pub esito: &'static str,
    /// The only kind of caller that may send (and ask about) such files.
    pub mittente: TipoChiamante,
    /// Whether a file is applied for its sender's region (a sender without one cannot send).
    pub per_regione: bool,
    /// Namespace of the file and of its receipt (`xsd/flussi/`).
    pub ns: &'static str,
    /// Namespace of the outcome document.
    pub ns_esito: &'static str,
    /// Name of the root element of the file; `ricevuta…` and `esito…` follow it.
    pub radice: &'static str,
    pub elabora: Elabora,
    pub records: Records,
}

impl Genere {
    /// The last part of the upload path (`prenotazioni`, `tscns`): the kind's short name.
    pub fn nome(&self) -> &'static str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

impl PartialEq for Genere {
    fn eq(&self, other: &Self) -> bool {
        self.codice == other.codice
    }
}

impl Eq for Genere {}

impl std::fmt::Debug for Genere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.codice)
    }
}

/// A kind of file, as the machinery passes it around.
pub type Tipo = &'static Genere;

/// The registered kinds (`crate::catalogo::GENERI`).
#[derive(Debug, Clone, Copy)]
pub struct Generi(pub &'static [Tipo]);

impl Generi {
    pub fn iter(self) -> impl Iterator<Item = Tipo> {
        self.0.iter().copied()
    }

    /// The kind stored as `codice` in `flusso.tipo`.
    pub fn parse(self, codice: &str) -> Option<Tipo> {
        self.iter().find(|t| t.codice == codice)
    }

    /// The kind whose short name (`Genere::nome`) is `nome`.
    pub fn per_nome(self, nome: &str) -> Option<Tipo> {
        self.iter().find(|t| t.nome() == nome)
    }

    /// The kind of a stored file.
    pub fn di(self, f: &Flusso) -> anyhow::Result<Tipo> {
        self.parse(&f.tipo)
            .ok_or_else(|| anyhow::anyhow!("bulk file {} of unknown kind {}", f.protocollo, f.tipo))
    }
}

#[cfg(test)]
#[path = "genere_tests.rs"]
mod tests;
