//! Manual answers to checklist items monban cannot answer from evidence (issue 12, the
//! inspection report): はい／いいえ／該当なし with the date it was checked, a target date
//! for what is still to do, a note, and who recorded it when. The report shows them as
//! manual answers, never as measured.

use crate::period::SiteDay;
use crate::text::{Text, NOTE};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An officer's answer to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualValue {
    Yes,
    No,
    NotApplicable,
}

impl ManualValue {
    pub const ALL: [ManualValue; 3] = [
        ManualValue::Yes,
        ManualValue::No,
        ManualValue::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ManualValue::Yes => "yes",
            ManualValue::No => "no",
            ManualValue::NotApplicable => "not_applicable",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ManualValue::Yes => "はい",
            ManualValue::No => "いいえ",
            ManualValue::NotApplicable => "該当なし",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ManualValue::Yes => "Yes",
            ManualValue::No => "No",
            ManualValue::NotApplicable => "Not applicable",
        }
    }
}

impl FromStr for ManualValue {
    type Err = String;
    fn from_str(s: &str) -> Result<ManualValue, String> {
        ManualValue::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("answer {s:?} must be one of: yes, no, not_applicable"))
    }
}

impl fmt::Display for ManualValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recorded manual answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualAnswer {
    /// The checklist item's id (`server/data/checklist.toml`).
    pub item: String,
    pub value: ManualValue,
    /// The site day the answer was checked (回答日).
    pub date: SiteDay,
    /// When what is still to do is to be done (目標時期), if anything.
    pub target: Option<SiteDay>,
    pub note: String,
    /// The user who recorded it.
    pub by: String,
    pub at: Timestamp,
}

/// What a form or API sends, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManualAnswerForm {
    pub item: String,
    pub value: String,
    pub date: String,
    pub target: String,
    pub note: String,
}

impl ManualAnswerForm {
    /// Checks the fields; `known_item` says whether the item exists and takes a manual
    /// answer. Every problem is returned as `(field, message)`.
    pub fn parse(
        &self,
        known_item: impl Fn(&str) -> bool,
        by: &str,
        at: Timestamp,
    ) -> Result<ManualAnswer, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let item = self.item.trim();
        if !known_item(item) {
            errors.push((
                "item",
                format!("{item:?} is not an item that takes a manual answer"),
            ));
        }
        let value = self
            .value
            .trim()
            .parse::<ManualValue>()
            .map_err(|e| errors.push(("value", e)))
            .ok();
        let date = SiteDay::parse(self.date.trim())
            .map_err(|e| errors.push(("date", e)))
            .ok();
        let target = match self.target.trim() {
            "" => Some(None),
            t => SiteDay::parse(t)
                .map(Some)
                .map_err(|e| errors.push(("target", e)))
                .ok(),
        };
        let note = Text::parse(&self.note, NOTE)
            .map_err(|e| errors.push(("note", e.to_string())))
            .ok();
        match (value, date, target, note) {
            (Some(value), Some(date), Some(target), Some(note)) if errors.is_empty() => {
                Ok(ManualAnswer {
                    item: item.to_string(),
                    value,
                    date,
                    target,
                    note: note.into_string(),
                    by: by.to_string(),
                    at,
                })
            }
            _ => Err(errors),
        }
    }
}

/// How a checklist item answered by evidence comes out for the report's period: the
/// report shows it as measured (計測), apart from manual answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measured {
    /// The evidence supports はい.
    Yes,
    /// The evidence shows what is missing: いいえ, with a target where a plan gives one.
    No,
    /// Nothing to measure in the period (no login, no system): never shown as はい.
    NotMeasured,
}

impl Measured {
    pub fn as_str(self) -> &'static str {
        match self {
            Measured::Yes => "yes",
            Measured::No => "no",
            Measured::NotMeasured => "not_measured",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Measured::Yes => "はい",
            Measured::No => "いいえ",
            Measured::NotMeasured => "未計測",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Measured::Yes => "Yes",
            Measured::No => "No",
            Measured::NotMeasured => "Not measured",
        }
    }
}

/// 二要素認証の実装: はい when every system measured in the period met 2FA (directly or by
/// combined measures) and none is unmeasured; いいえ when one did not, with the latest
/// planned month of those that did not as the target (`None` when one of them has no
/// plan: the target is then unknown); 未計測 when no system was measured.
///
/// `systems` holds each system's plan check and its planned month (`by`).
pub fn two_factor(
    systems: &[(crate::plan::PlanCheck, Option<crate::period::Month>)],
) -> (Measured, Option<crate::period::Month>) {
    use crate::plan::PlanCheck;
    let failing: Vec<_> = systems
        .iter()
        .filter(|(c, _)| !matches!(c, PlanCheck::Met | PlanCheck::NotMeasured))
        .collect();
    if !failing.is_empty() {
        let target = failing
            .iter()
            .map(|(_, by)| *by)
            .collect::<Option<Vec<_>>>()
            .and_then(|months| months.into_iter().max());
        return (Measured::No, target);
    }
    let measured = systems.iter().filter(|(c, _)| *c == PlanCheck::Met).count();
    if measured == 0 {
        (Measured::NotMeasured, None)
    } else if measured < systems.len() {
        // Some systems met it, others recorded nothing: not enough to say はい.
        (Measured::NotMeasured, None)
    } else {
        (Measured::Yes, None)
    }
}

