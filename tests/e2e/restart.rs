//! Crashes and clean stops (CONTRACT §3, §9): a hub killed with SIGKILL while a login is
//! pending restarts on the same database with the login still pending and still open
//! to late events; SIGTERM stops it with exit code 0 within seconds, without losing an
//! acknowledged event.

use crate::broker::start_rumqttd;
use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const WARD_PC: &str = "ward3-pc01";

#[tokio::test]
async fn kill_9_while_pending_then_a_late_event_still_counts() {
    let mut hub = spawn_hub(HubOptions::default().grace("10m")).await;
    let b = Base::new();
    let l = ehr_login("l-crash", &b.at(5, 9), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "l-crash",
        "not_met",
        &["no_presence"],
        false,
    );

    hub.kill9();
    hub.start().await;

    let view = hub.login_view("l-crash").await;
    assert_verdict(&view, "not_met", &["no_presence"], Value::Null);
    assert_eq!(
        view["final"], false,
        "the login is still within grace: {view}"
    );
    hub.door_ok(&entry(
        "ward3-main",
        "d-after-crash",
        &b.at(0, -5),
        "card",
        "04A1B2C3",
    ))
    .await;
    let view = hub.login_view("l-crash").await;
    assert_verdict(
        &view,
        "combined_measures",
        &[],
        evidence("d-after-crash", "ward3-main", &b.z(0), "card"),
    );
    assert_eq!(view["final"], false);
}

#[tokio::test]
async fn sigterm_exits_0_and_keeps_what_was_acknowledged() {
    let mut hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let e = entry("ward3-main", "d-kept", &b.at(0, 9), "card", "04A1B2C3");
    hub.door_ok(&e).await;
    let l = ehr_login("l-kept", &b.at(5, -5), "nurse01", WARD_PC, &["password"]);
    hub.login_ok(&l).await;

    let (status, _) = hub.terminate(DEADLINE);
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGTERM: {status}; log:\n{}",
        hub.log()
    );

    hub.start().await;
    let view = hub.login_view("l-kept").await;
    assert_verdict(
        &view,
        "combined_measures",
        &[],
        evidence("d-kept", "ward3-main", &b.z(0), "card"),
    );
    let (status, _) = hub.post_door_event(&e).await;
    assert_eq!(status, StatusCode::OK, "the door event was kept");
    let (status, reply) = hub.post_login(&l).await;
    assert_eq!(status, StatusCode::OK, "the login was kept");
    assert_eq!(reply["verdict"], "combined_measures");
}

#[tokio::test]
async fn sigterm_with_mqtt_connected_exits_0() {
    let url = start_rumqttd();
    let mut hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    hub.wait_mqtt_connected().await;
    let (status, _) = hub.terminate(DEADLINE);
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGTERM: {status}; log:\n{}",
        hub.log()
    );
}

/// A restart must not change a pending verdict when no event arrived: here the events
/// are three weeks old (a login reported late, e.g. from a system that was offline).
#[tokio::test]
async fn restart_does_not_change_a_pending_verdict_on_old_events() {
    let mut hub = spawn_hub(HubOptions::default().grace("10m")).await;
    let b = Base::days_ago(21);
    hub.door_ok(&entry(
        "ward3-main",
        "d-old",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let l = ehr_login("l-old", &b.at(5, -5), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "l-old",
        "combined_measures",
        &[],
        false,
    );

    hub.kill9();
    hub.start().await;

    let view = hub.login_view("l-old").await;
    assert_verdict(
        &view,
        "combined_measures",
        &[],
        evidence("d-old", "ward3-main", &b.z(0), "card"),
    );
    assert_eq!(view["final"], false);
}

#[tokio::test]
async fn sigint_exits_0() {
    let mut hub = spawn_hub(HubOptions::default()).await;
    hub.signal("INT");
    let status = hub.wait_exit(Duration::from_secs(5));
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGINT: {status}; log:\n{}",
        hub.log()
    );
}

/// SIGTERM in the middle of a burst of door events: every event the hub acknowledged
/// (202) is in the store after a restart (a repeat answers 200).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_loses_no_acknowledged_event() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let mut hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url = hub.url("/api/v1/door-events");
    let token = hub.tokens.doors.clone();
    let acked = Arc::new(AtomicUsize::new(0));
    let event = move |i: usize| {
        entry(
            "ward3-main",
            &format!("burst-{i}"),
            &b.at_secs(i as i64, 9),
            "card",
            "04A1B2C3",
        )
    };

    // Eight workers post events 0, 8, 16, … / 1, 9, 17, … until the hub goes away.
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let (client, url, token, acked) =
            (client.clone(), url.clone(), token.clone(), acked.clone());
        workers.spawn(async move {
            let mut acknowledged = Vec::new();
            for i in (w..2000).step_by(8) {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&event(i))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == StatusCode::ACCEPTED => {
                        acknowledged.push(i);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) if r.status().is_success() => {
                        panic!("event {i} answered {} on first post", r.status())
                    }
                    // Refused or cut off by the shutdown: not acknowledged, not promised.
                    Ok(_) | Err(_) => break,
                }
            }
            acknowledged
        });
    }
    wait_for("100 acknowledged events", DEADLINE, || {
        let n = acked.load(Ordering::SeqCst);
        async move { (n >= 100).then_some(()) }
    })
    .await;
    hub.signal("TERM");
    let status = tokio::task::block_in_place(|| hub.wait_exit(Duration::from_secs(10)));
    assert_eq!(status.code(), Some(0), "exit after SIGTERM: {status}");
    let mut acknowledged = Vec::new();
    while let Some(r) = workers.join_next().await {
        acknowledged.extend(r.expect("worker"));
    }
    assert!(acknowledged.len() >= 100);

    hub.start().await;
    for i in acknowledged {
        let (status, body) = hub.post_door_event(&event(i)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "acknowledged event burst-{i} was lost: {body}"
        );
    }
}

/// An open live feed (a dashboard left open) does not hold the shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_an_open_live_feed_exits_0() {
    let mut hub = spawn_hub(HubOptions::default()).await;
    let mut live = reqwest::Client::new()
        .get(hub.url("/api/v1/live"))
        .bearer_auth(&hub.tokens.auditor)
        .send()
        .await
        .expect("GET /api/v1/live");
    assert_eq!(live.status(), StatusCode::OK);
    let reader = tokio::spawn(async move { while let Ok(Some(_)) = live.chunk().await {} });
    let (status, _) = tokio::task::block_in_place(|| hub.terminate(DEADLINE));
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIGTERM: {status}; log:\n{}",
        hub.log()
    );
    reader.abort();
}
