//! Value types that carry the domain rules: once parsed, a value is proof of its validity.
//! Parse, don't validate twice.

mod aic;
mod codice_fiscale;
pub mod otp;
mod regione;
pub mod tempo;
mod tessera;

pub use aic::CodiceAic;
pub use codice_fiscale::CodiceFiscale;
pub use otp::{ErroreInizioSintomi, ErroreOtp, Otp};
pub use regione::CodiceRegione;
pub use tessera::NumeroTessera;

/// Why a domain value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("codice fiscale: formato non valido")]
    CodiceFiscaleFormato,
    #[error("codice fiscale: carattere di controllo errato")]
    CodiceFiscaleControllo,
    #[error("numero tessera: sono richieste 20 cifre")]
    NumeroTessera,
    #[error("codice regione: sono richieste 3 cifre")]
    CodiceRegione,
    #[error("codice AIC: sono richieste 9 cifre, la prima 0")]
    CodiceAicFormato,
    #[error("codice AIC: cifra di controllo errata")]
    CodiceAicControllo,
}
