//! The status list: one bit per revocable certificate, as in the IETF
//! Token Status List (draft-ietf-oauth-status-list, "Status List in CBOR
//! Format" and "Status List Token in CWT Format"); served at
//! `/.well-known/palazzo/status-list/<n>` (DECISIONS 18).
//!
//! * The list: bit `i` is bit `i % 8` (least significant first) of byte
//!   `i / 8`; 1 = revoked (status INVALID), 0 = valid. `bits` is 1.
//! * The CBOR `StatusList`: `{"bits": 1, "lst": zlib(bytes)}` (RFC 1950,
//!   highest compression level).
//! * The token: a COSE_Sign1 with protected header
//!   `{1: alg, 4: kid, 16: "application/statuslist+cwt"}` and the claims
//!   `{1: iss, 2: sub (the list's URI), 4: exp (optional), 6: iat,
//!   65534: ttl (optional), 65533: StatusList}`.

use palazzo_domain::cbor::{self, Value};

use crate::SealError;
use crate::cose::{self, PublicKey, SealSigner};

/// `typ` of a status list token (the draft's media type).
pub const STATUS_LIST_TYP: &str = "application/statuslist+cwt";
/// Claim key of the status list in the token.
pub const CLAIM_STATUS_LIST: i64 = 65533;
/// Claim key of the time to live in the token.
pub const CLAIM_TTL: i64 = 65534;
/// The most entries a list may have (the inflated size is bounded by it).
pub const MAX_ENTRIES: u64 = 8 * 1024 * 1024 * 8;

/// A list of 1-bit statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of at least `entries` statuses, all valid (rounded up to a
    /// whole byte).
    ///
    /// # Errors
    /// [`SealError::Invalid`] above [`MAX_ENTRIES`].
    pub fn new(entries: u64) -> Result<Self, SealError> {
        if entries > MAX_ENTRIES {
            return Err(SealError::Invalid("status list too long"));
        }
        let len = usize::try_from(entries.div_ceil(8))
            .map_err(|_| SealError::Invalid("status list too long"))?;
        Ok(StatusList {
            bytes: vec![0; len],
        })
    }

    /// How many statuses the list holds.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8
    }

    /// Whether the list holds no status.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The uncompressed bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn locate(&self, idx: u64) -> Option<(usize, u8)> {
        let byte = usize::try_from(idx / 8)
            .ok()
            .filter(|&b| b < self.bytes.len())?;
        Some((byte, 1u8 << (idx % 8)))
    }

    /// Whether entry `idx` is revoked; `None` beyond the list.
    #[must_use]
    pub fn is_revoked(&self, idx: u64) -> Option<bool> {
        let (byte, mask) = self.locate(idx)?;
        self.bytes.get(byte).map(|b| b & mask != 0)
    }

    /// Revokes entry `idx` (sets its bit; revocation is final, R13).
    ///
    /// # Errors
    /// [`SealError::Invalid`] beyond the list.
    pub fn revoke(&mut self, idx: u64) -> Result<(), SealError> {
        let (byte, mask) = self
            .locate(idx)
            .ok_or(SealError::Invalid("index beyond the status list"))?;
        if let Some(b) = self.bytes.get_mut(byte) {
            *b |= mask;
        }
        Ok(())
    }

    /// The CBOR `StatusList` `{"bits": 1, "lst": zlib(bytes)}`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        Value::Map(vec![
            (Value::text("bits"), Value::Unsigned(1)),
            (
                Value::text("lst"),
                Value::Bytes(miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, 10)),
            ),
        ])
    }

    /// Parses a CBOR `StatusList` with `bits` = 1.
    ///
    /// # Errors
    /// [`SealError::Malformed`] for other bit sizes, a bad zlib stream or a
    /// list longer than [`MAX_ENTRIES`].
    pub fn from_value(v: &Value) -> Result<Self, SealError> {
        let bad = SealError::Malformed("status list is not {bits: 1, lst: bytes}");
        // Deterministic order: "lst" (0x63…) sorts before "bits" (0x64…).
        let (Some(2), Some(bits), Some(lst)) =
            (v.as_map().map(<[_]>::len), v.get("bits"), v.get("lst"))
        else {
            return Err(bad);
        };
        if bits.as_u64() != Some(1) {
            return Err(SealError::Malformed(
                "only 1-bit status lists are supported",
            ));
        }
        let lst = lst.as_bytes().ok_or(bad)?;
        let limit = usize::try_from(MAX_ENTRIES / 8).unwrap_or(usize::MAX);
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(lst, limit)
            .map_err(|_| SealError::Malformed("status list lst is not a valid zlib stream"))?;
        Ok(StatusList { bytes })
    }
}

