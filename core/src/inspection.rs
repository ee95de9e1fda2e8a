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
}
