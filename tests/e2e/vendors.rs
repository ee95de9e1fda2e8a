//! Vendor MQTT formats (`[[mqtt.sources]]`, `docs/CONNECTORS.md`) through the real hub:
//! `monban serve` is started with one source per preset, and real MQTT clients publish
//! each vendor's own payloads on the vendor's own topics — esp-rfid's `/send` JSON,
//! uhppoted-mqtt's nested event records, Tasmota / ESPHome / Shelly contacts with their
//! birth messages and last wills, and a generic mapping. What the hub made of them is
//! read back through the API only: verdicts and evidence of password logins,
//! `/api/v1/dead-letters`, `/api/v1/doors` and `/metrics`.
//!
//! Every scenario runs against the embedded rumqttd and, when `MONBAN_TEST_MQTT_URL`
//! is set, against that Mosquitto. Device topics carry the test's site id, so tests
//! sharing one Mosquitto never see each other's messages; retained messages a device
//! leaves (birth, last will) are cleared at the end.

use crate::broker::Publisher;
use crate::harness::*;
use chrono::{FixedOffset, SecondsFormat, Utc};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, QoS};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const NEW: &str = "monban_door_events_ingested_total{source=\"mqtt\",result=\"new\"}";
const DUPLICATE: &str = "monban_door_events_ingested_total{source=\"mqtt\",result=\"duplicate\"}";
const STATUS: &str = "monban_door_status_changes_total{source=\"mqtt\"}";
const DEAD_LETTERS: &str = "monban_dead_letters_total{source=\"mqtt\"}";

against_both!(
    esp_rfid_reader,
    uhppoted_controller,
    tasmota_contact_and_its_last_will,
    esphome_contact_and_its_last_will,
    shelly_contact_and_its_last_will,
    generic_mapping_earns_credit,
    several_sources_and_a_heartbeat_timeout,
);

/// People the vendor tests need besides the harness hospital's: an aide whose card is
/// refused at the esp-rfid reader, and a technician with a UHPPOTE card (decimal).
const PEOPLE: &str = r#"
[[people]]
id = "p0100"
name = "看護助手 十郎"
credentials = ["card:0C0C0C0C"]
accounts = { ehr = "aide10" }

[[people]]
id = "p0101"
name = "薬剤助手 十一郎"
credentials = ["card:8165538"]
accounts = { ehr = "tech11" }
"#;

/// The UHPPOTE controller of the tests (its serial number).
const CONTROLLER: u32 = 405_419_896;

// ---------------------------------------------------------------- helpers

async fn hub_on(url: &str, opts: HubOptions) -> Hub {
    let hub = spawn_hub(opts.mqtt(url)).await;
    hub.wait_mqtt_connected().await;
    hub
}

async fn wait_metric(hub: &Hub, series: &str, at_least: f64) {
    wait_for(&format!("{series} >= {at_least}"), DEADLINE, || async {
        (hub.metric(series).await >= at_least).then_some(())
    })
    .await
}

/// Waits until `door` is in `state` in `/api/v1/doors`; returns its entry.
async fn wait_door_state(hub: &Hub, door: &str, state: &str) -> Value {
    wait_for(&format!("door {door} to be {state}"), DEADLINE, || async {
        let d = hub.door_health(door).await;
        // The reason and the time are set with the state but after the hub's lock is
        // released: wait for the whole entry.
        let whole = match state {
            "offline" => d["offline_reason"].is_string() && d["since"].is_string(),
            _ => d["offline_reason"].is_null(),
        };
        (d["state"] == state && whole).then_some(d)
    })
    .await
}

/// Waits for `n` dead letters and returns them.
async fn wait_dead_letters(hub: &Hub, n: usize) -> Vec<Value> {
    // The row is written first, then the counters: wait for both.
    wait_for(&format!("{n} dead letter(s)"), DEADLINE, || async {
        let l = hub.dead_letters().await;
        let counted = hub.metric(DEAD_LETTERS).await >= n as f64;
        (l.len() >= n && counted).then_some(l)
    })
    .await
}

/// The instant `minutes` after `b`, as esp-rfid writes it (Unix seconds).
fn unix(b: Base, minutes: i64) -> i64 {
    instant(&b.z(minutes)).timestamp()
}

