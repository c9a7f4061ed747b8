//! Base45 (RFC 9285): the text encoding of the PZ1 seal.
//!
//! Every two bytes `a, b` become the three characters of
//! `n = a·256 + b = c + d·45 + e·45²` written `c d e`; a last single byte
//! `a = c + d·45` becomes `c d` (RFC 9285 §4). The 45 characters are exactly
//! the QR alphanumeric set, so a Base45 text fills a QR code in alphanumeric
//! mode (5.5 bits per character).

use thiserror::Error;

/// The Base45 alphabet (RFC 9285 §4, table 1): value `i` is `ALPHABET[i]`.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not valid Base45.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the 45 of [`ALPHABET`] (lower case included).
    #[error("character {found:?} at position {position} is not Base45")]
    InvalidCharacter {
        /// Byte offset in the text.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The length is 1 modulo 3 (RFC 9285 §4.2: a dangling character).
    #[error("Base45 text has a dangling last character")]
    InvalidLength,
    /// A triple above 65535 or a final pair above 255 (RFC 9285 §6).
    #[error("Base45 group at position {position} is out of range")]
    OutOfRange {
        /// Byte offset of the group in the text.
        position: usize,
    },
}

/// Encodes `bytes` as Base45 text.
#[must_use]
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    encode_into(bytes, &mut out);
    out
}

/// The length of the Base45 text of `n` bytes.
#[must_use]
pub const fn encoded_len(n: usize) -> usize {
    n / 2 * 3 + (n % 2) * 2
}

/// Appends the Base45 text of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(encoded_len(bytes.len()));
    let digit = |v: u32| char::from(ALPHABET[(v % 45) as usize]);
    let mut chunks = bytes.chunks_exact(2);
    for pair in &mut chunks {
        let n = u32::from(pair[0]) * 256 + u32::from(pair[1]);
        out.push(digit(n));
        out.push(digit(n / 45));
        out.push(digit(n / 2025));
    }
    if let [last] = chunks.remainder() {
        let n = u32::from(*last);
        out.push(digit(n));
        out.push(digit(n / 45));
    }
}

fn value(position: usize, c: u8) -> Result<u32, Base45Error> {
    let v = match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'Z' => c - b'A' + 10,
        b' ' => 36,
        b'$' => 37,
        b'%' => 38,
        b'*' => 39,
        b'+' => 40,
        b'-' => 41,
        b'.' => 42,
        b'/' => 43,
        b':' => 44,
        _ => {
            return Err(Base45Error::InvalidCharacter {
                position,
                found: char::from(c),
            });
        }
    };
    Ok(u32::from(v))
}

/// Decodes a Base45 text.
///
/// # Errors
/// [`Base45Error`] for a character outside the alphabet, a dangling last
/// character, or a group whose value does not fit its bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let raw = text.as_bytes();
    if raw.len() % 3 == 1 {
        // Report a bad character first: it is the more useful message.
        for (i, &c) in raw.iter().enumerate() {
            value(i, c)?;
        }
        return Err(Base45Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(raw.len() / 3 * 2 + 1);
    for (g, group) in raw.chunks(3).enumerate() {
        let position = g * 3;
        match *group {
            [c, d, e] => {
                let n = value(position, c)?
                    + value(position + 1, d)? * 45
                    + value(position + 2, e)? * 2025;
                let n = u16::try_from(n).map_err(|_| Base45Error::OutOfRange { position })?;
                out.extend_from_slice(&n.to_be_bytes());
            }
            [c, d] => {
                let n = value(position, c)? + value(position + 1, d)? * 45;
                out.push(u8::try_from(n).map_err(|_| Base45Error::OutOfRange { position })?);
            }
            _ => return Err(Base45Error::InvalidLength),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The examples of RFC 9285 §4.3 and §4.4.
    #[test]
    fn rfc9285_examples() {
        for (bytes, text) in [
            (&b"AB"[..], "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
        ] {
            assert_eq!(encode(bytes), text);
            assert_eq!(decode(text).unwrap(), bytes);
        }
        assert_eq!(encode(b""), "");
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn invalid_input_is_refused() {
        // RFC 9285 §6: "GGW" is 65536 + ... > 65535.
        assert_eq!(decode("GGW"), Err(Base45Error::OutOfRange { position: 0 }));
        // A final pair above 255: ":;" is not even valid; "::" = 44 + 44·45 = 2024.
        assert_eq!(
            decode("BB8::"),
            Err(Base45Error::OutOfRange { position: 3 })
        );
        // Lower case and characters outside the alphabet.
        assert_eq!(
            decode("bb8"),
            Err(Base45Error::InvalidCharacter {
                position: 0,
                found: 'b'
            })
        );
        assert!(matches!(
            decode("BB8#"),
            Err(Base45Error::InvalidCharacter { position: 3, .. })
        ));
        // A dangling character.
        assert_eq!(decode("BB8B"), Err(Base45Error::InvalidLength));
        assert_eq!(decode("A"), Err(Base45Error::InvalidLength));
    }

    #[test]
    fn every_byte_pair_round_trips() {
        let all: Vec<u8> = (0..=255u8).flat_map(|a| [a, a.wrapping_mul(7)]).collect();
        for n in 0..all.len() {
            assert_eq!(decode(&encode(&all[..n])).unwrap(), &all[..n]);
        }
        assert_eq!(encode(&[0xff, 0xff]), "FGW");
        assert_eq!(decode("FGW").unwrap(), [0xff, 0xff]);
    }
}
