//! Vendor maintenance (保守, `/maintenance`, CONTRACT §10): what an officer decides and
//! checks about vendors' work, in the order they act on it —
//!
//! 1. requests awaiting a decision (承認待ち) with 承認 / 却下, and submitted work reports
//!    awaiting confirmation (確認);
//! 2. the calendar of approved windows (承認済みの作業予定), by site day, with 取消 while
//!    a window has not ended;
//! 3. maintenance logins no request covers (未承認の保守ログイン), the last 30 days;
//! 4. findings (指摘事項) per vendor and per system, and the requests behind them;
//! 5. the maintenance inventory (保守の棚卸し, checklist 2②) with what must be confirmed;
//!
//! and a form to register a paper request (紙の申請を登録). The printable report for a
//! period (保守作業報告書) is `/maintenance/report?from=YYYY-MM-DD&to=YYYY-MM-DD`.
//!
//! Every decision is confirmed with a fresh passkey assertion: the buttons are
//! `data-passkey="decide"` (with `data-request`, `data-decision`, `data-csrf`), run by
//! `/pkg/passkey.js` against `/api/v1/maintenance/{id}/decision/start` and `/finish`; the
//! paper form (`data-maint-form`) posts JSON to `POST /api/v1/maintenance`. Both show the
//! API's message in the page's `[data-passkey-status]` and then fire `monban:refresh` on
//! `window`, which bumps the live tick: the page's data is fetched again.
//!
//! The pages are rendered on the server only ([`crate::pages::fragment`]): `fragment`
//! and `report_fragment` answer the body as HTML (built by `render.rs`, `ssr`), which the
//! page shows with `inner_html`. Nothing on these pages is reactive besides the data
//! itself, so the browser build carries no view code for them (docs/ARCHITECTURE.md,
//! "Decisions": it keeps the bundle within its budget).
//!
//! Labels of statuses, decisions, findings and flags are the core's (`label_ja`,
//! `label_en` in `monban_core::maintenance`). Times are shown in site time
//! (`[site] timezone`).
//!
//! Test ids: `maint-awaiting` (section) holding `maint-request` (`data-request-id`,
//! `data-status`, `data-self-filed`); buttons `maint-decide` (`data-decision`);
//! `maint-reports` holding `maint-request`s to confirm; `maint-calendar` holding
//! `maint-day` (`data-day`) holding `maint-window` (`data-request-id`); `maint-unapproved`
//! holding `maint-unapproved-row` (`data-event-id`); `maint-findings` holding
//! `maint-finding-vendor` / `maint-finding-system` (`data-id`, cells `data-finding`)
//! and `maint-finding-request` (`data-request-id`, `data-findings`); `maint-inventory`
//! holding `maint-inventory-row` (`data-vendor`, `data-system`, `data-due`);
//! `maint-file-form`; `maint-status`; on the report page `maint-report` with
//! `data-from`, `data-to`, `maint-report-request` (`data-request-id`) and
//! `maint-report-login` (`data-event-id`).

#[cfg(feature = "ssr")]
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::api::DashError;
use crate::i18n::Lang;
use crate::pages::evidence::{local_time, offset_label};
use monban_core::maintenance::{CoverageStatus, Decision, Finding, Flag, RequestStatus};
use monban_core::SiteOffset;

#[cfg(feature = "ssr")]
pub(crate) mod render;

/// One person a request names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

/// One decision as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// `approve`, `deny`, `cancel`, `confirm`.
    pub decision: String,
    pub by: String,
    pub at: String,
    pub note: String,
}

/// A vendor's door entry that counted toward a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRow {
    pub person: String,
    pub person_name: String,
    pub door: String,
    pub room: String,
    pub at: String,
}

/// A maintenance login as the report lists it: who, when, from where, with what result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginLine {
    pub event_id: String,
    pub ts: String,
    pub system: String,
    pub system_name: String,
    pub account: String,
    pub person: String,
    pub person_name: String,
    pub vendor: String,
    pub vendor_name: String,
    pub terminal: String,
    pub room: String,
    pub verdict: String,
    /// The core's `Flag` codes (`maintenance_unapproved`, …).
    pub flags: Vec<String>,
    /// The login's `maintenance.status` (`approved`, `emergency_pending`, `unapproved`).
    pub coverage: String,
}

