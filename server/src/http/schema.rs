//! The wire types of the OpenAPI description (`super::openapi`): request bodies that
//! mirror `monban-core`'s parsers, the replies the handlers build with `json!`, and the
//! enumerations taken from the core's own lists. Handlers name them in their
//! `#[utoipa::path]` attributes; the document collects them.

use monban_core::{ComplianceStatus, CredentialType, DoorEventKind, Factor, Reason, VerdictKind};
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

// ------------------------------------------------------------------ enumerations

/// A string schema whose values are `values`.
fn string_enum<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.into_iter().map(str::to_string)))
        .into()
}

macro_rules! core_enum {
    ($(#[$doc:meta])* $name:ident, $description:literal, $values:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum($description, $values)
            }
        }
        impl ToSchema for $name {}
    };
}

core_enum!(
    /// `monban_core::Factor` (CONTRACT §2).
    FactorName,
    "A login factor (CONTRACT §2).",
    Factor::ALL.iter().map(|f| f.as_str())
);
core_enum!(
    /// `monban_core::CredentialType` (CONTRACT §2).
    CredentialTypeName,
    "A door credential type (CONTRACT §2).",
    CredentialType::ALL.iter().map(|c| c.as_str())
);
core_enum!(
    /// `monban_core::DoorEventKind` (CONTRACT §5).
    DoorEventKindName,
    "A door event kind (CONTRACT §5).",
    DoorEventKind::ALL.iter().map(|k| k.as_str())
);
core_enum!(
    /// `monban_core::VerdictKind` (CONTRACT §3).
    VerdictName,
    "A verdict (CONTRACT §3).",
    VerdictKind::ALL.iter().map(|k| k.as_str())
);
core_enum!(
    /// `monban_core::Reason` (CONTRACT §3).
    ReasonName,
    "Why a login did not meet two-factor authentication (CONTRACT §3).",
    Reason::ALL.iter().map(|r| r.as_str())
);
core_enum!(
    /// `monban_core::ComplianceStatus` (CONTRACT §8).
    ComplianceStatusName,
    "A system's compliance status (CONTRACT §8).",
    [
        ComplianceStatus::NoData,
        ComplianceStatus::Direct,
        ComplianceStatus::Combined,
        ComplianceStatus::Gap
    ]
    .map(ComplianceStatus::as_str)
);

/// `in` or `out` (`monban_core::Direction`); `null` or absent is `in`.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectionName {
    In,
    Out,
}

/// `success` or `failure` (`monban_core::Outcome`).
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    Success,
    Failure,
}

// ------------------------------------------------------------------ errors

/// Every error: `{"error": {"code": "snake_case_code", "message": "human readable"}}`
/// (CONTRACT §9).
#[derive(ToSchema, Serialize)]
#[schema(examples(json!({"error": {"code": "unknown_door", "message": "door \"x\" is not in the inventory"}})))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error's code and message.
#[derive(ToSchema, Serialize)]
pub struct ErrorDetail {
    /// A snake_case code, e.g. `malformed_request`, `unauthorized`, `event_id_conflict`.
    #[schema(pattern = "^[a-z0-9_]+$")]
    pub code: String,
    /// For people; never parse it.
    pub message: String,
}

// ------------------------------------------------------------------ ingest bodies

/// A door's credential (CONTRACT §5): `{"type": "card", "id": "04A1B2C3"}`.
#[derive(ToSchema, Serialize)]
pub struct CredentialBody {
    #[serde(rename = "type")]
    #[schema(value_type = CredentialTypeName)]
    pub kind: String,
    /// The credential's id: at most 128 bytes without control characters once the
    /// surrounding white space is trimmed (which the hub ignores), so not only white space.
    #[schema(
        min_length = 1,
        pattern = "[^\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub id: String,
}

/// `POST /api/v1/door-events` (CONTRACT §5): the MQTT payload plus `door`.
#[derive(ToSchema, Serialize)]
#[schema(examples(json!({"door": "ward3-main", "event_id": "d-000123", "ts": "2026-11-21T09:00:00+09:00",
    "kind": "access_granted", "direction": "in", "credential": {"type": "card", "id": "04A1B2C3"}})))]
