//! The maintenance and account events (CONTRACT §11): `maintenance.requested` (a request
//! waits for a decision), `maintenance.report_overdue`, `maintenance.unapproved_login`
//! and `login.account_of_leaver`.
//!
//! A login's events are emitted by the login API right after the login is stored
//! ([`login_events`]); a watcher ([`run`]) emits the requests' events from the current
//! requests every few seconds, and sweeps the logins of vendor staff and leavers of the
//! last [`SWEEP_BACK`] at start and every minute, so a login stored just before a crash
//! is not left without its event. Every event has a key made of what it is about
//! (`maintenance.unapproved_login:<event_id>`, `maintenance.requested:<request_id>`, …):
//! emitting it again is a no-op, so the sweeps may overlap freely.

use super::Notifier;
use crate::ingest::Ingest;
use crate::maintenance::Maintenance;
use crate::store::{Store, StoreError, StoredLogin};
use monban_core::maintenance::{
    findings, Activity, CoverageStatus, Finding, Flag, LoginFacts, Request, RequestStatus,
};
use monban_core::notify::EventKind;
use monban_core::{Inventory, Span};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the requests are looked at.
const POLL: Duration = Duration::from_secs(5);
/// How often the logins of vendor staff and leavers are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How far back (by login time) a sweep looks.
pub const SWEEP_BACK: Span = Span::from_millis_const(2 * 24 * 3600 * 1000);

/// The events of a login just stored (by the login API or an access-log import), by its
/// facts now. An event that cannot be stored now is logged: the next sweep emits it.
pub async fn after_login(
    notifier: &Notifier,
    ingest: &Ingest,
    maintenance: &Maintenance,
    stored: &StoredLogin,
) {
    let inv = ingest.inventory();
    let facts = maintenance.facts(&inv, &stored.login);
    after_login_with(notifier, &inv, stored, &facts).await;
}

/// [`after_login`] with the login's facts already reconciled (the login API uses them
/// for its reply too).
pub async fn after_login_with(
    notifier: &Notifier,
    inv: &Inventory,
    stored: &StoredLogin,
    facts: &LoginFacts,
) {
    if let Err(e) = login_events(notifier, inv, stored, facts).await {
        tracing::warn!(error = %e, login = %stored.login.event_id, "could not store the login's notification; the next sweep will");
    }
}

/// The events of one stored login, by its current facts: `login.account_of_leaver` and
/// `maintenance.unapproved_login`.
pub async fn login_events(
    notifier: &Notifier,
    inv: &Inventory,
    stored: &StoredLogin,
    facts: &LoginFacts,
) -> Result<(), StoreError> {
    let l = &stored.login;
    let person = inv.person_by_account(&l.system, &l.account);
    let base = || {
        json!({
            "event_id": l.event_id, "system": l.system, "account": l.account,
            "terminal": l.terminal, "ts": l.ts.to_rfc3339(), "outcome": l.outcome.as_str(),
            "person": person,
        })
    };
    if facts.flags.contains(&Flag::AccountOfLeaver) {
        let mut data = base();
        if let Some(p) = person.and_then(|p| inv.person(p)) {
            data["until"] = json!(p.until.map(|d| d.to_string()));
        }
        notifier
            .emit(
                EventKind::LoginAccountOfLeaver,
                &format!("login.account_of_leaver:{}", l.event_id),
                data,
            )
            .await?;
    }
    if facts
        .maintenance
        .as_ref()
        .is_some_and(|m| m.status == CoverageStatus::Unapproved)
    {
        let mut data = base();
        if let Some(p) = person.and_then(|p| inv.person(p)) {
            data["vendor"] = json!(p.vendor);
        }
        notifier
            .emit(
                EventKind::MaintenanceUnapprovedLogin,
                &format!("maintenance.unapproved_login:{}", l.event_id),
                data,
            )
            .await?;
    }
    Ok(())
}

/// What an event about a request carries.
fn request_data(r: &Request) -> Value {
    json!({
        "request_id": r.id, "vendor": r.vendor, "system": r.system, "people": r.people,
        "work_plan": r.work_plan, "purpose": r.purpose, "start": r.start.to_rfc3339(),
        "end": r.end.to_rfc3339(), "remote": r.remote, "emergency": r.emergency,
        "status": r.status.as_str(), "requested_by": r.requested_by.to_string(),
    })
}

/// Emits the requests' events until `cancel` (see the module docs).
pub async fn run(
    notifier: Arc<Notifier>,
    ingest: Arc<Ingest>,
    maintenance: Arc<Maintenance>,
    store: Store,
    cancel: CancellationToken,
) {
    if notifier.targets().is_empty() {
        return;
    }
    // Keys emitted by this run: each is stored once anyway; this only saves writes.
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut last_sweep: Option<tokio::time::Instant> = None;
    loop {
        if let Err(e) = requests(&notifier, &maintenance, &ingest, &mut done).await {
            tracing::warn!(error = %e, "notifications: maintenance events failed; retrying");
        }
        if last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            match sweep(&notifier, &ingest, &maintenance, &store).await {
                Ok(()) => last_sweep = Some(tokio::time::Instant::now()),
                Err(e) => {
                    tracing::warn!(error = %e, "notifications: sweeping logins failed; retrying")
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn requests(
    notifier: &Notifier,
    maintenance: &Maintenance,
    ingest: &Ingest,
    done: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let now = ingest.now();
    let settings = *maintenance.settings();
    for r in maintenance.requests().iter() {
        if r.status == RequestStatus::Requested {
            let key = format!("maintenance.requested:{}", r.id);
            if !done.contains(&key) {
                notifier
                    .emit(EventKind::MaintenanceRequested, &key, request_data(r))
                    .await?;
                done.insert(key);
            }
        }
        // Only the report's finding matters here, which needs no activity.
        if findings(r, Activity::default(), None, now, &settings).contains(&Finding::ReportOverdue)
        {
            let key = format!("maintenance.report_overdue:{}", r.id);
            if !done.contains(&key) {
                let mut data = request_data(r);
                data["due"] = json!(r.end.saturating_add(settings.report_due).to_rfc3339());
                notifier
                    .emit(EventKind::MaintenanceReportOverdue, &key, data)
                    .await?;
                done.insert(key);
            }
        }
    }
    Ok(())
}

/// The logins of vendor staff and leavers of the last [`SWEEP_BACK`], each with its
/// events now.
async fn sweep(
    notifier: &Notifier,
    ingest: &Ingest,
    maintenance: &Maintenance,
    store: &Store,
) -> Result<(), StoreError> {
    let inv = ingest.inventory();
    let now = ingest.now();
    let mut by_system: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in inv.people() {
        if p.vendor.is_some() || p.until.is_some() {
            for (system, account) in &p.accounts {
                by_system
                    .entry(system.to_string())
                    .or_default()
                    .push(account.clone());
            }
        }
    }
    let from = now.saturating_sub(SWEEP_BACK);
    let to = now.saturating_add(Span::from_secs(24 * 3600));
    for (system, accounts) in by_system {
        for s in store
            .logins_of_accounts(&system, &accounts, from, to)
            .await?
        {
            let facts = maintenance.facts(&inv, &s.login);
            login_events(notifier, &inv, &s, &facts).await?;
        }
    }
    Ok(())
}
