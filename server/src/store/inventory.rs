//! Inventory edits made in the dashboard (issue 4): writing a whole edited inventory with
//! its change records in one transaction, reading the change log, and keeping CSV imports
//! that wait for the officer's confirmation (`inventory_pending`).
//!
//! An edit does **not** touch `inventory_imports`: that table holds the digest of the last
//! `monban.toml` import, and `import_inventory` re-imports the file only when its digest
//! changed. So a restart with the same file keeps the officer's edits; editing the file's
//! inventory replaces them (the file is then the newer statement of the site).

use crate::store::{get, Result, Store};
use monban_core::evidence::Kind;
use monban_core::{Inventory, Timestamp};

/// One recorded change of one inventory row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryChange {
    /// `add`, `change` or `remove`.
    pub action: String,
    /// `rooms`, `doors`, `terminals`, `systems`, `vendors` or `people`.
    pub table: String,
    /// The row's id.
    pub key: String,
    /// The row before, as a JSON object of its CSV columns (none when added).
    pub before: Option<String>,
    /// The row after (none when removed).
    pub after: Option<String>,
}

/// A change as stored, with who made it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub at: Timestamp,
    pub who: String,
    pub change: InventoryChange,
}

impl Store {
    /// The latest `limit` inventory changes, newest first.
    pub async fn inventory_changes(&self, limit: i64) -> Result<Vec<ChangeRecord>> {
        let rows = sqlx::query(
            "SELECT at, who, action, tbl, row_key, before_json, after_json FROM inventory_changes ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ChangeRecord {
                    at: Timestamp::from_millis(get(r, "at")?),
                    who: get(r, "who")?,
                    change: InventoryChange {
                        action: get(r, "action")?,
                        table: get(r, "tbl")?,
                        key: get(r, "row_key")?,
                        before: get(r, "before_json")?,
                        after: get(r, "after_json")?,
                    },
                })
            })
            .collect()
    }

    /// Keeps a CSV import until it is confirmed or discarded (at most a day: older ones
    /// are dropped here).
    pub async fn put_pending_import(
        &self,
        id: &str,
        table: &str,
        csv: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("DELETE FROM inventory_pending WHERE created_at < $1")
            .bind(now.as_millis() - 24 * 3600 * 1000)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO inventory_pending (id, tbl, csv, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(table)
        .bind(csv)
        .bind(now.as_millis())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A pending import: its table and CSV text.
    pub async fn pending_import(&self, id: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT tbl, csv FROM inventory_pending WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((get(&r, "tbl")?, get(&r, "csv")?)))
            .transpose()
    }

    /// Forgets a pending import.
    pub async fn delete_pending_import(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM inventory_pending WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl crate::store::batch::WriteTx {
    /// Replaces the inventory with `inv` and records `changes` as made by `who`, in the
    /// writer's transaction.
    pub async fn save_edited_inventory(
        &mut self,
        inv: &Inventory,
        changes: &[InventoryChange],
        who: &str,
        now: Timestamp,
    ) -> Result<()> {
        let tx = self.inner();
        crate::store::write_inventory_rows(tx, inv).await?;
        let sql = format!(
            "INSERT INTO inventory_changes (at, who, action, tbl, row_key, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7) {}",
            crate::store::evidence::returning(Kind::InventoryChange)
        );
        for c in changes {
            let tx = self.inner();
            let row = sqlx::query(&sql)
                .bind(now.as_millis())
                .bind(who)
                .bind(c.action.as_str())
                .bind(c.table.as_str())
                .bind(c.key.as_str())
                .bind(c.before.clone())
                .bind(c.after.clone())
                .fetch_one(&mut **tx)
                .await?;
            self.chain(Kind::InventoryChange, &[row])?;
        }
        Ok(())
    }
}