pub struct DoorEventBody {
    /// A door of the inventory.
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._~:-]+$")]
    pub door: String,
    /// Unique per door; a repeated one is stored once (`200`).
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub event_id: String,
    /// RFC 3339 with an offset.
    #[schema(format = DateTime)]
    pub ts: String,
    #[schema(value_type = DoorEventKindName)]
    pub kind: String,
    /// For `access_granted` and `access_denied`; default `in`.
    pub direction: Option<DirectionName>,
    /// For `access_granted` and `access_denied`; ignored for other kinds.
    pub credential: Option<CredentialBody>,
}

/// `POST /api/v1/logins` (CONTRACT §7), with the optional `step_up_id` of
/// docs/STEP-UP.md.
#[derive(ToSchema, Serialize)]
#[schema(examples(json!({"event_id": "l-000042", "ts": "2026-11-21T09:05:00+09:00", "system": "ehr",
    "account": "nurse01", "terminal": "ward3-pc01", "factors": ["password"], "outcome": "success"})))]
pub struct LoginBody {
    /// Unique per system; the same one again answers the stored result (`200`).
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub event_id: String,
    /// RFC 3339 with an offset.
    #[schema(format = DateTime)]
    pub ts: String,
    /// The system of the token.
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._~:-]+$")]
    pub system: String,
    /// 1 to 256 characters, not only white space.
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = "[^\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub account: String,
    /// 1 to 256 characters, not only white space; need not be in the inventory.
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = "[^\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub terminal: String,
    #[schema(value_type = Vec<FactorName>, min_items = 1)]
    pub factors: Vec<String>,
    #[schema(value_type = OutcomeName)]
    pub outcome: String,
    /// A verified step-up of this system and account (docs/STEP-UP.md).
    pub step_up_id: Option<String>,
}

// ------------------------------------------------------------------ replies

/// The reply to a door event: which door and event were stored.
#[derive(ToSchema, Serialize)]
pub struct DoorEventReply {
    pub door: String,
    pub event_id: String,
}

/// Facts about a login an officer must act on besides its verdict (CONTRACT §7).
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagName {
    AccountOfLeaver,
    MaintenanceUnapproved,
    MaintenanceEmergencyPending,
}

/// How a maintenance login is covered (CONTRACT §10).
#[derive(ToSchema, Serialize)]
pub struct MaintenanceCover {
    /// The covering request; `null` when none covers it.
    pub request_id: Option<String>,
    #[schema(value_type = CoverageName)]
    pub status: String,
}

/// How a maintenance login stands (CONTRACT §10).
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageName {
    Approved,
    EmergencyPending,
    Unapproved,
}

/// The reply to a login (CONTRACT §7): its verdict now.
#[derive(ToSchema, Serialize)]
pub struct LoginReply {
    pub event_id: String,
    #[schema(value_type = VerdictName)]
    pub verdict: String,
    #[schema(value_type = Vec<ReasonName>)]
    pub reasons: Vec<String>,
    /// True once `grace` has passed since the login arrived: the verdict no longer changes.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// CONTRACT §7 (the current ones, in the contract's order).
    #[schema(value_type = Vec<FlagName>)]
    pub flags: Vec<String>,
    /// For a maintenance login only (CONTRACT §10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceCover>,
}

/// The door entry that gave a `combined_measures` verdict.
#[derive(ToSchema, Serialize)]
pub struct EvidenceReply {
    pub entry_event_id: String,
    pub door: String,
    #[schema(format = DateTime)]
    pub entered_at: String,
    #[schema(value_type = CredentialTypeName)]
    pub credential_type: String,
}

/// A stored login with its verdict and evidence (CONTRACT §7).
#[derive(ToSchema, Serialize)]
pub struct LoginResult {
    pub event_id: String,
    pub system: String,
    pub account: String,
    pub terminal: String,
    #[schema(format = DateTime)]
    pub ts: String,
    #[schema(value_type = Vec<FactorName>)]
    pub factors: Vec<String>,
    #[schema(value_type = OutcomeName)]
    pub outcome: String,
    #[schema(value_type = VerdictName)]
    pub verdict: String,
    #[schema(value_type = Vec<ReasonName>)]
    pub reasons: Vec<String>,
    /// `null` unless the verdict is `combined_measures`.
    pub evidence: Option<EvidenceReply>,
    #[serde(rename = "final")]
    pub is_final: bool,
    /// CONTRACT §7 (the current ones, in the contract's order).
    #[schema(value_type = Vec<FlagName>)]
    pub flags: Vec<String>,
    /// For a maintenance login only (CONTRACT §10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceCover>,
}

