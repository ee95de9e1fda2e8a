//! Table tests for every rule of [`super`], and property tests: coverage does not depend
//! on the order of the requests, supervision agrees with a minute-by-minute oracle, and
//! the timeline's presence intervals agree with `covering_entries`.

use super::*;
use crate::event::{Direction, DoorEvent, DoorEventKind};
use crate::factor::Factor;
use crate::ids::DoorId;
use crate::inventory::rows::{
    DoorRow, InventoryRows, MaintainsRow, PersonRow, RoomRow, SystemRow, VendorRow,
};
use proptest::prelude::*;

const H: i64 = 3600 * 1000;
const M: i64 = 60 * 1000;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// Two rooms; acme maintains ehr (remote) and pacs (on site), beta maintains ehr;
/// v001 and v002 are acme's staff (v001 leaves on 2027-03-31), b001 beta's; n001 and
/// kanri are the hospital's own.
fn site() -> Inventory {
    let person =
        |id: &str, vendor: &str, until: &str, card: &str, accounts: &[(&str, &str)]| PersonRow {
            id: id.into(),
            vendor: vendor.into(),
            until: until.into(),
            credentials: vec![format!("card:{card}")],
            accounts: accounts
                .iter()
                .map(|(s, a)| (s.to_string(), a.to_string()))
                .collect(),
            ..Default::default()
        };
    let maintains = |system: &str, remote: bool| MaintainsRow {
        system: system.into(),
        remote: remote.to_string(),
        ..Default::default()
    };
    InventoryRows {
        rooms: ["srv", "office"]
            .map(|id| RoomRow {
                id: id.into(),
                controlled: "true".into(),
                max_presence: "12h".into(),
                ..Default::default()
            })
            .to_vec(),
        doors: [("srv-door", "srv"), ("office-door", "office")]
            .map(|(id, room)| DoorRow {
                id: id.into(),
                room: room.into(),
                ..Default::default()
            })
            .to_vec(),
        terminals: vec![],
        systems: ["ehr", "pacs", "lab"]
            .map(|id| SystemRow {
                id: id.into(),
                category: "ehr".into(),
                ..Default::default()
            })
            .to_vec(),
        vendors: vec![
            VendorRow {
                id: "acme".into(),
                name: "アクメ".into(),
                maintains: vec![maintains("ehr", true), maintains("pacs", false)],
            },
            VendorRow {
                id: "beta".into(),
                name: "ベータ".into(),
                maintains: vec![maintains("ehr", true)],
            },
        ],
        people: vec![
            person("v001", "acme", "2027-03-31", "V1", &[("ehr", "acme01")]),
            person(
                "v002",
                "acme",
                "",
                "V2",
                &[("pacs", "acme02"), ("ehr", "acme02")],
            ),
            person("b001", "beta", "", "B1", &[("ehr", "beta01")]),
            person("n001", "", "2026-12-31", "N1", &[("ehr", "nurse01")]),
            person("kanri", "", "", "K1", &[]),
        ],
    }
    .parse(None)
    .unwrap()
}

fn body() -> RequestBody {
    RequestBody {
        request_id: "acme-2026-0042".into(),
        vendor: None,
        system: "ehr".into(),
        people: vec!["v001".into()],
        work_plan: "WP-2026-118".into(),
        purpose: "電子カルテ 定期パッチ適用".into(),
        start: "2026-12-10T20:00:00+09:00".into(),
        end: "2026-12-10T23:00:00+09:00".into(),
        remote: true,
        emergency: false,
    }
}

fn acme() -> Filer {
    Filer::Vendor(VendorId::parse("acme").unwrap())
}

fn filed() -> Request {
    Request::from_body(
        &body(),
        acme(),
        ts("2026-12-01T09:00:00+09:00"),
        &site(),
        &MaintenanceSettings::default(),
    )
    .unwrap()
}

/// A request of acme for `system` by `people` over `[start, end)` in milliseconds.
fn request(id: &str, system: &str, people: &[&str], start: i64, end: i64) -> Request {
    Request {
        id: RequestId::parse(id).unwrap(),
        vendor: VendorId::parse("acme").unwrap(),
        system: SystemId::parse(system).unwrap(),
        people: people
            .iter()
            .map(|p| PersonId::parse(*p).unwrap())
            .collect(),
        work_plan: "WP-1".into(),
        purpose: String::new(),
        start: at(start),
        end: at(end),
        remote: false,
        emergency: false,
        requested_by: acme(),
        requested_at: at(0),
        status: RequestStatus::Approved,
        decisions: Vec::new(),
        report: None,
    }
}

// ---- requests ----------------------------------------------------------------------------

#[test]
fn a_good_body_becomes_a_requested_request() {
    let r = filed();
    assert_eq!(r.id.as_str(), "acme-2026-0042");
    assert_eq!(r.vendor.as_str(), "acme");
    assert_eq!(r.status, RequestStatus::Requested);
    assert_eq!(r.start, ts("2026-12-10T11:00:00Z"));
    assert_eq!(r.end.as_millis() - r.start.as_millis(), 3 * H);
    assert_eq!(r.requested_by.to_string(), "vendor:acme");
    assert!(r.window_contains(r.start) && !r.window_contains(r.end));
}

