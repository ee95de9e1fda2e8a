//! Simulated MQTT door controllers in each format the hub ingests (the vendor spec of
//! `[[mqtt.sources]]`, and CONTRACT §5 for `native`), for `monban-sim mqtt-door` and for
//! vendor-format doors of a scenario ([`crate::scenario`]).
//!
//! Two layers:
//!
//! - **Pure encoders.** A [`Profile`] is one device with the identifiers of its format.
//!   [`Profile::encode`] turns a [`Happening`] (a badge, a door event, a contact or tamper
//!   change) at a given time and event id into the [`Publication`]s the real device would
//!   send, or says why that device cannot express it ([`Unsupported`]: a Tasmota contact
//!   has no card reader, esp-rfid has no direction, uhppoted card numbers are decimal).
//!   [`Profile::last_will`], [`Profile::birth`] and [`Profile::heartbeat`] give the
//!   connection's other messages. No I/O; golden tests below pin every payload.
//! - **The device.** [`MqttDoor`] owns one rumqttc connection with the format's last will.
//!   [`MqttDoor::go_offline`] closes the socket without `DISCONNECT`, so the broker
//!   publishes the last will; [`MqttDoor::connect`] comes back and sends the birth
//!   messages. [`run`] plays a line script ([`crate::script`]) with heartbeats in between
//!   and reports one line per thing that happened.
//!
//! # What each format sends (as the real device does)
//!
//! | format | events | QoS | last will | at connect | heartbeat | events while offline |
//! |---|---|---|---|---|---|---|
//! | `native` | `monban/{site}/door/{door}/event` (§5) | 1 | `…/status` `offline`, retained | `…/status` `online`, retained | — | queued, sent with their own `ts` |
//! | `esp-rfid` | `{topic}/send` (`access`, `INFO`/`WARN` events); `{topic}/io/tamper` | 0 | `{topic}/avty` `offline`, retained | `{topic}/avty` `online` (retained), `boot` | `type: heartbeat`, 180 s | lost (the firmware publishes only when connected) |
//! | `uhppoted` | `{topic}/live`; caught-up events on `{topic}` | 1, retained (`mqtt.alerts.*` defaults) | — (uhppoted-mqtt sets none) | — | — | kept by the controller, sent on `{topic}` after reconnecting |
//! | `tasmota` | `stat/{topic}/RESULT` `{"Switch1":{"Action":"ON"}}` | 0 | `tele/{topic}/LWT` `Offline`, retained | LWT `Online` (retained), `STATE`, `SENSOR` | `tele/{topic}/STATE` + `SENSOR`, 300 s (TelePeriod) | lost; the level is in the next `SENSOR` |
//! | `esphome` | `{topic}/binary_sensor/{sensor}/state` `ON`/`OFF`, retained | 0 | `{topic}/status` `offline`, retained | `status` `online`, the state | — | lost; the state is republished at connect |
//! | `shelly` | `shellies/{id}/sensor/state` `open`/`close`; `sensor/vibration` `1` | 0 | `shellies/{id}/online` `false`, retained | `online` `true`, the state | — (a Door/Window 2 sleeps) | lost; the state is republished at connect |
//!
//! `--qos` overrides the QoS of events (not of wills, birth messages or heartbeats).
//! uhppoted's event ids (`event-id`) and native `event_id`s (`d-{n}`) count up from
//! [`DeviceOptions::first_event_id`], by default [`default_first_event_id`] — tenths of a
//! second since 2023-11-14, so a simulator started again continues above the ids it used
//! before and the hub does not drop its events as repeats.

use crate::mqtt::{Mqtt, Options};
use crate::schedule::{jst, DoorMessage};
use crate::script::{self, Line};
use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, Utc};
use monban_core::{Credential, CredentialType, Direction, DoorEventKind, DoorId, SiteId};
use rumqttc::{LastWill, QoS};
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The formats a simulated controller can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Native,
    EspRfid,
    Uhppoted,
    Tasmota,
    Esphome,
    Shelly,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Native,
        Format::EspRfid,
        Format::Uhppoted,
        Format::Tasmota,
        Format::Esphome,
        Format::Shelly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::EspRfid => "esp-rfid",
            Format::Uhppoted => "uhppoted",
            Format::Tasmota => "tasmota",
            Format::Esphome => "esphome",
            Format::Shelly => "shelly",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?}; expected one of: {}",
                    Format::ALL.map(|f| f.as_str()).join(", ")
                )
            })
    }
}

/// The `ON`/`OFF` word of Tasmota and ESPHome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

impl OnOff {
    pub fn as_str(self) -> &'static str {
        match self {
            OnOff::On => "ON",
            OnOff::Off => "OFF",
        }
    }

    fn other(self) -> OnOff {
        match self {
            OnOff::On => OnOff::Off,
            OnOff::Off => OnOff::On,
        }
    }
}

impl FromStr for OnOff {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ON" => Ok(OnOff::On),
            "OFF" => Ok(OnOff::Off),
            _ => Err(format!("{s:?}: expected ON or OFF")),
        }
    }
}

/// One simulated device: a format and its identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// CONTRACT §5.
    Native { site: SiteId, door: DoorId },
    /// esp-rfid with MQTT event logging on (`cmd: event`): `topic` is its MQTT topic
    /// setting, `hostname` its device hostname (sent as `door`), `credential_type` what
    /// the hub's source says the reader reads.
    EspRfid {
        topic: String,
        hostname: String,
        credential_type: CredentialType,
    },
    /// One door of a UHPPOTE controller behind uhppoted-mqtt; `topic` is its events topic.
    Uhppoted {
        topic: String,
        device_id: u32,
        door: u8,
        utc_offset: FixedOffset,
    },
    /// A Tasmota switch input wired to a door contact (switch detached from relays).
    Tasmota {
        topic: String,
        switch: String,
        open: OnOff,
    },
    /// An ESPHome `binary_sensor` on a door contact; `topic` is the topic prefix.
    Esphome {
        topic: String,
        sensor: String,
        open: OnOff,
    },
    /// A Shelly Door/Window 2 (Gen1); `topic` is its device id (`shellydw2-…`).
    Shelly { topic: String },
}

