//! The CWT claims of a PZ1 seal (RFC 8392; DECISIONS 16–17) and the PZ1
//! text (DECISIONS 15).
//!
//! Payload (a CBOR map, deterministic encoding, integer keys):
//! * `1` iss: text `IT-<codice catastale>` (e.g. `IT-B923`);
//! * `4` exp: NumericDate, absent for facts that cannot change (DECISIONS 17);
//! * `6` iat: NumericDate (the sealing time);
//! * `7` cti: 16 bytes, the certificate id;
//! * `-65537` the Palazzo claim, a map
//!   `{1: 1 (version), 2: document type code, 3: [[label, value], …] as
//!   printed, 4: SHA-256 of the canonical record (32 bytes)}`, plus
//!   `5: 1` in the **hash-only variant** (see [`Variant::HashOnly`]);
//! * `65535` status (IETF Token Status List, CWT form):
//!   `{"status_list": {"idx": n, "uri": text}}`, when the certificate can be
//!   revoked.
//!
//! The PZ1 text is `PZ1:` + Base45(the tagged COSE_Sign1), no compression.

use palazzo_domain::cbor::{self, Value};
use sha2::{Digest as _, Sha256};

use crate::cose::{self, SealSigner};
use crate::{SealError, base45};

/// The prefix of every PZ1 text.
pub const PREFIX: &str = "PZ1:";
/// The longest PZ1 text of a full seal (DECISIONS 16): about what a version
/// 20 QR code holds at ECC level Q in alphanumeric mode. Longer, and
/// [`seal`] switches to the hash-only variant.
pub const MAX_TEXT_CHARS: usize = 700;
/// Version of the Palazzo claim (key 1 of claim −65537).
pub const CLAIM_VERSION: u64 = 1;

/// CWT claim key `iss` (RFC 8392 §3.1.1).
pub const CLAIM_ISS: i64 = 1;
/// CWT claim key `exp`.
pub const CLAIM_EXP: i64 = 4;
/// CWT claim key `iat`.
pub const CLAIM_IAT: i64 = 6;
/// CWT claim key `cti`.
pub const CLAIM_CTI: i64 = 7;
/// The Palazzo private claim (RFC 8392 §9.1 private-use range).
pub const CLAIM_PALAZZO: i64 = -65537;
/// The `status` claim of the IETF Token Status List (draft-ietf-oauth-status-list,
/// "Referenced Token in CWT Format").
pub const CLAIM_STATUS: i64 = 65535;

/// The upper bound on an inflated payload (a compressed PZ1 text): a QR
/// holds less than 3 kB, so anything near this is hostile.
const MAX_INFLATED: usize = 64 * 1024;

/// Which fields of the certificate the code carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Every printed pair.
    Full,
    /// Only the first pairs (the holder's identity, as many as the caller
    /// says) and the record hash: used when the full text would exceed
    /// [`MAX_TEXT_CHARS`]. Marked by `5: 1` in the Palazzo claim; the
    /// other printed fields are verified through the record hash against the
    /// digital original (circolare AgID 62/2013 scenario 6.1).
    HashOnly,
}

/// The status-list reference of a revocable certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusRef {
    /// The index of its bit in the list.
    pub idx: u64,
    /// The URI of the status list token.
    pub uri: String,
}

/// A printed field: label and value exactly as on the paper.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    /// The label, e.g. `Cognome`.
    pub label: String,
    /// The value, e.g. `ROSSI`.
    pub value: String,
}

impl Pair {
    /// A pair.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Pair {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// The claims of a seal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SealClaims {
    /// `iss`: `IT-` and the comune's codice catastale.
    pub issuer: String,
    /// `iat`, seconds since the Unix epoch.
    pub issued_at: u64,
    /// `exp`, seconds since the Unix epoch; `None` for facts that cannot
    /// change (DECISIONS 17).
    pub expires_at: Option<u64>,
    /// `cti`: the certificate id.
    pub cti: [u8; 16],
    /// The document type code (e.g. `residenza`).
    pub doc_type: String,
    /// The printed pairs (all of them, or the identity ones in the
    /// hash-only variant).
    pub pairs: Vec<Pair>,
    /// SHA-256 of the canonical record (deterministic CBOR).
    pub record_hash: [u8; 32],
    /// The status-list reference, when the certificate can be revoked.
    pub status: Option<StatusRef>,
    /// Full or hash-only.
    pub variant: Variant,
}

