//! Tables of realistic payloads per preset, every refusal, the configuration checks, and
//! a property: whatever the topic and payload, mapping never panics and always answers.
#![allow(clippy::unwrap_used)]

use super::*;
use monban_core::{Direction, DoorEventKind, DoorStatus};

fn compile(toml_text: &str) -> Result<Source, String> {
    let config: SourceConfig = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    config.compile().map_err(|e| e.to_string())
}

fn source(toml_text: &str) -> Source {
    compile(toml_text).unwrap_or_else(|e| panic!("{e}\n{toml_text}"))
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

/// The hub's arrival time in these tests.
fn arrived() -> Timestamp {
    t("2026-11-21T00:00:05Z")
}

fn door(s: &str) -> DoorId {
    DoorId::parse(s).unwrap()
}

/// A source with its contact memory, committing after every message as the driver does
/// after a successful store.
struct Device {
    source: Source,
    contacts: ContactState,
}

impl Device {
    fn new(toml_text: &str) -> Device {
        Device {
            source: source(toml_text),
            contacts: ContactState::new(),
        }
    }
    fn at(&mut self, topic: &str, payload: &str, at: Timestamp) -> Vec<Output> {
        assert!(
            self.source.matches(topic),
            "{topic} is not a topic of {}",
            self.source.name()
        );
        let mapped = self
            .source
            .map(topic, payload.as_bytes(), at, &self.contacts);
        if let Some(update) = mapped.contact {
            self.contacts.commit(update);
        }
        mapped.outputs
    }
    fn send(&mut self, topic: &str, payload: &str) -> Vec<Output> {
        self.at(topic, payload, arrived())
    }
    fn one(&mut self, topic: &str, payload: &str) -> Output {
        let mut out = self.send(topic, payload);
        assert_eq!(out.len(), 1, "{out:#?}");
        out.remove(0)
    }
    fn event(&mut self, topic: &str, payload: &str) -> DoorEvent {
        match self.one(topic, payload) {
            Output::Event(e) => e,
            other => panic!("not an event: {other:#?}"),
        }
    }
    fn refusal(&mut self, topic: &str, payload: &str) -> (Option<DoorId>, Refusal) {
        match self.one(topic, payload) {
            Output::Refused { door, refusal } => (door, refusal),
            other => panic!("not refused: {other:#?}"),
        }
    }
    fn ignored(&mut self, topic: &str, payload: &str) -> Option<DoorId> {
        match self.one(topic, payload) {
            Output::Ignored { door, .. } => door,
            other => panic!("not ignored: {other:#?}"),
        }
    }
}

fn status(o: &Output) -> (&str, DoorStatus, Timestamp) {
    match o {
        Output::Status(s) => (s.door.as_str(), s.status, s.ts),
        other => panic!("not a status: {other:#?}"),
    }
}

// ------------------------------------------------------------------ configuration

const ESP: &str = r#"
preset = "esp-rfid"
topic = "esprfid"
door = "ward3-main"
"#;

const ESP_SHARED: &str = r#"
preset = "esp-rfid"
topic = "esprfid"
doors = { "esp-rfid-ward3" = "ward3-main", "esp-rfid-lab" = "lab-main" }
"#;

const UHPPOTED: &str = r#"
preset = "uhppoted"
topic = "uhppoted/gateway/events"
doors = { "405419896:1" = "server-room-main", "405419896:2" = "pharmacy-main" }
utc_offset = "+09:00"
"#;

const TASMOTA: &str = r#"
preset = "tasmota"
topic = "door-ward3"
door = "ward3-main"
switch = "Switch1"
open = "ON"
"#;

const ESPHOME: &str = r#"
preset = "esphome"
topic = "door-ward3"
door = "ward3-main"
sensor = "door"
open = "ON"
"#;

const SHELLY: &str = r#"
preset = "shelly"
topic = "shellydw2-ABC123"
door = "ward3-main"
"#;

const GENERIC: &str = r#"
preset = "generic"
name = "acme"
topic = "acme/{controller}/reader/{reader}/event"
door = "{controller}-{reader}"
door_map = { "c1-r1" = "ward3-main" }
kind = { field = "/event", map = { granted = "access_granted", denied = "access_denied", open = "door_opened", closed = "door_closed", forced = "door_forced", held = "door_held_open", tamper = "tamper", online = "online", offline = "offline", ping = "heartbeat", "*" = "ignore" } }
event_id = "/id"
ts = "/time"
utc_offset = "+09:00"
direction = { field = "/dir", map = { "1" = "in", "2" = "out" } }
credential_type = "card"
credential_id = "/card"
"#;

#[test]
fn the_spec_examples_compile() {
    let esp = source(ESP);
    assert_eq!(esp.name(), "esp-rfid:esprfid");
    assert_eq!(esp.preset(), "esp-rfid");
    assert_eq!(
        esp.filters(),
        [
            "esprfid/send",
            "esprfid/avty",
            "esprfid/io/door",
            "esprfid/io/tamper"
        ]
    );
    assert_eq!(esp.doors(), [door("ward3-main")]);
    assert_eq!(
        source(ESP_SHARED).doors(),
        [door("lab-main"), door("ward3-main")]
    );

    let uh = source(UHPPOTED);
    assert_eq!(uh.name(), "uhppoted:uhppoted/gateway/events");
    assert_eq!(uh.filters(), ["uhppoted/gateway/events/#"]);
    assert_eq!(
        uh.doors(),
        [door("pharmacy-main"), door("server-room-main")]
    );
    // The default topic.
    let uh = source("preset = \"uhppoted\"\ndoors = { \"1:1\" = \"a\" }");
    assert_eq!(uh.filters(), ["uhppoted/gateway/events/#"]);

    let tasmota = source(TASMOTA);
    assert_eq!(
        tasmota.filters(),
        [
            "tele/door-ward3/LWT",
            "tele/door-ward3/STATE",
            "tele/door-ward3/SENSOR",
            "stat/door-ward3/RESULT"
        ]
    );
    assert_eq!(
        source(ESPHOME).filters(),
        ["door-ward3/binary_sensor/door/state", "door-ward3/status"]
    );
    assert_eq!(
        source(SHELLY).filters(),
        [
            "shellies/shellydw2-ABC123/sensor/state",
            "shellies/shellydw2-ABC123/online",
            "shellies/shellydw2-ABC123/sensor/vibration"
        ]
    );
    let generic = source(GENERIC);
    assert_eq!(generic.name(), "acme");
    assert_eq!(generic.filters(), ["acme/+/reader/+/event"]);
    assert_eq!(generic.doors(), [door("ward3-main")]);
    // A templated door without a map names no door literally.
    let templated = source(
        "preset = \"generic\"\nname = \"x\"\ntopic = \"x/{d}\"\ndoor = \"{d}\"\nkind = \"tamper\"",
    );
    assert!(templated.doors().is_empty());
}

#[test]
fn the_whole_mqtt_table_deserialises() {
    #[derive(serde::Deserialize)]
    struct Mqtt {
        #[allow(dead_code)]
        url: String,
        sources: Vec<SourceConfig>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        mqtt: Mqtt,
    }
    let text = format!(
        "[mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\n{}",
        [ESP, ESP_SHARED, UHPPOTED, TASMOTA, ESPHOME, SHELLY, GENERIC]
            .iter()
            .map(|s| format!("[[mqtt.sources]]{s}"))
            .collect::<String>()
    );
    let file: File = toml::from_str(&text).unwrap();
    let presets: Vec<&str> = file.mqtt.sources.iter().map(SourceConfig::preset).collect();
    assert_eq!(
        presets,
        ["esp-rfid", "esp-rfid", "uhppoted", "tasmota", "esphome", "shelly", "generic"]
    );
    for c in &file.mqtt.sources {
        c.compile().unwrap();
    }
}

#[test]
fn unknown_keys_are_refused() {
    for (base, key) in [
        (ESP, "doorz = \"x\""),
        (UHPPOTED, "door = \"x\""),
        (TASMOTA, "sensor = \"door\""),
        (ESPHOME, "switch = \"Switch1\""),
        (SHELLY, "open = \"ON\""),
        (GENERIC, "doors = {}"),
        (ESP, "utc_ofset = \"+09:00\""),
    ] {
        let text = format!("{base}\n{key}");
        let e = toml::from_str::<SourceConfig>(&text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{key}: {e}");
    }
    // Inside a value spec table too.
    let text = GENERIC.replace("map = { \"1\" = \"in\", \"2\" = \"out\" }", "mapping = {}");
    let e = toml::from_str::<SourceConfig>(&text)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `mapping`"), "{e}");
}

#[test]
fn the_preset_must_be_known() {
    let e = toml::from_str::<SourceConfig>("topic = \"x\"\ndoor = \"d\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing field `preset`"), "{e}");
    let e = toml::from_str::<SourceConfig>("preset = \"zkteco\"\ntopic = \"x\"")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown variant `zkteco`") && e.contains("esp-rfid"),
        "{e}"
    );
    let e = toml::from_str::<SourceConfig>(
        "preset = \"generic\"\nname = \"x\"\ntopic = \"x\"\ndoor = 5\nkind = \"tamper\"",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("a string (\"/json/pointer\""), "{e}");
}

