//! Why a CNS smart-card login or registration is refused, in the three classes of error of the
//! Sistema TS smart-card guide (seed 002), each with its page message and a code for the logs.

use crate::domain::tempo::data_roma;
use chrono::{DateTime, Utc};

/// The class of a refusal, as the smart-card guide groups them; it decides whom the operator
/// should turn to ([`ClasseErrore::indicazioni`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClasseErrore {
    /// The certificate itself: invalid, expired, revoked, untrusted CA, not a CNS/CIE
    /// authentication certificate, no codice fiscale in its subject, none presented.
    Certificato,
    /// The security systems do not answer (database unavailable, revocation not checkable).
    SistemiSicurezza,
    /// The user of the card: codice fiscale unknown to Sistema TS, or not enabled.
    Utenza,
}

/// Toll-free number of the Sistema TS contact centre (seed 002).
pub const NUMERO_VERDE: &str = "800-030-070";

impl ClasseErrore {
    /// What the operator should do, as the guide says, for the error page.
    pub fn indicazioni(self) -> &'static str {
        match self {
            ClasseErrore::Certificato => {
                "Per questo tipo di errore rivolgersi alla regione o all'ente emittente della CNS."
            }
            ClasseErrore::SistemiSicurezza | ClasseErrore::Utenza => {
                "Per questo tipo di errore è a disposizione il numero verde 800-030-070."
            }
        }
    }

    /// A short Italian title of the class, for the error page.
    pub fn titolo(self) -> &'static str {
        match self {
            ClasseErrore::Certificato => "Errore legato al certificato",
            ClasseErrore::SistemiSicurezza => {
                "Errore legato alla registrazione sui sistemi di sicurezza"
            }
            ClasseErrore::Utenza => "Errore legato all'utenza della CNS",
        }
    }
}

/// A refused CNS certificate. `Display` is the Italian message for the page (never internal
/// details: those are in the `dettaglio` fields, for the logs); [`codice`](Self::codice) is a
/// stable code for logs and metrics; [`classe`](Self::classe) its class in seed 002.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErroreCertificato {
    /// The browser presented no client certificate.
    #[error("Certificato non presente: inserire la CNS nel lettore e selezionarne il certificato")]
    Assente,
    /// The certificate cannot be read (malformed DER, unreadable subject or extensions).
    #[error("Certificato non valido")]
    Illeggibile { dettaglio: String },
    /// notBefore is after now.
    #[error("Certificato non valido: valido dal {}", giorno(*dal))]
    NonAncoraValido { dal: DateTime<Utc> },
    /// notAfter is before now.
    #[error("Certificato non valido: scaduto il {}", giorno(*il))]
    Scaduto { il: DateTime<Utc> },
    /// The chain does not lead to a CA of the trusted bundle (or a CA of it is expired or bad).
    #[error("CA non valida o non affidabile")]
    CaNonAffidabile { dettaglio: String },
    /// Listed in the CRL of its CA.
    #[error("Certificato non valido: revocato dall'ente emittente")]
    Revocato,
    /// No CNS or CIE policy, or not usable for client authentication.
    #[error("Il certificato non è un certificato di autenticazione CNS")]
    NonAutenticazione,
    /// The first 16 characters of the subject CN are not a valid codice fiscale.
    #[error("Certificato non valido: il titolare non ha un codice fiscale valido")]
    CodiceFiscaleNonValido { cn: String },
    /// The security systems do not answer (the database is unavailable, the revocation list
    /// cannot be read or is out of date).
    #[error("I sistemi di sicurezza non rispondono. Riprovare più tardi.")]
    SistemiSicurezza { dettaglio: String },
    /// The codice fiscale of the certificate belongs to no user of the portal.
    #[error("Il codice fiscale non è presente nella banca dati del Sistema TS")]
    CodiceFiscaleSconosciuto,
    /// The codice fiscale belongs to a user who is not enabled.
    #[error("L'utenza associata al codice fiscale non è abilitata all'accesso al Sistema TS")]
    UtenzaNonAbilitata,
}

