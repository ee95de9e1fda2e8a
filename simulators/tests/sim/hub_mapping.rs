//! The simulated vendor devices against the hub's own mapping
//! (`monban_connectors::mqtt::mapping`): every message the simulator sends for a door of
//! `scenarios/vendors.toml` — events, last wills, birth messages, heartbeats — goes
//! through the `[[mqtt.sources]]` that file documents for the hub, and must come out as
//! the event, status or heartbeat it stands for, never as a dead letter.

use chrono::{DateTime, TimeDelta, Utc};
use monban_connectors::mqtt::mapping::{route, ContactState, Output, Source};
use monban_connectors::mqtt::SourceConfig;
use monban_core::{Credential, CredentialType, Direction, DoorEventKind, DoorId, Timestamp};
use monban_sim::mqtt_door::{DeviceState, Format, Happening, Profile, Publication, Stamp};
use serde::Deserialize;

const VENDORS: &str = include_str!("../../scenarios/vendors.toml");

#[derive(Deserialize)]
struct Doc {
    mqtt: Mqtt,
}

#[derive(Deserialize)]
struct Mqtt {
    sources: Vec<SourceConfig>,
}

/// The `[[mqtt.sources]]` block of the scenario's comment, compiled by the hub.
fn sources() -> Vec<Source> {
    let block: String = VENDORS
        .lines()
        .filter_map(|l| l.strip_prefix("#   "))
        .map(|l| format!("{l}\n"))
        .collect();
    let doc: Doc = toml::from_str(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    assert_eq!(doc.mqtt.sources.len(), 5, "{block}");
    doc.mqtt
        .sources
        .iter()
        .map(|c| c.compile().unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// The scenario's vendor doors.
fn devices() -> Vec<(DoorId, Profile)> {
    let s = monban_sim::scenario::parse(VENDORS).expect("vendors.toml parses");
    s.doors.into_iter().map(|(d, v)| (d, v.profile)).collect()
}

fn device(format: Format) -> (DoorId, Profile) {
    devices()
        .into_iter()
        .find(|(_, p)| p.format() == format)
        .unwrap_or_else(|| panic!("vendors.toml has a {format} door"))
}

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T09:00:00+09:00")
        .expect("time")
        .with_timezone(&Utc)
}

/// The hub's side: routes each message to its source and maps it, remembering contact
/// levels as the driver does once a message is stored.
struct Hub {
    sources: Vec<Source>,
    contacts: ContactState,
    arrived: DateTime<Utc>,
}

impl Hub {
    fn new() -> Hub {
        Hub {
            sources: sources(),
            contacts: ContactState::new(),
            // Arrival a little after the device's own time, to tell them apart.
            arrived: at() + TimeDelta::seconds(5),
        }
    }

    /// What the hub makes of `p`, one line per output. Each message arrives a second
    /// after the previous one.
    fn feed(&mut self, p: &Publication) -> Vec<String> {
        self.arrived += TimeDelta::seconds(1);
        let source = route(&self.sources, &p.topic)
            .unwrap_or_else(|| panic!("no source takes topic {}", p.topic));
        let mapped = source.map(
            &p.topic,
            p.payload.as_bytes(),
            Timestamp::from(self.arrived),
            &self.contacts,
        );
        if let Some(update) = mapped.contact {
            self.contacts.commit(update);
        }
        mapped
            .outputs
            .into_iter()
            .map(|o| describe(&o, self.arrived))
            .collect()
    }

    fn feed_all(&mut self, pubs: &[Publication]) -> Vec<String> {
        pubs.iter().flat_map(|p| self.feed(p)).collect()
    }
}

/// `event {door} {kind} {direction} {credential} {device|arrival}`, `status {door}
/// {state} {…}`, `heartbeat {door}`, `ignored`, or `REFUSED …`.
fn describe(o: &Output, arrived: DateTime<Utc>) -> String {
    let when = |ts: Timestamp| {
        if ts == Timestamp::from(at()) {
            "device-time"
        } else if ts == Timestamp::from(arrived) {
            "arrival"
        } else {
            "other-time"
        }
    };
    match o {
        Output::Event(e) => format!(
            "event {} {} {} {} {}",
            e.door,
            e.kind.as_str(),
            e.direction.as_str(),
            e.credential
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            when(e.ts)
        ),
        Output::Status(s) => format!("status {} {} {}", s.door, s.status.as_str(), when(s.ts)),
        Output::Heartbeat { door, .. } => format!("heartbeat {door}"),
        Output::Ignored { .. } => "ignored".into(),
        Output::Refused { refusal, .. } => format!("REFUSED {refusal}"),
    }
}

fn stamp(event_id: u64) -> Stamp {
    Stamp {
        at: at(),
        event_id,
        late: false,
    }
}

fn encode(p: &Profile, h: &Happening, event_id: u64) -> Vec<Publication> {
    p.encode(h, &stamp(event_id))
        .unwrap_or_else(|e| panic!("{h}: {e}"))
}

fn badge(kind: DoorEventKind, ctype: CredentialType, id: &str) -> Happening {
    Happening::Event {
        kind,
        direction: Direction::In,
        credential: Credential::new(ctype, id).ok(),
    }
}

fn event(kind: DoorEventKind) -> Happening {
    Happening::Event {
        kind,
        direction: Direction::In,
        credential: None,
    }
}

fn will_and_birth(hub: &mut Hub, p: &Profile) -> (Vec<String>, Vec<String>) {
    let will = p.last_will().map(|w| hub.feed(&w)).unwrap_or_default();
    let birth = hub.feed_all(&p.birth(at(), &DeviceState::default()));
    (will, birth)
}

#[test]
fn the_documented_sources_cover_every_vendor_door_of_the_scenario() {
    let sources = sources();
    for (door, p) in devices() {
        let covered = sources.iter().any(|s| s.doors().contains(&door));
        assert!(covered, "no source for {door} ({})", p.format());
    }
}

#[test]
fn esp_rfid_as_the_hub_reads_it() {
    let (door, p) = device(Format::EspRfid);
    let mut hub = Hub::new();
    let (will, birth) = will_and_birth(&mut hub, &p);
    assert_eq!(will, vec![format!("status {door} offline arrival")]);
    assert_eq!(
        birth,
        vec![
            format!("status {door} online arrival"),
            format!("status {door} online device-time"),
            format!("heartbeat {door}"),
        ]
    );
    let cases = [
        (
            badge(
                DoorEventKind::AccessGranted,
                CredentialType::Card,
                "040026D8",
            ),
            "access_granted in card:040026D8 device-time",
        ),
        (
            badge(
                DoorEventKind::AccessDenied,
                CredentialType::Card,
                "0BADCAFE",
            ),
            "access_denied in card:0BADCAFE device-time",
        ),
        (Happening::Contact(true), "door_opened in - device-time"),
        (Happening::Contact(false), "door_closed in - device-time"),
        (
            event(DoorEventKind::DoorForced),
            "door_forced in - device-time",
        ),
        (
            event(DoorEventKind::DoorHeldOpen),
            "door_held_open in - device-time",
        ),
        (Happening::Tamper(true), "tamper in - arrival"),
    ];
    for (h, want) in cases {
        assert_eq!(
            hub.feed_all(&encode(&p, &h, 1)),
            vec![format!("event {door} {want}")],
            "{h}"
        );
    }
    // The switch going back to normal is no event.
    assert!(hub
        .feed_all(&encode(&p, &Happening::Tamper(false), 1))
        .iter()
        .all(|o| !o.starts_with("event") && !o.starts_with("REFUSED")));
    let beat = p
        .heartbeat(at(), &DeviceState::default())
        .expect("heartbeats");
    assert_eq!(hub.feed_all(&beat), vec![format!("heartbeat {door}")]);
}

#[test]
fn uhppoted_as_the_hub_reads_it() {
    let (door, p) = device(Format::Uhppoted);
    let mut hub = Hub::new();
    assert_eq!(will_and_birth(&mut hub, &p), (vec![], vec![]));
    let cases = [
        (
            badge(
                DoorEventKind::AccessGranted,
                CredentialType::Card,
                "8165538",
            ),
            "access_granted in card:8165538",
        ),
        (
            badge(DoorEventKind::AccessDenied, CredentialType::Card, "8165538"),
            "access_denied in card:8165538",
        ),
        (Happening::Contact(true), "door_opened in -"),
        (Happening::Contact(false), "door_closed in -"),
        (event(DoorEventKind::DoorForced), "door_forced in -"),
        (event(DoorEventKind::DoorHeldOpen), "door_held_open in -"),
        (Happening::Tamper(true), "tamper in -"),
    ];
    for (h, want) in cases {
        assert_eq!(
            hub.feed_all(&encode(&p, &h, 77)),
            vec![format!("event {door} {want} device-time")],
            "{h}"
        );
    }
    let out = Happening::Event {
        kind: DoorEventKind::AccessGranted,
        direction: Direction::Out,
        credential: Credential::new(CredentialType::Card, "8165538").ok(),
    };
    assert_eq!(
        hub.feed_all(&encode(&p, &out, 78)),
        vec![format!(
            "event {door} access_granted out card:8165538 device-time"
        )]
    );
    // Caught up after an outage, on the feed topic: the same event id, so a repeat of
    // a live event is stored once.
    let late = p
        .encode(
            &event(DoorEventKind::DoorForced),
            &Stamp {
                late: true,
                ..stamp(77)
            },
        )
        .expect("encodes");
    assert_eq!(
        hub.feed_all(&late),
        vec![format!("event {door} door_forced in - device-time")]
    );
    let ids = |pubs: &[Publication]| -> Vec<String> {
        pubs.iter()
            .flat_map(|pb| {
                let source = route(&hub.sources, &pb.topic).expect("routed");
                source
                    .map(
                        &pb.topic,
                        pb.payload.as_bytes(),
                        Timestamp::from(at()),
                        &hub.contacts,
                    )
                    .outputs
            })
            .filter_map(|o| match o {
                Output::Event(e) => Some(e.event_id),
                _ => None,
            })
            .collect()
    };
    let live = encode(&p, &event(DoorEventKind::DoorForced), 77);
    assert_eq!(ids(&live), ids(&late));
    assert_eq!(ids(&live), vec!["uh-405419896-77".to_string()]);
}

#[test]
fn contacts_as_the_hub_reads_them() {
    for format in [Format::Tasmota, Format::Esphome, Format::Shelly] {
        let (door, p) = device(format);
        let mut hub = Hub::new();
        let (will, birth) = will_and_birth(&mut hub, &p);
        assert_eq!(
            will,
            vec![format!("status {door} offline arrival")],
            "{format}"
        );
        // Online, and the contact level the device reports at connect (the first level
        // the hub sees counts as a change).
        assert_eq!(
            birth[0],
            format!("status {door} online arrival"),
            "{format}"
        );
        assert!(
            birth.contains(&format!("event {door} door_closed in - arrival")),
            "{format}: {birth:?}"
        );
        assert!(
            !birth.iter().any(|o| o.starts_with("REFUSED")),
            "{format}: {birth:?}"
        );
        let open = hub.feed_all(&encode(&p, &Happening::Contact(true), 1));
        assert_eq!(
            open,
            vec![format!("event {door} door_opened in - arrival")],
            "{format}"
        );
        let again = hub.feed_all(&encode(&p, &event(DoorEventKind::DoorOpened), 1));
        assert!(
            !again
                .iter()
                .any(|o| o.starts_with("event") || o.starts_with("REFUSED")),
            "{format}: no change, no event: {again:?}"
        );
        let closed = hub.feed_all(&encode(&p, &Happening::Contact(false), 1));
        assert_eq!(
            closed,
            vec![format!("event {door} door_closed in - arrival")],
            "{format}"
        );
    }
    let (door, shelly) = device(Format::Shelly);
    let mut hub = Hub::new();
    assert_eq!(
        hub.feed_all(&encode(&shelly, &Happening::Tamper(true), 1)),
        vec![format!("event {door} tamper in - arrival")]
    );
    assert!(!hub
        .feed_all(&encode(&shelly, &Happening::Tamper(false), 1))
        .iter()
        .any(|o| o.starts_with("event") || o.starts_with("REFUSED")));
    // Tasmota's telemetry is a heartbeat (and SENSOR carries the level).
    let (door, tasmota) = device(Format::Tasmota);
    let mut hub = Hub::new();
    let beat = tasmota
        .heartbeat(at(), &DeviceState::default())
        .expect("TelePeriod");
    let out = hub.feed_all(&beat);
    assert!(out.contains(&format!("heartbeat {door}")), "{out:?}");
    assert!(!out.iter().any(|o| o.starts_with("REFUSED")), "{out:?}");
}