#[test]
fn configuration_mistakes_are_explained() {
    let cases: &[(&str, &str)] = &[
        ("preset = \"esp-rfid\"\ntopic = \"esprfid\"\ndoor = \"ward 3\"", "door"),
        ("preset = \"esp-rfid\"\ntopic = \"esprfid\"", "missing: set door"),
        (
            "preset = \"esp-rfid\"\ntopic = \"esprfid\"\ndoor = \"a\"\ndoors = { x = \"b\" }",
            "not both",
        ),
        ("preset = \"esp-rfid\"\ntopic = \"esprfid/#\"\ndoor = \"a\"", "without wildcards"),
        ("preset = \"esp-rfid\"\ntopic = \"\"\ndoor = \"a\"", "must not be empty"),
        (
            "preset = \"esp-rfid\"\ntopic = \"e\"\ndoor = \"a\"\ncredential_type = \"badge\"",
            "unknown credential type \"badge\"",
        ),
        ("preset = \"esp-rfid\"\ntopic = \"e\"\ndoor = \"a\"\nutc_offset = \"JST\"", "utc_offset"),
        ("preset = \"uhppoted\"\ndoors = {}", "no doors"),
        ("preset = \"uhppoted\"\ndoors = { \"405419896\" = \"a\" }", "\"405419896:1\""),
        ("preset = \"uhppoted\"\ndoors = { \"405419896:5\" = \"a\" }", "door number (1 to 4)"),
        ("preset = \"uhppoted\"\ndoors = { \"x:1\" = \"a\" }", "serial number"),
        ("preset = \"uhppoted\"\ndoors = { \"1:1\" = \"a/b\" }", "doors.\"1:1\""),
        ("preset = \"tasmota\"\ntopic = \"t\"\ndoor = \"a\"\nopen = \"OPEN\"", "not ON or OFF"),
        ("preset = \"tasmota\"\ntopic = \"t\"\ndoor = \"a\"\nswitch = \" \"", "switch"),
        ("preset = \"esphome\"\ntopic = \"t\"\ndoor = \"a\"\nsensor = \"a/b\"", "object id"),
        ("preset = \"shelly\"\ntopic = \"t\"\ndoor = \"\"", "must not be empty"),
        ("preset = \"shelly\"\nname = \"\"\ntopic = \"t\"\ndoor = \"a\"", "name must not be empty"),
        ("preset = \"generic\"\ntopic = \"x\"\ndoor = \"d\"\nkind = \"tamper\"", "needs a name"),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x/{c}\"\ndoor = \"{reader}\"\nkind = \"tamper\"",
            "only captures {c}",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x/#/y\"\ndoor = \"d\"\nkind = \"tamper\"",
            "only allowed as the last level",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = { field = \"/k\", map = { a = \"exploded\" } }",
            "\"exploded\" is not a kind",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = \"opened\"",
            "expected one of: access_granted",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = \"tamper\"\ndirection = { field = \"/d\", map = { \"1\" = \"up\" } }",
            "unknown direction \"up\"",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = \"tamper\"\ncredential_type = \"badge\"",
            "unknown credential type",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"/d\"\ndoor_map = { a = \"b c\" }\nkind = \"tamper\"",
            "door_map.\"a\"",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"c9\"\ndoor_map = { c1 = \"a\" }\nkind = \"tamper\"",
            "not a key of door_map",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x/{c}\"\ndoor = \"d\"\nkind = \"tamper\"\nevent_id = \"{c}\"",
            "must come from the payload",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = { field = \"/k\", map = { on = \"tamper\", ON = \"tamper\" } }",
            "are the same",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = \"/k~2\"",
            "not a JSON pointer",
        ),
        (
            "preset = \"generic\"\nname = \"g\"\ntopic = \"x\"\ndoor = \"d\"\nkind = \"{/k\"",
            "without a }",
        ),
    ];
    for (text, want) in cases {
        let e = compile(text).unwrap_err();
        assert!(e.contains(want), "{text}\n=> {e}\n(wanted {want:?})");
    }
    let long = format!(
        "preset = \"shelly\"\nname = \"{}\"\ntopic = \"t\"\ndoor = \"a\"",
        "n".repeat(65)
    );
    assert!(compile(&long).unwrap_err().contains("at most 64"));
    // The message names the source and the key.
    let e = compile("preset = \"tasmota\"\ntopic = \"t\"\ndoor = \"a b\"").unwrap_err();
    assert!(
        e.starts_with("[[mqtt.sources]] \"tasmota:t\", door: door id \"a b\""),
        "{e}"
    );
}

#[test]
fn names_are_unique() {
    let a = source(SHELLY);
    let b = source(&SHELLY.replace("ward3-main", "lab-main"));
    let e = check_names(&[a.clone(), b]).unwrap_err();
    assert_eq!(e.key, "name");
    assert!(check_names(&[a, source(TASMOTA)]).is_ok());
}

#[test]
fn routing_takes_the_first_source_that_matches() {
    let broad = source(
        "preset = \"generic\"\nname = \"all\"\ntopic = \"#\"\ndoor = \"d\"\nkind = \"heartbeat\"",
    );
    let sources = vec![source(TASMOTA), broad];
    assert_eq!(
        route(&sources, "tele/door-ward3/LWT").unwrap().name(),
        "tasmota:door-ward3"
    );
    assert_eq!(route(&sources, "anything/else").unwrap().name(), "all");
    assert!(route(&sources[..1], "tele/other/LWT").is_none());
}

// ------------------------------------------------------------------ esp-rfid

#[test]
fn esp_rfid_access() {
    let mut esp = Device::new(ESP);
    let payload = r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","username":"Nurse A","uid":"0c0c0c0c","door":"esp-rfid-ward3"}"#;
    let e = esp.event("esprfid/send", payload);
    assert_eq!(e.door.as_str(), "ward3-main");
    assert_eq!(e.kind, DoorEventKind::AccessGranted);
    assert_eq!(e.direction, Direction::In);
    assert_eq!(e.ts, t("2023-11-14T22:13:20Z"));
    assert_eq!(e.credential.as_ref().unwrap().to_string(), "card:0C0C0C0C");
    assert!(e.event_id.starts_with("esp-1700000000-"), "{}", e.event_id);
    assert_eq!(e.event_id.len(), "esp-1700000000-".len() + 8);
    // A redelivered payload gets the same id; another payload another id.
    assert_eq!(esp.event("esprfid/send", payload).event_id, e.event_id);
    let other = payload.replace("0c0c0c0c", "0d0d0d0d");
    assert_ne!(esp.event("esprfid/send", &other).event_id, e.event_id);

    let cases: &[(&str, DoorEventKind)] = &[
        (
            r#"{"type":"access","time":1700000001,"isknown":true,"access":"Admin","uid":"AA BB"}"#,
            DoorEventKind::AccessGranted,
        ),
        (
            r#"{"TYPE":"ACCESS","TIME":1700000001,"ISKNOWN":"TRUE","ACCESS":"always","UID":"aabb"}"#,
            DoorEventKind::AccessGranted,
        ),
        (
            r#"{"type":"access","time":1700000001,"isKnown":"true","access":"Always","uid":"aabb","cmd":"log"}"#,
            DoorEventKind::AccessGranted,
        ),
        (
            r#"{"type":"access","time":1700000001,"isKnown":"false","access":"Denied","uid":"aabb"}"#,
            DoorEventKind::AccessDenied,
        ),
        (
            r#"{"type":"access","time":1700000001,"isKnown":false,"access":"Always","uid":"aabb"}"#,
            DoorEventKind::AccessDenied,
        ),
        (
            r#"{"type":"access","time":1700000001,"isKnown":"true","access":"Disabled","uid":"aabb"}"#,
            DoorEventKind::AccessDenied,
        ),
        (
            r#"{"type":"access","time":1700000001,"isKnown":"true","access":"Expired","uid":"aabb"}"#,
            DoorEventKind::AccessDenied,
        ),
        (
            r#"{"type":"access","time":1700000001,"uid":"aabb"}"#,
            DoorEventKind::AccessDenied,
        ),
    ];
    for (payload, kind) in cases {
        let e = esp.event("esprfid/send", payload);
        assert_eq!(e.kind, *kind, "{payload}");
        assert_eq!(e.credential.unwrap().id, "AABB", "{payload}");
    }
}

#[test]
fn esp_rfid_without_ntp_takes_the_arrival_time() {
    let mut esp = Device::new(ESP);
    let e = esp.event(
        "esprfid/send",
        r#"{"type":"access","time":1234,"isKnown":"true","access":"Always","uid":"1"}"#,
    );
    assert_eq!(e.ts, arrived());
    assert!(e.event_id.starts_with("esp-1234-"), "{}", e.event_id);
}

#[test]
fn esp_rfid_door_and_tamper_messages() {
    let mut esp = Device::new(ESP);
    let msg = |ty: &str, src: &str, desc: &str| {
        format!(
            r#"{{"type":"{ty}","src":"{src}","desc":"{desc}","data":"","time":1700000000,"cmd":"event","door":"esp-rfid"}}"#
        )
    };
    let cases = [
        (msg("INFO", "door", "Door Open"), DoorEventKind::DoorOpened),
        (
            msg("INFO", "door", "door closed"),
            DoorEventKind::DoorClosed,
        ),
        (
            msg("WARN", "tamper", "Door was tampered!"),
            DoorEventKind::DoorForced,
        ),
        (
            msg("WARN", "tamper", "Door wasn't closed within max open time!"),
            DoorEventKind::DoorHeldOpen,
        ),
        (
            msg("ERRO", "tamper", "Max open time exceeded"),
            DoorEventKind::DoorHeldOpen,
        ),
    ];
    for (payload, kind) in &cases {
        let e = esp.event("esprfid/send", payload);
        assert_eq!((e.kind, e.credential.clone()), (*kind, None), "{payload}");
        assert!(e.event_id.starts_with("esp-1700000000-"));
    }
    for payload in [
        msg("INFO", "door", "Door unlocked"),
        msg("INFO", "mqtt", "Connected to MQTT Server"),
        msg("INFO", "sys", "Config stored"),
        r#"{"type":"getconf","time":1700000000}"#.to_string(),
        r#"{"type":"INFO","time":1700000000}"#.to_string(),
    ] {
        assert_eq!(
            esp.ignored("esprfid/send", &payload),
            Some(door("ward3-main")),
            "{payload}"
        );
    }
}

#[test]
fn esp_rfid_heartbeat_and_boot() {
    let mut esp = Device::new(ESP);
    let hb = esp.one(
        "esprfid/send",
        r#"{"type":"heartbeat","time":1700000000,"uptime":3600,"ip":"192.168.1.20","hostname":"esp-rfid-ward3"}"#,
    );
    assert_eq!(
        hb,
        Output::Heartbeat {
            door: door("ward3-main"),
            ts: t("2023-11-14T22:13:20Z")
        }
    );
    // A clock ahead of ours: alive when we heard it.
    let ahead = esp.one("esprfid/send", r#"{"type":"heartbeat","time":1900000000}"#);
    assert_eq!(
        ahead,
        Output::Heartbeat {
            door: door("ward3-main"),
            ts: arrived()
        }
    );
    let boot = esp.send(
        "esprfid/send",
        r#"{"type":"boot","time":1700000000,"uptime":1,"ip":"192.168.1.20","hostname":"esp-rfid-ward3"}"#,
    );
    assert_eq!(boot.len(), 2, "{boot:#?}");
    assert_eq!(
        status(&boot[0]),
        ("ward3-main", DoorStatus::Online, t("2023-11-14T22:13:20Z"))
    );
    assert!(matches!(boot[1], Output::Heartbeat { .. }));
}

#[test]
fn esp_rfid_devices_sharing_a_topic() {
    let mut esp = Device::new(ESP_SHARED);
    let by_door = esp.event(
        "esprfid/send",
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","uid":"1","door":"esp-rfid-lab"}"#,
    );
    assert_eq!(by_door.door.as_str(), "lab-main");
    let by_host = esp.one(
        "esprfid/send",
        r#"{"type":"heartbeat","time":1700000000,"hostname":"ESP-RFID-WARD3"}"#,
    );
    assert!(matches!(by_host, Output::Heartbeat { ref door, .. } if door.as_str() == "ward3-main"));
    // A door name esp-rfid writes that is not configured, but a known hostname.
    let e = esp.event(
        "esprfid/send",
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","uid":"1","door":"esp-rfid","hostname":"esp-rfid-lab"}"#,
    );
    assert_eq!(e.door.as_str(), "lab-main");

    let (d, r) = esp.refusal(
        "esprfid/send",
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","uid":"1","door":"esp-rfid-basement"}"#,
    );
    assert_eq!((d, r.code()), (None, "not_configured"));
    assert!(r.to_string().contains("\"esp-rfid-basement\""), "{r}");
    let (_, r) = esp.refusal(
        "esprfid/send",
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","uid":"1"}"#,
    );
    assert_eq!(r.code(), "missing_field");
    // Ignored messages of an unknown device are not dead letters.
    assert_eq!(
        esp.ignored("esprfid/send", r#"{"type":"other","door":"nobody"}"#),
        None
    );
    // Topics that do not name the device cannot be told apart.
    assert_eq!(esp.ignored("esprfid/avty", "offline"), None);
    assert_eq!(esp.ignored("esprfid/io/door", "ON"), None);
    // ... unless every device of the topic is the same door.
    let mut one = Device::new(&ESP_SHARED.replace("lab-main", "ward3-main"));
    assert_eq!(
        status(&one.one("esprfid/avty", "offline")).1,
        DoorStatus::Offline
    );
}

#[test]
fn esp_rfid_availability_and_io() {
    let mut esp = Device::new(ESP);
    assert_eq!(
        status(&esp.one("esprfid/avty", "online")),
        ("ward3-main", DoorStatus::Online, arrived())
    );
    assert_eq!(
        status(&esp.one("esprfid/avty", "OFFLINE")).1,
        DoorStatus::Offline
    );
    assert_eq!(
        esp.event("esprfid/io/door", "ON").kind,
        DoorEventKind::DoorOpened
    );
    assert_eq!(
        esp.ignored("esprfid/io/door", "ON"),
        Some(door("ward3-main"))
    );
    assert_eq!(
        esp.event("esprfid/io/door", "off").kind,
        DoorEventKind::DoorClosed
    );
    assert_eq!(
        esp.event("esprfid/io/tamper", "ON").kind,
        DoorEventKind::Tamper
    );
    assert_eq!(
        esp.ignored("esprfid/io/tamper", "ON"),
        Some(door("ward3-main"))
    );
    assert_eq!(
        esp.ignored("esprfid/io/tamper", "OFF"),
        Some(door("ward3-main"))
    );
    assert_eq!(
        esp.event("esprfid/io/tamper", "ON").kind,
        DoorEventKind::Tamper
    );
    let (d, r) = esp.refusal("esprfid/avty", "sleeping");
    assert_eq!(
        (d, r.code()),
        (Some(door("ward3-main")), "unexpected_value")
    );
    assert_eq!(
        esp.refusal("esprfid/io/door", "OPEN").1.code(),
        "unexpected_value"
    );
}

#[test]
fn esp_rfid_refusals() {
    let mut esp = Device::new(&format!("{ESP}\ncredential_type = \"biometric\""));
    let e = esp.event(
        "esprfid/send",
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","uid":"p0001"}"#,
    );
    assert_eq!(e.credential.unwrap().to_string(), "biometric:P0001");
    let cases: &[(&str, &str)] = &[
        ("not json", "not_json"),
        ("[1,2]", "not_json"),
        (r#"{"time":1700000000}"#, "missing_field"),
        (
            r#"{"type":"access","time":1700000000,"isKnown":"true"}"#,
            "missing_field",
        ),
        (
            r#"{"type":"access","isKnown":"true","uid":"1"}"#,
            "missing_field",
        ),
        (
            r#"{"type":"access","time":"yesterday","uid":"1"}"#,
            "invalid_value",
        ),
        (
            r#"{"type":"access","time":1700000000,"uid":"  "}"#,
            "invalid_value",
        ),
        (
            r#"{"type":"INFO","src":"door","desc":"Door Open"}"#,
            "missing_field",
        ),
        (r#"{"type":"heartbeat","time":"soon"}"#, "invalid_value"),
    ];
    for (payload, code) in cases {
        let (d, r) = esp.refusal("esprfid/send", payload);
        assert_eq!(
            (d, r.code()),
            (Some(door("ward3-main")), *code),
            "{payload}: {r}"
        );
    }
    assert_eq!(esp.refusal("esprfid/send", "\u{1}").1.code(), "not_json");
}

// ------------------------------------------------------------------ uhppoted

fn uh_record(extra: &str) -> String {
    format!(
        r#"{{"device-id":405419896,"event-id":73,"event-type":1,"event-type-text":"card swipe","access-granted":true,"door-id":1,"direction":1,"direction-text":"in","card-number":8165538,"timestamp":"2026-11-21 09:00:00","event-reason":1,"event-reason-text":"swipe"{extra}}}"#
    )
}

#[test]
fn uhppoted_records_where_the_gateway_puts_them() {
    let mut uh = Device::new(UHPPOTED);
    let nested = format!(
        r#"{{"message":{{"event":{}}},"hmac":"8d0f…"}}"#,
        uh_record("")
    );
    let e = uh.event("uhppoted/gateway/events", &nested);
    assert_eq!(e.door.as_str(), "server-room-main");
    assert_eq!(e.event_id, "uh-405419896-73");
    assert_eq!(e.kind, DoorEventKind::AccessGranted);
    assert_eq!(e.direction, Direction::In);
    assert_eq!(e.ts, t("2026-11-21T00:00:00Z"));
    assert_eq!(e.credential.as_ref().unwrap().to_string(), "card:8165538");
    for doc in [
        uh_record(""),
        format!(r#"{{"event":{}}}"#, uh_record("")),
        format!(r#"{{"message":{{"reply":{{"event":{}}}}}}}"#, uh_record("")),
        format!(
            r#"{{"message":{{"reply":{{"response":{{"event":{}}}}}}}}}"#,
            uh_record("")
        ),
    ] {
        assert_eq!(uh.event("uhppoted/gateway/events/live", &doc), e, "{doc}");
    }
}

#[test]
fn uhppoted_event_lists() {
    let mut uh = Device::new(UHPPOTED);
    let second = uh_record("")
        .replace("\"event-id\":73", "\"event-id\":74")
        .replace("\"door-id\":1", "\"door-id\":2");
    let unknown = uh_record("")
        .replace("\"event-id\":73", "\"event-id\":75")
        .replace("\"door-id\":1", "\"door-id\":3");
    let out = uh.send(
        "uhppoted/gateway/events",
        &format!(
            r#"{{"message":{{"events":[{},{unknown},{second}]}}}}"#,
            uh_record("")
        ),
    );
    assert_eq!(out.len(), 3, "{out:#?}");
    let Output::Event(a) = &out[0] else { panic!() };
    let Output::Event(b) = &out[1] else { panic!() };
    assert_eq!(
        (a.event_id.as_str(), a.door.as_str()),
        ("uh-405419896-73", "server-room-main")
    );
    assert_eq!(
        (b.event_id.as_str(), b.door.as_str()),
        ("uh-405419896-74", "pharmacy-main")
    );
    let Output::Refused {
        door: None,
        refusal,
    } = &out[2]
    else {
        panic!("{:#?}", out[2])
    };
    assert_eq!(refusal.code(), "not_configured");
    let text = refusal.to_string();
    assert!(
        text.starts_with(
            "1 of 3 event records cannot be used; record 2: controller 405419896 door 3"
        ),
        "{text}"
    );
    assert!(text.contains("\"405419896:3\""), "{text}");

    let flat = uh.send(
        "uhppoted/gateway/events",
        &format!(r#"{{"events":[{}]}}"#, uh_record("")),
    );
    assert!(matches!(flat.as_slice(), [Output::Event(_)]));
    assert_eq!(
        uh.ignored("uhppoted/gateway/events", r#"{"events":[]}"#),
        None
    );
}

#[test]
fn uhppoted_kinds() {
    let mut uh = Device::new(UHPPOTED);
    let with = |ty: u32, reason: u32, text: &str| {
        format!(
            r#"{{"device-id":405419896,"event-id":80,"event-type":{ty},"access-granted":false,"door-id":2,"direction":2,"card-number":0,"timestamp":"2026-11-21 09:00:00","event-reason":{reason},"event-reason-text":"{text}"}}"#
        )
    };
    let cases = [
        (with(2, 23, "door open"), DoorEventKind::DoorOpened),
        (with(2, 24, "door closed"), DoorEventKind::DoorClosed),
        (with(3, 37, ""), DoorEventKind::DoorHeldOpen),
        (with(3, 38, ""), DoorEventKind::DoorForced),
        (with(3, 41, ""), DoorEventKind::Tamper),
        (with(3, 99, "Forced lock"), DoorEventKind::DoorForced),
        (
            with(3, 99, "Door open too long"),
            DoorEventKind::DoorHeldOpen,
        ),
        (with(2, 99, "Door Open"), DoorEventKind::DoorOpened),
        (with(2, 99, "door closed"), DoorEventKind::DoorClosed),
        (with(3, 99, "TAMPER alarm"), DoorEventKind::Tamper),
    ];
    for (payload, kind) in &cases {
        let e = uh.event("uhppoted/gateway/events", payload);
        assert_eq!(
            (e.kind, e.credential.clone(), e.door.as_str()),
            (*kind, None, "pharmacy-main"),
            "{payload}"
        );
    }
    let denied = uh.event("uhppoted/gateway/events", &with(1, 6, "no privilege"));
    assert_eq!(
        (denied.kind, denied.direction),
        (DoorEventKind::AccessDenied, Direction::Out)
    );
    assert_eq!(denied.credential.unwrap().to_string(), "card:0");
    for payload in [
        with(2, 44, "remote open door"),
        with(255, 0, ""),
        with(5, 0, ""),
    ] {
        assert_eq!(
            uh.ignored("uhppoted/gateway/events", &payload),
            Some(door("pharmacy-main")),
            "{payload}"
        );
    }
    // Ignored events of an unconfigured door are not dead letters.
    assert_eq!(
        uh.ignored(
            "uhppoted/gateway/events",
            &with(255, 0, "").replace("405419896", "1")
        ),
        None
    );
}

#[test]
fn uhppoted_times_and_numbers() {
    let mut uh = Device::new(&UHPPOTED.replace("+09:00", "-07:00"));
    let pdt = uh_record("").replace("2026-11-21 09:00:00", "2026-11-21 09:00:00 PDT");
    assert_eq!(
        uh.event("uhppoted/gateway/events", &pdt).ts,
        t("2026-11-21T16:00:00Z")
    );
    let rfc = uh_record("").replace("2026-11-21 09:00:00", "2026-11-21T09:00:00+09:00");
    assert_eq!(
        uh.event("uhppoted/gateway/events", &rfc).ts,
        t("2026-11-21T00:00:00Z")
    );
    let strings = uh_record("")
        .replace("405419896", "\"405419896\"")
        .replace("\"event-id\":73", "\"event-id\":\"73\"")
        .replace("\"access-granted\":true", "\"access-granted\":\"true\"")
        .replace("8165538", "\"8165538\"");
    let e = uh.event("uhppoted/gateway/events", &strings);
    assert_eq!(
        (e.event_id.as_str(), e.kind),
        ("uh-405419896-73", DoorEventKind::AccessGranted)
    );
}

#[test]
fn uhppoted_refusals() {
    let mut uh = Device::new(UHPPOTED);
    let drop = |key: &str| {
        let v: serde_json::Value = serde_json::from_str(&uh_record("")).unwrap();
        let mut m = v.as_object().unwrap().clone();
        m.remove(key);
        serde_json::json!({ "message": { "event": m } }).to_string()
    };
    let cases: Vec<(String, &str, Option<DoorId>)> = vec![
        ("{".into(), "not_json", None),
        (r#"{"message":{"status":{}}}"#.into(), "missing_field", None),
        (r#"{"events":{"a":1}}"#.into(), "invalid_value", None),
        (r#"{"event":[1]}"#.into(), "invalid_value", None),
        (drop("event-type"), "missing_field", None),
        (drop("device-id"), "missing_field", None),
        (drop("door-id"), "missing_field", None),
        (
            drop("event-id"),
            "missing_field",
            Some(door("server-room-main")),
        ),
        (
            drop("timestamp"),
            "missing_field",
            Some(door("server-room-main")),
        ),
        (
            drop("card-number"),
            "missing_field",
            Some(door("server-room-main")),
        ),
        (
            drop("access-granted"),
            "missing_field",
            Some(door("server-room-main")),
        ),
        (
            uh_record("").replace("\"door-id\":1", "\"door-id\":4"),
            "not_configured",
            None,
        ),
        (
            uh_record("").replace("2026-11-21 09:00:00", "yesterday"),
            "invalid_value",
            Some(door("server-room-main")),
        ),
        (
            uh_record("").replace("\"direction\":1", "\"direction\":7"),
            "unexpected_value",
            Some(door("server-room-main")),
        ),
        (
            uh_record("").replace("\"access-granted\":true", "\"access-granted\":\"maybe\""),
            "unexpected_value",
            Some(door("server-room-main")),
        ),
        (
            uh_record("").replace("\"event-id\":73", "\"event-id\":-1"),
            "invalid_value",
            Some(door("server-room-main")),
        ),
        (
            uh_record("").replace("\"device-id\":405419896", "\"device-id\":99999999999"),
            "not_configured",
            None,
        ),
    ];
    for (payload, code, want_door) in &cases {
        let (d, r) = uh.refusal("uhppoted/gateway/events", payload);
        assert_eq!((r.code(), &d), (*code, want_door), "{payload}: {r}");
    }
}

// ------------------------------------------------------------------ contacts

#[test]
fn tasmota() {
    let mut dev = Device::new(TASMOTA);
    assert_eq!(
        status(&dev.one("tele/door-ward3/LWT", "Online")),
        ("ward3-main", DoorStatus::Online, arrived())
    );
    assert_eq!(
        status(&dev.one("tele/door-ward3/LWT", "Offline")).1,
        DoorStatus::Offline
    );
    let (d, r) = dev.refusal("tele/door-ward3/LWT", "Rebooting");
    assert_eq!(
        (d, r.code()),
        (Some(door("ward3-main")), "unexpected_value")
    );
    let hb = Output::Heartbeat {
        door: door("ward3-main"),
        ts: arrived(),
    };
    assert_eq!(
        dev.one(
            "tele/door-ward3/STATE",
            r#"{"Time":"2026-11-21T09:00:00","Uptime":"0T01:00:00","Wifi":{"RSSI":80}}"#
        ),
        hb
    );

    // SENSOR: a heartbeat, and the first level seen is a change.
    let sensor = |level: &str| format!(r#"{{"Time":"2026-11-21T09:00:00","Switch1":"{level}"}}"#);
    let out = dev.send("tele/door-ward3/SENSOR", &sensor("ON"));
    assert_eq!(out.len(), 2, "{out:#?}");
    assert_eq!(out[0], hb);
    let Output::Event(opened) = &out[1] else {
        panic!("{out:#?}")
    };
    assert_eq!(opened.kind, DoorEventKind::DoorOpened);
    assert_eq!(opened.ts, arrived());
    assert_eq!(
        opened.event_id,
        format!("tasmota-{}", arrived().as_millis())
    );
    // The same level again: only alive.
    assert_eq!(
        dev.send("tele/door-ward3/SENSOR", &sensor("ON")),
        vec![hb.clone()]
    );
    // Telemetry without the switch: alive.
    assert_eq!(
        dev.send(
            "tele/door-ward3/SENSOR",
            r#"{"Time":"2026-11-21T09:00:00","AM2301":{"Temperature":21}}"#
        ),
        vec![hb.clone()]
    );
    // RESULT in both shapes.
    let later = Timestamp::from_millis(arrived().as_millis() + 2000);
    let closed = dev.at(
        "stat/door-ward3/RESULT",
        r#"{"Switch1":{"Action":"OFF"}}"#,
        later,
    );
    assert!(
        matches!(&closed[..], [Output::Event(e)] if e.kind == DoorEventKind::DoorClosed && e.ts == later)
    );
    assert_eq!(
        dev.event("stat/door-ward3/RESULT", r#"{"Switch1":"ON"}"#)
            .kind,
        DoorEventKind::DoorOpened
    );
    assert_eq!(
        dev.ignored("stat/door-ward3/RESULT", r#"{"POWER":"ON"}"#),
        Some(door("ward3-main"))
    );
    let cases: &[(&str, &str, &str)] = &[
        (
            "stat/door-ward3/RESULT",
            r#"{"Switch1":{"Action":"TOGGLE"}}"#,
            "unexpected_value",
        ),
        (
            "stat/door-ward3/RESULT",
            r#"{"Switch1":{"State":1}}"#,
            "missing_field",
        ),
        (
            "stat/door-ward3/RESULT",
            r#"{"Switch1":1}"#,
            "unexpected_value",
        ),
        ("tele/door-ward3/SENSOR", "ON", "not_json"),
        ("tele/door-ward3/LWT", "\u{fffd}", "unexpected_value"),
    ];
    for (topic, payload, code) in cases {
        let (d, r) = dev.refusal(topic, payload);
        assert_eq!(
            (d, r.code()),
            (Some(door("ward3-main")), *code),
            "{topic} {payload}: {r}"
        );
    }
    let (_, r) = Device::new(TASMOTA).refusal("tele/door-ward3/LWT", "\u{0}\u{ff}");
    assert_eq!(r.code(), "unexpected_value");
}

#[test]
fn tasmota_wired_the_other_way_and_another_switch() {
    let mut dev = Device::new(
        &TASMOTA
            .replace("open = \"ON\"", "open = \"off\"")
            .replace("Switch1", "Switch2"),
    );
    assert_eq!(
        dev.event("stat/door-ward3/RESULT", r#"{"Switch2":{"Action":"OFF"}}"#)
            .kind,
        DoorEventKind::DoorOpened
    );
    assert_eq!(
        dev.event("stat/door-ward3/RESULT", r#"{"switch2":"ON"}"#)
            .kind,
        DoorEventKind::DoorClosed
    );
    assert_eq!(
        dev.ignored("stat/door-ward3/RESULT", r#"{"Switch1":"ON"}"#),
        Some(door("ward3-main"))
    );
}

#[test]
fn contact_changes_within_one_millisecond_stay_apart_and_in_order() {
    let mut dev = Device::new(ESPHOME);
    let topic = "door-ward3/binary_sensor/door/state";
    let a = dev.event(topic, "ON");
    let b = dev.event(topic, "OFF");
    let c = dev.event(topic, "ON");
    assert_eq!(
        (a.kind, b.kind, c.kind),
        (
            DoorEventKind::DoorOpened,
            DoorEventKind::DoorClosed,
            DoorEventKind::DoorOpened
        )
    );
    assert!(a.ts < b.ts && b.ts < c.ts, "{} {} {}", a.ts, b.ts, c.ts);
    assert_eq!(b.ts.as_millis(), arrived().as_millis() + 1);
    assert_ne!(a.event_id, c.event_id);
    assert_eq!(c.event_id, format!("esphome-{}", arrived().as_millis() + 2));
}

#[test]
fn an_uncommitted_contact_change_comes_again() {
    // The driver commits only after the sink stored: a redelivery finds the old level.
    let src = source(SHELLY);
    let contacts = ContactState::new();
    let topic = "shellies/shellydw2-ABC123/sensor/state";
    let first = src.map(topic, b"open", arrived(), &contacts);
    let again = src.map(topic, b"open", arrived(), &contacts);
    assert_eq!(first, again);
    assert!(
        matches!(&first.outputs[..], [Output::Event(e)] if e.kind == DoorEventKind::DoorOpened)
    );
    let mut contacts = contacts;
    contacts.commit(first.contact.unwrap());
    assert_eq!(
        contacts.is_open(src.name(), &door("ward3-main")),
        Some(true)
    );
    assert!(matches!(
        &src.map(topic, b"open", arrived(), &contacts).outputs[..],
        [Output::Ignored { .. }]
    ));
}

#[test]
fn esphome() {
    let mut dev = Device::new(ESPHOME);
    let topic = "door-ward3/binary_sensor/door/state";
    assert_eq!(dev.event(topic, "ON").kind, DoorEventKind::DoorOpened);
    assert_eq!(dev.ignored(topic, "on"), Some(door("ward3-main")));
    assert_eq!(dev.event(topic, "OFF\n").kind, DoorEventKind::DoorClosed);
    assert_eq!(
        status(&dev.one("door-ward3/status", "online")).1,
        DoorStatus::Online
    );
    assert_eq!(
        status(&dev.one("door-ward3/status", "offline")).1,
        DoorStatus::Offline
    );
    assert_eq!(
        dev.refusal(topic, "unavailable").1.code(),
        "unexpected_value"
    );
    assert_eq!(
        dev.refusal("door-ward3/status", "zzz").1.code(),
        "unexpected_value"
    );
    // Reed switch wired the other way, default sensor id.
    let mut inverted =
        Device::new("preset = \"esphome\"\ntopic = \"node1\"\ndoor = \"lab-main\"\nopen = \"OFF\"");
    assert_eq!(
        inverted.event("node1/binary_sensor/door/state", "OFF").kind,
        DoorEventKind::DoorOpened
    );
}

#[test]
fn shelly() {
    let mut dev = Device::new(SHELLY);
    let state = "shellies/shellydw2-ABC123/sensor/state";
    assert_eq!(dev.event(state, "open").kind, DoorEventKind::DoorOpened);
    assert_eq!(dev.event(state, "close").kind, DoorEventKind::DoorClosed);
    assert_eq!(dev.ignored(state, "closed"), Some(door("ward3-main")));
    let online = "shellies/shellydw2-ABC123/online";
    assert_eq!(status(&dev.one(online, "true")).1, DoorStatus::Online);
    assert_eq!(status(&dev.one(online, "false")).1, DoorStatus::Offline);
    let vibration = "shellies/shellydw2-ABC123/sensor/vibration";
    assert_eq!(dev.ignored(vibration, "0"), Some(door("ward3-main")));
    assert_eq!(dev.event(vibration, "1").kind, DoorEventKind::Tamper);
    assert_eq!(dev.ignored(vibration, "1"), Some(door("ward3-main")));
    assert_eq!(dev.refusal(state, "ajar").1.code(), "unexpected_value");
    assert_eq!(dev.refusal(online, "yes").1.code(), "unexpected_value");
    assert_eq!(dev.refusal(vibration, "2").1.code(), "unexpected_value");
}

// ------------------------------------------------------------------ generic

#[test]
fn generic_the_spec_example() {
    let mut acme = Device::new(GENERIC);
    let topic = "acme/c1/reader/r1/event";
    let e = acme.event(
        topic,
        r#"{"event":"granted","id":"000123","time":"2026-11-21 09:00:00","dir":2,"card":"04:a1:b2:c3"}"#,
    );
    assert_eq!(e.door.as_str(), "ward3-main");
    assert_eq!(e.event_id, "acme-000123");
    assert_eq!(e.ts, t("2026-11-21T00:00:00Z"));
    assert_eq!(
        (e.kind, e.direction),
        (DoorEventKind::AccessGranted, Direction::Out)
    );
    assert_eq!(e.credential.unwrap().to_string(), "card:04A1B2C3");
    let opened = acme.event(topic, r#"{"event":"OPEN","id":7,"time":1700000000}"#);
    assert_eq!(
        (opened.kind, opened.credential, opened.event_id.as_str()),
        (DoorEventKind::DoorOpened, None, "acme-7")
    );
    assert_eq!(
        status(&acme.one(
            topic,
            r#"{"event":"offline","time":"2026-11-21T09:30:00+09:00"}"#
        )),
        ("ward3-main", DoorStatus::Offline, t("2026-11-21T00:30:00Z"))
    );
    assert_eq!(
        acme.one(topic, r#"{"event":"ping","time":1700000000}"#),
        Output::Heartbeat {
            door: door("ward3-main"),
            ts: t("2023-11-14T22:13:20Z")
        }
    );
    assert_eq!(
        acme.ignored(topic, r#"{"event":"button"}"#),
        Some(door("ward3-main"))
    );
    // A reader that is not in door_map: ignored messages stay quiet, events are refused.
    assert_eq!(
        acme.ignored("acme/c2/reader/r1/event", r#"{"event":"button"}"#),
        None
    );
    let (d, r) = acme.refusal(
        "acme/c2/reader/r1/event",
        r#"{"event":"open","id":1,"time":1700000000}"#,
    );
    assert_eq!((d, r.code()), (None, "not_configured"));
    assert!(r.to_string().contains("\"c2-r1\""), "{r}");
    let cases: &[(&str, &str)] = &[
        (r#"{"id":1,"time":1700000000}"#, "missing_field"),
        (r#"{"event":"open","time":1700000000}"#, "missing_field"),
        (r#"{"event":"open","id":1}"#, "missing_field"),
        (
            r#"{"event":"open","id":1,"time":"tomorrow"}"#,
            "invalid_value",
        ),
        (
            r#"{"event":"granted","id":1,"time":1700000000,"dir":3,"card":"1"}"#,
            "unexpected_value",
        ),
        (
            r#"{"event":"granted","id":1,"time":1700000000}"#,
            "missing_field",
        ),
        (
            r#"{"event":"open","id":{"n":1},"time":1700000000}"#,
            "invalid_value",
        ),
        (
            r#"{"event":"open","id":"","time":1700000000}"#,
            "invalid_value",
        ),
        ("open", "not_json"),
    ];
    for (payload, code) in cases {
        let (d, r) = acme.refusal(topic, payload);
        assert_eq!(r.code(), *code, "{payload}: {r}");
        assert_eq!(d, Some(door("ward3-main")), "{payload}");
    }
}

#[test]
fn generic_without_a_map_is_strict() {
    let mut g = Device::new(
        r#"
preset = "generic"
name = "strict"
topic = "s/{door}"
door = "{door}"
kind = { field = "/kind", map = { a = "tamper" } }
"#,
    );
    let (d, r) = g.refusal("s/ward3-main", r#"{"kind":"b"}"#);
    assert_eq!(
        (d, r.code()),
        (Some(door("ward3-main")), "unexpected_value")
    );
    assert!(
        r.to_string()
            .contains("kind value \"b\" is not one of: \"a\""),
        "{r}"
    );
    let (d, r) = g.refusal("s/bad door", r#"{"kind":"a"}"#);
    assert_eq!((d, r.code()), (None, "invalid_value"));
    // No event_id and no ts: the arrival time and a hash of topic and payload.
    let e = g.event("s/ward3-main", r#"{"kind":"A"}"#);
    assert_eq!(e.ts, arrived());
    assert!(
        e.event_id
            .starts_with(&format!("strict-{}-", arrived().as_millis())),
        "{}",
        e.event_id
    );
    let f = g.event("s/lab-main", r#"{"kind":"A"}"#);
    assert_ne!(e.event_id.rsplit('-').next(), f.event_id.rsplit('-').next());
}

#[test]
fn generic_plain_text_payloads() {
    let mut g = Device::new(
        r#"
preset = "generic"
name = "reed"
topic = "home/+/door/{id}"
door = "door-{id}"
kind = { field = "{payload}", map = { ON = "door_opened", OFF = "door_closed", online = "online" } }
"#,
    );
    assert_eq!(
        g.event("home/a/door/1", "ON").kind,
        DoorEventKind::DoorOpened
    );
    assert_eq!(g.event("home/a/door/1", " off\n").door.as_str(), "door-1");
    assert_eq!(
        status(&g.one("home/b/door/2", "online")),
        ("door-2", DoorStatus::Online, arrived())
    );
    assert_eq!(
        g.refusal("home/a/door/1", "AJAR").1.code(),
        "unexpected_value"
    );
    assert_eq!(
        g.refusal("home/a/door/1", "\u{0}").1.code(),
        "unexpected_value"
    );
    let (_, r) = g.refusal_bytes("home/a/door/1", &[0xff, 0xfe]);
    assert_eq!(r, Refusal::NotText);
}

#[test]
fn generic_value_specs_everywhere() {
    let mut g = Device::new(
        r#"
preset = "generic"
name = "multi"
topic = "m/{site}/#"
door = { field = "/reader", map = { "1" = "ward3-main", "2" = "lab-main" }, default = "ward3-main" }
kind = { field = "/k", default = "access_granted" }
event_id = "{site}-{/seq}"
ts = "/at"
utc_offset = "+00:00"
direction = "out"
credential_type = { field = "/how", map = { c = "card", f = "biometric" }, default = "card" }
credential_id = "{/who}"
"#,
    );
    assert_eq!(g.source.doors(), [door("lab-main"), door("ward3-main")]);
    let e = g.event(
        "m/tokyo/x/y",
        r#"{"reader":2,"seq":5,"at":"2026-11-21 00:00:00","how":"f","who":"p0001"}"#,
    );
    assert_eq!(e.door.as_str(), "lab-main");
    assert_eq!(e.event_id, "multi-tokyo-5");
    assert_eq!(
        (e.kind, e.direction),
        (DoorEventKind::AccessGranted, Direction::Out)
    );
    assert_eq!(e.ts, t("2026-11-21T00:00:00Z"));
    assert_eq!(e.credential.unwrap().to_string(), "biometric:P0001");
    let e = g.event("m/tokyo", r#"{"seq":6,"at":1700000000,"who":"aa"}"#);
    assert_eq!(
        (e.door.as_str(), e.credential.unwrap().to_string()),
        ("ward3-main", "card:AA".into())
    );
    assert_eq!(
        g.refusal(
            "m/tokyo",
            r#"{"seq":6,"at":1700000000,"who":"aa","reader":3}"#
        )
        .1
        .code(),
        "unexpected_value"
    );
    assert_eq!(
        g.refusal("m/tokyo", r#"{"seq":6,"at":1700000000}"#)
            .1
            .code(),
        "missing_field"
    );
}

impl Device {
    fn refusal_bytes(&mut self, topic: &str, payload: &[u8]) -> (Option<DoorId>, Refusal) {
        match self
            .source
            .map(topic, payload, arrived(), &self.contacts)
            .outputs
            .as_slice()
        {
            [Output::Refused { door, refusal }] => (door.clone(), refusal.clone()),
            other => panic!("not refused: {other:#?}"),
        }
    }
}

// ------------------------------------------------------------------ limits and letters

#[test]
fn oversized_payloads_are_refused_with_the_door_when_known() {
    let big = vec![b' '; MAX_PAYLOAD + 1];
    let mut tasmota = Device::new(TASMOTA);
    let (d, r) = tasmota.refusal_bytes("tele/door-ward3/SENSOR", &big);
    assert_eq!(
        (d, r.code()),
        (Some(door("ward3-main")), "payload_too_large")
    );
    let mut uh = Device::new(UHPPOTED);
    assert_eq!(uh.refusal_bytes("uhppoted/gateway/events", &big).0, None);
    let mut exact = big.clone();
    exact.truncate(MAX_PAYLOAD);
    assert_eq!(
        Device::new(TASMOTA)
            .refusal_bytes("tele/door-ward3/SENSOR", &exact)
            .1
            .code(),
        "not_json"
    );
}

#[test]
fn dead_letters_name_the_source() {
    let refusal = Refusal::Missing("uid".into());
    let dl = dead_letter(
        "esp-rfid:esprfid",
        "esprfid/send",
        b"{}",
        Some(door("ward3-main")),
        &refusal,
        arrived(),
    );
    assert_eq!(dl.source, "mqtt");
    assert_eq!(dl.origin, "esprfid/send");
    assert_eq!(dl.door, Some(door("ward3-main")));
    assert_eq!(dl.reason, "esp-rfid:esprfid: uid is missing");
    assert_eq!(dl.payload, b"{}");
    assert_eq!(dl.received_at, arrived());
    let big = vec![b'x'; MAX_PAYLOAD * 2];
    let refusal = Refusal::TooLarge {
        size: big.len(),
        limit: MAX_PAYLOAD,
    };
    let dl = dead_letter("acme", "t", &big, None, &refusal, arrived());
    assert_eq!(dl.payload.len(), MAX_PAYLOAD);
    assert!(
        dl.reason.starts_with("acme: payload of 131072 bytes"),
        "{}",
        dl.reason
    );
    assert!(
        dl.reason.ends_with("(only the first 65536 bytes are kept)"),
        "{}",
        dl.reason
    );
}

// ------------------------------------------------------------------ property

mod property {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn all_sources() -> Vec<Source> {
        [ESP, ESP_SHARED, UHPPOTED, TASMOTA, ESPHOME, SHELLY, GENERIC]
            .iter()
            .enumerate()
            .map(|(i, s)| match s.contains("name =") {
                true => source(s),
                false => source(&format!("name = \"s{i}\"\n{s}")),
            })
            .chain([source(
                "preset = \"generic\"\nname = \"text\"\ntopic = \"t/{a}/#\"\ndoor = \"{a}\"\nkind = { field = \"{payload}\", map = { on = \"door_opened\", \"*\" = \"tamper\" } }",
            )])
            .collect()
    }

    fn topics() -> impl Strategy<Value = String> {
        let known: Vec<String> = all_sources().iter().flat_map(Source::filters).collect();
        prop_oneof![
            proptest::sample::select(known).prop_map(|f| f.replace('+', "x").replace('#', "y/z")),
            "[a-z/+#{}$]{0,20}",
            proptest::sample::select(vec![
                "acme/c1/reader/r1/event",
                "t/ward3-main",
                "t/bad door/x",
                "uhppoted/gateway/events/live"
            ])
            .prop_map(String::from),
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            proptest::sample::select(vec![
                "access",
                "heartbeat",
                "boot",
                "INFO",
                "door",
                "tamper",
                "Door Open",
                "true",
                "Always",
                "ON",
                "OFF",
                "online",
                "granted",
                "open",
                "1",
                "2",
                "2026-11-21 09:00:00",
                "1700000000",
                "405419896",
                "",
                " ",
                "ü",
                "{",
                "/",
            ])
            .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ]
    }

    fn keys() -> impl Strategy<Value = String> {
        proptest::sample::select(vec![
            "type",
            "time",
            "isKnown",
            "access",
            "uid",
            "door",
            "hostname",
            "src",
            "desc",
            "message",
            "event",
            "events",
            "event-id",
            "device-id",
            "door-id",
            "event-type",
            "event-reason",
            "event-reason-text",
            "access-granted",
            "card-number",
            "timestamp",
            "direction",
            "Switch1",
            "Action",
            "id",
            "dir",
            "card",
            "reader",
        ])
        .prop_map(String::from)
    }

    fn json_value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn payloads() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            proptest::sample::select(vec!["ON", "off", "Online", "true", "1", "open", "closed"])
                .prop_map(|s| s.as_bytes().to_vec()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Whatever arrives, mapping answers without panicking: outputs, or a dead letter
        /// that names a reason; every event it makes is a valid one.
        #[test]
        fn every_message_gets_an_answer(topic in topics(), payload in payloads(), arrived_ms in 0i64..4_000_000_000_000) {
            let arrived = Timestamp::from_millis(arrived_ms);
            let mut contacts = ContactState::new();
            for source in all_sources() {
                if !source.matches(&topic) {
                    continue;
                }
                for _ in 0..2 {
                    let mapped = source.map(&topic, &payload, arrived, &contacts);
                    prop_assert!(!mapped.outputs.is_empty());
                    for output in &mapped.outputs {
                        match output {
                            Output::Event(e) => {
                                prop_assert!(monban_core::event::parse_event_id(&e.event_id).is_ok());
                                prop_assert!(e.event_id.len() <= 128);
                            }
                            Output::Refused { refusal, .. } => {
                                prop_assert!(!refusal.to_string().is_empty());
                                let dl = dead_letter(source.name(), &topic, &payload, None, refusal, arrived);
                                prop_assert!(dl.reason.starts_with(source.name()));
                            }
                            Output::Status(_) | Output::Heartbeat { .. } | Output::Ignored { .. } => {}
                        }
                    }
                    if let Some(update) = mapped.contact {
                        contacts.commit(update);
                    }
                }
            }
        }
    }
}
