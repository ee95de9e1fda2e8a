//! What holds in each room at one instant, as the dashboard shows it: who is present
//! ([`presence_at`], from the timeline) and which integrity alarms void credit
//! ([`open_alarms`], from the stored alarm events).
//!
//! Both apply the rules of CONTRACT §3 that [`crate::verdict::evaluate`] applies to a
//! login, so a room's page and a verdict at the same instant agree: presence covers `t`
//! when `start <= t < end` ([`Timeline::covering_entries`]); an alarm at `a` holds in
//! `[a, a + alarm_hold)` of its door's room.

use crate::event::DoorEventKind;
use crate::factor::CredentialType;
use crate::ids::{DoorId, PersonId, RoomId};
use crate::inventory::Inventory;
use crate::time::{Span, Timestamp};
use crate::timeline::{Alarm, Timeline};

/// A person's presence in a room at some instant (CONTRACT §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub room: RoomId,
    pub person: PersonId,
    /// The entry that started it (the latest entry whose presence covers the instant).
    pub since: Timestamp,
    pub door: DoorId,
    pub credential_type: CredentialType,
    pub event_id: String,
}

/// Everyone whose presence covers `t`, per room, in inventory order (rooms, then
/// people). Uncontrolled rooms are included: presence is a fact of the doors.
pub fn presence_at(inv: &Inventory, timeline: &Timeline, t: Timestamp) -> Vec<Presence> {
    let mut out = Vec::new();
    for room in inv.rooms() {
        for person in inv.people() {
            if let Some(a) = timeline.covering_entries(&person.id, room, t).first() {
                out.push(Presence {
                    room: room.id.clone(),
                    person: person.id.clone(),
                    since: a.ts,
                    door: a.door.clone(),
                    credential_type: a.credential_type,
                    event_id: a.event_id.clone(),
                });
            }
        }
    }
    out
}

/// An integrity alarm that holds at some instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlarm {
    pub room: RoomId,
    pub door: DoorId,
    pub kind: DoorEventKind,
    pub event_id: String,
    /// The alarm event's time.
    pub since: Timestamp,
    /// When the room's `alarm_hold` runs out (exclusive).
    pub until: Timestamp,
}

/// How far back an alarm event can still hold: the longest `alarm_hold` of any room.
/// Reading the events of `(now - lookback, now]` is enough for [`open_alarms`].
pub fn alarm_lookback(inv: &Inventory) -> Span {
    inv.rooms()
        .iter()
        .map(|r| r.alarm_hold)
        .max()
        .unwrap_or_default()
}

