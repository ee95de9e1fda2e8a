//! A system's planned route to two-factor authentication (二要素認証への移行計画) and how
//! it compares with what was measured (issue 12, the inspection report).
//!
//! `[[systems]]` may say how the system is to reach 二要素認証 (`plan`) and by which
//! month (`by = "2027-04"`, CONTRACT §4). The compliance rollup (§8) says what the logins
//! of a period actually met. [`check`] puts the two side by side, so the report can say
//! which systems are on their way, which need action and which are past their date. It
//! is pure: the current month comes in as an argument.

use crate::compliance::ComplianceStatus;
use crate::period::Month;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a system is to reach 二要素認証.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// The system's own second factor (システム自体の二要素認証).
    Native,
    /// Single sign-on through an identity provider that requires two factors (SSO).
    Sso,
    /// A second factor asked at login through monban's step-up (ステップアップ認証).
    StepUp,
    /// Combined measures: the login's room is entered with a credential and the person is
    /// present (入退室管理等との組合せ).
    CombinedMeasures,
}

impl Plan {
    pub const ALL: [Plan; 4] = [
        Plan::Native,
        Plan::Sso,
        Plan::StepUp,
        Plan::CombinedMeasures,
    ];

    /// The value written in `monban.toml` and the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Native => "native",
            Plan::Sso => "sso",
            Plan::StepUp => "step_up",
            Plan::CombinedMeasures => "combined_measures",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Plan::Native => "システム自体の二要素認証",
            Plan::Sso => "シングルサインオン（二要素）",
            Plan::StepUp => "ステップアップ認証",
            Plan::CombinedMeasures => "複合対策（入退室管理との組合せ）",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Plan::Native => "Native two-factor",
            Plan::Sso => "Single sign-on (two-factor)",
            Plan::StepUp => "Step-up authentication",
            Plan::CombinedMeasures => "Combined measures (room access)",
        }
    }

    /// Whether the route, once in place, makes logins count as direct 2FA; otherwise
    /// (combined measures) they count as met by combined measures.
    pub fn is_direct(self) -> bool {
        !matches!(self, Plan::CombinedMeasures)
    }
}

impl FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Plan, String> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown plan {s:?}; expected one of: native, sso, step_up, combined_measures"
                )
            })
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The plan against the measured status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanCheck {
    /// Every login met 2FA, directly or by combined measures (充足).
    Met,
    /// Logins did not meet 2FA, the system has a route and a month not yet passed
    /// (対応中): expected while a native, SSO or step-up route is being put in place.
    InProgress,
    /// The route is combined measures, which should already hold, yet logins did not meet
    /// them (要対応).
    ActionNeeded,
    /// Logins did not meet 2FA and the system has no route or no month (計画未登録).
    NoPlan,
    /// The month has passed and logins still did not meet 2FA (期限超過).
    Overdue,
    /// No successful login in the period: nothing to compare (未計測).
    NotMeasured,
}

impl PlanCheck {
    pub const ALL: [PlanCheck; 6] = [
        PlanCheck::Met,
        PlanCheck::InProgress,
        PlanCheck::ActionNeeded,
        PlanCheck::NoPlan,
        PlanCheck::Overdue,
        PlanCheck::NotMeasured,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanCheck::Met => "met",
            PlanCheck::InProgress => "in_progress",
            PlanCheck::ActionNeeded => "action_needed",
            PlanCheck::NoPlan => "no_plan",
            PlanCheck::Overdue => "overdue",
            PlanCheck::NotMeasured => "not_measured",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            PlanCheck::Met => "充足",
            PlanCheck::InProgress => "対応中",
            PlanCheck::ActionNeeded => "要対応",
            PlanCheck::NoPlan => "計画未登録",
            PlanCheck::Overdue => "期限超過",
            PlanCheck::NotMeasured => "未計測",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            PlanCheck::Met => "Met",
            PlanCheck::InProgress => "In progress",
            PlanCheck::ActionNeeded => "Action needed",
            PlanCheck::NoPlan => "No plan",
            PlanCheck::Overdue => "Overdue",
            PlanCheck::NotMeasured => "Not measured",
        }
    }

    /// Whether an officer must act on it (the report marks these).
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            PlanCheck::ActionNeeded | PlanCheck::NoPlan | PlanCheck::Overdue
        )
    }
}

