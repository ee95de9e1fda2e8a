//! The account review page (`/accounts`) in Chromium, at 1280×800 and at 375×812: an
//! officer enrolled with Chromium's WebAuthn virtual authenticator decides the flagged
//! accounts (a leaver to remove, an unmapped account to map to a person), confirms the
//! review with 「棚卸しを確定（パスキー）」 — `data-passkey="review"` in passkey.js:
//! reviews/start → `navigator.credentials.get()` → reviews/finish — and the review
//! appears in the past reviews without a reload. Nothing overflows at 375 px.

use crate::harness::*;
use crate::Browser;
use serde_json::json;

const PEOPLE: &str = r#"
[[people]]
id = "p0009"
name = "退職 九郎"
until = "2020-03-31"
credentials = ["card:09090909"]
accounts = { ehr = "gone09" }
"#;

#[tokio::test]
async fn an_officer_confirms_an_account_review_with_a_passkey() {
    let test = "accounts_review";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    browser.add_virtual_authenticator().await;
    let hub = spawn_hub(HubOptions::default().extra(PEOPLE)).await;
    let b = Base::new();
    for (id, account) in [("b-1", "nurse01"), ("b-2", "gone09"), ("b-3", "shared01")] {
        hub.login_ok(&ehr_login(
            id,
            &b.at(23 * 60, 9),
            account,
            "ward3-pc01",
            &["password"],
        ))
        .await;
    }

    let out = monban(
        &hub.config,
        &["user", "invite", "--role", "officer", "--name", "kanri"],
    );
    assert!(out.status.success(), "{out:?}");
    browser.client.goto(out.stdout.trim()).await.unwrap();
    browser
        .wait_js(
            "the enrollment page",
            "return document.readyState === 'complete' && document.querySelector(\"[data-passkey='enroll']\") !== null",
            vec![],
        )
        .await;
    browser.click("[data-passkey='enroll']").await;
    browser
        .wait_js(
            "the dashboard after enrollment",
            "return location.pathname === '/'",
            vec![],
        )
        .await;

    for (n, (width, height)) in crate::SIZES.into_iter().enumerate() {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/accounts"), "accounts").await;
        browser
            .wait_js(
                "the review form",
                "return document.querySelector(\"[data-testid='acc-review-confirm']\") !== null",
                vec![],
            )
            .await;
        if width == 375 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&format!("list-{width}")).await;
        // Without choosing for the flagged accounts, the page says which are undecided.
        browser.click("[data-testid='acc-review-confirm']").await;
        let status = browser
            .wait_js(
                "the undecided accounts named",
                "var s = document.querySelector(\"[data-testid='acc-status']\"); return s && s.textContent.indexOf('gone09') >= 0 ? s.textContent : null",
                vec![],
            )
            .await;
        assert!(
            status.as_str().is_some_and(|s| s.contains("shared01")),
            "{status}"
        );
        // Decide the flagged ones: every account without a decision is kept, but the
        // leaver is removed and the shared account is mapped to p0005.
        browser
            .js(
                "document.querySelectorAll('[data-review-mark]').forEach(function (row) {\
                   var a = row.getAttribute('data-account');\
                   var d = row.querySelector('[name=decision]');\
                   if (a === 'gone09') { d.value = 'remove'; row.querySelector('[name=note]').value = '退職済み'; }\
                   else if (a === 'shared01') { d.value = 'map'; row.querySelector('[name=person]').value = 'p0005'; }\
                   else if (!d.value) { d.value = 'keep'; }\
                 }); return true",
                vec![],
            )
            .await;
        browser.click("[data-testid='acc-review-confirm']").await;
        let want = n + 1;
        browser
            .wait_js(
                "the review in the past reviews",
                "return document.querySelectorAll(\"[data-testid='acc-review']\").length === arguments[0]",
                vec![json!(want)],
            )
            .await;
        let status = browser
            .js(
                "return document.querySelector(\"[data-testid='acc-status']\").textContent",
                vec![],
            )
            .await;
        assert!(
            status
                .as_str()
                .is_some_and(|s| s.contains("棚卸しを確定しました")),
            "status: {status}"
        );
        let state = browser
            .js(
                "return document.querySelector(\"[data-testid='acc-review-state']\").getAttribute('data-overdue')",
                vec![],
            )
            .await;
        assert_eq!(state, json!("false"));
        if width == 375 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser
            .js(
                "document.querySelector(\"[data-testid='acc-reviews']\").scrollIntoView({block: 'start'}); return true",
                vec![],
            )
            .await;
        browser.screenshot(&format!("reviewed-{width}")).await;
    }
    let (_, reply) = hub
        .get_with(
            "/api/v1/accounts/reviews?system=ehr",
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(
        reply["reviews"].as_array().map(Vec::len),
        Some(2),
        "{reply}"
    );
    assert_eq!(reply["last_review"]["by"], "kanri", "{reply}");
    assert_eq!(
        reply["follow_up"],
        json!([{"account": "shared01", "follow_up": "not_in_inventory"}])
    );
    browser.close().await;
}
