//! HTML renderer (granskningssida): one standalone page with inline CSS and no external resources.
//! Every text from the document goes through [`esc`]; deviations are highlighted with their reason.
use std::fmt::Write;

use crate::domain::agreement::diff::{ChangeKind, DocumentDiff, LineChange};
use crate::domain::agreement::document::{as_plain, Block, Clause, ClauseKind, Document, Labels};
use crate::domain::lang::Lang;

pub const STYLE: &str = "body{font-family:Georgia,'Times New Roman',serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
header.doc{border-bottom:1px solid #999;font:0.85rem sans-serif;color:#555;padding-bottom:.3rem;margin-bottom:1.5rem}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:1.8rem}h3{font-size:1.05rem}\
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eee}\
.sub{margin:.3rem 0 .3rem 2.5rem;text-indent:-2.5rem}.sub .no{display:inline-block;width:2.5rem;text-indent:0}\
.deviation{background:#fff6d5;border-left:4px solid #e0a800;padding:.2rem .8rem;margin:.5rem 0}\
.deviation .note{font:0.85rem sans-serif;color:#7a5c00}.deviation .original{color:#555;font-style:italic;border-top:1px dashed #e0a800}\
.signatures{display:flex;flex-wrap:wrap;gap:2rem;margin-top:1rem}.sig{flex:1 1 12rem}.sig .line{border-bottom:1px solid #000;height:2.5rem;margin:.3rem 0}.sig small{display:block;color:#555}\
.appendix{border-top:2px solid #333;margin-top:2.5rem}\
.added{background:#e6ffec}.removed{background:#ffebe9;text-decoration:line-through}.changed{background:#fff6d5}\
.diffline{font-family:sans-serif;font-size:.9rem;white-space:pre-wrap;margin:0;padding:.1rem .4rem}\
@media print{.pagebreak{page-break-after:always} }";

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escaped text with `\n` as `<br>`.
fn text(s: &str) -> String {
    esc(s).replace('\n', "<br>")
}

fn page_start(out: &mut String, lang: Lang, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        lang.code(),
        esc(title)
    );
}

fn blocks(out: &mut String, blocks: &[Block], labels: &Labels) {
    for b in blocks {
        block(out, b, labels);
    }
}

fn block(out: &mut String, b: &Block, labels: &Labels) {
    match b {
        Block::Heading { level, text: t } => {
            let h = if *level <= 1 { "h2" } else { "h3" };
            let _ = writeln!(out, "<{h}>{}</{h}>", text(t));
        }
        Block::Paragraph { text: t } => {
            let _ = writeln!(out, "<p>{}</p>", text(t));
        }
        Block::Deviated {
            reason,
            blocks: agreed,
            original,
            ..
        } => {
            let _ = writeln!(
                out,
                "<div class=\"deviation\">\n<p class=\"note\">{}. {}: {}</p>",
                esc(labels.deviation),
                esc(labels.reason),
                text(reason)
            );
            blocks(out, agreed, labels);
            let _ = writeln!(
                out,
                "<div class=\"original\"><p class=\"note\">{}:</p>",
                esc(labels.template_text)
            );
            let plain: Vec<Block> = original.iter().map(as_plain).collect();
            blocks(out, &plain, labels);
            out.push_str("</div>\n</div>\n");
        }
        Block::SubClause {
            number, text: t, ..
        } => {
            let _ = writeln!(
                out,
                "<p class=\"sub\"><span class=\"no\">{}</span>{}</p>",
                esc(number),
                text(t)
            );
        }
        Block::List { items } => {
            out.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(out, "<li>{}</li>", text(i));
            }
            out.push_str("</ul>\n");
        }
        Block::Table { header, rows } => {
            out.push_str("<table>\n");
            for (i, row) in rows.iter().enumerate() {
                let cell = if *header && i == 0 { "th" } else { "td" };
                out.push_str("<tr>");
                for c in row {
                    let _ = write!(out, "<{cell}>{}</{cell}>", text(c));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
        Block::Signatures { signatures } => {
            out.push_str("<div class=\"signatures\">\n");
            for s in signatures {
                let _ = writeln!(
                    out,
                    "<div class=\"sig\"><strong>{}</strong><br>{}<small>{}</small><div class=\"line\"></div><small>{}</small><div class=\"line\"></div>{}<br>{}</div>",
                    esc(&s.role),
                    esc(&s.party),
                    esc(labels.place_date),
                    esc(labels.signature),
                    esc(&s.name),
                    esc(&s.title)
                );
            }
            out.push_str("</div>\n");
        }
        Block::PageBreak => out.push_str("<div class=\"pagebreak\"></div>\n"),
        Block::Clause(c) => clause(out, c, labels),
    }
}

fn clause_title(c: &Clause, labels: &Labels) -> String {
    match c.kind {
        ClauseKind::Clause => format!("{}. {}", c.number, c.heading),
        ClauseKind::Appendix => format!("{} {}: {}", labels.appendix, c.number, c.heading),
    }
}

fn clause(out: &mut String, c: &Clause, labels: &Labels) {
    let class = match c.kind {
        ClauseKind::Clause => "clause",
        ClauseKind::Appendix => "clause appendix",
    };
    let _ = writeln!(
        out,
        "<section class=\"{class}\" id=\"{}\" data-code=\"{}\">\n<h2>{}</h2>",
        esc(&c.code),
        esc(&c.code),
        text(&clause_title(c, labels))
    );
    match &c.deviation {
        Some(d) => {
            let _ = writeln!(
                out,
                "<div class=\"deviation\">\n<p class=\"note\">{}. {}: {}</p>",
                esc(labels.deviation),
                esc(labels.reason),
                text(&d.reason)
            );
            blocks(out, &c.blocks, labels);
            let _ = writeln!(
                out,
                "<details class=\"note\"><summary>{}</summary>",
                esc(labels.template_text)
            );
            blocks(out, &d.original, labels);
            out.push_str("</details>\n</div>\n");
        }
        None => blocks(out, &c.blocks, labels),
    }
    out.push_str("</section>\n");
}

/// The review page of an agreement.
pub fn render(doc: &Document) -> String {
    let labels = Labels::for_lang(doc.meta.lang);
    let mut out = String::with_capacity(32 * 1024);
    page_start(&mut out, doc.meta.lang, &doc.title);
    let _ = writeln!(
        out,
        "<header class=\"doc\">{}</header>",
        esc(&doc.header_text())
    );
    let _ = writeln!(out, "<h1>{}</h1>", text(&doc.title));
    blocks(&mut out, &doc.blocks, labels);
    out.push_str("</body>\n</html>\n");
    out
}

/// The clause-by-clause comparison of two versions as a page.
pub fn render_diff(diff: &DocumentDiff, lang: Lang) -> String {
    let (title, added, removed, changed, unchanged, none) = match lang {
        Lang::Sv => (
            format!(
                "Jämförelse av version {} och {}",
                diff.old_version, diff.new_version
            ),
            "Tillagd",
            "Borttagen",
            "Ändrad",
            "oförändrade punkter",
            "Inga skillnader.",
        ),
        Lang::En => (
            format!(
                "Comparison of version {} and {}",
                diff.old_version, diff.new_version
            ),
            "Added",
            "Removed",
            "Changed",
            "unchanged clauses",
            "No differences.",
        ),
    };
    let mut out = String::with_capacity(16 * 1024);
    page_start(&mut out, lang, &title);
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    let unchanged_count = diff
        .changes
        .iter()
        .filter(|c| c.change == ChangeKind::Unchanged)
        .count();
    let mut any = false;
    for c in diff.differences() {
        any = true;
        let (class, label) = match c.change {
            ChangeKind::Added => ("added", added),
            ChangeKind::Removed => ("removed", removed),
            _ => ("changed", changed),
        };
        let heading = match (&c.old_title, &c.new_title) {
            (Some(o), Some(n)) if o != n => format!("{o} → {n}"),
            (_, Some(n)) => n.clone(),
            (Some(o), None) => o.clone(),
            (None, None) => c.code.clone(),
        };
        let _ = writeln!(
            out,
            "<section class=\"change {class}\" data-code=\"{}\" data-change=\"{class}\">\n<h2>{}: {}</h2>",
            esc(&c.code),
            esc(label),
            esc(&heading)
        );
        for l in &c.lines {
            let (cls, sign, t) = match l {
                LineChange::Same(t) => ("same", ' ', t),
                LineChange::Added(t) => ("added", '+', t),
                LineChange::Removed(t) => ("removed", '-', t),
            };
            let _ = writeln!(out, "<p class=\"diffline {cls}\">{sign} {}</p>", esc(t));
        }
        out.push_str("</section>\n");
    }
    if !any {
        let _ = writeln!(out, "<p>{}</p>", esc(none));
    }
    let _ = writeln!(
        out,
        "<p><small>{unchanged_count} {}</small></p>",
        esc(unchanged)
    );
    out.push_str("</body>\n</html>\n");
    out
}
