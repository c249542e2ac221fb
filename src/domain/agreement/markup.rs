//! The block markup that contract templates emit (avtalsmarkup), parsed into the document model.
//!
//! Templates are written by lawyers, so the markup is a handful of line prefixes (documented with
//! examples in `contract-templates/README.md`):
//!
//! ```text
//! # Title                      the document title
//! ## Heading                   an unnumbered section heading (closes the current clause)
//! ### Sub-heading              a heading inside the current clause or appendix
//! § code: Heading              a numbered clause carrying its code (1, 2, 3 …)
//! + text                       a numbered sub-clause (1.1, 1.2 …)
//! - text                       a list item; consecutive items form one list
//! | a | b | c |                a table row; a row of dashes `|---|---|` after the first row makes it a header
//! @appendix code: Title        a numbered appendix carrying its code
//! @sign Role | Party | Name | Title   a signature block; consecutive ones are grouped
//! @pagebreak                   a page break
//! plain text                   a paragraph; lines join until a blank line or a prefixed line
//! [[clause_code: sentence]]    inside a `+ ` line: a sentence a rule requires (a deviation may not drop it)
//! ```
//!
//! Values from the data are escaped by [`escape`] before they reach the markup: `\\`, `|`, `{` and `}`
//! always get a backslash, and so does a leading `#`, `§`, `+`, `-` or `@`, so data can never create a
//! heading, a clause, a table cell or a left-over `{{`.
//! `\` + character is that character literally; `\n` is a hard line break (from a newline in a value).
use super::document::{Block, Clause, ClauseKind, Document, DocumentMeta, RequiredText, Signature};
use crate::domain::classification::ClauseCode;

/// Characters escaped wherever they occur in a value.
const ALWAYS: &[char] = &['\\', '|', '{', '}', '[', ']'];
/// Characters escaped when they start a value (they start directives at the beginning of a line).
const LEADING: &[char] = &['#', '§', '+', '-', '@'];

/// Escapes a value for the markup (the Handlebars escape function).
pub fn escape(value: &str) -> String {
    let value = value.trim();
    let mut out = String::with_capacity(value.len() + 8);
    for (i, ch) in value.chars().enumerate() {
        if ch == '\n' {
            out.push_str("\\n");
        } else if ch == '\r' {
            continue;
        } else if ALWAYS.contains(&ch) || (i == 0 && LEADING.contains(&ch)) {
            out.push('\\');
            out.push(ch);
        } else if ch.is_control() {
            out.push(' ');
        } else {
            out.push(ch);
        }
    }
    out
}

/// Resolves escapes in one piece of text: `\x` → `x`, `\n` → newline.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits on an unescaped separator, keeping escapes for `unescape`.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Takes the `[[clause_code: sentence]]` marks out of a (still escaped) sub-clause line: the text
/// without the marks, and each marked sentence with its code. A mark a value wrote is escaped and so
/// never seen here.
fn required_marks(line: &str, line_no: usize) -> Result<(String, Vec<RequiredText>), MarkupError> {
    let err = |reason: String| MarkupError {
        line: line_no,
        reason,
    };
    let mut text = String::with_capacity(line.len());
    let mut marks = Vec::new();
    let mut rest = line;
    loop {
        let Some(open) = find_unescaped(rest, "[[") else {
            text.push_str(rest);
            break;
        };
        text.push_str(&rest[..open]);
        let inner_start = open + 2;
        let Some(close) = find_unescaped(&rest[inner_start..], "]]") else {
            return Err(err("`[[` without a closing `]]`".into()));
        };
        let inner = &rest[inner_start..inner_start + close];
        let Some((code, sentence)) = inner.split_once(':') else {
            return Err(err("expected `[[clause_code: sentence]]`".into()));
        };
        let code = code.trim();
        if ClauseCode::parse(code).is_none() {
            return Err(err(format!(
                "`{code}` in `[[{code}: …]]` is not a clause code of the rulebook"
            )));
        }
        let sentence = sentence.trim();
        text.push_str(sentence);
        marks.push(RequiredText {
            clause: code.to_string(),
            text: unescape(sentence),
        });
        rest = &rest[inner_start + close + 2..];
    }
    Ok((unescape(&text), marks))
}

