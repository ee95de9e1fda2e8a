//! Multi-row statements, shared by the writer's batch ([`super::batch`]) and the evidence
//! chain ([`super::evidence`]): the values bound into them, how parameters are named on
//! each backend, and `insert_values`, which writes any number of rows in statements of
//! a few fixed sizes.

use super::Result;
use sqlx::any::AnyRow;

/// Bound parameters per statement, below SQLite's 32 766 and PostgreSQL's 65 535.
pub(crate) const MAX_PARAMS: usize = 30_000;

/// The row counts of a multi-row statement, largest first: a batch of any size is
/// written with statements of these shapes only.
const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// A value bound into a multi-row statement.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Int(i64),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
    OptInt(Option<i64>),
    OptBytes(Option<Vec<u8>>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::OptText(v)
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    vals: &'q [Val],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in vals {
        q = match v {
            Val::Int(i) => q.bind(*i),
            Val::Text(t) => q.bind(t.as_str()),
            Val::OptText(t) => q.bind(t.as_deref()),
            Val::Bytes(b) => q.bind(b.as_slice()),
            Val::OptInt(i) => q.bind(*i),
            Val::OptBytes(b) => q.bind(b.as_deref()),
        };
    }
    q
}

/// How a statement names its parameters. PostgreSQL needs `$1, $2, …`; SQLite takes
/// them too, but binds each `$N` by looking its name up in a list — quadratic in the
/// parameters of a statement, which made binding a 2 560-parameter insert cost more
/// than running it. Multi-row statements therefore use anonymous `?` on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Params {
    Numbered,
    Anonymous,
}

impl Params {
    /// The placeholder of parameter `i` (1-based).
    fn push(self, s: &mut String, i: usize) {
        match self {
            Params::Numbered => {
                s.push('$');
                s.push_str(&i.to_string());
            }
            Params::Anonymous => s.push('?'),
        }
    }

    /// `($1, $2, $3), ($4, $5, $6)` (or `(?, ?, ?), (?, ?, ?)`) for `rows` rows of
    /// `cols` columns, numbered from `first`.
    pub(crate) fn values(self, rows: usize, cols: usize) -> String {
        let mut s = String::with_capacity(rows * cols * 5);
        for r in 0..rows {
            if r > 0 {
                s.push_str(", ");
            }
            s.push('(');
            for c in 0..cols {
                if c > 0 {
                    s.push_str(", ");
                }
                self.push(&mut s, r * cols + c + 1);
            }
            s.push(')');
        }
        s
    }

    /// `$first, …, $(first + n - 1)` (or `?, …`).
    pub(crate) fn list(self, first: usize, n: usize) -> String {
        let mut s = String::with_capacity(n * 5);
        for i in 0..n {
            if i > 0 {
                s.push_str(", ");
            }
            self.push(&mut s, first + i);
        }
        s
    }
}

/// Runs `sql_head` + `VALUES (…), (…)` (+ `sql_tail`) over `rows` in `tx`; returns the
/// rows of a `RETURNING` tail. The rows go in chunks of a few fixed sizes ([`CHUNKS`]),
/// so the connection's cache of prepared statements holds every statement a batch needs
/// instead of parsing a new one for each batch size.
pub(crate) async fn insert_values(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    params: Params,
    sql_head: &str,
    sql_tail: &str,
    cols: usize,
    rows: Vec<Vec<Val>>,
) -> Result<Vec<AnyRow>> {
    let mut out = Vec::new();
    let mut rest = rows.as_slice();
    while !rest.is_empty() {
        let size = CHUNKS
            .iter()
            .copied()
            .find(|c| *c <= rest.len() && c * cols <= MAX_PARAMS)
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let sql = format!(
            "{sql_head} VALUES {} {sql_tail}",
            params.values(chunk.len(), cols)
        );
        let vals: Vec<Val> = chunk.iter().flatten().cloned().collect();
        let q = bind_all(sqlx::query(&sql), &vals);
        if sql_tail.contains("RETURNING") {
            out.extend(q.fetch_all(&mut **tx).await?);
        } else {
            q.execute(&mut **tx).await?;
        }
    }
    Ok(out)
}
