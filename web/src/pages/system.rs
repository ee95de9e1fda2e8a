//! The system page (`/systems/:id`): one system's compliance over a period (the last 30
//! days unless `?from=&to=` say otherwise, exactly like `GET /api/v1/compliance`), the
//! verdict mix per day (Asia/Tokyo), its `not_met` logins grouped by reason with what
//! fixes each, and the terminals (and their rooms) its logins came from.
//!
//! An unknown system id renders a "not found" page with HTTP status 404.
//!
//! Test hooks (`data-testid`):
//! - `system-header` (`data-system-id`, `data-status`), `system-status`, `system-coverage`,
//!   `count-successful`, `count-direct`, `count-combined`, `count-not-met`, `count-failed`
//!   — the same numbers as the system's entry of `GET /api/v1/compliance`;
//! - `verdict-mix` (the chart), `mix-row` (`data-day`) with `mix-direct`, `mix-combined`,
//!   `mix-not-met` cells in the table alternative;
//! - `reason-group` (`data-reason`) with `reason-count`, `reason-fix` and `reason-login`
//!   links (`data-event-id`);
//! - `terminal-row` (`data-terminal`) with `terminal-logins`, `terminal-not-met`;
//! - `system-not-found` for an unknown id; `period-error` for a bad `from`/`to`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{use_live_tick, Layout};
use crate::i18n::{use_lang, Lang};
use crate::labels;
use monban_core::Reason;

/// How many logins each reason group lists.
pub const LATEST_PER_REASON: usize = 5;

/// What the page shows for an id and a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SystemLookup {
    Found(Box<SystemDetail>),
    /// No system with that id in the inventory.
    NotFound,
    /// `from`/`to` could not be used (the message says why).
    BadPeriod(String),
}

/// One system over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SystemDetail {
    pub id: String,
    pub name: String,
    pub category: String,
    pub native_mfa: bool,
    /// `YYYY-MM`.
    pub renewal: Option<String>,
    /// `no_data`, `direct`, `combined` or `gap` (CONTRACT §8).
    pub status: String,
    pub coverage: f64,
    pub successful: u64,
    pub direct_2fa: u64,
    pub combined_measures: u64,
    pub not_met: u64,
    pub failed: u64,
    /// The period (RFC 3339, UTC), by login time.
    pub from: String,
    pub to: String,
    /// One entry per JST day of the period, oldest first.
    pub days: Vec<VerdictDay>,
    /// `not_met` logins by reason, in the contract's order; a login counts in every
    /// group of its reasons.
    pub reasons: Vec<ReasonGroup>,
    /// Terminals with logins of this system in the period, most `not_met` first.
    pub terminals: Vec<TerminalUse>,
}

/// One JST day's verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VerdictDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub direct_2fa: u64,
    pub combined_measures: u64,
    pub not_met: u64,
}

/// The `not_met` logins failing one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReasonGroup {
    /// The contract's reason code.
    pub reason: String,
    pub count: u64,
    /// Newest first, at most [`LATEST_PER_REASON`].
    pub latest: Vec<ReasonLogin>,
}

/// A login in a reason group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReasonLogin {
    pub event_id: String,
    /// RFC 3339, UTC.
    pub ts: String,
    pub account: String,
    pub terminal: String,
}

/// A terminal this system's logins came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TerminalUse {
    pub terminal: String,
    /// The room's name; `None` when the terminal is not in the inventory.
    pub room: Option<String>,
    /// Whether the room's entry is controlled.
    pub controlled: Option<bool>,
    /// Successful logins.
    pub logins: u64,
    pub not_met: u64,
}

/// What this page needs from the hub (implemented by the server over its store).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SystemSource: Send + Sync + 'static {
    /// The system `id` over `from`..=`to` (RFC 3339; default: the last 30 days).
    async fn system(
        &self,
        id: String,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<SystemLookup, crate::api::SourceError>;
}

