//! In-process tests of the hub: the writer, the reports and the store, with
//! [`support::TestHub`] (the server on port 0 in this process, a clock the test moves) —
//! no binary, no broker. The end-to-end suites in `tests/` start the real binary.
//!
//! Notifications ([`notify`]): the configuration through `Config::parse` and the outbox.
//!
//! The store conformance suite ([`store`]) runs every case on SQLite and, when
//! `MONBAN_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod notify;
mod reports;
mod store;
mod support;
mod writer;
