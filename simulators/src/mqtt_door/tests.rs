//! Tests of the MQTT door controllers: golden payloads of every encoder (the examples of
//! the vendor spec and CONTRACT §5, byte for byte where the device's key order is
//! known), what each format refuses, the identifiers, and the device against the
//! in-process [`TestBroker`] (last wills, birth messages, dropped connections, queued
//! events, heartbeats, QoS).

use super::*;
use crate::test_broker::{Seen, TestBroker};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// 2026-11-21T09:00:00+09:00
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T09:00:00+09:00")
        .expect("time")
        .with_timezone(&Utc)
}

fn stamp(event_id: u64) -> Stamp {
    Stamp {
        at: t0(),
        event_id,
        late: false,
    }
}

fn card(id: &str) -> Option<Credential> {
    Credential::new(CredentialType::Card, id).ok()
}

fn badge(id: &str, direction: Direction) -> Happening {
    Happening::Event {
        kind: DoorEventKind::AccessGranted,
        direction,
        credential: card(id),
    }
}

fn deny(id: &str) -> Happening {
    Happening::Event {
        kind: DoorEventKind::AccessDenied,
        direction: Direction::In,
        credential: card(id),
    }
}

fn event(kind: DoorEventKind) -> Happening {
    Happening::Event {
        kind,
        direction: Direction::In,
        credential: None,
    }
}

fn profile(format: Format, spec: Spec) -> Profile {
    Profile::from_spec(format, &spec).unwrap_or_else(|e| panic!("{format}: {e}"))
}

fn esp() -> Profile {
    profile(
        Format::EspRfid,
        Spec {
            topic: Some("esprfid".into()),
            hostname: Some("esp-rfid-ward3".into()),
            ..Spec::default()
        },
    )
}

fn uhppoted() -> Profile {
    profile(
        Format::Uhppoted,
        Spec {
            device_id: Some(405419896),
            door_number: Some(1),
            ..Spec::default()
        },
    )
}

fn tasmota() -> Profile {
    profile(
        Format::Tasmota,
        Spec {
            topic: Some("door-ward3".into()),
            ..Spec::default()
        },
    )
}

fn esphome() -> Profile {
    profile(
        Format::Esphome,
        Spec {
            topic: Some("door-ward3".into()),
            ..Spec::default()
        },
    )
}

fn shelly() -> Profile {
    profile(
        Format::Shelly,
        Spec {
            topic: Some("shellydw2-ABC123".into()),
            ..Spec::default()
        },
    )
}

fn native() -> Profile {
    profile(
        Format::Native,
        Spec {
            door: Some("ward3-main".into()),
            ..Spec::default()
        },
    )
}

fn one(p: &Profile, h: &Happening, s: &Stamp) -> Publication {
    let mut out = p.encode(h, s).unwrap_or_else(|e| panic!("{h}: {e}"));
    assert_eq!(out.len(), 1, "{h}: {out:?}");
    out.remove(0)
}

fn parsed(p: &Publication) -> Value {
    serde_json::from_str(&p.payload).unwrap_or_else(|e| panic!("{}: {e}", p.payload))
}

