//! The export for the inspection file: a period's data (shared by the dashboard's export
//! page, `super::dashboard`) and the CSV downloads the page links to.
//!
//! - `GET /export/compliance.csv?from=&to=&tz=` — one row per system with the §8 numbers
//!   of `GET /api/v1/compliance` for the same period.
//! - `GET /export/evidence.csv?from=&to=&tz=` — one row per login in the period (oldest
//!   first) with its verdict, reasons, finality and, for `combined_measures`, the entry.
//!
//! `from`/`to` are dates (`YYYY-MM-DD`, whole days at the offset, `to` inclusive) or RFC
//! 3339 instants, default the 30 days up to now (`monban_core::Period::parse`);
//! `tz` is a fixed offset such as `+09:00` (default, JST; URL-encode the `+`). Times in
//! the files are RFC 3339 at that offset. The files are UTF-8 with a byte-order mark, so
//! Excel opens Japanese text correctly, quoted per RFC 4180 by the `csv` crate, and
//! served as attachments. A period that does not parse is a 400 with the contract's error
//! body.
//!
//! The gate lets only roles that may export in; every download is recorded in the audit
//! trail (`export.download`).

use super::error::ApiError;
use super::extract::Asker;
use super::state::{AppState, Site};
use crate::clock::Clock;
use crate::ingest::Ingest;
use crate::store::{Store, StoreError, StoredLogin};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get as get_route;
use axum::Router;
use chrono::{DateTime, SecondsFormat};
use monban_core::{Inventory, Period, SiteOffset, Timestamp, VerdictKind};
use monban_web::pages::export::{EvidenceRow, ExportData};
use monban_web::SystemRow;
use std::collections::HashMap;
use std::sync::Arc;

/// The CSV routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/export/compliance.csv", get_route(compliance_csv))
        .route("/export/evidence.csv", get_route(evidence_csv))
}

/// The login's person, terminal and room names from the inventory.
pub(crate) struct LoginPlace {
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    pub terminal_name: Option<String>,
    pub room_id: Option<String>,
    pub room_name: Option<String>,
    pub room_controlled: Option<bool>,
    pub system_name: Option<String>,
}

pub(crate) fn place(inv: &Inventory, s: &StoredLogin) -> LoginPlace {
    let l = &s.login;
    let person = inv
        .person_by_account(&l.system, &l.account)
        .and_then(|p| inv.person(p));
    let terminal = inv.terminal_by_str(&l.terminal);
    let room = terminal.and_then(|t| inv.room(&t.room));
    LoginPlace {
        person_id: person.map(|p| p.id.to_string()),
        person_name: person.map(|p| p.name.clone()),
        terminal_name: terminal.map(|t| t.name.clone()).filter(|n| !n.is_empty()),
        room_id: terminal.map(|t| t.room.to_string()),
        room_name: room.map(|r| r.name.clone()),
        room_controlled: room.map(|r| r.controlled),
        system_name: inv.system(&l.system).map(|s| s.name.clone()),
    }
}

/// Logins read from the store at a time when a file is streamed.
const PAGE: usize = 1000;

/// One login as the export shows it.
fn evidence_row(inv: &Inventory, s: &StoredLogin, now: Timestamp) -> EvidenceRow {
    let p = place(inv, s);
    let l = &s.login;
    let evidence = match (&s.verdict.evidence, s.verdict.kind) {
        (Some(e), VerdictKind::CombinedMeasures) => Some(e),
        _ => None,
    };
    EvidenceRow {
        event_id: l.event_id.clone(),
        ts: l.ts.to_rfc3339(),
        system: l.system.to_string(),
        system_name: p.system_name.unwrap_or_else(|| l.system.to_string()),
        account: l.account.clone(),
        person: p.person_name,
        terminal: l.terminal.clone(),
        room: p.room_name,
        factors: l.factors.iter().map(|f| f.as_str().to_string()).collect(),
        outcome: l.outcome.as_str().to_string(),
        verdict: s.verdict.kind.as_str().to_string(),
        reasons: s
            .verdict
            .reasons
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        is_final: s.final_at_time(now),
        entry_door: evidence.map(|e| e.door.to_string()),
        entry_time: evidence.map(|e| e.entered_at.to_rfc3339()),
        credential_type: evidence.map(|e| e.credential_type.as_str().to_string()),
    }
}

/// What a period's export reads: the store, the clock, the inventory and the site.
pub(crate) struct Sources<'a> {
    pub store: &'a Store,
    pub clock: &'a Clock,
    pub ingest: &'a Ingest,
    pub site: &'a Site,
}

