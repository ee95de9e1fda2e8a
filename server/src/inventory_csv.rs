//! The inventory as CSV (issue 4): one table per file, export, and an import checked
//! into a preview. The routes that serve them are `crate::http::inventory`.
//!
//! # Files
//! `GET /inventory/{table}.csv` for `rooms`, `doors`, `terminals`, `systems`, `vendors`,
//! `people`:
//! UTF-8 with a BOM (so spreadsheet programs read Japanese names), RFC 4180 (the `csv`
//! crate), a header row. The columns are `monban_core::Table::columns`; every field is
//! read and checked by `monban_core::InventoryRows::parse`, as for `monban.toml`:
//!
//! | table | columns |
//! |---|---|
//! | rooms | `id,name,controlled,max_presence,alarm_hold` (`true`/`false`, durations like `12h`) |
//! | doors | `id,room,name,heartbeat_timeout` (`heartbeat_timeout` may be left out: the doors keep theirs) |
//! | terminals | `id,room,name` |
//! | systems | `id,name,category,native_mfa,renewal,plan,by` (`plan`: `native`, `sso`, `step_up`, `combined_measures`; `by`: `2027-04`; both may be left out: the systems keep theirs) |
//! | vendors | `id,name,maintains` (`ehr:remote:2026-10-01:保守用VPN;pacs:onsite::`: `system:remote\|onsite:confirmed:route`) |
//! | people | `id,name,credentials,accounts,vendor,until` (`card:04A1;biometric:P1`, `ehr=nurse01;vpn=nurse01`, a vendor id, `2027-03-31`; `vendor` and `until` may be left out: the people keep theirs) |
//!
//! # Import
//! An imported file is the whole table: rows not in it are removed. `POST
//! /inventory/import` (form: `table`, `csv`, `lang`) keeps the text in
//! `inventory_pending` and redirects to `/inventory?preview={id}`, where the page shows
//! the rows that would be added, changed and removed and every error with its line,
//! column and reason (from core's `RowError {table, index, field, kind}`: field by field,
//! then the cross-references). A door's `feed` is not a column: it follows the
//! `[[modbus]]` wiring of `monban.toml`. `POST /inventory/pending/{id}/apply` applies it — only when it has no
//! error — through `Ingest::replace_inventory`, recording every row change;
//! `…/discard` drops it. The forms of the page (`POST /inventory/row/{table}` to add or
//! change a row, `POST /inventory/remove/{table}` to remove one) go through the same
//! preview: they build the table's CSV with that one row changed.
//!
//! Who made a change is `dashboard` and the remote address when the server knows it
//! (until sign-in exists, issue 5).

use crate::store::inventory::InventoryChange;
use monban_core::inventory::rows::{
    DoorRow, PersonRow, RoomRow, SystemRow, TerminalRow, VendorRow,
};
use monban_core::{Inventory, InventoryRows, Table};
use monban_web::pages::inventory::{ImportPreview, RowDiff, RowError};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// The tables, in page order.
pub const TABLES: [&str; 6] = [
    "rooms",
    "doors",
    "terminals",
    "systems",
    "vendors",
    "people",
];

/// The columns of a table's CSV, `id` first ([`Table::columns`]).
pub fn columns(table: &str) -> Option<&'static [&'static str]> {
    Table::from_str(table).ok().map(Table::columns)
}

