//! The state-changing form posts of the account, users, tokens and people pages
//! (plain HTML forms with the session's `_csrf` field, answered by a redirect), sign-out,
//! and the audit trail's CSV export.
//!
//! The session middleware has already checked the role (policy table) and the CSRF
//! token; each handler validates its input, changes the store, writes the audit trail
//! (never a secret: links and tokens are shown once through the session's in-memory
//! flash, [`crate::auth::Auth::set_flash`], never logged or stored) and redirects (303) back
//! to its page. A refused request comes back to the
//! page with an error flash — or, for a client that does not want HTML, as the
//! contract's error body.
//!
//! | route | what | audit action |
//! |---|---|---|
//! | `POST /signout` | end the session | `signout` |
//! | `POST /account/passkeys/{id}/rename` (`name`) | rename my passkey | `passkey.rename` |
//! | `POST /account/passkeys/{id}/revoke` | revoke my passkey (never the last one) | `passkey.revoke` |
//! | `POST /users/invite` (`name`, `role`) | invite a user (link shown once) | `invite.create` |
//! | `POST /users/{id}/role` (`role`) | change a role (not my own) | `user.role` |
//! | `POST /users/{id}/disable`, `/enable` | disable (ends sessions; not me) / enable | `user.disable` / `user.enable` |
//! | `POST /users/{id}/reinvite` | a new link for a user who lost every passkey | `invite.create` |
//! | `POST /users/{id}/passkeys/{pk}/revoke` | revoke a user's passkey | `passkey.revoke` |
//! | `POST /tokens/issue` (`kind`, `system`, `role`, `label`) | issue a token (shown once) | `token.issue` |
//! | `POST /tokens/{id}/revoke` | revoke a token | `token.revoke` |
//! | `POST /people/{id}/invite` | a person's enrollment link (shown once; works once a second officer approves it) | `person_invite.create` |
//! | `POST /people/invites/{id}/approve` | approve another officer's person link | `person_invite.approve` |
//! | `POST /people/{id}/passkeys/{pk}/revoke` | revoke a person's passkey | `passkey.revoke` |
//! | `GET /audit.csv?from=&to=` | the audit trail as CSV (BOM, CRLF) | — |

use super::error::ApiError;
use super::extract::Asker;
use super::gate::set_cookie;
use super::state::{Accounts, AppState, Site};
use crate::auth::session::clear_cookie;
use crate::auth::{create_invite, ClientAddr, Principal};
use crate::ingest::Ingest;
use crate::store::auth::{AuditEntry, Owner};
use crate::store::TokenScope;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use monban_core::{PersonId, SystemId, Timestamp};
use monban_web::auth::Role;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The forms' routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/signout", post(signout))
        .route("/account/passkeys/{id}/rename", post(rename_passkey))
        .route("/account/passkeys/{id}/revoke", post(revoke_my_passkey))
        .route("/users/invite", post(invite_user))
        .route("/users/{id}/role", post(change_role))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/users/{id}/reinvite", post(reinvite_user))
        .route(
            "/users/{id}/passkeys/{pk}/revoke",
            post(revoke_user_passkey),
        )
        .route("/tokens/issue", post(issue_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
        .route("/people/{id}/invite", post(invite_person))
        .route(
            "/people/{id}/passkeys/{pk}/revoke",
            post(revoke_person_passkey),
        )
        .route("/people/invites/{id}/approve", post(approve_person_invite))
        .route("/audit.csv", get(audit_csv))
}

type Fields = Form<HashMap<String, String>>;

/// What a handler needs besides its input.
struct Ctx<'a> {
    accounts: &'a Accounts,
    principal: &'a Principal,
    address: &'a str,
    html: bool,
    /// The page to come back to, with the language kept.
    back: String,
}

