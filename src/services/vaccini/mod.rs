//! Services of the decree of 31 May 2021 for the vaccination campaign (regions, Piattaforma
//! Nazionale, AVN).

pub mod avn;
pub mod flusso;
pub mod repo;
pub mod verifica_assistito;

pub use verifica_assistito::VERIFICA_ASSISTITO_FUORI_REGIONE;
