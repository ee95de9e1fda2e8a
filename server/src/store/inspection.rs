//! Manual answers to checklist items (issue 12, the inspection report): append-only, the
//! newest per item is the answer; each is written with its audit line in one
//! transaction.

use crate::store::auth::NewAudit;
use crate::store::{get, parse, Result, Store};
use monban_core::inspection::ManualAnswer;
use monban_core::{SiteDay, Timestamp};
use std::collections::BTreeMap;

impl Store {
    /// Records an answer with its audit line: both are kept or neither.
    pub async fn save_manual_answer(
        &self,
        answer: &ManualAnswer,
        audit: &NewAudit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO manual_answers (item, value, day, target, note, by_user, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(answer.item.as_str())
        .bind(answer.value.as_str())
        .bind(answer.date.to_string())
        .bind(answer.target.map(|d| d.to_string()))
        .bind(answer.note.as_str())
        .bind(answer.by.as_str())
        .bind(answer.at.as_millis())
        .execute(&mut *tx)
        .await?;
        // The audit line joins the evidence chain (CONTRACT §13) in this transaction.
        crate::store::auth::insert_audit(&mut tx, self.is_sqlite(), audit, answer.at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The answer of each item: the newest recorded.
    pub async fn manual_answers(&self) -> Result<BTreeMap<String, ManualAnswer>> {
        let rows = sqlx::query(
            "SELECT item, value, day, target, note, by_user, at FROM manual_answers ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let target = match get::<Option<String>>(&r, "target")? {
                Some(t) => Some(parse(SiteDay::parse(&t))?),
                None => None,
            };
            let a = ManualAnswer {
                item: get(&r, "item")?,
                value: parse(get::<String>(&r, "value")?.parse())?,
                date: parse(SiteDay::parse(&get::<String>(&r, "day")?))?,
                target,
                note: get(&r, "note")?,
                by: get(&r, "by_user")?,
                at: Timestamp::from_millis(get(&r, "at")?),
            };
            out.insert(a.item.clone(), a);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::store::auth::NewAudit;
    use crate::store::Store;
    use monban_core::inspection::{ManualAnswerForm, ManualValue};
    use monban_core::Timestamp;

    /// The newest answer per item is the answer; every answer is in the audit trail.
    #[tokio::test]
    async fn newest_answer_wins_and_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let store = Store::open(&url).await.unwrap();
        assert!(store.manual_answers().await.unwrap().is_empty());
        let known = |_: &str| true;
        for (i, (item, value, target)) in [
            ("security-officer", "no", "2027-03-31"),
            ("device-register", "not_applicable", ""),
            ("security-officer", "yes", ""),
        ]
        .into_iter()
        .enumerate()
        {
            let a = ManualAnswerForm {
                item: item.into(),
                value: value.into(),
                date: "2026-12-01".into(),
                target: target.into(),
                note: "院内規程 第3条".into(),
            }
            .parse(known, "kanri", Timestamp::from_millis(1000 + i as i64))
            .unwrap();
            let audit = NewAudit {
                actor: "user:kanri",
                actor_name: "kanri",
                action: "inspection.answer",
                target: item,
                detail: serde_json::json!({"value": value}),
                address: "",
            };
            store.save_manual_answer(&a, &audit).await.unwrap();
        }
        let answers = store.manual_answers().await.unwrap();
        assert_eq!(answers.len(), 2);
        let officer = &answers["security-officer"];
        assert_eq!((officer.value, officer.target), (ManualValue::Yes, None));
        assert_eq!(officer.at, Timestamp::from_millis(1002));
        assert_eq!(answers["device-register"].value, ManualValue::NotApplicable);
        let audit = store
            .audit_between(Timestamp::from_millis(0), Timestamp::from_millis(5000))
            .await
            .unwrap();
        let n = audit
            .iter()
            .filter(|e| e.action == "inspection.answer")
            .count();
        assert_eq!(n, 3);
    }
}
