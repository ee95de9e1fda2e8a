//! Who is looking at the dashboard, and what their role lets them do.
//!
//! Roles and permissions live here, in the crate that both the hub (server) and the
//! browser build, so the navigation the browser shows and the checks the server makes
//! read from one table. The server is the authority: it checks every route and server
//! function (`monban_server::auth`); the browser only hides links a role cannot follow.
//!
//! | role | permissions |
//! |---|---|
//! | `admin` | everything |
//! | `officer` (セキュリティ責任者) | compliance, evidence, exports, doors, inventory (read and edit), people's step-up passkeys |
//! | `facilities` (施設・設備) | doors, connectors, dead letters (the rooms page without who is present) |
//! | `auditor` (監査) | read-only: compliance, evidence, exports, doors, inventory, audit trail |
//!
//! Read tokens (CONTRACT §9, `Authorization: Bearer`) carry a role too; they get only the
//! read permissions of that role ([`Permission::is_read`]), never a state change.

#[allow(unused_imports)]
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A hub user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Officer,
    Facilities,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Officer, Role::Facilities, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Facilities => "facilities",
            Role::Auditor => "auditor",
        }
    }

    /// Whether this role holds `p`.
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Officer => matches!(
                p,
                ReadCompliance
                    | ReadDoors
                    | ReadInventory
                    | EditInventory
                    | ManagePeoplePasskeys
                    | ReadMaintenance
                    | DecideMaintenance
                    | ImportAccessLogs
                    | AnswerChecklist
            ),
            Role::Facilities => matches!(p, ReadDoors),
            Role::Auditor => matches!(
                p,
                ReadCompliance | ReadDoors | ReadInventory | ReadAudit | ReadMaintenance
            ),
        }
    }

    /// The page a user of this role lands on after signing in.
    pub fn home(self) -> &'static str {
        if self.can(Permission::ReadCompliance) {
            "/"
        } else {
            "/rooms"
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of the four.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown role {:?}: use admin, officer, facilities or auditor",
            self.0
        )
    }
}

impl std::error::Error for UnknownRole {}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "admin" => Ok(Role::Admin),
            "officer" => Ok(Role::Officer),
            "facilities" => Ok(Role::Facilities),
            "auditor" => Ok(Role::Auditor),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

/// What a route or server function needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Overview, system pages, login evidence, compliance and evidence exports.
    ReadCompliance,
    /// Rooms and doors, connector health, dead letters, metrics.
    ReadDoors,
    /// The inventory (棚卸し) and its CSV export.
    ReadInventory,
    /// Inventory edits and CSV imports.
    EditInventory,
    /// The audit trail.
    ReadAudit,
    /// Hub users and invites.
    ManageUsers,
    /// API tokens.
    ManageTokens,
    /// Step-up passkeys of the inventory's people (enrollment links, revocation).
    ManagePeoplePasskeys,
    /// Maintenance requests (保守作業), their reconciliation and the maintenance report.
    ReadMaintenance,
    /// Filing a request for a vendor (a paper 作業申請) and deciding requests: approve,
    /// deny, cancel, confirm a report — each confirmed with a passkey.
    DecideMaintenance,
    /// Uploading a system's access log (アクセスログの取込み) on `/imports`: its logins
    /// are stored as if the system had sent them.
    ImportAccessLogs,
    /// Recording manual answers to the inspection report's checklist items (はい／いいえ／
    /// 該当なし): the security officer's own statements.
    AnswerChecklist,
}

impl Permission {
    /// Read permissions: the only ones a read token can carry.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Permission::ReadCompliance
                | Permission::ReadDoors
                | Permission::ReadInventory
                | Permission::ReadAudit
                | Permission::ReadMaintenance
        )
    }
}

/// The signed-in user as the pages see them (server-rendered and hydrated alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    /// The session's CSRF token: every form that changes state sends it as `_csrf`, every
    /// script request as the `X-CSRF-Token` header.
    pub csrf: String,
}

impl Viewer {
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn the_role_table() {
        use Permission::*;
        let all = [
            ReadCompliance,
            ReadDoors,
            ReadInventory,
            EditInventory,
            ReadAudit,
            ManageUsers,
            ManageTokens,
            ManagePeoplePasskeys,
        ];
        let granted = |r: Role| all.iter().filter(|p| r.can(**p)).count();
        assert_eq!(granted(Role::Admin), all.len());
        assert!(!Role::Officer.can(ManageUsers) && !Role::Officer.can(ReadAudit));
        assert!(Role::Facilities.can(ReadDoors) && granted(Role::Facilities) == 1);
        assert!(all
            .iter()
            .filter(|p| Role::Auditor.can(**p))
            .all(|p| p.is_read()));
        assert_eq!(Role::Facilities.home(), "/rooms");
        assert_eq!(Role::Auditor.home(), "/");
    }
}

/// The role of whoever makes the request — a signed-in user or a read token — as the
/// hub's gate puts it into the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub role: Role,
}

/// The role of the request being rendered or served (server only), session or token.
#[cfg(feature = "ssr")]
pub fn current_role() -> Option<Role> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Reader>().map(|r| r.role))
}

/// The signed-in user of the request being rendered or served (server only): the hub's
/// session middleware puts a [`Viewer`] into the request's extensions.
#[cfg(feature = "ssr")]
pub fn current_viewer() -> Option<Viewer> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
}

/// The signed-in user, for the page frame (navigation, name, sign-out); `None` when
/// nobody is signed in (the sign-in and enrollment pages).
#[server(prefix = "/api/dash", endpoint = "viewer", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_viewer() -> Result<Option<Viewer>, crate::api::DashError> {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(current_viewer())
}

/// Server functions call this first: the hub's middleware has already refused a request
/// without `p`, this is the second lock on the same door.
#[cfg(feature = "ssr")]
pub fn require(p: Permission) -> Result<Viewer, crate::api::DashError> {
    match current_viewer() {
        Some(v) if v.can(p) => Ok(v),
        _ => Err(crate::api::DashError::Forbidden),
    }
}
