//! The checklist items and guideline sections the inspection report answers, and what
//! answers each (issue 12). The mapping is data — `server/data/checklist.toml`, embedded
//! here — so its wording and sources are reviewed as text, not as code; [`Checklist::load`]
//! reads and checks it, and a test checks the embedded file.
//!
//! An item is answered either by evidence monban computes ([`Evidence`]) or by a manual
//! answer an officer records (`manual = true`): the report shows the two apart, never a
//! manual answer as measured.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The embedded mapping.
pub const CHECKLIST_TOML: &str = include_str!("../data/checklist.toml");

/// What monban computes that answers an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// The per-system compliance rollup (CONTRACT §8) against each system's plan.
    TwoFactor,
    /// Login events recorded with their verdicts (CONTRACT §7).
    AccessLog,
    /// The maintenance inventory, checklist 2② (CONTRACT §10).
    RemoteMaintenance,
    /// The accounts review (CONTRACT §12), where the build has it.
    Accounts,
}

impl Evidence {
    pub const ALL: [Evidence; 4] = [
        Evidence::TwoFactor,
        Evidence::AccessLog,
        Evidence::RemoteMaintenance,
        Evidence::Accounts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::TwoFactor => "two_factor",
            Evidence::AccessLog => "access_log",
            Evidence::RemoteMaintenance => "remote_maintenance",
            Evidence::Accounts => "accounts",
        }
    }
}

impl FromStr for Evidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Evidence, String> {
        Evidence::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown evidence {s:?}; expected one of: two_factor, access_log, remote_maintenance, accounts"
                )
            })
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document items come from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub publisher: String,
    pub edition: String,
    #[serde(default)]
    pub part: String,
}

impl Source {
    /// `医療機関におけるサイバーセキュリティ対策チェックリスト（厚生労働省、令和6年度版）`.
    pub fn citation(&self) -> String {
        format!("{}（{}、{}）", self.title, self.publisher, self.edition)
    }
}

/// How an item is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Evidence(Evidence),
    Manual,
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub source: String,
    /// The item's number in its source; empty where it was not confirmed.
    pub number: String,
    pub wording: String,
    /// `wording` is the source's own words (otherwise a paraphrase).
    pub quoted: bool,
    pub guideline: Vec<String>,
    pub answer: Answer,
}

/// The mapping, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    pub sources: Vec<Source>,
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: String,
    source: String,
    #[serde(default)]
    number: String,
    wording: String,
    quoted: bool,
    #[serde(default)]
    guideline: Vec<String>,
    evidence: Option<String>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklist {
    sources: Vec<Source>,
    items: Vec<RawItem>,
}

impl Checklist {
    /// The embedded mapping. It is checked by a test, so this only fails on a build whose
    /// file was changed without running the tests.
    pub fn embedded() -> Result<Checklist, Vec<String>> {
        Checklist::load(CHECKLIST_TOML)
    }

    /// Reads and checks a mapping: every problem, each naming its item.
    pub fn load(text: &str) -> Result<Checklist, Vec<String>> {
        let raw: RawChecklist = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut errors = Vec::new();
        let mut source_ids = BTreeSet::new();
        for s in &raw.sources {
            if s.id.trim().is_empty() || s.title.trim().is_empty() || s.edition.trim().is_empty() {
                errors.push(format!(
                    "source {:?}: id, title and edition are required",
                    s.id
                ));
            }
            if !source_ids.insert(s.id.clone()) {
                errors.push(format!("source {:?} is listed twice", s.id));
            }
        }
        let mut ids = BTreeSet::new();
        let mut items = Vec::new();
        for r in raw.items {
            let name = format!("item {:?}", r.id);
            if r.id.trim().is_empty() {
                errors.push("an item has no id".to_string());
            }
            if !ids.insert(r.id.clone()) {
                errors.push(format!("{name} is listed twice"));
            }
            if r.wording.trim().is_empty() {
                errors.push(format!("{name} has no wording"));
            }
            if !source_ids.contains(&r.source) {
                errors.push(format!("{name} names no known source ({:?})", r.source));
            }
            let answer = match (r.evidence.as_deref(), r.manual) {
                (Some(_), true) => {
                    errors.push(format!("{name} has both evidence and manual = true"));
                    None
                }
                (None, false) => {
                    errors.push(format!("{name} has neither evidence nor manual = true"));
                    None
                }
                (None, true) => Some(Answer::Manual),
                (Some(e), false) => match e.parse() {
                    Ok(e) => Some(Answer::Evidence(e)),
                    Err(m) => {
                        errors.push(format!("{name}: {m}"));
                        None
                    }
                },
            };
            if let Some(answer) = answer {
                items.push(Item {
                    id: r.id,
                    source: r.source,
                    number: r.number.trim().to_string(),
                    wording: r.wording.trim().to_string(),
                    quoted: r.quoted,
                    guideline: r.guideline,
                    answer,
                });
            }
        }
        if errors.is_empty() {
            Ok(Checklist {
                sources: raw.sources,
                items,
            })
        } else {
            Err(errors)
        }
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The embedded file: every item has wording and a known source, and either evidence
    /// monban computes or a manual answer; the items the issue names are answered by
    /// evidence.
    #[test]
    fn the_embedded_mapping_is_complete() {
        let c = Checklist::embedded().unwrap();
        assert!(!c.items.is_empty());
        for i in &c.items {
            assert!(!i.wording.is_empty(), "{}", i.id);
            assert!(c.source(&i.source).is_some(), "{}", i.id);
        }
        for (id, evidence) in [
            ("two-factor", Evidence::TwoFactor),
            ("access-log", Evidence::AccessLog),
            ("remote-maintenance", Evidence::RemoteMaintenance),
            ("unneeded-accounts", Evidence::Accounts),
        ] {
            assert_eq!(
                c.item(id).unwrap().answer,
                Answer::Evidence(evidence),
                "{id}"
            );
        }
        assert_eq!(c.item("admin-privileges").unwrap().answer, Answer::Manual);
        assert_eq!(c.item("remote-maintenance").unwrap().number, "2②");
        assert_eq!(
            c.source("checklist-r6").unwrap().citation(),
            "医療機関におけるサイバーセキュリティ対策チェックリスト（厚生労働省、令和6年度版）"
        );
    }

    #[test]
    fn mistakes_are_named() {
        let text = r#"
[[sources]]
id = "s"
title = "T"
publisher = "P"
edition = "E"

[[items]]
id = "a"
source = "s"
wording = "w"
quoted = true
manual = true
evidence = "two_factor"

[[items]]
id = "b"
source = "nowhere"
wording = ""
quoted = false

[[items]]
id = "a"
source = "s"
wording = "w"
quoted = true
evidence = "weather"
"#;
        let errors = Checklist::load(text).unwrap_err();
        let want = [
            "item \"a\" has both evidence and manual = true",
            "item \"b\" has no wording",
            "item \"b\" names no known source (\"nowhere\")",
            "item \"b\" has neither evidence nor manual = true",
            "item \"a\" is listed twice",
            "item \"a\": unknown evidence \"weather\"",
        ];
        for w in want {
            assert!(errors.iter().any(|e| e.starts_with(w)), "{w} in {errors:?}");
        }
        assert!(Checklist::load("items = 3").is_err());
    }
}
