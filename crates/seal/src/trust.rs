//! The trust list: the seal keys of a comune, signed by its list key
//! (domain doc §5.2; served at `/.well-known/palazzo/trust-list`,
//! DECISIONS 18).
//!
//! A COSE_Sign1 (protected header `{1: alg, 4: kid, 16: "application/palazzo-trust-list+cwt"}`)
//! whose payload is the map
//! `{1: iss, 6: iat, -65538: [entry, …]}` with each entry
//! `{1: kid (8 bytes), 2: SPKI DER, 3: not_before, 4: not_after (absent =
//! open), 5: [document type, …]}` (times in seconds since the Unix epoch).
//! Removing an entry revokes every seal of that key (DCC model).

use palazzo_domain::cbor::{self, Value};

use crate::SealError;
use crate::cose::{self, Kid, PublicKey, SealSigner};

/// `typ` of a trust list token.
pub const TRUST_LIST_TYP: &str = "application/palazzo-trust-list+cwt";
/// Claim key of the entries.
pub const CLAIM_ENTRIES: i64 = -65538;

/// One seal key of the trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    /// The public key (its kid is derived from its SPKI).
    pub key: PublicKey,
    /// First second at which the key may seal.
    pub not_before: u64,
    /// Last second at which the key may seal; `None` while in use.
    pub not_after: Option<u64>,
    /// The document types the key seals (e.g. `residenza`, `cdu`).
    pub doc_types: Vec<String>,
}

impl TrustEntry {
    /// Whether the key was valid at `time` (R7: a seal made outside the
    /// key's validity is not trusted).
    #[must_use]
    pub fn valid_at(&self, time: u64) -> bool {
        self.not_before <= time && self.not_after.is_none_or(|end| time <= end)
    }

    /// Whether the key may seal `doc_type`.
    #[must_use]
    pub fn allows(&self, doc_type: &str) -> bool {
        self.doc_types.iter().any(|t| t == doc_type)
    }
}

/// The trust list of one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    /// The issuer, as in the seals' `iss` (`IT-B923`).
    pub issuer: String,
    /// When the list was made (seconds since the Unix epoch).
    pub issued_at: u64,
    /// The keys.
    pub entries: Vec<TrustEntry>,
}

impl TrustList {
    /// The entries whose kid is `kid` (several when kids collide).
    pub fn candidates(&self, kid: Kid) -> impl Iterator<Item = &TrustEntry> {
        self.entries.iter().filter(move |e| e.key.kid() == kid)
    }

    /// The payload, encoded.
    ///
    /// # Errors
    /// [`SealError::Invalid`] for an entry without document types or whose
    /// validity ends before it starts.
    pub fn to_cbor(&self) -> Result<Vec<u8>, SealError> {
        let mut entries = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            if e.doc_types.is_empty() {
                return Err(SealError::Invalid(
                    "a trust list entry needs document types",
                ));
            }
            if e.not_after.is_some_and(|end| end < e.not_before) {
                return Err(SealError::Invalid(
                    "a trust list entry ends before it starts",
                ));
            }
            let mut m = vec![
                (Value::int(1), Value::bytes(e.key.kid().to_vec())),
                (Value::int(2), Value::bytes(e.key.spki_der().to_vec())),
                (Value::int(3), Value::Unsigned(e.not_before)),
                (
                    Value::int(5),
                    Value::Array(
                        e.doc_types
                            .iter()
                            .map(|t| Value::text(t.as_str()))
                            .collect(),
                    ),
                ),
            ];
            if let Some(end) = e.not_after {
                m.push((Value::int(4), Value::Unsigned(end)));
            }
            entries.push(Value::Map(m));
        }
        Ok(cbor::encode(&Value::Map(vec![
            (Value::int(1), Value::text(self.issuer.as_str())),
            (Value::int(6), Value::Unsigned(self.issued_at)),
            (Value::int(CLAIM_ENTRIES), Value::Array(entries)),
        ]))?)
    }

    /// Signs the list with the list key.
    ///
    /// # Errors
    /// As [`TrustList::to_cbor`]; signer errors.
    pub fn sign(&self, list_signer: &dyn SealSigner) -> Result<Vec<u8>, SealError> {
        cose::sign1(list_signer, &self.to_cbor()?, Some(TRUST_LIST_TYP))
    }

    /// Verifies a signed trust list with the list key (given by the caller,
    /// e.g. bundled in the verifier) and parses it.
    ///
    /// # Errors
    /// [`SealError::BadSignature`] when the list key did not sign it;
    /// [`SealError::Malformed`] for anything else than the format above.
    pub fn verify(cose_bytes: &[u8], list_key: &PublicKey) -> Result<Self, SealError> {
        let msg = cose::decode_sign1(cose_bytes)?;
        if msg.typ.as_deref() != Some(TRUST_LIST_TYP) {
            return Err(SealError::Malformed("not a trust list (typ)"));
        }
        if msg.kid != list_key.kid() || !msg.verify(list_key) {
            return Err(SealError::BadSignature);
        }
        Self::from_cbor(&msg.payload)
    }

    /// Parses the payload (no signature check).
    ///
    /// # Errors
    /// [`SealError::Malformed`] or [`SealError::Cbor`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, SealError> {
        let v = cbor::decode(bytes)?;
        let m = v
            .as_map()
            .ok_or(SealError::Malformed("trust list is not a map"))?;
        let bad =
            SealError::Malformed("trust list does not have {1: iss, 6: iat, -65538: entries}");
        let [(k1, iss), (k6, iat), (ke, entries)] = m else {
            return Err(bad);
        };
        if k1.as_i128() != Some(1)
            || k6.as_i128() != Some(6)
            || ke.as_i128() != Some(CLAIM_ENTRIES.into())
        {
            return Err(bad);
        }
        let (Some(issuer), Some(issued_at), Some(items)) =
            (iss.as_text(), iat.as_u64(), entries.as_array())
        else {
            return Err(bad);
        };
        let entries = items
            .iter()
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustList {
            issuer: issuer.to_owned(),
            issued_at,
            entries,
        })
    }
}

