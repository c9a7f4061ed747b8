//! TARI (issue 7) on both backends, against the local GPD simulator: the
//! tariffs of a year with their delibera (checked, ledgered, verified); the
//! utenze file; a taxpayer's position with the reference's example T-6
//! (3 occupants, 100 m²: 119,63 + TEFA 5,98 = 125,61) and a business
//! relieved of the variable part; the bill's pagoPA notices — rata unica
//! and three instalments, each paying TARI to the comune and TEFA to the
//! province as two beneficiaries on GPD — with their QR codes read back
//! from the PDF; a payment on pagoPA marks an instalment paid; a changed
//! utenza re-issues an unpaid bill with new IUVs, never reusing one; the
//! taxpayers of the batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::date;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::{CodiceCatastale, CodiceFiscale, Sex};
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::tari::{Riduzione, RiduzioneTari, Tariffa, TariffeTari};
use palazzo_services::access::Actor;
use palazzo_services::avvisi::{EVENT_ANNULLATO, EVENT_EMESSO};
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::pagopa::gpd::GpdClient;
use palazzo_services::tari::EVENT_TARIFFE_TARI;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{BeneficiarioTefa, PagopaEnte, StatoAvviso, Store, UserId};
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

fn t(s: &str) -> Tariffa {
    Tariffa::parse(s).unwrap()
}

