//! One folder per service family: handlers, their rules, and `repo.rs` with their queries.

pub mod tscns;
pub mod vaccini;
