//! PDFs for extracts, with krilla and an embedded DejaVu Sans (which has å, ä, ö and
//! every other Latin letter a name may hold; krilla embeds the subset a document uses).
//!
//! A small flow layout: blocks (headings, paragraphs, label/value fields, tables whose
//! header repeats on every page) are laid out onto A4 pages first, so that every page
//! can carry its running header — title, company, subject, period, generation time,
//! extract id — and "Sida N av M" once the page count is known; then drawn. Text is
//! placed glyph by glyph from the font's own advances (no shaping needed for Latin
//! text), with each glyph mapped back to its characters so the text can be extracted.

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{GlyphId, KrillaGlyph};
use krilla::Document;

mod font;
pub use font::text_width;
use font::{font, FontData};

/// What every page shows above its content.
#[derive(Debug, Clone)]
pub struct Frame {
    pub landscape: bool,
    pub title: String,
    /// Lines under the title: company, subject, period, generation time, extract id.
    pub header: Vec<String>,
    pub document_title: String,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// Title and relative width of each column.
    pub columns: Vec<(String, f32)>,
    pub rows: Vec<Vec<String>>,
    pub size: f32,
}

#[derive(Debug, Clone)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    /// Label/value lines.
    Fields(Vec<(String, String)>),
    Table(Table),
    Space(f32),
}

const MARGIN: f32 = 36.0;
const TITLE_SIZE: f32 = 12.0;
const HEADER_SIZE: f32 = 7.5;
const HEADER_LEAD: f32 = 10.0;
const BODY_SIZE: f32 = 9.0;
const HEADING_SIZE: f32 = 11.0;
const FOOTER_SIZE: f32 = 8.0;
const CELL_PAD: f32 = 2.0;

enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rule {
        x1: f32,
        y1: f32,
        x2: f32,
        y: f32,
        width: f32,
        gray: u8,
    },
    Shade {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

struct Layout<'a> {
    font: &'a FontData,
    width: f32,
    height: f32,
    top: f32,
    bottom: f32,
    pages: Vec<Vec<Op>>,
    y: f32,
}

/// Breaks `text` into lines no wider than `width`: at spaces, and inside a word that is
/// wider than a line. Explicit newlines are kept.
fn wrap(font: &FontData, text: &str, width: f32, size: f32) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        let space = font.glyph(' ').1 * size;
        for word in para.split(' ') {
            let word_w = font.width(word, size);
            let sep = if line.is_empty() { 0.0 } else { space };
            if line_w + sep + word_w <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += sep + word_w;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if word_w <= width {
                line.push_str(word);
                line_w = word_w;
            } else {
                for c in word.chars() {
                    let w = font.glyph(c).1 * size;
                    if line_w + w > width && !line.is_empty() {
                        out.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push(c);
                    line_w += w;
                }
            }
        }
        out.push(line);
    }
    out
}

impl<'a> Layout<'a> {
    fn new(font: &'a FontData, frame: &Frame) -> Self {
        let (width, height) = if frame.landscape {
            (841.89, 595.28)
        } else {
            (595.28, 841.89)
        };
        let top = MARGIN + TITLE_SIZE + 4.0 + frame.header.len() as f32 * HEADER_LEAD + 10.0;
        let mut l = Layout {
            font,
            width,
            height,
            top,
            bottom: height - MARGIN - 12.0,
            pages: Vec::new(),
            y: top,
        };
        l.new_page();
        l
    }

