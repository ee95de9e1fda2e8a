//! The dashboard's dead letters page (`/dead-letters`): the same rows and count as
//! `GET /api/v1/dead-letters`, newest first, payloads escaped and long ones folded,
//! filtered by source with `?source=`.

use crate::broker::{start_rumqttd, Publisher};
use crate::harness::*;

async fn page(hub: &Hub, path: &str) -> String {
    let res = hub.read_get(hub.url(path)).await.expect("GET page");
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.expect("page text")
}

fn count(html: &str) -> usize {
    let key = "data-testid=\"dead-letters-count\" data-count=\"";
    let i = html
        .find(key)
        .unwrap_or_else(|| panic!("no count in:\n{html}"));
    let rest = &html[i + key.len()..];
    rest[..rest.find('"').expect("quote")]
        .parse()
        .expect("number")
}

fn row_ids(html: &str) -> Vec<i64> {
    html.match_indices("data-testid=\"dead-letter-row\" data-id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').expect("quote")].parse().expect("id")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_page_matches_the_api() {
    let url = start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    hub.wait_mqtt_connected().await;
    let mut p = Publisher::connect(&url).await;
    let topic = format!("monban/{}/door/ward3-main/event", hub.opts.site);
    let long = format!("{{\"padding\": \"{}\"", "x".repeat(300));
    for payload in [
        "<script>alert(\"x\")</script>".to_string(),
        "not json {".to_string(),
        long,
    ] {
        p.publish(&topic, payload, false).await;
    }
    let api = wait_for("three dead letters", DEADLINE, || async {
        let l = hub.dead_letters().await;
        (l.len() >= 3).then_some(l)
    })
    .await;

    let html = page(&hub, "/dead-letters").await;
    assert_eq!(count(&html), api.len());
    let api_ids: Vec<i64> = api.iter().map(|d| d["id"].as_i64().expect("id")).collect();
    assert_eq!(row_ids(&html), api_ids, "same rows, newest first");
    assert!(
        !html.contains("<script>alert"),
        "a payload must never be markup"
    );
    assert!(
        html.contains("&lt;script&gt;alert"),
        "the payload is shown as text"
    );
    assert!(html.contains("<details"), "a long payload is folded");
    assert!(html.contains(&"x".repeat(300)), "and can be seen whole");
    assert!(html.contains("data-source=\"mqtt\""));
    assert!(html.contains("ward3-main"));

    let en = page(&hub, "/dead-letters?lang=en").await;
    assert_eq!(count(&en), api.len());
    assert!(en.contains("Dead letters"));

    let mqtt = page(&hub, "/dead-letters?source=mqtt").await;
    let from_mqtt = api.iter().filter(|d| d["source"] == "mqtt").count();
    assert_eq!(count(&mqtt), from_mqtt);
    let modbus = page(&hub, "/dead-letters?source=modbus").await;
    assert_eq!(count(&modbus), 0);
}
