//! The scenarios, each against a broker URL.

use crate::support::*;
use monban_connectors::mqtt::{self, MqttError, MAX_PAYLOAD};
use monban_connectors::ConnectorState;
use monban_core::{DoorStatus, Timestamp};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Valid events are stored once, a repeated event is a duplicate, status words (also a
/// retained one) and JSON statuses arrive, every kind of bad payload becomes a dead
/// letter with its reason, and the connector keeps going after them.
pub async fn delivers_dedupes_and_dead_letters(url: &str) {
    let site = unique("site");
    let client_id = unique("hub");
    let topic = |door: &str, kind: &str| format!("monban/{site}/door/{door}/{kind}");
    let mut publisher = Publisher::connect(url).await;
    // Retained before the hub subscribes, as a controller's last will would leave it.
    publisher
        .publish(&topic("door-r", "status"), "offline", true)
        .await;

    let sink = MemorySink::new();
    let hub = start(settings(url, &client_id, &site), sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;

    let ev = topic("door-a", "event");
    publisher.publish(&ev, event("e-1"), false).await;
    publisher.publish(&ev, event("e-1"), false).await;
    publisher
        .publish(&topic("door-a", "status"), "online", false)
        .await;
    publisher
        .publish(
            &topic("door-a", "status"),
            r#"{"state":"offline","ts":"2026-11-21T09:30:00+09:00"}"#,
            false,
        )
        .await;
    publisher.publish(&ev, "garbage", false).await;
    publisher
        .publish(
            &ev,
            r#"{"event_id":"x1","ts":"2026-11-21T09:00:00+09:00","kind":"exploded"}"#,
            false,
        )
        .await;
    let huge = format!(
        r#"{{"event_id":"x2","pad":"{}"}}"#,
        "a".repeat(MAX_PAYLOAD + 1000)
    );
    publisher.publish(&ev, huge.clone(), false).await;
    publisher
        .publish(
            &ev,
            r#"{"event_id":"x3","ts":"2026-11-21T09:00:00+09:00","kind":"access_granted","credential":{"type":"badge","id":"1"}}"#,
            false,
        )
        .await;
    publisher
        .publish(
            &ev,
            r#"{"event_id":"x4","ts":"yesterday","kind":"tamper"}"#,
            false,
        )
        .await;
    publisher
        .publish(&topic("扉", "event"), event("x5"), false)
        .await;
    // After all the bad ones: the connector must still be delivering.
    publisher.publish(&ev, event("e-2"), false).await;

    sink.wait_for("e-2, 6 dead letters and 3 statuses", |r| {
        r.stored_count("door-a", "e-2") == 1
            && r.dead_letters.len() == 6
            && r.statuses.len() == 3
            && r.delivered("door-a", "e-1") == 2
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    assert_eq!(
        r.stored_count("door-a", "e-1"),
        1,
        "a repeated event_id is stored once"
    );
    assert_eq!(r.stored.len(), 2);
    assert_eq!(
        r.dead_letter_codes(),
        [
            "invalid_door",
            "invalid_timestamp",
            "malformed_request",
            "payload_too_large",
            "unknown_credential_type",
            "unknown_event_kind"
        ]
    );
    for dl in &r.dead_letters {
        assert_eq!(dl.source, "mqtt");
        assert!(
            dl.origin.starts_with(&format!("monban/{site}/door/")),
            "{}",
            dl.origin
        );
    }
    let garbage = r
        .dead_letters
        .iter()
        .find(|d| d.payload == b"garbage")
        .expect("the garbage payload is kept");
    assert_eq!(garbage.origin, ev);
    let big = r
        .dead_letters
        .iter()
        .find(|d| d.reason.starts_with("payload_too_large"))
        .unwrap();
    assert_eq!(
        big.payload.len(),
        MAX_PAYLOAD,
        "an oversize payload is kept cut to the limit"
    );
    assert_eq!(&big.payload[..], &huge.as_bytes()[..MAX_PAYLOAD]);

    let retained = r
        .statuses
        .iter()
        .find(|s| s.door.as_str() == "door-r")
        .expect("retained status delivered");
    assert_eq!(retained.status, DoorStatus::Offline);
    let a: Vec<_> = r
        .statuses
        .iter()
        .filter(|s| s.door.as_str() == "door-a")
        .collect();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].status, DoorStatus::Online);
    assert_eq!(
        (a[1].status, a[1].ts),
        (
            DoorStatus::Offline,
            Timestamp::parse_rfc3339("2026-11-21T00:30:00Z").unwrap()
        )
    );

    assert!(
        r.blind.is_empty(),
        "the first connection has no known gap: {:?}",
        r.blind
    );
    assert_eq!(r.states.first(), Some(&ConnectorState::Connecting));
    assert_eq!(r.states.get(1), Some(&ConnectorState::Connected));
    assert!(
        matches!(r.states.last(), Some(ConnectorState::Disconnected { error, .. }) if error == "stopped")
    );

    // Clean up what outlives the test on a persistent broker: the retained message, then
    // our session (which queued the clearing message).
    publisher
        .publish(&topic("door-r", "status"), "", true)
        .await;
    take_over_with_clean_session(url, &client_id).await;
}

/// The store fails once: the message is not acknowledged, the connector reconnects, the
/// broker resends it and it is stored exactly once. The session survived, so no blind
/// period; the connector keeps delivering afterwards.
pub async fn redelivers_after_a_store_failure(url: &str) {
    let site = unique("site");
    let client_id = unique("hub");
    let ev = format!("monban/{site}/door/door-a/event");
    let mut publisher = Publisher::connect(url).await;
    let sink = MemorySink::new();
    sink.fail_next_events(1);
    let hub = start(settings(url, &client_id, &site), sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;

    publisher.publish(&ev, event("e-1"), false).await;
    sink.wait_for("e-1 stored after the failure", |r| {
        r.stored_count("door-a", "e-1") == 1
    })
    .await;
    sink.wait_for("Connected again", |r| r.is_connected()).await;
    publisher.publish(&ev, event("e-2"), false).await;
    sink.wait_for("e-2 stored", |r| r.stored_count("door-a", "e-2") == 1)
        .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    assert_eq!(r.failures, 1);
    assert_eq!(r.stored_count("door-a", "e-1"), 1);
    assert!(r.delivered("door-a", "e-1") >= 1);
    assert!(
        r.states.iter().any(|s| matches!(s, ConnectorState::Disconnected { error, .. } if error.starts_with("store: "))),
        "the store failure is reported: {:?}",
        r.states
    );
    assert!(
        r.blind.is_empty(),
        "the session survived, nothing was lost: {:?}",
        r.blind
    );
    assert!(r.dead_letters.is_empty());

    take_over_with_clean_session(url, &client_id).await;
}

/// A burst with store failures in the middle: whatever rumqttc had already read past the
/// failed message belongs to the dropped connection and is not acknowledged; the broker
/// resends it. Every event ends up stored exactly once, none is lost.
pub async fn a_burst_with_store_failures_loses_nothing(url: &str) {
    const N: usize = 60;
    let site = unique("site");
    let client_id = unique("hub");
    let sink = MemorySink::new();
    sink.fail_on_calls(&[7, 25, 26, 40]);
    let hub = start(settings(url, &client_id, &site), sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;

    let mut publisher = Publisher::connect(url).await;
    let doors = ["door-a", "door-b", "door-c"];
    publisher
        .publish_burst(
            (0..N)
                .map(|i| {
                    (
                        format!("monban/{site}/door/{}/event", doors[i % 3]),
                        event(&format!("e-{i}")),
                    )
                })
                .collect(),
        )
        .await;
    let all_stored = |r: &Recorded| {
        (0..N).all(|i| r.stored_count(doors[i % 3], &format!("e-{i}")) == 1) && r.stored.len() == N
    };
    sink.wait_for("all events of the burst", all_stored).await;
    hub.stop().await;

    let r = sink.recorded().clone();
    assert_eq!(r.failures, 4);
    assert!(r.blind.is_empty(), "{:?}", r.blind);
    assert!(r.dead_letters.is_empty());

    take_over_with_clean_session(url, &client_id).await;
}

/// Messages published while the hub is stopped are delivered when it comes back with
/// the same client id (persistent session, QoS 1).
pub async fn persistent_session_keeps_what_was_published_while_down(url: &str) {
    const K: usize = 25;
    let site = unique("site");
    let client_id = unique("hub");
    let ev = format!("monban/{site}/door/door-a/event");

    let first = MemorySink::new();
    let hub = start(settings(url, &client_id, &site), first.clone());
    first.wait_for("Connected", |r| r.is_connected()).await;
    hub.stop().await;

    let mut publisher = Publisher::connect(url).await;
    for i in 0..K {
        publisher
            .publish(&ev, event(&format!("e-{i}")), false)
            .await;
    }

    let second = MemorySink::new();
    let hub = start(settings(url, &client_id, &site), second.clone());
    second
        .wait_for("all K events", |r| {
            (0..K).all(|i| r.stored_count("door-a", &format!("e-{i}")) == 1)
        })
        .await;
    hub.stop().await;
    let r = second.recorded().clone();
    assert_eq!(r.stored.len(), K);
    assert!(r.blind.is_empty() && first.recorded().blind.is_empty());

    take_over_with_clean_session(url, &client_id).await;
}

/// Another client takes our client id with a clean session: the broker drops us and
/// forgets our session. On reconnect the CONNACK says `session_present = false`; the
/// connector reports the blind period from the drop until it is subscribed again, and
/// goes on delivering.
pub async fn lost_session_is_reported_as_a_blind_period(url: &str) {
    let site = unique("site");
    let client_id = unique("hub");
    let ev = format!("monban/{site}/door/door-a/event");
    let sink = MemorySink::new();
    let mut s = settings(url, &client_id, &site);
    // rumqttd does not close the socket of a taken-over connection; a short keep-alive
    // makes the connector notice within about two seconds.
    s.keep_alive = Duration::from_secs(1);
    let hub = start(s, sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;
    let before = now();

    take_over_with_clean_session(url, &client_id).await;
    sink.wait_for("a blind period and Connected again", |r| {
        r.blind.len() == 1 && r.is_connected()
    })
    .await;

    let mut publisher = Publisher::connect(url).await;
    publisher.publish(&ev, event("after"), false).await;
    sink.wait_for("an event after the new session", |r| {
        r.stored_count("door-a", "after") == 1
    })
    .await;
    hub.stop().await;

    let r = sink.recorded().clone();
    let (name, from, to) = r.blind[0].clone();
    assert_eq!(name, "mqtt");
    assert!(
        before <= from && from <= to && to <= now(),
        "{before} <= {from} <= {to}"
    );
    assert!(r
        .states
        .iter()
        .any(|s| matches!(s, ConnectorState::Disconnected { since, .. } if *since == from)));

    take_over_with_clean_session(url, &client_id).await;
}

/// A process's first connection finds no session (a new client id, or a broker that
/// lost it while the hub was down): the connector cannot know the gap and says so with
/// `fresh_session` once messages flow. A restart of the connector that finds its session
/// kept says nothing; one that finds it gone says it again.
pub async fn a_first_connection_without_a_session_is_reported_fresh(url: &str) {
    let site = unique("site");
    let client_id = unique("hub");
    let sink = MemorySink::new();
    let hub = start(settings(url, &client_id, &site), sink.clone());
    sink.wait_for("Connected", |r| r.is_connected()).await;
    hub.stop().await;
    {
        let r = sink.recorded();
        assert_eq!(r.fresh.len(), 1, "{:?}", r.fresh);
        assert_eq!(r.fresh[0].0, "mqtt");
        assert!(r.blind.is_empty());
    }

    // Same client id, session kept by the broker: nothing to report.
    let again = MemorySink::new();
    let hub = start(settings(url, &client_id, &site), again.clone());
    again.wait_for("Connected", |r| r.is_connected()).await;
    hub.stop().await;
    assert!(again.recorded().fresh.is_empty(), "session was kept");

    // The session is gone (taken over with a clean session) before the next start.
    take_over_with_clean_session(url, &client_id).await;
    let third = MemorySink::new();
    let hub = start(settings(url, &client_id, &site), third.clone());
    third.wait_for("Connected", |r| r.is_connected()).await;
    hub.stop().await;
    assert_eq!(third.recorded().fresh.len(), 1);
    take_over_with_clean_session(url, &client_id).await;
}

/// Nothing listens: the connector reports Connecting, then a transport error, keeps
/// retrying, and returns Ok promptly when cancelled.
pub async fn unreachable_broker_is_retried_and_cancel_stops_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let sink = MemorySink::new();
    let hub = start(
        settings(&format!("mqtt://127.0.0.1:{port}"), &unique("hub"), "site"),
        sink.clone(),
    );
    sink.wait_for("a transport error", |r| {
        r.states.iter().any(|s| matches!(s, ConnectorState::Disconnected { error, .. } if error.starts_with("transport: ")))
    })
    .await;
    let started = std::time::Instant::now();
    hub.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "cancel interrupts the backoff"
    );
    let r = sink.recorded().clone();
    assert_eq!(r.states.first(), Some(&ConnectorState::Connecting));
    assert!(r.blind.is_empty(), "never connected: no known gap");
}

/// Setup errors come back as `Err` at once, before anything is reported.
pub async fn setup_errors_are_returned_before_connecting() {
    for url in [
        "mqtts://127.0.0.1:8883",
        "127.0.0.1:1883",
        "mqtt://h:1/path",
    ] {
        let sink = MemorySink::new();
        let result = mqtt::run(
            settings(url, "hub", "site"),
            sink.clone(),
            CancellationToken::new(),
        )
        .await;
        assert!(
            matches!(result, Err(MqttError::InvalidUrl { .. })),
            "{url}: {result:?}"
        );
        assert!(sink.recorded().states.is_empty());
    }
    let mut s = settings("mqtt://127.0.0.1:1883", "", "site");
    s.client_id.clear();
    let result = mqtt::run(s, MemorySink::new(), CancellationToken::new()).await;
    assert!(
        matches!(result, Err(MqttError::InvalidSettings(_))),
        "{result:?}"
    );
}
