//! A small CBOR encoder and strict decoder for the **core deterministic
//! encoding** of RFC 8949 §4.2.1.
//!
//! Used for ledger leaves (DECISIONS 11), record state hashes and, later,
//! the PZ1 seal payload (DECISIONS 16). Only the data model Palazzo needs is
//! supported: integers, byte and text strings, arrays, maps, tags, `true`,
//! `false` and `null`. Floating-point numbers, `undefined` and other simple
//! values are deliberately left out (RFC 8949 §4.2.2 leaves their
//! deterministic form application-specific); the decoder rejects them.
//!
//! The encoding rules of RFC 8949 §4.2.1 that [`encode`] applies:
//! * every head uses the shortest form of its argument (§4.2.1, first
//!   bullet; §3 for the head layout);
//! * indefinite-length items are never produced (§4.2.1, second bullet);
//! * the keys of every map are sorted by the bytewise lexicographic order of
//!   their deterministic encodings (§4.2.1; not the "length-first" order of
//!   the older RFC 7049 §3.9, see RFC 8949 §4.2.3), and a map with two
//!   equal keys is an error (§5.6: keys must be unique).
//!
//! [`decode`] accepts exactly the byte strings that [`encode`] can produce:
//! anything else (non-shortest heads, indefinite lengths, unsorted or
//! duplicate keys, invalid UTF-8 in text strings, trailing bytes,
//! unsupported simple values) is an error. So `encode(&decode(b)?)? == b`
//! for every accepted `b`.

use std::cmp::Ordering;

use crate::Coded;

/// Maximum nesting of arrays, maps and tags accepted by [`decode`] (protects
/// the stack against hostile input; Palazzo's own structures nest a few
/// levels at most).
pub const MAX_DEPTH: usize = 64;

/// A CBOR data item in the subset Palazzo uses.
///
/// Integers follow the CBOR model exactly (RFC 8949 §3.1): major type 0
/// holds `0..=u64::MAX`, major type 1 holds `-1 - n` for `n` in
/// `0..=u64::MAX`. Use [`Value::int`] / [`Value::as_i128`] to work with plain
/// signed numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// Major type 0: an unsigned integer.
    Unsigned(u64),
    /// Major type 1: the negative integer `-1 - n`, holding **`n`** (so
    /// `Negative(0)` is −1 and `Negative(999)` is −1000). Prefer
    /// [`Value::int`] to build one.
    Negative(u64),
    /// Major type 2: a byte string.
    Bytes(Vec<u8>),
    /// Major type 3: a UTF-8 text string.
    Text(String),
    /// Major type 4: an array.
    Array(Vec<Value>),
    /// Major type 5: a map. The order of the entries here does not matter
    /// for [`encode`] (it sorts them); [`decode`] returns them sorted.
    Map(Vec<(Value, Value)>),
    /// Major type 7, simple values 20 and 21.
    Bool(bool),
    /// Major type 7, simple value 22.
    Null,
    /// Major type 6: a tagged item.
    Tag(u64, Box<Value>),
}

impl Value {
    /// The CBOR integer with the given signed value (major type 0 when
    /// `v >= 0`, major type 1 otherwise).
    #[must_use]
    pub fn int(v: i64) -> Value {
        if v >= 0 {
            Value::Unsigned(v.unsigned_abs())
        } else {
            // -1 - n = v  =>  n = -1 - v = |v| - 1, never underflows for v < 0.
            Value::Negative(v.unsigned_abs() - 1)
        }
    }

    /// A text string.
    #[must_use]
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// A byte string.
    #[must_use]
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }

    /// The integer value when this is an integer (every CBOR integer fits
    /// an `i128`).
    #[must_use]
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            Value::Unsigned(n) => Some(i128::from(*n)),
            Value::Negative(n) => Some(-1 - i128::from(*n)),
            _ => None,
        }
    }

    /// The value when this is an unsigned integer (major type 0).
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Unsigned(n) => Some(*n),
            _ => None,
        }
    }

    /// The string when this is a text string.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes when this is a byte string.
    #[must_use]
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items when this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries when this is a map.
    #[must_use]
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// In a map, the value of the entry whose key is the text `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Unsigned(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

