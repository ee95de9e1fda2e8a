//! `monban import logins --system ID FILE`: a system's access log (アクセスログ) in CSV,
//! mapped by its `[[imports]]` table (`crate::config::imports`), stored as logins
//! through the writer — the path of `POST /api/v1/logins` — so that verdicts, flags and
//! rollups are the same as if the system had sent each login itself.
//!
//! Two passes over the file. [`check`] reads every row and collects every bad one
//! (`FILE:line: column "x": reason`); if there is any, nothing is stored. [`run`] then
//! reads the file again and sends its logins to the writer in batches (one command per
//! batch, the next one built while the writer commits the last). Nothing of the file is
//! held in memory beyond a batch, so a log of millions of rows imports in bounded memory.
//!
//! Each row becomes one login with a stable `event_id`: the log's own id column, or
//! `import:<system>:<time>:<hash>` of the row's fields (its UTC time, then SHA-256 of the
//! system and every field, whatever its line), so importing the same file — or an overlapping export — again
//! stores nothing twice: such rows count as "already stored", like a `200` of the API.
//! Two rows that are identical field by field are one login.
//!
//! The mapping of a row ([`Mapper`]) is pure and tested here; reading the file, the
//! writer and the progress bar are the edges.

pub mod hub;
pub mod record;

use crate::config::imports::{
    Column, Encoding, FactorsField, ImportSpec, OutcomeField, TextField, TimeFormat,
};
use crate::ingest::{Ingest, IngestError};
use crate::store::StoredLogin;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use csv::ByteRecord;
use monban_core::text::{Text, ACCOUNT, TERMINAL};
use monban_core::{Factor, Login, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// How many bad rows are kept for the report (the count is always exact).
pub const MAX_REPORTED: usize = 1000;

/// A bad row, or a problem of the file as a whole (`line` 0: no line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The column (as `[[imports]]` names it), when one field is at fault.
    pub column: Option<String>,
    pub reason: String,
}

impl RowError {
    /// `FILE:line: column "x": reason`.
    pub fn render(&self, file: &str) -> String {
        let at = if self.line == 0 {
            file.to_string()
        } else {
            format!("{file}:{}", self.line)
        };
        match &self.column {
            Some(c) => format!("{at}: column {c:?}: {}", self.reason),
            None => format!("{at}: {}", self.reason),
        }
    }
}

fn file_error(reason: impl Into<String>) -> RowError {
    RowError {
        line: 0,
        column: None,
        reason: reason.into(),
    }
}

/// The field index of each column the spec reads, resolved against the header.
#[derive(Debug, Clone)]
pub struct Mapper<'a> {
    spec: &'a ImportSpec,
    index: BTreeMap<String, usize>,
}