/// A date as the page shows it: `dd/mm/yyyy`, Italian time.
fn giorno(t: DateTime<Utc>) -> String {
    data_roma(t).format("%d/%m/%Y").to_string()
}

impl ErroreCertificato {
    /// The class of seed 002 this refusal belongs to.
    pub fn classe(&self) -> ClasseErrore {
        use ErroreCertificato::*;
        match self {
            Assente
            | Illeggibile { .. }
            | NonAncoraValido { .. }
            | Scaduto { .. }
            | CaNonAffidabile { .. }
            | Revocato
            | NonAutenticazione
            | CodiceFiscaleNonValido { .. } => ClasseErrore::Certificato,
            SistemiSicurezza { .. } => ClasseErrore::SistemiSicurezza,
            CodiceFiscaleSconosciuto | UtenzaNonAbilitata => ClasseErrore::Utenza,
        }
    }

    /// A stable code for logs and metrics (never changes meaning once released).
    pub fn codice(&self) -> &'static str {
        use ErroreCertificato::*;
        match self {
            Assente => "CNS_ASSENTE",
            Illeggibile { .. } => "CNS_ILLEGGIBILE",
            NonAncoraValido { .. } => "CNS_NON_ANCORA_VALIDO",
            Scaduto { .. } => "CNS_SCADUTO",
            CaNonAffidabile { .. } => "CNS_CA_NON_AFFIDABILE",
            Revocato => "CNS_REVOCATO",
            NonAutenticazione => "CNS_NON_AUTENTICAZIONE",
            CodiceFiscaleNonValido { .. } => "CNS_CF_NON_VALIDO",
            SistemiSicurezza { .. } => "CNS_SISTEMI_SICUREZZA",
            CodiceFiscaleSconosciuto => "CNS_CF_SCONOSCIUTO",
            UtenzaNonAbilitata => "CNS_UTENZA_NON_ABILITATA",
        }
    }

    /// The Italian message for the page (the same as `Display`).
    pub fn messaggio(&self) -> String {
        self.to_string()
    }

    /// What to do, by class (see [`ClasseErrore::indicazioni`]).
    pub fn indicazioni(&self) -> &'static str {
        self.classe().indicazioni()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn expiry_date_is_shown_in_italian_time() {
        // 23:30 UTC on 11 March is already 12 March in Rome.
        let il = Utc.with_ymd_and_hms(2025, 3, 11, 23, 30, 0).unwrap();
        let e = ErroreCertificato::Scaduto { il };
        assert_eq!(
            e.to_string(),
            "Certificato non valido: scaduto il 12/03/2025"
        );
        assert_eq!(e.codice(), "CNS_SCADUTO");
        assert_eq!(e.classe(), ClasseErrore::Certificato);
        assert!(e.indicazioni().contains("regione"));
    }

    #[test]
    fn classes_and_guidance_follow_the_guide() {
        let sis = ErroreCertificato::SistemiSicurezza {
            dettaglio: "pool".into(),
        };
        assert_eq!(sis.classe(), ClasseErrore::SistemiSicurezza);
        assert_eq!(
            sis.to_string(),
            "I sistemi di sicurezza non rispondono. Riprovare più tardi."
        );
        assert!(!sis.to_string().contains("pool"));
        let cf = ErroreCertificato::CodiceFiscaleSconosciuto;
        assert_eq!(cf.classe(), ClasseErrore::Utenza);
        assert_eq!(
            cf.messaggio(),
            "Il codice fiscale non è presente nella banca dati del Sistema TS"
        );
        for e in [sis, cf, ErroreCertificato::UtenzaNonAbilitata] {
            assert!(e.indicazioni().contains(NUMERO_VERDE), "{e:?}");
        }
        let ca = ErroreCertificato::CaNonAffidabile {
            dettaglio: "unable to get local issuer certificate".into(),
        };
        assert_eq!(ca.to_string(), "CA non valida o non affidabile");
        assert!(!ca.indicazioni().contains(NUMERO_VERDE));
    }
}
