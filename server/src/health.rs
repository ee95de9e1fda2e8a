//! Connector health as data: for every door, what the hub last heard from its
//! controller, how often it lost events, and whether it is offline now.
//!
//! The hub keeps one [`DoorActivity`] per door in memory, updated on every input
//! (events, statuses, heartbeats, dead letters, outages) and rebuilt from the store on
//! start ([`crate::store::Store::door_activity`]). [`DoorActivity::overdue`] is the
//! heartbeat watchdog's rule; the hub runs it once a second (`Hub::run_watchdog`).
//!
//! # The heartbeat timeout (fail closed)
//!
//! A door may have `heartbeat_timeout` in `[[doors]]`. Its controller is *heard* when a
//! fact of it arrives: an event (at the event's own time), an `online` status, a
//! heartbeat message or, for Modbus, a successful poll. An `offline` status is not a
//! sign of life (it is usually the broker speaking the controller's last will), and a
//! redelivered old message proves nothing about now: what counts is the fact's time,
//! never later than the hub's clock.
//!
//! When nothing was heard for longer than the timeout, the watchdog records the door
//! `offline` **from the last time it was heard** (source `watchdog`): a controller that
//! died may have missed entries since then, so no login in that span gets combined
//! credit. The first sign of life afterwards records `online` at its time. A door with
//! a timeout that was never heard is offline from the hub's start once the timeout has
//! passed. After a restart the countdown starts again at the start for doors whose
//! last sign of life is older (the controller gets one timeout to be heard), but the
//! offline period, if it comes, still starts at the stored last sign of life.

use monban_core::{DoorStatus, Span, Timestamp};
use serde::Serialize;

/// How often a door's heartbeat is written to the store at most (memory always has
/// the latest; a restart loses at most this much of it).
pub const HEARTBEAT_PERSIST_EVERY: Span = Span::from_millis_const(10_000);

/// What the hub knows about one door's controller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoorActivity {
    /// Arrival time of the newest stored event.
    pub last_event_at: Option<Timestamp>,
    /// The newest event's own time (`ts`).
    pub last_event_ts: Option<Timestamp>,
    /// The newest heartbeat (message or successful poll).
    pub last_heartbeat_at: Option<Timestamp>,
    /// The newest sign of life: event time, `online` status or heartbeat, never later
    /// than the clock when it arrived.
    pub last_heard: Option<Timestamp>,
    /// The latest status change (by its time): when, what, and its source (`mqtt`,
    /// `modbus`, `http`, `watchdog`).
    pub last_status: Option<(Timestamp, DoorStatus, String)>,
    /// Dead letters that named this door.
    pub dead_letters: u64,
    /// Outages recorded for this door (Modbus overruns, MQTT blind periods).
    pub outages: u64,
    /// Modbus ring overruns among them.
    pub overruns: u64,
    pub last_overrun_at: Option<Timestamp>,
    /// Set while the watchdog holds the door offline: the start of that period.
    pub silent_since: Option<Timestamp>,
    /// When the heartbeat was last written to the store.
    pub heartbeat_persisted_at: Option<Timestamp>,
}

impl DoorActivity {
    /// Notes a sign of life at `t` (clamped to `now`).
    pub fn heard(&mut self, t: Timestamp, now: Timestamp) {
        let t = t.min(now);
        if self.last_heard.is_none_or(|h| t > h) {
            self.last_heard = Some(t);
        }
    }

    /// The watchdog's rule. `Some(from)` when the door must now be recorded offline from
    /// `from`: it has a `timeout`, is not already held offline, and nothing was heard
    /// for `timeout` — counted from the later of its last sign of life and `started`.
    pub fn overdue(&self, timeout: Span, started: Timestamp, now: Timestamp) -> Option<Timestamp> {
        if self.silent_since.is_some() {
            return None;
        }
        let heard = self.last_heard.unwrap_or(started);
        let deadline = heard.max(started).saturating_add(timeout);
        (now >= deadline).then_some(heard)
    }

    /// Whether a sign of life at `t` ends the watchdog's offline period.
    pub fn revives(&self, t: Timestamp) -> bool {
        self.silent_since.is_some_and(|s| t > s)
    }
}

/// One door's health, as the API and the dashboard show it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct DoorHealth {
    pub door: String,
    pub name: String,
    pub room: String,
    /// The connector that feeds it: `mqtt` or `modbus`.
    pub source: &'static str,
    /// `online` or `offline` now (an outage in progress counts as offline).
    pub state: &'static str,
    /// Since when, if a status was ever recorded.
    pub since: Option<String>,
    /// Why it is offline: `status` (the controller or its last will said so),
    /// `heartbeat_timeout` (the watchdog), `outage`, or `connector` (the Modbus
    /// connector lost the device). Absent when online.
    pub offline_reason: Option<&'static str>,
    pub last_event_at: Option<String>,
    pub last_event_ts: Option<String>,
    pub last_heartbeat_at: Option<String>,
    pub last_heard_at: Option<String>,
    /// The configured heartbeat timeout, e.g. `3m`.
    pub heartbeat_timeout: Option<String>,
    pub overruns: u64,
    pub last_overrun_at: Option<String>,
    pub outages: u64,
    pub dead_letters: u64,
    /// The connector's own state (`connected`, `connecting`, `disconnected`).
    pub connector: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + secs * 1000)
    }

    #[test]
    fn a_door_heard_recently_is_not_overdue() {
        let mut a = DoorActivity::default();
        a.heard(t(100), t(100));
        assert_eq!(a.overdue(Span::from_secs(60), t(0), t(159)), None);
        assert_eq!(a.overdue(Span::from_secs(60), t(0), t(160)), Some(t(100)));
    }

    #[test]
    fn offline_runs_from_the_last_sign_of_life() {
        let mut a = DoorActivity::default();
        a.heard(t(10), t(10));
        a.heard(t(5), t(12)); // an older fact does not move it back
        assert_eq!(a.last_heard, Some(t(10)));
        assert_eq!(a.overdue(Span::from_secs(30), t(0), t(45)), Some(t(10)));
    }

    #[test]
    fn a_future_time_is_clamped_to_the_clock() {
        let mut a = DoorActivity::default();
        a.heard(t(1000), t(50));
        assert_eq!(a.last_heard, Some(t(50)));
    }

    #[test]
    fn after_a_restart_the_countdown_starts_at_the_start_but_offline_at_the_last_sign() {
        let mut a = DoorActivity::default();
        a.heard(t(0), t(0));
        let started = t(3600);
        assert_eq!(a.overdue(Span::from_secs(60), started, t(3650)), None);
        assert_eq!(a.overdue(Span::from_secs(60), started, t(3660)), Some(t(0)));
    }

    #[test]
    fn never_heard_is_offline_from_the_start() {
        let a = DoorActivity::default();
        assert_eq!(a.overdue(Span::from_secs(60), t(0), t(59)), None);
        assert_eq!(a.overdue(Span::from_secs(60), t(0), t(60)), Some(t(0)));
    }

    #[test]
    fn a_held_door_is_not_overdue_twice_and_revives_on_a_later_sign() {
        let a = DoorActivity {
            silent_since: Some(t(10)),
            ..Default::default()
        };
        assert_eq!(a.overdue(Span::from_secs(1), t(0), t(1000)), None);
        assert!(!a.revives(t(9)));
        assert!(!a.revives(t(10)));
        assert!(a.revives(t(11)));
    }
}
