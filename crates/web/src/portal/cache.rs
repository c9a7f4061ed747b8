//! Rendered HTML per (tenant, page), valid while the tenant's portal
//! snapshot is the same `Arc` and the rating ticket bucket has not changed.
//!
//! The entry keeps a `Weak` to its snapshot: comparing pointers is then
//! free of ABA problems (the allocation cannot be reused while the `Weak`
//! lives) and an old snapshot's data is still freed as soon as the services
//! drop it. The cache holds at most `capacity` entries and is emptied when
//! full (simple, and bounded against URL-guessing floods).

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use axum::body::Bytes;
use axum::http::HeaderValue;
use palazzo_services::PortalSnapshot;
use palazzo_store::TenantId;
use sha2::{Digest, Sha256};

/// Default number of cached pages.
pub const DEFAULT_CAPACITY: usize = 4096;

/// A cached page.
#[derive(Clone)]
pub struct CachedPage {
    /// The HTML.
    pub body: Bytes,
    /// Its strong ETag.
    pub etag: HeaderValue,
}

struct Entry {
    snapshot: Weak<PortalSnapshot>,
    bucket: u64,
    page: CachedPage,
}

/// The cache.
pub struct PageCache {
    /// Per tenant, per page key (path and significant query).
    map: RwLock<HashMap<TenantId, HashMap<String, Entry>>>,
    capacity: usize,
}

impl PageCache {
    /// An empty cache.
    pub fn new(capacity: usize) -> Self {
        PageCache { map: RwLock::new(HashMap::new()), capacity }
    }

    /// The page cached under `key`, if still valid.
    pub fn get(&self, tenant: TenantId, key: &str, snapshot: &Arc<PortalSnapshot>, bucket: u64) -> Option<CachedPage> {
        let map = self.map.read().ok()?;
        let entry = map.get(&tenant)?.get(key)?;
        (entry.bucket == bucket && std::ptr::eq(entry.snapshot.as_ptr(), Arc::as_ptr(snapshot)))
            .then(|| entry.page.clone())
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
        let page = CachedPage { etag: etag_of(html.as_bytes()), body: Bytes::from(html) };
        if let Ok(mut map) = self.map.write() {
            if map.values().map(HashMap::len).sum::<usize>() >= self.capacity {
                map.clear();
            }
            map.entry(tenant).or_default().insert(
                key,
                Entry { snapshot: Arc::downgrade(snapshot), bucket, page: page.clone() },
            );
        }
        page
    }

    /// Number of cached pages.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.values().map(HashMap::len).sum()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
