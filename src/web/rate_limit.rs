//! A per-client-address token bucket for the survey routes (`/s/…`, `/api/v1/responses`): it
//! slows down anyone trying links or flooding submissions. The scope is one process: behind a load
//! balancer each `serve` process counts on its own (docs/architecture.md §3 accepts per-process limits), so the
//! effective limit is the setting times the number of processes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Buckets idle this long (seconds) are forgotten, so the map does not grow without bound.
const IDLE_SECONDS: f64 = 600.0;

/// Requests per minute per client address, with a burst of the same size.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per address per minute; 0 turns it off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Arc::default(),
        }
    }

    /// Takes one token for `addr`; false when the address has used up its allowance.
    pub fn allow(&self, addr: Option<IpAddr>) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let Some(addr) = addr else { return true };
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let now = Instant::now();
        let capacity = f64::from(self.per_minute);
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() < IDLE_SECONDS);
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * capacity / 60.0).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_past_its_allowance_is_refused_while_others_are_not() {
        let limiter = RateLimiter::new(3);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!((0..3).all(|_| limiter.allow(a)));
        assert!(!limiter.allow(a));
        assert!(limiter.allow(b));
        assert!(RateLimiter::new(0).allow(a), "0 turns the limit off");
    }
}
