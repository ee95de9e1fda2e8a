//! The ingest API (CONTRACT §5, §7): door events and logins over HTTP, each checked
//! against its ingest token ([`BearerBody`]), parsed by `monban-core` and handed to the
//! writer through [`Ingest`]; a login may name a verified step-up (`crate::step_up`).
//! Every failure answers with the contract's error body ([`ApiError`]).

use super::error::ApiError;
use super::extract::{body_bytes, BearerBody};
use super::state::Accounts;
use crate::auth::ClientAddr;
use crate::ingest::{Ingest, IngestError};
use crate::maintenance::Maintenance;
use crate::notify::Notifier;
use crate::step_up::StepUpError;
use crate::store::{StoredLogin, TokenScope};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use monban_connectors::Ingested;
use monban_core::maintenance::LoginFacts;
use monban_core::step_up::StepUpRefusal;
use monban_core::{DoorEvent, Inventory, Login, Timestamp};
use serde_json::{json, Value};
use std::sync::Arc;

#[utoipa::path(
    post,
    path = "/api/v1/door-events",
    tag = "ingest",
    security(("bearer" = [])),
    request_body(content = crate::http::schema::DoorEventBody, description = "CONTRACT §5: the MQTT payload plus `door`.", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored.", body = crate::http::schema::DoorEventReply),
        (status = 200, description = "An `event_id` this door already sent: stored once.", body = crate::http::schema::DoorEventReply),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not a door-ingest token, or one limited to other doors (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "A valid shape with an unknown value (`unknown_door`, `unknown_event_kind`, `invalid_timestamp`, …).", body = crate::http::schema::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was recorded (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn post_door_event(
    State(ingest): State<Arc<Ingest>>,
    BearerBody { token, body }: BearerBody,
) -> Result<Response, ApiError> {
    let TokenScope::Doors(only) = &token.scope else {
        return Err(ApiError::Forbidden(
            "this endpoint needs a door-ingest token (token issue --doors)".into(),
        ));
    };
    let body = body_bytes(body)?;
    let event = DoorEvent::from_json(&body, None)?;
    if let Some(only) = only.as_ref().filter(|o| !o.contains(&event.door)) {
        return Err(ApiError::Forbidden(format!(
            "this token ingests events of door(s) {} only, not {:?}",
            only.iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            event.door.as_str()
        )));
    }
    let reply = json!({"door": event.door.as_str(), "event_id": event.event_id});
    let status = match ingest.ingest_door_event(event, "http").await? {
        Ingested::New => StatusCode::ACCEPTED,
        Ingested::Duplicate | Ingested::DeadLettered => StatusCode::OK,
    };
    Ok((status, Json(reply)).into_response())
}

/// A new login's notifications (CONTRACT §11: `login.account_of_leaver`,
/// `maintenance.unapproved_login`): [`crate::notify::watch::after_login`].
async fn notify_login(
    notifier: &Notifier,
    inv: &Inventory,
    stored: &StoredLogin,
    facts: &LoginFacts,
) {
    crate::notify::watch::after_login_with(notifier, inv, stored, facts).await;
}

/// `{"event_id", "verdict", "reasons", "final", "flags"}` (and `"maintenance"` for a
/// maintenance login), CONTRACT §7.
fn verdict_reply(s: &StoredLogin, now: Timestamp, facts: &LoginFacts) -> Value {
    super::reads::with_facts(
        json!({
            "event_id": s.login.event_id,
            "verdict": s.verdict.kind.as_str(),
            "reasons": s.verdict.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "final": s.final_at_time(now),
        }),
        facts,
    )
}

/// A stored login's reply; a new one's notifications first. The maintenance facts are
/// reconciled once for both.
async fn reply_to(
    stored: &StoredLogin,
    new: bool,
    now: Timestamp,
    ingest: &Ingest,
    maintenance: &Maintenance,
    notifier: &Notifier,
) -> Value {
    let inv = ingest.inventory();
    let facts = maintenance.facts(&inv, &stored.login);
    if new {
        notify_login(notifier, &inv, stored, &facts).await;
    }
    verdict_reply(stored, now, &facts)
}

#[utoipa::path(
    post,
    path = "/api/v1/logins",
    tag = "ingest",
    security(("bearer" = [])),
    request_body(content = crate::http::schema::LoginBody, description = "CONTRACT §7, with an optional `step_up_id` (docs/STEP-UP.md).", content_type = "application/json"),
    responses(
        (status = 202, description = "Stored and judged.", body = crate::http::schema::LoginReply),
        (status = 200, description = "An `event_id` this system already sent: the stored result.", body = crate::http::schema::LoginReply),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "A missing or unknown token (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not a login-ingest token, or one of another system (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 409, description = "The `event_id` is already stored for another system (`event_id_conflict`); nothing is stored.", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "A valid shape with an unknown value (`unknown_system`, `unknown_factor`, `invalid_timestamp`, `step_up_invalid`, …).", body = crate::http::schema::ErrorBody),
        (status = 429, description = "Over the ingest rate limit (`rate_limited`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was recorded (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn post_login(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    State(notifier): State<Arc<Notifier>>,
    address: Option<axum::Extension<ClientAddr>>,
    BearerBody { token, body }: BearerBody,
) -> Result<Response, ApiError> {
    let address = address.map(|a| a.0 .0).unwrap_or_default();
    let TokenScope::Login(system) = &token.scope else {
        return Err(ApiError::Forbidden(
            "this endpoint needs a login-ingest token (token issue --system ID)".into(),
        ));
    };
    let body = body_bytes(body)?;
    let mut login = Login::from_json(&body)?;
    if &login.system != system {
        return Err(ApiError::Forbidden(format!(
            "this token ingests logins of system {:?}, not {:?}",
            system.as_str(),
            login.system.as_str()
        )));
    }
    // Step-up (see `crate::step_up`): a verified passkey adds `webauthn_uv`, once.
    if let Some(step_up) = super::step_up::step_up_id_of(&body)? {
        if let Some(stored) = ingest.stored_login_of(&login).await? {
            let reply = reply_to(
                &stored,
                false,
                accounts.now(),
                &ingest,
                &maintenance,
                &notifier,
            )
            .await;
            return Ok((StatusCode::OK, Json(reply)).into_response());
        }
        let actor = format!("token:{}", token.id);
        let event_id = login.event_id.clone();
        let refused = |e: StepUpError| {
            let accounts = accounts.clone();
            let (actor, address, step_up) = (actor.clone(), address.clone(), step_up.clone());
            let login = event_id.clone();
            async move {
                // A refused use (a replay, another account, out of time) is evidence too.
                if let StepUpError::Refused(why) = &e {
                    accounts
                        .record(
                            &actor,
                            system.as_str(),
                            &address,
                            "step_up.refused",
                            &monban_core::text::prefix(&step_up),
                            json!({"login": login, "reason": monban_core::text::prefix(&why.to_string())}),
                        )
                        .await;
                }
                ApiError::from(e)
            }
        };
        if let Err(e) = crate::step_up::vouch(&accounts.store, &step_up, &mut login).await {
            return Err(refused(e).await);
        }
        // The step-up is consumed by this login in the transaction that stores it.
        let (stored, new) = match ingest.ingest_login(login, Some(step_up.clone())).await {
            Err(IngestError::StepUpUsed(id)) => {
                return Err(refused(StepUpError::Refused(StepUpRefusal::Consumed { id })).await)
            }
            other => other?,
        };
        let reply = reply_to(
            &stored,
            new,
            accounts.now(),
            &ingest,
            &maintenance,
            &notifier,
        )
        .await;
        if new {
            accounts
                .record(
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
        return Ok((status, Json(reply)).into_response());
    }
    let (stored, new) = ingest.ingest_login(login, None).await?;
    let reply = reply_to(
        &stored,
        new,
        accounts.now(),
        &ingest,
        &maintenance,
        &notifier,
    )
    .await;
    let status = if new {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(reply)).into_response())
}
