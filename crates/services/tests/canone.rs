//! Canone unico patrimoniale (issue 7) on both backends: the coefficients
//! of a year with their delibera (checked, ledgered, verified); the
//! occupations file; a taxpayer's position — a permanent passo carrabile
//! by the year at Casamassima's standard tariff (19,200 inhabitants: 40 €
//! per m² a year, 0,70 € a day, L. 160/2019 cc.826-827) split over two
//! due dates, a temporary dehors by the day with its surface rounded up to
//! the half metre — computed by hand below; the permanent bill (rata unica
//! and instalments) and the temporary occupation's own notice with their
//! QR codes; an occupation whose category the coefficients lack is said
//! and never billed; a receipt marks a notice paid; the batch's
//! taxpayers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use jiff::civil::date;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::canone::{CategoriaCanone, Coefficiente, TariffeCanone, ZonaCanone};
use palazzo_services::access::Actor;
use palazzo_services::avvisi::EVENT_EMESSO;
use palazzo_services::canone::EVENT_TARIFFE_CANONE;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{PagopaEnte, StatoAvviso, Store, UserId};
use palazzo_testkit::{PgDatabase, TempDir};

fn funzionario() -> Actor {
    Actor {
        user: Some(UserId(1)),
        principal: Principal {
            grants: vec![Grant {
                role: Role::FunzionarioTributi,
                office: None,
            }],
        },
        name: Some("Test".into()),
        ..Default::default()
    }
}

fn operatore() -> Actor {
    Actor {
        user: Some(UserId(2)),
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: Some(1),
            }],
        },
        ..Default::default()
    }
}

fn code(e: ServiceError) -> &'static str {
    e.code()
}

/// Two zones, two categories (Ancona's coefficients), two due dates.
fn tariffe(anno: i16) -> TariffeCanone {
    TariffeCanone {
        anno,
        delibera: format!("Delibera C.C. n. 5 del 30/03/{anno}"),
        zone: vec![
            ZonaCanone {
                codice: "1".into(),
                descrizione: "Centro storico".into(),
                coefficiente: Coefficiente(1_200),
            },
            ZonaCanone {
                codice: "2".into(),
                descrizione: "Resto del territorio".into(),
                coefficiente: Coefficiente::UNO,
            },
            ZonaCanone {
                codice: "3".into(),
                descrizione: "Zona agricola".into(),
                coefficiente: Coefficiente(1),
            },
        ],
        categorie: vec![
            CategoriaCanone {
                codice: "passo_carrabile".into(),
                descrizione: "Passi carrabili".into(),
                permanente: Coefficiente(420),
                temporanea: Coefficiente(485),
            },
            CategoriaCanone {
                codice: "dehors".into(),
                descrizione: "Dehors".into(),
                permanente: Coefficiente(700),
                temporanea: Coefficiente(808),
            },
            CategoriaCanone {
                codice: "insegna".into(),
                descrizione: "Insegne a bandiera".into(),
                permanente: Coefficiente(250),
                temporanea: Coefficiente(250),
            },
        ],
        scadenze: vec![date(anno, 3, 31), date(anno, 7, 31)],
    }
}

fn person(surname: &str, name: &str) -> CodiceFiscale {
    CodiceFiscale::compute(
        surname,
        name,
        date(1975, 3, 3),
        Sex::M,
        &CodiceCatastale::parse("H501").unwrap(),
    )
}

