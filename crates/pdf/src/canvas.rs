//! A small fixed-layout drawing surface for forms (the pagoPA avviso and
//! the F24 semplificato): text at given positions, filled rectangles (rules,
//! boxes, the modules of QR and Data Matrix symbols), on A4 pages, written
//! as **PDF/A-3u** through krilla like [`crate::PdfWriter`] (embedded subset
//! fonts, XMP, sRGB OutputIntent, krilla's validation).
//!
//! Coordinates are in points, origin at the top left of the page, y down;
//! a text's y is its baseline.

use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::PathBuilder;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{LineCap, Stroke};
use krilla::{Document, SerializeSettings};

use crate::{Face, Fonts, Info, PdfError, clean, fill_rects, metrics, pdf_date, wrap};

/// A4 in points (ISO 216).
pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
/// Points per millimetre.
pub(crate) const MM: f32 = 72.0 / 25.4;

pub(crate) const BLACK: (u8, u8, u8) = (0, 0, 0);
pub(crate) const TEXT: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
pub(crate) const GREY: (u8, u8, u8) = (0x5c, 0x6f, 0x82);
pub(crate) const BLUE: (u8, u8, u8) = (0x00, 0x66, 0xcc);

enum Draw {
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        color: (u8, u8, u8),
        text: String,
    },
    /// Filled rectangles `(x, y, w, h)` in one path and one fill.
    Rects {
        rects: Vec<(f32, f32, f32, f32)>,
        color: (u8, u8, u8),
    },
    /// Horizontal bars `(x0, x1, y)` of one height, centred on `y`, in
    /// black: one stroked path of line segments with butt caps, which is
    /// exactly the rectangles `(x0, y - h/2, x1 - x0, h)` in about half the
    /// content of filled rectangles (a 2D symbol is thousands of them).
    Bars {
        bars: Vec<(f32, f32, f32)>,
        height: f32,
    },
}

/// Pages of positioned drawing operations.
pub(crate) struct Canvas {
    pages: Vec<Vec<Draw>>,
}

impl Canvas {
    pub(crate) fn new() -> Self {
        Canvas {
            pages: vec![Vec::new()],
        }
    }

    pub(crate) fn new_page(&mut self) {
        self.pages.push(Vec::new());
    }

    fn ops(&mut self) -> &mut Vec<Draw> {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Text with its baseline at `y`, starting at `x`.
    pub(crate) fn text(
        &mut self,
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        color: (u8, u8, u8),
        text: &str,
    ) {
        let text = clean(text);
        if text.trim().is_empty() {
            return;
        }
        self.ops().push(Draw::Text {
            x,
            y,
            face,
            size,
            color,
            text,
        });
    }

    /// Text on every page, from the page number (from 1) and the count
    /// (page footers "Pagina n di N").
    pub(crate) fn on_every_page(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        text: impl Fn(usize, usize) -> String,
    ) {
        let total = self.pages.len();
        for (i, ops) in self.pages.iter_mut().enumerate() {
            ops.push(Draw::Text {
                x,
                y,
                face: Face::Regular,
                size,
                color: GREY,
                text: clean(&text(i + 1, total)),
            });
        }
    }

    /// Text ending at `x` (right-aligned).
    pub(crate) fn text_right(
        &mut self,
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        color: (u8, u8, u8),
        text: &str,
    ) -> Result<(), PdfError> {
        let w = width(face, size, text)?;
        self.text(x - w, y, face, size, color, text);
        Ok(())
    }

    /// Text centred on `x`.
    pub(crate) fn text_centre(
        &mut self,
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        color: (u8, u8, u8),
        text: &str,
    ) -> Result<(), PdfError> {
        let w = width(face, size, text)?;
        self.text(x - w / 2.0, y, face, size, color, text);
        Ok(())
    }

    /// A paragraph wrapped to `w`, first baseline at `y`; returns the y
    /// below its last line (one `leading` after it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn paragraph(
        &mut self,
        x: f32,
        y: f32,
        w: f32,
        face: Face,
        size: f32,
        leading: f32,
        color: (u8, u8, u8),
        text: &str,
    ) -> Result<f32, PdfError> {
        let mut y = y;
        for line in wrap(&clean(text), face, size, w)? {
            self.text(x, y, face, size, color, &line);
            y += leading;
        }
        Ok(y)
    }

    /// Filled rectangles.
    pub(crate) fn rects(&mut self, rects: Vec<(f32, f32, f32, f32)>, color: (u8, u8, u8)) {
        if !rects.is_empty() {
            self.ops().push(Draw::Rects { rects, color });
        }
    }

