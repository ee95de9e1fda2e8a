//! Notifications (通知, CONTRACT §11): events the hub tells people about, by webhook
//! (signed as Standard Webhooks do) and by e-mail, delivered at least once.
//!
//! The decision (fail safe, like the rest of the hub): an event is **stored before it is
//! sent**. [`Notifier::emit`] writes the event and one delivery per matching target in one
//! transaction, idempotently on (kind, key), and only then wakes the sender; the sender
//! ([`Notifier::run_sender`]) tries every due delivery, marks it delivered on a 2xx (or
//! an SMTP server's acceptance) and otherwise schedules the next attempt with
//! `monban_core::notify::retry_delay` (1 s doubling to 10 minutes, never giving up).
//! Pending deliveries are picked up when the hub starts, so neither a receiver that is
//! down nor a killed hub loses one; a crash between a send and its mark sends it again
//! with the same `webhook-id`. Sending runs on its own task and never holds ingest.
//!
//! The hub's own events come from the store, not from memory ([`scan`]): a scanner reads
//! door status changes and integrity alarms after a stored cursor, emits them with
//! deterministic keys (`door.offline:<door>:<ts>`, `room.alarm:<door>:<event_id>`) and
//! moves the cursor only after emitting, so a crash at any point emits each at most once
//! more — and the key makes that a no-op.
//!
//! Other services emit through [`Notifier::emit`] (`State<Arc<Notifier>>` in a handler).
//!
//! # Layout
//! - this module — [`Notifier`]: the targets, `emit`, the sender loop.
//! - [`send`] — one attempt: the webhook's body and signature, the e-mail.
//! - [`scan`] — the scanner of door status changes and integrity alarms.
//! - [`watch`] — the maintenance and account events: a login's, emitted by the login
//!   API; the requests', from the current requests; sweeps that catch up after a crash.

pub mod scan;
pub mod send;
pub mod watch;

use crate::clock::Clock;
use crate::config::notify::{Resolved, Target};
use crate::store::notify::{DueDelivery, NewNotification};
use crate::store::{Store, StoreError};
use monban_core::notify::{retry_delay, EventKind};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The largest `data` stored with an event, as JSON text; a larger one is replaced by
/// `{"truncated": true, "bytes": n}` (events carry ids and times, not documents).
pub const DATA_LIMIT: usize = 16 * 1024;

pub use send::{Sender, SenderError, ATTEMPT_TIMEOUT};

/// How many deliveries are attempted at once.
const CONCURRENT: usize = 8;

/// The longest the sender sleeps without being woken (a safety net: a clock moved by
/// hand, a store that was briefly unreachable).
const IDLE: Duration = Duration::from_secs(30);

/// Emits events and delivers them (see the module docs).
pub struct Notifier {
    store: Store,
    clock: Clock,
    sender: Sender,
    wake: Notify,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("site", &self.sender.site_id())
            .field("targets", &self.sender.targets())
            .finish()
    }
}

impl Notifier {
    /// A notifier for these targets (`crate::config::NotifySettings::resolve`), naming
    /// the site `(id, name)`.
    pub fn new(
        store: Store,
        clock: Clock,
        site: (&str, &str),
        resolved: Resolved,
    ) -> Result<Notifier, SenderError> {
        Ok(Notifier {
            store,
            clock,
            sender: Sender::new(site, resolved)?,
            wake: Notify::new(),
        })
    }

    /// The configured targets.
    pub fn targets(&self) -> &[Target] {
        self.sender.targets()
    }