impl<'a> Mapper<'a> {
    /// Resolves the spec's columns against `header` (the file's first row, when the spec
    /// says the file has one). A named column missing from the header is an error of
    /// line 1.
    pub fn new(
        spec: &'a ImportSpec,
        header: Option<&[String]>,
    ) -> Result<Mapper<'a>, Vec<RowError>> {
        let mut index = BTreeMap::new();
        let mut errors = Vec::new();
        for (_, column) in spec.columns() {
            let key = column.to_string();
            match column {
                Column::Position(n) => {
                    index.insert(key, n - 1);
                }
                Column::Name(name) => match header {
                    None => errors.push(RowError {
                        line: 1,
                        column: Some(name.clone()),
                        reason: "[[imports]] names this column, but header = false: name columns by number (column = 1)".into(),
                    }),
                    Some(h) => match h.iter().position(|c| c.trim() == name) {
                        Some(i) => {
                            index.insert(key, i);
                        }
                        None => errors.push(RowError {
                            line: 1,
                            column: Some(name.clone()),
                            reason: format!(
                                "not in the file's header (its columns: {})",
                                h.join(", ")
                            ),
                        }),
                    },
                },
            }
        }
        if errors.is_empty() {
            Ok(Mapper { spec, index })
        } else {
            Err(errors)
        }
    }

    fn field<'r>(
        &self,
        row: &'r [String],
        column: &Column,
        line: u64,
    ) -> Result<&'r str, RowError> {
        let key = column.to_string();
        let i = self.index.get(&key).copied().unwrap_or(usize::MAX);
        row.get(i).map(|s| s.trim()).ok_or_else(|| RowError {
            line,
            column: Some(key),
            reason: format!("missing: the row has {} fields", row.len()),
        })
    }

    /// The login of one row (`line` is its line in the file), or every problem of it.
    pub fn login(&self, row: &[String], line: u64) -> Result<Login, Vec<RowError>> {
        let spec = self.spec;
        let mut errors = Vec::new();
        let bad = |column: &Column, reason: String| RowError {
            line,
            column: Some(column.to_string()),
            reason,
        };
        let ts = match self.field(row, &spec.time, line) {
            Err(e) => Err(e),
            Ok(v) => parse_time(v, &spec.time_format, spec.offset)
                .map_err(|reason| bad(&spec.time, reason)),
        };
        let text = |f: &TextField, bound, errors: &mut Vec<RowError>| -> Option<String> {
            let (value, column) = match f {
                TextField::Const(c) => (c.as_str(), None),
                TextField::Column(c) => match self.field(row, c, line) {
                    Ok(v) => (v, Some(c)),
                    Err(e) => {
                        errors.push(e);
                        return None;
                    }
                },
            };
            match Text::parse(value, bound) {
                Ok(t) => Some(t.into_string()),
                Err(e) => {
                    errors.push(RowError {
                        line,
                        column: column.map(|c| c.to_string()),
                        reason: e.to_string(),
                    });
                    None
                }
            }
        };
        let account = text(&spec.account, ACCOUNT, &mut errors);
        let terminal = text(&spec.terminal, TERMINAL, &mut errors);
        let outcome = match &spec.outcome {
            OutcomeField::Const(o) => Ok(*o),
            OutcomeField::Column { column, map } => {
                self.field(row, column, line)
                    .and_then(|v| match map.get(v) {
                        Some(o) => Ok(*o),
                        None => v.parse().map_err(|_| {
                            bad(
                                column,
                                format!(
                                    "{v:?} is not an outcome: map it in [[imports]] outcome map{}",
                                    known(map.keys())
                                ),
                            )
                        }),
                    })
            }
        };
        let factors = match &spec.factors {
            FactorsField::Const(f) => Ok(f.clone()),
            FactorsField::Column {
                column,
                separator,
                map,
            } => self.field(row, column, line).and_then(|v| {
                let mut out: Vec<Factor> = Vec::new();
                for word in v.split(separator.as_str()).map(str::trim) {
                    if word.is_empty() {
                        continue;
                    }
                    let f = match map.get(word) {
                        Some(f) => *f,
                        None => word.parse().map_err(|_| {
                            bad(
                                column,
                                format!(
                                    "{word:?} is not a factor: map it in [[imports]] factors map{}",
                                    known(map.keys())
                                ),
                            )
                        })?,
                    };
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
                if out.is_empty() {
                    Err(bad(column, "no factor".into()))
                } else {
                    Ok(out)
                }
            }),
        };
        let event_id = match &spec.event_id {
            Some(c) => self.field(row, c, line).and_then(|v| {
                monban_core::event::parse_event_id(v).map_err(|e| bad(c, e.to_string()))
            }),
            None => Ok(derived_id(
                spec.system.as_str(),
                ts.as_ref().ok().copied(),
                row,
            )),
        };
        let ts = ts.map_err(|e| errors.push(e)).ok();
        let outcome = outcome.map_err(|e| errors.push(e)).ok();
        let factors = factors.map_err(|e| errors.push(e)).ok();
        let event_id = event_id.map_err(|e| errors.push(e)).ok();
        match (event_id, ts, account, terminal, factors, outcome) {
            (
                Some(event_id),
                Some(ts),
                Some(account),
                Some(terminal),
                Some(factors),
                Some(outcome),
            ) if errors.is_empty() => Ok(Login {
                event_id,
                ts,
                system: spec.system.clone(),
                account,
                terminal,
                factors,
                outcome,
            }),
            _ => {
                // In the order of the file's columns.
                errors.sort_by_key(|e| {
                    e.column
                        .as_ref()
                        .and_then(|c| self.index.get(c).copied())
                        .unwrap_or(usize::MAX)
                });
                Err(errors)
            }
        }
    }
}

