-- Rollups for reports (issue 10): the writer keeps them in the same transaction as every
-- login it stores and every verdict change, so a report over any period reads whole days
-- from here and counts only the partial days at its edges from `logins`.
--
-- `day` is the number of days since 1970-01-01 in the site's calendar (its fixed UTC
-- offset, `rollup_meta.offset_s`). When the offset is missing or differs from the
-- configured one, the hub rebuilds them (and `login_reasons`) from `logins` at start.
CREATE TABLE login_days (
    system  TEXT NOT NULL,
    day     BIGINT NOT NULL,
    verdict TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (system, day, verdict)
);
-- The reasons of `not_met` logins, one row per (system, day, reason): a login with two
-- reasons counts once under each.
CREATE TABLE reason_days (
    system TEXT NOT NULL,
    day    BIGINT NOT NULL,
    reason TEXT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (system, day, reason)
);
-- Per terminal: successful logins and `not_met` among them.
CREATE TABLE terminal_days (
    system   TEXT NOT NULL,
    day      BIGINT NOT NULL,
    terminal TEXT NOT NULL,
    logins   BIGINT NOT NULL,
    not_met  BIGINT NOT NULL,
    PRIMARY KEY (system, day, terminal)
);
-- The reasons of each `not_met` login in rows of their own (`logins.reasons` keeps the
-- login's list as text): the latest logins of one reason come from an index.
CREATE TABLE login_reasons (
    event_id TEXT NOT NULL,
    system   TEXT NOT NULL,
    ts       BIGINT NOT NULL,
    reason   TEXT NOT NULL,
    PRIMARY KEY (event_id, reason)
);
CREATE INDEX login_reasons_latest ON login_reasons (system, reason, ts);
CREATE TABLE rollup_meta (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    offset_s BIGINT NOT NULL
);
-- The edges of a period are counted from the index alone.
CREATE INDEX logins_ts_tally ON logins (ts, system, verdict);
DROP INDEX logins_ts;
-- Unused by every query; one index fewer to keep on each insert.
DROP INDEX logins_received;