/// The reference's Tribiano tariffs (T-6) for `anno`, three instalments.
fn tariffe(anno: i16) -> TariffeTari {
    TariffeTari {
        anno,
        delibera: format!("Delibera C.C. n. 10 del 30/04/{anno}"),
        domestiche: vec![
            (t("0,3650"), t("40,12")),
            (t("0,4200"), t("62,50")),
            (t("0,4460"), t("75,03")),
            (t("0,4700"), t("90,00")),
            (t("0,4900"), t("110,00")),
            (t("0,5100"), t("125,00")),
        ],
        non_domestiche: vec![(
            13,
            "Negozi di beni durevoli".into(),
            t("1,2000"),
            t("1,0500"),
        )],
        tefa: 500,
        scadenze: vec![date(anno, 5, 31), date(anno, 9, 30), date(anno, 12, 2)],
        riduzioni: vec![RiduzioneTari {
            codice: "avvio_recupero".into(),
            riduzione: Riduzione {
                descrizione: "Avvio al recupero (D.Lgs. 116/2020)".into(),
                fissa: 0,
                variabile: 10_000,
            },
        }],
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
    let dir = TempDir::new("tari");
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
    let org = tn.data.codice_fiscale.as_str().to_owned();
    let office = funzionario();
    // Next year: the due dates are in the future whenever the test runs.
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year() + 1;

    // The tariffs: only the office, with a delibera, within the law.
    let r = app
        .set_tari_tariffs(tn.id, &operatore(), tariffe(year))
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    let mut bad = tariffe(year);
    bad.delibera = " ".into();
    let r = app.set_tari_tariffs(tn.id, &office, bad).await;
    assert_eq!(r.map_err(code).unwrap_err(), "delibera_mancante");
    let mut bad = tariffe(year);
    bad.tefa = 600;
    let r = app.set_tari_tariffs(tn.id, &office, bad).await;
    assert_eq!(r.map_err(code).unwrap_err(), "tributi_tariffe_tari");
    let saved = app
        .set_tari_tariffs(tn.id, &office, tariffe(year))
        .await
        .unwrap();
    // The same again writes nothing (one ledger event below).
    let again = app
        .set_tari_tariffs(tn.id, &office, tariffe(year))
        .await
        .unwrap();
    assert_eq!(again.tariffe, saved.tariffe);
    assert_eq!(
        app.tari_tariffs(tn.id, &office).await.unwrap()[0].tariffe,
        tariffe(year)
    );

    // The utenze: Mario's home (T-6) and shop all year, a flat he left
    // the year before; Anna's home; a reduction the tariffs do not define.
    let (mario, anna) = (person("Rossi", "Mario"), person("Bianchi", "Anna"));
    let file = format!(
        "codice;codice_fiscale;indirizzo;catasto;tipo;occupanti;categoria;superficie;pertinenze;dal;al;riduzioni\n\
         T1;{m};Via Roma 1;F1 P1 S1;domestica;3;;100;;01/01/2015;;\n\
         T2;{m};Via Roma 3;F1 P1 S9;non_domestica;;13;50;;01/01/2015;;avvio_recupero\n\
         T3;{m};Via Verdi 2;;domestica;1;;60;;01/01/2015;31/12/{prev};\n\
         T4;{a};Via Dante 5;;domestica;2;;80;;01/01/2020;;stagionale\n\
         T5;{a};Via Dante 5;;domestica;due;;80;;01/01/2020;;\n",
        m = mario.as_str(),
        a = anna.as_str(),
        prev = year - 1
    );
    let report = app
        .import_tributi(tn.id, &office, file.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        report.kind,
        palazzo_domain::tributi::import::FileKind::Utenze
    );
    assert_eq!(report.saved, 4);
    assert_eq!(
        report
            .errors
            .iter()
            .map(|e| (e.line, e.code))
            .collect::<Vec<_>>(),
        vec![(6, "numero_non_valido")]
    );
    // Loading it again replaces, never doubles.
    app.import_tributi(tn.id, &office, file.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        app.db().utenze_tari_of(tn.id, &mario).await.unwrap().len(),
        3
    );

    // Mario's position: T-6's 119,63 + 5,98 for the home; the shop's fixed
    // part 1,2000 × 50 = 60,00, the variable part relieved entirely; the
    // flat left the year before is not there.
    let p = app
        .tari_position(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert_eq!(p.utenze.len(), 2);
    assert_eq!(p.utenze[0].calcolo.totale, Cents::from_cents(12_561));
    assert_eq!(p.utenze[1].calcolo.tari, Cents::from_cents(6_000));
    assert_eq!(
        (p.tari, p.tefa, p.totale),
        (
            Cents::from_cents(17_963),
            Cents::from_cents(898),
            Cents::from_cents(18_861)
        )
    );
    let rate: Vec<(i64, i64)> = p
        .rate
        .iter()
        .map(|r| (r.tari.cents(), r.tefa.cents()))
        .collect();
    assert_eq!(rate, vec![(5_989, 300), (5_987, 299), (5_987, 299)]);
    // Anna's reduction is not in the tariffs: said, not applied.
    let pa = app
        .tari_position(tn.id, &office, Some(&anna), year)
        .await
        .unwrap();
    assert!(
        pa.utenze[0]
            .calcolo
            .passaggi
            .iter()
            .any(|s| s.contains("«stagionale» non è prevista")),
        "{:?}",
        pa.utenze[0].calcolo.passaggi
    );
    // A year without tariffs: the utenze, no figures.
    let none = app
        .tari_position(tn.id, &office, Some(&mario), year + 1)
        .await
        .unwrap();
    assert!(none.tariffe.is_none() && none.rate.is_empty());
    assert_eq!(none.totale, Cents::ZERO);

    // The bill needs the pagoPA data and the province of the TEFA.
    let r = app.tari_avviso(tn.id, &office, Some(&mario), year).await;
    assert_eq!(r.map_err(code).unwrap_err(), "pagopa_non_configurato");
    let mut ente = PagopaEnte {
        segregazione: 2,
        cbill: "ABC12".into(),
        iban: "IT60X0542811101000000123456".into(),
        conto_postale: None,
        intestatario: None,
        tefa: None,
    };
    app.set_pagopa_ente(tn.id, &office, ente.clone())
        .await
        .unwrap();
    let r = app.tari_avviso(tn.id, &office, Some(&mario), year).await;
    assert_eq!(r.map_err(code).unwrap_err(), "tefa_non_configurata");
    ente.tefa = Some(BeneficiarioTefa {
        codice_fiscale: "8000011072".into(),
        iban: "IT02L1234512345123456789012".into(),
        nome: "Provincia di Alfa".into(),
    });
    let r = app.set_pagopa_ente(tn.id, &office, ente.clone()).await;
    assert_eq!(
        r.map_err(code).unwrap_err(),
        "tefa_codice_fiscale_non_valido"
    );
    ente.tefa.as_mut().unwrap().codice_fiscale = "80000110728".into();
    app.set_pagopa_ente(tn.id, &office, ente).await.unwrap();

    let mut gpd = GpdSimulator::start();
    let client = || GpdClient::new(&gpd.base_url(), &gpd.api_key, Duration::from_secs(20)).unwrap();
    app.set_gpd(Some(client()));

    // The bill: rata unica of 188,61 on the first due date, then the three
    // instalments, with consecutive IUVs; the QR codes of all four in the
    // PDF; one GPD position with TARI to the comune and TEFA to the
    // province on every option.
    let bill = app
        .tari_avviso(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert!(bill.emessa);
    let v: Vec<(&str, i64, i64)> = bill
        .avvisi
        .iter()
        .map(|a| {
            (
                a.data.versamento.as_str(),
                a.data.importo.cents(),
                a.data.tefa.cents(),
            )
        })
        .collect();
    assert_eq!(
        v,
        vec![
            ("unica", 18_861, 898),
            ("rata-1", 6_289, 300),
            ("rata-2", 6_286, 299),
            ("rata-3", 6_286, 299)
        ]
    );
    assert_eq!(bill.avvisi[0].data.scadenza, date(year, 5, 31));
    assert_eq!(bill.avvisi[3].data.scadenza, date(year, 12, 2));
    let bases: Vec<u64> = bill.avvisi.iter().map(|a| a.iuv_base).collect();
    assert_eq!(bases, vec![0, 1, 2, 3]);
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
    let iupd = bill.avvisi[0].iupd.clone().expect("published on GPD");
    assert!(
        bill.avvisi
            .iter()
            .all(|a| a.iupd.as_deref() == Some(iupd.as_str()))
    );
    let position = client().get_position(&org, &iupd).await.unwrap();
    assert_eq!(position.payment_option.len(), 4);
    for (option, a) in position.payment_option.iter().zip(&bill.avvisi) {
        assert_eq!(
            option.nav.as_deref(),
            Some(a.codice_avviso.to_string().as_str())
        );
        assert_eq!(
            option.is_partial_payment,
            Some(a.data.versamento != "unica")
        );
        let transfers: Vec<(Option<&str>, Option<i64>)> = option
            .transfer
            .iter()
            .map(|t| {
                (
                    t.organization_fiscal_code.as_deref(),
                    t.amount.map(|c| c.cents()),
                )
            })
            .collect();
        let tefa = a.data.tefa.cents();
        let comune = transfers[0].0;
        assert!(
            comune.is_none() || comune == Some(org.as_str()),
            "{transfers:?}"
        );
        assert_eq!(transfers[0].1, Some(a.data.importo.cents() - tefa));
        assert_eq!(transfers[1], (Some("80000110728"), Some(tefa)));
    }
    // Asking again: the same notices.
    let again = app
        .tari_avviso(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert!(!again.emessa);
    assert_eq!(
        again.avvisi.iter().map(|a| a.id).collect::<Vec<_>>(),
        bill.avvisi.iter().map(|a| a.id).collect::<Vec<_>>()
    );

    // The first instalment paid on pagoPA: read back, the position shows
    // it paid and what remains.
    let rata1 = bill.avvisi[1].codice_avviso.to_string();
    let (status, body) = gpd
        .pay(&org, &rata1, json!({"idReceipt": "R-TARI-1"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.sync_gpd_payments(tn.id, &office).await.unwrap(), 1);
    let p = app
        .tari_position(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert_eq!(p.pagato(), Cents::from_cents(6_289));
    assert_eq!(p.residuo(), Cents::from_cents(18_861 - 6_289));
    // The second instalment paid by F24 (the flows: TARI on 3944, TEFA on
    // its own code), loaded twice: counted once. A code of another tax is
    // refused.
    let flow = format!(
        "riferimento;codice_fiscale;anno;codice_tributo;data;importo;ravvedimento\n\
         F24-9-1;{m};{year};3944;30/09/{year};59,87;\n\
         F24-9-2;{m};{year};TEFA;30/09/{year};2,99;\n\
         F24-9-3;{m};{year};1001;30/09/{year};2,99;\n",
        m = mario.as_str()
    );
    let report = app
        .import_tributi(tn.id, &office, flow.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        report.kind,
        palazzo_domain::tributi::import::FileKind::Versamenti
    );
    assert_eq!((report.saved, report.already), (2, 0));
    assert_eq!(report.errors[0].code, "codice_tributo_non_valido");
    let report = app
        .import_tributi(tn.id, &office, flow.as_bytes(), |_, _| {})
        .await
        .unwrap();
    assert_eq!((report.saved, report.already), (0, 2));
    let p = app
        .tari_position(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert_eq!(p.pagato(), Cents::from_cents(6_289 + 6_286));
    assert_eq!(p.situazione.pagamenti.len(), 3);
    let open: Vec<i64> = p
        .situazione
        .rate
        .iter()
        .map(|r| r.residuo.cents())
        .collect();
    assert_eq!(open, vec![0, 0, 6_286]);
    // Due dates ahead: nothing past due.
    assert_eq!(p.situazione.scaduto, Cents::ZERO);

    // With a payment made, a change of the utenze does not re-issue the
    // bill (the office adjusts it).
    let changed = file.replace(";3;;100;;", ";4;;100;;");
    app.import_tributi(tn.id, &office, changed.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let kept = app
        .tari_avviso(tn.id, &office, Some(&mario), year)
        .await
        .unwrap();
    assert!(!kept.emessa);
    assert_eq!(kept.avvisi[0].codice_avviso, bill.avvisi[0].codice_avviso);

    // Anna's bill, then her home grows: nothing paid, the bill is annulled
    // (its GPD position invalidated) and issued again with new IUVs.
    let first = app
        .tari_avviso(tn.id, &office, Some(&anna), year)
        .await
        .unwrap();
    let bigger = changed.replace(
        ";2;;80;;01/01/2020;;stagionale",
        ";2;;95;;01/01/2020;;stagionale",
    );
    app.import_tributi(tn.id, &office, bigger.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let second = app
        .tari_avviso(tn.id, &office, Some(&anna), year)
        .await
        .unwrap();
    assert!(second.emessa);
    assert!(second.avvisi[0].data.importo > first.avvisi[0].data.importo);
    for old in &first.avvisi {
        let stored = app
            .db()
            .avviso_by_codice(tn.id, &old.codice_avviso.to_string())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.stato, StatoAvviso::Annullato);
    }
    let invalidated = client()
        .get_position(&org, first.avvisi[0].iupd.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        invalidated.status,
        Some(palazzo_services::pagopa::gpd::DebtPositionStatus::Invalid)
    );
    // No two notices ever share an IUV.
    let all = app
        .db()
        .avvisi_page(tn.id, palazzo_store::AvvisoId(0), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 12);
    let iuvs: BTreeSet<String> = all.iter().map(|a| a.codice_avviso.iuv()).collect();
    assert_eq!(iuvs.len(), all.len());

    // The batch's taxpayers: those with a utenza in the year.
    let who = app.tari_taxpayers(tn.id, &office, year).await.unwrap();
    let mut expected = vec![mario.clone(), anna.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(who, expected);
    assert!(
        app.tari_taxpayers(tn.id, &office, 2014)
            .await
            .unwrap()
            .is_empty()
    );
    let r = app.tari_taxpayers(tn.id, &operatore(), year).await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));

    // Luca paid by F24 without a bill: a bill of the whole year would ask
    // again for it. Piero occupied a flat for one day: a bill too small
    // for instalments (a TEFA share of nothing) is the rata unica only.
    let (luca, piero) = (person("Verdi", "Luca"), person("Neri", "Piero"));
    let more = format!(
        "codice;codice_fiscale;indirizzo;catasto;tipo;occupanti;categoria;superficie;pertinenze;dal;al;riduzioni\n\
         T6;{l};Via Po 1;;domestica;1;;50;;01/01/2020;;\n\
         T7;{p};Via Po 3;;domestica;1;;10;;01/03/{year};01/03/{year};\n",
        l = luca.as_str(),
        p = piero.as_str()
    );
    app.import_tributi(tn.id, &office, more.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let paid = format!(
        "riferimento;codice_fiscale;anno;codice_tributo;data;importo;ravvedimento\n\
         F24-L-1;{l};{year};3944;10/01/{year};20,00;\n",
        l = luca.as_str()
    );
    app.import_tributi(tn.id, &office, paid.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let r = app.tari_avviso(tn.id, &office, Some(&luca), year).await;
    assert_eq!(r.map_err(code).unwrap_err(), "versamenti_presenti");
    let tiny = app
        .tari_avviso(tn.id, &office, Some(&piero), year)
        .await
        .unwrap();
    // 0,3650 × 10 × 1/365 = 0,01 + 40,12 × 1/365 = 0,11: 0,12 and TEFA
    // 0,01, at once.
    let v: Vec<(&str, i64, i64)> = tiny
        .avvisi
        .iter()
        .map(|a| {
            (
                a.data.versamento.as_str(),
                a.data.importo.cents(),
                a.data.tefa.cents(),
            )
        })
        .collect();
    assert_eq!(v, vec![("unica", 13, 1)]);
    // Anna's utenza closed back before the year: her unpaid bill asks for
    // nothing any more, and its notices are annulled.
    let closed = bigger.replace(
        ";2;;95;;01/01/2020;;stagionale",
        &format!(";2;;95;;01/01/2020;31/12/{};stagionale", year - 1),
    );
    app.import_tributi(tn.id, &office, closed.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let r = app.tari_avviso(tn.id, &office, Some(&anna), year).await;
    assert_eq!(r.map_err(code).unwrap_err(), "nulla_da_versare");
    for a in &second.avvisi {
        let stored = app
            .db()
            .avviso_by_codice(tn.id, &a.codice_avviso.to_string())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.stato, StatoAvviso::Annullato);
    }

    // The TASI (2014-2019): a read-only history of the F24 lines received,
    // the interest of an accertamento listed but not counted as tax.
    let tasi = format!(
        "riferimento;codice_fiscale;anno;codice_tributo;data;importo;ravvedimento\n\
         TASI-1;{m};2018;3958;18/06/2018;100,00;\n\
         TASI-2;{m};2018;3962;10/10/2023;5,00;\n\
         TASI-3;{m};2016;3961;16/12/2016;40,00;\n",
        m = mario.as_str()
    );
    app.import_tributi(tn.id, &office, tasi.as_bytes(), |_, _| {})
        .await
        .unwrap();
    let (who, anni) = app
        .tasi_history(tn.id, &office, Some(&mario))
        .await
        .unwrap();
    assert_eq!(who, mario);
    let got: Vec<(i16, usize, i64)> = anni
        .iter()
        .map(|a| (a.anno, a.versamenti.len(), a.versato.cents()))
        .collect();
    assert_eq!(got, vec![(2018, 2, 10_000), (2016, 1, 4_000)]);
    assert!(
        app.tasi_history(tn.id, &office, Some(&anna))
            .await
            .unwrap()
            .1
            .is_empty()
    );
    let r = app.tasi_history(tn.id, &operatore(), Some(&mario)).await;
    assert!(r.is_err());

    // The ledger: the tariffs once, 13 notices issued, 8 annulled.
    let kinds: Vec<String> = app
        .db()
        .ledger_events(tn.id, 0, u64::MAX / 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(
        (
            count(EVENT_TARIFFE_TARI),
            count(EVENT_EMESSO),
            count(EVENT_ANNULLATO)
        ),
        (1, 13, 8)
    );
    app.checkpoint_all().await.unwrap();
    let report = verify(app.db(), &keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    // A tariff changed behind Palazzo's back is named.
    let tampered = serde_json::to_string(&TariffeTari {
        tefa: 100,
        ..tariffe(year)
    })
    .unwrap();
    app.db()
        .execute_raw(&format!(
            "UPDATE tributi_tariffe_tari SET tariffe = '{tampered}' WHERE tenant_id = {}",
            tn.id.0
        ))
        .await
        .unwrap();
    let problems = verify(app.db(), &keys).await.unwrap().problems;
    let subject = format!("tariffe-tari:{year}");
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

#[tokio::test]
async fn tari_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn tari_postgres() {
    run(Backend::Postgres).await;
}
