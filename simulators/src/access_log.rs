//! Access-log files (アクセスログ) of the generated hospital's systems, as a departmental
//! system exports them: CSV that `monban import logins` and the dashboard's upload on
//! `/imports` read through an `[[imports]]` table ([`Format::mapping`] prints the one
//! for each format).
//!
//! Two formats, different in every way a mapping has to absorb:
//! - [`Format::Utf8`] — UTF-8, `log_id,login_at,user_id,workstation,status,auth_method`:
//!   RFC 3339 times with milliseconds and offset, `OK`/`NG`, factors `PW`, `IC+PW`; the
//!   log's own id (`<system>-<seed>-<n>`) is the login's `event_id`.
//! - [`Format::ShiftJis`] — Shift_JIS, `日時,利用者ID,端末名,結果,認証方式`: local times
//!   `%Y/%m/%d %H:%M:%S` (the site's +09:00), `成功`/`失敗`, `パスワード`,
//!   `ICカード+パスワード`; no id column (the hub derives one from the row).
//!
//! [`write()`] streams rows to any writer, one at a time, so ten million rows take no
//! more memory than one. Two kinds of file:
//! - a **period** (the default): the days before `end`, each person with an account on
//!   the system logging in one to three times a working day at a terminal of their
//!   room, plus the cases an officer must see — a failed login followed by the
//!   successful retry, a login of the leaver (p0033: `account_of_leaver`, when the
//!   leaver has an account there), one of an account mapped to nobody (`unmapped`), and
//!   a mapped account whose only login lies 120 days back (`dormant`);
//! - **`rows: Some(n)`**: `n` rows spread evenly over the period, accounts and terminals
//!   drawn from the hospital (for benchmarks).
//!
//! The same hospital, options and seed give the same bytes.

use crate::hospital::{Hospital, Role};
use crate::rng::rng;
use chrono::{DateTime, Datelike as _, Duration, FixedOffset, TimeZone, Utc};
use rand::Rng as _;
use std::io::{self, Write};

/// A file format (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Utf8,
    ShiftJis,
}

impl Format {
    /// `utf8` or `sjis` (also `utf-8`, `shift_jis`).
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "utf8" | "utf-8" => Some(Format::Utf8),
            "sjis" | "shift_jis" | "shift-jis" => Some(Format::ShiftJis),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Utf8 => "utf8",
            Format::ShiftJis => "sjis",
        }
    }

    /// The `[[imports]]` table that reads this format for `system`.
    pub fn mapping(self, system: &str) -> String {
        match self {
            Format::Utf8 => format!(
                "[[imports]]\n\
                 system = \"{system}\"\n\
                 encoding = \"utf-8\"\n\
                 time = {{ column = \"login_at\" }}\n\
                 account = {{ column = \"user_id\" }}\n\
                 terminal = {{ column = \"workstation\" }}\n\
                 outcome = {{ column = \"status\", map = {{ \"OK\" = \"success\", \"NG\" = \"failure\" }} }}\n\
                 factors = {{ column = \"auth_method\", map = {{ \"PW\" = \"password\", \"IC\" = \"ic_card\" }} }}\n\
                 event_id = {{ column = \"log_id\" }}\n"
            ),
            Format::ShiftJis => format!(
                "[[imports]]\n\
                 system = \"{system}\"\n\
                 encoding = \"shift_jis\"\n\
                 time = {{ column = \"日時\", format = \"%Y/%m/%d %H:%M:%S\", offset = \"+09:00\" }}\n\
                 account = {{ column = \"利用者ID\" }}\n\
                 terminal = {{ column = \"端末名\" }}\n\
                 outcome = {{ column = \"結果\", map = {{ \"成功\" = \"success\", \"失敗\" = \"failure\" }} }}\n\
                 factors = {{ column = \"認証方式\", map = {{ \"パスワード\" = \"password\", \"ICカード\" = \"ic_card\" }} }}\n"
            ),
        }
    }

    fn header(self) -> &'static str {
        match self {
            Format::Utf8 => "log_id,login_at,user_id,workstation,status,auth_method",
            Format::ShiftJis => "日時,利用者ID,端末名,結果,認証方式",
        }
    }
}

/// What to write.
#[derive(Debug, Clone)]
pub struct Options {
    pub system: String,
    pub format: Format,
    /// The period ends here (exclusive); it starts `days` before.
    pub end: DateTime<Utc>,
    pub days: u32,
    pub seed: u64,
    /// `Some(n)`: exactly `n` rows spread over the period (benchmarks), no cases.
    pub rows: Option<u64>,
}

/// Which rows carry the cases (1-based data rows; the header is line 1, so a row's line
/// in the file is its number + 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    /// The failed login (its retry follows a minute later).
    pub failure: Option<(String, u64)>,
    /// The leaver's login.
    pub leaver: Option<(String, u64)>,
    /// The login of an account mapped to nobody.
    pub unmapped: Option<(String, u64)>,
    /// The dormant account's only login.
    pub dormant: Option<(String, u64)>,
}

