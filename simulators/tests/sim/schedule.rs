//! The schedule builder as pure code.

use crate::starts;
use chrono::{TimeDelta, Utc};
use monban_core::{DoorEvent, DoorEventKind, Login, StatusChange, Timestamp};
use monban_sim::hospital::generate;
use monban_sim::schedule::{
    self, build, plan, Action, Case, Schedule, FORCED_DOOR, LATE_DELIVERY, OFFLINE_DOOR,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn all_schedules() -> Vec<Schedule> {
    let mut out = Vec::new();
    for seed in [1, 2, 99] {
        let h = generate(seed);
        for start in starts() {
            out.push(build(&h, start, None, seed));
        }
    }
    out
}

#[test]
fn deterministic() {
    let h = generate(5);
    let start = starts()[1];
    assert_eq!(build(&h, start, None, 5), build(&h, start, None, 5));
    assert_ne!(
        build(&h, start, None, 5).items,
        build(&h, start, None, 6).items
    );
}

#[test]
fn every_case_once_and_inside_the_window() {
    for s in all_schedules() {
        let cases: Vec<Case> = s.expectations.iter().map(|e| e.case).collect();
        let set: BTreeSet<Case> = cases.iter().copied().collect();
        assert_eq!(cases.len(), Case::ALL.len(), "{cases:?}");
        assert_eq!(set.len(), Case::ALL.len());
        assert_eq!(s.end - s.start, TimeDelta::hours(24));
        for item in &s.items {
            assert!(item.ts() >= s.start && item.ts() < s.end, "{item:?}");
            assert!(item.at >= item.ts());
        }
        assert!(
            s.items.windows(2).all(|w| w[0].at <= w[1].at),
            "items are in time order"
        );
        // Spread through the day: the first and the last case are hours apart.
        let login_ts: BTreeMap<&str, _> = s
            .items
            .iter()
            .filter_map(|i| match &i.action {
                Action::Login(m) => Some((m.event_id.as_str(), i.ts())),
                _ => None,
            })
            .collect();
        let times: Vec<_> = s
            .expectations
            .iter()
            .map(|e| login_ts[e.event_id.as_str()])
            .collect();
        let span = *times.iter().max().expect("cases") - *times.iter().min().expect("cases");
        assert!(span > TimeDelta::hours(18), "cases span only {span}");
    }
}

#[test]
fn a_realistic_amount_of_everything() {
    for s in all_schedules() {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        let mut logins = 0;
        let mut failures = 0;
        let mut factor_sets = BTreeSet::new();
        let mut statuses = Vec::new();
        for item in &s.items {
            match &item.action {
                Action::Door(m) => *kinds.entry(m.kind.as_str()).or_default() += 1,
                Action::Status(m) => statuses.push((m.door.to_string(), m.status.as_str())),
                Action::Maintenance(_) => {}
                Action::Login(m) => {
                    logins += 1;
                    if m.outcome.as_str() == "failure" {
                        failures += 1;
                    }
                    factor_sets.insert(
                        m.factors
                            .iter()
                            .map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join("+"),
                    );
                }
            }
        }
        assert!(logins > 120, "{logins} logins");
        assert!(failures >= 2, "{failures} failed logins");
        for k in [
            "access_granted",
            "access_denied",
            "door_opened",
            "door_closed",
            "door_forced",
        ] {
            assert!(kinds.get(k).copied().unwrap_or(0) > 0, "no {k}: {kinds:?}");
        }
        assert!(
            kinds["door_opened"] == kinds["door_closed"]
                || kinds["door_opened"] + 1 == kinds["door_closed"]
        );
        assert!(kinds["access_granted"] > 60, "{kinds:?}");
        for f in ["password", "password+totp", "webauthn_uv"] {
            assert!(factor_sets.contains(f), "no {f} login: {factor_sets:?}");
        }
        // A controller goes offline and comes back.
        assert_eq!(
            statuses,
            vec![
                (OFFLINE_DOOR.to_string(), "offline"),
                (OFFLINE_DOOR.to_string(), "online")
            ]
        );
    }
}

#[test]
fn ids_are_unique_and_payloads_parse_with_core() {
    for s in all_schedules() {
        let mut door_ids = BTreeSet::new();
        let mut login_ids = BTreeSet::new();
        let (mut z, mut jst) = (0, 0);
        for item in &s.items {
            let ts = match &item.action {
                Action::Door(m) => {
                    assert!(
                        door_ids.insert((m.door.clone(), m.event_id.clone())),
                        "repeated {}",
                        m.event_id
                    );
                    assert!(m.event_id.starts_with(m.door.as_str()) && m.event_id.contains(&s.tag));
                    let payload = serde_json::to_vec(&m.payload()).expect("json");
                    let e = DoorEvent::from_json(&payload, Some(&m.door))
                        .unwrap_or_else(|e| panic!("{e}: {}", m.payload()));
                    assert_eq!(e.ts, Timestamp::from(item.ts()));
                    let keys: BTreeSet<String> = m
                        .payload()
                        .as_object()
                        .expect("object")
                        .keys()
                        .cloned()
                        .collect();
                    let with_credential = matches!(
                        m.kind,
                        DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
                    );
                    assert_eq!(keys.contains("credential"), with_credential);
                    assert_eq!(keys.contains("direction"), with_credential);
                    assert!(m
                        .topic(&generate(1).site_id)
                        .starts_with("monban/tokyo-general/door/"));
                    m.payload()["ts"].as_str().map(str::to_string)
                }
                Action::Status(m) => {
                    let payload = serde_json::to_vec(&m.payload()).expect("json");
                    let c = StatusChange::parse(&m.door, &payload, Timestamp::from(Utc::now()))
                        .expect("status parses");
                    assert_eq!(
                        c.ts,
                        Timestamp::from(item.ts()),
                        "the status carries its simulated time"
                    );
                    assert!(m.topic(&generate(1).site_id).ends_with("/status"));
                    m.payload()["ts"].as_str().map(str::to_string)
                }
                Action::Login(m) => {
                    assert!(
                        login_ids.insert(m.event_id.clone()),
                        "repeated {}",
                        m.event_id
                    );
                    let body = serde_json::to_vec(&m.body()).expect("json");
                    let l = Login::from_json(&body).unwrap_or_else(|e| panic!("{e}: {}", m.body()));
                    assert_eq!(l.ts, Timestamp::from(item.ts()));
                    m.body()["ts"].as_str().map(str::to_string)
                }
                Action::Maintenance(m) => Some(schedule::rfc3339(m.ts)),
            };
            let ts = ts.expect("every message has a ts");
            if ts.ends_with('Z') {
                z += 1;
            } else if ts.ends_with("+09:00") {
                jst += 1;
            } else {
                panic!("unexpected offset in {ts}");
            }
        }
        assert!(z > 50 && jst > 50, "offsets are mixed: {z} Z, {jst} +09:00");
        for e in &s.expectations {
            assert!(login_ids.contains(&e.event_id));
        }
    }
}

#[test]
fn the_late_event_is_due_with_its_login() {
    for s in all_schedules() {
        let late: Vec<_> = s.items.iter().filter(|i| !i.late_by.is_zero()).collect();
        assert!(!late.is_empty());
        let e = s
            .expectations
            .iter()
            .find(|e| e.case == Case::Late)
            .expect("late case");
        let login = s
            .items
            .iter()
            .find(|i| matches!(&i.action, Action::Login(m) if m.event_id == e.event_id))
            .expect("late login");
        let entry = late
            .iter()
            .find(
                |i| matches!(&i.action, Action::Door(m) if m.kind == DoorEventKind::AccessGranted),
            )
            .expect("late entry");
        assert_eq!(entry.late_by, LATE_DELIVERY);
        assert_eq!(entry.at, login.at);
        assert!(entry.ts() < login.ts());
    }
}

#[test]
fn until_cuts_the_day() {
    let h = generate(1);
    let start = starts()[0];
    for hours in [3, 6, 12] {
        let until = start + TimeDelta::hours(hours);
        let s = build(&h, start, Some(until), 1);
        assert_eq!(s.end, until);
        assert!(s.items.iter().all(|i| i.ts() < until && i.at < until));
        assert_eq!(
            s.expectations.len(),
            Case::ALL.len(),
            "{hours} h still hold every case"
        );
    }
    // Too short for the cases, or empty: no panic, nothing beyond `until`.
    for minutes in [0, 1, 30] {
        let until = start + TimeDelta::minutes(minutes);
        let s = build(&h, start, Some(until), 1);
        assert!(s.items.iter().all(|i| i.ts() < until));
        assert!(s.expectations.is_empty());
    }
    let s = build(&h, start, Some(start - TimeDelta::hours(1)), 1);
    assert!(s.items.is_empty());
    // A later `until` than a day does not make the day longer.
    let s = build(&h, start, Some(start + TimeDelta::hours(48)), 1);
    assert_eq!(s.end - s.start, TimeDelta::hours(24));
}

#[test]
fn plan_plays_a_past_day_and_skips_the_future() {
    let h = generate(1);
    let now = Utc::now();
    let speed = 144.0;
    let s = build(&h, now - TimeDelta::hours(24), None, 1);
    let (planned, skipped) = plan(&s, speed, now);
    assert_eq!(skipped, 0);
    assert_eq!(planned.len(), s.items.len());
    assert!(planned.windows(2).all(|w| w[0].due <= w[1].due));
    let last = planned.last().expect("items").due;
    assert!(last <= Duration::from_secs(24 * 3600 / 144 + 6), "{last:?}");
    for p in &planned {
        let item = &s.items[p.index];
        let wall = now + TimeDelta::from_std(p.due).expect("due");
        assert!(item.ts() <= wall, "never a ts in the future");
    }

    // Started an hour ago: the simulated clock catches up after ~25 s; the rest is skipped.
    let s = build(&h, now - TimeDelta::hours(1), None, 1);
    let (planned, skipped) = plan(&s, speed, now);
    assert!(skipped > 0 && skipped + planned.len() == s.items.len());
    for p in &planned {
        assert!(s.items[p.index].ts() <= now + TimeDelta::from_std(p.due).expect("due"));
    }
}

#[test]
fn the_forced_door_and_the_offline_door_are_where_the_cases_are() {
    for s in all_schedules() {
        let forced: Vec<String> = s
            .items
            .iter()
            .filter_map(|i| match &i.action {
                Action::Door(m) if m.kind == DoorEventKind::DoorForced => Some(m.door.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(forced, vec![FORCED_DOOR.to_string()]);
    }
}
