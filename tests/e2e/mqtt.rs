//! Door events and statuses over MQTT (CONTRACT §5), against the embedded rumqttd and,
//! when `MONBAN_TEST_MQTT_URL` is set, a real Mosquitto. Each scenario is written once
//! and run against both; every test has its own site id (topics) and client id
//! (persistent session).

use crate::broker::{start_rumqttd, Publisher, WillClient};
use crate::harness::*;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

const MQTT_NEW: &str = "monban_door_events_ingested_total{source=\"mqtt\",result=\"new\"}";
const MQTT_DUPLICATE: &str =
    "monban_door_events_ingested_total{source=\"mqtt\",result=\"duplicate\"}";
const MQTT_STATUS: &str = "monban_door_status_changes_total{source=\"mqtt\"}";

against_both!(
    events_earn_presence,
    bad_payloads_are_dead_letters_and_the_connector_goes_on,
    status_words_and_last_will,
    events_published_while_the_hub_is_down_arrive_after_restart,
    an_oversized_payload_does_not_stop_the_connector,
    events_published_as_soon_as_the_hub_is_healthy_arrive,
);

/// A hub on `url`, connected; the topic of a door of its site.
async fn hub_on(url: &str) -> Hub {
    let hub = spawn_hub(HubOptions::default().mqtt(url)).await;
    hub.wait_mqtt_connected().await;
    hub
}

fn topic(hub: &Hub, door: &str, kind: &str) -> String {
    format!("monban/{}/door/{door}/{kind}", hub.opts.site)
}

async fn wait_metric(hub: &Hub, series: &str, at_least: f64) {
    wait_for(&format!("{series} >= {at_least}"), DEADLINE, || async {
        (hub.metric(series).await >= at_least).then_some(())
    })
    .await
}

async fn events_earn_presence(url: &str) {
    let hub = hub_on(url).await;
    let b = Base::new();
    let mut p = Publisher::connect(url).await;
    // The contract's payload: no `door` in the body, the topic names it.
    let e = entry("ward3-main", "d-mqtt-1", &b.at(0, 9), "card", "04A1B2C3");
    p.publish(&topic(&hub, "ward3-main", "event"), mqtt_payload(&e), false)
        .await;
    // The body may name the door too, if it agrees with the topic.
    let e2 = entry(
        "pharmacy-door",
        "d-mqtt-2",
        &b.at(0, -5),
        "biometric",
        "B0004",
    );
    p.publish(
        &topic(&hub, "pharmacy-door", "event"),
        serde_json::to_vec(&e2).expect("json"),
        false,
    )
    .await;
    // A resend (QoS 1 is at least once) is stored once.
    p.publish(&topic(&hub, "ward3-main", "event"), mqtt_payload(&e), false)
        .await;
    wait_metric(&hub, MQTT_NEW, 2.0).await;
    wait_metric(&hub, MQTT_DUPLICATE, 1.0).await;
    assert_eq!(hub.metric(MQTT_NEW).await, 2.0);

    let l = ehr_login(
        "l-mqtt-1",
        &b.at(5, 0),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-mqtt-1",
        "combined_measures",
        &[],
        false,
    );
    assert_verdict(
        &hub.login_view("l-mqtt-1").await,
        "combined_measures",
        &[],
        evidence("d-mqtt-1", "ward3-main", &b.z(0), "card"),
    );
    let l = ehr_login(
        "l-mqtt-2",
        &b.at(5, 9),
        "tech04",
        "pharmacy-pc01",
        &["password"],
    );
    hub.login_ok(&l).await;
    assert_verdict(
        &hub.login_view("l-mqtt-2").await,
        "combined_measures",
        &[],
        evidence("d-mqtt-2", "pharmacy-door", &b.z(0), "biometric"),
    );

    // An event over MQTT and the same (door, event_id) over HTTP are one event.
    let (status, _) = hub.post_door_event(&e).await;
    assert_eq!(status, reqwest::StatusCode::OK);
}

