//! The inspection report (立入検査用報告書, `/inspection?from=YYYY-MM-DD&to=YYYY-MM-DD`):
//! what the hospital shows at a 立入検査 for a period, page and printable document in one.
//!
//! 1. the checklist items (医療機関におけるサイバーセキュリティ対策チェックリスト) and
//!    guideline sections, each with its source, answered either **by evidence** (計測:
//!    二要素認証, アクセスログ, 2② リモートメンテナンス, 不要なアカウント) or **by a manual
//!    answer** an officer recorded (手入力: はい／いいえ／該当なし, 回答日, 目標時期, 備考,
//!    回答者) — never the one shown as the other; an item without an answer says 未回答;
//! 2. per system: the compliance status (direct / combined / gap / no data) with its
//!    numbers, the planned route to 二要素認証 and its month against what was measured;
//! 3. the access log recorded per system;
//! 4. maintenance (保守, CONTRACT §10): findings per vendor and per system, unapproved
//!    logins, and the 2② inventory;
//! 5. accounts (CONTRACT §12): leavers', dormant and unmapped accounts per system;
//! 6. door health and integrity alarms in the period;
//! 7. the evidence chain's head (CONTRACT §13) the report was made from, and how to check
//!    it with `monban verify --head`.
//!
//! The mapping of items to evidence is data (`server/data/checklist.toml`); the answers
//! are computed by the core's rules (`monban_core::inspection`). The page is rendered on
//! the server only ([`crate::pages::fragment`]); officers who may answer see a form per
//! manual item that posts to `POST /inspection/answers` (`_csrf`).
//!
//! Test ids: `insp-report` (`data-from`, `data-to`, `data-head-seq`), `insp-item`
//! (`data-item`, `data-kind` = `measured`|`manual`, `data-value`), `insp-system`
//! (`data-system`, `data-status`, `data-check`), `insp-accounts` rows
//! `insp-accounts-row` (`data-system`), `insp-door` (`data-door`), `insp-head`,
//! `insp-answer-form` (`data-item`), `insp-period-error`.

#[cfg(feature = "ssr")]
pub use data::*;

#[cfg(feature = "ssr")]
mod data {
    use crate::pages::maintenance::{FindingCount, MaintainedRow};
    use monban_core::inspection::{ManualValue, Measured};
    use monban_core::{ComplianceStatus, Plan, PlanCheck};

    /// Everything the report shows.
    #[derive(Debug, Clone, PartialEq)]
    pub struct InspectionReport {
        pub site_name: String,
        /// RFC 3339.
        pub generated_at: String,
        /// The site's UTC offset in seconds.
        pub offset: i32,
        /// Site days, `to` inclusive.
        pub from: String,
        pub to: String,
        pub head: Option<HeadRow>,
        pub sources: Vec<SourceRow>,
        pub items: Vec<ItemRow>,
        pub systems: Vec<SystemRow>,
        pub maintenance: MaintenanceSummary,
        pub accounts: Vec<AccountsRow>,
        pub doors: Vec<DoorRow>,
        /// The signed-in user may record manual answers (filled by the page function).
        pub can_answer: bool,
        pub csrf: String,
    }

