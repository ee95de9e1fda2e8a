-- monban store, first schema.

-- The inventory (棚卸し), imported from monban.toml.
CREATE TABLE site (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE rooms (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    controlled      INTEGER NOT NULL,
    max_presence_ms INTEGER NOT NULL,
    alarm_hold_ms   INTEGER NOT NULL,
    position        INTEGER NOT NULL
);
CREATE TABLE doors (
    id       TEXT PRIMARY KEY,
    room     TEXT NOT NULL REFERENCES rooms(id),
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE terminals (
    id       TEXT PRIMARY KEY,
    room     TEXT NOT NULL REFERENCES rooms(id),
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE systems (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    category   TEXT NOT NULL,
    native_mfa INTEGER NOT NULL,
    renewal    TEXT,
    position   INTEGER NOT NULL
);
CREATE TABLE people (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE credentials (
    person        TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    position      INTEGER NOT NULL,
    PRIMARY KEY (type, credential_id)
);
CREATE TABLE accounts (
    person  TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    system  TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    account TEXT NOT NULL,
    PRIMARY KEY (system, account)
);
CREATE TABLE inventory_imports (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    digest      TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at INTEGER NOT NULL
);

-- Raw door events, exactly once per (door, event_id).
CREATE TABLE door_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    door            TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    ts              INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    direction       TEXT NOT NULL,
    credential_type TEXT,
    credential_id   TEXT,
    source          TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    UNIQUE (door, event_id)
);
CREATE INDEX door_events_ts ON door_events (ts);

-- Door status changes (online/offline) and outages (fail-closed periods).
CREATE TABLE door_status (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    door        TEXT NOT NULL,
    ts          INTEGER NOT NULL,
    status      TEXT NOT NULL,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX door_status_door_ts ON door_status (door, ts);
CREATE TABLE door_outages (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    door        TEXT NOT NULL,
    from_ts     INTEGER NOT NULL,
    to_ts       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);

-- Logins with their current verdict and evidence.
CREATE TABLE logins (
    event_id    TEXT PRIMARY KEY,
    system      TEXT NOT NULL,
    account     TEXT NOT NULL,
    terminal    TEXT NOT NULL,
    ts          INTEGER NOT NULL,
    factors     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    final_at    INTEGER NOT NULL,
    verdict     TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    evidence    TEXT,
    is_final    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX logins_ts ON logins (ts);
CREATE INDEX logins_system_ts ON logins (system, ts);
CREATE INDEX logins_pending ON logins (is_final, final_at);
CREATE INDEX logins_received ON logins (received_at);

-- Every verdict a login had: the first, each re-evaluation, the final one.
CREATE TABLE verdict_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL REFERENCES logins(event_id),
    at       INTEGER NOT NULL,
    verdict  TEXT NOT NULL,
    reasons  TEXT NOT NULL,
    evidence TEXT,
    is_final INTEGER NOT NULL,
    cause    TEXT NOT NULL
);
CREATE INDEX verdict_changes_event ON verdict_changes (event_id);

-- Payloads the hub could not use, for officers to see.
CREATE TABLE dead_letters (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    payload     BLOB NOT NULL,
    reason      TEXT NOT NULL,
    received_at INTEGER NOT NULL
);

-- API tokens: only the SHA-256 of the token is kept.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,
    system       TEXT,
    role         TEXT,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
