//! What the handlers hold: [`AppState`], and the pieces of it a handler takes by itself
//! (`State<Store>`, `State<Clock>`, `State<Arc<Ingest>>`, [`Accounts`], …) through
//! `FromRef`, so a handler's signature says what it uses.

use crate::auth::{Auth, Principal};
use crate::clock::Clock;
use crate::ingest::Ingest;
use crate::maintenance::Maintenance;
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::store::Store;
use axum::extract::FromRef;
use monban_core::{SiteId, SiteOffset, Timestamp};
use serde_json::Value;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Everything the router serves from, built once by `crate::prepare`.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    /// The ingest writer, its read views and the connectors' states.
    pub ingest: Arc<Ingest>,
    /// Passkey settings and the ceremonies in flight.
    pub auth: Arc<Auth>,
    pub metrics: Arc<Metrics>,
    /// Vendor maintenance: requests, decisions, reports and their reconciliation.
    pub maintenance: Arc<Maintenance>,
    pub site: Site,
    /// `[accounts]`: when a mapped account counts as dormant (CONTRACT §12).
    pub account_settings: crate::config::AccountSettings,
    /// Notifications (CONTRACT §11): `notifier.emit(kind, key, data)` stores an event
    /// for delivery (`State<Arc<Notifier>>` in a handler).
    pub notifier: Arc<Notifier>,
    /// `[[imports]]`: how each system's access log maps onto logins (the upload on
    /// `/imports`, `crate::import::hub`).
    pub imports: Arc<Vec<crate::config::imports::ImportSpec>>,
    /// `[limits] import_max_bytes`: the largest upload (shown on `/imports`).
    pub import_max_bytes: u64,
    /// Cancelled when the hub shuts down: long-lived responses (the live feed) end.
    pub shutdown: CancellationToken,
}

/// The site the hub serves (`[site]`).
#[derive(Debug, Clone)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    /// The site's calendar: the UTC offset that defines its days for reports, trends and
    /// exports (CONTRACT §4 `[site] timezone`; `+09:00` until the setting is read).
    pub offset: SiteOffset,
}

/// What the gate, the ceremonies, the step-up API and the account forms use: the store,
/// the clock and the passkey settings.
#[derive(Clone)]
pub struct Accounts {
    pub store: Store,
    pub clock: Clock,
    pub auth: Arc<Auth>,
}

impl FromRef<AppState> for Accounts {
    fn from_ref(state: &AppState) -> Accounts {
        Accounts {
            store: state.store.clone(),
            clock: state.clock.clone(),
            auth: state.auth.clone(),
        }
    }
}

impl AppState {
    /// The hub's access-log import path (`crate::import::hub`).
    pub fn import_hub(&self) -> crate::import::hub::Hub {
        crate::import::hub::Hub {
            store: self.store.clone(),
            clock: self.clock.clone(),
            ingest: self.ingest.clone(),
            maintenance: self.maintenance.clone(),
            notifier: self.notifier.clone(),
        }
    }
}

impl Accounts {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// [`crate::auth::record`] now.
    pub async fn record(
        &self,
        actor: &str,
        actor_name: &str,
        address: &str,
        action: &str,
        target: &str,
        detail: Value,
    ) {
        let now = self.now();
        crate::auth::record(
            &self.store,
            now,
            (actor, actor_name),
            address,
            action,
            target,
            detail,
        )
        .await;
    }

    /// [`crate::auth::audit`] now.
    pub async fn audit(
        &self,
        principal: &Principal,
        address: &str,
        action: &str,
        target: &str,
        detail: Value,
    ) {
        crate::auth::audit(
            &self.store,
            self.now(),
            principal,
            address,
            action,
            target,
            detail,
        )
        .await;
    }
}