fn known<'k>(keys: impl Iterator<Item = &'k String>) -> String {
    let keys: Vec<&str> = keys.map(String::as_str).collect();
    if keys.is_empty() {
        String::new()
    } else {
        format!(" (mapped: {})", keys.join(", "))
    }
}

/// `import:<system>:<UTC time>:<24 hex digits>`: the login's time, then SHA-256 over the
/// system and every field of the row, separated by a unit separator — the same row gives
/// the same id, on any line. The time leads so that the ids of a log written in time
/// order are in order too: the store's primary-key index then grows at its end instead
/// of at random places (docs/BENCHMARKS.md: a hash alone imported at a sixth to a
/// quarter of the writer's rate).
pub fn derived_id(system: &str, ts: Option<Timestamp>, row: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(system.as_bytes());
    for f in row {
        h.update([0x1f]);
        h.update(f.as_bytes());
    }
    let digest = hex::encode(h.finalize());
    let time = ts
        .map(|t| t.to_utc().format("%Y%m%dT%H%M%S%.3fZ").to_string())
        .unwrap_or_default();
    format!("import:{system}:{time}:{}", &digest[..24])
}

/// A time as the spec writes it.
pub fn parse_time(
    v: &str,
    format: &TimeFormat,
    offset: monban_core::SiteOffset,
) -> Result<Timestamp, String> {
    let local = |n: NaiveDateTime| -> Result<Timestamp, String> {
        offset
            .fixed()
            .from_local_datetime(&n)
            .single()
            .map(|t| Timestamp::from(t.with_timezone(&Utc)))
            .ok_or_else(|| format!("{v:?} is not a time at offset {offset}"))
    };
    match format {
        TimeFormat::Rfc3339 => {
            if let Ok(t) = DateTime::parse_from_rfc3339(v) {
                return Ok(Timestamp::from(t.with_timezone(&Utc)));
            }
            for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(n) = NaiveDateTime::parse_from_str(v, f) {
                    return local(n);
                }
            }
            Err(format!(
                "{v:?} is not an RFC 3339 time (e.g. 2026-12-01T08:00:00+09:00); set time format in [[imports]]"
            ))
        }
        TimeFormat::Pattern(p) => {
            let with_offset = p.contains("%z") || p.contains("%:z") || p.contains("%#z");
            if with_offset {
                DateTime::parse_from_str(v, p)
                    .map(|t| Timestamp::from(t.with_timezone(&Utc)))
                    .map_err(|e| format!("{v:?} does not match the time format {p:?}: {e}"))
            } else {
                NaiveDateTime::parse_from_str(v, p)
                    .map_err(|e| format!("{v:?} does not match the time format {p:?}: {e}"))
                    .and_then(local)
            }
        }
    }
}

/// The file's rows as text with their line numbers, after the header (returned
/// separately when the spec says there is one).
pub struct Rows {
    reader: csv::Reader<Lines<Box<dyn Read + Send>>>,
    record: ByteRecord,
    encoding: Encoding,
}

