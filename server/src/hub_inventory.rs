//! The hub's side of the dashboard's inventory edits and room view: replacing the
//! inventory (store, engine, hub — pending logins are re-judged under the new one),
//! reading who is present where now from the engine's timeline, and the site's calendar.

use crate::hub::{Hub, HubError};
use crate::store_inventory::InventoryChange;
use monban_core::snapshot::Presence;
use monban_core::{Inventory, SiteOffset, Timestamp};
use std::sync::Arc;

impl Hub {
    /// Replaces the inventory with `new`: stores it with `changes` recorded as made by
    /// `who`, hands it to the engine (which derives presence and alarms again and
    /// re-judges every pending login) and persists the verdicts that changed.
    pub async fn replace_inventory(
        &self,
        new: Inventory,
        changes: &[InventoryChange],
        who: &str,
    ) -> Result<(), HubError> {
        let mut engine = self.engine.lock().await;
        let now = self.now();
        self.store
            .save_edited_inventory(&new, changes, who, now)
            .await?;
        let updates = engine.set_inventory(new.clone(), now);
        self.store.apply_updates(&updates, now, "inventory").await?;
        self.metrics
            .pending_verdicts
            .set(engine.pending_count() as i64);
        match self.inventory.write() {
            Ok(mut g) => *g = Arc::new(new),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(new),
        }
        drop(engine);
        for u in &updates {
            self.notify("verdict", u.event_id.clone());
        }
        self.notify("inventory", String::new());
        Ok(())
    }

    /// Everyone whose presence covers `t`, per room, in inventory order (rooms, then
    /// people): `monban_core::snapshot::presence_at` over the engine's timeline.
    pub async fn presence_at(&self, t: Timestamp) -> Vec<Presence> {
        let inv = self.inventory();
        let engine = self.engine.lock().await;
        monban_core::snapshot::presence_at(&inv, engine.timeline(), t)
    }

    /// The site's calendar: the UTC offset that defines its days for reports, trends and
    /// exports (CONTRACT §4 `[site] timezone`; `+09:00` until the setting is read).
    pub fn site_offset(&self) -> SiteOffset {
        SiteOffset::default()
    }
}
