//! Vendor maintenance (保守作業, CONTRACT §10): the rules that keep a vendor's work under
//! the hospital's control — 事前申請・承認 (a request decided by someone else), 作業の監督
//! (立会い: supervision of on-site work), ログ取得 (every maintenance login reconciled
//! against approved work) and 作業報告 (a report, confirmed by the hospital).
//!
//! Everything here is a pure function of values the server passes in; the server stores
//! requests, decisions and reports, and answers the API with what these functions return.
//!
//! - A [`RequestBody`] (the JSON of `POST /api/v1/maintenance`) becomes a [`Request`]
//!   through [`Request::from_body`], or a [`RequestError`] whose [`RequestError::code`]
//!   is the API's `422` code. [`replay`] says whether a repeated `request_id` is the same
//!   request (`200`) or another one (`409 request_id_conflict`).
//! - [`decide`] applies a [`Decision`] (`approve`, `deny`, `cancel`, `confirm`) and
//!   [`submit_report`] a [`ReportBody`]: each returns the request as it is afterwards, or
//!   why not (`self_approval`, `invalid_transition`, …).
//! - [`covering`] finds the request that covers a maintenance login or a vendor's door
//!   entry, and [`reconcile_login`] gives a login's `maintenance` object and its §7
//!   [`Flag`]s, in the contract's order.
//! - [`supervision`] decides 立会い from presence intervals (interval arithmetic on
//!   `[from, to)`), and [`supervised`] gathers those intervals from the timeline.
//! - [`findings`] lists what an officer must act on for one request, in the contract's
//!   order.

use crate::event::{Login, Outcome};
use crate::ids::{IdError, PersonId, RequestId, RoomId, SystemId, VendorId};
use crate::inventory::Inventory;
use crate::text::{Bound, Text, TextError};
use crate::time::{Span, Timestamp};
use crate::timeline::{Presence, Timeline};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

// ---- settings --------------------------------------------------------------------------

/// `[maintenance]` of `monban.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceSettings {
    /// The longest window a request may ask for.
    pub max_window: Span,
    /// A work report is due this long after the window ends.
    pub report_due: Span,
}

impl MaintenanceSettings {
    pub const DEFAULT_MAX_WINDOW: Span = Span::from_millis_const(24 * 3600 * 1000);
    pub const DEFAULT_REPORT_DUE: Span = Span::from_millis_const(7 * 24 * 3600 * 1000);
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        MaintenanceSettings {
            max_window: Self::DEFAULT_MAX_WINDOW,
            report_due: Self::DEFAULT_REPORT_DUE,
        }
    }
}

// ---- requests --------------------------------------------------------------------------

/// The body of `POST /api/v1/maintenance`, as sent. A missing field is the server's
/// `400`; every value is checked by [`Request::from_body`] (`422`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    pub request_id: String,
    /// The vendor, when an officer or admin files the request; a vendor's token names
    /// its own vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    pub system: String,
    pub people: Vec<String>,
    /// 作業計画書の番号, 3–128 characters.
    pub work_plan: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub purpose: String,
    /// RFC 3339 with an offset.
    pub start: String,
    pub end: String,
    pub remote: bool,
    /// 緊急: may be worked before it is approved (事後承認).
    #[serde(default, deserialize_with = "null_as_default")]
    pub emergency: bool,
}

/// An optional field sent as `null` is the same as one left out.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Who filed a request: a vendor (with its token) or a signed-in hub user. Serialized as
/// its [`fmt::Display`] text (`vendor:acme-med`, `user:kanri`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Filer {
    Vendor(VendorId),
    /// The user as the server names them (the same name a decision's `by` carries).
    User(String),
}

/// `vendor:acme-med` or `user:kanri` (the contract's `requested_by`).
impl fmt::Display for Filer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filer::Vendor(v) => write!(f, "vendor:{v}"),
            Filer::User(u) => write!(f, "user:{u}"),
        }
    }
}

impl From<Filer> for String {
    fn from(f: Filer) -> String {
        f.to_string()
    }
}

impl TryFrom<String> for Filer {
    type Error = String;
    fn try_from(s: String) -> Result<Filer, String> {
        s.parse()
    }
}

