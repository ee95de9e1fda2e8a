//! The small parsers every preset shares: times, UTC offsets, credential ids, payload
//! hashes, case-insensitive JSON keys, and the *value specs* of the generic mapping (a
//! JSON pointer, a template, a literal, optionally through a map).

use super::Refusal;
use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use monban_core::{Credential, CredentialType, Timestamp};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// 2000-01-01T00:00:00Z. A device time before it is a clock that was never set (an
/// esp-rfid without NTP counts seconds since boot): the arrival time is used instead.
const Y2K_MS: i64 = 946_684_800_000;
/// Numbers above this are milliseconds, below it seconds (10^11 s is the year 5138).
const MILLIS_ABOVE: i64 = 100_000_000_000;
/// 9999-12-31T23:59:59.999Z: later times are refused rather than overflowing.
const LAST_MS: i64 = 253_402_300_799_999;

/// Japan: the default `utc_offset`.
pub(crate) const DEFAULT_OFFSET: &str = "+09:00";

/// Longest value quoted back in a refusal.
const CLIP: usize = 80;

/// A value quoted in a message, cut to a readable length.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() <= CLIP {
        s.to_string()
    } else {
        let head: String = s.chars().take(CLIP).collect();
        format!("{head}…")
    }
}

/// Parses a `utc_offset` such as `"+09:00"` (also `"+0900"`, `"Z"`, `"UTC"`).
pub(crate) fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0).ok_or_else(|| "UTC".to_string());
    }
    t.parse::<FixedOffset>().map_err(|_| {
        format!("{s:?} is not a UTC offset; write it like \"+09:00\" (Japan) or \"+00:00\"")
    })
}

/// Parses a device time: Unix seconds (milliseconds above 10^11), RFC 3339, or local
/// `YYYY-MM-DD HH:MM:SS` (a `T` instead of the space, fractions of a second and a
/// trailing zone abbreviation such as `JST` are accepted; the abbreviation is ignored
/// and `offset` applies). A time before 2000 gives `arrived`.
pub(crate) fn parse_time(
    text: &str,
    offset: FixedOffset,
    arrived: Timestamp,
) -> Result<Timestamp, String> {
    let t = text.trim();
    let ms = if let Ok(n) = t.parse::<i64>() {
        if n > MILLIS_ABOVE {
            Some(n)
        } else {
            n.checked_mul(1000)
        }
    } else if let Some(f) = t.parse::<f64>().ok().filter(|f| f.is_finite()) {
        let ms = if f.abs() > MILLIS_ABOVE as f64 {
            f
        } else {
            f * 1000.0
        };
        // `as` saturates; the range check below refuses what saturated.
        Some(ms.round() as i64)
    } else if let Ok(ts) = Timestamp::parse_rfc3339(t) {
        Some(ts.as_millis())
    } else {
        Some(local_time(t, offset).ok_or_else(|| {
            format!(
                "{:?} is not a time; expected Unix seconds, RFC 3339 or \"YYYY-MM-DD HH:MM:SS\"",
                clip(text)
            )
        })?)
    };
    match ms {
        Some(ms) if ms > LAST_MS => Err(format!("{:?} is too far in the future", clip(text))),
        Some(ms) if ms < Y2K_MS => Ok(arrived),
        Some(ms) => Ok(Timestamp::from_millis(ms)),
        None => Err(format!("{:?} is out of range", clip(text))),
    }
}

fn local_time(t: &str, offset: FixedOffset) -> Option<i64> {
    let format = if t.as_bytes().get(10) == Some(&b'T') {
        "%Y-%m-%dT%H:%M:%S%.f"
    } else {
        "%Y-%m-%d %H:%M:%S%.f"
    };
    let (naive, rest) = NaiveDateTime::parse_and_remainder(t, format).ok()?;
    let zone = rest.trim();
    if zone.len() > 6 || !zone.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp_millis())
}

/// A credential with its id normalised: trimmed, spaces and colons removed, upper-cased
/// (`"0c:0c 0c:0c"` → `0C0C0C0C`).
pub(crate) fn credential(kind: CredentialType, raw: &str) -> Result<Credential, Refusal> {
    let id: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect::<String>()
        .to_uppercase();
    Credential::new(kind, &id)
        .map_err(|m| Refusal::Invalid(format!("credential id {:?}: {m}", clip(raw))))
}

