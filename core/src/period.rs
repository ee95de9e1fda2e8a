//! The site's calendar: which day an instant falls on, the fiscal year of a month or a
//! day, and the reporting periods that reads and exports count over.
//!
//! Japan has no daylight saving time, so a site's calendar is a fixed UTC offset
//! ([`SiteOffset`], `+09:00` unless the site says otherwise: CONTRACT §4 `[site]
//! timezone`). A calendar date at the site is a [`SiteDay`] (days since 1970-01-01),
//! written `YYYY-MM-DD`; a month is a [`Month`], written `YYYY-MM`. The Japanese fiscal
//! year (年度) runs from April to March and is named by the year it starts in: March 2028
//! belongs to FY2027 (令和9年度).
//!
//! A [`Period`] holds both its ends, `from <= ts <= to`, as CONTRACT §8 counts logins. It
//! is parsed at the edge from the query's `from`/`to` ([`Period::parse`]: RFC 3339
//! instants or whole site days; [`Period::parse_instants`]: RFC 3339 only, the API's
//! `GET /api/v1/compliance`), defaults to the 30 days up to now, and splits into a partial
//! head, whole site days and a partial tail ([`Period::split_days`]) so that per-day
//! rollups can answer the whole days and only the edges need counting login by login.

use crate::time::{Span, Timestamp};
use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// Milliseconds in a day: a fixed offset has no 23- or 25-hour days.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// The fiscal years of the renewal wave (更改) the overview follows: FY2027 (令和9年度)
/// is when the MHLW guideline expects two-factor authentication of systems newly
/// introduced or renewed (CONTRACT §1).
pub const RENEWAL_WAVE: RangeInclusive<i32> = 2025..=2027;

// ---- the offset ------------------------------------------------------------------------

/// The fixed UTC offset that defines the site's calendar days. The default is `+09:00`
/// (Japan Standard Time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SiteOffset(i32);

/// A text that is not a UTC offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a UTC offset; write it like \"+09:00\", \"-05:30\" or \"Z\" (at most 14:59 either way)"
)]
pub struct OffsetError(String);

impl SiteOffset {
    /// Japan Standard Time, `+09:00`: the default of CONTRACT §4.
    pub const JST: SiteOffset = SiteOffset(9 * 3600);
    /// UTC.
    pub const UTC: SiteOffset = SiteOffset(0);
    /// The widest offset accepted either way: 14:59 (real offsets reach +14:00).
    const MAX_SECONDS: i32 = 14 * 3600 + 59 * 60;

    /// An offset of `seconds` east of UTC.
    pub fn from_seconds(seconds: i32) -> Result<SiteOffset, OffsetError> {
        if seconds.abs() <= Self::MAX_SECONDS {
            Ok(SiteOffset(seconds))
        } else {
            Err(OffsetError(format!("{seconds} seconds")))
        }
    }

    /// Parses `+09:00`, `-05:30`, `+0900`, `Z` or `UTC`. A leading space stands for a
    /// `+` (an unencoded `+` in a query string arrives as a space).
    pub fn parse(text: &str) -> Result<SiteOffset, OffsetError> {
        let bad = || OffsetError(text.to_string());
        let t = text.trim_end();
        if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
            return Ok(SiteOffset::UTC);
        }
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+' | b' ') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(bad()),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
        let minutes: i32 = digits[2..].parse().map_err(|_| bad())?;
        if hours > 14 || minutes > 59 {
            return Err(bad());
        }
        Ok(SiteOffset(sign * (hours * 3600 + minutes * 60)))
    }

    /// Seconds east of UTC.
    pub fn seconds(self) -> i32 {
        self.0
    }

    /// Milliseconds east of UTC.
    pub fn millis(self) -> i64 {
        i64::from(self.0) * 1000
    }

    /// The offset as chrono's type, for formatting instants at the site.
    pub fn fixed(self) -> chrono::FixedOffset {
        match chrono::FixedOffset::east_opt(self.0) {
            Some(o) => o,
            None => unreachable!("a site offset is under 15 hours, chrono takes up to 24"),
        }
    }

    /// The site day `t` falls on.
    pub fn day_of(self, t: Timestamp) -> SiteDay {
        SiteDay((t.as_millis() + self.millis()).div_euclid(DAY_MS))
    }

    /// The first instant of `day` at the site.
    pub fn start_of(self, day: SiteDay) -> Timestamp {
        Timestamp::from_millis(day.0 * DAY_MS - self.millis())
    }

    /// The last millisecond of `day` at the site.
    pub fn end_of(self, day: SiteDay) -> Timestamp {
        Timestamp::from_millis(self.start_of(day.next()).as_millis() - 1)
    }

    /// The date (`YYYY-MM-DD`) of `t` at the site.
    pub fn date_of(self, t: Timestamp) -> String {
        self.day_of(t).to_string()
    }
}

