//! The day's script, as pure data: who badges in where and when, who logs in to what,
//! which door fails — built from a [`Hospital`], a start time and a seed, with no clock
//! and no network. The player in [`crate::day`] only sends what this module decided.
//!
//! # What a day holds
//!
//! *Ordinary traffic* for every JST date that overlaps the window: nurses on 日勤 and
//! 夜勤 in their ward (out for lunch and for the night break, so presence never outlives
//! `max_presence`), doctors moving 医局 → 病棟 → 医局 (→ 放射線管理区域) without badging
//! out in between (entering another room ends presence in the previous one), an on-call
//! doctor at night, pharmacists and radiographers in their rooms, clerks at the
//! uncontrolled reception using password + IC card, the IT officer in the server room
//! and on the VPN with `webauthn_uv` or `password` + `totp`. Vendor staff have no
//! ordinary traffic: they work under maintenance requests only. Entries come
//! with `door_opened`/`door_closed`, a few card misreads (`access_denied` then
//! `access_granted`), a nightly unregistered card at the server room, and a few mistyped
//! passwords (`outcome: failure` followed by success).
//!
//! *Deliberate cases* ([`Case`]), spread evenly through the window, each producing one
//! login with a known right answer ([`Expectation`]): one per `not_met` reason of
//! CONTRACT §3, a controller going offline and coming back, a forced door, an entry
//! event delivered [`LATE_DELIVERY`] (real time) after the login it justifies, and one
//! each of `combined_measures`, `direct_2fa` and `not_applicable`. Case actors have their
//! ordinary visits that overlap the case dropped, and nobody passes the offline door
//! while it is offline, so the expected answers hold by construction (the tests check
//! them against `monban-core`'s own rules).
//!
//! *Maintenance* ([`maintenance`]): a day of at least 23 hours also holds one
//! maintenance request in every state with its logins, door events and reports, a night
//! login no request covers and the leaver's login, each with what the hub must say
//! ([`MaintenanceExpectation`]) once the decisions the day wants ([`wanted_decisions`])
//! are made.
//!
//! Only events with `start <= ts < end` are kept, and an ordinary stay is kept only when
//! its entry is, so no ordinary login lacks the entry that justifies it. Times are whole
//! seconds; each message is written with `+09:00` or `Z` at random.

use crate::hospital::{ids, Hospital, Role};
use crate::rng::{rng, splitmix, Rng};
use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, TimeDelta, Utc,
};
use monban_core::{
    Credential, Direction, DoorEventKind, DoorId, DoorStatus, Factor, Outcome, Reason, RoomId,
    SiteId, SystemId, VerdictKind,
};
use rand::seq::SliceRandom;
use rand::Rng as _;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

pub mod maintenance;

pub use maintenance::{
    wanted_decisions, MaintenanceCase, MaintenanceExpectation, MaintenanceKind, MaintenanceMessage,
    WantedDecision,
};

/// How long a day is.
pub fn day_length() -> TimeDelta {
    TimeDelta::hours(24)
}

/// How long (in real time) the late entry event is held back after its login is sent.
/// Well inside the hub's 60 s grace, so the login must be re-evaluated.
pub const LATE_DELIVERY: Duration = Duration::from_secs(5);

/// The door that goes offline and comes back (the 調剤室's only door).
pub const OFFLINE_DOOR: &str = "pharmacy-main";
/// The door that is forced (放射線管理区域 搬入口).
pub const FORCED_DOOR: &str = "radiology-back";
/// A terminal id that is not in the inventory (an unregistered PC on the ward).
pub const UNKNOWN_TERMINAL: &str = "ward3-pc99";

/// A deliberate case: one login with a known right answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// Entry with card_pin to the server room, then a password login there.
    Combined,
    /// The IT officer's VPN login with `webauthn_uv` from home.
    Direct,
    /// A mistyped password.
    Failed,
    /// An entry event published [`LATE_DELIVERY`] after the login it justifies.
    Late,
    UnknownTerminal,
    UncontrolledRoom,
    UnmappedAccount,
    /// The 調剤室's controller goes offline, a login happens, it comes back.
    DoorOffline,
    /// A forced door at 放射線管理区域, then a login during `alarm_hold`.
    RoomAlarm,
    /// A login in a ward the person never badged into.
    NoPresence,
    /// A pharmacist admitted with the fallback PIN logs in with a password: knowledge
    /// twice.
    SameCategory,
}

