//! The export (`/export`, `/export/compliance.csv`, `/export/evidence.csv`): the CSV
//! files carry a BOM, RFC 4180 quoting and the numbers of `GET /api/v1/compliance` for
//! the same period; the evidence file has one row per login with the API's verdict; the
//! printable page shows the same figures.

use crate::harness::*;
use serde_json::Value;

struct Csv {
    raw: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

async fn csv_get(hub: &Hub, path: &str) -> Csv {
    let res = hub.read_get(hub.url(path)).await.expect("GET csv");
    assert_eq!(res.status(), 200, "{path}");
    let ctype = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let disp = res.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(disp.starts_with("attachment; filename="), "{disp}");
    let bytes = res.bytes().await.expect("body");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM first");
    let raw = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    // Every export ends with the evidence chain's head it was made from (CONTRACT §13).
    let last = raw.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("# evidence head (証跡チェーンの先頭) ")
            && last.contains("monban verify --head "),
        "{path}: no head line at the end: {last:?}"
    );
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(raw.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect();
    Csv { raw, header, rows }
}

fn col(c: &Csv, name: &str) -> usize {
    c.header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", c.header))
}

/// The text of the element with `data-testid="{testid}"` in `html`.
fn cell<'a>(html: &'a str, testid: &str) -> &'a str {
    let at = html
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no {testid} in {html}"));
    let rest = &html[at..];
    let open = rest.find('>').expect("tag end") + 1;
    let close = rest[open..].find('<').expect("text end");
    &rest[open..open + close]
}

