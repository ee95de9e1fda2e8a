//! `[[notify]]` and `[smtp]` (CONTRACT §11): where notifications go.
//!
//! Read in two steps, like `[mqtt] password_env`: the file is checked when it is parsed
//! (event names, URLs, addresses, one of `url` and `email`, `[smtp]` for e-mail), and the
//! secrets are read from the environment when the hub starts ([`NotifySettings::resolve`]),
//! so that `monban token issue` and tests that build a configuration in code need no
//! secret, while `monban serve` refuses to start without the ones it was told to use. Both
//! steps name the file and the line.
//!
//! SMTP credentials come from the environment only: `MONBAN_SMTP_USER` and
//! `MONBAN_SMTP_PASSWORD` (both or neither).

use monban_core::notify::{EventKind, Events};
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// Where the file's problems go: the configuration's own context (`super::Ctx`), which
/// turns a span and a key into the file's line. A trait, so that this module does not
/// reach up into its parent.
pub(super) trait Report {
    /// A problem of the entry `span`, at its first line.
    fn err(&mut self, span: Range<usize>, message: impl Into<String>);
    /// A problem at the line of `key = …` inside the entry `span`.
    fn err_key(&mut self, span: Range<usize>, key: &str, message: impl Into<String>);
    /// The line of `key = …` inside `span`.
    fn line_of_key(&self, span: Range<usize>, key: &str) -> usize;
    /// The file's name, as errors show it.
    fn file(&self) -> String;
}

/// A secret of the environment that is missing or not usable, located at the line of
/// the file that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Every [`EnvError`] of a start, shown one a line like the file's own problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct EnvErrors(pub Vec<EnvError>);

impl std::fmt::Display for EnvErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match e.line {
                Some(l) => write!(f, "{}:{}: {}", e.file, l, e.message)?,
                None => write!(f, "{}: {}", e.file, e.message)?,
            }
        }
        Ok(())
    }
}

/// The environment variable that holds the SMTP user name (optional).
pub const SMTP_USER_ENV: &str = "MONBAN_SMTP_USER";
/// The environment variable that holds the SMTP password (with [`SMTP_USER_ENV`]).
pub const SMTP_PASSWORD_ENV: &str = "MONBAN_SMTP_PASSWORD";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    url: Option<String>,
    secret_env: Option<String>,
    email: Option<Vec<String>>,
    events: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    url: String,
    from: String,
    /// Only to refuse them with a pointer to the environment variables.
    user: Option<toml::Value>,
    password: Option<toml::Value>,
}

/// `[[notify]]` and `[smtp]`, checked; secrets not read yet.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    pub targets: Vec<TargetSettings>,
    pub smtp: Option<SmtpSettings>,
}

/// One `[[notify]]` table.
#[derive(Debug, Clone)]
pub struct TargetSettings {
    pub sink: SinkSettings,
    pub events: Events,
    file: String,
    line: Option<usize>,
}

/// Where a target sends.
#[derive(Debug, Clone)]
pub enum SinkSettings {
    /// `url` and `secret_env`: a webhook signed with the secret in that variable.
    Webhook { url: url::Url, secret_env: String },
    /// `email`: a message to these addresses through `[smtp]`.
    Email { to: Vec<lettre::message::Mailbox> },
}

/// `[smtp]`: the server and the sender.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port` (add `?tls=required` for STARTTLS) or `smtps://host:port`.
    pub url: url::Url,
    pub from: lettre::message::Mailbox,
    file: String,
    line: Option<usize>,
}

/// A target ready to send: the secret read.
#[derive(Clone)]
pub struct Target {
    /// Stable name of the target, stored with each delivery: `webhook:<url>` or
    /// `email:<a>,<b>`.
    pub id: String,
    pub events: Events,
    pub sink: Sink,
}