impl Case {
    /// Every case, in the order they are spread through the day.
    pub const ALL: [Case; 11] = [
        Case::Combined,
        Case::UnknownTerminal,
        Case::DoorOffline,
        Case::Late,
        Case::UnmappedAccount,
        Case::Failed,
        Case::RoomAlarm,
        Case::UncontrolledRoom,
        Case::NoPresence,
        Case::Direct,
        Case::SameCategory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Case::Combined => "combined",
            Case::Direct => "direct",
            Case::Failed => "failed",
            Case::Late => "late",
            Case::UnknownTerminal => "unknown_terminal",
            Case::UncontrolledRoom => "uncontrolled_room",
            Case::UnmappedAccount => "unmapped_account",
            Case::DoorOffline => "door_offline",
            Case::RoomAlarm => "room_alarm",
            Case::NoPresence => "no_presence",
            Case::SameCategory => "same_category",
        }
    }

    pub fn expected_verdict(self) -> VerdictKind {
        match self {
            Case::Combined | Case::Late => VerdictKind::CombinedMeasures,
            Case::Direct => VerdictKind::Direct2fa,
            Case::Failed => VerdictKind::NotApplicable,
            _ => VerdictKind::NotMet,
        }
    }

    /// The reason that must be among the verdict's reasons (others may accompany it,
    /// e.g. `no_presence` with `uncontrolled_room`).
    pub fn expected_reason(self) -> Option<Reason> {
        match self {
            Case::UnknownTerminal => Some(Reason::UnknownTerminal),
            Case::UncontrolledRoom => Some(Reason::UncontrolledRoom),
            Case::UnmappedAccount => Some(Reason::UnmappedAccount),
            Case::DoorOffline => Some(Reason::DoorOffline),
            Case::RoomAlarm => Some(Reason::RoomAlarm),
            Case::NoPresence => Some(Reason::NoPresence),
            Case::SameCategory => Some(Reason::SameCategory),
            Case::Combined | Case::Direct | Case::Failed | Case::Late => None,
        }
    }

    /// What happens, in words an officer would use.
    pub fn description_ja(self) -> &'static str {
        match self {
            Case::Combined => {
                "サーバ室に IC カード+暗証番号で入室し、パスワードでログイン（複合対策）"
            }
            Case::Direct => {
                "情報システム担当が自宅から VPN に webauthn_uv でログイン（直接二要素）"
            }
            Case::Failed => "パスワード入力ミスによるログイン失敗（対象外）",
            Case::Late => "入室イベントがログインより遅れて届く（猶予期間内に再判定）",
            Case::UnknownTerminal => "台帳にない端末 ward3-pc99 からのログイン",
            Case::UncontrolledRoom => "入室管理のない外来ロビーの端末からのログイン",
            Case::UnmappedAccount => "職員に紐付いていない共用アカウントでのログイン",
            Case::DoorOffline => "調剤室の扉コントローラがオフラインの間のログイン",
            Case::RoomAlarm => "放射線管理区域の搬入口がこじ開けられた直後のログイン",
            Case::NoPresence => "入室記録のない 5F 病棟の端末からのログイン（共連れ）",
            Case::SameCategory => {
                "静脈認証の不調で暗証番号で入室しパスワードでログイン（同じ知識要素）"
            }
        }
    }
}

/// A deliberate login and the verdict the hub must give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// The login's `event_id`.
    pub event_id: String,
    pub case: Case,
    /// `direct_2fa`, `combined_measures`, `not_met` or `not_applicable`.
    pub expected_verdict: String,
    /// A reason that must be among the verdict's reasons.
    pub expected_reason: Option<String>,
    pub description: String,
}

impl Expectation {
    fn new(event_id: String, case: Case) -> Self {
        Expectation {
            event_id,
            case,
            expected_verdict: case.expected_verdict().as_str().to_string(),
            expected_reason: case.expected_reason().map(|r| r.as_str().to_string()),
            description: case.description_ja().to_string(),
        }
    }

    /// Whether a verdict (and its reasons) as the hub reported it meets the expectation.
    pub fn is_met_by<S: AsRef<str>>(&self, verdict: &str, reasons: &[S]) -> bool {
        verdict == self.expected_verdict
            && self
                .expected_reason
                .as_deref()
                .is_none_or(|want| reasons.iter().any(|r| r.as_ref() == want))
    }
}

/// A door event for `monban/{site}/door/{door}/event` (CONTRACT §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorMessage {
    pub door: DoorId,
    pub event_id: String,
    pub ts: DateTime<FixedOffset>,
    pub kind: DoorEventKind,
    /// Sent only with `access_granted` and `access_denied`.
    pub direction: Direction,
    pub credential: Option<Credential>,
}

impl DoorMessage {
    pub fn topic(&self, site: &SiteId) -> String {
        format!("monban/{site}/door/{}/event", self.door)
    }

    /// The payload, exactly the fields of CONTRACT §5.
    pub fn payload(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "event_id": self.event_id,
            "ts": rfc3339(self.ts),
            "kind": self.kind.as_str(),
        });
        if matches!(
            self.kind,
            DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
        ) {
            v["direction"] = self.direction.as_str().into();
            if let Some(c) = &self.credential {
                v["credential"] = serde_json::json!({"type": c.kind.as_str(), "id": c.id});
            }
        }
        v
    }
}

/// A door status change for `monban/{site}/door/{door}/status`.
///
/// Sent in the JSON form `{"state": …, "ts": …}` rather than as a bare word: a bare word
/// takes the hub's *arrival* time, which is real time, while the simulated logins carry
/// simulated times in the past; only an explicit `ts` puts the outage where the day's
/// logins can fall into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub door: DoorId,
    pub status: DoorStatus,
    pub ts: DateTime<FixedOffset>,
}

impl StatusMessage {
    pub fn topic(&self, site: &SiteId) -> String {
        format!("monban/{site}/door/{}/status", self.door)
    }

    pub fn payload(&self) -> serde_json::Value {
        serde_json::json!({"state": self.status.as_str(), "ts": rfc3339(self.ts)})
    }
}

/// A login for `POST /api/v1/logins` (CONTRACT §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginMessage {
    pub event_id: String,
    pub ts: DateTime<FixedOffset>,
    pub system: SystemId,
    pub account: String,
    pub terminal: String,
    pub factors: Vec<Factor>,
    pub outcome: Outcome,
}

impl LoginMessage {
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "event_id": self.event_id,
            "ts": rfc3339(self.ts),
            "system": self.system.as_str(),
            "account": self.account,
            "terminal": self.terminal,
            "factors": self.factors.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "outcome": self.outcome.as_str(),
        })
    }
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Door(DoorMessage),
    Status(StatusMessage),
    Login(LoginMessage),
    /// A maintenance request, decision or report (CONTRACT §10). Boxed: it is the
    /// largest message and the rarest.
    Maintenance(Box<MaintenanceMessage>),
}

/// One message of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The simulated time at which the message is due. Equal to its `ts`, except for the
    /// late entry event, which is due with the login it justifies.
    pub at: DateTime<Utc>,
    /// Extra *real* delay after `at` (the late entry event: [`LATE_DELIVERY`]).
    pub late_by: Duration,
    pub action: Action,
}

