//! The hub's own events, read from the store: `door.offline` (a door's status became
//! offline: reported by the controller, a Modbus device lost, the heartbeat watchdog) and
//! `room.alarm` (an integrity alarm: door forced, held open, tamper).
//!
//! The scanner reads `door_status` and `door_events` after its stored cursors (`seq`),
//! emits each fact with a key made from the fact itself, and stores the cursor only after
//! emitting. The facts are committed by the writer before anything else sees them, so a
//! crash anywhere loses nothing: the next start reads from the last stored cursor, and
//! an event emitted twice is one event (its key). The scanner wakes on the live feed
//! (after each commit) and every few seconds; it never slows ingest down.
//!
//! A cursor that does not exist yet starts at the end of its table: a hub that is
//! upgraded, or first given a `[[notify]]` table, does not send its whole history.

use super::Notifier;
use crate::ingest::Ingest;
use crate::store::notify::{AlarmFact, StatusFact};
use crate::store::{Store, StoreError};
use monban_core::notify::EventKind;
use monban_core::{DoorStatus, Inventory};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// The cursor over `door_status`.
pub const STATUS_CURSOR: &str = "door_status";
/// The cursor over `door_events`.
pub const EVENTS_CURSOR: &str = "door_events";

/// How often the scanner looks without being woken.
const POLL: Duration = Duration::from_secs(5);
/// How long the scanner lets a burst of events settle after being woken.
const SETTLE: Duration = Duration::from_millis(200);
/// Status changes read at once.
const BATCH: i64 = 500;

/// Where the scanner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursors {
    status: i64,
    events: i64,
}

/// Scans until `cancel` (see the module docs). Without any target it only moves the
/// cursors to the end once, so that targets added later start from then.
pub async fn run(notifier: Arc<Notifier>, ingest: Arc<Ingest>, cancel: CancellationToken) {
    let store = notifier.store.clone();
    let mut live = ingest.subscribe();
    let mut cursors = loop {
        match start(&store).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(error = %e, "notifications: cannot read the scanner's cursors; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        }
    };
    if notifier.targets().is_empty() {
        // Nothing to send: remember how far the facts go, and stop.
        if let Err(e) = skip_to_end(&store).await {
            tracing::warn!(error = %e, "notifications: cannot move the scanner's cursors");
        }
        return;
    }
    loop {
        if let Err(e) = scan(&notifier, &store, &ingest.inventory(), &mut cursors).await {
            tracing::warn!(error = %e, "notifications: scanning door facts failed; retrying");
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
            _ = woken(&mut live) => {
                // At most a few scans a second however fast events arrive: a scan reads
                // everything new since the last one anyway.
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(SETTLE) => {}
                }
            }
        }
    }
}

