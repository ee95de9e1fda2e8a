//! Reports over a period, from the day rollups: compliance per system (CONTRACT §8),
//! verdicts per site day, reasons and terminals.
//!
//! A period `[from, to]` (both inclusive, as §8 counts) is split into the whole site
//! days it covers — read from the rollups the writer keeps — and at most two partial
//! days at its edges, counted exactly from `logins`. The cost of a report is then that
//! of its number of days plus two days of logins, whatever the store holds.

use crate::store::{Result, Store};
use monban_core::{LoginCounts, Reason, Timestamp, VerdictKind};
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;

/// A period split at site-day boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// The part before the first whole day (or the whole period when it holds none).
    pub head: Option<(Timestamp, Timestamp)>,
    /// The whole days, first and last (inclusive).
    pub days: Option<(i64, i64)>,
    /// The part after the last whole day.
    pub tail: Option<(Timestamp, Timestamp)>,
}

/// The first instant (ms) of site day `day` at `offset_s`.
pub fn day_start(day: i64, offset_s: i64) -> i64 {
    day * DAY_MS - offset_s * 1000
}

/// The site day of `t`.
pub fn day_of(t: Timestamp, offset_s: i64) -> i64 {
    crate::store::rollups::site_day(t, offset_s)
}

/// Splits `[from, to]` into a partial head, whole days and a partial tail.
pub fn split(from: Timestamp, to: Timestamp, offset_s: i64) -> Split {
    let (f, t) = (from.as_millis(), to.as_millis());
    if f > t {
        return Split {
            head: None,
            days: None,
            tail: None,
        };
    }
    let fd = day_of(from, offset_s);
    let first = if f == day_start(fd, offset_s) { fd } else { fd + 1 };
    let td = day_of(to, offset_s);
    let last = if t == day_start(td + 1, offset_s) - 1 {
        td
    } else {
        td - 1
    };
    if first > last {
        return Split {
            head: Some((from, to)),
            days: None,
            tail: None,
        };
    }
    let head_end = day_start(first, offset_s) - 1;
    let tail_start = day_start(last + 1, offset_s);
    Split {
        head: (f <= head_end).then(|| (from, Timestamp::from_millis(head_end))),
        days: Some((first, last)),
        tail: (tail_start <= t).then(|| (Timestamp::from_millis(tail_start), to)),
    }
}

impl Split {
    /// The partial spans, each within one site day.
    pub fn edges(&self) -> impl Iterator<Item = (Timestamp, Timestamp)> {
        self.head.into_iter().chain(self.tail)
    }
}

/// Login counts per system over `[from, to]`.
pub async fn counts(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    system: Option<&str>,
    offset_s: i64,
) -> Result<BTreeMap<String, LoginCounts>> {
    let s = split(from, to, offset_s);
    let mut out: BTreeMap<String, LoginCounts> = BTreeMap::new();
    if let Some((a, b)) = s.days {
        for (sys, _, kind, n) in store.day_counts(a, b, system).await? {
            out.entry(sys).or_default().add(kind, n);
        }
    }
    for (a, b) in s.edges() {
        for (sys, kind, n) in store.span_counts(a, b, system).await? {
            out.entry(sys).or_default().add(kind, n);
        }
    }
    Ok(out)
}

/// Login counts per (system, site day) over `[from, to]`.
pub async fn day_counts(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    system: Option<&str>,
    offset_s: i64,
) -> Result<BTreeMap<(String, i64), LoginCounts>> {
    let s = split(from, to, offset_s);
    let mut out: BTreeMap<(String, i64), LoginCounts> = BTreeMap::new();
    if let Some((a, b)) = s.days {
        for (sys, day, kind, n) in store.day_counts(a, b, system).await? {
            out.entry((sys, day)).or_default().add(kind, n);
        }
    }
    for (a, b) in s.edges() {
        let day = day_of(a, offset_s);
        for (sys, kind, n) in store.span_counts(a, b, system).await? {
            out.entry((sys, day)).or_default().add(kind, n);
        }
    }
    Ok(out)
}

