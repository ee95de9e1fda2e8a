//! The dashboard's system page (`/systems/:id`) against the hub's API: the header's
//! status, coverage and counts equal `GET /api/v1/compliance` (default period and
//! `?from=&to=`), the verdict mix per day adds up, the `not_met` logins are grouped by
//! the contract's reasons (as `GET /api/v1/logins/{id}` gives them) with what fixes each,
//! the terminals involved carry their own counts; an unknown id is a 404 page.

use crate::dash_overview::{coverage_text, fed_hub, page, section, texts};
use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;

fn system_row(api: &Value, id: &str) -> Value {
    api["systems"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {api}"))
}

fn assert_header(html: &str, s: &Value) {
    let id = s["id"].as_str().unwrap_or_default();
    let needle = format!(
        "data-testid=\"system-header\" data-system-id=\"{id}\" data-status=\"{}\"",
        s["status"].as_str().unwrap_or_default()
    );
    assert!(html.contains(&needle), "lacks {needle}");
    assert_eq!(texts(html, "system-coverage"), vec![coverage_text(s)]);
    for (testid, key) in [
        ("count-successful", "successful"),
        ("count-direct", "direct_2fa"),
        ("count-combined", "combined_measures"),
        ("count-not-met", "not_met"),
        ("count-failed", "failed"),
    ] {
        assert_eq!(
            texts(html, testid),
            vec![s["logins"][key].to_string()],
            "{testid}"
        );
    }
}

fn sum(html: &str, testid: &str) -> u64 {
    texts(html, testid)
        .iter()
        .map(|t| {
            t.parse::<u64>()
                .unwrap_or_else(|_| panic!("{testid}: {t:?}"))
        })
        .sum()
}

#[tokio::test]
async fn system_page_matches_the_api_and_groups_not_met_by_reason() {
    let (hub, ids) = fed_hub().await;
    let (_, api) = hub.compliance(None, None).await;
    let ehr = system_row(&api, "ehr");

    // What the API says about each not_met login of ehr.
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut terminals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for id in &ids {
        let l = hub.login_view(id).await;
        if l["system"] != "ehr" || l["verdict"] == "not_applicable" {
            continue;
        }
        let t = terminals
            .entry(l["terminal"].as_str().unwrap_or_default().to_string())
            .or_default();
        t.0 += 1;
        if l["verdict"] == "not_met" {
            t.1 += 1;
            for r in l["reasons"].as_array().cloned().unwrap_or_default() {
                groups
                    .entry(r.as_str().unwrap_or_default().to_string())
                    .or_default()
                    .push(id.clone());
            }
        }
    }
    assert!(!groups.is_empty(), "the feed must give ehr not_met logins");

    for lang in ["", "?lang=en"] {
        let html = page(&hub, &format!("/systems/ehr{lang}"), StatusCode::OK).await;
        assert_header(&html, &ehr);
        assert!(html.contains("data-testid=\"verdict-mix\""));
        let successful = ehr["logins"]["successful"].as_u64().unwrap_or(0);
        let mixed =
            sum(&html, "mix-direct") + sum(&html, "mix-combined") + sum(&html, "mix-not-met");
        assert_eq!(
            mixed, successful,
            "verdict mix adds up to the successful logins"
        );
        assert_eq!(
            sum(&html, "mix-not-met"),
            ehr["logins"]["not_met"].as_u64().unwrap_or(0)
        );
        assert_eq!(
            html.matches("data-testid=\"reason-group\"").count(),
            groups.len()
        );
        for (reason, logins) in &groups {
            let g = section(
                &html,
                &format!("data-testid=\"reason-group\" data-reason=\"{reason}\""),
            );
            assert_eq!(
                texts(g, "reason-count"),
                vec![logins.len().to_string()],
                "{reason}"
            );
            let fix = texts(g, "reason-fix");
            assert_eq!(fix.len(), 1, "{reason} has a fix");
            for id in logins {
                let href = if lang.is_empty() {
                    format!("href=\"/logins/{id}\"")
                } else {
                    format!("href=\"/logins/{id}?lang=en\"")
                };
                assert!(g.contains(&href), "{reason} lists {href}");
            }
        }
        for (terminal, (logins, not_met)) in &terminals {
            let row = section(
                &html,
                &format!("data-testid=\"terminal-row\" data-terminal=\"{terminal}\""),
            );
            assert_eq!(
                texts(row, "terminal-logins"),
                vec![logins.to_string()],
                "{terminal}"
            );
            assert_eq!(
                texts(row, "terminal-not-met"),
                vec![not_met.to_string()],
                "{terminal}"
            );
        }
        let fix = if lang.is_empty() {
            "端末を棚卸し"
        } else {
            "Add the terminal to the inventory"
        };
        assert!(html.contains(fix), "unknown_terminal fix {fix}");
    }

    // A period, like the API's: from after the first login.
    let b = Base::new();
    let (from, to) = (b.z(6), b.z(60));
    let (status, narrowed) = hub.compliance(Some(&from), Some(&to)).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!(
        "/systems/ehr?from={}&to={}",
        encode_query(&from),
        encode_query(&to)
    );
    let html = page(&hub, &path, StatusCode::OK).await;
    assert_header(&html, &system_row(&narrowed, "ehr"));
    // The page's date inputs: whole JST days, like the API with +09:00 bounds.
    let day = b.at(5, 9)[..10].to_string();
    let (from, to) = (
        format!("{day}T00:00:00+09:00"),
        format!("{day}T23:59:59.999+09:00"),
    );
    let (status, by_day) = hub.compliance(Some(&from), Some(&to)).await;
    assert_eq!(status, StatusCode::OK, "{by_day}");
    let html = page(
        &hub,
        &format!("/systems/ehr?from={day}&to={day}&lang=en"),
        StatusCode::OK,
    )
    .await;
    assert_header(&html, &system_row(&by_day, "ehr"));
    assert!(
        html.contains(&format!("name=\"from\" value=\"{day}\"")),
        "from input"
    );
    assert!(
        html.contains("name=\"lang\" value=\"en\""),
        "the form keeps the language"
    );
    // A system with no logins.
    let html = page(&hub, "/systems/pacs", StatusCode::OK).await;
    assert_header(&html, &system_row(&api, "pacs"));
    assert!(html.contains("data-testid=\"no-reasons\""));
}

#[tokio::test]
async fn unknown_system_and_bad_period() {
    let hub = spawn_hub(HubOptions::default()).await;
    for lang in ["", "?lang=en"] {
        let html = page(&hub, &format!("/systems/nope{lang}"), StatusCode::NOT_FOUND).await;
        assert!(html.contains("data-testid=\"system-not-found\""));
        let text = if lang.is_empty() {
            "システムが見つかりません"
        } else {
            "System not found"
        };
        assert!(html.contains(text), "{text}");
    }
    let html = page(&hub, "/systems/ehr?from=yesterday", StatusCode::OK).await;
    assert!(html.contains("data-testid=\"period-error\""));
}
