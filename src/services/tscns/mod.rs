//! TS-CNS services for the regional Card Management Systems (seeds 000 and 001): activation
//! and revocation of a card's CNS function, the card series, and the certificate renewal of
//! cards whose expiry was extended. Only CMS callers, each only for its own region's cards.

pub mod errore;
pub mod flusso;
pub mod regole;
pub mod repo;
