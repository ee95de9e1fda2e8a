//! The store: everything the hub must keep — the inventory, raw door events, door status
//! changes and outages, logins with their verdicts and evidence, every verdict change,
//! dead letters and token hashes.
//!
//! One implementation over sqlx's `Any` driver: the SQL is written once with `$N`
//! placeholders and portable types (integer milliseconds, TEXT, BLOB/BYTEA), and the
//! backend is chosen by the URL: `sqlite://…` (embedded, the default) or `postgres://…`
//! (a PostgreSQL server for larger sites), each with its own migrations
//! (`migrations/sqlite`, `migrations/postgres`) describing the same tables.
//! SQLite runs in WAL mode with `synchronous=FULL` and foreign keys on, so an event the
//! hub has acknowledged survives a killed process and a power cut; PostgreSQL commits
//! durably by default. Either way a write is acknowledged only after its commit.
//!
//! SQL lives here and nowhere else: the services above read and write through the
//! methods of [`Store`] and of the writer's transaction ([`batch::WriteTx`]), in
//! `monban-core`'s types. This module depends on nothing of the crate but `config`'s
//! URL check.
//!
//! # Layout
//! - this module — [`Store`]: opening and migrating, the inventory, door events,
//!   statuses, outages, logins and verdicts, door health, dead letters, tokens; the
//!   row helpers the other files share.
//! - [`accounts`] — the account review's aggregate: per account, the last successful
//!   login and the recent ones (CONTRACT §12).
//! - [`account_reviews`] — completed account reviews (棚卸し) with their marks, each
//!   chained as evidence with its audit line.
//! - [`batch`] — the writer's transaction: multi-row statements for one batch.
//! - [`rollups`] — the day rollups (`login_days`, `reason_days`) and their rebuild.
//! - [`inventory`] — the dashboard's inventory edits, their change log, pending imports.
//! - [`auth`] — users, passkeys, invites, sessions, the audit trail, step-ups.
//! - [`maintenance`] — maintenance requests (CONTRACT §10) and the reads that reconcile
//!   them: logins by account, entries by credential, a room's door events.
//! - [`notify`] — the notifications outbox, deliveries and the notifier's cursors.
//! - [`evidence`] — the evidence chain (CONTRACT §13): appending in each writing
//!   transaction, the first start's chaining of older records, `verify`.

use monban_connectors::{DeadLetter, Ingested};
use monban_core::health::{DoorActivity, OutageCause, WATCHDOG};
use monban_core::inventory::rows::{
    DoorRow, MaintainsRow, PersonRow, RoomRow, SystemRow, TerminalRow, VendorRow,
};
use monban_core::timeline::{Alarm, Outage};
use monban_core::InventoryRows;
use monban_core::{
    Credential, CredentialType, Direction, DoorEvent, DoorEventKind, DoorId, DoorStatus, Evidence,
    Factor, Inventory, Login, Outcome, Reason, SiteId, Span, StatusChange, SystemId, Timestamp,
    VendorId, Verdict, VerdictKind, VerdictUpdate,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::collections::BTreeMap;
use std::str::FromStr;

pub mod account_reviews;
pub mod accounts;
pub mod auth;
pub mod batch;
pub mod evidence;
pub mod inspection;
pub mod inventory;
pub mod maintenance;
pub mod multirow;
pub mod notify;
pub mod rollups;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://path or postgres://user@host/database")]
    Unsupported(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the store could not be reached (a database server down or cut off, every
    /// connection busy): the request may succeed when sent again, and nothing was written.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Db(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            )
        )
    }
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// A login as stored, with its current verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogin {
    pub login: Login,
    pub received_at: Timestamp,
    pub final_at: Timestamp,
    pub verdict: Verdict,
    pub is_final: bool,
}

impl StoredLogin {
    /// Final when marked so, or once its grace has passed (the finaliser may lag a tick;
    /// the engine never changes a verdict past `final_at`).
    pub fn final_at_time(&self, now: Timestamp) -> bool {
        self.is_final || now >= self.final_at
    }
}

/// A dead letter as stored.
#[derive(Debug, Clone)]
pub struct StoredDeadLetter {
    pub seq: i64,
    pub letter: DeadLetter,
}

/// One stored change of a login's verdict ([`Store::verdict_changes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictChangeRow {
    pub at: Timestamp,
    /// The verdict's code, as stored.
    pub verdict: String,
    /// The reasons' codes, as stored.
    pub reasons: Vec<String>,
    pub is_final: bool,
    pub cause: String,
}

/// What a token grants (CONTRACT §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    /// Login ingest for one system.
    Login(SystemId),
    /// Door-event ingest: for every door (`None`), or only for these doors.
    Doors(Option<Vec<DoorId>>),
    /// Read access with a role: `auditor`, `officer` or `admin`.
    Read(String),
    /// A vendor's token (CONTRACT §9, §10): files that vendor's maintenance requests and
    /// reports, nothing else.
    Vendor(VendorId),
}

