//! The day's maintenance judged by `monban-core`'s own rules (CONTRACT §10): every
//! request is accepted, every wanted decision and report applies, and the requests,
//! logins and findings come out as the schedule promises.

use crate::starts;
use chrono::TimeDelta;
use monban_core::maintenance::{
    decide, findings, reconcile_entry, reconcile_login, submit_report, supervised, Activity, Filer,
    MaintenanceSettings, Request,
};
use monban_core::verdict::evaluate;
use monban_core::{
    Direction, DoorEvent, DoorEventKind, Login, Span, StatusChange, Timeline, Timestamp,
    VerdictKind,
};
use monban_sim::hospital::{generate_on, site_day};
use monban_sim::schedule::{
    build, wanted_decisions, Action, MaintenanceCase, MaintenanceKind, Schedule,
};
use std::collections::BTreeMap;

fn ts(t: chrono::DateTime<chrono::FixedOffset>) -> Timestamp {
    Timestamp::from(t.with_timezone(&chrono::Utc))
}

/// The demo's settings: `report_due` as in `monban demo`.
fn settings() -> MaintenanceSettings {
    MaintenanceSettings {
        report_due: monban_sim::schedule::maintenance::DEMO_REPORT_DUE
            .parse::<Span>()
            .expect("span"),
        ..MaintenanceSettings::default()
    }
}

struct Judged {
    requests: BTreeMap<String, Request>,
    logins: BTreeMap<String, Login>,
    timeline: Timeline,
}

/// Applies the schedule's maintenance messages with core's rules, and records the day's
/// door events.
fn judge(inv: &monban_core::Inventory, s: &Schedule) -> Judged {
    let mut requests: BTreeMap<String, Request> = BTreeMap::new();
    let mut logins = BTreeMap::new();
    let mut timeline = Timeline::default();
    for item in &s.items {
        match &item.action {
            Action::Door(m) => {
                let e = DoorEvent::from_json(
                    &serde_json::to_vec(&m.payload()).expect("json"),
                    Some(&m.door),
                )
                .expect("door event");
                timeline.record_event(inv, &e);
            }
            Action::Status(m) => {
                let c = StatusChange::parse(
                    &m.door,
                    &serde_json::to_vec(&m.payload()).expect("json"),
                    Timestamp::from(chrono::Utc::now()),
                )
                .expect("status");
                timeline.record_status(inv, &c);
            }
            Action::Login(m) => {
                let l =
                    Login::from_json(&serde_json::to_vec(&m.body()).expect("json")).expect("login");
                logins.insert(m.event_id.clone(), l);
            }
            Action::Maintenance(m) => match &m.kind {
                MaintenanceKind::Request(body) => {
                    let r = Request::from_body(
                        body,
                        Filer::Vendor(m.vendor.clone()),
                        ts(m.ts),
                        inv,
                        &settings(),
                    )
                    .unwrap_or_else(|e| panic!("{}: {e}", m.request_id));
                    requests.insert(m.request_id.clone(), r);
                }
                MaintenanceKind::Decision { decision, note } => {
                    let r = &requests[&m.request_id];
                    let next = decide(r, *decision, "kanri", note, ts(m.ts))
                        .unwrap_or_else(|e| panic!("{} {decision}: {e}", m.request_id));
                    requests.insert(m.request_id.clone(), next);
                }
                MaintenanceKind::Report {
                    body,
                    needs_approval,
                } => {
                    let r = &requests[&m.request_id];
                    assert_eq!(*needs_approval, !r.emergency, "{}", m.request_id);
                    let next = submit_report(r, body, ts(m.ts))
                        .unwrap_or_else(|e| panic!("{} report: {e}", m.request_id));
                    requests.insert(m.request_id.clone(), next);
                }
            },
        }
    }
    Judged {
        requests,
        logins,
        timeline,
    }
}

