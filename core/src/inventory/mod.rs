//! The site inventory (棚卸し): rooms, doors, terminals, systems and people with their
//! credentials and accounts (CONTRACT §4).
//!
//! The inventory is defined once, here, in two forms:
//! - [`rows`] — the tables as text, the way `monban.toml`, a CSV file, a dashboard form
//!   or the database hold them. [`InventoryRows::parse`] is the one place where a field
//!   is read and checked; the server's TOML, CSV and SQL code only moves text in and out.
//! - [`Inventory`] — the checked site with its lookup indices. [`Inventory::new`] checks
//!   every cross-reference (a door's room exists, a credential belongs to one person, an
//!   account maps to one person per system) and bounds every name.
//!
//! Both return *all* problems at once as [`RowError`]s: the table, the index of the row,
//! the field and what is wrong with it ([`ErrorKind`]), so a loader can point at the line
//! and the column.

pub mod rows;

pub use rows::{ErrorKind, InventoryRows, RowError, Table};

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

/// A door into a room, with the connector that feeds it and the watchdog's timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Door {
    pub id: DoorId,
    pub room: RoomId,
    #[serde(default)]
    pub name: String,
    /// The connector that feeds the door's events (a `[[modbus]]` device, or MQTT/HTTP).
    #[serde(default)]
    pub feed: DoorFeed,
    /// A door silent for longer counts as offline (the heartbeat watchdog,
    /// [`crate::health::watchdog`]); `None`: the door is not watched.
    #[serde(default)]
    pub heartbeat_timeout: Option<Span>,
}

impl Door {
    /// The shortest heartbeat timeout: longer than any controller's heartbeat interval.
    pub const MIN_HEARTBEAT_TIMEOUT: Span = Span::from_millis_const(1000);

    /// A door fed by MQTT (or HTTP) with no heartbeat watchdog.
    pub fn new(id: DoorId, room: RoomId, name: impl Into<String>) -> Door {
        Door {
            id,
            room,
            name: name.into(),
            feed: DoorFeed::default(),
            heartbeat_timeout: None,
        }
    }
}

/// The connector that feeds a door.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorFeed {
    /// Pushed events: MQTT or `POST /api/v1/door-events`. Offline only when told or when
    /// the heartbeat watchdog fires.
    #[default]
    Mqtt,
    /// A Modbus device the hub polls: offline as soon as it stops answering.
    Modbus,
}

impl DoorFeed {
    pub fn as_str(self) -> &'static str {
        match self {
            DoorFeed::Mqtt => "mqtt",
            DoorFeed::Modbus => "modbus",
        }
    }
}