/// The instant `minutes` after `b` as a controller's local clock in Japan writes it
/// (`YYYY-MM-DD HH:MM:SS`, no offset).
fn jst_local(b: Base, minutes: i64) -> String {
    let jst = FixedOffset::east_opt(9 * 3600).expect("+09:00");
    instant(&b.z(minutes))
        .with_timezone(&jst)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn now_ms() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A password login on `terminal` now.
fn login_now(id: &str, account: &str, terminal: &str) -> Value {
    ehr_login(id, &now_ms(), account, terminal, &["password"])
}

/// Asserts a login view's verdict and reasons (not its evidence).
fn assert_outcome(view: &Value, verdict: &str, reasons: &[&str]) {
    assert_eq!(view["verdict"], verdict, "{view}");
    assert_eq!(view["reasons"], json!(reasons), "{view}");
}

/// esp-rfid's event id: `esp-{device time}-{8 hex digits of the payload's hash}`.
fn assert_esp_id(id: &Value, time: i64) {
    let id = id.as_str().unwrap_or_else(|| panic!("no event id: {id}"));
    let hash = id
        .strip_prefix(&format!("esp-{time}-"))
        .unwrap_or_else(|| panic!("{id:?} is not esp-{time}-…"));
    assert!(
        hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{id:?}: not 8 hex digits after the time"
    );
}

fn host_port(url: &str) -> (String, u16) {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or_else(|| panic!("broker url {url:?} must start with mqtt://"))
        .trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().expect("broker port")),
        None => (rest.to_string(), 1883),
    }
}

/// Clears retained messages a device left on the broker (an empty retained message).
async fn clear_retained(url: &str, topics: &[String]) {
    let mut p = Publisher::connect(url).await;
    for t in topics {
        p.publish(t, Vec::new(), true).await;
    }
}

// ---------------------------------------------------------------- a vendor device

/// One MQTT message as a device sends it.
#[derive(Debug, Clone)]
struct Msg {
    topic: String,
    payload: String,
    qos: QoS,
    retain: bool,
}

fn msg(topic: impl Into<String>, payload: impl Into<String>, qos: QoS, retain: bool) -> Msg {
    Msg {
        topic: topic.into(),
        payload: payload.into(),
        qos,
        retain,
    }
}

enum Note {
    Connected,
    Sent,
    Acked,
}

/// A vendor device on its own MQTT connection, registered with the vendor's last will.
/// [`Device::die`] drops the socket without DISCONNECT (power cut, Wi-Fi gone): the
/// broker publishes the will.
struct Device {
    client: AsyncClient,
    notes: mpsc::UnboundedReceiver<Note>,
    task: JoinHandle<()>,
}

