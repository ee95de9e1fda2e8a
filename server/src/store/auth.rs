//! Storage of hub users, passkeys, invites, sessions, the audit trail and step-up
//! verifications (migration `0005_auth.sql`). Secrets (invite links, session cookies) are
//! stored as SHA-256 only; passkeys are public keys.

use crate::store::{get, parse, Result, Store};
use monban_core::step_up::StepUpStatus;
use monban_core::Timestamp;
use monban_web::auth::Role;
use serde::Serialize;
use sqlx::any::AnyRow;

/// A hub user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRow {
    pub id: String,
    /// The WebAuthn user handle (a UUID).
    pub handle: String,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

/// Whose passkey: a hub user's (sign-in) or an inventory person's (step-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    User,
    Person,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::User => "user",
            Owner::Person => "person",
        }
    }
}

/// A registered passkey.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyRow {
    /// The credential id, base64url.
    pub id: String,
    pub owner_kind: Owner,
    pub owner: String,
    pub name: String,
    /// webauthn-rs's `Passkey` as JSON.
    #[serde(skip)]
    pub credential: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// An enrollment link (one use, expires).
#[derive(Debug, Clone, Serialize)]
pub struct InviteRow {
    pub id: String,
    /// `user` (a hub user) or `person` (a step-up passkey for an inventory person).
    pub kind: Owner,
    /// The existing user (a re-invite after a lost passkey) or the person.
    pub subject: Option<String>,
    pub name: String,
    pub role: Option<Role>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    /// Who approved a person's enrollment link (a second officer or admin, or `cli`);
    /// `None`: it waits for approval and cannot be used. User invites need none.
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
}

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub hash: String,
    pub user_id: String,
    pub csrf: String,
    pub address: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The passkey the session was signed in with (revoking it ends the session).
    pub passkey: Option<String>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    /// `user:<id>`, `token:<id>`, `cli` or `anonymous`.
    pub actor: String,
    pub actor_name: String,
    /// e.g. `signin.success`, `invite.create`, `token.revoke`, `inventory.edit`.
    pub action: String,
    pub target: String,
    /// JSON with what changed.
    pub detail: String,
    pub address: String,
}

/// An audit line to append.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub actor: &'a str,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: serde_json::Value,
    pub address: &'a str,
}

/// A step-up verification requested by a system.
#[derive(Debug, Clone, Serialize)]
pub struct StepUpRow {
    pub id: String,
    pub system: String,
    pub account: String,
    pub person: String,
    pub terminal: Option<String>,
    pub status: StepUpStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub verified_at: Option<Timestamp>,
    pub credential: Option<String>,
    pub login: Option<String>,
    pub failure: Option<String>,
}

/// Inserts a passkey, in a transaction or not.
async fn insert_passkey_row<'e, E>(executor: E, p: &PasskeyRow) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO passkeys (id, owner_kind, owner, name, credential, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(p.id.clone())
        .bind(p.owner_kind.as_str())
        .bind(p.owner.clone())
        .bind(p.name.clone())
        .bind(p.credential.clone())
        .bind(p.created_at.as_millis())
        .execute(executor)
        .await?;
    Ok(())
}

fn ts(r: &AnyRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp::from_millis(get::<i64>(r, col)?))
}

fn ts_opt(r: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(get::<Option<i64>>(r, col)?.map(Timestamp::from_millis))
}

fn role(s: &str) -> Result<Role> {
    crate::store::parse(s.parse::<Role>())
}

fn user_from_row(r: &AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: get(r, "id")?,
        handle: get(r, "handle")?,
        name: get(r, "name")?,
        role: role(&get::<String>(r, "role")?)?,
        created_at: ts(r, "created_at")?,
        disabled_at: ts_opt(r, "disabled_at")?,
    })
}

fn owner(s: &str) -> Owner {
    if s == "person" {
        Owner::Person
    } else {
        Owner::User
    }
}

fn passkey_from_row(r: &AnyRow) -> Result<PasskeyRow> {
    Ok(PasskeyRow {
        id: get(r, "id")?,
        owner_kind: owner(&get::<String>(r, "owner_kind")?),
        owner: get(r, "owner")?,
        name: get(r, "name")?,
        credential: get(r, "credential")?,
        created_at: ts(r, "created_at")?,
        last_used_at: ts_opt(r, "last_used_at")?,
        revoked_at: ts_opt(r, "revoked_at")?,
    })
}

