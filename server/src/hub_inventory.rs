//! The hub's side of the dashboard's inventory edits and room view: replacing the
//! inventory (store, engine, hub — pending logins are re-judged under the new one),
//! reading who is present where now from the engine's timeline, and the site's calendar.

use crate::hub::{Hub, HubError};
use crate::store::inventory::InventoryChange;
use monban_core::snapshot::Presence;
use monban_core::{Inventory, SiteOffset, Timestamp};

impl Hub {
    /// Replaces the inventory with `new`: the writer stores it with `changes` recorded as
    /// made by `who`, hands it to the engine (which derives presence and alarms again and
    /// re-judges every pending login) and persists the verdicts that changed, in one
    /// transaction.
    pub async fn replace_inventory(
        &self,
        new: Inventory,
        changes: &[InventoryChange],
        who: &str,
    ) -> Result<(), HubError> {
        let input = crate::writer::Input::Inventory {
            new: Box::new(new),
            changes: changes.to_vec(),
            who: who.to_string(),
        };
        self.writer().submit_one(input).await??;
        Ok(())
    }

    /// Everyone whose presence covers `t`, per room, in inventory order (rooms, then
    /// people): `monban_core::snapshot::presence_at` over the engine's timeline.
    pub async fn presence_at(&self, t: Timestamp) -> Vec<Presence> {
        let inv = self.inventory();
        let engine = self.shared.engine.read().await;
        monban_core::snapshot::presence_at(&inv, engine.timeline(), t)
    }

    /// The site's calendar: the UTC offset that defines its days for reports, trends and
    /// exports (CONTRACT §4 `[site] timezone`; `+09:00` until the setting is read).
    pub fn site_offset(&self) -> SiteOffset {
        SiteOffset::default()
    }
}