impl Device {
    /// Connects as `client_id` and returns once the broker acknowledged the connection.
    async fn connect(url: &str, client_id: &str, will: Option<&Msg>) -> Device {
        let (host, port) = host_port(url);
        let mut o = MqttOptions::new(client_id, host, port);
        o.set_keep_alive(Duration::from_secs(5));
        if let Some(w) = will {
            o.set_last_will(LastWill::new(&w.topic, w.payload.clone(), w.qos, w.retain));
        }
        let (client, mut eventloop) = AsyncClient::new(o, 10);
        let (tx, mut notes) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let note = match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => Some(Note::Connected),
                    Ok(Event::Outgoing(Outgoing::Publish(_))) => Some(Note::Sent),
                    Ok(Event::Incoming(Packet::PubAck(_))) => Some(Note::Acked),
                    Ok(_) => None,
                    Err(e) => {
                        eprintln!("test device: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        None
                    }
                };
                if let Some(n) = note {
                    let _ = tx.send(n);
                }
            }
        });
        loop {
            let note = tokio::time::timeout(DEADLINE, notes.recv())
                .await
                .expect("the broker acknowledged the device's connection")
                .expect("device task alive");
            if matches!(note, Note::Connected) {
                break;
            }
        }
        Device {
            client,
            notes,
            task,
        }
    }

    /// Publishes as the device does (its QoS and retain flag); returns once the message
    /// went out (QoS 0) or the broker acknowledged it (QoS 1).
    async fn send(&mut self, m: &Msg) {
        self.client
            .publish(&m.topic, m.qos, m.retain, m.payload.clone())
            .await
            .expect("queue a publish");
        let wanted = |n: &Note| match m.qos {
            QoS::AtMostOnce => matches!(n, Note::Sent),
            _ => matches!(n, Note::Acked),
        };
        loop {
            let note = tokio::time::timeout(DEADLINE, self.notes.recv())
                .await
                .unwrap_or_else(|_| panic!("the device could not publish to {}", m.topic))
                .expect("device task alive");
            if wanted(&note) {
                return;
            }
        }
    }

    /// Drops the connection without DISCONNECT.
    async fn die(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------- esp-rfid

fn esp_rfid_source(topic: &str, door: &str) -> String {
    format!("[[mqtt.sources]]\npreset = \"esp-rfid\"\ntopic = \"{topic}\"\ndoor = \"{door}\"\n")
}

/// esp-rfid's heartbeat on `{topic}/send`.
fn esp_heartbeat(time: i64, hostname: &str) -> String {
    format!(
        r#"{{"type":"heartbeat","time":{time},"uptime":{},"ip":"192.168.10.31","hostname":"{hostname}"}}"#,
        time % 100_000
    )
}

async fn esp_rfid_reader(url: &str) {
    let opts = HubOptions::default();
    let topic = format!("esprfid-{}", opts.site);
    let hub = hub_on(
        url,
        opts.extra(&esp_rfid_source(&topic, "ward3-main"))
            .extra(PEOPLE),
    )
    .await;
    let send = format!("{topic}/send");
    let b = Base::new();
    let mut p = Publisher::connect(url).await;

    // The nurse's card: a newer firmware's `isknown` (older ones write `isKnown`), the
    // truth as a string, the uid in lower case.
    let t0 = unix(b, 0);
    let granted = format!(
        r#"{{"type":"access","time":{t0},"isknown":"true","access":"Always","username":"nurse01","uid":"04a1b2c3","door":"esp-rfid-ward3"}}"#
    );
    p.publish(&send, granted.clone(), false).await;
    // The same message again (a QoS 1 resend, a retained copy): stored once.
    p.publish(&send, granted, false).await;
    wait_metric(&hub, DUPLICATE, 1.0).await;
    assert_eq!(hub.metric(NEW).await, 1.0);

    // An aide's card the reader refuses.
    let t1 = unix(b, 1);
    p.publish(
        &send,
        format!(
            r#"{{"type":"access","time":{t1},"isKnown":"false","access":"Denied","username":"Unknown","uid":"0c0c0c0c","door":"esp-rfid-ward3"}}"#
        ),
        false,
    )
    .await;
    wait_metric(&hub, NEW, 2.0).await;

    // Card (possession) + password (knowledge), the esp-rfid entry as evidence.
    let l = ehr_login(
        "l-esp-in",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-esp-in",
        "combined_measures",
        &[],
        false,
    );
    let view = hub.login_view("l-esp-in").await;
    assert_outcome(&view, "combined_measures", &[]);
    let ev = &view["evidence"];
    assert_esp_id(&ev["entry_event_id"], t0);
    assert_eq!(ev["door"], "ward3-main", "{view}");
    assert_eq!(ev["entered_at"], b.z(0), "{view}");
    assert_eq!(ev["credential_type"], "card", "{view}");

    // The refused card gave the aide no presence.
    let l = ehr_login(
        "l-esp-denied",
        &b.at(10, 9),
        "aide10",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-esp-denied",
        "not_met",
        &["no_presence"],
        false,
    );

    // The reader's tamper warning is a forced door: an integrity alarm for the ward.
    let t30 = unix(b, 30);
    p.publish(
        &send,
        format!(
            r#"{{"type":"WARN","src":"tamper","desc":"Door was tampered!","data":"","time":{t30},"cmd":"event","door":"esp-rfid-ward3"}}"#
        ),
        false,
    )
    .await;
    wait_metric(&hub, NEW, 3.0).await;
    let l = ehr_login(
        "l-esp-alarm",
        &b.at(35, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-esp-alarm",
        "not_met",
        &["room_alarm"],
        false,
    );
    // The alarm came after the first login: that one keeps its credit.
    assert_outcome(&hub.login_view("l-esp-in").await, "combined_measures", &[]);
    let main = hub.door_health("ward3-main").await;
    assert_eq!(main["last_event_ts"], b.z(30), "{main}");

    // A payload that is not JSON: a dead letter naming the source, counted on the door.
    let broken = r#"{"type":"access","time":"#;
    p.publish(&send, broken, false).await;
    let letters = wait_dead_letters(&hub, 1).await;
    assert_eq!(letters.len(), 1, "{letters:#?}");
    let letter = &letters[0];
    assert_eq!(letter["source"], "mqtt", "{letter}");
    assert_eq!(letter["origin"], send.as_str(), "{letter}");
    assert_eq!(letter["payload"], broken, "{letter}");
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("esp-rfid:{topic}: ")) && reason.contains("not JSON"),
        "{letter}"
    );
    wait_for(
        "the main door to count the dead letter",
        DEADLINE,
        || async { (hub.door_health("ward3-main").await["dead_letters"] == 1).then_some(()) },
    )
    .await;
    let metrics = hub.metrics().await;
    assert_eq!(metric_value(&metrics, DEAD_LETTERS), 1.0);
    assert_eq!(
        metric_value(
            &metrics,
            "monban_door_dead_letters_recorded{door=\"ward3-main\",source=\"mqtt\"}"
        ),
        1.0,
        "{metrics}"
    );

    // The connector goes on: a heartbeat after the dead letter shows in the door's health.
    let now = Utc::now().timestamp();
    p.publish(&send, esp_heartbeat(now, "esp-rfid-ward3"), false)
        .await;
    let main = wait_for("the heartbeat in /api/v1/doors", DEADLINE, || async {
        let d = hub.door_health("ward3-main").await;
        d["last_heartbeat_at"].is_string().then_some(d)
    })
    .await;
    assert_eq!(
        instant(main["last_heartbeat_at"].as_str().unwrap_or_default()).timestamp(),
        now,
        "{main}"
    );
    assert_eq!(main["state"], "online", "{main}");
    // Three events stored, one of them sent twice; nothing else became an event.
    assert_eq!(hub.metric(NEW).await, 3.0);
    assert_eq!(hub.metric(DUPLICATE).await, 1.0);
}

