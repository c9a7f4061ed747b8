//! Local taxes in the services layer (issue 7) on both backends: the
//! units and titolarità files are loaded with a report of the bad rows and
//! reloaded without doubling; the IMU rates of a year are entered with
//! their delibera, checked against the law's ranges and ledgered (a stored
//! rate changed behind Palazzo's back is named by `palazzo verify`); a
//! taxpayer with units bought and sold during the year gets the exact
//! acconto and saldo, computed by hand below; a citizen sees only their
//! own position, the funzionario anyone's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::Aliquota;
use palazzo_domain::tributi::f24::Versamento;
use palazzo_domain::tributi::import::FileKind;
use palazzo_domain::tributi::imu::{Aliquote, CodiceTributo};
use palazzo_services::access::{Actor, VerifiedIdentity};
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::tributi::EVENT_ALIQUOTE_IMU;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{Store, TenantId, UserId};
use palazzo_testkit::{PgDatabase, TempDir};

fn staff(role: Role) -> Actor {
    Actor {
        user: Some(UserId(1)),
        principal: Principal {
            grants: vec![Grant { role, office: None }],
        },
        name: Some(format!("Test {}", role.code())),
        ..Default::default()
    }
}

fn cf(surname: &str, name: &str, sex: Sex, birth: Date) -> CodiceFiscale {
    CodiceFiscale::compute(
        surname,
        name,
        birth,
        sex,
        &CodiceCatastale::parse("H501").unwrap(),
    )
}

async fn citizen(app: &App, t: TenantId, who: &CodiceFiscale) -> Actor {
    let user = app
        .record_sign_in(
            t,
            &VerifiedIdentity {
                provider: "spid".into(),
                issuer: "https://idp.example".into(),
                subject: who.as_str().into(),
                acr: Some("https://www.spid.gov.it/SpidL2".into()),
                codice_fiscale: Some(who.clone()),
                given_name: "X".into(),
                family_name: "Y".into(),
                birth_date: None,
                birth_place: None,
                email: None,
                phone: None,
            },
        )
        .await
        .unwrap();
    Actor {
        user: Some(user.id),
        principal: Principal {
            grants: vec![Grant {
                role: Role::Cittadino,
                office: None,
            }],
        },
        name: Some("Y".into()),
        ..Default::default()
    }
}

fn rates(anno: i16, altri: u32) -> Aliquote {
    Aliquote {
        anno,
        delibera: format!("Delibera C.C. n. 7 del 30/03/{anno}"),
        abitazione_principale: Aliquota(600),
        detrazione: Cents::from_cents(20_000),
        altri_fabbricati: Aliquota(altri),
        ..Aliquote::di_base(anno)
    }
}

fn code(e: ServiceError) -> &'static str {
    e.code()
}

const UNITA: &str = "codice;foglio;particella;subalterno;indirizzo;tipo;categoria;valore;dal
F1-P1-S1;1;1;1;Via Roma 1;fabbricato;A/2;1.000,00;
F1-P1-S2;1;1;2;Via Roma 1;fabbricato;C/6;100,00;
F1-P2-S1;1;2;1;Viale dei Tigli 3;fabbricato;A/1;2.000,00;
F9-P9;9;9;;;fabbricato;X/1;5;
";

