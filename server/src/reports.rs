//! Reports over a period, from the day rollups: compliance per system (CONTRACT §8),
//! verdicts per site day, reasons and terminals.
//!
//! A period (both ends inclusive, as §8 counts) is split into the whole site days it
//! covers (`monban_core::period::Period::split_days`) — read from the rollups the writer
//! keeps — and at most two partial days at its edges, counted exactly from `logins`. The cost of a report is then that
//! of its number of days plus two days of logins, whatever the store holds.

use crate::store::{Result, Store};
use monban_core::period::{DaySplit, Period, SiteDay, SiteOffset};
use monban_core::{Inventory, LoginCounts, Reason, SystemCompliance};
use std::collections::BTreeMap;

/// The whole days of a split as rollup day numbers, and its partial edges.
fn parts(period: Period, offset: SiteOffset) -> (Option<(i64, i64)>, Vec<Period>) {
    let DaySplit { head, days, tail } = period.split_days(offset);
    (
        days.map(|(a, b)| (a.number(), b.number())),
        head.into_iter().chain(tail).collect(),
    )
}

/// Login counts per system over `period`.
pub async fn counts(
    store: &Store,
    period: Period,
    system: Option<&str>,
    offset: SiteOffset,
) -> Result<BTreeMap<String, LoginCounts>> {
    let (days, edges) = parts(period, offset);
    let mut out: BTreeMap<String, LoginCounts> = BTreeMap::new();
    if let Some((a, b)) = days {
        for (sys, _, kind, n) in store.day_counts(a, b, system).await? {
            out.entry(sys).or_default().add(kind, n);
        }
    }
    for e in edges {
        for (sys, kind, n) in store.span_counts(e.from(), e.to(), system).await? {
            out.entry(sys).or_default().add(kind, n);
        }
    }
    Ok(out)
}

/// Every system of `inventory` with its compliance over `period` (CONTRACT §8: the rows
/// of `GET /api/v1/compliance`, the overview, the system page and the exports).
pub async fn compliance(
    store: &Store,
    inventory: &Inventory,
    period: Period,
    offset: SiteOffset,
) -> Result<Vec<SystemCompliance>> {
    let by_system = counts(store, period, None, offset).await?;
    Ok(inventory
        .systems()
        .iter()
        .map(|s| {
            SystemCompliance::new(s, by_system.get(s.id.as_str()).copied().unwrap_or_default())
        })
        .collect())
}

/// Login counts per (system, site day) over `period`.
pub async fn day_counts(
    store: &Store,
    period: Period,
    system: Option<&str>,
    offset: SiteOffset,
) -> Result<BTreeMap<(String, SiteDay), LoginCounts>> {
    let (days, edges) = parts(period, offset);
    let mut out: BTreeMap<(String, SiteDay), LoginCounts> = BTreeMap::new();
    if let Some((a, b)) = days {
        for (sys, day, kind, n) in store.day_counts(a, b, system).await? {
            out.entry((sys, SiteDay::from_number(day)))
                .or_default()
                .add(kind, n);
        }
    }
    for e in edges {
        let day = offset.day_of(e.from());
        for (sys, kind, n) in store.span_counts(e.from(), e.to(), system).await? {
            out.entry((sys, day)).or_default().add(kind, n);
        }
    }
    Ok(out)
}

/// `not_met` logins per reason of one system over `period`.
pub async fn reason_counts(
    store: &Store,
    period: Period,
    system: &str,
    offset: SiteOffset,
) -> Result<BTreeMap<Reason, u64>> {
    let (days, edges) = parts(period, offset);
    let mut out: BTreeMap<Reason, u64> = BTreeMap::new();
    if let Some((a, b)) = days {
        for (_, _, reason, n) in store.reason_day_counts(a, b, Some(system)).await? {
            *out.entry(reason).or_default() += n;
        }
    }
    for e in edges {
        for (_, reason, n) in store
            .span_reason_counts(e.from(), e.to(), Some(system))
            .await?
        {
            *out.entry(reason).or_default() += n;
        }
    }
    Ok(out)
}

/// Successful and `not_met` logins per terminal of one system over `period`.
pub async fn terminal_counts(
    store: &Store,
    period: Period,
    system: &str,
    offset: SiteOffset,
) -> Result<BTreeMap<String, (u64, u64)>> {
    let (days, edges) = parts(period, offset);
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut add = |terminal: String, n: u64, not_met: u64| {
        let e = out.entry(terminal).or_default();
        e.0 += n;
        e.1 += not_met;
    };
    if let Some((a, b)) = days {
        for (terminal, n, not_met) in store.terminal_day_counts(a, b, system).await? {
            add(terminal, n, not_met);
        }
    }
    for e in edges {
        for (terminal, n, not_met) in store.span_terminal_counts(e.from(), e.to(), system).await? {
            add(terminal, n, not_met);
        }
    }
    out.retain(|_, (n, _)| *n > 0);
    Ok(out)
}
