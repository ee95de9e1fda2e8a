//! The account review campaign's API (アカウントの棚卸し, issue 12 point 2; docs/ACCOUNTS.md):
//!
//! | route | who | what |
//! |---|---|---|
//! | `POST /api/v1/accounts/reviews/start` `{system, marks}` | officer, admin (session) | checks the marks, answers a passkey challenge |
//! | `POST /api/v1/accounts/reviews/finish` `{ceremony, credential, system, marks}` | the same session | checks the assertion, stores the review |
//! | `GET /api/v1/accounts/reviews?system=` | a role that reads the inventory | the reviews, the last one, `overdue` and the follow-ups |
//! | `GET /accounts/export.csv?system=` | a role that reads the inventory | the system's account list as CSV (the page's download; `export.download` in the audit trail) |
//!
//! A review is confirmed like a maintenance decision (`super::maintenance`): a fresh
//! passkey assertion of the signed-in user, the ceremony bound to this session and to
//! exactly these marks (the purpose carries their SHA-256), so the marks sent to
//! `finish` must be the ones `start` checked. The marks are checked again at `finish`
//! against the accounts as they are then: an account that appeared meanwhile is
//! undecided. The rules are `monban_core::account_review`'s; the §12 reply of
//! `GET /api/v1/accounts` is not changed.
//!
//! The stored review and its audit line are chained as evidence in one transaction
//! (`crate::store::account_reviews`); a refused finish is recorded in the audit trail
//! (`accounts.review_refused`).

