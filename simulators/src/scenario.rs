//! Scenarios: short timelines that testers and facilities staff write in TOML, sent to
//! a hub through its real connectors, each login checked against the verdict expected.
//!
//! # Format
//!
//! ```toml
//! name = "調剤室 (pharmacy dispensing room)"
//! site = "tokyo-general"        # optional, default tokyo-general
//! start = "now-2h"              # "now", "now-90m" or an RFC 3339 time
//!
//! [[step]]
//! at = "0m"                     # offset from start ("0m", "5m", "1h 30m", "90s")
//! badge = { door = "pharmacy-main", credential = "biometric:P0017", direction = "in" }
//!
//! [[step]]
//! at = "5m"
//! login = { system = "pharmacy", account = "ph01", terminal = "pharmacy-pc01", factors = ["password"], id = "ph-1" }
//! expect = { verdict = "combined_measures" }
//! ```
//!
//! Each `[[step]]` has `at`, exactly one action, and optionally `note` (free text,
//! printed in the report), `delay` and `expect`:
//!
//! - `badge = { door, credential = "type:id", direction = "in" | "out", result = "granted" | "denied" }`
//!   — an `access_granted` (default) or `access_denied` event; direction defaults to `in`.
//! - `door = { door, event }` — any other door event: `door_opened`, `door_closed`,
//!   `door_forced`, `door_held_open`, `tamper`.
//! - `status = { door, state = "online" | "offline" }` — sent as `{"state", "ts"}`.
//! - `login = { system, account, terminal, factors = [...], outcome = "success" | "failure", id }`
//!   — `id` names the login in the report; the event id sent is `{id}-{run}`, so a
//!   scenario can run again against the same hub.
//! - `delay = "3s"` — delayed delivery: the step is sent that many *real* seconds after
//!   the undelayed steps (which go at once, in file order); its `ts` is unchanged.
//! - `expect = { verdict, reasons = [...] }` (the exact list, in the contract's order) or
//!   `expect = { verdict, reasons_include = [...] }` — on a `login` step. It may also
//!   name the login's `flags = [...]` (the exact list: `account_of_leaver`,
//!   `maintenance_unapproved`, `maintenance_emergency_pending`) and its `maintenance =
//!   "approved" | "emergency_pending" | "unapproved" | "none"` (`none`: not a maintenance
//!   login), read as the hub shows them *after* every step was sent (a request filed
//!   after a login changes the login's flags).
//!
//! Vendor maintenance (CONTRACT §10), sent with the vendor's token (`--vendor-token
//! VENDOR=TOKEN`):
//!
//! ```toml
//! [[step]]
//! at = "60m"
//! request = { vendor = "medisys", id = "em", system = "ehr", people = ["p0032"], work_plan = "WP-EM-0001", purpose = "緊急対応", start = "20m", end = "2h", remote = true, emergency = true }
//! expect = { status = "requested", findings = [], supervised = false }   # any of the three
//!
//! [[step]]
//! at = "70m"
//! report = { request = "em", summary = "復旧", recording = { sha256 = "<64 hex>", uri = "https://pam.example/r/1" } }
//! ```
//!
//! - `request` — `POST /api/v1/maintenance`. `start` and `end` are offsets from the
//!   scenario's start, like `at` (a window in the future of now is fine); `remote`
//!   defaults to `true`, `emergency` and `purpose` to `false` and empty. The request id
//!   sent is `{id}-{run}`.
//! - `report` — `POST /api/v1/maintenance/{id}/report` on the request step whose `id` it
//!   names (an earlier step), with that step's vendor token; `recording` is optional.
//! - `expect` on a request step is checked by polling `GET /api/v1/maintenance/{id}`:
//!   `status` (`requested`, `approved`, `denied`, `cancelled`), `findings` (the exact
//!   list: `not_performed`, `unsupervised`, `report_overdue`, `emergency_unapproved`),
//!   `supervised`.
//!
//! A decision needs an officer's passkey, so a scenario cannot approve: its requests stay
//! `requested` (an emergency request's logins are then `emergency_pending`, another's
//! `unapproved`). A refused request or report fails the run like a refused login.
//!
//! Door events and status changes go over MQTT (CONTRACT §5, QoS 1, event ids
//! `sc-{run}-{n}`), logins, requests and reports over HTTP (§7, §10). Then each
//! expectation is checked by polling `GET /api/v1/logins/{id}` (or
//! `GET /api/v1/maintenance/{id}`) until it holds or the deadline passes (the hub may
//! re-evaluate a verdict when a late event arrives).
//!
//! # Vendor-format doors
//!
//! A door can be declared with a vendor format, to commission a site whose controllers
//! speak esp-rfid, uhppoted-mqtt, Tasmota, ESPHome or Shelly (the hub's
//! `[[mqtt.sources]]`); its steps are then sent as that device would send them, over a
//! connection of its own that carries the device's last will:
//!
//! ```toml
//! realtime = true               # send each step at its time (see below)
//!
//! [doors.ward3-main]
//! format = "esp-rfid"           # native | esp-rfid | uhppoted | tasmota | esphome | shelly
//! topic = "esprfid-ward3"       # esp-rfid's MQTT topic
//! hostname = "esp-rfid-ward3"   # optional (default esp-rfid); credential_type = "card" (default)
//!
//! [doors.server-room-main]
//! format = "uhppoted"
//! device_id = 405419896         # the controller's serial number
//! door_number = 1               # 1..4
//! # topic = "uhppoted/gateway/events", utc_offset = "+09:00" (defaults)
//!
//! [doors.ward3-back]
//! format = "tasmota"            # topic; switch = "Switch1", open = "ON" (defaults)
//! topic = "door-ward3-back"     # esphome: topic, sensor = "door", open; shelly: topic
//! ```
//!
//! The keys are those of `monban-sim mqtt-door` ([`crate::mqtt_door::Spec`]). A step
//! the device cannot express is refused with its line: a badge on a Tasmota contact, a
//! `direction = "out"` on esp-rfid, a hexadecimal card on uhppoted (its card numbers are
//! decimal), a `status` of a uhppoted door (uhppoted-mqtt reports none). `status` of a
//! vendor door goes offline the real way — the connection is dropped without
//! `DISCONNECT` and the broker publishes the last will — and `online` reconnects.
//!
//! Tasmota, ESPHome and Shelly messages, esp-rfid's tamper signal and every last will
//! carry no time: the hub stamps them on arrival, so they cannot be placed in the past.
//! Such steps need `realtime = true`: the scenario then starts now (`start` must be
//! absent or `"now"`) and each step is sent when its `at` comes, in real time (write
//! `at` in seconds). uhppoted events are sent without the retain flag (the real gateway
//! retains them), so a later run or another hub is not handed old events.
//!
//! # Layout
//! - [`parse`] — TOML → [`Scenario`]; errors carry the file's line numbers.
//! - [`plan`] — [`Scenario`] + the current time + a run id → [`Plan`]: the messages
//!   (vendor doors' already encoded by [`crate::mqtt_door`]), their send order and the
//!   checks. Pure.
//! - [`check_references`] — which doors, terminals, systems and accounts a scenario
//!   names that a [`Hospital`] lacks.
//! - [`run`] — sends a plan and checks it; [`Report`] prints PASS/FAIL per step.

