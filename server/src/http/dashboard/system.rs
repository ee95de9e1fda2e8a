//! The data of the dashboard's system page (`monban_web::pages::system`): one system's
//! compliance over a period (the same rows as `GET /api/v1/compliance`), its verdicts per
//! site day, its `not_met` logins by reason and the terminals its logins came from.

use super::{daily_counts, unavailable, Source};
use monban_core::period::{Period, SiteDay};
use monban_core::{LoginCounts, Reason};
use monban_web::api::SourceError;
use monban_web::pages::system::{
    ReasonGroup, ReasonLogin, SystemDetail, SystemLookup, TerminalUse, VerdictDay,
    LATEST_PER_REASON,
};
use std::collections::{BTreeMap, HashMap};

#[async_trait::async_trait]
impl monban_web::pages::system::SystemSource for Source {
    async fn system(
        &self,
        id: String,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<SystemLookup, SourceError> {
        let src = self;
        let inv = src.inventory();
        let Some(system) = inv.systems().iter().find(|s| s.id.as_str() == id) else {
            return Ok(SystemLookup::NotFound);
        };
        // The page's date inputs send `YYYY-MM-DD` (whole site days); RFC 3339 works too.
        let site = src.site.offset;
        let period = match Period::parse(from.as_deref(), to.as_deref(), src.now(), site) {
            Ok(p) => p,
            Err(e) => return Ok(SystemLookup::BadPeriod(e.to_string())),
        };
        let (from, to) = (period.from(), period.to());
        let rows = crate::reports::compliance(&src.store, &inv, period, site)
            .await
            .map_err(unavailable)?;
        let Some(c) = rows.into_iter().find(|c| c.id == id) else {
            return Ok(SystemLookup::NotFound);
        };

        // Verdicts per site day, every day of the period (empty days included).
        let per_day: BTreeMap<SiteDay, LoginCounts> = daily_counts(src, Some(&id), from, to)
            .await?
            .into_iter()
            .map(|((_, day), counts)| (day, counts))
            .collect();
        let (first, last) = period.days(site);
        // A very long period is shown by its days with logins only.
        let all_days: Vec<SiteDay> = if last.number() - first.number() <= 400 {
            first.through(last).collect()
        } else {
            per_day.keys().copied().collect()
        };
        let days = all_days
            .into_iter()
            .map(|d| {
                let t = per_day.get(&d).copied().unwrap_or_default();
                VerdictDay {
                    day: d.to_string(),
                    direct_2fa: t.direct_2fa,
                    combined_measures: t.combined_measures,
                    not_met: t.not_met,
                }
            })
            .collect();

        // Reasons and terminals from the rollups; the newest logins of each reason from
        // `login_reasons` (an index, never the whole period).
        let store = &src.store;
        let mut groups: HashMap<String, ReasonGroup> = HashMap::new();
        for (reason, count) in crate::reports::reason_counts(store, period, &id, site)
            .await
            .map_err(unavailable)?
        {
            let latest = store
                .latest_with_reason(&id, reason, from, to, LATEST_PER_REASON as i64)
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(|(event_id, ts, account, terminal)| ReasonLogin {
                    event_id,
                    ts: ts.to_rfc3339(),
                    account,
                    terminal,
                })
                .collect();
            let code = reason.as_str().to_string();
            groups.insert(
                code.clone(),
                ReasonGroup {
                    reason: code,
                    count,
                    latest,
                },
            );
        }
        let terminals: BTreeMap<String, TerminalUse> =
            crate::reports::terminal_counts(store, period, &id, site)
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(|(terminal, (logins, not_met))| {
                    (
                        terminal.clone(),
                        TerminalUse {
                            terminal,
                            logins,
                            not_met,
                            ..Default::default()
                        },
                    )
                })
                .collect();
        // In the contract's order (`Reason::ALL`); a code the hub does not know goes last.
        let rank = |code: &str| {
            Reason::ALL
                .iter()
                .position(|r| r.as_str() == code)
                .unwrap_or(Reason::ALL.len())
        };
        let mut reasons: Vec<ReasonGroup> = groups.into_values().collect();
        reasons.sort_by(|a, b| {
            rank(&a.reason)
                .cmp(&rank(&b.reason))
                .then(a.reason.cmp(&b.reason))
        });
        let mut terminals: Vec<TerminalUse> = terminals
            .into_values()
            .map(|mut t| {
                if let Some(room) = inv
                    .terminal_by_str(&t.terminal)
                    .and_then(|x| inv.room(&x.room))
                {
                    t.room = Some(room.name.clone());
                    t.controlled = Some(room.controlled);
                }
                t
            })
            .collect();
        terminals.sort_by(|a, b| b.not_met.cmp(&a.not_met).then(a.terminal.cmp(&b.terminal)));

        Ok(SystemLookup::Found(Box::new(SystemDetail {
            id: c.id,
            name: c.name,
            category: c.category,
            native_mfa: c.native_mfa,
            renewal: system.renewal.clone(),
            status: c.status.as_str().to_string(),
            coverage: c.coverage,
            successful: c.logins.successful,
            direct_2fa: c.logins.direct_2fa,
            combined_measures: c.logins.combined_measures,
            not_met: c.logins.not_met,
            failed: c.logins.failed,
            from: from.to_rfc3339(),
            to: to.to_rfc3339(),
            days,
            reasons,
            terminals,
        })))
    }
}
