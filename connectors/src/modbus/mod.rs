//! # The Modbus connector (CONTRACT §6, profile `monban-door-v1`), TCP and RTU
//!
//! One task per device: the hub is the Modbus client (tokio-modbus) and polls. Call
//! [`run`] and keep the future alive; it returns when the cancellation token fires.
//!
//! A device is reached over Modbus TCP (`host:port`) or Modbus RTU on a serial line
//! ([`Transport`]; the port is opened with tokio-serial, without libudev). Only opening
//! the connection differs: polling, restart detection, offline on loss and backoff are
//! the same code for both. One serial line carries one device here: the port is opened
//! exclusively, so several units on one RS-485 bus are not supported (the server's
//! configuration refuses a serial port named twice).
//!
//! # Layout
//! - [`codec`] — pure: poll plans (which slots, in requests of at most 125 registers),
//!   slot registers → [`DoorEvent`](monban_core::DoorEvent) or a dead letter, discrete
//!   input edges → events.
//! - `driver` — the loop: connect (TCP, or open the serial port and attach the RTU
//!   client), poll, hand to the sink, back off and reconnect.
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
//! 65536 events later a "duplicate". Ids are `mb-{unix_secs}-{seq}-{digest}`, the digest
//! taken over the slot's registers ([`codec::event_id`]): re-reading a slot gives the
//! same id, a later event with the same sequence does not, nor does another event at
//! the same sequence and second after a device restart.
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
//! period (CONTRACT §6). The surviving events are still taken. "The last poll that
//! found the ring consistent" is taken at that poll's *start*: events written while its
//! reads were on the wire are inside the gap.
//!
//! # Device restarts
//!
//! A device that restarts (power cut, firmware update) starts its sequence again, and
//! if the new sequence happens to be a little above the last one taken, the sequence
//! alone cannot show that events were missed. So the connector keeps a mirror of every
//! slot it read, and after every reconnect the first poll reads the whole ring and
//! compares the slots the device had no reason to write (the sequences up to the last
//! one taken that a newer event has not overwritten, [`codec::restart_evident`]). Any
//! difference means the device restarted or reset its ring: the whole ring is taken
//! again (ids make repeats harmless) and the span from the last consistent poll to now
//! is recorded as an outage (fail closed). A restart that rewrites every one of those
//! slots byte for byte cannot be told apart; nor can one that leaves the ring intact
//! (then nothing was lost from it).
//!
//! # Connection loss
//!
//! A failed connect (for RTU: the serial port cannot be opened), a transport error (for
//! RTU also the other end of the line hanging up), a request that takes longer than
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
//! Every fully answered poll is reported as the door's heartbeat
//! ([`DoorSink::heartbeat`]).
//!
//! Dead letters name their origin under [`ModbusDevice::endpoint`]:
//! `modbus://{host:port}/{unit}/…` or `modbus-rtu://{path}/{unit}/…`.
//!
//! `connector_state("modbus:{door}", …)` for both transports (the hub finds a door's
//! connector by that name): `Connecting` before the first attempt,
//! `Connected` after a successful poll, `Disconnected { since, error }` on a failure
//! (`since` stays put while retrying). Reported only on change.

pub mod codec;
mod driver;

use crate::sink::{DoorSink, SinkError};
use monban_core::DoorId;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How the device is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Modbus TCP: `host:port`, resolved again at each connection attempt.
    Tcp { address: String },
    /// Modbus RTU on a serial line, opened again at each connection attempt.
    Rtu(SerialLine),
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Tcp { address } => f.write_str(address),
            Transport::Rtu(line) => write!(f, "{} (RTU)", line.path),
        }
    }
}

/// A serial port's settings for Modbus RTU (8 data bits, no flow control).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialLine {
    /// The device path, e.g. `/dev/ttyUSB0`.
    pub path: String,
    pub baud: u32,
    pub parity: Parity,
    pub stop_bits: StopBits,
}