use crate::day::{post_login, Posted};
use crate::hospital::{Hospital, SITE_ID};
use crate::maintenance::{Hub, LoginState, RequestState};
use crate::mqtt::Mqtt;
use crate::mqtt_door::{
    self, DeviceOptions, Format, Happening, MqttDoor, Profile, Publication, Stamp,
};
use crate::schedule::{
    Action, DoorMessage, LoginMessage, MaintenanceKind, MaintenanceMessage, StatusMessage,
};
use anyhow::{bail, Context as _};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use monban_core::maintenance::{Recording, ReportBody, RequestBody};
use monban_core::{
    Credential, Direction, DoorEventKind, DoorId, DoorStatus, Factor, Outcome, Reason, SiteId,
    Span, SystemId, VendorId, VerdictKind,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub name: String,
    pub site: SiteId,
    pub start: Start,
    pub steps: Vec<Step>,
    /// Doors declared with a format (`[doors.*]`); the others speak CONTRACT §5.
    pub doors: BTreeMap<DoorId, VendorDoor>,
    /// `realtime = true`: each step is sent when its time comes.
    pub realtime: bool,
}

/// A door declared in `[doors.*]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorDoor {
    /// Line of the declaration (from 1).
    pub line: usize,
    pub profile: Profile,
}

/// When the timeline starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The run's current time minus this much.
    BeforeNow(TimeDelta),
    At(DateTime<FixedOffset>),
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Line of the `[[step]]` header in the file (from 1).
    pub line: usize,
    pub at: TimeDelta,
    /// Real time to hold the step back (delayed delivery).
    pub delay: Duration,
    pub note: Option<String>,
    pub action: StepAction,
    pub expect: Option<Expect>,
    /// On a request step.
    pub expect_request: Option<RequestExpect>,
}

/// What a step sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepAction {
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
        /// The name in the file; `None`: `l{line}`.
        id: Option<String>,
    },
    /// A maintenance request filed with the vendor's token (CONTRACT §10).
    Request {
        vendor: VendorId,
        /// The name in the file; the request id sent is `{id}-{run}`.
        id: String,
        system: SystemId,
        people: Vec<String>,
        work_plan: String,
        purpose: String,
        /// The window, as offsets from the scenario's start.
        start: TimeDelta,
        end: TimeDelta,
        remote: bool,
        emergency: bool,
    },
    /// A work report on a request of an earlier step, with that request's vendor token.
    Report {
        /// The request step's `id`.
        request: String,
        summary: String,
        recording: Option<Recording>,
    },
}

/// What a login step must get: its verdict, and optionally its flags and maintenance
/// status (CONTRACT §7, §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub verdict: VerdictKind,
    /// The exact reasons, in order.
    pub reasons: Option<Vec<Reason>>,
    /// Reasons that must be among the hub's.
    pub reasons_include: Vec<Reason>,
    /// The exact flags, in order.
    pub flags: Option<Vec<String>>,
    /// `maintenance.status`: `approved`, `emergency_pending`, `unapproved`, or `none` for
    /// a login that is not a maintenance login.
    pub maintenance: Option<String>,
}

/// What a request step must come to (`GET /api/v1/maintenance/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestExpect {
    pub status: Option<String>,
    /// The exact findings, in order.
    pub findings: Option<Vec<String>>,
    pub supervised: Option<bool>,
}

impl RequestExpect {
    pub fn is_met_by(&self, hub: &RequestState) -> bool {
        self.status.as_ref().is_none_or(|s| *s == hub.status)
            && self.findings.as_ref().is_none_or(|f| *f == hub.findings)
            && self.supervised.is_none_or(|s| Some(s) == hub.supervised)
    }
}

impl fmt::Display for RequestExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(s) = &self.status {
            parts.push(s.clone());
        }
        if let Some(x) = &self.findings {
            parts.push(format!("findings [{}]", x.join(", ")));
        }
        if let Some(x) = self.supervised {
            parts.push(format!("supervised {x}"));
        }
        f.write_str(&parts.join(" "))
    }
}

impl Expect {
    /// Whether the hub's flags and maintenance status meet the expectation.
    pub fn flags_met_by(&self, flags: &[String], maintenance: Option<&str>) -> bool {
        self.flags.as_ref().is_none_or(|want| want == flags)
            && self
                .maintenance
                .as_deref()
                .is_none_or(|want| want == maintenance.unwrap_or("none"))
    }

    /// Whether the hub's answer meets the expectation.
    pub fn is_met_by<S: AsRef<str>>(&self, verdict: &str, reasons: &[S]) -> bool {
        verdict == self.verdict.as_str()
            && self.reasons.as_ref().is_none_or(|want| {
                want.len() == reasons.len()
                    && want
                        .iter()
                        .zip(reasons)
                        .all(|(w, r)| w.as_str() == r.as_ref())
            })
            && self
                .reasons_include
                .iter()
                .all(|w| reasons.iter().any(|r| r.as_ref() == w.as_str()))
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verdict.as_str())?;
        if let Some(r) = &self.reasons {
            let r: Vec<&str> = r.iter().map(|r| r.as_str()).collect();
            write!(f, " [{}]", r.join(", "))?;
        }
        if !self.reasons_include.is_empty() {
            let r: Vec<&str> = self.reasons_include.iter().map(|r| r.as_str()).collect();
            write!(f, " incl. {}", r.join(", "))?;
        }
        if let Some(flags) = &self.flags {
            write!(f, " flags [{}]", flags.join(", "))?;
        }
        if let Some(m) = &self.maintenance {
            write!(f, " maintenance {m}")?;
        }
        Ok(())
    }
}

/// A scenario file that cannot be used. Displays as `FILE:LINE: message`-friendly text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ScenarioError {
    pub line: Option<usize>,
    pub message: String,
}

