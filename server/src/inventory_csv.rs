//! The inventory as CSV (issue 4): one table per file, export, and an import checked
//! into a preview. The routes that serve them are `crate::http::inventory`.
//!
//! # Files
//! `GET /inventory/{table}.csv` for `rooms`, `doors`, `terminals`, `systems`, `people`:
//! UTF-8 with a BOM (so spreadsheet programs read Japanese names), RFC 4180 (the `csv`
//! crate), a header row. Columns:
//!
//! | table | columns |
//! |---|---|
//! | rooms | `id,name,controlled,max_presence,alarm_hold` (`true`/`false`, durations like `12h`) |
//! | doors | `id,room,name` |
//! | terminals | `id,room,name` |
//! | systems | `id,name,category,native_mfa,renewal` |
//! | people | `id,name,credentials,accounts` (`card:04A1;biometric:P1`, `ehr=nurse01;vpn=nurse01`) |
//!
//! # Import
//! An imported file is the whole table: rows not in it are removed. `POST
//! /inventory/import` (form: `table`, `csv`, `lang`) keeps the text in
//! `inventory_pending` and redirects to `/inventory?preview={id}`, where the page shows
//! the rows that would be added, changed and removed and every error with its line,
//! column and reason (checked field by field and then with `Inventory::new`'s
//! cross-references). `POST /inventory/pending/{id}/apply` applies it — only when it has no
//! error — through `Ingest::replace_inventory`, recording every row change;
//! `…/discard` drops it. The forms of the page (`POST /inventory/row/{table}` to add or
//! change a row, `POST /inventory/remove/{table}` to remove one) go through the same
//! preview: they build the table's CSV with that one row changed.
//!
//! Who made a change is `dashboard` and the remote address when the server knows it
//! (until sign-in exists, issue 5).

use crate::store::inventory::InventoryChange;
use monban_core::{
    Credential, Door, Inventory, Person, Room, RoomId, Span, System, SystemCategory, SystemId,
    Terminal,
};
use monban_core::{DoorId, PersonId, TerminalId};
use monban_web::pages::inventory::{ImportPreview, RowDiff, RowError};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// The tables, in page order.
pub const TABLES: [&str; 5] = ["rooms", "doors", "terminals", "systems", "people"];

/// The columns of a table's CSV, `id` first.
pub fn columns(table: &str) -> Option<&'static [&'static str]> {
    Some(match table {
        "rooms" => &["id", "name", "controlled", "max_presence", "alarm_hold"],
        "doors" => &["id", "room", "name"],
        "terminals" => &["id", "room", "name"],
        "systems" => &["id", "name", "category", "native_mfa", "renewal"],
        "people" => &["id", "name", "credentials", "accounts"],
        _ => return None,
    })
}

