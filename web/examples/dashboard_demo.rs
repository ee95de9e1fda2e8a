//! A stand-alone dashboard with made-up data, for working on the front end without the
//! hub: `cargo run -p monban-web --features ssr --example dashboard_demo [addr] [site_root]`
//! (defaults `127.0.0.1:3000`, `target/site`; run `scripts/build-web.sh` first to get a
//! hydrating page).
//!
//! It mounts [`monban_web::dashboard_router`] exactly as the hub does, and stands in for
//! the hub's `GET /api/v1/live` with a stream that announces a new login every 3 seconds;
//! each announcement adds one to the figures, so live updates can be watched.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use monban_web::{dashboard_router, DashboardSource, LoginRow, Overview, SystemRow};

/// Made-up figures that grow by one login per tick.
struct Demo {
    ticks: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl DashboardSource for Demo {
    async fn overview(&self) -> Result<Overview, String> {
        let n = self.ticks.load(Ordering::Relaxed);
        let combined = 8 + n;
        let successful = 2 + combined;
        let mut latest_logins: Vec<LoginRow> = (0..n.min(8))
            .map(|i| {
                let k = n - i;
                LoginRow {
                    event_id: format!("l-demo-{k:04}"),
                    ts: format!("2026-11-21T00:{:02}:{:02}Z", (k / 60) % 60, k % 60),
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
                    is_final: i > 1,
                }
            })
            .collect();
        latest_logins.push(LoginRow {
            event_id: "l-000043".into(),
            ts: "2026-11-20T23:58:00Z".into(),
            system: "maint-vpn".into(),
            system_name: "リモート保守VPN".into(),
            account: "vendor9".into(),
            person: None,
            terminal: "lobby-kiosk".into(),
            room: None,
            factors: vec!["password".into()],
            outcome: "success".into(),
            verdict: "not_met".into(),
            reasons: vec!["unknown_terminal".into(), "unmapped_account".into()],
            is_final: true,
        });
        Ok(Overview {
            site_name: "東京総合病院（デモ）".into(),
            generated_at: format!("2026-11-21T00:{:02}:{:02}Z", (n / 60) % 60, n % 60),
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
                    successful,
                    direct_2fa: 2,
                    combined_measures: combined,
                    not_met: 0,
                    failed: 1,
                },
                SystemRow {
                    id: "pacs".into(),
                    name: "PACS 画像".into(),
                    category: "departmental".into(),
                    native_mfa: true,
                    status: "direct".into(),
                    coverage: 1.0,
                    successful: 5,
                    direct_2fa: 5,
                    combined_measures: 0,
                    not_met: 0,
                    failed: 0,
                },
                SystemRow {
                    id: "maint-vpn".into(),
                    name: "リモート保守VPN".into(),
                    category: "maintenance".into(),
                    native_mfa: false,
                    status: "gap".into(),
                    coverage: 0.75,
                    successful: 4,
                    direct_2fa: 3,
                    combined_measures: 0,
                    not_met: 1,
                    failed: 2,
                },
                SystemRow {
                    id: "lab".into(),
                    name: "検体検査".into(),
                    category: "departmental".into(),
                    native_mfa: false,
                    status: "no_data".into(),
                    coverage: 0.0,
                    ..SystemRow::default()
                },
            ],
            latest_logins,
        })
    }
}

/// Stands in for the hub's `/api/v1/live`: one message per tick.
fn live(ticks: Arc<AtomicU64>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(ticks, |ticks| async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let n = ticks.fetch_add(1, Ordering::Relaxed) + 1;
        let event = Event::default().data(format!("{{\"kind\":\"login\",\"n\":{n}}}"));
        Some((Ok(event), ticks))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
    let site_root = args
        .next()
        .map_or_else(|| PathBuf::from("target/site"), PathBuf::from);

    let ticks = Arc::new(AtomicU64::new(0));
    let source = Arc::new(Demo {
        ticks: Arc::clone(&ticks),
    });
    let app = Router::new()
        .merge(dashboard_router(source, site_root.clone()))
        .route("/api/v1/live", get(move || async move { live(ticks) }));

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "monban dashboard demo on http://{} (site root {})",
        listener.local_addr()?,
        site_root.display()
    );
    axum::serve(listener, app).await
}
