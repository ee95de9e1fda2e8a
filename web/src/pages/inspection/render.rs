//! The inspection report's HTML, rendered on the server only (the browser receives it as
//! a fragment, [`crate::pages::fragment`]). Laid out as a document: it prints on A4 as
//! it reads on screen (web/style/monban.css, `.insp` and `@media print`).

use leptos::prelude::*;

use super::*;
use crate::i18n::Lang;
use crate::pages::evidence::{local_time, offset_label};
use crate::pages::maintenance::render::{finding_tables, maintained_table, PeriodForm};
use monban_core::inspection::{ManualValue, Measured};
use monban_core::{ComplianceStatus, PlanCheck, SiteOffset};

fn site_offset(seconds: i32) -> SiteOffset {
    SiteOffset::from_seconds(seconds).unwrap_or(SiteOffset::JST)
}

fn status_tone(s: ComplianceStatus) -> &'static str {
    match s {
        ComplianceStatus::Direct => "ok",
        ComplianceStatus::Combined => "combined",
        ComplianceStatus::Gap => "gap",
        ComplianceStatus::NoData => "neutral",
    }
}

fn check_tone(c: PlanCheck) -> &'static str {
    match c {
        PlanCheck::Met => "ok",
        PlanCheck::InProgress => "combined",
        PlanCheck::NotMeasured => "neutral",
        _ => "gap",
    }
}

fn measured_tone(m: Measured) -> &'static str {
    match m {
        Measured::Yes => "ok",
        Measured::No => "gap",
        Measured::NotMeasured => "neutral",
    }
}

fn manual_tone(v: ManualValue) -> &'static str {
    match v {
        ManualValue::Yes => "ok",
        ManualValue::No => "gap",
        ManualValue::NotApplicable => "neutral",
    }
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The report's period form (with 印刷).
const PERIOD: PeriodForm = PeriodForm {
    action: "/inspection",
    class: "inv__form insp__period panel",
    testid: "insp-period-form",
    error_testid: "insp-period-error",
};

/// The period form with why the period could not be read.
pub fn period_error(from: String, to: String, message: String, l: Lang) -> AnyView {
    PERIOD.error(from, to, message, l)
}

