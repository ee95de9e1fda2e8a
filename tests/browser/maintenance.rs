//! The maintenance page (`/maintenance`) in Chromium, at 1280×800 and at 375×812: an
//! officer enrolled and signed in with Chromium's WebAuthn virtual authenticator
//! approves a request a vendor filed with its token — the 承認 button runs the
//! passkey-confirmed decision (`data-passkey="decide"` in passkey.js: decision/start →
//! `navigator.credentials.get()` → decision/finish) — and the window appears in the
//! calendar of approved windows without a reload.

use crate::harness::*;
use crate::Browser;
use reqwest::StatusCode;
use serde_json::json;

/// A vendor that maintains the EHR remotely, and its engineer.
const VENDOR: &str = r#"
[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true
route = "保守用VPN (IPsec)"
confirmed = "2026-10-01"

[[people]]
id = "v001"
name = "保守 太郎"
vendor = "acme-med"
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "acme-maint01" }
"#;

#[tokio::test]
async fn an_officer_approves_a_vendor_request_with_a_passkey() {
    let test = "maintenance_approve";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    browser.add_virtual_authenticator().await;
    let hub = spawn_hub(HubOptions::default().extra(VENDOR)).await;

    // The officer enrolls a passkey in the virtual authenticator (and is signed in).
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

    // The vendor files one request per screen size.
    let acme = issue_token(&hub.config, &["--vendor", "acme-med"]);
    let b = Base::from_instant(chrono::Utc::now());
    let ids = ["acme-2026-0101", "acme-2026-0102"];
    for (i, id) in ids.iter().enumerate() {
        let start = 60 + 240 * i as i64;
        let body = json!({"request_id": id, "system": "ehr", "people": ["v001"],
            "work_plan": "WP-2026-118", "purpose": "電子カルテ 定期パッチ適用",
            "start": b.at(start, 9), "end": b.at(start + 180, 9),
            "remote": true, "emergency": false});
        let (status, reply) = hub
            .post_raw("/api/v1/maintenance", Some(&acme), body.to_string())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
    }

    for ((width, height), id) in crate::SIZES.into_iter().zip(ids) {
        browser.set_viewport(width, height).await;
        browser
            .open(&hub.page_url("/maintenance"), "maintenance")
            .await;
        let card = format!("[data-testid='maint-request'][data-request-id='{id}']");
        browser
            .wait_js(
                "the request awaiting a decision",
                "return document.querySelector(arguments[0]) !== null",
                vec![json!(card)],
            )
            .await;
        if width == 375 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser.screenshot(&format!("awaiting-{width}")).await;

        browser
            .click(&format!("{card} [data-decision='approve']"))
            .await;
        let window = format!("[data-testid='maint-calendar'] [data-request-id='{id}']");
        browser
            .wait_js(
                "the approved window in the calendar",
                "return document.querySelector(arguments[0]) !== null",
                vec![json!(window)],
            )
            .await;
        browser
            .wait_js(
                "the request to leave the awaiting list",
                "return document.querySelector(arguments[0]) === null",
                vec![json!(card)],
            )
            .await;
        let status = browser
            .js(
                "return document.querySelector(\"[data-testid='maint-status']\").textContent",
                vec![],
            )
            .await;
        assert!(
            status.as_str().is_some_and(|s| s.contains(id)),
            "status: {status}"
        );
        if width == 375 {
            browser.assert_no_horizontal_overflow(width).await;
        }
        browser
            .js(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true",
                vec![json!(window)],
            )
            .await;
        browser.screenshot(&format!("approved-{width}")).await;

        let (_, reply) = hub
            .get_with(
                &format!("/api/v1/maintenance/{id}"),
                Some(&hub.tokens.auditor),
            )
            .await;
        assert_eq!(reply["status"], "approved", "{reply}");
        assert_eq!(reply["decisions"][0]["by"], "kanri", "{reply}");
    }
    browser.close().await;
}

