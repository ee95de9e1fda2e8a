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
//! keep them stable.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::api::get_overview;
use crate::labels;
use crate::model::{LoginRow, Overview, SystemRow};

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

/// The application root: the router with the dashboard at `/`.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            <Routes fallback=|| view! { <p class="notice">"ページが見つかりません"</p> }>
                <Route path=path!("/") view=Dashboard ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// The dashboard page.
#[component]
pub fn Dashboard() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    let (live, set_live) = signal(LiveStatus::Static);
    let (hydrated, set_hydrated) = signal(false);

    // Effects run only in the browser, after hydration: proof for tests, and the moment
    // to start following the hub.
    Effect::new(move |_| {
        set_hydrated.set(true);
        #[cfg(feature = "hydrate")]
        crate::live::start(move || overview.refetch(), set_live);
        #[cfg(not(feature = "hydrate"))]
        let _ = set_live;
    });

    view! {
        <div
            class="page"
            data-testid="overview"
            data-hydrated=move || hydrated.get().then_some("true")
        >
            <header class="masthead">
                <div class="masthead__brand">
                    <h1 class="masthead__title">
                        <span class="masthead__kanji">"門番"</span>
                        " "
                        <span class="masthead__latin" lang="en">
                            "monban"
                        </span>
                    </h1>
                    <p class="masthead__sub">"二要素認証 コンプライアンス"</p>
                </div>
                <LiveIndicator status=live />
            </header>
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
        </div>
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
    let Overview {
        site_name,
        generated_at,
        from,
        to,
        systems,
        latest_logins,
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
                    <dt>"集計期間"</dt>
                    <dd>
                        <time datetime=from.clone()>{labels::jst_time(&from)}</time>
                        " 〜 "
                        <time datetime=to.clone()>{labels::jst_time(&to)}</time>
                        " (JST)"
                    </dd>
                </div>
                <div>
                    <dt>"最終更新"</dt>
                    <dd>
                        <time datetime=generated_at.clone() data-testid="last-updated">
                            {labels::jst_time(&generated_at)}
                        </time>
                    </dd>
                </div>
            </dl>
        </section>
        <SystemsTable systems />
        <LoginsTable logins=latest_logins />
    }
}

/// 概要: one row per system.
#[component]
fn SystemsTable(systems: Vec<SystemRow>) -> impl IntoView {
    let body = if systems.is_empty() {
        view! { <p class="notice">"登録されたシステムはありません"</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid grid--systems">
                    <thead>
                        <tr>
                            <th scope="col">"システム"</th>
                            <th scope="col">"区分"</th>
                            <th scope="col">"二要素機能"</th>
                            <th scope="col">"状態"</th>
                            <th scope="col">"充足率"</th>
                            <th scope="col" class="num">"成功ログイン"</th>
                            <th scope="col" class="num">"直接二要素"</th>
                            <th scope="col" class="num">"複合対策"</th>
                            <th scope="col" class="num">"未達"</th>
                            <th scope="col" class="num">"失敗"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {systems.into_iter().map(|row| view! { <SystemRowView row /> }).collect_view()}
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
fn SystemRowView(row: SystemRow) -> impl IntoView {
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
    let coverage_text = labels::coverage(coverage, successful);
    let bar_width = format!("width: {:.1}%", labels::coverage_percent(coverage));
    let not_met_class = if not_met > 0 { "num num--alert" } else { "num" };
    let (row_id, row_status) = (id.clone(), status.clone());
    view! {
        <tr data-testid="system-row" data-system-id=row_id data-status=row_status>
            <th scope="row" data-label="システム">
                <span class="cell-main">{name}</span>
                <small class="code">{id}</small>
            </th>
            <td data-label="区分">{labels::category(&category).to_string()}</td>
            <td data-label="二要素機能">{labels::native_mfa(native_mfa)}</td>
            <td data-label="状態">
                <span class=format!("badge badge--{}", badge.tone) title=status>
                    {badge.label}
                </span>
            </td>
            <td data-label="充足率" class="coverage">
                <span class="coverage__value" data-testid="coverage">
                    {coverage_text}
                </span>
                <span class="coverage__bar" aria-hidden="true">
                    <span class=format!("coverage__fill coverage__fill--{}", badge.tone) style=bar_width></span>
                </span>
            </td>
            <td data-label="成功ログイン" class="num" data-testid="count-successful">
                {successful}
            </td>
            <td data-label="直接二要素" class="num" data-testid="count-direct">
                {direct_2fa}
            </td>
            <td data-label="複合対策" class="num" data-testid="count-combined">
                {combined_measures}
            </td>
            <td data-label="未達" class=not_met_class data-testid="count-not-met">
                {not_met}
            </td>
            <td data-label="失敗" class="num" data-testid="count-failed">
                {failed}
            </td>
        </tr>
    }
}

/// 最新のログイン: newest first.
#[component]
fn LoginsTable(logins: Vec<LoginRow>) -> impl IntoView {
    let body = if logins.is_empty() {
        view! { <p class="notice">"ログインの記録はまだありません"</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="grid grid--logins">
                    <thead>
                        <tr>
                            <th scope="col">"時刻 (JST)"</th>
                            <th scope="col">"システム"</th>
                            <th scope="col">"アカウント"</th>
                            <th scope="col">"端末"</th>
                            <th scope="col">"要素"</th>
                            <th scope="col">"判定"</th>
                            <th scope="col">"理由"</th>
                            <th scope="col">"確定"</th>
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
    let finality_class = if is_final {
        "finality finality--final"
    } else {
        "finality finality--provisional"
    };
    view! {
        <tr data-testid="login-row" data-event-id=event_id data-verdict=row_verdict>
            <td data-label="時刻 (JST)">
                <time datetime=ts class="mono">{time}</time>
            </td>
            <td data-label="システム">
                <span class="cell-main">{system_name}</span>
                <small class="code">{system}</small>
            </td>
            <td data-label="アカウント">
                <span class="cell-main mono">{account}</span>
                {person.map(|name| view! { <small class="sub">{name}</small> })}
            </td>
            <td data-label="端末">
                <span class="cell-main mono">{terminal}</span>
                {room.map(|name| view! { <small class="sub">{name}</small> })}
            </td>
            <td data-label="要素">
                <ul class="factors">{factors}</ul>
            </td>
            <td data-label="判定">
                <span class=format!("badge badge--{}", badge.tone) title=verdict>
                    {badge.label}
                </span>
            </td>
            <td data-label="理由">{reasons}</td>
            <td data-label="確定">
                <span class=finality_class>{labels::finality(is_final)}</span>
            </td>
        </tr>
    }
}
