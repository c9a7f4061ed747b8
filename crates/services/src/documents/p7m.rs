//! A small BER/DER walker for CMS `SignedData` (RFC 5652): enough to
//! recognise an attached signature (`.p7m`, CAdES) and to take out the
//! signed content (`eContent`) for display. The envelope itself is never
//! changed: it is the stored original.
//!
//! Handles definite and indefinite lengths and constructed `OCTET STRING`s
//! (BER, as some signing tools emit), base64/PEM-wrapped envelopes and
//! nested envelopes (a `.p7m.p7m` signed twice). It does **not** verify the
//! signature: that is for an independent verifier (`openssl cms -verify`).

use base64::Engine as _;

use crate::ServiceError;

/// DER of the OID 1.2.840.113549.1.7.2 (`id-signedData`), with tag and length.
const SIGNED_DATA_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];

/// How deeply envelopes may nest (a `.p7m` of a `.p7m` …).
const MAX_NESTING: usize = 4;
/// How deeply BER values may nest inside one envelope.
const MAX_DEPTH: usize = 32;

fn invalid(detail: &str) -> ServiceError {
    ServiceError::Invalid {
        code: "document_p7m_invalid",
        message: format!("Il file firmato (.p7m) non è leggibile: {detail}."),
    }
}

/// One BER value: its tag byte, whether constructed, and where its content is.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    /// The content octets (for indefinite length: up to, excluding, the
    /// end-of-contents marker).
    content: &'a [u8],
    /// Bytes the whole value takes (header, content, end marker).
    total: usize,
}

impl Tlv<'_> {
    fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

/// Reads one value at the start of `input`.
fn read_tlv(input: &[u8], depth: usize) -> Result<Tlv<'_>, ServiceError> {
    if depth > MAX_DEPTH {
        return Err(invalid("struttura troppo annidata"));
    }
    let tag = *input.first().ok_or_else(|| invalid("dati troncati"))?;
    if tag & 0x1f == 0x1f {
        // High tag numbers never occur in the parts of CMS we walk.
        return Err(invalid("etichetta ASN.1 non supportata"));
    }
    let first = *input.get(1).ok_or_else(|| invalid("dati troncati"))?;
    let mut pos = 2;
    if first == 0x80 {
        // Indefinite length: only for constructed values; the content is the
        // sequence of values up to the end-of-contents marker 00 00.
        if tag & 0x20 == 0 {
            return Err(invalid("lunghezza indefinita su un valore primitivo"));
        }
        let start = pos;
        loop {
            let rest = input.get(pos..).ok_or_else(|| invalid("dati troncati"))?;
            if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
                return Ok(Tlv {
                    tag,
                    content: &input[start..pos],
                    total: pos + 2,
                });
            }
            let inner = read_tlv(rest, depth + 1)?;
            pos += inner.total;
        }
    }
    let len = if first & 0x80 == 0 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(invalid("lunghezza ASN.1 non valida"));
        }
        let bytes = input
            .get(pos..pos + n)
            .ok_or_else(|| invalid("dati troncati"))?;
        pos += n;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let end = pos
        .checked_add(len)
        .ok_or_else(|| invalid("dati troncati"))?;
    let content = input
        .get(pos..end)
        .ok_or_else(|| invalid("dati troncati"))?;
    Ok(Tlv {
        tag,
        content,
        total: end,
    })
}

/// The values inside a constructed value's content.
fn children(content: &[u8], depth: usize) -> Result<Vec<Tlv<'_>>, ServiceError> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let t = read_tlv(rest, depth + 1)?;
        rest = &rest[t.total..];
        out.push(t);
    }
    Ok(out)
}

/// The bytes of an `OCTET STRING`, primitive or constructed (BER segments).
fn octets(t: &Tlv<'_>, depth: usize, out: &mut Vec<u8>) -> Result<(), ServiceError> {
    match t.tag {
        0x04 => {
            out.extend_from_slice(t.content);
            Ok(())
        }
        0x24 => {
            for c in children(t.content, depth + 1)? {
                octets(&c, depth + 1, out)?;
            }
            Ok(())
        }
        _ => Err(invalid("il contenuto firmato non è un OCTET STRING")),
    }
}

