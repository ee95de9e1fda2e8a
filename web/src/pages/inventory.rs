//! The inventory (棚卸し): view and edit systems, rooms, doors, terminals, people with
//! credentials and accounts; CSV import with preview and row errors, CSV export; every
//! change recorded.
//!
//! Edits are plain HTML forms posted to the hub's `/inventory/…` routes
//! (`monban_server::inventory_csv`), so they work before and without hydration: a row
//! form or a pasted CSV becomes a *pending import*, and the page at
//! `/inventory?preview={id}` shows what it would change and every error (line, column,
//! reason); the officer applies or discards it. A file with an error cannot be applied.
//!
//! `monban.toml`'s inventory is imported only when it changed since its last import
//! (`Store::import_inventory` compares digests; edits made here do not touch
//! `inventory_imports`), so a restart with the same file keeps the edits; the page says so.
//! Limitation: the hub learns which doors the MQTT connector feeds at start, so a door
//! added here is shown as MQTT-fed, and covered by the connector's blind periods, only
//! after the next restart (its events and statuses count at once).
//!
//! Test ids: `inv-table` (`data-table`), `inv-row` (`data-key`), `inv-export`
//! (`data-table`), `inv-preview` (`data-id`, `data-errors`), `inv-added` / `inv-changed`
//! / `inv-removed` (`data-key`), `inv-error` (`data-line`, `data-column`), `inv-apply`,
//! `inv-applied` (`data-count`), `inv-change` (`data-action`, `data-table`, `data-key`).

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{csrf_token, use_live_tick, use_viewer, Layout};
use crate::i18n::{use_lang, Lang};
use crate::labels;

/// One inventory table as its CSV columns and rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableView {
    /// `rooms`, `doors`, `terminals`, `systems` or `people`.
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One row that an import adds, changes or removes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowDiff {
    pub key: String,
    /// Empty when added.
    pub before: Vec<String>,
    /// Empty when removed.
    pub after: Vec<String>,
}

/// A problem with an imported file: its line (1 = header; 0 = the file as a whole, e.g.
/// another table still refers to a removed row), column and reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// What a pending import would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub id: String,
    pub table: String,
    pub columns: Vec<String>,
    pub added: Vec<RowDiff>,
    pub changed: Vec<RowDiff>,
    pub removed: Vec<RowDiff>,
    pub unchanged: u64,
    pub errors: Vec<RowError>,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    pub at: String,
    pub who: String,
    /// `add`, `change` or `remove`.
    pub action: String,
    pub table: String,
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryView {
    pub tables: Vec<TableView>,
    pub preview: Option<ImportPreview>,
    /// Newest first.
    pub changes: Vec<ChangeView>,
}

/// What this page needs from the hub (implemented by the server over its store).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait InventorySource: Send + Sync + 'static {
    /// The inventory, the change log and, with `preview`, that pending import's preview.
    async fn inventory(
        &self,
        preview: Option<String>,
    ) -> Result<InventoryView, crate::api::SourceError>;
}

/// The inventory page's data (`GET /api/dash/inventory`).
#[server(prefix = "/api/dash", endpoint = "inventory", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_inventory(preview: Option<String>) -> Result<InventoryView, DashError> {
    use std::sync::Arc;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    let Some(source) = use_context::<Arc<dyn crate::DashboardSource>>() else {
        return Err(DashError::NotConfigured);
    };
    source.inventory(preview).await.map_err(|message| {
        tracing::warn!(error = %message, "dashboard: inventory failed");
        DashError::Unavailable
    })
}

fn table_label(name: &str, lang: Lang) -> &'static str {
    match name {
        "rooms" => lang.pick("部屋", "Rooms"),
        "doors" => lang.pick("扉", "Doors"),
        "terminals" => lang.pick("端末", "Terminals"),
        "systems" => lang.pick("システム", "Systems"),
        "vendors" => lang.pick("保守事業者", "Vendors"),
        "people" => lang.pick("職員", "People"),
        _ => "",
    }
}

