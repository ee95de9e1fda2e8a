//! The writer's side of the store: one transaction per batch of inputs
//! ([`crate::writer`]), with multi-row statements so that a batch costs one commit (one
//! fsync) however many inputs it holds.
//!
//! Every method takes the open [`WriteTx`]; nothing here commits on its own. Inserts are
//! idempotent where the contract asks for it (`ON CONFLICT … DO NOTHING` on a door's
//! `event_id`), and the rollups of [`super::rollups`] move in the same transaction as the
//! logins and verdict changes they count.

use super::evidence::{returning, NewRecord};
pub(crate) use super::multirow::{insert_values, Params, Val, MAX_PARAMS};
use super::{get, login_from_row, Result, Store, StoredLogin};
use monban_connectors::DeadLetter;
use monban_core::evidence::Kind;
use monban_core::health::OutageCause;
use monban_core::timeline::Outage;
use monban_core::{
    DoorEvent, DoorId, Login, StatusChange, Timestamp, Verdict, VerdictKind, VerdictUpdate,
};
use sqlx::any::AnyRow;
use std::collections::{HashMap, HashSet};

/// The rollup changes of one batch, netted before they are written: verdicts and
/// reasons per (system, day), successful and `not_met` logins per (system, day,
/// terminal), and the `login_reasons` rows of the logins whose verdict was counted or
/// uncounted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RollupDelta {
    pub verdicts: HashMap<(String, i64, &'static str), i64>,
    pub reasons: HashMap<(String, i64, &'static str), i64>,
    /// `(system, day, terminal) → (Δ successful, Δ not_met)`.
    pub terminals: HashMap<(String, i64, String), (i64, i64)>,
    /// `event_id →` what to do with its `login_reasons` rows.
    pub reason_rows: HashMap<String, ReasonRows>,
}

/// The `login_reasons` rows of one login: delete the stored ones first (it was counted
/// as `not_met` before this batch), and the rows it has now (`system`, `ts`, reasons),
/// if it is `not_met` now.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReasonRows {
    pub delete: bool,
    pub now: Option<(String, i64, Vec<&'static str>)>,
}

impl RollupDelta {
    /// Counts (`sign` = 1) or uncounts (`-1`) `login` with verdict `v` on `day`.
    pub fn add(&mut self, login: &Login, day: i64, v: &Verdict, sign: i64) {
        let system = login.system.as_str();
        *self
            .verdicts
            .entry((system.to_string(), day, v.kind.as_str()))
            .or_default() += sign;
        for r in &v.reasons {
            *self
                .reasons
                .entry((system.to_string(), day, r.as_str()))
                .or_default() += sign;
        }
        if v.kind != VerdictKind::NotApplicable {
            let t = self
                .terminals
                .entry((system.to_string(), day, login.terminal.clone()))
                .or_default();
            t.0 += sign;
            if v.kind == VerdictKind::NotMet {
                t.1 += sign;
            }
        }
        if v.kind == VerdictKind::NotMet {
            let e = self
                .reason_rows
                .entry(login.event_id.clone())
                .or_insert(ReasonRows {
                    delete: sign < 0,
                    now: None,
                });
            e.now = (sign > 0).then(|| {
                (
                    system.to_string(),
                    login.ts.as_millis(),
                    v.reasons.iter().map(|r| r.as_str()).collect(),
                )
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.verdicts.values().all(|n| *n == 0)
            && self.reasons.values().all(|n| *n == 0)
            && self.terminals.values().all(|n| *n == (0, 0))
            && self.reason_rows.is_empty()
    }
}

/// A verdict change to persist, with what caused it (`final`, `door event d/e`, …).
#[derive(Debug, Clone)]
pub struct UpdateRow {
    pub update: VerdictUpdate,
    pub cause: String,
}

/// The writer's open transaction, with the records it stored that the evidence chain
/// will cover at its commit ([`super::evidence`]).
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    params: Params,
    chain: Vec<NewRecord>,
}

impl Store {
    /// Opens the transaction of one batch.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        Ok(WriteTx {
            tx: self.begin().await?,
            params: if self.is_sqlite() {
                Params::Anonymous
            } else {
                Params::Numbered
            },
            chain: Vec::new(),
        })
    }
}

impl WriteTx {
    /// Chains the records of the batch (`super::evidence::append`) and commits.
    pub async fn commit(mut self) -> Result<()> {
        let records = std::mem::take(&mut self.chain);
        super::evidence::append(
            &mut self.tx,
            self.params == Params::Anonymous,
            records,
            Timestamp::from(chrono::Utc::now()),
        )
        .await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Records stored in this transaction, for the evidence chain.
    pub(crate) fn chain(&mut self, kind: Kind, rows: &[AnyRow]) -> Result<()> {
        self.chain.extend(super::evidence::records_of(kind, rows)?);
        Ok(())
    }

    /// The open transaction, for the store's other modules.
    pub(crate) fn inner(&mut self) -> &mut sqlx::Transaction<'static, sqlx::Any> {
        &mut self.tx
    }