impl Rows {
    /// Opens `path` as the spec says (encoding, delimiter); reads the header if any.
    pub fn open(spec: &ImportSpec, path: &Path) -> Result<(Rows, Option<Vec<String>>), RowError> {
        let file = std::fs::File::open(path)
            .map_err(|e| file_error(format!("cannot read the file: {e}")))?;
        let source: Box<dyn Read + Send> = match spec.encoding {
            Encoding::Utf8 => Box::new(std::io::BufReader::with_capacity(1 << 20, file)),
            Encoding::ShiftJis => {
                // Decoded whole: Shift_JIS logs are exports of older systems, and a
                // decoder that streams would need to split on character boundaries.
                let mut bytes = Vec::new();
                std::io::BufReader::new(file)
                    .read_to_end(&mut bytes)
                    .map_err(|e| file_error(format!("cannot read the file: {e}")))?;
                let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
                if had_errors {
                    return Err(file_error(
                        "the file is not valid Shift_JIS (set encoding in [[imports]])",
                    ));
                }
                Box::new(std::io::Cursor::new(text.into_owned().into_bytes()))
            }
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(spec.delimiter)
            .from_reader(Lines::new(source));
        let mut rows = Rows {
            reader,
            record: ByteRecord::new(),
            encoding: spec.encoding,
        };
        let header = if spec.header {
            match rows.next_row() {
                None => return Err(file_error("the file is empty: no header")),
                Some(Err(e)) => return Err(e),
                Some(Ok((_, mut h))) => {
                    if let Some(first) = h.first_mut() {
                        *first = first.trim_start_matches('\u{feff}').to_string();
                    }
                    Some(h)
                }
            }
        } else {
            None
        };
        Ok((rows, header))
    }

    /// The next row and its line, skipping empty lines.
    pub fn next_row(&mut self) -> Option<Result<(u64, Vec<String>), RowError>> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    return Some(Err(RowError {
                        line,
                        column: None,
                        reason: format!("not CSV: {e}"),
                    }));
                }
                Ok(true) => {
                    // The csv crate's own line count skips blank lines; the file's line
                    // is counted from the record's byte offset.
                    let byte = self.record.position().map(|p| p.byte()).unwrap_or(0);
                    let line = self.reader.get_mut().line_at(byte);
                    if self.record.len() == 1 && self.record[0].is_empty() {
                        continue;
                    }
                    let mut row = Vec::with_capacity(self.record.len());
                    for (i, f) in self.record.iter().enumerate() {
                        match std::str::from_utf8(f) {
                            Ok(s) => row.push(s.to_string()),
                            Err(_) => {
                                return Some(Err(RowError {
                                    line,
                                    column: Some(format!("#{}", i + 1)),
                                    reason: match self.encoding {
                                        Encoding::Utf8 => "not valid UTF-8 (a Shift_JIS file? set encoding = \"shift_jis\" in [[imports]])".into(),
                                        Encoding::ShiftJis => "not valid text".into(),
                                    },
                                }))
                            }
                        }
                    }
                    return Some(Ok((line, row)));
                }
            }
        }
    }
}

/// A reader that remembers where its newlines are, so that a record's byte offset gives
/// its line in the file (quoted line breaks included). Offsets already passed are
/// dropped: the memory is the read-ahead, not the file.
pub struct Lines<R> {
    inner: R,
    offset: u64,
    /// Each newline's offset, and whether a `\r` came just before it.
    newlines: std::collections::VecDeque<(u64, bool)>,
    last: u8,
    passed: u64,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            offset: 0,
            newlines: std::collections::VecDeque::new(),
            last: 0,
            passed: 0,
        }
    }

    /// The 1-based line of the record the csv reader says starts at `byte`; calls must
    /// not go backwards. The reader's offset of a record after blank lines is the first
    /// blank line's: those are skipped here.
    fn line_at(&mut self, mut byte: u64) -> u64 {
        while let Some(&(n, cr)) = self.newlines.front() {
            if n < byte {
                self.newlines.pop_front();
                self.passed += 1;
            } else if n == byte || (cr && n == byte + 1) {
                // A blank line where the record seemed to start.
                self.newlines.pop_front();
                self.passed += 1;
                byte = n + 1;
            } else {
                break;
            }
        }
        self.passed + 1
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                self.newlines
                    .push_back((self.offset + i as u64, self.last == b'\r'));
            }
            self.last = *b;
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Rows read (after the header).
    pub rows: u64,
    /// The first [`MAX_REPORTED`] problems.
    pub errors: Vec<RowError>,
    /// Bad rows, all of them.
    pub bad_rows: u64,
}

/// The first pass: maps every row and collects every problem; stores nothing.
pub fn check(spec: &ImportSpec, path: &Path, progress: impl Fn(u64)) -> Checked {
    let mut out = Checked::default();
    let (mut rows, header) = match Rows::open(spec, path) {
        Ok(r) => r,
        Err(e) => {
            out.errors.push(e);
            out.bad_rows = 1;
            return out;
        }
    };
    let mapper = match Mapper::new(spec, header.as_deref()) {
        Ok(m) => m,
        Err(errors) => {
            out.bad_rows = 1;
            out.errors = errors;
            return out;
        }
    };
    while let Some(next) = rows.next_row() {
        out.rows += 1;
        if out.rows % 16_384 == 0 {
            progress(out.rows);
        }
        let errors = match next {
            Ok((line, row)) => match mapper.login(&row, line) {
                Ok(_) => continue,
                Err(errors) => errors,
            },
            Err(e) => vec![e],
        };
        out.bad_rows += 1;
        for e in errors {
            if out.errors.len() < MAX_REPORTED {
                out.errors.push(e);
            }
        }
    }
    progress(out.rows);
    out
}