#[test]
fn native_events_are_the_contracts_example() {
    let p = one(&native(), &badge("04A1B2C3", Direction::In), &stamp(123));
    assert_eq!(p.topic, "monban/tokyo-general/door/ward3-main/event");
    assert_eq!((p.qos, p.retain), (QoS::AtLeastOnce, false));
    // CONTRACT §5, word for word.
    let contract: Value = serde_json::from_str(
        r#"{"event_id": "d-000123", "ts": "2026-11-21T09:00:00+09:00", "kind": "access_granted",
            "direction": "in", "credential": {"type": "card", "id": "04A1B2C3"}}"#,
    )
    .expect("json");
    assert_eq!(parsed(&p), contract);

    let forced = one(&native(), &event(DoorEventKind::DoorForced), &stamp(124));
    assert_eq!(
        parsed(&forced),
        json!({"event_id": "d-000124", "ts": "2026-11-21T09:00:00+09:00", "kind": "door_forced"})
    );
    for (h, kind) in [
        (Happening::Contact(true), "door_opened"),
        (Happening::Contact(false), "door_closed"),
        (Happening::Tamper(true), "tamper"),
    ] {
        assert_eq!(parsed(&one(&native(), &h, &stamp(1)))["kind"], kind, "{h}");
    }
    assert_eq!(
        native().encode(&Happening::Tamper(false), &stamp(1)),
        Ok(vec![])
    );

    let will = native().last_will().expect("will");
    assert_eq!(
        (
            will.topic.as_str(),
            will.payload.as_str(),
            will.qos,
            will.retain
        ),
        (
            "monban/tokyo-general/door/ward3-main/status",
            "offline",
            QoS::AtLeastOnce,
            true
        )
    );
    let birth = native().birth(t0(), &DeviceState::default());
    assert_eq!(
        birth,
        vec![Publication::new(
            "monban/tokyo-general/door/ward3-main/status",
            "online",
            QoS::AtLeastOnce,
            true
        )]
    );
    assert_eq!(native().heartbeat(t0(), &DeviceState::default()), None);
}

#[test]
fn esp_rfid_payloads_are_the_firmwares() {
    let p = esp();
    let at = Stamp {
        at: DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
        event_id: 0,
        late: false,
    };
    // The spec's example, byte for byte (esp-rfid's key order).
    let access = one(&p, &badge("0C0C0C0C", Direction::In), &at);
    assert_eq!(access.topic, "esprfid/send");
    assert_eq!((access.qos, access.retain), (QoS::AtMostOnce, false));
    assert_eq!(
        access.payload,
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","username":"0C0C0C0C","uid":"0c0c0c0c","door":"esp-rfid-ward3"}"#
    );
    let denied = one(&p, &deny("0BADCAFE"), &at);
    assert_eq!(
        denied.payload,
        r#"{"type":"access","time":1700000000,"isKnown":"false","access":"Denied","username":"Unknown","uid":"0badcafe","door":"esp-rfid-ward3"}"#
    );
    let event_of = |h: &Happening| one(&p, h, &at).payload;
    assert_eq!(
        event_of(&Happening::Contact(true)),
        r#"{"type":"INFO","src":"door","desc":"Door Open","data":"","time":1700000000,"cmd":"event","door":"esp-rfid-ward3"}"#
    );
    assert_eq!(
        parsed(&one(&p, &event(DoorEventKind::DoorClosed), &at))["desc"],
        "Door Closed"
    );
    let forced: Value =
        serde_json::from_str(&event_of(&event(DoorEventKind::DoorForced))).expect("json");
    assert_eq!(
        (&forced["type"], &forced["src"], &forced["desc"]),
        (
            &json!("WARN"),
            &json!("tamper"),
            &json!("Door was tampered!")
        )
    );
    let held: Value =
        serde_json::from_str(&event_of(&event(DoorEventKind::DoorHeldOpen))).expect("json");
    assert!(
        held["desc"]
            .as_str()
            .is_some_and(|d| d.contains("max open time")),
        "{held}"
    );
    for (h, word) in [
        (Happening::Tamper(true), "ON"),
        (event(DoorEventKind::Tamper), "ON"),
        (Happening::Tamper(false), "OFF"),
    ] {
        let io = one(&p, &h, &at);
        assert_eq!(
            (io.topic.as_str(), io.payload.as_str()),
            ("esprfid/io/tamper", word)
        );
    }

    let will = p.last_will().expect("will");
    assert_eq!(
        (will.topic.as_str(), will.payload.as_str(), will.retain),
        ("esprfid/avty", "offline", true)
    );
    let state = DeviceState {
        uptime_secs: 3600,
        ..DeviceState::default()
    };
    let birth = p.birth(at.at, &state);
    assert_eq!(
        birth[0],
        Publication::new("esprfid/avty", "online", QoS::AtMostOnce, true)
    );
    assert_eq!(birth[1].topic, "esprfid/send");
    assert_eq!(
        birth[1].payload,
        r#"{"type":"boot","time":1700000000,"uptime":"0","ip":"192.0.2.10","hostname":"esp-rfid-ward3"}"#
    );
    let beat = p.heartbeat(at.at, &state).expect("esp-rfid has heartbeats");
    assert_eq!(beat.len(), 1);
    assert_eq!(beat[0].topic, "esprfid/send");
    assert_eq!(
        beat[0].payload,
        r#"{"type":"heartbeat","time":1700000000,"uptime":3600,"ip":"192.0.2.10","hostname":"esp-rfid-ward3"}"#
    );
    assert_eq!(p.default_heartbeat(), Some(Duration::from_secs(180)));
}

