//! The overview (`/`, `data-testid="overview"`) in Chromium: figures equal the API's at
//! both sizes, hydration proven by a live update without reload, the language switch,
//! and keyboard navigation with a visible focus.

use crate::fixture::{coverage_text, fed_hub};
use crate::harness::*;
use crate::{Browser, SIZES};
use serde_json::{json, Value};

/// The system rows as the browser sees them.
const SYSTEM_ROWS: &str = "
    const t = (r, id) => { const e = r.querySelector(`[data-testid='${id}']`); return e ? e.textContent.trim() : null; };
    return [...document.querySelectorAll(\"[data-testid='system-row']\")].map(r => ({
        id: r.dataset.systemId, status: r.dataset.status, coverage: t(r, 'coverage'),
        successful: t(r, 'count-successful'), direct_2fa: t(r, 'count-direct'),
        combined_measures: t(r, 'count-combined'), not_met: t(r, 'count-not-met'),
        failed: t(r, 'count-failed'),
    }));";

/// Compares the overview's system rows and login rows with the API.
pub async fn assert_overview_matches_api(browser: &Browser, hub: &Hub) {
    let (status, compliance) = hub.compliance(None, None).await;
    assert_eq!(status, 200, "{compliance}");
    let rows = browser.js(SYSTEM_ROWS, vec![]).await;
    let rows = rows.as_array().expect("system rows");
    let systems = compliance["systems"].as_array().expect("systems");
    assert_eq!(
        rows.len(),
        systems.len(),
        "one row per system: {rows:?} vs {compliance}"
    );
    for s in systems {
        let id = s["id"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no row for system {id}: {rows:?}"));
        assert_eq!(row["status"], s["status"], "status of {id}");
        let successful = s["logins"]["successful"].as_u64().unwrap();
        assert_eq!(
            row["coverage"],
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
                row[key],
                json!(s["logins"][key].as_u64().unwrap().to_string()),
                "{key} of {id}: {s}"
            );
        }
    }

    let logins = browser
        .js(
            "return [...document.querySelectorAll(\"[data-testid='login-row']\")]
                .map(r => [r.dataset.eventId, r.dataset.verdict])",
            vec![],
        )
        .await;
    let logins = logins.as_array().expect("login rows");
    assert!(!logins.is_empty(), "the latest logins are shown");
    for l in logins {
        let id = l[0].as_str().expect("data-event-id");
        let view = hub.login_view(id).await;
        assert_eq!(l[1], view["verdict"], "verdict of login {id}: {view}");
    }
}

#[tokio::test]
async fn overview_figures_equal_the_api_at_both_sizes() {
    let test = "overview";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, ids) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/"), "overview").await;
        // Every posted login is on the page, with the verdict the API gives.
        for id in &ids {
            browser
                .wait_js(
                    &format!("login {id} on the overview"),
                    "return document.querySelector(`[data-testid='login-row'][data-event-id='${arguments[0]}']`) !== null",
                    vec![json!(id)],
                )
                .await;
        }
        assert_overview_matches_api(&browser, &hub).await;
        let statuses: Vec<Value> = browser
            .js(SYSTEM_ROWS, vec![])
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].clone())
            .collect();
        for expected in ["direct", "gap"] {
            assert!(
                statuses.contains(&json!(expected)),
                "a {expected} system: {statuses:?}"
            );
        }
        if width < 600 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&width.to_string()).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn overview_follows_a_new_login_without_reload() {
    let test = "overview-live";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, _) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/"), "overview").await;
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

        // A login now: the newest of all, so it heads the latest logins.
        let id = unique(&format!("live-{width}"));
        let now = Base::from_instant(chrono::Utc::now());
        let l = login(
            &id,
            &now.at(0, 9),
            "vpn",
            "nurse01",
            "lobby-kiosk",
            &["password", "totp"],
            "success",
        );
        hub.login_ok(&l).await;
        let verdict = browser
            .wait_js(
                &format!("login {id} to appear without a reload"),
                "const r = document.querySelector(`[data-testid='login-row'][data-event-id='${arguments[0]}']`);
                 return r ? r.dataset.verdict : null",
                vec![json!(id)],
            )
            .await;
        let view = hub.login_view(&id).await;
        assert_eq!(verdict, view["verdict"], "verdict of {id}: {view}");
        let same_document = browser
            .js(
                "return [window.__monbanMarker, performance.getEntriesByType('navigation').length]",
                vec![],
            )
            .await;
        assert_eq!(
            same_document,
            json!([marker, 1]),
            "the page was updated in place, not reloaded"
        );
        // The counts follow too.
        browser
            .wait_js(
                "the vpn counts to follow the new login",
                "const r = document.querySelector(\"[data-testid='system-row'][data-system-id='vpn'] [data-testid='count-successful']\");
                 return r && r.textContent.trim() === arguments[0]",
                vec![json!(
                    hub.compliance(None, None).await.1["systems"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|s| s["id"] == "vpn")
                        .unwrap()["logins"]["successful"]
                        .as_u64()
                        .unwrap()
                        .to_string()
                )],
            )
            .await;
        assert_overview_matches_api(&browser, &hub).await;
        browser.screenshot(&width.to_string()).await;
    }
    browser.close().await;
}

