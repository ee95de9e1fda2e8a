//! The facts verdicts are judged against, kept in event-time order whatever the arrival
//! order: presence per person (from `access_granted` events), integrity alarms per room,
//! and status changes and outages per door.
//!
//! Every query answers "at time T" from sorted data, so a late event simply lands in its
//! place and the next query sees it. Ties on the same millisecond are broken by fixed
//! keys, never by arrival, so the answers depend only on the set of events.

use crate::event::{Direction, DoorEvent, DoorEventKind, DoorStatus, StatusChange};
use crate::factor::CredentialType;
use crate::ids::{DoorId, PersonId, RoomId};
use crate::inventory::{Inventory, Room};
use crate::time::{Span, Timestamp};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// An `access_granted` event of a known person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub ts: Timestamp,
    pub door: DoorId,
    pub room: RoomId,
    pub direction: Direction,
    pub credential_type: CredentialType,
    pub event_id: String,
    /// Whether the event starts a presence: an `in` by a person who had not left. An
    /// entry made after the person's `until` day had ended (at the site) starts none
    /// (CONTRACT §3), but still ends a presence in another room like any `in`.
    pub starts_presence: bool,
}

impl Access {
    fn key(&self) -> (Timestamp, &DoorId, &str) {
        (self.ts, &self.door, &self.event_id)
    }
}

/// A person's presence in a room, `from <= t < to` (see [`Timeline::presence_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub person: PersonId,
    pub room: RoomId,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The entry that started it.
    pub door: DoorId,
    pub event_id: String,
}

/// A `door_forced`, `door_held_open` or `tamper` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub ts: Timestamp,
    pub door: DoorId,
    pub kind: DoorEventKind,
    pub event_id: String,
}

/// A period in which a door's events may have been lost (a Modbus overrun, CONTRACT §6):
/// treated like an offline period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outage {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// What a recorded door event can affect: the person whose presence it changes and the
/// room whose alarms or door states it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Affects {
    pub person: Option<PersonId>,
    pub room: Option<RoomId>,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Every door event recorded so far, by door and `event_id`: `event_id` is unique per
    /// door and a repeated one is stored once (CONTRACT §5), so a second payload under
    /// the same key is ignored, whatever it says. Access and alarm events are kept whole
    /// (for any door, known or not) so that [`Timeline::rebuild`] can derive presence and
    /// alarms again under a new inventory; other kinds keep only their time.
    events: HashMap<(DoorId, String), Recorded>,
    access: HashMap<PersonId, Vec<Access>>,
    alarms: HashMap<RoomId, Vec<Alarm>>,
    status: HashMap<DoorId, Vec<(Timestamp, DoorStatus)>>,
    outages: HashMap<DoorId, Vec<Outage>>,
}

/// A door event as the timeline keeps it.
#[derive(Debug, Clone)]
enum Recorded {
    /// `access_granted` with a credential, or an integrity alarm.
    Relevant(DoorEvent),
    /// Any other event: only its key (and time, for pruning) matters.
    Other(Timestamp),
}

impl Recorded {
    fn ts(&self) -> Timestamp {
        match self {
            Recorded::Relevant(e) => e.ts,
            Recorded::Other(ts) => *ts,
        }
    }
}

fn is_relevant(e: &DoorEvent) -> bool {
    (e.kind == DoorEventKind::AccessGranted && e.credential.is_some())
        || e.kind.is_integrity_alarm()
}

fn status_rank(s: DoorStatus) -> u8 {
    // At the same millisecond `offline` sorts last, so it wins: the hub fails closed.
    match s {
        DoorStatus::Online => 0,
        DoorStatus::Offline => 1,
    }
}

impl Timeline {
    /// Records a door event. Events of unknown doors, and `access_granted` events whose
    /// credential belongs to no person, change nothing now (they are still stored by the
    /// caller as raw evidence, and kept here for [`Timeline::rebuild`]). A repeated
    /// `event_id` on the same door changes nothing either, even when its payload differs:
    /// the first one is the one stored.
    pub fn record_event(&mut self, inv: &Inventory, e: &DoorEvent) -> Affects {
        match self.events.entry((e.door.clone(), e.event_id.clone())) {
            Entry::Occupied(_) => return Affects::default(),
            Entry::Vacant(v) => {
                v.insert(if is_relevant(e) {
                    Recorded::Relevant(e.clone())
                } else {
                    Recorded::Other(e.ts)
                });
            }
        }
        self.derive(inv, e)
    }