#[test]
fn esp_rfid_refuses_what_it_cannot_say() {
    let p = esp();
    let err = p
        .encode(&badge("04A1B2C3", Direction::Out), &stamp(1))
        .expect_err("no direction");
    assert!(err.why.contains("no direction"), "{err}");
    let bio = Happening::Event {
        kind: DoorEventKind::AccessGranted,
        direction: Direction::In,
        credential: Credential::new(CredentialType::Biometric, "P0017").ok(),
    };
    let err = p.encode(&bio, &stamp(1)).expect_err("reads cards");
    assert!(
        err.to_string()
            .starts_with("esp-rfid: this reader reads card"),
        "{err}"
    );
    // A reader configured for another credential type takes it.
    let vein = profile(
        Format::EspRfid,
        Spec {
            topic: Some("esprfid".into()),
            credential_type: Some("biometric".into()),
            ..Spec::default()
        },
    );
    assert_eq!(parsed(&one(&vein, &bio, &stamp(1)))["uid"], "p0017");
}

#[test]
fn uhppoted_events_are_uhppoted_mqtts() {
    let p = uhppoted();
    let swipe = one(&p, &badge("8165538", Direction::In), &stamp(42));
    assert_eq!(swipe.topic, "uhppoted/gateway/events/live");
    assert_eq!((swipe.qos, swipe.retain), (QoS::AtLeastOnce, true));
    // Go marshals a map: keys in alphabetical order.
    assert_eq!(
        swipe.payload,
        r#"{"message":{"event":{"access-granted":true,"card-number":8165538,"device-id":405419896,"direction":1,"direction-text":"in","door-id":1,"event-id":42,"event-reason":1,"event-reason-text":"swipe","event-type":1,"event-type-text":"card swipe","timestamp":"2026-11-21 09:00:00"}}}"#
    );
    let out = one(
        &p,
        &Happening::Event {
            kind: DoorEventKind::AccessDenied,
            direction: Direction::Out,
            credential: card("8165538"),
        },
        &stamp(43),
    );
    let e = &parsed(&out)["message"]["event"];
    assert_eq!(
        (
            &e["access-granted"],
            &e["direction"],
            &e["event-type"],
            &e["event-reason"]
        ),
        (&json!(false), &json!(2), &json!(1), &json!(6))
    );
    for (h, event_type, reason, text) in [
        (Happening::Contact(true), 2, 23, "door opened"),
        (Happening::Contact(false), 2, 24, "door closed"),
        (event(DoorEventKind::DoorOpened), 2, 23, "door opened"),
        (
            event(DoorEventKind::DoorHeldOpen),
            3,
            37,
            "door open too long",
        ),
        (event(DoorEventKind::DoorForced), 3, 38, "forced open"),
        (event(DoorEventKind::Tamper), 3, 41, "theft prevention"),
        (Happening::Tamper(true), 3, 41, "theft prevention"),
    ] {
        let e = parsed(&one(&p, &h, &stamp(7)))["message"]["event"].clone();
        assert_eq!(e["event-type"], event_type, "{h}");
        assert_eq!(e["event-reason"], reason, "{h}");
        assert_eq!(e["event-reason-text"], text, "{h}");
        assert_eq!(e["card-number"], 0, "{h}");
        assert_eq!(e["event-id"], 7, "{h}");
    }
    assert_eq!(p.encode(&Happening::Tamper(false), &stamp(1)), Ok(vec![]));
    // Caught up after an outage: the events feed topic.
    let late = Stamp {
        late: true,
        ..stamp(44)
    };
    assert_eq!(
        one(&p, &event(DoorEventKind::DoorForced), &late).topic,
        "uhppoted/gateway/events"
    );
    // The controller's own time zone.
    let utc = profile(
        Format::Uhppoted,
        Spec {
            device_id: Some(1),
            door_number: Some(4),
            topic: Some("site/events".into()),
            utc_offset: Some("Z".into()),
            ..Spec::default()
        },
    );
    let e = parsed(&one(&utc, &Happening::Contact(true), &stamp(1)));
    assert_eq!(e["message"]["event"]["timestamp"], "2026-11-21 00:00:00");
    assert_eq!(e["message"]["event"]["door-id"], 4);

    assert_eq!(p.last_will(), None);
    assert!(p.birth(t0(), &DeviceState::default()).is_empty());
    assert_eq!(p.heartbeat(t0(), &DeviceState::default()), None);
}

