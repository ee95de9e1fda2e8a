//! # Vendor formats: `[[mqtt.sources]]`
//!
//! Door controllers that cannot speak CONTRACT §5 publish in their own formats: an
//! esp-rfid reader, a uhppoted-mqtt gateway, a Tasmota / ESPHome / Shelly door contact,
//! or anything else through a *generic* mapping. A **source** is one such device (or
//! group of devices) configured in a `[[mqtt.sources]]` table: a [`SourceConfig`],
//! compiled once at start-up into a [`Source`] ([`SourceConfig::compile`] checks every
//! door id, template, map and offset and says what is wrong in words a facilities
//! technician understands).
//!
//! A message on a source's topic maps to zero or more [`Output`]s: door events, status
//! changes, heartbeats, messages that are valid but of no use to monban (*ignored*: a
//! sign of life, acknowledged, not a dead letter), and refusals (dead letters naming the
//! source). `docs/CONNECTORS.md` describes each preset for the people wiring the doors.
//!
//! This module is pure: no I/O and no clock. The arrival time is an argument, and the
//! only state — the last contact level of each door, so that contact presets report a
//! *change* — lives in a [`ContactState`] the driver owns and updates only after the
//! sink stored what a message produced (so a redelivered message is mapped again the
//! same way).
//!
//! # Layout
//! - `config` — [`SourceConfig`]: the TOML tables, deserialised with unknown keys refused.
//! - `topic` — topic patterns with `{name}` captures, `+` and `#`; subscription filters.
//! - `value` — value specs (JSON pointers, templates, literals, maps), times, credential
//!   ids, payload hashes: the small parsers every preset shares.
//! - `esp_rfid` — the esp-rfid reader firmware.
//! - `uhppoted` — the uhppoted-mqtt gateway for UHPPOTE controllers.
//! - `contact` — Tasmota, ESPHome and Shelly door contacts, and [`ContactState`].
//! - `generic` — the generic mapping.
//!
//! # Idempotency
//!
//! Event ids are unique per door (the store keeps `(door, event_id)` once). Each source
//! has an id *prefix*: its `name` when one is configured, else the preset's short prefix
//! (`esp`, `uh`, `tasmota`, `esphome`, `shelly`; a generic source always has a name).
//! Devices with their own event id or sequence give `{prefix}-{device}-{id}`; esp-rfid,
//! which has none, gives `{prefix}-{time}-{hash8}` (a hash of the raw payload, so a
//! redelivered payload gets the same id); contacts, which have neither an id nor a time,
//! give `{prefix}-{ms}` where `ms` is the arrival time — moved 1 ms past the door's
//! previous contact event when two changes arrive within the same millisecond, so that
//! neither is taken for a repeat of the other and their order survives.

mod config;
mod contact;
mod esp_rfid;
mod generic;
mod topic;
mod uhppoted;
mod value;

pub use config::{
    EspRfidConfig, EsphomeConfig, GenericConfig, ShellyConfig, SourceConfig, TasmotaConfig,
    UhppotedConfig, ValueSpecConfig,
};
pub use contact::{ContactState, ContactUpdate};

use super::codec::{MAX_PAYLOAD, SOURCE};
use crate::sink::DeadLetter;
use monban_core::{DoorEvent, DoorId, StatusChange, Timestamp};
use std::collections::BTreeSet;

/// The availability words every preset uses (`online` / `offline`, any case).
pub(crate) const ONLINE_OFFLINE: &[(&str, monban_core::DoorStatus)] = &[
    ("online", monban_core::DoorStatus::Online),
    ("offline", monban_core::DoorStatus::Offline),
];

/// A compiled `[[mqtt.sources]]` table: which topics it owns and how their messages map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    name: String,
    preset: Preset,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Preset {
    EspRfid(esp_rfid::EspRfid),
    Uhppoted(uhppoted::Uhppoted),
    Contact(contact::Contact),
    Generic(Box<generic::Generic>),
}

