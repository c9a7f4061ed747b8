//! The few DER structures the XAdES signature needs: the issuer, serial
//! number and public key of an X.509 certificate, and the RFC 5035
//! `IssuerSerial` of `xades:IssuerSerialV2`. A minimal reader instead of a
//! full X.509 crate: the certificate is ours (the AOO seal), we only pick
//! three fields out of it.

/// One DER element: its tag, the whole encoding and the content.
struct Tlv<'a> {
    tag: u8,
    whole: &'a [u8],
    content: &'a [u8],
}

/// Reads the element at the start of `b`; returns it and the rest.
fn read(b: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *b.first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur in a certificate's TBS head
    }
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
    let end = header.checked_add(len)?;
    if end > b.len() {
        return None;
    }
    Some((
        Tlv {
            tag,
            whole: &b[..end],
            content: &b[header..end],
        },
        &b[end..],
    ))
}

/// The fields of a certificate the signature refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertFields {
    /// The issuer `Name`, DER (SEQUENCE).
    pub issuer: Vec<u8>,
    /// The serial number `INTEGER`, DER.
    pub serial: Vec<u8>,
    /// The `SubjectPublicKeyInfo`, DER.
    pub spki: Vec<u8>,
    /// The subject `Name`, DER (SEQUENCE).
    pub subject: Vec<u8>,
}

/// Picks issuer, serial and public key out of a DER certificate.
pub(crate) fn cert_fields(cert: &[u8]) -> Option<CertFields> {
    let (c, rest) = read(cert)?;
    if c.tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tbs, _) = read(c.content)?;
    if tbs.tag != 0x30 {
        return None;
    }
    let mut b = tbs.content;
    let (mut e, mut r) = read(b)?;
    if e.tag == 0xa0 {
        // [0] EXPLICIT version
        b = r;
        (e, r) = read(b)?;
    }
    if e.tag != 0x02 {
        return None;
    }
    let serial = e.whole.to_vec();
    let (alg, r) = read(r)?; // signature AlgorithmIdentifier
    let (issuer, r) = read(r)?;
    let (_validity, r) = read(r)?;
    let (subject, r) = read(r)?;
    let (spki, _) = read(r)?;
    if alg.tag != 0x30 || issuer.tag != 0x30 || spki.tag != 0x30 {
        return None;
    }
    Some(CertFields {
        issuer: issuer.whole.to_vec(),
        serial,
        spki: spki.whole.to_vec(),
        subject: subject.whole.to_vec(),
    })
}

/// One DER element: `tag`, the definite length, `content`.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// RFC 5035 `IssuerSerial ::= SEQUENCE { issuer GeneralNames,
/// serialNumber CertificateSerialNumber }` with the issuer as one
/// `directoryName` (`[4] EXPLICIT Name`).
pub(crate) fn issuer_serial(f: &CertFields) -> Vec<u8> {
    let general_name = encode(0xa4, &f.issuer);
    let general_names = encode(0x30, &general_name);
    let mut content = general_names;
    content.extend_from_slice(&f.serial);
    encode(0x30, &content)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 300];
        let e = encode(0x04, &content);
        assert_eq!(&e[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (t, rest) = read(&e).unwrap();
        assert!(rest.is_empty());
        assert_eq!(t.content, &content[..]);
    }

    #[test]
    fn truncated_input_is_refused() {
        assert!(read(&[0x30, 0x05, 0x01]).is_none());
        assert!(cert_fields(b"not a certificate").is_none());
    }
}
