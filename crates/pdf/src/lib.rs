//! PDF/A-3 documents for Palazzo: receipts now, the registro giornaliero,
//! certificates and acts later (DESIGN "crates/pdf").
//!
//! [`PdfWriter`] lays out simple flowing text (titles, headings, paragraphs,
//! label–value rows, rules) on A4 pages and writes a **PDF/A-3u** file
//! (ISO 19005-3, level U: every glyph maps to Unicode) through `krilla`,
//! which embeds and subsets the fonts, writes the XMP metadata with
//! `pdfaid:part=3`, the sRGB OutputIntent and validates the result; a
//! document that would not conform is an error, never a silently
//! non-conforming file. Files can be attached as PDF/A-3 associated files
//! (clause 6.8: `/AF` with an `AFRelationship`), e.g. the machine-readable
//! bundle of a receipt (DECISIONS 13).
//!
//! The fonts are Titillium Web Regular and Bold (SIL OFL 1.1), vendored in
//! `crates/pdf/fonts` and compiled into the binary.
//!
//! [`certificate`] renders sealed certificates (issue 5) at speed: a
//! [`CertificateTemplate`] is built once per comune and certificate type
//! (fonts subset and serialised once, static content pre-built) and writes
//! each PDF/A-3b certificate by hand, without krilla (DECISIONS 21).
//!
//! [`read`] finds attached files again in a PDF, without a full PDF parser.
//!
//! [`avviso`] renders the pagoPA avviso di pagamento and [`f24`] the F24
//! semplificato (issue 7) on a small fixed-layout canvas written through
//! krilla like [`PdfWriter`].

pub mod avviso;
mod canvas;
pub mod certificate;
pub mod f24;
pub mod read;
pub mod signature;

pub use certificate::{CertificateData, CertificateTemplate, Field, QrMatrix, TemplateSpec};
pub use signature::{PreparedPdf, SignatureParts, SignatureSpec, signature_parts};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, GlyphId as KrillaGlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

static REGULAR: &[u8] = include_bytes!("../fonts/TitilliumWeb-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/TitilliumWeb-Bold.ttf");

/// A4 in points (ISO 216).
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// 2 cm margins; the bottom one leaves room for the footer.
const MARGIN_X: f32 = 56.7;
const MARGIN_TOP: f32 = 56.7;
const MARGIN_BOTTOM: f32 = 70.0;
/// Width of the label column of [`PdfWriter::field`].
const LABEL_W: f32 = 150.0;

