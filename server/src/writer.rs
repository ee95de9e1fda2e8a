//! The ingest writer: the one task that owns the engine and the store's write
//! transaction, so the hub runs at the speed of its disk (group commit).
//!
//! Handlers and connectors send a [`Command`] — one or more [`Input`]s — over a bounded
//! queue and wait for its reply. The writer takes what is queued (up to [`MAX_BATCH`]
//! inputs) and, for the whole batch, in **one transaction**:
//!
//! 1. finalises every verdict whose grace has run out, before any input is stored: an
//!    input that arrives after a login's grace can then never reach it, not even through
//!    a restart (the store never holds an input that came after a finalisation it does
//!    not also hold);
//! 2. stores the batch's door events with one multi-row insert (`ON CONFLICT DO NOTHING
//!    RETURNING`: which are new) and looks up the batch's login ids in one query;
//! 3. feeds the engine in the order the inputs arrived (door facts re-judge pending
//!    logins, logins are judged), runs the heartbeat watchdog and revives doors heard
//!    again ([`monban_core`]'s rules, applied to the in-memory door activity);
//! 4. writes statuses, outages, logins, verdict changes, heartbeats, dead letters and
//!    the day rollups (`login_days`, `reason_days`) with multi-row statements;
//! 5. commits — and only then answers every command: an HTTP handler replies and a
//!    connector acknowledges its messages after the commit that holds them. Nothing is
//!    acknowledged before it is durable.
//!
//! **When a commit fails** the engine may hold what the store does not: the writer
//! answers every command of the batch with the error (`503 store_unavailable` over HTTP,
//! no MQTT acknowledgement) and restores the engine from the store before it takes
//! anything else (the same restore as at start). A batch of several commands is then
//! retried one command at a time, so one bad input cannot keep failing the others.
//!
//! Reads never go through the writer: reports read the store (and its rollups), and the
//! rooms and doors views read the engine through a read lock taken between batches.

use crate::clock::Clock;
use crate::health::{DoorActivity, HEARTBEAT_PERSIST_EVERY};
use crate::metrics::Metrics;
use crate::store::batch::{RollupDelta, UpdateRow};
use crate::store::inventory::InventoryChange;
use crate::store::{Store, StoreError, StoredLogin};
use monban_connectors::{DeadLetter, Ingested};
use monban_core::health::{OutageCause, WATCHDOG};
use monban_core::period::SiteOffset;
use monban_core::timeline::Outage;
use monban_core::{
    DoorEvent, DoorId, DoorStatus, Engine, Inventory, Login, Span, StatusChange, Timestamp,
    VerdictUpdate,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Commands that may wait in the queue (senders wait beyond it: backpressure).
pub const QUEUE: usize = 4096;
/// Inputs per transaction at most (a command is never split).
pub const MAX_BATCH: usize = 4096;
/// How often the writer wakes without input: finality, watchdog, pruning.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);
/// How often memory is pruned to the horizon.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// How far back door facts are kept in memory. The store keeps everything; a login whose
/// time is older than this makes the writer load the stored facts it needs first.
pub const MEMORY_HORIZON: Span = Span::from_millis_const(8 * 24 * 3600 * 1000);

/// Something changed; the dashboard refreshes (the live feed, `GET /api/v1/live`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveEvent {
    pub kind: &'static str,
    pub id: String,
}

/// One thing to store.
#[derive(Debug, Clone)]
pub enum Input {
    /// A door event from `source` (`mqtt`, `modbus`, `http`).
    DoorEvent {
        event: DoorEvent,
        source: &'static str,
    },
    Status {
        change: StatusChange,
        source: &'static str,
    },
    /// Events of these doors may have been lost from `outage.from` to `outage.to`.
    Outage {
        doors: Vec<DoorId>,
        outage: Outage,
        cause: OutageCause,
        reason: String,
    },
    /// A sign of life carrying nothing else.
    Heartbeat {
        door: DoorId,
        ts: Timestamp,
    },
    DeadLetter(DeadLetter),
    /// A login; `step_up` names a step-up the caller has vouched for, consumed by this
    /// login in the same transaction.
    Login {
        login: Login,
        step_up: Option<String>,
    },
    /// The dashboard's inventory edit (always a batch of its own).
    Inventory {
        new: Box<Inventory>,
        changes: Vec<InventoryChange>,
        who: String,
    },
    /// A connector was connected at `at` (see `DoorSink::fresh_session`).
    ConnectorUp {
        name: String,
        at: Timestamp,
    },
}

