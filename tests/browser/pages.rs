//! The other pages in Chromium, at both sizes: the login evidence (`/logins/:id`) equals
//! `GET /api/v1/logins/{id}`; rooms and doors (`/rooms`) equal `GET /api/v1/doors` and
//! follow a new entry without reload; the inventory (`/inventory`) takes a row edit
//! through its preview to the change log, and shows a CSV import's bad row with its line
//! and column and offers no apply; dead letters (`/dead-letters`) equal
//! `GET /api/v1/dead-letters`, with markup in a payload shown as text, never run; the
//! export page (`/export`) equals `GET /api/v1/compliance` and the logins' verdicts.

use crate::broker::{start_rumqttd, Publisher};
use crate::fixture::fed_hub;
use crate::harness::*;
use crate::{Browser, SIZES};
use serde_json::{json, Value};

/// Checks the narrow layout and saves a screenshot named after the width (and `tag`).
async fn finish_size(browser: &Browser, width: u32, tag: &str) {
    let name = if tag.is_empty() {
        width.to_string()
    } else {
        format!("{width}-{tag}")
    };
    browser.screenshot(&name).await;
    if width < 600 {
        browser.assert_no_horizontal_overflow(width).await;
    }
}

// ---------------------------------------------------------------- evidence

/// The evidence page as the browser sees it.
const EVIDENCE: &str = "
    const l = document.querySelector(\"[data-testid='evidence-login']\");
    if (!l) return null;
    const e = document.querySelector(\"[data-testid='evidence-entry']\");
    return {
        event_id: l.dataset.eventId, verdict: l.dataset.verdict, final: l.dataset.final,
        reasons: [...document.querySelectorAll(\"[data-testid='evidence-reason']\")].map(r => r.dataset.reason),
        entry: e ? { entry_event_id: e.dataset.entryEventId, door: e.dataset.door,
                     credential_type: e.dataset.credentialType } : null,
    };";

#[tokio::test]
async fn evidence_pages_equal_the_api_at_both_sizes() {
    let test = "evidence";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, ids) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        // From the overview's link to the combined-measures login (a real click).
        browser.open(&hub.page_url("/"), "overview").await;
        browser
            .click("[data-testid='login-row'][data-event-id='b-ehr-ok'] [data-testid='login-link']")
            .await;
        browser.wait_hydrated("evidence").await;
        // The clicked page first, then every login opened directly (every other one in
        // English).
        let clicked = "b-ehr-ok".to_string();
        for (n, id) in std::iter::once(&clicked).chain(ids.iter()).enumerate() {
            if n > 0 {
                let lang = if n % 2 == 0 { "" } else { "?lang=en" };
                browser
                    .open(&hub.page_url(&format!("/logins/{id}{lang}")), "evidence")
                    .await;
            }
            let page = browser
                .wait_js(&format!("the evidence of {id}"), EVIDENCE, vec![])
                .await;
            let view = hub.login_view(id).await;
            assert_eq!(page["event_id"], json!(id), "{page}");
            assert_eq!(page["verdict"], view["verdict"], "verdict of {id}: {view}");
            let is_final = view["final"].as_bool().or(view["is_final"].as_bool());
            if let Some(f) = is_final {
                assert_eq!(
                    page["final"],
                    json!(f.to_string()),
                    "finality of {id}: {view}"
                );
            }
            let reasons = view["reasons"].as_array().cloned().unwrap_or_default();
            assert_eq!(page["reasons"], json!(reasons), "reasons of {id}: {view}");
            if view["verdict"] == "combined_measures" {
                let ev = &view["evidence"];
                assert_eq!(
                    page["entry"]["entry_event_id"], ev["entry_event_id"],
                    "entry of {id}: {view}"
                );
                assert_eq!(page["entry"]["door"], ev["door"], "door of {id}");
                assert_eq!(
                    page["entry"]["credential_type"], ev["credential_type"],
                    "credential of {id}"
                );
            }
            let tag = if n == 0 { String::new() } else { id.clone() };
            finish_size(&browser, width, &tag).await;
        }
        browser
            .open(&hub.page_url("/logins/no-such-login"), "evidence")
            .await;
        let found = browser
            .js(
                "return document.querySelector(\"[data-testid='not-found']\") !== null",
                vec![],
            )
            .await;
        assert_eq!(found, json!(true), "the not-found notice");
    }
    browser.close().await;
}

// ---------------------------------------------------------------- rooms

/// The rooms page as the browser sees it.
const ROOMS: &str = "
    if (!document.querySelector(\"[data-testid='room']\")) return null;
    return {
        rooms: [...document.querySelectorAll(\"[data-testid='room']\")].map(r => ({
            id: r.dataset.roomId, controlled: r.dataset.controlled,
            present: r.dataset.present, alarms: r.dataset.alarms,
            people: [...r.querySelectorAll(\"[data-testid='presence']\")].map(p => p.dataset.personId),
        })),
        doors: [...document.querySelectorAll(\"[data-testid='room-door']\")].map(d => [d.dataset.doorId, d.dataset.state]),
        alarms: [...document.querySelectorAll(\"[data-testid='alarm']\")].map(a => [a.dataset.kind, a.dataset.door]),
    };";

#[tokio::test]
async fn rooms_page_equals_the_api_and_follows_an_entry_at_both_sizes() {
    let test = "rooms";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let url = start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    browser.sign_in(&hub, "officer").await;
    hub.wait_mqtt_connected().await;
    let mut publisher = Publisher::connect(&url).await;
    let topic = |door: &str| format!("monban/{}/door/{door}/event", hub.opts.site);
    let now = || Base::from_instant(chrono::Utc::now());
    let new_events = "monban_door_events_ingested_total{source=\"mqtt\",result=\"new\"}";
    // The nurse entered the ward a minute ago; the pharmacy door was tampered with.
    let nurse = entry(
        "ward3-main",
        "r-1",
        &now().at_secs(-60, 9),
        "card",
        "04A1B2C3",
    );
    publisher
        .publish(&topic("ward3-main"), mqtt_payload(&nurse), false)
        .await;
    let tamper = door_event("pharmacy-door", "r-2", &now().at_secs(-30, 9), "tamper");
    publisher
        .publish(&topic("pharmacy-door"), mqtt_payload(&tamper), false)
        .await;
    wait_for("two door events over MQTT", DEADLINE, || async {
        (hub.metric(new_events).await >= 2.0).then_some(())
    })
    .await;

    let mut stored = 2.0;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/rooms"), "rooms").await;
        let page = browser.wait_js("the rooms", ROOMS, vec![]).await;
        let room = |id: &str| -> Value {
            page["rooms"]
                .as_array()
                .and_then(|a| a.iter().find(|r| r["id"] == id))
                .cloned()
                .unwrap_or_else(|| panic!("no room {id}: {page}"))
        };
        assert!(
            room("ward3")["people"]
                .as_array()
                .is_some_and(|p| p.contains(&json!("p0001"))),
            "the nurse in ward 3: {page}"
        );
        assert_eq!(room("pharmacy")["alarms"], json!("1"), "{page}");
        assert_eq!(room("lobby")["controlled"], json!("false"), "{page}");
        assert!(
            page["alarms"]
                .as_array()
                .is_some_and(|a| a.contains(&json!(["tamper", "pharmacy-door"]))),
            "the tamper alarm: {page}"
        );
        let api = hub.doors().await;
        let doors = api["doors"].as_array().cloned().unwrap_or_default();
        assert!(!doors.is_empty(), "{api}");
        for d in &doors {
            let id = d["door"].as_str().unwrap_or_default();
            let shown = page["doors"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x[0] == id))
                .unwrap_or_else(|| panic!("door {id} not on the page: {page}"));
            assert_eq!(shown[1], d["state"], "state of {id}: {d}");
        }
        finish_size(&browser, width, "").await;

        // Live: the doctor enters the ward (over MQTT); the page shows it without a
        // reload.
        browser
            .wait_js(
                "the live indicator to say live",
                "return document.querySelector(\"[data-testid='live'][data-live='live']\") !== null",
                vec![],
            )
            .await;
        let marker = unique("marker");
        // Also listen to the hub's feed ourselves, to tell a silent hub from a page that
        // does not follow it.
        let opened = browser
            .js(
                "window.__monbanMarker = arguments[0];
                 window.__monbanFeed = [];
                 const feed = new EventSource('/api/v1/live');
                 feed.onmessage = e => window.__monbanFeed.push(e.data);
                 return new Promise(ok => { feed.onopen = () => ok(true); setTimeout(() => ok(false), 25000); })",
                vec![json!(marker)],
            )
            .await;
        assert_eq!(opened, json!(true), "the test's own feed did not open");
        let id = format!("r-doc-{width}");
        let (who, credential, card) = if width < 600 {
            ("p0004", "biometric", "B0004")
        } else {
            ("p0003", "card_pin", "CP0003")
        };
        let doctor = entry("ward3-back", &id, &now().at_secs(-1, 9), credential, card);
        publisher
            .publish(&topic("ward3-back"), mqtt_payload(&doctor), false)
            .await;
        stored += 1.0;
        let at_least = stored;
        wait_for("the entry over MQTT", DEADLINE, || async {
            (hub.metric(new_events).await >= at_least).then_some(())
        })
        .await;
        // The hub has it (a fresh server render shows it) ...
        wait_for(
            &format!("{who} on a fresh render of /rooms"),
            DEADLINE,
            || async {
                let html = hub
                    .read_get(hub.url("/rooms"))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                html.contains(&format!("data-person-id=\"{who}\""))
                    .then_some(())
            },
        )
        .await;
        // ... and announces it on its feed ...
        browser
            .wait_js(
                "the hub's feed to announce the door event",
                "return window.__monbanFeed.some(m => m.includes(arguments[0]))",
                vec![json!(id)],
            )
            .await;
        // ... and the open page follows without a reload.
        browser
            .wait_js(
                &format!("{who} to appear in ward 3 without a reload"),
                "return document.querySelector(`[data-testid='room'][data-room-id='ward3'] [data-testid='presence'][data-person-id='${arguments[0]}']`) !== null",
                vec![json!(who)],
            )
            .await;
        let same = browser
            .js(
                "return [window.__monbanMarker, performance.getEntriesByType('navigation').length]",
                vec![],
            )
            .await;
        assert_eq!(same, json!([marker, 1]), "updated in place, not reloaded");
        finish_size(&browser, width, "live").await;
    }
    browser.close().await;
}

// ---------------------------------------------------------------- inventory

/// The preview as the browser sees it, once it is on the page.
const PREVIEW: &str = "
    const p = document.querySelector(\"[data-testid='inv-preview']\");
    if (!p) return null;
    const keys = id => [...p.querySelectorAll(`[data-testid='${id}']`)].map(e => e.dataset.key);
    return {
        errors: p.dataset.errors,
        added: keys('inv-added'), changed: keys('inv-changed'), removed: keys('inv-removed'),
        error_cells: [...p.querySelectorAll(\"[data-testid='inv-error']\")].map(e => [e.dataset.line, e.dataset.column]),
        apply: document.querySelector(\"[data-testid='inv-apply']\") !== null,
    };";

/// Sets a form field's value the way typing does (clear, then keys).
async fn type_into(browser: &Browser, css: &str, text: &str) {
    let el = browser
        .client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear()
        .await
        .unwrap_or_else(|e| panic!("clear {css}: {e}"));
    el.send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// GET /inventory/{table}.csv, without its last line (the evidence head it was made
/// from, which moves with every record stored).
async fn inventory_csv(hub: &Hub, table: &str) -> String {
    let text = hub
        .read_get(hub.url(&format!("/inventory/{table}.csv")))
        .await
        .expect("GET csv")
        .text()
        .await
        .expect("csv");
    text.lines()
        .filter(|l| !l.starts_with("# evidence head"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn inventory_edit_and_bad_import_at_both_sizes() {
    let test = "inventory";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let hub = spawn_hub(HubOptions::default()).await;
    browser.sign_in(&hub, "officer").await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/inventory"), "inventory").await;
        finish_size(&browser, width, "").await;

        // Edit the pharmacy's name in its row form, preview, apply.
        let name = format!("薬剤部 調剤室 {width}");
        let row = "[data-testid='inv-table'][data-table='rooms'] [data-testid='inv-row'][data-key='pharmacy']";
        browser.click(&format!("{row} details > summary")).await;
        type_into(
            &browser,
            &format!("{row} details form input[name='name']"),
            &name,
        )
        .await;
        browser
            .click(&format!("{row} details form button[type='submit']"))
            .await;
        browser.wait_hydrated("inventory").await;
        let preview = browser.wait_js("the edit's preview", PREVIEW, vec![]).await;
        assert_eq!(preview["errors"], json!("0"), "{preview}");
        assert_eq!(preview["changed"], json!(["pharmacy"]), "{preview}");
        assert_eq!(preview["apply"], json!(true), "{preview}");
        assert!(
            !inventory_csv(&hub, "rooms").await.contains(&name),
            "nothing applied before the officer confirms"
        );
        finish_size(&browser, width, "edit-preview").await;
        browser.click("[data-testid='inv-apply']").await;
        browser.wait_hydrated("inventory").await;
        let applied = browser
            .wait_js(
                "the edit to be applied",
                "const a = document.querySelector(\"[data-testid='inv-applied']\"); return a ? a.dataset.count : null",
                vec![],
            )
            .await;
        assert_eq!(applied, json!("1"));
        assert!(
            inventory_csv(&hub, "rooms").await.contains(&name),
            "the rooms CSV has the new name"
        );
        browser
            .wait_js(
                "the change in the change log",
                "return document.querySelector(\"[data-testid='inv-change'][data-table='rooms'][data-key='pharmacy']\") !== null",
                vec![],
            )
            .await;

        // A CSV import with a bad row: its line and column are shown, no apply.
        let doors_before = inventory_csv(&hub, "doors").await;
        browser
            .open(&hub.page_url("/inventory?lang=en"), "inventory")
            .await;
        let form = "form[action='/inventory/import']";
        browser
            .js(
                &format!(
                    "document.querySelector(\"{form} select[name='table']\").value = 'doors'; return true"
                ),
                vec![],
            )
            .await;
        type_into(
            &browser,
            &format!("{form} textarea[name='csv']"),
            "id,room,name\nward3-main,ward3,\nbad id!,ward3,x\n",
        )
        .await;
        browser
            .click(&format!("{form} button[type='submit']"))
            .await;
        browser.wait_hydrated("inventory").await;
        let preview = browser
            .wait_js("the import's preview", PREVIEW, vec![])
            .await;
        assert_ne!(preview["errors"], json!("0"), "{preview}");
        assert!(
            preview["error_cells"]
                .as_array()
                .is_some_and(|c| c.contains(&json!(["3", "id"]))),
            "the bad id on line 3, column id: {preview}"
        );
        assert_eq!(
            preview["apply"],
            json!(false),
            "no apply with errors: {preview}"
        );
        assert_eq!(inventory_csv(&hub, "doors").await, doors_before);
        finish_size(&browser, width, "bad-import").await;
    }
    browser.close().await;
}

// ---------------------------------------------------------------- dead letters

#[tokio::test]
async fn dead_letters_equal_the_api_and_show_markup_as_text_at_both_sizes() {
    let test = "dead-letters";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let url = start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    browser.sign_in(&hub, "officer").await;
    hub.wait_mqtt_connected().await;
    let mut publisher = Publisher::connect(&url).await;
    let topic = format!("monban/{}/door/ward3-main/event", hub.opts.site);
    // Not JSON; markup that must be shown, never run; a long one.
    let payloads = [
        "not json at all".to_string(),
        "<img src=x onerror=\"window.__monbanInjected = 1\"><script>window.__monbanInjected = 2</script>"
            .to_string(),
        format!("{{\"event_id\": \"{}\"", "x".repeat(600)),
    ];
    for p in &payloads {
        publisher.publish(&topic, p.clone(), false).await;
    }
    wait_for("three dead letters", DEADLINE, || async {
        (hub.dead_letters().await.len() >= 3).then_some(())
    })
    .await;
    let letters = hub.dead_letters().await;
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        browser
            .open(&hub.page_url("/dead-letters"), "dead-letters")
            .await;
        let page = browser
            .js(
                "const c = document.querySelector(\"[data-testid='dead-letters-count']\");
                 return {
                    count: c ? c.dataset.count : null,
                    rows: [...document.querySelectorAll(\"[data-testid='dead-letter-row']\")].map(r => ({
                        id: r.dataset.id, source: r.dataset.source,
                        payload: r.querySelector(\"[data-testid='dead-letter-payload']\").textContent,
                    })),
                    injected: window.__monbanInjected === undefined ? null : window.__monbanInjected,
                 }",
                vec![],
            )
            .await;
        assert_eq!(page["count"], json!(letters.len().to_string()), "{page}");
        let rows = page["rows"].as_array().cloned().unwrap_or_default();
        assert_eq!(rows.len(), letters.len(), "{page}");
        for l in &letters {
            let id = l["id"].to_string();
            let row = rows
                .iter()
                .find(|r| r["id"] == json!(id))
                .unwrap_or_else(|| panic!("dead letter {id} not on the page: {page}"));
            assert_eq!(row["source"], l["source"], "source of {id}");
            assert_eq!(row["payload"], l["payload"], "payload of {id}");
        }
        assert_eq!(page["injected"], Value::Null, "markup in a payload ran");
        finish_size(&browser, width, "").await;
    }
    browser.close().await;
}

// ---------------------------------------------------------------- export

#[tokio::test]
async fn export_page_equals_the_api_at_both_sizes() {
    let test = "export";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let (hub, ids) = fed_hub().await;
    browser.sign_in(&hub, "officer").await;
    let (status, api) = hub.compliance(None, None).await;
    assert_eq!(status, 200, "{api}");
    for (width, height) in SIZES {
        browser.set_viewport(width, height).await;
        for lang in ["", "?lang=en"] {
            browser
                .open(&hub.page_url(&format!("/export{lang}")), "export")
                .await;
            let page = browser
                .js(
                    "const t = (r, id) => { const e = r.querySelector(`[data-testid='${id}']`); return e ? e.textContent.trim() : null; };
                     const c = document.querySelector(\"[data-testid='export-login-count']\");
                     return {
                        systems: [...document.querySelectorAll(\"[data-testid='export-system-row']\")].map(r => ({
                            id: r.dataset.systemId, coverage: t(r, 'coverage'),
                            successful: t(r, 'count-successful'), direct_2fa: t(r, 'count-direct'),
                            combined_measures: t(r, 'count-combined'), not_met: t(r, 'count-not-met'),
                            failed: t(r, 'count-failed'),
                        })),
                        logins: [...document.querySelectorAll(\"[data-testid='export-login-row']\")].map(r => [r.dataset.eventId, r.dataset.verdict]),
                        count: c ? c.dataset.count : null,
                     }",
                    vec![],
                )
                .await;
            for s in api["systems"].as_array().cloned().unwrap_or_default() {
                let id = s["id"].as_str().unwrap_or_default();
                let row = page["systems"]
                    .as_array()
                    .and_then(|a| a.iter().find(|r| r["id"] == id))
                    .cloned()
                    .unwrap_or_else(|| panic!("system {id} not exported: {page}"));
                for key in [
                    "successful",
                    "direct_2fa",
                    "combined_measures",
                    "not_met",
                    "failed",
                ] {
                    assert_eq!(
                        row[key],
                        json!(s["logins"][key].as_u64().unwrap_or(u64::MAX).to_string()),
                        "{key} of {id}: {s}"
                    );
                }
                let successful = s["logins"]["successful"].as_u64().unwrap_or(0);
                assert_eq!(
                    row["coverage"],
                    json!(crate::fixture::coverage_text(
                        s["coverage"].as_f64().unwrap_or(f64::NAN),
                        successful
                    )),
                    "coverage of {id}"
                );
            }
            let logins = page["logins"].as_array().cloned().unwrap_or_default();
            assert_eq!(page["count"], json!(logins.len().to_string()), "{page}");
            for id in &ids {
                let row = logins
                    .iter()
                    .find(|l| l[0] == json!(id))
                    .unwrap_or_else(|| panic!("login {id} not exported: {page}"));
                assert_eq!(
                    row[1],
                    hub.login_view(id).await["verdict"],
                    "verdict of {id}"
                );
            }
            let tag = if lang.is_empty() { "" } else { "en" };
            finish_size(&browser, width, tag).await;
        }
    }
    browser.close().await;
}

// ---------------------------------------------------------------- people

#[tokio::test]
async fn people_page_shows_a_link_waiting_for_a_second_officer_at_both_sizes() {
    let test = "people";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let hub = spawn_hub(HubOptions::default()).await;
    // Another officer makes a person's enrollment link; this browser's officer approves.
    let (_, maker) = crate::passkeys::user(&hub, "officer", "sakusei").await;
    let res = maker.post_form(&hub, "/people/p0002/invite", &[]).await;
    assert_eq!(res.status(), 303);
    browser.sign_in(&hub, "officer").await;
    for lang in ["", "?lang=en"] {
        for (width, height) in SIZES {
            browser.set_viewport(width, height).await;
            browser
                .open(&hub.page_url(&format!("/people{lang}")), "people")
                .await;
            let waiting = browser
                .js(
                    "return [...document.querySelectorAll(\"[data-testid='waiting-invite']\")].map(r => ({
                        approve: r.querySelector(\"[data-testid='invite-approve']\") !== null,
                        text: r.textContent }))",
                    vec![],
                )
                .await;
            let rows = waiting.as_array().expect("rows");
            assert_eq!(rows.len(), 1, "{waiting}");
            assert_eq!(rows[0]["approve"], json!(true), "{waiting}");
            assert!(rows[0]["text"]
                .as_str()
                .unwrap_or_default()
                .contains("sakusei"));
            let tag = if lang.is_empty() { "" } else { "en" };
            finish_size(&browser, width, tag).await;
        }
    }
    // Approved from the page: the row is gone.
    browser.set_viewport(1280, 800).await;
    browser.open(&hub.page_url("/people"), "people").await;
    browser.click("[data-testid='invite-approve']").await;
    browser
        .wait_js(
            "the approved link to leave the list",
            "return document.readyState === 'complete' && document.querySelector(\"[data-testid='people-table']\") !== null && document.querySelector(\"[data-testid='waiting-invite']\") === null",
            vec![],
        )
        .await;
    browser.close().await;
}