impl FromStr for PlanCheck {
    type Err = String;
    fn from_str(s: &str) -> Result<PlanCheck, String> {
        PlanCheck::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown plan check {s:?}"))
    }
}

/// Compares a system's plan with its measured status. `by` is the last month of the
/// plan: it has passed when `current` is a later month.
///
/// - no data → [`PlanCheck::NotMeasured`] (nothing to compare; never counted as met);
/// - direct or combined → [`PlanCheck::Met`], whatever the plan;
/// - a gap past `by` → [`PlanCheck::Overdue`];
/// - a gap without a route or without a month → [`PlanCheck::NoPlan`];
/// - a gap with combined measures planned → [`PlanCheck::ActionNeeded`] (they are
///   measured now, so they should hold);
/// - a gap with native, SSO or step-up planned, `by` not passed → [`PlanCheck::InProgress`].
pub fn check(
    plan: Option<Plan>,
    by: Option<Month>,
    status: ComplianceStatus,
    current: Month,
) -> PlanCheck {
    match status {
        ComplianceStatus::NoData => PlanCheck::NotMeasured,
        ComplianceStatus::Direct | ComplianceStatus::Combined => PlanCheck::Met,
        ComplianceStatus::Gap => match (plan, by) {
            (_, Some(by)) if current > by => PlanCheck::Overdue,
            (None, _) | (_, None) => PlanCheck::NoPlan,
            (Some(Plan::CombinedMeasures), Some(_)) => PlanCheck::ActionNeeded,
            (Some(_), Some(_)) => PlanCheck::InProgress,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ComplianceStatus::*;
    use PlanCheck::*;

    fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    #[test]
    fn plans_round_trip_and_have_labels() {
        for p in Plan::ALL {
            assert_eq!(p.as_str().parse::<Plan>(), Ok(p));
            assert!(!p.label_ja().is_empty() && !p.label_en().is_empty());
        }
        for c in PlanCheck::ALL {
            assert_eq!(c.as_str().parse::<PlanCheck>(), Ok(c));
        }
        assert!("stepup".parse::<Plan>().is_err());
        assert!("".parse::<Plan>().is_err());
        assert!(Plan::Sso.is_direct() && !Plan::CombinedMeasures.is_direct());
    }

    #[test]
    fn plan_against_measured() {
        let now = m("2026-12");
        let cases: &[(Option<Plan>, Option<&str>, ComplianceStatus, PlanCheck)] = &[
            // No login: nothing measured, whatever the plan or the date.
            (None, None, NoData, NotMeasured),
            (Some(Plan::Native), Some("2025-04"), NoData, NotMeasured),
            // Met, with or without a plan, before or after the month.
            (None, None, Direct, Met),
            (Some(Plan::CombinedMeasures), Some("2027-04"), Combined, Met),
            (Some(Plan::Native), Some("2026-01"), Combined, Met),
            (Some(Plan::Sso), Some("2026-01"), Direct, Met),
            // The examples.
            (
                Some(Plan::CombinedMeasures),
                Some("2027-04"),
                Gap,
                ActionNeeded,
            ),
            (Some(Plan::Native), Some("2026-11"), Gap, Overdue),
            (Some(Plan::CombinedMeasures), Some("2026-11"), Gap, Overdue),
            // The month itself has not passed.
            (Some(Plan::StepUp), Some("2026-12"), Gap, InProgress),
            (Some(Plan::Sso), Some("2027-04"), Gap, InProgress),
            // A gap without a route or a month.
            (None, None, Gap, NoPlan),
            (Some(Plan::Native), None, Gap, NoPlan),
            (None, Some("2027-04"), Gap, NoPlan),
            // A month past without a route is still overdue.
            (None, Some("2026-03"), Gap, Overdue),
        ];
        for (plan, by, status, want) in cases {
            let got = check(*plan, by.map(m), *status, now);
            assert_eq!(got, *want, "{plan:?} by {by:?} measured {status:?}");
        }
    }

    #[test]
    fn attention() {
        let flagged: Vec<_> = PlanCheck::ALL
            .into_iter()
            .filter(|c| c.needs_attention())
            .collect();
        assert_eq!(flagged, vec![ActionNeeded, NoPlan, Overdue]);
    }
}
