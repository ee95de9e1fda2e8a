-- The evidence chain (CONTRACT §13): see migrations/sqlite/0014_evidence.sql.
-- Appenders serialise on pg_advisory_xact_lock(evidence lock id) before reading the head.
CREATE TABLE evidence (
    seq  BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    rid  BIGINT,
    at   BIGINT NOT NULL,
    hash TEXT NOT NULL,
    body BYTEA
);