/// The identifiers of a device as a tester gives them (`monban-sim mqtt-door` flags or a
/// scenario's `[doors.*]` table), before they are checked into a [`Profile`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    pub site: Option<String>,
    pub door: Option<String>,
    pub topic: Option<String>,
    pub hostname: Option<String>,
    pub device_id: Option<u32>,
    pub door_number: Option<u8>,
    pub credential_type: Option<String>,
    pub utc_offset: Option<String>,
    pub switch: Option<String>,
    pub sensor: Option<String>,
    pub open: Option<String>,
}

/// The default uhppoted-mqtt events topic.
pub const UHPPOTED_TOPIC: &str = "uhppoted/gateway/events";

/// Parses `+09:00`, `-05:30`, `+0900` or `Z`.
pub fn parse_utc_offset(s: &str) -> Result<FixedOffset, String> {
    let t = s.trim();
    let bad = || format!("utc_offset {s:?}: write it like \"+09:00\"");
    if t == "Z" || t == "z" {
        return FixedOffset::east_opt(0).ok_or_else(bad);
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let h: i32 = digits[..2].parse().map_err(|_| bad())?;
    let m: i32 = digits[2..].parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

fn check_topic(what: &str, t: &str) -> Result<String, String> {
    if t.is_empty() || t.contains(['+', '#', '\0']) || t.starts_with('/') || t.ends_with('/') {
        return Err(format!(
            "{what} {t:?}: an MQTT topic, without wildcards and without a leading or trailing '/'"
        ));
    }
    Ok(t.to_string())
}

impl Profile {
    /// Checks `spec` for `format`: required identifiers present, nothing that belongs to
    /// another format. Errors name the key (`device_id`, i.e. `--device-id`).
    pub fn from_spec(format: Format, spec: &Spec) -> Result<Profile, String> {
        let given: [(&str, bool, &[Format]); 11] = [
            ("site", spec.site.is_some(), &[Format::Native]),
            ("door", spec.door.is_some(), &[Format::Native]),
            (
                "topic",
                spec.topic.is_some(),
                &[
                    Format::EspRfid,
                    Format::Uhppoted,
                    Format::Tasmota,
                    Format::Esphome,
                    Format::Shelly,
                ],
            ),
            ("hostname", spec.hostname.is_some(), &[Format::EspRfid]),
            ("device_id", spec.device_id.is_some(), &[Format::Uhppoted]),
            (
                "door_number",
                spec.door_number.is_some(),
                &[Format::Uhppoted],
            ),
            (
                "credential_type",
                spec.credential_type.is_some(),
                &[Format::EspRfid],
            ),
            ("utc_offset", spec.utc_offset.is_some(), &[Format::Uhppoted]),
            ("switch", spec.switch.is_some(), &[Format::Tasmota]),
            ("sensor", spec.sensor.is_some(), &[Format::Esphome]),
            (
                "open",
                spec.open.is_some(),
                &[Format::Tasmota, Format::Esphome],
            ),
        ];
        for (key, present, formats) in given {
            if present && !formats.contains(&format) {
                return Err(format!(
                    "{key} does not apply to a {format} door (it is for {})",
                    formats
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let topic = |default: Option<&str>| -> Result<String, String> {
            match (spec.topic.as_deref(), default) {
                (Some(t), _) => check_topic("topic", t.trim()),
                (None, Some(d)) => Ok(d.to_string()),
                (None, None) => Err(format!("a {format} door needs its topic")),
            }
        };
        let open = || -> Result<OnOff, String> {
            spec.open
                .as_deref()
                .map(|o| o.parse().map_err(|e| format!("open: {e}")))
                .unwrap_or(Ok(OnOff::On))
        };
        let word = |key: &str, v: Option<&str>, default: &str| -> Result<String, String> {
            let w = v.unwrap_or(default).trim();
            if w.is_empty() || w.contains(['/', '+', '#', '\0']) {
                return Err(format!("{key} {w:?} must be a plain name"));
            }
            Ok(w.to_string())
        };
        Ok(match format {
            Format::Native => {
                let site = spec.site.as_deref().unwrap_or(crate::hospital::SITE_ID);
                let door = spec
                    .door
                    .as_deref()
                    .ok_or("a native door needs its door id (--door)")?;
                Profile::Native {
                    site: SiteId::parse(site.to_string()).map_err(|e| format!("site: {e}"))?,
                    door: DoorId::parse(door.to_string()).map_err(|e| format!("door: {e}"))?,
                }
            }
            Format::EspRfid => Profile::EspRfid {
                topic: topic(None)?,
                hostname: word("hostname", spec.hostname.as_deref(), "esp-rfid")?,
                credential_type: match spec.credential_type.as_deref() {
                    Some(t) => t.parse().map_err(|e| format!("credential_type: {e}"))?,
                    None => CredentialType::Card,
                },
            },
            Format::Uhppoted => {
                let device_id = spec
                    .device_id
                    .filter(|d| *d > 0)
                    .ok_or("a uhppoted door needs the controller's serial number (device_id)")?;
                let door = spec.door_number.ok_or(
                    "a uhppoted door needs its door number on the controller (door_number, 1..4)",
                )?;
                if !(1..=4).contains(&door) {
                    return Err(format!(
                        "door_number {door}: UHPPOTE controllers have doors 1 to 4"
                    ));
                }
                Profile::Uhppoted {
                    topic: topic(Some(UHPPOTED_TOPIC))?,
                    device_id,
                    door,
                    utc_offset: match spec.utc_offset.as_deref() {
                        Some(o) => parse_utc_offset(o)?,
                        None => jst(),
                    },
                }
            }
            Format::Tasmota => Profile::Tasmota {
                topic: topic(None)?,
                switch: word("switch", spec.switch.as_deref(), "Switch1")?,
                open: open()?,
            },
            Format::Esphome => Profile::Esphome {
                topic: topic(None)?,
                sensor: word("sensor", spec.sensor.as_deref(), "door")?,
                open: open()?,
            },
            Format::Shelly => Profile::Shelly {
                topic: topic(None)?,
            },
        })
    }

    pub fn format(&self) -> Format {
        match self {
            Profile::Native { .. } => Format::Native,
            Profile::EspRfid { .. } => Format::EspRfid,
            Profile::Uhppoted { .. } => Format::Uhppoted,
            Profile::Tasmota { .. } => Format::Tasmota,
            Profile::Esphome { .. } => Format::Esphome,
            Profile::Shelly { .. } => Format::Shelly,
        }
    }

    /// A client id that names the device: `monban-sim-{format}-{identifier}`.
    pub fn default_client_id(&self) -> String {
        let id = match self {
            Profile::Native { door, .. } => door.to_string(),
            Profile::Uhppoted {
                device_id, door, ..
            } => format!("{device_id}-{door}"),
            Profile::EspRfid { topic, .. }
            | Profile::Tasmota { topic, .. }
            | Profile::Esphome { topic, .. }
            | Profile::Shelly { topic } => topic.replace('/', "-"),
        };
        format!("monban-sim-{}-{id}", self.format())
    }

    /// The heartbeat interval of the real device's default configuration; `None` for a
    /// device without heartbeats.
    pub fn default_heartbeat(&self) -> Option<Duration> {
        match self {
            Profile::EspRfid { .. } => Some(Duration::from_secs(180)),
            Profile::Tasmota { .. } => Some(Duration::from_secs(300)),
            _ => None,
        }
    }

    /// Whether the device numbers its events (native `event_id`, uhppoted `event-id`).
    pub fn numbers_events(&self) -> bool {
        matches!(self, Profile::Native { .. } | Profile::Uhppoted { .. })
    }

    /// Whether the device keeps events it could not publish and sends them later.
    pub fn keeps_events_while_offline(&self) -> bool {
        matches!(self, Profile::Native { .. } | Profile::Uhppoted { .. })
    }

    /// Whether the hub takes the time of `h` from the message (`false`: the hub stamps it
    /// on arrival, so it can only be sent at the moment it happens).
    pub fn carries_time(&self, h: &Happening) -> bool {
        match self {
            Profile::Native { .. } | Profile::Uhppoted { .. } => true,
            Profile::EspRfid { .. } => !matches!(
                h,
                Happening::Tamper(_)
                    | Happening::Event {
                        kind: DoorEventKind::Tamper,
                        ..
                    }
            ),
            Profile::Tasmota { .. } | Profile::Esphome { .. } | Profile::Shelly { .. } => false,
        }
    }

    /// The last will the device registers when it connects.
    pub fn last_will(&self) -> Option<Publication> {
        match self {
            Profile::Native { site, door } => Some(Publication::new(
                format!("monban/{site}/door/{door}/status"),
                "offline",
                QoS::AtLeastOnce,
                true,
            )),
            Profile::EspRfid { topic, .. } => Some(Publication::new(
                format!("{topic}/avty"),
                "offline",
                QoS::AtLeastOnce,
                true,
            )),
            Profile::Uhppoted { .. } => None,
            Profile::Tasmota { topic, .. } => Some(Publication::new(
                format!("tele/{topic}/LWT"),
                "Offline",
                QoS::AtLeastOnce,
                true,
            )),
            Profile::Esphome { topic, .. } => Some(Publication::new(
                format!("{topic}/status"),
                "offline",
                QoS::AtMostOnce,
                true,
            )),
            Profile::Shelly { topic } => Some(Publication::new(
                format!("shellies/{topic}/online"),
                "false",
                QoS::AtMostOnce,
                true,
            )),
        }
    }

    /// What the device publishes right after connecting.
    pub fn birth(&self, at: DateTime<Utc>, state: &DeviceState) -> Vec<Publication> {
        match self {
            Profile::Native { site, door } => vec![Publication::new(
                format!("monban/{site}/door/{door}/status"),
                "online",
                QoS::AtLeastOnce,
                true,
            )],
            Profile::EspRfid {
                topic, hostname, ..
            } => vec![
                Publication::new(format!("{topic}/avty"), "online", QoS::AtMostOnce, true),
                Publication::new(
                    format!("{topic}/send"),
                    json(&EspBeat {
                        kind: "boot",
                        time: at.timestamp(),
                        uptime: serde_json::Value::from("0"),
                        ip: SIM_IP,
                        hostname,
                    }),
                    QoS::AtMostOnce,
                    false,
                ),
            ],
            Profile::Uhppoted { .. } => Vec::new(),
            Profile::Tasmota { topic, .. } => {
                let mut out = vec![Publication::new(
                    format!("tele/{topic}/LWT"),
                    "Online",
                    QoS::AtMostOnce,
                    true,
                )];
                out.extend(self.heartbeat(at, state).unwrap_or_default());
                out
            }
            Profile::Esphome { topic, .. } => {
                let mut out = vec![Publication::new(
                    format!("{topic}/status"),
                    "online",
                    QoS::AtMostOnce,
                    true,
                )];
                out.extend(self.level(state.contact_open));
                out
            }
            Profile::Shelly { topic } => {
                let mut out = vec![Publication::new(
                    format!("shellies/{topic}/online"),
                    "true",
                    QoS::AtMostOnce,
                    true,
                )];
                out.extend(self.level(state.contact_open));
                out
            }
        }
    }

    /// The periodic heartbeat; `None` for a device without one.
    pub fn heartbeat(&self, at: DateTime<Utc>, state: &DeviceState) -> Option<Vec<Publication>> {
        match self {
            Profile::EspRfid {
                topic, hostname, ..
            } => Some(vec![Publication::new(
                format!("{topic}/send"),
                json(&EspBeat {
                    kind: "heartbeat",
                    time: at.timestamp(),
                    uptime: serde_json::Value::from(state.uptime_secs),
                    ip: SIM_IP,
                    hostname,
                }),
                QoS::AtMostOnce,
                false,
            )]),
            Profile::Tasmota {
                topic,
                switch,
                open,
            } => {
                let time = at
                    .with_timezone(&jst())
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string();
                let level = if state.contact_open {
                    *open
                } else {
                    open.other()
                };
                let up = state.uptime_secs;
                let state_msg = TasmotaState {
                    time: &time,
                    uptime: format!(
                        "{}T{:02}:{:02}:{:02}",
                        up / 86_400,
                        up / 3600 % 24,
                        up / 60 % 60,
                        up % 60
                    ),
                    uptime_sec: up,
                    heap: 25,
                    sleep_mode: "Dynamic",
                    sleep: 50,
                    load_avg: 19,
                    mqtt_count: state.connects,
                    wifi: TasmotaWifi {
                        ap: 1,
                        ssid: "monban-sim",
                        bssid: "00:00:5E:00:53:01",
                        channel: 1,
                        mode: "11n",
                        rssi: 100,
                        signal: -42,
                        link_count: 1,
                        downtime: "0T00:00:03",
                    },
                };
                // {"Time":…,"Switch1":…} in Tasmota's key order.
                let sensor = format!(
                    "{{\"Time\":{},{}:{}}}",
                    json(&time),
                    json(&switch),
                    json(&level.as_str())
                );
                Some(vec![
                    Publication::new(
                        format!("tele/{topic}/STATE"),
                        json(&state_msg),
                        QoS::AtMostOnce,
                        false,
                    ),
                    Publication::new(
                        format!("tele/{topic}/SENSOR"),
                        sensor,
                        QoS::AtMostOnce,
                        false,
                    ),
                ])
            }
            _ => None,
        }
    }

    /// The message a contact device sends for its contact level (`None` for devices that
    /// report a contact change as an event, see [`Profile::encode`]).
    fn level(&self, open: bool) -> Option<Publication> {
        Some(match self {
            Profile::Tasmota {
                topic,
                switch,
                open: on,
            } => {
                let level = if open { *on } else { on.other() };
                let payload = serde_json::json!({ switch.as_str(): { "Action": level.as_str() } });
                Publication::new(
                    format!("stat/{topic}/RESULT"),
                    payload.to_string(),
                    QoS::AtMostOnce,
                    false,
                )
            }
            Profile::Esphome {
                topic,
                sensor,
                open: on,
            } => Publication::new(
                format!("{topic}/binary_sensor/{sensor}/state"),
                if open { *on } else { on.other() }.as_str(),
                QoS::AtMostOnce,
                true,
            ),
            Profile::Shelly { topic } => Publication::new(
                format!("shellies/{topic}/sensor/state"),
                if open { "open" } else { "close" },
                QoS::AtMostOnce,
                false,
            ),
            Profile::Native { .. } | Profile::EspRfid { .. } | Profile::Uhppoted { .. } => {
                return None
            }
        })
    }

    /// The messages for `h` at `stamp`; [`Unsupported`] when the device cannot express it.
    /// An empty list: the device sends nothing for it (a tamper switch going back to
    /// normal, on most devices).
    pub fn encode(&self, h: &Happening, stamp: &Stamp) -> Result<Vec<Publication>, Unsupported> {
        let format = self.format();
        let cannot = |why: String| Err(Unsupported { format, why });
        // Contact-only devices: the level, or a tamper signal.
        let contact = match h {
            Happening::Contact(open) => Some(*open),
            Happening::Event {
                kind: DoorEventKind::DoorOpened,
                ..
            } => Some(true),
            Happening::Event {
                kind: DoorEventKind::DoorClosed,
                ..
            } => Some(false),
            _ => None,
        };
        let tamper = match h {
            Happening::Tamper(on) => Some(*on),
            Happening::Event {
                kind: DoorEventKind::Tamper,
                ..
            } => Some(true),
            _ => None,
        };
        match self {
            Profile::Native { door, site } => {
                let (kind, direction, credential) = match h {
                    Happening::Event {
                        kind,
                        direction,
                        credential,
                    } => (*kind, *direction, credential.clone()),
                    Happening::Contact(true) => (DoorEventKind::DoorOpened, Direction::In, None),
                    Happening::Contact(false) => (DoorEventKind::DoorClosed, Direction::In, None),
                    Happening::Tamper(true) => (DoorEventKind::Tamper, Direction::In, None),
                    Happening::Tamper(false) => return Ok(Vec::new()),
                };
                let m = DoorMessage {
                    door: door.clone(),
                    event_id: format!("d-{:06}", stamp.event_id),
                    ts: stamp.at.with_timezone(&jst()),
                    kind,
                    direction,
                    credential,
                };
                Ok(vec![Publication::new(
                    m.topic(site),
                    m.payload().to_string(),
                    QoS::AtLeastOnce,
                    false,
                )])
            }
            Profile::EspRfid {
                topic,
                hostname,
                credential_type,
            } => {
                let send = |payload: String| {
                    Publication::new(format!("{topic}/send"), payload, QoS::AtMostOnce, false)
                };
                let event = |kind: &'static str, src: &'static str, desc: &'static str| {
                    send(json(&EspEvent {
                        kind,
                        src,
                        desc,
                        data: "",
                        time: stamp.at.timestamp(),
                        cmd: "event",
                        door: hostname,
                    }))
                };
                if let Some(open) = contact {
                    let desc = if open { "Door Open" } else { "Door Closed" };
                    return Ok(vec![event("INFO", "door", desc)]);
                }
                if let Some(on) = tamper {
                    return Ok(vec![Publication::new(
                        format!("{topic}/io/tamper"),
                        if on { "ON" } else { "OFF" },
                        QoS::AtMostOnce,
                        false,
                    )]);
                }
                let Happening::Event {
                    kind,
                    direction,
                    credential,
                } = h
                else {
                    return Ok(Vec::new());
                };
                match kind {
                    DoorEventKind::DoorForced => {
                        Ok(vec![event("WARN", "tamper", "Door was tampered!")])
                    }
                    DoorEventKind::DoorHeldOpen => Ok(vec![event(
                        "WARN",
                        "tamper",
                        "Door wasn't closed within max open time!",
                    )]),
                    DoorEventKind::AccessGranted | DoorEventKind::AccessDenied => {
                        let Some(c) = credential else {
                            return cannot("an access needs the card's uid".into());
                        };
                        if c.kind != *credential_type {
                            return cannot(format!(
                                "this reader reads {} credentials (the hub's source says credential_type = \"{}\"), not {}",
                                credential_type.as_str(),
                                credential_type.as_str(),
                                c.kind.as_str()
                            ));
                        }
                        if *direction == Direction::Out {
                            return cannot(
                                "esp-rfid has no direction: every access is `in` (badge … in)"
                                    .into(),
                            );
                        }
                        let uid = c.id.to_ascii_lowercase();
                        let granted = *kind == DoorEventKind::AccessGranted;
                        Ok(vec![send(json(&EspAccess {
                            kind: "access",
                            time: stamp.at.timestamp(),
                            is_known: if granted { "true" } else { "false" },
                            access: if granted { "Always" } else { "Denied" },
                            username: if granted { &c.id } else { "Unknown" },
                            uid: &uid,
                            door: hostname,
                        }))])
                    }
                    // Covered by `contact` and `tamper` above.
                    DoorEventKind::DoorOpened
                    | DoorEventKind::DoorClosed
                    | DoorEventKind::Tamper => Ok(Vec::new()),
                }
            }
            Profile::Uhppoted {
                topic,
                device_id,
                door,
                utc_offset,
            } => {
                let event_id = u32::try_from(stamp.event_id).map_err(|_| Unsupported {
                    format,
                    why: format!(
                        "event-id {} does not fit the controller's 32 bits; give a smaller --first-event-id",
                        stamp.event_id
                    ),
                })?;
                let (event_type, reason, granted, card, direction) = match h {
                    Happening::Tamper(false) => return Ok(Vec::new()),
                    Happening::Event {
                        kind: kind @ (DoorEventKind::AccessGranted | DoorEventKind::AccessDenied),
                        direction,
                        credential,
                    } => {
                        let Some(c) = credential else {
                            return cannot("a card swipe needs the card number".into());
                        };
                        if c.kind != CredentialType::Card {
                            return cannot(format!(
                                "UHPPOTE readers report cards only, not {}",
                                c.kind.as_str()
                            ));
                        }
                        let card =
                            decimal_card(&c.id).map_err(|why| Unsupported { format, why })?;
                        let granted = *kind == DoorEventKind::AccessGranted;
                        (
                            1u8,
                            if granted { 1u8 } else { 6 },
                            granted,
                            card,
                            *direction,
                        )
                    }
                    _ => {
                        let (event_type, reason) = match (contact, tamper, h) {
                            (Some(true), _, _) => (2, 23),
                            (Some(false), _, _) => (2, 24),
                            (_, Some(_), _) => (3, 41),
                            (
                                _,
                                _,
                                Happening::Event {
                                    kind: DoorEventKind::DoorHeldOpen,
                                    ..
                                },
                            ) => (3, 37),
                            _ => (3, 38),
                        };
                        (event_type, reason, false, 0, Direction::In)
                    }
                };
                let payload = UhEnvelope {
                    message: UhMessage {
                        event: UhEvent {
                            access_granted: granted,
                            card_number: card,
                            device_id: *device_id,
                            direction: if direction == Direction::In { 1 } else { 2 },
                            direction_text: direction.as_str(),
                            door_id: *door,
                            event_id,
                            event_reason: reason,
                            event_reason_text: uhppoted_reason(reason),
                            event_type,
                            event_type_text: match event_type {
                                1 => "card swipe",
                                2 => "door",
                                _ => "alarm",
                            },
                            timestamp: stamp
                                .at
                                .with_timezone(utc_offset)
                                .format("%Y-%m-%d %H:%M:%S")
                                .to_string(),
                        },
                    },
                };
                // Live events go to the real-time topic; events fetched after an outage
                // to the events feed.
                let topic = if stamp.late {
                    topic.clone()
                } else {
                    format!("{topic}/live")
                };
                Ok(vec![Publication::new(
                    topic,
                    json(&payload),
                    QoS::AtLeastOnce,
                    true,
                )])
            }
            Profile::Tasmota { .. } | Profile::Esphome { .. } | Profile::Shelly { .. } => {
                if let Some(open) = contact {
                    return Ok(self.level(open).into_iter().collect());
                }
                match (self, tamper) {
                    (Profile::Shelly { topic }, Some(on)) => Ok(vec![Publication::new(
                        format!("shellies/{topic}/sensor/vibration"),
                        if on { "1" } else { "0" },
                        QoS::AtMostOnce,
                        false,
                    )]),
                    (_, Some(_)) => cannot(
                        "a door contact has no tamper signal (the shelly Door/Window reports vibration)"
                            .into(),
                    ),
                    _ => match h {
                        Happening::Event {
                            credential: Some(_),
                            ..
                        } => cannot(
                            "a door contact has no reader: badges need native, esp-rfid or uhppoted"
                                .into(),
                        ),
                        _ => cannot(
                            "a door contact reports only open and closed: alarms need native, esp-rfid or uhppoted"
                                .into(),
                        ),
                    },
                }
            }
        }
    }
}

/// A UHPPOTE card number: decimal, as the hub matches it (`card:{number}`).
fn decimal_card(id: &str) -> Result<u32, String> {
    match id.parse::<u32>() {
        Ok(n) if n > 0 && n.to_string() == id => Ok(n),
        Ok(n) if n > 0 => Err(format!(
            "card number {id:?} has leading zeros: uhppoted sends the number {n}, so the hub would see card:{n}"
        )),
        _ => Err(format!(
            "card number {id:?}: UHPPOTE card numbers are decimal (1..4294967295), e.g. card 8165538"
        )),
    }
}

/// uhppoted-lib's English text of a reason code.
fn uhppoted_reason(code: u8) -> &'static str {
    match code {
        1 => "swipe",
        6 => "no access rights",
        23 => "door opened",
        24 => "door closed",
        37 => "door open too long",
        38 => "forced open",
        41 => "theft prevention",
        _ => "",
    }
}

/// The address the simulated esp-rfid reports (TEST-NET-1, RFC 5737).
const SIM_IP: &str = "192.0.2.10";

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[derive(Serialize)]
struct EspAccess<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: i64,
    #[serde(rename = "isKnown")]
    is_known: &'static str,
    access: &'static str,
    username: &'a str,
    uid: &'a str,
    door: &'a str,
}

#[derive(Serialize)]
struct EspEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    src: &'static str,
    desc: &'static str,
    data: &'static str,
    time: i64,
    cmd: &'static str,
    door: &'a str,
}

#[derive(Serialize)]
struct EspBeat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: i64,
    uptime: serde_json::Value,
    ip: &'static str,
    hostname: &'a str,
}

/// uhppoted-mqtt marshals through a Go map: keys in alphabetical order.
#[derive(Serialize)]
struct UhEnvelope<'a> {
    message: UhMessage<'a>,
}