/// One system's page data, from the injected [`crate::DashboardSource`].
#[server(prefix = "/api/dash", endpoint = "system", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_system(
    id: String,
    from: Option<String>,
    to: Option<String>,
) -> Result<SystemLookup, DashError> {
    use std::sync::Arc;

    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    let Some(source) = use_context::<Arc<dyn crate::DashboardSource>>() else {
        tracing::error!("dashboard: no Arc<dyn DashboardSource> in context");
        return Err(DashError::NotConfigured);
    };
    source.system(id, from, to).await.map_err(|message| {
        tracing::warn!(error = %message, "dashboard: system page failed");
        DashError::Unavailable
    })
}

/// Compliance status → (Japanese, English, tone).
pub fn status_text(code: &str) -> (&str, &str, &'static str) {
    let badge = labels::status(code);
    (badge.label, labels::status_en(code), badge.tone)
}

/// A reason code → (label JA, label EN, fix JA, fix EN, link to the page that helps).
pub fn reason_text(code: &str) -> (&str, &str, &'static str, &'static str, Option<&'static str>) {
    let ja = labels::reason(code);
    // Every reason of the contract (`Reason::ALL`) has its words: a new one is a build
    // error here, not a blank on the page.
    let Ok(reason) = code.parse::<Reason>() else {
        return (code, code, "—", "—", None);
    };
    match reason {
        Reason::UnknownTerminal => (
            ja,
            "Terminal not in the inventory",
            "端末を棚卸し（monban.toml の [[terminals]]）に登録し、設置された部屋を指定する。",
            "Add the terminal to the inventory ([[terminals]] in monban.toml) with the room it stands in.",
            Some("/inventory"),
        ),
        Reason::UncontrolledRoom => (
            ja,
            "Room without entry control",
            "部屋の入室管理を行う（認証付きの扉を設置し controlled = true にする）か、端末を入室管理のある部屋へ移す。",
            "Control the room's entry (authenticated doors, controlled = true) or move the terminal to a controlled room.",
            Some("/rooms"),
        ),
        Reason::UnmappedAccount => (
            ja,
            "Account not mapped to a person",
            "アカウントを職員に紐付ける（[[people]] の accounts に追加する）。共用アカウントは個人アカウントに切り替える。",
            "Map the account to a person (accounts of [[people]]); replace shared accounts by personal ones.",
            Some("/inventory"),
        ),
        Reason::DoorOffline => (
            ja,
            "A door of the room was offline",
            "扉コントローラーの接続（電源・ネットワーク・ブローカー）を確認する。",
            "Check the door controller's connection (power, network, broker).",
            Some("/rooms"),
        ),
        Reason::RoomAlarm => (
            ja,
            "Integrity alarm in the room",
            "部屋の警報（こじ開け・開放放置・改ざん）を調査し、原因を取り除く。",
            "Investigate the room's alarm (forced, held open, tamper) and remove its cause.",
            Some("/rooms"),
        ),
        Reason::NoPresence => (
            ja,
            "No badge-in recorded",
            "ログインする職員は部屋に入るときに必ず認証（カード等）して入室する。共連れをしない。",
            "The person must badge in when entering the room; no tailgating.",
            None,
        ),
        Reason::SameCategory => (
            ja,
            "Same factor category as the entry",
            "入室とログインで別の種類の要素を使う（例: 入室はICカード、ログインはパスワード）。",
            "Use a factor of another category than the entry's (e.g. card at the door, password at login).",
            None,
        ),
    }
}

/// Verdict → (Japanese, English): the core's labels.
fn verdict_text(kind: monban_core::VerdictKind) -> (&'static str, &'static str) {
    (kind.label_ja(), kind.label_en())
}