/// Whether `bytes` begin like a DER/BER CMS `ContentInfo` of type
/// `signedData`: a `SEQUENCE` whose first element is the signedData OID.
pub fn looks_like_der_p7m(bytes: &[u8]) -> bool {
    if bytes.first() != Some(&0x30) {
        return false;
    }
    let Some(&first) = bytes.get(1) else {
        return false;
    };
    let header = match first {
        0x80 => 2,
        n if n & 0x80 == 0 => 2,
        n => 2 + usize::from(n & 0x7f),
    };
    bytes.get(header..header + SIGNED_DATA_OID.len()) == Some(SIGNED_DATA_OID)
}

/// The DER bytes of a base64 or PEM-wrapped envelope, if `bytes` is one.
pub fn unwrap_base64(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let body: String = if trimmed.starts_with("-----BEGIN ") {
        let mut lines = trimmed.lines();
        let begin = lines.next()?.trim();
        if !(begin == "-----BEGIN PKCS7-----" || begin == "-----BEGIN CMS-----") {
            return None;
        }
        lines
            .take_while(|l| !l.trim_start().starts_with("-----END "))
            .collect()
    } else {
        trimmed.to_owned()
    };
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() < 16
        || !compact
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
    {
        return None;
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    looks_like_der_p7m(&der).then_some(der)
}

/// Whether `bytes` are a CMS signedData envelope (DER, BER or base64/PEM).
pub fn is_p7m(bytes: &[u8]) -> bool {
    looks_like_der_p7m(bytes) || unwrap_base64(bytes).is_some()
}

/// The `eContent` of one envelope (DER/BER only).
fn econtent(der: &[u8]) -> Result<Vec<u8>, ServiceError> {
    // ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }
    let info = read_tlv(der, 0)?;
    if info.tag != 0x30 {
        return Err(invalid("manca la struttura ContentInfo"));
    }
    let parts = children(info.content, 0)?;
    let [oid, explicit, ..] = parts.as_slice() else {
        return Err(invalid("ContentInfo incompleto"));
    };
    if oid.tag != 0x06 || oid.content != &SIGNED_DATA_OID[2..] {
        return Err(invalid("non è una busta CMS SignedData"));
    }
    if explicit.tag != 0xa0 {
        return Err(invalid("manca il contenuto della busta"));
    }
    // SignedData ::= SEQUENCE { version, digestAlgorithms SET,
    //   encapContentInfo SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING OPTIONAL }, … }
    let signed = children(explicit.content, 1)?;
    let signed = signed
        .first()
        .filter(|t| t.tag == 0x30)
        .ok_or_else(|| invalid("SignedData mancante"))?;
    let fields = children(signed.content, 2)?;
    let [version, algorithms, encap, ..] = fields.as_slice() else {
        return Err(invalid("SignedData incompleto"));
    };
    if version.tag != 0x02 || algorithms.tag != 0x31 || encap.tag != 0x30 {
        return Err(invalid("SignedData non conforme"));
    }
    let encap_fields = children(encap.content, 3)?;
    let Some(wrapped) = encap_fields.get(1) else {
        return Err(invalid(
            "la firma è separata dal documento (.p7s): manca il contenuto firmato",
        ));
    };
    if wrapped.tag != 0xa0 || !wrapped.constructed() {
        return Err(invalid("contenuto firmato non conforme"));
    }
    let inner = children(wrapped.content, 4)?;
    let os = inner
        .first()
        .ok_or_else(|| invalid("contenuto firmato vuoto"))?;
    let mut out = Vec::with_capacity(os.content.len());
    octets(os, 5, &mut out)?;
    Ok(out)
}

/// The signed content of a `.p7m` (CMS SignedData with attached content),
/// unwrapping base64/PEM and nested envelopes: the document to show.
/// The envelope is not verified here.
pub fn extract_p7m_content(bytes: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let mut current = envelope_der(bytes).ok_or_else(|| invalid("non è una busta CMS"))?;
    for _ in 0..MAX_NESTING {
        let content = econtent(&current)?;
        match envelope_der(&content) {
            Some(next) => current = next,
            None => return Ok(content),
        }
    }
    Err(invalid("troppe buste annidate"))
}

fn envelope_der(bytes: &[u8]) -> Option<Vec<u8>> {
    if looks_like_der_p7m(bytes) {
        Some(bytes.to_vec())
    } else {
        unwrap_base64(bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 128 {
            v.push(content.len() as u8);
        } else {
            v.extend_from_slice(&[0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    /// A hand-made SignedData with no signer infos: enough for the walker.
    fn envelope(content: &[u8]) -> Vec<u8> {
        let data_oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        let encap = tlv(
            0x30,
            &[data_oid.as_slice(), &tlv(0xa0, &tlv(0x04, content))].concat(),
        );
        let signed = tlv(
            0x30,
            &[
                &[0x02, 0x01, 0x01][..],
                &tlv(0x31, &[]),
                &encap,
                &tlv(0x31, &[]),
            ]
            .concat(),
        );
        tlv(0x30, &[SIGNED_DATA_OID, &tlv(0xa0, &signed)].concat())
    }

    #[test]
    fn extracts_definite_length_content() {
        let env = envelope(b"ciao");
        assert!(looks_like_der_p7m(&env));
        assert_eq!(extract_p7m_content(&env).unwrap(), b"ciao");
    }

    #[test]
    fn extracts_nested_and_base64() {
        let inner = envelope(b"%PDF-1.7 nested");
        let outer = envelope(&inner);
        assert_eq!(extract_p7m_content(&outer).unwrap(), b"%PDF-1.7 nested");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&outer);
        let pem = format!("-----BEGIN PKCS7-----\n{b64}\n-----END PKCS7-----\n");
        assert!(is_p7m(pem.as_bytes()));
        assert_eq!(
            extract_p7m_content(pem.as_bytes()).unwrap(),
            b"%PDF-1.7 nested"
        );
        assert_eq!(
            extract_p7m_content(b64.as_bytes()).unwrap(),
            b"%PDF-1.7 nested"
        );
    }

    #[test]
    fn extracts_ber_indefinite_and_segmented_octets() {
        let data_oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        // eContent as a constructed OCTET STRING of two segments, indefinite lengths.
        let segmented = [
            &[0x24, 0x80][..],
            &tlv(0x04, b"ab"),
            &tlv(0x04, b"cd"),
            &[0, 0],
        ]
        .concat();
        let encap = [
            &[0x30, 0x80][..],
            &data_oid,
            &[0xa0, 0x80],
            &segmented,
            &[0, 0, 0, 0],
        ]
        .concat();
        let signed = [
            &[0x30, 0x80][..],
            &[0x02, 0x01, 0x01],
            &tlv(0x31, &[]),
            &encap,
            &tlv(0x31, &[]),
            &[0, 0],
        ]
        .concat();
        let env = [
            &[0x30, 0x80][..],
            SIGNED_DATA_OID,
            &[0xa0, 0x80],
            &signed,
            &[0, 0, 0, 0],
        ]
        .concat();
        assert!(looks_like_der_p7m(&env));
        assert_eq!(extract_p7m_content(&env).unwrap(), b"abcd");
    }

    #[test]
    fn refuses_detached_and_garbage() {
        let data_oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        let encap = tlv(0x30, &data_oid);
        let signed = tlv(
            0x30,
            &[&[0x02, 0x01, 0x01][..], &tlv(0x31, &[]), &encap].concat(),
        );
        let detached = tlv(0x30, &[SIGNED_DATA_OID, &tlv(0xa0, &signed)].concat());
        let e = extract_p7m_content(&detached).unwrap_err();
        assert_eq!(e.code(), "document_p7m_invalid");
        assert!(extract_p7m_content(b"not a p7m").is_err());
        // Truncated envelope: an error, never a panic.
        let env = envelope(b"hello world");
        for cut in 0..env.len() {
            let _ = extract_p7m_content(&env[..cut]);
        }
    }
}