#[derive(Serialize)]
struct UhMessage<'a> {
    event: UhEvent<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct UhEvent<'a> {
    access_granted: bool,
    card_number: u32,
    device_id: u32,
    direction: u8,
    direction_text: &'a str,
    door_id: u8,
    event_id: u32,
    event_reason: u8,
    event_reason_text: &'a str,
    event_type: u8,
    event_type_text: &'a str,
    timestamp: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TasmotaState<'a> {
    time: &'a str,
    uptime: String,
    uptime_sec: u64,
    heap: u32,
    sleep_mode: &'static str,
    sleep: u32,
    load_avg: u32,
    mqtt_count: u32,
    wifi: TasmotaWifi,
}

#[derive(Serialize)]
struct TasmotaWifi {
    #[serde(rename = "AP")]
    ap: u32,
    #[serde(rename = "SSId")]
    ssid: &'static str,
    #[serde(rename = "BSSId")]
    bssid: &'static str,
    #[serde(rename = "Channel")]
    channel: u32,
    #[serde(rename = "Mode")]
    mode: &'static str,
    #[serde(rename = "RSSI")]
    rssi: u32,
    #[serde(rename = "Signal")]
    signal: i32,
    #[serde(rename = "LinkCount")]
    link_count: u32,
    #[serde(rename = "Downtime")]
    downtime: &'static str,
}

