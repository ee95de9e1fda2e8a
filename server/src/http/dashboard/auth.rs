//! The data of the account, users, tokens, audit, people and step-up pages, for the
//! dashboard (`monban_web`'s page sources), and the session's one-time flash.

use super::Source;
use crate::auth::Principal;
use crate::store::auth::{AuditEntry, InviteRow, Owner, PasskeyRow};
use monban_core::{PersonId, SystemId, Timestamp};
use monban_web::api::SourceError;
use monban_web::pages::account::{AccountView, Flash, PasskeyView};
use monban_web::pages::audit::AuditView;
use monban_web::pages::enroll::{InviteInfo, InviteLookup};
use monban_web::pages::people::{PeopleView, PersonView};
use monban_web::pages::step_up::StepUpView;
use monban_web::pages::tokens::{TokenView, TokensView};
use monban_web::pages::users::{InviteView, UserView, UsersView};
use std::collections::HashMap;

/// How many of my sign-ins the account page lists.
const MY_SIGNINS: usize = 10;

fn err(e: impl std::fmt::Display) -> SourceError {
    super::unavailable(e)
}

fn opt(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::to_rfc3339)
}

pub(crate) fn passkey_view(p: &PasskeyRow) -> PasskeyView {
    PasskeyView {
        id: p.id.clone(),
        name: p.name.clone(),
        created_at: p.created_at.to_rfc3339(),
        last_used_at: opt(p.last_used_at),
        revoked_at: opt(p.revoked_at),
    }
}

pub(crate) fn audit_view(a: AuditEntry) -> AuditView {
    AuditView {
        seq: a.seq,
        at: a.at.to_rfc3339(),
        actor: a.actor,
        actor_name: a.actor_name,
        action: a.action,
        target: a.target,
        detail: a.detail,
        address: a.address,
    }
}

fn invite_view(i: InviteRow, now: Timestamp) -> InviteView {
    InviteView {
        open: i.used_at.is_none() && i.expires_at > now,
        id: i.id,
        kind: i.kind.as_str().to_string(),
        name: i.name,
        role: i.role,
        created_by: i.created_by,
        created_at: i.created_at.to_rfc3339(),
        expires_at: i.expires_at.to_rfc3339(),
        used_at: opt(i.used_at),
    }
}

#[async_trait::async_trait]
impl monban_web::pages::account::FlashSource for Source {
    async fn take_flash(&self, request: &axum::http::request::Parts) -> Option<Flash> {
        let hash = request
            .extensions
            .get::<Principal>()?
            .session_hash()?
            .to_string();
        self.auth
            .take_flash(&hash, self.now())
            .and_then(|v| serde_json::from_value(v).ok())
    }
}

#[async_trait::async_trait]
impl monban_web::pages::account::AccountSource for Source {
    async fn account(&self, user_id: String) -> Result<AccountView, SourceError> {
        let store = &self.store;
        let user = store
            .user(&user_id)
            .await
            .map_err(err)?
            .ok_or_else(|| SourceError::NotFound("no such user".into()))?;
        let passkeys = store
            .passkeys_of(Owner::User, &user_id)
            .await
            .map_err(err)?
            .iter()
            .map(passkey_view)
            .collect();
        let signins = store
            .audit(500, None, Some("signin"))
            .await
            .map_err(err)?
            .into_iter()
            .filter(|a| a.target == user_id)
            .take(MY_SIGNINS)
            .map(audit_view)
            .collect();
        Ok(AccountView {
            user_id,
            name: user.name,
            role: user.role,
            created_at: user.created_at.to_rfc3339(),
            passkeys,
            signins,
            flash: None,
            csrf: String::new(),
        })
    }
}

#[async_trait::async_trait]
impl monban_web::pages::enroll::EnrollSource for Source {
    async fn invite(&self, token: String) -> Result<InviteLookup, SourceError> {
        let src = self;
        match crate::auth::usable_invite(&src.store, &token, src.now()).await {
            Ok(Ok(i)) => Ok(InviteLookup::Usable(InviteInfo {
                name: i.name,
                role: i.role,
                kind: i.kind.as_str().to_string(),
                expires_at: i.expires_at.to_rfc3339(),
            })),
            Ok(Err(why)) => Ok(InviteLookup::Refused(why.to_string())),
            Err(_) => Err("could not look the invite up".into()),
        }
    }
}

#[async_trait::async_trait]
impl monban_web::pages::users::UsersSource for Source {
    async fn users(&self) -> Result<UsersView, SourceError> {
        let src = self;
        let now = src.now();
        let mut keys: HashMap<String, Vec<PasskeyView>> = HashMap::new();
        for p in src.store.passkeys_by_kind(Owner::User).await.map_err(err)? {
            keys.entry(p.owner.clone())
                .or_default()
                .push(passkey_view(&p));
        }
        let users = src
            .store
            .users()
            .await
            .map_err(err)?
            .into_iter()
            .map(|u| UserView {
                passkeys: keys.remove(&u.id).unwrap_or_default(),
                id: u.id,
                name: u.name,
                role: u.role,
                created_at: u.created_at.to_rfc3339(),
                disabled_at: opt(u.disabled_at),
            })
            .collect();
        let invites = src
            .store
            .invites()
            .await
            .map_err(err)?
            .into_iter()
            .map(|i| invite_view(i, now))
            .collect();
        Ok(UsersView {
            users,
            invites,
            flash: None,
            csrf: String::new(),
            me: String::new(),
        })
    }
}

