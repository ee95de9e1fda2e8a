//! The account review campaign (アカウントの棚卸し, issue 12 point 2): an officer decides,
//! for every account of one system, whether it stays (`keep`), must be removed in the
//! system (`remove`) or belongs to a person of the inventory (`map`), and confirms the
//! whole list with a passkey. The completed review is evidence (CONTRACT §13).
//!
//! Pure rules over the rows of [`crate::accounts::review`]:
//!
//! - [`check`]: a review decides every account of the system's review exactly once;
//!   an account the review does not list is refused, `map` names a person of the
//!   inventory (and only `map` names one), and every note is bounded
//!   ([`crate::text::NOTE`]). Errors carry the API's codes ([`ReviewError::code`]).
//! - [`overdue`]: a system is due for review (要棚卸し) when its last completed review is
//!   older than `[accounts] review_every` ([`DEFAULT_REVIEW_EVERY`]: `"1year"`), or when
//!   it never had one.
//! - [`follow_up`]: what a completed review still asks of the officer — a `map` decision
//!   the inventory does not reflect yet (台帳に未反映: the inventory has one path of
//!   change, its own preview/apply), and an account marked `remove` that logged in
//!   successfully after the review was completed (削除指示後のログイン).
//!
//! A `map` decision never edits the inventory by itself.

use crate::accounts::AccountRow;
use crate::inventory::Inventory;
use crate::text::{self, Text, TextError};
use crate::{PersonId, Span, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// `[accounts] review_every` when not given: 12 months, written `"1year"` (365.25 days,
/// as `humantime` counts a year; its `"12months"` is 43 minutes longer).
pub const DEFAULT_REVIEW_EVERY: Span = Span::from_millis_const(31_557_600 * 1000);

/// At most this many marks in one review (a system's accounts; the body limit of the
/// API bounds it first).
pub const MAX_MARKS: usize = 5000;

/// What the officer decided for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The account is needed as it is.
    Keep,
    /// The account must be removed (or disabled) in the system: the officer's
    /// instruction to the system's administrator.
    Remove,
    /// The account belongs to a person of the inventory, who is to be recorded for it
    /// through the inventory page.
    Map,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Keep, Decision::Remove, Decision::Map];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Remove => "remove",
            Decision::Map => "map",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Decision::Keep => "継続",
            Decision::Remove => "削除",
            Decision::Map => "対応者を登録",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Decision::Keep => "Keep",
            Decision::Remove => "Remove",
            Decision::Map => "Map to a person",
        }
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown decision {s:?}; expected keep, remove or map"))
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One mark as sent (`{account, decision, person?, note?}`), not yet checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkBody {
    pub account: String,
    pub decision: String,
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One checked mark, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub account: String,
    pub decision: Decision,
    /// The person of a `map` decision.
    pub person: Option<PersonId>,
    /// The officer's note (may be empty), bounded by [`text::NOTE`].
    pub note: String,
}

/// Why a review was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the review has no marks")]
    Empty,
    #[error("at most {MAX_MARKS} marks in one review")]
    TooMany,
    #[error("account {0:?}: {1}")]
    InvalidDecision(String, String),
    #[error("account {0:?} is not an account of this system's review")]
    UnknownAccount(String),
    #[error("account {0:?} is decided more than once")]
    Duplicate(String),
    #[error("undecided accounts: {}", .0.join(", "))]
    Undecided(Vec<String>),
    #[error("account {0:?}: map names the person the account belongs to")]
    PersonRequired(String),
    #[error("account {0:?}: only a map decision names a person")]
    PersonNotExpected(String),
    #[error("account {account:?}: no person {person:?} in the inventory")]
    UnknownPerson { account: String, person: String },
    #[error("account {0:?}: {1}")]
    InvalidNote(String, TextError),
}

impl ReviewError {
    /// The API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReviewError::Empty | ReviewError::Undecided(_) => "undecided_accounts",
            ReviewError::TooMany => "too_many_marks",
            ReviewError::InvalidDecision(..) => "invalid_decision",
            ReviewError::UnknownAccount(_) => "unknown_account",
            ReviewError::Duplicate(_) => "duplicate_account",
            ReviewError::PersonRequired(_) => "person_required",
            ReviewError::PersonNotExpected(_) => "person_not_expected",
            ReviewError::UnknownPerson { .. } => "unknown_person",
            ReviewError::InvalidNote(..) => "invalid_note",
        }
    }
}

