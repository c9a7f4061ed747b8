//! TEMPI-01 through the services, on SQLite and on PostgreSQL: pratiche
//! are filed and worked with the real procedure (taken in charge,
//! integration asked and given, 10-bis notice, accepted, withdrawn,
//! silenzio-assenso reached by the clock sweep), then
//! `App::tempi_procedimenti` is checked against figures computed here
//! independently, from the dates the test knows: started, concluded, in and
//! out of term, mean and longest net days, integration requests, 10-bis
//! notices, silenzio-assenso, per service and quarter; the CSV agrees; no
//! personal data comes out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::Role;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::procedimento::Azione;
use palazzo_domain::procedimento::tempi::Quarter;
use palazzo_services::db::Backend;
use palazzo_services::pratiche::{ActInput, SHIPPED, Upload};
use palazzo_store::{Store, UserId};
use palazzo_testkit::istanze::{Comune as Setup, PDF, act, actor};

async fn setup(backend: Backend) -> Setup {
    Setup::new(backend).await
}

fn days(from: jiff::civil::Date, to: jiff::civil::Date) -> u32 {
    u32::try_from(from.until(to).unwrap().get_days()).unwrap()
}

async fn tempi(backend: Backend) {
    let s = setup(backend).await;
    let admin = actor(UserId(999), Role::AdminComune, None, "Amministratore");
    let today = rome_date(jiff::Timestamp::now());
    let this = Quarter::of(today);
    let tari = "dichiarazione-tari";

    // Nothing filed: an empty table.
    let empty = s
        .app
        .tempi_procedimenti(s.tenant, None, jiff::Timestamp::now())
        .await
        .unwrap();
    assert!(empty.rows.is_empty() && empty.years.is_empty());

    // TARI (ordinary procedure, 30 days): five pratiche.
    // 1. Taken in charge and accepted today: 0 net days, in term.
    let p1 = s.file(tari).await;
    s.step(
        &s.responsabile,
        p1.pratica.id,
        act(Azione::PresaInCarico, "presentata", None),
    )
    .await;
    let st = s
        .step(
            &s.responsabile,
            p1.pratica.id,
            act(
                Azione::Accoglimento,
                "in_istruttoria",
                Some("Dichiarazione accolta."),
            ),
        )
        .await;
    assert_eq!(st, "accolta");
    // 2. Integration asked and given (a suspension), then accepted.
    let p2 = s.file(tari).await;
    s.step(
        &s.responsabile,
        p2.pratica.id,
        act(
            Azione::RichiestaIntegrazione,
            "presentata",
            Some("Manca la planimetria."),
        ),
    )
    .await;
    s.step(
        &s.giulia,
        p2.pratica.id,
        ActInput {
            files: vec![Upload {
                spec_id: "integrazione".into(),
                name: "planimetria.pdf".into(),
                bytes: PDF.to_vec(),
            }],
            ..act(
                Azione::Integrazione,
                "sospesa_integrazione",
                Some("Allego la planimetria."),
            )
        },
    )
    .await;
    let st = s
        .step(
            &s.responsabile,
            p2.pratica.id,
            act(
                Azione::Accoglimento,
                "in_istruttoria",
                Some("Dichiarazione accolta."),
            ),
        )
        .await;
    assert_eq!(st, "accolta");
    // 3. A 10-bis notice, still open.
    let p3 = s.file(tari).await;
    s.step(
        &s.responsabile,
        p3.pratica.id,
        act(Azione::PresaInCarico, "presentata", None),
    )
    .await;
    let st = s
        .step(
            &s.responsabile,
            p3.pratica.id,
            act(
                Azione::PreavvisoRigetto,
                "in_istruttoria",
                Some("Manca il titolo di possesso."),
            ),
        )
        .await;
    assert_eq!(st, "preavviso_rigetto");
    // 4. Open, untouched. 5. Withdrawn: started, never concluded.
    s.file(tari).await;
    let p5 = s.file(tari).await;
    let st = s
        .step(
            &s.giulia,
            p5.pratica.id,
            act(Azione::Ritiro, "presentata", None),
        )
        .await;
    assert_eq!(st, "ritirata");

    // The generic istanza with silenzio-assenso (a comune's own version):
    // the clock sweep accepts it the day after the deadline.
    let mut def = SHIPPED
        .iter()
        .find(|x| x.service == "istanza-generica")
        .unwrap()
        .definition()
        .unwrap();
    def.procedure = palazzo_domain::procedimento::ProcedureDefinition::silenzio_assenso(30);
    s.app
        .save_service_definition(s.tenant, &admin, def)
        .await
        .unwrap();
    let g = s.file("istanza-generica").await;
    let silence = g.deadline.unwrap().tomorrow().unwrap();
    // Two steps: the silence, and the TARI pratica of the 10-bis notice,
    // whose window has passed, resumes (still open, the notice counted).
    assert_eq!(s.app.sweep_pratiche(silence).await.unwrap(), 2);
    let gp = s
        .app
        .db()
        .pratica(s.tenant, g.pratica.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gp.data.state, "accolta_silenzio_assenso");

    // The independent expectation.
    let received = p1.pratica.data.received_on;
    assert_eq!(received, today);
    let silence_net = days(g.pratica.data.received_on, silence);
    assert!((31..=34).contains(&silence_net), "{silence_net}");

    let report = s
        .app
        .tempi_procedimenti(s.tenant, None, jiff::Timestamp::now())
        .await
        .unwrap();
    let row = |code: &str, q: Quarter| {
        report
            .rows
            .iter()
            .find(|r| r.row.procedure_code == code && r.row.quarter == q)
            .unwrap_or_else(|| panic!("{code} {q:?} in {:?}", report.rows))
    };
    let t = row(tari, this);
    let card = s.app.portal(s.tenant).await.unwrap();
    assert_eq!(
        t.service_title,
        card.service(tari).unwrap().data.title,
        "the title of the card"
    );
    assert_eq!(
        (
            t.row.started,
            t.row.concluded,
            t.row.concluded_in_term,
            t.concluded_late()
        ),
        (5, 2, 2, 0)
    );
    assert_eq!(t.row.mean_net_days, Some(0.0));
    assert_eq!(t.row.max_net_days, Some(0));
    assert_eq!(t.row.pct_in_term, Some(100.0));
    assert_eq!(t.row.integration_requests, 1);
    assert_eq!(t.row.preavvisi_10bis, 1);
    assert_eq!(t.row.silenzio_assenso_count, 0);
    assert_eq!(
        report
            .rows
            .iter()
            .filter(|r| r.row.procedure_code == tari)
            .count(),
        1
    );
    // The silenzio-assenso: started this quarter, concluded in the quarter
    // of the day after the deadline, within the term.
    let started = row("istanza-generica", this);
    assert_eq!(started.row.started, 1);
    let done = row("istanza-generica", Quarter::of(silence));
    assert_eq!((done.row.concluded, done.row.concluded_in_term), (1, 1));
    assert_eq!(done.row.silenzio_assenso_count, 1);
    assert_eq!(done.row.max_net_days, Some(silence_net));
    assert_eq!(done.row.mean_net_days, Some(f64::from(silence_net)));
    if Quarter::of(silence) != this {
        assert_eq!(started.row.concluded, 0);
    }
    assert_eq!(report.years.first(), Some(&Quarter::of(silence).year));

    // The year filter and the CSV come from the same figures.
    let y = s
        .app
        .tempi_procedimenti(s.tenant, Some(this.year), jiff::Timestamp::now())
        .await
        .unwrap();
    assert!(y.rows.iter().all(|r| r.row.quarter.year == this.year));
    let none = s
        .app
        .tempi_procedimenti(s.tenant, Some(1999), jiff::Timestamp::now())
        .await
        .unwrap();
    assert!(none.rows.is_empty());
    let csv = report.to_csv();
    assert!(
        csv.lines().any(|l| l.starts_with(&format!(
            "{tari},{},5,2,2,100.00,0.00,0.00,0,0,1,1,0",
            this.label()
        ))),
        "{csv}"
    );
    // Counts and durations only: no applicant's name, tax code or e-mail.
    for needle in ["Verdi", "VRDGLI80A41A662Y", "verdi@example.org", "Giulia"] {
        assert!(!csv.contains(needle), "{needle} in {csv}");
        assert!(!format!("{report:?}").contains(needle), "{needle}");
    }

    // A SCIA (art. 19: 60-day control window): started and open while the
    // window runs; once it has closed without a divieto, concluded on its
    // last day, within the term, with the window's net days.
    let scia_slug = "scia-esercizio-di-vicinato";
    let scia = s.file(scia_slug).await;
    let end = scia.deadline.unwrap();
    let at = |d: jiff::civil::Date| {
        d.at(12, 0, 0, 0)
            .to_zoned(palazzo_domain::calendar::rome_time_zone())
            .unwrap()
            .timestamp()
    };
    let during = s
        .app
        .tempi_procedimenti(s.tenant, None, at(end))
        .await
        .unwrap();
    let open = during
        .rows
        .iter()
        .find(|r| r.row.procedure_code == scia_slug)
        .unwrap();
    assert_eq!((open.row.started, open.row.concluded), (1, 0));
    let after = s
        .app
        .tempi_procedimenti(s.tenant, None, at(end.tomorrow().unwrap()))
        .await
        .unwrap();
    let closed = after
        .rows
        .iter()
        .find(|r| r.row.procedure_code == scia_slug && r.row.quarter == Quarter::of(end))
        .unwrap();
    assert_eq!((closed.row.concluded, closed.row.concluded_in_term), (1, 1));
    assert_eq!(closed.row.silenzio_assenso_count, 0);
    assert_eq!(
        closed.row.max_net_days,
        Some(days(scia.pratica.data.received_on, end))
    );
}

#[tokio::test]
async fn tempi_sqlite() {
    tempi(Backend::Sqlite).await;
}

#[tokio::test]
async fn tempi_postgres() {
    tempi(Backend::Postgres).await;
}
