//! Admission: who the caller is (certificate fingerprint), where it may call from (IP ranges),
//! what it may call (operations), and how often (rate limits).

pub mod ratelimit;
pub mod registry;
pub mod repo;

pub use ratelimit::{RateDecision, RateLimiter};
pub use registry::{Caller, CallerRegistry, Registry, TipoChiamante};
