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
                json!({"expect_url": "^/collaborations\\?q=&step=agreement&overdue=true$"}),
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

// ---------- The journeys of issue 12 ----------

/// A case at step 2, "Kontakt med registerhållare", where the register holder answers (seed 001,
/// "2. Kontakt med registerhållare"): (id, reference).
async fn at_register_contact(app: &TestApp) -> (String, String) {
    let (id, v) = app.research_collaboration(&["EX-HJARTA"]).await;
    let reference = v["collaboration"]["reference"]
        .as_str()
        .expect("a reference")
        .to_string();
    let company = app.token("company").await;
    helpers::ok(
        app.transition(&id, &company, json!({"to": "register_contact"}))
            .await,
    )
    .await;
    (id, reference)
}

/// The steps that open a command's form on the case page (a `<details>` named by its summary).
fn open_command(command: &str) -> Value {
    json!({"click": {"selector": format!("details#cmd-{command} > summary")}})
}

/// Chooses a radio or ticks a checkbox inside one command's form on the case page.
fn in_form(command: &str, input: &str) -> Value {
    json!({"check": {"selector": format!("details#cmd-{command} {input}")}})
}

/// Chooses a radio or ticks a checkbox by its field name and value (the intake asks "Ja"/"Nej" on
/// several questions of a step, so the label alone is not unique).
fn tick(name: &str, value: &str) -> Value {
    json!({"check": {"selector": format!("input[name='{name}'][value='{value}']")}})
}