/// What one message means. A message gives one or more of these, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A door event, for [`DoorSink::door_event`](crate::DoorSink::door_event).
    Event(DoorEvent),
    /// The door went online or offline.
    Status(StatusChange),
    /// The controller of `door` is alive at `ts`, and said nothing else.
    Heartbeat { door: DoorId, ts: Timestamp },
    /// A valid message monban has no use for (a push-button exit, a log line, a contact
    /// that did not change). Acknowledged, not a dead letter; when the door is known it
    /// counts as a sign of life at the arrival time.
    Ignored { door: Option<DoorId>, why: String },
    /// The message (or one record of it) cannot be understood: a dead letter, with the
    /// door when it is known.
    Refused {
        door: Option<DoorId>,
        refusal: Refusal,
    },
}

/// The outputs of one message, and the contact level to remember once the sink has
/// stored them all (see [`ContactState::commit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub outputs: Vec<Output>,
    pub contact: Option<ContactUpdate>,
}

impl Mapped {
    fn outputs(outputs: Vec<Output>) -> Self {
        Mapped {
            outputs,
            contact: None,
        }
    }
    fn refused(door: Option<DoorId>, refusal: Refusal) -> Self {
        Mapped::outputs(vec![Output::Refused { door, refusal }])
    }
    fn ignored(door: Option<DoorId>, why: impl Into<String>) -> Self {
        Mapped::outputs(vec![Output::Ignored {
            door,
            why: why.into(),
        }])
    }
}

/// Why a message of a source cannot be used. Every variant ends as a dead letter whose
/// reason starts with the source's name; none stops the connector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The payload is larger than [`MAX_PAYLOAD`].
    #[error("payload of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// The payload is not UTF-8 text.
    #[error("the payload is not UTF-8 text")]
    NotText,
    /// The payload is not JSON, and the format needs JSON.
    #[error("the payload is not JSON ({0})")]
    NotJson(String),
    /// A field the format needs is not there.
    #[error("{0} is missing")]
    Missing(String),
    /// A value that is not one of the values the format (or the configured map) knows.
    #[error("{what} {value:?} is not one of: {expected}")]
    Unexpected {
        what: String,
        value: String,
        expected: String,
    },
    /// The message names a device, door or controller that the source does not map.
    #[error("{0}")]
    NotConfigured(String),
    /// A value that cannot make a valid event (a bad door id, time or card number).
    #[error("{0}")]
    Invalid(String),
    /// Some records of a message with several (uhppoted's event lists) cannot be used;
    /// the others were delivered.
    #[error("{failed} of {count} event records cannot be used; record {index}: {first}")]
    Records {
        failed: usize,
        count: usize,
        index: usize,
        first: Box<Refusal>,
    },
}

impl Refusal {
    /// A snake_case code, for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "payload_too_large",
            Refusal::NotText => "not_text",
            Refusal::NotJson(_) => "not_json",
            Refusal::Missing(_) => "missing_field",
            Refusal::Unexpected { .. } => "unexpected_value",
            Refusal::NotConfigured(_) => "not_configured",
            Refusal::Invalid(_) => "invalid_value",
            Refusal::Records { first, .. } => first.code(),
        }
    }

    fn unexpected(what: impl Into<String>, value: &str, expected: impl Into<String>) -> Self {
        Refusal::Unexpected {
            what: what.into(),
            value: value::clip(value),
            expected: expected.into(),
        }
    }
}

/// A `[[mqtt.sources]]` table that cannot be used. `key` names the offending key of the
/// table; the message says what is wrong and what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[[mqtt.sources]] {name:?}, {key}: {message}")]
pub struct MappingError {
    /// The source's name (or its default name).
    pub name: String,
    pub key: String,
    pub message: String,
}

