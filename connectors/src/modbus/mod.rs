//! # The Modbus TCP connector (CONTRACT §6, profile `monban-door-v1`)
//!
//! One task per device: the hub is the Modbus client (tokio-modbus) and polls. Call
//! [`run`] and keep the future alive; it returns when the cancellation token fires.
//!
//! # Layout
//! - [`codec`] — pure: poll plans (which slots, in requests of at most 125 registers),
//!   slot registers → [`DoorEvent`](monban_core::DoorEvent) or a dead letter, discrete
//!   input edges → events.
//! - `driver` — the loop: connect, poll, hand to the sink, back off and reconnect.
//!
//! # One poll
//!
//! 1. Discrete inputs 0..2 (contact, tamper) → `door_opened` / `door_closed` / `tamper`
//!    on edges and `door_held_open` once per open period longer than
//!    [`ModbusDevice::held_open_after`]; their `ts` is the hub's time of the poll.
//! 2. Input registers 0..2: the profile version (must be 1, else the device is
//!    misconfigured: a dead letter, the door offline, and the connector retries — it
//!    does not guess at another layout) and the newest sequence.
//! 3. The slots between the last sequence taken and the newest ([`codec::plan_poll`]),
//!    each event handed to the sink in sequence order. The last sequence taken advances
//!    only past events the sink stored (or dead-lettered), so a store failure is retried
//!    at the next poll: at least once, and the event ids make repeats harmless.
//!
//! # Event ids, wrap-around, first poll
//!
//! The sequence is a u16 and wraps; an id of the sequence alone would make the event
//! 65536 events later a "duplicate". Ids are `mb-{unix_secs}-{seq}`: re-reading a slot
//! gives the same id, a later event with the same sequence does not.
//!
//! After a start the hub does not know which events it already has, so the first poll
//! takes every slot of the ring that holds its expected sequence (at most 32 events;
//! the store dedupes the ones it had). Slots that do not are not counted as lost: they
//! were never written, or are older than the ring. Reconnects are *not* first polls: the
//! connector follows the sequence across them.
//!
//! # Losses fail closed
//!
//! When the sequence advanced by more than 32 since the last poll, or a slot we need
//! holds another sequence number (overwritten meanwhile, or corrupt), events were lost.
//! The connector calls [`DoorSink::door_outage`] for the door from the last poll that
//! found the ring consistent to this poll, and the hub treats that span like an offline
//! period (CONTRACT §6). The surviving events are still taken.
//!
//! # Connection loss
//!
//! A failed connect, a transport error, a request that takes longer than
//! [`ModbusDevice::timeout`], a malformed response or a device exception ends the
//! connection: the door is reported `offline` from that moment (once per outage), the
//! connector backs off (200 ms doubling to [`ModbusDevice::max_backoff`], jittered) and
//! reconnects; the first successful poll reports `online` at its time. A store failure
//! also reconnects but says nothing about the door. tokio-modbus has no timeouts of its
//! own, and after a timed-out request a late answer could be taken for the next one, so
//! a timeout always drops the connection.
//!
//! # Health
//!
//! `connector_state("modbus:{door}", …)`: `Connecting` before the first attempt,
//! `Connected` after a successful poll, `Disconnected { since, error }` on a failure
//! (`since` stays put while retrying). Reported only on change.

pub mod codec;
mod driver;

use crate::sink::{DoorSink, SinkError};
use monban_core::DoorId;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A Modbus TCP device speaking `monban-door-v1` for one door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModbusDevice {
    pub door: DoorId,
    /// `host:port`, resolved again at each connection attempt.
    pub address: String,
    /// The Modbus unit (slave) id.
    pub unit: u8,
    /// Time between polls (at least 10 ms is used).
    pub poll: Duration,
    /// A contact open longer than this gives one `door_held_open`.
    pub held_open_after: Duration,
    /// Longest wait for a connect or an answer before the connection counts as lost.
    pub timeout: Duration,
    /// The cap of the reconnect backoff (it starts at 200 ms).
    pub max_backoff: Duration,
}

impl ModbusDevice {
    /// A device with `held_open_after` 30 s, `timeout` 2 s and a 30 s backoff cap.
    pub fn new(door: DoorId, address: impl Into<String>, unit: u8, poll: Duration) -> Self {
        ModbusDevice {
            door,
            address: address.into(),
            unit,
            poll,
            held_open_after: Duration::from_secs(30),
            timeout: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
        }
    }

    /// The name under which the connector reports its state.
    pub fn connector_name(&self) -> String {
        format!("modbus:{}", self.door)
    }
}

/// Why a connection to the device ended. Transport, protocol, device exceptions, device
/// configuration and store failures are kept apart; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum ModbusError {
    /// The address did not resolve, the connect was refused, the socket dropped.
    #[error("transport: {0}")]
    Transport(#[from] std::io::Error),
    /// No answer within the timeout.
    #[error("timeout: no answer to {0} within {1:?}")]
    Timeout(&'static str, Duration),
    /// An answer that does not fit the request (tokio-modbus' header or function code
    /// checks, or a wrong number of values).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The device answered with a Modbus exception.
    #[error("device exception to {request}: {code}")]
    Exception {
        request: &'static str,
        code: tokio_modbus::ExceptionCode,
    },
    /// The device does not speak `monban-door-v1`.
    #[error("misconfigured device: {0}")]
    Misconfigured(String),
    /// The sink could not store; the events are read again at the next poll.
    #[error("store: {0}")]
    Store(#[from] SinkError),
}

impl ModbusError {
    /// Whether this says the door may be unobserved (everything but a store failure).
    pub fn door_unobserved(&self) -> bool {
        !matches!(self, ModbusError::Store(_))
    }
}

/// Polls `device` until `cancel` fires, reconnecting forever with backoff, and hands
/// what it reads to `sink`.
pub async fn run(device: ModbusDevice, sink: Arc<dyn DoorSink>, cancel: CancellationToken) {
    driver::Driver::new(device, sink, cancel).run().await;
}
