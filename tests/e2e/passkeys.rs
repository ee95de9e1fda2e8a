//! A hub user in tests: enrolled through a real one-time link from `monban user invite`,
//! signed in with a software passkey (webauthn-authenticator-rs's `SoftPasskey`) through
//! the hub's real WebAuthn endpoints. A [`Session`] then carries the session cookie and
//! the CSRF token like a browser would.

use crate::harness::Hub;
use reqwest::StatusCode;
use serde_json::{json, Value};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

/// The origin passkeys are bound to: the hub's default `http://localhost:<port>`.
pub fn origin(hub: &Hub) -> url::Url {
    let port = hub.base_url.rsplit(':').next().expect("port");
    url::Url::parse(&format!("http://localhost:{port}")).expect("origin")
}

/// A person with a software authenticator.
pub struct SoftUser {
    pub name: String,
    pub key: SoftPasskey,
}

/// A signed-in session: cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// `monban user invite` → the enrollment link's token (the path's last segment).
pub fn invite(hub: &Hub, role: &str, name: &str) -> String {
    let out = crate::harness::monban(
        &hub.config,
        &["user", "invite", "--role", role, "--name", name],
    );
    assert!(out.status.success(), "user invite failed: {out:?}");
    let link = out.stdout.trim().to_string();
    assert!(link.contains("/enroll/"), "not an enrollment link: {link}");
    link.rsplit('/').next().expect("token").to_string()
}

/// POST JSON; returns status, body and the `Set-Cookie` session value if any.
pub async fn post_json(
    hub: &Hub,
    path: &str,
    cookie: Option<&Session>,
    body: &Value,
) -> (StatusCode, Value, Option<String>) {
    let client = reqwest::Client::new();
    let mut req = client
        .post(hub.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = cookie {
        req = req
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf);
    }
    let res = req.send().await.expect("POST");
    let status = res.status();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("monban_session=") && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, cookie)
}

/// The CSRF token of a session, from the pages' viewer function.
pub async fn viewer(hub: &Hub, cookie: &str) -> Value {
    let res = reqwest::Client::new()
        .get(hub.url("/api/dash/viewer"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET viewer");
    res.json::<Value>().await.unwrap_or(Value::Null)
}

impl SoftUser {
    pub fn new(name: &str) -> SoftUser {
        SoftUser {
            name: name.to_string(),
            // `true`: the soft key reports user verification, as a platform passkey does.
            key: SoftPasskey::new(true),
        }
    }

    /// Registers a passkey through an invite token; returns the finish reply (status,
    /// body, session cookie).
    pub async fn enroll(&mut self, hub: &Hub, token: &str) -> (StatusCode, Value, Option<String>) {
        let (status, start, _) = post_json(
            hub,
            "/auth/enroll/start",
            None,
            &json!({"token": token, "passkey_name": "soft key"}),
        )
        .await;
        if status != StatusCode::OK {
            return (status, start, None);
        }
        let ccr: CreationChallengeResponse =
            serde_json::from_value(start["options"].clone()).expect("creation options");
        let credential = self
            .key
            .do_registration(origin(hub), ccr)
            .expect("soft registration");
        post_json(
            hub,
            "/auth/enroll/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": credential}),
        )
        .await
    }

    /// Signs in; returns the finish reply.
    pub async fn sign_in(&mut self, hub: &Hub) -> (StatusCode, Value, Option<String>) {
        let (status, start, _) =
            post_json(hub, "/auth/signin/start", None, &json!({"name": self.name})).await;
        if status != StatusCode::OK {
            return (status, start, None);
        }
        let rcr: RequestChallengeResponse =
            serde_json::from_value(start["options"].clone()).expect("request options");
        let credential = self
            .key
            .do_authentication(origin(hub), rcr)
            .expect("soft assertion");
        post_json(
            hub,
            "/auth/signin/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": credential}),
        )
        .await
    }

    /// Signs in without a name: the hub offers no credentials (a discoverable passkey
    /// names its user). A software key cannot discover, so the test hands it its own
    /// credential ids and adds the user handle a browser's authenticator would return.
    pub async fn sign_in_discoverable(
        &mut self,
        hub: &Hub,
        user_handle: &[u8],
        own_ids: &[Value],
    ) -> (StatusCode, Value, Option<String>) {
        let (status, start, _) = post_json(hub, "/auth/signin/start", None, &json!({})).await;
        if status != StatusCode::OK {
            return (status, start, None);
        }
        assert_eq!(
            start["options"]["publicKey"]["allowCredentials"],
            json!([]),
            "a discoverable sign-in names no credentials"
        );
        let mut options = start["options"].clone();
        options["publicKey"]["allowCredentials"] = Value::Array(own_ids.to_vec());
        let rcr: RequestChallengeResponse =
            serde_json::from_value(options).expect("request options");
        let mut credential = serde_json::to_value(
            self.key
                .do_authentication(origin(hub), rcr)
                .expect("soft assertion"),
        )
        .expect("credential json");
        use base64::Engine as _;
        credential["response"]["userHandle"] =
            Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(user_handle));
        post_json(
            hub,
            "/auth/signin/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": credential}),
        )
        .await
    }

    /// Adds `new_key` as another passkey of this signed-in user: a fresh assertion with
    /// this user's key first (`start` → `verify`), then the registration (`finish`).
    /// Returns the finish reply.
    pub async fn add_passkey(
        &mut self,
        hub: &Hub,
        session: &Session,
        new_key: &mut SoftPasskey,
        name: &str,
    ) -> (StatusCode, Value) {
        let (status, start, _) = post_json(
            hub,
            "/auth/passkeys/start",
            Some(session),
            &json!({"passkey_name": name}),
        )
        .await;
        if status != StatusCode::OK {
            return (status, start);
        }
        assert_eq!(start["step"], "verify", "{start}");
        let rcr: RequestChallengeResponse =
            serde_json::from_value(start["options"].clone()).expect("request options");
        let proof = self
            .key
            .do_authentication(origin(hub), rcr)
            .expect("soft assertion");
        let (status, verified, _) = post_json(
            hub,
            "/auth/passkeys/verify",
            Some(session),
            &json!({"ceremony": start["ceremony"], "credential": proof}),
        )
        .await;
        if status != StatusCode::OK {
            return (status, verified);
        }
        assert_eq!(verified["step"], "register", "{verified}");
        let ccr: CreationChallengeResponse =
            serde_json::from_value(verified["options"].clone()).expect("creation options");
        let credential = new_key
            .do_registration(origin(hub), ccr)
            .expect("soft registration");
        let (status, body, _) = post_json(
            hub,
            "/auth/passkeys/finish",
            Some(session),
            &json!({"ceremony": verified["ceremony"], "credential": credential}),
        )
        .await;
        (status, body)
    }

    /// Signs in with a name that cannot sign in: the hub answers the start like any
    /// other (its decoy credential ids are unknown to every authenticator, so a browser
    /// would report that no passkey fits), and the finish with any assertion fails.
    /// Returns the finish reply.
    pub async fn sign_in_refused(&self, hub: &Hub) -> (StatusCode, Value, Option<String>) {
        let (status, start, _) =
            post_json(hub, "/auth/signin/start", None, &json!({"name": self.name})).await;
        assert_eq!(status, StatusCode::OK, "every name gets options: {start}");
        post_json(
            hub,
            "/auth/signin/finish",
            None,
            &json!({"ceremony": start["ceremony"], "credential": bogus_assertion()}),
        )
        .await
    }

    /// Signs in and returns the session (panics when sign-in fails).
    pub async fn session(&mut self, hub: &Hub) -> Session {
        let (status, body, cookie) = self.sign_in(hub).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "sign-in of {} failed: {body}",
            self.name
        );
        let cookie = cookie.expect("a session cookie");
        let v = viewer(hub, &cookie).await;
        Session {
            csrf: v["csrf"].as_str().expect("csrf in viewer").to_string(),
            cookie,
        }
    }
}

