//! Finding the embedded files of a PDF again (ISO 32000-1 §7.11.4
//! "Embedded file streams"), without a full PDF parser.
//!
//! The scanner looks for every stream object whose dictionary has
//! `/Type /EmbeddedFile`, reads its `/Subtype` (the media type), `/Length`
//! (direct, or an indirect reference to an integer object) and `/Filter`
//! (none or `/FlateDecode`), and returns the decoded bytes. It works on the
//! classic (uncompressed cross-reference) layout that [`crate::PdfWriter`]
//! writes and most producers keep for streams; a stream object is never
//! inside an object stream (ISO 32000-1 §7.5.7), so incremental updates and
//! re-saves that keep the attachment are read too.
//!
//! It checks the file header and that the file ends with `%%EOF`, so a
//! truncated file is reported as such.

use std::io::Read;

/// Why the embedded files could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes do not start with a PDF header.
    #[error("not a PDF file")]
    NotPdf,
    /// The file does not end with `%%EOF`: it was cut short.
    #[error("the PDF file is truncated")]
    Truncated,
    /// An embedded file stream is malformed.
    #[error("malformed embedded file: {0}")]
    Malformed(&'static str),
    /// An embedded file uses a filter other than FlateDecode.
    #[error("unsupported stream filter")]
    UnsupportedFilter,
}

/// An embedded file found in a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The `/Subtype` of the stream, decoded (`application#2Fcbor` →
    /// `application/cbor`), if any.
    pub media_type: Option<String>,
    /// The decoded content.
    pub data: Vec<u8>,
}

/// Every embedded file stream of `pdf`, in file order.
///
/// # Errors
/// [`ReadError`]: not a PDF, truncated, or a malformed embedded file stream.
pub fn embedded_files(pdf: &[u8]) -> Result<Vec<Found>, ReadError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(ReadError::NotPdf);
    }
    let tail = &pdf[pdf.len().saturating_sub(64)..];
    if !trim_end(tail).ends_with(b"%%EOF") {
        return Err(ReadError::Truncated);
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = find(&pdf[from..], b"/EmbeddedFile") {
        let at = from + pos;
        from = at + 1;
        // `/EmbeddedFiles` (the name tree key) is another name.
        if pdf
            .get(at + 13)
            .is_some_and(|&c| !is_delimiter(c) && !is_space(c))
        {
            continue;
        }
        let Some(start) = dict_start(pdf, at) else {
            continue;
        };
        let (dict, end) = parse_dict(pdf, start)?;
        if dict.get("Type").map(String::as_str) != Some("/EmbeddedFile") {
            continue;
        }
        let data = stream_data(pdf, &dict, end)?;
        out.push(Found {
            media_type: dict.get("Subtype").map(|s| decode_name(s)),
            data,
        });
        from = end;
    }
    Ok(out)
}

