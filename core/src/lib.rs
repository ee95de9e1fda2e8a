//! # monban-core — the domain of the monban hub
//!
//! Everything that decides whether a login met 二要素認証 (two-factor authentication)
//! directly, through 複合対策 (combined measures: authenticated room entry plus the
//! login), or not at all. This crate is *sans-IO*: no clock, no sockets, no async, no
//! database. Events and the current time come in as arguments; verdicts and effects go
//! out as values. The `server` crate owns the I/O and drives this crate.
//!
//! # Layout
//! - [`ids`] — validated identifiers (`RoomId`, `DoorId`, …) used everywhere else.
//! - [`time`] — [`Timestamp`] (UTC milliseconds) and [`Span`] (configured durations).
//! - [`factor`] — factor categories (CONTRACT §2), login factors, door credentials.
//! - [`inventory`] — the site: rooms, doors, terminals, systems, people.
//! - [`event`] — door events, door status changes and logins, parsed at the edge from
//!   their wire shapes (CONTRACT §5, §7) into domain values.
//! - [`timeline`] — presence per person, integrity alarms per room, offline intervals
//!   per door: the facts a verdict is judged against.
//! - [`verdict`] — the rules of CONTRACT §3 and the evidence they produce.
//! - [`engine`] — pending logins, re-evaluation on late events inside `grace`, finality.
//! - [`compliance`] — the per-system rollup of CONTRACT §8.
//! - [`text`] — bounded free text (names, labels, accounts, terminals) and the bounded
//!   prefixes kept of refused input.

pub mod compliance;
pub mod engine;
pub mod event;
pub mod factor;
pub mod ids;
pub mod inventory;
pub mod text;
pub mod time;
pub mod timeline;
pub mod verdict;

pub use compliance::{ComplianceStatus, LoginCounts, SystemCompliance};
pub use engine::{Engine, VerdictUpdate};
pub use event::{
    Direction, DoorEvent, DoorEventKind, DoorStatus, InputError, Login, Outcome, StatusChange,
};
pub use factor::{Category, CategorySet, Credential, CredentialType, Factor};
pub use ids::{DoorId, IdError, PersonId, RoomId, SiteId, SystemId, TerminalId};
pub use inventory::{
    Door, Inventory, InventoryError, Person, Room, System, SystemCategory, Terminal,
};
pub use text::{Text, TextError};
pub use time::{Span, Timestamp};
pub use timeline::Timeline;
pub use verdict::{Evidence, Reason, Verdict, VerdictKind};
