//! COSE_Sign1 (RFC 9052 §4.2, CBOR tag 18) over Palazzo's deterministic
//! CBOR ([`palazzo_domain::cbor`]), with the keys of the seal.
//!
//! The protected header is `{1: alg, 4: kid}` (DECISIONS 15) — plus `16: typ`
//! for a status list token — the unprotected header is empty, and the
//! signature covers the `Sig_structure`
//! `["Signature1", protected, h'', payload]` (RFC 9052 §4.4, no external AAD).
//! `kid` is the first 8 bytes of the SHA-256 of the signer's
//! SubjectPublicKeyInfo (DER), so a verifier can find the key in the trust
//! list; since 8 bytes can collide, verifiers try every key with that kid.

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use palazzo_domain::cbor::{self, Value};
use sha2::{Digest as _, Sha256};

use crate::SealError;

/// CBOR tag of a COSE_Sign1 message (RFC 9052 §2).
pub const TAG_COSE_SIGN1: u64 = 18;
/// Header label `alg` (RFC 9052 §3.1).
pub const HEADER_ALG: i64 = 1;
/// Header label `kid` (RFC 9052 §3.1).
pub const HEADER_KID: i64 = 4;
/// Header label `typ` (RFC 9596).
pub const HEADER_TYP: i64 = 16;

/// A key identifier: the first 8 bytes of SHA-256(SubjectPublicKeyInfo DER).
pub type Kid = [u8; 8];

/// The kid of a public key given as SubjectPublicKeyInfo DER.
#[must_use]
pub fn kid_of(spki_der: &[u8]) -> Kid {
    let digest = Sha256::digest(spki_der);
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

/// A signature algorithm of the seal (IANA COSE Algorithms registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256, signature `r‖s` (64 bytes): COSE −7,
    /// the default (DECISIONS 14).
    Es256,
    /// Ed25519 (EdDSA): COSE −8, accepted.
    EdDsa,
}

impl Algorithm {
    /// The COSE algorithm identifier.
    #[must_use]
    pub const fn cose_id(self) -> i64 {
        match self {
            Algorithm::Es256 => -7,
            Algorithm::EdDsa => -8,
        }
    }

    /// The algorithm with that COSE identifier, if supported.
    #[must_use]
    pub const fn from_cose_id(id: i128) -> Option<Algorithm> {
        match id {
            -7 => Some(Algorithm::Es256),
            -8 => Some(Algorithm::EdDsa),
            _ => None,
        }
    }
}

/// Something that signs seals with a key it keeps (DECISIONS 14): a
/// software key loaded from a PKCS#8 file ([`P256Signer`],
/// [`Ed25519Signer`]), later an HSM or a remote signer.
pub trait SealSigner: Send + Sync {
    /// The algorithm of [`SealSigner::sign`].
    fn algorithm(&self) -> Algorithm;
    /// The public key as SubjectPublicKeyInfo DER (goes in the trust list).
    fn spki_der(&self) -> &[u8];
    /// The key identifier, [`kid_of`] the SPKI.
    fn kid(&self) -> Kid {
        kid_of(self.spki_der())
    }
    /// Signs `message` (the signer hashes it as the algorithm says):
    /// 64 bytes `r‖s` for ES256, 64 bytes for EdDSA.
    ///
    /// # Errors
    /// [`SealError::Signer`] when the key cannot sign (a remote or HSM
    /// backend); the software keys never fail.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError>;
}

/// A software ES256 key (P-256), deterministic signatures (RFC 6979).
pub struct P256Signer {
    key: p256::ecdsa::SigningKey,
    spki: Vec<u8>,
}