/// Each broken field alone: the API's code.
#[test]
fn request_bodies_are_checked_in_order() {
    type Edit = fn(&mut RequestBody);
    let cases: Vec<(&str, Edit, Option<&str>)> = vec![
        ("as given", |_| {}, None),
        (
            "bad id",
            |b| b.request_id = "a/b".into(),
            Some("invalid_request_id"),
        ),
        (
            "empty id",
            |b| b.request_id = " ".into(),
            Some("invalid_request_id"),
        ),
        (
            "other vendor's system",
            |b| b.system = "lab".into(),
            Some("not_maintained_by_vendor"),
        ),
        (
            "unknown system",
            |b| b.system = "fax".into(),
            Some("not_maintained_by_vendor"),
        ),
        (
            "bad system id",
            |b| b.system = "a b".into(),
            Some("not_maintained_by_vendor"),
        ),
        ("on-site system", |b| b.system = "pacs".into(), None),
        ("nobody", |b| b.people.clear(), Some("invalid_people")),
        (
            "twice",
            |b| b.people = vec!["v001".into(), "v001".into()],
            Some("invalid_people"),
        ),
        (
            "two staff",
            |b| b.people = vec!["v001".into(), "v002".into()],
            None,
        ),
        (
            "another vendor's staff",
            |b| b.people.push("b001".into()),
            Some("not_vendor_staff"),
        ),
        (
            "hospital staff",
            |b| b.people = vec!["n001".into()],
            Some("not_vendor_staff"),
        ),
        (
            "unknown person",
            |b| b.people = vec!["x9".into()],
            Some("not_vendor_staff"),
        ),
        (
            "bad person id",
            |b| b.people = vec!["a b".into()],
            Some("not_vendor_staff"),
        ),
        (
            "work plan of 2",
            |b| b.work_plan = "WP".into(),
            Some("invalid_work_plan"),
        ),
        ("work plan of 3", |b| b.work_plan = " WP1 ".into(), None),
        ("work plan of 128", |b| b.work_plan = "計".repeat(128), None),
        (
            "work plan of 129",
            |b| b.work_plan = "計".repeat(129),
            Some("invalid_work_plan"),
        ),
        (
            "work plan newline",
            |b| b.work_plan = "WP-1\n".into(),
            Some("invalid_work_plan"),
        ),
        ("no purpose", |b| b.purpose.clear(), None),
        (
            "long purpose",
            |b| b.purpose = "x".repeat(2001),
            Some("invalid_purpose"),
        ),
        (
            "start = end",
            |b| b.end = b.start.clone(),
            Some("invalid_window"),
        ),
        (
            "end before start",
            |b| b.end = "2026-12-10T19:00:00+09:00".into(),
            Some("invalid_window"),
        ),
        ("24h", |b| b.end = "2026-12-11T20:00:00+09:00".into(), None),
        (
            "24h and 1ms",
            |b| b.end = "2026-12-11T20:00:00.001+09:00".into(),
            Some("invalid_window"),
        ),
        (
            "no offset",
            |b| b.start = "2026-12-10T20:00:00".into(),
            Some("invalid_window"),
        ),
        (
            "not a time",
            |b| b.end = "tonight".into(),
            Some("invalid_window"),
        ),
        // The first problem wins: the system before the people and the window.
        (
            "several",
            |b| {
                b.system = "lab".into();
                b.people.clear();
                b.end = "x".into();
            },
            Some("not_maintained_by_vendor"),
        ),
    ];
    let inv = site();
    let settings = MaintenanceSettings::default();
    for (name, edit, code) in cases {
        let mut b = body();
        edit(&mut b);
        let got = Request::from_body(&b, acme(), at(0), &inv, &settings);
        assert_eq!(
            got.as_ref().err().map(RequestError::code),
            code,
            "{name}: {got:?}"
        );
        if let Err(e) = got {
            assert!(!e.message().is_empty());
        }
    }
}

#[test]
fn the_vendor_comes_from_the_token_or_the_officer() {
    let inv = site();
    let settings = MaintenanceSettings::default();
    let officer = Filer::User("kanri".into());
    // (filer, body's vendor, vendor or code)
    let cases: Vec<(Filer, Option<&str>, Result<&str, &str>)> = vec![
        (acme(), None, Ok("acme")),
        (acme(), Some("acme"), Ok("acme")),
        (acme(), Some("beta"), Err("vendor_mismatch")),
        (officer.clone(), Some("acme"), Ok("acme")),
        (officer.clone(), None, Err("vendor_required")),
        (officer.clone(), Some(""), Err("vendor_required")),
        (officer.clone(), Some("ghost"), Err("unknown_vendor")),
        (officer.clone(), Some("a/b"), Err("unknown_vendor")),
        // beta maintains ehr but v001 is not its staff.
        (officer, Some("beta"), Err("not_vendor_staff")),
    ];
    for (filer, vendor, want) in cases {
        let mut b = body();
        b.vendor = vendor.map(str::to_string);
        let got = Request::from_body(&b, filer.clone(), at(0), &inv, &settings);
        let got = got
            .as_ref()
            .map(|r| r.vendor.as_str())
            .map_err(|e| e.code());
        assert_eq!(got, want, "{filer} naming {vendor:?}");
    }
    let mut b = body();
    b.vendor = Some("acme".into());
    let r = Request::from_body(&b, Filer::User("kanri".into()), at(0), &inv, &settings).unwrap();
    assert_eq!(r.requested_by.to_string(), "user:kanri");
}

#[test]
fn filers_print_and_parse() {
    for f in [acme(), Filer::User("kanri".into())] {
        assert_eq!(f.to_string().parse::<Filer>(), Ok(f.clone()));
    }
    for bad in ["acme", "vendor:a/b", "user:", "token:1"] {
        assert!(bad.parse::<Filer>().is_err(), "{bad}");
    }
}

