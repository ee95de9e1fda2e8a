//! What handlers read from a request besides their state: the bearer token of the ingest
//! and step-up API ([`Bearer`]), the body as bytes ([`body_bytes`]), who is asking
//! ([`Asker`], put on the request by the gate) and whether they may see people
//! ([`sees_people`]).

use super::error::ApiError;
use crate::auth::{ClientAddr, Principal};
use crate::clock::Clock;
use crate::store::{Store, TokenRow};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use monban_core::Timestamp;
use serde_json::Value;

/// The largest body accepted (CONTRACT §9); see [`super::hardening::limit_body`].
pub const BODY_LIMIT: usize = super::hardening::BODY_LIMIT;

/// The body as bytes, or the contract's `413` / `400`.
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!("the body is larger than {} KiB", BODY_LIMIT / 1024))
        } else {
            ApiError::Malformed(format!("the body could not be read: {r}"))
        }
    })
}

/// The live token named by `Authorization: Bearer …` (an ingest token, for the ingest
/// and step-up API), or the contract's `401`. Its use is recorded at most once a minute.
#[derive(Debug, Clone)]
pub struct Bearer(pub TokenRow);

/// A request to the ingest API: the body, read first (at most the route's limit; a
/// failure is answered only after the token's), and the [`Bearer`] token. Reading the
/// body before answering lets the client read a `401` or `403` for a large body too.
pub struct BearerBody {
    pub token: TokenRow,
    /// Pass it through [`body_bytes`] once the token's scope is checked.
    pub body: Result<Bytes, BytesRejection>,
}

impl<S> FromRequest<S> for BearerBody
where
    Store: FromRef<S>,
    Clock: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<BearerBody, ApiError> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await;
        let store = Store::from_ref(state);
        let clock = Clock::from_ref(state);
        let token = authenticate(&store, &clock, &headers).await?;
        Ok(BearerBody { token, body })
    }
}

impl<S> FromRequestParts<S> for Bearer
where
    Store: FromRef<S>,
    Clock: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Bearer, ApiError> {
        let store = Store::from_ref(state);
        let clock = Clock::from_ref(state);
        authenticate(&store, &clock, &parts.headers)
            .await
            .map(Bearer)
    }
}

/// Finds the token named by `Authorization: Bearer …`.
pub(super) async fn authenticate(
    store: &Store,
    clock: &Clock,
    headers: &HeaderMap,
) -> Result<TokenRow, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("an Authorization: Bearer <token> header is required".into())
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
            ApiError::Unauthorized("the Authorization header must be \"Bearer <token>\"".into())
        })?;
    let row = store
        .token_by_hash(&crate::tokens::hash(text))
        .await?
        .filter(|t| !t.revoked)
        .ok_or_else(|| {
            ApiError::Unauthorized("the token is not known or has been revoked".into())
        })?;
    let now = clock.now();
    // Record use at most once a minute per token: the hub must not write on every read.
    if row
        .last_used_at
        .is_none_or(|t| now.as_millis() - t.as_millis() > 60_000)
    {
        if let Err(e) = store.touch_token(&row.id, now).await {
            tracing::warn!(error = %e, "could not record token use");
        }
    }
    Ok(row)
}

/// Who asked, from where: the gate's request extensions (anonymous and without an
/// address when a router is called without the gate, in tests).
#[derive(Debug, Clone)]
pub struct Asker {
    pub principal: Principal,
    pub address: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Asker {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Asker, Self::Rejection> {
        Ok(Asker {
            principal: parts
                .extensions
                .get::<Principal>()
                .cloned()
                .unwrap_or(Principal::Anonymous),
            address: parts
                .extensions
                .get::<ClientAddr>()
                .map(|a| a.0.clone())
                .unwrap_or_default(),
        })
    }
}

impl Asker {
    /// Records a download of evidence (a CSV file: `file`, with its period in `detail`)
    /// as `export.download`: who took which evidence out of the hub is evidence too.
    pub async fn audit_download(&self, store: &Store, now: Timestamp, file: &str, detail: Value) {
        crate::auth::audit(
            store,
            now,
            &self.principal,
            &self.address,
            "export.download",
            file,
            detail,
        )
        .await;
    }
}

/// Whether the caller may see personal data of logins and payloads (card ids, names,
/// accounts): roles with compliance read. Facilities staff see doors, not people.
pub fn sees_people(reader: &Option<axum::Extension<monban_web::auth::Reader>>) -> bool {
    reader
        .as_ref()
        .is_some_and(|r| r.role.can(monban_web::auth::Permission::ReadCompliance))
}
