//! Clause-by-clause comparison of two agreement documents (jämförelse mellan avtalsversioner).
use serde::Serialize;

use super::document::{block_text, Clause, ClauseKind, Document};

/// How a clause changed between two versions (ändringstyp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
    Unchanged,
}

/// One line of a changed clause's text (rad).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "text", rename_all = "snake_case")]
pub enum LineChange {
    Same(String),
    Removed(String),
    Added(String),
}

/// One clause in the comparison (klausulförändring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseChange {
    pub kind: ClauseKind,
    pub code: String,
    pub change: ChangeKind,
    /// Number and heading in the old version, when it has the clause.
    pub old_title: Option<String>,
    /// Number and heading in the new version, when it has the clause.
    pub new_title: Option<String>,
    /// Line-by-line changes of the clause text (empty when unchanged).
    pub lines: Vec<LineChange>,
}

/// The comparison of two versions (versionsjämförelse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentDiff {
    pub old_version: u32,
    pub new_version: u32,
    pub changes: Vec<ClauseChange>,
}

impl DocumentDiff {
    /// Only the clauses that differ.
    pub fn differences(&self) -> impl Iterator<Item = &ClauseChange> {
        self.changes
            .iter()
            .filter(|c| c.change != ChangeKind::Unchanged)
    }
}

fn clause_lines(c: &Clause) -> Vec<String> {
    let mut out = String::new();
    for b in &c.blocks {
        block_text(b, &mut out);
    }
    out.lines().map(str::to_string).collect()
}

fn title(c: &Clause) -> String {
    format!("{} {}", c.number, c.heading)
}

/// Longest-common-subsequence line diff; clauses are short, so O(n·m) is fine.
pub fn diff_lines(old: &[String], new: &[String]) -> Vec<LineChange> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if old[i] == new[j] {
            out.push(LineChange::Same(old[i].clone()));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(LineChange::Removed(old[i].clone()));
            i += 1;
        } else {
            out.push(LineChange::Added(new[j].clone()));
            j += 1;
        }
    }
    out.extend(old[i..].iter().cloned().map(LineChange::Removed));
    out.extend(new[j..].iter().cloned().map(LineChange::Added));
    out
}

/// Compares two documents clause by clause, matching clauses by kind and code. The order is the new
/// document's, with removed clauses placed after their old predecessor.
pub fn diff(old: &Document, new: &Document) -> DocumentDiff {
    let mut changes = Vec::new();
    let old_clauses: Vec<&Clause> = old.clauses().collect();
    let new_clauses: Vec<&Clause> = new.clauses().collect();
    let find = |list: &[&Clause], c: &Clause| -> Option<usize> {
        list.iter()
            .position(|o| o.kind == c.kind && o.code == c.code)
    };
    let mut emitted_old = vec![false; old_clauses.len()];
    for nc in &new_clauses {
        match find(&old_clauses, nc) {
            Some(idx) => {
                // Removed clauses that came before this one in the old version.
                for (k, oc) in old_clauses.iter().enumerate().take(idx) {
                    if !emitted_old[k] && find(&new_clauses, oc).is_none() {
                        emitted_old[k] = true;
                        changes.push(removed(oc));
                    }
                }
                emitted_old[idx] = true;
                let oc = old_clauses[idx];
                let (ol, nl) = (clause_lines(oc), clause_lines(nc));
                let same = ol == nl && oc.heading == nc.heading;
                changes.push(ClauseChange {
                    kind: nc.kind,
                    code: nc.code.clone(),
                    change: if same {
                        ChangeKind::Unchanged
                    } else {
                        ChangeKind::Changed
                    },
                    old_title: Some(title(oc)),
                    new_title: Some(title(nc)),
                    lines: if same {
                        Vec::new()
                    } else {
                        diff_lines(&ol, &nl)
                    },
                });
            }
            None => changes.push(ClauseChange {
                kind: nc.kind,
                code: nc.code.clone(),
                change: ChangeKind::Added,
                old_title: None,
                new_title: Some(title(nc)),
                lines: clause_lines(nc)
                    .into_iter()
                    .map(LineChange::Added)
                    .collect(),
            }),
        }
    }
    for (k, oc) in old_clauses.iter().enumerate() {
        if !emitted_old[k] {
            changes.push(removed(oc));
        }
    }
    DocumentDiff {
        old_version: old.meta.version,
        new_version: new.meta.version,
        changes,
    }
}

fn removed(oc: &Clause) -> ClauseChange {
    ClauseChange {
        kind: oc.kind,
        code: oc.code.clone(),
        change: ChangeKind::Removed,
        old_title: Some(title(oc)),
        new_title: None,
        lines: clause_lines(oc)
            .into_iter()
            .map(LineChange::Removed)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::agreement::document::DocumentMeta;
    use crate::domain::agreement::markup::parse;
    use crate::domain::lang::Lang;

    fn doc(src: &str, version: u32) -> Document {
        let meta = DocumentMeta {
            agreement_number: "A".into(),
            version,
            lang: Lang::Sv,
            template: "t".into(),
        };
        parse(src, meta).unwrap()
    }

    #[test]
    fn finds_added_removed_and_changed_clauses() {
        let a = doc("# T\n§ a: A\nett\n§ b: B\ntvå\n§ c: C\ntre\n", 1);
        let b = doc("# T\n§ a: A\nett\n§ c: C\ntre ändrad\n§ d: D\nfyra\n", 2);
        let d = diff(&a, &b);
        let kinds: Vec<(&str, ChangeKind)> = d
            .changes
            .iter()
            .map(|c| (c.code.as_str(), c.change))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("a", ChangeKind::Unchanged),
                ("b", ChangeKind::Removed),
                ("c", ChangeKind::Changed),
                ("d", ChangeKind::Added)
            ]
        );
        assert_eq!(
            d.changes[2].lines,
            vec![
                LineChange::Removed("tre".into()),
                LineChange::Added("tre ändrad".into())
            ]
        );
    }
}
