//! The maintenance API (CONTRACT §10): vendors (with their token) and officers file
//! requests; an officer or admin who did not file one decides it, each decision
//! confirmed by a fresh passkey assertion (`decision/start` → `navigator.credentials.get()`
//! → `decision/finish`); vendors report their work; read tokens read requests with their
//! reconciliation and the maintenance logins no request covers.
//!
//! The rules are `monban_core::maintenance`'s, applied by `crate::maintenance`; this
//! module only moves JSON and maps refusals to the contract's error body.

use super::ceremony::{finish_confirmation, start_confirmation};
use super::error::ApiError;
use super::extract::{body_bytes, Asker};
use super::reads::{login_result, period};
use super::state::Accounts;
use crate::auth::Principal;
use crate::ingest::Ingest;
use crate::maintenance::{Actor, Decided, Maintenance, MaintenanceError, RequestView};
use crate::store::TokenScope;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use monban_core::maintenance::{
    Decision, DecisionError, Filer, ReportBody, ReportError, RequestBody,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use webauthn_rs::prelude::PublicKeyCredential;

/// The routes of this module.
pub fn routes() -> Router<super::state::AppState> {
    Router::new()
        .route("/api/v1/maintenance", post(post_request).get(list_requests))
        .route("/api/v1/maintenance/unapproved", get(unapproved_logins))
        .route("/api/v1/maintenance/{id}", get(get_request))
        .route("/api/v1/maintenance/{id}/report", post(post_report))
        .route(
            "/api/v1/maintenance/{id}/decision/start",
            post(decision_start),
        )
        .route(
            "/api/v1/maintenance/{id}/decision/finish",
            post(decision_finish),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            super::extract::BODY_LIMIT,
        ))
}

impl From<MaintenanceError> for ApiError {
    fn from(e: MaintenanceError) -> ApiError {
        match e {
            MaintenanceError::Store(e) => e.into(),
            MaintenanceError::Request(e) => ApiError::Invalid {
                code: e.code(),
                message: e.message(),
            },
            MaintenanceError::Conflict(id) => ApiError::Conflict {
                code: "request_id_conflict",
                message: format!(
                    "request {id:?} was already filed with another body; use a new request_id"
                ),
            },
            MaintenanceError::NotFound(id) => {
                ApiError::NotFound(format!("no maintenance request {id:?}"))
            }
            MaintenanceError::Decision(e) => match e {
                DecisionError::SelfApproval { .. } => ApiError::Denied {
                    code: e.code(),
                    message: format!(
                        "{} — another officer or admin decides it / 申請者本人は判断できません",
                        e.message()
                    ),
                },
                DecisionError::InvalidTransition { .. } => ApiError::Conflict {
                    code: e.code(),
                    message: e.message(),
                },
                DecisionError::InvalidNote(_) => ApiError::Invalid {
                    code: e.code(),
                    message: format!("note: {}", e.message()),
                },
            },
            MaintenanceError::Report(e) => match e {
                ReportError::BeforeStart { .. }
                | ReportError::NotApproved(_)
                | ReportError::AlreadyReported => ApiError::Conflict {
                    code: e.code(),
                    message: e.message(),
                },
                ReportError::InvalidSummary(_) | ReportError::InvalidRecording(_) => {
                    ApiError::Invalid {
                        code: e.code(),
                        message: e.message(),
                    }
                }
            },
            e @ MaintenanceError::OtherVendor { .. } => ApiError::Forbidden(e.to_string()),
        }
    }
}

/// The JSON of one request (CONTRACT §10).
pub fn request_json(v: &RequestView) -> Value {
    let r = &v.request;
    json!({
        "request_id": r.id,
        "vendor": r.vendor,
        "system": r.system,
        "people": r.people,
        "work_plan": r.work_plan,
        "purpose": r.purpose,
        "start": r.start.to_rfc3339(),
        "end": r.end.to_rfc3339(),
        "remote": r.remote,
        "emergency": r.emergency,
        "status": r.status.as_str(),
        "requested_by": r.requested_by.to_string(),
        "requested_at": r.requested_at.to_rfc3339(),
        "decisions": r.decisions.iter().map(|d| json!({
            "decision": d.decision.as_str(), "by": d.by, "at": d.at.to_rfc3339(), "note": d.note,
        })).collect::<Vec<_>>(),
        "logins": v.logins,
        "entries": v.entries.iter().map(|e| json!({
            "person": e.person, "door": e.door, "at": e.at.to_rfc3339(),
        })).collect::<Vec<_>>(),
        "supervised": v.supervised,
        "report": r.report.as_ref().map(|p| json!({
            "at": p.at.to_rfc3339(),
            "summary": p.summary,
            "recording": p.recording,
            "confirmed_by": p.confirmed_by,
            "confirmed_at": p.confirmed_at.map(|t| t.to_rfc3339()),
        })),
        "findings": v.findings.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
    })
}

fn parse_body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed(e.to_string()))
}

