//! The dashboard's server functions and their typed error.
//!
//! One read-only function, [`get_overview`], served at `GET /api/dash/overview`. The URL is
//! fixed with `endpoint = …` instead of Leptos's default hashed name, so the server binary
//! and the wasm bundle agree on it even when they are built from different checkouts.
//! `/api/v1/*` belongs to the hub's public API (CONTRACT.md); the dashboard stays under
//! `/api/dash/`.
//!
//! Every server function answers in JSON through [`TextJson`] (`output = TextJson`).
//!
//! The server's data sources (`crate::DashboardSource`) fail with a [`SourceError`]; a
//! server function logs it and answers the browser with a [`DashError`].

use std::fmt;

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Post};
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::Overview;

/// Why the overview could not be loaded. Internal details stay in the server's log; the
/// browser only learns which of these happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashError {
    /// The server did not provide an `Arc<dyn DashboardSource>` context (a wiring bug).
    NotConfigured,
    /// The data source failed (e.g. the store is unreachable).
    Unavailable,
    /// Transport or encoding failure between browser and server.
    Transport(String),
    /// The signed-in user's role does not allow this (or nobody is signed in).
    Forbidden,
}

impl fmt::Display for DashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DashError::NotConfigured => f.write_str("ダッシュボードのデータ源が設定されていません"),
            DashError::Unavailable => f.write_str("データを取得できませんでした"),
            DashError::Forbidden => f.write_str("この操作の権限がありません"),
            DashError::Transport(detail) => write!(f, "サーバーと通信できませんでした（{detail}）"),
        }
    }
}

impl std::error::Error for DashError {}

impl FromServerFnError for DashError {
    type Encoder = TextJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        DashError::Transport(value.to_string())
    }
}

/// Why a data source (the hub's `DashboardSource`) could not answer: the error type of
/// every page's source trait. Its text is for the server's log, except for
/// [`SourceError::Invalid`], which a page shows next to its form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The hub could not read what the page needs (the store is unreachable, …).
    Unavailable(String),
    /// What the page names does not exist.
    NotFound(String),
    /// What the page was asked is not valid (a period that does not parse).
    Invalid(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Unavailable(m) | SourceError::NotFound(m) | SourceError::Invalid(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for SourceError {}

/// A message without a kind: the data could not be read.
impl From<&str> for SourceError {
    fn from(message: &str) -> SourceError {
        SourceError::Unavailable(message.to_string())
    }
}

/// JSON, as server_fn's own `JsonEncoding` writes it (the same bytes, the same
/// `application/json`), but read in the browser as text (`serde_json::from_str`) rather
/// than bytes (`from_slice`).
///
/// Why: a page's data arrives twice, serialised into the server-rendered page (Leptos
/// reads resources with `from_str`) and from the server function when it is refetched.
/// With `from_slice` the wasm held two complete JSON parsers for each of the ~50 data
/// types, one per reader; with one reader it holds one (94 → 47 `deserialize_struct`
/// instances, ≈ 250 KB less raw wasm, ≈ 16 KB less gzip).
pub struct TextJsonEncoding;

/// The output encoding of every dashboard server function: `output = TextJson`.
pub type TextJson = Post<TextJsonEncoding>;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// The compliance overview and the latest logins, from the injected
/// [`crate::DashboardSource`].
#[server(prefix = "/api/dash", endpoint = "overview", input = GetUrl, output = TextJson)]
pub async fn get_overview() -> Result<Overview, DashError> {
    use std::sync::Arc;

    // The figures change with every login; a cached copy would show a stale verdict.
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    let Some(source) = use_context::<Arc<dyn crate::DashboardSource>>() else {
        tracing::error!("dashboard: no Arc<dyn DashboardSource> in context");
        return Err(DashError::NotConfigured);
    };
    source.overview().await.map_err(|message| {
        tracing::warn!(error = %message, "dashboard: overview failed");
        DashError::Unavailable
    })
}