impl FromStr for Filer {
    type Err = String;
    fn from_str(s: &str) -> Result<Filer, String> {
        match s.split_once(':') {
            Some(("vendor", v)) => VendorId::parse(v)
                .map(Filer::Vendor)
                .map_err(|e| e.to_string()),
            Some(("user", u)) if !u.is_empty() => Ok(Filer::User(u.to_string())),
            _ => Err(format!("{s:?} is neither vendor:<id> nor user:<name>")),
        }
    }
}

/// A request's status. A report and its confirmation are kept with the request
/// ([`Report`]), not as statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Requested,
    Approved,
    Denied,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Requested,
        RequestStatus::Approved,
        RequestStatus::Denied,
        RequestStatus::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Requested => "requested",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
            RequestStatus::Cancelled => "cancelled",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            RequestStatus::Requested => "申請中",
            RequestStatus::Approved => "承認済み",
            RequestStatus::Denied => "却下",
            RequestStatus::Cancelled => "取消",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            RequestStatus::Requested => "Requested",
            RequestStatus::Approved => "Approved",
            RequestStatus::Denied => "Denied",
            RequestStatus::Cancelled => "Cancelled",
        }
    }
}

impl FromStr for RequestStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RequestStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown maintenance status {s:?}"))
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 承認 (while `requested`).
    Approve,
    /// 却下 (while `requested`).
    Deny,
    /// 取消 (while `approved`, before `end`).
    Cancel,
    /// 企画管理者確認 of a submitted report.
    Confirm,
}

impl Decision {
    pub const ALL: [Decision; 4] = [
        Decision::Approve,
        Decision::Deny,
        Decision::Cancel,
        Decision::Confirm,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Cancel => "cancel",
            Decision::Confirm => "confirm",
        }
    }
    /// The decision's name, also the dashboard button's text (承認 / 却下 / 取消 / 確認).
    pub fn label_ja(self) -> &'static str {
        match self {
            Decision::Approve => "承認",
            Decision::Deny => "却下",
            Decision::Cancel => "取消",
            Decision::Confirm => "確認",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Decision::Approve => "Approve",
            Decision::Deny => "Deny",
            Decision::Cancel => "Cancel",
            Decision::Confirm => "Confirm",
        }
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                format!("unknown decision {s:?}; expected approve, deny, cancel or confirm")
            })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision as recorded (`{"decision", "by", "at", "note"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision: Decision,
    pub by: String,
    pub at: Timestamp,
    pub note: String,
}

/// A PAM tool's session recording, kept by reference and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// 64 hexadecimal digits (kept in lower case).
    pub sha256: String,
    pub uri: String,
}

/// The body of `POST /api/v1/maintenance/{id}/report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    pub summary: String,
    #[serde(default)]
    pub recording: Option<Recording>,
}

/// A submitted work report (作業報告) and its confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub at: Timestamp,
    pub summary: String,
    pub recording: Option<Recording>,
    /// Who confirmed it (企画管理者確認), when confirmed.
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<Timestamp>,
}

/// A maintenance request with what happened to it. Its serde form is how the server
/// stores it (one document per request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: RequestId,
    pub vendor: VendorId,
    pub system: SystemId,
    pub people: Vec<PersonId>,
    pub work_plan: String,
    pub purpose: String,
    /// The window is `start <= t < end`.
    pub start: Timestamp,
    pub end: Timestamp,
    pub remote: bool,
    pub emergency: bool,
    pub requested_by: Filer,
    pub requested_at: Timestamp,
    pub status: RequestStatus,
    pub decisions: Vec<DecisionRecord>,
    pub report: Option<Report>,
}

/// A work plan number: 3 to 128 characters.
pub const WORK_PLAN: Bound = Bound {
    field: "work_plan",
    max_chars: 128,
    required: true,
};
const WORK_PLAN_MIN_CHARS: usize = 3;
/// A request's purpose.
pub const PURPOSE: Bound = Bound {
    field: "purpose",
    max_chars: 2000,
    required: false,
};
/// A report's summary.
pub const SUMMARY: Bound = Bound {
    field: "summary",
    max_chars: 2000,
    required: true,
};
/// A recording's URI.
pub const RECORDING_URI: Bound = Bound {
    field: "uri",
    max_chars: 2000,
    required: true,
};

