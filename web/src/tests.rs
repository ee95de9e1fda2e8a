//! Render tests (`ssr` feature): the dashboard router, driven with `oneshot` and a fake
//! [`DashboardSource`], must serve complete server-rendered HTML, the server function
//! and the static files.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

use crate::{dashboard_router, DoorRow, LoginRow, Overview, SystemRow};

struct Fake(Result<Overview, crate::api::SourceError>);

#[async_trait::async_trait]
impl crate::OverviewSource for Fake {
    async fn overview(&self) -> Result<Overview, crate::api::SourceError> {
        self.0.clone()
    }
}
#[async_trait::async_trait]
impl crate::pages::system::SystemSource for Fake {
    async fn system(
        &self,
        _: String,
        _: Option<String>,
        _: Option<String>,
    ) -> Result<crate::pages::system::SystemLookup, crate::api::SourceError> {
        Ok(crate::pages::system::SystemLookup::NotFound)
    }
}
#[async_trait::async_trait]
impl crate::pages::evidence::EvidenceSource for Fake {
    async fn login_evidence(
        &self,
        _: String,
    ) -> Result<Option<crate::pages::evidence::LoginEvidence>, crate::api::SourceError> {
        Ok(None)
    }
}
#[async_trait::async_trait]
impl crate::pages::rooms::RoomsSource for Fake {
    async fn rooms(&self) -> Result<crate::pages::rooms::RoomsView, crate::api::SourceError> {
        Err("fake".into())
    }
}
#[async_trait::async_trait]
impl crate::pages::inventory::InventorySource for Fake {
    async fn inventory(
        &self,
        _: Option<String>,
    ) -> Result<crate::pages::inventory::InventoryView, crate::api::SourceError> {
        Err("fake".into())
    }
}
#[async_trait::async_trait]
impl crate::pages::dead_letters::DeadLettersSource for Fake {
    async fn dead_letters(
        &self,
        _: Option<String>,
    ) -> Result<Vec<crate::pages::dead_letters::DeadLetterRow>, crate::api::SourceError> {
        Ok(Vec::new())
    }
}
#[async_trait::async_trait]
impl crate::pages::export::ExportSource for Fake {
    async fn export(
        &self,
        _: Option<String>,
        _: Option<String>,
        _: monban_core::SiteOffset,
        _: usize,
    ) -> Result<crate::pages::export::ExportData, crate::api::SourceError> {
        Err(crate::api::SourceError::Unavailable("fake".into()))
    }
}
// The account pages' sources keep their defaults ("not available").
impl crate::pages::account::FlashSource for Fake {}
impl crate::pages::account::AccountSource for Fake {}
impl crate::pages::enroll::EnrollSource for Fake {}
impl crate::pages::users::UsersSource for Fake {}
impl crate::pages::tokens::TokensSource for Fake {}
impl crate::pages::audit::AuditSource for Fake {}
impl crate::pages::people::PeopleSource for Fake {}
impl crate::pages::step_up::StepUpSource for Fake {}
impl crate::pages::inspection::InspectionSource for Fake {}
impl crate::pages::accounts::AccountsSource for Fake {}
impl crate::pages::imports::ImportsSource for Fake {}
#[async_trait::async_trait]
impl crate::pages::maintenance::MaintenanceSource for Fake {
    async fn maintenance(
        &self,
    ) -> Result<crate::pages::maintenance::MaintenanceView, crate::api::SourceError> {
        Ok(maintenance_sample())
    }
    async fn maintenance_report(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<crate::pages::maintenance::MaintenanceReport, crate::api::SourceError> {
        use crate::pages::maintenance::MaintenanceReport;
        if from.as_deref() == Some("bad") {
            return Err(crate::api::SourceError::Invalid("from: not a date".into()));
        }
        let v = maintenance_sample();
        let mut requests = v.calendar.clone();
        requests[0].login_lines = v.unapproved.clone();
        Ok(MaintenanceReport {
            site_name: v.site_name,
            generated_at: v.generated_at,
            offset: v.offset,
            from: from.unwrap_or_else(|| "2026-12-01".into()),
            to: to.unwrap_or_else(|| "2026-12-31".into()),
            requests,
            unapproved: v.unapproved,
            findings_by_vendor: v.findings_by_vendor,
            findings_by_system: v.findings_by_system,
            evidence_head: "42:ab".into(),
        })
    }
}

/// The maintenance page's data: one vendor request awaiting a decision, one paper
/// request filed by `kanri`, an approved window, an unapproved login, a finding and a
/// remote system whose confirmation is due.
fn maintenance_sample() -> crate::pages::maintenance::MaintenanceView {
    use crate::pages::maintenance::*;
    let request = |id: &str, status: &str, by: &str| RequestRow {
        id: id.into(),
        vendor: "acme-med".into(),
        vendor_name: "アクメ医療システム株式会社".into(),
        system: "ehr".into(),
        system_name: "電子カルテ".into(),
        people: vec![PersonRef {
            id: "v001".into(),
            name: "保守 太郎".into(),
        }],
        work_plan: "WP-2026-118".into(),
        purpose: "定期パッチ適用".into(),
        start: "2026-12-10T11:00:00Z".into(),
        end: "2026-12-10T14:00:00Z".into(),
        day: "2026-12-10".into(),
        remote: true,
        emergency: false,
        status: status.into(),
        requested_by: by.into(),
        requested_at: "2026-12-01T00:00:00Z".into(),
        decisions: Vec::new(),
        logins: Vec::new(),
        login_lines: Vec::new(),
        entries: Vec::new(),
        supervised: None,
        report: None,
        findings: Vec::new(),
        cancellable: false,
        self_filed: false,
    };
    let mut approved = request("acme-0041", "approved", "vendor:acme-med");
    approved.decisions.push(DecisionRow {
        decision: "approve".into(),
        by: "officer2".into(),
        at: "2026-12-02T00:00:00Z".into(),
        note: "OK".into(),
    });
    approved.cancellable = true;
    let mut late = request("acme-0030", "approved", "vendor:acme-med");
    late.findings = vec!["not_performed".into(), "report_overdue".into()];
    MaintenanceView {
        site_name: "東京総合病院".into(),
        generated_at: "2026-12-06T01:00:00Z".into(),
        offset: 9 * 3600,
        awaiting: vec![
            request("acme-0042", "requested", "vendor:acme-med"),
            request("paper-7", "requested", "user:kanri"),
        ],
        reports: Vec::new(),
        calendar: vec![approved],
        unapproved: vec![LoginLine {
            event_id: "l-unapproved".into(),
            ts: "2026-12-05T12:00:00Z".into(),
            system: "ehr".into(),
            system_name: "電子カルテ".into(),
            account: "acme-maint01".into(),
            person: "v001".into(),
            person_name: "保守 太郎".into(),
            vendor: "acme-med".into(),
            vendor_name: "アクメ医療システム株式会社".into(),
            terminal: "srv-pc01".into(),
            room: "サーバ室".into(),
            verdict: "direct_2fa".into(),
            flags: vec!["maintenance_unapproved".into()],
            coverage: "unapproved".into(),
        }],
        findings_by_vendor: vec![FindingCount {
            id: "acme-med".into(),
            name: "アクメ医療システム株式会社".into(),
            counts: vec![1, 0, 1, 0],
        }],
        findings_by_system: vec![FindingCount {
            id: "ehr".into(),
            name: "電子カルテ".into(),
            counts: vec![1, 0, 1, 0],
        }],
        findings: vec![late],
        inventory: vec![MaintainedRow {
            vendor: "acme-med".into(),
            vendor_name: "アクメ医療システム株式会社".into(),
            system: "ehr".into(),
            system_name: "電子カルテ".into(),
            remote: true,
            route: Some("保守用VPN (IPsec)".into()),
            confirmed: Some("2025-10-01".into()),
            due: Some("confirmation_stale".into()),
        }],
        vendors: vec![VendorOption {
            id: "acme-med".into(),
            name: "アクメ医療システム株式会社".into(),
            systems: vec![PersonRef {
                id: "ehr".into(),
                name: "電子カルテ".into(),
            }],
            staff: vec![PersonRef {
                id: "v001".into(),
                name: "保守 太郎".into(),
            }],
        }],
        can_decide: false,
        csrf: String::new(),
    }
}

fn sample() -> Overview {
    Overview {
        site_name: "東京総合病院".into(),
        generated_at: "2026-11-21T00:10:00Z".into(),
        from: "2026-10-22T00:00:00Z".into(),
        to: "2026-11-21T00:10:00Z".into(),
        systems: vec![
            SystemRow {
                id: "ehr".into(),
                name: "電子カルテ".into(),
                category: "ehr".into(),
                native_mfa: false,
                status: "combined".into(),
                coverage: 1.0,
                successful: 10,
                direct_2fa: 2,
                combined_measures: 8,
                not_met: 0,
                failed: 1,
            },
            SystemRow {
                id: "vpn".into(),
                name: "リモート保守VPN".into(),
                category: "maintenance".into(),
                native_mfa: true,
                status: "gap".into(),
                coverage: 0.875,
                successful: 8,
                direct_2fa: 7,
                combined_measures: 0,
                not_met: 1,
                failed: 0,
            },
        ],
        latest_logins: vec![
            LoginRow {
                event_id: "l-000042".into(),
                ts: "2026-11-21T00:05:00Z".into(),
                system: "ehr".into(),
                system_name: "電子カルテ".into(),
                account: "nurse01".into(),
                person: Some("看護師 一郎".into()),
                terminal: "ward3-pc01".into(),
                room: Some("3F ナースステーション".into()),
                factors: vec!["password".into()],
                outcome: "success".into(),
                verdict: "combined_measures".into(),
                reasons: vec![],
                is_final: true,
            },
            LoginRow {
                event_id: "l-000043".into(),
                ts: "2026-11-21T00:06:00Z".into(),
                system: "vpn".into(),
                system_name: "リモート保守VPN".into(),
                account: "vendor9".into(),
                person: None,
                terminal: "lobby-kiosk".into(),
                room: None,
                factors: vec!["password".into()],
                outcome: "success".into(),
                verdict: "not_met".into(),
                reasons: vec!["unknown_terminal".into(), "unmapped_account".into()],
                is_final: false,
            },
        ],
        doors: vec![
            DoorRow {
                id: "ward3-main".into(),
                name: "3F 正面".into(),
                room: "3F ナースステーション".into(),
                source: "mqtt".into(),
                state: "online".into(),
                last_heard_at: Some("2026-11-21T00:04:00Z".into()),
                last_event_at: Some("2026-11-21T00:04:01Z".into()),
                connector: Some("connected".into()),
                ..Default::default()
            },
            DoorRow {
                id: "server-room-main".into(),
                name: "サーバ室".into(),
                room: "サーバ室".into(),
                source: "modbus".into(),
                state: "offline".into(),
                offline_reason: Some("heartbeat_timeout".into()),
                heartbeat_timeout: Some("3m".into()),
                overruns: 2,
                dead_letters: 1,
                connector: Some("disconnected".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

async fn get(router: axum::Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let request = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("a valid request");
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let cache = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a readable body");
    (status, cache, String::from_utf8_lossy(&body).into_owned())
}

fn router_with(
    source: Result<Overview, crate::api::SourceError>,
    site_root: &std::path::Path,
) -> axum::Router {
    dashboard_router(Arc::new(Fake(source)), site_root.to_path_buf())
}

#[tokio::test]
async fn renders_the_overview_on_the_server() {
    let site = tempfile::tempdir().expect("a temp dir");
    let (status, _, html) = get(router_with(Ok(sample()), site.path()), "/").await;
    assert_eq!(status, StatusCode::OK);

    for needle in [
        "<html lang=\"ja\"",
        "門番",
        "二要素認証 コンプライアンス",
        "東京総合病院",
        "data-testid=\"overview\"",
        "概要",
        "最新のログイン",
        "最終更新",
        // systems
        "data-testid=\"system-row\"",
        "data-system-id=\"ehr\"",
        "data-status=\"combined\"",
        "data-system-id=\"vpn\"",
        "data-status=\"gap\"",
        // doors
        "扉と接続",
        "data-door-id=\"ward3-main\" data-state=\"online\"",
        "data-door-id=\"server-room-main\" data-state=\"offline\"",
        "ハートビート途絶",
        "ハートビート監視 3m",
        "Modbus TCP",
        "複合対策で充足",
        "未達",
        "電子カルテ",
        "保守",
        "なし",
        "あり",
        ">100.0%<",
        ">87.5%<",
        "data-testid=\"count-successful\"",
        "data-testid=\"count-direct\"",
        "data-testid=\"count-combined\"",
        "data-testid=\"count-not-met\"",
        "data-testid=\"count-failed\"",
        // logins
        "data-testid=\"login-row\"",
        "data-event-id=\"l-000042\"",
        "data-verdict=\"combined_measures\"",
        "data-event-id=\"l-000043\"",
        "data-verdict=\"not_met\"",
        "2026-11-21 09:05:00",
        "2026-11-21 09:10:00",
        "看護師 一郎",
        "3F ナースステーション",
        "パスワード",
        "端末が台帳にない",
        "unknown_terminal",
        "アカウントが職員に紐付いていない",
        "確定",
        "暫定",
        "/pkg/monban.css",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in:\n{html}");
    }
    assert_eq!(html.matches("data-testid=\"system-row\"").count(), 2);
    assert_eq!(html.matches("data-testid=\"login-row\"").count(), 2);
    // Server-rendered, complete: no loading placeholder, not marked hydrated yet.
    assert!(!html.contains("読み込み中"), "fallback rendered:\n{html}");
    assert!(!html.contains("data-hydrated"));
    // No bundle in the site root: no script pointing at a missing file.
    assert!(
        !html.contains("monban_web.js"),
        "hydration script without bundle"
    );
}

#[tokio::test]
async fn includes_hydration_scripts_when_the_bundle_exists() {
    let site = tempfile::tempdir().expect("a temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    std::fs::write(pkg.join("monban_web.js"), "export default function(){}").expect("js");
    std::fs::write(pkg.join("monban.css"), "body{}").expect("css");

    let router = router_with(Ok(sample()), site.path());
    let (_, _, html) = get(router.clone(), "/").await;
    assert!(html.contains("/pkg/monban_web.js"), "{html}");
    assert!(html.contains("/pkg/monban_web_bg.wasm"), "{html}");

    let (status, cache, css) = get(router.clone(), "/pkg/monban.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(css, "body{}");
    assert_eq!(cache.as_deref(), Some("no-cache"));

    let (status, _, _) = get(router, "/pkg/nothing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn serves_the_server_function() {
    let site = tempfile::tempdir().expect("a temp dir");
    let (status, cache, body) =
        get(router_with(Ok(sample()), site.path()), "/api/dash/overview").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    let overview: Overview = serde_json::from_str(&body).expect("an Overview as JSON");
    assert_eq!(overview, sample());
}

#[tokio::test]
async fn a_failing_source_renders_an_error_not_a_panic() {
    let site = tempfile::tempdir().expect("a temp dir");
    let (status, _, html) = get(
        router_with(Err("database is locked".into()), site.path()),
        "/",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"error\""), "{html}");
    assert!(html.contains("データを取得できませんでした"), "{html}");
    assert!(
        !html.contains("database is locked"),
        "internal error leaked"
    );
}

#[tokio::test]
async fn text_from_login_events_is_escaped() {
    // Account and terminal names come from other vendors' systems: untrusted.
    let mut overview = sample();
    overview.latest_logins[1].account = "<script>alert(1)</script>".into();
    overview.latest_logins[1].terminal = "\"><img src=x onerror=alert(1)>".into();
    let site = tempfile::tempdir().expect("a temp dir");
    let (_, _, html) = get(router_with(Ok(overview), site.path()), "/").await;
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

/// GET `uri` as a signed-in user of `role` named `name` (what the hub's gate puts into
/// the request's extensions).
async fn get_as(router: axum::Router, uri: &str, role: crate::auth::Role, name: &str) -> String {
    let request = Request::builder()
        .uri(uri)
        .extension(crate::auth::Reader { role })
        .extension(crate::auth::Viewer {
            user_id: format!("u-{name}"),
            name: name.into(),
            role,
            csrf: "csrf-token-1".into(),
        })
        .body(Body::empty())
        .expect("a valid request");
    let response = router.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a readable body");
    String::from_utf8_lossy(&body).into_owned()
}

#[tokio::test]
async fn renders_the_maintenance_page_for_an_officer() {
    use crate::auth::Role;
    let site = tempfile::tempdir().expect("a temp dir");
    let router = router_with(Ok(sample()), site.path());
    let html = get_as(router.clone(), "/maintenance", Role::Officer, "kanri").await;
    for needle in [
        "data-testid=\"maintenance\"",
        "承認待ち",
        "data-request-id=\"acme-0042\"",
        "作業計画書",
        "WP-2026-118",
        "定期パッチ適用",
        "2026-12-10 20:00–23:00 JST",
        "リモート",
        "data-passkey=\"decide\"",
        "data-decision=\"approve\"",
        "data-decision=\"deny\"",
        "data-csrf=\"csrf-token-1\"",
        ">承認<",
        ">却下<",
        // The paper request kanri filed: another officer decides it.
        "data-self-filed=\"true\"",
        "data-testid=\"maint-self-filed\"",
        "kanri (紙の申請)",
        // The calendar, by day, with 取消 while the window has not ended.
        "承認済みの作業予定",
        "data-day=\"2026-12-10\"",
        "data-decision=\"cancel\"",
        ">取消<",
        // Unapproved logins, findings, inventory.
        "未承認の保守ログイン",
        "data-event-id=\"l-unapproved\"",
        "未承認の保守",
        "指摘事項",
        "未実施",
        "立会いなし",
        "報告書未提出",
        "緊急・未承認",
        "data-findings=\"not_performed report_overdue\"",
        "保守の棚卸し",
        "保守用VPN (IPsec)",
        "data-due=\"confirmation_stale\"",
        "要確認（確認から1年超）",
        // The paper form for officers.
        "紙の申請を登録",
        "data-maint-form",
        "data-offset=\"+09:00\"",
        "href=\"/maintenance\"",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in:\n{html}");
    }
    assert_eq!(html.matches("data-testid=\"maint-request\"").count(), 2);
    // Decide buttons only on the vendor's request (2) and the approved window (1).
    assert_eq!(html.matches("data-passkey=\"decide\"").count(), 3);

    let en = get_as(router, "/maintenance?lang=en", Role::Officer, "kanri").await;
    for needle in [
        "Awaiting a decision",
        ">Approve<",
        ">Deny<",
        "Approved maintenance windows",
        "Unapproved maintenance logins",
        "Unapproved maintenance",
        "Not performed",
        "Report overdue",
        "Maintenance inventory",
        "To confirm (over a year ago)",
        "Register a paper request",
        "Remote",
    ] {
        assert!(en.contains(needle), "missing {needle:?} in:\n{en}");
    }
}

#[tokio::test]
async fn an_auditor_reads_the_maintenance_page_without_decisions() {
    use crate::auth::Role;
    let site = tempfile::tempdir().expect("a temp dir");
    let router = router_with(Ok(sample()), site.path());
    let html = get_as(router.clone(), "/maintenance", Role::Auditor, "kansa").await;
    assert!(html.contains("data-request-id=\"acme-0042\""), "{html}");
    assert!(!html.contains("data-passkey=\"decide\""), "{html}");
    assert!(!html.contains("data-maint-form"), "{html}");
    assert!(!html.contains("data-csrf=\"csrf-token-1\""), "{html}");
    // A role without the permission gets no data.
    let request = Request::builder()
        .uri("/api/dash/fragment?page=maintenance&query=&en=false")
        .extension(crate::auth::Reader {
            role: Role::Facilities,
        })
        .body(Body::empty())
        .expect("a valid request");
    let response = router.oneshot(request).await.expect("infallible");
    assert_ne!(response.status(), StatusCode::OK);
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a readable body");
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("Forbidden"), "{body}");
    assert!(!body.contains("acme-0042"), "{body}");
}

#[tokio::test]
async fn renders_the_printable_maintenance_report() {
    use crate::auth::Role;
    let site = tempfile::tempdir().expect("a temp dir");
    let router = router_with(Ok(sample()), site.path());
    let html = get_as(
        router.clone(),
        "/maintenance/report?from=2026-12-01&to=2026-12-31",
        Role::Auditor,
        "kansa",
    )
    .await;
    for needle in [
        "data-testid=\"maintenance-report\"",
        "保守作業報告書",
        "東京総合病院",
        "data-from=\"2026-12-01\"",
        "data-to=\"2026-12-31\"",
        "2026-12-01 〜 2026-12-31 (JST)",
        "作成日時",
        "2026-12-06 10:00:00 JST",
        "data-testid=\"maint-report-request\"",
        "data-request-id=\"acme-0041\"",
        "承認 officer2 2026-12-02 09:00（OK）",
        "data-testid=\"maint-report-login\"",
        "誰が・いつ・どこから・何をしたか",
        "data-print",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in:\n{html}");
    }
    let bad = get_as(
        router,
        "/maintenance/report?from=bad",
        Role::Auditor,
        "kansa",
    )
    .await;
    assert!(bad.contains("data-testid=\"maint-report-error\""), "{bad}");
    assert!(bad.contains("from: not a date"), "{bad}");
}
