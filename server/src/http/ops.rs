//! Operations: `/healthz`, `/metrics`, request latency per route, and the contract's
//! answers for an unknown route (`404`) or method (`405`).

use super::error::ApiError;
use crate::ingest::Ingest;
use crate::metrics::Metrics;
use crate::store::Store;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

/// Records request latency by route.
pub async fn track_latency(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    metrics
        .http_latency
        .get_or_create(&crate::metrics::HttpLabel {
            method,
            route,
            status: res.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    res
}

/// The answer for a path no route has: the contract's `404`.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// Turns axum's bare `405` into the contract's error body, keeping its `Allow` header.
pub async fn method_not_allowed(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        let mut answer = ApiError::MethodNotAllowed.into_response();
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
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "The store is reachable.", body = crate::http::schema::HealthReply),
        (status = 503, description = "The store is not reachable (`store_unreachable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn healthz(State(store): State<Store>) -> Response {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))).into_response(),
        Err(e) => ApiError::StoreUnreachable(e.to_string()).into_response(),
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
pub(super) async fn metrics(
    State(metrics): State<Arc<Metrics>>,
    State(ingest): State<Arc<Ingest>>,
) -> Response {
    metrics.set_door_health(&ingest.door_health().await);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}
