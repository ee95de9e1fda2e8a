//! The data of the dashboard's rooms page (`monban_web::pages::rooms`): presence now from
//! the engine's timeline (`Ingest::presence_at`), door health (`Ingest::door_health`), and the
//! integrity alarms that void credit now (`super::open_alarms`, the overview's rule too).

use super::Source;
use monban_web::api::SourceError;
use monban_web::pages::rooms::{AlarmRow, PresenceRow, RoomRow, RoomsView};
use monban_web::DoorRow;

#[async_trait::async_trait]
impl monban_web::pages::rooms::RoomsSource for Source {
    async fn rooms(&self) -> Result<RoomsView, SourceError> {
        let src = self;
        let inv = src.inventory();
        let now = src.now();
        let presence = src.ingest.presence_at(now).await;
        let health = src.ingest.door_health().await;
        // Alarms: an integrity event at a voids credit in [a, a + alarm_hold).
        let alarms = super::open_alarms(src, now).await?;
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
                        door: p.door.to_string(),
                        credential_type: p.credential_type.as_str().to_string(),
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
                    .filter(|a| a.room == room.id)
                    .map(|a| AlarmRow {
                        kind: a.kind.as_str().to_string(),
                        door: a.door.to_string(),
                        since: a.since.to_rfc3339(),
                        until: a.until.to_rfc3339(),
                        event_id: a.event_id.clone(),
                    })
                    .collect(),
            })
            .collect();
        Ok(RoomsView {
            generated_at: now.to_rfc3339(),
            rooms,
            connectors: src
                .ingest
                .connector_states()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().to_string()))
                .collect(),
        })
    }
}