// ---------------------------------------------------------------- uhppoted

fn uhppoted_source(topic: &str, doors: &str) -> String {
    format!("[[mqtt.sources]]\npreset = \"uhppoted\"\ntopic = \"{topic}\"\ndoors = {{ {doors} }}\n")
}

/// A card swipe as uhppoted-mqtt publishes it: `{"message":{"event":{…}}}`, keys in
/// alphabetical order (a Go map), the controller's local time without an offset.
fn uh_swipe(event_id: u32, door: u8, direction: u8, card: u32, local: &str) -> String {
    json!({"message": {"event": {
        "access-granted": true,
        "card-number": card,
        "device-id": CONTROLLER,
        "direction": direction,
        "direction-text": if direction == 1 { "in" } else { "out" },
        "door-id": door,
        "event-id": event_id,
        "event-reason": 1,
        "event-reason-text": "swipe",
        "event-type": 1,
        "event-type-text": "card swipe",
        "timestamp": local,
    }}})
    .to_string()
}

async fn uhppoted_controller(url: &str) {
    let opts = HubOptions::default();
    let topic = format!("{}/uhppoted/gateway/events", opts.site);
    let hub = hub_on(
        url,
        opts.extra(&uhppoted_source(
            &topic,
            &format!("\"{CONTROLLER}:1\" = \"pharmacy-door\""),
        ))
        .extra(PEOPLE),
    )
    .await;
    let live = format!("{topic}/live");
    let b = Base::new();
    let mut p = Publisher::connect(url).await;

    // Event 73: card 8165538 (decimal) in at door 1, 09:00 on the controller's clock.
    let swipe = uh_swipe(73, 1, 1, 8_165_538, &jst_local(b, 0));
    p.publish(&live, swipe.clone(), false).await;
    wait_metric(&hub, NEW, 1.0).await;
    // The same event fetched again after a reconnect, on the events feed: stored once.
    p.publish(&topic, swipe, false).await;
    wait_metric(&hub, DUPLICATE, 1.0).await;
    assert_eq!(hub.metric(NEW).await, 1.0);

    let l = ehr_login(
        "l-uh-in",
        &b.at(5, 9),
        "tech11",
        "pharmacy-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-uh-in",
        "combined_measures",
        &[],
        false,
    );
    assert_verdict(
        &hub.login_view("l-uh-in").await,
        "combined_measures",
        &[],
        evidence(
            &format!("uh-{CONTROLLER}-73"),
            "pharmacy-door",
            &b.z(0),
            "card",
        ),
    );

    // Event 74: the same card out (direction 2) ends the presence.
    p.publish(
        &live,
        uh_swipe(74, 1, 2, 8_165_538, &jst_local(b, 10)),
        false,
    )
    .await;
    wait_metric(&hub, NEW, 2.0).await;
    let l = ehr_login(
        "l-uh-out",
        &b.at(15, 9),
        "tech11",
        "pharmacy-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-uh-out",
        "not_met",
        &["no_presence"],
        false,
    );
    assert_outcome(&hub.login_view("l-uh-in").await, "combined_measures", &[]);

    // Door 3 of the controller is not mapped: a dead letter that says what to add.
    let unmapped = uh_swipe(75, 3, 1, 8_165_538, &jst_local(b, 20));
    p.publish(&live, unmapped.clone(), false).await;
    let letters = wait_dead_letters(&hub, 1).await;
    assert_eq!(letters.len(), 1, "{letters:#?}");
    let letter = &letters[0];
    assert_eq!(letter["origin"], live.as_str(), "{letter}");
    assert_eq!(letter["payload"], unmapped.as_str(), "{letter}");
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("uhppoted:{topic}: "))
            && reason.contains(&format!("\"{CONTROLLER}:3\"")),
        "{letter}"
    );
    assert_eq!(hub.metric(DEAD_LETTERS).await, 1.0);
    assert_eq!(hub.metric(NEW).await, 2.0);
}

// ---------------------------------------------------------------- contacts

