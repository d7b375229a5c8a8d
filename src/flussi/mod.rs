//! Signed bulk files, whatever they carry. Upload and outcome over HTTP, CMS signature, spool,
//! duplicate detection, states, worker and CLI are here; each kind (`genere::Genere`) brings its
//! names, its import and its outcome records, and is registered in `crate::catalogo`.

pub mod cli;
pub mod documenti;
pub mod firma;
pub mod genere;
pub mod http;
pub mod import;
pub mod repo;
pub mod ricevi;
pub mod worker;
pub mod xml;

pub use genere::{Genere, Generi, Tipo};

/// The life of a file: RICEVUTO (signature verified, queued), IN_ELABORAZIONE, then ELABORATO
/// (outcome available) or RIFIUTATO (whole file refused: signature or XML structure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stato {
    Ricevuto,
    InElaborazione,
    Elaborato,
    Rifiutato,
}

impl Stato {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ricevuto => "RICEVUTO",
            Self::InElaborazione => "IN_ELABORAZIONE",
            Self::Elaborato => "ELABORATO",
            Self::Rifiutato => "RIFIUTATO",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Ricevuto,
            Self::InElaborazione,
            Self::Elaborato,
            Self::Rifiutato,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Why a whole file is refused, each with a stable code (listed in docs/integrators.md); the same codes
/// for every kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotivoRifiuto {
    NonCms,
    FirmaNonSupportata,
    CertificatoNonDellaCa,
    FirmatarioNonAssociato,
    ContenutoAlterato,
    FirmaNonValida,
    MittenteNonAbilitato,
    XmlNonValido,
    RadiceNonValida,
}

impl MotivoRifiuto {
    pub const ALL: [MotivoRifiuto; 9] = [
        Self::NonCms,
        Self::FirmaNonSupportata,
        Self::CertificatoNonDellaCa,
        Self::FirmatarioNonAssociato,
        Self::ContenutoAlterato,
        Self::FirmaNonValida,
        Self::MittenteNonAbilitato,
        Self::XmlNonValido,
        Self::RadiceNonValida,
    ];

    pub fn codice(self) -> &'static str {
        match self {
            Self::NonCms => "AVN-0501",
            Self::FirmaNonSupportata => "AVN-0502",
            Self::CertificatoNonDellaCa => "AVN-0503",
            Self::FirmatarioNonAssociato => "AVN-0504",
            Self::ContenutoAlterato => "AVN-0505",
            Self::FirmaNonValida => "AVN-0506",
            Self::MittenteNonAbilitato => "AVN-0507",
            Self::XmlNonValido => "AVN-0511",
            Self::RadiceNonValida => "AVN-0512",
        }
    }

    pub fn descrizione(self) -> &'static str {
        match self {
            Self::NonCms => {
                "Il file non è una busta CMS/PKCS#7 SignedData (DER) con il flusso incluso"
            }
            Self::FirmaNonSupportata => {
                "Firma non supportata: è richiesto un solo firmatario con attributi firmati"
            }
            Self::CertificatoNonDellaCa => {
                "Certificato del firmatario assente, non emesso dalla CA del Sistema TS, scaduto o revocato"
            }
            Self::FirmatarioNonAssociato => {
                "Certificato del firmatario non associato al chiamante che ha inviato il flusso"
            }
            Self::ContenutoAlterato => {
                "SignedContent alterato: l'impronta del flusso non corrisponde a quella firmata"
            }
            Self::FirmaNonValida => "Firma non valida",
            Self::MittenteNonAbilitato => {
                "Mittente non più abilitato all'invio, o assegnato a un'altra regione, prima dell'elaborazione del flusso"
            }
            Self::XmlNonValido => "Flusso XML non ben formato o con costrutti non ammessi",
            Self::RadiceNonValida => {
                "Elemento radice diverso da quello del tipo di flusso (flussoPrenotazioni, flussoTSCNS)"
            }
        }
    }
}

/// A refused file: the reason and a detail for the operator (Italian, no internals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rifiuto {
    pub motivo: MotivoRifiuto,
    pub dettaglio: Option<String>,
}

impl Rifiuto {
    pub fn new(motivo: MotivoRifiuto) -> Self {
        Self {
            motivo,
            dettaglio: None,
        }
    }

    pub fn con(motivo: MotivoRifiuto, dettaglio: impl Into<String>) -> Self {
        Self {
            motivo,
            dettaglio: Some(dettaglio.into()),
        }
    }

    /// The text stored in `flusso.motivo_rifiuto` and shown to the caller.
    pub fn testo(&self) -> String {
        match &self.dettaglio {
            Some(d) => format!("{}: {d}", self.motivo.descrizione()),
            None => self.motivo.descrizione().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_codes_are_unique_and_listed_in_the_integrators_guide() {
        let readme = include_str!("../../docs/integrators.md");
        let mut seen = std::collections::HashSet::new();
        for m in MotivoRifiuto::ALL {
            assert!(seen.insert(m.codice()));
            assert!(
                readme.contains(m.codice()),
                "{} not in docs/integrators.md",
                m.codice()
            );
        }
    }
}
