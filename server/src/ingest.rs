//! Ingest: what the HTTP handlers, the dashboard and the connectors hold to reach the
//! ingest writer ([`crate::writer`]) and the read views it keeps (engine, inventory, door
//! activity, live feed), with the connectors' states. [`Ingest`] is also the connectors'
//! port ([`DoorSink`]).
//!
//! Every input goes to the writer, which stores it, feeds the engine and commits before
//! the caller gets its answer (see the writer's module docs for the order and for what
//! happens when a commit fails). Reads go to the store or to the views directly.

use crate::clock::Clock;
use crate::health::DoorHealth;
use crate::metrics::Metrics;
use crate::store::inventory::InventoryChange;
use crate::store::{Store, StoreError, StoredLogin};
use crate::writer::{
    Done, Input, LiveEvent, Refused, Shared, WriteError, Writer, WriterHandle, WriterSettings,
    MEMORY_HORIZON,
};
use async_trait::async_trait;
use monban_connectors::{ConnectorState, DeadLetter, DoorSink, Ingested, SinkError, SinkItem};
use monban_core::health::{DoorFeed, LastConnected, OfflineReason, OutageCause};
use monban_core::snapshot::Presence;
use monban_core::timeline::Outage;
use monban_core::{
    DoorEvent, DoorId, DoorStatus, Inventory, Login, SiteId, Span, StatusChange, Timestamp,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How often a connected connector's "last up" mark is refreshed in the store.
pub const CONNECTOR_MARK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Why an input was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("door {0:?} is not in the inventory")]
    UnknownDoor(String),
    #[error("system {0:?} is not in the inventory")]
    UnknownSystem(String),
    /// A login's `event_id` is already stored for another system (CONTRACT §7).
    #[error("event_id {0:?} is already stored for another system")]
    EventIdConflict(String),
    /// The step-up was used by another login meanwhile.
    #[error("step-up {0:?} has already been used")]
    StepUpUsed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writer could not commit (nothing was stored) or is stopping.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<Refused> for IngestError {
    fn from(r: Refused) -> IngestError {
        match r {
            Refused::UnknownDoor(d) => IngestError::UnknownDoor(d),
            Refused::UnknownSystem(s) => IngestError::UnknownSystem(s),
            Refused::EventIdConflict(id) => IngestError::EventIdConflict(id),
            Refused::StepUpUsed(id) => IngestError::StepUpUsed(id),
        }
    }
}

/// The writer's handle, its read views and the connectors' states.
pub struct Ingest {
    store: Store,
    metrics: Arc<Metrics>,
    /// The site (`[site] id`) as the stored inventory names it.
    site: SiteId,
    site_name: String,
    /// The writer's read views.
    shared: Shared,
    writer: WriterHandle,
    /// The writer task, taken by `serve` to wait for it after everything else stopped.
    writer_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Stops the writer once the connectors and the HTTP server have stopped.
    writer_stop: tokio_util::sync::CancellationToken,
    clock: Clock,
    connectors: Mutex<BTreeMap<String, ConnectorState>>,
    /// Doors not in the inventory whose heartbeat was already dead-lettered.
    unknown_heartbeats: Mutex<std::collections::BTreeSet<DoorId>>,
}

/// What [`Ingest::start`] needs besides the store and the clock (`monban.toml`).
#[derive(Debug, Clone, Default)]
pub struct IngestSettings {
    /// `[server] grace`.
    pub grace: Span,
    /// `[site] timezone`: the calendar of `until` days and the day rollups.
    pub offset: monban_core::SiteOffset,
}

impl Ingest {
    /// Starts ingest over the store: restores the engine (see [`Writer::restore`]) and
    /// starts the writer task.
    pub async fn start(
        store: Store,
        settings: IngestSettings,
        clock: Clock,
    ) -> Result<Arc<Ingest>, IngestError> {
        let IngestSettings { grace, offset } = settings;
        let inventory = store.load_inventory().await?.with_offset(offset);
        let (site, site_name) = inventory.site.clone().unwrap_or_else(|| {
            (
                SiteId::parse("site").unwrap_or_else(|_| unreachable!()),
                String::new(),
            )
        });
        let shared = Shared::new(inventory, grace);
        let writer = Writer::start(
            store.clone(),
            shared.clone(),
            WriterSettings {
                grace,
                offset,
                clock: clock.clone(),
            },
        )
        .await?;
        let (handle, rx) = crate::writer::channel();
        let writer_stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(writer.run(rx, writer_stop.clone()));
        Ok(Arc::new(Ingest {
            store,
            metrics: shared.metrics.clone(),
            site,
            site_name,
            shared,
            writer: handle,
            writer_task: Mutex::new(Some(task)),
            writer_stop,
            clock,
            connectors: Mutex::new(BTreeMap::new()),
            unknown_heartbeats: Mutex::new(std::collections::BTreeSet::new()),
        }))
    }

