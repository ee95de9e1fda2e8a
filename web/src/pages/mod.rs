//! The dashboard's pages besides the overview (which lives in `app.rs`). Each module owns
//! its page component, its server functions (under `/api/dash/`) and, on the server
//! (`ssr`), the data-source trait the hub implements for it; [`crate::DashboardSource`]
//! is the sum of those traits.

pub mod account;
// Rendered on the server only, as a fragment: nothing of it in the wasm bundle.
#[cfg(feature = "ssr")]
pub mod accounts;
pub mod audit;
pub mod dead_letters;
pub mod enroll;
pub mod evidence;
pub mod export;
pub mod fragment;
pub mod imports;
pub mod inspection;
pub mod inventory;
pub mod maintenance;
pub mod people;
pub mod rooms;
pub mod signin;
pub mod step_up;
pub mod system;
pub mod tokens;
pub mod users;
