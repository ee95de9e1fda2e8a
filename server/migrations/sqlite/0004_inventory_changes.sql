-- Inventory edits made in the dashboard (issue 4): every change, who made it and when.
-- `before` and `after` are the row as JSON (absent for an added or removed row).
CREATE TABLE inventory_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    who         TEXT NOT NULL,
    action      TEXT NOT NULL,
    tbl         TEXT NOT NULL,
    row_key     TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX inventory_changes_at ON inventory_changes (at);

-- A CSV import (or a form edit) waiting for the officer's confirmation: the page shows
-- its preview from here; nothing is applied until it is confirmed.
CREATE TABLE inventory_pending (
    id         TEXT PRIMARY KEY,
    tbl        TEXT NOT NULL,
    csv        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
