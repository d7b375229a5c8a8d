//! Bulk booking files of the AVN (decree 31 May 2021, annex A, 4.1, the "flusso massivo"):
//! upload and outcome over HTTP, CMS signature, streaming parse, staged set-based import, worker.

pub mod cli;
pub mod esito;
pub mod firma;
pub mod http;
pub mod import;
pub mod parse;
pub mod repo;
pub mod ricevi;
pub mod worker;

/// Namespace of the file, of the receipt and of the outcome document (`xsd/flussi/`).
pub const NS: &str = "urn:tsgate:vaccini:flussoPrenotazioni";
/// Operation names, as in entitlements (`chiamante.operazioni`) and the access log.
pub const INVIO: &str = "InvioFlussoPrenotazioni";
pub const ESITO: &str = "EsitoFlussoPrenotazioni";

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

/// Why a whole file is refused, each with a stable code (listed in README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotivoRifiuto {
    NonCms,
    FirmaNonSupportata,
    CertificatoNonDellaCa,
    FirmatarioNonAssociato,
    ContenutoAlterato,
    FirmaNonValida,
    XmlNonValido,
    RadiceNonValida,
}

impl MotivoRifiuto {
    pub const ALL: [MotivoRifiuto; 8] = [
        Self::NonCms,
        Self::FirmaNonSupportata,
        Self::CertificatoNonDellaCa,
        Self::FirmatarioNonAssociato,
        Self::ContenutoAlterato,
        Self::FirmaNonValida,
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
                "Contenuto alterato: l'impronta del flusso non corrisponde a quella firmata"
            }
            Self::FirmaNonValida => "Firma non valida",
            Self::XmlNonValido => "Flusso XML non ben formato o con costrutti non ammessi",
            Self::RadiceNonValida => "Elemento radice del flusso diverso da flussoPrenotazioni",
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
    fn refusal_codes_are_unique_and_listed_in_the_readme() {
        let readme = include_str!("../../../../README.md");
        let mut seen = std::collections::HashSet::new();
        for m in MotivoRifiuto::ALL {
            assert!(seen.insert(m.codice()));
            assert!(readme.contains(m.codice()), "{} not in README", m.codice());
        }
        for e in [
            crate::services::vaccini::avn::Errore::ElementoNonPrevisto,
            crate::services::vaccini::avn::Errore::ElementoRipetuto,
        ] {
            assert!(readme.contains(e.codice()), "{} not in README", e.codice());
        }
    }
}