    /// Derives presence and alarms again from the recorded door events under `inv` (after
    /// an inventory import: a credential, a door or a person may have been added, moved
    /// or removed). Status changes and outages are kept by door and need no rebuild.
    pub fn rebuild(&mut self, inv: &Inventory) {
        self.access.clear();
        self.alarms.clear();
        let events: Vec<DoorEvent> = self
            .events
            .values()
            .filter_map(|r| match r {
                Recorded::Relevant(e) => Some(e.clone()),
                Recorded::Other(_) => None,
            })
            .collect();
        // The lists are sorted by fixed keys, so the order of this loop does not matter.
        for e in &events {
            self.derive(inv, e);
        }
    }

    /// Adds what one (new) door event means under `inv` to the presence and alarm lists.
    fn derive(&mut self, inv: &Inventory, e: &DoorEvent) -> Affects {
        let Some(room) = inv.room_of_door(&e.door).cloned() else {
            return Affects::default();
        };
        if e.kind == DoorEventKind::AccessGranted {
            let Some(cred) = &e.credential else {
                return Affects::default();
            };
            let Some(person) = inv.person_by_credential(cred).cloned() else {
                return Affects::default();
            };
            let a = Access {
                ts: e.ts,
                door: e.door.clone(),
                room: room.clone(),
                direction: e.direction,
                credential_type: cred.kind,
                event_id: e.event_id.clone(),
                starts_presence: e.direction == Direction::In && !inv.has_left(&person, e.ts),
            };
            let list = self.access.entry(person.clone()).or_default();
            let pos = list.partition_point(|x| x.key() < a.key());
            if list.get(pos).map(|x| x.key() == a.key()) != Some(true) {
                list.insert(pos, a);
            }
            return Affects {
                person: Some(person),
                room: Some(room),
            };
        }
        if e.kind.is_integrity_alarm() {
            let a = Alarm {
                ts: e.ts,
                door: e.door.clone(),
                kind: e.kind,
                event_id: e.event_id.clone(),
            };
            let list = self.alarms.entry(room.clone()).or_default();
            let key = |x: &Alarm| (x.ts, x.door.clone(), x.event_id.clone());
            let pos = list.partition_point(|x| key(x) < key(&a));
            if list.get(pos).map(|x| key(x) == key(&a)) != Some(true) {
                list.insert(pos, a);
            }
            return Affects {
                person: None,
                room: Some(room),
            };
        }
        Affects::default()
    }

    pub fn record_status(&mut self, inv: &Inventory, s: &StatusChange) -> Affects {
        let list = self.status.entry(s.door.clone()).or_default();
        let key = (s.ts, status_rank(s.status));
        let pos = list.partition_point(|(t, st)| (*t, status_rank(*st)) < key);
        if list.get(pos).map(|(t, st)| (*t, status_rank(*st)) == key) != Some(true) {
            list.insert(pos, (s.ts, s.status));
        }
        Affects {
            person: None,
            room: inv.room_of_door(&s.door).cloned(),
        }
    }

    pub fn record_outage(&mut self, inv: &Inventory, door: &DoorId, outage: Outage) -> Affects {
        let list = self.outages.entry(door.clone()).or_default();
        let pos = list.partition_point(|o| *o < outage);
        if list.get(pos) != Some(&outage) {
            list.insert(pos, outage);
        }
        Affects {
            person: None,
            room: inv.room_of_door(door).cloned(),
        }
    }

    /// The status of a door at `t`: the last change at or before `t`. A door that never
    /// reported a status is taken as online (CONTRACT §3: offline runs from an `offline`
    /// status); a door inside an outage is offline.
    pub fn door_status_at(&self, door: &DoorId, t: Timestamp) -> DoorStatus {
        if self
            .outages
            .get(door)
            .is_some_and(|os| os.iter().any(|o| o.from <= t && t < o.to))
        {
            return DoorStatus::Offline;
        }
        let Some(list) = self.status.get(door) else {
            return DoorStatus::Online;
        };
        let n = list.partition_point(|(ts, _)| *ts <= t);
        if n == 0 {
            DoorStatus::Online
        } else {
            list[n - 1].1
        }
    }

