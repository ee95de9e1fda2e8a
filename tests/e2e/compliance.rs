//! Compliance (CONTRACT §8): per-system counts by login time, statuses `no_data`,
//! `direct`, `combined` and `gap`, coverage, `from`/`to` filtering (both ends included)
//! and the default period of the last 30 days.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One system's row of a compliance answer.
fn row(answer: &Value, id: &str) -> Value {
    let systems = answer["systems"]
        .as_array()
        .unwrap_or_else(|| panic!("no systems in {answer}"));
    let rows: Vec<&Value> = systems.iter().filter(|s| s["id"] == id).collect();
    assert_eq!(
        rows.len(),
        1,
        "system {id} must appear exactly once in {answer}"
    );
    rows[0].clone()
}

/// The expected row of one system of the test hospital.
fn expected(id: &str, status: &str, counts: [u64; 5], coverage: f64) -> Value {
    let (name, category, native_mfa) = match id {
        "ehr" => ("電子カルテ", "ehr", false),
        "vpn" => ("リモート保守VPN", "vpn", true),
        "pacs" => ("画像システム", "departmental", false),
        other => panic!("unknown system {other}"),
    };
    let [successful, direct_2fa, combined_measures, not_met, failed] = counts;
    json!({
        "id": id, "name": name, "category": category, "native_mfa": native_mfa, "status": status,
        "logins": {"successful": successful, "direct_2fa": direct_2fa, "combined_measures": combined_measures,
                   "not_met": not_met, "failed": failed},
        "coverage": coverage
    })
}

async fn report(hub: &Hub, from: &str, to: &str) -> Value {
    let (status, body) = hub.compliance(Some(from), Some(to)).await;
    assert_eq!(status, StatusCode::OK, "compliance {from}..{to}: {body}");
    assert_eq!(
        instant(body["from"].as_str().expect("from")),
        instant(from),
        "{body}"
    );
    assert_eq!(
        instant(body["to"].as_str().expect("to")),
        instant(to),
        "{body}"
    );
    assert_eq!(body["systems"].as_array().map(Vec::len), Some(3), "{body}");
    body
}

#[tokio::test]
async fn statuses_coverage_and_periods() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let pc = "ward3-pc01";
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    // ehr: two direct, one combined, one failed within the first hour.
    hub.login_ok(&ehr_login(
        "c1",
        &b.at(10, 9),
        "nurse01",
        pc,
        &["password", "totp"],
    ))
    .await;
    hub.login_ok(&ehr_login(
        "c2",
        &b.at(20, -5),
        "doc03",
        "ghost-pc",
        &["webauthn_uv"],
    ))
    .await;
    let r = hub
        .login_ok(&ehr_login("c3", &b.at(30, 0), "nurse01", pc, &["password"]))
        .await;
    assert_eq!(r["verdict"], "combined_measures");
    hub.login_ok(&login(
        "c4",
        &b.at(40, 9),
        "ehr",
        "nurse01",
        pc,
        &["password"],
        "failure",
    ))
    .await;
    // vpn: one direct, one failed.
    hub.login_ok(&login(
        "v1",
        &b.at(15, 0),
        "vpn",
        "nurse01",
        "home",
        &["password", "push"],
        "success",
    ))
    .await;
    hub.login_ok(&login(
        "v2",
        &b.at(16, 0),
        "vpn",
        "nurse01",
        "home",
        &["password"],
        "failure",
    ))
    .await;
    // ehr: a not_met two hours later.
    let r = hub
        .login_ok(&ehr_login(
            "c5",
            &b.at(120, -5),
            "pharm02",
            pc,
            &["password"],
        ))
        .await;
    assert_eq!(r["verdict"], "not_met");

    // The first hour, written with offsets on both ends.
    let c = report(&hub, &b.at(0, 9), &b.at(60, -5)).await;
    assert_eq!(
        row(&c, "ehr"),
        expected("ehr", "combined", [3, 2, 1, 0, 1], 1.0)
    );
    assert_eq!(
        row(&c, "vpn"),
        expected("vpn", "direct", [1, 1, 0, 0, 1], 1.0)
    );
    assert_eq!(
        row(&c, "pacs"),
        expected("pacs", "no_data", [0, 0, 0, 0, 0], 0.0)
    );

    // Three hours: the not_met makes a gap; coverage 3/4.
    let c = report(&hub, &b.at(0, 0), &b.at(180, 0)).await;
    assert_eq!(
        row(&c, "ehr"),
        expected("ehr", "gap", [4, 2, 1, 1, 1], 0.75)
    );

    // Only the not_met.
    let c = report(&hub, &b.at(100, 9), &b.at(180, 9)).await;
    assert_eq!(row(&c, "ehr"), expected("ehr", "gap", [1, 0, 0, 1, 0], 0.0));
    assert_eq!(
        row(&c, "vpn"),
        expected("vpn", "no_data", [0, 0, 0, 0, 0], 0.0)
    );

    // Both ends are included: [10, 30] holds c1, c2 and c3; (10, 30) only c2.
    let c = report(&hub, &b.at(10, -5), &b.at(30, 9)).await;
    assert_eq!(
        row(&c, "ehr"),
        expected("ehr", "combined", [3, 2, 1, 0, 0], 1.0)
    );
    let c = report(&hub, &b.at_secs(601, 0), &b.at_secs(1799, 0)).await;
    assert_eq!(
        row(&c, "ehr"),
        expected("ehr", "direct", [1, 1, 0, 0, 0], 1.0)
    );

    // A period holding only a failed login: failed counts, nothing is successful.
    let c = report(&hub, &b.at(40, 0), &b.at(40, 9)).await;
    assert_eq!(
        row(&c, "ehr"),
        expected("ehr", "no_data", [0, 0, 0, 0, 1], 0.0)
    );
}

#[tokio::test]
async fn default_period_is_the_last_30_days() {
    let hub = spawn_hub(HubOptions::default()).await;
    let recent = Base::new();
    let old = Base::days_ago(40);
    hub.login_ok(&ehr_login(
        "r1",
        &recent.at(0, 9),
        "nurse01",
        "ward3-pc01",
        &["password", "totp"],
    ))
    .await;
    hub.login_ok(&ehr_login(
        "o1",
        &old.at(0, -5),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;

    let (status, c) = hub.compliance(None, None).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(
        row(&c, "ehr"),
        expected("ehr", "direct", [1, 1, 0, 0, 0], 1.0)
    );
    let from = instant(c["from"].as_str().expect("from"));
    let to = instant(c["to"].as_str().expect("to"));
    let days = (to - from).num_seconds() as f64 / 86_400.0;
    assert!(
        (days - 30.0).abs() < 0.01,
        "default period is {days} days: {c}"
    );
    assert!(
        (chrono::Utc::now() - to).num_seconds().abs() < 60,
        "the default period ends now: {c}"
    );

    // Asked for explicitly, the old login is there.
    let c = report(&hub, &old.at(0, 0), &recent.at(0, 0)).await;
    assert_eq!(row(&c, "ehr"), expected("ehr", "gap", [2, 1, 0, 1, 0], 0.5));
}

#[tokio::test]
async fn a_bad_period_is_400() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let reply = hub.compliance(Some("yesterday"), None).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "from=yesterday");
    let reply = hub.compliance(Some(&b.at(60, 9)), Some(&b.at(0, 9))).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "from after to");
    // Compliance needs a read token.
    let (status, _) = hub
        .get_with("/api/v1/compliance", Some(&hub.tokens.ehr))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