impl P256Signer {
    /// The key in a PKCS#8 DER private key (the 0600 key file).
    ///
    /// # Errors
    /// [`SealError::BadKey`] when the bytes are not a P-256 PKCS#8 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SealError> {
        let key = p256::ecdsa::SigningKey::from_pkcs8_der(der)
            .map_err(|_| SealError::BadKey("P-256 PKCS#8 DER"))?;
        Self::from_signing_key(key)
    }

    /// The key from its 32-byte secret scalar (tests and vectors).
    ///
    /// # Errors
    /// [`SealError::BadKey`] when the scalar is zero or not below the order.
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<Self, SealError> {
        let key = p256::ecdsa::SigningKey::from_slice(secret)
            .map_err(|_| SealError::BadKey("P-256 secret scalar"))?;
        Self::from_signing_key(key)
    }

    /// Wraps a `p256` signing key.
    ///
    /// # Errors
    /// [`SealError::BadKey`] if the public key cannot be encoded (never for
    /// a valid key).
    pub fn from_signing_key(key: p256::ecdsa::SigningKey) -> Result<Self, SealError> {
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|_| SealError::BadKey("P-256 public key"))?
            .into_vec();
        Ok(P256Signer { key, spki })
    }
}

impl SealSigner for P256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Es256
    }
    fn spki_der(&self) -> &[u8] {
        &self.spki
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError> {
        let sig: p256::ecdsa::Signature = self.key.sign(message);
        Ok(sig.to_bytes().to_vec())
    }
}

/// A software EdDSA key (Ed25519), deterministic by construction.
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
    spki: Vec<u8>,
}

impl Ed25519Signer {
    /// The key in a PKCS#8 DER private key (the 0600 key file).
    ///
    /// # Errors
    /// [`SealError::BadKey`] when the bytes are not an Ed25519 PKCS#8 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SealError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map_err(|_| SealError::BadKey("Ed25519 PKCS#8 DER"))?;
        Self::from_signing_key(key)
    }

    /// The key from its 32-byte seed (tests and vectors).
    ///
    /// # Errors
    /// Never in practice; see [`Ed25519Signer::from_signing_key`].
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, SealError> {
        Self::from_signing_key(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// Wraps an `ed25519-dalek` signing key.
    ///
    /// # Errors
    /// [`SealError::BadKey`] if the public key cannot be encoded.
    pub fn from_signing_key(key: ed25519_dalek::SigningKey) -> Result<Self, SealError> {
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|_| SealError::BadKey("Ed25519 public key"))?
            .into_vec();
        Ok(Ed25519Signer { key, spki })
    }
}

impl SealSigner for Ed25519Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDsa
    }
    fn spki_der(&self) -> &[u8] {
        &self.spki
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SealError> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(message).to_bytes().to_vec())
    }
}

/// A public key that verifies seals, parsed from SubjectPublicKeyInfo DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: KeyKind,
    spki: Vec<u8>,
    kid: Kid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyKind {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// Parses a P-256 or Ed25519 SubjectPublicKeyInfo (DER).
    ///
    /// # Errors
    /// [`SealError::BadKey`] for any other key or malformed DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SealError> {
        let key = if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            KeyKind::P256(k)
        } else if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            KeyKind::Ed25519(k)
        } else {
            return Err(SealError::BadKey("SubjectPublicKeyInfo (P-256 or Ed25519)"));
        };
        Ok(PublicKey {
            key,
            spki: der.to_vec(),
            kid: kid_of(der),
        })
    }

    /// The public key of a signer.
    ///
    /// # Errors
    /// As [`PublicKey::from_spki_der`].
    pub fn of_signer(signer: &dyn SealSigner) -> Result<Self, SealError> {
        Self::from_spki_der(signer.spki_der())
    }

    /// The same key under another kid: only to test kid collisions.
    #[cfg(test)]
    pub(crate) fn with_kid(mut self, kid: Kid) -> Self {
        self.kid = kid;
        self
    }

    /// The algorithm this key verifies.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        match self.key {
            KeyKind::P256(_) => Algorithm::Es256,
            KeyKind::Ed25519(_) => Algorithm::EdDsa,
        }
    }

    /// The SubjectPublicKeyInfo DER.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key identifier.
    #[must_use]
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// Whether `signature` is a valid signature of `message` by this key
    /// with algorithm `alg` (a key never verifies for another algorithm).
    #[must_use]
    pub fn verifies(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (KeyKind::P256(k), Algorithm::Es256) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| k.verify(message, &sig).is_ok()),
            (KeyKind::Ed25519(k), Algorithm::EdDsa) => {
                <[u8; 64]>::try_from(signature).is_ok_and(|bytes| {
                    k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
                        .is_ok()
                })
            }
            _ => false,
        }
    }
}