    pub(crate) async fn execute(&mut self, sql: &str) -> Result<()> {
        sqlx::query(sql).execute(&mut *self.tx).await?;
        Ok(())
    }

    pub(crate) async fn execute_with(&mut self, sql: &str, v: i64) -> Result<()> {
        sqlx::query(sql).bind(v).execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Runs `sql_head` + `VALUES (…), (…)` (+ `sql_tail`) over `rows`; returns the rows
    /// of a `RETURNING` tail. The rows go in chunks of a few fixed sizes
    /// ([`CHUNKS`]), so the connection's cache of prepared statements holds every
    /// statement a batch needs instead of parsing a new one for each batch size.
    async fn insert_rows(
        &mut self,
        sql_head: &str,
        sql_tail: &str,
        cols: usize,
        rows: Vec<Vec<Val>>,
    ) -> Result<Vec<AnyRow>> {
        insert_values(&mut self.tx, self.params, sql_head, sql_tail, cols, rows).await
    }

    /// Stores door events once per (door, `event_id`); returns the keys that were new.
    pub async fn insert_door_events(
        &mut self,
        rows: &[(&DoorEvent, &str, Timestamp)],
    ) -> Result<HashSet<(String, String)>> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let vals = rows
            .iter()
            .map(|(e, source, received)| {
                vec![
                    Val::from(e.door.as_str()),
                    Val::from(e.event_id.as_str()),
                    Val::Int(e.ts.as_millis()),
                    Val::from(e.kind.as_str()),
                    Val::from(e.direction.as_str()),
                    Val::OptText(e.credential.as_ref().map(|c| c.kind.as_str().to_string())),
                    Val::OptText(e.credential.as_ref().map(|c| c.id.clone())),
                    Val::from(*source),
                    Val::Int(received.as_millis()),
                    Val::Text(e.to_json().to_string()),
                ]
            })
            .collect();
        let returned = self
            .insert_rows(
                "INSERT INTO door_events (door, event_id, ts, kind, direction, credential_type, credential_id, source, received_at, payload)",
                &format!("ON CONFLICT (door, event_id) DO NOTHING {}", returning(Kind::DoorEvent)),
                10,
                vals,
            )
            .await?;
        self.chain(Kind::DoorEvent, &returned)?;
        returned
            .iter()
            .map(|r| Ok((get::<String>(r, "door")?, get::<String>(r, "event_id")?)))
            .collect()
    }

    pub async fn insert_statuses(
        &mut self,
        rows: &[(StatusChange, &'static str, Timestamp)],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let vals = rows
            .iter()
            .map(|(s, source, received)| {
                vec![
                    Val::from(s.door.as_str()),
                    Val::Int(s.ts.as_millis()),
                    Val::from(s.status.as_str()),
                    Val::from(*source),
                    Val::Int(received.as_millis()),
                ]
            })
            .collect();
        let returned = self
            .insert_rows(
                "INSERT INTO door_status (door, ts, status, source, received_at)",
                &returning(Kind::DoorStatus),
                5,
                vals,
            )
            .await?;
        self.chain(Kind::DoorStatus, &returned)
    }

    pub async fn insert_outages(
        &mut self,
        rows: &[(DoorId, Outage, OutageCause, String, Timestamp)],
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let vals = rows
            .iter()
            .map(|(door, o, cause, reason, at)| {
                vec![
                    Val::from(door.as_str()),
                    Val::Int(o.from.as_millis()),
                    Val::Int(o.to.as_millis()),
                    Val::from(reason.as_str()),
                    Val::Int(at.as_millis()),
                    Val::from(cause.as_str()),
                ]
            })
            .collect();
        let returned = self
            .insert_rows(
                "INSERT INTO door_outages (door, from_ts, to_ts, reason, recorded_at, cause)",
                &returning(Kind::Outage),
                6,
                vals,
            )
            .await?;
        self.chain(Kind::Outage, &returned)
    }

    /// The stored logins among `ids`.
    pub async fn logins_by_id(&mut self, ids: &[&str]) -> Result<HashMap<String, StoredLogin>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(MAX_PARAMS) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT * FROM logins WHERE event_id IN ({})",
                self.params.list(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *self.tx).await? {
                let l = login_from_row(&r)?;
                out.insert(l.login.event_id.clone(), l);
            }
        }
        Ok(out)
    }

