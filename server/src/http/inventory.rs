//! The inventory page's routes (issue 4) over `crate::inventory_csv`: the tables as CSV
//! downloads, an import or a row edit kept as a pending import with its preview, and
//! applying (through `Ingest::replace_inventory`) or discarding it. Failures here answer
//! in plain text: these are the page's forms, not the API.

use super::extract::Asker;
use super::state::{Accounts, AppState};
use crate::auth::{ClientAddr, Principal};
use crate::clock::Clock;
use crate::ingest::Ingest;
use crate::inventory_csv::{columns, export, parse_import, rows, write_csv};
use crate::store::Store;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The inventory page's routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/{file}", get(export_csv))
        .route("/inventory/import", post(import))
        .route("/inventory/row/{table}", post(edit_row))
        .route("/inventory/remove/{table}", post(remove_row))
        .route("/inventory/pending/{id}/apply", post(apply))
        .route("/inventory/pending/{id}/discard", post(discard))
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.into(),
    )
        .into_response()
}

async fn export_csv(
    State(store): State<Store>,
    State(clock): State<Clock>,
    State(ingest): State<Arc<Ingest>>,
    asker: Asker,
    Path(file): Path<String>,
) -> Response {
    let Some(table) = file.strip_suffix(".csv") else {
        return failure(StatusCode::NOT_FOUND, "not found");
    };
    // The head first: the table is the inventory as of it or later.
    let head = match store.evidence_head().await {
        Ok(h) => crate::csv_out::head_comment(h.as_ref()),
        Err(e) => {
            tracing::error!(error = %e, "inventory export: the evidence head could not be read");
            return failure(StatusCode::SERVICE_UNAVAILABLE, "the store cannot be read");
        }
    };
    match export(&ingest.inventory(), table) {
        Ok(mut text) => {
            text.push_str(&format!("# {head}\r\n"));
            asker
                .audit_download(
                    &store,
                    clock.now(),
                    &format!("inventory/{table}.csv"),
                    serde_json::json!({"table": table}),
                )
                .await;
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{table}.csv\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                text,
            )
                .into_response()
        }
        Err(_) => failure(StatusCode::NOT_FOUND, "no such table"),
    }
}

fn page(lang: Option<&str>, query: &str) -> Redirect {
    let mut url = format!("/inventory?{query}");
    if lang == Some("en") {
        url.push_str("&lang=en");
    }
    url.push_str("#preview");
    Redirect::to(&url)
}