impl Default for SiteOffset {
    fn default() -> Self {
        SiteOffset::JST
    }
}

impl FromStr for SiteOffset {
    type Err = OffsetError;
    fn from_str(s: &str) -> Result<Self, OffsetError> {
        SiteOffset::parse(s)
    }
}

/// `+09:00`, `-05:30`, `+00:00`.
impl fmt::Display for SiteOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let a = self.0.abs();
        write!(f, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    }
}

// ---- days, months, fiscal years ------------------------------------------------------------

/// A calendar date at the site, as days since 1970-01-01; written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteDay(i64);

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

impl SiteDay {
    pub fn from_number(days_since_1970: i64) -> SiteDay {
        SiteDay(days_since_1970)
    }

    /// Days since 1970-01-01.
    pub fn number(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<SiteDay, String> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(SiteDay::of_date)
            .map_err(|_| format!("{text:?} is not a date written YYYY-MM-DD"))
    }

    fn of_date(d: NaiveDate) -> SiteDay {
        SiteDay(i64::from(d.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE)
    }

    /// The calendar date, when chrono can represent it (about ±262 000 years).
    pub fn date(self) -> Option<NaiveDate> {
        let n = i32::try_from(self.0 + UNIX_EPOCH_DAYS_FROM_CE).ok()?;
        NaiveDate::from_num_days_from_ce_opt(n)
    }

    pub fn next(self) -> SiteDay {
        SiteDay(self.0 + 1)
    }

    pub fn prev(self) -> SiteDay {
        SiteDay(self.0 - 1)
    }

    /// The day `n` days later (earlier for a negative `n`).
    pub fn plus(self, n: i64) -> SiteDay {
        SiteDay(self.0 + n)
    }

    /// Every day from this one through `last`, in order (none when `last` is earlier).
    pub fn through(self, last: SiteDay) -> impl DoubleEndedIterator<Item = SiteDay> {
        (self.0..=last.0).map(SiteDay)
    }

    /// The same day `n` calendar months later, clamped to the month's last day (a year
    /// after 2028-02-29 is 2029-02-28); `None` outside chrono's range.
    pub fn plus_months(self, n: u32) -> Option<SiteDay> {
        self.date()?
            .checked_add_months(chrono::Months::new(n))
            .map(SiteDay::of_date)
    }

    /// The month the day is in.
    pub fn month(self) -> Option<Month> {
        self.date().map(|d| Month {
            year: d.year(),
            month: d.month(),
        })
    }

    /// The Japanese fiscal year (April–March) the day is in.
    pub fn fiscal_year(self) -> Option<i32> {
        self.month().map(Month::fiscal_year)
    }
}

/// `YYYY-MM-DD`; empty for a day chrono cannot represent.
impl fmt::Display for SiteDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.date() {
            // Spelled out rather than chrono's strftime, which would grow the wasm bundle.
            Some(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            None => Ok(()),
        }
    }
}

impl FromStr for SiteDay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SiteDay::parse(s)
    }
}

