//! Per-caller, per-operation rate limits (GCRA, governor). Each caller owns one keyed limiter
//! whose keys are the operations of the static operation table, so memory stays bounded by
//! callers x operations; idle keys are also pruned by `retain_recent`.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use std::num::NonZeroU32;
use std::time::Duration;

type Keyed = governor::RateLimiter<
    &'static str,
    DefaultKeyedStateStore<&'static str>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// The limiter of one caller: `per_second` sustained, `burst` at most at once.
pub struct RateLimiter {
    inner: Keyed,
    pub per_second: u32,
    pub burst: u32,
}

/// What the limiter decided, with what the `X-RateLimit-*` headers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed { limit: u32, remaining: u32 },
    Limited { limit: u32, retry_after: Duration },
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst_nz = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(burst_nz);
        let inner =
            governor::RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>();
        Self {
            inner,
            per_second: rate.get(),
            burst: burst_nz.get(),
        }
    }

    pub fn check(&self, operation: &'static str) -> RateDecision {
        match self.inner.check_key(&operation) {
            Ok(snapshot) => RateDecision::Allowed {
                limit: self.burst,
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => RateDecision::Limited {
                limit: self.burst,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            },
        }
    }

    /// Forgets keys whose state is back to full capacity.
    pub fn prune(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    pub fn keys(&self) -> usize {
        self.inner.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_limited_with_retry_after() {
        let l = RateLimiter::new(1, 3);
        for expected in [2, 1, 0] {
            assert_eq!(
                l.check("Op"),
                RateDecision::Allowed {
                    limit: 3,
                    remaining: expected
                }
            );
        }
        match l.check("Op") {
            RateDecision::Limited { limit, retry_after } => {
                assert_eq!(limit, 3);
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1));
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        // Another operation has its own budget.
        assert!(matches!(l.check("Other"), RateDecision::Allowed { .. }));
        assert_eq!(l.keys(), 2);
    }
}
