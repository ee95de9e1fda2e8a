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
//! - [`inventory`] — the site: rooms, doors (with their feed and heartbeat timeout),
//!   terminals, systems, maintenance vendors and the systems they maintain, people (with
//!   their vendor and last day); defined once as rows of text ([`inventory::rows`]) that
//!   TOML, CSV and SQL only carry, with errors `{table, index, field, kind}`.
//! - [`event`] — door events, door status changes and logins, parsed at the edge from
//!   their wire shapes (CONTRACT §5, §7) into domain values.
//! - [`timeline`] — presence per person, integrity alarms per room, offline intervals
//!   per door: the facts a verdict is judged against.
//! - [`verdict`] — the rules of CONTRACT §3 and the evidence they produce.
//! - [`engine`] — pending logins, re-evaluation on late events inside `grace`, finality.
//! - [`compliance`] — the per-system rollup of CONTRACT §8 ([`LoginCounts`]: the one
//!   tally of verdicts, for a period's rows and for each day of a trend).
//! - [`period`] — the site's calendar: its UTC offset, site days, `YYYY-MM-DD` and
//!   `YYYY-MM`, Japanese fiscal years, reporting periods (`from <= ts <= to`, default the
//!   30 days up to now) and their split into partial edges and whole days.
//! - [`snapshot`] — what holds in each room at an instant: who is present, which
//!   integrity alarms are open.
//! - [`health`] — connector health as data: each door's activity, the heartbeat
//!   watchdog and the blind period of a lost broker session as pure rules returning the
//!   changes to record, outage causes by code, why a door is offline.
//! - [`maintenance`] — vendor maintenance (保守作業, CONTRACT §10): requests checked
//!   against the inventory, decisions and reports as a status machine, reconciliation of
//!   maintenance logins and vendors' door entries (the `maintenance` object and the §7
//!   flags), supervision (立会い) from presence intervals, and each request's findings.
//! - [`notify`] — notifications (CONTRACT §11): the event kinds with their labels and
//!   what to do in Japanese and English, which targets want which events, the retry
//!   schedule, the text of an e-mail.
//! - [`step_up`] — the step-up rules: the status shown, whether a step-up may vouch for a
//!   login and, if not, why (the API's messages).
//! - [`accounts`] — the account review (アカウントの棚卸し, CONTRACT §12): each account's
//!   person status and findings (`leaver`, `dormant`, `unmapped`) from its login activity.
//! - [`account_review`] — the review campaign: an officer's decision per account (`keep`,
//!   `remove`, `map`) checked against the review, when a system is due (要棚卸し), and
//!   what a completed review still asks (台帳に未反映, 削除指示後のログイン).
//! - [`text`] — bounded free text (names, labels, accounts, terminals) and the bounded
//!   prefixes kept of refused input.

pub mod account_review;
pub mod accounts;
pub mod compliance;
pub mod engine;
pub mod event;
pub mod evidence;
pub mod factor;
pub mod health;
pub mod ids;
pub mod inspection;
pub mod inventory;
pub mod maintenance;
pub mod notify;
pub mod period;
pub mod plan;
pub mod snapshot;
pub mod step_up;
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
pub use ids::{
    DoorId, IdError, PersonId, RequestId, RoomId, SiteId, SystemId, TerminalId, VendorId,
};
pub use inventory::{
    ConfirmationDue, Door, DoorFeed, Inventory, InventoryRows, Maintains, Person, Room, RowError,
    System, SystemCategory, Table, Terminal, Vendor,
};
pub use period::{Month, Period, SiteDay, SiteOffset};
pub use plan::{Plan, PlanCheck};
pub use text::{Text, TextError};
pub use time::{Span, Timestamp};
pub use timeline::Timeline;
pub use verdict::{Evidence, Reason, Verdict, VerdictKind};
