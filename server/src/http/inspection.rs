//! The inspection report's form post (issue 12): `POST /inspection/answers` records an
//! officer's manual answer to a checklist item that monban cannot answer from evidence
//! (`item`, `value` = `yes`|`no`|`not_applicable`, `date`, `target`, `note`; the session's
//! `_csrf`, checked by the gate with the role's `AnswerChecklist`).
//!
//! The answer and its audit line (`inspection.answer`, chained as evidence) are stored in
//! one transaction (`Store::save_manual_answer`). A browser is sent back to the report
//! (`return_to`, a path under `/inspection` only) with `saved=ITEM` or `error=MESSAGE`;
//! a client that does not accept HTML gets `{"ok": true}` or the contract's error body.

use super::error::ApiError;
use super::state::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::checklist::{Answer, Checklist};
use crate::clock::Clock;
use crate::store::auth::NewAudit;
use crate::store::Store;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Router};
use monban_core::inspection::ManualAnswerForm;
use serde_json::json;
use std::collections::HashMap;

/// The report's routes besides the page itself.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/inspection/answers", post(answer))
}

/// Where to send the browser back: the report's own path and query, never elsewhere.
fn back(f: &HashMap<String, String>, outcome: (&str, &str)) -> String {
    let base = f
        .get("return_to")
        .filter(|r| {
            r.starts_with("/inspection") && !r.starts_with("/inspection/") && !r.contains("//")
        })
        .cloned()
        .unwrap_or_else(|| "/inspection".into());
    let mut url = url::Url::parse("http://hub")
        .and_then(|u| u.join(&base))
        .unwrap_or_else(|_| {
            #[allow(clippy::unwrap_used)] // a constant URL
            url::Url::parse("http://hub/inspection").unwrap()
        });
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k == "from" || k == "to")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        if f.get("lang").map(String::as_str) == Some("en") {
            q.append_pair("lang", "en");
        }
        q.append_pair(outcome.0, outcome.1);
    }
    let mut out = url.path().to_string();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn answer(
    State(store): State<Store>,
    State(clock): State<Clock>,
    Extension(principal): Extension<Principal>,
    Extension(ClientAddr(address)): Extension<ClientAddr>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|a| a.contains("text/html") || a.contains("*/*") && !a.contains("json"));
    let refuse = |error: ApiError| -> Response {
        if html {
            Redirect::to(&back(&f, ("error", &error.message()))).into_response()
        } else {
            error.into_response()
        }
    };
    let Some(user) = principal.user() else {
        return refuse(ApiError::Forbidden(
            "a manual answer is recorded by a signed-in officer".into(),
        ));
    };
    let checklist = match Checklist::embedded() {
        Ok(c) => c,
        Err(e) => return refuse(ApiError::Internal(e.join("; "))),
    };
    let text = |k: &str| f.get(k).cloned().unwrap_or_default();
    let form = ManualAnswerForm {
        item: text("item"),
        value: text("value"),
        date: text("date"),
        target: text("target"),
        note: text("note"),
    };
    let now = clock.now();
    let known = |id: &str| {
        checklist
            .item(id)
            .is_some_and(|i| i.answer == Answer::Manual)
    };
    let answer = match form.parse(known, &user.name, now) {
        Ok(a) => a,
        Err(errors) => {
            let message = errors
                .iter()
                .map(|(field, m)| format!("{field}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            return refuse(ApiError::Invalid {
                code: "invalid_answer",
                message,
            });
        }
    };
    let (actor, actor_name) = principal.actor();
    let audit = NewAudit {
        actor: &actor,
        actor_name: &actor_name,
        action: "inspection.answer",
        target: &answer.item,
        detail: json!({
            "value": answer.value.as_str(),
            "date": answer.date.to_string(),
            "target": answer.target.map(|d| d.to_string()),
            "note": answer.note,
        }),
        address: &address,
    };
    if let Err(e) = store.save_manual_answer(&answer, &audit).await {
        return refuse(ApiError::from(e));
    }
    if html {
        Redirect::to(&back(&f, ("saved", &answer.item))).into_response()
    } else {
        axum::Json(json!({"ok": true, "item": answer.item})).into_response()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn back_stays_on_the_report() {
        let f = form(&[(
            "return_to",
            "/inspection?from=2026-11-01&to=2026-11-30&saved=x",
        )]);
        assert_eq!(
            back(&f, ("saved", "security-officer")),
            "/inspection?from=2026-11-01&to=2026-11-30&saved=security-officer"
        );
        for evil in [
            "https://evil.example/",
            "//evil.example/inspection",
            "/users",
            "/inspection/../users",
        ] {
            let f = form(&[("return_to", evil), ("lang", "en")]);
            assert_eq!(
                back(&f, ("error", "a b")),
                "/inspection?lang=en&error=a+b",
                "{evil}"
            );
        }
    }
}
