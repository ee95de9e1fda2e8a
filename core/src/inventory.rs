//! The site inventory (棚卸し): rooms, doors, terminals, systems and people with their
//! credentials and accounts (CONTRACT §4).
//!
//! [`Inventory::new`] is the only way to build one; it checks every cross-reference
//! (a door's room exists, a credential belongs to one person, an account maps to one
//! person per system) and returns *all* problems at once, each naming the table and the
//! index of the entry so that configuration loaders can point at the line.

use crate::factor::Credential;
use crate::ids::{DoorId, PersonId, RoomId, SiteId, SystemId, TerminalId};
use crate::time::Span;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// A room. `controlled` rooms have authenticated entry; only they can earn
/// compensating-control credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub name: String,
    pub controlled: bool,
    pub max_presence: Span,
    pub alarm_hold: Span,
}

impl Room {
    pub const DEFAULT_MAX_PRESENCE: Span = Span::from_millis_const(12 * 3600 * 1000);
    pub const DEFAULT_ALARM_HOLD: Span = Span::from_millis_const(15 * 60 * 1000);
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Door {
    pub id: DoorId,
    pub room: RoomId,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminal {
    pub id: TerminalId,
    pub room: RoomId,
    #[serde(default)]
    pub name: String,
}

/// The kind of medical information system (CONTRACT §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemCategory {
    Ehr,
    Departmental,
    Vpn,
    Vdi,
    Cloud,
    Maintenance,
    Other,
}

impl SystemCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            SystemCategory::Ehr => "ehr",
            SystemCategory::Departmental => "departmental",
            SystemCategory::Vpn => "vpn",
            SystemCategory::Vdi => "vdi",
            SystemCategory::Cloud => "cloud",
            SystemCategory::Maintenance => "maintenance",
            SystemCategory::Other => "other",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            SystemCategory::Ehr => "電子カルテ",
            SystemCategory::Departmental => "部門システム",
            SystemCategory::Vpn => "VPN",
            SystemCategory::Vdi => "VDI",
            SystemCategory::Cloud => "クラウド",
            SystemCategory::Maintenance => "保守",
            SystemCategory::Other => "その他",
        }
    }
}

impl FromStr for SystemCategory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ehr" => SystemCategory::Ehr,
            "departmental" => SystemCategory::Departmental,
            "vpn" => SystemCategory::Vpn,
            "vdi" => SystemCategory::Vdi,
            "cloud" => SystemCategory::Cloud,
            "maintenance" => SystemCategory::Maintenance,
            "other" => SystemCategory::Other,
            other => {
                return Err(format!(
                    "unknown system category {other:?}; expected one of: ehr, departmental, vpn, vdi, cloud, maintenance, other"
                ))
            }
        })
    }
}

impl fmt::Display for SystemCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    pub id: SystemId,
    pub name: String,
    pub category: SystemCategory,
    pub native_mfa: bool,
    /// Planned renewal (更改) month, `YYYY-MM`.
    pub renewal: Option<String>,
}

/// Checks a renewal month written `YYYY-MM` ([`crate::period::Month`]).
pub fn parse_renewal(s: &str) -> Result<String, String> {
    if crate::period::Month::parse(s).is_ok() {
        Ok(s.to_string())
    } else {
        Err(format!(
            "renewal {s:?} must be a month written YYYY-MM, e.g. \"2027-04\""
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub credentials: Vec<Credential>,
    /// System id → account name on that system.
    pub accounts: BTreeMap<SystemId, String>,
}

/// One problem found while building an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// The table: `rooms`, `doors`, `terminals`, `systems` or `people`.
    pub table: &'static str,
    /// Index of the entry within its table.
    pub index: usize,
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[[{}]] entry {}: {}",
            self.table,
            self.index + 1,
            self.message
        )
    }
}

/// The whole site, with lookup indices.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub site: Option<(SiteId, String)>,
    rooms: Vec<Room>,
    doors: Vec<Door>,
    terminals: Vec<Terminal>,
    systems: Vec<System>,
    people: Vec<Person>,
    room_idx: HashMap<RoomId, usize>,
    door_idx: HashMap<DoorId, usize>,
    terminal_idx: HashMap<TerminalId, usize>,
    system_idx: HashMap<SystemId, usize>,
    person_idx: HashMap<PersonId, usize>,
    doors_of_room: HashMap<RoomId, Vec<DoorId>>,
    by_credential: HashMap<(crate::factor::CredentialType, String), PersonId>,
    by_account: HashMap<(SystemId, String), PersonId>,
}