impl ScenarioError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        ScenarioError {
            line: Some(line),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    site: Option<String>,
    start: Option<toml::Spanned<String>>,
    realtime: Option<bool>,
    #[serde(default)]
    doors: BTreeMap<String, toml::Spanned<RawVendorDoor>>,
    #[serde(default)]
    step: Vec<toml::Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVendorDoor {
    format: String,
    topic: Option<String>,
    hostname: Option<String>,
    device_id: Option<u32>,
    door_number: Option<u8>,
    credential_type: Option<String>,
    utc_offset: Option<String>,
    switch: Option<String>,
    sensor: Option<String>,
    open: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: String,
    delay: Option<String>,
    note: Option<String>,
    badge: Option<RawBadge>,
    door: Option<RawDoor>,
    status: Option<RawStatus>,
    login: Option<RawLogin>,
    request: Option<RawRequest>,
    report: Option<RawReport>,
    expect: Option<RawExpect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    vendor: String,
    id: String,
    system: String,
    people: Vec<String>,
    work_plan: String,
    purpose: Option<String>,
    start: String,
    end: String,
    remote: Option<bool>,
    emergency: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    request: String,
    summary: String,
    recording: Option<Recording>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBadge {
    door: String,
    credential: String,
    direction: Option<String>,
    result: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoor {
    door: String,
    event: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    door: String,
    state: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    system: String,
    account: String,
    terminal: String,
    factors: Vec<String>,
    outcome: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    verdict: Option<String>,
    reasons: Option<Vec<String>>,
    reasons_include: Option<Vec<String>>,
    flags: Option<Vec<String>>,
    maintenance: Option<String>,
    status: Option<String>,
    findings: Option<Vec<String>>,
    supervised: Option<bool>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|s| s.matches('\n').count() + 1)
        .unwrap_or(1)
}

fn span(s: &str) -> Result<TimeDelta, String> {
    let span: Span = s.parse()?;
    Ok(TimeDelta::milliseconds(span.as_millis()))
}

/// Parses `now`, `now-2h` or an RFC 3339 time.
fn parse_start(s: &str) -> Result<Start, String> {
    let t = s.trim();
    if t == "now" {
        return Ok(Start::BeforeNow(TimeDelta::zero()));
    }
    if let Some(rest) = t.strip_prefix("now") {
        let rest = rest.trim_start();
        let back = rest
            .strip_prefix('-')
            .ok_or_else(|| format!("start {s:?}: write \"now\", \"now-2h\" or an RFC 3339 time"))?;
        return span(back).map(Start::BeforeNow);
    }
    DateTime::parse_from_rfc3339(t).map(Start::At).map_err(|e| {
        format!("start {s:?} is neither \"now-…\" nor an RFC 3339 time with an offset ({e})")
    })
}

fn id<T>(
    what: &str,
    s: &str,
    parse: impl Fn(String) -> Result<T, monban_core::IdError>,
) -> Result<T, String> {
    parse(s.to_string()).map_err(|e| format!("{what} {s:?}: {e}"))
}

/// Parses a scenario file's text.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().to_string(),
    })?;
    let site = match raw.site.as_deref() {
        Some(s) => id("site", s, SiteId::parse).map_err(|m| ScenarioError {
            line: None,
            message: m,
        })?,
        None => id("site", SITE_ID, SiteId::parse).map_err(|m| ScenarioError {
            line: None,
            message: m,
        })?,
    };
    let start = match &raw.start {
        None => Start::BeforeNow(TimeDelta::zero()),
        Some(s) => parse_start(s.get_ref())
            .map_err(|m| ScenarioError::at(line_of(text, s.span().start), m))?,
    };
    let realtime = raw.realtime.unwrap_or(false);
    if realtime && start != Start::BeforeNow(TimeDelta::zero()) {
        return Err(ScenarioError {
            line: raw.start.as_ref().map(|s| line_of(text, s.span().start)),
            message: "a realtime scenario starts now: leave out start or write start = \"now\""
                .into(),
        });
    }
    let doors = parse_doors(&raw.doors, &site, text)?;
    if raw.step.is_empty() {
        return Err(ScenarioError {
            line: None,
            message: "the scenario has no [[step]]".into(),
        });
    }
    let mut steps = Vec::new();
    let mut names = BTreeMap::new();
    let mut requests: BTreeMap<String, usize> = BTreeMap::new();
    for spanned in &raw.step {
        let line = line_of(text, spanned.span().start);
        let step = parse_step(spanned.get_ref(), line).map_err(|m| ScenarioError::at(line, m))?;
        check_vendor_step(&step, &doors, realtime).map_err(|m| ScenarioError::at(line, m))?;
        if let StepAction::Login { id: Some(name), .. } = &step.action {
            if let Some(first) = names.insert(name.clone(), line) {
                return Err(ScenarioError::at(
                    line,
                    format!("login id {name:?} is already used by the step at line {first}"),
                ));
            }
        }
        match &step.action {
            StepAction::Request { id, .. } => {
                if let Some(first) = requests.insert(id.clone(), line) {
                    return Err(ScenarioError::at(
                        line,
                        format!("request id {id:?} is already used by the step at line {first}"),
                    ));
                }
            }
            StepAction::Report { request, .. } if !requests.contains_key(request) => {
                return Err(ScenarioError::at(
                    line,
                    format!("report on request {request:?}: no earlier request step has that id"),
                ));
            }
            _ => {}
        }
        steps.push(step);
    }
    Ok(Scenario {
        name: raw.name,
        site,
        start,
        steps,
        doors,
        realtime,
    })
}

/// Checks the `[doors.*]` declarations: known format, its keys, one device per identity.
fn parse_doors(
    raw: &BTreeMap<String, toml::Spanned<RawVendorDoor>>,
    site: &SiteId,
    text: &str,
) -> Result<BTreeMap<DoorId, VendorDoor>, ScenarioError> {
    let mut doors = BTreeMap::new();
    let mut identities: BTreeMap<String, (usize, DoorId)> = BTreeMap::new();
    for (name, spanned) in raw {
        let line = line_of(text, spanned.span().start);
        let d = spanned.get_ref();
        let fail = |m: String| ScenarioError::at(line, format!("[doors.{name}]: {m}"));
        let door = id("door", name, DoorId::parse).map_err(fail)?;
        let format: Format = d.format.parse().map_err(fail)?;
        let native = format == Format::Native;
        let spec = mqtt_door::Spec {
            site: native.then(|| site.to_string()),
            door: native.then(|| door.to_string()),
            topic: d.topic.clone(),
            hostname: d.hostname.clone(),
            device_id: d.device_id,
            door_number: d.door_number,
            credential_type: d.credential_type.clone(),
            utc_offset: d.utc_offset.clone(),
            switch: d.switch.clone(),
            sensor: d.sensor.clone(),
            open: d.open.clone(),
        };
        let profile = Profile::from_spec(format, &spec).map_err(fail)?;
        let identity = match &profile {
            Profile::Native { door, .. } => format!("native door {door}"),
            Profile::Uhppoted {
                device_id, door, ..
            } => format!("uhppoted controller {device_id} door {door}"),
            Profile::EspRfid { topic, .. }
            | Profile::Tasmota { topic, .. }
            | Profile::Esphome { topic, .. }
            | Profile::Shelly { topic } => format!("{format} topic {topic}"),
        };
        if let Some((first, other)) = identities.insert(identity.clone(), (line, door.clone())) {
            return Err(fail(format!(
                "the {identity} is already [doors.{other}] at line {first}"
            )));
        }
        doors.insert(door, VendorDoor { line, profile });
    }
    Ok(doors)
}

/// The happening a door step describes.
fn happening(action: &StepAction) -> Option<(&DoorId, Happening)> {
    match action {
        StepAction::Door {
            door,
            kind,
            direction,
            credential,
        } => Some((
            door,
            Happening::Event {
                kind: *kind,
                direction: *direction,
                credential: credential.clone(),
            },
        )),
        _ => None,
    }
}

