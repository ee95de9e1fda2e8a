-- A door's feed and heartbeat timeout (issue 10); the same as sqlite/0009_door_feed.sql.
ALTER TABLE doors ADD COLUMN feed TEXT NOT NULL DEFAULT 'mqtt';
ALTER TABLE doors ADD COLUMN heartbeat_timeout_ms BIGINT;