#[component]
pub fn SystemPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let tick = use_live_tick();
    let data = Resource::new(
        move || {
            (
                tick.get(),
                params.with(|p| p.get("id").unwrap_or_default()),
                query.with(|q| q.get("from")),
                query.with(|q| q.get("to")),
            )
        },
        |(_, id, from, to)| get_system(id, from, to),
    );
    let lang = use_lang();
    view! {
        <Layout testid="system">
            <Transition fallback=move || {
                view! { <p class="notice">{move || lang.get().pick("読み込み中…", "Loading…")}</p> }
            }>
                {move || {
                    // Views below read the language once: re-render them when it changes.
                    lang.track();
                    Suspend::new(async move {
                    match data.await {
                        Ok(SystemLookup::Found(detail)) => view! { <SystemView detail=*detail /> }.into_any(),
                        Ok(SystemLookup::NotFound) => view! { <NotFound /> }.into_any(),
                        Ok(SystemLookup::BadPeriod(message)) => {
                            view! {
                                <Title text="門番" />
                                <p class="notice notice--error" role="alert" data-testid="period-error">
                                    {move || lang.get().pick("集計期間が正しくありません: ", "Invalid period: ")}
                                    {message}
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <Title text="門番" />
                                <p class="notice notice--error" role="alert" data-testid="error">
                                    {error.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })
                }}
            </Transition>
        </Layout>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    view! {
        <Title text=move || format!("{} — 門番", lang.get().pick("システムが見つかりません", "System not found")) />
        <section class="panel sys-notfound" data-testid="system-not-found">
            <h2 class="panel__title">
                {move || lang.get().pick("システムが見つかりません", "System not found")}
            </h2>
            <p>
                {move || lang.get().pick("棚卸しに次の ID のシステムはありません: ", "The inventory has no system with the id ")}
                <code class="code">{id}</code>
            </p>
            <p>
                <a href=move || lang.get().href("/")>{move || lang.get().pick("概要へ戻る", "Back to the overview")}</a>
            </p>
        </section>
    }
}

#[component]
fn SystemView(detail: SystemDetail) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let SystemDetail {
        id,
        name,
        category,
        native_mfa,
        renewal,
        status,
        coverage,
        successful,
        direct_2fa,
        combined_measures,
        not_met,
        failed,
        from,
        to,
        days,
        reasons,
        terminals,
    } = detail;
    let (st_ja, st_en, tone) = status_text(&status);
    let title = format!("{name} — 門番");
    let coverage_text = labels::coverage(coverage, successful);
    let fact = |ja: &'static str, en: &'static str, value: AnyView| {
        view! {
            <div>
                <dt>{move || lang.get().pick(ja, en)}</dt>
                <dd>{value}</dd>
            </div>
        }
    };
    let category_text = if l == Lang::Ja {
        labels::category(&category).to_string()
    } else {
        category.clone()
    };
    let mfa = if native_mfa {
        l.pick("あり", "yes")
    } else {
        l.pick("なし", "no")
    };
    let renewal_text = renewal.unwrap_or_else(|| "—".to_string());
    let count = |ja: &'static str, en: &'static str, testid: &'static str, n: u64| {
        let class = if testid == "count-not-met" && n > 0 {
            "sys-count sys-count--alert"
        } else {
            "sys-count"
        };
        view! {
            <div class=class>
                <dt>{move || lang.get().pick(ja, en)}</dt>
                <dd data-testid=testid>{n}</dd>
            </div>
        }
    };
    let (header_id, header_status, badge_status) = (id.clone(), status.clone(), status.clone());
    let (from_value, to_value) = (jst_date(&from), jst_date(&to));
    view! {
        <Title text=title />
        <section
            class="panel sys-header"
            aria-labelledby="sys-heading"
            data-testid="system-header"
            data-system-id=header_id
            data-status=header_status
        >
            <h2 id="sys-heading" class="panel__title">
                {name}
                <small class="code">{id}</small>
            </h2>
            <dl class="sys-facts">
                {fact("区分", "Category", view! { <span>{category_text}</span> }.into_any())}
                {fact("二要素機能", "Native MFA", view! { <span>{mfa}</span> }.into_any())}
                {fact("更改予定", "Renewal", view! { <span class="mono">{renewal_text}</span> }.into_any())}
                {fact(
                    "状態",
                    "Status",
                    view! {
                        <span class=format!("badge badge--{tone}") data-testid="system-status" data-status=badge_status>
                            {l.pick(st_ja, st_en).to_string()}
                        </span>
                    }
                        .into_any(),
                )}
                {fact(
                    "充足率",
                    "Coverage",
                    view! { <span class="sys-coverage" data-testid="system-coverage">{coverage_text}</span> }.into_any(),
                )}
                {fact(
                    "集計期間 (JST)",
                    "Period (JST)",
                    view! {
                        <span>
                            <time datetime=from.clone()>{labels::jst_time(&from)}</time>
                            " 〜 "
                            <time datetime=to.clone()>{labels::jst_time(&to)}</time>
                        </span>
                    }
                        .into_any(),
                )}
            </dl>
            <dl class="sys-counts">
                {count("成功ログイン", "Successful", "count-successful", successful)}
                {count("直接二要素", "Direct 2FA", "count-direct", direct_2fa)}
                {count("複合対策", "Combined", "count-combined", combined_measures)}
                {count("未達", "Not met", "count-not-met", not_met)}
                {count("失敗", "Failed", "count-failed", failed)}
            </dl>
        </section>
        <PeriodForm from=from_value to=to_value />
        <VerdictMix days />
        <ReasonGroups reasons />
        <Terminals terminals />
    }
}

/// The JST date (`YYYY-MM-DD`) of an RFC 3339 instant, for the date inputs.
fn jst_date(rfc3339: &str) -> String {
    labels::jst_time(rfc3339).chars().take(10).collect()
}

/// 集計期間: a plain GET form (works before hydration and without JavaScript); the
/// dates are days in Asia/Tokyo, both included.
#[component]
fn PeriodForm(from: String, to: String) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let lang_field =
        (l == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> });
    view! {
        <form method="get" class="sys-period" data-testid="period-form">
            <label>
                <span>{l.pick("開始日 (JST)", "From (JST)")}</span>
                <input type="date" name="from" value=from required=true />
            </label>
            <label>
                <span>{l.pick("終了日 (JST)", "To (JST)")}</span>
                <input type="date" name="to" value=to required=true />
            </label>
            {lang_field}
            <button type="submit" class="sys-period__go">{l.pick("集計する", "Show")}</button>
        </form>
    }
}

