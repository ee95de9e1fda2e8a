//! The dashboard's data port: implements `monban_web::DashboardSource` (one trait per
//! page) over the store, so the web crate renders without knowing about sqlx. This
//! module holds the overview; each other page has its own module.

mod dead_letters;
mod evidence;
mod export;
mod inventory;
mod rooms;
mod system;

use crate::hub::Hub;
use crate::store::get;
use monban_core::{Span, Timestamp, VerdictKind};
use monban_web::model::{Readiness, RenewalRow, SystemTrend, TrendDay};
use monban_web::{DoorRow, LoginRow, Overview, SystemRow};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Asia/Tokyo is UTC+9 all year.
const JST_MS: i64 = 9 * 3600 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Days in the overview's trend.
const TREND_DAYS: i64 = 30;
/// The fiscal years of the renewal wave (更改), FY2027 = 令和9年度.
const WAVE: std::ops::RangeInclusive<i32> = 2025..=2027;

/// The Asia/Tokyo day number (days since 1970-01-01 JST) of a time in ms UTC.
pub(crate) fn jst_day(ms: i64) -> i64 {
    (ms + JST_MS).div_euclid(DAY_MS)
}

/// The first instant (ms UTC) of a JST day number.
pub(crate) fn jst_day_start(day: i64) -> i64 {
    day * DAY_MS - JST_MS
}

/// `YYYY-MM-DD` of a JST day number.
pub(crate) fn day_label(day: i64) -> String {
    chrono::DateTime::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The Japanese fiscal year (April–March) of a `YYYY-MM` month.
pub(crate) fn fiscal_year(month: &str) -> Option<i32> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    Some(if m >= 4 { y } else { y - 1 })
}

