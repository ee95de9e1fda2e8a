-- Hub users and their passkeys, invites, sessions, the audit trail and step-up
-- verifications (issue 5). No passwords are stored anywhere.

-- People who use the hub: officers, facilities staff, auditors, admins.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,          -- u-<hex>
    handle      TEXT NOT NULL UNIQUE,      -- the WebAuthn user handle (a UUID)
    name        TEXT NOT NULL UNIQUE,      -- the name they sign in with
    role        TEXT NOT NULL,             -- admin | officer | facilities | auditor
    created_at  INTEGER NOT NULL,
    disabled_at INTEGER
);

-- Passkeys of hub users (owner_kind 'user') and of inventory people for step-up
-- (owner_kind 'person'). `credential` is webauthn-rs's Passkey as JSON (public key,
-- counter); `id` is the credential id in base64url.
CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY,
    owner_kind   TEXT NOT NULL,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    credential   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX passkeys_owner ON passkeys (owner_kind, owner);

-- One-time enrollment links: only the SHA-256 of the link's secret is kept.
CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,              -- 'user' | 'person'
    subject    TEXT,                       -- an existing user's id (re-invite) or a person id
    name       TEXT NOT NULL,
    role       TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

-- Signed-in sessions: only the SHA-256 of the cookie is kept.
CREATE TABLE sessions (
    hash         TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    address      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The audit trail: who did what, when, from where. Append-only, enforced here.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,              -- user:<id> | token:<id> | cli | anonymous
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    address    TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Step-up verifications: a system asks the hub to verify a person's passkey at login.
CREATE TABLE step_ups (
    id          TEXT PRIMARY KEY,
    system      TEXT NOT NULL,
    account     TEXT NOT NULL,
    person      TEXT NOT NULL,
    terminal    TEXT,
    status      TEXT NOT NULL,             -- pending | verified | failed | used
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    verified_at INTEGER,
    credential  TEXT,
    login       TEXT,
    failure     TEXT
);

ALTER TABLE tokens ADD COLUMN created_by TEXT;
