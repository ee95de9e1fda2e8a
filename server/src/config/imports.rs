//! `[[imports]]`: how a system's access log (アクセスログ) in CSV maps onto logins
//! (CONTRACT §7), for `monban import logins --system ID FILE` (`crate::import`).
//!
//! ```toml
//! [[imports]]
//! system = "ehr"
//! encoding = "shift_jis"          # or "utf-8" (default)
//! delimiter = ","                 # one character; default ","
//! header = true                   # the first row names the columns (default)
//! time = { column = "日時", format = "%Y/%m/%d %H:%M:%S", offset = "+09:00" }
//! account = { column = "利用者ID" }
//! terminal = { column = "端末名" }
//! outcome = { column = "結果", map = { "成功" = "success", "失敗" = "failure" } }
//! factors = ["password"]          # a constant: every row logged in with a password
//! event_id = { column = "ログ番号" }  # omit: derived from a hash of the row's fields
//! ```
//!
//! Each of `account`, `terminal`, `outcome` and `factors` is either a constant (a string;
//! for `factors` a list of factor names) or a column: `{ column = "name" }` names a
//! header, `{ column = 3 }` the third field (1-based, for files without a header). A
//! column may have a `map` from the log's words to the contract's (`outcome`: `success`
//! or `failure`; `factors`: a factor name), and `factors` a `separator` (default `+`)
//! between the factors of one field. `time` is always a column; its `format` is
//! `rfc3339` (the default; a time without an offset takes `offset`) or a strftime
//! pattern, and `offset` (default `[site] timezone`) applies to times written without
//! one. Every problem names its line of the file, like every other configuration error.

use super::notify::Report;
use monban_core::{Factor, Outcome, SiteOffset, SystemId};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Where a value is read in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The column with this header.
    Name(String),
    /// The n-th field (1-based).
    Position(usize),
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Name(n) => write!(f, "{n}"),
            Column::Position(p) => write!(f, "#{p}"),
        }
    }
}

/// A text value: a constant or a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextField {
    Const(String),
    Column(Column),
}

/// The outcome: a constant, or a column with a map of the log's words (the contract's
/// `success`/`failure` are taken as they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeField {
    Const(Outcome),
    Column {
        column: Column,
        map: BTreeMap<String, Outcome>,
    },
}

/// The factors: constants, or a column of factors joined by `separator`, each one mapped
/// (a factor name of CONTRACT §2 is taken as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorsField {
    Const(Vec<Factor>),
    Column {
        column: Column,
        separator: String,
        map: BTreeMap<String, Factor>,
    },
}

/// How times are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// RFC 3339; without an offset, the import's `offset`.
    Rfc3339,
    /// A strftime pattern (chrono); with `%z`/`%:z` the time carries its offset,
    /// otherwise it takes the import's `offset`.
    Pattern(String),
}

/// The file's character encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Shift_JIS (Windows-31J): what many Japanese systems still write.
    ShiftJis,
}

/// One `[[imports]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSpec {
    pub system: SystemId,
    /// The line of the table in the file, for messages.
    pub line: usize,
    pub encoding: Encoding,
    pub delimiter: u8,
    pub header: bool,
    pub time: Column,
    pub time_format: TimeFormat,
    pub offset: SiteOffset,
    pub account: TextField,
    pub terminal: TextField,
    pub outcome: OutcomeField,
    pub factors: FactorsField,
    /// `None`: the id is derived from a hash of the row's fields (`crate::import`).
    pub event_id: Option<Column>,
}

impl ImportSpec {
    /// Every column the spec reads, with the key that names it.
    pub fn columns(&self) -> Vec<(&'static str, &Column)> {
        let mut out = vec![("time", &self.time)];
        if let TextField::Column(c) = &self.account {
            out.push(("account", c));
        }
        if let TextField::Column(c) = &self.terminal {
            out.push(("terminal", c));
        }
        if let OutcomeField::Column { column, .. } = &self.outcome {
            out.push(("outcome", column));
        }
        if let FactorsField::Column { column, .. } = &self.factors {
            out.push(("factors", column));
        }
        if let Some(c) = &self.event_id {
            out.push(("event_id", c));
        }
        out
    }
}

