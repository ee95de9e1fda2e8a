//! The account review page's data (`/accounts`): the system's review rows
//! (`monban_core::accounts`), its completed reviews and what the last one still asks
//! (`super::super::account_reviews::review_state`), the inventory's people for `map`.

use super::{unavailable, Source};
use crate::http::account_reviews::review_state;
use crate::http::error::ApiError;
use crate::http::reads::account_rows;
use monban_web::api::SourceError;
use monban_web::pages::accounts::{
    AccountLine, AccountsView, FollowUpLine, MarkLine, PersonOption, ReviewLine, SystemOption,
};

fn source_error(e: ApiError) -> SourceError {
    match e {
        ApiError::Invalid { message, .. } | ApiError::BadQuery(message) => {
            SourceError::Invalid(message)
        }
        other => SourceError::Unavailable(other.to_string()),
    }
}

#[async_trait::async_trait]
impl monban_web::pages::accounts::AccountsSource for Source {
    async fn accounts_page(&self, system: Option<String>) -> Result<AccountsView, SourceError> {
        let now = self.now();
        let inv = self.inventory();
        let last = self
            .store
            .last_account_reviews()
            .await
            .map_err(unavailable)?;
        let systems: Vec<SystemOption> = inv
            .systems()
            .iter()
            .map(|s| SystemOption {
                id: s.id.to_string(),
                name: s.name.clone(),
                overdue: monban_core::account_review::overdue(
                    last.get(s.id.as_str()).map(|(at, _)| *at),
                    now,
                    self.account_settings.review_every,
                ),
            })
            .collect();
        let people: Vec<PersonOption> = inv
            .people()
            .iter()
            .map(|p| PersonOption {
                id: p.id.to_string(),
                name: p.name.clone(),
            })
            .collect();
        let mut view = AccountsView {
            site_name: self.site.name.clone(),
            generated_at: now.to_rfc3339(),
            offset: self.site.offset.seconds(),
            systems,
            system: String::new(),
            accounts: Vec::new(),
            people,
            review_every: self.account_settings.review_every.to_string(),
            overdue: false,
            due_at: None,
            reviews: Vec::new(),
            follow_up: Vec::new(),
            can_review: false,
            csrf: String::new(),
        };
        let Some(system) = system
            .filter(|s| !s.is_empty())
            .or_else(|| view.systems.first().map(|s| s.id.clone()))
        else {
            return Ok(view);
        };
        let (id, rows) = account_rows(
            &self.store,
            &inv,
            &self.account_settings,
            Some(&system),
            now,
        )
        .await
        .map_err(source_error)?;
        let state = review_state(&self.store, &self.account_settings, id.as_str(), &rows, now)
            .await
            .map_err(unavailable)?;
        view.system = id.to_string();
        view.accounts = rows
            .iter()
            .map(|r| AccountLine {
                account: r.account.clone(),
                person: r.person.as_ref().map(|p| p.to_string()),
                person_name: r
                    .person
                    .as_ref()
                    .and_then(|p| inv.person(p))
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                person_status: r.person_status.map(|s| s.as_str().to_string()),
                last_login: r.last_login.map(|t| t.to_rfc3339()),
                logins_90d: r.logins_90d,
                findings: r.findings.iter().map(|f| f.as_str().to_string()).collect(),
            })
            .collect();
        view.overdue = state.overdue;
        view.due_at = state.due_at.map(|t| t.to_rfc3339());
        view.follow_up = state
            .follow_up
            .iter()
            .map(|(account, f)| FollowUpLine {
                account: account.clone(),
                follow_up: f.as_str().to_string(),
            })
            .collect();
        view.reviews = state
            .reviews
            .iter()
            .map(|r| ReviewLine {
                id: r.id,
                completed_at: r.completed_at.to_rfc3339(),
                by: r.by.clone(),
                marks: r
                    .marks
                    .iter()
                    .map(|m| MarkLine {
                        account: m.account.clone(),
                        decision: m.decision.as_str().to_string(),
                        person: m.person.as_ref().map(|p| p.to_string()),
                        note: m.note.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(view)
    }
}