/// Whether a step on a vendor-format door can be sent as that device would send it.
fn check_vendor_step(
    step: &Step,
    doors: &BTreeMap<DoorId, VendorDoor>,
    realtime: bool,
) -> Result<(), String> {
    let needs_now = |door: &DoorId, format: Format, what: &str| -> Result<(), String> {
        if !realtime {
            return Err(format!(
                "door {door} ({format}): {what} carries no time — the hub stamps it on arrival — so it cannot be sent into the past; write realtime = true (and at in seconds) to send each step at its time"
            ));
        }
        if !step.delay.is_zero() {
            return Err(format!(
                "door {door} ({format}): {what} carries no time, so a delayed delivery would move it; drop delay"
            ));
        }
        Ok(())
    };
    match &step.action {
        StepAction::Door { door, .. } => {
            let Some(v) = doors.get(door) else {
                return Ok(());
            };
            let Some((_, h)) = happening(&step.action) else {
                return Ok(());
            };
            let stamp = Stamp {
                at: DateTime::<Utc>::UNIX_EPOCH,
                event_id: 1,
                late: false,
            };
            v.profile
                .encode(&h, &stamp)
                .map_err(|e| format!("door {door} is {e}"))?;
            if !v.profile.carries_time(&h) {
                needs_now(door, v.profile.format(), "this message")?;
            }
            Ok(())
        }
        StepAction::Status { door, .. } => {
            let Some(v) = doors.get(door) else {
                return Ok(());
            };
            let format = v.profile.format();
            if format == Format::Native {
                return Ok(());
            }
            if v.profile.last_will().is_none() {
                return Err(format!(
                    "door {door} ({format}): the device reports no door status (it sets no last will), so the hub cannot see an outage of it"
                ));
            }
            needs_now(door, format, "a last will")
        }
        StepAction::Login { .. } | StepAction::Request { .. } | StepAction::Report { .. } => Ok(()),
    }
}

fn parse_step(raw: &RawStep, line: usize) -> Result<Step, String> {
    let at = span(&raw.at).map_err(|e| format!("at: {e}"))?;
    let delay = match &raw.delay {
        Some(d) => d
            .parse::<Span>()
            .map_err(|e| format!("delay: {e}"))?
            .as_std(),
        None => Duration::ZERO,
    };
    let count = [
        raw.badge.is_some(),
        raw.door.is_some(),
        raw.status.is_some(),
        raw.login.is_some(),
        raw.request.is_some(),
        raw.report.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if count != 1 {
        return Err(format!(
            "a step needs exactly one of badge, door, status, login, request or report (this one has {count})"
        ));
    }
    let action = if let Some(b) = &raw.badge {
        let kind = match b.result.as_deref() {
            None | Some("granted") => DoorEventKind::AccessGranted,
            Some("denied") => DoorEventKind::AccessDenied,
            Some(other) => {
                return Err(format!(
                    "badge result {other:?}: expected \"granted\" or \"denied\""
                ))
            }
        };
        StepAction::Door {
            door: id("door", &b.door, DoorId::parse)?,
            kind,
            direction: match &b.direction {
                Some(d) => d.parse()?,
                None => Direction::In,
            },
            credential: Some(b.credential.parse()?),
        }
    } else if let Some(d) = &raw.door {
        let kind: DoorEventKind = d.event.parse()?;
        if matches!(
            kind,
            DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
        ) {
            return Err(format!(
                "door event {:?} carries a credential: write it as badge = {{ door = …, credential = …, result = \"granted\" | \"denied\" }}",
                d.event
            ));
        }
        StepAction::Door {
            door: id("door", &d.door, DoorId::parse)?,
            kind,
            direction: Direction::In,
            credential: None,
        }
    } else if let Some(s) = &raw.status {
        StepAction::Status {
            door: id("door", &s.door, DoorId::parse)?,
            status: match s.state.as_str() {
                "online" => DoorStatus::Online,
                "offline" => DoorStatus::Offline,
                other => {
                    return Err(format!(
                        "status state {other:?}: expected \"online\" or \"offline\""
                    ))
                }
            },
        }
    } else if let Some(l) = &raw.login {
        if l.factors.is_empty() {
            return Err("login factors must name at least one factor".into());
        }
        let factors = l
            .factors
            .iter()
            .map(|f| f.parse())
            .collect::<Result<Vec<Factor>, String>>()?;
        if let Some(name) = &l.id {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(format!(
                    "login id {name:?}: use letters, digits, '-', '_' or '.'"
                ));
            }
        }
        if l.account.trim().is_empty() || l.terminal.trim().is_empty() {
            return Err("login account and terminal must not be empty".into());
        }
        StepAction::Login {
            system: id("system", &l.system, SystemId::parse)?,
            account: l.account.clone(),
            terminal: l.terminal.clone(),
            factors,
            outcome: match &l.outcome {
                Some(o) => o.parse()?,
                None => Outcome::Success,
            },
            id: l.id.clone(),
        }
    } else if let Some(r) = &raw.request {
        request_action(r)?
    } else if let Some(r) = &raw.report {
        if r.request.trim().is_empty() {
            return Err("report request must name a request step's id".into());
        }
        StepAction::Report {
            request: r.request.clone(),
            summary: r.summary.clone(),
            recording: r.recording.clone(),
        }
    } else {
        return Err("a step needs an action".into());
    };
    let (expect, expect_request) = match &raw.expect {
        None => (None, None),
        Some(e) => match &action {
            StepAction::Login { .. } => (Some(login_expect(e)?), None),
            StepAction::Request { .. } => (None, Some(request_expect(e)?)),
            _ => return Err("expect belongs on a login step or a request step".into()),
        },
    };
    Ok(Step {
        line,
        at,
        delay,
        note: raw.note.clone(),
        action,
        expect,
        expect_request,
    })
}

/// The flags of CONTRACT §7 and the maintenance statuses of §10 (`none`: not a
/// maintenance login).
const FLAGS: [&str; 3] = [
    "account_of_leaver",
    "maintenance_unapproved",
    "maintenance_emergency_pending",
];
const MAINTENANCE_STATUSES: [&str; 4] = ["approved", "emergency_pending", "unapproved", "none"];
const REQUEST_STATUSES: [&str; 4] = ["requested", "approved", "denied", "cancelled"];
const FINDINGS: [&str; 4] = [
    "not_performed",
    "unsupervised",
    "report_overdue",
    "emergency_unapproved",
];

fn one_of(what: &str, v: &str, allowed: &[&str]) -> Result<String, String> {
    if allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!(
            "{what} {v:?}: expected one of {}",
            allowed.join(", ")
        ))
    }
}

