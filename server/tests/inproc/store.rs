//! The store conformance suite: the writer's store methods answer the same on SQLite and
//! PostgreSQL. Each case runs on a fresh SQLite file and, when `MONBAN_TEST_POSTGRES_URL`
//! is set, on a fresh PostgreSQL database (otherwise it says it skipped).

#![allow(clippy::unwrap_used)]

use crate::support::{postgres_url, Backend};
use monban_core::timeline::Outage;
use monban_core::{
    Credential, CredentialType, Direction, DoorEvent, DoorEventKind, DoorId, DoorStatus, Factor,
    Login, Outcome, StatusChange, SystemId, Timestamp, Verdict, VerdictKind,
};
use monban_server::store::batch::RollupDelta;
use monban_server::store::{Store, StoredLogin};
use std::future::Future;

const DAY: i64 = 86_400_000;

/// Runs `case` on SQLite and on PostgreSQL (when configured).
async fn on_both<F, Fut>(name: &str, case: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let backends = {
        let mut b = vec![Backend::sqlite()];
        if let Some(admin) = postgres_url(name) {
            b.push(Backend::postgres(&admin).await);
        }
        b
    };
    for backend in backends {
        let store = Store::open(&backend.url()).await.unwrap();
        case(store.clone()).await;
        store.close().await;
        backend.close().await;
    }
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + ms)
}

fn event(door: &str, id: &str, ms: i64) -> DoorEvent {
    DoorEvent {
        door: DoorId::parse(door).unwrap(),
        event_id: id.into(),
        ts: t(ms),
        kind: DoorEventKind::AccessGranted,
        direction: Direction::In,
        credential: Some(Credential::new(CredentialType::Card, "04A1B2C3").unwrap()),
    }
}

fn stored(id: &str, ms: i64, kind: VerdictKind) -> StoredLogin {
    StoredLogin {
        login: Login {
            event_id: id.into(),
            ts: t(ms),
            system: SystemId::parse("ehr").unwrap(),
            account: "nurse01".into(),
            terminal: "ward3-pc01".into(),
            factors: vec![Factor::Password],
            outcome: Outcome::Success,
        },
        received_at: t(ms),
        final_at: t(ms + 60_000),
        verdict: Verdict {
            kind,
            reasons: if kind == VerdictKind::NotMet {
                vec![monban_core::Reason::NoPresence]
            } else {
                vec![]
            },
            evidence: None,
        },
        is_final: false,
    }
}

#[tokio::test]
async fn door_events_are_stored_once_per_door_and_id() {
    on_both(
        "door_events_are_stored_once_per_door_and_id",
        |store| async move {
            let a = event("ward3-main", "d-1", 0);
            let b = event("ward3-back", "d-1", 0);
            let mut tx = store.begin_write().await.unwrap();
            let new = tx
                .insert_door_events(&[(&a, "http", t(0)), (&b, "http", t(0))])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(new.len(), 2);
            let mut tx = store.begin_write().await.unwrap();
            let new = tx
                .insert_door_events(&[
                    (&a, "mqtt", t(5)),
                    (&event("ward3-main", "d-2", 1), "mqtt", t(5)),
                ])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(
                new.into_iter().collect::<Vec<_>>(),
                vec![("ward3-main".to_string(), "d-2".to_string())]
            );
            assert_eq!(store.door_event_count().await.unwrap(), 3);
        },
    )
    .await;
}

#[tokio::test]
async fn logins_page_walks_the_period_once_in_order() {
    on_both(
        "logins_page_walks_the_period_once_in_order",
        |store| async move {
            let logins: Vec<StoredLogin> = (0..25)
                .map(|i| stored(&format!("l-{i:02}"), (i / 4) * 1000, VerdictKind::Direct2fa))
                .collect();
            let mut tx = store.begin_write().await.unwrap();
            tx.insert_logins(&logins, t(0)).await.unwrap();
            tx.commit().await.unwrap();
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .logins_page(t(0), t(10_000), after.clone(), 4)
                    .await
                    .unwrap();
                if page.is_empty() {
                    break;
                }
                after = page.last().map(|s| (s.login.ts, s.login.event_id.clone()));
                seen.extend(page.into_iter().map(|s| s.login.event_id));
            }
            let expected: Vec<String> = (0..25).map(|i| format!("l-{i:02}")).collect();
            assert_eq!(seen, expected);
            let found = {
                let mut tx = store.begin_write().await.unwrap();
                let f = tx.logins_by_id(&["l-03", "nope", "l-20"]).await.unwrap();
                tx.commit().await.unwrap();
                f
            };
            assert_eq!(found.len(), 2);
        },
    )
    .await;
}

