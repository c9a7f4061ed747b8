//! Rendered HTML per (tenant, page), valid while the tenant's portal
//! snapshot is the same `Arc` and the rating ticket bucket has not changed.
//!
//! Each tenant has its own map, tagged with the snapshot and the bucket its
//! pages were rendered for: when either changes, the tenant's old pages are
//! all stale and go at once (so a map only ever holds pages of the current
//! content, and only pages that rendered — a 404 is never cached). Each
//! tenant keeps at most `per_tenant` bytes of HTML and, past that, empties
//! only its own map: a flood on one comune never evicts the others. Past
//! `total` bytes across tenants, the biggest tenant is emptied.
//!
//! The tenant entry keeps a `Weak` to its snapshot: comparing pointers is
//! then free of ABA problems (the allocation cannot be reused while the
//! `Weak` lives) and an old snapshot's data is still freed as soon as the
//! services drop it. Evicted maps are dropped after the lock is released.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use axum::body::Bytes;
use axum::http::HeaderValue;
use palazzo_services::PortalSnapshot;
use palazzo_store::TenantId;
use sha2::{Digest, Sha256};

/// Default budget of one tenant, in bytes of HTML (pages weigh 10–30 KB:
/// about a thousand pages, more than a comune's whole portal).
pub const DEFAULT_TENANT_BYTES: usize = 24 << 20;
/// Default budget of the whole cache, in bytes of HTML.
pub const DEFAULT_TOTAL_BYTES: usize = 256 << 20;

/// A cached page.
#[derive(Clone)]
pub struct CachedPage {
    /// The HTML.
    pub body: Bytes,
    /// Its strong ETag.
    pub etag: HeaderValue,
}

/// The pages of one tenant, all rendered from `snapshot` in `bucket`.
struct TenantPages {
    snapshot: Weak<PortalSnapshot>,
    bucket: u64,
    /// Per page key (path and significant query).
    pages: HashMap<String, CachedPage>,
    /// Sum of the body lengths.
    bytes: usize,
}

impl TenantPages {
    fn is_for(&self, snapshot: &Arc<PortalSnapshot>, bucket: u64) -> bool {
        self.bucket == bucket && std::ptr::eq(self.snapshot.as_ptr(), Arc::as_ptr(snapshot))
    }

    /// Empties the map, handing back the old one (to drop outside the lock).
    fn take(&mut self) -> HashMap<String, CachedPage> {
        self.bytes = 0;
        std::mem::take(&mut self.pages)
    }
}

/// The cache.
pub struct PageCache {
    map: RwLock<HashMap<TenantId, TenantPages>>,
    per_tenant: usize,
    total: usize,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new(DEFAULT_TENANT_BYTES, DEFAULT_TOTAL_BYTES)
    }
}

impl PageCache {
    /// An empty cache with these budgets, in bytes of HTML.
    pub fn new(per_tenant: usize, total: usize) -> Self {
        PageCache {
            map: RwLock::new(HashMap::new()),
            per_tenant,
            total,
        }
    }

    /// The page cached under `key`, if still valid.
    pub fn get(
        &self,
        tenant: TenantId,
        key: &str,
        snapshot: &Arc<PortalSnapshot>,
        bucket: u64,
    ) -> Option<CachedPage> {
        let map = self.map.read().ok()?;
        let t = map.get(&tenant).filter(|t| t.is_for(snapshot, bucket))?;
        t.pages.get(key).cloned()
    }

    /// Stores a page and returns it.
    pub fn put(
        &self,
        tenant: TenantId,
        key: String,
        snapshot: &Arc<PortalSnapshot>,
        bucket: u64,
        html: String,
    ) -> CachedPage {
        let page = CachedPage {
            etag: etag_of(html.as_bytes()),
            body: Bytes::from(html),
        };
        let size = page.body.len() + key.len();
        let mut evicted = Vec::new();
        if let Ok(mut map) = self.map.write() {
            let t = map.entry(tenant).or_insert_with(|| TenantPages {
                snapshot: Arc::downgrade(snapshot),
                bucket,
                pages: HashMap::new(),
                bytes: 0,
            });
            if !t.is_for(snapshot, bucket) {
                if std::ptr::eq(t.snapshot.as_ptr(), Arc::as_ptr(snapshot)) && bucket < t.bucket {
                    // Rendered just before the hour turned: already stale.
                    return page;
                }
                evicted.push(t.take());
                t.snapshot = Arc::downgrade(snapshot);
                t.bucket = bucket;
            }
            if let Some(old) = t.pages.get(&key) {
                t.bytes -= old.body.len() + key.len();
            } else if t.bytes + size > self.per_tenant {
                evicted.push(t.take());
            }
            if size <= self.per_tenant {
                t.bytes += size;
                t.pages.insert(key, page.clone());
            }
            let mut total: usize = map.values().map(|t| t.bytes).sum();
            while total > self.total {
                let Some(biggest) = map.values_mut().max_by_key(|t| t.bytes) else {
                    break;
                };
                total -= biggest.bytes;
                evicted.push(biggest.take());
            }
        }
        drop(evicted);
        page
    }