/// A decoded COSE_Sign1 whose signature is not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign1 {
    /// The protected header exactly as signed (a serialized CBOR map).
    pub protected: Vec<u8>,
    /// The algorithm named in the protected header.
    pub alg: Algorithm,
    /// The key identifier of the protected header.
    pub kid: Kid,
    /// `typ` (label 16) of the protected header, when present.
    pub typ: Option<String>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// The `Sig_structure` of RFC 9052 §4.4 for a COSE_Sign1 with no external
/// AAD, encoded (the bytes that are signed).
#[must_use]
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    // Written directly rather than through `Value`: a fixed array of four
    // items whose heads are shortest-form, as the deterministic encoder
    // would write them (checked by a test).
    let mut out = Vec::with_capacity(16 + protected.len() + payload.len());
    out.push(0x84);
    out.push(0x6a);
    out.extend_from_slice(b"Signature1");
    bstr_head(&mut out, protected.len());
    out.extend_from_slice(protected);
    out.push(0x40);
    bstr_head(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

/// Writes the head of a byte string of length `len` (RFC 8949 §3, shortest
/// form).
fn bstr_head(out: &mut Vec<u8>, len: usize) {
    const MT: u8 = 2 << 5;
    if len < 24 {
        out.push(MT | len as u8);
    } else if let Ok(l) = u8::try_from(len) {
        out.extend_from_slice(&[MT | 24, l]);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(MT | 25);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(MT | 26);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(MT | 27);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// The protected header `{1: alg, 4: kid}` (and `16: typ` when given),
/// encoded.
///
/// # Errors
/// Never for these inputs.
pub fn protected_header(
    alg: Algorithm,
    kid: &Kid,
    typ: Option<&str>,
) -> Result<Vec<u8>, SealError> {
    let mut map = vec![
        (Value::int(HEADER_ALG), Value::int(alg.cose_id())),
        (Value::int(HEADER_KID), Value::bytes(kid.to_vec())),
    ];
    if let Some(typ) = typ {
        map.push((Value::int(HEADER_TYP), Value::text(typ)));
    }
    Ok(cbor::encode(&Value::Map(map))?)
}

/// Signs `payload` into a tagged COSE_Sign1 (tag 18) with `signer`.
///
/// # Errors
/// [`SealError::Signer`] when the signer fails.
pub fn sign1(
    signer: &dyn SealSigner,
    payload: &[u8],
    typ: Option<&str>,
) -> Result<Vec<u8>, SealError> {
    let alg = signer.algorithm();
    let protected = protected_header(alg, &signer.kid(), typ)?;
    let tbs = sig_structure(&protected, payload);
    let signature = signer.sign(&tbs)?;
    let message = Value::Tag(
        TAG_COSE_SIGN1,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::bytes(payload),
            Value::Bytes(signature),
        ])),
    );
    Ok(cbor::encode(&message)?)
}

