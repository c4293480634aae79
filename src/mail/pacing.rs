//! Pacing: a fixed-interval throttle for the configured rate, and exponential backoff for retries.

use std::time::{Duration, Instant};

/// Spaces sends evenly: at most `rate` per second, measured from the first send, so a slow message
/// does not let the next ones burst (the schedule never runs ahead of the clock by more than one).
#[derive(Debug)]
pub struct Throttle {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl Throttle {
    /// `rate_per_second <= 0` (or not finite) means no limit.
    pub fn new(rate_per_second: f64) -> Self {
        let interval = (rate_per_second.is_finite() && rate_per_second > 0.0)
            .then(|| Duration::from_secs_f64(1.0 / rate_per_second));
        Self {
            interval,
            next: None,
        }
    }

    /// Sleeps until the next send is allowed, then books the slot after it.
    pub fn wait(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        let slot = match self.next {
            Some(next) if next > now => {
                std::thread::sleep(next - now);
                next
            }
            _ => now,
        };
        self.next = Some(slot + interval);
    }
}

/// How long to wait before attempt `attempts + 1` after `attempts` transient failures: `base`,
/// `2·base`, `4·base`, … capped at one day.
pub fn backoff(base_seconds: u64, attempts: u32) -> Duration {
    let factor = 1u64 << attempts.saturating_sub(1).min(16);
    Duration::from_secs(base_seconds.saturating_mul(factor).min(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        assert_eq!(backoff(60, 1), Duration::from_secs(60));
        assert_eq!(backoff(60, 2), Duration::from_secs(120));
        assert_eq!(backoff(60, 4), Duration::from_secs(480));
        assert_eq!(backoff(60, 40), Duration::from_secs(86_400));
    }

    #[test]
    fn a_throttle_spaces_sends_by_its_interval() {
        let mut throttle = Throttle::new(50.0);
        let start = Instant::now();
        for _ in 0..6 {
            throttle.wait();
        }
        // Six sends at 50/s need at least five intervals of 20 ms.
        assert!(start.elapsed() >= Duration::from_millis(100));
        let mut unlimited = Throttle::new(0.0);
        let start = Instant::now();
        for _ in 0..1000 {
            unlimited.wait();
        }
        assert!(start.elapsed() < Duration::from_millis(50));
    }
}