/// One login of the log.
#[derive(Debug, Clone)]
struct Row {
    at: DateTime<FixedOffset>,
    account: String,
    terminal: String,
    success: bool,
    ic_card: bool,
    case: Option<Case>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Failure,
    Leaver,
    Unmapped,
    Dormant,
}

fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// The account mapped to nobody on `system`: the hospital's own, else `<system>-shared`.
pub fn unmapped_account(h: &Hospital, system: &str) -> String {
    h.unmapped_accounts
        .iter()
        .find(|u| u.system.as_str() == system)
        .map(|u| u.account.clone())
        .unwrap_or_else(|| format!("{system}-shared"))
}

/// The people with an account on `system` who still work here: (staff index, account).
fn users(h: &Hospital, system: &str) -> Vec<(usize, String)> {
    h.staff
        .iter()
        .enumerate()
        .filter(|(_, s)| s.person.until.is_none())
        .filter_map(|(i, s)| {
            s.person
                .accounts
                .iter()
                .find(|(k, _)| k.as_str() == system)
                .map(|(_, a)| (i, a.clone()))
        })
        .collect()
}

fn terminal_of(h: &Hospital, staff: usize, pick: usize) -> String {
    let here = h.terminals_in(&h.staff[staff].home);
    let all: Vec<_> = if here.is_empty() {
        h.terminals.iter().collect()
    } else {
        here
    };
    all.get(pick % all.len().max(1))
        .map(|t| t.id.to_string())
        .unwrap_or_else(|| "unknown-pc".into())
}

/// Writes the log (header first) to `out`.
pub fn write<W: Write>(h: &Hospital, opts: &Options, out: W) -> io::Result<Written> {
    let mut w = RowWriter {
        out: io::BufWriter::with_capacity(1 << 20, out),
        format: opts.format,
        system: opts.system.clone(),
        seed: opts.seed,
        n: 0,
    };
    w.line(opts.format.header())?;
    let users = users(h, &opts.system);
    if users.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "nobody has an account on system {:?} (the systems: {})",
                opts.system,
                h.system_ids()
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let end = opts.end.with_timezone(&jst());
    let start = end - Duration::days(i64::from(opts.days.max(1)));
    let mut written = Written::default();
    match opts.rows {
        Some(n) => {
            let mut r = rng(opts.seed, &[0xacc, 1]);
            let span_ms = (end - start).num_milliseconds().max(1) as u64;
            for i in 0..n {
                let at = start
                    + Duration::milliseconds(
                        (i as u128 * span_ms as u128 / n.max(1) as u128) as i64,
                    );
                let (staff, account) = &users[r.gen_range(0..users.len())];
                let row = Row {
                    at,
                    account: account.clone(),
                    terminal: terminal_of(h, *staff, r.gen_range(0..8)),
                    success: !r.gen_bool(0.02),
                    ic_card: r.gen_bool(0.3),
                    case: None,
                };
                w.row(&row)?;
            }
        }
        None => {
            // The dormant account: the last user, whose only login is 120 days back.
            let (dormant_staff, dormant_account) = users[users.len() - 1].clone();
            let active = &users[..users.len().saturating_sub(1).max(1)];
            let dormant = Row {
                at: (end - Duration::days(120))
                    .date_naive()
                    .and_hms_opt(10, 0, 0)
                    .and_then(|t| jst().from_local_datetime(&t).single())
                    .unwrap_or(start),
                account: dormant_account,
                terminal: terminal_of(h, dormant_staff, 0),
                success: true,
                ic_card: false,
                case: Some(Case::Dormant),
            };
            w.row(&dormant)?;
            written.dormant = Some((dormant.account.clone(), w.n));
            let days = opts.days.max(1);
            for d in 0..days {
                let day = (start + Duration::days(i64::from(d))).date_naive();
                let mut r = rng(opts.seed, &[0xacc, 2, day.num_days_from_ce() as u64]);
                let mut rows = Vec::new();
                for (staff, account) in active {
                    let shift = h.staff[*staff].role == Role::Nurse && r.gen_bool(0.3);
                    for _ in 0..r.gen_range(1..=3) {
                        let hour = if shift {
                            r.gen_range(16..23)
                        } else {
                            r.gen_range(7..19)
                        };
                        let Some(at) = day
                            .and_hms_opt(hour, r.gen_range(0..60), r.gen_range(0..60))
                            .and_then(|t| jst().from_local_datetime(&t).single())
                        else {
                            continue;
                        };
                        rows.push(Row {
                            at,
                            account: account.clone(),
                            terminal: terminal_of(h, *staff, r.gen_range(0..8)),
                            success: true,
                            ic_card: r.gen_bool(0.3),
                            case: None,
                        });
                    }
                }
                if d + 1 == days {
                    let at = |hh: u32, mm: u32| {
                        day.and_hms_opt(hh, mm, 0)
                            .and_then(|t| jst().from_local_datetime(&t).single())
                            .unwrap_or(start)
                    };
                    // A mistyped password, and the retry a minute later.
                    let (staff, account) = &active[0];
                    for (mm, success) in [(0, false), (1, true)] {
                        rows.push(Row {
                            at: at(8, 30 + mm),
                            account: account.clone(),
                            terminal: terminal_of(h, *staff, 0),
                            success,
                            ic_card: false,
                            case: (!success).then_some(Case::Failure),
                        });
                    }
                    // The leaver, a month after their last day.
                    if let Some((i, account)) = h.leavers().into_iter().find_map(|i| {
                        h.staff[i]
                            .person
                            .accounts
                            .iter()
                            .find(|(k, _)| k.as_str() == opts.system)
                            .map(|(_, a)| (i, a.clone()))
                    }) {
                        rows.push(Row {
                            at: at(19, 42),
                            account,
                            terminal: terminal_of(h, i, 0),
                            success: true,
                            ic_card: false,
                            case: Some(Case::Leaver),
                        });
                    }
                    // A shared account nobody is mapped to.
                    rows.push(Row {
                        at: at(12, 15),
                        account: unmapped_account(h, &opts.system),
                        terminal: terminal_of(h, *staff, 1),
                        success: true,
                        ic_card: false,
                        case: Some(Case::Unmapped),
                    });
                }
                rows.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.account.cmp(&b.account)));
                for row in rows.into_iter().filter(|r| r.at < end) {
                    w.row(&row)?;
                    let slot = match row.case {
                        Some(Case::Failure) => &mut written.failure,
                        Some(Case::Leaver) => &mut written.leaver,
                        Some(Case::Unmapped) => &mut written.unmapped,
                        _ => continue,
                    };
                    *slot = Some((row.account.clone(), w.n));
                }
            }
        }
    }
    written.rows = w.n;
    w.out.flush()?;
    Ok(written)
}