/// A door contact device of one vendor, wired to `ward3-back`.
struct Contact {
    /// The `[[mqtt.sources]]` table.
    source: String,
    client_id: String,
    will: Msg,
    /// What the device publishes when it (re)connects: online, then its level (closed).
    birth: Vec<Msg>,
    open: Msg,
    close: Msg,
    /// A tamper signal, for devices that have one.
    tamper: Option<Msg>,
    /// Topics the device leaves retained messages on.
    retained: Vec<String>,
}

fn tasmota(site: &str) -> Contact {
    let t = format!("door-ward3-{site}");
    let result = |action: &str| {
        msg(
            format!("stat/{t}/RESULT"),
            json!({"Switch1": {"Action": action}}).to_string(),
            QoS::AtMostOnce,
            false,
        )
    };
    let lwt = format!("tele/{t}/LWT");
    Contact {
        source: format!(
            "[[mqtt.sources]]\npreset = \"tasmota\"\ntopic = \"{t}\"\ndoor = \"ward3-back\"\n"
        ),
        client_id: format!("DVES_{site}"),
        will: msg(&lwt, "Offline", QoS::AtLeastOnce, true),
        birth: vec![
            msg(&lwt, "Online", QoS::AtLeastOnce, true),
            msg(
                format!("tele/{t}/STATE"),
                r#"{"Time":"2026-11-21T09:00:00","Uptime":"0T00:00:05","UptimeSec":5,"Heap":25,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"Wifi":{"AP":1,"SSId":"ward3","RSSI":100,"Signal":-42}}"#,
                QoS::AtMostOnce,
                false,
            ),
            msg(
                format!("tele/{t}/SENSOR"),
                r#"{"Time":"2026-11-21T09:00:00","Switch1":"OFF"}"#,
                QoS::AtMostOnce,
                false,
            ),
        ],
        open: result("ON"),
        close: result("OFF"),
        tamper: None,
        retained: vec![lwt],
    }
}

fn esphome(site: &str) -> Contact {
    let t = format!("door-ward3-{site}");
    let status = format!("{t}/status");
    let state = format!("{t}/binary_sensor/door/state");
    Contact {
        source: format!(
            "[[mqtt.sources]]\npreset = \"esphome\"\ntopic = \"{t}\"\ndoor = \"ward3-back\"\n"
        ),
        client_id: format!("{t}-esphome"),
        will: msg(&status, "offline", QoS::AtMostOnce, true),
        birth: vec![
            msg(&status, "online", QoS::AtMostOnce, true),
            msg(&state, "OFF", QoS::AtMostOnce, true),
        ],
        open: msg(&state, "ON", QoS::AtMostOnce, true),
        close: msg(&state, "OFF", QoS::AtMostOnce, true),
        tamper: None,
        retained: vec![status, state],
    }
}

fn shelly(site: &str) -> Contact {
    let id = format!("shellydw2-{site}");
    let online = format!("shellies/{id}/online");
    let state = format!("shellies/{id}/sensor/state");
    Contact {
        source: format!(
            "[[mqtt.sources]]\npreset = \"shelly\"\ntopic = \"{id}\"\ndoor = \"ward3-back\"\n"
        ),
        client_id: id.clone(),
        will: msg(&online, "false", QoS::AtMostOnce, true),
        birth: vec![
            msg(&online, "true", QoS::AtMostOnce, true),
            msg(&state, "close", QoS::AtMostOnce, false),
        ],
        open: msg(&state, "open", QoS::AtMostOnce, false),
        close: msg(&state, "close", QoS::AtMostOnce, false),
        tamper: Some(msg(
            format!("shellies/{id}/sensor/vibration"),
            "1",
            QoS::AtMostOnce,
            false,
        )),
        retained: vec![online],
    }
}

async fn tasmota_contact_and_its_last_will(url: &str) {
    contact_device_and_its_last_will(url, tasmota).await
}

async fn esphome_contact_and_its_last_will(url: &str) {
    contact_device_and_its_last_will(url, esphome).await
}

async fn shelly_contact_and_its_last_will(url: &str) {
    contact_device_and_its_last_will(url, shelly).await
}

