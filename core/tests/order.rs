#![allow(clippy::unwrap_used)]
//! Property tests of the domain.
//!
//! - A: the engine's final verdicts do not depend on arrival order (inside `grace`).
//! - A2: an event that arrives at or after a login's deadline never changes it.
//! - B: repeated door events (same door + `event_id`) and repeated statuses change nothing.
//! - C: `verdict::evaluate` agrees with a naive oracle written from CONTRACT §2–§3.
//! - D: compliance status and coverage agree with a direct computation (CONTRACT §8).
//! - E: an inventory import re-derives presence and alarms from the events already held.
//!
//! Event times fall on a coarse grid (multiples of 100 ms, sometimes minus 1 ms) so that
//! ties on the same millisecond and the exact ends of windows happen often.

use monban_core::event::{
    Direction, DoorEvent, DoorEventKind, DoorStatus, Login, Outcome, StatusChange,
};
use monban_core::timeline::{Outage, Timeline};
use monban_core::verdict::{evaluate, Evidence};
use monban_core::{
    Category, ComplianceStatus, Credential, CredentialType, Door, DoorId, Engine, Factor,
    Inventory, LoginCounts, Person, PersonId, Reason, Room, RoomId, Span, System, SystemCategory,
    SystemCompliance, SystemId, Terminal, TerminalId, Timestamp, Verdict, VerdictKind,
    VerdictUpdate,
};
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------
// The fixed site, as plain tables (read by both the inventory builder and the oracle)
// ---------------------------------------------------------------------------------------

/// (id, controlled, max_presence ms, alarm_hold ms)
const ROOMS: [(&str, bool, i64, i64); 3] = [
    ("ra", true, 700, 300),
    ("rb", true, 1000, 200),
    ("rl", false, 500, 300),
];
/// (door, room)
const DOORS: [(&str, &str); 4] = [("a1", "ra"), ("a2", "ra"), ("b1", "rb"), ("l1", "rl")];
/// Doors events are reported on: the inventory's and one it does not know.
const EVENT_DOORS: [&str; 5] = ["a1", "a2", "b1", "l1", "x9"];
/// (terminal, room)
const TERMINALS: [(&str, &str); 3] = [("ta", "ra"), ("tb", "rb"), ("tl", "rl")];
/// Terminals logins name: the inventory's and one it does not know.
const LOGIN_TERMINALS: [&str; 4] = ["ta", "tb", "tl", "tz"];
const SYSTEMS: [&str; 2] = ["ehr", "lab"];
/// (person, credentials, accounts)
type PersonRow = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);
const PEOPLE: [PersonRow; 3] = [
    (
        "p1",
        &["card:C1", "pin:P1", "biometric:B1", "card_pin:CP1"],
        &[("ehr", "u1"), ("lab", "v1")],
    ),
    (
        "p2",
        &["card:C2", "pin:P2", "card_biometric:CB2", "mobile:M2"],
        &[("ehr", "u2")],
    ),
    (
        "p3",
        &["biometric:B3", "card_pin:CP3", "card:C3"],
        &[("ehr", "u3")],
    ),
];
/// (system, account) pairs logins use; `ghost` and `lab/u2` map to nobody.
const ACCOUNTS: [(&str, &str); 6] = [
    ("ehr", "u1"),
    ("lab", "v1"),
    ("ehr", "u2"),
    ("ehr", "u3"),
    ("ehr", "ghost"),
    ("lab", "u2"),
];
/// Credentials door events carry: every known one, a lower-case variant, unknown ones and
/// a known id with the wrong type.
const EVENT_CREDS: [(&str, &str); 15] = [
    ("card", "C1"),
    ("pin", "P1"),
    ("biometric", "B1"),
    ("card_pin", "CP1"),
    ("card", "C2"),
    ("pin", "P2"),
    ("card_biometric", "CB2"),
    ("mobile", "M2"),
    ("biometric", "B3"),
    ("card_pin", "CP3"),
    ("card", "C3"),
    ("card", "c1"),
    ("card", "ZZ"),
    ("pin", "0000"),
    ("mobile", "C1"),
];

const T0: i64 = 1_795_000_000_000;
const STEP: i64 = 100;
const SLOTS: i64 = 24;
/// Arrival times (`now`) are unrelated to event times.
const ARRIVAL0: i64 = 1_800_000_000_000;

fn inventory() -> Inventory {
    site(false)
}