/// Chart geometry: fixed, so nothing shifts when data arrives.
const CHART_W: u32 = 600;
const CHART_H: u32 = 160;

/// 判定の推移: stacked bars per day, with a table alternative.
#[component]
fn VerdictMix(days: Vec<VerdictDay>) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let max = days
        .iter()
        .map(|d| d.direct_2fa + d.combined_measures + d.not_met)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = days.len().max(1) as f64;
    let slot = f64::from(CHART_W) / n;
    let bar_w = (slot * 0.8).max(1.0);
    let scale = f64::from(CHART_H - 4) / max as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = i as f64 * slot + (slot - bar_w) / 2.0;
            let mut y = f64::from(CHART_H);
            let parts = [
                (d.direct_2fa, "sys-mix__direct"),
                (d.combined_measures, "sys-mix__combined"),
                (d.not_met, "sys-mix__gap"),
            ];
            parts
                .into_iter()
                .filter(|(v, _)| *v > 0)
                .map(|(v, class)| {
                    let h = v as f64 * scale;
                    y -= h;
                    view! {
                        <rect class=class x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{bar_w:.1}") height=format!("{h:.1}")></rect>
                    }
                })
                .collect_view()
        })
        .collect_view();
    let total: u64 = days
        .iter()
        .map(|d| d.direct_2fa + d.combined_measures + d.not_met)
        .sum();
    let summary = format!(
        "{} {} {}",
        l.pick("日ごとの判定の内訳。", "Verdicts per day."),
        days.len(),
        l.pick(
            &format!("日間、成功ログイン {total} 件。詳細は下の表。"),
            &format!("days, {total} successful logins. Details in the table below.")
        ),
    );
    let rows = days
        .into_iter()
        .filter(|d| d.direct_2fa + d.combined_measures + d.not_met > 0)
        .map(|d| {
            let row_day = d.day.clone();
            view! {
                <tr data-testid="mix-row" data-day=row_day>
                    <th scope="row" data-label=l.pick("日付", "Day").to_string() class="mono">{d.day}</th>
                    <td data-label=l.pick("直接二要素", "Direct 2FA").to_string() class="num" data-testid="mix-direct">{d.direct_2fa}</td>
                    <td data-label=l.pick("複合対策", "Combined").to_string() class="num" data-testid="mix-combined">{d.combined_measures}</td>
                    <td data-label=l.pick("未達", "Not met").to_string() class="num" data-testid="mix-not-met">{d.not_met}</td>
                </tr>
            }
        })
        .collect_view();
    let (d_ja, d_en) = verdict_text(monban_core::VerdictKind::Direct2fa);
    let (c_ja, c_en) = verdict_text(monban_core::VerdictKind::CombinedMeasures);
    let (g_ja, g_en) = verdict_text(monban_core::VerdictKind::NotMet);
    view! {
        <section class="panel" aria-labelledby="mix-heading">
            <h2 id="mix-heading" class="panel__title">
                {l.pick("判定の推移", "Verdict mix over time")}
                <span class="panel__sub">{l.pick("（日別・JST）", " (per day, JST)")}</span>
            </h2>
            <figure class="sys-mix">
                <svg
                    class="sys-mix__chart"
                    data-testid="verdict-mix"
                    viewBox=format!("0 0 {CHART_W} {CHART_H}")
                    width=CHART_W
                    height=CHART_H
                    preserveAspectRatio="none"
                    role="img"
                    aria-label=summary.clone()
                >
                    <title>{summary.clone()}</title>
                    <line class="sys-mix__axis" x1="0" y1=CHART_H x2=CHART_W y2=CHART_H></line>
                    {bars}
                </svg>
                <figcaption class="sys-mix__legend">
                    <span class="sys-key sys-key--direct">{l.pick(d_ja, d_en)}</span>
                    <span class="sys-key sys-key--combined">{l.pick(c_ja, c_en)}</span>
                    <span class="sys-key sys-key--gap">{l.pick(g_ja, g_en)}</span>
                    <span class="muted">{l.pick(format!("最大 {max} 件/日").as_str(), format!("max {max}/day").as_str()).to_string()}</span>
                </figcaption>
            </figure>
            <details class="sys-mix__table">
                <summary>{l.pick("表で見る", "Show as a table")}</summary>
                <div class="table-wrap">
                    <table class="grid grid--mix">
                        <thead>
                            <tr>
                                <th scope="col">{l.pick("日付", "Day")}</th>
                                <th scope="col" class="num">{l.pick(d_ja, d_en)}</th>
                                <th scope="col" class="num">{l.pick(c_ja, c_en)}</th>
                                <th scope="col" class="num">{l.pick(g_ja, g_en)}</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            </details>
        </section>
    }
}

