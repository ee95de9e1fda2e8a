//! The dashboard's data port: [`Source`] implements `monban_web::DashboardSource` (one
//! trait per page) over the store and the ingest views, so the web crate renders
//! without knowing about sqlx. This module holds the overview; each other page has its
//! own module (`auth` holds the account, users, tokens, audit, people, enrollment and
//! step-up pages). A failure is a `monban_web::api::SourceError`: the page shows that
//! its data could not be read, the server's log says why.

mod accounts;
mod auth;
mod dead_letters;
mod evidence;
mod export;
mod imports;
mod inspection;
mod inventory;
mod maintenance;
mod rooms;
mod system;

use super::state::{AppState, Site};
use crate::auth::Auth;
use crate::clock::Clock;
use crate::ingest::Ingest;
use crate::maintenance::Maintenance;
use crate::store::Store;
use monban_core::period::{Month, Period, SiteDay, RENEWAL_WAVE};
use monban_core::snapshot::{alarm_lookback, OpenAlarm};
use monban_core::{Inventory, LoginCounts, Timestamp};
use monban_web::api::SourceError;
use monban_web::model::{Readiness, RenewalRow, SystemTrend, TrendDay};
use monban_web::{DoorRow, LoginRow, Overview, SystemRow};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Days in the overview's trend.
const TREND_DAYS: i64 = 30;

/// What the pages read: the store, the clock, the ingest views (inventory, presence,
/// door health), the passkey settings (the session's flash), the maintenance service and
/// the site.
#[derive(Clone)]
pub struct Source {
    store: Store,
    clock: Clock,
    ingest: Arc<Ingest>,
    auth: Arc<Auth>,
    maintenance: Arc<Maintenance>,
    site: Site,
    account_settings: crate::config::AccountSettings,
    imports: Arc<Vec<crate::config::imports::ImportSpec>>,
    import_max_bytes: u64,
}

impl Source {
    pub fn new(state: &AppState) -> Source {
        Source {
            store: state.store.clone(),
            clock: state.clock.clone(),
            ingest: state.ingest.clone(),
            auth: state.auth.clone(),
            maintenance: state.maintenance.clone(),
            site: state.site.clone(),
            account_settings: state.account_settings,
            imports: state.imports.clone(),
            import_max_bytes: state.import_max_bytes,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn inventory(&self) -> Arc<Inventory> {
        self.ingest.inventory()
    }
}

/// The data could not be read (the store failed): the cause goes to the log.
fn unavailable(e: impl std::fmt::Display) -> SourceError {
    SourceError::Unavailable(e.to_string())
}

/// A report's period in site days from its form (`YYYY-MM-DD`, `to` inclusive): `to`
/// defaults to `today`, `from` to `default_days` days ending at `to`; a date that does not
/// parse, or `from` after `to`, is [`SourceError::Invalid`].
fn site_days(
    from: Option<String>,
    to: Option<String>,
    today: SiteDay,
    default_days: i64,
) -> Result<(SiteDay, SiteDay), SourceError> {
    let day = |text: Option<String>, what: &str| -> Result<Option<SiteDay>, SourceError> {
        match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => SiteDay::parse(t)
                .map(Some)
                .map_err(|e| SourceError::Invalid(format!("{what}: {e}"))),
        }
    };
    let last = day(to, "to")?.unwrap_or(today);
    let first = day(from, "from")?.unwrap_or_else(|| last.plus(-(default_days - 1)));
    if first > last {
        return Err(SourceError::Invalid(format!(
            "from ({first}) is after to ({last})"
        )));
    }
    Ok((first, last))
}

/// A period that is not one (`from` after `to`).
fn period(from: Timestamp, to: Timestamp) -> Result<Period, SourceError> {
    Period::new(from, to).map_err(|e| SourceError::Invalid(e.to_string()))
}

/// Login counts per (system, site day) with `from <= ts <= to`; `system` limits them to
/// one system. Whole days come from the rollups, the edges from the logins
/// ([`crate::reports`]).
async fn daily_counts(
    src: &Source,
    system: Option<&str>,
    from: Timestamp,
    to: Timestamp,
) -> Result<BTreeMap<(String, SiteDay), LoginCounts>, SourceError> {
    crate::reports::day_counts(&src.store, period(from, to)?, system, src.site.offset)
        .await
        .map_err(unavailable)
}

/// The integrity alarms holding at `now` (`monban_core::snapshot::open_alarms`), from
/// the stored alarm events that can still hold: the overview counts them, the rooms
/// page lists them per room.
async fn open_alarms(src: &Source, now: Timestamp) -> Result<Vec<OpenAlarm>, SourceError> {
    let inv = src.inventory();
    let events = src
        .store
        .alarm_events(now.saturating_sub(alarm_lookback(&inv)), now)
        .await
        .map_err(unavailable)?;
    Ok(monban_core::snapshot::open_alarms(&inv, &events, now))
}

/// How many logins the overview lists.
const LATEST: i64 = 50;

#[async_trait::async_trait]
impl monban_web::OverviewSource for Source {
    async fn overview(&self) -> Result<Overview, SourceError> {
        let src = self;
        let now = src.now();
        let period = Period::ending(now);
        let from = period.from();
        let inv = src.inventory();
        let rows =
            crate::reports::compliance(&src.store, &inv, self::period(from, now)?, src.site.offset)
                .await
                .map_err(unavailable)?;
        let status_of: HashMap<String, String> = rows
            .iter()
            .map(|c| (c.id.clone(), c.status.as_str().to_string()))
            .collect();
        let mut renewals: Vec<RenewalRow> = inv
            .systems()
            .iter()
            .filter_map(|s| {
                let renewal = s.renewal.clone()?;
                let fiscal_year = Month::parse(&renewal)
                    .ok()
                    .map(Month::fiscal_year)
                    .filter(|y| RENEWAL_WAVE.contains(y))?;
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
        let site = src.site.offset;
        let today = site.day_of(now);
        let first = today.plus(-(TREND_DAYS - 1));
        let per = daily_counts(src, None, site.start_of(first), now).await?;
        let trends = inv
            .systems()
            .iter()
            .map(|s| SystemTrend {
                system: s.id.to_string(),
                days: first
                    .through(today)
                    .map(|d| {
                        let counts = per.get(&(s.id.to_string(), d)).copied().unwrap_or_default();
                        TrendDay::new(d.to_string(), &counts)
                    })
                    .collect(),
            })
            .collect();
        let readiness_alarms = open_alarms(src, now).await?.len() as u64;
        let dead_letters = src.store.dead_letter_count().await.map_err(unavailable)?;
        let systems = rows.into_iter().map(SystemRow::from).collect();
        let latest = src.store.latest_logins(LATEST).await.map_err(unavailable)?;
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
        let health = src.ingest.door_health().await;
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
            site_name: src.site.name.clone(),
            generated_at: now.to_rfc3339(),
            from: from.to_rfc3339(),
            to: now.to_rfc3339(),
            systems,
            latest_logins,
        })
    }
}