impl FromStr for DoorFeed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "" | "mqtt" => Ok(DoorFeed::Mqtt),
            "modbus" => Ok(DoorFeed::Modbus),
            other => Err(format!("feed {other:?} is not mqtt or modbus")),
        }
    }
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
    /// Builds an inventory, checking every reference. Returns every problem found; each
    /// names the row by its index in its table.
    pub fn new(
        site: Option<(SiteId, String)>,
        rooms: Vec<Room>,
        doors: Vec<Door>,
        terminals: Vec<Terminal>,
        systems: Vec<System>,
        people: Vec<Person>,
    ) -> Result<Inventory, Vec<RowError>> {
        fn numbered<T>(v: Vec<T>) -> Vec<(usize, T)> {
            v.into_iter().enumerate().collect()
        }
        Inventory::build(
            site,
            numbered(rooms),
            numbered(doors),
            numbered(terminals),
            numbered(systems),
            numbered(people),
        )
    }

    /// [`Inventory::new`] over rows that keep the index they had as written (rows that
    /// could not be read are missing, and the others still name their own line).
    pub(crate) fn build(
        site: Option<(SiteId, String)>,
        rooms: Vec<(usize, Room)>,
        doors: Vec<(usize, Door)>,
        terminals: Vec<(usize, Terminal)>,
        systems: Vec<(usize, System)>,
        people: Vec<(usize, Person)>,
    ) -> Result<Inventory, Vec<RowError>> {
        use ErrorKind::*;
        let mut errors = Vec::new();
        let mut inv = Inventory {
            site,
            ..Default::default()
        };
        let unknown = |table: Table, id: &str| UnknownReference {
            table,
            id: id.to_string(),
        };

        for (k, (i, r)) in rooms.iter().enumerate() {
            if inv.room_idx.insert(r.id.clone(), k).is_some() {
                errors.push(RowError::new(
                    Table::Rooms,
                    *i,
                    "id",
                    Duplicate(r.id.to_string()),
                ));
            }
        }
        for (k, (i, d)) in doors.iter().enumerate() {
            if inv.door_idx.insert(d.id.clone(), k).is_some() {
                errors.push(RowError::new(
                    Table::Doors,
                    *i,
                    "id",
                    Duplicate(d.id.to_string()),
                ));
            }
            if !inv.room_idx.contains_key(&d.room) {
                let kind = unknown(Table::Rooms, d.room.as_str());
                errors.push(RowError::new(Table::Doors, *i, "room", kind));
            }
            if let Some(t) = d.heartbeat_timeout {
                if t < Door::MIN_HEARTBEAT_TIMEOUT {
                    let kind = Invalid(format!(
                        "heartbeat_timeout {t} must be at least 1s (longer than the controller's heartbeat interval)"
                    ));
                    errors.push(RowError::new(Table::Doors, *i, "heartbeat_timeout", kind));
                }
            }
            inv.doors_of_room
                .entry(d.room.clone())
                .or_default()
                .push(d.id.clone());
        }
        for (k, (i, t)) in terminals.iter().enumerate() {
            if inv.terminal_idx.insert(t.id.clone(), k).is_some() {
                let kind = Duplicate(t.id.to_string());
                errors.push(RowError::new(Table::Terminals, *i, "id", kind));
            }
            if !inv.room_idx.contains_key(&t.room) {
                let kind = unknown(Table::Rooms, t.room.as_str());
                errors.push(RowError::new(Table::Terminals, *i, "room", kind));
            }
        }
        for (k, (i, s)) in systems.iter().enumerate() {
            if inv.system_idx.insert(s.id.clone(), k).is_some() {
                let kind = Duplicate(s.id.to_string());
                errors.push(RowError::new(Table::Systems, *i, "id", kind));
            }
        }
        for (k, (i, p)) in people.iter().enumerate() {
            if inv.person_idx.insert(p.id.clone(), k).is_some() {
                errors.push(RowError::new(
                    Table::People,
                    *i,
                    "id",
                    Duplicate(p.id.to_string()),
                ));
            }
            for c in &p.credentials {
                if let Some(other) = inv.by_credential.insert(c.match_key(), p.id.clone()) {
                    if other != p.id {
                        let kind = CredentialTaken {
                            credential: c.to_string(),
                            person: other.to_string(),
                        };
                        errors.push(RowError::new(Table::People, *i, "credentials", kind));
                    }
                }
            }
            for (system, account) in &p.accounts {
                if !inv.system_idx.contains_key(system) {
                    let kind = unknown(Table::Systems, system.as_str());
                    errors.push(RowError::new(Table::People, *i, "accounts", kind));
                }
                if account.trim().is_empty() {
                    let kind = Invalid(format!(
                        "the account name for system {:?} is empty",
                        system.as_str()
                    ));
                    errors.push(RowError::new(Table::People, *i, "accounts", kind));
                }
                if let Some(other) = inv
                    .by_account
                    .insert((system.clone(), account.clone()), p.id.clone())
                {
                    if other != p.id {
                        let kind = AccountTaken {
                            system: system.to_string(),
                            account: account.clone(),
                            person: other.to_string(),
                        };
                        errors.push(RowError::new(Table::People, *i, "accounts", kind));
                    }
                }
            }
        }
        // Names and account names are bounded text like everything the hub stores.
        let mut bound = |table: Table, i: usize, field: &'static str, v: &str, b| {
            if let Err(e) = crate::text::Text::parse(v, b) {
                errors.push(RowError::new(
                    table,
                    i,
                    field,
                    Invalid(format!("{field}: {e}")),
                ));
            }
        };
        for (i, r) in &rooms {
            bound(Table::Rooms, *i, "name", &r.name, crate::text::LABEL);
        }
        for (i, d) in &doors {
            bound(Table::Doors, *i, "name", &d.name, crate::text::LABEL);
        }
        for (i, t) in &terminals {
            bound(Table::Terminals, *i, "name", &t.name, crate::text::LABEL);
        }
        for (i, s) in &systems {
            bound(Table::Systems, *i, "name", &s.name, crate::text::LABEL);
        }
        for (i, p) in &people {
            bound(Table::People, *i, "name", &p.name, crate::text::LABEL);
            for account in p.accounts.values() {
                if !account.trim().is_empty() {
                    bound(Table::People, *i, "accounts", account, crate::text::ACCOUNT);
                }
            }
        }
        fn strip<T>(v: Vec<(usize, T)>) -> Vec<T> {
            v.into_iter().map(|(_, x)| x).collect()
        }
        inv.rooms = strip(rooms);
        inv.doors = strip(doors);
        inv.terminals = strip(terminals);
        inv.systems = strip(systems);
        inv.people = strip(people);
        if errors.is_empty() {
            Ok(inv)
        } else {
            errors.sort_by_key(|e| (e.table, e.index));
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
            Door::new(
                DoorId::parse("d1").unwrap(),
                RoomId::parse("nowhere").unwrap(),
                "",
            ),
            Door::new(
                DoorId::parse("d1").unwrap(),
                RoomId::parse("r1").unwrap(),
                "",
            ),
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
        assert_eq!(
            (errors[0].table, errors[0].index, errors[0].field),
            (Table::Doors, 0, "room")
        );
        assert!(text[1].contains("used twice"));
        assert_eq!(
            (errors[1].table, errors[1].index, errors[1].field),
            (Table::Doors, 1, "id")
        );
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