/// What became of one input.
#[derive(Debug, Clone)]
pub enum Done {
    Door(Ingested),
    /// The stored login, and whether this input stored it (`false`: its system had sent
    /// this `event_id` before, and this is the stored result).
    Login {
        stored: Box<StoredLogin>,
        new: bool,
    },
    Recorded,
}

/// An input the writer refused; nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
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
}

/// The batch could not be committed: nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The store cannot be reached; sending again later may work.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("the store failed: {0}")]
    Failed(String),
    /// The hub is shutting down.
    #[error("the hub is stopping")]
    Stopped,
}

impl From<&StoreError> for WriteError {
    fn from(e: &StoreError) -> WriteError {
        if e.is_unavailable() {
            WriteError::Unavailable(e.to_string())
        } else {
            WriteError::Failed(e.to_string())
        }
    }
}

/// The reply to one command: per input, what became of it.
pub type Reply = Result<Vec<Result<Done, Refused>>, WriteError>;

pub struct Command {
    pub inputs: Vec<Input>,
    reply: oneshot::Sender<Reply>,
}

/// The senders' side of the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Command>,
}

impl WriterHandle {
    /// Sends `inputs` as one command and waits until the transaction that holds them has
    /// committed (or failed).
    pub async fn submit(&self, inputs: Vec<Input>) -> Reply {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command { inputs, reply })
            .await
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }

    /// Sends one input.
    pub async fn submit_one(&self, input: Input) -> Result<Result<Done, Refused>, WriteError> {
        self.submit(vec![input])
            .await?
            .pop()
            .ok_or_else(|| WriteError::Failed("the writer gave no answer".into()))
    }
}

/// What the writer shares with readers: the engine (read between batches), the
/// inventory, each door's activity, the live feed and the metrics.
#[derive(Clone)]
pub struct Shared {
    pub engine: Arc<tokio::sync::RwLock<Engine>>,
    pub inventory: Arc<RwLock<Arc<Inventory>>>,
    pub activity: Arc<Mutex<BTreeMap<DoorId, DoorActivity>>>,
    pub live: broadcast::Sender<LiveEvent>,
    pub metrics: Arc<Metrics>,
}

impl Shared {
    /// Empty views for `inventory`; [`Writer::start`] fills them from the store.
    pub fn new(inventory: Inventory, grace: Span) -> Shared {
        Shared {
            engine: Arc::new(tokio::sync::RwLock::new(Engine::new(
                inventory.clone(),
                grace,
            ))),
            inventory: Arc::new(RwLock::new(Arc::new(inventory))),
            activity: Arc::new(Mutex::new(BTreeMap::new())),
            live: broadcast::channel(4096).0,
            metrics: Arc::new(Metrics::new()),
        }
    }

