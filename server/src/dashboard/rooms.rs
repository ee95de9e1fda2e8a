//! The data of the dashboard's rooms page (`monban_web::pages::rooms`): presence now from
//! the engine's timeline (`Hub::presence_at`), door health (`Hub::door_health`), and the
//! integrity alarms that void credit now, read from the stored door events.

use super::HubSource;
use crate::store::get;
use monban_core::{Span, Timestamp};
use monban_web::pages::rooms::{AlarmRow, PresenceRow, RoomRow, RoomsView};
use monban_web::DoorRow;

#[async_trait::async_trait]
impl monban_web::pages::rooms::RoomsSource for HubSource {
    async fn rooms(&self) -> Result<RoomsView, String> {
        let hub = &self.0;
        let inv = hub.inventory();
        let now = hub.now();
        let presence = hub.presence_at(now).await;
        let health = hub.door_health().await;
        // Alarms: an integrity event at a voids credit in [a, a + alarm_hold).
        let longest = inv
            .rooms()
            .iter()
            .map(|r| r.alarm_hold)
            .max()
            .unwrap_or(Span::from_millis(0));
        let rows = sqlx::query(
            "SELECT door, event_id, ts, kind FROM door_events WHERE kind IN ('door_forced', 'door_held_open', 'tamper') AND ts > $1 AND ts <= $2 ORDER BY ts, door, event_id",
        )
        .bind(now.saturating_sub(longest).as_millis())
        .bind(now.as_millis())
        .fetch_all(hub.store.pool())
        .await
        .map_err(|e| e.to_string())?;
        let mut alarms: Vec<(String, AlarmRow)> = Vec::new();
        for r in &rows {
            let door: String = get(r, "door").map_err(|e| e.to_string())?;
            let ts = Timestamp::from_millis(get(r, "ts").map_err(|e| e.to_string())?);
            let Some(room) = inv.door_by_str(&door).and_then(|d| inv.room(&d.room)) else {
                continue;
            };
            let until = ts.saturating_add(room.alarm_hold);
            if ts <= now && now < until {
                alarms.push((
                    room.id.to_string(),
                    AlarmRow {
                        kind: get(r, "kind").map_err(|e| e.to_string())?,
                        door,
                        since: ts.to_rfc3339(),
                        until: until.to_rfc3339(),
                        event_id: get(r, "event_id").map_err(|e| e.to_string())?,
                    },
                ));
            }
        }
        let rooms = inv
            .rooms()
            .iter()
            .map(|room| RoomRow {
                people_hidden: false,
                id: room.id.to_string(),
                name: room.name.clone(),
                controlled: room.controlled,
                max_presence: room.max_presence.to_string(),
                alarm_hold: room.alarm_hold.to_string(),
                present: presence
                    .iter()
                    .filter(|p| p.room == room.id)
                    .map(|p| PresenceRow {
                        person: p.person.to_string(),
                        person_name: inv
                            .person(&p.person)
                            .map(|x| x.name.clone())
                            .unwrap_or_default(),
                        since: p.since.to_rfc3339(),
                        door: p.door.clone(),
                        credential_type: p.credential_type.clone(),
                        event_id: p.event_id.clone(),
                    })
                    .collect(),
                doors: health
                    .iter()
                    .filter(|d| d.room == room.id.as_str())
                    .map(|d| DoorRow {
                        id: d.door.clone(),
                        name: d.name.clone(),
                        room: room.name.clone(),
                        source: d.source.to_string(),
                        state: d.state.to_string(),
                        offline_reason: d.offline_reason.map(str::to_string),
                        last_heard_at: d.last_heard_at.clone(),
                        last_event_at: d.last_event_at.clone(),
                        last_heartbeat_at: d.last_heartbeat_at.clone(),
                        heartbeat_timeout: d.heartbeat_timeout.clone(),
                        overruns: d.overruns,
                        dead_letters: d.dead_letters,
                        connector: d.connector.clone(),
                    })
                    .collect(),
                alarms: alarms
                    .iter()
                    .filter(|(r, _)| r == room.id.as_str())
                    .map(|(_, a)| a.clone())
                    .collect(),
            })
            .collect();
        Ok(RoomsView {
            generated_at: now.to_rfc3339(),
            rooms,
            connectors: hub
                .connector_states()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().to_string()))
                .collect(),
        })
    }
}
