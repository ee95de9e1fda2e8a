//! The site inventory (棚卸し): rooms, doors, terminals, systems, maintenance vendors
//! with the systems they maintain, and people with their credentials, accounts, vendor and
//! last day (CONTRACT §4).
//!
//! The inventory is defined once, here, in two forms:
//! - [`rows`] — the tables as text, the way `monban.toml`, a CSV file, a dashboard form
//!   or the database hold them. [`InventoryRows::parse`] is the one place where a field
//!   is read and checked; the server's TOML, CSV and SQL code only moves text in and out.
//! - [`Inventory`] — the checked site with its lookup indices. [`Inventory::new`] checks
//!   every cross-reference (a door's room exists, a credential belongs to one person, an
//!   account maps to one person per system, a vendor maintains known systems, a person's
//!   vendor exists) and bounds every name.
//!
//! Both return *all* problems at once as [`RowError`]s: the table, the index of the row,
//! the field and what is wrong with it ([`ErrorKind`]), so a loader can point at the line
//! and the column.

pub mod rows;

pub use rows::{ErrorKind, InventoryRows, RowError, Table};

use crate::factor::Credential;
use crate::ids::{DoorId, PersonId, RoomId, SiteId, SystemId, TerminalId, VendorId};
use crate::period::{SiteDay, SiteOffset};
use crate::time::{Span, Timestamp};
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
    /// The planned route to 二要素認証 (the inspection report).
    pub plan: Option<crate::plan::Plan>,
    /// The month by which the plan is to be in place (`by = "2027-04"`).
    pub by: Option<crate::period::Month>,
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
    /// The vendor whose staff (保守要員) the person is: their logins are maintenance
    /// logins (CONTRACT §10).
    #[serde(default)]
    pub vendor: Option<VendorId>,
    /// The last day of employment or contract, at the site (CONTRACT §4 `until`).
    #[serde(default)]
    pub until: Option<SiteDay>,
}

impl Person {
    /// A person of the hospital's own staff with no last day.
    pub fn new(
        id: PersonId,
        name: impl Into<String>,
        credentials: Vec<Credential>,
        accounts: BTreeMap<SystemId, String>,
    ) -> Person {
        Person {
            id,
            name: name.into(),
            credentials,
            accounts,
            vendor: None,
            until: None,
        }
    }

    /// Whether the person is a vendor's staff (保守要員).
    pub fn is_vendor_staff(&self) -> bool {
        self.vendor.is_some()
    }

    /// Whether the person's `until` day had ended at `t`, in the site's calendar: from
    /// the first instant of the next day on, the person has left.
    pub fn has_left(&self, t: Timestamp, offset: SiteOffset) -> bool {
        self.until.is_some_and(|last| offset.day_of(t) > last)
    }
}

/// One system a vendor maintains (`[[vendors.maintains]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintains {
    pub system: SystemId,
    /// Remote maintenance (リモートメンテナンス) is used on it.
    pub remote: bool,
    /// The connection path (接続経路), free text.
    #[serde(default)]
    pub route: Option<String>,
    /// When the vendor last confirmed this entry (事業者確認).
    #[serde(default)]
    pub confirmed: Option<SiteDay>,
}

/// Why a maintained system's entry needs the vendor's confirmation again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmationDue {
    /// Remote maintenance with no confirmation at all.
    Missing,
    /// The last confirmation is more than a year old.
    Stale { confirmed: SiteDay },
}

impl ConfirmationDue {
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmationDue::Missing => "confirmation_missing",
            ConfirmationDue::Stale { .. } => "confirmation_stale",
        }
    }
    /// What the maintenance inventory (checklist 2②) shows as the thing to do.
    pub fn label_ja(self) -> &'static str {
        match self {
            ConfirmationDue::Missing => "要確認（事業者確認なし）",
            ConfirmationDue::Stale { .. } => "要確認（確認から1年超）",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ConfirmationDue::Missing => "To confirm (never confirmed)",
            ConfirmationDue::Stale { .. } => "To confirm (over a year ago)",
        }
    }
}

