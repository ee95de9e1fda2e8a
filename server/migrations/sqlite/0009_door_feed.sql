-- A door's feed (the connector: `mqtt` also for HTTP, or `modbus`) and its heartbeat
-- timeout are properties of the door (issue 10), stored with it. The first start after
-- this migration re-imports monban.toml (the inventory's digest covers them), which
-- fills them in from `[[modbus]]` and `[[doors]] heartbeat_timeout`.
ALTER TABLE doors ADD COLUMN feed TEXT NOT NULL DEFAULT 'mqtt';
ALTER TABLE doors ADD COLUMN heartbeat_timeout_ms INTEGER;
