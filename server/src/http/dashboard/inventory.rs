//! The data of the dashboard's inventory page (`monban_web::pages::inventory`): the
//! tables as CSV rows, a pending import's preview (`crate::inventory_csv`) and the
//! change log.

use super::{unavailable, Source};
use crate::inventory_csv::{columns, parse_import, rows, TABLES};
use monban_web::api::SourceError;
use monban_web::pages::inventory::{ChangeView, InventoryView, TableView};

/// How many recorded changes the page lists.
const CHANGES: i64 = 200;

#[async_trait::async_trait]
impl monban_web::pages::inventory::InventorySource for Source {
    async fn inventory(&self, preview: Option<String>) -> Result<InventoryView, SourceError> {
        let src = self;
        let inv = src.inventory();
        let tables = TABLES
            .iter()
            .map(|t| TableView {
                name: t.to_string(),
                columns: columns(t)
                    .unwrap_or(&[])
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                rows: rows(&inv, t),
            })
            .collect();
        let preview = match preview {
            Some(id) => src
                .store
                .pending_import(&id)
                .await
                .map_err(unavailable)?
                .map(|(table, text)| parse_import(&inv, &table, &text, &id).preview),
            None => None,
        };
        let changes = src
            .store
            .inventory_changes(CHANGES)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|r| ChangeView {
                at: r.at.to_rfc3339(),
                who: r.who,
                action: r.change.action,
                table: r.change.table,
                key: r.change.key,
                before: r.change.before,
                after: r.change.after,
            })
            .collect();
        Ok(InventoryView {
            tables,
            preview,
            changes,
        })
    }
}
