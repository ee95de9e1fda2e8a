-- Notifications (CONTRACT §11): stored before they are sent (an outbox), one delivery
-- per configured target, retried until delivered, across restarts of the hub.
-- 0012 is left to the maintenance migration.

-- One row per event, once per (kind, key): emitting the same event again is a no-op.
CREATE TABLE notifications (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    id   TEXT NOT NULL UNIQUE,      -- the webhook-id / the body's "id"
    kind TEXT NOT NULL,             -- door.offline, room.alarm, maintenance.requested, …
    key  TEXT NOT NULL,             -- what makes the event unique, e.g. door.offline:<door>:<ts>
    at   INTEGER NOT NULL,          -- when it was emitted (ms)
    site TEXT NOT NULL,
    data TEXT NOT NULL,             -- JSON, at most 16 KiB
    UNIQUE (kind, key)
);

-- One row per notification and target.
CREATE TABLE notification_deliveries (
    notification    TEXT NOT NULL REFERENCES notifications(id),
    target          TEXT NOT NULL,  -- webhook:<url> or email:<a>,<b>
    status          TEXT NOT NULL,  -- pending | retrying | delivered | dropped
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER,        -- ms; NULL once delivered or dropped
    last_error      TEXT,           -- at most 500 characters
    delivered_at    INTEGER,
    PRIMARY KEY (notification, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);

-- How far the notifier has read a table of facts (door_status, door_events), by seq.
CREATE TABLE notify_cursors (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
);
