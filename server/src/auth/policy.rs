//! Which routes need what: one table for every route and server function of the hub.
//!
//! The gate (`crate::http::gate::authorize`) asks [`access`] for each
//! request before any handler runs. A route missing from the table needs
//! [`Permission::ManageUsers`] (that is, admin): new routes are closed until someone
//! decides who may use them.

use axum::http::Method;
use monban_web::auth::Permission;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the sign-in and enrollment pages, the passkey ceremonies (they check their
    /// own secrets), static files, `/healthz`.
    Public,
    /// The contract's ingest endpoints and the step-up API: the handler checks the
    /// ingest token itself (CONTRACT §7, §9).
    Ingest,
    /// Any signed-in user (their own account, sign-out, the live feed).
    SignedIn,
    /// A user or read token whose role holds this permission.
    Needs(Permission),
    /// With `Authorization: Bearer`, like [`Access::Ingest`] (the handler checks a
    /// vendor's token); otherwise a signed-in user whose role holds the permission
    /// (CONTRACT §10: a request is filed by a vendor or by an officer for one).
    IngestOr(Permission),
    /// An admin: a signed-in admin, or a read token of role `admin` (GET only). For reads
    /// that are the admin's alone (the notifications' delivery log), which no read
    /// permission of another role may open.
    AdminRead,
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The access rule of a request.
pub fn access(method: &Method, path: &str) -> Access {
    use Access::*;
    use Permission::*;
    let read = method == Method::GET || method == Method::HEAD;
    match path {
        // `/metrics` stays open like `/healthz` (CONTRACT §9; operational counters, no
        // personal data): scrapers keep working; restrict it at the network.
        "/signin" | "/healthz" | "/metrics" | "/favicon.ico" => return Public,
        "/api/dash/viewer" | "/api/dash/invite" | "/api/dash/step-up" => return Public,
        // Answers 401 itself without a session (a read token has none).
        "/api/v1/session" => return Public,
        // The OpenAPI description of the API: no data, and clients need it before a token.
        "/api/v1/openapi.json" => return Public,
        "/signout" | "/account" | "/api/dash/account" => return SignedIn,
        // The live feed says only that something changed; every role (and read token) may
        // follow it.
        "/api/v1/live" => return Needs(ReadDoors),
        "/"
        | "/api/dash/overview"
        | "/api/dash/system"
        | "/api/dash/login-evidence"
        | "/api/dash/export"
        | "/api/v1/compliance"
        | "/api/v1/evidence/head" => return Needs(ReadCompliance),
        "/rooms"
        | "/dead-letters"
        | "/api/dash/rooms"
        | "/api/dash/dead-letters"
        | "/api/v1/doors"
        | "/api/v1/dead-letters" => return Needs(ReadDoors),
        // The account review (CONTRACT §12) is part of the inventory's 棚卸し.
        "/api/dash/inventory" | "/api/v1/accounts" => return Needs(ReadInventory),
        "/audit" | "/audit.csv" | "/api/dash/audit" => return Needs(ReadAudit),
        "/api/dash/users" => return Needs(ManageUsers),
        "/api/dash/tokens" => return Needs(ManageTokens),
        "/api/dash/people" => return Needs(ManagePeoplePasskeys),
        "/api/v1/notifications" => return AdminRead,
        // The record of past access-log imports is evidence: compliance readers see it.
        "/api/v1/imports" => return Needs(ReadCompliance),
        // Any method: the handlers check their ingest tokens, a wrong method is 405.
        "/api/v1/door-events" | "/api/v1/logins" => return Ingest,
        _ => {}
    }
    if under(path, "/pkg") || under(path, "/enroll") {
        return Public;
    }
    if under(path, "/auth/passkeys") {
        return SignedIn;
    }
    if under(path, "/auth") {
        return Public;
    }
    if under(path, "/api/v1/step-up") {
        return Ingest;
    }
    if under(path, "/api/v1/maintenance") {
        return match (read, path) {
            (true, _) => Needs(ReadMaintenance),
            (false, "/api/v1/maintenance") => IngestOr(DecideMaintenance),
            (false, p) if p.ends_with("/report") => Ingest,
            (false, _) => Needs(DecideMaintenance),
        };
    }
    // The account review campaign: read like the account list; confirmed by those who
    // decide maintenance (officer, admin), with a passkey.
    if under(path, "/api/v1/accounts") || under(path, "/accounts") {
        return Needs(if read {
            ReadInventory
        } else {
            DecideMaintenance
        });
    }
    // An access-log upload: by the system's own ingest token, or an officer or admin.
    if under(path, "/api/v1/imports") {
        return if read {
            Needs(ReadCompliance)
        } else {
            IngestOr(ImportAccessLogs)
        };
    }
    if under(path, "/imports") {
        return Needs(ReadCompliance);
    }
    if under(path, "/maintenance") || under(path, "/api/dash/maintenance") {
        return Needs(ReadMaintenance);
    }
    // The pages rendered on the server only (`monban_web::pages::fragment`): every role
    // passes the gate, and each page checks its own permission.
    if path == "/api/dash/fragment" {
        return Needs(ReadDoors);
    }
    if under(path, "/inspection") {
        return Needs(if read {
            ReadCompliance
        } else {
            AnswerChecklist
        });
    }
    // The page a person opens at the terminal: the step-up id is the capability.
    if under(path, "/step-up") {
        return Public;
    }
    if under(path, "/account") {
        return SignedIn;
    }
    if under(path, "/systems")
        || under(path, "/logins")
        || under(path, "/export")
        || under(path, "/api/v1/logins")
    {
        return Needs(ReadCompliance);
    }
    if under(path, "/inventory") {
        return Needs(if read { ReadInventory } else { EditInventory });
    }
    if under(path, "/users") {
        return Needs(ManageUsers);
    }
    if under(path, "/tokens") {
        return Needs(ManageTokens);
    }
    if under(path, "/people") {
        return Needs(ManagePeoplePasskeys);
    }
    Needs(ManageUsers)
}

/// Public endpoints that only answer GET: no request to them changes state, so the gate
/// asks no CSRF proof there and a wrong method gets the router's `405` with `Allow`.
pub fn read_only(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics" | "/api/v1/openapi.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::*;
    use Permission::*;

    #[test]
    fn the_table() {
        let get = |p| access(&Method::GET, p);
        let post = |p| access(&Method::POST, p);
        assert_eq!(get("/signin"), Public);
        assert_eq!(get("/enroll/abc"), Public);
        assert_eq!(post("/auth/signin/start"), Public);
        assert_eq!(post("/auth/passkeys/start"), SignedIn);
        assert_eq!(get("/pkg/monban_web.js"), Public);
        assert_eq!(get("/"), Needs(ReadCompliance));
        assert_eq!(get("/systems/ehr"), Needs(ReadCompliance));
        assert_eq!(get("/api/v1/logins/l-1"), Needs(ReadCompliance));
        assert_eq!(post("/api/v1/logins"), Ingest);
        assert_eq!(post("/api/v1/door-events"), Ingest);
        assert_eq!(post("/api/v1/step-up"), Ingest);
        assert_eq!(get("/api/v1/step-up/su-1"), Ingest);
        assert_eq!(get("/step-up/su-1"), Public);
        assert_eq!(get("/api/v1/session"), Public);
        assert_eq!(get("/rooms"), Needs(ReadDoors));
        assert_eq!(get("/metrics"), Public);
        assert_eq!(get("/api/v1/openapi.json"), Public);
        assert!(read_only("/healthz") && read_only("/api/v1/openapi.json"));
        assert!(!read_only("/auth/signin/start") && !read_only("/api/v1/logins"));
        assert_eq!(get("/api/v1/maintenance"), Needs(ReadMaintenance));
        assert_eq!(get("/api/v1/maintenance/a-1"), Needs(ReadMaintenance));
        assert_eq!(
            get("/api/v1/maintenance/unapproved"),
            Needs(ReadMaintenance)
        );
        assert_eq!(post("/api/v1/maintenance"), IngestOr(DecideMaintenance));
        assert_eq!(post("/api/v1/maintenance/a-1/report"), Ingest);
        assert_eq!(
            post("/api/v1/maintenance/a-1/decision/start"),
            Needs(DecideMaintenance)
        );
        assert_eq!(get("/maintenance"), Needs(ReadMaintenance));
        assert_eq!(get("/maintenance/report"), Needs(ReadMaintenance));
        assert_eq!(get("/inspection"), Needs(ReadCompliance));
        assert_eq!(get("/imports"), Needs(ReadCompliance));
        assert_eq!(get("/api/v1/imports"), Needs(ReadCompliance));
        assert_eq!(post("/api/v1/imports/lab"), IngestOr(ImportAccessLogs));
        assert_eq!(post("/inspection/answers"), Needs(AnswerChecklist));
        assert_eq!(get("/api/dash/fragment"), Needs(ReadDoors));
        assert_eq!(get("/api/dash/maintenance/report"), Needs(ReadMaintenance));
        assert_eq!(get("/api/v1/accounts"), Needs(ReadInventory));
        assert_eq!(get("/api/v1/accounts/reviews"), Needs(ReadInventory));
        assert_eq!(
            post("/api/v1/accounts/reviews/start"),
            Needs(DecideMaintenance)
        );
        assert_eq!(
            post("/api/v1/accounts/reviews/finish"),
            Needs(DecideMaintenance)
        );
        assert_eq!(get("/accounts"), Needs(ReadInventory));
        assert_eq!(get("/accounts.csv"), Needs(ManageUsers));
        assert_eq!(get("/inventory"), Needs(ReadInventory));
        assert_eq!(get("/inventory/rooms.csv"), Needs(ReadInventory));
        assert_eq!(post("/inventory/import"), Needs(EditInventory));
        assert_eq!(get("/audit"), Needs(ReadAudit));
        assert_eq!(post("/users/invite"), Needs(ManageUsers));
        assert_eq!(post("/tokens/issue"), Needs(ManageTokens));
        assert_eq!(post("/people/p1/invite"), Needs(ManagePeoplePasskeys));
        assert_eq!(post("/signout"), SignedIn);
        assert_eq!(get("/api/v1/notifications"), AdminRead);
        // Closed unless listed; prefixes match whole segments only.
        assert_eq!(get("/something-new"), Needs(ManageUsers));
        assert_eq!(get("/usersx"), Needs(ManageUsers));
        assert_eq!(get("/pkgx"), Needs(ManageUsers));
        assert_eq!(get("/enrollx"), Needs(ManageUsers));
    }
}
