//! Tests of scenario parsing, planning, the example files and the reporting logic
//! (against a tiny axum stub of `GET /api/v1/logins/{id}`).

use super::*;
use crate::hospital::generate;
use crate::mqtt_door::Profile;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const EXAMPLES: [(&str, &str); 6] = [
    ("ward.toml", include_str!("../../scenarios/ward.toml")),
    (
        "pharmacy.toml",
        include_str!("../../scenarios/pharmacy.toml"),
    ),
    (
        "radiology.toml",
        include_str!("../../scenarios/radiology.toml"),
    ),
    (
        "server-room.toml",
        include_str!("../../scenarios/server-room.toml"),
    ),
    ("vendors.toml", include_str!("../../scenarios/vendors.toml")),
    (
        "maintenance.toml",
        include_str!("../../scenarios/maintenance.toml"),
    ),
];

const SMALL: &str = r#"
name = "small"
start = "now-1h"

[[step]]
at = "0m"
badge = { door = "pharmacy-main", credential = "card:04A1B2C3", direction = "in" }

[[step]]
at = "5m"
login = { system = "pharmacy", account = "ph01", terminal = "pharmacy-pc01", factors = ["password"], id = "s-1" }
expect = { verdict = "combined_measures" }

[[step]]
at = "6m"
delay = "3s"
door = { door = "pharmacy-main", event = "tamper" }

[[step]]
at = "7m"
status = { door = "pharmacy-main", state = "offline" }

[[step]]
at = "8m"
login = { system = "pharmacy", account = "ph01", terminal = "pharmacy-pc01", factors = ["password"] }
expect = { verdict = "not_met", reasons = ["door_offline", "room_alarm"], reasons_include = ["room_alarm"] }
"#;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn a_scenario_parses_into_steps_with_lines() {
    let s = parse(SMALL).expect("parses");
    assert_eq!(s.name, "small");
    assert_eq!(s.site.as_str(), "tokyo-general");
    assert_eq!(s.start, Start::BeforeNow(TimeDelta::hours(1)));
    assert_eq!(
        s.steps.iter().map(|s| s.line).collect::<Vec<_>>(),
        vec![5, 9, 14, 19, 23]
    );
    assert_eq!(s.steps[1].at, TimeDelta::minutes(5));
    assert_eq!(s.steps[2].delay, Duration::from_secs(3));
    assert!(matches!(
        &s.steps[0].action,
        StepAction::Door { kind: DoorEventKind::AccessGranted, credential: Some(c), .. } if c.id == "04A1B2C3"
    ));
    assert_eq!(
        s.steps[4].expect,
        Some(Expect {
            verdict: VerdictKind::NotMet,
            reasons: Some(vec![Reason::DoorOffline, Reason::RoomAlarm]),
            reasons_include: vec![Reason::RoomAlarm],
            flags: None,
            maintenance: None,
        })
    );
}

