//! The dashboard's account review page (`/accounts`) against the real hub: the system
//! selector with 要棚卸し, the account list with its findings and the finding filter, the
//! CSV download, the review form (prefilled `keep` only where nothing is found) for an
//! officer and not for an auditor; after a review confirmed with a software passkey, the
//! last review (date, by whom), what it still asks (台帳に未反映 with a link to the
//! inventory, 削除指示後のログイン) and the past reviews — in Japanese and with `?lang=en`.

use crate::harness::*;
use crate::passkeys::{post_json, user};
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PEOPLE: &str = r#"
[[people]]
id = "p0009"
name = "退職 九郎"
until = "2020-03-31"
credentials = ["card:09090909"]
accounts = { ehr = "gone09" }

[accounts]
dormant_after = "1d"
"#;

/// The part of `html` from the element `testid` to the next section.
fn section<'a>(html: &'a str, testid: &str) -> &'a str {
    let start = html
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no {testid} in:\n{html}"));
    let rest = &html[start..];
    let end = rest[1..].find("<section").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

async fn html(session: &crate::passkeys::Session, hub: &Hub, path: &str) -> String {
    let res = session.get(hub, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.expect("html")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_page_lists_filters_and_confirms_a_review() {
    let hub = spawn_hub(HubOptions::default().extra(PEOPLE)).await;
    let base = Base::new();
    for (id, account) in [("d-1", "nurse01"), ("d-2", "gone09"), ("d-3", "shared01")] {
        hub.login_ok(&ehr_login(
            id,
            &base.at(23 * 60, 9),
            account,
            "ward3-pc01",
            &["password"],
        ))
        .await;
    }
    let (mut officer, session) = user(&hub, "officer", &unique("kanri")).await;

    let page = html(&session, &hub, "/accounts").await;
    // The first system is shown; never reviewed: 要棚卸し.
    let systems = section(&page, "acc-systems");
    assert!(systems.contains("data-system=\"ehr\""), "{systems}");
    let state = section(&page, "acc-review-state");
    assert!(state.contains("data-overdue=\"true\""), "{state}");
    assert!(state.contains("要棚卸し"), "{state}");
    assert!(state.contains("まだ棚卸しが確定されていません"), "{state}");
    let list = section(&page, "acc-list");
    for (account, findings) in [
        ("gone09", "leaver"),
        ("shared01", "unmapped"),
        ("doc03", "dormant"),
        ("nurse01", ""),
    ] {
        assert!(
            list.contains(&format!(
                "data-account=\"{account}\" data-findings=\"{findings}\""
            )),
            "{account}: {list}"
        );
    }
    assert!(list.contains("退職者") && list.contains("休眠") && list.contains("未登録"));
    assert!(list.contains("/accounts/export.csv?system=ehr"), "{list}");
    // The form: keep prefilled for nurse01 only; the confirm button with its CSRF token.
    let form = section(&page, "acc-review-form");
    let row = |account: &str| -> &str {
        let at = form
            .find(&format!("data-account=\"{account}\""))
            .unwrap_or_else(|| panic!("no mark for {account}"));
        let rest = &form[at..];
        &rest[..rest.find("</tr>").unwrap()]
    };
    assert!(
        row("nurse01").contains("value=\"keep\" selected"),
        "{}",
        row("nurse01")
    );
    assert!(
        !row("gone09").contains("value=\"keep\" selected"),
        "{}",
        row("gone09")
    );
    assert!(form.contains("data-passkey=\"review\""), "{form}");
    assert!(form.contains(&format!("data-csrf=\"{}\"", session.csrf)));
    assert!(form.contains("棚卸しを確定（パスキー）"));

    // Filtered: only the leaver.
    let leavers = html(&session, &hub, "/accounts?system=ehr&finding=leaver").await;
    let list = section(&leavers, "acc-list");
    assert!(list.contains("data-account=\"gone09\""), "{list}");
    assert!(
        !list.contains("data-account=\"nurse01\" data-findings"),
        "{list}"
    );

    // The CSV.
    let res = session.get(&hub, "/accounts/export.csv?system=ehr").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    assert!(
        csv.contains("account,person,person_name,person_status,last_login,logins_90d,findings"),
        "{csv}"
    );
    assert!(csv.contains("gone09,p0009,退職 九郎,left,"), "{csv}");
    assert!(
        csv.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("# evidence head (証跡チェーンの先頭) ")),
        "the CSV ends with the evidence head: {csv}"
    );

    // An auditor reads the page but gets no form.
    let (_, auditor) = user(&hub, "auditor", &unique("kansa")).await;
    let page = html(&auditor, &hub, "/accounts?system=ehr").await;
    assert!(!page.contains("data-passkey=\"review\""));
    assert!(page.contains("棚卸しの確定はセキュリティ責任者または管理者が行います"));

    // A review, confirmed with the officer's passkey.
    let (_, body) = hub
        .get_with("/api/v1/accounts?system=ehr", Some(&hub.tokens.auditor))
        .await;
    let marks: Vec<Value> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r["account"].as_str().unwrap() {
            "gone09" => json!({"account": "gone09", "decision": "remove"}),
            "shared01" => json!({"account": "shared01", "decision": "map", "person": "p0005", "note": "共用IDを個人に"}),
            a => json!({"account": a, "decision": "keep"}),
        })
        .collect();
    let (status, start, _) = post_json(
        &hub,
        "/api/v1/accounts/reviews/start",
        Some(&session),
        &json!({"system": "ehr", "marks": marks}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let credential = officer.assertion(&hub, &start["options"]);
    let (status, done, _) = post_json(
        &hub,
        "/api/v1/accounts/reviews/finish",
        Some(&session),
        &json!({"ceremony": start["ceremony"], "credential": credential, "system": "ehr", "marks": marks}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    hub.login_ok(&ehr_login(
        "d-4",
        &now,
        "gone09",
        "ward3-pc01",
        &["password"],
    ))
    .await;

    let page = html(&session, &hub, "/accounts?system=ehr").await;
    let state = section(&page, "acc-review-state");
    assert!(state.contains("data-overdue=\"false\""), "{state}");
    assert!(
        state.contains(&format!("確定者: {}", officer.name)),
        "{state}"
    );
    let follow = section(&page, "acc-follow-up");
    assert!(
        follow.contains("data-account=\"shared01\" data-follow-up=\"not_in_inventory\""),
        "{follow}"
    );
    assert!(
        follow.contains("台帳に未反映") && follow.contains("href=\"/inventory\""),
        "{follow}"
    );
    assert!(
        follow.contains("data-account=\"gone09\" data-follow-up=\"login_after_removal\""),
        "{follow}"
    );
    assert!(follow.contains("削除指示後のログイン"), "{follow}");
    let past = section(&page, "acc-reviews");
    assert!(
        past.contains(&format!("data-review-id=\"{}\"", done["id"])),
        "{past}"
    );
    assert!(past.contains("共用IDを個人に"), "{past}");

    // In English.
    let page = html(&session, &hub, "/accounts?system=ehr&lang=en").await;
    assert!(page.contains("Confirm the review (passkey)"));
    assert!(section(&page, "acc-follow-up").contains("Login after removal was ordered"));
    assert!(section(&page, "acc-list").contains("Leaver"));
}
