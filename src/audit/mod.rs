//! The access log: one row per transaction, written by a group-commit writer (a response waits
//! for its row to be durable), and its retention by monthly partitions; and the tamper-evident
//! chain of administrative changes and operator logins (`catena`).

pub mod catena;
pub mod record;
pub mod retention;
pub mod writer;

pub use record::{insert_in, insert_many, AccessRecord, LogFields};
pub use writer::{AccessLogWriter, WriteError};