/// A submitted work report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub at: String,
    pub summary: String,
    pub recording_uri: Option<String>,
    pub recording_sha256: Option<String>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
}

/// A request with its reconciliation (what `GET /api/v1/maintenance/{id}` answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: String,
    pub vendor: String,
    pub vendor_name: String,
    pub system: String,
    pub system_name: String,
    pub people: Vec<PersonRef>,
    pub work_plan: String,
    pub purpose: String,
    /// RFC 3339.
    pub start: String,
    pub end: String,
    /// The site day (`YYYY-MM-DD`) the window starts on.
    pub day: String,
    pub remote: bool,
    pub emergency: bool,
    /// `requested`, `approved`, `denied`, `cancelled`.
    pub status: String,
    /// `vendor:acme-med` or `user:kanri`.
    pub requested_by: String,
    pub requested_at: String,
    pub decisions: Vec<DecisionRow>,
    /// The `event_id`s of the maintenance logins it covers.
    pub logins: Vec<String>,
    /// Those logins in full (the report only).
    #[serde(default)]
    pub login_lines: Vec<LoginLine>,
    pub entries: Vec<EntryRow>,
    pub supervised: Option<bool>,
    pub report: Option<ReportRow>,
    /// The core's `Finding` codes, in the contract's order.
    pub findings: Vec<String>,
    /// Approved and the window has not ended: it may still be cancelled.
    pub cancellable: bool,
    /// Filed by the signed-in user, who may not decide it (filled by the server function).
    #[serde(default)]
    pub self_filed: bool,
}

/// Findings counted for one vendor or one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingCount {
    pub id: String,
    pub name: String,
    /// Counts in the order of `Finding::ALL`.
    pub counts: Vec<u32>,
}

/// One system a vendor maintains (`[[vendors.maintains]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintainedRow {
    pub vendor: String,
    pub vendor_name: String,
    pub system: String,
    pub system_name: String,
    pub remote: bool,
    pub route: Option<String>,
    /// `YYYY-MM-DD`.
    pub confirmed: Option<String>,
    /// `confirmation_missing` or `confirmation_stale` when the vendor must confirm again.
    pub due: Option<String>,
}

/// A vendor, for the paper request form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorOption {
    pub id: String,
    pub name: String,
    pub systems: Vec<PersonRef>,
    pub staff: Vec<PersonRef>,
}

/// Everything `/maintenance` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceView {
    pub site_name: String,
    pub generated_at: String,
    /// The site's UTC offset in seconds (`[site] timezone`): times are shown in it.
    pub offset: i32,
    /// Requests awaiting a decision, oldest filing first.
    pub awaiting: Vec<RequestRow>,
    /// Submitted reports not yet confirmed.
    pub reports: Vec<RequestRow>,
    /// Approved windows from [`CALENDAR_PAST_DAYS`] ago on, earliest first.
    pub calendar: Vec<RequestRow>,
    /// Maintenance logins no request covers, the last [`UNAPPROVED_DAYS`] days, newest first.
    pub unapproved: Vec<LoginLine>,
    pub findings_by_vendor: Vec<FindingCount>,
    pub findings_by_system: Vec<FindingCount>,
    /// The requests with findings, newest first.
    pub findings: Vec<RequestRow>,
    pub inventory: Vec<MaintainedRow>,
    pub vendors: Vec<VendorOption>,
    /// The signed-in user may decide and file (filled by the server function).
    #[serde(default)]
    pub can_decide: bool,
    /// The session's CSRF token for the decisions and the paper form.
    #[serde(default)]
    pub csrf: String,
}

/// A period's maintenance report (保守作業報告書).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceReport {
    pub site_name: String,
    pub generated_at: String,
    pub offset: i32,
    /// Site days, `to` inclusive.
    pub from: String,
    pub to: String,
    /// Every request whose window overlaps the period, earliest first, with its logins.
    pub requests: Vec<RequestRow>,
    /// Maintenance logins in the period that no request covers.
    pub unapproved: Vec<LoginLine>,
    pub findings_by_vendor: Vec<FindingCount>,
    pub findings_by_system: Vec<FindingCount>,
}