impl Inventory {
    /// Builds an inventory, checking every reference. Returns every problem found.
    pub fn new(
        site: Option<(SiteId, String)>,
        rooms: Vec<Room>,
        doors: Vec<Door>,
        terminals: Vec<Terminal>,
        systems: Vec<System>,
        people: Vec<Person>,
    ) -> Result<Inventory, Vec<InventoryError>> {
        let mut errors = Vec::new();
        let mut inv = Inventory {
            site,
            ..Default::default()
        };

        for (i, r) in rooms.iter().enumerate() {
            if inv.room_idx.insert(r.id.clone(), i).is_some() {
                errors.push(err(
                    "rooms",
                    i,
                    format!("room id {:?} is used twice", r.id.as_str()),
                ));
            }
        }
        for (i, d) in doors.iter().enumerate() {
            if inv.door_idx.insert(d.id.clone(), i).is_some() {
                errors.push(err(
                    "doors",
                    i,
                    format!("door id {:?} is used twice", d.id.as_str()),
                ));
            }
            if !inv.room_idx.contains_key(&d.room) {
                errors.push(err(
                    "doors",
                    i,
                    format!(
                        "door {:?} names room {:?}, which is not in [[rooms]]",
                        d.id.as_str(),
                        d.room.as_str()
                    ),
                ));
            }
            inv.doors_of_room
                .entry(d.room.clone())
                .or_default()
                .push(d.id.clone());
        }
        for (i, t) in terminals.iter().enumerate() {
            if inv.terminal_idx.insert(t.id.clone(), i).is_some() {
                errors.push(err(
                    "terminals",
                    i,
                    format!("terminal id {:?} is used twice", t.id.as_str()),
                ));
            }
            if !inv.room_idx.contains_key(&t.room) {
                errors.push(err(
                    "terminals",
                    i,
                    format!(
                        "terminal {:?} names room {:?}, which is not in [[rooms]]",
                        t.id.as_str(),
                        t.room.as_str()
                    ),
                ));
            }
        }
        for (i, s) in systems.iter().enumerate() {
            if inv.system_idx.insert(s.id.clone(), i).is_some() {
                errors.push(err(
                    "systems",
                    i,
                    format!("system id {:?} is used twice", s.id.as_str()),
                ));
            }
        }
        for (i, p) in people.iter().enumerate() {
            if inv.person_idx.insert(p.id.clone(), i).is_some() {
                errors.push(err(
                    "people",
                    i,
                    format!("person id {:?} is used twice", p.id.as_str()),
                ));
            }
            for c in &p.credentials {
                if let Some(other) = inv.by_credential.insert(c.match_key(), p.id.clone()) {
                    if other != p.id {
                        errors.push(err(
                            "people",
                            i,
                            format!("credential {c} is also held by person {:?}", other.as_str()),
                        ));
                    }
                }
            }
            for (system, account) in &p.accounts {
                if !inv.system_idx.contains_key(system) {
                    errors.push(err(
                        "people",
                        i,
                        format!(
                            "account for system {:?}, which is not in [[systems]]",
                            system.as_str()
                        ),
                    ));
                }
                if account.trim().is_empty() {
                    errors.push(err(
                        "people",
                        i,
                        format!("account name for system {:?} is empty", system.as_str()),
                    ));
                }
                if let Some(other) = inv
                    .by_account
                    .insert((system.clone(), account.clone()), p.id.clone())
                {
                    if other != p.id {
                        errors.push(err(
                            "people",
                            i,
                            format!(
                                "account {account:?} on system {:?} is also mapped to person {:?}",
                                system.as_str(),
                                other.as_str()
                            ),
                        ));
                    }
                }
            }
        }
        // Names and account names are bounded text like everything the hub stores.
        let mut bound = |table: &'static str, i: usize, what: &str, v: &str, b| {
            if let Err(e) = crate::text::Text::parse(v, b) {
                errors.push(err(table, i, format!("{what}: {e}")));
            }
        };
        for (i, r) in rooms.iter().enumerate() {
            bound("rooms", i, "name", &r.name, crate::text::LABEL);
        }
        for (i, d) in doors.iter().enumerate() {
            bound("doors", i, "name", &d.name, crate::text::LABEL);
        }
        for (i, t) in terminals.iter().enumerate() {
            bound("terminals", i, "name", &t.name, crate::text::LABEL);
        }
        for (i, s) in systems.iter().enumerate() {
            bound("systems", i, "name", &s.name, crate::text::LABEL);
        }
        for (i, p) in people.iter().enumerate() {
            bound("people", i, "name", &p.name, crate::text::LABEL);
            for (system, account) in &p.accounts {
                if !account.trim().is_empty() {
                    bound(
                        "people",
                        i,
                        &format!("account for system {:?}", system.as_str()),
                        account,
                        crate::text::ACCOUNT,
                    );
                }
            }
        }
        inv.rooms = rooms;
        inv.doors = doors;
        inv.terminals = terminals;
        inv.systems = systems;
        inv.people = people;
        if errors.is_empty() {
            Ok(inv)
        } else {
            Err(errors)
        }
    }

    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }
    pub fn doors(&self) -> &[Door] {
        &self.doors
    }
    pub fn terminals(&self) -> &[Terminal] {
        &self.terminals
    }
    pub fn systems(&self) -> &[System] {
        &self.systems
    }
    pub fn people(&self) -> &[Person] {
        &self.people
    }
    pub fn room(&self, id: &RoomId) -> Option<&Room> {
        self.room_idx.get(id).map(|&i| &self.rooms[i])
    }
    pub fn door(&self, id: &DoorId) -> Option<&Door> {
        self.door_idx.get(id).map(|&i| &self.doors[i])
    }
    /// Looks a door up by its raw id (as it appears in a topic or a body).
    pub fn door_by_str(&self, id: &str) -> Option<&Door> {
        DoorId::parse(id).ok().and_then(|d| self.door(&d))
    }
    pub fn terminal_by_str(&self, id: &str) -> Option<&Terminal> {
        TerminalId::parse(id)
            .ok()
            .and_then(|t| self.terminal_idx.get(&t).map(|&i| &self.terminals[i]))
    }
    pub fn system(&self, id: &SystemId) -> Option<&System> {
        self.system_idx.get(id).map(|&i| &self.systems[i])
    }
    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.person_idx.get(id).map(|&i| &self.people[i])
    }
    pub fn doors_of(&self, room: &RoomId) -> &[DoorId] {
        self.doors_of_room
            .get(room)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
    pub fn person_by_credential(&self, c: &Credential) -> Option<&PersonId> {
        self.by_credential.get(&c.match_key())
    }
    pub fn person_by_account(&self, system: &SystemId, account: &str) -> Option<&PersonId> {
        self.by_account.get(&(system.clone(), account.to_string()))
    }
    /// The room of a door, when the door is known.
    pub fn room_of_door(&self, door: &DoorId) -> Option<&RoomId> {
        self.door(door).map(|d| &d.room)
    }
}

