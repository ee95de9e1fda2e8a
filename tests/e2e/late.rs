//! Late events and finality (CONTRACT §3): verdicts are computed on event time; an
//! event arriving within `grace` after the login was received re-judges it; after
//! `grace` the verdict is final and never changes.

use crate::harness::*;
use serde_json::Value;
use std::time::Duration;

const WARD_PC: &str = "ward3-pc01";

#[tokio::test]
async fn late_entry_turns_no_presence_into_combined() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let l = ehr_login("l-late1", &b.at(5, 9), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "l-late1",
        "not_met",
        &["no_presence"],
        false,
    );
    let view = hub.login_view("l-late1").await;
    assert_verdict(&view, "not_met", &["no_presence"], Value::Null);
    assert_eq!(view["final"], false);

    // The entry happened before the login but arrives after it.
    hub.door_ok(&entry(
        "ward3-main",
        "d-late",
        &b.at(0, -5),
        "card",
        "04A1B2C3",
    ))
    .await;
    let view = hub.login_view("l-late1").await;
    assert_verdict(
        &view,
        "combined_measures",
        &[],
        evidence("d-late", "ward3-main", &b.z(0), "card"),
    );
    assert_eq!(view["final"], false);
    // A repeated login now answers with the stored, re-judged result.
    let (status, reply) = hub.post_login(&l).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_reply(&reply, "l-late1", "combined_measures", &[], false);
}

#[tokio::test]
async fn late_alarm_and_late_exit_void_credit_within_grace() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let l = ehr_login("l-late2", &b.at(20, 0), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "l-late2",
        "combined_measures",
        &[],
        false,
    );

    // A door_forced at 10 (before the login, alarm_hold 15 min) arrives late.
    hub.door_ok(&door_event(
        "ward3-back",
        "a-late",
        &b.at(10, -5),
        "door_forced",
    ))
    .await;
    let view = hub.login_view("l-late2").await;
    assert_verdict(&view, "not_met", &["room_alarm"], Value::Null);
    assert_eq!(view["final"], false);

    // An exit at 15 arrives late too: both reasons, in contract order.
    hub.door_ok(&access(
        "ward3-back",
        "d-out",
        &b.at(15, 9),
        "out",
        "card",
        "04A1B2C3",
    ))
    .await;
    assert_verdict(
        &hub.login_view("l-late2").await,
        "not_met",
        &["room_alarm", "no_presence"],
        Value::Null,
    );

    // A late alarm far from the login's time changes nothing.
    hub.door_ok(&entry(
        "ward3-main",
        "d-in2",
        &b.at(100, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let l = ehr_login("l-late3", &b.at(130, 0), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "l-late3",
        "combined_measures",
        &[],
        false,
    );
    hub.door_ok(&door_event("ward3-back", "a-old", &b.at(110, 0), "tamper"))
        .await;
    assert_verdict(
        &hub.login_view("l-late3").await,
        "combined_measures",
        &[],
        evidence("d-in2", "ward3-main", &b.z(100), "card"),
    );
}

#[tokio::test]
async fn verdicts_become_final_after_grace_and_never_change() {
    let hub = spawn_hub(HubOptions::default().grace("2s")).await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(100, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let miss = ehr_login("l-fin1", &b.at(5, 9), "nurse01", WARD_PC, &["password"]);
    let hit = ehr_login("l-fin2", &b.at(105, -5), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&miss).await,
        "l-fin1",
        "not_met",
        &["no_presence"],
        false,
    );
    assert_reply(
        &hub.login_ok(&hit).await,
        "l-fin2",
        "combined_measures",
        &[],
        false,
    );

    for id in ["l-fin1", "l-fin2"] {
        wait_for(
            &format!("{id} to become final"),
            Duration::from_secs(10),
            || async { (hub.login_view(id).await["final"] == true).then_some(()) },
        )
        .await;
    }
    // After grace: an entry that would have covered l-fin1, an alarm that would have
    // voided l-fin2. Neither changes anything.
    hub.door_ok(&entry(
        "ward3-main",
        "d-too-late",
        &b.at(0, 0),
        "card",
        "04A1B2C3",
    ))
    .await;
    hub.door_ok(&door_event(
        "ward3-back",
        "a-too-late",
        &b.at(104, 0),
        "door_forced",
    ))
    .await;
    let v1 = hub.login_view("l-fin1").await;
    assert_verdict(&v1, "not_met", &["no_presence"], Value::Null);
    assert_eq!(v1["final"], true);
    let v2 = hub.login_view("l-fin2").await;
    assert_verdict(
        &v2,
        "combined_measures",
        &[],
        evidence("d-in", "ward3-main", &b.z(100), "card"),
    );
    assert_eq!(v2["final"], true);
    // The repeated login answers final too.
    let (status, reply) = hub.post_login(&miss).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_reply(&reply, "l-fin1", "not_met", &["no_presence"], true);

    // A login received after grace of nothing is judged on everything known, and is
    // pending for its own grace.
    let late = ehr_login("l-fin3", &b.at(6, 0), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&late).await,
        "l-fin3",
        "combined_measures",
        &[],
        false,
    );
}

/// A door status with its own `ts` arriving late re-judges pending logins of the room.
#[tokio::test]
async fn late_offline_status_voids_credit_within_grace() {
    let url = crate::broker::start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    hub.wait_mqtt_connected().await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let l = ehr_login(
        "l-late-off",
        &b.at(20, 0),
        "nurse01",
        WARD_PC,
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-late-off",
        "combined_measures",
        &[],
        false,
    );

    let mut p = crate::broker::Publisher::connect(&url).await;
    let topic = format!("monban/{}/door/ward3-back/status", hub.opts.site);
    let offline = serde_json::json!({"state": "offline", "ts": b.at(15, -5)}).to_string();
    p.publish(&topic, offline, false).await;
    let view = wait_for("the late offline status to apply", DEADLINE, || async {
        let v = hub.login_view("l-late-off").await;
        (v["verdict"] == "not_met").then_some(v)
    })
    .await;
    assert_verdict(&view, "not_met", &["door_offline"], Value::Null);
    // Back online at 18, before the login: credit again.
    let online = serde_json::json!({"state": "online", "ts": b.at(18, 9)}).to_string();
    p.publish(&topic, online, false).await;
    let view = wait_for("the late online status to apply", DEADLINE, || async {
        let v = hub.login_view("l-late-off").await;
        (v["verdict"] == "combined_measures").then_some(v)
    })
    .await;
    assert_verdict(
        &view,
        "combined_measures",
        &[],
        evidence("d-in", "ward3-main", &b.z(0), "card"),
    );
}
