//! The access-log import page's HTML, rendered on the server only (the browser receives
//! it as a fragment, [`crate::pages::fragment`]). Tables collapse to labelled rows at
//! 375 px (`data-label`, as every table of the dashboard).

use leptos::prelude::*;

use super::*;
use crate::i18n::Lang;
use crate::pages::evidence::local_time;
use monban_core::SiteOffset;

fn site_offset(seconds: i32) -> SiteOffset {
    SiteOffset::from_seconds(seconds).unwrap_or(SiteOffset::JST)
}

fn status_label(status: &str, l: Lang) -> (&'static str, &'static str) {
    match status {
        "imported" => (l.pick("取込み済み", "Imported"), "ok"),
        "rejected" => (
            l.pick("不正な行あり（取込みなし）", "Bad rows (nothing stored)"),
            "gap",
        ),
        _ => (l.pick("中断", "Stopped"), "gap"),
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

pub fn page(v: ImportsView, l: Lang) -> AnyView {
    let offset = site_offset(v.offset);
    let ImportsView {
        mappings,
        imports,
        result,
        max_bytes,
        can_upload,
        csrf,
        ..
    } = v;
    view! {
        <article class="panel imp" data-testid="imp-page">
            <h1>{l.pick("アクセスログの取込み", "Access-log import")}</h1>
            <p class="muted">{l.pick(
                "システムが門番へ直接送れないログイン記録（アクセスログ CSV）を取り込みます。すべての行を検査し、不正な行が1つでもあれば何も保存しません。同じファイルを再度取り込んでも二重には保存されません。",
                "Imports the login records (a CSV access log) of a system that cannot send them to monban itself. Every row is checked first: one bad row and nothing is stored. Importing the same file again stores nothing twice.",
            )}</p>
            {result.map(|r| result_panel(r, offset, l))}
            <h2>{l.pick("取込み設定（[[imports]]）", "Mappings ([[imports]])")}</h2>
            {if mappings.is_empty() {
                view! { <p class="muted" data-testid="imp-no-mapping">{l.pick(
                    "monban.toml に [[imports]] がありません。システムごとに列の対応を書くと、ここから取り込めます（docs/ACCOUNTS.md）。",
                    "monban.toml has no [[imports]] table: add one per system that maps its log's columns (docs/ACCOUNTS.md).",
                )}</p> }.into_any()
            } else {
                mappings.into_iter().map(|m| mapping(m, can_upload, &csrf, max_bytes, l)).collect_view().into_any()
            }}
            <h2>{l.pick("取込み履歴", "Past imports")}</h2>
            {history(imports, offset, l)}
        </article>
    }
    .into_any()
}

fn mapping(m: MappingRow, can_upload: bool, csrf: &str, max_bytes: u64, l: Lang) -> AnyView {
    let fields = m
        .fields
        .iter()
        .map(|(k, v)| view! { <tr><th scope="row" data-label=l.pick("項目", "Field")>{k.clone()}</th><td data-label=l.pick("ログの列", "Log column")><code>{v.clone()}</code></td></tr> })
        .collect_view();
    let upload = can_upload.then(|| {
        view! {
            <form class="inv__form imp__upload" data-import-upload=m.system.clone() data-testid="imp-upload-form" data-system=m.system.clone()>
                <input type="hidden" name="_csrf" value=csrf.to_string() />
                <label>{l.pick("ログファイル（CSV）", "Log file (CSV)")}
                    <input type="file" name="file" accept=".csv,.tsv,.txt,text/csv" required=true />
                </label>
                <button type="submit">{l.pick("取り込む", "Import")}</button>
                <small class="muted">{format!("{} {}", l.pick("上限", "at most"), size(max_bytes))}</small>
                <p class="notice passkey-status" role="status" aria-live="polite" data-passkey-status=""></p>
            </form>
        }
    });
    view! {
        <section class="imp__mapping" data-testid="imp-mapping" data-system=m.system.clone()>
            <h3>{m.name.clone()}<small class="code">{m.system.clone()}</small></h3>
            <p class="muted">
                {format!("{}: {} · {}: {} · {}: {}",
                    l.pick("文字コード", "Encoding"), m.encoding,
                    l.pick("見出し行", "Header"), if m.header { l.pick("あり", "yes") } else { l.pick("なし", "no") },
                    l.pick("時刻の書式", "Time format"), m.time_format)}
            </p>
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr><th scope="col">{l.pick("項目", "Field")}</th><th scope="col">{l.pick("ログの列", "Log column")}</th></tr></thead>
                    <tbody>{fields}</tbody>
                </table>
            </div>
            {upload}
        </section>
    }
    .into_any()
}

fn result_panel(r: ImportRow, offset: SiteOffset, l: Lang) -> AnyView {
    let (label, tone) = status_label(&r.status, l);
    let errors = (!r.errors.is_empty()).then(|| {
        let rows = r
            .errors
            .iter()
            .map(|(line, column, reason)| view! {
                <tr data-testid="imp-error-row" data-line=line.to_string()>
                    <td class="num" data-label=l.pick("行", "Line")>{if *line == 0 { "—".to_string() } else { line.to_string() }}</td>
                    <td data-label=l.pick("列", "Column")>{column.clone().unwrap_or_else(|| "—".into())}</td>
                    <td data-label=l.pick("理由", "Reason")>{reason.clone()}</td>
                </tr>
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr>
                        <th scope="col" class="num">{l.pick("行", "Line")}</th>
                        <th scope="col">{l.pick("列", "Column")}</th>
                        <th scope="col">{l.pick("理由", "Reason")}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    });
    let figures = if r.status == "imported" {
        format!(
            "{} {} · {} {} · {} {}",
            l.pick("行数", "rows"),
            r.rows,
            l.pick("保存", "stored"),
            r.stored,
            l.pick("保存済みのため省略", "already stored"),
            r.already
        )
    } else {
        format!(
            "{} {} · {} {} · {}",
            l.pick("行数", "rows"),
            r.rows,
            l.pick("不正な行", "bad rows"),
            r.bad_rows,
            l.pick("何も保存していません", "nothing was stored")
        )
    };
    view! {
        <section class={format!("notice imp__result imp__result--{tone}")} role="status" data-testid="imp-result"
            data-status=r.status.clone() data-stored=r.stored.to_string() data-already=r.already.to_string()>
            <h2><span class=format!("badge badge--{tone}")>{label}</span>" "{r.file.clone()}<small class="code">{r.system.clone()}</small></h2>
            <p>{figures}</p>
            <p class="muted">{local_time(&r.at, offset)}" · "{r.by.clone()}" · SHA-256 "<code class="mono">{r.sha256.clone()}</code></p>
            {errors}
        </section>
    }
    .into_any()
}

fn history(rows: Vec<ImportRow>, offset: SiteOffset, l: Lang) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted">{l.pick("まだ取り込んでいません", "Nothing imported yet")}</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|r| {
            let (label, tone) = status_label(&r.status, l);
            view! {
                <tr data-testid="imp-row" data-id=r.id.to_string() data-status=r.status.clone()>
                    <td data-label=l.pick("日時", "When")><a href=format!("/imports?result={}", r.id)>{local_time(&r.at, offset)}</a></td>
                    <td data-label=l.pick("システム", "System")><span class="code">{r.system.clone()}</span></td>
                    <td data-label=l.pick("ファイル", "File")>{r.file.clone()}<small class="mono" title=r.sha256.clone()>{r.sha256.chars().take(12).collect::<String>()}</small></td>
                    <td data-label=l.pick("結果", "Result")><span class=format!("badge badge--{tone}")>{label}</span></td>
                    <td class="num" data-label=l.pick("行数", "Rows")>{r.rows}</td>
                    <td class="num" data-label=l.pick("保存", "Stored")>{r.stored}</td>
                    <td class="num" data-label=l.pick("保存済み", "Already")>{r.already}</td>
                    <td data-label=l.pick("実行者", "By")>{r.by.clone()}<small class="muted">{r.via.clone()}</small></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" data-testid="imp-history">
            <table class="grid">
                <thead><tr>
                    <th scope="col">{l.pick("日時", "When")}</th>
                    <th scope="col">{l.pick("システム", "System")}</th>
                    <th scope="col">{l.pick("ファイル", "File")}</th>
                    <th scope="col">{l.pick("結果", "Result")}</th>
                    <th scope="col" class="num">{l.pick("行数", "Rows")}</th>
                    <th scope="col" class="num">{l.pick("保存", "Stored")}</th>
                    <th scope="col" class="num">{l.pick("保存済み", "Already")}</th>
                    <th scope="col">{l.pick("実行者", "By")}</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}
