//! Step-up (issue 5): a system without 二要素認証 asks the hub to verify the person's
//! passkey at login; the login it then reports is `direct_2fa` through `webauthn_uv`.

use crate::harness::*;
use crate::passkeys::{origin, post_json, SoftUser};
use reqwest::StatusCode;
use serde_json::{json, Value};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::RequestChallengeResponse;

/// `monban user invite-person` → the link's token.
fn person_invite(hub: &Hub, person: &str) -> String {
    let out = monban(&hub.config, &["user", "invite-person", "--person", person]);
    assert!(out.status.success(), "{out:?}");
    out.stdout.trim().rsplit('/').next().unwrap().to_string()
}

/// The person at the terminal verifies step-up `id` with their passkey.
async fn verify(hub: &Hub, person: &mut SoftUser, id: &str) -> (StatusCode, Value) {
    let (status, start, _) =
        post_json(hub, &format!("/auth/step-up/{id}/start"), None, &json!({})).await;
    if status != StatusCode::OK {
        return (status, start);
    }
    let rcr: RequestChallengeResponse = serde_json::from_value(start["options"].clone()).unwrap();
    let credential = person
        .key
        .do_authentication(origin(hub), rcr)
        .expect("assertion");
    let (status, body, _) = post_json(
        hub,
        &format!("/auth/step-up/{id}/finish"),
        None,
        &json!({"ceremony": start["ceremony"], "credential": credential}),
    )
    .await;
    (status, body)
}

async fn request(hub: &Hub, account: &str) -> (StatusCode, Value) {
    hub.post_raw(
        "/api/v1/step-up",
        Some(&hub.tokens.ehr),
        json!({"system": "ehr", "account": account, "terminal": "lobby-kiosk"}).to_string(),
    )
    .await
}

