//! The data the dashboard shows, as plain serialisable values. The server fills them
//! from the store (through [`crate::DashboardSource`]); the components only render.

use serde::{Deserialize, Serialize};

/// The compliance overview (概要) and the latest logins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Overview {
    /// Site name, e.g. 東京総合病院.
    pub site_name: String,
    /// When the server built this overview (RFC 3339, UTC).
    pub generated_at: String,
    /// The period of the compliance figures (RFC 3339, UTC), by login time.
    pub from: String,
    pub to: String,
    pub systems: Vec<SystemRow>,
    /// Newest first.
    pub latest_logins: Vec<LoginRow>,
    /// Every door with its connector health, in inventory order.
    #[serde(default)]
    pub doors: Vec<DoorRow>,
    /// FY2027 (令和9年度) readiness: trends, renewal wave, open problems now.
    #[serde(default)]
    pub readiness: Readiness,
}

/// The overview's readiness for FY2027 (令和9年度).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Readiness {
    /// One 30-day trend per system, in inventory order.
    pub trends: Vec<SystemTrend>,
    /// Systems whose renewal (更改) falls in FY2025–FY2027, by renewal month.
    pub renewals: Vec<RenewalRow>,
    /// Integrity alarms whose room's `alarm_hold` has not run out, now.
    pub open_alarms: u64,
    /// Doors offline now.
    pub offline_doors: u64,
    /// Dead letters stored (total).
    pub dead_letters: u64,
}

/// One system's coverage per day (Asia/Tokyo), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SystemTrend {
    pub system: String,
    pub days: Vec<TrendDay>,
}

/// One day (JST) of a system's logins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrendDay {
    /// `YYYY-MM-DD` in Asia/Tokyo.
    pub day: String,
    pub successful: u64,
    pub direct_2fa: u64,
    pub combined_measures: u64,
    pub not_met: u64,
}

impl TrendDay {
    /// The day's row from its tally (`LoginCounts`, the one tally of verdicts; failed
    /// logins are not part of a trend).
    pub fn new(day: String, counts: &monban_core::LoginCounts) -> TrendDay {
        TrendDay {
            day,
            successful: counts.successful,
            direct_2fa: counts.direct_2fa,
            combined_measures: counts.combined_measures,
            not_met: counts.not_met,
        }
    }
}

/// A system in the renewal wave (更改).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RenewalRow {
    pub id: String,
    pub name: String,
    /// `YYYY-MM`.
    pub renewal: String,
    /// Japanese fiscal year (April–March) of the renewal, e.g. 2027 for 2027-04…2028-03.
    pub fiscal_year: i32,
    /// The system's compliance status over the overview's period.
    pub status: String,
}

/// One door's connector health (扉と接続).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DoorRow {
    pub id: String,
    pub name: String,
    /// The room's name.
    pub room: String,
    /// `mqtt` or `modbus`.
    pub source: String,
    /// `online` or `offline`.
    pub state: String,
    /// `status`, `heartbeat_timeout`, `outage` or `connector` when offline.
    pub offline_reason: Option<String>,
    /// RFC 3339, UTC.
    pub last_heard_at: Option<String>,
    pub last_event_at: Option<String>,
    pub last_heartbeat_at: Option<String>,
    /// e.g. `3m`.
    pub heartbeat_timeout: Option<String>,
    pub overruns: u64,
    pub dead_letters: u64,
    /// The connector's state: `connected`, `connecting` or `disconnected`.
    pub connector: Option<String>,
}

/// One system's compliance (CONTRACT §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SystemRow {
    pub id: String,
    pub name: String,
    /// `ehr`, `departmental`, `vpn`, `vdi`, `cloud`, `maintenance` or `other`.
    pub category: String,
    pub native_mfa: bool,
    /// `no_data`, `direct`, `combined` or `gap`.
    pub status: String,
    /// 0.0 ..= 1.0
    pub coverage: f64,
    pub successful: u64,
    pub direct_2fa: u64,
    pub combined_measures: u64,
    pub not_met: u64,
    pub failed: u64,
}

impl From<monban_core::SystemCompliance> for SystemRow {
    /// A system's row of the compliance rollup as the dashboard shows it.
    fn from(c: monban_core::SystemCompliance) -> SystemRow {
        SystemRow {
            id: c.id,
            name: c.name,
            category: c.category,
            native_mfa: c.native_mfa,
            status: c.status.as_str().to_string(),
            coverage: c.coverage,
            successful: c.logins.successful,
            direct_2fa: c.logins.direct_2fa,
            combined_measures: c.logins.combined_measures,
            not_met: c.logins.not_met,
            failed: c.logins.failed,
        }
    }
}

/// One login with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LoginRow {
    pub event_id: String,
    /// Login time (RFC 3339, UTC).
    pub ts: String,
    pub system: String,
    pub system_name: String,
    pub account: String,
    /// The person's name when the account is mapped.
    pub person: Option<String>,
    pub terminal: String,
    /// The terminal's room name when the terminal is known.
    pub room: Option<String>,
    pub factors: Vec<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// `direct_2fa`, `combined_measures`, `not_met` or `not_applicable`.
    pub verdict: String,
    /// Contract reason codes, in the contract's order.
    pub reasons: Vec<String>,
    pub is_final: bool,
}
