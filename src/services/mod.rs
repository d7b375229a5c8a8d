//! One folder per service family: handlers, their rules, and `repo.rs` with their queries.

pub mod esportazione;
pub mod scrittura;
pub mod tscns;
pub mod vaccini;