#[tokio::test]
async fn step_up_turns_a_password_login_into_direct_2fa() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::from_instant(chrono::Utc::now());
    // Without a registered passkey the hub cannot help.
    let (status, body) = request(&hub, "nurse01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "no_passkey");
    let (status, body) = request(&hub, "nobody").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "unmapped_account");

    // The nurse registers a step-up passkey through the link an officer gave them.
    let mut nurse = SoftUser::new("p0001");
    let (status, body, cookie) = nurse.enroll(&hub, &person_invite(&hub, "p0001")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        cookie.is_none(),
        "a person's enrollment signs nobody in to the hub"
    );

    // A password login on the lobby kiosk (uncontrolled room) is not_met on its own.
    let plain = ehr_login(
        "l-plain",
        &b.at(0, 9),
        "nurse01",
        "lobby-kiosk",
        &["password"],
    );
    assert_eq!(hub.login_ok(&plain).await["verdict"], "not_met");

    // With step-up: request, the person verifies at the terminal, the system logs in.
    let (status, created) = request(&hub, "nurse01").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["step_up_id"].as_str().unwrap().to_string();
    assert!(created["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/step-up/{id}")));
    let (status, pending) = hub
        .get_with(&format!("/api/v1/step-up/{id}"), Some(&hub.tokens.ehr))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pending["status"], "pending");
    // Not yet verified: refused, nothing stored.
    let mut early = ehr_login(
        "l-early",
        &b.at(0, 9),
        "nurse01",
        "lobby-kiosk",
        &["password"],
    );
    early["step_up_id"] = json!(id);
    let (status, body) = hub.post_login(&early).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "step_up_invalid");
    assert_eq!(hub.get_login("l-early").await.0, StatusCode::NOT_FOUND);

    let (status, body) = verify(&hub, &mut nurse, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, verified) = hub
        .get_with(&format!("/api/v1/step-up/{id}"), Some(&hub.tokens.ehr))
        .await;
    assert_eq!(verified["status"], "verified");

    let mut login = ehr_login(
        "l-stepped",
        &b.at(0, 9),
        "nurse01",
        "lobby-kiosk",
        &["password"],
    );
    login["step_up_id"] = json!(id);
    let reply = hub.login_ok(&login).await;
    assert_eq!(reply["verdict"], "direct_2fa", "{reply}");
    let view = hub.login_view("l-stepped").await;
    assert_eq!(view["factors"], json!(["password", "webauthn_uv"]));
    // The evidence page says that the hub itself verified the passkey.
    let html = hub
        .read_get(hub.url("/logins/l-stepped"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("data-testid=\"evidence-step-up\"") && html.contains(&id),
        "{html}"
    );
    assert!(html.contains("soft key"), "the passkey's name is shown");
    // The same login again is idempotent; another login cannot reuse the step-up.
    let (status, again) = hub.post_login(&login).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["verdict"], "direct_2fa");
    let mut reuse = ehr_login(
        "l-reuse",
        &b.at(1, 9),
        "nurse01",
        "lobby-kiosk",
        &["password"],
    );
    reuse["step_up_id"] = json!(id);
    let (status, body) = hub.post_login(&reuse).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already been used"));
    let (_, used) = hub
        .get_with(&format!("/api/v1/step-up/{id}"), Some(&hub.tokens.ehr))
        .await;
    assert_eq!(used["status"], "used");
    assert_eq!(used["login"], "l-stepped");

    // A step-up for one account does not vouch for another.
    let (_, other) = request(&hub, "nurse01").await;
    let other_id = other["step_up_id"].as_str().unwrap().to_string();
    let (status, _) = verify(&hub, &mut nurse, &other_id).await;
    assert_eq!(status, StatusCode::OK);
    let mut wrong = ehr_login(
        "l-wrong",
        &b.at(2, 9),
        "pharm02",
        "lobby-kiosk",
        &["password"],
    );
    wrong["step_up_id"] = json!(other_id);
    let (status, body) = hub.post_login(&wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Another system's token cannot see or make step-ups of ehr.
    let (status, _) = hub
        .get_with(&format!("/api/v1/step-up/{id}"), Some(&hub.tokens.vpn))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = hub
        .post_raw(
            "/api/v1/step-up",
            Some(&hub.tokens.vpn),
            json!({"system": "ehr", "account": "nurse01"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = hub
        .post_raw(
            "/api/v1/step-up",
            Some(&hub.tokens.auditor),
            json!({"system": "ehr", "account": "nurse01"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The audit trail has the use and every refused use (the replay, the wrong account).
    let (_, admin) = crate::passkeys::user(&hub, "admin", "kanri").await;
    let csv = admin.get(&hub, "/audit.csv").await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    let used = lines
        .iter()
        .filter(|l| l.contains("step_up.use") && l.contains(&id) && l.contains("l-stepped"))
        .count();
    assert_eq!(used, 1, "{csv}");
    let refused: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("step_up.refused"))
        .collect();
    assert!(
        refused.iter().any(|l| l.contains("l-reuse")),
        "the replay is recorded: {csv}"
    );
    assert!(
        refused.iter().any(|l| l.contains("l-wrong")),
        "the wrong account is recorded: {csv}"
    );
    assert!(
        refused.iter().any(|l| l.contains("l-early")),
        "the unverified use is recorded: {csv}"
    );
}

#[tokio::test]
async fn a_passkey_of_someone_else_does_not_verify_a_step_up() {
    let hub = spawn_hub(HubOptions::default()).await;
    let mut nurse = SoftUser::new("p0001");
    assert_eq!(
        nurse.enroll(&hub, &person_invite(&hub, "p0001")).await.0,
        StatusCode::OK
    );
    let mut pharmacist = SoftUser::new("p0002");
    assert_eq!(
        pharmacist
            .enroll(&hub, &person_invite(&hub, "p0002"))
            .await
            .0,
        StatusCode::OK
    );
    let (_, created) = request(&hub, "nurse01").await;
    let id = created["step_up_id"].as_str().unwrap().to_string();
    // The pharmacist's authenticator holds no credential the hub allows for the nurse.
    let (status, start, _) =
        post_json(&hub, &format!("/auth/step-up/{id}/start"), None, &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let rcr: RequestChallengeResponse = serde_json::from_value(start["options"].clone()).unwrap();
    assert!(pharmacist.key.do_authentication(origin(&hub), rcr).is_err());
    let (_, still) = hub
        .get_with(&format!("/api/v1/step-up/{id}"), Some(&hub.tokens.ehr))
        .await;
    assert_eq!(still["status"], "pending");
}