/// Journeys 1 and 2 of issue 12, and the intake's and case page's forms with errors:
/// a company representative walks the guided intake, sees the type and obligations change with an
/// answer, creates the collaboration and lands on its case page; a register holder answers
/// feasibility from /feasibility through the case page's form. Every page axe-checked.
#[tokio::test]
async fn a_company_starts_a_collaboration_through_the_intake_and_a_holder_answers_feasibility() {
    let app = TestApp::spawn().await;
    let university = app.org("Exempeluniversitetet").await;
    let register = app.register("EX-HJARTA").await;
    let (case, reference) = at_register_contact(&app).await;
    let title = "Hjärtsvikt och överlevnad i webbläsaren";
    let next = || json!({"click": {"button": "Nästa", "exact": true}});
    let data = |company: &str| {
        vec![
            tick("data_kind", "aggregated"),
            json!({"fill": {"label": "Vilka uppgifter (variabler) behövs?", "value": "alder\nkon"}}),
            tick("intake.company_receives", company),
            tick("intake.principal_receives", "aggregated"),
            tick("intake.analysis_by", "register"),
            tick("intake.identity_numbers_requested:bool", "false"),
        ]
    };
    let intake = journey(
        "intake",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"click": {"link": "Starta ett samverkansprojekt", "exact": true}}),
                json!({"expect_url": "^/intake$"}),
                json!({"expect_text": "Steg 1 av 7: Syfte"}),
                json!({"fill": {"label": "Projektets namn", "value": title}}),
                json!({"fill": {"label": "Vad ska data användas till?", "value": "Att jämföra utfall mellan behandlingar."}}),
                tick("intake.purpose", "research"),
                tick("intake.is_research", "yes"),
                tick("intake.sector", "pharma"),
                next(),
                json!({"expect_text": "Steg 2 av 7: Forskningshuvudman"}),
                // Research: ethics approval is required at once.
                json!({"expect_text": "Etikgodkännande från Etikprövningsmyndigheten"}),
                json!({"select": {"label": "Forskningshuvudman", "value": university}}),
                next(),
                json!({"expect_text": "Steg 3 av 7: Register"}),
                json!({"check": "Exempelregistret för hjärtintensivvård"}),
                next(),
                json!({"expect_text": "Steg 4 av 7: Data"}),
            ],
            data("aggregated"),
            vec![
                next(),
                // The register analyses and everyone gets tables: a commissioned analysis.
                json!({"expect_text": "Steg 5 av 7: Samkörning"}),
                json!({"expect_selector": "#intake-type:has-text('Uppdragsanalys av registret eller registercentrum')"}),
                json!({"expect_no_text": "Menprövning av CPUA-myndigheten"}),
                // Back to the data step: the company now receives microdata, and the type and
                // the obligations change.
                json!({"click": {"button": "Tillbaka", "exact": true}}),
                json!({"expect_text": "Steg 4 av 7: Data"}),
                json!({"expect_selector": "input[name='intake.company_receives'][value='aggregated']:checked"}),
                tick("intake.company_receives", "pseudonymised"),
                next(),
                json!({"expect_text": "Steg 5 av 7: Samkörning"}),
                json!({"expect_selector": "#intake-type:has-text('Forskning med universitet eller region som forskningshuvudman')"}),
                json!({"expect_text": "Menprövning av CPUA-myndigheten"}),
                next(),
                json!({"expect_text": "Steg 6 av 7: Länder"}),
                json!({"check": "Sverige"}),
                tick("intake.external_processor:bool", "false"),
                next(),
                json!({"expect_text": "Steg 7 av 7: Kostnader"}),
                tick("intake.effort_beyond_routine:bool", "false"),
                next(),
                json!({"expect_text": "Sammanfattning"}),
                json!({"expect_text": title}),
                json!({"expect_text": "Exempeluniversitetet"}),
                json!({"click": {"button": "Skapa samverkansprojektet", "exact": true}}),
                json!({"expect_url": "^/collaborations/[0-9a-f-]+$"}),
                json!({"expect_selector": format!("h1:text-is('{title}')")}),
                json!({"expect_text": "Förarbete"}),
                json!({"expect_text": "Menprövning av CPUA-myndigheten"}),
            ],
        ]),
    );
    // The intake with an error (no name) answers 422 with the summary and the message at the
    // field, keeping the other answers; on a phone it reflows.
    let intake_error = phone_journey(
        "intake-error-phone",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": "/intake"}),
                json!({"expect_fits_width": true}),
                json!({"fill": {"label": "Vad ska data användas till?", "value": "Behåll mig"}}),
                tick("intake.purpose", "research"),
                json!({"click": {"button": "Nästa", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-title']"}),
                json!({"expect_selector": "#f-title-error"}),
                json!({"expect_selector": "#f-title[aria-describedby~='f-title-error']"}),
                json!({"expect_selector": "textarea#f-purpose:text-is('Behåll mig')"}),
                json!({"expect_selector": "input[name='intake.purpose'][value='research']:checked"}),
                json!({"expect_fits_width": true}),
            ],
        ]),
    );
    let feasibility = journey(
        "feasibility",
        steps(vec![
            sign_in("register-holder"),
            vec![
                json!({"goto": "/feasibility"}),
                json!({"expect_text": reference}),
                json!({"click": {"link": reference, "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{case}$")}),
                open_command("record_feasibility"),
                json!({"select": {"selector": "details#cmd-record_feasibility select[name=register]", "value": register}}),
                tick("feasible:bool", "true"),
                // The browser itself refuses a negative time (min="0"). First with a negative cost
                // (a text field: the browser lets it through, the server does not): 422, the
                // message at the field, the answers kept (this page passes axe too).
                json!({"fill": {"label": "Ungefärlig tid (veckor)", "value": "6"}}),
                json!({"fill": {"label": "Ungefärlig kostnad (kronor)", "value": "-12 500"}}),
                json!({"fill": {"label": "Kommentar", "value": "Går bra."}}),
                json!({"click": {"button": "Svara om registret kan leverera", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-estimated_cost_ore']"}),
                json!({"expect_selector": "#f-estimated_cost_ore[aria-describedby~='f-estimated_cost_ore-error']"}),
                json!({"expect_selector": "details#cmd-record_feasibility[open] textarea:text-is('Går bra.')"}),
                json!({"fill": {"label": "Ungefärlig kostnad (kronor)", "value": "12 500"}}),
                json!({"click": {"button": "Svara om registret kan leverera", "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{case}\\?done=record_feasibility")}),
                json!({"expect_text": "Klart: Svara om registret kan leverera"}),
                // Answered: the case is no longer in the list.
                json!({"goto": "/feasibility"}),
                json!({"expect_no_text": reference}),
            ],
        ]),
    );
    let report = run(
        &app,
        "intake_and_feasibility",
        vec![intake, intake_error, feasibility],
    )
    .await;
    assert_passed(&report);

    // The collaboration was created, with the answers of the browser.
    let company = app.token("company").await;
    let list = helpers::ok(app.get("/api/v1/collaborations", &company).await).await;
    let created = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["title"] == title)
        .unwrap_or_else(|| panic!("the new collaboration in {list}"));
    let created = created["id"].as_str().expect("an id");
    let v = app.view(created, &company).await;
    assert_eq!(
        v["collaboration"]["research_principal"],
        json!(university),
        "{v}"
    );
    // The feasibility answer was recorded, with the cost in öre.
    let holder = app.token("register-holder").await;
    let v = app.view(&case, &holder).await;
    let f = &v["collaboration"]["feasibility"][0];
    assert_eq!(f["feasible"], true, "{v}");
    assert_eq!(f["estimated_weeks"], 6, "{f}");
    assert_eq!(f["estimated_cost"], 1_250_000, "{f}");
}

/// Two agreement versions whose dispute clauses name different courts (as tests/pages/review.rs
/// sets them up).
async fn two_agreement_versions(app: &TestApp) -> String {
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    let company = app.token("company").await;
    helpers::ok(
        app.action(
            &id,
            &company,
            json!({"action": "record_ethics_approval", "reference": "2026-01234-01", "decided_on": "2026-08-20"}),
        )
        .await,
    )
    .await;
    let mut terms = terms::full_terms(app).await;
    app.draw_agreement(&id, &company, &json!({"terms": terms.clone()}))
        .await;
    terms["disputes"]["venue"] = json!("Stockholms tingsrätt");
    app.draw_agreement(&id, &company, &json!({"terms": terms}))
        .await;
    id
}

/// Journeys 3 and 4 of issue 12: CPUA legal decides from the queue (the case set up to the
/// decision point through the API; seed 001, "5. Beslut om utlämnande"), and the agreement review
/// shows the changed clause of two versions. Plus the English case page and queue, and the case
/// page and queue on a 320 px phone.
#[tokio::test]
async fn cpua_legal_decides_from_the_queue_and_the_agreement_review_shows_the_diff() {
    let app = TestApp::spawn().await;
    let (case, v) = app.research_collaboration(&["EX-HJARTA"]).await;
    let reference = v["collaboration"]["reference"]
        .as_str()
        .expect("a reference")
        .to_string();
    app.walk_to_application(&case, &["Region Uppsala"]).await;
    let agreements = two_agreement_versions(&app).await;
    let conditions = "Endast aggregerade resultat får publiceras.";
    let decision = journey(
        "decision",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"click": {"link": "Arbetskö", "exact": true}}),
                json!({"expect_url": "^/queue$"}),
                json!({"expect_text": reference}),
                json!({"click": {"link": reference, "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{case}$")}),
                open_command("release_decision"),
                // The recommendation form asks the same questions: the decision's own by its form.
                in_form(
                    "release_decision",
                    "input[name='outcome'][value='approved_with_conditions']",
                ),
                in_form(
                    "release_decision",
                    "input[name='findings.need_for_data:bool']",
                ),
                in_form(
                    "release_decision",
                    "input[name='findings.within_ethics_approval:bool']",
                ),
                in_form(
                    "release_decision",
                    "input[name='findings.no_risk_of_harm:bool']",
                ),
                json!({"fill": {"selector": "#cmd-release_decision textarea[name=conditions]", "value": conditions}}),
                json!({"fill": {"selector": "#cmd-release_decision textarea[name=reasons]", "value": "Resultaten rör små grupper."}}),
                json!({"click": {"button": "Besluta om utlämnande", "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{case}\\?done=release_decision")}),
                json!({"expect_text": "Klart: Besluta om utlämnande"}),
                json!({"expect_text": "bifall med förbehåll"}),
                // Decided: the form is no longer offered.
                json!({"expect_no_selector": "details#cmd-release_decision"}),
            ],
        ]),
    );
    let english = journey(
        "english-queue-and-case",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"click": {"link": "English", "exact": true}}),
                json!({"goto": "/queue"}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_text": reference}),
                json!({"click": {"link": reference, "exact": true}}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_text": "What is needed from you now"}),
                json!({"expect_text": "The nine steps"}),
                open_command("release_decision"),
                json!({"expect_no_text": "Besluta om utlämnande"}),
            ],
        ]),
    );
    let fits = || json!({"expect_fits_width": true});
    let phone = phone_journey(
        "phone-queue-and-case",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"goto": "/queue"}),
                fits(),
                json!({"goto": format!("/collaborations/{case}")}),
                fits(),
                open_command("release_decision"),
                fits(),
                json!({"goto": format!("/collaborations/{agreements}/agreements")}),
                fits(),
            ],
        ]),
    );
    let review = journey(
        "agreement-review",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": format!("/collaborations/{agreements}")}),
                json!({"click": {"link": "Granska avtalet", "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{agreements}/agreements$")}),
                json!({"expect_text": "Skillnader mellan version 1 och 2"}),
                json!({"expect_text": "(ändrad punkt)"}),
                json!({"expect_selector": "ins:has-text('Stockholms tingsrätt')"}),
                json!({"expect_selector": "del:has-text('Uppsala tingsrätt')"}),
                // The other way round: the courts swap sides.
                json!({"select": {"label": "Från version", "value": "2"}}),
                json!({"select": {"label": "Till version", "value": "1"}}),
                json!({"click": {"button": "Jämför", "exact": true}}),
                json!({"expect_url": "\\?from=2&to=1$"}),
                json!({"expect_text": "Skillnader mellan version 2 och 1"}),
                json!({"expect_selector": "ins:has-text('Uppsala tingsrätt')"}),
                json!({"expect_selector": "del:has-text('Stockholms tingsrätt')"}),
            ],
        ]),
    );
    // CPUA legal sees the same review with the form for a deviation.
    let review_legal = journey(
        "agreement-review-legal",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"goto": format!("/collaborations/{agreements}/agreements")}),
                json!({"expect_text": "Skillnader mellan version 1 och 2"}),
            ],
        ]),
    );
    let report = run(
        &app,
        "decision_and_review",
        // The queue in English and on a phone before the decision takes the case out of it.
        vec![english, phone, decision, review, review_legal],
    )
    .await;
    assert_passed(&report);

    // The decision is the case's, as the browser made it.
    let legal = app.token("legal").await;
    let v = app.view(&case, &legal).await;
    let d = &v["collaboration"]["cpua_reviews"][0]["decision"];
    assert_eq!(d["outcome"], "approved_with_conditions", "{v}");
    assert_eq!(d["findings"]["need_for_data"], true, "{d}");
    assert_eq!(d["conditions"], conditions, "{d}");
}