#[tokio::test]
async fn rollups_built_in_batches_equal_a_rebuild() {
    on_both(
        "rollups_built_in_batches_equal_a_rebuild",
        |store| async move {
            let logins = vec![
                stored("a", 0, VerdictKind::NotMet),
                stored("b", DAY, VerdictKind::Direct2fa),
                stored("c", DAY + 5, VerdictKind::NotMet),
            ];
            let mut delta = RollupDelta::default();
            for l in &logins {
                delta.add(
                    &l.login,
                    (l.login.ts.as_millis()).div_euclid(DAY),
                    &l.verdict,
                    1,
                );
            }
            // `c` then turns combined.
            let combined = Verdict {
                kind: VerdictKind::CombinedMeasures,
                reasons: vec![],
                evidence: None,
            };
            let c = &logins[2];
            let day = c.login.ts.as_millis().div_euclid(DAY);
            delta.add(&c.login, day, &c.verdict, -1);
            delta.add(&c.login, day, &combined, 1);
            let mut tx = store.begin_write().await.unwrap();
            tx.insert_logins(&logins, t(0)).await.unwrap();
            tx.add_rollups(&delta).await.unwrap();
            tx.commit().await.unwrap();
            let first = t(0).as_millis().div_euclid(DAY);
            let incremental = {
                let mut v = store.day_counts(first - 1, first + 3, None).await.unwrap();
                v.sort();
                v
            };
            assert_eq!(
                incremental
                    .iter()
                    .map(|(_, _, k, n)| (k.as_str(), *n))
                    .filter(|(_, n)| *n > 0)
                    .count(),
                3
            );
            // A rebuild from the logins as stored (with `c` still `not_met`: it was not
            // updated in `logins`) counts what the table holds.
            store
                .rebuild_rollups(monban_core::SiteOffset::UTC)
                .await
                .unwrap();
            let mut rebuilt = store.day_counts(first - 1, first + 3, None).await.unwrap();
            rebuilt.sort();
            rebuilt.retain(|(_, _, _, n)| *n > 0);
            let kinds: Vec<_> = rebuilt
                .iter()
                .map(|(_, _, k, n)| (k.as_str(), *n))
                .collect();
            assert_eq!(kinds.len(), 3, "{kinds:?}");
            assert_eq!(
                store
                    .latest_with_reason(
                        "ehr",
                        monban_core::Reason::NoPresence,
                        t(-DAY),
                        t(3 * DAY),
                        5
                    )
                    .await
                    .unwrap()
                    .len(),
                2
            );
        },
    )
    .await;
}

#[tokio::test]
async fn the_last_status_before_the_horizon_is_replayed_and_a_bad_one_is_an_error() {
    on_both(
        "the_last_status_before_the_horizon_is_replayed",
        |store| async move {
            let door = DoorId::parse("ward3-main").unwrap();
            let change = |ms, status| StatusChange {
                door: door.clone(),
                ts: t(ms),
                status,
            };
            let mut tx = store.begin_write().await.unwrap();
            tx.insert_statuses(&[
                (change(0, DoorStatus::Offline), "mqtt", t(0)),
                (change(10, DoorStatus::Online), "mqtt", t(10)),
                (change(20, DoorStatus::Offline), "mqtt", t(20)),
                (change(100, DoorStatus::Online), "mqtt", t(100)),
            ])
            .await
            .unwrap();
            tx.insert_outages(&[(
                door.clone(),
                Outage {
                    from: t(5),
                    to: t(50),
                },
                monban_core::health::OutageCause::ModbusOverrun,
                "x".into(),
                t(50),
            )])
            .await
            .unwrap();
            tx.commit().await.unwrap();
            let since = store.statuses_since(t(50)).await.unwrap();
            assert_eq!(
                since.iter().map(|s| (s.ts, s.status)).collect::<Vec<_>>(),
                vec![(t(20), DoorStatus::Offline), (t(100), DoorStatus::Online)]
            );
            assert_eq!(store.outages_since(t(50)).await.unwrap().len(), 1);
            assert_eq!(store.outages_since(t(51)).await.unwrap().len(), 0);
        },
    )
    .await;
}
