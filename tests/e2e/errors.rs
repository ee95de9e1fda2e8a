//! The error contract (CONTRACT §2, §7, §9): status codes, the error body
//! `{"error": {"code": "snake_case_code", "message": "…"}}`, and "nothing half-written
//! is ever stored" — after a refusal, the same `event_id` is still free.

use crate::harness::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

#[tokio::test]
async fn missing_or_wrong_token_is_401() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let l = bytes(&ehr_login(
        "l-401",
        &b.at(0, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ));
    let e = bytes(&entry(
        "ward3-main",
        "d-401",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ));
    let wrong = "mbn_00000000_not-a-real-token";
    for token in [None, Some(wrong), Some("")] {
        let ctx = format!("token {token:?}");
        assert_error(
            &hub.post_raw("/api/v1/logins", token, l.clone()).await,
            StatusCode::UNAUTHORIZED,
            &ctx,
        );
        assert_error(
            &hub.post_raw("/api/v1/door-events", token, e.clone()).await,
            StatusCode::UNAUTHORIZED,
            &ctx,
        );
        for path in [
            "/api/v1/logins/l-401",
            "/api/v1/compliance",
            "/api/v1/dead-letters",
        ] {
            assert_error(
                &hub.get_with(path, token).await,
                StatusCode::UNAUTHORIZED,
                &format!("{ctx} GET {path}"),
            );
        }
    }
    // A token that is not a bearer token.
    let res = reqwest::Client::new()
        .get(hub.url("/api/v1/compliance"))
        .header("authorization", format!("Basic {}", hub.tokens.auditor))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_error_body(&res.json().await.expect("json body"), "Basic auth");
    // Nothing was stored by the refused requests.
    assert_error(
        &hub.get_login("l-401").await,
        StatusCode::NOT_FOUND,
        "refused login",
    );
    hub.door_ok(&entry(
        "ward3-main",
        "d-401",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
}

#[tokio::test]
async fn token_of_another_scope_is_403() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let vpn_login = login(
        "l-403",
        &b.at(0, 9),
        "vpn",
        "nurse01",
        "home",
        &["password", "push"],
        "success",
    );
    // An ehr login token for a vpn login.
    assert_error(
        &hub.post_login_with(&hub.tokens.ehr, &vpn_login).await,
        StatusCode::FORBIDDEN,
        "ehr token, vpn login",
    );
    // A door token and a read token on /logins.
    assert_error(
        &hub.post_login_with(&hub.tokens.doors, &vpn_login).await,
        StatusCode::FORBIDDEN,
        "door token on /logins",
    );
    assert_error(
        &hub.post_login_with(&hub.tokens.auditor, &vpn_login).await,
        StatusCode::FORBIDDEN,
        "read token on /logins",
    );
    // A login token on /door-events.
    let e = bytes(&entry(
        "ward3-main",
        "d-403",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ));
    assert_error(
        &hub.post_raw("/api/v1/door-events", Some(&hub.tokens.ehr), e)
            .await,
        StatusCode::FORBIDDEN,
        "login token on /door-events",
    );
    // Nothing half-written: the login and the event are still new.
    assert_error(
        &hub.get_login("l-403").await,
        StatusCode::NOT_FOUND,
        "refused login",
    );
    assert_reply(
        &hub.login_ok(&vpn_login).await,
        "l-403",
        "direct_2fa",
        &[],
        false,
    );
    hub.door_ok(&entry(
        "ward3-main",
        "d-403",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
}

#[tokio::test]
async fn malformed_bodies_are_400_and_unknown_values_422() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let good = ehr_login("l-bad", &b.at(5, 9), "nurse01", "ward3-pc01", &["password"]);
    let with = |key: &str, value: Value| {
        let mut v = good.clone();
        v[key] = value;
        bytes(&v)
    };
    let without = |key: &str| {
        let mut v = good.clone();
        v.as_object_mut().expect("object").remove(key);
        bytes(&v)
    };

    // Logins: 400 for what is not the right shape.
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{\"event_id\": ".to_vec()),
        ("plain text", b"hello".to_vec()),
        ("an array", b"[]".to_vec()),
        ("empty body", Vec::new()),
        ("missing factors", without("factors")),
        ("missing event_id", without("event_id")),
        ("missing ts", without("ts")),
        ("missing outcome", without("outcome")),
        ("factors not a list", with("factors", json!("password"))),
    ];
    for (what, body) in malformed {
        let reply = hub
            .post_raw("/api/v1/logins", Some(&hub.tokens.ehr), body)
            .await;
        assert_error(&reply, StatusCode::BAD_REQUEST, &format!("login, {what}"));
    }
    // 422 for a valid shape with an unknown value.
    let unknown: Vec<(&str, Vec<u8>)> = vec![
        (
            "unknown factor",
            with("factors", json!(["password", "retina"])),
        ),
        ("unknown outcome", with("outcome", json!("maybe"))),
    ];
    for (what, body) in unknown {
        let reply = hub
            .post_raw("/api/v1/logins", Some(&hub.tokens.ehr), body)
            .await;
        let code = assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("login, {what}"),
        );
        if what == "unknown factor" {
            let message = reply.1["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("retina"),
                "the message should name the unknown factor: {message} ({code})"
            );
        }
    }
    // Nothing half-written: the event_id is still free and the good login is new.
    assert_error(
        &hub.get_login("l-bad").await,
        StatusCode::NOT_FOUND,
        "refused login",
    );
    assert_reply(
        &hub.login_ok(&good).await,
        "l-bad",
        "not_met",
        &["no_presence"],
        false,
    );

    // Door events.
    let ev = entry("ward3-main", "d-bad", &b.at(0, 9), "card", "04A1B2C3");
    let ev_with = |key: &str, value: Value| {
        let mut v = ev.clone();
        v[key] = value;
        bytes(&v)
    };
    let ev_without = |key: &str| {
        let mut v = ev.clone();
        v.as_object_mut().expect("object").remove(key);
        bytes(&v)
    };
    let malformed: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{{".to_vec()),
        ("missing door", ev_without("door")),
        ("missing kind", ev_without("kind")),
        ("missing event_id", ev_without("event_id")),
        (
            "credential not an object",
            ev_with("credential", json!("card:04A1B2C3")),
        ),
    ];
    for (what, body) in malformed {
        let reply = hub
            .post_raw("/api/v1/door-events", Some(&hub.tokens.doors), body)
            .await;
        assert_error(
            &reply,
            StatusCode::BAD_REQUEST,
            &format!("door event, {what}"),
        );
    }
    let unknown: Vec<(&str, Vec<u8>)> = vec![
        ("unknown kind", ev_with("kind", json!("exploded"))),
        (
            "unknown credential type",
            ev_with("credential", json!({"type": "badge", "id": "04A1B2C3"})),
        ),
        ("unknown door", ev_with("door", json!("nowhere"))),
        ("unknown direction", ev_with("direction", json!("sideways"))),
    ];
    for (what, body) in unknown {
        let reply = hub
            .post_raw("/api/v1/door-events", Some(&hub.tokens.doors), body)
            .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("door event, {what}"),
        );
    }
    // None of the refused events gave the nurse presence, and the event_id is still new.
    let l = ehr_login(
        "l-after",
        &b.at(6, 0),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&l).await,
        "l-after",
        "not_met",
        &["no_presence"],
        false,
    );
    hub.door_ok(&ev).await;
    assert_verdict(
        &hub.login_view("l-after").await,
        "combined_measures",
        &[],
        evidence("d-bad", "ward3-main", &b.z(0), "card"),
    );
}

