//! Vendor maintenance (保守作業, CONTRACT §10) as a service: requests filed, decided and
//! reported — each change stored with its audit line before it is answered — and the
//! reconciliation the API and the dashboard show, computed by `monban_core::maintenance`
//! from what the store holds.
//!
//! The requests are few (a hospital files some a week), so the service keeps all of them
//! in memory, loaded at start and replaced after each stored change; a login's `flags`
//! and `maintenance` are computed on every read from the current requests, so a request
//! approved after the fact changes them at once (its verdict never changes).

use crate::store::auth::NewAudit;
use crate::store::{Store, StoreError, StoredLogin};
use monban_core::maintenance::{
    self, covering, decide, findings, replay, submit_report, supervised, Activity, Decision,
    DecisionError, Filer, Finding, LoginFacts, MaintenanceSettings, Replay, ReportBody,
    ReportError, Request, RequestBody, RequestError, RequestStatus,
};
use monban_core::timeline::Timeline;
use monban_core::{
    Credential, DoorId, Inventory, Login, Outcome, PersonId, Span, SystemId, Timestamp, VendorId,
};
use serde_json::json;
use std::sync::{Arc, RwLock};

/// Why a change to a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `422` with the core's code.
    #[error("{0}")]
    Request(#[from] RequestError),
    /// `409 request_id_conflict`.
    #[error("request {0:?} was already filed with another body")]
    Conflict(String),
    #[error("no maintenance request {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Decision(#[from] DecisionError),
    #[error("{0}")]
    Report(#[from] ReportError),
    /// `403`: a vendor's token acting on another vendor's request.
    #[error("this token is for vendor {token:?}; request {request:?} is vendor {owner:?}'s")]
    OtherVendor {
        token: String,
        request: String,
        owner: String,
    },
}

/// Who acts, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:<id>`, `token:<id>`.
    pub actor: String,
    pub name: String,
    pub address: String,
}

/// A decision as made: by whom (the user's name, as a request's filer names them), with
/// which note, confirmed by which passkey.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub decision: Decision,
    pub by_name: &'a str,
    pub note: &'a str,
    pub passkey: &'a str,
}

/// A vendor's door entry that counts toward a request (`{"person", "door", "at"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub person: PersonId,
    pub door: DoorId,
    pub event_id: String,
    pub at: Timestamp,
}

/// A request with its reconciliation at `now`: what `GET /api/v1/maintenance/{id}`
/// answers.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: Request,
    /// The `event_id`s of the maintenance logins it covers, in time order.
    pub logins: Vec<String>,
    pub entries: Vec<Entry>,
    pub supervised: Option<bool>,
    pub findings: Vec<Finding>,
}

pub struct Maintenance {
    store: Store,
    settings: MaintenanceSettings,
    requests: RwLock<Arc<Vec<Request>>>,
    /// One change at a time: read, decide, store, publish.
    writing: tokio::sync::Mutex<()>,
}

impl Maintenance {
    /// Loads every stored request.
    pub async fn load(store: Store, settings: MaintenanceSettings) -> Result<Self, StoreError> {
        let requests = store.maintenance_requests().await?;
        Ok(Maintenance {
            store,
            settings,
            requests: RwLock::new(Arc::new(requests)),
            writing: tokio::sync::Mutex::new(()),
        })
    }

    pub fn settings(&self) -> &MaintenanceSettings {
        &self.settings
    }