/// The SHA-256 of a canonical record: its deterministic CBOR encoding.
///
/// # Errors
/// [`SealError::Cbor`] when the record has a map with a duplicate key.
pub fn record_hash(record: &Value) -> Result<[u8; 32], SealError> {
    Ok(Sha256::digest(cbor::encode(record)?).into())
}

/// Whether `issuer` is `IT-` and a codice catastale (a letter and three
/// digits).
#[must_use]
pub fn valid_issuer(issuer: &str) -> bool {
    matches!(issuer.as_bytes(), [b'I', b'T', b'-', l, d @ ..]
        if l.is_ascii_uppercase() && d.len() == 3 && d.iter().all(u8::is_ascii_digit))
}

fn text_pair(p: &Pair) -> Value {
    Value::Array(vec![
        Value::text(p.label.as_str()),
        Value::text(p.value.as_str()),
    ])
}

impl SealClaims {
    /// The CWT claims map, encoded (the COSE payload).
    ///
    /// # Errors
    /// [`SealError::Invalid`] for an issuer that is not `IT-` + codice
    /// catastale, an `exp` not after `iat`, or an empty document type.
    pub fn to_cbor(&self) -> Result<Vec<u8>, SealError> {
        if !valid_issuer(&self.issuer) {
            return Err(SealError::Invalid("iss must be IT- and a codice catastale"));
        }
        if self.expires_at.is_some_and(|exp| exp <= self.issued_at) {
            return Err(SealError::Invalid("exp must be after iat"));
        }
        if self.doc_type.is_empty() {
            return Err(SealError::Invalid("empty document type"));
        }
        let mut palazzo = vec![
            (Value::int(1), Value::Unsigned(CLAIM_VERSION)),
            (Value::int(2), Value::text(self.doc_type.as_str())),
            (
                Value::int(3),
                Value::Array(self.pairs.iter().map(text_pair).collect()),
            ),
            (Value::int(4), Value::bytes(self.record_hash.to_vec())),
        ];
        if self.variant == Variant::HashOnly {
            palazzo.push((Value::int(5), Value::Unsigned(1)));
        }
        let mut claims = vec![
            (Value::int(CLAIM_ISS), Value::text(self.issuer.as_str())),
            (Value::int(CLAIM_IAT), Value::Unsigned(self.issued_at)),
            (Value::int(CLAIM_CTI), Value::bytes(self.cti.to_vec())),
            (Value::int(CLAIM_PALAZZO), Value::Map(palazzo)),
        ];
        if let Some(exp) = self.expires_at {
            claims.push((Value::int(CLAIM_EXP), Value::Unsigned(exp)));
        }
        if let Some(status) = &self.status {
            claims.push((
                Value::int(CLAIM_STATUS),
                Value::Map(vec![(
                    Value::text("status_list"),
                    Value::Map(vec![
                        (Value::text("idx"), Value::Unsigned(status.idx)),
                        (Value::text("uri"), Value::text(status.uri.as_str())),
                    ]),
                )]),
            ));
        }
        Ok(cbor::encode(&Value::Map(claims))?)
    }