/// The back door of the ward is a contact of one vendor. Its birth and its open/close
/// are door events that void nothing; losing its connection (the broker speaks its
/// last will) makes the ward fail closed until it is back.
async fn contact_device_and_its_last_will(url: &str, vendor: fn(&str) -> Contact) {
    let opts = HubOptions::default();
    let c = vendor(&opts.site);
    let hub = hub_on(url, opts.extra(&c.source)).await;
    // The nurse entered by the main door ten minutes ago and is still in the ward.
    let now = Base::from_instant(Utc::now());
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &now.at(-10, 9),
        "card",
        "04A1B2C3",
    ))
    .await;

    // Birth: online, and the contact's level (closed) — the first level seen is news.
    let mut device = Device::connect(url, &c.client_id, Some(&c.will)).await;
    for m in &c.birth {
        device.send(m).await;
    }
    wait_metric(&hub, STATUS, 1.0).await;
    wait_metric(&hub, NEW, 1.0).await;
    // Opened and closed: two more events.
    device.send(&c.open).await;
    wait_metric(&hub, NEW, 2.0).await;
    device.send(&c.close).await;
    wait_metric(&hub, NEW, 3.0).await;
    let back = hub.door_health("ward3-back").await;
    assert_eq!(back["state"], "online", "{back}");
    assert!(back["since"].is_string(), "{back}");
    assert!(back["last_event_at"].is_string(), "{back}");
    assert!(back["last_heard_at"].is_string(), "{back}");
    assert_eq!(back["dead_letters"], 0, "{back}");
    // A door opened and closed is no alarm: the ward still earns credit.
    let l = login_now("l-contact-1", "nurse01", "ward3-pc01");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-contact-1",
        "combined_measures",
        &[],
        false,
    );

    // Power cut: the socket goes without DISCONNECT; the broker publishes the will.
    device.die().await;
    let back = wait_door_state(&hub, "ward3-back", "offline").await;
    assert_eq!(back["offline_reason"], "status", "{back}");
    let l = login_now("l-contact-2", "nurse01", "ward3-pc01");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-contact-2",
        "not_met",
        &["door_offline"],
        false,
    );
    assert!(
        hub.metrics()
            .await
            .contains("monban_door_online{door=\"ward3-back\",source=\"mqtt\"} 0"),
        "metrics show the door offline"
    );

    // Power back: the device reconnects and says it is online.
    let mut device = Device::connect(url, &c.client_id, Some(&c.will)).await;
    for m in &c.birth {
        device.send(m).await;
    }
    let back = wait_door_state(&hub, "ward3-back", "online").await;
    assert!(back["offline_reason"].is_null(), "{back}");
    let l = login_now("l-contact-3", "nurse01", "ward3-pc01");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-contact-3",
        "combined_measures",
        &[],
        false,
    );
    // The login during the outage stays not_met.
    assert_outcome(
        &hub.login_view("l-contact-2").await,
        "not_met",
        &["door_offline"],
    );
    assert_eq!(hub.metric(STATUS).await, 3.0, "online, will, online");

    // A tamper signal (Shelly's vibration) is an integrity alarm.
    if let Some(tamper) = &c.tamper {
        device.send(tamper).await;
        wait_metric(&hub, NEW, 4.0).await;
        let l = login_now("l-contact-4", "nurse01", "ward3-pc01");
        assert_reply(
            &hub.login_ok(&l).await,
            "l-contact-4",
            "not_met",
            &["room_alarm"],
            false,
        );
    }
    // The closed level of the second birth was no change: no event of its own.
    let events = if c.tamper.is_some() { 4.0 } else { 3.0 };
    assert_eq!(hub.metric(NEW).await, events);
    assert_eq!(hub.metric(DEAD_LETTERS).await, 0.0);

    drop(device);
    drop(hub);
    clear_retained(url, &c.retained).await;
}

// ---------------------------------------------------------------- generic

