//! The account review page's HTML, rendered on the server only (see the parent module:
//! the browser receives it as a fragment and never builds these views itself).

use leptos::prelude::*;

use super::*;
use crate::i18n::Lang;
use crate::pages::evidence::{local_time, offset_label};
use monban_core::account_review::{Decision, FollowUp};
use monban_core::accounts::{Finding, PersonStatus};
use monban_core::SiteOffset;

fn site_offset(seconds: i32) -> SiteOffset {
    SiteOffset::from_seconds(seconds).unwrap_or(SiteOffset::JST)
}

/// A finding (`leaver`, …) as a short label in the page language; an unknown code as
/// itself.
pub fn finding_label(code: &str, l: Lang) -> String {
    Finding::ALL
        .into_iter()
        .find(|f| f.as_str() == code)
        .map_or_else(
            || code.to_string(),
            |f| l.pick(f.short_ja(), f.short_en()).to_string(),
        )
}

/// A person status (`active`, …) in the page language.
pub fn status_label(code: &str, l: Lang) -> String {
    PersonStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == code)
        .map_or_else(
            || code.to_string(),
            |s| l.pick(s.label_ja(), s.label_en()).to_string(),
        )
}

/// A decision (`keep`, …) in the page language.
pub fn decision_label(code: &str, l: Lang) -> String {
    code.parse::<Decision>().map_or_else(
        |_| code.to_string(),
        |d| l.pick(d.label_ja(), d.label_en()).to_string(),
    )
}

/// A follow-up (`not_in_inventory`, …) in the page language.
pub fn follow_up_label(code: &str, l: Lang) -> String {
    FollowUp::ALL
        .into_iter()
        .find(|f| f.as_str() == code)
        .map_or_else(
            || code.to_string(),
            |f| l.pick(f.label_ja(), f.label_en()).to_string(),
        )
}

/// `/accounts?system=…` with the finding filter and the language.
fn page_href(system: &str, finding: Option<&str>, l: Lang) -> String {
    let mut href = format!("/accounts?system={}", urlencoding(system));
    if let Some(f) = finding {
        href.push_str("&finding=");
        href.push_str(&urlencoding(f));
    }
    l.href(&href)
}