/// Why a value could not be encoded or a byte string is not a deterministic
/// CBOR item. Decoding errors carry the byte offset where the problem was
/// found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CborError {
    /// A map has two entries with the same key (RFC 8949 §5.6).
    #[error("map has a duplicate key")]
    DuplicateKey,
    /// The input ends in the middle of an item.
    #[error("unexpected end of input at byte {offset}")]
    UnexpectedEnd {
        /// Byte offset.
        offset: usize,
    },
    /// Bytes follow the single top-level item.
    #[error("trailing bytes after the item at byte {offset}")]
    TrailingBytes {
        /// Byte offset.
        offset: usize,
    },
    /// An argument is not in its shortest form (RFC 8949 §4.2.1).
    #[error("argument not in shortest form at byte {offset}")]
    NonShortest {
        /// Byte offset.
        offset: usize,
    },
    /// An indefinite-length item or a "break" (RFC 8949 §3.2, forbidden by §4.2.1).
    #[error("indefinite-length item at byte {offset}")]
    Indefinite {
        /// Byte offset.
        offset: usize,
    },
    /// Additional information 28–30 (reserved, RFC 8949 §3), or a
    /// reserved/two-byte simple value.
    #[error("malformed head at byte {offset}")]
    Malformed {
        /// Byte offset.
        offset: usize,
    },
    /// A well-formed item outside the supported subset (floats, `undefined`,
    /// other simple values).
    #[error("unsupported item at byte {offset}")]
    Unsupported {
        /// Byte offset.
        offset: usize,
    },
    /// A text string that is not valid UTF-8 (RFC 8949 §3.1, major type 3).
    #[error("text string is not valid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset.
        offset: usize,
    },
    /// Map keys not in bytewise lexicographic order of their encodings.
    #[error("map keys not in deterministic order at byte {offset}")]
    UnsortedKeys {
        /// Byte offset.
        offset: usize,
    },
    /// A map key appears twice in the input.
    #[error("duplicate map key at byte {offset}")]
    DuplicateKeyAt {
        /// Byte offset.
        offset: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH} at byte {offset}")]
    TooDeep {
        /// Byte offset.
        offset: usize,
    },
}

impl Coded for CborError {
    fn code(&self) -> &'static str {
        match self {
            CborError::DuplicateKey | CborError::DuplicateKeyAt { .. } => "cbor_duplicate_key",
            CborError::UnexpectedEnd { .. } => "cbor_unexpected_end",
            CborError::TrailingBytes { .. } => "cbor_trailing_bytes",
            CborError::NonShortest { .. } => "cbor_non_shortest",
            CborError::Indefinite { .. } => "cbor_indefinite_length",
            CborError::Malformed { .. } => "cbor_malformed",
            CborError::Unsupported { .. } => "cbor_unsupported",
            CborError::InvalidUtf8 { .. } => "cbor_invalid_utf8",
            CborError::UnsortedKeys { .. } => "cbor_unsorted_keys",
            CborError::TooDeep { .. } => "cbor_too_deep",
        }
    }

    fn message_it(&self) -> String {
        match self {
            CborError::DuplicateKey => "La mappa CBOR contiene una chiave ripetuta".to_owned(),
            CborError::DuplicateKeyAt { offset } => {
                format!("La mappa CBOR contiene una chiave ripetuta (byte {offset})")
            }
            CborError::UnexpectedEnd { offset } => {
                format!("Il CBOR termina prima della fine del dato (byte {offset})")
            }
            CborError::TrailingBytes { offset } => {
                format!("Ci sono byte in più dopo il dato CBOR (byte {offset})")
            }
            CborError::NonShortest { offset } => {
                format!("Il CBOR non usa la codifica più breve (byte {offset})")
            }
            CborError::Indefinite { offset } => {
                format!("Il CBOR usa una lunghezza indefinita, non ammessa (byte {offset})")
            }
            CborError::Malformed { offset } => {
                format!("Il CBOR è malformato (byte {offset})")
            }
            CborError::Unsupported { offset } => {
                format!("Il CBOR contiene un tipo di dato non supportato (byte {offset})")
            }
            CborError::InvalidUtf8 { offset } => {
                format!("Una stringa di testo CBOR non è UTF-8 valido (byte {offset})")
            }
            CborError::UnsortedKeys { offset } => {
                format!(
                    "Le chiavi della mappa CBOR non sono in ordine deterministico (byte {offset})"
                )
            }
            CborError::TooDeep { offset } => {
                format!("Il CBOR è annidato troppo in profondità (byte {offset})")
            }
        }
    }
}

