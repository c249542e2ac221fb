//! PDF renderer (PDF-fil): a small hand-written PDF 1.4 writer in pure Rust, no external program and
//! no font files. It uses the standard fonts Helvetica, Helvetica-Bold and Helvetica-Oblique with
//! WinAnsiEncoding (covers å ä ö é and the rest of Western European text); characters outside WinAnsi
//! print as `?`. A4 pages, a running header with agreement number and version, and `Sida N av M`.
use std::fmt::Write;

use super::pdf_metrics::{HELVETICA, HELVETICA_BOLD};
use crate::domain::agreement::document::{as_plain, Block, Clause, ClauseKind, Document, Labels};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 70.0;
const TOP: f32 = PAGE_H - 80.0;
const BOTTOM: f32 = 70.0;
const BODY: f32 = 10.5;
const LEADING: f32 = 1.35;

#[derive(Clone, Copy, PartialEq)]
enum Font {
    Regular,
    Bold,
    Italic,
}

impl Font {
    fn name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Italic => "F3",
        }
    }
}

/// Maps a character to its WinAnsi (cp1252) byte; `?` when it has none.
fn winansi(c: char) -> u8 {
    let code = c as u32;
    match code {
        0x20..=0x7e | 0xa0..=0xff => code as u8,
        _ => match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            '\u{2011}' | '\u{2010}' => b'-',
            '\u{202f}' | '\u{2009}' => 0xa0,
            '→' => b'>',
            _ => b'?',
        },
    }
}

fn width(s: &str, font: Font, size: f32) -> f32 {
    let table = match font {
        Font::Bold => &HELVETICA_BOLD,
        _ => &HELVETICA,
    };
    let units: u32 = s
        .chars()
        .map(|c| {
            let b = winansi(c);
            if b >= 32 {
                u32::from(table[usize::from(b - 32)])
            } else {
                0
            }
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Breaks text into lines no wider than `max`; `\n` forces a break, no-break spaces hold words together.
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, font, size) <= max || line.is_empty() {
                line = candidate;
                // A single word wider than the line is split by characters.
                while width(&line, font, size) > max && line.chars().count() > 1 {
                    let mut cut = String::new();
                    let mut rest = String::new();
                    for c in line.chars() {
                        if rest.is_empty() && width(&format!("{cut}{c}"), font, size) <= max {
                            cut.push(c);
                        } else {
                            rest.push(c);
                        }
                    }
                    if cut.is_empty() {
                        break;
                    }
                    lines.push(cut);
                    line = rest;
                }
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_string();
            }
        }
        lines.push(line);
    }
    lines
}