/// The site as an earlier import had it: door `a2` and terminal `tb` missing, person
/// `p3` missing, and `p1` without `card:C1`.
fn partial_inventory() -> Inventory {
    site(true)
}

fn site(partial: bool) -> Inventory {
    let keep = |id: &str| !partial || !matches!(id, "a2" | "tb" | "p3" | "card:C1");
    Inventory::new(
        None,
        ROOMS
            .iter()
            .map(|(id, c, m, h)| Room {
                id: RoomId::parse(*id).unwrap(),
                name: id.to_string(),
                controlled: *c,
                max_presence: Span::from_millis(*m),
                alarm_hold: Span::from_millis(*h),
            })
            .collect(),
        DOORS
            .iter()
            .filter(|(d, _)| keep(d))
            .map(|(d, r)| Door::new(DoorId::parse(*d).unwrap(), RoomId::parse(*r).unwrap(), ""))
            .collect(),
        TERMINALS
            .iter()
            .filter(|(t, _)| keep(t))
            .map(|(t, r)| Terminal {
                id: TerminalId::parse(*t).unwrap(),
                room: RoomId::parse(*r).unwrap(),
                name: String::new(),
            })
            .collect(),
        SYSTEMS
            .iter()
            .map(|s| System {
                id: SystemId::parse(*s).unwrap(),
                name: s.to_string(),
                category: SystemCategory::Ehr,
                native_mfa: false,
                renewal: None,
                plan: None,
                by: None,
            })
            .collect(),
        PEOPLE
            .iter()
            .filter(|(p, _, _)| keep(p))
            .map(|(p, creds, accounts)| Person {
                id: PersonId::parse(*p).unwrap(),
                name: p.to_string(),
                vendor: None,
                until: None,
                credentials: creds
                    .iter()
                    .filter(|c| keep(c))
                    .map(|c| c.parse().unwrap())
                    .collect(),
                accounts: accounts
                    .iter()
                    .map(|(s, a)| (SystemId::parse(*s).unwrap(), a.to_string()))
                    .collect(),
            })
            .collect(),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// Random scenarios
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Scenario {
    doors: Vec<DoorEvent>,
    statuses: Vec<StatusChange>,
    outages: Vec<(DoorId, Outage)>,
    logins: Vec<Login>,
}

#[derive(Debug, Clone)]
enum Item {
    Door(DoorEvent),
    Status(StatusChange),
    Outage(DoorId, Outage),
    Login(Login),
}

impl Scenario {
    fn items(&self) -> Vec<Item> {
        let mut v: Vec<Item> = Vec::new();
        v.extend(self.doors.iter().cloned().map(Item::Door));
        v.extend(self.statuses.iter().cloned().map(Item::Status));
        v.extend(
            self.outages
                .iter()
                .cloned()
                .map(|(d, o)| Item::Outage(d, o)),
        );
        v.extend(self.logins.iter().cloned().map(Item::Login));
        v
    }

    /// A timeline holding every fact, recorded in generation order.
    fn timeline(&self, inv: &Inventory) -> Timeline {
        let mut tl = Timeline::default();
        for e in &self.doors {
            tl.record_event(inv, e);
        }
        for s in &self.statuses {
            tl.record_status(inv, s);
        }
        for (d, o) in &self.outages {
            tl.record_outage(inv, d, *o);
        }
        tl
    }
}

fn slot_ts(slot: i64) -> Timestamp {
    Timestamp::from_millis(T0 + slot * STEP)
}

fn kind_strategy() -> impl Strategy<Value = DoorEventKind> {
    prop_oneof![
        8 => Just(DoorEventKind::AccessGranted),
        1 => Just(DoorEventKind::AccessDenied),
        1 => Just(DoorEventKind::DoorForced),
        1 => Just(DoorEventKind::DoorHeldOpen),
        1 => Just(DoorEventKind::Tamper),
        1 => Just(DoorEventKind::DoorOpened),
        1 => Just(DoorEventKind::DoorClosed),
    ]
}

/// (door index, slot, kind, out, credential index)
type RawDoor = (usize, i64, DoorEventKind, bool, Option<usize>);

fn raw_door() -> impl Strategy<Value = RawDoor> {
    (
        prop_oneof![12 => 0..4usize, 1 => Just(4usize)],
        0..SLOTS,
        kind_strategy(),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.95, 0..EVENT_CREDS.len()),
    )
}

fn build_door((door, slot, kind, out, cred): RawDoor, i: usize) -> DoorEvent {
    let takes = matches!(
        kind,
        DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
    );
    DoorEvent {
        door: DoorId::parse(EVENT_DOORS[door]).unwrap(),
        event_id: format!("d-{i}"),
        ts: slot_ts(slot),
        kind,
        direction: if out && takes {
            Direction::Out
        } else {
            Direction::In
        },
        credential: if takes {
            cred.map(|c| {
                Credential::new(EVENT_CREDS[c].0.parse().unwrap(), EVENT_CREDS[c].1).unwrap()
            })
        } else {
            None
        },
    }
}

fn factors_strategy() -> impl Strategy<Value = Vec<Factor>> {
    let single = select(vec![
        Factor::Password,
        Factor::Pin,
        Factor::Totp,
        Factor::Smartcard,
        Factor::Fingerprint,
        Factor::Face,
        Factor::Webauthn,
    ])
    .prop_map(|f| vec![f]);
    prop_oneof![
        4 => single,
        1 => prop::sample::subsequence(Factor::ALL.to_vec(), 1..=2),
    ]
}

/// (terminal index, account index, slot, minus one ms, factors, success)
type RawLogin = (usize, usize, i64, bool, Vec<Factor>, bool);

fn raw_login() -> impl Strategy<Value = RawLogin> {
    (
        prop_oneof![6 => 0..3usize, 1 => Just(3usize)],
        prop_oneof![8 => 0..4usize, 1 => 4..ACCOUNTS.len()],
        0..SLOTS + 2,
        prop::bool::weighted(0.25),
        factors_strategy(),
        prop::bool::weighted(0.9),
    )
}

fn build_login(
    (terminal, account, slot, minus_one, factors, success): RawLogin,
    i: usize,
) -> Login {
    Login {
        event_id: format!("l-{i}"),
        ts: Timestamp::from_millis(T0 + slot * STEP - i64::from(minus_one)),
        system: SystemId::parse(ACCOUNTS[account].0).unwrap(),
        account: ACCOUNTS[account].1.to_string(),
        terminal: LOGIN_TERMINALS[terminal].to_string(),
        factors,
        outcome: if success {
            Outcome::Success
        } else {
            Outcome::Failure
        },
    }
}

/// An entry planted before a login: (plant it, slots before the login, door choice,
/// credential choice).
type Plant = (bool, i64, prop::sample::Index, prop::sample::Index);

fn plant() -> impl Strategy<Value = Plant> {
    (
        prop::bool::weighted(0.6),
        0..8i64,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
}

/// An `in` by the login's person on a door of the login's terminal's room, shortly before
/// the login, so that presence, same_category and combined_measures are common.
fn planted_entry(
    l: &Login,
    raw: &RawLogin,
    (yes, back, door, cred): Plant,
    i: usize,
) -> Option<DoorEvent> {
    if !yes {
        return None;
    }
    let (_, room) = TERMINALS.iter().find(|(t, _)| *t == l.terminal)?;
    let (_, creds, _) = PEOPLE.iter().find(|(_, _, accounts)| {
        accounts
            .iter()
            .any(|(s, a)| *s == l.system.as_str() && *a == l.account)
    })?;
    let doors: Vec<&str> = DOORS
        .iter()
        .filter(|(_, r)| r == room)
        .map(|(d, _)| *d)
        .collect();
    let (kind, id) = creds[cred.index(creds.len())].split_once(':').unwrap();
    Some(DoorEvent {
        door: DoorId::parse(doors[door.index(doors.len())]).unwrap(),
        event_id: format!("e-{i}"),
        ts: slot_ts((raw.2 - back).max(0)),
        kind: DoorEventKind::AccessGranted,
        direction: Direction::In,
        credential: Some(Credential::new(kind.parse().unwrap(), id).unwrap()),
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(raw_door(), 0..32),
        prop::collection::vec((0..EVENT_DOORS.len(), 0..SLOTS, any::<bool>()), 0..8),
        prop::collection::vec((0..DOORS.len(), 0..SLOTS, 1..6i64), 0..2),
        prop::collection::vec((raw_login(), plant()), 1..10),
    )
        .prop_map(|(doors, statuses, outages, logins)| {
            let mut doors: Vec<DoorEvent> = doors
                .into_iter()
                .enumerate()
                .map(|(i, r)| build_door(r, i))
                .collect();
            let logins: Vec<Login> = logins
                .into_iter()
                .enumerate()
                .map(|(i, (raw, p))| {
                    let l = build_login(raw.clone(), i);
                    doors.extend(planted_entry(&l, &raw, p, i));
                    l
                })
                .collect();
            (doors, statuses, outages, logins)
        })
        .prop_map(|(doors, statuses, outages, logins)| Scenario {
            doors,
            statuses: statuses
                .into_iter()
                .map(|(d, slot, off)| StatusChange {
                    door: DoorId::parse(EVENT_DOORS[d]).unwrap(),
                    ts: slot_ts(slot),
                    status: if off {
                        DoorStatus::Offline
                    } else {
                        DoorStatus::Online
                    },
                })
                .collect(),
            outages: outages
                .into_iter()
                .map(|(d, slot, len)| {
                    (
                        DoorId::parse(DOORS[d].0).unwrap(),
                        Outage {
                            from: slot_ts(slot),
                            to: slot_ts(slot + len),
                        },
                    )
                })
                .collect(),
            logins,
        })
}

// ---------------------------------------------------------------------------------------
// Driving the engine
// ---------------------------------------------------------------------------------------

struct Run {
    engine: Engine,
    current: BTreeMap<String, Verdict>,
    finals: BTreeMap<String, Verdict>,
}

impl Run {
    fn new(grace: i64) -> Run {
        Run::with(inventory(), grace)
    }

    fn with(inv: Inventory, grace: i64) -> Run {
        Run {
            engine: Engine::new(inv, Span::from_millis(grace)),
            current: BTreeMap::new(),
            finals: BTreeMap::new(),
        }
    }

    fn absorb(&mut self, updates: Vec<VerdictUpdate>) {
        for u in updates {
            assert!(
                !self.finals.contains_key(&u.event_id),
                "{} changed after it was final",
                u.event_id
            );
            if u.is_final {
                assert_eq!(
                    self.current.get(&u.event_id),
                    Some(&u.verdict),
                    "final verdict is the last one reported"
                );
                self.finals.insert(u.event_id, u.verdict);
            } else {
                assert_ne!(
                    self.current.get(&u.event_id),
                    Some(&u.verdict),
                    "an update must change something"
                );
                self.current.insert(u.event_id, u.verdict);
            }
        }
    }

    fn feed(&mut self, item: &Item, now: i64) {
        let now = Timestamp::from_millis(now);
        let updates = match item {
            Item::Door(e) => self.engine.record_door_event(e, now),
            Item::Status(s) => self.engine.record_status(s, now),
            Item::Outage(d, o) => self.engine.record_outage(d, *o, now),
            Item::Login(l) => {
                let (v, is_final) = self.engine.submit_login(l.clone(), now, now);
                if is_final {
                    self.finals.insert(l.event_id.clone(), v.clone());
                }
                self.current.insert(l.event_id.clone(), v);
                Vec::new()
            }
        };
        self.absorb(updates);
    }

    fn finish(mut self) -> BTreeMap<String, Verdict> {
        let updates = self.engine.finalize_due(Timestamp::MAX);
        self.absorb(updates);
        assert_eq!(self.engine.pending_count(), 0);
        assert_eq!(self.engine.next_deadline(), None);
        assert_eq!(
            self.finals.keys().collect::<Vec<_>>(),
            self.current.keys().collect::<Vec<_>>(),
            "every login gets exactly one final verdict"
        );
        self.finals
    }
}

/// Feeds items in the given order, all inside grace, then finalises.
fn run_in_order(items: &[Item]) -> BTreeMap<String, Verdict> {
    let mut run = Run::new(3_600_000);
    for (i, item) in items.iter().enumerate() {
        run.feed(item, ARRIVAL0 + i as i64);
    }
    run.finish()
}

fn reference(s: &Scenario) -> BTreeMap<String, Verdict> {
    let inv = inventory();
    let tl = s.timeline(&inv);
    s.logins
        .iter()
        .map(|l| (l.event_id.clone(), evaluate(&inv, &tl, l)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The oracle: CONTRACT §2–§3 read literally, by brute force over all events
// ---------------------------------------------------------------------------------------

const K: u8 = 1;
const P: u8 = 2;
const I: u8 = 4;

/// CONTRACT §2, login factor names.
fn factor_bits(name: &str) -> u8 {
    match name {
        "password" | "pin" => K,
        "totp" | "hotp" | "sms_otp" | "smartcard" | "ic_card" | "security_key" | "push"
        | "webauthn" => P,
        "fingerprint" | "face" | "vein" | "biometric" => I,
        "webauthn_uv" => P | I,
        other => panic!("not in the contract: {other}"),
    }
}

/// CONTRACT §2, door credential types.
fn credential_bits(name: &str) -> u8 {
    match name {
        "pin" => K,
        "card" | "mobile" => P,
        "biometric" => I,
        "card_biometric" => P | I,
        "card_pin" => P | K,
        other => panic!("not in the contract: {other}"),
    }
}

fn two_or_more(bits: u8) -> bool {
    bits.count_ones() >= 2
}

fn room_of_door(door: &DoorId) -> Option<&'static str> {
    DOORS
        .iter()
        .find(|(d, _)| *d == door.as_str())
        .map(|(_, r)| *r)
}

fn room_row(id: &str) -> (&'static str, bool, i64, i64) {
    *ROOMS.iter().find(|r| r.0 == id).unwrap()
}

/// The person holding a credential (ids compared without regard to case, a documented
/// design decision of the hub: card readers disagree on hex case).
fn holder(c: &Credential) -> Option<&'static str> {
    PEOPLE.iter().find_map(|(p, creds, _)| {
        creds
            .iter()
            .any(|s| {
                let (t, id) = s.split_once(':').unwrap();
                t == c.kind.as_str() && id.eq_ignore_ascii_case(&c.id)
            })
            .then_some(*p)
    })
}

fn granted_by(e: &DoorEvent, person: &str) -> bool {
    e.kind == DoorEventKind::AccessGranted && e.credential.as_ref().and_then(holder) == Some(person)
}

fn is_alarm(k: DoorEventKind) -> bool {
    matches!(
        k,
        DoorEventKind::DoorForced | DoorEventKind::DoorHeldOpen | DoorEventKind::Tamper
    )
}

fn door_offline_at(s: &Scenario, door: &str, t: i64) -> bool {
    let in_outage = s
        .outages
        .iter()
        .any(|(d, o)| d.as_str() == door && o.from.as_millis() <= t && t < o.to.as_millis());
    // Offline from an `offline` status until the next `online` one (an `online` at the
    // same millisecond does not end it: fail closed).
    let from_status = s.statuses.iter().any(|off| {
        off.door.as_str() == door
            && off.status == DoorStatus::Offline
            && off.ts.as_millis() <= t
            && !s.statuses.iter().any(|on| {
                on.door.as_str() == door
                    && on.status == DoorStatus::Online
                    && off.ts < on.ts
                    && on.ts.as_millis() <= t
            })
    });
    in_outage || from_status
}

/// When the presence started by `entry` (an `in` by `person` into `room`) ends.
fn presence_end(
    s: &Scenario,
    entry: &DoorEvent,
    person: &str,
    room: &str,
    max_presence: i64,
) -> i64 {
    let mut end = entry.ts.as_millis() + max_presence;
    for f in &s.doors {
        let Some(f_room) = room_of_door(&f.door) else {
            continue;
        };
        if !granted_by(f, person) || f.ts <= entry.ts {
            continue;
        }
        let ends = (f.direction == Direction::Out && f_room == room)
            || (f.direction == Direction::In && f_room != room);
        if ends {
            end = end.min(f.ts.as_millis());
        }
    }
    end
}

fn oracle(s: &Scenario, l: &Login) -> Verdict {
    let plain = |kind| Verdict {
        kind,
        reasons: vec![],
        evidence: None,
    };
    if l.outcome == Outcome::Failure {
        return plain(VerdictKind::NotApplicable);
    }
    let login_bits = l
        .factors
        .iter()
        .fold(0, |acc, f| acc | factor_bits(f.as_str()));
    if two_or_more(login_bits) {
        return plain(VerdictKind::Direct2fa);
    }
    let t = l.ts.as_millis();
    let room = TERMINALS
        .iter()
        .find(|(term, _)| *term == l.terminal)
        .map(|(_, r)| room_row(r));
    let person = PEOPLE.iter().find_map(|(p, _, accounts)| {
        accounts
            .iter()
            .any(|(sys, acc)| *sys == l.system.as_str() && *acc == l.account)
            .then_some(*p)
    });
    let mut reasons = Vec::new();
    let mut evidence = None;
    match room {
        None => reasons.push(Reason::UnknownTerminal),
        Some((_, false, _, _)) => reasons.push(Reason::UncontrolledRoom),
        Some(_) => {}
    }
    if person.is_none() {
        reasons.push(Reason::UnmappedAccount);
    }
    if let Some((room_id, _, max_presence, alarm_hold)) = room {
        if DOORS
            .iter()
            .any(|(d, r)| *r == room_id && door_offline_at(s, d, t))
        {
            reasons.push(Reason::DoorOffline);
        }
        if s.doors.iter().any(|e| {
            is_alarm(e.kind)
                && room_of_door(&e.door) == Some(room_id)
                && e.ts.as_millis() <= t
                && t < e.ts.as_millis() + alarm_hold
        }) {
            reasons.push(Reason::RoomAlarm);
        }
        if let Some(p) = person {
            let covering: Vec<&DoorEvent> = s
                .doors
                .iter()
                .filter(|e| {
                    granted_by(e, p)
                        && e.direction == Direction::In
                        && room_of_door(&e.door) == Some(room_id)
                        && e.ts.as_millis() <= t
                        && t < presence_end(s, e, p, room_id, max_presence)
                })
                .collect();
            if covering.is_empty() {
                reasons.push(Reason::NoPresence);
            } else {
                let best = covering
                    .iter()
                    .filter(|e| {
                        two_or_more(
                            login_bits
                                | credential_bits(e.credential.as_ref().unwrap().kind.as_str()),
                        )
                    })
                    .max_by_key(|e| (e.ts, e.door.clone(), e.event_id.clone()));
                match best {
                    None => reasons.push(Reason::SameCategory),
                    Some(e) => {
                        evidence = Some(Evidence {
                            entry_event_id: e.event_id.clone(),
                            door: e.door.clone(),
                            entered_at: e.ts,
                            credential_type: e.credential.as_ref().unwrap().kind,
                            person: PersonId::parse(p).unwrap(),
                            room: RoomId::parse(room_id).unwrap(),
                        })
                    }
                }
            }
        }
    }
    if reasons.is_empty() {
        Verdict {
            kind: VerdictKind::CombinedMeasures,
            reasons,
            evidence,
        }
    } else {
        Verdict {
            kind: VerdictKind::NotMet,
            reasons,
            evidence: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// 512 cases unless `PROPTEST_CASES` says otherwise (for a longer soak).
fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 512;
    }
    c
}

fn shuffled() -> impl Strategy<Value = (Scenario, Vec<Item>)> {
    scenario().prop_flat_map(|s| {
        let items = s.items();
        (Just(s), Just(items).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(config())]

    /// A: any arrival order inside grace gives the verdicts of the full set of events.
    #[test]
    fn a_final_verdicts_do_not_depend_on_arrival_order((s, items) in shuffled()) {
        prop_assert_eq!(run_in_order(&items), reference(&s));
    }

    /// A2: with a short grace and arrival gaps, a login's final verdict is its verdict
    /// against exactly the events that arrived before its deadline.
    #[test]
    fn a2_events_at_or_after_the_deadline_never_change_a_verdict(
        (_s, items) in shuffled(),
        gaps in prop::collection::vec(0..3i64, 64),
    ) {
        const GRACE: i64 = 5;
        let inv = inventory();
        let mut run = Run::new(GRACE);
        let mut arrivals = Vec::new();
        let mut now = ARRIVAL0;
        for (i, item) in items.iter().enumerate() {
            now += gaps[i % gaps.len()];
            run.feed(item, now);
            arrivals.push((now, item));
        }
        let finals = run.finish();
        for (received, item) in &arrivals {
            let Item::Login(l) = item else { continue };
            let deadline = received + GRACE;
            let mut tl = Timeline::default();
            for (at, other) in &arrivals {
                if *at >= deadline {
                    continue;
                }
                match other {
                    Item::Door(e) => { tl.record_event(&inv, e); }
                    Item::Status(st) => { tl.record_status(&inv, st); }
                    Item::Outage(d, o) => { tl.record_outage(&inv, d, *o); }
                    Item::Login(_) => {}
                }
            }
            prop_assert_eq!(&finals[&l.event_id], &evaluate(&inv, &tl, l), "login {}", l.event_id);
        }
    }

    /// B: repeated door events (exact copies, or another payload under the same door and
    /// event_id arriving later: "stored once") and repeated statuses change nothing.
    #[test]
    fn b_duplicates_change_nothing(
        (s, items) in shuffled(),
        dups in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<bool>(), raw_door()), 0..12),
    ) {
        let mut items = items;
        let originals: Vec<Item> =
            items.iter().filter(|it| matches!(it, Item::Door(_) | Item::Status(_))).cloned().collect();
        if !originals.is_empty() {
            for (which, place, exact, other) in dups {
                let original = &originals[which.index(originals.len())];
                // The first occurrence is the original: copies always go after it.
                let pos = items.iter().position(|it| same_item(it, original)).unwrap();
                let copy = match &items[pos] {
                    Item::Door(e) if !exact => {
                        // Another payload under the same door and event_id.
                        let mut c = build_door(other, 0);
                        c.door = e.door.clone();
                        c.event_id = e.event_id.clone();
                        Item::Door(c)
                    }
                    it => it.clone(),
                };
                let at = pos + 1 + place.index(items.len() - pos);
                items.insert(at, copy);
            }
        }
        prop_assert_eq!(run_in_order(&items), reference(&s));
    }

    /// E: events recorded under an older inventory, then an import of the current one at
    /// any point (inside grace): the final verdicts are those of the current inventory
    /// over the full set of events.
    #[test]
    fn e_an_inventory_import_re_derives_presence_and_alarms(
        (s, items) in shuffled(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut run = Run::with(partial_inventory(), 3_600_000);
        let cut = cut.index(items.len() + 1);
        let mut now = ARRIVAL0;
        for (i, item) in items.iter().enumerate() {
            if i == cut {
                let updates = run.engine.set_inventory(inventory(), Timestamp::from_millis(now));
                run.absorb(updates);
            }
            now += 1;
            run.feed(item, now);
        }
        if cut == items.len() {
            let updates = run.engine.set_inventory(inventory(), Timestamp::from_millis(now + 1));
            run.absorb(updates);
        }
        prop_assert_eq!(run.finish(), reference(&s));
    }

    /// C: `evaluate` agrees with the naive oracle, verdict, reasons and evidence.
    #[test]
    fn c_evaluate_agrees_with_the_oracle(s in scenario()) {
        let inv = inventory();
        let tl = s.timeline(&inv);
        for l in &s.logins {
            prop_assert_eq!(evaluate(&inv, &tl, l), oracle(&s, l), "login {:?}", l);
        }
    }

    /// D: compliance status and coverage from LoginCounts agree with a direct computation.
    #[test]
    fn d_compliance_arithmetic(kinds in prop::collection::vec(select(VerdictKind::ALL.to_vec()), 0..60)) {
        let mut counts = LoginCounts::default();
        for k in &kinds {
            counts.add(*k, 1);
        }
        // Adding in groups gives the same counts.
        let mut grouped = LoginCounts::default();
        for k in VerdictKind::ALL {
            grouped.add(k, kinds.iter().filter(|x| **x == k).count() as u64);
        }
        prop_assert_eq!(counts, grouped);

        let n = |k: VerdictKind| kinds.iter().filter(|x| **x == k).count() as u64;
        let successful: Vec<VerdictKind> = kinds.iter().copied().filter(|k| *k != VerdictKind::NotApplicable).collect();
        prop_assert_eq!(counts.successful, successful.len() as u64);
        prop_assert_eq!(counts.direct_2fa, n(VerdictKind::Direct2fa));
        prop_assert_eq!(counts.combined_measures, n(VerdictKind::CombinedMeasures));
        prop_assert_eq!(counts.not_met, n(VerdictKind::NotMet));
        prop_assert_eq!(counts.failed, n(VerdictKind::NotApplicable));

        let expected = if successful.is_empty() {
            ComplianceStatus::NoData
        } else if successful.iter().all(|k| *k == VerdictKind::Direct2fa) {
            ComplianceStatus::Direct
        } else if successful.iter().all(|k| matches!(k, VerdictKind::Direct2fa | VerdictKind::CombinedMeasures)) {
            ComplianceStatus::Combined
        } else {
            ComplianceStatus::Gap
        };
        prop_assert_eq!(counts.status(), expected);

        let coverage = counts.coverage();
        if successful.is_empty() {
            prop_assert_eq!(coverage, 0.0);
        } else {
            let met = successful.iter().filter(|k| **k != VerdictKind::NotMet).count() as f64;
            prop_assert!((coverage - met / successful.len() as f64).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&coverage));
            prop_assert_eq!(coverage == 1.0, matches!(expected, ComplianceStatus::Direct | ComplianceStatus::Combined));
        }

        // The report row carries the same numbers under the contract's names.
        let sys = System {
            id: SystemId::parse("ehr").unwrap(),
            name: "電子カルテ".into(),
            category: SystemCategory::Ehr,
            native_mfa: false,
            renewal: None,
            plan: None,
            by: None,
        };
        let row = serde_json::to_value(SystemCompliance::new(&sys, counts)).unwrap();
        prop_assert_eq!(&row["status"], expected.as_str());
        prop_assert_eq!(&row["logins"]["successful"], counts.successful);
        prop_assert_eq!(&row["logins"]["direct_2fa"], counts.direct_2fa);
        prop_assert_eq!(&row["logins"]["combined_measures"], counts.combined_measures);
        prop_assert_eq!(&row["logins"]["not_met"], counts.not_met);
        prop_assert_eq!(&row["logins"]["failed"], counts.failed);
        prop_assert_eq!(row["coverage"].as_f64().unwrap(), coverage);
    }
}

fn same_item(a: &Item, b: &Item) -> bool {
    match (a, b) {
        (Item::Door(x), Item::Door(y)) => x == y,
        (Item::Status(x), Item::Status(y)) => x == y,
        _ => false,
    }
}

#[test]
fn the_contract_compliance_example() {
    let mut c = LoginCounts::default();
    c.add(VerdictKind::Direct2fa, 2);
    c.add(VerdictKind::CombinedMeasures, 8);
    c.add(VerdictKind::NotApplicable, 1);
    let sys = System {
        id: SystemId::parse("ehr").unwrap(),
        name: "電子カルテ".into(),
        category: SystemCategory::Ehr,
        native_mfa: false,
        renewal: None,
        plan: None,
        by: None,
    };
    let row = serde_json::to_value(SystemCompliance::new(&sys, c)).unwrap();
    assert_eq!(
        row,
        serde_json::json!({"id": "ehr", "name": "電子カルテ", "category": "ehr", "native_mfa": false,
            "status": "combined",
            "logins": {"successful": 10, "direct_2fa": 2, "combined_measures": 8, "not_met": 0, "failed": 1},
            "coverage": 1.0})
    );
}

/// The oracle's tables are the contract's tables, and so are core's.
#[test]
fn oracle_tables_match_core() {
    let bits = |set: monban_core::CategorySet| {
        set.iter().fold(0, |acc, c| {
            acc | match c {
                Category::Knowledge => K,
                Category::Possession => P,
                Category::Inherence => I,
            }
        })
    };
    for f in Factor::ALL {
        assert_eq!(bits(f.categories()), factor_bits(f.as_str()), "{f}");
    }
    for c in CredentialType::ALL {
        assert_eq!(bits(c.categories()), credential_bits(c.as_str()), "{c}");
    }
}

/// The generator is not vacuous: over a few hundred scenarios every verdict kind and
/// every reason occurs, as do late flips in the engine, so properties A–C compare
/// something.
#[test]
fn the_generator_reaches_every_verdict_and_reason() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut kinds: BTreeMap<VerdictKind, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<Reason, usize> = BTreeMap::new();
    let mut credentials: BTreeMap<CredentialType, usize> = BTreeMap::new();
    let inv = inventory();
    for _ in 0..400 {
        let s = scenario().new_tree(&mut runner).unwrap().current();
        let tl = s.timeline(&inv);
        for l in &s.logins {
            let v = evaluate(&inv, &tl, l);
            *kinds.entry(v.kind).or_default() += 1;
            for r in &v.reasons {
                *reasons.entry(*r).or_default() += 1;
            }
            if let Some(e) = &v.evidence {
                *credentials.entry(e.credential_type).or_default() += 1;
            }
        }
    }
    for k in VerdictKind::ALL {
        assert!(kinds.get(&k).copied().unwrap_or(0) >= 10, "{k}: {kinds:?}");
    }
    for r in Reason::ALL {
        assert!(
            reasons.get(&r).copied().unwrap_or(0) >= 10,
            "{r}: {reasons:?}"
        );
    }
    for c in [
        CredentialType::Card,
        CredentialType::Pin,
        CredentialType::Biometric,
        CredentialType::CardPin,
    ] {
        assert!(
            credentials.get(&c).copied().unwrap_or(0) >= 3,
            "{c}: {credentials:?}"
        );
    }
    println!("{kinds:?}\n{reasons:?}\n{credentials:?}");
}