/// Login counts per (system, JST day, verdict) with `from <= ts <= to`; `system` limits
/// them to one system. Whole days come from the rollups (see [`crate::reports`]).
pub(crate) async fn daily_counts(
    hub: &Hub,
    system: Option<&str>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(String, i64, VerdictKind, u64)>, String> {
    let days = crate::reports::day_counts(&hub.store, from, to, system, crate::hub::SITE_OFFSET_S)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for ((system, day), c) in days {
        for (kind, n) in [
            (VerdictKind::Direct2fa, c.direct_2fa),
            (VerdictKind::CombinedMeasures, c.combined_measures),
            (VerdictKind::NotMet, c.not_met),
            (VerdictKind::NotApplicable, c.failed),
        ] {
            if n > 0 {
                out.push((system.clone(), day, kind, n));
            }
        }
    }
    Ok(out)
}

/// Adds `n` logins of verdict `kind` to a day.
pub(crate) fn add_to_day(day: &mut TrendDay, kind: VerdictKind, n: u64) {
    match kind {
        VerdictKind::Direct2fa => day.direct_2fa += n,
        VerdictKind::CombinedMeasures => day.combined_measures += n,
        VerdictKind::NotMet => day.not_met += n,
        VerdictKind::NotApplicable => return,
    }
    day.successful += n;
}

/// Integrity alarms whose room's `alarm_hold` has not run out at `now`.
async fn open_alarms(hub: &Hub, now: Timestamp) -> Result<u64, String> {
    let inv = hub.inventory();
    let longest = inv
        .rooms()
        .iter()
        .map(|r| r.alarm_hold.as_millis())
        .max()
        .unwrap_or(0);
    let rows = sqlx::query(
        "SELECT door, ts FROM door_events WHERE kind IN ('door_forced', 'door_held_open', 'tamper') \
         AND ts <= $1 AND ts > $2",
    )
    .bind(now.as_millis())
    .bind(now.as_millis() - longest)
    .fetch_all(hub.store.pool())
    .await
    .map_err(|e| e.to_string())?;
    let mut open = 0;
    for r in &rows {
        let door: String = get(r, "door").map_err(|e| e.to_string())?;
        let ts: i64 = get(r, "ts").map_err(|e| e.to_string())?;
        let hold = inv
            .doors()
            .iter()
            .find(|d| d.id.as_str() == door)
            .and_then(|d| inv.room(&d.room))
            .map(|room| room.alarm_hold.as_millis());
        if matches!(hold, Some(h) if ts + h > now.as_millis()) {
            open += 1;
        }
    }
    Ok(open)
}

/// How many logins the overview lists.
const LATEST: i64 = 50;

pub struct HubSource(pub Arc<Hub>);

#[async_trait::async_trait]
impl monban_web::OverviewSource for HubSource {
    async fn overview(&self) -> Result<Overview, String> {
        let hub = &self.0;
        let now = hub.now();
        let from = now.saturating_sub(Span::from_secs(30 * 24 * 3600));
        let rows = crate::api::compliance_rows(hub, from, now)
            .await
            .map_err(|e| e.message)?;
        let inv = hub.inventory();
        let status_of: HashMap<String, String> = rows
            .iter()
            .map(|c| (c.id.clone(), c.status.as_str().to_string()))
            .collect();
        let mut renewals: Vec<RenewalRow> = inv
            .systems()
            .iter()
            .filter_map(|s| {
                let renewal = s.renewal.clone()?;
                let fiscal_year = fiscal_year(&renewal).filter(|y| WAVE.contains(y))?;
                Some(RenewalRow {
                    id: s.id.to_string(),
                    name: s.name.clone(),
                    status: status_of.get(s.id.as_str()).cloned().unwrap_or_default(),
                    renewal,
                    fiscal_year,
                })
            })
            .collect();
        renewals.sort_by(|a, b| a.renewal.cmp(&b.renewal).then(a.id.cmp(&b.id)));
        let today = jst_day(now.as_millis());
        let first = today - (TREND_DAYS - 1);
        let mut per: BTreeMap<(String, i64), TrendDay> = BTreeMap::new();
        for (system, day, kind, n) in
            daily_counts(hub, None, Timestamp::from_millis(jst_day_start(first)), now).await?
        {
            add_to_day(per.entry((system, day)).or_default(), kind, n);
        }
        let trends = inv
            .systems()
            .iter()
            .map(|s| SystemTrend {
                system: s.id.to_string(),
                days: (first..=today)
                    .map(|d| {
                        let mut day = per.get(&(s.id.to_string(), d)).cloned().unwrap_or_default();
                        day.day = day_label(d);
                        day
                    })
                    .collect(),
            })
            .collect();
        let readiness_alarms = open_alarms(hub, now).await?;
        let dead_letters = hub
            .store
            .dead_letter_count()
            .await
            .map_err(|e| e.to_string())?;
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
        let health = hub.door_health().await;
        let offline_doors = health.iter().filter(|d| d.state == "offline").count() as u64;
        let doors = health
            .into_iter()
            .map(|d| DoorRow {
                room: inv
                    .rooms()
                    .iter()
                    .find(|r| r.id.as_str() == d.room)
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| d.room.clone()),
                id: d.door,
                name: d.name,
                source: d.source.to_string(),
                state: d.state.to_string(),
                offline_reason: d.offline_reason.map(str::to_string),
                last_heard_at: d.last_heard_at,
                last_event_at: d.last_event_at,
                last_heartbeat_at: d.last_heartbeat_at,
                heartbeat_timeout: d.heartbeat_timeout,
                overruns: d.overruns,
                dead_letters: d.dead_letters,
                connector: d.connector,
            })
            .collect();
        Ok(Overview {
            readiness: Readiness {
                trends,
                renewals,
                open_alarms: readiness_alarms,
                offline_doors,
                dead_letters: u64::try_from(dead_letters).unwrap_or(0),
            },
            doors,
            site_name: hub.site_name.clone(),
            generated_at: now.to_rfc3339(),
            from: from.to_rfc3339(),
            to: now.to_rfc3339(),
            systems,
            latest_logins,
        })
    }
}