/// A PDF string literal in WinAnsi with `(`, `)`, `\` and non-ASCII bytes escaped.
fn pdf_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars() {
        let b = winansi(c);
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            32..=126 => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

struct Layout {
    pages: Vec<String>,
    y: f32,
    marker: bool,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![String::new()],
            y: TOP,
            marker: false,
        }
    }

    fn page(&mut self) -> &mut String {
        if self.pages.is_empty() {
            self.pages.push(String::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(String::new());
        self.y = TOP;
    }

    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, y: f32, font: Font, size: f32, s: &str) {
        let line = format!(
            "BT /{} {size:.1} Tf {x:.2} {y:.2} Td {} Tj ET\n",
            font.name(),
            pdf_string(s)
        );
        self.page().push_str(&line);
    }

    /// Writes wrapped lines starting at `x`; the first line may carry a label at `label_x`.
    fn lines(&mut self, x: f32, font: Font, size: f32, text: &str, label: Option<(f32, &str)>) {
        let lh = size * LEADING;
        let lines = wrap(text, font, size, PAGE_W - MARGIN_X - x);
        for (i, l) in lines.iter().enumerate() {
            self.ensure(lh);
            self.y -= lh;
            let y = self.y + lh * 0.25;
            if self.marker {
                let bar = format!(
                    "0.88 0.66 0 rg {:.2} {:.2} 3 {lh:.2} re f 0 g\n",
                    MARGIN_X - 10.0,
                    self.y
                );
                self.page().push_str(&bar);
            }
            if i == 0 {
                if let Some((lx, label)) = label {
                    self.text_at(lx, y, font, size, label);
                }
            }
            self.text_at(x, y, font, size, l);
        }
    }

    fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    fn heading(&mut self, text: &str, size: f32) {
        // Keep a heading with at least three lines of what follows.
        self.ensure(size * LEADING + BODY * LEADING * 3.0 + 8.0);
        self.gap(8.0);
        self.lines(MARGIN_X, Font::Bold, size, text, None);
        self.gap(3.0);
    }

    fn table(&mut self, header: bool, rows: &[Vec<String>]) {
        let cols = rows.first().map(|r| r.len()).unwrap_or(1).max(1);
        let total = PAGE_W - 2.0 * MARGIN_X;
        let col_w = total / cols as f32;
        let size = BODY - 1.0;
        let lh = size * LEADING;
        let pad = 3.0;
        for (i, row) in rows.iter().enumerate() {
            let head = header && i == 0;
            let font = if head { Font::Bold } else { Font::Regular };
            let cells: Vec<Vec<String>> = row
                .iter()
                .map(|c| wrap(c, font, size, col_w - 2.0 * pad))
                .collect();
            let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = n as f32 * lh + 2.0 * pad;
            // Keep a header row with the first row below it.
            self.ensure(if head { h * 2.5 } else { h });
            let top = self.y;
            let bottom = top - h;
            let mut ops = String::new();
            if head {
                let _ = writeln!(
                    ops,
                    "0.91 g {MARGIN_X:.2} {bottom:.2} {total:.2} {h:.2} re f 0 g"
                );
            }
            let _ = writeln!(
                ops,
                "0.5 w {MARGIN_X:.2} {bottom:.2} {total:.2} {h:.2} re S"
            );
            for k in 1..cols {
                let x = MARGIN_X + col_w * k as f32;
                let _ = writeln!(ops, "{x:.2} {bottom:.2} m {x:.2} {top:.2} l S");
            }
            self.page().push_str(&ops);
            for (k, lines) in cells.iter().enumerate() {
                let x = MARGIN_X + col_w * k as f32 + pad;
                for (j, l) in lines.iter().enumerate() {
                    let y = top - pad - lh * (j as f32 + 1.0) + lh * 0.25;
                    self.text_at(x, y, font, size, l);
                }
            }
            self.y = bottom;
        }
        self.gap(6.0);
    }

    fn blocks(&mut self, blocks: &[Block], labels: &Labels) {
        for b in blocks {
            self.block(b, labels);
        }
    }

    fn block(&mut self, b: &Block, labels: &Labels) {
        match b {
            Block::Heading { level, text } => {
                self.heading(text, if *level <= 1 { 13.0 } else { 11.5 })
            }
            Block::Paragraph { text } => {
                self.lines(MARGIN_X, Font::Regular, BODY, text, None);
                self.gap(4.0);
            }
            Block::Deviated {
                reason,
                blocks,
                original,
                ..
            } => {
                let was = self.marker;
                self.marker = true;
                let note = format!("{}. {}: {}", labels.deviation, labels.reason, reason);
                self.lines(MARGIN_X, Font::Italic, BODY - 1.0, &note, None);
                self.gap(3.0);
                self.blocks(blocks, labels);
                let head = format!("{}:", labels.template_text);
                self.lines(MARGIN_X, Font::Italic, BODY - 1.0, &head, None);
                for b in original {
                    match as_plain(b) {
                        Block::Paragraph { text } => {
                            self.lines(MARGIN_X + 30.0, Font::Italic, BODY - 1.0, &text, None);
                            self.gap(2.0);
                        }
                        other => self.block(&other, labels),
                    }
                }
                self.marker = was;
            }
            Block::SubClause { number, text, .. } => {
                self.lines(
                    MARGIN_X + 30.0,
                    Font::Regular,
                    BODY,
                    text,
                    Some((MARGIN_X, number)),
                );
                self.gap(3.0);
            }
            Block::List { items } => {
                for i in items {
                    self.lines(
                        MARGIN_X + 46.0,
                        Font::Regular,
                        BODY,
                        i,
                        Some((MARGIN_X + 34.0, "•")),
                    );
                }
                self.gap(4.0);
            }
            Block::Table { header, rows } => self.table(*header, rows),
            Block::Signatures { signatures } => {
                for s in signatures {
                    self.ensure(BODY * LEADING * 8.0);
                    self.gap(10.0);
                    self.lines(MARGIN_X, Font::Bold, BODY, &s.role, None);
                    self.lines(MARGIN_X, Font::Regular, BODY, &s.party, None);
                    for label in [labels.place_date, labels.signature] {
                        self.gap(16.0);
                        let y = self.y;
                        let line = format!(
                            "0.5 w {MARGIN_X:.2} {y:.2} m {:.2} {y:.2} l S\n",
                            MARGIN_X + 250.0
                        );
                        self.page().push_str(&line);
                        self.lines(MARGIN_X, Font::Italic, BODY - 2.0, label, None);
                    }
                    self.lines(MARGIN_X, Font::Regular, BODY, &s.name, None);
                    self.lines(MARGIN_X, Font::Regular, BODY, &s.title, None);
                }
            }
            Block::PageBreak => {
                if !self.page().is_empty() {
                    self.new_page();
                }
            }
            Block::Clause(c) => self.clause(c, labels),
        }
    }

    fn clause(&mut self, c: &Clause, labels: &Labels) {
        let title = match c.kind {
            ClauseKind::Clause => format!("{}. {}", c.number, c.heading),
            ClauseKind::Appendix => {
                if c.number > 1 && !self.page().is_empty() {
                    self.new_page();
                }
                format!("{} {}: {}", labels.appendix, c.number, c.heading)
            }
        };
        self.heading(&title, 13.0);
        if let Some(d) = &c.deviation {
            self.marker = true;
            let note = format!("{}. {}: {}", labels.deviation, labels.reason, d.reason);
            self.lines(MARGIN_X, Font::Italic, BODY - 1.0, &note, None);
            self.gap(3.0);
            self.blocks(&c.blocks, labels);
            let head = format!("{}:", labels.template_text);
            self.lines(MARGIN_X, Font::Italic, BODY - 1.0, &head, None);
            for b in &d.original {
                match as_plain(b) {
                    Block::Paragraph { text } => {
                        self.lines(MARGIN_X + 30.0, Font::Italic, BODY - 1.0, &text, None);
                        self.gap(2.0);
                    }
                    other => self.block(&other, labels),
                }
            }
            self.marker = false;
        } else {
            self.blocks(&c.blocks, labels);
        }
    }
}