/// How far back the calendar shows approved windows.
pub const CALENDAR_PAST_DAYS: i64 = 14;
/// How far back unapproved logins are listed.
pub const UNAPPROVED_DAYS: i64 = 30;
/// How far back findings are counted.
pub const FINDINGS_DAYS: i64 = 90;

/// What these pages need from the hub (implemented by the server over its maintenance
/// service and inventory).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait MaintenanceSource: Send + Sync + 'static {
    /// The page's data; `can_decide`, `csrf` and `self_filed` are the server function's.
    async fn maintenance(&self) -> Result<MaintenanceView, crate::api::SourceError> {
        Err("the maintenance page is not available".into())
    }
    /// The report for the site days `from..=to` (`YYYY-MM-DD`; default the last 30
    /// days). Dates that do not parse are [`crate::api::SourceError::Invalid`].
    async fn maintenance_report(
        &self,
        _from: Option<String>,
        _to: Option<String>,
    ) -> Result<MaintenanceReport, crate::api::SourceError> {
        Err("the maintenance report is not available".into())
    }
}

/// The role may read maintenance (a session or a read token).
#[cfg(feature = "ssr")]
fn may_read() -> Result<(), DashError> {
    crate::auth::current_role()
        .filter(|r| r.can(crate::auth::Permission::ReadMaintenance))
        .map(|_| ())
        .ok_or(DashError::Forbidden)
}

/// The maintenance page's body as HTML (server only; [`crate::pages::fragment`]),
/// for the signed-in user: decisions and the paper form for those who may decide.
#[cfg(feature = "ssr")]
pub(crate) async fn fragment(l: Lang) -> Result<String, DashError> {
    use crate::pages::account::{source, unavailable};
    may_read()?;
    let viewer = crate::auth::current_viewer();
    let mut view = source()?
        .maintenance()
        .await
        .map_err(unavailable("maintenance"))?;
    let decider = viewer
        .as_ref()
        .filter(|v| v.can(crate::auth::Permission::DecideMaintenance));
    view.can_decide = decider.is_some();
    view.csrf = decider.map(|v| v.csrf.clone()).unwrap_or_default();
    if let Some(me) = viewer.map(|v| format!("user:{}", v.name)) {
        for r in view
            .awaiting
            .iter_mut()
            .chain(view.reports.iter_mut())
            .chain(view.calendar.iter_mut())
        {
            r.self_filed = r.requested_by == me;
        }
    }
    Ok(render::page(view, l).to_html())
}

/// The report's body as HTML (server only); a period that does not parse is shown next
/// to the period form.
#[cfg(feature = "ssr")]
pub(crate) async fn report_fragment(
    query: &crate::pages::fragment::Query,
    l: Lang,
) -> Result<String, DashError> {
    use crate::pages::account::{source, unavailable};
    may_read()?;
    let (from, to) = (query.get("from").cloned(), query.get("to").cloned());
    match source()?.maintenance_report(from.clone(), to.clone()).await {
        Ok(r) => Ok(render::report(r, l).to_html()),
        Err(crate::api::SourceError::Invalid(m)) => {
            Ok(
                render::period_error(from.unwrap_or_default(), to.unwrap_or_default(), m, l)
                    .to_html(),
            )
        }
        Err(e) => Err(unavailable("maintenance report")(e)),
    }
}

// ---- labels ------------------------------------------------------------------------------

