//! The embedded font: its glyphs and advances, read once.

use krilla::text::Font;
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;
use std::collections::HashMap;
use std::sync::OnceLock;

/// DejaVu Sans 2.37 (Bitstream Vera license; see assets/fonts/DejaVuSans-LICENSE.txt).
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

pub(super) struct FontData {
    pub(super) font: Font,
    /// char → (glyph id, advance in em)
    glyphs: HashMap<char, (u32, f32)>,
    notdef_advance: f32,
}

pub(super) fn font() -> Result<&'static FontData, String> {
    static FONT: OnceLock<Result<FontData, String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let font = Font::new(krilla::Data::from(FONT_BYTES), 0)
            .ok_or("the embedded font cannot be read")?;
        let f = skrifa::FontRef::new(FONT_BYTES)
            .map_err(|e| format!("the embedded font cannot be read: {e}"))?;
        let upem = f
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em as f32;
        let metrics = f.glyph_metrics(Size::unscaled(), LocationRef::default());
        let advance = |g: skrifa::GlyphId| metrics.advance_width(g).unwrap_or(0.0) / upem;
        let glyphs = f
            .charmap()
            .mappings()
            .filter_map(|(cp, g)| Some((char::from_u32(cp)?, (g.to_u32(), advance(g)))))
            .collect();
        Ok(FontData {
            font,
            glyphs,
            notdef_advance: advance(skrifa::GlyphId::new(0)),
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl FontData {
    pub(super) fn glyph(&self, c: char) -> (u32, f32) {
        self.glyphs
            .get(&c)
            .copied()
            .unwrap_or((0, self.notdef_advance))
    }

    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }
}

/// The width of `text` at `size` points.
pub fn text_width(text: &str, size: f32) -> f32 {
    font().map(|f| f.width(text, size)).unwrap_or(0.0)
}