// Major types (RFC 8949 §3.1).
const MT_UNSIGNED: u8 = 0;
const MT_NEGATIVE: u8 = 1;
const MT_BYTES: u8 = 2;
const MT_TEXT: u8 = 3;
const MT_ARRAY: u8 = 4;
const MT_MAP: u8 = 5;
const MT_TAG: u8 = 6;
const MT_SIMPLE: u8 = 7;

// Simple values (RFC 8949 §3.3).
const SIMPLE_FALSE: u8 = 20;
const SIMPLE_TRUE: u8 = 21;
const SIMPLE_NULL: u8 = 22;

/// Writes a head with the shortest form of `arg` (RFC 8949 §3 and §4.2.1:
/// 0..=23 in the initial byte, then 1, 2, 4 or 8 following bytes).
fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let mt = major << 5;
    if let Ok(small) = u8::try_from(arg) {
        if small < 24 {
            out.push(mt | small);
        } else {
            out.push(mt | 24);
            out.push(small);
        }
    } else if let Ok(v) = u16::try_from(arg) {
        out.push(mt | 25);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(arg) {
        out.push(mt | 26);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(mt | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// Converts a length to a CBOR argument (`usize` always fits in `u64` on
/// the platforms Rust supports; saturating keeps this total).
fn len_arg(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// Encodes `value` in the core deterministic encoding (RFC 8949 §4.2.1).
///
/// # Errors
/// [`CborError::DuplicateKey`] when a map (at any depth) has two keys with
/// the same encoding.
pub fn encode(value: &Value) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::new();
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Appends the deterministic encoding of `value` to `out` (see [`encode`]).
///
/// # Errors
/// As [`encode`]; `out` may then hold a partial encoding.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) -> Result<(), CborError> {
    match value {
        Value::Unsigned(n) => write_head(out, MT_UNSIGNED, *n),
        Value::Negative(n) => write_head(out, MT_NEGATIVE, *n),
        Value::Bytes(b) => {
            write_head(out, MT_BYTES, len_arg(b.len()));
            out.extend_from_slice(b);
        }
        Value::Text(s) => {
            write_head(out, MT_TEXT, len_arg(s.len()));
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            write_head(out, MT_ARRAY, len_arg(items.len()));
            for item in items {
                encode_into(item, out)?;
            }
        }
        Value::Map(entries) => {
            // RFC 8949 §4.2.1: sort by the bytewise lexicographic order of
            // the deterministic encodings of the keys.
            let mut encoded = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                encoded.push((encode(k)?, encode(v)?));
            }
            encoded.sort_by(|a, b| a.0.cmp(&b.0));
            if encoded
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.0 == b.0))
            {
                return Err(CborError::DuplicateKey);
            }
            write_head(out, MT_MAP, len_arg(encoded.len()));
            for (k, v) in encoded {
                out.extend_from_slice(&k);
                out.extend_from_slice(&v);
            }
        }
        Value::Bool(false) => out.push((MT_SIMPLE << 5) | SIMPLE_FALSE),
        Value::Bool(true) => out.push((MT_SIMPLE << 5) | SIMPLE_TRUE),
        Value::Null => out.push((MT_SIMPLE << 5) | SIMPLE_NULL),
        Value::Tag(tag, inner) => {
            write_head(out, MT_TAG, *tag);
            encode_into(inner, out)?;
        }
    }
    Ok(())
}