impl Maintains {
    /// How long a confirmation holds, in calendar months.
    pub const CONFIRMATION_MONTHS: u32 = 12;

    /// Whether this entry is something to do on `today`: a system maintained remotely
    /// whose connection path the vendor has never confirmed, or last confirmed more
    /// than a year ago (confirmed 2025-12-06: still good on 2026-12-06, due on
    /// 2026-12-07). On-site maintenance needs no confirmation.
    pub fn confirmation_due(&self, today: SiteDay) -> Option<ConfirmationDue> {
        if !self.remote {
            return None;
        }
        match self.confirmed {
            None => Some(ConfirmationDue::Missing),
            Some(confirmed) => {
                let good_through = confirmed.plus_months(Self::CONFIRMATION_MONTHS);
                // A date chrono cannot move a year on is surely not recent.
                if good_through.is_none_or(|last| today > last) {
                    Some(ConfirmationDue::Stale { confirmed })
                } else {
                    None
                }
            }
        }
    }
}

/// A maintenance vendor (保守事業者) and the systems it maintains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vendor {
    pub id: VendorId,
    pub name: String,
    #[serde(default)]
    pub maintains: Vec<Maintains>,
}

impl Vendor {
    /// The vendor's entry for `system`, when it maintains it.
    pub fn maintains(&self, system: &SystemId) -> Option<&Maintains> {
        self.maintains.iter().find(|m| &m.system == system)
    }
}

/// The whole site, with lookup indices.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub site: Option<(SiteId, String)>,
    /// The site's calendar (`[site] timezone`): when a person's `until` day ends.
    offset: SiteOffset,
    rooms: Vec<Room>,
    doors: Vec<Door>,
    terminals: Vec<Terminal>,
    systems: Vec<System>,
    vendors: Vec<Vendor>,
    people: Vec<Person>,
    room_idx: HashMap<RoomId, usize>,
    door_idx: HashMap<DoorId, usize>,
    terminal_idx: HashMap<TerminalId, usize>,
    system_idx: HashMap<SystemId, usize>,
    vendor_idx: HashMap<VendorId, usize>,
    person_idx: HashMap<PersonId, usize>,
    doors_of_room: HashMap<RoomId, Vec<DoorId>>,
    by_credential: HashMap<(crate::factor::CredentialType, String), PersonId>,
    by_account: HashMap<(SystemId, String), PersonId>,
}

impl Inventory {
    /// Builds an inventory without vendors, checking every reference. Returns every
    /// problem found; each names the row by its index in its table.
    pub fn new(
        site: Option<(SiteId, String)>,
        rooms: Vec<Room>,
        doors: Vec<Door>,
        terminals: Vec<Terminal>,
        systems: Vec<System>,
        people: Vec<Person>,
    ) -> Result<Inventory, Vec<RowError>> {
        Inventory::with_vendors(site, rooms, doors, terminals, systems, Vec::new(), people)
    }

    /// [`Inventory::new`] with maintenance vendors.
    pub fn with_vendors(
        site: Option<(SiteId, String)>,
        rooms: Vec<Room>,
        doors: Vec<Door>,
        terminals: Vec<Terminal>,
        systems: Vec<System>,
        vendors: Vec<Vendor>,
        people: Vec<Person>,
    ) -> Result<Inventory, Vec<RowError>> {
        fn numbered<T>(v: Vec<T>) -> Vec<(usize, T)> {
            v.into_iter().enumerate().collect()
        }
        Inventory::build(
            site,
            Numbered {
                rooms: numbered(rooms),
                doors: numbered(doors),
                terminals: numbered(terminals),
                systems: numbered(systems),
                vendors: numbered(vendors),
                people: numbered(people),
            },
        )
    }

