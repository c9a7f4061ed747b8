//! The PDF side of a PAdES signature (ETSI EN 319 142-1, ISO 32000-1
//! §12.8): an incremental update that adds an invisible signature field
//! and a signature dictionary whose `/Contents` is a zero-filled
//! placeholder, the two byte ranges the signature covers, and the filling
//! of the placeholder with the CMS `SignedData` (`/SubFilter
//! /ETSI.CAdES.detached`). The CMS itself is made by the caller (the
//! services layer holds the keys, DECISIONS 14).
//!
//! Reading it back, [`signature_parts`] finds the last signature of a PDF:
//! its byte ranges, whether they cover the whole file, and the CMS.
//!
//! The update adds objects only, so a PDF/A-3b document stays PDF/A-3b
//! (ISO 19005-3 §6.1.3 allows incremental updates; the widget has a zero
//! rectangle, the Print flag and no appearance, §6.3.2–6.3.3).

use std::fmt::Write as _;
use std::io::Write as _;

use jiff::Timestamp;

use crate::PdfError;

/// Width of each patched `/ByteRange` number (10 digits: files < 10 GB).
const RANGE_DIGITS: usize = 10;

/// What the signature dictionary says besides the signature.
#[derive(Debug, Clone)]
pub struct SignatureSpec<'a> {
    /// The signature field's name (`/T`), e.g. `Sigillo`.
    pub field: &'a str,
    /// `/Reason`, e.g. "Sigillo elettronico del Comune".
    pub reason: &'a str,
    /// `/Location`, e.g. the comune's name.
    pub location: &'a str,
    /// `/M`, the signing time (PAdES: the CMS carries no `signingTime`).
    pub time: Timestamp,
    /// Bytes reserved for the CMS `SignedData` (the placeholder holds
    /// twice as many hex digits).
    pub capacity: usize,
}

/// A PDF with a signature placeholder: hash [`PreparedPdf::signed_bytes`],
/// sign, and [`PreparedPdf::finish`] with the CMS.
#[derive(Debug, Clone)]
pub struct PreparedPdf {
    bytes: Vec<u8>,
    /// Offset of `<` opening the `/Contents` hex string.
    open: usize,
    /// Offset just after the closing `>`.
    close: usize,
}

impl PreparedPdf {
    /// `/ByteRange`: everything but the `/Contents` hex string, delimiters
    /// included in the gap (ISO 32000-1 §12.8.1).
    #[must_use]
    pub fn byte_range(&self) -> [usize; 4] {
        [0, self.open, self.close, self.bytes.len() - self.close]
    }

    /// The two byte ranges the signature covers, in order.
    #[must_use]
    pub fn signed_bytes(&self) -> [&[u8]; 2] {
        [&self.bytes[..self.open], &self.bytes[self.close..]]
    }

    /// Bytes available for the CMS.
    #[must_use]
    pub fn capacity(&self) -> usize {
        (self.close - self.open - 2) / 2
    }

    /// Writes `cms` (DER) into the placeholder, zero-padded.
    ///
    /// # Errors
    /// [`PdfError::Signature`] when the CMS is larger than the placeholder.
    pub fn finish(mut self, cms: &[u8]) -> Result<Vec<u8>, PdfError> {
        if cms.len() > self.capacity() {
            return Err(PdfError::Signature("the CMS does not fit in /Contents"));
        }
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut at = self.open + 1;
        for b in cms {
            self.bytes[at] = HEX[usize::from(b >> 4)];
            self.bytes[at + 1] = HEX[usize::from(b & 0x0f)];
            at += 2;
        }
        Ok(self.bytes)
    }
}

