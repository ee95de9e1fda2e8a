-- Maintenance vendors, the systems they maintain, a person's vendor and last day
-- (issue 11); the same as sqlite/0011_vendors.sql.
CREATE TABLE vendors (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE TABLE vendor_systems (
    vendor    TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    system    TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    remote    BIGINT NOT NULL,
    route     TEXT,
    confirmed TEXT,
    position  BIGINT NOT NULL,
    PRIMARY KEY (vendor, system)
);
ALTER TABLE people ADD COLUMN vendor TEXT;
ALTER TABLE people ADD COLUMN until TEXT;
