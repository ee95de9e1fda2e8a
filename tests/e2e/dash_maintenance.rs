//! The dashboard's maintenance pages (`/maintenance`, `/maintenance/report`) against the
//! real hub: requests filed with a vendor token, one approved by an officer with a
//! software passkey, an approved window that passed without any work, and a maintenance
//! login no request covers. The server-rendered HTML shows them in the page's sections —
//! awaiting a decision, the calendar, unapproved logins, findings, the inventory — in
//! Japanese and with `?lang=en`, and the printable report lists them for a period.

use crate::harness::*;
use crate::passkeys::user;
use chrono::{FixedOffset, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Two vendors: acme-med maintains ehr remotely (confirmed long ago: due again) and pacs
/// on site; beta-sys maintains the VPN remotely, never confirmed.
const VENDORS: &str = r#"
[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true
route = "保守用VPN (IPsec)"
confirmed = "2020-10-01"

[[vendors.maintains]]
system = "pacs"
remote = false
route = "院内 サーバ室"

[[vendors]]
id = "beta-sys"
name = "ベータシステム株式会社"

[[vendors.maintains]]
system = "vpn"
remote = true

[[people]]
id = "v001"
name = "保守 太郎"
vendor = "acme-med"
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "acme-maint01", pacs = "acme-pacs01" }

[maintenance]
max_window = "24h"
report_due = "1h"
"#;

fn request(id: &str, system: &str, start: &str, end: &str, remote: bool) -> Value {
    json!({"request_id": id, "system": system, "people": ["v001"],
        "work_plan": format!("WP-{id}"), "purpose": "定期パッチ適用",
        "start": start, "end": end, "remote": remote, "emergency": false})
}

async fn page(hub: &Hub, path: &str) -> String {
    let res = hub.read_get(hub.url(path)).await.expect("GET page");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.text().await.expect("html")
}

/// The part of `html` from the section `testid` to the next section.
fn section<'a>(html: &'a str, testid: &str) -> &'a str {
    let start = html
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no section {testid} in:\n{html}"));
    let rest = &html[start..];
    let end = rest[1..].find("<section").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_pages_show_requests_logins_findings_and_inventory() {
    let hub = spawn_hub(HubOptions::default().extra(VENDORS)).await;
    let acme = issue_token(&hub.config, &["--vendor", "acme-med"]);
    let b = Base::from_instant(Utc::now());
    // Upcoming remote work, to be approved; upcoming on-site work awaiting a decision;
    // remote work approved for a window that ended three hours ago with no login.
    let filings = [
        request("acme-0042", "ehr", &b.at(60, 9), &b.at(180, 9), true),
        request("acme-0043", "pacs", &b.at(120, 9), &b.at(240, 9), false),
        request("acme-0030", "ehr", &b.at(-300, 9), &b.at(-180, 9), true),
        request("acme-0031", "ehr", &b.at(-120, 9), &b.at(-60, 9), true),
    ];
    for body in &filings {
        let (status, reply) = hub
            .post_raw("/api/v1/maintenance", Some(&acme), body.to_string())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
    }
    let (mut officer, session) = user(&hub, "officer", "kanri").await;
    for id in ["acme-0042", "acme-0030", "acme-0031"] {
        let (status, reply) = officer
            .decide(&hub, &session, id, "approve", "作業計画書を確認")
            .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
    // The vendor reports the work of acme-0031: a report for the officer to confirm.
    let (status, reply) = hub
        .post_raw(
            "/api/v1/maintenance/acme-0031/report",
            Some(&acme),
            json!({"summary": "パッチ適用完了、再起動なし"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // The vendor's engineer logs in to the EHR ten minutes ago: no request covers it.
    let unapproved = login(
        "l-maint-unapproved",
        &b.at(-10, 9),
        "ehr",
        "acme-maint01",
        "ward3-pc01",
        &["password", "totp"],
        "success",
    );
    let reply = hub.login_ok(&unapproved).await;
    assert_eq!(reply["maintenance"]["status"], "unapproved", "{reply}");

    // As the API says it: the finding of the missed window.
    let (_, missed) = hub
        .get_with("/api/v1/maintenance/acme-0030", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(
        missed["findings"],
        json!(["not_performed", "report_overdue"]),
        "{missed}"
    );

    // The page, read with the auditor's read token: no decisions offered.
    let html = page(&hub, "/maintenance").await;
    let order: Vec<usize> = [
        "maint-awaiting",
        "maint-calendar",
        "maint-unapproved",
        "maint-findings",
        "maint-inventory",
    ]
    .iter()
    .map(|t| {
        html.find(&format!("data-testid=\"{t}\""))
            .unwrap_or_else(|| panic!("no {t} in:\n{html}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
    assert!(
        !html.contains("data-passkey=\"decide\""),
        "auditors do not decide"
    );

    let awaiting = section(&html, "maint-awaiting");
    assert!(
        awaiting.contains("data-request-id=\"acme-0043\""),
        "{awaiting}"
    );
    assert!(
        !awaiting.contains("data-request-id=\"acme-0042\""),
        "{awaiting}"
    );
    for needle in [
        "承認待ち",
        "WP-acme-0043",
        "定期パッチ適用",
        "オンサイト",
        "アクメ医療システム株式会社 (事業者)",
        "保守 太郎 (v001)",
    ] {
        assert!(
            awaiting.contains(needle),
            "missing {needle:?} in:\n{awaiting}"
        );
    }

    let jst = FixedOffset::east_opt(9 * 3600).expect("JST");
    let day = b
        .instant_at(3600)
        .with_timezone(&jst)
        .format("%Y-%m-%d")
        .to_string();
    let calendar = section(&html, "maint-calendar");
    assert!(
        calendar.contains(&format!("data-day=\"{day}\"")),
        "{calendar}"
    );
    assert!(
        calendar.contains("data-request-id=\"acme-0042\""),
        "{calendar}"
    );
    assert!(
        calendar.contains("data-request-id=\"acme-0030\""),
        "{calendar}"
    );
    assert!(
        !calendar.contains("data-request-id=\"acme-0043\""),
        "{calendar}"
    );

    let logins = section(&html, "maint-unapproved");
    for needle in [
        "data-event-id=\"l-maint-unapproved\"",
        "data-flags=\"maintenance_unapproved\"",
        "acme-maint01",
        "ward3-pc01",
        "未承認の保守",
    ] {
        assert!(logins.contains(needle), "missing {needle:?} in:\n{logins}");
    }

    let findings = section(&html, "maint-findings");
    for needle in [
        "data-testid=\"maint-finding-vendor\" data-id=\"acme-med\"",
        "data-testid=\"maint-finding-system\" data-id=\"ehr\"",
        "data-request-id=\"acme-0030\" data-findings=\"not_performed report_overdue\"",
        "未実施",
        "報告書未提出",
    ] {
        assert!(
            findings.contains(needle),
            "missing {needle:?} in:\n{findings}"
        );
    }

    let inventory = section(&html, "maint-inventory");
    for needle in [
        "data-vendor=\"acme-med\" data-system=\"ehr\" data-due=\"confirmation_stale\"",
        "data-vendor=\"acme-med\" data-system=\"pacs\" data-due=\"\"",
        "data-vendor=\"beta-sys\" data-system=\"vpn\" data-due=\"confirmation_missing\"",
        "保守用VPN (IPsec)",
        "2020-10-01",
        "要確認",
    ] {
        assert!(
            inventory.contains(needle),
            "missing {needle:?} in:\n{inventory}"
        );
    }

    // English.
    let en = page(&hub, "/maintenance?lang=en").await;
    for needle in [
        "Awaiting a decision",
        "Approved maintenance windows",
        "Unapproved maintenance logins",
        "Findings",
        "Not performed",
        "Report overdue",
        "Maintenance inventory",
        "To confirm (never confirmed)",
        "On-site",
    ] {
        assert!(en.contains(needle), "missing {needle:?} in:\n{en}");
    }

    // The officer sees the decisions and the paper form, with the session's CSRF token.
    let res = session.get(&hub, "/maintenance").await;
    assert_eq!(res.status(), StatusCode::OK);
    let mine = res.text().await.expect("html");
    let awaiting = section(&mine, "maint-awaiting");
    assert!(awaiting.contains("data-decision=\"approve\""), "{awaiting}");
    assert!(
        awaiting.contains(&format!("data-csrf=\"{}\"", session.csrf)),
        "{awaiting}"
    );
    assert!(section(&mine, "maint-calendar").contains("data-decision=\"cancel\""));
    let reports = &awaiting[awaiting
        .find("data-testid=\"maint-reports\"")
        .unwrap_or_else(|| panic!("no reports to confirm in:\n{awaiting}"))..];
    for needle in [
        "data-request-id=\"acme-0031\"",
        "パッチ適用完了、再起動なし",
        "data-decision=\"confirm\"",
        "未確認",
    ] {
        assert!(
            reports.contains(needle),
            "missing {needle:?} in:\n{reports}"
        );
    }
    // Confirmed (企画管理者確認) by another officer: no longer to confirm.
    let (mut other, other_session) = user(&hub, "officer", "kanri2").await;
    let (status, reply) = other
        .decide(&hub, &other_session, "acme-0031", "confirm", "")
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let after = page(&hub, "/maintenance").await;
    assert!(!after.contains("data-testid=\"maint-reports\""), "{after}");
    assert!(mine.contains("data-testid=\"maint-file-form\""), "{mine}");

    // The printable report for the days around now.
    let from = (b.instant_at(-86400))
        .with_timezone(&jst)
        .format("%Y-%m-%d")
        .to_string();
    let to = (b.instant_at(86400))
        .with_timezone(&jst)
        .format("%Y-%m-%d")
        .to_string();
    let report = page(&hub, &format!("/maintenance/report?from={from}&to={to}")).await;
    // The evidence head the report was made from (CONTRACT §13): `SEQ:HASH`.
    let at = report
        .find("data-testid=\"maint-report-head\"")
        .expect("the head");
    let open = at + report[at..].find('>').expect("tag end") + 1;
    let head = &report[open..open + report[open..].find('<').expect("text end")];
    let (seq, hash) = head
        .split_once(':')
        .unwrap_or_else(|| panic!("head {head:?}"));
    assert!(
        seq.parse::<i64>().is_ok_and(|n| n > 0) && hash.len() == 64,
        "{head}"
    );
    for needle in [
        "保守作業報告書",
        "テスト総合病院",
        &format!("data-from=\"{from}\""),
        &format!("data-to=\"{to}\""),
        "data-testid=\"maint-report-request\" data-request-id=\"acme-0030\"",
        "data-testid=\"maint-report-request\" data-request-id=\"acme-0042\"",
        "data-testid=\"maint-report-request\" data-request-id=\"acme-0043\"",
        "パッチ適用完了、再起動なし",
        "確認 kanri2",
        "承認 kanri",
        "作業計画書を確認",
        "data-event-id=\"l-maint-unapproved\"",
        "未実施",
        "作成日時",
    ] {
        assert!(report.contains(needle), "missing {needle:?} in:\n{report}");
    }
    let report_en = page(
        &hub,
        &format!("/maintenance/report?from={from}&to={to}&lang=en"),
    )
    .await;
    assert!(report_en.contains("Maintenance report"), "{report_en}");
    assert!(report_en.contains("Approve kanri"), "{report_en}");
    let bad = page(&hub, "/maintenance/report?from=2026-13-01").await;
    assert!(bad.contains("data-testid=\"maint-report-error\""), "{bad}");
}
