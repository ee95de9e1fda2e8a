//! Pure decoding of what the broker delivers: topic → door and kind, payload → a
//! [`DoorEvent`] or a [`StatusChange`], or a [`DecodeError`] that becomes a dead letter.
//!
//! No I/O and no clock: the arrival time comes in as an argument (a bare `online` /
//! `offline` takes it as its time, CONTRACT §5).
//!
//! Decisions:
//! - The topic is checked before the payload, so a message on a foreign topic is
//!   reported as such whatever its payload. A topic of another site can reach us: a
//!   persistent session keeps the subscriptions of an earlier configuration.
//! - Payloads over [`MAX_PAYLOAD`] (64 KiB, the HTTP limit of CONTRACT §9) are refused
//!   before any parsing. The dead letter keeps only the first [`MAX_PAYLOAD`] bytes and
//!   says so in its reason, so that one runaway controller cannot fill the store.
//! - Whether the door exists in the inventory is not decided here: that is the
//!   server's business (its sink may dead-letter an unknown door itself).

use crate::sink::DeadLetter;
use monban_core::{DoorEvent, DoorId, IdError, InputError, SiteId, StatusChange, Timestamp};

/// The largest payload the connector parses.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// The `source` of every dead letter this connector writes.
pub const SOURCE: &str = "mqtt";

/// Which of the two door topics a message came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    /// `monban/{site}/door/{door}/event`
    Event,
    /// `monban/{site}/door/{door}/status`
    Status,
}

/// A message that can be handed to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Event(DoorEvent),
    Status(StatusChange),
}

/// Why a message cannot be used. Every variant ends as a dead letter; none stops the
/// connector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The topic is not `monban/{site}/door/{door}/event|status` for our site.
    #[error("topic {topic:?} does not match monban/{site}/door/{{door}}/event or monban/{site}/door/{{door}}/status")]
    UnexpectedTopic { topic: String, site: String },
    /// The door segment of the topic is not a valid door id.
    #[error("door in topic: {0}")]
    InvalidDoor(#[from] IdError),
    /// The payload is larger than [`MAX_PAYLOAD`].
    #[error("payload of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// The payload is not a valid event or status (not JSON, a missing field, an
    /// unknown kind or credential type, a bad time, …).
    #[error("{0}")]
    Payload(#[from] InputError),
}

impl DecodeError {
    /// A snake_case code, the same vocabulary as the HTTP error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::UnexpectedTopic { .. } => "unexpected_topic",
            DecodeError::InvalidDoor(_) => "invalid_door",
            DecodeError::TooLarge { .. } => "payload_too_large",
            DecodeError::Payload(e) => e.code(),
        }
    }

    /// The reason recorded in a dead letter: `code: message`.
    pub fn reason(&self) -> String {
        format!("{}: {}", self.code(), self)
    }
}

/// The two subscription filters for a site, in the order they are subscribed.
pub fn filters(site: &SiteId) -> [String; 2] {
    [
        format!("monban/{site}/door/+/event"),
        format!("monban/{site}/door/+/status"),
    ]
}

/// Splits `monban/{site}/door/{door}/event|status`.
pub fn parse_topic(site: &SiteId, topic: &str) -> Result<(DoorId, TopicKind), DecodeError> {
    let unexpected = || DecodeError::UnexpectedTopic {
        topic: topic.to_string(),
        site: site.to_string(),
    };
    let mut parts = topic.split('/');
    let (Some("monban"), Some(s), Some("door"), Some(door), Some(kind), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(unexpected());
    };
    if s != site.as_str() {
        return Err(unexpected());
    }
    let kind = match kind {
        "event" => TopicKind::Event,
        "status" => TopicKind::Status,
        _ => return Err(unexpected()),
    };
    Ok((DoorId::parse(door)?, kind))
}