fn action_label(action: &str, lang: Lang) -> &'static str {
    match action {
        "add" => lang.pick("追加", "added"),
        "change" => lang.pick("変更", "changed"),
        "remove" => lang.pick("削除", "removed"),
        _ => "",
    }
}

#[component]
pub fn InventoryPage() -> impl IntoView {
    let lang = use_lang();
    let tick = use_live_tick();
    let query = use_query_map();
    let data = Resource::new(
        move || (tick.get(), lang.get(), query.with(|q| q.get("preview"))),
        |(_, _, preview)| get_inventory(preview),
    );
    let applied = move || query.with(|q| q.get("applied"));
    let viewer = use_viewer();
    view! {
        <Layout testid="inventory">
            <Title text=move || format!("{} — 門番", lang.get().pick("棚卸し", "Inventory")) />
            <section class="panel inv">
                <h2 class="panel__title">{move || lang.get().pick("棚卸し", "Inventory")}</h2>
                {move || {
                    applied()
                        .map(|n| {
                            let l = lang.get();
                            view! {
                                <p class="notice" role="status" data-testid="inv-applied" data-count=n.clone()>
                                    {format!("{} {n}", l.pick("反映しました。変更行数:", "Applied. Rows changed:"))}
                                </p>
                            }
                        })
                }}
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        let csrf = csrf_token(viewer).await;
                        match data.await {
                            Ok(v) => view! { <InventoryBody data=v csrf /> }.into_any(),
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

#[component]
fn InventoryBody(data: InventoryView, csrf: String) -> impl IntoView {
    let lang = use_lang();
    let l = lang.get_untracked();
    let InventoryView {
        tables,
        preview,
        changes,
    } = data;
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    view! {
        {preview.map(|p| view! { <PreviewView p csrf=csrf.clone() /> }.into_any())}
        {tables.into_iter().map(|t| view! { <TableSection t csrf=csrf.clone() /> }.into_any()).collect_view()}
        <p class="sub inv__note" data-testid="inv-file-note">
            {l.pick(
                "monban.toml の棚卸しは、ファイルの内容が前回の取り込みから変わったときだけ取り込まれます。同じファイルで再起動しても画面での編集は残りますが、ファイルの棚卸しを書き換えると、ファイルの内容で置き換えられます。",
                "monban.toml's inventory is imported only when the file's inventory changed since its last import: a restart with the same file keeps the edits made here, while editing the file's inventory replaces them with the file's content.",
            )}
        </p>
        <section class="inv__import" aria-labelledby="inv-import-h">
            <h3 id="inv-import-h">{l.pick("CSVの取り込み", "Import CSV")}</h3>
            <p class="sub">
                {l.pick(
                    "表全体を置き換えます（ファイルにない行は削除）。反映前に変更内容を確認できます。",
                    "Replaces the whole table (rows not in the file are removed). You review the changes before they apply.",
                )}
            </p>
            <form method="post" action="/inventory/import" class="inv__form">
                <input type="hidden" name="_csrf" value=csrf.clone() />
                <input type="hidden" name="lang" value=l.code() />
                <label>
                    {l.pick("表", "Table")}
                    <select name="table">
                        {names.into_iter().map(|n| {
                            let label = table_label(&n, l);
                            view! { <option value=n.clone()>{format!("{label} ({n})")}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="inv__wide">
                    {l.pick("CSV（貼り付け）", "CSV (paste)")}
                    <textarea name="csv" rows="8" required=true></textarea>
                </label>
                <button type="submit">{l.pick("確認する", "Preview")}</button>
            </form>
        </section>
        {view! { <ChangeLog changes /> }.into_any()}
    }
    .into_any()
}

#[component]
fn TableSection(t: TableView, csrf: String) -> impl IntoView {
    let l = use_lang().get_untracked();
    let TableView {
        name,
        columns,
        rows,
    } = t;
    let label = table_label(&name, l);
    let heading_id = format!("inv-h-{name}");
    let labelled_by = heading_id.clone();
    let table_attr = name.clone();
    let export_attr = name.clone();
    let action = format!("/inventory/row/{name}");
    let remove = format!("/inventory/remove/{name}");
    let head = columns
        .iter()
        .map(|c| view! { <th scope="col">{c.clone()}</th> })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|r| {
            let key = r.first().cloned().unwrap_or_default();
            let row_key = key.clone();
            let cells = columns
                .iter()
                .zip(r.iter())
                .map(|(c, v)| view! { <td data-label=c.clone()>{v.clone()}</td> })
                .collect_view();
            let inputs = columns
                .iter()
                .zip(r.iter())
                .map(|(c, v)| {
                    view! {
                        <label>
                            {c.clone()}
                            <input name=c.clone() value=v.clone() readonly=c == "id" />
                        </label>
                    }
                })
                .collect_view();
            view! {
                <tr data-testid="inv-row" data-key=row_key>
                    {cells}
                    <td data-label=l.pick("操作", "Actions") class="inv__actions">
                        <details>
                            <summary>{l.pick("編集", "Edit")}</summary>
                            <form method="post" action=action.clone() class="inv__form">
                                <input type="hidden" name="_csrf" value=csrf.clone() />
                                <input type="hidden" name="lang" value=l.code() />
                                {inputs}
                                <button type="submit">{l.pick("変更を確認", "Preview change")}</button>
                            </form>
                        </details>
                        <form method="post" action=remove.clone()>
                            <input type="hidden" name="_csrf" value=csrf.clone() />
                            <input type="hidden" name="lang" value=l.code() />
                            <input type="hidden" name="id" value=key />
                            <button type="submit" class="inv__remove">{l.pick("削除を確認", "Preview removal")}</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let add_inputs = columns
        .iter()
        .map(|c| {
            view! {
                <label>
                    {c.clone()}
                    <input name=c.clone() required=c == "id" />
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="inv__table" data-testid="inv-table" data-table=table_attr aria-labelledby=labelled_by>
            <h3 id=heading_id>
                {format!("{label} ({name})")}
                " "
                <a href=format!("/inventory/{name}.csv") rel="external" download=format!("{name}.csv") data-testid="inv-export" data-table=export_attr>
                    {l.pick("CSVで出力", "Export CSV")}
                </a>
            </h3>
            <div class="table-wrap">
                <table class="grid grid--inv">
                    <thead><tr>{head}<th scope="col">{l.pick("操作", "Actions")}</th></tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            <details class="inv__add">
                <summary>{l.pick("行を追加", "Add a row")}</summary>
                <form method="post" action=action class="inv__form">
                    <input type="hidden" name="_csrf" value=csrf.clone() />
                    <input type="hidden" name="lang" value=l.code() />
                    {add_inputs}
                    <button type="submit">{l.pick("追加を確認", "Preview addition")}</button>
                </form>
            </details>
        </section>
    }
}

#[component]
fn PreviewView(p: ImportPreview, csrf: String) -> impl IntoView {
    let l = use_lang().get_untracked();
    let ImportPreview {
        id,
        table,
        columns,
        added,
        changed,
        removed,
        unchanged,
        errors,
    } = p;
    let n_errors = errors.len();
    let cols = columns.join(",");
    let diff = move |rows: Vec<RowDiff>, testid: &'static str, title: &'static str| {
        let cols = cols.clone();
        (!rows.is_empty()).then(|| {
            view! {
                <h4>{format!("{title} ({})", rows.len())}</h4>
                <ul class="inv__diff">
                    {rows.into_iter().map(|r| {
                        let before = r.before.join(" | ");
                        let after = r.after.join(" | ");
                        view! {
                            <li data-testid=testid data-key=r.key.clone()>
                                <code>{r.key.clone()}</code>
                                {(!before.is_empty()).then(|| view! { <del>{before}</del> })}
                                {(!after.is_empty()).then(|| view! { <ins>{after}</ins> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <small class="sub">{cols.clone()}</small>
            }
        })
    };
    let apply = format!("/inventory/pending/{id}/apply");
    let discard = format!("/inventory/pending/{id}/discard");
    view! {
        <section id="preview" class="inv__preview" data-testid="inv-preview" data-id=id data-errors=n_errors.to_string() aria-labelledby="inv-preview-h">
            <h3 id="inv-preview-h">
                {format!("{} — {} ({table})", l.pick("取り込みの確認", "Import preview"), table_label(&table, l))}
            </h3>
            <p>{format!("{} {unchanged}", l.pick("変更なしの行:", "Unchanged rows:"))}</p>
            {diff(added, "inv-added", l.pick("追加", "Added"))}
            {diff(changed, "inv-changed", l.pick("変更", "Changed"))}
            {diff(removed, "inv-removed", l.pick("削除", "Removed"))}
            {(n_errors > 0).then(|| view! {
                <div role="alert">
                    <h4 class="inv__errors-title">
                        {format!("{} ({n_errors})", l.pick("エラー — 反映できません", "Errors — cannot be applied"))}
                    </h4>
                    <table class="grid grid--inv-errors">
                        <thead><tr>
                            <th scope="col">{l.pick("行", "Line")}</th>
                            <th scope="col">{l.pick("列", "Column")}</th>
                            <th scope="col">{l.pick("理由", "Reason")}</th>
                        </tr></thead>
                        <tbody>
                            {errors.into_iter().map(|e| view! {
                                <tr data-testid="inv-error" data-line=e.line.to_string() data-column=e.column.clone()>
                                    <td data-label=l.pick("行", "Line") class="num">{e.line}</td>
                                    <td data-label=l.pick("列", "Column")><code>{e.column.clone()}</code></td>
                                    <td data-label=l.pick("理由", "Reason")>{e.reason.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            <div class="inv__confirm">
                {(n_errors == 0).then(|| view! {
                    <form method="post" action=apply>
                        <input type="hidden" name="_csrf" value=csrf.clone() />
                        <input type="hidden" name="lang" value=l.code() />
                        <button type="submit" data-testid="inv-apply">{l.pick("反映する", "Apply")}</button>
                    </form>
                })}
                <form method="post" action=discard>
                    <input type="hidden" name="_csrf" value=csrf.clone() />
                    <input type="hidden" name="lang" value=l.code() />
                    <button type="submit">{l.pick("取り消す", "Discard")}</button>
                </form>
            </div>
        </section>
    }
}

#[component]
fn ChangeLog(changes: Vec<ChangeView>) -> impl IntoView {
    let l = use_lang().get_untracked();
    view! {
        <section class="inv__log" aria-labelledby="inv-log-h">
            <h3 id="inv-log-h">{l.pick("変更履歴（新しい順）", "Change log (newest first)")}</h3>
            {if changes.is_empty() {
                view! { <p class="notice">{l.pick("変更はまだありません", "No changes yet")}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="grid grid--inv-log">
                            <thead><tr>
                                <th scope="col">{l.pick("日時 (JST)", "When (JST)")}</th>
                                <th scope="col">{l.pick("誰が", "Who")}</th>
                                <th scope="col">{l.pick("操作", "Action")}</th>
                                <th scope="col">{l.pick("表", "Table")}</th>
                                <th scope="col">{l.pick("キー", "Key")}</th>
                                <th scope="col">{l.pick("変更前", "Before")}</th>
                                <th scope="col">{l.pick("変更後", "After")}</th>
                            </tr></thead>
                            <tbody>
                                {changes.into_iter().map(|c| {
                                    let when = labels::jst_time(&c.at);
                                    view! {
                                        <tr data-testid="inv-change" data-action=c.action.clone() data-table=c.table.clone() data-key=c.key.clone()>
                                            <td data-label=l.pick("日時 (JST)", "When (JST)")><time datetime=c.at.clone()>{when}</time></td>
                                            <td data-label=l.pick("誰が", "Who")>{c.who.clone()}</td>
                                            <td data-label=l.pick("操作", "Action")>{action_label(&c.action, l)}</td>
                                            <td data-label=l.pick("表", "Table")>{table_label(&c.table, l)}</td>
                                            <td data-label=l.pick("キー", "Key")><code>{c.key.clone()}</code></td>
                                            <td data-label=l.pick("変更前", "Before")><code class="inv__json">{c.before.clone().unwrap_or_default()}</code></td>
                                            <td data-label=l.pick("変更後", "After")><code class="inv__json">{c.after.clone().unwrap_or_default()}</code></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
