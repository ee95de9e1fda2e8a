//! The step-up API of systems (docs/STEP-UP.md), over `crate::step_up`:
//!
//! 1. `POST /api/v1/step-up` with the system's login-ingest token and
//!    `{"system": "ehr", "account": "nurse01", "terminal": "ward3-pc01"}` →
//!    `201 {"step_up_id", "status": "pending", "url", "expires_at"}`. The account must
//!    map to a person with a passkey registered with the hub (`422 unmapped_account` /
//!    `no_passkey` otherwise).
//! 2. The terminal opens `url` (the hub's page; passkeys are bound to the hub's origin);
//!    the person verifies with their passkey (user verification required; the ceremony
//!    is `super::ceremony`).
//! 3. `GET /api/v1/step-up/{id}` → `{"status": "pending" | "verified" | "used" | "expired"}`.
//! 4. The system posts its login (CONTRACT §7) with `"step_up_id": "<id>"` next to the
//!    contract's fields ([`step_up_id_of`], `super::ingest`). The hub checks that the
//!    step-up is verified, unused, of the same system and account, and that the login's
//!    `ts` lies between five minutes before the request and five minutes after the
//!    verification; then it adds `webauthn_uv` to the login's factors and marks the
//!    step-up used by that login. Anything else is `422 step_up_invalid` and nothing is
//!    stored.

use super::error::ApiError;
use super::extract::{body_bytes, Bearer, BearerBody};
use super::state::Accounts;
use crate::auth::ClientAddr;
use crate::ingest::Ingest;
use crate::store::{TokenRow, TokenScope};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use monban_core::SystemId;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The system of a login-ingest token, or the contract's 403.
fn token_system(token: TokenRow) -> Result<(SystemId, String), ApiError> {
    match token.scope {
        TokenScope::Login(s) => Ok((s, token.id)),
        _ => Err(ApiError::Forbidden(
            "the step-up API needs the system's login-ingest token (token issue --system ID)"
                .into(),
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
        (status = 201, description = "The step-up waits for the person at `url`.", body = crate::http::schema::StepUpCreated),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not this system's login-ingest token (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "The account maps to no person (`unmapped_account`), the person has no passkey (`no_passkey`), or `account`/`terminal` is empty, over 256 characters or has control characters (`invalid_account`, `invalid_terminal`).", body = crate::http::schema::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn create(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    BearerBody { token, body }: BearerBody,
) -> Result<Response, ApiError> {
    let (system, token_id) = token_system(token)?;
    let bytes = body_bytes(body)?;
    let mut req: CreateBody =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Malformed(e.to_string()))?;
    // Bounded like a login's fields (`monban_core::text`): nothing unbounded is stored.
    req.account = monban_core::Text::parse(&req.account, monban_core::text::ACCOUNT)
        .map_err(|e| ApiError::Invalid {
            code: "invalid_account",
            message: e.to_string(),
        })?
        .into_string();
    req.terminal = req
        .terminal
        .as_deref()
        .map(|t| monban_core::Text::parse(t, monban_core::text::TERMINAL))
        .transpose()
        .map_err(|e| ApiError::Invalid {
            code: "invalid_terminal",
            message: e.to_string(),
        })?
        .map(|t| t.into_string());
    if req.system != system.as_str() {
        return Err(ApiError::Forbidden(format!(
            "this token is for system {:?}, not {:?}",
            system.as_str(),
            req.system
        )));
    }
    let s = crate::step_up::create(
        &accounts.store,
        &ingest.inventory(),
        accounts.auth.settings.step_up_ttl,
        &system,
        req.account.clone(),
        req.terminal.clone(),
        accounts.now(),
    )
    .await?;
    accounts
        .record(
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
            "url": accounts.auth.link(&format!("/step-up/{}", s.id)),
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
        (status = 200, description = "The step-up's status.", body = crate::http::schema::StepUpStatus),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not a login-ingest token (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No such step-up for this system (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn status(
    State(accounts): State<Accounts>,
    Bearer(token): Bearer,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (system, _) = token_system(token)?;
    let s = accounts
        .store
        .step_up(&id)
        .await?
        .filter(|s| s.system == system.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("no step-up {id:?} for this system")))?;
    let now = accounts.now();
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

/// The `step_up_id` a login body names, if any (`400` if it is not a string).
pub fn step_up_id_of(body: &[u8]) -> Result<Option<String>, ApiError> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None); // the login parser reports the malformed body
    };
    match v.get("step_up_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::Malformed("step_up_id must be a string".into())),
    }
}
