//! The dashboard's overview (概要) against the hub's API: per-system status, coverage and
//! counts, the 30-day trends, the renewal wave (更改) of FY2025–FY2027, and the counts of
//! open integrity alarms, offline doors and dead letters — in Japanese and in English.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Systems with renewal months in and out of the wave (FY = April–March).
pub const RENEWALS: &str = r#"
[[systems]]
id = "lab"
name = "検査システム"
category = "departmental"
native_mfa = false
renewal = "2026-03"

[[systems]]
id = "rad"
name = "放射線システム"
category = "departmental"
native_mfa = false
renewal = "2028-03"

[[systems]]
id = "old"
name = "旧システム"
category = "other"
native_mfa = false
renewal = "2028-04"
"#;

/// The texts of the elements with `data-testid="{id}"`: from the tag's end to the next
/// tag (numbers and short labels).
pub fn texts(html: &str, id: &str) -> Vec<String> {
    let needle = format!("data-testid=\"{id}\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i..];
            let start = rest.find('>').map(|j| j + 1).unwrap_or(0);
            let rest = &rest[start..];
            let end = rest.find('<').unwrap_or(rest.len());
            rest[..end].trim().to_string()
        })
        .collect()
}

/// The HTML of the element opened by `open` (an exact attribute text) up to the next
/// element with the same `data-testid`, or the end.
pub fn section<'a>(html: &'a str, open: &str) -> &'a str {
    let Some(i) = html.find(open) else {
        panic!("page lacks {open}");
    };
    let rest = &html[i..];
    let testid = open.split('"').nth(1).unwrap_or_default();
    let next = rest[open.len()..]
        .find(&format!("data-testid=\"{testid}\""))
        .map(|j| j + open.len())
        .unwrap_or(rest.len());
    &rest[..next]
}

/// `GET path`, expecting `status`; the HTML.
pub async fn page(hub: &Hub, path: &str, status: StatusCode) -> String {
    let res = hub.read_get(hub.url(path)).await.expect("GET page");
    assert_eq!(res.status(), status, "GET {path}");
    res.text().await.expect("html")
}

/// The coverage as the dashboard writes it.
pub fn coverage_text(row: &Value) -> String {
    if row["logins"]["successful"].as_u64() == Some(0) {
        "—".to_string()
    } else {
        format!("{:.1}%", row["coverage"].as_f64().unwrap_or(0.0) * 100.0)
    }
}

/// A hub with a combined, a direct and a not_met login, an open alarm and an old one.
pub async fn fed_hub() -> (Hub, Vec<String>) {
    let hub = spawn_hub(HubOptions::default().extra(RENEWALS)).await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let mut ids = Vec::new();
    for (id, login) in [
        (
            "l-comb",
            ehr_login(
                "l-comb",
                &b.at(5, 9),
                "nurse01",
                "ward3-pc01",
                &["password"],
            ),
        ),
        (
            "l-unknown",
            ehr_login(
                "l-unknown",
                &b.at(6, 9),
                "nurse01",
                "nowhere-pc",
                &["password"],
            ),
        ),
        (
            "l-lobby",
            ehr_login(
                "l-lobby",
                &b.at(7, 0),
                "ghost",
                "lobby-kiosk",
                &["password"],
            ),
        ),
        (
            "l-vpn",
            login(
                "l-vpn",
                &b.at(8, 9),
                "vpn",
                "nurse01",
                "lobby-kiosk",
                &["password", "totp"],
                "success",
            ),
        ),
    ] {
        let (status, _) = hub.post_login(&login).await;
        if status == StatusCode::ACCEPTED {
            ids.push(id.to_string());
        }
    }
    let fail = login(
        "l-failed",
        &b.at(10, 9),
        "ehr",
        "nurse01",
        "ward3-pc01",
        &["password"],
        "failure",
    );
    hub.login_ok(&fail).await;
    ids.push("l-failed".into());
    // An alarm now (open: pharmacy holds 10 minutes) and one a day ago (run out).
    let now = Base::from_instant(chrono::Utc::now());
    hub.door_ok(&door_event(
        "pharmacy-door",
        "a-now",
        &now.at(0, 9),
        "door_forced",
    ))
    .await;
    hub.door_ok(&door_event("ward3-back", "a-old", &b.at(1, 9), "tamper"))
        .await;
    (hub, ids)
}