#[test]
fn a_repeated_request_id_is_the_same_request_or_a_conflict() {
    let stored = filed();
    type Edit = fn(&mut RequestBody);
    let cases: Vec<(&str, Edit, Replay)> = vec![
        ("same", |_| {}, Replay::Same),
        (
            "same instant, other offset",
            |b| b.start = "2026-12-10T11:00:00Z".into(),
            Replay::Same,
        ),
        (
            "surrounding spaces",
            |b| b.work_plan = " WP-2026-118 ".into(),
            Replay::Same,
        ),
        (
            "naming its own vendor",
            |b| b.vendor = Some("acme".into()),
            Replay::Same,
        ),
        (
            "another purpose",
            |b| b.purpose = "別作業".into(),
            Replay::Conflict,
        ),
        (
            "another end",
            |b| b.end = "2026-12-10T23:30:00+09:00".into(),
            Replay::Conflict,
        ),
        ("emergency", |b| b.emergency = true, Replay::Conflict),
        ("on site", |b| b.remote = false, Replay::Conflict),
        (
            "more people",
            |b| b.people.push("v002".into()),
            Replay::Conflict,
        ),
        (
            "another system",
            |b| b.system = "pacs".into(),
            Replay::Conflict,
        ),
        (
            "another vendor",
            |b| b.vendor = Some("beta".into()),
            Replay::Conflict,
        ),
        ("invalid now", |b| b.end = "x".into(), Replay::Conflict),
    ];
    for (name, edit, want) in cases {
        let mut b = body();
        edit(&mut b);
        assert_eq!(replay(Some(&stored), &b, &acme()), want, "{name}");
    }
    assert_eq!(replay(None, &body(), &acme()), Replay::New);
    // An officer repeating it must name the vendor.
    let officer = Filer::User("kanri".into());
    assert_eq!(replay(Some(&stored), &body(), &officer), Replay::Conflict);
    let mut b = body();
    b.vendor = Some("acme".into());
    assert_eq!(replay(Some(&stored), &b, &officer), Replay::Same);
}

// ---- decisions and reports ---------------------------------------------------------------

fn report(confirmed: bool) -> Report {
    Report {
        at: at(0),
        summary: "done".into(),
        recording: None,
        confirmed_by: confirmed.then(|| "kanri".to_string()),
        confirmed_at: confirmed.then(|| at(0)),
    }
}

#[test]
fn decisions_follow_the_status_machine() {
    // (status, report: None / Some(confirmed), decision, at (end = 10h), by, result)
    type Case = (
        RequestStatus,
        Option<bool>,
        Decision,
        i64,
        &'static str,
        Result<RequestStatus, &'static str>,
    );
    use Decision::*;
    use RequestStatus::*;
    let cases: &[Case] = &[
        (Requested, None, Approve, 1, "kanri", Ok(Approved)),
        (Requested, None, Deny, 1, "kanri", Ok(Denied)),
        // Approval after the fact (事後承認) is allowed.
        (Requested, None, Approve, 20 * H, "kanri", Ok(Approved)),
        (
            Approved,
            None,
            Approve,
            1,
            "kanri",
            Err("invalid_transition"),
        ),
        (Approved, None, Deny, 1, "kanri", Err("invalid_transition")),
        (Denied, None, Approve, 1, "kanri", Err("invalid_transition")),
        (
            Cancelled,
            None,
            Approve,
            1,
            "kanri",
            Err("invalid_transition"),
        ),
        (
            Requested,
            None,
            Cancel,
            1,
            "kanri",
            Err("invalid_transition"),
        ),
        (Approved, None, Cancel, 10 * H - 1, "kanri", Ok(Cancelled)),
        (
            Approved,
            None,
            Cancel,
            10 * H,
            "kanri",
            Err("invalid_transition"),
        ),
        (Denied, None, Cancel, 1, "kanri", Err("invalid_transition")),
        (
            Approved,
            None,
            Confirm,
            11 * H,
            "kanri",
            Err("invalid_transition"),
        ),
        (
            Approved,
            Some(false),
            Confirm,
            11 * H,
            "kanri",
            Ok(Approved),
        ),
        (
            Approved,
            Some(true),
            Confirm,
            11 * H,
            "kanri",
            Err("invalid_transition"),
        ),
        // A report made before a cancellation can still be confirmed.
        (
            Cancelled,
            Some(false),
            Confirm,
            11 * H,
            "kanri",
            Ok(Cancelled),
        ),
        // The filer decides nothing, whatever the state.
        (Requested, None, Approve, 1, "yamada", Err("self_approval")),
        (Approved, None, Cancel, 1, "yamada", Err("self_approval")),
        (
            Approved,
            Some(false),
            Confirm,
            11 * H,
            "yamada",
            Err("self_approval"),
        ),
        (Denied, None, Approve, 1, "yamada", Err("self_approval")),
    ];
    for (status, rep, decision, t, by, want) in cases {
        let mut r = request("r1", "ehr", &["v001"], 0, 10 * H);
        r.requested_by = Filer::User("yamada".into());
        r.status = *status;
        r.report = rep.map(report);
        let got = decide(&r, *decision, by, "確認済み", at(*t));
        let label = format!("{decision} on {status} at {t} by {by}");
        assert_eq!(
            got.as_ref().map(|n| n.status).map_err(|e| e.code()),
            *want,
            "{label}"
        );
        if let Ok(next) = got {
            let last = next.decisions.last().unwrap();
            assert_eq!(
                (last.decision, last.by.as_str(), last.at),
                (*decision, *by, at(*t))
            );
            assert_eq!(last.note, "確認済み");
            if *decision == Confirm {
                let rep = next.report.unwrap();
                assert_eq!(
                    (rep.confirmed_by.as_deref(), rep.confirmed_at),
                    (Some(*by), Some(at(*t)))
                );
            }
        }
    }
    let r = request("r1", "ehr", &["v001"], 0, 10 * H);
    let e = decide(&r, Decision::Approve, "kanri", "", at(1)).unwrap_err();
    assert_eq!(
        e.message(),
        "cannot approve a request that is approved: only a requested request is approved or denied"
    );
    let mut r = r;
    r.status = RequestStatus::Requested;
    let e = decide(&r, Decision::Approve, "kanri", "a\u{7}", at(1)).unwrap_err();
    assert_eq!(e.code(), "invalid_note");
    // A vendor's request: any officer may decide it.
    assert!(decide(&filed(), Decision::Approve, "acme", "", at(1)).is_ok());
}