/// The objects a signature update rewrites: the catalog (to add
/// `/AcroForm`) and the page the widget sits on (to add `/Annots`).
#[derive(Debug, Clone)]
pub(crate) struct UpdateTarget<'a> {
    /// Object number of the catalog, and its dictionary's entries (without
    /// the `<<` `>>`).
    pub catalog: (usize, &'a str),
    /// Object number of the page, and its dictionary's entries.
    pub page: (usize, &'a str),
    /// Object number of the Info dictionary.
    pub info: usize,
    /// The original `/Size` (next free object number).
    pub size: usize,
    /// Offset of the original cross-reference table (`/Prev`).
    pub prev_xref: usize,
    /// The document ID, hex.
    pub id_hex: &'a str,
}

/// Appends to `pdf` an incremental update with an invisible signature field
/// on `target.page` and a signature dictionary with a placeholder.
pub(crate) fn prepare(
    mut pdf: Vec<u8>,
    target: &UpdateTarget<'_>,
    spec: &SignatureSpec<'_>,
) -> Result<PreparedPdf, PdfError> {
    if spec.capacity == 0 || spec.capacity > 1 << 20 {
        return Err(PdfError::Signature("placeholder size out of range"));
    }
    if !pdf.ends_with(b"\n") {
        pdf.push(b'\n');
    }
    let field = target.size;
    let sig = target.size + 1;
    let mut offsets: Vec<(usize, usize)> = Vec::with_capacity(4);
    let (cat_n, cat) = target.catalog;
    offsets.push((cat_n, pdf.len()));
    let _ = write!(
        pdf,
        "{cat_n} 0 obj\n<< {cat} /AcroForm << /Fields [{field} 0 R] /SigFlags 3 >> >>\nendobj\n"
    );
    let (page_n, page) = target.page;
    offsets.push((page_n, pdf.len()));
    let _ = write!(
        pdf,
        "{page_n} 0 obj\n<< {page} /Annots [{field} 0 R] >>\nendobj\n"
    );
    // Print (4) + Locked (128); a zero rectangle: invisible.
    offsets.push((field, pdf.len()));
    let _ = write!(
        pdf,
        "{field} 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /T {} /V {sig} 0 R \
         /Rect [0 0 0 0] /F 132 /P {page_n} 0 R >>\nendobj\n",
        crate::certificate::pdf_text_string(spec.field)
    );
    offsets.push((sig, pdf.len()));
    let _ = write!(
        pdf,
        "{sig} 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
         /M ({}) /Reason {} /Location {} /ByteRange [",
        crate::certificate::pdf_date(spec.time),
        crate::certificate::pdf_text_string(spec.reason),
        crate::certificate::pdf_text_string(spec.location),
    );
    let range_at = pdf.len();
    // Four fixed-width numbers, patched below.
    for _ in 0..4 {
        pdf.extend_from_slice(&[b' '; RANGE_DIGITS + 1]);
    }
    pdf.extend_from_slice(b"] /Contents ");
    let open = pdf.len();
    pdf.push(b'<');
    pdf.resize(pdf.len() + 2 * spec.capacity, b'0');
    pdf.push(b'>');
    let close = pdf.len();
    pdf.extend_from_slice(b" >>\nendobj\n");

    offsets.sort_unstable();
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\n");
    let mut i = 0;
    while i < offsets.len() {
        let mut j = i + 1;
        while j < offsets.len() && offsets[j].0 == offsets[j - 1].0 + 1 {
            j += 1;
        }
        let _ = writeln!(pdf, "{} {}", offsets[i].0, j - i);
        for (_, off) in &offsets[i..j] {
            let _ = write!(pdf, "{off:010} 00000 n\r\n");
        }
        i = j;
    }
    let _ = write!(
        pdf,
        "trailer\n<< /Size {} /Root {cat_n} 0 R /Info {} 0 R /ID [<{id}> <{id}>] /Prev {} >>\n\
         startxref\n{xref}\n%%EOF\n",
        sig + 1,
        target.info,
        target.prev_xref,
        id = target.id_hex,
    );

    let prepared = PreparedPdf {
        bytes: pdf,
        open,
        close,
    };
    let mut text = String::new();
    for n in prepared.byte_range() {
        let _ = write!(text, "{n:<width$} ", width = RANGE_DIGITS);
    }
    let mut prepared = prepared;
    prepared.bytes[range_at..range_at + text.len()].copy_from_slice(text.as_bytes());
    Ok(prepared)
}

/// The last signature of a PDF, as found by [`signature_parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParts {
    /// The `/ByteRange`.
    pub byte_range: [usize; 4],
    /// The signed bytes (the two ranges concatenated).
    pub signed: Vec<u8>,
    /// The CMS `SignedData` from `/Contents` (trailing zero padding
    /// removed by the DER length).
    pub cms: Vec<u8>,
    /// Whether the ranges cover the whole file except `/Contents`: no
    /// bytes were added after signing.
    pub covers_whole_file: bool,
    /// `/SubFilter`, e.g. `ETSI.CAdES.detached`.
    pub sub_filter: Option<String>,
    /// `/M`, the signing time as written (a PDF date, e.g.
    /// `D:20261127093000Z`).
    pub signing_time: Option<String>,
}

/// Finds the last `/ByteRange` of `pdf` and the `/Contents` it leaves out.
/// `Ok(None)` when the file has no signature.
///
/// # Errors
/// A signature that cannot be read (ranges out of the file, the gap not a
/// hex string, contents not DER): the file claims a signature that cannot
/// be checked.
pub fn signature_parts(pdf: &[u8]) -> Result<Option<SignatureParts>, &'static str> {
    let Some(at) = pdf.windows(11).rposition(|w| w == b"/ByteRange ") else {
        return Ok(None);
    };
    let rest = &pdf[at + 11..];
    // Four numbers: a short array (no unbounded parse of a hostile file).
    let head = &rest[..rest.len().min(96)];
    let bad = "malformed /ByteRange";
    let open = head.iter().position(|&c| c == b'[').ok_or(bad)?;
    let end = head.iter().position(|&c| c == b']').ok_or(bad)?;
    let numbers: Vec<usize> = std::str::from_utf8(head.get(open + 1..end).ok_or(bad)?)
        .map_err(|_| bad)?
        .split_ascii_whitespace()
        .take(5)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad)?;
    let [a, b, c, d] = numbers.as_slice().try_into().map_err(|_| bad)?;
    let first_end = a.checked_add(b).ok_or(bad)?;
    let second_end = c.checked_add(d).ok_or(bad)?;
    if a != 0 || first_end > c || second_end > pdf.len() {
        return Err("/ByteRange outside the file");
    }
    let gap = &pdf[first_end..c];
    if gap.len() < 2 || gap[0] != b'<' || gap[gap.len() - 1] != b'>' {
        return Err("/Contents is not where /ByteRange leaves a gap");
    }
    let hex = &gap[1..gap.len() - 1];
    if !hex.len().is_multiple_of(2) {
        return Err("/Contents is not a hex string");
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut cms = Vec::with_capacity(hex.len() / 2);
    for pair in hex.chunks_exact(2) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => cms.push(h << 4 | l),
            _ => return Err("/Contents is not a hex string"),
        }
    }
    cms.truncate(der_length(&cms).ok_or("/Contents is not a DER signature")?);
    let mut signed = Vec::with_capacity(b + d);
    signed.extend_from_slice(&pdf[..first_end]);
    signed.extend_from_slice(&pdf[c..second_end]);
    // The signature dictionary opens before `/ByteRange`; `/SubFilter` and
    // `/M` may come before or after the ranges and the contents.
    let lo = pdf[..at].windows(2).rposition(|w| w == b"<<").unwrap_or(0);
    let hi = c.saturating_add(512).min(pdf.len()).max(lo);
    let dict = &pdf[lo..hi];
    let after = |key: &[u8]| {
        dict.windows(key.len())
            .position(|w| w == key)
            .map(|p| &dict[p + key.len()..])
    };
    let sub_filter = after(b"/SubFilter /").map(|name| {
        let len = name
            .iter()
            .position(|c| c.is_ascii_whitespace() || b"/<>[]()".contains(c))
            .unwrap_or(name.len());
        String::from_utf8_lossy(&name[..len]).into_owned()
    });
    let signing_time = after(b"/M (").and_then(|t| {
        let len = t.iter().take(40).position(|&c| c == b')')?;
        Some(String::from_utf8_lossy(&t[..len]).into_owned())
    });
    Ok(Some(SignatureParts {
        byte_range: [a, b, c, d],
        signed,
        cms,
        covers_whole_file: second_end == pdf.len(),
        sub_filter,
        signing_time,
    }))
}

