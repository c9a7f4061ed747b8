//! Signed form tickets: the anti-flood token of the rating form.
//!
//! A ticket is `base64url(bucket ‖ HMAC-SHA256(secret, "palazzo-rating-v1" ‖
//! tenant ‖ page ‖ bucket)[..16])` where `bucket` is the hour of issue
//! (Unix seconds / 3600, 4 bytes big-endian). It names no user and no
//! session, so every visitor of a page in the same hour gets the same
//! ticket and the page stays cacheable; it is accepted during the hour of
//! issue and the next one (one to two hours). It proves that the poster
//! fetched the page recently, which stops blind floods; the per-client rate
//! limit of `App::submit_rating` does the rest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use palazzo_store::TenantId;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Length of a bucket in seconds.
pub const BUCKET_SECS: u64 = 3600;
const DOMAIN: &[u8] = b"palazzo-rating-v1";
const TAG_LEN: usize = 16;

/// The bucket of a Unix time.
pub fn bucket_of(unix_secs: u64) -> u64 {
    unix_secs / BUCKET_SECS
}

/// The current Unix time in seconds.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn tag(secret: &[u8; 32], tenant: TenantId, page: &str, bucket: u32) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(DOMAIN);
    mac.update(&tenant.0.to_be_bytes());
    mac.update(&(page.len() as u64).to_be_bytes());
    mac.update(page.as_bytes());
    mac.update(&bucket.to_be_bytes());
    Some(mac)
}

/// Issues the ticket of `page` for the bucket containing `unix_secs`.
pub fn issue(secret: &[u8; 32], tenant: TenantId, page: &str, unix_secs: u64) -> String {
    let bucket = u32::try_from(bucket_of(unix_secs)).unwrap_or(u32::MAX);
    let mut raw = Vec::with_capacity(4 + TAG_LEN);
    raw.extend_from_slice(&bucket.to_be_bytes());
    if let Some(mac) = tag(secret, tenant, page, bucket) {
        raw.extend_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
    }
    URL_SAFE_NO_PAD.encode(raw)
}

/// Why a ticket is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    /// Not a ticket at all.
    Malformed,
    /// Issued for another page or tenant, or by another secret.
    BadSignature,
    /// Older than the acceptance window (or from the future).
    Expired,
}

/// Checks a ticket for `page` at time `unix_secs`.
pub fn verify(
    secret: &[u8; 32],
    tenant: TenantId,
    page: &str,
    ticket: &str,
    unix_secs: u64,
) -> Result<(), TicketError> {
    let raw = URL_SAFE_NO_PAD
        .decode(ticket.trim())
        .map_err(|_| TicketError::Malformed)?;
    if raw.len() != 4 + TAG_LEN {
        return Err(TicketError::Malformed);
    }
    let mut b = [0u8; 4];
    b.copy_from_slice(&raw[..4]);
    let bucket = u32::from_be_bytes(b);
    let mac = tag(secret, tenant, page, bucket).ok_or(TicketError::BadSignature)?;
    // Constant-time comparison of the truncated tag.
    mac.verify_truncated_left(&raw[4..])
        .map_err(|_| TicketError::BadSignature)?;
    let now = bucket_of(unix_secs);
    let bucket = u64::from(bucket);
    if bucket > now || now - bucket > 1 {
        return Err(TicketError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const T: TenantId = TenantId(1);

    #[test]
    fn signs_and_verifies_within_the_window() {
        let now = 1_790_000_000;
        let t = issue(&KEY, T, "/servizi", now);
        assert_eq!(verify(&KEY, T, "/servizi", &t, now), Ok(()));
        assert_eq!(verify(&KEY, T, "/servizi", &t, now + BUCKET_SECS), Ok(()));
        assert_eq!(
            verify(&KEY, T, "/servizi", &t, now + 2 * BUCKET_SECS + 1),
            Err(TicketError::Expired)
        );
        assert_eq!(
            verify(&KEY, T, "/servizi", &t, now - 2 * BUCKET_SECS),
            Err(TicketError::Expired)
        );
        // Same hour, same page: same ticket (pages stay cacheable).
        assert_eq!(issue(&KEY, T, "/servizi", now + 1), t);
    }

    #[test]
    fn binds_page_tenant_and_secret() {
        let now = 1_790_000_000;
        let t = issue(&KEY, T, "/servizi", now);
        assert_eq!(
            verify(&KEY, T, "/novita", &t, now),
            Err(TicketError::BadSignature)
        );
        assert_eq!(
            verify(&KEY, TenantId(2), "/servizi", &t, now),
            Err(TicketError::BadSignature)
        );
        assert_eq!(
            verify(&[8; 32], T, "/servizi", &t, now),
            Err(TicketError::BadSignature)
        );
        assert_eq!(
            verify(&KEY, T, "/servizi", "not a ticket!", now),
            Err(TicketError::Malformed)
        );
        assert_eq!(
            verify(&KEY, T, "/servizi", "", now),
            Err(TicketError::Malformed)
        );
        // A tampered bucket breaks the signature.
        let mut raw = URL_SAFE_NO_PAD.decode(&t).unwrap_or_default();
        raw[3] ^= 1;
        assert_eq!(
            verify(&KEY, T, "/servizi", &URL_SAFE_NO_PAD.encode(raw), now),
            Err(TicketError::BadSignature)
        );
    }
}