    /// Whether any door of the room is offline at `t`; returns the first such door.
    pub fn offline_door_at<'a>(
        &self,
        inv: &'a Inventory,
        room: &RoomId,
        t: Timestamp,
    ) -> Option<&'a DoorId> {
        inv.doors_of(room)
            .iter()
            .find(|d| self.door_status_at(d, t) == DoorStatus::Offline)
    }

    /// The integrity alarm holding for the room at `t`, if any: `a <= t < a + alarm_hold`.
    pub fn alarm_at(&self, room: &Room, t: Timestamp) -> Option<&Alarm> {
        let list = self.alarms.get(&room.id)?;
        let end = list.partition_point(|a| a.ts <= t);
        list[..end]
            .iter()
            .rev()
            .take_while(|a| t < a.ts.saturating_add(room.alarm_hold))
            .last()
    }

    /// Entries of `person` into `room` whose presence covers `t`, latest first.
    /// An entry made after the person had left starts no presence (see
    /// [`Access::starts_presence`]).
    ///
    /// Presence from an entry at `s` ends at the earliest of: an `out` by the person on a
    /// door of the room, an `in` by the person on a door of another room (both strictly
    /// after `s`), or `s + max_presence`. Covered means `s <= t < end`.
    pub fn covering_entries(&self, person: &PersonId, room: &Room, t: Timestamp) -> Vec<&Access> {
        let Some(list) = self.access.get(person) else {
            return Vec::new();
        };
        let upto = list.partition_point(|a| a.ts <= t);
        let earliest = t.saturating_sub(room.max_presence);
        let mut out = Vec::new();
        for (i, entry) in list[..upto].iter().enumerate().rev() {
            if entry.ts <= earliest {
                break;
            }
            if entry.room != room.id || !entry.starts_presence {
                continue;
            }
            let ended = list[i + 1..upto].iter().any(|f| {
                f.ts > entry.ts
                    && ((f.direction == Direction::Out && f.room == room.id)
                        || (f.direction == Direction::In && f.room != room.id))
            });
            if !ended {
                out.push(entry);
            }
        }
        out
    }

    /// Every presence of `person` (CONTRACT §3), in entry order: one per `in` entry on a
    /// door of a known room, from the entry to the earliest of an `out` by the person on a
    /// door of that room, an `in` on a door of another room (both strictly after the
    /// entry) and the entry plus the room's `max_presence`. The same rule as
    /// [`Timeline::covering_entries`], as intervals: a time `t` is covered by an entry
    /// exactly when `from <= t < to` for its presence. Presences in the same room may
    /// overlap (two `in`s without an `out`).
    pub fn presence_of(&self, inv: &Inventory, person: &PersonId) -> Vec<Presence> {
        let Some(list) = self.access.get(person) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, entry) in list.iter().enumerate() {
            if !entry.starts_presence {
                continue;
            }
            let Some(room) = inv.room(&entry.room) else {
                continue;
            };
            let mut to = entry.ts.saturating_add(room.max_presence);
            let ended = list[i + 1..].iter().find(|f| {
                f.ts > entry.ts
                    && ((f.direction == Direction::Out && f.room == room.id)
                        || (f.direction == Direction::In && f.room != room.id))
            });
            if let Some(f) = ended {
                to = to.min(f.ts);
            }
            out.push(Presence {
                person: person.clone(),
                room: room.id.clone(),
                from: entry.ts,
                to,
                door: entry.door.clone(),
                event_id: entry.event_id.clone(),
            });
        }
        out
    }

    /// Forgets access events, alarms and seen event ids older than `before`, and status history that no
    /// longer decides any time at or after `before`. Used to bound memory; the store
    /// keeps everything.
    pub fn prune(&mut self, before: Timestamp) {
        self.events.retain(|_, r| r.ts() >= before);
        for list in self.access.values_mut() {
            list.retain(|a| a.ts >= before);
        }
        self.access.retain(|_, l| !l.is_empty());
        for list in self.alarms.values_mut() {
            list.retain(|a| a.ts >= before);
        }
        self.alarms.retain(|_, l| !l.is_empty());
        for list in self.status.values_mut() {
            let n = list.partition_point(|(ts, _)| *ts < before);
            if n > 1 {
                list.drain(..n - 1);
            }
        }
        for list in self.outages.values_mut() {
            list.retain(|o| o.to > before);
        }
    }

    /// Number of facts held, for metrics and memory estimates.
    pub fn len(&self) -> usize {
        self.access.values().map(Vec::len).sum::<usize>()
            + self.alarms.values().map(Vec::len).sum::<usize>()
            + self.status.values().map(Vec::len).sum::<usize>()
            + self.outages.values().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Convenience for alarm windows.
pub fn alarm_window(a: Timestamp, hold: Span) -> (Timestamp, Timestamp) {
    (a, a.saturating_add(hold))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::inventory::rows::{DoorRow, InventoryRows, PersonRow, RoomRow};

    fn site() -> Inventory {
        InventoryRows {
            rooms: ["a", "b"]
                .map(|id| RoomRow {
                    id: id.into(),
                    ..Default::default()
                })
                .to_vec(),
            doors: ["a", "b"]
                .map(|id| DoorRow {
                    id: format!("{id}-door"),
                    room: id.into(),
                    ..Default::default()
                })
                .to_vec(),
            people: vec![PersonRow {
                id: "p1".into(),
                credentials: vec!["card:01".into()],
                until: "2027-03-31".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
        .parse(None)
        .unwrap()
    }

    fn access(id: &str, door: &str, t: &str, direction: Direction) -> DoorEvent {
        DoorEvent {
            door: DoorId::parse(door).unwrap(),
            event_id: id.into(),
            ts: Timestamp::parse_rfc3339(t).unwrap(),
            kind: DoorEventKind::AccessGranted,
            direction,
            credential: Some("card:01".parse().unwrap()),
        }
    }

    /// CONTRACT §3: an entry after the person's last day starts no presence, but it
    /// still ends a presence in another room.
    #[test]
    fn a_leavers_entry_starts_no_presence() {
        let inv = site();
        let p1 = PersonId::parse("p1").unwrap();
        let room = |id: &str| inv.room(&RoomId::parse(id).unwrap()).unwrap().clone();
        let t = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        let mut tl = Timeline::default();
        tl.record_event(
            &inv,
            &access("e1", "a-door", "2027-03-31T23:00:00+09:00", Direction::In),
        );
        // Still the last day: present in a.
        assert_eq!(
            tl.covering_entries(&p1, &room("a"), t("2027-03-31T23:30:00+09:00"))
                .len(),
            1
        );
        // Present in a past midnight until the entry into b ends it.
        assert_eq!(
            tl.covering_entries(&p1, &room("a"), t("2027-04-01T00:10:00+09:00"))
                .len(),
            1
        );
        tl.record_event(
            &inv,
            &access("e2", "b-door", "2027-04-01T00:30:00+09:00", Direction::In),
        );
        assert!(tl
            .covering_entries(&p1, &room("a"), t("2027-04-01T00:40:00+09:00"))
            .is_empty());
        assert!(tl
            .covering_entries(&p1, &room("b"), t("2027-04-01T00:40:00+09:00"))
            .is_empty());
        let presence = tl.presence_of(&inv, &p1);
        assert_eq!(presence.len(), 1);
        assert_eq!(
            (presence[0].from, presence[0].to),
            (
                t("2027-03-31T23:00:00+09:00"),
                t("2027-04-01T00:30:00+09:00")
            )
        );
        // On a UTC calendar 00:30 JST is still 31 March: the entry into b counts.
        let utc = site().with_offset(crate::period::SiteOffset::UTC);
        tl.rebuild(&utc);
        assert_eq!(
            tl.covering_entries(&p1, &room("b"), t("2027-04-01T00:40:00+09:00"))
                .len(),
            1
        );
    }
}
