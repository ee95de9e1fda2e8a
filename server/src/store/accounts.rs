//! The account review's facts (CONTRACT §12): per account of one system, its last
//! successful login and how many successful logins it had since a given time — one
//! aggregate over `logins`, grouped by account, on the index `(system, account, ts)`.

use crate::store::{get, Result, Store};
use monban_core::accounts::Activity;
use monban_core::Timestamp;
use std::collections::BTreeMap;

impl Store {
    /// Every account seen in a login of `system` (failed ones too), with its last
    /// successful login and its successful logins at or after `since`.
    pub async fn account_activity(
        &self,
        system: &str,
        since: Timestamp,
    ) -> Result<BTreeMap<String, Activity>> {
        let rows = sqlx::query(
            "SELECT account, \
                    MAX(CASE WHEN outcome = 'success' THEN ts END) AS last_success, \
                    COUNT(CASE WHEN outcome = 'success' AND ts >= $2 THEN 1 END) AS recent \
             FROM logins WHERE system = $1 GROUP BY account",
        )
        .bind(system)
        .bind(since.as_millis())
        .fetch_all(self.pool())
        .await?;
        let mut out = BTreeMap::new();
        for r in &rows {
            let account: String = get(r, "account")?;
            let last: Option<i64> = get(r, "last_success")?;
            let recent: i64 = get(r, "recent")?;
            out.insert(
                account,
                Activity {
                    last_success: last.map(Timestamp::from_millis),
                    successes_recent: u64::try_from(recent).unwrap_or(0),
                },
            );
        }
        Ok(out)
    }
}
