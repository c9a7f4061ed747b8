//! The demo's local taxes (issue 7): the comune's pagoPA data, the IMU
//! rates of the last two years with their delibera, and a few units for the first residents listed on
//! the demonstration sign-in page — the first one holds several, bought
//! and sold during this year, so the personal area shows an acconto, a
//! saldo and the working. Loaded through the documented import files
//! (`docs/tributi-import.md`), as an operator would.
//!
//! TARI: the tariffs of the last two years (this year's due dates a month
//! and four months from the day the demo is built, so its bills can still
//! be issued), the first resident's home with a garage and composting, and
//! half a flat bought in September (a part-year utenza).
//!
//! Canone unico: this year's coefficients (two zones, passi carrabili and
//! dehors; due dates a month and four months away) and, for the first
//! resident, a permanent passo carrabile and a dehors for a fortnight
//! three weeks from now (a notice of its own).
//!
//! Payments received (the F24 flows): this year's IMU acconto, once past
//! its due date, and the first instalment of last year's TARI — the second
//! is left unpaid, so the page shows it past due with the ravvedimento.

use jiff::civil::{Date, date};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::canone::{CategoriaCanone, Coefficiente, TariffeCanone, ZonaCanone};
use palazzo_domain::tributi::import::{TitolaritaRow, UnitaRow, write_titolarita, write_unita};
use palazzo_domain::tributi::imu::{Aliquote, Categoria, Condizione, Oggetto, Periodo, Possesso};
use palazzo_domain::tributi::occupazioni::{DatiOccupazione, OccupazioneRow, write_occupazioni};
use palazzo_domain::tributi::tari::{Riduzione, RiduzioneTari, Tariffa, TariffeTari, Utenza};
use palazzo_domain::tributi::utenze::{UtenzaRow, write_utenze};
use palazzo_domain::tributi::versamenti::{VersamentoRow, write_versamenti};
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
                tefa: Some(palazzo_store::BeneficiarioTefa {
                    codice_fiscale: "80000110728".into(),
                    iban: "IT02L1234512345123456789012".into(),
                    nome: "Provincia (TEFA)".into(),
                }),
            },
        )
        .await?;
    }
    seed_tari(app, tenant, year, &actor).await?;
    seed_canone(app, tenant, year, &actor).await?;
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
        import(app, tenant, &actor, &file).await?;
    }
    // The acconto paid by F24 on its due date, once it is past: the
    // position shows it paid (the flows of the Agenzia delle Entrate).
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let (acconto, _) = palazzo_domain::tributi::imu::scadenze(year);
    if today > acconto {
        let p = app.imu_position(tenant.id, &actor, Some(a), year).await?;
        let righe = palazzo_domain::tributi::f24::da_imu(
            &p.calcolo,
            palazzo_domain::tributi::f24::Versamento::Acconto,
            tenant.data.codice_catastale.as_str(),
        );
        let rows: Vec<VersamentoRow> = righe
            .iter()
            .enumerate()
            .map(|(i, r)| VersamentoRow {
                line: 0,
                riferimento: format!("DEMO-F24-IMU-{year}-{}", i + 1),
                codice_fiscale: a.clone(),
                anno: year,
                codice_tributo: r.codice_tributo.clone(),
                data: acconto,
                importo: r.importo,
                ravvedimento: false,
            })
            .collect();
        import(app, tenant, &actor, &write_versamenti(&rows)).await?;
    }
    Ok(())
}

/// Loads a demo file, refusing any bad row (a bug of the demo data).
async fn import(app: &App, tenant: &Tenant, actor: &Actor, file: &str) -> ServiceResult<()> {
    let report = app
        .import_tributi(tenant.id, actor, file.as_bytes(), |_, _| {})
        .await?;
    if let Some(e) = report.errors.first() {
        return Err(ServiceError::Internal(format!(
            "demo taxes of {}: line {} refused ({}): {}",
            tenant.data.slug, e.line, e.code, e.message
        )));
    }
    Ok(())
}

