//! Door contacts: Tasmota, ESPHome and Shelly (and esp-rfid's `io/door` and
//! `io/tamper`), and the [`ContactState`] that turns their levels into events.
//!
//! A contact reports a *level* (open or closed, tamper active or not), often repeated
//! (Tasmota's `SENSOR` every telemetry period, a retained state on every reconnect).
//! Only a change is an event; the first level seen after a start counts as a change.
//! The levels live in [`ContactState`], owned by the driver and updated with
//! [`ContactState::commit`] only after the sink stored the message's outputs: a message
//! that was not stored is redelivered and must find the old level.
//!
//! Contacts carry no time and no id: an event's `ts` is the arrival time and its id
//! `{prefix}-{ms}`; two changes of one door within one millisecond (a burst of queued
//! messages after an outage) get consecutive milliseconds, so both are stored and in
//! order.

use super::config::{Check, EsphomeConfig, ShellyConfig, TasmotaConfig};
use super::value::{get_ci, json_object, text};
use super::{Mapped, MappingError, Output, Refusal};
use monban_core::{DoorEvent, DoorEventKind, DoorId, DoorStatus, StatusChange, Timestamp};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// Which signal of a door a level belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Channel {
    /// The door contact: active = open.
    Contact,
    /// A tamper switch or vibration sensor: active = tampered.
    Tamper,
}

/// The last contact level of each door and signal, per source, and the time of each
/// door's last contact event. Owned by the MQTT driver; starts empty at every start.
#[derive(Debug, Default, Clone)]
pub struct ContactState {
    levels: HashMap<(String, DoorId, Channel), bool>,
    last_event: HashMap<(String, DoorId), Timestamp>,
}

/// A level to remember once a message's outputs are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactUpdate {
    source: String,
    prefix: String,
    door: DoorId,
    channel: Channel,
    active: bool,
    event_ts: Option<Timestamp>,
}

impl ContactState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers the level a stored message reported.
    pub fn commit(&mut self, update: ContactUpdate) {
        if let Some(ts) = update.event_ts {
            self.last_event
                .insert((update.prefix, update.door.clone()), ts);
        }
        self.levels
            .insert((update.source, update.door, update.channel), update.active);
    }

    /// Whether the door contact of `door`, as reported by `source`, was last seen open.
    pub fn is_open(&self, source: &str, door: &DoorId) -> Option<bool> {
        self.levels
            .get(&(source.to_string(), door.clone(), Channel::Contact))
            .copied()
    }
}

/// One signal of one door of one source.
pub(crate) struct Signal<'a> {
    pub source: &'a str,
    pub prefix: &'a str,
    pub door: &'a DoorId,
    pub channel: Channel,
}

/// A level reading: an event when it changed, else an ignored message; and the level to
/// remember.
pub(crate) fn level(
    state: &ContactState,
    signal: &Signal<'_>,
    active: bool,
    arrived: Timestamp,
) -> (Output, ContactUpdate) {
    let key = (
        signal.source.to_string(),
        signal.door.clone(),
        signal.channel,
    );
    let previous = state.levels.get(&key).copied();
    let mut update = ContactUpdate {
        source: signal.source.to_string(),
        prefix: signal.prefix.to_string(),
        door: signal.door.clone(),
        channel: signal.channel,
        active,
        event_ts: None,
    };
    let kind = match (signal.channel, active) {
        (Channel::Contact, true) => Some(DoorEventKind::DoorOpened),
        (Channel::Contact, false) => Some(DoorEventKind::DoorClosed),
        (Channel::Tamper, true) => Some(DoorEventKind::Tamper),
        (Channel::Tamper, false) => None,
    };
    let ignored = |why: &str| Output::Ignored {
        door: Some(signal.door.clone()),
        why: why.to_string(),
    };
    if previous == Some(active) {
        let why = match (signal.channel, active) {
            (Channel::Contact, true) => "the door is still open",
            (Channel::Contact, false) => "the door is still closed",
            (Channel::Tamper, true) => "the tamper alarm is still active",
            (Channel::Tamper, false) => "the tamper switch is still normal",
        };
        return (ignored(why), update);
    }
    let Some(kind) = kind else {
        return (ignored("the tamper switch is back to normal"), update);
    };
    let last = state
        .last_event
        .get(&(signal.prefix.to_string(), signal.door.clone()))
        .copied();
    let ts = match last {
        Some(last) if last.as_millis() >= arrived.as_millis() => {
            Timestamp::from_millis(last.as_millis().saturating_add(1))
        }
        _ => arrived,
    };
    update.event_ts = Some(ts);
    let event = DoorEvent {
        door: signal.door.clone(),
        event_id: format!("{}-{}", signal.prefix, ts.as_millis()),
        ts,
        kind,
        direction: Default::default(),
        credential: None,
    };
    (Output::Event(event), update)
}

