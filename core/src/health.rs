//! Connector health as data: for every door, what the hub last heard from its
//! controller, how often it lost events, why it is offline now — and the rules that turn
//! silence and blindness into offline periods (fail closed).
//!
//! The hub keeps one [`DoorActivity`] per door in memory, updated on every input
//! (events, statuses, heartbeats, dead letters, outages) and rebuilt from the store on
//! start. The rules here are pure: [`watchdog`] returns the status changes the hub must
//! record, [`blind_period`] the outage of a connector that came back without its
//! session, [`OfflineReason::of`] why a door is offline; the hub stores and applies them.
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
//! `offline` **from the last time it was heard** (source [`WATCHDOG`]): a controller that
//! died may have missed entries since then, so no login in that span gets combined
//! credit. The first sign of life afterwards records `online` at its time. A door with
//! a timeout that was never heard is offline from the hub's start once the timeout has
//! passed. After a restart the countdown starts again at the start for doors whose
//! last sign of life is older (the controller gets one timeout to be heard), but the
//! offline period, if it comes, still starts at the stored last sign of life.
//!
//! # Outages are classified by a code
//!
//! Every outage is recorded with an [`OutageCause`] (stored as its code next to the
//! free-text reason), so counting overruns or telling a blind period from a lost ring
//! never depends on the wording of a message.

use crate::event::{DoorStatus, StatusChange};
use crate::ids::DoorId;
use crate::inventory::Door;
use crate::time::{Span, Timestamp};
use crate::timeline::Outage;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The `source` of the status changes the heartbeat watchdog records.
pub const WATCHDOG: &str = "watchdog";

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

    /// Keeps a recorded status change (from `source`) that arrived at `now`: the latest
    /// status by time; an `online` is a sign of life and ends the watchdog's offline
    /// period; an `offline` from the [`WATCHDOG`] starts it.
    pub fn record_status(&mut self, change: &StatusChange, source: &str, now: Timestamp) {
        if self
            .last_status
            .as_ref()
            .is_none_or(|(ts, _, _)| change.ts >= *ts)
        {
            self.last_status = Some((change.ts, change.status, source.to_string()));
        }
        match change.status {
            DoorStatus::Online => {
                self.heard(change.ts, now);
                if self.revives(change.ts.min(now)) {
                    self.silent_since = None;
                }
            }
            DoorStatus::Offline if source == WATCHDOG => {
                self.silent_since = Some(change.ts);
            }
            DoorStatus::Offline => {}
        }
    }

    /// Counts a recorded outage; overruns are told apart by their cause.
    pub fn record_outage(&mut self, cause: OutageCause, outage: Outage) {
        self.outages += 1;
        if cause == OutageCause::ModbusOverrun {
            self.overruns += 1;
            self.last_overrun_at = self.last_overrun_at.max(Some(outage.to));
        }
    }
}

/// The heartbeat watchdog: the `offline` status changes to record now (source
/// [`WATCHDOG`]), one for each door with a [`Door::heartbeat_timeout`] that nothing was
/// heard from for that long (see [`DoorActivity::overdue`]). A door without an activity
/// was never heard.
pub fn watchdog(
    doors: &[Door],
    activity: &BTreeMap<DoorId, DoorActivity>,
    started: Timestamp,
    now: Timestamp,
) -> Vec<StatusChange> {
    let never_heard = DoorActivity::default();
    doors
        .iter()
        .filter_map(|d| {
            let timeout = d.heartbeat_timeout?;
            let a = activity.get(&d.id).unwrap_or(&never_heard);
            a.overdue(timeout, started, now).map(|from| StatusChange {
                door: d.id.clone(),
                ts: from,
                status: DoorStatus::Offline,
            })
        })
        .collect()
}

/// When a connector was last known to be connected (by any process of the hub).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastConnected {
    /// Never: this is the connector's first connection.
    Never,
    At(Timestamp),
    /// The mark could not be read.
    Unknown,
}

impl From<Option<Timestamp>> for LastConnected {
    fn from(v: Option<Timestamp>) -> Self {
        v.map_or(LastConnected::Never, LastConnected::At)
    }
}

/// The blind period of a connector whose first connection of this process, at `at`,
/// found no session at the broker: messages since it was last connected may be lost, so
/// its doors are offline from then to `at`. A first connection ever is not blind. When
/// the mark cannot be read the hub fails closed over `horizon` (the longest span it
/// keeps in memory).
pub fn blind_period(last: LastConnected, at: Timestamp, horizon: Span) -> Option<Outage> {
    let from = match last {
        LastConnected::Never => return None,
        LastConnected::At(from) => from,
        LastConnected::Unknown => at.saturating_sub(horizon),
    };
    (from < at).then_some(Outage { from, to: at })
}

