//! The PZ1 seal of Palazzo (issue 5, DECISIONS 15–18): the signed 2D code
//! printed on certificates, and the lists that let anyone verify it offline.
//!
//! Pure code, no IO: the services layer keeps keys, records and lists, and
//! calls this crate to build and to check bytes. The format is specified
//! byte by byte, with test vectors, in `docs/seal-format.md`.

pub mod base45;
pub mod claims;
pub mod cose;
pub mod qr;
pub mod status;
pub mod trust;
pub mod verify;

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