impl<'a> Ctx<'a> {
    fn new(
        accounts: &'a Accounts,
        principal: &'a Principal,
        address: &'a str,
        headers: &HeaderMap,
        f: &HashMap<String, String>,
        page: &str,
    ) -> Ctx<'a> {
        // A browser's form post accepts HTML; a script or API client gets JSON errors.
        let html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|a| a.contains("text/html") || a.contains("*/*") && !a.contains("json"));
        let back = if f.get("lang").map(String::as_str) == Some("en") {
            format!("{page}?lang=en")
        } else {
            page.to_string()
        };
        Ctx {
            accounts,
            principal,
            address,
            html,
            back,
        }
    }

    async fn flash(&self, value: Value) {
        if let Some(hash) = self.principal.session_hash() {
            self.accounts
                .auth
                .set_flash(hash, value, self.accounts.now());
        }
    }

    /// Success: a message (and maybe a secret shown once), back to the page.
    async fn done(&self, kind: &str, ja: &str, en: &str, secret: Option<String>) -> Response {
        if self.html {
            self.flash(json!({"kind": kind, "ja": ja, "en": en, "secret": secret}))
                .await;
            Redirect::to(&self.back).into_response()
        } else {
            let mut body = json!({"ok": true, "message": en});
            if let Some(s) = secret {
                body["secret"] = Value::String(s);
            }
            axum::Json(body).into_response()
        }
    }

    /// Refusal: an error flash (`ja`, and the error's message in English) and back to
    /// the page, or the contract's error body.
    async fn refuse(&self, error: ApiError, ja: &str) -> Response {
        if self.html {
            self.flash(json!({"kind": "error", "ja": ja, "en": error.message()}))
                .await;
            Redirect::to(&self.back).into_response()
        } else {
            error.into_response()
        }
    }

    async fn audit(&self, action: &str, target: &str, detail: Value) {
        self.accounts
            .audit(self.principal, self.address, action, target, detail)
            .await;
    }

    async fn store_failed(&self, e: impl std::fmt::Display) -> Response {
        tracing::error!(error = %e, "form post: the store failed");
        self.refuse(
            ApiError::NotStored,
            "保存できませんでした。もう一度お試しください。",
        )
        .await
    }
}

/// A trimmed, non-empty name of at most 80 characters without control characters
/// (`monban_core::text::NAME`).
fn clean_name(f: &HashMap<String, String>, field: &str) -> Option<String> {
    monban_core::Text::parse(f.get(field)?, monban_core::text::NAME)
        .ok()
        .map(|t| t.into_string())
}

fn actor_name(p: &Principal) -> String {
    p.actor().1
}

// ---- sign-out --------------------------------------------------------------------------

async fn signout(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
) -> Response {
    if let Some(hash) = principal.session_hash() {
        if let Err(e) = accounts.store.end_session(hash, accounts.now()).await {
            tracing::error!(error = %e, "could not end a session");
        }
        let target = principal.user().map(|u| u.id.clone()).unwrap_or_default();
        accounts
            .audit(&principal, &address, "signout", &target, json!({}))
            .await;
    }
    let mut res = Redirect::to("/signin").into_response();
    set_cookie(&mut res, &clear_cookie(&accounts.auth));
    res
}

// ---- my account ------------------------------------------------------------------------

