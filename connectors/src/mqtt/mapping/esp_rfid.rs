//! esp-rfid (the ESP8266 RFID reader firmware): `{topic}/send` JSON messages (access,
//! door and tamper events, heartbeat, boot), `{topic}/avty` availability and the
//! `{topic}/io/door` / `{topic}/io/tamper` levels.
//!
//! esp-rfid's JSON keys changed case between versions (`isKnown`, `isknown`), so keys
//! are matched without regard to case. Its messages carry no event id: the id is
//! `{prefix}-{time}-{hash8}` with a hash of the raw payload, so a redelivered message
//! gets the same id and two different messages in the same second do not.

use super::config::{Check, EspRfidConfig};
use super::contact::{self, word, Channel, ContactState, Signal};
use super::value::{credential, get_ci, hash8, json_object, parse_time, text, text_of, truthy};
use super::{Mapped, MappingError, Output, Refusal};
use chrono::FixedOffset;
use monban_core::event::parse_event_id;
use monban_core::{
    CredentialType, Direction, DoorEvent, DoorEventKind, DoorId, DoorStatus, StatusChange,
    Timestamp,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EspRfid {
    source: String,
    prefix: String,
    send: String,
    avty: String,
    io_door: String,
    io_tamper: String,
    door: Option<DoorId>,
    /// Device name (the payload's `door` or `hostname`) → door.
    doors: BTreeMap<String, DoorId>,
    credential_type: CredentialType,
    offset: FixedOffset,
}

type Json = Map<String, Value>;

impl EspRfid {
    pub(crate) fn compile(
        c: &EspRfidConfig,
        check: &Check,
        prefix: String,
    ) -> Result<EspRfid, MappingError> {
        let topic = check.device_topic(&c.topic)?;
        let door = match (&c.door, c.doors.is_empty()) {
            (Some(_), false) => {
                return Err(check.err(
                    "door",
                    "set either door (one device on this topic) or doors (several devices sharing it), not both",
                ))
            }
            (None, true) => {
                return Err(check.err(
                    "door",
                    "missing: set door = \"<door id>\" for one device, or doors = { \"<esp-rfid hostname>\" = \"<door id>\" } when several devices share the topic",
                ))
            }
            (Some(d), true) => Some(check.door("door", d)?),
            (None, false) => None,
        };
        let mut doors = BTreeMap::new();
        for (device, d) in &c.doors {
            if device.trim().is_empty() {
                return Err(check.err("doors", "a device name must not be empty"));
            }
            doors.insert(device.clone(), check.door(&format!("doors.{device:?}"), d)?);
        }
        Ok(EspRfid {
            source: check.name.clone(),
            prefix,
            send: format!("{topic}/send"),
            avty: format!("{topic}/avty"),
            io_door: format!("{topic}/io/door"),
            io_tamper: format!("{topic}/io/tamper"),
            door,
            doors,
            credential_type: check
                .credential_type("credential_type", c.credential_type.as_deref())?,
            offset: check.offset(c.utc_offset.as_deref())?,
        })
    }

    pub(crate) fn filters(&self) -> Vec<String> {
        vec![
            self.send.clone(),
            self.avty.clone(),
            self.io_door.clone(),
            self.io_tamper.clone(),
        ]
    }

    pub(crate) fn doors(&self) -> BTreeSet<DoorId> {
        self.door
            .iter()
            .chain(self.doors.values())
            .cloned()
            .collect()
    }

    pub(crate) fn matches(&self, topic: &str) -> bool {
        topic == self.send || topic == self.avty || topic == self.io_door || topic == self.io_tamper
    }

    /// The door of messages that do not name a device: `door`, or the only door of
    /// `doors`.
    fn topic_door(&self) -> Option<DoorId> {
        if let Some(d) = &self.door {
            return Some(d.clone());
        }
        let distinct: BTreeSet<&DoorId> = self.doors.values().collect();
        match distinct.into_iter().collect::<Vec<_>>().as_slice() {
            [only] => Some((*only).clone()),
            _ => None,
        }
    }

    pub(crate) fn map(
        &self,
        topic: &str,
        payload: &[u8],
        arrived: Timestamp,
        contacts: &ContactState,
    ) -> Mapped {
        if topic == self.send {
            return match self.send(payload, arrived) {
                Ok(outputs) => Mapped::outputs(outputs),
                Err((door, refusal)) => Mapped::refused(door, refusal),
            };
        }
        let Some(door) = self.topic_door() else {
            return Mapped::ignored(
                None,
                format!(
                    "{topic} does not say which of the devices sharing the topic sent it; give each esp-rfid its own topic and door"
                ),
            );
        };
        let level = |channel, what: &str| -> Result<Mapped, Refusal> {
            let on = word(what, text(payload)?, &[("on", true), ("off", false)])?;
            let signal = Signal {
                source: &self.source,
                prefix: &self.prefix,
                door: &door,
                channel,
            };
            let (output, update) = contact::level(contacts, &signal, on, arrived);
            Ok(Mapped {
                outputs: vec![output],
                contact: Some(update),
            })
        };
        let mapped = if topic == self.avty {
            text(payload)
                .and_then(|t| word("avty", t, super::ONLINE_OFFLINE))
                .map(|status| {
                    Mapped::outputs(vec![Output::Status(StatusChange {
                        door: door.clone(),
                        ts: arrived,
                        status,
                    })])
                })
        } else if topic == self.io_door {
            level(Channel::Contact, "io/door")
        } else if topic == self.io_tamper {
            level(Channel::Tamper, "io/tamper")
        } else {
            Err(Refusal::NotConfigured(format!(
                "topic {topic:?} is not an esp-rfid topic of this source"
            )))
        };
        mapped.unwrap_or_else(|refusal| Mapped::refused(Some(door), refusal))
    }

    /// The door of a `/send` message: `door`, else the payload's `door` or `hostname`
    /// looked up in `doors`.
    fn resolve(&self, json: &Json) -> Result<DoorId, Refusal> {
        if let Some(d) = &self.door {
            return Ok(d.clone());
        }
        let names: Vec<String> = ["door", "hostname"]
            .iter()
            .filter_map(|k| get_ci(json, k).and_then(text_of))
            .collect();
        for name in &names {
            let found = self.doors.get(name).or_else(|| {
                self.doors
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, d)| d)
            });
            if let Some(d) = found {
                return Ok(d.clone());
            }
        }
        if names.is_empty() {
            return Err(Refusal::Missing(
                "door (or hostname), needed to tell the devices sharing this topic apart".into(),
            ));
        }
        Err(Refusal::NotConfigured(format!(
            "no door is configured for esp-rfid device {}; add it to doors = {{ … }} (configured: {})",
            names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(" / "),
            self.doors
                .keys()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// The device's `time` as written, and as a time; `None` when there is none.
    fn time(
        &self,
        json: &Json,
        arrived: Timestamp,
    ) -> Result<Option<(String, Timestamp)>, Refusal> {
        let Some(raw) = get_ci(json, "time").and_then(text_of) else {
            return Ok(None);
        };
        let ts = parse_time(&raw, self.offset, arrived)
            .map_err(|m| Refusal::Invalid(format!("time: {m}")))?;
        Ok(Some((raw, ts)))
    }

    fn send(
        &self,
        payload: &[u8],
        arrived: Timestamp,
    ) -> Result<Vec<Output>, (Option<DoorId>, Refusal)> {
        let json = json_object(payload).map_err(|r| (self.door.clone(), r))?;
        let door = self.resolve(&json);
        let known = door.as_ref().ok().cloned();
        let fail = |r: Refusal| (known.clone(), r);
        let kind_text = get_ci(&json, "type")
            .and_then(text_of)
            .ok_or_else(|| fail(Refusal::Missing("type".into())))?;
        let lower = kind_text.trim().to_ascii_lowercase();
        let event =
            |kind: DoorEventKind, credential| -> Result<Vec<Output>, (Option<DoorId>, Refusal)> {
                let door = door.clone().map_err(fail)?;
                let (raw_time, ts) = self
                    .time(&json, arrived)
                    .map_err(fail)?
                    .ok_or_else(|| fail(Refusal::Missing("time".into())))?;
                let id = format!("{}-{}-{}", self.prefix, raw_time.trim(), hash8(&[payload]));
                let event_id =
                    parse_event_id(&id).map_err(|e| fail(Refusal::Invalid(e.to_string())))?;
                Ok(vec![Output::Event(DoorEvent {
                    door,
                    event_id,
                    ts,
                    kind,
                    direction: Direction::In,
                    credential,
                })])
            };
        let ignored = |why: String| {
            Ok(vec![Output::Ignored {
                door: known.clone(),
                why,
            }])
        };
        match lower.as_str() {
            "access" => {
                let uid = get_ci(&json, "uid")
                    .and_then(text_of)
                    .ok_or_else(|| fail(Refusal::Missing("uid".into())))?;
                let is_known = get_ci(&json, "isknown").and_then(truthy) == Some(true);
                let access = get_ci(&json, "access")
                    .and_then(text_of)
                    .unwrap_or_default();
                let allowed =
                    ["always", "admin"].contains(&access.trim().to_ascii_lowercase().as_str());
                let kind = if is_known && allowed {
                    DoorEventKind::AccessGranted
                } else {
                    DoorEventKind::AccessDenied
                };
                let credential = credential(self.credential_type, &uid).map_err(fail)?;
                event(kind, Some(credential))
            }
            "heartbeat" | "boot" => {
                let door = door.clone().map_err(fail)?;
                let time = self.time(&json, arrived).map_err(fail)?;
                // Alive when the device said so, but never later than we heard it (a
                // clock running ahead would keep a dead door alive).
                let alive = time.as_ref().map_or(arrived, |(_, ts)| (*ts).min(arrived));
                let mut out = Vec::new();
                if lower == "boot" {
                    out.push(Output::Status(StatusChange {
                        door: door.clone(),
                        ts: time.map_or(arrived, |(_, ts)| ts),
                        status: DoorStatus::Online,
                    }));
                }
                out.push(Output::Heartbeat { door, ts: alive });
                Ok(out)
            }
            _ => {
                let Some(src) = get_ci(&json, "src").and_then(text_of) else {
                    return ignored(format!("esp-rfid message type {kind_text:?} is not used"));
                };
                let desc = get_ci(&json, "desc").and_then(text_of).unwrap_or_default();
                let desc_l = desc.trim().to_ascii_lowercase();
                match src.trim().to_ascii_lowercase().as_str() {
                    "door" => match desc_l.as_str() {
                        "door open" => event(DoorEventKind::DoorOpened, None),
                        "door closed" => event(DoorEventKind::DoorClosed, None),
                        _ => ignored(format!("door message {desc:?} is not used")),
                    },
                    "tamper" => {
                        let held = ["max open time", "wasn't closed", "was not closed"]
                            .iter()
                            .any(|m| desc_l.contains(m));
                        event(
                            if held {
                                DoorEventKind::DoorHeldOpen
                            } else {
                                DoorEventKind::DoorForced
                            },
                            None,
                        )
                    }
                    _ => ignored(format!("{kind_text} message from {src:?} is not used")),
                }
            }
        }
    }
}