/// Axe over the remaining pages (journey 5 of issue 12): administration with the organisation
/// form's errors (422), the finance pages with a cost agreement recorded through the API, and the
/// role page.
#[tokio::test]
async fn axe_passes_on_administration_finance_and_the_role_page() {
    let app = TestApp::spawn().await;
    let register = app.register("EX-HJARTA").await;
    let company = app.org("Exempel Läkemedel AB").await;
    let (case, reference) = at_register_contact(&app).await;
    let finance = app.token("finance").await;
    helpers::ok(
        app.action(
            &case,
            &finance,
            json!({"action": "record_cost_agreement", "reference": "KOST-42", "signed_on": "2026-08-28",
                   "estimate_ore": 1_250_000, "hourly_rate_ore": 95_000}),
        )
        .await,
    )
    .await;
    let admin = journey(
        "admin",
        steps(vec![
            sign_in("admin"),
            vec![
                json!({"click": {"link": "Administration", "exact": true}}),
                json!({"expect_url": "^/admin$"}),
                json!({"click": {"link": "Organisationer", "exact": true}}),
                json!({"expect_url": "^/admin/organisations"}),
                // A wrong organisation number: 422 with the message at the field, values kept.
                json!({"fill": {"label": "Namn", "exact": true, "value": "Fel Nummer AB"}}),
                json!({"select": {"label": "Typ av organisation", "value": "university"}}),
                json!({"fill": {"label": "Organisationsnummer", "exact": true, "value": "556016-0681"}}),
                json!({"click": {"button": "Lägg till organisationen", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-org_number']"}),
                json!({"expect_selector": "#f-org_number[aria-describedby='f-org_number-error']"}),
                json!({"expect_selector": "#f-name[value='Fel Nummer AB']"}),
                json!({"goto": "/admin/registers"}),
                json!({"expect_text": "Exempelregistret för hjärtintensivvård"}),
                json!({"goto": format!("/admin/registers/{register}")}),
                json!({"expect_text": "Exempelregistret för hjärtintensivvård"}),
                json!({"goto": "/admin/people"}),
                json!({"goto": format!("/admin/people?org={company}")}),
                json!({"expect_text": "Karin Företagsson"}),
                json!({"goto": "/role"}),
                json!({"expect_text": "Välj roll"}),
            ],
        ]),
    );
    let finance = journey(
        "finance",
        steps(vec![
            sign_in("finance"),
            vec![
                json!({"click": {"link": "Kostnader", "exact": true}}),
                json!({"expect_url": "^/finance$"}),
                json!({"expect_text": reference}),
                json!({"expect_text": "KOST-42"}),
                json!({"goto": format!("/finance/{case}")}),
                json!({"expect_text": "Registerhållarnas kostnadsuppskattningar"}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"goto": "/finance"}),
                json!({"expect_text": "SEK\u{a0}12,500.00"}),
            ],
        ]),
    );
    let report = run(&app, "admin_finance_role", vec![admin, finance]).await;
    assert_passed(&report);
}

/// Issue 14's signing journey: CPUA legal has sent the envelope (through the API); the company's
/// signatory opens the signing page from the case page, types a wrong name (422 at the field), then
/// her own, ticks the consent box and signs. The principal's page then shows the company signed.
#[tokio::test]
async fn a_signer_signs_the_agreement_in_the_browser() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    helpers::ok(
        app.transition(&id, &legal, helpers::approval(&uppsala))
            .await,
    )
    .await;
    let company = app.token("company").await;
    let all = terms::full_terms(&app).await;
    let (n, _) = app
        .draw_agreement(&id, &company, &json!({ "terms": all }))
        .await;
    app.send_envelope(&id, n).await;
    let page = format!("/collaborations/{id}/agreements/{n}/signing");
    let sign = journey(
        "sign",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": format!("/collaborations/{id}")}),
                json!({"click": {"link": "Underskrift"}}),
                json!({"expect_url": format!("^{page}$")}),
                json!({"expect_text": "Underskrift av avtalsversion 1"}),
                json!({"expect_text": "Jag, Karin Företagsson, undertecknar"}),
                json!({"fill": {"label": "Ditt fullständiga namn", "value": "Karin Fel"}}),
                json!({"check": "Jag har läst texten ovan och undertecknar avtalet."}),
                json!({"click": {"button": "Underteckna", "exact": true}, "status": 422}),
                json!({"expect_text": "det inskrivna namnet är inte ditt registrerade namn"}),
                json!({"expect_selector": "#f-typed_name[value='Karin Fel']"}),
                json!({"fill": {"label": "Ditt fullständiga namn", "value": "Karin Företagsson"}}),
                json!({"click": {"button": "Underteckna", "exact": true}}),
                json!({"expect_url": format!("^{page}$")}),
                json!({"expect_no_selector": "form[action$='/signing/sign']"}),
            ],
        ]),
    );
    let principal = journey(
        "principal-sees",
        steps(vec![
            sign_in("principal"),
            vec![
                json!({"goto": page.clone()}),
                json!({"expect_selector": "td:text-is('undertecknat')"}),
                json!({"expect_text": "Jag, Per Forskare, undertecknar"}),
                json!({"expect_selector": "form[action$='/signing/decline']"}),
            ],
        ]),
    );
    let report = run(&app, "signing", vec![sign, principal]).await;
    assert_passed(&report);
    let env = helpers::ok(app.get(&TestApp::envelope_path(&id, n), &legal).await).await;
    let signed: Vec<&Value> = env["signers"]
        .as_array()
        .expect("signers")
        .iter()
        .filter(|s| s["status"] == "signed")
        .collect();
    assert_eq!(signed.len(), 1, "{env}");
    assert_eq!(signed[0]["organisation_name"], "Exempel Läkemedel AB");
}

/// Issue 16 in the browser: the documents section of the case page (upload through the multipart
/// form, then listed with its download link), the to-do page, and the completion forms (legal
/// returns the application, a refusal shown at its field, the company answers and resubmits), each
/// page checked with axe-core; the case page with its case handling section also on a phone.
#[tokio::test]
async fn documents_the_to_do_page_and_the_completion_forms_in_the_browser() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let case = format!("/collaborations/{id}");
    let pdf = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    let documents = journey(
        "documents",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": case}),
                json!({"expect_text": "Inga dokument har laddats upp"}),
                json!({"select": {"label": "Typ av dokument", "option": "Etikbeslut"}}),
                json!({"upload": {"selector": "#f-document-file", "name": "etikbeslut.pdf", "mime": "application/pdf", "text": pdf}}),
                json!({"click": {"button": "Ladda upp", "exact": true}}),
                json!({"expect_text": "Dokumentet har laddats upp."}),
                json!({"expect_selector": "#documents a[download]"}),
                json!({"expect_text": "etikbeslut.pdf"}),
                // A file that is no PDF inside: refused at the file field.
                json!({"select": {"label": "Typ av dokument", "option": "Forskningsplan"}}),
                json!({"upload": {"selector": "#f-document-file", "name": "plan.pdf", "mime": "application/pdf", "text": "<html><body>x</body></html>"}}),
                json!({"click": {"button": "Ladda upp", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-document-file']"}),
                json!({"expect_selector": "#f-document-file-error"}),
            ],
        ]),
    );
    let todo = journey(
        "todo",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"click": {"link": "Att göra", "exact": true}}),
                json!({"expect_url": "^/todo$"}),
                json!({"expect_text": "Besluta om utlämnande"}),
                json!({"click": {"selector": format!("a[href='/collaborations/{id}']")}}),
                json!({"expect_url": "^/collaborations/[0-9a-f-]+$"}),
            ],
        ]),
    );
    let returned = journey(
        "return_for_completion",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"goto": case}),
                json!({"expect_text": "Skicka tillbaka ansökan för komplettering"}),
                // Nothing asked for: refused at the first item's box.
                json!({"fill": {"selector": "#f-completion-due_on", "value": "2026-09-15"}}),
                json!({"click": {"button": "Skicka tillbaka för komplettering", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-completion-items-0--text']"}),
                json!({"fill": {"selector": "#f-completion-items-0--text", "value": "Beskriv syftet närmare"}}),
                json!({"select": {"selector": "#f-completion-items-0--field", "option": "Syfte"}}),
                json!({"fill": {"selector": "#f-completion-due_on", "value": "2026-09-15"}}),
                json!({"click": {"button": "Skicka tillbaka för komplettering", "exact": true}}),
                json!({"expect_text": "Ansökan har skickats tillbaka för komplettering."}),
                json!({"expect_text": "Väntar på komplettering."}),
            ],
        ]),
    );
    let answered = journey(
        "answer_completion",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": case}),
                json!({"fill": {"label": "Syfte (rätta här om det behövs)", "value": "Att jämföra femårsöverlevnad mellan två behandlingsstrategier."}}),
                json!({"fill": {"label": "Svar på punkt 1", "value": "Syftet är preciserat"}}),
                json!({"click": {"button": "Svara och skicka in ansökan igen", "exact": true}}),
                json!({"expect_text": "Kompletteringen är besvarad och ansökan inskickad igen."}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"expect_text": "The 30-day decision time counts from the resubmission"}),
                json!({"expect_text": "Changes to the application since the request"}),
            ],
        ]),
    );
    let phone = phone_journey(
        "phone_case_handling",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"goto": format!("/collaborations/{id}")}),
                json!({"expect_text": "Handläggning"}),
                json!({"expect_fits_width": true}),
                json!({"goto": "/todo"}),
                json!({"expect_fits_width": true}),
            ],
        ]),
    );
    let report = run(
        &app,
        "casework_pages",
        vec![documents, todo, returned, answered, phone],
    )
    .await;
    assert_passed(&report);
}

