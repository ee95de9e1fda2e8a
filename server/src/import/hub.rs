//! An access log imported into the running hub: the dashboard's upload
//! (`POST /api/v1/imports/{system}`) and `monban demo`'s departmental system both come
//! here. The file is checked whole by [`super::check`] — every bad row named, nothing
//! stored if there is one — then its logins go through the hub's own writer
//! ([`Ingest`], the path of `POST /api/v1/logins`), so verdicts, flags, notifications
//! and the evidence chain are those of logins sent one by one; a row already stored
//! counts as "already" and is stored once. Every import, refused or not, is recorded
//! ([`super::record`]).
//!
//! `monban import logins` cannot run while the hub does: two writers on one store would
//! race. This path has no such limit: it is the hub's writer.

use super::record::{self, FileInfo, Importer};
use super::{Checked, RowError};
use crate::clock::Clock;
use crate::config::imports::ImportSpec;
use crate::ingest::Ingest;
use crate::maintenance::Maintenance;
use crate::notify::Notifier;
use crate::store::{Store, StoreError};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// Logins per writer command.
pub const BATCH: usize = 2000;

/// What the hub's import path uses: its store, clock, writer, maintenance rules and
/// notifier.
#[derive(Clone)]
pub struct Hub {
    pub store: Store,
    pub clock: Clock,
    pub ingest: Arc<Ingest>,
    pub maintenance: Arc<Maintenance>,
    pub notifier: Arc<Notifier>,
}

/// What became of an import; `id` is its record's (the audit line's `seq`).
#[derive(Debug)]
pub enum Outcome {
    /// Its logins are stored (`record` as `GET /api/v1/imports` lists it).
    Imported { id: i64, record: Value },
    /// Bad rows: nothing stored.
    Rejected { id: i64, checked: Checked },
    /// The writer failed part way: what was stored stays; importing again stores the rest.
    Failed { id: i64, errors: Vec<RowError> },
}

impl Outcome {
    pub fn id(&self) -> i64 {
        match self {
            Outcome::Imported { id, .. }
            | Outcome::Rejected { id, .. }
            | Outcome::Failed { id, .. } => *id,
        }
    }
}

/// Imports the file at `path` (described by `file`) as logins of `spec`'s system.
/// Fails only when the record cannot be written (the logins, if any, are stored).
pub async fn import_file(
    hub: &Hub,
    spec: &ImportSpec,
    path: &Path,
    file: &FileInfo,
    who: &Importer,
) -> Result<Outcome, StoreError> {
    let system = spec.system.to_string();
    let checked = {
        let (spec, path) = (spec.clone(), path.to_path_buf());
        tokio::task::spawn_blocking(move || super::check(&spec, &path, |_| {}))
            .await
            .unwrap_or_else(|e| Checked {
                rows: 0,
                errors: vec![RowError {
                    line: 0,
                    column: None,
                    reason: format!("the check failed: {e}"),
                }],
                bad_rows: 1,
            })
    };
    if checked.bad_rows > 0 {
        let detail = record::rejected_detail(&system, file, who.via, &checked);
        let id = record::record(
            &hub.store,
            hub.clock.now(),
            who,
            record::REJECTED,
            &system,
            detail,
        )
        .await?;
        return Ok(Outcome::Rejected { id, checked });
    }
    let (notifier, ingest, maintenance) = (
        hub.notifier.clone(),
        hub.ingest.clone(),
        hub.maintenance.clone(),
    );
    let result = super::run(
        spec,
        path,
        hub.ingest.clone(),
        BATCH,
        |_| {},
        |new| {
            let (notifier, ingest, maintenance) =
                (notifier.clone(), ingest.clone(), maintenance.clone());
            async move {
                for stored in &new {
                    crate::notify::watch::after_login(&notifier, &ingest, &maintenance, stored)
                        .await;
                }
            }
        },
    )
    .await;
    let now = hub.clock.now();
    match result {
        Ok(done) => {
            let detail = record::imported_detail(&system, file, who.via, &done);
            let id =
                record::record(&hub.store, now, who, record::IMPORTED, &system, detail).await?;
            let record = record::get(&hub.store, id).await?.unwrap_or(Value::Null);
            Ok(Outcome::Imported { id, record })
        }
        Err(errors) => {
            let detail = record::failed_detail(&system, file, who.via, &errors);
            let id = record::record(&hub.store, now, who, record::FAILED, &system, detail).await?;
            Ok(Outcome::Failed { id, errors })
        }
    }
}