#[test]
fn decisions_parse() {
    for d in Decision::ALL {
        assert_eq!(d.as_str().parse::<Decision>(), Ok(d));
    }
    for s in RequestStatus::ALL {
        assert_eq!(s.as_str().parse::<RequestStatus>(), Ok(s));
        assert!(!s.label_ja().is_empty() && !s.label_en().is_empty());
    }
    assert!("approved".parse::<Decision>().is_err());
}

#[test]
fn every_code_has_its_labels_and_parses_back() {
    let mut ja = std::collections::BTreeSet::new();
    for d in Decision::ALL {
        assert!(!d.label_en().is_empty() && ja.insert(d.label_ja()), "{d}");
    }
    assert_eq!(Decision::Approve.label_ja(), "承認");
    assert_eq!(Decision::Deny.label_ja(), "却下");
    for f in Finding::ALL {
        assert_eq!(f.as_str().parse::<Finding>(), Ok(f));
        assert!(!f.label_ja().is_empty() && !f.label_en().is_empty());
    }
    assert_eq!(Finding::NotPerformed.label_ja(), "未実施");
    assert_eq!(Finding::Unsupervised.label_ja(), "立会いなし");
    assert_eq!(Finding::ReportOverdue.label_ja(), "報告書未提出");
    assert_eq!(Finding::EmergencyUnapproved.label_ja(), "緊急・未承認");
    let mut sorted = Finding::ALL;
    sorted.sort();
    assert_eq!(sorted, Finding::ALL, "ALL is in the contract's order");
    for c in CoverageStatus::ALL {
        assert_eq!(c.as_str().parse::<CoverageStatus>(), Ok(c));
        assert!(!c.label_ja().is_empty() && !c.label_en().is_empty());
    }
    for f in Flag::ALL {
        assert!(!f.label_ja().is_empty() && !f.label_en().is_empty());
    }
    assert!("late".parse::<Finding>().is_err());
}

#[test]
fn reports_come_after_the_start_of_allowed_work() {
    let good = ReportBody {
        summary: "パッチ適用完了".into(),
        recording: Some(Recording {
            sha256: "AB".repeat(32),
            uri: "pam://sessions/42".into(),
        }),
    };
    // (status, emergency, already reported, at (start = 1h), body edit, code)
    type Edit = fn(&mut ReportBody);
    use RequestStatus::*;
    type Case = (RequestStatus, bool, bool, i64, Edit, Option<&'static str>);
    let cases: Vec<Case> = vec![
        (Approved, false, false, H, |_| {}, None),
        (
            Approved,
            false,
            false,
            H - 1,
            |_| {},
            Some("invalid_transition"),
        ),
        (Approved, false, false, 5 * H, |b| b.recording = None, None),
        (
            Requested,
            false,
            false,
            2 * H,
            |_| {},
            Some("invalid_transition"),
        ),
        (Requested, true, false, 2 * H, |_| {}, None),
        (
            Denied,
            true,
            false,
            2 * H,
            |_| {},
            Some("invalid_transition"),
        ),
        (
            Cancelled,
            false,
            false,
            2 * H,
            |_| {},
            Some("invalid_transition"),
        ),
        (Approved, false, true, 2 * H, |_| {}, Some("report_exists")),
        (
            Approved,
            false,
            false,
            2 * H,
            |b| b.summary = " ".into(),
            Some("invalid_summary"),
        ),
        (
            Approved,
            false,
            false,
            2 * H,
            |b| b.summary = "x".repeat(2001),
            Some("invalid_summary"),
        ),
        (
            Approved,
            false,
            false,
            2 * H,
            |b| b.recording.as_mut().unwrap().sha256 = "abc".into(),
            Some("invalid_recording"),
        ),
        (
            Approved,
            false,
            false,
            2 * H,
            |b| b.recording.as_mut().unwrap().sha256 = "g".repeat(64),
            Some("invalid_recording"),
        ),
        (
            Approved,
            false,
            false,
            2 * H,
            |b| b.recording.as_mut().unwrap().uri.clear(),
            Some("invalid_recording"),
        ),
    ];
    for (status, emergency, reported, t, edit, code) in cases {
        let mut r = request("r1", "ehr", &["v001"], H, 10 * H);
        r.status = status;
        r.emergency = emergency;
        r.report = reported.then(|| report(false));
        let mut b = good.clone();
        edit(&mut b);
        let got = submit_report(&r, &b, at(t));
        assert_eq!(
            got.as_ref().err().map(ReportError::code),
            code,
            "{status} emergency={emergency} at {t}: {got:?}"
        );
        if let Ok(next) = got {
            let rep = next.report.unwrap();
            assert_eq!((rep.at, rep.confirmed_by), (at(t), None));
            if let Some(rec) = rep.recording {
                assert_eq!(rec.sha256, "ab".repeat(32));
            }
            assert_eq!(next.status, status);
        }
    }
}

// ---- reconciliation ------------------------------------------------------------------------

#[test]
fn the_request_that_covers_a_login() {
    let v001 = PersonId::parse("v001").unwrap();
    let ehr = SystemId::parse("ehr").unwrap();
    let acme_id = VendorId::parse("acme").unwrap();
    let with = |f: fn(&mut Request)| {
        let mut r = request("r", "ehr", &["v001"], 10 * H, 13 * H);
        f(&mut r);
        r
    };
    // (requests, login time, request id, status)
    type Case = (Vec<Request>, i64, Option<&'static str>, CoverageStatus);
    use CoverageStatus::*;
    let cases: Vec<Case> = vec![
        (vec![with(|_| {})], 10 * H, Some("r"), Approved),
        (vec![with(|_| {})], 13 * H - 1, Some("r"), Approved),
        (vec![with(|_| {})], 13 * H, None, Unapproved),
        (vec![with(|_| {})], 10 * H - 1, None, Unapproved),
        (vec![], 11 * H, None, Unapproved),
        (
            vec![with(|r| r.status = RequestStatus::Requested)],
            11 * H,
            None,
            Unapproved,
        ),
        (
            vec![with(|r| r.status = RequestStatus::Denied)],
            11 * H,
            None,
            Unapproved,
        ),
        (
            vec![with(|r| r.status = RequestStatus::Cancelled)],
            11 * H,
            None,
            Unapproved,
        ),
        (
            vec![with(|r| {
                r.status = RequestStatus::Requested;
                r.emergency = true;
            })],
            11 * H,
            Some("r"),
            EmergencyPending,
        ),
        (
            vec![with(|r| {
                r.status = RequestStatus::Denied;
                r.emergency = true;
            })],
            11 * H,
            None,
            Unapproved,
        ),
        (
            vec![with(|r| r.emergency = true)],
            11 * H,
            Some("r"),
            Approved,
        ),
        (
            vec![with(|r| r.system = SystemId::parse("pacs").unwrap())],
            11 * H,
            None,
            Unapproved,
        ),
        (
            vec![with(|r| r.people = vec![PersonId::parse("v002").unwrap()])],
            11 * H,
            None,
            Unapproved,
        ),
        (
            vec![with(|r| r.vendor = VendorId::parse("beta").unwrap())],
            11 * H,
            None,
            Unapproved,
        ),
        // An approved request wins over an emergency one, then the earlier start.
        (
            vec![
                with(|r| {
                    r.id = RequestId::parse("a-emergency").unwrap();
                    r.status = RequestStatus::Requested;
                    r.emergency = true;
                }),
                with(|r| r.id = RequestId::parse("z-approved").unwrap()),
            ],
            11 * H,
            Some("z-approved"),
            Approved,
        ),
        (
            vec![
                with(|r| {
                    r.id = RequestId::parse("a").unwrap();
                    r.start = at(11 * H);
                }),
                with(|r| r.id = RequestId::parse("b").unwrap()),
            ],
            12 * H,
            Some("b"),
            Approved,
        ),
    ];
    for (requests, t, id, status) in cases {
        let c = covering(&requests, &acme_id, &v001, Some(&ehr), at(t));
        assert_eq!(
            (c.request_id.as_ref().map(|r| r.as_str()), c.status),
            (id, status),
            "at {t}: {requests:#?}"
        );
    }
    // A door entry has no system: a request for any system covers it.
    let pacs = with(|r| r.system = SystemId::parse("pacs").unwrap());
    let c = covering([&pacs], &acme_id, &v001, None, at(11 * H));
    assert_eq!(c.status, CoverageStatus::Approved);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"request_id": "r", "status": "approved"})
    );
    let none = covering([], &acme_id, &v001, None, at(0));
    assert_eq!(
        serde_json::to_value(&none).unwrap(),
        serde_json::json!({"request_id": null, "status": "unapproved"})
    );
}