/// The demo's TARI tariffs of `anno`: the domestic ones of the reference's
/// example (T-6: 3 occupants 0,4460 €/m² and 75,03 €), a few business
/// categories, TEFA 5%, two instalments, three reductions.
fn tariffe(anno: i16, numero: u32, scadenze: Vec<Date>) -> ServiceResult<TariffeTari> {
    let t = |s: &str| Tariffa::parse(s).map_err(|e| ServiceError::Internal(e.to_string()));
    let riduzione = |codice: &str, descrizione: &str, fissa, variabile| RiduzioneTari {
        codice: codice.to_owned(),
        riduzione: Riduzione {
            descrizione: descrizione.to_owned(),
            fissa,
            variabile,
        },
    };
    Ok(TariffeTari {
        anno,
        delibera: format!("Delibera C.C. n. {numero} del 30/04/{anno}"),
        domestiche: vec![
            (t("0,3650")?, t("40,12")?),
            (t("0,4200")?, t("62,50")?),
            (t("0,4460")?, t("75,03")?),
            (t("0,4700")?, t("90,00")?),
            (t("0,4900")?, t("110,00")?),
            (t("0,5100")?, t("125,00")?),
        ],
        non_domestiche: vec![
            (
                1,
                "Musei, biblioteche, scuole, associazioni, luoghi di culto".into(),
                t("0,4100")?,
                t("0,3800")?,
            ),
            (
                11,
                "Uffici, agenzie, studi professionali".into(),
                t("1,1200")?,
                t("1,0300")?,
            ),
            (
                13,
                "Negozi di beni durevoli".into(),
                t("1,2000")?,
                t("1,0500")?,
            ),
            (
                22,
                "Ristoranti, trattorie, pizzerie, pub".into(),
                t("3,9000")?,
                t("3,6000")?,
            ),
            (
                24,
                "Bar, caffè, pasticceria".into(),
                t("3,1000")?,
                t("2,8500")?,
            ),
        ],
        tefa: 500,
        scadenze,
        riduzioni: vec![
            riduzione(
                "compostaggio",
                "Compostaggio domestico (art. 22 del regolamento)",
                0,
                2_000,
            ),
            riduzione(
                "uso_stagionale",
                "Abitazione a uso stagionale (art. 23 del regolamento)",
                3_000,
                3_000,
            ),
            riduzione(
                "avvio_recupero",
                "Rifiuti urbani avviati al recupero in proprio (D.Lgs. 116/2020)",
                0,
                10_000,
            ),
        ],
    })
}

/// Seeds the TARI tariffs and utenze of `tenant`, once (nothing when the
/// comune already has TARI tariffs).
async fn seed_tari(app: &App, tenant: &Tenant, year: i16, actor: &Actor) -> ServiceResult<()> {
    if !app.db().tariffe_tari_all(tenant.id).await?.is_empty() {
        return Ok(());
    }
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let later = |days: i64| {
        today
            .checked_add(jiff::Span::new().days(days))
            .map_err(|e| ServiceError::Internal(e.to_string()))
    };
    let last = tariffe(
        year - 1,
        11,
        vec![date(year - 1, 5, 31), date(year - 1, 10, 31)],
    )?;
    let this = tariffe(year, 7, vec![later(31)?, later(122)?])?;
    for t in [last, this] {
        app.set_tari_tariffs(tenant.id, actor, t).await?;
    }
    let people = app.db().residents(tenant.id, 1).await?;
    let Some(first) = people.first() else {
        return Ok(());
    };
    let cf = &first.codice_fiscale;
    let row =
        |codice: &str, indirizzo: &str, catasto: &str, utenza, dal, riduzioni: &[&str]| UtenzaRow {
            line: 0,
            codice: codice.to_owned(),
            codice_fiscale: cf.clone(),
            indirizzo: indirizzo.to_owned(),
            catasto: catasto.to_owned(),
            utenza,
            dal,
            al: None,
            riduzioni: riduzioni.iter().map(|r| (*r).to_owned()).collect(),
        };
    let rows = vec![
        // The family home (3 people) with its garage, composting.
        row(
            "DEMO-TARI-1",
            "Via Roma 10",
            "F12 P345 S1-S2",
            Utenza::Domestica {
                occupanti: 3,
                superficie: 95,
                pertinenze: 18,
            },
            date(2012, 5, 4),
            &["compostaggio"],
        ),
        // Half a flat bought on 10 September, occupied from that day by
        // two people.
        row(
            "DEMO-TARI-2",
            "Corso Umberto 21",
            "F12 P345 S4",
            Utenza::Domestica {
                occupanti: 2,
                superficie: 80,
                pertinenze: 0,
            },
            date(year, 9, 10),
            &[],
        ),
    ];
    import(app, tenant, actor, &write_utenze(&rows)).await?;
    // Last year's first instalment paid by F24 on its due date, the second
    // not: the position shows it past due with the ravvedimento of today.
    let last = app
        .tari_position(tenant.id, actor, Some(cf), year - 1)
        .await?;
    if let Some(r) = last.rate.first() {
        let line = |n: usize, codice: &str, importo| VersamentoRow {
            line: 0,
            riferimento: format!("DEMO-F24-TARI-{}-{n}", year - 1),
            codice_fiscale: cf.clone(),
            anno: year - 1,
            codice_tributo: codice.to_owned(),
            data: r.scadenza,
            importo,
            ravvedimento: false,
        };
        let rows = vec![line(1, "3944", r.tari), line(2, "TEFA", r.tefa)];
        import(app, tenant, actor, &write_versamenti(&rows)).await?;
    }
    // Two TASI payments of 2019 (a flat let, "altri fabbricati"): the
    // read-only history of the years 2014-2019.
    let tasi = |n: usize, data, cents| VersamentoRow {
        line: 0,
        riferimento: format!("DEMO-F24-TASI-2019-{n}"),
        codice_fiscale: cf.clone(),
        anno: 2019,
        codice_tributo: "3961".into(),
        data,
        importo: Cents::from_cents(cents),
        ravvedimento: false,
    };
    let rows = vec![
        tasi(1, date(2019, 6, 17), 4_300),
        tasi(2, date(2019, 12, 16), 4_300),
    ];
    import(app, tenant, actor, &write_versamenti(&rows)).await?;
    Ok(())
}