/// What happened at a door, for [`Profile::encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    Event {
        kind: DoorEventKind,
        direction: Direction,
        credential: Option<Credential>,
    },
    /// The door contact: `true` = open.
    Contact(bool),
    /// The tamper switch: `true` = active.
    Tamper(bool),
}

impl Happening {
    /// The door happening a script line describes (`None` for wait, offline, …).
    pub fn from_line(line: &Line) -> Option<Happening> {
        match line {
            Line::Event {
                kind,
                direction,
                credential,
            } => Some(Happening::Event {
                kind: *kind,
                direction: *direction,
                credential: credential.clone(),
            }),
            Line::Contact(open) => Some(Happening::Contact(*open)),
            Line::Tamper(on) => Some(Happening::Tamper(*on)),
            _ => None,
        }
    }
}

impl fmt::Display for Happening {
    /// The script line for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = match self {
            Happening::Event {
                kind,
                direction,
                credential,
            } => Line::Event {
                kind: *kind,
                direction: *direction,
                credential: credential.clone(),
            },
            Happening::Contact(open) => Line::Contact(*open),
            Happening::Tamper(on) => Line::Tamper(*on),
        };
        write!(f, "{line}")
    }
}

/// When a happening happened, and its number on devices that number events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub event_id: u64,
    /// Sent after the fact, once the device was back online.
    pub late: bool,
}

