//! The correlation engine: holds the [`Timeline`] and the logins whose verdicts are not
//! yet final, and re-judges them when a late door event arrives inside `grace`.
//!
//! Time enters only as arguments: `now` is the arrival time the caller observed. A login
//! received at `r` is *pending* until `r + grace`; after that its verdict is final and
//! never changes (CONTRACT §3). Every call first finalises what is due, so an event that
//! arrives after a login's grace can never change it, whatever the order of calls.

use crate::event::{DoorEvent, Login, StatusChange};
use crate::ids::{DoorId, PersonId, RoomId};
use crate::inventory::Inventory;
use crate::time::{Span, Timestamp};
use crate::timeline::{Affects, Outage, Timeline};
use crate::verdict::{evaluate, Verdict};
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone)]
struct Pending {
    login: Login,
    verdict: Verdict,
    deadline: Timestamp,
    room: Option<RoomId>,
    person: Option<PersonId>,
}

/// A verdict the caller must persist: re-judged (`changed`) or become final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictUpdate {
    pub event_id: String,
    pub verdict: Verdict,
    pub is_final: bool,
    /// The verdict the login had before this update (equal to `verdict` when the update
    /// only makes it final): what the caller's tallies must move from.
    pub previous: Verdict,
}

impl VerdictUpdate {
    /// Whether the verdict itself changed (not only its finality).
    pub fn changed(&self) -> bool {
        self.verdict != self.previous
    }
}

#[derive(Debug, Clone)]
pub struct Engine {
    inventory: Inventory,
    timeline: Timeline,
    grace: Span,
    pending: HashMap<String, Pending>,
    deadlines: BTreeSet<(Timestamp, String)>,
    by_room: HashMap<RoomId, HashSet<String>>,
    by_person: HashMap<PersonId, HashSet<String>>,
}

impl Engine {
    pub fn new(inventory: Inventory, grace: Span) -> Engine {
        Engine {
            inventory,
            timeline: Timeline::default(),
            grace,
            pending: HashMap::new(),
            deadlines: BTreeSet::new(),
            by_room: HashMap::new(),
            by_person: HashMap::new(),
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }
    pub fn grace(&self) -> Span {
        self.grace
    }
    /// The time of the oldest pending login, if any.
    pub fn oldest_pending_ts(&self) -> Option<Timestamp> {
        self.pending.values().map(|p| p.login.ts).min()
    }

    /// How far before a login's time door facts can matter to its verdict: the longest
    /// `max_presence` or `alarm_hold` of any room.
    pub fn lookback(&self) -> Span {
        self.inventory
            .rooms()
            .iter()
            .map(|r| r.max_presence.max(r.alarm_hold))
            .max()
            .unwrap_or_default()
    }

    /// The pending login with this `event_id`, if its verdict is not yet final.
    pub fn pending_login(&self, event_id: &str) -> Option<&Login> {
        self.pending.get(event_id).map(|p| &p.login)
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Replaces the inventory (after an import), derives presence and alarms again from
    /// the door events held (see [`Timeline::rebuild`]) and re-judges pending logins.
    /// Verdicts that were final before `now` are not touched.
    pub fn set_inventory(&mut self, inventory: Inventory, now: Timestamp) -> Vec<VerdictUpdate> {
        let mut out = self.finalize_due(now);
        self.inventory = inventory;
        self.timeline.rebuild(&self.inventory);
        let ids: Vec<String> = self.pending.keys().cloned().collect();
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                self.unindex(&id, &p);
                let previous = p.verdict.clone();
                let deadline = p.deadline;
                let login = p.login;
                let verdict = evaluate(&self.inventory, &self.timeline, &login);
                self.insert_pending(login, verdict.clone(), deadline);
                if verdict != previous {
                    out.push(VerdictUpdate {
                        event_id: id,
                        verdict,
                        is_final: false,
                        previous,
                    });
                }
            }
        }
        out
    }

    /// Judges a new login. `received` is its arrival time, `now` the current time (equal
    /// in live operation; they differ when pending logins are restored after a restart).
    /// Returns the verdict and whether it is already final.
    ///
    /// A login whose `event_id` is already pending is not a new login (CONTRACT §7: a
    /// repeated `event_id` gets the stored result): its current verdict is returned and
    /// its deadline is kept.
    pub fn submit_login(
        &mut self,
        login: Login,
        received: Timestamp,
        now: Timestamp,
    ) -> (Verdict, bool) {
        if let Some(p) = self.pending.get(&login.event_id) {
            return (p.verdict.clone(), false);
        }
        let verdict = evaluate(&self.inventory, &self.timeline, &login);
        let deadline = crate::verdict::final_at(received, self.grace);
        if now >= deadline {
            return (verdict, true);
        }
        self.insert_pending(login, verdict.clone(), deadline);
        (verdict, false)
    }

