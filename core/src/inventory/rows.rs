//! The inventory as rows of text — what `monban.toml`, a CSV file, a dashboard form and
//! the database hold — and the one reading of them.
//!
//! Each table has a row type whose fields are the text as written ([`RoomRow`],
//! [`DoorRow`], [`TerminalRow`], [`SystemRow`], [`VendorRow`] with its [`MaintainsRow`]s,
//! [`PersonRow`]); its [`Table::columns`] are the CSV columns. [`InventoryRows::parse`] reads every field (ids, durations,
//! booleans, categories, months, credentials, accounts) and then checks the
//! cross-references with [`Inventory::new`]'s rules, returning every problem as a
//! [`RowError`] `{table, index, field, kind}`. [`InventoryRows::of`] is the inverse: an
//! inventory written out as rows, which parse back to the same inventory.
//!
//! An empty field means "not given": a default where there is one (a room's
//! `max_presence` 12h, `alarm_hold` 15m; a name is the id for rooms, systems and people;
//! no heartbeat watchdog; `controlled` and `native_mfa` false; a vendor's name is its id;
//! no vendor, no `until`), [`ErrorKind::Missing`] where there is none (ids, rooms, a
//! system's category, the system and the `remote` of a maintained system).
//!
//! Lists that CSV holds in one field are separated by `;`: a person's credentials
//! (`card:04A1;biometric:P1`) and accounts (`ehr=nurse01;vpn=nurse01`), and the systems a
//! vendor maintains, each written `system:remote|onsite:confirmed:route` with the last
//! two optional: `ehr:remote:2026-10-01:保守用VPN (IPsec);pacs:onsite::`. A route may
//! hold `:` (it comes last) but not `;`.

use super::{
    Door, DoorFeed, Inventory, Maintains, Numbered, Person, Room, System, SystemCategory, Terminal,
    Vendor,
};
use crate::factor::Credential;
use crate::ids::{DoorId, PersonId, RoomId, SiteId, SystemId, TerminalId, VendorId};
use crate::period::SiteDay;
use crate::time::Span;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One table of the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Rooms,
    Doors,
    Terminals,
    Systems,
    Vendors,
    People,
}

impl Table {
    /// The tables in the order they are defined (a door needs its room first, a vendor
    /// its systems, a person their vendor).
    pub const ALL: [Table; 6] = [
        Table::Rooms,
        Table::Doors,
        Table::Terminals,
        Table::Systems,
        Table::Vendors,
        Table::People,
    ];

    /// The table's name: `rooms`, `doors`, `terminals`, `systems`, `vendors`, `people`
    /// (the TOML array `[[rooms]]`, the CSV file `rooms.csv`, the SQL table).
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Rooms => "rooms",
            Table::Doors => "doors",
            Table::Terminals => "terminals",
            Table::Systems => "systems",
            Table::Vendors => "vendors",
            Table::People => "people",
        }
    }

    /// What one row is called in a message.
    fn row_noun(self) -> &'static str {
        match self {
            Table::Rooms => "room",
            Table::Doors => "door",
            Table::Terminals => "terminal",
            Table::Systems => "system",
            Table::Vendors => "vendor",
            Table::People => "person",
        }
    }

    /// The table's CSV columns, `id` first.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Rooms => &["id", "name", "controlled", "max_presence", "alarm_hold"],
            Table::Doors => &["id", "room", "name", "heartbeat_timeout"],
            Table::Terminals => &["id", "room", "name"],
            Table::Systems => &[
                "id",
                "name",
                "category",
                "native_mfa",
                "renewal",
                "plan",
                "by",
            ],
            Table::Vendors => &["id", "name", "maintains"],
            Table::People => &["id", "name", "credentials", "accounts", "vendor", "until"],
        }
    }

    /// Columns a CSV file may leave out: the existing rows keep their value (files
    /// exported before the column existed stay importable).
    pub fn optional_columns(self) -> &'static [&'static str] {
        match self {
            Table::Doors => &["heartbeat_timeout"],
            Table::People => &["vendor", "until"],
            Table::Systems => &["plan", "by"],
            _ => &[],
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Table {
    type Err = String;
    fn from_str(s: &str) -> Result<Table, String> {
        Table::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "no table {s:?}; the tables are rooms, doors, terminals, systems, vendors, people"
                )
            })
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The field is required and empty.
    Missing,
    /// The field's text is not what it must be; the reason says why.
    Invalid(String),
    /// The id is used by another row of the same table.
    Duplicate(String),
    /// The field names a row of `table` that does not exist.
    UnknownReference { table: Table, id: String },
    /// The credential belongs to another person.
    CredentialTaken { credential: String, person: String },
    /// The account on that system is mapped to another person.
    AccountTaken {
        system: String,
        account: String,
        person: String,
    },
}

/// One problem in one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub table: Table,
    /// The row's index in its table, from 0, as written (counting rows that could not be
    /// read).
    pub index: usize,
    /// The field (the CSV column, the TOML key).
    pub field: &'static str,
    pub kind: ErrorKind,
}

impl RowError {
    pub fn new(table: Table, index: usize, field: &'static str, kind: ErrorKind) -> RowError {
        RowError {
            table,
            index,
            field,
            kind,
        }
    }