/// Decodes exactly one deterministic CBOR item that fills `input`.
///
/// # Errors
/// Any deviation from the core deterministic encoding (RFC 8949 §4.2.1),
/// any item outside the supported subset, truncation or trailing bytes.
pub fn decode(input: &[u8]) -> Result<Value, CborError> {
    let mut d = Decoder { input, pos: 0 };
    let value = d.item(0)?;
    if d.pos != input.len() {
        return Err(CborError::TrailingBytes { offset: d.pos });
    }
    Ok(value)
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.input.len())
            .ok_or(CborError::UnexpectedEnd {
                offset: self.input.len(),
            })?;
        let slice = self
            .input
            .get(self.pos..end)
            .ok_or(CborError::UnexpectedEnd { offset: self.pos })?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CborError> {
        let offset = self.pos;
        self.take(N)?
            .try_into()
            .map_err(|_| CborError::UnexpectedEnd { offset })
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or(CborError::UnexpectedEnd { offset: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads the argument for additional information `ai` (RFC 8949 §3),
    /// requiring its shortest form.
    fn argument(&mut self, ai: u8, start: usize) -> Result<u64, CborError> {
        let non_shortest = CborError::NonShortest { offset: start };
        match ai {
            0..=23 => Ok(u64::from(ai)),
            24 => {
                let v = self.byte()?;
                if v < 24 {
                    Err(non_shortest)
                } else {
                    Ok(u64::from(v))
                }
            }
            25 => {
                let v = u16::from_be_bytes(self.array()?);
                if v <= 0xff {
                    Err(non_shortest)
                } else {
                    Ok(u64::from(v))
                }
            }
            26 => {
                let v = u32::from_be_bytes(self.array()?);
                if v <= 0xffff {
                    Err(non_shortest)
                } else {
                    Ok(u64::from(v))
                }
            }
            27 => {
                let v = u64::from_be_bytes(self.array()?);
                if v <= 0xffff_ffff {
                    Err(non_shortest)
                } else {
                    Ok(v)
                }
            }
            31 => Err(CborError::Indefinite { offset: start }),
            _ => Err(CborError::Malformed { offset: start }),
        }
    }

    /// A length argument that must fit in the remaining input (each element
    /// takes at least one byte), so hostile lengths cannot force huge
    /// allocations.
    fn length(&mut self, ai: u8, start: usize) -> Result<usize, CborError> {
        let arg = self.argument(ai, start)?;
        let remaining = self.input.len().saturating_sub(self.pos);
        match usize::try_from(arg) {
            Ok(n) if n <= remaining => Ok(n),
            _ => Err(CborError::UnexpectedEnd {
                offset: self.input.len(),
            }),
        }
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        let start = self.pos;
        let initial = self.byte()?;
        let major = initial >> 5;
        let ai = initial & 0x1f;
        match major {
            MT_UNSIGNED => Ok(Value::Unsigned(self.argument(ai, start)?)),
            MT_NEGATIVE => Ok(Value::Negative(self.argument(ai, start)?)),
            MT_BYTES => {
                let n = self.length(ai, start)?;
                Ok(Value::Bytes(self.take(n)?.to_vec()))
            }
            MT_TEXT => {
                let n = self.length(ai, start)?;
                let raw = self.take(n)?;
                let s = std::str::from_utf8(raw)
                    .map_err(|_| CborError::InvalidUtf8 { offset: start })?;
                Ok(Value::Text(s.to_owned()))
            }
            MT_ARRAY => {
                let depth = nested(depth, start)?;
                let n = self.length(ai, start)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth)?);
                }
                Ok(Value::Array(items))
            }
            MT_MAP => {
                let depth = nested(depth, start)?;
                let n = self.length(ai, start)?;
                let mut entries = Vec::with_capacity(n);
                let mut previous_key: Option<(usize, usize)> = None;
                for _ in 0..n {
                    let key_start = self.pos;
                    let key = self.item(depth)?;
                    let key_end = self.pos;
                    if let Some((ps, pe)) = previous_key {
                        let prev = self.input.get(ps..pe).unwrap_or_default();
                        let this = self.input.get(key_start..key_end).unwrap_or_default();
                        match prev.cmp(this) {
                            Ordering::Less => {}
                            Ordering::Equal => {
                                return Err(CborError::DuplicateKeyAt { offset: key_start });
                            }
                            Ordering::Greater => {
                                return Err(CborError::UnsortedKeys { offset: key_start });
                            }
                        }
                    }
                    previous_key = Some((key_start, key_end));
                    let value = self.item(depth)?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            MT_TAG => {
                let depth = nested(depth, start)?;
                let tag = self.argument(ai, start)?;
                let inner = self.item(depth)?;
                Ok(Value::Tag(tag, Box::new(inner)))
            }
            // MT_SIMPLE (RFC 8949 §3.3)
            _ => match ai {
                SIMPLE_FALSE => Ok(Value::Bool(false)),
                SIMPLE_TRUE => Ok(Value::Bool(true)),
                SIMPLE_NULL => Ok(Value::Null),
                31 => Err(CborError::Indefinite { offset: start }),
                28..=30 => Err(CborError::Malformed { offset: start }),
                // 23 undefined, other simple values, 24 two-byte simple
                // values, 25–27 floats: well-formed but not supported.
                _ => Err(CborError::Unsupported { offset: start }),
            },
        }
    }
}

fn nested(depth: usize, offset: usize) -> Result<usize, CborError> {
    if depth >= MAX_DEPTH {
        Err(CborError::TooDeep { offset })
    } else {
        Ok(depth + 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn check(value: Value, expected_hex: &str) {
        let bytes = encode(&value).unwrap();
        assert_eq!(hex(&bytes), expected_hex, "encoding of {value:?}");
        assert_eq!(decode(&bytes).unwrap(), value, "decoding of {expected_hex}");
    }

    fn text(s: &str) -> Value {
        Value::text(s)
    }

    #[test]
    fn rfc8949_appendix_a_integers() {
        check(Value::Unsigned(0), "00");
        check(Value::Unsigned(1), "01");
        check(Value::Unsigned(10), "0a");
        check(Value::Unsigned(23), "17");
        check(Value::Unsigned(24), "1818");
        check(Value::Unsigned(25), "1819");
        check(Value::Unsigned(100), "1864");
        check(Value::Unsigned(1000), "1903e8");
        check(Value::Unsigned(1_000_000), "1a000f4240");
        check(Value::Unsigned(1_000_000_000_000), "1b000000e8d4a51000");
        check(Value::Unsigned(u64::MAX), "1bffffffffffffffff");
        check(Value::Negative(u64::MAX), "3bffffffffffffffff"); // -18446744073709551616
        check(Value::int(-1), "20");
        check(Value::int(-10), "29");
        check(Value::int(-100), "3863");
        check(Value::int(-1000), "3903e7");
        check(Value::int(i64::MIN), "3b7fffffffffffffff");
        assert_eq!(Value::int(-1000), Value::Negative(999));
        assert_eq!(
            Value::Negative(u64::MAX).as_i128(),
            Some(-18_446_744_073_709_551_616)
        );
    }

    #[test]
    fn rfc8949_appendix_a_simple_strings_arrays_maps_tags() {
        check(Value::Bool(false), "f4");
        check(Value::Bool(true), "f5");
        check(Value::Null, "f6");
        check(Value::bytes(vec![]), "40");
        check(Value::bytes(vec![1, 2, 3, 4]), "4401020304");
        check(text(""), "60");
        check(text("a"), "6161");
        check(text("IETF"), "6449455446");
        check(text("\"\\"), "62225c");
        check(text("\u{00fc}"), "62c3bc");
        check(text("\u{6c34}"), "63e6b0b4");
        check(text("\u{10151}"), "64f0908591");
        check(Value::Array(vec![]), "80");
        check(
            Value::Array(vec![
                Value::Unsigned(1),
                Value::Unsigned(2),
                Value::Unsigned(3),
            ]),
            "83010203",
        );
        check(
            Value::Array(vec![
                Value::Unsigned(1),
                Value::Array(vec![Value::Unsigned(2), Value::Unsigned(3)]),
                Value::Array(vec![Value::Unsigned(4), Value::Unsigned(5)]),
            ]),
            "8301820203820405",
        );
        check(
            Value::Array((1..=25).map(Value::Unsigned).collect()),
            "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
        );
        check(Value::Map(vec![]), "a0");
        check(
            Value::Map(vec![
                (Value::Unsigned(1), Value::Unsigned(2)),
                (Value::Unsigned(3), Value::Unsigned(4)),
            ]),
            "a201020304",
        );
        check(
            Value::Map(vec![
                (text("a"), Value::Unsigned(1)),
                (
                    text("b"),
                    Value::Array(vec![Value::Unsigned(2), Value::Unsigned(3)]),
                ),
            ]),
            "a26161016162820203",
        );
        check(
            Value::Array(vec![text("a"), Value::Map(vec![(text("b"), text("c"))])]),
            "826161a161626163",
        );
        check(
            Value::Map(
                ["a", "b", "c", "d", "e"]
                    .iter()
                    .map(|k| (text(k), text(&k.to_uppercase())))
                    .collect(),
            ),
            "a56161614161626142616361436164614461656145",
        );
        check(
            Value::Tag(1, Box::new(Value::Unsigned(1_363_896_240))),
            "c11a514b67b0",
        );
        check(
            Value::Tag(23, Box::new(Value::bytes(vec![1, 2, 3, 4]))),
            "d74401020304",
        );
        check(
            Value::Tag(24, Box::new(Value::bytes(unhex("6449455446")))),
            "d818456449455446",
        );
        check(
            Value::Tag(32, Box::new(text("http://www.example.com"))),
            "d82076687474703a2f2f7777772e6578616d706c652e636f6d",
        );
    }

    #[test]
    fn map_keys_are_sorted_bytewise_by_encoding() {
        // RFC 8949 §4.2.1 example order: 10, -1, "z", "aa" (0a, 20, 617a, 626161).
        // Given in a scrambled order, plus 100 (1864), which sorts between 10 and -1.
        let m = Value::Map(vec![
            (text("aa"), Value::Null),
            (text("z"), Value::Null),
            (Value::int(-1), Value::Null),
            (Value::Unsigned(100), Value::Null),
            (Value::Unsigned(10), Value::Null),
        ]);
        let bytes = encode(&m).unwrap();
        assert_eq!(hex(&bytes), "a50af61864f620f6617af6626161f6");
        let decoded = decode(&bytes).unwrap();
        let keys: Vec<Value> = decoded
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            keys,
            vec![
                Value::Unsigned(10),
                Value::Unsigned(100),
                Value::int(-1),
                text("z"),
                text("aa")
            ]
        );
        // Shorter text keys come first because the length is in the head.
        let m = Value::Map(vec![
            (text("subject"), Value::Null),
            (text("seq"), Value::Null),
            (text("time"), Value::Null),
            (text("kind"), Value::Null),
        ]);
        let keys: Vec<String> = decode(&encode(&m).unwrap())
            .unwrap()
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_text().unwrap().to_owned())
            .collect();
        assert_eq!(keys, ["seq", "kind", "time", "subject"]);
    }

    #[test]
    fn duplicate_keys_are_an_encoding_error() {
        let m = Value::Map(vec![
            (text("a"), Value::Unsigned(1)),
            (text("a"), Value::Unsigned(2)),
        ]);
        assert_eq!(encode(&m), Err(CborError::DuplicateKey));
        // Also when nested.
        let nested = Value::Array(vec![Value::Tag(7, Box::new(m))]);
        assert_eq!(encode(&nested), Err(CborError::DuplicateKey));
        // Same value, different type: not a duplicate.
        let ok = Value::Map(vec![
            (Value::Unsigned(1), Value::Null),
            (text("1"), Value::Null),
        ]);
        assert!(encode(&ok).is_ok());
    }

    fn decode_err(h: &str) -> CborError {
        decode(&unhex(h)).unwrap_err()
    }

    #[test]
    fn decoder_rejects_non_deterministic_input() {
        // Non-shortest heads.
        assert_eq!(decode_err("1817"), CborError::NonShortest { offset: 0 });
        assert_eq!(decode_err("190017"), CborError::NonShortest { offset: 0 });
        assert_eq!(decode_err("1900ff"), CborError::NonShortest { offset: 0 });
        assert_eq!(
            decode_err("1a0000ffff"),
            CborError::NonShortest { offset: 0 }
        );
        assert_eq!(
            decode_err("1b00000000ffffffff"),
            CborError::NonShortest { offset: 0 }
        );
        assert_eq!(decode_err("3800"), CborError::NonShortest { offset: 0 });
        assert_eq!(decode_err("590001ff"), CborError::NonShortest { offset: 0 });
        assert_eq!(decode_err("811801"), CborError::NonShortest { offset: 1 });
        // Indefinite lengths and break.
        assert_eq!(
            decode_err("5f42010243030405ff"),
            CborError::Indefinite { offset: 0 }
        );
        assert_eq!(
            decode_err("7f657374726561646d696e67ff"),
            CborError::Indefinite { offset: 0 }
        );
        assert_eq!(decode_err("9fff"), CborError::Indefinite { offset: 0 });
        assert_eq!(decode_err("bfff"), CborError::Indefinite { offset: 0 });
        assert_eq!(decode_err("ff"), CborError::Indefinite { offset: 0 });
        assert_eq!(decode_err("1f"), CborError::Indefinite { offset: 0 });
        // Reserved additional information.
        assert_eq!(decode_err("1c"), CborError::Malformed { offset: 0 });
        assert_eq!(decode_err("fe"), CborError::Malformed { offset: 0 });
        // Unsorted and duplicate keys.
        assert_eq!(
            decode_err("a2616201616102"),
            CborError::UnsortedKeys { offset: 4 }
        );
        assert_eq!(
            decode_err("a2200a0af6"),
            CborError::UnsortedKeys { offset: 3 }
        );
        assert_eq!(
            decode_err("a2616101616102"),
            CborError::DuplicateKeyAt { offset: 4 }
        );
        // Trailing bytes and truncation.
        assert_eq!(decode_err("0000"), CborError::TrailingBytes { offset: 1 });
        assert_eq!(decode_err(""), CborError::UnexpectedEnd { offset: 0 });
        assert!(matches!(decode_err("19"), CborError::UnexpectedEnd { .. }));
        assert!(matches!(
            decode_err("4401"),
            CborError::UnexpectedEnd { .. }
        ));
        assert!(matches!(
            decode_err("8201"),
            CborError::UnexpectedEnd { .. }
        ));
        assert!(matches!(
            decode_err("9bffffffffffffffff"),
            CborError::UnexpectedEnd { .. }
        ));
        assert!(matches!(
            decode_err("5bffffffffffffffff"),
            CborError::UnexpectedEnd { .. }
        ));
        // Unsupported: floats, undefined, other simple values.
        assert_eq!(decode_err("f90000"), CborError::Unsupported { offset: 0 });
        assert_eq!(
            decode_err("fb3ff199999999999a"),
            CborError::Unsupported { offset: 0 }
        );
        assert_eq!(decode_err("f7"), CborError::Unsupported { offset: 0 });
        assert_eq!(decode_err("f0"), CborError::Unsupported { offset: 0 });
        assert_eq!(decode_err("f8ff"), CborError::Unsupported { offset: 0 });
        // Invalid UTF-8.
        assert_eq!(decode_err("62c328"), CborError::InvalidUtf8 { offset: 0 });
    }

    #[test]
    fn decoder_limits_depth() {
        let mut deep = vec![0x81u8; MAX_DEPTH];
        deep.push(0x00);
        assert!(decode(&deep).is_ok());
        let mut too_deep = vec![0x81u8; MAX_DEPTH + 1];
        too_deep.push(0x00);
        assert_eq!(
            decode(&too_deep),
            Err(CborError::TooDeep { offset: MAX_DEPTH })
        );
    }

    #[test]
    fn errors_have_codes_and_italian_messages() {
        let e = decode_err("1817");
        assert_eq!(e.code(), "cbor_non_shortest");
        assert!(e.message_it().contains("più breve"));
        assert_eq!(CborError::DuplicateKey.code(), "cbor_duplicate_key");
    }

    /// Sorts every map of `v` in deterministic order (what `decode` returns).
    fn canonical(v: Value) -> Value {
        match v {
            Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
            Value::Tag(t, inner) => Value::Tag(t, Box::new(canonical(*inner))),
            Value::Map(entries) => {
                let mut entries: Vec<(Value, Value)> = entries
                    .into_iter()
                    .map(|(k, v)| (canonical(k), canonical(v)))
                    .collect();
                entries.sort_by_key(|(k, _)| encode(k).unwrap());
                Value::Map(entries)
            }
            other => other,
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(Value::Unsigned),
            any::<u64>().prop_map(Value::Negative),
            (0u64..30).prop_map(Value::Unsigned),
            any::<i64>().prop_map(Value::int),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            ".{0,30}".prop_map(Value::Text),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((inner.clone(), inner.clone()), 0..8).prop_map(
                    |entries| {
                        // Keep the first entry for each key encoding: unique keys.
                        let mut seen = std::collections::HashSet::new();
                        Value::Map(
                            entries
                                .into_iter()
                                .filter(|(k, _)| seen.insert(encode(k).ok()))
                                .collect(),
                        )
                    }
                ),
                (any::<u64>(), inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
            ]
        })
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(v in arb_value()) {
            // Every generated map (at any depth) has unique keys, so
            // encoding succeeds.
            let bytes = encode(&v).unwrap();
            let decoded = decode(&bytes).unwrap();
            prop_assert_eq!(&decoded, &canonical(v));
            prop_assert_eq!(encode(&decoded).unwrap(), bytes);
        }

        #[test]
        fn mutated_encodings_are_rejected_or_canonical(
            v in arb_value(),
            at in any::<proptest::sample::Index>(),
            xor in 1u8..=255,
        ) {
            let mut bytes = encode(&v).unwrap();
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
            if let Ok(decoded) = decode(&bytes) {
                prop_assert_eq!(encode(&decoded).unwrap(), bytes);
            }
        }

        #[test]
        fn decode_never_panics_and_accepts_only_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(v) = decode(&bytes) {
                prop_assert_eq!(encode(&v).unwrap(), bytes);
            }
        }
    }
}