fn parse_entry(v: &Value) -> Result<TrustEntry, SealError> {
    let bad = SealError::Malformed(
        "trust list entry is not {1: kid, 2: spki, 3: nbf, 4?: end, 5: types}",
    );
    let m = v.as_map().ok_or(bad.clone())?;
    let (mut kid, mut spki, mut nbf, mut end, mut types) = (None, None, None, None, None);
    for (k, v) in m {
        match k.as_i128() {
            Some(1) => kid = v.as_bytes(),
            Some(2) => spki = v.as_bytes(),
            Some(3) => nbf = v.as_u64(),
            Some(4) => end = Some(v.as_u64().ok_or(bad.clone())?),
            Some(5) => {
                types = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|t| t.as_text().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or(bad.clone())?;
            }
            _ => return Err(bad),
        }
    }
    let key = PublicKey::from_spki_der(spki.ok_or(bad.clone())?)?;
    if kid != Some(&key.kid()[..]) {
        return Err(SealError::Malformed(
            "trust list entry kid is not SHA-256(SPKI)[..8]",
        ));
    }
    let doc_types = types.filter(|t| !t.is_empty()).ok_or(bad.clone())?;
    Ok(TrustEntry {
        key,
        not_before: nbf.ok_or(bad)?,
        not_after: end,
        doc_types,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cose::{Ed25519Signer, P256Signer};

    pub(crate) fn list() -> TrustList {
        let es = P256Signer::from_secret_bytes(&[9; 32]).unwrap();
        let ed = Ed25519Signer::from_seed(&[1; 32]).unwrap();
        TrustList {
            issuer: "IT-B923".into(),
            issued_at: 1_790_000_000,
            entries: vec![
                TrustEntry {
                    key: PublicKey::of_signer(&es).unwrap(),
                    not_before: 1_780_000_000,
                    not_after: None,
                    doc_types: vec!["residenza".into(), "nascita".into()],
                },
                TrustEntry {
                    key: PublicKey::of_signer(&ed).unwrap(),
                    not_before: 1_700_000_000,
                    not_after: Some(1_750_000_000),
                    doc_types: vec!["residenza".into()],
                },
            ],
        }
    }

    #[test]
    fn build_sign_verify_parse() {
        let list_key = Ed25519Signer::from_seed(&[200; 32]).unwrap();
        let signed = list().sign(&list_key).unwrap();
        let pk = PublicKey::of_signer(&list_key).unwrap();
        assert_eq!(TrustList::verify(&signed, &pk).unwrap(), list());
        // Another key, or a flipped byte, is refused.
        let other = PublicKey::of_signer(&Ed25519Signer::from_seed(&[201; 32]).unwrap()).unwrap();
        assert_eq!(
            TrustList::verify(&signed, &other),
            Err(SealError::BadSignature)
        );
        let mut bad = signed.clone();
        let last = bad.len() - 70;
        bad[last] ^= 1;
        assert!(TrustList::verify(&bad, &pk).is_err());
        // A seal is not a trust list.
        let seal = cose::sign1(&list_key, &list().to_cbor().unwrap(), None).unwrap();
        assert!(matches!(
            TrustList::verify(&seal, &pk),
            Err(SealError::Malformed(_))
        ));
    }

    #[test]
    fn validity_and_types() {
        let l = list();
        let e = &l.entries[1];
        assert!(
            !e.valid_at(1_699_999_999) && e.valid_at(1_700_000_000) && e.valid_at(1_750_000_000)
        );
        assert!(!e.valid_at(1_750_000_001));
        assert!(l.entries[0].valid_at(u64::MAX));
        assert!(e.allows("residenza") && !e.allows("cdu"));
        assert_eq!(l.candidates(e.key.kid()).count(), 1);
        let mut empty = l.clone();
        empty.entries[0].doc_types.clear();
        assert!(empty.to_cbor().is_err());
    }
}
