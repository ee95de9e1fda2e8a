//! The OpenAPI 3.1 description of the HTTP API, generated from the code and served at
//! `GET /api/v1/openapi.json`.
//!
//! Every operation is described by a `#[utoipa::path]` attribute on its handler
//! (`super::ingest`, `super::reads`, `super::live`, `super::ops`, `super::step_up`);
//! [`ApiDoc`] collects them. Request bodies are read as bytes and parsed by
//! `monban-core` (CONTRACT §5, §7), so their schemas are wire types that mirror the
//! parser (`super::schema`): their enumerations are taken from the core's own lists
//! (`Factor::ALL`, `DoorEventKind::ALL`, …), and the tests below check that each example
//! parses, that each required field is required by the parser and each optional one is
//! not. Responses that the handlers build with `json!` are described by the reply types
//! there; `scripts/fuzz-api.sh` (schemathesis, in CI) checks every response of the
//! running hub against them.
//!
//! The tests also keep the spec and the routes equal: every documented operation is
//! routed, and every `.route("/api/v1/…")`, `/healthz` and `/metrics` in the server's
//! sources is documented. Every login reply carries its current `flags`; `maintenance` only
//! for a maintenance login (CONTRACT §7, §10).
//!
//! # Layout
//! - [`ApiDoc`] — the document: paths, security schemes, tags.
//! - [`router`] — `GET /api/v1/openapi.json`.
//! - the wire types are `super::schema` (handlers name them in their attributes, so
//!   they sit below both).

use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The whole HTTP API of the hub (CONTRACT §5, §7, §8, §9 and the step-up API).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "monban",
        description = "門番 — the hub that correlates door-controller events with system logins to prove two-factor authentication. Every error answers `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "Apache-2.0"),
    ),
    paths(
        super::ingest::post_door_event,
        super::ingest::post_login,
        super::reads::get_login,
        super::reads::get_compliance,
        super::reads::get_evidence_head,
        super::reads::get_accounts,
        super::account_reviews::list_reviews,
        super::account_reviews::review_start,
        super::account_reviews::review_finish,
        super::reads::get_dead_letters,
        super::reads::get_doors,
        super::live::live,
        super::step_up::create,
        super::step_up::status,
        super::reads::get_session,
        super::maintenance::post_request,
        super::maintenance::list_requests,
        super::maintenance::unapproved_logins,
        super::maintenance::get_request,
        super::maintenance::post_report,
        super::maintenance::decision_start,
        super::maintenance::decision_finish,
        super::notifications::get_notifications,
        super::imports::upload,
        super::imports::list_imports,
        openapi_json,
        super::ops::healthz,
        super::ops::metrics,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "ingest", description = "Door events and logins (CONTRACT §5, §7): ingest tokens."),
        (name = "reads", description = "What the hub knows (CONTRACT §7, §8, §12): a read token or a signed-in session."),
        (name = "step-up", description = "Step-up verification with a passkey (docs/STEP-UP.md): the system's login-ingest token."),
        (name = "maintenance", description = "Vendor maintenance (CONTRACT §10): requests by vendor tokens or officers, passkey-confirmed decisions, reports, reconciliation."),
        (name = "accounts", description = "The account review campaign (アカウントの棚卸し, docs/ACCOUNTS.md): a decision per account confirmed with a passkey, and the reviews kept as evidence."),
        (name = "imports", description = "Access-log import (アクセスログの取込み): a system's CSV log uploaded by an officer or admin, or with the system's login-ingest token, and the record of past imports."),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
