//! Step-up for systems without 二要素認証: the system asks the hub to verify the person's
//! passkey at login time, and the login it then reports carries `webauthn_uv` — a
//! factor the hub itself saw — so a password login becomes `direct_2fa`.
//!
//! 1. `POST /api/v1/step-up` with the system's login-ingest token and
//!    `{"system": "ehr", "account": "nurse01", "terminal": "ward3-pc01"}` →
//!    `201 {"step_up_id", "status": "pending", "url", "expires_at"}`. The account must
//!    map to a person with a passkey registered with the hub (`422 unmapped_account` /
//!    `no_passkey` otherwise).
//! 2. The terminal opens `url` (the hub's page; passkeys are bound to the hub's origin);
//!    the person verifies with their passkey (user verification required).
//! 3. `GET /api/v1/step-up/{id}` → `{"status": "pending" | "verified" | "used" | "expired"}`.
//! 4. The system posts its login (CONTRACT §7) with `"step_up_id": "<id>"` next to the
//!    contract's fields. The hub checks that the step-up is verified, unused, of the same
//!    system and account, and that the login's `ts` lies between five minutes before
//!    the request and five minutes after the verification; then it adds `webauthn_uv` to
//!    the login's factors and marks the step-up used by that login. Anything else is
//!    `422 step_up_invalid` and nothing is stored.
//!
//! The rules — the status shown, whether the person may still verify, whether a step-up
//! may vouch for a login and the words of a refusal — are `monban_core::step_up`; this
//! module stores step-ups and serves the API.
//!
//! docs/STEP-UP.md tells a system vendor how to integrate.

use super::{record, ClientAddr};
use crate::api::ApiError;
use crate::hub::Hub;
use crate::store::auth::{Owner, StepUpRow};
use crate::store::TokenScope;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use monban_core::step_up::{StepUpFacts, StepUpRefusal, StepUpStatus};
use monban_core::{Login, SystemId, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/api/v1/step-up", post(create))
        .route("/api/v1/step-up/{id}", get(status))
        // CONTRACT §9: a body over 64 KiB is `413` (as on the other ingest endpoints).
        .layer(axum::extract::DefaultBodyLimit::max(crate::api::BODY_LIMIT))
        .with_state(hub)
}

fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

pub(crate) fn not_pending() -> ApiError {
    err(
        StatusCode::GONE,
        "step_up_not_pending",
        "this step-up has expired or is already settled / この確認は期限切れか完了済みです",
    )
}

/// The step-up `id` if it still waits for the person.
pub(crate) async fn live_step_up(
    hub: &Hub,
    id: &str,
    now: Timestamp,
) -> Result<StepUpRow, ApiError> {
    let s = hub
        .store
        .step_up(id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| err(StatusCode::NOT_FOUND, "not_found", "no such step-up"))?;
    if !monban_core::step_up::is_live(s.status, s.expires_at, now) {
        return Err(not_pending());
    }
    Ok(s)
}

/// The system of a login-ingest token, or the contract's 401/403.
async fn token_system(hub: &Hub, headers: &HeaderMap) -> Result<(SystemId, String), ApiError> {
    let token = crate::api::authenticate(hub, headers).await?;
    match token.scope {
        TokenScope::Login(s) => Ok((s, token.id)),
        _ => Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the step-up API needs the system's login-ingest token (token issue --system ID)",
        )),
    }
}