/// The table's rows as CSV fields, in inventory order.
pub fn rows(inv: &Inventory, table: &str) -> Vec<Vec<String>> {
    match table {
        "rooms" => inv
            .rooms()
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.name.clone(),
                    r.controlled.to_string(),
                    r.max_presence.to_string(),
                    r.alarm_hold.to_string(),
                ]
            })
            .collect(),
        "doors" => inv
            .doors()
            .iter()
            .map(|d| vec![d.id.to_string(), d.room.to_string(), d.name.clone()])
            .collect(),
        "terminals" => inv
            .terminals()
            .iter()
            .map(|t| vec![t.id.to_string(), t.room.to_string(), t.name.clone()])
            .collect(),
        "systems" => inv
            .systems()
            .iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.name.clone(),
                    s.category.as_str().to_string(),
                    s.native_mfa.to_string(),
                    s.renewal.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        "people" => inv
            .people()
            .iter()
            .map(|p| {
                vec![
                    p.id.to_string(),
                    p.name.clone(),
                    p.credentials
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(";"),
                    p.accounts
                        .iter()
                        .map(|(s, a)| format!("{s}={a}"))
                        .collect::<Vec<_>>()
                        .join(";"),
                ]
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The table as a CSV file: BOM, header, rows.
pub fn export(inv: &Inventory, table: &str) -> Result<String, String> {
    let cols = columns(table).ok_or_else(|| format!("no table {table:?}"))?;
    write_csv(cols, &rows(inv, table))
}

/// A table's CSV file from its columns and rows: BOM, header, rows.
pub fn write_csv(cols: &[&str], rows: &[Vec<String>]) -> Result<String, String> {
    let mut w = crate::csv_out::CsvFile::new();
    w.row(cols).map_err(|e| e.to_string())?;
    for r in rows {
        w.row(r).map_err(|e| e.to_string())?;
    }
    let bytes = w.finish().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// What an imported table would do.
pub struct Parsed {
    /// The whole new inventory, when the file has no error.
    pub inventory: Option<Inventory>,
    pub preview: ImportPreview,
    pub changes: Vec<InventoryChange>,
}

fn row_error(line: u64, column: &str, reason: impl Into<String>) -> RowError {
    RowError {
        line,
        column: column.to_string(),
        reason: reason.into(),
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" | "" => Ok(false),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// The column an `Inventory::new` message is about.
fn column_of(message: &str) -> &'static str {
    if message.contains("used twice") {
        "id"
    } else if message.contains("names room") {
        "room"
    } else if message.contains("credential") {
        "credentials"
    } else if message.contains("account") {
        "accounts"
    } else {
        "id"
    }
}

/// Parses `text` as the new content of `table` against the current inventory `inv`.
pub fn parse_import(inv: &Inventory, table: &str, text: &str, id: &str) -> Parsed {
    let mut errors = Vec::new();
    let cols = columns(table).unwrap_or(&[]);
    if cols.is_empty() {
        errors.push(row_error(0, "", format!("no table {table:?}")));
    }
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    // The csv crate counts a CRLF record's line late (the record after a CRLF starts on
    // the previous line); line numbers are counted on LF alone.
    let text = text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records: Vec<(u64, csv::StringRecord)> = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                // A cell the hub's own export neutralised (`'=…`) reads as it was.
                let r: csv::StringRecord = r.iter().map(crate::csv_out::restore).collect();
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                records.push((line, r));
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(row_error(line, "", format!("not valid CSV: {e}")));
            }
        }
    }
    // Header: every column present, none unknown.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut data = records.as_slice();
    match records.first() {
        None => errors.push(row_error(
            1,
            "",
            "the file is empty: a header row is needed",
        )),
        Some((line, header)) => {
            data = &records[1..];
            for (i, h) in header.iter().enumerate() {
                let h = h.trim();
                match cols.iter().find(|c| **c == h) {
                    Some(c) => {
                        if index.insert(c, i).is_some() {
                            errors.push(row_error(*line, h, "column appears twice"));
                        }
                    }
                    None => errors.push(row_error(
                        *line,
                        h,
                        format!("unknown column; the columns are {}", cols.join(",")),
                    )),
                }
            }
            for c in cols {
                if !index.contains_key(c) {
                    errors.push(row_error(*line, c, "column missing"));
                }
            }
        }
    }
    let header_ok = errors.is_empty();
    // Rows as normalised fields in column order, with their lines.
    let mut lines = Vec::new();
    let mut raw: Vec<Vec<String>> = Vec::new();
    if header_ok {
        for (line, r) in data {
            let fields: Vec<String> = cols
                .iter()
                .map(|c| {
                    index
                        .get(c)
                        .and_then(|i| r.get(*i))
                        .unwrap_or("")
                        .trim()
                        .to_string()
                })
                .collect();
            lines.push(*line);
            raw.push(fields);
        }
    }
    let mut rooms = inv.rooms().to_vec();
    let mut doors = inv.doors().to_vec();
    let mut terminals = inv.terminals().to_vec();
    let mut systems = inv.systems().to_vec();
    let mut people = inv.people().to_vec();
    let field_errors_before = errors.len();
    if header_ok {
        let mut e =
            |line: u64, col: &str, reason: String| errors.push(row_error(line, col, reason));
        match table {
            "rooms" => {
                rooms.clear();
                for (f, line) in raw.iter().zip(&lines) {
                    let id =
                        RoomId::parse(f[0].as_str()).map_err(|x| e(*line, "id", x.to_string()));
                    let controlled = parse_bool(&f[2]).map_err(|x| e(*line, "controlled", x));
                    let span = |s: &str, d: Span| {
                        if s.is_empty() {
                            Ok(d)
                        } else {
                            Span::from_str(s)
                        }
                    };
                    let max = span(&f[3], Room::DEFAULT_MAX_PRESENCE)
                        .map_err(|x| e(*line, "max_presence", x));
                    let hold = span(&f[4], Room::DEFAULT_ALARM_HOLD)
                        .map_err(|x| e(*line, "alarm_hold", x));
                    if let (Ok(id), Ok(controlled), Ok(max_presence), Ok(alarm_hold)) =
                        (id, controlled, max, hold)
                    {
                        rooms.push(Room {
                            id,
                            name: f[1].clone(),
                            controlled,
                            max_presence,
                            alarm_hold,
                        });
                    }
                }
            }
            "doors" | "terminals" => {
                doors.retain(|_| table != "doors");
                terminals.retain(|_| table != "terminals");
                for (f, line) in raw.iter().zip(&lines) {
                    let room =
                        RoomId::parse(f[1].as_str()).map_err(|x| e(*line, "room", x.to_string()));
                    if table == "doors" {
                        let id =
                            DoorId::parse(f[0].as_str()).map_err(|x| e(*line, "id", x.to_string()));
                        if let (Ok(id), Ok(room)) = (id, room) {
                            doors.push(Door {
                                id,
                                room,
                                name: f[2].clone(),
                            });
                        }
                    } else {
                        let id = TerminalId::parse(f[0].as_str())
                            .map_err(|x| e(*line, "id", x.to_string()));
                        if let (Ok(id), Ok(room)) = (id, room) {
                            terminals.push(Terminal {
                                id,
                                room,
                                name: f[2].clone(),
                            });
                        }
                    }
                }
            }
            "systems" => {
                systems.clear();
                for (f, line) in raw.iter().zip(&lines) {
                    let id =
                        SystemId::parse(f[0].as_str()).map_err(|x| e(*line, "id", x.to_string()));
                    let category =
                        SystemCategory::from_str(&f[2]).map_err(|x| e(*line, "category", x));
                    let native = parse_bool(&f[3]).map_err(|x| e(*line, "native_mfa", x));
                    let renewal = if f[4].is_empty() {
                        Ok(None)
                    } else {
                        monban_core::inventory::parse_renewal(&f[4])
                            .map(Some)
                            .map_err(|x| e(*line, "renewal", x))
                    };
                    if let (Ok(id), Ok(category), Ok(native_mfa), Ok(renewal)) =
                        (id, category, native, renewal)
                    {
                        systems.push(System {
                            id,
                            name: f[1].clone(),
                            category,
                            native_mfa,
                            renewal,
                        });
                    }
                }
            }
            "people" => {
                people.clear();
                for (f, line) in raw.iter().zip(&lines) {
                    let id =
                        PersonId::parse(f[0].as_str()).map_err(|x| e(*line, "id", x.to_string()));
                    let mut ok = true;
                    let mut credentials = Vec::new();
                    for c in f[2].split(';').map(str::trim).filter(|c| !c.is_empty()) {
                        match Credential::from_str(c) {
                            Ok(c) => credentials.push(c),
                            Err(x) => {
                                ok = false;
                                e(*line, "credentials", x);
                            }
                        }
                    }
                    let mut accounts = BTreeMap::new();
                    for a in f[3].split(';').map(str::trim).filter(|a| !a.is_empty()) {
                        let parsed = a
                            .split_once('=')
                            .ok_or_else(|| format!("account {a:?} must be written system=account"))
                            .and_then(|(s, acc)| {
                                SystemId::parse(s.trim())
                                    .map(|s| (s, acc.trim().to_string()))
                                    .map_err(|x| x.to_string())
                            });
                        match parsed {
                            Ok((s, acc)) => {
                                accounts.insert(s, acc);
                            }
                            Err(x) => {
                                ok = false;
                                e(*line, "accounts", x);
                            }
                        }
                    }
                    if let (Ok(id), true) = (id, ok) {
                        people.push(Person {
                            id,
                            name: f[1].clone(),
                            credentials,
                            accounts,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    let mut inventory = None;
    if errors.len() == field_errors_before && header_ok {
        match Inventory::new(inv.site.clone(), rooms, doors, terminals, systems, people) {
            Ok(new) => inventory = Some(new),
            Err(list) => {
                for x in list {
                    if x.table == table {
                        let line = lines.get(x.index).copied().unwrap_or(0);
                        errors.push(row_error(line, column_of(&x.message), x.message));
                    } else {
                        // Another table refers to a row this file removes or changes.
                        errors.push(row_error(0, x.table, x.to_string()));
                    }
                }
            }
        }
    }
    // The diff, on normalised rows when the file is valid, else as written.
    let new_rows = match &inventory {
        Some(new) => rows(new, table),
        None => raw,
    };
    let old_rows = rows(inv, table);
    let old: BTreeMap<&str, &Vec<String>> = old_rows.iter().map(|r| (r[0].as_str(), r)).collect();
    let new_keys: BTreeMap<&str, &Vec<String>> =
        new_rows.iter().map(|r| (r[0].as_str(), r)).collect();
    let json = |r: &Vec<String>| {
        let m: serde_json::Map<String, serde_json::Value> = cols
            .iter()
            .zip(r)
            .map(|(c, v)| (c.to_string(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(m).to_string()
    };
    let mut preview = ImportPreview {
        id: id.to_string(),
        table: table.to_string(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        unchanged: 0,
        errors: Vec::new(),
    };
    let mut changes = Vec::new();
    for r in &new_rows {
        let key = r[0].clone();
        match old.get(key.as_str()) {
            None => {
                changes.push(InventoryChange {
                    action: "add".into(),
                    table: table.into(),
                    key: key.clone(),
                    before: None,
                    after: Some(json(r)),
                });
                preview.added.push(RowDiff {
                    key,
                    before: Vec::new(),
                    after: r.clone(),
                });
            }
            Some(before) if *before != r => {
                changes.push(InventoryChange {
                    action: "change".into(),
                    table: table.into(),
                    key: key.clone(),
                    before: Some(json(before)),
                    after: Some(json(r)),
                });
                preview.changed.push(RowDiff {
                    key,
                    before: (*before).clone(),
                    after: r.clone(),
                });
            }
            Some(_) => preview.unchanged += 1,
        }
    }
    for r in &old_rows {
        if !new_keys.contains_key(r[0].as_str()) {
            changes.push(InventoryChange {
                action: "remove".into(),
                table: table.into(),
                key: r[0].clone(),
                before: Some(json(r)),
                after: None,
            });
            preview.removed.push(RowDiff {
                key: r[0].clone(),
                before: r.clone(),
                after: Vec::new(),
            });
        }
    }
    errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
    preview.errors = errors;
    if !preview.errors.is_empty() {
        inventory = None;
    }
    Parsed {
        inventory,
        preview,
        changes,
    }
}

// ---- routes ---------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_count_from_the_header() {
        for text in ["a,b\n1,2\n3,4\n", "a,b\n\"1\",2\n3,4"] {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes());
            let lines: Vec<u64> = r
                .records()
                .map(|x| x.unwrap().position().unwrap().line())
                .collect();
            assert_eq!(lines, [1, 2, 3], "{text:?}");
        }
    }

    #[test]
    fn errors_name_line_column_and_reason() {
        let inv = Inventory::new(
            None,
            vec![Room {
                id: RoomId::parse("ward3").unwrap(),
                name: "病棟".into(),
                controlled: true,
                max_presence: Room::DEFAULT_MAX_PRESENCE,
                alarm_hold: Room::DEFAULT_ALARM_HOLD,
            }],
            vec![],
            vec![],
            vec![],
            vec![],
        )
        .unwrap();
        let p = parse_import(
            &inv,
            "doors",
            "\u{FEFF}id,room,name\r\nd1,ward3,a\r\nd2,nowhere,b\r\n",
            "x",
        );
        assert!(p.inventory.is_none());
        assert_eq!(p.preview.errors.len(), 1, "{:?}", p.preview.errors);
        let e = &p.preview.errors[0];
        assert_eq!((e.line, e.column.as_str()), (3, "room"), "{e:?}");
        assert!(e.reason.contains("nowhere"));
        let p = parse_import(&inv, "rooms", "id,name,controlled\nward3,x,maybe\n", "x");
        let cols: Vec<_> = p
            .preview
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_str()))
            .collect();
        assert_eq!(cols, [(1, "alarm_hold"), (1, "max_presence")]);
        let p = parse_import(&inv, "rooms", &export(&inv, "rooms").unwrap(), "x");
        assert!(p.inventory.is_some() && p.changes.is_empty());
    }
}