const KEYS: [&str; 10] = [
    "system",
    "encoding",
    "delimiter",
    "header",
    "time",
    "account",
    "terminal",
    "outcome",
    "factors",
    "event_id",
];

/// Parses every `[[imports]]` table; problems go to `cx` with their line. `systems` are
/// the inventory's system ids; `site_offset` is `[site] timezone`.
pub(super) fn parse(
    cx: &mut impl Report,
    raw: &[Spanned<toml::Table>],
    systems: &[String],
    site_offset: SiteOffset,
) -> Vec<ImportSpec> {
    let mut out: Vec<ImportSpec> = Vec::new();
    for t in raw {
        let span = t.span();
        let table = t.get_ref();
        if let Some(spec) = parse_one(cx, span.clone(), table, systems, site_offset) {
            if out.iter().any(|s| s.system == spec.system) {
                cx.err_key(
                    span,
                    "system",
                    format!(
                        "[[imports]] for system {:?} is given twice: keep one table per system",
                        spec.system.as_str()
                    ),
                );
                continue;
            }
            out.push(spec);
        }
    }
    out
}

fn parse_one(
    cx: &mut impl Report,
    span: Range<usize>,
    t: &toml::Table,
    systems: &[String],
    site_offset: SiteOffset,
) -> Option<ImportSpec> {
    let mut ok = true;
    for k in t.keys() {
        if !KEYS.contains(&k.as_str()) {
            cx.err_key(
                span.clone(),
                k,
                format!(
                    "[[imports]] has no key {k:?}; the keys are {}",
                    KEYS.join(", ")
                ),
            );
            ok = false;
        }
    }
    let system = match t.get("system") {
        Some(toml::Value::String(s)) if systems.iter().any(|x| x == s) => SystemId::parse(s).ok(),
        Some(toml::Value::String(s)) => {
            cx.err_key(
                span.clone(),
                "system",
                format!("[[imports]] names system {s:?}, which is not in [[systems]]"),
            );
            None
        }
        Some(_) => {
            cx.err_key(
                span.clone(),
                "system",
                "[[imports]] system must be a system id",
            );
            None
        }
        None => {
            cx.err(span.clone(), "[[imports]] needs system = \"ID\"");
            None
        }
    };
    let line = cx.line_of_key(span.clone(), "system");
    let mut problems: Vec<(&'static str, String)> = Vec::new();

    let encoding = match t.get("encoding") {
        None => Encoding::Utf8,
        Some(toml::Value::String(s)) => {
            match s.to_ascii_lowercase().replace('_', "-").as_str() {
                "utf-8" | "utf8" => Encoding::Utf8,
                "shift-jis" | "sjis" | "cp932" | "windows-31j" => Encoding::ShiftJis,
                _ => {
                    problems.push((
                    "encoding",
                    format!("[[imports]] encoding {s:?} is not known: use \"utf-8\" or \"shift_jis\""),
                ));
                    Encoding::Utf8
                }
            }
        }
        Some(_) => {
            problems.push(("encoding", "[[imports]] encoding must be a string".into()));
            Encoding::Utf8
        }
    };
    let delimiter = match t.get("delimiter") {
        None => b',',
        Some(toml::Value::String(s)) if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
        Some(_) => {
            problems.push((
                "delimiter",
                "[[imports]] delimiter must be one ASCII character, such as \",\" or \"\\t\""
                    .into(),
            ));
            b','
        }
    };
    let header = match t.get("header") {
        None => true,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => {
            problems.push(("header", "[[imports]] header must be true or false".into()));
            true
        }
    };

    // time = { column, format, offset }
    let mut time = None;
    let mut time_format = TimeFormat::Rfc3339;
    let mut offset = site_offset;
    match t.get("time") {
        Some(toml::Value::Table(tt)) => {
            for k in tt.keys() {
                if !["column", "format", "offset"].contains(&k.as_str()) {
                    problems.push((
                        "time",
                        format!("[[imports]] time has no key {k:?}; use column, format, offset"),
                    ));
                }
            }
            time = column_of(tt, "time", &mut problems);
            match tt.get("format") {
                None => {}
                Some(toml::Value::String(f)) if f.eq_ignore_ascii_case("rfc3339") => {}
                Some(toml::Value::String(f)) if f.contains('%') => {
                    time_format = TimeFormat::Pattern(f.clone());
                }
                Some(_) => problems.push((
                    "time",
                    "[[imports]] time format must be \"rfc3339\" or a strftime pattern such as \"%Y/%m/%d %H:%M:%S\"".into(),
                )),
            }
            match tt.get("offset") {
                None => {}
                Some(toml::Value::String(o)) => match SiteOffset::parse(o) {
                    Ok(o) => offset = o,
                    Err(e) => problems.push(("time", format!("[[imports]] time offset: {e}"))),
                },
                Some(_) => problems.push((
                    "time",
                    "[[imports]] time offset must be a UTC offset such as \"+09:00\"".into(),
                )),
            }
        }
        Some(_) => problems.push((
            "time",
            "[[imports]] time must name its column: time = { column = \"日時\", format = \"%Y/%m/%d %H:%M:%S\" }".into(),
        )),
        None => problems.push((
            "system",
            "[[imports]] needs time = { column = \"…\" }: the column of the login's time".into(),
        )),
    };

    let account = text_field(t, "account", &mut problems);
    let terminal = text_field(t, "terminal", &mut problems);
    let outcome = outcome_field(t, &mut problems);
    let factors = factors_field(t, &mut problems);
    let event_id = match t.get("event_id") {
        None => None,
        Some(toml::Value::Table(tt)) => column_of(tt, "event_id", &mut problems),
        Some(_) => {
            problems.push((
                "event_id",
                "[[imports]] event_id must name a column: event_id = { column = \"…\" } (omit it to derive ids from the rows)".into(),
            ));
            None
        }
    };
    for (key, message) in problems {
        cx.err_key(span.clone(), key, message);
        ok = false;
    }
    let (Some(system), Some(time), Some(account), Some(terminal), Some(outcome), Some(factors)) =
        (system, time, account, terminal, outcome, factors)
    else {
        return None;
    };
    if !ok {
        return None;
    }
    Some(ImportSpec {
        system,
        line,
        encoding,
        delimiter,
        header,
        time,
        time_format,
        offset,
        account,
        terminal,
        outcome,
        factors,
        event_id,
    })
}

/// `column = "name"` or `column = n` of the table of `key`.
fn column_of(
    t: &toml::Table,
    key: &'static str,
    problems: &mut Vec<(&'static str, String)>,
) -> Option<Column> {
    match t.get("column") {
        Some(toml::Value::String(s)) if !s.is_empty() => Some(Column::Name(s.clone())),
        Some(toml::Value::Integer(n)) if *n >= 1 => usize::try_from(*n).ok().map(Column::Position),
        _ => {
            problems.push((
                key,
                format!("[[imports]] {key} needs column = \"header\" (or a field number from 1)"),
            ));
            None
        }
    }
}

fn text_field(
    t: &toml::Table,
    key: &'static str,
    problems: &mut Vec<(&'static str, String)>,
) -> Option<TextField> {
    match t.get(key) {
        Some(toml::Value::String(s)) => Some(TextField::Const(s.clone())),
        Some(toml::Value::Table(tt)) => column_of(tt, key, problems).map(TextField::Column),
        Some(_) => {
            problems.push((
                key,
                format!("[[imports]] {key} must be a constant string or {{ column = \"…\" }}"),
            ));
            None
        }
        None => {
            problems.push((
                "system",
                format!("[[imports]] needs {key}: {key} = {{ column = \"…\" }} or a constant"),
            ));
            None
        }
    }
}

fn outcome_field(
    t: &toml::Table,
    problems: &mut Vec<(&'static str, String)>,
) -> Option<OutcomeField> {
    let parse = |s: &str| s.parse::<Outcome>();
    match t.get("outcome") {
        Some(toml::Value::String(s)) => match parse(s) {
            Ok(o) => Some(OutcomeField::Const(o)),
            Err(e) => {
                problems.push(("outcome", format!("[[imports]] outcome: {e}")));
                None
            }
        },
        Some(toml::Value::Table(tt)) => {
            let column = column_of(tt, "outcome", problems)?;
            let mut map = BTreeMap::new();
            for (word, to) in map_of(tt, "outcome", problems) {
                match parse(&to) {
                    Ok(o) => {
                        map.insert(word, o);
                    }
                    Err(e) => {
                        problems.push(("outcome", format!("[[imports]] outcome map {word:?}: {e}")))
                    }
                }
            }
            Some(OutcomeField::Column { column, map })
        }
        Some(_) => {
            problems.push((
                "outcome",
                "[[imports]] outcome must be \"success\", \"failure\" or { column = \"…\", map = { … } }".into(),
            ));
            None
        }
        None => {
            problems.push((
                "system",
                "[[imports]] needs outcome: a column (outcome = { column = \"…\" }) or a constant (outcome = \"success\")".into(),
            ));
            None
        }
    }
}

fn factors_field(
    t: &toml::Table,
    problems: &mut Vec<(&'static str, String)>,
) -> Option<FactorsField> {
    match t.get("factors") {
        Some(toml::Value::Array(a)) => {
            let mut out = Vec::new();
            for v in a {
                match v.as_str().map(str::parse::<Factor>) {
                    Some(Ok(f)) => {
                        if !out.contains(&f) {
                            out.push(f)
                        }
                    }
                    Some(Err(e)) => problems.push(("factors", format!("[[imports]] factors: {e}"))),
                    None => problems.push((
                        "factors",
                        "[[imports]] factors must list factor names, e.g. [\"password\"]".into(),
                    )),
                }
            }
            if out.is_empty() {
                problems.push((
                    "factors",
                    "[[imports]] factors must name at least one factor".into(),
                ));
                return None;
            }
            Some(FactorsField::Const(out))
        }
        Some(toml::Value::Table(tt)) => {
            let column = column_of(tt, "factors", problems)?;
            let separator = match tt.get("separator") {
                None => "+".to_string(),
                Some(toml::Value::String(s)) if !s.is_empty() => s.clone(),
                Some(_) => {
                    problems.push((
                        "factors",
                        "[[imports]] factors separator must be a non-empty string".into(),
                    ));
                    "+".to_string()
                }
            };
            let mut map = BTreeMap::new();
            for (word, to) in map_of(tt, "factors", problems) {
                match to.parse::<Factor>() {
                    Ok(f) => {
                        map.insert(word, f);
                    }
                    Err(e) => {
                        problems.push(("factors", format!("[[imports]] factors map {word:?}: {e}")))
                    }
                }
            }
            Some(FactorsField::Column {
                column,
                separator,
                map,
            })
        }
        Some(_) => {
            problems.push((
                "factors",
                "[[imports]] factors must be a list such as [\"password\"] or { column = \"…\" }"
                    .into(),
            ));
            None
        }
        None => {
            problems.push((
                "system",
                "[[imports]] needs factors: a column (factors = { column = \"…\" }) or constants (factors = [\"password\"])".into(),
            ));
            None
        }
    }
}

/// The `map = { word = "value" }` of a column's table (strings only).
fn map_of(
    t: &toml::Table,
    key: &'static str,
    problems: &mut Vec<(&'static str, String)>,
) -> Vec<(String, String)> {
    for k in t.keys() {
        if !["column", "map", "separator"].contains(&k.as_str())
            || (k == "separator" && key != "factors")
        {
            problems.push((key, format!("[[imports]] {key} has no key {k:?}")));
        }
    }
    match t.get("map") {
        None => Vec::new(),
        Some(toml::Value::Table(m)) => {
            let mut out = Vec::new();
            for (word, v) in m {
                match v.as_str() {
                    Some(s) => out.push((word.clone(), s.to_string())),
                    None => problems.push((
                        key,
                        format!("[[imports]] {key} map {word:?} must map to a string"),
                    )),
                }
            }
            out
        }
        Some(_) => {
            problems.push((
                key,
                format!(
                    "[[imports]] {key} map must be a table such as {{ \"成功\" = \"success\" }}"
                ),
            ));
            Vec::new()
        }
    }
}