fn login_expect(e: &RawExpect) -> Result<Expect, String> {
    if e.status.is_some() || e.findings.is_some() || e.supervised.is_some() {
        return Err(
            "status, findings and supervised belong in the expect of a request step".into(),
        );
    }
    let verdict = e
        .verdict
        .as_deref()
        .ok_or("the expect of a login step needs a verdict")?;
    let reasons = |v: &Option<Vec<String>>| -> Result<Option<Vec<Reason>>, String> {
        v.as_ref()
            .map(|v| v.iter().map(|r| r.parse()).collect())
            .transpose()
    };
    Ok(Expect {
        verdict: verdict.parse()?,
        reasons: reasons(&e.reasons)?,
        reasons_include: reasons(&e.reasons_include)?.unwrap_or_default(),
        flags: e
            .flags
            .as_ref()
            .map(|f| f.iter().map(|x| one_of("flag", x, &FLAGS)).collect())
            .transpose()?,
        maintenance: e
            .maintenance
            .as_deref()
            .map(|m| one_of("maintenance", m, &MAINTENANCE_STATUSES))
            .transpose()?,
    })
}

fn request_expect(e: &RawExpect) -> Result<RequestExpect, String> {
    if e.verdict.is_some()
        || e.reasons.is_some()
        || e.reasons_include.is_some()
        || e.flags.is_some()
        || e.maintenance.is_some()
    {
        return Err(
            "the expect of a request step takes status, findings and supervised only".into(),
        );
    }
    let x = RequestExpect {
        status: e
            .status
            .as_deref()
            .map(|s| one_of("status", s, &REQUEST_STATUSES))
            .transpose()?,
        findings: e
            .findings
            .as_ref()
            .map(|f| f.iter().map(|x| one_of("finding", x, &FINDINGS)).collect())
            .transpose()?,
        supervised: e.supervised,
    };
    if x == RequestExpect::default() {
        return Err("the expect of a request step needs status, findings or supervised".into());
    }
    Ok(x)
}

fn request_action(r: &RawRequest) -> Result<StepAction, String> {
    if r.id.is_empty()
        || !r
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "request id {:?}: use letters, digits, '-', '_' or '.'",
            r.id
        ));
    }
    if r.people.is_empty() {
        return Err("request people must name at least one vendor staff member".into());
    }
    let start = span(&r.start).map_err(|e| format!("request start: {e}"))?;
    let end = span(&r.end).map_err(|e| format!("request end: {e}"))?;
    if start >= end {
        return Err("request start must be before its end".into());
    }
    Ok(StepAction::Request {
        vendor: id("vendor", &r.vendor, VendorId::parse)?,
        id: r.id.clone(),
        system: id("system", &r.system, SystemId::parse)?,
        people: r.people.clone(),
        work_plan: r.work_plan.clone(),
        purpose: r.purpose.clone().unwrap_or_default(),
        start,
        end,
        remote: r.remote.unwrap_or(true),
        emergency: r.emergency.unwrap_or(false),
    })
}

/// What a run sends and checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub name: String,
    pub site: SiteId,
    pub start: DateTime<FixedOffset>,
    /// In send order: undelayed steps in file order, then delayed ones by delay (in a
    /// realtime scenario: by time).
    pub sends: Vec<Send>,
    /// One per login step with `expect`, in file order.
    pub checks: Vec<Check>,
    /// One per request step with `expect`, in file order.
    pub request_checks: Vec<RequestCheck>,
    /// The vendor-format doors, each sent over a connection of its own.
    pub doors: BTreeMap<DoorId, Profile>,
    /// Each send is due at `start + after` on the wall clock.
    pub realtime: bool,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub line: usize,
    /// Real time after the run's start (in a realtime scenario: after `start`) at which
    /// to send it.
    pub after: Duration,
    pub action: SendAction,
}

/// What one send does.
#[derive(Debug, Clone, PartialEq)]
pub enum SendAction {
    /// A CONTRACT §5 message over the runner's connection, or a login over HTTP.
    Hub(Action),
    /// The messages of a vendor-format door, over that door's connection.
    Vendor {
        door: DoorId,
        publications: Vec<Publication>,
    },
    /// A vendor-format door leaves the network (the connection is dropped without
    /// `DISCONNECT`, so the broker publishes its last will) or comes back.
    Connection { door: DoorId, online: bool },
}

/// A verdict to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub line: usize,
    /// The name in the file (or `l{line}`).
    pub name: String,
    /// The event id sent to the hub.
    pub event_id: String,
    pub note: Option<String>,
    pub expect: Expect,
}

/// A request to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCheck {
    pub line: usize,
    /// The name in the file.
    pub name: String,
    /// The request id sent to the hub.
    pub request_id: String,
    pub note: Option<String>,
    pub expect: RequestExpect,
}

