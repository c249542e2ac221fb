//! Rulebook files on disk: loading a directory of versions, `check` and `diff` for the CLI
//! (`samverkan rulebook check FILE`, `samverkan rulebook diff OLD NEW`). The rules themselves live in
//! [`crate::domain::classification`]; this module only reads files.
use crate::domain::classification::{
    classify_core, CheckReport, CollaborationType, Facts, ObligationCode, RegisterInfo, Rulebook,
    RulebookError, RulebookSet,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

fn io_error(path: &Path, e: std::io::Error) -> Vec<RulebookError> {
    vec![RulebookError {
        file: path.display().to_string(),
        line: 0,
        message: format!("cannot read: {e}"),
    }]
}

/// Reads and checks one rulebook file.
pub fn load_file(path: &Path) -> Result<Rulebook, Vec<RulebookError>> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    Rulebook::parse(&path.display().to_string(), &text)
}

/// `samverkan rulebook check FILE`: the report of a sound rulebook, or every error as `file:line: reason`.
pub fn check_file(path: &Path) -> Result<CheckReport, Vec<RulebookError>> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    Rulebook::parse_with_report(&path.display().to_string(), &text).map(|(_, r)| r)
}

/// Loads every `*.toml` file of a directory (one version each). Any error in any file fails the whole
/// load, so the server never runs with a half-loaded rulebook.
pub fn load_dir(path: &Path) -> Result<RulebookSet, Vec<RulebookError>> {
    let entries = std::fs::read_dir(path).map_err(|e| io_error(path, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(path, e))?;
        let p = entry.path();
        if p.extension().is_some_and(|x| x == "toml") {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(vec![RulebookError {
            file: path.display().to_string(),
            line: 0,
            message: "no rulebook (*.toml) in this directory".into(),
        }]);
    }
    let mut books = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match load_file(f) {
            Ok(b) => books.push(b),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    RulebookSet::new(books)
}

/// The shipped rulebook versions, compiled into the binary so it starts from any folder; a
/// `rulebook/` folder in the configuration folder replaces them as a whole. A test checks that
/// every `config/rulebook/*.toml` is listed here.
pub const EMBEDDED: &[(&str, &str)] = &[(
    "2026-07-01.toml",
    include_str!("../config/rulebook/2026-07-01.toml"),
)];

/// The embedded rulebook versions, checked like files on disk (errors name `embedded:<file>`).
pub fn load_embedded() -> Result<RulebookSet, Vec<RulebookError>> {
    let mut books = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in EMBEDDED {
        match Rulebook::parse(&format!("embedded:config/rulebook/{name}"), text) {
            Ok(b) => books.push(b),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    RulebookSet::new(books)
}

/// A stored collaboration to try a rulebook against: its id, intake facts and resolved registers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub facts: Facts,
    #[serde(default)]
    pub registers: Vec<RegisterInfo>,
}

/// How a case's classification changes from the old rulebook to the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseChange {
    pub case_id: String,
    /// `None` = unclassified.
    pub type_old: Option<CollaborationType>,
    pub type_new: Option<CollaborationType>,
    pub obligations_added: Vec<ObligationCode>,
    pub obligations_removed: Vec<ObligationCode>,
}

impl CaseChange {
    pub fn type_changed(&self) -> bool {
        self.type_old != self.type_new
    }
}

/// `samverkan rulebook diff OLD NEW`: the cases whose type or obligations would change.
pub fn diff(old: &Rulebook, new: &Rulebook, cases: &[Case]) -> Vec<CaseChange> {
    let mut out = Vec::new();
    for case in cases {
        let a = classify_core(old, &case.facts, &case.registers);
        let b = classify_core(new, &case.facts, &case.registers);
        let (oa, ob) = (a.obligation_codes(), b.obligation_codes());
        let added: Vec<ObligationCode> = ob.iter().copied().filter(|c| !oa.contains(c)).collect();
        let removed: Vec<ObligationCode> = oa.iter().copied().filter(|c| !ob.contains(c)).collect();
        let (ta, tb) = (
            a.outcome.collaboration_type(),
            b.outcome.collaboration_type(),
        );
        if ta != tb || !added.is_empty() || !removed.is_empty() {
            out.push(CaseChange {
                case_id: case.id.clone(),
                type_old: ta,
                type_new: tb,
                obligations_added: added,
                obligations_removed: removed,
            });
        }
    }
    out
}

#[cfg(test)]
mod embedded_tests {
    use super::*;

    #[test]
    fn every_shipped_rulebook_file_is_embedded_byte_for_byte() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rulebook");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            on_disk, embedded,
            "add the new version to rulebook::EMBEDDED"
        );
        for (name, text) in EMBEDDED {
            assert_eq!(std::fs::read_to_string(dir.join(name)).unwrap(), *text);
        }
    }

    #[test]
    fn the_embedded_rulebooks_load() {
        assert!(load_embedded().is_ok());
    }
}