/// Keeps a pending import, records the step in the audit trail and shows its preview.
#[allow(clippy::too_many_arguments)]
async fn keep_pending(
    accounts: &Accounts,
    principal: &Principal,
    address: &str,
    action: &str,
    key: Option<&str>,
    table: &str,
    csv: &str,
    lang: Option<&str>,
) -> Response {
    if columns(table).is_none() {
        return failure(StatusCode::NOT_FOUND, "no such table");
    }
    let id = crate::tokens::generate().id;
    match accounts
        .store
        .put_pending_import(&id, table, csv, accounts.now())
        .await
    {
        Ok(()) => {
            let target = match key {
                Some(k) => format!("{table}/{k}"),
                None => table.to_string(),
            };
            let detail =
                serde_json::json!({"stage": "preview", "pending": id, "table": table, "key": key});
            accounts
                .audit(principal, address, action, &target, detail)
                .await;
            page(lang, &format!("preview={id}")).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "inventory: cannot keep the import");
            failure(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    }
}

#[derive(serde::Deserialize)]
struct ImportForm {
    table: String,
    csv: String,
    lang: Option<String>,
}

async fn import(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Form(f): Form<ImportForm>,
) -> Response {
    keep_pending(
        &accounts,
        &principal,
        &address,
        "inventory.import",
        None,
        &f.table,
        &f.csv,
        f.lang.as_deref(),
    )
    .await
}

/// Adds or changes one row: the table's CSV with that row replaced (or appended).
async fn edit_row(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(table): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(cols) = columns(&table) else {
        return failure(StatusCode::NOT_FOUND, "no such table");
    };
    let row: Vec<String> = cols
        .iter()
        .map(|c| f.get(*c).map(|v| v.trim().to_string()).unwrap_or_default())
        .collect();
    let key = row[0].clone();
    let mut all = rows(&ingest.inventory(), &table);
    match all.iter_mut().find(|r| r[0] == row[0]) {
        Some(r) => *r = row,
        None => all.push(row),
    }
    match write_csv(cols, &all) {
        Ok(text) => {
            keep_pending(
                &accounts,
                &principal,
                &address,
                "inventory.edit",
                Some(&key),
                &table,
                &text,
                f.get("lang").map(String::as_str),
            )
            .await
        }
        Err(e) => failure(StatusCode::BAD_REQUEST, e),
    }
}

/// Removes one row (by `id`).
async fn remove_row(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(table): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(cols) = columns(&table) else {
        return failure(StatusCode::NOT_FOUND, "no such table");
    };
    let id = f.get("id").map(String::as_str).unwrap_or("");
    let mut all = rows(&ingest.inventory(), &table);
    all.retain(|r| r[0] != id);
    match write_csv(cols, &all) {
        Ok(text) => {
            keep_pending(
                &accounts,
                &principal,
                &address,
                "inventory.remove",
                Some(id),
                &table,
                &text,
                f.get("lang").map(String::as_str),
            )
            .await
        }
        Err(e) => failure(StatusCode::BAD_REQUEST, e),
    }
}

#[derive(serde::Deserialize)]
struct LangForm {
    lang: Option<String>,
}

/// Who changed the inventory, for its change log: the signed-in user's name, then where
/// from (`kanri (dashboard 10.0.0.5)`).
fn who(principal: &Principal, headers: &HeaderMap, addr: Option<SocketAddr>) -> String {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from = match (addr.map(|a| a.ip().to_string()), forwarded) {
        (Some(a), _) => format!("dashboard {a}"),
        (None, Some(f)) => format!("dashboard {f}"),
        (None, None) => "dashboard".to_string(),
    };
    let (_, name) = principal.actor();
    if name.is_empty() {
        from
    } else {
        format!("{name} ({from})")
    }
}

async fn apply(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    Asker { principal, address }: Asker,
    Path(id): Path<String>,
    headers: HeaderMap,
    addr: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(f): Form<LangForm>,
) -> Response {
    let lang = f.lang.as_deref();
    let pending = match accounts.store.pending_import(&id).await {
        Ok(Some(p)) => p,
        Ok(None) => return failure(StatusCode::NOT_FOUND, "no such import (already applied?)"),
        Err(e) => {
            tracing::warn!(error = %e, "inventory: cannot read the import");
            return failure(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
        }
    };
    let (table, text) = pending;
    let parsed = parse_import(&ingest.inventory(), &table, &text, &id);
    let Some(new) = parsed.inventory else {
        // Errors: nothing is applied; the preview shows them.
        return page(lang, &format!("preview={id}")).into_response();
    };
    let who = who(
        &principal,
        &headers,
        addr.map(|Extension(ConnectInfo(a))| a),
    );
    if let Err(e) = ingest.replace_inventory(new, &parsed.changes, &who).await {
        tracing::warn!(error = %e, "inventory: cannot apply the import");
        return failure(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    }
    if let Err(e) = accounts.store.delete_pending_import(&id).await {
        tracing::warn!(error = %e, "inventory: cannot forget an applied import");
    }
    let changed: Vec<String> = parsed.changes.iter().map(|c| c.key.clone()).collect();
    let detail = serde_json::json!({"stage": "applied", "pending": id, "table": table, "changes": parsed.changes.len(), "keys": changed});
    accounts
        .audit(&principal, &address, "inventory.import", &table, detail)
        .await;
    tracing::info!(
        table,
        who,
        changes = parsed.changes.len(),
        "inventory edited"
    );
    page(lang, &format!("applied={}", parsed.changes.len())).into_response()
}

async fn discard(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    Form(f): Form<LangForm>,
) -> Response {
    if let Err(e) = accounts.store.delete_pending_import(&id).await {
        tracing::warn!(error = %e, "inventory: cannot discard an import");
    }
    accounts
        .audit(
            &principal,
            &address,
            "inventory.discard",
            &id,
            serde_json::json!({"pending": id}),
        )
        .await;
    page(f.lang.as_deref(), "discarded=1").into_response()
}
