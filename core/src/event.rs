//! Door events, door status changes and logins: their wire shapes (CONTRACT §5, §7) and
//! the domain values they are parsed into.
//!
//! Parsing is the edge: a payload becomes a [`DoorEvent`], [`StatusChange`] or [`Login`]
//! or an [`InputError`] that says what is wrong. The error keeps apart a payload that is
//! not the right shape ([`InputError::Malformed`], HTTP 400) from a well-formed payload
//! with a value the hub does not know ([`InputError::Invalid`], HTTP 422).

use crate::factor::{Credential, CredentialType, Factor};
use crate::ids::{DoorId, SystemId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not JSON, or a required field is missing or of the wrong type.
    #[error("{0}")]
    Malformed(String),
    /// The shape is right but a value is not acceptable.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
}

impl InputError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        InputError::Invalid {
            code,
            message: message.into(),
        }
    }
    /// The snake_case code for the contract's error body.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Malformed(_) => "malformed_request",
            InputError::Invalid { code, .. } => code,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorEventKind {
    AccessGranted,
    AccessDenied,
    DoorOpened,
    DoorClosed,
    DoorForced,
    DoorHeldOpen,
    Tamper,
}

impl DoorEventKind {
    pub const ALL: [DoorEventKind; 7] = [
        DoorEventKind::AccessGranted,
        DoorEventKind::AccessDenied,
        DoorEventKind::DoorOpened,
        DoorEventKind::DoorClosed,
        DoorEventKind::DoorForced,
        DoorEventKind::DoorHeldOpen,
        DoorEventKind::Tamper,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DoorEventKind::AccessGranted => "access_granted",
            DoorEventKind::AccessDenied => "access_denied",
            DoorEventKind::DoorOpened => "door_opened",
            DoorEventKind::DoorClosed => "door_closed",
            DoorEventKind::DoorForced => "door_forced",
            DoorEventKind::DoorHeldOpen => "door_held_open",
            DoorEventKind::Tamper => "tamper",
        }
    }
    /// Events that void credit in the room for `alarm_hold` (CONTRACT §3).
    pub fn is_integrity_alarm(self) -> bool {
        matches!(
            self,
            DoorEventKind::DoorForced | DoorEventKind::DoorHeldOpen | DoorEventKind::Tamper
        )
    }
    fn takes_credential(self) -> bool {
        matches!(
            self,
            DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
        )
    }
}

impl FromStr for DoorEventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DoorEventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown door event kind {s:?}; expected one of: {}",
                    DoorEventKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

impl fmt::Display for DoorEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            other => Err(format!(
                "unknown direction {other:?}; expected \"in\" or \"out\""
            )),
        }
    }
}

/// A door event in the domain (CONTRACT §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorEvent {
    pub door: DoorId,
    pub event_id: String,
    pub ts: Timestamp,
    pub kind: DoorEventKind,
    pub direction: Direction,
    pub credential: Option<Credential>,
}

#[derive(Deserialize)]
struct DoorEventWire {
    event_id: String,
    ts: String,
    kind: String,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    credential: Option<CredentialWire>,
    #[serde(default)]
    door: Option<String>,
}

#[derive(Deserialize)]
struct CredentialWire {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

/// Checks an idempotency key (`event_id`).
pub fn parse_event_id(s: &str) -> Result<String, InputError> {
    if s.is_empty() || s.len() > 128 || s.chars().any(|c| c.is_control()) {
        return Err(InputError::invalid(
            "invalid_event_id",
            format!(
                "event_id {:?} must be 1 to 128 characters without control characters",
                s
            ),
        ));
    }
    Ok(s.to_string())
}

fn parse_ts(s: &str) -> Result<Timestamp, InputError> {
    Timestamp::parse_rfc3339(s).map_err(|m| InputError::invalid("invalid_timestamp", m))
}

fn malformed(e: serde_json::Error) -> InputError {
    InputError::Malformed(format!("request body is not valid: {e}"))
}

impl DoorEvent {
    /// Parses a door event. `door_from_topic` is the door named by the MQTT topic; when it
    /// is `None` (HTTP) the body must carry `"door"`.
    pub fn from_json(
        body: &[u8],
        door_from_topic: Option<&DoorId>,
    ) -> Result<DoorEvent, InputError> {
        let wire: DoorEventWire = serde_json::from_slice(body).map_err(malformed)?;
        let door = match (door_from_topic, wire.door.as_deref()) {
            (Some(topic), Some(body)) if body != topic.as_str() => {
                return Err(InputError::invalid(
                    "door_mismatch",
                    format!(
                        "body names door {body:?} but the topic names door {:?}",
                        topic.as_str()
                    ),
                ))
            }
            (Some(topic), _) => topic.clone(),
            (None, Some(body)) => DoorId::parse(body)
                .map_err(|e| InputError::invalid("invalid_door", e.to_string()))?,
            (None, None) => return Err(InputError::Malformed("missing field `door`".into())),
        };
        let kind: DoorEventKind = wire
            .kind
            .parse()
            .map_err(|m| InputError::invalid("unknown_event_kind", m))?;
        let direction = match wire.direction.as_deref() {
            None => Direction::In,
            Some(d) => d
                .parse()
                .map_err(|m| InputError::invalid("unknown_direction", m))?,
        };
        let credential = match wire.credential {
            None => None,
            Some(c) => {
                let kind_: CredentialType = c
                    .kind
                    .parse()
                    .map_err(|m| InputError::invalid("unknown_credential_type", m))?;
                Some(
                    Credential::new(kind_, &c.id)
                        .map_err(|m| InputError::invalid("invalid_credential", m))?,
                )
            }
        };
        let credential = if kind.takes_credential() {
            credential
        } else {
            None
        };
        Ok(DoorEvent {
            door,
            event_id: parse_event_id(&wire.event_id)?,
            ts: parse_ts(&wire.ts)?,
            kind,
            direction,
            credential,
        })
    }