pub fn report(
    r: InspectionReport,
    saved: Option<String>,
    error: Option<String>,
    l: Lang,
) -> AnyView {
    let InspectionReport {
        site_name,
        generated_at,
        offset,
        from,
        to,
        head,
        sources,
        items,
        systems,
        maintenance,
        accounts,
        doors,
        can_answer,
        csrf,
    } = r;
    let off = site_offset(offset);
    let tz = offset_label(off);
    let made = format!("{} {tz}", local_time(&generated_at, off));
    let head_seq = head.as_ref().map(|h| h.seq.to_string()).unwrap_or_default();
    let n_items = items.len();
    let n_manual = items
        .iter()
        .filter(|i| matches!(i.answer, ItemAnswer::Manual(_)))
        .count();
    let n_open = items
        .iter()
        .filter(|i| matches!(i.answer, ItemAnswer::Manual(None)))
        .count();
    let flash = saved
        .map(|item| {
            view! {
                <p class="notice insp__noprint" role="status" data-testid="insp-saved">
                    {l.pick("回答を記録しました: ", "Answer recorded: ")}<span class="code">{item}</span>
                </p>
            }
            .into_any()
        })
        .or_else(|| {
            error.map(|m| {
                view! {
                    <p class="notice notice--error insp__noprint" role="alert" data-testid="insp-error">
                        {l.pick("回答を記録できません: ", "The answer was not recorded: ")}{m}
                    </p>
                }
                .into_any()
            })
        });
    let period_text = format!("{from} 〜 {to}（{tz}）");
    let return_to = format!("/inspection?from={from}&to={to}");
    view! {
        {PERIOD.view(from.clone(), to.clone(), l)}
        {flash}
        <article class="panel insp" data-testid="insp-report" data-from=from.clone() data-to=to.clone() data-head-seq=head_seq>
            <header class="insp__head">
                <p class="insp__kicker">{l.pick("医療情報システムの安全管理に関するガイドライン 第6.0版 · 医療機関におけるサイバーセキュリティ対策チェックリスト", "MHLW guideline for medical information systems 6.0 · cybersecurity checklist for medical institutions")}</p>
                <h2 class="insp__title">{l.pick("立入検査用報告書", "Inspection report")}</h2>
                <dl class="insp__facts">
                    <div><dt>{l.pick("施設", "Site")}</dt><dd data-testid="insp-site">{site_name}</dd></div>
                    <div><dt>{l.pick("対象期間", "Period")}</dt><dd>{period_text}</dd></div>
                    <div><dt>{l.pick("作成日時", "Made")}</dt><dd>{made}</dd></div>
                    <div><dt>{l.pick("項目", "Items")}</dt><dd>{format!("{n_items}（{} {n_manual}、{} {n_open}）", l.pick("うち手入力", "manual"), l.pick("未回答", "unanswered"))}</dd></div>
                </dl>
                <p class="sub insp__lead">
                    {l.pick(
                        "「計測」の回答は門番が記録した証跡（入退室・ログイン・保守申請・アカウント）から算出したもの、「手入力」は担当者が記録した回答です。手入力の回答を計測として扱うことはありません。",
                        "Answers marked “measured” are computed from the evidence monban recorded (room entries, logins, maintenance requests, accounts); “manual” answers were recorded by an officer and are never shown as measured.",
                    )}
                </p>
            </header>

            <section class="insp__section" id="insp-checklist" aria-labelledby="insp-checklist-h">
                <h3 class="insp__h" id="insp-checklist-h">{l.pick("1. チェックリスト項目と回答", "1. Checklist items and answers")}</h3>
                <ol class="insp__items">
                    {items.into_iter().map(|i| item_view(i, &sources, can_answer, &csrf, &return_to, l)).collect_view()}
                </ol>
                <p class="sub insp__sources">
                    {l.pick("出典: ", "Sources: ")}
                    {sources.iter().map(|s| format!("{}{}", s.citation, if s.part.is_empty() { String::new() } else { format!(" {}", s.part) })).collect::<Vec<_>>().join(" / ")}
                    {l.pick("。「要約」と記した項目は原文の要約です（原文を確認のうえ引用してください）。", ". Items marked “paraphrase” summarise the source (check the source before quoting).")}
                </p>
            </section>

            <section class="insp__section" id="insp-two-factor" aria-labelledby="insp-two-factor-h">
                <h3 class="insp__h" id="insp-two-factor-h">{l.pick("2. 二要素認証（システムごと）", "2. Two-factor authentication per system")}</h3>
                <p class="sub">{l.pick(
                    "成功したログインのうち、二要素認証を直接満たしたもの・複合対策（入室認証との組合せ、相当の安全性）で満たしたもの・満たさなかったもの。移行計画（方式と期限）と計測結果を突き合わせています。",
                    "Successful logins that met 2FA directly, met it by combined measures (authenticated room entry with the login), or did not; the planned route and month against what was measured.",
                )}</p>
                {systems_table(systems, l)}
            </section>

            <section class="insp__section" id="insp-access-log" aria-labelledby="insp-access-log-h">
                <h3 class="insp__h" id="insp-access-log-h">{l.pick("3. アクセスログ", "3. Access log")}</h3>
                <p class="sub">{l.pick(
                    "ログインはシステムからの API 送信または取り込んだアクセスログとして記録され、判定とともに証跡チェーン（改ざん検知）に連結されています。件数は「2.」の表の「全ログイン」列です。",
                    "Logins are recorded from the systems' API calls or imported access logs, with their verdicts, and linked into the evidence chain (tamper detection). Counts: the “All logins” column of section 2.",
                )}</p>
                <p class="sub insp__noprint">
                    <a href=l.href("/imports")>{l.pick("取り込んだアクセスログの記録（ログ取込み）", "Imported access logs and their records (log import)")}</a>
                </p>
                {head_view(head, off, l)}
            </section>

            <section class="insp__section" id="insp-maintenance" aria-labelledby="insp-maintenance-h">
                <h3 class="insp__h" id="insp-maintenance-h">{l.pick("4. 保守（リモートメンテナンス・オンサイト作業）", "4. Maintenance (remote and on-site)")}</h3>
                {maintenance_view(maintenance, l)}
            </section>

            <section class="insp__section" id="insp-accounts" aria-labelledby="insp-accounts-h">
                <h3 class="insp__h" id="insp-accounts-h">{l.pick("5. アカウント（不要なアカウントの確認）", "5. Accounts (unneeded accounts)")}</h3>
                {accounts_table(accounts, l)}
            </section>

            <section class="insp__section" id="insp-doors" aria-labelledby="insp-doors-h">
                <h3 class="insp__h" id="insp-doors-h">{l.pick("6. 入退室管理の稼働状況と警報", "6. Door controllers and alarms")}</h3>
                <p class="sub">{l.pick(
                    "扉コントローラが通信断の間、その部屋の入室は複合対策の根拠にしません（フェイルクローズ）。",
                    "While a door controller is offline its room's entries give no credit (fail closed).",
                )}</p>
                {doors_table(doors, l)}
            </section>

            <footer class="insp__foot">
                <div class="insp__sign">
                    <span>{l.pick("医療情報システム安全管理責任者", "Security officer")}</span>
                    <span class="insp__sign-line"></span>
                </div>
                <div class="insp__sign">
                    <span>{l.pick("確認日", "Date")}</span>
                    <span class="insp__sign-line"></span>
                </div>
            </footer>
        </article>
    }
    .into_any()
}

