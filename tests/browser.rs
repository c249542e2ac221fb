//! Page journeys in a real headless Chromium, every page checked with axe-core (WCAG 2.2 AA: no
//! serious or critical violation), for console errors and CSP violations, and screenshotted.
//!
//! Each test starts the application on a random port with a fresh database (SQLite, or PostgreSQL
//! when TEST_DATABASE_URL is set) and hands its journeys to the driver,
//! `node tests/support/browser/driver.mjs` (npm `playwright-core` on Debian's `/usr/bin/chromium`,
//! npm `axe-core`; `npm ci` and `.ci/run` install them). The driver's step vocabulary is documented at
//! the top of `driver.mjs`; a journey for a new page is a few lines of step JSON here:
//!
//! ```text
//! journey("intake", [sign_in("company"), json!({"goto": "/intake"}),
//!     json!({"fill": {"label": "Titel", "value": "…"}}), json!({"click": "Skicka"}),
//!     json!({"expect_url": "^/collaborations/"})])
//! ```
//!
//! Screenshots go to `<CARGO_TARGET_TMPDIR>/browser/<test name>/NN-<journey>-<page>.png` (the test
//! prints the folder; `cargo test --test browser -- --nocapture` shows it). One driver (one browser)
//! runs at a time in this binary: the machines have two cores.
#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "support/test_db.rs"]
mod test_db;

/// The agreement terms `helpers.rs` signs with, from the API tests.
#[path = "api/terms.rs"]
#[allow(dead_code)]
mod terms;
mod agreements {
    pub use crate::terms::full_terms;
}

use helpers::TestApp;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One browser at a time in this test binary.
static DRIVER: Mutex<()> = Mutex::new(());

/// How long one driver run may take before it is killed (by its PID) and the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// The demo accounts of local mode (src/app/seed.rs `DEMO_ACCOUNTS`): username, name, and the role
/// as the sign-in page shows it in Swedish.
const DEMO: [(&str, &str, &str); 8] = [
    ("company", "Karin Företagsson", "Företagsrepresentant"),
    ("company-b", "Bo Bolagsson", "Företagsrepresentant"),
    (
        "principal",
        "Per Forskare",
        "Forskningshuvudmannens företrädare",
    ),
    ("register-holder", "Rita Registerhållare", "Registerhållare"),
    ("legal", "Lars Jurist", "CPUA:s juridiska funktion"),
    ("legal-vgr", "Vera Jurist", "CPUA:s juridiska funktion"),
    ("finance", "Fia Ekonom", "Ekonomi"),
    ("admin", "Adam Administratör", "Administratör"),
];

/// Where a test's screenshots go.
fn out_dir(test: &str) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    base.join("browser").join(test)
}

/// A journey: a name (used in screenshot names) and its steps.
fn journey(name: &str, steps: Vec<Value>) -> Value {
    json!({ "name": name, "steps": steps })
}

/// The same on a 320 px wide viewport (a phone; the width WCAG 1.4.10 asks pages to reflow to).
fn phone_journey(name: &str, steps: Vec<Value>) -> Value {
    json!({ "name": name, "viewport": {"width": 320, "height": 720}, "steps": steps })
}

/// The steps that sign a demo account in from the sign-in page by clicking its button.
fn sign_in(account: &str) -> Vec<Value> {
    let (_, name, role) = DEMO
        .iter()
        .find(|(a, _, _)| *a == account)
        .unwrap_or_else(|| panic!("no demo account {account}"));
    vec![
        json!({"goto": "/sign-in"}),
        // The button's accessible name is "Logga in som <name>, <role>".
        json!({"click": {"button": format!("{name}, {role}")}}),
        json!({"expect_url": "^/collaborations$"}),
        json!({"expect_text": name}),
    ]
}

/// Joins step lists.
fn steps(parts: Vec<Vec<Value>>) -> Vec<Value> {
    parts.into_iter().flatten().collect()
}