    /// Every request, as filed order (a snapshot: cheap to take, never changes).
    pub fn requests(&self) -> Arc<Vec<Request>> {
        match self.requests.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn request(&self, id: &str) -> Option<Request> {
        self.requests()
            .iter()
            .find(|r| r.id.as_str() == id)
            .cloned()
    }

    fn publish(&self, changed: Request) {
        let mut next: Vec<Request> = self.requests().as_ref().clone();
        match next.iter_mut().find(|r| r.id == changed.id) {
            Some(slot) => *slot = changed,
            None => next.push(changed),
        }
        let next = Arc::new(next);
        match self.requests.write() {
            Ok(mut g) => *g = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    async fn save(
        &self,
        request: &Request,
        new: bool,
        by: &Actor,
        action: &str,
        detail: serde_json::Value,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let audit = NewAudit {
            actor: &by.actor,
            actor_name: &by.name,
            action,
            target: request.id.as_str(),
            detail,
            address: &by.address,
        };
        self.store.save_request(request, new, &audit, now).await?;
        self.publish(request.clone());
        Ok(())
    }

    /// Files a request (`POST /api/v1/maintenance`): `Ok((request, true))` when stored
    /// now, `Ok((request, false))` for the same body again.
    pub async fn file(
        &self,
        inv: &Inventory,
        body: &RequestBody,
        filer: Filer,
        by: &Actor,
        now: Timestamp,
    ) -> Result<(Request, bool), MaintenanceError> {
        let _one = self.writing.lock().await;
        let existing = self.request(body.request_id.trim());
        match replay(existing.as_ref(), body, &filer) {
            Replay::Same => {
                return Ok((
                    existing.ok_or_else(|| MaintenanceError::NotFound(body.request_id.clone()))?,
                    false,
                ))
            }
            Replay::Conflict => return Err(MaintenanceError::Conflict(body.request_id.clone())),
            Replay::New => {}
        }
        let request = Request::from_body(body, filer, now, inv, &self.settings)?;
        let detail = json!({
            "vendor": request.vendor, "system": request.system, "people": request.people,
            "work_plan": request.work_plan, "start": request.start, "end": request.end,
            "remote": request.remote, "emergency": request.emergency,
        });
        self.save(&request, true, by, "maintenance.request", detail, now)
            .await?;
        Ok((request, true))
    }

    /// Records a decision (already confirmed with the decider's passkey).
    pub async fn decide(
        &self,
        id: &str,
        d: &Decided<'_>,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Request, MaintenanceError> {
        let _one = self.writing.lock().await;
        let current = self
            .request(id)
            .ok_or_else(|| MaintenanceError::NotFound(id.to_string()))?;
        let decision = d.decision;
        let next = decide(&current, decision, d.by_name, d.note, now)?;
        let detail = json!({
            "decision": decision.as_str(), "note": d.note, "status": next.status.as_str(),
            "passkey": d.passkey,
        });
        let action = format!("maintenance.{}", decision.as_str());
        self.save(&next, false, by, &action, detail, now).await?;
        Ok(next)
    }

    /// Stores a vendor's work report on its own request.
    pub async fn report(
        &self,
        id: &str,
        vendor: &VendorId,
        body: &ReportBody,
        by: &Actor,
        now: Timestamp,
    ) -> Result<Request, MaintenanceError> {
        let _one = self.writing.lock().await;
        let current = self
            .request(id)
            .ok_or_else(|| MaintenanceError::NotFound(id.to_string()))?;
        if &current.vendor != vendor {
            return Err(MaintenanceError::OtherVendor {
                token: vendor.to_string(),
                request: id.to_string(),
                owner: current.vendor.to_string(),
            });
        }
        let next = submit_report(&current, body, now)?;
        let detail = json!({
            "summary": monban_core::text::prefix(&body.summary),
            "recording": body.recording,
        });
        self.save(&next, false, by, "maintenance.report", detail, now)
            .await?;
        Ok(next)
    }

    /// A login's `maintenance` object and flags now (CONTRACT §7, §10).
    pub fn facts(&self, inv: &Inventory, login: &Login) -> LoginFacts {
        maintenance::reconcile_login(inv, &self.requests(), login)
    }

    /// One request with its reconciliation at `now`.
    pub async fn view(
        &self,
        inv: &Inventory,
        request: &Request,
        now: Timestamp,
    ) -> Result<RequestView, StoreError> {
        let all = self.requests();
        // Maintenance logins of the listed people on the request's system in its window
        // that this request is the one to cover.
        let mut accounts: Vec<String> = Vec::new();
        for p in &request.people {
            if let Some(a) = inv.person(p).and_then(|p| p.accounts.get(&request.system)) {
                accounts.push(a.clone());
            }
        }
        let mut logins = Vec::new();
        if !accounts.is_empty() {
            for s in self
                .store
                .logins_of_accounts(
                    request.system.as_str(),
                    &accounts,
                    request.start,
                    request.end,
                )
                .await?
            {
                let Some(person) = inv.person_by_account(&s.login.system, &s.login.account) else {
                    continue;
                };
                if s.login.outcome == Outcome::Success
                    && covers(&all, request, person, Some(&s.login.system), s.login.ts)
                {
                    logins.push(s.login.event_id);
                }
            }
        }
        let credentials: Vec<Credential> = request
            .people
            .iter()
            .filter_map(|p| inv.person(p))
            .flat_map(|p| p.credentials.iter().cloned())
            .collect();
        let mut entries = Vec::new();
        if !credentials.is_empty() {
            for e in self
                .store
                .entries_of_credentials(&credentials, request.start, request.end)
                .await?
            {
                let Some(person) = e
                    .credential
                    .as_ref()
                    .and_then(|c| inv.person_by_credential(c))
                else {
                    continue;
                };
                // Only entries at doors of the inventory count (like presence).
                if inv.room_of_door(&e.door).is_some() && covers(&all, request, person, None, e.ts)
                {
                    entries.push(Entry {
                        person: person.clone(),
                        door: e.door.clone(),
                        event_id: e.event_id.clone(),
                        at: e.ts,
                    });
                }
            }
        }
        let supervised = if request.remote {
            None
        } else {
            self.supervision(inv, request).await?
        };
        let activity = Activity {
            logins: logins.len(),
            entries: entries.len(),
        };
        let findings = findings(request, activity, supervised, now, &self.settings);
        Ok(RequestView {
            request: request.clone(),
            logins,
            entries,
            supervised,
            findings,
        })
    }

    /// 立会い of on-site work: the presence of everyone during the window, derived from
    /// the door events of the window and the longest presence before it.
    async fn supervision(
        &self,
        inv: &Inventory,
        request: &Request,
    ) -> Result<Option<bool>, StoreError> {
        let lookback = inv
            .rooms()
            .iter()
            .map(|r| r.max_presence)
            .max()
            .unwrap_or(Span::from_secs(0));
        let from = request.start.saturating_sub(lookback);
        let mut timeline = Timeline::default();
        for e in self.store.door_events_between(from, request.end).await? {
            timeline.record_event(inv, &e);
        }
        Ok(supervised(inv, &timeline, request))
    }

    /// The requests whose window overlaps `[from, to]`, newest first (by start), with
    /// their reconciliation at `now`.
    pub async fn list(
        &self,
        inv: &Inventory,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<RequestView>, StoreError> {
        let mut chosen: Vec<Request> = self
            .requests()
            .iter()
            .filter(|r| r.start <= to && from < r.end)
            .cloned()
            .collect();
        chosen.sort_by(|a, b| (b.start, &b.id).cmp(&(a.start, &a.id)));
        let mut out = Vec::with_capacity(chosen.len());
        for r in &chosen {
            out.push(self.view(inv, r, now).await?);
        }
        Ok(out)
    }

    /// Successful logins of vendor staff with `from <= ts <= to` that no request covers,
    /// in time order.
    pub async fn unapproved(
        &self,
        inv: &Inventory,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredLogin>, StoreError> {
        let all = self.requests();
        let mut by_system: std::collections::BTreeMap<&SystemId, Vec<String>> =
            std::collections::BTreeMap::new();
        for p in inv.people().iter().filter(|p| p.vendor.is_some()) {
            for (system, account) in &p.accounts {
                by_system.entry(system).or_default().push(account.clone());
            }
        }
        let end = to.saturating_add(Span::from_millis_const(1));
        let mut out = Vec::new();
        for (system, accounts) in by_system {
            for s in self
                .store
                .logins_of_accounts(system.as_str(), &accounts, from, end)
                .await?
            {
                let facts = maintenance::reconcile_login(inv, &all, &s.login);
                if facts
                    .maintenance
                    .is_some_and(|m| m.status == maintenance::CoverageStatus::Unapproved)
                {
                    out.push(s);
                }
            }
        }
        out.sort_by(|a, b| (a.login.ts, &a.login.event_id).cmp(&(b.login.ts, &b.login.event_id)));
        Ok(out)
    }

    /// Requests awaiting a decision, oldest filing first (the dashboard's first list).
    pub fn awaiting(&self) -> Vec<Request> {
        self.requests()
            .iter()
            .filter(|r| r.status == RequestStatus::Requested)
            .cloned()
            .collect()
    }
}

/// Whether `request` is the one that covers a login or entry of `person` at `ts`.
fn covers(
    all: &[Request],
    request: &Request,
    person: &PersonId,
    system: Option<&SystemId>,
    ts: Timestamp,
) -> bool {
    covering(all, &request.vendor, person, system, ts)
        .request_id
        .as_ref()
        == Some(&request.id)
}
