-- Outages are classified by a stored code (issue 10); the same as
-- sqlite/0007_outage_cause.sql.
ALTER TABLE door_outages ADD COLUMN cause TEXT;

UPDATE door_outages SET cause = CASE
    WHEN reason LIKE '%overrun%' THEN 'modbus_overrun'
    WHEN reason LIKE '%restarted or reset its event ring%' THEN 'modbus_restart'
    WHEN reason LIKE '%connector blind (the broker had no session for the hub after its restart%' THEN 'mqtt_blind_restart'
    WHEN reason LIKE '%connector blind%' THEN 'mqtt_blind'
    ELSE 'other'
END
WHERE cause IS NULL;