fn login(account: &str, t: &str, outcome: Outcome) -> Login {
    Login {
        event_id: "l-1".into(),
        ts: ts(t),
        system: SystemId::parse("ehr").unwrap(),
        account: account.into(),
        terminal: "pc".into(),
        factors: vec![Factor::Password],
        outcome,
    }
}

#[test]
fn logins_get_their_maintenance_object_and_flags_in_order() {
    let inv = site();
    let mut approved = request(
        "acme-1",
        "ehr",
        &["v001", "v002"],
        ts("2027-03-31T20:00:00+09:00").as_millis(),
        ts("2027-04-01T02:00:00+09:00").as_millis(),
    );
    approved.remote = true;
    let mut emergency = request(
        "acme-2",
        "ehr",
        &["v002"],
        ts("2026-12-10T00:00:00+09:00").as_millis(),
        ts("2026-12-10T06:00:00+09:00").as_millis(),
    );
    emergency.status = RequestStatus::Requested;
    emergency.emergency = true;
    let requests = vec![approved, emergency];
    use Outcome::*;
    // (account, time, outcome, maintenance, flags)
    type Case = (
        &'static str,
        &'static str,
        Outcome,
        Option<(Option<&'static str>, &'static str)>,
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        // Hospital staff: no maintenance object; a leaver after their last day.
        ("nurse01", "2026-12-31T23:59:59+09:00", Success, None, &[]),
        (
            "nurse01",
            "2027-01-01T00:00:00+09:00",
            Success,
            None,
            &["account_of_leaver"],
        ),
        (
            "nurse01",
            "2027-01-01T00:00:00+09:00",
            Failure,
            None,
            &["account_of_leaver"],
        ),
        // Unmapped account.
        ("ghost", "2027-01-01T00:00:00+09:00", Success, None, &[]),
        // Vendor staff inside the approved window, before and after their last day.
        (
            "acme01",
            "2027-03-31T23:00:00+09:00",
            Success,
            Some((Some("acme-1"), "approved")),
            &[],
        ),
        (
            "acme01",
            "2027-04-01T01:00:00+09:00",
            Success,
            Some((Some("acme-1"), "approved")),
            &["account_of_leaver"],
        ),
        // Outside every window; after the last day both flags, leaver first.
        (
            "acme01",
            "2027-04-02T01:00:00+09:00",
            Success,
            Some((None, "unapproved")),
            &["account_of_leaver", "maintenance_unapproved"],
        ),
        (
            "acme01",
            "2026-12-10T01:00:00+09:00",
            Success,
            Some((None, "unapproved")),
            &["maintenance_unapproved"],
        ),
        // A failed login is not a maintenance login.
        ("acme01", "2026-12-10T01:00:00+09:00", Failure, None, &[]),
        (
            "acme02",
            "2026-12-10T01:00:00+09:00",
            Success,
            Some((Some("acme-2"), "emergency_pending")),
            &["maintenance_emergency_pending"],
        ),
        // beta has no request at all.
        (
            "beta01",
            "2027-03-31T23:00:00+09:00",
            Success,
            Some((None, "unapproved")),
            &["maintenance_unapproved"],
        ),
    ];
    for (account, t, outcome, maintenance, flags) in cases {
        let facts = reconcile_login(&inv, &requests, &login(account, t, *outcome));
        let got = facts
            .maintenance
            .as_ref()
            .map(|c| (c.request_id.as_ref().map(|r| r.as_str()), c.status.as_str()));
        assert_eq!(got, *maintenance, "{account} at {t}");
        let got: Vec<&str> = facts.flags.iter().map(|f| f.as_str()).collect();
        assert_eq!(got, *flags, "{account} at {t}");
    }
    // The last day ends on the site's calendar: 08:00 JST on 1 January is still
    // 31 December at a UTC site.
    let l = login("nurse01", "2027-01-01T08:00:00+09:00", Success);
    assert_eq!(
        reconcile_login(&inv, &[], &l).flags,
        [Flag::AccountOfLeaver]
    );
    let utc = site().with_offset(crate::period::SiteOffset::UTC);
    assert_eq!(reconcile_login(&utc, &[], &l).flags, []);
    for f in Flag::ALL {
        assert_eq!(f.as_str().parse::<Flag>(), Ok(f));
    }
    let mut sorted = Flag::ALL;
    sorted.reverse();
    sorted.sort();
    assert_eq!(sorted, Flag::ALL);
}