fn invite_from_row(r: &AnyRow) -> Result<InviteRow> {
    Ok(InviteRow {
        id: get(r, "id")?,
        kind: owner(&get::<String>(r, "kind")?),
        subject: get(r, "subject")?,
        name: get(r, "name")?,
        role: get::<Option<String>>(r, "role")?
            .map(|s| role(&s))
            .transpose()?,
        created_by: get(r, "created_by")?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        used_at: ts_opt(r, "used_at")?,
        approved_by: get(r, "approved_by")?,
        approved_at: ts_opt(r, "approved_at")?,
    })
}

fn session_from_row(r: &AnyRow) -> Result<SessionRow> {
    Ok(SessionRow {
        hash: get(r, "hash")?,
        user_id: get(r, "user_id")?,
        csrf: get(r, "csrf")?,
        address: get(r, "address")?,
        created_at: ts(r, "created_at")?,
        last_seen_at: ts(r, "last_seen_at")?,
        ended_at: ts_opt(r, "ended_at")?,
        passkey: get(r, "passkey")?,
    })
}

fn audit_from_row(r: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: get(r, "seq")?,
        at: ts(r, "at")?,
        actor: get(r, "actor")?,
        actor_name: get(r, "actor_name")?,
        action: get(r, "action")?,
        target: get(r, "target")?,
        detail: get(r, "detail")?,
        address: get(r, "address")?,
    })
}

fn step_up_from_row(r: &AnyRow) -> Result<StepUpRow> {
    Ok(StepUpRow {
        id: get(r, "id")?,
        system: get(r, "system")?,
        account: get(r, "account")?,
        person: get(r, "person")?,
        terminal: get(r, "terminal")?,
        status: parse(get::<String>(r, "status")?.parse::<StepUpStatus>())?,
        created_at: ts(r, "created_at")?,
        expires_at: ts(r, "expires_at")?,
        verified_at: ts_opt(r, "verified_at")?,
        credential: get(r, "credential")?,
        login: get(r, "login")?,
        failure: get(r, "failure")?,
    })
}

impl Store {
    // ---- users -----------------------------------------------------------------------