/// What a device knows about itself, for its birth messages and heartbeats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceState {
    pub contact_open: bool,
    pub tamper: bool,
    pub uptime_secs: u64,
    /// Connections to the broker so far, this one included (Tasmota's `MqttCount`).
    pub connects: u32,
}

/// One MQTT message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub topic: String,
    pub payload: String,
    pub qos: QoS,
    pub retain: bool,
}

impl Publication {
    pub fn new(
        topic: impl Into<String>,
        payload: impl Into<String>,
        qos: QoS,
        retain: bool,
    ) -> Self {
        Publication {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
        }
    }

    fn last_will(&self) -> LastWill {
        LastWill::new(
            self.topic.clone(),
            self.payload.clone(),
            self.qos,
            self.retain,
        )
    }
}

impl fmt::Display for Publication {
    /// `topic (qos 1, retained): payload`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (qos {}{}): {}",
            self.topic,
            self.qos as u8,
            if self.retain { ", retained" } else { "" },
            self.payload
        )
    }
}

/// A happening the device's format cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {why}")]
pub struct Unsupported {
    pub format: Format,
    pub why: String,
}

/// The first event id of a device started at `now`: tenths of a second since
/// 2023-11-14T22:13:20Z (Unix 1.7 × 10⁹ s). It fits uhppoted's 32 bits until 2037 and
/// grows faster than a device sends, so a restarted simulator does not reuse ids.
pub fn default_first_event_id(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp_millis() / 100 - 17_000_000_000)
        .unwrap_or(1)
        .max(1)
}