/// Login counts of one system over the period.
#[derive(ToSchema, Serialize)]
pub struct LoginCountsReply {
    pub successful: u64,
    pub direct_2fa: u64,
    pub combined_measures: u64,
    pub not_met: u64,
    pub failed: u64,
}

/// One system's compliance (`monban_core::SystemCompliance`).
#[derive(ToSchema, Serialize)]
pub struct SystemComplianceReply {
    pub id: String,
    pub name: String,
    pub category: String,
    pub native_mfa: bool,
    #[schema(value_type = ComplianceStatusName)]
    pub status: String,
    pub logins: LoginCountsReply,
    /// (direct_2fa + combined_measures) / successful; 0 without successful logins.
    pub coverage: f64,
}

/// `GET /api/v1/compliance` (CONTRACT §8).
#[derive(ToSchema, Serialize)]
pub struct ComplianceReply {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    pub systems: Vec<SystemComplianceReply>,
}

/// `?system=ID` of `GET /api/v1/accounts`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    /// The system whose accounts to list (an `[[systems]]` id).
    pub system: String,
}

core_enum!(
    /// `monban_core::accounts::PersonStatus` (CONTRACT §12).
    PersonStatusName,
    "The status of the person an account maps to (CONTRACT §12).",
    monban_core::accounts::PersonStatus::ALL.map(|s| s.as_str())
);
core_enum!(
    /// `monban_core::accounts::Finding` (CONTRACT §12).
    AccountFindingName,
    "What an officer must act on for an account (CONTRACT §12), in this order: leaver, dormant, unmapped.",
    monban_core::accounts::Finding::ALL.map(|f| f.as_str())
);

/// One account of `GET /api/v1/accounts`.
#[derive(ToSchema, Serialize)]
pub struct AccountReply {
    pub account: String,
    /// The person the inventory maps the account to; `null` when unmapped.
    pub person: Option<String>,
    /// `null` when unmapped.
    #[schema(value_type = Option<PersonStatusName>)]
    pub person_status: Option<String>,
    /// The last successful login; `null` if none.
    #[schema(format = DateTime)]
    pub last_login: Option<String>,
    /// Successful logins in the last 90 days.
    pub logins_90d: u64,
    #[schema(value_type = Vec<AccountFindingName>)]
    pub findings: Vec<String>,
}

/// `GET /api/v1/accounts` (CONTRACT §12).
#[derive(ToSchema, Serialize)]
pub struct AccountsReply {
    pub system: String,
    pub accounts: Vec<AccountReply>,
}

/// A payload that could not be parsed, kept with the reason.
#[derive(ToSchema, Serialize)]
pub struct DeadLetterReply {
    pub id: i64,
    /// Where it came from: `mqtt`, `modbus`, `http`.
    pub source: String,
    /// Topic, register range or URL path.
    pub origin: String,
    #[schema(format = DateTime)]
    pub received_at: String,
    pub reason: String,
    pub door: Option<String>,
    /// The payload as (lossy) UTF-8.
    pub payload: String,
}

/// `GET /api/v1/evidence/head`: the last link of the evidence chain (CONTRACT §13).
#[derive(ToSchema, Serialize)]
pub struct EvidenceHeadReply {
    /// The last record's `seq` in the chain (0: nothing chained yet, the genesis).
    pub seq: i64,
    /// Its hash, lower-case hex SHA-256.
    pub hash: String,
    /// When it was chained.
    pub at: String,
}

/// `GET /api/v1/dead-letters`: the newest 500.
#[derive(ToSchema, Serialize)]
pub struct DeadLettersReply {
    pub dead_letters: Vec<DeadLetterReply>,
}

/// A connector's state.
#[derive(ToSchema, Serialize)]
pub struct ConnectorReply {
    pub name: String,
    /// `connecting`, `connected` or `disconnected`.
    pub state: String,
    pub since: Option<String>,
    pub error: Option<String>,
}

/// `GET /api/v1/doors`: connector health.
#[derive(ToSchema, Serialize)]
pub struct DoorsReply {
    #[schema(format = DateTime)]
    pub at: String,
    pub connectors: Vec<ConnectorReply>,
    pub doors: Vec<crate::health::DoorHealth>,
}