/// 未達の理由: one group per reason with what fixes it.
#[component]
fn ReasonGroups(reasons: Vec<ReasonGroup>) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let body = if reasons.is_empty() {
        view! { <p class="notice" data-testid="no-reasons">{l.pick("期間中に未達のログインはありません", "No not-met logins in the period")}</p> }
            .into_any()
    } else {
        reasons
            .into_iter()
            .map(|g| {
                let (ja, en, fix_ja, fix_en, link) = reason_text(&g.reason);
                let label = l.pick(ja, en).to_string();
                let fix = l.pick(fix_ja, fix_en).to_string();
                let code = g.reason.clone();
                let group_code = code.clone();
                let link = link.map(|path| {
                    let text = match path {
                        "/rooms" => l.pick("部屋と扉を見る", "See rooms & doors"),
                        _ => l.pick("棚卸しを見る", "See the inventory"),
                    };
                    view! { <a class="sys-fix__link" href=l.href(path)>{text}</a> }
                });
                let logins = g
                    .latest
                    .into_iter()
                    .map(|r| {
                        let href = l.href(&format!("/logins/{}", r.event_id));
                        let time = labels::jst_time(&r.ts);
                        let link_id = r.event_id.clone();
                        view! {
                            <li>
                                <a href=href data-testid="reason-login" data-event-id=link_id class="mono">{r.event_id}</a>
                                " "
                                <time datetime=r.ts class="mono">{time}</time>
                                " "
                                <span class="mono">{r.account}</span>
                                " @ "
                                <span class="mono">{r.terminal}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <article class="sys-reason" data-testid="reason-group" data-reason=group_code>
                        <h3 class="sys-reason__title">
                            {label}
                            " "
                            <small class="code">{code}</small>
                            <span class="sys-reason__count" data-testid="reason-count">{g.count}</span>
                            <span class="visually-hidden">{l.pick("件", " logins")}</span>
                        </h3>
                        <p class="sys-fix" data-testid="reason-fix">
                            <strong>{l.pick("対処: ", "Fix: ")}</strong>
                            {fix}
                            " "
                            {link}
                        </p>
                        <ul class="sys-reason__logins">{logins}</ul>
                    </article>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="reasons-heading">
            <h2 id="reasons-heading" class="panel__title">
                {l.pick("未達の理由と対処", "Why logins were not met, and what fixes it")}
            </h2>
            {body}
        </section>
    }
}

/// 端末と部屋: the terminals this system's logins came from.
#[component]
fn Terminals(terminals: Vec<TerminalUse>) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let body = if terminals.is_empty() {
        view! { <p class="notice">{l.pick("期間中のログインはありません", "No logins in the period")}</p> }.into_any()
    } else {
        let rows = terminals
            .into_iter()
            .map(|t| {
                let room = match (t.room, t.controlled) {
                    (Some(name), Some(c)) => {
                        let note = if c {
                            l.pick("入室管理あり", "entry controlled")
                        } else {
                            l.pick("入室管理なし", "not controlled")
                        };
                        view! {
                            <span class="cell-main">{name}</span>
                            <small class="sub">{note}</small>
                        }
                            .into_any()
                    }
                    _ => view! { <span class="muted">{l.pick("棚卸しにない端末", "not in the inventory")}</span> }.into_any(),
                };
                let class = if t.not_met > 0 { "num num--alert" } else { "num" };
                let row_terminal = t.terminal.clone();
                view! {
                    <tr data-testid="terminal-row" data-terminal=row_terminal>
                        <th scope="row" data-label=l.pick("端末", "Terminal").to_string()>
                            <span class="cell-main mono">{t.terminal}</span>
                        </th>
                        <td data-label=l.pick("部屋", "Room").to_string()>{room}</td>
                        <td data-label=l.pick("成功ログイン", "Successful").to_string() class="num" data-testid="terminal-logins">{t.logins}</td>
                        <td data-label=l.pick("未達", "Not met").to_string() class=class data-testid="terminal-not-met">{t.not_met}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="grid grid--terminals">
                    <thead>
                        <tr>
                            <th scope="col">{l.pick("端末", "Terminal")}</th>
                            <th scope="col">{l.pick("部屋", "Room")}</th>
                            <th scope="col" class="num">{l.pick("成功ログイン", "Successful")}</th>
                            <th scope="col" class="num">{l.pick("未達", "Not met")}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-labelledby="terminals-heading">
            <h2 id="terminals-heading" class="panel__title">
                {l.pick("端末と部屋", "Terminals and rooms")}
            </h2>
            {body}
        </section>
    }
}