    /// Parses a claims map (strict: deterministic CBOR, exactly the keys
    /// above, each with its type).
    ///
    /// # Errors
    /// [`SealError::Malformed`] or [`SealError::Cbor`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, SealError> {
        let value = cbor::decode(bytes)?;
        let entries = value
            .as_map()
            .ok_or(SealError::Malformed("claims are not a map"))?;
        let (mut iss, mut iat, mut exp, mut cti, mut palazzo, mut status) =
            (None, None, None, None, None, None);
        for (k, v) in entries {
            let key = k
                .as_i128()
                .ok_or(SealError::Malformed("claim key is not an integer"))?;
            match key {
                1 => iss = Some(v.as_text().ok_or(SealError::Malformed("iss is not text"))?),
                4 => {
                    exp = Some(
                        v.as_u64()
                            .ok_or(SealError::Malformed("exp is not an unsigned integer"))?,
                    )
                }
                6 => {
                    iat = Some(
                        v.as_u64()
                            .ok_or(SealError::Malformed("iat is not an unsigned integer"))?,
                    )
                }
                7 => {
                    cti = Some(
                        v.as_bytes()
                            .and_then(|b| <[u8; 16]>::try_from(b).ok())
                            .ok_or(SealError::Malformed("cti is not 16 bytes"))?,
                    );
                }
                -65537 => palazzo = Some(v),
                65535 => status = Some(parse_status(v)?),
                _ => return Err(SealError::Malformed("unknown claim")),
            }
        }
        let palazzo = palazzo.ok_or(SealError::Malformed("no Palazzo claim (-65537)"))?;
        let p = palazzo
            .as_map()
            .ok_or(SealError::Malformed("Palazzo claim is not a map"))?;
        let (mut version, mut doc_type, mut pairs, mut hash, mut variant) =
            (None, None, None, None, Variant::Full);
        for (k, v) in p {
            match k.as_i128() {
                Some(1) => version = v.as_u64(),
                Some(2) => doc_type = v.as_text(),
                Some(3) => pairs = Some(parse_pairs(v)?),
                Some(4) => hash = v.as_bytes().and_then(|b| <[u8; 32]>::try_from(b).ok()),
                Some(5) if v.as_u64() == Some(1) => variant = Variant::HashOnly,
                _ => return Err(SealError::Malformed("unknown entry in the Palazzo claim")),
            }
        }
        if version != Some(CLAIM_VERSION) {
            return Err(SealError::Malformed("unsupported Palazzo claim version"));
        }
        let issuer = iss.ok_or(SealError::Malformed("no iss"))?;
        if !valid_issuer(issuer) {
            return Err(SealError::Malformed(
                "iss is not IT- and a codice catastale",
            ));
        }
        Ok(SealClaims {
            issuer: issuer.to_owned(),
            issued_at: iat.ok_or(SealError::Malformed("no iat"))?,
            expires_at: exp,
            cti: cti.ok_or(SealError::Malformed("no cti"))?,
            doc_type: doc_type
                .filter(|t| !t.is_empty())
                .ok_or(SealError::Malformed("no document type"))?
                .to_owned(),
            pairs: pairs.ok_or(SealError::Malformed("no printed pairs"))?,
            record_hash: hash.ok_or(SealError::Malformed("no 32-byte record hash"))?,
            status,
            variant,
        })
    }
}

fn parse_pairs(v: &Value) -> Result<Vec<Pair>, SealError> {
    let bad = SealError::Malformed("printed pairs are not [text, text] arrays");
    let items = v.as_array().ok_or(bad.clone())?;
    items
        .iter()
        .map(|item| match item.as_array() {
            Some([Value::Text(l), Value::Text(v)]) => Ok(Pair::new(l.as_str(), v.as_str())),
            _ => Err(bad.clone()),
        })
        .collect()
}

fn parse_status(v: &Value) -> Result<StatusRef, SealError> {
    let bad = SealError::Malformed("status claim is not {status_list: {idx, uri}}");
    let list = match v.as_map() {
        Some([(Value::Text(k), list)]) if k == "status_list" => list,
        _ => return Err(bad),
    };
    match list.as_map() {
        Some(
            [
                (Value::Text(ki), Value::Unsigned(idx)),
                (Value::Text(ku), Value::Text(uri)),
            ],
        ) if ki == "idx" && ku == "uri" => Ok(StatusRef {
            idx: *idx,
            uri: uri.clone(),
        }),
        _ => Err(bad),
    }
}

/// A sealed certificate: the COSE bytes, the PZ1 text and the claims that
/// went into them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The tagged COSE_Sign1.
    pub cose: Vec<u8>,
    /// `PZ1:` + Base45 of [`Sealed::cose`]: the QR content.
    pub text: String,
    /// The claims as sealed (the variant says which pairs went in).
    pub claims: SealClaims,
}

