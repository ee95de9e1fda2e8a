//! Hub users, as a service: passkeys only (webauthn-rs), roles, sessions, the audit
//! trail and invites. No HTTP here: the gate, the ceremonies' endpoints and the forms
//! that use this are in `crate::http` (`gate`, `ceremony`, `forms`).
//!
//! # Layout
//! - this module — [`Auth`]: the passkey settings and the ceremonies in flight (in
//!   memory), the session's one-time flashes, who is asking ([`Principal`],
//!   [`ClientAddr`]), the audit trail ([`audit`], [`record`]) and invites.
//! - [`policy`] — which route needs which permission (one table, closed by default).
//! - [`session`] — sessions: the cookie, starting one, the live session a cookie names
//!   (idle and absolute expiry, disabled users).
//!
//! Users, passkeys, invites, sessions, the audit trail and step-ups are stored by
//! `crate::store::auth`.
//!
//! No password exists anywhere: a user is created by a one-time invite link (the first
//! admin's by `monban user invite`), signs in with a passkey, and one who lost every
//! passkey needs a new invite.

pub mod policy;
pub mod session;

use crate::config::AuthSettings;
use crate::store::auth::{InviteRow, NewAudit, Owner, UserRow};
use crate::store::{Store, StoreError, TokenRow};
use base64::Engine as _;
use monban_core::Timestamp;
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration, Url,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long a started ceremony (options sent, answer awaited) stays valid.
const CEREMONY_TTL_MS: i64 = 5 * 60 * 1000;

/// A ceremony between its start and its finish, kept in memory.
// A few of these live for at most five minutes each; their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Pending {
    /// Enrollment through an invite.
    Enroll {
        invite: InviteRow,
        /// For a new user: the user to create; a re-invite names the existing one.
        user: Option<UserRow>,
        owner: String,
        passkey_name: String,
        reg: Box<PasskeyRegistration>,
    },
    /// A signed-in user proves it is them (a fresh assertion) before adding a passkey.
    AddPasskeyVerify {
        user_id: String,
        session_hash: String,
        passkey_name: String,
        auth: Box<PasskeyAuthentication>,
    },
    /// A signed-in user who has just verified adds a passkey.
    AddPasskey {
        user_id: String,
        session_hash: String,
        passkey_name: String,
        reg: Box<PasskeyRegistration>,
    },
    /// Sign-in of a named user.
    SignIn {
        user_id: String,
        next: Option<String>,
        auth: Box<PasskeyAuthentication>,
    },
    /// Sign-in with a discoverable passkey: the authenticator names the user.
    SignInDiscoverable {
        next: Option<String>,
        auth: Box<DiscoverableAuthentication>,
    },
    /// Sign-in of a name that cannot sign in (unknown, disabled, no passkey): it was
    /// answered like any other, and its finish fails. `name` is a bounded prefix.
    SignInRefused { name: String, reason: &'static str },
    /// A signed-in user confirms one action with a fresh assertion (a maintenance
    /// decision: transaction confirmation). `purpose` names the action.
    Confirm {
        user_id: String,
        session_hash: String,
        purpose: String,
        auth: Box<PasskeyAuthentication>,
    },
    /// A person verifies a step-up.
    StepUp {
        step_up_id: String,
        auth: Box<PasskeyAuthentication>,
    },
}

/// The most ceremonies kept in flight; past it the oldest is dropped (every start is
/// rate-limited per address, this bounds memory against many addresses).
const MAX_PENDING: usize = 10_000;

/// Passkey settings and the ceremonies in flight.
pub struct Auth {
    pub settings: AuthSettings,
    /// Where users open the dashboard; passkeys are bound to its host.
    pub origin: Url,
    pub webauthn: Webauthn,
    /// Cookies get `Secure` (and the `__Host-` prefix) when the hub is reached over https.
    pub secure_cookies: bool,
    pending: Mutex<HashMap<String, (Pending, i64)>>,
    /// One-time messages per session (a new token or enrollment link shown once). Kept in
    /// memory only: a secret must never reach the store's file, not even in a freed page.
    flashes: Mutex<HashMap<String, (Value, i64)>>,
    /// `access.denied` rows written per actor and address in the current minute.
    denials: Mutex<HashMap<String, (i64, u32)>>,
}

