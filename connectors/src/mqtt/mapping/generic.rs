//! The generic mapping: a topic pattern with captures and a value spec per field of a
//! door event, for devices no preset knows. Plain-text payloads work through
//! `{payload}`; JSON payloads through pointers.
//!
//! The payload is parsed as JSON only when some spec points into it, so a plain-text
//! device never fails on "not JSON".

use super::config::{Check, GenericConfig, ValueSpecConfig};
use super::topic::TopicPattern;
use super::value::{credential, hash8, parse_time, Expr, Input, Piece, Spec, ValueMap};
use super::{Mapped, MappingError, Output, Refusal};
use chrono::FixedOffset;
use monban_core::event::parse_event_id;
use monban_core::{
    CredentialType, Direction, DoorEvent, DoorEventKind, DoorId, DoorStatus, StatusChange,
    Timestamp,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a `kind` value may map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Event(DoorEventKind),
    Status(DoorStatus),
    Heartbeat,
    Ignore,
}

const EXTRA_TARGETS: [&str; 4] = ["online", "offline", "heartbeat", "ignore"];

fn target(s: &str) -> Option<Target> {
    let s = s.trim().to_ascii_lowercase();
    match s.as_str() {
        "online" => Some(Target::Status(DoorStatus::Online)),
        "offline" => Some(Target::Status(DoorStatus::Offline)),
        "heartbeat" => Some(Target::Heartbeat),
        "ignore" => Some(Target::Ignore),
        other => other.parse().ok().map(Target::Event),
    }
}