#[tokio::test]
async fn overview_shows_the_api_figures_and_the_fy2027_readiness() {
    let (hub, ids) = fed_hub().await;
    let (status, api) = hub.compliance(None, None).await;
    assert_eq!(status, StatusCode::OK, "{api}");
    let doors = hub.doors().await;
    let offline = doors["doors"]
        .as_array()
        .map(|d| d.iter().filter(|d| d["state"] == "offline").count())
        .unwrap_or(0);
    let letters = hub.dead_letters().await.len();

    for lang in ["", "?lang=en"] {
        let html = page(&hub, &format!("/{lang}"), StatusCode::OK).await;
        for s in api["systems"].as_array().cloned().unwrap_or_default() {
            let id = s["id"].as_str().unwrap_or_default();
            let st = s["status"].as_str().unwrap_or_default();
            let row = section(
                &html,
                &format!("data-testid=\"system-row\" data-system-id=\"{id}\" data-status=\"{st}\""),
            );
            assert_eq!(texts(row, "coverage"), vec![coverage_text(&s)], "{id}");
            for (testid, key) in [
                ("count-successful", "successful"),
                ("count-direct", "direct_2fa"),
                ("count-combined", "combined_measures"),
                ("count-not-met", "not_met"),
                ("count-failed", "failed"),
            ] {
                assert_eq!(
                    texts(row, testid),
                    vec![s["logins"][key].to_string()],
                    "{id} {testid}"
                );
            }
            assert!(
                row.contains("data-testid=\"trend\" data-days=\"30\""),
                "{id} trend"
            );
            let href = if lang.is_empty() {
                format!("href=\"/systems/{id}\"")
            } else {
                format!("href=\"/systems/{id}?lang=en\"")
            };
            assert!(row.contains(&href), "{id} link {href}");
        }
        // The renewal wave: FY2025 lab (2026-03), FY2027 ehr (2027-04) and rad (2028-03);
        // old (2028-04, FY2028) is outside it.
        let status_of = |id: &str| {
            api["systems"]
                .as_array()
                .and_then(|a| a.iter().find(|s| s["id"] == id))
                .map(|s| s["status"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        };
        for (fy, members) in [
            (2025, vec!["lab"]),
            (2026, vec![]),
            (2027, vec!["ehr", "rad"]),
        ] {
            let year = section(
                &html,
                &format!("data-testid=\"renewal-year\" data-fiscal-year=\"{fy}\""),
            );
            let year = year
                .split("data-testid=\"system-row\"")
                .next()
                .unwrap_or_default();
            let found = year.matches("data-testid=\"renewal-row\"").count();
            assert_eq!(found, members.len(), "FY{fy}");
            for id in members {
                let needle = format!(
                    "data-testid=\"renewal-row\" data-system-id=\"{id}\" data-status=\"{}\"",
                    status_of(id)
                );
                assert!(year.contains(&needle), "FY{fy} lacks {needle}");
            }
        }
        assert!(!html.contains("data-testid=\"renewal-row\" data-system-id=\"old\""));
        // Counts now, each a link to the page that explains it.
        let link = |p: &str| {
            if lang.is_empty() {
                format!("href=\"{p}\"")
            } else {
                format!("href=\"{p}?lang=en\"")
            }
        };
        for (testid, n, path) in [
            ("open-alarms", 1, "/rooms"),
            ("offline-doors", offline, "/rooms"),
            ("dead-letters", letters, "/dead-letters"),
        ] {
            let needle = format!("{} data-testid=\"{testid}\" data-count=\"{n}\"", link(path));
            assert!(html.contains(&needle), "lacks {needle}");
        }
        for id in &ids {
            let href = link(&format!("/logins/{id}"));
            assert!(html.contains(&href), "login link {href}");
        }
        let words: &[&str] = if lang.is_empty() {
            &[
                "令和9年度（2027年度）への準備",
                "30日間の推移",
                "成功ログイン",
                "発報中の警報",
            ]
        } else {
            &[
                "Readiness for FY2027",
                "30-day trend",
                "Successful",
                "Open integrity alarms",
            ]
        };
        for w in words {
            assert!(html.contains(w), "lacks {w}");
        }
    }
}
