//! The data of the dashboard's export page (`monban_web::pages::export`), shared with the
//! CSV downloads (`crate::export`): a period's compliance (the rows of
//! `GET /api/v1/compliance`) and every login in it with its evidence.

use super::HubSource;
use crate::export::period_data;
use monban_web::pages::export::{parse_period, ExportData, ExportError};

#[async_trait::async_trait]
impl monban_web::pages::export::ExportSource for HubSource {
    async fn export(
        &self,
        from: Option<String>,
        to: Option<String>,
        offset: i32,
        limit: usize,
    ) -> Result<ExportData, ExportError> {
        let hub = &self.0;
        let period = parse_period(
            from.as_deref(),
            to.as_deref(),
            hub.now().as_millis(),
            offset,
        )
        .map_err(ExportError::Period)?;
        period_data(hub, period, offset, Some(limit))
            .await
            .map_err(ExportError::Unavailable)
    }
}