/// The table's rows as CSV fields, in inventory order.
pub fn rows(inv: &Inventory, table: &str) -> Vec<Vec<String>> {
    match Table::from_str(table) {
        Ok(t) => InventoryRows::of(inv).fields(t),
        Err(_) => Vec::new(),
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
    // `#` lines are comments: an export ends with the evidence head it was made from
    // (no id starts with `#`).
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
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
            let optional = Table::from_str(table).map_or(&[][..], Table::optional_columns);
            for c in cols {
                if !index.contains_key(c) && !optional.contains(c) {
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
    // The inventory as rows, with this table's rows replaced by the file's; core reads
    // and checks them all.
    let mut all = InventoryRows::of(inv);
    let mut inventory = None;
    if let (true, Ok(t)) = (header_ok, Table::from_str(table)) {
        let field = |f: &Vec<String>, c: &str| {
            cols.iter()
                .position(|x| *x == c)
                .and_then(|i| f.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let mut field_errors = Vec::new();
        match t {
            Table::Rooms => {
                all.rooms = raw
                    .iter()
                    .map(|f| RoomRow {
                        id: field(f, "id"),
                        name: field(f, "name"),
                        controlled: field(f, "controlled"),
                        max_presence: field(f, "max_presence"),
                        alarm_hold: field(f, "alarm_hold"),
                    })
                    .collect()
            }
            Table::Doors => {
                // The feed follows monban.toml's wiring, and a file without the
                // heartbeat_timeout column keeps each door's timeout.
                let before: HashMap<String, DoorRow> =
                    all.doors.drain(..).map(|d| (d.id.clone(), d)).collect();
                let has_timeout = index.contains_key("heartbeat_timeout");
                all.doors = raw
                    .iter()
                    .map(|f| {
                        let id = field(f, "id");
                        let old = before.get(&id);
                        DoorRow {
                            room: field(f, "room"),
                            name: field(f, "name"),
                            heartbeat_timeout: if has_timeout {
                                field(f, "heartbeat_timeout")
                            } else {
                                old.map(|d| d.heartbeat_timeout.clone()).unwrap_or_default()
                            },
                            feed: old.map(|d| d.feed.clone()).unwrap_or_default(),
                            id,
                        }
                    })
                    .collect()
            }
            Table::Terminals => {
                all.terminals = raw
                    .iter()
                    .map(|f| TerminalRow {
                        id: field(f, "id"),
                        room: field(f, "room"),
                        name: field(f, "name"),
                    })
                    .collect()
            }
            Table::Systems => {
                // A file without the plan or by column keeps each system's value.
                let before: HashMap<String, SystemRow> =
                    all.systems.drain(..).map(|s| (s.id.clone(), s)).collect();
                let kept = |id: &str, column: &str, old: fn(&SystemRow) -> &String, f| {
                    if index.contains_key(column) {
                        field(f, column)
                    } else {
                        before.get(id).map(|s| old(s).clone()).unwrap_or_default()
                    }
                };
                all.systems = raw
                    .iter()
                    .map(|f| {
                        let id = field(f, "id");
                        SystemRow {
                            name: field(f, "name"),
                            category: field(f, "category"),
                            native_mfa: field(f, "native_mfa"),
                            renewal: field(f, "renewal"),
                            plan: kept(&id, "plan", |s| &s.plan, f),
                            by: kept(&id, "by", |s| &s.by, f),
                            id,
                        }
                    })
                    .collect()
            }
            Table::Vendors => {
                all.vendors = Vec::new();
                for (f, line) in raw.iter().zip(&lines) {
                    let maintains = VendorRow::split_maintains(&field(f, "maintains"))
                        .unwrap_or_else(|reason| {
                            field_errors.push(row_error(*line, "maintains", reason));
                            Vec::new()
                        });
                    all.vendors.push(VendorRow {
                        id: field(f, "id"),
                        name: field(f, "name"),
                        maintains,
                    });
                }
            }
            Table::People => {
                // A file without the vendor or until column keeps each person's value.
                let before: HashMap<String, PersonRow> =
                    all.people.drain(..).map(|p| (p.id.clone(), p)).collect();
                let kept = |id: &str, column: &str, old: fn(&PersonRow) -> &String, f| {
                    if index.contains_key(column) {
                        field(f, column)
                    } else {
                        before.get(id).map(|p| old(p).clone()).unwrap_or_default()
                    }
                };
                for (f, line) in raw.iter().zip(&lines) {
                    let accounts =
                        PersonRow::split_accounts(&field(f, "accounts")).unwrap_or_else(|reason| {
                            field_errors.push(row_error(*line, "accounts", reason));
                            Vec::new()
                        });
                    let id = field(f, "id");
                    all.people.push(PersonRow {
                        name: field(f, "name"),
                        credentials: PersonRow::split_credentials(&field(f, "credentials")),
                        accounts,
                        vendor: kept(&id, "vendor", |p| &p.vendor, f),
                        until: kept(&id, "until", |p| &p.until, f),
                        id,
                    });
                }
            }
        }
        match all.parse(inv.site.clone()) {
            Ok(new) if field_errors.is_empty() => inventory = Some(new),
            Ok(_) => {}
            Err(list) => {
                for x in list {
                    if x.table == t {
                        let line = lines.get(x.index).copied().unwrap_or(0);
                        field_errors.push(row_error(line, x.field, x.message()));
                    } else {
                        // Another table refers to a row this file removes or changes.
                        field_errors.push(row_error(0, x.table.as_str(), x.to_string()));
                    }
                }
            }
        }
        errors.extend(field_errors);
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
    use monban_core::{Room, RoomId};

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

    /// Vendors import with their maintained systems in one field; a people file without
    /// the `vendor` and `until` columns keeps each person's, one with them sets them.
    #[test]
    fn vendors_and_people_columns() {
        let rows = InventoryRows {
            systems: vec![monban_core::inventory::rows::SystemRow {
                id: "ehr".into(),
                category: "ehr".into(),
                ..Default::default()
            }],
            vendors: vec![VendorRow {
                id: "acme".into(),
                ..Default::default()
            }],
            people: vec![PersonRow {
                id: "v001".into(),
                vendor: "acme".into(),
                until: "2027-03-31".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let inv = rows.parse(None).unwrap();
        let p = parse_import(
            &inv,
            "vendors",
            "id,name,maintains\nacme,アクメ,ehr:remote:2026-10-01:保守用VPN\n",
            "x",
        );
        let new = p.inventory.unwrap();
        let m = &new.vendors()[0].maintains[0];
        assert_eq!((m.remote, m.route.as_deref()), (true, Some("保守用VPN")));
        let p = parse_import(
            &inv,
            "vendors",
            "id,name,maintains\nacme,,lab:remote\n",
            "x",
        );
        assert_eq!(p.preview.errors.len(), 1, "{:?}", p.preview.errors);
        assert_eq!(p.preview.errors[0].column, "maintains");

        let p = parse_import(
            &inv,
            "people",
            "id,name,credentials,accounts\nv001,保守 太郎,,\n",
            "x",
        );
        let kept = p.inventory.unwrap().people()[0].clone();
        assert_eq!(kept.vendor.as_ref().map(|v| v.as_str()), Some("acme"));
        assert_eq!(
            kept.until.map(|d| d.to_string()).as_deref(),
            Some("2027-03-31")
        );
        let p = parse_import(
            &inv,
            "people",
            "id,name,credentials,accounts,vendor,until\nv001,保守 太郎,,,,\n",
            "x",
        );
        let cleared = p.inventory.unwrap().people()[0].clone();
        assert!(cleared.vendor.is_none() && cleared.until.is_none());
        let p = parse_import(
            &inv,
            "people",
            "id,name,credentials,accounts,vendor,until\nv001,,,,ghost,2027-02-30\n",
            "x",
        );
        // A row whose field cannot be read is not checked for references.
        let cols: Vec<_> = p.preview.errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, ["until"], "{:?}", p.preview.errors);
        let p = parse_import(
            &inv,
            "people",
            "id,name,credentials,accounts,vendor,until\nv001,,,,ghost,2027-03-31\n",
            "x",
        );
        let cols: Vec<_> = p.preview.errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, ["vendor"], "{:?}", p.preview.errors);
        assert_eq!(
            export(&inv, "people").unwrap().lines().next().unwrap(),
            "\u{FEFF}id,name,credentials,accounts,vendor,until"
        );
    }

    /// A systems file from before `plan` and `by` keeps each system's plan; one with the
    /// columns sets (or clears) them; a bad value is named by its column.
    #[test]
    fn systems_plan_columns() {
        let rows = InventoryRows {
            systems: vec![SystemRow {
                id: "ehr".into(),
                category: "ehr".into(),
                plan: "sso".into(),
                by: "2027-04".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let inv = rows.parse(None).unwrap();
        assert_eq!(
            export(&inv, "systems").unwrap().lines().collect::<Vec<_>>(),
            [
                "\u{FEFF}id,name,category,native_mfa,renewal,plan,by",
                "ehr,ehr,ehr,false,,sso,2027-04"
            ]
        );
        let old = "id,name,category,native_mfa,renewal\nehr,電子カルテ,ehr,false,2027-04\n";
        let p = parse_import(&inv, "systems", old, "x");
        let kept = p.inventory.unwrap().systems()[0].clone();
        assert_eq!(kept.name, "電子カルテ");
        assert_eq!(kept.plan, Some(monban_core::Plan::Sso));
        assert_eq!(kept.by.map(|b| b.to_string()).as_deref(), Some("2027-04"));
        let new =
            "id,name,category,native_mfa,renewal,plan,by\nehr,,ehr,,,combined_measures,2026-10\n";
        let set = parse_import(&inv, "systems", new, "x").inventory.unwrap();
        assert_eq!(
            set.systems()[0].plan,
            Some(monban_core::Plan::CombinedMeasures)
        );
        let cleared = "id,name,category,native_mfa,renewal,plan,by\nehr,,ehr,,,,\n";
        let none = parse_import(&inv, "systems", cleared, "x")
            .inventory
            .unwrap();
        assert_eq!((none.systems()[0].plan, none.systems()[0].by), (None, None));
        let bad = "id,name,category,native_mfa,renewal,plan,by\nehr,,ehr,,,mfa,27-04\n";
        let p = parse_import(&inv, "systems", bad, "x");
        let cols: Vec<_> = p.preview.errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(cols, ["by", "plan"], "{:?}", p.preview.errors);
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
        // An export ends with the evidence head as a comment: it imports unchanged, and
        // a bad row after a comment keeps its line number.
        let text = format!("{}# evidence head 7:ab\r\n", export(&inv, "rooms").unwrap());
        let p = parse_import(&inv, "rooms", &text, "x");
        assert!(
            p.inventory.is_some() && p.changes.is_empty(),
            "{:?}",
            p.preview.errors
        );
        let p = parse_import(
            &inv,
            "doors",
            "id,room,name\n# a note\nd1,ward3,a\nd2,nowhere,b\n",
            "x",
        );
        let lines: Vec<_> = p.preview.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [4], "{:?}", p.preview.errors);
    }
}
