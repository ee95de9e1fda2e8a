-- Hardening after the security review (issue 9).

-- The passkey a session was signed in with: revoking it ends the session.
ALTER TABLE sessions ADD COLUMN passkey TEXT;
CREATE INDEX sessions_passkey ON sessions (passkey);

-- A person's step-up enrollment link made on the dashboard works only once a second
-- officer or admin (not its maker) has approved it; links made on the command line are
-- approved by `cli` when made.
ALTER TABLE invites ADD COLUMN approved_by TEXT;
ALTER TABLE invites ADD COLUMN approved_at INTEGER;

-- A door-ingest token may be limited to some doors (comma-separated ids; NULL: all).
ALTER TABLE tokens ADD COLUMN doors TEXT;

-- The hub's own secrets (e.g. the key that makes the sign-in answer for unknown names
-- look like a real one), made once on first start.
CREATE TABLE hub_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
