//! Access-log upload (アクセスログの取込み): `POST /api/v1/imports/{system}` takes a
//! system's CSV access log as the body — from an officer or admin signed in on `/imports`
//! (with the session's CSRF token), or with the system's own login-ingest token — and
//! imports it through the hub's writer (`crate::import::hub`): every bad row is answered
//! (`422 invalid_rows` with line, column and reason) and nothing is stored, or the logins
//! are stored as if the system had sent them, each once. The body streams to a temporary
//! file (at most `[limits] import_max_bytes`, 64 MiB by default; `413` beyond), never
//! into memory. `GET /api/v1/imports` lists the record of past imports.

use super::error::ApiError;
use super::extract::Asker;
use super::state::AppState;
use crate::auth::Principal;
use crate::import::hub::{import_file, Outcome};
use crate::import::record::{self, FileInfo, Importer};
use crate::store::TokenScope;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tokio::io::AsyncWriteExt as _;

/// The routes of this module (their body limit is `hardening::BodyLimits`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports", get(list_imports))
        .route("/api/v1/imports/{system}", post(upload))
}

/// The query of a request, or the contract's `400 invalid_query`.
type Params = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::BadQuery(e.body_text()))
}

#[utoipa::path(
    post,
    path = "/api/v1/imports/{system}",
    tag = "imports",
    operation_id = "post_import",
    security(("bearer" = []), ("session" = [])),
    params(
        ("system" = String, Path, description = "The system whose access log it is: an `[[imports]]` table names it."),
        ("name" = Option<String>, Query, description = "The file's name, for the record (default `upload.csv`)."),
    ),
    request_body(content = String, description = "The access log as the system wrote it (CSV; UTF-8 or Shift_JIS, as `[[imports]]` says).", content_type = "text/csv"),
    responses(
        (status = 201, description = "Imported: at least one login stored. The import's record.", body = crate::http::schema::ImportRecord),
        (status = 200, description = "Imported, and every login was already stored: nothing stored twice.", body = crate::http::schema::ImportRecord),
        (status = 401, description = "No token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "A role that may not import, a token of another system or kind (`forbidden`), or no CSRF token (`csrf_failed`).", body = crate::http::schema::ErrorBody),
        (status = 404, description = "No `[[imports]]` table for this system (`not_found`).", body = crate::http::schema::ErrorBody),
        (status = 413, description = "A file over `[limits] import_max_bytes` (`payload_too_large`).", body = crate::http::schema::ErrorBody),
        (status = 422, description = "Bad rows (`invalid_rows`): nothing was stored. The error body also carries `import_id`, `rows_read`, `bad_rows` and `rows`: `[{\"line\", \"column\", \"reason\"}]`, every bad row (the first 1000).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`); what was stored stays, importing again stores the rest once.", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn upload(
    State(state): State<AppState>,
    asker: Asker,
    headers: HeaderMap,
    Path(system): Path<String>,
    q: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let who = match &asker.principal {
        Principal::User { .. } => {
            let (actor, name) = asker.principal.actor();
            Importer {
                actor,
                name,
                address: asker.address.clone(),
                via: "upload",
            }
        }
        _ => {
            // The gate let a bearer request through: the system's own ingest token.
            let token = super::extract::authenticate(&state.store, &state.clock, &headers).await?;
            match &token.scope {
                TokenScope::Login(s) if s.as_str() == system => {}
                TokenScope::Login(s) => {
                    return Err(ApiError::Forbidden(format!(
                        "this token ingests logins of system {:?}, not {system:?}",
                        s.as_str()
                    )))
                }
                _ => {
                    return Err(ApiError::Forbidden(
                        "an access log is imported by a signed-in officer or admin, or with the system's login-ingest token".into(),
                    ))
                }
            }
            Importer {
                actor: format!("token:{}", token.id),
                name: token.label.clone(),
                address: asker.address.clone(),
                via: "upload",
            }
        }
    };
    let Some(spec) = state.imports.iter().find(|s| s.system.as_str() == system) else {
        return Err(ApiError::NotFound(format!(
            "no [[imports]] table for system {system:?}: add one to monban.toml that maps its access log's columns"
        )));
    };
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/"))
    {
        return Err(ApiError::Malformed(
            "send the file itself as the body (Content-Type: text/csv), not a multipart form"
                .into(),
        ));
    }
    let q = params(q)?;
    let name = record::file_name(q.get("name").map(String::as_str).unwrap_or_default());
    let (tmp, file) = receive(body, &name).await?;
    let outcome = import_file(&state.import_hub(), spec, &tmp, &file, &who).await?;
    drop(tmp);
    Ok(outcome_response(outcome, &name))
}

/// Streams the body into a temporary file, hashing it on the way.
async fn receive(body: Body, name: &str) -> Result<(tempfile::TempPath, FileInfo), ApiError> {
    let internal = |e: std::io::Error| ApiError::Internal(format!("temporary file: {e}"));
    let tmp = tempfile::NamedTempFile::new().map_err(internal)?;
    let (std_file, path) = tmp.into_parts();
    let mut out = tokio::fs::File::from_std(std_file);
    let mut hash = Sha256::new();
    let mut bytes = 0u64;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit exceeded");
            if too_large {
                ApiError::PayloadTooLarge(
                    "the file is larger than [limits] import_max_bytes: split it, or import it with `monban import logins` while the hub is stopped".into(),
                )
            } else {
                ApiError::Malformed(format!("the body could not be read: {e}"))
            }
        })?;
        if let Ok(data) = frame.into_data() {
            hash.update(&data);
            bytes += data.len() as u64;
            out.write_all(&data).await.map_err(internal)?;
        }
    }
    out.flush().await.map_err(internal)?;
    drop(out);
    Ok((
        path,
        FileInfo {
            name: name.to_string(),
            sha256: hex::encode(hash.finalize()),
            bytes,
        },
    ))
}