    /// Number of cached pages.
    pub fn len(&self) -> usize {
        self.map
            .read()
            .map(|m| m.values().map(|t| t.pages.len()).sum())
            .unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of cached pages of one tenant.
    pub fn tenant_len(&self, tenant: TenantId) -> usize {
        self.map
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).map(|t| t.pages.len()))
            .unwrap_or(0)
    }
}

/// A strong ETag from the first 16 bytes of the SHA-256 of the body.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in &digest[..16] {
        use std::fmt::Write as _;
        let _ = write!(tag, "{b:02x}");
    }
    tag.push('"');
    HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\""))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::tests::fixture;

    fn snap(id: i64) -> Arc<PortalSnapshot> {
        let mut s = fixture::snapshot();
        s.tenant.id = TenantId(id);
        Arc::new(s)
    }

    fn html(n: usize) -> String {
        "x".repeat(n)
    }

    #[test]
    fn a_full_tenant_evicts_only_its_own_pages() {
        let cache = PageCache::new(1000, 1_000_000);
        let (a, b) = (snap(1), snap(2));
        cache.put(TenantId(2), "/".into(), &b, 7, html(100));
        for i in 0..9 {
            cache.put(TenantId(1), format!("/p{i}"), &a, 7, html(100));
        }
        assert_eq!(cache.tenant_len(TenantId(1)), 9);
        // The tenth page does not fit: tenant 1 starts over, tenant 2 keeps its page.
        cache.put(TenantId(1), "/p9".into(), &a, 7, html(100));
        assert_eq!(cache.tenant_len(TenantId(1)), 1);
        assert!(cache.get(TenantId(1), "/p9", &a, 7).is_some());
        assert!(cache.get(TenantId(1), "/p0", &a, 7).is_none());
        assert!(cache.get(TenantId(2), "/", &b, 7).is_some());
        // Replacing a page does not count it twice.
        for _ in 0..20 {
            cache.put(TenantId(1), "/p9".into(), &a, 7, html(100));
        }
        assert_eq!(cache.tenant_len(TenantId(1)), 1);
        // A page bigger than the budget is served but not kept.
        let big = cache.put(TenantId(1), "/big".into(), &a, 7, html(5000));
        assert_eq!(big.body.len(), 5000);
        assert!(cache.get(TenantId(1), "/big", &a, 7).is_none());
    }

    #[test]
    fn a_new_snapshot_or_bucket_drops_the_tenant_s_stale_pages() {
        let cache = PageCache::new(1_000_000, 1_000_000);
        let (old, new) = (snap(1), snap(1));
        cache.put(TenantId(1), "/a".into(), &old, 7, html(10));
        cache.put(TenantId(1), "/b".into(), &old, 7, html(10));
        assert!(cache.get(TenantId(1), "/a", &new, 7).is_none());
        assert!(cache.get(TenantId(1), "/a", &old, 8).is_none());
        cache.put(TenantId(1), "/a".into(), &new, 7, html(10));
        assert_eq!(cache.tenant_len(TenantId(1)), 1);
        cache.put(TenantId(1), "/a".into(), &new, 8, html(10));
        assert_eq!(cache.tenant_len(TenantId(1)), 1);
        // A render of the previous hour arriving late is not kept.
        cache.put(TenantId(1), "/b".into(), &new, 7, html(10));
        assert!(cache.get(TenantId(1), "/b", &new, 7).is_none());
        assert!(cache.get(TenantId(1), "/a", &new, 8).is_some());
    }

    #[test]
    fn past_the_total_budget_the_biggest_tenant_goes() {
        let cache = PageCache::new(10_000, 1000);
        let snaps: Vec<_> = (1..=3).map(snap).collect();
        for (i, s) in snaps.iter().enumerate() {
            let t = TenantId(i as i64 + 1);
            for p in 0..=i {
                cache.put(t, format!("/{p}"), s, 7, html(100));
            }
        }
        // 1 + 2 + 3 pages of ~100 bytes: within 1000.
        assert_eq!(cache.len(), 6);
        // Tenant 3 grows: its 7th page takes the total past 1000 bytes, so
        // it (the biggest) is emptied; /7 to /10 come after.
        for p in 3..11 {
            cache.put(TenantId(3), format!("/{p}"), &snaps[2], 7, html(100));
        }
        assert_eq!(cache.tenant_len(TenantId(1)), 1);
        assert_eq!(cache.tenant_len(TenantId(2)), 2);
        assert_eq!(cache.tenant_len(TenantId(3)), 4);
        assert!(cache.get(TenantId(3), "/6", &snaps[2], 7).is_none());
        assert!(cache.get(TenantId(3), "/10", &snaps[2], 7).is_some());
    }
}