/// A target's sink, with its secret.
#[derive(Clone)]
pub enum Sink {
    Webhook {
        url: url::Url,
        /// The HMAC key: the base64-decoded part of `whsec_…`.
        key: Vec<u8>,
    },
    Email {
        to: Vec<lettre::message::Mailbox>,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        write!(f, "Target({})", self.id)
    }
}

/// `[smtp]` ready to send: with the credentials of the environment.
#[derive(Clone)]
pub struct Smtp {
    pub url: url::Url,
    pub from: lettre::message::Mailbox,
    /// `MONBAN_SMTP_USER` and `MONBAN_SMTP_PASSWORD`.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Smtp({}, from {}, user {:?})",
            self.url,
            self.from,
            self.credentials.as_ref().map(|(u, _)| u)
        )
    }
}

/// What [`NotifySettings::resolve`] returns: the targets and the SMTP server.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub targets: Vec<Target>,
    pub smtp: Option<Smtp>,
}

impl SinkSettings {
    /// The target's stored name (see [`Target::id`]).
    pub fn id(&self) -> String {
        match self {
            SinkSettings::Webhook { url, .. } => format!("webhook:{url}"),
            SinkSettings::Email { to } => format!(
                "email:{}",
                to.iter()
                    .map(|m| m.email.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

impl NotifySettings {
    /// Reads the secrets from the environment (`lookup` is `std::env::var` outside
    /// tests). A `secret_env` that is not set, or not `whsec_` followed by base64 of at
    /// least 16 bytes, is an error at the line of `secret_env`; so is an SMTP password
    /// without a user (or the reverse).
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Resolved, EnvErrors> {
        let mut errors = Vec::new();
        let mut targets = Vec::new();
        for t in &self.targets {
            let sink = match &t.sink {
                SinkSettings::Email { to } => Sink::Email { to: to.clone() },
                SinkSettings::Webhook { url, secret_env } => {
                    match webhook_key(secret_env, lookup(secret_env)) {
                        Ok(key) => Sink::Webhook {
                            url: url.clone(),
                            key,
                        },
                        Err(message) => {
                            errors.push(EnvError {
                                file: t.file.clone(),
                                line: t.line,
                                message,
                            });
                            continue;
                        }
                    }
                }
            };
            targets.push(Target {
                id: t.sink.id(),
                events: t.events.clone(),
                sink,
            });
        }
        let smtp = self.smtp.as_ref().and_then(|s| {
            let user = lookup(SMTP_USER_ENV).filter(|v| !v.is_empty());
            let password = lookup(SMTP_PASSWORD_ENV).filter(|v| !v.is_empty());
            let credentials = match (user, password) {
                (Some(u), Some(p)) => Some((u, p)),
                (None, None) => None,
                (u, _) => {
                    let (set, unset) = if u.is_some() {
                        (SMTP_USER_ENV, SMTP_PASSWORD_ENV)
                    } else {
                        (SMTP_PASSWORD_ENV, SMTP_USER_ENV)
                    };
                    errors.push(EnvError {
                        file: s.file.clone(),
                        line: s.line,
                        message: format!(
                            "[smtp]: the environment variable {set} is set but {unset} is not: set both (the SMTP user and password), or neither"
                        ),
                    });
                    return None;
                }
            };
            Some(Smtp {
                url: s.url.clone(),
                from: s.from.clone(),
                credentials,
            })
        });
        if errors.is_empty() {
            Ok(Resolved { targets, smtp })
        } else {
            Err(EnvErrors(errors))
        }
    }
}

/// The HMAC key of a webhook: `whsec_` and base64 in the variable `name`.
pub fn webhook_key(name: &str, value: Option<String>) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let hint = "set it to whsec_ followed by base64 of at least 16 random bytes, e.g. whsec_$(head -c 32 /dev/urandom | base64)";
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Err(format!(
            "[[notify]] secret_env names the environment variable {name}, which is not set: {hint}"
        ));
    };
    let Some(b64) = value.trim().strip_prefix("whsec_") else {
        return Err(format!(
            "[[notify]] the environment variable {name} does not start with whsec_: {hint}"
        ));
    };
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(key) if key.len() >= 16 => Ok(key),
        Ok(key) => Err(format!(
            "[[notify]] the secret in {name} is {} bytes long, too short: {hint}",
            key.len()
        )),
        Err(_) => Err(format!(
            "[[notify]] the environment variable {name} is not whsec_ followed by base64: {hint}"
        )),
    }
}

/// Checks `[[notify]]` and `[smtp]`; every problem goes to `cx` at its line.
pub(super) fn parse(
    cx: &mut impl Report,
    notify: &[Spanned<RawNotify>],
    smtp: Option<&Spanned<RawSmtp>>,
) -> NotifySettings {
    let smtp = smtp.and_then(|s| parse_smtp(cx, s.span(), s.get_ref()));
    let mut targets: Vec<TargetSettings> = Vec::new();
    for n in notify {
        let span = n.span();
        let raw = n.get_ref();
        let events = match &raw.events {
            None => {
                cx.err(
                    span.clone(),
                    format!(
                        "[[notify]] needs events = [...]: \"*\" for all, or some of {}",
                        EventKind::names()
                    ),
                );
                None
            }
            Some(names) => match Events::parse(names) {
                Ok(e) => Some(e),
                Err(e) => {
                    cx.err_key(span.clone(), "events", format!("[[notify]] {e}"));
                    None
                }
            },
        };
        let sink = match (&raw.url, &raw.email) {
            (Some(_), Some(_)) => {
                cx.err_key(span.clone(), "email", "[[notify]] has both url and email: one table is one target, a webhook (url, secret_env) or e-mail (email); write two tables");
                None
            }
            (None, None) => {
                cx.err(span.clone(), "[[notify]] needs url = \"https://…\" with secret_env (a webhook), or email = [\"…\"] (e-mail through [smtp])");
                None
            }
            (Some(url), None) => parse_webhook(cx, span.clone(), url, raw.secret_env.as_deref()),
            (None, Some(to)) => {
                if raw.secret_env.is_some() {
                    cx.err_key(
                        span.clone(),
                        "secret_env",
                        "[[notify]] secret_env applies to a webhook (url), not to email",
                    );
                }
                if smtp.is_none() {
                    cx.err_key(span.clone(), "email", "[[notify]] email needs [smtp] (url = \"smtp://mail.example.jp:587\", from = \"monban@example.jp\")");
                }
                parse_email(cx, span.clone(), to)
            }
        };
        if let (Some(sink), Some(events)) = (sink, events) {
            let id = sink.id();
            if targets.iter().any(|t| t.sink.id() == id) {
                cx.err(
                    span.clone(),
                    format!("[[notify]] {id} is configured twice: put its events in one table"),
                );
                continue;
            }
            let key = match sink {
                SinkSettings::Webhook { .. } => "secret_env",
                SinkSettings::Email { .. } => "email",
            };
            let line = Some(cx.line_of_key(span.clone(), key));
            targets.push(TargetSettings {
                sink,
                events,
                file: cx.file(),
                line,
            });
        }
    }
    NotifySettings { targets, smtp }
}

fn parse_webhook(
    cx: &mut impl Report,
    span: Range<usize>,
    url: &str,
    secret_env: Option<&str>,
) -> Option<SinkSettings> {
    let parsed = match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                cx.err_key(span.clone(), "url", "[[notify]] url must not hold a user or password: the receiver checks the signature (secret_env)");
                None
            } else {
                Some(u)
            }
        }
        _ => {
            cx.err_key(
                span.clone(),
                "url",
                format!("[[notify]] url {url:?} must be an http:// or https:// address such as \"https://hooks.example-hospital.jp/monban\""),
            );
            None
        }
    };
    let secret_env = match secret_env {
        None => {
            cx.err_key(span.clone(), "url", "[[notify]] a webhook needs secret_env = \"MONBAN_WEBHOOK_SECRET\": the environment variable that holds its signing secret (whsec_…)");
            None
        }
        Some(name) => {
            let valid = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                Some(name.to_string())
            } else {
                cx.err_key(span.clone(), "secret_env", format!("[[notify]] secret_env {name:?} must be the name of an environment variable, such as \"MONBAN_WEBHOOK_SECRET\" (letters, digits and _), not the secret"));
                None
            }
        }
    };
    Some(SinkSettings::Webhook {
        url: parsed?,
        secret_env: secret_env?,
    })
}

