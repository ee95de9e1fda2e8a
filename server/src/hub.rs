//! The hub's ingest pipeline: connector or handler → store → engine → store → live feed.
//!
//! Every input goes through one lock around the [`Engine`] so that "store the event" and
//! "re-judge pending logins" happen as one step in a single order. Due verdicts are
//! finalised *before* an input is stored, so whatever is in the store after a crash
//! never contains an event that arrived after a login's grace but was not yet applied
//! to it: restoring on start-up replays the store into a fresh engine and gets the same
//! verdicts (see [`Hub::start`]).

use crate::health::{DoorActivity, DoorHealth, HEARTBEAT_PERSIST_EVERY};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError, StoredLogin};
use async_trait::async_trait;
use monban_connectors::{ConnectorState, DeadLetter, DoorSink, Ingested, SinkError};
use monban_core::health::{DoorFeed, LastConnected, OfflineReason, OutageCause};
use monban_core::timeline::Outage;
use monban_core::{
    DoorEvent, DoorId, DoorStatus, Engine, Inventory, Login, SiteId, Span, StatusChange, Timestamp,
    VerdictUpdate,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, Mutex};

/// How often a connected connector's "last up" mark is refreshed in the store.
pub const CONNECTOR_MARK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The `source` of the status changes the heartbeat watchdog records.
pub const WATCHDOG: &str = monban_core::health::WATCHDOG;

/// How far back door facts are kept in memory. The store keeps everything; a login whose
/// time is older than this is judged on what memory still holds (fail closed).
pub const MEMORY_HORIZON: Span = Span::from_millis_const(8 * 24 * 3600 * 1000);

/// A clock, injectable for tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| Timestamp::from(chrono::Utc::now()))
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("door {0:?} is not in the inventory")]
    UnknownDoor(String),
    #[error("system {0:?} is not in the inventory")]
    UnknownSystem(String),
    /// A login's `event_id` is already stored for another system (CONTRACT §7).
    #[error("event_id {0:?} is already stored for another system")]
    EventIdConflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Something changed; the dashboard refreshes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveEvent {
    pub kind: &'static str,
    pub id: String,
}

pub struct Hub {
    pub store: Store,
    pub metrics: Metrics,
    pub site: SiteId,
    pub site_name: String,
    pub(crate) engine: Mutex<Engine>,
    /// Door events with `ts` at or after this (ms) are in the engine's memory. Changed
    /// only while the engine lock is held.
    loaded_since: AtomicI64,
    pub(crate) inventory: RwLock<Arc<Inventory>>,
    live: broadcast::Sender<LiveEvent>,
    clock: Clock,
    connectors: std::sync::Mutex<BTreeMap<String, ConnectorState>>,
    /// Doors with a `[[modbus]]` device; every other door of the inventory (also one
    /// added from the dashboard) is fed by MQTT, and blind periods of the MQTT connector
    /// become outages of those doors.
    modbus_doors: Vec<DoorId>,
    /// What was last heard from each door's controller (see [`crate::health`]).
    activity: std::sync::Mutex<BTreeMap<DoorId, DoorActivity>>,
    /// `[[doors]] heartbeat_timeout` of the doors that have one.
    heartbeat_timeouts: BTreeMap<DoorId, Span>,
    /// When this process started: the watchdog's countdown starts no earlier.
    started: Timestamp,
    /// Doors not in the inventory whose heartbeat was already dead-lettered.
    unknown_heartbeats: std::sync::Mutex<std::collections::BTreeSet<DoorId>>,
    /// Cancelled when the hub shuts down: long-lived responses (the live feed) end.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Passkeys and sessions (`[auth]`), set once by [`crate::prepare`].
    auth: std::sync::OnceLock<Arc<crate::auth::Auth>>,
}