/// Every section of `/maintenance` and the printable report with data in all of them, at
/// both sizes: nothing overflows at 375 px, and a screenshot of each section (and of the
/// report as printed) is saved for a person to look at.
#[tokio::test]
async fn every_section_and_the_report_fit_both_sizes() {
    let test = "maintenance_sections";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let extra = format!(
        "{VENDOR}\n[[vendors]]\nid = \"beta-sys\"\nname = \"ベータシステム株式会社\"\n\n\
         [[vendors.maintains]]\nsystem = \"vpn\"\nremote = true\n\n\
         [maintenance]\nmax_window = \"24h\"\nreport_due = \"1h\"\n"
    );
    let hub = spawn_hub(HubOptions::default().extra(&extra)).await;
    let acme = issue_token(&hub.config, &["--vendor", "acme-med"]);
    let b = Base::from_instant(chrono::Utc::now());
    let windows = [
        ("acme-2026-0201", 60, 180, true),
        ("acme-2026-0202", 1500, 1620, true),
        ("acme-2026-0190", -300, -180, true),
    ];
    for (id, start, end, remote) in windows {
        let body = json!({"request_id": id, "system": "ehr", "people": ["v001"],
            "work_plan": format!("WP-{id}"), "purpose": "電子カルテ 定期パッチ適用（夜間）",
            "start": b.at(start, 9), "end": b.at(end, 9),
            "remote": remote, "emergency": false});
        let (status, reply) = hub
            .post_raw("/api/v1/maintenance", Some(&acme), body.to_string())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
    }
    let (mut decider, session) = crate::passkeys::user(&hub, "officer", "kanri2").await;
    for id in ["acme-2026-0201", "acme-2026-0190"] {
        let (status, reply) = decider
            .decide(&hub, &session, id, "approve", "確認済み")
            .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    hub.login_ok(&login(
        "l-unapproved-1",
        &b.at(-10, 9),
        "ehr",
        "acme-maint01",
        "ward3-pc01",
        &["password", "totp"],
        "success",
    ))
    .await;
    browser.sign_in(&hub, "officer").await;

    for (width, height) in crate::SIZES {
        browser.set_viewport(width, height).await;
        browser
            .open(&hub.page_url("/maintenance"), "maintenance")
            .await;
        browser.assert_no_horizontal_overflow(width).await;
        for section in [
            "maint-awaiting",
            "maint-calendar",
            "maint-unapproved",
            "maint-findings",
            "maint-inventory",
            "maint-file-form",
        ] {
            browser
                .js(
                    "document.querySelector(`[data-testid='${arguments[0]}']`).scrollIntoView({block: 'start'}); return true",
                    vec![json!(section)],
                )
                .await;
            browser.screenshot(&format!("{section}-{width}")).await;
        }
        browser
            .open(&hub.page_url("/maintenance?lang=en"), "maintenance")
            .await;
        browser.assert_no_horizontal_overflow(width).await;
        browser.screenshot(&format!("en-{width}")).await;

        browser
            .open(&hub.page_url("/maintenance/report"), "maintenance-report")
            .await;
        browser.assert_no_horizontal_overflow(width).await;
        // The last 30 site days up to today: the window of 5 hours ago and the one in an
        // hour (which starts tomorrow when the test runs in the site's last hour), never the
        // one in 25 hours (on a later day than the one in an hour, except right after
        // midnight).
        let ids = browser
            .js(
                "return [...document.querySelectorAll(\"[data-testid='maint-report-request']\")].map(e => e.dataset.requestId)",
                vec![],
            )
            .await;
        let ids: Vec<&str> = ids
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            ids.contains(&"acme-2026-0190"),
            "the window of 5 hours ago: {ids:?}"
        );
        let today = |minutes: i64| {
            (b.instant_at(minutes * 60) + chrono::Duration::hours(9)).date_naive()
                == (b.instant_at(0) + chrono::Duration::hours(9)).date_naive()
        };
        assert_eq!(
            ids.contains(&"acme-2026-0201"),
            today(60),
            "the window in an hour is in the report when it starts today: {ids:?}"
        );
        assert_eq!(ids.contains(&"acme-2026-0202"), today(1500), "{ids:?}");
        browser.screenshot(&format!("report-{width}")).await;
    }
    // A paper request (紙の申請) through the form: stored by the API, shown at once as
    // awaiting a decision by another officer; a refused one shows the API's message.
    browser.set_viewport(1280, 800).await;
    browser
        .open(&hub.page_url("/maintenance"), "maintenance")
        .await;
    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    let local = |hours: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(hours))
            .with_timezone(&jst)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let fill = "const f = document.querySelector(\"[data-testid='maint-file-form']\");
        f.querySelector('[name=request_id]').value = arguments[0];
        f.querySelector('[name=work_plan]').value = 'WP-PAPER-1';
        f.querySelector('[name=purpose]').value = '紙の作業申請書による登録';
        f.querySelector('[name=start]').value = arguments[1];
        f.querySelector('[name=end]').value = arguments[2];
        f.querySelector('[name=people][value=v001]').checked = true;
        f.querySelector('[name=remote]').checked = true;
        return true";
    browser
        .js(
            fill,
            vec![json!("paper-2026-1"), json!(local(48)), json!(local(50))],
        )
        .await;
    browser.click("[data-testid='maint-file']").await;
    browser
        .wait_js(
            "the paper request awaiting another officer's decision",
            "return document.querySelector(\"[data-testid='maint-request'][data-request-id='paper-2026-1'][data-self-filed='true']\") !== null",
            vec![],
        )
        .await;
    let (_, filed) = hub
        .get_with(
            "/api/v1/maintenance/paper-2026-1",
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(filed["status"], "requested", "{filed}");
    assert!(
        filed["requested_by"]
            .as_str()
            .is_some_and(|b| b.starts_with("user:")),
        "{filed}"
    );
    assert_eq!(filed["start"], json!(instant_text(&local(48))), "{filed}");
    browser.screenshot("paper-filed-1280").await;
    browser
        .js(
            fill,
            vec![
                json!("paper-2026-2"),
                json!(local(48)),
                json!(local(48 + 25)),
            ],
        )
        .await;
    browser.click("[data-testid='maint-file']").await;
    let refused = browser
        .wait_js(
            "the API's refusal in the status line",
            "const s = document.querySelector(\"[data-testid='maint-status'][data-tone='error']\"); return s && s.textContent",
            vec![],
        )
        .await;
    assert!(refused.as_str().is_some_and(|t| !t.is_empty()), "{refused}");
    let (status, _) = hub
        .get_with(
            "/api/v1/maintenance/paper-2026-2",
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    browser.screenshot("paper-refused-1280").await;

    // The report as printed: Chromium's print media (DevTools, through chromedriver).
    browser
        .open(&hub.page_url("/maintenance/report"), "maintenance-report")
        .await;
    browser
        .webdriver(
            http::Method::POST,
            "goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": "print"}}),
        )
        .await;
    let hidden = browser
        .js(
            "return getComputedStyle(document.querySelector('.nav')).display === 'none' \
             && getComputedStyle(document.querySelector(\"[data-testid='maint-report-form']\")).display === 'none'",
            vec![],
        )
        .await;
    assert_eq!(
        hidden,
        json!(true),
        "print hides the navigation and the form"
    );
    browser.screenshot("report-print").await;
    browser.close().await;
}

/// A site-time `YYYY-MM-DDTHH:MM` (JST) as the hub answers it: RFC 3339 in UTC.
fn instant_text(local: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(&format!("{local}:00+09:00")).unwrap();
    t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