/// Why a request body is refused: each is a `422` with [`RequestError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("request_id: {0}")]
    InvalidRequestId(IdError),
    /// An officer or admin filed the request without naming the vendor.
    #[error("name the vendor the request is for (\"vendor\")")]
    VendorRequired,
    #[error("vendor {0:?} is not in [[vendors]]")]
    UnknownVendor(String),
    /// A vendor's token named another vendor.
    #[error("this token is for vendor {token:?}, not {named:?}")]
    VendorMismatch { token: String, named: String },
    #[error("vendor {vendor:?} does not maintain system {system:?}")]
    NotMaintainedByVendor { vendor: String, system: String },
    #[error("list at least one person who will do the work")]
    NoPeople,
    #[error("person {0:?} is listed twice")]
    PersonTwice(String),
    #[error("person {person:?} is not staff of vendor {vendor:?}")]
    NotVendorStaff { person: String, vendor: String },
    #[error("work_plan must be 3 to 128 characters without control characters")]
    InvalidWorkPlan,
    #[error("{0}")]
    InvalidPurpose(TextError),
    #[error("{0}")]
    InvalidWindow(String),
}

impl RequestError {
    /// The API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::InvalidRequestId(_) => "invalid_request_id",
            RequestError::VendorRequired => "vendor_required",
            RequestError::UnknownVendor(_) => "unknown_vendor",
            RequestError::VendorMismatch { .. } => "vendor_mismatch",
            RequestError::NotMaintainedByVendor { .. } => "not_maintained_by_vendor",
            RequestError::NoPeople | RequestError::PersonTwice(_) => "invalid_people",
            RequestError::NotVendorStaff { .. } => "not_vendor_staff",
            RequestError::InvalidWorkPlan => "invalid_work_plan",
            RequestError::InvalidPurpose(_) => "invalid_purpose",
            RequestError::InvalidWindow(_) => "invalid_window",
        }
    }

    /// The message the API answers.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// The vendor a request is for: the token's vendor (a body naming another one is
/// refused), or the vendor an officer or admin names.
fn resolve_vendor(
    body: &RequestBody,
    filer: &Filer,
    inv: &Inventory,
) -> Result<VendorId, RequestError> {
    let named = body.vendor.as_deref().map(str::trim);
    let id = match (filer, named) {
        (Filer::Vendor(v), None) => return Ok(v.clone()),
        (Filer::Vendor(v), Some(n)) if n == v.as_str() => return Ok(v.clone()),
        (Filer::Vendor(v), Some(n)) => {
            return Err(RequestError::VendorMismatch {
                token: v.to_string(),
                named: n.to_string(),
            })
        }
        (Filer::User(_), None | Some("")) => return Err(RequestError::VendorRequired),
        (Filer::User(_), Some(n)) => n,
    };
    VendorId::parse(id)
        .ok()
        .filter(|v| inv.vendor(v).is_some())
        .ok_or_else(|| RequestError::UnknownVendor(id.to_string()))
}

impl Request {
    /// Checks a body against the inventory and the settings, in this order: the
    /// `request_id`, the vendor, the system (`not_maintained_by_vendor`), the people
    /// (`not_vendor_staff`), the work plan, the purpose, the window (`invalid_window`).
    /// The request starts `requested`, filed by `filer` at `at`.
    pub fn from_body(
        body: &RequestBody,
        filer: Filer,
        at: Timestamp,
        inv: &Inventory,
        settings: &MaintenanceSettings,
    ) -> Result<Request, RequestError> {
        let id =
            RequestId::parse(body.request_id.trim()).map_err(RequestError::InvalidRequestId)?;
        let vendor = resolve_vendor(body, &filer, inv)?;
        let not_maintained = || RequestError::NotMaintainedByVendor {
            vendor: vendor.to_string(),
            system: body.system.trim().to_string(),
        };
        let system = SystemId::parse(body.system.trim()).map_err(|_| not_maintained())?;
        if inv.maintains(&vendor, &system).is_none() {
            return Err(not_maintained());
        }
        if body.people.is_empty() {
            return Err(RequestError::NoPeople);
        }
        let mut people: Vec<PersonId> = Vec::with_capacity(body.people.len());
        for p in &body.people {
            let not_staff = || RequestError::NotVendorStaff {
                person: p.trim().to_string(),
                vendor: vendor.to_string(),
            };
            let person = PersonId::parse(p.trim()).map_err(|_| not_staff())?;
            if !inv.is_vendor_staff(&person, &vendor) {
                return Err(not_staff());
            }
            if people.contains(&person) {
                return Err(RequestError::PersonTwice(person.to_string()));
            }
            people.push(person);
        }
        let work_plan = Text::parse(&body.work_plan, WORK_PLAN)
            .ok()
            .filter(|w| w.as_str().chars().count() >= WORK_PLAN_MIN_CHARS)
            .ok_or(RequestError::InvalidWorkPlan)?;
        let purpose = Text::parse(&body.purpose, PURPOSE).map_err(RequestError::InvalidPurpose)?;
        let (start, end) = window(&body.start, &body.end, settings)?;
        Ok(Request {
            id,
            vendor,
            system,
            people,
            work_plan: work_plan.into_string(),
            purpose: purpose.into_string(),
            start,
            end,
            remote: body.remote,
            emergency: body.emergency,
            requested_by: filer,
            requested_at: at,
            status: RequestStatus::Requested,
            decisions: Vec::new(),
            report: None,
        })
    }

