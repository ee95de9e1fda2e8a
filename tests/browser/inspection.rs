//! The inspection report (`/inspection`) in Chromium at 1280×800 and 375×812, in
//! Japanese and English: an officer records a manual answer through the page's form, the
//! report fits both sizes, and Chromium prints it to PDF (A4, WebDriver's `print`). The
//! screenshots, the PDF and its first page as PNG (rendered by PyMuPDF when
//! `MONBAN_TEST_PYTHON` names a Python that has it; scripts/test.sh installs it) are saved
//! in `target/browser-screenshots/`.

use crate::harness::*;
use crate::Browser;
use base64::Engine;
use serde_json::json;

/// A vendor maintaining the EHR remotely (confirmation on record) and the VPN (never
/// confirmed): the 2② table has one row to confirm.
const VENDOR: &str = r#"
[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true
route = "保守用VPN (IPsec)"
confirmed = "2026-10-01"

[[vendors.maintains]]
system = "vpn"
remote = true
"#;

#[tokio::test]
async fn the_report_fits_both_sizes_and_prints_to_pdf() {
    let test = "inspection";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let hub = spawn_hub(HubOptions::default().extra(VENDOR)).await;
    let b = Base::from_instant(chrono::Utc::now() - chrono::Duration::minutes(30));
    hub.door_ok(&entry(
        "ward3-main",
        "i-d1",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    for (id, minute, system, factors) in [
        ("i-1", 2, "ehr", &["password"][..]),
        ("i-2", 3, "vpn", &["password", "push"][..]),
        ("i-3", 4, "ehr", &["password"][..]),
    ] {
        let l = if system == "ehr" {
            ehr_login(id, &b.at(minute, 9), "nurse01", "ward3-pc01", factors)
        } else {
            login(
                id,
                &b.at(minute, 9),
                system,
                "nurse01",
                "home",
                factors,
                "success",
            )
        };
        hub.login_ok(&l).await;
    }
    browser.sign_in(&hub, "officer").await;

    // A manual answer through the page's form.
    browser.set_viewport(1280, 800).await;
    browser
        .open(&hub.page_url("/inspection"), "inspection")
        .await;
    browser
        .js(
            "const f = document.querySelector(\"[data-testid='insp-answer-form'][data-item='security-officer']\");
             f.closest('details').open = true;
             f.querySelector(\"input[name='value'][value='yes']\").checked = true;
             f.querySelector(\"input[name='date']\").value = '2026-12-01';
             f.querySelector(\"input[name='note']\").value = '情報システム課長を任命済み';
             f.requestSubmit();
             return true",
            vec![],
        )
        .await;
    browser
        .wait_js(
            "the recorded answer",
            "const i = document.querySelector(\"[data-testid='insp-item'][data-item='security-officer']\"); return i && i.dataset.value === 'yes' && !!document.querySelector(\"[data-testid='insp-saved']\")",
            vec![],
        )
        .await;

    for (width, height) in crate::SIZES {
        browser.set_viewport(width, height).await;
        for (path, lang) in [("/inspection", "ja"), ("/inspection?lang=en", "en")] {
            browser.open(&hub.page_url(path), "inspection").await;
            browser.assert_no_horizontal_overflow(width).await;
            browser.screenshot(&format!("{lang}-{width}")).await;
            for section in ["insp-two-factor", "insp-maintenance", "insp-accounts"] {
                browser
                    .js(
                        "document.getElementById(arguments[0]).scrollIntoView({block: 'start'}); return true",
                        vec![json!(section)],
                    )
                    .await;
                browser
                    .screenshot(&format!("{lang}-{width}-{section}"))
                    .await;
            }
        }
    }

    // Printed: A4 PDF of the Japanese report.
    browser.set_viewport(1280, 800).await;
    browser
        .open(&hub.page_url("/inspection"), "inspection")
        .await;
    let head = browser
        .js(
            "return document.querySelector(\"[data-testid='insp-head']\").dataset.seq",
            vec![],
        )
        .await;
    let printed = browser
        .webdriver(
            http::Method::POST,
            "print",
            json!({"orientation": "portrait", "background": true,
                   "page": {"width": 21.0, "height": 29.7},
                   "margin": {"top": 0, "bottom": 0, "left": 0, "right": 0}}),
        )
        .await;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(printed.as_str().expect("base64 PDF"))
        .expect("a base64 PDF");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = crate::screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let pdf_path = dir.join(format!("{test}-report.pdf"));
    std::fs::write(&pdf_path, &pdf).unwrap();
    eprintln!("pdf: {} (head {head})", pdf_path.display());

    // Its first page as PNG, and the text of every page: the report's head, sections and
    // the answer are on paper, the forms are not.
    match std::env::var_os("MONBAN_TEST_PYTHON") {
        None => eprintln!("skipped the PDF's PNG: MONBAN_TEST_PYTHON is not set"),
        Some(python) => {
            let png = dir.join(format!("{test}-report-page1.png"));
            let out = std::process::Command::new(python)
                .args([
                    "-c",
                    "import sys, pymupdf\n\
                     d = pymupdf.open(sys.argv[1])\n\
                     d[0].get_pixmap(dpi=110).save(sys.argv[2])\n\
                     print(d.page_count)\n\
                     print('\\f'.join(p.get_text() for p in d))",
                ])
                .arg(&pdf_path)
                .arg(&png)
                .output()
                .expect("run python");
            assert!(
                out.status.success(),
                "PyMuPDF: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!("screenshot: {}", png.display());
            let text = String::from_utf8_lossy(&out.stdout);
            let (count, text) = text.split_once('\n').expect("page count");
            let count: usize = count.trim().parse().expect("a page count");
            assert!((1..=12).contains(&count), "{count} pages");
            let flat: String = text.split_whitespace().collect();
            for want in [
                "立入検査用報告書",
                "チェックリスト項目と回答",
                "二要素認証（システムごと）",
                "保守",
                "情報システム課長を任命済み",
                "手入力",
                "計測",
                &format!("verify--head{}", head.as_str().expect("a seq")),
            ] {
                assert!(flat.contains(want), "the PDF has no {want:?}: {flat}");
            }
            for absent in ["回答を記録", "表示印刷"] {
                assert!(!flat.contains(absent), "the PDF shows {absent:?}: {flat}");
            }
        }
    }
    browser.close().await;
}