/// The compliance rows and the first `limit` logins (at most [`PAGE`]; `Some(0)`: none)
/// of the period, oldest login first. Logins are those with `from <= ts <= to`, as §8
/// counts them; `login_count` counts them all (from the rollups).
pub(crate) async fn period_data(
    src: Sources<'_>,
    period: Period,
    offset: SiteOffset,
    limit: Option<usize>,
) -> Result<ExportData, StoreError> {
    let now = src.clock.now();
    let (from, to) = (period.from(), period.to());
    let inv = src.ingest.inventory();
    let systems: Vec<SystemRow> =
        crate::reports::compliance(src.store, &inv, period, src.site.offset)
            .await?
            .into_iter()
            .map(SystemRow::from)
            .collect();

    let login_count = systems.iter().map(|s| s.successful + s.failed).sum::<u64>() as usize;
    let logins = match limit {
        Some(0) => Vec::new(),
        _ => src
            .store
            .logins_page(
                from,
                to,
                None,
                limit.unwrap_or(login_count).min(PAGE) as i64,
            )
            .await?
            .iter()
            .map(|s| evidence_row(&inv, s, now))
            .collect(),
    };
    Ok(ExportData {
        site_name: src.site.name.clone(),
        generated_at: now.to_rfc3339(),
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        from_date: offset.date_of(from),
        to_date: offset.date_of(to),
        systems,
        logins,
        login_count,
    })
}

type Params = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// The period and offset of a CSV request.
fn request_period(
    site: &Site,
    now: Timestamp,
    query: Params,
) -> Result<(Period, SiteOffset), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
    let offset = match q.get("tz").map(String::as_str).filter(|t| !t.is_empty()) {
        Some(t) => SiteOffset::parse(t).map_err(|_| {
            ApiError::BadQuery(format!("tz: {t:?} is not an offset such as +09:00"))
        })?,
        None => site.offset,
    };
    let period = Period::parse(
        q.get("from").map(String::as_str),
        q.get("to").map(String::as_str),
        now,
        offset,
    )
    .map_err(|e| ApiError::BadQuery(e.to_string()))?;
    Ok((period, offset))
}

/// An RFC 3339 time re-written at `offset` (unchanged when it does not parse).
fn at_offset(rfc3339: &str, offset: SiteOffset) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&offset.fixed())
            .to_rfc3339_opts(SecondsFormat::AutoSi, offset == SiteOffset::UTC),
        Err(_) => rfc3339.to_string(),
    }
}

async fn download_audit(store: &Store, clock: &Clock, asker: &Asker, file: &str, period: Period) {
    let detail = serde_json::json!({
        "from": period.from().to_rfc3339(),
        "to": period.to().to_rfc3339(),
    });
    asker.audit_download(store, clock.now(), file, detail).await;
}

/// A CSV attachment: BOM, then the records.
fn attachment(
    name: &str,
    data: &ExportData,
    records: Vec<Vec<String>>,
    head: Option<&crate::store::evidence::StoredHead>,
) -> Result<Response, ApiError> {
    let mut w = crate::csv_out::CsvFile::new();
    for r in records {
        w.row(&r).map_err(internal)?;
    }
    w.comment(&crate::csv_out::head_comment(head))
        .map_err(internal)?;
    let body = w.finish().map_err(internal)?;
    let filename = format!("monban-{name}-{}_{}.csv", data.from_date, data.to_date);
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).map_err(internal)?;
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

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("export failed: {e}"))
}

/// The header of `compliance.csv`.
pub const COMPLIANCE_HEADER: [&str; 13] = [
    "from",
    "to",
    "system",
    "system_name",
    "category",
    "native_mfa",
    "status",
    "successful",
    "direct_2fa",
    "combined_measures",
    "not_met",
    "failed",
    "coverage",
];

/// The header of `evidence.csv`.
pub const EVIDENCE_HEADER: [&str; 16] = [
    "login_id",
    "time",
    "system",
    "account",
    "person",
    "terminal",
    "room",
    "factors",
    "outcome",
    "verdict",
    "reasons",
    "final",
    "entry_door",
    "entry_time",
    "credential_type",
    "system_name",
];