/// Written `YYYY-MM-DD`, as in `monban.toml` (`until`, `confirmed`).
impl serde::Serialize for SiteDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SiteDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        SiteDay::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A calendar month, written `YYYY-MM` (a system's planned renewal, CONTRACT §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// Parses `YYYY-MM`: four digits, a dash, a month `01` to `12`.
    pub fn parse(text: &str) -> Result<Month, String> {
        let b = text.as_bytes();
        let ok =
            b.len() == 7 && b[4] == b'-' && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit);
        let month = if ok { text[5..].parse().ok() } else { None };
        match (ok, month) {
            (true, Some(m @ 1..=12)) => Ok(Month {
                year: text[..4].parse().map_err(|_| bad_month(text))?,
                month: m,
            }),
            _ => Err(bad_month(text)),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 (January) to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The Japanese fiscal year (April–March) of the month.
    pub fn fiscal_year(self) -> i32 {
        fiscal_year(self.year, self.month)
    }
}

fn bad_month(text: &str) -> String {
    format!("{text:?} is not a month written YYYY-MM")
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Month::parse(s)
    }
}

/// Written `YYYY-MM`, as in `monban.toml` (`renewal`, `by`).
impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Month::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The Japanese fiscal year (年度, April–March) of `month` (1–12) of `year`: the year it
/// starts in, so January to March belong to the year before.
pub fn fiscal_year(year: i32, month: u32) -> i32 {
    if month >= 4 {
        year
    } else {
        year - 1
    }
}

// ---- periods ---------------------------------------------------------------------------

/// A reporting period with both ends included: `from <= ts <= to` (CONTRACT §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    from: Timestamp,
    to: Timestamp,
}

/// Which end of a period a value was given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    From,
    To,
}

impl Bound {
    pub fn as_str(self) -> &'static str {
        match self {
            Bound::From => "from",
            Bound::To => "to",
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a period could not be read. The messages are what the API and the dashboard
/// answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// One end does not parse.
    #[error("{bound}: {message}")]
    Bound { bound: Bound, message: String },
    #[error("from must not be after to")]
    FromAfterTo,
}

/// The parts of a period by site day: see [`Period::split_days`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySplit {
    /// The part before the first whole day (or the whole period when it holds no whole
    /// day).
    pub head: Option<Period>,
    /// The whole site days inside the period, first and last (inclusive).
    pub days: Option<(SiteDay, SiteDay)>,
    /// The part after the last whole day.
    pub tail: Option<Period>,
}

impl Period {
    /// The default length: the 30 days up to `to`.
    pub const DEFAULT_LENGTH: Span = Span::from_millis_const(30 * DAY_MS);