/// Decodes a tagged COSE_Sign1 (deterministic CBOR, tag 18, a protected
/// header with a supported `alg` and an 8-byte `kid`, an empty unprotected
/// header, an attached payload). The signature is **not** checked: see
/// [`CoseSign1::verify`].
///
/// # Errors
/// [`SealError::Malformed`] for anything else.
pub fn decode_sign1(bytes: &[u8]) -> Result<CoseSign1, SealError> {
    let value = cbor::decode(bytes)?;
    let Value::Tag(TAG_COSE_SIGN1, inner) = value else {
        return Err(SealError::Malformed("not a COSE_Sign1 (tag 18)"));
    };
    let Value::Array(items) = *inner else {
        return Err(SealError::Malformed("COSE_Sign1 is not an array"));
    };
    let [
        Value::Bytes(protected),
        Value::Map(unprotected),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ] = <[Value; 4]>::try_from(items)
        .map_err(|_| SealError::Malformed("COSE_Sign1 does not have four items"))?
    else {
        return Err(SealError::Malformed(
            "COSE_Sign1 items have the wrong types",
        ));
    };
    if !unprotected.is_empty() {
        return Err(SealError::Malformed("unprotected header is not empty"));
    }
    let header = cbor::decode(&protected)?;
    let entries = header
        .as_map()
        .ok_or(SealError::Malformed("protected header is not a map"))?;
    let (mut alg, mut kid, mut typ) = (None, None, None);
    for (k, v) in entries {
        match k.as_i128() {
            Some(1) => {
                alg = Some(
                    v.as_i128()
                        .and_then(Algorithm::from_cose_id)
                        .ok_or(SealError::Malformed("unsupported alg"))?,
                );
            }
            Some(4) => {
                kid = Some(
                    v.as_bytes()
                        .and_then(|b| Kid::try_from(b).ok())
                        .ok_or(SealError::Malformed("kid is not 8 bytes"))?,
                );
            }
            Some(16) => {
                typ = Some(
                    v.as_text()
                        .ok_or(SealError::Malformed("typ is not text"))?
                        .to_owned(),
                );
            }
            _ => {
                return Err(SealError::Malformed(
                    "unexpected protected header parameter",
                ));
            }
        }
    }
    Ok(CoseSign1 {
        alg: alg.ok_or(SealError::Malformed("protected header has no alg"))?,
        kid: kid.ok_or(SealError::Malformed("protected header has no kid"))?,
        typ,
        protected,
        payload,
        signature,
    })
}

impl CoseSign1 {
    /// Whether `key` signed this message (its kid is not compared: a caller
    /// picks the candidates by kid).
    #[must_use]
    pub fn verify(&self, key: &PublicKey) -> bool {
        key.verifies(
            self.alg,
            &sig_structure(&self.protected, &self.payload),
            &self.signature,
        )
    }