/// `not_met` logins per reason of one system over `[from, to]`.
pub async fn reason_counts(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    system: &str,
    offset_s: i64,
) -> Result<BTreeMap<Reason, u64>> {
    let s = split(from, to, offset_s);
    let mut out: BTreeMap<Reason, u64> = BTreeMap::new();
    if let Some((a, b)) = s.days {
        for (_, _, reason, n) in store.reason_day_counts(a, b, Some(system)).await? {
            *out.entry(reason).or_default() += n;
        }
    }
    for (a, b) in s.edges() {
        for (_, reason, n) in store.span_reason_counts(a, b, Some(system)).await? {
            *out.entry(reason).or_default() += n;
        }
    }
    Ok(out)
}

/// Successful and `not_met` logins per terminal of one system over `[from, to]`.
pub async fn terminal_counts(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
    system: &str,
    offset_s: i64,
) -> Result<BTreeMap<String, (u64, u64)>> {
    let s = split(from, to, offset_s);
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut add = |terminal: String, n: u64, not_met: u64| {
        let e = out.entry(terminal).or_default();
        e.0 += n;
        e.1 += not_met;
    };
    if let Some((a, b)) = s.days {
        for (terminal, n, not_met) in store.terminal_day_counts(a, b, system).await? {
            add(terminal, n, not_met);
        }
    }
    for (a, b) in s.edges() {
        for (terminal, n, not_met) in store.span_terminal_counts(a, b, system).await? {
            add(terminal, n, not_met);
        }
    }
    out.retain(|_, (n, _)| *n > 0);
    Ok(out)
}

/// Whether a verdict counts as a successful login (everything but `not_applicable`).
pub fn successful(kind: VerdictKind) -> bool {
    kind != VerdictKind::NotApplicable
}

#[cfg(test)]
mod tests {
    use super::*;

    const JST: i64 = 9 * 3600;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn whole_days_need_no_edges() {
        let s = split(
            t("2026-11-01T00:00:00+09:00"),
            t("2026-11-02T23:59:59.999+09:00"),
            JST,
        );
        assert_eq!(s.head, None);
        assert_eq!(s.tail, None);
        let (a, b) = s.days.unwrap_or_default();
        assert_eq!(b - a, 1);
        assert_eq!(a, day_of(t("2026-11-01T12:00:00+09:00"), JST));
    }

    #[test]
    fn partial_days_are_edges_and_cover_the_period_exactly() {
        let from = t("2026-11-01T10:00:00+09:00");
        let to = t("2026-11-05T08:30:00+09:00");
        let s = split(from, to, JST);
        let (h0, h1) = s.head.unwrap_or((from, from));
        let (d0, d1) = s.days.unwrap_or_default();
        let (t0, t1) = s.tail.unwrap_or((to, to));
        assert_eq!(h0, from);
        assert_eq!(h1.as_millis() + 1, day_start(d0, JST));
        assert_eq!(day_start(d1 + 1, JST), t0.as_millis());
        assert_eq!(t1, to);
        assert_eq!(d1 - d0, 2); // 2, 3 and 4 November
    }

    #[test]
    fn a_period_inside_one_day_is_all_head() {
        let from = t("2026-11-01T10:00:00+09:00");
        let to = t("2026-11-01T11:00:00+09:00");
        let s = split(from, to, JST);
        assert_eq!(s.head, Some((from, to)));
        assert_eq!((s.days, s.tail), (None, None));
        // One instant is a period too (§8: from <= ts <= to).
        assert_eq!(split(from, from, JST).head, Some((from, from)));
    }

    #[test]
    fn the_offset_moves_the_day_boundary() {
        let from = t("2026-11-01T00:00:00Z");
        let to = t("2026-11-01T23:59:59.999Z");
        assert_eq!(split(from, to, 0).head, None);
        assert!(split(from, to, JST).head.is_some());
    }
}