impl Source {
    /// The name used in dead letters (`{preset}:{topic}` unless configured).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The preset, as written in the TOML (`esp-rfid`, `uhppoted`, …).
    pub fn preset(&self) -> &'static str {
        match &self.preset {
            Preset::EspRfid(_) => "esp-rfid",
            Preset::Uhppoted(_) => "uhppoted",
            Preset::Contact(c) => c.preset(),
            Preset::Generic(_) => "generic",
        }
    }

    /// The MQTT subscription filters of this source (subscribed at QoS 1).
    pub fn filters(&self) -> Vec<String> {
        match &self.preset {
            Preset::EspRfid(p) => p.filters(),
            Preset::Uhppoted(p) => p.filters(),
            Preset::Contact(p) => p.filters(),
            Preset::Generic(p) => p.filters(),
        }
    }

    /// Every door id this source names literally, sorted, each once. Doors made from a
    /// template are only known when a message arrives.
    pub fn doors(&self) -> Vec<DoorId> {
        let doors: BTreeSet<DoorId> = match &self.preset {
            Preset::EspRfid(p) => p.doors(),
            Preset::Uhppoted(p) => p.doors(),
            Preset::Contact(p) => p.doors(),
            Preset::Generic(p) => p.doors(),
        };
        doors.into_iter().collect()
    }

    /// Whether a message on `topic` belongs to this source.
    pub fn matches(&self, topic: &str) -> bool {
        match &self.preset {
            Preset::EspRfid(p) => p.matches(topic),
            Preset::Uhppoted(p) => p.matches(topic),
            Preset::Contact(p) => p.matches(topic),
            Preset::Generic(p) => p.matches(topic),
        }
    }

    /// The door of this source when all its messages concern one door.
    fn only_door(&self) -> Option<DoorId> {
        let doors = self.doors();
        match (&self.preset, doors.as_slice()) {
            (Preset::Generic(g), [door]) if !g.templated_door() => Some(door.clone()),
            (Preset::Generic(_), _) => None,
            (_, [door]) => Some(door.clone()),
            _ => None,
        }
    }

    /// Maps one message on one of this source's topics. `arrived` is the hub's time of
    /// arrival; `contacts` the contact levels remembered so far (not changed here: commit
    /// [`Mapped::contact`] once the outputs are stored).
    pub fn map(
        &self,
        topic: &str,
        payload: &[u8],
        arrived: Timestamp,
        contacts: &ContactState,
    ) -> Mapped {
        if payload.len() > MAX_PAYLOAD {
            return Mapped::refused(
                self.only_door(),
                Refusal::TooLarge {
                    size: payload.len(),
                    limit: MAX_PAYLOAD,
                },
            );
        }
        let mapped = match &self.preset {
            Preset::EspRfid(p) => p.map(topic, payload, arrived, contacts),
            Preset::Uhppoted(p) => p.map(payload, arrived),
            Preset::Contact(p) => p.map(topic, payload, arrived, contacts),
            Preset::Generic(p) => p.map(topic, payload, arrived),
        };
        if mapped.outputs.is_empty() {
            // Every message gets an answer; an empty mapping would be acknowledged
            // without a trace.
            return Mapped::ignored(self.only_door(), "nothing to report");
        }
        mapped
    }
}

/// The first source (in configuration order) whose topics include `topic`.
pub fn route<'a>(sources: &'a [Source], topic: &str) -> Option<&'a Source> {
    sources.iter().find(|s| s.matches(topic))
}

/// Refuses two sources with the same name (names identify sources in dead letters and
/// the contact memory).
pub fn check_names(sources: &[Source]) -> Result<(), MappingError> {
    let mut seen = BTreeSet::new();
    for s in sources {
        if !seen.insert(s.name()) {
            return Err(MappingError {
                name: s.name().to_string(),
                key: "name".into(),
                message: "two sources have this name; give each source its own name".into(),
            });
        }
    }
    Ok(())
}

/// The dead letter for a refused message of `source`: `source = "mqtt"`, `origin` =
/// the topic, the reason `{source name}: {what is wrong}`. An oversized payload is cut
/// to its first [`MAX_PAYLOAD`] bytes.
pub fn dead_letter(
    source: &str,
    topic: &str,
    payload: &[u8],
    door: Option<DoorId>,
    refusal: &Refusal,
    received_at: Timestamp,
) -> DeadLetter {
    let mut reason = format!("{source}: {refusal}");
    let kept = match payload.get(..MAX_PAYLOAD) {
        Some(head) if payload.len() > MAX_PAYLOAD => {
            reason.push_str(&format!(" (only the first {MAX_PAYLOAD} bytes are kept)"));
            head.to_vec()
        }
        _ => payload.to_vec(),
    };
    DeadLetter {
        source: SOURCE.to_string(),
        origin: topic.to_string(),
        door,
        payload: kept,
        reason,
        received_at,
    }
}

#[cfg(test)]
mod tests;