async fn bad_payloads_are_dead_letters_and_the_connector_goes_on(url: &str) {
    let hub = hub_on(url).await;
    let b = Base::new();
    let mut p = Publisher::connect(url).await;
    let ev = topic(&hub, "ward3-main", "event");
    let unknown_kind = json!({"event_id": "d-x", "ts": b.at(0, 9), "kind": "exploded"}).to_string();
    let unknown_cred = json!({"event_id": "d-y", "ts": b.at(0, 9), "kind": "access_granted",
                              "credential": {"type": "badge", "id": "1"}})
    .to_string();
    // The last two: a valid event on a door the site does not have, and a body naming
    // another door than its topic.
    let unknown_door = String::from_utf8(mqtt_payload(&entry(
        "nowhere",
        "d-z",
        &b.at(0, 9),
        "card",
        "1",
    )))
    .expect("utf-8");
    let bad: Vec<(String, String)> = vec![
        (ev.clone(), "this is not json {".to_string()),
        (ev.clone(), unknown_kind),
        (ev.clone(), unknown_cred),
        (topic(&hub, "ward3-main", "status"), "sleepy".to_string()),
        (topic(&hub, "nowhere", "event"), unknown_door),
        (
            topic(&hub, "ward3-back", "event"),
            String::from_utf8(
                serde_json::to_vec(&entry("ward3-main", "d-w", &b.at(0, 9), "card", "1"))
                    .expect("json"),
            )
            .expect("utf-8"),
        ),
    ];
    for (t, payload) in &bad {
        p.publish(t, payload.clone(), false).await;
    }
    // After all of them, a valid entry: the connector must still apply it.
    let good = entry("ward3-main", "d-good", &b.at(0, -5), "card", "04A1B2C3");
    p.publish(&ev, mqtt_payload(&good), false).await;
    wait_metric(&hub, MQTT_NEW, 1.0).await;
    let letters = wait_for("all dead letters", DEADLINE, || async {
        let l = hub.dead_letters().await;
        (l.len() >= bad.len()).then_some(l)
    })
    .await;
    assert_eq!(letters.len(), bad.len(), "{letters:#?}");
    assert_eq!(
        hub.metric("monban_dead_letters_total{source=\"mqtt\"}")
            .await,
        bad.len() as f64
    );

    for (t, payload) in &bad {
        let letter = letters
            .iter()
            .find(|d| d["payload"] == payload.as_str() && d["origin"] == t.as_str())
            .unwrap_or_else(|| panic!("no dead letter for {payload:?} on {t}: {letters:#?}"));
        assert_eq!(letter["source"], "mqtt", "{letter}");
        assert!(
            !letter["reason"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .is_empty(),
            "{letter}"
        );
        let received = instant(letter["received_at"].as_str().expect("received_at"));
        assert!(
            (Utc::now() - received).num_seconds().abs() < 120,
            "{letter}"
        );
        assert!(
            letter["id"].is_number() || letter["id"].is_string(),
            "{letter}"
        );
    }
    let ids: std::collections::HashSet<String> =
        letters.iter().map(|d| d["id"].to_string()).collect();
    assert_eq!(
        ids.len(),
        letters.len(),
        "dead letter ids are unique: {letters:#?}"
    );

    let l = ehr_login("l-dl", &b.at(5, 9), "nurse01", "ward3-pc01", &["password"]);
    hub.login_ok(&l).await;
    assert_verdict(
        &hub.login_view("l-dl").await,
        "combined_measures",
        &[],
        evidence("d-good", "ward3-main", &b.z(0), "card"),
    );
    // Dead letters need a read token.
    let (status, _) = hub.get_with("/api/v1/dead-letters", None).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
}

fn now_ms() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn status_words_and_last_will(url: &str) {
    let hub = hub_on(url).await;
    let mut p = Publisher::connect(url).await;
    let now = Base::from_instant(Utc::now());
    // The nurse entered ten minutes ago and is still in ward3.
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &now.at(-10, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let ok = json!({"entry_event_id": "d-in", "door": "ward3-main", "entered_at": now.z(-10), "credential_type": "card"});
    let login_now = |id: &str| ehr_login(id, &now_ms(), "nurse01", "ward3-pc01", &["password"]);

    let l = login_now("l-st0");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-st0",
        "combined_measures",
        &[],
        false,
    );

    // A bare `offline` takes its arrival time.
    p.publish(&topic(&hub, "ward3-back", "status"), "offline", false)
        .await;
    wait_metric(&hub, MQTT_STATUS, 1.0).await;
    let l = login_now("l-st1");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-st1",
        "not_met",
        &["door_offline"],
        false,
    );
    // The earlier login is untouched: the door went offline after it.
    assert_verdict(
        &hub.login_view("l-st0").await,
        "combined_measures",
        &[],
        ok.clone(),
    );

    p.publish(&topic(&hub, "ward3-back", "status"), "online", false)
        .await;
    wait_metric(&hub, MQTT_STATUS, 2.0).await;
    let l = login_now("l-st2");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-st2",
        "combined_measures",
        &[],
        false,
    );
    assert_verdict(
        &hub.login_view("l-st1").await,
        "not_met",
        &["door_offline"],
        Value::Null,
    );

    // The controller of the main door dies; the broker publishes its will, `offline`.
    let status_topic = topic(&hub, "ward3-main", "status");
    let door = WillClient::connect(url, &status_topic).await;
    door.die().await;
    wait_metric(&hub, MQTT_STATUS, 3.0).await;
    let l = login_now("l-st3");
    assert_reply(
        &hub.login_ok(&l).await,
        "l-st3",
        "not_met",
        &["door_offline"],
        false,
    );

    drop(hub);
    // Clear the retained will so that nothing is left on the broker.
    p.publish(&status_topic, Vec::new(), true).await;
}

