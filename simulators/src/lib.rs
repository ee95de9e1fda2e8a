//! # monban-sim — a hospital day for the monban hub
//!
//! A generated hospital (東京総合病院, site `tokyo-general`) and a realistic day in it,
//! played through the hub's real connectors: door events and door status over MQTT,
//! logins over HTTP. `monban demo` embeds it; testers run the `monban-sim` binary
//! against a hub of their own.
//!
//! # Layout
//! - [`hospital`] — [`hospital::generate`]: rooms, doors, terminals, systems, two
//!   maintenance vendors and thirty-three people (vendor staff and a leaver among them),
//!   deterministic per seed; [`hospital::Hospital::inventory_toml`] renders
//!   CONTRACT §4.
//! - [`schedule`] — the day as pure data: ordinary traffic plus deliberate cases, each
//!   with the verdict the hub must give ([`schedule::Expectation`]), and the day's vendor
//!   maintenance ([`schedule::maintenance`]: requests in every state, their logins and
//!   door events, the decisions the day wants). No clock, no I/O.
//! - [`day`] — the player: [`day::play`] sends a schedule in accelerated time over MQTT
//!   and HTTP and returns a [`day::PlayReport`].
//! - [`load`] — the load generator of `monban-sim load` (docs/BENCHMARKS.md).
//! - [`login`] — one login posted to the hub and its verdict (`monban-sim login`).
//! - [`maintenance`] — the hub's maintenance API (CONTRACT §10) as a small client:
//!   file a request, submit a report, read a request or a login (`monban-sim
//!   maintenance`, the day player, the scenario runner).
//! - [`modbus_device`] — a Modbus TCP door controller speaking `monban-door-v1`
//!   (CONTRACT §6), for `monban-sim modbus-door` and tests.
//! - [`mqtt_door`] — MQTT door controllers in each format the hub ingests (native §5,
//!   esp-rfid, uhppoted-mqtt, Tasmota, ESPHome, Shelly): pure payload encoders and a
//!   device with the vendor's last will and heartbeats, for `monban-sim mqtt-door` and for
//!   vendor-format doors of a scenario.
//! - [`script`] — the line script (`badge card 04A1B2C3 in`, `wait 2s`, `offline`, …)
//!   that drives both door simulators.
//! - [`scenario`] — TOML timelines testers write (examples in `scenarios/`), sent to a
//!   hub and checked step by step (`monban-sim scenario`).
//! - `rng` (private) — seeded, platform-stable randomness.
//! - `mqtt` (private) — the MQTT client the day player, the scenario runner and the MQTT
//!   doors share: acknowledgements counted, clean disconnect or dropped connection.
//!
//! The binary (`src/main.rs`) only parses the command line.

pub mod access_log;
pub mod day;
pub mod hospital;
pub mod load;
pub mod login;
pub mod maintenance;
pub mod modbus_device;
mod mqtt;
pub mod mqtt_door;
mod rng;
pub mod scenario;
pub mod schedule;
pub mod script;
#[cfg(test)]
mod test_broker;

pub use day::{play, PlayOptions, PlayReport, DEFAULT_SPEED};
pub use hospital::{generate, Hospital};
pub use schedule::{Case, Expectation};
