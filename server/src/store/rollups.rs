//! Reads of the day rollups (`login_days`, `reason_days`) and their rebuild.
//!
//! The writer keeps the rollups in the transaction of every login and verdict change
//! ([`super::batch`]); reports read whole site days from them and count the partial days
//! at a period's edges from `logins` (an index-only scan of `logins_ts_tally`), so a
//! report costs the same over ten days or ten million logins.

use super::batch::{RollupDelta, WriteTx};
use super::{get, parse, Result, Store};
use futures::TryStreamExt;
use monban_core::period::SiteOffset;
use monban_core::{Reason, Timestamp, VerdictKind};
use std::str::FromStr;

/// One rollup row: `(system, day, key, n)`, key a verdict or a reason.
pub type DayRow<K> = (String, i64, K, u64);

impl Store {
    /// The site offset the rollups were built with (seconds east of UTC), if they were.
    pub async fn rollup_offset(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT offset_s FROM rollup_meta WHERE id = 1")
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Builds the rollups again from `logins` for the site days of `offset`, in one
    /// transaction (at start, when they are missing or were built for another offset).
    pub async fn rebuild_rollups(&self, offset: SiteOffset) -> Result<u64> {
        /// Logins counted in memory before their counts are written (bounded memory over
        /// any number of logins).
        const FLUSH: u64 = 50_000;
        let mut tx: WriteTx = self.begin_write().await?;
        tx.reset_rollups(offset).await?;
        let mut delta = RollupDelta::default();
        let mut n = 0u64;
        {
            let mut rows = sqlx::query("SELECT * FROM logins").fetch(self.pool());
            while let Some(r) = rows.try_next().await? {
                let stored = super::login_from_row(&r)?;
                let day = offset.day_of(stored.login.ts).number();
                delta.add(&stored.login, day, &stored.verdict, 1);
                n += 1;
                if n.is_multiple_of(FLUSH) {
                    tx.add_rollups(&std::mem::take(&mut delta)).await?;
                }
            }
        }
        tx.add_rollups(&delta).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Verdict counts per (system, day) for days `from_day..=to_day`.
    pub async fn day_counts(
        &self,
        from_day: i64,
        to_day: i64,
        system: Option<&str>,
    ) -> Result<Vec<DayRow<VerdictKind>>> {
        let sql = format!(
            "SELECT system, day, verdict, n FROM login_days WHERE day >= $1 AND day <= $2{}",
            if system.is_some() {
                " AND system = $3"
            } else {
                ""
            }
        );
        let mut q = sqlx::query(&sql).bind(from_day).bind(to_day);
        if let Some(s) = system {
            q = q.bind(s.to_string());
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get(r, "system")?,
                    get(r, "day")?,
                    parse(VerdictKind::from_str(&get::<String>(r, "verdict")?))?,
                    count(get(r, "n")?),
                ))
            })
            .collect()
    }

    /// Reason counts of `not_met` logins per (system, day) for days `from_day..=to_day`.
    pub async fn reason_day_counts(
        &self,
        from_day: i64,
        to_day: i64,
        system: Option<&str>,
    ) -> Result<Vec<DayRow<Reason>>> {
        let sql = format!(
            "SELECT system, day, reason, n FROM reason_days WHERE day >= $1 AND day <= $2{}",
            if system.is_some() {
                " AND system = $3"
            } else {
                ""
            }
        );
        let mut q = sqlx::query(&sql).bind(from_day).bind(to_day);
        if let Some(s) = system {
            q = q.bind(s.to_string());
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get(r, "system")?,
                    get(r, "day")?,
                    parse(Reason::from_str(&get::<String>(r, "reason")?))?,
                    count(get(r, "n")?),
                ))
            })
            .collect()
    }

    /// Verdict counts per system of the logins with `from <= ts <= to`, counted from
    /// `logins` itself (the partial days at a period's edges).
    pub async fn span_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        system: Option<&str>,
    ) -> Result<Vec<(String, VerdictKind, u64)>> {
        let sql = format!(
            "SELECT system, verdict, COUNT(*) AS n FROM logins WHERE ts >= $1 AND ts <= $2{} GROUP BY system, verdict",
            if system.is_some() { " AND system = $3" } else { "" }
        );
        let mut q = sqlx::query(&sql)
            .bind(from.as_millis())
            .bind(to.as_millis());
        if let Some(s) = system {
            q = q.bind(s.to_string());
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get(r, "system")?,
                    parse(VerdictKind::from_str(&get::<String>(r, "verdict")?))?,
                    count(get(r, "n")?),
                ))
            })
            .collect()
    }

    /// Reason counts per system of the `not_met` logins with `from <= ts <= to`.
    pub async fn span_reason_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        system: Option<&str>,
    ) -> Result<Vec<(String, Reason, u64)>> {
        let sql = format!(
            "SELECT system, reasons, COUNT(*) AS n FROM logins WHERE ts >= $1 AND ts <= $2 AND verdict = 'not_met'{} GROUP BY system, reasons",
            if system.is_some() { " AND system = $3" } else { "" }
        );
        let mut q = sqlx::query(&sql)
            .bind(from.as_millis())
            .bind(to.as_millis());
        if let Some(s) = system {
            q = q.bind(s.to_string());
        }
        let mut out = Vec::new();
        for r in q.fetch_all(self.pool()).await? {
            let system: String = get(&r, "system")?;
            let n = count(get(&r, "n")?);
            for reason in super::reasons_from_text(&get::<String>(&r, "reasons")?)? {
                out.push((system.clone(), reason, n));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Successful and `not_met` logins per terminal of one system, days
    /// `from_day..=to_day`.
    pub async fn terminal_day_counts(
        &self,
        from_day: i64,
        to_day: i64,
        system: &str,
    ) -> Result<Vec<(String, u64, u64)>> {
        let rows = sqlx::query(
            "SELECT terminal, CAST(SUM(logins) AS BIGINT) AS n, CAST(SUM(not_met) AS BIGINT) AS not_met FROM terminal_days \
             WHERE system = $1 AND day >= $2 AND day <= $3 GROUP BY terminal",
        )
        .bind(system)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, "terminal")?,
                    count(get(r, "n")?),
                    count(get(r, "not_met")?),
                ))
            })
            .collect()
    }

    /// Successful and `not_met` logins per terminal of one system with
    /// `from <= ts <= to`.
    pub async fn span_terminal_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        system: &str,
    ) -> Result<Vec<(String, u64, u64)>> {
        let rows = sqlx::query(
            "SELECT terminal, COUNT(*) AS n, \
             CAST(SUM(CASE WHEN verdict = 'not_met' THEN 1 ELSE 0 END) AS BIGINT) AS not_met FROM logins \
             WHERE system = $1 AND ts >= $2 AND ts <= $3 AND verdict <> 'not_applicable' \
             GROUP BY terminal",
        )
        .bind(system)
        .bind(from.as_millis())
        .bind(to.as_millis())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, "terminal")?,
                    count(get(r, "n")?),
                    count(get(r, "not_met")?),
                ))
            })
            .collect()
    }

    /// The newest `limit` `not_met` logins of one system with `reason`, `from <= ts <=
    /// to`: `(event_id, ts, account, terminal)`, newest first.
    pub async fn latest_with_reason(
        &self,
        system: &str,
        reason: Reason,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<Vec<(String, Timestamp, String, String)>> {
        let rows = sqlx::query(
            // The newest entries first (an index range), then their logins: never a
            // join or a sort over the whole period.
            "SELECT l.event_id, l.ts, l.account, l.terminal FROM \
             (SELECT event_id, ts FROM login_reasons \
              WHERE system = $1 AND reason = $2 AND ts >= $3 AND ts <= $4 \
              ORDER BY ts DESC, event_id DESC LIMIT $5) r \
             JOIN logins l ON l.event_id = r.event_id \
             ORDER BY r.ts DESC, r.event_id DESC",
        )
        .bind(system)
        .bind(reason.as_str())
        .bind(from.as_millis())
        .bind(to.as_millis())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, "event_id")?,
                    Timestamp::from_millis(get(r, "ts")?),
                    get(r, "account")?,
                    get(r, "terminal")?,
                ))
            })
            .collect()
    }
}

impl WriteTx {
    /// Empties both rollups and records the offset they are built for.
    pub(crate) async fn reset_rollups(&mut self, offset: SiteOffset) -> Result<()> {
        for sql in [
            "DELETE FROM login_days",
            "DELETE FROM reason_days",
            "DELETE FROM terminal_days",
            "DELETE FROM login_reasons",
            "DELETE FROM rollup_meta",
        ] {
            self.execute(sql).await?;
        }
        let seconds = i64::from(offset.seconds());
        self.execute_with(
            "INSERT INTO rollup_meta (id, offset_s) VALUES (1, $1)",
            seconds,
        )
        .await
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
