//! The WebAuthn ceremonies, as JSON endpoints the pages' `passkey.js` calls:
//!
//! | start | finish | what |
//! |---|---|---|
//! | `POST /auth/enroll/start` `{token, passkey_name}` | `POST /auth/enroll/finish` | register through an invite (signs a user in; a person's passkey is only stored) |
//! | `POST /auth/signin/start` `{name, next}` | `POST /auth/signin/finish` | sign in |
//! | `POST /auth/passkeys/start` `{passkey_name}` | `POST /auth/passkeys/finish` | a signed-in user adds a passkey |
//! | `POST /auth/step-up/{id}/start` | `POST /auth/step-up/{id}/finish` | a person verifies a step-up |
//!
//! A start answers `{"ceremony": "...", "options": {"publicKey": …}}` (the options for
//! `navigator.credentials.create/get`, binary fields in base64url); a finish takes
//! `{"ceremony": "...", "credential": …}` and answers `{"ok": true, "redirect": "..."}`.
//! Passkeys always require user verification (webauthn-rs's passkey policy), so every
//! assertion the hub accepts is possession + inherence or knowledge (`webauthn_uv`).

use super::store::{Owner, PasskeyRow, UserRow};
use super::{record, session, Auth, ClientAddr, Pending, Principal};
use crate::api::ApiError;
use crate::hub::Hub;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use monban_core::Timestamp;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use webauthn_rs::prelude::{
    CredentialID, Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Uuid,
};

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/auth/enroll/start", post(enroll_start))
        .route("/auth/enroll/finish", post(enroll_finish))
        .route("/auth/signin/start", post(signin_start))
        .route("/auth/signin/finish", post(signin_finish))
        .route("/auth/passkeys/start", post(add_start))
        .route("/auth/passkeys/finish", post(add_finish))
        .route("/auth/step-up/{id}/start", post(step_up_start))
        .route("/auth/step-up/{id}/finish", post(step_up_finish))
        .with_state(hub)
}

fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "passkey ceremony failed");
    err(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the hub could not complete the request; see its log",
    )
}

fn ceremony_expired() -> ApiError {
    err(
        StatusCode::BAD_REQUEST,
        "ceremony_expired",
        "this passkey request has expired or was already used: start again / もう一度やり直してください",
    )
}

/// Parses a JSON body into `T` with the contract's 400 on failure.
fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| err(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))
}

/// The credential id as stored: base64url without padding.
pub fn cred_key(id: &CredentialID) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode::<&[u8]>(id.as_ref())
}

/// The WebAuthn user handle of an inventory person: stable, derived from the id.
fn person_handle(person: &str) -> Uuid {
    let d = super::digest(&format!("monban person {person}"));
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
    hub: &Hub,
    kind: Owner,
    owner: &str,
) -> Result<Vec<(PasskeyRow, Passkey)>, ApiError> {
    let rows = hub.store.passkeys_of(kind, owner).await.map_err(internal)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.revoked_at.is_none())
        .filter_map(|r| {
            let pk = serde_json::from_str::<Passkey>(&r.credential).ok()?;
            Some((r, pk))
        })
        .collect())
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

fn passkey_name(given: Option<&str>, default: &str) -> String {
    let n = given
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(default);
    n.chars().take(80).collect()
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

/// Why an invite cannot be used, for the page and the audit trail.
pub(crate) async fn usable_invite(
    hub: &Hub,
    token: &str,
    now: Timestamp,
) -> Result<Result<super::store::InviteRow, &'static str>, ApiError> {
    let Some(invite) = hub
        .store
        .invite_by_hash(&super::digest(token))
        .await
        .map_err(internal)?
    else {
        return Ok(Err("unknown"));
    };
    if invite.used_at.is_some() {
        return Ok(Err("used"));
    }
    if invite.expires_at <= now {
        return Ok(Err("expired"));
    }
    Ok(Ok(invite))
}

fn invite_refused(why: &str) -> ApiError {
    let message = match why {
        "used" => "this enrollment link has already been used / この登録リンクは使用済みです",
        "expired" => "this enrollment link has expired / この登録リンクは有効期限切れです",
        _ => "this enrollment link is not valid / この登録リンクは無効です",
    };
    err(StatusCode::GONE, "invite_invalid", message)
}