/// What one batch became, per login: stored (the login), already stored, or refused.
type BatchReply = Result<Vec<Result<Option<StoredLogin>, IngestError>>, IngestError>;
/// A batch sent to the writer: its rows' lines and the task awaiting its reply.
type InFlight = (Vec<u64>, tokio::task::JoinHandle<BatchReply>);

/// What [`run`] stored.
#[derive(Debug, Default)]
pub struct Imported {
    /// Logins stored by this import.
    pub imported: u64,
    /// Rows whose login was already stored (a re-import).
    pub already: u64,
    /// Rows the hub refused (an `event_id` stored for another system), with why.
    pub refused: Vec<RowError>,
    pub seconds: f64,
}

/// The second pass: sends every row's login to the writer in batches of `batch`, calling
/// `progress` with the rows done and `on_new` with each batch's newly stored logins (the
/// hub emits their notifications there, as the login API does). A row that no longer
/// maps (the file changed since [`check`]) stops the import with that row's problem;
/// what was sent before it is stored, and importing again stores nothing twice.
pub async fn run<F, Fut>(
    spec: &ImportSpec,
    path: &Path,
    ingest: Arc<Ingest>,
    batch: usize,
    progress: impl Fn(u64),
    mut on_new: F,
) -> Result<Imported, Vec<RowError>>
where
    F: FnMut(Vec<StoredLogin>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = std::time::Instant::now();
    let (mut rows, header) = Rows::open(spec, path).map_err(|e| vec![e])?;
    let mapper = Mapper::new(spec, header.as_deref())?;
    let mut out = Imported::default();
    let mut done = 0u64;
    let mut in_flight: Option<InFlight> = None;
    let mut logins = Vec::with_capacity(batch);
    let mut lines = Vec::with_capacity(batch);
    let mut finished = false;
    let mut failure: Option<Vec<RowError>> = None;
    while !finished {
        match rows.next_row() {
            None => finished = true,
            Some(Err(e)) => {
                failure = Some(vec![e]);
                finished = true;
            }
            Some(Ok((line, row))) => match mapper.login(&row, line) {
                Ok(l) => {
                    logins.push(l);
                    lines.push(line);
                }
                Err(e) => {
                    failure = Some(e);
                    finished = true;
                }
            },
        }
        if logins.len() >= batch.max(1) || (finished && !logins.is_empty()) {
            let sending = std::mem::replace(&mut logins, Vec::with_capacity(batch));
            let sent_lines = std::mem::replace(&mut lines, Vec::with_capacity(batch));
            let ingest = ingest.clone();
            let task = tokio::spawn(async move { ingest.ingest_logins(sending).await });
            if let Some(prev) = in_flight.replace((sent_lines, task)) {
                let (n, new) = settle(prev, &mut out).await?;
                done += n;
                progress(done);
                if !new.is_empty() {
                    on_new(new).await;
                }
            }
        }
    }
    if let Some(prev) = in_flight.take() {
        let (n, new) = settle(prev, &mut out).await?;
        done += n;
        progress(done);
        if !new.is_empty() {
            on_new(new).await;
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    match failure {
        Some(mut e) => {
            e.push(file_error(format!(
                "the file changed since it was checked: the import stopped after {done} rows ({} stored); import it again",
                out.imported
            )));
            Err(e)
        }
        None => Ok(out),
    }
}

/// Counts a batch's reply into `out`: its rows, and the logins it stored.
async fn settle(
    (lines, task): InFlight,
    out: &mut Imported,
) -> Result<(u64, Vec<StoredLogin>), Vec<RowError>> {
    let results = task
        .await
        .map_err(|e| vec![file_error(format!("the writer task failed: {e}"))])?
        .map_err(|e| {
            vec![file_error(format!(
                "nothing of the last batch was stored: {e}"
            ))]
        })?;
    let mut new = Vec::new();
    for (line, r) in lines.iter().zip(results) {
        match r {
            Ok(Some(stored)) => {
                out.imported += 1;
                new.push(stored);
            }
            Ok(None) => out.already += 1,
            Err(e) => out.refused.push(RowError {
                line: *line,
                column: None,
                reason: e.to_string(),
            }),
        }
    }
    Ok((lines.len() as u64, new))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn spec(imports: &str) -> ImportSpec {
        let text =
            format!("[site]\nid = \"s\"\n[[systems]]\nid = \"ehr\"\ncategory = \"ehr\"\n{imports}");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        c.imports.into_iter().next().unwrap()
    }

    const JA: &str = r#"
[[imports]]
system = "ehr"
time = { column = "日時", format = "%Y/%m/%d %H:%M:%S" }
account = { column = "利用者" }
terminal = { column = "端末" }
outcome = { column = "結果", map = { "成功" = "success", "失敗" = "failure" } }
factors = { column = "認証", map = { "パスワード" = "password", "ICカード" = "ic_card" } }
"#;

    fn row(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn maps_a_japanese_log() {
        let s = spec(JA);
        let header = row(&["日時", "利用者", "端末", "結果", "認証"]);
        let m = Mapper::new(&s, Some(&header)).unwrap();
        let l = m
            .login(
                &row(&[
                    "2026/12/01 08:00:00",
                    "nurse01",
                    "ward3-pc01",
                    "成功",
                    "ICカード+パスワード",
                ]),
                2,
            )
            .unwrap();
        assert_eq!(l.ts.to_rfc3339(), "2026-11-30T23:00:00Z");
        assert_eq!(l.account, "nurse01");
        assert_eq!(l.factors, vec![Factor::IcCard, Factor::Password]);
        assert_eq!(l.outcome, monban_core::Outcome::Success);
        assert!(
            l.event_id.starts_with("import:ehr:20261130T230000.000Z:"),
            "{}",
            l.event_id
        );
        assert_eq!(
            l.event_id.len(),
            "import:ehr:20261130T230000.000Z:".len() + 24
        );
        // Stable, and another row is another id.
        let again = m
            .login(
                &row(&[
                    "2026/12/01 08:00:00",
                    "nurse01",
                    "ward3-pc01",
                    "成功",
                    "ICカード+パスワード",
                ]),
                9,
            )
            .unwrap();
        assert_eq!(l.event_id, again.event_id);
        let other = m
            .login(
                &row(&[
                    "2026/12/01 08:00:01",
                    "nurse01",
                    "ward3-pc01",
                    "成功",
                    "パスワード",
                ]),
                3,
            )
            .unwrap();
        assert_ne!(l.event_id, other.event_id);
    }

    #[test]
    fn every_bad_field_is_named() {
        let s = spec(JA);
        let header = row(&["日時", "利用者", "端末", "結果", "認証"]);
        let m = Mapper::new(&s, Some(&header)).unwrap();
        let errors = m
            .login(&row(&["2026-13-01", "", "pc", "たぶん", "顔パス"]), 7)
            .unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.render("log.csv")).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(
            text[0].starts_with("log.csv:7: column \"日時\": \"2026-13-01\" does not match"),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("log.csv:7: column \"利用者\": ")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("log.csv:7: column \"結果\": \"たぶん\" is not an outcome")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("log.csv:7: column \"認証\": \"顔パス\" is not a factor")),
            "{text:?}"
        );
        // A short row.
        let errors = m.login(&row(&["2026/12/01 08:00:00", "a"]), 8).unwrap_err();
        assert!(errors[0]
            .render("f")
            .contains("missing: the row has 2 fields"));
    }

    #[test]
    fn a_missing_header_column_is_line_one() {
        let s = spec(JA);
        let e = Mapper::new(&s, Some(&row(&["日時", "利用者"]))).unwrap_err();
        assert_eq!(
            e[0].render("f.csv"),
            "f.csv:1: column \"端末\": not in the file's header (its columns: 日時, 利用者)"
        );
    }

    #[test]
    fn constants_positions_and_ids() {
        let s = spec(
            r#"
[[imports]]
system = "ehr"
header = false
time = { column = 1 }
account = { column = 2 }
terminal = "vpn-gw"
outcome = "success"
factors = ["password"]
event_id = { column = 3 }
"#,
        );
        let m = Mapper::new(&s, None).unwrap();
        let l = m
            .login(&row(&["2026-12-01T08:00:00", "u1", "L-1"]), 1)
            .unwrap();
        // No offset in the time: the site's (+09:00 by default).
        assert_eq!(l.ts.to_rfc3339(), "2026-11-30T23:00:00Z");
        assert_eq!(
            (l.terminal.as_str(), l.event_id.as_str()),
            ("vpn-gw", "L-1")
        );
        let l = m
            .login(&row(&["2026-12-01T08:00:00Z", "u1", "L-2"]), 2)
            .unwrap();
        assert_eq!(l.ts.to_rfc3339(), "2026-12-01T08:00:00Z");
    }

    #[test]
    fn a_shift_jis_file_with_a_bom_free_header_and_a_bad_row() {
        let s = spec(&JA.replace(
            "system = \"ehr\"",
            "system = \"ehr\"\nencoding = \"shift_jis\"",
        ));
        assert_eq!(s.encoding, Encoding::ShiftJis);
        let text = "日時,利用者,端末,結果,認証\n\
                    2026/12/01 08:00:00,nurse01,ward3-pc01,成功,パスワード\n\
                    \n\
                    2026/12/01 08:01:00,nurse01,ward3-pc01,保留,パスワード\n";
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sjis.csv");
        std::fs::write(&path, &bytes).unwrap();
        let checked = check(&s, &path, |_| {});
        assert_eq!((checked.rows, checked.bad_rows), (2, 1));
        assert_eq!(
            checked.errors[0].render("sjis.csv"),
            "sjis.csv:4: column \"結果\": \"保留\" is not an outcome: map it in [[imports]] outcome map (mapped: 失敗, 成功)"
        );
        // The same bytes read as UTF-8: told what to set.
        let utf8 = spec(JA);
        let checked = check(&utf8, &path, |_| {});
        assert!(
            checked.errors[0]
                .render("f")
                .contains("set encoding = \"shift_jis\""),
            "{:?}",
            checked.errors
        );
    }

    #[test]
    fn lines_count_crlf_blank_lines_and_quoted_breaks() {
        let s = spec(JA);
        let text = "日時,利用者,端末,結果,認証\r\n\
                    2026/12/01 08:00:00,nurse01,\"ward3\npc01\",成功,パスワード\r\n\
                    \r\n\
                    2026/12/01 08:01:00,nurse01,ward3-pc01,保留,パスワード\r\n\
                    2026/12/01 08:02:00,nurse01,ward3-pc01,成功,顔パス";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crlf.csv");
        std::fs::write(&path, text).unwrap();
        let checked = check(&s, &path, |_| {});
        let lines: Vec<u64> = checked.errors.iter().map(|e| e.line).collect();
        // Line 2: a terminal with a line break in it is refused.
        assert_eq!(
            (checked.rows, lines),
            (3, vec![2, 5, 6]),
            "{:?}",
            checked.errors
        );
    }

    #[test]
    fn config_errors_name_their_line() {
        let text = "[site]\nid = \"s\"\n[[systems]]\nid = \"ehr\"\ncategory = \"ehr\"\n\n[[imports]]\nsystem = \"ehr\"\ntime = { column = \"t\" }\naccount = { column = \"a\" }\nterminal = \"x\"\noutcome = \"maybe\"\nfactors = [\"password\", \"telepathy\"]\n\n[[imports]]\nsystem = \"nope\"\n";
        let errs = Config::parse(text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            errs.contains("monban.toml:12: [[imports]] outcome: unknown outcome"),
            "{errs}"
        );
        assert!(
            errs.contains("monban.toml:13: [[imports]] factors: unknown factor"),
            "{errs}"
        );
        assert!(
            errs.contains("monban.toml:16: [[imports]] names system \"nope\""),
            "{errs}"
        );
    }
}
