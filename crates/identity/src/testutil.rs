//! Keys shared by the unit tests, generated once per test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use crate::jose::RsaKeyPair;

/// The `i`-th test RSA key (2048 bits), generated once per test binary.
pub fn rsa(i: usize) -> &'static RsaKeyPair {
    static KEYS: [OnceLock<RsaKeyPair>; 8] = [const { OnceLock::new() }; 8];
    KEYS[i].get_or_init(|| RsaKeyPair::generate(2048).unwrap())
}

/// A fixed instant for tests.
pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_790_000_000).unwrap()
}
