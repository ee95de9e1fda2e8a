//! Dead letters (不正データ): payloads the hub could not use, newest first, with source,
//! origin, door, time (JST), reason and the payload as escaped text.
//!
//! The rows are the same as `GET /api/v1/dead-letters` (the newest 500); `?source=mqtt`
//! (or `modbus`, `http`) keeps one source's rows. A payload longer than
//! [`PREVIEW_CHARS`] is shown truncated, with the whole text in a `<details>` element
//! (keyboard accessible, no script). Leptos escapes every text node, so a payload that
//! holds markup is shown, never interpreted.
//!
//! # Test hooks
//! - `data-testid="dead-letters-count"` with `data-count` — the number of rows shown.
//! - `data-testid="dead-letter-row"` with `data-id`, `data-source` — one per letter.
//! - `data-testid="dead-letter-payload"` — the whole payload text of a row.
//! - `data-testid="source-filter"` — the filter links (`aria-current` on the active one).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{use_live_tick, Layout};
use crate::i18n::{use_lang, Lang};
use crate::labels;

/// Characters of a payload shown before it is folded into `<details>`.
pub const PREVIEW_CHARS: usize = 120;

/// The sources a dead letter can come from, for the filter.
pub const SOURCES: [&str; 3] = ["mqtt", "modbus", "http"];

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterRow {
    pub id: i64,
    pub source: String,
    pub origin: String,
    pub door: Option<String>,
    /// RFC 3339.
    pub received_at: String,
    pub reason: String,
    /// The payload as text (invalid UTF-8 replaced).
    pub payload: String,
}

/// What this page needs from the hub (implemented by the server over its store).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DeadLettersSource: Send + Sync + 'static {
    /// The newest dead letters (as `GET /api/v1/dead-letters`), only `source`'s when given.
    async fn dead_letters(
        &self,
        source: Option<String>,
    ) -> Result<Vec<DeadLetterRow>, crate::api::SourceError>;
}

/// The dead letters, newest first, optionally of one source.
#[server(prefix = "/api/dash", endpoint = "dead-letters", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_dead_letters(source: Option<String>) -> Result<Vec<DeadLetterRow>, DashError> {
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
    // Only the known sources filter; anything else shows everything.
    let source = source.filter(|s| SOURCES.contains(&s.as_str()));
    let mut rows = data.dead_letters(source).await.map_err(|message| {
        tracing::warn!(error = %message, "dashboard: dead letters failed");
        DashError::Unavailable
    })?;
    // Payloads carry card ids and names: only roles that read compliance see them.
    let sees_people =
        crate::auth::current_role().is_some_and(|r| r.can(crate::auth::Permission::ReadCompliance));
    if !sees_people {
        for r in &mut rows {
            r.payload = redacted_payload(r.payload.len());
        }
    }
    Ok(rows)
}

/// What a role without compliance read (facilities) sees instead of a payload of `len`
/// bytes: the dashboard and `GET /api/v1/dead-letters` alike.
pub fn redacted_payload(len: usize) -> String {
    format!("[非表示 / redacted: {len} bytes]")
}

