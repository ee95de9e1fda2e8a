//! The data of the inspection report (`monban_web::pages::inspection`): the checklist
//! mapping (`crate::checklist`, data), the manual answers (`Store::manual_answers`), and
//! the evidence that answers the other items — compliance per system against its plan
//! (`crate::reports::compliance`, `monban_core::plan::check`), the maintenance report's
//! findings and the 2② inventory, the accounts of every system (CONTRACT §12), door health
//! and alarms in the period, and the evidence chain's head (§13). How a measured item
//! comes out is the core's rule (`monban_core::inspection`), not this module's.

use super::{period, unavailable, Source};
use crate::checklist::{Answer, Checklist, Evidence};
use monban_core::accounts::{self, RECENT};
use monban_core::event::DoorStatus;
use monban_core::inspection::{self as rules, Measured};
use monban_core::{plan, Month};
use monban_web::api::SourceError;
use monban_web::pages::inspection::{
    AccountsRow, DoorRow, HeadRow, InspectionReport, InspectionSource, ItemAnswer, ItemRow,
    MaintenanceSummary, ManualRow, SourceRow, SystemRow,
};
use monban_web::pages::maintenance::MaintenanceSource;
use std::collections::BTreeMap;

/// The report's default period: the last 30 site days (as the maintenance report).
const REPORT_DAYS: i64 = 30;

