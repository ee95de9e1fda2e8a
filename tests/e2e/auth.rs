//! Hub users (issue 5) over HTTP with a software passkey: enrollment by a one-time link,
//! sign-in, sign-out, session expiry, CSRF, the audit trail, and what each role (and each
//! read token) may do, route by route.

use crate::harness::*;
use crate::passkeys::{invite, post_json, user, SoftUser};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// GET a page as a browser would, with or without a session cookie.
async fn page(hub: &Hub, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = no_redirect()
        .get(hub.url(path))
        .header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.expect("GET page")
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn invite_enroll_sign_in_sign_out() {
    let hub = spawn_hub(HubOptions::default()).await;
    // Nobody signed in: pages send to the sign-in page, the API answers 401.
    let res = page(&hub, "/rooms", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?next=%2Frooms");
    let (status, body) = hub.get_with("/api/dash/overview", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    // Like /healthz, /metrics answers scrapers without a token (CONTRACT §9).
    assert_eq!(hub.get_with("/metrics", None).await.0, StatusCode::OK);

    let token = invite(&hub, "admin", "kanri");
    // Passkeys never work at an IP address: the ceremony pages move to the origin.
    let res = page(&hub, &format!("/enroll/{token}"), None).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(location(&res), hub.page_url(&format!("/enroll/{token}")));
    let mut admin = SoftUser::new("kanri");
    let (status, body, cookie) = admin.enroll(&hub, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["redirect"], "/");
    let cookie = cookie.expect("enrollment signs the user in");
    let res = page(&hub, "/", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = reqwest::Client::new()
        .post(hub.url("/auth/signin/start"))
        .header("content-type", "application/json")
        .body(json!({"name": "kanri"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get("set-cookie").is_none(),
        "starting a sign-in sets no cookie"
    );

    // The session cookie is HttpOnly and SameSite=Strict; the session has a CSRF token.
    let session = admin.session(&hub).await;
    assert!(session.csrf.len() >= 24);

    // Sign out ends the session: the same cookie no longer opens anything.
    let res = session.post_form(&hub, "/signout", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin");
    let res = page(&hub, "/", Some(&session.cookie)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "denied after sign-out");
    assert!(location(&res).starts_with("/signin"));

    // A wrong user name is answered like a right one (no enumeration); finishing fails.
    let (status, body, _) =
        post_json(&hub, "/auth/signin/start", None, &json!({"name": "nobody"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = SoftUser::new("nobody").sign_in_refused(&hub).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "signin_failed");
}

#[tokio::test]
async fn an_enrollment_link_works_once_and_expires() {
    let hub = spawn_hub(HubOptions::default()).await;
    let token = invite(&hub, "officer", "tanaka");
    let mut first = SoftUser::new("tanaka");
    let (status, body, _) = first.enroll(&hub, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut second = SoftUser::new("tanaka");
    let (status, body, _) = second.enroll(&hub, &token).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "invite_invalid");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already been used"));

    let out = monban(
        &hub.config,
        &[
            "user",
            "invite",
            "--role",
            "auditor",
            "--name",
            "kansa",
            "--valid-for",
            "1s",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let late = out.stdout.trim().rsplit('/').next().unwrap().to_string();
    let refused = wait_for("the one-second link to expire", DEADLINE, || async {
        let (status, body, _) =
            post_json(&hub, "/auth/enroll/start", None, &json!({"token": late})).await;
        (status == StatusCode::GONE).then_some(body)
    })
    .await;
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    // Losing the last passkey needs a new invite: the reinvite is for the same user.
    let out = monban(&hub.config, &["user", "reinvite", "--name", "tanaka"]);
    assert!(out.status.success(), "{out:?}");
    let again = out.stdout.trim().rsplit('/').next().unwrap().to_string();
    let mut replacement = SoftUser::new("tanaka");
    let (status, body, _) = replacement.enroll(&hub, &again).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    replacement.session(&hub).await;
    first.session(&hub).await; // the old passkey still works until revoked
}

#[tokio::test]
async fn state_changes_need_the_sessions_csrf_token_and_our_origin() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (_, officer) = user(&hub, "officer", "sato").await;
    let form = [("id", "ward4"), ("name", "4F"), ("controlled", "true")];
    // Without the token.
    let res = no_redirect()
        .post(hub.url("/inventory/row/rooms"))
        .header("cookie", &officer.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    // With a wrong token.
    let mut bad = form.to_vec();
    bad.push(("_csrf", "not-the-token"));
    let res = no_redirect()
        .post(hub.url("/inventory/row/rooms"))
        .header("cookie", &officer.cookie)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The right token but another site's Origin.
    let mut good = form.to_vec();
    good.push(("_csrf", &officer.csrf));
    let res = no_redirect()
        .post(hub.url("/inventory/row/rooms"))
        .header("cookie", &officer.cookie)
        .header("origin", "https://evil.example")
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The right token from our own page: accepted (a preview is made).
    let res = officer.post_form(&hub, "/inventory/row/rooms", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Ceremonies before sign-in are JSON only: a cross-site form cannot start one.
    let res = no_redirect()
        .post(hub.url("/auth/signin/start"))
        .form(&[("name", "sato")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_maximum_age() {
    let hub = spawn_hub(
        HubOptions::default().extra("[auth]\nsession_idle = \"5s\"\nsession_max = \"1h\""),
    )
    .await;
    // A session in use stays: used at about 0 s, 3 s and 6 s, it outlives its idle time.
    let (_, s) = user(&hub, "auditor", "busy").await;
    let began = std::time::Instant::now();
    for at in [0, 3, 6] {
        wait_for("the clock", DEADLINE, || async {
            (began.elapsed() >= Duration::from_secs(at)).then_some(())
        })
        .await;
        assert_eq!(
            page(&hub, "/", Some(&s.cookie)).await.status(),
            StatusCode::OK,
            "a session used every 3 s with a 5 s idle time (at {at} s)"
        );
    }
    // A session left alone ends once it has been idle that long.
    let (_, s) = user(&hub, "auditor", "idle").await;
    assert_eq!(
        page(&hub, "/", Some(&s.cookie)).await.status(),
        StatusCode::OK
    );
    let last_use = std::time::Instant::now();
    wait_for("the idle time to pass", DEADLINE, || async {
        (last_use.elapsed() >= Duration::from_millis(5500)).then_some(())
    })
    .await;
    assert_eq!(
        page(&hub, "/", Some(&s.cookie)).await.status(),
        StatusCode::SEE_OTHER,
        "the idle session ended"
    );

    let hub = spawn_hub(
        HubOptions::default().extra("[auth]\nsession_idle = \"1h\"\nsession_max = \"6s\""),
    )
    .await;
    let (_, s) = user(&hub, "auditor", "old").await;
    let started = std::time::Instant::now();
    assert_eq!(
        page(&hub, "/", Some(&s.cookie)).await.status(),
        StatusCode::OK
    );
    wait_for("the session to reach its maximum age", DEADLINE, || async {
        let res = page(&hub, "/", Some(&s.cookie)).await;
        (res.status() == StatusCode::SEE_OTHER).then_some(())
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "not before its time"
    );
}

/// What each role may do: `Some(true)` allowed, `Some(false)` refused.
struct Case {
    method: &'static str,
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    /// Roles that may: admin, officer, facilities, auditor.
    allowed: &'static [&'static str],
}

const ALL: &[&str] = &["admin", "officer", "facilities", "auditor"];
const COMPLIANCE: &[&str] = &["admin", "officer", "auditor"];
const INVENTORY_READ: &[&str] = &["admin", "officer", "auditor"];

const CASES: &[Case] = &[
    Case {
        method: "GET",
        path: "/",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/systems/ehr",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/logins/l-none",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/export",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/export/compliance.csv",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/export/evidence.csv",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/api/v1/compliance",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/api/v1/logins/l-none",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/api/dash/overview",
        form: &[],
        allowed: COMPLIANCE,
    },
    Case {
        method: "GET",
        path: "/rooms",
        form: &[],
        allowed: ALL,
    },
    Case {
        method: "GET",
        path: "/dead-letters",
        form: &[],
        allowed: ALL,
    },
    Case {
        method: "GET",
        path: "/api/v1/doors",
        form: &[],
        allowed: ALL,
    },
    Case {
        method: "GET",
        path: "/api/v1/dead-letters",
        form: &[],
        allowed: ALL,
    },
    // The notifications' delivery log: admins only, by session or read token.
    Case {
        method: "GET",
        path: "/api/v1/notifications",
        form: &[],
        allowed: &["admin"],
    },
    Case {
        method: "GET",
        path: "/api/dash/rooms",
        form: &[],
        allowed: ALL,
    },
    Case {
        method: "GET",
        path: "/inventory",
        form: &[],
        allowed: INVENTORY_READ,
    },
    Case {
        method: "GET",
        path: "/inventory/rooms.csv",
        form: &[],
        allowed: INVENTORY_READ,
    },
    Case {
        method: "GET",
        path: "/api/dash/inventory",
        form: &[],
        allowed: INVENTORY_READ,
    },
    Case {
        method: "POST",
        path: "/inventory/row/rooms",
        form: &[("id", "ward9"), ("name", "9F"), ("controlled", "true")],
        allowed: &["admin", "officer"],
    },
    Case {
        method: "GET",
        path: "/audit",
        form: &[],
        allowed: &["admin", "auditor"],
    },
    Case {
        method: "GET",
        path: "/audit.csv",
        form: &[],
        allowed: &["admin", "auditor"],
    },
    Case {
        method: "GET",
        path: "/users",
        form: &[],
        allowed: &["admin"],
    },
    Case {
        method: "POST",
        path: "/users/invite",
        form: &[("name", "newcomer"), ("role", "auditor")],
        allowed: &["admin"],
    },
    Case {
        method: "GET",
        path: "/tokens",
        form: &[],
        allowed: &["admin"],
    },
    Case {
        method: "POST",
        path: "/tokens/issue",
        form: &[("kind", "doors"), ("label", "test")],
        allowed: &["admin"],
    },
    Case {
        method: "GET",
        path: "/people",
        form: &[],
        allowed: &["admin", "officer"],
    },
    Case {
        method: "POST",
        path: "/people/p0001/invite",
        form: &[],
        allowed: &["admin", "officer"],
    },
    Case {
        method: "GET",
        path: "/account",
        form: &[],
        allowed: ALL,
    },
];

fn refused(status: StatusCode) -> bool {
    status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED
}

#[tokio::test]
async fn each_role_can_do_what_it_should_and_nothing_more() {
    let hub = spawn_hub(HubOptions::default()).await;
    let mut failures = Vec::new();
    for role in ALL {
        let (_, s) = user(&hub, role, &format!("user-{role}")).await;
        for c in CASES {
            let res = if c.method == "GET" {
                s.get(&hub, c.path).await
            } else {
                s.post_form(&hub, c.path, c.form).await
            };
            let status = res.status();
            let should = c.allowed.contains(role);
            if refused(status) == should || (should && status.is_server_error()) {
                failures.push(format!(
                    "{role} {} {} → {status} (should be {})",
                    c.method,
                    c.path,
                    if should { "allowed" } else { "refused" }
                ));
            }
        }
    }
    // Read tokens carry the same roles, for reads only.
    for role in ALL {
        let token = issue_token(&hub.config, &["--role", role]);
        for c in CASES {
            let status = if c.method == "GET" {
                no_redirect()
                    .get(hub.url(c.path))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .status()
            } else {
                no_redirect()
                    .post(hub.url(c.path))
                    .bearer_auth(&token)
                    .form(c.form)
                    .send()
                    .await
                    .unwrap()
                    .status()
            };
            // A read token never changes anything and never opens the account or the
            // user/token pages.
            let should = c.method == "GET"
                && c.allowed.contains(role)
                && !["/account", "/users", "/tokens", "/people"].contains(&c.path);
            if refused(status) == should {
                failures.push(format!(
                    "read token {role} {} {} → {status} (should be {})",
                    c.method,
                    c.path,
                    if should { "allowed" } else { "refused" }
                ));
            }
        }
    }
    // Ingest tokens read nothing; nobody without a token or session reads anything.
    for c in CASES {
        let res = no_redirect()
            .get(hub.url(c.path))
            .bearer_auth(&hub.tokens.doors)
            .send()
            .await
            .unwrap();
        if c.method == "GET" && !refused(res.status()) {
            failures.push(format!("door token GET {} → {}", c.path, res.status()));
        }
        let res = no_redirect().get(hub.url(c.path)).send().await.unwrap();
        if c.method == "GET" && !refused(res.status()) && res.status() != StatusCode::SEE_OTHER {
            failures.push(format!("anonymous GET {} → {}", c.path, res.status()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_audit_trail_records_who_did_what_and_cannot_be_changed() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (_, admin) = user(&hub, "admin", "kanri").await;
    let res = admin
        .post_form(
            &hub,
            "/tokens/issue",
            &[
                ("kind", "read"),
                ("role", "auditor"),
                ("label", "for the inspection"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = admin
        .post_form(
            &hub,
            "/users/invite",
            &[("name", "kansa"), ("role", "auditor")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A failed sign-in: a name the hub does not know.
    let (status, _, _) = SoftUser::new("kanri2").sign_in_refused(&hub).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, auditor) = user(&hub, "auditor", "kansa2").await;
    let res = auditor.get(&hub, "/audit.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for action in [
        "invite.create",
        "invite.use",
        "passkey.add",
        "signin.success",
        "signin.failure",
        "token.issue",
    ] {
        assert!(
            text.contains(action),
            "{action} missing from the audit trail:\n{text}"
        );
    }
    assert!(
        text.contains("kanri") && text.contains("127.0.0.1"),
        "who and from where:\n{text}"
    );
    assert!(
        !text.contains("mbn_"),
        "a token's secret must never be in the audit trail"
    );

    // Append-only in the store itself (SQLite, or PostgreSQL when the run uses it).
    let url = hub
        .opts
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", hub.dir.path().join("monban.db").display()));
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let update = sqlx::query("UPDATE audit SET actor_name = 'someone else'")
        .execute(&pool)
        .await;
    assert!(update.is_err(), "the audit trail must refuse updates");
    let delete = sqlx::query("DELETE FROM audit").execute(&pool).await;
    assert!(delete.is_err(), "the audit trail must refuse deletes");
    pool.close().await;
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_address() {
    let hub = spawn_hub(HubOptions {
        signin_per_minute: 6,
        ..HubOptions::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, body, _) =
            post_json(&hub, "/auth/signin/start", None, &json!({"name": "guess"})).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["error"]["code"], "rate_limited");
        }
        statuses.push(status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "six sign-in attempts at once with a limit of 6/min (burst 2): {statuses:?}"
    );
    // Ingest and reads are not affected by the sign-in limit.
    let (status, _) = hub
        .get_with("/api/v1/compliance", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// The enrollment link inside a page (shown once after an invite).
fn link_in(html: &str) -> Option<String> {
    let at = html.find("/enroll/")?;
    let token: String = html[at + "/enroll/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

#[tokio::test]
async fn admins_invite_from_the_dashboard_and_users_manage_their_passkeys() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (_, admin) = user(&hub, "admin", "kanri").await;
    // The admin invites a facilities user from /users; the link is shown once.
    let res = admin
        .post_form(
            &hub,
            "/users/invite",
            &[("name", "setsubi"), ("role", "facilities")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = admin.get(&hub, "/users").await.text().await.unwrap();
    let token = link_in(&html).expect("the new link on /users");
    let again = admin.get(&hub, "/users").await.text().await.unwrap();
    assert!(link_in(&again).is_none(), "the link is shown only once");
    let mut setsubi = SoftUser::new("setsubi");
    let (status, body, _) = setsubi.enroll(&hub, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["redirect"], "/rooms", "facilities land on the doors");
    let s = setsubi.session(&hub).await;

    // Their only passkey cannot be revoked (they would be locked out).
    let html = s.get(&hub, "/account").await.text().await.unwrap();
    let first = html
        .split("/account/passkeys/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a passkey form on /account")
        .to_string();
    let res = s
        .post_form(&hub, &format!("/account/passkeys/{first}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    setsubi.session(&hub).await; // still signs in

    // A second passkey, added while signed in (after a fresh assertion with the first);
    // then the first can go.
    let mut phone = SoftUser::new("setsubi");
    let (status, body) = setsubi.add_passkey(&hub, &s, &mut phone.key, "phone").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = s
        .post_form(
            &hub,
            &format!("/account/passkeys/{first}/rename"),
            &[("name", "desk key")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(s
        .get(&hub, "/account")
        .await
        .text()
        .await
        .unwrap()
        .contains("desk key"));
    let res = s
        .post_form(&hub, &format!("/account/passkeys/{first}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The revoked passkey is no longer offered for sign-in; the phone is.
    let (status, start, _) = post_json(
        &hub,
        "/auth/signin/start",
        None,
        &json!({"name": "setsubi"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let allowed: Vec<String> = start["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    assert!(!allowed.contains(&first), "{allowed:?}");
    let phone_session = phone.session(&hub).await;
    let me = crate::passkeys::viewer(&hub, &phone_session.cookie).await;
    let id = me["user_id"].as_str().expect("user id").to_string();

    // An admin cannot revoke a user's last passkey either (the user would be locked
    // out): for a lost phone the admin disables or re-invites the user.
    let html = phone_session
        .get(&hub, "/account")
        .await
        .text()
        .await
        .unwrap();
    let phone_pk = html
        .split("/account/passkeys/")
        .skip(1)
        .filter_map(|rest| rest.split('/').next())
        .find(|pk| *pk != first)
        .expect("the phone's passkey on /account")
        .to_string();
    let res = admin
        .post_form(
            &hub,
            &format!("/users/{id}/passkeys/{phone_pk}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    phone.session(&hub).await; // the passkey still works

    // Disabling a user ends their sessions at once.
    let res = admin
        .post_form(&hub, &format!("/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = phone_session.get(&hub, "/rooms").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "a disabled user's session ends"
    );
    let (status, _, _) = phone.sign_in_refused(&hub).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled user cannot sign in"
    );
}

#[tokio::test]
async fn the_tokens_page_shows_a_token_once_and_revokes_it() {
    let hub = spawn_hub(HubOptions::default()).await;
    let (_, admin) = user(&hub, "admin", "kanri").await;
    let res = admin
        .post_form(
            &hub,
            "/tokens/issue",
            &[
                ("kind", "read"),
                ("role", "facilities"),
                ("label", "施設の監視"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = admin.get(&hub, "/tokens").await.text().await.unwrap();
    let at = html.find("mbn_").expect("the new token on the page");
    let token: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let again = admin.get(&hub, "/tokens").await.text().await.unwrap();
    assert!(!again.contains(&token), "the token is shown only once");
    // It works with its role: doors yes, compliance no; its use is shown.
    let (status, _) = hub.get_with("/api/v1/doors", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = hub.get_with("/api/v1/compliance", Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = token.split('_').nth(1).unwrap().to_string();
    let listing = admin.get(&hub, "/tokens").await.text().await.unwrap();
    assert!(
        listing.contains(&id) && listing.contains("施設の監視"),
        "{listing}"
    );
    // Stored hashed: the database holds no token text.
    assert!(
        !store_contains(&hub, &token).await,
        "the token's text must not be stored"
    );
    let res = admin
        .post_form(&hub, &format!("/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, body) = hub.get_with("/api/v1/doors", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn the_user_command_refuses_what_it_cannot_do() {
    let hub = spawn_hub(HubOptions::default()).await;
    let out = monban(
        &hub.config,
        &["user", "invite", "--role", "janitor", "--name", "x"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("unknown role"), "{out:?}");
    invite(&hub, "officer", "tanaka");
    let mut u = SoftUser::new("tanaka");
    let (status, _, _) = u.enroll(&hub, &invite(&hub, "officer", "sato")).await;
    assert_eq!(status, StatusCode::OK);
    let out = monban(
        &hub.config,
        &["user", "invite", "--role", "officer", "--name", "sato"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("already exists"), "{out:?}");
    let out = monban(&hub.config, &["user", "reinvite", "--name", "nobody"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = monban(&hub.config, &["user", "invite-person", "--person", "p9999"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = monban(&hub.config, &["user", "list"]);
    assert!(out.status.success());
    assert!(
        out.stdout.contains("sato\tofficer\tactive\t1 passkey(s)"),
        "{}",
        out.stdout
    );
    // The command line's actions are in the audit trail too.
    let (_, auditor) = user(&hub, "auditor", "kansa").await;
    let csv = auditor.get(&hub, "/audit.csv").await.text().await.unwrap();
    assert!(
        csv.contains("invite.create") && csv.contains("cli"),
        "{csv}"
    );
}

#[tokio::test]
async fn facilities_see_doors_but_not_who_is_present() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::from_instant(chrono::Utc::now() - chrono::Duration::minutes(5));
    hub.door_ok(&entry("ward3-main", "e-1", &b.at(0, 9), "card", "04A1B2C3"))
        .await;
    let (_, officer) = user(&hub, "officer", "sato").await;
    let html = officer.get(&hub, "/rooms").await.text().await.unwrap();
    assert!(
        html.contains("data-person-id=\"p0001\""),
        "the officer sees the nurse"
    );
    let (_, facilities) = user(&hub, "facilities", "setsubi").await;
    let res = facilities.get(&hub, "/rooms").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"presence-hidden\""), "{html}");
    assert!(
        !html.contains("p0001") && !html.contains("看護師"),
        "no person for facilities"
    );
    assert!(html.contains("ward3-main"), "but the doors");
    let token = issue_token(&hub.config, &["--role", "facilities"]);
    let (status, rooms) = hub.get_with("/api/dash/rooms", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!rooms.to_string().contains("p0001"), "{rooms}");
}

/// Whether the hub's store holds `needle` anywhere: the SQLite file and its WAL byte by
/// byte, or every row of every table of a PostgreSQL database as text.
async fn store_contains(hub: &Hub, needle: &str) -> bool {
    use sqlx::Connection;
    match hub.opts.database.as_deref() {
        Some(url) if url.starts_with("postgres") => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            assert!(tables.iter().any(|t| t == "tokens"), "{tables:?}");
            let mut found = false;
            for table in tables {
                let text: String = sqlx::query_scalar(&format!(
                    "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t"
                ))
                .fetch_one(&mut conn)
                .await
                .unwrap();
                found |= text.contains(needle);
            }
            let _ = conn.close().await;
            found
        }
        _ => {
            let db = std::fs::read(hub.dir.path().join("monban.db")).unwrap();
            let wal = std::fs::read(hub.dir.path().join("monban.db-wal")).unwrap_or_default();
            let needle = needle.as_bytes();
            db.windows(needle.len()).any(|w| w == needle)
                || wal.windows(needle.len()).any(|w| w == needle)
        }
    }
}