#[test]
fn planning_orders_delayed_steps_last_and_makes_ids_unique_per_run() {
    let s = parse(SMALL).expect("parses");
    let p = plan(&s, now(), "r1").expect("plans");
    assert_eq!(
        crate::schedule::rfc3339(p.start),
        "2026-11-21T18:00:00+09:00"
    );
    let lines: Vec<usize> = p.sends.iter().map(|s| s.line).collect();
    assert_eq!(
        lines,
        vec![5, 9, 19, 23, 14],
        "the delayed tamper goes last"
    );
    assert_eq!(p.sends[4].after, Duration::from_secs(3));
    match &p.sends[0].action {
        SendAction::Hub(Action::Door(m)) => {
            assert_eq!(m.event_id, "sc-r1-1");
            assert_eq!(
                m.topic(&p.site),
                "monban/tokyo-general/door/pharmacy-main/event"
            );
            assert_eq!(m.payload()["credential"]["type"], "card");
            assert_eq!(m.payload()["ts"], "2026-11-21T18:00:00+09:00");
        }
        other => panic!("{other:?}"),
    }
    match &p.sends[2].action {
        SendAction::Hub(Action::Status(m)) => {
            assert_eq!(m.payload()["state"], "offline");
            assert_eq!(m.payload()["ts"], "2026-11-21T18:07:00+09:00");
        }
        other => panic!("{other:?}"),
    }
    match &p.sends[1].action {
        SendAction::Hub(Action::Login(m)) => {
            assert_eq!(m.event_id, "s-1-r1");
            assert_eq!(m.body()["ts"], "2026-11-21T18:05:00+09:00");
            assert_eq!(m.body()["outcome"], "success");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        p.checks
            .iter()
            .map(|c| c.event_id.as_str())
            .collect::<Vec<_>>(),
        vec!["s-1-r1", "l23-r1"]
    );
    let again = plan(&s, now(), "r2").expect("plans");
    assert_ne!(again.checks[0].event_id, p.checks[0].event_id);

    // A fixed start in the future of now is refused, with the step's line.
    let fixed = SMALL.replace("now-1h", "2026-11-21T18:58:00+09:00");
    let err = plan(&parse(&fixed).expect("parses"), now(), "r").expect_err("future");
    assert_eq!(err.line, Some(9), "{err}");
    assert!(err.message.contains("future"), "{err}");
}

#[test]
fn bad_files_name_the_line() {
    let cases: [(&str, &str, usize, &str); 9] = [
        ("name = \"x\"\n[[step]]\nat = 5\n", "", 3, "string"),
        (SMALL, "direction = \"in\"", 7, "unknown direction"),
        (SMALL, "\"card:04A1B2C3\"", 7, "credential type"),
        (SMALL, "factors = [\"password\"], id", 11, "unknown factor"),
        (SMALL, "event = \"tamper\"", 16, "unknown door event kind"),
        (SMALL, "state = \"offline\"", 21, "online"),
        (SMALL, "\"door_offline\", \"room_alarm\"", 25, "reason"),
        (SMALL, "at = \"7m\"", 20, "duration"),
        (SMALL, "verdict = \"combined_measures\"", 11, "verdict"),
    ];
    for (base, needle, line, words) in cases {
        let text = if needle.is_empty() {
            base.to_string()
        } else {
            let bad = match needle {
                "direction = \"in\"" => "direction = \"sideways\"",
                "\"card:04A1B2C3\"" => "\"key:04A1B2C3\"",
                "factors = [\"password\"], id" => "factors = [\"passwort\"], id",
                "event = \"tamper\"" => "event = \"explosion\"",
                "state = \"offline\"" => "state = \"gone\"",
                "\"door_offline\", \"room_alarm\"" => "\"door_offline\", \"bad_luck\"",
                "at = \"7m\"" => "at = \"7 minutes later\"",
                _ => "verdict = \"fine\"",
            };
            base.replacen(needle, bad, 1)
        };
        let err = parse(&text).expect_err(needle);
        // Semantic errors name the [[step]] line; TOML errors the offending line.
        assert!(
            err.line == Some(line) || err.line.is_some_and(|l| l + 2 >= line && l <= line),
            "{needle}: {err:?}"
        );
        assert!(
            err.message.to_lowercase().contains(words),
            "{needle}: {err}"
        );
    }

    let two = SMALL.replacen(
        "direction = \"in\" }",
        "direction = \"in\" }\nstatus = { door = \"x\", state = \"online\" }",
        1,
    );
    let err = parse(&two).expect_err("two actions");
    assert!(err.message.contains("exactly one"), "{err}");
    let typo = SMALL.replacen("delay = \"3s\"", "dealy = \"3s\"", 1);
    let err = parse(&typo).expect_err("unknown field");
    assert_eq!(err.line, Some(16), "{err}");
    assert!(err.message.contains("dealy"), "{err}");
    let expect_on_door = SMALL.replacen(
        "event = \"tamper\" }",
        "event = \"tamper\" }\nexpect = { verdict = \"not_met\" }",
        1,
    );
    assert!(parse(&expect_on_door)
        .expect_err("expect")
        .message
        .contains("login step"));
    let granted_as_door = SMALL.replacen("\"tamper\"", "\"access_granted\"", 1);
    assert!(parse(&granted_as_door)
        .expect_err("badge")
        .message
        .contains("badge"));
    let dup = SMALL.replacen(
        "factors = [\"password\"] }",
        "factors = [\"password\"], id = \"s-1\" }",
        1,
    );
    let err = parse(&dup).expect_err("duplicate id");
    assert!(err.message.contains("line 9"), "{err}");
    assert!(parse("name = \"x\"\n").is_err(), "no steps");
    let start = SMALL.replacen("now-1h", "yesterday", 1);
    assert_eq!(parse(&start).expect_err("start").line, Some(3));
}

#[test]
fn expectations_compare_verdicts_and_reasons() {
    let e = Expect {
        verdict: VerdictKind::NotMet,
        reasons: Some(vec![Reason::DoorOffline]),
        reasons_include: vec![],
        flags: None,
        maintenance: None,
    };
    assert!(e.is_met_by("not_met", &["door_offline"]));
    assert!(!e.is_met_by("not_met", &["door_offline", "no_presence"]));
    assert!(!e.is_met_by("combined_measures", &[] as &[&str]));
    let e = Expect {
        verdict: VerdictKind::NotMet,
        reasons: None,
        reasons_include: vec![Reason::NoPresence],
        flags: None,
        maintenance: None,
    };
    assert!(e.is_met_by("not_met", &["unmapped_account", "no_presence"]));
    assert!(!e.is_met_by("not_met", &["unmapped_account"]));
    assert_eq!(e.to_string(), "not_met incl. no_presence");
}

#[test]
fn the_example_scenarios_parse_and_name_what_the_seed_1_hospital_has() {
    let h = generate(1);
    for (file, text) in EXAMPLES {
        let s = parse(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let problems = check_references(&s, &h);
        assert!(problems.is_empty(), "{file}: {problems:#?}");
        let p = plan(&s, Utc::now(), "t").unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!p.checks.is_empty(), "{file} checks something");
    }
    // And the check does catch a wrong name.
    let bad = EXAMPLES[0].1.replacen("ward3-pc01", "ward3-pc99", 1);
    let problems = check_references(&parse(&bad).expect("parses"), &h);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("ward3-pc99"));
}