impl SerialLine {
    /// `path` at `baud`, no parity, one stop bit.
    pub fn new(path: impl Into<String>, baud: u32) -> Self {
        SerialLine {
            path: path.into(),
            baud,
            parity: Parity::None,
            stop_bits: StopBits::One,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    None,
    Even,
    Odd,
}

impl std::str::FromStr for Parity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Parity::None),
            "even" => Ok(Parity::Even),
            "odd" => Ok(Parity::Odd),
            _ => Err(format!("parity {s:?} must be none, even or odd")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopBits {
    One,
    Two,
}

/// A Modbus device speaking `monban-door-v1` for one door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModbusDevice {
    pub door: DoorId,
    pub transport: Transport,
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
    /// A Modbus TCP device at `address` (`host:port`) with `held_open_after` 30 s,
    /// `timeout` 2 s and a 30 s backoff cap.
    pub fn new(door: DoorId, address: impl Into<String>, unit: u8, poll: Duration) -> Self {
        Self::with_transport(
            door,
            Transport::Tcp {
                address: address.into(),
            },
            unit,
            poll,
        )
    }

    /// A Modbus RTU device on `line`, with the same defaults as [`ModbusDevice::new`].
    pub fn rtu(door: DoorId, line: SerialLine, unit: u8, poll: Duration) -> Self {
        Self::with_transport(door, Transport::Rtu(line), unit, poll)
    }

    /// A device reached over `transport`, with the defaults of [`ModbusDevice::new`].
    pub fn with_transport(door: DoorId, transport: Transport, unit: u8, poll: Duration) -> Self {
        ModbusDevice {
            door,
            transport,
            unit,
            poll,
            held_open_after: Duration::from_secs(30),
            timeout: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
        }
    }

    /// The name under which the connector reports its state (`modbus:{door}` for both
    /// transports).
    pub fn connector_name(&self) -> String {
        format!("modbus:{}", self.door)
    }

    /// Where the device is, as dead letters name it: `modbus://{host:port}/{unit}` or
    /// `modbus-rtu://{path}/{unit}`.
    pub fn endpoint(&self) -> String {
        match &self.transport {
            Transport::Tcp { address } => format!("modbus://{address}/{}", self.unit),
            Transport::Rtu(line) => format!("modbus-rtu://{}/{}", line.path, self.unit),
        }
    }
}

/// Why a connection to the device ended. Transport, protocol, device exceptions, device
/// configuration and store failures are kept apart; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum ModbusError {
    /// The address did not resolve, the connect was refused, the socket dropped; the
    /// serial port could not be opened or configured, or the line hung up.
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints_name_the_transport() {
        let door = DoorId::parse("ward3-main").unwrap();
        let poll = Duration::from_millis(500);
        let tcp = ModbusDevice::new(door.clone(), "10.0.0.5:502", 3, poll);
        assert_eq!(tcp.endpoint(), "modbus://10.0.0.5:502/3");
        assert_eq!(tcp.transport.to_string(), "10.0.0.5:502");
        let rtu = ModbusDevice::rtu(door, SerialLine::new("/dev/ttyUSB0", 9600), 1, poll);
        assert_eq!(rtu.endpoint(), "modbus-rtu:///dev/ttyUSB0/1");
        assert_eq!(rtu.transport.to_string(), "/dev/ttyUSB0 (RTU)");
        // The hub finds a door's connector by this name, whatever the transport.
        assert_eq!(rtu.connector_name(), tcp.connector_name());
        assert_eq!(rtu.timeout, Duration::from_secs(2));
    }

    #[test]
    fn parity_parses_the_config_words() {
        assert_eq!("none".parse::<Parity>(), Ok(Parity::None));
        assert_eq!("even".parse::<Parity>(), Ok(Parity::Even));
        assert_eq!("odd".parse::<Parity>(), Ok(Parity::Odd));
        assert!("Even".parse::<Parity>().is_err());
        assert!("mark"
            .parse::<Parity>()
            .unwrap_err()
            .contains("none, even or odd"));
    }
}
