//! Peppol BIS Billing 3.0 validation for tests (issue 15, item 7): runs
//! `scripts/peppol-validate.py` (the EN 16931 and Peppol BIS 3 schematron of `shared/peppol-rules/`,
//! compiled to XSLT and run with saxonche) on UBL text. The ledger's tests use it too:
//! `#[path = "../support/peppol.rs"] mod peppol;` then `peppol::assert_peppol_valid(&xml)`.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that has saxonche and lxml: `PEPPOL_TEST_PYTHON` or `SMTP_TEST_PYTHON`, else the
/// venv `.ci/run` makes (`~/.cache/samverkan-smtp-venv`).
pub fn python() -> PathBuf {
    for var in ["PEPPOL_TEST_PYTHON", "SMTP_TEST_PYTHON"] {
        if let Ok(p) = std::env::var(var) {
            return p.into();
        }
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let venv = Path::new(&home).join(".cache/samverkan-smtp-venv/bin/python");
    assert!(
        venv.exists(),
        "the Peppol tests need saxonche and lxml: run .ci/run, or `~/.cache/samverkan-smtp-venv/bin/pip install saxonche==13.1.1 lxml==6.1.3`, or set SMTP_TEST_PYTHON"
    );
    venv
}

/// Where the compiled rules are cached: `peppol/` in the cargo target directory this test binary
/// was built in (`<target>/debug/deps/<binary>`), so they are compiled once per machine.
fn cache_dir() -> PathBuf {
    if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
        return Path::new(&t).join("peppol");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("peppol")
}

/// The validator's outcome for some documents.
pub struct Outcome {
    /// True when no document has a fatal failed assert.
    pub valid: bool,
    /// The validator's report: per file OK/FAIL and every failed assert with its rule id.
    pub report: String,
}

impl Outcome {
    /// The ids of the rules that failed with flag="fatal".
    pub fn fatal_rules(&self) -> Vec<String> {
        self.report
            .lines()
            .filter_map(|l| l.trim().strip_prefix("FATAL "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }
}

/// Validates the named UBL documents in one run of the validator.
pub fn validate_all(docs: &[(&str, &str)]) -> Outcome {
    let dir = tempfile_dir();
    let mut files = Vec::new();
    for (name, xml) in docs {
        let p = dir.join(format!("{name}.xml"));
        std::fs::write(&p, xml).expect("write the UBL file");
        files.push(p);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/peppol-validate.py");
    let out = Command::new(python())
        .arg(&script)
        .arg("--cache")
        .arg(cache_dir())
        .args(&files)
        .output()
        .expect("run scripts/peppol-validate.py");
    let _ = std::fs::remove_dir_all(&dir);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Outcome {
            valid: true,
            report,
        },
        Some(1) => Outcome {
            valid: false,
            report,
        },
        _ => panic!("the Peppol validator could not run:\n{report}"),
    }
}

/// Panics, listing the failed rules, unless `xml` passes the EN 16931 and Peppol BIS 3 rules with
/// no fatal error.
pub fn assert_peppol_valid(xml: &str) {
    let o = validate_all(&[("document", xml)]);
    assert!(o.valid, "not valid Peppol BIS 3:\n{}\n{xml}", o.report);
}

fn tempfile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "peppol-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("a temporary folder");
    d
}