/// A message on another site's topics never reaches this hub (it subscribes with its
/// own site id only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_topics_are_not_ours() {
    let url = start_rumqttd();
    let hub = hub_on(&url).await;
    let b = Base::new();
    let mut p = Publisher::connect(&url).await;
    let e = entry("ward3-main", "d-foreign", &b.at(0, 9), "card", "04A1B2C3");
    p.publish(
        "monban/another-site/door/ward3-main/event",
        mqtt_payload(&e),
        false,
    )
    .await;
    let mine = entry("ward3-main", "d-mine", &b.at(1, 9), "card", "04A1B2C3");
    p.publish(
        &topic(&hub, "ward3-main", "event"),
        mqtt_payload(&mine),
        false,
    )
    .await;
    wait_metric(&hub, MQTT_NEW, 1.0).await;
    let l = ehr_login(
        "l-site",
        &b.at(0, 0),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-site",
        "not_met",
        &["no_presence"],
        false,
    );
}

async fn events_published_while_the_hub_is_down_arrive_after_restart(url: &str) {
    let mut hub = hub_on(url).await;
    let b = Base::new();
    let (status, _) = hub.terminate(DEADLINE);
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status}");

    // QoS 1 into the hub's persistent session while it is down.
    let mut p = Publisher::connect(url).await;
    let e = entry(
        "ward3-main",
        "d-while-down",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    );
    p.publish(&topic(&hub, "ward3-main", "event"), mqtt_payload(&e), false)
        .await;

    hub.start().await;
    wait_metric(&hub, MQTT_NEW, 1.0).await;
    let l = ehr_login(
        "l-down",
        &b.at(5, -5),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-down",
        "combined_measures",
        &[],
        false,
    );
}

/// A status for a door the site does not have is dead-lettered with what was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_an_unknown_door_keeps_its_payload() {
    let url = start_rumqttd();
    let hub = hub_on(&url).await;
    let mut p = Publisher::connect(&url).await;
    let t = topic(&hub, "nowhere", "status");
    p.publish(&t, "offline", false).await;
    let letters = wait_for("a dead letter", DEADLINE, || async {
        let l = hub.dead_letters().await;
        (!l.is_empty()).then_some(l)
    })
    .await;
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert_eq!(letters[0]["origin"], t.as_str());
    assert_eq!(letters[0]["source"], "mqtt");
    assert_eq!(
        letters[0]["payload"], "offline",
        "the dead letter must keep the payload: {}",
        letters[0]
    );
}

