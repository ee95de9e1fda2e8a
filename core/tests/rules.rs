#![allow(clippy::unwrap_used)]
//! Unit tests of every rule of CONTRACT §3 (verdicts, presence, integrity alarms, door
//! offline, late events and finality), against a small site built in code.
//!
//! Site: `ward` and `pharm` are controlled rooms, `lobby` is not. `ward` has two doors
//! (`ward-main`, `ward-back`). Person `p1` (accounts `ehr/nurse01`, `lab/n01`) holds one
//! credential of every type; `p2` (`ehr/nurse02`) holds a card. Times are milliseconds
//! after 2026-11-21T00:00:00Z.

use monban_core::event::{
    Direction, DoorEvent, DoorEventKind, DoorStatus, Login, Outcome, StatusChange,
};
use monban_core::timeline::{Outage, Timeline};
use monban_core::verdict::{evaluate, final_at};
use monban_core::{
    CredentialType, Door, DoorId, Engine, Inventory, Person, PersonId, Reason, Room, RoomId, Span,
    System, SystemCategory, SystemId, Terminal, TerminalId, Timestamp, Verdict, VerdictKind,
    VerdictUpdate,
};
use std::collections::BTreeMap;

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const MAX_PRESENCE: i64 = 12 * HOUR;
const ALARM_HOLD: i64 = 15 * MIN;
const GRACE: i64 = 60 * SEC;

// ---------------------------------------------------------------------------------------
// The site
// ---------------------------------------------------------------------------------------

fn base() -> i64 {
    Timestamp::parse_rfc3339("2026-11-21T00:00:00Z")
        .unwrap()
        .as_millis()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(base() + ms)
}

fn room(id: &str, controlled: bool) -> Room {
    Room {
        id: RoomId::parse(id).unwrap(),
        name: id.to_string(),
        controlled,
        max_presence: Span::from_millis(MAX_PRESENCE),
        alarm_hold: Span::from_millis(ALARM_HOLD),
    }
}

fn door(id: &str, room: &str) -> Door {
    Door::new(DoorId::parse(id).unwrap(), RoomId::parse(room).unwrap(), "")
}

fn terminal(id: &str, room: &str) -> Terminal {
    Terminal {
        id: TerminalId::parse(id).unwrap(),
        room: RoomId::parse(room).unwrap(),
        name: String::new(),
    }
}

fn system(id: &str) -> System {
    System {
        id: SystemId::parse(id).unwrap(),
        name: id.to_string(),
        category: SystemCategory::Ehr,
        native_mfa: false,
        renewal: None,
        plan: None,
        by: None,
    }
}