/// The length of the DER element at the start of `b` (tag, length, content).
fn der_length(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let total = header.checked_add(len)?;
    (total <= b.len()).then_some(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target() -> UpdateTarget<'static> {
        UpdateTarget {
            catalog: (1, "/Type /Catalog /Pages 2 0 R"),
            page: (3, "/Type /Page /Parent 2 0 R"),
            info: 4,
            size: 5,
            prev_xref: 9,
            id_hex: "00ff",
        }
    }

    fn spec() -> SignatureSpec<'static> {
        SignatureSpec {
            field: "Sigillo",
            reason: "Sigillo elettronico",
            location: "Comune di Prova",
            time: "2026-11-27T10:00:00Z".parse().unwrap(),
            capacity: 64,
        }
    }

    #[test]
    fn placeholder_round_trip() {
        let original = b"%PDF-1.7\nbody\n%%EOF\n".to_vec();
        let p = prepare(original.clone(), &target(), &spec()).unwrap();
        assert!(p.signed_bytes()[0].starts_with(&original));
        let [a, b, c, d] = p.byte_range();
        assert_eq!(a, 0);
        assert_eq!(c - b, 2 * 64 + 2);
        let cms = [0x30, 0x03, 0x02, 0x01, 0x07];
        let signed_before: Vec<u8> = p.signed_bytes().concat();
        let out = p.finish(&cms).unwrap();
        assert_eq!(c + d, out.len());
        let parts = signature_parts(&out).unwrap().unwrap();
        assert_eq!(parts.cms, cms);
        assert_eq!(parts.signing_time.as_deref(), Some("D:20261127100000Z"));
        assert_eq!(parts.byte_range, [a, b, c, d]);
        assert_eq!(parts.signed, signed_before, "filling touches only the gap");
        assert!(parts.covers_whole_file);
        assert_eq!(parts.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("/Prev 9 >>"), "{text}");
        assert!(text.contains("/Size 7 "), "{text}");
        assert!(text.contains("/AcroForm << /Fields [5 0 R] /SigFlags 3 >>"));
        assert!(text.contains("/Annots [5 0 R]"));
        assert!(text.contains("/M (D:20261127100000Z)"));
        // Bytes appended after signing are reported.
        let mut longer = out.clone();
        longer.extend_from_slice(b"% appended\n");
        assert!(!signature_parts(&longer).unwrap().unwrap().covers_whole_file);
        // A later, bogus /ByteRange far after the real one: refused, no
        // panic (the dictionary search stays inside the file).
        let mut bogus = out.clone();
        bogus.extend_from_slice(&[b' '; 700]);
        bogus.extend_from_slice(format!("<< /ByteRange [0 {b} {c} {d}] >>").as_bytes());
        let parts = signature_parts(&bogus).unwrap().unwrap();
        assert!(!parts.covers_whole_file);
        assert_eq!(parts.sub_filter, None);
    }

    #[test]
    fn oversized_cms_and_bad_ranges_are_refused() {
        let p = prepare(b"%PDF-1.7\n%%EOF".to_vec(), &target(), &spec()).unwrap();
        assert!(matches!(p.finish(&[0u8; 65]), Err(PdfError::Signature(_))));
        assert!(signature_parts(b"%PDF-1.7\n/ByteRange [0 10 5 3]\n").is_err());
        assert_eq!(signature_parts(b"%PDF-1.7 no signature"), Ok(None));
        // A hostile array: not parsed beyond a few numbers.
        let mut long = b"%PDF-1.7\n/ByteRange [".to_vec();
        long.extend(std::iter::repeat_n(b"0 ".as_slice(), 100_000).flatten());
        assert!(signature_parts(&long).is_err());
        // Not hex, odd length.
        assert!(signature_parts(b"%PDF-1.7\n/ByteRange [0 10 14 0] <zz>").is_err());
    }
}
