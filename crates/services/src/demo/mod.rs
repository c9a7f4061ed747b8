//! The demo installation of `palazzo demo`: two real comuni of the Bari Area
//! Vasta with their offices, service catalogues, FAQ and a deterministic
//! synthetic population.

pub mod content;
pub mod population;

use palazzo_store::Store;

use crate::import::{EnteFile, ServiceEntry};

use crate::{App, ServiceError, ServiceResult};

/// Residents generated per comune.
pub const RESIDENTS: usize = 20_000;

/// Summary of what `seed` created.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Comuni created (0 when reopening a complete demo).
    pub tenants: usize,
    /// Service cards created.
    pub services: usize,
    /// Residents created.
    pub residents: usize,
}

/// Creates the demo comuni, or completes them: each comune, its content and
/// its population are created only when missing, so reopening a demo keeps
/// its data and an interrupted seeding finishes on the next run.
/// `residents` per comune.
pub async fn seed(app: &App, residents: usize) -> ServiceResult<Seeded> {
    let mut seeded = Seeded::default();
    for (i, comune) in content::comuni()
        .map_err(ServiceError::Internal)?
        .into_iter()
        .enumerate()
    {
        let file = EnteFile {
            ente: comune.tenant,
            uffici: comune.offices,
            servizi: comune
                .services
                .into_iter()
                .map(|d| ServiceEntry {
                    ufficio: d.office_slug.to_owned(),
                    scheda: d.service,
                })
                .collect(),
            faq: comune.faqs,
        };
        let slug = file.ente.slug.clone();
        // Idempotent per comune: an interrupted seeding completes on the next run.
        let report = app.import_ente(file).await?;
        seeded.services += report.services_created;
        if report.ente_created {
            seeded.tenants += 1;
        }
        let tenant = app
            .tenants()
            .into_iter()
            .find(|t| t.data.slug == slug)
            .ok_or_else(|| ServiceError::Internal(format!("demo tenant {slug} missing")))?;
        if app.db().population_counts(tenant.id).await?.persons > 0 {
            continue;
        }
        let batches = population::generate(
            0x5EED_0000 + i as u64,
            &tenant.data.codice_catastale,
            &tenant.data.address.cap,
            &comune.streets,
            residents,
        )
        .map_err(ServiceError::Internal)?;
        // Through the documented import files, as an operator would load
        // a real register (issue 5, part 1): the stradario, then the
        // residents. Every generated row must pass.
        let (streets, residents) =
            population::import_rows(&comune.streets, &batches).map_err(ServiceError::Internal)?;
        let admin = crate::access::Actor {
            principal: palazzo_domain::access::Principal {
                grants: vec![palazzo_domain::access::Grant {
                    role: palazzo_domain::access::Role::AdminComune,
                    office: None,
                }],
            },
            name: Some("Dimostrazione".into()),
            ..Default::default()
        };
        for file in [
            palazzo_domain::anagrafe::write_streets(&streets),
            palazzo_domain::anagrafe::write_residents(&residents),
        ] {
            let report = app
                .import_anagrafe(tenant.id, &admin, file.as_bytes(), |_, _| {})
                .await?;
            if let Some(e) = report.errors.first() {
                return Err(ServiceError::Internal(format!(
                    "demo population of {slug}: line {} refused ({}): {}",
                    e.line, e.code, e.message
                )));
            }
            if report.kind == palazzo_domain::anagrafe::FileKind::Residenti {
                seeded.residents += report.saved;
            }
        }
    }
    // An AOO seal from the demo CA, so outgoing entries can be sealed
    // (Allegato 6; DECISIONS 14: never self-signed, never in `serve`).
    app.install_demo_seals()?;
    // The online services Palazzo ships (issue 6), for the cards that
    // have none yet.
    for t in app.tenants() {
        app.install_shipped_definitions(t.id).await?;
    }
    app.checkpoint_all().await?;
    Ok(seeded)
}