/// Plans a run at `now`. `run` makes the event ids unique to this run. Fails when a
/// step's time lies in the future of `now` (the hub would be asked about events that
/// have not happened).
pub fn plan(s: &Scenario, now: DateTime<Utc>, run: &str) -> Result<Plan, ScenarioError> {
    let jst = FixedOffset::east_opt(9 * 3600).ok_or_else(|| ScenarioError {
        line: None,
        message: "offset".into(),
    })?;
    let start = match s.start {
        Start::BeforeNow(back) => (now - back).with_timezone(&jst),
        Start::At(t) => t,
    };
    let vendors: BTreeMap<DoorId, Profile> = s
        .doors
        .iter()
        .filter(|(_, v)| v.profile.format() != Format::Native)
        .map(|(d, v)| (d.clone(), v.profile.clone()))
        .collect();
    // Numbered events count per device: a uhppoted controller numbers all its doors'.
    let counter_of = |p: &Profile, door: &DoorId| match p {
        Profile::Uhppoted { device_id, .. } => format!("uhppoted {device_id}"),
        _ => door.to_string(),
    };
    let first_event_id = mqtt_door::default_first_event_id(now);
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut sends = Vec::new();
    let mut checks = Vec::new();
    let mut request_checks = Vec::new();
    // Request step id → its vendor, for the reports.
    let vendor_of: BTreeMap<&str, &VendorId> = s
        .steps
        .iter()
        .filter_map(|st| match &st.action {
            StepAction::Request { id, vendor, .. } => Some((id.as_str(), vendor)),
            _ => None,
        })
        .collect();
    for (n, step) in s.steps.iter().enumerate() {
        let ts = start + step.at;
        if !s.realtime && ts.with_timezone(&Utc) > now {
            return Err(ScenarioError::at(
                step.line,
                format!(
                    "this step's time {} is in the future; move start back (e.g. start = \"now-2h\")",
                    crate::schedule::rfc3339(ts)
                ),
            ));
        }
        let after = if s.realtime {
            step.at.to_std().unwrap_or_default() + step.delay
        } else {
            step.delay
        };
        let vendor = match &step.action {
            StepAction::Door { door, .. } | StepAction::Status { door, .. } => {
                vendors.get(door).map(|p| (door, p))
            }
            StepAction::Login { .. } | StepAction::Request { .. } | StepAction::Report { .. } => {
                None
            }
        };
        if let Some((door, profile)) = vendor {
            let action = match (&step.action, happening(&step.action)) {
                (_, Some((_, h))) => {
                    let id = counters
                        .entry(counter_of(profile, door))
                        .or_insert(first_event_id);
                    let stamp = Stamp {
                        at: ts.with_timezone(&Utc),
                        event_id: *id,
                        late: false,
                    };
                    let mut publications = profile
                        .encode(&h, &stamp)
                        .map_err(|e| ScenarioError::at(step.line, format!("door {door} is {e}")))?;
                    // Not retained, unlike the real uhppoted gateway (see the module docs).
                    for p in &mut publications {
                        p.retain = false;
                    }
                    if profile.numbers_events() && !publications.is_empty() {
                        *id += 1;
                    }
                    SendAction::Vendor {
                        door: door.clone(),
                        publications,
                    }
                }
                (StepAction::Status { status, .. }, None) => SendAction::Connection {
                    door: door.clone(),
                    online: *status == DoorStatus::Online,
                },
                _ => continue,
            };
            sends.push(Send {
                line: step.line,
                after,
                action,
            });
            continue;
        }
        let action = match &step.action {
            StepAction::Door {
                door,
                kind,
                direction,
                credential,
            } => Action::Door(DoorMessage {
                door: door.clone(),
                event_id: format!("sc-{run}-{}", n + 1),
                ts,
                kind: *kind,
                direction: *direction,
                credential: credential.clone(),
            }),
            StepAction::Status { door, status } => Action::Status(StatusMessage {
                door: door.clone(),
                status: *status,
                ts,
            }),
            StepAction::Login {
                system,
                account,
                terminal,
                factors,
                outcome,
                id,
            } => {
                let name = id.clone().unwrap_or_else(|| format!("l{}", step.line));
                let event_id = format!("{name}-{run}");
                if let Some(expect) = &step.expect {
                    checks.push(Check {
                        line: step.line,
                        name,
                        event_id: event_id.clone(),
                        note: step.note.clone(),
                        expect: expect.clone(),
                    });
                }
                Action::Login(LoginMessage {
                    event_id,
                    ts,
                    system: system.clone(),
                    account: account.clone(),
                    terminal: terminal.clone(),
                    factors: factors.clone(),
                    outcome: *outcome,
                })
            }
            StepAction::Request {
                vendor,
                id,
                system,
                people,
                work_plan,
                purpose,
                start: from,
                end: to,
                remote,
                emergency,
            } => {
                let request_id = format!("{id}-{run}");
                if let Some(expect) = &step.expect_request {
                    request_checks.push(RequestCheck {
                        line: step.line,
                        name: id.clone(),
                        request_id: request_id.clone(),
                        note: step.note.clone(),
                        expect: expect.clone(),
                    });
                }
                let body = RequestBody {
                    request_id: request_id.clone(),
                    vendor: None,
                    system: system.to_string(),
                    people: people.clone(),
                    work_plan: work_plan.clone(),
                    purpose: purpose.clone(),
                    start: crate::schedule::rfc3339(start + *from),
                    end: crate::schedule::rfc3339(start + *to),
                    remote: *remote,
                    emergency: *emergency,
                };
                Action::Maintenance(Box::new(MaintenanceMessage {
                    ts,
                    vendor: vendor.clone(),
                    request_id,
                    kind: MaintenanceKind::Request(body),
                }))
            }
            StepAction::Report {
                request,
                summary,
                recording,
            } => {
                let Some(vendor) = vendor_of.get(request.as_str()) else {
                    return Err(ScenarioError::at(
                        step.line,
                        format!("report on request {request:?}: no request step has that id"),
                    ));
                };
                Action::Maintenance(Box::new(MaintenanceMessage {
                    ts,
                    vendor: (*vendor).clone(),
                    request_id: format!("{request}-{run}"),
                    kind: MaintenanceKind::Report {
                        body: ReportBody {
                            summary: summary.clone(),
                            recording: recording.clone(),
                        },
                        needs_approval: false,
                    },
                }))
            }
        };
        sends.push(Send {
            line: step.line,
            after,
            action: SendAction::Hub(action),
        });
    }
    // Stable: undelayed steps keep file order.
    sends.sort_by_key(|s| s.after);
    Ok(Plan {
        name: s.name.clone(),
        site: s.site.clone(),
        start,
        sends,
        checks,
        request_checks,
        doors: vendors,
        realtime: s.realtime,
    })
}

/// The names a scenario uses that `h` does not have, one message per problem.
pub fn check_references(s: &Scenario, h: &Hospital) -> Vec<String> {
    let mut problems = Vec::new();
    if s.site != h.site_id {
        problems.push(format!(
            "site {:?} is not the hospital's ({})",
            s.site.as_str(),
            h.site_id
        ));
    }
    for (door, v) in &s.doors {
        if !h.doors.iter().any(|d| &d.id == door) {
            problems.push(format!("line {}: no door {door}", v.line));
        }
    }
    for step in &s.steps {
        let line = step.line;
        match &step.action {
            StepAction::Door {
                door, credential, ..
            } => {
                if !h.doors.iter().any(|d| &d.id == door) {
                    problems.push(format!("line {line}: no door {door}"));
                }
                if let Some(c) = credential {
                    let known = h.staff.iter().any(|st| {
                        st.person
                            .credentials
                            .iter()
                            .any(|p| p.match_key() == c.match_key())
                    });
                    if !known {
                        problems.push(format!("line {line}: nobody holds credential {c}"));
                    }
                }
            }
            StepAction::Status { door, .. } => {
                if !h.doors.iter().any(|d| &d.id == door) {
                    problems.push(format!("line {line}: no door {door}"));
                }
            }
            StepAction::Login {
                system,
                account,
                terminal,
                factors,
                ..
            } => {
                if !h.systems.iter().any(|x| &x.id == system) {
                    problems.push(format!("line {line}: no system {system}"));
                }
                // A login with two factor categories needs no room, so it may come from
                // anywhere (a vendor's own PC over the VPN); others need a known terminal.
                let direct = Factor::categories_of(factors).spans_two();
                if !direct && !h.terminals.iter().any(|t| t.id.as_str() == terminal) {
                    problems.push(format!("line {line}: no terminal {terminal}"));
                }
                let mapped = h.staff.iter().any(|st| {
                    st.person
                        .accounts
                        .iter()
                        .any(|(k, a)| k == system && a == account)
                });
                let unmapped = h
                    .unmapped_accounts
                    .iter()
                    .any(|u| &u.system == system && &u.account == account);
                if !mapped && !unmapped {
                    problems.push(format!("line {line}: no account {system}/{account}"));
                }
            }
            StepAction::Request {
                vendor,
                system,
                people,
                ..
            } => match h.vendors.iter().find(|v| &v.id == vendor) {
                None => problems.push(format!("line {line}: no vendor {vendor}")),
                Some(v) => {
                    if v.maintains(system).is_none() {
                        problems.push(format!(
                            "line {line}: vendor {vendor} does not maintain {system}"
                        ));
                    }
                    for p in people {
                        let staff = h.staff.iter().any(|st| {
                            st.person.id.as_str() == p && st.person.vendor.as_ref() == Some(vendor)
                        });
                        if !staff {
                            problems
                                .push(format!("line {line}: {p} is not staff of vendor {vendor}"));
                        }
                    }
                }
            },
            StepAction::Report { .. } => {}
        }
    }
    problems
}

