//! The WebAuthn ceremonies, as JSON endpoints the pages' `passkey.js` calls:
//!
//! | start | finish | what |
//! |---|---|---|
//! | `POST /auth/enroll/start` `{token, passkey_name}` | `POST /auth/enroll/finish` | register through an invite (signs a user in; a person's passkey is only stored) |
//! | `POST /auth/signin/start` `{name?, next}` | `POST /auth/signin/finish` | sign in: with a name, or (no name) with a discoverable passkey that names its user |
//! | `POST /auth/passkeys/start` `{passkey_name}` → `POST /auth/passkeys/verify` | `POST /auth/passkeys/finish` | a signed-in user adds a passkey, after a fresh assertion with one they have |
//! | `POST /auth/step-up/{id}/start` | `POST /auth/step-up/{id}/finish` | a person verifies a step-up |
//!
//! **Every name gets the same answer.** A sign-in start for a name that cannot sign in
//! (unknown, disabled, no passkey) answers `200` with options of the same shape as a real
//! user's: `allowCredentials` made deterministically from the name with a secret the hub
//! keeps (`hub_secrets`), so asking twice gives the same list. The finish then fails
//! with `signin_failed`, like a wrong passkey. Nothing about the attempt is written
//! before the finish, and what is written keeps a bounded prefix of the name
//! (`monban_core::text::prefix`).
//!
//! **Adding a passkey needs a fresh assertion.** `start` answers assertion options for
//! the user's passkeys (`"step": "verify"`); `verify` checks the assertion and answers
//! the creation options (`"step": "register"`); `finish` stores the new passkey. A stolen
//! session cookie alone cannot make itself permanent.
//!
//! A start answers `{"ceremony": "...", "options": {"publicKey": …}}` (the options for
//! `navigator.credentials.create/get`, binary fields in base64url); a finish takes
//! `{"ceremony": "...", "credential": …}` and answers `{"ok": true, "redirect": "..."}`.
//! Passkeys always require user verification (webauthn-rs's passkey policy), so every
//! assertion the hub accepts is possession + inherence or knowledge (`webauthn_uv`).

use super::error::ApiError;
use super::gate::set_cookie;
use super::state::{Accounts, AppState};
use crate::auth::session::start_session;
use crate::auth::{digest, secret, usable_invite, Auth, ClientAddr, Pending, Principal};
use crate::step_up::StepUpError;
use crate::store::auth::{Owner, PasskeyRow, UserRow};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use monban_core::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    CredentialID, Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid,
};

/// The ceremonies' routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/enroll/start", post(enroll_start))
        .route("/auth/enroll/finish", post(enroll_finish))
        .route("/auth/signin/start", post(signin_start))
        .route("/auth/signin/finish", post(signin_finish))
        .route("/auth/passkeys/start", post(add_start))
        .route("/auth/passkeys/verify", post(add_verify))
        .route("/auth/passkeys/finish", post(add_finish))
        .route("/auth/step-up/{id}/start", post(step_up_start))
        .route("/auth/step-up/{id}/finish", post(step_up_finish))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("passkey ceremony failed: {e}"))
}

fn ceremony_expired() -> ApiError {
    ApiError::BadRequest {
        code: "ceremony_expired",
        message: "this passkey request has expired or was already used: start again / もう一度やり直してください".into(),
    }
}

/// Parses a JSON body into `T` with the contract's 400 on failure.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed(e.to_string()))
}

/// The credential id as stored: base64url without padding.
pub fn cred_key(id: &CredentialID) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode::<&[u8]>(id.as_ref())
}

/// The WebAuthn user handle of an inventory person: stable, derived from the id.
fn person_handle(person: &str) -> Uuid {
    let d = digest(&format!("monban person {person}"));
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&d[i * 2..i * 2 + 2], 16).unwrap_or(0);
    }
    Uuid::from_bytes(b)
}

fn new_handle() -> Uuid {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    Uuid::from_bytes(b)
}