async fn compliance_csv(
    State(store): State<Store>,
    State(clock): State<Clock>,
    State(ingest): State<Arc<Ingest>>,
    State(site): State<Site>,
    asker: Asker,
    query: Params,
) -> Result<Response, ApiError> {
    let (period, offset) = request_period(&site, clock.now(), query)?;
    download_audit(&store, &clock, &asker, "compliance.csv", period).await;
    let sources = Sources {
        store: &store,
        clock: &clock,
        ingest: &ingest,
        site: &site,
    };
    // The head first: the figures below include everything up to it.
    let head = store.evidence_head().await?;
    let data = period_data(sources, period, offset, Some(0))
        .await
        .map_err(internal)?;
    let (from, to) = (at_offset(&data.from, offset), at_offset(&data.to, offset));
    let mut records = vec![COMPLIANCE_HEADER.iter().map(|s| s.to_string()).collect()];
    records.extend(data.systems.iter().map(|s: &SystemRow| {
        vec![
            from.clone(),
            to.clone(),
            s.id.clone(),
            s.name.clone(),
            s.category.clone(),
            s.native_mfa.to_string(),
            s.status.clone(),
            s.successful.to_string(),
            s.direct_2fa.to_string(),
            s.combined_measures.to_string(),
            s.not_met.to_string(),
            s.failed.to_string(),
            s.coverage.to_string(),
        ]
    }));
    attachment("compliance", &data, records, head.as_ref())
}

async fn evidence_csv(
    State(store): State<Store>,
    State(clock): State<Clock>,
    State(ingest): State<Arc<Ingest>>,
    State(site): State<Site>,
    asker: Asker,
    query: Params,
) -> Result<Response, ApiError> {
    let (period, offset) = request_period(&site, clock.now(), query)?;
    download_audit(&store, &clock, &asker, "evidence.csv", period).await;
    let (from, to) = (period.from(), period.to());
    let filename = format!(
        "monban-evidence-{}_{}.csv",
        offset.date_of(from),
        offset.date_of(to)
    );
    // The file is streamed a page of logins at a time (keyset pagination on (ts,
    // event_id)): memory stays bounded however long the period is. A store error after
    // the first bytes ends the download early (the client sees a truncated file and the
    // hub logs the error); before them it is the contract's error body.
    // The head first: every login in the file was stored at or before it.
    let head = crate::csv_out::head_comment(store.evidence_head().await?.as_ref());
    let mut csv = crate::csv_out::CsvFile::new();
    csv.row(EVIDENCE_HEADER).map_err(internal)?;
    let first_page = store.logins_page(from, to, None, PAGE as i64).await?;
    struct Cursor {
        store: Store,
        clock: Clock,
        ingest: Arc<Ingest>,
        csv: crate::csv_out::CsvFile,
        page: Option<Vec<StoredLogin>>,
        /// The closing comment, written after the last page.
        head: Option<String>,
    }
    let cursor = Cursor {
        store,
        clock,
        ingest,
        csv,
        page: Some(first_page),
        head: Some(head),
    };
    let stream = futures::stream::unfold(cursor, move |mut c| async move {
        let Some(page) = c.page.take() else {
            // After the last page: the closing comment, once.
            let head = c.head.take()?;
            return match c.csv.comment(&head).and_then(|_| c.csv.take()) {
                Ok(bytes) => Some((Ok::<_, std::io::Error>(bytes), c)),
                Err(e) => {
                    tracing::error!(error = %e, "evidence export stopped");
                    None
                }
            };
        };
        let now = c.clock.now();
        let inv = c.ingest.inventory();
        for s in &page {
            let r = evidence_row(&inv, s, now);
            if let Err(e) = c.csv.row(evidence_record(&r, offset)) {
                tracing::error!(error = %e, "evidence export stopped");
                return None;
            }
        }
        if page.len() == PAGE {
            let last = page.last().map(|s| (s.login.ts, s.login.event_id.clone()));
            match c.store.logins_page(from, to, last, PAGE as i64).await {
                Ok(next) => c.page = Some(next),
                Err(e) => {
                    tracing::error!(error = %e, "evidence export stopped: the store failed");
                    // A truncated file must not end as a complete one does.
                    c.head = None;
                }
            }
        }
        match c.csv.take() {
            Ok(bytes) => Some((Ok::<_, std::io::Error>(bytes), c)),
            Err(e) => {
                tracing::error!(error = %e, "evidence export stopped");
                None
            }
        }
    });
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).map_err(internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// One line of `evidence.csv`, its times at `offset`.
fn evidence_record(r: &EvidenceRow, offset: SiteOffset) -> Vec<String> {
    vec![
        r.event_id.clone(),
        at_offset(&r.ts, offset),
        r.system.clone(),
        r.account.clone(),
        r.person.clone().unwrap_or_default(),
        r.terminal.clone(),
        r.room.clone().unwrap_or_default(),
        r.factors.join(";"),
        r.outcome.clone(),
        r.verdict.clone(),
        r.reasons.join(";"),
        r.is_final.to_string(),
        r.entry_door.clone().unwrap_or_default(),
        r.entry_time
            .as_deref()
            .map(|t| at_offset(t, offset))
            .unwrap_or_default(),
        r.credential_type.clone().unwrap_or_default(),
        r.system_name.clone(),
    ]
}