/// The first 8 hex digits of the SHA-256 of `parts` (each followed by a 0 byte).
pub(crate) fn hash8(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    let digest = h.finalize();
    hex::encode(digest.get(..4).unwrap_or_default())
}

/// `obj[key]`, the key matched without regard to ASCII case (an exact match first).
pub(crate) fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A scalar as text: strings as they are, numbers and booleans written out. `None` for
/// null, objects and arrays.
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A boolean that devices write as `true`, `"true"`, `1` or `"1"` (any case).
pub(crate) fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The payload as UTF-8 text, trimmed.
pub(crate) fn text(payload: &[u8]) -> Result<&str, Refusal> {
    std::str::from_utf8(payload)
        .map(str::trim)
        .map_err(|_| Refusal::NotText)
}

/// The payload as a JSON object.
pub(crate) fn json_object(payload: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(Refusal::NotJson(format!(
            "expected a JSON object, got {}",
            kind_of(&other)
        ))),
        Err(e) => Err(Refusal::NotJson(e.to_string())),
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ------------------------------------------------------------------ value specs

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// Written as is.
    Literal(String),
    /// `/a/b`: a JSON pointer (RFC 6901) into the payload.
    Pointer(String),
    /// Text with `{capture}`, `{/pointer}` and `{payload}` pieces.
    Template(Vec<Piece>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Capture(String),
    Pointer(String),
    Payload,
}

/// What a value spec is evaluated against.
pub(crate) struct Input<'a> {
    /// Topic captures by name.
    pub captures: &'a [(String, String)],
    pub payload: &'a [u8],
    /// The payload parsed as JSON, or why it is not JSON.
    pub json: &'a Result<Value, String>,
}

impl Expr {
    /// Parses a spec string. `captures` are the names the topic pattern captures.
    pub(crate) fn parse(s: &str, captures: &[String]) -> Result<Expr, String> {
        if s.starts_with('/') {
            check_pointer(s)?;
            return Ok(Expr::Pointer(s.to_string()));
        }
        if !s.contains('{') {
            if s.contains('}') {
                return Err(format!("{s:?} has a }} without a {{"));
            }
            return Ok(Expr::Literal(s.to_string()));
        }
        let mut pieces = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            if before.contains('}') {
                return Err(format!("{s:?} has a }} without a {{"));
            }
            if !before.is_empty() {
                pieces.push(Piece::Text(before.to_string()));
            }
            let inner_and_rest = after.get(1..).unwrap_or_default();
            let close = inner_and_rest
                .find('}')
                .ok_or_else(|| format!("{s:?} has a {{ without a }}"))?;
            let (inner, tail) = inner_and_rest.split_at(close);
            if inner.contains('{') {
                return Err(format!("{s:?} has a {{ inside {{…}}"));
            }
            pieces.push(if inner == "payload" {
                Piece::Payload
            } else if inner.starts_with('/') {
                check_pointer(inner)?;
                Piece::Pointer(inner.to_string())
            } else if captures.iter().any(|c| c == inner) {
                Piece::Capture(inner.to_string())
            } else if captures.is_empty() {
                return Err(format!(
                    "{s:?} uses {{{inner}}}, but the topic captures nothing; write the topic like \"acme/{{{inner}}}/event\", or use {{/pointer}} or {{payload}}"
                ));
            } else {
                return Err(format!(
                    "{s:?} uses {{{inner}}}, but the topic only captures {}",
                    captures
                        .iter()
                        .map(|c| format!("{{{c}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            });
            rest = tail.get(1..).unwrap_or_default();
        }
        if rest.contains('}') {
            return Err(format!("{s:?} has a }} without a {{"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Expr::Template(pieces))
    }

    pub(crate) fn uses_json(&self) -> bool {
        match self {
            Expr::Literal(_) => false,
            Expr::Pointer(_) => true,
            Expr::Template(p) => p.iter().any(|p| matches!(p, Piece::Pointer(_))),
        }
    }

    /// The value, or `None` when a pointer finds nothing (or null).
    fn eval(&self, input: &Input<'_>) -> Result<Option<String>, Refusal> {
        match self {
            Expr::Literal(s) => Ok(Some(s.clone())),
            Expr::Pointer(p) => pointer(input, p),
            Expr::Template(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Capture(name) => {
                            let value = input
                                .captures
                                .iter()
                                .find(|(n, _)| n == name)
                                .map(|(_, v)| v.as_str())
                                .ok_or_else(|| {
                                    Refusal::Missing(format!("topic level {{{name}}}"))
                                })?;
                            out.push_str(value);
                        }
                        Piece::Pointer(p) => match pointer(input, p)? {
                            Some(v) => out.push_str(&v),
                            None => return Ok(None),
                        },
                        Piece::Payload => out.push_str(text(input.payload)?),
                    }
                }
                Ok(Some(out))
            }
        }
    }
}

fn pointer(input: &Input<'_>, p: &str) -> Result<Option<String>, Refusal> {
    let json = input
        .json
        .as_ref()
        .map_err(|e| Refusal::NotJson(e.clone()))?;
    match json.pointer(p) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Err(Refusal::Invalid(format!(
            "{p} is {}, not a single value",
            kind_of(v)
        ))),
        Some(v) => Ok(text_of(v)),
    }
}

fn check_pointer(p: &str) -> Result<(), String> {
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "{p:?} is not a JSON pointer: ~ must be written ~0, and / inside a key ~1"
            ));
        }
    }
    Ok(())
}