/// The integrity alarms holding at `now`, oldest first (by time, door and `event_id`):
/// every `door_forced`, `door_held_open` or `tamper` event at `a` of a door of a room,
/// with `a <= now < a + alarm_hold`. Events of other kinds and of doors that are not in
/// the inventory hold nothing. The number of alarms open is the length.
pub fn open_alarms<'a>(
    inv: &Inventory,
    events: impl IntoIterator<Item = &'a Alarm>,
    now: Timestamp,
) -> Vec<OpenAlarm> {
    let mut out: Vec<OpenAlarm> = events
        .into_iter()
        .filter(|e| e.kind.is_integrity_alarm())
        .filter_map(|e| {
            let room = inv.room_of_door(&e.door).and_then(|r| inv.room(r))?;
            let until = e.ts.saturating_add(room.alarm_hold);
            (e.ts <= now && now < until).then(|| OpenAlarm {
                room: room.id.clone(),
                door: e.door.clone(),
                kind: e.kind,
                event_id: e.event_id.clone(),
                since: e.ts,
                until,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.since, &a.door, &a.event_id).cmp(&(b.since, &b.door, &b.event_id)));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::{Direction, DoorEvent};
    use crate::factor::Credential;
    use crate::inventory::{Door, Person, Room};

    fn t(mins: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + mins * 60_000)
    }

    fn inventory() -> Inventory {
        let room = |id: &str, hold_mins: i64| Room {
            id: RoomId::parse(id).unwrap(),
            name: id.to_string(),
            controlled: true,
            max_presence: Span::from_secs(12 * 3600),
            alarm_hold: Span::from_secs(hold_mins * 60),
        };
        let door = |id: &str, room: &str| {
            Door::new(DoorId::parse(id).unwrap(), RoomId::parse(room).unwrap(), "")
        };
        let person = |id: &str, card: &str| Person {
            id: PersonId::parse(id).unwrap(),
            name: id.to_string(),
            vendor: None,
            until: None,
            credentials: vec![format!("card:{card}").parse::<Credential>().unwrap()],
            accounts: Default::default(),
        };
        Inventory::new(
            None,
            vec![room("ward", 15), room("server", 60)],
            vec![door("ward-main", "ward"), door("srv-door", "server")],
            vec![],
            vec![],
            vec![person("p1", "01"), person("p2", "02")],
        )
        .unwrap()
    }

    fn alarm(mins: i64, door: &str, kind: DoorEventKind, id: &str) -> Alarm {
        Alarm {
            ts: t(mins),
            door: DoorId::parse(door).unwrap(),
            kind,
            event_id: id.to_string(),
        }
    }

    #[test]
    fn alarms_hold_for_their_rooms_hold() {
        use DoorEventKind::*;
        let inv = inventory();
        assert_eq!(alarm_lookback(&inv), Span::from_secs(3600));
        let events = [
            alarm(0, "ward-main", DoorForced, "a"),    // ward: [0, 15)
            alarm(10, "srv-door", Tamper, "b"),        // server: [10, 70)
            alarm(20, "ward-main", DoorHeldOpen, "c"), // ward: [20, 35)
            alarm(20, "nowhere", Tamper, "d"),         // no such door
            alarm(20, "ward-main", DoorOpened, "e"),   // not an alarm
            alarm(40, "srv-door", Tamper, "f"),        // later than now
        ];
        // (now, open alarm event ids)
        let cases: &[(i64, &[&str])] = &[
            (0, &["a"]),
            (14, &["a", "b"]),
            (15, &["b"]),
            (20, &["b", "c"]),
            (34, &["b", "c"]),
            (35, &["b"]),
            (69, &["b", "f"]),
            (70, &["f"]),
        ];
        for (now, want) in cases {
            let open = open_alarms(&inv, &events, t(*now));
            let ids: Vec<&str> = open.iter().map(|a| a.event_id.as_str()).collect();
            assert_eq!(&ids, want, "at {now}");
        }
        let open = open_alarms(&inv, &events, t(20));
        assert_eq!(open[1].room.as_str(), "ward");
        assert_eq!(open[1].until, t(35));
        assert_eq!(open[0].room.as_str(), "server");
        assert_eq!(open[0].until, t(70));
    }

    #[test]
    fn alarms_are_ordered_whatever_the_input_order() {
        use DoorEventKind::*;
        let inv = inventory();
        let mut events = vec![
            alarm(5, "ward-main", Tamper, "y"),
            alarm(5, "ward-main", Tamper, "x"),
            alarm(5, "srv-door", Tamper, "z"),
            alarm(1, "ward-main", DoorForced, "w"),
        ];
        let first = open_alarms(&inv, &events, t(6));
        events.reverse();
        assert_eq!(open_alarms(&inv, &events, t(6)), first);
        let ids: Vec<&str> = first.iter().map(|a| a.event_id.as_str()).collect();
        assert_eq!(ids, ["w", "z", "x", "y"]);
    }

    #[test]
    fn presence_now_per_room() {
        let inv = inventory();
        let mut tl = Timeline::default();
        let entry = |mins, door: &str, card: &str, direction, id: &str| DoorEvent {
            door: DoorId::parse(door).unwrap(),
            event_id: id.to_string(),
            ts: t(mins),
            kind: DoorEventKind::AccessGranted,
            direction,
            credential: Some(format!("card:{card}").parse().unwrap()),
        };
        for e in [
            entry(0, "ward-main", "01", Direction::In, "e1"),
            entry(5, "srv-door", "02", Direction::In, "e2"),
            entry(10, "srv-door", "01", Direction::In, "e3"), // p1 moves to the server room
            entry(20, "srv-door", "02", Direction::Out, "e4"),
        ] {
            tl.record_event(&inv, &e);
        }
        let at = |mins| -> Vec<(String, String, String)> {
            presence_at(&inv, &tl, t(mins))
                .into_iter()
                .map(|p| (p.room.to_string(), p.person.to_string(), p.event_id))
                .collect()
        };
        let row = |r: &str, p: &str, e: &str| (r.to_string(), p.to_string(), e.to_string());
        assert_eq!(
            at(6),
            vec![row("ward", "p1", "e1"), row("server", "p2", "e2")]
        );
        assert_eq!(
            at(15),
            vec![row("server", "p1", "e3"), row("server", "p2", "e2")]
        );
        assert_eq!(at(20), vec![row("server", "p1", "e3")]);
        let p = &presence_at(&inv, &tl, t(20))[0];
        assert_eq!(
            (p.since, p.door.as_str(), p.credential_type),
            (t(10), "srv-door", CredentialType::Card)
        );
    }
}