/// A stub hub: `GET /api/v1/logins/{id}` needs `Bearer read`; `late` answers
/// `not_met` twice and then `combined_measures`; `gone` is 404; others `not_met`
/// with `room_alarm`.
async fn stub_hub() -> (String, Arc<AtomicU64>) {
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    let polls = Arc::new(AtomicU64::new(0));
    let counter = polls.clone();
    let app = axum::Router::new().route(
        "/api/v1/logins/{id}",
        get(move |Path(id): Path<String>, headers: HeaderMap| {
            let counter = counter.clone();
            async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer read")
                {
                    return (StatusCode::UNAUTHORIZED, "{}".to_string());
                }
                let body = |verdict: &str, reasons: &[&str]| {
                    serde_json::json!({"event_id": id, "verdict": verdict, "reasons": reasons, "final": false})
                        .to_string()
                };
                match id.as_str() {
                    "late" => {
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        if n < 2 {
                            (StatusCode::OK, body("not_met", &["no_presence"]))
                        } else {
                            (StatusCode::OK, body("combined_measures", &[]))
                        }
                    }
                    "gone" => (
                        StatusCode::NOT_FOUND,
                        r#"{"error":{"code":"not_found","message":"no such login"}}"#.into(),
                    ),
                    _ => (StatusCode::OK, body("not_met", &["room_alarm"])),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), polls)
}

fn check(event_id: &str, expect: Expect) -> Check {
    Check {
        line: 7,
        name: event_id.into(),
        event_id: event_id.into(),
        note: None,
        expect,
    }
}

#[tokio::test]
async fn checks_poll_until_the_verdict_matches_and_report_the_hubs_answer() {
    let (base, polls) = stub_hub().await;
    let http = reqwest::Client::new();
    let combined = Expect {
        verdict: VerdictKind::CombinedMeasures,
        reasons: None,
        reasons_include: vec![],
        flags: None,
        maintenance: None,
    };
    let alarm = Expect {
        verdict: VerdictKind::NotMet,
        reasons: Some(vec![Reason::RoomAlarm]),
        reasons_include: vec![],
        flags: None,
        maintenance: None,
    };
    let d = Duration::from_secs(5);

    let late = check_one(&http, &base, "read", &check("late", combined.clone()), d).await;
    assert!(late.pass, "{late:?}");
    assert_eq!(late.hub, "combined_measures []");
    assert_eq!(polls.load(Ordering::SeqCst), 3, "polled until it changed");

    let ok = check_one(&http, &base, "read", &check("x", alarm.clone()), d).await;
    assert!(ok.pass);
    assert_eq!(ok.hub, "not_met [room_alarm]");

    let short = Duration::from_millis(300);
    let wrong = check_one(&http, &base, "read", &check("x", combined.clone()), short).await;
    assert!(!wrong.pass);
    assert_eq!(wrong.hub, "not_met [room_alarm]", "the hub's last answer");

    let gone = check_one(&http, &base, "read", &check("gone", alarm.clone()), short).await;
    assert!(!gone.pass);
    assert!(
        gone.hub.contains("404") && gone.hub.contains("no such login"),
        "{}",
        gone.hub
    );
    let unauthorized = check_one(&http, &base, "bad", &check("x", alarm), short).await;
    assert!(!unauthorized.pass && unauthorized.hub.contains("401"));

    let report = Report {
        name: "stub".into(),
        sent: 3,
        refused: vec![],
        results: vec![ok, wrong],
        request_results: vec![],
        mqtt_unacked: 0,
    };
    assert!(report.failed());
    let text = report.to_string();
    assert!(text.contains("PASS line 7"), "{text}");
    assert!(text.contains("FAIL line 7"), "{text}");
    assert!(text.contains("hub: not_met [room_alarm]"), "{text}");
    assert!(text.ends_with("1 of 2 checks passed — FAIL"), "{text}");
}

#[tokio::test]
async fn run_posts_logins_and_checks_them_without_mqtt() {
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    // A login-only scenario needs no broker.
    let app = axum::Router::new()
        .route(
            "/api/v1/logins",
            post(|| async { (StatusCode::ACCEPTED, "{}") }),
        )
        .route(
            "/api/v1/logins/{id}",
            get(|| async { r#"{"verdict":"direct_2fa","reasons":[]}"#.to_string() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let text = r#"
name = "logins only"
start = "now-10m"
[[step]]
at = "1m"
login = { system = "ehr", account = "nurse01", terminal = "ward3-pc01", factors = ["password", "totp"] }
expect = { verdict = "direct_2fa" }
[[step]]
at = "2m"
login = { system = "ehr", account = "nurse01", terminal = "ward3-pc01", factors = ["password"] }
expect = { verdict = "combined_measures" }
"#;
    let p = plan(&parse(text).expect("parses"), Utc::now(), "x").expect("plans");
    let mut opts = RunOptions {
        mqtt_host: "127.0.0.1".into(),
        mqtt_port: 1,
        client_id: "t".into(),
        hub_url: format!("http://{addr}"),
        login_tokens: BTreeMap::new(),
        vendor_tokens: BTreeMap::new(),
        read_token: Some("read".into()),
        deadline: Duration::from_millis(300),
    };
    let err = run(&p, &opts, CancellationToken::new())
        .await
        .expect_err("no token");
    assert!(format!("{err:#}").contains("--token ehr=TOKEN"), "{err:#}");
    opts.login_tokens.insert("ehr".into(), "t".into());
    let report = run(&p, &opts, CancellationToken::new())
        .await
        .expect("runs");
    assert_eq!(report.sent, 2);
    assert_eq!(
        report.results.iter().map(|r| r.pass).collect::<Vec<_>>(),
        vec![true, false]
    );
    assert!(report.failed());
}

const VENDOR: &str = r#"
name = "vendor doors"
realtime = true

[doors.ward3-main]
format = "esp-rfid"
topic = "esprfid-ward3"
hostname = "esp-rfid-ward3"

[doors.ward3-back]
format = "tasmota"
topic = "door-ward3-back"

[doors.radiology-back]
format = "uhppoted"
device_id = 405419896
door_number = 2

[doors.radiology-main]
format = "uhppoted"
device_id = 405419896
door_number = 1

[doors.pharmacy-main]
format = "native"

[[step]]
at = "0s"
badge = { door = "ward3-main", credential = "card:040026D8" }

[[step]]
at = "100ms"
door = { door = "ward3-back", event = "door_opened" }

[[step]]
at = "200ms"
door = { door = "radiology-back", event = "door_forced" }

[[step]]
at = "250ms"
door = { door = "radiology-main", event = "door_held_open" }

[[step]]
at = "300ms"
status = { door = "ward3-main", state = "offline" }

[[step]]
at = "400ms"
login = { system = "ehr", account = "nurse01", terminal = "ward3-pc01", factors = ["password"], id = "v-1" }
expect = { verdict = "not_met", reasons = ["door_offline"] }

[[step]]
at = "500ms"
status = { door = "ward3-main", state = "online" }

[[step]]
at = "600ms"
badge = { door = "pharmacy-main", credential = "biometric:P0017" }
"#;

#[test]
fn vendor_doors_parse_into_profiles() {
    let s = parse(VENDOR).expect("parses");
    assert!(s.realtime);
    assert_eq!(s.doors.len(), 5);
    let door = |d: &str| DoorId::parse(d.to_string()).expect("id");
    assert_eq!(
        s.doors[&door("ward3-main")].profile,
        Profile::EspRfid {
            topic: "esprfid-ward3".into(),
            hostname: "esp-rfid-ward3".into(),
            credential_type: monban_core::CredentialType::Card,
        }
    );
    assert_eq!(s.doors[&door("ward3-main")].line, 5);
    assert!(matches!(
        &s.doors[&door("radiology-back")].profile,
        Profile::Uhppoted { device_id: 405419896, door: 2, topic, .. } if topic == "uhppoted/gateway/events"
    ));
    assert_eq!(
        s.doors[&door("pharmacy-main")].profile,
        Profile::Native {
            site: SiteId::parse("tokyo-general".to_string()).expect("id"),
            door: door("pharmacy-main"),
        }
    );
    // Scenarios without [doors] are what they were.
    let small = parse(SMALL).expect("parses");
    assert!(small.doors.is_empty() && !small.realtime);
}

#[test]
fn vendor_steps_are_planned_in_the_devices_format_and_in_real_time() {
    let s = parse(VENDOR).expect("parses");
    let p = plan(&s, now(), "r1").expect("plans");
    assert!(p.realtime);
    assert_eq!(
        crate::schedule::rfc3339(p.start),
        "2026-11-21T19:00:00+09:00"
    );
    assert_eq!(
        p.doors.keys().map(|d| d.as_str()).collect::<Vec<_>>(),
        vec![
            "radiology-back",
            "radiology-main",
            "ward3-back",
            "ward3-main"
        ],
        "a native declaration is a plain §5 door"
    );
    let afters: Vec<u128> = p.sends.iter().map(|s| s.after.as_millis()).collect();
    assert_eq!(
        afters,
        vec![0, 100, 200, 250, 300, 400, 500, 600],
        "at is real time"
    );
    let vendor = |i: usize| match &p.sends[i].action {
        SendAction::Vendor { door, publications } => (door.to_string(), publications.clone()),
        other => panic!("{i}: {other:?}"),
    };
    let (door, pubs) = vendor(0);
    assert_eq!(door, "ward3-main");
    assert_eq!(pubs[0].topic, "esprfid-ward3/send");
    let access: serde_json::Value = serde_json::from_str(&pubs[0].payload).expect("json");
    assert_eq!(access["time"], now().timestamp(), "the step's time");
    assert_eq!(access["uid"], "040026d8");
    let (_, pubs) = vendor(1);
    assert_eq!(pubs[0].payload, r#"{"Switch1":{"Action":"ON"}}"#);
    // One controller numbers the events of both its doors; nothing is retained.
    let id = |i: usize| -> u64 {
        let (_, pubs) = vendor(i);
        assert!(!pubs[0].retain, "scenario events are not retained");
        let v: serde_json::Value = serde_json::from_str(&pubs[0].payload).expect("json");
        v["message"]["event"]["event-id"]
            .as_u64()
            .expect("event-id")
    };
    assert_eq!(id(3), id(2) + 1);
    assert_eq!(
        id(2),
        crate::mqtt_door::default_first_event_id(now()),
        "counts from the run's time"
    );
    assert_eq!(
        p.sends[4].action,
        SendAction::Connection {
            door: DoorId::parse("ward3-main".to_string()).expect("id"),
            online: false
        }
    );
    assert!(matches!(
        &p.sends[7].action,
        SendAction::Hub(Action::Door(m)) if m.door.as_str() == "pharmacy-main"
    ));
}

#[test]
fn vendor_doors_refuse_what_their_device_cannot_send() {
    let base = VENDOR;
    let cases: [(&str, &str, Option<usize>, &str); 8] = [
        (
            "format = \"tasmota\"",
            "format = \"zigbee\"",
            Some(10),
            "unknown format",
        ),
        (
            "topic = \"door-ward3-back\"",
            "switch = \"Switch2\"",
            Some(10),
            "needs its topic",
        ),
        (
            "hostname = \"esp-rfid-ward3\"",
            "hostname = \"esp-rfid-ward3\"\ndevice_id = 7",
            Some(5),
            "device_id does not apply",
        ),
        (
            "door_number = 1",
            "door_number = 2",
            Some(19),
            "already [doors.radiology-back]",
        ),
        (
            "badge = { door = \"ward3-main\", credential = \"card:040026D8\" }",
            "badge = { door = \"ward3-back\", credential = \"card:040026D8\" }",
            Some(27),
            "no reader",
        ),
        (
            "credential = \"card:040026D8\" }",
            "credential = \"card:040026D8\", direction = \"out\" }",
            Some(27),
            "no direction",
        ),
        (
            "status = { door = \"ward3-main\", state = \"offline\" }",
            "status = { door = \"radiology-back\", state = \"offline\" }",
            Some(43),
            "reports no door status",
        ),
        (
            "realtime = true",
            "realtime = true\nstart = \"now-2h\"",
            Some(4),
            "starts now",
        ),
    ];
    for (needle, replacement, line, words) in cases {
        assert!(base.contains(needle), "{needle}");
        let text = base.replacen(needle, replacement, 1);
        let err = parse(&text).expect_err(replacement);
        assert_eq!(err.line, line, "{replacement}: {err}");
        assert!(err.message.contains(words), "{replacement}: {err}");
    }
    // Arrival-time messages cannot go into the past…
    let past = base.replacen("realtime = true", "start = \"now-1h\"", 1);
    let err = parse(&past).expect_err("not realtime");
    assert_eq!(err.line, Some(31), "{err}");
    assert!(err.message.contains("realtime = true"), "{err}");
    // …nor be delayed; time-carrying vendor messages can be both.
    let delayed = base.replacen(
        "door = { door = \"ward3-back\", event = \"door_opened\" }",
        "door = { door = \"ward3-back\", event = \"door_opened\" }\ndelay = \"1s\"",
        1,
    );
    assert!(parse(&delayed)
        .expect_err("delayed contact")
        .message
        .contains("drop delay"));
    let only_timed: String = r#"
name = "timed vendor events"
start = "now-1h"
[doors.ward3-main]
format = "esp-rfid"
topic = "esprfid-ward3"
[doors.radiology-back]
format = "uhppoted"
device_id = 1
door_number = 1
[[step]]
at = "0m"
delay = "2s"
badge = { door = "ward3-main", credential = "card:040026D8" }
[[step]]
at = "1m"
door = { door = "radiology-back", event = "door_forced" }
"#
    .into();
    let s = parse(&only_timed).expect("time-carrying vendor events go into the past");
    let p = plan(&s, now(), "r").expect("plans");
    assert_eq!(
        p.sends[1].after,
        Duration::from_secs(2),
        "delayed, as before"
    );
    let warn = check_references(
        &parse(
            &base
                .replacen("[doors.ward3-back]", "[doors.ward3-side]", 1)
                .replacen("door = \"ward3-back\"", "door = \"ward3-side\"", 1),
        )
        .expect("parses"),
        &generate(1),
    );
    assert!(
        warn.iter()
            .any(|w| w.contains("line 10: no door ward3-side")),
        "{warn:?}"
    );
}

#[tokio::test]
async fn a_realtime_vendor_scenario_runs_its_devices_on_the_broker() {
    use crate::test_broker::{Seen, TestBroker};
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    let broker = TestBroker::start().await;
    let app = axum::Router::new()
        .route(
            "/api/v1/logins",
            post(|| async {
                (
                    StatusCode::ACCEPTED,
                    r#"{"verdict":"not_met","reasons":["door_offline"],"final":false}"#,
                )
            }),
        )
        .route(
            "/api/v1/logins/{id}",
            get(|| async { r#"{"verdict":"not_met","reasons":["door_offline"]}"#.to_string() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let s = parse(VENDOR).expect("parses");
    let p = plan(&s, Utc::now(), "rt").expect("plans");
    let opts = RunOptions {
        mqtt_host: "127.0.0.1".into(),
        mqtt_port: broker.addr.port(),
        client_id: "sc".into(),
        hub_url: format!("http://{addr}"),
        login_tokens: [("ehr".to_string(), "t".to_string())].into(),
        vendor_tokens: BTreeMap::new(),
        read_token: Some("read".into()),
        deadline: Duration::from_millis(500),
    };
    let started = tokio::time::Instant::now();
    let report = tokio::time::timeout(
        Duration::from_secs(20),
        run(&p, &opts, CancellationToken::new()),
    )
    .await
    .expect("ends")
    .expect("runs");
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "paced in real time"
    );
    assert!(!report.failed(), "{report}");
    broker.wait_closed().await;
    let seen = broker.seen();
    let connects: Vec<String> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Connect { client_id, .. } => Some(client_id.clone()),
            _ => None,
        })
        .collect();
    for c in [
        "sc-ward3-main",
        "sc-ward3-back",
        "sc-radiology-back",
        "sc-radiology-main",
        "sc",
    ] {
        assert!(connects.contains(&c.to_string()), "{c}: {connects:?}");
    }
    assert_eq!(
        connects.iter().filter(|c| *c == "sc-ward3-main").count(),
        2,
        "offline, then online again"
    );
    // The esp-rfid's connection was dropped once (its will), and every device left
    // cleanly at the end.
    let wills: Vec<&Seen> = seen
        .iter()
        .filter(|s| matches!(s, Seen::Will { .. }))
        .collect();
    assert_eq!(wills.len(), 1, "{seen:#?}");
    assert!(
        matches!(wills[0], Seen::Will { topic, payload, .. } if topic == "esprfid-ward3/avty" && payload == "offline")
    );
    assert_eq!(
        seen.iter()
            .filter(|s| matches!(s, Seen::Disconnect { .. }))
            .count(),
        5
    );
    let published = broker.published();
    let topics: Vec<&str> = published.iter().map(|(t, _)| t.as_str()).collect();
    for t in [
        "esprfid-ward3/send",
        "stat/door-ward3-back/RESULT",
        "uhppoted/gateway/events/live",
        "monban/tokyo-general/door/pharmacy-main/event",
    ] {
        assert!(topics.contains(&t), "{t}: {topics:?}");
    }
    assert_eq!(report.results.len(), 1);
}

const MAINTENANCE: &str = r#"
name = "maintenance"
start = "now-2h"

[[step]]
at = "0m"
login = { system = "ehr", account = "ms-maint02", terminal = "medisys-remote-02", factors = ["password", "totp"], id = "em-login" }
expect = { verdict = "direct_2fa", flags = ["maintenance_emergency_pending"], maintenance = "emergency_pending" }

[[step]]
at = "30m"
request = { vendor = "medisys", id = "em", system = "ehr", people = ["p0032"], work_plan = "WP-1", start = "10m", end = "1h", emergency = true }
expect = { status = "requested", findings = [] }

[[step]]
at = "40m"
report = { request = "em", summary = "done", recording = { sha256 = "ab", uri = "pam://x" } }

[[step]]
at = "50m"
login = { system = "ehr", account = "clerk04", terminal = "lobby-pc01", factors = ["password", "ic_card"], id = "leaver" }
expect = { verdict = "direct_2fa", flags = ["account_of_leaver"], maintenance = "none" }
"#;

#[test]
fn maintenance_steps_parse_and_plan() {
    let s = parse(MAINTENANCE).expect("parses");
    let StepAction::Request {
        vendor,
        id,
        start,
        end,
        remote,
        emergency,
        ..
    } = &s.steps[1].action
    else {
        panic!("{:?}", s.steps[1].action);
    };
    assert_eq!((vendor.as_str(), id.as_str()), ("medisys", "em"));
    assert_eq!(
        (*start, *end),
        (TimeDelta::minutes(10), TimeDelta::hours(1))
    );
    assert!(*remote && *emergency, "remote by default");
    assert_eq!(
        s.steps[1].expect_request,
        Some(RequestExpect {
            status: Some("requested".into()),
            findings: Some(vec![]),
            supervised: None,
        })
    );
    let e = s.steps[0].expect.clone().expect("login expect");
    assert_eq!(
        e.flags,
        Some(vec!["maintenance_emergency_pending".to_string()])
    );
    assert_eq!(e.maintenance.as_deref(), Some("emergency_pending"));
    assert!(e.flags_met_by(
        &["maintenance_emergency_pending".into()],
        Some("emergency_pending")
    ));
    assert!(!e.flags_met_by(&["maintenance_unapproved".into()], Some("unapproved")));
    let leaver = s.steps[3].expect.clone().expect("leaver expect");
    assert!(
        leaver.flags_met_by(&["account_of_leaver".into()], None),
        "none: no maintenance"
    );
    assert!(!leaver.flags_met_by(&["account_of_leaver".into()], Some("unapproved")));
    assert!(check_references(&s, &generate(1)).is_empty());

    let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00+09:00")
        .expect("time")
        .with_timezone(&Utc);
    let p = plan(&s, now, "r1").expect("plans");
    let maintenance: Vec<&MaintenanceMessage> = p
        .sends
        .iter()
        .filter_map(|s| match &s.action {
            SendAction::Hub(Action::Maintenance(m)) => Some(m.as_ref()),
            _ => None,
        })
        .collect();
    assert_eq!(maintenance.len(), 2);
    let MaintenanceKind::Request(body) = &maintenance[0].kind else {
        panic!("a request first");
    };
    assert_eq!(body.request_id, "em-r1");
    assert_eq!(body.people, vec!["p0032"]);
    assert_eq!(body.start, "2026-12-06T10:10:00+09:00");
    assert_eq!(body.end, "2026-12-06T11:00:00+09:00");
    assert!(body.emergency && body.vendor.is_none());
    assert_eq!(maintenance[1].request_id, "em-r1");
    assert_eq!(maintenance[1].vendor.as_str(), "medisys");
    assert!(
        matches!(&maintenance[1].kind, MaintenanceKind::Report { body, .. } if body.recording.as_ref().is_some_and(|r| r.uri == "pam://x"))
    );
    assert_eq!(p.request_checks.len(), 1);
    assert_eq!(p.request_checks[0].request_id, "em-r1");
    assert_eq!(p.checks.len(), 2);
}

#[test]
fn bad_maintenance_steps_name_the_line() {
    let err = |text: &str| parse(text).expect_err("refused").to_string();
    let head = "name = \"x\"\nstart = \"now-1h\"\n\n[[step]]\nat = \"0m\"\n";
    let e = err(&format!(
        "{head}report = {{ request = \"nope\", summary = \"s\" }}\n"
    ));
    assert!(
        e.contains("line 4") && e.contains("no earlier request step"),
        "{e}"
    );
    let e = err(&format!(
        "{head}request = {{ vendor = \"medisys\", id = \"a\", system = \"ehr\", people = [\"p0031\"], work_plan = \"WP-1\", start = \"1h\", end = \"1h\" }}\n"
    ));
    assert!(e.contains("before its end"), "{e}");
    let e = err(&format!(
        "{head}request = {{ vendor = \"medisys\", id = \"a\", system = \"ehr\", people = [], work_plan = \"WP-1\", start = \"0m\", end = \"1h\" }}\n"
    ));
    assert!(e.contains("at least one"), "{e}");
    let e = err(&format!(
        "{head}request = {{ vendor = \"medisys\", id = \"a\", system = \"ehr\", people = [\"p0031\"], work_plan = \"WP-1\", start = \"0m\", end = \"1h\" }}\nexpect = {{ verdict = \"direct_2fa\" }}\n"
    ));
    assert!(e.contains("status, findings and supervised only"), "{e}");
    let e = err(&format!(
        "{head}request = {{ vendor = \"medisys\", id = \"a\", system = \"ehr\", people = [\"p0031\"], work_plan = \"WP-1\", start = \"0m\", end = \"1h\" }}\nexpect = {{ findings = [\"late\"] }}\n"
    ));
    assert!(e.contains("finding \"late\""), "{e}");
    let e = err(&format!(
        "{head}login = {{ system = \"ehr\", account = \"a\", terminal = \"t\", factors = [\"password\"] }}\nexpect = {{ verdict = \"not_met\", status = \"approved\" }}\n"
    ));
    assert!(e.contains("request step"), "{e}");
    let e = err(&format!(
        "{head}login = {{ system = \"ehr\", account = \"a\", terminal = \"t\", factors = [\"password\"] }}\nexpect = {{ verdict = \"not_met\", flags = [\"leaver\"] }}\n"
    ));
    assert!(e.contains("flag \"leaver\""), "{e}");
    let e = err(&format!(
        "{head}login = {{ system = \"ehr\", account = \"a\", terminal = \"t\", factors = [\"password\"] }}\nexpect = {{ flags = [] }}\n"
    ));
    assert!(e.contains("needs a verdict"), "{e}");
    // The references: a vendor's system and staff.
    let s = parse(&format!(
        "{head}request = {{ vendor = \"medisys\", id = \"a\", system = \"pharmacy\", people = [\"p0029\"], work_plan = \"WP-1\", start = \"0m\", end = \"1h\" }}\n"
    ))
    .expect("parses");
    let problems = check_references(&s, &generate(1));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("does not maintain pharmacy"));
    assert!(problems[1].contains("p0029 is not staff of vendor medisys"));
}

/// A stub hub for maintenance steps: files and reports for `Bearer vendor`, answers
/// requests as `requested` and logins with the flags their names call for.
async fn maintenance_hub() -> String {
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    let vendor = |headers: &HeaderMap| {
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer vendor")
    };
    let app = axum::Router::new()
        .route(
            "/api/v1/maintenance",
            post(
                move |headers: HeaderMap, body: axum::Json<serde_json::Value>| async move {
                    if !vendor(&headers) {
                        return (StatusCode::UNAUTHORIZED, "{}".to_string());
                    }
                    (
                    StatusCode::CREATED,
                    serde_json::json!({"request_id": body["request_id"], "status": "requested"})
                        .to_string(),
                )
                },
            ),
        )
        .route(
            "/api/v1/maintenance/{id}/report",
            post(move |headers: HeaderMap| async move {
                if vendor(&headers) {
                    (StatusCode::CREATED, "{}".to_string())
                } else {
                    (StatusCode::UNAUTHORIZED, "{}".to_string())
                }
            }),
        )
        .route(
            "/api/v1/maintenance/{id}",
            get(|Path(id): Path<String>| async move {
                serde_json::json!({"request_id": id, "status": "requested", "findings": [],
                    "supervised": null, "report": {"at": "x", "confirmed_by": null}})
                .to_string()
            }),
        )
        .route(
            "/api/v1/logins",
            post(|body: axum::Json<serde_json::Value>| async move {
                (
                    StatusCode::ACCEPTED,
                    serde_json::json!({"event_id": body["event_id"], "verdict": "direct_2fa",
                        "reasons": [], "final": false, "flags": []})
                    .to_string(),
                )
            }),
        )
        .route(
            "/api/v1/logins/{id}",
            get(|Path(id): Path<String>| async move {
                let v = if id.starts_with("leaver") {
                    serde_json::json!({"verdict": "direct_2fa", "reasons": [],
                        "flags": ["account_of_leaver"]})
                } else {
                    serde_json::json!({"verdict": "direct_2fa", "reasons": [],
                        "flags": ["maintenance_emergency_pending"],
                        "maintenance": {"request_id": "em", "status": "emergency_pending"}})
                };
                v.to_string()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn run_files_requests_and_reports_and_checks_flags_and_findings() {
    let hub = maintenance_hub().await;
    let s = parse(MAINTENANCE).expect("parses");
    let p = plan(&s, Utc::now(), "r2").expect("plans");
    let mut opts = RunOptions {
        mqtt_host: "127.0.0.1".into(),
        mqtt_port: 1,
        client_id: "t".into(),
        hub_url: hub,
        login_tokens: [("ehr".to_string(), "t".to_string())].into(),
        vendor_tokens: BTreeMap::new(),
        read_token: Some("read".into()),
        deadline: Duration::from_millis(300),
    };
    let missing = run(&p, &opts, CancellationToken::new())
        .await
        .expect_err("no vendor token");
    assert!(
        format!("{missing:#}").contains("--vendor-token medisys=TOKEN"),
        "{missing:#}"
    );
    opts.vendor_tokens.insert("medisys".into(), "vendor".into());
    let report = run(&p, &opts, CancellationToken::new()).await.expect("ran");
    assert!(!report.failed(), "{report}");
    assert_eq!(report.sent, 4);
    assert_eq!(report.results.len(), 2);
    assert_eq!(report.request_results.len(), 1);
    let text = report.to_string();
    assert!(text.contains("3 of 3 checks passed — PASS"), "{text}");

    opts.vendor_tokens.insert("medisys".into(), "wrong".into());
    let report = run(&p, &opts, CancellationToken::new()).await.expect("ran");
    assert!(report.failed());
    assert_eq!(report.refused.len(), 2, "{report}");
    assert!(report.refused[0].1.contains("em-r2 — 401"), "{report}");
}
