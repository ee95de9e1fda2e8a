//! The hub's clock, injectable: the hub asks it for "now" and never reads the system
//! time itself, so tests move time with their own clock.

use monban_core::Timestamp;
use std::sync::Arc;

/// A source of the current time (cheap to clone).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    /// A clock that calls `now` for the time.
    pub fn new(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The system's clock (UTC).
    pub fn system() -> Clock {
        Clock::new(|| Timestamp::from(chrono::Utc::now()))
    }

    /// A clock that always says `t`.
    pub fn fixed(t: Timestamp) -> Clock {
        Clock::new(move || t)
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}