fn err(table: &'static str, index: usize, message: String) -> InventoryError {
    InventoryError {
        table,
        index,
        message,
    }
}

impl Span {
    /// A `const` constructor for defaults.
    pub const fn from_millis_const(ms: i64) -> Span {
        // Span's field is private to `time`; this lives here to keep defaults next to
        // the types that use them.
        crate::time::span_const(ms)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn room(id: &str) -> Room {
        Room {
            id: RoomId::parse(id).unwrap(),
            name: id.into(),
            controlled: true,
            max_presence: Room::DEFAULT_MAX_PRESENCE,
            alarm_hold: Room::DEFAULT_ALARM_HOLD,
        }
    }

    #[test]
    fn reports_every_broken_reference() {
        let doors = vec![
            Door {
                id: DoorId::parse("d1").unwrap(),
                room: RoomId::parse("nowhere").unwrap(),
                name: String::new(),
            },
            Door {
                id: DoorId::parse("d1").unwrap(),
                room: RoomId::parse("r1").unwrap(),
                name: String::new(),
            },
        ];
        let people = vec![
            Person {
                id: PersonId::parse("p1").unwrap(),
                name: "A".into(),
                credentials: vec!["card:AA".parse().unwrap()],
                accounts: [(SystemId::parse("ghost").unwrap(), "a".to_string())].into(),
            },
            Person {
                id: PersonId::parse("p2").unwrap(),
                name: "B".into(),
                credentials: vec!["card:aa".parse().unwrap()],
                accounts: BTreeMap::new(),
            },
        ];
        let errors =
            Inventory::new(None, vec![room("r1")], doors, vec![], vec![], people).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 4, "{text:#?}");
        assert!(text[0].contains("not in [[rooms]]"));
        assert!(text[1].contains("used twice"));
        assert!(text.iter().any(|t| t.contains("ghost")));
        assert!(text
            .iter()
            .any(|t| t.contains("also held by person \"p1\"")));
    }

    #[test]
    fn renewal_months() {
        assert!(parse_renewal("2027-04").is_ok());
        assert!(parse_renewal("2027-13").is_err());
        assert!(parse_renewal("27-04").is_err());
        assert!(parse_renewal("2027-+1").is_err());
    }
}