    /// The evidence chain's head when the report was made.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HeadRow {
        pub seq: i64,
        pub hash: String,
        /// RFC 3339.
        pub at: String,
    }

    /// A document items come from.
    #[derive(Debug, Clone, PartialEq)]
    pub struct SourceRow {
        pub id: String,
        pub citation: String,
        pub part: String,
    }

    /// One checklist item with its answer.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ItemRow {
        pub id: String,
        pub source: String,
        /// Empty where the item's number was not confirmed.
        pub number: String,
        pub wording: String,
        /// The wording is the source's own (otherwise a paraphrase, marked).
        pub quoted: bool,
        pub guideline: Vec<String>,
        pub answer: ItemAnswer,
    }

    /// How an item is answered.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ItemAnswer {
        /// Computed from the evidence: the value, a target month where a plan gives one,
        /// the report section that shows it (`#insp-…`), and a summary in both languages.
        Measured {
            value: Measured,
            target: Option<String>,
            section: &'static str,
            summary_ja: String,
            summary_en: String,
        },
        /// An officer's answer, or `None`: not answered yet (未回答).
        Manual(Option<ManualRow>),
    }

    /// A recorded manual answer.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ManualRow {
        pub value: ManualValue,
        /// `YYYY-MM-DD`.
        pub date: String,
        pub target: Option<String>,
        pub note: String,
        pub by: String,
        /// RFC 3339.
        pub at: String,
    }

    /// One system's 二要素認証 in the period, against its plan.
    #[derive(Debug, Clone, PartialEq)]
    pub struct SystemRow {
        pub id: String,
        pub name: String,
        pub status: ComplianceStatus,
        pub successful: u64,
        pub direct_2fa: u64,
        pub combined_measures: u64,
        pub not_met: u64,
        pub failed: u64,
        pub coverage: f64,
        pub native_mfa: bool,
        pub plan: Option<Plan>,
        /// `YYYY-MM`.
        pub by: Option<String>,
        pub check: PlanCheck,
        /// Logins of the period, every outcome (the access log recorded).
        pub logins: u64,
    }

    /// Maintenance in the period (CONTRACT §10).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct MaintenanceSummary {
        pub requests: usize,
        pub approved: usize,
        pub emergency: usize,
        pub reported: usize,
        pub unapproved_logins: usize,
        pub findings_by_vendor: Vec<FindingCount>,
        pub findings_by_system: Vec<FindingCount>,
        pub inventory: Vec<MaintainedRow>,
    }

    /// One system's accounts (CONTRACT §12), now.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AccountsRow {
        pub system: String,
        pub name: String,
        pub accounts: usize,
        pub leaver: usize,
        pub dormant: usize,
        pub unmapped: usize,
        /// The last completed account review (棚卸し): `YYYY-MM-DD` and who, if any.
        pub last_review: Option<(String, String)>,
        /// No review, or the last one is older than the site's review period.
        pub review_overdue: bool,
    }

    /// One door's health and alarms in the period.
    #[derive(Debug, Clone, PartialEq)]
    pub struct DoorRow {
        pub door: String,
        pub name: String,
        pub room: String,
        /// Times the door went offline.
        pub offline: u64,
        /// Periods in which its events may have been lost.
        pub outages: u64,
        /// door_forced, door_held_open, tamper.
        pub alarms: u64,
        /// Offline now.
        pub offline_now: bool,
    }
}

/// What the report needs from the hub (implemented by the server).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait InspectionSource: Send + Sync + 'static {
    /// The report for the site days `from..=to` (`YYYY-MM-DD`; default: the last 30 site
    /// days, as the maintenance report). Dates that do not parse are
    /// [`crate::api::SourceError::Invalid`].
    async fn inspection(
        &self,
        _from: Option<String>,
        _to: Option<String>,
    ) -> Result<InspectionReport, crate::api::SourceError> {
        Err("the inspection report is not available".into())
    }
}

#[cfg(feature = "ssr")]
mod render;

/// The report's body (server only): the role must read compliance; officers and admins
/// get the manual-answer forms.
#[cfg(feature = "ssr")]
pub(crate) async fn fragment(
    query: &crate::pages::fragment::Query,
    l: crate::i18n::Lang,
) -> Result<String, crate::api::DashError> {
    use crate::api::{DashError, SourceError};
    use crate::auth::Permission;
    use crate::pages::account::{source, unavailable};
    use leptos::prelude::RenderHtml;
    crate::auth::current_role()
        .filter(|r| r.can(Permission::ReadCompliance))
        .ok_or(DashError::Forbidden)?;
    let from = query.get("from").cloned();
    let to = query.get("to").cloned();
    let notice = query.get("saved").cloned();
    let failed = query.get("error").cloned();
    match source()?.inspection(from.clone(), to.clone()).await {
        Ok(mut report) => {
            let answerer =
                crate::auth::current_viewer().filter(|v| v.can(Permission::AnswerChecklist));
            report.can_answer = answerer.is_some();
            report.csrf = answerer.map(|v| v.csrf).unwrap_or_default();
            Ok(render::report(report, notice, failed, l).to_html())
        }
        Err(SourceError::Invalid(m)) => {
            Ok(
                render::period_error(from.unwrap_or_default(), to.unwrap_or_default(), m, l)
                    .to_html(),
            )
        }
        Err(e) => Err(unavailable("inspection report")(e)),
    }
}