async fn run(backend: Backend) {
    let dir = TempDir::new("tributi");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("t.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let other = app.create_tenant(tenant_fixture(2)).await.unwrap();
    let ufficio = staff(Role::FunzionarioTributi);
    let mario = cf("Rossi", "Mario", Sex::M, date(1970, 5, 12));
    let anna = cf("Bianchi", "Anna", Sex::F, date(1972, 8, 3));

    // Only the funzionario loads the data.
    for role in [Role::Operatore, Role::AdminComune, Role::Cittadino] {
        let r = app
            .import_tributi(t.id, &staff(role), UNITA.as_bytes(), |_, _| {})
            .await;
        assert!(matches!(r, Err(ServiceError::Forbidden)), "{role}: {r:?}");
    }
    let r = app
        .import_tributi(t.id, &ufficio, b"codice;denominazione\n1;x\n", |_, _| {})
        .await;
    assert_eq!(
        r.map_err(code).unwrap_err(),
        "intestazione_non_riconosciuta"
    );

    // Units: the good rows saved, the bad one reported with its line.
    let calls = std::sync::Mutex::new(Vec::new());
    let report = app
        .import_tributi(t.id, &ufficio, UNITA.as_bytes(), |d, n| {
            calls.lock().unwrap().push((d, n));
        })
        .await
        .unwrap();
    assert_eq!(report.kind, FileKind::Unita);
    assert_eq!(report.saved, 3);
    assert_eq!(
        report
            .errors
            .iter()
            .map(|e| (e.line, e.code))
            .collect::<Vec<_>>(),
        [(5, "categoria_non_valida")]
    );
    assert_eq!(calls.into_inner().unwrap(), [(3, 3)]);
    assert!(
        app.db()
            .tributi_unita_by_codice(other.id, "F1-P1-S1")
            .await
            .unwrap()
            .is_none()
    );

    // Titolarità: Mario holds the A/2 all year; buys half the garage on
    // 16 March (16 of 31 days: March is his) and sells it with a deed of
    // 15 September (his last day the 14th: 14 of 30 days, September is
    // the buyer's); lives in the A/1 he owns half of with Anna, both
    // resident there. A row on a unit not loaded is refused.
    let titolarita = format!(
        "codice_unita;codice_fiscale;dal;al;quota;condizione;condizione_dal;condizione_al;residenti
F1-P1-S1;{m};01/01/2015;;100;;;;
F1-P1-S2;{m};16/03/2026;14/09/2026;1/2;;;;
F1-P2-S1;{m};01/06/2010;;50%;abitazione_principale;;;2
F1-P2-S1;{a};01/06/2010;;50%;abitazione_principale;;;2
F7-P7;{m};01/01/2020;;1/1;;;;
",
        m = mario.as_str(),
        a = anna.as_str()
    );
    let report = app
        .import_tributi(t.id, &ufficio, titolarita.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.kind, FileKind::Titolarita);
    assert_eq!(report.saved, 4);
    assert_eq!(
        report
            .errors
            .iter()
            .map(|e| (e.line, e.code))
            .collect::<Vec<_>>(),
        [(6, "unita_sconosciuta")]
    );
    // Loading it again replaces, never doubles.
    app.import_tributi(t.id, &ufficio, titolarita.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(app.db().titolarita_of(t.id, &mario).await.unwrap().len(), 3);

    // Rates: only the funzionario, with a delibera, within the law.
    let r = app
        .set_imu_rates(t.id, &staff(Role::Dirigente), rates(2026, 1060))
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    let mut no_delibera = rates(2026, 1060);
    no_delibera.delibera = "  ".into();
    let r = app.set_imu_rates(t.id, &ufficio, no_delibera).await;
    assert_eq!(r.map_err(code).unwrap_err(), "delibera_mancante");
    let r = app.set_imu_rates(t.id, &ufficio, rates(2026, 1200)).await;
    assert_eq!(r.map_err(code).unwrap_err(), "tributi_aliquota_fuori_range");
    let r = app.set_imu_rates(t.id, &ufficio, rates(2019, 1060)).await;
    assert_eq!(r.map_err(code).unwrap_err(), "tributi_anno");

    // Before any rate is entered, the law's base rates, said so.
    let p = app
        .imu_position(t.id, &ufficio, Some(&mario), 2026)
        .await
        .unwrap();
    assert!(p.aliquote_di_base);
    assert!(
        p.calcolo.note[0].contains("aliquote di base"),
        "{:?}",
        p.calcolo.note
    );

    let events = |t: TenantId| {
        let app = app.clone();
        async move {
            app.db()
                .ledger_events(t, 0, u64::MAX / 2)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.kind == EVENT_ALIQUOTE_IMU)
                .count()
        }
    };
    app.set_imu_rates(t.id, &ufficio, rates(2025, 960))
        .await
        .unwrap();
    let saved = app
        .set_imu_rates(t.id, &ufficio, rates(2026, 1060))
        .await
        .unwrap();
    assert_eq!(saved.updated_by, "user:1");
    assert_eq!(events(t.id).await, 2);
    // The same rates again write nothing.
    app.set_imu_rates(t.id, &ufficio, rates(2026, 1060))
        .await
        .unwrap();
    assert_eq!(events(t.id).await, 2);
    assert_eq!(
        app.imu_rates(t.id, &ufficio)
            .await
            .unwrap()
            .iter()
            .map(|r| r.aliquote.anno)
            .collect::<Vec<_>>(),
        [2026, 2025]
    );
    assert!(matches!(
        app.imu_rates(t.id, &staff(Role::Operatore)).await,
        Err(ServiceError::Forbidden)
    ));

    // Mario's 2026, by hand (L. 160/2019; 2025 rates for the acconto):
    // A/2: base 1.000 × 1,05 × 160 = 168.000 €; year 10,6‰ = 1.780,80;
    //      first half at 9,6‰ = 806,40.
    // C/6: base 100 × 1,05 × 160 = 16.800 €, ½, March–August (6 months):
    //      year 16.800 × 10,6‰ × 6/12 × ½ = 44,52; January–June holds
    //      March–June (4 months) at 9,6‰: 16.800 × 9,6‰ × 4/12 × ½ = 26,88.
    // 3918: year 1.825,32 → 1.825 €; acconto 833,28 → 833 €; saldo 992 €.
    // A/1 abitazione principale: base 2.000 × 1,05 × 160 = 336.000 €, ½,
    //      6‰ = 1.008,00; detrazione 200 € ÷ 2 residents = 100 €: 908,00;
    //      first half 504,00 − 50,00 = 454,00. 3912: acconto 454, saldo 454.
    let p = app
        .imu_position(t.id, &ufficio, Some(&mario), 2026)
        .await
        .unwrap();
    assert!(!p.aliquote_di_base);
    assert_eq!(p.unita.len(), 3);
    let line = |c: CodiceTributo| p.calcolo.righe.iter().find(|r| r.codice == c).unwrap();
    let altri = line(CodiceTributo::AltriFabbricati);
    assert_eq!(altri.annuo, Cents::from_cents(182_532));
    assert_eq!(altri.acconto_calcolato, Cents::from_cents(83_328));
    assert_eq!(altri.acconto, Cents::from_cents(83_300));
    assert_eq!(altri.saldo, Cents::from_cents(99_200));
    assert_eq!(altri.numero_immobili, 2);
    assert!(altri.immobili_variati);
    let ap = line(CodiceTributo::AbitazionePrincipale);
    assert_eq!(ap.annuo, Cents::from_cents(90_800));
    assert_eq!(ap.detrazione, Cents::from_cents(10_000));
    assert_eq!(ap.acconto, Cents::from_cents(45_400));
    assert_eq!(ap.saldo, Cents::from_cents(45_400));
    assert_eq!(p.calcolo.acconto, Cents::from_cents(128_700));
    assert_eq!(p.calcolo.saldo, Cents::from_cents(144_600));
    // Nothing paid yet: the acconto (16/06/2026) is past due, with the
    // ravvedimento of today.
    assert_eq!(p.situazione.dovuto, Cents::from_cents(128_700 + 144_600));
    assert!(p.situazione.rate[0].scaduta);
    let flow = |rows: &str| {
        format!("riferimento;codice_fiscale;anno;codice_tributo;data;importo;ravvedimento\n{rows}")
    };
    // 1.000 € of the acconto on time, the other 287 € a month late with
    // the ravvedimento (I-16's band: 1,25% = 3,59; interest at 1,60% for
    // 30 days = 0,38): 290,97.
    let first = flow(&format!(
        "AE-1;{m};2026;3918;16/06/2026;1000,00;\nAE-2;{m};2025;3918;16/06/2025;10,00;\n",
        m = mario.as_str()
    ));
    let r = app
        .import_tributi(t.id, &ufficio, first.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!((r.kind, r.saved), (FileKind::Versamenti, 2));
    let p = app
        .imu_position(t.id, &ufficio, Some(&mario), 2026)
        .await
        .unwrap();
    let acconto = &p.situazione.rate[0];
    assert_eq!(acconto.dovuto.etichetta, "Acconto");
    assert_eq!(acconto.pagato, Cents::from_cents(100_000));
    assert_eq!(acconto.residuo, Cents::from_cents(28_700));
    let rv = acconto.ravvedimento.as_ref().expect("past due");
    assert_eq!(rv.imposta, Cents::from_cents(28_700));
    assert!(rv.totale > rv.imposta);
    let late = flow(&format!(
        "AE-3;{m};2026;3918;16/07/2026;290,97;si\n",
        m = mario.as_str()
    ));
    app.import_tributi(t.id, &ufficio, late.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let p = app
        .imu_position(t.id, &ufficio, Some(&mario), 2026)
        .await
        .unwrap();
    let acconto = &p.situazione.rate[0];
    assert_eq!(acconto.residuo, Cents::ZERO);
    assert!(!acconto.scaduta && acconto.ravvedimento.is_none());
    assert_eq!(p.situazione.pagato, Cents::from_cents(128_700));
    assert_eq!(p.situazione.eccedenza, Cents::ZERO);
    // Another year's payment is not this year's; another person's code
    // sees none of them.
    assert_eq!(p.situazione.pagamenti.len(), 2);
    assert!(
        p.calcolo.immobili.iter().all(|i| !i.passaggi.is_empty()),
        "the working is shown"
    );

    // The F24 of the acconto: both lines, the comune's code, whole euro.
    let f24 = app
        .imu_f24(t.id, &ufficio, Some(&mario), 2026, Versamento::Acconto)
        .await
        .unwrap();
    assert_eq!(f24.codice_fiscale, mario);
    let text = palazzo_testkit::pdf_text(&f24.pdf);
    for needle in [
        mario.as_str(),
        "3912",
        "3918",
        t.data.codice_catastale.as_str(),
        "833,00",
        "454,00",
        "1287,00",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    let nobody = cf("Neri", "Luca", Sex::M, date(1990, 1, 1));
    let r = app
        .imu_f24(t.id, &ufficio, Some(&nobody), 2026, Versamento::Saldo)
        .await;
    assert_eq!(r.map_err(code).unwrap_err(), "nulla_da_versare");

    // The citizen sees their own position, in any form of their code…
    let mario_online = citizen(&app, t.id, &mario).await;
    let own = app
        .imu_position(t.id, &mario_online, None, 2026)
        .await
        .unwrap();
    assert_eq!(own.calcolo, p.calcolo);
    // …and never another taxpayer's.
    let r = app
        .imu_position(t.id, &mario_online, Some(&anna), 2026)
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)), "{r:?}");
    let r = app
        .imu_position(t.id, &Actor::anonymous(), Some(&mario), 2026)
        .await;
    assert!(matches!(r, Err(ServiceError::Unauthenticated)), "{r:?}");
    let r = app.imu_position(t.id, &ufficio, None, 2026).await;
    assert_eq!(r.map_err(code).unwrap_err(), "codice_fiscale_mancante");
    // Anna's position holds only her half of the A/1.
    let a = app
        .imu_position(t.id, &ufficio, Some(&anna), 2026)
        .await
        .unwrap();
    assert_eq!(a.unita.len(), 1);
    assert_eq!(a.calcolo.saldo, Cents::from_cents(45_400));
    // Another comune knows nothing of Mario.
    let o = app
        .imu_position(other.id, &ufficio, Some(&mario), 2026)
        .await
        .unwrap();
    assert!(o.unita.is_empty() && o.calcolo.righe.is_empty());

    // verify: clean, then a stored rate changed behind Palazzo's back.
    app.checkpoint_all().await.unwrap();
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.db()
        .execute_raw(&format!(
            "UPDATE tributi_aliquote_imu SET aliquote = REPLACE(aliquote, \
             '\"altri_fabbricati\":1060', '\"altri_fabbricati\":760') \
             WHERE tenant_id = {id} AND anno = 2026",
            id = t.id.0
        ))
        .await
        .unwrap();
    let lowered = app.db().aliquote_imu(t.id, 2026).await.unwrap().unwrap();
    assert_eq!(lowered.aliquote.altri_fabbricati, Aliquota(760));
    let problems = verify(app.db(), &keys).await.unwrap().problems;
    assert!(
        problems.iter().any(|p| matches!(p, Problem::RecordAltered { subject, .. } if subject == "aliquote-imu:2026")),
        "{problems:?}"
    );

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn tributi_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn tributi_postgres() {
    run(Backend::Postgres).await;
}
