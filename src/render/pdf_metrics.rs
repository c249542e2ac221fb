//! The fonts embedded in every PDF: DejaVu Sans, Bold and Oblique (fonts/, with their licence),
//! included in the binary. Their metrics serve line breaking and the PDF font dictionaries.
use std::sync::LazyLock;

use ttf_parser::{Face, GlyphId};

/// One embedded TrueType font.
pub(crate) struct EmbeddedFont {
    /// PostScript name, the base of the PDF font name.
    pub name: &'static str,
    /// The whole TTF file.
    pub data: &'static [u8],
    face: Face<'static>,
    units_per_em: f32,
}

/// What the PDF font descriptor needs, in 1/1000 em.
pub(crate) struct Descriptor {
    pub bbox: [i32; 4],
    pub italic_angle: f32,
    pub ascent: i32,
    pub descent: i32,
    pub cap_height: i32,
    pub flags: u32,
    pub stem_v: i32,
}

impl EmbeddedFont {
    fn load(name: &'static str, data: &'static [u8]) -> EmbeddedFont {
        // The files are part of the source tree; a broken one is a build defect, caught by any test.
        let face = Face::parse(data, 0).expect("embedded font parses");
        let units_per_em = f32::from(face.units_per_em());
        EmbeddedFont {
            name,
            data,
            face,
            units_per_em,
        }
    }

    /// The glyph for a character, with a few look-alikes for characters the font lacks; `None`
    /// when there is none.
    pub fn glyph(&self, c: char) -> Option<u16> {
        let c = match c {
            '\t' | '\r' => ' ',
            c => c,
        };
        if let Some(g) = self.face.glyph_index(c) {
            return Some(g.0);
        }
        let fallback = match c {
            '\u{2011}' | '\u{2010}' => '-',
            '\u{202f}' | '\u{2009}' => '\u{a0}',
            _ => return None,
        };
        self.face.glyph_index(fallback).map(|g| g.0)
    }

    /// The glyph for a character, `?` when the font has none.
    pub fn glyph_or_replacement(&self, c: char) -> (u16, char) {
        match self.glyph(c) {
            Some(g) => (g, c),
            None => (self.glyph('?').unwrap_or(0), '?'),
        }
    }

    /// Advance width of a glyph in 1/1000 em.
    pub fn advance(&self, glyph: u16) -> f32 {
        let units = self.face.glyph_hor_advance(GlyphId(glyph)).unwrap_or(0);
        f32::from(units) * 1000.0 / self.units_per_em
    }

    /// How many glyphs the font has.
    #[cfg(test)]
    pub fn glyph_count(&self) -> u16 {
        self.face.number_of_glyphs()
    }

    fn scale(&self, v: i16) -> i32 {
        (f32::from(v) * 1000.0 / self.units_per_em).round() as i32
    }

    pub fn descriptor(&self) -> Descriptor {
        let b = self.face.global_bounding_box();
        let italic_angle = self.face.italic_angle();
        Descriptor {
            bbox: [
                self.scale(b.x_min),
                self.scale(b.y_min),
                self.scale(b.x_max),
                self.scale(b.y_max),
            ],
            italic_angle,
            ascent: self.scale(self.face.ascender()),
            descent: self.scale(self.face.descender()),
            cap_height: self.scale(self.face.capital_height().unwrap_or(self.face.ascender())),
            // Nonsymbolic, plus Italic for the oblique face.
            flags: if italic_angle != 0.0 { 32 | 64 } else { 32 },
            stem_v: if self.face.is_bold() { 140 } else { 80 },
        }
    }
}

/// Regular, Bold, Oblique: indexed by `pdf::Font`.
pub(crate) static FONTS: LazyLock<[EmbeddedFont; 3]> = LazyLock::new(|| {
    [
        EmbeddedFont::load("DejaVuSans", include_bytes!("../../fonts/DejaVuSans.ttf")),
        EmbeddedFont::load(
            "DejaVuSans-Bold",
            include_bytes!("../../fonts/DejaVuSans-Bold.ttf"),
        ),
        EmbeddedFont::load(
            "DejaVuSans-Oblique",
            include_bytes!("../../fonts/DejaVuSans-Oblique.ttf"),
        ),
    ]
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fonts_cover_the_names_of_the_issue() {
        for f in FONTS.iter() {
            for c in "Łukasz Øyvind Ümit Nguyễn åäö é € – “” •\u{a0}\u{2011}\u{202f}".chars()
            {
                assert!(f.glyph(c).is_some(), "{}: {c:?}", f.name);
            }
            assert!(f.advance(f.glyph('m').unwrap()) > f.advance(f.glyph('i').unwrap()));
        }
    }
}
