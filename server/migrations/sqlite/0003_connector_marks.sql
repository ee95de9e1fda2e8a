-- When each connector was last known to be connected (written at connect and every few
-- seconds while connected). After a restart, a broker that kept no session for the hub
-- means everything published since this time may be lost: the hub fails closed for it.
CREATE TABLE connector_marks (
    name       TEXT PRIMARY KEY,
    last_up_at INTEGER NOT NULL
);