    /// Whether `t` is inside the window, `start <= t < end`.
    pub fn window_contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether `body` asks for the same request as this one: the same vendor, system,
    /// people (in order), work plan, purpose, window (as instants: `+09:00` and `Z` for
    /// the same time are the same), `remote` and `emergency`.
    pub fn same_body(&self, body: &RequestBody, filer: &Filer) -> bool {
        let vendor = match (filer, body.vendor.as_deref().map(str::trim)) {
            (_, Some(n)) if !n.is_empty() => n.to_string(),
            (Filer::Vendor(v), _) => v.to_string(),
            (Filer::User(_), _) => return false,
        };
        let instant = |s: &str| Timestamp::parse_rfc3339(s).ok();
        self.id.as_str() == body.request_id.trim()
            && self.vendor.as_str() == vendor
            && self.system.as_str() == body.system.trim()
            && self.people.len() == body.people.len()
            && self
                .people
                .iter()
                .zip(&body.people)
                .all(|(a, b)| a.as_str() == b.trim())
            && self.work_plan == body.work_plan.trim()
            && self.purpose == body.purpose.trim()
            && Some(self.start) == instant(&body.start)
            && Some(self.end) == instant(&body.end)
            && self.remote == body.remote
            && self.emergency == body.emergency
    }
}

/// Reads a window: two RFC 3339 instants, `start < end`, at most `max_window` long.
fn window(
    start: &str,
    end: &str,
    settings: &MaintenanceSettings,
) -> Result<(Timestamp, Timestamp), RequestError> {
    let read = |field: &str, v: &str| {
        Timestamp::parse_rfc3339(v)
            .map_err(|e| RequestError::InvalidWindow(format!("{field}: {e}")))
    };
    let (start, end) = (read("start", start)?, read("end", end)?);
    if start >= end {
        return Err(RequestError::InvalidWindow(
            "start must be before end".to_string(),
        ));
    }
    if end.as_millis() - start.as_millis() > settings.max_window.as_millis() {
        return Err(RequestError::InvalidWindow(format!(
            "the window is longer than max_window ({})",
            settings.max_window
        )));
    }
    Ok((start, end))
}

/// What a repeated `request_id` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// No request has this id: file it (`201`).
    New,
    /// The same body again: answer the stored request (`200`).
    Same,
    /// Another body under a used id: `409 request_id_conflict`.
    Conflict,
}

/// The idempotency rule of `POST /api/v1/maintenance`: `stored` is the request already
/// filed under the body's `request_id`, if any. Decided before the body is checked, so
/// a repeat of an accepted request is answered the same even if the inventory changed.
pub fn replay(stored: Option<&Request>, body: &RequestBody, filer: &Filer) -> Replay {
    match stored {
        None => Replay::New,
        Some(r) if r.same_body(body, filer) => Replay::Same,
        Some(_) => Replay::Conflict,
    }
}

// ---- decisions and reports -----------------------------------------------------------

/// Why a decision is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// `403`: the decider filed the request.
    #[error("{by:?} filed this request and cannot decide it")]
    SelfApproval { by: String },
    /// `409`: the request is not in a state the decision applies to.
    #[error("cannot {decision} a request that is {status}: {why}")]
    InvalidTransition {
        decision: Decision,
        status: RequestStatus,
        why: &'static str,
    },
    /// `422`: the note is too long or holds control characters.
    #[error("{0}")]
    InvalidNote(TextError),
}

