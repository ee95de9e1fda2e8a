//! The port connectors deliver into. The server implements [`DoorSink`]; tests use an
//! in-memory one.

use async_trait::async_trait;
use monban_core::health::OutageCause;
use monban_core::{DoorEvent, DoorId, StatusChange, Timestamp};

/// Result of handing an event to the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored for the first time.
    New,
    /// Already stored (same door and `event_id`): nothing changed.
    Duplicate,
    /// Refused by the hub (e.g. a door that is not in the inventory) and kept as a dead
    /// letter: handled, so the message may be acknowledged.
    DeadLettered,
}

/// The sink could not store: the connector must NOT acknowledge the message, so the
/// broker redelivers it.
#[derive(Debug, thiserror::Error)]
#[error("sink failed: {0}")]
pub struct SinkError(pub String);

/// A payload the hub could not use, kept so an officer can see it (CONTRACT §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Where it came from, e.g. `mqtt`.
    pub source: String,
    /// Topic, register range or URL path.
    pub origin: String,
    /// The door it concerns, when the connector knows (a Modbus device's door, a topic
    /// that names a door); counted in that door's health.
    pub door: Option<DoorId>,
    /// The raw payload (lossy UTF-8 is fine for display; the bytes are kept).
    pub payload: Vec<u8>,
    /// What is wrong, in words.
    pub reason: String,
    pub received_at: Timestamp,
}

/// The health of a connector, for `/metrics` and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorState {
    Connecting,
    Connected,
    /// Lost the connection at `since`; `error` says why.
    Disconnected {
        since: Timestamp,
        error: String,
    },
}

impl ConnectorState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ConnectorState::Connecting => "connecting",
            ConnectorState::Connected => "connected",
            ConnectorState::Disconnected { .. } => "disconnected",
        }
    }
}

/// One thing a connector hands to the hub (see [`DoorSink::deliver`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkItem {
    /// A door event, with the payload it came from (kept if the hub dead-letters it).
    Event {
        event: DoorEvent,
        raw: Vec<u8>,
    },
    Status {
        change: StatusChange,
        raw: Vec<u8>,
    },
    Heartbeat {
        door: DoorId,
        ts: Timestamp,
    },
    DeadLetter(DeadLetter),
}

#[async_trait]
pub trait DoorSink: Send + Sync + 'static {
    /// Stores a batch of items — the outputs of several messages — as one unit, in
    /// order: after `Ok` every item is durable and the connector may acknowledge every
    /// message the batch came from; after `Err` none may be acknowledged (what was
    /// stored already is a duplicate when the broker delivers it again). The answer has
    /// one [`Ingested`] per item (`New` for what is not an event).
    ///
    /// The provided implementation hands the items to the single-item methods one by
    /// one; the hub overrides it to commit the whole batch in one transaction.
    async fn deliver(&self, items: Vec<SinkItem>) -> Result<Vec<Ingested>, SinkError> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                SinkItem::Event { event, raw } => self.door_event(event, &raw).await?,
                SinkItem::Status { change, raw } => {
                    self.door_status(change, &raw).await?;
                    Ingested::New
                }
                SinkItem::Heartbeat { door, ts } => {
                    self.heartbeat(&door, ts).await?;
                    Ingested::New
                }
                SinkItem::DeadLetter(letter) => {
                    self.dead_letter(letter).await?;
                    Ingested::New
                }
            });
        }
        Ok(out)
    }

    /// Stores a door event and feeds the engine. Only after `Ok` may the message be
    /// acknowledged.
    async fn door_event(&self, event: DoorEvent, raw: &[u8]) -> Result<Ingested, SinkError>;
    /// Stores a door status change (status topic, last will).
    /// `raw` is the payload as received, kept if the hub dead-letters the change (e.g.
    /// for a door that is not in the inventory).
    async fn door_status(&self, change: StatusChange, raw: &[u8]) -> Result<(), SinkError>;
    /// The controller of `door` said it is alive at `ts` (a heartbeat message, a
    /// successful poll). Any event or status counts as a sign of life too; this is for
    /// messages that carry nothing else. The hub keeps the time for the door's health and
    /// its heartbeat timeout.
    async fn heartbeat(&self, door: &DoorId, ts: Timestamp) -> Result<(), SinkError>;
    /// Keeps a payload that could not be used.
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError>;
    /// The connector's state changed. `name` identifies the connector (e.g. `mqtt`).
    async fn connector_state(&self, name: &str, state: ConnectorState);
    /// The connector was blind from `from` to `to` and may have missed messages (the
    /// broker did not keep our session): the hub treats every door fed by this connector
    /// as offline for that period (fail closed).
    async fn blind_period(&self, name: &str, from: Timestamp, to: Timestamp);
    /// The first connection of this process found no session at the broker for our
    /// client id, and messages flow since `at`. The connector cannot tell whether that
    /// is a first start or a session lost while the hub was down (a broker restarted
    /// without persistence): the hub, which remembers when it was last connected, decides
    /// whether the span since then was blind.
    async fn fresh_session(&self, name: &str, at: Timestamp);
    /// Events of `door` from `from` to `to` may have been lost (a Modbus ring overrun,
    /// CONTRACT §6): the hub treats the span like an offline period of that door (fail
    /// closed). `cause` classifies it (stored as its code); `reason` says why in words,
    /// for the record.
    async fn door_outage(
        &self,
        door: &DoorId,
        from: Timestamp,
        to: Timestamp,
        cause: OutageCause,
        reason: &str,
    );
    /// The current time (the sink's clock, so tests can control it).
    fn now(&self) -> Timestamp;
}