use super::ceremony::{finish_confirmation, start_confirmation};
use super::error::ApiError;
use super::extract::{body_bytes, Asker};
use super::reads::account_rows;
use super::state::Accounts;
use crate::config::AccountSettings;
use crate::ingest::Ingest;
use crate::store::account_reviews::{NewReview, StoredReview};
use crate::store::auth::NewAudit;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use monban_core::account_review::{self, FollowUp, Mark, MarkBody, ReviewError};
use monban_core::accounts::AccountRow;
use monban_core::{Inventory, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use webauthn_rs::prelude::PublicKeyCredential;

/// The routes of this module.
pub fn routes() -> Router<super::state::AppState> {
    Router::new()
        .route("/api/v1/accounts/reviews", get(list_reviews))
        .route("/api/v1/accounts/reviews/start", post(review_start))
        .route("/api/v1/accounts/reviews/finish", post(review_finish))
        .route("/accounts/export.csv", get(accounts_csv))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::extract::BODY_LIMIT,
        ))
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> ApiError {
        ApiError::Invalid {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// A system's reviews as the API and the dashboard show them.
#[derive(Debug, Clone)]
pub struct ReviewState {
    /// Newest first.
    pub reviews: Vec<StoredReview>,
    /// The last review is older than `review_every`, or there is none (要棚卸し).
    pub overdue: bool,
    /// When the next review is due (none: due now, never reviewed).
    pub due_at: Option<Timestamp>,
    /// What the last review still asks, in account order.
    pub follow_up: Vec<(String, FollowUp)>,
}

/// The review state of a system whose review `rows` are given.
pub async fn review_state(
    store: &Store,
    settings: &AccountSettings,
    system: &str,
    rows: &[AccountRow],
    now: Timestamp,
) -> Result<ReviewState, crate::store::StoreError> {
    let reviews = store.account_reviews(system).await?;
    let last = reviews.first();
    let follow_up = last
        .map(|r| account_review::follow_up(&r.marks, r.completed_at, rows))
        .unwrap_or_default();
    Ok(ReviewState {
        overdue: account_review::overdue(last.map(|r| r.completed_at), now, settings.review_every),
        due_at: last.map(|r| r.completed_at.saturating_add(settings.review_every)),
        follow_up,
        reviews,
    })
}

fn counts_json(marks: &[Mark]) -> Value {
    let [keep, remove, map] = account_review::counts(marks);
    json!({"keep": keep, "remove": remove, "map": map})
}

/// The JSON of a stored review.
pub fn review_json(r: &StoredReview) -> Value {
    json!({
        "id": r.id,
        "system": r.system,
        "completed_at": r.completed_at.to_rfc3339(),
        "by": r.by,
        "counts": counts_json(&r.marks),
        "marks": r.marks.iter().map(|m| json!({
            "account": m.account,
            "decision": m.decision.as_str(),
            "person": m.person.as_ref().map(|p| p.as_str()),
            "note": m.note,
        })).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    system: String,
    marks: Vec<MarkBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    ceremony: String,
    credential: PublicKeyCredential,
    system: String,
    marks: Vec<MarkBody>,
}

fn parse_body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed(e.to_string()))
}

/// What the passkey confirms: this review of this system, with exactly these marks.
fn purpose(system: &str, marks: &[Mark]) -> Result<String, ApiError> {
    let text = serde_json::to_string(marks)
        .map_err(|e| ApiError::Internal(format!("marks do not serialize: {e}")))?;
    Ok(format!(
        "account_review:{system}:{}",
        hex::encode(Sha256::digest(text.as_bytes()))
    ))
}

/// The checked marks of `marks` for `system`, against its accounts now.
async fn checked(
    store: &Store,
    inventory: &Inventory,
    settings: &AccountSettings,
    system: &str,
    marks: &[MarkBody],
    now: Timestamp,
) -> Result<(String, Vec<Mark>), ApiError> {
    let system = system.to_string();
    let (id, rows) = account_rows(store, inventory, settings, Some(&system), now).await?;
    let marks = account_review::check(&rows, inventory, marks)?;
    Ok((id.as_str().to_string(), marks))
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/reviews",
    tag = "accounts",
    security(("bearer" = []), ("session" = [])),
    params(crate::http::schema::AccountsQuery),
    responses(
        (status = 200, description = "The completed reviews of the system, newest first, with the last one, whether a review is due (`overdue`, 要棚卸し) and what the last one still asks (`follow_up`).", body = crate::http::schema::AccountReviewsReply),
        (status = 400, description = "No `system` given (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not read the inventory (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "A system that is not in the inventory (`unknown_system`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn list_reviews(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(settings): State<AccountSettings>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let now = accounts.now();
    let inventory = ingest.inventory();
    let (system, rows) =
        account_rows(&accounts.store, &inventory, &settings, q.get("system"), now).await?;
    let state = review_state(&accounts.store, &settings, system.as_str(), &rows, now).await?;
    Ok(Json(json!({
        "system": system.as_str(),
        "review_every": settings.review_every.to_string(),
        "overdue": state.overdue,
        "due_at": state.due_at.map(|t| t.to_rfc3339()),
        "last_review": state.reviews.first().map(|r| json!({
            "id": r.id, "completed_at": r.completed_at.to_rfc3339(), "by": r.by,
        })),
        "follow_up": state.follow_up.iter().map(|(account, f)| json!({
            "account": account, "follow_up": f.as_str(),
        })).collect::<Vec<_>>(),
        "reviews": state.reviews.iter().map(review_json).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/reviews/start",
    tag = "accounts",
    security(("session" = [])),
    request_body(content = crate::http::schema::ReviewStartBody, description = "The system and one mark per account of its review (`GET /api/v1/accounts`).", content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"ceremony\", \"options\"}`: `options` is what `navigator.credentials.get()` takes, for the user's passkeys, user verification required.", body = crate::http::schema::CeremonyStarted),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not an officer or admin (`forbidden`), or no CSRF token (`csrf_failed`).", body = crate::http::schema::ErrorBody),
        (status = 409, description = "The user has no passkey (`no_passkey`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "`unknown_system`, `undecided_accounts`, `unknown_account`, `duplicate_account`, `invalid_decision`, `person_required`, `person_not_expected`, `unknown_person`, `invalid_note`, `too_many_marks`.", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn review_start(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(settings): State<AccountSettings>,
    asker: Asker,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body_bytes(body)?;
    let req: StartBody = parse_body(&bytes)?;
    if asker.principal.user().is_none() {
        return Err(ApiError::Unauthorized("sign in with a passkey".into()));
    }
    let inventory = ingest.inventory();
    let (system, marks) = checked(
        &accounts.store,
        &inventory,
        &settings,
        &req.system,
        &req.marks,
        accounts.now(),
    )
    .await?;
    Ok(Json(
        start_confirmation(&accounts, &asker.principal, &purpose(&system, &marks)?).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/reviews/finish",
    tag = "accounts",
    security(("session" = [])),
    request_body(content = crate::http::schema::ReviewFinishBody, description = "The assertion of the ceremony, with the same system and marks as its start.", content_type = "application/json"),
    responses(
        (status = 201, description = "Stored: the completed review.", body = crate::http::schema::AccountReviewReply),
        (status = 400, description = "Malformed JSON or a missing field (`malformed_request`), or a ceremony that expired, was used, or was started for other marks (`ceremony_expired`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No session (`unauthorized`), or the passkey could not be verified (`passkey_rejected`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not an officer or admin (`forbidden`), or no CSRF token (`csrf_failed`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A body over 64 KiB (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "As for `start`: the marks are checked again against the accounts now.", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached: nothing was stored (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn review_finish(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(settings): State<AccountSettings>,
    asker: Asker,
    body: Result<Bytes, BytesRejection>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let bytes = body_bytes(body)?;
    let req: FinishBody = parse_body(&bytes)?;
    let Some(user) = asker.principal.user().cloned() else {
        return Err(ApiError::Unauthorized("sign in with a passkey".into()));
    };
    let now = accounts.now();
    let inventory = ingest.inventory();
    let (system, marks) = checked(
        &accounts.store,
        &inventory,
        &settings,
        &req.system,
        &req.marks,
        now,
    )
    .await?;
    let (actor, actor_name) = asker.principal.actor();
    let outcome = async {
        let credential = finish_confirmation(
            &accounts,
            &asker.principal,
            &purpose(&system, &marks)?,
            &req.ceremony,
            &req.credential,
        )
        .await?;
        let [keep, remove, map] = account_review::counts(&marks);
        let audit = NewAudit {
            actor: &actor,
            actor_name: &actor_name,
            action: "accounts.review",
            target: &system,
            detail: json!({"keep": keep, "remove": remove, "map": map}),
            address: &asker.address,
        };
        accounts
            .store
            .save_account_review(
                &NewReview {
                    system: &system,
                    by: &user.name,
                    credential: &credential,
                    marks: &marks,
                },
                &audit,
                now,
            )
            .await
            .map_err(ApiError::from)
    }
    .await;
    match outcome {
        Ok(review) => Ok((axum::http::StatusCode::CREATED, Json(review_json(&review)))),
        Err(e) => {
            // A refused review is evidence too: who tried, and why it failed.
            accounts
                .record(
                    &actor,
                    &actor_name,
                    &asker.address,
                    "accounts.review_refused",
                    &system,
                    json!({"reason": e.code()}),
                )
                .await;
            Err(e)
        }
    }
}

/// The account list of a system as CSV (the `/accounts` page's download): the columns
/// of `GET /api/v1/accounts`, findings joined with spaces. Audited as `export.download`.
async fn accounts_csv(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    State(settings): State<AccountSettings>,
    asker: Asker,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let now = accounts.now();
    let inventory = ingest.inventory();
    // The head first: the list is the store as of it or later (CONTRACT §13).
    let head = accounts.store.evidence_head().await?;
    let (system, rows) =
        account_rows(&accounts.store, &inventory, &settings, q.get("system"), now).await?;
    let internal = |e: csv::Error| ApiError::Internal(format!("accounts CSV failed: {e}"));
    let mut w = crate::csv_out::CsvFile::new();
    w.row([
        "account",
        "person",
        "person_name",
        "person_status",
        "last_login",
        "logins_90d",
        "findings",
    ])
    .map_err(internal)?;
    for r in &rows {
        let name = r
            .person
            .as_ref()
            .and_then(|p| inventory.person(p))
            .map(|p| p.name.clone())
            .unwrap_or_default();
        w.row([
            r.account.clone(),
            r.person.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            name,
            r.person_status
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            r.last_login.map(|t| t.to_rfc3339()).unwrap_or_default(),
            r.logins_90d.to_string(),
            r.findings
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ])
        .map_err(internal)?;
    }
    w.comment(&crate::csv_out::head_comment(head.as_ref()))
        .map_err(internal)?;
    let body = w.finish().map_err(internal)?;
    let file = format!("monban-accounts-{}.csv", system.as_str());
    asker
        .audit_download(
            &accounts.store,
            now,
            &file,
            json!({"system": system.as_str()}),
        )
        .await;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