/// Issue 15 in the browser: the register holder logs hours on the work log (a refusal first, at its
/// field), finance approves the line, draws a draft (the buyer's reference missing first), issues
/// it, opens the issued invoice and downloads its PDF; every page checked with axe-core.
#[tokio::test]
async fn finance_approves_drafts_issues_and_downloads_an_invoice_in_the_browser() {
    let app = TestApp::spawn().await;
    let (case, _) = at_register_contact(&app).await;
    let finance = app.token("finance").await;
    helpers::ok(
        app.action(
            &case,
            &finance,
            json!({"action": "record_cost_agreement", "reference": "KOST-2026-17", "signed_on": "2026-08-28",
                   "estimate_ore": 1_000_000, "hourly_rate_ore": 95_000}),
        )
        .await,
    )
    .await;
    let work_log = format!("/collaborations/{case}/work-log");
    let fill =
        |label: &str, value: &str| json!({"fill": {"label": label, "exact": true, "value": value}});
    let holder = journey(
        "holder-logs",
        steps(vec![
            sign_in("register-holder"),
            vec![
                json!({"goto": format!("/collaborations/{case}")}),
                json!({"click": {"link": "Arbetslogg och fakturering", "exact": true}}),
                json!({"expect_url": format!("^{work_log}$")}),
                fill("Vem gjorde arbetet", "Eva Lind"),
                fill("Datum", "2026-09-01"),
                fill("Aktivitet", "Datauttag och avidentifiering"),
                fill("Antal timmar", "25"),
                json!({"click": {"button": "Logga raden", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-hours']"}),
                json!({"expect_selector": "#f-person_name[value='Eva Lind']"}),
                fill("Antal timmar", "5"),
                json!({"click": {"button": "Logga raden", "exact": true}}),
                json!({"expect_url": format!("^{work_log}$")}),
                json!({"expect_text": "Loggad, väntar på godkännande"}),
                json!({"expect_text": "Du loggade raden"}),
            ],
        ]),
    );
    let finance = journey(
        "finance-invoices",
        steps(vec![
            sign_in("finance"),
            vec![
                json!({"goto": format!("/finance/{case}")}),
                json!({"click": {"link": "Arbetslogg och fakturering", "exact": true}}),
                json!({"click": {"button": "Godkänn raden för Eva Lind"}}),
                json!({"expect_text": "Skapa fakturautkast av godkända rader"}),
                fill("Köparens gatuadress", "Industrigatan 4"),
                fill("Köparens postnummer", "112 46"),
                fill("Köparens ort", "Stockholm"),
                fill("Vår gatuadress", "Dag Hammarskjölds väg 38"),
                fill("Vårt postnummer", "751 85"),
                fill("Vår ort", "Uppsala"),
                fill("Bankgiro", "5050-1055"),
                json!({"click": {"button": "Skapa fakturautkast", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-buyer_reference']"}),
                json!({"expect_selector": "#f-buyer_street[value='Industrigatan 4']"}),
                fill("Köparens referens", "Åsa Öberg"),
                json!({"click": {"button": "Skapa fakturautkast", "exact": true}}),
                json!({"expect_url": "^/invoices/[0-9a-f-]+$"}),
                json!({"expect_text": "Fakturautkast"}),
                json!({"click": {"button": "Utfärda fakturan", "exact": true}}),
                json!({"expect_url": "^/invoices/[0-9a-f-]+$"}),
                json!({"expect_text": "OCR-nummer"}),
                json!({"expect_text": "5\u{a0}937,50\u{a0}kr"}),
                json!({"download": {"link": "Ladda ned PDF (svenska)", "exact": true},
                       "starts_with": "%PDF", "filename": "\\.pdf$"}),
                json!({"goto": "/invoices"}),
                json!({"expect_text": "Utfärdad"}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"expect_text": "SEK\u{a0}5,937.50"}),
            ],
        ]),
    );
    let report = run(&app, "finance_invoices", vec![holder, finance]).await;
    assert_passed(&report);
}

/// Issue 15's finance pages end to end: a case with a written cost agreement and a work-log line
/// the register holder logged and finance approved (through the API). In the browser, finance
/// opens the list of cases with costs, the case's costs page and its work log, draws a draft from
/// the approved line (the buyer's reference filled), issues it and sees its number and OCR
/// reference, then records a part payment by hand and sees the invoice partially paid with the
/// balance left, on the invoice and in the filtered list. Every page checked with axe-core.
#[tokio::test]
async fn finance_invoices_an_approved_work_log_and_records_a_payment_in_the_browser() {
    let app = TestApp::spawn().await;
    let case = app
        .case_with_cost_agreement(false, "KOST-2026-15", "2026-09-01")
        .await;
    let finance = app.token("finance").await;
    let reference = app.view(&case, &finance).await["collaboration"]["reference"]
        .as_str()
        .expect("a reference")
        .to_string();
    // 5 h at the agreement's 950 kr an hour: 4 750 kr + 25 % VAT = 5 937,50 kr (seed 000,
    // "Ersättning för datauttag för forskning").
    let holder = app.token("register-holder").await;
    let line = helpers::ok(
        app.post(
            &format!("/api/v1/collaborations/{case}/work-log"),
            &holder,
            &json!({"person_name": "Eva Lind", "worked_on": "2026-09-01",
                    "activity": "Datauttag och avidentifiering", "kind": "hours",
                    "hours_hundredths": 500}),
        )
        .await,
    )
    .await;
    let line = line["line"]["id"].as_str().expect("the line's id");
    helpers::ok(
        app.post(
            &format!("/api/v1/collaborations/{case}/work-log/{line}/approve"),
            &finance,
            &json!({}),
        )
        .await,
    )
    .await;
    // The first invoice of Region Uppsala in 2026 (the test clock's year), and its OCR reference
    // (the number's digits, a length digit and a check digit).
    let number = "2026-000001";
    let ocr = samverkan::domain::billing::ocr::ocr_reference("202600001", true)
        .expect("an OCR reference");
    let fill =
        |label: &str, value: &str| json!({"fill": {"label": label, "exact": true, "value": value}});
    let invoice = journey(
        "finance-invoice-and-payment",
        steps(vec![
            sign_in("finance"),
            vec![
                json!({"click": {"link": "Kostnader", "exact": true}}),
                json!({"expect_url": "^/finance$"}),
                json!({"expect_text": "KOST-2026-15"}),
                json!({"click": {"link": reference, "exact": true}}),
                json!({"expect_url": format!("^/finance/{case}$")}),
                json!({"expect_selector": format!("h1:text-is('Kostnader för {reference}')")}),
                json!({"expect_text": "950,00\u{a0}kr"}),
                json!({"click": {"link": "Arbetslogg och fakturering", "exact": true}}),
                json!({"expect_url": format!("^/collaborations/{case}/work-log$")}),
                json!({"expect_text": "Skapa fakturautkast av godkända rader"}),
                json!({"expect_text": "En godkänd rad som inte är fakturerad, 4\u{a0}750,00\u{a0}kr."}),
                fill("Köparens referens", "Åsa Öberg"),
                fill("Köparens gatuadress", "Industrigatan 4"),
                fill("Köparens postnummer", "112 46"),
                fill("Köparens ort", "Stockholm"),
                fill("Vår gatuadress", "Dag Hammarskjölds väg 38"),
                fill("Vårt postnummer", "751 85"),
                fill("Vår ort", "Uppsala"),
                fill("Bankgiro", "5050-1055"),
                json!({"click": {"button": "Skapa fakturautkast", "exact": true}}),
                json!({"expect_url": "^/invoices/[0-9a-f-]+$"}),
                json!({"expect_selector": "h1:text-is('Fakturautkast')"}),
                json!({"expect_text": "Åsa Öberg"}),
                // A draft has neither number nor OCR reference yet.
                json!({"expect_no_selector": "dt:text-is('OCR-nummer')"}),
                json!({"expect_no_selector": "dt:text-is('Fakturanummer')"}),
                json!({"click": {"button": "Utfärda fakturan", "exact": true}}),
                json!({"expect_url": "^/invoices/[0-9a-f-]+$"}),
                json!({"expect_selector": format!("h1:text-is('Faktura {number}')")}),
                json!({"expect_selector": format!("dt:text-is('Fakturanummer') + dd:text-is('{number}')")}),
                json!({"expect_selector": format!("dt:text-is('OCR-nummer') + dd:text-is('{ocr}')")}),
                json!({"expect_text": "5\u{a0}937,50\u{a0}kr"}),
                json!({"expect_selector": "#payment-status:text-is('Obetald')"}),
                json!({"expect_text": "Inga betalningar är registrerade."}),
                // Part of the amount, by hand: 2 000 kr of 5 937,50 kr.
                fill("Belopp i kronor", "2 000"),
                fill("Valutadag", "2026-09-01"),
                fill("Bankens referens", "BG-HAND-15"),
                fill("Betalarens namn (frivilligt)", "Åsa Öberg"),
                json!({"click": {"button": "Registrera betalningen", "exact": true}}),
                json!({"expect_url": "^/invoices/[0-9a-f-]+$"}),
                json!({"expect_selector": "#payment-status:text-is('Delvis betald')"}),
                json!({"expect_selector": "dt:text-is('Betalt') + dd:text-is('2\u{a0}000,00\u{a0}kr')"}),
                json!({"expect_selector": "dt:text-is('Kvar att betala') + dd:text-is('3\u{a0}937,50\u{a0}kr')"}),
                json!({"expect_selector": "td:text-is('BG-HAND-15')"}),
                json!({"expect_selector": "td:text-is('Registrerad för hand')"}),
                // The list of invoices, filtered on the computed status.
                json!({"click": {"selector": ".crumbs a[href='/invoices']"}}),
                json!({"expect_url": "^/invoices$"}),
                json!({"select": {"selector": "#f-status", "value": "partially_paid"}}),
                json!({"click": {"button": "Visa", "exact": true}}),
                json!({"expect_url": "^/invoices\\?status=partially_paid$"}),
                json!({"expect_selector": format!("td a:text-is('{number}')")}),
                json!({"expect_text": "3\u{a0}937,50\u{a0}kr"}),
                json!({"select": {"selector": "#f-status", "value": "paid"}}),
                json!({"click": {"button": "Visa", "exact": true}}),
                json!({"expect_no_text": number}),
            ],
        ]),
    );
    let report = run(&app, "finance_invoice_payment", vec![invoice]).await;
    assert_passed(&report);

    // The invoice the browser issued, with the number and OCR reference the page showed, and the
    // payment recorded in öre.
    let list = helpers::ok(
        app.get("/api/v1/invoices?status=partially_paid", &finance)
            .await,
    )
    .await;
    let issued = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["number"] == number)
        .unwrap_or_else(|| panic!("invoice {number}, partially paid, in {list}"));
    let id = issued["id"].as_str().expect("the invoice's id");
    let inv = helpers::ok(app.get(&format!("/api/v1/invoices/{id}"), &finance).await).await;
    assert_eq!(inv["ocr"], json!(ocr), "{inv}");
    assert_eq!(inv["buyer_reference"], "Åsa Öberg", "{inv}");
    assert_eq!(inv["payment_status"], "partially_paid", "{inv}");
    assert_eq!(inv["paid_ore"], 200_000, "{inv}");
    assert_eq!(inv["balance_ore"], 393_750, "{inv}");
}

/// Issue 14's draft form, "where a party needs two signatories jointly or one of several, say so":
/// CPUA legal opens the signing page of a drawn version, saves a draft (one signer per party),
/// adds a second signer for the company in the add row (the company's signers are then jointly,
/// "i förening"), chooses one of several ("var för sig") for the company, saves and sends. The page
/// shows the rule and both of the company's signers, and the envelope is sent; the API has the
/// rule. Every page checked with axe-core.
#[tokio::test]
async fn legal_drafts_signers_jointly_or_one_of_several_in_the_browser() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    helpers::ok(
        app.transition(&id, &legal, helpers::approval(&uppsala))
            .await,
    )
    .await;
    let company = app.token("company").await;
    let all = terms::full_terms(&app).await;
    let (n, _) = app
        .draw_agreement(&id, &company, &json!({ "terms": all }))
        .await;
    let company_org = app.org("Exempel Läkemedel AB").await;
    let page = format!("/collaborations/{id}/agreements/{n}/signing");
    let draft = || json!({"click": {"button": "Spara som utkast", "exact": true}});
    let add_row = "fieldset:has(> legend:text-is('Lägg till en undertecknare'))";
    // A signer row of the table: the company's party with its rule in words, and the capacity.
    let row = |capacity: &str, rule: &str| {
        json!({"expect_selector": format!(
            "tr:has(th:text-is('Exempel Läkemedel AB')):has(td:text-is('företag ({rule})')):has(td:text-is('{capacity}'))"
        )})
    };
    let jointly = "alla angivna firmatecknare undertecknar i förening";
    let one_of = "en av flera firmatecknare räcker (var för sig)";
    let rule = format!("party_rules.{company_org}");
    let j = journey(
        "draft-signers-rule",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"goto": page.clone()}),
                json!({"expect_text": "Avtalet har inte skickats för underskrift ännu."}),
                json!({"expect_text": "Skicka avtalet för underskrift"}),
                // A draft first: one signer per party, and the add row.
                draft(),
                json!({"expect_url": format!("^{page}$")}),
                json!({"expect_text": "utkast, inte skickat"}),
                json!({"expect_text": "Vem som skriver under"}),
                // One company signer: no rule to choose yet.
                json!({"expect_no_text": "Hur Exempel Läkemedel AB undertecknar"}),
                json!({"select": {"selector": format!("{add_row} select"), "option": "Exempel Läkemedel AB (företag)"}}),
                json!({"fill": {"selector": format!("{add_row} input[name$='.capacity']"), "value": "firmatecknare"}}),
                draft(),
                json!({"expect_url": format!("^{page}$")}),
                // Two company signers: jointly unless legal says otherwise, offered as a choice.
                json!({"expect_text": "Hur Exempel Läkemedel AB undertecknar"}),
                json!({"expect_selector": format!("input[name='{rule}'][value='all']:checked")}),
                row("VD", jointly),
                row("firmatecknare", jointly),
                json!({"check": "Var för sig: det räcker att en av dem skriver under"}),
                draft(),
                json!({"expect_url": format!("^{page}$")}),
                json!({"expect_selector": format!("input[name='{rule}'][value='any']:checked")}),
                row("VD", one_of),
                row("firmatecknare", one_of),
                json!({"expect_text": "utkast, inte skickat"}),
                // Sent with the choice: the form is gone, the rule and both signers shown.
                json!({"click": {"button": "Skicka för underskrift", "exact": true}}),
                json!({"expect_url": format!("^{page}$")}),
                json!({"expect_text": "skickat, väntar på underskrifter"}),
                json!({"expect_no_selector": "form[action$='/signing/envelope']"}),
                row("VD", one_of),
                row("firmatecknare", one_of),
            ],
        ]),
    );
    let report = run(&app, "signing_party_rule", vec![j]).await;
    assert_passed(&report);

    let env = helpers::ok(app.get(&TestApp::envelope_path(&id, n), &legal).await).await;
    assert_eq!(env["status"], "sent", "{env}");
    let signers = env["signers"].as_array().expect("signers");
    assert_eq!(signers.len(), 4, "{env}");
    let mut ours: Vec<(&str, &str)> = signers
        .iter()
        .filter(|s| s["organisation"] == json!(company_org))
        .map(|s| {
            (
                s["capacity"].as_str().unwrap_or_default(),
                s["party_rule"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    ours.sort_unstable();
    assert_eq!(ours, [("VD", "any"), ("firmatecknare", "any")], "{env}");
    assert!(
        signers
            .iter()
            .filter(|s| s["organisation"] != json!(company_org))
            .all(|s| s["party_rule"] == "all"),
        "{env}"
    );
}

/// Issue 16 items 6 and 8 in the browser: after release the company names a data user on the case
/// page (then the same address again, refused at the form), CPUA legal approves the addition, the person named
/// (Bo Bolagsson, by his signed-in address) reads and confirms his undertaking on "Mina
/// sekretessförbindelser", and legal subscribes a system on "Utgående händelser" (the secret shown
/// once), opens its delivery log and deletes it. Every page checked with axe-core and screenshotted.
#[tokio::test]
async fn data_users_undertakings_and_webhook_subscriptions_in_the_browser() {
    let app = TestApp::spawn().await;
    let (id, _) = app.research_collaboration(&["EX-HJARTA"]).await;
    app.walk_to_application(&id, &["Region Uppsala"]).await;
    let uppsala = app.org("Region Uppsala").await;
    let legal = app.token("legal").await;
    helpers::ok(
        app.transition(&id, &legal, helpers::approval(&uppsala))
            .await,
    )
    .await;
    app.sign_agreement(&id).await;
    helpers::ok(
        app.transition(
            &id,
            &legal,
            json!({"to": "data_release", "cpua": uppsala, "released_on": "2026-09-01",
                   "transfer_method": "encrypted_file", "password_sent_separately": true}),
        )
        .await,
    )
    .await;
    let case = format!("/collaborations/{id}");
    let named = journey(
        "name_data_user",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": case}),
                json!({"expect_text": "Ingen är namngiven ännu."}),
                json!({"fill": {"selector": "#f-add-name", "value": "Bo Bolagsson"}}),
                json!({"fill": {"selector": "#f-add-email", "value": "company-b@demo.samverkan.invalid"}}),
                json!({"fill": {"selector": "#f-add-project_role", "value": "statistiker"}}),
                json!({"click": {"button": "Namnge personen", "exact": true}}),
                json!({"expect_text": "Personen är namngiven."}),
                // The same address again: refused (409), said at the form, what was typed kept.
                json!({"fill": {"selector": "#f-add-name", "value": "Bo B."}}),
                json!({"fill": {"selector": "#f-add-email", "value": "company-b@demo.samverkan.invalid"}}),
                json!({"fill": {"selector": "#f-add-project_role", "value": "statistiker"}}),
                json!({"click": {"button": "Namnge personen", "exact": true}, "status": 409}),
                json!({"expect_selector": "#error-summary a[href='#f-add-name']"}),
                json!({"expect_selector": "#f-add-name[value='Bo B.']"}),
                json!({"expect_text": "Väntar på CPUA:s godkännande"}),
            ],
        ]),
    );
    let approved = journey(
        "approve_data_user",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"click": {"link": "Att göra", "exact": true}}),
                json!({"expect_text": "Godkänn eller avslå en dataanvändare"}),
                json!({"goto": case}),
                json!({"click": {"button": "Godkänn Bo Bolagsson", "exact": true}}),
                json!({"expect_text": "Personen är godkänd."}),
                json!({"expect_text": "Godkänd av Lars Jurist"}),
            ],
        ]),
    );
    let confirmed = journey(
        "confirm_undertaking",
        steps(vec![
            sign_in("company-b"),
            vec![
                json!({"click": {"link": "Mina sekretessförbindelser", "exact": true}}),
                json!({"expect_url": "^/undertakings$"}),
                json!({"expect_text": "obehörigen röja"}),
                json!({"check": {"selector": "input[name=accept]"}}),
                json!({"click": {"button": "Bekräfta sekretessförbindelsen", "exact": false}}),
                json!({"expect_text": "Din sekretessförbindelse är bekräftad och registrerad."}),
                json!({"expect_text": "Ingen sekretessförbindelse väntar på dig."}),
            ],
        ]),
    );
    let hooks = journey(
        "webhook_subscriptions",
        steps(vec![
            sign_in("legal"),
            vec![
                json!({"click": {"link": "Utgående händelser", "exact": true}}),
                json!({"expect_url": "^/webhooks$"}),
                json!({"fill": {"label": "Adress (URL)", "value": "http://127.0.0.1:9/diariet"}}),
                json!({"check": "Beslut om utlämnande fattat"}),
                json!({"fill": {"label": "Beskrivning (frivillig)", "value": "Diariet"}}),
                json!({"click": {"button": "Prenumerera", "exact": true}, "status": 201}),
                json!({"expect_text": "Hemligheten visas bara den här gången."}),
                json!({"expect_selector": "#f-secret[value^='whsec_']"}),
                json!({"click": {"link": "Leveranslogg"}}),
                json!({"expect_text": "Inget har skickats till den här prenumerationen ännu."}),
                json!({"click": {"link": "Tillbaka till prenumerationerna", "exact": true}}),
                json!({"expect_no_selector": "#f-secret"}),
                json!({"click": {"button": "Ta bort", "exact": false}}),
                json!({"expect_text": "Prenumerationen är borttagen"}),
            ],
        ]),
    );
    let report = run(
        &app,
        "data_users_pages",
        vec![named, approved, confirmed, hooks],
    )
    .await;
    assert_passed(&report);
    let v = helpers::ok(
        app.get(&format!("/api/v1/collaborations/{id}/data-users"), &legal)
            .await,
    )
    .await;
    assert_eq!(v["items"][0]["status"], "active", "{v}");
    assert!(v["items"][0]["undertaking"]["sha256"].is_string(), "{v}");
}

