//! The evidence chain in the store (CONTRACT §13; the encoding and the verifier are
//! `monban_core::evidence`).
//!
//! **Appending.** Every statement that stores a record kept as evidence ends in
//! `RETURNING` the record's columns, and the returned rows — what the database holds, not
//! what the hub meant to write — become [`NewRecord`]s, appended to the `evidence` table
//! by `append` in the same transaction: the writer's batch at its commit (one multi-row
//! insert for the whole batch), an audit line or a saved maintenance request in theirs.
//!
//! **One appender at a time.** The appender reads the head and writes the next links, so
//! two transactions must never do that at once. On SQLite every writing transaction
//! begins with `BEGIN IMMEDIATE` ([`Store::begin`]) and holds the database's only write
//! lock until it commits. On PostgreSQL the appender first takes a transaction-scoped
//! advisory lock ([`LOCK_ID`]): the writer's batch and a handler's audit line queue on it,
//! and it is held only from the head's read to the commit.
//!
//! **Verifying.** [`Store::verify_chain`] pages through `evidence` by `seq`, reads the
//! rows each page covers by their keys, recomputes their canonical bytes and feeds the
//! core's verifier; then it finds the rows no link covers (a table holding more rows than
//! the chain) and the logins whose current verdict is not their last chained verdict
//! change. Memory stays bounded by a page (and the maintenance requests, a few per
//! week). It all runs in one read transaction — one snapshot — so `verify` may run beside
//! a serving hub.

use super::multirow::{insert_values, Params, Val};
use super::{get, Result, Store, StoreError};
use monban_core::evidence::{self, Broken, Head, Kind, Link, Ty, Value, Verifier};
use monban_core::Timestamp;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, HashMap};

/// The advisory lock PostgreSQL appenders take ("monban" in ASCII).
pub const LOCK_ID: i64 = 0x6d6f_6e62_616e;

/// Links read per page when verifying.
const PAGE: i64 = 2000;

/// A record to chain: its canonical bytes and what the `evidence` row names.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub kind: Kind,
    pub key: String,
    pub rid: Option<i64>,
    pub bytes: Vec<u8>,
}

/// The table of a kind, and the column numbering its rows (none: keyed by text).
fn table(kind: Kind) -> (&'static str, Option<&'static str>) {
    match kind {
        Kind::DoorEvent => ("door_events", Some("seq")),
        Kind::DoorStatus => ("door_status", Some("seq")),
        Kind::Outage => ("door_outages", Some("seq")),
        Kind::Login => ("logins", None),
        Kind::VerdictChange => ("verdict_changes", Some("seq")),
        Kind::Maintenance => ("maintenance_requests", None),
        Kind::InventoryChange => ("inventory_changes", Some("seq")),
        Kind::Audit => ("audit", Some("seq")),
        Kind::AccountReview => ("account_reviews", Some("seq")),
    }
}

/// The text key column of a kind without row numbers.
fn key_column(kind: Kind) -> &'static str {
    match kind {
        Kind::Maintenance => "request_id",
        _ => "event_id",
    }
}