impl Item {
    /// The event time the message carries.
    pub fn ts(&self) -> DateTime<Utc> {
        match &self.action {
            Action::Door(m) => m.ts.with_timezone(&Utc),
            Action::Status(m) => m.ts.with_timezone(&Utc),
            Action::Login(m) => m.ts.with_timezone(&Utc),
            Action::Maintenance(m) => m.ts.with_timezone(&Utc),
        }
    }
}

/// The whole day: items ordered by `at`, and the deliberate cases among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub start: DateTime<Utc>,
    /// Exclusive: no item has `ts >= end`.
    pub end: DateTime<Utc>,
    /// A short tag in every event id, derived from the seed and the start, so that two
    /// runs against one hub do not collide on `event_id` (the same run replayed does).
    pub tag: String,
    pub items: Vec<Item>,
    pub expectations: Vec<Expectation>,
    /// The maintenance cases of the day (requests in every state, their logins, the
    /// leaver's login) and what the hub must say about them once the wanted decisions
    /// ([`wanted_decisions`]) are made. Empty for a day shorter than
    /// [`maintenance::MIN_DAY`].
    pub maintenance: Vec<MaintenanceExpectation>,
}

/// When an item is due in real time, relative to the start of play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Index into [`Schedule::items`].
    pub index: usize,
    pub due: Duration,
}

/// Orders the items for playing at `speed` (> 0) simulated seconds per real second, starting
/// on the real clock at `wall_start`. An item is left out when its `ts` would still be
/// in the future of the real clock when it is due (the simulated clock has caught up
/// with the real one); the second value counts those.
pub fn plan(schedule: &Schedule, speed: f64, wall_start: DateTime<Utc>) -> (Vec<Planned>, usize) {
    let mut planned = Vec::with_capacity(schedule.items.len());
    let mut skipped = 0;
    for (index, item) in schedule.items.iter().enumerate() {
        let sim = (item.at - schedule.start).to_std().unwrap_or_default();
        let due = Duration::try_from_secs_f64(sim.as_secs_f64() / speed)
            .unwrap_or(Duration::MAX)
            .saturating_add(item.late_by);
        let wall_then = TimeDelta::from_std(due)
            .ok()
            .and_then(|d| wall_start.checked_add_signed(d));
        if wall_then.is_none_or(|w| item.ts() > w) {
            skipped += 1;
        } else {
            planned.push(Planned { index, due });
        }
    }
    planned.sort_by_key(|p| (p.due, p.index));
    (planned, skipped)
}

/// RFC 3339 with whole seconds; `Z` when the offset is zero.
pub fn rfc3339(ts: DateTime<FixedOffset>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The offset the simulators write times in (+09:00, Japan).
pub fn rfc3339_offset() -> FixedOffset {
    jst()
}

/// Japan Standard Time, +09:00.
pub(crate) fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

fn utc0() -> FixedOffset {
    FixedOffset::east_opt(0).expect("+00:00 is a valid offset")
}

fn mins(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

/// Builds the day that starts at `start` (truncated to whole seconds) and ends 24 hours
/// later or at `until`, whichever is earlier. Pure: the same arguments give the same
/// schedule.
pub fn build(
    h: &Hospital,
    start: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    seed: u64,
) -> Schedule {
    let start = DateTime::from_timestamp(start.timestamp(), 0).unwrap_or(start);
    let mut end = start + day_length();
    if let Some(u) = until {
        end = end.min(u.max(start));
    }
    let tag = format!(
        "{:06x}",
        splitmix(seed ^ splitmix(start.timestamp() as u64)) & 0xFF_FFFF
    );
    let gen = Gen::new(h, seed);

    let mut cases = gen.cases(start, end);
    let maint = maintenance::plan(&gen, start, end, &tag, &cases.reserved);
    cases.reserved.extend(maint.reserved);
    let mut drafts = cases.drafts;
    drafts.extend(maint.drafts);

    // Ordinary traffic for every JST date whose day or night can reach into the window.
    let first = (start - TimeDelta::days(1))
        .with_timezone(&jst())
        .date_naive();
    let last = end.with_timezone(&jst()).date_naive();
    let mut visits = Vec::new();
    let mut date = first;
    while date <= last {
        gen.routines(date, &mut visits, &mut drafts);
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    for v in visits {
        let in_window = v.from >= start && v.from < end;
        let reserved = cases
            .reserved
            .iter()
            .any(|(p, a, b)| *p == v.person && v.from <= *b && *a <= v.to);
        let blocked = v.drafts.iter().any(|d| match &d.body {
            Body::Door { door, .. } => cases
                .blocked
                .iter()
                .any(|(bd, a, b)| bd == door && *a <= d.ts && d.ts <= *b),
            _ => false,
        });
        if in_window && !reserved && !blocked {
            drafts.extend(v.drafts);
        }
    }
    drafts.retain(|d| d.ts >= start && d.ts < end && d.at < end);
    drafts.sort_by_key(|d| (d.at, d.seq));
    finish(drafts, start, end, tag, seed, maint.expectations)
}

/// A message before ids and offsets are assigned.
#[derive(Debug, Clone)]
struct Draft {
    at: DateTime<Utc>,
    ts: DateTime<Utc>,
    late_by: Duration,
    /// Creation order, to keep the sort stable across equal times.
    seq: u64,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Door {
        door: DoorId,
        kind: DoorEventKind,
        direction: Direction,
        credential: Option<Credential>,
    },
    Status {
        door: DoorId,
        status: DoorStatus,
    },
    Login {
        system: SystemId,
        account: String,
        terminal: String,
        factors: Vec<Factor>,
        outcome: Outcome,
        case: Option<Case>,
        /// The maintenance case the login belongs to (`maintenance.rs`).
        maint: Option<MaintenanceCase>,
    },
    Maintenance(MaintenanceMessage),
}

/// An ordinary stay of one person in one room: kept or dropped as a whole.
struct Visit {
    person: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    drafts: Vec<Draft>,
}

/// What the cases need from ordinary traffic.
struct CasePlan {
    drafts: Vec<Draft>,
    /// (person, from, to): drop the person's ordinary stays that overlap.
    reserved: Vec<(usize, DateTime<Utc>, DateTime<Utc>)>,
    /// (door, from, to): drop ordinary stays that use the door then.
    blocked: Vec<(DoorId, DateTime<Utc>, DateTime<Utc>)>,
}

/// Which systems a stay logs in to (weighted) and how often.
struct LoginPlan<'p> {
    systems: &'p [(&'p str, u32)],
    every: (i64, i64),
}