fn parse_email(cx: &mut impl Report, span: Range<usize>, to: &[String]) -> Option<SinkSettings> {
    if to.is_empty() {
        cx.err_key(
            span,
            "email",
            "[[notify]] email is empty: list one address or more",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for a in to {
        match a.parse::<lettre::Address>() {
            Ok(addr) => out.push(lettre::message::Mailbox::new(None, addr)),
            Err(e) => {
                ok = false;
                cx.err_key(
                    span.clone(),
                    "email",
                    format!("[[notify]] email {a:?} is not an e-mail address: {e}"),
                );
            }
        }
    }
    ok.then_some(SinkSettings::Email { to: out })
}

fn parse_smtp(cx: &mut impl Report, span: Range<usize>, s: &RawSmtp) -> Option<SmtpSettings> {
    for (key, set) in [
        ("user", s.user.is_some()),
        ("password", s.password.is_some()),
    ] {
        if set {
            cx.err_key(span.clone(), key, format!("[smtp] {key} is not read from the file: put the SMTP user in the environment variable {SMTP_USER_ENV} and the password in {SMTP_PASSWORD_ENV}"));
        }
    }
    let url = match url::Url::parse(&s.url) {
        Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                cx.err_key(span.clone(), "url", format!("[smtp] url must not hold a user or password: set {SMTP_USER_ENV} and {SMTP_PASSWORD_ENV} in the environment"));
                None
            } else {
                Some(u)
            }
        }
        _ => {
            cx.err_key(
                span.clone(),
                "url",
                format!("[smtp] url {:?} must look like \"smtp://mail.example.jp:587\" (add ?tls=required for STARTTLS) or \"smtps://mail.example.jp:465\"", s.url),
            );
            None
        }
    };
    let from = match s.from.parse::<lettre::message::Mailbox>() {
        Ok(m) => Some(m),
        Err(e) => {
            cx.err_key(
                span.clone(),
                "from",
                format!("[smtp] from {:?} is not an e-mail address: {e}", s.from),
            );
            None
        }
    };
    let line = Some(cx.line_of_key(span.clone(), "url"));
    Some(SmtpSettings {
        url: url?,
        from: from?,
        file: cx.file(),
        line,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The secret's format; the tables as a whole are tested through `Config::parse` in
    //! `server/tests/inproc/notify.rs`.
    use super::*;

    #[test]
    fn a_secret_is_whsec_and_base64_of_16_bytes_or_more() {
        let key = webhook_key("S", Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into())).unwrap();
        assert_eq!(key.len(), 24);
        for (value, why) in [
            (None, "which is not set"),
            (Some(""), "which is not set"),
            (
                Some("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                "does not start with whsec_",
            ),
            (Some("whsec_!!!"), "is not whsec_ followed by base64"),
            (Some("whsec_c2hvcnQ="), "5 bytes long, too short"),
        ] {
            let e = webhook_key("HOOK", value.map(str::to_string)).unwrap_err();
            assert!(e.contains(why), "{value:?}: {e}");
            assert!(e.contains("HOOK"), "names the variable: {e}");
            assert!(
                !e.contains("MfKQ9r8") && !e.contains("c2hvcnQ") && !e.contains("!!!"),
                "never the secret: {e}"
            );
        }
    }
}
