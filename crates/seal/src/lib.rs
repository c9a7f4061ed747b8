//! The PZ1 seal of Palazzo (issue 5, DECISIONS 15–18): the signed 2D code
//! printed on certificates, and the lists that let anyone verify it offline.
//!
//! Pure code, no IO: the services layer keeps keys, records and lists, and
//! calls this crate to build and to check bytes. The format is specified
//! byte by byte, with test vectors, in `docs/seal-format.md`.

pub mod base45;