    /// [`Inventory::new`] over rows that keep the index they had as written (rows that
    /// could not be read are missing, and the others still name their own line).
    pub(crate) fn build(
        site: Option<(SiteId, String)>,
        rows: Numbered,
    ) -> Result<Inventory, Vec<RowError>> {
        use ErrorKind::*;
        let Numbered {
            rooms,
            doors,
            terminals,
            systems,
            vendors,
            people,
        } = rows;
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
        for (k, (i, v)) in vendors.iter().enumerate() {
            if inv.vendor_idx.insert(v.id.clone(), k).is_some() {
                let kind = Duplicate(v.id.to_string());
                errors.push(RowError::new(Table::Vendors, *i, "id", kind));
            }
            for (j, m) in v.maintains.iter().enumerate() {
                if !inv.system_idx.contains_key(&m.system) {
                    let kind = unknown(Table::Systems, m.system.as_str());
                    errors.push(RowError::new(Table::Vendors, *i, "maintains", kind));
                }
                if v.maintains[..j].iter().any(|o| o.system == m.system) {
                    let kind = Invalid(format!(
                        "maintains: system {:?} is listed twice",
                        m.system.as_str()
                    ));
                    errors.push(RowError::new(Table::Vendors, *i, "maintains", kind));
                }
                if m.route.as_deref().is_some_and(|r| r.contains(';')) {
                    let kind = Invalid(
                        "maintains: a route must not contain ';' (it separates the systems of the CSV field)"
                            .to_string(),
                    );
                    errors.push(RowError::new(Table::Vendors, *i, "maintains", kind));
                }
            }
        }
        for (k, (i, p)) in people.iter().enumerate() {
            if let Some(v) = &p.vendor {
                if !inv.vendor_idx.contains_key(v) {
                    let kind = unknown(Table::Vendors, v.as_str());
                    errors.push(RowError::new(Table::People, *i, "vendor", kind));
                }
            }
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
        for (i, v) in &vendors {
            bound(Table::Vendors, *i, "name", &v.name, crate::text::LABEL);
            for m in &v.maintains {
                if let Some(route) = &m.route {
                    bound(Table::Vendors, *i, "maintains", route, ROUTE);
                }
            }
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
        inv.vendors = strip(vendors);
        inv.people = strip(people);
        if errors.is_empty() {
            Ok(inv)
        } else {
            errors.sort_by_key(|e| (e.table, e.index));
            Err(errors)
        }
    }

    /// The same inventory on the calendar of `offset` (`[site] timezone`; `+09:00` unless
    /// set).
    pub fn with_offset(mut self, offset: SiteOffset) -> Inventory {
        self.offset = offset;
        self
    }
    /// The site's UTC offset, which defines its calendar days.
    pub fn offset(&self) -> SiteOffset {
        self.offset
    }
    /// Whether `person` is known and had left at `t` (their `until` day had ended, at
    /// the site).
    pub fn has_left(&self, person: &PersonId, t: Timestamp) -> bool {
        self.person(person)
            .is_some_and(|p| p.has_left(t, self.offset))
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
    pub fn vendors(&self) -> &[Vendor] {
        &self.vendors
    }
    pub fn vendor(&self, id: &VendorId) -> Option<&Vendor> {
        self.vendor_idx.get(id).map(|&i| &self.vendors[i])
    }
    /// Whether `person` is staff of `vendor`.
    pub fn is_vendor_staff(&self, person: &PersonId, vendor: &VendorId) -> bool {
        self.person(person)
            .is_some_and(|p| p.vendor.as_ref() == Some(vendor))
    }
    /// The vendor the person works for, when the person is vendor staff.
    pub fn vendor_of(&self, person: &PersonId) -> Option<&Vendor> {
        self.person(person)?
            .vendor
            .as_ref()
            .and_then(|v| self.vendor(v))
    }
    /// The vendor's entry for `system`, when the vendor exists and maintains it.
    pub fn maintains(&self, vendor: &VendorId, system: &SystemId) -> Option<&Maintains> {
        self.vendor(vendor)?.maintains(system)
    }
    /// Every remotely maintained system whose confirmation is due on `today` (see
    /// [`Maintains::confirmation_due`]), in inventory order.
    pub fn confirmations_due(&self, today: SiteDay) -> Vec<(&Vendor, &Maintains, ConfirmationDue)> {
        self.vendors
            .iter()
            .flat_map(|v| {
                v.maintains
                    .iter()
                    .filter_map(move |m| m.confirmation_due(today).map(|due| (v, m, due)))
            })
            .collect()
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

/// A vendor's connection path (接続経路): free text like a name.
pub const ROUTE: crate::text::Bound = crate::text::Bound {
    field: "route",
    max_chars: 200,
    required: false,
};

/// The rows of each table, each with the index it had as written.
#[derive(Debug, Default)]
pub(crate) struct Numbered {
    pub rooms: Vec<(usize, Room)>,
    pub doors: Vec<(usize, Door)>,
    pub terminals: Vec<(usize, Terminal)>,
    pub systems: Vec<(usize, System)>,
    pub vendors: Vec<(usize, Vendor)>,
    pub people: Vec<(usize, Person)>,
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
            Person::new(
                PersonId::parse("p1").unwrap(),
                "A",
                vec!["card:AA".parse().unwrap()],
                [(SystemId::parse("ghost").unwrap(), "a".to_string())].into(),
            ),
            Person::new(
                PersonId::parse("p2").unwrap(),
                "B",
                vec!["card:aa".parse().unwrap()],
                BTreeMap::new(),
            ),
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

    fn day(s: &str) -> SiteDay {
        SiteDay::parse(s).unwrap()
    }

    /// (remote, confirmed, today, due)
    #[test]
    fn remote_maintenance_needs_a_yearly_confirmation() {
        let cases: &[(bool, Option<&str>, &str, Option<&str>)] = &[
            (true, None, "2026-12-06", Some("confirmation_missing")),
            (false, None, "2026-12-06", None),
            (true, Some("2026-10-01"), "2026-12-06", None),
            (true, Some("2025-12-06"), "2026-12-06", None),
            (
                true,
                Some("2025-12-06"),
                "2026-12-07",
                Some("confirmation_stale"),
            ),
            (true, Some("2024-02-29"), "2025-02-28", None),
            (
                true,
                Some("2024-02-29"),
                "2025-03-01",
                Some("confirmation_stale"),
            ),
            (false, Some("2020-01-01"), "2026-12-06", None),
            // A confirmation dated in the future is not due (a typo an officer sees).
            (true, Some("2027-01-01"), "2026-12-06", None),
        ];
        for (remote, confirmed, today, due) in cases {
            let m = Maintains {
                system: SystemId::parse("ehr").unwrap(),
                remote: *remote,
                route: None,
                confirmed: confirmed.map(day),
            };
            let got = m.confirmation_due(day(today));
            assert_eq!(
                got.map(ConfirmationDue::as_str),
                *due,
                "{confirmed:?} on {today}"
            );
            if let Some(ConfirmationDue::Stale { confirmed: c }) = got {
                assert_eq!(Some(c), m.confirmed);
            }
        }
    }

    #[test]
    fn leavers_by_site_day() {
        let mut p = Person::new(PersonId::parse("v1").unwrap(), "", vec![], BTreeMap::new());
        let t = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        assert!(!p.has_left(t("2030-01-01T00:00:00Z"), SiteOffset::JST));
        p.until = Some(day("2027-03-31"));
        // (instant, offset, left)
        let cases = [
            ("2027-03-31T23:59:59.999+09:00", SiteOffset::JST, false),
            ("2027-04-01T00:00:00+09:00", SiteOffset::JST, true),
            ("2027-03-31T20:00:00Z", SiteOffset::JST, true),
            ("2027-03-31T20:00:00Z", SiteOffset::UTC, false),
            ("2026-01-01T00:00:00Z", SiteOffset::JST, false),
        ];
        for (at, offset, left) in cases {
            assert_eq!(p.has_left(t(at), offset), left, "{at} at {offset}");
        }
    }

    #[test]
    fn vendors_are_checked_and_found() {
        let sys = |id: &str| System {
            id: SystemId::parse(id).unwrap(),
            name: id.into(),
            category: SystemCategory::Ehr,
            native_mfa: false,
            renewal: None,
            plan: None,
            by: None,
        };
        let m = |system: &str, remote| Maintains {
            system: SystemId::parse(system).unwrap(),
            remote,
            route: None,
            confirmed: None,
        };
        let acme = VendorId::parse("acme").unwrap();
        let vendors = vec![Vendor {
            id: acme.clone(),
            name: "アクメ".into(),
            maintains: vec![m("ehr", true), m("pacs", false)],
        }];
        let mut v1 = Person::new(PersonId::parse("v1").unwrap(), "", vec![], BTreeMap::new());
        v1.vendor = Some(acme.clone());
        let n1 = Person::new(PersonId::parse("n1").unwrap(), "", vec![], BTreeMap::new());
        let inv = Inventory::with_vendors(
            None,
            vec![],
            vec![],
            vec![],
            vec![sys("ehr"), sys("pacs")],
            vendors.clone(),
            vec![v1.clone(), n1.clone()],
        )
        .unwrap();
        let ehr = SystemId::parse("ehr").unwrap();
        assert_eq!(inv.vendors().len(), 1);
        assert_eq!(inv.vendor(&acme).map(|v| v.name.as_str()), Some("アクメ"));
        assert!(inv.is_vendor_staff(&v1.id, &acme));
        assert!(!inv.is_vendor_staff(&n1.id, &acme));
        assert_eq!(inv.vendor_of(&v1.id).map(|v| &v.id), Some(&acme));
        assert!(inv.vendor_of(&n1.id).is_none());
        assert_eq!(inv.maintains(&acme, &ehr).map(|m| m.remote), Some(true));
        assert!(inv
            .maintains(&acme, &SystemId::parse("lab").unwrap())
            .is_none());
        let due = inv.confirmations_due(day("2026-12-06"));
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].1.system.as_str(), due[0].2),
            ("ehr", ConfirmationDue::Missing)
        );

        // Unknown systems, a system twice, an unknown vendor, a duplicate vendor.
        let mut bad = vendors.clone();
        bad[0].maintains.push(m("lab", true));
        bad[0].maintains.push(m("ehr", false));
        bad.push(bad[0].clone());
        let mut ghost = n1.clone();
        ghost.vendor = Some(VendorId::parse("ghost").unwrap());
        let errors = Inventory::with_vendors(
            None,
            vec![],
            vec![],
            vec![],
            vec![sys("ehr"), sys("pacs")],
            bad,
            vec![ghost],
        )
        .unwrap_err();
        let at: Vec<_> = errors.iter().map(|e| (e.table, e.index, e.field)).collect();
        assert_eq!(
            at,
            [
                (Table::Vendors, 0, "maintains"),
                (Table::Vendors, 0, "maintains"),
                (Table::Vendors, 1, "id"),
                (Table::Vendors, 1, "maintains"),
                (Table::Vendors, 1, "maintains"),
                (Table::People, 0, "vendor"),
            ],
            "{errors:#?}"
        );
        assert!(errors[5]
            .to_string()
            .contains("vendor \"ghost\" is not in [[vendors]]"));
    }

    #[test]
    fn renewal_months() {
        assert!(parse_renewal("2027-04").is_ok());
        assert!(parse_renewal("2027-13").is_err());
        assert!(parse_renewal("27-04").is_err());
        assert!(parse_renewal("2027-+1").is_err());
    }
}
