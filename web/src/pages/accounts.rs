//! The account review page (アカウントの棚卸し, `/accounts`; docs/ACCOUNTS.md): for one
//! system (`?system=`, default the first), its accounts with their person, status, last
//! login, 90-day count and findings (退職者, 休眠, 未登録), filterable by finding
//! (`?finding=`), with a CSV download (`/accounts/export.csv?system=`); the last completed
//! review (date, by whom) and 要棚卸し when one is due; the review form — a decision per
//! account, confirmed with one passkey ceremony; what the last review still asks
//! (台帳に未反映 with a link to `/inventory`, 削除指示後のログイン); and the past reviews.
//!
//! The page is rendered on the server only, as an HTML fragment (`render`), like the
//! maintenance page: nothing of it is in the wasm bundle. The review button is
//! `data-passkey="review"` (with `data-system`, `data-csrf`), run by `/pkg/passkey.js`
//! against `POST /api/v1/accounts/reviews/start` and `/finish`; each account's row of
//! the form is `[data-review-mark]` with `data-account` and the fields `decision`,
//! `person`, `note`. Accounts without findings are prefilled with `keep`; an account with
//! a finding must be decided explicitly.
//!
//! Labels are the core's (`monban_core::accounts`, `monban_core::account_review`).
//!
//! Test ids: `acc-systems` (links `acc-system`, `data-system`, `aria-current`),
//! `acc-review-state` (`data-overdue`, `data-last-review`), `acc-filter` (links with
//! `data-finding`), `acc-csv`, `acc-list` holding `acc-row` (`data-account`,
//! `data-findings`), `acc-follow-up` holding `acc-follow-up-row` (`data-account`,
//! `data-follow-up`), `acc-review-form` holding `acc-mark` (`data-account`) and
//! `acc-review-confirm`, `acc-reviews` holding `acc-review` (`data-review-id`),
//! `acc-status`.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod render;

/// A system of the selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemOption {
    pub id: String,
    pub name: String,
    /// Due for review (要棚卸し).
    pub overdue: bool,
}

/// One account of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountLine {
    pub account: String,
    pub person: Option<String>,
    pub person_name: String,
    /// `active`, `left`, `vendor`; none when unmapped.
    pub person_status: Option<String>,
    /// RFC 3339.
    pub last_login: Option<String>,
    pub logins_90d: u64,
    /// `leaver`, `dormant`, `unmapped`, in that order.
    pub findings: Vec<String>,
}

/// A person of the inventory, for a `map` decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonOption {
    pub id: String,
    pub name: String,
}

/// One mark of a completed review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkLine {
    pub account: String,
    /// `keep`, `remove`, `map`.
    pub decision: String,
    pub person: Option<String>,
    pub note: String,
}

/// A completed review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewLine {
    pub id: i64,
    /// RFC 3339.
    pub completed_at: String,
    pub by: String,
    pub marks: Vec<MarkLine>,
}

/// What the last review still asks for one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpLine {
    pub account: String,
    /// `not_in_inventory`, `login_after_removal`.
    pub follow_up: String,
}

/// Everything `/accounts` shows for one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountsView {
    pub site_name: String,
    pub generated_at: String,
    /// The site's UTC offset in seconds: times are shown in it.
    pub offset: i32,
    pub systems: Vec<SystemOption>,
    /// The system shown (empty when the inventory has none).
    pub system: String,
    pub accounts: Vec<AccountLine>,
    pub people: Vec<PersonOption>,
    /// `[accounts] review_every`, as written by `humantime`.
    pub review_every: String,
    pub overdue: bool,
    /// RFC 3339.
    pub due_at: Option<String>,
    /// Newest first.
    pub reviews: Vec<ReviewLine>,
    pub follow_up: Vec<FollowUpLine>,
    /// The viewer may confirm a review (filled by the page's server function).
    #[serde(default)]
    pub can_review: bool,
    /// The session's CSRF token for the review.
    #[serde(default)]
    pub csrf: String,
}

/// The page's body as HTML for the signed-in user (see `crate::pages::fragment`):
/// `?system=` (default the first system), `?finding=` (the filter); the review form for
/// those who may decide maintenance (officer, admin).
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
        .filter(|r| r.can(Permission::ReadInventory))
        .ok_or(DashError::Forbidden)?;
    let system = query.get("system").cloned();
    let finding = query.get("finding").cloned();
    match source()?.accounts_page(system.clone()).await {
        Ok(mut view) => {
            let reviewer =
                crate::auth::current_viewer().filter(|v| v.can(Permission::DecideMaintenance));
            view.can_review = reviewer.is_some();
            view.csrf = reviewer.map(|v| v.csrf).unwrap_or_default();
            Ok(render::page(view, finding, l).to_html())
        }
        Err(SourceError::Invalid(m)) => {
            Ok(render::unknown_system(system.unwrap_or_default(), m, l).to_html())
        }
        Err(e) => Err(unavailable("accounts")(e)),
    }
}

/// What this page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AccountsSource: Send + Sync + 'static {
    /// The page's data for `system` (none: the first system). An unknown system is
    /// [`crate::api::SourceError::Invalid`].
    async fn accounts_page(
        &self,
        _system: Option<String>,
    ) -> Result<AccountsView, crate::api::SourceError> {
        Err("the accounts page is not available".into())
    }
}