/// One server-sent event of `GET /api/v1/live`, as a client parses it: an unnamed
/// message (`EventSource.onmessage`) whose `data` is JSON text such as
/// `{"kind": "login", "id": "l-000042"}` or `{"kind": "lagged"}`.
#[derive(ToSchema, Serialize)]
pub struct LiveEvent {
    /// JSON text: what changed (`kind`, and the id when there is one).
    pub data: String,
    /// `message` (the default event type).
    pub event: Option<String>,
    pub id: Option<String>,
    pub retry: Option<u64>,
}

/// The period of a read: `from` and `to` in RFC 3339 (an unencoded `+` of an offset is
/// accepted too). Default: the 30 days up to now.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Start; default `to` minus 30 days. Not after `to`.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// End; default now.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// `GET /healthz` when the store is reachable.
#[derive(ToSchema, Serialize)]
pub struct HealthReply {
    /// `ok`.
    pub status: String,
}

/// `POST /api/v1/step-up`: the step-up waits for the person.
#[derive(ToSchema, Serialize)]
pub struct StepUpCreated {
    pub step_up_id: String,
    /// `pending`.
    pub status: String,
    /// The hub's page the terminal opens.
    pub url: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// `GET /api/v1/step-up/{id}`.
#[derive(ToSchema, Serialize)]
pub struct StepUpStatus {
    pub step_up_id: String,
    /// `pending`, `verified`, `used`, `expired` (or `failed`).
    pub status: String,
    pub system: String,
    pub account: String,
    pub terminal: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub verified_at: Option<String>,
    /// The login that used it.
    pub login: Option<String>,
}

/// `GET /api/v1/session` (CONTRACT §10).
#[derive(ToSchema, Serialize)]
pub struct SessionReply {
    /// The user's name.
    pub user: String,
    /// The user's id (`u-…`).
    pub user_id: String,
    pub role: String,
    /// Goes in `X-CSRF-Token` on state-changing requests.
    pub csrf: String,
}

// ------------------------------------------------------------------ maintenance (§10)

/// `POST /api/v1/maintenance` (CONTRACT §10).
#[derive(ToSchema, Serialize)]
#[schema(examples(json!({"request_id": "acme-2026-0042", "system": "ehr", "people": ["v001"],
    "work_plan": "WP-2026-118", "purpose": "電子カルテ 定期パッチ適用",
    "start": "2026-12-10T20:00:00+09:00", "end": "2026-12-10T23:00:00+09:00",
    "remote": true, "emergency": false})))]
pub struct MaintenanceRequestBody {
    /// The vendor's own id for the request; the same one again with the same body is
    /// filed once.
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._~:-]+$")]
    pub request_id: String,
    /// Needed when an officer or admin files it; a vendor token names its own vendor.
    pub vendor: Option<String>,
    /// A system the vendor maintains.
    pub system: String,
    /// The vendor's staff who will do the work.
    #[schema(min_items = 1)]
    pub people: Vec<String>,
    /// 作業計画書の番号, 3–128 characters.
    #[schema(min_length = 3, max_length = 128)]
    pub work_plan: String,
    pub purpose: Option<String>,
    /// RFC 3339 with an offset; `start < end`, at most `[maintenance] max_window`.
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub remote: bool,
    /// 緊急: may be worked before it is approved (事後承認).
    pub emergency: Option<bool>,
}

/// The answer to filing a request or a report.
#[derive(ToSchema, Serialize)]
pub struct MaintenanceFiled {
    pub request_id: String,
    #[schema(value_type = RequestStatusName)]
    pub status: String,
}

/// A request's status (CONTRACT §10).
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatusName {
    Requested,
    Approved,
    Denied,
    Cancelled,
}

/// A decision (CONTRACT §10).
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    Approve,
    Deny,
    Cancel,
    Confirm,
}

/// What an officer must act on for a request (CONTRACT §10), in this order.
#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingName {
    NotPerformed,
    Unsupervised,
    ReportOverdue,
    EmergencyUnapproved,
}

/// One recorded decision.
#[derive(ToSchema, Serialize)]
pub struct DecisionReply {
    #[schema(value_type = DecisionName)]
    pub decision: String,
    /// The officer's or admin's name.
    pub by: String,
    #[schema(format = DateTime)]
    pub at: String,
    pub note: String,
}