/// Active passkeys of an owner, parsed.
async fn active_passkeys(
    accounts: &Accounts,
    kind: Owner,
    owner: &str,
) -> Result<Vec<(PasskeyRow, Passkey)>, ApiError> {
    let rows = accounts
        .store
        .passkeys_of(kind, owner)
        .await
        .map_err(ApiError::from)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.revoked_at.is_none())
        .filter_map(|r| {
            let pk = serde_json::from_str::<Passkey>(&r.credential).ok()?;
            Some((r, pk))
        })
        .collect())
}

/// Assertion options (and the state to keep) for the active passkeys of an owner, or
/// `None` when it has none.
async fn assertion_options(
    accounts: &Accounts,
    auth: &Auth,
    kind: Owner,
    owner: &str,
) -> Result<
    Option<(
        webauthn_rs::prelude::RequestChallengeResponse,
        webauthn_rs::prelude::PasskeyAuthentication,
    )>,
    ApiError,
> {
    let keys: Vec<Passkey> = active_passkeys(accounts, kind, owner)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    auth.webauthn
        .start_passkey_authentication(&keys)
        .map(Some)
        .map_err(internal)
}

/// The stored form of a newly registered passkey.
fn passkey_row(
    passkey: &Passkey,
    owner_kind: Owner,
    owner: &str,
    name: String,
    now: Timestamp,
) -> Result<PasskeyRow, ApiError> {
    Ok(PasskeyRow {
        id: cred_key(passkey.cred_id()),
        owner_kind,
        owner: owner.to_string(),
        name,
        credential: serde_json::to_string(passkey).map_err(internal)?,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    })
}

/// The passkey name given (bounded like every name, CONTRACT-wide `text::NAME`), or
/// `default` when none was given; a name that is too long or has control characters is
/// refused (`422 invalid_name`).
fn passkey_name(given: Option<&str>, default: &str) -> Result<String, ApiError> {
    match given.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(default.to_string()),
        Some(n) => monban_core::Text::parse(n, monban_core::text::NAME)
            .map(|t| t.into_string())
            .map_err(|e| ApiError::Invalid {
                code: "invalid_name",
                message: format!("passkey_name: {e}"),
            }),
    }
}

/// Registration options that ask for a discoverable passkey (`residentKey:
/// "preferred"`), so its owner can sign in without typing a name. Phones, Windows Hello
/// and security keys that can store one do; others register as before.
fn discoverable(
    mut ccr: webauthn_rs::prelude::CreationChallengeResponse,
) -> webauthn_rs::prelude::CreationChallengeResponse {
    if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
        sel.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Preferred);
        sel.require_resident_key = false;
    }
    ccr
}

fn options(ceremony: String, options: impl serde::Serialize) -> Response {
    Json(json!({"ceremony": ceremony, "options": options})).into_response()
}

#[derive(Deserialize)]
struct EnrollStart {
    token: String,
    #[serde(default)]
    passkey_name: Option<String>,
}

fn invite_refused(why: &str) -> ApiError {
    let message = match why {
        "used" => "this enrollment link has already been used / この登録リンクは使用済みです",
        "expired" => "this enrollment link has expired / この登録リンクは有効期限切れです",
        "awaiting_approval" => "this enrollment link waits for a second officer's approval on the people page / この登録リンクは別の責任者の承認待ちです（職員のパスキー画面）",
        _ => "this enrollment link is not valid / この登録リンクは無効です",
    };
    ApiError::Gone {
        code: "invite_invalid",
        message: message.into(),
    }
}

