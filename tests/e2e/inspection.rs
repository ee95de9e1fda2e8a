//! The inspection report (`/inspection`, issue 12) against the real hub: per system the
//! measured status against its plan, the checklist items answered by evidence (計測) and
//! by an officer's manual answer (手入力, recorded with `POST /inspection/answers`), the
//! evidence chain's head the report was made from — which `monban verify --head` then
//! accepts — in Japanese and English; who may answer, and what is refused.

use crate::harness::*;
use crate::passkeys::user;
use reqwest::StatusCode;

/// The element of `html` with `data-testid="{testid}"` and `data-{key}="{value}"`: its
/// opening tag.
fn tag<'a>(html: &'a str, testid: &str, key: &str, value: &str) -> &'a str {
    let want = format!("data-{key}=\"{value}\"");
    let mut rest = html;
    while let Some(at) = rest.find(&format!("data-testid=\"{testid}\"")) {
        let start = rest[..at].rfind('<').unwrap_or(at);
        let end = at + rest[at..].find('>').unwrap_or(rest.len() - at);
        let open = &rest[start..end];
        if open.contains(&want) {
            return open;
        }
        rest = &rest[end..];
    }
    panic!("no {testid} with {want} in the page")
}

fn attr<'a>(open: &'a str, key: &str) -> &'a str {
    let k = format!("data-{key}=\"");
    let at = open
        .find(&k)
        .unwrap_or_else(|| panic!("no {key} in {open}"))
        + k.len();
    &open[at..at + open[at..].find('"').expect("closing quote")]
}