/// A vendor's door entry counted toward the request.
#[derive(ToSchema, Serialize)]
pub struct EntryReply {
    pub person: String,
    pub door: String,
    #[schema(format = DateTime)]
    pub at: String,
}

/// A PAM tool's session recording, by reference and hash.
#[derive(ToSchema, Serialize)]
pub struct RecordingBody {
    /// 64 hexadecimal digits.
    #[schema(pattern = "^[0-9A-Fa-f]{64}$")]
    pub sha256: String,
    #[schema(min_length = 1, max_length = 2000)]
    pub uri: String,
}

/// The work report and its confirmation.
#[derive(ToSchema, Serialize)]
pub struct ReportReply {
    #[schema(format = DateTime)]
    pub at: String,
    pub summary: String,
    pub recording: Option<RecordingBody>,
    /// Who confirmed it (企画管理者確認); `null` until confirmed.
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
}

/// One request with its reconciliation (CONTRACT §10).
#[derive(ToSchema, Serialize)]
pub struct MaintenanceRequestReply {
    pub request_id: String,
    pub vendor: String,
    pub system: String,
    pub people: Vec<String>,
    pub work_plan: String,
    pub purpose: String,
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub remote: bool,
    pub emergency: bool,
    #[schema(value_type = RequestStatusName)]
    pub status: String,
    /// `vendor:<id>` or `user:<name>`.
    pub requested_by: String,
    #[schema(format = DateTime)]
    pub requested_at: String,
    pub decisions: Vec<DecisionReply>,
    /// The maintenance logins it covers.
    pub logins: Vec<String>,
    pub entries: Vec<EntryReply>,
    /// 立会い of on-site work; `null` for remote work or when nobody entered.
    pub supervised: Option<bool>,
    pub report: Option<ReportReply>,
    #[schema(value_type = Vec<FindingName>)]
    pub findings: Vec<String>,
}

/// `GET /api/v1/maintenance`.
#[derive(ToSchema, Serialize)]
pub struct MaintenanceList {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    pub requests: Vec<MaintenanceRequestReply>,
}

/// `GET /api/v1/maintenance/unapproved`.
#[derive(ToSchema, Serialize)]
pub struct UnapprovedLogins {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    pub logins: Vec<LoginResult>,
}

/// `POST /api/v1/maintenance/{id}/report`.
#[derive(ToSchema, Serialize)]
#[schema(examples(json!({"summary": "パッチ KB-118 適用、再起動確認済み",
    "recording": {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uri": "https://pam.example-hospital.jp/sessions/8842"}})))]
pub struct MaintenanceReportBody {
    #[schema(min_length = 1, max_length = 2000)]
    pub summary: String,
    pub recording: Option<RecordingBody>,
}

/// A passkey ceremony started: what `navigator.credentials.get()` takes.
#[derive(ToSchema, Serialize)]
pub struct CeremonyStarted {
    pub ceremony: String,
    /// `{"publicKey": {…}}`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// `POST /api/v1/maintenance/{id}/decision/finish`.
#[derive(ToSchema, Serialize)]
pub struct DecisionFinishBody {
    pub ceremony: String,
    /// The `PublicKeyCredential` of the assertion, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    #[schema(value_type = DecisionName)]
    pub decision: String,
    pub note: Option<String>,
}

core_enum!(
    /// `monban_core::account_review::Decision`.
    ReviewDecisionName,
    "An account review decision: keep the account, remove it in the system, or map it to a person of the inventory.",
    monban_core::account_review::Decision::ALL.map(|d| d.as_str())
);
core_enum!(
    /// `monban_core::account_review::FollowUp`.
    ReviewFollowUpName,
    "What the last completed review still asks: a map decision not in the inventory yet, or a login after removal was ordered.",
    monban_core::account_review::FollowUp::ALL.map(|f| f.as_str())
);

/// One account's mark in a review.
#[derive(ToSchema, Serialize)]
pub struct ReviewMarkBody {
    /// An account of the system's review (`GET /api/v1/accounts`).
    #[schema(min_length = 1, max_length = 256)]
    pub account: String,
    #[schema(value_type = ReviewDecisionName)]
    pub decision: String,
    /// The person (an inventory id) of a `map` decision; only `map` names one.
    pub person: Option<String>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// `POST /api/v1/accounts/reviews/start`: one mark per account of the system.
#[derive(ToSchema, Serialize)]
#[schema(examples(json!({"system": "ehr", "marks": [
    {"account": "nurse01", "decision": "keep"},
    {"account": "gone09", "decision": "remove", "note": "2026-03 退職"},
    {"account": "shared01", "decision": "map", "person": "p0001"}]})))]