/// Why events of a door may have been lost for a while (an outage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutageCause {
    /// The Modbus sequence advanced by more than the ring holds between two polls, or a
    /// slot did not hold the expected sequence number (CONTRACT §6).
    ModbusOverrun,
    /// The Modbus device restarted or reset its event ring while the hub was away.
    ModbusRestart,
    /// The MQTT broker lost the hub's session while the connector ran.
    MqttBlind,
    /// The MQTT broker had no session for the hub when it started again: messages since
    /// it was last connected may be lost.
    MqttBlindRestart,
    /// A cause this version does not know (an outage recorded before causes were, whose
    /// reason says nothing known).
    Other,
}

impl OutageCause {
    pub const ALL: [OutageCause; 5] = [
        OutageCause::ModbusOverrun,
        OutageCause::ModbusRestart,
        OutageCause::MqttBlind,
        OutageCause::MqttBlindRestart,
        OutageCause::Other,
    ];
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            OutageCause::ModbusOverrun => "modbus_overrun",
            OutageCause::ModbusRestart => "modbus_restart",
            OutageCause::MqttBlind => "mqtt_blind",
            OutageCause::MqttBlindRestart => "mqtt_blind_restart",
            OutageCause::Other => "other",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            OutageCause::ModbusOverrun => "Modbus イベントの取りこぼし",
            OutageCause::ModbusRestart => "Modbus 機器の再起動",
            OutageCause::MqttBlind => "MQTT セッション消失",
            OutageCause::MqttBlindRestart => "ハブ停止中の MQTT セッション消失",
            OutageCause::Other => "その他",
        }
    }
}

impl FromStr for OutageCause {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutageCause::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown outage cause {s:?}"))
    }
}

impl fmt::Display for OutageCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The connector that feeds a door: a property of the door ([`crate::Door::feed`]).
pub use crate::inventory::DoorFeed;

/// Why a door is offline now, as the API (`offline_reason`) and the dashboard say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfflineReason {
    /// The controller (or its last will) said `offline`.
    Status,
    /// The watchdog: nothing heard within the heartbeat timeout.
    HeartbeatTimeout,
    /// An outage in progress (events may be lost).
    Outage,
    /// The Modbus connector cannot reach the device.
    Connector,
}

impl OfflineReason {
    pub const ALL: [OfflineReason; 4] = [
        OfflineReason::Status,
        OfflineReason::HeartbeatTimeout,
        OfflineReason::Outage,
        OfflineReason::Connector,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OfflineReason::Status => "status",
            OfflineReason::HeartbeatTimeout => "heartbeat_timeout",
            OfflineReason::Outage => "outage",
            OfflineReason::Connector => "connector",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            OfflineReason::Status => "機器がオフラインを通知",
            OfflineReason::HeartbeatTimeout => "ハートビート途絶",
            OfflineReason::Outage => "イベント欠落の期間",
            OfflineReason::Connector => "機器に接続できない",
        }
    }

    /// Why a door whose state at `now` is `state` is offline (`None` when online): the
    /// watchdog holds it; or no `offline` status holds, so an outage does; or its Modbus
    /// connector recorded the loss of the device; or its controller said so.
    pub fn of(
        state: DoorStatus,
        activity: &DoorActivity,
        feed: DoorFeed,
        now: Timestamp,
    ) -> Option<OfflineReason> {
        if state == DoorStatus::Online {
            return None;
        }
        let status_offline = matches!(
            activity.last_status,
            Some((ts, DoorStatus::Offline, _)) if ts <= now
        );
        Some(if activity.silent_since.is_some() {
            OfflineReason::HeartbeatTimeout
        } else if !status_offline {
            OfflineReason::Outage
        } else if feed == DoorFeed::Modbus {
            OfflineReason::Connector
        } else {
            OfflineReason::Status
        })
    }
}

impl FromStr for OfflineReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OfflineReason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown offline reason {s:?}"))
    }
}

