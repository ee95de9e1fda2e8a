-- The account review campaign (アカウントの棚卸し, issue 12 point 2): one row per completed
-- review of one system, confirmed with a passkey. `marks` is the JSON list of the
-- officer's decisions ([{account, decision, person, note}], monban_core::account_review::Mark,
-- in account order; every text in it bounded by the core). The row is chained as evidence
-- (kind `account_review`, keyed by `seq`). Reviews are never edited.
-- (Other branches may hold later numbers; postgres/0013 is the same table.)
CREATE TABLE account_reviews (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    system       TEXT NOT NULL,     -- the [[systems]] id
    completed_at INTEGER NOT NULL,  -- when it was confirmed (ms)
    by_user      TEXT NOT NULL,     -- the hub user who confirmed it
    credential   TEXT NOT NULL,     -- the passkey (credential id, base64url) that confirmed it
    marks        TEXT NOT NULL      -- JSON: the decisions
);
CREATE INDEX account_reviews_system ON account_reviews (system, completed_at);