    /// The period from `from` through `to`.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Period, PeriodError> {
        if from > to {
            return Err(PeriodError::FromAfterTo);
        }
        Ok(Period { from, to })
    }

    /// The default period: the 30 days up to `to` (usually now).
    pub fn ending(to: Timestamp) -> Period {
        Period {
            from: to.saturating_sub(Period::DEFAULT_LENGTH),
            to,
        }
    }

    /// The whole of one site day.
    pub fn day(day: SiteDay, offset: SiteOffset) -> Period {
        Period {
            from: offset.start_of(day),
            to: offset.end_of(day),
        }
    }

    pub fn from(self) -> Timestamp {
        self.from
    }

    pub fn to(self) -> Timestamp {
        self.to
    }

    /// Whether `from <= t <= to`.
    pub fn contains(self, t: Timestamp) -> bool {
        self.from <= t && t <= self.to
    }

    /// Reads `from` and `to` as the dashboard and the CSV exports take them: each an RFC
    /// 3339 instant or a date `YYYY-MM-DD` — whole site days, `from` from the first
    /// instant of its day, `to` through the last millisecond of its day. A missing or
    /// blank value takes the default: `to` now, `from` 30 days before `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: Timestamp,
        offset: SiteOffset,
    ) -> Result<Period, PeriodError> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let to = match given(to) {
            Some(t) => parse_bound(t, Bound::To, offset)?,
            None => now,
        };
        let from = match given(from) {
            Some(f) => parse_bound(f, Bound::From, offset)?,
            None => to.saturating_sub(Period::DEFAULT_LENGTH),
        };
        Period::new(from, to)
    }

    /// Reads `from` and `to` as RFC 3339 instants only (`GET /api/v1/compliance`). A
    /// missing value takes the default: `to` now, `from` 30 days before `to`.
    pub fn parse_instants(
        from: Option<&str>,
        to: Option<&str>,
        now: Timestamp,
    ) -> Result<Period, PeriodError> {
        let read = |bound: Bound, v: &str| {
            parse_instant(v).map_err(|message| PeriodError::Bound { bound, message })
        };
        let to = match to {
            Some(t) => read(Bound::To, t)?,
            None => now,
        };
        let from = match from {
            Some(f) => read(Bound::From, f)?,
            None => to.saturating_sub(Period::DEFAULT_LENGTH),
        };
        Period::new(from, to)
    }

    /// The first and last site day the period touches.
    pub fn days(self, offset: SiteOffset) -> (SiteDay, SiteDay) {
        (offset.day_of(self.from), offset.day_of(self.to))
    }

    /// Splits the period into a partial head, the whole site days inside it and a partial
    /// tail. Together they cover the period exactly, without overlap and in that order.
    /// A period that holds no whole day is all head.
    pub fn split_days(self, offset: SiteOffset) -> DaySplit {
        let (first, last) = self.days(offset);
        let whole_first = if self.from == offset.start_of(first) {
            first
        } else {
            first.next()
        };
        let whole_last = if self.to == offset.end_of(last) {
            last
        } else {
            last.prev()
        };
        if whole_first > whole_last {
            return DaySplit {
                head: Some(self),
                days: None,
                tail: None,
            };
        }
        let starts = offset.start_of(whole_first);
        let ends = offset.end_of(whole_last);
        DaySplit {
            head: (self.from < starts).then(|| Period {
                from: self.from,
                to: Timestamp::from_millis(starts.as_millis() - 1),
            }),
            days: Some((whole_first, whole_last)),
            tail: (ends < self.to).then(|| Period {
                from: Timestamp::from_millis(ends.as_millis() + 1),
                to: self.to,
            }),
        }
    }
}

/// An RFC 3339 instant with its offset; an unencoded `+` of the offset may arrive as a
/// space (form decoding of a query string), and is taken as a `+`.
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(text)
        .or_else(|e| Timestamp::parse_rfc3339(&text.replace(' ', "+")).map_err(|_| e))
}