#[test]
fn door_entries_of_vendor_staff_count_toward_a_request() {
    let inv = site();
    let r = request("acme-1", "pacs", &["v002"], 10 * H, 13 * H);
    let p = |id: &str| PersonId::parse(id).unwrap();
    let cases = [
        ("v002", 11 * H, Some(Some("acme-1"))),
        ("v002", 14 * H, Some(None)),
        ("v001", 11 * H, Some(None)),
        ("n001", 11 * H, None),
        ("nobody", 11 * H, None),
    ];
    for (person, t, want) in cases {
        let got = reconcile_entry(&inv, std::slice::from_ref(&r), &p(person), at(t));
        assert_eq!(
            got.as_ref()
                .map(|c| c.request_id.as_ref().map(|r| r.as_str())),
            want,
            "{person} at {t}"
        );
    }
}

// ---- supervision -----------------------------------------------------------------------------

fn stay(room: &str, from: i64, to: i64) -> Stay {
    Stay {
        room: RoomId::parse(room).unwrap(),
        from: at(from),
        to: at(to),
    }
}

#[test]
fn supervision_is_interval_coverage_room_by_room() {
    // (workers, supervisors, result) over the window [10, 20)
    type Case = (Vec<Stay>, Vec<Stay>, Option<bool>);
    let cases: Vec<Case> = vec![
        (vec![], vec![stay("srv", 0, 30)], None),
        // Stays outside the window do not count.
        (vec![stay("srv", 0, 10), stay("srv", 20, 30)], vec![], None),
        (
            vec![stay("srv", 12, 15)],
            vec![stay("srv", 0, 30)],
            Some(true),
        ),
        (vec![stay("srv", 12, 15)], vec![], Some(false)),
        (
            vec![stay("srv", 12, 15)],
            vec![stay("office", 0, 30)],
            Some(false),
        ),
        (
            vec![stay("srv", 12, 15)],
            vec![stay("srv", 12, 15)],
            Some(true),
        ),
        (
            vec![stay("srv", 12, 15)],
            vec![stay("srv", 13, 15)],
            Some(false),
        ),
        (
            vec![stay("srv", 12, 15)],
            vec![stay("srv", 12, 14)],
            Some(false),
        ),
        // Two supervisors taking turns, touching: covered; with a gap: not.
        (
            vec![stay("srv", 12, 18)],
            vec![stay("srv", 11, 15), stay("srv", 15, 19)],
            Some(true),
        ),
        (
            vec![stay("srv", 12, 18)],
            vec![stay("srv", 11, 15), stay("srv", 16, 19)],
            Some(false),
        ),
        // The worker stays past the window: only the window needs supervision.
        (
            vec![stay("srv", 5, 40)],
            vec![stay("srv", 10, 20)],
            Some(true),
        ),
        (
            vec![stay("srv", 5, 40)],
            vec![stay("srv", 10, 19)],
            Some(false),
        ),
        // Two rooms: each needs its own supervisor.
        (
            vec![stay("srv", 10, 12), stay("office", 14, 16)],
            vec![stay("srv", 10, 12), stay("office", 14, 16)],
            Some(true),
        ),
        (
            vec![stay("srv", 10, 12), stay("office", 14, 16)],
            vec![stay("srv", 10, 16)],
            Some(false),
        ),
        // Two workers overlapping in one room, one supervisor for the union.
        (
            vec![stay("srv", 11, 14), stay("srv", 13, 17)],
            vec![stay("srv", 11, 17)],
            Some(true),
        ),
        // Empty and inverted stays are nothing.
        (vec![stay("srv", 12, 12), stay("srv", 15, 13)], vec![], None),
    ];
    for (workers, supervisors, want) in cases {
        assert_eq!(
            supervision(at(10), at(20), &workers, &supervisors),
            want,
            "{workers:?} / {supervisors:?}"
        );
    }
}

#[test]
fn intervals_merge_and_cover() {
    assert_eq!(
        union(vec![(5, 7), (1, 3), (3, 4), (6, 9), (2, 2)]),
        [(1, 4), (5, 9)]
    );
    assert!(covers(&[(1, 4), (5, 9)], &[(1, 2), (5, 9)]));
    assert!(!covers(&[(1, 4), (5, 9)], &[(3, 6)]));
    assert!(!covers(&[], &[(1, 2)]));
    assert!(covers(&[], &[]));
}

