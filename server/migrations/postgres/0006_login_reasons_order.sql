-- The same as sqlite/0010_login_reasons_order.sql: the newest logins of a reason are
-- the first entries of this index, not a sort of the whole period.
DROP INDEX login_reasons_latest;
CREATE INDEX login_reasons_latest ON login_reasons (system, reason, ts, event_id);