/// One end of a period: a date `YYYY-MM-DD` (the first instant of that site day for
/// `from`, its last millisecond for `to`) or an RFC 3339 instant.
pub fn parse_bound(text: &str, bound: Bound, offset: SiteOffset) -> Result<Timestamp, PeriodError> {
    let err = |message: String| PeriodError::Bound { bound, message };
    let t = text.trim();
    if let Ok(day) = SiteDay::parse(t) {
        return match bound {
            Bound::From => Ok(offset.start_of(day)),
            Bound::To => match day.next().date() {
                Some(_) => Ok(offset.end_of(day)),
                None => Err(err("date out of range".to_string())),
            },
        };
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&t.replace(' ', "+")))
        .map(|d| Timestamp::from_millis(d.timestamp_millis()))
        .map_err(|_| {
            err(format!(
                "{t:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
            ))
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn day(s: &str) -> SiteDay {
        SiteDay::parse(s).unwrap()
    }

    #[test]
    fn offsets_parse_and_print() {
        let cases: &[(&str, Option<i32>, &str)] = &[
            ("+09:00", Some(9 * 3600), "+09:00"),
            (" 09:00", Some(9 * 3600), "+09:00"),
            ("+0900", Some(9 * 3600), "+09:00"),
            ("-05:30", Some(-(5 * 3600 + 1800)), "-05:30"),
            ("Z", Some(0), "+00:00"),
            ("utc", Some(0), "+00:00"),
            ("+14:00", Some(14 * 3600), "+14:00"),
            ("+9", None, ""),
            ("+15:00", None, ""),
            ("+09:60", None, ""),
            ("09:00", None, ""),
            ("+09:0a", None, ""),
            ("", None, ""),
            ("JST", None, ""),
        ];
        for (text, seconds, shown) in cases {
            let parsed = SiteOffset::parse(text);
            assert_eq!(
                parsed.as_ref().ok().map(|o| o.seconds()),
                *seconds,
                "{text:?}"
            );
            if let Ok(o) = parsed {
                assert_eq!(o.to_string(), *shown);
            }
        }
        let e = SiteOffset::parse("+9").unwrap_err().to_string();
        assert!(e.contains("\"+9\"") && e.contains("+09:00"), "{e}");
        assert_eq!(SiteOffset::default(), SiteOffset::JST);
        assert!(SiteOffset::from_seconds(15 * 3600).is_err());
        assert_eq!(
            SiteOffset::from_seconds(-3600).unwrap().to_string(),
            "-01:00"
        );
    }

    #[test]
    fn site_days() {
        let jst = SiteOffset::JST;
        // (instant, its JST date)
        let cases = [
            ("2026-11-20T14:59:59.999Z", "2026-11-20"),
            ("2026-11-20T15:00:00Z", "2026-11-21"),
            ("2026-11-21T00:00:00+09:00", "2026-11-21"),
            ("1970-01-01T00:00:00+09:00", "1970-01-01"),
            ("1969-12-31T23:59:59+09:00", "1969-12-31"),
        ];
        for (t, date) in cases {
            assert_eq!(jst.date_of(ts(t)), date, "{t}");
            assert_eq!(jst.day_of(ts(t)), day(date), "{t}");
        }
        assert_eq!(day("1970-01-01").number(), 0);
        assert_eq!(day("2026-11-21").to_string(), "2026-11-21");
        assert_eq!(
            jst.start_of(day("2026-11-21")),
            ts("2026-11-21T00:00:00+09:00")
        );
        assert_eq!(
            jst.end_of(day("2026-11-21")),
            ts("2026-11-21T23:59:59.999+09:00")
        );
        assert_eq!(
            SiteOffset::UTC.date_of(ts("2026-11-20T15:00:00Z")),
            "2026-11-20"
        );
        assert!(SiteDay::parse("2026-02-30").is_err());
        assert!(SiteDay::parse("21 Nov").is_err());
        let days: Vec<String> = day("2026-12-30")
            .through(day("2027-01-01"))
            .map(|d| d.to_string())
            .collect();
        assert_eq!(days, ["2026-12-30", "2026-12-31", "2027-01-01"]);
        assert_eq!(day("2027-01-01").through(day("2026-12-31")).count(), 0);
        // (day, months later, expected)
        let later = [
            ("2025-10-01", 12, "2026-10-01"),
            ("2028-02-29", 12, "2029-02-28"),
            ("2026-01-31", 1, "2026-02-28"),
            ("2026-12-06", 0, "2026-12-06"),
        ];
        for (d, n, want) in later {
            assert_eq!(day(d).plus_months(n), Some(day(want)), "{d} + {n}");
        }
        let json = serde_json::to_string(&day("2027-03-31")).unwrap();
        assert_eq!(json, "\"2027-03-31\"");
        assert_eq!(
            serde_json::from_str::<SiteDay>(&json).unwrap(),
            day("2027-03-31")
        );
        assert!(serde_json::from_str::<SiteDay>("\"2027-02-30\"").is_err());
    }

    #[test]
    fn fiscal_years() {
        // (month, fiscal year): April starts the year, March ends it.
        let cases = [
            ("2027-04", 2027),
            ("2028-03", 2027),
            ("2027-03", 2026),
            ("2027-12", 2027),
            ("2028-01", 2027),
        ];
        for (m, fy) in cases {
            assert_eq!(Month::parse(m).unwrap().fiscal_year(), fy, "{m}");
        }
        assert_eq!(day("2028-03-31").fiscal_year(), Some(2027));
        assert_eq!(day("2028-04-01").fiscal_year(), Some(2028));
        for bad in [
            "2027-4",
            "2027-13",
            "2027-00",
            "27-04",
            "2027/04",
            "2027-+1",
            "２０２７-04",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Month::parse("2027-04").unwrap().to_string(), "2027-04");
        assert!(RENEWAL_WAVE.contains(&2027) && !RENEWAL_WAVE.contains(&2028));
    }

    #[test]
    fn periods_from_dates_and_instants() {
        let now = ts("2026-11-21T12:00:00Z");
        let jst = SiteOffset::JST;
        // (from, to, expected from, expected to)
        let cases: &[(Option<&str>, Option<&str>, &str, &str)] = &[
            (
                Some("2026-11-01"),
                Some("2026-11-01"),
                "2026-10-31T15:00:00Z",
                "2026-11-01T14:59:59.999Z",
            ),
            (
                Some("2026-11-01T00:00:00Z"),
                Some("2026-11-02T00:00:00 09:00"),
                "2026-11-01T00:00:00Z",
                "2026-11-01T15:00:00Z",
            ),
            (None, None, "2026-10-22T12:00:00Z", "2026-11-21T12:00:00Z"),
            (
                Some(" "),
                Some(""),
                "2026-10-22T12:00:00Z",
                "2026-11-21T12:00:00Z",
            ),
            (
                None,
                Some("2026-11-01T00:00:00Z"),
                "2026-10-02T00:00:00Z",
                "2026-11-01T00:00:00Z",
            ),
        ];
        for (from, to, want_from, want_to) in cases {
            let p = Period::parse(*from, *to, now, jst).unwrap();
            assert_eq!(
                (p.from(), p.to()),
                (ts(want_from), ts(want_to)),
                "{from:?} {to:?}"
            );
        }
        // (from, to, message)
        let errors: &[(Option<&str>, Option<&str>, &str)] = &[
            (
                Some("2026-11-02"),
                Some("2026-11-01"),
                "from must not be after to",
            ),
            (
                Some("yesterday"),
                None,
                "from: \"yesterday\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time",
            ),
            (
                Some("yesterday"),
                Some("noon"),
                "to: \"noon\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time",
            ),
        ];
        for (from, to, message) in errors {
            let e = Period::parse(*from, *to, now, jst).unwrap_err();
            assert_eq!(e.to_string(), *message);
        }
    }

    #[test]
    fn periods_from_instants_only() {
        let now = ts("2026-11-21T12:00:00Z");
        let p = Period::parse_instants(None, None, now).unwrap();
        assert_eq!(p, Period::ending(now));
        assert_eq!(p.to().as_millis() - p.from().as_millis(), 30 * DAY_MS);
        let p = Period::parse_instants(Some("2026-11-01T09:00:00 09:00"), None, now).unwrap();
        assert_eq!(p.from(), ts("2026-11-01T00:00:00Z"));
        // A date is not an instant here, and an empty value is not a missing one.
        let e = Period::parse_instants(Some("2026-11-01"), None, now).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("from: \"2026-11-01\" is not an RFC 3339 time with an offset ("),
            "{e}"
        );
        assert!(Period::parse_instants(None, Some(""), now).is_err());
        assert_eq!(
            Period::parse_instants(Some("2026-11-22T00:00:00Z"), None, now).unwrap_err(),
            PeriodError::FromAfterTo
        );
    }

    #[test]
    fn split_into_head_days_and_tail() {
        let jst = SiteOffset::JST;
        let p = |f: &str, t: &str| Period::new(ts(f), ts(t)).unwrap();
        // (period, head, whole days, tail)
        type Case<'a> = (
            (&'a str, &'a str),
            Option<(&'a str, &'a str)>,
            Option<(&'a str, &'a str)>,
            Option<(&'a str, &'a str)>,
        );
        let cases: &[Case] = &[
            // Whole days only.
            (
                ("2026-11-01T00:00:00+09:00", "2026-11-03T23:59:59.999+09:00"),
                None,
                Some(("2026-11-01", "2026-11-03")),
                None,
            ),
            // A partial day on each side.
            (
                ("2026-11-01T12:00:00+09:00", "2026-11-04T06:00:00+09:00"),
                Some(("2026-11-01T12:00:00+09:00", "2026-11-01T23:59:59.999+09:00")),
                Some(("2026-11-02", "2026-11-03")),
                Some(("2026-11-04T00:00:00+09:00", "2026-11-04T06:00:00+09:00")),
            ),
            // Within one day.
            (
                ("2026-11-01T12:00:00+09:00", "2026-11-01T13:00:00+09:00"),
                Some(("2026-11-01T12:00:00+09:00", "2026-11-01T13:00:00+09:00")),
                None,
                None,
            ),
            // Across midnight without a whole day.
            (
                ("2026-11-01T12:00:00+09:00", "2026-11-02T06:00:00+09:00"),
                Some(("2026-11-01T12:00:00+09:00", "2026-11-02T06:00:00+09:00")),
                None,
                None,
            ),
            // One millisecond.
            (
                ("2026-11-01T00:00:00+09:00", "2026-11-01T00:00:00+09:00"),
                Some(("2026-11-01T00:00:00+09:00", "2026-11-01T00:00:00+09:00")),
                None,
                None,
            ),
            // A whole day and a tail.
            (
                ("2026-11-01T00:00:00+09:00", "2026-11-02T00:00:00+09:00"),
                None,
                Some(("2026-11-01", "2026-11-01")),
                Some(("2026-11-02T00:00:00+09:00", "2026-11-02T00:00:00+09:00")),
            ),
        ];
        for ((f, t), head, days, tail) in cases {
            let split = p(f, t).split_days(jst);
            assert_eq!(split.head, head.map(|(a, b)| p(a, b)), "head of {f}..{t}");
            assert_eq!(
                split.days,
                days.map(|(a, b)| (day(a), day(b))),
                "days of {f}..{t}"
            );
            assert_eq!(split.tail, tail.map(|(a, b)| p(a, b)), "tail of {f}..{t}");
        }
    }

    proptest! {
        /// Head, whole days and tail cover the period exactly, in order, and the whole
        /// days are whole at the offset.
        #[test]
        fn split_covers_the_period_exactly(
            from in -5 * DAY_MS..40 * DAY_MS,
            len in 0..20 * DAY_MS,
            offset in -(14 * 60)..=(14 * 60),
        ) {
            let offset = SiteOffset::from_seconds(offset * 60).unwrap();
            let period = Period::new(
                Timestamp::from_millis(from),
                Timestamp::from_millis(from + len),
            ).unwrap();
            let split = period.split_days(offset);
            let mut parts: Vec<Period> = Vec::new();
            parts.extend(split.head);
            if let Some((a, b)) = split.days {
                prop_assert!(a <= b);
                parts.extend(a.through(b).map(|d| Period::day(d, offset)));
            }
            parts.extend(split.tail);
            prop_assert_eq!(parts.first().map(|p| p.from()), Some(period.from()));
            prop_assert_eq!(parts.last().map(|p| p.to()), Some(period.to()));
            for w in parts.windows(2) {
                prop_assert_eq!(w[0].to().as_millis() + 1, w[1].from().as_millis());
            }
            if let Some(head) = split.head {
                // A head is shorter than two days and holds no whole day.
                prop_assert!(head.to().as_millis() - head.from().as_millis() < 2 * DAY_MS);
                let (a, b) = head.days(offset);
                for d in a.through(b) {
                    let whole = Period::day(d, offset);
                    prop_assert!(!(head.from() <= whole.from() && whole.to() <= head.to()));
                }
            }
            if let Some(tail) = split.tail {
                prop_assert_eq!(tail.days(offset).0, tail.days(offset).1);
            }
        }

        /// A day's label (years 1 to 9999) parses back to the same day, and the day of its first and last
        /// instant is that day.
        #[test]
        fn days_round_trip(n in -719_162i64..2_932_896, offset in -(14 * 60)..=(14 * 60)) {
            let offset = SiteOffset::from_seconds(offset * 60).unwrap();
            let d = SiteDay::from_number(n);
            prop_assert_eq!(SiteDay::parse(&d.to_string()), Ok(d));
            prop_assert_eq!(offset.day_of(offset.start_of(d)), d);
            prop_assert_eq!(offset.day_of(offset.end_of(d)), d);
            prop_assert_eq!(offset.start_of(d.next()).as_millis() - offset.end_of(d).as_millis(), 1);
        }
    }
}
