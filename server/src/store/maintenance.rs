//! Maintenance requests (CONTRACT §10) as stored: one row per request holding its JSON
//! document (`monban_core::maintenance::Request`, decisions and report included), written
//! together with its audit line in one transaction; and the two reads reconciliation
//! needs — the logins of given accounts of a system, and the door entries of given
//! credentials — over a period.

use crate::store::auth::NewAudit;
use crate::store::evidence;
use crate::store::{door_event_from_row, get, login_from_row, parse, Result, Store, StoredLogin};
use monban_core::evidence::Kind;
use monban_core::maintenance::Request;
use monban_core::{Credential, DoorEvent, Timestamp};

/// At most this many accounts or credentials per query (bind parameters stay far below
/// every backend's limit); longer lists are read in chunks.
const CHUNK: usize = 200;

fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Every stored request, oldest filing first.
    pub async fn maintenance_requests(&self) -> Result<Vec<Request>> {
        let rows =
            sqlx::query("SELECT doc FROM maintenance_requests ORDER BY requested_at, request_id")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| parse(serde_json::from_str::<Request>(&get::<String>(r, "doc")?)))
            .collect()
    }

    /// Stores a request as it is now — a new one (`new`) or one decided or reported —
    /// with its audit line, in one transaction: both are kept or neither.
    pub async fn save_request(
        &self,
        request: &Request,
        new: bool,
        audit: &NewAudit<'_>,
        now: Timestamp,
    ) -> Result<()> {
        let doc = parse(serde_json::to_string(request))?;
        let mut tx = self.begin().await?;
        let q = if new {
            "INSERT INTO maintenance_requests (request_id, vendor, system, start_ms, end_ms, status, requested_at, updated_at, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        } else {
            "UPDATE maintenance_requests SET vendor = $2, system = $3, start_ms = $4, end_ms = $5, status = $6, \
             requested_at = $7, updated_at = $8, doc = $9 WHERE request_id = $1"
        };
        let q = format!("{q} {}", evidence::returning(Kind::Maintenance));
        let row = sqlx::query(&q)
            .bind(request.id.as_str())
            .bind(request.vendor.as_str())
            .bind(request.system.as_str())
            .bind(request.start.as_millis())
            .bind(request.end.as_millis())
            .bind(request.status.as_str())
            .bind(request.requested_at.as_millis())
            .bind(now.as_millis())
            .bind(doc)
            .fetch_optional(&mut *tx)
            .await?;
        // The request as saved, then its audit line: two links, one transaction.
        if let Some(row) = row {
            let rec = evidence::record_of(Kind::Maintenance, &row)?;
            evidence::append(&mut tx, self.is_sqlite(), vec![rec], now).await?;
        }
        crate::store::auth::insert_audit(&mut tx, self.is_sqlite(), audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Logins of `system` by any of `accounts` with `from <= ts < to`, in `(ts,
    /// event_id)` order.
    pub async fn logins_of_accounts(
        &self,
        system: &str,
        accounts: &[String],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<StoredLogin>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(CHUNK) {
            let q = format!(
                "SELECT * FROM logins WHERE system = $1 AND ts >= $2 AND ts < $3 AND account IN ({})",
                placeholders(4, chunk.len())
            );
            let mut query = sqlx::query(&q)
                .bind(system)
                .bind(from.as_millis())
                .bind(to.as_millis());
            for a in chunk {
                query = query.bind(a.as_str());
            }
            for r in query.fetch_all(self.pool()).await? {
                out.push(login_from_row(&r)?);
            }
        }
        out.sort_by(|a, b| (a.login.ts, &a.login.event_id).cmp(&(b.login.ts, &b.login.event_id)));
        Ok(out)
    }

    /// `access_granted` door events presenting any of `credentials` with `from <= ts <
    /// to`, in event-time order.
    pub async fn entries_of_credentials(
        &self,
        credentials: &[Credential],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<DoorEvent>> {
        let ids: Vec<&str> = credentials.iter().map(|c| c.id.as_str()).collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let q = format!(
                "SELECT * FROM door_events WHERE kind = 'access_granted' AND ts >= $1 AND ts < $2 AND credential_id IN ({})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&q).bind(from.as_millis()).bind(to.as_millis());
            for id in chunk {
                query = query.bind(*id);
            }
            for r in query.fetch_all(self.pool()).await? {
                let e = door_event_from_row(&r)?;
                // The same id under another type is another credential.
                if e.credential
                    .as_ref()
                    .is_some_and(|c| credentials.contains(c))
                {
                    out.push(e);
                }
            }
        }
        out.sort_by(|a, b| (a.ts, &a.door, &a.event_id).cmp(&(b.ts, &b.door, &b.event_id)));
        Ok(out)
    }

    /// Door events of `doors` with `from <= ts < to`, in event-time order (the presence
    /// of everyone in a room, for 立会い).
    pub async fn door_events_of_doors(
        &self,
        doors: &[String],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<DoorEvent>> {
        let mut out = Vec::new();
        for chunk in doors.chunks(CHUNK) {
            let q = format!(
                "SELECT * FROM door_events WHERE ts >= $1 AND ts < $2 AND door IN ({}) ORDER BY ts, seq",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&q).bind(from.as_millis()).bind(to.as_millis());
            for d in chunk {
                query = query.bind(d.as_str());
            }
            for r in query.fetch_all(self.pool()).await? {
                out.push(door_event_from_row(&r)?);
            }
        }
        out.sort_by(|a, b| (a.ts, &a.door, &a.event_id).cmp(&(b.ts, &b.door, &b.event_id)));
        Ok(out)
    }
}
