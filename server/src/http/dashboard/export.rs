//! The data of the dashboard's export page (`monban_web::pages::export`), shared with the
//! CSV downloads (`super::super::export`): a period's compliance (the rows of
//! `GET /api/v1/compliance`) and every login in it with its evidence.

use super::{unavailable, Source};
use crate::http::export::{period_data, Sources};
use monban_core::{Period, SiteOffset};
use monban_web::api::SourceError;
use monban_web::pages::export::ExportData;

#[async_trait::async_trait]
impl monban_web::pages::export::ExportSource for Source {
    async fn export(
        &self,
        from: Option<String>,
        to: Option<String>,
        offset: SiteOffset,
        limit: usize,
    ) -> Result<ExportData, SourceError> {
        let src = self;
        let period = Period::parse(from.as_deref(), to.as_deref(), src.now(), offset)
            .map_err(|e| SourceError::Invalid(e.to_string()))?;
        let sources = Sources {
            store: &src.store,
            clock: &src.clock,
            ingest: &src.ingest,
            site: &src.site,
        };
        period_data(sources, period, offset, Some(limit))
            .await
            .map_err(unavailable)
    }
}
