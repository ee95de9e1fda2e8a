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
