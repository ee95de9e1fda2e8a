//! Access-log import (アクセスログの取込み, `/imports`): each system's `[[imports]]`
//! mapping (its columns, time format, encoding), an upload form per system for officers
//! and admins, the result of the last upload (`?result=<id>`: its figures, or its bad
//! rows as a table of line, column and reason), and the record of past imports.
//!
//! The upload posts the file itself to `POST /api/v1/imports/{system}` (a few lines of
//! `/pkg/passkey.js`: `fetch` with the session's CSRF token), then opens
//! `/imports?result=<id>`. The page is rendered on the server only
//! ([`crate::pages::fragment`]): its view code never reaches the wasm bundle.
//!
//! Test ids: `imp-mapping` (`data-system`), `imp-upload-form` (`data-system`),
//! `imp-result` (`data-status`, `data-stored`, `data-already`), `imp-error-row`
//! (`data-line`), `imp-history` rows `imp-row` (`data-id`, `data-status`).

#[cfg(feature = "ssr")]
pub use data::*;

#[cfg(feature = "ssr")]
mod data {
    /// Everything the page shows.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ImportsView {
        pub mappings: Vec<MappingRow>,
        /// Newest first.
        pub imports: Vec<ImportRow>,
        /// The import `?result=` names, if it is known.
        pub result: Option<ImportRow>,
        /// The site's UTC offset in seconds.
        pub offset: i32,
        /// The largest file the upload takes, in bytes.
        pub max_bytes: u64,
        /// Filled by the page function: the signed-in user may upload.
        pub can_upload: bool,
        pub csrf: String,
    }

    /// One `[[imports]]` table.
    #[derive(Debug, Clone, PartialEq)]
    pub struct MappingRow {
        pub system: String,
        pub name: String,
        /// `UTF-8` or `Shift_JIS`.
        pub encoding: String,
        pub header: bool,
        /// The log's column of each field, or the constant (`account`, `terminal`, …).
        pub fields: Vec<(String, String)>,
        /// `rfc3339` or the strftime pattern, with the offset of times without one.
        pub time_format: String,
    }

    /// One import's record.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ImportRow {
        pub id: i64,
        /// RFC 3339.
        pub at: String,
        pub by: String,
        /// `imported`, `rejected` or `failed`.
        pub status: String,
        pub system: String,
        pub file: String,
        pub sha256: String,
        pub bytes: u64,
        /// `upload`, `cli` or `demo`.
        pub via: String,
        pub rows: u64,
        pub stored: u64,
        pub already: u64,
        pub refused: u64,
        pub bad_rows: u64,
        /// (line, column, reason): a rejected file's bad rows (the first 100).
        pub errors: Vec<(u64, Option<String>, String)>,
    }
}

/// What the page needs from the hub (implemented by the server).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ImportsSource: Send + Sync + 'static {
    /// The mappings, the newest imports, and the import `result` names.
    async fn imports(&self, _result: Option<i64>) -> Result<ImportsView, crate::api::SourceError> {
        Err("access-log imports are not available".into())
    }
}

#[cfg(feature = "ssr")]
mod render;

/// The page's body (server only): compliance readers see it; officers and admins get the
/// upload forms.
#[cfg(feature = "ssr")]
pub(crate) async fn fragment(
    query: &crate::pages::fragment::Query,
    l: crate::i18n::Lang,
) -> Result<String, crate::api::DashError> {
    use crate::api::DashError;
    use crate::auth::Permission;
    use crate::pages::account::{source, unavailable};
    use leptos::prelude::RenderHtml;
    crate::auth::current_role()
        .filter(|r| r.can(Permission::ReadCompliance))
        .ok_or(DashError::Forbidden)?;
    let result = query.get("result").and_then(|r| r.parse::<i64>().ok());
    let mut view = source()?
        .imports(result)
        .await
        .map_err(unavailable("access-log imports"))?;
    let uploader = crate::auth::current_viewer().filter(|v| v.can(Permission::ImportAccessLogs));
    view.can_upload = uploader.is_some();
    view.csrf = uploader.map(|v| v.csrf).unwrap_or_default();
    Ok(render::page(view, l).to_html())
}