/// Runs journeys through the driver and returns its report (each journey's `ok`, `error`,
/// `screenshots`, `axe`, `requests`, `blocked`). Panics if the driver itself fails to run or any
/// request went to a host other than 127.0.0.1.
async fn run(app: &TestApp, test: &str, journeys: Vec<Value>) -> Value {
    let out = out_dir(test);
    let _ = std::fs::remove_dir_all(&out);
    let input = json!({ "base": app.base, "out": out, "journeys": journeys }).to_string();
    let report = tokio::task::spawn_blocking(move || drive(&input))
        .await
        .expect("the driver thread");
    println!("browser screenshots for {test}: {}", out.display());
    for j in report["journeys"].as_array().into_iter().flatten() {
        for r in j["requests"].as_array().into_iter().flatten() {
            let u = url::Url::parse(r.as_str().unwrap_or_default()).expect("a request URL");
            assert_eq!(
                u.host_str(),
                Some("127.0.0.1"),
                "a request left 127.0.0.1: {u}"
            );
        }
        for v in j["axe"].as_array().into_iter().flatten() {
            for o in v["other"].as_array().into_iter().flatten() {
                println!(
                    "axe (not failing, {}) on {}: {} {}",
                    o["impact"], v["url"], o["id"], o["help"]
                );
            }
        }
    }
    report
}

/// Runs the driver process with `input` on its standard input; waits at most [`RUN_LIMIT`], then
/// kills it by its PID.
fn drive(input: &str) -> Value {
    let _one = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = env!("CARGO_MANIFEST_DIR");
    assert!(
        Path::new(dir).join("node_modules/playwright-core").exists()
            && Path::new(dir).join("node_modules/axe-core").exists(),
        "the browser tests need `npm ci` (playwright-core and axe-core) and Debian's chromium (.ci/run installs both)"
    );
    let mut child = Command::new("node")
        .arg(format!("{dir}/tests/support/browser/driver.mjs"))
        .current_dir(dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs the browser driver");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .expect("journeys to the driver");
    drop(stdin);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("the driver's status") {
            break Some(s);
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out.join().unwrap_or_default();
    let log = err.join().unwrap_or_default();
    let Some(status) = status else {
        panic!("the browser driver took over {RUN_LIMIT:?} and was killed; its log:\n{log}");
    };
    let report: Value = out
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| {
            panic!("the browser driver ({status}) gave no report; stdout:\n{out}\nlog:\n{log}")
        });
    if report.get("error").is_some_and(|e| !e.is_null()) && report["journeys"] == json!([]) {
        panic!(
            "the browser driver failed: {}\nlog:\n{log}",
            report["error"]
        );
    }
    report
}

/// Fails the test with every failed journey's message.
fn assert_passed(report: &Value) {
    let failed: Vec<String> = report["journeys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| j["ok"] != json!(true))
        .map(|j| {
            format!(
                "journey {}: {}",
                j["name"].as_str().unwrap_or("?"),
                j["error"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} browser journey(s) failed (screenshots in {}):\n{}",
        failed.len(),
        report["out"].as_str().unwrap_or("?"),
        failed.join("\n\n")
    );
    assert!(report["ok"] == json!(true), "{report}");
}

/// The journey named `name` in a report.
fn journey_of<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["journeys"]
        .as_array()
        .and_then(|js| js.iter().find(|j| j["name"] == name))
        .unwrap_or_else(|| panic!("no journey {name} in {report}"))
}

#[tokio::test]
async fn every_demo_account_signs_in_from_the_sign_in_page() {
    let app = TestApp::spawn().await;
    let journeys = DEMO
        .iter()
        .map(|(account, _, _)| journey(&format!("sign-in-{account}"), sign_in(account)))
        .collect();
    let report = run(&app, "every_demo_account_signs_in", journeys).await;
    assert_passed(&report);
    // Two pages checked per account: the sign-in page and the list it leads to.
    for (account, _, _) in DEMO {
        let j = journey_of(&report, &format!("sign-in-{account}"));
        assert_eq!(j["screenshots"].as_array().map(Vec::len), Some(2), "{j}");
        for s in j["screenshots"].as_array().into_iter().flatten() {
            let p = Path::new(s.as_str().unwrap_or_default());
            assert!(p.exists() && p.metadata().map(|m| m.len()).unwrap_or(0) > 1000);
        }
    }
}

#[tokio::test]
async fn the_list_filter_the_language_switch_and_sign_out() {
    let app = TestApp::spawn().await;
    let j = journey(
        "list-language-sign-out",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"expect_selector": "html[lang=sv]"}),
                json!({"expect_text": "Samverkansprojekt"}),
                json!({"expect_text": "Det finns inga samverkansprojekt ännu."}),
                // A legal officer may not start a case: the button is not offered.
                json!({"expect_no_text": "Starta ett samverkansprojekt"}),
                // The filter: a select and a checkbox by their labels.
                json!({"select": {"label": "Steg", "option": "Avtal"}}),
                json!({"check": "Bara försenade"}),
                json!({"click": {"button": "Visa", "exact": true}}),
                json!({"expect_url": "^/collaborations\\?step=agreement&overdue=true$"}),
                json!({"expect_text": "Inga samverkansprojekt matchar filtret."}),
                // The language switch: its link is named in English ("English").
                json!({"goto": "/collaborations"}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_url": "^/collaborations$"}),
                json!({"expect_text": "Collaborations"}),
                json!({"expect_text": "CPUA legal team"}),
                json!({"expect_no_text": "Logga ut"}),
                json!({"expect_text": "There are no collaborations yet."}),
                json!({"click": {"button": "Sign out", "exact": true}}),
                json!({"expect_url": "^/sign-in$"}),
                json!({"expect_selector": "html[lang=en]"}),
                // Signed out, a page leads back to the sign-in page.
                json!({"goto": "/collaborations"}),
                json!({"expect_url": "^/sign-in\\?next=%2Fcollaborations$"}),
                // And back to Swedish.
                json!({"click": {"link": "Svenska", "exact": true}}),
                json!({"expect_selector": "html[lang=sv]"}),
                json!({"expect_text": "Logga in"}),
            ],
        ]),
    );
    let report = run(&app, "list_language_sign_out", vec![j]).await;
    assert_passed(&report);
}