/// Why a PDF could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    /// A vendored font could not be read (a build problem).
    #[error("font: {0}")]
    Font(&'static str),
    /// The media type of an attachment is not valid.
    #[error("invalid media type `{0}`")]
    MediaType(String),
    /// Two attachments have the same name.
    #[error("duplicate attachment `{0}`")]
    DuplicateAttachment(String),
    /// krilla refused the document (e.g. a PDF/A validation error).
    #[error("PDF/A export: {0}")]
    Export(String),
    /// A character the certificate template's font subset lacks; it is
    /// refused rather than drawn as a wrong glyph (R8).
    #[error("character U+{:04X} is not in the certificate fonts", u32::from(*.0))]
    Unsupported(char),
    /// The certificate's content does not fit on the pages allowed.
    #[error("the certificate is too long")]
    TooLong,
    /// The QR matrix is not usable (not a QR size, or too dense for
    /// 0.40 mm modules, R2).
    #[error("QR: {0}")]
    Qr(&'static str),
    /// The data of a form (avviso di pagamento, F24) are not valid, e.g. a
    /// codice avviso that is not 18 digits; the message says which.
    #[error("invalid data: {0}")]
    Invalid(String),
    /// The signature placeholder could not be made or filled.
    #[error("signature: {0}")]
    Signature(&'static str),
}

/// The document information, written both in the Info dictionary and in the
/// XMP metadata (PDF/A requires the two to agree; krilla writes both).
#[derive(Debug, Clone)]
pub struct Info {
    /// `dc:title`.
    pub title: String,
    /// `dc:description`.
    pub subject: String,
    /// `dc:creator`: who issues the document (the ente).
    pub author: String,
    /// `dc:language`, RFC 3066, e.g. `it-IT`.
    pub language: String,
    /// Creation time, also the modification date of the attachments.
    pub created: Timestamp,
}

/// The PDF/A-3 relationship of an attached file to the document (ISO
/// 19005-3 §6.8, `AFRelationship`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    /// The document was made from this file.
    Source,
    /// Data the visible content was derived from.
    Data,
    /// An alternative representation of the content.
    Alternative,
    /// A supplement to the content.
    Supplement,
}

/// A file attached to the document (PDF/A-3 associated file).
#[derive(Debug, Clone)]
pub struct Attachment {
    /// File name, e.g. `ricevuta.cbor`.
    pub name: String,
    /// Media type, e.g. `application/cbor`.
    pub media_type: String,
    /// A human-readable description (required by PDF/A-3).
    pub description: String,
    /// The bytes. They are stored uncompressed, so that they can be found
    /// again byte for byte by simple tools (see [`read`]).
    pub data: Vec<u8>,
    /// How it relates to the document.
    pub relationship: Relationship,
}

/// Text styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The document title.
    Title,
    /// A section heading.
    Heading,
    /// Body text.
    Body,
    /// Body text in bold.
    Strong,
    /// Small print (notes, fingerprints).
    Small,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

struct StyleSpec {
    face: Face,
    size: f32,
    leading: f32,
    color: (u8, u8, u8),
}

/// The blue of the Italian PA design system (#0066CC).
const BLUE: (u8, u8, u8) = (0x00, 0x66, 0xcc);
const TEXT: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
const GREY: (u8, u8, u8) = (0x5c, 0x6f, 0x82);

fn spec(style: Style) -> StyleSpec {
    let (face, size, leading, color) = match style {
        Style::Title => (Face::Bold, 18.0, 24.0, BLUE),
        Style::Heading => (Face::Bold, 12.0, 17.0, BLUE),
        Style::Body => (Face::Regular, 10.0, 14.0, TEXT),
        Style::Strong => (Face::Bold, 10.0, 14.0, TEXT),
        Style::Small => (Face::Regular, 8.5, 11.5, GREY),
    };
    StyleSpec {
        face,
        size,
        leading,
        color,
    }
}

/// One drawing operation, laid out in page coordinates (origin top left,
/// y down, points).
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        color: (u8, u8, u8),
        text: String,
    },
    Rule {
        y: f32,
    },
}

/// Metrics of one vendored font.
struct Metrics {
    bytes: &'static [u8],
}

impl Metrics {
    fn font(&self) -> Result<FontRef<'static>, PdfError> {
        FontRef::new(self.bytes).map_err(|_| PdfError::Font("cannot parse a vendored font"))
    }

    /// The glyphs of `text` (advances in em) and its width in em. A
    /// character the font lacks is drawn as `?` but still maps to itself
    /// in the text layer (PDF/A forbids `.notdef` glyphs, §6.2.11.8).
    fn shape(&self, text: &str) -> Result<(Vec<KrillaGlyph>, f32), PdfError> {
        let font = self.font()?;
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        let fallback = charmap.map('?').ok_or(PdfError::Font("font lacks `?`"))?;
        let mut glyphs = Vec::with_capacity(text.len());
        let mut width = 0.0;
        for (i, ch) in text.char_indices() {
            let gid = charmap.map(ch).unwrap_or(fallback);
            let advance = metrics.advance_width(gid).unwrap_or(0.0) / upem;
            width += advance;
            glyphs.push(KrillaGlyph::new(
                KrillaGlyphId::new(gid.to_u32()),
                advance,
                0.0,
                0.0,
                0.0,
                i..i + ch.len_utf8(),
                None,
            ));
        }
        Ok((glyphs, width))
    }

    fn width(&self, text: &str, size: f32) -> Result<f32, PdfError> {
        Ok(self.shape(text)?.1 * size)
    }
}

fn metrics(face: Face) -> Metrics {
    Metrics {
        bytes: match face {
            Face::Regular => REGULAR,
            Face::Bold => BOLD,
        },
    }
}