fn item_view(
    i: ItemRow,
    sources: &[SourceRow],
    can_answer: bool,
    csrf: &str,
    return_to: &str,
    l: Lang,
) -> AnyView {
    let source = sources
        .iter()
        .find(|s| s.id == i.source)
        .map(|s| s.citation.clone())
        .unwrap_or_else(|| i.source.clone());
    let number = if i.number.is_empty() {
        l.pick("番号未確認", "number unconfirmed").to_string()
    } else {
        i.number.clone()
    };
    let guideline = (!i.guideline.is_empty()).then(|| {
        view! { <p class="insp__cite">{l.pick("ガイドライン: ", "Guideline: ")}{i.guideline.join("、")}</p> }
    });
    let paraphrase = (!i.quoted).then(|| {
        view! { <span class="badge badge--neutral" title=l.pick("原文の要約", "a paraphrase of the source")>{l.pick("要約", "paraphrase")}</span> }
    });
    let (kind, value, answer) = match i.answer {
        ItemAnswer::Measured {
            value,
            target,
            section,
            summary_ja,
            summary_en,
        } => {
            let target = target.map(|t| {
                view! { <span class="insp__target">{l.pick("目標時期: ", "Target: ")}<span class="mono">{t}</span></span> }
            });
            (
                "measured",
                value.as_str().to_string(),
                view! {
                    <div class="insp__answer">
                        <span class="insp__kind insp__kind--measured">{l.pick("計測", "Measured")}</span>
                        <span class=format!("badge badge--{}", measured_tone(value))>{l.pick(value.label_ja(), value.label_en())}</span>
                        {target}
                        <p class="insp__summary">{l.pick(&summary_ja, &summary_en).to_string()}" "<a href=format!("#{section}") class="insp__noprint">{l.pick("根拠へ", "see evidence")}</a></p>
                    </div>
                }
                .into_any(),
            )
        }
        ItemAnswer::Manual(Some(m)) => {
            let target = m.target.clone().map(|t| {
                view! { <span class="insp__target">{l.pick("目標時期: ", "Target: ")}<span class="mono">{t}</span></span> }
            });
            let note = (!m.note.is_empty())
                .then(|| view! { <p class="insp__summary">{m.note.clone()}</p> });
            (
                "manual",
                m.value.as_str().to_string(),
                view! {
                    <div class="insp__answer">
                        <span class="insp__kind insp__kind--manual">{l.pick("手入力", "Manual")}</span>
                        <span class=format!("badge badge--{}", manual_tone(m.value))>{l.pick(m.value.label_ja(), m.value.label_en())}</span>
                        {target}
                        {note}
                        <p class="insp__by">{format!("{}{} · {}{}", l.pick("回答日 ", "Checked "), m.date, l.pick("記録 ", "recorded by "), m.by)}</p>
                    </div>
                }
                .into_any(),
            )
        }
        ItemAnswer::Manual(None) => (
            "manual",
            String::new(),
            view! {
                <div class="insp__answer">
                    <span class="insp__kind insp__kind--manual">{l.pick("手入力", "Manual")}</span>
                    <span class="badge badge--gap">{l.pick("未回答", "Not answered")}</span>
                </div>
            }
            .into_any(),
        ),
    };
    let form = (kind == "manual" && can_answer).then(|| answer_form(&i.id, csrf, return_to, l));
    view! {
        <li class="insp__item" data-testid="insp-item" data-item=i.id.clone() data-kind=kind data-value=value>
            <div class="insp__q">
                <p class="insp__wording"><span class="insp__num mono">{number}</span>" "{i.wording.clone()}" "{paraphrase}</p>
                <p class="insp__cite">{source}</p>
                {guideline}
            </div>
            {answer}
            {form}
        </li>
    }
    .into_any()
}

