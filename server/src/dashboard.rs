//! The dashboard's data port: implements `monban_web::DashboardSource` over the store,
//! so the web crate renders without knowing about sqlx.

use crate::hub::Hub;
use monban_core::Span;
use monban_web::{LoginRow, Overview, SystemRow};
use std::sync::Arc;

/// How many logins the overview lists.
const LATEST: i64 = 50;

pub struct HubSource(pub Arc<Hub>);

#[async_trait::async_trait]
impl monban_web::DashboardSource for HubSource {
    async fn overview(&self) -> Result<Overview, String> {
        let hub = &self.0;
        let now = hub.now();
        let from = now.saturating_sub(Span::from_secs(30 * 24 * 3600));
        let rows = crate::api::compliance_rows(hub, from, now)
            .await
            .map_err(|e| e.message)?;
        let inv = hub.inventory();
        let systems = rows
            .into_iter()
            .map(|c| SystemRow {
                id: c.id,
                name: c.name,
                category: c.category,
                native_mfa: c.native_mfa,
                status: c.status.as_str().to_string(),
                coverage: c.coverage,
                successful: c.logins.successful,
                direct_2fa: c.logins.direct_2fa,
                combined_measures: c.logins.combined_measures,
                not_met: c.logins.not_met,
                failed: c.logins.failed,
            })
            .collect();
        let latest = hub
            .store
            .latest_logins(LATEST)
            .await
            .map_err(|e| e.to_string())?;
        let latest_logins = latest
            .into_iter()
            .map(|s| {
                let l = &s.login;
                let person = inv
                    .person_by_account(&l.system, &l.account)
                    .and_then(|p| inv.person(p))
                    .map(|p| p.name.clone());
                let room = inv
                    .terminal_by_str(&l.terminal)
                    .and_then(|t| inv.room(&t.room))
                    .map(|r| r.name.clone());
                LoginRow {
                    event_id: l.event_id.clone(),
                    ts: l.ts.to_rfc3339(),
                    system: l.system.to_string(),
                    system_name: inv
                        .system(&l.system)
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|| l.system.to_string()),
                    account: l.account.clone(),
                    person,
                    terminal: l.terminal.clone(),
                    room,
                    factors: l.factors.iter().map(|f| f.as_str().to_string()).collect(),
                    outcome: l.outcome.as_str().to_string(),
                    verdict: s.verdict.kind.as_str().to_string(),
                    reasons: s
                        .verdict
                        .reasons
                        .iter()
                        .map(|r| r.as_str().to_string())
                        .collect(),
                    is_final: s.final_at_time(now),
                }
            })
            .collect();
        Ok(Overview {
            site_name: hub.site_name.clone(),
            generated_at: now.to_rfc3339(),
            from: from.to_rfc3339(),
            to: now.to_rfc3339(),
            systems,
            latest_logins,
        })
    }
}
