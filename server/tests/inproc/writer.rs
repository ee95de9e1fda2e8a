//! The writer: group commit, idempotency inside a batch, rollups kept with every
//! verdict change, finality on the test's clock, and a restart.

#![allow(clippy::unwrap_used)]

use crate::support::{at, TestHub};
use monban_core::Timestamp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn base() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-20T09:00:00+09:00").unwrap()
}

fn login(id: &str, ts: &str, account: &str, terminal: &str, factors: &[&str]) -> Value {
    json!({"event_id": id, "ts": ts, "system": "ehr", "account": account,
           "terminal": terminal, "factors": factors, "outcome": "success"})
}

/// The compliance numbers of `ehr` over the whole test day.
async fn ehr_counts(hub: &TestHub) -> Value {
    let (s, body) = hub
        .get("/api/v1/compliance?from=2026-11-19T00:00:00Z&to=2026-11-22T00:00:00Z")
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "ehr")
        .unwrap()["logins"]
        .clone()
}

#[tokio::test]
async fn concurrent_logins_are_each_stored_once_and_counted() {
    let hub = TestHub::start(base(), "60s").await;
    let t = at(base(), 0);
    // 120 distinct logins and 40 repeats of ten of them, all at once.
    let mut tasks = Vec::new();
    for i in 0..160 {
        let body = login(
            &format!("l-{}", i % 120),
            &t,
            "nurse01",
            "lobby-kiosk",
            &["password"],
        );
        let url = hub.url.clone();
        let token = hub.login_token.clone();
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(format!("{url}/api/v1/logins"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            res.status()
        }));
    }
    let mut accepted = 0;
    let mut repeated = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::OK => repeated += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((accepted, repeated), (120, 40));
    let counts = ehr_counts(&hub).await;
    assert_eq!(counts["successful"], 120);
    assert_eq!(counts["not_met"], 120);
    hub.stop().await;
}

#[tokio::test]
async fn a_late_entry_moves_the_rollups_and_the_reasons() {
    let hub = TestHub::start(base(), "60s").await;
    let (s, v) = hub
        .post_login(&login(
            "l-late",
            &at(base(), 600),
            "nurse01",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(v["verdict"], "not_met");
    assert_eq!(v["reasons"], json!(["no_presence"]));
    assert_eq!(ehr_counts(&hub).await["not_met"], 1);
    // The entry that covers it arrives late, inside grace.
    let (s, _) = hub
        .post_door(
            &json!({"door": "ward3-main", "event_id": "d-1", "ts": at(base(), 0),
                           "kind": "access_granted", "direction": "in",
                           "credential": {"type": "card", "id": "04A1B2C3"}}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let counts = ehr_counts(&hub).await;
    assert_eq!(counts["not_met"], 0, "{counts}");
    assert_eq!(counts["combined_measures"], 1, "{counts}");
    // The system page's reasons follow (no `no_presence` left).
    let reasons = hub
        .store()
        .span_reason_counts(
            Timestamp::from_millis(0),
            Timestamp::from_millis(i64::MAX / 2),
            Some("ehr"),
        )
        .await
        .unwrap();
    assert!(reasons.is_empty(), "{reasons:?}");
    hub.stop().await;
}

#[tokio::test]
async fn verdicts_become_final_on_the_clock_and_survive_a_restart() {
    let hub = TestHub::start(base(), "60s").await;
    let (_, v) = hub
        .post_login(&login(
            "l-1",
            &at(base(), 0),
            "nurse01",
            "lobby-kiosk",
            &["password"],
        ))
        .await;
    assert_eq!(v["final"], false);
    hub.clock.advance(Duration::from_secs(61));
    // The writer wakes at least once a second.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, l) = hub.get("/api/v1/logins/l-1").await;
        if l["final"] == true {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not final: {l}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = ehr_counts(&hub).await;
    let (dir, clock) = hub.stop().await;
    let db = format!("sqlite://{}/monban.db", dir.path().display());
    let hub = TestHub::start_in(dir, &db, clock, "60s").await;
    assert_eq!(ehr_counts(&hub).await, before);
    let (_, l) = hub.get("/api/v1/logins/l-1").await;
    assert_eq!(l["final"], true);
    assert_eq!(l["verdict"], "not_met");
    hub.stop().await;
}

#[tokio::test]
async fn another_systems_event_id_is_refused_inside_one_batch_too() {
    let hub = TestHub::start(base(), "60s").await;
    let pacs = hub.token_for("pacs").await;
    let ehr = login(
        "shared-1",
        &at(base(), 0),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    let mut other = ehr.clone();
    other["system"] = json!("pacs");
    other["account"] = json!("doc03");
    let (a, b) = tokio::join!(hub.post_login(&ehr), hub.post_login_with(&pacs, &other));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::ACCEPTED, StatusCode::CONFLICT]);
    hub.stop().await;
}