async fn enroll_start(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: EnrollStart = body(&bytes)?;
    let now = hub.now();
    let auth = hub.auth();
    let invite = match usable_invite(&hub, &req.token, now).await? {
        Ok(i) => i,
        Err(why) => {
            record(
                &hub,
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
                let u = hub
                    .store
                    .user(id)
                    .await
                    .map_err(internal)?
                    .ok_or_else(|| invite_refused("unknown"))?;
                let handle = Uuid::parse_str(&u.handle).map_err(internal)?;
                (None, u.id.clone(), handle, u.name.clone())
            }
            None => {
                if hub
                    .store
                    .user_by_name(&invite.name)
                    .await
                    .map_err(internal)?
                    .is_some()
                {
                    return Err(err(
                        StatusCode::CONFLICT,
                        "name_taken",
                        format!("a user named {:?} already exists", invite.name),
                    ));
                }
                let handle = new_handle();
                let u = UserRow {
                    id: format!("u-{}", &super::digest(&handle.to_string())[..12]),
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
    let existing: Vec<CredentialID> = active_passkeys(&hub, invite.kind, &owner)
        .await?
        .iter()
        .map(|(_, pk)| pk.cred_id().clone())
        .collect();
    let (ccr, reg) = auth
        .webauthn
        .start_passkey_registration(handle, &display, &display, Some(existing))
        .map_err(internal)?;
    let ceremony = auth.remember(
        Pending::Enroll {
            passkey_name: passkey_name(req.passkey_name.as_deref(), "passkey"),
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
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: RegisterFinish = body(&bytes)?;
    let now = hub.now();
    let auth = hub.auth();
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
            record(
                &hub,
                "anonymous",
                &invite.name,
                &address,
                "invite.refused",
                &invite.id,
                json!({"reason": "passkey_rejected", "error": e.to_string()}),
            )
            .await;
            return Err(err(
                StatusCode::BAD_REQUEST,
                "passkey_rejected",
                format!("the passkey could not be verified: {e}"),
            ));
        }
    };
    let row = passkey_row(&passkey, invite.kind, &owner, passkey_name, now)?;
    if !hub
        .store
        .complete_enrollment(&invite.id, user.as_ref(), &row, now)
        .await
        .map_err(internal)?
    {
        record(
            &hub,
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
    record(
        &hub,
        &actor,
        &actor_name,
        &address,
        "invite.use",
        &invite.id,
        json!({"kind": invite.kind.as_str(), "subject": owner}),
    )
    .await;
    record(
        &hub,
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
    let user = hub
        .store
        .user(&owner)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal("user vanished"))?;
    let cookie = session::start_session(&hub, &user, &address)
        .await
        .map_err(internal)?;
    record(
        &hub,
        &actor,
        &actor_name,
        &address,
        "signin.success",
        &user.id,
        json!({"passkey": row.id, "via": "enrollment"}),
    )
    .await;
    let mut res = Json(json!({"ok": true, "redirect": user.role.home()})).into_response();
    session::set_cookie(&mut res, &cookie);
    Ok(res)
}

#[derive(Deserialize)]
struct SignInStart {
    name: String,
    #[serde(default)]
    next: Option<String>,
}

fn signin_failed() -> ApiError {
    err(
        StatusCode::UNAUTHORIZED,
        "signin_failed",
        "sign-in failed: check the user name and use a passkey registered for it / サインインできませんでした",
    )
}

/// Only a local path (never `//host`) is followed after sign-in.
fn local_path(next: Option<String>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
}

async fn signin_start(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: SignInStart = body(&bytes)?;
    let now = hub.now();
    let auth = hub.auth();
    let name = req.name.trim();
    let user = hub.store.user_by_name(name).await.map_err(internal)?;
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        record(
            &hub,
            "anonymous",
            name,
            &address,
            "signin.failure",
            name,
            json!({"reason": "unknown_or_disabled_user"}),
        )
        .await;
        return Err(signin_failed());
    };
    let keys: Vec<Passkey> = active_passkeys(&hub, Owner::User, &user.id)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if keys.is_empty() {
        record(
            &hub,
            &format!("user:{}", user.id),
            &user.name,
            &address,
            "signin.failure",
            &user.id,
            json!({"reason": "no_passkey"}),
        )
        .await;
        return Err(err(StatusCode::UNAUTHORIZED, "no_passkey", "this user has no passkey: ask an administrator for a new enrollment link / パスキーがありません。管理者に新しい登録リンクを依頼してください"));
    }
    let (rcr, state) = auth
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(internal)?;
    let ceremony = auth.remember(
        Pending::SignIn {
            user_id: user.id,
            next: local_path(req.next),
            auth: Box::new(state),
        },
        now,
    );
    Ok(options(ceremony, rcr))
}

#[derive(Deserialize)]
struct AuthFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

/// Verifies an assertion against `keys`, stores the new counter; returns the passkey id.
async fn verify_assertion(
    hub: &Hub,
    auth: &Auth,
    credential: &PublicKeyCredential,
    state: &webauthn_rs::prelude::PasskeyAuthentication,
    keys: Vec<(PasskeyRow, Passkey)>,
) -> Result<String, String> {
    let result = auth
        .webauthn
        .finish_passkey_authentication(credential, state)
        .map_err(|e| e.to_string())?;
    if !result.user_verified() {
        return Err("the authenticator did not verify the user".into());
    }
    let id = cred_key(result.cred_id());
    let Some((row, mut pk)) = keys.into_iter().find(|(r, _)| r.id == id) else {
        return Err("the passkey is not registered or was revoked".into());
    };
    pk.update_credential(&result);
    let json = serde_json::to_string(&pk).map_err(|e| e.to_string())?;
    hub.store
        .passkey_used(&row.id, &json, hub.now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.id)
}

async fn signin_finish(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AuthFinish = body(&bytes)?;
    let now = hub.now();
    let auth = hub.auth();
    let Some(Pending::SignIn {
        user_id,
        next,
        auth: state,
    }) = auth.take(&req.ceremony, now)
    else {
        return Err(ceremony_expired());
    };
    let user = hub
        .store
        .user(&user_id)
        .await
        .map_err(internal)?
        .filter(|u| u.disabled_at.is_none());
    let Some(user) = user else {
        return Err(signin_failed());
    };
    let actor = format!("user:{}", user.id);
    let keys = active_passkeys(&hub, Owner::User, &user.id).await?;
    match verify_assertion(&hub, &auth, &req.credential, &state, keys).await {
        Ok(passkey) => {
            let cookie = session::start_session(&hub, &user, &address)
                .await
                .map_err(internal)?;
            record(
                &hub,
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
            session::set_cookie(&mut res, &cookie);
            Ok(res)
        }
        Err(why) => {
            record(
                &hub,
                &actor,
                &user.name,
                &address,
                "signin.failure",
                &user.id,
                json!({"reason": why}),
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

async fn add_start(
    State(hub): State<Arc<Hub>>,
    Extension(principal): Extension<Principal>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AddStart = body(&bytes)?;
    let Some(user) = principal.user() else {
        return Err(err(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first",
        ));
    };
    let auth = hub.auth();
    let handle = Uuid::parse_str(&user.handle).map_err(internal)?;
    let existing: Vec<CredentialID> = active_passkeys(&hub, Owner::User, &user.id)
        .await?
        .iter()
        .map(|(_, p)| p.cred_id().clone())
        .collect();
    let (ccr, reg) = auth
        .webauthn
        .start_passkey_registration(handle, &user.name, &user.name, Some(existing))
        .map_err(internal)?;
    let ceremony = auth.remember(
        Pending::AddPasskey {
            user_id: user.id.clone(),
            passkey_name: passkey_name(req.passkey_name.as_deref(), "passkey"),
            reg: Box::new(reg),
        },
        hub.now(),
    );
    Ok(options(ceremony, ccr))
}

async fn add_finish(
    State(hub): State<Arc<Hub>>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: RegisterFinish = body(&bytes)?;
    let now = hub.now();
    let auth = hub.auth();
    let Some(Pending::AddPasskey {
        user_id,
        passkey_name,
        reg,
    }) = auth.take(&req.ceremony, now)
    else {
        return Err(ceremony_expired());
    };
    if principal.user().map(|u| u.id.as_str()) != Some(user_id.as_str()) {
        return Err(ceremony_expired());
    }
    let passkey = auth
        .webauthn
        .finish_passkey_registration(&req.credential, &reg)
        .map_err(|e| {
            err(
                StatusCode::BAD_REQUEST,
                "passkey_rejected",
                format!("the passkey could not be verified: {e}"),
            )
        })?;
    let row = passkey_row(&passkey, Owner::User, &user_id, passkey_name, now)?;
    hub.store.insert_passkey(&row).await.map_err(internal)?;
    super::audit(
        &hub,
        &principal,
        &address,
        "passkey.add",
        &row.id,
        json!({"owner_kind": "user", "owner": user_id, "name": row.name}),
    )
    .await;
    Ok(Json(json!({"ok": true, "redirect": "/account"})).into_response())
}

async fn step_up_start(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let now = hub.now();
    let auth = hub.auth();
    let s = super::step_up::live_step_up(&hub, &id, now).await?;
    let keys: Vec<Passkey> = active_passkeys(&hub, Owner::Person, &s.person)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if keys.is_empty() {
        return Err(err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_passkey",
            "this person has no passkey registered with the hub / パスキーが登録されていません",
        ));
    }
    let (rcr, state) = auth
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(internal)?;
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
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: AuthFinish = body(&bytes)?;
    let now = hub.now();
    let auth = hub.auth();
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
    let s = super::step_up::live_step_up(&hub, &id, now).await?;
    let actor = format!("person:{}", s.person);
    let keys = active_passkeys(&hub, Owner::Person, &s.person).await?;
    match verify_assertion(&hub, &auth, &req.credential, &state, keys).await {
        Ok(passkey) => {
            if !hub
                .store
                .settle_step_up(&id, Ok(&passkey), now)
                .await
                .map_err(internal)?
            {
                return Err(super::step_up::not_pending());
            }
            record(
                &hub,
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
            record(
                &hub,
                &actor,
                &s.account,
                &address,
                "step_up.failure",
                &id,
                json!({"system": s.system, "reason": why}),
            )
            .await;
            Err(err(
                StatusCode::UNAUTHORIZED,
                "step_up_failed",
                format!("the passkey could not be verified: {why} / 確認できませんでした"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/rooms".into())).as_deref(), Some("/rooms"));
        assert_eq!(local_path(Some("//evil.example".into())), None);
        assert_eq!(local_path(Some("https://evil.example".into())), None);
        assert_eq!(local_path(Some("/\\evil".into())), None);
    }

    #[test]
    fn person_handles_are_stable() {
        assert_eq!(person_handle("p0001"), person_handle("p0001"));
        assert_ne!(person_handle("p0001"), person_handle("p0002"));
    }
}