/// Replaces control characters (they have no glyph) with spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Breaks `text` into lines no wider than `width` points: at spaces, and
/// inside a word only when the word alone is too wide (fingerprints, URLs).
fn wrap(text: &str, face: Face, size: f32, width: f32) -> Result<Vec<String>, PdfError> {
    let m = metrics(face);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if m.width(&candidate, size)? <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if m.width(word, size)? <= width {
            line = word.to_owned();
            continue;
        }
        // A word wider than the line: break it between characters.
        for ch in word.chars() {
            let mut next = line.clone();
            next.push(ch);
            if !line.is_empty() && m.width(&next, size)? > width {
                lines.push(std::mem::replace(&mut line, ch.to_string()));
            } else {
                line = next;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    Ok(lines)
}

/// Builds a PDF/A-3 document from flowing text. Content is laid out as it is
/// added; [`PdfWriter::finish`] writes the file.
pub struct PdfWriter {
    info: Info,
    footer: String,
    pages: Vec<Vec<Op>>,
    y: f32,
    attachments: Vec<Attachment>,
}

impl PdfWriter {
    /// A new document with one empty page. `footer` is printed at the bottom
    /// of every page, followed by "Pagina n di N".
    #[must_use]
    pub fn new(info: Info, footer: impl Into<String>) -> Self {
        PdfWriter {
            info,
            footer: clean(&footer.into()),
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            attachments: Vec::new(),
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page when `height` more points would not fit.
    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN_BOTTOM && self.y > MARGIN_TOP {
            self.pages.push(Vec::new());
            self.y = MARGIN_TOP;
        }
    }

    fn line(&mut self, x: f32, style: &StyleSpec, text: String) {
        let y = self.y + style.size;
        self.ops().push(Op::Text {
            x,
            y,
            face: style.face,
            size: style.size,
            color: style.color,
            text,
        });
    }

    /// Vertical space.
    pub fn space(&mut self, points: f32) {
        self.y += points;
    }

    /// A paragraph in `style`, wrapped to the text width; `\n` starts a new line.
    ///
    /// # Errors
    /// [`PdfError::Font`] if a vendored font cannot be read.
    pub fn paragraph(&mut self, style: Style, text: &str) -> Result<(), PdfError> {
        let s = spec(style);
        if matches!(style, Style::Heading) {
            self.ensure(s.leading * 3.0);
            self.space(6.0);
        }
        for part in text.split('\n') {
            for l in wrap(&clean(part), s.face, s.size, PAGE_W - 2.0 * MARGIN_X)? {
                self.ensure(s.leading);
                self.line(MARGIN_X, &s, l);
                self.y += s.leading;
            }
        }
        self.space(s.leading * 0.35);
        Ok(())
    }

    /// A label–value row: the label in bold on the left, the value wrapped
    /// in the right column (`\n` in the value starts a new line).
    ///
    /// # Errors
    /// [`PdfError::Font`] if a vendored font cannot be read.
    pub fn field(&mut self, label: &str, value: &str) -> Result<(), PdfError> {
        self.field_styled(label, value, Style::Body)
    }

    /// Like [`PdfWriter::field`] with the value in `style` (e.g. [`Style::Small`]
    /// for fingerprints).
    ///
    /// # Errors
    /// [`PdfError::Font`] if a vendored font cannot be read.
    pub fn field_styled(&mut self, label: &str, value: &str, style: Style) -> Result<(), PdfError> {
        let ls = spec(Style::Strong);
        let vs = spec(style);
        let label_lines = wrap(&clean(label), ls.face, ls.size, LABEL_W - 8.0)?;
        let mut value_lines = Vec::new();
        for part in value.split('\n') {
            value_lines.extend(wrap(
                &clean(part),
                vs.face,
                vs.size,
                PAGE_W - 2.0 * MARGIN_X - LABEL_W,
            )?);
        }
        let leading = ls.leading.max(vs.leading);
        let rows = label_lines.len().max(value_lines.len());
        // Keep short rows together on one page.
        self.ensure(leading * (rows.min(6) as f32));
        let top = self.y;
        for l in label_lines.into_iter() {
            self.ensure(ls.leading);
            self.line(MARGIN_X, &ls, l);
            self.y += ls.leading;
        }
        let after_label = self.y;
        self.y = top;
        let page_of_label = self.pages.len();
        for l in value_lines {
            self.ensure(vs.leading);
            self.line(MARGIN_X + LABEL_W, &vs, l);
            self.y += vs.leading;
        }
        if self.pages.len() == page_of_label {
            self.y = self.y.max(after_label);
        }
        self.space(3.0);
        Ok(())
    }

    /// A thin horizontal rule across the text width.
    pub fn rule(&mut self) {
        self.ensure(8.0);
        self.space(3.0);
        let y = self.y;
        self.ops().push(Op::Rule { y });
        self.space(6.0);
    }

    /// Attaches a file (PDF/A-3 associated file).
    pub fn attach(&mut self, file: Attachment) {
        self.attachments.push(file);
    }

    /// Writes the PDF/A-3u file.
    ///
    /// # Errors
    /// [`PdfError::MediaType`], [`PdfError::DuplicateAttachment`], or
    /// [`PdfError::Export`] when krilla's PDF/A validation refuses the document.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        let configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A3_U)
            .finish()
            .map_err(|e| PdfError::Export(format!("{e:?}")))?;
        let settings = SerializeSettings {
            configuration,
            // PDF/A-3 §6.8: the attachment must be findable byte for byte.
            ascii_compatible: false,
            ..SerializeSettings::default()
        };
        let mut doc = Document::new_with(settings);
        let date = pdf_date(self.info.created);
        doc.set_metadata(
            Metadata::new()
                .title(self.info.title.clone())
                .description(self.info.subject.clone())
                .authors(vec![self.info.author.clone()])
                .language(self.info.language.clone())
                .creator("Palazzo".to_owned())
                .producer("Palazzo (krilla)".to_owned())
                .creation_date(date),
        );
        for a in self.attachments {
            let mime = MimeType::new(&a.media_type)
                .ok_or_else(|| PdfError::MediaType(a.media_type.clone()))?;
            let name = a.name.clone();
            let added = doc.embed_file(EmbeddedFile {
                path: a.name,
                mime_type: Some(mime),
                description: Some(a.description),
                association_kind: match a.relationship {
                    Relationship::Source => AssociationKind::Source,
                    Relationship::Data => AssociationKind::Data,
                    Relationship::Alternative => AssociationKind::Alternative,
                    Relationship::Supplement => AssociationKind::Supplement,
                },
                data: a.data.into(),
                modification_date: Some(date),
                compress: Some(false),
                location: None,
            });
            if added.is_none() {
                return Err(PdfError::DuplicateAttachment(name));
            }
        }
        let fonts = Fonts::load()?;
        let total = self.pages.len();
        for (n, ops) in self.pages.iter().enumerate() {
            let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
                .ok_or(PdfError::Export("page size".into()))?;
            let mut page = doc.start_page_with(settings);
            let mut surface = page.surface();
            let footer = Op::Text {
                x: MARGIN_X,
                y: PAGE_H - MARGIN_BOTTOM + 30.0,
                face: Face::Regular,
                size: 8.0,
                color: GREY,
                text: format!("{} — Pagina {} di {}", self.footer, n + 1, total),
            };
            for op in ops.iter().chain(std::iter::once(&footer)) {
                match op {
                    Op::Text {
                        x,
                        y,
                        face,
                        size,
                        color,
                        text,
                    } => fonts.draw(&mut surface, (*x, *y), *face, *size, *color, text)?,
                    Op::Rule { y } => fill_rects(
                        &mut surface,
                        [(MARGIN_X, *y, PAGE_W - 2.0 * MARGIN_X, 0.6)],
                        GREY,
                    ),
                }
            }
            surface.finish();
            page.finish();
        }
        doc.finish().map_err(|e| PdfError::Export(format!("{e:?}")))
    }
}

/// The two faces, loaded once per document.
pub(crate) struct Fonts {
    regular: Font,
    bold: Font,
}

impl Fonts {
    /// Loads the embedded Titillium Web faces.
    pub(crate) fn load() -> Result<Fonts, PdfError> {
        Ok(Fonts {
            regular: Font::new(REGULAR.into(), 0).ok_or(PdfError::Font("regular"))?,
            bold: Font::new(BOLD.into(), 0).ok_or(PdfError::Font("bold"))?,
        })
    }

    /// Draws `text` with its baseline's start at `at`.
    pub(crate) fn draw(
        &self,
        surface: &mut krilla::surface::Surface<'_>,
        at: (f32, f32),
        face: Face,
        size: f32,
        color: (u8, u8, u8),
        text: &str,
    ) -> Result<(), PdfError> {
        let (glyphs, _) = metrics(face).shape(text)?;
        surface.set_fill(Some(fill(color)));
        let font = match face {
            Face::Regular => self.regular.clone(),
            Face::Bold => self.bold.clone(),
        };
        surface.draw_glyphs(Point::from_xy(at.0, at.1), &glyphs, font, text, size, false);
        Ok(())
    }
}

/// Fills rectangles `(x, y, w, h)` (from the top left, in points) with one
/// colour, as one path.
pub(crate) fn fill_rects(
    surface: &mut krilla::surface::Surface<'_>,
    rects: impl IntoIterator<Item = (f32, f32, f32, f32)>,
    color: (u8, u8, u8),
) {
    let mut pb = PathBuilder::new();
    for (x, y, w, h) in rects {
        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            pb.push_rect(rect);
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(fill(color)));
        surface.draw_path(&path);
    }
}

fn fill((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// The instant as a PDF date in UTC.
fn pdf_date(t: Timestamp) -> DateTime {
    let dt = TimeZone::UTC.to_datetime(t);
    let small = |v: i8| u8::try_from(v).unwrap_or(0);
    DateTime::new(u16::try_from(dt.year()).unwrap_or(1970))
        .month(small(dt.month()))
        .day(small(dt.day()))
        .hour(small(dt.hour()))
        .minute(small(dt.minute()))
        .second(small(dt.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn sample() -> PdfWriter {
        PdfWriter::new(
            Info {
                title: "Prova".into(),
                subject: "Documento di prova".into(),
                author: "Comune di Prova".into(),
                language: "it-IT".into(),
                created: "2026-03-02T09:15:30Z".parse().unwrap(),
            },
            "Comune di Prova",
        )
    }

    #[test]
    fn writes_pdf_a3_with_attachment() {
        let mut w = sample();
        w.paragraph(Style::Title, "Ricevuta di protocollo").unwrap();
        w.paragraph(Style::Heading, "Dati della registrazione")
            .unwrap();
        w.field("Numero", "0000012").unwrap();
        w.field_styled(
            "Impronta",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            Style::Small,
        )
        .unwrap();
        w.rule();
        w.paragraph(Style::Body, "Perché è così? «Così» — città, però: ✓ \u{7}")
            .unwrap();
        for i in 0..120 {
            w.paragraph(Style::Body, &format!("Riga {i}")).unwrap();
        }
        w.attach(Attachment {
            name: "dati.cbor".into(),
            media_type: "application/cbor".into(),
            description: "Dati".into(),
            data: b"\xa1\x61a\x01".to_vec(),
            relationship: Relationship::Data,
        });
        let pdf = w.finish().unwrap();
        assert!(pdf.starts_with(b"%PDF-1.7"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("pdfaid:part>3<") || text.contains("pdfaid:part=\"3\""));
        if let Ok(dir) = std::env::var("PALAZZO_PDF_DUMP") {
            std::fs::write(format!("{dir}/sample.pdf"), &pdf).unwrap();
        }
        assert!(text.contains("/AFRelationship/Data"), "no AFRelationship");
        let files = read::embedded_files(&pdf).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].data, b"\xa1\x61a\x01");
        assert_eq!(files[0].media_type.as_deref(), Some("application/cbor"));
    }

    #[test]
    fn duplicate_attachment_is_an_error() {
        let mut w = sample();
        for _ in 0..2 {
            w.attach(Attachment {
                name: "x.cbor".into(),
                media_type: "application/cbor".into(),
                description: "x".into(),
                data: vec![0],
                relationship: Relationship::Data,
            });
        }
        assert!(matches!(w.finish(), Err(PdfError::DuplicateAttachment(_))));
    }

    #[test]
    fn wraps_long_words() {
        let lines = wrap(&"a".repeat(300), Face::Regular, 10.0, 100.0).unwrap();
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(metrics(Face::Regular).width(l, 10.0).unwrap() <= 100.0);
        }
        assert_eq!(
            wrap("", Face::Regular, 10.0, 100.0).unwrap(),
            vec![String::new()]
        );
    }
}
