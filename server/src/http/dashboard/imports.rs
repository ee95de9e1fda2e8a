//! The data of the access-log import page (`monban_web::pages::imports`): the
//! `[[imports]]` mappings as configured, and the record of imports
//! (`crate::import::record`, audit lines read back).

use super::{unavailable, Source};
use crate::config::imports::{
    Column, Encoding, FactorsField, ImportSpec, OutcomeField, TextField, TimeFormat,
};
use crate::import::record;
use monban_web::api::SourceError;
use monban_web::pages::imports::{ImportRow, ImportsSource, ImportsView, MappingRow};
use serde_json::Value;

/// How many past imports the page lists.
const HISTORY: i64 = 50;

fn column(c: &Column) -> String {
    match c {
        Column::Name(n) => n.clone(),
        Column::Position(p) => format!("#{p}"),
    }
}

fn text(f: &TextField) -> String {
    match f {
        TextField::Const(c) => format!("= \"{c}\""),
        TextField::Column(c) => column(c),
    }
}

fn mapping(spec: &ImportSpec, name: String) -> MappingRow {
    let mut fields = vec![
        ("time".to_string(), column(&spec.time)),
        ("account".to_string(), text(&spec.account)),
        ("terminal".to_string(), text(&spec.terminal)),
    ];
    fields.push((
        "outcome".into(),
        match &spec.outcome {
            OutcomeField::Const(o) => format!("= \"{}\"", o.as_str()),
            OutcomeField::Column { column: c, map } => {
                let words: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}→{}", v.as_str()))
                    .collect();
                if words.is_empty() {
                    column(c)
                } else {
                    format!("{} ({})", column(c), words.join(", "))
                }
            }
        },
    ));
    fields.push((
        "factors".into(),
        match &spec.factors {
            FactorsField::Const(f) => format!(
                "= [{}]",
                f.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
            ),
            FactorsField::Column {
                column: c,
                separator,
                map,
            } => {
                let words: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{k}→{}", v.as_str()))
                    .collect();
                format!(
                    "{} ({separator:?}{}{})",
                    column(c),
                    if words.is_empty() { "" } else { "; " },
                    words.join(", ")
                )
            }
        },
    ));
    fields.push((
        "event_id".into(),
        spec.event_id
            .as_ref()
            .map(column)
            .unwrap_or_else(|| "(SHA-256)".into()),
    ));
    MappingRow {
        system: spec.system.to_string(),
        name,
        encoding: match spec.encoding {
            Encoding::Utf8 => "UTF-8".into(),
            Encoding::ShiftJis => "Shift_JIS".into(),
        },
        header: spec.header,
        fields,
        time_format: match &spec.time_format {
            TimeFormat::Rfc3339 => format!("RFC 3339 ({})", spec.offset),
            TimeFormat::Pattern(p) => format!("{p} ({})", spec.offset),
        },
    }
}

fn row(v: &Value) -> ImportRow {
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    ImportRow {
        id: v["id"].as_i64().unwrap_or(0),
        at: s("at"),
        by: s("by"),
        status: s("status"),
        system: s("system"),
        file: s("file"),
        sha256: s("sha256"),
        bytes: n("bytes"),
        via: s("via"),
        rows: n("rows"),
        stored: n("stored"),
        already: n("already"),
        refused: n("refused"),
        bad_rows: n("bad_rows"),
        errors: v["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (
                            e["line"].as_u64().unwrap_or(0),
                            e["column"].as_str().map(str::to_string),
                            e["reason"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[async_trait::async_trait]
impl ImportsSource for Source {
    async fn imports(&self, result: Option<i64>) -> Result<ImportsView, SourceError> {
        let inv = self.inventory();
        let mappings = self
            .imports
            .iter()
            .map(|spec| {
                let name = inv
                    .systems()
                    .iter()
                    .find(|s| s.id == spec.system)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| spec.system.to_string());
                mapping(spec, name)
            })
            .collect();
        let imports = record::list(&self.store, HISTORY)
            .await
            .map_err(unavailable)?
            .iter()
            .map(row)
            .collect();
        let result = match result {
            Some(id) => record::get(&self.store, id)
                .await
                .map_err(unavailable)?
                .as_ref()
                .map(row),
            None => None,
        };
        Ok(ImportsView {
            mappings,
            imports,
            result,
            offset: self.site.offset.seconds(),
            max_bytes: self.import_max_bytes,
            can_upload: false,
            csrf: String::new(),
        })
    }
}
