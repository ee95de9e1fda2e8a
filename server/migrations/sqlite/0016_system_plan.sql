-- A system's planned route to 二要素認証 and its month (issue 12, the inspection report;
-- CONTRACT §4 `[[systems]]` `plan`, `by`). `by` is a keyword in SQL: the column is
-- `plan_by`. Both are NULL for systems without a plan. (0014 and 0015 are left to other
-- branches.)
ALTER TABLE systems ADD COLUMN plan TEXT;     -- native | sso | step_up | combined_measures
ALTER TABLE systems ADD COLUMN plan_by TEXT;  -- YYYY-MM