impl DecisionError {
    pub fn code(&self) -> &'static str {
        match self {
            DecisionError::SelfApproval { .. } => "self_approval",
            DecisionError::InvalidTransition { .. } => "invalid_transition",
            DecisionError::InvalidNote(_) => "invalid_note",
        }
    }
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Applies `decision` by `by` (a signed-in officer or admin, named as in
/// [`Filer::User`]) at `at`, and returns the request as it is afterwards:
///
/// | decision | allowed when | then |
/// |---|---|---|
/// | `approve` | `requested` | `approved` |
/// | `deny` | `requested` | `denied` |
/// | `cancel` | `approved` and `at < end` | `cancelled` |
/// | `confirm` | a report was submitted and is not yet confirmed | the report is confirmed by `by` |
///
/// Whoever filed the request decides nothing about it (`self_approval`, checked first).
pub fn decide(
    request: &Request,
    decision: Decision,
    by: &str,
    note: &str,
    at: Timestamp,
) -> Result<Request, DecisionError> {
    if request.requested_by == Filer::User(by.to_string()) {
        return Err(DecisionError::SelfApproval { by: by.to_string() });
    }
    let note = Text::parse(note, crate::text::NOTE).map_err(DecisionError::InvalidNote)?;
    let refuse = |why| DecisionError::InvalidTransition {
        decision,
        status: request.status,
        why,
    };
    let mut next = request.clone();
    match decision {
        Decision::Approve | Decision::Deny => {
            if request.status != RequestStatus::Requested {
                return Err(refuse("only a requested request is approved or denied"));
            }
            next.status = if decision == Decision::Approve {
                RequestStatus::Approved
            } else {
                RequestStatus::Denied
            };
        }
        Decision::Cancel => {
            if request.status != RequestStatus::Approved {
                return Err(refuse("only an approved request is cancelled"));
            }
            if at >= request.end {
                return Err(refuse("its window has ended"));
            }
            next.status = RequestStatus::Cancelled;
        }
        Decision::Confirm => match &mut next.report {
            None => return Err(refuse("no report has been submitted")),
            Some(r) if r.confirmed_by.is_some() => {
                return Err(refuse("its report is already confirmed"))
            }
            Some(r) => {
                r.confirmed_by = Some(by.to_string());
                r.confirmed_at = Some(at);
            }
        },
    }
    next.decisions.push(DecisionRecord {
        decision,
        by: by.to_string(),
        at,
        note: note.into_string(),
    });
    Ok(next)
}

/// Why a report is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// `409`: work cannot be reported before its window starts.
    #[error("the window starts at {start}; report after it")]
    BeforeStart { start: Timestamp },
    /// `409`: the request was not approved (nor is it an emergency awaiting approval).
    #[error("a request that is {0} has no work to report")]
    NotApproved(RequestStatus),
    /// `409`: a report was already submitted.
    #[error("a report was already submitted")]
    AlreadyReported,
    /// `422`.
    #[error("{0}")]
    InvalidSummary(TextError),
    /// `422`.
    #[error("recording: {0}")]
    InvalidRecording(String),
}

impl ReportError {
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::BeforeStart { .. } | ReportError::NotApproved(_) => "invalid_transition",
            ReportError::AlreadyReported => "report_exists",
            ReportError::InvalidSummary(_) => "invalid_summary",
            ReportError::InvalidRecording(_) => "invalid_recording",
        }
    }
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Records the vendor's work report at `at`: after `start`, for a request that is
/// approved (or an emergency request still awaiting approval: its work may have been
/// done), once.
pub fn submit_report(
    request: &Request,
    body: &ReportBody,
    at: Timestamp,
) -> Result<Request, ReportError> {
    let may_have_worked = request.status == RequestStatus::Approved
        || (request.emergency && request.status == RequestStatus::Requested);
    if !may_have_worked {
        return Err(ReportError::NotApproved(request.status));
    }
    if at < request.start {
        return Err(ReportError::BeforeStart {
            start: request.start,
        });
    }
    if request.report.is_some() {
        return Err(ReportError::AlreadyReported);
    }
    let summary = Text::parse(&body.summary, SUMMARY).map_err(ReportError::InvalidSummary)?;
    let recording = match &body.recording {
        None => None,
        Some(r) => {
            let sha = r.sha256.trim().to_ascii_lowercase();
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ReportError::InvalidRecording(
                    "sha256 must be 64 hexadecimal digits".to_string(),
                ));
            }
            let uri = Text::parse(&r.uri, RECORDING_URI)
                .map_err(|e| ReportError::InvalidRecording(e.to_string()))?;
            Some(Recording {
                sha256: sha,
                uri: uri.into_string(),
            })
        }
    };
    let mut next = request.clone();
    next.report = Some(Report {
        at,
        summary: summary.into_string(),
        recording,
        confirmed_by: None,
        confirmed_at: None,
    });
    Ok(next)
}

