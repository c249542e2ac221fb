//! PDF renderer (PDF-fil): a small hand-written PDF 1.4 writer in pure Rust, no external program.
//! Text is set in DejaVu Sans, Bold and Oblique, embedded in the binary (`pdf_metrics`): each PDF
//! embeds a subset of the glyphs it uses as a CIDFontType2 font with Identity-H encoding and a
//! ToUnicode map, so every name prints (Łukasz, Øyvind, Ümit, Nguyễn) and text extraction reads it
//! back. Streams are Flate-compressed; the output is deterministic. A4 pages, a running header with
//! agreement number and version, and `Sida N av M`.
//!
//! `append_pages` lays out further pages for an incremental update (the certificate of completion
//! of `seal`), numbering their objects after the existing ones.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::Write as _;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::pdf_metrics::FONTS;
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
    const ALL: [Font; 3] = [Font::Regular, Font::Bold, Font::Italic];

    fn index(self) -> usize {
        match self {
            Font::Regular => 0,
            Font::Bold => 1,
            Font::Italic => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Italic => "F3",
        }
    }
}

/// The glyphs one font has set so far: the subset to embed, renumbered from 0 (`.notdef`) in the
/// order of first use, with the character each new glyph id stands for.
struct FontUse {
    remap: GlyphRemapper,
    /// New glyph id → (original glyph id, character).
    glyphs: BTreeMap<u16, (u16, char)>,
}

impl FontUse {
    fn new() -> FontUse {
        FontUse {
            remap: GlyphRemapper::new(),
            glyphs: BTreeMap::new(),
        }
    }
}

/// The fonts of one PDF (or one incremental update) and the glyphs each has set.
struct Fonts([FontUse; 3]);

impl Fonts {
    fn new() -> Fonts {
        Fonts([FontUse::new(), FontUse::new(), FontUse::new()])
    }

    /// A hex string of the (renumbered) glyph ids of `s`, for `Tj` under Identity-H.
    fn encode(&mut self, font: Font, s: &str) -> String {
        let face = &FONTS[font.index()];
        let used = &mut self.0[font.index()];
        let mut out = String::with_capacity(s.len() * 4 + 2);
        out.push('<');
        for c in s.chars() {
            let (old, shown) = face.glyph_or_replacement(c);
            let new = used.remap.remap(old);
            used.glyphs.entry(new).or_insert((old, shown));
            let _ = write!(out, "{new:04X}");
        }
        out.push('>');
        out
    }

    fn is_used(&self, font: Font) -> bool {
        !self.0[font.index()].glyphs.is_empty()
    }

    /// Writes the used fonts (Type0, CIDFontType2, descriptor, subset font file, ToUnicode) and
    /// returns the resource dictionary naming them.
    fn write(&self, objects: &mut Objects) -> String {
        let mut resources = String::from("<< ");
        for font in Font::ALL {
            if !self.is_used(font) {
                continue;
            }
            let id = self.write_font(font, objects);
            let _ = write!(resources, "/{} {id} 0 R ", font.name());
        }
        resources.push_str(">>");
        resources
    }

    fn write_font(&self, font: Font, objects: &mut Objects) -> u32 {
        let face = &FONTS[font.index()];
        let used = &self.0[font.index()];
        // A subset tag derived from the glyphs keeps the output deterministic.
        let mut h = Sha256::new();
        h.update(face.name.as_bytes());
        for (new, (old, _)) in &used.glyphs {
            h.update(new.to_be_bytes());
            h.update(old.to_be_bytes());
        }
        let tag: String = h.finalize()[..6]
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let base = format!("{tag}+{}", face.name);

        // The subset keeps the glyphs in their new order (composite parts after them). The fonts
        // are fixed and subsetting them is tested for every glyph they have, so a failure here
        // is a defect, not an input error.
        let program =
            subsetter::subset(face.data, 0, &used.remap).expect("the embedded fonts can be subset");
        let file = objects.add(stream(&format!("/Length1 {}", program.len()), &program));
        let d = face.descriptor();
        let descriptor = objects.add(
            format!(
                "<< /Type /FontDescriptor /FontName /{base} /Flags {} /FontBBox [{} {} {} {}] /ItalicAngle {} /Ascent {} /Descent {} /CapHeight {} /StemV {} /FontFile2 {file} 0 R >>",
                d.flags, d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3], d.italic_angle, d.ascent, d.descent, d.cap_height, d.stem_v
            )
            .into_bytes(),
        );
        let count = used.remap.num_gids();
        let widths: Vec<String> = (0..count)
            .map(|new| {
                let old = used.glyphs.get(&new).map(|g| g.0).unwrap_or(0);
                format!("{}", face.advance(old).round() as i32)
            })
            .collect();
        let cid = objects.add(
            format!(
                "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {descriptor} 0 R /W [0 [{}]] /CIDToGIDMap /Identity >>",
                widths.join(" ")
            )
            .into_bytes(),
        );
        let to_unicode = objects.add(stream("", to_unicode_cmap(&used.glyphs).as_bytes()));
        objects.add(
            format!(
                "<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /Identity-H /DescendantFonts [{cid} 0 R] /ToUnicode {to_unicode} 0 R >>"
            )
            .into_bytes(),
        )
    }
}