fn person(id: &str, credentials: &[&str], accounts: &[(&str, &str)]) -> Person {
    Person {
        id: PersonId::parse(id).unwrap(),
        name: id.to_string(),
        vendor: None,
        until: None,
        credentials: credentials.iter().map(|c| c.parse().unwrap()).collect(),
        accounts: accounts
            .iter()
            .map(|(s, a)| (SystemId::parse(*s).unwrap(), a.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn site_with(extra_accounts: &[(&str, &str)], extra_terminals: &[(&str, &str)]) -> Inventory {
    let mut p1_accounts = vec![("ehr", "nurse01"), ("lab", "n01")];
    p1_accounts.extend_from_slice(extra_accounts);
    let mut terminals = vec![
        terminal("ward-pc", "ward"),
        terminal("pharm-pc", "pharm"),
        terminal("lobby-pc", "lobby"),
    ];
    terminals.extend(extra_terminals.iter().map(|(t, r)| terminal(t, r)));
    let mut systems = vec![system("ehr"), system("lab")];
    for (s, _) in extra_accounts {
        if !systems.iter().any(|x| x.id.as_str() == *s) {
            systems.push(system(s));
        }
    }
    Inventory::new(
        None,
        vec![
            room("ward", true),
            room("pharm", true),
            room("lobby", false),
        ],
        vec![
            door("ward-main", "ward"),
            door("ward-back", "ward"),
            door("pharm-main", "pharm"),
            door("lobby-door", "lobby"),
        ],
        terminals,
        systems,
        vec![
            person(
                "p1",
                &[
                    "card:04A1B2C3",
                    "pin:1111",
                    "biometric:P0001",
                    "card_pin:CP01",
                    "mobile:M01",
                    "card_biometric:CB01",
                ],
                &p1_accounts,
            ),
            person("p2", &["card:C2"], &[("ehr", "nurse02")]),
        ],
    )
    .unwrap()
}

fn site() -> Inventory {
    site_with(&[], &[])
}

/// A credential of p1 by type.
fn p1(kind: &str) -> &'static str {
    match kind {
        "card" => "card:04A1B2C3",
        "pin" => "pin:1111",
        "biometric" => "biometric:P0001",
        "card_pin" => "card_pin:CP01",
        "mobile" => "mobile:M01",
        "card_biometric" => "card_biometric:CB01",
        other => panic!("no such credential type {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// Facts and logins
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Fact {
    Door(DoorEvent),
    Status(StatusChange),
    Outage(DoorId, Outage),
}

fn door_event(
    id: &str,
    door: &str,
    t: i64,
    kind: DoorEventKind,
    direction: Direction,
    cred: Option<&str>,
) -> Fact {
    Fact::Door(DoorEvent {
        door: DoorId::parse(door).unwrap(),
        event_id: id.to_string(),
        ts: at(t),
        kind,
        direction,
        credential: cred.map(|c| c.parse().unwrap()),
    })
}

fn entry(id: &str, door: &str, t: i64, cred: &str) -> Fact {
    door_event(
        id,
        door,
        t,
        DoorEventKind::AccessGranted,
        Direction::In,
        Some(cred),
    )
}

fn exit(id: &str, door: &str, t: i64, cred: &str) -> Fact {
    door_event(
        id,
        door,
        t,
        DoorEventKind::AccessGranted,
        Direction::Out,
        Some(cred),
    )
}

fn alarm(id: &str, door: &str, t: i64, kind: DoorEventKind) -> Fact {
    door_event(id, door, t, kind, Direction::In, None)
}

fn status(door: &str, t: i64, s: DoorStatus) -> Fact {
    Fact::Status(StatusChange {
        door: DoorId::parse(door).unwrap(),
        ts: at(t),
        status: s,
    })
}

fn offline(door: &str, t: i64) -> Fact {
    status(door, t, DoorStatus::Offline)
}

fn online(door: &str, t: i64) -> Fact {
    status(door, t, DoorStatus::Online)
}

fn login_full(
    id: &str,
    t: i64,
    sys: &str,
    account: &str,
    terminal: &str,
    factors: &[&str],
    outcome: Outcome,
) -> Login {
    Login {
        event_id: id.to_string(),
        ts: at(t),
        system: SystemId::parse(sys).unwrap(),
        account: account.to_string(),
        terminal: terminal.to_string(),
        factors: factors.iter().map(|f| f.parse().unwrap()).collect(),
        outcome,
    }
}

/// A successful `ehr` login.
fn login(t: i64, account: &str, terminal: &str, factors: &[&str]) -> Login {
    login_full(
        "l-1",
        t,
        "ehr",
        account,
        terminal,
        factors,
        Outcome::Success,
    )
}

/// nurse01 (p1) logs in to ward-pc with a password.
fn pw_ward(t: i64) -> Login {
    login(t, "nurse01", "ward-pc", &["password"])
}

fn timeline(inv: &Inventory, facts: &[Fact]) -> Timeline {
    let mut tl = Timeline::default();
    for f in facts {
        match f {
            Fact::Door(e) => {
                tl.record_event(inv, e);
            }
            Fact::Status(s) => {
                tl.record_status(inv, s);
            }
            Fact::Outage(d, o) => {
                tl.record_outage(inv, d, *o);
            }
        }
    }
    tl
}

fn judge(facts: &[Fact], login: &Login) -> Verdict {
    let inv = site();
    evaluate(&inv, &timeline(&inv, facts), login)
}

fn reasons(v: &Verdict) -> Vec<&'static str> {
    v.reasons.iter().map(|r| r.as_str()).collect()
}

#[track_caller]
fn assert_not_met(v: &Verdict, expected: &[&str]) {
    assert_eq!(v.kind, VerdictKind::NotMet, "{v:?}");
    assert_eq!(reasons(v), expected, "{v:?}");
    assert!(v.evidence.is_none(), "not_met carries no evidence: {v:?}");
}

#[track_caller]
fn assert_combined(v: &Verdict) {
    assert_eq!(v.kind, VerdictKind::CombinedMeasures, "{v:?}");
    assert!(v.reasons.is_empty(), "{v:?}");
    assert!(v.evidence.is_some(), "{v:?}");
}

/// p1 entered the ward with a card at 0.
fn card_entry() -> Fact {
    entry("d-in", "ward-main", 0, p1("card"))
}

// ---------------------------------------------------------------------------------------
// direct_2fa
// ---------------------------------------------------------------------------------------

#[test]
fn direct_2fa_needs_two_categories_in_the_login_alone() {
    let direct: &[&[&str]] = &[
        &["password", "totp"],
        &["webauthn_uv"],
        &["fingerprint", "pin"],
        &["pin", "smartcard"],
        &["face", "security_key"],
        &["vein", "password"],
        &["sms_otp", "biometric"],
        &["password", "push", "face"],
    ];
    for factors in direct {
        // No room, no person, no presence, alarms and offline doors do not matter.
        for (terminal, account) in [
            ("ward-pc", "nurse01"),
            ("nowhere-pc", "ghost"),
            ("lobby-pc", "nurse01"),
        ] {
            let facts = [
                offline("ward-main", 0),
                alarm("d-a", "ward-back", 0, DoorEventKind::Tamper),
                offline("lobby-door", 0),
            ];
            let v = judge(&facts, &login(MIN, account, terminal, factors));
            assert_eq!(
                v.kind,
                VerdictKind::Direct2fa,
                "{factors:?} on {terminal}: {v:?}"
            );
            assert!(v.reasons.is_empty() && v.evidence.is_none(), "{v:?}");
        }
    }
    let single: &[&[&str]] = &[
        &["password"],
        &["password", "pin"],
        &["totp", "smartcard"],
        &["webauthn"],
        &["fingerprint", "face"],
        &["ic_card", "hotp", "security_key"],
    ];
    for factors in single {
        let v = judge(&[], &login(MIN, "nurse01", "ward-pc", factors));
        assert_eq!(v.kind, VerdictKind::NotMet, "{factors:?}: {v:?}");
    }
}

// ---------------------------------------------------------------------------------------
// combined_measures and same_category: entry credential × login factor
// ---------------------------------------------------------------------------------------

#[test]
fn combined_measures_with_card_entry_and_password_carries_evidence() {
    let v = judge(&[card_entry()], &pw_ward(5 * MIN));
    assert_combined(&v);
    let e = v.evidence.unwrap();
    assert_eq!(e.entry_event_id, "d-in");
    assert_eq!(e.door.as_str(), "ward-main");
    assert_eq!(e.entered_at, at(0));
    assert_eq!(e.credential_type, CredentialType::Card);
    assert_eq!(e.person.as_str(), "p1");
    assert_eq!(e.room.as_str(), "ward");
    // The wire names of the evidence fields (CONTRACT §7).
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["entry_event_id"], "d-in");
    assert_eq!(json["door"], "ward-main");
    assert_eq!(json["entered_at"], "2026-11-21T00:00:00Z");
    assert_eq!(json["credential_type"], "card");
}

#[test]
fn entry_credential_times_login_factor() {
    // (entry credential type, login factors, expected: None = combined, Some(reason list))
    type Case = (
        &'static str,
        &'static [&'static str],
        Option<&'static [&'static str]>,
    );
    let cases: &[Case] = &[
        ("card", &["password"], None),
        ("card", &["pin"], None),
        ("card", &["fingerprint"], None),
        ("card", &["smartcard"], Some(&["same_category"])),
        ("card", &["totp"], Some(&["same_category"])),
        ("mobile", &["password"], None),
        ("mobile", &["push"], Some(&["same_category"])),
        ("card_pin", &["password"], None),
        ("card_pin", &["totp"], None),
        ("card_pin", &["face"], None),
        ("biometric", &["pin"], None),
        ("biometric", &["password"], None),
        ("biometric", &["ic_card"], None),
        ("biometric", &["face"], Some(&["same_category"])),
        ("card_biometric", &["password"], None),
        ("card_biometric", &["totp"], None),
        ("pin", &["password"], Some(&["same_category"])),
        ("pin", &["password", "pin"], Some(&["same_category"])),
        ("pin", &["totp"], None),
        ("pin", &["vein"], None),
    ];
    for (cred, factors, expected) in cases {
        let facts = [entry("d-in", "ward-main", 0, p1(cred))];
        let v = judge(&facts, &login(5 * MIN, "nurse01", "ward-pc", factors));
        match expected {
            None => {
                assert_combined(&v);
                assert_eq!(
                    v.evidence.unwrap().credential_type.as_str(),
                    *cred,
                    "{cred} + {factors:?}"
                );
            }
            Some(r) => assert_not_met(&v, r),
        }
    }
}

#[test]
fn same_category_examples_from_the_brief() {
    assert_not_met(
        &judge(&[entry("d", "ward-main", 0, p1("pin"))], &pw_ward(MIN)),
        &["same_category"],
    );
    let smartcard = login(MIN, "nurse01", "ward-pc", &["smartcard"]);
    assert_not_met(&judge(&[card_entry()], &smartcard), &["same_category"]);
}

#[test]
fn any_mapped_account_of_the_person_counts() {
    let v = judge(
        &[card_entry()],
        &login_full(
            "l",
            MIN,
            "lab",
            "n01",
            "ward-pc",
            &["password"],
            Outcome::Success,
        ),
    );
    assert_combined(&v);
    // The same account name on another system is not the same account.
    let v = judge(
        &[card_entry()],
        &login_full(
            "l",
            MIN,
            "lab",
            "nurse01",
            "ward-pc",
            &["password"],
            Outcome::Success,
        ),
    );
    assert_not_met(&v, &["unmapped_account"]);
}

#[test]
fn evidence_prefers_the_latest_covering_entry_that_completes_a_second_category() {
    // Card at 0, pin at 2m (no exit in between): both cover 5m. Only the card completes a
    // second category for a password login.
    let facts = [
        card_entry(),
        entry("d-pin", "ward-back", 2 * MIN, p1("pin")),
    ];
    let v = judge(&facts, &pw_ward(5 * MIN));
    assert_combined(&v);
    assert_eq!(v.evidence.unwrap().entry_event_id, "d-in");
    // For a totp login both complete one; the latest is shown.
    let v = judge(&facts, &login(5 * MIN, "nurse01", "ward-pc", &["totp"]));
    assert_eq!(v.evidence.unwrap().entry_event_id, "d-pin");
}

// ---------------------------------------------------------------------------------------
// Each reason alone
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_terminal_alone_skips_every_room_check() {
    // The person is present in the ward; the terminal is not in the inventory. No room
    // checks run, so neither no_presence nor anything else is added.
    let v = judge(
        &[card_entry()],
        &login(MIN, "nurse01", "ghost-pc", &["password"]),
    );
    assert_not_met(&v, &["unknown_terminal"]);
    let v = judge(&[], &login(MIN, "nurse01", "ghost-pc", &["password"]));
    assert_not_met(&v, &["unknown_terminal"]);
}

#[test]
fn uncontrolled_room_alone() {
    let facts = [entry("d", "lobby-door", 0, p1("card"))];
    let v = judge(&facts, &login(MIN, "nurse01", "lobby-pc", &["password"]));
    assert_not_met(&v, &["uncontrolled_room"]);
}

#[test]
fn unmapped_account_alone_skips_presence_checks() {
    let v = judge(
        &[card_entry()],
        &login(MIN, "ghost", "ward-pc", &["password"]),
    );
    assert_not_met(&v, &["unmapped_account"]);
    let v = judge(&[], &login(MIN, "ghost", "ward-pc", &["password"]));
    assert_not_met(&v, &["unmapped_account"]);
}

#[test]
fn door_offline_from_offline_until_online() {
    let base_facts = vec![card_entry(), offline("ward-back", MIN)];
    // Offline before the login, never back.
    assert_not_met(&judge(&base_facts, &pw_ward(5 * MIN)), &["door_offline"]);
    // Exactly at the offline time: offline.
    assert_not_met(&judge(&base_facts, &pw_ward(MIN)), &["door_offline"]);
    // Just before it: online.
    assert_combined(&judge(&base_facts, &pw_ward(MIN - 1)));

    let mut back = base_facts.clone();
    back.push(online("ward-back", 3 * MIN));
    // Online again before the login: no reason.
    assert_combined(&judge(&back, &pw_ward(5 * MIN)));
    // Exactly at the online time: online again.
    assert_combined(&judge(&back, &pw_ward(3 * MIN)));
    // Just before it: still offline.
    assert_not_met(&judge(&back, &pw_ward(3 * MIN - 1)), &["door_offline"]);
    // An online status before the offline one does not help.
    let mut before = base_facts.clone();
    before.push(online("ward-back", 30 * SEC));
    assert_not_met(&judge(&before, &pw_ward(5 * MIN)), &["door_offline"]);
}

#[test]
fn door_status_details() {
    // A door that never reported a status is online; so is one that only said online.
    assert_combined(&judge(&[card_entry()], &pw_ward(MIN)));
    assert_combined(&judge(
        &[card_entry(), online("ward-main", 0)],
        &pw_ward(MIN),
    ));
    // A door of another room does not matter.
    assert_combined(&judge(
        &[
            card_entry(),
            offline("pharm-main", 0),
            offline("lobby-door", 0),
        ],
        &pw_ward(MIN),
    ));
    // Offline and online at the same millisecond: offline wins (fail closed), in either
    // arrival order.
    for facts in [
        vec![
            card_entry(),
            offline("ward-main", MIN),
            online("ward-main", MIN),
        ],
        vec![
            card_entry(),
            online("ward-main", MIN),
            offline("ward-main", MIN),
        ],
    ] {
        assert_not_met(&judge(&facts, &pw_ward(MIN)), &["door_offline"]);
        assert_not_met(&judge(&facts, &pw_ward(2 * MIN)), &["door_offline"]);
        assert_combined(&judge(&facts, &pw_ward(MIN - 1)));
    }
    // Repeated offline statuses: still offline until the next online.
    let facts = [
        card_entry(),
        offline("ward-main", MIN),
        offline("ward-main", 2 * MIN),
        online("ward-main", 4 * MIN),
    ];
    assert_not_met(&judge(&facts, &pw_ward(3 * MIN)), &["door_offline"]);
    assert_combined(&judge(&facts, &pw_ward(4 * MIN)));
}

#[test]
fn an_outage_is_an_offline_period() {
    let o = Outage {
        from: at(MIN),
        to: at(3 * MIN),
    };
    let facts = [
        card_entry(),
        Fact::Outage(DoorId::parse("ward-main").unwrap(), o),
    ];
    assert_combined(&judge(&facts, &pw_ward(MIN - 1)));
    assert_not_met(&judge(&facts, &pw_ward(MIN)), &["door_offline"]);
    assert_not_met(&judge(&facts, &pw_ward(3 * MIN - 1)), &["door_offline"]);
    assert_combined(&judge(&facts, &pw_ward(3 * MIN)));
}

#[test]
fn room_alarm_window_for_each_alarm_kind() {
    let a = 10 * MIN;
    for kind in [
        DoorEventKind::DoorForced,
        DoorEventKind::DoorHeldOpen,
        DoorEventKind::Tamper,
    ] {
        let facts = [card_entry(), alarm("d-alarm", "ward-back", a, kind)];
        let cases = [
            (a - 1, false),
            (a, true),
            (a + 1, true),
            (a + ALARM_HOLD - 1, true),
            (a + ALARM_HOLD, false),
        ];
        for (t, alarmed) in cases {
            let v = judge(&facts, &pw_ward(t));
            if alarmed {
                assert_not_met(&v, &["room_alarm"]);
            } else {
                assert_combined(&v);
            }
        }
    }
}

#[test]
fn room_alarm_details() {
    // door_opened, door_closed and access_denied are not alarms.
    for kind in [
        DoorEventKind::DoorOpened,
        DoorEventKind::DoorClosed,
        DoorEventKind::AccessDenied,
    ] {
        assert_combined(&judge(
            &[card_entry(), alarm("d-x", "ward-main", MIN, kind)],
            &pw_ward(2 * MIN),
        ));
    }
    // An alarm in another room does not void credit in this one.
    let facts = [
        card_entry(),
        alarm("d-x", "pharm-main", MIN, DoorEventKind::DoorForced),
    ];
    assert_combined(&judge(&facts, &pw_ward(2 * MIN)));
    // A later alarm extends the window.
    let facts = [
        card_entry(),
        alarm("d-x", "ward-main", MIN, DoorEventKind::Tamper),
        alarm("d-y", "ward-back", 10 * MIN, DoorEventKind::DoorHeldOpen),
    ];
    assert_not_met(&judge(&facts, &pw_ward(MIN + ALARM_HOLD)), &["room_alarm"]);
    assert_combined(&judge(&facts, &pw_ward(10 * MIN + ALARM_HOLD)));
    // An alarm on a door the inventory does not know is no door of the room.
    let facts = [
        card_entry(),
        alarm("d-x", "ghost-door", MIN, DoorEventKind::Tamper),
    ];
    assert_combined(&judge(&facts, &pw_ward(2 * MIN)));
}

#[test]
fn no_presence_cases() {
    let t = 5 * MIN;
    // No entry at all.
    assert_not_met(&judge(&[], &pw_ward(t)), &["no_presence"]);
    // Entry after the login.
    assert_not_met(
        &judge(&[entry("d", "ward-main", t + 1, p1("card"))], &pw_ward(t)),
        &["no_presence"],
    );
    // Entry at exactly the login time covers it (start <= T).
    assert_combined(&judge(
        &[entry("d", "ward-main", t, p1("card"))],
        &pw_ward(t),
    ));
    // Exit before the login, through either door of the room.
    for d in ["ward-main", "ward-back"] {
        let facts = [card_entry(), exit("d-out", d, 2 * MIN, p1("card"))];
        assert_not_met(&judge(&facts, &pw_ward(t)), &["no_presence"]);
    }
    // Exit exactly at the login time ends presence (T < end).
    assert_not_met(
        &judge(
            &[card_entry(), exit("d-out", "ward-main", t, p1("card"))],
            &pw_ward(t),
        ),
        &["no_presence"],
    );
    // Exit after the login does not matter.
    assert_combined(&judge(
        &[card_entry(), exit("d-out", "ward-main", t + 1, p1("card"))],
        &pw_ward(t),
    ));
    // The exit may use another credential of the same person.
    assert_not_met(
        &judge(
            &[
                card_entry(),
                exit("d-out", "ward-main", MIN, p1("biometric")),
            ],
            &pw_ward(t),
        ),
        &["no_presence"],
    );
    // Entry into another room before the login ends presence (nobody is in two rooms) —
    // an uncontrolled room too.
    for d in ["pharm-main", "lobby-door"] {
        let facts = [card_entry(), entry("d-2", d, 2 * MIN, p1("card"))];
        assert_not_met(&judge(&facts, &pw_ward(t)), &["no_presence"]);
    }
    // ... and the person is then present in the other room.
    let facts = [
        card_entry(),
        entry("d-2", "pharm-main", 2 * MIN, p1("card")),
    ];
    assert_combined(&judge(
        &facts,
        &login(t, "nurse01", "pharm-pc", &["password"]),
    ));
    assert_not_met(
        &judge(
            &[card_entry()],
            &login(t, "nurse01", "pharm-pc", &["password"]),
        ),
        &["no_presence"],
    );
    // max_presence: t + max_presence is not covered, t + max_presence - 1ms is.
    assert_combined(&judge(&[card_entry()], &pw_ward(MAX_PRESENCE - 1)));
    assert_not_met(
        &judge(&[card_entry()], &pw_ward(MAX_PRESENCE)),
        &["no_presence"],
    );
}

#[test]
fn what_does_not_end_presence() {
    let t = 5 * MIN;
    let cases: Vec<(&str, Fact)> = vec![
        (
            "out on a door of another room",
            exit("d-x", "pharm-main", 2 * MIN, p1("card")),
        ),
        (
            "out by another person",
            exit("d-x", "ward-main", 2 * MIN, "card:C2"),
        ),
        (
            "in by another person elsewhere",
            entry("d-x", "pharm-main", 2 * MIN, "card:C2"),
        ),
        (
            "out with an unknown credential",
            exit("d-x", "ward-main", 2 * MIN, "card:FFFF"),
        ),
        (
            "a re-entry into the same room",
            entry("d-x", "ward-back", 2 * MIN, p1("card")),
        ),
        (
            "in on a door the inventory does not know",
            entry("d-x", "ghost-door", 2 * MIN, p1("card")),
        ),
        (
            "denied exit",
            door_event(
                "d-x",
                "ward-main",
                2 * MIN,
                DoorEventKind::AccessDenied,
                Direction::Out,
                Some(p1("card")),
            ),
        ),
        (
            "denied entry elsewhere",
            door_event(
                "d-x",
                "pharm-main",
                2 * MIN,
                DoorEventKind::AccessDenied,
                Direction::In,
                Some(p1("card")),
            ),
        ),
        // Enders must be strictly later than the entry.
        (
            "out at the same millisecond as the entry",
            exit("d-x", "ward-main", 0, p1("card")),
        ),
        (
            "in elsewhere at the same millisecond",
            entry("d-x", "pharm-main", 0, p1("card")),
        ),
    ];
    for (what, fact) in cases {
        let v = judge(&[card_entry(), fact], &pw_ward(t));
        assert_eq!(v.kind, VerdictKind::CombinedMeasures, "{what}: {v:?}");
    }
}

#[test]
fn re_entry_after_exit_starts_a_new_presence() {
    let facts = [
        card_entry(),
        exit("d-out", "ward-main", MIN, p1("card")),
        entry("d-again", "ward-back", 3 * MIN, p1("biometric")),
    ];
    assert_not_met(&judge(&facts, &pw_ward(2 * MIN)), &["no_presence"]);
    let v = judge(&facts, &pw_ward(4 * MIN));
    assert_combined(&v);
    let e = v.evidence.unwrap();
    assert_eq!(
        (e.entry_event_id.as_str(), e.credential_type),
        ("d-again", CredentialType::Biometric)
    );
    // max_presence counts from the new entry.
    assert_combined(&judge(&facts, &pw_ward(3 * MIN + MAX_PRESENCE - 1)));
    assert_not_met(
        &judge(&facts, &pw_ward(3 * MIN + MAX_PRESENCE)),
        &["no_presence"],
    );
}

#[test]
fn access_denied_and_unknown_credentials_give_no_presence() {
    let denied = door_event(
        "d",
        "ward-main",
        0,
        DoorEventKind::AccessDenied,
        Direction::In,
        Some(p1("card")),
    );
    assert_not_met(&judge(&[denied], &pw_ward(MIN)), &["no_presence"]);
    assert_not_met(
        &judge(
            &[entry("d", "ward-main", 0, "card:DEADBEEF")],
            &pw_ward(MIN),
        ),
        &["no_presence"],
    );
    // Known id, wrong type: a different credential.
    assert_not_met(
        &judge(
            &[entry("d", "ward-main", 0, "mobile:04A1B2C3")],
            &pw_ward(MIN),
        ),
        &["no_presence"],
    );
    // access_granted without a credential names nobody.
    let anon = door_event(
        "d",
        "ward-main",
        0,
        DoorEventKind::AccessGranted,
        Direction::In,
        None,
    );
    assert_not_met(&judge(&[anon], &pw_ward(MIN)), &["no_presence"]);
    // Another person's entry does not put p1 in the room.
    assert_not_met(
        &judge(&[entry("d", "ward-main", 0, "card:C2")], &pw_ward(MIN)),
        &["no_presence"],
    );
    // An `out` is not an entry.
    assert_not_met(
        &judge(&[exit("d", "ward-main", 0, p1("card"))], &pw_ward(MIN)),
        &["no_presence"],
    );
}

#[test]
fn credential_ids_match_without_regard_to_case() {
    assert_combined(&judge(
        &[entry("d", "ward-main", 0, "card:04a1b2c3")],
        &pw_ward(MIN),
    ));
}

// ---------------------------------------------------------------------------------------
// Several reasons, failures, time zones
// ---------------------------------------------------------------------------------------

#[test]
fn several_reasons_in_contract_order() {
    let t = 5 * MIN;
    let ward_trouble = || {
        vec![
            offline("ward-main", MIN),
            alarm("d-a", "ward-back", 2 * MIN, DoorEventKind::DoorForced),
        ]
    };
    // offline + alarm + no presence
    assert_not_met(
        &judge(&ward_trouble(), &pw_ward(t)),
        &["door_offline", "room_alarm", "no_presence"],
    );
    // offline + alarm + same category
    let mut facts = ward_trouble();
    facts.push(entry("d-pin", "ward-main", 0, p1("pin")));
    assert_not_met(
        &judge(&facts, &pw_ward(t)),
        &["door_offline", "room_alarm", "same_category"],
    );
    // unmapped account in a troubled ward: no presence checks.
    assert_not_met(
        &judge(
            &ward_trouble(),
            &login(t, "ghost", "ward-pc", &["password"]),
        ),
        &["unmapped_account", "door_offline", "room_alarm"],
    );
    // uncontrolled room, unmapped, offline, alarm.
    let lobby = [
        offline("lobby-door", MIN),
        alarm("d-a", "lobby-door", 2 * MIN, DoorEventKind::Tamper),
    ];
    assert_not_met(
        &judge(&lobby, &login(t, "ghost", "lobby-pc", &["password"])),
        &[
            "uncontrolled_room",
            "unmapped_account",
            "door_offline",
            "room_alarm",
        ],
    );
    // uncontrolled room, mapped, everything else failing.
    let mut lobby_pin = lobby.to_vec();
    lobby_pin.push(entry("d-pin", "lobby-door", 0, p1("pin")));
    assert_not_met(
        &judge(&lobby_pin, &login(t, "nurse01", "lobby-pc", &["password"])),
        &[
            "uncontrolled_room",
            "door_offline",
            "room_alarm",
            "same_category",
        ],
    );
    assert_not_met(
        &judge(&lobby, &login(t, "nurse01", "lobby-pc", &["password"])),
        &[
            "uncontrolled_room",
            "door_offline",
            "room_alarm",
            "no_presence",
        ],
    );
    // unknown terminal and unmapped account.
    assert_not_met(
        &judge(&ward_trouble(), &login(t, "ghost", "ghost-pc", &["pin"])),
        &["unknown_terminal", "unmapped_account"],
    );
    // The enum's order is the contract's order.
    let mut sorted = Reason::ALL.to_vec();
    sorted.sort();
    assert_eq!(sorted, Reason::ALL.to_vec());
    assert_eq!(
        Reason::ALL.map(|r| r.as_str()),
        [
            "unknown_terminal",
            "uncontrolled_room",
            "unmapped_account",
            "door_offline",
            "room_alarm",
            "no_presence",
            "same_category"
        ]
    );
}

#[test]
fn a_failed_login_is_not_applicable() {
    for factors in [
        &["password"][..],
        &["password", "totp"][..],
        &["webauthn_uv"][..],
    ] {
        for (account, terminal) in [("nurse01", "ward-pc"), ("ghost", "ghost-pc")] {
            let l = login_full(
                "l",
                5 * MIN,
                "ehr",
                account,
                terminal,
                factors,
                Outcome::Failure,
            );
            let v = judge(&[card_entry()], &l);
            assert_eq!(
                v,
                Verdict {
                    kind: VerdictKind::NotApplicable,
                    reasons: vec![],
                    evidence: None
                }
            );
        }
    }
}

#[test]
fn mixed_timezone_offsets_are_the_same_instant() {
    let inv = site();
    let ev = |json: &str| DoorEvent::from_json(json.as_bytes(), None).unwrap();
    let lg = |ts: &str| {
        Login::from_json(
            format!(
                r#"{{"event_id":"l-1","ts":"{ts}","system":"ehr","account":"nurse01","terminal":"ward-pc","factors":["password"],"outcome":"success"}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    };
    let mut tl = Timeline::default();
    // Entry at 09:00 JST = 00:00Z.
    tl.record_event(
        &inv,
        &ev(r#"{"door":"ward-main","event_id":"d-1","ts":"2026-11-21T09:00:00+09:00","kind":"access_granted","credential":{"type":"card","id":"04A1B2C3"}}"#),
    );
    // Same instant written in UTC and New York time.
    for ts in [
        "2026-11-21T00:00:00Z",
        "2026-11-20T19:00:00-05:00",
        "2026-11-21T09:00:00+09:00",
    ] {
        let v = evaluate(&inv, &tl, &lg(ts));
        assert_combined(&v);
        assert_eq!(v.evidence.unwrap().entered_at, at(0));
    }
    // One millisecond before the entry, in another offset.
    assert_not_met(
        &evaluate(&inv, &tl, &lg("2026-11-20T23:59:59.999Z")),
        &["no_presence"],
    );
    assert_not_met(
        &evaluate(&inv, &tl, &lg("2026-11-21T05:29:59.999+05:30")),
        &["no_presence"],
    );
    // Exit at 00:03Z written with -05:00; login at 09:02 JST is before it, 09:03 JST is not.
    tl.record_event(
        &inv,
        &ev(r#"{"door":"ward-back","event_id":"d-2","ts":"2026-11-20T19:03:00-05:00","kind":"access_granted","direction":"out","credential":{"type":"pin","id":"1111"}}"#),
    );
    assert_combined(&evaluate(&inv, &tl, &lg("2026-11-21T09:02:59.999+09:00")));
    assert_not_met(
        &evaluate(&inv, &tl, &lg("2026-11-21T09:03:00+09:00")),
        &["no_presence"],
    );
    // An alarm written in JST voids a UTC login in its window.
    let mut tl = Timeline::default();
    tl.record_event(
        &inv,
        &ev(r#"{"door":"ward-main","event_id":"d-1","ts":"2026-11-21T00:00:00Z","kind":"access_granted","credential":{"type":"card","id":"04A1B2C3"}}"#),
    );
    tl.record_event(&inv, &ev(r#"{"door":"ward-main","event_id":"d-3","ts":"2026-11-21T09:10:00+09:00","kind":"tamper"}"#));
    assert_combined(&evaluate(&inv, &tl, &lg("2026-11-21T00:09:59.999Z")));
    assert_not_met(
        &evaluate(&inv, &tl, &lg("2026-11-21T00:10:00Z")),
        &["room_alarm"],
    );
    assert_not_met(
        &evaluate(&inv, &tl, &lg("2026-11-21T00:24:59.999Z")),
        &["room_alarm"],
    );
    assert_combined(&evaluate(&inv, &tl, &lg("2026-11-21T00:25:00Z")));
}

// ---------------------------------------------------------------------------------------
// Engine: late events, grace, finality
// ---------------------------------------------------------------------------------------

/// Arrival times are unrelated to event times: logins are received at R.
const R: i64 = 10 * MIN;

fn engine() -> Engine {
    Engine::new(site(), Span::from_millis(GRACE))
}

fn feed(engine: &mut Engine, fact: &Fact, now: i64) -> Vec<VerdictUpdate> {
    match fact {
        Fact::Door(e) => engine.record_door_event(e, at(now)),
        Fact::Status(s) => engine.record_status(s, at(now)),
        Fact::Outage(d, o) => engine.record_outage(d, *o, at(now)),
    }
}

fn event_of(f: Fact) -> DoorEvent {
    match f {
        Fact::Door(e) => e,
        other => panic!("{other:?} is not a door event"),
    }
}

#[test]
fn late_entry_inside_grace_flips_not_met_to_combined() {
    let mut e = engine();
    let (v, is_final) = e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    assert!(!is_final);
    assert_not_met(&v, &["no_presence"]);
    assert_eq!(e.pending_count(), 1);
    // The entry (event time 0) arrives 30 s after the login was received.
    let updates = e.record_door_event(&event_of(card_entry()), at(R + 30 * SEC));
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].event_id, "l-1");
    assert!(!updates[0].is_final);
    assert_combined(&updates[0].verdict);
    assert_eq!(
        updates[0].verdict.evidence.as_ref().unwrap().entry_event_id,
        "d-in"
    );
    // Not final before the deadline, final at it.
    assert!(e.finalize_due(at(R + GRACE - 1)).is_empty());
    let done = e.finalize_due(at(R + GRACE));
    assert_eq!(done.len(), 1);
    assert!(done[0].is_final);
    assert_combined(&done[0].verdict);
    assert_eq!(e.pending_count(), 0);
    assert!(e.finalize_due(at(R + 10 * GRACE)).is_empty());
}

#[test]
fn late_entry_one_millisecond_before_the_deadline_still_counts() {
    let mut e = engine();
    e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    let updates = e.record_door_event(&event_of(card_entry()), at(R + GRACE - 1));
    assert_eq!(updates.len(), 1);
    assert_combined(&updates[0].verdict);
}

#[test]
fn a_door_event_after_the_deadline_changes_nothing() {
    // (a) the deadline passes, the caller finalises, then the event arrives.
    let mut e = engine();
    e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    let done = e.finalize_due(at(R + GRACE));
    assert_eq!(done.len(), 1);
    assert!(done[0].is_final);
    assert_not_met(&done[0].verdict, &["no_presence"]);
    assert!(e
        .record_door_event(&event_of(card_entry()), at(R + GRACE + 1))
        .is_empty());
    assert_eq!(e.pending_count(), 0);

    // (b) no explicit finalisation: the late event's call finalises first, at the deadline
    // exactly and after it.
    for now in [R + GRACE, R + GRACE + 1, R + 100 * GRACE] {
        let mut e = engine();
        e.submit_login(pw_ward(5 * MIN), at(R), at(R));
        let updates = e.record_door_event(&event_of(card_entry()), at(now));
        assert_eq!(updates.len(), 1, "{updates:?}");
        assert!(updates[0].is_final);
        assert_not_met(&updates[0].verdict, &["no_presence"]);
        assert!(e.finalize_due(at(now + GRACE)).is_empty());
        // The event is still in the timeline for later logins.
        let (v, _) = e.submit_login(
            login_full(
                "l-2",
                6 * MIN,
                "ehr",
                "nurse01",
                "ward-pc",
                &["password"],
                Outcome::Success,
            ),
            at(now),
            at(now),
        );
        assert_combined(&v);
    }
}

#[test]
fn late_alarm_inside_grace_flips_combined_to_not_met() {
    let mut e = engine();
    assert!(e
        .record_door_event(&event_of(card_entry()), at(R - MIN))
        .is_empty());
    let (v, _) = e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    assert_combined(&v);
    let late = event_of(alarm(
        "d-alarm",
        "ward-back",
        4 * MIN,
        DoorEventKind::DoorForced,
    ));
    let updates = e.record_door_event(&late, at(R + 10 * SEC));
    assert_eq!(updates.len(), 1);
    assert!(!updates[0].is_final);
    assert_not_met(&updates[0].verdict, &["room_alarm"]);
    let done = e.finalize_due(at(R + GRACE));
    assert_not_met(&done[0].verdict, &["room_alarm"]);
    assert!(done[0].is_final);
}

#[test]
fn late_status_and_outage_inside_grace() {
    let mut e = engine();
    e.record_door_event(&event_of(card_entry()), at(R - MIN));
    e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    let u = feed(&mut e, &offline("ward-main", 4 * MIN), R + SEC);
    assert_not_met(&u[0].verdict, &["door_offline"]);
    // The door was back before the login: combined again.
    let u = feed(
        &mut e,
        &online("ward-main", 4 * MIN + 30 * SEC),
        R + 2 * SEC,
    );
    assert_combined(&u[0].verdict);
    // A Modbus overrun gap covering the login time.
    let o = Fact::Outage(
        DoorId::parse("ward-back").unwrap(),
        Outage {
            from: at(4 * MIN),
            to: at(6 * MIN),
        },
    );
    let u = feed(&mut e, &o, R + 3 * SEC);
    assert_not_met(&u[0].verdict, &["door_offline"]);
}

#[test]
fn events_that_do_not_change_a_verdict_produce_no_update() {
    let mut e = engine();
    e.record_door_event(&event_of(card_entry()), at(R - MIN));
    e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    let quiet = [
        alarm("d-x1", "pharm-main", 4 * MIN, DoorEventKind::Tamper),
        offline("pharm-main", 4 * MIN),
        entry("d-x2", "ward-back", MIN, p1("pin")), // a second covering entry: same verdict, same evidence
        entry("d-x3", "ward-main", 0, "card:C2"),
        alarm("d-x4", "ward-main", 4 * MIN, DoorEventKind::DoorOpened),
        card_entry(), // a duplicate
    ];
    for (i, f) in quiet.iter().enumerate() {
        assert!(feed(&mut e, f, R + i as i64).is_empty(), "{f:?}");
    }
    assert_eq!(e.pending_count(), 1);
}

#[test]
fn next_deadline_follows_the_pending_logins() {
    let mut e = engine();
    assert_eq!(e.next_deadline(), None);
    e.submit_login(
        login_full(
            "a",
            0,
            "ehr",
            "nurse01",
            "ward-pc",
            &["password"],
            Outcome::Success,
        ),
        at(R),
        at(R),
    );
    e.submit_login(
        login_full(
            "b",
            0,
            "ehr",
            "nurse01",
            "ward-pc",
            &["password"],
            Outcome::Success,
        ),
        at(R + 5 * SEC),
        at(R + 5 * SEC),
    );
    assert_eq!(e.next_deadline(), Some(at(R + GRACE)));
    assert_eq!(final_at(at(R), Span::from_millis(GRACE)), at(R + GRACE));
    let done = e.finalize_due(at(R + GRACE));
    assert_eq!(
        done.iter().map(|u| u.event_id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(e.next_deadline(), Some(at(R + 5 * SEC + GRACE)));
    e.finalize_due(at(R + 5 * SEC + GRACE));
    assert_eq!(e.next_deadline(), None);
}

#[test]
fn a_login_received_after_its_grace_is_final_at_once() {
    let mut e = engine();
    // Restored after a restart: received long ago.
    let (v, is_final) = e.submit_login(pw_ward(5 * MIN), at(R), at(R + GRACE));
    assert!(is_final);
    assert_not_met(&v, &["no_presence"]);
    assert_eq!(e.pending_count(), 0);
    assert_eq!(e.next_deadline(), None);
    // Received inside grace at restore time: pending until received + grace.
    let (_, is_final) = e.submit_login(pw_ward(5 * MIN), at(R), at(R + GRACE - 1));
    assert!(!is_final);
    assert_eq!(e.next_deadline(), Some(at(R + GRACE)));
}

#[test]
fn failed_logins_are_not_applicable_in_the_engine_and_stay_so() {
    let mut e = engine();
    let l = login_full(
        "l",
        5 * MIN,
        "ehr",
        "nurse01",
        "ward-pc",
        &["password"],
        Outcome::Failure,
    );
    let (v, _) = e.submit_login(l, at(R), at(R));
    assert_eq!(v.kind, VerdictKind::NotApplicable);
    assert!(e
        .record_door_event(&event_of(card_entry()), at(R + 1))
        .is_empty());
    let done = e.finalize_due(at(R + GRACE));
    assert_eq!(done[0].verdict.kind, VerdictKind::NotApplicable);
}

#[test]
fn a_repeated_login_keeps_its_first_deadline_and_verdict() {
    // CONTRACT §7: a repeated event_id gets the stored result; it is not a new login.
    let mut e = engine();
    e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    e.record_door_event(&event_of(card_entry()), at(R + SEC));
    let (v, is_final) = e.submit_login(pw_ward(5 * MIN), at(R + 10 * SEC), at(R + 10 * SEC));
    assert!(!is_final);
    assert_combined(&v);
    assert_eq!(e.pending_count(), 1);
    assert_eq!(e.next_deadline(), Some(at(R + GRACE)));
    let done = e.finalize_due(at(R + GRACE));
    assert_eq!(done.len(), 1);
    assert_combined(&done[0].verdict);
    assert_eq!(e.next_deadline(), None);
    assert!(e.finalize_due(at(R + 10 * GRACE)).is_empty());
}

#[test]
fn set_inventory_re_judges_pending_logins() {
    let mut e = engine();
    e.record_door_event(&event_of(card_entry()), at(R - MIN));
    // An account the inventory does not map yet (on a system it does not know yet), and
    // a terminal it does not know yet.
    e.submit_login(
        login_full(
            "acct",
            5 * MIN,
            "vpn",
            "nurse01-vpn",
            "ward-pc",
            &["password"],
            Outcome::Success,
        ),
        at(R),
        at(R),
    );
    e.submit_login(
        login_full(
            "term",
            5 * MIN,
            "ehr",
            "nurse01",
            "ward-pc2",
            &["password"],
            Outcome::Success,
        ),
        at(R),
        at(R),
    );
    // A login whose verdict does not change.
    e.submit_login(
        login_full(
            "same",
            5 * MIN,
            "ehr",
            "nurse01",
            "ward-pc",
            &["password"],
            Outcome::Success,
        ),
        at(R),
        at(R),
    );
    let mut updates = e.set_inventory(
        site_with(&[("vpn", "nurse01-vpn")], &[("ward-pc2", "ward")]),
        at(R + SEC),
    );
    updates.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    assert_eq!(
        updates
            .iter()
            .map(|u| u.event_id.as_str())
            .collect::<Vec<_>>(),
        ["acct", "term"]
    );
    for u in &updates {
        assert!(!u.is_final);
        assert_combined(&u.verdict);
    }
    assert_eq!(e.pending_count(), 3);
    // The re-judged logins are indexed again: a late alarm reaches all three.
    let u = e.record_door_event(
        &event_of(alarm("d-a", "ward-main", 5 * MIN, DoorEventKind::Tamper)),
        at(R + 2 * SEC),
    );
    assert_eq!(u.len(), 3, "{u:?}");
    // Deadlines are kept.
    assert_eq!(e.next_deadline(), Some(at(R + GRACE)));
    // Taking the account away again re-judges too.
    let u = e.set_inventory(site(), at(R + 3 * SEC));
    assert_eq!(u.len(), 2, "{u:?}");
    // After the deadline, a new inventory changes nothing.
    assert_eq!(e.finalize_due(at(R + GRACE)).len(), 3);
    assert!(e
        .set_inventory(
            site_with(&[("vpn", "nurse01-vpn")], &[("ward-pc2", "ward")]),
            at(R + GRACE + 1)
        )
        .is_empty());
}

#[test]
fn set_inventory_re_derives_presence_and_alarms_from_events_already_held() {
    // Before the import: p1 has no `card:NEW`, and door `ward-side` is unknown.
    let mut e = engine();
    e.record_door_event(
        &event_of(entry("d-new", "ward-main", 0, "card:NEW")),
        at(R - MIN),
    );
    e.record_door_event(
        &event_of(alarm("d-side", "ward-side", 4 * MIN, DoorEventKind::Tamper)),
        at(R - MIN),
    );
    let (v, _) = e.submit_login(pw_ward(5 * MIN), at(R), at(R));
    assert_not_met(&v, &["no_presence"]);

    let base = site();
    let mut people = base.people().to_vec();
    people[0].credentials.push("card:NEW".parse().unwrap());
    let mut doors = base.doors().to_vec();
    let with_card = |doors: Vec<Door>| {
        Inventory::new(
            None,
            base.rooms().to_vec(),
            doors,
            base.terminals().to_vec(),
            base.systems().to_vec(),
            people.clone(),
        )
        .unwrap()
    };
    // The new credential puts p1 in the ward.
    let u = e.set_inventory(with_card(doors.clone()), at(R + SEC));
    assert_eq!(u.len(), 1);
    assert_combined(&u[0].verdict);
    assert_eq!(
        u[0].verdict.evidence.as_ref().unwrap().entry_event_id,
        "d-new"
    );
    // The new door makes its earlier tamper event an alarm of the ward.
    doors.push(door("ward-side", "ward"));
    let u = e.set_inventory(with_card(doors), at(R + 2 * SEC));
    assert_not_met(&u[0].verdict, &["room_alarm"]);
    // Back to the old inventory: the credential and the door no longer count.
    let u = e.set_inventory(site(), at(R + 3 * SEC));
    assert_not_met(&u[0].verdict, &["no_presence"]);
    // The same door event id arriving again with another payload is still ignored.
    assert!(e
        .record_door_event(
            &event_of(entry("d-new", "ward-main", 0, p1("card"))),
            at(R + 4 * SEC)
        )
        .is_empty());
}

#[test]
fn a_repeated_door_event_id_is_stored_once_whatever_its_payload() {
    let inv = site();
    let mut tl = Timeline::default();
    tl.record_event(&inv, &event_of(entry("d-1", "ward-main", 0, p1("pin"))));
    // Same door and id: ignored, even with another credential, kind or time.
    for again in [
        entry("d-1", "ward-main", 0, p1("card")),
        entry("d-1", "ward-main", MIN, p1("card")),
        alarm("d-1", "ward-main", MIN, DoorEventKind::DoorForced),
        exit("d-1", "ward-main", MIN, p1("pin")),
    ] {
        let affects = tl.record_event(&inv, &event_of(again));
        assert_eq!(affects, Default::default());
    }
    assert_not_met(&evaluate(&inv, &tl, &pw_ward(2 * MIN)), &["same_category"]);
    // The same id on another door is another event.
    tl.record_event(&inv, &event_of(entry("d-1", "ward-back", MIN, p1("card"))));
    assert_combined(&evaluate(&inv, &tl, &pw_ward(2 * MIN)));
}