/// Checks `marks` against the review `rows` of one system (see the module docs); the
/// marks in account order.
pub fn check(
    rows: &[AccountRow],
    inventory: &Inventory,
    marks: &[MarkBody],
) -> Result<Vec<Mark>, ReviewError> {
    if marks.len() > MAX_MARKS {
        return Err(ReviewError::TooMany);
    }
    let listed: BTreeSet<&str> = rows.iter().map(|r| r.account.as_str()).collect();
    let mut out: BTreeMap<&str, Mark> = BTreeMap::new();
    for m in marks {
        // An account of the review is the exact text the rows hold.
        let Some(account) = listed.get(m.account.as_str()) else {
            return Err(ReviewError::UnknownAccount(text::prefix(&m.account)));
        };
        let decision: Decision = m
            .decision
            .parse()
            .map_err(|e| ReviewError::InvalidDecision(m.account.clone(), e))?;
        let person = match (decision, m.person.as_deref().filter(|p| !p.is_empty())) {
            (Decision::Map, None) => return Err(ReviewError::PersonRequired(m.account.clone())),
            (Decision::Map, Some(p)) => {
                let unknown = || ReviewError::UnknownPerson {
                    account: m.account.clone(),
                    person: text::prefix(p),
                };
                let id = PersonId::parse(p).map_err(|_| unknown())?;
                inventory.person(&id).ok_or_else(unknown)?;
                Some(id)
            }
            (_, Some(_)) => return Err(ReviewError::PersonNotExpected(m.account.clone())),
            (_, None) => None,
        };
        let note = Text::parse(m.note.as_deref().unwrap_or(""), text::NOTE)
            .map_err(|e| ReviewError::InvalidNote(m.account.clone(), e))?
            .into_string();
        if out.contains_key(account) {
            return Err(ReviewError::Duplicate(m.account.clone()));
        }
        out.insert(
            account,
            Mark {
                account: account.to_string(),
                decision,
                person,
                note,
            },
        );
    }
    let undecided: Vec<String> = listed
        .iter()
        .filter(|a| !out.contains_key(*a))
        .map(|a| a.to_string())
        .collect();
    if !undecided.is_empty() {
        return Err(ReviewError::Undecided(undecided));
    }
    if out.is_empty() {
        return Err(ReviewError::Empty);
    }
    Ok(out.into_values().collect())
}

/// Whether a system is due for review at `now`: its last completed review is older than
/// `every`, or it has none.
pub fn overdue(last: Option<Timestamp>, now: Timestamp, every: Span) -> bool {
    match last {
        None => true,
        Some(at) => at < now.saturating_sub(every),
    }
}

/// How many accounts each decision got, in [`Decision::ALL`] order.
pub fn counts(marks: &[Mark]) -> [usize; 3] {
    let mut out = [0; 3];
    for m in marks {
        out[m.decision as usize] += 1;
    }
    out
}

/// What a completed review still asks of the officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FollowUp {
    /// A `map` decision the inventory does not reflect yet (the account maps to nobody
    /// or to someone else).
    NotInInventory,
    /// An account marked `remove` logged in successfully after the review.
    LoginAfterRemoval,
}

impl FollowUp {
    pub const ALL: [FollowUp; 2] = [FollowUp::NotInInventory, FollowUp::LoginAfterRemoval];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::NotInInventory => "not_in_inventory",
            FollowUp::LoginAfterRemoval => "login_after_removal",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            FollowUp::NotInInventory => "台帳に未反映",
            FollowUp::LoginAfterRemoval => "削除指示後のログイン",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            FollowUp::NotInInventory => "Not in the inventory yet",
            FollowUp::LoginAfterRemoval => "Login after removal was ordered",
        }
    }
}