/// At most this many `access.denied` rows per actor and address a minute; refusals past
/// it are answered the same but only counted in the log.
pub const DENIALS_PER_MINUTE: u32 = 10;

impl Auth {
    /// `origin`: `[auth] origin`, or `http://localhost:<port>` when it is not set.
    pub fn new(settings: &AuthSettings, port: u16, tls: bool) -> anyhow::Result<Auth> {
        let origin = match &settings.origin {
            Some(o) => o.clone(),
            None => Url::parse(&format!(
                "{}://localhost:{port}",
                if tls { "https" } else { "http" }
            ))?,
        };
        let rp_id = origin
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("[auth] origin {origin} has no host"))?
            .to_string();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .map_err(|e| anyhow::anyhow!("[auth] origin {origin}: {e}"))?
            .rp_name("monban 門番")
            .build()
            .map_err(|e| anyhow::anyhow!("[auth] origin {origin}: {e}"))?;
        Ok(Auth {
            settings: settings.clone(),
            secure_cookies: tls || origin.scheme() == "https",
            origin,
            webauthn,
            pending: Mutex::new(HashMap::new()),
            flashes: Mutex::new(HashMap::new()),
            denials: Mutex::new(HashMap::new()),
        })
    }

    /// The public address of a path, e.g. an enrollment link.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.origin.as_str().trim_end_matches('/'), path)
    }

    /// The session cookie's name: `__Host-` prefixed when cookies are `Secure`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-monban_session"
        } else {
            "monban_session"
        }
    }

    /// Keeps a started ceremony; returns its id for the finish request.
    pub fn remember(&self, p: Pending, now: Timestamp) -> String {
        let id = secret(16);
        if let Ok(mut map) = self.pending.lock() {
            map.retain(|_, (_, at)| now.as_millis() - *at < CEREMONY_TTL_MS);
            if map.len() >= MAX_PENDING {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
            map.insert(id.clone(), (p, now.as_millis()));
        }
        id
    }

    /// Leaves a one-time message for the session's next page.
    pub fn set_flash(&self, session_hash: &str, value: Value, now: Timestamp) {
        if let Ok(mut map) = self.flashes.lock() {
            map.retain(|_, (_, at)| now.as_millis() - *at < CEREMONY_TTL_MS);
            map.insert(session_hash.to_string(), (value, now.as_millis()));
        }
    }

    /// Takes the session's one-time message (once; gone after five minutes).
    pub fn take_flash(&self, session_hash: &str, now: Timestamp) -> Option<Value> {
        let (v, at) = self.flashes.lock().ok()?.remove(session_hash)?;
        (now.as_millis() - at < CEREMONY_TTL_MS).then_some(v)
    }

    /// Whether another `access.denied` row may be written for `key` (actor and address)
    /// this minute ([`DENIALS_PER_MINUTE`]).
    pub fn may_record_denial(&self, key: &str, now: Timestamp) -> bool {
        let Ok(mut map) = self.denials.lock() else {
            return false;
        };
        let minute = now.as_millis() / 60_000;
        map.retain(|_, (m, _)| *m == minute);
        let entry = map.entry(key.to_string()).or_insert((minute, 0));
        entry.1 += 1;
        entry.1 <= DENIALS_PER_MINUTE
    }

    /// Takes a started ceremony (once), if it has not expired.
    pub fn take(&self, id: &str, now: Timestamp) -> Option<Pending> {
        let mut map = self.pending.lock().ok()?;
        let (p, at) = map.remove(id)?;
        (now.as_millis() - at < CEREMONY_TTL_MS).then_some(p)
    }
}

/// Random bytes in base64url (no padding).
pub fn secret(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// SHA-256 in hex: how secrets (cookies, invite links) are stored.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Who made a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A signed-in user.
    User {
        user: UserRow,
        session_hash: String,
        csrf: String,
    },
    /// A read token (`Authorization: Bearer`).
    Token(TokenRow),
    /// Nobody (a public route).
    Anonymous,
}

impl Principal {
    /// `(actor, actor_name)` for the audit trail.
    pub fn actor(&self) -> (String, String) {
        match self {
            Principal::User { user, .. } => (format!("user:{}", user.id), user.name.clone()),
            Principal::Token(t) => (format!("token:{}", t.id), t.label.clone()),
            Principal::Anonymous => ("anonymous".into(), String::new()),
        }
    }