struct RowWriter<W: Write> {
    out: io::BufWriter<W>,
    format: Format,
    system: String,
    seed: u64,
    n: u64,
}

impl<W: Write> RowWriter<W> {
    fn line(&mut self, text: &str) -> io::Result<()> {
        match self.format {
            Format::Utf8 => self.out.write_all(text.as_bytes())?,
            Format::ShiftJis => {
                let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
                self.out.write_all(&bytes)?;
            }
        }
        self.out.write_all(b"\r\n")
    }

    fn row(&mut self, r: &Row) -> io::Result<()> {
        self.n += 1;
        let text = match self.format {
            Format::Utf8 => format!(
                "{}-{}-{:09},{},{},{},{},{}",
                self.system,
                self.seed,
                self.n,
                r.at.format("%Y-%m-%dT%H:%M:%S%.3f%:z"),
                r.account,
                r.terminal,
                if r.success { "OK" } else { "NG" },
                if r.ic_card { "IC+PW" } else { "PW" },
            ),
            Format::ShiftJis => format!(
                "{},{},{},{},{}",
                r.at.format("%Y/%m/%d %H:%M:%S"),
                r.account,
                r.terminal,
                if r.success { "成功" } else { "失敗" },
                if r.ic_card {
                    "ICカード+パスワード"
                } else {
                    "パスワード"
                },
            ),
        };
        self.line(&text)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::hospital::{generate, ids};

    fn opts(format: Format, rows: Option<u64>) -> Options {
        Options {
            system: ids::LAB.into(),
            format,
            end: "2026-12-01T00:00:00Z".parse().unwrap(),
            days: 3,
            seed: 7,
            rows,
        }
    }

    #[test]
    fn a_period_has_its_cases_and_is_deterministic() {
        let h = generate(7).with_lab();
        let mut a = Vec::new();
        let w = write(&h, &opts(Format::Utf8, None), &mut a).unwrap();
        let mut b = Vec::new();
        write(&h, &opts(Format::Utf8, None), &mut b).unwrap();
        assert_eq!(a, b);
        assert!(w.failure.is_some() && w.leaver.is_some());
        assert!(w.unmapped.is_some() && w.dormant.is_some());
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().count() as u64, w.rows + 1);
        assert!(text.starts_with("log_id,login_at,"));
        assert!(text.contains(",NG,PW"), "{text}");
    }

    #[test]
    fn shift_jis_rows_and_a_count() {
        let h = generate(7).with_lab();
        let mut a = Vec::new();
        let w = write(&h, &opts(Format::ShiftJis, Some(1000)), &mut a).unwrap();
        assert_eq!(w.rows, 1000);
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&a);
        assert!(!bad);
        assert!(text.starts_with("日時,利用者ID,"));
        assert_eq!(text.lines().count(), 1001);
    }
}
