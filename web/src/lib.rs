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
//! - `api.rs` — the server function `get_overview` (`GET /api/dash/overview`) and its error.
//! - `app.rs` — the components: header, 概要, 最新のログイン, live indicator.
//! - `live.rs` — browser only: Server-Sent Events with coalesced refetch, polling fallback.
//! - `ssr.rs` — server only: `dashboard_router`, `shell`, `leptos_options`.
//! - `style/monban.css` — the stylesheet, served as `/pkg/monban.css`.
//!
//! The wasm bundle is built by `scripts/build-web.sh` into `target/site/pkg`.

pub mod api;
pub mod app;
pub mod labels;
#[cfg(feature = "hydrate")]
mod live;
pub mod model;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(all(test, feature = "ssr"))]
mod tests;

pub use app::App;
pub use model::{LoginRow, Overview, SystemRow};
#[cfg(feature = "ssr")]
pub use ssr::{dashboard_router, leptos_options, shell};

/// Where the dashboard gets its data. The server implements it over the store and
/// injects it as context; server functions call it. The web crate never touches sqlx.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DashboardSource: Send + Sync + 'static {
    async fn overview(&self) -> Result<Overview, String>;
}