    fn content_width(&self) -> f32 {
        self.width - 2.0 * MARGIN
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.top;
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    fn text(&mut self, x: f32, baseline: f32, size: f32, text: String) {
        if !text.is_empty() {
            self.ops().push(Op::Text {
                x,
                y: baseline,
                size,
                text,
            });
        }
    }

    fn ensure(&mut self, h: f32) {
        if self.y + h > self.bottom && self.y > self.top {
            self.new_page();
        }
    }

    fn heading(&mut self, text: &str) {
        let lead = HEADING_SIZE * 1.35;
        // Keep a heading with at least a few lines of what follows it.
        self.ensure(8.0 + lead + 4.0 * BODY_SIZE * 1.3);
        if self.y > self.top {
            self.y += 8.0;
        }
        for line in wrap(self.font, text, self.content_width(), HEADING_SIZE) {
            self.ensure(lead);
            self.y += lead;
            self.text(MARGIN, self.y - 3.0, HEADING_SIZE, line);
        }
        self.y += 2.0;
    }

    fn paragraph(&mut self, text: &str) {
        let lead = BODY_SIZE * 1.3;
        for line in wrap(self.font, text, self.content_width(), BODY_SIZE) {
            self.ensure(lead);
            self.y += lead;
            self.text(MARGIN, self.y - 3.0, BODY_SIZE, line);
        }
        self.y += 4.0;
    }

    fn fields(&mut self, fields: &[(String, String)]) {
        let lead = BODY_SIZE * 1.3;
        let label_w = self.content_width() * 0.28;
        let value_w = self.content_width() - label_w - 6.0;
        for (label, value) in fields {
            let labels = wrap(self.font, label, label_w, BODY_SIZE);
            let values = wrap(self.font, value, value_w, BODY_SIZE);
            for i in 0..labels.len().max(values.len()) {
                self.ensure(lead);
                self.y += lead;
                let base = self.y - 3.0;
                if let Some(l) = labels.get(i) {
                    self.text(MARGIN, base, BODY_SIZE, l.clone());
                }
                if let Some(v) = values.get(i) {
                    self.text(MARGIN + label_w + 6.0, base, BODY_SIZE, v.clone());
                }
            }
        }
        self.y += 4.0;
    }

    fn table(&mut self, t: &Table) {
        let total: f32 = t.columns.iter().map(|c| c.1).sum::<f32>().max(f32::EPSILON);
        let cw = self.content_width();
        let widths: Vec<f32> = t.columns.iter().map(|c| c.1 / total * cw).collect();
        let lead = t.size * 1.25;
        let header: Vec<Vec<String>> = t
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| wrap(self.font, &c.0, w - 2.0 * CELL_PAD, t.size))
            .collect();
        let header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
        let header_h = header_lines as f32 * lead + 2.0 * CELL_PAD;
        let draw_header = |l: &mut Layout| {
            let y0 = l.y;
            l.ops().push(Op::Shade {
                x: MARGIN,
                y: y0,
                w: cw,
                h: header_h,
            });
            let mut x = MARGIN;
            for (lines, w) in header.iter().zip(&widths) {
                for (i, line) in lines.iter().enumerate() {
                    l.text(
                        x + CELL_PAD,
                        y0 + CELL_PAD + (i + 1) as f32 * lead - t.size * 0.28,
                        t.size,
                        line.clone(),
                    );
                }
                x += w;
            }
            l.y += header_h;
        };
        self.ensure(header_h + lead + 2.0 * CELL_PAD);
        draw_header(self);
        for row in &t.rows {
            let cells: Vec<Vec<String>> = widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    wrap(
                        self.font,
                        row.get(i).map(String::as_str).unwrap_or(""),
                        w - 2.0 * CELL_PAD,
                        t.size,
                    )
                })
                .collect();
            let mut from = 0;
            let total_lines = cells.iter().map(Vec::len).max().unwrap_or(1);
            while from < total_lines {
                let room = ((self.bottom - self.y - 2.0 * CELL_PAD) / lead)
                    .floor()
                    .max(0.0) as usize;
                let left = total_lines - from;
                let fits_fresh =
                    ((self.bottom - self.top - header_h - 2.0 * CELL_PAD) / lead).floor() as usize;
                // Start the row on a new page unless it is taller than any page can hold.
                if room < left && (left <= fits_fresh || room == 0) {
                    self.new_page();
                    draw_header(self);
                    continue;
                }
                let take = left.min(room);
                let y0 = self.y;
                let mut x = MARGIN;
                for (lines, w) in cells.iter().zip(&widths) {
                    for (i, line) in lines.iter().skip(from).take(take).enumerate() {
                        self.text(
                            x + CELL_PAD,
                            y0 + CELL_PAD + (i + 1) as f32 * lead - t.size * 0.28,
                            t.size,
                            line.clone(),
                        );
                    }
                    x += w;
                }
                self.y += take as f32 * lead + 2.0 * CELL_PAD;
                let y = self.y;
                self.ops().push(Op::Rule {
                    x1: MARGIN,
                    y1: y,
                    x2: MARGIN + cw,
                    y,
                    width: 0.3,
                    gray: 170,
                });
                from += take;
            }
        }
        self.y += 6.0;
    }
}