/// Everything a running device needs.
#[derive(Debug, Clone)]
pub struct DeviceOptions {
    pub profile: Profile,
    pub host: String,
    pub port: u16,
    pub client_id: String,
    /// Overrides the QoS of events.
    pub qos: Option<QoS>,
    /// `false`: never set the retain flag on events (uhppoted retains them by default).
    pub retain_events: bool,
    /// `None`: no heartbeats.
    pub heartbeat: Option<Duration>,
    pub first_event_id: u64,
}

impl DeviceOptions {
    /// The device's defaults against `host:port`.
    pub fn new(profile: Profile, host: &str, port: u16, now: DateTime<Utc>) -> DeviceOptions {
        DeviceOptions {
            client_id: profile.default_client_id(),
            heartbeat: profile.default_heartbeat(),
            profile,
            host: host.to_string(),
            port,
            qos: None,
            retain_events: true,
            first_event_id: default_first_event_id(now),
        }
    }
}

/// Where a device reports what it does: one line per call.
pub type Report = Box<dyn FnMut(&str) + Send>;

/// A simulated MQTT door controller.
pub struct MqttDoor {
    opts: DeviceOptions,
    link: Option<Mqtt>,
    next_event_id: u64,
    state: DeviceState,
    queued: Vec<(Happening, Stamp)>,
    booted: Instant,
    report: Report,
    never: CancellationToken,
}