    /// The wire form (CONTRACT §5), with `door`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "door": self.door.as_str(),
            "event_id": self.event_id,
            "ts": self.ts.to_rfc3339(),
            "kind": self.kind.as_str(),
        });
        if self.kind.takes_credential() {
            v["direction"] = self.direction.as_str().into();
            if let Some(c) = &self.credential {
                v["credential"] = serde_json::json!({"type": c.kind.as_str(), "id": c.id});
            }
        }
        v
    }
}

/// Door reachability (CONTRACT §5 status topic, §6 connection loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorStatus {
    Online,
    Offline,
}

impl DoorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DoorStatus::Online => "online",
            DoorStatus::Offline => "offline",
        }
    }
}

impl std::str::FromStr for DoorStatus {
    type Err = String;

    /// `online` or `offline`; anything else is an error (a stored status that cannot be
    /// read must never pass for `online`).
    fn from_str(s: &str) -> Result<DoorStatus, String> {
        match s {
            "online" => Ok(DoorStatus::Online),
            "offline" => Ok(DoorStatus::Offline),
            other => Err(format!("unknown door status {other:?}: online or offline")),
        }
    }
}

/// A change of a door's status at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub door: DoorId,
    pub ts: Timestamp,
    pub status: DoorStatus,
}

#[derive(Deserialize)]
struct StatusWire {
    state: String,
    #[serde(default)]
    ts: Option<String>,
}

impl StatusChange {
    /// Parses a status payload: a bare `online`/`offline` (taking `arrived` as its time,
    /// also when JSON-quoted) or `{"state": "online", "ts": "..."}`.
    pub fn parse(
        door: &DoorId,
        payload: &[u8],
        arrived: Timestamp,
    ) -> Result<StatusChange, InputError> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| InputError::Malformed("status payload is not UTF-8 text".into()))?
            .trim();
        let word = |w: &str| match w.to_ascii_lowercase().as_str() {
            "online" => Ok(DoorStatus::Online),
            "offline" => Ok(DoorStatus::Offline),
            other => Err(InputError::invalid(
                "unknown_status",
                format!("unknown door status {other:?}; expected \"online\" or \"offline\""),
            )),
        };
        if text.starts_with('{') {
            let wire: StatusWire = serde_json::from_str(text).map_err(malformed)?;
            let status = word(&wire.state)?;
            let ts = match wire.ts.as_deref() {
                Some(t) => parse_ts(t)?,
                None => arrived,
            };
            return Ok(StatusChange {
                door: door.clone(),
                ts,
                status,
            });
        }
        let bare = text.trim_matches('"');
        if bare.is_empty() {
            return Err(InputError::Malformed("status payload is empty".into()));
        }
        Ok(StatusChange {
            door: door.clone(),
            ts: arrived,
            status: word(bare)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            other => Err(format!(
                "unknown outcome {other:?}; expected \"success\" or \"failure\""
            )),
        }
    }
}

/// A login reported by a system (CONTRACT §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub event_id: String,
    pub ts: Timestamp,
    pub system: SystemId,
    pub account: String,
    /// The terminal as the system reported it; it may be missing from the inventory
    /// (that is a verdict reason, not an input error).
    pub terminal: String,
    pub factors: Vec<Factor>,
    pub outcome: Outcome,
}

#[derive(Deserialize)]
struct LoginWire {
    event_id: String,
    ts: String,
    system: String,
    account: String,
    terminal: String,
    factors: Vec<String>,
    outcome: String,
}