    /// Whether any target wants `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.targets().iter().any(|t| t.events.matches(kind))
    }

    /// Stores an event for every target that wants it, once per (`kind`, `key`), and
    /// wakes the sender. Returns when the event is stored (not when it is sent): after
    /// `Ok`, the event will be delivered even if the hub is killed now. An event no
    /// target wants is not stored. `key` names what makes the event unique (e.g.
    /// `maintenance.requested:<request_id>`); emitting the same key again does nothing.
    pub async fn emit(&self, kind: EventKind, key: &str, data: Value) -> Result<(), StoreError> {
        let targets: Vec<String> = self
            .targets()
            .iter()
            .filter(|t| t.events.matches(kind))
            .map(|t| t.id.clone())
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        let mut text = data.to_string();
        if text.len() > DATA_LIMIT {
            tracing::warn!(%kind, key, bytes = text.len(), "notification data too large: stored truncated");
            text = serde_json::json!({"truncated": true, "bytes": text.len()}).to_string();
        }
        let id = new_id();
        let new = self
            .store
            .insert_notification(
                &NewNotification {
                    id: &id,
                    kind,
                    key,
                    at: self.clock.now(),
                    site: self.sender.site_id(),
                    data: &text,
                },
                &targets,
            )
            .await?;
        if new {
            tracing::info!(%kind, key, id, targets = targets.len(), "notification stored");
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Delivers due deliveries until `cancel`: at most `CONCURRENT` (8) at once, then sleeps
    /// until the next one is due, an event is emitted, or `IDLE` (30 s) has passed. An attempt
    /// cut short by shutdown stays due and is sent after the next start.
    pub async fn run_sender(self: std::sync::Arc<Self>, cancel: CancellationToken) {
        use futures::StreamExt as _;
        // What a previous run left waiting is tried at once.
        match self.store.deliveries_due_now(self.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "notifications: retrying what was pending"),
            Err(e) => tracing::warn!(error = %e, "notifications: cannot read the outbox"),
        }
        loop {
            if cancel.is_cancelled() {
                return;
            }
            let now = self.clock.now();
            let wait = match self.store.due_deliveries(now, 64).await {
                Ok(due) if !due.is_empty() => {
                    let attempts = futures::stream::iter(due)
                        .for_each_concurrent(CONCURRENT, |d| self.attempt(d));
                    tokio::select! {
                        _ = attempts => continue,
                        _ = cancel.cancelled() => return,
                    }
                }
                Ok(_) => match self.store.next_delivery_at().await {
                    Ok(Some(at)) => Duration::from_millis(
                        (at.as_millis() - now.as_millis()).clamp(0, IDLE.as_millis() as i64) as u64,
                    ),
                    Ok(None) => IDLE,
                    Err(e) => {
                        tracing::warn!(error = %e, "notifications: cannot read the outbox");
                        Duration::from_secs(5)
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "notifications: cannot read the outbox");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => return,
            }
        }
    }

    /// One attempt of one delivery, and its mark.
    async fn attempt(&self, due: DueDelivery) {
        let n = &due.notification;
        let d = &due.delivery;
        let Some(target) = self.targets().iter().find(|t| t.id == d.target) else {
            tracing::warn!(
                id = n.id,
                target = d.target,
                "notification target no longer configured: dropped"
            );
            if let Err(e) = self
                .store
                .delivery_dropped(&n.id, &d.target, "the target is no longer in monban.toml")
                .await
            {
                tracing::warn!(error = %e, "notifications: cannot mark a delivery");
            }
            return;
        };
        let attempts = d.attempts + 1;
        let result = self.sender.attempt(target, n, self.clock.now()).await;
        let now = self.clock.now();
        let marked = match result {
            Ok(()) => {
                tracing::info!(id = n.id, kind = %n.kind, target = %send::shown(&d.target), attempts, "notification delivered");
                self.store
                    .delivery_delivered(&n.id, &d.target, attempts, now)
                    .await
            }
            Err(error) => {
                let delay = retry_delay(u32::try_from(attempts).unwrap_or(u32::MAX));
                let next = now.saturating_add(delay);
                tracing::warn!(id = n.id, kind = %n.kind, target = %send::shown(&d.target), attempts, %error, retry_in = ?delay.as_std(), "notification not delivered");
                self.store
                    .delivery_failed(&n.id, &d.target, attempts, next, &error)
                    .await
            }
        };
        if let Err(e) = marked {
            tracing::warn!(error = %e, "notifications: cannot mark a delivery (it will be sent again)");
        }
    }
}

/// A new notification id: `msg_` and 32 hex digits (the webhook's `webhook-id`).
fn new_id() -> String {
    format!("msg_{}", hex::encode(rand::random::<[u8; 16]>()))
}