// ---- reconciliation ------------------------------------------------------------------

/// How a maintenance login (or a vendor's door entry) stands (`maintenance.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    /// Covered by an approved request.
    Approved,
    /// Covered only by an emergency request not yet approved.
    EmergencyPending,
    /// No request covers it.
    Unapproved,
}

impl CoverageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Approved => "approved",
            CoverageStatus::EmergencyPending => "emergency_pending",
            CoverageStatus::Unapproved => "unapproved",
        }
    }
    pub const ALL: [CoverageStatus; 3] = [
        CoverageStatus::Approved,
        CoverageStatus::EmergencyPending,
        CoverageStatus::Unapproved,
    ];
    pub fn label_ja(self) -> &'static str {
        match self {
            CoverageStatus::Approved => "承認済み",
            CoverageStatus::EmergencyPending => "緊急・承認待ち",
            CoverageStatus::Unapproved => "未承認",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            CoverageStatus::Approved => "Approved",
            CoverageStatus::EmergencyPending => "Emergency, awaiting approval",
            CoverageStatus::Unapproved => "Unapproved",
        }
    }
}

impl FromStr for CoverageStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CoverageStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown maintenance coverage {s:?}"))
    }
}

/// A login's `maintenance` object: `{"request_id": … | null, "status": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub request_id: Option<RequestId>,
    pub status: CoverageStatus,
}

/// The request that covers a maintenance login or door entry of `person` (staff of
/// `vendor`) at `ts` — for a login, on `system`; an entry has no system. A request covers
/// it when it is the vendor's, for that system, lists the person, has `start <= ts <
/// end`, and is `approved` or an emergency request still `requested`.
///
/// When several do, an approved one wins over an emergency one awaiting approval, then
/// the earliest `start`, then the smallest id: the answer does not depend on the order
/// the requests are listed in.
pub fn covering<'a>(
    requests: impl IntoIterator<Item = &'a Request>,
    vendor: &VendorId,
    person: &PersonId,
    system: Option<&SystemId>,
    ts: Timestamp,
) -> Coverage {
    let best = requests
        .into_iter()
        .filter_map(|r| {
            let status = match r.status {
                RequestStatus::Approved => CoverageStatus::Approved,
                RequestStatus::Requested if r.emergency => CoverageStatus::EmergencyPending,
                _ => return None,
            };
            let fits = &r.vendor == vendor
                && system.is_none_or(|s| &r.system == s)
                && r.people.contains(person)
                && r.window_contains(ts);
            fits.then_some((status, r.start, &r.id))
        })
        .min();
    match best {
        Some((status, _, id)) => Coverage {
            request_id: Some(id.clone()),
            status,
        },
        None => Coverage {
            request_id: None,
            status: CoverageStatus::Unapproved,
        },
    }
}

/// A fact about a login that an officer must act on besides its verdict (CONTRACT §7),
/// in the contract's order (the derived `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The account maps to a person whose `until` day had ended at the login's time.
    AccountOfLeaver,
    /// A maintenance login that no request covers.
    MaintenanceUnapproved,
    /// A maintenance login covered only by an emergency request not yet approved.
    MaintenanceEmergencyPending,
}

impl Flag {
    pub const ALL: [Flag; 3] = [
        Flag::AccountOfLeaver,
        Flag::MaintenanceUnapproved,
        Flag::MaintenanceEmergencyPending,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::AccountOfLeaver => "account_of_leaver",
            Flag::MaintenanceUnapproved => "maintenance_unapproved",
            Flag::MaintenanceEmergencyPending => "maintenance_emergency_pending",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Flag::AccountOfLeaver => "退職者のアカウント",
            Flag::MaintenanceUnapproved => "未承認の保守",
            Flag::MaintenanceEmergencyPending => "緊急保守・承認待ち",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Flag::AccountOfLeaver => "Account of a leaver",
            Flag::MaintenanceUnapproved => "Unapproved maintenance",
            Flag::MaintenanceEmergencyPending => "Emergency maintenance awaiting approval",
        }
    }
}

