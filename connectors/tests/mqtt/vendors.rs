//! Vendor formats end to end: real MQTT clients publish as esp-rfid, uhppoted-mqtt,
//! Tasmota, ESPHome, Shelly and a generic device would, through a real broker, to a
//! connector configured with `[[mqtt.sources]]`; what reaches the sink is checked. Also
//! connection loss (a device's last will, its TCP connection dropped without
//! DISCONNECT) and QoS 1 redelivery after a store failure.

use crate::support::*;
use monban_connectors::mqtt::{MqttSettings, Source, SourceConfig};
use monban_core::{Direction, DoorEventKind, DoorStatus, Timestamp};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

fn compile(toml_text: &str) -> Source {
    let config: SourceConfig = toml::from_str(toml_text).expect("source TOML");
    config.compile().expect("source compiles")
}

/// Connector settings with these sources, and a unique client id and site.
fn with_sources(url: &str, sources: &[String]) -> (MqttSettings, String) {
    let client_id = unique("hub");
    let mut s = settings(url, &client_id, &unique("site"));
    s.sources = sources.iter().map(|t| compile(t)).collect();
    (s, client_id)
}

async fn start_connected(settings: MqttSettings) -> (Arc<MemorySink>, Running) {
    let sink = MemorySink::new();
    let hub = start(settings, sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;
    (sink, hub)
}

fn kinds(r: &Recorded, door: &str) -> Vec<DoorEventKind> {
    r.stored
        .iter()
        .filter(|e| e.door.as_str() == door)
        .map(|e| e.kind)
        .collect()
}

fn statuses(r: &Recorded, door: &str) -> Vec<DoorStatus> {
    r.statuses
        .iter()
        .filter(|s| s.door.as_str() == door)
        .map(|s| s.status)
        .collect()
}

/// An esp-rfid reader: access events in its mixed-case JSON, door messages, heartbeat,
/// boot, availability and the io topics; a broken payload is a dead letter naming the
/// source, and the connector goes on.
pub async fn esp_rfid_reader(url: &str) {
    let topic = unique("esprfid");
    let (s, client_id) = with_sources(
        url,
        &[format!(
            "preset = \"esp-rfid\"\ntopic = \"{topic}\"\ndoor = \"ward3-main\""
        )],
    );
    let (sink, hub) = start_connected(s).await;
    let mut device = Publisher::connect(url).await;
    let send = format!("{topic}/send");
    device
        .publish(&format!("{topic}/avty"), "online", false)
        .await;
    device
        .publish(
            &send,
            r#"{"type":"boot","time":1700000000,"uptime":1,"ip":"192.168.1.20","hostname":"esp-rfid-ward3"}"#,
            false,
        )
        .await;
    device
        .publish(
            &send,
            r#"{"type":"access","time":1700000010,"isKnown":"true","access":"Always","username":"Nurse A","uid":"0c0c0c0c","door":"esp-rfid-ward3"}"#,
            false,
        )
        .await;
    device
        .publish(
            &send,
            r#"{"type":"access","time":1700000020,"isknown":false,"access":"Denied","uid":"0d0d0d0d","door":"esp-rfid-ward3","cmd":"log"}"#,
            false,
        )
        .await;
    device
        .publish(
            &send,
            r#"{"type":"INFO","src":"door","desc":"Door Open","data":"","time":1700000011,"cmd":"event","door":"esp-rfid-ward3"}"#,
            false,
        )
        .await;
    device
        .publish(
            &send,
            r#"{"type":"INFO","src":"mqtt","desc":"Connected to MQTT Server","time":1700000012}"#,
            false,
        )
        .await;
    device.publish(&send, "{not json", false).await;
    device
        .publish(&format!("{topic}/io/tamper"), "ON", false)
        .await;
    device
        .publish(
            &send,
            r#"{"type":"heartbeat","time":1700000030,"uptime":30,"ip":"192.168.1.20","hostname":"esp-rfid-ward3"}"#,
            false,
        )
        .await;
    sink.wait_for("4 events, 2 statuses, a dead letter and heartbeats", |r| {
        r.stored.len() == 4
            && r.statuses.len() == 2
            && r.dead_letters.len() == 1
            && r.heartbeats.len() >= 3
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    assert_eq!(
        kinds(&r, "ward3-main"),
        [
            DoorEventKind::AccessGranted,
            DoorEventKind::AccessDenied,
            DoorEventKind::DoorOpened,
            DoorEventKind::Tamper
        ]
    );
    let granted = &r.stored[0];
    assert_eq!(
        granted.credential.as_ref().unwrap().to_string(),
        "card:0C0C0C0C"
    );
    assert_eq!(
        granted.ts,
        Timestamp::parse_rfc3339("2023-11-14T22:13:30Z").unwrap()
    );
    assert!(granted.event_id.starts_with("esp-1700000010-"));
    assert_eq!(
        statuses(&r, "ward3-main"),
        [DoorStatus::Online, DoorStatus::Online]
    );
    let letter = &r.dead_letters[0];
    assert_eq!(
        (
            letter.source.as_str(),
            letter.origin.as_str(),
            letter.door.as_ref().map(|d| d.as_str())
        ),
        ("mqtt", send.as_str(), Some("ward3-main"))
    );
    assert!(
        letter
            .reason
            .starts_with(&format!("esp-rfid:{topic}: the payload is not JSON")),
        "{}",
        letter.reason
    );
    assert_eq!(letter.payload, b"{not json");
    // Heartbeat, boot, and the ignored mqtt log line are signs of life.
    let alive: Vec<_> = r.heartbeats.iter().map(|(d, _)| d.as_str()).collect();
    assert!(
        alive.len() >= 3 && alive.iter().all(|d| *d == "ward3-main"),
        "{alive:?}"
    );

    take_over_with_clean_session(url, &client_id).await;
}

fn uh_record(event_id: u32, door: u32, extra: &str) -> String {
    format!(
        r#"{{"device-id":405419896,"event-id":{event_id},"event-type":1,"event-type-text":"card swipe","access-granted":true,"door-id":{door},"direction":2,"direction-text":"out","card-number":8165538,"timestamp":"2026-11-21 09:00:00","event-reason":1,"event-reason-text":"swipe"{extra}}}"#
    )
}

/// A uhppoted-mqtt gateway: a signed single event, a list with a door that is not
/// configured (the good ones are stored, the message is dead-lettered once), a
/// sub-topic.
pub async fn uhppoted_gateway(url: &str) {
    let topic = unique("uhppoted/gateway/events");
    let (s, client_id) = with_sources(
        url,
        &[format!(
            "preset = \"uhppoted\"\ntopic = \"{topic}\"\ndoors = {{ \"405419896:1\" = \"server-room-main\", \"405419896:2\" = \"pharmacy-main\" }}"
        )],
    );
    let (sink, hub) = start_connected(s).await;
    let mut gateway = Publisher::connect(url).await;
    gateway
        .publish(
            &topic,
            format!(
                r#"{{"message":{{"event":{}}},"hmac":"0f1e2d"}}"#,
                uh_record(73, 1, "")
            ),
            false,
        )
        .await;
    gateway
        .publish(
            &format!("{topic}/list"),
            format!(
                r#"{{"message":{{"events":[{},{},{}]}}}}"#,
                uh_record(74, 2, ""),
                uh_record(75, 4, ""),
                uh_record(76, 1, "")
            ),
            false,
        )
        .await;
    // On the events topic itself, which `{topic}/#` matches too: delivered once, so
    // one dead letter.
    gateway.publish(&topic, "not json", false).await;
    gateway.publish(&topic, uh_record(77, 2, ""), false).await;
    sink.wait_for("4 events and 2 dead letters", |r| {
        r.stored.len() == 4 && r.dead_letters.len() == 2
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    let ids: Vec<(&str, &str)> = r
        .stored
        .iter()
        .map(|e| (e.door.as_str(), e.event_id.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("server-room-main", "uh-405419896-73"),
            ("pharmacy-main", "uh-405419896-74"),
            ("server-room-main", "uh-405419896-76"),
            ("pharmacy-main", "uh-405419896-77")
        ]
    );
    let e = &r.stored[0];
    assert_eq!(
        e.ts,
        Timestamp::parse_rfc3339("2026-11-21T00:00:00Z").unwrap()
    );
    assert_eq!(e.direction, Direction::Out);
    assert_eq!(e.credential.as_ref().unwrap().to_string(), "card:8165538");
    assert_eq!(r.dead_letters.len(), 2, "{:#?}", r.dead_letters);
    assert!(r.dead_letters[1].reason.contains("not JSON"));
    let letter = &r.dead_letters[0];
    assert_eq!(letter.origin, format!("{topic}/list"));
    assert!(
        letter
            .reason
            .contains("record 2: controller 405419896 door 4 is not in doors"),
        "{}",
        letter.reason
    );

    take_over_with_clean_session(url, &client_id).await;
}

/// Tasmota, ESPHome and Shelly contacts and a generic plain-text device: levels become
/// events only on a change, status and telemetry come through.
pub async fn door_contacts(url: &str) {
    let tasmota = unique("tasmota");
    let esphome = unique("esphome");
    let shelly = unique("shellydw2");
    let generic = unique("acme");
    let (s, client_id) = with_sources(
        url,
        &[
            format!("preset = \"tasmota\"\ntopic = \"{tasmota}\"\ndoor = \"door-t\""),
            format!("preset = \"esphome\"\ntopic = \"{esphome}\"\ndoor = \"door-e\""),
            format!("preset = \"shelly\"\ntopic = \"{shelly}\"\ndoor = \"door-s\""),
            format!(
                "preset = \"generic\"\nname = \"acme\"\ntopic = \"{generic}/{{door}}/contact\"\ndoor = \"{{door}}\"\nkind = {{ field = \"{{payload}}\", map = {{ OPEN = \"door_opened\", SHUT = \"door_closed\" }} }}"
            ),
        ],
    );
    let (sink, hub) = start_connected(s).await;
    let mut p = Publisher::connect(url).await;
    // Tasmota: SENSOR twice with the same level is one event; RESULT closes.
    let sensor = format!("tele/{tasmota}/SENSOR");
    p.publish(
        &sensor,
        r#"{"Time":"2026-11-21T09:00:00","Switch1":"ON"}"#,
        false,
    )
    .await;
    p.publish(
        &sensor,
        r#"{"Time":"2026-11-21T09:05:00","Switch1":"ON"}"#,
        false,
    )
    .await;
    p.publish(
        &format!("stat/{tasmota}/RESULT"),
        r#"{"Switch1":{"Action":"OFF"}}"#,
        false,
    )
    .await;
    p.publish(
        &format!("tele/{tasmota}/STATE"),
        r#"{"Time":"2026-11-21T09:06:00","Uptime":"0T00:06:00"}"#,
        false,
    )
    .await;
    // ESPHome.
    p.publish(&format!("{esphome}/status"), "online", false)
        .await;
    p.publish(&format!("{esphome}/binary_sensor/door/state"), "ON", false)
        .await;
    p.publish(&format!("{esphome}/binary_sensor/door/state"), "OFF", false)
        .await;
    // Shelly.
    p.publish(&format!("shellies/{shelly}/sensor/state"), "open", false)
        .await;
    p.publish(&format!("shellies/{shelly}/sensor/vibration"), "1", false)
        .await;
    p.publish(&format!("shellies/{shelly}/sensor/state"), "close", false)
        .await;
    // Generic plain text, and a value its map does not know.
    p.publish(&format!("{generic}/door-g/contact"), "OPEN", false)
        .await;
    p.publish(&format!("{generic}/door-g/contact"), "AJAR", false)
        .await;
    sink.wait_for("all contact events", |r| {
        kinds(r, "door-t").len() == 2
            && kinds(r, "door-e").len() == 2
            && kinds(r, "door-s").len() == 3
            && kinds(r, "door-g").len() == 1
            && r.dead_letters.len() == 1
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    use DoorEventKind::*;
    assert_eq!(kinds(&r, "door-t"), [DoorOpened, DoorClosed]);
    assert_eq!(kinds(&r, "door-e"), [DoorOpened, DoorClosed]);
    assert_eq!(kinds(&r, "door-s"), [DoorOpened, Tamper, DoorClosed]);
    assert_eq!(kinds(&r, "door-g"), [DoorOpened]);
    assert_eq!(statuses(&r, "door-e"), [DoorStatus::Online]);
    // SENSOR and STATE are telemetry; the repeated ON is a sign of life.
    assert!(
        r.heartbeats.iter().filter(|(d, _)| d == "door-t").count() >= 3,
        "{:?}",
        r.heartbeats
    );
    let letter = &r.dead_letters[0];
    assert!(
        letter
            .reason
            .starts_with("acme: kind value \"AJAR\" is not one of"),
        "{}",
        letter.reason
    );
    assert_eq!(letter.door.as_ref().map(|d| d.as_str()), Some("door-g"));
    for e in &r.stored {
        assert_eq!(e.credential, None);
    }

    take_over_with_clean_session(url, &client_id).await;
}

/// A device connected with an MQTT last will; dropping it closes its TCP connection
/// without DISCONNECT, so the broker publishes the will.
struct WillDevice {
    client: AsyncClient,
    acks: mpsc::UnboundedReceiver<()>,
    task: JoinHandle<()>,
}

impl WillDevice {
    async fn connect(url: &str, will_topic: &str, will: &str) -> WillDevice {
        let u = url::Url::parse(url).unwrap();
        let mut o = MqttOptions::new(
            unique("device"),
            u.host_str().unwrap(),
            u.port().unwrap_or(1883),
        );
        o.set_keep_alive(Duration::from_secs(5))
            .set_last_will(LastWill::new(will_topic, will, QoS::AtLeastOnce, false));
        let (client, mut eventloop) = AsyncClient::new(o, 10);
        let (tx, mut acks) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_) | Packet::PubAck(_))) => {
                        let _ = tx.send(());
                    }
                    Ok(_) => {}
                    Err(e) => panic!("device with a last will: {e}"),
                }
            }
        });
        tokio::time::timeout(DEADLINE, acks.recv())
            .await
            .expect("the device connects")
            .expect("device task alive");
        WillDevice { client, acks, task }
    }

    async fn publish(&mut self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
        tokio::time::timeout(DEADLINE, self.acks.recv())
            .await
            .expect("the broker acknowledges")
            .expect("device task alive");
    }

    /// Drops the event loop, and with it the socket: no DISCONNECT is sent.
    async fn lose_connection(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Tasmota, ESPHome and Shelly announce themselves online and leave a last will; when
/// their connections drop, the broker publishes the will and the door goes offline.
pub async fn last_wills_take_doors_offline(url: &str) {
    let tasmota = unique("tasmota");
    let esphome = unique("esphome");
    let shelly = unique("shellydw2");
    let (s, client_id) = with_sources(
        url,
        &[
            format!("preset = \"tasmota\"\ntopic = \"{tasmota}\"\ndoor = \"door-t\""),
            format!("preset = \"esphome\"\ntopic = \"{esphome}\"\ndoor = \"door-e\""),
            format!("preset = \"shelly\"\ntopic = \"{shelly}\"\ndoor = \"door-s\""),
        ],
    );
    let (sink, hub) = start_connected(s).await;
    let devices = [
        ("door-t", format!("tele/{tasmota}/LWT"), "Online", "Offline"),
        ("door-e", format!("{esphome}/status"), "online", "offline"),
        (
            "door-s",
            format!("shellies/{shelly}/online"),
            "true",
            "false",
        ),
    ];
    let mut connected = Vec::new();
    for (_, topic, online, will) in &devices {
        let mut device = WillDevice::connect(url, topic, will).await;
        device.publish(topic, online).await;
        connected.push(device);
    }
    sink.wait_for("three doors online", |r| r.statuses.len() == 3)
        .await;
    let before = now();
    for device in connected {
        device.lose_connection().await;
    }
    sink.wait_for("three doors offline", |r| {
        devices
            .iter()
            .all(|(door, ..)| statuses(r, door) == [DoorStatus::Online, DoorStatus::Offline])
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    for s in r
        .statuses
        .iter()
        .filter(|s| s.status == DoorStatus::Offline)
    {
        assert!(s.ts >= before, "offline at arrival: {} < {before}", s.ts);
    }
    assert!(r.dead_letters.is_empty(), "{:?}", r.dead_letters);

    take_over_with_clean_session(url, &client_id).await;
}

/// The store fails on an esp-rfid message and in the middle of a uhppoted list: neither
/// message is acknowledged, the broker redelivers both, and every event is stored once.
pub async fn vendor_messages_redelivered_after_a_store_failure(url: &str) {
    let esp = unique("esprfid");
    let uh = unique("uhppoted/gateway/events");
    let (s, client_id) = with_sources(
        url,
        &[
            format!("preset = \"esp-rfid\"\ntopic = \"{esp}\"\ndoor = \"ward3-main\""),
            format!("preset = \"uhppoted\"\ntopic = \"{uh}\"\ndoors = {{ \"405419896:1\" = \"server-room-main\" }}"),
        ],
    );
    let sink = MemorySink::new();
    // Call 1: the esp-rfid event (fails, comes again as call 2). Calls 3 and 4: the two
    // events of the list, the second fails; the redelivery repeats both (5, 6).
    sink.fail_on_calls(&[1, 4]);
    let hub = start(s, sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;
    let mut p = Publisher::connect(url).await;
    p.publish(
        &format!("{esp}/send"),
        r#"{"type":"access","time":1700000000,"isKnown":"true","access":"Always","uid":"04a1b2c3"}"#,
        false,
    )
    .await;
    sink.wait_for("the esp-rfid event after the failure", |r| {
        r.stored.len() == 1
    })
    .await;
    sink.wait_for("Connected again", |r| r.is_connected()).await;
    p.publish(
        &uh,
        format!(
            r#"{{"events":[{},{}]}}"#,
            uh_record(1, 1, ""),
            uh_record(2, 1, "")
        ),
        false,
    )
    .await;
    sink.wait_for("both uhppoted events", |r| {
        r.stored_count("server-room-main", "uh-405419896-2") == 1
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    assert_eq!(r.failures, 2);
    assert_eq!(r.stored.len(), 3, "{:#?}", r.stored);
    let esp_id = r.stored[0].event_id.clone();
    assert!(esp_id.starts_with("esp-1700000000-"), "{esp_id}");
    assert_eq!(r.stored_count("ward3-main", &esp_id), 1);
    assert_eq!(r.delivered("ward3-main", &esp_id), 1);
    assert_eq!(r.stored_count("server-room-main", "uh-405419896-1"), 1);
    // The first event of the list came again with the redelivery (rumqttd may resend
    // more than once) and was a duplicate from then on.
    assert!(
        r.delivered("server-room-main", "uh-405419896-1") >= 2,
        "{:?}",
        r.deliveries
    );
    assert!(r.dead_letters.is_empty());
    assert!(r.blind.is_empty());

    take_over_with_clean_session(url, &client_id).await;
}

/// A source whose topics overlap the native ones never takes native messages (the
/// broker may deliver such a message once per matching subscription: the event id makes
/// the second a duplicate).
pub async fn native_topics_come_first(url: &str) {
    let (mut s, client_id) = with_sources(url, &[]);
    let site = s.site.to_string();
    s.sources = vec![compile(&format!(
        "preset = \"generic\"\nname = \"greedy\"\ntopic = \"monban/{site}/#\"\ndoor = \"x\"\nkind = \"tamper\""
    ))];
    let (sink, hub) = start_connected(s).await;
    let mut p = Publisher::connect(url).await;
    p.publish(
        &format!("monban/{site}/door/door-a/event"),
        event("e-1"),
        false,
    )
    .await;
    p.publish(&format!("monban/{site}/other"), "x", false).await;
    sink.wait_for("the native event and the greedy one", |r| {
        r.stored.len() == 2
    })
    .await;
    hub.stop().await;
    let r = sink.recorded().clone();
    assert_eq!(r.stored_count("door-a", "e-1"), 1);
    assert_eq!(kinds(&r, "x"), [DoorEventKind::Tamper]);
    take_over_with_clean_session(url, &client_id).await;
}
