//! The data of the dashboard's maintenance pages (`monban_web::pages::maintenance`): the
//! requests with their reconciliation (`crate::maintenance::Maintenance::view`/`list`),
//! the maintenance logins no request covers (`Maintenance::unapproved`), findings
//! counted per vendor and per system, and the maintenance inventory (checklist 2②,
//! `Inventory::vendors` with `Maintains::confirmation_due`).

use super::{unavailable, Source};
use crate::maintenance::RequestView;
use crate::store::StoredLogin;
use monban_core::maintenance::{Finding, RequestStatus};
use monban_core::{Inventory, SiteDay, Span, Timestamp};
use monban_web::api::SourceError;
use monban_web::pages::maintenance::{
    DecisionRow, EntryRow, FindingCount, LoginLine, MaintainedRow, MaintenanceReport,
    MaintenanceView, PersonRef, ReportRow, RequestRow, VendorOption, CALENDAR_PAST_DAYS,
    FINDINGS_DAYS, UNAPPROVED_DAYS,
};

/// How far ahead the page reads requests (approved windows to come).
const AHEAD_DAYS: i64 = 400;
/// The report's default period: the last 30 site days.
const REPORT_DAYS: i64 = 30;

fn person_ref(inv: &Inventory, id: &monban_core::PersonId) -> PersonRef {
    PersonRef {
        id: id.to_string(),
        name: inv.person(id).map(|p| p.name.clone()).unwrap_or_default(),
    }
}