/// Where and how to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mqtt_host: String,
    pub mqtt_port: u16,
    pub client_id: String,
    /// The hub's base URL, e.g. `http://127.0.0.1:8080`.
    pub hub_url: String,
    /// System id → login-ingest token.
    pub login_tokens: BTreeMap<String, String>,
    /// Vendor id → vendor token, for request and report steps.
    pub vendor_tokens: BTreeMap<String, String>,
    /// Read token for the checks; `None`: send only.
    pub read_token: Option<String>,
    /// How long to wait for each verdict to come out as expected, after sending.
    pub deadline: Duration,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepResult {
    pub check: Check,
    pub pass: bool,
    /// `verdict [reasons]` as the hub last gave it, or the error.
    pub hub: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub name: String,
    pub sent: usize,
    /// Lines of logins the hub refused, with the reason.
    pub refused: Vec<(usize, String)>,
    pub results: Vec<StepResult>,
    pub request_results: Vec<RequestResult>,
    pub mqtt_unacked: u64,
}

/// The result of one request check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestResult {
    pub check: RequestCheck,
    pub pass: bool,
    /// The request as the hub last gave it, or the error.
    pub hub: String,
}

impl Report {
    /// Whether any check failed or any login, request or report was refused.
    pub fn failed(&self) -> bool {
        !self.refused.is_empty()
            || self.results.iter().any(|r| !r.pass)
            || self.request_results.iter().any(|r| !r.pass)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scenario: {}", self.name)?;
        writeln!(f, "sent {} messages", self.sent)?;
        if self.mqtt_unacked > 0 {
            writeln!(
                f,
                "warning: the broker did not acknowledge {} message(s)",
                self.mqtt_unacked
            )?;
        }
        for (line, why) in &self.refused {
            writeln!(f, "FAIL line {line:<4} the hub refused it: {why}")?;
        }
        for r in &self.results {
            writeln!(
                f,
                "{} line {:<4} {:<14} expected {:<40} hub: {}",
                if r.pass { "PASS" } else { "FAIL" },
                r.check.line,
                r.check.name,
                r.check.expect.to_string(),
                r.hub
            )?;
            if let Some(note) = &r.check.note {
                writeln!(f, "          {note}")?;
            }
        }
        for r in &self.request_results {
            writeln!(
                f,
                "{} line {:<4} {:<14} expected {:<40} hub: {}",
                if r.pass { "PASS" } else { "FAIL" },
                r.check.line,
                r.check.name,
                r.check.expect.to_string(),
                r.hub
            )?;
            if let Some(note) = &r.check.note {
                writeln!(f, "          {note}")?;
            }
        }
        let passed = self.results.iter().filter(|r| r.pass).count()
            + self.request_results.iter().filter(|r| r.pass).count();
        write!(
            f,
            "{passed} of {} checks passed{}",
            self.results.len() + self.request_results.len(),
            if self.failed() {
                " — FAIL"
            } else {
                " — PASS"
            }
        )
    }
}

/// Sends `plan` and checks its expectations. Fails on wrong options (a login's system
/// without a token, a bad URL) or an unreachable broker or hub.
pub async fn run(
    plan: &Plan,
    opts: &RunOptions,
    cancel: CancellationToken,
) -> anyhow::Result<Report> {
    let hub = reqwest::Url::parse(&opts.hub_url)
        .with_context(|| format!("hub URL {:?} is not a URL", opts.hub_url))?;
    if hub.scheme() != "http" {
        bail!("hub URL {:?} must start with http://", opts.hub_url);
    }
    let base = opts.hub_url.trim_end_matches('/').to_string();
    for s in &plan.sends {
        if let SendAction::Hub(Action::Maintenance(m)) = &s.action {
            if !opts.vendor_tokens.contains_key(m.vendor.as_str()) {
                bail!(
                    "line {}: no vendor token for {}; give --vendor-token {}=TOKEN",
                    s.line,
                    m.vendor,
                    m.vendor
                );
            }
        }
        if let SendAction::Hub(Action::Login(m)) = &s.action {
            if !opts.login_tokens.contains_key(m.system.as_str()) {
                bail!(
                    "line {}: no login token for system {}; give --token {}=TOKEN",
                    s.line,
                    m.system,
                    m.system
                );
            }
        }
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("cannot build the HTTP client")?;
    let needs_mqtt = plan.sends.iter().any(|s| {
        matches!(
            s.action,
            SendAction::Hub(Action::Door(_) | Action::Status(_))
        )
    });
    let mut mqtt = if needs_mqtt {
        Some(Mqtt::connect(&opts.mqtt_host, opts.mqtt_port, &opts.client_id, &cancel).await?)
    } else {
        None
    };
    let mut report = Report {
        name: plan.name.clone(),
        ..Report::default()
    };
    // Each vendor door a step uses is a device of its own, connected with its last will.
    let mut devices: BTreeMap<DoorId, MqttDoor> = BTreeMap::new();
    let connected: anyhow::Result<()> = async {
        for s in &plan.sends {
            let (SendAction::Vendor { door, .. } | SendAction::Connection { door, .. }) = &s.action
            else {
                continue;
            };
            let Some(profile) = plan.doors.get(door) else {
                continue;
            };
            if devices.contains_key(door) {
                continue;
            }
            let mut device_opts =
                DeviceOptions::new(profile.clone(), &opts.mqtt_host, opts.mqtt_port, Utc::now());
            device_opts.client_id = format!("{}-{door}", opts.client_id);
            device_opts.heartbeat = None;
            device_opts.retain_events = false;
            let name = door.to_string();
            let mut device = MqttDoor::new(
                device_opts,
                Box::new(move |line: &str| tracing::info!(door = %name, "{line}")),
            );
            device
                .connect(&cancel)
                .await
                .with_context(|| format!("door {door} ({})", profile.format()))?;
            devices.insert(door.clone(), device);
        }
        Ok(())
    }
    .await;
    // A realtime plan is due on the wall clock from its start; otherwise from now.
    let t0 = if plan.realtime {
        let behind = (Utc::now() - plan.start.with_timezone(&Utc))
            .to_std()
            .unwrap_or_default();
        Instant::now()
            .checked_sub(behind)
            .unwrap_or_else(Instant::now)
    } else {
        Instant::now()
    };
    let logins_url = format!("{base}/api/v1/logins");
    let maintenance = Hub::new(&base)?;
    let sent: anyhow::Result<()> = async {
        connected?;
        for s in &plan.sends {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => bail!("interrupted"),
                _ = tokio::time::sleep_until(t0 + s.after) => {}
            }
            if plan.realtime {
                tracing::info!(line = s.line, "sending");
            }
            let (topic, payload) = match &s.action {
                SendAction::Hub(Action::Door(m)) => (m.topic(&plan.site), m.payload()),
                SendAction::Hub(Action::Status(m)) => (m.topic(&plan.site), m.payload()),
                SendAction::Hub(Action::Login(m)) => {
                    let token = opts
                        .login_tokens
                        .get(m.system.as_str())
                        .map(String::as_str)
                        .unwrap_or_default();
                    match post_login(&http, &logins_url, token, &m.event_id, &m.body(), &cancel)
                        .await?
                    {
                        Posted::Accepted(_) => report.sent += 1,
                        Posted::Rejected { status, body } => report
                            .refused
                            .push((s.line, format!("{} — {status} {body}", m.event_id))),
                        Posted::Cancelled => bail!("interrupted"),
                    }
                    continue;
                }
                SendAction::Hub(Action::Maintenance(m)) => {
                    let token = opts
                        .vendor_tokens
                        .get(m.vendor.as_str())
                        .map(String::as_str)
                        .unwrap_or_default();
                    let reply = match &m.kind {
                        MaintenanceKind::Request(body) => {
                            maintenance.file_request(token, body).await?
                        }
                        MaintenanceKind::Report { body, .. } => {
                            maintenance
                                .submit_report(token, &m.request_id, body)
                                .await?
                        }
                        // Decisions need an officer's passkey: scenarios have none.
                        MaintenanceKind::Decision { .. } => continue,
                    };
                    if reply.is_success() {
                        report.sent += 1;
                    } else {
                        report.refused.push((
                            s.line,
                            format!("{} — {} {}", m.request_id, reply.status, reply.body),
                        ));
                    }
                    continue;
                }
                SendAction::Vendor { door, publications } => {
                    if let Some(device) = devices.get_mut(door) {
                        if device.is_online() {
                            report.sent += publications.len();
                        }
                        device.send_events(publications.clone()).await;
                    }
                    continue;
                }
                SendAction::Connection { door, online } => {
                    if let Some(device) = devices.get_mut(door) {
                        if *online {
                            device.connect(&cancel).await?;
                        } else {
                            device.go_offline().await;
                        }
                        report.sent += 1;
                    }
                    continue;
                }
            };
            if let Some(mqtt) = mqtt.as_mut() {
                if !mqtt.publish(topic, payload.to_string(), &cancel).await? {
                    bail!("interrupted");
                }
                report.sent += 1;
            }
        }
        Ok(())
    }
    .await;
    if let Some(mqtt) = mqtt.take() {
        report.mqtt_unacked = mqtt.finish(Duration::from_secs(10)).await;
    }
    // A device still online leaves cleanly (no last will); one the scenario left offline
    // stays offline.
    for (_, device) in std::mem::take(&mut devices) {
        report.mqtt_unacked += device.disconnect().await;
    }
    sent?;
    let Some(token) = &opts.read_token else {
        return Ok(report);
    };
    for check in &plan.checks {
        if report.refused.iter().any(|(l, _)| *l == check.line) {
            continue;
        }
        report
            .results
            .push(check_one(&http, &base, token, check, opts.deadline).await);
    }
    for check in &plan.request_checks {
        if report.refused.iter().any(|(l, _)| *l == check.line) {
            continue;
        }
        report
            .request_results
            .push(check_request(&maintenance, token, check, opts.deadline).await);
    }
    Ok(report)
}