#[tokio::test]
async fn csv_and_printable_page_match_the_api() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-x1",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    hub.login_ok(&ehr_login(
        "l-x-comb",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    hub.login_ok(&ehr_login(
        "l-x-2fa",
        &b.at(6, 0),
        "nurse01",
        "lobby-kiosk",
        &["password", "totp"],
    ))
    .await;
    // An account with a comma and a quote: quoted per RFC 4180.
    let odd = "o'brien, \"x\"";
    hub.login_ok(&ehr_login(
        "l-x-gap",
        &b.at(7, -5),
        odd,
        "lobby-kiosk",
        &["password"],
    ))
    .await;
    hub.login_ok(&login(
        "l-x-fail",
        &b.at(8, 9),
        "vpn",
        "nurse01",
        "lobby-kiosk",
        &["password"],
        "failure",
    ))
    .await;

    let (from, to) = (b.at(-60, 9), b.at(60, 9));
    let q = format!("from={}&to={}", encode_query(&from), encode_query(&to));
    let (status, api) = hub.compliance(Some(&from), Some(&to)).await;
    assert_eq!(status, 200, "{api}");
    let systems = api["systems"].as_array().expect("systems");

    // compliance.csv
    let c = csv_get(&hub, &format!("/export/compliance.csv?{q}")).await;
    assert_eq!(
        c.header,
        [
            "from",
            "to",
            "system",
            "system_name",
            "category",
            "native_mfa",
            "status",
            "successful",
            "direct_2fa",
            "combined_measures",
            "not_met",
            "failed",
            "coverage"
        ]
    );
    assert_eq!(c.rows.len(), systems.len());
    for (row, s) in c.rows.iter().zip(systems) {
        assert_eq!(row[col(&c, "system")], s["id"].as_str().expect("id"));
        assert_eq!(
            row[col(&c, "system_name")],
            s["name"].as_str().expect("name")
        );
        assert_eq!(
            row[col(&c, "status")],
            s["status"].as_str().expect("status")
        );
        for key in [
            "successful",
            "direct_2fa",
            "combined_measures",
            "not_met",
            "failed",
        ] {
            assert_eq!(
                row[col(&c, key)].parse::<u64>().expect("count"),
                s["logins"][key].as_u64().expect(key),
                "{key} of {}",
                s["id"]
            );
        }
        let coverage: f64 = row[col(&c, "coverage")].parse().expect("coverage");
        assert!((coverage - s["coverage"].as_f64().expect("coverage")).abs() < 1e-9);
        assert_eq!(
            instant(&row[col(&c, "from")]),
            instant(api["from"].as_str().expect("from"))
        );
        assert_eq!(
            instant(&row[col(&c, "to")]),
            instant(api["to"].as_str().expect("to"))
        );
    }
    assert!(c.raw.contains("電子カルテ"));

    // evidence.csv
    let e = csv_get(&hub, &format!("/export/evidence.csv?{q}")).await;
    for name in [
        "login_id",
        "time",
        "system",
        "account",
        "person",
        "terminal",
        "room",
        "factors",
        "verdict",
        "reasons",
        "final",
        "entry_door",
        "entry_time",
        "credential_type",
    ] {
        col(&e, name);
    }
    assert_eq!(e.rows.len(), 4, "every login of the period");
    for row in &e.rows {
        let id = &row[col(&e, "login_id")];
        let view: Value = hub.login_view(id).await;
        assert_eq!(
            row[col(&e, "verdict")],
            view["verdict"].as_str().expect("verdict")
        );
        let reasons: Vec<&str> = view["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .map(|r| r.as_str().expect("reason"))
            .collect();
        assert_eq!(row[col(&e, "reasons")], reasons.join(";"));
        assert_eq!(row[col(&e, "final")], view["final"].to_string());
        assert_eq!(
            instant(&row[col(&e, "time")]),
            instant(view["ts"].as_str().expect("ts"))
        );
        assert_eq!(
            row[col(&e, "account")],
            view["account"].as_str().expect("account")
        );
        match &view["evidence"] {
            Value::Null => assert_eq!(row[col(&e, "entry_door")], ""),
            ev => {
                assert_eq!(
                    row[col(&e, "entry_door")],
                    ev["door"].as_str().expect("door")
                );
                assert_eq!(
                    row[col(&e, "credential_type")],
                    ev["credential_type"].as_str().expect("credential_type")
                );
                assert_eq!(
                    instant(&row[col(&e, "entry_time")]),
                    instant(ev["entered_at"].as_str().expect("entered_at"))
                );
            }
        }
    }
    assert!(
        e.raw.contains("\"o'brien, \"\"x\"\"\""),
        "RFC 4180 quoting of a comma and a quote:\n{}",
        e.raw
    );
    let comb = e
        .rows
        .iter()
        .find(|r| r[0] == "l-x-comb")
        .expect("combined row");
    assert_eq!(comb[col(&e, "person")], "看護師 一郎");
    assert_eq!(comb[col(&e, "room")], "3F ナースステーション");

    // a bad period is a 400 with the contract's error body
    let res = hub
        .read_get(hub.url("/export/evidence.csv?from=yesterday"))
        .await
        .expect("GET");
    assert_eq!(res.status(), 400);

    // the printable page
    for lang in ["", "&lang=en"] {
        let html = hub
            .read_get(hub.url(&format!("/export?{q}{lang}")))
            .await
            .expect("GET /export")
            .text()
            .await
            .expect("text");
        for s in systems {
            let id = s["id"].as_str().expect("id");
            let at = html
                .find(&format!(
                    "data-testid=\"export-system-row\" data-system-id=\"{id}\""
                ))
                .unwrap_or_else(|| panic!("no row for {id}:\n{html}"));
            let row = &html[at..at + html[at..].find("</tr>").expect("row end")];
            for (testid, key) in [
                ("count-successful", "successful"),
                ("count-direct", "direct_2fa"),
                ("count-combined", "combined_measures"),
                ("count-not-met", "not_met"),
                ("count-failed", "failed"),
            ] {
                assert_eq!(
                    cell(row, testid),
                    s["logins"][key].to_string(),
                    "{id} {testid}"
                );
            }
        }
        assert!(html.contains("data-testid=\"export-login-count\" data-count=\"4\""));
        assert!(html.contains("export/compliance.csv?"));
        assert!(html.contains("テスト総合病院"));
    }

    // the default period: the last 30 days, with dates in the form
    let html = hub
        .read_get(hub.url("/export"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(html.contains("type=\"date\" name=\"from\""), "{html}");
    assert!(html.contains("data-count=\"4\""));
}
