-- Notifications (CONTRACT §11): stored before they are sent (an outbox), one delivery
-- per configured target, retried until delivered, across restarts of the hub.
-- The same as sqlite/0013_notify.sql; 0008 is left to the maintenance migration.

-- One row per event, once per (kind, key): emitting the same event again is a no-op.
CREATE TABLE notifications (
    seq  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE,      -- the webhook-id / the body's "id"
    kind TEXT NOT NULL,             -- door.offline, room.alarm, maintenance.requested, …
    key  TEXT NOT NULL,             -- what makes the event unique, e.g. door.offline:<door>:<ts>
    at   BIGINT NOT NULL,           -- when it was emitted (ms)
    site TEXT NOT NULL,
    data TEXT NOT NULL,             -- JSON, at most 16 KiB
    UNIQUE (kind, key)
);

-- One row per notification and target.
CREATE TABLE notification_deliveries (
    notification    TEXT NOT NULL REFERENCES notifications(id),
    target          TEXT NOT NULL,  -- webhook:<url> or email:<a>,<b>
    status          TEXT NOT NULL,  -- pending | retrying | delivered | dropped
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT,        -- ms; NULL once delivered or dropped
    last_error      TEXT,           -- at most 500 characters
    delivered_at    BIGINT,
    PRIMARY KEY (notification, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);

-- How far the notifier has read a table of facts (door_status, door_events), by seq.
CREATE TABLE notify_cursors (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
