//! The dashboard's components: the page, the compliance overview (概要) and the latest
//! logins (最新のログイン).
//!
//! The page is server-rendered with [`SsrMode::Async`]: the server waits for the overview
//! and sends complete HTML (no spinner, no layout shift), with the data serialised into
//! the page so hydration reuses it instead of fetching again. After hydration the
//! browser keeps it fresh (see `live.rs`); a [`Transition`] keeps the old figures on
//! screen while new ones load.
//!
//! Test hooks (`data-testid`, `data-*`) are part of the interface for browser tests:
//! keep them stable. The overview's FY2027 readiness (令和9年度) adds: `readiness` (the
//! panel); `open-alarms`, `offline-doors`, `dead-letters` (links with `data-count`: open
//! integrity alarms whose room's `alarm_hold` has not run out, doors offline now, dead
//! letters in total); `renewal-year` (`data-fiscal-year`, FY = April–March) holding
//! `renewal-row` (`data-system-id`, `data-status`); in each `system-row` a `system-link`
//! to `/systems/{id}` and a `trend` chart (`data-days="30"`, coverage per JST day); in each
//! `login-row` a `login-link` to `/logins/{event_id}`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

use crate::api::{get_overview, DashError};
use crate::auth::{get_viewer, Permission, Viewer};
use crate::i18n::use_lang;
use crate::labels;
use crate::model::{DoorRow, LoginRow, Overview, Readiness, RenewalRow, SystemRow, SystemTrend};
use crate::routes;

/// The state of the live connection, shown next to 最終更新.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    /// Server-rendered page, not (yet) hydrated: nothing updates it.
    Static,
    /// Hydrated, opening the event stream.
    Connecting,
    /// The event stream is open: the page follows every stored event.
    Live,
    /// The event stream failed: the page refetches every 10 seconds.
    Polling,
}

impl LiveStatus {
    fn code(self) -> &'static str {
        match self {
            LiveStatus::Static => "static",
            LiveStatus::Connecting => "connecting",
            LiveStatus::Live => "live",
            LiveStatus::Polling => "polling",
        }
    }

    fn label(self) -> &'static str {
        match self {
            LiveStatus::Static => "自動更新なし",
            LiveStatus::Connecting => "接続中…",
            LiveStatus::Live => "ライブ更新中",
            LiveStatus::Polling => "10秒ごとに更新",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            LiveStatus::Static => "再読み込みすると最新の状態を表示します",
            LiveStatus::Connecting => "更新通知の受信を準備しています",
            LiveStatus::Live => "ログインや入退室が記録されると自動で更新します",
            LiveStatus::Polling => "更新通知を受信できないため、定期的に取得しています",
        }
    }
}

