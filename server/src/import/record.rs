//! The record of each access-log import: who, when, which system, which file (its name,
//! size and SHA-256), how many rows, how many logins were stored and how many were
//! already there — or, for a refused file, its bad rows. It is one line of the audit
//! trail (`import.logins`, `import.rejected`, `import.failed`; target: the system), so it
//! is chained like every audit line (CONTRACT §13): the hub cannot quietly forget an
//! import. `GET /api/v1/imports` and the `/imports` page read these lines back.

use super::{Checked, Imported, RowError};
use crate::store::auth::AuditEntry;
use crate::store::{Store, StoreError};
use monban_core::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The audit actions of imports; every one starts with [`PREFIX`].
pub const IMPORTED: &str = "import.logins";
pub const REJECTED: &str = "import.rejected";
pub const FAILED: &str = "import.failed";
pub const PREFIX: &str = "import.";

/// How many bad rows a refused import's record keeps (the count is always exact).
pub const ERRORS_KEPT: usize = 100;

/// The file imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Its name as given (no directory).
    pub name: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    pub bytes: u64,
}

impl FileInfo {
    /// Reads `path` once for its hash and size; `name` is how the record names it.
    pub fn of(path: &Path, name: &str) -> std::io::Result<FileInfo> {
        let mut file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            bytes += n as u64;
        }
        Ok(FileInfo {
            name: file_name(name),
            sha256: hex::encode(h.finalize()),
            bytes,
        })
    }
}

/// The last part of a path as a file name, bounded to 200 characters ("upload.csv" when
/// empty).
pub fn file_name(name: &str) -> String {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>();
    if base.is_empty() {
        "upload.csv".into()
    } else {
        base
    }
}

/// Who imported, and how (`upload`, `cli`, `demo`).
#[derive(Debug, Clone)]
pub struct Importer {
    /// `user:<id>`, `token:<id>`, `cli`, `demo`.
    pub actor: String,
    pub name: String,
    pub address: String,
    pub via: &'static str,
}

/// A row problem as JSON: `{"line", "column", "reason"}` (`line` 0: the file as a whole).
pub fn error_json(e: &RowError) -> Value {
    json!({"line": e.line, "column": e.column, "reason": e.reason})
}

fn base(system: &str, file: &FileInfo, via: &str) -> Value {
    json!({
        "system": system,
        "file": file.name,
        "sha256": file.sha256,
        "bytes": file.bytes,
        "via": via,
    })
}

/// The detail of an import that stored its logins.
pub fn imported_detail(system: &str, file: &FileInfo, via: &str, done: &Imported) -> Value {
    let mut d = base(system, file, via);
    d["rows"] = json!(done.imported + done.already + done.refused.len() as u64);
    d["stored"] = json!(done.imported);
    d["already"] = json!(done.already);
    d["refused"] = json!(done.refused.len());
    d["refused_rows"] = json!(done
        .refused
        .iter()
        .take(ERRORS_KEPT)
        .map(error_json)
        .collect::<Vec<_>>());
    d["seconds"] = json!((done.seconds * 1000.0).round() / 1000.0);
    d
}

/// The detail of a file refused for its bad rows (nothing stored).
pub fn rejected_detail(system: &str, file: &FileInfo, via: &str, checked: &Checked) -> Value {
    let mut d = base(system, file, via);
    d["rows"] = json!(checked.rows);
    d["bad_rows"] = json!(checked.bad_rows);
    d["errors"] = json!(checked
        .errors
        .iter()
        .take(ERRORS_KEPT)
        .map(error_json)
        .collect::<Vec<_>>());
    d["stored"] = json!(0);
    d
}

/// The detail of an import that stopped part way (the writer failed); what was stored
/// before stays, and importing again stores nothing twice.
pub fn failed_detail(system: &str, file: &FileInfo, via: &str, errors: &[RowError]) -> Value {
    let mut d = base(system, file, via);
    d["errors"] = json!(errors
        .iter()
        .take(ERRORS_KEPT)
        .map(error_json)
        .collect::<Vec<_>>());
    d
}

/// Appends the record as an audit line (chained); returns its `seq`, the import's id.
pub async fn record(
    store: &Store,
    now: Timestamp,
    who: &Importer,
    action: &str,
    system: &str,
    detail: Value,
) -> Result<i64, StoreError> {
    store
        .append_audit_seq(
            &crate::store::auth::NewAudit {
                actor: &who.actor,
                actor_name: &who.name,
                action,
                target: system,
                detail,
                address: &who.address,
            },
            now,
        )
        .await
}

/// An import's record as the API answers it: the detail, with `id`, `at`, `actor`,
/// `by` and `status` (`imported`, `rejected`, `failed`).
pub fn entry_json(a: &AuditEntry) -> Value {
    let mut v: Value = serde_json::from_str(&a.detail).unwrap_or_else(|_| json!({}));
    if !v.is_object() {
        v = json!({});
    }
    v["id"] = json!(a.seq);
    v["at"] = json!(a.at.to_rfc3339());
    v["actor"] = json!(a.actor);
    v["by"] = json!(a.actor_name);
    v["status"] = json!(match a.action.as_str() {
        IMPORTED => "imported",
        REJECTED => "rejected",
        _ => "failed",
    });
    if v.get("system").is_none() {
        v["system"] = json!(a.target);
    }
    v
}

/// The newest imports' records, at most `limit`.
pub async fn list(store: &Store, limit: i64) -> Result<Vec<Value>, StoreError> {
    let lines = store.audit(limit, None, Some(PREFIX)).await?;
    Ok(lines.iter().map(entry_json).collect())
}

/// One import's record by its id.
pub async fn get(store: &Store, id: i64) -> Result<Option<Value>, StoreError> {
    let lines = store
        .audit(1, Some(id.saturating_add(1)), Some(PREFIX))
        .await?;
    Ok(lines.iter().find(|a| a.seq == id).map(entry_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_directory() {
        assert_eq!(file_name("C:\\logs\\ehr.csv"), "ehr.csv");
        assert_eq!(file_name("/tmp/x/lab 2026-12.csv"), "lab 2026-12.csv");
        assert_eq!(file_name(""), "upload.csv");
        assert_eq!(file_name("a\u{7}b.csv"), "ab.csv");
    }
}