impl SoftUser {
    /// Decides maintenance request `id` (CONTRACT §10): starts the passkey ceremony,
    /// asserts with this user's key and finishes with the decision; returns the finish
    /// reply (or the start's, when it is refused).
    pub async fn decide(
        &mut self,
        hub: &Hub,
        session: &Session,
        id: &str,
        decision: &str,
        note: &str,
    ) -> (StatusCode, Value) {
        let start_path = format!("/api/v1/maintenance/{id}/decision/start");
        let (status, start, _) = post_json(hub, &start_path, Some(session), &json!({})).await;
        if status != StatusCode::OK {
            return (status, start);
        }
        let rcr: RequestChallengeResponse =
            serde_json::from_value(start["options"].clone()).expect("request options");
        let credential = self
            .key
            .do_authentication(origin(hub), rcr)
            .expect("soft assertion");
        let finish_path = format!("/api/v1/maintenance/{id}/decision/finish");
        let (status, body, _) = post_json(
            hub,
            &finish_path,
            Some(session),
            &json!({"ceremony": start["ceremony"], "credential": credential,
                    "decision": decision, "note": note}),
        )
        .await;
        (status, body)
    }
}

impl SoftUser {
    /// An assertion of this user's key for the `options` of a ceremony's start.
    pub fn assertion(&mut self, hub: &Hub, options: &Value) -> Value {
        let rcr: RequestChallengeResponse =
            serde_json::from_value(options.clone()).expect("request options");
        let credential = self
            .key
            .do_authentication(origin(hub), rcr)
            .expect("soft assertion");
        serde_json::to_value(credential).expect("assertion as JSON")
    }
}

/// An assertion no passkey made (well-formed, wrong in every byte).
pub fn bogus_assertion() -> Value {
    json!({"id": "AAAAAAAAAAAAAAAAAAAAAA", "rawId": "AAAAAAAAAAAAAAAAAAAAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA",
            "signature": "AAAA", "userHandle": null}, "extensions": {}})
}

/// Invites, enrolls and signs in a user of `role`.
pub async fn user(hub: &Hub, role: &str, name: &str) -> (SoftUser, Session) {
    let token = invite(hub, role, name);
    let mut u = SoftUser::new(name);
    let (status, body, _) = u.enroll(hub, &token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "enrollment of {name} failed: {body}"
    );
    let s = u.session(hub).await;
    (u, s)
}

impl Session {
    /// GET with the session cookie.
    pub async fn get(&self, hub: &Hub, path: &str) -> reqwest::Response {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(hub.url(path))
            .header("cookie", &self.cookie)
            .header("accept", "text/html")
            .send()
            .await
            .expect("GET")
    }

    /// POST a form with the session cookie and its CSRF token (`_csrf`), not following
    /// the redirect.
    pub async fn post_form(
        &self,
        hub: &Hub,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("_csrf", &self.csrf));
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .post(hub.url(path))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .expect("POST form")
    }
}
