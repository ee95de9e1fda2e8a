//! The per-system compliance rollup of CONTRACT §8.
//!
//! The store counts verdicts per system over a period; this module turns the counts into
//! a status and a coverage, so the arithmetic lives in one tested place.

use crate::inventory::System;
use crate::verdict::VerdictKind;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    /// No successful login in the period (データなし).
    NoData,
    /// Every successful login met 2FA directly (直接二要素).
    Direct,
    /// Every successful login met 2FA directly or by combined measures, at least one by
    /// combined measures (複合対策で充足).
    Combined,
    /// At least one successful login did not meet 2FA (未達).
    Gap,
}

impl ComplianceStatus {
    pub const ALL: [ComplianceStatus; 4] = [
        ComplianceStatus::NoData,
        ComplianceStatus::Direct,
        ComplianceStatus::Combined,
        ComplianceStatus::Gap,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::NoData => "no_data",
            ComplianceStatus::Direct => "direct",
            ComplianceStatus::Combined => "combined",
            ComplianceStatus::Gap => "gap",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            ComplianceStatus::NoData => "データなし",
            ComplianceStatus::Direct => "直接二要素",
            ComplianceStatus::Combined => "複合対策で充足",
            ComplianceStatus::Gap => "未達",
        }
    }
    /// The English label (the dashboard with `?lang=en`).
    pub fn label_en(self) -> &'static str {
        match self {
            ComplianceStatus::NoData => "No data",
            ComplianceStatus::Direct => "Direct 2FA",
            ComplianceStatus::Combined => "Met by combined measures",
            ComplianceStatus::Gap => "Gap",
        }
    }
}

impl FromStr for ComplianceStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ComplianceStatus::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown compliance status {s:?}"))
    }
}

/// Login counts of one system over a period, or of one day of a trend: the one tally of
/// verdicts (failed logins are counted apart and are not `successful`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LoginCounts {
    pub successful: u64,
    pub direct_2fa: u64,
    pub combined_measures: u64,
    pub not_met: u64,
    pub failed: u64,
}

impl LoginCounts {
    /// Adds `n` logins with verdict `kind`.
    pub fn add(&mut self, kind: VerdictKind, n: u64) {
        match kind {
            VerdictKind::Direct2fa => self.direct_2fa += n,
            VerdictKind::CombinedMeasures => self.combined_measures += n,
            VerdictKind::NotMet => self.not_met += n,
            VerdictKind::NotApplicable => self.failed += n,
        }
        if kind != VerdictKind::NotApplicable {
            self.successful += n;
        }
    }

    pub fn status(&self) -> ComplianceStatus {
        if self.successful == 0 {
            ComplianceStatus::NoData
        } else if self.not_met > 0 {
            ComplianceStatus::Gap
        } else if self.combined_measures > 0 {
            ComplianceStatus::Combined
        } else {
            ComplianceStatus::Direct
        }
    }

    /// (direct_2fa + combined_measures) / successful; 0.0 when there is no successful
    /// login (the status then says `no_data`).
    pub fn coverage(&self) -> f64 {
        if self.successful == 0 {
            0.0
        } else {
            (self.direct_2fa + self.combined_measures) as f64 / self.successful as f64
        }
    }
}

/// One row of the compliance report (CONTRACT §8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemCompliance {
    pub id: String,
    pub name: String,
    pub category: String,
    pub native_mfa: bool,
    pub status: ComplianceStatus,
    pub logins: LoginCounts,
    pub coverage: f64,
}

impl SystemCompliance {
    pub fn new(system: &System, logins: LoginCounts) -> SystemCompliance {
        SystemCompliance {
            id: system.id.to_string(),
            name: system.name.clone(),
            category: system.category.as_str().to_string(),
            native_mfa: system.native_mfa,
            status: logins.status(),
            coverage: logins.coverage(),
            logins,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use VerdictKind::*;

    fn counts(list: &[(VerdictKind, u64)]) -> LoginCounts {
        let mut c = LoginCounts::default();
        for (k, n) in list {
            c.add(*k, *n);
        }
        c
    }

    #[test]
    fn contract_example() {
        let c = counts(&[(Direct2fa, 2), (CombinedMeasures, 8), (NotApplicable, 1)]);
        assert_eq!(
            c,
            LoginCounts {
                successful: 10,
                direct_2fa: 2,
                combined_measures: 8,
                not_met: 0,
                failed: 1
            }
        );
        assert_eq!(c.status(), ComplianceStatus::Combined);
        assert_eq!(c.coverage(), 1.0);
    }

    #[test]
    fn statuses() {
        assert_eq!(counts(&[]).status(), ComplianceStatus::NoData);
        assert_eq!(
            counts(&[(NotApplicable, 5)]).status(),
            ComplianceStatus::NoData
        );
        assert_eq!(counts(&[(Direct2fa, 3)]).status(), ComplianceStatus::Direct);
        assert_eq!(
            counts(&[(Direct2fa, 3), (NotMet, 1)]).status(),
            ComplianceStatus::Gap
        );
        for s in ComplianceStatus::ALL {
            assert_eq!(s.as_str().parse::<ComplianceStatus>(), Ok(s));
        }
        let gap = counts(&[(Direct2fa, 1), (CombinedMeasures, 2), (NotMet, 1)]);
        assert_eq!(gap.coverage(), 0.75);
        assert_eq!(counts(&[]).coverage(), 0.0);
    }
}
