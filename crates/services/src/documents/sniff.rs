//! Type detection from content against an allow-list. The file name and the
//! client's `Content-Type` are never consulted.
//!
//! Allowed (in this order of checks):
//! - PDF (`%PDF-` at offset 0); PDF/A when the XMP metadata carries
//!   `pdfaid:part` (only PDF/A is *conservabile*, Allegato 2, PR-12);
//! - CMS signed data with attached content (`.p7m`, DER/BER or base64/PEM),
//!   whose signed content must itself be allowed;
//! - PNG (signature + `IHDR`), JPEG (`FF D8 FF`), TIFF (`II*\0`, `MM\0*`);
//! - ODF (ZIP whose first entry is a stored `mimetype` naming
//!   `application/vnd.oasis.opendocument.*`);
//! - OOXML (ZIP with `[Content_Types].xml` and `word/`, `xl/` or `ppt/`
//!   parts, without VBA macros);
//! - e-mail `.eml` (an RFC 5322 header block with `From` and one of `Date`,
//!   `Subject`, `MIME-Version`);
//! - XML (UTF-8, optional BOM and prolog, one root element closed at the end,
//!   no `<!ENTITY` declarations; `html` and `svg` roots refused: browsers run
//!   their scripts);
//! - CSV or plain text: valid UTF-8 with no NUL and no other C0 control
//!   character than tab, CR, LF and form feed.
//!
//! Everything else is refused with `document_type_not_allowed`: legacy OLE2
//! Office files, executables, archives that are not ODF/OOXML, HTML, ….

use crate::ServiceError;

use super::p7m;

/// The allow-listed families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// PDF, PDF/A included.
    Pdf,
    /// CMS signed data with attached content (CAdES `.p7m`).
    P7m,
    /// XML.
    Xml,
    /// OpenDocument.
    Odf,
    /// Office Open XML.
    Ooxml,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// TIFF image.
    Tiff,
    /// E-mail message (RFC 5322).
    Eml,
    /// Comma or semicolon separated values.
    Csv,
    /// Plain UTF-8 text.
    Text,
}

/// What the content is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Detected {
    /// The family.
    pub kind: Kind,
    /// The media type (IANA).
    pub media_type: String,
    /// The format name as in Allegato 2 (e.g. `PDF/A-2b`, `PDF`, `ODF`).
    pub formato: String,
    /// Whether Allegato 2 accepts the format for conservation.
    pub conservabile: bool,
    /// For a `.p7m`: what the signed content is.
    pub contenuto_firmato: Option<Box<Detected>>,
}

impl Detected {
    fn new(kind: Kind, media_type: &str, formato: &str, conservabile: bool) -> Detected {
        Detected {
            kind,
            media_type: media_type.to_owned(),
            formato: formato.to_owned(),
            conservabile,
            contenuto_firmato: None,
        }
    }

    /// Whether the document is a signed envelope.
    pub fn firmato(&self) -> bool {
        self.kind == Kind::P7m
    }
}

/// The Italian list of allowed types, for messages.
pub const ALLOWED_IT: &str = "PDF (preferibilmente PDF/A), file firmati .p7m, XML, \
documenti OpenDocument (ODF) e Office Open XML (.docx, .xlsx, .pptx), immagini PNG, JPEG e TIFF, \
messaggi di posta .eml, testo semplice e CSV in UTF-8";

fn not_allowed(what: &str) -> ServiceError {
    ServiceError::Invalid {
        code: "document_type_not_allowed",
        message: format!("Tipo di file non ammesso ({what}). Sono ammessi: {ALLOWED_IT}."),
    }
}

/// Detects the type of `bytes` (the whole content) or refuses it.
pub fn detect(bytes: &[u8]) -> Result<Detected, ServiceError> {
    detect_at(bytes, 0)
}

