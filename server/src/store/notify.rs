//! Storage of notifications (CONTRACT §11, migrations `sqlite/0013_notify.sql`,
//! `postgres/0009_notify.sql`): the outbox of events, one delivery per target with its
//! attempts and retry time, and the cursors with which the notifier reads the facts it
//! turns into events (door status changes, integrity alarms).
//!
//! An event is stored, with its deliveries, in one transaction before anything is sent;
//! a delivery is marked only after its attempt, so a crash in between sends it again
//! (at least once; the receiver recognises the repeated `webhook-id`).

use crate::store::{get, parse, Result, Store};
use monban_core::notify::EventKind;
use monban_core::{DoorEventKind, DoorId, DoorStatus, StatusChange, Timestamp};
use sqlx::any::AnyRow;
use std::str::FromStr;

/// The longest `last_error` kept, in characters.
pub const ERROR_CHARS: usize = 500;

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not tried yet.
    Pending,
    /// Tried and failed; tried again at `next_attempt_at`.
    Retrying,
    /// The receiver answered 2xx (the SMTP server accepted the message).
    Delivered,
    /// Its target is no longer in `monban.toml`: never sent.
    Dropped,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Retrying,
        DeliveryStatus::Delivered,
        DeliveryStatus::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dropped => "dropped",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<DeliveryStatus, String> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown delivery status {s:?}"))
    }
}

/// A notification to store.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub id: &'a str,
    pub kind: EventKind,
    pub key: &'a str,
    pub at: Timestamp,
    pub site: &'a str,
    /// JSON text (bounded by the caller).
    pub data: &'a str,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRow {
    pub id: String,
    pub kind: EventKind,
    pub key: String,
    pub at: Timestamp,
    pub site: String,
    pub data: String,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// A delivery that is due, with its notification.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub notification: NotificationRow,
    pub delivery: DeliveryRow,
}

/// A status change read by the notifier, with its place in the table.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFact {
    pub seq: i64,
    pub change: StatusChange,
    pub source: String,
    /// The door's status before this change (by arrival), if it had one.
    pub previous: Option<DoorStatus>,
}

/// An integrity alarm event read by the notifier.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmFact {
    pub seq: i64,
    pub door: DoorId,
    pub event_id: String,
    pub ts: Timestamp,
    pub kind: DoorEventKind,
}

fn notification_from_row(r: &AnyRow) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: get(r, "id")?,
        kind: parse(EventKind::from_str(&get::<String>(r, "kind")?))?,
        key: get(r, "key")?,
        at: Timestamp::from_millis(get(r, "at")?),
        site: get(r, "site")?,
        data: get(r, "data")?,
    })
}

fn delivery_from_row(r: &AnyRow) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        target: get(r, "target")?,
        status: parse(DeliveryStatus::from_str(&get::<String>(r, "status")?))?,
        attempts: get(r, "attempts")?,
        next_attempt_at: get::<Option<i64>>(r, "next_attempt_at")?.map(Timestamp::from_millis),
        last_error: get(r, "last_error")?,
        delivered_at: get::<Option<i64>>(r, "delivered_at")?.map(Timestamp::from_millis),
    })
}

/// At most [`ERROR_CHARS`] characters of `error`.
fn bounded(error: &str) -> String {
    error.chars().take(ERROR_CHARS).collect()
}