    /// The problem in words, without the row's position (the loader adds a line).
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Missing => format!("{} is missing", self.field),
            ErrorKind::Invalid(reason) => reason.clone(),
            ErrorKind::Duplicate(id) => {
                format!("{} id {id:?} is used twice", self.table.row_noun())
            }
            ErrorKind::UnknownReference { table, id } => format!(
                "{} {id:?} is not in [[{}]]",
                table.row_noun(),
                table.as_str()
            ),
            ErrorKind::CredentialTaken { credential, person } => {
                format!("credential {credential} is also held by person {person:?}")
            }
            ErrorKind::AccountTaken {
                system,
                account,
                person,
            } => format!(
                "account {account:?} on system {system:?} is also mapped to person {person:?}"
            ),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[[{}]] entry {}, {}: {}",
            self.table,
            self.index + 1,
            self.field,
            self.message()
        )
    }
}

/// A row of `[[rooms]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomRow {
    pub id: String,
    pub name: String,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`); empty is false.
    pub controlled: String,
    /// A duration such as `12h`; empty is 12h.
    pub max_presence: String,
    /// A duration such as `15m`; empty is 15m.
    pub alarm_hold: String,
}

/// A row of `[[doors]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoorRow {
    pub id: String,
    pub room: String,
    pub name: String,
    /// A duration of at least `1s`; empty: no heartbeat watchdog.
    pub heartbeat_timeout: String,
    /// `mqtt` (also for HTTP; empty) or `modbus`. Not a CSV column: it follows the
    /// connector wiring of `monban.toml` (`[[modbus]]`).
    pub feed: String,
}

/// A row of `[[terminals]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalRow {
    pub id: String,
    pub room: String,
    pub name: String,
}

/// A row of `[[systems]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemRow {
    pub id: String,
    pub name: String,
    /// `ehr`, `departmental`, `vpn`, `vdi`, `cloud`, `maintenance` or `other`.
    pub category: String,
    /// `true`/`false`; empty is false.
    pub native_mfa: String,
    /// The planned renewal month, `YYYY-MM`; may be empty.
    pub renewal: String,
    /// The planned route to 二要素認証 (`native`, `sso`, `step_up`,
    /// `combined_measures`); may be empty.
    pub plan: String,
    /// The month the plan is to be in place by, `YYYY-MM`; may be empty.
    pub by: String,
}

/// A row of `[[people]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    /// Each `type:id`, e.g. `card:04A1B2C3`.
    pub credentials: Vec<String>,
    /// `(system, account)` pairs.
    pub accounts: Vec<(String, String)>,
    /// The id of the vendor whose staff the person is; empty: hospital staff.
    pub vendor: String,
    /// The last day, `YYYY-MM-DD`; empty: none.
    pub until: String,
}

/// A row of `[[vendors]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VendorRow {
    pub id: String,
    pub name: String,
    /// `[[vendors.maintains]]`: one per system.
    pub maintains: Vec<MaintainsRow>,
}

/// One system a vendor maintains, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintainsRow {
    pub system: String,
    /// `true`/`false` (also `remote`/`onsite`); required.
    pub remote: String,
    /// Free text; may be empty.
    pub route: String,
    /// `YYYY-MM-DD`; may be empty.
    pub confirmed: String,
}

impl VendorRow {
    /// The maintained systems as one CSV field:
    /// `ehr:remote:2026-10-01:保守用VPN;pacs:onsite::`.
    pub fn maintains_field(&self) -> String {
        self.maintains
            .iter()
            .map(|m| {
                let remote = match m.remote.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" | "remote" => "remote".to_string(),
                    "false" | "no" | "0" | "onsite" => "onsite".to_string(),
                    _ => m.remote.clone(),
                };
                format!("{}:{remote}:{}:{}", m.system, m.confirmed, m.route)
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Splits the CSV field of maintained systems; a part without `system:remote` is an
    /// error naming it.
    pub fn split_maintains(field: &str) -> Result<Vec<MaintainsRow>, String> {
        field
            .split(';')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| {
                let mut parts = m.splitn(4, ':').map(str::trim);
                let system = parts.next().unwrap_or_default().to_string();
                let remote = parts.next().map(str::to_string).ok_or_else(|| {
                    format!("maintains {m:?} must be written system:remote|onsite:confirmed:route")
                })?;
                Ok(MaintainsRow {
                    system,
                    remote,
                    confirmed: parts.next().unwrap_or_default().to_string(),
                    route: parts.next().unwrap_or_default().to_string(),
                })
            })
            .collect()
    }
}

impl PersonRow {
    /// The credentials as one CSV field: `card:04A1;biometric:P1`.
    pub fn credentials_field(&self) -> String {
        self.credentials.join(";")
    }

