//! Time-based one-time passwords (RFC 6238, TOTP, over RFC 4226 HOTP) for
//! the break-glass administrator's mandatory second factor (DECISIONS 23).
//!
//! Parameters are those every authenticator app supports: HMAC-SHA-1,
//! 6 digits, 30-second steps, a 160-bit secret shown in base32 (RFC 4648,
//! no padding) inside an `otpauth://totp/` URI.

use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::error::Coded;

/// Length of a step, in seconds (RFC 6238 §4.1 default).
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted before and after the current one (clock drift, RFC 6238 §5.2).
pub const DRIFT_STEPS: u64 = 1;

/// A TOTP shared secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

/// Why a secret or a code is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The secret is not base32 or too short.
    #[error("invalid TOTP secret")]
    Secret,
    /// The code is not six digits.
    #[error("invalid TOTP code format")]
    Format,
}

impl Coded for TotpError {
    fn code(&self) -> &'static str {
        match self {
            TotpError::Secret => "totp_secret",
            TotpError::Format => "totp_code_format",
        }
    }
    fn message_it(&self) -> String {
        match self {
            TotpError::Secret => "Il segreto TOTP non è valido.".into(),
            TotpError::Format => "Il codice di verifica è formato da 6 cifre.".into(),
        }
    }
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

impl TotpSecret {
    /// A secret from raw bytes (at least 16; RFC 4226 §4 recommends 20).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        if bytes.len() < 16 {
            return Err(TotpError::Secret);
        }
        Ok(TotpSecret(bytes.to_vec()))
    }

    /// Parses the base32 form (case-insensitive, spaces and padding ignored).
    pub fn parse_base32(text: &str) -> Result<Self, TotpError> {
        let mut bits: u64 = 0;
        let mut count = 0;
        let mut out = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
            let c = c.to_ascii_uppercase();
            let v = ALPHABET
                .iter()
                .position(|a| char::from(*a) == c)
                .ok_or(TotpError::Secret)?;
            bits = (bits << 5) | v as u64;
            count += 5;
            if count >= 8 {
                count -= 8;
                out.push(((bits >> count) & 0xff) as u8);
            }
        }
        Self::from_bytes(&out)
    }

    /// The base32 form (no padding), as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        let mut out = String::new();
        let mut bits: u64 = 0;
        let mut count = 0;
        for b in &self.0 {
            bits = (bits << 8) | u64::from(*b);
            count += 8;
            while count >= 5 {
                count -= 5;
                out.push(char::from(ALPHABET[((bits >> count) & 31) as usize]));
            }
        }
        if count > 0 {
            out.push(char::from(ALPHABET[((bits << (5 - count)) & 31) as usize]));
        }
        out
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The `otpauth://totp/` URI to show as a QR code to the administrator.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            enc(issuer),
            enc(account),
            self.to_base32(),
            enc(issuer)
        )
    }
}

/// HOTP value for a counter (RFC 4226 §5.3: HMAC-SHA-1, dynamic truncation).
pub fn hotp(secret: &TotpSecret, counter: u64) -> u32 {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    bin % 10u32.pow(DIGITS)
}

/// The step of a Unix time (RFC 6238 §4.2, T0 = 0).
pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The code for a Unix time, zero-padded to six digits.
pub fn code_at(secret: &TotpSecret, unix_seconds: u64) -> String {
    format!("{:06}", hotp(secret, step_of(unix_seconds)))
}

/// Checks a code typed at `unix_seconds`. Returns the step it matched, which
/// the caller must store and pass back as `last_used_step`: a code (or an
/// older one) is never accepted twice (RFC 6238 §5.2, replay).
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    unix_seconds: u64,
    last_used_step: Option<u64>,
) -> Result<Option<u64>, TotpError> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TotpError::Format);
    }
    let now = step_of(unix_seconds);
    let first = now.saturating_sub(DRIFT_STEPS);
    for step in first..=now + DRIFT_STEPS {
        if last_used_step.is_some_and(|used| step <= used) {
            continue;
        }
        // Compare without an early exit on the first differing digit.
        let expected = format!("{:06}", hotp(secret, step));
        let diff = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc4226_appendix_d_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(
                hotp(&rfc_secret(), counter as u64),
                *value,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors_six_digits() {
        // RFC 6238 gives 8-digit values; the 6-digit code is their last six digits.
        for (t, eight) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at(&rfc_secret(), t), eight[2..], "t = {t}");
        }
    }

    #[test]
    fn base32_round_trip_and_known_value() {
        let s = rfc_secret();
        assert_eq!(s.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::parse_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            s
        );
        assert_eq!(
            TotpSecret::parse_base32("GEZDGNBVGY3TQOJQ1"),
            Err(TotpError::Secret)
        );
        assert_eq!(
            TotpSecret::parse_base32("GEZDGNBV"),
            Err(TotpError::Secret),
            "too short"
        );
        assert_eq!(format!("{s:?}"), "TotpSecret(…)");
    }

    #[test]
    fn verify_accepts_drift_refuses_replay_and_bad_codes() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let code = code_at(&s, t);
        let step = verify(&s, &code, t, None).unwrap().unwrap();
        assert_eq!(step, step_of(t));
        assert_eq!(
            verify(&s, &code, t + 30, None).unwrap(),
            Some(step),
            "one step late is fine"
        );
        assert_eq!(
            verify(&s, &code, t + 90, None).unwrap(),
            None,
            "three steps late is not"
        );
        assert_eq!(verify(&s, &code, t, Some(step)).unwrap(), None, "no replay");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_eq!(verify(&s, wrong, t, None).unwrap(), None);
        assert_eq!(verify(&s, "12345", t, None), Err(TotpError::Format));
        assert_eq!(verify(&s, "12a456", t, None), Err(TotpError::Format));
    }

    #[test]
    fn otpauth_uri_is_encoded() {
        let uri = rfc_secret().otpauth_uri("Palazzo Casamassima", "admin@casamassima");
        assert!(uri.starts_with(
            "otpauth://totp/Palazzo%20Casamassima:admin%40casamassima?secret=GEZDGNBV"
        ));
        assert!(uri.contains("&issuer=Palazzo%20Casamassima&algorithm=SHA1&digits=6&period=30"));
    }
}