/// The actor of a vendor token.
fn token_actor(t: &crate::store::TokenRow, address: &str) -> Actor {
    Actor {
        actor: format!("token:{}", t.id),
        name: t.label.clone(),
        address: address.to_string(),
    }
}

fn user_actor(principal: &Principal, address: &str) -> Actor {
    let (actor, name) = principal.actor();
    Actor {
        actor,
        name,
        address: address.to_string(),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/maintenance",
    tag = "maintenance",
    security(("bearer" = []), ("session" = [])),
    request_body(content = crate::http::schema::MaintenanceRequestBody, description = "CONTRACT §10: a vendor's token files for its own vendor; a signed-in officer or admin names `vendor` (a paper request).", content_type = "application/json"),
    responses(
        (status = 201, description = "Filed: `requested`.", body = crate::http::schema::MaintenanceFiled),
        (status = 200, description = "The same `request_id` with the same body: filed once.", body = crate::http::schema::MaintenanceFiled),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not a vendor token, or a role that may not file (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 409, description = "The `request_id` was filed with another body (`request_id_conflict`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "`not_maintained_by_vendor`, `not_vendor_staff`, `invalid_window`, `invalid_work_plan`, `invalid_request_id`, `vendor_required`, `unknown_vendor`, `vendor_mismatch`, `invalid_people`, `invalid_purpose`.", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was recorded (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn post_request(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    asker: Asker,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (filer, actor) = match &asker.principal {
        Principal::User { user, .. } => (
            Filer::User(user.name.clone()),
            user_actor(&asker.principal, &asker.address),
        ),
        _ => {
            // The gate let a bearer request through: it must be a vendor's token.
            let token =
                super::extract::authenticate(&accounts.store, &accounts.clock, &headers).await?;
            let TokenScope::Vendor(vendor) = &token.scope else {
                return Err(ApiError::Forbidden(
                    "this endpoint needs a vendor token (token issue --vendor ID) or a signed-in officer".into(),
                ));
            };
            (
                Filer::Vendor(vendor.clone()),
                token_actor(&token, &asker.address),
            )
        }
    };
    let bytes = body_bytes(body)?;
    let req: RequestBody = parse_body(&bytes)?;
    let (request, new) = maintenance
        .file(&ingest.inventory(), &req, filer, &actor, accounts.now())
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"request_id": request.id, "status": request.status.as_str()})),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/maintenance",
    tag = "maintenance",
    security(("bearer" = []), ("session" = [])),
    params(crate::http::schema::PeriodQuery),
    responses(
        (status = 200, description = "The requests whose window overlaps the period, newest first.", body = crate::http::schema::MaintenanceList),
        (status = 400, description = "A bad period (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read maintenance (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn list_requests(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let now = accounts.now();
    let p = period(&q, now)?;
    let views = maintenance
        .list(&ingest.inventory(), p.from(), p.to(), now)
        .await?;
    Ok(Json(json!({
        "from": p.from().to_rfc3339(),
        "to": p.to().to_rfc3339(),
        "requests": views.iter().map(request_json).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(
    get,
    path = "/api/v1/maintenance/{id}",
    tag = "maintenance",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The `request_id`.")),
    responses(
        (status = 200, description = "The request with its reconciliation now.", body = crate::http::schema::MaintenanceRequestReply),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read maintenance (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No such request (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_request(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let request = maintenance
        .request(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no maintenance request {id:?}")))?;
    let view = maintenance
        .view(&ingest.inventory(), &request, accounts.now())
        .await?;
    Ok(Json(request_json(&view)))
}

#[utoipa::path(
    get,
    path = "/api/v1/maintenance/unapproved",
    tag = "maintenance",
    security(("bearer" = []), ("session" = [])),
    params(crate::http::schema::PeriodQuery),
    responses(
        (status = 200, description = "Successful logins of vendor staff that no request covers, in time order.", body = crate::http::schema::UnapprovedLogins),
        (status = 400, description = "A bad period (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read maintenance (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn unapproved_logins(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let now = accounts.now();
    let p = period(&q, now)?;
    let inv = ingest.inventory();
    let logins = maintenance.unapproved(&inv, p.from(), p.to()).await?;
    Ok(Json(json!({
        "from": p.from().to_rfc3339(),
        "to": p.to().to_rfc3339(),
        "logins": logins
            .iter()
            .map(|s| login_result(s, now, &maintenance.facts(&inv, &s.login)))
            .collect::<Vec<_>>(),
    })))
}

#[utoipa::path(
    post,
    path = "/api/v1/maintenance/{id}/report",
    tag = "maintenance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The `request_id`.")),
    request_body(content = crate::http::schema::MaintenanceReportBody, description = "The vendor's work report (作業報告), with an optional reference to a PAM tool's session recording.", content_type = "application/json"),
    responses(
        (status = 201, description = "Stored.", body = crate::http::schema::MaintenanceFiled),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not this request's vendor token (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No such request (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 409, description = "Before the window's start or a request without approved work (`invalid_transition`), a report already submitted (`report_exists`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "`invalid_summary`, `invalid_recording`.", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was recorded (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn post_report(
    State(accounts): State<Accounts>,
    State(maintenance): State<Arc<Maintenance>>,
    asker: Asker,
    Path(id): Path<String>,
    super::extract::BearerBody { token, body }: super::extract::BearerBody,
) -> Result<Response, ApiError> {
    let TokenScope::Vendor(vendor) = &token.scope else {
        return Err(ApiError::Forbidden(
            "this endpoint needs a vendor token (token issue --vendor ID)".into(),
        ));
    };
    let bytes = body_bytes(body)?;
    let report: ReportBody = parse_body(&bytes)?;
    let actor = token_actor(&token, &asker.address);
    let request = maintenance
        .report(&id, vendor, &report, &actor, accounts.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"request_id": request.id, "status": request.status.as_str()})),
    )
        .into_response())
}

/// What a passkey confirms: a decision on this request.
fn purpose(id: &str) -> String {
    format!("maintenance:{id}")
}

#[utoipa::path(
    post,
    path = "/api/v1/maintenance/{id}/decision/start",
    tag = "maintenance",
    security(("session" = [])),
    params(("id" = String, Path, description = "The `request_id`.")),
    responses(
        (status = 200, description = "`{\"ceremony\", \"options\"}`: `options` is what `navigator.credentials.get()` takes, for the user's passkeys, user verification required.", body = crate::http::schema::CeremonyStarted),
        (status = 401, description = "No session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not an officer or admin (`forbidden`), no CSRF token (`csrf_failed`), or the user filed the request (`self_approval`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No such request (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 409, description = "The user has no passkey (`no_passkey`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn decision_start(
    State(accounts): State<Accounts>,
    State(maintenance): State<Arc<Maintenance>>,
    asker: Asker,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let request = maintenance
        .request(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no maintenance request {id:?}")))?;
    // Refuse the filer before asking for a passkey: it would be refused at the end.
    if let Some(user) = asker.principal.user() {
        if request.requested_by == Filer::User(user.name.clone()) {
            return Err(MaintenanceError::Decision(DecisionError::SelfApproval {
                by: user.name.clone(),
            })
            .into());
        }
    }
    Ok(Json(
        start_confirmation(&accounts, &asker.principal, &purpose(&id)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionFinish {
    ceremony: String,
    credential: PublicKeyCredential,
    decision: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/maintenance/{id}/decision/finish",
    tag = "maintenance",
    security(("session" = [])),
    params(("id" = String, Path, description = "The `request_id`.")),
    request_body(content = crate::http::schema::DecisionFinishBody, description = "The assertion of the ceremony, the decision and a note.", content_type = "application/json"),
    responses(
        (status = 200, description = "Decided: the request as it is now.", body = crate::http::schema::MaintenanceRequestReply),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No session (`unauthorized`), or the passkey could not be verified (`passkey_rejected`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not an officer or admin (`forbidden`), no CSRF token (`csrf_failed`), or the user filed the request (`self_approval`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No such request (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 409, description = "The decision does not apply to the request's state (`invalid_transition`).", body = crate::http::schema::ErrorBody),
        (status = 410, description = "The ceremony expired or was used (`ceremony_expired`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "An unknown decision (`invalid_decision`) or a bad note (`invalid_note`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn decision_finish(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    asker: Asker,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body_bytes(body)?;
    let req: DecisionFinish = parse_body(&bytes)?;
    let decision: Decision = req.decision.parse().map_err(|m| ApiError::Invalid {
        code: "invalid_decision",
        message: m,
    })?;
    let Some(user) = asker.principal.user().cloned() else {
        return Err(ApiError::Unauthorized("sign in with a passkey".into()));
    };
    if maintenance.request(&id).is_none() {
        return Err(ApiError::NotFound(format!("no maintenance request {id:?}")));
    }
    let actor = user_actor(&asker.principal, &asker.address);
    let now = accounts.now();
    let outcome = async {
        let passkey = finish_confirmation(
            &accounts,
            &asker.principal,
            &purpose(&id),
            &req.ceremony,
            &req.credential,
        )
        .await?;
        maintenance
            .decide(
                &id,
                &Decided {
                    decision,
                    by_name: &user.name,
                    note: &req.note,
                    passkey: &passkey,
                },
                &actor,
                now,
            )
            .await
            .map_err(ApiError::from)
    }
    .await;
    let request = match outcome {
        Ok(r) => r,
        Err(e) => {
            // A refused decision is evidence too: who tried what, and why it failed.
            accounts
                .record(
                    &actor.actor,
                    &actor.name,
                    &actor.address,
                    "maintenance.decision_refused",
                    &id,
                    json!({"decision": decision.as_str(), "reason": e.code()}),
                )
                .await;
            return Err(e);
        }
    };
    let view = maintenance.view(&ingest.inventory(), &request, now).await?;
    Ok(Json(request_json(&view)))
}