/// A compiled contact preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contact {
    source: String,
    prefix: String,
    door: DoorId,
    device: Device,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Device {
    Tasmota {
        lwt: String,
        state: String,
        sensor: String,
        result: String,
        switch: String,
        /// The switch state that means open is `ON`.
        open_on: bool,
    },
    Esphome {
        state: String,
        status: String,
        open_on: bool,
    },
    Shelly {
        state: String,
        online: String,
        vibration: String,
    },
}

impl Contact {
    pub(crate) fn tasmota(
        c: &TasmotaConfig,
        check: &Check,
        source: String,
        prefix: String,
    ) -> Result<Contact, MappingError> {
        let topic = check.device_topic(&c.topic)?;
        let switch = c.switch.clone().unwrap_or_else(|| "Switch1".into());
        if switch.trim().is_empty() {
            return Err(check.err(
                "switch",
                "the switch name must not be empty (e.g. \"Switch1\")",
            ));
        }
        Ok(Contact {
            source,
            prefix,
            door: check.door("door", &c.door)?,
            device: Device::Tasmota {
                lwt: format!("tele/{topic}/LWT"),
                state: format!("tele/{topic}/STATE"),
                sensor: format!("tele/{topic}/SENSOR"),
                result: format!("stat/{topic}/RESULT"),
                switch,
                open_on: check.on_off(c.open.as_deref())?,
            },
        })
    }

    pub(crate) fn esphome(
        c: &EsphomeConfig,
        check: &Check,
        source: String,
        prefix: String,
    ) -> Result<Contact, MappingError> {
        let topic = check.device_topic(&c.topic)?;
        let sensor = c.sensor.clone().unwrap_or_else(|| "door".into());
        super::topic::check_device_topic(&sensor)
            .ok()
            .filter(|_| !sensor.contains('/'))
            .ok_or_else(|| {
                check.err(
                    "sensor",
                    format!("{sensor:?} is not an object id; write the binary_sensor's id, e.g. \"door\""),
                )
            })?;
        Ok(Contact {
            source,
            prefix,
            door: check.door("door", &c.door)?,
            device: Device::Esphome {
                state: format!("{topic}/binary_sensor/{sensor}/state"),
                status: format!("{topic}/status"),
                open_on: check.on_off(c.open.as_deref())?,
            },
        })
    }

    pub(crate) fn shelly(
        c: &ShellyConfig,
        check: &Check,
        source: String,
        prefix: String,
    ) -> Result<Contact, MappingError> {
        let topic = check.device_topic(&c.topic)?;
        Ok(Contact {
            source,
            prefix,
            door: check.door("door", &c.door)?,
            device: Device::Shelly {
                state: format!("shellies/{topic}/sensor/state"),
                online: format!("shellies/{topic}/online"),
                vibration: format!("shellies/{topic}/sensor/vibration"),
            },
        })
    }

