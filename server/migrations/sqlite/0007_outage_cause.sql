-- Outages are classified by a stored code (issue 10), never by the wording of their
-- reason: `monban_core::health::OutageCause` — modbus_overrun, modbus_restart,
-- mqtt_blind, mqtt_blind_restart, other. The hub writes the code with every new outage;
-- the outages recorded before are classified once, here, from the reasons the hub wrote
-- then (an overrun was counted by `reason LIKE '%overrun%'`, so that test comes first).
ALTER TABLE door_outages ADD COLUMN cause TEXT;

UPDATE door_outages SET cause = CASE
    WHEN reason LIKE '%overrun%' THEN 'modbus_overrun'
    WHEN reason LIKE '%restarted or reset its event ring%' THEN 'modbus_restart'
    WHEN reason LIKE '%connector blind (the broker had no session for the hub after its restart%' THEN 'mqtt_blind_restart'
    WHEN reason LIKE '%connector blind%' THEN 'mqtt_blind'
    ELSE 'other'
END
WHERE cause IS NULL;