    /// The accounts as one CSV field: `ehr=nurse01;vpn=nurse01`.
    pub fn accounts_field(&self) -> String {
        self.accounts
            .iter()
            .map(|(s, a)| format!("{s}={a}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Splits the CSV field of credentials.
    pub fn split_credentials(field: &str) -> Vec<String> {
        field
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Splits the CSV field of accounts; a part without `=` is an error naming it.
    pub fn split_accounts(field: &str) -> Result<Vec<(String, String)>, String> {
        field
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| {
                a.split_once('=')
                    .map(|(s, acc)| (s.trim().to_string(), acc.trim().to_string()))
                    .ok_or_else(|| format!("account {a:?} must be written system=account"))
            })
            .collect()
    }
}

/// The whole inventory as rows, table by table, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryRows {
    pub rooms: Vec<RoomRow>,
    pub doors: Vec<DoorRow>,
    pub terminals: Vec<TerminalRow>,
    pub systems: Vec<SystemRow>,
    pub vendors: Vec<VendorRow>,
    pub people: Vec<PersonRow>,
}

/// Collects the errors of one row's fields.
struct Fields {
    table: Table,
    index: usize,
    errors: Vec<RowError>,
}

impl Fields {
    fn fail(&mut self, field: &'static str, kind: ErrorKind) {
        self.errors
            .push(RowError::new(self.table, self.index, field, kind));
    }

    fn id<T, E: fmt::Display>(
        &mut self,
        field: &'static str,
        text: &str,
        parse: impl Fn(String) -> Result<T, E>,
    ) -> Option<T> {
        let text = text.trim();
        if text.is_empty() {
            self.fail(field, ErrorKind::Missing);
            return None;
        }
        parse(text.to_string())
            .map_err(|e| self.fail(field, ErrorKind::Invalid(e.to_string())))
            .ok()
    }

    fn flag(&mut self, field: &'static str, text: &str) -> bool {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" | "" => false,
            other => {
                let reason = format!("{field} {other:?} is not true or false");
                self.fail(field, ErrorKind::Invalid(reason));
                false
            }
        }
    }

    fn span(&mut self, field: &'static str, text: &str) -> Option<Span> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        Span::from_str(text)
            .map_err(|e| self.fail(field, ErrorKind::Invalid(format!("{field}: {e}"))))
            .ok()
    }

    /// A date `YYYY-MM-DD`, or `None` when empty.
    fn day(&mut self, field: &'static str, text: &str) -> Option<SiteDay> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        SiteDay::parse(text)
            .map_err(|e| self.fail(field, ErrorKind::Invalid(format!("{field}: {e}"))))
            .ok()
    }

    /// The name, or the id when the name is empty.
    fn name_or(&self, name: &str, id: &str) -> String {
        let name = name.trim();
        if name.is_empty() {
            id.trim().to_string()
        } else {
            name.to_string()
        }
    }

    fn done<T>(self, value: Option<T>, errors: &mut Vec<RowError>) -> Option<T> {
        let ok = self.errors.is_empty();
        errors.extend(self.errors);
        value.filter(|_| ok)
    }
}

impl RoomRow {
    fn read(&self, index: usize, errors: &mut Vec<RowError>) -> Option<Room> {
        let mut f = Fields {
            table: Table::Rooms,
            index,
            errors: Vec::new(),
        };
        let id = f.id("id", &self.id, RoomId::parse);
        let controlled = f.flag("controlled", &self.controlled);
        let max_presence = f
            .span("max_presence", &self.max_presence)
            .unwrap_or(Room::DEFAULT_MAX_PRESENCE);
        let alarm_hold = f
            .span("alarm_hold", &self.alarm_hold)
            .unwrap_or(Room::DEFAULT_ALARM_HOLD);
        let name = f.name_or(&self.name, &self.id);
        let room = id.map(|id| Room {
            id,
            name,
            controlled,
            max_presence,
            alarm_hold,
        });
        f.done(room, errors)
    }
}

impl DoorRow {
    fn read(&self, index: usize, errors: &mut Vec<RowError>) -> Option<Door> {
        let mut f = Fields {
            table: Table::Doors,
            index,
            errors: Vec::new(),
        };
        let id = f.id("id", &self.id, DoorId::parse);
        let room = f.id("room", &self.room, RoomId::parse);
        let heartbeat_timeout = f.span("heartbeat_timeout", &self.heartbeat_timeout);
        let feed = DoorFeed::from_str(self.feed.trim())
            .map_err(|e| f.fail("feed", ErrorKind::Invalid(e)))
            .unwrap_or_default();
        let door = id.zip(room).map(|(id, room)| Door {
            id,
            room,
            name: self.name.trim().to_string(),
            feed,
            heartbeat_timeout,
        });
        f.done(door, errors)
    }
}

impl TerminalRow {
    fn read(&self, index: usize, errors: &mut Vec<RowError>) -> Option<Terminal> {
        let mut f = Fields {
            table: Table::Terminals,
            index,
            errors: Vec::new(),
        };
        let id = f.id("id", &self.id, TerminalId::parse);
        let room = f.id("room", &self.room, RoomId::parse);
        let terminal = id.zip(room).map(|(id, room)| Terminal {
            id,
            room,
            name: self.name.trim().to_string(),
        });
        f.done(terminal, errors)
    }
}

impl SystemRow {
    fn read(&self, index: usize, errors: &mut Vec<RowError>) -> Option<System> {
        let mut f = Fields {
            table: Table::Systems,
            index,
            errors: Vec::new(),
        };
        let id = f.id("id", &self.id, SystemId::parse);
        let category = f.id("category", &self.category, |c| SystemCategory::from_str(&c));
        let native_mfa = f.flag("native_mfa", &self.native_mfa);
        let renewal = match self.renewal.trim() {
            "" => None,
            r => super::parse_renewal(r)
                .map_err(|e| f.fail("renewal", ErrorKind::Invalid(e)))
                .ok(),
        };
        let plan = match self.plan.trim() {
            "" => None,
            p => p
                .parse::<crate::plan::Plan>()
                .map_err(|e| f.fail("plan", ErrorKind::Invalid(e)))
                .ok(),
        };
        let by = match self.by.trim() {
            "" => None,
            b => crate::period::Month::parse(b)
                .map_err(|_| {
                    f.fail(
                        "by",
                        ErrorKind::Invalid(format!(
                            "by {b:?} must be a month written YYYY-MM, e.g. \"2027-04\""
                        )),
                    )
                })
                .ok(),
        };
        let name = f.name_or(&self.name, &self.id);
        let system = id.zip(category).map(|(id, category)| System {
            id,
            name,
            category,
            native_mfa,
            renewal,
            plan,
            by,
        });
        f.done(system, errors)
    }
}

impl PersonRow {
    fn read(&self, index: usize, errors: &mut Vec<RowError>) -> Option<Person> {
        let mut f = Fields {
            table: Table::People,
            index,
            errors: Vec::new(),
        };
        let id = f.id("id", &self.id, PersonId::parse);
        let mut credentials = Vec::new();
        for c in &self.credentials {
            match Credential::from_str(c.trim()) {
                Ok(c) => credentials.push(c),
                Err(e) => f.fail("credentials", ErrorKind::Invalid(e)),
            }
        }
        let mut accounts = BTreeMap::new();
        for (system, account) in &self.accounts {
            match SystemId::parse(system.trim().to_string()) {
                Ok(s) => {
                    accounts.insert(s, account.trim().to_string());
                }
                Err(e) => {
                    let reason = format!("account for system {system:?}: {e}");
                    f.fail("accounts", ErrorKind::Invalid(reason));
                }
            }
        }
        let vendor = match self.vendor.trim() {
            "" => None,
            v => f.id("vendor", v, VendorId::parse),
        };
        let until = f.day("until", &self.until);
        let name = f.name_or(&self.name, &self.id);
        let person = id.map(|id| Person {
            id,
            name,
            credentials,
            accounts,
            vendor,
            until,
        });
        f.done(person, errors)
    }
}

impl VendorRow {
    fn read(&self, index: usize, errors: &mut Vec<RowError>) -> Option<Vendor> {
        let mut f = Fields {
            table: Table::Vendors,
            index,
            errors: Vec::new(),
        };
        let id = f.id("id", &self.id, VendorId::parse);
        let mut maintains = Vec::new();
        for m in &self.maintains {
            let system = f.id("maintains", &m.system, SystemId::parse);
            let remote = match m.remote.trim().to_ascii_lowercase().as_str() {
                "" => {
                    let reason = format!(
                        "maintains: say whether system {:?} is maintained remotely (remote = true or false)",
                        m.system.trim()
                    );
                    f.fail("maintains", ErrorKind::Invalid(reason));
                    false
                }
                "remote" => true,
                "onsite" => false,
                other => f.flag("maintains", other),
            };
            let confirmed = f.day("maintains", &m.confirmed);
            let route = Some(m.route.trim().to_string()).filter(|r| !r.is_empty());
            if let Some(system) = system {
                maintains.push(Maintains {
                    system,
                    remote,
                    route,
                    confirmed,
                });
            }
        }
        let name = f.name_or(&self.name, &self.id);
        let vendor = id.map(|id| Vendor {
            id,
            name,
            maintains,
        });
        f.done(vendor, errors)
    }
}

impl InventoryRows {
    /// Reads every row and checks the whole: the inventory, or every problem found
    /// (field by field first, then the cross-references between the rows that could be
    /// read), ordered by table and row.
    pub fn parse(&self, site: Option<(SiteId, String)>) -> Result<Inventory, Vec<RowError>> {
        /// The rows that could be read, with their index; the ids of the others go to
        /// `unread`.
        fn read_all<R, T>(
            rows: &[R],
            read: impl Fn(&R, usize, &mut Vec<RowError>) -> Option<T>,
            id: impl Fn(&R) -> &str,
            errors: &mut Vec<RowError>,
            unread: &mut Vec<String>,
        ) -> Vec<(usize, T)> {
            let mut out = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                match read(r, i, errors) {
                    Some(v) => out.push((i, v)),
                    None => unread.push(id(r).trim().to_string()),
                }
            }
            out
        }
        let mut errors = Vec::new();
        let (mut bad_rooms, mut bad_systems, mut others) = (Vec::new(), Vec::new(), Vec::new());
        let mut bad_vendors = Vec::new();
        let rooms = read_all(
            &self.rooms,
            RoomRow::read,
            |r| &r.id,
            &mut errors,
            &mut bad_rooms,
        );
        let doors = read_all(
            &self.doors,
            DoorRow::read,
            |r| &r.id,
            &mut errors,
            &mut others,
        );
        let terminals = read_all(
            &self.terminals,
            TerminalRow::read,
            |r| &r.id,
            &mut errors,
            &mut others,
        );
        let systems = read_all(
            &self.systems,
            SystemRow::read,
            |r| &r.id,
            &mut errors,
            &mut bad_systems,
        );
        let vendors = read_all(
            &self.vendors,
            VendorRow::read,
            |r| &r.id,
            &mut errors,
            &mut bad_vendors,
        );
        let people = read_all(
            &self.people,
            PersonRow::read,
            |r| &r.id,
            &mut errors,
            &mut others,
        );
        let numbered = Numbered {
            rooms,
            doors,
            terminals,
            systems,
            vendors,
            people,
        };
        match Inventory::build(site, numbered) {
            Ok(inv) if errors.is_empty() => Ok(inv),
            Ok(_) => Err(errors),
            Err(more) => {
                // A reference to a row that is there but could not be read is not a
                // second problem: that row's own error says what to fix.
                errors.extend(more.into_iter().filter(|e| match &e.kind {
                    ErrorKind::UnknownReference {
                        table: Table::Rooms,
                        id,
                    } => !bad_rooms.contains(id),
                    ErrorKind::UnknownReference {
                        table: Table::Systems,
                        id,
                    } => !bad_systems.contains(id),
                    ErrorKind::UnknownReference {
                        table: Table::Vendors,
                        id,
                    } => !bad_vendors.contains(id),
                    _ => true,
                }));
                errors.sort_by_key(|e| (e.table, e.index));
                Err(errors)
            }
        }
    }

