//! # monban-web — the security officers' dashboard (Leptos 0.8, SSR + hydration)
//!
//! One crate, two builds: with `ssr` it is linked into the hub and renders the page on
//! the server; with `hydrate` (through the `monban-web-hydrate` cdylib) it runs in the
//! browser and takes the server-rendered page over. The crate never touches the store:
//! the hub implements `DashboardSource` and hands it to `dashboard_router` (both `ssr`).
//!
//! # Layout
//!
//! - `model.rs` — the data the server fills ([`Overview`], [`SystemRow`], [`LoginRow`]).
//! - `labels.rs` — Japanese labels for the contract's codes; JST and percent formats.
//! - `api.rs` — the server function `get_overview` (`GET /api/dash/overview`), its error
//!   (`DashError`, what the browser learns) and the sources' error (`SourceError`).
//! - `i18n.rs` — Japanese first, English with `?lang=en`.
//! - `app.rs` — the router, the page frame (`Layout`: masthead, navigation, language
//!   switch, live indicator and feed), and the overview: 概要, 最新のログイン, 扉と接続.
//! - `pages/` — the other pages, each with its server functions and data-source trait.
//! - `routes.rs` — the lazy routes: every page but the overview, whose code is a module
//!   of the wasm bundle of its own, fetched when such a page is opened.
//! - `live.rs` — browser only: Server-Sent Events with coalesced refetch, polling fallback.
//! - `ssr.rs` — server only: `dashboard_router`, `shell`, `leptos_options`.
//! - `style/monban.css` — the stylesheet, served as `/pkg/monban.css`.
//!
//! The wasm bundle is built by `scripts/build-web.sh` into `target/site/pkg`: the main
//! module (runtime, page frame, overview) and the lazy routes' module, cut apart by
//! wasm-split. Both builds need `--cfg erase_components` (`.cargo/config.toml`).

// The pages' view trees are deep; the hydrate build's trait resolution needs more room.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod auth;
pub mod i18n;
pub mod labels;
#[cfg(feature = "hydrate")]
mod live;
pub mod model;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(all(test, feature = "ssr"))]
mod tests;

// The server's HTML and the browser's hydration must be built alike: with
// `erase_components` a view's child list is rendered with an end marker that the typed
// build neither writes nor expects. `.cargo/config.toml` sets the flag for both builds;
// an exported RUSTFLAGS replaces it, hence this check. (rustdoc reads RUSTDOCFLAGS, not
// rustflags, and renders no views: not checked there.)
#[cfg(not(any(erase_components, doc)))]
compile_error!(
    "monban-web must be built with `--cfg erase_components` (set in .cargo/config.toml; \
     if you export RUSTFLAGS, add `--cfg erase_components` to it)"
);

pub use app::App;
pub use model::{DoorRow, LoginRow, Overview, SystemRow};
#[cfg(feature = "ssr")]
pub use ssr::{dashboard_router, leptos_options, shell};

/// The overview's data (概要).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait OverviewSource: Send + Sync + 'static {
    async fn overview(&self) -> Result<Overview, crate::api::SourceError>;
}

/// Where the dashboard gets its data: one trait per page, implemented by the server over
/// the store and injected as context (`Arc<dyn DashboardSource>`); server functions call
/// it. The web crate never touches sqlx.
#[cfg(feature = "ssr")]
pub trait DashboardSource:
    OverviewSource
    + pages::system::SystemSource
    + pages::evidence::EvidenceSource
    + pages::rooms::RoomsSource
    + pages::inventory::InventorySource
    + pages::dead_letters::DeadLettersSource
    + pages::export::ExportSource
    + pages::account::FlashSource
    + pages::account::AccountSource
    + pages::enroll::EnrollSource
    + pages::users::UsersSource
    + pages::tokens::TokensSource
    + pages::audit::AuditSource
    + pages::people::PeopleSource
    + pages::step_up::StepUpSource
    + pages::maintenance::MaintenanceSource
    + pages::accounts::AccountsSource
    + pages::inspection::InspectionSource
    + pages::imports::ImportsSource
{
}

#[cfg(feature = "ssr")]
impl<T> DashboardSource for T where
    T: OverviewSource
        + pages::system::SystemSource
        + pages::evidence::EvidenceSource
        + pages::rooms::RoomsSource
        + pages::inventory::InventorySource
        + pages::dead_letters::DeadLettersSource
        + pages::export::ExportSource
        + pages::account::FlashSource
        + pages::account::AccountSource
        + pages::enroll::EnrollSource
        + pages::users::UsersSource
        + pages::tokens::TokensSource
        + pages::audit::AuditSource
        + pages::people::PeopleSource
        + pages::step_up::StepUpSource
        + pages::maintenance::MaintenanceSource
        + pages::accounts::AccountsSource
        + pages::inspection::InspectionSource
        + pages::imports::ImportsSource
        + pages::imports::ImportsSource
{
}