impl Store {
    /// Stores a notification and one pending delivery per target, due at once — unless
    /// a notification of the same kind and key is stored already (then nothing is
    /// written). Returns whether it was new.
    pub async fn insert_notification(
        &self,
        n: &NewNotification<'_>,
        targets: &[String],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "INSERT INTO notifications (id, kind, key, at, site, data) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (kind, key) DO NOTHING",
        )
        .bind(n.id)
        .bind(n.kind.as_str())
        .bind(n.key)
        .bind(n.at.as_millis())
        .bind(n.site)
        .bind(n.data)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for target in targets {
            sqlx::query(
                "INSERT INTO notification_deliveries (notification, target, status, attempts, next_attempt_at) \
                 VALUES ($1, $2, $3, 0, $4)",
            )
            .bind(n.id)
            .bind(target.as_str())
            .bind(DeliveryStatus::Pending.as_str())
            .bind(n.at.as_millis())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The deliveries due at `now` (pending or retrying), the longest waiting first.
    pub async fn due_deliveries(&self, now: Timestamp, limit: i64) -> Result<Vec<DueDelivery>> {
        let rows = sqlx::query(
            "SELECT n.id, n.kind, n.key, n.at, n.site, n.data, d.target, d.status, d.attempts, \
                    d.next_attempt_at, d.last_error, d.delivered_at \
             FROM notification_deliveries d JOIN notifications n ON n.id = d.notification \
             WHERE d.status IN ('pending', 'retrying') AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at, n.seq LIMIT $2",
        )
        .bind(now.as_millis())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueDelivery {
                    notification: notification_from_row(r)?,
                    delivery: delivery_from_row(r)?,
                })
            })
            .collect()
    }

    /// Makes every waiting delivery due at `now` (when the hub starts: a receiver that
    /// was down may be back, and the hub's own downtime has already been a wait).
    pub async fn deliveries_due_now(&self, now: Timestamp) -> Result<u64> {
        let res = sqlx::query(
            "UPDATE notification_deliveries SET next_attempt_at = $1 \
             WHERE status IN ('pending', 'retrying') AND next_attempt_at > $1",
        )
        .bind(now.as_millis())
        .execute(self.pool())
        .await?;
        Ok(res.rows_affected())
    }

    /// When the next pending or retrying delivery is due.
    pub async fn next_delivery_at(&self) -> Result<Option<Timestamp>> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM notification_deliveries WHERE status IN ('pending', 'retrying')",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(at.map(Timestamp::from_millis))
    }

    /// Marks a delivery delivered after its `attempts`-th attempt.
    pub async fn delivery_delivered(
        &self,
        notification: &str,
        target: &str,
        attempts: i64,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE notification_deliveries SET status = $1, attempts = $2, delivered_at = $3, \
             next_attempt_at = NULL WHERE notification = $4 AND target = $5",
        )
        .bind(DeliveryStatus::Delivered.as_str())
        .bind(attempts)
        .bind(at.as_millis())
        .bind(notification)
        .bind(target)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt (the `attempts`-th) and when to try again.
    pub async fn delivery_failed(
        &self,
        notification: &str,
        target: &str,
        attempts: i64,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE notification_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
             last_error = $4 WHERE notification = $5 AND target = $6",
        )
        .bind(DeliveryStatus::Retrying.as_str())
        .bind(attempts)
        .bind(next_attempt_at.as_millis())
        .bind(bounded(error))
        .bind(notification)
        .bind(target)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Gives up a delivery whose target is no longer configured.
    pub async fn delivery_dropped(
        &self,
        notification: &str,
        target: &str,
        why: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE notification_deliveries SET status = $1, next_attempt_at = NULL, last_error = $2 \
             WHERE notification = $3 AND target = $4",
        )
        .bind(DeliveryStatus::Dropped.as_str())
        .bind(bounded(why))
        .bind(notification)
        .bind(target)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The newest `limit` notifications with their deliveries, newest first.
    pub async fn notifications(
        &self,
        limit: i64,
    ) -> Result<Vec<(NotificationRow, Vec<DeliveryRow>)>> {
        let rows = sqlx::query(
            "SELECT n.seq, n.id, n.kind, n.key, n.at, n.site, n.data, d.target, d.status, d.attempts, \
                    d.next_attempt_at, d.last_error, d.delivered_at \
             FROM (SELECT * FROM notifications ORDER BY seq DESC LIMIT $1) n \
             LEFT JOIN notification_deliveries d ON d.notification = n.id \
             ORDER BY n.seq DESC, d.target",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(NotificationRow, Vec<DeliveryRow>)> = Vec::new();
        let mut last_seq = None;
        for r in &rows {
            let seq: i64 = get(r, "seq")?;
            if last_seq != Some(seq) {
                out.push((notification_from_row(r)?, Vec::new()));
                last_seq = Some(seq);
            }
            if get::<Option<String>>(r, "target")?.is_some() {
                if let Some((_, deliveries)) = out.last_mut() {
                    deliveries.push(delivery_from_row(r)?);
                }
            }
        }
        Ok(out)
    }

    // ---- the notifier's sources --------------------------------------------------------

    /// Where the notifier stopped reading `name` (a table of facts), if it ever started.
    pub async fn notify_cursor(&self, name: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM notify_cursors WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn set_notify_cursor(&self, name: &str, seq: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO notify_cursors (name, seq) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
        )
        .bind(name)
        .bind(seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The last `seq` of `door_status` (0 when empty).
    pub async fn last_status_seq(&self) -> Result<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM door_status")
            .fetch_one(self.pool())
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// The last `seq` of `door_events` (0 when empty).
    pub async fn last_door_event_seq(&self) -> Result<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM door_events")
            .fetch_one(self.pool())
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// Status changes stored after `seq`, in the order they were stored, each with the
    /// status its door had before it.
    pub async fn statuses_after(&self, seq: i64, limit: i64) -> Result<Vec<StatusFact>> {
        let rows = sqlx::query(
            "SELECT s.seq, s.door, s.ts, s.status, s.source, \
                    (SELECT p.status FROM door_status p WHERE p.door = s.door AND p.seq < s.seq \
                     ORDER BY p.seq DESC LIMIT 1) AS previous \
             FROM door_status s WHERE s.seq > $1 ORDER BY s.seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatusFact {
                    seq: get(r, "seq")?,
                    change: StatusChange {
                        door: parse(DoorId::parse(get::<String>(r, "door")?))?,
                        ts: Timestamp::from_millis(get(r, "ts")?),
                        status: parse(DoorStatus::from_str(&get::<String>(r, "status")?))?,
                    },
                    source: get(r, "source")?,
                    previous: get::<Option<String>>(r, "previous")?
                        .map(|s| parse(DoorStatus::from_str(&s)))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Integrity alarm events (`DoorEventKind::is_integrity_alarm`) with
    /// `after < seq <= upto`, in the order they were stored.
    pub async fn alarms_between(&self, after: i64, upto: i64) -> Result<Vec<AlarmFact>> {
        let kinds: Vec<String> = DoorEventKind::ALL
            .iter()
            .filter(|k| k.is_integrity_alarm())
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        let sql = format!(
            "SELECT seq, door, event_id, ts, kind FROM door_events \
             WHERE seq > $1 AND seq <= $2 AND kind IN ({}) ORDER BY seq",
            kinds.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(upto)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AlarmFact {
                    seq: get(r, "seq")?,
                    door: parse(DoorId::parse(get::<String>(r, "door")?))?,
                    event_id: get(r, "event_id")?,
                    ts: Timestamp::from_millis(get(r, "ts")?),
                    kind: parse(DoorEventKind::from_str(&get::<String>(r, "kind")?))?,
                })
            })
            .collect()
    }
}