#[test]
fn every_maintenance_case_comes_out_as_promised_by_the_contract_rules() {
    for seed in [1, 2, 3, 99] {
        for start in starts() {
            let end = start + TimeDelta::hours(24);
            let h = generate_on(seed, site_day(end));
            let inv = h.inventory().unwrap_or_else(|e| panic!("{e:?}"));
            let s = build(&h, start, None, seed);
            let cases: Vec<MaintenanceCase> = s.maintenance.iter().map(|m| m.case).collect();
            assert_eq!(
                cases.len(),
                MaintenanceCase::ALL.len(),
                "seed {seed} {start}: {cases:?}"
            );
            let j = judge(&inv, &s);
            let all: Vec<Request> = j.requests.values().cloned().collect();
            let now = Timestamp::from(end);

            // Door entries of vendor staff, for each request's activity.
            let mut entries: BTreeMap<String, usize> = BTreeMap::new();
            for item in &s.items {
                let Action::Door(m) = &item.action else {
                    continue;
                };
                if m.kind != DoorEventKind::AccessGranted || m.direction != Direction::In {
                    continue;
                }
                let Some(person) = m
                    .credential
                    .as_ref()
                    .and_then(|c| inv.person_by_credential(c))
                else {
                    continue;
                };
                if let Some(c) = reconcile_entry(&inv, &all, &person.clone(), ts(m.ts)) {
                    if let Some(id) = c.request_id {
                        *entries.entry(id.to_string()).or_default() += 1;
                    }
                }
            }
            let mut covered: BTreeMap<String, usize> = BTreeMap::new();
            for l in j.logins.values() {
                if let Some(id) = reconcile_login(&inv, &all, l)
                    .maintenance
                    .and_then(|c| c.request_id)
                {
                    *covered.entry(id.to_string()).or_default() += 1;
                }
            }

            for m in &s.maintenance {
                let what = format!("seed {seed}, start {start}: {:?}", m.case);
                if let Some(id) = &m.request_id {
                    let r = &j.requests[id];
                    assert_eq!(Some(r.status.as_str()), m.status.as_deref(), "{what}");
                    let sup = supervised(&inv, &j.timeline, r);
                    assert_eq!(sup, m.supervised, "{what}");
                    let activity = Activity {
                        logins: covered.get(id).copied().unwrap_or(0),
                        entries: entries.get(id).copied().unwrap_or(0),
                    };
                    let got: Vec<&str> = findings(r, activity, sup, now, &settings())
                        .iter()
                        .map(|f| f.as_str())
                        .collect();
                    assert_eq!(got, m.findings, "{what}");
                }
                for id in &m.logins {
                    let l = &j.logins[id];
                    let facts = reconcile_login(&inv, &all, l);
                    let flags: Vec<&str> = facts.flags.iter().map(|f| f.as_str()).collect();
                    assert_eq!(flags, m.login_flags, "{what} {id}");
                    assert_eq!(
                        facts.maintenance.map(|c| c.status.as_str()),
                        m.login_maintenance.as_deref(),
                        "{what} {id}"
                    );
                    // Maintenance work earns its credit: remote with two factors, on
                    // site by card and password in the server room.
                    let v = evaluate(&inv, &j.timeline, l);
                    let want = if m.case == MaintenanceCase::OnSiteUnsupervised {
                        VerdictKind::CombinedMeasures
                    } else {
                        VerdictKind::Direct2fa
                    };
                    assert_eq!(v.kind, want, "{what} {id}: {:?}", v.reasons);
                }
            }
            // The cases that log in have their logins.
            for m in &s.maintenance {
                let logs_in = !matches!(
                    m.case,
                    MaintenanceCase::AwaitingDecision
                        | MaintenanceCase::Denied
                        | MaintenanceCase::Cancelled
                );
                assert_eq!(!m.logins.is_empty(), logs_in, "{:?}", m.case);
            }
        }
    }
}

#[test]
fn the_wanted_decisions_are_the_officers_part() {
    let start = starts()[0];
    let h = generate_on(1, site_day(start + TimeDelta::hours(24)));
    let s = build(&h, start, None, 1);
    let wanted = wanted_decisions(&s);
    let kinds: Vec<&str> = wanted.iter().map(|d| d.decision.as_str()).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec!["approve", "approve", "approve", "approve", "cancel", "deny"]
    );
    assert!(
        wanted.windows(2).all(|w| w[0].at <= w[1].at),
        "in time order"
    );
    let by_case = |c: MaintenanceCase| {
        s.maintenance
            .iter()
            .find(|m| m.case == c)
            .and_then(|m| m.request_id.clone())
            .expect("case")
    };
    let cancelled = by_case(MaintenanceCase::Cancelled);
    let for_cancelled: Vec<&str> = wanted
        .iter()
        .filter(|d| d.request_id == cancelled)
        .map(|d| d.decision.as_str())
        .collect();
    assert_eq!(for_cancelled, vec!["approve", "cancel"]);
    for c in [
        MaintenanceCase::AwaitingDecision,
        MaintenanceCase::Emergency,
    ] {
        let id = by_case(c);
        assert!(
            wanted.iter().all(|d| d.request_id != id),
            "{c:?} stays requested"
        );
    }
    // A short day has no maintenance.
    let short = build(&h, start, Some(start + TimeDelta::hours(3)), 1);
    assert!(short.maintenance.is_empty());
    assert!(!short
        .items
        .iter()
        .any(|i| matches!(i.action, Action::Maintenance(_))));
}