// ---------- Issue 12's coverage audit: the pages no journey above visits ----------

/// A journey at 200 % zoom: a 640 px wide viewport drawn at two device pixels per CSS pixel, as a
/// 1280 px window zoomed to 200 % (WCAG 1.4.4 resize text; the issue: "works at 200 % zoom").
fn zoom_journey(name: &str, steps: Vec<Value>) -> Value {
    json!({ "name": name, "viewport": {"width": 640, "height": 900}, "device_scale_factor": 2,
            "steps": steps })
}

/// The list's search box (issue 12, "Their collaborations (search, filter by step)"): a one-letter
/// search answers 422 with the message at the box, linked from the error summary, in Swedish and in
/// English; a search in another case finds the company's collaboration. The role page in English;
/// the administrator's signing policy field with its error; the intake's later step with an
/// error; the register holder's feasibility list in English; the error pages (404 for an unknown
/// page and in English, 403 for a page of another role and for a form with a wrong CSRF token, 405
/// for a wrong method). Every page axe-checked and screenshotted.
#[tokio::test]
async fn search_role_signing_policy_intake_errors_and_error_pages_pass_axe() {
    let app = TestApp::spawn().await;
    let (_, reference) = at_register_contact(&app).await;
    let university = app.org("Exempeluniversitetet").await;
    app.grant_membership("legal", "finance", "Region Uppsala")
        .await;
    let search = journey(
        "search",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"fill": {"label": "Sök på titel eller referens", "value": "h"}}),
                json!({"click": {"button": "Visa", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-q']"}),
                json!({"expect_selector": "#f-q-error"}),
                json!({"expect_selector": "#f-q[aria-describedby~='f-q-error'][value='h']"}),
                json!({"expect_text": "skriv minst 2 tecken att söka på"}),
                // Case does not matter (Unicode's rules: Ä and ä are one letter).
                json!({"fill": {"label": "Sök på titel eller referens", "value": "HJÄRTINFARKT"}}),
                json!({"click": {"button": "Visa", "exact": true}}),
                json!({"expect_url": "^/collaborations\\?q=HJ%C3%84RTINFARKT"}),
                json!({"expect_text": reference.clone()}),
                json!({"fill": {"label": "Sök på titel eller referens", "value": "ingen sådan titel"}}),
                json!({"click": {"button": "Visa", "exact": true}}),
                json!({"expect_text": "Inga samverkansprojekt matchar filtret."}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"fill": {"label": "Search by title or reference", "value": "x"}}),
                json!({"click": {"button": "Show", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-q']"}),
                json!({"expect_text": "type at least 2 characters to search for"}),
            ],
        ]),
    );
    let mut sign_in_legal = sign_in("legal");
    sign_in_legal[1] = json!({"click": {"button": "Logga in som Lars Jurist, CPUA:s juridiska funktion", "exact": true}});
    let role = journey(
        "role-english",
        steps(vec![
            sign_in_legal,
            vec![
                json!({"click": {"link": "English", "exact": true}}),
                json!({"goto": "/role"}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_text": "Choose a role"}),
                json!({"expect_text": "current role"}),
                json!({"expect_no_text": "Välj roll"}),
                json!({"click": {"button": "Work in this role: Finance, Region Uppsala", "exact": true}}),
                json!({"expect_selector": "header a[href='/role']:text-is('Finance')"}),
            ],
        ]),
    );
    let policy = journey(
        "signing-policy",
        steps(vec![
            sign_in("admin"),
            vec![
                json!({"goto": "/admin"}),
                json!({"expect_selector": "#f-expiry_days[value='30']"}),
                json!({"fill": {"label": "Dagar tills ett ej undertecknat kuvert går ut (1–365)", "value": "0"}}),
                json!({"click": {"button": "Spara", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary a[href='#f-expiry_days']"}),
                json!({"expect_selector": "#f-expiry_days[aria-describedby~='f-expiry_days-error'][value='0']"}),
                json!({"expect_text": "från 1 till 365"}),
                json!({"fill": {"label": "Dagar tills ett ej undertecknat kuvert går ut (1–365)", "value": "12"}}),
                json!({"click": {"button": "Spara", "exact": true}}),
                json!({"expect_url": "^/admin$"}),
                json!({"expect_selector": "#f-expiry_days[value='12']"}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"goto": "/admin/organisations"}),
                json!({"goto": "/admin/registers"}),
                json!({"goto": "/admin/people"}),
            ],
        ]),
    );
    // A later step of the intake with an error: no register chosen on step 3.
    let intake = journey(
        "intake-later-step-error",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": "/intake"}),
                json!({"fill": {"label": "Projektets namn", "value": "Ett projekt utan register"}}),
                json!({"fill": {"label": "Vad ska data användas till?", "value": "Att jämföra utfall."}}),
                tick("intake.purpose", "research"),
                tick("intake.is_research", "yes"),
                tick("intake.sector", "pharma"),
                json!({"click": {"button": "Nästa", "exact": true}}),
                json!({"select": {"label": "Forskningshuvudman", "value": university}}),
                json!({"click": {"button": "Nästa", "exact": true}}),
                json!({"expect_text": "Steg 3 av 7: Register"}),
                json!({"check": "Exempelregistret för hjärtintensivvård"}),
                json!({"click": {"button": "Nästa", "exact": true}}),
                tick("data_kind", "aggregated"),
                json!({"fill": {"label": "Vilka uppgifter (variabler) behövs?", "value": "alder"}}),
                tick("intake.company_receives", "aggregated"),
                tick("intake.principal_receives", "aggregated"),
                tick("intake.analysis_by", "register"),
                tick("intake.identity_numbers_requested:bool", "false"),
                json!({"click": {"button": "Nästa", "exact": true}}),
                json!({"expect_text": "Steg 5 av 7: Samkörning"}),
                json!({"click": {"button": "Nästa", "exact": true}}),
                json!({"expect_text": "Steg 6 av 7: Länder"}),
                // A country code that does not exist: 422 on step 6, at the field, what was typed kept.
                json!({"check": "Sverige"}),
                json!({"fill": {"label": "Andra länder", "value": "ZZ"}}),
                tick("intake.external_processor:bool", "false"),
                json!({"click": {"button": "Nästa", "exact": true}, "status": 422}),
                json!({"expect_text": "Steg 6 av 7: Länder"}),
                json!({"expect_selector": "#error-summary a[href='#f-_countries_other']"}),
                json!({"expect_selector": "#f-_countries_other[value='ZZ']"}),
                // The language switch is a form button here (it keeps the answers).
                json!({"click": {"button": "English", "exact": true}}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_text": "Step 6 of 7"}),
            ],
        ]),
    );
    let holder = journey(
        "feasibility-english",
        steps(vec![
            sign_in("register-holder"),
            vec![
                json!({"click": {"link": "English", "exact": true}}),
                json!({"goto": "/feasibility"}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_text": reference.clone()}),
                json!({"goto": "/todo"}),
                json!({"goto": "/undertakings"}),
            ],
        ]),
    );
    let errors = journey(
        "error-pages",
        steps(vec![
            sign_in("finance"),
            vec![
                json!({"goto": "/no-such-page", "status": 404}),
                json!({"expect_text": "Till startsidan"}),
                // Another role's page: 403, said in words.
                json!({"goto": "/admin/people", "status": 403}),
                json!({"expect_text": "Inte tillåtet"}),
                // A method the page does not take: 405.
                json!({"goto": "/sign-out", "status": 405}),
                // A form whose CSRF token is not the session's: 403, nothing done.
                json!({"goto": "/role"}),
                json!({"click": {"link": "English", "exact": true}}),
                json!({"goto": "/no-such-page", "status": 404}),
                json!({"expect_selector": "html[lang=en]"}),
                json!({"expect_text": "Not found"}),
                json!({"goto": "/collaborations"}),
                json!({"evaluate": "document.querySelectorAll('input[name=csrf_token]').forEach(i => { i.value = 'forged' })"}),
                json!({"click": {"button": "Sign out", "exact": true}, "status": 403}),
                json!({"goto": "/collaborations"}),
                json!({"expect_text": "Fia Ekonom"}),
            ],
        ]),
    );
    let report = run(
        &app,
        "audit_search_role_policy_errors",
        vec![search, role, policy, intake, holder, errors],
    )
    .await;
    assert_passed(&report);
    // The form set the policy.
    let admin = app.token("admin").await;
    let me = helpers::ok(app.get("/api/v1/me", &admin).await).await;
    let org = me["org"].as_str().expect("the admin's organisation");
    let v = helpers::ok(
        app.get(
            &format!("/api/v1/organisations/{org}/signing-policy"),
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(v["expiry_days"], 12, "{v}");
}

/// Issue 12, "Bad input": "a stale form (someone else changed the case) says so instead of
/// overwriting". The register holder opens the feasibility form; while it is open the company
/// records its ethics approval through the API (another person, another session); the holder's
/// submit answers 422 with the stale-form summary and records nothing; the page then shows the
/// latest state, and the same answer sent again is recorded. The agreement's HTML view (the case
/// page's "HTML" link) is checked too.
#[tokio::test]
async fn a_stale_form_says_so_and_the_agreement_html_view_passes_axe() {
    let app = TestApp::spawn().await;
    let (case, _) = at_register_contact(&app).await;
    let register = app.register("EX-HJARTA").await;
    let company = app.token("company").await;
    let change = format!(
        "fetch('/api/v1/collaborations/{case}/actions', {{method: 'POST', credentials: 'omit', \
         headers: {{'Authorization': 'Bearer {company}', 'Content-Type': 'application/json'}}, \
         body: JSON.stringify({{action: 'record_ethics_approval', reference: '2026-04321-01', decided_on: '2026-08-20'}})}})\
         .then(r => {{ if (!r.ok) throw new Error('the change through the API answered ' + r.status) }})"
    );
    let stale = journey(
        "stale-form",
        steps(vec![
            sign_in("register-holder"),
            vec![
                json!({"goto": format!("/collaborations/{case}")}),
                open_command("record_feasibility"),
                json!({"select": {"selector": "details#cmd-record_feasibility select[name=register]", "value": register}}),
                tick("feasible:bool", "true"),
                json!({"fill": {"label": "Kommentar", "value": "Går bra."}}),
                // Someone else changes the case while the form is open.
                json!({"evaluate": change}),
                json!({"click": {"button": "Svara om registret kan leverera", "exact": true}, "status": 422}),
                json!({"expect_selector": "#error-summary"}),
                json!({"expect_text": "Någon annan har ändrat ärendet sedan du öppnade sidan. Ingenting har sparats."}),
                // The page shows the latest state: the case's version after the company's change.
                json!({"expect_text": "· version 3"}),
                // The form is open again with what was typed; sent again from the page as it is
                // now, the answer is recorded.
                json!({"expect_selector": "details#cmd-record_feasibility[open] textarea:text-is('Går bra.')"}),
                json!({"click": {"button": "Svara om registret kan leverera", "exact": true}}),
                json!({"expect_text": "Klart: Svara om registret kan leverera"}),
            ],
        ]),
    );
    let agreements = two_agreement_versions(&app).await;
    let html = journey(
        "agreement-html",
        steps(vec![
            sign_in("company"),
            vec![
                json!({"goto": format!("/collaborations/{agreements}")}),
                json!({"click": {"link": "Visa Version 2", "exact": true}}),
                json!({"expect_url": format!("^/api/v1/collaborations/{agreements}/agreements/2\\.html$")}),
                json!({"expect_text": "Stockholms tingsrätt"}),
            ],
        ]),
    );
    let report = run(&app, "stale_form_and_agreement_html", vec![stale, html]).await;
    assert_passed(&report);
    let holder = app.token("register-holder").await;
    let v = app.view(&case, &holder).await;
    let f = v["collaboration"]["feasibility"]
        .as_array()
        .expect("feasibility answers");
    assert_eq!(f.len(), 1, "one answer, the second submit's: {v}");
}

/// Issue 12: "works at 200 % zoom". The main pages at a 640 px wide viewport drawn at two device
/// pixels per CSS pixel (a 1280 px window at 200 %): no horizontal scrolling, each page axe-checked.
#[tokio::test]
async fn the_main_pages_work_at_200_percent_zoom() {
    let app = TestApp::spawn().await;
    let (case, _) = at_register_contact(&app).await;
    let agreements = two_agreement_versions(&app).await;
    let fits = || json!({"expect_fits_width": true});
    let at = |path: String| vec![json!({"goto": path}), fits()];
    let company = zoom_journey(
        "zoom-company",
        steps(vec![
            vec![
                json!({"goto": "/sign-in"}),
                json!({"expect_zoom": 2}),
                fits(),
            ],
            sign_in("company"),
            vec![fits()],
            at(format!("/collaborations/{case}")),
            at("/intake".into()),
            at(format!("/collaborations/{agreements}/agreements")),
            at("/todo".into()),
            vec![json!({"click": {"link": "English", "exact": true}}), fits()],
            at(format!("/collaborations/{case}")),
        ]),
    );
    let legal = zoom_journey(
        "zoom-legal",
        steps(vec![
            sign_in("legal"),
            at("/queue".into()),
            at(format!("/collaborations/{case}")),
            at("/webhooks".into()),
        ]),
    );
    let holder = zoom_journey(
        "zoom-holder",
        steps(vec![
            sign_in("register-holder"),
            at("/feasibility".into()),
            at(format!("/collaborations/{case}")),
            vec![open_command("record_feasibility"), fits()],
        ]),
    );
    let finance = zoom_journey(
        "zoom-finance",
        steps(vec![
            sign_in("finance"),
            at("/finance".into()),
            at(format!("/finance/{case}")),
            at("/invoices".into()),
        ]),
    );
    let admin = zoom_journey(
        "zoom-admin",
        steps(vec![
            sign_in("admin"),
            at("/admin".into()),
            at("/admin/organisations".into()),
            at("/admin/registers".into()),
            at("/admin/people".into()),
        ]),
    );
    let report = run(
        &app,
        "zoom_200",
        vec![company, legal, holder, finance, admin],
    )
    .await;
    assert_passed(&report);
}

/// The test identity provider (npm `oidc-provider`, tests/support/oidc/provider.mjs, as
/// tests/oidc.rs starts it): killed by its PID when dropped.
struct Idp {
    child: std::process::Child,
    issuer: String,
    /// Held open: the provider may write to its standard output later.
    _out: std::io::BufReader<std::process::ChildStdout>,
}

impl Idp {
    fn start(redirect: &str) -> Idp {
        use std::io::BufRead;
        let dir = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new("node")
            .arg(format!("{dir}/tests/support/oidc/provider.mjs"))
            .current_dir(dir)
            .env("OIDC_REDIRECT_URI", redirect)
            .env("OIDC_CLIENT_SECRET", "test-secret")
            .env("OIDC_ACCOUNTS", "{}")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the identity provider (npm ci done?)");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line)
            .expect("the provider prints its issuer");
        let issuer = line.trim().to_string();
        assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer:?}");
        Idp {
            child,
            issuer,
            _out: out,
        }
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// The sign-in pages with an identity provider (issue 12, "Everyone: sign in / out"): the sign-in
/// page lists the provider; a person nobody invited goes through the provider's forms (not this
/// service's pages, so not axe-checked) and comes back to the page saying they are not invited
/// (403); a callback with an unknown state gets the refusal page (400); both in Swedish and
/// English on one page, axe-checked.
#[tokio::test]
async fn with_an_identity_provider_a_person_not_invited_is_told_so() {
    use samverkan::app::clock::Clock;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let base = format!("http://127.0.0.1:{port}");
    let redirect = format!("{base}/auth/callback");
    let idp = Idp::start(&redirect);
    const SECRET_ENV: &str = "SAMVERKAN_TEST_OIDC_SECRET";
    std::env::set_var(SECRET_ENV, "test-secret");
    let issuer = idp.issuer.clone();
    let app = TestApp::spawn_with(|s| {
        s.addr = format!("127.0.0.1:{port}");
        s.server.public_url = base.clone();
        s.auth.mode = samverkan::config::AuthMode::Oidc;
        s.auth.oidc.providers = vec![samverkan::config::OidcProviderSettings {
            name: "test".into(),
            issuer,
            client_id: "samverkan".into(),
            client_secret_env: SECRET_ENV.into(),
            redirect_url: redirect.clone(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            claims: Default::default(),
        }];
    })
    .await;
    // The provider signs with the real clock.
    let behind = chrono::Utc::now() - app.clock.now();
    app.clock.advance(behind);
    let stranger = journey(
        "not-invited",
        vec![
            json!({"goto": "/sign-in"}),
            json!({"expect_selector": "a[href^='/auth/login?provider=test']"}),
            json!({"click": {"selector": "a[href^='/auth/login?provider=test']"}, "third_party": true}),
            json!({"fill": {"selector": "input[name=login]", "value": "stranger@elsewhere.example"}, "third_party": true}),
            json!({"fill": {"selector": "input[name=password]", "value": "any"}, "third_party": true}),
            json!({"click": {"selector": "button[type=submit]"}, "third_party": true}),
            json!({"click": {"selector": "button[type=submit]"}, "status": 403}),
            json!({"expect_url": "^/auth/callback\\?"}),
            json!({"expect_text": "inte inbjuden"}),
            json!({"expect_text": "not been invited"}),
            json!({"goto": "/auth/callback?state=unknown&code=x", "status": 400}),
        ],
    );
    let report = run(&app, "oidc_not_invited", vec![stranger]).await;
    drop(idp);
    assert_passed(&report);
}
