//! The hub's side of the dashboard's inventory edits and room view: replacing the
//! inventory (store, engine, hub — pending logins are re-judged under the new one) and
//! reading who is present where now from the engine's timeline.

use crate::hub::{Hub, HubError};
use crate::store_inventory::InventoryChange;
use monban_core::{Inventory, PersonId, RoomId, Timestamp};

/// A person's presence in a room at some instant (CONTRACT §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceNow {
    pub room: RoomId,
    pub person: PersonId,
    /// The entry that started it.
    pub since: Timestamp,
    pub door: String,
    pub credential_type: String,
    pub event_id: String,
}

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
    /// people). Uncontrolled rooms are included: presence is a fact of the doors.
    pub async fn presence_at(&self, t: Timestamp) -> Vec<PresenceNow> {
        let inv = self.inventory();
        let engine = self.shared.engine.read().await;
        let timeline = engine.timeline();
        let mut out = Vec::new();
        for room in inv.rooms() {
            for person in inv.people() {
                if let Some(a) = timeline.covering_entries(&person.id, room, t).first() {
                    out.push(PresenceNow {
                        room: room.id.clone(),
                        person: person.id.clone(),
                        since: a.ts,
                        door: a.door.to_string(),
                        credential_type: a.credential_type.as_str().to_string(),
                        event_id: a.event_id.clone(),
                    });
                }
            }
        }
        out
    }
}
