//! The HTTP API of CONTRACT §5, §7, §8 and §9, plus the live feed for the dashboard.
//!
//! Who may read is decided before a handler runs, by the gate (`crate::auth::session`:
//! a read token or a signed-in user whose role allows the route); the ingest handlers
//! check their ingest tokens themselves.
//!
//! Bodies are read as bytes (at most 64 KiB) and parsed by `monban-core`, so every
//! failure — malformed JSON, an unknown value, a body too large, a missing token, an
//! unknown route — answers with the contract's error body
//! `{"error": {"code": "...", "message": "..."}}`. Internal errors are logged and never
//! echoed.

use crate::hub::{Hub, HubError};
use crate::store::{StoredLogin, TokenRow, TokenScope};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use monban_connectors::Ingested;
use monban_core::{DoorEvent, InputError, Login, Period, SystemCompliance, Timestamp};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The largest body accepted (CONTRACT §9); see [`crate::hardening::limit_body`].
pub const BODY_LIMIT: usize = crate::hardening::BODY_LIMIT;

/// An API failure, rendered as the contract's error body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// A store error: `503 store_unavailable` when the store cannot be reached (nothing
    /// was recorded; the sender retries), else `500 internal_error`.
    pub(crate) fn store(e: crate::store::StoreError) -> ApiError {
        if e.is_unavailable() {
            tracing::error!(error = %e, "store unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the hub cannot reach its store: nothing was recorded; send it again",
            )
        } else {
            ApiError::internal(e)
        }
    }

    /// The writer could not commit: `503 store_unavailable` when the store cannot be
    /// reached or the hub is stopping (nothing was recorded; the sender retries), else
    /// `500 internal_error`.
    pub(crate) fn write(e: crate::writer::WriteError) -> ApiError {
        use crate::writer::WriteError;
        match e {
            WriteError::Unavailable(_) | WriteError::Stopped => {
                tracing::error!(error = %e, "not stored");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the hub cannot reach its store: nothing was recorded; send it again",
                )
            }
            WriteError::Failed(_) => ApiError::internal(e),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the hub could not complete the request; see its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> ApiError {
        match e {
            InputError::Malformed(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", m)
            }
            InputError::Invalid { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
        }
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> ApiError {
        match e {
            HubError::UnknownDoor(d) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_door",
                format!("door {d:?} is not in the inventory"),
            ),
            HubError::UnknownSystem(s) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_system",
                format!("system {s:?} is not in the inventory"),
            ),
            HubError::EventIdConflict(id) => ApiError::new(
                StatusCode::CONFLICT,
                "event_id_conflict",
                format!("event_id {id:?} is already stored for another system: nothing was stored; give this login an event_id of its own"),
            ),
            HubError::StepUpUsed(id) => crate::auth::step_up::invalid(
                monban_core::step_up::StepUpRefusal::Consumed { id },
            ),
            HubError::Store(e) => ApiError::store(e),
            HubError::Write(e) => ApiError::write(e),
        }
    }
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {} KiB", BODY_LIMIT / 1024),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                format!("the body could not be read: {r}"),
            )
        }
    })
}

/// Finds the token named by `Authorization: Bearer …`.
pub(crate) async fn authenticate(hub: &Hub, headers: &HeaderMap) -> Result<TokenRow, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("an Authorization: Bearer <token> header is required")
        })?;
    let text = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be \"Bearer <token>\"")
        })?;
    let row = hub
        .store
        .token_by_hash(&crate::tokens::hash(text))
        .await
        .map_err(ApiError::store)?
        .filter(|t| !t.revoked)
        .ok_or_else(|| ApiError::unauthorized("the token is not known or has been revoked"))?;
    let now = hub.now();
    // Record use at most once a minute per token: the hub must not write on every read.
    if row
        .last_used_at
        .is_none_or(|t| now.as_millis() - t.as_millis() > 60_000)
    {
        if let Err(e) = hub.store.touch_token(&row.id, now).await {
            tracing::warn!(error = %e, "could not record token use");
        }
    }
    Ok(row)
}

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/api/v1/door-events", post(post_door_event))
        .route("/api/v1/logins", post(post_login))
        .route("/api/v1/logins/{event_id}", get(get_login))
        .route("/api/v1/compliance", get(get_compliance))
        .route("/api/v1/dead-letters", get(get_dead_letters))
        .route("/api/v1/doors", get(get_doors))
        .route("/api/v1/live", get(live))
        .route("/api/v1/session", get(get_session))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            track_latency,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(hub)
}