fn system_name(inv: &Inventory, id: &monban_core::SystemId) -> String {
    inv.system(id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn vendor_name(inv: &Inventory, id: &monban_core::VendorId) -> String {
    inv.vendor(id)
        .map(|v| v.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// A request as the pages show it.
fn request_row(src: &Source, inv: &Inventory, v: &RequestView, now: Timestamp) -> RequestRow {
    let r = &v.request;
    let offset = src.site.offset;
    RequestRow {
        id: r.id.to_string(),
        vendor: r.vendor.to_string(),
        vendor_name: vendor_name(inv, &r.vendor),
        system: r.system.to_string(),
        system_name: system_name(inv, &r.system),
        people: r.people.iter().map(|p| person_ref(inv, p)).collect(),
        work_plan: r.work_plan.clone(),
        purpose: r.purpose.clone(),
        start: r.start.to_rfc3339(),
        end: r.end.to_rfc3339(),
        day: offset.date_of(r.start),
        remote: r.remote,
        emergency: r.emergency,
        status: r.status.as_str().to_string(),
        requested_by: r.requested_by.to_string(),
        requested_at: r.requested_at.to_rfc3339(),
        decisions: r
            .decisions
            .iter()
            .map(|d| DecisionRow {
                decision: d.decision.as_str().to_string(),
                by: d.by.clone(),
                at: d.at.to_rfc3339(),
                note: d.note.clone(),
            })
            .collect(),
        logins: v.logins.clone(),
        login_lines: Vec::new(),
        entries: v
            .entries
            .iter()
            .map(|e| EntryRow {
                person: e.person.to_string(),
                person_name: inv
                    .person(&e.person)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                door: e.door.to_string(),
                room: inv
                    .room_of_door(&e.door)
                    .and_then(|r| inv.room(r))
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                at: e.at.to_rfc3339(),
            })
            .collect(),
        supervised: v.supervised,
        report: r.report.as_ref().map(|p| ReportRow {
            at: p.at.to_rfc3339(),
            summary: p.summary.clone(),
            recording_uri: p.recording.as_ref().map(|x| x.uri.clone()),
            recording_sha256: p.recording.as_ref().map(|x| x.sha256.clone()),
            confirmed_by: p.confirmed_by.clone(),
            confirmed_at: p.confirmed_at.map(|t| t.to_rfc3339()),
        }),
        findings: v.findings.iter().map(|f| f.as_str().to_string()).collect(),
        cancellable: r.status == RequestStatus::Approved && now < r.end,
        self_filed: false,
    }
}

/// A maintenance login with who, where and its flags now.
fn login_line(src: &Source, inv: &Inventory, s: &StoredLogin) -> LoginLine {
    let l = &s.login;
    let facts = src.maintenance.facts(inv, l);
    let person = inv
        .person_by_account(&l.system, &l.account)
        .and_then(|p| inv.person(p));
    let vendor = person.and_then(|p| p.vendor.as_ref());
    LoginLine {
        event_id: l.event_id.clone(),
        ts: l.ts.to_rfc3339(),
        system: l.system.to_string(),
        system_name: system_name(inv, &l.system),
        account: l.account.clone(),
        person: person.map(|p| p.id.to_string()).unwrap_or_default(),
        person_name: person.map(|p| p.name.clone()).unwrap_or_default(),
        vendor: vendor.map(|v| v.to_string()).unwrap_or_default(),
        vendor_name: vendor.map(|v| vendor_name(inv, v)).unwrap_or_default(),
        terminal: l.terminal.clone(),
        room: inv
            .terminal_by_str(&l.terminal)
            .and_then(|t| inv.room(&t.room))
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        verdict: s.verdict.kind.as_str().to_string(),
        flags: facts.flags.iter().map(|f| f.as_str().to_string()).collect(),
        coverage: facts
            .maintenance
            .map(|c| c.status.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// Findings per vendor (every vendor of the inventory) and per system (every system a
/// vendor maintains), plus any other that a request names.
fn finding_counts(
    inv: &Inventory,
    views: &[RequestView],
) -> (Vec<FindingCount>, Vec<FindingCount>) {
    let blank = |id: String, name: String| FindingCount {
        id,
        name,
        counts: vec![0; Finding::ALL.len()],
    };
    let mut vendors: Vec<FindingCount> = inv
        .vendors()
        .iter()
        .map(|v| blank(v.id.to_string(), v.name.clone()))
        .collect();
    let mut systems: Vec<FindingCount> = Vec::new();
    for v in inv.vendors() {
        for m in &v.maintains {
            if !systems.iter().any(|s| s.id == m.system.as_str()) {
                systems.push(blank(m.system.to_string(), system_name(inv, &m.system)));
            }
        }
    }
    fn slot<'a>(
        rows: &'a mut Vec<FindingCount>,
        id: &str,
        name: impl FnOnce() -> String,
    ) -> &'a mut FindingCount {
        let at = match rows.iter().position(|c| c.id == id) {
            Some(i) => i,
            None => {
                rows.push(FindingCount {
                    id: id.to_string(),
                    name: name(),
                    counts: vec![0; Finding::ALL.len()],
                });
                rows.len() - 1
            }
        };
        &mut rows[at]
    }
    for v in views {
        let r = &v.request;
        for f in &v.findings {
            let Some(i) = Finding::ALL.iter().position(|x| x == f) else {
                continue;
            };
            slot(&mut vendors, r.vendor.as_str(), || {
                vendor_name(inv, &r.vendor)
            })
            .counts[i] += 1;
            slot(&mut systems, r.system.as_str(), || {
                system_name(inv, &r.system)
            })
            .counts[i] += 1;
        }
    }
    (vendors, systems)
}

fn days(n: i64) -> Span {
    Span::from_secs(n * 24 * 3600)
}

#[async_trait::async_trait]
impl monban_web::pages::maintenance::MaintenanceSource for Source {
    async fn maintenance(&self) -> Result<MaintenanceView, SourceError> {
        let src = self;
        let now = src.now();
        let inv = src.inventory();
        let m = &src.maintenance;
        let offset = src.site.offset;
        let today = offset.day_of(now);
        let from = offset.start_of(today.plus(-FINDINGS_DAYS));
        let to = now.saturating_add(days(AHEAD_DAYS));
        // Newest first (by start).
        let views = m.list(&inv, from, to, now).await.map_err(unavailable)?;

        let mut awaiting = Vec::new();
        for r in m.awaiting() {
            let v = m.view(&inv, &r, now).await.map_err(unavailable)?;
            awaiting.push(request_row(src, &inv, &v, now));
        }
        let mut reports = Vec::new();
        for r in m
            .requests()
            .iter()
            .filter(|r| r.report.as_ref().is_some_and(|p| p.confirmed_by.is_none()))
        {
            let v = m.view(&inv, r, now).await.map_err(unavailable)?;
            reports.push(request_row(src, &inv, &v, now));
        }
        let calendar_from = offset.start_of(today.plus(-CALENDAR_PAST_DAYS));
        let mut calendar: Vec<RequestRow> = views
            .iter()
            .filter(|v| {
                v.request.status == RequestStatus::Approved && v.request.end >= calendar_from
            })
            .map(|v| request_row(src, &inv, v, now))
            .collect();
        calendar.reverse();
        let findings = views
            .iter()
            .filter(|v| !v.findings.is_empty())
            .map(|v| request_row(src, &inv, v, now))
            .collect();
        let (findings_by_vendor, findings_by_system) = finding_counts(&inv, &views);

        let mut unapproved: Vec<LoginLine> = m
            .unapproved(&inv, now.saturating_sub(days(UNAPPROVED_DAYS)), now)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|s| login_line(src, &inv, s))
            .collect();
        unapproved.reverse();

        let inventory = maintained_rows(&inv, today);
        let vendors = inv
            .vendors()
            .iter()
            .map(|v| VendorOption {
                id: v.id.to_string(),
                name: v.name.clone(),
                systems: v
                    .maintains
                    .iter()
                    .map(|mt| PersonRef {
                        id: mt.system.to_string(),
                        name: system_name(&inv, &mt.system),
                    })
                    .collect(),
                staff: inv
                    .people()
                    .iter()
                    .filter(|p| p.vendor.as_ref() == Some(&v.id) && !p.has_left(now, offset))
                    .map(|p| PersonRef {
                        id: p.id.to_string(),
                        name: p.name.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(MaintenanceView {
            site_name: src.site.name.clone(),
            generated_at: now.to_rfc3339(),
            offset: offset.seconds(),
            awaiting,
            reports,
            calendar,
            unapproved,
            findings_by_vendor,
            findings_by_system,
            findings,
            inventory,
            vendors,
            can_decide: false,
            csrf: String::new(),
        })
    }

    async fn maintenance_report(
        &self,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<MaintenanceReport, SourceError> {
        let src = self;
        let now = src.now();
        let inv = src.inventory();
        let m = &src.maintenance;
        let offset = src.site.offset;
        let (first, last) = super::site_days(from, to, offset.day_of(now), REPORT_DAYS)?;
        let (start, end) = (offset.start_of(first), offset.end_of(last));
        let mut views = m.list(&inv, start, end, now).await.map_err(unavailable)?;
        views.reverse();
        let mut requests = Vec::with_capacity(views.len());
        for v in &views {
            let mut row = request_row(src, &inv, v, now);
            for id in &v.logins {
                if let Some(s) = src.store.login(id).await.map_err(unavailable)? {
                    row.login_lines.push(login_line(src, &inv, &s));
                }
            }
            requests.push(row);
        }
        let unapproved = m
            .unapproved(&inv, start, end)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|s| login_line(src, &inv, s))
            .collect();
        let (findings_by_vendor, findings_by_system) = finding_counts(&inv, &views);
        Ok(MaintenanceReport {
            site_name: src.site.name.clone(),
            generated_at: now.to_rfc3339(),
            offset: offset.seconds(),
            from: first.to_string(),
            to: last.to_string(),
            requests,
            unapproved,
            findings_by_vendor,
            findings_by_system,
        })
    }
}

/// The maintenance inventory (checklist 2②): every system a vendor maintains, with what
/// must be confirmed as of `today`.
pub(super) fn maintained_rows(inv: &Inventory, today: SiteDay) -> Vec<MaintainedRow> {
    inv.vendors()
        .iter()
        .flat_map(|v| {
            v.maintains.iter().map(move |mt| MaintainedRow {
                vendor: v.id.to_string(),
                vendor_name: v.name.clone(),
                system: mt.system.to_string(),
                system_name: system_name(inv, &mt.system),
                remote: mt.remote,
                route: mt.route.clone(),
                confirmed: mt.confirmed.map(|d| d.to_string()),
                due: mt.confirmation_due(today).map(|d| d.as_str().to_string()),
            })
        })
        .collect()
}