/// The byte offset of the first unescaped occurrence of `pat`.
fn find_unescaped(s: &str, pat: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if s[i..].starts_with(pat) {
            return Some(i);
        }
    }
    None
}

/// A markup error with the line of the rendered markup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("markup line {line}: {reason}")]
pub struct MarkupError {
    pub line: usize,
    pub reason: String,
}

struct Parser {
    title: Option<String>,
    top: Vec<Block>,
    clause: Option<Clause>,
    para: Option<String>,
    clause_no: u32,
    sub_no: u32,
    appendix_no: u32,
}

impl Parser {
    fn target(&mut self) -> &mut Vec<Block> {
        match &mut self.clause {
            Some(c) => &mut c.blocks,
            None => &mut self.top,
        }
    }

    fn flush_para(&mut self) {
        if let Some(p) = self.para.take() {
            let text = unescape(&p);
            self.target().push(Block::Paragraph { text });
        }
    }

    fn close_clause(&mut self) {
        self.flush_para();
        if let Some(c) = self.clause.take() {
            self.top.push(Block::Clause(c));
        }
    }

    fn push(&mut self, block: Block) {
        self.flush_para();
        let target = self.target();
        match (target.last_mut(), block) {
            (Some(Block::List { items }), Block::List { items: more }) => items.extend(more),
            (Some(Block::Signatures { signatures }), Block::Signatures { signatures: more }) => {
                signatures.extend(more)
            }
            (_, block) => target.push(block),
        }
    }
}

fn code_and_heading(rest: &str, line: usize) -> Result<(String, String), MarkupError> {
    let Some((code, heading)) = rest.split_once(':') else {
        return Err(MarkupError {
            line,
            reason: "expected `code: Heading`".into(),
        });
    };
    let code = code.trim();
    if code.is_empty()
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(MarkupError {
            line,
            reason: format!("clause code `{code}` must be lower-case letters, digits and `_`"),
        });
    }
    Ok((code.to_string(), unescape(heading.trim())))
}

fn is_separator_row(cells: &[String]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
}

