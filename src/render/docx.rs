//! DOCX renderer (Word) with docx-rs: real Word heading styles (`heading 1`, `heading 2`), multi-level
//! list numbering for clauses (1.) and sub-clauses (1.1), a header with agreement number and version,
//! and `Page N of M` fields in the footer.
use docx_rs::{
    AbstractNumbering, AlignmentType, BreakType, Docx, Footer, Header, IndentLevel, Level, LevelJc,
    LevelText, LineSpacing, NumPages, NumberFormat, Numbering, NumberingId, PageNum, Paragraph,
    Run, RunFonts, Shading, ShdType, SpecialIndentType, Start, Style, StyleType, Table, TableCell,
    TableRow, WidthType,
};

use super::RenderError;
use crate::domain::agreement::document::{as_plain, Block, Clause, ClauseKind, Document, Labels};

// docx-rs ships a default numbering with id 1; ours start at 10.
const CLAUSE_NUMBERING: usize = 10;
const BULLETS: usize = 11;
/// Text width of an A4 page with 2.5 cm margins, in twentieths of a point.
const TEXT_WIDTH: usize = 9_000;

fn styles(docx: Docx) -> Docx {
    docx.default_size(22)
        .default_fonts(
            RunFonts::new()
                .ascii("Calibri")
                .hi_ansi("Calibri")
                .cs("Calibri"),
        )
        .default_line_spacing(LineSpacing::new().after(120))
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .based_on("Normal")
                .next("Normal")
                .size(36)
                .bold(),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("heading 1")
                .based_on("Normal")
                .next("Normal")
                .size(26)
                .bold()
                .outline_lvl(0)
                .line_spacing(LineSpacing::new().before(240).after(120)),
        )
        .add_style(
            Style::new("Heading2", StyleType::Paragraph)
                .name("heading 2")
                .based_on("Normal")
                .next("Normal")
                .size(23)
                .bold()
                .outline_lvl(1)
                .line_spacing(LineSpacing::new().before(160).after(80)),
        )
        .add_style(
            Style::new("ListBullet", StyleType::Paragraph)
                .name("List Bullet")
                .based_on("Normal"),
        )
        .add_style(
            Style::new("Header", StyleType::Paragraph)
                .name("header")
                .based_on("Normal")
                .size(18),
        )
        .add_style(
            Style::new("Footer", StyleType::Paragraph)
                .name("footer")
                .based_on("Normal")
                .size(18),
        )
}

fn numbering(docx: Docx) -> Docx {
    let clauses = AbstractNumbering::new(CLAUSE_NUMBERING)
        .add_level(
            Level::new(
                0,
                Start::new(1),
                NumberFormat::new("decimal"),
                LevelText::new("%1."),
                LevelJc::new("left"),
            )
            .indent(Some(567), Some(SpecialIndentType::Hanging(567)), None, None),
        )
        .add_level(
            Level::new(
                1,
                Start::new(1),
                NumberFormat::new("decimal"),
                LevelText::new("%1.%2"),
                LevelJc::new("left"),
            )
            .indent(Some(567), Some(SpecialIndentType::Hanging(567)), None, None),
        );
    let bullets = AbstractNumbering::new(BULLETS).add_level(
        Level::new(
            0,
            Start::new(1),
            NumberFormat::new("bullet"),
            LevelText::new("•"),
            LevelJc::new("left"),
        )
        .indent(Some(927), Some(SpecialIndentType::Hanging(360)), None, None),
    );
    docx.add_abstract_numbering(clauses)
        .add_abstract_numbering(bullets)
        .add_numbering(Numbering::new(CLAUSE_NUMBERING, CLAUSE_NUMBERING))
        .add_numbering(Numbering::new(BULLETS, BULLETS))
}

/// A paragraph of text; `\n` becomes a line break.
fn text_paragraph(text: &str) -> Paragraph {
    add_text(Paragraph::new().style("Normal"), text, false)
}

fn add_text(mut p: Paragraph, text: &str, bold: bool) -> Paragraph {
    let mut run = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line);
    }
    if bold {
        run = run.bold();
    }
    p = p.add_run(run);
    p
}

struct Out {
    docx: Docx,
}

impl Out {
    fn p(&mut self, p: Paragraph) {
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_paragraph(p);
    }

    fn table(&mut self, t: Table) {
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_table(t);
    }

    fn blocks(&mut self, blocks: &[Block], labels: &Labels) {
        for b in blocks {
            self.block(b, labels);
        }
    }

