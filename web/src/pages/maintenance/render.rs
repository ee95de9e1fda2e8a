//! The maintenance pages' HTML, rendered on the server only (see the parent module: the
//! browser receives it as a fragment and never builds these views itself).

use leptos::prelude::*;

use super::*;
use crate::pages::evidence::verdict_label;

fn status_tone(code: &str) -> &'static str {
    match code {
        "approved" => "ok",
        "requested" => "combined",
        "denied" | "cancelled" => "neutral",
        _ => "neutral",
    }
}

/// Who filed: the vendor (by its token) or a hub user (a paper request).
fn filer_text(requested_by: &str, vendor_name: &str, l: Lang) -> String {
    match requested_by.split_once(':') {
        Some(("vendor", _)) => format!("{} ({})", vendor_name, l.pick("事業者", "vendor")),
        Some(("user", u)) => format!("{u} ({})", l.pick("紙の申請", "paper request")),
        _ => requested_by.to_string(),
    }
}

fn supervised_text(s: Option<bool>, remote: bool, l: Lang) -> &'static str {
    match (s, remote) {
        (_, true) => l.pick("対象外（リモート）", "n/a (remote)"),
        (Some(true), _) => l.pick("あり", "yes"),
        (Some(false), _) => l.pick("なし", "no"),
        (None, _) => l.pick("入室なし", "nobody entered"),
    }
}

fn mode_text(remote: bool, l: Lang) -> &'static str {
    if remote {
        l.pick("リモート", "Remote")
    } else {
        l.pick("オンサイト", "On-site")
    }
}

pub fn page(v: MaintenanceView, l: Lang) -> AnyView {
    let MaintenanceView {
        site_name,
        generated_at,
        offset,
        awaiting,
        reports,
        calendar,
        unapproved,
        findings_by_vendor,
        findings_by_system,
        findings,
        inventory,
        vendors,
        can_decide,
        csrf,
    } = v;
    let tz = offset_label(site_offset(offset));
    let asof = format!(
        "{}{} {tz}",
        l.pick("現在時刻: ", "As of: "),
        minutes(&generated_at, site_offset(offset))
    );
    let report_href = l.href("/maintenance/report");
    let n_awaiting = awaiting.len().to_string();
    let n_unapproved = unapproved.len().to_string();
    let awaiting_view = if awaiting.is_empty() {
        view! { <p class="muted maint__empty">{l.pick("承認待ちの申請はありません", "No request awaits a decision")}</p> }.into_any()
    } else {
        awaiting
            .into_iter()
            .map(|r| request_card(r, offset, can_decide, csrf.clone(), l))
            .collect_view()
            .into_any()
    };
    let reports_view = (!reports.is_empty()).then(|| {
        let cards = reports
            .into_iter()
            .map(|r| request_card(r, offset, can_decide, csrf.clone(), l))
            .collect_view();
        view! {
            <div class="maint__reports" data-testid="maint-reports">
                <h3>{l.pick("報告書の確認待ち", "Work reports to confirm")}</h3>
                {cards}
            </div>
        }
    });
    view! {
        <p class="sub maint__asof">{site_name}" · "{asof}" · "
            <a href=report_href data-testid="maint-report-link">{l.pick("保守作業報告書（印刷用）", "Maintenance report (printable)")}</a>
        </p>
        <section class="panel maint" data-testid="maint-awaiting" data-count=n_awaiting aria-labelledby="maint-awaiting-h">
            <h2 class="panel__title" id="maint-awaiting-h">{l.pick("承認待ち", "Awaiting a decision")}</h2>
            <div class="maint__cards">{awaiting_view}</div>
            {reports_view}
        </section>
        {calendar_view(calendar, offset, can_decide, csrf.clone(), l)}
        <section class="panel maint" data-testid="maint-unapproved" data-count=n_unapproved aria-labelledby="maint-unapproved-h">
            <h2 class="panel__title" id="maint-unapproved-h">
                {l.pick("未承認の保守ログイン", "Unapproved maintenance logins")}
                <span class="panel__en">{format!("{} {UNAPPROVED_DAYS} {}", l.pick("過去", "last"), l.pick("日", "days"))}</span>
            </h2>
            {login_table(unapproved, offset, l)}
        </section>
        <section class="panel maint" data-testid="maint-findings" aria-labelledby="maint-findings-h">
            <h2 class="panel__title" id="maint-findings-h">
                {l.pick("指摘事項", "Findings")}
                <span class="panel__en">{format!("{} {FINDINGS_DAYS} {}", l.pick("過去", "last"), l.pick("日", "days"))}</span>
            </h2>
            {finding_tables(findings_by_vendor, findings_by_system, l)}
            {finding_requests(findings, offset, l)}
        </section>
        {inventory_view(inventory, l)}
        {can_decide.then(|| paper_form(vendors, offset, csrf.clone(), l))}
    }
    .into_any()
}

