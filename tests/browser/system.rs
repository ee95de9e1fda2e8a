//! The system page (`/systems/:id`, `data-testid="system"`) in Chromium: reached from the
//! overview's `system-link`, its header (status, coverage, counts) equals the system's
//! entry of `GET /api/v1/compliance`, and every `not_met` login it lists under a reason
//! has that reason in `GET /api/v1/logins/{id}`; the open page follows a new login without
//! a reload; at both sizes, in Japanese and English.

use crate::fixture::{coverage_text, fed_hub};
use crate::harness::*;
use crate::{Browser, SIZES};
use serde_json::{json, Value};

/// The header and the reason groups as the browser sees them.
const SYSTEM_PAGE: &str = "
    const h = document.querySelector(\"[data-testid='system-header']\");
    if (!h) return null;
    const t = id => { const e = h.querySelector(`[data-testid='${id}']`); return e ? e.textContent.trim() : null; };
    const groups = [...document.querySelectorAll(\"[data-testid='reason-group']\")].map(g => ({
        reason: g.dataset.reason,
        count: g.querySelector(\"[data-testid='reason-count']\").textContent.trim(),
        logins: [...g.querySelectorAll(\"[data-testid='reason-login']\")].map(a => a.dataset.eventId),
    }));
    return {
        id: h.dataset.systemId, status: h.dataset.status,
        badge: (h.querySelector(\"[data-testid='system-status']\") || {dataset: {}}).dataset.status,
        coverage: t('system-coverage'),
        successful: t('count-successful'), direct_2fa: t('count-direct'),
        combined_measures: t('count-combined'), not_met: t('count-not-met'), failed: t('count-failed'),
        groups,
    };";

/// Compares the system page with the API.
async fn assert_system_page_matches_api(browser: &Browser, hub: &Hub, id: &str) {
    let page = browser.js(SYSTEM_PAGE, vec![]).await;
    assert_eq!(page["id"], json!(id), "{page}");
    let (status, api) = hub.compliance(None, None).await;
    assert_eq!(status, 200, "{api}");
    let s = api["systems"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {api}"));
    assert_eq!(page["status"], s["status"], "status of {id}: {page}");
    assert_eq!(page["badge"], s["status"], "status badge of {id}: {page}");
    let successful = s["logins"]["successful"].as_u64().unwrap();
    assert_eq!(
        page["coverage"],
        json!(coverage_text(
            s["coverage"].as_f64().unwrap_or(f64::NAN),
            successful
        )),
        "coverage of {id}: {s}"
    );
    for key in [
        "successful",
        "direct_2fa",
        "combined_measures",
        "not_met",
        "failed",
    ] {
        assert_eq!(
            page[key],
            json!(s["logins"][key].as_u64().unwrap().to_string()),
            "{key} of {id}: {s}"
        );
    }
    let mut listed = 0;
    for g in page["groups"].as_array().expect("reason groups") {
        let reason = g["reason"].as_str().expect("data-reason");
        for login in g["logins"].as_array().unwrap() {
            let login = login.as_str().expect("data-event-id");
            let view = hub.login_view(login).await;
            assert_eq!(view["verdict"], "not_met", "{login} under {reason}: {view}");
            let reasons = view["reasons"].as_array().cloned().unwrap_or_default();
            assert!(
                reasons.contains(&json!(reason)),
                "{login} is listed under {reason}, the API gives {reasons:?}"
            );
            listed += 1;
        }
    }
    if s["logins"]["not_met"].as_u64() > Some(0) {
        assert!(listed > 0, "the not_met logins are listed: {page}");
    }
}

#[tokio::test]
async fn system_page_from_the_overview_equals_the_api_at_both_sizes() {
    let test = "system";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, _) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        // From the overview by its link (a real click), then hydrated.
        browser.open(&hub.page_url("/"), "overview").await;
        browser
            .click("[data-testid='system-row'][data-system-id='ehr'] [data-testid='system-link']")
            .await;
        browser.wait_hydrated("system").await;
        browser
            .wait_js(
                "the ehr header",
                "return document.querySelector(\"[data-testid='system-header'][data-system-id='ehr']\") !== null",
                vec![],
            )
            .await;
        assert_system_page_matches_api(&browser, &hub, "ehr").await;
        if width < 600 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&width.to_string()).await;

        // Live: a new ehr login now; the open page's counts follow without a reload. The
        // login is sent once the page's feed is connected, so the page hears of it.
        browser
            .wait_js(
                "the live indicator to say live",
                "return document.querySelector(\"[data-testid='live'][data-live='live']\") !== null",
                vec![],
            )
            .await;
        let marker = unique("marker");
        browser
            .js(
                "window.__monbanMarker = arguments[0]; return true",
                vec![json!(marker)],
            )
            .await;
        let now = Base::from_instant(chrono::Utc::now());
        let id = unique(&format!("sys-live-{width}"));
        hub.login_ok(&ehr_login(
            &id,
            &now.at(0, 9),
            "nurse01",
            "lobby-kiosk",
            &["password", "totp"],
        ))
        .await;
        let (_, api) = hub.compliance(None, None).await;
        let successful = api["systems"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["id"] == "ehr"))
            .map(|s| s["logins"]["successful"].to_string())
            .unwrap_or_default();
        browser
            .wait_js(
                "the ehr page's successful count to follow a new login without a reload",
                "const e = document.querySelector(\"[data-testid='system-header'] [data-testid='count-successful']\");
                 return e && e.textContent.trim() === arguments[0] && window.__monbanMarker === arguments[1]",
                vec![json!(successful), json!(marker)],
            )
            .await;
        assert_system_page_matches_api(&browser, &hub, "ehr").await;

        // Another system, opened directly in English.
        browser
            .open(&hub.page_url("/systems/vpn?lang=en"), "system")
            .await;
        let lang = browser
            .js(
                "return document.querySelector(\"[data-testid='system']\").getAttribute('lang')",
                vec![],
            )
            .await;
        assert_eq!(lang, json!("en"));
        assert_system_page_matches_api(&browser, &hub, "vpn").await;
        if width < 600 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&format!("{width}-en")).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn unknown_system_page_says_not_found_at_both_sizes() {
    let test = "system-not-found";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, _) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/systems/nope"), "system").await;
        let found: Value = browser
            .js(
                "return document.querySelector(\"[data-testid='system-not-found']\") !== null",
                vec![],
            )
            .await;
        assert_eq!(found, json!(true), "the not-found notice");
        if width < 600 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&width.to_string()).await;
    }
    browser.close().await;
}