#[tokio::test]
async fn the_keyboard_reaches_the_content_and_a_refused_sign_in_shows_its_error() {
    let app = TestApp::spawn().await;
    let keyboard = journey(
        "keyboard",
        steps(vec![
            sign_in("company"),
            vec![
                // The first Tab shows the skip link; Enter moves the focus to the content.
                json!({"press": "Tab"}),
                json!({"expect_focused": "a.skip"}),
                json!({"screenshot": "skip-link-focused"}),
                json!({"press": "Enter"}),
                json!({"expect_focused": "main#main"}),
            ],
        ]),
    );
    // An account that does not exist (the hidden field changed, as a stale page would send it):
    // the sign-in page answers 422 with the error summary, and that page passes axe too.
    let refused = journey(
        "sign-in-refused",
        vec![
            json!({"goto": "/sign-in"}),
            json!({"evaluate": "document.querySelectorAll('input[name=account]').forEach(i => { i.value = 'nobody' })"}),
            json!({"click": {"button": "Karin Företagsson"}, "status": 422}),
            json!({"expect_selector": "#error-summary"}),
            json!({"expect_text": "kontot finns inte"}),
        ],
    );
    let report = run(
        &app,
        "keyboard_and_refused_sign_in",
        vec![keyboard, refused],
    )
    .await;
    assert_passed(&report);
}

#[tokio::test]
async fn a_person_with_two_roles_switches_on_the_role_page() {
    let app = TestApp::spawn().await;
    app.grant_membership("legal", "finance", "Region Uppsala")
        .await;
    let mut sign_in_legal = sign_in("legal");
    // Two memberships: two buttons for Lars Jurist; pick the legal one by its full name.
    sign_in_legal[1] = json!({"click": {"button": "Logga in som Lars Jurist, CPUA:s juridiska funktion", "exact": true}});
    let j = journey(
        "role",
        steps(vec![
            sign_in_legal,
            vec![
                json!({"click": {"link": "CPUA:s juridiska funktion", "exact": true}}),
                json!({"expect_url": "^/role$"}),
                json!({"expect_text": "Välj roll"}),
                json!({"expect_text": "nuvarande roll"}),
                json!({"click": {"button": "Arbeta i den här rollen: Ekonomi, Region Uppsala", "exact": true}}),
                json!({"expect_selector": "header a[href='/role']:text-is('Ekonomi')"}),
            ],
        ]),
    );
    let report = run(&app, "role_page", vec![j]).await;
    assert_passed(&report);
}

