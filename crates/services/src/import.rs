//! `palazzo import ente FILE` / `palazzo export ente SLUG`: an ente's portal
//! content (the ente, its offices, service cards and FAQ) as one file that an
//! operator can write, review and version. Offices are named by slug, so a
//! file moves between installations unchanged. Importing is idempotent:
//! existing things are matched by slug (FAQ by question) and updated or kept,
//! new ones created; every change goes through the same use cases as the
//! rest of Palazzo, so each one is recorded in the ledger.

use palazzo_store::{NewFaq, NewOffice, NewService, NewTenant, OfficeId, Store};
use serde::{Deserialize, Serialize};

use crate::{App, ServiceError, ServiceResult};

/// The portal content of one ente.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnteFile {
    /// The ente.
    pub ente: NewTenant,
    /// Its offices.
    #[serde(default)]
    pub uffici: Vec<NewOffice>,
    /// Its service cards.
    #[serde(default)]
    pub servizi: Vec<ServiceEntry>,
    /// Its FAQ.
    #[serde(default)]
    pub faq: Vec<NewFaq>,
}

/// A service card naming its responsible office by slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// Slug of the responsible office (one of `uffici`, or already stored).
    pub ufficio: String,
    /// The card (its `office` id is ignored: `ufficio` decides).
    #[serde(flatten)]
    pub scheda: NewService,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The ente was created (else updated or unchanged).
    pub ente_created: bool,
    /// The ente's data changed.
    pub ente_updated: bool,
    /// Offices created.
    pub offices_created: usize,
    /// Service cards created.
    pub services_created: usize,
    /// Service cards changed.
    pub services_updated: usize,
    /// FAQ entries created.
    pub faqs_created: usize,
}

impl App {
    /// Creates or updates an ente and its portal content from a file.
    /// Offices already stored are kept as they are (matched by slug).
    #[tracing::instrument(skip_all, fields(slug = %file.ente.slug))]
    pub async fn import_ente(&self, file: EnteFile) -> ServiceResult<ImportReport> {
        let mut report = ImportReport::default();
        let existing = self
            .tenants()
            .into_iter()
            .find(|t| t.data.slug == file.ente.slug);
        let tenant = match existing {
            None => {
                report.ente_created = true;
                self.create_tenant(file.ente).await?
            }
            Some(t) if t.data != file.ente => {
                report.ente_updated = true;
                let mut t = (*t).clone();
                t.data = file.ente;
                self.update_tenant(t).await?
            }
            Some(t) => (*t).clone(),
        };
        let mut offices = self.db().offices(tenant.id).await?;
        for o in file.uffici {
            if !offices.iter().any(|x| x.data.slug == o.slug) {
                offices.push(self.create_office(tenant.id, o).await?);
                report.offices_created += 1;
            }
        }
        let services = self.db().services(tenant.id).await?;
        for entry in file.servizi {
            let office = offices
                .iter()
                .find(|o| o.data.slug == entry.ufficio)
                .ok_or_else(|| ServiceError::Invalid {
                    code: "import_office_unknown",
                    message: format!(
                        "Il servizio «{}» indica l'ufficio «{}», che non esiste.",
                        entry.scheda.slug, entry.ufficio
                    ),
                })?;
            let mut scheda = entry.scheda;
            scheda.office = office.id;
            // A refused card names itself: the file may hold dozens.
            let slug = scheda.slug.clone();
            let named = |e: ServiceError| match e {
                ServiceError::Invalid { code, message } => ServiceError::Invalid {
                    code,
                    message: format!("Servizio «{slug}»: {message}"),
                },
                e => e,
            };
            match services.iter().find(|s| s.data.slug == scheda.slug) {
                None => {
                    self.create_service(tenant.id, scheda)
                        .await
                        .map_err(named)?;
                    report.services_created += 1;
                }
                Some(s) if s.data != scheda => {
                    let mut s = s.clone();
                    s.data = scheda;
                    self.update_service(s).await.map_err(named)?;
                    report.services_updated += 1;
                }
                Some(_) => {}
            }
        }
        let faqs = self.db().faqs(tenant.id).await?;
        for f in file.faq {
            if !faqs.iter().any(|x| x.data.question == f.question) {
                self.create_faq(tenant.id, f).await?;
                report.faqs_created += 1;
            }
        }
        Ok(report)
    }

    /// The portal content of an ente, in the import format.
    pub async fn export_ente(&self, slug: &str) -> ServiceResult<EnteFile> {
        let tenant = self
            .tenants()
            .into_iter()
            .find(|t| t.data.slug == slug)
            .ok_or(ServiceError::NotFound)?;
        let offices = self.db().offices(tenant.id).await?;
        let mut servizi = Vec::new();
        for s in self.db().services(tenant.id).await? {
            let ufficio = offices
                .iter()
                .find(|o| o.id == s.data.office)
                .map(|o| o.data.slug.clone())
                .ok_or_else(|| {
                    ServiceError::Internal(format!("service {} has no office", s.data.slug))
                })?;
            let mut scheda = s.data;
            scheda.office = OfficeId::default();
            servizi.push(ServiceEntry { ufficio, scheda });
        }
        Ok(EnteFile {
            ente: tenant.data.clone(),
            uffici: offices.into_iter().map(|o| o.data).collect(),
            servizi,
            faq: self
                .db()
                .faqs(tenant.id)
                .await?
                .into_iter()
                .map(|f| f.data)
                .collect(),
        })
    }
}
