//! The account review (アカウントの棚卸し, CONTRACT §12): for one system, every account
//! that is mapped in the inventory or was seen in one of its logins, with the status of
//! the person it maps to and what an officer must act on (不要なアカウント).
//!
//! Pure rules over facts gathered elsewhere: the server aggregates each account's
//! successful logins ([`Activity`]) and passes the inventory and "now"; [`review`] returns
//! the rows in account order. The rules:
//!
//! - `person_status`: `left` once the person's `until` day has ended on the site's
//!   calendar (before anything else: a vendor's staff who left is `left`), else `vendor`
//!   for a vendor's staff, else `active`; `None` for an account mapped to nobody.
//! - findings, in this order: `leaver` (mapped to a person who has left: remove the
//!   account), `dormant` (mapped, and no successful login within `dormant_after`, or
//!   never), `unmapped` (seen in a successful login but mapped to nobody). A failed
//!   login alone lists an unmapped account without a finding: nobody got in with it.

use crate::inventory::{Inventory, Person};
use crate::{PersonId, SiteOffset, Span, SystemId, Timestamp};
use std::collections::BTreeMap;

/// `logins_90d` counts successful logins this far back from now.
pub const RECENT: Span = Span::from_millis_const(90 * 24 * 3600 * 1000);

/// The status of the person an account maps to (`person_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonStatus {
    /// The hospital's own staff, not left.
    Active,
    /// The person's `until` day has ended.
    Left,
    /// A vendor's staff (保守要員), not left.
    Vendor,
}

impl PersonStatus {
    pub const ALL: [PersonStatus; 3] = [
        PersonStatus::Active,
        PersonStatus::Left,
        PersonStatus::Vendor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Left => "left",
            PersonStatus::Vendor => "vendor",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            PersonStatus::Active => "在職",
            PersonStatus::Left => "退職",
            PersonStatus::Vendor => "保守事業者",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            PersonStatus::Active => "Active",
            PersonStatus::Left => "Left",
            PersonStatus::Vendor => "Vendor staff",
        }
    }

    /// The person's status at `now`, on the site's calendar.
    pub fn of(person: &Person, now: Timestamp, offset: SiteOffset) -> PersonStatus {
        if person.has_left(now, offset) {
            PersonStatus::Left
        } else if person.is_vendor_staff() {
            PersonStatus::Vendor
        } else {
            PersonStatus::Active
        }
    }
}

/// What an officer must act on for an account, in the contract's order (the derived
/// `Ord` is that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    /// Mapped to a person who has left: the account should be removed.
    Leaver,
    /// Mapped, and no successful login within `dormant_after` (or never).
    Dormant,
    /// Seen in a successful login, mapped to nobody.
    Unmapped,
}

impl Finding {
    pub const ALL: [Finding; 3] = [Finding::Leaver, Finding::Dormant, Finding::Unmapped];

    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Leaver => "leaver",
            Finding::Dormant => "dormant",
            Finding::Unmapped => "unmapped",
        }
    }

    /// The Japanese label (the dashboard, the docs).
    pub fn label_ja(self) -> &'static str {
        match self {
            Finding::Leaver => "退職者のアカウント",
            Finding::Dormant => "休眠アカウント",
            Finding::Unmapped => "対応者不明のアカウント",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Finding::Leaver => "Leaver's account",
            Finding::Dormant => "Dormant account",
            Finding::Unmapped => "Account mapped to nobody",
        }
    }

    /// The short Japanese label (a table cell, a filter).
    pub fn short_ja(self) -> &'static str {
        match self {
            Finding::Leaver => "退職者",
            Finding::Dormant => "休眠",
            Finding::Unmapped => "未登録",
        }
    }

    /// The short English label.
    pub fn short_en(self) -> &'static str {
        match self {
            Finding::Leaver => "Leaver",
            Finding::Dormant => "Dormant",
            Finding::Unmapped => "Unmapped",
        }
    }
}

/// One account's logins, as the store aggregates them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// The time of its last successful login.
    pub last_success: Option<Timestamp>,
    /// Successful logins since `now - RECENT`.
    pub successes_recent: u64,
}