/// Resolves on a live event about a door (a status change, an event).
async fn woken(live: &mut tokio::sync::broadcast::Receiver<crate::writer::LiveEvent>) {
    loop {
        match live.recv().await {
            Ok(e) if matches!(e.kind, "door_status" | "door_event") => return,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// The stored cursors; a missing one starts at the end of its table (and is stored).
async fn start(store: &Store) -> Result<Cursors, StoreError> {
    let status = match store.notify_cursor(STATUS_CURSOR).await? {
        Some(s) => s,
        None => {
            let s = store.last_status_seq().await?;
            store.set_notify_cursor(STATUS_CURSOR, s).await?;
            s
        }
    };
    let events = match store.notify_cursor(EVENTS_CURSOR).await? {
        Some(s) => s,
        None => {
            let s = store.last_door_event_seq().await?;
            store.set_notify_cursor(EVENTS_CURSOR, s).await?;
            s
        }
    };
    Ok(Cursors { status, events })
}

async fn skip_to_end(store: &Store) -> Result<(), StoreError> {
    store
        .set_notify_cursor(STATUS_CURSOR, store.last_status_seq().await?)
        .await?;
    store
        .set_notify_cursor(EVENTS_CURSOR, store.last_door_event_seq().await?)
        .await
}

/// Emits every new fact, moving each cursor after its facts are emitted.
async fn scan(
    notifier: &Notifier,
    store: &Store,
    inv: &Inventory,
    cursors: &mut Cursors,
) -> Result<(), StoreError> {
    loop {
        let facts = store.statuses_after(cursors.status, BATCH).await?;
        let Some(last) = facts.last().map(|f| f.seq) else {
            break;
        };
        for f in &facts {
            if let Some((key, data)) = door_offline(f, inv) {
                notifier.emit(EventKind::DoorOffline, &key, data).await?;
            }
        }
        store.set_notify_cursor(STATUS_CURSOR, last).await?;
        cursors.status = last;
    }
    let upto = store.last_door_event_seq().await?;
    if upto > cursors.events {
        for a in store.alarms_between(cursors.events, upto).await? {
            let (key, data) = room_alarm(&a, inv);
            notifier.emit(EventKind::RoomAlarm, &key, data).await?;
        }
        store.set_notify_cursor(EVENTS_CURSOR, upto).await?;
        cursors.events = upto;
    }
    Ok(())
}

/// The `door.offline` event of a status change, if it is one: the door's status became
/// offline (a repeated `offline`, e.g. a retained last will after the watchdog's, is not
/// a new event).
pub fn door_offline(f: &StatusFact, inv: &Inventory) -> Option<(String, Value)> {
    if f.change.status != DoorStatus::Offline || f.previous == Some(DoorStatus::Offline) {
        return None;
    }
    let door = inv.door(&f.change.door);
    let room = door.and_then(|d| inv.room(&d.room));
    let key = format!("door.offline:{}:{}", f.change.door, f.change.ts.as_millis());
    Some((
        key,
        json!({
            "door": f.change.door.as_str(),
            "door_name": door.map(|d| d.name.as_str()),
            "room": door.map(|d| d.room.as_str()),
            "room_name": room.map(|r| r.name.as_str()),
            "since": f.change.ts.to_rfc3339(),
            "source": f.source,
        }),
    ))
}

/// The `room.alarm` event of an integrity alarm.
pub fn room_alarm(a: &AlarmFact, inv: &Inventory) -> (String, Value) {
    let door = inv.door(&a.door);
    let room = door.and_then(|d| inv.room(&d.room));
    (
        format!("room.alarm:{}:{}", a.door, a.event_id),
        json!({
            "room": door.map(|d| d.room.as_str()),
            "room_name": room.map(|r| r.name.as_str()),
            "door": a.door.as_str(),
            "door_name": door.map(|d| d.name.as_str()),
            "alarm": a.kind.as_str(),
            "event_id": a.event_id,
            "ts": a.ts.to_rfc3339(),
        }),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use monban_core::{DoorId, StatusChange, Timestamp};

    fn fact(status: DoorStatus, previous: Option<DoorStatus>) -> StatusFact {
        StatusFact {
            seq: 7,
            change: StatusChange {
                door: DoorId::parse("ward3-main").unwrap(),
                ts: Timestamp::from_millis(1_000),
                status,
            },
            source: "watchdog".into(),
            previous,
        }
    }

    #[test]
    fn only_a_door_becoming_offline_is_an_event() {
        let inv = Inventory::default();
        use DoorStatus::*;
        let table = [
            (Offline, None, true),
            (Offline, Some(Online), true),
            (Offline, Some(Offline), false),
            (Online, Some(Offline), false),
            (Online, None, false),
        ];
        for (status, previous, event) in table {
            assert_eq!(
                door_offline(&fact(status, previous), &inv).is_some(),
                event,
                "{status:?} after {previous:?}"
            );
        }
        let (key, data) = door_offline(&fact(Offline, None), &inv).unwrap();
        assert_eq!(key, "door.offline:ward3-main:1000");
        assert_eq!(data["since"], "1970-01-01T00:00:01Z");
        assert_eq!(data["source"], "watchdog");
    }
}