async fn generic_mapping_earns_credit(url: &str) {
    let opts = HubOptions::default();
    let root = format!("acme-{}", opts.site);
    let source = format!(
        r#"
[[mqtt.sources]]
preset = "generic"
name = "acme"
topic = "{root}/{{controller}}/reader/{{reader}}/event"
door = "{{controller}}-{{reader}}"
door_map = {{ "c1-r1" = "ward3-main", "c2-r1" = "pharmacy-door" }}
kind = {{ field = "/event", map = {{ granted = "access_granted", denied = "access_denied", open = "door_opened", closed = "door_closed", forced = "door_forced", "*" = "ignore" }} }}
event_id = "/id"
ts = "/time"
utc_offset = "+09:00"
direction = {{ field = "/dir", map = {{ "1" = "in", "2" = "out" }} }}
credential_type = {{ field = "/reader", map = {{ card = "card", vein = "biometric" }}, default = "card" }}
credential_id = "/card"
"#
    );
    let hub = hub_on(url, opts.extra(&source)).await;
    let b = Base::new();
    let mut p = Publisher::connect(url).await;

    // Controller c1, reader r1 → ward3-main: a card written with colons, the kind in
    // upper case, the direction as a number, the time on the controller's local clock.
    p.publish(
        &format!("{root}/c1/reader/r1/event"),
        json!({"event": "GRANTED", "id": "000123", "time": jst_local(b, 0), "dir": 1, "card": "04:a1:b2:c3"})
            .to_string(),
        false,
    )
    .await;
    // c2/r1 → the pharmacy: a vein reader (biometric), the direction as text.
    p.publish(
        &format!("{root}/c2/reader/r1/event"),
        json!({"event": "granted", "id": "000124", "time": jst_local(b, 1), "dir": "1", "reader": "vein", "card": "b0004"})
            .to_string(),
        false,
    )
    .await;
    // A reader nobody mapped, and a message the map sends to "ignore".
    p.publish(
        &format!("{root}/c9/reader/r1/event"),
        json!({"event": "open", "id": "1"}).to_string(),
        false,
    )
    .await;
    p.publish(
        &format!("{root}/c1/reader/r1/event"),
        json!({"event": "button", "id": "000125"}).to_string(),
        false,
    )
    .await;
    wait_metric(&hub, NEW, 2.0).await;
    let letters = wait_dead_letters(&hub, 1).await;

    let l = ehr_login(
        "l-acme-1",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-acme-1",
        "combined_measures",
        &[],
        false,
    );
    assert_verdict(
        &hub.login_view("l-acme-1").await,
        "combined_measures",
        &[],
        evidence("acme-000123", "ward3-main", &b.z(0), "card"),
    );
    let l = ehr_login(
        "l-acme-2",
        &b.at(6, 9),
        "tech04",
        "pharmacy-pc01",
        &["password"],
    );
    hub.login_ok(&l).await;
    assert_verdict(
        &hub.login_view("l-acme-2").await,
        "combined_measures",
        &[],
        evidence("acme-000124", "pharmacy-door", &b.z(1), "biometric"),
    );

    assert_eq!(letters.len(), 1, "{letters:#?}");
    let letter = &letters[0];
    assert_eq!(
        letter["origin"],
        format!("{root}/c9/reader/r1/event"),
        "{letter}"
    );
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("acme: ") && reason.contains("\"c9-r1\" is not in door_map"),
        "{letter}"
    );
    // The ignored message is no event and no dead letter.
    assert_eq!(hub.metric(NEW).await, 2.0);
    assert_eq!(hub.metric(DEAD_LETTERS).await, 1.0);
}

// ---------------------------------------------------------------- several at once

/// A ward side door whose esp-rfid reader must be heard every 5 s (room for a loaded machine).
const SIDE_DOOR: &str = r#"
[[doors]]
id = "ward3-side"
room = "ward3"
name = "3F 通用口"
heartbeat_timeout = "5s"
"#;