/// The follow-ups of the last completed review (completed at `completed_at`, with
/// `marks`) against the system's review `rows` now, in account order.
pub fn follow_up(
    marks: &[Mark],
    completed_at: Timestamp,
    rows: &[AccountRow],
) -> Vec<(String, FollowUp)> {
    let by_account: BTreeMap<&str, &AccountRow> =
        rows.iter().map(|r| (r.account.as_str(), r)).collect();
    let mut out = Vec::new();
    for m in marks {
        let row = by_account.get(m.account.as_str());
        match m.decision {
            Decision::Map => {
                if row.and_then(|r| r.person.as_ref()) != m.person.as_ref() {
                    out.push((m.account.clone(), FollowUp::NotInInventory));
                }
            }
            Decision::Remove => {
                if row
                    .and_then(|r| r.last_login)
                    .is_some_and(|t| t > completed_at)
                {
                    out.push((m.account.clone(), FollowUp::LoginAfterRemoval));
                }
            }
            Decision::Keep => {}
        }
    }
    out.sort();
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::accounts::{Finding, PersonStatus};
    use crate::inventory::Person;
    use crate::SystemId;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn row(account: &str, person: Option<&str>, last: Option<&str>) -> AccountRow {
        AccountRow {
            account: account.into(),
            person: person.map(|p| PersonId::parse(p).unwrap()),
            person_status: person.map(|_| PersonStatus::Active),
            last_login: last.map(t),
            logins_90d: 0,
            findings: if person.is_none() {
                vec![Finding::Unmapped]
            } else {
                vec![]
            },
        }
    }

    fn inventory() -> Inventory {
        let mut accounts = BTreeMap::new();
        accounts.insert(SystemId::parse("ehr").unwrap(), "nurse01".to_string());
        let p1 = Person::new(PersonId::parse("p1").unwrap(), "p1", vec![], accounts);
        let p2 = Person::new(
            PersonId::parse("p2").unwrap(),
            "p2",
            vec![],
            BTreeMap::new(),
        );
        let system = crate::inventory::System {
            id: SystemId::parse("ehr").unwrap(),
            name: "電子カルテ".into(),
            category: crate::inventory::SystemCategory::Ehr,
            native_mfa: false,
            renewal: None,
            plan: None,
            by: None,
        };
        Inventory::with_vendors(
            None,
            vec![],
            vec![],
            vec![],
            vec![system],
            vec![],
            vec![p1, p2],
        )
        .unwrap()
    }

    fn mark(account: &str, decision: &str, person: Option<&str>) -> MarkBody {
        MarkBody {
            account: account.into(),
            decision: decision.into(),
            person: person.map(String::from),
            note: None,
        }
    }

    fn rows() -> Vec<AccountRow> {
        vec![
            row("nurse01", Some("p1"), None),
            row("shared", None, Some("2026-12-01T00:00:00Z")),
        ]
    }

    #[test]
    fn a_complete_review_is_accepted_in_account_order() {
        let marks = check(
            &rows(),
            &inventory(),
            &[
                mark("shared", "map", Some("p2")),
                MarkBody {
                    note: Some("  在職確認済み ".into()),
                    ..mark("nurse01", "keep", None)
                },
            ],
        )
        .unwrap();
        assert_eq!(marks.len(), 2);
        assert_eq!(marks[0].account, "nurse01");
        assert_eq!(marks[0].note, "在職確認済み");
        assert_eq!(marks[1].person, Some(PersonId::parse("p2").unwrap()));
        assert_eq!(counts(&marks), [1, 0, 1]);
    }

    #[test]
    fn refusals_have_their_codes() {
        let inv = inventory();
        let long = "x".repeat(2001);
        let cases: Vec<(Vec<MarkBody>, &str)> = vec![
            (vec![], "undecided_accounts"),
            (vec![mark("nurse01", "keep", None)], "undecided_accounts"),
            (
                vec![
                    mark("nurse01", "keep", None),
                    mark("shared", "keep", None),
                    mark("ghost", "keep", None),
                ],
                "unknown_account",
            ),
            (
                vec![
                    mark("nurse01", "keep", None),
                    mark("nurse01", "remove", None),
                ],
                "duplicate_account",
            ),
            (
                vec![mark("nurse01", "keep", None), mark("shared", "drop", None)],
                "invalid_decision",
            ),
            (
                vec![mark("nurse01", "keep", None), mark("shared", "map", None)],
                "person_required",
            ),
            (
                vec![
                    mark("nurse01", "keep", None),
                    mark("shared", "map", Some("p9")),
                ],
                "unknown_person",
            ),
            (
                vec![
                    mark("nurse01", "keep", None),
                    mark("shared", "map", Some("not an id!")),
                ],
                "unknown_person",
            ),
            (
                vec![
                    mark("nurse01", "keep", Some("p1")),
                    mark("shared", "remove", None),
                ],
                "person_not_expected",
            ),
            (
                vec![
                    MarkBody {
                        note: Some(long),
                        ..mark("nurse01", "keep", None)
                    },
                    mark("shared", "remove", None),
                ],
                "invalid_note",
            ),
            (
                vec![
                    MarkBody {
                        note: Some("a\nb".into()),
                        ..mark("nurse01", "keep", None)
                    },
                    mark("shared", "remove", None),
                ],
                "invalid_note",
            ),
        ];
        for (marks, code) in cases {
            let e = check(&rows(), &inv, &marks).unwrap_err();
            assert_eq!(e.code(), code, "{marks:?}: {e}");
        }
        // A system without accounts has nothing to review.
        assert_eq!(
            check(&[], &inv, &[]).unwrap_err().code(),
            "undecided_accounts"
        );
        let e = check(&rows(), &inv, &[mark("shared", "keep", None)]).unwrap_err();
        assert_eq!(e, ReviewError::Undecided(vec!["nurse01".into()]));
    }

    #[test]
    fn overdue_table() {
        let now = t("2026-12-06T00:00:00Z");
        let every = Span::from_secs(30 * 24 * 3600);
        let cases = [
            (None, true),
            (Some("2026-12-05T00:00:00Z"), false),
            (Some("2026-11-06T00:00:00Z"), false),
            (Some("2026-11-05T23:59:59Z"), true),
            (Some("2025-01-01T00:00:00Z"), true),
        ];
        for (last, want) in cases {
            assert_eq!(overdue(last.map(t), now, every), want, "{last:?}");
        }
        // 12 months by default, as "1year" reads (and shows).
        assert_eq!("1year".parse::<Span>().unwrap(), DEFAULT_REVIEW_EVERY);
        assert_eq!(DEFAULT_REVIEW_EVERY.to_string(), "1year");
    }

    #[test]
    fn follow_ups() {
        let done = t("2026-12-01T00:00:00Z");
        let m = |account: &str, decision: Decision, person: Option<&str>| Mark {
            account: account.into(),
            decision,
            person: person.map(|p| PersonId::parse(p).unwrap()),
            note: String::new(),
        };
        let marks = vec![
            m("a-mapped", Decision::Map, Some("p1")),
            m("b-unmapped", Decision::Map, Some("p2")),
            m("c-removed-used", Decision::Remove, None),
            m("d-removed-quiet", Decision::Remove, None),
            m("e-kept", Decision::Keep, None),
            m("f-gone", Decision::Map, Some("p2")),
        ];
        let rows = vec![
            row("a-mapped", Some("p1"), None),
            row("b-unmapped", None, Some("2026-12-02T00:00:00Z")),
            row("c-removed-used", Some("p1"), Some("2026-12-01T00:00:01Z")),
            row("d-removed-quiet", Some("p1"), Some("2026-12-01T00:00:00Z")),
            row("e-kept", None, Some("2026-12-03T00:00:00Z")),
        ];
        assert_eq!(
            follow_up(&marks, done, &rows),
            vec![
                ("b-unmapped".to_string(), FollowUp::NotInInventory),
                ("c-removed-used".to_string(), FollowUp::LoginAfterRemoval),
                ("f-gone".to_string(), FollowUp::NotInInventory),
            ]
        );
    }

    #[test]
    fn decisions_round_trip() {
        for d in Decision::ALL {
            assert_eq!(d.as_str().parse::<Decision>().unwrap(), d);
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        assert!("delete".parse::<Decision>().is_err());
    }
}
