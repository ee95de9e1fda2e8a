-- Maintenance vendors and the systems they maintain, a person's vendor and last day
-- (issue 11, CONTRACT §4 and §10). The first start after this migration re-imports
-- monban.toml (the inventory's digest covers them), which fills them in.
CREATE TABLE vendors (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE vendor_systems (
    vendor    TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    system    TEXT NOT NULL REFERENCES systems(id) ON DELETE CASCADE,
    remote    INTEGER NOT NULL,
    route     TEXT,
    confirmed TEXT,
    position  INTEGER NOT NULL,
    PRIMARY KEY (vendor, system)
);
-- `vendor` names a row of vendors (checked by the hub when the inventory is read);
-- `until` is the last day, YYYY-MM-DD at the site.
ALTER TABLE people ADD COLUMN vendor TEXT;
ALTER TABLE people ADD COLUMN until TEXT;