/// A payload of 512 KiB (a runaway controller; over the 64 KiB the hub keeps, under
/// the 1 MiB a broker should allow) is a bad payload like any other: kept as a dead
/// letter, and the events after it still arrive.
async fn an_oversized_payload_does_not_stop_the_connector(url: &str) {
    let hub = hub_on(url).await;
    let b = Base::new();
    let mut p = Publisher::connect(url).await;
    let t = topic(&hub, "ward3-main", "event");
    p.publish(&t, vec![b'x'; 512 * 1024], false).await;
    let good = entry("ward3-main", "d-after-big", &b.at(0, 9), "card", "04A1B2C3");
    p.publish(&t, mqtt_payload(&good), false).await;
    wait_metric(&hub, MQTT_NEW, 1.0).await;
    let letters = hub.dead_letters().await;
    assert!(
        letters.iter().any(|d| d["origin"] == t.as_str()),
        "the oversized payload was not kept as a dead letter: {letters:#?}"
    );
}

/// A packet over the connector's limit (2 MiB, from a broker left without
/// `message_size_limit`: the embedded rumqttd allows 8 MiB) cannot be refused on its own:
/// rumqttc drops the connection and the broker resends it on every reconnect. The hub
/// makes that visible: the connector is disconnected with the size and the fix in its
/// error, and one dead letter (not one per reconnect) tells the officer. Only against
/// rumqttd: a Mosquitto configured as the README says refuses the message itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packet_over_the_limit_is_reported_not_looped_silently() {
    let url = start_rumqttd();
    let hub = hub_on(&url).await;
    let mut p = Publisher::connect(&url).await;
    p.publish(
        &topic(&hub, "ward3-main", "event"),
        vec![b'x'; 2 * 1024 * 1024],
        false,
    )
    .await;
    let letter = wait_for("the dead letter of the jam", DEADLINE, || async {
        hub.dead_letters().await.into_iter().find(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("packet_too_large"))
        })
    })
    .await;
    assert_eq!(letter["source"], "mqtt", "{letter}");
    assert!(
        letter["reason"]
            .as_str()
            .unwrap()
            .contains("message_size_limit"),
        "{letter}"
    );
    let mqtt = wait_for("the connector to say why it is down", DEADLINE, || async {
        let doors = hub.doors().await;
        doors["connectors"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "mqtt"))
            .filter(|c| c["state"] == "disconnected")
            .cloned()
    })
    .await;
    assert!(
        mqtt["error"].as_str().unwrap().contains("over our limit"),
        "{mqtt}"
    );
    // The broker has resent it at least once more (a second refusal in the log), and
    // still one dead letter.
    wait_for("a second refusal", DEADLINE, || async {
        (hub.log().matches("over our limit").count() >= 2).then_some(())
    })
    .await;
    let jams = hub
        .dead_letters()
        .await
        .iter()
        .filter(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("packet_too_large"))
        })
        .count();
    assert_eq!(jams, 1, "one dead letter per jam");
}

/// `serve` "connects the connectors and serves the API" (CONTRACT §9): an integrator
/// who waits for `/healthz` and then publishes must not lose the event because the
/// hub had not subscribed yet (a first connection has no session to queue it in). The
/// hub reaches the broker over a link that takes 500 ms to connect; the door
/// controller publishes straight to the broker as soon as `/healthz` answers.
async fn events_published_as_soon_as_the_hub_is_healthy_arrive(url: &str) {
    let b = Base::new();
    let mut p = Publisher::connect(url).await;
    let hub_url = crate::broker::slow_link(url, std::time::Duration::from_millis(500)).await;
    let hub = spawn_hub(HubOptions::default().mqtt(&hub_url)).await;
    let e = entry("ward3-main", "d-early", &b.at(0, 9), "card", "04A1B2C3");
    p.publish(&topic(&hub, "ward3-main", "event"), mqtt_payload(&e), false)
        .await;
    hub.wait_mqtt_connected().await;
    let l = ehr_login(
        "l-early",
        &b.at(5, -5),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    hub.login_ok(&l).await;
    // The event arrives soon after the subscription unless it was dropped; a dropped one
    // never arrives, so a generous deadline costs nothing when the test passes.
    let what = "the event published right after /healthz to apply (lost?)";
    let view = wait_for(what, DEADLINE, || async {
        let v = hub.login_view("l-early").await;
        (v["verdict"] == "combined_measures").then_some(v)
    })
    .await;
    assert_eq!(view["evidence"]["entry_event_id"], "d-early");
}