async fn enroll_start(
    State(accounts): State<Accounts>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: EnrollStart = body(&bytes)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let invite = match usable_invite(&accounts.store, &req.token, now).await? {
        Ok(i) => i,
        Err(why) => {
            accounts
                .record(
                    "anonymous",
                    "",
                    &address,
                    "invite.refused",
                    "",
                    json!({"reason": why}),
                )
                .await;
            return Err(invite_refused(why));
        }
    };
    let (user, owner, handle, display) = match invite.kind {
        Owner::User => match &invite.subject {
            Some(id) => {
                let u = accounts
                    .store
                    .user(id)
                    .await
                    .map_err(ApiError::from)?
                    .ok_or_else(|| invite_refused("unknown"))?;
                let handle = Uuid::parse_str(&u.handle).map_err(internal)?;
                (None, u.id.clone(), handle, u.name.clone())
            }
            None => {
                if accounts
                    .store
                    .user_by_name(&invite.name)
                    .await
                    .map_err(ApiError::from)?
                    .is_some()
                {
                    return Err(ApiError::Conflict {
                        code: "name_taken",
                        message: format!("a user named {:?} already exists", invite.name),
                    });
                }
                let handle = new_handle();
                let u = UserRow {
                    id: format!("u-{}", &digest(&handle.to_string())[..12]),
                    handle: handle.to_string(),
                    name: invite.name.clone(),
                    role: invite.role.unwrap_or(monban_web::auth::Role::Auditor),
                    created_at: now,
                    disabled_at: None,
                };
                let id = u.id.clone();
                (Some(u), id, handle, invite.name.clone())
            }
        },
        Owner::Person => {
            let person = invite.subject.clone().unwrap_or_default();
            (
                None,
                person.clone(),
                person_handle(&person),
                invite.name.clone(),
            )
        }
    };
    let existing: Vec<CredentialID> = active_passkeys(&accounts, invite.kind, &owner)
        .await?
        .iter()
        .map(|(_, pk)| pk.cred_id().clone())
        .collect();
    let (ccr, reg) = auth
        .webauthn
        .start_passkey_registration(handle, &display, &display, Some(existing))
        .map_err(internal)?;
    let ccr = discoverable(ccr);
    let ceremony = auth.remember(
        Pending::Enroll {
            passkey_name: passkey_name(req.passkey_name.as_deref(), "passkey")?,
            invite,
            user,
            owner,
            reg: Box::new(reg),
        },
        now,
    );
    Ok(options(ceremony, ccr))
}

#[derive(Deserialize)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

async fn enroll_finish(
    State(accounts): State<Accounts>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: RegisterFinish = body(&bytes)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let Some(Pending::Enroll {
        invite,
        user,
        owner,
        passkey_name,
        reg,
    }) = auth.take(&req.ceremony, now)
    else {
        return Err(ceremony_expired());
    };
    let passkey = match auth
        .webauthn
        .finish_passkey_registration(&req.credential, &reg)
    {
        Ok(p) => p,
        Err(e) => {
            accounts
                .record(
                    "anonymous",
                    &invite.name,
                    &address,
                    "invite.refused",
                    &invite.id,
                    json!({"reason": "passkey_rejected", "error": e.to_string()}),
                )
                .await;
            return Err(ApiError::BadRequest {
                code: "passkey_rejected",
                message: format!("the passkey could not be verified: {e}"),
            });
        }
    };
    let row = passkey_row(&passkey, invite.kind, &owner, passkey_name, now)?;
    if !accounts
        .store
        .complete_enrollment(&invite.id, user.as_ref(), &row, now)
        .await
        .map_err(ApiError::from)?
    {
        accounts
            .record(
                "anonymous",
                &invite.name,
                &address,
                "invite.refused",
                &invite.id,
                json!({"reason": "used"}),
            )
            .await;
        return Err(invite_refused("used"));
    }
    let (actor, actor_name) = match invite.kind {
        Owner::User => (format!("user:{owner}"), invite.name.clone()),
        Owner::Person => (format!("person:{owner}"), invite.name.clone()),
    };
    accounts
        .record(
            &actor,
            &actor_name,
            &address,
            "invite.use",
            &invite.id,
            json!({"kind": invite.kind.as_str(), "subject": owner}),
        )
        .await;
    accounts
        .record(
            &actor,
            &actor_name,
            &address,
            "passkey.add",
            &row.id,
            json!({"owner_kind": invite.kind.as_str(), "owner": owner, "name": row.name}),
        )
        .await;
    if invite.kind == Owner::Person {
        return Ok(Json(json!({"ok": true, "redirect": null, "person": owner})).into_response());
    }
    let user = accounts
        .store
        .user(&owner)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| internal("user vanished"))?;
    let cookie = start_session(
        &accounts.store,
        &accounts.auth,
        accounts.now(),
        &user,
        &address,
        &row.id,
    )
    .await
    .map_err(ApiError::from)?;
    accounts
        .record(
            &actor,
            &actor_name,
            &address,
            "signin.success",
            &user.id,
            json!({"passkey": row.id, "via": "enrollment"}),
        )
        .await;
    let mut res = Json(json!({"ok": true, "redirect": user.role.home()})).into_response();
    set_cookie(&mut res, &cookie);
    Ok(res)
}