impl Login {
    pub fn from_json(body: &[u8]) -> Result<Login, InputError> {
        let wire: LoginWire = serde_json::from_slice(body).map_err(malformed)?;
        let system = SystemId::parse(wire.system)
            .map_err(|e| InputError::invalid("unknown_system", e.to_string()))?;
        let account = crate::text::Text::parse(&wire.account, crate::text::ACCOUNT)
            .map_err(|e| InputError::invalid("invalid_account", e.to_string()))?;
        let terminal = crate::text::Text::parse(&wire.terminal, crate::text::TERMINAL)
            .map_err(|e| InputError::invalid("invalid_terminal", e.to_string()))?;
        if wire.factors.is_empty() {
            return Err(InputError::invalid(
                "no_factors",
                "factors must name at least one factor",
            ));
        }
        let mut factors = Vec::with_capacity(wire.factors.len());
        for f in &wire.factors {
            let f: Factor = f
                .parse()
                .map_err(|m| InputError::invalid("unknown_factor", m))?;
            if !factors.contains(&f) {
                factors.push(f);
            }
        }
        Ok(Login {
            event_id: parse_event_id(&wire.event_id)?,
            ts: parse_ts(&wire.ts)?,
            system,
            account: account.into_string(),
            terminal: terminal.into_string(),
            factors,
            outcome: wire
                .outcome
                .parse()
                .map_err(|m| InputError::invalid("unknown_outcome", m))?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn door() -> DoorId {
        DoorId::parse("ward3-main").unwrap()
    }

    #[test]
    fn parses_contract_example() {
        let body = br#"{"event_id": "d-000123", "ts": "2026-11-21T09:00:00+09:00", "kind": "access_granted",
 "direction": "in", "credential": {"type": "card", "id": "04A1B2C3"}}"#;
        let e = DoorEvent::from_json(body, Some(&door())).unwrap();
        assert_eq!(e.kind, DoorEventKind::AccessGranted);
        assert_eq!(e.ts.to_rfc3339(), "2026-11-21T00:00:00Z");
        assert_eq!(e.credential.unwrap().to_string(), "card:04A1B2C3");
    }

    #[test]
    fn direction_defaults_to_in() {
        let e = DoorEvent::from_json(
            br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"access_granted","credential":{"type":"pin","id":"1"},"door":"d"}"#,
            None,
        )
        .unwrap();
        assert_eq!(e.direction, Direction::In);
    }

    #[test]
    fn malformed_versus_invalid() {
        let cases: &[(&[u8], bool)] = &[
            (b"not json", true),
            (br#"{"ts":"2026-11-21T00:00:00Z","kind":"tamper","door":"d"}"#, true),
            (br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"tamper"}"#, true),
            (br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"exploded","door":"d"}"#, false),
            (br#"{"event_id":"x","ts":"noon","kind":"tamper","door":"d"}"#, false),
            (
                br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"access_granted","credential":{"type":"badge","id":"1"},"door":"d"}"#,
                false,
            ),
            (br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"access_granted","direction":"up","door":"d"}"#, false),
        ];
        for (body, is_malformed) in cases {
            let e = DoorEvent::from_json(body, None).unwrap_err();
            assert_eq!(
                matches!(e, InputError::Malformed(_)),
                *is_malformed,
                "{e:?}"
            );
        }
    }

    #[test]
    fn topic_and_body_must_agree() {
        let e = DoorEvent::from_json(
            br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"tamper","door":"other"}"#,
            Some(&door()),
        )
        .unwrap_err();
        assert_eq!(e.code(), "door_mismatch");
    }

    #[test]
    fn status_payloads() {
        let now = Timestamp::from_millis(1_000);
        let s = StatusChange::parse(&door(), b"offline", now).unwrap();
        assert_eq!((s.status, s.ts), (DoorStatus::Offline, now));
        let s = StatusChange::parse(&door(), b" Online\n", now).unwrap();
        assert_eq!(s.status, DoorStatus::Online);
        let s = StatusChange::parse(
            &door(),
            br#"{"state":"offline","ts":"2026-11-21T09:00:00+09:00"}"#,
            now,
        )
        .unwrap();
        assert_eq!(s.ts.to_rfc3339(), "2026-11-21T00:00:00Z");
        assert!(StatusChange::parse(&door(), b"sleepy", now).is_err());
        assert!(StatusChange::parse(&door(), b"", now).is_err());
        assert!(StatusChange::parse(&door(), &[0xff, 0xfe], now).is_err());
    }

    #[test]
    fn login_parsing() {
        let ok = br#"{"event_id": "l-000042", "ts": "2026-11-21T09:05:00+09:00", "system": "ehr",
 "account": "nurse01", "terminal": "ward3-pc01", "factors": ["password"], "outcome": "success"}"#;
        let l = Login::from_json(ok).unwrap();
        assert_eq!(l.factors, vec![Factor::Password]);
        let bad_factor = br#"{"event_id":"l","ts":"2026-11-21T09:05:00+09:00","system":"ehr","account":"a","terminal":"t","factors":["retina"],"outcome":"success"}"#;
        assert_eq!(
            Login::from_json(bad_factor).unwrap_err().code(),
            "unknown_factor"
        );
        let missing = br#"{"event_id":"l","ts":"2026-11-21T09:05:00+09:00","system":"ehr","account":"a","terminal":"t","outcome":"success"}"#;
        assert!(matches!(
            Login::from_json(missing).unwrap_err(),
            InputError::Malformed(_)
        ));
        let bad_outcome = br#"{"event_id":"l","ts":"2026-11-21T09:05:00+09:00","system":"ehr","account":"a","terminal":"t","factors":["pin"],"outcome":"maybe"}"#;
        assert_eq!(
            Login::from_json(bad_outcome).unwrap_err().code(),
            "unknown_outcome"
        );
    }
}