    /// The first of `keys` whose kid is this message's and that verifies it
    /// (the DCC rule: every key with a colliding kid is tried).
    #[must_use]
    pub fn verify_any<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k PublicKey>,
    ) -> Option<&'k PublicKey> {
        keys.into_iter()
            .filter(|k| k.kid() == self.kid)
            .find(|k| self.verify(k))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ed() -> Ed25519Signer {
        Ed25519Signer::from_seed(&[7u8; 32]).unwrap()
    }
    fn es() -> P256Signer {
        P256Signer::from_secret_bytes(&[9u8; 32]).unwrap()
    }

    #[test]
    fn sig_structure_is_the_deterministic_encoding() {
        for n in [0usize, 23, 24, 255, 256, 70_000] {
            let payload = vec![0xabu8; n];
            let protected = vec![0xa2u8; 13];
            let via_value = cbor::encode(&Value::Array(vec![
                Value::text("Signature1"),
                Value::Bytes(protected.clone()),
                Value::Bytes(Vec::new()),
                Value::Bytes(payload.clone()),
            ]))
            .unwrap();
            assert_eq!(sig_structure(&protected, &payload), via_value);
        }
    }

    #[test]
    fn sign_and_verify_both_algorithms() {
        let signers: [&dyn SealSigner; 2] = [&ed(), &es()];
        for signer in signers {
            let cose = sign1(signer, b"payload", None).unwrap();
            assert_eq!(cose[0], 0xd2, "tag 18");
            let msg = decode_sign1(&cose).unwrap();
            assert_eq!(msg.alg, signer.algorithm());
            assert_eq!(msg.kid, signer.kid());
            assert_eq!(msg.signature.len(), 64);
            assert_eq!(msg.payload, b"payload");
            let key = PublicKey::of_signer(signer).unwrap();
            assert_eq!(key.algorithm(), signer.algorithm());
            assert!(msg.verify(&key));
            // Protected header {1: alg, 4: kid}: a2 01 26|27 04 48 <kid>.
            let mut expected = vec![
                0xa2,
                0x01,
                if signer.algorithm() == Algorithm::Es256 {
                    0x26
                } else {
                    0x27
                },
                0x04,
                0x48,
            ];
            expected.extend_from_slice(&signer.kid());
            assert_eq!(msg.protected, expected);
            // Flipping any byte of the message breaks it: either it no longer
            // decodes or the signature fails.
            for i in 0..cose.len() {
                let mut bad = cose.clone();
                bad[i] ^= 0x01;
                let ok = decode_sign1(&bad).is_ok_and(|m| m.verify(&key));
                assert!(!ok, "flipped byte {i} still verifies");
            }
        }
    }

    #[test]
    fn a_key_of_the_other_algorithm_or_another_key_fails() {
        let cose = sign1(&ed(), b"x", None).unwrap();
        let msg = decode_sign1(&cose).unwrap();
        assert!(!msg.verify(&PublicKey::of_signer(&es()).unwrap()));
        let other = Ed25519Signer::from_seed(&[8u8; 32]).unwrap();
        assert!(!msg.verify(&PublicKey::of_signer(&other).unwrap()));
        // verify_any tries every key with the kid, and only those.
        let right = PublicKey::of_signer(&ed()).unwrap();
        let wrong = PublicKey::of_signer(&other).unwrap();
        assert_eq!(msg.verify_any([&wrong, &right]), Some(&right));
        assert_eq!(msg.verify_any([&wrong]), None);
    }

    #[test]
    fn pkcs8_keys_load() {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let der = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
            .to_pkcs8_der()
            .unwrap();
        let s = Ed25519Signer::from_pkcs8_der(der.as_bytes()).unwrap();
        assert_eq!(s.spki_der(), ed().spki_der());
        let der = p256::ecdsa::SigningKey::from_slice(&[9u8; 32])
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        let s = P256Signer::from_pkcs8_der(der.as_bytes()).unwrap();
        assert_eq!(s.spki_der(), es().spki_der());
        assert!(P256Signer::from_pkcs8_der(b"junk").is_err());
        assert!(Ed25519Signer::from_pkcs8_der(der.as_bytes()).is_err());
        assert!(PublicKey::from_spki_der(b"junk").is_err());
        // kid = SHA-256(SPKI)[..8]
        assert_eq!(es().kid(), Sha256::digest(es().spki_der())[..8]);
    }

    #[test]
    fn es256_is_deterministic() {
        let a = sign1(&es(), b"same", None).unwrap();
        let b = sign1(&es(), b"same", None).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_messages_are_refused() {
        // Untagged array.
        let untagged = cbor::encode(&Value::Array(vec![])).unwrap();
        assert!(decode_sign1(&untagged).is_err());
        // Unsupported alg (-35, ES384).
        let prot = cbor::encode(&Value::Map(vec![
            (Value::int(1), Value::int(-35)),
            (Value::int(4), Value::bytes(vec![0u8; 8])),
        ]))
        .unwrap();
        let msg = cbor::encode(&Value::Tag(
            18,
            Box::new(Value::Array(vec![
                Value::Bytes(prot),
                Value::Map(vec![]),
                Value::bytes(b"p".to_vec()),
                Value::bytes(vec![0u8; 64]),
            ])),
        ))
        .unwrap();
        assert!(matches!(decode_sign1(&msg), Err(SealError::Malformed(_))));
    }
}