/// Records request latency by route.
pub async fn track_latency(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    hub.metrics
        .http_latency
        .get_or_create(&crate::metrics::HttpLabel {
            method,
            route,
            status: res.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    res
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

pub async fn method_not_allowed(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        let mut answer = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not accept that method",
        )
        .into_response();
        // RFC 9110: a 405 names the methods the endpoint does accept (axum's `Allow`).
        if let Some(allow) = res.headers().get(axum::http::header::ALLOW) {
            answer
                .headers_mut()
                .insert(axum::http::header::ALLOW, allow.clone());
        }
        return answer;
    }
    res
}

#[utoipa::path(
    post,
    path = "/api/v1/door-events",
    tag = "ingest",
    security(("bearer" = [])),
    request_body(content = crate::openapi::DoorEventBody, description = "CONTRACT §5: the MQTT payload plus `door`.", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored.", body = crate::openapi::DoorEventReply),
        (status = 200, description = "An `event_id` this door already sent: stored once.", body = crate::openapi::DoorEventReply),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::openapi::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not a door-ingest token, or one limited to other doors (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::openapi::ErrorBody),
        (status = 422, description = "A valid shape with an unknown value (`unknown_door`, `unknown_event_kind`, `invalid_timestamp`, …).", body = crate::openapi::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was recorded (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn post_door_event(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let token = authenticate(&hub, &headers).await?;
    let TokenScope::Doors(only) = &token.scope else {
        return Err(ApiError::forbidden(
            "this endpoint needs a door-ingest token (token issue --doors)",
        ));
    };
    let body = body_bytes(body)?;
    let event = DoorEvent::from_json(&body, None)?;
    if let Some(only) = only.as_ref().filter(|o| !o.contains(&event.door)) {
        return Err(ApiError::forbidden(format!(
            "this token ingests events of door(s) {} only, not {:?}",
            only.iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            event.door.as_str()
        )));
    }
    let reply = json!({"door": event.door.as_str(), "event_id": event.event_id});
    let status = match hub.ingest_door_event(event, "http").await? {
        Ingested::New => StatusCode::ACCEPTED,
        Ingested::Duplicate | Ingested::DeadLettered => StatusCode::OK,
    };
    Ok((status, Json(reply)).into_response())
}

fn verdict_reply(s: &StoredLogin, now: Timestamp) -> Value {
    json!({
        "event_id": s.login.event_id,
        "verdict": s.verdict.kind.as_str(),
        "reasons": s.verdict.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "final": s.final_at_time(now),
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/logins",
    tag = "ingest",
    security(("bearer" = [])),
    request_body(content = crate::openapi::LoginBody, description = "CONTRACT §7, with an optional `step_up_id` (docs/STEP-UP.md).", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored and judged.", body = crate::openapi::LoginReply),
        (status = 200, description = "An `event_id` this system already sent: the stored result.", body = crate::openapi::LoginReply),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::openapi::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not a login-ingest token, or one of another system (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 409, description = "The `event_id` is already stored for another system (`event_id_conflict`); nothing is stored.", body = crate::openapi::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::openapi::ErrorBody),
        (status = 422, description = "A valid shape with an unknown value (`unknown_system`, `unknown_factor`, `invalid_timestamp`, `step_up_invalid`, …).", body = crate::openapi::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was recorded (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn post_login(
    State(hub): State<Arc<Hub>>,
    address: Option<axum::Extension<crate::auth::ClientAddr>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let address = address.map(|a| a.0 .0).unwrap_or_default();
    let token = authenticate(&hub, &headers).await?;
    let TokenScope::Login(system) = &token.scope else {
        return Err(ApiError::forbidden(
            "this endpoint needs a login-ingest token (token issue --system ID)",
        ));
    };
    let body = body_bytes(body)?;
    let mut login = Login::from_json(&body)?;
    if &login.system != system {
        return Err(ApiError::forbidden(format!(
            "this token ingests logins of system {:?}, not {:?}",
            system.as_str(),
            login.system.as_str()
        )));
    }
    // Step-up (see `auth::step_up`): a verified passkey adds `webauthn_uv`, once.
    if let Some(step_up) = crate::auth::step_up::step_up_id_of(&body)? {
        if let Some(stored) = hub.stored_login_of(&login).await? {
            return Ok((StatusCode::OK, Json(verdict_reply(&stored, hub.now()))).into_response());
        }
        let actor = format!("token:{}", token.id);
        let event_id = login.event_id.clone();
        let refused = |e: ApiError| {
            let hub = hub.clone();
            let (actor, address, step_up) = (actor.clone(), address.clone(), step_up.clone());
            let login = event_id.clone();
            async move {
                // A refused use (a replay, another account, out of time) is evidence too.
                if e.code == "step_up_invalid" {
                    crate::auth::record(
                        &hub,
                        &actor,
                        system.as_str(),
                        &address,
                        "step_up.refused",
                        &monban_core::text::prefix(&step_up),
                        json!({"login": login, "reason": monban_core::text::prefix(&e.message)}),
                    )
                    .await;
                }
                e
            }
        };
        if let Err(e) = crate::auth::step_up::vouch(&hub, &step_up, &mut login).await {
            return Err(refused(e).await);
        }
        // The step-up is consumed by this login in the transaction that stores it.
        let (stored, new) = match hub.ingest_login(login, Some(step_up.clone())).await {
            Err(HubError::StepUpUsed(id)) => {
                return Err(refused(crate::auth::step_up::invalid(
                    monban_core::step_up::StepUpRefusal::Consumed { id },
                ))
                .await)
            }
            other => other?,
        };
        if new {
            crate::auth::record(
                &hub,
                &actor,
                system.as_str(),
                &address,
                "step_up.use",
                &step_up,
                json!({"login": stored.login.event_id, "account": stored.login.account}),
            )
            .await;
        }
        let status = if new {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(verdict_reply(&stored, hub.now()))).into_response());
    }
    let (stored, new) = hub.ingest_login(login, None).await?;
    let status = if new {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(verdict_reply(&stored, hub.now()))).into_response())
}

/// The caller's session (CONTRACT §10): `{"user", "user_id", "role", "csrf"}` — how an
/// API client of the dashboard reads the CSRF token it sends as `X-CSRF-Token`. `401`
/// without a session (a read token is not one).
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "session",
    operation_id = "get_session",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session's user, role and CSRF token.", body = crate::openapi::SessionReply),
        (status = 401, description = "No signed-in session (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
pub(crate) async fn get_session(
    axum::Extension(principal): axum::Extension<crate::auth::Principal>,
) -> Result<Response, ApiError> {
    let crate::auth::Principal::User { user, csrf, .. } = &principal else {
        return Err(ApiError::unauthorized(
            "no session: sign in with a passkey (a read token has no session)",
        ));
    };
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "user": user.name,
            "user_id": user.id,
            "role": user.role.as_str(),
            "csrf": csrf,
        })),
    )
        .into_response())
}

/// The full login of CONTRACT §7.
pub fn login_json(s: &StoredLogin, now: Timestamp) -> Value {
    let l = &s.login;
    let evidence = match (&s.verdict.evidence, s.verdict.kind) {
        (Some(e), monban_core::VerdictKind::CombinedMeasures) => json!({
            "entry_event_id": e.entry_event_id,
            "door": e.door.as_str(),
            "entered_at": e.entered_at.to_rfc3339(),
            "credential_type": e.credential_type.as_str(),
        }),
        _ => Value::Null,
    };
    json!({
        "event_id": l.event_id,
        "system": l.system.as_str(),
        "account": l.account,
        "terminal": l.terminal,
        "ts": l.ts.to_rfc3339(),
        "factors": l.factors.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "outcome": l.outcome.as_str(),
        "verdict": s.verdict.kind.as_str(),
        "reasons": s.verdict.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "evidence": evidence,
        "final": s.final_at_time(now),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/logins/{event_id}",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    params(("event_id" = String, Path, description = "The login's `event_id`.")),
    responses(
        (status = 200, description = "The login, its verdict and evidence.", body = crate::openapi::LoginResult),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "The role may not read compliance (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such login (`not_found`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn get_login(
    State(hub): State<Arc<Hub>>,
    Path(event_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stored = hub
        .store
        .login(&event_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no login with event_id {event_id:?}"),
            )
        })?;
    Ok(Json(login_json(&stored, hub.now())))
}

/// Parses an optional period of RFC 3339 instants (`monban_core::Period::parse_instants`);
/// the default is the 30 days up to now.
fn period(p: &HashMap<String, String>, now: Timestamp) -> Result<(Timestamp, Timestamp), ApiError> {
    let get = |name: &str| p.get(name).map(String::as_str);
    Period::parse_instants(get("from"), get("to"), now)
        .map(|p| (p.from(), p.to()))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))
}

/// Builds the compliance rows for a period (also used by the dashboard), from the day
/// rollups and the exact edges (see [`crate::reports`]).
pub async fn compliance_rows(
    hub: &Hub,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<SystemCompliance>, ApiError> {
    let period = Period::new(from, to)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?;
    let by_system = crate::reports::counts(&hub.store, period, None, hub.site_offset())
        .await
        .map_err(ApiError::store)?;
    Ok(hub
        .inventory()
        .systems()
        .iter()
        .map(|s| {
            SystemCompliance::new(s, by_system.get(s.id.as_str()).copied().unwrap_or_default())
        })
        .collect())
}

#[utoipa::path(
    get,
    path = "/api/v1/compliance",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    params(crate::openapi::PeriodQuery),
    responses(
        (status = 200, description = "Every system's compliance over the period, by login time.", body = crate::openapi::ComplianceReply),
        (status = 400, description = "A bad `from` or `to`, or `from` after `to` (`invalid_query`).", body = crate::openapi::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "The role may not read compliance (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn get_compliance(
    State(hub): State<Arc<Hub>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let (from, to) = period(&q, hub.now())?;
    let rows = compliance_rows(&hub, from, to).await?;
    Ok(Json(
        json!({"from": from.to_rfc3339(), "to": to.to_rfc3339(), "systems": rows}),
    ))
}

/// Whether the caller may see personal data of logins and payloads (card ids, names,
/// accounts): roles with compliance read. Facilities staff see doors, not people.
fn sees_people(reader: &Option<axum::Extension<monban_web::auth::Reader>>) -> bool {
    reader
        .as_ref()
        .is_some_and(|r| r.role.can(monban_web::auth::Permission::ReadCompliance))
}

#[utoipa::path(
    get,
    path = "/api/v1/dead-letters",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The newest 500 dead letters.", body = crate::openapi::DeadLettersReply),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "The role may not read doors (`forbidden`).", body = crate::openapi::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn get_dead_letters(
    State(hub): State<Arc<Hub>>,
    reader: Option<axum::Extension<monban_web::auth::Reader>>,
) -> Result<Json<Value>, ApiError> {
    let full = sees_people(&reader);
    let letters = hub.store.dead_letters(500).await.map_err(ApiError::store)?;
    let items: Vec<Value> = letters
        .iter()
        .map(|d| {
            json!({
                "id": d.seq,
                "source": d.letter.source,
                "origin": d.letter.origin,
                "received_at": d.letter.received_at.to_rfc3339(),
                "reason": d.letter.reason,
                "door": d.letter.door.as_ref().map(|d| d.to_string()),
                "payload": if full {
                    String::from_utf8_lossy(&d.letter.payload).into_owned()
                } else {
                    monban_web::pages::dead_letters::redacted_payload(d.letter.payload.len())
                },
            })
        })
        .collect();
    Ok(Json(json!({"dead_letters": items})))
}

/// Connector health as data: every door's state, last event, last heartbeat, overruns,
/// outages and dead letters, and every connector's state (see `crate::health`).
#[utoipa::path(
    get,
    path = "/api/v1/doors",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Every door's and connector's health.", body = crate::openapi::DoorsReply),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "The role may not read doors (`forbidden`).", body = crate::openapi::ErrorBody),
    )
)]
async fn get_doors(State(hub): State<Arc<Hub>>) -> Result<Json<Value>, ApiError> {
    let doors = hub.door_health().await;
    let connectors: Vec<Value> = hub
        .connector_states()
        .into_iter()
        .map(|(name, state)| {
            let (since, error) = match &state {
                monban_connectors::ConnectorState::Disconnected { since, error } => {
                    (Some(since.to_rfc3339()), Some(error.clone()))
                }
                _ => (None, None),
            };
            json!({"name": name, "state": state.as_str(), "since": since, "error": error})
        })
        .collect();
    Ok(Json(json!({
        "at": hub.now().to_rfc3339(),
        "connectors": connectors,
        "doors": doors,
    })))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The store is reachable.", body = crate::openapi::HealthReply),
        (status = 503, description = "The store is not reachable (`store_unreachable`).", body = crate::openapi::ErrorBody),
    )
)]
async fn healthz(State(hub): State<Arc<Hub>>) -> Response {
    match hub.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unreachable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unreachable",
                "the store is not reachable",
            )
            .into_response()
        }
    }
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus (OpenMetrics) text.", body = String, content_type = "application/openmetrics-text"),
    )
)]
async fn metrics(State(hub): State<Arc<Hub>>) -> Response {
    hub.metrics.set_door_health(&hub.door_health().await);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        hub.metrics.encode(),
    )
        .into_response()
}