/// Renders the document as PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    let labels = Labels::for_lang(doc.meta.lang);
    let mut layout = Layout::new();
    layout.lines(MARGIN_X, Font::Bold, 18.0, &doc.title, None);
    layout.gap(8.0);
    layout.blocks(&doc.blocks, labels);
    if layout.pages.len() > 1 && layout.pages.last().is_some_and(String::is_empty) {
        layout.pages.pop();
    }
    let total = layout.pages.len();
    let header = doc.header_text();
    let header_w = width(&header, Font::Regular, 8.5);

    // Objects: 1 catalog, 2 pages, 3–5 fonts, 6 info, then per page: page, contents.
    let mut objects: Vec<String> = Vec::with_capacity(6 + 2 * total);
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    let kids: Vec<String> = (0..total).map(|i| format!("{} 0 R", 7 + 2 * i)).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {total} >>",
        kids.join(" ")
    ));
    for base in ["Helvetica", "Helvetica-Bold", "Helvetica-Oblique"] {
        objects.push(format!(
            "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
        ));
    }
    let title_utf16: String = std::iter::once(0xfeffu16)
        .chain(doc.title.encode_utf16())
        .map(|u| format!("{u:04X}"))
        .collect();
    objects.push(format!(
        "<< /Title <{title_utf16}> /Producer (samverkan) /Subject {} >>",
        pdf_string(&header)
    ));
    for (i, body) in layout.pages.iter().enumerate() {
        let footer = format!("{} {} {} {}", labels.page, i + 1, labels.of, total);
        let footer_w = width(&footer, Font::Regular, 8.5);
        let mut content = String::with_capacity(body.len() + 256);
        let _ = writeln!(
            content,
            "BT /F1 8.5 Tf {:.2} {:.2} Td {} Tj ET",
            PAGE_W - MARGIN_X - header_w,
            PAGE_H - 45.0,
            pdf_string(&header)
        );
        let _ = writeln!(
            content,
            "0.5 w {MARGIN_X:.2} {:.2} m {:.2} {:.2} l S",
            PAGE_H - 50.0,
            PAGE_W - MARGIN_X,
            PAGE_H - 50.0
        );
        let _ = writeln!(
            content,
            "BT /F1 8.5 Tf {:.2} 40 Td {} Tj ET",
            (PAGE_W - footer_w) / 2.0,
            pdf_string(&footer)
        );
        content.push_str(body);
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >> /Contents {} 0 R >>",
            8 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }

    let mut out: Vec<u8> =
        Vec::with_capacity(objects.iter().map(String::len).sum::<usize>() + 4096);
    out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o.as_bytes());
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(tail, "{off:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_letters_are_winansi() {
        assert_eq!(pdf_string("åäöé (x)"), "(\\345\\344\\366\\351 \\(x\\))");
    }

    #[test]
    fn wraps_within_width() {
        let lines = wrap(
            "ett två tre fyra fem sex sju åtta nio tio",
            Font::Regular,
            10.0,
            60.0,
        );
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, Font::Regular, 10.0) <= 60.0));
    }
}
