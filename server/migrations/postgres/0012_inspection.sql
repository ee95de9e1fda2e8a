-- The inspection report (issue 12): a system's planned route to 二要素認証 and its month (
-- CONTRACT §4 `[[systems]]` `plan`, `by`), and the manual answers to checklist items. `by` is
-- a keyword in SQL: the column is `plan_by`. Both are NULL for systems without a plan.
-- (Other branches hold sqlite 0014–0015 and postgres 0010–0011.)
ALTER TABLE systems ADD COLUMN plan TEXT;     -- native | sso | step_up | combined_measures
ALTER TABLE systems ADD COLUMN plan_by TEXT;  -- YYYY-MM

-- Manual answers to checklist items monban cannot answer from evidence
-- (server/data/checklist.toml, manual = true): append-only, the newest per item is the
-- answer; each one is also in the audit trail.
CREATE TABLE manual_answers (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item    TEXT NOT NULL,     -- the checklist item's id
    value   TEXT NOT NULL,     -- yes | no | not_applicable
    day     TEXT NOT NULL,     -- YYYY-MM-DD: when it was checked (回答日)
    target  TEXT,              -- YYYY-MM-DD: target date (目標時期), optional
    note    TEXT NOT NULL,
    by_user TEXT NOT NULL,     -- who recorded it
    at      BIGINT NOT NULL    -- when (ms)
);
CREATE INDEX manual_answers_item ON manual_answers (item, seq);