/// One request: what, who, when, where from, filed by; its decisions and report; the
/// buttons the viewer may use.
fn request_card(r: RequestRow, offset: i32, can_decide: bool, csrf: String, l: Lang) -> AnyView {
    let people = r
        .people
        .iter()
        .map(|p| {
            if p.name.is_empty() {
                p.id.clone()
            } else {
                format!("{} ({})", p.name, p.id)
            }
        })
        .collect::<Vec<_>>()
        .join("、");
    let window = window_text(&r.start, &r.end, offset);
    let filer = filer_text(&r.requested_by, &r.vendor_name, l);
    let requested = r.status == "requested";
    let to_confirm = r.report.as_ref().is_some_and(|p| p.confirmed_by.is_none());
    // The decisions this request allows now.
    let mut allowed: Vec<Decision> = Vec::new();
    if requested {
        allowed.extend([Decision::Approve, Decision::Deny]);
    }
    if r.cancellable {
        allowed.push(Decision::Cancel);
    }
    if to_confirm {
        allowed.push(Decision::Confirm);
    }
    let actions = if !can_decide || allowed.is_empty() {
        None
    } else if r.self_filed {
        Some(
            view! {
                <p class="notice maint__self" data-testid="maint-self-filed">
                    {l.pick(
                        "この申請はあなたが登録したため、判断は別のセキュリティ責任者または管理者が行います。",
                        "You filed this request: another officer or admin must decide it.",
                    )}
                </p>
            }
            .into_any(),
        )
    } else {
        let note_id = format!("maint-note-{}", r.id);
        let buttons = allowed
            .into_iter()
            .map(|d| {
                let class = match d {
                    Decision::Deny | Decision::Cancel => "danger",
                    _ => "primary",
                };
                view! {
                    <button type="button" class=class data-passkey="decide" data-testid="maint-decide"
                        data-decision=d.as_str() data-request=r.id.clone() data-csrf=csrf.clone()>
                        {l.pick(d.label_ja(), d.label_en())}
                    </button>
                }
            })
            .collect_view();
        Some(
            view! {
                <div class="maint__actions">
                    <label for=note_id.clone()>{l.pick("メモ（任意）", "Note (optional)")}</label>
                    <textarea id=note_id name="note" rows="2" maxlength="2000"></textarea>
                    <div class="maint__buttons">{buttons}</div>
                    <p class="sub">{l.pick("判断はパスキーで確認します。", "Each decision is confirmed with your passkey.")}</p>
                </div>
            }
            .into_any(),
        )
    };
    let decisions = (!r.decisions.is_empty()).then(|| {
        view! {
            <ul class="plain-list maint__decisions">
                {r.decisions.iter().map(|d| {
                    let note = (!d.note.is_empty()).then(|| format!(" — {}", d.note));
                    view! {
                        <li data-testid="maint-decision" data-decision=d.decision.clone()>
                            <strong>{decision_label(&d.decision, l)}</strong>
                            {format!(" {} · {}", d.by, minutes(&d.at, site_offset(offset)))}
                            {note}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    });
    let report = r.report.clone().map(|p| {
        let confirmed = match (&p.confirmed_by, &p.confirmed_at) {
            (Some(by), Some(at)) => format!(
                "{} {by} · {}",
                l.pick("確認済み", "Confirmed by"),
                minutes(at, site_offset(offset))
            ),
            _ => l.pick("未確認", "Not confirmed").to_string(),
        };
        view! {
            <div class="maint__report" data-testid="maint-report-summary">
                <strong>{l.pick("作業報告", "Work report")}</strong>
                {format!(" {} · {confirmed}", minutes(&p.at, site_offset(offset)))}
                <p class="maint__text">{p.summary.clone()}</p>
                {p.recording_uri.clone().map(|u| view! { <p class="sub">{l.pick("操作記録: ", "Recording: ")}<code class="mono maint__wrap">{u}</code></p> })}
            </div>
        }
    });
    let findings = (!r.findings.is_empty()).then(|| {
        view! {
            <p class="maint__badges">
                {r.findings.iter().map(|f| view! { <span class="badge badge--gap" data-finding=f.clone()>{finding_label(f, l)}</span> }).collect_view()}
            </p>
        }
    });
    let status = r.status.clone();
    view! {
        <article class="maint__card" data-testid="maint-request" data-request-id=r.id.clone()
            data-status=r.status.clone() data-self-filed=r.self_filed.to_string() data-passkey-scope="">
            <header class="maint__head">
                <h3 class="maint__title">
                    {r.system_name.clone()}" "<small class="code maint__inline">{r.system.clone()}</small>
                </h3>
                <p class="maint__badges">
                    <span class=format!("badge badge--{}", status_tone(&status))>{status_label(&status, l)}</span>
                    <span class="badge badge--neutral" data-testid="maint-mode">{mode_text(r.remote, l)}</span>
                    {r.emergency.then(|| view! { <span class="badge badge--gap" data-testid="maint-emergency">{l.pick("緊急", "Emergency")}</span> })}
                </p>
            </header>
            {findings}
            <dl class="maint__facts">
                <div><dt>{l.pick("日時", "When")}</dt><dd data-testid="maint-when">{window}</dd></div>
                <div><dt>{l.pick("事業者", "Vendor")}</dt><dd>{r.vendor_name.clone()}" "<small class="code maint__inline">{r.vendor.clone()}</small></dd></div>
                <div><dt>{l.pick("作業者", "People")}</dt><dd>{people}</dd></div>
                <div><dt>{l.pick("作業計画書", "Work plan")}</dt><dd class="mono">{r.work_plan.clone()}</dd></div>
                <div class="maint__wide"><dt>{l.pick("目的", "Purpose")}</dt><dd class="maint__text">{r.purpose.clone()}</dd></div>
                <div><dt>{l.pick("申請者", "Filed by")}</dt><dd>{filer}</dd></div>
                <div><dt>{l.pick("申請番号", "Request")}</dt><dd class="mono maint__wrap">{r.id.clone()}</dd></div>
                <div><dt>{l.pick("ログイン・入室", "Logins · entries")}</dt><dd>{format!("{} · {}", r.logins.len(), r.entries.len())}</dd></div>
                {(!r.remote).then(|| view! {
                    <div><dt>{l.pick("立会い", "Supervised")}</dt><dd>{supervised_text(r.supervised, r.remote, l)}</dd></div>
                })}
            </dl>
            {decisions}
            {report}
            {actions}
        </article>
    }
    .into_any()
}

/// The approved windows, by the site day they start on.
fn calendar_view(
    rows: Vec<RequestRow>,
    offset: i32,
    can_decide: bool,
    csrf: String,
    l: Lang,
) -> AnyView {
    let mut days: Vec<(String, Vec<RequestRow>)> = Vec::new();
    for r in rows {
        match days.last_mut() {
            Some((day, list)) if *day == r.day => list.push(r),
            _ => days.push((r.day.clone(), vec![r])),
        }
    }
    let body = if days.is_empty() {
        view! { <p class="muted maint__empty">{l.pick("承認済みの作業予定はありません", "No approved window")}</p> }.into_any()
    } else {
        days.into_iter()
            .map(|(day, list)| {
                let items = list
                    .into_iter()
                    .map(|r| {
                        let window = window_text(&r.start, &r.end, offset);
                        let cancel = (can_decide && r.cancellable && !r.self_filed).then(|| {
                            view! {
                                <span class="maint__cancel">
                                    <input type="hidden" name="note" value="" />
                                    <button type="button" class="danger" data-passkey="decide" data-testid="maint-decide"
                                        data-decision="cancel" data-request=r.id.clone() data-csrf=csrf.clone()>
                                        {l.pick(Decision::Cancel.label_ja(), Decision::Cancel.label_en())}
                                    </button>
                                </span>
                            }
                        });
                        let people = r.people.iter().map(|p| if p.name.is_empty() { p.id.clone() } else { p.name.clone() }).collect::<Vec<_>>().join("、");
                        view! {
                            <li class="maint__window" data-testid="maint-window" data-request-id=r.id.clone() data-passkey-scope="">
                                <span class="maint__time mono">{window}</span>
                                <span class="maint__what">
                                    <strong>{r.system_name.clone()}</strong>
                                    {format!(" · {} · {people} · {}", r.vendor_name, mode_text(r.remote, l))}
                                    {r.emergency.then(|| view! { " "<span class="badge badge--gap">{l.pick("緊急", "Emergency")}</span> })}
                                    <small class="code">{format!("{} · {}", r.id, r.work_plan)}</small>
                                </span>
                                {cancel}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="maint__day" data-testid="maint-day" data-day=day.clone()>
                        <h3 class="maint__date"><time datetime=day.clone()>{day.clone()}</time></h3>
                        <ul class="maint__windows">{items}</ul>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="panel maint" data-testid="maint-calendar" aria-labelledby="maint-calendar-h">
            <h2 class="panel__title" id="maint-calendar-h">
                {l.pick("承認済みの作業予定", "Approved maintenance windows")}
                <span class="panel__en">{format!("{} {CALENDAR_PAST_DAYS} {}", l.pick("過去", "from"), l.pick("日から", "days ago"))}</span>
            </h2>
            <div class="maint__days">{body}</div>
        </section>
    }
    .into_any()
}

/// Maintenance logins: when, system, account, person, vendor, terminal, flags.
fn login_table(rows: Vec<LoginLine>, offset: i32, l: Lang) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="muted maint__empty">{l.pick("該当するログインはありません", "None")}</p> }.into_any();
    }
    let body = rows
        .into_iter()
        .map(|x| {
            let flags = x.flags.join(" ");
            let who = if x.person_name.is_empty() { x.person.clone() } else { x.person_name.clone() };
            let place = if x.room.is_empty() { x.terminal.clone() } else { format!("{} ({})", x.terminal, x.room) };
            view! {
                <tr data-testid="maint-unapproved-row" data-event-id=x.event_id.clone() data-flags=flags>
                    <td data-label=l.pick("日時", "When")><span class="mono">{minutes(&x.ts, site_offset(offset))}</span></td>
                    <td data-label=l.pick("システム", "System")>{x.system_name.clone()}<small class="code">{x.system.clone()}</small></td>
                    <td data-label=l.pick("アカウント", "Account")><span class="mono">{x.account.clone()}</span></td>
                    <td data-label=l.pick("作業者", "Person")>{who}</td>
                    <td data-label=l.pick("事業者", "Vendor")>{x.vendor_name.clone()}</td>
                    <td data-label=l.pick("端末", "Terminal")>{place}</td>
                    <td data-label=l.pick("フラグ", "Flags")>
                        {x.flags.iter().map(|f| view! { <span class="badge badge--gap">{flag_label(f, l)}</span>" " }).collect_view()}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="grid maint__table">
                <thead><tr>
                    <th scope="col">{l.pick("日時", "When")}</th>
                    <th scope="col">{l.pick("システム", "System")}</th>
                    <th scope="col">{l.pick("アカウント", "Account")}</th>
                    <th scope="col">{l.pick("作業者", "Person")}</th>
                    <th scope="col">{l.pick("事業者", "Vendor")}</th>
                    <th scope="col">{l.pick("端末", "Terminal")}</th>
                    <th scope="col">{l.pick("フラグ", "Flags")}</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Findings counted per vendor and per system.
pub(crate) fn finding_tables(
    by_vendor: Vec<FindingCount>,
    by_system: Vec<FindingCount>,
    l: Lang,
) -> AnyView {
    let table = move |rows: Vec<FindingCount>, first: &'static str, testid: &'static str| {
        if rows.is_empty() {
            return view! { <p class="muted maint__empty">{l.pick("指摘事項はありません", "No findings")}</p> }.into_any();
        }
        let body = rows
            .into_iter()
            .map(|c| {
                let cells = Finding::ALL
                    .iter()
                    .zip(c.counts.iter())
                    .map(|(f, n)| {
                        let class = if *n > 0 { "num num--alert" } else { "num" };
                        view! { <td data-label=l.pick(f.label_ja(), f.label_en()) class=class data-finding=f.as_str()>{*n}</td> }
                    })
                    .collect_view();
                view! {
                    <tr data-testid=testid data-id=c.id.clone()>
                        <th scope="row" data-label=first>{c.name.clone()}<small class="code">{c.id.clone()}</small></th>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="grid maint__table">
                    <thead><tr>
                        <th scope="col">{first}</th>
                        {Finding::ALL.iter().map(|f| view! { <th scope="col" class="num">{l.pick(f.label_ja(), f.label_en())}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <h3 class="maint__sub">{l.pick("事業者ごと", "By vendor")}</h3>
        {table(by_vendor, l.pick("事業者", "Vendor"), "maint-finding-vendor")}
        <h3 class="maint__sub">{l.pick("システムごと", "By system")}</h3>
        {table(by_system, l.pick("システム", "System"), "maint-finding-system")}
    }
    .into_any()
}

/// The requests behind the findings.
fn finding_requests(rows: Vec<RequestRow>, offset: i32, l: Lang) -> AnyView {
    (!rows.is_empty()).then(|| {
        let items = rows
            .into_iter()
            .map(|r| {
                let codes = r.findings.join(" ");
                view! {
                    <li data-testid="maint-finding-request" data-request-id=r.id.clone() data-findings=codes>
                        <span class="maint__time mono">{window_text(&r.start, &r.end, offset)}</span>
                        <span class="maint__what">
                            <strong>{r.system_name.clone()}</strong>
                            {format!(" · {} · {}", r.vendor_name, status_label(&r.status, l))}
                            " "
                            {r.findings.iter().map(|f| view! { <span class="badge badge--gap">{finding_label(f, l)}</span>" " }).collect_view()}
                            <small class="code">{format!("{} · {}", r.id, r.work_plan)}</small>
                        </span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <h3 class="maint__sub">{l.pick("指摘のある申請", "Requests with findings")}</h3>
            <ul class="maint__windows maint__pad">{items}</ul>
        }
    })
    .into_any()
}

/// The systems vendors maintain, with what must be confirmed (checklist 2②): the
/// maintenance page's inventory and the inspection report's.
pub(crate) fn maintained_table(rows: Vec<MaintainedRow>, l: Lang) -> AnyView {
    if rows.is_empty() {
        view! { <p class="muted maint__empty">{l.pick("保守事業者は登録されていません", "No maintenance vendors")}</p> }.into_any()
    } else {
        let trs = rows
            .into_iter()
            .map(|m| {
                let due = m.due.clone().unwrap_or_default();
                let class = if m.due.is_some() { "maint__due" } else { "" };
                view! {
                    <tr data-testid="maint-inventory-row" data-vendor=m.vendor.clone() data-system=m.system.clone() data-due=due class=class>
                        <td data-label=l.pick("事業者", "Vendor")>{m.vendor_name.clone()}<small class="code">{m.vendor.clone()}</small></td>
                        <td data-label=l.pick("システム", "System")>{m.system_name.clone()}<small class="code">{m.system.clone()}</small></td>
                        <td data-label=l.pick("保守形態", "Mode")>{mode_text(m.remote, l)}</td>
                        <td data-label=l.pick("接続経路", "Route")>{m.route.clone().unwrap_or_else(|| "—".into())}</td>
                        <td data-label=l.pick("事業者確認", "Confirmed")><span class="mono">{m.confirmed.clone().unwrap_or_else(|| "—".into())}</span></td>
                        <td data-label=l.pick("対応", "To do")>
                            {m.due.as_deref().map(|d| view! { <span class="badge badge--gap">{due_label(d, l)}</span> })}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="grid maint__table">
                    <thead><tr>
                        <th scope="col">{l.pick("事業者", "Vendor")}</th>
                        <th scope="col">{l.pick("システム", "System")}</th>
                        <th scope="col">{l.pick("保守形態", "Mode")}</th>
                        <th scope="col">{l.pick("接続経路", "Route")}</th>
                        <th scope="col">{l.pick("事業者確認", "Confirmed")}</th>
                        <th scope="col">{l.pick("対応", "To do")}</th>
                    </tr></thead>
                    <tbody>{trs}</tbody>
                </table>
            </div>
        }
        .into_any()
    }
}

/// The maintenance inventory (checklist 2②).
fn inventory_view(rows: Vec<MaintainedRow>, l: Lang) -> AnyView {
    let n_due = rows.iter().filter(|m| m.due.is_some()).count();
    let body = maintained_table(rows, l);
    view! {
        <section class="panel maint" data-testid="maint-inventory" data-due=n_due.to_string() aria-labelledby="maint-inventory-h">
            <h2 class="panel__title" id="maint-inventory-h">
                {l.pick("保守の棚卸し", "Maintenance inventory")}
                <span class="panel__en">{l.pick("チェックリスト 2②", "checklist 2②")}</span>
            </h2>
            <p class="sub maint__pad">
                {l.pick(
                    "リモート保守の接続経路は、事業者の確認から1年を超えると要確認になります。",
                    "A remote maintenance route must be confirmed by its vendor at least once a year.",
                )}
            </p>
            {body}
        </section>
    }
    .into_any()
}

/// The paper request form (紙の申請を登録): passkey.js posts it as JSON to
/// `POST /api/v1/maintenance` with the session's CSRF token.
fn paper_form(vendors: Vec<VendorOption>, offset: i32, csrf: String, l: Lang) -> AnyView {
    let tz = site_offset(offset).to_string();
    let systems = vendors
        .iter()
        .flat_map(|v| {
            v.systems.iter().map(move |s| {
                view! { <option value=s.id.clone()>{format!("{} ({}) — {}", s.name, s.id, v.name)}</option> }
            })
        })
        .collect_view();
    let staff = vendors
        .iter()
        .flat_map(|v| {
            v.staff.iter().map(move |p| {
                view! {
                    <label class="maint__check">
                        <input type="checkbox" name="people" value=p.id.clone() />
                        {format!("{} ({}) — {}", p.name, p.id, v.name)}
                    </label>
                }
            })
        })
        .collect_view();
    let vendor_options = vendors
        .iter()
        .map(|v| view! { <option value=v.id.clone()>{format!("{} ({})", v.name, v.id)}</option> })
        .collect_view();
    view! {
        <section class="panel maint" aria-labelledby="maint-file-h">
            <h2 class="panel__title" id="maint-file-h">{l.pick("紙の申請を登録", "Register a paper request")}</h2>
            <form class="inv__form maint__form" data-maint-form="" data-csrf=csrf data-offset=tz.clone() data-testid="maint-file-form">
                <label>{l.pick("事業者", "Vendor")}<select name="vendor" required=true>{vendor_options}</select></label>
                <label>{l.pick("申請番号", "Request id")}<input name="request_id" required=true maxlength="128" autocomplete="off" /></label>
                <label>{l.pick("システム", "System")}<select name="system" required=true>{systems}</select></label>
                <label>{l.pick("作業計画書の番号", "Work plan no.")}<input name="work_plan" required=true minlength="3" maxlength="128" /></label>
                <label>{format!("{} ({tz})", l.pick("開始", "Start"))}<input type="datetime-local" name="start" required=true /></label>
                <label>{format!("{} ({tz})", l.pick("終了", "End"))}<input type="datetime-local" name="end" required=true /></label>
                <label class="inv__wide">{l.pick("目的", "Purpose")}<textarea name="purpose" rows="2" maxlength="2000"></textarea></label>
                <fieldset class="maint__people">
                    <legend>{l.pick("作業者（その事業者の要員）", "People (that vendor's staff)")}</legend>
                    {staff}
                </fieldset>
                <label class="maint__check"><input type="checkbox" name="remote" />{l.pick("リモート保守", "Remote")}</label>
                <label class="maint__check"><input type="checkbox" name="emergency" />{l.pick("緊急（事後承認）", "Emergency (approved afterwards)")}</label>
                <button type="submit" class="primary" data-testid="maint-file">{l.pick("登録", "Register")}</button>
            </form>
        </section>
    }
    .into_any()
}

/// A printable report's period form (開始日・終了日, 表示, 印刷: the form is hidden in
/// print by its `class`), and the same form with why a period could not be read.
pub(crate) struct PeriodForm {
    pub action: &'static str,
    pub class: &'static str,
    pub testid: &'static str,
    pub error_testid: &'static str,
}

impl PeriodForm {
    pub fn view(&self, from: String, to: String, l: Lang) -> AnyView {
        view! {
            <form class=self.class method="get" action=self.action data-testid=self.testid>
                <label>{l.pick("開始日", "From")}<input type="date" name="from" value=from required=true /></label>
                <label>{l.pick("終了日", "To")}<input type="date" name="to" value=to required=true /></label>
                {(l == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
                <button type="submit">{l.pick("表示", "Show")}</button>
                <button type="button" data-print="" class="maint__print">{l.pick("印刷", "Print")}</button>
            </form>
        }
        .into_any()
    }

    pub fn error(&self, from: String, to: String, message: String, l: Lang) -> AnyView {
        view! {
            {self.view(from, to, l)}
            <p class="notice notice--error" role="alert" data-testid=self.error_testid>
                {l.pick("期間を読み取れません: ", "Cannot read the period: ")}{message}
            </p>
        }
        .into_any()
    }
}

/// The maintenance report's period form.
const PERIOD: PeriodForm = PeriodForm {
    action: "/maintenance/report",
    class: "inv__form maint__period panel",
    testid: "maint-report-form",
    error_testid: "maint-report-error",
};

pub fn report(r: MaintenanceReport, l: Lang) -> AnyView {
    let MaintenanceReport {
        site_name,
        generated_at,
        offset,
        from,
        to,
        requests,
        unapproved,
        findings_by_vendor,
        findings_by_system,
        evidence_head,
    } = r;
    let tz = offset_label(site_offset(offset));
    let made = format!("{} {tz}", local_time(&generated_at, site_offset(offset)));
    let n = requests.len();
    let items = requests
        .into_iter()
        .map(|r| report_request(r, offset, l))
        .collect_view();
    view! {
        {PERIOD.view(from.clone(), to.clone(), l)}
        <article class="panel maint maint__print-doc" data-testid="maint-report" data-from=from.clone() data-to=to.clone() data-count=n.to_string()>
            <header class="maint__doc-head">
                <h2 class="panel__title">{l.pick("保守作業報告書", "Maintenance report")}</h2>
                <dl class="maint__facts maint__pad">
                    <div><dt>{l.pick("施設", "Site")}</dt><dd data-testid="maint-report-site">{site_name}</dd></div>
                    <div><dt>{l.pick("対象期間", "Period")}</dt><dd>{format!("{from} 〜 {to} ({tz})")}</dd></div>
                    <div><dt>{l.pick("作成日時", "Made")}</dt><dd>{made}</dd></div>
                    <div><dt>{l.pick("申請", "Requests")}</dt><dd>{n}</dd></div>
                    <div class="maint__wide"><dt>{l.pick("証跡チェーンの先頭", "Evidence head")}</dt><dd class="mono" data-testid="maint-report-head">{evidence_head}</dd></div>
                </dl>
                <p class="sub maint__pad">
                    {l.pick(
                        "誰が・いつ・どこから・何をしたか: 期間内のすべての保守申請と、その判断・ログイン・入室・立会い・作業報告・確認、および指摘事項。",
                        "Who did what, when and from where: every maintenance request of the period with its decisions, logins, entries, supervision, report and confirmation, and the findings.",
                    )}
                </p>
            </header>
            <h3 class="maint__sub">{l.pick("指摘事項", "Findings")}</h3>
            {finding_tables(findings_by_vendor, findings_by_system, l)}
            <h3 class="maint__sub">{l.pick("保守申請", "Requests")}</h3>
            {if n == 0 {
                view! { <p class="muted maint__empty">{l.pick("期間内の申請はありません", "No request in the period")}</p> }.into_any()
            } else {
                items.into_any()
            }}
            <h3 class="maint__sub">{l.pick("未承認の保守ログイン", "Unapproved maintenance logins")}</h3>
            {login_table(unapproved, offset, l)}
        </article>
    }
    .into_any()
}

/// One request in the report, with everything that happened to it.
fn report_request(r: RequestRow, offset: i32, l: Lang) -> AnyView {
    let at = move |t: &str| minutes(t, site_offset(offset));
    let people = r
        .people
        .iter()
        .map(|p| format!("{} ({})", p.name, p.id))
        .collect::<Vec<_>>()
        .join("、");
    let decisions = if r.decisions.is_empty() {
        l.pick("なし", "none").to_string()
    } else {
        r.decisions
            .iter()
            .map(|d| {
                let note = if d.note.is_empty() {
                    String::new()
                } else {
                    format!("（{}）", d.note)
                };
                format!(
                    "{} {} {}{note}",
                    decision_label(&d.decision, l),
                    d.by,
                    at(&d.at)
                )
            })
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let report = match &r.report {
        Some(p) => {
            let confirmed = match (&p.confirmed_by, &p.confirmed_at) {
                (Some(by), Some(t)) => format!("{} {by} {}", l.pick("確認", "confirmed by"), at(t)),
                _ => l.pick("未確認", "not confirmed").to_string(),
            };
            format!("{} — {} · {confirmed}", at(&p.at), p.summary)
        }
        None => l.pick("未提出", "none").to_string(),
    };
    let entries = if r.entries.is_empty() {
        l.pick("なし", "none").to_string()
    } else {
        r.entries
            .iter()
            .map(|e| format!("{} {} {} ({})", at(&e.at), e.person_name, e.door, e.room))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let logins = r
        .login_lines
        .iter()
        .map(|x| {
            let who = if x.person_name.is_empty() {
                x.account.clone()
            } else {
                format!("{} ({})", x.person_name, x.account)
            };
            let place = if x.room.is_empty() {
                x.terminal.clone()
            } else {
                format!("{} ({})", x.terminal, x.room)
            };
            view! {
                <li data-testid="maint-report-login" data-event-id=x.event_id.clone()>
                    <span class="mono">{at(&x.ts)}</span>
                    {format!(" {who} · {place} · {}", verdict_label(l, &x.verdict))}
                </li>
            }
        })
        .collect_view();
    let findings = if r.findings.is_empty() {
        l.pick("なし", "none").to_string()
    } else {
        r.findings
            .iter()
            .map(|f| finding_label(f, l))
            .collect::<Vec<_>>()
            .join("、")
    };
    view! {
        <section class="maint__card maint__report-item" data-testid="maint-report-request" data-request-id=r.id.clone() data-status=r.status.clone()>
            <h4 class="maint__title">
                {format!("{} — {} ", r.id, r.system_name)}
                <span class=format!("badge badge--{}", status_tone(&r.status))>{status_label(&r.status, l)}</span>
                {r.emergency.then(|| view! { " "<span class="badge badge--gap">{l.pick("緊急", "Emergency")}</span> })}
            </h4>
            <dl class="maint__facts">
                <div><dt>{l.pick("日時", "When")}</dt><dd>{window_text(&r.start, &r.end, offset)}</dd></div>
                <div><dt>{l.pick("事業者", "Vendor")}</dt><dd>{r.vendor_name.clone()}</dd></div>
                <div><dt>{l.pick("作業者", "People")}</dt><dd>{people}</dd></div>
                <div><dt>{l.pick("保守形態", "Mode")}</dt><dd>{mode_text(r.remote, l)}</dd></div>
                <div><dt>{l.pick("作業計画書", "Work plan")}</dt><dd class="mono">{r.work_plan.clone()}</dd></div>
                <div><dt>{l.pick("申請者", "Filed by")}</dt><dd>{format!("{} {}", filer_text(&r.requested_by, &r.vendor_name, l), at(&r.requested_at))}</dd></div>
                <div class="maint__wide"><dt>{l.pick("目的", "Purpose")}</dt><dd class="maint__text">{r.purpose.clone()}</dd></div>
                <div class="maint__wide"><dt>{l.pick("判断", "Decisions")}</dt><dd>{decisions}</dd></div>
                <div class="maint__wide"><dt>{l.pick("入室", "Entries")}</dt><dd>{entries}</dd></div>
                <div><dt>{l.pick("立会い", "Supervised")}</dt><dd>{supervised_text(r.supervised, r.remote, l)}</dd></div>
                <div class="maint__wide"><dt>{l.pick("作業報告", "Work report")}</dt><dd class="maint__text">{report}</dd></div>
                <div class="maint__wide"><dt>{l.pick("指摘事項", "Findings")}</dt><dd>{findings}</dd></div>
            </dl>
            <p class="maint__label">{format!("{} ({})", l.pick("ログイン", "Logins"), r.login_lines.len())}</p>
            <ul class="plain-list maint__logins">{logins}</ul>
        </section>
    }
    .into_any()
}

/// The period form with why the period could not be read.
pub fn period_error(from: String, to: String, message: String, l: Lang) -> AnyView {
    PERIOD.error(from, to, message, l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_filed() {
        assert_eq!(
            filer_text("user:kanri", "アクメ", Lang::Ja),
            "kanri (紙の申請)"
        );
        assert_eq!(
            filer_text("vendor:acme-med", "アクメ", Lang::En),
            "アクメ (vendor)"
        );
        assert_eq!(supervised_text(Some(false), false, Lang::Ja), "なし");
        assert_eq!(mode_text(true, Lang::Ja), "リモート");
    }
}