#[tokio::test]
async fn the_report_answers_from_evidence_and_records_manual_answers() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::from_instant(chrono::Utc::now() - chrono::Duration::minutes(30));
    // vpn: direct 2FA; ehr: a password login without an entry (not met); pacs: nothing.
    hub.login_ok(&login(
        "i-v1",
        &b.at(0, 0),
        "vpn",
        "nurse01",
        "home",
        &["password", "push"],
        "success",
    ))
    .await;
    let r = hub
        .login_ok(&ehr_login(
            "i-e1",
            &b.at(1, 0),
            "nurse01",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(r["verdict"], "not_met", "{r}");

    let (_, officer) = user(&hub, "officer", "sato").await;
    // The overview links to it.
    let home = officer.get(&hub, "/").await.text().await.expect("overview");
    assert!(
        home.contains("data-testid=\"overview-inspection\"")
            && home.contains("href=\"/inspection\""),
        "no link to the report on the overview"
    );
    let res = officer.get(&hub, "/inspection").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("page");
    assert!(html.contains("立入検査用報告書"), "the title");
    let report = tag(&html, "insp-report", "testid", "insp-report");
    let head_seq: i64 = attr(report, "head-seq").parse().expect("a head seq");
    assert!(head_seq > 0, "{report}");

    // Per system, measured against its plan (the test inventory has no plan).
    let vpn = tag(&html, "insp-system", "system", "vpn");
    assert_eq!((attr(vpn, "status"), attr(vpn, "check")), ("direct", "met"));
    let ehr = tag(&html, "insp-system", "system", "ehr");
    assert_eq!(
        (attr(ehr, "status"), attr(ehr, "check")),
        ("gap", "no_plan")
    );
    let pacs = tag(&html, "insp-system", "system", "pacs");
    assert_eq!(
        (attr(pacs, "status"), attr(pacs, "check")),
        ("no_data", "not_measured")
    );
    // Items answered by evidence, by the core's rules.
    let two_factor = tag(&html, "insp-item", "item", "two-factor");
    assert_eq!(
        (attr(two_factor, "kind"), attr(two_factor, "value")),
        ("measured", "no")
    );
    let log = tag(&html, "insp-item", "item", "access-log");
    assert_eq!(
        (attr(log, "kind"), attr(log, "value")),
        ("measured", "no"),
        "pacs recorded no login"
    );
    // A manual item not answered yet, with the officer's form.
    let officer_item = tag(&html, "insp-item", "item", "security-officer");
    assert_eq!(
        (attr(officer_item, "kind"), attr(officer_item, "value")),
        ("manual", "")
    );
    assert!(html.contains("data-testid=\"insp-answer-form\""));
    // The head the report was made from is one `verify` accepts.
    let chain = tag(&html, "insp-head", "seq", &head_seq.to_string());
    let hash = attr(chain, "hash").to_string();
    assert_eq!(hash.len(), 64, "{chain}");
    assert!(html.contains(&format!("verify --head {head_seq}:{hash}")));
    let out = monban(
        &hub.config,
        &["verify", "--head", &format!("{head_seq}:{hash}")],
    );
    assert!(out.status.success(), "verify --head: {out:?}");

    // The officer records a manual answer: back to the report, shown as 手入力.
    let res = officer
        .post_form(
            &hub,
            "/inspection/answers",
            &[
                ("item", "security-officer"),
                ("value", "no"),
                ("date", "2026-12-01"),
                ("target", "2027-03-31"),
                ("note", "規程の改定中"),
                ("return_to", "/inspection?from=2026-11-01&to=2026-12-31"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(
        to,
        "/inspection?from=2026-11-01&to=2026-12-31&saved=security-officer"
    );
    let html = officer.get(&hub, &to).await.text().await.expect("page");
    let item = tag(&html, "insp-item", "item", "security-officer");
    assert_eq!((attr(item, "kind"), attr(item, "value")), ("manual", "no"));
    assert!(html.contains("規程の改定中") && html.contains("2027-03-31"));
    assert!(html.contains("data-testid=\"insp-saved\""));
    let report = tag(&html, "insp-report", "testid", "insp-report");
    assert_eq!(
        (attr(report, "from"), attr(report, "to")),
        ("2026-11-01", "2026-12-31")
    );
    // In the audit trail, chained.
    let rows = crate::security::audit_rows(&hub).await;
    assert!(
        rows.iter().any(
            |(action, who, target, detail, _)| action == "inspection.answer"
                && who == "sato"
                && target == "security-officer"
                && detail.contains("2027-03-31")
        ),
        "{rows:?}"
    );
    let out = monban(&hub.config, &["verify"]);
    assert!(out.status.success(), "verify: {out:?}");

    // An item answered by evidence takes no manual answer; a bad date is named.
    for (form, want) in [
        (
            [
                ("item", "two-factor"),
                ("value", "yes"),
                ("date", "2026-12-01"),
            ],
            "item",
        ),
        (
            [
                ("item", "security-officer"),
                ("value", "yes"),
                ("date", "2026-02-30"),
            ],
            "date",
        ),
    ] {
        let res = officer.post_form(&hub, "/inspection/answers", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().expect("ascii");
        assert!(to.contains("error=") && to.contains(want), "{to}");
        let html = officer.get(&hub, to).await.text().await.expect("page");
        assert!(html.contains("data-testid=\"insp-error\""), "{to}");
    }

    // An auditor reads the report, in English too, without the forms, and may not answer.
    let (_, auditor) = user(&hub, "auditor", "kansa").await;
    let html = auditor
        .get(&hub, "/inspection?lang=en")
        .await
        .text()
        .await
        .expect("page");
    assert!(html.contains("Inspection report") && html.contains("Measured"));
    assert!(!html.contains("data-testid=\"insp-answer-form\""));
    let res = auditor
        .post_form(
            &hub,
            "/inspection/answers",
            &[
                ("item", "security-officer"),
                ("value", "yes"),
                ("date", "2026-12-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A period that is not one is named next to the form.
    let html = officer
        .get(&hub, "/inspection?from=2026-12-10&to=2026-12-01")
        .await
        .text()
        .await
        .expect("page");
    assert!(html.contains("data-testid=\"insp-period-error\""));
}
