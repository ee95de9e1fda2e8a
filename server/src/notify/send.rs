//! One attempt of one delivery: a webhook `POST` signed as Standard Webhooks do, or an
//! e-mail through `[smtp]`. An attempt either succeeds (a 2xx; the SMTP server accepted
//! the message) or fails with a short reason that the delivery log shows; it never
//! echoes a secret or a webhook's query string.

use crate::config::notify::{Resolved, Sink, Smtp, Target};
use crate::store::notify::NotificationRow;
use hmac::{Hmac, Mac};
use lettre::AsyncTransport as _;
use monban_core::notify::mail_text;
use monban_core::Timestamp;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

/// How long one attempt may take (connect, send, answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What sends: the HTTP client of the webhooks, the SMTP transport, the site named in
/// bodies and e-mails, and the targets.
pub struct Sender {
    http: reqwest::Client,
    smtp: Option<Smtp>,
    mailer: Option<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>>,
    site_id: String,
    site_name: String,
    targets: Vec<Target>,
}

/// Why a sender cannot be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("cannot build the HTTP client for webhooks: {0}")]
    Http(#[from] reqwest::Error),
    #[error("[smtp] url {url}: {error}")]
    Smtp { url: String, error: String },
}

impl Sender {
    /// A sender for these targets, naming the site `(id, name)`.
    pub fn new(site: (&str, &str), resolved: Resolved) -> Result<Sender, SenderError> {
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            // A redirect is not a delivery: the receiver's address is the configured one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("monban/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mailer = resolved.smtp.as_ref().map(mailer).transpose()?;
        Ok(Sender {
            http,
            smtp: resolved.smtp,
            mailer,
            site_id: site.0.to_string(),
            site_name: site.1.to_string(),
            targets: resolved.targets,
        })
    }

    /// The configured targets.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The site's id, as webhook bodies name it.
    pub fn site_id(&self) -> &str {
        &self.site_id
    }

    /// One attempt of `n` to `target` at `now`; `Err` holds why it failed (bounded by the
    /// store).
    pub async fn attempt(
        &self,
        target: &Target,
        n: &NotificationRow,
        now: Timestamp,
    ) -> Result<(), String> {
        match &target.sink {
            Sink::Webhook { url, key } => self.webhook(url, key, n, now).await,
            Sink::Email { to } => self.email(to, n).await,
        }
    }

    async fn webhook(
        &self,
        url: &url::Url,
        key: &[u8],
        n: &NotificationRow,
        now: Timestamp,
    ) -> Result<(), String> {
        let body = webhook_body(n);
        let timestamp = now.as_millis().div_euclid(1000);
        let signature = format!("v1,{}", sign(key, &n.id, timestamp, &body));
        let reply = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &n.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            // Without the URL: its query string may hold the receiver's token.
            .map_err(|e| e.without_url().to_string())?;
        let status = reply.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }

    async fn email(
        &self,
        to: &[lettre::message::Mailbox],
        n: &NotificationRow,
    ) -> Result<(), String> {
        let (Some(smtp), Some(mailer)) = (&self.smtp, &self.mailer) else {
            return Err("no [smtp] is configured".into());
        };
        let text = mail_text(
            n.kind,
            &n.id,
            &self.site_id,
            &self.site_name,
            &n.at.to_rfc3339(),
            &data_of(n),
        );
        let mut message = lettre::Message::builder()
            .from(smtp.from.clone())
            .subject(text.subject)
            // The same id on every attempt: a mail client shows a repeat as one message.
            .message_id(Some(format!("<{}@monban>", n.id)))
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        for m in to {
            message = message.to(m.clone());
        }
        let message = message.body(text.body).map_err(|e| e.to_string())?;
        mailer
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

/// The Standard Webhooks signature of a message: base64 of
/// HMAC-SHA256(`key`, "{id}.{timestamp}.{body}"), without the `v1,` prefix.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    use base64::Engine as _;
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC takes a key of any length.
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook body of a notification: `{"type", "id", "at", "site", "data"}`.
pub fn webhook_body(n: &NotificationRow) -> String {
    json!({
        "type": n.kind.as_str(),
        "id": n.id,
        "at": n.at.to_rfc3339(),
        "site": n.site,
        "data": data_of(n),
    })
    .to_string()
}

fn data_of(n: &NotificationRow) -> Value {
    serde_json::from_str(&n.data).unwrap_or_else(|_| Value::String(n.data.clone()))
}

/// A target as the delivery log shows it: a webhook's URL without its query string or
/// fragment (which may carry a receiver's token), an e-mail target as stored.
pub fn shown(target: &str) -> String {
    match target.strip_prefix("webhook:") {
        Some(url) => match url::Url::parse(url) {
            Ok(mut u) => {
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            }
            Err(_) => "webhook".into(),
        },
        None => target.to_string(),
    }
}

/// The SMTP transport of `[smtp]` (built once; it connects when a message is sent).
fn mailer(smtp: &Smtp) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, SenderError> {
    let mut builder =
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp.url.as_str())
            .map_err(|e| SenderError::Smtp {
                url: smtp.url.to_string(),
                error: e.to_string(),
            })?
            .timeout(Some(ATTEMPT_TIMEOUT));
    if let Some((user, password)) = &smtp.credentials {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.clone(),
            password.clone(),
        ));
    }
    Ok(builder.build())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use monban_core::notify::EventKind;
    use monban_core::Timestamp;

    #[test]
    fn the_standard_webhooks_test_vector() {
        // The published vector of the Standard Webhooks reference libraries.
        let key = crate::config::notify::webhook_key(
            "S",
            Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        )
        .unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#
            ),
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn the_body_and_what_the_log_shows() {
        let n = NotificationRow {
            id: "msg_1".into(),
            kind: EventKind::RoomAlarm,
            key: "room.alarm:d:e".into(),
            at: Timestamp::from_millis(0),
            site: "tokyo".into(),
            data: r#"{"door":"d"}"#.into(),
        };
        let body: Value = serde_json::from_str(&webhook_body(&n)).unwrap();
        assert_eq!(
            body,
            json!({"type": "room.alarm", "id": "msg_1", "at": "1970-01-01T00:00:00Z",
                   "site": "tokyo", "data": {"door": "d"}})
        );
        assert_eq!(
            shown("webhook:https://h.example.jp/hook?token=secret#x"),
            "https://h.example.jp/hook"
        );
        assert_eq!(shown("email:a@example.jp"), "email:a@example.jp");
    }
}
