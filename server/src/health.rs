//! Connector health as the API and the dashboard show it ([`DoorHealth`]), over the
//! rules of `monban_core::health`.
//!
//! The writer keeps one [`DoorActivity`] per door in memory, updated on every input
//! (events, statuses, heartbeats, dead letters, outages) and rebuilt from the store on
//! start (`Store::door_activity`); `Ingest::door_health` reads it. The rules live in the
//! core: the heartbeat watchdog (`monban_core::health::watchdog`, which the writer runs
//! with every batch and at least once a second, and whose module doc states the
//! fail-closed decision), the
//! blind period of a lost broker session (`monban_core::health::blind_period`), outage
//! causes by code and why a door is offline (`OfflineReason::of`).

pub use monban_core::health::DoorActivity;
use monban_core::Span;
use serde::Serialize;

/// How often a door's heartbeat is written to the store at most (memory always has
/// the latest; a restart loses at most this much of it).
pub const HEARTBEAT_PERSIST_EVERY: Span = Span::from_millis_const(10_000);

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
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::store::Store;
    use monban_core::health::{DoorActivity, OutageCause};
    use monban_core::timeline::Outage;
    use monban_core::{DoorId, Timestamp};

    /// After a restart the store counts outages and overruns as the hub counted them in
    /// memory: by the stored cause, whatever the reason says.
    #[tokio::test]
    async fn the_store_counts_overruns_by_cause() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let store = Store::open(&url).await.unwrap();
        let door = DoorId::parse("d1").unwrap();
        let t = Timestamp::from_millis;
        let outages = [
            (OutageCause::ModbusOverrun, 10, 20, "lost between polls"),
            (
                OutageCause::MqttBlind,
                30,
                40,
                "not an overrun, though it says overrun",
            ),
            (OutageCause::ModbusOverrun, 5, 15, "an older overrun"),
            (OutageCause::ModbusRestart, 50, 60, "restarted"),
        ];
        let mut memory = DoorActivity::default();
        for (cause, from, to, reason) in outages {
            let o = Outage {
                from: t(from),
                to: t(to),
            };
            store
                .insert_outage(&door, o, cause, reason, t(100))
                .await
                .unwrap();
            memory.record_outage(cause, o);
        }
        let stored = store.door_activity(t(100)).await.unwrap();
        let a = &stored["d1"];
        assert_eq!(
            (a.outages, a.overruns, a.last_overrun_at),
            (4, 2, Some(t(20)))
        );
        assert_eq!(
            (a.outages, a.overruns, a.last_overrun_at),
            (memory.outages, memory.overruns, memory.last_overrun_at)
        );
    }
}