impl Hub {
    /// Builds the hub from the store: loads the inventory, replays door facts of the last
    /// [`MEMORY_HORIZON`] and the pending logins into a fresh engine, and persists any
    /// verdict that this changes or finalises.
    pub async fn start(
        store: Store,
        grace: Span,
        modbus_doors: &[DoorId],
        heartbeat_timeouts: BTreeMap<DoorId, Span>,
        clock: Clock,
    ) -> Result<Arc<Hub>, HubError> {
        let inventory = store.load_inventory().await?;
        let now = clock();
        let (site, site_name) = inventory.site.clone().unwrap_or_else(|| {
            (
                SiteId::parse("site").unwrap_or_else(|_| unreachable!()),
                String::new(),
            )
        });
        let modbus_doors = modbus_doors.to_vec();
        let mut engine = Engine::new(inventory.clone(), grace);
        let pending = store.pending_logins().await?;
        // Memory holds the horizon, and reaches back as far as any pending login needs.
        let oldest_needed = pending
            .iter()
            .map(|p| p.login.ts.saturating_sub(engine.lookback()))
            .min();
        let loaded_since = now
            .saturating_sub(MEMORY_HORIZON)
            .min(oldest_needed.unwrap_or(Timestamp::MAX));
        for e in store.door_events_since(loaded_since).await? {
            engine.record_door_event(&e, now);
        }
        for s in store.statuses().await? {
            engine.record_status(&s, now);
        }
        for (door, o) in store.outages().await? {
            engine.record_outage(&door, o, now);
        }
        let mut updates = Vec::new();
        let restored = pending.len();
        for p in pending {
            let id = p.login.event_id.clone();
            let (verdict, is_final) = engine.submit_login(p.login, p.received_at, now);
            if verdict != p.verdict || is_final {
                updates.push(VerdictUpdate {
                    event_id: id,
                    verdict,
                    is_final,
                });
            }
        }
        store.apply_updates(&updates, now, "restart").await?;
        tracing::info!(
            restored,
            changed = updates.len(),
            facts = engine.timeline().len(),
            "engine restored from the store"
        );
        let activity = store
            .door_activity(now)
            .await?
            .into_iter()
            .filter_map(|(door, a)| DoorId::parse(&door).ok().map(|d| (d, a)))
            .collect();
        let metrics = Metrics::new();
        metrics.pending_verdicts.set(engine.pending_count() as i64);
        let (live, _) = broadcast::channel(4096);
        Ok(Arc::new(Hub {
            store,
            metrics,
            site,
            site_name,
            engine: Mutex::new(engine),
            loaded_since: AtomicI64::new(loaded_since.as_millis()),
            inventory: RwLock::new(Arc::new(inventory)),
            live,
            clock,
            connectors: std::sync::Mutex::new(BTreeMap::new()),
            modbus_doors,
            activity: std::sync::Mutex::new(activity),
            heartbeat_timeouts,
            started: now,
            unknown_heartbeats: std::sync::Mutex::new(std::collections::BTreeSet::new()),
            shutdown: tokio_util::sync::CancellationToken::new(),
            auth: std::sync::OnceLock::new(),
        }))
    }

    /// Sets the passkey and session settings; only the first call counts.
    pub fn set_auth(&self, auth: crate::auth::Auth) {
        let _ = self.auth.set(Arc::new(auth));
    }