/// Parses rendered markup into a document. Fails on the first malformed line, or on a `{{` left over.
pub fn parse(markup: &str, meta: DocumentMeta) -> Result<Document, MarkupError> {
    let mut p = Parser {
        title: None,
        top: Vec::new(),
        clause: None,
        para: None,
        clause_no: 0,
        sub_no: 0,
        appendix_no: 0,
    };
    let mut table: Option<(usize, Vec<Vec<String>>, bool)> = None;
    for (i, raw) in markup.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.contains("{{") || line.contains("}}") {
            return Err(MarkupError {
                line: line_no,
                reason: "a `{{` or `}}` was left in the output".into(),
            });
        }
        // Tables: gather consecutive rows.
        if let Some(rest) = line.strip_prefix('|') {
            p.flush_para();
            let rest = rest
                .strip_suffix('|')
                .filter(|r| !r.ends_with('\\'))
                .unwrap_or(rest);
            let cells: Vec<String> = split_unescaped(rest, '|')
                .into_iter()
                .map(|c| c.trim().to_string())
                .collect();
            let entry = table.get_or_insert((line_no, Vec::new(), false));
            if entry.1.len() == 1 && !entry.2 && is_separator_row(&cells) {
                entry.2 = true;
                continue;
            }
            if let Some(first) = entry.1.first() {
                if first.len() != cells.len() {
                    return Err(MarkupError {
                        line: line_no,
                        reason: format!(
                            "table row has {} cells, the first row has {}",
                            cells.len(),
                            first.len()
                        ),
                    });
                }
            }
            entry.1.push(cells);
            continue;
        }
        if let Some((_, rows, header)) = table.take() {
            let rows = rows
                .into_iter()
                .map(|r| r.iter().map(|c| unescape(c)).collect())
                .collect();
            p.push(Block::Table { header, rows });
        }
        if line.is_empty() {
            p.flush_para();
        } else if let Some(rest) = line.strip_prefix("### ") {
            p.push(Block::Heading {
                level: 2,
                text: unescape(rest.trim()),
            });
        } else if let Some(rest) = line.strip_prefix("## ") {
            p.close_clause();
            p.top.push(Block::Heading {
                level: 1,
                text: unescape(rest.trim()),
            });
        } else if let Some(rest) = line.strip_prefix("# ") {
            if p.title.is_some() {
                return Err(MarkupError {
                    line: line_no,
                    reason: "a second title (`# `); use `## ` for a heading".into(),
                });
            }
            p.flush_para();
            p.title = Some(unescape(rest.trim()));
        } else if let Some(rest) = line.strip_prefix('§') {
            p.close_clause();
            let (code, heading) = code_and_heading(rest, line_no)?;
            p.clause_no += 1;
            p.sub_no = 0;
            p.clause = Some(Clause {
                kind: ClauseKind::Clause,
                code,
                number: p.clause_no,
                heading,
                blocks: Vec::new(),
                deviation: None,
            });
        } else if let Some(rest) = line.strip_prefix("+ ") {
            let Some(number) = p
                .clause
                .as_ref()
                .filter(|c| c.kind == ClauseKind::Clause)
                .map(|c| c.number)
            else {
                return Err(MarkupError {
                    line: line_no,
                    reason: "a sub-clause (`+ `) outside a clause (`§ code: Heading`)".into(),
                });
            };
            p.sub_no += 1;
            let sub = p.sub_no;
            let (text, required) = required_marks(rest.trim(), line_no)?;
            p.push(Block::SubClause {
                number: format!("{number}.{sub}"),
                text,
                required,
            });
        } else if let Some(rest) = line.strip_prefix("- ") {
            p.push(Block::List {
                items: vec![unescape(rest.trim())],
            });
        } else if let Some(rest) = line.strip_prefix('@') {
            let (word, args) = rest.split_once(' ').unwrap_or((rest, ""));
            match word {
                "appendix" => {
                    p.close_clause();
                    let (code, heading) = code_and_heading(args, line_no)?;
                    p.appendix_no += 1;
                    p.clause = Some(Clause {
                        kind: ClauseKind::Appendix,
                        code,
                        number: p.appendix_no,
                        heading,
                        blocks: Vec::new(),
                        deviation: None,
                    });
                }
                "sign" => {
                    let parts: Vec<String> = split_unescaped(args, '|')
                        .into_iter()
                        .map(|s| unescape(s.trim()))
                        .collect();
                    let [role, party, name, title] = parts.as_slice() else {
                        return Err(MarkupError {
                            line: line_no,
                            reason: "`@sign` needs `Role | Party | Name | Title`".into(),
                        });
                    };
                    p.push(Block::Signatures {
                        signatures: vec![Signature {
                            role: role.clone(),
                            party: party.clone(),
                            name: name.clone(),
                            title: title.clone(),
                        }],
                    });
                }
                "pagebreak" => p.push(Block::PageBreak),
                other => {
                    return Err(MarkupError {
                        line: line_no,
                        reason: format!("unknown directive `@{other}`"),
                    })
                }
            }
        } else {
            if find_unescaped(line, "[[").is_some() {
                return Err(MarkupError {
                    line: line_no,
                    reason: "a required sentence (`[[code: …]]`) belongs in a sub-clause (`+ `)"
                        .into(),
                });
            }
            match &mut p.para {
                Some(text) => {
                    text.push(' ');
                    text.push_str(line);
                }
                None => p.para = Some(line.to_string()),
            }
        }
    }
    if let Some((_, rows, header)) = table.take() {
        let rows = rows
            .into_iter()
            .map(|r| r.iter().map(|c| unescape(c)).collect())
            .collect();
        p.push(Block::Table { header, rows });
    }
    p.close_clause();
    let Some(title) = p.title else {
        return Err(MarkupError {
            line: 1,
            reason: "the document has no title (`# Title`)".into(),
        });
    };
    Ok(Document {
        meta,
        title,
        blocks: p.top,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lang::Lang;

    fn meta() -> DocumentMeta {
        DocumentMeta {
            agreement_number: "A-1".into(),
            version: 1,
            lang: Lang::Sv,
            template: "test".into(),
        }
    }

    #[test]
    fn parses_clauses_lists_tables_and_signatures() {
        let src = "# Avtal\nIntro\nfortsätter\n\n§ parties: Parter\n+ Första\n+ Andra\n- a\n- b\n| A | B |\n|---|---|\n| 1 | 2 |\n@appendix plan: Plan\nText\n@sign För X | X AB | Anna | VD\n@sign För Y | Y | Bo | Chef\n";
        let doc = parse(src, meta()).unwrap();
        assert_eq!(doc.title, "Avtal");
        assert_eq!(
            doc.blocks[0],
            Block::Paragraph {
                text: "Intro fortsätter".into()
            }
        );
        let c = doc.clause("parties").unwrap();
        assert_eq!(c.number, 1);
        assert_eq!(
            c.blocks[1],
            Block::SubClause {
                number: "1.2".into(),
                text: "Andra".into(),
                required: vec![]
            }
        );
        assert_eq!(
            c.blocks[2],
            Block::List {
                items: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(
            c.blocks[3],
            Block::Table {
                header: true,
                rows: vec![vec!["A".into(), "B".into()], vec!["1".into(), "2".into()]]
            }
        );
        let a = doc.clause("plan").unwrap();
        assert_eq!(a.kind, ClauseKind::Appendix);
        assert!(matches!(&a.blocks[1], Block::Signatures { signatures } if signatures.len() == 2));
    }

    #[test]
    fn escaped_values_never_become_markup() {
        let evil = "§ x: Fake\n| cell | cell\n# Title\n{{name}} <b>&";
        let src = format!("# T\n{}\n| {} | ok |\n", escape(evil), escape("a|b"));
        let doc = parse(&src, meta()).unwrap();
        assert_eq!(doc.clauses().count(), 0);
        assert_eq!(doc.blocks[0], Block::Paragraph { text: evil.into() });
        assert_eq!(
            doc.blocks[1],
            Block::Table {
                header: false,
                rows: vec![vec!["a|b".into(), "ok".into()]]
            }
        );
    }

    #[test]
    fn leftover_braces_fail_with_the_line() {
        let err = parse("# T\n\nHej {{name}}\n", meta()).unwrap_err();
        assert_eq!(err.line, 3);
    }

    #[test]
    fn required_sentences_are_marked_and_values_cannot_fake_a_mark() {
        let value = escape("[[publication: falskt]]");
        let src = format!(
            "# T\n§ publication: P\n+ Först. [[publication: Identiteter röjs inte.]] {value}\n"
        );
        let doc = parse(&src, meta()).unwrap();
        let Block::SubClause { text, required, .. } = &doc.clause("publication").unwrap().blocks[0]
        else {
            panic!("a sub-clause")
        };
        assert_eq!(
            text,
            "Först. Identiteter röjs inte. [[publication: falskt]]"
        );
        assert_eq!(
            required,
            &vec![RequiredText {
                clause: "publication".into(),
                text: "Identiteter röjs inte.".into()
            }]
        );
        assert!(parse("# T\n§ a: A\n+ [[no_such_code: x]]\n", meta()).is_err());
        assert!(parse("# T\n§ a: A\n+ [[publication: x\n", meta()).is_err());
        assert!(parse("# T\n§ a: A\nStycke [[publication: x]]\n", meta()).is_err());
    }

    #[test]
    fn unknown_directive_fails() {
        assert!(parse("# T\n@bogus\n", meta()).is_err());
    }
}
