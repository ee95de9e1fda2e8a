-- The evidence chain (CONTRACT §13): one row per record kept as evidence, in the order
-- the hub stored them. seq 0 is the genesis (key = the site id, hash = SHA-256 of it);
-- record n has hash = SHA-256(hash of n-1 || canonical bytes of record n), hex.
-- rid is the covered row's seq in its table (door_events, audit, …), NULL for logins
-- (keyed by event_id) and maintenance requests; body holds the canonical bytes of a
-- maintenance request as saved, since its row is overwritten by the next save.
-- Records stored before this table existed are chained at the first start.
CREATE TABLE evidence (
    seq  INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    rid  INTEGER,
    at   INTEGER NOT NULL,
    hash TEXT NOT NULL,
    body BLOB
);