fn trim_end(b: &[u8]) -> &[u8] {
    let n = b.iter().rposition(|&c| !is_space(c)).map_or(0, |i| i + 1);
    &b[..n]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// The `<<` that opens the dictionary of the object containing `at`: the
/// first `<<` after the closest preceding `obj` keyword.
fn dict_start(pdf: &[u8], at: usize) -> Option<usize> {
    let obj = rfind(&pdf[..at], b"obj")?;
    find(&pdf[obj..at], b"<<").map(|p| obj + p)
}

/// Top-level entries of the dictionary starting at `start` (`<<`), each
/// value as its source text (names keep their `/`, dictionaries and arrays
/// are kept whole), and the offset just after its `>>`.
fn parse_dict(
    pdf: &[u8],
    start: usize,
) -> Result<(std::collections::HashMap<String, String>, usize), ReadError> {
    let bad = ReadError::Malformed("dictionary");
    let mut tokens = Vec::new();
    let mut i = start + 2;
    let mut depth = 0usize;
    let mut current = String::new();
    loop {
        let c = *pdf.get(i).ok_or(bad.clone())?;
        match c {
            b'>' if pdf.get(i + 1) == Some(&b'>') => {
                if depth == 0 {
                    if !current.is_empty() {
                        tokens.push(std::mem::take(&mut current));
                    }
                    i += 2;
                    break;
                }
                depth -= 1;
                current.push_str(">>");
                i += 2;
                if depth == 0 {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            b'<' if pdf.get(i + 1) == Some(&b'<') => {
                if depth == 0 && !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
                depth += 1;
                current.push_str("<<");
                i += 2;
            }
            b'(' => {
                // A literal string, with nested parentheses and escapes.
                let mut level = 0usize;
                loop {
                    let c = *pdf.get(i).ok_or(bad.clone())?;
                    current.push(char::from(c));
                    i += 1;
                    match c {
                        b'\\' => {
                            if let Some(&n) = pdf.get(i) {
                                current.push(char::from(n));
                                i += 1;
                            }
                        }
                        b'(' => level += 1,
                        b')' => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                if depth == 0 {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c if depth > 0 => {
                current.push(char::from(c));
                i += 1;
            }
            c if is_space(c) => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
                i += 1;
            }
            b'/' => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
                current.push('/');
                i += 1;
            }
            b'[' | b']' => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
                tokens.push(char::from(c).to_string());
                i += 1;
            }
            c => {
                current.push(char::from(c));
                i += 1;
            }
        }
    }
    // Pair keys with values; a value may be `N G R` (three tokens) or an array.
    let mut map = std::collections::HashMap::new();
    let mut it = tokens.into_iter().peekable();
    while let Some(key) = it.next() {
        let key = key.strip_prefix('/').ok_or(bad.clone())?.to_owned();
        let mut value = it.next().ok_or(bad.clone())?;
        if value == "[" {
            let mut depth = 1;
            while depth > 0 {
                let t = it.next().ok_or(bad.clone())?;
                depth = match t.as_str() {
                    "[" => depth + 1,
                    "]" => depth - 1,
                    _ => depth,
                };
                value.push(' ');
                value.push_str(&t);
            }
        } else if value.bytes().all(|b| b.is_ascii_digit()) {
            // `N G R`?
            let mut look = it.clone();
            if let (Some(g), Some(r)) = (look.next(), look.next())
                && g.bytes().all(|b| b.is_ascii_digit())
                && !g.is_empty()
                && r == "R"
            {
                value = format!("{value} {g} R");
                it.next();
                it.next();
            }
        }
        map.insert(key, value);
    }
    Ok((map, i))
}

/// The bytes of the stream whose dictionary ends at `end`.
fn stream_data(
    pdf: &[u8],
    dict: &std::collections::HashMap<String, String>,
    end: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut i = end;
    while pdf
        .get(i)
        .is_some_and(|&c| is_space(c) && c != b'\r' && c != b'\n')
    {
        i += 1;
    }
    // Skip any whitespace before the keyword.
    while pdf.get(i).is_some_and(|&c| is_space(c)) {
        i += 1;
    }
    if !pdf[i..].starts_with(b"stream") {
        return Err(ReadError::Malformed("no stream after the dictionary"));
    }
    i += 6;
    // §7.3.8.1: `stream` is followed by CRLF or LF.
    if pdf[i..].starts_with(b"\r\n") {
        i += 2;
    } else if pdf.get(i) == Some(&b'\n') {
        i += 1;
    } else {
        return Err(ReadError::Malformed("stream keyword"));
    }
    let length = match dict.get("Length") {
        Some(v) => resolve_length(pdf, v)?,
        None => return Err(ReadError::Malformed("no /Length")),
    };
    let raw = i
        .checked_add(length)
        .and_then(|e| pdf.get(i..e))
        .ok_or(ReadError::Malformed("stream longer than the file"))?;
    let after = &pdf[i + length..];
    let after = &after[after
        .iter()
        .position(|&c| !is_space(c))
        .unwrap_or(after.len())..];
    if !after.starts_with(b"endstream") {
        return Err(ReadError::Malformed("stream length"));
    }
    match dict.get("Filter").map(String::as_str) {
        None => Ok(raw.to_vec()),
        Some("/FlateDecode") | Some("[ /FlateDecode ]") => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(raw)
                .read_to_end(&mut out)
                .map_err(|_| ReadError::Malformed("compressed data"))?;
            Ok(out)
        }
        Some(_) => Err(ReadError::UnsupportedFilter),
    }
}

fn resolve_length(pdf: &[u8], value: &str) -> Result<usize, ReadError> {
    let bad = ReadError::Malformed("/Length");
    if let Ok(n) = value.parse::<usize>() {
        return Ok(n);
    }
    let parts: Vec<&str> = value.split(' ').collect();
    let [num, generation, "R"] = parts.as_slice() else {
        return Err(bad);
    };
    let header = format!("{num} {generation} obj");
    let mut from = 0;
    while let Some(p) = find(&pdf[from..], header.as_bytes()) {
        let at = from + p;
        from = at + 1;
        if at > 0 && !is_space(pdf[at - 1]) {
            continue;
        }
        let rest = &pdf[at + header.len()..];
        let text: String = rest
            .iter()
            .skip_while(|&&c| is_space(c))
            .take_while(|c| c.is_ascii_digit())
            .map(|&c| char::from(c))
            .collect();
        return text.parse().map_err(|_| bad);
    }
    Err(bad)
}

/// A name without its `/`, with `#xx` escapes decoded (§7.3.5).
fn decode_name(name: &str) -> String {
    let s = name.strip_prefix('/').unwrap_or(name).as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'#'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The seal text (`PZ1:…`) embedded in a certificate
/// (`crate::certificate::SEAL_NAME`), if the file has one.
pub fn seal_text(pdf: &[u8]) -> Option<String> {
    embedded_files(pdf).ok()?.into_iter().find_map(|f| {
        let text = String::from_utf8(f.data).ok()?;
        (f.media_type.as_deref() == Some("text/plain") && text.starts_with("PZ1:"))
            .then(|| text.trim_end().to_owned())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const HAND: &[u8] = b"%PDF-1.7\n\
1 0 obj\n<< /Type /EmbeddedFile /Subtype /text#2Fplain /Params << /Size 5 /ModDate (D:2026\\)) >> /Length 2 0 R >>\nstream\nhello\nendstream\nendobj\n\
2 0 obj\n5\nendobj\n\
3 0 obj\n<< /Names [(a) 4 0 R] /EmbeddedFiles 5 0 R >>\nendobj\ntrailer\n<< >>\n%%EOF\n";

    #[test]
    fn reads_indirect_length_and_escaped_names() {
        let files = embedded_files(HAND).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].data, b"hello");
        assert_eq!(files[0].media_type.as_deref(), Some("text/plain"));
    }

    #[test]
    fn refuses_truncated_and_other_files() {
        assert_eq!(embedded_files(b"hello"), Err(ReadError::NotPdf));
        assert_eq!(
            embedded_files(&HAND[..HAND.len() - 10]),
            Err(ReadError::Truncated)
        );
        let bad = String::from_utf8_lossy(HAND).replace("2 0 obj\n5", "2 0 obj\n9");
        assert!(matches!(
            embedded_files(bad.as_bytes()),
            Err(ReadError::Malformed(_))
        ));
        assert_eq!(
            embedded_files(b"%PDF-1.7\n%%EOF").unwrap(),
            Vec::<Found>::new()
        );
    }
}
