//! The live feed for the dashboard (`GET /api/v1/live`): server-sent events from the
//! writer's broadcast of what changed.

use super::extract::sees_people;
use crate::ingest::Ingest;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Server-sent events: one unnamed message (so `EventSource.onmessage` sees it) whenever
/// something the dashboard shows changed.
///
/// A role without compliance read (facilities) is told that a login changed, not which.
#[utoipa::path(
    get,
    path = "/api/v1/live",
    tag = "reads",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "Server-sent events: one unnamed message whenever something the dashboard shows changed; the stream stays open.", body = crate::http::schema::LiveEvent, content_type = "text/event-stream"),
        (status = 401, description = "No read token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "The role may not follow the feed (`forbidden`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn live(
    State(ingest): State<Arc<Ingest>>,
    State(shutdown): State<CancellationToken>,
    reader: Option<axum::Extension<monban_web::auth::Reader>>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let rx = ingest.subscribe();
    let full = sees_people(&reader);
    let stream = futures::stream::unfold(rx, move |mut rx| async move {
        let data = match rx.recv().await {
            Ok(mut ev) => {
                if !full && matches!(ev.kind, "login" | "verdict" | "final") {
                    ev.id.clear();
                }
                serde_json::to_string(&ev).unwrap_or_default()
            }
            // Missed messages: the client refetches anyway.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                "{\"kind\":\"lagged\"}".to_string()
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(Event::default().data(data)), rx))
    });
    // End the stream on shutdown, or open dashboards would hold graceful shutdown forever.
    let stream = futures::StreamExt::take_until(stream, shutdown.cancelled_owned());
    Sse::new(stream).keep_alive(KeepAlive::default())
}