    fn block(&mut self, b: &Block, labels: &Labels) {
        match b {
            Block::Heading { level, text } => {
                let style = if *level <= 1 { "Heading1" } else { "Heading2" };
                self.p(text_paragraph(text).style(style).keep_next(true));
            }
            Block::Paragraph { text } => self.p(text_paragraph(text)),
            Block::Deviated {
                reason,
                blocks,
                original,
                ..
            } => {
                let note = format!("{}. {}: {}", labels.deviation, labels.reason, reason);
                self.p(Paragraph::new()
                    .add_run(Run::new().add_text(note).italic().highlight("yellow")));
                self.blocks(blocks, labels);
                let head = format!("{}:", labels.template_text);
                self.p(Paragraph::new().add_run(Run::new().add_text(head).italic()));
                for b in original {
                    match as_plain(b) {
                        Block::Paragraph { text } => self.p(Paragraph::new()
                            .style("Normal")
                            .add_run(Run::new().add_text(text).italic().color("555555"))),
                        other => self.block(&other, labels),
                    }
                }
            }
            Block::SubClause { text, .. } => self.p(text_paragraph(text)
                .numbering(NumberingId::new(CLAUSE_NUMBERING), IndentLevel::new(1))),
            Block::List { items } => {
                for i in items {
                    self.p(text_paragraph(i)
                        .style("ListBullet")
                        .numbering(NumberingId::new(BULLETS), IndentLevel::new(0)));
                }
            }
            Block::Table { header, rows } => {
                let cols = rows.first().map(|r| r.len()).unwrap_or(1).max(1);
                let width = TEXT_WIDTH / cols;
                let rows: Vec<TableRow> = rows
                    .iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let head = *header && i == 0;
                        TableRow::new(
                            row.iter()
                                .map(|c| {
                                    let cell = TableCell::new()
                                        .width(width, WidthType::Dxa)
                                        .add_paragraph(add_text(
                                            Paragraph::new().style("Normal"),
                                            c,
                                            head,
                                        ));
                                    if head {
                                        cell.shading(
                                            Shading::new().shd_type(ShdType::Clear).fill("E7E6E6"),
                                        )
                                    } else {
                                        cell
                                    }
                                })
                                .collect(),
                        )
                    })
                    .collect();
                self.table(
                    Table::new(rows)
                        .set_grid(vec![width; cols])
                        .width(TEXT_WIDTH, WidthType::Dxa),
                );
                self.p(Paragraph::new());
            }
            Block::Signatures { signatures } => {
                for s in signatures {
                    self.p(
                        add_text(Paragraph::new().style("Normal"), &s.role, true).keep_next(true)
                    );
                    self.p(text_paragraph(&s.party).keep_next(true));
                    self.p(text_paragraph(&format!(
                        "{}: ______________________________",
                        labels.place_date
                    ))
                    .keep_next(true));
                    self.p(text_paragraph(&format!(
                        "{}: ______________________________",
                        labels.signature
                    ))
                    .keep_next(true));
                    self.p(text_paragraph(&s.name).keep_next(true));
                    self.p(text_paragraph(&s.title));
                }
            }
            Block::PageBreak => {
                self.p(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)))
            }
            Block::Clause(c) => self.clause(c, labels),
        }
    }

    fn clause(&mut self, c: &Clause, labels: &Labels) {
        let heading = match c.kind {
            ClauseKind::Clause => text_paragraph(&c.heading)
                .style("Heading1")
                .numbering(NumberingId::new(CLAUSE_NUMBERING), IndentLevel::new(0)),
            ClauseKind::Appendix => {
                text_paragraph(&format!("{} {}: {}", labels.appendix, c.number, c.heading))
                    .style("Heading1")
                    .page_break_before(c.number > 1)
            }
        };
        self.p(heading.keep_next(true));
        if let Some(d) = &c.deviation {
            let note = format!("{}. {}: {}", labels.deviation, labels.reason, d.reason);
            self.p(Paragraph::new().add_run(Run::new().add_text(note).italic().highlight("yellow")));
        }
        self.blocks(&c.blocks, labels);
        if let Some(d) = &c.deviation {
            let head = format!("{}:", labels.template_text);
            self.p(Paragraph::new().add_run(Run::new().add_text(head).italic()));
            for b in &d.original {
                match as_plain(b) {
                    Block::Paragraph { text } => self.p(Paragraph::new()
                        .style("Normal")
                        .add_run(Run::new().add_text(text).italic().color("555555"))),
                    other => self.block(&other, labels),
                }
            }
        }
    }
}

/// Renders the document as a Word file.
pub fn render(doc: &Document) -> Result<Vec<u8>, RenderError> {
    let labels = Labels::for_lang(doc.meta.lang);
    let header = Header::new().add_paragraph(
        Paragraph::new()
            .style("Header")
            .align(AlignmentType::Right)
            .add_run(Run::new().add_text(doc.header_text())),
    );
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .style("Footer")
            .align(AlignmentType::Center)
            .add_run(Run::new().add_text(format!("{} ", labels.page)))
            .add_page_num(PageNum::new())
            .add_run(Run::new().add_text(format!(" {} ", labels.of)))
            .add_num_pages(NumPages::new()),
    );
    let docx = numbering(styles(Docx::new()))
        .header(header)
        .footer(footer)
        .page_size(11_906, 16_838)
        .page_margin(
            docx_rs::PageMargin::new()
                .top(1_418)
                .bottom(1_418)
                .left(1_418)
                .right(1_418)
                .header(709)
                .footer(709),
        );
    let mut out = Out { docx };
    out.p(text_paragraph(&doc.title).style("Title"));
    out.blocks(&doc.blocks, labels);
    let mut buf = std::io::Cursor::new(Vec::with_capacity(64 * 1024));
    out.docx
        .build()
        .pack(&mut buf)
        .map_err(|e| RenderError::Docx(e.to_string()))?;
    Ok(buf.into_inner())
}