fn label<T: std::str::FromStr + Copy>(
    code: &str,
    l: Lang,
    ja: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> String {
    match code.parse::<T>() {
        Ok(v) => l.pick(ja(v), en(v)).to_string(),
        Err(_) => code.to_string(),
    }
}

/// A request status (`requested`, …) in the page language; an unknown code as itself.
pub fn status_label(code: &str, l: Lang) -> String {
    label(code, l, RequestStatus::label_ja, RequestStatus::label_en)
}

/// A decision (`approve`, …) in the page language.
pub fn decision_label(code: &str, l: Lang) -> String {
    label(code, l, Decision::label_ja, Decision::label_en)
}

/// A finding (`not_performed`, …) in the page language.
pub fn finding_label(code: &str, l: Lang) -> String {
    label(code, l, Finding::label_ja, Finding::label_en)
}

/// A login flag (`maintenance_unapproved`, …) in the page language.
pub fn flag_label(code: &str, l: Lang) -> String {
    label(code, l, Flag::label_ja, Flag::label_en)
}

/// A login's maintenance coverage (`approved`, …) in the page language.
pub fn coverage_label(code: &str, l: Lang) -> String {
    label(code, l, CoverageStatus::label_ja, CoverageStatus::label_en)
}

/// Why a maintained system must be confirmed again (`confirmation_missing`, …).
pub fn due_label(code: &str, l: Lang) -> String {
    use monban_core::ConfirmationDue;
    let due = match code {
        "confirmation_missing" => ConfirmationDue::Missing,
        "confirmation_stale" => ConfirmationDue::Stale {
            confirmed: monban_core::SiteDay::from_number(0),
        },
        other => return other.to_string(),
    };
    l.pick(due.label_ja(), due.label_en()).to_string()
}

fn site_offset(seconds: i32) -> SiteOffset {
    SiteOffset::from_seconds(seconds).unwrap_or(SiteOffset::JST)
}

/// `2026-12-10 20:00` in site time (seconds dropped).
fn minutes(t: &str, offset: SiteOffset) -> String {
    let full = local_time(t, offset);
    match full.rsplit_once(':') {
        Some((hm, _)) if full.len() == 19 => hm.to_string(),
        _ => full,
    }
}

/// A window in site time: `2026-12-10 20:00–23:00 JST`, or with both dates when it
/// crosses midnight.
pub fn window_text(start: &str, end: &str, offset_seconds: i32) -> String {
    let offset = site_offset(offset_seconds);
    let (s, e) = (minutes(start, offset), minutes(end, offset));
    let tz = offset_label(offset);
    match (s.split_once(' '), e.split_once(' ')) {
        (Some((sd, _)), Some((ed, et))) if sd == ed => format!("{s}–{et} {tz}"),
        _ => format!("{s} – {e} {tz}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_core() {
        assert_eq!(status_label("requested", Lang::Ja), "申請中");
        assert_eq!(status_label("approved", Lang::En), "Approved");
        assert_eq!(decision_label("approve", Lang::Ja), "承認");
        assert_eq!(decision_label("deny", Lang::Ja), "却下");
        assert_eq!(finding_label("unsupervised", Lang::Ja), "立会いなし");
        assert_eq!(finding_label("report_overdue", Lang::En), "Report overdue");
        assert_eq!(
            flag_label("maintenance_unapproved", Lang::Ja),
            "未承認の保守"
        );
        assert_eq!(
            coverage_label("emergency_pending", Lang::Ja),
            "緊急・承認待ち"
        );
        assert_eq!(
            due_label("confirmation_missing", Lang::Ja),
            "要確認（事業者確認なし）"
        );
        // A code the page does not know stays visible as itself.
        assert_eq!(finding_label("new_finding", Lang::Ja), "new_finding");
        assert_eq!(due_label("later", Lang::En), "later");
    }

    #[test]
    fn windows_in_site_time() {
        let jst = 9 * 3600;
        assert_eq!(
            window_text("2026-12-10T11:00:00Z", "2026-12-10T14:00:00Z", jst),
            "2026-12-10 20:00–23:00 JST"
        );
        assert_eq!(
            window_text("2026-12-10T14:00:00Z", "2026-12-10T16:30:00Z", jst),
            "2026-12-10 23:00 – 2026-12-11 01:30 JST"
        );
        assert_eq!(
            window_text("2026-12-10T11:00:00Z", "2026-12-10T12:00:00Z", 0),
            "2026-12-10 11:00–12:00 UTC+00:00"
        );
    }
}