fn detect_at(bytes: &[u8], nesting: usize) -> Result<Detected, ServiceError> {
    if bytes.is_empty() {
        return Err(ServiceError::Invalid {
            code: "document_empty",
            message: "Il file è vuoto.".to_owned(),
        });
    }
    if bytes.starts_with(b"%PDF-") {
        return pdf(bytes);
    }
    if p7m::is_p7m(bytes) {
        if nesting > 4 {
            return Err(not_allowed("troppe buste .p7m annidate"));
        }
        let content = p7m::extract_p7m_content(bytes)?;
        let inner = detect_at(&content, nesting + 1).map_err(|e| match e {
            ServiceError::Invalid {
                code: "document_type_not_allowed",
                ..
            } => not_allowed("il contenuto firmato del .p7m non è di un tipo ammesso"),
            other => other,
        })?;
        let mut d = Detected::new(
            Kind::P7m,
            "application/pkcs7-mime",
            "CAdES (.p7m)",
            inner.conservabile,
        );
        d.contenuto_firmato = Some(Box::new(inner));
        return Ok(d);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        if bytes.get(8..16) == Some(b"\0\0\0\x0dIHDR".as_slice()) {
            return Ok(Detected::new(Kind::Png, "image/png", "PNG", true));
        }
        return Err(not_allowed("PNG non valido"));
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Ok(Detected::new(Kind::Jpeg, "image/jpeg", "JPEG", true));
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Ok(Detected::new(Kind::Tiff, "image/tiff", "TIFF", true));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return zip(bytes);
    }
    if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        return Err(not_allowed(
            "documento Office binario (.doc, .xls, .ppt): salvarlo in PDF/A, ODF o OOXML",
        ));
    }
    if bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF") {
        return Err(not_allowed("programma eseguibile"));
    }
    text_family(bytes)
}

// ---------------------------------------------------------------- PDF

fn pdf(bytes: &[u8]) -> Result<Detected, ServiceError> {
    // `%PDF-1.x` or `%PDF-2.0`.
    let version_ok = matches!(
        bytes.get(5..8),
        Some([b'1' | b'2', b'.', d]) if d.is_ascii_digit()
    );
    if !version_ok {
        return Err(not_allowed("intestazione PDF non valida"));
    }
    match pdfa_profile(bytes) {
        Some(profile) => Ok(Detected::new(
            Kind::Pdf,
            "application/pdf",
            &format!("PDF/A-{profile}"),
            true,
        )),
        None => Ok(Detected::new(Kind::Pdf, "application/pdf", "PDF", false)),
    }
}

/// The PDF/A profile (`1b`, `2a`, `3u`, …) declared in the XMP metadata, as
/// element (`<pdfaid:part>2</pdfaid:part>`) or attribute (`pdfaid:part="2"`).
/// An identification, not a validation: veraPDF validates.
pub fn pdfa_profile(bytes: &[u8]) -> Option<String> {
    let part = xmp_value(bytes, b"pdfaid:part")?;
    if !(part.len() == 1 && matches!(part.as_bytes()[0], b'1'..=b'4')) {
        return None;
    }
    let conformance = xmp_value(bytes, b"pdfaid:conformance")
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| matches!(c.as_str(), "a" | "b" | "u" | "e" | "f"))
        .unwrap_or_default();
    Some(format!("{part}{conformance}"))
}

