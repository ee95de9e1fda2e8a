//! Sessions: the cookie a sign-in sets, and the live session a cookie names.
//!
//! A session cookie (`monban_session`, `HttpOnly`, `SameSite=Strict`, `Secure` with the
//! `__Host-` prefix over https) holds 32 random bytes; the store keeps their SHA-256
//! with a CSRF token. A session counts while it is younger than `[auth] session_max`
//! and was used within `session_idle`, and its user is not disabled ([`live_session`]).
//! The gate in front of every route (`crate::http::gate`) asks this module who a cookie
//! names.

use super::{digest, secret, Auth};
use crate::store::auth::{SessionRow, UserRow};
use crate::store::{Store, StoreError};
use monban_core::Timestamp;

/// A session's last use is written at most this often (or a tenth of the idle timeout,
/// when that is shorter, so a session in use never idles out).
const TOUCH_EVERY_MS: i64 = 30_000;

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(auth: &Auth, value: &str) -> String {
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        auth.cookie_name(),
        auth.settings.session_max.as_millis() / 1000,
        if auth.secure_cookies { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(auth: &Auth) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        auth.cookie_name(),
        if auth.secure_cookies { "; Secure" } else { "" }
    )
}

/// Starts a session for `user`, signed in with `passkey`; returns the `Set-Cookie` value.
pub async fn start_session(
    store: &Store,
    auth: &Auth,
    now: Timestamp,
    user: &UserRow,
    address: &str,
    passkey: &str,
) -> Result<String, StoreError> {
    let value = secret(32);
    store
        .insert_session(&SessionRow {
            hash: digest(&value),
            user_id: user.id.clone(),
            csrf: secret(24),
            address: address.to_string(),
            created_at: now,
            last_seen_at: now,
            ended_at: None,
            passkey: Some(passkey.to_string()),
        })
        .await?;
    Ok(session_cookie(auth, &value))
}

/// Why a session cookie did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dead {
    Unknown,
    Ended,
    Idle,
    Expired,
    Disabled,
}

/// The live session the cookie names, with its user; an idle or expired one is ended.
pub async fn live_session(
    store: &Store,
    auth: &Auth,
    cookie: &str,
    now: Timestamp,
) -> Result<Result<(SessionRow, UserRow), Dead>, StoreError> {
    let hash = digest(cookie);
    let Some(s) = store.session(&hash).await? else {
        return Ok(Err(Dead::Unknown));
    };
    if s.ended_at.is_some() {
        return Ok(Err(Dead::Ended));
    }
    let idle =
        now.as_millis() - s.last_seen_at.as_millis() >= auth.settings.session_idle.as_millis();
    let old = now.as_millis() - s.created_at.as_millis() >= auth.settings.session_max.as_millis();
    if idle || old {
        let _ = store.end_session(&hash, now).await;
        return Ok(Err(if old { Dead::Expired } else { Dead::Idle }));
    }
    let Some(user) = store.user(&s.user_id).await? else {
        return Ok(Err(Dead::Unknown));
    };
    if user.disabled_at.is_some() {
        return Ok(Err(Dead::Disabled));
    }
    let touch_every = TOUCH_EVERY_MS.min(auth.settings.session_idle.as_millis() / 10);
    if now.as_millis() - s.last_seen_at.as_millis() >= touch_every {
        if let Err(e) = store.touch_session(&hash, now).await {
            tracing::warn!(error = %e, "could not record session use");
        }
    }
    Ok(Ok((s, user)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthSettings;

    #[test]
    fn cookies_follow_the_transport() {
        let plain = Auth::new(&AuthSettings::default(), 8080, false).expect("auth");
        let c = session_cookie(&plain, "v");
        assert!(
            c.starts_with("monban_session=v; Path=/; HttpOnly; SameSite=Strict"),
            "{c}"
        );
        assert!(!c.contains("Secure"), "{c}");
        assert_eq!(plain.origin.as_str(), "http://localhost:8080/");

        let tls = Auth::new(&AuthSettings::default(), 8443, true).expect("auth");
        let c = session_cookie(&tls, "v");
        assert!(
            c.starts_with("__Host-monban_session=v; Path=/; HttpOnly; SameSite=Strict"),
            "{c}"
        );
        assert!(c.ends_with("; Secure"), "{c}");
        assert!(clear_cookie(&tls).contains("Max-Age=0"));

        // Behind a TLS-terminating proxy: the configured https origin makes cookies Secure.
        let behind = AuthSettings {
            origin: url::Url::parse("https://monban.example.jp").ok(),
            ..AuthSettings::default()
        };
        let proxied = Auth::new(&behind, 8080, false).expect("auth");
        assert!(session_cookie(&proxied, "v").contains("Secure"));
        assert_eq!(
            proxied.link("/enroll/x"),
            "https://monban.example.jp/enroll/x"
        );
    }
}
