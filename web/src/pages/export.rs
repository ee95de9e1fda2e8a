//! Export for the inspection file (出力): compliance (CONTRACT §8) and the evidence of
//! every login for a period, as CSV downloads and as a printable page.
//!
//! The period is chosen with a plain GET form (`/export?from=2026-10-22&to=2026-11-21`),
//! so it works without script. `from` and `to` are dates (`YYYY-MM-DD`, whole days at the
//! page's offset, `to` inclusive) or RFC 3339 instants; the default is the 30 days up to
//! now, like `GET /api/v1/compliance` (`monban_core::Period::parse`). The offset is
//! `+09:00` (JST) unless `?tz=` says otherwise (`monban_core::SiteOffset::parse`).
//!
//! The CSV files are served by the hub (`server/src/http/export.rs`):
//! `GET /export/compliance.csv?from=&to=` and `GET /export/evidence.csv?from=&to=`
//! (same parameters), UTF-8 with a BOM so Excel reads Japanese, RFC 4180 quoting. Like the
//! dashboard they need no sign-in yet; issue 5 puts both behind the dashboard's session.
//!
//! The page prints as a report: `@media print` hides the navigation and the form, keeps
//! table rows whole and shows a header with the site, the period and the time generated.
//!
//! # Test hooks
//! - `data-testid="export-form"`, `export-csv-compliance`, `export-csv-evidence` (links).
//! - `data-testid="export-period"` with `data-from`, `data-to` (RFC 3339).
//! - `data-testid="export-system-row"` with `data-system-id`, cells `count-successful`,
//!   `count-direct`, `count-combined`, `count-not-met`, `count-failed`, `coverage`.
//! - `data-testid="export-login-row"` with `data-event-id`, `data-verdict`;
//!   `data-testid="export-login-count"` with `data-count` (logins in the period).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{use_live_tick, Layout};
use crate::i18n::{use_lang, Lang};
use crate::labels;
use crate::model::SystemRow;
use crate::pages::evidence::{local_time, offset_label, verdict_label};
use monban_core::SiteOffset;

/// How many logins the printable page lists (the CSV has all of them).
pub const PAGE_LOGINS: usize = 2000;

/// One login as the evidence export lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub event_id: String,
    /// RFC 3339.
    pub ts: String,
    pub system: String,
    pub system_name: String,
    pub account: String,
    pub person: Option<String>,
    pub terminal: String,
    pub room: Option<String>,
    pub factors: Vec<String>,
    pub outcome: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub is_final: bool,
    pub entry_door: Option<String>,
    pub entry_time: Option<String>,
    pub credential_type: Option<String>,
}

/// A period's compliance and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportData {
    pub site_name: String,
    pub generated_at: String,
    /// RFC 3339 bounds (`from <= ts <= to`, as §8).
    pub from: String,
    pub to: String,
    /// The dates for the form, at the page's offset.
    pub from_date: String,
    pub to_date: String,
    pub systems: Vec<SystemRow>,
    pub logins: Vec<EvidenceRow>,
    /// Logins in the period (may exceed `logins.len()` on the page).
    pub login_count: usize,
    /// The evidence chain's head the data was read after (`SEQ:HASH`, CONTRACT §13;
    /// empty while the chain is).
    #[serde(default)]
    pub evidence_head: String,
}

/// What this page needs from the hub (implemented by the server over its store).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ExportSource: Send + Sync + 'static {
    /// Compliance and up to `limit` logins for the period (`from`/`to` as the query has
    /// them, parsed with `monban_core::Period::parse` at `offset`). A period that does
    /// not parse is [`SourceError::Invalid`](crate::api::SourceError::Invalid), with a
    /// message for the officer.
    async fn export(
        &self,
        from: Option<String>,
        to: Option<String>,
        offset: SiteOffset,
        limit: usize,
    ) -> Result<ExportData, crate::api::SourceError>;
}

