-- Connector health as data (issue 3).

-- The door a dead letter concerns, when the connector knew it.
ALTER TABLE dead_letters ADD COLUMN door TEXT;
CREATE INDEX dead_letters_door ON dead_letters (door);

-- The latest heartbeat of each door's controller (a heartbeat message, a successful
-- Modbus poll). Written at most every few seconds per door.
CREATE TABLE door_heartbeats (
    door    TEXT PRIMARY KEY,
    last_at INTEGER NOT NULL
);