/// Decodes one message. `arrived` is the time a bare status word takes.
pub fn decode(
    site: &SiteId,
    topic: &str,
    payload: &[u8],
    arrived: Timestamp,
) -> Result<Decoded, DecodeError> {
    let (door, kind) = parse_topic(site, topic)?;
    if payload.len() > MAX_PAYLOAD {
        return Err(DecodeError::TooLarge {
            size: payload.len(),
            limit: MAX_PAYLOAD,
        });
    }
    Ok(match kind {
        TopicKind::Event => Decoded::Event(DoorEvent::from_json(payload, Some(&door))?),
        TopicKind::Status => Decoded::Status(StatusChange::parse(&door, payload, arrived)?),
    })
}

/// The dead letter for a message that could not be decoded. An oversized payload is
/// cut to its first [`MAX_PAYLOAD`] bytes.
pub fn dead_letter(
    topic: &str,
    payload: &[u8],
    error: &DecodeError,
    received_at: Timestamp,
) -> DeadLetter {
    let mut reason = error.reason();
    let payload = if payload.len() > MAX_PAYLOAD {
        reason.push_str(&format!(" (only the first {MAX_PAYLOAD} bytes are kept)"));
        payload[..MAX_PAYLOAD].to_vec()
    } else {
        payload.to_vec()
    };
    // The door named by a native topic, when it is one, for the door's health.
    let door = topic
        .strip_prefix("monban/")
        .and_then(|rest| rest.split('/').nth(2))
        .and_then(|d| DoorId::parse(d).ok());
    DeadLetter {
        source: SOURCE.to_string(),
        origin: topic.to_string(),
        door,
        payload,
        reason,
        received_at,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use monban_core::{DoorEventKind, DoorStatus};

    fn site() -> SiteId {
        SiteId::parse("tokyo-general").unwrap()
    }
    const T: Timestamp = Timestamp::MIN;
    const EVENT: &[u8] =
        br#"{"event_id": "d-000123", "ts": "2026-11-21T09:00:00+09:00", "kind": "access_granted",
 "direction": "in", "credential": {"type": "card", "id": "04A1B2C3"}}"#;

    #[test]
    fn filters_follow_the_contract() {
        assert_eq!(
            filters(&site()),
            [
                "monban/tokyo-general/door/+/event".to_string(),
                "monban/tokyo-general/door/+/status".to_string()
            ]
        );
    }

    #[test]
    fn topics() {
        let ok = |t: &str| parse_topic(&site(), t).map(|(d, k)| (d.to_string(), k));
        assert_eq!(
            ok("monban/tokyo-general/door/ward3-main/event"),
            Ok(("ward3-main".into(), TopicKind::Event))
        );
        assert_eq!(
            ok("monban/tokyo-general/door/ward3-main/status"),
            Ok(("ward3-main".into(), TopicKind::Status))
        );
        for bad in [
            "monban/other-site/door/ward3-main/event",
            "monban/tokyo-general/door/ward3-main/events",
            "monban/tokyo-general/door/ward3-main",
            "monban/tokyo-general/door/ward3-main/event/extra",
            "monban/tokyo-general/doors/ward3-main/event",
            "hub/tokyo-general/door/ward3-main/event",
            "",
        ] {
            assert_eq!(
                parse_topic(&site(), bad).unwrap_err().code(),
                "unexpected_topic",
                "{bad:?}"
            );
        }
        for bad in [
            "monban/tokyo-general/door/扉/event",
            "monban/tokyo-general/door//event",
        ] {
            assert_eq!(
                parse_topic(&site(), bad).unwrap_err().code(),
                "invalid_door",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn decodes_the_contract_event() {
        let Decoded::Event(e) = decode(
            &site(),
            "monban/tokyo-general/door/ward3-main/event",
            EVENT,
            T,
        )
        .unwrap() else {
            panic!("not an event")
        };
        assert_eq!(
            (e.door.as_str(), e.event_id.as_str(), e.kind),
            ("ward3-main", "d-000123", DoorEventKind::AccessGranted)
        );
    }

    #[test]
    fn decodes_status_words_and_json() {
        let topic = "monban/tokyo-general/door/ward3-main/status";
        let arrived = Timestamp::from_millis(42);
        let cases: &[(&[u8], DoorStatus, Timestamp)] = &[
            (b"offline", DoorStatus::Offline, arrived),
            (b"online", DoorStatus::Online, arrived),
            (b"\"online\"", DoorStatus::Online, arrived),
            (
                br#"{"state":"offline","ts":"2026-11-21T09:00:00+09:00"}"#,
                DoorStatus::Offline,
                Timestamp::parse_rfc3339("2026-11-21T00:00:00Z").unwrap(),
            ),
        ];
        for (payload, status, ts) in cases {
            let Decoded::Status(s) = decode(&site(), topic, payload, arrived).unwrap() else {
                panic!("not a status")
            };
            assert_eq!(
                (s.status, s.ts, s.door.as_str()),
                (*status, *ts, "ward3-main")
            );
        }
    }

    #[test]
    fn refusals_carry_a_code() {
        let ev = "monban/tokyo-general/door/ward3-main/event";
        let st = "monban/tokyo-general/door/ward3-main/status";
        let big = vec![b' '; MAX_PAYLOAD + 1];
        let cases: &[(&str, &[u8], &str)] = &[
            (ev, b"garbage", "malformed_request"),
            (ev, br#"{"ts":"2026-11-21T00:00:00Z","kind":"tamper"}"#, "malformed_request"),
            (ev, br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"exploded"}"#, "unknown_event_kind"),
            (ev, br#"{"event_id":"x","ts":"noon","kind":"tamper"}"#, "invalid_timestamp"),
            (
                ev,
                br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"access_granted","credential":{"type":"badge","id":"1"}}"#,
                "unknown_credential_type",
            ),
            (ev, br#"{"event_id":"x","ts":"2026-11-21T00:00:00Z","kind":"tamper","door":"elsewhere"}"#, "door_mismatch"),
            (ev, &big, "payload_too_large"),
            (st, b"sleepy", "unknown_status"),
            (st, b"", "malformed_request"),
            (st, &big, "payload_too_large"),
            ("monban/other/door/ward3-main/event", EVENT, "unexpected_topic"),
        ];
        for (topic, payload, code) in cases {
            let err = decode(&site(), topic, payload, T).unwrap_err();
            assert_eq!(
                err.code(),
                *code,
                "{topic} {:?}: {err}",
                String::from_utf8_lossy(&payload[..payload.len().min(80)])
            );
            assert!(err.reason().starts_with(code), "{}", err.reason());
        }
    }

    #[test]
    fn exactly_the_limit_is_parsed() {
        let mut payload = EVENT.to_vec();
        payload.resize(MAX_PAYLOAD, b' ');
        assert!(decode(
            &site(),
            "monban/tokyo-general/door/ward3-main/event",
            &payload,
            T
        )
        .is_ok());
    }

    #[test]
    fn dead_letter_keeps_the_payload_and_cuts_oversize() {
        let err = DecodeError::Payload(InputError::Malformed("bad".into()));
        let dl = dead_letter("t", b"garbage", &err, T);
        assert_eq!(
            (
                dl.source.as_str(),
                dl.origin.as_str(),
                dl.payload.as_slice()
            ),
            ("mqtt", "t", &b"garbage"[..])
        );
        assert_eq!(dl.reason, "malformed_request: bad");

        let big = vec![b'x'; MAX_PAYLOAD * 2];
        let err = DecodeError::TooLarge {
            size: big.len(),
            limit: MAX_PAYLOAD,
        };
        let dl = dead_letter("t", &big, &err, T);
        assert_eq!(dl.payload.len(), MAX_PAYLOAD);
        assert!(
            dl.reason
                .starts_with("payload_too_large: payload of 131072 bytes"),
            "{}",
            dl.reason
        );
        assert!(
            dl.reason.contains("only the first 65536 bytes are kept"),
            "{}",
            dl.reason
        );
    }
}