    /// The inventory written out as rows (the inverse of [`InventoryRows::parse`]).
    pub fn of(inv: &Inventory) -> InventoryRows {
        let flag = |b: bool| b.to_string();
        InventoryRows {
            rooms: inv
                .rooms()
                .iter()
                .map(|r| RoomRow {
                    id: r.id.to_string(),
                    name: r.name.clone(),
                    controlled: flag(r.controlled),
                    max_presence: r.max_presence.to_string(),
                    alarm_hold: r.alarm_hold.to_string(),
                })
                .collect(),
            doors: inv
                .doors()
                .iter()
                .map(|d| DoorRow {
                    id: d.id.to_string(),
                    room: d.room.to_string(),
                    name: d.name.clone(),
                    heartbeat_timeout: d
                        .heartbeat_timeout
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    feed: d.feed.as_str().to_string(),
                })
                .collect(),
            terminals: inv
                .terminals()
                .iter()
                .map(|t| TerminalRow {
                    id: t.id.to_string(),
                    room: t.room.to_string(),
                    name: t.name.clone(),
                })
                .collect(),
            systems: inv
                .systems()
                .iter()
                .map(|s| SystemRow {
                    id: s.id.to_string(),
                    name: s.name.clone(),
                    category: s.category.as_str().to_string(),
                    native_mfa: flag(s.native_mfa),
                    renewal: s.renewal.clone().unwrap_or_default(),
                    plan: s.plan.map(|p| p.as_str().to_string()).unwrap_or_default(),
                    by: s.by.map(|b| b.to_string()).unwrap_or_default(),
                })
                .collect(),
            vendors: inv
                .vendors()
                .iter()
                .map(|v| VendorRow {
                    id: v.id.to_string(),
                    name: v.name.clone(),
                    maintains: v
                        .maintains
                        .iter()
                        .map(|m| MaintainsRow {
                            system: m.system.to_string(),
                            remote: flag(m.remote),
                            route: m.route.clone().unwrap_or_default(),
                            confirmed: m.confirmed.map(|d| d.to_string()).unwrap_or_default(),
                        })
                        .collect(),
                })
                .collect(),
            people: inv
                .people()
                .iter()
                .map(|p| PersonRow {
                    id: p.id.to_string(),
                    name: p.name.clone(),
                    credentials: p.credentials.iter().map(|c| c.to_string()).collect(),
                    accounts: p
                        .accounts
                        .iter()
                        .map(|(s, a)| (s.to_string(), a.clone()))
                        .collect(),
                    vendor: p.vendor.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    until: p.until.map(|d| d.to_string()).unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// One table's rows as CSV fields in [`Table::columns`] order.
    pub fn fields(&self, table: Table) -> Vec<Vec<String>> {
        match table {
            Table::Rooms => self
                .rooms
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.name.clone(),
                        r.controlled.clone(),
                        r.max_presence.clone(),
                        r.alarm_hold.clone(),
                    ]
                })
                .collect(),
            Table::Doors => self
                .doors
                .iter()
                .map(|d| {
                    vec![
                        d.id.clone(),
                        d.room.clone(),
                        d.name.clone(),
                        d.heartbeat_timeout.clone(),
                    ]
                })
                .collect(),
            Table::Terminals => self
                .terminals
                .iter()
                .map(|t| vec![t.id.clone(), t.room.clone(), t.name.clone()])
                .collect(),
            Table::Systems => self
                .systems
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.name.clone(),
                        s.category.clone(),
                        s.native_mfa.clone(),
                        s.renewal.clone(),
                        s.plan.clone(),
                        s.by.clone(),
                    ]
                })
                .collect(),
            Table::People => self
                .people
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.name.clone(),
                        p.credentials_field(),
                        p.accounts_field(),
                        p.vendor.clone(),
                        p.until.clone(),
                    ]
                })
                .collect(),
            Table::Vendors => self
                .vendors
                .iter()
                .map(|v| vec![v.id.clone(), v.name.clone(), v.maintains_field()])
                .collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> InventoryRows {
        InventoryRows {
            rooms: vec![
                RoomRow {
                    id: "ward3".into(),
                    name: "3F 病棟".into(),
                    controlled: "true".into(),
                    ..Default::default()
                },
                RoomRow {
                    id: "spare".into(),
                    ..Default::default()
                },
            ],
            doors: vec![DoorRow {
                id: "ward3-main".into(),
                room: "ward3".into(),
                heartbeat_timeout: "3m".into(),
                feed: "modbus".into(),
                ..Default::default()
            }],
            terminals: vec![TerminalRow {
                id: "ward3-pc1".into(),
                room: "ward3".into(),
                name: String::new(),
            }],
            systems: vec![SystemRow {
                id: "ehr".into(),
                category: "ehr".into(),
                renewal: "2027-04".into(),
                plan: "combined_measures".into(),
                by: "2027-04".into(),
                ..Default::default()
            }],
            vendors: vec![VendorRow {
                id: "acme".into(),
                name: "アクメ医療システム".into(),
                maintains: vec![MaintainsRow {
                    system: "ehr".into(),
                    remote: "true".into(),
                    route: "保守用VPN (IPsec)".into(),
                    confirmed: "2026-10-01".into(),
                }],
            }],
            people: vec![
                PersonRow {
                    id: "nurse01".into(),
                    name: "看護師 一郎".into(),
                    credentials: vec!["card:04A1".into()],
                    accounts: vec![("ehr".into(), "n01".into())],
                    ..Default::default()
                },
                PersonRow {
                    id: "v001".into(),
                    vendor: "acme".into(),
                    until: "2027-03-31".into(),
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn empty_fields_take_their_defaults() {
        let inv = sample().parse(None).unwrap();
        let room = &inv.rooms()[0];
        assert_eq!(room.max_presence, Room::DEFAULT_MAX_PRESENCE);
        assert_eq!(room.alarm_hold, Room::DEFAULT_ALARM_HOLD);
        let door = &inv.doors()[0];
        assert_eq!(door.feed, DoorFeed::Modbus);
        assert_eq!(door.heartbeat_timeout, Some(Span::from_secs(180)));
        let system = &inv.systems()[0];
        assert_eq!((system.name.as_str(), system.native_mfa), ("ehr", false));
        assert_eq!(system.plan, Some(crate::plan::Plan::CombinedMeasures));
        assert_eq!(system.by.map(|b| b.to_string()).as_deref(), Some("2027-04"));
        let v001 = &inv.people()[1];
        assert_eq!(v001.vendor.as_ref().map(|v| v.as_str()), Some("acme"));
        assert_eq!(
            v001.until.map(|d| d.to_string()).as_deref(),
            Some("2027-03-31")
        );
        assert!(inv.people()[0].vendor.is_none() && inv.people()[0].until.is_none());
        let m = &inv.vendors()[0].maintains[0];
        assert!(m.remote);
        assert_eq!(m.route.as_deref(), Some("保守用VPN (IPsec)"));
        assert_eq!(
            m.confirmed.map(|d| d.to_string()).as_deref(),
            Some("2026-10-01")
        );
    }

    /// Each broken field, alone in an otherwise good inventory: the table, row, field and
    /// kind of the one error it gives.
    #[test]
    fn each_field_names_its_error() {
        type Edit = fn(&mut InventoryRows);
        let cases: Vec<(Edit, Table, usize, &str, &str)> = vec![
            (|r| r.rooms[1].id.clear(), Table::Rooms, 1, "id", "missing"),
            (
                |r| r.rooms[1].id = "a b".into(),
                Table::Rooms,
                1,
                "id",
                "invalid",
            ),
            (
                |r| r.rooms[1].controlled = "maybe".into(),
                Table::Rooms,
                1,
                "controlled",
                "invalid",
            ),
            (
                |r| r.rooms[1].max_presence = "soon".into(),
                Table::Rooms,
                1,
                "max_presence",
                "invalid",
            ),
            (
                |r| r.rooms[1].alarm_hold = "-1".into(),
                Table::Rooms,
                1,
                "alarm_hold",
                "invalid",
            ),
            (
                |r| r.doors[0].room = "nowhere".into(),
                Table::Doors,
                0,
                "room",
                "unknown",
            ),
            (
                |r| r.doors[0].room.clear(),
                Table::Doors,
                0,
                "room",
                "missing",
            ),
            (
                |r| r.doors[0].heartbeat_timeout = "500ms".into(),
                Table::Doors,
                0,
                "heartbeat_timeout",
                "invalid",
            ),
            (
                |r| r.doors[0].feed = "carrier-pigeon".into(),
                Table::Doors,
                0,
                "feed",
                "invalid",
            ),
            (
                |r| r.terminals.push(r.terminals[0].clone()),
                Table::Terminals,
                1,
                "id",
                "duplicate",
            ),
            (
                |r| r.systems[0].category.clear(),
                Table::Systems,
                0,
                "category",
                "missing",
            ),
            (
                |r| r.systems[0].category = "fax".into(),
                Table::Systems,
                0,
                "category",
                "invalid",
            ),
            (
                |r| r.systems[0].plan = "hope".into(),
                Table::Systems,
                0,
                "plan",
                "invalid",
            ),
            (
                |r| r.systems[0].by = "2027-4".into(),
                Table::Systems,
                0,
                "by",
                "invalid",
            ),
            (
                |r| r.systems[0].native_mfa = "2".into(),
                Table::Systems,
                0,
                "native_mfa",
                "invalid",
            ),
            (
                |r| r.systems[0].renewal = "2027-13".into(),
                Table::Systems,
                0,
                "renewal",
                "invalid",
            ),
            (
                |r| r.people[0].credentials = vec!["04A1".into()],
                Table::People,
                0,
                "credentials",
                "invalid",
            ),
            (
                |r| r.people[0].accounts = vec![("ghost".into(), "x".into())],
                Table::People,
                0,
                "accounts",
                "unknown",
            ),
            (
                |r| r.people[0].accounts = vec![("ehr".into(), " ".into())],
                Table::People,
                0,
                "accounts",
                "invalid",
            ),
            (
                |r| r.people[0].name = "a\u{7}b".into(),
                Table::People,
                0,
                "name",
                "invalid",
            ),
            (
                |r| {
                    let mut p = r.people[0].clone();
                    p.id = "nurse02".into();
                    p.accounts.clear();
                    r.people.push(p);
                },
                Table::People,
                2,
                "credentials",
                "taken",
            ),
            (
                |r| {
                    let mut p = r.people[0].clone();
                    p.id = "nurse02".into();
                    p.credentials.clear();
                    r.people.push(p);
                },
                Table::People,
                2,
                "accounts",
                "taken",
            ),
            (
                |r| r.people[1].vendor = "ghost".into(),
                Table::People,
                1,
                "vendor",
                "unknown",
            ),
            (
                |r| r.people[1].vendor = "a b".into(),
                Table::People,
                1,
                "vendor",
                "invalid",
            ),
            (
                |r| r.people[1].until = "2027-02-30".into(),
                Table::People,
                1,
                "until",
                "invalid",
            ),
            (
                |r| r.people[0].until = "31/03/2027".into(),
                Table::People,
                0,
                "until",
                "invalid",
            ),
            (
                |r| r.vendors.push(r.vendors[0].clone()),
                Table::Vendors,
                1,
                "id",
                "duplicate",
            ),
            (
                |r| r.vendors[0].name = "x".repeat(201),
                Table::Vendors,
                0,
                "name",
                "invalid",
            ),
            (
                |r| r.vendors[0].maintains[0].system = "pacs".into(),
                Table::Vendors,
                0,
                "maintains",
                "unknown",
            ),
            (
                |r| r.vendors[0].maintains[0].system.clear(),
                Table::Vendors,
                0,
                "maintains",
                "missing",
            ),
            (
                |r| r.vendors[0].maintains[0].remote.clear(),
                Table::Vendors,
                0,
                "maintains",
                "invalid",
            ),
            (
                |r| r.vendors[0].maintains[0].remote = "sometimes".into(),
                Table::Vendors,
                0,
                "maintains",
                "invalid",
            ),
            (
                |r| r.vendors[0].maintains[0].confirmed = "2026-13-01".into(),
                Table::Vendors,
                0,
                "maintains",
                "invalid",
            ),
            (
                |r| r.vendors[0].maintains[0].route = "a;b".into(),
                Table::Vendors,
                0,
                "maintains",
                "invalid",
            ),
            (
                |r| r.vendors[0].maintains[0].route = "経路".repeat(101),
                Table::Vendors,
                0,
                "maintains",
                "invalid",
            ),
            (
                |r| {
                    let m = r.vendors[0].maintains[0].clone();
                    r.vendors[0].maintains.push(m);
                },
                Table::Vendors,
                0,
                "maintains",
                "invalid",
            ),
        ];
        for (edit, table, index, field, kind) in cases {
            let mut rows = sample();
            edit(&mut rows);
            let errors = rows.parse(None).unwrap_err();
            assert_eq!(errors.len(), 1, "{field}: {errors:#?}");
            let e = &errors[0];
            let got = match &e.kind {
                ErrorKind::Missing => "missing",
                ErrorKind::Invalid(_) => "invalid",
                ErrorKind::Duplicate(_) => "duplicate",
                ErrorKind::UnknownReference { .. } => "unknown",
                ErrorKind::CredentialTaken { .. } | ErrorKind::AccountTaken { .. } => "taken",
            };
            assert_eq!(
                (e.table, e.index, e.field, got),
                (table, index, field, kind),
                "{e}"
            );
            assert!(e
                .to_string()
                .starts_with(&format!("[[{table}]] entry {}", index + 1)));
        }
    }

    #[test]
    fn a_row_that_cannot_be_read_keeps_the_others_numbered() {
        let mut rows = sample();
        rows.doors.insert(
            0,
            DoorRow {
                id: "bad door".into(),
                room: "ward3".into(),
                ..Default::default()
            },
        );
        rows.doors.push(DoorRow {
            id: "d3".into(),
            room: "nowhere".into(),
            ..Default::default()
        });
        let errors = rows.parse(None).unwrap_err();
        let at: Vec<_> = errors.iter().map(|e| (e.index, e.field)).collect();
        assert_eq!(at, [(0, "id"), (2, "room")], "{errors:#?}");
    }

    #[test]
    fn csv_lists_split_and_join() {
        let p = PersonRow {
            credentials: PersonRow::split_credentials(" card:1 ;;biometric:P1"),
            accounts: PersonRow::split_accounts("ehr=n01; vpn = n01 ").unwrap(),
            ..Default::default()
        };
        assert_eq!(p.credentials_field(), "card:1;biometric:P1");
        assert_eq!(p.accounts_field(), "ehr=n01;vpn=n01");
        assert!(PersonRow::split_accounts("ehr").is_err());
        let v = VendorRow {
            maintains: VendorRow::split_maintains(
                " ehr:remote:2026-10-01:保守用VPN (IPsec): port 500 ;pacs:onsite::;; lab:true",
            )
            .unwrap(),
            ..Default::default()
        };
        assert_eq!(
            v.maintains[0],
            MaintainsRow {
                system: "ehr".into(),
                remote: "remote".into(),
                route: "保守用VPN (IPsec): port 500".into(),
                confirmed: "2026-10-01".into(),
            }
        );
        assert_eq!(v.maintains.len(), 3);
        assert_eq!(
            v.maintains_field(),
            "ehr:remote:2026-10-01:保守用VPN (IPsec): port 500;pacs:onsite::;lab:remote::"
        );
        assert!(VendorRow::split_maintains("ehr").is_err());
        // Parsed and written out again: the same field.
        let rows = InventoryRows {
            systems: ["ehr", "pacs", "lab"]
                .map(|id| SystemRow {
                    id: id.into(),
                    category: "other".into(),
                    ..Default::default()
                })
                .to_vec(),
            vendors: vec![VendorRow {
                id: "acme".into(),
                ..v.clone()
            }],
            ..Default::default()
        };
        let inv = rows.parse(None).unwrap();
        let again = InventoryRows::of(&inv);
        assert_eq!(again.fields(Table::Vendors)[0][2], v.maintains_field());
    }

    fn id() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,8}"
    }

    proptest! {
        /// Whatever parses, written out as rows, parses to the same inventory again.
        #[test]
        fn rows_round_trip(
            rooms in proptest::collection::btree_set(id(), 1..4),
            controlled in any::<bool>(),
            minutes in 1i64..2000,
            timeout in proptest::option::of(1i64..600),
            modbus in any::<bool>(),
            people in proptest::collection::btree_set(id(), 0..4),
        ) {
            let rooms: Vec<String> = rooms.into_iter().collect();
            let rows = InventoryRows {
                rooms: rooms.iter().map(|r| RoomRow {
                    id: r.clone(),
                    controlled: controlled.to_string(),
                    max_presence: format!("{minutes}m"),
                    ..Default::default()
                }).collect(),
                doors: rooms.iter().map(|r| DoorRow {
                    id: format!("{r}-door"),
                    room: r.clone(),
                    heartbeat_timeout: timeout.map(|s| format!("{s}s")).unwrap_or_default(),
                    feed: if modbus { "modbus".into() } else { String::new() },
                    ..Default::default()
                }).collect(),
                terminals: Vec::new(),
                systems: vec![SystemRow { id: "ehr".into(), category: "ehr".into(), ..Default::default() }],
                vendors: vec![VendorRow {
                    id: "acme".into(),
                    maintains: vec![MaintainsRow {
                        system: "ehr".into(),
                        remote: modbus.to_string(),
                        confirmed: if controlled { "2026-10-01".into() } else { String::new() },
                        route: format!("route {minutes}"),
                    }],
                    ..Default::default()
                }],
                people: people.iter().enumerate().map(|(i, p)| PersonRow {
                    id: p.clone(),
                    credentials: vec![format!("card:{i:04X}")],
                    accounts: vec![("ehr".into(), format!("acc-{p}"))],
                    vendor: if i % 2 == 0 { "acme".into() } else { String::new() },
                    until: if i % 3 == 0 { format!("2027-0{}-1{i}", i + 1) } else { String::new() },
                    ..Default::default()
                }).collect(),
            };
            let inv = rows.parse(None).unwrap();
            let again = InventoryRows::of(&inv).parse(None).unwrap();
            prop_assert_eq!(inv.rooms(), again.rooms());
            prop_assert_eq!(inv.doors(), again.doors());
            prop_assert_eq!(inv.systems(), again.systems());
            prop_assert_eq!(inv.people(), again.people());
            prop_assert_eq!(inv.vendors(), again.vendors());
            prop_assert_eq!(InventoryRows::of(&inv), InventoryRows::of(&again));
        }
    }
}
