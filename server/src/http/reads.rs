//! The read API (CONTRACT §7, §8, §10, §12): a login with its verdict and evidence, the
//! compliance of every system over a period, the account review of a system, dead
//! letters, connector health, and the caller's session. Who may read is decided before a handler runs, by the gate
//! (`super::gate`: a read token or a signed-in user whose role allows the route).

use super::error::ApiError;
use super::extract::sees_people;
use super::state::Site;
use crate::clock::Clock;
use crate::ingest::Ingest;
use crate::maintenance::Maintenance;
use crate::store::{Store, StoredLogin};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use monban_core::maintenance::LoginFacts;
use monban_core::{Period, Timestamp};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

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
        (status = 200, description = "The session's user, role and CSRF token.", body = crate::http::schema::SessionReply),
        (status = 401, description = "No signed-in session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_session(
    axum::Extension(principal): axum::Extension<crate::auth::Principal>,
) -> Result<Response, ApiError> {
    let crate::auth::Principal::User { user, csrf, .. } = &principal else {
        return Err(ApiError::Unauthorized(
            "no session: sign in with a passkey (a read token has no session)".into(),
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

/// Adds a login's current `flags` (always) and `maintenance` (for a maintenance login)
/// to its JSON (CONTRACT §7, §10).
pub fn with_facts(mut v: Value, facts: &LoginFacts) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "flags".into(),
            json!(facts.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>()),
        );
        if let Some(m) = &facts.maintenance {
            o.insert(
                "maintenance".into(),
                json!({"request_id": m.request_id, "status": m.status.as_str()}),
            );
        }
    }
    v
}

/// The full login of CONTRACT §7 with its current flags.
pub fn login_result(s: &StoredLogin, now: Timestamp, facts: &LoginFacts) -> Value {
    with_facts(login_json(s, now), facts)
}

/// The full login of CONTRACT §7, without flags (exports add their own columns).
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
        (status = 200, description = "The login, its verdict and evidence.", body = crate::http::schema::LoginResult),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read compliance (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No such login (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_login(
    State(store): State<Store>,
    State(clock): State<Clock>,
    State(ingest): State<Arc<Ingest>>,
    State(maintenance): State<Arc<Maintenance>>,
    Path(event_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stored = store
        .login(&event_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no login with event_id {event_id:?}")))?;
    let facts = maintenance.facts(&ingest.inventory(), &stored.login);
    Ok(Json(login_result(&stored, clock.now(), &facts)))
}

/// Parses an optional period of RFC 3339 instants (`monban_core::Period::parse_instants`);
/// the default is the 30 days up to now.
pub(super) fn period(p: &HashMap<String, String>, now: Timestamp) -> Result<Period, ApiError> {
    let get = |name: &str| p.get(name).map(String::as_str);
    Period::parse_instants(get("from"), get("to"), now)
        .map_err(|e| ApiError::BadQuery(e.to_string()))
}

#[utoipa::path(
    get,
    path = "/api/v1/evidence/head",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The head of the evidence chain: what `monban verify` prints when nothing was changed.", body = crate::http::schema::EvidenceHeadReply),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read compliance (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "The chain has not begun (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_evidence_head(State(store): State<Store>) -> Result<Json<Value>, ApiError> {
    let head = store
        .evidence_head()
        .await?
        .ok_or_else(|| ApiError::NotFound("the evidence chain has not begun".into()))?;
    Ok(Json(
        json!({"seq": head.seq, "hash": head.hash, "at": head.at.to_rfc3339()}),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/compliance",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    params(crate::http::schema::PeriodQuery),
    responses(
        (status = 200, description = "Every system's compliance over the period, by login time.", body = crate::http::schema::ComplianceReply),
        (status = 400, description = "A bad `from` or `to`, or `from` after `to` (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read compliance (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_compliance(
    State(store): State<Store>,
    State(clock): State<Clock>,
    State(ingest): State<Arc<Ingest>>,
    State(site): State<Site>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let period = period(&q, clock.now())?;
    let (from, to) = (period.from(), period.to());
    let rows = crate::reports::compliance(&store, &ingest.inventory(), period, site.offset).await?;
    Ok(Json(
        json!({"from": from.to_rfc3339(), "to": to.to_rfc3339(), "systems": rows}),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/dead-letters",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "The newest 500 dead letters.", body = crate::http::schema::DeadLettersReply),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read doors (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_dead_letters(
    State(store): State<Store>,
    reader: Option<axum::Extension<monban_web::auth::Reader>>,
) -> Result<Json<Value>, ApiError> {
    let full = sees_people(&reader);
    let letters = store.dead_letters(500).await?;
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
        (status = 200, description = "Every door's and connector's health.", body = crate::http::schema::DoorsReply),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read doors (`forbidden`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_doors(
    State(ingest): State<Arc<Ingest>>,
    State(clock): State<Clock>,
) -> Result<Json<Value>, ApiError> {
    let doors = ingest.door_health().await;
    let connectors: Vec<Value> = ingest
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
        "at": clock.now().to_rfc3339(),
        "connectors": connectors,
        "doors": doors,
    })))
}

/// The account review of one system (CONTRACT §12, アカウントの棚卸し): every account
/// mapped in the inventory or seen in one of its logins, with its person's status, its
/// last successful login, its successful logins in the last 90 days and its findings.
/// The facts come from one aggregate over the system's logins; the rules are
/// `monban_core::accounts`.
#[utoipa::path(
    get,
    path = "/api/v1/accounts",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    params(crate::http::schema::AccountsQuery),
    responses(
        (status = 200, description = "Every account of the system, in account order.", body = crate::http::schema::AccountsReply),
        (status = 400, description = "No `system` given (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read the inventory (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "A system that is not in the inventory (`unknown_system`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_accounts(
    State(store): State<Store>,
    State(clock): State<Clock>,
    State(ingest): State<Arc<Ingest>>,
    State(settings): State<crate::config::AccountSettings>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let inventory = ingest.inventory();
    let now = clock.now();
    let (system, rows) = account_rows(&store, &inventory, &settings, q.get("system"), now).await?;
    let accounts: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "account": r.account,
                "person": r.person.as_ref().map(|p| p.as_str()),
                "person_status": r.person_status.map(|s| s.as_str()),
                "last_login": r.last_login.map(|t| t.to_rfc3339()),
                "logins_90d": r.logins_90d,
                "findings": r.findings.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(
        json!({"system": system.as_str(), "accounts": accounts}),
    ))
}

/// The review rows of the system `?system=` names (CONTRACT §12): `400 invalid_query`
/// without one, `422 unknown_system` for one not in the inventory. Shared by the account
/// list and the review campaign (`super::account_reviews`).
pub(super) async fn account_rows(
    store: &Store,
    inventory: &monban_core::Inventory,
    settings: &crate::config::AccountSettings,
    system: Option<&String>,
    now: monban_core::Timestamp,
) -> Result<
    (
        monban_core::SystemId,
        Vec<monban_core::accounts::AccountRow>,
    ),
    ApiError,
> {
    use monban_core::accounts::{review, RECENT};
    let Some(system) = system.filter(|s| !s.is_empty()) else {
        return Err(ApiError::BadQuery(
            "give the system whose accounts to list: ?system=ID".into(),
        ));
    };
    let Some(system) = inventory
        .systems()
        .iter()
        .find(|s| s.id.as_str() == system.as_str())
        .map(|s| s.id.clone())
    else {
        return Err(ApiError::Invalid {
            code: "unknown_system",
            message: format!("system {system:?} is not in the inventory"),
        });
    };
    let seen = store
        .account_activity(system.as_str(), now.saturating_sub(RECENT))
        .await?;
    let rows = review(inventory, &system, &seen, now, settings.dormant_after);
    Ok((system, rows))
}