#[tokio::test]
async fn body_over_64_kib_is_413() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let mut l = ehr_login("l-big", &b.at(5, 9), "nurse01", "ward3-pc01", &["password"]);
    l["padding"] = json!("x".repeat(65 * 1024));
    let reply = hub
        .post_raw("/api/v1/logins", Some(&hub.tokens.ehr), bytes(&l))
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "login over 64 KiB");
    let mut e = entry("ward3-main", "d-big", &b.at(0, 9), "card", "04A1B2C3");
    e["padding"] = json!("x".repeat(65 * 1024));
    let reply = hub
        .post_raw("/api/v1/door-events", Some(&hub.tokens.doors), bytes(&e))
        .await;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "door event over 64 KiB",
    );
    // Nothing stored.
    assert_error(
        &hub.get_login("l-big").await,
        StatusCode::NOT_FOUND,
        "refused login",
    );
    hub.door_ok(&entry(
        "ward3-main",
        "d-big",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    // Exactly 64 KiB is not over the limit; one byte more is.
    let sized = |id: &str, size: usize| {
        let mut l = ehr_login(id, &b.at(5, 9), "nurse01", "ward3-pc01", &["password"]);
        l["padding"] = json!("");
        let empty = bytes(&l).len();
        l["padding"] = json!("x".repeat(size - empty));
        let body = bytes(&l);
        assert_eq!(body.len(), size);
        body
    };
    let reply = hub
        .post_raw(
            "/api/v1/logins",
            Some(&hub.tokens.ehr),
            sized("l-65537", 64 * 1024 + 1),
        )
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "login of 64 KiB + 1");
    let (status, body) = hub
        .post_raw(
            "/api/v1/logins",
            Some(&hub.tokens.ehr),
            sized("l-65536", 64 * 1024),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "a body of exactly 64 KiB: {body}"
    );
}

#[tokio::test]
async fn unknown_login_and_route_are_404() {
    let hub = spawn_hub(HubOptions::default()).await;
    assert_error(
        &hub.get_login("l-never").await,
        StatusCode::NOT_FOUND,
        "unknown login",
    );
    let reply = hub
        .request(
            Method::GET,
            "/api/v1/nothing-here",
            Some(&hub.tokens.auditor),
            None,
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "unknown route");
}

#[tokio::test]
async fn wrong_method_has_the_error_body_too() {
    let hub = spawn_hub(HubOptions::default()).await;
    let reply = hub
        .request(
            Method::GET,
            "/api/v1/door-events",
            Some(&hub.tokens.doors),
            None,
        )
        .await;
    assert_eq!(reply.0, StatusCode::METHOD_NOT_ALLOWED, "{}", reply.1);
    assert_error_body(&reply.1, "GET /api/v1/door-events");
}