impl FromStr for Flag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Flag::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown flag {s:?}"))
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What reconciliation says about one login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFacts {
    /// For a maintenance login (a successful login of vendor staff); `None` otherwise.
    pub maintenance: Option<Coverage>,
    /// In the contract's order.
    pub flags: Vec<Flag>,
}

/// Reconciles a login against the inventory and the requests: its `maintenance` object
/// when it is a maintenance login, and its flags (`account_of_leaver` on the site's
/// calendar, [`Inventory::offset`]). `account_of_leaver` applies to any
/// login, failed ones too: an attempt on a leaver's account is as much a reason to remove
/// it. The flags may change when a request is decided: call again.
pub fn reconcile_login(inv: &Inventory, requests: &[Request], login: &Login) -> LoginFacts {
    let person = inv
        .person_by_account(&login.system, &login.account)
        .and_then(|id| inv.person(id));
    let mut flags = Vec::new();
    if person.is_some_and(|p| p.has_left(login.ts, inv.offset())) {
        flags.push(Flag::AccountOfLeaver);
    }
    let maintenance = match person {
        Some(p) if login.outcome == Outcome::Success => p
            .vendor
            .as_ref()
            .map(|vendor| covering(requests, vendor, &p.id, Some(&login.system), login.ts)),
        _ => None,
    };
    match maintenance.as_ref().map(|c| c.status) {
        Some(CoverageStatus::Unapproved) => flags.push(Flag::MaintenanceUnapproved),
        Some(CoverageStatus::EmergencyPending) => flags.push(Flag::MaintenanceEmergencyPending),
        _ => {}
    }
    flags.sort();
    LoginFacts { maintenance, flags }
}

/// Reconciles a door entry of `person` at `ts`: the request it counts toward, when the
/// person is vendor staff (`None` for the hospital's own staff).
pub fn reconcile_entry(
    inv: &Inventory,
    requests: &[Request],
    person: &PersonId,
    ts: Timestamp,
) -> Option<Coverage> {
    let vendor = inv.person(person)?.vendor.as_ref()?;
    Some(covering(requests, vendor, person, None, ts))
}

// ---- supervision (立会い) -------------------------------------------------------------

/// Someone's stay in a room, `from <= t < to` (a [`Presence`] without its evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub room: RoomId,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl From<&Presence> for Stay {
    fn from(p: &Presence) -> Stay {
        Stay {
            room: p.room.clone(),
            from: p.from,
            to: p.to,
        }
    }
}