#[derive(Deserialize)]
struct SignInStart {
    /// The user name; absent or empty: sign in with a discoverable passkey.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

fn signin_failed() -> ApiError {
    ApiError::NotVerified {
        code: "signin_failed",
        message: "sign-in failed: check the user name and use a passkey registered for it / サインインできませんでした".into(),
    }
}

/// Where to go after sign-in: `next` when, resolved against the hub's origin, it stays
/// on that origin (a path, never `//host`, `/\t/host` or `https://host`); otherwise the
/// role's home. Whitespace, control characters and backslashes refuse it outright
/// (browsers drop or rewrite them, which is how `/%09/evil.example` escapes a naive
/// prefix check).
pub(crate) fn same_origin_next(origin: &Url, next: Option<&str>) -> Option<String> {
    let n = next?;
    if n.is_empty()
        || n.len() > 2048
        || !n.starts_with('/')
        || n.starts_with("//")
        || n.contains('\\')
        || n.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let resolved = origin.join(n).ok()?;
    if resolved.origin() != origin.origin() {
        return None;
    }
    let mut out = resolved.path().to_string();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = resolved.fragment() {
        out.push('#');
        out.push_str(f);
    }
    // Once more on the normalised result: it must still be a plain local path.
    (out.starts_with('/') && !out.starts_with("//")).then_some(out)
}

/// Options that look like a real user's for a name that cannot sign in: credential ids
/// made from the name by webauthn-rs's fake-credential generator (realistic counts and
/// lengths) keyed with the hub's secret, so the same name always gets the same list; no
/// transports, like [`named_options`].
async fn refused_options(
    accounts: &Accounts,
    auth: &Auth,
    name: &str,
) -> Result<webauthn_rs::prelude::RequestChallengeResponse, ApiError> {
    use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
    let key = accounts
        .store
        .secret("signin_decoy_key", || {
            hex::encode(Sha256::digest(secret(32).as_bytes()))
        })
        .await
        .map_err(ApiError::from)?;
    let key = hex::decode(key).map_err(internal)?;
    let generator =
        WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(&key).map_err(internal)?;
    // That distribution gives some names no passkey (sites with passwords too); every
    // monban user has one, so draw again (deterministically) until there is one.
    let mut ids = Vec::new();
    for round in 0u8..16 {
        let mut seed = name.as_bytes().to_vec();
        if round > 0 {
            seed.extend_from_slice(&[0, round]);
        }
        ids = generator.generate(&seed).map_err(internal)?;
        if !ids.is_empty() {
            break;
        }
    }
    let (mut rcr, _) = auth
        .webauthn
        .start_discoverable_authentication()
        .map_err(internal)?;
    rcr.mediation = None;
    rcr.public_key.extensions = None;
    rcr.public_key.allow_credentials = ids
        .into_iter()
        .map(|id| webauthn_rs_proto::AllowCredentials {
            type_: "public-key".into(),
            id: AsRef::<[u8]>::as_ref(&id).to_vec(),
            transports: None,
        })
        .collect();
    Ok(rcr)
}

/// A named user's options, with the transports left out so that they have the same
/// shape as [`refused_options`].
fn named_options(
    mut rcr: webauthn_rs::prelude::RequestChallengeResponse,
) -> webauthn_rs::prelude::RequestChallengeResponse {
    for c in &mut rcr.public_key.allow_credentials {
        c.transports = None;
    }
    rcr
}

async fn signin_start(
    State(accounts): State<Accounts>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: SignInStart = body(&bytes)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let next = same_origin_next(&auth.origin, req.next.as_deref());
    let name = req.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() {
        let (mut rcr, state) = auth
            .webauthn
            .start_discoverable_authentication()
            .map_err(internal)?;
        // A button press, not the autofill UI: the page calls get() itself.
        rcr.mediation = None;
        let ceremony = auth.remember(
            Pending::SignInDiscoverable {
                next,
                auth: Box::new(state),
            },
            now,
        );
        return Ok(options(ceremony, rcr));
    }
    // A name that no user can have is answered like an unknown one.
    let user = match monban_core::Text::parse(name, monban_core::text::NAME) {
        Ok(n) => accounts
            .store
            .user_by_name(n.as_str())
            .await
            .map_err(ApiError::from)?,
        Err(_) => None,
    };
    let refused = |reason: &'static str| Pending::SignInRefused {
        name: monban_core::text::prefix(name),
        reason,
    };
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        let rcr = refused_options(&accounts, &auth, name).await?;
        let ceremony = auth.remember(refused("unknown_or_disabled_user"), now);
        return Ok(options(ceremony, rcr));
    };
    let Some((rcr, state)) = assertion_options(&accounts, &auth, Owner::User, &user.id).await?
    else {
        let rcr = refused_options(&accounts, &auth, name).await?;
        let ceremony = auth.remember(refused("no_passkey"), now);
        return Ok(options(ceremony, rcr));
    };
    let ceremony = auth.remember(
        Pending::SignIn {
            user_id: user.id,
            next,
            auth: Box::new(state),
        },
        now,
    );
    Ok(options(ceremony, named_options(rcr)))
}

