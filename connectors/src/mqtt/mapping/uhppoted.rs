//! uhppoted-mqtt: the MQTT gateway for UHPPOTE UT0311-L0x controllers. It publishes
//! event records (one, or an array of them) under `uhppoted/gateway/events`.
//!
//! A record names its controller (`device-id`, the serial number) and door (`door-id`,
//! 1 to 4); the source maps `"{serial}:{door}"` to a door id. The controller numbers its
//! events, so the event id is `{prefix}-{device-id}-{event-id}`. Timestamps are the
//! controller's local time without an offset (`2026-11-21 09:00:00`), read with the
//! source's `utc_offset`. uhppoted-mqtt may sign messages (`hmac`) or encrypt them; the
//! signature is not verified here, and encrypted messages are not understood.

use super::config::{Check, UhppotedConfig};
use super::value::{credential, kind_of, parse_time, text_of, truthy};
use super::{Mapped, MappingError, Output, Refusal};
use chrono::FixedOffset;
use monban_core::event::parse_event_id;
use monban_core::{CredentialType, Direction, DoorEvent, DoorEventKind, DoorId, Timestamp};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// uhppoted-mqtt's default events topic.
pub(crate) const DEFAULT_TOPIC: &str = "uhppoted/gateway/events";

/// Where a single record may be.
const RECORD_AT: [&str; 4] = [
    "/message/event",
    "/event",
    "/message/reply/event",
    "/message/reply/response/event",
];
/// Where an array of records may be.
const RECORDS_AT: [&str; 2] = ["/message/events", "/events"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Uhppoted {
    prefix: String,
    topic: String,
    below: String,
    /// (controller serial, door number) → door.
    doors: BTreeMap<(u32, u8), DoorId>,
    offset: FixedOffset,
}

impl Uhppoted {
    pub(crate) fn compile(
        c: &UhppotedConfig,
        check: &Check,
        prefix: String,
    ) -> Result<Uhppoted, MappingError> {
        let topic = check.device_topic(c.topic.as_deref().unwrap_or(DEFAULT_TOPIC))?;
        if c.doors.is_empty() {
            return Err(check.err(
                "doors",
                "no doors: write doors = { \"<controller serial>:<door 1-4>\" = \"<door id>\" }",
            ));
        }
        let mut doors = BTreeMap::new();
        for (key, door) in &c.doors {
            let parsed = key.split_once(':').and_then(|(serial, number)| {
                let serial: u32 = serial.trim().parse().ok()?;
                let number: u8 = number.trim().parse().ok().filter(|n| (1..=4).contains(n))?;
                Some((serial, number))
            });
            let Some(at) = parsed else {
                return Err(check.err(
                    format!("doors.{key:?}"),
                    "write the controller's serial number and the door number (1 to 4) as \"405419896:1\"",
                ));
            };
            let door = check.door(&format!("doors.{key:?}"), door)?;
            if doors.insert(at, door).is_some() {
                return Err(check.err(
                    format!("doors.{key:?}"),
                    "this controller door is listed twice",
                ));
            }
        }
        Ok(Uhppoted {
            prefix,
            below: format!("{topic}/"),
            topic,
            doors,
            offset: check.offset(c.utc_offset.as_deref())?,
        })
    }

    /// Only `{topic}/#`: it matches `{topic}` itself too (MQTT 3.1.1 §4.7.1.2), and a
    /// second, overlapping `{topic}` subscription makes some brokers (rumqttd) deliver
    /// every message on `{topic}` twice.
    pub(crate) fn filters(&self) -> Vec<String> {
        vec![format!("{}#", self.below)]
    }

    pub(crate) fn doors(&self) -> BTreeSet<DoorId> {
        self.doors.values().cloned().collect()
    }

    pub(crate) fn matches(&self, topic: &str) -> bool {
        topic == self.topic || topic.starts_with(&self.below)
    }

    pub(crate) fn map(&self, payload: &[u8], arrived: Timestamp) -> Mapped {
        let doc: Value = match serde_json::from_slice(payload) {
            Ok(v) => v,
            Err(e) => return Mapped::refused(None, Refusal::NotJson(e.to_string())),
        };
        let single = RECORD_AT
            .iter()
            .find_map(|p| doc.pointer(p).filter(|v| !v.is_null()))
            .or_else(|| {
                doc.as_object()
                    .filter(|o| o.contains_key("event-id"))
                    .map(|_| &doc)
            });
        if let Some(record) = single {
            return match self.record(record, arrived) {
                Ok(output) => Mapped::outputs(vec![output]),
                Err((door, refusal)) => Mapped::refused(door, refusal),
            };
        }
        let Some(records) = RECORDS_AT.iter().find_map(|p| doc.pointer(p)) else {
            return Mapped::refused(
                None,
                Refusal::Missing(format!(
                    "the event record (looked at {}, {} and the document itself)",
                    RECORD_AT.join(", "),
                    RECORDS_AT.join(", ")
                )),
            );
        };
        let Value::Array(records) = records else {
            return Mapped::refused(
                None,
                Refusal::Invalid(format!("the events are {}, not an array", kind_of(records))),
            );
        };
        if records.is_empty() {
            return Mapped::ignored(None, "an empty list of events");
        }
        // Every good record is delivered; the refused ones make one dead letter for the
        // message (it keeps the whole payload), naming the first.
        let mut outputs = Vec::new();
        let mut refused: Vec<(usize, Option<DoorId>, Refusal)> = Vec::new();
        for (i, record) in records.iter().enumerate() {
            match self.record(record, arrived) {
                Ok(output) => outputs.push(output),
                Err((door, refusal)) => refused.push((i + 1, door, refusal)),
            }
        }
        let failed = refused.len();
        if let Some((index, door, first)) = refused.into_iter().next() {
            outputs.push(Output::Refused {
                door,
                refusal: Refusal::Records {
                    failed,
                    count: records.len(),
                    index,
                    first: Box::new(first),
                },
            });
        }
        Mapped::outputs(outputs)
    }

    fn record(
        &self,
        record: &Value,
        arrived: Timestamp,
    ) -> Result<Output, (Option<DoorId>, Refusal)> {
        let Value::Object(r) = record else {
            return Err((
                None,
                Refusal::Invalid(format!(
                    "the event record is {}, not an object",
                    kind_of(record)
                )),
            ));
        };
        let event_type = number(r, "event-type")
            .map_err(|e| (None, e))?
            .ok_or((None, Refusal::Missing("event-type".into())))?;
        let device = number(r, "device-id")
            .map_err(|e| (None, e))?
            .ok_or((None, Refusal::Missing("device-id".into())))?;
        let door_number = number(r, "door-id").map_err(|e| (None, e))?;
        let door = match door_number {
            None => Err(Refusal::Missing("door-id".into())),
            Some(n) => u32::try_from(device)
                .ok()
                .zip(u8::try_from(n).ok())
                .and_then(|at| self.doors.get(&at))
                .cloned()
                .ok_or_else(|| {
                    Refusal::NotConfigured(format!(
                        "controller {device} door {n} is not in doors; add \"{device}:{n}\" = \"<door id>\" (configured: {})",
                        self.doors
                            .keys()
                            .map(|(s, d)| format!("\"{s}:{d}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }),
        };
        let known = door.as_ref().ok().cloned();
        let fail = |r: Refusal| (known.clone(), r);
        let reason = number(r, "event-reason").map_err(fail)?;
        let kind = match event_type {
            1 => {
                let granted = r
                    .get("access-granted")
                    .ok_or_else(|| fail(Refusal::Missing("access-granted".into())))?;
                match truthy(granted) {
                    Some(true) => Some(DoorEventKind::AccessGranted),
                    Some(false) => Some(DoorEventKind::AccessDenied),
                    None => {
                        return Err(fail(Refusal::unexpected(
                            "access-granted",
                            &granted.to_string(),
                            "true, false",
                        )))
                    }
                }
            }
            2 | 3 => {
                let text = r
                    .get("event-reason-text")
                    .and_then(text_of)
                    .unwrap_or_default();
                by_reason(reason, &text)
            }
            _ => None,
        };
        let Some(kind) = kind else {
            let why = match reason {
                Some(reason) => {
                    format!("uhppoted event type {event_type}, reason {reason} is not used")
                }
                None => format!("uhppoted event type {event_type} is not used"),
            };
            return Ok(Output::Ignored { door: known, why });
        };
        let door = door.map_err(|r| (None, r))?;
        let event_number = number(r, "event-id")
            .map_err(fail)?
            .ok_or_else(|| fail(Refusal::Missing("event-id".into())))?;
        let raw_ts = r
            .get("timestamp")
            .and_then(text_of)
            .ok_or_else(|| fail(Refusal::Missing("timestamp".into())))?;
        let ts = parse_time(&raw_ts, self.offset, arrived)
            .map_err(|m| fail(Refusal::Invalid(format!("timestamp: {m}"))))?;
        let (direction, credential) = if event_type == 1 {
            let card = r
                .get("card-number")
                .and_then(text_of)
                .ok_or_else(|| fail(Refusal::Missing("card-number".into())))?;
            (
                direction(r.get("direction")).map_err(fail)?,
                Some(credential(CredentialType::Card, &card).map_err(fail)?),
            )
        } else {
            (Direction::In, None)
        };
        let event_id = parse_event_id(&format!("{}-{device}-{event_number}", self.prefix))
            .map_err(|e| fail(Refusal::Invalid(e.to_string())))?;
        Ok(Output::Event(DoorEvent {
            door,
            event_id,
            ts,
            kind,
            direction,
            credential,
        }))
    }
}

/// A whole number written as a number or as digits.
fn number(r: &Map<String, Value>, key: &str) -> Result<Option<u64>, Refusal> {
    let Some(v) = r.get(key).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.map(Some)
        .ok_or_else(|| Refusal::Invalid(format!("{key} is {v}, not a whole number")))
}

/// Door and alarm events by reason code, else by the words of the reason text.
fn by_reason(reason: Option<u64>, text: &str) -> Option<DoorEventKind> {
    use DoorEventKind::*;
    match reason {
        Some(23) => return Some(DoorOpened),
        Some(24) => return Some(DoorClosed),
        Some(37) => return Some(DoorHeldOpen),
        Some(38) => return Some(DoorForced),
        Some(41) => return Some(Tamper),
        _ => {}
    }
    let text = text.to_lowercase();
    [
        ("forced", DoorForced),
        ("too long", DoorHeldOpen),
        ("door open", DoorOpened),
        ("door closed", DoorClosed),
        ("tamper", Tamper),
    ]
    .into_iter()
    .find(|(words, _)| text.contains(words))
    .map(|(_, kind)| kind)
}

/// `direction`: 1 (or "in") in, 2 (or "out") out; in when absent.
fn direction(v: Option<&Value>) -> Result<Direction, Refusal> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Direction::In);
    };
    match text_of(v).map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        Some("1" | "in") => Ok(Direction::In),
        Some("2" | "out") => Ok(Direction::Out),
        _ => Err(Refusal::unexpected(
            "direction",
            &v.to_string(),
            "1 (in), 2 (out)",
        )),
    }
}