/// The application root: the router. Every page is rendered completely on the server
/// (`SsrMode::Async`: no spinner, no layout shift) and then hydrated. The overview is in
/// the main wasm module; every other page is a lazy route (`routes.rs`), whose code the
/// browser fetches when the page is opened.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The live tick lives above the routes: pages create their resources before their
    // `Layout` (which starts the feed) exists, so the tick must already be in context.
    let (tick, set_tick) = signal(0u64);
    provide_context(LiveTick(tick));
    provide_context(LiveBump(set_tick));
    // Who is signed in: read by the page frame (name, sign-out, navigation) and by forms
    // that need the session's CSRF token. Created once, above the routes.
    provide_context(ViewerResource(Resource::new(|| (), |_| get_viewer())));
    view! {
        <Router>
            <Routes fallback=|| view! { <p class="notice">"ページが見つかりません / Page not found"</p> }>
                <Route path=path!("/") view=Dashboard ssr=SsrMode::Async />
                <Route path=path!("/systems/:id") view={Lazy::<routes::SystemRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/logins/:id") view={Lazy::<routes::EvidenceRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/rooms") view={Lazy::<routes::RoomsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/inventory") view={Lazy::<routes::InventoryRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/dead-letters") view={Lazy::<routes::DeadLettersRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/export") view={Lazy::<routes::ExportRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/signin") view={Lazy::<routes::SigninRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/enroll/:token") view={Lazy::<routes::EnrollRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/step-up/:id") view={Lazy::<routes::StepUpRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/account") view={Lazy::<routes::AccountRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/users") view={Lazy::<routes::UsersRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/tokens") view={Lazy::<routes::TokensRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/audit") view={Lazy::<routes::AuditRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/people") view={Lazy::<routes::PeopleRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/maintenance") view={Lazy::<routes::MaintenanceRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/maintenance/report") view={Lazy::<routes::MaintenanceReportRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/inspection") view={Lazy::<routes::InspectionRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/accounts") view={Lazy::<routes::AccountsRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/imports") view={Lazy::<routes::ImportsRoute>::new()} ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// Bumped whenever the hub says something changed (after hydration only). Pages make
/// their resources depend on it, so they refetch without a reload.
#[derive(Debug, Clone, Copy)]
pub struct LiveTick(pub ReadSignal<u64>);

/// Bumps the [`LiveTick`]: the page frame's live feed calls it on every change.
#[derive(Debug, Clone, Copy)]
pub struct LiveBump(pub WriteSignal<u64>);

/// The live tick of the current page (0 on the server).
pub fn use_live_tick() -> ReadSignal<u64> {
    use_context::<LiveTick>()
        .map(|t| t.0)
        .unwrap_or_else(|| signal(0).0)
}

/// The signed-in user (`None` on the public pages), fetched once per page load.
#[derive(Debug, Clone, Copy)]
pub struct ViewerResource(pub Resource<Result<Option<Viewer>, DashError>>);

/// The signed-in user's resource (a fresh one outside [`App`], e.g. in a test).
pub fn use_viewer() -> Resource<Result<Option<Viewer>, DashError>> {
    use_context::<ViewerResource>()
        .map(|v| v.0)
        .unwrap_or_else(|| Resource::new(|| (), |_| get_viewer()))
}

/// The session's CSRF token for a form (empty when nobody is signed in).
pub async fn csrf_token(viewer: Resource<Result<Option<Viewer>, DashError>>) -> String {
    viewer
        .await
        .ok()
        .flatten()
        .map(|v| v.csrf)
        .unwrap_or_default()
}

/// The navigation entries: path, Japanese, English, and the permission the link needs
/// (`None`: any signed-in user).
const NAV: [(&str, &str, &str, Option<Permission>); 14] = [
    ("/", "概要", "Overview", Some(Permission::ReadCompliance)),
    (
        "/rooms",
        "部屋と扉",
        "Rooms & doors",
        Some(Permission::ReadDoors),
    ),
    (
        "/inventory",
        "棚卸し",
        "Inventory",
        Some(Permission::ReadInventory),
    ),
    (
        "/maintenance",
        "保守",
        "Maintenance",
        Some(Permission::ReadMaintenance),
    ),
    (
        "/accounts",
        "アカウント棚卸し",
        "Account review",
        Some(Permission::ReadInventory),
    ),
    (
        "/inspection",
        "立入検査",
        "Inspection",
        Some(Permission::ReadCompliance),
    ),
    (
        "/imports",
        "ログ取込み",
        "Log import",
        Some(Permission::ReadCompliance),
    ),
    (
        "/dead-letters",
        "不正データ",
        "Dead letters",
        Some(Permission::ReadDoors),
    ),
    (
        "/export",
        "出力",
        "Export",
        Some(Permission::ReadCompliance),
    ),
    ("/users", "ユーザー", "Users", Some(Permission::ManageUsers)),
    (
        "/tokens",
        "トークン",
        "Tokens",
        Some(Permission::ManageTokens),
    ),
    (
        "/people",
        "職員のパスキー",
        "People",
        Some(Permission::ManagePeoplePasskeys),
    ),
    ("/audit", "監査ログ", "Audit", Some(Permission::ReadAudit)),
    ("/account", "アカウント", "Account", None),
];

/// The frame of every page: masthead, navigation, language switch, live indicator; the
/// live feed that keeps the page current; the hydration marker browser tests wait for.
#[component]
pub fn Layout(
    /// `data-testid` of the page (`overview`, `system`, `evidence`, …).
    testid: &'static str,
    children: Children,
) -> impl IntoView {
    let lang = use_lang();
    let (live, set_live) = signal(LiveStatus::Static);
    let (hydrated, set_hydrated) = signal(false);
    let set_tick = match use_context::<LiveBump>() {
        Some(LiveBump(set)) => set,
        // Rendered outside `App` (a test): a tick of its own.
        None => {
            let (tick, set) = signal(0u64);
            provide_context(LiveTick(tick));
            set
        }
    };

    // Effects run only in the browser, after hydration: proof for tests, and the moment
    // to start following the hub.
    Effect::new(move |_| {
        set_hydrated.set(true);
        #[cfg(feature = "hydrate")]
        crate::live::start(move || set_tick.update(|t| *t += 1), set_live);
        #[cfg(not(feature = "hydrate"))]
        let _ = (set_live, set_tick);
    });
    let location = leptos_router::hooks::use_location();
    let viewer = use_viewer();
    let nav = move || {
        Suspend::new(async move {
            let l = lang.get();
            let here = location.pathname.get();
            let who = viewer.await.ok().flatten();
            NAV.iter()
                .filter(|(_, _, _, need)| match (&who, need) {
                    (Some(v), Some(p)) => v.can(*p),
                    (Some(_), None) => true,
                    (None, _) => false,
                })
                .map(|(path, ja, en, _)| {
                    let current = if here == *path { Some("page") } else { None };
                    view! {
                        <li>
                            <a href=l.href(path) aria-current=current class="nav__link">
                                {l.pick(ja, en).to_string()}
                            </a>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let user = move || {
        Suspend::new(async move {
            let l = lang.get();
            viewer.await.ok().flatten().map(|v| {
                let (ja, en) = labels::role(v.role.as_str());
                view! {
                    <div class="whoami" data-testid="whoami" data-role=v.role.as_str()>
                        <a href=l.href("/account") class="whoami__name" data-testid="whoami-name">{v.name.clone()}</a>
                        <span class="whoami__role">{l.pick(ja, en).to_string()}</span>
                        <form method="post" action="/signout" class="whoami__signout">
                            <input type="hidden" name="_csrf" value=v.csrf.clone() />
                            <button type="submit" data-testid="signout">{l.pick("サインアウト", "Sign out")}</button>
                        </form>
                    </div>
                }
            })
        })
    };
    let switch = move || {
        let l = lang.get();
        let other = l.other();
        let here = location.pathname.get();
        let label = l.pick("English", "日本語");
        view! {
            <a href=other.href(&here) class="langswitch" hreflang=other.code() lang=other.code() data-testid="lang-switch">
                {label}
            </a>
        }
    };
    view! {
        <div
            class="page"
            data-testid=testid
            lang=move || lang.get().code()
            data-hydrated=move || hydrated.get().then_some("true")
        >
            <header class="masthead">
                <div class="masthead__brand">
                    <h1 class="masthead__title">
                        <a href=move || lang.get().href("/") class="masthead__home">
                            <span class="masthead__kanji">"門番"</span>
                            " "
                            <span class="masthead__latin" lang="en">
                                "monban"
                            </span>
                        </a>
                    </h1>
                    <p class="masthead__sub">
                        {move || lang.get().pick("二要素認証 コンプライアンス", "Two-factor authentication compliance")}
                    </p>
                </div>
                <div class="masthead__tools">
                    <Suspense fallback=|| ()>{user}</Suspense>
                    {switch}
                    <LiveIndicator status=live />
                </div>
            </header>
            <nav class="nav" aria-label=move || lang.get().pick("メニュー", "Menu")>
                <ul class="nav__list"><Suspense fallback=|| ()>{nav}</Suspense></ul>
            </nav>
            <main>{children()}</main>
        </div>
    }
}

/// The frame of the public pages (sign-in, enrollment, step-up): masthead and language
/// switch, no navigation, no live feed; the same hydration marker as [`Layout`].
#[component]
pub fn PublicLayout(
    /// `data-testid` of the page (`signin`, `enroll`, `step-up-page`).
    testid: &'static str,
    children: Children,
) -> impl IntoView {
    let lang = use_lang();
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    let location = leptos_router::hooks::use_location();
    let switch = move || {
        let l = lang.get();
        let other = l.other();
        let here = format!("{}{}", location.pathname.get(), {
            // Keep the query (`next`) but not the language.
            let q = location.search.get();
            let kept: Vec<&str> = q
                .trim_start_matches('?')
                .split('&')
                .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
                .collect();
            if kept.is_empty() {
                String::new()
            } else {
                format!("?{}", kept.join("&"))
            }
        });
        view! {
            <a href=other.href(&here) class="langswitch" hreflang=other.code() lang=other.code() data-testid="lang-switch">
                {l.pick("English", "日本語")}
            </a>
        }
    };
    view! {
        <div
            class="page page--public"
            data-testid=testid
            lang=move || lang.get().code()
            data-hydrated=move || hydrated.get().then_some("true")
        >
            <header class="masthead">
                <div class="masthead__brand">
                    <h1 class="masthead__title">
                        <span class="masthead__kanji">"門番"</span>
                        " "
                        <span class="masthead__latin" lang="en">"monban"</span>
                    </h1>
                    <p class="masthead__sub">
                        {move || lang.get().pick("二要素認証 コンプライアンス", "Two-factor authentication compliance")}
                    </p>
                </div>
                <div class="masthead__tools">{switch}</div>
            </header>
            <main>{children()}</main>
        </div>
    }
}

/// The overview page (概要).
#[component]
pub fn Dashboard() -> impl IntoView {
    view! {
        <Layout testid="overview">
            <OverviewBody />
        </Layout>
    }
}

#[component]
fn OverviewBody() -> impl IntoView {
    let tick = use_live_tick();
    let overview = Resource::new(move || tick.get(), |_| get_overview());
    view! {
        <Transition fallback=|| {
            view! { <p class="notice">"読み込み中…"</p> }
        }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(data) => view! { <OverviewView data /> }.into_any(),
                    Err(error) => {
                        view! {
                            <Title text="門番 — 二要素認証 コンプライアンス" />
                            <p class="notice notice--error" role="alert" data-testid="error">
                                {error.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The live indicator: a dot and a word, announced politely when it changes.
#[component]
fn LiveIndicator(status: ReadSignal<LiveStatus>) -> impl IntoView {
    view! {
        <p
            class=move || format!("live live--{}", status.get().code())
            role="status"
            data-testid="live"
            data-live=move || status.get().code()
            title=move || status.get().hint()
        >
            <span class="live__dot" aria-hidden="true"></span>
            {move || status.get().label()}
        </p>
    }
}

/// Everything the overview holds: the site bar, the systems and the latest logins.
#[component]
fn OverviewView(data: Overview) -> impl IntoView {
    let lang = use_lang();
    let Overview {
        site_name,
        generated_at,
        from,
        to,
        systems,
        latest_logins,
        doors,
        readiness,
    } = data;
    let title = if site_name.is_empty() {
        "門番 — 二要素認証 コンプライアンス".to_string()
    } else {
        format!("{site_name} — 門番 二要素認証 コンプライアンス")
    };
    view! {
        <Title text=title />
        <section class="sitebar" aria-label="施設と集計期間">
            <p class="sitebar__site" data-testid="site-name">
                {site_name}
            </p>
            <dl class="sitebar__facts">
                <div>
                    <dt>{move || lang.get().pick("集計期間", "Period")}</dt>
                    <dd>
                        <time datetime=from.clone()>{labels::jst_time(&from)}</time>
                        " 〜 "
                        <time datetime=to.clone()>{labels::jst_time(&to)}</time>
                        " (JST)"
                    </dd>
                </div>
                <div>
                    <dt>{move || lang.get().pick("最終更新", "Last updated")}</dt>
                    <dd>
                        <time datetime=generated_at.clone() data-testid="last-updated">
                            {labels::jst_time(&generated_at)}
                        </time>
                    </dd>
                </div>
            </dl>
            <a class="sitebar__report" href=move || lang.get().href("/inspection") data-testid="overview-inspection">
                {move || lang.get().pick("立入検査用報告書を開く", "Open the inspection report")}
            </a>
        </section>
        <ReadinessPanel readiness=readiness.clone() />
        <SystemsTable systems trends=readiness.trends />
        <LoginsTable logins=latest_logins />
        <DoorsTable doors />
    }
}

/// 扉と接続: every door's state and connector health.
#[component]
fn DoorsTable(doors: Vec<DoorRow>) -> impl IntoView {
    let lang = use_lang();
    let body = if doors.is_empty() {
        view! { <p class="notice">{move || lang.get().pick("登録された扉はありません", "No doors registered")}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid grid--doors">
                    <thead>
                        <tr>
                            <th scope="col">{move || lang.get().pick("扉", "Door")}</th>
                            <th scope="col">{move || lang.get().pick("部屋", "Room")}</th>
                            <th scope="col">{move || lang.get().pick("接続", "Connection")}</th>
                            <th scope="col">{move || lang.get().pick("状態", "Status")}</th>
                            <th scope="col">{move || lang.get().pick("最終の生存確認 (JST)", "Last sign of life (JST)")}</th>
                            <th scope="col">{move || lang.get().pick("最終イベント受信 (JST)", "Last event received (JST)")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("欠落", "Overruns")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("不正データ", "Dead letters")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {doors.into_iter().map(|row| view! { <DoorRowView row /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="doors-heading">
            <h2 id="doors-heading" class="panel__title">
                "扉と接続"
                <span class="panel__en" lang="en">
                    "Doors and connectors"
                </span>
            </h2>
            {body}
        </section>
    }
}

#[component]
fn DoorRowView(row: DoorRow) -> impl IntoView {
    let lang = use_lang();
    let DoorRow {
        id,
        name,
        room,
        source,
        state,
        offline_reason,
        last_heard_at,
        last_event_at,
        last_heartbeat_at: _,
        heartbeat_timeout,
        overruns,
        dead_letters,
        connector,
    } = row;
    let badge = labels::door_state(&state);
    let time = |t: Option<String>| match t {
        Some(t) => {
            let label = labels::jst_time(&t);
            view! { <time datetime=t class="mono">{label}</time> }.into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let title = if name.is_empty() { id.clone() } else { name };
    let connector_text = match connector.as_deref() {
        Some("connected") => "接続中",
        Some("connecting") => "接続準備中",
        Some("disconnected") => "切断",
        _ => "—",
    };
    let row_state = state.clone();
    let row_id = id.clone();
    let overrun_class = if overruns > 0 {
        "num num--alert"
    } else {
        "num"
    };
    let letters_class = if dead_letters > 0 {
        "num num--alert"
    } else {
        "num"
    };
    view! {
        <tr data-testid="door-row" data-door-id=row_id data-state=row_state>
            <td data-label=move || lang.get().pick("扉", "Door")>
                <span class="cell-main">{title}</span>
                <small class="code">{id}</small>
            </td>
            <td data-label=move || lang.get().pick("部屋", "Room")>{room}</td>
            <td data-label=move || lang.get().pick("接続", "Connection")>
                <span class="cell-main">{labels::door_source(&source).to_string()}</span>
                <small class="sub">{connector_text}</small>
            </td>
            <td data-label=move || lang.get().pick("状態", "Status")>
                <span class=format!("badge badge--{}", badge.tone) title=state>
                    {badge.label}
                </span>
                {offline_reason
                    .map(|r| {
                        let label = labels::offline_reason(&r).to_string();
                        view! { <small class="sub">{label}</small> }
                    })}
                {heartbeat_timeout
                    .map(|t| view! { <small class="sub">{format!("ハートビート監視 {t}")}</small> })}
            </td>
            <td data-label=move || lang.get().pick("最終の生存確認 (JST)", "Last sign of life (JST)")>{time(last_heard_at)}</td>
            <td data-label=move || lang.get().pick("最終イベント受信 (JST)", "Last event received (JST)")>{time(last_event_at)}</td>
            <td data-label=move || lang.get().pick("欠落", "Overruns") class=overrun_class data-testid="door-overruns">
                {overruns}
            </td>
            <td data-label=move || lang.get().pick("不正データ", "Dead letters") class=letters_class data-testid="door-dead-letters">
                {dead_letters}
            </td>
        </tr>
    }
}

/// 概要: one row per system.
#[component]
fn SystemsTable(systems: Vec<SystemRow>, trends: Vec<SystemTrend>) -> impl IntoView {
    let lang = use_lang();
    let body = if systems.is_empty() {
        view! { <p class="notice">{move || lang.get().pick("登録されたシステムはありません", "No systems registered")}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid grid--systems">
                    <thead>
                        <tr>
                            <th scope="col">{move || lang.get().pick("システム", "System")}</th>
                            <th scope="col">{move || lang.get().pick("区分", "Category")}</th>
                            <th scope="col">{move || lang.get().pick("二要素機能", "Native MFA")}</th>
                            <th scope="col">{move || lang.get().pick("状態", "Status")}</th>
                            <th scope="col">{move || lang.get().pick("充足率", "Coverage")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("成功ログイン", "Successful")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("直接二要素", "Direct 2FA")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("複合対策", "Combined")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("未達", "Not met")}</th>
                            <th scope="col" class="num">{move || lang.get().pick("失敗", "Failed")}</th>
                            <th scope="col">{move || lang.get().pick("30日間の推移", "30-day trend")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {systems
                            .into_iter()
                            .map(|row| {
                                let trend = trends.iter().find(|t| t.system == row.id).cloned().unwrap_or_default();
                                view! { <SystemRowView row trend /> }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="systems-heading">
            <h2 id="systems-heading" class="panel__title">
                "概要"
                <span class="panel__en" lang="en">
                    "Compliance overview"
                </span>
            </h2>
            {body}
        </section>
    }
}

#[component]
fn SystemRowView(row: SystemRow, trend: SystemTrend) -> impl IntoView {
    let lang = use_lang();
    let SystemRow {
        id,
        name,
        category,
        native_mfa,
        status,
        coverage,
        successful,
        direct_2fa,
        combined_measures,
        not_met,
        failed,
    } = row;
    let badge = labels::status(&status);
    let status_en = labels::status_en(&status).to_string();
    let coverage_text = labels::coverage(coverage, successful);
    // A class per whole percent (web/style/monban.css), not a `style` attribute: the
    // Content-Security-Policy allows no inline styles. Rounded down, so a bar is only
    // full at 100 %.
    let bar_width = format!(
        "coverage__fill--w{}",
        labels::coverage_percent(coverage).floor() as u8
    );
    let not_met_class = if not_met > 0 { "num num--alert" } else { "num" };
    let (row_id, row_status) = (id.clone(), status.clone());
    let href_id = id.clone();
    view! {
        <tr data-testid="system-row" data-system-id=row_id data-status=row_status>
            <th scope="row" data-label=move || lang.get().pick("システム", "System")>
                <a class="cell-main" data-testid="system-link" href=move || lang.get().href(&format!("/systems/{href_id}"))>
                    {name}
                </a>
                <small class="code">{id}</small>
            </th>
            <td data-label=move || lang.get().pick("区分", "Category")>{labels::category(&category).to_string()}</td>
            <td data-label=move || lang.get().pick("二要素機能", "Native MFA")>{labels::native_mfa(native_mfa)}</td>
            <td data-label=move || lang.get().pick("状態", "Status")>
                <span class=format!("badge badge--{}", badge.tone) title=status>
                    {move || lang.get().pick(badge.label, &status_en).to_string()}
                </span>
            </td>
            <td data-label=move || lang.get().pick("充足率", "Coverage") class="coverage">
                <span class="coverage__value" data-testid="coverage">
                    {coverage_text}
                </span>
                <span class="coverage__bar" aria-hidden="true">
                    <span class=format!("coverage__fill coverage__fill--{} {bar_width}", badge.tone)></span>
                </span>
            </td>
            <td data-label=move || lang.get().pick("成功ログイン", "Successful") class="num" data-testid="count-successful">
                {successful}
            </td>
            <td data-label=move || lang.get().pick("直接二要素", "Direct 2FA") class="num" data-testid="count-direct">
                {direct_2fa}
            </td>
            <td data-label=move || lang.get().pick("複合対策", "Combined") class="num" data-testid="count-combined">
                {combined_measures}
            </td>
            <td data-label=move || lang.get().pick("未達", "Not met") class=not_met_class data-testid="count-not-met">
                {not_met}
            </td>
            <td data-label=move || lang.get().pick("失敗", "Failed") class="num" data-testid="count-failed">
                {failed}
            </td>
            <td data-label=move || lang.get().pick("30日間の推移", "30-day trend") class="ready-trend-cell">
                <TrendChart trend />
            </td>
        </tr>
    }
}

/// 最新のログイン: newest first.
#[component]
fn LoginsTable(logins: Vec<LoginRow>) -> impl IntoView {
    let lang = use_lang();
    let body = if logins.is_empty() {
        view! { <p class="notice">{move || lang.get().pick("ログインの記録はまだありません", "No logins recorded yet")}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid grid--logins">
                    <thead>
                        <tr>
                            <th scope="col">{move || lang.get().pick("時刻 (JST)", "Time (JST)")}</th>
                            <th scope="col">{move || lang.get().pick("システム", "System")}</th>
                            <th scope="col">{move || lang.get().pick("アカウント", "Account")}</th>
                            <th scope="col">{move || lang.get().pick("端末", "Terminal")}</th>
                            <th scope="col">{move || lang.get().pick("要素", "Factors")}</th>
                            <th scope="col">{move || lang.get().pick("判定", "Verdict")}</th>
                            <th scope="col">{move || lang.get().pick("理由", "Reasons")}</th>
                            <th scope="col">{move || lang.get().pick("確定", "Final")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {logins.into_iter().map(|row| view! { <LoginRowView row /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="logins-heading">
            <h2 id="logins-heading" class="panel__title">
                "最新のログイン"
                <span class="panel__en" lang="en">
                    "Latest logins"
                </span>
            </h2>
            {body}
        </section>
    }
}

#[component]
fn LoginRowView(row: LoginRow) -> impl IntoView {
    let LoginRow {
        event_id,
        ts,
        system,
        system_name,
        account,
        person,
        terminal,
        room,
        factors,
        outcome: _,
        verdict,
        reasons,
        is_final,
    } = row;
    let badge = labels::verdict(&verdict);
    let verdict_en = labels::verdict_en(&verdict).to_string();
    let time = labels::jst_time(&ts);
    let factors = factors
        .into_iter()
        .map(|code| {
            let label = labels::factor(&code).to_string();
            view! { <li title=code>{label}</li> }
        })
        .collect_view();
    let reasons = if reasons.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        view! {
            <ul class="reasons">
                {reasons
                    .into_iter()
                    .map(|code| {
                        let label = labels::reason(&code).to_string();
                        let title = code.clone();
                        view! {
                            <li title=title>
                                {label}
                                <small class="code">{code}</small>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let row_verdict = verdict.clone();
    let lang = use_lang();
    let link_id = event_id.clone();
    let finality_class = if is_final {
        "finality finality--final"
    } else {
        "finality finality--provisional"
    };
    view! {
        <tr data-testid="login-row" data-event-id=event_id data-verdict=row_verdict>
            <td data-label=move || lang.get().pick("時刻 (JST)", "Time (JST)")>
                <time datetime=ts class="mono">{time}</time>
                <a class="sub mono" data-testid="login-link" href=move || lang.get().href(&format!("/logins/{link_id}"))>
                    {event_id.clone()}
                </a>
            </td>
            <td data-label=move || lang.get().pick("システム", "System")>
                <span class="cell-main">{system_name}</span>
                <small class="code">{system}</small>
            </td>
            <td data-label=move || lang.get().pick("アカウント", "Account")>
                <span class="cell-main mono">{account}</span>
                {person.map(|name| view! { <small class="sub">{name}</small> })}
            </td>
            <td data-label=move || lang.get().pick("端末", "Terminal")>
                <span class="cell-main mono">{terminal}</span>
                {room.map(|name| view! { <small class="sub">{name}</small> })}
            </td>
            <td data-label=move || lang.get().pick("要素", "Factors")>
                <ul class="factors">{factors}</ul>
            </td>
            <td data-label=move || lang.get().pick("判定", "Verdict")>
                <span class=format!("badge badge--{}", badge.tone) title=verdict>
                    {move || lang.get().pick(badge.label, &verdict_en).to_string()}
                </span>
            </td>
            <td data-label=move || lang.get().pick("理由", "Reasons")>{reasons}</td>
            <td data-label=move || lang.get().pick("確定", "Final")>
                <span class=finality_class>{labels::finality(is_final)}</span>
            </td>
        </tr>
    }
}

/// Trend chart geometry: fixed, so the table never shifts.
const TREND_W: u32 = 120;
const TREND_H: u32 = 32;

/// A system's coverage per day over 30 days (JST): one bar per day with logins, a dot on
/// the baseline for a day without; the text alternative summarises it.
#[component]
fn TrendChart(trend: SystemTrend) -> impl IntoView {
    let lang = use_lang();
    let days = trend.days;
    let n = days.len().max(1) as f64;
    let slot = f64::from(TREND_W) / n;
    let bar_w = (slot - 1.0).max(1.0);
    let with_logins: Vec<(usize, f64)> = days
        .iter()
        .enumerate()
        .filter(|(_, d)| d.successful > 0)
        .map(|(i, d)| {
            let met = d.direct_2fa + d.combined_measures;
            (i, met as f64 / d.successful as f64)
        })
        .collect();
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = format!("{:.1}", i as f64 * slot);
            if d.successful == 0 {
                return view! {
                    <rect class="ready-trend__none" x=x y=format!("{}", TREND_H - 1) width=format!("{bar_w:.1}") height="1"></rect>
                }
                .into_any();
            }
            let met = d.direct_2fa + d.combined_measures;
            let c = met as f64 / d.successful as f64;
            let h = (c * f64::from(TREND_H - 2)).max(1.0);
            let class = if met == d.successful { "ready-trend__ok" } else { "ready-trend__gap" };
            view! {
                <rect class=class x=x y=format!("{:.1}", f64::from(TREND_H) - h) width=format!("{bar_w:.1}") height=format!("{h:.1}")>
                    <title>{format!("{} {:.1}% ({met}/{})", d.day, c * 100.0, d.successful)}</title>
                </rect>
            }
            .into_any()
        })
        .collect_view();
    let (first, last) = (
        days.first().map(|d| d.day.clone()).unwrap_or_default(),
        days.last().map(|d| d.day.clone()).unwrap_or_default(),
    );
    let summary = move || {
        let l = lang.get();
        if with_logins.is_empty() {
            return l
                .pick(
                    &format!("{first}〜{last}: ログインなし"),
                    &format!("{first} to {last}: no logins"),
                )
                .to_string();
        }
        let min = with_logins.iter().map(|(_, c)| *c).fold(1.0_f64, f64::min);
        let latest = with_logins.last().map(|(_, c)| *c).unwrap_or(0.0);
        let count = with_logins.len();
        l.pick(
            &format!(
                "{first}〜{last}: ログインのある日 {count} 日、最低 {:.1}%、最新 {:.1}%",
                min * 100.0,
                latest * 100.0
            ),
            &format!(
                "{first} to {last}: {count} days with logins, lowest {:.1}%, latest {:.1}%",
                min * 100.0,
                latest * 100.0
            ),
        )
        .to_string()
    };
    view! {
        <svg
            class="ready-trend"
            data-testid="trend"
            data-days=days.len()
            viewBox=format!("0 0 {TREND_W} {TREND_H}")
            width=TREND_W
            height=TREND_H
            role="img"
            aria-label=summary.clone()
        >
            {bars}
        </svg>
        <span class="visually-hidden">{summary}</span>
    }
}

/// 令和9年度への準備: the renewal wave and what needs attention now.
#[component]
fn ReadinessPanel(readiness: Readiness) -> impl IntoView {
    let lang = use_lang();
    let Readiness {
        renewals,
        open_alarms,
        offline_doors,
        dead_letters,
        ..
    } = readiness;
    let now_card = move |ja: &'static str,
                         en: &'static str,
                         n: u64,
                         path: &'static str,
                         testid: &'static str| {
        let class = if n > 0 {
            "ready-now__item ready-now__item--alert"
        } else {
            "ready-now__item"
        };
        view! {
            <li class=class>
                <a href=move || lang.get().href(path) data-testid=testid data-count=n>
                    <span class="ready-now__count">{n}</span>
                    <span class="ready-now__label">{move || lang.get().pick(ja, en)}</span>
                </a>
            </li>
        }
    };
    // The renewal wave's fiscal years, as the server selects the rows.
    let years = monban_core::period::RENEWAL_WAVE
        .map(|fy| {
            let rows: Vec<RenewalRow> = renewals.iter().filter(|r| r.fiscal_year == fy).cloned().collect();
            let reiwa = fy - 2018;
            let empty = rows.is_empty();
            let items = rows
                .into_iter()
                .map(|r| {
                    let badge = labels::status(&r.status);
                    let href_id = r.id.clone();
                    let (row_id, row_status) = (r.id.clone(), r.status.clone());
                    let en = labels::status_en(&r.status).to_string();
                    view! {
                        <li class="ready-wave__item" data-testid="renewal-row" data-system-id=row_id data-status=row_status>
                            <a href=move || lang.get().href(&format!("/systems/{href_id}"))>{r.name}</a>
                            " "
                            <span class="mono">{r.renewal}</span>
                            " "
                            <span class=format!("badge badge--{}", badge.tone)>
                                {move || lang.get().pick(badge.label, &en).to_string()}
                            </span>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="ready-wave__year" data-testid="renewal-year" data-fiscal-year=fy>
                    <h3 class="ready-wave__title">
                        {move || lang.get().pick(&format!("令和{reiwa}年度"), &format!("FY{fy}")).to_string()}
                        <small class="sub">{format!("{fy}-04 〜 {}-03", fy + 1)}</small>
                    </h3>
                    {if empty {
                        view! { <p class="muted">{move || lang.get().pick("更改予定なし", "No renewal planned")}</p> }.into_any()
                    } else {
                        view! { <ul class="ready-wave__list">{items}</ul> }.into_any()
                    }}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="panel ready" aria-labelledby="ready-heading" data-testid="readiness">
            <h2 id="ready-heading" class="panel__title">
                {move || lang.get().pick("令和9年度（2027年度）への準備", "Readiness for FY2027 (令和9年度)")}
            </h2>
            <h3 class="ready__sub">{move || lang.get().pick("いま対応が必要なこと", "Needs attention now")}</h3>
            <ul class="ready-now">
                {now_card("発報中の警報", "Open integrity alarms", open_alarms, "/rooms", "open-alarms")}
                {now_card("オフラインの扉", "Offline doors", offline_doors, "/rooms", "offline-doors")}
                {now_card("不正データ", "Dead letters", dead_letters, "/dead-letters", "dead-letters")}
            </ul>
            <h3 class="ready__sub">{move || lang.get().pick("更改の波（年度別）", "Renewal wave by fiscal year")}</h3>
            <div class="ready-wave">{years}</div>
        </section>
    }
}