/// アクセスログを管理: はい when every system has logins recorded in the period (and the
/// evidence chain has a head); いいえ when a system recorded nothing (its log is not
/// reaching the hub); 未計測 when there is no system.
pub fn access_log(logins_per_system: &[u64], chained: bool) -> Measured {
    if logins_per_system.is_empty() {
        Measured::NotMeasured
    } else if chained && logins_per_system.iter().all(|n| *n > 0) {
        Measured::Yes
    } else {
        Measured::No
    }
}

/// 2② リモートメンテナンスを利用している機器の有無を事業者に確認: はい when every
/// maintained system's confirmation is on record and not older than a year
/// (`due` counts those that must be confirmed again); 未計測 without any.
pub fn remote_maintenance(maintained: usize, due: usize) -> Measured {
    match (maintained, due) {
        (0, _) => Measured::NotMeasured,
        (_, 0) => Measured::Yes,
        _ => Measured::No,
    }
}

/// 不要なアカウントを削除: はい when no account of any system is a leaver's, and every
/// system's account review (棚卸し) is within its period; いいえ otherwise; 未計測 when no
/// system has an account. Each entry: (accounts, leaver accounts, review overdue).
pub fn unneeded_accounts(systems: &[(usize, usize, bool)]) -> Measured {
    if systems.iter().all(|(n, _, _)| *n == 0) {
        Measured::NotMeasured
    } else if systems
        .iter()
        .all(|(_, leavers, overdue)| *leavers == 0 && !overdue)
    {
        Measured::Yes
    } else {
        Measured::No
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn form(value: &str, date: &str, target: &str, note: &str) -> ManualAnswerForm {
        ManualAnswerForm {
            item: "security-officer".into(),
            value: value.into(),
            date: date.into(),
            target: target.into(),
            note: note.into(),
        }
    }

    #[test]
    fn values_and_labels() {
        for v in ManualValue::ALL {
            assert_eq!(v.as_str().parse::<ManualValue>(), Ok(v));
        }
        assert_eq!(ManualValue::NotApplicable.label_ja(), "該当なし");
        assert!("maybe".parse::<ManualValue>().is_err());
    }

    #[test]
    fn forms() {
        let known = |i: &str| i == "security-officer";
        let at = Timestamp::from_millis(1);
        let a = form("no", "2026-12-01", "2027-03-31", " 規程を改定中 ")
            .parse(known, "kanri", at)
            .unwrap();
        assert_eq!(a.value, ManualValue::No);
        assert_eq!(
            a.target.map(|d| d.to_string()).as_deref(),
            Some("2027-03-31")
        );
        assert_eq!((a.note.as_str(), a.by.as_str()), ("規程を改定中", "kanri"));
        let a = form("yes", "2026-12-01", "", "")
            .parse(known, "kanri", at)
            .unwrap();
        assert_eq!(a.target, None);

        let fields = |f: ManualAnswerForm| -> Vec<&'static str> {
            f.parse(known, "kanri", at)
                .unwrap_err()
                .into_iter()
                .map(|(field, _)| field)
                .collect()
        };
        assert_eq!(fields(form("はい", "2026-12-01", "", "")), ["value"]);
        assert_eq!(fields(form("yes", "", "", "")), ["date"]);
        assert_eq!(
            fields(form("yes", "2026-12-01", "2027-02-30", "")),
            ["target"]
        );
        assert_eq!(fields(form("yes", "2026-12-01", "", "a\nb")), ["note"]);
        let mut f = form("yes", "2026-12-01", "", "");
        f.item = "two-factor".into();
        assert_eq!(fields(f), ["item"]);
    }

    #[test]
    fn measured_answers() {
        use crate::period::Month;
        use crate::plan::PlanCheck::*;
        let m = |s: &str| Month::parse(s).unwrap();
        assert_eq!(two_factor(&[]), (Measured::NotMeasured, None));
        assert_eq!(
            two_factor(&[(Met, None), (Met, Some(m("2027-04")))]),
            (Measured::Yes, None)
        );
        assert_eq!(
            two_factor(&[(Met, None), (NotMeasured, None)]),
            (Measured::NotMeasured, None)
        );
        assert_eq!(
            two_factor(&[
                (Met, None),
                (InProgress, Some(m("2027-04"))),
                (ActionNeeded, Some(m("2026-10")))
            ]),
            (Measured::No, Some(m("2027-04")))
        );
        // One failing system has no month: the target is unknown.
        assert_eq!(
            two_factor(&[(InProgress, Some(m("2027-04"))), (NoPlan, None)]),
            (Measured::No, None)
        );
        assert_eq!(access_log(&[], true), Measured::NotMeasured);
        assert_eq!(access_log(&[3, 1], true), Measured::Yes);
        assert_eq!(access_log(&[3, 0], true), Measured::No);
        assert_eq!(access_log(&[3, 1], false), Measured::No);
        assert_eq!(remote_maintenance(0, 0), Measured::NotMeasured);
        assert_eq!(remote_maintenance(2, 0), Measured::Yes);
        assert_eq!(remote_maintenance(2, 1), Measured::No);
        assert_eq!(unneeded_accounts(&[(0, 0, true)]), Measured::NotMeasured);
        assert_eq!(
            unneeded_accounts(&[(5, 0, false), (2, 0, false)]),
            Measured::Yes
        );
        assert_eq!(unneeded_accounts(&[(5, 1, false)]), Measured::No);
        assert_eq!(unneeded_accounts(&[(5, 0, true)]), Measured::No);
        for v in [Measured::Yes, Measured::No, Measured::NotMeasured] {
            assert!(!v.label_ja().is_empty() && !v.label_en().is_empty() && !v.as_str().is_empty());
        }
    }
}