#[test]
fn uhppoted_card_numbers_are_decimal() {
    let p = uhppoted();
    for (id, words) in [
        ("04A1B2C3", "decimal"),
        ("04968809", "card:4968809"),
        ("0", "decimal"),
        ("99999999999", "decimal"),
    ] {
        let err = p
            .encode(&badge(id, Direction::In), &stamp(1))
            .expect_err(id);
        assert!(err.why.contains(words), "{id}: {err}");
    }
    let pin = Happening::Event {
        kind: DoorEventKind::AccessGranted,
        direction: Direction::In,
        credential: Credential::new(CredentialType::Pin, "7018").ok(),
    };
    assert!(p.encode(&pin, &stamp(1)).is_err());
    assert!(
        p.encode(
            &event(DoorEventKind::DoorForced),
            &stamp(u64::from(u32::MAX) + 1)
        )
        .is_err(),
        "event-id is 32 bits"
    );
}

#[test]
fn tasmota_reports_its_switch() {
    let p = tasmota();
    let open = one(&p, &Happening::Contact(true), &stamp(1));
    assert_eq!(open.topic, "stat/door-ward3/RESULT");
    assert_eq!(open.payload, r#"{"Switch1":{"Action":"ON"}}"#);
    assert_eq!((open.qos, open.retain), (QoS::AtMostOnce, false));
    assert_eq!(
        one(&p, &event(DoorEventKind::DoorClosed), &stamp(1)).payload,
        r#"{"Switch1":{"Action":"OFF"}}"#
    );
    let will = p.last_will().expect("LWT");
    assert_eq!(
        (
            will.topic.as_str(),
            will.payload.as_str(),
            will.qos,
            will.retain
        ),
        ("tele/door-ward3/LWT", "Offline", QoS::AtLeastOnce, true)
    );
    let state = DeviceState {
        contact_open: true,
        uptime_secs: 90_061,
        connects: 2,
        ..DeviceState::default()
    };
    let birth = p.birth(t0(), &state);
    assert_eq!(
        birth[0],
        Publication::new("tele/door-ward3/LWT", "Online", QoS::AtMostOnce, true)
    );
    let beat = p.heartbeat(t0(), &state).expect("TelePeriod");
    assert_eq!(birth[1..], beat[..], "birth = LWT Online + the telemetry");
    assert_eq!(beat[0].topic, "tele/door-ward3/STATE");
    let s = parsed(&beat[0]);
    assert_eq!(s["Time"], "2026-11-21T09:00:00");
    assert_eq!(s["Uptime"], "1T01:01:01");
    assert_eq!(s["UptimeSec"], 90_061);
    assert_eq!(s["MqttCount"], 2);
    assert!(s["Wifi"]["RSSI"].is_number());
    assert!(beat[0]
        .payload
        .starts_with(r#"{"Time":"2026-11-21T09:00:00","Uptime":"#));
    assert_eq!(beat[1].topic, "tele/door-ward3/SENSOR");
    assert_eq!(
        beat[1].payload,
        r#"{"Time":"2026-11-21T09:00:00","Switch1":"ON"}"#
    );
    assert_eq!(p.default_heartbeat(), Some(Duration::from_secs(300)));

    // A contact wired the other way, on another switch.
    let reversed = profile(
        Format::Tasmota,
        Spec {
            topic: Some("door-ward3".into()),
            switch: Some("Switch2".into()),
            open: Some("OFF".into()),
            ..Spec::default()
        },
    );
    assert_eq!(
        one(&reversed, &Happening::Contact(true), &stamp(1)).payload,
        r#"{"Switch2":{"Action":"OFF"}}"#
    );
    let closed = DeviceState::default();
    let sensor = &reversed.heartbeat(t0(), &closed).expect("beat")[1];
    assert_eq!(
        sensor.payload,
        r#"{"Time":"2026-11-21T09:00:00","Switch2":"ON"}"#
    );
}

#[test]
fn esphome_and_shelly_report_their_contact() {
    let e = esphome();
    let open = one(&e, &Happening::Contact(true), &stamp(1));
    assert_eq!(
        (open.topic.as_str(), open.payload.as_str(), open.retain),
        ("door-ward3/binary_sensor/door/state", "ON", true)
    );
    assert_eq!(
        one(&e, &Happening::Contact(false), &stamp(1)).payload,
        "OFF"
    );
    let will = e.last_will().expect("will");
    assert_eq!(
        (will.topic.as_str(), will.payload.as_str(), will.retain),
        ("door-ward3/status", "offline", true)
    );
    assert_eq!(
        e.birth(t0(), &DeviceState::default()),
        vec![
            Publication::new("door-ward3/status", "online", QoS::AtMostOnce, true),
            Publication::new(
                "door-ward3/binary_sensor/door/state",
                "OFF",
                QoS::AtMostOnce,
                true
            ),
        ]
    );
    assert_eq!(e.heartbeat(t0(), &DeviceState::default()), None);

    let s = shelly();
    assert_eq!(
        one(&s, &Happening::Contact(true), &stamp(1)),
        Publication::new(
            "shellies/shellydw2-ABC123/sensor/state",
            "open",
            QoS::AtMostOnce,
            false
        )
    );
    assert_eq!(
        one(&s, &event(DoorEventKind::DoorClosed), &stamp(1)).payload,
        "close"
    );
    let v = one(&s, &Happening::Tamper(true), &stamp(1));
    assert_eq!(
        (v.topic.as_str(), v.payload.as_str()),
        ("shellies/shellydw2-ABC123/sensor/vibration", "1")
    );
    assert_eq!(one(&s, &Happening::Tamper(false), &stamp(1)).payload, "0");
    let will = s.last_will().expect("will");
    assert_eq!(
        (will.topic.as_str(), will.payload.as_str(), will.retain),
        ("shellies/shellydw2-ABC123/online", "false", true)
    );
    assert_eq!(
        s.birth(t0(), &DeviceState::default())[0],
        Publication::new(
            "shellies/shellydw2-ABC123/online",
            "true",
            QoS::AtMostOnce,
            true
        )
    );
}

#[test]
fn contacts_refuse_badges_and_alarms() {
    for p in [tasmota(), esphome(), shelly()] {
        let err = p
            .encode(&badge("04A1B2C3", Direction::In), &stamp(1))
            .expect_err("no reader");
        assert!(err.why.contains("no reader"), "{err}");
        for kind in [DoorEventKind::DoorForced, DoorEventKind::DoorHeldOpen] {
            assert!(p.encode(&event(kind), &stamp(1)).is_err(), "{p:?} {kind:?}");
        }
        assert!(!p.carries_time(&Happening::Contact(true)));
        assert!(!p.numbers_events());
    }
    for p in [tasmota(), esphome()] {
        assert!(p.encode(&Happening::Tamper(true), &stamp(1)).is_err());
    }
    assert!(esp().carries_time(&badge("1", Direction::In)));
    assert!(!esp().carries_time(&Happening::Tamper(true)));
    assert!(uhppoted().carries_time(&Happening::Contact(true)));
}

#[test]
fn identifiers_are_checked() {
    let err = |format: Format, spec: Spec| Profile::from_spec(format, &spec).expect_err("bad");
    assert!(err(Format::Native, Spec::default()).contains("--door"));
    assert!(err(Format::EspRfid, Spec::default()).contains("topic"));
    assert!(err(Format::Uhppoted, Spec::default()).contains("device_id"));
    let e = err(
        Format::Uhppoted,
        Spec {
            device_id: Some(1),
            door_number: Some(5),
            ..Spec::default()
        },
    );
    assert!(e.contains("1 to 4"), "{e}");
    let e = err(
        Format::Tasmota,
        Spec {
            topic: Some("t".into()),
            hostname: Some("h".into()),
            ..Spec::default()
        },
    );
    assert!(
        e.contains("hostname does not apply to a tasmota door"),
        "{e}"
    );
    let e = err(
        Format::Shelly,
        Spec {
            topic: Some("shellies/#".into()),
            ..Spec::default()
        },
    );
    assert!(e.contains("wildcards"), "{e}");
    let e = err(
        Format::Esphome,
        Spec {
            topic: Some("x".into()),
            open: Some("maybe".into()),
            ..Spec::default()
        },
    );
    assert!(e.contains("ON or OFF"), "{e}");
    let e = err(
        Format::EspRfid,
        Spec {
            topic: Some("x".into()),
            credential_type: Some("key".into()),
            ..Spec::default()
        },
    );
    assert!(e.contains("credential_type"), "{e}");
    assert_eq!("esp-rfid".parse::<Format>(), Ok(Format::EspRfid));
    assert!("mqtt".parse::<Format>().is_err());
    for f in Format::ALL {
        assert_eq!(f.as_str().parse::<Format>(), Ok(f));
    }
    assert_eq!(
        uhppoted().default_client_id(),
        "monban-sim-uhppoted-405419896-1"
    );
    assert_eq!(
        tasmota().default_client_id(),
        "monban-sim-tasmota-door-ward3"
    );
}

#[test]
fn utc_offsets_and_first_event_ids() {
    assert_eq!(
        parse_utc_offset("+09:00").map(|o| o.local_minus_utc()),
        Ok(9 * 3600)
    );
    assert_eq!(
        parse_utc_offset("-0530").map(|o| o.local_minus_utc()),
        Ok(-(5 * 3600 + 1800))
    );
    assert_eq!(parse_utc_offset("Z").map(|o| o.local_minus_utc()), Ok(0));
    for bad in ["9", "+9:00", "+25:00", "JST", ""] {
        assert!(parse_utc_offset(bad).is_err(), "{bad}");
    }
    let a = default_first_event_id(t0());
    let b = default_first_event_id(t0() + chrono::TimeDelta::seconds(1));
    assert_eq!(b - a, 10, "tenths of a second");
    assert!(u32::try_from(a).is_ok(), "fits uhppoted's event-id");
}

// --- The device, against the in-process broker.

type Lines = Arc<Mutex<Vec<String>>>;

fn device(profile: Profile, broker: &TestBroker, first_id: u64) -> (MqttDoor, Lines) {
    let lines: Lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let mut opts = DeviceOptions::new(profile, "127.0.0.1", broker.addr.port(), Utc::now());
    opts.first_event_id = first_id;
    let door = MqttDoor::new(
        opts,
        Box::new(move |l: &str| {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(l.to_string())
        }),
    );
    (door, lines)
}

fn script(text: &str) -> Vec<Line> {
    script::parse_script(text)
        .expect("script")
        .into_iter()
        .map(|n| n.action)
        .collect()
}

/// Plays a script that ends with `quit`, and waits until the broker has recorded all.
async fn play(door: MqttDoor, broker: &TestBroker, text: &str) {
    let (_tx, rx) = mpsc::channel(1);
    tokio::time::timeout(
        Duration::from_secs(10),
        run(door, script(text), rx, CancellationToken::new()),
    )
    .await
    .expect("the script ends")
    .expect("runs");
    broker.wait_closed().await;
}

fn publishes(seen: &[Seen]) -> Vec<(String, String, u8, bool)> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Publish {
                topic,
                payload,
                qos,
                retain,
                ..
            } => Some((topic.clone(), payload.clone(), *qos, *retain)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_esp_rfid_connects_with_its_will_and_offline_fires_it() {
    let broker = TestBroker::start().await;
    let (door, lines) = device(esp(), &broker, 1);
    play(
        door,
        &broker,
        "badge card 040026D8 in\ncontact open\ncontact open\noffline\nbadge card 040026D8\nonline\nquit\n",
    )
    .await;
    let seen = broker.seen();
    let connects: Vec<&Seen> = seen
        .iter()
        .filter(|s| matches!(s, Seen::Connect { .. }))
        .collect();
    assert_eq!(connects.len(), 2, "{seen:#?}");
    assert_eq!(
        connects[0],
        &Seen::Connect {
            client_id: "monban-sim-esp-rfid-esprfid".into(),
            will: Some(("esprfid/avty".into(), "offline".into(), 1, true)),
        }
    );
    let wills = seen
        .iter()
        .filter(|s| matches!(s, Seen::Will { topic, payload, .. } if topic == "esprfid/avty" && payload == "offline"))
        .count();
    assert_eq!(
        wills, 2,
        "offline and quit both drop the connection: {seen:#?}"
    );
    assert!(!seen.iter().any(|s| matches!(s, Seen::Disconnect { .. })));
    let topics: Vec<String> = publishes(&seen)
        .into_iter()
        .map(|(t, p, _, _)| {
            let kind = serde_json::from_str::<Value>(&p)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_string))
                .unwrap_or(p);
            format!("{t} {kind}")
        })
        .collect();
    assert_eq!(
        topics,
        vec![
            "esprfid/avty online",
            "esprfid/send boot",
            "esprfid/send access",
            "esprfid/send INFO",
            // the second badge was lost while offline
            "esprfid/avty online",
            "esprfid/send boot",
        ]
    );
    let lines = lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        lines.iter().any(|l| l.contains("already open")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("lost while offline")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with("offline: connection dropped"))
            .count()
            == 2,
        "{lines:#?}"
    );
}

#[tokio::test]
async fn native_and_uhppoted_keep_events_while_offline() {
    let broker = TestBroker::start().await;
    let (door, _) = device(native(), &broker, 7);
    play(
        door,
        &broker,
        "event door_forced\noffline\nbadge card 04A1B2C3 out\nonline\nquit\n",
    )
    .await;
    let pubs = publishes(&broker.seen());
    let events: Vec<Value> = pubs
        .iter()
        .filter(|(t, ..)| t.ends_with("/event"))
        .map(|(_, p, ..)| serde_json::from_str(p).expect("json"))
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event_id"], "d-000007");
    assert_eq!(events[1]["event_id"], "d-000008");
    assert_eq!(events[1]["direction"], "out");
    let statuses: Vec<&str> = pubs
        .iter()
        .filter(|(t, ..)| t.ends_with("/status"))
        .map(|(_, p, ..)| p.as_str())
        .collect();
    assert_eq!(statuses, vec!["online", "online"]);
    assert!(pubs.iter().all(|(_, _, qos, _)| *qos == 1));

    let broker = TestBroker::start().await;
    let (mut door, _) = device(uhppoted(), &broker, 500);
    door.opts.retain_events = false;
    play(
        door,
        &broker,
        "contact open\noffline\ncontact closed\nonline\nquit\n",
    )
    .await;
    let seen = broker.seen();
    assert!(
        matches!(&seen[0], Seen::Connect { will: None, .. }),
        "uhppoted-mqtt sets no will: {seen:#?}"
    );
    let pubs = publishes(&seen);
    assert_eq!(pubs.len(), 2, "{pubs:#?}");
    assert_eq!(pubs[0].0, "uhppoted/gateway/events/live");
    assert_eq!(
        pubs[1].0, "uhppoted/gateway/events",
        "caught up on the feed"
    );
    assert!(pubs.iter().all(|p| !p.3), "--no-retain");
    let ids: Vec<Value> = pubs
        .iter()
        .map(|(_, p, ..)| {
            serde_json::from_str::<Value>(p).expect("json")["message"]["event"]["event-id"].clone()
        })
        .collect();
    assert_eq!(ids, vec![json!(500), json!(501)]);
    assert!(seen.iter().any(|s| matches!(s, Seen::Dropped { .. })));
}

#[tokio::test]
async fn heartbeats_come_on_time_and_qos_can_be_raised() {
    let broker = TestBroker::start().await;
    let (mut door, _) = device(tasmota(), &broker, 1);
    door.opts.heartbeat = Some(Duration::from_millis(150));
    door.opts.qos = Some(QoS::ExactlyOnce);
    play(door, &broker, "contact open\nwait 700ms\nquit\n").await;
    let pubs = publishes(&broker.seen());
    let states = pubs
        .iter()
        .filter(|(t, ..)| t == "tele/door-ward3/STATE")
        .count();
    assert!(
        (3..=7).contains(&states),
        "one at connect and one every 150 ms for 700 ms: {states}"
    );
    let result = pubs
        .iter()
        .find(|(t, ..)| t == "stat/door-ward3/RESULT")
        .expect("the contact");
    assert_eq!(result.2, 2, "--qos 2 applies to events");
    assert!(
        pubs.iter()
            .filter(|(t, ..)| t != "stat/door-ward3/RESULT")
            .all(|p| p.2 == 0),
        "telemetry keeps the device's QoS"
    );
    // The last SENSOR reports the open contact.
    let sensor = pubs
        .iter()
        .rev()
        .find(|(t, ..)| t == "tele/door-ward3/SENSOR")
        .expect("sensor");
    assert!(sensor.1.ends_with(r#""Switch1":"ON"}"#), "{}", sensor.1);
}

#[tokio::test]
async fn lines_from_standard_input_are_parsed_and_bad_ones_reported() {
    let broker = TestBroker::start().await;
    let (door, lines) = device(shelly(), &broker, 1);
    let (tx, rx) = mpsc::channel(8);
    let task = tokio::spawn(run(door, Vec::new(), rx, CancellationToken::new()));
    for l in [
        "contact open",
        "dance",
        "badge card 1",
        "heartbeat",
        "tamper on",
        "quit",
    ] {
        tx.send(l.to_string()).await.expect("send");
    }
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("ends")
        .expect("joins")
        .expect("runs");
    broker.wait_closed().await;
    let lines = lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("error: unknown command")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cannot: badge card 1 in: shelly:")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("shelly sends no heartbeat")),
        "{lines:#?}"
    );
    let pubs: Vec<(String, String)> = broker.published();
    assert_eq!(
        pubs,
        vec![
            (
                "shellies/shellydw2-ABC123/online".to_string(),
                "true".to_string()
            ),
            (
                "shellies/shellydw2-ABC123/sensor/state".into(),
                "close".into()
            ),
            (
                "shellies/shellydw2-ABC123/sensor/state".into(),
                "open".into()
            ),
            (
                "shellies/shellydw2-ABC123/sensor/vibration".into(),
                "1".into()
            ),
        ]
    );
}

#[tokio::test]
async fn cancel_ends_a_connection_attempt() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let opts = DeviceOptions::new(esp(), "127.0.0.1", port, Utc::now());
    let door = MqttDoor::new(opts, Box::new(|_: &str| {}));
    let cancel = CancellationToken::new();
    let (_tx, rx) = mpsc::channel(1);
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.cancel();
    });
    let r = tokio::time::timeout(Duration::from_secs(5), run(door, Vec::new(), rx, cancel))
        .await
        .expect("cancel ends the attempt");
    let err = r.expect_err("never connected");
    assert!(format!("{err:#}").contains("interrupted"), "{err:#}");
}