/// The columns to select (or return) for a record of `kind`: its row id, then its fields.
pub(crate) fn columns(kind: Kind) -> String {
    let (_, rid) = table(kind);
    rid.into_iter()
        .chain(kind.fields().iter().map(|(n, _)| *n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `RETURNING` the columns of a record of `kind`.
pub(crate) fn returning(kind: Kind) -> String {
    format!("RETURNING {}", columns(kind))
}

/// The record a stored row holds.
pub(crate) fn record_of(kind: Kind, row: &AnyRow) -> Result<NewRecord> {
    let rid = match table(kind).1 {
        Some(c) => Some(get::<i64>(row, c)?),
        None => None,
    };
    let mut values = Vec::with_capacity(kind.fields().len());
    for (name, ty) in kind.fields() {
        values.push(match ty {
            Ty::Int => get::<Option<i64>>(row, name)?.map_or(Value::Null, Value::Int),
            Ty::Text | Ty::OptText => {
                get::<Option<String>>(row, name)?.map_or(Value::Null, Value::Text)
            }
        });
    }
    let key = kind.key_of(rid, &values);
    let bytes = evidence::canonical(kind, &key, rid, &values)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(NewRecord {
        kind,
        key,
        rid,
        bytes,
    })
}

/// The records of rows returned by an insert.
pub(crate) fn records_of(kind: Kind, rows: &[AnyRow]) -> Result<Vec<NewRecord>> {
    rows.iter().map(|r| record_of(kind, r)).collect()
}

fn params(sqlite: bool) -> Params {
    if sqlite {
        Params::Anonymous
    } else {
        Params::Numbered
    }
}

/// The chain's head as stored (seq, hash), or none before the genesis.
async fn stored_head(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<Option<(i64, String)>> {
    let row = sqlx::query("SELECT seq, hash FROM evidence ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((get(&r, "seq")?, get(&r, "hash")?)))
        .transpose()
}

async fn insert_genesis(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    site: &str,
    now: Timestamp,
) -> Result<Head> {
    let hash = evidence::genesis(site);
    sqlx::query("INSERT INTO evidence (seq, kind, key, rid, at, hash, body) VALUES (0, 'genesis', $1, NULL, $2, $3, NULL)")
        .bind(site)
        .bind(now.as_millis())
        .bind(evidence::to_hex(&hash))
        .execute(&mut **tx)
        .await?;
    Ok(Head { seq: 0, hash })
}

/// Appends `records` to the chain inside `tx` (see the module docs for the lock).
pub(crate) async fn append(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sqlite: bool,
    records: Vec<NewRecord>,
    now: Timestamp,
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    if !sqlite {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_ID)
            .execute(&mut **tx)
            .await?;
    }
    let head = match stored_head(tx).await? {
        Some((seq, hash)) => Head {
            seq,
            hash: evidence::from_hex(&hash)
                .ok_or_else(|| StoreError::Corrupt(format!("evidence seq {seq}: bad hash")))?,
        },
        None => {
            // A store chained before its first start (a library user's): the genesis
            // from the imported site.
            let site: Option<String> = sqlx::query_scalar("SELECT id FROM site LIMIT 1")
                .fetch_optional(&mut **tx)
                .await?;
            insert_genesis(tx, site.as_deref().unwrap_or(""), now).await?
        }
    };
    let rids: Vec<Option<i64>> = records.iter().map(|r| r.rid).collect();
    let links = evidence::extend(head, records.into_iter().map(|r| (r.kind, r.key, r.bytes)));
    let rows = links
        .into_iter()
        .zip(rids)
        .map(|(l, rid)| {
            let body = (l.kind == Kind::Maintenance).then(|| l.bytes.clone().unwrap_or_default());
            vec![
                Val::Int(l.seq),
                Val::from(l.kind.as_str()),
                Val::Text(l.key),
                Val::OptInt(rid),
                Val::Int(now.as_millis()),
                Val::Text(evidence::to_hex(&l.hash)),
                Val::OptBytes(body),
            ]
        })
        .collect();
    insert_values(
        tx,
        params(sqlite),
        "INSERT INTO evidence (seq, kind, key, rid, at, hash, body)",
        "",
        7,
        rows,
    )
    .await?;
    Ok(())
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Every link holds and every stored record is the one chained.
    Ok(Head),
    /// The first problem, as a line for a person (`changed: login l-000042 (evidence seq
    /// 1234)`).
    Broken(String),
}

/// The chain's head as served by `GET /api/v1/evidence/head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    pub seq: i64,
    pub hash: String,
    pub at: Timestamp,
}

/// The order in which records stored before the chain existed are chained (and the
/// tables checked for rows no link covers).
const BACKFILL: [Kind; 9] = [
    Kind::DoorEvent,
    Kind::DoorStatus,
    Kind::Outage,
    Kind::Login,
    Kind::VerdictChange,
    Kind::Maintenance,
    Kind::InventoryChange,
    Kind::Audit,
    Kind::AccountReview,
];

impl Store {
    fn params(&self) -> Params {
        params(self.is_sqlite())
    }

    /// The chain's last link (the genesis when nothing was chained yet; none before the
    /// first start).
    pub async fn evidence_head(&self) -> Result<Option<StoredHead>> {
        let row = sqlx::query("SELECT seq, hash, at FROM evidence ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(StoredHead {
                seq: get(&r, "seq")?,
                hash: get(&r, "hash")?,
                at: Timestamp::from_millis(get(&r, "at")?),
            })
        })
        .transpose()
    }

    /// Starts the chain of a store that has none (its first start with this version):
    /// the genesis from `site`, then every record already stored, kind by kind in
    /// `BACKFILL` order and by key within a kind, in one transaction. Returns how many
    /// records were chained (0 when the chain had begun).
    pub async fn start_chain(&self, site: &str, now: Timestamp) -> Result<u64> {
        let mut tx = self.begin().await?;
        if !self.is_sqlite() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LOCK_ID)
                .execute(&mut *tx)
                .await?;
        }
        if stored_head(&mut tx).await?.is_some() {
            tx.rollback().await?;
            return Ok(0);
        }
        insert_genesis(&mut tx, site, now).await?;
        let mut n = 0u64;
        for kind in BACKFILL {
            let (tbl, rid) = table(kind);
            let order = rid.unwrap_or(key_column(kind));
            let mut after: Option<Val> = None;
            loop {
                let sql = match &after {
                    None => format!(
                        "SELECT {} FROM {tbl} ORDER BY {order} LIMIT {PAGE}",
                        columns(kind)
                    ),
                    Some(_) => format!(
                        "SELECT {} FROM {tbl} WHERE {order} > $1 ORDER BY {order} LIMIT {PAGE}",
                        columns(kind)
                    ),
                };
                let mut q = sqlx::query(&sql);
                match &after {
                    Some(Val::Int(i)) => q = q.bind(*i),
                    Some(Val::Text(t)) => q = q.bind(t.clone()),
                    _ => {}
                }
                let rows = q.fetch_all(&mut *tx).await?;
                let Some(last) = rows.last() else { break };
                after = Some(match rid {
                    Some(c) => Val::Int(get(last, c)?),
                    None => Val::Text(get(last, order)?),
                });
                let records = records_of(kind, &rows)?;
                n += records.len() as u64;
                append(&mut tx, self.is_sqlite(), records, now).await?;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Recomputes the chain from the store (see the module docs). `noted`: a head noted
    /// earlier (an inspection report's), which the chain must pass through. `progress` is
    /// called with (links verified, links in the chain) after each page.
    pub async fn verify_chain(
        &self,
        site: &str,
        noted: Option<Head>,
        mut progress: impl FnMut(i64, i64),
    ) -> Result<Verified> {
        // One snapshot for the whole run, so a hub writing meanwhile is not mistaken for
        // an intruder: a read transaction (SQLite WAL keeps its snapshot; PostgreSQL
        // needs REPEATABLE READ for that).
        let mut tx = self.pool().begin().await?;
        if !self.is_sqlite() {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let genesis = evidence::genesis(site);
        let first = sqlx::query("SELECT key, hash FROM evidence WHERE seq = 0")
            .fetch_optional(&mut *tx)
            .await?;
        match first {
            None => {
                if sqlx::query("SELECT seq FROM evidence LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some()
                {
                    return Ok(Verified::Broken(
                        "removed: evidence seq 0 (the genesis)".into(),
                    ));
                }
            }
            Some(r) => {
                let key: String = get(&r, "key")?;
                let hash: String = get(&r, "hash")?;
                if key != site || hash != evidence::to_hex(&genesis) {
                    return Ok(Verified::Broken(format!(
                        "changed: genesis {key} (evidence seq 0): the chain of site {site} starts from SHA-256 of its id"
                    )));
                }
            }
        }
        let total: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM evidence")
            .fetch_one(&mut *tx)
            .await?;
        let mut verifier = Verifier::new(genesis);
        // Rows found for the links, per kind; the last saved version of each request.
        let mut found: HashMap<Kind, i64> = HashMap::new();
        let mut requests: BTreeMap<String, (i64, Vec<u8>)> = BTreeMap::new();
        let mut after = 0i64;
        loop {
            let page = sqlx::query(
                "SELECT seq, kind, key, rid, hash, body FROM evidence WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = page.last() else { break };
            after = get(last, "seq")?;
            // The rows this page covers, read by kind.
            let mut want_rids: HashMap<Kind, Vec<i64>> = HashMap::new();
            let mut want_keys: HashMap<Kind, Vec<String>> = HashMap::new();
            let mut links = Vec::with_capacity(page.len());
            for r in &page {
                let seq: i64 = get(r, "seq")?;
                let kind_text: String = get(r, "kind")?;
                let Some(kind) = Kind::parse(&kind_text) else {
                    return Ok(Verified::Broken(format!(
                        "inserted: evidence seq {seq} (unknown kind {kind_text:?})"
                    )));
                };
                let key: String = get(r, "key")?;
                let rid: Option<i64> = get(r, "rid")?;
                let Some(hash) = evidence::from_hex(&get::<String>(r, "hash")?) else {
                    return Ok(Verified::Broken(format!(
                        "changed: {kind} {key} (evidence seq {seq})"
                    )));
                };
                let body: Option<Vec<u8>> = get(r, "body")?;
                match (kind, rid) {
                    (Kind::Maintenance, _) => {}
                    (_, Some(rid)) if table(kind).1.is_some() => {
                        want_rids.entry(kind).or_default().push(rid)
                    }
                    _ => want_keys.entry(kind).or_default().push(key.clone()),
                }
                links.push((seq, kind, key, rid, hash, body));
            }
            let mut by_rid: HashMap<(Kind, i64), Vec<u8>> = HashMap::new();
            let mut by_key: HashMap<(Kind, String), Vec<u8>> = HashMap::new();
            for (kind, rids) in want_rids {
                let (tbl, col) = table(kind);
                let col = col.unwrap_or("seq");
                for chunk in rids.chunks(500) {
                    let sql = format!(
                        "SELECT {} FROM {tbl} WHERE {col} IN ({})",
                        columns(kind),
                        self.params().list(1, chunk.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for rid in chunk {
                        q = q.bind(*rid);
                    }
                    for row in q.fetch_all(&mut *tx).await? {
                        let rec = record_of(kind, &row)?;
                        if let Some(rid) = rec.rid {
                            by_rid.insert((kind, rid), rec.bytes);
                        }
                    }
                }
            }
            for (kind, keys) in want_keys {
                let (tbl, _) = table(kind);
                let col = key_column(kind);
                for chunk in keys.chunks(500) {
                    let sql = format!(
                        "SELECT {} FROM {tbl} WHERE {col} IN ({})",
                        columns(kind),
                        self.params().list(1, chunk.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for k in chunk {
                        q = q.bind(k.as_str());
                    }
                    for row in q.fetch_all(&mut *tx).await? {
                        let rec = record_of(kind, &row)?;
                        by_key.insert((kind, rec.key), rec.bytes);
                    }
                }
            }
            for (seq, kind, key, rid, hash, body) in links {
                let bytes = if kind == Kind::Maintenance {
                    if let Some(b) = &body {
                        requests.insert(key.clone(), (seq, b.clone()));
                    }
                    body
                } else if let (Some(rid), Some(_)) = (rid, table(kind).1) {
                    by_rid.remove(&(kind, rid))
                } else {
                    by_key.remove(&(kind, key.clone()))
                };
                if bytes.is_some() && kind != Kind::Maintenance {
                    *found.entry(kind).or_default() += 1;
                }
                if let Err(b) = verifier.push(Link {
                    seq,
                    kind,
                    key,
                    hash,
                    bytes,
                }) {
                    return Ok(Verified::Broken(b.to_string()));
                }
                if let Some(n) = noted {
                    let h = verifier.head();
                    if h.seq == n.seq && h.hash != n.hash {
                        return Ok(Verified::Broken(format!(
                            "changed: the chain up to evidence seq {} is not the noted head {}",
                            n.seq,
                            evidence::to_hex(&n.hash)
                        )));
                    }
                }
            }
            progress(after, total);
        }
        let head = match verifier.finish() {
            Ok(h) => h,
            Err(b) => return Ok(Verified::Broken(broken_line(b))),
        };
        if let Some(n) = noted {
            if head.seq < n.seq {
                return Ok(Verified::Broken(format!(
                    "removed: evidence after seq {} (the noted head is seq {})",
                    head.seq, n.seq
                )));
            }
            if n.seq == 0 && n.hash != evidence::genesis(site) {
                return Ok(Verified::Broken(
                    "changed: the noted head is not this site's genesis".into(),
                ));
            }
        }
        // Rows that no link covers.
        for kind in BACKFILL {
            if kind == Kind::Maintenance {
                continue;
            }
            let (tbl, rid) = table(kind);
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {tbl}"))
                .fetch_one(&mut *tx)
                .await?;
            if n <= found.get(&kind).copied().unwrap_or(0) {
                continue;
            }
            let key = match rid {
                Some(c) => {
                    let sql = format!(
                        "SELECT {} FROM {tbl} WHERE {c} IN (SELECT {c} FROM {tbl} EXCEPT SELECT rid FROM evidence WHERE kind = $1) ORDER BY {c} LIMIT 1",
                        columns(kind)
                    );
                    let row = sqlx::query(&sql)
                        .bind(kind.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    row.map(|r| record_of(kind, &r).map(|rec| rec.key))
                        .transpose()?
                }
                None => {
                    let c = key_column(kind);
                    let sql = format!(
                        "SELECT {c} FROM {tbl} EXCEPT SELECT key FROM evidence WHERE kind = $1 ORDER BY 1 LIMIT 1"
                    );
                    sqlx::query_scalar::<_, String>(&sql)
                        .bind(kind.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                }
            };
            let key = key.unwrap_or_else(|| "?".into());
            return Ok(Verified::Broken(format!(
                "inserted: {kind} {key} (not in the evidence chain)"
            )));
        }
        // Maintenance requests: each as its last chained save.
        let rows = sqlx::query(&format!(
            "SELECT {} FROM maintenance_requests ORDER BY request_id",
            columns(Kind::Maintenance)
        ))
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let rec = record_of(Kind::Maintenance, r)?;
            match requests.get(&rec.key) {
                None => {
                    return Ok(Verified::Broken(format!(
                        "inserted: maintenance {} (not in the evidence chain)",
                        rec.key
                    )))
                }
                Some((seq, body)) if *body != rec.bytes => {
                    return Ok(Verified::Broken(format!(
                        "changed: maintenance {} (evidence seq {seq})",
                        rec.key
                    )))
                }
                Some(_) => {}
            }
        }
        if rows.len() < requests.len() {
            if let Some((key, (seq, _))) = requests.iter().find(|(k, _)| {
                !rows
                    .iter()
                    .any(|r| get::<String>(r, "request_id").ok().as_deref() == Some(k.as_str()))
            }) {
                return Ok(Verified::Broken(format!(
                    "removed: maintenance {key} (evidence seq {seq})"
                )));
            }
        }
        // Logins: the verdict each is served with is its last chained verdict change.
        let mismatch: Option<String> = sqlx::query_scalar(
            "SELECT l.event_id FROM logins l LEFT JOIN verdict_changes v \
               ON v.seq = (SELECT MAX(w.seq) FROM verdict_changes w WHERE w.event_id = l.event_id) \
             WHERE v.seq IS NULL OR l.verdict <> v.verdict OR l.reasons <> v.reasons \
                OR l.is_final <> v.is_final OR l.evidence <> v.evidence \
                OR (l.evidence IS NULL AND v.evidence IS NOT NULL) \
                OR (l.evidence IS NOT NULL AND v.evidence IS NULL) \
             ORDER BY l.event_id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = mismatch {
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(seq) FROM evidence WHERE kind = 'login' AND key = $1",
            )
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let seq = seq.map_or("none".to_string(), |s| s.to_string());
            return Ok(Verified::Broken(format!(
                "changed: login {id} (evidence seq {seq}): its verdict is not its last chained verdict change"
            )));
        }
        Ok(Verified::Ok(head))
    }
}

fn broken_line(b: Broken) -> String {
    b.to_string()
}
