//! The data of the dashboard's export page (`monban_web::pages::export`), shared with the
//! CSV downloads (`crate::export`): a period's compliance (the rows of
//! `GET /api/v1/compliance`) and every login in it with its evidence.

use super::HubSource;
use crate::export::period_data;
use monban_core::{Period, SiteOffset};
use monban_web::pages::export::{ExportData, ExportError};

#[async_trait::async_trait]
impl monban_web::pages::export::ExportSource for HubSource {
    async fn export(
        &self,
        from: Option<String>,
        to: Option<String>,
        offset: SiteOffset,
        limit: usize,
    ) -> Result<ExportData, ExportError> {
        let hub = &self.0;
        let period = Period::parse(from.as_deref(), to.as_deref(), hub.now(), offset)
            .map_err(|e| ExportError::Period(e.to_string()))?;
        period_data(hub, period, offset, Some(limit))
            .await
            .map_err(ExportError::Unavailable)
    }
}
