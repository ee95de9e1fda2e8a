//! The findings of the security review (issue 9), each probed the way the reviewer did —
//! over the wire against the real binary — and shown closed: bounded bodies and audit
//! rows, no shadowing of another system's logins, neutral CSV cells, a same-origin
//! redirect, sessions that die with their passkey, one answer for every name, door-scoped
//! tokens, the client address behind a proxy, audited downloads and step-ups, slow
//! clients cut off, facilities kept from personal data, and a second officer for a
//! person's passkey.

use crate::harness::*;
use crate::passkeys::{invite, post_json, user, Session, SoftUser};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The store's URL (SQLite file or the PostgreSQL database of the run).
fn store_url(hub: &Hub) -> String {
    hub.opts
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", hub.dir.path().join("monban.db").display()))
}

/// Every audit row as (action, actor_name, target, detail, address), oldest first.
pub(crate) async fn audit_rows(hub: &Hub) -> Vec<(String, String, String, String, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&store_url(hub)).await.unwrap();
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT action, actor_name, target, detail, address FROM audit ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows
}

async fn audit_bytes(hub: &Hub) -> usize {
    audit_rows(hub)
        .await
        .iter()
        .map(|(a, n, t, d, ad)| a.len() + n.len() + t.len() + d.len() + ad.len())
        .sum()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn oversize_bodies_get_413_and_the_audit_trail_stays_bounded() {
    let hub = spawn_hub(HubOptions::default()).await;
    let before = audit_bytes(&hub).await;
    // The reviewer's probe: a 2 MiB name at the anonymous sign-in start.
    let big = "x".repeat(2 * 1024 * 1024);
    let (status, body, _) =
        post_json(&hub, "/auth/signin/start", None, &json!({"name": big})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Step-up with a 1 MiB terminal; a form post over 64 KiB.
    let (status, body) = hub
        .post_raw(
            "/api/v1/step-up",
            Some(&hub.tokens.ehr),
            json!({"system": "ehr", "account": "nurse01", "terminal": "t".repeat(1 << 20)})
                .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    let (_, officer) = user(&hub, "admin", "kanri").await;
    let res = officer
        .post_form(&hub, "/tokens/issue", &[("label", &"l".repeat(70 * 1024))])
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Under the body limit but over a field's bound: refused, not stored.
    let (status, body) = hub
        .post_raw(
            "/api/v1/step-up",
            Some(&hub.tokens.ehr),
            json!({"system": "ehr", "account": "nurse01", "terminal": "t".repeat(300)}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_terminal");
    let (status, body) = hub
        .post_login(
            &json!({"event_id": "l-ctl", "ts": Base::new().at(0, 9), "system": "ehr",
            "account": "nurse01", "terminal": "ward3-pc01\n", "factors": ["password"],
            "outcome": "success"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_terminal");

    // A long name (under the body limit) that then fails: one bounded row.
    let long = "n".repeat(50 * 1024);
    let nobody = SoftUser::new(&long);
    let (status, _, _) = nobody.sign_in_refused(&hub).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let rows = audit_rows(&hub).await;
    let failure = rows
        .iter()
        .rev()
        .find(|r| r.0 == "signin.failure")
        .expect("the failed sign-in is recorded");
    assert!(failure.1.chars().count() <= 129, "{}", failure.1.len());
    assert!(failure.2.chars().count() <= 129, "{}", failure.2.len());
    let grown = audit_bytes(&hub).await - before;
    assert!(
        grown < 16 * 1024,
        "the audit trail grew by {grown} bytes for a handful of refused requests"
    );

    // A refused path is kept as a bounded prefix.
    let facilities = issue_token(&hub.config, &["--role", "facilities"]);
    let path = format!("/api/v1/compliance?x={}", "p".repeat(4000));
    let (status, _) = hub.get_with(&path, Some(&facilities)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let long_target = format!("/api/v1/logins/{}", "q".repeat(4000));
    let (status, _) = hub.get_with(&long_target, Some(&facilities)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let rows = audit_rows(&hub).await;
    let denied: Vec<_> = rows.iter().filter(|r| r.0 == "access.denied").collect();
    assert!(!denied.is_empty());
    for d in &denied {
        assert!(d.2.chars().count() <= 140, "{}", d.2);
    }
    // And rate-limited per actor: many refusals leave a few rows.
    for _ in 0..30 {
        let (status, _) = hub.get_with("/audit", Some(&facilities)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let denied = audit_rows(&hub)
        .await
        .iter()
        .filter(|r| r.0 == "access.denied")
        .count();
    assert!(denied <= 12, "{denied} access.denied rows");
}

#[tokio::test]
async fn another_systems_event_id_is_a_conflict_and_nothing_is_stored() {
    let hub = spawn_hub(HubOptions::default()).await;
    let base = Base::new();
    // System vpn (native MFA) sends l-1 first.
    let vpn = login(
        "l-1",
        &base.at(0, 9),
        "vpn",
        "nurse01",
        "ward3-pc01",
        &["password", "totp"],
        "success",
    );
    assert_eq!(hub.login_ok(&vpn).await["verdict"], "direct_2fa");
    // ehr's own, password-only l-1 must not get vpn's result.
    let ehr = ehr_login(
        "l-1",
        &base.at(1, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    let (status, body) = hub.post_login(&ehr).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "event_id_conflict");
    assert!(body.get("verdict").is_none(), "{body}");
    // Nothing of ehr's was stored: the stored l-1 is vpn's, ehr has no data.
    assert_eq!(hub.login_view("l-1").await["system"], "vpn");
    let (_, c) = hub.compliance(None, None).await;
    let ehr_row = c["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ehr")
        .unwrap();
    assert_eq!(ehr_row["logins"]["successful"], 0, "{ehr_row}");
    // The same system repeating its event_id gets its stored result.
    let (status, body) = hub.post_login(&vpn).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verdict"], "direct_2fa");
    // With a step-up id too, the conflict wins (nothing is looked at for ehr).
    let mut with_step_up = ehr.clone();
    with_step_up["step_up_id"] = json!("su-nothing");
    let (status, body) = hub.post_login(&with_step_up).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

#[tokio::test]
async fn csv_cells_that_would_be_formulas_are_neutralised() {
    let hub = spawn_hub(HubOptions::default().extra(
        r#"
[[people]]
id = "p0099"
name = "@SUM(A1:A9)"
credentials = ["card:99999999"]
accounts = { pacs = "=HYPERLINK(\"https://evil.example\",\"open\")" }
"#,
    ))
    .await;
    let base = Base::new();
    // A sign-in name that is a formula ends up in the audit trail.
    let evil = SoftUser::new("=HYPERLINK(\"https://evil.example\")");
    let (status, _, _) = evil.sign_in_refused(&hub).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A login whose account is a formula ends up in the evidence.
    hub.login_ok(&login(
        "l-csv",
        &base.at(0, 9),
        "pacs",
        "=HYPERLINK(\"https://evil.example\",\"open\")",
        "+lobby",
        &["password"],
        "success",
    ))
    .await;
    let (_, admin) = user(&hub, "admin", "kanri").await;
    let mut files = Vec::new();
    for path in [
        "/audit.csv".to_string(),
        "/export/evidence.csv".to_string(),
        "/inventory/people.csv".to_string(),
    ] {
        let res = admin.get(&hub, &path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        files.push((path, res.text().await.unwrap()));
    }
    for (path, text) in &files {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{path}: a cell starts a formula: {cell:?}"
                );
            }
        }
    }
    assert!(files[0].1.contains("'=HYPERLINK"), "{}", files[0].1);
    assert!(files[1].1.contains("'=HYPERLINK"), "{}", files[1].1);
    assert!(files[1].1.contains("'+lobby"), "{}", files[1].1);
    assert!(files[2].1.contains("'@SUM(A1:A9)"), "{}", files[2].1);
}

/// Signs `u` in with `next` and returns where the hub sends them.
async fn redirect_after_sign_in(hub: &Hub, u: &mut SoftUser, next: &str) -> String {
    let (status, start, _) = post_json(
        hub,
        "/auth/signin/start",
        None,
        &json!({"name": u.name, "next": next}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let rcr: webauthn_rs_proto::RequestChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    let credential = webauthn_authenticator_rs::WebauthnAuthenticator::do_authentication(
        &mut u.key,
        crate::passkeys::origin(hub),
        rcr,
    )
    .unwrap();
    let (status, body, _) = post_json(
        hub,
        "/auth/signin/finish",
        None,
        &json!({"ceremony": start["ceremony"], "credential": credential}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["redirect"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn after_sign_in_the_hub_only_sends_to_its_own_pages() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (mut officer, _) = user(&hub, "officer", "tanaka").await;
    assert_eq!(
        redirect_after_sign_in(&hub, &mut officer, "/rooms?lang=en").await,
        "/rooms?lang=en"
    );
    // The reviewer's probe (`/signin?next=%2F%09%2Fevil.example`) and its cousins.
    for bad in [
        "/\t/evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/ /evil.example",
        "/\n/evil.example",
    ] {
        assert_eq!(
            redirect_after_sign_in(&hub, &mut officer, bad).await,
            "/",
            "{bad:?}"
        );
    }
}

async fn session_of(hub: &Hub, cookie: Option<&str>, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = client().get(hub.url("/api/v1/session"));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The passkey ids on a user's `/account` page.
async fn passkey_ids(hub: &Hub, s: &Session) -> Vec<String> {
    let html = s.get(hub, "/account").await.text().await.unwrap();
    let mut ids: Vec<String> = html
        .split("/account/passkeys/")
        .skip(1)
        .filter_map(|rest| rest.split('/').next().map(str::to_string))
        .collect();
    ids.dedup();
    ids
}

#[tokio::test]
async fn sessions_die_with_their_passkey_and_adding_one_needs_a_fresh_assertion() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (mut desk, desk_session) = user(&hub, "officer", "suzuki").await;
    // GET /api/v1/session: the caller's session and its CSRF token; 401 without one.
    let (status, me) = session_of(&hub, Some(&desk_session.cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"], "suzuki");
    assert_eq!(me["role"], "officer");
    assert_eq!(me["csrf"], desk_session.csrf.as_str());
    assert_eq!(
        session_of(&hub, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = session_of(&hub, None, Some(&hub.tokens.auditor)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // Registration without the fresh assertion: the start's ceremony is only a request
    // for an assertion, never a registration.
    let (status, start, _) = post_json(
        &hub,
        "/auth/passkeys/start",
        Some(&desk_session),
        &json!({"passkey_name": "stolen"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    assert_eq!(start["step"], "verify");
    assert!(start["options"]["publicKey"]["allowCredentials"].is_array());
    let fake = json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}});
    let (status, body, _) = post_json(
        &hub,
        "/auth/passkeys/finish",
        Some(&desk_session),
        &json!({"ceremony": start["ceremony"], "credential": fake}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "ceremony_expired");
    // An assertion that is not the user's cannot pass the verification step either.
    let (status, start, _) = post_json(
        &hub,
        "/auth/passkeys/start",
        Some(&desk_session),
        &json!({"passkey_name": "stolen"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let (status, body, _) = post_json(
        &hub,
        "/auth/passkeys/verify",
        Some(&desk_session),
        &json!({"ceremony": start["ceremony"], "credential": crate::passkeys::bogus_assertion()}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "passkey_rejected");
    assert_eq!(passkey_ids(&hub, &desk_session).await.len(), 1);

    // With the fresh assertion: a phone is added; then sign in with each.
    let mut phone = SoftUser::new("suzuki");
    let (status, body) = desk
        .add_passkey(&hub, &desk_session, &mut phone.key, "phone")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids = passkey_ids(&hub, &desk_session).await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    let phone_session = phone.session(&hub).await;
    let desk_again = desk.session(&hub).await;

    // Revoking the phone's passkey (from the desk session) ends the phone's session at
    // once; the desk's sessions live on.
    let phone_pk = {
        let mine = passkey_ids(&hub, &phone_session).await;
        // The phone's passkey is the one created last; find it by signing in with it.
        let rows = audit_rows(&hub).await;
        let last_signin = rows.iter().rev().find(|r| r.0 == "signin.success").unwrap();
        let desk_pk: Value = serde_json::from_str(&last_signin.3).unwrap();
        let desk_pk = desk_pk["passkey"].as_str().unwrap().to_string();
        mine.into_iter().find(|p| *p != desk_pk).unwrap()
    };
    let res = desk_again
        .post_form(&hub, &format!("/account/passkeys/{phone_pk}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        session_of(&hub, Some(&phone_session.cookie), None).await.0,
        StatusCode::UNAUTHORIZED,
        "the session signed in with the revoked passkey is dead"
    );
    assert_eq!(
        session_of(&hub, Some(&desk_again.cookie), None).await.0,
        StatusCode::OK
    );

    // The last-passkey rule holds on /users/{id}/passkeys/… too.
    let (_, admin) = user(&hub, "admin", "kanri").await;
    let id = me["user_id"].as_str().unwrap().to_string();
    let last = passkey_ids(&hub, &desk_again).await;
    assert_eq!(last.len(), 1);
    let res = client()
        .post(hub.url(&format!("/users/{id}/passkeys/{}/revoke", last[0])))
        .header("cookie", &admin.cookie)
        .header("accept", "application/json")
        .form(&[("_csrf", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "last_passkey");
    desk.session(&hub).await; // still signs in

    // Disabling the user ends every session.
    let res = admin
        .post_form(&hub, &format!("/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        session_of(&hub, Some(&desk_again.cookie), None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// The shape of sign-in options with the ids taken out: what an observer could compare.
fn shape(start: &Value) -> Value {
    let mut v = start.clone();
    v["ceremony"] = json!("…");
    let pk = &mut v["options"]["publicKey"];
    pk["challenge"] = json!("…");
    let creds = pk["allowCredentials"].as_array_mut().unwrap();
    for c in creds.iter_mut() {
        c["id"] = json!("…");
    }
    creds.truncate(1);
    v
}

#[tokio::test]
async fn every_name_gets_the_same_answer_and_passkeys_can_name_their_user() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (mut known, _) = user(&hub, "officer", "yamada").await;
    let (_, admin) = user(&hub, "admin", "kanri").await;
    let (_, disabled_s) = user(&hub, "auditor", "kansa").await;
    let disabled_id = crate::passkeys::viewer(&hub, &disabled_s.cookie).await["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = admin
        .post_form(&hub, &format!("/users/{disabled_id}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let hub_ref = &hub;
    let start = move |name: &str| {
        let body = json!({"name": name});
        async move { post_json(hub_ref, "/auth/signin/start", None, &body).await }
    };
    let (s_known, known_body, _) = start("yamada").await;
    let (s_unknown, unknown_body, _) = start("nobody-at-all").await;
    let (s_disabled, disabled_body, _) = start("kansa").await;
    for (s, b) in [
        (s_known, &known_body),
        (s_unknown, &unknown_body),
        (s_disabled, &disabled_body),
    ] {
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    assert_eq!(shape(&known_body), shape(&unknown_body));
    assert_eq!(shape(&known_body), shape(&disabled_body));
    for b in [&known_body, &unknown_body, &disabled_body] {
        assert!(
            !b["options"]["publicKey"]["allowCredentials"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{b}"
        );
    }
    // Deterministic: the same unknown name gets the same credential ids.
    let (_, again, _) = start("nobody-at-all").await;
    assert_eq!(
        again["options"]["publicKey"]["allowCredentials"],
        unknown_body["options"]["publicKey"]["allowCredentials"]
    );
    // Finishing an unknown name's ceremony fails like a wrong passkey.
    let stranger = SoftUser::new("nobody-at-all");
    let (status, body, _) = stranger.sign_in_refused(&hub).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "signin_failed");

    // Username-less: the passkey names its user.
    let ids = known_body["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap()
        .clone();
    let handle = {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&store_url(&hub)).await.unwrap();
        let h: String = sqlx::query_scalar("SELECT handle FROM users WHERE name = 'yamada'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        h
    };
    let uuid_bytes: Vec<u8> = (0..16)
        .map(|i| {
            let hex: String = handle.replace('-', "");
            u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap()
        })
        .collect();
    let (status, body, cookie) = known.sign_in_discoverable(&hub, &uuid_bytes, &ids).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = cookie.expect("a session");
    let (status, me) = session_of(&hub, Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"], "yamada");
    // Another user's handle with this passkey is refused.
    let (status, _, _) = known.sign_in_discoverable(&hub, &[7u8; 16], &ids).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_door_token_posts_only_for_its_doors() {
    let hub = spawn_hub(HubOptions::default()).await;
    let scoped = issue_token(&hub.config, &["--doors", "ward3-main,ward3-back"]);
    let base = Base::new();
    let ev = entry("ward3-main", "d-1", &base.at(0, 9), "card", "04A1B2C3");
    let (status, body) = hub
        .post_raw("/api/v1/door-events", Some(&scoped), ev.to_string())
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let other = entry("pharmacy-door", "d-2", &base.at(1, 9), "card", "04A1B2C3");
    let (status, body) = hub
        .post_raw("/api/v1/door-events", Some(&scoped), other.to_string())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    // The unscoped door token still posts for every door.
    hub.door_ok(&other).await;
    // A door that is not in the inventory is refused when the token is issued.
    let out = monban(&hub.config, &["token", "issue", "--doors", "nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("nowhere"), "{}", out.stderr);
    let list = monban(&hub.config, &["token", "list"]);
    assert!(
        list.stdout.contains("doors:ward3-main,ward3-back"),
        "{}",
        list.stdout
    );
}

#[tokio::test]
async fn the_audit_trail_names_the_client_behind_a_trusted_proxy_and_records_downloads() {
    let hub = spawn_hub(HubOptions {
        server_extra: "trusted_proxies = [\"127.0.0.1\"]".into(),
        ..HubOptions::default()
    })
    .await;
    let res = client()
        .post(hub.url("/auth/signin/start"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", "10.9.8.7")
        .body(json!({"name": "ghost"}).to_string())
        .send()
        .await
        .unwrap();
    let start: Value = res.json().await.unwrap();
    let res = client()
        .post(hub.url("/auth/signin/finish"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", "10.9.8.7")
        .body(
            json!({"ceremony": start["ceremony"], "credential": {"id": "AAAA", "rawId": "AAAA",
            "type": "public-key", "response": {"authenticatorData": "AAAA",
            "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let rows = audit_rows(&hub).await;
    let failure = rows.iter().find(|r| r.0 == "signin.failure").unwrap();
    assert_eq!(failure.4, "10.9.8.7", "{failure:?}");

    // Downloads of evidence are evidence too.
    let (_, officer) = user(&hub, "officer", "tanaka").await;
    for path in [
        "/export/evidence.csv",
        "/export/compliance.csv",
        "/inventory/people.csv",
    ] {
        assert_eq!(
            officer.get(&hub, path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let rows = audit_rows(&hub).await;
    for file in ["evidence.csv", "compliance.csv", "inventory/people.csv"] {
        assert!(
            rows.iter()
                .any(|r| r.0 == "export.download" && r.2 == file && r.1 == "tanaka"),
            "{file} download not recorded: {rows:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_client_is_cut_off_and_connections_are_capped() {
    let hub = spawn_hub(HubOptions {
        limits_extra: "header_read_timeout = \"1s\"\nmax_connections = 4".into(),
        ..HubOptions::default()
    })
    .await;
    let addr = hub.base_url.trim_start_matches("http://").to_string();
    // Slowloris: a request line and then nothing; the hub closes the connection.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the hub kept a connection without complete headers"
    );
    // The hub still answers (on a new connection: with a 1 s header timeout the hub has
    // closed every idle keep-alive connection too).
    let res = reqwest::Client::new()
        .get(hub.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // At the cap, a further client waits until a connection closes.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    let waiting = tokio::spawn({
        let url = hub.url("/healthz");
        async move {
            reqwest::Client::new()
                .get(url)
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    // The held connections are cut off after a second; then the waiting one is served.
    let status = waiting
        .await
        .unwrap()
        .expect("served once a connection closed");
    assert_eq!(status, StatusCode::OK);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facilities_see_no_personal_data_in_dead_letters_or_the_live_feed() {
    let url = crate::broker::start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    hub.wait_mqtt_connected().await;
    let facilities = issue_token(&hub.config, &["--role", "facilities"]);
    // Live feed: a login's id reaches compliance readers, not facilities.
    let feed = |token: String| {
        let url = hub.url("/api/v1/live");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let mut fac = feed(facilities.clone()).await;
    let mut aud = feed(hub.tokens.auditor.clone()).await;
    assert_eq!(fac.status(), StatusCode::OK);
    assert_eq!(aud.status(), StatusCode::OK);
    hub.login_ok(&ehr_login(
        "l-secret-42",
        &Base::new().at(1, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    async fn login_line(res: &mut reqwest::Response) -> String {
        let mut text = String::new();
        tokio::time::timeout(DEADLINE, async {
            while let Some(chunk) = res.chunk().await.unwrap() {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if text.contains("\"kind\":\"login\"") {
                    return;
                }
            }
        })
        .await
        .expect("a login event on the live feed");
        text.lines()
            .find(|l| l.contains("\"kind\":\"login\""))
            .unwrap()
            .to_string()
    }
    let fac_line = login_line(&mut fac).await;
    let aud_line = login_line(&mut aud).await;
    assert!(!fac_line.contains("l-secret-42"), "{fac_line}");
    assert!(aud_line.contains("l-secret-42"), "{aud_line}");

    // A dead letter with a card id and a name in it (a payload the hub cannot parse).
    let mut p = crate::broker::Publisher::connect(&url).await;
    let topic = format!("monban/{}/door/ward3-main/event", hub.opts.site);
    p.publish(
        &topic,
        r#"{"kind": "access_granted", "credential": {"type": "card", "id": "SECRETCARD"}, "name": "看護師 一郎""#.to_string(),
        false,
    )
    .await;
    let all = wait_for("the dead letter", DEADLINE, || async {
        let l = hub.dead_letters().await;
        (!l.is_empty()).then_some(l)
    })
    .await;
    assert!(all[0]["payload"].as_str().unwrap().contains("SECRETCARD"));
    let (status, letters) = hub
        .get_with("/api/v1/dead-letters", Some(&facilities))
        .await;
    assert_eq!(status, StatusCode::OK, "{letters}");
    let letters = letters["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), all.len());
    for l in letters {
        let payload = l["payload"].as_str().unwrap();
        assert!(!payload.contains("SECRETCARD"), "{l}");
        assert!(payload.contains("redacted"), "{l}");
    }
    // The dashboard's dead letters page too.
    let res = reqwest::Client::new()
        .get(hub.url("/dead-letters"))
        .bearer_auth(&facilities)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("SECRETCARD"),
        "the page shows the payload to facilities"
    );
}

#[tokio::test]
async fn a_persons_passkey_link_needs_a_second_officer() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (_, first) = user(&hub, "officer", "ichiro").await;
    let (_, second) = user(&hub, "officer", "jiro").await;
    let res = first.post_form(&hub, "/people/p0001/invite", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = first.get(&hub, "/people").await.text().await.unwrap();
    let token = html
        .split("/enroll/")
        .nth(1)
        .and_then(|rest| rest.split(['"', '<', ' ']).next())
        .expect("the link is shown once to its maker")
        .to_string();
    // Not usable yet.
    let (status, body, _) = post_json(
        &hub,
        "/auth/enroll/start",
        None,
        &json!({"token": token, "passkey_name": "p"}),
    )
    .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "invite_invalid");
    // Its maker cannot approve it.
    let html = second.get(&hub, "/people").await.text().await.unwrap();
    let invite_id = html
        .split("/people/invites/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a waiting link on /people")
        .to_string();
    let res = client()
        .post(hub.url(&format!("/people/invites/{invite_id}/approve")))
        .header("cookie", &first.cookie)
        .header("accept", "application/json")
        .form(&[("_csrf", first.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "self_approval");
    // A second officer can; then the person enrolls.
    let res = second
        .post_form(&hub, &format!("/people/invites/{invite_id}/approve"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut person = SoftUser::new("p0001");
    let (status, body, _) = person.enroll(&hub, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = audit_rows(&hub).await;
    assert!(rows
        .iter()
        .any(|r| r.0 == "person_invite.approve" && r.1 == "jiro"));
    assert!(rows
        .iter()
        .any(|r| r.0 == "person_invite.approve_refused" && r.1 == "ichiro"));
    // The command line's links (whoever runs it holds the machine) need no approval.
    let _ = invite(&hub, "auditor", "kansa");
}