/// The form that records a manual answer (`POST /inspection/answers`).
fn answer_form(item: &str, csrf: &str, return_to: &str, l: Lang) -> AnyView {
    view! {
        <details class="insp__form insp__noprint">
            <summary>{l.pick("回答を記録", "Record an answer")}</summary>
            <form method="post" action="/inspection/answers" class="inv__form" data-testid="insp-answer-form" data-item=item.to_string()>
                <input type="hidden" name="_csrf" value=csrf.to_string() />
                <input type="hidden" name="item" value=item.to_string() />
                <input type="hidden" name="return_to" value=return_to.to_string() />
                {(l == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
                <fieldset class="insp__values">
                    <legend>{l.pick("回答", "Answer")}</legend>
                    {ManualValue::ALL.iter().map(|v| view! {
                        <label><input type="radio" name="value" value=v.as_str() required=true />{l.pick(v.label_ja(), v.label_en())}</label>
                    }).collect_view()}
                </fieldset>
                <label>{l.pick("回答日", "Checked on")}<input type="date" name="date" required=true /></label>
                <label>{l.pick("目標時期（いいえの場合）", "Target date (if no)")}<input type="date" name="target" /></label>
                <label class="insp__note">{l.pick("備考", "Note")}<input type="text" name="note" maxlength="500" /></label>
                <button type="submit">{l.pick("記録", "Record")}</button>
            </form>
        </details>
    }
    .into_any()
}

fn systems_table(rows: Vec<SystemRow>, l: Lang) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted">{l.pick("システムが登録されていません", "No systems in the inventory")}</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|s| {
            let plan = s
                .plan
                .map(|p| l.pick(p.label_ja(), p.label_en()).to_string())
                .unwrap_or_else(|| l.pick("未登録", "none").to_string());
            let native = s.native_mfa.then(|| view! { <small class="code">{l.pick("システム自体が二要素", "native 2FA")}</small> });
            view! {
                <tr data-testid="insp-system" data-system=s.id.clone() data-status=s.status.as_str() data-check=s.check.as_str()>
                    <th scope="row" data-label=l.pick("システム", "System")>{s.name.clone()}<small class="code">{s.id.clone()}</small>{native}</th>
                    <td data-label=l.pick("状況", "Status")><span class=format!("badge badge--{}", status_tone(s.status))>{l.pick(s.status.label_ja(), s.status.label_en())}</span></td>
                    <td class="num" data-label=l.pick("成功", "Successful")>{s.successful}</td>
                    <td class="num" data-label=l.pick("直接二要素", "Direct 2FA")>{s.direct_2fa}</td>
                    <td class="num" data-label=l.pick("複合対策", "Combined")>{s.combined_measures}</td>
                    <td class={if s.not_met > 0 { "num num--alert" } else { "num" }} data-label=l.pick("未達", "Not met")>{s.not_met}</td>
                    <td class="num" data-label=l.pick("充足率", "Coverage")>{percent(s.coverage)}</td>
                    <td class="num" data-label=l.pick("全ログイン", "All logins")>{s.logins}</td>
                    <td data-label=l.pick("移行計画", "Plan")>{plan}<small class="mono">{s.by.clone().unwrap_or_default()}</small></td>
                    <td data-label=l.pick("計画との比較", "Against plan")><span class=format!("badge badge--{}", check_tone(s.check))>{l.pick(s.check.label_ja(), s.check.label_en())}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="grid insp__table">
                <thead><tr>
                    <th scope="col">{l.pick("システム", "System")}</th>
                    <th scope="col">{l.pick("状況", "Status")}</th>
                    <th scope="col" class="num">{l.pick("成功", "Successful")}</th>
                    <th scope="col" class="num">{l.pick("直接二要素", "Direct 2FA")}</th>
                    <th scope="col" class="num">{l.pick("複合対策", "Combined")}</th>
                    <th scope="col" class="num">{l.pick("未達", "Not met")}</th>
                    <th scope="col" class="num">{l.pick("充足率", "Coverage")}</th>
                    <th scope="col" class="num">{l.pick("全ログイン", "All logins")}</th>
                    <th scope="col">{l.pick("移行計画", "Plan")}</th>
                    <th scope="col">{l.pick("計画との比較", "Against plan")}</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn head_view(head: Option<HeadRow>, off: SiteOffset, l: Lang) -> AnyView {
    match head {
        Some(h) => {
            let arg = format!("{}:{}", h.seq, h.hash);
            let at = format!("{} {}", local_time(&h.at, off), offset_label(off));
            view! {
                <div class="insp__chain" data-testid="insp-head" data-seq=h.seq.to_string() data-hash=h.hash.clone()>
                    <p><strong>{l.pick("この報告書の作成元となった証跡チェーンの先頭", "The evidence chain's head this report was made from")}</strong></p>
                    <dl class="insp__facts">
                        <div><dt>{l.pick("記録番号", "Record")}</dt><dd class="mono">{h.seq}</dd></div>
                        <div><dt>{l.pick("記録日時", "At")}</dt><dd>{at}</dd></div>
                        <div class="insp__hash"><dt>"SHA-256"</dt><dd class="mono">{h.hash.clone()}</dd></div>
                    </dl>
                    <p class="sub">{l.pick(
                        "後日、次のコマンドで、この時点までの記録が一件も変更・削除・挿入されていないことを確認できます:",
                        "Later, this command shows that no record up to this point was changed, removed or inserted:",
                    )}</p>
                    <pre class="insp__cmd mono">{format!("monban --config monban.toml verify --head {arg}")}</pre>
                </div>
            }
            .into_any()
        }
        None => view! { <p class="notice notice--error" data-testid="insp-head">{l.pick("証跡チェーンがまだありません", "The evidence chain has no record yet")}</p> }.into_any(),
    }
}

fn maintenance_view(m: MaintenanceSummary, l: Lang) -> AnyView {
    let MaintenanceSummary {
        requests,
        approved,
        emergency,
        reported,
        unapproved_logins,
        findings_by_vendor,
        findings_by_system,
        inventory,
    } = m;
    view! {
        <dl class="insp__facts insp__counts" data-testid="insp-maintenance" data-requests=requests.to_string() data-unapproved=unapproved_logins.to_string()>
            <div><dt>{l.pick("保守申請", "Requests")}</dt><dd>{requests}</dd></div>
            <div><dt>{l.pick("承認済み", "Approved")}</dt><dd>{approved}</dd></div>
            <div><dt>{l.pick("緊急（事後承認）", "Emergency (approved after)")}</dt><dd>{emergency}</dd></div>
            <div><dt>{l.pick("作業報告あり", "Reported")}</dt><dd>{reported}</dd></div>
            <div><dt>{l.pick("未承認の保守ログイン", "Unapproved maintenance logins")}</dt><dd class={if unapproved_logins > 0 { "num--alert" } else { "" }}>{unapproved_logins}</dd></div>
        </dl>
        <p class="sub insp__noprint">
            <a href="/maintenance/report">{l.pick("申請ごとの詳細（保守作業報告書）", "Each request in detail (maintenance report)")}</a>
        </p>
        <h4 class="insp__h4">{l.pick("指摘事項", "Findings")}</h4>
        {finding_tables(findings_by_vendor, findings_by_system, l)}
        <h4 class="insp__h4">{l.pick("リモートメンテナンスを利用している機器（チェックリスト 2②）", "Systems under remote maintenance (checklist 2②)")}</h4>
        {maintained_table(inventory, l)}
    }
    .into_any()
}

fn accounts_table(rows: Vec<AccountsRow>, l: Lang) -> AnyView {
    let body = rows
        .into_iter()
        .map(|a| {
            let review = match &a.last_review {
                Some((day, by)) => format!("{day}（{by}）"),
                None => l.pick("記録なし", "none").to_string(),
            };
            let overdue = a.review_overdue.then(|| view! { <span class="badge badge--gap">{l.pick("要棚卸し", "Review due")}</span> });
            let alert = |n: usize| if n > 0 { "num num--alert" } else { "num" };
            view! {
                <tr data-testid="insp-accounts-row" data-system=a.system.clone() data-leaver=a.leaver.to_string() data-dormant=a.dormant.to_string() data-unmapped=a.unmapped.to_string()>
                    <th scope="row" data-label=l.pick("システム", "System")>{a.name.clone()}<small class="code">{a.system.clone()}</small></th>
                    <td class="num" data-label=l.pick("アカウント", "Accounts")>{a.accounts}</td>
                    <td class=alert(a.leaver) data-label=l.pick("退職者", "Leavers")>{a.leaver}</td>
                    <td class=alert(a.dormant) data-label=l.pick("休眠", "Dormant")>{a.dormant}</td>
                    <td class=alert(a.unmapped) data-label=l.pick("未登録", "Unmapped")>{a.unmapped}</td>
                    <td data-label=l.pick("最終棚卸し", "Last review")>{review}" "{overdue}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="sub">{l.pick(
            "退職者: 利用期限（until）を過ぎた職員に対応付いたアカウント（削除すべき）。休眠: 一定期間ログインのないアカウント。未登録: 職員に対応付いていないのに使われたアカウント。",
            "Leavers: accounts of people whose end date (until) has passed (to remove). Dormant: no successful login for the site's dormant period. Unmapped: used in a login but mapped to nobody.",
        )}</p>
        <div class="table-wrap" data-testid="insp-accounts">
            <table class="grid insp__table">
                <thead><tr>
                    <th scope="col">{l.pick("システム", "System")}</th>
                    <th scope="col" class="num">{l.pick("アカウント", "Accounts")}</th>
                    <th scope="col" class="num">{l.pick("退職者", "Leavers")}</th>
                    <th scope="col" class="num">{l.pick("休眠", "Dormant")}</th>
                    <th scope="col" class="num">{l.pick("未登録", "Unmapped")}</th>
                    <th scope="col">{l.pick("最終棚卸し", "Last review")}</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn doors_table(rows: Vec<DoorRow>, l: Lang) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted">{l.pick("扉が登録されていません", "No doors in the inventory")}</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|d| {
            let alert = |n: u64| if n > 0 { "num num--alert" } else { "num" };
            let now = if d.offline_now {
                view! { <span class="badge badge--gap">{l.pick("通信断", "Offline")}</span> }.into_any()
            } else {
                view! { <span class="badge badge--ok">{l.pick("稼働中", "Online")}</span> }.into_any()
            };
            view! {
                <tr data-testid="insp-door" data-door=d.door.clone() data-alarms=d.alarms.to_string() data-offline=d.offline.to_string()>
                    <th scope="row" data-label=l.pick("扉", "Door")>{d.name.clone()}<small class="code">{d.door.clone()}</small></th>
                    <td data-label=l.pick("部屋", "Room")>{d.room.clone()}</td>
                    <td class=alert(d.offline) data-label=l.pick("通信断", "Went offline")>{d.offline}</td>
                    <td class=alert(d.outages) data-label=l.pick("欠落の可能性", "Possible loss")>{d.outages}</td>
                    <td class=alert(d.alarms) data-label=l.pick("警報", "Alarms")>{d.alarms}</td>
                    <td data-label=l.pick("現在", "Now")>{now}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="grid insp__table">
                <thead><tr>
                    <th scope="col">{l.pick("扉", "Door")}</th>
                    <th scope="col">{l.pick("部屋", "Room")}</th>
                    <th scope="col" class="num">{l.pick("通信断（回）", "Went offline")}</th>
                    <th scope="col" class="num">{l.pick("欠落の可能性（回）", "Possible loss")}</th>
                    <th scope="col" class="num">{l.pick("警報（件）", "Alarms")}</th>
                    <th scope="col">{l.pick("現在", "Now")}</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}