    pub async fn user(&self, id: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY created_at, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn set_user_role(&self, id: &str, role: Role) -> Result<bool> {
        let res = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Disables (`Some(now)`) or re-enables (`None`) a user; disabling ends their sessions.
    pub async fn set_user_disabled(&self, id: &str, at: Option<Timestamp>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let res = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(at.map(|t| t.as_millis()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(at) = at {
            sqlx::query(
                "UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL",
            )
            .bind(at.as_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(res.rows_affected() == 1)
    }

    // ---- passkeys --------------------------------------------------------------------

    /// Passkeys of one owner, revoked ones included, oldest first.
    pub async fn passkeys_of(&self, kind: Owner, owner: &str) -> Result<Vec<PasskeyRow>> {
        let rows = sqlx::query(
            "SELECT * FROM passkeys WHERE owner_kind = $1 AND owner = $2 ORDER BY created_at, id",
        )
        .bind(kind.as_str())
        .bind(owner)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(passkey_from_row).collect()
    }

    /// Every passkey of one kind (for listings), revoked ones included.
    pub async fn passkeys_by_kind(&self, kind: Owner) -> Result<Vec<PasskeyRow>> {
        let rows =
            sqlx::query("SELECT * FROM passkeys WHERE owner_kind = $1 ORDER BY owner, created_at")
                .bind(kind.as_str())
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(passkey_from_row).collect()
    }

    pub async fn passkey(&self, id: &str) -> Result<Option<PasskeyRow>> {
        let row = sqlx::query("SELECT * FROM passkeys WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(passkey_from_row).transpose()
    }

    pub async fn rename_passkey(
        &self,
        kind: Owner,
        owner: &str,
        id: &str,
        name: &str,
    ) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE passkeys SET name = $1 WHERE id = $2 AND owner_kind = $3 AND owner = $4 AND revoked_at IS NULL",
        )
        .bind(name)
        .bind(id)
        .bind(kind.as_str())
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Revokes a passkey and ends every session signed in with it, in one transaction.
    pub async fn revoke_passkey(
        &self,
        kind: Owner,
        owner: &str,
        id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "UPDATE passkeys SET revoked_at = $1 WHERE id = $2 AND owner_kind = $3 AND owner = $4 AND revoked_at IS NULL",
        )
        .bind(now.as_millis())
        .bind(id)
        .bind(kind.as_str())
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        // A session lives no longer than the passkey it was signed in with.
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE passkey = $2 AND ended_at IS NULL")
            .bind(now.as_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(res.rows_affected() == 1)
    }

    /// Stores a passkey after a successful assertion (new counter) and its use.
    pub async fn passkey_used(&self, id: &str, credential: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE id = $3")
            .bind(credential)
            .bind(now.as_millis())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn insert_passkey(&self, p: &PasskeyRow) -> Result<()> {
        insert_passkey_row(self.pool(), p).await
    }

    // ---- invites ---------------------------------------------------------------------

    pub async fn insert_invite(&self, i: &InviteRow, hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO invites (id, hash, kind, subject, name, role, created_by, created_at, expires_at, approved_by, approved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(&i.id)
            .bind(hash)
            .bind(i.kind.as_str())
            .bind(i.subject.clone())
            .bind(&i.name)
            .bind(i.role.map(|r| r.as_str().to_string()))
            .bind(&i.created_by)
            .bind(i.created_at.as_millis())
            .bind(i.expires_at.as_millis())
            .bind(i.approved_by.clone())
            .bind(i.approved_at.map(|t| t.as_millis()))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn invite_by_hash(&self, hash: &str) -> Result<Option<InviteRow>> {
        let row = sqlx::query("SELECT * FROM invites WHERE hash = $1")
            .bind(hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(invite_from_row).transpose()
    }

    pub async fn invites(&self) -> Result<Vec<InviteRow>> {
        let rows = sqlx::query("SELECT * FROM invites ORDER BY created_at DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(invite_from_row).collect()
    }

    /// Completes an enrollment in one transaction: marks the invite used (only if it was
    /// unused and unexpired — a second use loses the race), creates the user when `user`
    /// is given, and stores the passkey. Returns false when the invite was no longer
    /// usable; nothing is written then.
    pub async fn complete_enrollment(
        &self,
        invite_id: &str,
        user: Option<&UserRow>,
        passkey: &PasskeyRow,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "UPDATE invites SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.as_millis())
        .bind(invite_id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(u) = user {
            sqlx::query("INSERT INTO users (id, handle, name, role, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&u.id)
                .bind(&u.handle)
                .bind(&u.name)
                .bind(u.role.as_str())
                .bind(u.created_at.as_millis())
                .execute(&mut *tx)
                .await?;
        }
        insert_passkey_row(&mut *tx, passkey).await?;
        tx.commit().await?;
        Ok(true)
    }

    // ---- sessions --------------------------------------------------------------------

    pub async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        sqlx::query("INSERT INTO sessions (hash, user_id, csrf, address, created_at, last_seen_at, passkey) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&s.hash)
            .bind(&s.user_id)
            .bind(&s.csrf)
            .bind(&s.address)
            .bind(s.created_at.as_millis())
            .bind(s.last_seen_at.as_millis())
            .bind(s.passkey.clone())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn session(&self, hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE hash = $1")
            .bind(hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub async fn touch_session(&self, hash: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE hash = $2")
            .bind(now.as_millis())
            .bind(hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn end_session(&self, hash: &str, now: Timestamp) -> Result<bool> {
        let res =
            sqlx::query("UPDATE sessions SET ended_at = $1 WHERE hash = $2 AND ended_at IS NULL")
                .bind(now.as_millis())
                .bind(hash)
                .execute(self.pool())
                .await?;
        Ok(res.rows_affected() == 1)
    }

    // ---- approvals of person invites -------------------------------------------------

    /// Approves a waiting person invite by `by` (not its maker: the caller checks).
    /// Returns false when it was not waiting.
    pub async fn approve_invite(&self, id: &str, by: &str, now: Timestamp) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE invites SET approved_by = $1, approved_at = $2 WHERE id = $3 AND approved_by IS NULL AND used_at IS NULL",
        )
        .bind(by)
        .bind(now.as_millis())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn invite(&self, id: &str) -> Result<Option<InviteRow>> {
        let row = sqlx::query("SELECT * FROM invites WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(invite_from_row).transpose()
    }

    // ---- the hub's own secrets -------------------------------------------------------

    /// The secret `name`, made with `make` and stored on first use (every later call,
    /// also after a restart, returns the stored one).
    pub async fn secret(&self, name: &str, make: impl FnOnce() -> String) -> Result<String> {
        if let Some(v) =
            sqlx::query_scalar::<_, String>("SELECT value FROM hub_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?
        {
            return Ok(v);
        }
        sqlx::query(
            "INSERT INTO hub_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(make())
        .execute(self.pool())
        .await?;
        let v = sqlx::query_scalar::<_, String>("SELECT value FROM hub_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await?;
        Ok(v)
    }

    // ---- audit -----------------------------------------------------------------------

    /// Appends an audit line and its link of the evidence chain, in one transaction.
    pub async fn append_audit(&self, a: &NewAudit<'_>, now: Timestamp) -> Result<()> {
        self.append_audit_seq(a, now).await.map(|_| ())
    }

    /// [`Store::append_audit`], answering the line's `seq` (an access-log import's id).
    pub async fn append_audit_seq(&self, a: &NewAudit<'_>, now: Timestamp) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = insert_audit(&mut tx, self.is_sqlite(), a, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Audit lines, newest first: at most `limit`, older than `before` (a `seq`) when
    /// given, and whose action starts with `action` when given.
    pub async fn audit(
        &self,
        limit: i64,
        before: Option<i64>,
        action: Option<&str>,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM audit WHERE seq < $1 AND substr(action, 1, length($2)) = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(action.unwrap_or("").to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// Audit lines with `from <= at <= to`, oldest first (the CSV export).
    pub async fn audit_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT * FROM audit WHERE at >= $1 AND at <= $2 ORDER BY seq")
            .bind(from.as_millis())
            .bind(to.as_millis())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    // ---- step-up ---------------------------------------------------------------------

    pub async fn insert_step_up(&self, s: &StepUpRow) -> Result<()> {
        sqlx::query("INSERT INTO step_ups (id, system, account, person, terminal, status, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&s.id)
            .bind(&s.system)
            .bind(&s.account)
            .bind(&s.person)
            .bind(s.terminal.clone())
            .bind(s.status.as_str())
            .bind(s.created_at.as_millis())
            .bind(s.expires_at.as_millis())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn step_up(&self, id: &str) -> Result<Option<StepUpRow>> {
        let row = sqlx::query("SELECT * FROM step_ups WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(step_up_from_row).transpose()
    }

    /// The step-up recorded on a login, if any.
    pub async fn step_up_of_login(&self, login: &str) -> Result<Option<StepUpRow>> {
        let row = sqlx::query("SELECT * FROM step_ups WHERE login = $1")
            .bind(login)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(step_up_from_row).transpose()
    }

    /// Settles a pending step-up: `verified` with the credential, or `failed` with why.
    /// Only a pending, unexpired one changes.
    pub async fn settle_step_up(
        &self,
        id: &str,
        verified: std::result::Result<&str, &str>,
        now: Timestamp,
    ) -> Result<bool> {
        let (status, credential, failure) = match verified {
            Ok(c) => ("verified", Some(c.to_string()), None),
            Err(f) => ("failed", None, Some(f.to_string())),
        };
        let res = sqlx::query("UPDATE step_ups SET status = $1, verified_at = $2, credential = $3, failure = $4 WHERE id = $5 AND status = 'pending' AND expires_at > $2")
            .bind(status)
            .bind(now.as_millis())
            .bind(credential)
            .bind(failure)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Records a verified step-up on a login, once: returns false if it was already used.
    pub async fn consume_step_up(&self, id: &str, login: &str) -> Result<bool> {
        let res = sqlx::query(
            "UPDATE step_ups SET status = 'used', login = $1 WHERE id = $2 AND status = 'verified'",
        )
        .bind(login)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(res.rows_affected() == 1)
    }

    // ---- tokens (the tokens page) ------------------------------------------------------

    /// Records who issued a token (the tokens page shows it).
    pub async fn set_token_creator(&self, id: &str, created_by: &str) -> Result<()> {
        sqlx::query("UPDATE tokens SET created_by = $1 WHERE id = $2")
            .bind(created_by)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Inserts an audit line in `tx` and chains it (the caller commits); answers its `seq`.
pub(crate) async fn insert_audit(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sqlite: bool,
    a: &NewAudit<'_>,
    now: Timestamp,
) -> Result<i64> {
    let sql = format!(
        "INSERT INTO audit (at, actor, actor_name, action, target, detail, address) VALUES ($1, $2, $3, $4, $5, $6, $7) {}",
        crate::store::evidence::returning(monban_core::evidence::Kind::Audit)
    );
    let row = sqlx::query(&sql)
        .bind(now.as_millis())
        .bind(a.actor)
        .bind(a.actor_name)
        .bind(a.action)
        .bind(a.target)
        .bind(a.detail.to_string())
        .bind(a.address)
        .fetch_one(&mut **tx)
        .await?;
    let rec = crate::store::evidence::record_of(monban_core::evidence::Kind::Audit, &row)?;
    let seq = rec.rid.unwrap_or_default();
    crate::store::evidence::append(tx, sqlite, vec![rec], now).await?;
    Ok(seq)
}