impl TokenScope {
    /// The kind as stored and shown: `login`, `doors`, `read` or `vendor`.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenScope::Login(_) => "login",
            TokenScope::Doors(_) => "doors",
            TokenScope::Read(_) => "read",
            TokenScope::Vendor(_) => "vendor",
        }
    }

    /// The system of a login-ingest token.
    pub fn system(&self) -> Option<String> {
        match self {
            TokenScope::Login(s) => Some(s.to_string()),
            _ => None,
        }
    }

    /// The role of a read token.
    pub fn role(&self) -> Option<String> {
        match self {
            TokenScope::Read(r) => Some(r.clone()),
            _ => None,
        }
    }

    /// The vendor of a vendor token.
    pub fn vendor(&self) -> Option<String> {
        match self {
            TokenScope::Vendor(v) => Some(v.to_string()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub scope: TokenScope,
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// SQLite (one writer at a time) rather than PostgreSQL.
    sqlite: bool,
}

fn sqlite_url(url: &str) -> String {
    if url.contains('?') || url.contains(":memory:") {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    }
}

impl Store {
    /// Connects and migrates: `sqlite:` (embedded, the default) or `postgres:` /
    /// `postgresql:` (a server, for larger sites).
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        if crate::config::is_postgres(url) {
            // A server that cannot be reached fails a request within 5 s (503, nothing
            // recorded, the sender retries) instead of holding it.
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(std::time::Duration::from_secs(5))
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            return Ok(Store {
                pool,
                sqlite: false,
            });
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Unsupported(url.to_string()));
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 10000",
                        // 8 MB of page cache per connection (SQLite's default is 2 MB):
                        // the indexes a batch of logins touches stay in memory; at most
                        // 64 MB over the pool's 8 connections.
                        "PRAGMA cache_size = -8192",
                    ] {
                        conn.execute(pragma).await?;
                    }
                    Ok(())
                })
            })
            .connect(&sqlite_url(url))
            .await?;
        SQLITE_MIGRATIONS.run(&pool).await?;
        Ok(Store { pool, sqlite: true })
    }

    /// The connection pool, for the store's own modules.
    pub(in crate::store) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Opens a transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a transaction that read first
    /// and wrote later could fail at once when another connection had written meanwhile.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        } else {
            self.pool.begin().await?
        })
    }

    /// Whether the store is SQLite (else PostgreSQL).
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- inventory -------------------------------------------------------------------

    /// Replaces the stored inventory with `inv` unless the last import had the same
    /// digest. Returns whether anything was written. Idempotent: the same file twice
    /// gives the same state.
    pub async fn import_inventory(
        &self,
        inv: &Inventory,
        digest: &str,
        source: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let last: Option<String> =
            sqlx::query_scalar("SELECT digest FROM inventory_imports ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        if last.as_deref() == Some(digest) {
            return Ok(false);
        }
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM site").execute(&mut *tx).await?;
        if let Some((id, name)) = &inv.site {
            sqlx::query("INSERT INTO site (id, name) VALUES ($1, $2)")
                .bind(id.as_str())
                .bind(name.as_str())
                .execute(&mut *tx)
                .await?;
        }
        write_inventory_rows(&mut tx, inv).await?;
        sqlx::query(
            "INSERT INTO inventory_imports (digest, source, imported_at) VALUES ($1, $2, $3)",
        )
        .bind(digest)
        .bind(source)
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Loads the inventory as stored.
    pub async fn load_inventory(&self) -> Result<Inventory> {
        let site = sqlx::query("SELECT id, name FROM site LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| -> Result<(SiteId, String)> {
                Ok((
                    parse(SiteId::parse(get::<String>(&r, "id")?))?,
                    get(&r, "name")?,
                ))
            })
            .transpose()?;
        // The stored tables as rows of text, read by core like any other source.
        let span = |ms: i64| Span::from_millis(ms).to_string();
        let flag = |v: i64| (v != 0).to_string();
        let mut rows = InventoryRows::default();
        for r in sqlx::query("SELECT * FROM rooms ORDER BY position")
            .fetch_all(&self.pool)
            .await?
        {
            rows.rooms.push(RoomRow {
                id: get(&r, "id")?,
                name: get(&r, "name")?,
                controlled: flag(get(&r, "controlled")?),
                max_presence: span(get(&r, "max_presence_ms")?),
                alarm_hold: span(get(&r, "alarm_hold_ms")?),
            });
        }
        for r in sqlx::query("SELECT * FROM doors ORDER BY position")
            .fetch_all(&self.pool)
            .await?
        {
            rows.doors.push(DoorRow {
                id: get(&r, "id")?,
                room: get(&r, "room")?,
                name: get(&r, "name")?,
                heartbeat_timeout: get::<Option<i64>>(&r, "heartbeat_timeout_ms")?
                    .map(span)
                    .unwrap_or_default(),
                feed: get(&r, "feed")?,
            });
        }
        for r in sqlx::query("SELECT * FROM terminals ORDER BY position")
            .fetch_all(&self.pool)
            .await?
        {
            rows.terminals.push(TerminalRow {
                id: get(&r, "id")?,
                room: get(&r, "room")?,
                name: get(&r, "name")?,
            });
        }
        for r in sqlx::query("SELECT * FROM systems ORDER BY position")
            .fetch_all(&self.pool)
            .await?
        {
            rows.systems.push(SystemRow {
                id: get(&r, "id")?,
                name: get(&r, "name")?,
                category: get(&r, "category")?,
                native_mfa: flag(get(&r, "native_mfa")?),
                renewal: get::<Option<String>>(&r, "renewal")?.unwrap_or_default(),
                plan: get::<Option<String>>(&r, "plan")?.unwrap_or_default(),
                by: get::<Option<String>>(&r, "plan_by")?.unwrap_or_default(),
            });
        }
        let mut maintains: BTreeMap<String, Vec<MaintainsRow>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT vendor, system, remote, route, confirmed FROM vendor_systems ORDER BY vendor, position",
        )
        .fetch_all(&self.pool)
        .await?
        {
            maintains
                .entry(get(&r, "vendor")?)
                .or_default()
                .push(MaintainsRow {
                    system: get(&r, "system")?,
                    remote: flag(get(&r, "remote")?),
                    route: get::<Option<String>>(&r, "route")?.unwrap_or_default(),
                    confirmed: get::<Option<String>>(&r, "confirmed")?.unwrap_or_default(),
                });
        }
        for r in sqlx::query("SELECT * FROM vendors ORDER BY position")
            .fetch_all(&self.pool)
            .await?
        {
            let id: String = get(&r, "id")?;
            rows.vendors.push(VendorRow {
                maintains: maintains.remove(&id).unwrap_or_default(),
                name: get(&r, "name")?,
                id,
            });
        }
        let mut creds: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT person, type, credential_id FROM credentials ORDER BY person, position",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let kind: String = get(&r, "type")?;
            let id: String = get(&r, "credential_id")?;
            creds
                .entry(get(&r, "person")?)
                .or_default()
                .push(format!("{kind}:{id}"));
        }
        let mut accounts: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for r in sqlx::query("SELECT person, system, account FROM accounts ORDER BY person, system")
            .fetch_all(&self.pool)
            .await?
        {
            accounts
                .entry(get(&r, "person")?)
                .or_default()
                .push((get(&r, "system")?, get(&r, "account")?));
        }
        for r in sqlx::query("SELECT * FROM people ORDER BY position")
            .fetch_all(&self.pool)
            .await?
        {
            let id: String = get(&r, "id")?;
            rows.people.push(PersonRow {
                credentials: creds.remove(&id).unwrap_or_default(),
                accounts: accounts.remove(&id).unwrap_or_default(),
                name: get(&r, "name")?,
                vendor: get::<Option<String>>(&r, "vendor")?.unwrap_or_default(),
                until: get::<Option<String>>(&r, "until")?.unwrap_or_default(),
                id,
            });
        }
        rows.parse(site).map_err(|errs| {
            StoreError::Corrupt(
                errs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }

    // ---- door events ---------------------------------------------------------------

    /// Stores a door event once per (door, event_id).
    pub async fn insert_door_event(
        &self,
        e: &DoorEvent,
        source: &str,
        received_at: Timestamp,
    ) -> Result<Ingested> {
        let payload = e.to_json().to_string();
        let res = sqlx::query(
            "INSERT INTO door_events (door, event_id, ts, kind, direction, credential_type, credential_id, source, received_at, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (door, event_id) DO NOTHING",
        )
        .bind(e.door.as_str())
        .bind(e.event_id.as_str())
        .bind(e.ts.as_millis())
        .bind(e.kind.as_str())
        .bind(e.direction.as_str())
        .bind(e.credential.as_ref().map(|c| c.kind.as_str().to_string()))
        .bind(e.credential.as_ref().map(|c| c.id.clone()))
        .bind(source)
        .bind(received_at.as_millis())
        .bind(payload)
        .execute(&self.pool)
        .await?;
        Ok(if res.rows_affected() == 1 {
            Ingested::New
        } else {
            Ingested::Duplicate
        })
    }

    /// Door events with `ts >= since`, in event-time order.
    pub async fn door_events_since(&self, since: Timestamp) -> Result<Vec<DoorEvent>> {
        let rows = sqlx::query("SELECT * FROM door_events WHERE ts >= $1 ORDER BY ts, seq")
            .bind(since.as_millis())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(door_event_from_row).collect()
    }

    /// Door events with `from <= ts < to`, in event-time order.
    pub async fn door_events_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<DoorEvent>> {
        let rows =
            sqlx::query("SELECT * FROM door_events WHERE ts >= $1 AND ts < $2 ORDER BY ts, seq")
                .bind(from.as_millis())
                .bind(to.as_millis())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(door_event_from_row).collect()
    }

    pub async fn door_event_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM door_events")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The stored door event, if any.
    pub async fn door_event(&self, door: &str, event_id: &str) -> Result<Option<DoorEvent>> {
        let row = sqlx::query("SELECT * FROM door_events WHERE door = $1 AND event_id = $2")
            .bind(door)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(door_event_from_row).transpose()
    }

    /// The credential id and source of a stored door event: what the evidence page
    /// shows of a login's entry.
    pub async fn entry_of(
        &self,
        door: &str,
        event_id: &str,
    ) -> Result<Option<(Option<String>, String)>> {
        let row = sqlx::query(
            "SELECT credential_id, source FROM door_events WHERE door = $1 AND event_id = $2",
        )
        .bind(door)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        match &row {
            Some(r) => Ok(Some((
                get::<Option<String>>(r, "credential_id")?,
                get::<String>(r, "source")?,
            ))),
            None => Ok(None),
        }
    }

    /// The integrity alarm events (`DoorEventKind::is_integrity_alarm`) with
    /// `after < ts <= until`, as the alarm rule of `monban_core::snapshot` reads them.
    pub async fn alarm_events(&self, after: Timestamp, until: Timestamp) -> Result<Vec<Alarm>> {
        let kinds: Vec<String> = DoorEventKind::ALL
            .iter()
            .filter(|k| k.is_integrity_alarm())
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        let sql = format!(
            "SELECT door, event_id, ts, kind FROM door_events WHERE kind IN ({}) AND ts > $1 AND ts <= $2",
            kinds.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(after.as_millis())
            .bind(until.as_millis())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Alarm {
                    ts: Timestamp::from_millis(get(r, "ts")?),
                    door: parse(DoorId::parse(get::<String>(r, "door")?))?,
                    kind: parse(DoorEventKind::from_str(&get::<String>(r, "kind")?))?,
                    event_id: get(r, "event_id")?,
                })
            })
            .collect()
    }

    pub async fn insert_status(
        &self,
        s: &StatusChange,
        source: &str,
        received_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO door_status (door, ts, status, source, received_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.door.as_str())
            .bind(s.ts.as_millis())
            .bind(s.status.as_str())
            .bind(source)
            .bind(received_at.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every status change, in event-time order.
    pub async fn statuses(&self) -> Result<Vec<StatusChange>> {
        let rows = sqlx::query("SELECT door, ts, status FROM door_status ORDER BY ts, seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(status_from_row).collect()
    }

    /// The status changes with `ts >= since` and each door's last one before `since`,
    /// in event-time order: what the engine's memory needs from `since` on.
    pub async fn statuses_since(&self, since: Timestamp) -> Result<Vec<StatusChange>> {
        let rows = sqlx::query(
            "SELECT door, ts, status, seq FROM door_status WHERE ts >= $1 \
             UNION ALL \
             SELECT s.door, s.ts, s.status, s.seq FROM door_status s \
             WHERE s.seq = (SELECT t.seq FROM door_status t WHERE t.door = s.door AND t.ts < $1 \
                            ORDER BY t.ts DESC, t.seq DESC LIMIT 1) \
             ORDER BY ts, seq",
        )
        .bind(since.as_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(status_from_row).collect()
    }

    pub async fn insert_outage(
        &self,
        door: &DoorId,
        o: Outage,
        cause: OutageCause,
        reason: &str,
        recorded_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO door_outages (door, from_ts, to_ts, reason, recorded_at, cause) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(door.as_str())
            .bind(o.from.as_millis())
            .bind(o.to.as_millis())
            .bind(reason)
            .bind(recorded_at.as_millis())
            .bind(cause.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn outages(&self) -> Result<Vec<(DoorId, Outage)>> {
        let rows =
            sqlx::query("SELECT door, from_ts, to_ts FROM door_outages ORDER BY from_ts, seq")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(outage_from_row).collect()
    }

    /// The outages that last until `since` or later.
    pub async fn outages_since(&self, since: Timestamp) -> Result<Vec<(DoorId, Outage)>> {
        let rows = sqlx::query(
            "SELECT door, from_ts, to_ts FROM door_outages WHERE to_ts >= $1 ORDER BY from_ts, seq",
        )
        .bind(since.as_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outage_from_row).collect()
    }

    // ---- logins --------------------------------------------------------------------

    /// Stores a new login with its first verdict. Returns false when the `event_id` is
    /// already stored (nothing is written then).
    pub async fn insert_login(&self, s: &StoredLogin, now: Timestamp) -> Result<bool> {
        let mut tx = self.begin().await?;
        let l = &s.login;
        let res = sqlx::query(
            "INSERT INTO logins (event_id, system, account, terminal, ts, factors, outcome, received_at, final_at, verdict, reasons, evidence, is_final, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(l.event_id.as_str())
        .bind(l.system.as_str())
        .bind(l.account.as_str())
        .bind(l.terminal.as_str())
        .bind(l.ts.as_millis())
        .bind(l.factors.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","))
        .bind(l.outcome.as_str())
        .bind(s.received_at.as_millis())
        .bind(s.final_at.as_millis())
        .bind(s.verdict.kind.as_str())
        .bind(reasons_text(&s.verdict.reasons))
        .bind(evidence_text(&s.verdict.evidence))
        .bind(s.is_final as i64)
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        insert_change(
            &mut tx,
            &l.event_id,
            now,
            &s.verdict,
            s.is_final,
            "received",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Persists verdict changes and finalisations from the engine in one transaction.
    pub async fn apply_updates(
        &self,
        updates: &[VerdictUpdate],
        now: Timestamp,
        cause: &str,
    ) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for u in updates {
            sqlx::query("UPDATE logins SET verdict = $1, reasons = $2, evidence = $3, is_final = $4, updated_at = $5 WHERE event_id = $6")
                .bind(u.verdict.kind.as_str())
                .bind(reasons_text(&u.verdict.reasons))
                .bind(evidence_text(&u.verdict.evidence))
                .bind(u.is_final as i64)
                .bind(now.as_millis())
                .bind(u.event_id.as_str())
                .execute(&mut *tx)
                .await?;
            insert_change(
                &mut tx,
                &u.event_id,
                now,
                &u.verdict,
                u.is_final,
                if u.is_final { "final" } else { cause },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn login(&self, event_id: &str) -> Result<Option<StoredLogin>> {
        let row = sqlx::query("SELECT * FROM logins WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(login_from_row).transpose()
    }

    /// Up to `limit` logins with `from <= ts <= to` after `after` (a `(ts, event_id)`
    /// of the previous page), in `(ts, event_id)` order: keyset pagination, so a long
    /// export never holds its period in memory nor skips or repeats a login.
    pub async fn logins_page(
        &self,
        from: Timestamp,
        to: Timestamp,
        after: Option<(Timestamp, String)>,
        limit: i64,
    ) -> Result<Vec<StoredLogin>> {
        let rows = match after {
            None => sqlx::query(
                "SELECT * FROM logins WHERE ts >= $1 AND ts <= $2 ORDER BY ts, event_id LIMIT $3",
            )
            .bind(from.as_millis())
            .bind(to.as_millis())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
            Some((ts, id)) => sqlx::query(
                "SELECT * FROM logins WHERE ts >= $1 AND ts <= $3 AND (ts > $1 OR event_id > $2) \
                     ORDER BY ts, event_id LIMIT $4",
            )
            .bind(ts.as_millis())
            .bind(id)
            .bind(to.as_millis())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        };
        rows.iter().map(login_from_row).collect()
    }

    /// Whether any login is stored.
    pub async fn has_logins(&self) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM logins LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Logins whose verdict is not yet final.
    pub async fn pending_logins(&self) -> Result<Vec<StoredLogin>> {
        let rows = sqlx::query("SELECT * FROM logins WHERE is_final = 0 ORDER BY received_at")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(login_from_row).collect()
    }

    /// The newest logins by login time.
    pub async fn latest_logins(&self, limit: i64) -> Result<Vec<StoredLogin>> {
        let rows = sqlx::query("SELECT * FROM logins ORDER BY ts DESC, received_at DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(login_from_row).collect()
    }

    /// Login counts per (system, verdict) with `from <= ts <= to`.
    pub async fn verdict_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, VerdictKind, u64)>> {
        let rows = sqlx::query("SELECT system, verdict, COUNT(*) AS n FROM logins WHERE ts >= $1 AND ts <= $2 GROUP BY system, verdict")
            .bind(from.as_millis())
            .bind(to.as_millis())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, "system")?,
                    parse(VerdictKind::from_str(&get::<String>(r, "verdict")?))?,
                    u64::try_from(get::<i64>(r, "n")?).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// The verdict history of a login, oldest first: (at, verdict, is_final, cause).
    pub async fn verdict_history(
        &self,
        event_id: &str,
    ) -> Result<Vec<(Timestamp, VerdictKind, bool, String)>> {
        let rows = sqlx::query("SELECT at, verdict, is_final, cause FROM verdict_changes WHERE event_id = $1 ORDER BY seq")
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    Timestamp::from_millis(get(r, "at")?),
                    parse(VerdictKind::from_str(&get::<String>(r, "verdict")?))?,
                    get::<i64>(r, "is_final")? != 0,
                    get(r, "cause")?,
                ))
            })
            .collect()
    }

    /// Every stored change of a login's verdict, oldest first, as the evidence page lists
    /// them (verdict and reasons as stored).
    pub async fn verdict_changes(&self, event_id: &str) -> Result<Vec<VerdictChangeRow>> {
        let rows = sqlx::query(
            "SELECT at, verdict, reasons, is_final, cause FROM verdict_changes WHERE event_id = $1 ORDER BY seq",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VerdictChangeRow {
                    at: Timestamp::from_millis(get(r, "at")?),
                    verdict: get(r, "verdict")?,
                    reasons: get::<String>(r, "reasons")?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    is_final: get::<i64>(r, "is_final")? != 0,
                    cause: get(r, "cause")?,
                })
            })
            .collect()
    }

    // ---- door health ---------------------------------------------------------------

    /// Keeps the latest heartbeat time of a door's controller.
    pub async fn upsert_heartbeat(&self, door: &DoorId, at: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO door_heartbeats (door, last_at) VALUES ($1, $2) \
             ON CONFLICT (door) DO UPDATE SET last_at = excluded.last_at \
             WHERE excluded.last_at > door_heartbeats.last_at",
        )
        .bind(door.as_str())
        .bind(at.as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every door's activity as the store remembers it, for the hub's health view after
    /// a start: newest event (arrival and own time), newest heartbeat, latest status,
    /// counts of dead letters, outages and overruns, and whether the watchdog holds the
    /// door offline. Signs of life are clamped to `now`.
    pub async fn door_activity(&self, now: Timestamp) -> Result<BTreeMap<String, DoorActivity>> {
        let mut out: BTreeMap<String, DoorActivity> = BTreeMap::new();
        let ms = |r: &AnyRow, c: &str| -> Result<Option<Timestamp>> {
            Ok(get::<Option<i64>>(r, c)?.map(Timestamp::from_millis))
        };
        for r in sqlx::query(
            "SELECT door, MAX(received_at) AS at, MAX(ts) AS ts FROM door_events GROUP BY door",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let a = out.entry(get(&r, "door")?).or_default();
            a.last_event_at = ms(&r, "at")?;
            a.last_event_ts = ms(&r, "ts")?;
            if let Some(ts) = a.last_event_ts {
                a.heard(ts, now);
            }
        }
        for r in sqlx::query("SELECT door, last_at FROM door_heartbeats")
            .fetch_all(&self.pool)
            .await?
        {
            let a = out.entry(get(&r, "door")?).or_default();
            a.last_heartbeat_at = ms(&r, "last_at")?;
            a.heartbeat_persisted_at = a.last_heartbeat_at;
            if let Some(ts) = a.last_heartbeat_at {
                a.heard(ts, now);
            }
        }
        for r in sqlx::query(
            "SELECT door, MAX(ts) AS ts FROM door_status WHERE status = 'online' GROUP BY door",
        )
        .fetch_all(&self.pool)
        .await?
        {
            if let Some(ts) = ms(&r, "ts")? {
                out.entry(get(&r, "door")?).or_default().heard(ts, now);
            }
        }
        // The latest status row of each door (by time, then arrival order).
        for r in sqlx::query(
            "SELECT s.door, s.ts, s.status, s.source FROM door_status s \
             WHERE s.seq = (SELECT t.seq FROM door_status t WHERE t.door = s.door \
                            ORDER BY t.ts DESC, t.seq DESC LIMIT 1)",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let a = out.entry(get(&r, "door")?).or_default();
            let ts = Timestamp::from_millis(get(&r, "ts")?);
            // A status that cannot be read is an error, never `online`.
            let status = parse(DoorStatus::from_str(&get::<String>(&r, "status")?))?;
            let source: String = get(&r, "source")?;
            if status == DoorStatus::Offline && source == WATCHDOG {
                a.silent_since = Some(ts);
            }
            a.last_status = Some((ts, status, source));
        }
        for r in sqlx::query(
            "SELECT door, COUNT(*) AS n FROM dead_letters WHERE door IS NOT NULL GROUP BY door",
        )
        .fetch_all(&self.pool)
        .await?
        {
            out.entry(get(&r, "door")?).or_default().dead_letters =
                get::<i64>(&r, "n")?.max(0) as u64;
        }
        // Overruns by their stored cause (`OutageCause`), as `DoorActivity::record_outage`
        // counts them.
        for r in sqlx::query(
            "SELECT door, COUNT(*) AS n, \
             SUM(CASE WHEN cause = $1 THEN 1 ELSE 0 END) AS overruns, \
             MAX(CASE WHEN cause = $1 THEN to_ts END) AS last_overrun \
             FROM door_outages GROUP BY door",
        )
        .bind(OutageCause::ModbusOverrun.as_str())
        .fetch_all(&self.pool)
        .await?
        {
            let a = out.entry(get(&r, "door")?).or_default();
            a.outages = get::<i64>(&r, "n")?.max(0) as u64;
            a.overruns = get::<Option<i64>>(&r, "overruns")?.unwrap_or(0).max(0) as u64;
            a.last_overrun_at = ms(&r, "last_overrun")?;
        }
        Ok(out)
    }

    /// Notes that connector `name` was connected at `at`.
    pub async fn mark_connector_up(&self, name: &str, at: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO connector_marks (name, last_up_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET last_up_at = excluded.last_up_at \
             WHERE excluded.last_up_at > connector_marks.last_up_at",
        )
        .bind(name)
        .bind(at.as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When connector `name` was last known to be connected, by any process.
    pub async fn connector_last_up(&self, name: &str) -> Result<Option<Timestamp>> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT last_up_at FROM connector_marks WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.map(Timestamp::from_millis))
    }

    /// The latest stored heartbeat of every door that sent one.
    pub async fn heartbeats(&self) -> Result<BTreeMap<String, Timestamp>> {
        let rows = sqlx::query("SELECT door, last_at FROM door_heartbeats")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((get(r, "door")?, Timestamp::from_millis(get(r, "last_at")?))))
            .collect()
    }

    // ---- dead letters --------------------------------------------------------------

    pub async fn insert_dead_letter(&self, d: &DeadLetter) -> Result<()> {
        sqlx::query("INSERT INTO dead_letters (source, origin, payload, reason, received_at, door) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(d.source.as_str())
            .bind(d.origin.as_str())
            .bind(d.payload.clone())
            .bind(d.reason.as_str())
            .bind(d.received_at.as_millis())
            .bind(d.door.as_ref().map(|d| d.to_string()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest dead letters.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<StoredDeadLetter>> {
        let rows = sqlx::query("SELECT * FROM dead_letters ORDER BY seq DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredDeadLetter {
                    seq: get(r, "seq")?,
                    letter: DeadLetter {
                        source: get(r, "source")?,
                        origin: get(r, "origin")?,
                        door: get::<Option<String>>(r, "door")?
                            .and_then(|d| DoorId::parse(&d).ok()),
                        payload: get(r, "payload")?,
                        reason: get(r, "reason")?,
                        received_at: Timestamp::from_millis(get(r, "received_at")?),
                    },
                })
            })
            .collect()
    }

    pub async fn dead_letter_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM dead_letters")
            .fetch_one(&self.pool)
            .await?)
    }

    // ---- tokens --------------------------------------------------------------------

    pub async fn insert_token(
        &self,
        id: &str,
        hash: &str,
        scope: &TokenScope,
        label: &str,
        now: Timestamp,
    ) -> Result<()> {
        let (kind, system, role, vendor) =
            (scope.kind(), scope.system(), scope.role(), scope.vendor());
        let doors = match scope {
            TokenScope::Doors(Some(d)) => {
                Some(d.iter().map(DoorId::as_str).collect::<Vec<_>>().join(","))
            }
            _ => None,
        };
        sqlx::query("INSERT INTO tokens (id, hash, scope, system, role, label, created_at, doors, vendor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id)
            .bind(hash)
            .bind(kind)
            .bind(system)
            .bind(role)
            .bind(label)
            .bind(now.as_millis())
            .bind(doors)
            .bind(vendor)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The token with this hash, if it exists.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query("SELECT * FROM tokens ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Who issued each token (`tokens.created_by`, written by the tokens page).
    pub async fn token_creators(&self) -> Result<BTreeMap<String, String>> {
        let rows = sqlx::query("SELECT id, created_by FROM tokens WHERE created_by IS NOT NULL")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((get::<String>(r, "id")?, get::<String>(r, "created_by")?)))
            .collect()
    }

    pub async fn touch_token(&self, id: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes a token by id; returns whether it existed and was live.
    pub async fn revoke_token(&self, id: &str, now: Timestamp) -> Result<bool> {
        let res =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now.as_millis())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(res.rows_affected() == 1)
    }
}

async fn insert_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    event_id: &str,
    at: Timestamp,
    v: &Verdict,
    is_final: bool,
    cause: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO verdict_changes (event_id, at, verdict, reasons, evidence, is_final, cause) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(event_id)
        .bind(at.as_millis())
        .bind(v.kind.as_str())
        .bind(reasons_text(&v.reasons))
        .bind(evidence_text(&v.evidence))
        .bind(is_final as i64)
        .bind(cause)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Replaces the rows of the inventory's tables (rooms, doors, terminals, systems, vendors
/// with the systems they maintain, people with their credentials and accounts; not the
/// site) with `inv`, inside `tx`: shared by the file import and the dashboard's edits.
pub(crate) async fn write_inventory_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    inv: &Inventory,
) -> Result<()> {
    for table in [
        "accounts",
        "credentials",
        "people",
        "vendor_systems",
        "vendors",
        "terminals",
        "doors",
        "systems",
        "rooms",
    ] {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut **tx)
            .await?;
    }
    for (i, r) in inv.rooms().iter().enumerate() {
        sqlx::query("INSERT INTO rooms (id, name, controlled, max_presence_ms, alarm_hold_ms, position) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(r.id.as_str())
                .bind(r.name.as_str())
                .bind(r.controlled as i64)
                .bind(r.max_presence.as_millis())
                .bind(r.alarm_hold.as_millis())
                .bind(i as i64)
                .execute(&mut **tx)
                .await?;
    }
    for (i, d) in inv.doors().iter().enumerate() {
        sqlx::query("INSERT INTO doors (id, room, name, position, feed, heartbeat_timeout_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(d.id.as_str())
            .bind(d.room.as_str())
            .bind(d.name.as_str())
            .bind(i as i64)
            .bind(d.feed.as_str())
            .bind(d.heartbeat_timeout.map(|t| t.as_millis()))
            .execute(&mut **tx)
            .await?;
    }
    for (i, t) in inv.terminals().iter().enumerate() {
        sqlx::query("INSERT INTO terminals (id, room, name, position) VALUES ($1, $2, $3, $4)")
            .bind(t.id.as_str())
            .bind(t.room.as_str())
            .bind(t.name.as_str())
            .bind(i as i64)
            .execute(&mut **tx)
            .await?;
    }
    for (i, s) in inv.systems().iter().enumerate() {
        sqlx::query("INSERT INTO systems (id, name, category, native_mfa, renewal, position, plan, plan_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(s.id.as_str())
                .bind(s.name.as_str())
                .bind(s.category.as_str())
                .bind(s.native_mfa as i64)
                .bind(s.renewal.clone())
                .bind(i as i64)
                .bind(s.plan.map(|p| p.as_str()))
                .bind(s.by.map(|b| b.to_string()))
                .execute(&mut **tx)
                .await?;
    }
    for (i, v) in inv.vendors().iter().enumerate() {
        sqlx::query("INSERT INTO vendors (id, name, position) VALUES ($1, $2, $3)")
            .bind(v.id.as_str())
            .bind(v.name.as_str())
            .bind(i as i64)
            .execute(&mut **tx)
            .await?;
        for (j, m) in v.maintains.iter().enumerate() {
            sqlx::query("INSERT INTO vendor_systems (vendor, system, remote, route, confirmed, position) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(v.id.as_str())
                .bind(m.system.as_str())
                .bind(m.remote as i64)
                .bind(m.route.clone())
                .bind(m.confirmed.map(|d| d.to_string()))
                .bind(j as i64)
                .execute(&mut **tx)
                .await?;
        }
    }
    for (i, p) in inv.people().iter().enumerate() {
        sqlx::query(
            "INSERT INTO people (id, name, position, vendor, until) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.id.as_str())
        .bind(p.name.as_str())
        .bind(i as i64)
        .bind(p.vendor.as_ref().map(|v| v.to_string()))
        .bind(p.until.map(|d| d.to_string()))
        .execute(&mut **tx)
        .await?;
        for (j, c) in p.credentials.iter().enumerate() {
            sqlx::query("INSERT INTO credentials (person, type, credential_id, position) VALUES ($1, $2, $3, $4)")
                    .bind(p.id.as_str())
                    .bind(c.kind.as_str())
                    .bind(c.id.as_str())
                    .bind(j as i64)
                    .execute(&mut **tx)
                    .await?;
        }
        for (system, account) in &p.accounts {
            sqlx::query("INSERT INTO accounts (person, system, account) VALUES ($1, $2, $3)")
                .bind(p.id.as_str())
                .bind(system.as_str())
                .bind(account.as_str())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

pub(crate) fn get<T>(row: &AnyRow, col: &str) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok(row.try_get(col)?)
}

pub(crate) fn parse<T, E: std::fmt::Display>(r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The reasons of a stored verdict (comma-separated codes, in the contract's order).
pub(crate) fn reasons_from_text(text: &str) -> Result<Vec<Reason>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|f| parse(Reason::from_str(f)))
        .collect()
}

pub(crate) fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn evidence_text(e: &Option<Evidence>) -> Option<String> {
    e.as_ref().and_then(|e| serde_json::to_string(e).ok())
}

pub(crate) fn door_event_from_row(r: &AnyRow) -> Result<DoorEvent> {
    let credential = match (
        get::<Option<String>>(r, "credential_type")?,
        get::<Option<String>>(r, "credential_id")?,
    ) {
        (Some(t), Some(id)) => Some(parse(Credential::new(
            parse(CredentialType::from_str(&t))?,
            &id,
        ))?),
        _ => None,
    };
    Ok(DoorEvent {
        door: parse(DoorId::parse(get::<String>(r, "door")?))?,
        event_id: get(r, "event_id")?,
        ts: Timestamp::from_millis(get(r, "ts")?),
        kind: parse(DoorEventKind::from_str(&get::<String>(r, "kind")?))?,
        direction: parse(Direction::from_str(&get::<String>(r, "direction")?))?,
        credential,
    })
}

fn status_from_row(r: &AnyRow) -> Result<StatusChange> {
    Ok(StatusChange {
        door: parse(DoorId::parse(get::<String>(r, "door")?))?,
        ts: Timestamp::from_millis(get(r, "ts")?),
        status: parse(DoorStatus::from_str(&get::<String>(r, "status")?))?,
    })
}

fn outage_from_row(r: &AnyRow) -> Result<(DoorId, Outage)> {
    Ok((
        parse(DoorId::parse(get::<String>(r, "door")?))?,
        Outage {
            from: Timestamp::from_millis(get(r, "from_ts")?),
            to: Timestamp::from_millis(get(r, "to_ts")?),
        },
    ))
}

pub(crate) fn login_from_row(r: &AnyRow) -> Result<StoredLogin> {
    let factors = get::<String>(r, "factors")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|f| parse(Factor::from_str(f)))
        .collect::<Result<Vec<_>>>()?;
    let reasons = reasons_from_text(&get::<String>(r, "reasons")?)?;
    let evidence = match get::<Option<String>>(r, "evidence")? {
        None => None,
        Some(t) => Some(parse(serde_json::from_str::<Evidence>(&t))?),
    };
    Ok(StoredLogin {
        login: Login {
            event_id: get(r, "event_id")?,
            ts: Timestamp::from_millis(get(r, "ts")?),
            system: parse(SystemId::parse(get::<String>(r, "system")?))?,
            account: get(r, "account")?,
            terminal: get(r, "terminal")?,
            factors,
            outcome: parse(Outcome::from_str(&get::<String>(r, "outcome")?))?,
        },
        received_at: Timestamp::from_millis(get(r, "received_at")?),
        final_at: Timestamp::from_millis(get(r, "final_at")?),
        verdict: Verdict {
            kind: parse(VerdictKind::from_str(&get::<String>(r, "verdict")?))?,
            reasons,
            evidence,
        },
        is_final: get::<i64>(r, "is_final")? != 0,
    })
}

fn token_from_row(r: &AnyRow) -> Result<TokenRow> {
    let scope = match get::<String>(r, "scope")?.as_str() {
        "login" => TokenScope::Login(parse(SystemId::parse(
            get::<Option<String>>(r, "system")?.unwrap_or_default(),
        ))?),
        "doors" => TokenScope::Doors(
            get::<Option<String>>(r, "doors")?
                .map(|list| {
                    list.split(',')
                        .map(|d| parse(DoorId::parse(d.to_string())))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?,
        ),
        "read" => TokenScope::Read(get::<Option<String>>(r, "role")?.unwrap_or_default()),
        "vendor" => TokenScope::Vendor(parse(VendorId::parse(
            get::<Option<String>>(r, "vendor")?.unwrap_or_default(),
        ))?),
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown token scope {other:?}"
            )))
        }
    };
    Ok(TokenRow {
        id: get(r, "id")?,
        scope,
        label: get(r, "label")?,
        created_at: Timestamp::from_millis(get(r, "created_at")?),
        last_used_at: get::<Option<i64>>(r, "last_used_at")?.map(Timestamp::from_millis),
        revoked: get::<Option<i64>>(r, "revoked_at")?.is_some(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::Store;
    use monban_core::inventory::rows::{PersonRow, SystemRow, VendorRow};
    use monban_core::{InventoryRows, Timestamp};

    /// Vendors, the systems they maintain and a person's vendor and last day are stored
    /// and read back as they were (migration 0010).
    #[tokio::test]
    async fn vendors_round_trip_through_sqlite() {
        let rows = InventoryRows {
            // A system with a plan (issue 12) and one without.
            systems: [("ehr", "step_up", "2027-04"), ("pacs", "", "")]
                .map(|(id, plan, by)| SystemRow {
                    id: id.into(),
                    category: "ehr".into(),
                    plan: plan.into(),
                    by: by.into(),
                    ..Default::default()
                })
                .to_vec(),
            vendors: vec![VendorRow {
                id: "acme".into(),
                name: "アクメ".into(),
                maintains: VendorRow::split_maintains(
                    "ehr:remote:2026-10-01:保守用VPN: IPsec;pacs:onsite::",
                )
                .unwrap(),
            }],
            people: vec![
                PersonRow {
                    id: "v001".into(),
                    vendor: "acme".into(),
                    until: "2027-03-31".into(),
                    accounts: vec![("ehr".into(), "acme01".into())],
                    ..Default::default()
                },
                PersonRow {
                    id: "n001".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let inv = rows.parse(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("v.db").display());
        let store = Store::open(&url).await.unwrap();
        store
            .import_inventory(&inv, "d1", "test", Timestamp::from_millis(0))
            .await
            .unwrap();
        let back = store.load_inventory().await.unwrap();
        assert_eq!(back.vendors(), inv.vendors());
        assert_eq!(back.people(), inv.people());
        assert_eq!(back.systems(), inv.systems());
        assert_eq!(back.systems()[0].plan, Some(monban_core::Plan::StepUp));
        assert_eq!(InventoryRows::of(&back), InventoryRows::of(&inv));
    }
}