/// The period's compliance and evidence (`offset` in seconds east of UTC). A bad period
/// is an `Ok(Err(message))`, shown next to the form.
#[server(prefix = "/api/dash", endpoint = "export", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_export(
    from: Option<String>,
    to: Option<String>,
    offset: i32,
) -> Result<Result<ExportData, String>, DashError> {
    use std::sync::Arc;

    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    let Some(data) = use_context::<Arc<dyn crate::DashboardSource>>() else {
        tracing::error!("dashboard: no Arc<dyn DashboardSource> in context");
        return Err(DashError::NotConfigured);
    };
    let Ok(offset) = SiteOffset::from_seconds(offset) else {
        return Ok(Err("invalid offset".to_string()));
    };
    match data.export(from, to, offset, PAGE_LOGINS).await {
        Ok(d) => Ok(Ok(d)),
        Err(crate::api::SourceError::Invalid(m)) => Ok(Err(m)),
        Err(e) => {
            tracing::warn!(error = ?e, "dashboard: export failed");
            Err(DashError::Unavailable)
        }
    }
}

/// `?from=…&to=…&tz=…` for the CSV links (dates are plain ASCII; the offset is encoded).
fn csv_query(from: &str, to: &str, offset: SiteOffset) -> String {
    let mut q = format!("from={from}&to={to}");
    if offset != SiteOffset::JST {
        q.push_str(&format!("&tz={}", offset.to_string().replace('+', "%2B")));
    }
    q
}