/// How long the device waits for the broker to acknowledge what it sent before it drops
/// or closes the connection.
const SETTLE: Duration = Duration::from_secs(2);

impl MqttDoor {
    /// A device that is not connected yet.
    pub fn new(opts: DeviceOptions, report: Report) -> MqttDoor {
        MqttDoor {
            next_event_id: opts.first_event_id,
            opts,
            link: None,
            state: DeviceState::default(),
            queued: Vec::new(),
            booted: Instant::now(),
            report,
            never: CancellationToken::new(),
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.opts.profile
    }

    pub fn is_online(&self) -> bool {
        self.link.is_some()
    }

    /// The id the next numbered event gets.
    pub fn next_event_id(&self) -> u64 {
        self.next_event_id
    }

    fn say(&mut self, line: String) {
        (self.report)(&line);
    }

    fn snapshot(&self) -> DeviceState {
        DeviceState {
            uptime_secs: self.booted.elapsed().as_secs(),
            ..self.state
        }
    }

    /// Connects with the format's last will and sends the birth messages, then what was
    /// kept while offline. Fails when the broker does not answer within 10 s.
    pub async fn connect(&mut self, cancel: &CancellationToken) -> anyhow::Result<()> {
        if self.link.is_some() {
            self.say("already online".into());
            return Ok(());
        }
        let will = self.opts.profile.last_will();
        let opts = Options {
            host: self.opts.host.clone(),
            port: self.opts.port,
            client_id: self.opts.client_id.clone(),
            clean_session: true,
            keep_alive: Duration::from_secs(30),
            last_will: will.as_ref().map(Publication::last_will),
        };
        let link = Mqtt::open(&opts, cancel).await?;
        if cancel.is_cancelled() {
            link.drop_connection(Duration::ZERO).await;
            anyhow::bail!("interrupted while connecting");
        }
        self.link = Some(link);
        self.state.connects += 1;
        let will_text = match &will {
            Some(w) => format!("last will {w}"),
            None => format!("no last will ({} sets none)", self.opts.profile.format()),
        };
        self.say(format!(
            "connected to {}:{} as {}; {will_text}",
            self.opts.host, self.opts.port, self.opts.client_id
        ));
        let birth = self.opts.profile.birth(Utc::now(), &self.snapshot());
        self.send_raw(birth).await;
        let queued = std::mem::take(&mut self.queued);
        for (h, mut stamp) in queued {
            stamp.late = true;
            if let Ok(pubs) = self.opts.profile.encode(&h, &stamp) {
                self.send_events(pubs).await;
            }
        }
        Ok(())
    }

    /// Leaves the network: the socket closes without `DISCONNECT`, so the broker
    /// publishes the last will.
    pub async fn go_offline(&mut self) {
        let Some(link) = self.link.take() else {
            self.say("already offline".into());
            return;
        };
        let unacked = link.drop_connection(SETTLE).await;
        let lost = if unacked > 0 {
            format!(" ({unacked} message(s) not acknowledged)")
        } else {
            String::new()
        };
        let will = match self.opts.profile.last_will() {
            Some(w) => format!(
                "the broker publishes the last will {} {:?}",
                w.topic, w.payload
            ),
            None => format!(
                "{} sets no last will, so the hub does not see this outage",
                self.opts.profile.format()
            ),
        };
        self.say(format!(
            "offline: connection dropped without DISCONNECT{lost}; {will}"
        ));
    }

    /// Something happened at the door now (or at `at`): encode it and send it, keep it
    /// for later or drop it, as the real device would.
    pub async fn act(&mut self, h: &Happening, at: DateTime<Utc>) {
        if let Happening::Contact(open) = h {
            if self.state.contact_open == *open {
                let word = if *open { "open" } else { "closed" };
                self.say(format!("nothing to send: the contact is already {word}"));
                return;
            }
        }
        let stamp = Stamp {
            at,
            event_id: self.next_event_id,
            late: false,
        };
        let pubs = match self.opts.profile.encode(h, &stamp) {
            Ok(p) => p,
            Err(e) => {
                self.say(format!("cannot: {h}: {e}"));
                return;
            }
        };
        match h {
            Happening::Contact(open) => self.state.contact_open = *open,
            Happening::Tamper(on) => self.state.tamper = *on,
            Happening::Event {
                kind: DoorEventKind::DoorOpened,
                ..
            } => self.state.contact_open = true,
            Happening::Event {
                kind: DoorEventKind::DoorClosed,
                ..
            } => self.state.contact_open = false,
            Happening::Event { .. } => {}
        }
        if pubs.is_empty() {
            let format = self.opts.profile.format();
            self.say(format!("nothing to send: {format} sends nothing for `{h}`"));
            return;
        }
        if self.opts.profile.numbers_events() {
            self.next_event_id += 1;
        }
        if self.link.is_some() {
            self.send_events(pubs).await;
        } else if self.opts.profile.keeps_events_while_offline() {
            self.queued.push((h.clone(), stamp));
            self.say(format!("kept while offline, sent when back online: {h}"));
        } else {
            let format = self.opts.profile.format();
            self.say(format!(
                "lost while offline: {h} ({format} does not keep what it cannot publish)"
            ));
        }
    }

    /// Sends a heartbeat now (if the device has one and is online).
    pub async fn heartbeat(&mut self, at: DateTime<Utc>) {
        let format = self.opts.profile.format();
        match self.opts.profile.heartbeat(at, &self.snapshot()) {
            None => self.say(format!("cannot: heartbeat: {format} sends no heartbeat")),
            Some(_) if self.link.is_none() => self.say("no heartbeat: offline".into()),
            Some(pubs) => self.send_raw(pubs).await,
        }
    }

    /// Publishes events, with the QoS override and the retain setting applied.
    pub async fn send_events(&mut self, pubs: Vec<Publication>) {
        let pubs = pubs
            .into_iter()
            .map(|mut p| {
                if let Some(q) = self.opts.qos {
                    p.qos = q;
                }
                p.retain &= self.opts.retain_events;
                p
            })
            .collect();
        self.send_raw(pubs).await;
    }

    /// Publishes exactly these messages (birth messages, heartbeats).
    pub async fn send_raw(&mut self, pubs: Vec<Publication>) {
        for p in pubs {
            let Some(link) = self.link.as_mut() else {
                self.say(format!("not sent (offline): {p}"));
                continue;
            };
            let sent = link
                .publish_with(
                    p.topic.clone(),
                    p.payload.clone(),
                    p.qos,
                    p.retain,
                    &self.never,
                )
                .await;
            match sent {
                Ok(_) => self.say(format!("publish {p}")),
                Err(e) => self.say(format!("error: {e:#}")),
            }
        }
    }

    /// Switches the device off: like [`MqttDoor::go_offline`], the broker publishes the
    /// last will.
    pub async fn power_off(mut self) {
        if self.link.is_some() {
            self.go_offline().await;
        }
    }

    /// Ends the session cleanly with `DISCONNECT` (the broker drops the last will), after
    /// waiting for acknowledgements; returns how many messages were not acknowledged.
    pub async fn disconnect(mut self) -> u64 {
        match self.link.take() {
            Some(link) => link.finish(SETTLE).await,
            None => 0,
        }
    }
}

/// Plays `script`, then the lines that arrive on `input` (text, parsed here; a bad line is
/// reported and skipped), sending heartbeats every `opts.heartbeat` in between. Returns
/// on `quit`, or when `cancel` fires; the device is then switched off without
/// `DISCONNECT`, so the broker publishes its last will. The first connection must
/// succeed; later ones (`online`) are retried by the next `online`.
pub async fn run(
    mut door: MqttDoor,
    script: Vec<Line>,
    mut input: mpsc::Receiver<String>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    door.connect(&cancel)
        .await
        .context("the device cannot connect")?;
    let mut pending: VecDeque<Line> = script.into();
    let mut resume_at: Option<Instant> = None;
    let mut back_at: Option<Instant> = None;
    let mut input_open = true;
    let period = door.opts.heartbeat.filter(|d| !d.is_zero());
    let mut beat = tokio::time::interval_at(
        Instant::now() + period.unwrap_or(Duration::from_secs(3600)),
        period.unwrap_or(Duration::from_secs(3600)),
    );
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if resume_at.is_none() {
            if let Some(line) = pending.pop_front() {
                match line {
                    Line::Quit => break,
                    Line::Wait(d) => resume_at = Some(Instant::now() + d),
                    Line::Offline(d) => {
                        door.go_offline().await;
                        back_at = d.map(|d| Instant::now() + d);
                    }
                    Line::Online => {
                        back_at = None;
                        if let Err(e) = door.connect(&cancel).await {
                            door.say(format!("error: {e:#}"));
                        }
                    }
                    Line::Heartbeat => door.heartbeat(Utc::now()).await,
                    other => {
                        if let Some(h) = Happening::from_line(&other) {
                            door.act(&h, Utc::now()).await;
                        }
                    }
                }
                continue;
            }
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            _ = sleep_until(resume_at), if resume_at.is_some() => resume_at = None,
            _ = sleep_until(back_at), if back_at.is_some() => {
                back_at = None;
                if let Err(e) = door.connect(&cancel).await {
                    door.say(format!("error: {e:#}"));
                }
            }
            _ = beat.tick(), if period.is_some() => {
                if door.is_online() {
                    door.heartbeat(Utc::now()).await;
                }
            }
            text = input.recv(), if input_open && resume_at.is_none() => match text {
                None => {
                    input_open = false;
                    door.say("standard input ended; the device stays on until Ctrl-C".into());
                }
                Some(text) => match script::parse_line(&text) {
                    Ok(Some(line)) => pending.push_back(line),
                    Ok(None) => {}
                    Err(e) => door.say(format!("error: {e}")),
                },
            },
        }
    }
    door.power_off().await;
    Ok(())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