async fn run(backend: Backend) {
    let dir = TempDir::new("canone");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("a.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let tn = app.create_tenant(tenant_fixture(1)).await.unwrap();
    assert_eq!(tn.data.population, 19_200);
    let org = tn.data.codice_fiscale.as_str().to_owned();
    let office = funzionario();
    // Next year: the due dates are in the future whenever the test runs.
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year() + 1;

    // The coefficients: only the office, with a delibera, from 2021,
    // within the bounds.
    let r = app
        .set_canone_tariffs(tn.id, &operatore(), tariffe(year))
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    let mut bad = tariffe(year);
    bad.delibera = " ".into();
    let r = app.set_canone_tariffs(tn.id, &office, bad).await;
    assert_eq!(r.map_err(code).unwrap_err(), "delibera_mancante");
    let r = app.set_canone_tariffs(tn.id, &office, tariffe(2020)).await;
    assert_eq!(r.map_err(code).unwrap_err(), "anno_non_valido");
    let mut bad = tariffe(year);
    bad.categorie[1].temporanea = Coefficiente(30_000);
    let r = app.set_canone_tariffs(tn.id, &office, bad).await;
    assert_eq!(r.map_err(code).unwrap_err(), "tributi_tariffe_canone");
    app.set_canone_tariffs(tn.id, &office, tariffe(year))
        .await
        .unwrap();
    app.set_canone_tariffs(tn.id, &office, tariffe(year))
        .await
        .unwrap();
    assert_eq!(
        app.canone_tariffs(tn.id, &office).await.unwrap()[0].tariffe,
        tariffe(year)
    );

    // The occupations: Mario's passo carrabile since 2020 and a dehors in
    // June; Anna's kiosk of a category the coefficients lack; a bad row.
    let (mario, anna, carla) = (
        person("Rossi", "Mario"),
        person("Bianchi", "Anna"),
        person("Verdi", "Carla"),
    );
    let file = format!(
        "codice;codice_fiscale;descrizione;indirizzo;zona;categoria;tipo;superficie;dal;al;atto\n\
         C1;{m};Passo carrabile;Via Roma 1;2;passo_carrabile;permanente;4,6;01/01/2020;;Concessione n. 3/2020\n\
         C2;{m};Tavolini del bar;Piazza Aldo Moro;1;dehors;temporanea;20,3;01/06/{year};30/06/{year};\n\
         C3;{a};Chiosco;Via Dante 5;2;chiosco;temporanea;6;01/09/{year};30/09/{year};\n\
         C4;{a};Chiosco;Via Dante 5;2;chiosco;temporanea;6;01/09/{year};;\n\
         C5;{a};Passo carrabile;Via Dante 7;2;passo_carrabile;permanente;10;01/09/{year};;\n\
         C6;{c};Insegna;Strada vicinale 1;3;insegna;permanente;1;01/01/2021;;\n",
        m = mario.as_str(),
        a = anna.as_str(),
        c = carla.as_str(),
    );
    let report = app
        .import_tributi(tn.id, &office, file.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        report.kind,
        palazzo_domain::tributi::import::FileKind::Occupazioni
    );
    assert_eq!(report.saved, 5);
    assert_eq!(
        report
            .errors
            .iter()
            .map(|e| (e.line, e.code))
            .collect::<Vec<_>>(),
        vec![(5, "occupazione_temporanea_non_valida")]
    );
    app.import_tributi(tn.id, &office, file.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        app.db().occupazioni_of(tn.id, &mario).await.unwrap().len(),
        2
    );

    // Mario's canone, by hand: the passo carrabile 4,6 m² → 5 m², 40 €
    // × 1,000 × 0,420 × 5 = 84,00 for the year, 42,00 on each due date;
    // the dehors 20,3 m² → 20,5 m², 0,70 € × 1,200 × 0,808 × 20,5 × 30
    // days = 417,4128 → 417,41, due on its first day.
    let p = app
        .canone_position(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    let importi: Vec<i64> = p
        .occupazioni
        .iter()
        .map(|o| o.calcolo.as_ref().unwrap().importo.cents())
        .collect();
    assert_eq!(importi, vec![8_400, 41_741]);
    assert_eq!(
        (p.permanenti, p.temporanee, p.totale),
        (
            Cents::from_cents(8_400),
            Cents::from_cents(41_741),
            Cents::from_cents(50_141)
        )
    );
    let rate: Vec<(&str, jiff::civil::Date, i64)> = p
        .rate
        .iter()
        .map(|r| (r.versamento.as_str(), r.scadenza, r.importo.cents()))
        .collect();
    let dehors = format!("occupazione-C2-{year}0601");
    assert_eq!(
        rate,
        vec![
            ("rata-1", date(year, 3, 31), 4_200),
            (dehors.as_str(), date(year, 6, 1), 41_741),
            ("rata-2", date(year, 7, 31), 4_200),
        ]
    );
    assert!(
        p.occupazioni[1].calcolo.as_ref().unwrap().passaggi[1].contains("30 giorni"),
        "{:?}",
        p.occupazioni[1].calcolo
    );
    assert_eq!(p.situazione.residuo, Cents::from_cents(50_141));
    // Anna's kiosk: said, not charged. Her passo carrabile begins on 1
    // September: its first year (122 days of the year's 365 or 366, 40 €
    // × 0,420 × 10 m²) is due on that day by a notice of its own, not
    // spread over due dates already past.
    let pa = app
        .canone_position(tn.id, &office, Some(&anna), year)
        .await
        .unwrap();
    assert!(pa.incompleta());
    assert!(
        pa.occupazioni[0]
            .nota
            .as_deref()
            .is_some_and(|n| n.contains("«chiosco»")),
        "{:?}",
        pa.occupazioni[0]
    );
    let days = if jiff::civil::Date::new(year, 2, 29).is_ok() {
        366
    } else {
        365
    };
    // 168,00 × 122 / days, to the cent (half up).
    let first_year = (16_800 * 122 * 2 + days) / (2 * days);
    assert_eq!(pa.totale, Cents::from_cents(first_year));
    let own = format!("occupazione-C5-{year}0901");
    let rate: Vec<(&str, jiff::civil::Date)> = pa
        .rate
        .iter()
        .map(|r| (r.versamento.as_str(), r.scadenza))
        .collect();
    assert_eq!(rate, vec![(own.as_str(), date(year, 9, 1))]);
    assert!(pa.rate[0].etichetta.contains("primo anno"), "{:?}", pa.rate);
    // A year without coefficients: the occupations, no figures.
    let none = app
        .canone_position(tn.id, &office, Some(&mario), year + 1)
        .await
        .unwrap();
    assert!(none.tariffe.is_none() && none.rate.is_empty());
    // An operator sees nobody's canone.
    let r = app
        .canone_position(tn.id, &operatore(), Some(&mario), year)
        .await;
    assert!(r.is_err());

    // The bills need the comune's pagoPA data.
    let r = app
        .canone_avviso(tn.id, &office, Some(&mario), year, None)
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "pagopa_non_configurato");
    app.set_pagopa_ente(
        tn.id,
        &office,
        PagopaEnte {
            segregazione: 2,
            cbill: "ABC12".into(),
            iban: "IT60X0542811101000000123456".into(),
            conto_postale: None,
            intestatario: None,
            tefa: None,
        },
    )
    .await
    .unwrap();

    // The permanent occupations' bill: rata unica of 84,00 on the first
    // due date, then the two instalments; their QR codes in the PDF.
    let bill = app
        .canone_avviso(tn.id, &office, Some(&mario), year, None)
        .await
        .unwrap();
    assert!(bill.emessa);
    let v: Vec<(&str, i64, jiff::civil::Date)> = bill
        .avvisi
        .iter()
        .map(|a| {
            (
                a.data.versamento.as_str(),
                a.data.importo.cents(),
                a.data.scadenza,
            )
        })
        .collect();
    assert_eq!(
        v,
        vec![
            ("unica", 8_400, date(year, 3, 31)),
            ("rata-1", 4_200, date(year, 3, 31)),
            ("rata-2", 4_200, date(year, 7, 31)),
        ]
    );
    assert!(bill.avvisi.iter().all(|a| a.data.tributo == "CANONE"));
    let qr: BTreeSet<String> = palazzo_testkit::pdf_qr_codes(&bill.pdf)
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = bill
        .avvisi
        .iter()
        .map(|a| {
            format!(
                "PAGOPA|002|{}|{org}|{}",
                a.codice_avviso,
                a.data.importo.cents()
            )
        })
        .collect();
    assert_eq!(qr, expected);
    // Asked again: the same notices.
    let again = app
        .canone_avviso(tn.id, &office, Some(&mario), year, None)
        .await
        .unwrap();
    assert!(!again.emessa);
    assert_eq!(
        again.avvisi.iter().map(|a| a.id).collect::<Vec<_>>(),
        bill.avvisi.iter().map(|a| a.id).collect::<Vec<_>>()
    );

    // The dehors' own notice: 417,41 due on its first day.
    let temp = app
        .canone_avviso(tn.id, &office, Some(&mario), year, Some(&dehors))
        .await
        .unwrap();
    assert_eq!(temp.avvisi.len(), 1);
    let t0 = &temp.avvisi[0];
    assert_eq!(
        (t0.data.importo.cents(), t0.data.scadenza),
        (41_741, date(year, 6, 1))
    );
    assert_eq!(
        palazzo_testkit::pdf_qr_codes(&temp.pdf),
        vec![format!("PAGOPA|002|{}|{org}|41741", t0.codice_avviso)]
    );
    // Somebody else's occupation, or one that does not exist: not found.
    let r = app
        .canone_avviso(tn.id, &office, Some(&anna), year, Some(&dehors))
        .await;
    assert!(matches!(r, Err(ServiceError::NotFound)));
    // The kiosk cannot be billed: its category is missing.
    let kiosk = format!("occupazione-C3-{year}0901");
    let r = app
        .canone_avviso(tn.id, &office, Some(&anna), year, Some(&kiosk))
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "coefficienti_mancanti");

    // Anna's first year: its own notice; no yearly bill.
    let first = app
        .canone_avviso(tn.id, &office, Some(&anna), year, Some(&own))
        .await
        .unwrap();
    assert_eq!(
        (first.avvisi.len(), first.avvisi[0].data.importo.cents()),
        (1, first_year)
    );
    let r = app
        .canone_avviso(tn.id, &office, Some(&anna), year, None)
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "nulla_da_versare");
    // Carla's sign of one cent a year (40 € × 0,001 × 0,250 × 1 m²): two
    // instalments would be one cent and nothing, so the rata unica only.
    let tiny = app
        .canone_avviso(tn.id, &office, Some(&carla), year, None)
        .await
        .unwrap();
    let v: Vec<(&str, i64)> = tiny
        .avvisi
        .iter()
        .map(|a| (a.data.versamento.as_str(), a.data.importo.cents()))
        .collect();
    assert_eq!(v, vec![("unica", 1)]);

    // The dehors is paid: the position says so, the rest remains.
    let paid = app
        .record_avviso_payment(
            tn.id,
            &office,
            &t0.codice_avviso,
            "2026-05-20T10:00:00Z".parse().unwrap(),
            "RIC-1",
        )
        .await
        .unwrap();
    assert_eq!(paid.stato, StatoAvviso::Pagato);
    let p = app
        .canone_position(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert_eq!(
        (p.situazione.pagato, p.situazione.residuo),
        (Cents::from_cents(41_741), Cents::from_cents(8_400))
    );
    // The dehors' notice covers the dehors, not the older instalment.
    let open: Vec<i64> = p
        .situazione
        .rate
        .iter()
        .map(|r| r.residuo.cents())
        .collect();
    assert_eq!(open, vec![4_200, 0, 4_200]);
    // A paid notice is kept even when asked again.
    let kept = app
        .canone_avviso(tn.id, &office, Some(&mario), year, Some(&dehors))
        .await
        .unwrap();
    assert_eq!(kept.avvisi[0].id, t0.id);

    // The batch's taxpayers: those with a permanent occupation.
    let mut expected = vec![mario.clone(), anna.clone(), carla.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(
        app.canone_taxpayers(tn.id, &office, year).await.unwrap(),
        expected
    );
    let batch = app
        .canone_bill_for(tn.id, &office, &mario, year, false)
        .await
        .unwrap();
    assert!(!batch.emessa && batch.pdf.is_empty());

    // The ledger: the coefficients once, four notices.
    let kinds: Vec<String> = app
        .db()
        .ledger_events(tn.id, 0, u64::MAX / 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!((count(EVENT_TARIFFE_CANONE), count(EVENT_EMESSO)), (1, 6));
    app.checkpoint_all().await.unwrap();
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    // A coefficient changed behind Palazzo's back is named.
    let mut changed = tariffe(year);
    changed.zone[0].coefficiente = Coefficiente(500);
    let tampered = serde_json::to_string(&changed).unwrap();
    app.db()
        .execute_raw(&format!(
            "UPDATE tributi_tariffe_canone SET tariffe = '{tampered}' WHERE tenant_id = {}",
            tn.id.0
        ))
        .await
        .unwrap();
    let problems = verify(app.db(), &keys).await.unwrap().problems;
    let subject = format!("tariffe-canone:{year}");
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::RecordAltered { subject: s, .. } if *s == subject)),
        "{problems:?}"
    );
    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn canone_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn canone_postgres() {
    run(Backend::Postgres).await;
}
