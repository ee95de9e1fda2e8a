//! Step-up for systems without 二要素認証, as a service: the system asks the hub to
//! verify the person's passkey at login time, and the login it then reports carries
//! `webauthn_uv` — a factor the hub itself saw — so a password login becomes
//! `direct_2fa`.
//!
//! - [`create`]: a step-up for an account that maps to a person with a passkey, pending
//!   until the person verifies on the hub's page or it expires (`[auth] step_up_ttl`).
//! - [`live`]: the step-up the person's page verifies, while it still waits.
//! - [`vouch`]: whether a verified step-up may vouch for a login; if so the login gets
//!   `webauthn_uv`. The writer consumes the step-up in the transaction that stores the
//!   login (one step-up, one login).
//!
//! The rules — the status shown, whether the person may still verify, whether a step-up
//! may vouch for a login and the words of a refusal — are `monban_core::step_up`; the
//! API is `crate::http::step_up`, the ceremony `crate::http::ceremony`, and
//! docs/STEP-UP.md tells a system vendor how to integrate.

use crate::auth::secret;
use crate::store::auth::{Owner, StepUpRow};
use crate::store::{Store, StoreError};
use monban_core::step_up::{StepUpFacts, StepUpRefusal, StepUpStatus};
use monban_core::{Inventory, Login, Span, SystemId, Timestamp};

/// Why a step-up cannot be made, verified or used. The messages are the ones the API
/// answers with.
#[derive(Debug, thiserror::Error)]
pub enum StepUpError {
    /// No step-up with this id.
    #[error("no such step-up")]
    NotFound,
    /// Expired or already settled: the person can no longer verify it.
    #[error("this step-up has expired or is already settled / この確認は期限切れか完了済みです")]
    NotPending,
    /// It may not vouch for this login (`monban_core::step_up::vouch`).
    #[error(transparent)]
    Refused(#[from] StepUpRefusal),
    /// The account maps to no person of the inventory.
    #[error("account {account:?} of system {system:?} maps to no person in the inventory")]
    UnmappedAccount { system: String, account: String },
    /// The person has no active passkey registered with the hub.
    #[error("person {person:?} has no passkey registered with the hub: an officer issues an enrollment link on the people page")]
    NoPasskey { person: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new pending step-up for `account` of `system` (at `terminal`), stored: the account
/// must map to a person of `inventory` with an active passkey. It expires after `ttl`.
pub async fn create(
    store: &Store,
    inventory: &Inventory,
    ttl: Span,
    system: &SystemId,
    account: String,
    terminal: Option<String>,
    now: Timestamp,
) -> Result<StepUpRow, StepUpError> {
    let Some(person) = inventory.person_by_account(system, &account).cloned() else {
        return Err(StepUpError::UnmappedAccount {
            system: system.to_string(),
            account,
        });
    };
    let keys = store.passkeys_of(Owner::Person, person.as_str()).await?;
    if keys.iter().all(|k| k.revoked_at.is_some()) {
        return Err(StepUpError::NoPasskey {
            person: person.to_string(),
        });
    }
    let s = StepUpRow {
        id: format!("su-{}", secret(18)),
        system: system.to_string(),
        account,
        person: person.to_string(),
        terminal,
        status: StepUpStatus::Pending,
        created_at: now,
        expires_at: Timestamp::from_millis(now.as_millis() + ttl.as_millis()),
        verified_at: None,
        credential: None,
        login: None,
        failure: None,
    };
    store.insert_step_up(&s).await?;
    Ok(s)
}

/// The step-up `id` if it still waits for the person.
pub async fn live(store: &Store, id: &str, now: Timestamp) -> Result<StepUpRow, StepUpError> {
    let s = store.step_up(id).await?.ok_or(StepUpError::NotFound)?;
    if !monban_core::step_up::is_live(s.status, s.expires_at, now) {
        return Err(StepUpError::NotPending);
    }
    Ok(s)
}

/// Checks that step-up `id` may vouch for `login` (`monban_core::step_up::vouch`); on
/// success adds `webauthn_uv` to its factors. The writer consumes the step-up in the
/// transaction that stores the login.
pub async fn vouch(store: &Store, id: &str, login: &mut Login) -> Result<StepUpRow, StepUpError> {
    let s = store
        .step_up(id)
        .await?
        .ok_or_else(|| StepUpRefusal::Unknown { id: id.to_string() })?;
    let facts = StepUpFacts {
        id,
        system: &s.system,
        account: &s.account,
        status: s.status,
        created_at: s.created_at,
        verified_at: s.verified_at,
        login: s.login.as_deref(),
    };
    monban_core::step_up::vouch(&facts, login)?;
    Ok(s)
}
