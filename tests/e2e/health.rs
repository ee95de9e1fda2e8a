//! Health, metrics and the dashboard answer (CONTRACT §9), and odd but valid event ids
//! round-trip through `GET /api/v1/logins/{event_id}`.

use crate::harness::*;
use reqwest::StatusCode;

#[tokio::test]
async fn health_metrics_and_dashboard() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (status, _) = hub.get_with("/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = hub.metrics().await;
    let samples: Vec<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(!samples.is_empty(), "{metrics}");
    for l in samples {
        assert!(
            l.starts_with("monban_"),
            "metric without the monban_ prefix: {l}"
        );
    }
    let res = hub.read_get(hub.url("/")).await.expect("GET /");
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("text/html"), "content-type {ct}");
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (c as char).to_string()
            }
            _ => format!("%{c:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn odd_event_ids_round_trip() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    for id in ["ログイン-0001", "l 42", "l/43", "l?44#x", "l%45"] {
        let l = ehr_login(
            id,
            &b.at(5, 9),
            "nurse01",
            "ward3-pc01",
            &["password", "totp"],
        );
        assert_reply(&hub.login_ok(&l).await, id, "direct_2fa", &[], false);
        let (status, view) = hub
            .get_with(
                &format!("/api/v1/logins/{}", encode_segment(id)),
                Some(&hub.tokens.auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "GET {id:?}: {view}");
        assert_eq!(view["event_id"], id);
    }
}
