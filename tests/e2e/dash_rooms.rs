//! The dashboard's rooms page (`/rooms`): the server-rendered HTML shows the presence,
//! integrity alarms and door states that were fed and that `/api/v1/doors` reports, in
//! Japanese and with `?lang=en`.

use crate::harness::*;
use chrono::Utc;
use serde_json::Value;

/// A third ward door whose controller must be heard every 5 s (room for a loaded machine).
const WATCHED_DOOR: &str = r#"
[[doors]]
id = "ward3-side"
room = "ward3"
name = "3F 通用口"
heartbeat_timeout = "5s"
"#;

async fn page(hub: &Hub, path: &str) -> String {
    let res = hub.read_get(hub.url(path)).await.expect("GET page");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.text().await.expect("html")
}

#[tokio::test]
async fn rooms_page_shows_presence_alarms_and_door_states() {
    let hub = spawn_hub(HubOptions::default().extra(WATCHED_DOOR)).await;
    let b = Base::from_instant(Utc::now());
    // The nurse entered the ward a minute ago and the pharmacist the pharmacy; the
    // pharmacist left again. The pharmacy door was tampered with 30 s ago.
    hub.door_ok(&entry(
        "ward3-main",
        "r-1",
        &b.at_secs(-60, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    hub.door_ok(&entry(
        "pharmacy-door",
        "r-2",
        &b.at_secs(-50, 9),
        "pin",
        "7788",
    ))
    .await;
    hub.door_ok(&access(
        "pharmacy-door",
        "r-3",
        &b.at_secs(-40, 0),
        "out",
        "pin",
        "7788",
    ))
    .await;
    hub.door_ok(&door_event(
        "pharmacy-door",
        "r-4",
        &b.at_secs(-30, 9),
        "tamper",
    ))
    .await;
    hub.door_ok(&door_event(
        "ward3-side",
        "r-5",
        &b.at_secs(0, 9),
        "door_closed",
    ))
    .await;
    // The side door then stays silent and times out.
    wait_for("the side door to time out", DEADLINE, || async {
        let d = hub.door_health("ward3-side").await;
        (d["state"] == "offline" && d["offline_reason"].is_string()).then_some(())
    })
    .await;

    let html = page(&hub, "/rooms").await;
    assert!(html.contains("data-testid=\"rooms\""), "not the rooms page");
    assert!(html.contains("在室者"), "presence heading missing");
    // Presence: the nurse in the ward, nobody in the pharmacy or the lobby.
    assert!(
        html.contains(
            "data-testid=\"presence\" data-person-id=\"p0001\" data-door=\"ward3-main\" data-credential=\"card\""
        ),
        "nurse's presence missing"
    );
    assert!(
        !html.contains("data-person-id=\"p0002\""),
        "pharmacist left"
    );
    assert!(html.contains(
        "data-room-id=\"ward3\" data-controlled=\"true\" data-present=\"1\" data-alarms=\"0\""
    ));
    assert!(html.contains(
        "data-room-id=\"pharmacy\" data-controlled=\"true\" data-present=\"0\" data-alarms=\"1\""
    ));
    assert!(html.contains(
        "data-room-id=\"lobby\" data-controlled=\"false\" data-present=\"0\" data-alarms=\"0\""
    ));
    assert!(
        html.contains("data-testid=\"alarm\" data-kind=\"tamper\" data-door=\"pharmacy-door\""),
        "tamper alarm missing"
    );
    // Door states as the API reports them.
    let api: Value = hub.doors().await;
    let doors = api["doors"].as_array().cloned().unwrap_or_default();
    assert_eq!(doors.len(), 4, "{api}");
    for d in doors {
        let id = d["door"].as_str().unwrap_or_default();
        let state = d["state"].as_str().unwrap_or_default();
        let reason = d["offline_reason"].as_str().unwrap_or_default();
        let needle = format!(
            "data-testid=\"room-door\" data-door-id=\"{id}\" data-state=\"{state}\" data-reason=\"{reason}\""
        );
        assert!(html.contains(&needle), "rooms page lacks {needle}");
    }
    assert!(html.contains(
        "data-door-id=\"ward3-side\" data-state=\"offline\" data-reason=\"heartbeat_timeout\""
    ));
    assert!(
        html.contains("ハートビート途絶"),
        "offline reason label missing"
    );

    let en = page(&hub, "/rooms?lang=en").await;
    assert!(en.contains("Present now"), "English heading missing");
    assert!(en.contains("data-person-id=\"p0001\""));
    assert!(en.contains("data-kind=\"tamper\""));
    assert!(en.contains("data-reason=\"heartbeat_timeout\""));
    assert!(en.contains("heartbeat timeout"));
}
