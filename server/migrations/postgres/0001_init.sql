-- monban store on PostgreSQL: the same tables as the SQLite migrations 0001–0005, in
-- one step (PostgreSQL support began with this schema). Times are BIGINT milliseconds
-- since the Unix epoch and flags are BIGINT 0/1, exactly as in SQLite, so the hub's SQL
-- is the same on both.

-- The inventory (棚卸し).
CREATE TABLE site (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE rooms (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    controlled      BIGINT NOT NULL,
    max_presence_ms BIGINT NOT NULL,
    alarm_hold_ms   BIGINT NOT NULL,
    position        BIGINT NOT NULL
);
CREATE TABLE doors (
    id       TEXT PRIMARY KEY,
    room     TEXT NOT NULL REFERENCES rooms(id),
    name     TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE terminals (
    id       TEXT PRIMARY KEY,
    room     TEXT NOT NULL REFERENCES rooms(id),
    name     TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE systems (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    category   TEXT NOT NULL,
    native_mfa BIGINT NOT NULL,
    renewal    TEXT,
    position   BIGINT NOT NULL
);
CREATE TABLE people (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE credentials (
    person        TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (type, credential_id)
);
CREATE TABLE accounts (
    person  TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    system  TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    account TEXT NOT NULL,
    PRIMARY KEY (system, account)
);
CREATE TABLE inventory_imports (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest      TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);

-- Raw door events, exactly once per (door, event_id).
CREATE TABLE door_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    door            TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    ts              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    direction       TEXT NOT NULL,
    credential_type TEXT,
    credential_id   TEXT,
    source          TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    UNIQUE (door, event_id)
);
CREATE INDEX door_events_ts ON door_events (ts);

-- Door status changes (online/offline) and outages (fail-closed periods).
CREATE TABLE door_status (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    door        TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    status      TEXT NOT NULL,
    source      TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX door_status_door_ts ON door_status (door, ts);
CREATE TABLE door_outages (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    door        TEXT NOT NULL,
    from_ts     BIGINT NOT NULL,
    to_ts       BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);

-- Logins with their current verdict and evidence.
CREATE TABLE logins (
    event_id    TEXT PRIMARY KEY,
    system      TEXT NOT NULL,
    account     TEXT NOT NULL,
    terminal    TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    factors     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    final_at    BIGINT NOT NULL,
    verdict     TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    evidence    TEXT,
    is_final    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX logins_ts ON logins (ts);
CREATE INDEX logins_system_ts ON logins (system, ts);
CREATE INDEX logins_pending ON logins (is_final, final_at);
CREATE INDEX logins_received ON logins (received_at);

-- Every verdict a login had: the first, each re-evaluation, the final one.
CREATE TABLE verdict_changes (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES logins(event_id),
    at       BIGINT NOT NULL,
    verdict  TEXT NOT NULL,
    reasons  TEXT NOT NULL,
    evidence TEXT,
    is_final BIGINT NOT NULL,
    cause    TEXT NOT NULL
);
CREATE INDEX verdict_changes_event ON verdict_changes (event_id);

-- Payloads the hub could not use, for officers to see; `door` when the connector knew it.
CREATE TABLE dead_letters (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    reason      TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    door        TEXT
);
CREATE INDEX dead_letters_door ON dead_letters (door);

-- API tokens: only the SHA-256 of the token is kept.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL,
    system       TEXT,
    role         TEXT,
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    created_by   TEXT
);

-- Connector health as data: the latest heartbeat of each door's controller, and when
-- each connector was last known to be connected.
CREATE TABLE door_heartbeats (
    door    TEXT PRIMARY KEY,
    last_at BIGINT NOT NULL
);
CREATE TABLE connector_marks (
    name       TEXT PRIMARY KEY,
    last_up_at BIGINT NOT NULL
);

-- Inventory edits made in the dashboard: every change, who made it and when.
CREATE TABLE inventory_changes (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    who         TEXT NOT NULL,
    action      TEXT NOT NULL,
    tbl         TEXT NOT NULL,
    row_key     TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX inventory_changes_at ON inventory_changes (at);
CREATE TABLE inventory_pending (
    id         TEXT PRIMARY KEY,
    tbl        TEXT NOT NULL,
    csv        TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Hub users and their passkeys, invites, sessions, the audit trail and step-up
-- verifications. No passwords are stored anywhere.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    handle      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY,
    owner_kind   TEXT NOT NULL,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    credential   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX passkeys_owner ON passkeys (owner_kind, owner);
CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    subject    TEXT,
    name       TEXT NOT NULL,
    role       TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    address      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The audit trail: who did what, when, from where. Append-only, enforced here: UPDATE,
-- DELETE and TRUNCATE are refused by triggers.
CREATE TABLE audit (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    address    TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE FUNCTION monban_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION monban_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION monban_audit_append_only();

CREATE TABLE step_ups (
    id          TEXT PRIMARY KEY,
    system      TEXT NOT NULL,
    account     TEXT NOT NULL,
    person      TEXT NOT NULL,
    terminal    TEXT,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    verified_at BIGINT,
    credential  TEXT,
    login       TEXT,
    failure     TEXT
);