    pub fn user(&self) -> Option<&UserRow> {
        match self {
            Principal::User { user, .. } => Some(user),
            _ => None,
        }
    }

    pub fn session_hash(&self) -> Option<&str> {
        match self {
            Principal::User { session_hash, .. } => Some(session_hash),
            _ => None,
        }
    }
}

/// The client's address as the hub saw it (request extension).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

/// Appends to the audit trail; a failure is logged, never hidden: the caller's action
/// has happened, and the log line says that its audit record is missing.
pub async fn audit(
    store: &Store,
    now: Timestamp,
    principal: &Principal,
    address: &str,
    action: &str,
    target: &str,
    detail: Value,
) {
    let (actor, actor_name) = principal.actor();
    record(
        store,
        now,
        (&actor, &actor_name),
        address,
        action,
        target,
        detail,
    )
    .await;
}

/// [`audit`] with an explicit actor `(actor, actor_name)` (the command line, a ceremony
/// before sign-in, a token).
pub async fn record(
    store: &Store,
    now: Timestamp,
    (actor, actor_name): (&str, &str),
    address: &str,
    action: &str,
    target: &str,
    detail: Value,
) {
    let line = NewAudit {
        actor,
        actor_name,
        action,
        target,
        detail,
        address,
    };
    if let Err(e) = store.append_audit(&line, now).await {
        tracing::error!(error = %e, action, target, actor, "could not write the audit trail");
    }
}

/// The invite an enrollment link's `token` names, if it can be used now; else why not
/// (`unknown`, `used`, `expired`, `awaiting_approval`), for the page and the audit trail.
pub async fn usable_invite(
    store: &Store,
    token: &str,
    now: Timestamp,
) -> Result<Result<InviteRow, &'static str>, StoreError> {
    let Some(invite) = store.invite_by_hash(&digest(token)).await? else {
        return Ok(Err("unknown"));
    };
    if invite.used_at.is_some() {
        return Ok(Err("used"));
    }
    if invite.expires_at <= now {
        return Ok(Err("expired"));
    }
    if invite.approved_by.is_none() {
        return Ok(Err("awaiting_approval"));
    }
    Ok(Ok(invite))
}

/// Creates an invite and returns `(invite, link)`; the link's secret is shown once.
///
/// A person's step-up enrollment link made this way (on the dashboard) waits for a
/// second officer or admin to approve it before it works: whoever can map an account to
/// a person must not alone be able to register that person's passkey, or one officer
/// could make any password login `direct_2fa`.
#[allow(clippy::too_many_arguments)]
pub async fn create_invite(
    store: &Store,
    auth: &Auth,
    now: Timestamp,
    kind: Owner,
    subject: Option<String>,
    name: &str,
    role: Option<monban_web::auth::Role>,
    created_by: &str,
) -> Result<(InviteRow, String), StoreError> {
    new_invite(
        store,
        auth,
        now,
        kind,
        subject,
        name,
        role,
        created_by,
        (kind == Owner::User).then_some(created_by),
    )
    .await
}

/// [`create_invite`] with its approval given (the command line, whose invites are
/// approved by `cli`: whoever runs it holds the hub's machine).
#[allow(clippy::too_many_arguments)]
pub async fn new_invite(
    store: &Store,
    auth: &Auth,
    now: Timestamp,
    kind: Owner,
    subject: Option<String>,
    name: &str,
    role: Option<monban_web::auth::Role>,
    created_by: &str,
    approved_by: Option<&str>,
) -> Result<(InviteRow, String), StoreError> {
    let token = secret(24);
    let invite = InviteRow {
        id: format!("inv-{}", &digest(&token)[..12]),
        kind,
        subject,
        name: name.to_string(),
        role,
        created_by: created_by.to_string(),
        created_at: now,
        expires_at: Timestamp::from_millis(now.as_millis() + auth.settings.invite_ttl.as_millis()),
        used_at: None,
        approved_by: approved_by.map(str::to_string),
        approved_at: approved_by.map(|_| now),
    };
    store.insert_invite(&invite, &digest(&token)).await?;
    Ok((invite, auth.link(&format!("/enroll/{token}"))))
}