/// One hub, five sources (two esp-rfid readers, a Tasmota contact, a uhppoted
/// controller, and the native topics), each reaching its own door. The side door's
/// reader sends heartbeats: while they come the door is online; when they stop the
/// watchdog holds it offline from the last one, and the ward fails closed.
async fn several_sources_and_a_heartbeat_timeout(url: &str) {
    let opts = HubOptions::default();
    let site = opts.site.clone();
    let esp_main = format!("esprfid-main-{site}");
    let esp_side = format!("esprfid-side-{site}");
    let tasmota = format!("door-ward3-{site}");
    let uh = format!("{site}/uhppoted/gateway/events");
    let hub = hub_on(
        url,
        opts.extra(SIDE_DOOR)
            .extra(PEOPLE)
            .extra(&esp_rfid_source(&esp_main, "ward3-main"))
            .extra(&esp_rfid_source(&esp_side, "ward3-side"))
            .extra(&format!(
                "[[mqtt.sources]]\npreset = \"tasmota\"\ntopic = \"{tasmota}\"\ndoor = \"ward3-back\"\n"
            ))
            .extra(&uhppoted_source(
                &uh,
                &format!("\"{CONTROLLER}:2\" = \"pharmacy-door\""),
            )),
    )
    .await;

    // The side door's reader: a heartbeat every 250 ms, with its NTP time.
    let beats = {
        let url = url.to_string();
        let send = format!("{esp_side}/send");
        tokio::spawn(async move {
            let mut p = Publisher::connect(&url).await;
            loop {
                p.publish(
                    &send,
                    esp_heartbeat(Utc::now().timestamp(), "esp-rfid-side"),
                    false,
                )
                .await;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let mut p = Publisher::connect(url).await;
    let b = Base::from_instant(Utc::now() - chrono::Duration::minutes(2));
    // The nurse badges in at the main reader; the technician at UHPPOTE door 2.
    let t0 = unix(b, 0);
    p.publish(
        &format!("{esp_main}/send"),
        format!(
            r#"{{"type":"access","time":{t0},"isKnown":"true","access":"Always","username":"nurse01","uid":"04A1B2C3","door":"esp-rfid-main"}}"#
        ),
        false,
    )
    .await;
    p.publish(
        &format!("{uh}/live"),
        uh_swipe(501, 2, 1, 8_165_538, &jst_local(b, 0)),
        false,
    )
    .await;
    // The back door's contact: online, opened, closed.
    p.publish(&format!("tele/{tasmota}/LWT"), "Online", false)
        .await;
    for action in ["ON", "OFF"] {
        p.publish(
            &format!("stat/{tasmota}/RESULT"),
            json!({"Switch1": {"Action": action}}).to_string(),
            false,
        )
        .await;
    }
    // A native event on the same hub: the pharmacy technician's vein.
    let native = entry(
        "pharmacy-door",
        "d-native-1",
        &b.at(1, 9),
        "biometric",
        "B0004",
    );
    p.publish(
        &format!("monban/{site}/door/pharmacy-door/event"),
        mqtt_payload(&native),
        false,
    )
    .await;
    wait_metric(&hub, NEW, 5.0).await;
    let doors = hub.doors().await;
    // Each source's events reached its own door.
    for door in ["ward3-main", "ward3-back", "pharmacy-door"] {
        let d = doors["doors"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["door"] == door))
            .unwrap_or_else(|| panic!("{door} not in {doors}"));
        assert!(d["last_event_at"].is_string(), "{door}: {d}");
        assert_eq!(d["dead_letters"], 0, "{door}: {d}");
    }

    // While the heartbeats come, the side door stays online: watch it for longer than
    // its timeout (3 s of heartbeats).
    let first = wait_for("the side door's first heartbeat", DEADLINE, || async {
        let d = hub.door_health("ward3-side").await;
        let beat = d["last_heartbeat_at"].as_str().map(instant)?;
        (d["state"] == "online").then_some(beat)
    })
    .await;
    wait_for("3 s of heartbeats from the side door", DEADLINE, || async {
        let d = hub.door_health("ward3-side").await;
        assert_eq!(
            d["state"], "online",
            "the side door went offline while its heartbeats came: {d}"
        );
        let beat = instant(d["last_heartbeat_at"].as_str().unwrap_or_default());
        (beat - first >= chrono::Duration::seconds(3)).then_some(())
    })
    .await;
    let l = login_now("l-multi-1", "nurse01", "ward3-pc01");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-multi-1",
        "combined_measures",
        &[],
        false,
    );
    let view = hub.login_view("l-multi-1").await;
    assert_esp_id(&view["evidence"]["entry_event_id"], t0);
    assert_eq!(view["evidence"]["door"], "ward3-main", "{view}");
    let l = login_now("l-multi-2", "tech11", "pharmacy-pc01");
    hub.login_ok(&l).await;
    assert_verdict(
        &hub.login_view("l-multi-2").await,
        "combined_measures",
        &[],
        evidence(
            &format!("uh-{CONTROLLER}-501"),
            "pharmacy-door",
            &b.z(0),
            "card",
        ),
    );

    // The reader goes silent: offline from its last sign of life, for the watchdog.
    beats.abort();
    let _ = beats.await;
    let side = wait_door_state(&hub, "ward3-side", "offline").await;
    assert_eq!(side["offline_reason"], "heartbeat_timeout", "{side}");
    assert_eq!(side["since"], side["last_heard_at"], "{side}");
    assert!(
        hub.metrics()
            .await
            .contains("monban_door_online{door=\"ward3-side\",source=\"mqtt\"} 0"),
        "metrics show the side door offline"
    );
    let l = login_now("l-multi-3", "nurse01", "ward3-pc01");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-multi-3",
        "not_met",
        &["door_offline"],
        false,
    );
    // Another room is not affected.
    let l = login_now("l-multi-4", "tech11", "pharmacy-pc01");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-multi-4",
        "combined_measures",
        &[],
        false,
    );

    // Heard again: online from then on (heartbeats keep coming while the test looks, so
    // a slow poll cannot see the watchdog take it offline again).
    let until = std::time::Instant::now() + DEADLINE;
    let side = loop {
        p.publish(
            &format!("{esp_side}/send"),
            esp_heartbeat(Utc::now().timestamp(), "esp-rfid-side"),
            false,
        )
        .await;
        let d = hub.door_health("ward3-side").await;
        if d["state"] == "online" && d["offline_reason"].is_null() {
            break d;
        }
        assert!(
            std::time::Instant::now() < until,
            "timed out after {DEADLINE:?} waiting for the side door to be heard again: {d}"
        );
        // The next heartbeat, a quarter of a second later (the reader's own pace).
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(side["offline_reason"].is_null(), "{side}");
    assert_eq!(hub.metric(DEAD_LETTERS).await, 0.0);
}
