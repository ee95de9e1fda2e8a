//! Passkeys in a real browser: Chromium's WebAuthn virtual authenticator (the DevTools
//! one, through WebDriver's `webauthn/authenticator` endpoint) plays the user's device.
//!
//! The journey: `monban user invite` → the enrollment page registers a passkey → the
//! dashboard → sign out → denied → sign in with the passkey → the used link is refused,
//! an expired link is refused → a person registers a step-up passkey and verifies a
//! step-up at the terminal's browser → the system's password login is `direct_2fa`.

use crate::harness::*;
use crate::{Browser, PAGE_DEADLINE};
use serde_json::json;
use std::time::Instant;

/// `monban user ARGS…` → the enrollment link it printed.
fn link(hub: &Hub, args: &[&str]) -> String {
    let mut full = vec!["user"];
    full.extend_from_slice(args);
    let out = monban(&hub.config, &full);
    assert!(out.status.success(), "{out:?}");
    out.stdout.trim().to_string()
}

impl Browser {
    async fn wait_path(&self, path: &str) {
        self.wait_js(
            &format!("the browser to arrive at {path}"),
            "return location.pathname === arguments[0]",
            vec![json!(path)],
        )
        .await;
    }

    /// Waits until the page's scripts (passkey.js) have loaded and `css` exists.
    async fn wait_ready(&self, css: &str) {
        self.wait_js(
            &format!("{css} on a loaded page"),
            "return document.readyState === 'complete' && document.querySelector(arguments[0]) !== null",
            vec![json!(css)],
        )
        .await;
    }
}

#[tokio::test]
async fn invite_register_sign_in_sign_out_and_step_up_with_a_virtual_authenticator() {
    let test = "passkey_journey";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    // A CTAP2 platform authenticator that holds resident keys, verifies the user and
    // consents by itself (chromedriver's WebAuthn extension).
    browser.add_virtual_authenticator().await;
    let hub = spawn_hub(HubOptions::default()).await;
    browser.set_viewport(375, 812).await;

    // Invite → register.
    let invite = link(&hub, &["invite", "--role", "admin", "--name", "kanri"]);
    assert!(invite.starts_with(&hub.page_url("/enroll/")), "{invite}");
    browser.client.goto(&invite).await.unwrap();
    browser.wait_ready("[data-passkey='enroll']").await;
    browser.assert_no_horizontal_overflow(375).await;
    browser.screenshot("enroll-375").await;
    browser.click("[data-passkey='enroll']").await;
    browser.wait_path("/").await;
    browser.set_viewport(1280, 800).await;
    browser.wait_hydrated("overview").await;
    browser.screenshot("signed-in-1280").await;

    // Sign out → denied.
    browser.wait_ready("form[action='/signout'] button").await;
    browser.click("form[action='/signout'] button").await;
    browser.wait_path("/signin").await;
    browser
        .client
        .goto(&hub.page_url("/inventory"))
        .await
        .unwrap();
    browser.wait_path("/signin").await;
    let denied = browser
        .client
        .execute_async(
            "const done = arguments[0]; fetch('/api/v1/compliance').then(r => done(r.status))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(denied, json!(401), "the API refuses a signed-out browser");

    // Sign in with the passkey; the page asked for goes on to where the user wanted.
    browser.wait_ready("[data-passkey='signin']").await;
    browser.assert_no_horizontal_overflow(1280).await;
    let name = browser
        .client
        .find(fantoccini::Locator::Css("input[name='name']"))
        .await
        .unwrap();
    name.send_keys("kanri").await.unwrap();
    browser.screenshot("signin-1280").await;
    browser.click("[data-passkey='signin']").await;
    browser.wait_path("/inventory").await;
    browser.wait_hydrated("inventory").await;

    // Out again, and in without a name: the discoverable passkey names its user.
    browser.wait_ready("form[action='/signout'] button").await;
    browser.click("form[action='/signout'] button").await;
    browser.wait_path("/signin").await;
    browser.wait_ready("[data-passkey='signin-any']").await;
    browser.set_viewport(375, 812).await;
    browser.assert_no_horizontal_overflow(375).await;
    browser.screenshot("signin-375").await;
    browser.click("[data-passkey='signin-any']").await;
    browser.wait_path("/").await;
    browser.wait_hydrated("overview").await;
    browser.set_viewport(1280, 800).await;

    // The used link is refused; so is an expired one.
    browser.client.goto(&invite).await.unwrap();
    browser.wait_ready("[data-testid='invite-refused']").await;
    browser.screenshot("invite-used-1280").await;
    let short = link(
        &hub,
        &[
            "invite",
            "--role",
            "auditor",
            "--name",
            "kansa",
            "--valid-for",
            "1s",
        ],
    );
    let until = Instant::now() + PAGE_DEADLINE;
    loop {
        browser.client.goto(&short).await.unwrap();
        browser
            .wait_js(
                "the enrollment page",
                "return document.readyState === 'complete'",
                vec![],
            )
            .await;
        let refused = browser
            .js(
                "return document.querySelector(\"[data-testid='invite-refused']\") !== null",
                vec![],
            )
            .await;
        if refused == json!(true) {
            break;
        }
        assert!(
            Instant::now() < until,
            "the one-second link was never refused"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }

    // Step-up: the nurse registers a passkey for step-up, then verifies at the terminal.
    let person = link(&hub, &["invite-person", "--person", "p0001"]);
    browser.client.goto(&person).await.unwrap();
    browser.wait_ready("[data-passkey='enroll']").await;
    browser.click("[data-passkey='enroll']").await;
    let created = wait_for("the nurse's step-up passkey", PAGE_DEADLINE, || async {
        let (status, body) = hub
            .post_raw(
                "/api/v1/step-up",
                Some(&hub.tokens.ehr),
                json!({"system": "ehr", "account": "nurse01", "terminal": "lobby-kiosk"})
                    .to_string(),
            )
            .await;
        (status == reqwest::StatusCode::CREATED).then_some(body)
    })
    .await;
    let id = created["step_up_id"].as_str().unwrap().to_string();
    let url = created["url"].as_str().unwrap().to_string();
    browser.client.goto(&url).await.unwrap();
    browser.wait_ready("[data-passkey='step-up']").await;
    browser.screenshot("step-up-1280").await;
    browser.click("[data-passkey='step-up']").await;
    wait_for("the step-up to be verified", PAGE_DEADLINE, || async {
        let (_, s) = hub
            .get_with(&format!("/api/v1/step-up/{id}"), Some(&hub.tokens.ehr))
            .await;
        (s["status"] == "verified").then_some(())
    })
    .await;
    browser.screenshot("step-up-done-1280").await;
    let b = Base::from_instant(chrono::Utc::now());
    let mut login = ehr_login(
        "l-step-up",
        &b.at(0, 9),
        "nurse01",
        "lobby-kiosk",
        &["password"],
    );
    login["step_up_id"] = json!(id);
    let reply = hub.login_ok(&login).await;
    assert_eq!(reply["verdict"], "direct_2fa", "{reply}");
    let plain = ehr_login(
        "l-plain",
        &b.at(1, 9),
        "nurse01",
        "lobby-kiosk",
        &["password"],
    );
    assert_eq!(hub.login_ok(&plain).await["verdict"], "not_met");
    browser.close().await;
}