    /// Stops the writer after it has stored what is queued, and waits for it.
    pub async fn stop_writer(&self) {
        self.writer_stop.cancel();
        let task = self.writer_task.lock().ok().and_then(|mut g| g.take());
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the writer task failed");
            }
        }
    }

    /// The site's id and name, as the stored inventory has them (`[site]`; `site` when
    /// none was ever imported).
    pub fn site(&self) -> (&SiteId, &str) {
        (&self.site, &self.site_name)
    }

    /// The registry the writer and the connectors count into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn inventory(&self) -> Arc<Inventory> {
        self.shared.inventory()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.shared.live.subscribe()
    }

    fn notify(&self, kind: &'static str, id: String) {
        // No receivers is fine.
        let _ = self.shared.live.send(LiveEvent { kind, id });
    }

    pub fn connector_states(&self) -> BTreeMap<String, ConnectorState> {
        self.connectors
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    async fn one(&self, input: Input) -> Result<Done, IngestError> {
        Ok(self.writer.submit_one(input).await??)
    }

    /// Stores a door event (once per door and `event_id`) and re-judges the pending
    /// logins it affects.
    pub async fn ingest_door_event(
        &self,
        event: DoorEvent,
        source: &'static str,
    ) -> Result<Ingested, IngestError> {
        match self.one(Input::DoorEvent { event, source }).await? {
            Done::Door(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    pub async fn ingest_status(
        &self,
        change: StatusChange,
        source: &'static str,
    ) -> Result<(), IngestError> {
        self.one(Input::Status { change, source }).await.map(|_| ())
    }

    /// Records that the given doors may have missed events between `from` and `to`, for
    /// `cause` (stored as its code; `reason` is the free text for the record).
    pub async fn record_outage(
        &self,
        doors: &[DoorId],
        outage: Outage,
        cause: OutageCause,
        reason: &str,
    ) -> Result<(), IngestError> {
        self.one(Input::Outage {
            doors: doors.to_vec(),
            outage,
            cause,
            reason: reason.to_string(),
        })
        .await
        .map(|_| ())
    }

    /// Judges and stores a new login. Returns the stored login and whether it was new
    /// (false: the `event_id` was already stored and the stored result is returned).
    /// `step_up` names a step-up the caller vouched for: it is consumed by this login in
    /// the transaction that stores it.
    pub async fn ingest_login(
        &self,
        login: Login,
        step_up: Option<String>,
    ) -> Result<(StoredLogin, bool), IngestError> {
        match self.one(Input::Login { login, step_up }).await? {
            Done::Login { stored, new } => Ok((*stored, new)),
            other => Err(unexpected(other)),
        }
    }

    /// Judges and stores many logins as one writer command (an access-log import): per
    /// login, the stored login if this command stored it (`None`: already stored for its
    /// system) or why it was refused. Nothing is stored when the command fails as a
    /// whole.
    pub async fn ingest_logins(
        &self,
        logins: Vec<Login>,
    ) -> Result<Vec<Result<Option<StoredLogin>, IngestError>>, IngestError> {
        let inputs = logins
            .into_iter()
            .map(|login| Input::Login {
                login,
                step_up: None,
            })
            .collect();
        let replies = self.writer.submit(inputs).await?;
        Ok(replies
            .into_iter()
            .map(|r| match r {
                Ok(Done::Login { stored, new }) => Ok(new.then_some(*stored)),
                Ok(other) => Err(unexpected(other)),
                Err(refused) => Err(refused.into()),
            })
            .collect())
    }

    /// The stored login with `login`'s `event_id`, if its system sent it before; an
    /// `event_id` stored for another system is a conflict: one system can neither read
    /// nor shadow another's logins (CONTRACT §7).
    pub async fn stored_login_of(&self, login: &Login) -> Result<Option<StoredLogin>, IngestError> {
        match self.store.login(&login.event_id).await? {
            Some(s) if s.login.system != login.system => {
                Err(IngestError::EventIdConflict(login.event_id.clone()))
            }
            other => Ok(other),
        }
    }

    /// A sign of life from a door's controller that carries nothing else.
    pub async fn heartbeat(&self, door: &DoorId, ts: Timestamp) -> Result<(), IngestError> {
        self.one(Input::Heartbeat {
            door: door.clone(),
            ts,
        })
        .await
        .map(|_| ())
    }

    pub async fn dead_letter(&self, letter: DeadLetter) -> Result<(), IngestError> {
        self.one(Input::DeadLetter(letter)).await.map(|_| ())
    }

    /// The health of every door in the inventory, in inventory order.
    pub async fn door_health(&self) -> Vec<DoorHealth> {
        let inv = self.inventory();
        let now = self.now();
        let statuses: Vec<DoorStatus> = {
            let engine = self.shared.engine.read().await;
            inv.doors()
                .iter()
                .map(|d| engine.timeline().door_status_at(&d.id, now))
                .collect()
        };
        let activity = match self.shared.activity.lock() {
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
                let source = d.feed.as_str();
                let connector_name = match d.feed {
                    DoorFeed::Mqtt => "mqtt".to_string(),
                    DoorFeed::Modbus => format!("modbus:{}", d.id),
                };
                let offline_reason = OfflineReason::of(status, &a, d.feed, now).map(|r| r.as_str());
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
                    heartbeat_timeout: d.heartbeat_timeout.map(|t| t.to_string()),
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
}

// ---- the dashboard's inventory edits and room view ------------------------------------

impl Ingest {
    /// Replaces the inventory with `new`: the writer stores it with `changes` recorded as
    /// made by `who`, hands it to the engine (which derives presence and alarms again and
    /// re-judges every pending login) and persists the verdicts that changed, in one
    /// transaction.
    pub async fn replace_inventory(
        &self,
        new: Inventory,
        changes: &[InventoryChange],
        who: &str,
    ) -> Result<(), IngestError> {
        let input = Input::Inventory {
            new: Box::new(new),
            changes: changes.to_vec(),
            who: who.to_string(),
        };
        self.writer.submit_one(input).await??;
        Ok(())
    }

    /// Everyone whose presence covers `t`, per room, in inventory order (rooms, then
    /// people): `monban_core::snapshot::presence_at` over the engine's timeline.
    pub async fn presence_at(&self, t: Timestamp) -> Vec<Presence> {
        let inv = self.inventory();
        let engine = self.shared.engine.read().await;
        monban_core::snapshot::presence_at(&inv, engine.timeline(), t)
    }
}

/// The one answer of a one-item delivery.
fn first(answers: Vec<Ingested>) -> Result<Ingested, SinkError> {
    answers
        .into_iter()
        .next()
        .ok_or_else(|| SinkError("the hub gave no answer".into()))
}

/// A reply of the writer that does not fit its input (a bug, not an input's fault).
fn unexpected(done: Done) -> IngestError {
    IngestError::Write(WriteError::Failed(format!(
        "unexpected answer from the writer: {done:?}"
    )))
}

impl Ingest {
    /// The connector that feeds a door (its [`monban_core::Door::feed`]): `modbus` or
    /// `mqtt` (also for a door not in the inventory).
    fn source_of(&self, door: &DoorId) -> &'static str {
        self.inventory()
            .door(door)
            .map_or(DoorFeed::Mqtt, |d| d.feed)
            .as_str()
    }

    /// The doors of the current inventory that MQTT feeds.
    fn mqtt_doors(&self) -> Vec<DoorId> {
        self.inventory()
            .doors()
            .iter()
            .filter(|d| d.feed == DoorFeed::Mqtt)
            .map(|d| d.id.clone())
            .collect()
    }

    /// Notes in the store that connector `name` is connected now (see
    /// [`DoorSink::fresh_session`]).
    async fn mark_up(&self, name: &str) {
        let input = Input::ConnectorUp {
            name: name.to_string(),
            at: self.now(),
        };
        if let Err(e) = self.writer.submit_one(input).await {
            tracing::warn!(error = %e, connector = name, "could not note the connector up");
        }
    }

    /// Refreshes the connectors' marks every [`CONNECTOR_MARK_EVERY`] until cancelled.
    pub async fn run_marks(self: Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(CONNECTOR_MARK_EVERY) => {}
            }
            self.mark_connected_connectors().await;
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

    /// An MQTT message for a door that is not in the inventory, kept as a dead letter.
    fn unknown_door_letter(&self, door: &DoorId, topic_kind: &str, raw: &[u8]) -> Input {
        Input::DeadLetter(DeadLetter {
            source: "mqtt".into(),
            origin: format!("monban/{}/door/{door}/{topic_kind}", self.site),
            door: None,
            payload: raw.to_vec(),
            reason: format!("door {:?} is not in the inventory", door.as_str()),
            received_at: self.now(),
        })
    }

    /// The dead letter of the first heartbeat of a door that is not in the inventory
    /// (once per door until the hub restarts).
    fn unknown_heartbeat_letter(&self, door: &DoorId) -> Option<Input> {
        let first = self
            .unknown_heartbeats
            .lock()
            .map(|mut g| g.insert(door.clone()))
            .unwrap_or(false);
        first.then(|| {
            Input::DeadLetter(DeadLetter {
                source: self.source_of(door).into(),
                origin: format!("heartbeat of door {door}"),
                door: None,
                payload: Vec::new(),
                reason: format!(
                    "door {:?} is not in the inventory; its heartbeats are dropped until the hub restarts",
                    door.as_str()
                ),
                received_at: self.now(),
            })
        })
    }
}

/// The connectors (MQTT, Modbus) deliver into the hub through this port.
#[async_trait]
impl DoorSink for Ingest {
    /// The whole batch goes to the writer as one command: one transaction, one commit.
    /// Items for doors that are not in the inventory become dead letters in the same
    /// batch (a heartbeat of an unknown door once per door and start, so a heartbeat
    /// every minute neither fills the store nor jams the connector).
    async fn deliver(&self, items: Vec<SinkItem>) -> Result<Vec<Ingested>, SinkError> {
        let inv = self.inventory();
        let mut inputs = Vec::with_capacity(items.len());
        let mut answers = Vec::with_capacity(items.len());
        for item in items {
            let (input, answer) = match item {
                SinkItem::Event { event, raw } => match inv.door(&event.door) {
                    Some(_) => {
                        let source = self.source_of(&event.door);
                        (Some(Input::DoorEvent { event, source }), None)
                    }
                    None => (
                        Some(self.unknown_door_letter(&event.door, "event", &raw)),
                        Some(Ingested::DeadLettered),
                    ),
                },
                SinkItem::Status { change, raw } => match inv.door(&change.door) {
                    Some(_) => {
                        let source = self.source_of(&change.door);
                        (Some(Input::Status { change, source }), Some(Ingested::New))
                    }
                    None => (
                        Some(self.unknown_door_letter(&change.door, "status", &raw)),
                        Some(Ingested::New),
                    ),
                },
                SinkItem::Heartbeat { door, ts } => match inv.door(&door) {
                    Some(_) => (Some(Input::Heartbeat { door, ts }), Some(Ingested::New)),
                    None => (self.unknown_heartbeat_letter(&door), Some(Ingested::New)),
                },
                SinkItem::DeadLetter(letter) => {
                    (Some(Input::DeadLetter(letter)), Some(Ingested::New))
                }
            };
            if let Some(i) = input {
                inputs.push(i);
            }
            answers.push((answer, inputs.len()));
        }
        let results = self
            .writer
            .submit(inputs)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        // An inventory change between the check above and the writer: the refused
        // items are kept as dead letters in a second command.
        let mut late = Vec::new();
        let mut out = Vec::with_capacity(answers.len());
        for (answer, n) in answers {
            let result = n.checked_sub(1).and_then(|i| results.get(i));
            out.push(match (answer, result) {
                (Some(a), _) => a,
                (None, Some(Ok(Done::Door(i)))) => *i,
                (None, Some(Err(Refused::UnknownDoor(door)))) => {
                    late.push(DeadLetter {
                        source: "mqtt".into(),
                        origin: format!("door {door}"),
                        door: None,
                        payload: Vec::new(),
                        reason: format!("door {door:?} is not in the inventory"),
                        received_at: self.now(),
                    });
                    Ingested::DeadLettered
                }
                (None, other) => {
                    return Err(SinkError(format!(
                        "unexpected answer from the writer: {other:?}"
                    )))
                }
            });
        }
        if !late.is_empty() {
            self.writer
                .submit(late.into_iter().map(Input::DeadLetter).collect())
                .await
                .map_err(|e| SinkError(e.to_string()))?;
        }
        Ok(out)
    }

    async fn door_event(&self, event: DoorEvent, raw: &[u8]) -> Result<Ingested, SinkError> {
        let item = SinkItem::Event {
            event,
            raw: raw.to_vec(),
        };
        first(self.deliver(vec![item]).await?)
    }

    async fn door_status(&self, change: StatusChange, raw: &[u8]) -> Result<(), SinkError> {
        let item = SinkItem::Status {
            change,
            raw: raw.to_vec(),
        };
        first(self.deliver(vec![item]).await?).map(|_| ())
    }

    async fn heartbeat(&self, door: &DoorId, ts: Timestamp) -> Result<(), SinkError> {
        let item = SinkItem::Heartbeat {
            door: door.clone(),
            ts,
        };
        first(self.deliver(vec![item]).await?).map(|_| ())
    }

    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        first(self.deliver(vec![SinkItem::DeadLetter(letter)]).await?).map(|_| ())
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
        Ingest::now(self)
    }
}
