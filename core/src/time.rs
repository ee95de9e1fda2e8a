//! Time in the domain: [`Timestamp`] is a UTC instant in milliseconds, [`Span`] a
//! configured duration such as `"60s"` or `"12h"` (humantime syntax, CONTRACT §4).
//!
//! Event times arrive as RFC 3339 with any offset (`+09:00`, `Z`); they are compared as
//! instants and always written back in UTC with a `Z`.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A UTC instant with millisecond resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN / 2);
    pub const MAX: Timestamp = Timestamp(i64::MAX / 2);

    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub fn as_millis(self) -> i64 {
        self.0
    }
    /// Parses RFC 3339 with a mandatory offset, e.g. `2026-11-21T09:00:00+09:00`.
    pub fn parse_rfc3339(s: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Timestamp(t.timestamp_millis()))
            .map_err(|e| format!("{s:?} is not an RFC 3339 time with an offset ({e})"))
    }
    pub fn to_utc(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or_default()
    }
    /// RFC 3339 in UTC with `Z`; fractional seconds only when present.
    pub fn to_rfc3339(self) -> String {
        self.to_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
    pub fn saturating_add(self, span: Span) -> Self {
        Timestamp(self.0.saturating_add(span.as_millis()))
    }
    pub fn saturating_sub(self, span: Span) -> Self {
        Timestamp(self.0.saturating_sub(span.as_millis()))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.timestamp_millis())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// A non-negative duration from configuration (`"500ms"`, `"15m"`, `"12h"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span(i64);

pub(crate) const fn span_const(ms: i64) -> Span {
    Span(ms)
}

impl Span {
    pub fn from_millis(ms: i64) -> Self {
        Span(ms.max(0))
    }
    pub fn from_secs(s: i64) -> Self {
        Span::from_millis(s.saturating_mul(1000))
    }
    pub fn as_millis(self) -> i64 {
        self.0
    }
    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0 as u64)
    }
}

impl FromStr for Span {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let d = humantime::parse_duration(s.trim()).map_err(|e| {
            format!("{s:?} is not a duration ({e}); write it like \"500ms\", \"60s\", \"15m\" or \"12h\"")
        })?;
        let ms = i64::try_from(d.as_millis()).map_err(|_| format!("{s:?} is too long"))?;
        Ok(Span(ms))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.as_std()))
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_instants() {
        let a = Timestamp::parse_rfc3339("2026-11-21T09:00:00+09:00").unwrap();
        let b = Timestamp::parse_rfc3339("2026-11-21T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_rfc3339(), "2026-11-21T00:00:00Z");
        let c = Timestamp::parse_rfc3339("2026-11-21T00:00:00.250Z").unwrap();
        assert_eq!(c.to_rfc3339(), "2026-11-21T00:00:00.250Z");
    }

    #[test]
    fn rejects_times_without_offset() {
        assert!(Timestamp::parse_rfc3339("2026-11-21T09:00:00").is_err());
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }

    #[test]
    fn spans() {
        assert_eq!("500ms".parse::<Span>().unwrap().as_millis(), 500);
        assert_eq!("12h".parse::<Span>().unwrap().as_millis(), 12 * 3600 * 1000);
        assert!("12 parsecs".parse::<Span>().is_err());
    }
}
