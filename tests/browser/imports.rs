//! The access-log import page (`/imports`) in Chromium at 1280×800 and 375×812: an
//! officer uploads an EHR access log through the page's form — first with a bad row (the
//! rows are named and nothing is stored), then a good one (stored through the running
//! hub) — and the mapping, the result and the history fit both sizes, in Japanese and
//! English.

use crate::harness::*;
use crate::Browser;
use serde_json::json;

const MAPPING: &str = r#"
[[imports]]
system = "ehr"
time = { column = "日時", format = "%Y/%m/%d %H:%M:%S" }
account = { column = "利用者ID" }
terminal = { column = "端末" }
outcome = { column = "結果", map = { "成功" = "success", "失敗" = "failure" } }
factors = { column = "認証方式", map = { "パスワード" = "password", "ICカード" = "ic_card" } }
event_id = { column = "ログ番号" }
"#;

/// `minutes` after the base as the EHR writes it.
fn local(base: Base, minutes: i64) -> String {
    let t = base.at(minutes, 9);
    t[..19].replace('-', "/").replace('T', " ")
}

/// Chooses `file` in the upload form and submits it; waits for the result.
async fn upload(browser: &Browser, file: &std::path::Path, status: &str) {
    let input = browser
        .client
        .find(fantoccini::Locator::Css(
            "[data-testid='imp-upload-form'][data-system='ehr'] input[type='file']",
        ))
        .await
        .expect("the file input");
    input
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
    browser
        .click("[data-testid='imp-upload-form'][data-system='ehr'] button[type='submit']")
        .await;
    browser
        .wait_js(
            "the import's result",
            "const r = document.querySelector(\"[data-testid='imp-result']\"); return !!r && r.dataset.status === arguments[0]",
            vec![json!(status)],
        )
        .await;
}

#[tokio::test]
async fn an_officer_uploads_an_access_log_at_both_sizes() {
    let test = "imports";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let hub = spawn_hub(HubOptions::default().extra(MAPPING)).await;
    let b = Base::from_instant(chrono::Utc::now() - chrono::Duration::hours(2));
    let header = "ログ番号,日時,利用者ID,端末,結果,認証方式\n";
    let bad = hub.dir.path().join("ehr-bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}A-1,{},nurse01,ward3-pc01,成功,パスワード\nA-2,{},nurse01,ward3-pc01,不明,パスワード\n",
            local(b, 0),
            local(b, 5)
        ),
    )
    .unwrap();
    let good = hub.dir.path().join("ehr-2026-12.csv");
    std::fs::write(
        &good,
        format!(
            "{header}A-1,{},nurse01,ward3-pc01,成功,パスワード\nA-2,{},nurse01,ward3-pc01,失敗,パスワード\n",
            local(b, 0),
            local(b, 5)
        ),
    )
    .unwrap();
    browser.sign_in(&hub, "officer").await;

    for (width, height) in crate::SIZES {
        browser.set_viewport(width, height).await;
        browser.open(&hub.page_url("/imports"), "imports").await;
        browser.assert_no_horizontal_overflow(width).await;
        browser.screenshot(&format!("page-{width}")).await;
    }

    // A bad row: named with its line and column; nothing stored.
    browser.set_viewport(375, 812).await;
    browser.open(&hub.page_url("/imports"), "imports").await;
    upload(&browser, &bad, "rejected").await;
    let line = browser
        .js(
            "return document.querySelector(\"[data-testid='imp-error-row']\").dataset.line",
            vec![],
        )
        .await;
    assert_eq!(line, json!("3"), "the bad row's line");
    browser.assert_no_horizontal_overflow(375).await;
    browser.screenshot("rejected-375").await;
    let (_, reply) = hub
        .get_with("/api/v1/logins/A-1", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(
        reply["error"]["code"], "not_found",
        "nothing stored: {reply}"
    );

    // The good file: stored through the running hub, in the history.
    browser.set_viewport(1280, 800).await;
    browser.open(&hub.page_url("/imports"), "imports").await;
    upload(&browser, &good, "imported").await;
    let stored = browser
        .js(
            "return document.querySelector(\"[data-testid='imp-result']\").dataset.stored",
            vec![],
        )
        .await;
    assert_eq!(stored, json!("2"));
    browser.screenshot("imported-1280").await;
    let view = hub.login_view("A-1").await;
    assert_eq!(view["verdict"], "not_met", "{view}");
    for (width, height) in crate::SIZES {
        browser.set_viewport(width, height).await;
        let url = browser.client.current_url().await.expect("url").to_string();
        let en = if url.contains('?') {
            format!("{url}&lang=en")
        } else {
            format!("{url}?lang=en")
        };
        browser.open(&en, "imports").await;
        browser.assert_no_horizontal_overflow(width).await;
        browser.screenshot(&format!("imported-en-{width}")).await;
    }
    browser.close().await;
}
