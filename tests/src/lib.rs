//! # monban-e2e
//!
//! This crate has no library code: its end-to-end tests live in `e2e/` (one test binary,
//! `cargo test -p monban-e2e`), which start the real `monban` binary and talk to it as
//! an integrator would. See `e2e/main.rs` for the layout.