struct Gen<'a> {
    h: &'a Hospital,
    seed: u64,
    seq: std::cell::Cell<u64>,
}

impl<'a> Gen<'a> {
    fn new(h: &'a Hospital, seed: u64) -> Self {
        Gen {
            h,
            seed,
            seq: std::cell::Cell::new(0),
        }
    }

    fn draft(&self, ts: DateTime<Utc>, body: Body) -> Draft {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        Draft {
            at: ts,
            ts,
            late_by: Duration::ZERO,
            seq,
            body,
        }
    }

    fn door(&self, s: &str) -> DoorId {
        DoorId::parse(s).expect("built-in door ids are valid")
    }

    fn system(&self, s: &str) -> SystemId {
        SystemId::parse(s).expect("built-in system ids are valid")
    }

    fn room(&self, s: &str) -> RoomId {
        RoomId::parse(s).expect("built-in room ids are valid")
    }

    /// A door of `room`: the first (main) one most of the time.
    fn pick_door(&self, r: &mut Rng, room: &RoomId) -> Option<DoorId> {
        let doors = self.h.doors_of(room);
        let first = doors.first()?;
        if doors.len() > 1 && r.gen_bool(0.25) {
            doors.choose(r).map(|d| d.id.clone())
        } else {
            Some(first.id.clone())
        }
    }

    fn pick_terminal(&self, r: &mut Rng, room: &RoomId) -> Option<String> {
        self.h
            .terminals_in(room)
            .choose(r)
            .map(|t| t.id.to_string())
    }

    /// The credential presented at a door: the usual one mostly, sometimes another one
    /// of a category other than knowledge alone (a PIN is only a fallback).
    fn pick_credential(&self, r: &mut Rng, p: usize) -> Credential {
        let s = &self.h.staff[p];
        let others: Vec<&Credential> = s
            .person
            .credentials
            .iter()
            .filter(|c| {
                **c != s.usual_credential
                    && c.kind
                        .categories()
                        .iter()
                        .any(|k| k != monban_core::Category::Knowledge)
            })
            .collect();
        if !others.is_empty() && r.gen_bool(0.25) {
            if let Some(c) = others.choose(r) {
                return (*c).clone();
            }
        }
        s.usual_credential.clone()
    }

    fn account(&self, p: usize, system: &str) -> Option<String> {
        let system = SystemId::parse(system).ok()?;
        self.h.staff[p].person.accounts.get(&system).cloned()
    }

    /// A badge read: maybe a misread first, then the grant, the door opening and closing.
    #[allow(clippy::too_many_arguments)]
    fn access(
        &self,
        r: &mut Rng,
        out: &mut Vec<Draft>,
        t: DateTime<Utc>,
        door: &DoorId,
        credential: &Credential,
        direction: Direction,
        may_deny: bool,
    ) {
        if may_deny && r.gen_bool(0.06) {
            out.push(self.draft(
                t - secs(r.gen_range(3..=6)),
                Body::Door {
                    door: door.clone(),
                    kind: DoorEventKind::AccessDenied,
                    direction,
                    credential: Some(credential.clone()),
                },
            ));
        }
        out.push(self.draft(
            t,
            Body::Door {
                door: door.clone(),
                kind: DoorEventKind::AccessGranted,
                direction,
                credential: Some(credential.clone()),
            },
        ));
        self.open_close(r, out, t, door);
    }

