//! The demo's local taxes (issue 7): the comune's pagoPA data, the IMU
//! rates of the last two years with their delibera, and a few units for the first residents listed on
//! the demonstration sign-in page — the first one holds several, bought
//! and sold during this year, so the personal area shows an acconto, a
//! saldo and the working. Loaded through the documented import files
//! (`docs/tributi-import.md`), as an operator would.

use jiff::civil::{Date, date};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::import::{TitolaritaRow, UnitaRow, write_titolarita, write_unita};
use palazzo_domain::tributi::imu::{Aliquote, Categoria, Condizione, Oggetto, Periodo, Possesso};
use palazzo_domain::tributi::{Aliquota, Quota};
use palazzo_store::{Store, Tenant};

use crate::access::Actor;
use crate::{App, ServiceError, ServiceResult};

fn funzionario() -> Actor {
    Actor {
        principal: palazzo_domain::access::Principal {
            grants: vec![palazzo_domain::access::Grant {
                role: palazzo_domain::access::Role::FunzionarioTributi,
                office: None,
            }],
        },
        name: Some("Dimostrazione".into()),
        ..Default::default()
    }
}

fn building(
    codice: &str,
    sub: &str,
    categoria: &str,
    rendita: i64,
    via: &str,
) -> ServiceResult<UnitaRow> {
    let categoria =
        Categoria::parse(categoria).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(UnitaRow {
        line: 0,
        codice: codice.to_owned(),
        foglio: "12".into(),
        particella: "345".into(),
        subalterno: sub.to_owned(),
        indirizzo: via.to_owned(),
        oggetto: Oggetto::Fabbricato {
            categoria,
            rendite: vec![palazzo_domain::tributi::imu::Valore {
                dal: palazzo_domain::tributi::import::SEMPRE,
                importo: Cents::from_cents(rendita),
            }],
        },
    })
}

fn title(
    unit: &str,
    cf: &palazzo_domain::ids::CodiceFiscale,
    dal: Date,
    al: Option<Date>,
    quota: Quota,
    periodi: Vec<Periodo>,
) -> TitolaritaRow {
    TitolaritaRow {
        line: 0,
        codice_unita: unit.to_owned(),
        codice_fiscale: cf.clone(),
        possesso: Possesso { dal, al, quota },
        periodi,
    }
}

/// Seeds the rates and units of `tenant`, once (nothing when the comune
/// already has IMU rates).
///
/// # Errors
/// A refused row (a bug of the demo data) or storage failures.
pub async fn seed(app: &App, tenant: &Tenant, year: i16) -> ServiceResult<()> {
    let actor = funzionario();
    if app.db().pagopa_ente(tenant.id).await?.is_none() {
        // Example data of the pagoPA notices: segregation code 01, a
        // syntactically valid IBAN, a postal account for the bollettino.
        app.set_pagopa_ente(
            tenant.id,
            &actor,
            palazzo_store::PagopaEnte {
                segregazione: 1,
                cbill: "A1B2C".into(),
                iban: "IT60X0542811101000000123456".into(),
                conto_postale: Some("16302093".into()),
                intestatario: Some(format!("{} - Servizio Tesoreria", tenant.data.name)),
            },
        )
        .await?;
    }
    if !app.db().aliquote_imu_all(tenant.id).await?.is_empty() {
        return Ok(());
    }
    for (anno, numero) in [(year - 1, 14), (year, 9)] {
        let rates = Aliquote {
            anno,
            delibera: format!("Delibera C.C. n. {numero} del 28/03/{anno}"),
            abitazione_principale: Aliquota(600),
            gruppo_d: Aliquota(1060),
            altri_fabbricati: Aliquota(if anno == year { 1060 } else { 1040 }),
            aree_fabbricabili: Aliquota(1060),
            ..Aliquote::di_base(anno)
        };
        app.set_imu_rates(tenant.id, &actor, rates).await?;
    }
    let people = app.db().residents(tenant.id, 2).await?;
    let [first, second] = people.as_slice() else {
        return Ok(());
    };
    let (a, b) = (&first.codice_fiscale, &second.codice_fiscale);
    let via = "Via Roma 10";
    let units = vec![
        building("DEMO-F12-P345-S1", "1", "A/2", 92_500, via)?,
        building("DEMO-F12-P345-S2", "2", "C/6", 11_200, via)?,
        building("DEMO-F12-P345-S3", "3", "A/3", 68_400, "Via Garibaldi 4")?,
        building("DEMO-F12-P345-S4", "4", "A/2", 80_000, "Corso Umberto 21")?,
        building("DEMO-F12-P345-S5", "5", "C/1", 150_000, "Corso Umberto 23")?,
    ];
    let home = |dal| {
        vec![Periodo {
            dal,
            al: None,
            condizione: Condizione::AbitazionePrincipale { residenti: 2 },
        }]
    };
    let garage = |dal| {
        vec![Periodo {
            dal,
            al: None,
            condizione: Condizione::Pertinenza,
        }]
    };
    let half = Quota::new(1, 2).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let since = date(2012, 5, 4);
    let titles = vec![
        // Home and garage, half each with the spouse, both living there:
        // exempt (c.740).
        title("DEMO-F12-P345-S1", a, since, None, half, home(since)),
        title("DEMO-F12-P345-S1", b, since, None, half, home(since)),
        title("DEMO-F12-P345-S2", a, since, None, half, garage(since)),
        title("DEMO-F12-P345-S2", b, since, None, half, garage(since)),
        // A flat sold with a deed of 20 May: the seller's last day is the
        // 19th, May is the seller's (19 of 31 days, c.761).
        title(
            "DEMO-F12-P345-S3",
            a,
            date(2008, 1, 1),
            Some(date(year, 5, 19)),
            Quota::INTERA,
            Vec::new(),
        ),
        // Half a flat bought on 10 September: September is the buyer's.
        title(
            "DEMO-F12-P345-S4",
            a,
            date(year, 9, 10),
            None,
            half,
            Vec::new(),
        ),
        // A shop held all year.
        title(
            "DEMO-F12-P345-S5",
            a,
            date(2015, 1, 1),
            None,
            Quota::INTERA,
            Vec::new(),
        ),
    ];
    for file in [write_unita(&units), write_titolarita(&titles)] {
        let report = app
            .import_tributi(tenant.id, &actor, file.as_bytes(), |_, _| {})
            .await?;
        if let Some(e) = report.errors.first() {
            return Err(ServiceError::Internal(format!(
                "demo taxes of {}: line {} refused ({}): {}",
                tenant.data.slug, e.line, e.code, e.message
            )));
        }
    }
    Ok(())
}
