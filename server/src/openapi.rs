//! The OpenAPI 3.1 description of the HTTP API, generated from the code and served at
//! `GET /api/v1/openapi.json`.
//!
//! Every operation is described by a `#[utoipa::path]` attribute on its handler
//! (`crate::api`, `crate::auth::step_up`); [`ApiDoc`] collects them. Request bodies are
//! read as bytes and parsed by `monban-core` (CONTRACT §5, §7), so their schemas here
//! are wire types that mirror the parser: their enumerations are taken from the core's
//! own lists (`Factor::ALL`, `DoorEventKind::ALL`, …), and the tests below check that
//! each example parses, that each required field is required by the parser and each
//! optional one is not. Responses that the handlers build with `json!` are described by
//! the reply types here; `scripts/fuzz-api.sh` (schemathesis, in CI) checks every
//! response of the running hub against them.
//!
//! The tests also keep the spec and the routes equal: every documented operation is
//! routed, and every `.route("/api/v1/…")`, `/healthz` and `/metrics` in the server's
//! sources is documented. `flags` and `maintenance` in login replies (CONTRACT §7, §10)
//! are described as optional until the handlers send them.
//!
//! # Layout
//! - [`ApiDoc`] — the document: paths, security schemes, tags.
//! - [`router`] — `GET /api/v1/openapi.json`.
//! - wire types: [`ErrorBody`], [`DoorEventBody`], [`LoginBody`], the replies.

use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use monban_core::{ComplianceStatus, CredentialType, DoorEventKind, Factor, Reason, VerdictKind};
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

/// The whole HTTP API of the hub (CONTRACT §5, §7, §8, §9 and the step-up API).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "monban",
        description = "門番 — the hub that correlates door-controller events with system logins to prove two-factor authentication. Every error answers `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "Apache-2.0"),
    ),
    paths(
        crate::api::post_door_event,
        crate::api::post_login,
        crate::api::get_login,
        crate::api::get_compliance,
        crate::api::get_dead_letters,
        crate::api::get_doors,
        crate::api::live,
        crate::auth::step_up::create,
        crate::auth::step_up::status,
        crate::api::get_session,
        openapi_json,
        crate::api::healthz,
        crate::api::metrics,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "ingest", description = "Door events and logins (CONTRACT §5, §7): ingest tokens."),
        (name = "reads", description = "What the hub knows (CONTRACT §7, §8): a read token or a signed-in session."),
        (name = "step-up", description = "Step-up verification with a passkey (docs/STEP-UP.md): the system's login-ingest token."),
        (name = "session", description = "The signed-in user's session (CONTRACT §10)."),
        (name = "operations", description = "Health, metrics and this description."),
    )
)]
pub struct ApiDoc;

/// The security schemes the operations name: `bearer` (an ingest or read token from
/// `monban token issue`) and `session` (the dashboard's session cookie).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <token>`: a token printed by `monban token issue` (`--system ID` login ingest, `--doors` door ingest, `--role ROLE` read).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "monban_session",
                "The session cookie set by a passkey sign-in (`__Host-monban_session` when the hub is reached over https).",
            ))),
        );
        // The version of the crate, so a client can tell which hub it talks to.
        openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    }
}

/// The generated document as JSON.
pub fn spec_json() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

/// `GET /api/v1/openapi.json` (public: it describes the API, it holds no data). Rendered
/// once, in the order of the code.
pub fn router() -> Router {
    let text: std::sync::Arc<str> = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| spec_json().to_string())
        .into();
    Router::new().route(
        "/api/v1/openapi.json",
        get(move || {
            let text = text.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    text.to_string(),
                )
                    .into_response()
            }
        }),
    )
}

/// The OpenAPI 3.1 description of this API (this document).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    operation_id = "get_openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object),
    )
)]
#[allow(dead_code)] // documents the closure served by `router`
fn openapi_json() {}

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
    pub request_id: Option<String>,
    /// `approved`, `emergency_pending` or `unapproved`.
    pub status: String,
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
    #[schema(value_type = Option<Vec<FlagName>>)]
    pub flags: Option<Vec<String>>,
    /// For a maintenance login (CONTRACT §10).
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
    #[schema(value_type = Option<Vec<FlagName>>)]
    pub flags: Option<Vec<String>>,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
