//! Reconnect delays: exponential from [`INITIAL`] up to a cap, with jitter so that
//! many hubs (or a hub restarted in a loop) do not hammer a recovering broker in step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The first delay.
pub(crate) const INITIAL: Duration = Duration::from_millis(200);

/// Exponential backoff; pure apart from [`jitter`], which the caller passes in.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(max: Duration) -> Self {
        Backoff { max, attempt: 0 }
    }

    /// The delay before the next attempt. `jitter` in `[0, 1]` takes up to 20 % off, so
    /// a delay lies in `[0.8·d, d]` with `d = min(200 ms · 2^n, max)`: never above the cap,
    /// still spread out once the cap is reached.
    pub(crate) fn next_delay(&mut self, jitter: f64) -> Duration {
        let exp = INITIAL.saturating_mul(1u32 << self.attempt.min(20));
        self.attempt = self.attempt.saturating_add(1);
        let d = exp.min(self.max);
        d.mul_f64(1.0 - 0.2 * jitter.clamp(0.0, 1.0))
    }

    /// The connection has proven itself (a message stored, a keep-alive answered).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A number in `[0, 1)`. `RandomState` is seeded randomly per process and per instance,
/// which is plenty for jitter and spares a dependency.
pub(crate) fn jitter() -> f64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u8(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(2));
        let delays: Vec<u128> = (0..7).map(|_| b.next_delay(0.0).as_millis()).collect();
        assert_eq!(delays, vec![200, 400, 800, 1600, 2000, 2000, 2000]);
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(200));
    }

    #[test]
    fn jitter_takes_at_most_a_fifth() {
        let mut b = Backoff::new(Duration::from_secs(30));
        assert_eq!(b.next_delay(1.0), Duration::from_millis(160));
        let mut b = Backoff::new(Duration::from_secs(30));
        for _ in 0..100 {
            let d = b.next_delay(jitter());
            assert!(
                d <= Duration::from_secs(30) && d >= Duration::from_millis(160),
                "{d:?}"
            );
        }
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let xs: Vec<f64> = (0..50).map(|_| jitter()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(xs.iter().any(|x| (x - xs[0]).abs() > 1e-9));
    }

    #[test]
    fn a_tiny_cap_is_respected() {
        let mut b = Backoff::new(Duration::from_millis(50));
        assert!(b.next_delay(0.0) <= Duration::from_millis(50));
    }
}