/// The ToUnicode CMap: each glyph id back to its character (UTF-16BE).
fn to_unicode_cmap(glyphs: &BTreeMap<u16, (u16, char)>) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(u16, char)> = glyphs
        .iter()
        .filter(|(new, _)| **new != 0)
        .map(|(new, (_, c))| (*new, *c))
        .collect();
    for chunk in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", chunk.len());
        for (new, c) in chunk {
            let mut buf = [0u16; 2];
            let units: String = c
                .encode_utf16(&mut buf)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(out, "<{new:04X}> <{units}>");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

/// A Flate-compressed stream object with extra dictionary entries.
fn stream(extra: &str, data: &[u8]) -> Vec<u8> {
    let mut z = ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    let packed = z.finish().unwrap_or_default();
    let mut out = format!(
        "<< /Length {} /Filter /FlateDecode{}{extra} >>\nstream\n",
        packed.len(),
        if extra.is_empty() { "" } else { " " }
    )
    .into_bytes();
    out.extend_from_slice(&packed);
    out.extend_from_slice(b"\nendstream");
    out
}

/// A PDF text string: UTF-16BE with a byte-order mark, as hex.
pub(crate) fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        let _ = write!(out, "{u:04X}");
    }
    out.push('>');
    out
}

/// Objects numbered from a first id, written in order of their ids.
pub(crate) struct Objects {
    next: u32,
    list: Vec<(u32, Vec<u8>)>,
}

impl Objects {
    pub(crate) fn new(first: u32) -> Objects {
        Objects {
            next: first,
            list: Vec::new(),
        }
    }

    /// An id for an object written later with `put`.
    pub(crate) fn reserve(&mut self) -> u32 {
        let id = self.next;
        self.next += 1;
        id
    }

    pub(crate) fn put(&mut self, id: u32, body: Vec<u8>) {
        self.list.push((id, body));
    }

    pub(crate) fn add(&mut self, body: Vec<u8>) -> u32 {
        let id = self.reserve();
        self.put(id, body);
        id
    }

    /// The next free id: the trailer's `/Size`.
    pub(crate) fn next_id(&self) -> u32 {
        self.next
    }

    /// The objects sorted by id.
    pub(crate) fn into_sorted(mut self) -> Vec<(u32, Vec<u8>)> {
        self.list.sort_by_key(|(id, _)| *id);
        self.list
    }
}

/// Appends `id 0 obj … endobj` to `out` and returns the object's offset.
pub(crate) fn write_object(out: &mut Vec<u8>, id: u32, body: &[u8]) -> usize {
    let offset = out.len();
    out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nendobj\n");
    offset
}

fn width(s: &str, font: Font, size: f32) -> f32 {
    let f = &FONTS[font.index()];
    let units: f32 = s
        .chars()
        .map(|c| f.advance(f.glyph_or_replacement(c).0))
        .sum();
    units * size / 1000.0
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

struct Layout {
    pages: Vec<String>,
    y: f32,
    marker: bool,
    fonts: Fonts,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![String::new()],
            y: TOP,
            marker: false,
            fonts: Fonts::new(),
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
            self.fonts.encode(font, s)
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

impl Layout {
    /// Drops a trailing empty page.
    fn finish(&mut self) {
        if self.pages.len() > 1 && self.pages.last().is_some_and(String::is_empty) {
            self.pages.pop();
        }
    }

    /// Writes the pages with their running header (and `Sida N av M` when `labels` is given),
    /// then the fonts, as children of `parent`; returns the page ids. `first_page_extra` is added
    /// to the first page's dictionary (e.g. its `/Annots`).
    fn write(
        mut self,
        header: &str,
        labels: Option<&Labels>,
        parent: u32,
        first_page_extra: &str,
        objects: &mut Objects,
    ) -> Vec<u32> {
        self.finish();
        let total = self.pages.len();
        let header_w = width(header, Font::Regular, 8.5);
        let pages = std::mem::take(&mut self.pages);
        let mut contents = Vec::with_capacity(total);
        for (i, body) in pages.iter().enumerate() {
            let mut content = String::with_capacity(body.len() + 256);
            let _ = writeln!(
                content,
                "BT /F1 8.5 Tf {:.2} {:.2} Td {} Tj ET",
                PAGE_W - MARGIN_X - header_w,
                PAGE_H - 45.0,
                self.fonts.encode(Font::Regular, header)
            );
            let _ = writeln!(
                content,
                "0.5 w {MARGIN_X:.2} {:.2} m {:.2} {:.2} l S",
                PAGE_H - 50.0,
                PAGE_W - MARGIN_X,
                PAGE_H - 50.0
            );
            if let Some(labels) = labels {
                let footer = format!("{} {} {} {}", labels.page, i + 1, labels.of, total);
                let footer_w = width(&footer, Font::Regular, 8.5);
                let _ = writeln!(
                    content,
                    "BT /F1 8.5 Tf {:.2} 40 Td {} Tj ET",
                    (PAGE_W - footer_w) / 2.0,
                    self.fonts.encode(Font::Regular, &footer)
                );
            }
            content.push_str(body);
            contents.push(content);
        }
        let resources = self.fonts.write(objects);
        let mut ids = Vec::with_capacity(total);
        for (i, content) in contents.iter().enumerate() {
            let page = objects.reserve();
            let stream_id = objects.add(stream("", content.as_bytes()));
            let extra = if i == 0 { first_page_extra } else { "" };
            objects.put(
                page,
                format!(
                    "<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font {resources} >> /Contents {stream_id} 0 R{}{extra} >>",
                    if extra.is_empty() { "" } else { " " }
                )
                .into_bytes(),
            );
            ids.push(page);
        }
        ids
    }
}

/// Renders the document as PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    render_blocks(
        &doc.title,
        &doc.blocks,
        &doc.header_text(),
        Labels::for_lang(doc.meta.lang),
    )
}

