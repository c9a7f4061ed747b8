//! An in-memory `PortalSnapshot` built from the demo content of Casamassima
//! (the same data `palazzo demo` stores), with ids assigned as a store would,
//! plus a few edge cases: an inactive service, a hostile title.

use palazzo_domain::portal::ServiceStatus;
use palazzo_services::PortalSnapshot;
use palazzo_services::demo::content;
use palazzo_store::{Faq, Office, OfficeId, Service, ServiceId, Tenant, TenantId};

pub const SECRET: [u8; 32] = [42; 32];
pub const BASE_URL: &str = "https://comune.casamassima.ba.it";

pub fn snapshot() -> PortalSnapshot {
    let comune = content::comuni().unwrap().into_iter().next().unwrap();
    let tid = TenantId(1);
    let tenant = Tenant {
        id: tid,
        data: comune.tenant,
    };
    let offices: Vec<Office> = comune
        .offices
        .into_iter()
        .zip(1..)
        .map(|(data, id)| Office {
            id: OfficeId(id),
            tenant: tid,
            data,
        })
        .collect();
    let mut services: Vec<Service> = comune
        .services
        .into_iter()
        .zip(1..)
        .map(|(ds, id)| {
            let mut data = ds.service;
            data.office = offices
                .iter()
                .find(|o| o.data.slug == ds.office_slug)
                .unwrap()
                .id;
            Service {
                id: ServiceId(id),
                tenant: tid,
                data,
            }
        })
        .collect();
    // Edge cases: one inactive service, one title that tries to break out of
    // the JSON-LD script element.
    services[0].data.status = ServiceStatus::Inactive {
        reason: "Servizio sospeso per manutenzione".into(),
    };
    services[1].data.title = "Servizio </script><script>alert(1)</script> & \"test\"".into();
    services
        .sort_by(|a, b| (a.data.category, &a.data.title).cmp(&(b.data.category, &b.data.title)));
    let faqs = comune
        .faqs
        .into_iter()
        .zip(1..)
        .map(|(data, id)| Faq { id, data })
        .collect();
    let mut offices = offices;
    offices.sort_by(|a, b| a.data.name.cmp(&b.data.name));
    PortalSnapshot {
        tenant,
        offices,
        services,
        faqs,
    }
}

#[test]
fn fixture_has_enough_services() {
    let s = snapshot();
    assert!(
        s.services.len() >= 10,
        "C.SI.1.3 wants at least 10 cards, fixture has {}",
        s.services.len()
    );
    assert!(!s.offices.is_empty());
    assert!(!s.faqs.is_empty());
}
