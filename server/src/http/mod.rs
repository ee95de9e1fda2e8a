//! Everything HTTP: the router over the services, the contract's error body, the gate,
//! and the serving loop. Handlers take only the state they use (`State<Store>`,
//! `State<Arc<Ingest>>`, [`state::Accounts`], …: pieces of [`AppState`]).
//!
//! # Layout
//! - this module — [`app`]: the whole application, assembled from the modules' routes.
//! - [`state`] — [`AppState`] and the pieces handlers take from it.
//! - [`error`] — [`ApiError`](error::ApiError), the contract's error body.
//! - [`extract`] — the bearer token of the ingest API, the body as bytes, who is asking.
//! - [`gate`] — the middleware in front of every route: who, which role, CSRF.
//! - [`ingest`], [`reads`], [`live`], [`ops`], [`step_up`], [`maintenance`] — the API
//!   of the contract (CONTRACT §5, §7, §8, §9, §10; the step-up API), each operation
//!   documented by
//!   [`openapi`] with the wire types of [`schema`].
//! - [`account_reviews`] — the account review campaign (棚卸し): passkey-confirmed
//!   reviews of a system's accounts, and their list.
//! - [`imports`] — access-log upload (`/api/v1/imports`) through the hub's writer, and
//!   the record of past imports.
//! - [`notifications`] — the delivery log of notifications (CONTRACT §11), for admins.
//! - [`ceremony`], [`forms`], [`inventory`], [`export`] — the passkey ceremonies, the
//!   dashboard's form posts, the inventory's CSV forms and the CSV downloads.
//! - [`dashboard`] — the data port of the Leptos dashboard (`monban_web::DashboardSource`).
//! - [`hardening`], [`serving`], [`tls`] — security headers and rate limits on every
//!   response, the connection loop, HTTPS on the hub itself.
//!
//! Bodies are read as bytes (at most 64 KiB; see [`hardening::limit_body`]) and parsed
//! by `monban-core`, so every failure — malformed JSON, an unknown value, a body too
//! large, a missing token, an unknown route — answers with the contract's error body
//! `{"error": {"code": "...", "message": "..."}}`. Internal errors are logged and never
//! echoed.

pub mod account_reviews;
pub mod ceremony;
pub mod dashboard;
pub mod error;
pub mod export;
pub mod extract;
pub mod forms;
pub mod gate;
pub mod hardening;
pub mod imports;
pub mod ingest;
pub mod inspection;
pub mod inventory;
pub mod live;
pub mod maintenance;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod reads;
pub mod schema;
pub mod serving;
pub mod state;
pub mod step_up;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
pub mod tls;

pub use state::{AppState, Site};

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the dashboard's compiled front end (`pkg/monban_web.js`, `.wasm`, `.css`) is:
/// `$MONBAN_SITE_ROOT`, else `site/` next to the executable's directory
/// (`target/site` for `target/debug/monban`), else `./target/site`.
pub fn site_root() -> PathBuf {
    if let Some(p) = std::env::var_os("MONBAN_SITE_ROOT") {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().and_then(|d| d.parent()).map(|d| d.join("site")))
    {
        if dir.join("pkg").exists() {
            return dir;
        }
    }
    PathBuf::from("target/site")
}

/// The API of the contract: ingest, reads, the live feed, health and metrics, with
/// request latency by route and 64 KiB bodies.
fn api(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/door-events", post(ingest::post_door_event))
        .route("/api/v1/logins", post(ingest::post_login))
        .route("/api/v1/logins/{event_id}", get(reads::get_login))
        .route("/api/v1/compliance", get(reads::get_compliance))
        .route("/api/v1/evidence/head", get(reads::get_evidence_head))
        .route("/api/v1/accounts", get(reads::get_accounts))
        .route("/api/v1/dead-letters", get(reads::get_dead_letters))
        .route("/api/v1/doors", get(reads::get_doors))
        .route("/api/v1/live", get(live::live))
        .route("/api/v1/session", get(reads::get_session))
        .route(
            "/api/v1/notifications",
            get(notifications::get_notifications),
        )
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            ops::track_latency,
        ))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
}

/// The step-up API of systems (`/api/v1/step-up`).
fn step_up_api() -> Router<AppState> {
    Router::new()
        .route("/api/v1/step-up", post(step_up::create))
        .route("/api/v1/step-up/{id}", get(step_up::status))
        // CONTRACT §9: a body over 64 KiB is `413` (as on the other ingest endpoints).
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
}

/// Builds the whole HTTP application: API, dashboard, JSON errors for unknown routes,
/// wrapped in `hardening` (rate limits, then security headers on every response).
pub fn app(state: AppState, hardening: &hardening::Hardening) -> Router {
    let root = site_root();
    if !root.join("pkg").join("monban_web.js").exists() {
        tracing::warn!(site_root = %root.display(), "dashboard front end not built: pages render without live updates (run scripts/build-web.sh)");
    }
    let source: Arc<dyn monban_web::DashboardSource> = Arc::new(dashboard::Source::new(&state));
    let routes = api(&state)
        .merge(export::routes())
        .merge(inventory::routes())
        .merge(ceremony::routes())
        .merge(step_up_api())
        .merge(maintenance::routes())
        .merge(account_reviews::routes())
        .merge(imports::routes())
        .merge(inspection::routes())
        .merge(forms::routes())
        .with_state(state.clone())
        .merge(openapi::router())
        .merge(monban_web::dashboard_router(source, root));
    let router = routes
        // Every route passes the gate: who, which role, CSRF. Unknown paths fall through
        // to the 404 below without it.
        .route_layer(axum::middleware::from_fn_with_state(
            state::Accounts::from_ref(&state),
            gate::authorize,
        ))
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn(ops::method_not_allowed))
        // `hardening::limit_body` bounds every body (64 KiB, the inventory import 4 MiB);
        // the extractors' own 2 MiB default would cut the import short.
        .layer(DefaultBodyLimit::disable());
    hardening.apply(router)
}
