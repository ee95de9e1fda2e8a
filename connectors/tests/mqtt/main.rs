//! Integration tests of the MQTT connector against real brokers: an embedded rumqttd
//! (always) and Mosquitto (when `MONBAN_TEST_MQTT_URL` is set, e.g.
//! `mqtt://127.0.0.1:1883`). Each scenario is written once and run against both.
//!
//! Every test uses its own client id and site, so tests never share a session or a
//! topic; conditions are awaited with a deadline, never with fixed sleeps.
#![allow(clippy::unwrap_used)]

mod scenarios;
mod support;
mod vendors;

use support::{mosquitto_url, start_rumqttd};

macro_rules! against_both {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod rumqttd {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    crate::$module::$scenario(&crate::start_rumqttd()).await;
                }
            )*
        }
        mod mosquitto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(url) = crate::mosquitto_url() else { return };
                    crate::$module::$scenario(&url).await;
                }
            )*
        }
    };
}

against_both!(
    scenarios::delivers_dedupes_and_dead_letters,
    scenarios::redelivers_after_a_store_failure,
    scenarios::a_burst_with_store_failures_loses_nothing,
    scenarios::persistent_session_keeps_what_was_published_while_down,
    scenarios::lost_session_is_reported_as_a_blind_period,
    scenarios::a_first_connection_without_a_session_is_reported_fresh,
    vendors::esp_rfid_reader,
    vendors::uhppoted_gateway,
    vendors::door_contacts,
    vendors::last_wills_take_doors_offline,
    vendors::vendor_messages_redelivered_after_a_store_failure,
    vendors::native_topics_come_first,
);

#[tokio::test]
async fn unreachable_broker_is_retried_and_cancel_stops_it() {
    scenarios::unreachable_broker_is_retried_and_cancel_stops_it().await;
}

#[tokio::test]
async fn setup_errors_are_returned_before_connecting() {
    scenarios::setup_errors_are_returned_before_connecting().await;
}