#[derive(Deserialize)]
struct AuthFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

/// Verifies an assertion against `keys`, stores the new counter; returns the passkey id.
async fn verify_assertion(
    accounts: &Accounts,
    auth: &Auth,
    credential: &PublicKeyCredential,
    state: &webauthn_rs::prelude::PasskeyAuthentication,
    keys: Vec<(PasskeyRow, Passkey)>,
) -> Result<String, String> {
    let result = auth
        .webauthn
        .finish_passkey_authentication(credential, state)
        .map_err(|e| e.to_string())?;
    finish_use(accounts, &result, keys).await
}

/// After webauthn-rs accepted an assertion: user verification must have happened, the
/// passkey must still be active, and its new counter is stored.
async fn finish_use(
    accounts: &Accounts,
    result: &webauthn_rs::prelude::AuthenticationResult,
    keys: Vec<(PasskeyRow, Passkey)>,
) -> Result<String, String> {
    if !result.user_verified() {
        return Err("the authenticator did not verify the user".into());
    }
    let id = cred_key(result.cred_id());
    let Some((row, mut pk)) = keys.into_iter().find(|(r, _)| r.id == id) else {
        return Err("the passkey is not registered or was revoked".into());
    };
    pk.update_credential(result);
    let json = serde_json::to_string(&pk).map_err(|e| e.to_string())?;
    accounts
        .store
        .passkey_used(&row.id, &json, accounts.now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.id)
}