/// A `map = { from = "to", "*" = fallback }`: keys compared trimmed and without regard
/// to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueMap {
    /// By lower-cased key: (the key as written, the target).
    entries: BTreeMap<String, (String, String)>,
    fallback: Option<String>,
}

impl ValueMap {
    pub(crate) fn new(raw: &BTreeMap<String, String>) -> Result<ValueMap, String> {
        let mut entries = BTreeMap::new();
        let mut fallback = None;
        for (from, to) in raw {
            if from == "*" {
                fallback = Some(to.clone());
                continue;
            }
            let key = from.trim().to_lowercase();
            if let Some((other, _)) = entries.insert(key, (from.clone(), to.clone())) {
                return Err(format!(
                    "keys {other:?} and {from:?} are the same (keys are compared without regard to case and spaces)"
                ));
            }
        }
        Ok(ValueMap { entries, fallback })
    }

    fn lookup(&self, value: &str) -> Option<&str> {
        self.entries
            .get(&value.trim().to_lowercase())
            .map(|(_, to)| to.as_str())
            .or(self.fallback.as_deref())
    }

    fn keys(&self) -> String {
        self.entries
            .values()
            .map(|(from, _)| format!("{from:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn targets(&self) -> impl Iterator<Item = &str> {
        self.entries
            .values()
            .map(|(_, to)| to.as_str())
            .chain(self.fallback.as_deref())
    }
}

/// A compiled value spec: where the value comes from, an optional map, and a default
/// for when the payload does not have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub expr: Expr,
    pub map: Option<ValueMap>,
    pub default: Option<String>,
}

impl Spec {
    pub(crate) fn literal(s: &str) -> Spec {
        Spec {
            expr: Expr::Literal(s.to_string()),
            map: None,
            default: None,
        }
    }

    /// The value (after the map), the default when the payload does not have it, or
    /// `None`. `what` names the key in a refusal.
    pub(crate) fn eval(&self, input: &Input<'_>, what: &str) -> Result<Option<String>, Refusal> {
        let Some(value) = self.expr.eval(input)? else {
            return Ok(self.default.clone());
        };
        match &self.map {
            None => Ok(Some(value)),
            Some(map) => match map.lookup(&value) {
                Some(to) => Ok(Some(to.to_string())),
                None => Err(Refusal::unexpected(
                    format!("{what} value"),
                    &value,
                    format!("{} (the map of {what})", map.keys()),
                )),
            },
        }
    }

    /// Every value this spec can produce that is known now (map targets, default, a
    /// literal), for checking them at start-up.
    pub(crate) fn known_outputs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = match (&self.map, &self.expr) {
            (Some(map), _) => map.targets().collect(),
            (None, Expr::Literal(s)) => vec![s.as_str()],
            (None, _) => Vec::new(),
        };
        out.extend(self.default.as_deref());
        out
    }