    /// Records a door event; returns the pending verdicts that became final before it
    /// and those it changed.
    pub fn record_door_event(&mut self, event: &DoorEvent, now: Timestamp) -> Vec<VerdictUpdate> {
        let mut out = self.finalize_due(now);
        let affects = self.timeline.record_event(&self.inventory, event);
        self.rejudge(&affects, &mut out);
        out
    }

    pub fn record_status(&mut self, change: &StatusChange, now: Timestamp) -> Vec<VerdictUpdate> {
        let mut out = self.finalize_due(now);
        let affects = self.timeline.record_status(&self.inventory, change);
        self.rejudge(&affects, &mut out);
        out
    }

    /// Records a period in which a door's events may have been lost (CONTRACT §6).
    pub fn record_outage(
        &mut self,
        door: &DoorId,
        outage: Outage,
        now: Timestamp,
    ) -> Vec<VerdictUpdate> {
        let mut out = self.finalize_due(now);
        let affects = self.timeline.record_outage(&self.inventory, door, outage);
        self.rejudge(&affects, &mut out);
        out
    }

    /// Marks final every pending verdict whose grace has run out by `now`.
    pub fn finalize_due(&mut self, now: Timestamp) -> Vec<VerdictUpdate> {
        let mut out = Vec::new();
        while let Some((deadline, id)) = self.deadlines.first().cloned() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(p) = self.pending.remove(&id) {
                self.unindex(&id, &p);
                out.push(VerdictUpdate {
                    event_id: id,
                    previous: p.verdict.clone(),
                    verdict: p.verdict,
                    is_final: true,
                });
            }
        }
        out
    }

    /// The earliest time a pending verdict becomes final, for the caller's timer.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(t, _)| *t)
    }

    /// Bounds memory: forgets facts older than `before` (see [`Timeline::prune`]).
    pub fn prune(&mut self, before: Timestamp) {
        self.timeline.prune(before);
    }

    fn rejudge(&mut self, affects: &Affects, out: &mut Vec<VerdictUpdate>) {
        let mut ids: BTreeSet<String> = BTreeSet::new();
        if let Some(room) = &affects.room {
            if let Some(s) = self.by_room.get(room) {
                ids.extend(s.iter().cloned());
            }
        }
        if let Some(person) = &affects.person {
            if let Some(s) = self.by_person.get(person) {
                ids.extend(s.iter().cloned());
            }
        }
        for id in ids {
            let Some(p) = self.pending.get_mut(&id) else {
                continue;
            };
            let verdict = evaluate(&self.inventory, &self.timeline, &p.login);
            if verdict != p.verdict {
                let previous = std::mem::replace(&mut p.verdict, verdict.clone());
                out.push(VerdictUpdate {
                    event_id: id,
                    verdict,
                    is_final: false,
                    previous,
                });
            }
        }
    }

    fn insert_pending(&mut self, login: Login, verdict: Verdict, deadline: Timestamp) {
        let id = login.event_id.clone();
        let room = self
            .inventory
            .terminal_by_str(&login.terminal)
            .map(|t| t.room.clone());
        let person = self
            .inventory
            .person_by_account(&login.system, &login.account)
            .cloned();
        if let Some(r) = &room {
            self.by_room
                .entry(r.clone())
                .or_default()
                .insert(id.clone());
        }
        if let Some(p) = &person {
            self.by_person
                .entry(p.clone())
                .or_default()
                .insert(id.clone());
        }
        self.deadlines.insert((deadline, id.clone()));
        self.pending.insert(
            id,
            Pending {
                login,
                verdict,
                deadline,
                room,
                person,
            },
        );
    }

    fn unindex(&mut self, id: &str, p: &Pending) {
        self.deadlines.remove(&(p.deadline, id.to_string()));
        if let Some(r) = &p.room {
            if let Some(s) = self.by_room.get_mut(r) {
                s.remove(id);
                if s.is_empty() {
                    self.by_room.remove(r);
                }
            }
        }
        if let Some(person) = &p.person {
            if let Some(s) = self.by_person.get_mut(person) {
                s.remove(id);
                if s.is_empty() {
                    self.by_person.remove(person);
                }
            }
        }
    }
}