/// Merges half-open intervals into disjoint, sorted ones; touching intervals (`[a, b)`
/// and `[b, c)`) merge, empty ones vanish.
fn union(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.retain(|(a, b)| a < b);
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Whether the union `outer` covers every interval of the union `inner`. Both are
/// disjoint and sorted, and merged intervals do not touch, so each inner interval must
/// lie inside a single outer one.
fn covers(outer: &[(i64, i64)], inner: &[(i64, i64)]) -> bool {
    inner.iter().all(|&(a, b)| {
        // The last outer interval starting at or before `a`.
        let k = outer.partition_point(|o| o.0 <= a);
        k > 0 && b <= outer[k - 1].1
    })
}

/// 立会い (CONTRACT §10) over the window `[start, end)`: `Some(true)` when at every moment
/// a worker (a listed person) was in a room, a supervisor (a person without `vendor`)
/// was in the same room; `Some(false)` when there is a moment without one; `None` when no
/// worker was in any room during the window.
pub fn supervision(
    start: Timestamp,
    end: Timestamp,
    workers: &[Stay],
    supervisors: &[Stay],
) -> Option<bool> {
    let (ws, we) = (start.as_millis(), end.as_millis());
    /// A room's worker and supervisor intervals, in milliseconds.
    type Intervals = Vec<(i64, i64)>;
    let mut by_room: BTreeMap<&RoomId, (Intervals, Intervals)> = BTreeMap::new();
    for s in workers {
        let (a, b) = (s.from.as_millis().max(ws), s.to.as_millis().min(we));
        if a < b {
            by_room.entry(&s.room).or_default().0.push((a, b));
        }
    }
    if by_room.is_empty() {
        return None;
    }
    for s in supervisors {
        if let Some((_, sup)) = by_room.get_mut(&s.room) {
            sup.push((s.from.as_millis(), s.to.as_millis()));
        }
    }
    Some(
        by_room
            .into_values()
            .all(|(work, sup)| covers(&union(sup), &union(work))),
    )
}

/// [`supervision`] for a request, from the timeline's presences: `None` for remote work.
/// The workers are the request's people; the supervisors every person of the inventory
/// without `vendor`. An entry made after the person's `until` day had ended starts no
/// presence (CONTRACT §3, [`crate::timeline::Access::starts_presence`]), for either.
pub fn supervised(inv: &Inventory, timeline: &Timeline, request: &Request) -> Option<bool> {
    if request.remote {
        return None;
    }
    let stays = |person: &PersonId| -> Vec<Stay> {
        timeline
            .presence_of(inv, person)
            .iter()
            .filter(|s| s.from < request.end && request.start < s.to)
            .map(Stay::from)
            .collect()
    };
    let workers: Vec<Stay> = request.people.iter().flat_map(&stays).collect();
    if workers.is_empty() {
        return None;
    }
    let supervisors: Vec<Stay> = inv
        .people()
        .iter()
        .filter(|p| p.vendor.is_none())
        .flat_map(|p| stays(&p.id))
        .collect();
    supervision(request.start, request.end, &workers, &supervisors)
}

// ---- findings ------------------------------------------------------------------------

/// What an officer must act on for one request (CONTRACT §10), in the contract's order
/// (the derived `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// Approved, the window has ended, and no login and no entry counted toward it.
    NotPerformed,
    /// On-site work without supervision at some moment.
    Unsupervised,
    /// No report `report_due` after the end.
    ReportOverdue,
    /// An emergency request still not approved `report_due` after its end.
    EmergencyUnapproved,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::NotPerformed => "not_performed",
            Finding::Unsupervised => "unsupervised",
            Finding::ReportOverdue => "report_overdue",
            Finding::EmergencyUnapproved => "emergency_unapproved",
        }
    }
    /// In the contract's order.
    pub const ALL: [Finding; 4] = [
        Finding::NotPerformed,
        Finding::Unsupervised,
        Finding::ReportOverdue,
        Finding::EmergencyUnapproved,
    ];
    pub fn label_ja(self) -> &'static str {
        match self {
            Finding::NotPerformed => "未実施",
            Finding::Unsupervised => "立会いなし",
            Finding::ReportOverdue => "報告書未提出",
            Finding::EmergencyUnapproved => "緊急・未承認",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Finding::NotPerformed => "Not performed",
            Finding::Unsupervised => "Unsupervised",
            Finding::ReportOverdue => "Report overdue",
            Finding::EmergencyUnapproved => "Emergency, not approved",
        }
    }
}

impl FromStr for Finding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Finding::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown finding {s:?}"))
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The logins and door entries that count toward a request (see [`covering`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    pub logins: usize,
    pub entries: usize,
}

/// The findings of a request at `now`, in the contract's order:
/// - `not_performed` — approved, `now >= end`, no login and no entry;
/// - `unsupervised` — `supervised` is `Some(false)`;
/// - `report_overdue` — work was allowed (approved, or an emergency request awaiting
///   approval), `now` is past `end + report_due`, and there is no report;
/// - `emergency_unapproved` — an emergency request still `requested` past
///   `end + report_due`.
///
/// A denied or cancelled request owes no report; a report is due at `end +
/// report_due` and overdue after it.
pub fn findings(
    request: &Request,
    activity: Activity,
    supervised: Option<bool>,
    now: Timestamp,
    settings: &MaintenanceSettings,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let approved = request.status == RequestStatus::Approved;
    let pending_emergency = request.emergency && request.status == RequestStatus::Requested;
    let due_passed = now > request.end.saturating_add(settings.report_due);
    if approved && now >= request.end && activity.logins == 0 && activity.entries == 0 {
        out.push(Finding::NotPerformed);
    }
    if supervised == Some(false) {
        out.push(Finding::Unsupervised);
    }
    if (approved || pending_emergency) && due_passed && request.report.is_none() {
        out.push(Finding::ReportOverdue);
    }
    if pending_emergency && due_passed {
        out.push(Finding::EmergencyUnapproved);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