/// Lays out and draws `blocks` on pages with `frame`'s running header and page numbers.
pub fn render(frame: &Frame, blocks: &[Block]) -> Result<Vec<u8>, String> {
    let font = font()?;
    let mut l = Layout::new(font, frame);
    for b in blocks {
        match b {
            Block::Heading(t) => l.heading(t),
            Block::Paragraph(t) => l.paragraph(t),
            Block::Fields(f) => l.fields(f),
            Block::Table(t) => l.table(t),
            Block::Space(h) => {
                l.y += h;
            }
        }
    }
    let (width, height, pages) = (l.width, l.height, l.pages);
    let count = pages.len();
    let mut doc = Document::new();
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(frame.document_title.clone())
            .language("sv".into())
            .creator("Stamp".into()),
    );
    let settings = PageSettings::from_wh(width, height).ok_or("bad page size")?;
    for (n, ops) in pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        let black = Fill {
            paint: luma::Color::black().into(),
            ..Default::default()
        };
        let draw = |s: &mut krilla::surface::Surface, x: f32, y: f32, size: f32, text: &str| {
            let glyphs: Vec<KrillaGlyph> = text
                .char_indices()
                .map(|(i, c)| {
                    let (gid, adv) = font.glyph(c);
                    KrillaGlyph::new(
                        GlyphId::new(gid),
                        adv,
                        0.0,
                        0.0,
                        0.0,
                        i..i + c.len_utf8(),
                        None,
                    )
                })
                .collect();
            s.draw_glyphs(
                Point::from_xy(x, y),
                &glyphs,
                font.font.clone(),
                text,
                size,
                false,
            );
        };
        // Running header and footer.
        s.set_fill(Some(black.clone()));
        s.set_stroke(None);
        draw(
            &mut s,
            MARGIN,
            MARGIN + TITLE_SIZE,
            TITLE_SIZE,
            &frame.title,
        );
        for (i, line) in frame.header.iter().enumerate() {
            draw(
                &mut s,
                MARGIN,
                MARGIN + TITLE_SIZE + 4.0 + (i + 1) as f32 * HEADER_LEAD - 2.0,
                HEADER_SIZE,
                line,
            );
        }
        let page_no = format!("Sida {} av {count}", n + 1);
        let pw = font.width(&page_no, FOOTER_SIZE);
        draw(
            &mut s,
            width - MARGIN - pw,
            height - MARGIN + 6.0,
            FOOTER_SIZE,
            &page_no,
        );
        rule(&mut s, MARGIN, l.top - 5.0, width - MARGIN, 0.6, 90);
        rule(
            &mut s,
            MARGIN,
            height - MARGIN - 6.0,
            width - MARGIN,
            0.6,
            90,
        );
        for op in ops {
            match op {
                Op::Text { x, y, size, text } => {
                    s.set_fill(Some(black.clone()));
                    s.set_stroke(None);
                    draw(&mut s, x, y, size, &text);
                }
                Op::Rule {
                    x1,
                    y1,
                    x2,
                    y,
                    width,
                    gray,
                } => {
                    let _ = y1;
                    rule(&mut s, x1, y, x2, width, gray);
                }
                Op::Shade { x, y, w, h } => {
                    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        if let Some(path) = pb.finish() {
                            s.set_stroke(None);
                            s.set_fill(Some(Fill {
                                paint: luma::Color::new(232).into(),
                                ..Default::default()
                            }));
                            s.draw_path(&path);
                        }
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    doc.finish()
        .map_err(|e| format!("the PDF cannot be written: {e:?}"))
}

fn rule(s: &mut krilla::surface::Surface, x1: f32, y: f32, x2: f32, width: f32, gray: u8) {
    let mut pb = PathBuilder::new();
    pb.move_to(x1, y);
    pb.line_to(x2, y);
    if let Some(path) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(Stroke {
            paint: luma::Color::new(gray).into(),
            width,
            ..Default::default()
        }));
        s.draw_path(&path);
        s.set_stroke(None);
    }
}

#[cfg(test)]
mod tests;