/// Seals a certificate: the full variant when its text fits
/// [`MAX_TEXT_CHARS`], otherwise the hash-only variant keeping the first
/// `identity_pairs` pairs (the holder's identity), otherwise the hash-only
/// variant with no pairs.
///
/// `claims.variant` is ignored (set by this function).
///
/// # Errors
/// [`SealError::Invalid`] for bad claims or when even the hash-only variant
/// with no pairs does not fit (a very long status URI); signer errors.
pub fn seal(
    claims: &SealClaims,
    identity_pairs: usize,
    signer: &dyn SealSigner,
) -> Result<Sealed, SealError> {
    let mut claims = claims.clone();
    claims.variant = Variant::Full;
    let full = seal_exactly(&claims, signer)?;
    if full.text.len() <= MAX_TEXT_CHARS {
        return Ok(full);
    }
    claims.variant = Variant::HashOnly;
    claims.pairs.truncate(identity_pairs);
    let reduced = seal_exactly(&claims, signer)?;
    if reduced.text.len() <= MAX_TEXT_CHARS {
        return Ok(reduced);
    }
    claims.pairs.clear();
    let bare = seal_exactly(&claims, signer)?;
    if bare.text.len() <= MAX_TEXT_CHARS {
        return Ok(bare);
    }
    Err(SealError::Invalid(
        "the seal does not fit a version-20 QR code",
    ))
}

/// Seals exactly these claims (no size limit, no variant switch).
///
/// # Errors
/// As [`seal`].
pub fn seal_exactly(claims: &SealClaims, signer: &dyn SealSigner) -> Result<Sealed, SealError> {
    let payload = claims.to_cbor()?;
    let cose = cose::sign1(signer, &payload, None)?;
    Ok(Sealed {
        text: to_text(&cose),
        cose,
        claims: claims.clone(),
    })
}

/// The PZ1 text of COSE bytes.
#[must_use]
pub fn to_text(cose: &[u8]) -> String {
    let mut text = String::with_capacity(PREFIX.len() + base45::encoded_len(cose.len()));
    text.push_str(PREFIX);
    base45::encode_into(cose, &mut text);
    text
}