pub struct ReviewStartBody {
    pub system: String,
    pub marks: Vec<ReviewMarkBody>,
}

/// `POST /api/v1/accounts/reviews/finish`.
#[derive(ToSchema, Serialize)]
pub struct ReviewFinishBody {
    pub ceremony: String,
    /// The `PublicKeyCredential` of the assertion, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// The same system and marks as the ceremony's start.
    pub system: String,
    pub marks: Vec<ReviewMarkBody>,
}

/// How many accounts got each decision.
#[derive(ToSchema, Serialize)]
pub struct ReviewCounts {
    pub keep: u64,
    pub remove: u64,
    pub map: u64,
}

/// One stored mark.
#[derive(ToSchema, Serialize)]
pub struct ReviewMarkReply {
    pub account: String,
    #[schema(value_type = ReviewDecisionName)]
    pub decision: String,
    pub person: Option<String>,
    pub note: String,
}

/// A completed account review.
#[derive(ToSchema, Serialize)]
pub struct AccountReviewReply {
    pub id: i64,
    pub system: String,
    #[schema(format = DateTime)]
    pub completed_at: String,
    /// The hub user who confirmed it with a passkey.
    pub by: String,
    pub counts: ReviewCounts,
    pub marks: Vec<ReviewMarkReply>,
}

/// The last completed review of a system.
#[derive(ToSchema, Serialize)]
pub struct LastReview {
    pub id: i64,
    #[schema(format = DateTime)]
    pub completed_at: String,
    pub by: String,
}

/// A follow-up of the last review.
#[derive(ToSchema, Serialize)]
pub struct ReviewFollowUp {
    pub account: String,
    #[schema(value_type = ReviewFollowUpName)]
    pub follow_up: String,
}

/// `GET /api/v1/accounts/reviews`.
#[derive(ToSchema, Serialize)]
pub struct AccountReviewsReply {
    pub system: String,
    /// `[accounts] review_every`, as a duration (`1year 5h 49m 12s`).
    pub review_every: String,
    /// No completed review, or the last one is older than `review_every` (要棚卸し).
    pub overdue: bool,
    /// When the next review is due; `null` without a review.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    pub last_review: Option<LastReview>,
    pub follow_up: Vec<ReviewFollowUp>,
    /// Newest first.
    pub reviews: Vec<AccountReviewReply>,
}

// ------------------------------------------------------------------ access-log imports

/// A row problem of an access log: its line (0: the file as a whole), the column as
/// `[[imports]]` names it, and why.
#[derive(ToSchema, Serialize)]
pub struct ImportRowError {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

/// The record of one access-log import (an audit line, chained: CONTRACT §13).
#[derive(ToSchema, Serialize)]
pub struct ImportRecord {
    /// The import's id (its audit line's `seq`).
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    /// `user:<id>`, `token:<id>`, `cli` or `demo`.
    pub actor: String,
    /// Who, by name.
    pub by: String,
    /// `imported`, `rejected` (bad rows, nothing stored) or `failed` (stopped part way).
    pub status: String,
    pub system: String,
    /// The file's name as uploaded.
    pub file: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub bytes: u64,
    /// `upload`, `cli` or `demo`.
    pub via: String,
    /// Rows read (after the header).
    pub rows: Option<u64>,
    /// Logins this import stored.
    pub stored: Option<u64>,
    /// Rows whose login was already stored (a re-import stores nothing twice).
    pub already: Option<u64>,
    /// Rows the hub refused (an `event_id` stored for another system).
    pub refused: Option<u64>,
    /// A rejected file's bad rows, all counted.
    pub bad_rows: Option<u64>,
    /// A rejected file's first 100 problems.
    pub errors: Option<Vec<ImportRowError>>,
    pub seconds: Option<f64>,
}

/// `GET /api/v1/imports`.
#[derive(ToSchema, Serialize)]
pub struct ImportList {
    pub imports: Vec<ImportRecord>,
}
