//! Reports read the day rollups for whole days and count the edges exactly: over any
//! period — aligned to days or not, inside one day, one instant — the compliance numbers
//! equal a plain count of the logins sent.

#![allow(clippy::unwrap_used)]

use crate::support::TestHub;
use monban_core::Timestamp;
use reqwest::StatusCode;
use serde_json::json;

/// A small deterministic generator (the periods must be the same on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn compliance_over_any_period_equals_a_count_of_the_logins() {
    let start = Timestamp::parse_rfc3339("2026-11-01T00:00:00+09:00").unwrap();
    let end = Timestamp::parse_rfc3339("2026-11-08T00:00:00+09:00").unwrap();
    let hub = TestHub::start(end, "1s").await;
    let mut rng = Lcg(7);
    let span = (end.as_millis() - start.as_millis()) as u64;
    // (ts, kind): 0 direct, 1 not_met, 2 failed.
    let mut sent = Vec::new();
    for i in 0..400 {
        let ts = start.as_millis() + rng.next(span) as i64;
        let kind = rng.next(3);
        let (factors, outcome) = match kind {
            0 => (json!(["password", "totp"]), "success"),
            1 => (json!(["password"]), "success"),
            _ => (json!(["password"]), "failure"),
        };
        let body = json!({"event_id": format!("r-{i}"), "ts": Timestamp::from_millis(ts).to_rfc3339(),
                          "system": "ehr", "account": "nurse01", "terminal": "lobby-kiosk",
                          "factors": factors, "outcome": outcome});
        let (s, v) = hub.post_login(&body).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
        sent.push((ts, kind));
    }
    // Day boundaries, instants, and random spans.
    let mut periods = vec![
        (start.as_millis(), end.as_millis() - 1),
        (start.as_millis(), start.as_millis()),
        (start.as_millis() + 3_600_000, start.as_millis() + 7_200_000),
        (start.as_millis() - 5, end.as_millis() + 5),
    ];
    for _ in 0..40 {
        let a = start.as_millis() + rng.next(span) as i64;
        let b = a + rng.next(span / 2) as i64;
        periods.push((a, b));
    }
    for (a, b) in periods {
        let expect = |k: u64| {
            sent.iter()
                .filter(|(t, kind)| *t >= a && *t <= b && *kind == k)
                .count()
        };
        let q = format!(
            "/api/v1/compliance?from={}&to={}",
            Timestamp::from_millis(a).to_rfc3339().replace('+', "%2B"),
            Timestamp::from_millis(b).to_rfc3339().replace('+', "%2B")
        );
        let (s, body) = hub.get(&q).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let ehr = body["systems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "ehr")
            .unwrap()["logins"]
            .clone();
        assert_eq!(ehr["direct_2fa"], expect(0), "period {a}..{b}: {ehr}");
        assert_eq!(ehr["not_met"], expect(1), "period {a}..{b}: {ehr}");
        assert_eq!(ehr["failed"], expect(2), "period {a}..{b}: {ehr}");
        assert_eq!(
            ehr["successful"],
            expect(0) + expect(1),
            "period {a}..{b}: {ehr}"
        );
    }
    hub.stop().await;
}

#[tokio::test]
async fn the_evidence_export_streams_every_login_once_in_order() {
    let t0 = Timestamp::parse_rfc3339("2026-11-01T00:00:00+09:00").unwrap();
    let hub = TestHub::start(Timestamp::from_millis(t0.as_millis() + 86_400_000), "1s").await;
    // More than two pages, many logins at the same instant (the keyset's tie-break).
    for i in 0..2600 {
        let ts = Timestamp::from_millis(t0.as_millis() + (i / 7) * 1000).to_rfc3339();
        let body = json!({"event_id": format!("e-{i:05}"), "ts": ts, "system": "ehr",
                          "account": "nurse01", "terminal": "lobby-kiosk",
                          "factors": ["password"], "outcome": "success"});
        assert_eq!(hub.post_login(&body).await.0, StatusCode::ACCEPTED);
    }
    let (s, csv) = hub
        .get_text("/export/evidence.csv?from=2026-11-01&to=2026-11-01")
        .await;
    assert_eq!(s, StatusCode::OK);
    // It ends, after the last page, with the evidence head it was made from.
    assert!(
        csv.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("# evidence head")),
        "no head line at the end"
    );
    let ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(ids.len(), 2600);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 2600, "every login once");
    hub.stop().await;
}