fn entry(id: &str, door: &str, ms: i64, card: &str, direction: Direction) -> DoorEvent {
    DoorEvent {
        door: DoorId::parse(door).unwrap(),
        event_id: id.into(),
        ts: at(ms),
        kind: DoorEventKind::AccessGranted,
        direction,
        credential: Some(format!("card:{card}").parse().unwrap()),
    }
}

#[test]
fn supervised_from_the_timeline() {
    let inv = site();
    let day = ts("2026-12-10T00:00:00+09:00").as_millis();
    let mut r = request("acme-1", "pacs", &["v002"], day + 10 * H, day + 13 * H);
    // (events (id, door, minutes after 10:00, card, direction), remote, result)
    use Direction::{In, Out};
    type Ev = (&'static str, &'static str, i64, &'static str, Direction);
    let cases: Vec<(Vec<Ev>, bool, Option<bool>)> = vec![
        (vec![], false, None),
        (vec![("e1", "srv-door", 30, "V2", In)], true, None),
        // v002 from 10:30 until 11:00; kanri from 10:00 until 12:00.
        (
            vec![
                ("k1", "srv-door", 0, "K1", In),
                ("e1", "srv-door", 30, "V2", In),
                ("e2", "srv-door", 60, "V2", Out),
                ("k2", "srv-door", 120, "K1", Out),
            ],
            false,
            Some(true),
        ),
        // kanri leaves at 10:45, before v002.
        (
            vec![
                ("k1", "srv-door", 0, "K1", In),
                ("e1", "srv-door", 30, "V2", In),
                ("k2", "srv-door", 45, "K1", Out),
                ("e2", "srv-door", 60, "V2", Out),
            ],
            false,
            Some(false),
        ),
        // kanri goes to the office at 10:45: presence in srv ends there.
        (
            vec![
                ("k1", "srv-door", 0, "K1", In),
                ("e1", "srv-door", 30, "V2", In),
                ("k2", "office-door", 45, "K1", In),
                ("e2", "srv-door", 60, "V2", Out),
            ],
            false,
            Some(false),
        ),
        // Another vendor's engineer does not supervise.
        (
            vec![
                ("b1", "srv-door", 0, "B1", In),
                ("e1", "srv-door", 30, "V2", In),
            ],
            false,
            Some(false),
        ),
        // n001 left on 2026-12-31; on 2026-12-10 they still supervise.
        (
            vec![
                ("n1", "srv-door", 0, "N1", In),
                ("e1", "srv-door", 30, "V2", In),
                ("e2", "srv-door", 60, "V2", Out),
            ],
            false,
            Some(true),
        ),
        // v002 entered the day before and stayed (12h max presence ends at 21:30 the
        // day before): nobody entered during the window.
        (
            vec![("e0", "srv-door", -12 * 60 - 30, "V2", In)],
            false,
            None,
        ),
    ];
    for (events, remote, want) in cases {
        let mut tl = Timeline::default();
        for (id, door, minutes, card, direction) in &events {
            tl.record_event(
                &inv,
                &entry(id, door, day + 10 * H + minutes * M, card, *direction),
            );
        }
        r.remote = remote;
        assert_eq!(supervised(&inv, &tl, &r), want, "{events:?}");
    }
}

#[test]
fn a_leavers_entry_starts_no_presence_for_supervision() {
    let inv = site();
    // n001's last day was 2026-12-31; work on 2027-01-05.
    let day = ts("2027-01-05T00:00:00+09:00").as_millis();
    let r = request("acme-1", "pacs", &["v002"], day + 10 * H, day + 13 * H);
    let mut tl = Timeline::default();
    tl.record_event(
        &inv,
        &entry("n1", "srv-door", day + 10 * H, "N1", Direction::In),
    );
    tl.record_event(
        &inv,
        &entry("e1", "srv-door", day + 11 * H, "V2", Direction::In),
    );
    assert_eq!(supervised(&inv, &tl, &r), Some(false));
}

// ---- findings ----------------------------------------------------------------------------

#[test]
fn findings_in_contract_order() {
    let settings = MaintenanceSettings::default();
    let end = 10 * H;
    let due = end + settings.report_due.as_millis();
    let none = Activity::default();
    let some = Activity {
        logins: 1,
        entries: 0,
    };
    let entered = Activity {
        logins: 0,
        entries: 2,
    };
    use RequestStatus::*;
    // (status, emergency, reported, activity, supervised, now, findings)
    type Case = (
        RequestStatus,
        bool,
        bool,
        Activity,
        Option<bool>,
        i64,
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (Approved, false, false, none, None, end - 1, &[]),
        (Approved, false, false, none, None, end, &["not_performed"]),
        (Approved, false, false, some, None, end, &[]),
        (Approved, false, false, entered, Some(true), end, &[]),
        (
            Approved,
            false,
            false,
            entered,
            Some(false),
            end - 1,
            &["unsupervised"],
        ),
        (Approved, false, false, some, None, due, &[]),
        (
            Approved,
            false,
            false,
            some,
            None,
            due + 1,
            &["report_overdue"],
        ),
        (Approved, false, true, some, None, due + 1, &[]),
        (
            Approved,
            false,
            false,
            none,
            None,
            due + 1,
            &["not_performed", "report_overdue"],
        ),
        (
            Approved,
            false,
            false,
            entered,
            Some(false),
            due + 1,
            &["unsupervised", "report_overdue"],
        ),
        // Denied and cancelled requests owe nothing.
        (Denied, false, false, none, None, due + 1, &[]),
        (Cancelled, false, false, none, None, due + 1, &[]),
        (Requested, false, false, none, None, due + 1, &[]),
        // An emergency request never approved.
        (Requested, true, false, some, None, due, &[]),
        (
            Requested,
            true,
            false,
            some,
            None,
            due + 1,
            &["report_overdue", "emergency_unapproved"],
        ),
        (
            Requested,
            true,
            true,
            some,
            None,
            due + 1,
            &["emergency_unapproved"],
        ),
        (Approved, true, true, some, None, due + 1, &[]),
        (
            Requested,
            true,
            false,
            entered,
            Some(false),
            due + 1,
            &["unsupervised", "report_overdue", "emergency_unapproved"],
        ),
    ];
    for (status, emergency, reported, activity, sup, now, want) in cases {
        let mut r = request("r", "pacs", &["v002"], 0, end);
        r.status = *status;
        r.emergency = *emergency;
        r.report = reported.then(|| report(false));
        let got = findings(&r, *activity, *sup, at(*now), &settings);
        let got: Vec<&str> = got.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            got, *want,
            "{status} emergency={emergency} {activity:?} {sup:?} at {now}"
        );
    }
}