/// Lays out `title` and `blocks` on A4 pages with `header` as the running header and `Sida N av
/// M` from `labels`, and writes the whole PDF. The agreement and the invoice (`invoice_pdf`) are
/// both set this way.
pub(crate) fn render_blocks(
    title: &str,
    blocks: &[Block],
    header: &str,
    labels: &Labels,
) -> Vec<u8> {
    let mut layout = Layout::new();
    layout.lines(MARGIN_X, Font::Bold, 18.0, title, None);
    layout.gap(8.0);
    layout.blocks(blocks, labels);
    let header = header.to_string();

    let mut objects = Objects::new(1);
    let catalog = objects.reserve();
    let pages = objects.reserve();
    let info = objects.reserve();
    let kids = layout.write(&header, Some(labels), pages, "", &mut objects);
    objects.put(
        catalog,
        format!("<< /Type /Catalog /Pages {pages} 0 R >>").into_bytes(),
    );
    let kids_refs: Vec<String> = kids.iter().map(|k| format!("{k} 0 R")).collect();
    objects.put(
        pages,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids_refs.join(" "),
            kids.len()
        )
        .into_bytes(),
    );
    objects.put(
        info,
        format!(
            "<< /Title {} /Producer (samverkan) /Subject {} >>",
            text_string(title),
            text_string(&header)
        )
        .into_bytes(),
    );
    let size = objects.next_id();
    let objects = objects.into_sorted();

    let mut out: Vec<u8> =
        Vec::with_capacity(objects.iter().map(|(_, o)| o.len() + 32).sum::<usize>() + 4096);
    out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (id, o) in &objects {
        offsets.push(write_object(&mut out, *id, o));
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {size}\n0000000000 65535 f \n");
    for off in offsets {
        let _ = writeln!(tail, "{off:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {size} /Root {catalog} 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

/// Lays out `title` and `blocks` as pages under the page tree node `parent`, numbering objects
/// from `first_id`, with `header` as the running header; `first_page_extra` goes into the first
/// page's dictionary.
pub(crate) fn append_pages(
    title: &str,
    blocks: &[Block],
    labels: &Labels,
    header: &str,
    parent: u32,
    objects: &mut Objects,
    first_page_extra: &str,
) -> Vec<u32> {
    let mut layout = Layout::new();
    layout.lines(MARGIN_X, Font::Bold, 16.0, title, None);
    layout.gap(6.0);
    layout.blocks(blocks, labels);
    layout.write(header, None, parent, first_page_extra, objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_set_as_glyph_ids_with_a_map_back_to_unicode() {
        let mut fonts = Fonts::new();
        let a = fonts.encode(Font::Regular, "Łukasz (x)");
        let b = fonts.encode(Font::Regular, "Nguyễn Ł");
        assert_eq!(a.len(), 2 + 4 * 10);
        // The same character gets the same glyph id; `.notdef` is 0.
        assert_eq!(&a[1..5], &b[b.len() - 5..b.len() - 1]);
        let cmap = to_unicode_cmap(&fonts.0[0].glyphs);
        assert!(cmap.contains("<0141>"), "Ł");
        assert!(cmap.contains("<1EC5>"), "ễ");
        assert!(!fonts.is_used(Font::Bold));
    }

    #[test]
    fn every_glyph_of_the_fonts_can_be_subset() {
        for face in FONTS.iter() {
            let mut remap = GlyphRemapper::new();
            for g in (0..face.glyph_count()).rev() {
                remap.remap(g);
            }
            let subset = subsetter::subset(face.data, 0, &remap).expect(face.name);
            assert!(ttf_parser::Face::parse(&subset, 0).is_ok(), "{}", face.name);
        }
    }

    #[test]
    fn text_strings_are_utf16() {
        assert_eq!(text_string("Ø("), "<FEFF00D80028>");
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