#[async_trait::async_trait]
impl InspectionSource for Source {
    async fn inspection(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<InspectionReport, SourceError> {
        let now = self.now();
        let inv = self.inventory();
        let offset = self.site.offset;
        let today = offset.day_of(now);
        let (first, last) = super::site_days(from, to, today, REPORT_DAYS)?;
        let (start, end) = (offset.start_of(first), offset.end_of(last));
        // The head first: everything below was stored at or before it.
        let head = self
            .store
            .evidence_head()
            .await
            .map_err(unavailable)?
            .map(|h| HeadRow {
                seq: h.seq,
                hash: h.hash,
                at: h.at.to_rfc3339(),
            });

        // 二要素認証 per system, against its plan.
        let current: Month = today
            .month()
            .ok_or_else(|| SourceError::Unavailable(format!("no month for {today}")))?;
        let compliance = crate::reports::compliance(&self.store, &inv, period(start, end)?, offset)
            .await
            .map_err(unavailable)?;
        let systems: Vec<SystemRow> = compliance
            .into_iter()
            .filter_map(|c| {
                let s = inv.systems().iter().find(|s| s.id.as_str() == c.id)?;
                let check = plan::check(s.plan, s.by, c.status, current);
                Some(SystemRow {
                    id: c.id,
                    name: c.name,
                    status: c.status,
                    successful: c.logins.successful,
                    direct_2fa: c.logins.direct_2fa,
                    combined_measures: c.logins.combined_measures,
                    not_met: c.logins.not_met,
                    failed: c.logins.failed,
                    coverage: c.coverage,
                    native_mfa: c.native_mfa,
                    plan: s.plan,
                    by: s.by.map(|m| m.to_string()),
                    check,
                    logins: c.logins.successful + c.logins.failed,
                })
            })
            .collect();

        // Maintenance: the period's report and the 2② inventory as of today.
        let m = self
            .maintenance_report(Some(first.to_string()), Some(last.to_string()))
            .await?;
        let maintenance = MaintenanceSummary {
            requests: m.requests.len(),
            approved: m.requests.iter().filter(|r| r.status == "approved").count(),
            emergency: m.requests.iter().filter(|r| r.emergency).count(),
            reported: m.requests.iter().filter(|r| r.report.is_some()).count(),
            unapproved_logins: m.unapproved.len(),
            findings_by_vendor: m.findings_by_vendor,
            findings_by_system: m.findings_by_system,
            inventory: super::maintenance::maintained_rows(&inv, today),
        };

        // Accounts of every system, now (CONTRACT §12).
        let mut accounts = Vec::new();
        for s in inv.systems() {
            let seen = self
                .store
                .account_activity(s.id.as_str(), now.saturating_sub(RECENT))
                .await
                .map_err(unavailable)?;
            let rows =
                accounts::review(&inv, &s.id, &seen, now, self.account_settings.dormant_after);
            let count =
                |f: accounts::Finding| rows.iter().filter(|r| r.findings.contains(&f)).count();
            accounts.push(AccountsRow {
                system: s.id.to_string(),
                name: s.name.clone(),
                accounts: rows.len(),
                leaver: count(accounts::Finding::Leaver),
                dormant: count(accounts::Finding::Dormant),
                unmapped: count(accounts::Finding::Unmapped),
                // No account review is recorded by this build yet: every system is due.
                last_review: None,
                review_overdue: true,
            });
        }

        // Door health and alarms in the period.
        let statuses = self
            .store
            .statuses_since(start)
            .await
            .map_err(unavailable)?;
        let outages = self.store.outages_since(start).await.map_err(unavailable)?;
        let alarms = self
            .store
            .alarm_events(start.saturating_sub(monban_core::Span::from_millis(1)), end)
            .await
            .map_err(unavailable)?;
        let health = self.ingest.door_health().await;
        let mut tally: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
        for s in statuses
            .iter()
            .filter(|s| s.ts <= end && s.status == DoorStatus::Offline)
        {
            tally.entry(s.door.as_str()).or_default().0 += 1;
        }
        for (door, _) in outages.iter().filter(|(_, o)| o.from <= end) {
            tally.entry(door.as_str()).or_default().1 += 1;
        }
        for a in &alarms {
            tally.entry(a.door.as_str()).or_default().2 += 1;
        }
        let doors: Vec<DoorRow> = inv
            .doors()
            .iter()
            .map(|d| {
                let (offline, outages, alarms) =
                    tally.get(d.id.as_str()).copied().unwrap_or_default();
                DoorRow {
                    door: d.id.to_string(),
                    name: d.name.clone(),
                    room: inv
                        .room(&d.room)
                        .map(|r| r.name.clone())
                        .unwrap_or_else(|| d.room.to_string()),
                    offline,
                    outages,
                    alarms,
                    offline_now: health
                        .iter()
                        .any(|h| h.door == d.id.as_str() && h.state == "offline"),
                }
            })
            .collect();

        // The checklist: each item answered by its evidence or by an officer.
        let checklist = Checklist::embedded()
            .map_err(|e| SourceError::Unavailable(format!("checklist: {}", e.join("; "))))?;
        let answers = self.store.manual_answers().await.map_err(unavailable)?;
        let items = checklist
            .items
            .iter()
            .map(|i| ItemRow {
                id: i.id.clone(),
                source: i.source.clone(),
                number: i.number.clone(),
                wording: i.wording.clone(),
                quoted: i.quoted,
                guideline: i.guideline.clone(),
                answer: match i.answer {
                    Answer::Manual => ItemAnswer::Manual(answers.get(&i.id).map(|a| ManualRow {
                        value: a.value,
                        date: a.date.to_string(),
                        target: a.target.map(|d| d.to_string()),
                        note: a.note.clone(),
                        by: a.by.clone(),
                        at: a.at.to_rfc3339(),
                    })),
                    Answer::Evidence(e) => {
                        measured(e, &systems, &maintenance, &accounts, head.is_some())
                    }
                },
            })
            .collect();
        let sources = checklist
            .sources
            .iter()
            .map(|s| SourceRow {
                id: s.id.clone(),
                citation: s.citation(),
                part: s.part.clone(),
            })
            .collect();
        Ok(InspectionReport {
            site_name: self.site.name.clone(),
            generated_at: now.to_rfc3339(),
            offset: offset.seconds(),
            from: first.to_string(),
            to: last.to_string(),
            head,
            sources,
            items,
            systems,
            maintenance,
            accounts,
            doors,
            can_answer: false,
            csrf: String::new(),
        })
    }
}

/// An evidence item's answer and its summary, by the core's rules.
fn measured(
    e: Evidence,
    systems: &[SystemRow],
    maintenance: &MaintenanceSummary,
    accounts: &[AccountsRow],
    chained: bool,
) -> ItemAnswer {
    let names = |f: &dyn Fn(&SystemRow) -> bool| -> String {
        systems
            .iter()
            .filter(|s| f(s))
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
            .join("、")
    };
    match e {
        Evidence::TwoFactor => {
            let (value, target) = rules::two_factor(
                &systems
                    .iter()
                    .map(|s| (s.check, s.by.as_deref().and_then(|b| Month::parse(b).ok())))
                    .collect::<Vec<_>>(),
            );
            let met = systems
                .iter()
                .filter(|s| s.check == monban_core::PlanCheck::Met)
                .count();
            let open = names(&|s| {
                !matches!(
                    s.check,
                    monban_core::PlanCheck::Met | monban_core::PlanCheck::NotMeasured
                )
            });
            let (ja, en) = match value {
                Measured::Yes => (
                    format!("全{}システムで、期間内の成功ログインがすべて二要素認証（直接または複合対策）を満たしました。", systems.len()),
                    format!("In all {} systems every successful login of the period met 2FA (directly or by combined measures).", systems.len()),
                ),
                Measured::No => (
                    format!("{}/{} システムで充足。未達: {open}（移行計画は「2.」の表）。", met, systems.len()),
                    format!("{met}/{} systems met it. Not met: {open} (plans in section 2).", systems.len()),
                ),
                Measured::NotMeasured => (
                    format!("期間内にログインの記録がないシステムがあります: {}。", names(&|s| s.check == monban_core::PlanCheck::NotMeasured)),
                    format!("Some systems recorded no login in the period: {}.", names(&|s| s.check == monban_core::PlanCheck::NotMeasured)),
                ),
            };
            ItemAnswer::Measured {
                value,
                target: target.map(|m| m.to_string()),
                section: "insp-two-factor",
                summary_ja: ja,
                summary_en: en,
            }
        }
        Evidence::AccessLog => {
            let counts: Vec<u64> = systems.iter().map(|s| s.logins).collect();
            let value = rules::access_log(&counts, chained);
            let total: u64 = counts.iter().sum();
            let silent = names(&|s| s.logins == 0);
            let (ja, en) = if silent.is_empty() {
                (
                    format!("期間内のログイン {total} 件を全システムから記録し、証跡チェーンに連結しています。"),
                    format!("{total} logins of the period recorded from every system and linked into the evidence chain."),
                )
            } else {
                (
                    format!("期間内のログイン {total} 件を記録。記録のないシステム: {silent}。"),
                    format!("{total} logins recorded in the period. Systems with none: {silent}."),
                )
            };
            ItemAnswer::Measured {
                value,
                target: None,
                section: "insp-access-log",
                summary_ja: ja,
                summary_en: en,
            }
        }
        Evidence::RemoteMaintenance => {
            let due = maintenance
                .inventory
                .iter()
                .filter(|m| m.due.is_some())
                .count();
            let n = maintenance.inventory.len();
            let value = rules::remote_maintenance(n, due);
            ItemAnswer::Measured {
                value,
                target: None,
                section: "insp-maintenance",
                summary_ja: format!("保守対象 {n} 件のうち、事業者への確認が必要なもの {due} 件。未承認の保守ログイン {} 件。", maintenance.unapproved_logins),
                summary_en: format!("{due} of {n} maintained systems must be confirmed with their vendor. {} unapproved maintenance logins.", maintenance.unapproved_logins),
            }
        }
        Evidence::Accounts => {
            let value = rules::unneeded_accounts(
                &accounts
                    .iter()
                    .map(|a| (a.accounts, a.leaver, a.review_overdue))
                    .collect::<Vec<_>>(),
            );
            let leaver: usize = accounts.iter().map(|a| a.leaver).sum();
            let dormant: usize = accounts.iter().map(|a| a.dormant).sum();
            let unmapped: usize = accounts.iter().map(|a| a.unmapped).sum();
            let due = accounts.iter().filter(|a| a.review_overdue).count();
            ItemAnswer::Measured {
                value,
                target: None,
                section: "insp-accounts",
                summary_ja: format!("退職者のアカウント {leaver} 件、休眠 {dormant} 件、未登録 {unmapped} 件。棚卸しが必要なシステム {due} 件。"),
                summary_en: format!("{leaver} leavers' accounts, {dormant} dormant, {unmapped} unmapped. {due} systems due for an account review."),
            }
        }
    }
}
