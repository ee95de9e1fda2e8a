//! Integration tests of `monban-sim`, linked into one test binary.
//!
//! # Layout
//! - `hospital` — the generated hospital: determinism, counts, the TOML of CONTRACT §4.
//! - `hub_mapping` — the simulated vendor devices through the hub's own
//!   `[[mqtt.sources]]` mapping: every message means what the simulator meant.
//! - `schedule` — the day as data: windows, ids, payloads, every deliberate case.
//! - `verdicts` — the day judged by `monban-core`'s own rules and engine: every
//!   expectation holds, ordinary traffic is self-consistent, the late event is late.

mod hospital;
mod hub_mapping;
mod maintenance;
mod schedule;
mod verdicts;

use chrono::{DateTime, Utc};

/// A few start times: JST morning, afternoon and night, in different months.
pub fn starts() -> Vec<DateTime<Utc>> {
    [
        "2026-11-20T08:00:00+09:00",
        "2026-11-20T14:37:12+09:00",
        "2027-03-01T02:15:00+09:00",
        "2026-06-30T23:59:59Z",
    ]
    .iter()
    .map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .expect("test times are valid")
    })
    .collect()
}