    /// Passkey and session settings: those of [`Hub::set_auth`], else the defaults for
    /// `http://localhost:8080`.
    pub fn auth(&self) -> Arc<crate::auth::Auth> {
        self.auth
            .get_or_init(|| {
                let a =
                    crate::auth::Auth::new(&crate::config::AuthSettings::default(), 8080, false);
                match a {
                    Ok(a) => Arc::new(a),
                    Err(e) => panic!("the default passkey settings are invalid: {e}"),
                }
            })
            .clone()
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    pub fn inventory(&self) -> Arc<Inventory> {
        match self.inventory.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.live.subscribe()
    }

    pub(crate) fn notify(&self, kind: &'static str, id: String) {
        // No receivers is fine.
        let _ = self.live.send(LiveEvent { kind, id });
    }

    pub fn connector_states(&self) -> BTreeMap<String, ConnectorState> {
        self.connectors
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    async fn persist(
        &self,
        engine: &Engine,
        updates: &[VerdictUpdate],
        now: Timestamp,
        cause: &str,
    ) -> Result<(), HubError> {
        self.store.apply_updates(updates, now, cause).await?;
        for u in updates.iter().filter(|u| !u.is_final) {
            self.metrics.verdict_change(u.verdict.kind.as_str());
        }
        self.metrics
            .pending_verdicts
            .set(engine.pending_count() as i64);
        Ok(())
    }

    /// Reads the clock and finalises (and persists) every verdict whose grace has run
    /// out, before an input is stored: an input that arrives after a login's grace can
    /// then never reach it, not even through a restart. Returns the time to use.
    async fn finalize_before_input(&self, engine: &mut Engine) -> Result<Timestamp, HubError> {
        let now = self.now();
        let due = engine.finalize_due(now);
        self.persist(engine, &due, now, "final").await?;
        Ok(now)
    }

    /// Stores a door event (once per door and `event_id`) and re-judges the pending
    /// logins it affects.
    pub async fn ingest_door_event(
        &self,
        event: DoorEvent,
        source: &str,
    ) -> Result<Ingested, HubError> {
        if self.inventory().door(&event.door).is_none() {
            return Err(HubError::UnknownDoor(event.door.to_string()));
        }
        let mut engine = self.engine.lock().await;
        let now = self.finalize_before_input(&mut engine).await?;
        let ingested = self.store.insert_door_event(&event, source, now).await?;
        self.with_activity(&event.door, |a| {
            if ingested == Ingested::New {
                a.last_event_at = Some(now);
                a.last_event_ts = a.last_event_ts.max(Some(event.ts));
            }
        });
        self.metrics.door_event(
            source,
            if ingested == Ingested::New {
                "new"
            } else {
                "duplicate"
            },
        );
        if ingested == Ingested::New {
            let updates = engine.record_door_event(&event, now);
            self.persist(
                &engine,
                &updates,
                now,
                &format!("door event {}/{}", event.door, event.event_id),
            )
            .await?;
            drop(engine);
            self.notify("door_event", format!("{}/{}", event.door, event.event_id));
            for u in updates {
                self.notify("verdict", u.event_id);
            }
        } else {
            drop(engine);
        }
        self.heard(&event.door, event.ts).await?;
        Ok(ingested)
    }

    pub async fn ingest_status(&self, change: StatusChange, source: &str) -> Result<(), HubError> {
        if self.inventory().door(&change.door).is_none() {
            return Err(HubError::UnknownDoor(change.door.to_string()));
        }
        let mut engine = self.engine.lock().await;
        let now = self.finalize_before_input(&mut engine).await?;
        self.store.insert_status(&change, source, now).await?;
        self.metrics.status_change(source);
        let updates = engine.record_status(&change, now);
        self.persist(
            &engine,
            &updates,
            now,
            &format!("door {} {}", change.door, change.status.as_str()),
        )
        .await?;
        drop(engine);
        self.after_status(&change, source);
        self.notify("door_status", change.door.to_string());
        Ok(())
    }

    /// Keeps a status change in the door's activity: its latest status, a sign of life
    /// if it says `online`, and the watchdog's offline period.
    fn after_status(&self, change: &StatusChange, source: &str) {
        let now = self.now();
        self.with_activity(&change.door, |a| a.record_status(change, source, now));
    }

    fn with_activity<R>(&self, door: &DoorId, f: impl FnOnce(&mut DoorActivity) -> R) -> R {
        let mut g = match self.activity.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(g.entry(door.clone()).or_default())
    }

    /// A sign of life of `door` at `t`. Ends a watchdog offline period that started
    /// before `t` by recording `online` at `t`.
    async fn heard(&self, door: &DoorId, t: Timestamp) -> Result<(), HubError> {
        let now = self.now();
        let t = t.min(now);
        let revive = self.with_activity(door, |a| {
            a.heard(t, now);
            a.revives(t)
        });
        if revive {
            tracing::info!(door = %door, at = %t, "door heard again after its heartbeat timeout");
            let change = StatusChange {
                door: door.clone(),
                ts: t,
                status: DoorStatus::Online,
            };
            self.ingest_status(change, WATCHDOG).await?;
        }
        Ok(())
    }

    /// The watchdog: records every door whose heartbeat timeout ran out `offline` from
    /// its last sign of life (see [`crate::health`]).
    pub async fn check_heartbeats(&self) -> Result<(), HubError> {
        let now = self.now();
        let changes = {
            let activity = match self.activity.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            monban_core::health::watchdog(&self.heartbeat_timeouts, &activity, self.started, now)
        };
        for change in changes {
            let timeout = self
                .heartbeat_timeouts
                .get(&change.door)
                .map(|t| t.as_std())
                .unwrap_or_default();
            tracing::warn!(door = %change.door, since = %change.ts, timeout = ?timeout, "no sign of life within the heartbeat timeout: door offline");
            self.ingest_status(change, WATCHDOG).await?;
        }
        Ok(())
    }

    /// Runs [`Hub::check_heartbeats`] once a second until cancelled.
    pub async fn run_watchdog(self: Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        if self.heartbeat_timeouts.is_empty() {
            return;
        }
        loop {
            if let Err(e) = self.check_heartbeats().await {
                tracing::error!(error = %e, "heartbeat watchdog could not record; retrying");
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    }

    /// The health of every door in the inventory, in inventory order.
    pub async fn door_health(&self) -> Vec<DoorHealth> {
        let inv = self.inventory();
        let now = self.now();
        let statuses: Vec<DoorStatus> = {
            let engine = self.engine.lock().await;
            inv.doors()
                .iter()
                .map(|d| engine.timeline().door_status_at(&d.id, now))
                .collect()
        };
        let activity = match self.activity.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let connectors = self.connector_states();
        let rfc = |t: Option<Timestamp>| t.map(|t| t.to_rfc3339());
        inv.doors()
            .iter()
            .zip(statuses)
            .map(|(d, status)| {
                let a = activity.get(&d.id).cloned().unwrap_or_default();
                let source = self.source_of(&d.id);
                let connector_name = if source == "mqtt" {
                    "mqtt".to_string()
                } else {
                    format!("modbus:{}", d.id)
                };
                let feed = if source == "modbus" {
                    DoorFeed::Modbus
                } else {
                    DoorFeed::Mqtt
                };
                let offline_reason = OfflineReason::of(status, &a, feed, now).map(|r| r.as_str());
                DoorHealth {
                    door: d.id.to_string(),
                    name: d.name.clone(),
                    room: d.room.to_string(),
                    source,
                    state: status.as_str(),
                    since: rfc(a.last_status.as_ref().map(|(ts, _, _)| *ts)),
                    offline_reason,
                    last_event_at: rfc(a.last_event_at),
                    last_event_ts: rfc(a.last_event_ts),
                    last_heartbeat_at: rfc(a.last_heartbeat_at),
                    last_heard_at: rfc(a.last_heard),
                    heartbeat_timeout: self
                        .heartbeat_timeouts
                        .get(&d.id)
                        .map(|t| humantime::format_duration(t.as_std()).to_string()),
                    overruns: a.overruns,
                    last_overrun_at: rfc(a.last_overrun_at),
                    outages: a.outages,
                    dead_letters: a.dead_letters,
                    connector: connectors
                        .get(&connector_name)
                        .map(|c| c.as_str().to_string()),
                }
            })
            .collect()
    }

    /// Records that the given doors may have missed events between `from` and `to`, for
    /// `cause` (stored as its code; `reason` is the free text for the record).
    pub async fn record_outage(
        &self,
        doors: &[DoorId],
        outage: Outage,
        cause: OutageCause,
        reason: &str,
    ) -> Result<(), HubError> {
        let mut engine = self.engine.lock().await;
        let now = self.finalize_before_input(&mut engine).await?;
        let mut updates = Vec::new();
        for d in doors {
            self.store
                .insert_outage(d, outage, cause, reason, now)
                .await?;
            updates.extend(engine.record_outage(d, outage, now));
            self.with_activity(d, |a| a.record_outage(cause, outage));
        }
        self.persist(&engine, &updates, now, reason).await?;
        drop(engine);
        self.notify("outage", reason.to_string());
        Ok(())
    }

    /// Judges and stores a new login. Returns the stored login and whether it was new
    /// (false: the `event_id` was already stored and the stored result is returned).
    pub async fn ingest_login(&self, login: Login) -> Result<(StoredLogin, bool), HubError> {
        if self.inventory().system(&login.system).is_none() {
            return Err(HubError::UnknownSystem(login.system.to_string()));
        }
        let mut engine = self.engine.lock().await;
        if let Some(existing) = self.stored_login_of(&login).await? {
            self.metrics.login("duplicate");
            return Ok((existing, false));
        }
        let now = self.finalize_before_input(&mut engine).await?;
        let needed = login.ts.saturating_sub(engine.lookback());
        self.load_back_to(&mut engine, needed, now).await?;
        let event_id = login.event_id.clone();
        let (verdict, is_final) = engine.submit_login(login.clone(), now, now);
        let stored = StoredLogin {
            login,
            received_at: now,
            final_at: monban_core::verdict::final_at(now, engine.grace()),
            verdict,
            is_final,
        };
        self.store.insert_login(&stored, now).await?;
        self.metrics.login("new");
        self.metrics.verdict(stored.verdict.kind.as_str());
        self.metrics
            .pending_verdicts
            .set(engine.pending_count() as i64);
        drop(engine);
        self.notify("login", event_id);
        Ok((stored, true))
    }

    /// The stored login with `login`'s `event_id`, if its system sent it before; an
    /// `event_id` stored for another system is a conflict: one system can neither read
    /// nor shadow another's logins (CONTRACT §7).
    pub async fn stored_login_of(&self, login: &Login) -> Result<Option<StoredLogin>, HubError> {
        match self.store.login(&login.event_id).await? {
            Some(s) if s.login.system != login.system => {
                Err(HubError::EventIdConflict(login.event_id.clone()))
            }
            other => Ok(other),
        }
    }

    /// Finalises due verdicts; returns the earliest pending deadline.
    pub async fn tick(&self) -> Result<Option<Timestamp>, HubError> {
        let mut engine = self.engine.lock().await;
        let now = self.now();
        let due = engine.finalize_due(now);
        if !due.is_empty() {
            self.persist(&engine, &due, now, "final").await?;
            for u in &due {
                self.notify("final", u.event_id.clone());
            }
        }
        Ok(engine.next_deadline())
    }

    /// Makes sure the engine holds every stored door fact at or after `since`: a login
    /// older than the memory horizon is judged on the same facts as a recent one.
    async fn load_back_to(
        &self,
        engine: &mut Engine,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<(), HubError> {
        let loaded = Timestamp::from_millis(self.loaded_since.load(Ordering::SeqCst));
        if since >= loaded {
            return Ok(());
        }
        let events = self.store.door_events_between(since, loaded).await?;
        tracing::info!(count = events.len(), since = %since, "loading older door events for an old login");
        let mut updates = Vec::new();
        for e in &events {
            updates.extend(engine.record_door_event(e, now));
        }
        // Pruning compacts status history; bring it back whole (recording is idempotent).
        for s in self.store.statuses().await? {
            updates.extend(engine.record_status(&s, now));
        }
        for (door, o) in self.store.outages().await? {
            updates.extend(engine.record_outage(&door, o, now));
        }
        self.persist(engine, &updates, now, "older facts loaded")
            .await?;
        self.loaded_since.store(since.as_millis(), Ordering::SeqCst);
        Ok(())
    }

    /// Forgets in-memory facts older than the horizon, but none that a pending login
    /// still needs.
    pub async fn prune(&self) {
        let mut engine = self.engine.lock().await;
        let mut before = self.now().saturating_sub(MEMORY_HORIZON);
        if let Some(oldest) = engine.oldest_pending_ts() {
            before = before.min(oldest.saturating_sub(engine.lookback()));
        }
        let loaded = self.loaded_since.load(Ordering::SeqCst);
        if before.as_millis() > loaded {
            engine.prune(before);
            self.loaded_since
                .store(before.as_millis(), Ordering::SeqCst);
        }
    }

    /// Runs the finaliser until cancelled: wakes at the next deadline (at least once a
    /// second), and prunes memory once an hour.
    pub async fn run_finalizer(self: Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        let mut last_prune = std::time::Instant::now();
        let mut last_mark = std::time::Instant::now();
        loop {
            let wait = match self.tick().await {
                Ok(Some(next)) => {
                    let ms = next
                        .as_millis()
                        .saturating_sub(self.now().as_millis())
                        .clamp(1, 1000);
                    std::time::Duration::from_millis(ms as u64)
                }
                Ok(None) => std::time::Duration::from_secs(1),
                Err(e) => {
                    tracing::error!(error = %e, "finaliser could not persist; retrying");
                    std::time::Duration::from_secs(1)
                }
            };
            if last_mark.elapsed() >= CONNECTOR_MARK_EVERY {
                self.mark_connected_connectors().await;
                last_mark = std::time::Instant::now();
            }
            if last_prune.elapsed() > std::time::Duration::from_secs(3600) {
                self.prune().await;
                last_prune = std::time::Instant::now();
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// A sign of life from a door's controller that carries nothing else.
    pub async fn heartbeat(&self, door: &DoorId, ts: Timestamp) -> Result<(), HubError> {
        if self.inventory().door(door).is_none() {
            return Err(HubError::UnknownDoor(door.to_string()));
        }
        let now = self.now();
        let ts = ts.min(now);
        let persist = self.with_activity(door, |a| {
            a.last_heartbeat_at = a.last_heartbeat_at.max(Some(ts));
            let due = a.heartbeat_persisted_at.is_none_or(|p| {
                ts.as_millis() - p.as_millis() >= HEARTBEAT_PERSIST_EVERY.as_millis()
            }) || a.silent_since.is_some();
            if due {
                a.heartbeat_persisted_at = Some(ts);
            }
            due
        });
        if persist {
            if let Err(e) = self.store.upsert_heartbeat(door, ts).await {
                self.with_activity(door, |a| a.heartbeat_persisted_at = None);
                return Err(e.into());
            }
        }
        self.heard(door, ts).await
    }

    pub async fn dead_letter(&self, letter: DeadLetter) -> Result<(), HubError> {
        self.store.insert_dead_letter(&letter).await?;
        self.metrics.dead_letter(&letter.source);
        if let Some(door) = &letter.door {
            self.with_activity(door, |a| a.dead_letters += 1);
        }
        tracing::warn!(source = %letter.source, origin = %letter.origin, reason = %letter.reason, "dead letter");
        self.notify("dead_letter", letter.origin);
        Ok(())
    }
}

impl Hub {
    /// The connector that feeds a door: `modbus` for doors with a `[[modbus]]` device,
    /// `mqtt` for the others.
    fn source_of(&self, door: &DoorId) -> &'static str {
        if self.modbus_doors.contains(door) {
            "modbus"
        } else {
            "mqtt"
        }
    }

    /// The doors of the current inventory that MQTT feeds.
    fn mqtt_doors(&self) -> Vec<DoorId> {
        self.inventory()
            .doors()
            .iter()
            .map(|d| d.id.clone())
            .filter(|d| !self.modbus_doors.contains(d))
            .collect()
    }

    /// Notes in the store that connector `name` is connected now (see
    /// [`DoorSink::fresh_session`]).
    async fn mark_up(&self, name: &str) {
        if let Err(e) = self.store.mark_connector_up(name, self.now()).await {
            tracing::warn!(error = %e, connector = name, "could not note the connector up");
        }
    }

    /// Every few seconds while connected, refreshes the mark of each connected connector,
    /// so a later process knows from when a lost session may have lost messages.
    pub async fn mark_connected_connectors(&self) {
        let up: Vec<String> = self
            .connector_states()
            .into_iter()
            .filter(|(_, s)| *s == ConnectorState::Connected)
            .map(|(n, _)| n)
            .collect();
        for name in up {
            self.mark_up(&name).await;
        }
    }

    /// Keeps an MQTT message for a door that is not in the inventory as a dead letter.
    async fn unknown_door_letter(
        &self,
        door: &DoorId,
        topic_kind: &str,
        raw: &[u8],
    ) -> Result<(), SinkError> {
        let letter = DeadLetter {
            source: "mqtt".into(),
            origin: format!("monban/{}/door/{door}/{topic_kind}", self.site),
            door: None,
            payload: raw.to_vec(),
            reason: format!("door {:?} is not in the inventory", door.as_str()),
            received_at: self.now(),
        };
        self.dead_letter(letter)
            .await
            .map_err(|e| SinkError(e.to_string()))
    }
}

/// The connectors (MQTT, Modbus) deliver into the hub through this port.
#[async_trait]
impl DoorSink for Hub {
    async fn door_event(&self, event: DoorEvent, raw: &[u8]) -> Result<Ingested, SinkError> {
        let door = event.door.clone();
        let source = self.source_of(&door);
        match self.ingest_door_event(event, source).await {
            Err(HubError::UnknownDoor(_)) => {
                self.unknown_door_letter(&door, "event", raw).await?;
                Ok(Ingested::DeadLettered)
            }
            other => other.map_err(|e| SinkError(e.to_string())),
        }
    }

    async fn door_status(&self, change: StatusChange, raw: &[u8]) -> Result<(), SinkError> {
        let door = change.door.clone();
        let source = self.source_of(&door);
        match self.ingest_status(change, source).await {
            Err(HubError::UnknownDoor(_)) => self.unknown_door_letter(&door, "status", raw).await,
            other => other.map_err(|e| SinkError(e.to_string())),
        }
    }

    async fn heartbeat(&self, door: &DoorId, ts: Timestamp) -> Result<(), SinkError> {
        match Hub::heartbeat(self, door, ts).await {
            // A sign of life of a door we do not know: kept once as a dead letter (so an
            // officer sees the wiring is wrong), then dropped until the next start — a
            // heartbeat every minute must neither fill the store nor jam the connector.
            Err(HubError::UnknownDoor(_)) => {
                let first = self
                    .unknown_heartbeats
                    .lock()
                    .map(|mut g| g.insert(door.clone()))
                    .unwrap_or(false);
                if first {
                    let letter = DeadLetter {
                        source: self.source_of(door).into(),
                        origin: format!("heartbeat of door {door}"),
                        door: None,
                        payload: Vec::new(),
                        reason: format!(
                            "door {:?} is not in the inventory; its heartbeats are dropped until the hub restarts",
                            door.as_str()
                        ),
                        received_at: self.now(),
                    };
                    Hub::dead_letter(self, letter)
                        .await
                        .map_err(|e| SinkError(e.to_string()))?;
                }
                Ok(())
            }
            other => other.map_err(|e| SinkError(e.to_string())),
        }
    }

    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        Hub::dead_letter(self, letter)
            .await
            .map_err(|e| SinkError(e.to_string()))
    }

    async fn connector_state(&self, name: &str, state: ConnectorState) {
        if state == ConnectorState::Connected {
            self.mark_up(name).await;
        }
        self.metrics
            .connector(name, state == ConnectorState::Connected);
        tracing::info!(connector = name, state = state.as_str(), "connector state");
        if let Ok(mut g) = self.connectors.lock() {
            g.insert(name.to_string(), state);
        }
        self.notify("connector", name.to_string());
    }

    async fn fresh_session(&self, name: &str, at: Timestamp) {
        let last_up = match self.store.connector_last_up(name).await {
            Ok(v) => LastConnected::from(v),
            Err(e) => {
                tracing::error!(error = %e, "cannot read when the connector was last up; assuming it was just now");
                // Fail closed over the longest span memory holds.
                LastConnected::Unknown
            }
        };
        match monban_core::health::blind_period(last_up, at, MEMORY_HORIZON) {
            Some(outage) => {
                let from = outage.from;
                tracing::warn!(connector = name, since = %from, "the broker kept no session for the hub while it was down: messages since it was last connected may be lost");
                let doors = self.mqtt_doors();
                let reason = format!(
                    "{name} connector blind (the broker had no session for the hub after its restart; last connected {})",
                    from.to_rfc3339()
                );
                let cause = OutageCause::MqttBlindRestart;
                if let Err(e) = self.record_outage(&doors, outage, cause, &reason).await {
                    tracing::error!(error = %e, "could not record the blind period");
                }
            }
            None => tracing::info!(
                connector = name,
                "first connection: the broker starts a new session for the hub"
            ),
        }
        self.mark_up(name).await;
    }

    async fn blind_period(&self, name: &str, from: Timestamp, to: Timestamp) {
        let doors = self.mqtt_doors();
        let reason = format!("{name} connector blind (broker lost the session)");
        if let Err(e) = self
            .record_outage(&doors, Outage { from, to }, OutageCause::MqttBlind, &reason)
            .await
        {
            tracing::error!(error = %e, "could not record the blind period");
        }
    }

    async fn door_outage(
        &self,
        door: &DoorId,
        from: Timestamp,
        to: Timestamp,
        cause: OutageCause,
        reason: &str,
    ) {
        let doors = [door.clone()];
        if let Err(e) = self
            .record_outage(&doors, Outage { from, to }, cause, reason)
            .await
        {
            tracing::error!(error = %e, door = %door, "could not record the door outage");
        }
    }

    fn now(&self) -> Timestamp {
        Hub::now(self)
    }
}
