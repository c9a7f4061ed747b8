//! The demo installation of `palazzo demo`: two real comuni of the Bari Area
//! Vasta with their offices, service catalogues, FAQ and a deterministic
//! synthetic population.

pub mod content;
pub mod population;
pub mod tributi;

use palazzo_domain::appuntamenti::{CalendarSpec, WindowSpec};
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

fn window(giorno: &str, dalle: &str, alle: &str, durata: u32, posti: u32) -> WindowSpec {
    WindowSpec {
        giorno: giorno.into(),
        dalle: dalle.into(),
        alle: alle.into(),
        durata_minuti: durata,
        posti,
    }
}

const WEEKDAYS: [&str; 5] = ["lunedi", "martedi", "mercoledi", "giovedi", "venerdi"];

/// The booking calendars of the demo offices (issue 6, part 7), by comune
/// slug: the registry office Monday to Friday every 20 minutes at two
/// desks, the technical office on Tuesday and Thursday mornings and
/// Thursday afternoon every 30 minutes, the tax office on Tuesday and
/// Thursday mornings.
pub fn demo_calendars(comune: &str) -> Vec<(&'static str, CalendarSpec)> {
    let spec = |fasce: Vec<WindowSpec>, argomenti: &[&str]| CalendarSpec {
        fasce,
        valido_dal: None,
        valido_al: None,
        chiusure: Vec::new(),
        preavviso_ore: palazzo_domain::appuntamenti::DEFAULT_NOTICE_HOURS,
        giorni_prenotabili: palazzo_domain::appuntamenti::DEFAULT_HORIZON_DAYS,
        servizi: Vec::new(),
        argomenti: argomenti.iter().map(|a| (*a).to_owned()).collect(),
    };
    let anagrafe = |dalle: &str, alle: &str| {
        spec(
            WEEKDAYS
                .iter()
                .map(|d| window(d, dalle, alle, 20, 2))
                .collect(),
            &[
                "Carta d'identità elettronica",
                "Certificati e autocertificazioni",
                "Cambio di residenza o di abitazione",
                "Stato civile",
                "Altro",
            ],
        )
    };
    let tecnico = || {
        spec(
            vec![
                window("martedi", "09:00", "12:00", 30, 1),
                window("giovedi", "09:00", "12:00", 30, 1),
                window("giovedi", "15:00", "17:00", 30, 1),
            ],
            &[
                "Pratiche edilizie",
                "Certificato di destinazione urbanistica",
                "Accesso agli atti",
                "Altro",
            ],
        )
    };
    let tributi = || {
        spec(
            vec![
                window("martedi", "09:00", "12:00", 30, 1),
                window("giovedi", "09:00", "12:00", 30, 1),
            ],
            &["IMU", "TARI", "Rimborsi e rateizzazioni", "Altro"],
        )
    };
    match comune {
        "casamassima" => vec![
            ("anagrafe-stato-civile", anagrafe("09:00", "12:30")),
            ("urbanistica", tecnico()),
            ("tributi", tributi()),
        ],
        "acquaviva" => vec![
            ("servizi-demografici", anagrafe("08:30", "12:00")),
            ("area-tecnica", tecnico()),
            ("tributi", tributi()),
        ],
        _ => Vec::new(),
    }
}

/// Gives the demo offices their booking calendars, unless they have one.
async fn seed_calendars(app: &App, tenant: &palazzo_store::Tenant) -> ServiceResult<()> {
    let snap = app.portal(tenant.id).await?;
    for (slug, spec) in demo_calendars(&tenant.data.slug) {
        let Some(office) = snap.office_by_slug(slug) else {
            continue;
        };
        if app
            .db()
            .booking_calendar(tenant.id, office.id)
            .await?
            .is_none()
        {
            app.set_office_calendar(tenant.id, None, slug, &spec)
                .await?;
        }
    }
    Ok(())
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
        seed_calendars(app, &tenant).await?;
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
    // Its local taxes (issue 7): this year's and last year's IMU rates,
    // units for the first residents of the sign-in page.
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year();
    for t in app.tenants() {
        app.install_shipped_definitions(t.id).await?;
        tributi::seed(app, &t, year).await?;
    }
    app.checkpoint_all().await?;
    Ok(seeded)
}
