//! The dashboard's inventory page (`/inventory`) and its CSV routes: a form edit goes
//! through a preview and, once applied, re-judges logins; a CSV import with a bad row
//! shows its line, column and reason and applies nothing; a good import applies and is
//! recorded in the change log; the CSV export round-trips.

use crate::harness::*;
use chrono::Utc;
use reqwest::StatusCode;

async fn page(hub: &Hub, path: &str) -> String {
    let res = hub.read_get(hub.url(path)).await.expect("GET page");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.text().await.expect("html")
}

/// Posts a form and returns the redirect's target.
async fn post_form(hub: &Hub, path: &str, form: &[(&str, &str)]) -> String {
    let res = hub.officer().await.post_form(hub, path, form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
    res.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("location")
        .to_string()
}

async fn csv(hub: &Hub, table: &str) -> String {
    let res = hub
        .read_get(hub.url(&format!("/inventory/{table}.csv")))
        .await
        .expect("GET csv");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let text = res.text().await.expect("csv");
    // The file ends with the evidence head it was made from (CONTRACT §13), which moves
    // with every record stored: the table is what comes before it.
    let (table, head) = text
        .trim_end()
        .rsplit_once("\r\n")
        .unwrap_or_else(|| panic!("no head line in {text:?}"));
    assert!(
        head.starts_with("# evidence head (証跡チェーンの先頭) "),
        "{head}"
    );
    format!("{table}\r\n")
}

#[tokio::test]
async fn a_new_terminal_makes_the_next_login_judged_in_its_room() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::from_instant(Utc::now() - chrono::Duration::minutes(5));
    hub.door_ok(&entry("ward3-main", "e-1", &b.at(0, 9), "card", "04A1B2C3"))
        .await;
    // Before the edit the terminal is unknown.
    let before = ehr_login("l-1", &b.at(1, 9), "nurse01", "ward3-pc99", &["password"]);
    let reply = hub.login_ok(&before).await;
    assert_eq!(reply["verdict"], "not_met", "{reply}");

    let to = post_form(
        &hub,
        "/inventory/row/terminals",
        &[
            ("id", "ward3-pc99"),
            ("room", "ward3"),
            ("name", "増設端末"),
            ("lang", "ja"),
        ],
    )
    .await;
    assert!(to.starts_with("/inventory?preview="), "{to}");
    let html = page(&hub, &to).await;
    assert!(html.contains("data-errors=\"0\""), "preview has errors");
    assert!(html.contains("data-testid=\"inv-added\" data-key=\"ward3-pc99\""));
    assert!(html.contains("data-testid=\"inv-apply\""));
    // Nothing is applied before the officer confirms.
    assert!(!csv(&hub, "terminals").await.contains("ward3-pc99"));
    let id = to
        .trim_start_matches("/inventory?preview=")
        .split(['&', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let done = post_form(
        &hub,
        &format!("/inventory/pending/{id}/apply"),
        &[("lang", "ja")],
    )
    .await;
    assert!(done.contains("applied=1"), "{done}");
    assert!(csv(&hub, "terminals")
        .await
        .contains("ward3-pc99,ward3,増設端末"));

    // The pending login is re-judged, and a new one is judged in the ward.
    assert_eq!(hub.login_view("l-1").await["verdict"], "combined_measures");
    let after = ehr_login("l-2", &b.at(2, 9), "nurse01", "ward3-pc99", &["password"]);
    let reply = hub.login_ok(&after).await;
    assert_eq!(reply["verdict"], "combined_measures", "{reply}");

    let html = page(&hub, "/inventory").await;
    assert!(html.contains(
        "data-testid=\"inv-change\" data-action=\"add\" data-table=\"terminals\" data-key=\"ward3-pc99\""
    ));
    assert!(html.contains("dashboard 127.0.0.1"), "who missing");
    let en = page(&hub, "/inventory?lang=en").await;
    assert!(en.contains("Change log (newest first)"));
}

#[tokio::test]
async fn an_import_with_a_bad_row_shows_it_and_applies_nothing() {
    let hub = spawn_hub(HubOptions::default()).await;
    let before = csv(&hub, "doors").await;
    let file =
        "id,room,name\r\nward3-main,ward3,\r\nward3-new,nowhere,新しい扉\r\nbad id!,ward3,x\r\n";
    let to = post_form(
        &hub,
        "/inventory/import",
        &[("table", "doors"), ("csv", file), ("lang", "en")],
    )
    .await;
    assert!(to.contains("lang=en"), "{to}");
    let html = page(&hub, &to).await;
    assert!(
        html.contains("Errors — cannot be applied"),
        "no errors heading"
    );
    assert!(
        html.contains("data-testid=\"inv-error\" data-line=\"4\" data-column=\"id\""),
        "bad id not reported: {}",
        html.split("data-testid=\"inv-preview\"")
            .nth(1)
            .unwrap_or_default()
    );
    assert!(
        !html.contains("data-testid=\"inv-apply\""),
        "apply offered despite errors"
    );
    // With the bad id fixed, the unknown room is reported on its line and column.
    let file = "id,room,name\r\nward3-main,ward3,\r\nward3-new,nowhere,新しい扉\r\n";
    let to = post_form(
        &hub,
        "/inventory/import",
        &[("table", "doors"), ("csv", file)],
    )
    .await;
    let html = page(&hub, &to).await;
    assert!(
        html.contains("data-testid=\"inv-error\" data-line=\"3\" data-column=\"room\""),
        "unknown room not reported"
    );
    assert!(html.contains("nowhere"), "reason missing");
    // Forcing the apply changes nothing.
    let id = to
        .trim_start_matches("/inventory?preview=")
        .split(['&', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let back = post_form(&hub, &format!("/inventory/pending/{id}/apply"), &[]).await;
    assert!(back.contains("preview="), "{back}");
    assert_eq!(csv(&hub, "doors").await, before);
    assert!(!page(&hub, "/inventory")
        .await
        .contains("data-testid=\"inv-change\""));
}

#[tokio::test]
async fn a_good_import_applies_is_logged_and_export_round_trips() {
    let hub = spawn_hub(HubOptions::default()).await;
    for table in ["rooms", "doors", "terminals", "systems", "people"] {
        let text = csv(&hub, table).await;
        assert!(text.starts_with('\u{FEFF}'), "{table}: no BOM");
        // Exported and imported again: nothing would change.
        let to = post_form(
            &hub,
            "/inventory/import",
            &[("table", table), ("csv", &text)],
        )
        .await;
        let html = page(&hub, &to).await;
        assert!(html.contains("data-errors=\"0\""), "{table}: {html}");
        assert!(!html.contains("data-testid=\"inv-added\""), "{table}");
        assert!(!html.contains("data-testid=\"inv-changed\""), "{table}");
        assert!(!html.contains("data-testid=\"inv-removed\""), "{table}");
    }
    let people = csv(&hub, "people").await;
    assert!(
        people.contains("p0001,看護師 一郎,card:04A1B2C3;biometric:P0001,ehr=nurse01;vpn=nurse01"),
        "{people}"
    );

    // Rename the pharmacy, add a room, drop the lobby's terminal's room? No: add only.
    let rooms = csv(&hub, "rooms").await;
    let edited = rooms.replace("薬剤部", "薬剤部 調剤室") + "icu,集中治療室,true,8h,30m\r\n";
    let to = post_form(
        &hub,
        "/inventory/import",
        &[("table", "rooms"), ("csv", &edited)],
    )
    .await;
    let html = page(&hub, &to).await;
    assert!(html.contains("data-testid=\"inv-added\" data-key=\"icu\""));
    assert!(html.contains("data-testid=\"inv-changed\" data-key=\"pharmacy\""));
    let id = to
        .trim_start_matches("/inventory?preview=")
        .split(['&', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let done = post_form(&hub, &format!("/inventory/pending/{id}/apply"), &[]).await;
    assert!(done.contains("applied=2"), "{done}");
    let after = csv(&hub, "rooms").await;
    assert!(after.contains("icu,集中治療室,true,8h,30m"), "{after}");
    assert!(
        after.contains("pharmacy,薬剤部 調剤室,true,1h,10m"),
        "{after}"
    );
    let html = page(&hub, "/inventory").await;
    assert!(html.contains(
        "data-testid=\"inv-change\" data-action=\"add\" data-table=\"rooms\" data-key=\"icu\""
    ));
    assert!(html.contains("data-testid=\"inv-change\" data-action=\"change\" data-table=\"rooms\" data-key=\"pharmacy\""));
    // The new room is on the rooms page too.
    assert!(page(&hub, "/rooms").await.contains("data-room-id=\"icu\""));

    // A restart with the same monban.toml keeps the edit (the file did not change).
    let mut hub = hub;
    hub.terminate(std::time::Duration::from_secs(10));
    hub.start().await;
    assert!(
        csv(&hub, "rooms").await.contains("icu,集中治療室"),
        "edit lost on restart"
    );
}

/// Vendors (CONTRACT §4, §10) on the inventory page: exported, a bad import row named by
/// line and column with nothing applied, a form edit that goes through the preview and
/// the change log.
#[tokio::test]
async fn vendors_are_inventory_rows_too() {
    let hub = spawn_hub(HubOptions::default().extra(crate::maintenance::VENDORS)).await;
    let text = csv(&hub, "vendors").await;
    assert!(
        text.contains("acme-med,アクメ医療システム株式会社,"),
        "{text}"
    );
    assert!(
        text.contains("ehr:remote:2026-10-01:保守用VPN (IPsec)"),
        "{text}"
    );
    let people = csv(&hub, "people").await;
    assert!(people.contains("v001,保守 太郎"), "{people}");
    assert!(people.contains("acme-med"), "{people}");

    // A vendor maintaining an unknown system: line 2, column maintains; nothing applied.
    let file = "id,name,maintains\r\nnew-vendor,新しい事業者,nosuch:remote::VPN\r\n";
    let to = post_form(
        &hub,
        "/inventory/import",
        &[("table", "vendors"), ("csv", file)],
    )
    .await;
    let html = page(&hub, &to).await;
    assert!(
        html.contains("data-testid=\"inv-error\" data-line=\"2\" data-column=\"maintains\""),
        "{}",
        html.split("data-testid=\"inv-preview\"")
            .nth(1)
            .unwrap_or_default()
    );
    assert!(!html.contains("data-testid=\"inv-apply\""));

    // A form edit: the vendor's route and confirmation date, through the preview.
    let to = post_form(
        &hub,
        "/inventory/row/vendors",
        &[
            ("id", "beta-sys"),
            ("name", "ベータシステム株式会社"),
            ("maintains", "pacs:onsite:2026-11-30:院内 サーバ室"),
        ],
    )
    .await;
    let html = page(&hub, &to).await;
    assert!(html.contains("data-errors=\"0\""), "{html}");
    let id = to
        .trim_start_matches("/inventory?preview=")
        .split(['&', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    post_form(&hub, &format!("/inventory/pending/{id}/apply"), &[]).await;
    assert!(csv(&hub, "vendors")
        .await
        .contains("beta-sys,ベータシステム株式会社,pacs:onsite:2026-11-30:院内 サーバ室"));
    assert!(page(&hub, "/inventory").await.contains(
        "data-testid=\"inv-change\" data-action=\"change\" data-table=\"vendors\" data-key=\"beta-sys\""
    ));
}