fn xmp_value(bytes: &[u8], name: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(i) = find(&bytes[from..], name) {
        let at = from + i + name.len();
        from = at;
        let rest = &bytes[at..bytes.len().min(at + 64)];
        // Element: `>VALUE<`; attribute: `="VALUE"` or `='VALUE'`.
        let (open, close): (usize, u8) = match rest {
            [b'>', ..] => (1, b'<'),
            [b'=', b'"', ..] => (2, b'"'),
            [b'=', b'\'', ..] => (2, b'\''),
            _ => continue,
        };
        let value = &rest[open..];
        let end = value.iter().position(|b| *b == close)?;
        let v = std::str::from_utf8(&value[..end]).ok()?.trim();
        if !v.is_empty() {
            return Some(v.to_owned());
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------- ZIP

fn le16(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .and_then(|s| usize::try_from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok())
}

/// The names in a ZIP's central directory (no ZIP64: over the size limit anyway).
fn zip_names(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    // End of central directory: 22 bytes + a comment of at most 65535.
    let min = bytes.len().saturating_sub(22 + 65535);
    let eocd = (min..=bytes.len().checked_sub(22)?)
        .rev()
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))?;
    let count = le16(bytes, eocd + 10)?;
    let mut at = le32(bytes, eocd + 16)?;
    let mut names = Vec::with_capacity(count);
    for _ in 0..count {
        if !bytes.get(at..)?.starts_with(b"PK\x01\x02") {
            return None;
        }
        let name_len = le16(bytes, at + 28)?;
        let extra = le16(bytes, at + 30)?;
        let comment = le16(bytes, at + 32)?;
        names.push(bytes.get(at + 46..at + 46 + name_len)?);
        at += 46 + name_len + extra + comment;
    }
    Some(names)
}

fn zip(bytes: &[u8]) -> Result<Detected, ServiceError> {
    // ODF: the first local entry is `mimetype`, stored, holding the media type.
    let name_len = le16(bytes, 26).unwrap_or(0);
    let extra = le16(bytes, 28).unwrap_or(0);
    if bytes.get(30..30 + name_len) == Some(b"mimetype".as_slice()) && le16(bytes, 8) == Some(0) {
        let size = le32(bytes, 18).unwrap_or(0);
        let start = 30 + name_len + extra;
        if let Some(mt) = bytes.get(start..start + size)
            && mt.starts_with(b"application/vnd.oasis.opendocument.")
            && mt
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"./+-".contains(b))
            && zip_names(bytes).is_some()
        {
            let media_type = String::from_utf8_lossy(mt);
            return Ok(Detected::new(Kind::Odf, &media_type, "ODF", true));
        }
    }
    let Some(names) = zip_names(bytes) else {
        return Err(not_allowed("archivio ZIP non leggibile"));
    };
    let has = |p: &[u8]| names.iter().any(|n| n.starts_with(p));
    if names.contains(&b"[Content_Types].xml".as_slice()) {
        if names
            .iter()
            .any(|n| n.to_ascii_lowercase().ends_with(b"vbaproject.bin"))
        {
            return Err(not_allowed("documento Office con macro"));
        }
        // Only the Strict profile is conservabile (Allegato 2); telling it
        // from Transitional needs the parts' namespaces, which are
        // compressed: reported as not conservabile.
        let media_type = if has(b"word/") {
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        } else if has(b"xl/") {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else if has(b"ppt/") {
            Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
        } else {
            None
        };
        if let Some(mt) = media_type {
            return Ok(Detected::new(Kind::Ooxml, mt, "OOXML", false));
        }
    }
    Err(not_allowed("archivio ZIP"))
}

// ---------------------------------------------------------------- text

fn text_family(bytes: &[u8]) -> Result<Detected, ServiceError> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return Err(not_allowed("testo UTF-16: salvarlo in UTF-8"));
    }
    if is_eml(body) {
        return Ok(Detected::new(Kind::Eml, "message/rfc822", "EML", true));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(not_allowed("contenuto binario non riconosciuto"));
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}') && (c as u32) < 0x20)
    {
        return Err(not_allowed("contenuto binario non riconosciuto"));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        return xml(trimmed);
    }
    if is_csv(text) {
        return Ok(Detected::new(Kind::Csv, "text/csv", "CSV", true));
    }
    Ok(Detected::new(Kind::Text, "text/plain", "TXT", false))
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// An RFC 5322 header block at the very start, ended by an empty line.
fn is_eml(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let Some(end) = find(head, b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| find(head, b"\n\n").map(|i| i + 1))
    else {
        return false;
    };
    // Header fields are ASCII; values may carry raw UTF-8 (RFC 6532).
    let Ok(block) = std::str::from_utf8(&head[..end]) else {
        return false;
    };
    let mut names = Vec::new();
    for (i, line) in block.lines().enumerate() {
        if line.starts_with([' ', '\t']) {
            if i == 0 {
                return false;
            }
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if !is_header_name(name) {
            return false;
        }
        names.push(name.to_ascii_lowercase());
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    has("from") && (has("date") || has("subject") || has("mime-version"))
}

/// At least two lines, each non-empty line with the same number (≥ 1) of
/// `;` (Italian spreadsheets) or `,` separators outside quotes.
fn is_csv(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() < 2 {
        return false;
    }
    [';', ','].iter().any(|&sep| {
        let count = |l: &str| {
            let mut quoted = false;
            l.chars()
                .filter(|&c| {
                    if c == '"' {
                        quoted = !quoted;
                    }
                    c == sep && !quoted
                })
                .count()
        };
        let first = count(lines[0]);
        first > 0 && lines.iter().all(|l| count(l) == first)
    })
}

/// A light XML check: prolog, one root element, closed at the end.
fn xml(text: &str) -> Result<Detected, ServiceError> {
    if text.contains("<!ENTITY") {
        return Err(not_allowed("XML con dichiarazioni di entità"));
    }
    let mut rest = text;
    // Skip the prolog: declaration, processing instructions, comments, doctype.
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            let Some(end) = r.find("?>") else {
                return Err(not_allowed("XML non ben formato"));
            };
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let Some(end) = r.find("-->") else {
                return Err(not_allowed("XML non ben formato"));
            };
            rest = &r[end + 3..];
        } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
            let Some(end) = rest.find('>') else {
                return Err(not_allowed("XML non ben formato"));
            };
            rest = &rest[end + 1..];
        } else {
            break;
        }
    }
    let Some(r) = rest.strip_prefix('<') else {
        return Err(not_allowed("XML senza elemento radice"));
    };
    let name_len = r
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(r.len());
    let name = &r[..name_len];
    let name_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if !name_ok {
        return Err(not_allowed("XML non ben formato"));
    }
    let local = name.rsplit(':').next().unwrap_or(name);
    if local.eq_ignore_ascii_case("html") || local.eq_ignore_ascii_case("svg") {
        return Err(not_allowed("pagina HTML o immagine SVG"));
    }
    // The end: `</name>` (then only comments or PIs), or a self-closed root.
    let mut tail = text.trim_end();
    loop {
        if let Some(t) = tail.strip_suffix("-->") {
            let Some(start) = t.rfind("<!--") else { break };
            tail = t[..start].trim_end();
        } else if let Some(t) = tail.strip_suffix("?>") {
            let Some(start) = t.rfind("<?") else { break };
            tail = t[..start].trim_end();
        } else {
            break;
        }
    }
    let closes = tail
        .strip_suffix('>')
        .and_then(|t| t.trim_end().strip_suffix(name))
        .is_some_and(|t| t.ends_with("</"));
    // `after` is a suffix of `text`, `tail` a prefix: compare offsets.
    let after = &r[name_len..];
    let self_closed = after.find('>').is_some_and(|i| {
        after[..i].ends_with('/') && text.len() - after.len() + i + 1 == tail.len()
    });
    if !(closes || self_closed) {
        return Err(not_allowed("XML non ben formato"));
    }
    let formato = match local {
        "FatturaElettronica" => "FatturaPA",
        "Segnatura" | "SegnaturaInformatica" => "Segnatura di protocollo XML",
        _ => "XML",
    };
    Ok(Detected::new(Kind::Xml, "application/xml", formato, true))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code(bytes: &[u8]) -> &'static str {
        detect(bytes).unwrap_err().code()
    }

    #[test]
    fn pdf_and_pdfa() {
        let plain = detect(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n").unwrap();
        assert_eq!((plain.formato.as_str(), plain.conservabile), ("PDF", false));
        let a = detect(
            b"%PDF-1.7\n<x:xmpmeta><rdf:Description pdfaid:part=\"2\" pdfaid:conformance=\"B\"/></x:xmpmeta>",
        )
        .unwrap();
        assert_eq!((a.formato.as_str(), a.conservabile), ("PDF/A-2b", true));
        let e = detect(
            b"%PDF-1.4\n<pdfaid:part>1</pdfaid:part><pdfaid:conformance>A</pdfaid:conformance>",
        )
        .unwrap();
        assert_eq!(e.formato, "PDF/A-1a");
        assert_eq!(code(b"%PDF-xx"), "document_type_not_allowed");
    }

    #[test]
    fn images() {
        let png = [&b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"[..], &[0; 17]].concat();
        assert_eq!(detect(&png).unwrap().kind, Kind::Png);
        assert_eq!(code(b"\x89PNG\r\n\x1a\nxxxx"), "document_type_not_allowed");
        assert_eq!(
            detect(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]).unwrap().kind,
            Kind::Jpeg
        );
        assert_eq!(detect(b"II*\0\x08\0\0\0").unwrap().kind, Kind::Tiff);
        assert_eq!(detect(b"MM\0*\0\0\0\x08").unwrap().kind, Kind::Tiff);
    }

    #[test]
    fn xml_checks() {
        let ok = detect(b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->\n<a:Root xmlns:a=\"x\"><b/></a:Root>\n<!-- end -->\n").unwrap();
        assert_eq!(ok.kind, Kind::Xml);
        assert_eq!(detect(b"<root/>").unwrap().kind, Kind::Xml);
        assert_eq!(
            detect(b"<FatturaElettronica versione=\"FPR12\"></FatturaElettronica>")
                .unwrap()
                .formato,
            "FatturaPA"
        );
        for bad in [
            &b"<root><b></root"[..],
            b"<html><script>alert(1)</script></html>",
            b"<!DOCTYPE html><html></html>",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            b"<a></b>",
            b"< a></a>",
        ] {
            assert_eq!(code(bad), "document_type_not_allowed", "{bad:?}");
        }
    }

    #[test]
    fn eml_csv_text() {
        let eml = b"Received: from x\r\n\tby y\r\nFrom: Anna <a@example.org>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nSubject: Istanza\r\n\r\nCorpo\r\n";
        assert_eq!(detect(eml).unwrap().kind, Kind::Eml);
        // Without From it is just text.
        assert_eq!(
            detect(b"Subject: x\nDate: y\n\nbody").unwrap().kind,
            Kind::Text
        );
        let csv = detect("nome;cognome;città\nAnna;Rossi;Bari\n\"a;b\";c;d\n".as_bytes()).unwrap();
        assert_eq!((csv.kind, csv.conservabile), (Kind::Csv, true));
        let txt =
            detect("Verbale della seduta, ore 10.\nPresenti: tutti.\nFine".as_bytes()).unwrap();
        assert_eq!((txt.kind, txt.conservabile), (Kind::Text, false));
        assert_eq!(code(b"ab\0cd"), "document_type_not_allowed");
        assert_eq!(code(b"\xff\xfe<\0a\0"), "document_type_not_allowed");
        assert_eq!(code(b"\xc3\x28 invalid utf8"), "document_type_not_allowed");
        assert_eq!(code(b""), "document_empty");
    }

    #[test]
    fn binaries_refused_with_italian_message() {
        let e = detect(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]).unwrap_err();
        assert_eq!(e.code(), "document_type_not_allowed");
        assert!(e.message_it().contains("Sono ammessi: PDF"));
        assert_eq!(code(b"MZ\x90\0\x03"), "document_type_not_allowed");
        assert_eq!(code(b"\x7fELF\x02\x01\x01"), "document_type_not_allowed");
        assert_eq!(code(b"PK\x03\x04garbage"), "document_type_not_allowed");
    }

    #[test]
    fn never_panics_on_prefixes() {
        let samples: [&[u8]; 4] = [
            b"PK\x03\x04\x14\0\0\0\0\0",
            b"%PDF-1.7 <pdfaid:part>",
            b"<?xml",
            b"From: a\r\nDate: b",
        ];
        for s in samples {
            for cut in 0..=s.len() {
                let _ = detect(&s[..cut]);
            }
        }
    }
}
