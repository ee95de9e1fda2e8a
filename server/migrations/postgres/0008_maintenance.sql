-- The same as sqlite/0012_maintenance.sql. Maintenance requests (保守作業, CONTRACT §10): one row per request, with its
-- decisions and report in `doc` (the JSON form of monban_core::maintenance::Request;
-- every field of it is bounded by the core). The columns beside it are what the reads
-- select by. A vendor token names its vendor (tokens.vendor).
CREATE TABLE maintenance_requests (
    request_id   TEXT PRIMARY KEY,
    vendor       TEXT NOT NULL,
    system       TEXT NOT NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    status       TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX maintenance_requests_window ON maintenance_requests (end_ms, start_ms);
ALTER TABLE tokens ADD COLUMN vendor TEXT;
-- Maintenance logins are found by account, vendor staff's entries by credential.
CREATE INDEX logins_account_ts ON logins (system, account, ts);
CREATE INDEX door_events_credential ON door_events (credential_id, ts);
