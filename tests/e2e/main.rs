//! End-to-end tests of the public contract (`/work/shared/CONTRACT.md`): they start the
//! real `monban` binary, issue tokens with its command line, talk to it over HTTP and
//! MQTT, and stop it with signals. One test binary; each test has its own hub, temporary
//! directory, port, site id and MQTT client id, so tests run in parallel.
//!
//! Build the hub first (`cargo build -p monban-server`) or point `MONBAN_BIN` at it.
//! MQTT tests use an embedded rumqttd; with `MONBAN_TEST_MQTT_URL` (e.g.
//! `mqtt://127.0.0.1:1883`) they also run against that broker (Mosquitto).
//!
//! # Layout
//! - [`harness`] — `spawn_hub()`, the test hospital, time helpers, typed API helpers.
//! - [`broker`] — embedded rumqttd, Mosquitto, a QoS 1 publisher, a last-will client.
//! - [`verdicts`] — every verdict and reason of §3, with mixed time-zone offsets.
//! - [`late`] — late events within grace, finality after grace.
//! - [`idempotency`] — repeated door events and logins.
//! - [`compliance`] — §8 arithmetic, statuses and periods.
//! - [`errors`] — 400/401/403/404/413/422 and nothing half-written.
//! - [`evidence`] — the evidence chain: `verify` on an untouched store and after each kind
//!   of tampering in the database, the head the API serves (SQLite and PostgreSQL).
//! - [`mqtt`] — events, dead letters, status words and last will over MQTT.
//! - [`mqtt_tls`] — `mqtts://` with a CA, broker users and per-door ACLs, against a
//!   Mosquitto the test starts (skipped when Mosquitto is not installed).
//! - [`vendors`] — every `[[mqtt.sources]]` preset with the vendor's own topics and payloads.
//! - [`restart`] — kill -9 with pending logins, SIGTERM.
//! - [`modbus`] — Modbus TCP doors through `serve`, against pymodbus and monban-sim.
//! - [`scenarios`] — the example commissioning scenarios pass against the real hub.
//! - [`doors`] — connector health (`/api/v1/doors`, metrics, dashboard), heartbeat
//!   timeouts that fail closed and survive a restart.
//! - [`cli`] — `token issue`, config errors, idempotent import.
//! - [`demo`] — `monban demo` serves a dashboard of real verdicts and stops cleanly.
//! - [`health`] — `/healthz`, `/metrics`, the dashboard, odd event ids.
//! - [`passkeys`] — a software passkey: enrollment, sign-in and sessions like a browser.
//! - [`auth`] — invites, sign-in/out, expiry, CSRF, the audit trail, every role route by route.
//! - [`step_up`] — a system asks the hub to verify a passkey; the login becomes `direct_2fa`.
//! - [`security`] — the security review's findings (issue 9), probed over the wire.
//! - [`maintenance`] — vendor maintenance (§10): filing rules, passkey-confirmed
//!   decisions, coverage on event time and after the fact, 立会い, findings, reports.
//! - [`notify`] — notifications (§11): signed webhooks, retries, delivery across a
//!   killed hub, e-mail through aiosmtpd, configuration errors.
//! - [`accounts`] — the account review (§12): statuses, findings in order, `dormant_after`,
//!   and the leaver's day boundary on the site's calendar (§3, §7); the review campaign
//!   confirmed with a passkey, its refusals, `review_every`, its evidence and `verify`.
//! - [`dash_accounts`] — the `/accounts` page: list, filter, CSV, form, follow-ups.
//! - [`import`] — `monban import logins`: bad rows named and nothing stored, idempotent
//!   re-imports, verdicts as through the API, refused while the hub runs.
//! - [`postgres`] — the store on PostgreSQL (`MONBAN_TEST_POSTGRES_URL`): judged, kept
//!   across kill -9, dashboard, an append-only audit trail enforced by the server.
//!
//! With `MONBAN_E2E_STORE=postgres` (and `MONBAN_TEST_POSTGRES_URL`) every hub of the run
//! keeps its store in a fresh PostgreSQL database; `.ci/run` runs the store-heavy
//! suites that way too.
#![allow(clippy::unwrap_used)]

mod accounts;
mod auth;
#[macro_use]
mod broker;
mod cli;
mod compliance;
mod dash_accounts;
mod dash_dead_letters;
mod dash_evidence;
mod dash_export;
mod dash_inventory;
mod dash_maintenance;
mod dash_overview;
mod dash_rooms;
mod dash_system;
mod demo;
mod doors;
mod errors;
mod evidence;
mod harness;
mod health;
mod idempotency;
mod import;
mod inspection;
mod late;
mod maintenance;
mod modbus;
mod mqtt;
mod mqtt_tls;
mod nothing_lost;
mod notify;
mod passkeys;
mod postgres;
mod restart;
mod scenarios;
mod security;
mod step_up;
mod vendors;
mod verdicts;