#[async_trait::async_trait]
impl monban_web::pages::tokens::TokensSource for Source {
    async fn tokens(&self) -> Result<TokensView, SourceError> {
        let src = self;
        let creators = src.store.token_creators().await.map_err(err)?;
        let tokens = src
            .store
            .tokens()
            .await
            .map_err(err)?
            .into_iter()
            .rev()
            .map(|t| {
                // A vendor token shows its vendor where a login token shows its system.
                let (kind, system, role) = (
                    t.scope.kind(),
                    t.scope.system().or_else(|| t.scope.vendor()),
                    t.scope.role(),
                );
                TokenView {
                    created_by: creators.get(&t.id).cloned(),
                    id: t.id,
                    kind: kind.to_string(),
                    system,
                    role,
                    label: t.label,
                    created_at: t.created_at.to_rfc3339(),
                    last_used_at: opt(t.last_used_at),
                    revoked: t.revoked,
                }
            })
            .collect();
        let inv = src.inventory();
        let systems = inv
            .systems()
            .iter()
            .map(|s| (s.id.to_string(), s.name.clone()))
            .collect();
        let vendors = inv
            .vendors()
            .iter()
            .map(|v| (v.id.to_string(), v.name.clone()))
            .collect();
        Ok(TokensView {
            tokens,
            systems,
            vendors,
            flash: None,
            csrf: String::new(),
        })
    }
}

#[async_trait::async_trait]
impl monban_web::pages::audit::AuditSource for Source {
    async fn audit(
        &self,
        limit: i64,
        before: Option<i64>,
        action: Option<String>,
    ) -> Result<Vec<AuditView>, SourceError> {
        Ok(self
            .store
            .audit(limit, before, action.as_deref())
            .await
            .map_err(err)?
            .into_iter()
            .map(audit_view)
            .collect())
    }
}

#[async_trait::async_trait]
impl monban_web::pages::people::PeopleSource for Source {
    async fn people(&self) -> Result<PeopleView, SourceError> {
        let src = self;
        let mut keys: HashMap<String, Vec<PasskeyView>> = HashMap::new();
        for p in src
            .store
            .passkeys_by_kind(Owner::Person)
            .await
            .map_err(err)?
        {
            if p.revoked_at.is_none() {
                keys.entry(p.owner.clone())
                    .or_default()
                    .push(passkey_view(&p));
            }
        }
        let people = src
            .inventory()
            .people()
            .iter()
            .map(|p| PersonView {
                id: p.id.to_string(),
                name: p.name.clone(),
                accounts: p
                    .accounts
                    .iter()
                    .map(|(s, a)| (s.to_string(), a.clone()))
                    .collect(),
                passkeys: keys.remove(p.id.as_str()).unwrap_or_default(),
            })
            .collect();
        let now = src.now();
        let mut waiting: Vec<monban_web::pages::people::WaitingInvite> = src
            .store
            .invites()
            .await
            .map_err(err)?
            .into_iter()
            .filter(|i| {
                i.kind == Owner::Person
                    && i.approved_by.is_none()
                    && i.used_at.is_none()
                    && i.expires_at > now
            })
            .map(|i| monban_web::pages::people::WaitingInvite {
                id: i.id,
                person: i.subject.unwrap_or_default(),
                name: i.name,
                created_by: i.created_by,
                created_at: i.created_at.to_rfc3339(),
                expires_at: i.expires_at.to_rfc3339(),
            })
            .collect();
        waiting.reverse();
        Ok(PeopleView {
            people,
            waiting,
            flash: None,
            csrf: String::new(),
            me: String::new(),
        })
    }
}

#[async_trait::async_trait]
impl monban_web::pages::step_up::StepUpSource for Source {
    async fn step_up(&self, id: String) -> Result<Option<StepUpView>, SourceError> {
        let src = self;
        let Some(s) = src.store.step_up(&id).await.map_err(err)? else {
            return Ok(None);
        };
        let inv = src.inventory();
        let system_name = SystemId::parse(s.system.clone())
            .ok()
            .and_then(|sid| inv.system(&sid).map(|x| x.name.clone()))
            .unwrap_or_else(|| s.system.clone());
        let person_name = PersonId::parse(s.person.clone())
            .ok()
            .and_then(|pid| inv.person(&pid).map(|x| x.name.clone()))
            .unwrap_or_else(|| s.person.clone());
        let status =
            monban_core::step_up::shown_status(s.status, s.expires_at, src.now()).to_string();
        Ok(Some(StepUpView {
            id: s.id,
            system: s.system,
            system_name,
            account: s.account,
            person_name,
            terminal: s.terminal,
            status,
            expires_at: s.expires_at.to_rfc3339(),
        }))
    }
}