impl fmt::Display for OfflineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + secs * 1000)
    }

    fn door(id: &str) -> DoorId {
        DoorId::parse(id).unwrap()
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

    #[test]
    fn the_watchdog_names_the_silent_doors_only() {
        let watched = |id: &str| Door {
            heartbeat_timeout: Some(Span::from_secs(60)),
            ..Door::new(door(id), crate::RoomId::parse("r").unwrap(), "")
        };
        let doors = vec![
            watched("held"),
            watched("heard"),
            watched("never"),
            Door::new(door("no-timeout"), crate::RoomId::parse("r").unwrap(), ""),
            watched("silent"),
        ];
        let mut activity = BTreeMap::new();
        let mut heard = DoorActivity::default();
        heard.heard(t(90), t(90));
        activity.insert(door("heard"), heard);
        let mut silent = DoorActivity::default();
        silent.heard(t(20), t(20));
        activity.insert(door("silent"), silent);
        activity.insert(
            door("held"),
            DoorActivity {
                silent_since: Some(t(5)),
                ..Default::default()
            },
        );
        // A door without a timeout is never the watchdog's.
        activity.insert(door("no-timeout"), DoorActivity::default());
        let changes = watchdog(&doors, &activity, t(0), t(100));
        let got: Vec<(String, Timestamp, DoorStatus)> = changes
            .iter()
            .map(|c| (c.door.to_string(), c.ts, c.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("never".to_string(), t(0), DoorStatus::Offline),
                ("silent".to_string(), t(20), DoorStatus::Offline),
            ]
        );
    }

    #[test]
    fn recorded_statuses_hold_and_release_the_watchdog() {
        let d = door("d");
        let change = |secs, status| StatusChange {
            door: d.clone(),
            ts: t(secs),
            status,
        };
        let mut a = DoorActivity::default();
        a.record_status(&change(10, DoorStatus::Offline), WATCHDOG, t(70));
        assert_eq!(a.silent_since, Some(t(10)));
        assert_eq!(a.last_heard, None);
        // An offline from the controller is no sign of life and holds nothing.
        a.record_status(&change(20, DoorStatus::Offline), "mqtt", t(71));
        assert_eq!(a.silent_since, Some(t(10)));
        // An older online neither revives nor replaces the latest status.
        a.record_status(&change(5, DoorStatus::Online), "mqtt", t(72));
        assert_eq!(a.silent_since, Some(t(10)));
        assert_eq!(
            a.last_status,
            Some((t(20), DoorStatus::Offline, "mqtt".to_string()))
        );
        a.record_status(&change(30, DoorStatus::Online), "mqtt", t(73));
        assert_eq!(a.silent_since, None);
        assert_eq!(a.last_heard, Some(t(30)));
        assert_eq!(
            a.last_status,
            Some((t(30), DoorStatus::Online, "mqtt".to_string()))
        );
    }

    #[test]
    fn overruns_are_counted_by_cause() {
        let mut a = DoorActivity::default();
        let o = |from, to| Outage {
            from: t(from),
            to: t(to),
        };
        a.record_outage(OutageCause::ModbusOverrun, o(0, 10));
        a.record_outage(OutageCause::MqttBlind, o(20, 30));
        a.record_outage(OutageCause::ModbusOverrun, o(1, 5));
        a.record_outage(OutageCause::ModbusRestart, o(40, 50));
        assert_eq!((a.outages, a.overruns), (4, 2));
        assert_eq!(a.last_overrun_at, Some(t(10)));
    }

    #[test]
    fn blind_periods() {
        let h = Span::from_secs(3600);
        // (last connected, now, outage)
        let cases = [
            (LastConnected::Never, t(100), None),
            (LastConnected::At(t(40)), t(100), Some((t(40), t(100)))),
            (LastConnected::At(t(100)), t(100), None),
            (LastConnected::At(t(150)), t(100), None),
            (LastConnected::Unknown, t(5000), Some((t(1400), t(5000)))),
        ];
        for (last, at, want) in cases {
            assert_eq!(
                blind_period(last, at, h),
                want.map(|(from, to)| Outage { from, to }),
                "{last:?}"
            );
        }
        assert_eq!(LastConnected::from(None), LastConnected::Never);
        assert_eq!(LastConnected::from(Some(t(1))), LastConnected::At(t(1)));
    }

    #[test]
    fn offline_reasons() {
        let now = t(100);
        let with_status = |secs, status| DoorActivity {
            last_status: Some((t(secs), status, "mqtt".to_string())),
            ..Default::default()
        };
        let held = DoorActivity {
            silent_since: Some(t(50)),
            ..with_status(50, DoorStatus::Offline)
        };
        use DoorFeed::*;
        use DoorStatus::*;
        // (state now, activity, feed, reason)
        let cases = [
            (Online, with_status(90, Offline), Mqtt, None),
            (
                Offline,
                held.clone(),
                Mqtt,
                Some(OfflineReason::HeartbeatTimeout),
            ),
            (Offline, held, Modbus, Some(OfflineReason::HeartbeatTimeout)),
            (
                Offline,
                with_status(90, Online),
                Mqtt,
                Some(OfflineReason::Outage),
            ),
            (
                Offline,
                DoorActivity::default(),
                Modbus,
                Some(OfflineReason::Outage),
            ),
            // A status in the future does not hold yet: an outage must.
            (
                Offline,
                with_status(200, Offline),
                Mqtt,
                Some(OfflineReason::Outage),
            ),
            (
                Offline,
                with_status(90, Offline),
                Modbus,
                Some(OfflineReason::Connector),
            ),
            (
                Offline,
                with_status(90, Offline),
                Mqtt,
                Some(OfflineReason::Status),
            ),
        ];
        for (i, (state, a, feed, want)) in cases.into_iter().enumerate() {
            assert_eq!(OfflineReason::of(state, &a, feed, now), want, "case {i}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for c in OutageCause::ALL {
            assert_eq!(c.as_str().parse::<OutageCause>(), Ok(c));
        }
        for r in OfflineReason::ALL {
            assert_eq!(r.as_str().parse::<OfflineReason>(), Ok(r));
        }
        assert!("overrun".parse::<OutageCause>().is_err());
    }
}