/// The answer to an upload: the record (`201`, or `200` when nothing new was stored), or
/// the contract's error body with the rows.
pub fn outcome_response(outcome: Outcome, name: &str) -> Response {
    match outcome {
        Outcome::Imported { record, .. } => {
            let status = if record["stored"].as_u64().unwrap_or(0) > 0 {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(record)).into_response()
        }
        Outcome::Rejected { id, checked } => {
            let rows: Vec<Value> = checked.errors.iter().map(record::error_json).collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": {
                    "code": "invalid_rows",
                    "message": format!(
                        "{} bad row(s) in {name}; nothing was imported / 不正な行があるため取り込みませんでした",
                        checked.bad_rows
                    ),
                    "import_id": id,
                    "rows_read": checked.rows,
                    "bad_rows": checked.bad_rows,
                    "rows": rows,
                }})),
            )
                .into_response()
        }
        Outcome::Failed { id, errors } => {
            let rows: Vec<Value> = errors.iter().map(record::error_json).collect();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": {
                    "code": "store_unavailable",
                    "message": "the import stopped part way: what was stored stays; upload the file again to store the rest (nothing is stored twice)",
                    "import_id": id,
                    "rows": rows,
                }})),
            )
                .into_response()
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/imports",
    tag = "imports",
    security(("bearer" = []), ("session" = [])),
    params(("limit" = Option<i64>, Query, description = "At most this many, newest first (1–500, default 50).")),
    responses(
        (status = 200, description = "Past access-log imports, newest first: each one's record (an audit line, chained).", body = crate::http::schema::ImportList),
        (status = 400, description = "A `limit` that is not 1–500 (`invalid_query`).", body = crate::http::schema::ErrorBody),
        (status = 401, description = "No token or session (`unauthorized`).", body = crate::http::schema::ErrorBody),
        (status = 403, description = "A role without compliance read (`forbidden`).", body = crate::http::schema::ErrorBody),
        (status = 503, description = "The store cannot be reached (`store_unavailable`).", body = crate::http::schema::ErrorBody),
    )
)]
pub(super) async fn list_imports(
    State(state): State<AppState>,
    q: Params,
) -> Result<Response, ApiError> {
    let q = params(q)?;
    let limit = match q.get("limit").map(String::as_str) {
        None => 50,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::BadQuery(format!("limit {v:?}: give 1–500")))?,
    };
    let imports = record::list(&state.store, limit).await?;
    Ok(Json(json!({"imports": imports})).into_response())
}