    /// Whether every value it produces is known now.
    pub(crate) fn is_fixed(&self) -> bool {
        matches!(self.expr, Expr::Literal(_))
    }

    pub(crate) fn uses_json(&self) -> bool {
        self.expr.uses_json()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn jst() -> FixedOffset {
        parse_offset("+09:00").unwrap()
    }
    fn arrived() -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000)
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+09:00").unwrap().local_minus_utc(), 9 * 3600);
        assert_eq!(parse_offset("+0900").unwrap().local_minus_utc(), 9 * 3600);
        assert_eq!(
            parse_offset("-05:30").unwrap().local_minus_utc(),
            -(5 * 3600 + 1800)
        );
        assert_eq!(parse_offset("Z").unwrap().local_minus_utc(), 0);
        assert_eq!(parse_offset("utc").unwrap().local_minus_utc(), 0);
        for bad in ["JST", "9", "", "+25:00", "Asia/Tokyo"] {
            assert!(parse_offset(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times() {
        let utc = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        let cases: &[(&str, Timestamp)] = &[
            ("1700000000", utc("2023-11-14T22:13:20Z")),
            ("1700000000000", utc("2023-11-14T22:13:20Z")),
            ("1700000000.5", utc("2023-11-14T22:13:20.500Z")),
            ("2026-11-21T09:00:00+09:00", utc("2026-11-21T00:00:00Z")),
            ("2026-11-21 09:00:00", utc("2026-11-21T00:00:00Z")),
            ("2026-11-21 09:00:00 JST", utc("2026-11-21T00:00:00Z")),
            (" 2026-11-21T09:00:00.250 ", utc("2026-11-21T00:00:00.250Z")),
            ("2026-11-21 9:00:00", utc("2026-11-21T00:00:00Z")),
            // A clock that was never set: seconds since boot.
            ("12345", arrived()),
            ("-5", arrived()),
            ("1999-12-31 23:59:59", arrived()),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_time(text, jst(), arrived()).unwrap(),
                *want,
                "{text:?}"
            );
        }
        for bad in [
            "",
            "noon",
            "2026-11-21",
            "2026-11-21 25:00:00",
            "2026-11-21 09:00:00 +09:00 x",
            "2026-11-21 09:00:00 Asia/Tokyo",
            "99999999999999999999",
            "9223372036854775807",
            "1e300",
            "NaN",
            "inf",
        ] {
            assert!(parse_time(bad, jst(), arrived()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_are_normalised() {
        let c = credential(CredentialType::Card, " 0c:0c 0c:0c\n").unwrap();
        assert_eq!(c.to_string(), "card:0C0C0C0C");
        assert!(credential(CredentialType::Card, " : ").is_err());
        assert!(credential(CredentialType::Card, &"a".repeat(200)).is_err());
    }

    #[test]
    fn hashes_are_stable_and_short() {
        assert_eq!(hash8(&[b"x"]), hash8(&[b"x"]));
        assert_ne!(hash8(&[b"ab", b"c"]), hash8(&[b"a", b"bc"]));
        assert_eq!(hash8(&[b"x"]).len(), 8);
    }

    #[test]
    fn case_insensitive_keys() {
        let Value::Object(m) = serde_json::json!({"isKnown": "true", "UID": "1"}) else {
            panic!()
        };
        assert_eq!(get_ci(&m, "isknown"), Some(&Value::from("true")));
        assert_eq!(get_ci(&m, "ISKNOWN"), Some(&Value::from("true")));
        assert_eq!(get_ci(&m, "uid"), Some(&Value::from("1")));
        assert_eq!(get_ci(&m, "door"), None);
    }

    fn caps() -> Vec<String> {
        vec!["controller".into(), "reader".into()]
    }

    #[test]
    fn spec_strings() {
        assert_eq!(
            Expr::parse("/a/b", &caps()),
            Ok(Expr::Pointer("/a/b".into()))
        );
        assert_eq!(
            Expr::parse("card", &caps()),
            Ok(Expr::Literal("card".into()))
        );
        assert_eq!(
            Expr::parse("{controller}-{reader}", &caps()),
            Ok(Expr::Template(vec![
                Piece::Capture("controller".into()),
                Piece::Text("-".into()),
                Piece::Capture("reader".into())
            ]))
        );
        assert_eq!(
            Expr::parse("x{/id}y{payload}", &[]),
            Ok(Expr::Template(vec![
                Piece::Text("x".into()),
                Piece::Pointer("/id".into()),
                Piece::Text("y".into()),
                Piece::Payload
            ]))
        );
        for bad in [
            "{door}",
            "{controller",
            "controller}",
            "a}{b",
            "{a{b}}",
            "/a~2",
            "{/a~}",
        ] {
            assert!(Expr::parse(bad, &caps()).is_err(), "{bad:?}");
        }
        let e = Expr::parse("{door}", &caps()).unwrap_err();
        assert!(e.contains("only captures {controller}, {reader}"), "{e}");
        let e = Expr::parse("{door}", &[]).unwrap_err();
        assert!(e.contains("captures nothing"), "{e}");
    }

    #[test]
    fn spec_evaluation() {
        let captures = vec![("controller".to_string(), "c1".to_string())];
        let payload = br#"{"id": 7, "ok": true, "o": {"x": 1}, "n": null, "s": " ON "}"#;
        let json = serde_json::from_slice(payload).map_err(|e: serde_json::Error| e.to_string());
        let input = Input {
            captures: &captures,
            payload,
            json: &json,
        };
        let eval = |s: &str| {
            Expr::parse(s, &["controller".to_string()])
                .unwrap()
                .eval(&input)
        };
        assert_eq!(eval("/id"), Ok(Some("7".into())));
        assert_eq!(eval("/ok"), Ok(Some("true".into())));
        assert_eq!(eval("/n"), Ok(None));
        assert_eq!(eval("/missing"), Ok(None));
        assert_eq!(eval("{controller}-{/id}"), Ok(Some("c1-7".into())));
        assert_eq!(eval("{controller}-{/missing}"), Ok(None));
        assert_eq!(eval("/o").unwrap_err().code(), "invalid_value");

        let raw: BTreeMap<String, String> = [("ON", "door_opened"), ("off", "door_closed")]
            .map(|(a, b)| (a.into(), b.into()))
            .into();
        let spec = Spec {
            expr: Expr::Pointer("/s".into()),
            map: Some(ValueMap::new(&raw).unwrap()),
            default: None,
        };
        assert_eq!(spec.eval(&input, "kind"), Ok(Some("door_opened".into())));
        let spec = Spec {
            expr: Expr::Literal("maybe".into()),
            ..spec
        };
        let e = spec.eval(&input, "kind").unwrap_err();
        assert_eq!(e.code(), "unexpected_value");
        assert!(e.to_string().contains("\"off\", \"ON\""), "{e}");
        let spec = Spec {
            expr: Expr::Pointer("/missing".into()),
            default: Some("tamper".into()),
            ..spec
        };
        assert_eq!(spec.eval(&input, "kind"), Ok(Some("tamper".into())));

        let not_json: Result<Value, String> = Err("expected value".into());
        let input = Input {
            captures: &captures,
            payload: b"ON",
            json: &not_json,
        };
        assert_eq!(
            Expr::parse("/x", &[])
                .unwrap()
                .eval(&input)
                .unwrap_err()
                .code(),
            "not_json"
        );
        assert_eq!(
            Expr::parse("{payload}", &[]).unwrap().eval(&input),
            Ok(Some("ON".into()))
        );
        let bad = Input {
            captures: &captures,
            payload: &[0xff],
            json: &not_json,
        };
        assert_eq!(
            Expr::parse("{payload}", &[])
                .unwrap()
                .eval(&bad)
                .unwrap_err(),
            Refusal::NotText
        );
    }

    #[test]
    fn maps_refuse_ambiguous_keys() {
        let raw: BTreeMap<String, String> = [("on", "a"), ("ON ", "b")]
            .map(|(a, b)| (a.into(), b.into()))
            .into();
        assert!(ValueMap::new(&raw).is_err());
    }
}
