-- Hardening after the security review (issue 9); the same as sqlite/0006_hardening.sql.

ALTER TABLE sessions ADD COLUMN passkey TEXT;
CREATE INDEX sessions_passkey ON sessions (passkey);

ALTER TABLE invites ADD COLUMN approved_by TEXT;
ALTER TABLE invites ADD COLUMN approved_at BIGINT;

ALTER TABLE tokens ADD COLUMN doors TEXT;

CREATE TABLE hub_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