/// One row of the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub account: String,
    pub person: Option<PersonId>,
    pub person_status: Option<PersonStatus>,
    pub last_login: Option<Timestamp>,
    pub logins_90d: u64,
    pub findings: Vec<Finding>,
}

/// The findings of one account (see the module docs), in the contract's order.
pub fn findings(
    status: Option<PersonStatus>,
    last_success: Option<Timestamp>,
    now: Timestamp,
    dormant_after: Span,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match status {
        Some(status) => {
            if status == PersonStatus::Left {
                out.push(Finding::Leaver);
            }
            let recent = last_success.is_some_and(|t| t >= now.saturating_sub(dormant_after));
            if !recent {
                out.push(Finding::Dormant);
            }
        }
        None => {
            if last_success.is_some() {
                out.push(Finding::Unmapped);
            }
        }
    }
    out
}

/// The review of `system`: every account mapped to a person of `inventory` on that system
/// and every account of `seen` (the accounts of its stored logins, with their activity),
/// in account order.
pub fn review(
    inventory: &Inventory,
    system: &SystemId,
    seen: &BTreeMap<String, Activity>,
    now: Timestamp,
    dormant_after: Span,
) -> Vec<AccountRow> {
    let offset = inventory.offset();
    // account → person; the inventory maps an account of a system to one person, and
    // the first one wins should it ever hold two.
    let mut mapped: BTreeMap<&str, &Person> = BTreeMap::new();
    for p in inventory.people() {
        if let Some(account) = p.accounts.get(system) {
            mapped.entry(account.as_str()).or_insert(p);
        }
    }
    let mut accounts: BTreeMap<&str, Activity> =
        mapped.keys().map(|a| (*a, Activity::default())).collect();
    for (a, activity) in seen {
        accounts.insert(a.as_str(), *activity);
    }
    accounts
        .into_iter()
        .map(|(account, activity)| {
            let person = mapped.get(account);
            let status = person.map(|p| PersonStatus::of(p, now, offset));
            AccountRow {
                account: account.to_string(),
                person: person.map(|p| p.id.clone()),
                person_status: status,
                last_login: activity.last_success,
                logins_90d: activity.successes_recent,
                findings: findings(status, activity.last_success, now, dormant_after),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::SiteDay;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn day(s: &str) -> SiteDay {
        s.parse().unwrap()
    }

    const DAY: i64 = 24 * 3600;

    #[test]
    fn findings_table() {
        use Finding::*;
        use PersonStatus::*;
        let now = t("2026-12-06T12:00:00Z");
        let after = Span::from_secs(90 * DAY);
        let ago = |d: i64| Some(now.saturating_sub(Span::from_secs(d * DAY)));
        // (status, last successful login, findings)
        let cases: Vec<(Option<PersonStatus>, Option<Timestamp>, Vec<Finding>)> = vec![
            (Some(Active), ago(1), vec![]),
            (Some(Active), ago(90), vec![]),
            (Some(Active), ago(91), vec![Dormant]),
            (Some(Active), None, vec![Dormant]),
            (Some(Vendor), ago(3), vec![]),
            (Some(Vendor), None, vec![Dormant]),
            (Some(Left), ago(1), vec![Leaver]),
            (Some(Left), ago(200), vec![Leaver, Dormant]),
            (Some(Left), None, vec![Leaver, Dormant]),
            (None, ago(1), vec![Unmapped]),
            (None, ago(400), vec![Unmapped]),
            // Seen only in failed logins: nobody got in.
            (None, None, vec![]),
        ];
        for (status, last, want) in cases {
            assert_eq!(
                findings(status, last, now, after),
                want,
                "{status:?} last {last:?}"
            );
        }
    }

    #[test]
    fn findings_keep_the_contracts_order() {
        let mut sorted = Finding::ALL;
        sorted.sort();
        assert_eq!(sorted, Finding::ALL);
        let names: Vec<_> = Finding::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["leaver", "dormant", "unmapped"]);
    }

    #[test]
    fn status_on_the_sites_calendar() {
        let mut p = Person::new(PersonId::parse("v1").unwrap(), "", vec![], BTreeMap::new());
        let jst = SiteOffset::JST;
        assert_eq!(
            PersonStatus::of(&p, t("2030-01-01T00:00:00Z"), jst),
            PersonStatus::Active
        );
        p.vendor = Some(crate::VendorId::parse("acme").unwrap());
        assert_eq!(
            PersonStatus::of(&p, t("2030-01-01T00:00:00Z"), jst),
            PersonStatus::Vendor
        );
        p.until = Some(day("2027-03-31"));
        // (instant, status): the day ends at midnight +09:00, i.e. 15:00 UTC.
        let cases = [
            ("2027-03-31T23:59:59+09:00", PersonStatus::Vendor),
            ("2027-03-31T14:59:59Z", PersonStatus::Vendor),
            ("2027-04-01T00:00:00+09:00", PersonStatus::Left),
            ("2027-03-31T15:00:00Z", PersonStatus::Left),
        ];
        for (at, want) in cases {
            assert_eq!(PersonStatus::of(&p, t(at), jst), want, "{at}");
        }
    }

    fn inventory() -> Inventory {
        let sys = |id: &str| SystemId::parse(id).unwrap();
        let person = |id: &str, account: &str| {
            let mut accounts = BTreeMap::new();
            accounts.insert(sys("ehr"), account.to_string());
            Person::new(PersonId::parse(id).unwrap(), id, vec![], accounts)
        };
        let active = person("p1", "nurse01");
        let mut left = person("p2", "gone02");
        left.until = Some(day("2026-03-31"));
        let mut vendor = person("v1", "acme01");
        vendor.vendor = Some(crate::VendorId::parse("acme").unwrap());
        let idle = person("p3", "idle03");
        let system = crate::inventory::System {
            id: sys("ehr"),
            name: "電子カルテ".into(),
            category: crate::inventory::SystemCategory::Ehr,
            native_mfa: false,
            renewal: None,
            plan: None,
            by: None,
        };
        let acme = crate::inventory::Vendor {
            id: crate::VendorId::parse("acme").unwrap(),
            name: "アクメ".into(),
            maintains: vec![],
        };
        Inventory::with_vendors(
            None,
            vec![],
            vec![],
            vec![],
            vec![system],
            vec![acme],
            vec![active, left, vendor, idle],
        )
        .unwrap()
    }

    #[test]
    fn review_lists_mapped_and_seen_accounts_in_order() {
        let inv = inventory();
        let now = t("2026-12-06T12:00:00Z");
        let recent = t("2026-12-05T08:00:00Z");
        let mut seen = BTreeMap::new();
        let a = |last: Option<Timestamp>, n: u64| Activity {
            last_success: last,
            successes_recent: n,
        };
        seen.insert("nurse01".to_string(), a(Some(recent), 41));
        seen.insert("gone02".to_string(), a(Some(recent), 2));
        seen.insert("acme01".to_string(), a(Some(recent), 1));
        seen.insert("shared".to_string(), a(Some(recent), 5));
        seen.insert("typo".to_string(), a(None, 0));
        let rows = review(
            &inv,
            &SystemId::parse("ehr").unwrap(),
            &seen,
            now,
            Span::from_secs(30 * DAY),
        );
        type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<&'a str>);
        let got: Vec<Row> = rows
            .iter()
            .map(|r| {
                (
                    r.account.as_str(),
                    r.person.as_ref().map(|p| p.as_str()),
                    r.person_status.map(PersonStatus::as_str),
                    r.findings.iter().map(|f| f.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("acme01", Some("v1"), Some("vendor"), vec![]),
                ("gone02", Some("p2"), Some("left"), vec!["leaver"]),
                ("idle03", Some("p3"), Some("active"), vec!["dormant"]),
                ("nurse01", Some("p1"), Some("active"), vec![]),
                ("shared", None, None, vec!["unmapped"]),
                ("typo", None, None, vec![]),
            ]
        );
        let nurse = rows.iter().find(|r| r.account == "nurse01").unwrap();
        assert_eq!((nurse.last_login, nurse.logins_90d), (Some(recent), 41));
        let idle = rows.iter().find(|r| r.account == "idle03").unwrap();
        assert_eq!((idle.last_login, idle.logins_90d), (None, 0));
    }
}
