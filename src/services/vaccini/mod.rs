//! Services of the decree of 31 May 2021 for the vaccination campaign: the look-ups for regions
//! and the Piattaforma Nazionale, the bookings and administrations sent by the AVN, and the
//! multiple-booking notices to the regions.

pub mod avn;
pub mod flusso;
pub mod notifiche;
pub mod prenotazione;
pub mod repo;
pub mod somministrazione;
pub mod trasmissione;
pub mod verifica_assistito;
pub mod verifica_somministrazioni;

use crate::audit::LogFields;
use crate::domain::{CodiceFiscale, DomainError};

/// The log fields of a look-up the schema refused: sections 3.5 and 6.5 keep the codice
/// fiscale on every row, so it is kept whenever it can be read and has the right shape.
pub fn log_richiesta_rifiutata(body: &str, esito_solo_se_negativo: bool) -> LogFields {
    let codice_fiscale = crate::soap::typed::field_text(body, "codiceFiscale").filter(|cf| {
        matches!(
            CodiceFiscale::parse(cf),
            Ok(_) | Err(DomainError::CodiceFiscaleControllo)
        )
    });
    LogFields {
        codice_fiscale,
        esito_solo_se_negativo,
        ..LogFields::default()
    }
}

pub use prenotazione::TRASMISSIONE_PRENOTAZIONE;
pub use somministrazione::TRASMISSIONE_SOMMINISTRAZIONE;
pub use verifica_assistito::VERIFICA_ASSISTITO_FUORI_REGIONE;
pub use verifica_somministrazioni::VERIFICA_SOMMINISTRAZIONI;

/// The operations of this family, for the catalogue (`crate::catalogo`).
pub static OPERAZIONI: [&crate::soap::Operation; 4] = [
    &VERIFICA_ASSISTITO_FUORI_REGIONE,
    &TRASMISSIONE_PRENOTAZIONE,
    &TRASMISSIONE_SOMMINISTRAZIONE,
    &VERIFICA_SOMMINISTRAZIONI,
];