/// Percent-encodes a query value (ids are ASCII words; anything else is escaped).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page's body for the finding filter `finding` (none: every account).
pub fn page(v: AccountsView, finding: Option<String>, l: Lang) -> AnyView {
    let AccountsView {
        site_name,
        generated_at,
        offset,
        systems,
        system,
        accounts,
        people,
        review_every,
        overdue,
        due_at,
        reviews,
        follow_up,
        can_review,
        csrf,
    } = v;
    let tz = site_offset(offset);
    let tz_label = offset_label(tz);
    if system.is_empty() {
        return view! {
            <p class="muted acc__empty">{l.pick("台帳にシステムがありません", "The inventory has no systems")}</p>
        }
        .into_any();
    }
    let finding = finding.filter(|f| Finding::ALL.iter().any(|x| x.as_str() == f));
    let names: std::collections::BTreeMap<String, String> = people
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let system_name = systems
        .iter()
        .find(|s| s.id == system)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| system.clone());

    // The selector: one link per system, 要棚卸し on those due.
    let selector = systems
        .iter()
        .map(|s| {
            let current = (s.id == system).then_some("page");
            let due = s.overdue.then(|| {
                view! { <span class="badge badge--gap">{l.pick("要棚卸し", "Review due")}</span> }
            });
            view! {
                <li>
                    <a href=page_href(&s.id, None, l) aria-current=current data-testid="acc-system" data-system=s.id.clone()>
                        {s.name.clone()}<small class="code">{s.id.clone()}</small>
                    </a>
                    " "{due}
                </li>
            }
        })
        .collect_view();

    // The last completed review, and whether one is due.
    let last = reviews.first().cloned();
    let state_text = match &last {
        Some(r) => format!(
            "{}{} {tz_label} · {}{}",
            l.pick("前回の棚卸し: ", "Last review: "),
            local_time(&r.completed_at, tz),
            l.pick("確定者: ", "by "),
            r.by
        ),
        None => l
            .pick(
                "まだ棚卸しが確定されていません",
                "No review has been completed yet",
            )
            .to_string(),
    };
    let due_text = due_at.as_ref().map(|d| {
        format!(
            "{}{} {tz_label}",
            l.pick("次回期限: ", "Next due: "),
            local_time(d, tz)
        )
    });
    let overdue_badge = overdue.then(|| {
        view! { <span class="badge badge--gap" data-testid="acc-overdue">{l.pick("要棚卸し", "Review due")}</span> }
    });
    let last_id = last.as_ref().map(|r| r.id.to_string()).unwrap_or_default();

    // The list, filtered.
    let counts: Vec<(Finding, usize)> = Finding::ALL
        .iter()
        .map(|f| {
            (
                *f,
                accounts
                    .iter()
                    .filter(|a| a.findings.iter().any(|x| x == f.as_str()))
                    .count(),
            )
        })
        .collect();
    let filter_links = {
        let all_current = finding.is_none().then_some("page");
        let all = view! {
            <a href=page_href(&system, None, l) aria-current=all_current data-finding="">
                {format!("{} ({})", l.pick("すべて", "All"), accounts.len())}
            </a>
        };
        let per = counts
            .iter()
            .map(|(f, n)| {
                let current = (finding.as_deref() == Some(f.as_str())).then_some("page");
                view! {
                    " "<a href=page_href(&system, Some(f.as_str()), l) aria-current=current data-finding=f.as_str()>
                        {format!("{} ({n})", l.pick(f.short_ja(), f.short_en()))}
                    </a>
                }
            })
            .collect_view();
        view! { <nav class="acc__filter" data-testid="acc-filter" aria-label=l.pick("指摘で絞り込み", "Filter by finding")>{all}{per}</nav> }
    };
    let shown: Vec<&AccountLine> = accounts
        .iter()
        .filter(|a| {
            finding
                .as_deref()
                .is_none_or(|f| a.findings.iter().any(|x| x == f))
        })
        .collect();
    let list = if shown.is_empty() {
        view! { <p class="muted acc__empty">{l.pick("該当するアカウントはありません", "No accounts")}</p> }.into_any()
    } else {
        let rows = shown
            .iter()
            .map(|a| {
                let person = match &a.person {
                    Some(p) if !a.person_name.is_empty() => format!("{} ({p})", a.person_name),
                    Some(p) => p.clone(),
                    None => l.pick("（未登録）", "(nobody)").to_string(),
                };
                let status = a.person_status.as_deref().map(|s| status_label(s, l)).unwrap_or_default();
                let last_login = a
                    .last_login
                    .as_deref()
                    .map(|t| local_time(t, tz))
                    .unwrap_or_else(|| l.pick("なし", "never").to_string());
                let badges = a
                    .findings
                    .iter()
                    .map(|f| view! { <span class="badge badge--gap" data-finding=f.clone()>{finding_label(f, l)}</span>" " })
                    .collect_view();
                view! {
                    <tr data-testid="acc-row" data-account=a.account.clone() data-findings=a.findings.join(" ")>
                        <td data-label=l.pick("アカウント", "Account")><span class="mono">{a.account.clone()}</span></td>
                        <td data-label=l.pick("対応者", "Person")>{person}</td>
                        <td data-label=l.pick("状態", "Status")>{status}</td>
                        <td data-label=l.pick("最終ログイン", "Last login")><span class="mono">{last_login}</span></td>
                        <td data-label=l.pick("90日のログイン", "Logins (90 d)") class="num">{a.logins_90d}</td>
                        <td data-label=l.pick("指摘", "Findings")>{badges}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="grid acc__table">
                    <thead><tr>
                        <th scope="col">{l.pick("アカウント", "Account")}</th>
                        <th scope="col">{l.pick("対応者", "Person")}</th>
                        <th scope="col">{l.pick("状態", "Status")}</th>
                        <th scope="col">{l.pick("最終ログイン", "Last login")}</th>
                        <th scope="col">{l.pick("90日のログイン", "Logins (90 d)")}</th>
                        <th scope="col">{l.pick("指摘", "Findings")}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let csv_href = format!("/accounts/export.csv?system={}", urlencoding(&system));

    // What the last review still asks.
    let follow_view = (!follow_up.is_empty()).then(|| {
        let items = follow_up
            .iter()
            .map(|f| {
                let link = (f.follow_up == FollowUp::NotInInventory.as_str()).then(|| {
                    view! { " — "<a href=l.href("/inventory")>{l.pick("台帳で登録する", "Record it in the inventory")}</a> }
                });
                view! {
                    <li data-testid="acc-follow-up-row" data-account=f.account.clone() data-follow-up=f.follow_up.clone()>
                        <span class="mono">{f.account.clone()}</span>": "
                        <span class="badge badge--gap">{follow_up_label(&f.follow_up, l)}</span>
                        {link}
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="panel acc" data-testid="acc-follow-up" aria-labelledby="acc-follow-up-h">
                <h2 class="panel__title" id="acc-follow-up-h">{l.pick("前回の棚卸しの対応状況", "Follow-up of the last review")}</h2>
                <ul class="plain-list acc__follow">{items}</ul>
            </section>
        }
    });

    // The review form.
    let form = if !can_review {
        view! {
            <p class="muted acc__empty">{l.pick(
                "棚卸しの確定はセキュリティ責任者または管理者が行います。",
                "An officer or admin confirms the review.",
            )}</p>
        }
        .into_any()
    } else if accounts.is_empty() {
        view! { <p class="muted acc__empty">{l.pick("棚卸しするアカウントがありません", "No accounts to review")}</p> }.into_any()
    } else {
        let person_options = move |selected: Option<&str>| {
            let mut opts = vec![view! { <option value="">{l.pick("（対応者を選択）", "(choose a person)")}</option> }.into_any()];
            opts.extend(people.iter().map(|p| {
                let sel = selected == Some(p.id.as_str());
                view! { <option value=p.id.clone() selected=sel>{format!("{} ({})", p.name, p.id)}</option> }.into_any()
            }));
            opts.collect_view()
        };
        let rows = accounts
            .iter()
            .map(|a| {
                // Prefilled `keep` only where nothing is found; flagged accounts are chosen.
                let prefill = a.findings.is_empty().then_some("keep");
                let id = format!("acc-decision-{}", urlencoding(&a.account));
                let decisions = Decision::ALL
                    .iter()
                    .map(|d| {
                        let sel = prefill == Some(d.as_str());
                        view! { <option value=d.as_str() selected=sel>{l.pick(d.label_ja(), d.label_en())}</option> }
                    })
                    .collect_view();
                let badges = a
                    .findings
                    .iter()
                    .map(|f| view! { <span class="badge badge--gap">{finding_label(f, l)}</span>" " })
                    .collect_view();
                view! {
                    <tr data-review-mark="" data-testid="acc-mark" data-account=a.account.clone()>
                        <td data-label=l.pick("アカウント", "Account")><label for=id.clone() class="mono">{a.account.clone()}</label>" "{badges}</td>
                        <td data-label=l.pick("判断", "Decision")>
                            <select id=id name="decision">
                                <option value="" selected=prefill.is_none()>{l.pick("（選択）", "(choose)")}</option>
                                {decisions}
                            </select>
                        </td>
                        <td data-label=l.pick("対応者（登録時）", "Person (map)")>
                            <select name="person" aria-label=l.pick("対応者", "Person")>{person_options(None)}</select>
                        </td>
                        <td data-label=l.pick("メモ", "Note")>
                            <input type="text" name="note" maxlength="2000" aria-label=l.pick("メモ", "Note") />
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div data-passkey-scope="" data-testid="acc-review-form">
                <div class="table-wrap">
                    <table class="grid acc__table acc__form">
                        <thead><tr>
                            <th scope="col">{l.pick("アカウント", "Account")}</th>
                            <th scope="col">{l.pick("判断", "Decision")}</th>
                            <th scope="col">{l.pick("対応者（登録時）", "Person (map)")}</th>
                            <th scope="col">{l.pick("メモ", "Note")}</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="sub">{l.pick(
                    "指摘のないアカウントは「継続」が選択済みです。指摘のあるアカウントは判断を選んでください。「対応者を登録」は台帳を変更しません（台帳ページで反映します）。",
                    "Accounts without findings are prefilled with Keep; choose for the flagged ones. Map does not change the inventory (record it on the inventory page).",
                )}</p>
                <div class="maint__buttons">
                    <button type="button" class="primary" data-passkey="review" data-testid="acc-review-confirm"
                        data-system=system.clone() data-csrf=csrf.clone()>
                        {l.pick("棚卸しを確定（パスキー）", "Confirm the review (passkey)")}
                    </button>
                </div>
            </div>
        }
        .into_any()
    };

    // Past reviews.
    let past = if reviews.is_empty() {
        view! { <p class="muted acc__empty">{l.pick("確定した棚卸しはありません", "No completed reviews")}</p> }.into_any()
    } else {
        reviews
            .into_iter()
            .map(|r| {
                let [keep, remove, map] = Decision::ALL.map(|d| {
                    r.marks.iter().filter(|m| m.decision == d.as_str()).count()
                });
                let summary = format!(
                    "{} {tz_label} · {} · {} {keep} / {} {remove} / {} {map}",
                    local_time(&r.completed_at, tz),
                    r.by,
                    l.pick("継続", "keep"),
                    l.pick("削除", "remove"),
                    l.pick("登録", "map"),
                );
                let marks = r
                    .marks
                    .iter()
                    .filter(|m| m.decision != Decision::Keep.as_str() || !m.note.is_empty())
                    .map(|m| {
                        let person = m.person.as_ref().map(|p| {
                            let name = names.get(p).cloned().unwrap_or_default();
                            format!(" → {name} ({p})")
                        });
                        let note = (!m.note.is_empty()).then(|| format!(" — {}", m.note));
                        view! {
                            <li><span class="mono">{m.account.clone()}</span>": "
                                {decision_label(&m.decision, l)}{person}{note}</li>
                        }
                    })
                    .collect_view();
                view! {
                    <details class="acc__review" data-testid="acc-review" data-review-id=r.id.to_string()>
                        <summary>{summary}</summary>
                        <ul class="plain-list">{marks}</ul>
                    </details>
                }
            })
            .collect_view()
            .into_any()
    };

    view! {
        <p class="sub acc__asof">{site_name}" · "{l.pick("現在時刻: ", "As of: ")}{local_time(&generated_at, tz)}" "{tz_label.clone()}</p>
        <nav class="acc__systems" data-testid="acc-systems" aria-label=l.pick("システム", "Systems")>
            <ul class="plain-list acc__system-list">{selector}</ul>
        </nav>
        <section class="panel acc" data-testid="acc-review-state" data-overdue=overdue.to_string() data-last-review=last_id aria-labelledby="acc-state-h">
            <h2 class="panel__title" id="acc-state-h">{system_name.clone()}" "{overdue_badge}</h2>
            <p class="acc__state">{state_text}</p>
            {due_text.map(|t| view! { <p class="sub">{t}</p> })}
            <p class="sub">{l.pick("棚卸しの周期: ", "Review every: ")}{review_every}</p>
        </section>
        <section class="panel acc" data-testid="acc-list" data-count=accounts.len().to_string() aria-labelledby="acc-list-h">
            <h2 class="panel__title" id="acc-list-h">{l.pick("アカウント一覧", "Accounts")}</h2>
            {filter_links}
            <p class="acc__csv"><a href=csv_href data-testid="acc-csv" download="">{l.pick("CSV をダウンロード", "Download CSV")}</a></p>
            {list}
        </section>
        {follow_view}
        <section class="panel acc" aria-labelledby="acc-form-h">
            <h2 class="panel__title" id="acc-form-h">{l.pick("棚卸し", "Review")}</h2>
            {form}
        </section>
        <section class="panel acc" data-testid="acc-reviews" aria-labelledby="acc-reviews-h">
            <h2 class="panel__title" id="acc-reviews-h">{l.pick("過去の棚卸し", "Past reviews")}</h2>
            {past}
        </section>
    }
    .into_any()
}

/// A system that is not in the inventory: said, with a link to the first one.
pub fn unknown_system(system: String, message: String, l: Lang) -> AnyView {
    view! {
        <p class="notice notice--error" role="alert" data-testid="acc-unknown-system">
            {l.pick("システムが見つかりません: ", "No such system: ")}<span class="mono">{system}</span>
            " ("{message}") "
            <a href=l.href("/accounts")>{l.pick("最初のシステムを表示", "Show the first system")}</a>
        </p>
    }
    .into_any()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn line(account: &str, findings: &[&str]) -> AccountLine {
        AccountLine {
            account: account.into(),
            person: None,
            person_name: String::new(),
            person_status: None,
            last_login: None,
            logins_90d: 0,
            findings: findings.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn view(can_review: bool) -> AccountsView {
        AccountsView {
            site_name: "東京総合病院".into(),
            generated_at: "2026-12-06T03:00:00Z".into(),
            offset: 9 * 3600,
            systems: vec![SystemOption {
                id: "ehr".into(),
                name: "電子カルテ".into(),
                overdue: true,
            }],
            system: "ehr".into(),
            accounts: vec![line("gone09", &["leaver"]), line("nurse01", &[])],
            people: vec![PersonOption {
                id: "p0001".into(),
                name: "看護 花子".into(),
            }],
            review_every: "1year".into(),
            overdue: true,
            due_at: None,
            reviews: vec![],
            follow_up: vec![FollowUpLine {
                account: "shared01".into(),
                follow_up: "not_in_inventory".into(),
            }],
            can_review,
            csrf: "tok".into(),
        }
    }

    #[test]
    fn labels_come_from_the_core() {
        assert_eq!(finding_label("leaver", Lang::Ja), "退職者");
        assert_eq!(finding_label("unmapped", Lang::En), "Unmapped");
        assert_eq!(status_label("vendor", Lang::Ja), "保守事業者");
        assert_eq!(decision_label("remove", Lang::Ja), "削除");
        assert_eq!(
            follow_up_label("login_after_removal", Lang::Ja),
            "削除指示後のログイン"
        );
        assert_eq!(finding_label("new", Lang::Ja), "new");
    }

    #[test]
    fn keep_is_prefilled_only_without_findings() {
        let html = page(view(true), None, Lang::Ja).to_html();
        let mark = |a: &str| {
            let at = html
                .find(&format!("data-testid=\"acc-mark\" data-account=\"{a}\""))
                .unwrap();
            let rest = &html[at..];
            rest[..rest.find("</tr>").unwrap()].to_string()
        };
        assert!(mark("nurse01").contains("value=\"keep\" selected"));
        assert!(!mark("gone09").contains("value=\"keep\" selected"));
        assert!(html.contains("data-passkey=\"review\""));
        assert!(html.contains("要棚卸し"));
        assert!(html.contains("台帳に未反映") && html.contains("href=\"/inventory\""));
        // Without the permission: no form.
        let html = page(view(false), None, Lang::En).to_html();
        assert!(!html.contains("data-passkey=\"review\""));
        assert!(html.contains("An officer or admin confirms the review."));
    }

    #[test]
    fn the_filter_shows_one_finding() {
        let html = page(view(false), Some("leaver".into()), Lang::Ja).to_html();
        assert!(html.contains("data-testid=\"acc-row\" data-account=\"gone09\""));
        assert!(!html.contains("data-testid=\"acc-row\" data-account=\"nurse01\""));
        // An unknown filter shows everything.
        let html = page(view(false), Some("x".into()), Lang::Ja).to_html();
        assert!(html.contains("data-testid=\"acc-row\" data-account=\"nurse01\""));
    }
}
