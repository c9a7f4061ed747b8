//! pagoPA notices of the IMU (issue 7, part 4) on both backends, against
//! the local GPD simulator: a notice is refused until the comune enters its
//! pagoPA data; issued, it carries a valid codice avviso whose QR code
//! (read by zbarimg from the rendered PDF) holds the codice, the comune's
//! codice fiscale and the amount; asking again gives the same notice; its
//! debt position is on GPD; a payment made on pagoPA (the simulator's) is
//! read back and marks it paid in the position and the ledger; a changed
//! amount annuls the old notice; no two notices share an IUV; a stored
//! amount changed behind Palazzo's back is named by `palazzo verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::date;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_domain::money::Cents;
use palazzo_domain::pagopa::CodiceAvviso;
use palazzo_domain::tributi::Aliquota;
use palazzo_domain::tributi::f24::Versamento;
use palazzo_domain::tributi::imu::Aliquote;
use palazzo_services::access::Actor;
use palazzo_services::avvisi::{EVENT_ANNULLATO, EVENT_EMESSO, EVENT_PAGATO};
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::pagopa::gpd::GpdClient;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{PagopaEnte, StatoAvviso, Store, UserId};
use palazzo_testkit::gpd::GpdSimulator;
use palazzo_testkit::{PgDatabase, TempDir};
use serde_json::json;

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

fn code(e: ServiceError) -> &'static str {
    e.code()
}