    /// A filled rectangle.
    pub(crate) fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
        self.rects(vec![(x, y, w, h)], color);
    }

    /// The outline of a rectangle, `t` points thick, drawn inside it.
    pub(crate) fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, t: f32, color: (u8, u8, u8)) {
        self.rects(
            vec![
                (x, y, w, t),
                (x, y + h - t, w, t),
                (x, y, t, h),
                (x + w - t, y, t, h),
            ],
            color,
        );
    }

    /// A 2D symbol (QR, Data Matrix): `width` modules per row, row-major,
    /// `true` = dark, drawn at `(x, y)` with square modules of `module`
    /// points, one rectangle per horizontal run of dark modules, in black
    /// (monochrome, taxes-pagopa.md §4.2). The quiet zone is the caller's
    /// white space around it.
    pub(crate) fn symbol(&mut self, x: f32, y: f32, module: f32, width: usize, dark: &[bool]) {
        let mut bars = Vec::new();
        for (r, row) in dark.chunks(width).enumerate() {
            let mut c = 0;
            while c < row.len() {
                if row[c] {
                    let start = c;
                    while c < row.len() && row[c] {
                        c += 1;
                    }
                    bars.push((
                        x + start as f32 * module,
                        x + c as f32 * module,
                        y + (r as f32 + 0.5) * module,
                    ));
                } else {
                    c += 1;
                }
            }
        }
        if !bars.is_empty() {
            self.ops().push(Draw::Bars {
                bars,
                height: module,
            });
        }
    }

    /// Writes the PDF/A-3u file.
    pub(crate) fn finish(self, info: &Info) -> Result<Vec<u8>, PdfError> {
        let configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A3_U)
            .finish()
            .map_err(|e| PdfError::Export(format!("{e:?}")))?;
        let settings = SerializeSettings {
            configuration,
            ..SerializeSettings::default()
        };
        let mut doc = Document::new_with(settings);
        doc.set_metadata(
            Metadata::new()
                .title(info.title.clone())
                .description(info.subject.clone())
                .authors(vec![info.author.clone()])
                .language(info.language.clone())
                .creator("Palazzo".to_owned())
                .producer("Palazzo (krilla)".to_owned())
                .creation_date(pdf_date(info.created)),
        );
        let fonts = Fonts::load()?;
        for ops in &self.pages {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
                .ok_or(PdfError::Export("page size".into()))?;
            let mut page = doc.start_page_with(settings);
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Draw::Text {
                        x,
                        y,
                        face,
                        size,
                        color,
                        text,
                    } => fonts.draw(&mut surface, (*x, *y), *face, *size, *color, text)?,
                    Draw::Rects { rects, color } => {
                        fill_rects(&mut surface, rects.iter().copied(), *color);
                    }
                    Draw::Bars { bars, height } => {
                        let mut pb = PathBuilder::new();
                        for &(x0, x1, y) in bars {
                            pb.move_to(x0, y);
                            pb.line_to(x1, y);
                        }
                        if let Some(path) = pb.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: krilla::color::rgb::Color::black().into(),
                                width: *height,
                                line_cap: LineCap::Butt,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        doc.finish().map_err(|e| PdfError::Export(format!("{e:?}")))
    }
}

/// The width of `text` in points.
pub(crate) fn width(face: Face, size: f32, text: &str) -> Result<f32, PdfError> {
    metrics(face).width(&clean(text), size)
}

/// Whole cents in the Italian format with two decimals and thousands
/// separators, e.g. `1.020,99` (taxes-pagopa.md §4.4, module 3.1).
pub(crate) fn euro(cents: u64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::with_capacity(units.len() + units.len() / 3 + 3);
    for (i, ch) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{grouped},{:02}", cents % 100)
}

/// A date as `dd/mm/yyyy`.
pub(crate) fn data(d: jiff::civil::Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn italian_money_and_dates() {
        assert_eq!(euro(0), "0,00");
        assert_eq!(euro(5), "0,05");
        assert_eq!(euro(102_099), "1.020,99");
        assert_eq!(euro(91_800), "918,00");
        assert_eq!(euro(99_999_999_999), "999.999.999,99");
        assert_eq!(euro(100_000_000), "1.000.000,00");
        assert_eq!(data(jiff::civil::date(2026, 6, 1)), "01/06/2026");
    }

    #[test]
    fn fonts_have_the_euro_sign() {
        use skrifa::MetadataProvider;
        for face in [Face::Regular, Face::Bold] {
            assert!(metrics(face).font().unwrap().charmap().map('€').is_some());
        }
    }
}
