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

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::calendar::rome_date;
use palazzo_domain::moduli::{self, RawAnswers};
use palazzo_domain::procedimento::Azione;
use palazzo_domain::procedimento::tempi::Quarter;
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::pratiche::{ActInput, SHIPPED, Submitted, Upload};
use palazzo_store::conformance::{office_fixture, service_fixture, tenant_fixture};
use palazzo_store::{
    BozzaId, NewUser, NoticeChannel, OfficeId, PraticaId, Store, StoreTx, TenantId, UserId,
};
use palazzo_testkit::istanze::PDF;
use palazzo_testkit::{PgDatabase, TempDir};

#[allow(dead_code)] // the shared set-up of tests/pratiche.rs
struct Setup {
    app: App,
    tenant: TenantId,
    office: OfficeId,
    giulia: Actor,
    marco: Actor,
    responsabile: Actor,
    dirigente: Actor,
    other_office: Actor,
    _keys: KeyStore,
    _dir: TempDir,
    _pg: Option<PgDatabase>,
}

fn actor(user: UserId, role: Role, office: Option<i64>, name: &str) -> Actor {
    Actor {
        user: Some(user),
        admin: None,
        principal: Principal {
            grants: vec![Grant { role, office }],
        },
        name: Some(name.into()),
        acr: None,
    }
}

async fn setup(backend: Backend) -> Setup {
    let dir = TempDir::new("pratiche");
    let d = dir.path().to_owned();
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (Db::open_sqlite(&d.join("p.db")).await.unwrap(), None),
    };
    let keys = KeyStore::new(d.join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let t = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let office = app
        .create_office(t.id, office_fixture("urbanistica"))
        .await
        .unwrap();
    let elsewhere = app
        .create_office(t.id, office_fixture("tributi"))
        .await
        .unwrap();
    for s in SHIPPED {
        app.create_service(t.id, service_fixture(s.service, office.id))
            .await
            .unwrap();
    }
    app.install_demo_seals().unwrap();
    assert_eq!(
        app.install_shipped_definitions(t.id).await.unwrap(),
        SHIPPED.len()
    );
    assert_eq!(
        app.install_shipped_definitions(t.id).await.unwrap(),
        0,
        "installed once"
    );
    let now = jiff::Timestamp::now();
    let person = |given: &str, cf: &str| NewUser {
        codice_fiscale: Some(cf.parse().unwrap()),
        given_name: given.into(),
        family_name: "Verdi".into(),
        birth_date: Some(jiff::civil::date(1980, 1, 1)),
        birth_place: Some("Bari".into()),
        email: Some(palazzo_domain::ids::Email::parse("verdi@example.org").unwrap()),
        phone: Some("+390801234567".into()),
        notice_channel: NoticeChannel::Email,
    };
    let mut tx = app.db().begin().await.unwrap();
    let g = tx
        .insert_user(t.id, &person("Giulia", "VRDGLI80A41A662Y"), now)
        .await
        .unwrap();
    let m = tx
        .insert_user(t.id, &person("Marco", "VRDMRC80A01A662Y"), now)
        .await
        .unwrap();
    let r = tx
        .insert_user(t.id, &person("Rita", "RSSRTI70A41A662V"), now)
        .await
        .unwrap();
    let dg = tx
        .insert_user(t.id, &person("Dario", "BNCDRA70A01A662V"), now)
        .await
        .unwrap();
    let o = tx
        .insert_user(t.id, &person("Olga", "NRIGLO70A41A662Y"), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Setup {
        giulia: actor(g.id, Role::Cittadino, None, "Giulia Verdi"),
        marco: actor(m.id, Role::Cittadino, None, "Marco Verdi"),
        responsabile: actor(r.id, Role::Responsabile, Some(office.id.0), "Rita Verdi"),
        dirigente: actor(dg.id, Role::Dirigente, None, "Dario Verdi"),
        other_office: actor(o.id, Role::Responsabile, Some(elsewhere.id.0), "Olga Verdi"),
        app,
        tenant: t.id,
        office: office.id,
        _keys: keys,
        _dir: dir,
        _pg: pg,
    }
}

/// Fills every step of a draft as a citizen would, uploads every
/// required attachment, and returns the draft's key.
async fn complete(s: &Setup, who: &Actor, id: BozzaId) -> String {
    palazzo_testkit::istanze::complete_draft(&s.app, s.tenant, who, id).await
}

fn declarations(form: &moduli::FormDefinition) -> RawAnswers {
    palazzo_testkit::istanze::all_declarations(form)
}

fn act(action: Azione, state: &str, note: Option<&str>) -> ActInput {
    ActInput {
        action,
        expected_state: state.to_owned(),
        note: note.map(str::to_owned),
        files: Vec::new(),
    }
}

async fn file(s: &Setup, slug: &str) -> Submitted {
    let b = s.app.start_bozza(s.tenant, &s.giulia, slug).await.unwrap();
    let key = complete(s, &s.giulia, b.id).await;
    let form = s
        .app
        .bozza_view(s.tenant, &s.giulia, b.id)
        .await
        .unwrap()
        .definition
        .definition
        .form
        .clone();
    s.app
        .submit_bozza(s.tenant, &s.giulia, b.id, &key, &declarations(&form))
        .await
        .unwrap()
}

async fn step(s: &Setup, who: &Actor, id: PraticaId, input: ActInput) -> String {
    s.app
        .act_on_pratica(s.tenant, who, id, input)
        .await
        .unwrap()
        .pratica
        .data
        .state
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
    let p1 = file(&s, tari).await;
    step(
        &s,
        &s.responsabile,
        p1.pratica.id,
        act(Azione::PresaInCarico, "presentata", None),
    )
    .await;
    let st = step(
        &s,
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
    let p2 = file(&s, tari).await;
    step(
        &s,
        &s.responsabile,
        p2.pratica.id,
        act(
            Azione::RichiestaIntegrazione,
            "presentata",
            Some("Manca la planimetria."),
        ),
    )
    .await;
    step(
        &s,
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
    let st = step(
        &s,
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
    let p3 = file(&s, tari).await;
    step(
        &s,
        &s.responsabile,
        p3.pratica.id,
        act(Azione::PresaInCarico, "presentata", None),
    )
    .await;
    let st = step(
        &s,
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
    file(&s, tari).await;
    let p5 = file(&s, tari).await;
    let st = step(
        &s,
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
    let g = file(&s, "istanza-generica").await;
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
}

#[tokio::test]
async fn tempi_sqlite() {
    tempi(Backend::Sqlite).await;
}

#[tokio::test]
async fn tempi_postgres() {
    tempi(Backend::Postgres).await;
}