/// `POST /api/v1/step-up`: who logs in where.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(examples(json!({"system": "ehr", "account": "nurse01", "terminal": "ward3-pc01"})))]
pub(crate) struct CreateBody {
    /// The system of the token.
    system: String,
    /// The account that logs in; it must map to a person with a passkey.
    account: String,
    /// The terminal, if the system knows it.
    #[serde(default)]
    terminal: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/step-up",
    tag = "step-up",
    operation_id = "create_step_up",
    security(("bearer" = [])),
    request_body(content = CreateBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The step-up waits for the person at `url`.", body = crate::openapi::StepUpCreated),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::openapi::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not this system's login-ingest token (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::openapi::ErrorBody),
        (status = 422, description = "The account maps to no person (`unmapped_account`), the person has no passkey (`no_passkey`), or `account`/`terminal` is empty, over 256 characters or has control characters (`invalid_account`, `invalid_terminal`).", body = crate::openapi::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn create(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    headers: HeaderMap,
    bytes: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let (system, token_id) = token_system(&hub, &headers).await?;
    let bytes = crate::api::body_bytes(bytes)?;
    let mut req: CreateBody = serde_json::from_slice(&bytes)
        .map_err(|e| err(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?;
    // Bounded like a login's fields (`monban_core::text`): nothing unbounded is stored.
    req.account = monban_core::Text::parse(&req.account, monban_core::text::ACCOUNT)
        .map_err(|e| {
            err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_account",
                e.to_string(),
            )
        })?
        .into_string();
    req.terminal = req
        .terminal
        .as_deref()
        .map(|t| monban_core::Text::parse(t, monban_core::text::TERMINAL))
        .transpose()
        .map_err(|e| {
            err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_terminal",
                e.to_string(),
            )
        })?
        .map(|t| t.into_string());
    if req.system != system.as_str() {
        return Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this token is for system {:?}, not {:?}",
                system.as_str(),
                req.system
            ),
        ));
    }
    let inv = hub.inventory();
    let Some(person) = inv.person_by_account(&system, &req.account).cloned() else {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unmapped_account",
            format!(
                "account {:?} of system {:?} maps to no person in the inventory",
                req.account,
                system.as_str()
            ),
        ));
    };
    let keys = hub
        .store
        .passkeys_of(Owner::Person, person.as_str())
        .await
        .map_err(ApiError::store)?;
    if keys.iter().all(|k| k.revoked_at.is_some()) {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_passkey",
            format!("person {:?} has no passkey registered with the hub: an officer issues an enrollment link on the people page", person.as_str()),
        ));
    }
    let now = hub.now();
    let auth = hub.auth();
    let s = StepUpRow {
        id: format!("su-{}", super::secret(18)),
        system: system.to_string(),
        account: req.account.clone(),
        person: person.to_string(),
        terminal: req.terminal.clone(),
        status: StepUpStatus::Pending,
        created_at: now,
        expires_at: Timestamp::from_millis(now.as_millis() + auth.settings.step_up_ttl.as_millis()),
        verified_at: None,
        credential: None,
        login: None,
        failure: None,
    };
    hub.store
        .insert_step_up(&s)
        .await
        .map_err(ApiError::store)?;
    record(
        &hub,
        &format!("token:{token_id}"),
        system.as_str(),
        &address,
        "step_up.create",
        &s.id,
        json!({"system": s.system, "account": s.account, "person": s.person, "terminal": s.terminal}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "step_up_id": s.id,
            "status": "pending",
            "url": auth.link(&format!("/step-up/{}", s.id)),
            "expires_at": s.expires_at.to_rfc3339(),
        })),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/step-up/{id}",
    tag = "step-up",
    operation_id = "get_step_up",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The `step_up_id`.")),
    responses(
        (status = 200, description = "The step-up's status.", body = crate::openapi::StepUpStatus),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not a login-ingest token (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such step-up for this system (`not_found`).", body = crate::openapi::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn status(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (system, _) = token_system(&hub, &headers).await?;
    let s = hub
        .store
        .step_up(&id)
        .await
        .map_err(ApiError::store)?
        .filter(|s| s.system == system.as_str())
        .ok_or_else(|| {
            err(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no step-up {id:?} for this system"),
            )
        })?;
    let now = hub.now();
    Ok(Json(json!({
        "step_up_id": s.id,
        "status": monban_core::step_up::shown_status(s.status, s.expires_at, now),
        "system": s.system,
        "account": s.account,
        "terminal": s.terminal,
        "expires_at": s.expires_at.to_rfc3339(),
        "verified_at": s.verified_at.map(|t| t.to_rfc3339()),
        "login": s.login,
    })))
}

/// A step-up that may not vouch for a login: `422 step_up_invalid` with the rule's words.
pub(crate) fn invalid(refusal: StepUpRefusal) -> ApiError {
    err(
        StatusCode::UNPROCESSABLE_ENTITY,
        "step_up_invalid",
        refusal.to_string(),
    )
}

/// The `step_up_id` a login body names, if any (`400` if it is not a string).
pub fn step_up_id_of(body: &[u8]) -> Result<Option<String>, ApiError> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None); // the login parser reports the malformed body
    };
    match v.get("step_up_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "step_up_id must be a string",
        )),
    }
}

/// Checks that step-up `id` may vouch for `login` (`monban_core::step_up::vouch`); on
/// success adds `webauthn_uv` to its factors. The caller consumes the step-up
/// ([`consume`]) once the login is stored.
pub async fn vouch(hub: &Hub, id: &str, login: &mut Login) -> Result<StepUpRow, ApiError> {
    let s = hub
        .store
        .step_up(id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| invalid(StepUpRefusal::Unknown { id: id.to_string() }))?;
    let facts = StepUpFacts {
        id,
        system: &s.system,
        account: &s.account,
        status: s.status,
        created_at: s.created_at,
        verified_at: s.verified_at,
        login: s.login.as_deref(),
    };
    monban_core::step_up::vouch(&facts, login).map_err(invalid)?;
    Ok(s)
}

/// Marks a vouched step-up as used by `login` (once).
pub async fn consume(hub: &Hub, id: &str, login: &str) -> Result<bool, ApiError> {
    hub.store
        .consume_step_up(id, login)
        .await
        .map_err(ApiError::store)
}
