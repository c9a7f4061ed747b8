//! The PZ1 seal of Palazzo (issue 5, DECISIONS 14–18): the signed 2D code
//! printed on certificates, and the lists that let anyone verify it offline.
//!
//! Pure code, no IO: the services layer keeps keys, records and lists, and
//! calls this crate to build and to check bytes. The format is specified
//! byte by byte, with test vectors, in `docs/seal-format.md`.
//!
//! * [`base45`]: RFC 9285.
//! * [`cose`]: COSE_Sign1 (tag 18) with `{1: alg, 4: kid}`, the
//!   [`cose::SealSigner`] trait with software ES256 and EdDSA keys from
//!   PKCS#8, [`cose::PublicKey`] from SPKI DER.
//! * [`claims`]: the CWT claims, [`claims::seal`] (with the switch to the
//!   hash-only variant above 700 characters), the PZ1 text.
//! * [`qr`]: the QR code (alphanumeric, ECC Q, version ≤ 20), its modules
//!   and dark runs for vector drawing.
//! * [`trust`]: the signed trust list; [`status`]: the signed status list.
//! * [`verify`]: [`verify::verify_text`] and the [`verify::Verdict`]s.
//!
//! Sealing a certificate and checking it:
//!
//! ```
//! use palazzo_domain::cbor::Value;
//! use palazzo_seal::claims::{self, Pair, SealClaims, StatusRef, Variant};
//! use palazzo_seal::cose::{Ed25519Signer, PublicKey, SealSigner};
//! use palazzo_seal::status::{StatusList, StatusListToken};
//! use palazzo_seal::trust::{TrustEntry, TrustList};
//! use palazzo_seal::verify::{verify_text, Verdict};
//! use palazzo_seal::qr;
//!
//! # fn main() -> Result<(), palazzo_seal::SealError> {
//! // The services load the key from its 0600 PKCS#8 file
//! // (`Ed25519Signer::from_pkcs8_der`, `P256Signer::from_pkcs8_der`).
//! let key = Ed25519Signer::from_seed(&[7; 32])?;
//! let record = Value::Map(vec![(Value::text("cognome"), Value::text("ROSSI"))]);
//! let uri = "https://comune.example/.well-known/palazzo/status-list/1";
//! let certificate = SealClaims {
//!     issuer: "IT-B923".into(),
//!     issued_at: 1_798_761_600,
//!     expires_at: Some(1_814_400_000),
//!     cti: [1; 16],
//!     doc_type: "residenza".into(),
//!     pairs: vec![Pair::new("Cognome", "ROSSI"), Pair::new("Nome", "MARIO")],
//!     record_hash: claims::record_hash(&record)?,
//!     status: Some(StatusRef { idx: 3, uri: uri.into() }),
//!     variant: Variant::Full,
//! };
//! let sealed = claims::seal(&certificate, 2, &key)?; // 2 identity pairs
//! let matrix = qr::encode(&sealed.text)?; // draw `matrix.dark_runs()`
//! assert!(matrix.version() <= qr::MAX_VERSION);
//!
//! // The trust list and status list, as published.
//! let list_key = Ed25519Signer::from_seed(&[8; 32])?;
//! let trust = TrustList {
//!     issuer: "IT-B923".into(),
//!     issued_at: 1_798_000_000,
//!     entries: vec![TrustEntry {
//!         key: PublicKey::of_signer(&key)?,
//!         not_before: 1_798_000_000,
//!         not_after: None,
//!         doc_types: vec!["residenza".into()],
//!     }],
//! }
//! .sign(&list_key)?;
//! let mut statuses = StatusList::new(1024)?;
//! statuses.revoke(3)?;
//! let status = StatusListToken {
//!     issuer: "IT-B923".into(),
//!     uri: uri.into(),
//!     issued_at: 1_799_000_000,
//!     expires_at: None,
//!     ttl: Some(3600),
//!     list: statuses,
//! }
//! .sign(&key)?;
//!
//! // A verifier: lists first, then the text read from the QR code.
//! let trust = TrustList::verify(&trust, &PublicKey::of_signer(&list_key)?)?;
//! let keys: Vec<PublicKey> = trust.entries.iter().map(|e| e.key.clone()).collect();
//! let status = StatusListToken::verify(&status, &keys)?;
//! let now = 1_799_000_000;
//! assert_eq!(verify_text(&sealed.text, &trust, None, now).verdict, Verdict::Valid);
//! let v = verify_text(&sealed.text, &trust, Some(&status), now);
//! assert_eq!(v.verdict.code(), "revoked");
//! assert_eq!(v.claims.map(|c| c.pairs[0].value.clone()).as_deref(), Some("ROSSI"));
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod base45;
pub mod claims;
pub mod cose;
pub mod qr;
pub mod status;
pub mod trust;
pub mod verify;

use palazzo_domain::Coded;
use palazzo_domain::cbor::CborError;
use thiserror::Error;

/// Why a seal, a trust list or a status list could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SealError {
    /// A key could not be loaded or parsed (what was expected).
    #[error("bad key: expected {0}")]
    BadKey(&'static str),
    /// The signer failed (HSM or remote backend).
    #[error("signer failed: {0}")]
    Signer(String),
    /// Bytes that are not deterministic CBOR.
    #[error("CBOR: {0}")]
    Cbor(#[from] CborError),
    /// Base45 text that does not decode.
    #[error("Base45: {0}")]
    Base45(#[from] base45::Base45Error),
    /// A structure that is not what the format says (which part).
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// A signed list whose signature does not verify with the given key.
    #[error("the signature does not verify")]
    BadSignature,
    /// Input the builder refuses (which part).
    #[error("invalid input: {0}")]
    Invalid(&'static str),
}

impl Coded for SealError {
    fn code(&self) -> &'static str {
        match self {
            SealError::BadKey(_) => "seal_bad_key",
            SealError::Signer(_) => "seal_signer_failed",
            SealError::Cbor(e) => e.code(),
            SealError::Base45(_) => "seal_base45_invalid",
            SealError::Malformed(_) => "seal_malformed",
            SealError::BadSignature => "seal_bad_signature",
            SealError::Invalid(_) => "seal_invalid_input",
        }
    }

    fn message_it(&self) -> String {
        match self {
            SealError::BadKey(what) => format!("Chiave non valida: atteso {what}"),
            SealError::Signer(e) => format!("La firma del sigillo non è riuscita: {e}"),
            SealError::Cbor(e) => e.message_it(),
            SealError::Base45(_) => "Il testo del codice non è Base45 valido".to_owned(),
            SealError::Malformed(what) => format!("Il sigillo non è nel formato PZ1 ({what})"),
            SealError::BadSignature => "La firma non corrisponde alla chiave attesa".to_owned(),
            SealError::Invalid(what) => format!("Dati non validi per il sigillo ({what})"),
        }
    }
}