/// A signed status list (Status List Token in CWT form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    /// `iss`, as in the seals (`IT-B923`).
    pub issuer: String,
    /// `sub`: the URI of this list, as in the seals' status claim.
    pub uri: String,
    /// `iat`.
    pub issued_at: u64,
    /// `exp`, optional.
    pub expires_at: Option<u64>,
    /// `ttl` in seconds, optional.
    pub ttl: Option<u64>,
    /// The statuses.
    pub list: StatusList,
}

impl StatusListToken {
    /// The claims, encoded.
    ///
    /// # Errors
    /// Never in practice (CBOR encoding is fallible).
    pub fn to_cbor(&self) -> Result<Vec<u8>, SealError> {
        let mut claims = vec![
            (Value::int(1), Value::text(self.issuer.as_str())),
            (Value::int(2), Value::text(self.uri.as_str())),
            (Value::int(6), Value::Unsigned(self.issued_at)),
            (Value::int(CLAIM_STATUS_LIST), self.list.to_value()),
        ];
        if let Some(exp) = self.expires_at {
            claims.push((Value::int(4), Value::Unsigned(exp)));
        }
        if let Some(ttl) = self.ttl {
            claims.push((Value::int(CLAIM_TTL), Value::Unsigned(ttl)));
        }
        Ok(cbor::encode(&Value::Map(claims))?)
    }

    /// Signs the token (with a seal key of the trust list or the list key).
    ///
    /// # Errors
    /// Signer errors.
    pub fn sign(&self, signer: &dyn SealSigner) -> Result<Vec<u8>, SealError> {
        cose::sign1(signer, &self.to_cbor()?, Some(STATUS_LIST_TYP))
    }

