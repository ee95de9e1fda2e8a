//! The data of the dashboard's dead letters page (`monban_web::pages::dead_letters`):
//! the same newest 500 as `GET /api/v1/dead-letters`, optionally of one source.

use super::{unavailable, Source};
use monban_web::api::SourceError;
use monban_web::pages::dead_letters::DeadLetterRow;

/// As many as the API lists.
const LIMIT: i64 = 500;

#[async_trait::async_trait]
impl monban_web::pages::dead_letters::DeadLettersSource for Source {
    async fn dead_letters(
        &self,
        source: Option<String>,
    ) -> Result<Vec<DeadLetterRow>, SourceError> {
        let letters = self.store.dead_letters(LIMIT).await.map_err(unavailable)?;
        Ok(letters
            .into_iter()
            .filter(|d| source.as_deref().is_none_or(|s| d.letter.source == s))
            .map(|d| DeadLetterRow {
                id: d.seq,
                source: d.letter.source,
                origin: d.letter.origin,
                door: d.letter.door.map(|d| d.to_string()),
                received_at: d.letter.received_at.to_rfc3339(),
                reason: d.letter.reason,
                payload: String::from_utf8_lossy(&d.letter.payload).into_owned(),
            })
            .collect())
    }
}