async fn run(backend: Backend) {
    let dir = TempDir::new("avvisi");
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
    let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let org = t.data.codice_fiscale.as_str().to_owned();
    let office = funzionario();
    let mario = CodiceFiscale::compute(
        "Rossi",
        "Mario",
        date(1970, 5, 12),
        Sex::M,
        &CodiceCatastale::parse("H501").unwrap(),
    );
    // An A/2 all year: 168.000 € of base; the year at 10,6‰ = 1.780,80 →
    // 1.781 €; acconto at the year before's 9,6‰ 806,40 → 806 €; saldo
    // 975 €.
    let person = |surname: &str, name: &str| {
        CodiceFiscale::compute(
            surname,
            name,
            date(1980, 1, 1),
            Sex::F,
            &CodiceCatastale::parse("H501").unwrap(),
        )
    };
    let (anna, luca) = (person("Bianchi", "Anna"), person("Verdi", "Lucia"));
    // The same A/2 three times, one each.
    app.import_tributi(
        t.id,
        &office,
        b"codice;foglio;particella;subalterno;indirizzo;tipo;categoria;valore;dal\n\
          U1;1;1;1;Via Roma 1;fabbricato;A/2;1.000,00;\n\
          U2;1;1;2;Via Roma 1;fabbricato;A/2;1.000,00;\n\
          U3;1;1;3;Via Roma 1;fabbricato;A/2;1.000,00;\n",
        |_, _| {},
    )
    .await
    .unwrap();
    let titles = format!(
        "codice_unita;codice_fiscale;dal;al;quota;condizione;condizione_dal;condizione_al;residenti\n\
         U1;{};01/01/2010;;100;;;;\n\
         U2;{};01/01/2010;;100;;;;\n\
         U3;{};01/01/2010;;100;;;;\n",
        mario.as_str(),
        anna.as_str(),
        luca.as_str()
    );
    app.import_tributi(t.id, &office, titles.as_bytes(), |_, _| {})
        .await
        .unwrap();
    // Next year: its due dates are in the future whenever the test runs
    // (pagoPA takes no debt due in the past).
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year() + 1;
    let rates = |anno, altri| Aliquote {
        anno,
        delibera: format!("Delibera C.C. n. 1/{anno}"),
        altri_fabbricati: Aliquota(altri),
        ..Aliquote::di_base(anno)
    };
    app.set_imu_rates(t.id, &office, rates(year - 1, 960))
        .await
        .unwrap();
    app.set_imu_rates(t.id, &office, rates(year, 1060))
        .await
        .unwrap();

    // No pagoPA data yet: the F24 only.
    let r = app
        .imu_avviso(t.id, &office, Some(&mario), year, Versamento::Acconto)
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "pagopa_non_configurato");
    let ente = PagopaEnte {
        segregazione: 1,
        cbill: "abc12".into(),
        iban: "IT60 X054 2811 1010 0000 0123 456".into(),
        conto_postale: None,
        intestatario: None,
        tefa: None,
    };
    for (bad, expected) in [
        (
            PagopaEnte {
                cbill: "AB".into(),
                ..ente.clone()
            },
            "cbill_non_valido",
        ),
        (
            PagopaEnte {
                iban: "DE89370400440532013000".into(),
                ..ente.clone()
            },
            "iban_non_valido",
        ),
        (
            PagopaEnte {
                segregazione: 100,
                ..ente.clone()
            },
            "segregazione_non_valida",
        ),
    ] {
        let r = app.set_pagopa_ente(t.id, &office, bad).await;
        assert_eq!(r.map_err(code).unwrap_err(), expected);
    }
    let r = app
        .set_pagopa_ente(t.id, &staff_operatore(), ente.clone())
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    app.set_pagopa_ente(t.id, &office, ente).await.unwrap();
    let stored = app.db().pagopa_ente(t.id).await.unwrap().unwrap();
    assert_eq!(stored.cbill, "ABC12");
    assert_eq!(stored.iban, "IT60X0542811101000000123456");

    let mut gpd = GpdSimulator::start();
    app.set_gpd(Some(
        GpdClient::new(&gpd.base_url(), &gpd.api_key, Duration::from_secs(20)).unwrap(),
    ));

    // The acconto's notice: 806 €, a valid codice with segregation code 01,
    // its QR code as the pagoPA guidelines write it, published on GPD.
    let acconto = app
        .imu_avviso(t.id, &office, Some(&mario), year, Versamento::Acconto)
        .await
        .unwrap();
    let a = &acconto.avviso;
    assert_eq!(a.data.importo, Cents::from_cents(80_600));
    assert_eq!(
        a.data.scadenza,
        palazzo_domain::tributi::imu::scadenze(year).0
    );
    assert_eq!(a.stato, StatoAvviso::Emesso);
    assert_eq!(a.codice_avviso.segregazione(), Some(1));
    let codice = a.codice_avviso.to_string();
    assert_eq!(CodiceAvviso::parse(&codice).unwrap(), a.codice_avviso);
    let qr = palazzo_testkit::pdf_qr_codes(&acconto.pdf);
    assert_eq!(qr, [format!("PAGOPA|002|{codice}|{org}|80600")]);
    let iupd = a.iupd.clone().expect("published on GPD");
    let position = GpdClient::new(&gpd.base_url(), &gpd.api_key, Duration::from_secs(20))
        .unwrap()
        .get_position(&org, &iupd)
        .await
        .unwrap();
    assert_eq!(
        position.payment_option[0].nav.as_deref(),
        Some(codice.as_str())
    );
    assert_eq!(
        position.payment_option[0].amount,
        Some(Cents::from_cents(80_600))
    );

    // Asking again: the same notice, no new IUV.
    let again = app
        .imu_avviso(t.id, &office, Some(&mario), year, Versamento::Acconto)
        .await
        .unwrap();
    assert_eq!(again.avviso.id, a.id);
    // The saldo is another notice, with the next IUV.
    let saldo = app
        .imu_avviso(t.id, &office, Some(&mario), year, Versamento::Saldo)
        .await
        .unwrap();
    assert_eq!(saldo.avviso.data.importo, Cents::from_cents(97_500));
    assert_eq!(saldo.avviso.iuv_base, a.iuv_base + 1);

    // Paid on pagoPA: the simulator's payment, read back from GPD.
    let paid_at = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let (status, body) = gpd
        .pay(
            &org,
            &codice,
            json!({"paymentDate": paid_at.to_string(), "idReceipt": "RICEVUTA-1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.sync_gpd_payments(t.id, &office).await.unwrap(), 1);
    assert_eq!(app.sync_gpd_payments(t.id, &office).await.unwrap(), 0);
    let p = app
        .imu_position(t.id, &office, Some(&mario), year)
        .await
        .unwrap();
    let paid = p
        .avvisi
        .iter()
        .find(|x| x.codice_avviso == a.codice_avviso)
        .unwrap();
    assert_eq!(paid.stato, StatoAvviso::Pagato);
    assert_eq!(paid.ricevuta.as_deref(), Some("RICEVUTA-1"));
    assert_eq!(paid.pagato_il, Some(paid_at));
    // A paid notice is given back as it is.
    let again = app
        .imu_avviso(t.id, &office, Some(&mario), year, Versamento::Acconto)
        .await
        .unwrap();
    assert_eq!(again.avviso.stato, StatoAvviso::Pagato);

    // A payment the office records: once; another receipt is refused.
    let when: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
    let s = &saldo.avviso.codice_avviso;
    let recorded = app
        .record_avviso_payment(t.id, &office, s, when, "BONIFICO-7")
        .await
        .unwrap();
    assert_eq!(recorded.stato, StatoAvviso::Pagato);
    app.record_avviso_payment(t.id, &office, s, when, "BONIFICO-7")
        .await
        .unwrap();
    let r = app
        .record_avviso_payment(t.id, &office, s, when, "ALTRA")
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "avviso_gia_pagato");
    let r = app
        .record_avviso_payment(t.id, &staff_operatore(), s, when, "X")
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));

    // The year is paid in one payment or in two, never both ways.
    let r = app
        .imu_avviso(
            t.id,
            &office,
            Some(&mario),
            year,
            Versamento::UnicaSoluzione,
        )
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "versamento_incompatibile");

    // Anna's single payment, then the rates change: the old notice is
    // annulled (its GPD position invalidated first), a new one issued.
    let unica = app
        .imu_avviso(t.id, &office, Some(&anna), year, Versamento::UnicaSoluzione)
        .await
        .unwrap();
    let r = app
        .imu_avviso(t.id, &office, Some(&anna), year, Versamento::Acconto)
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "versamento_incompatibile");
    assert_eq!(unica.avviso.data.importo, Cents::from_cents(178_100));
    app.set_imu_rates(t.id, &office, rates(year, 1000))
        .await
        .unwrap();
    let changed = app
        .imu_avviso(t.id, &office, Some(&anna), year, Versamento::UnicaSoluzione)
        .await
        .unwrap();
    assert_ne!(changed.avviso.codice_avviso, unica.avviso.codice_avviso);
    // 168.000 × 10‰ = 1.680 €.
    assert_eq!(changed.avviso.data.importo, Cents::from_cents(168_000));
    let old = app
        .db()
        .avviso_by_codice(t.id, &unica.avviso.codice_avviso.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.stato, StatoAvviso::Annullato);
    let invalidated = GpdClient::new(&gpd.base_url(), &gpd.api_key, Duration::from_secs(20))
        .unwrap()
        .get_position(&org, old.iupd.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        invalidated.status,
        Some(palazzo_services::pagopa::gpd::DebtPositionStatus::Invalid)
    );

    // Two requests at once (a double click) give one notice.
    let (x, y2) = tokio::join!(
        app.imu_avviso(t.id, &office, Some(&luca), year, Versamento::Acconto),
        app.imu_avviso(t.id, &office, Some(&luca), year, Versamento::Acconto)
    );
    assert_eq!(
        x.unwrap().avviso.codice_avviso,
        y2.unwrap().avviso.codice_avviso
    );
    let r = app
        .record_avviso_payment(t.id, &office, &old.codice_avviso, when, "TARDI")
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "avviso_annullato");

    // No two notices share an IUV.
    let all = app
        .db()
        .avvisi_page(t.id, palazzo_store::AvvisoId(0), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    let ivus: BTreeSet<String> = all.iter().map(|a| a.codice_avviso.iuv()).collect();
    assert_eq!(ivus.len(), all.len());

    // The ledger: issued 5 (one annulled), paid 2.
    let kinds: Vec<String> = app
        .db()
        .ledger_events(t.id, 0, u64::MAX / 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(
        (
            count(EVENT_EMESSO),
            count(EVENT_ANNULLATO),
            count(EVENT_PAGATO)
        ),
        (5, 1, 2)
    );
    app.checkpoint_all().await.unwrap();
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.db()
        .execute_raw(&format!(
            "UPDATE tributi_avvisi SET importo = 100 WHERE tenant_id = {} AND codice_avviso = '{}'",
            t.id.0, codice
        ))
        .await
        .unwrap();
    let problems = verify(app.db(), &keys).await.unwrap().problems;
    let subject = format!("avviso:{codice}");
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::RecordAltered { subject: s, .. } if *s == subject)),
        "{problems:?}"
    );
    gpd.assert_no_contract_violation();
    gpd.stop();

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

fn staff_operatore() -> Actor {
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

#[tokio::test]
async fn avvisi_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn avvisi_postgres() {
    run(Backend::Postgres).await;
}