/// A discoverable assertion: the credential names its passkey, and so its user.
async fn verify_discoverable(
    accounts: &Accounts,
    auth: &Auth,
    credential: &PublicKeyCredential,
    state: webauthn_rs::prelude::DiscoverableAuthentication,
) -> Result<Result<(UserRow, String), String>, ApiError> {
    let id =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(credential.get_credential_id());
    let Some(row) = accounts
        .store
        .passkey(&id)
        .await
        .map_err(ApiError::from)?
        .filter(|p| p.owner_kind == Owner::User && p.revoked_at.is_none())
    else {
        return Ok(Err("the passkey is not registered or was revoked".into()));
    };
    let Some(user) = accounts
        .store
        .user(&row.owner)
        .await
        .map_err(ApiError::from)?
        .filter(|u| u.disabled_at.is_none())
    else {
        return Ok(Err("the passkey's user is unknown or disabled".into()));
    };
    // The authenticator's user handle, when it sends one, must be that user's.
    if let Some(handle) = credential.get_user_unique_id() {
        if Uuid::from_slice(handle).ok().map(|u| u.to_string()) != Some(user.handle.clone()) {
            return Ok(Err("the passkey's user handle does not match".into()));
        }
    }
    let keys = active_passkeys(accounts, Owner::User, &user.id).await?;
    let Some((_, pk)) = keys.iter().find(|(r, _)| r.id == id) else {
        return Ok(Err("the passkey is not registered or was revoked".into()));
    };
    let result = match auth
        .webauthn
        .finish_discoverable_authentication_v2(credential, state, pk)
    {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(finish_use(accounts, &result, keys)
        .await
        .map(|pk| (user, pk)))
}

async fn signin_finish(
    State(accounts): State<Accounts>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AuthFinish = body(&bytes)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let (user, next, outcome) = match auth.take(&req.ceremony, now) {
        Some(Pending::SignIn {
            user_id,
            next,
            auth: state,
        }) => {
            let user = accounts
                .store
                .user(&user_id)
                .await
                .map_err(ApiError::from)?
                .filter(|u| u.disabled_at.is_none());
            let Some(user) = user else {
                return Err(signin_failed());
            };
            let keys = active_passkeys(&accounts, Owner::User, &user.id).await?;
            let outcome = verify_assertion(&accounts, &auth, &req.credential, &state, keys).await;
            (user, next, outcome)
        }
        Some(Pending::SignInDiscoverable { next, auth: state }) => {
            match verify_discoverable(&accounts, &auth, &req.credential, *state).await? {
                Ok((user, passkey)) => (user, next, Ok(passkey)),
                Err(why) => {
                    let detail =
                        json!({"reason": monban_core::text::prefix(&why), "via": "discoverable"});
                    accounts
                        .record("anonymous", "", &address, "signin.failure", "", detail)
                        .await;
                    return Err(signin_failed());
                }
            }
        }
        Some(Pending::SignInRefused { name, reason }) => {
            accounts
                .record(
                    "anonymous",
                    &name,
                    &address,
                    "signin.failure",
                    &name,
                    json!({"reason": reason}),
                )
                .await;
            return Err(signin_failed());
        }
        _ => return Err(ceremony_expired()),
    };
    let actor = format!("user:{}", user.id);
    match outcome {
        Ok(passkey) => {
            let cookie = start_session(
                &accounts.store,
                &accounts.auth,
                accounts.now(),
                &user,
                &address,
                &passkey,
            )
            .await
            .map_err(ApiError::from)?;
            accounts
                .record(
                    &actor,
                    &user.name,
                    &address,
                    "signin.success",
                    &user.id,
                    json!({"passkey": passkey}),
                )
                .await;
            let redirect = next.unwrap_or_else(|| user.role.home().to_string());
            let mut res = Json(json!({"ok": true, "redirect": redirect})).into_response();
            set_cookie(&mut res, &cookie);
            Ok(res)
        }
        Err(why) => {
            accounts
                .record(
                    &actor,
                    &user.name,
                    &address,
                    "signin.failure",
                    &user.id,
                    json!({"reason": monban_core::text::prefix(&why)}),
                )
                .await;
            Err(signin_failed())
        }
    }
}

#[derive(Deserialize)]
struct AddStart {
    #[serde(default)]
    passkey_name: Option<String>,
}

/// The signed-in user and their session, or `401`.
fn signed_in(principal: &Principal) -> Result<(&UserRow, &str), ApiError> {
    match (principal.user(), principal.session_hash()) {
        (Some(u), Some(h)) => Ok((u, h)),
        _ => Err(ApiError::Unauthorized("sign in first".into())),
    }
}

/// Step 1 of adding a passkey: assertion options for the passkeys the user has.
async fn add_start(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AddStart = body(&bytes)?;
    let (user, session_hash) = signed_in(&principal)?;
    let passkey_name = passkey_name(req.passkey_name.as_deref(), "passkey")?;
    let auth = accounts.auth.clone();
    let Some((rcr, state)) = assertion_options(&accounts, &auth, Owner::User, &user.id).await?
    else {
        return Err(ApiError::Conflict {
            code: "no_passkey",
            message: "this user has no active passkey to confirm with: ask an administrator for a new enrollment link / 有効なパスキーがありません".into(),
        });
    };
    let ceremony = auth.remember(
        Pending::AddPasskeyVerify {
            user_id: user.id.clone(),
            session_hash: session_hash.to_string(),
            passkey_name,
            auth: Box::new(state),
        },
        accounts.now(),
    );
    Ok(Json(json!({"ceremony": ceremony, "step": "verify", "options": rcr})).into_response())
}

/// Step 2: the fresh assertion; answers the creation options.
async fn add_verify(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AuthFinish = body(&bytes)?;
    let (user, session_hash) = signed_in(&principal)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let Some(Pending::AddPasskeyVerify {
        user_id,
        session_hash: started_in,
        passkey_name,
        auth: state,
    }) = auth.take(&req.ceremony, now)
    else {
        return Err(ceremony_expired());
    };
    if user_id != user.id || started_in != session_hash {
        return Err(ceremony_expired());
    }
    let keys = active_passkeys(&accounts, Owner::User, &user.id).await?;
    let verified = match verify_assertion(&accounts, &auth, &req.credential, &state, keys).await {
        Ok(pk) => pk,
        Err(why) => {
            accounts
                .audit(
                    &principal,
                    &address,
                    "passkey.add_refused",
                    &user.id,
                    json!({"reason": monban_core::text::prefix(&why)}),
                )
                .await;
            return Err(ApiError::NotVerified {
                code: "passkey_rejected",
                message: format!("the passkey could not be verified: {why} / 確認できませんでした"),
            });
        }
    };
    let handle = Uuid::parse_str(&user.handle).map_err(internal)?;
    let existing: Vec<CredentialID> = active_passkeys(&accounts, Owner::User, &user.id)
        .await?
        .iter()
        .map(|(_, p)| p.cred_id().clone())
        .collect();
    let (ccr, reg) = auth
        .webauthn
        .start_passkey_registration(handle, &user.name, &user.name, Some(existing))
        .map_err(internal)?;
    let ccr = discoverable(ccr);
    tracing::debug!(user = %user.id, passkey = %verified, "fresh assertion before adding a passkey");
    let ceremony = auth.remember(
        Pending::AddPasskey {
            user_id: user.id.clone(),
            session_hash: session_hash.to_string(),
            passkey_name,
            reg: Box::new(reg),
        },
        now,
    );
    Ok(Json(json!({"ceremony": ceremony, "step": "register", "options": ccr})).into_response())
}

/// Step 3: the new passkey.
async fn add_finish(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: RegisterFinish = body(&bytes)?;
    let (user, session_hash) = signed_in(&principal)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let Some(Pending::AddPasskey {
        user_id,
        session_hash: started_in,
        passkey_name,
        reg,
    }) = auth.take(&req.ceremony, now)
    else {
        return Err(ceremony_expired());
    };
    if user_id != user.id || started_in != session_hash {
        return Err(ceremony_expired());
    }
    let passkey = auth
        .webauthn
        .finish_passkey_registration(&req.credential, &reg)
        .map_err(|e| ApiError::BadRequest {
            code: "passkey_rejected",
            message: format!("the passkey could not be verified: {e}"),
        })?;
    let row = passkey_row(&passkey, Owner::User, &user_id, passkey_name, now)?;
    accounts
        .store
        .insert_passkey(&row)
        .await
        .map_err(ApiError::from)?;
    accounts
        .audit(
            &principal,
            &address,
            "passkey.add",
            &row.id,
            json!({"owner_kind": "user", "owner": user_id, "name": row.name}),
        )
        .await;
    Ok(Json(json!({"ok": true, "redirect": "/account"})).into_response())
}

/// A fresh assertion by the signed-in user for one action (`purpose`, e.g.
/// `maintenance:acme-2026-0042:approve`): starts the ceremony. The caller stores what the
/// action is and checks [`finish_confirmation`]'s answer before doing it.
pub async fn start_confirmation(
    accounts: &Accounts,
    principal: &Principal,
    purpose: &str,
) -> Result<Value, ApiError> {
    let (user, session_hash) = signed_in(principal)?;
    let auth = accounts.auth.clone();
    let Some((rcr, state)) = assertion_options(accounts, &auth, Owner::User, &user.id).await?
    else {
        return Err(ApiError::Conflict {
            code: "no_passkey",
            message: "this user has no active passkey to confirm with".into(),
        });
    };
    let ceremony = auth.remember(
        Pending::Confirm {
            user_id: user.id.clone(),
            session_hash: session_hash.to_string(),
            purpose: purpose.to_string(),
            auth: Box::new(state),
        },
        accounts.now(),
    );
    Ok(json!({"ceremony": ceremony, "options": rcr}))
}

/// Checks the confirmation `ceremony` of the signed-in user for `purpose`; returns the
/// passkey that confirmed it. A ceremony is taken once.
pub async fn finish_confirmation(
    accounts: &Accounts,
    principal: &Principal,
    purpose: &str,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> Result<String, ApiError> {
    let (user, session_hash) = signed_in(principal)?;
    let auth = accounts.auth.clone();
    let Some(Pending::Confirm {
        user_id,
        session_hash: started_in,
        purpose: started_for,
        auth: state,
    }) = auth.take(ceremony, accounts.now())
    else {
        return Err(ceremony_expired());
    };
    if user_id != user.id || started_in != session_hash || started_for != purpose {
        return Err(ceremony_expired());
    }
    let keys = active_passkeys(accounts, Owner::User, &user.id).await?;
    verify_assertion(accounts, &auth, credential, &state, keys)
        .await
        .map_err(|why| ApiError::NotVerified {
            code: "passkey_rejected",
            message: format!("the passkey could not be verified: {why} / 確認できませんでした"),
        })
}

async fn step_up_start(
    State(accounts): State<Accounts>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let s = crate::step_up::live(&accounts.store, &id, now).await?;
    let Some((rcr, state)) = assertion_options(&accounts, &auth, Owner::Person, &s.person).await?
    else {
        return Err(ApiError::Invalid {
            code: "no_passkey",
            message:
                "this person has no passkey registered with the hub / パスキーが登録されていません"
                    .into(),
        });
    };
    let ceremony = auth.remember(
        Pending::StepUp {
            step_up_id: s.id,
            auth: Box::new(state),
        },
        now,
    );
    Ok(options(ceremony, rcr))
}

async fn step_up_finish(
    State(accounts): State<Accounts>,
    Path(id): Path<String>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AuthFinish = body(&bytes)?;
    let now = accounts.now();
    let auth = accounts.auth.clone();
    let Some(Pending::StepUp {
        step_up_id,
        auth: state,
    }) = auth.take(&req.ceremony, now)
    else {
        return Err(ceremony_expired());
    };
    if step_up_id != id {
        return Err(ceremony_expired());
    }
    let s = crate::step_up::live(&accounts.store, &id, now).await?;
    let actor = format!("person:{}", s.person);
    let keys = active_passkeys(&accounts, Owner::Person, &s.person).await?;
    match verify_assertion(&accounts, &auth, &req.credential, &state, keys).await {
        Ok(passkey) => {
            if !accounts
                .store
                .settle_step_up(&id, Ok(&passkey), now)
                .await
                .map_err(ApiError::from)?
            {
                return Err(StepUpError::NotPending.into());
            }
            accounts
                .record(
                    &actor,
                    &s.account,
                    &address,
                    "step_up.verified",
                    &id,
                    json!({"system": s.system, "account": s.account, "passkey": passkey}),
                )
                .await;
            Ok(Json(json!({"ok": true, "status": "verified"})).into_response())
        }
        Err(why) => {
            accounts
                .record(
                    &actor,
                    &s.account,
                    &address,
                    "step_up.failure",
                    &id,
                    json!({"system": s.system, "reason": why}),
                )
                .await;
            Err(ApiError::NotVerified {
                code: "step_up_failed",
                message: format!("the passkey could not be verified: {why} / 確認できませんでした"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_paths_are_followed() {
        let o = Url::parse("https://monban.example.jp").unwrap_or_else(|_| unreachable!());
        let next = |n: &str| same_origin_next(&o, Some(n));
        assert_eq!(next("/rooms").as_deref(), Some("/rooms"));
        assert_eq!(
            next("/systems/ehr?from=2026-11-01&lang=en").as_deref(),
            Some("/systems/ehr?from=2026-11-01&lang=en")
        );
        assert_eq!(next("/a/../rooms").as_deref(), Some("/rooms"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/\u{0}x",
            "evil.example",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(next(bad), None, "{bad:?}");
        }
        assert_eq!(same_origin_next(&o, None), None);
    }

    #[test]
    fn person_handles_are_stable() {
        assert_eq!(person_handle("p0001"), person_handle("p0001"));
        assert_ne!(person_handle("p0001"), person_handle("p0002"));
    }
}