/// Server-sent events: one unnamed message (so `EventSource.onmessage` sees it) whenever
/// something the dashboard shows changed.
///
/// A role without compliance read (facilities) is told that a login changed, not which.
#[utoipa::path(
    get,
    path = "/api/v1/live",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Server-sent events: one unnamed message whenever something the dashboard shows changed; the stream stays open.", body = crate::openapi::LiveEvent, content_type = "text/event-stream"),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::openapi::ErrorBody),
        (status = 403, description = "The role may not follow the feed (`forbidden`).", body = crate::openapi::ErrorBody),
    )
)]
async fn live(
    State(hub): State<Arc<Hub>>,
    reader: Option<axum::Extension<monban_web::auth::Reader>>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let rx = hub.subscribe();
    let full = sees_people(&reader);
    let stream = futures::stream::unfold(rx, move |mut rx| async move {
        let data = match rx.recv().await {
            Ok(mut ev) => {
                if !full && matches!(ev.kind, "login" | "verdict" | "final") {
                    ev.id.clear();
                }
                serde_json::to_string(&ev).unwrap_or_default()
            }
            // Missed messages: the client refetches anyway.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                "{\"kind\":\"lagged\"}".to_string()
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(Event::default().data(data)), rx))
    });
    // End the stream on shutdown, or open dashboards would hold graceful shutdown forever.
    let stream = futures::StreamExt::take_until(stream, hub.shutdown.clone().cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::default())
}
