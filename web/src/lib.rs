//! # monban-web — the security officers' dashboard (Leptos, SSR + hydration)
//!
//! (The web helper replaces this file; the model and the `DashboardSource` port are the
//! interface with the server.)

pub mod model;

pub use model::{LoginRow, Overview, SystemRow};

/// Where the dashboard gets its data. The server implements it over the store and
/// injects it as context; server functions call it. The web crate never touches sqlx.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait DashboardSource: Send + Sync + 'static {
    async fn overview(&self) -> Result<Overview, String>;
}