    pub fn inventory(&self) -> Arc<Inventory> {
        match self.inventory.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set_inventory(&self, inv: Inventory) {
        match self.inventory.write() {
            Ok(mut g) => *g = Arc::new(inv),
            Err(p) => *p.into_inner() = Arc::new(inv),
        }
    }

    pub fn with_activity<R>(&self, door: &DoorId, f: impl FnOnce(&mut DoorActivity) -> R) -> R {
        let mut g = match self.activity.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(g.entry(door.clone()).or_default())
    }

    fn notify(&self, kind: &'static str, id: String) {
        // No receivers is fine.
        let _ = self.live.send(LiveEvent { kind, id });
    }
}

/// The settings the writer works with.
pub struct WriterSettings {
    pub grace: Span,
    /// The site's calendar: the rollups' days.
    pub offset: SiteOffset,
    pub clock: Clock,
}

/// The task that owns the engine.
pub struct Writer {
    store: Store,
    shared: Shared,
    settings: WriterSettings,
    /// When this process started: the watchdog's countdown starts no earlier.
    started: Timestamp,
    /// Door events with `ts` at or after this are in the engine's memory.
    loaded_since: Timestamp,
    /// A commit failed: the engine may hold what the store does not.
    needs_restore: bool,
    last_prune: std::time::Instant,
    /// A command held back to start the next batch (an inventory change runs alone).
    held: Option<Command>,
}

/// A post-commit effect: metrics and the live feed move only for what was stored.
enum After {
    Notify(&'static str, String),
    DoorEvent(&'static str, bool),
    Status(&'static str),
    Login(bool),
    Verdict(&'static str),
    VerdictChange(&'static str),
    DeadLetter(String),
    Inventory(Box<Inventory>),
}

/// Rows of one batch, written in phase 3.
#[derive(Default)]
struct Rows {
    statuses: Vec<(StatusChange, &'static str, Timestamp)>,
    outages: Vec<(DoorId, Outage, OutageCause, String, Timestamp)>,
    logins: Vec<StoredLogin>,
    updates: Vec<UpdateRow>,
    rollups: RollupDelta,
    heartbeats: Vec<(DoorId, Timestamp)>,
    dead_letters: Vec<DeadLetter>,
    marks: Vec<(String, Timestamp)>,
    inventory: Option<(Inventory, Vec<InventoryChange>, String)>,
}

impl Rows {
    fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.outages.is_empty()
            && self.logins.is_empty()
            && self.updates.is_empty()
            && self.rollups.is_empty()
            && self.heartbeats.is_empty()
            && self.dead_letters.is_empty()
            && self.marks.is_empty()
            && self.inventory.is_none()
    }
}

impl Writer {
    /// Restores the engine from the store (see [`Writer::restore`]) and returns the
    /// writer, ready to [`run`](Writer::run).
    pub async fn start(
        store: Store,
        shared: Shared,
        settings: WriterSettings,
    ) -> Result<Writer, StoreError> {
        let started = settings.clock.now();
        let mut w = Writer {
            store,
            shared,
            settings,
            started,
            loaded_since: started,
            needs_restore: false,
            last_prune: std::time::Instant::now(),
            held: None,
        };
        w.ensure_rollups().await?;
        w.restore().await?;
        Ok(w)
    }

    /// Builds the rollups from the logins when they are missing or were built for another
    /// site offset.
    async fn ensure_rollups(&self) -> Result<(), StoreError> {
        let offset = self.settings.offset;
        if self.store.rollup_offset().await? != Some(i64::from(offset.seconds())) {
            let started = std::time::Instant::now();
            let n = self.store.rebuild_rollups(offset).await?;
            tracing::info!(logins = n, took = ?started.elapsed(), %offset, "day rollups rebuilt from the stored logins");
        }
        Ok(())
    }

    fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// Loads the inventory, replays what the engine's memory needs — door facts of the
    /// last [`MEMORY_HORIZON`] (or further back, as far as the oldest pending login
    /// needs), each door's last status before that, the outages that reach into it — and
    /// the pending logins into a fresh engine; persists every verdict this changes or
    /// finalises; reads each door's activity.
    pub async fn restore(&mut self) -> Result<(), StoreError> {
        let store = &self.store;
        let inventory = store
            .load_inventory()
            .await?
            .with_offset(self.settings.offset);
        let now = self.now();
        let mut engine = Engine::new(inventory.clone(), self.settings.grace);
        let pending = store.pending_logins().await?;
        let oldest_needed = pending
            .iter()
            .map(|p| p.login.ts.saturating_sub(engine.lookback()))
            .min();
        let loaded_since = now
            .saturating_sub(MEMORY_HORIZON)
            .min(oldest_needed.unwrap_or(Timestamp::MAX));
        let events = store.door_events_since(loaded_since).await?;
        for e in &events {
            engine.record_door_event(e, now);
        }
        for s in store.statuses_since(loaded_since).await? {
            engine.record_status(&s, now);
        }
        for (door, o) in store.outages_since(loaded_since).await? {
            engine.record_outage(&door, o, now);
        }
        let mut rows = Rows::default();
        let restored = pending.len();
        for p in pending {
            let id = p.login.event_id.clone();
            let (login, ts) = (p.login.clone(), p.login.ts);
            let (verdict, is_final) = engine.submit_login(p.login, p.received_at, now);
            if verdict != p.verdict || is_final {
                let day = self.settings.offset.day_of(ts).number();
                if verdict != p.verdict {
                    rows.rollups.add(&login, day, &p.verdict, -1);
                    rows.rollups.add(&login, day, &verdict, 1);
                }
                rows.updates.push(UpdateRow {
                    update: VerdictUpdate {
                        event_id: id,
                        verdict,
                        is_final,
                        previous: p.verdict,
                    },
                    cause: "restart".into(),
                });
            }
        }
        if !rows.is_empty() {
            let mut tx = store.begin_write().await?;
            tx.apply_updates(&rows.updates, now).await?;
            tx.add_rollups(&rows.rollups).await?;
            tx.commit().await?;
        }
        let activity = store
            .door_activity(now)
            .await?
            .into_iter()
            .filter_map(|(door, a)| DoorId::parse(&door).ok().map(|d| (d, a)))
            .collect();
        tracing::info!(
            restored,
            changed = rows.updates.len(),
            facts = engine.timeline().len(),
            "engine restored from the store"
        );
        self.shared
            .metrics
            .pending_verdicts
            .set(engine.pending_count() as i64);
        *self.shared.engine.write().await = engine;
        self.shared.set_inventory(inventory);
        match self.shared.activity.lock() {
            Ok(mut g) => *g = activity,
            Err(p) => *p.into_inner() = activity,
        }
        self.loaded_since = loaded_since;
        self.needs_restore = false;
        Ok(())
    }

    /// Runs until `cancel` fires, then stores what is still queued and returns. Spawn it
    /// with its receiver from [`channel`].
    pub async fn run(mut self, mut rx: mpsc::Receiver<Command>, cancel: CancellationToken) {
        loop {
            let wait = self.next_wake().await;
            let first = match self.held.take() {
                Some(c) => Some(c),
                None => tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break,
                    c = rx.recv() => match c {
                        Some(c) => Some(c),
                        None => break,
                    },
                    _ = tokio::time::sleep(wait) => None,
                },
            };
            let batch = self.gather(first, &mut rx);
            self.process(batch).await;
        }
        // Stopping: store what was sent before the stop, so nothing a sender waits for is
        // lost; later senders get `Stopped`.
        rx.close();
        loop {
            let first = match self.held.take() {
                Some(c) => c,
                None => match rx.try_recv() {
                    Ok(c) => c,
                    Err(_) => break,
                },
            };
            let batch = self.gather(Some(first), &mut rx);
            self.process(batch).await;
        }
        tracing::info!("writer stopped");
    }

    /// The batch: `first` and whatever else is queued, up to [`MAX_BATCH`] inputs; an
    /// inventory change is a batch of its own.
    fn gather(&mut self, first: Option<Command>, rx: &mut mpsc::Receiver<Command>) -> Vec<Command> {
        let Some(first) = first else {
            return Vec::new();
        };
        let alone = |c: &Command| {
            c.inputs
                .iter()
                .any(|i| matches!(i, Input::Inventory { .. }))
        };
        let mut n = first.inputs.len();
        let first_alone = alone(&first);
        let mut batch = vec![first];
        if first_alone {
            return batch;
        }
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(c) if alone(&c) => {
                    self.held = Some(c);
                    break;
                }
                Ok(c) => {
                    n += c.inputs.len();
                    batch.push(c);
                }
                Err(_) => break,
            }
        }
        batch
    }

    async fn next_wake(&self) -> std::time::Duration {
        let next = self.shared.engine.read().await.next_deadline();
        match next {
            Some(t) => {
                let ms = t
                    .as_millis()
                    .saturating_sub(self.now().as_millis())
                    .clamp(1, 1000);
                std::time::Duration::from_millis(ms as u64)
            }
            None => TICK,
        }
    }

    /// Applies a batch (possibly empty: a tick) and answers its commands.
    async fn process(&mut self, batch: Vec<Command>) {
        if self.needs_restore {
            if let Err(e) = self.restore().await {
                tracing::error!(error = %e, "the store is still failing; the engine waits to be restored");
                answer_all(batch, Err(WriteError::from(&e)));
                return;
            }
        }
        if self.last_prune.elapsed() >= PRUNE_EVERY {
            self.prune().await;
        }
        let inputs: Vec<&Input> = batch.iter().flat_map(|c| c.inputs.iter()).collect();
        let started = std::time::Instant::now();
        match self.apply(&inputs).await {
            Ok((results, after)) => {
                if !inputs.is_empty() {
                    let m = &self.shared.metrics;
                    m.batch_inputs.observe(inputs.len() as f64);
                    m.batch_seconds.observe(started.elapsed().as_secs_f64());
                }
                self.after_commit(after);
                let mut results = results.into_iter();
                for c in batch {
                    let n = c.inputs.len();
                    let mine: Vec<_> = results.by_ref().take(n).collect();
                    let _ = c.reply.send(Ok(mine));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, commands = batch.len(), "batch not stored");
                self.needs_restore = true;
                if batch.len() <= 1 || e.is_unavailable() {
                    answer_all(batch, Err(WriteError::from(&e)));
                    return;
                }
                // One command at a time, so one bad input fails only its own command.
                for c in batch {
                    Box::pin(self.process(vec![c])).await;
                }
            }
        }
    }

    /// Forgets in-memory facts older than the horizon, but none that a pending login
    /// still needs.
    async fn prune(&mut self) {
        self.last_prune = std::time::Instant::now();
        let mut engine = self.shared.engine.write().await;
        let mut before = self.now().saturating_sub(MEMORY_HORIZON);
        if let Some(oldest) = engine.oldest_pending_ts() {
            before = before.min(oldest.saturating_sub(engine.lookback()));
        }
        if before > self.loaded_since {
            engine.prune(before);
            self.loaded_since = before;
        }
    }

    fn after_commit(&self, after: Vec<After>) {
        /// A counter of the metrics, with its labels.
        #[derive(PartialEq, Eq, Hash)]
        enum Counter {
            Door(&'static str, &'static str),
            Status(&'static str),
            Login(&'static str),
            Verdict(&'static str),
            Change(&'static str),
            DeadLetter(String),
        }
        let result = |new: bool| if new { "new" } else { "duplicate" };
        // Counters are added up over the batch: one label lookup per counter, not per
        // input.
        let mut counts: HashMap<Counter, u64> = HashMap::new();
        for a in after {
            let counter = match a {
                After::Notify(kind, id) => {
                    self.shared.notify(kind, id);
                    continue;
                }
                After::Inventory(inv) => {
                    self.shared.set_inventory(*inv);
                    continue;
                }
                After::DoorEvent(source, new) => Counter::Door(source, result(new)),
                After::Status(source) => Counter::Status(source),
                After::Login(new) => Counter::Login(result(new)),
                After::Verdict(kind) => Counter::Verdict(kind),
                After::VerdictChange(kind) => Counter::Change(kind),
                After::DeadLetter(source) => Counter::DeadLetter(source),
            };
            *counts.entry(counter).or_default() += 1;
        }
        let m = &self.shared.metrics;
        for (counter, n) in counts {
            match counter {
                Counter::Door(source, result) => m.door_events(source, result, n),
                Counter::Status(source) => m.status_changes(source, n),
                Counter::Login(result) => m.logins(result, n),
                Counter::Verdict(kind) => m.verdicts(kind, n),
                Counter::Change(kind) => m.verdict_changes(kind, n),
                Counter::DeadLetter(source) => m.dead_letters(&source, n),
            }
        }
    }

    /// Phases 1–3 of the module docs, then the commit.
    async fn apply(
        &mut self,
        inputs: &[&Input],
    ) -> Result<(Vec<Result<Done, Refused>>, Vec<After>), StoreError> {
        let now = self.now();
        let mut inv = self.shared.inventory();
        let offset = self.settings.offset;

        // ---- phase 1: what the store already holds ------------------------------------
        // Door facts older than memory that an old login needs.
        let lookback = self.shared.engine.read().await.lookback();
        let needed = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Login { login, .. } if inv.system(&login.system).is_some() => {
                    Some(login.ts.saturating_sub(lookback))
                }
                _ => None,
            })
            .min();
        let older = match needed.filter(|n| *n < self.loaded_since) {
            Some(since) => Some((
                since,
                self.store
                    .door_events_between(since, self.loaded_since)
                    .await?,
                self.store.statuses().await?,
                self.store.outages().await?,
            )),
            None => None,
        };
        let mut tx = None;
        let mut seen = HashSet::new();
        let door_rows: Vec<(&DoorEvent, &str, Timestamp)> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::DoorEvent { event, source }
                    if inv.door(&event.door).is_some()
                        && seen.insert((event.door.as_str(), event.event_id.as_str())) =>
                {
                    Some((event, *source, now))
                }
                _ => None,
            })
            .collect();
        let mut new_events = HashSet::new();
        if !door_rows.is_empty() {
            let t = tx.insert(self.store.begin_write().await?);
            new_events = t.insert_door_events(&door_rows).await?;
        }
        let login_ids: Vec<&str> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Login { login, .. } => Some(login.event_id.as_str()),
                _ => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut existing = HashMap::new();
        if !login_ids.is_empty() {
            if tx.is_none() {
                tx = Some(self.store.begin_write().await?);
            }
            if let Some(t) = tx.as_mut() {
                existing = t.logins_by_id(&login_ids).await?;
            }
        }
        // Step-ups of new logins, consumed in this transaction.
        let mut step_up_refused: HashSet<&str> = HashSet::new();
        let mut consumed: HashSet<&str> = HashSet::new();
        for i in inputs {
            if let Input::Login {
                login,
                step_up: Some(id),
            } = i
            {
                let id_key = login.event_id.as_str();
                if existing.contains_key(id_key) || consumed.contains(id_key) {
                    continue;
                }
                let Some(t) = tx.as_mut() else { continue };
                if t.consume_step_up(id, id_key).await? {
                    consumed.insert(id_key);
                } else {
                    step_up_refused.insert(id_key);
                }
            }
        }

        // ---- phase 2: the engine, in arrival order -------------------------------------
        let mut rows = Rows::default();
        let mut after = Vec::new();
        let mut results = Vec::with_capacity(inputs.len());
        let mut stored_here: HashMap<String, StoredLogin> = HashMap::new();
        let mut stored_events: HashSet<(String, String)> = HashSet::new();
        let pending_count;
        {
            let mut engine = self.shared.engine.write().await;
            let due = engine.finalize_due(now);
            push_updates(&mut rows, &mut after, due, "final");
            if let Some((since, events, statuses, outages)) = older {
                tracing::info!(count = events.len(), since = %since, "loading older door events for an old login");
                let mut ups = Vec::new();
                for e in &events {
                    ups.extend(engine.record_door_event(e, now));
                }
                // Pruning compacts status history; bring it back whole (recording is
                // idempotent).
                for s in &statuses {
                    ups.extend(engine.record_status(s, now));
                }
                for (door, o) in outages {
                    ups.extend(engine.record_outage(&door, o, now));
                }
                self.tally_changes(&engine, &ups, &mut rows);
                push_updates(&mut rows, &mut after, ups, "older facts loaded");
                self.loaded_since = since;
            }
            for input in inputs {
                let result = match input {
                    Input::DoorEvent { event, source } => {
                        if inv.door(&event.door).is_none() {
                            Err(Refused::UnknownDoor(event.door.to_string()))
                        } else {
                            let key = (event.door.to_string(), event.event_id.clone());
                            let new = new_events.contains(&key) && stored_events.insert(key);
                            after.push(After::DoorEvent(source, new));
                            if new {
                                self.shared.with_activity(&event.door, |a| {
                                    a.last_event_at = Some(now);
                                    a.last_event_ts = a.last_event_ts.max(Some(event.ts));
                                });
                                let ups = engine.record_door_event(event, now);
                                self.tally_changes(&engine, &ups, &mut rows);
                                after.push(After::Notify(
                                    "door_event",
                                    format!("{}/{}", event.door, event.event_id),
                                ));
                                let cause = format!("door event {}/{}", event.door, event.event_id);
                                push_updates(&mut rows, &mut after, ups, &cause);
                            }
                            self.heard(
                                &mut engine,
                                &mut rows,
                                &mut after,
                                &event.door,
                                event.ts,
                                now,
                            );
                            Ok(Done::Door(if new {
                                Ingested::New
                            } else {
                                Ingested::Duplicate
                            }))
                        }
                    }
                    Input::Status { change, source } => {
                        if inv.door(&change.door).is_none() {
                            Err(Refused::UnknownDoor(change.door.to_string()))
                        } else {
                            self.status(
                                &mut engine,
                                &mut rows,
                                &mut after,
                                change.clone(),
                                source,
                                now,
                            );
                            Ok(Done::Recorded)
                        }
                    }
                    Input::Outage {
                        doors,
                        outage,
                        cause,
                        reason,
                    } => {
                        for d in doors.iter().filter(|d| inv.door(d).is_some()) {
                            rows.outages
                                .push((d.clone(), *outage, *cause, reason.clone(), now));
                            let ups = engine.record_outage(d, *outage, now);
                            self.tally_changes(&engine, &ups, &mut rows);
                            push_updates(&mut rows, &mut after, ups, reason);
                            self.shared
                                .with_activity(d, |a| a.record_outage(*cause, *outage));
                        }
                        after.push(After::Notify("outage", reason.clone()));
                        Ok(Done::Recorded)
                    }
                    Input::Heartbeat { door, ts } => {
                        if inv.door(door).is_none() {
                            Err(Refused::UnknownDoor(door.to_string()))
                        } else {
                            let ts = (*ts).min(now);
                            let persist = self.shared.with_activity(door, |a| {
                                a.last_heartbeat_at = a.last_heartbeat_at.max(Some(ts));
                                let due = a.heartbeat_persisted_at.is_none_or(|p| {
                                    ts.as_millis() - p.as_millis()
                                        >= HEARTBEAT_PERSIST_EVERY.as_millis()
                                }) || a.silent_since.is_some();
                                if due {
                                    a.heartbeat_persisted_at = Some(ts);
                                }
                                due
                            });
                            if persist {
                                rows.heartbeats.push((door.clone(), ts));
                            }
                            self.heard(&mut engine, &mut rows, &mut after, door, ts, now);
                            Ok(Done::Recorded)
                        }
                    }
                    Input::DeadLetter(letter) => {
                        if let Some(door) = &letter.door {
                            self.shared.with_activity(door, |a| a.dead_letters += 1);
                        }
                        tracing::warn!(source = %letter.source, origin = %letter.origin, reason = %letter.reason, "dead letter");
                        after.push(After::DeadLetter(letter.source.clone()));
                        after.push(After::Notify("dead_letter", letter.origin.clone()));
                        rows.dead_letters.push(letter.clone());
                        Ok(Done::Recorded)
                    }
                    Input::Login { login, step_up } => {
                        let id = login.event_id.as_str();
                        if inv.system(&login.system).is_none() {
                            Err(Refused::UnknownSystem(login.system.to_string()))
                        } else if let Some(s) = existing.get(id).or_else(|| stored_here.get(id)) {
                            if s.login.system != login.system {
                                Err(Refused::EventIdConflict(id.to_string()))
                            } else {
                                after.push(After::Login(false));
                                Ok(Done::Login {
                                    stored: Box::new(s.clone()),
                                    new: false,
                                })
                            }
                        } else if step_up.is_some() && step_up_refused.contains(id) {
                            Err(Refused::StepUpUsed(step_up.clone().unwrap_or_default()))
                        } else {
                            let (verdict, is_final) = engine.submit_login(login.clone(), now, now);
                            let stored = StoredLogin {
                                login: login.clone(),
                                received_at: now,
                                final_at: monban_core::verdict::final_at(now, engine.grace()),
                                verdict,
                                is_final,
                            };
                            rows.rollups.add(
                                login,
                                offset.day_of(login.ts).number(),
                                &stored.verdict,
                                1,
                            );
                            after.push(After::Login(true));
                            after.push(After::Verdict(stored.verdict.kind.as_str()));
                            after.push(After::Notify("login", login.event_id.clone()));
                            stored_here.insert(id.to_string(), stored.clone());
                            rows.logins.push(stored.clone());
                            Ok(Done::Login {
                                stored: Box::new(stored),
                                new: true,
                            })
                        }
                    }
                    Input::Inventory { new, changes, who } => {
                        // An edited inventory keeps the site's calendar.
                        let new = &Box::new((**new).clone().with_offset(self.settings.offset));
                        let ups = engine.set_inventory((**new).clone(), now);
                        self.tally_changes(&engine, &ups, &mut rows);
                        push_updates(&mut rows, &mut after, ups, "inventory");
                        inv = Arc::new((**new).clone());
                        rows.inventory = Some(((**new).clone(), changes.clone(), who.clone()));
                        after.push(After::Inventory(new.clone()));
                        after.push(After::Notify("inventory", String::new()));
                        Ok(Done::Recorded)
                    }
                    Input::ConnectorUp { name, at } => {
                        rows.marks.push((name.clone(), *at));
                        Ok(Done::Recorded)
                    }
                };
                results.push(result);
            }
            self.watchdog(&mut engine, &mut rows, &mut after, now);
            pending_count = engine.pending_count();
        }
        self.shared
            .metrics
            .pending_verdicts
            .set(pending_count as i64);

        // ---- phase 3: write and commit --------------------------------------------------
        if rows.is_empty() && tx.is_none() {
            return Ok((results, after));
        }
        let mut tx = match tx {
            Some(t) => t,
            None => self.store.begin_write().await?,
        };
        if let Some((new, changes, who)) = &rows.inventory {
            tx.save_edited_inventory(new, changes, who, now).await?;
        }
        tx.insert_statuses(&rows.statuses).await?;
        tx.insert_outages(&rows.outages).await?;
        tx.insert_logins(&rows.logins, now).await?;
        tx.apply_updates(&rows.updates, now).await?;
        tx.add_rollups(&rows.rollups).await?;
        tx.upsert_heartbeats(&rows.heartbeats).await?;
        tx.insert_dead_letters(&rows.dead_letters).await?;
        for (name, at) in &rows.marks {
            tx.mark_connector_up(name, *at).await?;
        }
        tx.commit().await?;
        Ok((results, after))
    }

    /// The rollups move with every verdict that changed (not with one that only became
    /// final).
    fn tally_changes(&self, engine: &Engine, updates: &[VerdictUpdate], rows: &mut Rows) {
        for u in updates.iter().filter(|u| u.changed()) {
            if let Some(login) = engine.pending_login(&u.event_id) {
                let day = self.settings.offset.day_of(login.ts).number();
                rows.rollups.add(login, day, &u.previous, -1);
                rows.rollups.add(login, day, &u.verdict, 1);
            }
        }
    }

    /// Records a status change: in the engine, the store and the door's activity.
    fn status(
        &self,
        engine: &mut Engine,
        rows: &mut Rows,
        after: &mut Vec<After>,
        change: StatusChange,
        source: &'static str,
        now: Timestamp,
    ) {
        let ups = engine.record_status(&change, now);
        self.tally_changes(engine, &ups, rows);
        let cause = format!("door {} {}", change.door, change.status.as_str());
        push_updates(rows, after, ups, &cause);
        self.shared
            .with_activity(&change.door, |a| a.record_status(&change, source, now));
        after.push(After::Status(source));
        after.push(After::Notify("door_status", change.door.to_string()));
        rows.statuses.push((change, source, now));
    }

    /// A sign of life of `door` at `t`: ends a watchdog offline period that started
    /// before `t` by recording `online` at `t`.
    fn heard(
        &self,
        engine: &mut Engine,
        rows: &mut Rows,
        after: &mut Vec<After>,
        door: &DoorId,
        t: Timestamp,
        now: Timestamp,
    ) {
        let t = t.min(now);
        let revive = self.shared.with_activity(door, |a| {
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
            self.status(engine, rows, after, change, WATCHDOG, now);
        }
    }

    /// The watchdog (`monban_core::health::watchdog`): records every door whose heartbeat
    /// timeout ran out `offline` from its last sign of life.
    fn watchdog(
        &self,
        engine: &mut Engine,
        rows: &mut Rows,
        after: &mut Vec<After>,
        now: Timestamp,
    ) {
        let inv = self.shared.inventory();
        if inv.doors().iter().all(|d| d.heartbeat_timeout.is_none()) {
            return;
        }
        let changes = {
            let activity = match self.shared.activity.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            monban_core::health::watchdog(inv.doors(), &activity, self.started, now)
        };
        for change in changes {
            let timeout = inv
                .door(&change.door)
                .and_then(|d| d.heartbeat_timeout)
                .map(|t| t.as_std())
                .unwrap_or_default();
            tracing::warn!(door = %change.door, since = %change.ts, timeout = ?timeout, "no sign of life within the heartbeat timeout: door offline");
            self.status(engine, rows, after, change, WATCHDOG, now);
        }
    }
}

/// Queues verdict updates for the store and their metrics and live events.
fn push_updates(rows: &mut Rows, after: &mut Vec<After>, ups: Vec<VerdictUpdate>, cause: &str) {
    for u in ups {
        if u.is_final {
            after.push(After::Notify("final", u.event_id.clone()));
        } else {
            after.push(After::VerdictChange(u.verdict.kind.as_str()));
            after.push(After::Notify("verdict", u.event_id.clone()));
        }
        rows.updates.push(UpdateRow {
            update: u,
            cause: cause.to_string(),
        });
    }
}

fn answer_all(batch: Vec<Command>, reply: Reply) {
    for c in batch {
        let _ = c.reply.send(reply.clone());
    }
}

/// A writer's queue: the handle for senders and the receiver for [`Writer::run`].
pub fn channel() -> (WriterHandle, mpsc::Receiver<Command>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (WriterHandle { tx }, rx)
}
