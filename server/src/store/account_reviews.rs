//! Completed account reviews (アカウントの棚卸し, issue 12 point 2) as stored: one row per
//! review of one system — when, by whom, with which passkey, and the officer's marks as
//! JSON (`monban_core::account_review::Mark`, checked by the core before they get here).
//!
//! A review is written with its audit line in one transaction, and both are chained as
//! evidence in it (kind `account_review`, keyed by the row's `seq`; CONTRACT §13), so a
//! mark edited in the database is found by `monban verify`. Reviews are never updated.

use crate::store::auth::NewAudit;
use crate::store::evidence;
use crate::store::{get, parse, Result, Store};
use monban_core::account_review::Mark;
use monban_core::evidence::Kind;
use monban_core::Timestamp;

/// A completed review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReview {
    /// The row's `seq`: the review's id.
    pub id: i64,
    pub system: String,
    pub completed_at: Timestamp,
    /// The hub user who confirmed it.
    pub by: String,
    /// The passkey (credential id) that confirmed it.
    pub credential: String,
    pub marks: Vec<Mark>,
}

/// A review to store.
#[derive(Debug, Clone, Copy)]
pub struct NewReview<'a> {
    pub system: &'a str,
    pub by: &'a str,
    pub credential: &'a str,
    pub marks: &'a [Mark],
}

fn review_from_row(r: &sqlx::any::AnyRow) -> Result<StoredReview> {
    let marks: String = get(r, "marks")?;
    Ok(StoredReview {
        id: get(r, "seq")?,
        system: get(r, "system")?,
        completed_at: Timestamp::from_millis(get(r, "completed_at")?),
        by: get(r, "by_user")?,
        credential: get(r, "credential")?,
        marks: parse(serde_json::from_str::<Vec<Mark>>(&marks))?,
    })
}

impl Store {
    /// Stores a completed review with its audit line (whose detail gets the review's
    /// `id`), both chained, in one transaction; returns the review as stored.
    pub async fn save_account_review(
        &self,
        review: &NewReview<'_>,
        audit: &NewAudit<'_>,
        now: Timestamp,
    ) -> Result<StoredReview> {
        let marks = parse(serde_json::to_string(review.marks))?;
        let mut tx = self.begin().await?;
        let q = format!(
            "INSERT INTO account_reviews (system, completed_at, by_user, credential, marks) \
             VALUES ($1, $2, $3, $4, $5) {}",
            evidence::returning(Kind::AccountReview)
        );
        let row = sqlx::query(&q)
            .bind(review.system)
            .bind(now.as_millis())
            .bind(review.by)
            .bind(review.credential)
            .bind(marks)
            .fetch_one(&mut *tx)
            .await?;
        let stored = review_from_row(&row)?;
        let rec = evidence::record_of(Kind::AccountReview, &row)?;
        evidence::append(&mut tx, self.is_sqlite(), vec![rec], now).await?;
        let mut detail = audit.detail.clone();
        if let Some(o) = detail.as_object_mut() {
            o.insert("review".into(), stored.id.into());
        }
        let audit = NewAudit {
            actor: audit.actor,
            actor_name: audit.actor_name,
            action: audit.action,
            target: audit.target,
            detail,
            address: audit.address,
        };
        crate::store::auth::insert_audit(&mut tx, self.is_sqlite(), &audit, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The completed reviews of `system`, newest first.
    pub async fn account_reviews(&self, system: &str) -> Result<Vec<StoredReview>> {
        let rows = sqlx::query(
            "SELECT seq, system, completed_at, by_user, credential, marks FROM account_reviews \
             WHERE system = $1 ORDER BY completed_at DESC, seq DESC",
        )
        .bind(system)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// The last completed review of each system that had one: when, and by whom.
    pub async fn last_account_reviews(
        &self,
    ) -> Result<std::collections::BTreeMap<String, (Timestamp, String)>> {
        let rows = sqlx::query(
            "SELECT r.system, r.completed_at, r.by_user FROM account_reviews r \
             WHERE r.seq = (SELECT s.seq FROM account_reviews s WHERE s.system = r.system \
                            ORDER BY s.completed_at DESC, s.seq DESC LIMIT 1)",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get::<String>(r, "system")?,
                    (
                        Timestamp::from_millis(get(r, "completed_at")?),
                        get::<String>(r, "by_user")?,
                    ),
                ))
            })
            .collect()
    }
}