    /// Verifies a signed token with any of `keys` whose kid matches, and
    /// parses it.
    ///
    /// # Errors
    /// [`SealError::BadSignature`] when none of the keys signed it;
    /// [`SealError::Malformed`] for anything else than the format above.
    pub fn verify<'k>(
        cose_bytes: &[u8],
        keys: impl IntoIterator<Item = &'k PublicKey>,
    ) -> Result<Self, SealError> {
        let msg = cose::decode_sign1(cose_bytes)?;
        if msg.typ.as_deref() != Some(STATUS_LIST_TYP) {
            return Err(SealError::Malformed("not a status list token (typ)"));
        }
        if msg.verify_any(keys).is_none() {
            return Err(SealError::BadSignature);
        }
        Self::from_cbor(&msg.payload)
    }

    /// Parses the claims (no signature check).
    ///
    /// # Errors
    /// [`SealError::Malformed`] or [`SealError::Cbor`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, SealError> {
        let v = cbor::decode(bytes)?;
        let m = v
            .as_map()
            .ok_or(SealError::Malformed("status list token is not a map"))?;
        let (mut iss, mut sub, mut iat, mut exp, mut ttl, mut list) =
            (None, None, None, None, None, None);
        let bad = SealError::Malformed("status list token claims have the wrong types");
        for (k, v) in m {
            match k.as_i128() {
                Some(1) => iss = Some(v.as_text().ok_or(bad.clone())?),
                Some(2) => sub = Some(v.as_text().ok_or(bad.clone())?),
                Some(4) => exp = Some(v.as_u64().ok_or(bad.clone())?),
                Some(6) => iat = Some(v.as_u64().ok_or(bad.clone())?),
                Some(65533) => list = Some(StatusList::from_value(v)?),
                Some(65534) => ttl = Some(v.as_u64().ok_or(bad.clone())?),
                _ => {
                    return Err(SealError::Malformed(
                        "unknown claim in the status list token",
                    ));
                }
            }
        }
        let missing = SealError::Malformed("status list token lacks iss, sub, iat or status_list");
        Ok(StatusListToken {
            issuer: iss.ok_or(missing.clone())?.to_owned(),
            uri: sub.ok_or(missing.clone())?.to_owned(),
            issued_at: iat.ok_or(missing.clone())?,
            expires_at: exp,
            ttl,
            list: list.ok_or(missing)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cose::Ed25519Signer;

    #[test]
    fn bit_order_is_the_drafts() {
        // The draft's example: statuses 1,0,0,1,1,1,0,1 | 1,1,0,0,0,1,0,1 = b9 a3.
        let mut l = StatusList::new(16).unwrap();
        for (i, s) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
            .iter()
            .enumerate()
        {
            if *s == 1 {
                l.revoke(i as u64).unwrap();
            }
        }
        assert_eq!(l.as_bytes(), [0xb9, 0xa3]);
    }

    /// R13: the index maps to its bit, revocation flips exactly one bit.
    #[test]
    fn revocation_flips_exactly_one_bit() {
        let mut l = StatusList::new(10_000).unwrap();
        assert_eq!(l.len(), 10_000);
        l.revoke(5).unwrap();
        for idx in [0u64, 7, 8, 1234, 9_999] {
            let before = l.clone();
            l.revoke(idx).unwrap();
            let flipped: u32 = before
                .as_bytes()
                .iter()
                .zip(l.as_bytes())
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            assert_eq!(flipped, 1, "index {idx}");
            assert_eq!(l.is_revoked(idx), Some(true));
            assert_eq!(before.is_revoked(idx), Some(false));
            // Revoking again changes nothing.
            let again = l.clone();
            l.revoke(idx).unwrap();
            assert_eq!(again, l);
        }
        assert_eq!(l.is_revoked(6), Some(false));
        assert_eq!(l.is_revoked(10_000), None);
        assert!(l.revoke(10_000).is_err());
    }

    #[test]
    fn token_round_trip_and_signature() {
        let mut list = StatusList::new(1024).unwrap();
        list.revoke(42).unwrap();
        let token = StatusListToken {
            issuer: "IT-B923".into(),
            uri: "https://example.invalid/.well-known/palazzo/status-list/1".into(),
            issued_at: 1_790_000_000,
            expires_at: Some(1_790_086_400),
            ttl: Some(3600),
            list,
        };
        let signer = Ed25519Signer::from_seed(&[3; 32]).unwrap();
        let signed = token.sign(&signer).unwrap();
        let pk = PublicKey::of_signer(&signer).unwrap();
        let back = StatusListToken::verify(&signed, [&pk]).unwrap();
        assert_eq!(back, token);
        assert_eq!(back.list.is_revoked(42), Some(true));
        assert_eq!(back.list.is_revoked(41), Some(false));
        let other = PublicKey::of_signer(&Ed25519Signer::from_seed(&[4; 32]).unwrap()).unwrap();
        assert_eq!(
            StatusListToken::verify(&signed, [&other]),
            Err(SealError::BadSignature)
        );
        // The lst is zlib (0x78 header) and much smaller than the list.
        let payload = cbor::decode(&token.to_cbor().unwrap()).unwrap();
        let lst = payload
            .as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_i128() == Some(65533))
            .and_then(|(_, v)| v.get("lst"))
            .and_then(Value::as_bytes)
            .unwrap()
            .to_vec();
        assert_eq!(lst[0], 0x78);
        assert!(lst.len() < 40);
    }

    #[test]
    fn bad_lists_are_refused() {
        let two_bits = Value::Map(vec![
            (Value::text("bits"), Value::Unsigned(2)),
            (Value::text("lst"), Value::bytes(vec![0x78, 0x9c])),
        ]);
        assert!(StatusList::from_value(&two_bits).is_err());
        let not_zlib = Value::Map(vec![
            (Value::text("bits"), Value::Unsigned(1)),
            (Value::text("lst"), Value::bytes(vec![1, 2, 3])),
        ]);
        assert!(StatusList::from_value(&not_zlib).is_err());
        assert!(StatusList::new(MAX_ENTRIES + 1).is_err());
    }
}
