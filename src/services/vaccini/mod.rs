//! Services of the decree of 31 May 2021 for the vaccination campaign: the look-ups for regions
//! and the Piattaforma Nazionale, the bookings and administrations sent by the AVN, and the
//! multiple-booking notices to the regions.

pub mod avn;
pub mod notifiche;
pub mod prenotazione;
pub mod repo;
pub mod somministrazione;
pub mod trasmissione;
pub mod verifica_assistito;
pub mod verifica_somministrazioni;

pub use prenotazione::TRASMISSIONE_PRENOTAZIONE;
pub use somministrazione::TRASMISSIONE_SOMMINISTRAZIONE;
pub use verifica_assistito::VERIFICA_ASSISTITO_FUORI_REGIONE;
pub use verifica_somministrazioni::VERIFICA_SOMMINISTRAZIONI;
