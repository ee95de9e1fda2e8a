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