// ---- properties ------------------------------------------------------------------------------

fn arb_request() -> impl Strategy<Value = Request> {
    (
        0u8..40,
        prop::sample::select(vec!["ehr", "pacs"]),
        prop::sample::subsequence(vec!["v001", "v002"], 1..=2),
        0i64..20,
        1i64..10,
        prop::sample::select(RequestStatus::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(n, system, people, start, len, status, emergency)| {
            let mut r = request(&format!("r{n}"), system, &people, start, start + len);
            r.status = status;
            r.emergency = emergency;
            r
        })
}

proptest! {
    /// Which request covers a login does not depend on the order the requests are
    /// listed in.
    #[test]
    fn coverage_ignores_the_order_of_requests(
        requests in prop::collection::vec(arb_request(), 0..8),
        seed in any::<u64>(),
        t in 0i64..30,
    ) {
        // Request ids are unique, as the store keeps them.
        let mut seen = std::collections::HashSet::new();
        let requests: Vec<Request> =
            requests.into_iter().filter(|r| seen.insert(r.id.clone())).collect();
        let mut shuffled = requests.clone();
        // A deterministic shuffle from the seed (Fisher–Yates with a small LCG).
        let mut x = seed;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = usize::try_from((x >> 33) % (i as u64 + 1)).unwrap();
            shuffled.swap(i, j);
        }
        let vendor = VendorId::parse("acme").unwrap();
        let person = PersonId::parse("v001").unwrap();
        let ehr = SystemId::parse("ehr").unwrap();
        for system in [Some(&ehr), None] {
            let a = covering(&requests, &vendor, &person, system, at(t));
            let b = covering(&shuffled, &vendor, &person, system, at(t));
            prop_assert_eq!(&a, &b);
            // And it is a request that fits, or none fits.
            let fits = |r: &Request| r.people.contains(&person)
                && system.is_none_or(|s| &r.system == s)
                && r.window_contains(at(t))
                && (r.status == RequestStatus::Approved
                    || (r.emergency && r.status == RequestStatus::Requested));
            match &a.request_id {
                Some(id) => {
                    let r = requests.iter().find(|r| &r.id == id).unwrap();
                    prop_assert!(fits(r));
                }
                None => prop_assert!(!requests.iter().any(fits)),
            }
        }
    }

    /// Supervision with random stays agrees with a minute-by-minute check: at every
    /// minute of the window, every room with a worker has a supervisor.
    #[test]
    fn supervision_agrees_with_a_minute_by_minute_check(
        workers in prop::collection::vec((0usize..2, 0i64..60, 0i64..30), 0..5),
        supervisors in prop::collection::vec((0usize..3, 0i64..60, 0i64..40), 0..6),
        start in 0i64..40,
        len in 1i64..40,
    ) {
        let rooms = ["srv", "office", "lobby"];
        let stays = |v: &[(usize, i64, i64)]| -> Vec<Stay> {
            v.iter().map(|&(r, from, len)| stay(rooms[r], from, from + len)).collect()
        };
        let (w, s) = (stays(&workers), stays(&supervisors));
        let inside = |list: &[Stay], room: &RoomId, m: i64| {
            list.iter().any(|x| &x.room == room && x.from.as_millis() <= m && m < x.to.as_millis())
        };
        let mut anyone = false;
        let mut ok = true;
        for m in start..start + len {
            for room in rooms.map(|r| RoomId::parse(r).unwrap()) {
                if inside(&w, &room, m) {
                    anyone = true;
                    ok &= inside(&s, &room, m);
                }
            }
        }
        let oracle = anyone.then_some(ok);
        prop_assert_eq!(supervision(at(start), at(start + len), &w, &s), oracle);
    }

    /// The timeline's presence intervals say the same as `covering_entries`: a time is
    /// inside one of a person's presences in a room exactly when some entry covers it.
    #[test]
    fn presence_intervals_agree_with_covering_entries(
        events in prop::collection::vec((0i64..40, 0usize..2, any::<bool>()), 0..10),
    ) {
        let inv = site();
        let mut tl = Timeline::default();
        let doors = ["srv-door", "office-door"];
        for (i, (t, door, out)) in events.iter().enumerate() {
            let direction = if *out { Direction::Out } else { Direction::In };
            tl.record_event(&inv, &entry(&format!("e{i}"), doors[*door], t * H, "V2", direction));
        }
        let person = PersonId::parse("v002").unwrap();
        let presence = tl.presence_of(&inv, &person);
        for room in inv.rooms() {
            for half_hours in 0..100 {
                let t = at(half_hours * H / 2);
                let covered = !tl.covering_entries(&person, room, t).is_empty();
                let inside = presence
                    .iter()
                    .any(|p| p.room == room.id && p.from <= t && t < p.to);
                prop_assert_eq!(covered, inside, "{} at {}", room.id, t);
            }
        }
    }
}
