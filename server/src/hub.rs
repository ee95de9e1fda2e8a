//! The hub's ingest pipeline: connector or handler → store → engine → store → live feed.
//!
//! Every input goes through one lock around the [`Engine`] so that "store the event" and
//! "re-judge pending logins" happen as one step in a single order. Due verdicts are
//! finalised *before* an input is stored, so whatever is in the store after a crash
//! never contains an event that arrived after a login's grace but was not yet applied
//! to it: restoring on start-up replays the store into a fresh engine and gets the same
//! verdicts (see [`Hub::start`]).

use crate::metrics::Metrics;
use crate::store::{Store, StoreError, StoredLogin};
use async_trait::async_trait;
use monban_connectors::{ConnectorState, DeadLetter, DoorSink, Ingested, SinkError};
use monban_core::timeline::Outage;
use monban_core::{
    DoorEvent, DoorId, Engine, Inventory, Login, SiteId, Span, StatusChange, Timestamp,
    VerdictUpdate,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, Mutex};

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
    engine: Mutex<Engine>,
    /// Door events with `ts` at or after this (ms) are in the engine's memory. Changed
    /// only while the engine lock is held.
    loaded_since: AtomicI64,
    inventory: RwLock<Arc<Inventory>>,
    live: broadcast::Sender<LiveEvent>,
    clock: Clock,
    connectors: std::sync::Mutex<BTreeMap<String, ConnectorState>>,
    /// Doors fed by MQTT (every door without a Modbus device): blind periods of the MQTT
    /// connector become outages of these doors.
    mqtt_doors: Vec<DoorId>,
    /// Cancelled when the hub shuts down: long-lived responses (the live feed) end.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl Hub {
    /// Builds the hub from the store: loads the inventory, replays door facts of the last
    /// [`MEMORY_HORIZON`] and the pending logins into a fresh engine, and persists any
    /// verdict that this changes or finalises.
    pub async fn start(
        store: Store,
        grace: Span,
        modbus_doors: &[DoorId],
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
        let mqtt_doors = inventory
            .doors()
            .iter()
            .map(|d| d.id.clone())
            .filter(|d| !modbus_doors.contains(d))
            .collect();
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
            mqtt_doors,
            shutdown: tokio_util::sync::CancellationToken::new(),
        }))
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

    fn notify(&self, kind: &'static str, id: String) {
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
        }
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
        self.notify("door_status", change.door.to_string());
        Ok(())
    }

    /// Records that the given doors may have missed events between `from` and `to`.
    pub async fn record_outage(
        &self,
        doors: &[DoorId],
        outage: Outage,
        reason: &str,
    ) -> Result<(), HubError> {
        let mut engine = self.engine.lock().await;
        let now = self.finalize_before_input(&mut engine).await?;
        let mut updates = Vec::new();
        for d in doors {
            self.store.insert_outage(d, outage, reason, now).await?;
            updates.extend(engine.record_outage(d, outage, now));
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
        if let Some(existing) = self.store.login(&login.event_id).await? {
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

    pub async fn dead_letter(&self, letter: DeadLetter) -> Result<(), HubError> {
        self.store.insert_dead_letter(&letter).await?;
        self.metrics.dead_letter(&letter.source);
        tracing::warn!(source = %letter.source, origin = %letter.origin, reason = %letter.reason, "dead letter");
        self.notify("dead_letter", letter.origin);
        Ok(())
    }
}

impl Hub {
    /// The connector that feeds a door: `modbus` for doors with a `[[modbus]]` device,
    /// `mqtt` for the others.
    fn source_of(&self, door: &DoorId) -> &'static str {
        if self.mqtt_doors.contains(door) || self.inventory().door(door).is_none() {
            "mqtt"
        } else {
            "modbus"
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

    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        Hub::dead_letter(self, letter)
            .await
            .map_err(|e| SinkError(e.to_string()))
    }

    async fn connector_state(&self, name: &str, state: ConnectorState) {
        self.metrics
            .connector(name, state == ConnectorState::Connected);
        tracing::info!(connector = name, state = state.as_str(), "connector state");
        if let Ok(mut g) = self.connectors.lock() {
            g.insert(name.to_string(), state);
        }
        self.notify("connector", name.to_string());
    }

    async fn blind_period(&self, name: &str, from: Timestamp, to: Timestamp) {
        let doors = self.mqtt_doors.clone();
        let reason = format!("{name} connector blind (broker lost the session)");
        if let Err(e) = self
            .record_outage(&doors, Outage { from, to }, &reason)
            .await
        {
            tracing::error!(error = %e, "could not record the blind period");
        }
    }

    async fn door_outage(&self, door: &DoorId, from: Timestamp, to: Timestamp, reason: &str) {
        let doors = [door.clone()];
        if let Err(e) = self
            .record_outage(&doors, Outage { from, to }, reason)
            .await
        {
            tracing::error!(error = %e, door = %door, "could not record the door outage");
        }
    }

    fn now(&self) -> Timestamp {
        Hub::now(self)
    }
}