/// Polls the hub for one request until it meets the expectation or `deadline` passes.
pub async fn check_request(
    hub: &Hub,
    token: &str,
    check: &RequestCheck,
    deadline: Duration,
) -> RequestResult {
    let until = Instant::now() + deadline;
    loop {
        let said = match hub.request(token, &check.request_id).await {
            Ok(r) if r.is_success() => match RequestState::parse(&r.json()) {
                Ok(state) => {
                    let text = format!(
                        "{} findings [{}] supervised {}",
                        state.status,
                        state.findings.join(", "),
                        state
                            .supervised
                            .map_or("null".to_string(), |b| b.to_string())
                    );
                    if check.expect.is_met_by(&state) {
                        return RequestResult {
                            check: check.clone(),
                            pass: true,
                            hub: text,
                        };
                    }
                    text
                }
                Err(e) => format!("error: {e:#}"),
            },
            Ok(r) => format!("error: {} {}", r.status, r.body),
            Err(e) => format!("error: {e:#}"),
        };
        if Instant::now() >= until {
            return RequestResult {
                check: check.clone(),
                pass: false,
                hub: said,
            };
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Polls the hub for one login until its verdict meets the expectation or `deadline`
/// passes; the result holds the last answer.
pub async fn check_one(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    check: &Check,
    deadline: Duration,
) -> StepResult {
    let url = format!("{base}/api/v1/logins/{}", check.event_id);
    let until = Instant::now() + deadline;
    loop {
        let hub = match fetch_login(http, &url, token).await {
            Ok(state) => {
                let pass = check.expect.is_met_by(&state.verdict, &state.reasons)
                    && check
                        .expect
                        .flags_met_by(&state.flags, state.maintenance.as_deref());
                let mut hub = format!("{} [{}]", state.verdict, state.reasons.join(", "));
                if check.expect.flags.is_some() || check.expect.maintenance.is_some() {
                    hub.push_str(&format!(
                        " flags [{}] maintenance {}",
                        state.flags.join(", "),
                        state.maintenance.as_deref().unwrap_or("none")
                    ));
                }
                if pass {
                    return StepResult {
                        check: check.clone(),
                        pass,
                        hub,
                    };
                }
                hub
            }
            Err(e) => format!("error: {e:#}"),
        };
        if Instant::now() >= until {
            return StepResult {
                check: check.clone(),
                pass: false,
                hub,
            };
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A login's verdict as the hub states it (the reply to `POST /api/v1/logins` and the
/// body of `GET /api/v1/logins/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubVerdict {
    pub event_id: Option<String>,
    pub verdict: String,
    pub reasons: Vec<String>,
    /// `final`, when the answer has it.
    pub is_final: Option<bool>,
}

impl fmt::Display for HubVerdict {
    /// `verdict [reason, …]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.verdict, self.reasons.join(", "))
    }
}

/// Reads a verdict out of the hub's JSON answer.
pub fn parse_verdict(text: &str) -> anyhow::Result<HubVerdict> {
    let body: serde_json::Value =
        serde_json::from_str(text).context("the hub's answer is not JSON")?;
    let verdict = body["verdict"]
        .as_str()
        .context("the hub's answer has no \"verdict\"")?
        .to_string();
    let reasons = body["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(HubVerdict {
        event_id: body["event_id"].as_str().map(str::to_string),
        verdict,
        reasons,
        is_final: body["final"].as_bool(),
    })
}

/// Asks the hub for a login's verdict, reasons, flags and maintenance status
/// (`GET /api/v1/logins/{id}` with a read token); `url` is the login's full URL.
pub async fn fetch_login(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<LoginState> {
    let resp = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("GET {url}: {status} {text}");
    }
    let body: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("GET {url}: not JSON"))?;
    LoginState::parse(&body).with_context(|| format!("GET {url}"))
}

/// Asks the hub for a login's verdict and reasons (`GET /api/v1/logins/{id}` with a read
/// token); `url` is the login's full URL.
pub async fn fetch_verdict(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let resp = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("GET {url}: {status} {text}");
    }
    let v = parse_verdict(&text).with_context(|| format!("GET {url}"))?;
    Ok((v.verdict, v.reasons))
}

#[cfg(test)]
mod tests;