fn targets_list() -> String {
    DoorEventKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(EXTRA_TARGETS)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generic {
    prefix: String,
    pattern: TopicPattern,
    door: Spec,
    door_map: BTreeMap<String, DoorId>,
    kind: Spec,
    event_id: Option<Spec>,
    ts: Option<Spec>,
    offset: FixedOffset,
    direction: Spec,
    credential_type: Spec,
    credential_id: Option<Spec>,
    needs_json: bool,
}

impl Generic {
    pub(crate) fn compile(
        c: &GenericConfig,
        check: &Check,
        prefix: String,
    ) -> Result<Generic, MappingError> {
        let pattern = TopicPattern::parse(&c.topic).map_err(|m| check.err("topic", m))?;
        let captures = pattern.capture_names();
        let spec = |key: &str, raw: &ValueSpecConfig| -> Result<Spec, MappingError> {
            let (field, map, default) = match raw {
                ValueSpecConfig::Text(s) => (s.as_str(), None, None),
                ValueSpecConfig::Table {
                    field,
                    map,
                    default,
                } => (field.as_str(), Some(map), default.clone()),
            };
            let expr = Expr::parse(field, &captures).map_err(|m| check.err(key, m))?;
            let map = match map {
                Some(m) if !m.is_empty() => {
                    Some(ValueMap::new(m).map_err(|msg| check.err(format!("{key}.map"), msg))?)
                }
                _ => None,
            };
            Ok(Spec { expr, map, default })
        };
        let check_outputs = |key: &str, spec: &Spec, ok: &dyn Fn(&str) -> Result<(), String>| {
            spec.known_outputs()
                .into_iter()
                .try_for_each(|v| ok(v).map_err(|m| check.err(key, m)))
        };

        let door = spec("door", &c.door)?;
        let mut door_map = BTreeMap::new();
        for (from, to) in &c.door_map {
            if from.trim().is_empty() {
                return Err(check.err("door_map", "a key must not be empty"));
            }
            door_map.insert(from.clone(), check.door(&format!("door_map.{from:?}"), to)?);
        }
        if door_map.is_empty() {
            check_outputs("door", &door, &|v| {
                DoorId::parse(v).map(drop).map_err(|e| {
                    format!("{e}; use a door id from [[doors]], a {{template}} or a /pointer")
                })
            })?;
        } else {
            check_outputs("door", &door, &|v| {
                if door_map.contains_key(v) {
                    Ok(())
                } else {
                    Err(format!("{v:?} is not a key of door_map"))
                }
            })?;
        }

        let kind = spec("kind", &c.kind)?;
        check_outputs("kind", &kind, &|v| {
            target(v)
                .map(drop)
                .ok_or_else(|| format!("{v:?} is not a kind; expected one of: {}", targets_list()))
        })?;

        let event_id = c
            .event_id
            .as_ref()
            .map(|s| spec("event_id", s))
            .transpose()?;
        if let Some(id) = &event_id {
            let from_message = match &id.expr {
                Expr::Literal(_) => false,
                Expr::Pointer(_) => true,
                Expr::Template(pieces) => pieces
                    .iter()
                    .any(|p| matches!(p, Piece::Pointer(_) | Piece::Payload)),
            };
            if !from_message {
                return Err(check.err(
                    "event_id",
                    "must come from the payload (a /pointer or a template with {/pointer}): with an id that does not change, every message would be taken for a repeat of the first; leave event_id out to use a hash of the payload",
                ));
            }
        }

        let ts = c.ts.as_ref().map(|s| spec("ts", s)).transpose()?;
        let direction = match &c.direction {
            Some(d) => spec("direction", d)?,
            None => Spec::literal("in"),
        };
        check_outputs("direction", &direction, &|v| {
            v.parse::<Direction>().map(drop)
        })?;
        let credential_type = match &c.credential_type {
            Some(t) => spec("credential_type", t)?,
            None => Spec::literal("card"),
        };
        check_outputs("credential_type", &credential_type, &|v| {
            v.parse::<CredentialType>().map(drop)
        })?;
        let credential_id = c
            .credential_id
            .as_ref()
            .map(|s| spec("credential_id", s))
            .transpose()?;

        let needs_json = [Some(&door), Some(&kind), event_id.as_ref(), ts.as_ref()]
            .into_iter()
            .chain([
                Some(&direction),
                Some(&credential_type),
                credential_id.as_ref(),
            ])
            .flatten()
            .any(Spec::uses_json);
        Ok(Generic {
            prefix,
            pattern,
            door,
            door_map,
            kind,
            event_id,
            ts,
            offset: check.offset(c.utc_offset.as_deref())?,
            direction,
            credential_type,
            credential_id,
            needs_json,
        })
    }

    pub(crate) fn filters(&self) -> Vec<String> {
        vec![self.pattern.filter()]
    }

    pub(crate) fn doors(&self) -> BTreeSet<DoorId> {
        if self.door_map.is_empty() {
            self.door
                .known_outputs()
                .into_iter()
                .filter_map(|d| DoorId::parse(d).ok())
                .collect()
        } else {
            self.door_map.values().cloned().collect()
        }
    }

    pub(crate) fn templated_door(&self) -> bool {
        !self.door.is_fixed()
    }

    pub(crate) fn matches(&self, topic: &str) -> bool {
        self.pattern.matches(topic).is_some()
    }

    fn door_of(&self, input: &Input<'_>) -> Result<DoorId, Refusal> {
        let rendered = self
            .door
            .eval(input, "door")?
            .ok_or_else(|| Refusal::Missing("door (the payload does not have it)".into()))?;
        if self.door_map.is_empty() {
            return DoorId::parse(rendered.as_str())
                .map_err(|e| Refusal::Invalid(format!("door: {e}")));
        }
        self.door_map
            .get(&rendered)
            .or_else(|| {
                self.door_map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(rendered.trim()))
                    .map(|(_, d)| d)
            })
            .cloned()
            .ok_or_else(|| {
                Refusal::NotConfigured(format!(
                    "door {rendered:?} is not in door_map (configured: {})",
                    self.door_map
                        .keys()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    pub(crate) fn map(&self, topic: &str, payload: &[u8], arrived: Timestamp) -> Mapped {
        let Some(captures) = self.pattern.matches(topic) else {
            return Mapped::refused(
                None,
                Refusal::NotConfigured(format!(
                    "topic {topic:?} does not match this source's topic"
                )),
            );
        };
        let json: Result<Value, String> = if self.needs_json {
            serde_json::from_slice(payload).map_err(|e| e.to_string())
        } else {
            Err(String::new())
        };
        let input = Input {
            captures: &captures,
            payload,
            json: &json,
        };
        match self.map_input(&input, topic, arrived) {
            Ok(outputs) => Mapped::outputs(outputs),
            Err(refusal) => Mapped::refused(self.door_of(&input).ok(), refusal),
        }
    }

    fn map_input(
        &self,
        input: &Input<'_>,
        topic: &str,
        arrived: Timestamp,
    ) -> Result<Vec<Output>, Refusal> {
        let kind = self
            .kind
            .eval(input, "kind")?
            .ok_or_else(|| Refusal::Missing("kind (the payload does not have it)".into()))?;
        let target =
            target(&kind).ok_or_else(|| Refusal::unexpected("kind", &kind, targets_list()))?;
        if target == Target::Ignore {
            return Ok(vec![Output::Ignored {
                door: self.door_of(input).ok(),
                why: "the kind map says ignore".into(),
            }]);
        }
        let door = self.door_of(input)?;
        let ts = match &self.ts {
            None => arrived,
            Some(spec) => {
                let raw = spec
                    .eval(input, "ts")?
                    .ok_or_else(|| Refusal::Missing("ts (the payload does not have it)".into()))?;
                parse_time(&raw, self.offset, arrived)
                    .map_err(|m| Refusal::Invalid(format!("ts: {m}")))?
            }
        };
        let kind = match target {
            // Answered above, before the door was needed.
            Target::Ignore => {
                return Ok(vec![Output::Ignored {
                    door: Some(door),
                    why: "the kind map says ignore".into(),
                }])
            }
            Target::Status(status) => {
                return Ok(vec![Output::Status(StatusChange { door, ts, status })])
            }
            // Alive when the device said so, but never later than we heard it.
            Target::Heartbeat => {
                return Ok(vec![Output::Heartbeat {
                    door,
                    ts: ts.min(arrived),
                }])
            }
            Target::Event(kind) => kind,
        };
        let id = match &self.event_id {
            Some(spec) => spec.eval(input, "event_id")?.ok_or_else(|| {
                Refusal::Missing("event_id (the payload does not have it)".into())
            })?,
            None => format!(
                "{}-{}",
                ts.as_millis(),
                hash8(&[topic.as_bytes(), input.payload])
            ),
        };
        if id.trim().is_empty() {
            return Err(Refusal::Invalid("event_id is empty".into()));
        }
        let event_id = parse_event_id(&format!("{}-{}", self.prefix, id.trim()))
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        let access = matches!(
            kind,
            DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
        );
        let (direction, credential) = if access {
            let direction = self
                .direction
                .eval(input, "direction")?
                .map(|d| d.trim().to_ascii_lowercase())
                .map_or(Ok(Direction::In), |d| {
                    d.parse::<Direction>()
                        .map_err(|_| Refusal::unexpected("direction", &d, "in, out"))
                })?;
            let credential = match &self.credential_id {
                None => None,
                Some(spec) => {
                    let id = spec.eval(input, "credential_id")?.ok_or_else(|| {
                        Refusal::Missing("credential_id (the payload does not have it)".into())
                    })?;
                    let kind_text = self
                        .credential_type
                        .eval(input, "credential_type")?
                        .unwrap_or_else(|| "card".into());
                    let kind = kind_text.trim().parse::<CredentialType>().map_err(|_| {
                        Refusal::unexpected(
                            "credential_type",
                            &kind_text,
                            CredentialType::ALL
                                .iter()
                                .map(|c| c.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        )
                    })?;
                    Some(credential(kind, &id)?)
                }
            };
            (direction, credential)
        } else {
            (Direction::In, None)
        };
        Ok(vec![Output::Event(DoorEvent {
            door,
            event_id,
            ts,
            kind,
            direction,
            credential,
        })])
    }
}