#[component]
pub fn ExportPage() -> impl IntoView {
    let lang = use_lang();
    let tick = use_live_tick();
    let query = use_query_map();
    let offset = crate::pages::evidence::use_offset();
    let params = Memo::new(move |_| query.with(|q| (q.get("from"), q.get("to"))));
    let data = Resource::new(
        move || (tick.get(), params.get(), offset.get()),
        |(_, (from, to), offset)| get_export(from, to, offset.seconds()),
    );
    view! {
        <Layout testid="export">
            <Title text=move || format!("{} — 門番", lang.get().pick("出力", "Export")) />
            <Transition fallback=move || {
                view! { <p class="notice">{move || lang.get().pick("読み込み中…", "Loading…")}</p> }
            }>
                {move || Suspend::new(async move {
                    let l = lang.get_untracked();
                    let (from, to) = params.get_untracked();
                    match data.await {
                        Ok(Ok(d)) => view! { <ExportView d lang offset /> }.into_any(),
                        Ok(Err(message)) => {
                            view! {
                                <PeriodForm lang from=from.unwrap_or_default() to=to.unwrap_or_default() offset=offset.get_untracked() />
                                <p class="notice notice--error" role="alert" data-testid="export-error">
                                    {l.pick("期間を読み取れません: ", "Cannot read the period: ")}
                                    {message}
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <p class="notice notice--error" role="alert" data-testid="error">
                                    {error.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </Layout>
    }
}

/// The period form: a plain GET form, works without script.
#[component]
fn PeriodForm(lang: Memo<Lang>, from: String, to: String, offset: SiteOffset) -> impl IntoView {
    let l = lang.get_untracked();
    let tz = (offset != SiteOffset::JST).then(|| offset.to_string());
    view! {
        <form class="export__form panel" method="get" action="/export" data-testid="export-form">
            <h2 class="panel__title">{l.pick("出力する期間", "Period")}</h2>
            <div class="export__fields">
                <label class="export__field">
                    <span>{l.pick("開始日", "From")}</span>
                    <input type="date" name="from" value=from required />
                </label>
                <label class="export__field">
                    <span>{l.pick("終了日（この日を含む）", "To (inclusive)")}</span>
                    <input type="date" name="to" value=to required />
                </label>
                {(l == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
                {tz.map(|tz| view! { <input type="hidden" name="tz" value=tz /> })}
                <button type="submit" class="export__button">{l.pick("表示", "Show")}</button>
            </div>
        </form>
    }
}

#[component]
fn ExportView(d: ExportData, lang: Memo<Lang>, offset: Memo<SiteOffset>) -> impl IntoView {
    let l = lang.get_untracked();
    let off = offset.get_untracked();
    let zone = offset_label(off);
    let q = csv_query(&d.from_date, &d.to_date, off);
    let period = format!(
        "{} 〜 {} ({zone})",
        local_time(&d.from, off),
        local_time(&d.to, off)
    );
    let generated = format!("{} ({zone})", local_time(&d.generated_at, off));
    let shown = d.logins.len();
    let count = d.login_count;
    let h = |ja: &'static str, en: &'static str| l.pick(ja, en);
    let systems = d
        .systems
        .into_iter()
        .map(|s| {
            let badge = labels::status(&s.status);
            let status = match l {
                Lang::Ja => badge.label.to_string(),
                Lang::En => s.status.clone(),
            };
            let (row_id, row_status) = (s.id.clone(), s.status.clone());
            view! {
                <tr data-testid="export-system-row" data-system-id=row_id data-status=row_status>
                    <th scope="row" data-label=h("システム", "System")>
                        <span class="cell-main">{s.name}</span>
                        <small class="code">{s.id}</small>
                    </th>
                    <td data-label=h("状態", "Status")>
                        <span class=format!("badge badge--{}", badge.tone)>{status}</span>
                    </td>
                    <td data-label=h("充足率", "Coverage") data-testid="coverage">{labels::coverage(s.coverage, s.successful)}</td>
                    <td data-label=h("成功ログイン", "Successful") class="num" data-testid="count-successful">{s.successful}</td>
                    <td data-label=h("直接二要素", "Direct 2FA") class="num" data-testid="count-direct">{s.direct_2fa}</td>
                    <td data-label=h("複合対策", "Combined") class="num" data-testid="count-combined">{s.combined_measures}</td>
                    <td data-label=h("未達", "Not met") class="num" data-testid="count-not-met">{s.not_met}</td>
                    <td data-label=h("失敗", "Failed") class="num" data-testid="count-failed">{s.failed}</td>
                </tr>
            }
        })
        .collect_view();
    let logins = d
        .logins
        .into_iter()
        .map(|r| {
            let href = l.href(&format!("/logins/{}", urlencode(&r.event_id)));
            let entry = match (&r.entry_door, &r.entry_time, &r.credential_type) {
                (Some(door), Some(at), cred) => format!(
                    "{door} {} {}",
                    local_time(at, off),
                    cred.as_deref().unwrap_or("")
                ),
                _ => "—".to_string(),
            };
            view! {
                <tr data-testid="export-login-row" data-event-id=r.event_id.clone() data-verdict=r.verdict.clone()>
                    <td data-label=h("時刻", "Time")><time datetime=r.ts.clone() class="mono">{local_time(&r.ts, off)}</time></td>
                    <td data-label=h("ログイン", "Login")><a href=href class="mono">{r.event_id.clone()}</a></td>
                    <td data-label=h("システム", "System")>{r.system_name}</td>
                    <td data-label=h("アカウント", "Account")>
                        <span class="mono">{r.account}</span>
                        {r.person.map(|p| view! { <small class="sub">{p}</small> })}
                    </td>
                    <td data-label=h("端末", "Terminal")>
                        <span class="mono">{r.terminal}</span>
                        {r.room.map(|p| view! { <small class="sub">{p}</small> })}
                    </td>
                    <td data-label=h("要素", "Factors")>{r.factors.join(", ")}</td>
                    <td data-label=h("判定", "Verdict")>{verdict_label(l, &r.verdict)}</td>
                    <td data-label=h("理由", "Reasons")><span class="code">{r.reasons.join(", ")}</span></td>
                    <td data-label=h("確定", "Final")>{if r.is_final { h("確定", "final") } else { h("暫定", "provisional") }}</td>
                    <td data-label=h("入室", "Entry")>{entry}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <PeriodForm lang from=d.from_date.clone() to=d.to_date.clone() offset=off />
        <section class="panel export__downloads" aria-labelledby="export-csv-heading">
            <h2 id="export-csv-heading" class="panel__title">{h("CSV ダウンロード", "CSV downloads")}</h2>
            <ul class="export__links">
                <li>
                    <a href=format!("/export/compliance.csv?{q}") download data-testid="export-csv-compliance">
                        {h("システムごとの充足状況（CSV）", "Compliance per system (CSV)")}
                    </a>
                </li>
                <li>
                    <a href=format!("/export/evidence.csv?{q}") download data-testid="export-csv-evidence">
                        {h("ログインごとの証跡（CSV）", "Evidence per login (CSV)")}
                    </a>
                </li>
            </ul>
            <p class="muted">{h("UTF-8（BOM 付き）で Excel でもそのまま開けます。印刷はブラウザの印刷機能から（ナビゲーションは印刷されません）。", "UTF-8 with a BOM, so Excel opens it directly. Print this page with the browser's print command (navigation is left out).")}</p>
        </section>
        <header class="export__report-head">
            <p class="export__site" data-testid="site-name">{d.site_name}</p>
            <h2 class="export__title">{h("二要素認証 対応状況報告", "Two-factor authentication compliance report")}</h2>
            <dl class="export__meta">
                <div>
                    <dt>{h("対象期間", "Period")}</dt>
                    <dd data-testid="export-period" data-from=d.from.clone() data-to=d.to.clone()>{period}</dd>
                </div>
                <div>
                    <dt>{h("作成日時", "Generated at")}</dt>
                    <dd><time datetime=d.generated_at.clone()>{generated}</time></dd>
                </div>
                <div class="export__head">
                    <dt>{h("証跡チェーンの先頭", "Evidence head")}</dt>
                    <dd class="mono" data-testid="export-head">{d.evidence_head}</dd>
                </div>
            </dl>
        </header>
        <section class="panel" aria-labelledby="export-compliance-heading">
            <h2 id="export-compliance-heading" class="panel__title">{h("システムごとの充足状況", "Compliance per system")}</h2>
            <div class="table-wrap">
                <table class="grid grid--export-systems">
                    <thead>
                        <tr>
                            <th scope="col">{h("システム", "System")}</th>
                            <th scope="col">{h("状態", "Status")}</th>
                            <th scope="col">{h("充足率", "Coverage")}</th>
                            <th scope="col" class="num">{h("成功ログイン", "Successful")}</th>
                            <th scope="col" class="num">{h("直接二要素", "Direct 2FA")}</th>
                            <th scope="col" class="num">{h("複合対策", "Combined")}</th>
                            <th scope="col" class="num">{h("未達", "Not met")}</th>
                            <th scope="col" class="num">{h("失敗", "Failed")}</th>
                        </tr>
                    </thead>
                    <tbody>{systems}</tbody>
                </table>
            </div>
        </section>
        <section class="panel" aria-labelledby="export-logins-heading">
            <h2 id="export-logins-heading" class="panel__title">{h("ログインごとの証跡", "Evidence per login")}</h2>
            <p class="export__count" data-testid="export-login-count" data-count=count.to_string()>
                {match l {
                    Lang::Ja if shown < count => format!("{count} 件（先頭 {shown} 件を表示。全件は CSV に）"),
                    Lang::Ja => format!("{count} 件"),
                    Lang::En if shown < count => format!("{count} logins (first {shown} shown; the CSV has all)"),
                    Lang::En => format!("{count} logins"),
                }}
            </p>
            <div class="table-wrap">
                <table class="grid grid--export-logins">
                    <thead>
                        <tr>
                            <th scope="col">{format!("{} ({zone})", h("時刻", "Time"))}</th>
                            <th scope="col">{h("ログイン", "Login")}</th>
                            <th scope="col">{h("システム", "System")}</th>
                            <th scope="col">{h("アカウント", "Account")}</th>
                            <th scope="col">{h("端末", "Terminal")}</th>
                            <th scope="col">{h("要素", "Factors")}</th>
                            <th scope="col">{h("判定", "Verdict")}</th>
                            <th scope="col">{h("理由", "Reasons")}</th>
                            <th scope="col">{h("確定", "Final")}</th>
                            <th scope="col">{h("入室", "Entry")}</th>
                        </tr>
                    </thead>
                    <tbody>{logins}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Percent-encodes a path segment (event ids may hold any character).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        // Periods are parsed by `monban_core::Period::parse` (tested there).
        assert_eq!(urlencode("l-1/ä"), "l-1%2F%C3%A4");
        assert_eq!(
            csv_query("2026-11-01", "2026-11-02", SiteOffset::JST),
            "from=2026-11-01&to=2026-11-02"
        );
        assert_eq!(
            csv_query(
                "2026-11-01",
                "2026-11-02",
                SiteOffset::parse("+05:30").unwrap()
            ),
            "from=2026-11-01&to=2026-11-02&tz=%2B05:30"
        );
        assert_eq!(
            csv_query(
                "2026-11-01",
                "2026-11-02",
                SiteOffset::parse("-03:00").unwrap()
            ),
            "from=2026-11-01&to=2026-11-02&tz=-03:00"
        );
    }
}