async fn rename_passkey(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/account");
    let Some(user) = principal.user() else {
        return cx
            .refuse(
                ApiError::Unauthorized("Sign in first.".into()),
                "サインインしてください。",
            )
            .await;
    };
    let Some(name) = clean_name(&f, "name") else {
        return cx
            .refuse(
                ApiError::BadRequest {
                    code: "invalid_name",
                    message: "The name must be 1 to 80 characters.".into(),
                },
                "名前は1〜80文字で入力してください。",
            )
            .await;
    };
    let before = match accounts.store.passkey(&id).await {
        Ok(p) => p.filter(|p| p.owner_kind == Owner::User && p.owner == user.id),
        Err(e) => return cx.store_failed(e).await,
    };
    match accounts
        .store
        .rename_passkey(Owner::User, &user.id, &id, &name)
        .await
    {
        Ok(true) => {
            let from = before.map(|p| p.name).unwrap_or_default();
            cx.audit(
                "passkey.rename",
                &id,
                json!({"owner_kind": "user", "owner": user.id, "from": from, "to": name}),
            )
            .await;
            cx.done(
                "ok",
                "パスキーの名前を変更しました。",
                "The passkey was renamed.",
                None,
            )
            .await
        }
        Ok(false) => {
            cx.refuse(
                ApiError::NotFound("No such active passkey.".into()),
                "そのパスキーは見つからないか、失効しています。",
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

async fn revoke_my_passkey(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/account");
    let Some(user) = principal.user() else {
        return cx
            .refuse(
                ApiError::Unauthorized("Sign in first.".into()),
                "サインインしてください。",
            )
            .await;
    };
    let active = match accounts.store.passkeys_of(Owner::User, &user.id).await {
        Ok(keys) => keys
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .collect::<Vec<_>>(),
        Err(e) => return cx.store_failed(e).await,
    };
    if !active.iter().any(|k| k.id == id) {
        return cx
            .refuse(
                ApiError::NotFound("No such active passkey.".into()),
                "そのパスキーは見つからないか、失効しています。",
            )
            .await;
    }
    if active.len() <= 1 {
        return cx
            .refuse(
                ApiError::Conflict {
                    code: "last_passkey",
                    message: "The last active passkey cannot be revoked. Add another passkey first (losing every passkey means asking an administrator for a new invite).".into(),
                },
                "最後の有効なパスキーは失効できません。先に別のパスキーを追加してください（すべて失うと管理者の新しい登録リンクが必要です）。",
            )
            .await;
    }
    match accounts
        .store
        .revoke_passkey(Owner::User, &user.id, &id, accounts.now())
        .await
    {
        Ok(true) => {
            cx.audit(
                "passkey.revoke",
                &id,
                json!({"owner_kind": "user", "owner": user.id}),
            )
            .await;
            cx.done(
                "ok",
                "パスキーを失効させました。",
                "The passkey was revoked.",
                None,
            )
            .await
        }
        Ok(false) => {
            cx.refuse(
                ApiError::NotFound("No such active passkey.".into()),
                "そのパスキーは見つからないか、失効しています。",
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

// ---- users -----------------------------------------------------------------------------

fn parse_role(f: &HashMap<String, String>) -> Option<Role> {
    f.get("role")?.parse().ok()
}

async fn invite_user(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/users");
    let (Some(name), Some(role)) = (clean_name(&f, "name"), parse_role(&f)) else {
        return cx
            .refuse(
                ApiError::BadRequest {
                    code: "invalid_invite",
                    message: "Give a user name (1 to 80 characters) and a role.".into(),
                },
                "ユーザー名（1〜80文字）と役割を指定してください。",
            )
            .await;
    };
    match accounts.store.user_by_name(&name).await {
        Ok(Some(_)) => {
            return cx
                .refuse(
                    ApiError::Conflict {
                        code: "name_taken",
                        message: "A user with that name exists already. For a user who lost their passkeys, use Re-invite.".into(),
                    },
                    "その名前のユーザーはすでにいます。パスキーを失ったユーザーには「再登録リンク」を使ってください。",
                )
                .await
        }
        Ok(None) => {}
        Err(e) => return cx.store_failed(e).await,
    }
    match create_invite(
        &accounts.store,
        &accounts.auth,
        accounts.now(),
        Owner::User,
        None,
        &name,
        Some(role),
        &actor_name(&principal),
    )
    .await
    {
        Ok((invite, link)) => {
            cx.audit(
                "invite.create",
                &invite.id,
                json!({"kind": "user", "name": name, "role": role.as_str(), "expires_at": invite.expires_at.to_rfc3339()}),
            )
            .await;
            cx.done(
                "link",
                &format!("{name} さんの登録リンクを発行しました。本人に渡してください。"),
                &format!("Invite link created for {name}. Hand it to them."),
                Some(link),
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

/// The user a `/users/{id}/…` post names, or the refusal.
async fn target_user(cx: &Ctx<'_>, id: &str) -> Result<crate::store::auth::UserRow, Response> {
    match cx.accounts.store.user(id).await {
        Ok(Some(u)) => Ok(u),
        Ok(None) => Err(cx
            .refuse(
                ApiError::NotFound("No such user.".into()),
                "そのユーザーはいません。",
            )
            .await),
        Err(e) => Err(cx.store_failed(e).await),
    }
}

fn is_me(p: &Principal, id: &str) -> bool {
    p.user().is_some_and(|u| u.id == id)
}

async fn change_role(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/users");
    let Some(role) = parse_role(&f) else {
        return cx
            .refuse(
                ApiError::BadRequest {
                    code: "invalid_role",
                    message: "Choose a role.".into(),
                },
                "役割を選んでください。",
            )
            .await;
    };
    let user = match target_user(&cx, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if is_me(&principal, &id) && role != user.role {
        return cx
            .refuse(
                ApiError::Conflict {
                    code: "self_demotion",
                    message: "You cannot change your own role; ask another administrator.".into(),
                },
                "自分の役割は変更できません。別の管理者に依頼してください。",
            )
            .await;
    }
    if role == user.role {
        return cx
            .done(
                "ok",
                "役割は変わっていません。",
                "The role is unchanged.",
                None,
            )
            .await;
    }
    match accounts.store.set_user_role(&id, role).await {
        Ok(_) => {
            cx.audit(
                "user.role",
                &id,
                json!({"name": user.name, "from": user.role.as_str(), "to": role.as_str()}),
            )
            .await;
            cx.done(
                "ok",
                &format!("{} さんの役割を変更しました。", user.name),
                &format!("{}'s role was changed.", user.name),
                None,
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

async fn set_disabled(
    accounts: Accounts,
    principal: Principal,
    address: String,
    id: String,
    headers: HeaderMap,
    f: HashMap<String, String>,
    disable: bool,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/users");
    let user = match target_user(&cx, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if disable && is_me(&principal, &id) {
        return cx
            .refuse(
                ApiError::Conflict {
                    code: "self_disable",
                    message: "You cannot disable yourself.".into(),
                },
                "自分自身は無効にできません。",
            )
            .await;
    }
    let at = disable.then(|| accounts.now());
    match accounts.store.set_user_disabled(&id, at).await {
        Ok(_) => {
            let action = if disable {
                "user.disable"
            } else {
                "user.enable"
            };
            cx.audit(
                action,
                &id,
                json!({"name": user.name, "sessions_ended": disable}),
            )
            .await;
            if disable {
                cx.done(
                    "ok",
                    &format!(
                        "{} さんを無効にしました（サインイン中のセッションも終了）。",
                        user.name
                    ),
                    &format!("{} was disabled (their sessions were ended).", user.name),
                    None,
                )
                .await
            } else {
                cx.done(
                    "ok",
                    &format!("{} さんを有効にしました。", user.name),
                    &format!("{} was enabled.", user.name),
                    None,
                )
                .await
            }
        }
        Err(e) => cx.store_failed(e).await,
    }
}

async fn disable_user(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    set_disabled(accounts, principal, address, id, headers, f, true).await
}

async fn enable_user(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    set_disabled(accounts, principal, address, id, headers, f, false).await
}

async fn reinvite_user(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/users");
    let user = match target_user(&cx, &id).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match create_invite(
        &accounts.store,
        &accounts.auth,
        accounts.now(),
        Owner::User,
        Some(user.id.clone()),
        &user.name,
        Some(user.role),
        &actor_name(&principal),
    )
    .await
    {
        Ok((invite, link)) => {
            cx.audit(
                "invite.create",
                &invite.id,
                json!({"kind": "user", "reinvite": true, "user": user.id, "name": user.name, "expires_at": invite.expires_at.to_rfc3339()}),
            )
            .await;
            cx.done(
                "link",
                &format!(
                    "{} さんの再登録リンクを発行しました。本人に渡してください。",
                    user.name
                ),
                &format!(
                    "Re-enrollment link created for {}. Hand it to them.",
                    user.name
                ),
                Some(link),
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

async fn revoke_user_passkey(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path((id, pk)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/users");
    revoke_owned_passkey(&cx, Owner::User, &id, &pk).await
}

// ---- tokens ----------------------------------------------------------------------------

async fn issue_token(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/tokens");
    let Some(label) = clean_name(&f, "label") else {
        return cx
            .refuse(
                ApiError::BadRequest {
                    code: "invalid_label",
                    message: "Give a label of 1 to 80 characters.".into(),
                },
                "ラベルを1〜80文字で入力してください。",
            )
            .await;
    };
    let scope = match f.get("kind").map(String::as_str) {
        Some("login") => {
            let system = f.get("system").map(|s| s.trim()).unwrap_or("");
            match SystemId::parse(system) {
                Ok(sid) if ingest.inventory().system(&sid).is_some() => TokenScope::Login(sid),
                _ => return cx
                    .refuse(
                        ApiError::BadRequest {
                            code: "invalid_system",
                            message: "A login ingest token needs a system from the inventory."
                                .into(),
                        },
                        "ログイン取り込みのトークンには、棚卸しにあるシステムを選んでください。",
                    )
                    .await,
            }
        }
        Some("doors") => TokenScope::Doors(None),
        Some("vendor") => {
            let vendor = f.get("vendor").map(|s| s.trim()).unwrap_or("");
            match monban_core::VendorId::parse(vendor) {
                Ok(v) if ingest.inventory().vendor(&v).is_some() => TokenScope::Vendor(v),
                _ => {
                    return cx
                        .refuse(
                            ApiError::BadRequest {
                                code: "invalid_vendor",
                                message: "A vendor token needs a vendor from the inventory.".into(),
                            },
                            "事業者トークンには、棚卸しにある保守事業者を選んでください。",
                        )
                        .await
                }
            }
        }
        Some("read") => match parse_role(&f) {
            Some(r) => TokenScope::Read(r.as_str().to_string()),
            None => {
                return cx
                    .refuse(
                        ApiError::BadRequest {
                            code: "invalid_role",
                            message: "Choose the read token's role.".into(),
                        },
                        "読み取りトークンの役割を選んでください。",
                    )
                    .await
            }
        },
        _ => {
            return cx
                .refuse(
                    ApiError::BadRequest {
                        code: "invalid_kind",
                        message: "Choose a kind: login, doors, read or vendor.".into(),
                    },
                    "種類を選んでください。",
                )
                .await
        }
    };
    let (kind, system, role) = (
        scope.kind(),
        scope.system().or_else(|| scope.vendor()),
        scope.role(),
    );
    let text = match crate::tokens::issue(&accounts.store, scope, &label, accounts.now()).await {
        Ok(t) => t,
        Err(e) => return cx.store_failed(e).await,
    };
    let id = token_id(&text);
    if let Err(e) = accounts
        .store
        .set_token_creator(&id, &actor_name(&principal))
        .await
    {
        tracing::warn!(error = %e, "could not record who issued a token");
    }
    cx.audit(
        "token.issue",
        &id,
        json!({"kind": kind, "system": system, "role": role, "label": label}),
    )
    .await;
    cx.done(
        "token",
        &format!("トークン {id} を発行しました。"),
        &format!("Token {id} was issued."),
        Some(text),
    )
    .await
}

/// The id part of a token's text (`mbn_<id>_<secret>`).
fn token_id(text: &str) -> String {
    text.strip_prefix("mbn_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id.to_string())
        .unwrap_or_default()
}

async fn revoke_token(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/tokens");
    match accounts.store.revoke_token(&id, accounts.now()).await {
        Ok(true) => {
            cx.audit("token.revoke", &id, json!({})).await;
            cx.done(
                "ok",
                &format!("トークン {id} を失効させました。"),
                &format!("Token {id} was revoked."),
                None,
            )
            .await
        }
        Ok(false) => {
            cx.refuse(
                ApiError::NotFound("No such live token.".into()),
                "そのトークンは見つからないか、失効済みです。",
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

// ---- people ----------------------------------------------------------------------------

async fn invite_person(
    State(accounts): State<Accounts>,
    State(ingest): State<Arc<Ingest>>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/people");
    let inv = ingest.inventory();
    let Some(person) = PersonId::parse(id.clone())
        .ok()
        .and_then(|pid| inv.person(&pid).cloned())
    else {
        return cx
            .refuse(
                ApiError::NotFound("No such person in the inventory.".into()),
                "その職員は棚卸しにいません。",
            )
            .await;
    };
    match create_invite(
        &accounts.store,
        &accounts.auth,
        accounts.now(),
        Owner::Person,
        Some(id.clone()),
        &person.name,
        None,
        &actor_name(&principal),
    )
    .await
    {
        Ok((invite, link)) => {
            cx.audit(
                "person_invite.create",
                &invite.id,
                json!({"person": id, "name": person.name, "expires_at": invite.expires_at.to_rfc3339()}),
            )
            .await;
            cx.done(
                "link",
                &format!(
                    "{} さんのパスキー登録リンクを発行しました。別のセキュリティ責任者または管理者が「承認待ちの登録リンク」で承認すると使えるようになります。本人に渡してください。",
                    person.name
                ),
                &format!(
                    "Enrollment link created for {}. It works once another officer or admin approves it under “waiting for approval”. Hand it to them.",
                    person.name
                ),
                Some(link),
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

/// A second officer or admin approves a person's enrollment link made by someone else.
async fn approve_person_invite(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/people");
    let now = accounts.now();
    let invite = match accounts.store.invite(&id).await {
        Ok(Some(i))
            if i.kind == Owner::Person
                && i.approved_by.is_none()
                && i.used_at.is_none()
                && i.expires_at > now =>
        {
            i
        }
        Ok(_) => {
            return cx
                .refuse(
                    ApiError::NotFound(
                        "No enrollment link waits for approval under that id (used, expired or approved).".into(),
                    ),
                    "承認待ちの登録リンクではありません（使用済み・期限切れ・承認済み）。",
                )
                .await
        }
        Err(e) => return cx.store_failed(e).await,
    };
    let me = actor_name(&principal);
    if invite.created_by == me {
        cx.audit(
            "person_invite.approve_refused",
            &invite.id,
            json!({"person": invite.subject, "reason": "self_approval"}),
        )
        .await;
        return cx
            .refuse(
                ApiError::Denied {
                    code: "self_approval",
                    message: "You cannot approve a link you made: ask another officer or admin.".into(),
                },
                "自分が発行した登録リンクは承認できません。別のセキュリティ責任者または管理者に依頼してください。",
            )
            .await;
    }
    match accounts.store.approve_invite(&invite.id, &me, now).await {
        Ok(true) => {
            cx.audit(
                "person_invite.approve",
                &invite.id,
                json!({"person": invite.subject, "name": invite.name, "created_by": invite.created_by}),
            )
            .await;
            cx.done(
                "ok",
                &format!("{} さんの登録リンクを承認しました。", invite.name),
                &format!("The enrollment link of {} was approved.", invite.name),
                None,
            )
            .await
        }
        Ok(false) => {
            cx.refuse(
                ApiError::Conflict {
                    code: "not_waiting",
                    message: "That link was approved or used meanwhile.".into(),
                },
                "この登録リンクはすでに承認されたか使用されました。",
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

async fn revoke_person_passkey(
    State(accounts): State<Accounts>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    Path((id, pk)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let cx = Ctx::new(&accounts, &principal, &address, &headers, &f, "/people");
    revoke_owned_passkey(&cx, Owner::Person, &id, &pk).await
}

/// Revokes passkey `pk` of user or person `id` (an admin for a user who lost a device, an
/// officer for a person) and goes back to the page.
///
/// A user's last active passkey is never revoked here either (as on `/account`): the
/// user would be locked out; an admin disables the user or re-invites instead.
async fn revoke_owned_passkey(cx: &Ctx<'_>, owner: Owner, id: &str, pk: &str) -> Response {
    if owner == Owner::User {
        let active = match cx.accounts.store.passkeys_of(owner, id).await {
            Ok(keys) => keys
                .into_iter()
                .filter(|k| k.revoked_at.is_none())
                .collect::<Vec<_>>(),
            Err(e) => return cx.store_failed(e).await,
        };
        if active.len() <= 1 && active.iter().any(|k| k.id == pk) {
            return cx
                .refuse(
                    ApiError::Conflict {
                        code: "last_passkey",
                        message: "A user's last active passkey cannot be revoked: disable the user, or re-invite them.".into(),
                    },
                    "最後の有効なパスキーは失効できません。利用者を無効にするか、再登録リンクを発行してください。",
                )
                .await;
        }
    }
    match cx
        .accounts
        .store
        .revoke_passkey(owner, id, pk, cx.accounts.now())
        .await
    {
        Ok(true) => {
            cx.audit(
                "passkey.revoke",
                pk,
                json!({"owner_kind": owner.as_str(), "owner": id}),
            )
            .await;
            cx.done(
                "ok",
                "パスキーを失効させました。",
                "The passkey was revoked.",
                None,
            )
            .await
        }
        Ok(false) => {
            cx.refuse(
                ApiError::NotFound("No such active passkey.".into()),
                "そのパスキーは見つからないか、失効しています。",
            )
            .await
        }
        Err(e) => cx.store_failed(e).await,
    }
}

// ---- audit CSV -------------------------------------------------------------------------

/// The audit trail as CSV (RFC 4180, CRLF, UTF-8 with BOM for Excel), oldest first;
/// `from`/`to` (dates in JST or RFC 3339) limit the period, all of it without them.
async fn audit_csv(
    State(accounts): State<Accounts>,
    State(site): State<Site>,
    asker: Asker,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let from = q.get("from").map(String::as_str).filter(|s| !s.is_empty());
    let to = q.get("to").map(String::as_str).filter(|s| !s.is_empty());
    let now = accounts.now();
    let (start, end) = if from.is_none() && to.is_none() {
        (Timestamp::from_millis(0), now)
    } else {
        let period = monban_core::Period::parse(from, to, now, site.offset)
            .map_err(|e| ApiError::BadQuery(e.to_string()))?;
        (period.from(), period.to())
    };
    asker
        .audit_download(
            &accounts.store,
            accounts.now(),
            "audit.csv",
            json!({"from": start.to_rfc3339(), "to": end.to_rfc3339()}),
        )
        .await;
    let head = accounts.store.evidence_head().await?;
    let entries = accounts.store.audit_between(start, end).await?;
    let body = audit_csv_body(&entries, &crate::csv_out::head_comment(head.as_ref()))
        .map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"monban-audit.csv\""),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// The CSV bytes of audit lines.
fn audit_csv_body(entries: &[AuditEntry], head: &str) -> Result<Vec<u8>, csv::Error> {
    let mut w = crate::csv_out::CsvFile::new();
    w.row([
        "seq",
        "at",
        "actor",
        "actor_name",
        "action",
        "target",
        "detail",
        "address",
    ])?;
    for a in entries {
        w.row([
            a.seq.to_string().as_str(),
            &a.at.to_rfc3339(),
            &a.actor,
            &a.actor_name,
            &a.action,
            &a.target,
            &a.detail,
            &a.address,
        ])?;
    }
    w.comment(head)?;
    w.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_come_from_the_text() {
        assert_eq!(token_id("mbn_0a1b2c3d_secretpart"), "0a1b2c3d");
        assert_eq!(token_id("nonsense"), "");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        let f = |v: &str| HashMap::from([("name".to_string(), v.to_string())]);
        assert_eq!(clean_name(&f("  佐藤  "), "name").as_deref(), Some("佐藤"));
        assert_eq!(clean_name(&f("   "), "name"), None);
        assert_eq!(clean_name(&f(&"x".repeat(81)), "name"), None);
        assert_eq!(clean_name(&f("a\nb"), "name"), None);
    }

    #[test]
    fn audit_csv_has_a_bom_and_quotes() {
        let e = AuditEntry {
            seq: 1,
            at: Timestamp::from_millis(0),
            actor: "user:u-1".into(),
            actor_name: "佐藤".into(),
            action: "token.issue".into(),
            target: "t1".into(),
            detail: "{\"label\":\"a,b\"}".into(),
            address: "127.0.0.1".into(),
        };
        let body = audit_csv_body(&[e], "evidence head 1:ab").unwrap();
        assert!(body.starts_with(crate::csv_out::BOM));
        let text = String::from_utf8(body[3..].to_vec()).unwrap();
        assert!(text.starts_with("seq,at,actor,"));
        assert!(text.contains("\"{\"\"label\"\":\"\"a,b\"\"}\""));
        assert!(text.ends_with("\r\n# evidence head 1:ab\r\n"));
    }
}
