//! A small BER/DER reader for the structures signature verification walks:
//! X.509 certificates (RFC 5280), CMS `SignedData` (RFC 5652) and RFC 3161
//! `TSTInfo`. Definite and indefinite lengths (BER, as some signing tools
//! write the outer envelope), nesting bounded. Every element keeps its
//! whole encoding, so that signed parts (a `TBSCertificate`, the signed
//! attributes) are verified over the bytes as received.

use jiff::Timestamp;

/// How deeply values may nest.
const MAX_DEPTH: usize = 40;

/// Tags used by the readers.
pub(crate) mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
}

/// A malformed structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed;

pub(crate) type Asn1<T> = Result<T, Malformed>;

/// One value: its tag, its content octets (for an indefinite length, up to
/// the end-of-contents marker) and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub whole: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The values inside a constructed value.
    pub fn items(&self) -> Asn1<Vec<Tlv<'a>>> {
        items(self.content, 1)
    }

    /// Whether this is the OID with content octets `oid`.
    pub fn is_oid(&self, oid: &[u8]) -> bool {
        self.tag == tag::OID && self.content == oid
    }
}

fn read_at(input: &[u8], depth: usize) -> Asn1<(Tlv<'_>, &[u8])> {
    if depth > MAX_DEPTH {
        return Err(Malformed);
    }
    let t = *input.first().ok_or(Malformed)?;
    if t & 0x1f == 0x1f {
        return Err(Malformed); // high tag numbers occur nowhere we read
    }
    let first = *input.get(1).ok_or(Malformed)?;
    if first == 0x80 {
        if t & 0x20 == 0 {
            return Err(Malformed);
        }
        let mut pos = 2;
        loop {
            let rest = input.get(pos..).ok_or(Malformed)?;
            if rest.len() >= 2 && rest[0] == 0 && rest[1] == 0 {
                return Ok((
                    Tlv {
                        tag: t,
                        content: &input[2..pos],
                        whole: &input[..pos + 2],
                    },
                    &input[pos + 2..],
                ));
            }
            let (_, after) = read_at(rest, depth + 1)?;
            pos = input.len() - after.len();
        }
    }
    let (len, header) = if first & 0x80 == 0 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(Malformed);
        }
        let bytes = input.get(2..2 + n).ok_or(Malformed)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            2 + n,
        )
    };
    let end = header.checked_add(len).ok_or(Malformed)?;
    let whole = input.get(..end).ok_or(Malformed)?;
    Ok((
        Tlv {
            tag: t,
            content: &whole[header..],
            whole,
        },
        &input[end..],
    ))
}

/// Reads the value at the start of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Asn1<(Tlv<'_>, &[u8])> {
    read_at(input, 0)
}

/// Reads exactly one value of tag `t` filling `input`.
pub(crate) fn single(input: &[u8], t: u8) -> Asn1<Tlv<'_>> {
    let (v, rest) = read(input)?;
    if v.tag != t || !rest.is_empty() {
        return Err(Malformed);
    }
    Ok(v)
}

fn items(content: &[u8], depth: usize) -> Asn1<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (v, after) = read_at(rest, depth)?;
        out.push(v);
        rest = after;
    }
    Ok(out)
}

/// The bytes of an `OCTET STRING`, primitive or constructed (BER segments).
pub(crate) fn octets(t: &Tlv<'_>) -> Asn1<Vec<u8>> {
    fn walk(t: &Tlv<'_>, depth: usize, out: &mut Vec<u8>) -> Asn1<()> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        match t.tag {
            tag::OCTET_STRING => {
                out.extend_from_slice(t.content);
                Ok(())
            }
            0x24 => {
                for c in t.items()? {
                    walk(&c, depth + 1, out)?;
                }
                Ok(())
            }
            _ => Err(Malformed),
        }
    }
    let mut out = Vec::new();
    walk(t, 0, &mut out)?;
    Ok(out)
}

/// The bits of a `BIT STRING` (the unused-bits count dropped).
pub(crate) fn bit_string<'a>(t: &Tlv<'a>) -> Asn1<&'a [u8]> {
    if t.tag != tag::BIT_STRING {
        return Err(Malformed);
    }
    match t.content.split_first() {
        Some((unused, bits)) if *unused < 8 => Ok(bits),
        _ => Err(Malformed),
    }
}

/// A `UTCTime` (`YYMMDDHHMMSSZ`, years 1950–2049) or `GeneralizedTime`
/// (`YYYYMMDDHHMMSS[.f]Z`).
pub(crate) fn time(t: &Tlv<'_>) -> Asn1<Timestamp> {
    let s = std::str::from_utf8(t.content).map_err(|_| Malformed)?;
    let s = s.strip_suffix('Z').ok_or(Malformed)?;
    let (year, rest) = match t.tag {
        tag::UTC_TIME => {
            let yy: i16 = s
                .get(..2)
                .ok_or(Malformed)?
                .parse()
                .map_err(|_| Malformed)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..])
        }
        tag::GENERALIZED_TIME => (
            s.get(..4)
                .ok_or(Malformed)?
                .parse()
                .map_err(|_| Malformed)?,
            s.get(4..).ok_or(Malformed)?,
        ),
        _ => return Err(Malformed),
    };
    let (main, _fraction) = rest.split_once('.').unwrap_or((rest, ""));
    if main.len() != 10 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed);
    }
    let n = |i: usize| -> Asn1<i8> { main[i..i + 2].parse().map_err(|_| Malformed) };
    let dt = jiff::civil::DateTime::new(year, n(0)?, n(2)?, n(4)?, n(6)?, n(8)?, 0)
        .map_err(|_| Malformed)?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|_| Malformed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_definite_and_indefinite_lengths() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let (t, rest) = read(&der).unwrap();
        assert!(rest.is_empty());
        assert_eq!(t.items().unwrap()[0].content, &[5]);
        let ber = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00, 0xff];
        let (t, rest) = read(&ber).unwrap();
        assert_eq!(rest, &[0xff]);
        assert_eq!(t.whole.len(), 7);
        assert_eq!(t.items().unwrap()[0].content, &[5]);
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
        assert!(read(&[0x30, 0x80, 0x02, 0x01]).is_err());
    }

    #[test]
    fn reads_times() {
        let utc = [
            0x17, 0x0d, b'2', b'6', b'1', b'1', b'2', b'7', b'0', b'8', b'3', b'0', b'0', b'0',
            b'Z',
        ];
        let t = time(&read(&utc).unwrap().0).unwrap();
        assert_eq!(t.to_string(), "2026-11-27T08:30:00Z");
        let mut generalized = vec![0x18, 0x13];
        generalized.extend_from_slice(b"20261127083000.123Z");
        let t = time(&read(&generalized).unwrap().0).unwrap();
        assert_eq!(t.to_string(), "2026-11-27T08:30:00Z");
    }
}
