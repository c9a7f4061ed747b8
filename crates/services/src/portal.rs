//! What the public portal shows: a per-tenant snapshot of the ente, its
//! offices, service catalogue and FAQ, kept in memory and rebuilt after
//! every change (the portal is read thousands of times for each write).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use palazzo_domain::portal::ServiceCategory;
use palazzo_store::{Faq, Office, OfficeId, Service, Store, Tenant, TenantId};

use crate::{App, ServiceError, ServiceResult};

/// Everything the portal pages of one ente need.
#[derive(Debug, Clone)]
pub struct PortalSnapshot {
    /// The ente.
    pub tenant: Tenant,
    /// Its offices, by name.
    pub offices: Vec<Office>,
    /// Its service cards, by category then title.
    pub services: Vec<Service>,
    /// Its FAQ, in display order.
    pub faqs: Vec<Faq>,
}

impl PortalSnapshot {
    /// The office with this id.
    pub fn office(&self, id: OfficeId) -> Option<&Office> {
        self.offices.iter().find(|o| o.id == id)
    }

    /// The office with this slug.
    pub fn office_by_slug(&self, slug: &str) -> Option<&Office> {
        self.offices.iter().find(|o| o.data.slug == slug)
    }

    /// The service card with this slug.
    pub fn service(&self, slug: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.data.slug == slug)
    }

    /// The services of one category.
    pub fn services_in(&self, category: ServiceCategory) -> impl Iterator<Item = &Service> {
        self.services
            .iter()
            .filter(move |s| s.data.category == category)
    }
}

/// Host → tenant map and per-tenant snapshots.
#[derive(Default)]
pub(crate) struct Cache {
    hosts: RwLock<HostMap>,
    snapshots: RwLock<HashMap<TenantId, Arc<PortalSnapshot>>>,
    /// Bumped by every invalidation (under the `snapshots` lock): a snapshot
    /// built from reads that began before a change is not cached after it.
    generation: AtomicU64,
}

#[derive(Default)]
struct HostMap {
    by_host: HashMap<String, Arc<Tenant>>,
    default: Option<Arc<Tenant>>,
    all: Vec<Arc<Tenant>>,
}

/// Normalises a `Host` header value: lower case, without port and trailing dot.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    // IPv6 literal "[::1]:8080" keeps its brackets; otherwise drop ":port".
    let no_port = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h).to_owned()
    };
    no_port.trim_end_matches('.').to_ascii_lowercase()
}

impl App {
    /// Reloads the host → tenant map from the store (after a tenant changes).
    pub async fn reload_tenants(&self) -> ServiceResult<()> {
        let tenants = self.db().tenants().await?;
        let mut map = HostMap::default();
        for t in tenants {
            let t = Arc::new(t);
            for h in &t.data.hostnames {
                map.by_host.insert(normalize_host(h), t.clone());
            }
            if t.data.is_default && map.default.is_none() {
                map.default = Some(t.clone());
            }
            map.all.push(t);
        }
        if map.default.is_none() {
            map.default = map.all.first().cloned();
        }
        let mut guard = self.inner.portal.hosts.write().map_err(|_| poisoned())?;
        *guard = map;
        drop(guard);
        let mut snapshots = self
            .inner
            .portal
            .snapshots
            .write()
            .map_err(|_| poisoned())?;
        self.inner.portal.generation.fetch_add(1, Ordering::SeqCst);
        snapshots.clear();
        Ok(())
    }

    /// The tenant that answers this `Host` header: the one that lists the
    /// host, else the default tenant. `None` only when no tenant exists.
    pub fn tenant_for_host(&self, host: &str) -> Option<Arc<Tenant>> {
        let guard = self.inner.portal.hosts.read().ok()?;
        guard
            .by_host
            .get(&normalize_host(host))
            .or(guard.default.as_ref())
            .cloned()
    }

    /// Every tenant.
    pub fn tenants(&self) -> Vec<Arc<Tenant>> {
        self.inner
            .portal
            .hosts
            .read()
            .map(|g| g.all.clone())
            .unwrap_or_default()
    }

    /// The portal snapshot of a tenant (cached; rebuilt after changes).
    pub async fn portal(&self, tenant: TenantId) -> ServiceResult<Arc<PortalSnapshot>> {
        if let Some(s) = self
            .inner
            .portal
            .snapshots
            .read()
            .map_err(|_| poisoned())?
            .get(&tenant)
        {
            return Ok(s.clone());
        }
        let generation = self.inner.portal.generation.load(Ordering::SeqCst);
        let t = self
            .tenants()
            .into_iter()
            .find(|t| t.id == tenant)
            .ok_or(ServiceError::NotFound)?;
        let db = self.db();
        let snapshot = Arc::new(PortalSnapshot {
            tenant: (*t).clone(),
            offices: db.offices(tenant).await?,
            services: db.services(tenant).await?,
            faqs: db.faqs(tenant).await?,
        });
        let mut cache = self
            .inner
            .portal
            .snapshots
            .write()
            .map_err(|_| poisoned())?;
        if self.inner.portal.generation.load(Ordering::SeqCst) == generation {
            cache.insert(tenant, snapshot.clone());
        }
        Ok(snapshot)
    }

    /// Drops the cached snapshot of a tenant after a change.
    pub(crate) fn invalidate_portal(&self, tenant: TenantId) {
        if let Ok(mut g) = self.inner.portal.snapshots.write() {
            self.inner.portal.generation.fetch_add(1, Ordering::SeqCst);
            g.remove(&tenant);
        }
    }
}

fn poisoned() -> ServiceError {
    ServiceError::Internal("portal cache lock poisoned".into())
}

#[cfg(test)]
mod tests {
    use super::normalize_host;

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            normalize_host("Comune.Casamassima.BA.it:8080"),
            "comune.casamassima.ba.it"
        );
        assert_eq!(
            normalize_host("comune.casamassima.ba.it."),
            "comune.casamassima.ba.it"
        );
        assert_eq!(normalize_host("[::1]:8080"), "[::1]");
        assert_eq!(normalize_host("127.0.0.1"), "127.0.0.1");
    }
}
