//! [`ApiError`]: every failure the hub answers over HTTP, rendered as the contract's
//! error body `{"error": {"code": "...", "message": "..."}}` (CONTRACT §9).
//!
//! The variants are outcomes, not causes: a handler says *what happened* (`Forbidden`,
//! `NotFound`, `Invalid { code, .. }`) and the status and body follow. The services'
//! errors convert into it ([`From`]): a store that cannot be reached is
//! `503 store_unavailable` (nothing was recorded; the sender retries), any other store
//! or writer failure `500 internal_error`. Internal causes are logged when the error is
//! rendered — inside the request's span — and never echoed.

use crate::ingest::IngestError;
use crate::step_up::StepUpError;
use crate::store::StoreError;
use crate::writer::WriteError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use monban_core::InputError;
use serde_json::json;
use std::borrow::Cow;

/// The message of `503 store_unavailable` for an API call.
const STORE_UNAVAILABLE: &str =
    "the hub cannot reach its store: nothing was recorded; send it again";
/// The message of `500 internal_error`.
const INTERNAL: &str = "the hub could not complete the request; see its log";

/// An HTTP failure with the contract's error body. `code` fields are the contract's
/// error codes; `message` fields are what the body says.
#[derive(Debug)]
pub enum ApiError {
    /// `400 malformed_request`: the body is not what the endpoint reads (JSON syntax, a
    /// missing field, a body that could not be read).
    Malformed(String),
    /// `400 invalid_query`: a query parameter that does not parse.
    BadQuery(String),
    /// `400` with another code: a request the hub refuses as sent (`ceremony_expired`,
    /// `passkey_rejected`, a form's `invalid_*`).
    BadRequest { code: &'static str, message: String },
    /// `401 unauthorized`: no principal, or a token that is not known.
    Unauthorized(String),
    /// `401` with the code of a proof that failed (`signin_failed`, `passkey_rejected`,
    /// `step_up_failed`).
    NotVerified { code: &'static str, message: String },
    /// `403 forbidden`: the principal may not do this.
    Forbidden(String),
    /// `403 csrf_failed`: a state change that did not come from the hub's own pages.
    CsrfFailed(String),
    /// `403` with its code: a rule refuses this principal this change (`self_approval`).
    Denied { code: &'static str, message: String },
    /// `404 not_found`.
    NotFound(String),
    /// `405 method_not_allowed`.
    MethodNotAllowed,
    /// `409` with its code: the request conflicts with what is stored
    /// (`event_id_conflict`, `name_taken`, `last_passkey`, …).
    Conflict { code: &'static str, message: String },
    /// `410` with its code: what the request names is used up or expired
    /// (`invite_invalid`, `step_up_not_pending`).
    Gone { code: &'static str, message: String },
    /// `413 payload_too_large`.
    PayloadTooLarge(String),
    /// `422` with its code: a valid shape with a value the hub cannot take
    /// (`unknown_door`, `invalid_timestamp`, `step_up_invalid`, …).
    Invalid { code: &'static str, message: String },
    /// `429 rate_limited`, with `Retry-After: retry_after` (seconds).
    RateLimited {
        what: &'static str,
        retry_after: u64,
    },
    /// `500 internal_error`; the cause is logged, never echoed.
    Internal(String),
    /// `503 store_unavailable`: the store cannot be reached (or the hub is stopping);
    /// nothing was recorded. The cause is logged.
    StoreUnavailable(String),
    /// `503 store_unavailable` of a form post: the change was not stored (the form
    /// logged why).
    NotStored,
    /// `503 store_unreachable`: `/healthz` could not reach the store. The cause is
    /// logged.
    StoreUnreachable(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) | ApiError::BadQuery(_) | ApiError::BadRequest { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthorized(_) | ApiError::NotVerified { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::CsrfFailed(_) | ApiError::Denied { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::StoreUnavailable(_) | ApiError::NotStored | ApiError::StoreUnreachable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The contract's error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "malformed_request",
            ApiError::BadQuery(_) => "invalid_query",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::CsrfFailed(_) => "csrf_failed",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal_error",
            ApiError::StoreUnavailable(_) | ApiError::NotStored => "store_unavailable",
            ApiError::StoreUnreachable(_) => "store_unreachable",
            ApiError::BadRequest { code, .. }
            | ApiError::NotVerified { code, .. }
            | ApiError::Denied { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Gone { code, .. }
            | ApiError::Invalid { code, .. } => code,
        }
    }

    /// What the body says.
    pub fn message(&self) -> Cow<'_, str> {
        match self {
            ApiError::Malformed(m)
            | ApiError::BadQuery(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::CsrfFailed(m)
            | ApiError::NotFound(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::BadRequest { message: m, .. }
            | ApiError::NotVerified { message: m, .. }
            | ApiError::Denied { message: m, .. }
            | ApiError::Conflict { message: m, .. }
            | ApiError::Gone { message: m, .. }
            | ApiError::Invalid { message: m, .. } => Cow::Borrowed(m),
            ApiError::MethodNotAllowed => "this endpoint does not accept that method".into(),
            ApiError::RateLimited { what, retry_after } => {
                format!("too many {what} requests from this address; retry in {retry_after} s")
                    .into()
            }
            ApiError::Internal(_) => INTERNAL.into(),
            ApiError::StoreUnavailable(_) => STORE_UNAVAILABLE.into(),
            ApiError::NotStored => "The change could not be stored; try again.".into(),
            ApiError::StoreUnreachable(_) => "the store is not reachable".into(),
        }
    }

    /// `500 internal_error` for `cause`.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            ApiError::StoreUnavailable(cause) => {
                tracing::error!(error = %cause, "not stored: the store is unavailable")
            }
            ApiError::StoreUnreachable(cause) => {
                tracing::error!(error = %cause, "health check: store unreachable")
            }
            _ => {}
        }
        let body = json!({"error": {"code": self.code(), "message": self.message()}});
        let mut res = (self.status(), Json(body)).into_response();
        if let ApiError::RateLimited { retry_after, .. } = self {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        res
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> ApiError {
        match e {
            InputError::Malformed(m) => ApiError::Malformed(m),
            InputError::Invalid { code, message } => ApiError::Invalid { code, message },
        }
    }
}

/// `503 store_unavailable` when the store cannot be reached (nothing was recorded; the
/// sender retries), else `500 internal_error`.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if e.is_unavailable() {
            ApiError::StoreUnavailable(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// The writer could not commit: `503 store_unavailable` when the store cannot be reached
/// or the hub is stopping (nothing was recorded; the sender retries), else
/// `500 internal_error`.
impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match e {
            WriteError::Unavailable(_) | WriteError::Stopped => {
                ApiError::StoreUnavailable(e.to_string())
            }
            WriteError::Failed(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        match e {
            IngestError::UnknownDoor(d) => ApiError::Invalid {
                code: "unknown_door",
                message: format!("door {d:?} is not in the inventory"),
            },
            IngestError::UnknownSystem(s) => ApiError::Invalid {
                code: "unknown_system",
                message: format!("system {s:?} is not in the inventory"),
            },
            IngestError::EventIdConflict(id) => ApiError::Conflict {
                code: "event_id_conflict",
                message: format!("event_id {id:?} is already stored for another system: nothing was stored; give this login an event_id of its own"),
            },
            IngestError::StepUpUsed(id) => {
                StepUpError::Refused(monban_core::step_up::StepUpRefusal::Consumed { id }).into()
            }
            IngestError::Store(e) => e.into(),
            IngestError::Write(e) => e.into(),
        }
    }
}

impl From<StepUpError> for ApiError {
    fn from(e: StepUpError) -> ApiError {
        let message = e.to_string();
        match e {
            StepUpError::NotFound => ApiError::NotFound(message),
            StepUpError::NotPending => ApiError::Gone {
                code: "step_up_not_pending",
                message,
            },
            StepUpError::Refused(_) => ApiError::Invalid {
                code: "step_up_invalid",
                message,
            },
            StepUpError::UnmappedAccount { .. } => ApiError::Invalid {
                code: "unmapped_account",
                message,
            },
            StepUpError::NoPasskey { .. } => ApiError::Invalid {
                code: "no_passkey",
                message,
            },
            StepUpError::Store(e) => e.into(),
        }
    }
}