/// The COSE bytes of a PZ1 text: the prefix is removed, the rest
/// Base45-decoded and, only when it starts with a zlib header byte `0x78`
/// (domain doc §5.1), inflated (at most 64 KiB).
///
/// # Errors
/// [`SealError::Malformed`] without the prefix or with a bad zlib stream;
/// [`SealError::Base45`].
pub fn from_text(text: &str) -> Result<Vec<u8>, SealError> {
    let body = text
        .strip_prefix(PREFIX)
        .ok_or(SealError::Malformed("the text does not start with PZ1:"))?;
    let bytes = base45::decode(body)?;
    if bytes.first() == Some(&0x78) {
        return miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&bytes, MAX_INFLATED)
            .map_err(|_| SealError::Malformed("bad zlib stream"));
    }
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::cose::{Ed25519Signer, PublicKey, decode_sign1};

    pub(crate) fn sample() -> SealClaims {
        SealClaims {
            issuer: "IT-B923".into(),
            issued_at: 1_790_000_000,
            expires_at: Some(1_805_000_000),
            cti: [0x11; 16],
            doc_type: "residenza".into(),
            pairs: vec![
                Pair::new("Cognome", "ROSSI"),
                Pair::new("Nome", "MARIO"),
                Pair::new("Codice fiscale", "RSSMRA80A01B923X"),
                Pair::new("Indirizzo", "VIA ROMA 1"),
            ],
            record_hash: [0x22; 32],
            status: Some(StatusRef {
                idx: 42,
                uri: "https://comune.casamassima.ba.it/.well-known/palazzo/status-list/1".into(),
            }),
            variant: Variant::Full,
        }
    }

    #[test]
    fn claims_round_trip() {
        let c = sample();
        let bytes = c.to_cbor().unwrap();
        assert_eq!(SealClaims::from_cbor(&bytes).unwrap(), c);
        let mut no_exp = c.clone();
        no_exp.expires_at = None;
        no_exp.status = None;
        let bytes = no_exp.to_cbor().unwrap();
        assert_eq!(SealClaims::from_cbor(&bytes).unwrap(), no_exp);
        // iss, iat, cti first (keys 1, 6, 7 sort before -65537 = 0x3a…).
        assert_eq!(&bytes[..2], &[0xa4, 0x01]);
    }

    #[test]
    fn bad_claims_are_refused() {
        let mut c = sample();
        c.issuer = "IT-b923".into();
        assert!(c.to_cbor().is_err());
        let mut c = sample();
        c.expires_at = Some(c.issued_at);
        assert!(c.to_cbor().is_err());
        assert!(valid_issuer("IT-B923") && !valid_issuer("IT-B92") && !valid_issuer("FR-B923"));
        // An unknown claim is refused.
        let extra = cbor::encode(&Value::Map(vec![(Value::int(99), Value::Null)])).unwrap();
        assert!(SealClaims::from_cbor(&extra).is_err());
    }

    #[test]
    fn seal_is_pz1_base45_of_cose() {
        let signer = Ed25519Signer::from_seed(&[1; 32]).unwrap();
        let sealed = seal(&sample(), 3, &signer).unwrap();
        assert!(sealed.text.starts_with("PZ1:"));
        assert_eq!(sealed.claims.variant, Variant::Full);
        let cose = from_text(&sealed.text).unwrap();
        assert_eq!(cose, sealed.cose);
        let msg = decode_sign1(&cose).unwrap();
        assert!(msg.verify(&PublicKey::of_signer(&signer).unwrap()));
        assert_eq!(SealClaims::from_cbor(&msg.payload).unwrap(), sample());
        // A zlib-compressed payload is accepted (0x78 header), plain is not inflated.
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&cose, 9);
        assert_eq!(z[0], 0x78);
        assert_eq!(
            from_text(&format!("PZ1:{}", base45::encode(&z))).unwrap(),
            cose
        );
        assert!(from_text(&format!("PZ1:{}", base45::encode(&[0x78, 1, 2]))).is_err());
        assert!(from_text(&sealed.text[4..]).is_err());
        assert!(from_text(&sealed.text.to_lowercase()).is_err());
    }

    #[test]
    fn long_certificates_switch_to_hash_only() {
        let signer = Ed25519Signer::from_seed(&[1; 32]).unwrap();
        let mut c = sample();
        for i in 0..20 {
            c.pairs.push(Pair::new(
                format!("Componente {i}"),
                "BIANCHI GIUSEPPINA MARIA",
            ));
        }
        let sealed = seal(&c, 3, &signer).unwrap();
        assert_eq!(sealed.claims.variant, Variant::HashOnly);
        assert_eq!(sealed.claims.pairs, sample().pairs[..3]);
        assert!(sealed.text.len() <= MAX_TEXT_CHARS);
        let msg = decode_sign1(&from_text(&sealed.text).unwrap()).unwrap();
        let back = SealClaims::from_cbor(&msg.payload).unwrap();
        assert_eq!(back, sealed.claims);
        assert_eq!(back.record_hash, c.record_hash);
        // Identity pairs that are themselves too long: no pairs at all.
        let mut huge = c.clone();
        huge.pairs[0].value = "X".repeat(600);
        let sealed = seal(&huge, 3, &signer).unwrap();
        assert_eq!(sealed.claims.variant, Variant::HashOnly);
        assert!(sealed.claims.pairs.is_empty());
        // A status URI so long that nothing fits.
        let mut uri = c.clone();
        uri.status = Some(StatusRef {
            idx: 0,
            uri: "u".repeat(600),
        });
        assert!(seal(&uri, 3, &signer).is_err());
    }

    #[test]
    fn record_hash_is_sha256_of_deterministic_cbor() {
        let a = Value::Map(vec![
            (Value::text("b"), Value::int(1)),
            (Value::text("a"), Value::int(2)),
        ]);
        let b = Value::Map(vec![
            (Value::text("a"), Value::int(2)),
            (Value::text("b"), Value::int(1)),
        ]);
        assert_eq!(record_hash(&a).unwrap(), record_hash(&b).unwrap());
        let expected: [u8; 32] = Sha256::digest([0xa2, 0x61, b'a', 0x02, 0x61, b'b', 0x01]).into();
        assert_eq!(record_hash(&a).unwrap(), expected);
    }
}
