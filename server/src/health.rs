//! Connector health as the API and the dashboard show it ([`DoorHealth`]), over the
//! rules of `monban_core::health`.
//!
//! The hub keeps one [`DoorActivity`] per door in memory, updated on every input
//! (events, statuses, heartbeats, dead letters, outages) and rebuilt from the store on
//! start ([`crate::store::Store::door_activity`]). The rules live in the core: the
//! heartbeat watchdog (`monban_core::health::watchdog`, which the hub runs once a second
//! in `Hub::run_watchdog` and whose module doc states the fail-closed decision), the
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