/// Sets `s` to the page's language (`lang` of the hydrated page frame), the first nav
/// link's text and the language switch's text, or `null` while they are missing.
const LANG_STATE: &str = "const s = (() => {
    const page = document.querySelector(\"[data-testid='overview'][data-hydrated='true']\");
    const link = document.querySelector('.nav__link');
    const sw = document.querySelector(\"[data-testid='lang-switch']\");
    return page && link && sw ? [page.getAttribute('lang'), link.textContent.trim(), sw.textContent.trim()] : null; })();";

#[tokio::test]
async fn language_switch_turns_the_overview_english_and_back() {
    let test = "overview-lang";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, _) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/"), "overview").await;
        assert_eq!(
            browser.js(&format!("{LANG_STATE} return s"), vec![]).await,
            json!(["ja", "概要", "English"]),
            "Japanese first"
        );
        browser.click("[data-testid='lang-switch']").await;
        browser
            .wait_js(
                "the page to turn English",
                &format!("{LANG_STATE} return s && s[0] === 'en' && s[1] === 'Overview' && s[2] === '日本語'"),
                vec![],
            )
            .await;
        let url = browser.client.current_url().await.unwrap();
        assert!(
            url.as_str().contains("lang=en"),
            "the URL keeps the language: {url}"
        );
        assert_overview_matches_api(&browser, &hub).await;
        if width < 600 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&format!("{width}-en")).await;
        browser.click("[data-testid='lang-switch']").await;
        browser
            .wait_js(
                "the page to turn Japanese again",
                &format!("{LANG_STATE} return s && s[0] === 'ja' && s[1] === '概要' && s[2] === 'English'"),
                vec![],
            )
            .await;
        let url = browser.client.current_url().await.unwrap();
        assert!(!url.as_str().contains("lang=en"), "back to Japanese: {url}");
        browser.screenshot(&width.to_string()).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn keyboard_reaches_the_nav_and_the_language_switch_with_visible_focus() {
    let test = "overview-keyboard";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, _) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/"), "overview").await;
        let targets = browser
            .js(
                "return [...document.querySelectorAll(\".nav__link, [data-testid='lang-switch']\")]
                    .map(e => e.getAttribute('href') + ' ' + e.textContent.trim())",
                vec![],
            )
            .await;
        let targets: Vec<String> = targets
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert!(targets.len() >= 2, "nav links and the switch: {targets:?}");
        // Tab from the top of the document; record what gets focus and whether the
        // focus is visible (an outline or a box shadow while :focus-visible).
        browser.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return true", vec![]).await;
        let mut reached = Vec::new();
        for _ in 0..(targets.len() + 15) {
            browser.press_tab().await;
            let focus = browser
                .js(
                    "const e = document.activeElement;
                     if (!e || e === document.body) return null;
                     const st = getComputedStyle(e);
                     const visible = e.matches(':focus-visible') &&
                        ((st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) > 0) || st.boxShadow !== 'none');
                     return [e.getAttribute('href') + ' ' + e.textContent.trim(), visible]",
                    vec![],
                )
                .await;
            if let Some(pair) = focus.as_array() {
                let name = pair[0].as_str().unwrap_or_default().to_string();
                if targets.contains(&name) && !reached.iter().any(|(n, _)| n == &name) {
                    if reached.is_empty() {
                        browser.screenshot(&format!("{width}-focus")).await;
                    }
                    reached.push((name, pair[1].as_bool().unwrap_or(false)));
                }
            }
            if reached.len() == targets.len() {
                break;
            }
        }
        for t in &targets {
            let hit = reached.iter().find(|(n, _)| n == t);
            assert!(
                hit.is_some(),
                "Tab never reached {t:?} (reached {reached:?})"
            );
            assert!(
                hit.is_some_and(|(_, visible)| *visible),
                "{t:?} has no visible focus"
            );
        }
        browser.screenshot(&width.to_string()).await;
    }
    browser.close().await;
}
