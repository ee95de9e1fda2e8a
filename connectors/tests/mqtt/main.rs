//! Integration tests of the MQTT connector against real brokers: an embedded rumqttd
//! (always) and Mosquitto (when `MONBAN_TEST_MQTT_URL` is set, e.g.
//! `mqtt://127.0.0.1:1883`). Each scenario is written once and run against both.
//!
//! Every test uses its own client id and site, so tests never share a session or a
//! topic; conditions are awaited with a deadline, never with fixed sleeps.
#![allow(clippy::unwrap_used)]

mod scenarios;
mod support;

use support::{mosquitto_url, start_rumqttd};

macro_rules! against_both {
    ($($scenario:ident),* $(,)?) => {
        mod rumqttd {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::scenarios::$scenario(&crate::start_rumqttd()).await;
                }
            )*
        }
        mod mosquitto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(url) = crate::mosquitto_url() else { return };
                    crate::scenarios::$scenario(&url).await;
                }
            )*
        }
    };
}

against_both!(
    delivers_dedupes_and_dead_letters,
    redelivers_after_a_store_failure,
    a_burst_with_store_failures_loses_nothing,
    persistent_session_keeps_what_was_published_while_down,
    lost_session_is_reported_as_a_blind_period,
);

#[tokio::test]
async fn unreachable_broker_is_retried_and_cancel_stops_it() {
    scenarios::unreachable_broker_is_retried_and_cancel_stops_it().await;
}

#[tokio::test]
async fn setup_errors_are_returned_before_connecting() {
    scenarios::setup_errors_are_returned_before_connecting().await;
}
