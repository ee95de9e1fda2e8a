//! A one-shot login source (`monban-sim login`): posts one login to the hub (CONTRACT
//! §7) with a system's login-ingest token and reads the verdict from the hub's reply,
//! for testers checking a terminal or an account by hand.
//!
//! The body is [`LoginMessage::body`], the same the day player and the scenario runner
//! send; delivery is the day player's `post_login` (connection errors and 5xx retried
//! with backoff); the reply is read by [`crate::scenario::parse_verdict`].

use crate::day::{post_login, Posted};
use crate::scenario::{parse_verdict, HubVerdict};
use crate::schedule::LoginMessage;
use anyhow::{bail, Context as _};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the hub did with the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// `202` (or `200` for a repeated event id), with the verdict.
    Judged(HubVerdict),
    /// A 4xx (or a 5xx after retries): the status and the hub's error body.
    Refused { status: u16, body: String },
}

/// Posts `login` to `{hub_url}/api/v1/logins` with `token`. Fails on a bad URL, an
/// unreachable hub, an unreadable reply, or when `cancel` fires.
pub async fn send(
    hub_url: &str,
    token: &str,
    login: &LoginMessage,
    cancel: &CancellationToken,
) -> anyhow::Result<Sent> {
    let url = reqwest::Url::parse(hub_url)
        .with_context(|| format!("hub URL {hub_url:?} is not a URL"))?;
    if url.scheme() != "http" {
        bail!("hub URL {hub_url:?} must start with http://");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("cannot build the HTTP client")?;
    let logins = format!("{}/api/v1/logins", hub_url.trim_end_matches('/'));
    match post_login(
        &http,
        &logins,
        token,
        &login.event_id,
        &login.body(),
        cancel,
    )
    .await?
    {
        Posted::Accepted(body) => Ok(Sent::Judged(
            parse_verdict(&body).with_context(|| format!("POST {logins}: {body}"))?,
        )),
        Posted::Rejected { status, body } => Ok(Sent::Refused { status, body }),
        Posted::Cancelled => bail!("interrupted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use monban_core::{Factor, Outcome, SystemId};

    fn login() -> LoginMessage {
        LoginMessage {
            event_id: "l-1".into(),
            ts: DateTime::parse_from_rfc3339("2026-11-21T09:05:00+09:00").expect("time"),
            system: SystemId::parse("ehr".to_string()).expect("id"),
            account: "nurse01".into(),
            terminal: "ward3-pc01".into(),
            factors: vec![Factor::Password],
            outcome: Outcome::Success,
        }
    }

    /// A stub hub: 202 with a verdict for `Bearer ehr`, 403 otherwise; it checks the body.
    async fn stub() -> String {
        use axum::http::{HeaderMap, StatusCode};
        use axum::routing::post;
        let app = axum::Router::new().route(
            "/api/v1/logins",
            post(
                |headers: HeaderMap, body: axum::Json<serde_json::Value>| async move {
                    if headers.get("authorization").and_then(|v| v.to_str().ok())
                        != Some("Bearer ehr")
                    {
                        return (
                        StatusCode::FORBIDDEN,
                        r#"{"error":{"code":"forbidden","message":"token for another system"}}"#
                            .to_string(),
                    );
                    }
                    assert_eq!(body["ts"], "2026-11-21T09:05:00+09:00");
                    assert_eq!(body["factors"], serde_json::json!(["password"]));
                    (
                        StatusCode::ACCEPTED,
                        serde_json::json!({"event_id": body["event_id"], "verdict": "not_met",
                        "reasons": ["no_presence"], "final": false})
                        .to_string(),
                    )
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn the_verdict_comes_from_the_reply_and_a_refusal_keeps_the_hubs_words() {
        let hub = stub().await;
        let never = CancellationToken::new();
        let sent = send(&hub, "ehr", &login(), &never).await.expect("sent");
        assert_eq!(
            sent,
            Sent::Judged(HubVerdict {
                event_id: Some("l-1".into()),
                verdict: "not_met".into(),
                reasons: vec!["no_presence".into()],
                is_final: Some(false),
            })
        );
        let refused = send(&hub, "vpn", &login(), &never).await.expect("answered");
        assert!(
            matches!(&refused, Sent::Refused { status: 403, body } if body.contains("another system")),
            "{refused:?}"
        );
        assert!(send("ftp://x", "t", &login(), &never).await.is_err());
    }
}