    pub(crate) fn preset(&self) -> &'static str {
        match self.device {
            Device::Tasmota { .. } => "tasmota",
            Device::Esphome { .. } => "esphome",
            Device::Shelly { .. } => "shelly",
        }
    }

    /// The topics of the device, in subscription order.
    fn topics(&self) -> Vec<&str> {
        match &self.device {
            Device::Tasmota {
                lwt,
                state,
                sensor,
                result,
                ..
            } => vec![lwt, state, sensor, result],
            Device::Esphome { state, status, .. } => vec![state, status],
            Device::Shelly {
                state,
                online,
                vibration,
            } => vec![state, online, vibration],
        }
    }

    pub(crate) fn filters(&self) -> Vec<String> {
        self.topics().into_iter().map(String::from).collect()
    }

    pub(crate) fn doors(&self) -> BTreeSet<DoorId> {
        BTreeSet::from([self.door.clone()])
    }

    pub(crate) fn matches(&self, topic: &str) -> bool {
        self.topics().contains(&topic)
    }

    fn signal(&self, channel: Channel) -> Signal<'_> {
        Signal {
            source: &self.source,
            prefix: &self.prefix,
            door: &self.door,
            channel,
        }
    }

    fn refused(&self, refusal: Refusal) -> Mapped {
        Mapped::refused(Some(self.door.clone()), refusal)
    }

    fn status(&self, status: DoorStatus, arrived: Timestamp) -> Mapped {
        Mapped::outputs(vec![Output::Status(StatusChange {
            door: self.door.clone(),
            ts: arrived,
            status,
        })])
    }

    fn heartbeat(&self, arrived: Timestamp) -> Output {
        Output::Heartbeat {
            door: self.door.clone(),
            ts: arrived,
        }
    }

    /// A level reading as the whole mapping.
    fn level(
        &self,
        contacts: &ContactState,
        channel: Channel,
        active: bool,
        arrived: Timestamp,
    ) -> Mapped {
        let (output, update) = level(contacts, &self.signal(channel), active, arrived);
        Mapped {
            outputs: vec![output],
            contact: Some(update),
        }
    }

    pub(crate) fn map(
        &self,
        topic: &str,
        payload: &[u8],
        arrived: Timestamp,
        contacts: &ContactState,
    ) -> Mapped {
        match self.map_inner(topic, payload, arrived, contacts) {
            Ok(m) => m,
            Err(refusal) => self.refused(refusal),
        }
    }

    fn map_inner(
        &self,
        topic: &str,
        payload: &[u8],
        arrived: Timestamp,
        contacts: &ContactState,
    ) -> Result<Mapped, Refusal> {
        match &self.device {
            Device::Tasmota {
                lwt,
                state,
                sensor,
                result,
                switch,
                open_on,
            } => {
                if topic == lwt {
                    let status = word("LWT", text(payload)?, super::ONLINE_OFFLINE)?;
                    Ok(self.status(status, arrived))
                } else if topic == state {
                    Ok(Mapped::outputs(vec![self.heartbeat(arrived)]))
                } else if topic == sensor {
                    let json = json_object(payload)?;
                    let mut outputs = vec![self.heartbeat(arrived)];
                    let Some(value) = get_ci(&json, switch) else {
                        // Telemetry without the switch: alive, nothing else.
                        return Ok(Mapped::outputs(outputs));
                    };
                    let open = on_off(switch, value, *open_on)?;
                    let (output, update) =
                        level(contacts, &self.signal(Channel::Contact), open, arrived);
                    // The event last: if the heartbeat fails nothing is stored, and the
                    // redelivered message still finds the old level.
                    if let Output::Event(_) = output {
                        outputs.push(output);
                    }
                    Ok(Mapped {
                        outputs,
                        contact: Some(update),
                    })
                } else if topic == result {
                    let json = json_object(payload)?;
                    let Some(value) = get_ci(&json, switch) else {
                        return Ok(Mapped::ignored(
                            Some(self.door.clone()),
                            format!("a RESULT without {switch}"),
                        ));
                    };
                    let value = match value {
                        Value::Object(o) => get_ci(o, "Action")
                            .ok_or_else(|| Refusal::Missing(format!("{switch}.Action")))?,
                        other => other,
                    };
                    let open = on_off(switch, value, *open_on)?;
                    Ok(self.level(contacts, Channel::Contact, open, arrived))
                } else {
                    Err(Refusal::NotConfigured(format!(
                        "topic {topic:?} is not a Tasmota topic of this source"
                    )))
                }
            }
            Device::Esphome {
                state,
                status,
                open_on,
            } => {
                if topic == state {
                    let on = word("state", text(payload)?, &[("on", true), ("off", false)])?;
                    Ok(self.level(contacts, Channel::Contact, on == *open_on, arrived))
                } else if topic == status {
                    let status = word("status", text(payload)?, super::ONLINE_OFFLINE)?;
                    Ok(self.status(status, arrived))
                } else {
                    Err(Refusal::NotConfigured(format!(
                        "topic {topic:?} is not an ESPHome topic of this source"
                    )))
                }
            }
            Device::Shelly {
                state,
                online,
                vibration,
            } => {
                if topic == state {
                    let open = word(
                        "sensor/state",
                        text(payload)?,
                        &[("open", true), ("close", false), ("closed", false)],
                    )?;
                    Ok(self.level(contacts, Channel::Contact, open, arrived))
                } else if topic == online {
                    let status = word(
                        "online",
                        text(payload)?,
                        &[("true", DoorStatus::Online), ("false", DoorStatus::Offline)],
                    )?;
                    Ok(self.status(status, arrived))
                } else if topic == vibration {
                    let active = word(
                        "sensor/vibration",
                        text(payload)?,
                        &[("1", true), ("0", false)],
                    )?;
                    Ok(self.level(contacts, Channel::Tamper, active, arrived))
                } else {
                    Err(Refusal::NotConfigured(format!(
                        "topic {topic:?} is not a Shelly topic of this source"
                    )))
                }
            }
        }
    }
}

/// A word out of a small vocabulary, trimmed and without regard to case.
pub(crate) fn word<T: Copy>(what: &str, value: &str, words: &[(&str, T)]) -> Result<T, Refusal> {
    let v = value.trim().trim_matches('"').trim();
    words
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(v))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            Refusal::unexpected(
                what,
                value,
                words.iter().map(|(w, _)| *w).collect::<Vec<_>>().join(", "),
            )
        })
}

/// A Tasmota switch state → open, given which state means open.
fn on_off(switch: &str, value: &Value, open_on: bool) -> Result<bool, Refusal> {
    let Value::String(s) = value else {
        return Err(Refusal::unexpected(switch, &value.to_string(), "ON, OFF"));
    };
    let on = word(switch, s, &[("ON", true), ("OFF", false)])?;
    Ok(on == open_on)
}