#[component]
pub fn DeadLettersPage() -> impl IntoView {
    let lang = use_lang();
    let tick = use_live_tick();
    let query = use_query_map();
    let source = Memo::new(move |_| {
        query
            .with(|q| q.get("source"))
            .filter(|s| SOURCES.contains(&s.as_str()))
    });
    let letters = Resource::new(
        move || (tick.get(), source.get()),
        |(_, source)| get_dead_letters(source),
    );
    view! {
        <Layout testid="dead-letters">
            <Title text=move || format!("{} — 門番", lang.get().pick("不正データ", "Dead letters")) />
            <section class="panel deadletters" aria-labelledby="dead-letters-heading">
                <h2 id="dead-letters-heading" class="panel__title">
                    {move || lang.get().pick("不正データ", "Dead letters")}
                </h2>
                <p class="deadletters__intro">
                    {move || {
                        lang.get()
                            .pick(
                                "扉の制御装置などから届いたが解釈できなかったデータです。コネクタは止まらず、内容はここに残ります（新しい順、最大500件）。",
                                "Payloads from door controllers that the hub could not use. The connector keeps running; the payload is kept here (newest first, at most 500).",
                            )
                    }}
                </p>
                <SourceFilter lang source />
                <Transition fallback=move || {
                    view! { <p class="notice">{move || lang.get().pick("読み込み中…", "Loading…")}</p> }
                }>
                    {move || Suspend::new(async move {
                        match letters.await {
                            Ok(rows) => view! { <LettersTable rows lang /> }.into_any(),
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
            </section>
        </Layout>
    }
}

/// Links for all sources and each one (plain links: work without script).
#[component]
fn SourceFilter(lang: Memo<Lang>, source: Memo<Option<String>>) -> impl IntoView {
    let links = move || {
        let l = lang.get();
        let current = source.get();
        let mut items = vec![(
            None,
            l.href("/dead-letters"),
            l.pick("すべて", "All").to_string(),
        )];
        for s in SOURCES {
            items.push((
                Some(s.to_string()),
                l.href(&format!("/dead-letters?source={s}")),
                labels::door_source(s).to_string(),
            ));
        }
        items
            .into_iter()
            .map(|(value, href, label)| {
                let active = (value == current).then_some("page");
                view! {
                    <li>
                        <a href=href class="deadletters__filter" aria-current=active>
                            {label}
                        </a>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <nav class="deadletters__filters" data-testid="source-filter" aria-label=move || lang.get().pick("送信元で絞り込み", "Filter by source")>
            <ul>{links}</ul>
        </nav>
    }
}

#[component]
fn LettersTable(rows: Vec<DeadLetterRow>, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let count = rows.len();
    let summary = view! {
        <p class="deadletters__count" data-testid="dead-letters-count" data-count=count.to_string()>
            {match l {
                Lang::Ja => format!("{count} 件"),
                Lang::En => format!("{count} dead letter{}", if count == 1 { "" } else { "s" }),
            }}
        </p>
    };
    if rows.is_empty() {
        return view! {
            {summary}
            <p class="notice">{l.pick("不正データはありません", "No dead letters")}</p>
        }
        .into_any();
    }
    let h_time = l.pick("受信時刻 (JST)", "Received (JST)");
    let h_source = l.pick("送信元", "Source");
    let h_origin = l.pick("発生元", "Origin");
    let h_door = l.pick("扉", "Door");
    let h_reason = l.pick("理由", "Reason");
    let h_payload = l.pick("内容", "Payload");
    let show_all = l.pick("全文を表示", "Show all");
    let body = rows
        .into_iter()
        .map(|row| {
            let DeadLetterRow {
                id,
                source,
                origin,
                door,
                received_at,
                reason,
                payload,
            } = row;
            let time = labels::jst_time(&received_at);
            let source_label = labels::door_source(&source).to_string();
            let row_source = source.clone();
            let chars = payload.chars().count();
            let payload_view = if chars > PREVIEW_CHARS {
                let preview: String = payload.chars().take(PREVIEW_CHARS).collect();
                view! {
                    <details class="deadletters__details">
                        <summary>
                            <code class="deadletters__payload">{format!("{preview}…")}</code>
                            <span class="deadletters__more">{format!("{show_all} ({chars})")}</span>
                        </summary>
                        <pre class="deadletters__payload" data-testid="dead-letter-payload">{payload}</pre>
                    </details>
                }
                .into_any()
            } else {
                view! { <pre class="deadletters__payload" data-testid="dead-letter-payload">{payload}</pre> }.into_any()
            };
            view! {
                <tr data-testid="dead-letter-row" data-id=id.to_string() data-source=row_source>
                    <td data-label=h_time>
                        <time datetime=received_at class="mono">{time}</time>
                    </td>
                    <td data-label=h_source>
                        <span class="cell-main">{source_label}</span>
                        <small class="code">{source}</small>
                    </td>
                    <td data-label=h_origin>
                        <span class="mono deadletters__origin">{origin}</span>
                    </td>
                    <td data-label=h_door>
                        {match door {
                            Some(d) => view! { <span class="mono">{d}</span> }.into_any(),
                            None => view! { <span class="muted">"—"</span> }.into_any(),
                        }}
                    </td>
                    <td data-label=h_reason>{reason}</td>
                    <td data-label=h_payload>{payload_view}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {summary}
        <div class="table-wrap">
            <table class="grid grid--deadletters">
                <thead>
                    <tr>
                        <th scope="col">{h_time}</th>
                        <th scope="col">{h_source}</th>
                        <th scope="col">{h_origin}</th>
                        <th scope="col">{h_door}</th>
                        <th scope="col">{h_reason}</th>
                        <th scope="col">{h_payload}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}
