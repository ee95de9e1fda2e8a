//! # monban-connectors — door connectors
//!
//! Each connector is a task that owns its protocol loop, backs off on error, parses
//! payloads at the edge into `monban-core` values and hands them to a [`DoorSink`]
//! (implemented by the server, which stores them and feeds the engine). Codecs are pure
//! functions with their own tests.
//!
//! # Layout
//! - [`sink`] — the [`DoorSink`] port the connectors deliver into, and the records they
//!   deliver (dead letters, connector state).
//! - [`mqtt`] — the MQTT connector (rumqttc): topics of CONTRACT §5, QoS 1, persistent
//!   session, acknowledgement only after the sink has stored the event, blind periods
//!   when the broker lost the session. [`mqtt::codec`] is its pure topic/payload codec;
//!   [`mqtt::mapping`] maps vendor formats (esp-rfid, uhppoted-mqtt, Tasmota, ESPHome,
//!   Shelly, generic) to the same events.
//! - [`modbus`] — the Modbus connector (tokio-modbus client, TCP or RTU on a serial
//!   line): profile `monban-door-v1` of CONTRACT §6, polling, overruns and device
//!   restarts as outages, connection loss as door offline. [`modbus::codec`] is its pure
//!   register codec.

pub mod modbus;
pub mod mqtt;
pub mod sink;

pub use sink::{ConnectorState, DeadLetter, DoorSink, Ingested, SinkError, SinkItem};