#[tokio::test]
async fn a_case_page_from_the_list_and_another_company_gets_404() {
    let app = TestApp::spawn().await;
    let (id, v) = app.research_collaboration(&["EX-HJARTA"]).await;
    let reference = v["collaboration"]["reference"]
        .as_str()
        .expect("a reference")
        .to_string();
    let title = v["collaboration"]["title"]
        .as_str()
        .expect("a title")
        .to_string();
    let own = journey(
        "case",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"expect_text": reference}),
                json!({"click": {"link": reference, "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{id}$")}),
                json!({"expect_selector": format!("h1:text-is('{title}')")}),
                json!({"expect_text": "Förarbete"}),
                json!({"expect_selector": "[aria-current=step]"}),
                // The way back: the crumb above the heading (the menu has a link of the same name).
                json!({"click": {"selector": ".crumbs a"}}),
                json!({"expect_url": "^/collaborations$"}),
            ],
        ]),
    );
    let other = journey(
        "case-other-company",
        steps(vec![
            sign_in("company-b"),
            vec![
                json!({"goto": format!("/collaborations/{id}"), "status": 404}),
                json!({"expect_no_text": title}),
                json!({"expect_text": "Till startsidan"}),
            ],
        ]),
    );
    let report = run(&app, "case_page", vec![own, other]).await;
    assert_passed(&report);
}

#[tokio::test]
async fn pages_reflow_on_a_320_px_phone_screen() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let fits = || json!({"expect_fits_width": true});
    let j = phone_journey(
        "phone",
        steps(vec![
            vec![json!({"goto": "/sign-in"}), fits()],
            sign_in("company"),
            vec![
                fits(),
                json!({"goto": format!("/collaborations/{id}")}),
                fits(),
                json!({"goto": "/role"}),
                fits(),
                json!({"click": {"link": "English", "exact": true}}),
                fits(),
                json!({"goto": format!("/collaborations/{id}")}),
                fits(),
            ],
        ]),
    );
    let report = run(&app, "phone_320", vec![j]).await;
    assert_passed(&report);
}

#[tokio::test]
async fn the_browser_reaches_no_host_but_127_0_0_1() {
    let app = TestApp::spawn().await;
    let j = journey(
        "outside",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"probe_outside": "http://example.com/pixel.png"}),
                json!({"probe_outside": "https://fonts.googleapis.com/css?family=Roboto"}),
                json!({"expect_text": "Samverkansprojekt"}),
            ],
        ]),
    );
    let report = run(&app, "outside_hosts", vec![j]).await;
    assert_passed(&report);
    let j = journey_of(&report, "outside");
    let blocked: Vec<&str> = j["blocked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(blocked.contains(&"http://example.com/pixel.png"), "{j}");
    assert!(
        blocked.iter().all(|u| !u.starts_with(&app.base)),
        "{blocked:?}"
    );
    assert!(!j["requests"].as_array().is_some_and(Vec::is_empty));
}

/// The harness's own checks: a step that fails, a CSP violation, and an axe violation each fail
/// their journey with a message that says what and where.
#[tokio::test]
async fn a_failing_check_fails_its_journey_with_the_reason() {
    let app = TestApp::spawn().await;
    let missing = journey(
        "missing-text",
        vec![
            json!({"goto": "/sign-in"}),
            json!({"expect_text": "Ingen sådan text"}),
        ],
    );
    // An inline style is refused by the CSP; Chromium reports it on the console.
    let csp = journey(
        "csp",
        vec![
            json!({"goto": "/sign-in"}),
            json!({"evaluate": "document.head.insertAdjacentHTML('beforeend', '<style>body{color:red}</style>')"}),
        ],
    );
    // A text field without a label is a critical axe violation.
    let axe = journey(
        "axe",
        vec![
            json!({"goto": "/sign-in"}),
            json!({"evaluate": "const i = document.createElement('input'); i.type = 'text'; document.querySelector('main').append(i)"}),
            json!({"axe": "unlabelled field"}),
        ],
    );
    let after = journey("after", vec![json!({"goto": "/sign-in"})]);
    let report = run(&app, "failing_checks", vec![missing, csp, axe, after]).await;
    assert_eq!(report["ok"], json!(false));
    let m = journey_of(&report, "missing-text");
    assert_eq!(m["failed_step"], json!(2));
    assert!(
        m["error"]
            .as_str()
            .is_some_and(|e| e.contains("Ingen sådan text") && e.contains("/sign-in")),
        "{m}"
    );
    assert!(
        m["screenshots"].as_array().is_some_and(|s| s
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.ends_with("-failed.png")))),
        "{m}"
    );
    let c = journey_of(&report, "csp");
    assert!(
        c["error"]
            .as_str()
            .is_some_and(|e| e.contains("Content Security Policy")),
        "{c}"
    );
    let a = journey_of(&report, "axe");
    assert!(
        a["error"]
            .as_str()
            .is_some_and(|e| e.contains("critical") && e.contains("label")),
        "{a}"
    );
    // The journeys after a failed one still run.
    assert_eq!(journey_of(&report, "after")["ok"], json!(true));
}