    fn open_close(&self, r: &mut Rng, out: &mut Vec<Draft>, t: DateTime<Utc>, door: &DoorId) {
        let opened = t + secs(r.gen_range(1..=3));
        let closed = opened + secs(r.gen_range(5..=10));
        for (ts, kind) in [
            (opened, DoorEventKind::DoorOpened),
            (closed, DoorEventKind::DoorClosed),
        ] {
            out.push(self.draft(
                ts,
                Body::Door {
                    door: door.clone(),
                    kind,
                    direction: Direction::In,
                    credential: None,
                },
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn login(
        &self,
        r: &mut Rng,
        out: &mut Vec<Draft>,
        t: DateTime<Utc>,
        system: &str,
        account: &str,
        terminal: &str,
        factors: Vec<Factor>,
        may_fail: bool,
        case: Option<Case>,
    ) {
        let body = |outcome, case| Body::Login {
            system: self.system(system),
            account: account.to_string(),
            terminal: terminal.to_string(),
            factors: factors.clone(),
            outcome,
            case,
            maint: None,
        };
        if may_fail && r.gen_bool(0.05) {
            out.push(self.draft(t - secs(r.gen_range(15..=40)), body(Outcome::Failure, None)));
        }
        out.push(self.draft(t, body(Outcome::Success, case)));
    }

    /// The factors of an ordinary login on `system`.
    fn factors(&self, r: &mut Rng, system: &str) -> Vec<Factor> {
        match system {
            ids::VPN if r.gen_bool(0.5) => vec![Factor::WebauthnUv],
            ids::VPN => vec![Factor::Password, Factor::Totp],
            ids::EHR if r.gen_bool(0.15) => vec![Factor::Password, Factor::Totp],
            _ => vec![Factor::Password],
        }
    }

    /// One ordinary stay: badge in at `from`, log in now and then, leave at `to`
    /// (badging out when `exit`, else by entering the next room at `to`).
    fn stay(
        &self,
        r: &mut Rng,
        p: usize,
        room: &str,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        exit: bool,
        plan: &LoginPlan<'_>,
    ) -> Option<Visit> {
        let room = self.room(room);
        let door = self.pick_door(r, &room)?;
        let credential = self.pick_credential(r, p);
        let mut drafts = Vec::new();
        self.access(
            r,
            &mut drafts,
            from,
            &door,
            &credential,
            Direction::In,
            true,
        );

        let systems: Vec<(&str, u32, String)> = plan
            .systems
            .iter()
            .filter_map(|&(s, w)| self.account(p, s).map(|a| (s, w, a)))
            .collect();
        let total: u32 = systems.iter().map(|s| s.1).sum();
        let mut t = from + secs(r.gen_range(120..=360));
        while total > 0 && t < to - mins(2) {
            let mut pick = r.gen_range(0..total);
            let chosen = systems.iter().find(|s| {
                if pick < s.1 {
                    true
                } else {
                    pick -= s.1;
                    false
                }
            });
            if let (Some((system, _, account)), Some(terminal)) =
                (chosen, self.pick_terminal(r, &room))
            {
                let factors = self.factors(r, system);
                self.login(
                    r,
                    &mut drafts,
                    t,
                    system,
                    account,
                    &terminal,
                    factors,
                    true,
                    None,
                );
            }
            t += secs(r.gen_range(plan.every.0 * 60..=plan.every.1 * 60));
        }
        if exit {
            let out_door = self.pick_door(r, &room).unwrap_or(door);
            self.access(
                r,
                &mut drafts,
                to,
                &out_door,
                &credential,
                Direction::Out,
                true,
            );
        }
        Some(Visit {
            person: p,
            from,
            to,
            drafts,
        })
    }

    /// A chain of stays without badging out in between; the last one badges out.
    fn chain(
        &self,
        r: &mut Rng,
        p: usize,
        legs: &[(&str, DateTime<Utc>, LoginPlan<'_>)],
        leave: DateTime<Utc>,
        visits: &mut Vec<Visit>,
    ) {
        for (i, (room, from, plan)) in legs.iter().enumerate() {
            let (to, exit) = match legs.get(i + 1) {
                Some((_, next, _)) => (*next, false),
                None => (leave, true),
            };
            if to > *from {
                visits.extend(self.stay(r, p, room, (*from, to), exit, plan));
            }
        }
    }

    /// Ordinary traffic of the JST date `date`.
    fn routines(&self, date: NaiveDate, visits: &mut Vec<Visit>, loose: &mut Vec<Draft>) {
        let midnight = date.and_time(NaiveTime::MIN).and_utc() - TimeDelta::hours(9);
        let day = i64::from(date.num_days_from_ce());
        let dayu = day as u64;
        let at = |r: &mut Rng, h: i64, m: i64, jitter_min: i64| {
            midnight + mins(h * 60 + m) + secs(r.gen_range(-jitter_min * 60..=jitter_min * 60))
        };
        let ehr_only = [(ids::EHR, 1)];

        for (p, s) in self.h.staff.iter().enumerate() {
            if s.person.until.is_some() {
                continue; // left the hospital (the maintenance plan uses their account once)
            }
            let mut r = rng(self.seed, &[10, dayu, p as u64]);
            let r = &mut r;
            let k = self.h.staff[..p]
                .iter()
                .filter(|o| o.role == s.role)
                .count() as i64;
            let home = s.home.as_str();
            match s.role {
                Role::Nurse => {
                    let plan = LoginPlan {
                        systems: &ehr_only,
                        every: (30, 75),
                    };
                    match (k + day).rem_euclid(5) {
                        0..=2 => {
                            let (a, b) = (at(r, 8, 15, 8), at(r, 12, 5, 5));
                            visits.extend(self.stay(r, p, home, (a, b), true, &plan));
                            let (a, b) = (at(r, 12, 55, 5), at(r, 17, 20, 8));
                            visits.extend(self.stay(r, p, home, (a, b), true, &plan));
                        }
                        3 => {
                            let night = LoginPlan {
                                systems: &ehr_only,
                                every: (45, 100),
                            };
                            let (a, b) = (at(r, 16, 20, 8), at(r, 24, 50, 10));
                            visits.extend(self.stay(r, p, home, (a, b), true, &night));
                            let (a, b) = (at(r, 26, 20, 10), at(r, 33, 10, 10));
                            visits.extend(self.stay(r, p, home, (a, b), true, &night));
                        }
                        _ => {} // 明け / 休み
                    }
                }
                Role::Doctor => {
                    let on_call = day.rem_euclid(6) == k;
                    let post_call = (day - 1).rem_euclid(6) == k;
                    if post_call {
                        continue; // 当直明け
                    }
                    let desk = LoginPlan {
                        systems: &[(ids::EHR, 4), (ids::RIS, 1)],
                        every: (20, 50),
                    };
                    let round = LoginPlan {
                        systems: &ehr_only,
                        every: (12, 25),
                    };
                    let viewer = LoginPlan {
                        systems: &[(ids::RIS, 1)],
                        every: (8, 15),
                    };
                    let ward = if (k + day) % 2 == 0 {
                        ids::WARD3
                    } else {
                        ids::WARD5
                    };
                    let arrive = at(r, 8, 10, 15);
                    let round_at = at(r, 9, 30, 10);
                    let back = round_at + mins(r.gen_range(40..=60));
                    let mut legs = vec![(ids::IKYOKU, arrive, desk), (ward, round_at, round)];
                    legs.push((
                        ids::IKYOKU,
                        back,
                        LoginPlan {
                            systems: &[(ids::EHR, 4), (ids::RIS, 1)],
                            every: (25, 60),
                        },
                    ));
                    if k < 3 && r.gen_bool(0.7) {
                        let rad = at(r, 14, 0, 20);
                        legs.push((ids::RADIOLOGY, rad, viewer));
                        legs.push((
                            ids::IKYOKU,
                            rad + mins(r.gen_range(20..=40)),
                            LoginPlan {
                                systems: &[(ids::EHR, 1)],
                                every: (25, 60),
                            },
                        ));
                    }
                    let leave = if on_call {
                        let night = at(r, 23, 0, 20);
                        legs.push((
                            ids::WARD5,
                            night,
                            LoginPlan {
                                systems: &ehr_only,
                                every: (10, 20),
                            },
                        ));
                        legs.push((
                            ids::IKYOKU,
                            night + mins(r.gen_range(30..=50)),
                            LoginPlan {
                                systems: &ehr_only,
                                every: (60, 120),
                            },
                        ));
                        let late = at(r, 27, 0, 20);
                        legs.push((
                            ids::WARD3,
                            late,
                            LoginPlan {
                                systems: &ehr_only,
                                every: (10, 20),
                            },
                        ));
                        legs.push((
                            ids::IKYOKU,
                            late + mins(r.gen_range(25..=40)),
                            LoginPlan {
                                systems: &ehr_only,
                                every: (60, 120),
                            },
                        ));
                        at(r, 32, 45, 10)
                    } else {
                        at(r, 18, 30, 40)
                    };
                    self.chain(r, p, &legs, leave, visits);
                }
                Role::Pharmacist | Role::Radiographer => {
                    if (k + day).rem_euclid(4) == 3 {
                        continue; // 休み
                    }
                    let systems: &[(&str, u32)] = if s.role == Role::Pharmacist {
                        &[(ids::PHARMACY, 4), (ids::EHR, 1)]
                    } else {
                        &[(ids::RIS, 4), (ids::EHR, 1)]
                    };
                    let plan = LoginPlan {
                        systems,
                        every: (15, 45),
                    };
                    let (a, b) = (at(r, 8, 25, 8), at(r, 12, 10, 10));
                    visits.extend(self.stay(r, p, home, (a, b), true, &plan));
                    let (a, b) = (at(r, 13, 0, 8), at(r, 17, 25, 10));
                    visits.extend(self.stay(r, p, home, (a, b), true, &plan));
                }
                Role::Clerk => {
                    // Reception PCs have IC card readers: password + ic_card, direct.
                    let mut t = at(r, 8, 30, 10);
                    let end = at(r, 17, 0, 10);
                    while t < end {
                        if let Some(account) = self.account(p, ids::EHR) {
                            self.login(
                                r,
                                loose,
                                t,
                                ids::EHR,
                                &account,
                                "lobby-pc01",
                                vec![Factor::Password, Factor::IcCard],
                                true,
                                None,
                            );
                        }
                        t += mins(r.gen_range(40..=90));
                    }
                    if day.rem_euclid(3) == k {
                        // Documents to the 3F ward.
                        let a = at(r, 15, 0, 30);
                        let b = a + mins(r.gen_range(10..=15));
                        let plan = LoginPlan {
                            systems: &ehr_only,
                            every: (30, 30),
                        };
                        visits.extend(self.stay(r, p, ids::WARD3, (a, b), true, &plan));
                    }
                }
                Role::ItStaff => {
                    let plan = LoginPlan {
                        systems: &[(ids::EHR, 3), (ids::VPN, 1), (ids::RIS, 1)],
                        every: (6, 12),
                    };
                    let a = at(r, 9, 0, 15);
                    let b = a + mins(r.gen_range(30..=45));
                    visits.extend(self.stay(r, p, ids::SERVER_ROOM, (a, b), true, &plan));
                    let a = at(r, 15, 30, 20);
                    let b = a + mins(r.gen_range(20..=30));
                    visits.extend(self.stay(r, p, ids::SERVER_ROOM, (a, b), true, &plan));
                }
                Role::Vendor => {
                    // Vendor staff work only under maintenance requests: their day is
                    // the maintenance plan's (`schedule/maintenance.rs`).
                }
            }
        }

        // An unregistered card tried at the server room in the evening.
        let mut r = rng(self.seed, &[11, dayu]);
        let t = at(&mut r, 21, 0, 60);
        let card = Credential::new(
            monban_core::CredentialType::Card,
            &format!("1D{:06X}", r.gen::<u32>() & 0xFF_FFFF),
        )
        .expect("generated card ids are valid");
        loose.push(self.draft(
            t,
            Body::Door {
                door: self.door("server-room-main"),
                kind: DoorEventKind::AccessDenied,
                direction: Direction::In,
                credential: Some(card),
            },
        ));
    }

    /// The deliberate cases, spread evenly over `[start + 20 min, end - 50 min]`.
    fn cases(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> CasePlan {
        let mut plan = CasePlan {
            drafts: Vec::new(),
            reserved: Vec::new(),
            blocked: Vec::new(),
        };
        let lo = start + mins(20);
        let hi = end - mins(50);
        if hi <= lo {
            return plan;
        }
        let mut r = rng(self.seed, &[20]);
        let r = &mut r;

        // Actors.
        let mut ward3: Vec<usize> = self
            .h
            .staff_with_role(Role::Nurse)
            .into_iter()
            .filter(|&p| self.h.staff[p].home.as_str() == ids::WARD3)
            .collect();
        ward3.shuffle(r);
        let ward5: Vec<usize> = self
            .h
            .staff_with_role(Role::Nurse)
            .into_iter()
            .filter(|&p| self.h.staff[p].home.as_str() == ids::WARD5)
            .collect();
        let one = |r: &mut Rng, role: Role| self.h.staff_with_role(role).choose(r).copied();
        let n = Case::ALL.len() as i32;
        let spacing = (hi - lo) / n;
        let jitter = (spacing / 4).min(mins(10)).num_seconds().max(0);
        for (i, case) in Case::ALL.iter().enumerate() {
            let a = lo + spacing * (i as i32) + spacing / 2 + secs(r.gen_range(-jitter..=jitter));
            let a = DateTime::from_timestamp(a.timestamp(), 0).unwrap_or(a);
            let mut d = Vec::new();
            match case {
                Case::Combined => {
                    let Some(p) = one(r, Role::ItStaff) else {
                        continue;
                    };
                    self.present_login(
                        r,
                        &mut d,
                        p,
                        "server-room-main",
                        a - mins(3),
                        a,
                        ids::EHR,
                        "server-room-console01",
                        *case,
                    );
                    self.access(
                        r,
                        &mut d,
                        a + mins(25),
                        &self.door("server-room-main"),
                        &self.h.staff[p].usual_credential.clone(),
                        Direction::Out,
                        false,
                    );
                    plan.reserved.push((p, a - mins(5), a + mins(30)));
                }
                Case::UnknownTerminal => {
                    let Some(&p) = ward3.first() else { continue };
                    if let Some(acc) = self.account(p, ids::EHR) {
                        self.login(
                            r,
                            &mut d,
                            a,
                            ids::EHR,
                            &acc,
                            UNKNOWN_TERMINAL,
                            vec![Factor::Password],
                            false,
                            Some(*case),
                        );
                    }
                }
                Case::DoorOffline => {
                    let Some(p) = one(r, Role::Pharmacist) else {
                        continue;
                    };
                    let door = self.door(OFFLINE_DOOR);
                    self.present_login(
                        r,
                        &mut d,
                        p,
                        OFFLINE_DOOR,
                        a - mins(6),
                        a + mins(3),
                        ids::PHARMACY,
                        "pharmacy-pc01",
                        *case,
                    );
                    d.push(self.draft(
                        a,
                        Body::Status {
                            door: door.clone(),
                            status: DoorStatus::Offline,
                        },
                    ));
                    d.push(self.draft(
                        a + mins(12),
                        Body::Status {
                            door: door.clone(),
                            status: DoorStatus::Online,
                        },
                    ));
                    self.access(
                        r,
                        &mut d,
                        a + mins(20),
                        &door,
                        &self.h.staff[p].usual_credential.clone(),
                        Direction::Out,
                        false,
                    );
                    plan.reserved.push((p, a - mins(8), a + mins(22)));
                    plan.blocked.push((door, a - mins(1), a + mins(13)));
                }
                Case::Late => {
                    let Some(&p) = ward5.get(r.gen_range(0..ward5.len().max(1))) else {
                        continue;
                    };
                    let mut entry = Vec::new();
                    self.access(
                        r,
                        &mut entry,
                        a - secs(90),
                        &self.door("ward5-main"),
                        &self.h.staff[p].usual_credential.clone(),
                        Direction::In,
                        false,
                    );
                    for e in &mut entry {
                        e.at = a;
                        e.late_by = LATE_DELIVERY;
                    }
                    d.extend(entry);
                    if let Some(acc) = self.account(p, ids::EHR) {
                        self.login(
                            r,
                            &mut d,
                            a,
                            ids::EHR,
                            &acc,
                            "ward5-pc01",
                            vec![Factor::Password],
                            false,
                            Some(*case),
                        );
                    }
                    self.access(
                        r,
                        &mut d,
                        a + mins(20),
                        &self.door("ward5-main"),
                        &self.h.staff[p].usual_credential.clone(),
                        Direction::Out,
                        false,
                    );
                    plan.reserved.push((p, a - mins(3), a + mins(22)));
                }
                Case::UnmappedAccount => {
                    let Some(u) = self
                        .h
                        .unmapped_accounts
                        .iter()
                        .find(|u| u.system.as_str() == ids::EHR)
                    else {
                        continue;
                    };
                    self.login(
                        r,
                        &mut d,
                        a,
                        ids::EHR,
                        &u.account,
                        "ward3-pc02",
                        vec![Factor::Password],
                        false,
                        Some(*case),
                    );
                }
                Case::Failed => {
                    let Some(&p) = ward3.get(1) else { continue };
                    if let Some(acc) = self.account(p, ids::EHR) {
                        let body = Body::Login {
                            system: self.system(ids::EHR),
                            account: acc,
                            terminal: "ward3-pc01".into(),
                            factors: vec![Factor::Password],
                            outcome: Outcome::Failure,
                            case: Some(*case),
                            maint: None,
                        };
                        d.push(self.draft(a, body));
                    }
                }
                Case::RoomAlarm => {
                    let Some(p) = one(r, Role::Radiographer) else {
                        continue;
                    };
                    let forced = self.door(FORCED_DOOR);
                    self.present_login(
                        r,
                        &mut d,
                        p,
                        "radiology-main",
                        a - mins(10),
                        a + mins(4),
                        ids::RIS,
                        "radiology-pc01",
                        *case,
                    );
                    d.push(self.draft(
                        a,
                        Body::Door {
                            door: forced.clone(),
                            kind: DoorEventKind::DoorForced,
                            direction: Direction::In,
                            credential: None,
                        },
                    ));
                    d.push(self.draft(
                        a + secs(40),
                        Body::Door {
                            door: forced,
                            kind: DoorEventKind::DoorClosed,
                            direction: Direction::In,
                            credential: None,
                        },
                    ));
                    self.access(
                        r,
                        &mut d,
                        a + mins(25),
                        &self.door("radiology-main"),
                        &self.h.staff[p].usual_credential.clone(),
                        Direction::Out,
                        false,
                    );
                    plan.reserved.push((p, a - mins(12), a + mins(27)));
                }
                Case::UncontrolledRoom => {
                    let Some(p) = one(r, Role::Doctor) else {
                        continue;
                    };
                    if let Some(acc) = self.account(p, ids::EHR) {
                        self.login(
                            r,
                            &mut d,
                            a,
                            ids::EHR,
                            &acc,
                            "lobby-pc01",
                            vec![Factor::Password],
                            false,
                            Some(*case),
                        );
                    }
                }
                Case::NoPresence => {
                    // A 3F nurse helping on 5F, let in by a colleague: ward3 nurses never
                    // badge into ward5.
                    let Some(&p) = ward3.get(2) else { continue };
                    if let Some(acc) = self.account(p, ids::EHR) {
                        self.login(
                            r,
                            &mut d,
                            a,
                            ids::EHR,
                            &acc,
                            "ward5-pc02",
                            vec![Factor::Password],
                            false,
                            Some(*case),
                        );
                    }
                }
                Case::Direct => {
                    // The IT officer from home, over the maintenance VPN (native MFA).
                    let Some(p) = one(r, Role::ItStaff) else {
                        continue;
                    };
                    if let Some(acc) = self.account(p, ids::VPN) {
                        self.login(
                            r,
                            &mut d,
                            a,
                            ids::VPN,
                            &acc,
                            "it-remote-01",
                            vec![Factor::WebauthnUv],
                            false,
                            Some(*case),
                        );
                    }
                }
                Case::SameCategory => {
                    // The vein reader refuses a pharmacist, who enters with the fallback
                    // PIN and logs in with a password: knowledge twice.
                    let Some(p) = one(r, Role::Pharmacist) else {
                        continue;
                    };
                    let Some(pin) = self.h.staff[p]
                        .person
                        .credentials
                        .iter()
                        .find(|c| c.kind == monban_core::CredentialType::Pin)
                        .cloned()
                    else {
                        continue;
                    };
                    let door = self.door("pharmacy-main");
                    self.access(r, &mut d, a, &door, &pin, Direction::In, false);
                    if let Some(acc) = self.account(p, ids::PHARMACY) {
                        self.login(
                            r,
                            &mut d,
                            a + mins(5),
                            ids::PHARMACY,
                            &acc,
                            "pharmacy-pc02",
                            vec![Factor::Password],
                            false,
                            Some(*case),
                        );
                    }
                    self.access(r, &mut d, a + mins(40), &door, &pin, Direction::Out, false);
                    plan.reserved.push((p, a - mins(2), a + mins(42)));
                }
            }
            plan.drafts.extend(d);
        }
        plan
    }

    /// Badge in with the usual credential at `entry`, log in with a password at `login`.
    #[allow(clippy::too_many_arguments)]
    fn present_login(
        &self,
        r: &mut Rng,
        d: &mut Vec<Draft>,
        p: usize,
        door: &str,
        entry: DateTime<Utc>,
        login: DateTime<Utc>,
        system: &str,
        terminal: &str,
        case: Case,
    ) {
        let credential = self.h.staff[p].usual_credential.clone();
        self.access(
            r,
            d,
            entry,
            &self.door(door),
            &credential,
            Direction::In,
            false,
        );
        if let Some(acc) = self.account(p, system) {
            self.login(
                r,
                d,
                login,
                system,
                &acc,
                terminal,
                vec![Factor::Password],
                false,
                Some(case),
            );
        }
    }
}

/// Assigns event ids (per door, and for logins) in send order and an offset per message.
fn finish(
    drafts: Vec<Draft>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tag: String,
    seed: u64,
    mut maintenance: Vec<MaintenanceExpectation>,
) -> Schedule {
    let mut r = rng(seed, &[30, start.timestamp() as u64]);
    let mut per_door: BTreeMap<DoorId, u64> = BTreeMap::new();
    let mut logins = 0u64;
    let mut items = Vec::with_capacity(drafts.len());
    let mut expectations = Vec::new();
    let mut by_case: HashMap<Case, usize> = HashMap::new();
    for d in drafts {
        let offset = if r.gen_bool(0.35) { utc0() } else { jst() };
        let ts = d.ts.with_timezone(&offset);
        let action = match d.body {
            Body::Door {
                door,
                kind,
                direction,
                credential,
            } => {
                let n = per_door.entry(door.clone()).or_insert(0);
                *n += 1;
                let event_id = format!("{door}-{tag}-{n:05}");
                Action::Door(DoorMessage {
                    door,
                    event_id,
                    ts,
                    kind,
                    direction,
                    credential,
                })
            }
            Body::Status { door, status } => Action::Status(StatusMessage { door, status, ts }),
            Body::Login {
                system,
                account,
                terminal,
                factors,
                outcome,
                case,
                maint,
            } => {
                logins += 1;
                let event_id = format!("l-{tag}-{logins:05}");
                if let Some(case) = case {
                    *by_case.entry(case).or_insert(0) += 1;
                    expectations.push(Expectation::new(event_id.clone(), case));
                }
                if let Some(m) = maintenance.iter_mut().find(|m| Some(m.case) == maint) {
                    m.logins.push(event_id.clone());
                }
                Action::Login(LoginMessage {
                    event_id,
                    ts,
                    system,
                    account,
                    terminal,
                    factors,
                    outcome,
                })
            }
            Body::Maintenance(mut m) => {
                m.ts = ts;
                Action::Maintenance(Box::new(m))
            }
        };
        items.push(Item {
            at: d.at,
            late_by: d.late_by,
            action,
        });
    }
    debug_assert!(by_case.values().all(|&n| n == 1), "each case is one login");
    // A case whose messages fell outside the window is not promised.
    let sent: std::collections::BTreeSet<&str> = items
        .iter()
        .filter_map(|i| match &i.action {
            Action::Maintenance(m) => Some(m.request_id.as_str()),
            _ => None,
        })
        .collect();
    maintenance.retain(|m| {
        m.request_id.as_deref().is_none_or(|id| sent.contains(id))
            && (m.request_id.is_some() || !m.logins.is_empty())
    });
    Schedule {
        start,
        end,
        tag,
        items,
        expectations,
        maintenance,
    }
}