/// Seeds this year's canone unico coefficients and the first resident's
/// occupations of `tenant`, once (nothing when the comune already has
/// coefficients).
async fn seed_canone(app: &App, tenant: &Tenant, year: i16, actor: &Actor) -> ServiceResult<()> {
    if !app.db().tariffe_canone_all(tenant.id).await?.is_empty() {
        return Ok(());
    }
    let today = palazzo_domain::calendar::rome_date(jiff::Timestamp::now());
    let later = |days: i64| {
        today
            .checked_add(jiff::Span::new().days(days))
            .map_err(|e| ServiceError::Internal(e.to_string()))
    };
    let zona = |codice: &str, descrizione: &str, c| ZonaCanone {
        codice: codice.into(),
        descrizione: descrizione.into(),
        coefficiente: Coefficiente(c),
    };
    let categoria = |codice: &str, descrizione: &str, p, t| CategoriaCanone {
        codice: codice.into(),
        descrizione: descrizione.into(),
        permanente: Coefficiente(p),
        temporanea: Coefficiente(t),
    };
    // A month and four months from the day the demo is built, like the
    // TARI's: its bills can always be issued.
    let scadenze = vec![later(31)?, later(122)?];
    app.set_canone_tariffs(
        tenant.id,
        actor,
        TariffeCanone {
            anno: year,
            delibera: format!("Delibera C.C. n. 5 del 30/03/{year}"),
            zone: vec![
                zona("1", "Centro storico", 1_200),
                zona("2", "Resto del territorio", 1_000),
            ],
            categorie: vec![
                categoria("passo_carrabile", "Passi carrabili", 420, 485),
                categoria("dehors", "Dehors e tavolini", 700, 808),
                categoria("ponteggio", "Ponteggi e cantieri", 280, 323),
            ],
            scadenze,
        },
    )
    .await?;
    let people = app.db().residents(tenant.id, 1).await?;
    let Some(first) = people.first() else {
        return Ok(());
    };
    // The dehors: a fortnight from three weeks from now (charged in the
    // year it begins).
    let start = later(20)?;
    let row = |codice: &str,
               descrizione: &str,
               indirizzo: &str,
               zona: &str,
               categoria: &str,
               permanente,
               superficie_cm2,
               dal,
               al,
               atto: &str| OccupazioneRow {
        line: 0,
        dati: DatiOccupazione {
            codice: codice.into(),
            codice_fiscale: first.codice_fiscale.clone(),
            descrizione: descrizione.into(),
            indirizzo: indirizzo.into(),
            zona: zona.into(),
            categoria: categoria.into(),
            permanente,
            superficie_cm2,
            dal,
            al,
            atto: atto.into(),
        },
    };
    let rows = vec![
        row(
            "DEMO-CUP-1",
            "Passo carrabile",
            "Via Roma 10",
            "2",
            "passo_carrabile",
            true,
            460,
            date(2012, 5, 4),
            None,
            "Concessione n. 31/2012",
        ),
        row(
            "DEMO-CUP-2",
            "Tavolini davanti al negozio",
            "Piazza Aldo Moro",
            "1",
            "dehors",
            false,
            1_230,
            start,
            Some(later(33)?),
            "Autorizzazione n. 41",
        ),
    ];
    import(app, tenant, actor, &write_occupazioni(&rows)).await
}
