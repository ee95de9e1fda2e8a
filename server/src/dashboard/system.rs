//! The data of the dashboard's system page (`monban_web::pages::system`): one system's
//! compliance over a period (the same rows as `GET /api/v1/compliance`), its verdicts per
//! JST day, its `not_met` logins by reason and the terminals its logins came from.

use super::{add_to_day, daily_counts, day_label, jst_day, jst_day_start, HubSource};
use monban_core::{Span, Timestamp};
use monban_web::model::TrendDay;
use monban_web::pages::system::{
    ReasonGroup, ReasonLogin, SystemDetail, SystemLookup, TerminalUse, VerdictDay,
    LATEST_PER_REASON,
};
use std::collections::{BTreeMap, HashMap};

/// The contract's reason codes, in the contract's order (CONTRACT §3).
const REASONS: [&str; 7] = [
    "unknown_terminal",
    "uncontrolled_room",
    "unmapped_account",
    "door_offline",
    "room_alarm",
    "no_presence",
    "same_category",
];

/// A day written `YYYY-MM-DD` (the page's date inputs) as its JST day number.
fn date_day(v: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some((d - epoch).num_days())
}

/// Parses `from`/`to` the way the API does (RFC 3339; an unencoded `+` may arrive as a
/// space). The page's date inputs send `YYYY-MM-DD`: `from` is then the day's first
/// instant in Asia/Tokyo and `to` its last millisecond.
fn period(
    from: Option<String>,
    to: Option<String>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), String> {
    let parse = |name: &str, v: Option<String>| -> Result<Option<Timestamp>, String> {
        v.filter(|v| !v.trim().is_empty())
            .map(|v| {
                let v = v.trim();
                if let Some(day) = date_day(v) {
                    let ms = if name == "to" {
                        jst_day_start(day + 1) - 1
                    } else {
                        jst_day_start(day)
                    };
                    return Ok(Timestamp::from_millis(ms));
                }
                Timestamp::parse_rfc3339(v)
                    .or_else(|e| Timestamp::parse_rfc3339(&v.replace(' ', "+")).map_err(|_| e))
                    .map_err(|m| format!("{name}: {m}"))
            })
            .transpose()
    };
    let to = parse("to", to)?.unwrap_or(now);
    let from =
        parse("from", from)?.unwrap_or_else(|| to.saturating_sub(Span::from_secs(30 * 24 * 3600)));
    if from > to {
        return Err("from must not be after to".to_string());
    }
    Ok((from, to))
}

#[async_trait::async_trait]
impl monban_web::pages::system::SystemSource for HubSource {
    async fn system(
        &self,
        id: String,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<SystemLookup, String> {
        let hub = &self.0;
        let inv = hub.inventory();
        let Some(system) = inv.systems().iter().find(|s| s.id.as_str() == id) else {
            return Ok(SystemLookup::NotFound);
        };
        let (from, to) = match period(from, to, hub.now()) {
            Ok(p) => p,
            Err(m) => return Ok(SystemLookup::BadPeriod(m)),
        };
        let rows = crate::api::compliance_rows(hub, from, to)
            .await
            .map_err(|e| e.message)?;
        let Some(c) = rows.into_iter().find(|c| c.id == id) else {
            return Ok(SystemLookup::NotFound);
        };

        // Verdicts per JST day, every day of the period (empty days included).
        let mut per_day: BTreeMap<i64, TrendDay> = BTreeMap::new();
        for (_, day, kind, n) in daily_counts(hub, Some(&id), from, to).await? {
            add_to_day(per_day.entry(day).or_default(), kind, n);
        }
        let (first, last) = (jst_day(from.as_millis()), jst_day(to.as_millis()));
        // A very long period is shown by its days with logins only.
        let all_days: Vec<i64> = if last - first <= 400 {
            (first..=last).collect()
        } else {
            per_day.keys().copied().collect()
        };
        let days = all_days
            .into_iter()
            .map(|d| {
                let t = per_day.get(&d).cloned().unwrap_or_default();
                VerdictDay {
                    day: day_label(d),
                    direct_2fa: t.direct_2fa,
                    combined_measures: t.combined_measures,
                    not_met: t.not_met,
                }
            })
            .collect();

        // Reasons and terminals from the rollups; the newest logins of each reason from
        // `login_reasons` (an index, never the whole period).
        let offset = crate::hub::SITE_OFFSET_S;
        let store = &hub.store;
        let mut groups: HashMap<String, ReasonGroup> = HashMap::new();
        for (reason, count) in crate::reports::reason_counts(store, from, to, &id, offset)
            .await
            .map_err(|e| e.to_string())?
        {
            let latest = store
                .latest_with_reason(&id, reason, from, to, LATEST_PER_REASON as i64)
                .await
                .map_err(|e| e.to_string())?
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
            crate::reports::terminal_counts(store, from, to, &id, offset)
                .await
                .map_err(|e| e.to_string())?
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
        let rank = |code: &str| {
            REASONS
                .iter()
                .position(|r| *r == code)
                .unwrap_or(REASONS.len())
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
