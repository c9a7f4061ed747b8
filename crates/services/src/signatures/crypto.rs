//! Digests and signature algorithms accepted on received signatures:
//! SHA-256/384/512 (SHA-1 only to compare the `ESSCertID` of an old
//! `signingCertificate`), RSA PKCS#1 v1.5 and ECDSA on P-256.

use p256::pkcs8::DecodePublicKey as _;
use sha2::Digest as _;

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

const OID_SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];

const PKCS1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
const ECDSA_WITH: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];
/// 1.2.840.10045.2.1 id-ecPublicKey (some signers name the key, not the
/// signature algorithm, in `SignerInfo.signatureAlgorithm`).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

impl Hash {
    /// From a digest algorithm OID (content octets).
    pub fn from_oid(oid: &[u8]) -> Option<Hash> {
        match oid {
            OID_SHA1 => Some(Hash::Sha1),
            OID_SHA256 => Some(Hash::Sha256),
            OID_SHA384 => Some(Hash::Sha384),
            OID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// The kind of key a signature is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    Ecdsa,
}

/// A signature algorithm: key kind and digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignatureAlgorithm {
    pub kind: KeyKind,
    pub hash: Hash,
}

impl SignatureAlgorithm {
    /// From a signature algorithm OID; `digest` is the CMS
    /// `digestAlgorithm`, used when the OID names only the key
    /// (`rsaEncryption`, `id-ecPublicKey`). SHA-1 signatures and RSASSA-PSS
    /// are refused. `Err` is an Italian detail.
    pub fn from_oid(oid: &[u8], digest: Option<Hash>) -> Result<SignatureAlgorithm, String> {
        let unsupported = || "algoritmo di firma non supportato o non più ammesso".to_owned();
        let (kind, hash) = if let Some(n) = oid.strip_prefix(PKCS1) {
            match n {
                [0x01] => (KeyKind::Rsa, digest.ok_or_else(unsupported)?),
                [0x0b] => (KeyKind::Rsa, Hash::Sha256),
                [0x0c] => (KeyKind::Rsa, Hash::Sha384),
                [0x0d] => (KeyKind::Rsa, Hash::Sha512),
                _ => return Err(unsupported()),
            }
        } else if let Some(n) = oid.strip_prefix(ECDSA_WITH) {
            match n {
                [0x02] => (KeyKind::Ecdsa, Hash::Sha256),
                [0x03] => (KeyKind::Ecdsa, Hash::Sha384),
                [0x04] => (KeyKind::Ecdsa, Hash::Sha512),
                _ => return Err(unsupported()),
            }
        } else if oid == OID_EC_PUBLIC_KEY {
            (KeyKind::Ecdsa, digest.ok_or_else(unsupported)?)
        } else {
            return Err(unsupported());
        };
        if hash == Hash::Sha1 {
            return Err("la firma usa SHA-1, non più ammesso".into());
        }
        Ok(SignatureAlgorithm { kind, hash })
    }
}

/// Verifies `signature` over `msg` with the public key `spki` (DER
/// `SubjectPublicKeyInfo`). ECDSA signatures are DER (`Ecdsa-Sig-Value`).
pub(crate) fn verify(
    spki: &[u8],
    alg: SignatureAlgorithm,
    msg: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let bad = || "il valore della firma non corrisponde".to_owned();
    match alg.kind {
        KeyKind::Rsa => {
            use rsa::signature::Verifier as _;
            let key = rsa::RsaPublicKey::from_public_key_der(spki)
                .map_err(|_| "la chiave del certificato non è RSA".to_owned())?;
            let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| bad())?;
            let verified = match alg.hash {
                Hash::Sha256 => {
                    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key).verify(msg, &sig)
                }
                Hash::Sha384 => {
                    rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key).verify(msg, &sig)
                }
                Hash::Sha512 => {
                    rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key).verify(msg, &sig)
                }
                Hash::Sha1 => return Err(bad()),
            };
            verified.map_err(|_| bad())
        }
        KeyKind::Ecdsa => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(|_| {
                "la chiave del certificato non è una chiave EC P-256 (curva non supportata)"
                    .to_owned()
            })?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .map_err(|_| bad())?;
            key.verify_prehash(&alg.hash.digest(msg), &sig)
                .map_err(|_| bad())
        }
    }
}
