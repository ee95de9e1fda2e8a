//! The audit trail (`/audit`, admin and auditor): who did what, when, from where —
//! newest first, 100 per page (`?before=<seq>` for older ones), filtered by action
//! prefix (`?action=signin`), and the CSV export `GET /audit.csv?from=&to=` (served by
//! the hub, `monban_server::http::forms`).
//!
//! Test ids: `audit-table`, `audit-row` (`data-seq`, `data-action`), `audit-older`,
//! `audit-filter`, `audit-csv`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::Layout;
use crate::i18n::{use_lang, Lang};
use crate::labels;

/// Lines per page.
pub const PAGE: i64 = 100;

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    /// JSON.
    pub detail: String,
    pub address: String,
}

/// One page of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPageView {
    /// Newest first.
    pub entries: Vec<AuditView>,
    /// The `before` of the next (older) page, when there may be one.
    pub older: Option<i64>,
}

/// What the audit page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AuditSource: Send + Sync + 'static {
    /// At most `limit` lines older than `before`, whose action starts with `action`.
    async fn audit(
        &self,
        _limit: i64,
        _before: Option<i64>,
        _action: Option<String>,
    ) -> Result<Vec<AuditView>, crate::api::SourceError> {
        Err("the audit trail is not available".into())
    }
}

/// The audit page's data (`GET /api/dash/audit`).
#[server(prefix = "/api/dash", endpoint = "audit", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_audit(
    before: Option<i64>,
    action: Option<String>,
) -> Result<AuditPageView, DashError> {
    use crate::pages::account::{no_store, source, unavailable};
    no_store();
    crate::auth::require(crate::auth::Permission::ReadAudit)?;
    let action = action.filter(|a| !a.trim().is_empty());
    let entries = source()?
        .audit(PAGE, before, action)
        .await
        .map_err(unavailable("audit"))?;
    let older = (entries.len() as i64 >= PAGE)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(AuditPageView { entries, older })
}

/// The action filters offered as links.
const FILTERS: [(&str, &str, &str); 7] = [
    ("", "すべて", "All"),
    ("signin", "サインイン", "Sign-in"),
    ("invite", "登録リンク", "Invites"),
    ("passkey", "パスキー", "Passkeys"),
    ("user", "ユーザー", "Users"),
    ("token", "トークン", "Tokens"),
    ("inventory", "棚卸し", "Inventory"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let before = move || {
        query
            .with(|q| q.get("before"))
            .and_then(|b| b.parse::<i64>().ok())
    };
    let action = move || query.with(|q| q.get("action")).filter(|a| !a.is_empty());
    let data = Resource::new(
        move || (lang.get(), before(), action()),
        |(_, before, action)| get_audit(before, action),
    );
    view! {
        <Layout testid="audit">
            <Title text=move || format!("{} — 門番", lang.get().pick("監査ログ", "Audit trail")) />
            <section class="panel audit">
                <h2 class="panel__title">{move || lang.get().pick("監査ログ", "Audit trail")}</h2>
                {move || {
                    let l = lang.get();
                    let current = action().unwrap_or_default();
                    view! {
                        <nav class="audit__filters" aria-label=l.pick("操作で絞り込み", "Filter by action") data-testid="audit-filter">
                            {FILTERS.iter().map(|(code, ja, en)| {
                                let href = if code.is_empty() { l.href("/audit") } else { l.href(&format!("/audit?action={code}")) };
                                let here = if *code == current { Some("page") } else { None };
                                view! { <a href=href aria-current=here class="audit__filter">{l.pick(ja, en).to_string()}</a> }
                            }).collect_view()}
                        </nav>
                        <form method="get" action="/audit.csv" class="inline-form audit__csv">
                            <label>{l.pick("開始日", "From")}<input type="date" name="from" /></label>
                            <label>{l.pick("終了日", "To")}<input type="date" name="to" /></label>
                            <button type="submit" data-testid="audit-csv">{l.pick("CSVで出力", "Export CSV")}</button>
                        </form>
                    }
                }}
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => view! { <AuditBody v action=action() /> }.into_any(),
                            Err(e) => view! {
                                <p class="notice notice--error" role="alert" data-testid="error">{e.to_string()}</p>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Layout>
    }
}

/// The actor column: the name, then the id.
fn who(a: &AuditView) -> String {
    if a.actor_name.is_empty() {
        a.actor.clone()
    } else {
        format!("{} ({})", a.actor_name, a.actor)
    }
}

#[component]
fn AuditBody(v: AuditPageView, action: Option<String>) -> impl IntoView {
    let l = use_lang().get_untracked();
    let older = v.older.map(|seq| {
        let mut path = format!("/audit?before={seq}");
        if let Some(a) = &action {
            path.push_str(&format!("&action={a}"));
        }
        view! {
            <p class="audit__more">
                <a href=l.href(&path) data-testid="audit-older">{l.pick("さらに古い記録", "Older entries")}</a>
            </p>
        }
    });
    if v.entries.is_empty() {
        return view! { <p class="notice" data-testid="audit-empty">{l.pick("記録はありません", "No entries")}</p> }
            .into_any();
    }
    let rows = v
        .entries
        .into_iter()
        .map(|a| {
            view! {
                <tr data-testid="audit-row" data-seq=a.seq.to_string() data-action=a.action.clone()>
                    <td data-label=l.pick("日時 (JST)", "When (JST)")><time datetime=a.at.clone()>{labels::jst_time(&a.at)}</time></td>
                    <td data-label=l.pick("誰が", "Who")>{who(&a)}</td>
                    <td data-label=l.pick("操作", "Action")>
                        {labels::audit_action(&a.action, l == Lang::En).to_string()}
                        <span class="code">{a.action.clone()}</span>
                    </td>
                    <td data-label=l.pick("対象", "Target")><code>{a.target.clone()}</code></td>
                    <td data-label=l.pick("詳細", "Detail")><code class="audit__detail">{a.detail.clone()}</code></td>
                    <td data-label=l.pick("接続元", "Address")><code>{a.address.clone()}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="grid grid--cards" data-testid="audit-table">
                <thead><tr>
                    <th scope="col">{l.pick("日時 (JST)", "When (JST)")}</th>
                    <th scope="col">{l.pick("誰が", "Who")}</th>
                    <th scope="col">{l.pick("操作", "Action")}</th>
                    <th scope="col">{l.pick("対象", "Target")}</th>
                    <th scope="col">{l.pick("詳細", "Detail")}</th>
                    <th scope="col">{l.pick("接続元", "Address")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {older}
    }
    .into_any()
}