    /// Records a verified step-up on a login, once: false if it was not `verified` (used
    /// already, by this batch or before).
    pub async fn consume_step_up(&mut self, id: &str, login: &str) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE step_ups SET status = 'used', login = $1 WHERE id = $2 AND status = 'verified'",
        )
        .bind(login)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Stores new logins with their first verdict (and its `received` history row).
    pub async fn insert_logins(&mut self, rows: &[StoredLogin], now: Timestamp) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let vals = rows
            .iter()
            .map(|s| {
                let l = &s.login;
                vec![
                    Val::from(l.event_id.as_str()),
                    Val::from(l.system.as_str()),
                    Val::from(l.account.as_str()),
                    Val::from(l.terminal.as_str()),
                    Val::Int(l.ts.as_millis()),
                    Val::Text(
                        l.factors
                            .iter()
                            .map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    Val::from(l.outcome.as_str()),
                    Val::Int(s.received_at.as_millis()),
                    Val::Int(s.final_at.as_millis()),
                    Val::from(s.verdict.kind.as_str()),
                    Val::Text(super::reasons_text(&s.verdict.reasons)),
                    Val::OptText(super::evidence_text(&s.verdict.evidence)),
                    Val::Int(s.is_final as i64),
                    Val::Int(now.as_millis()),
                ]
            })
            .collect();
        let returned = self
            .insert_rows(
                "INSERT INTO logins (event_id, system, account, terminal, ts, factors, outcome, received_at, final_at, verdict, reasons, evidence, is_final, updated_at)",
                &returning(Kind::Login),
                14,
                vals,
            )
            .await?;
        self.chain(Kind::Login, &returned)?;
        let history = rows
            .iter()
            .map(|s| change_row(&s.login.event_id, now, &s.verdict, s.is_final, "received"))
            .collect();
        self.insert_changes(history).await
    }

    async fn insert_changes(&mut self, rows: Vec<Vec<Val>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let returned = self
            .insert_rows(
                "INSERT INTO verdict_changes (event_id, at, verdict, reasons, evidence, is_final, cause)",
                &returning(Kind::VerdictChange),
                7,
                rows,
            )
            .await?;
        self.chain(Kind::VerdictChange, &returned)
    }

    /// Persists verdict changes and finalisations from the engine, in their order, each
    /// with a history row.
    pub async fn apply_updates(&mut self, updates: &[UpdateRow], now: Timestamp) -> Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        // The last word on each login wins; a login whose verdict only became final is
        // updated with one statement for all of them.
        let mut last: HashMap<&str, &VerdictUpdate> = HashMap::new();
        for u in updates {
            last.insert(u.update.event_id.as_str(), &u.update);
        }
        let changed: HashSet<&str> = updates
            .iter()
            .filter(|u| u.update.changed())
            .map(|u| u.update.event_id.as_str())
            .collect();
        let only_final: Vec<&str> = last
            .iter()
            .filter(|(id, u)| u.is_final && !changed.contains(*id))
            .map(|(id, _)| *id)
            .collect();
        for chunk in only_final.chunks(MAX_PARAMS - 1) {
            let sql = format!(
                "UPDATE logins SET is_final = 1, updated_at = {} WHERE event_id IN ({})",
                self.params.list(1, 1),
                self.params.list(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(now.as_millis());
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *self.tx).await?;
        }
        for id in &changed {
            let Some(u) = last.get(id) else { continue };
            sqlx::query("UPDATE logins SET verdict = $1, reasons = $2, evidence = $3, is_final = $4, updated_at = $5 WHERE event_id = $6")
                .bind(u.verdict.kind.as_str())
                .bind(super::reasons_text(&u.verdict.reasons))
                .bind(super::evidence_text(&u.verdict.evidence))
                .bind(u.is_final as i64)
                .bind(now.as_millis())
                .bind(u.event_id.as_str())
                .execute(&mut *self.tx)
                .await?;
        }
        let history = updates
            .iter()
            .map(|u| {
                let cause = if u.update.is_final {
                    "final"
                } else {
                    u.cause.as_str()
                };
                change_row(
                    &u.update.event_id,
                    now,
                    &u.update.verdict,
                    u.update.is_final,
                    cause,
                )
            })
            .collect();
        self.insert_changes(history).await
    }

    /// Moves the day rollups by `delta`.
    pub async fn add_rollups(&mut self, delta: &RollupDelta) -> Result<()> {
        let verdicts: Vec<Vec<Val>> = delta
            .verdicts
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|((s, d, v), n)| {
                vec![
                    Val::from(s.as_str()),
                    Val::Int(*d),
                    Val::from(*v),
                    Val::Int(*n),
                ]
            })
            .collect();
        if !verdicts.is_empty() {
            self.insert_rows(
                "INSERT INTO login_days (system, day, verdict, n)",
                "ON CONFLICT (system, day, verdict) DO UPDATE SET n = login_days.n + excluded.n",
                4,
                verdicts,
            )
            .await?;
        }
        let reasons: Vec<Vec<Val>> = delta
            .reasons
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|((s, d, r), n)| {
                vec![
                    Val::from(s.as_str()),
                    Val::Int(*d),
                    Val::from(*r),
                    Val::Int(*n),
                ]
            })
            .collect();
        if !reasons.is_empty() {
            self.insert_rows(
                "INSERT INTO reason_days (system, day, reason, n)",
                "ON CONFLICT (system, day, reason) DO UPDATE SET n = reason_days.n + excluded.n",
                4,
                reasons,
            )
            .await?;
        }
        let terminals: Vec<Vec<Val>> = delta
            .terminals
            .iter()
            .filter(|(_, n)| **n != (0, 0))
            .map(|((s, d, t), (n, not_met))| {
                vec![
                    Val::from(s.as_str()),
                    Val::Int(*d),
                    Val::from(t.as_str()),
                    Val::Int(*n),
                    Val::Int(*not_met),
                ]
            })
            .collect();
        if !terminals.is_empty() {
            self.insert_rows(
                "INSERT INTO terminal_days (system, day, terminal, logins, not_met)",
                "ON CONFLICT (system, day, terminal) DO UPDATE SET logins = terminal_days.logins + excluded.logins, not_met = terminal_days.not_met + excluded.not_met",
                5,
                terminals,
            )
            .await?;
        }
        let mut rows = Vec::new();
        for (event_id, ReasonRows { delete, now }) in &delta.reason_rows {
            if *delete {
                sqlx::query("DELETE FROM login_reasons WHERE event_id = $1")
                    .bind(event_id.as_str())
                    .execute(&mut *self.tx)
                    .await?;
            }
            if let Some((system, ts, reasons)) = now {
                for r in reasons {
                    rows.push(vec![
                        Val::from(event_id.as_str()),
                        Val::from(system.as_str()),
                        Val::Int(*ts),
                        Val::from(*r),
                    ]);
                }
            }
        }
        if !rows.is_empty() {
            self.insert_rows(
                "INSERT INTO login_reasons (event_id, system, ts, reason)",
                "",
                4,
                rows,
            )
            .await?;
        }
        Ok(())
    }

    /// Keeps the latest heartbeat time of each door.
    pub async fn upsert_heartbeats(&mut self, rows: &[(DoorId, Timestamp)]) -> Result<()> {
        for (door, at) in rows {
            sqlx::query(
                "INSERT INTO door_heartbeats (door, last_at) VALUES ($1, $2) \
                 ON CONFLICT (door) DO UPDATE SET last_at = excluded.last_at \
                 WHERE excluded.last_at > door_heartbeats.last_at",
            )
            .bind(door.as_str())
            .bind(at.as_millis())
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    pub async fn insert_dead_letters(&mut self, rows: &[DeadLetter]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let vals = rows
            .iter()
            .map(|d| {
                vec![
                    Val::from(d.source.as_str()),
                    Val::from(d.origin.as_str()),
                    Val::Bytes(d.payload.clone()),
                    Val::from(d.reason.as_str()),
                    Val::Int(d.received_at.as_millis()),
                    Val::OptText(d.door.as_ref().map(|d| d.to_string())),
                ]
            })
            .collect();
        self.insert_rows(
            "INSERT INTO dead_letters (source, origin, payload, reason, received_at, door)",
            "",
            6,
            vals,
        )
        .await?;
        Ok(())
    }

    /// Notes that connector `name` was connected at `at`.
    pub async fn mark_connector_up(&mut self, name: &str, at: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO connector_marks (name, last_up_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET last_up_at = excluded.last_up_at \
             WHERE excluded.last_up_at > connector_marks.last_up_at",
        )
        .bind(name)
        .bind(at.as_millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

fn change_row(event_id: &str, at: Timestamp, v: &Verdict, is_final: bool, cause: &str) -> Vec<Val> {
    vec![
        Val::from(event_id),
        Val::Int(at.as_millis()),
        Val::from(v.kind.as_str()),
        Val::Text(super::reasons_text(&v.reasons)),
        Val::OptText(super::evidence_text(&v.evidence)),
        Val::Int(is_final as i64),
        Val::from(cause),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_number_every_placeholder() {
        assert_eq!(Params::Numbered.values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(Params::Anonymous.values(2, 2), "(?, ?), (?, ?)");
        assert_eq!(Params::Numbered.list(2, 3), "$2, $3, $4");
        assert_eq!(Params::Anonymous.list(2, 2), "?, ?");
    }
}
