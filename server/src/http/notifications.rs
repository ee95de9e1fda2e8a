//! The delivery log of notifications (CONTRACT §11): `GET /api/v1/notifications`, for an
//! admin (a signed-in admin or a read token of role `admin`; `crate::auth::policy`).
//!
//! Its wire types sit here rather than in `super::schema`: they belong to this one
//! endpoint, and keeping them apart keeps the notifications work out of the shared file.

use super::error::ApiError;
use crate::notify::send::shown;
use crate::store::notify::DeliveryStatus;
use crate::store::Store;
use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// The default and the largest `limit`.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// `?limit=`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query the handler reads from a map
pub struct NotificationsQuery {
    /// How many notifications, newest first: 1 to 1000 (default 100).
    limit: Option<i64>,
}

/// `GET /api/v1/notifications`.
#[derive(Debug, ToSchema, Serialize)]
pub struct NotificationsReply {
    pub notifications: Vec<NotificationReply>,
}

/// One notification and its deliveries.
#[derive(Debug, ToSchema, Serialize)]
pub struct NotificationReply {
    /// The webhook's `webhook-id` and body `id`.
    #[schema(example = "msg_3f1c0d5e9a8b4c7d2e6f0a1b2c3d4e5f")]
    pub id: String,
    /// The event: `maintenance.requested`, `maintenance.unapproved_login`,
    /// `maintenance.report_overdue`, `login.account_of_leaver`, `door.offline`,
    /// `room.alarm`.
    #[serde(rename = "type")]
    #[schema(example = "door.offline")]
    pub kind: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// What makes the event unique (emitting the same key again is a no-op).
    #[schema(example = "door.offline:ward3-main:1796900000000")]
    pub key: String,
    pub deliveries: Vec<DeliveryReply>,
}

/// One target's delivery.
#[derive(Debug, ToSchema, Serialize)]
pub struct DeliveryReply {
    /// A webhook's URL without its query string, or `email:<addresses>`.
    pub target: String,
    /// `pending` (not tried yet), `retrying`, `delivered`, or `dropped` (the target is no
    /// longer configured).
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
}

/// The newest notifications and their deliveries: for each target, the status, the
/// attempts, the last error and when it was delivered or will be tried again.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    params(NotificationsQuery),
    responses(
        (status = 200, description = "The newest notifications, newest first, with their deliveries.", body = NotificationsReply),
        (status = 400, description = "A `limit` that is not a number from 1 to 1000 (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "Not an admin (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn get_notifications(
    State(store): State<Store>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<NotificationsReply>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::BadQuery(format!(
                    "limit must be a number from 1 to {MAX_LIMIT}"
                )))
            }
        },
    };
    let rows = store.notifications(limit).await?;
    let notifications = rows
        .into_iter()
        .map(|(n, deliveries)| NotificationReply {
            id: n.id,
            kind: n.kind.as_str().to_string(),
            at: n.at.to_rfc3339(),
            key: n.key,
            deliveries: deliveries
                .into_iter()
                .map(|d| {
                    let waiting =
                        matches!(d.status, DeliveryStatus::Pending | DeliveryStatus::Retrying);
                    DeliveryReply {
                        target: shown(&d.target),
                        status: d.status.as_str().to_string(),
                        attempts: d.attempts,
                        last_error: d.last_error,
                        delivered_at: d.delivered_at.map(|t| t.to_rfc3339()),
                        next_attempt_at: d
                            .next_attempt_at
                            .filter(|_| waiting)
                            .map(|t| t.to_rfc3339()),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Json(NotificationsReply { notifications }))
}
