//! Idempotency (CONTRACT §5, §7): a repeated door `event_id` is stored once and answers
//! `200`; a repeated login `event_id` answers `200` with the stored result.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;

const NEW: &str = "monban_door_events_ingested_total{source=\"http\",result=\"new\"}";
const DUPLICATE: &str = "monban_door_events_ingested_total{source=\"http\",result=\"duplicate\"}";

#[tokio::test]
async fn repeated_door_event_is_stored_once() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let first = entry("ward3-main", "d-rep", &b.at(0, 9), "card", "04A1B2C3");
    hub.door_ok(&first).await;
    let (status, body) = hub.post_door_event(&first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"door": "ward3-main", "event_id": "d-rep"}));
    // Same door and event_id with another time: still the same event, the first wins.
    let altered = entry("ward3-main", "d-rep", &b.at(30, 0), "card", "04A1B2C3");
    let (status, _) = hub.post_door_event(&altered).await;
    assert_eq!(status, StatusCode::OK);

    let metrics = hub.metrics().await;
    assert_eq!(metric_value(&metrics, NEW), 1.0, "{metrics}");
    assert_eq!(metric_value(&metrics, DUPLICATE), 2.0, "{metrics}");

    // The evidence still names the first event's time: a login at 10 is covered.
    let l = ehr_login(
        "l-rep",
        &b.at(10, -5),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-rep",
        "combined_measures",
        &[],
        false,
    );
    assert_verdict(
        &hub.login_view("l-rep").await,
        "combined_measures",
        &[],
        evidence("d-rep", "ward3-main", &b.z(0), "card"),
    );

    // event_id is unique per door: the same id on another door is another event.
    let other = entry("ward3-back", "d-rep", &b.at(40, 0), "card", "04A1B2C3");
    hub.door_ok(&other).await;
    assert_eq!(hub.metric(NEW).await, 2.0);
}

#[tokio::test]
async fn repeated_login_answers_with_the_stored_result() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let l = ehr_login(
        "l-twice",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-twice",
        "not_met",
        &["no_presence"],
        false,
    );
    let (status, reply) = hub.post_login(&l).await;
    assert_eq!(status, StatusCode::OK);
    assert_reply(&reply, "l-twice", "not_met", &["no_presence"], false);

    // A second body under the same event_id is not a new login: the stored one stands.
    let changed = ehr_login(
        "l-twice",
        &b.at(6, 0),
        "nurse01",
        "ward3-pc01",
        &["password", "totp"],
    );
    let (status, reply) = hub.post_login(&changed).await;
    assert_eq!(status, StatusCode::OK);
    assert_reply(&reply, "l-twice", "not_met", &["no_presence"], false);
    let view = hub.login_view("l-twice").await;
    assert_eq!(view["factors"], json!(["password"]));
    assert_eq!(view["ts"], b.z(5));

    // Logins count once in compliance.
    let (status, c) = hub.compliance(Some(&b.at(0, 0)), Some(&b.at(60, 0))).await;
    assert_eq!(status, StatusCode::OK);
    let ehr = c["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .find(|s| s["id"] == "ehr")
        .cloned()
        .expect("ehr row");
    assert_eq!(ehr["logins"]["successful"], 1, "{c}");
}
