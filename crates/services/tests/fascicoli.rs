//! Titolario per ente and fascicoli on both backends (issue 4, part 3):
//! the lazily seeded 2005 titolario (golden counts), versioning (TI-3),
//! fascicolo identifiers and gap-free numbers per class and year even under
//! concurrent openings, the closing rule and the index (TI-4), who may do
//! what, and `palazzo verify` naming a changed fascicolo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::fascicoli::{CSV_HEADER, FascicoloInput, RestrictionInput, TitolarioEdit};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::HandoffAction;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::{office_fixture, tenant_fixture};
use palazzo_store::{
    DocumentRef, FascicoloKind, FascicoloQuery, HandoffKind, HandoffState, HandoffSubject,
    OfficeId, Registration, Store, StoreTx, TenantId, UserId,
};
use palazzo_testkit::{PgDatabase, TempDir};

fn actor(role: Role, office: Option<OfficeId>) -> Actor {
    Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role,
                office: office.map(|o| o.0),
            }],
        },
        name: Some(format!("Test {}", role.code())),
        acr: None,
    }
}

struct Fixture {
    app: App,
    keys: KeyStore,
    tenant: TenantId,
    office: OfficeId,
    other_office: OfficeId,
    _dir: TempDir,
    pg: Option<PgDatabase>,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = TempDir::new("fascicoli");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("f.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let tenant = app.create_tenant(tenant_fixture(1)).await.unwrap().id;
    let office = app
        .create_office(tenant, office_fixture("edilizia"))
        .await
        .unwrap()
        .id;
    let other_office = app
        .create_office(tenant, office_fixture("tributi"))
        .await
        .unwrap()
        .id;
    Fixture {
        app,
        keys,
        tenant,
        office,
        other_office,
        _dir: dir,
        pg,
    }
}

async fn done(f: Fixture) {
    f.app.db().close().await;
    if let Some(pg) = f.pg {
        pg.drop_now().await;
    }
}

async fn register(f: &Fixture, subject: &str) -> Registration {
    try_register(f, subject).await.unwrap()
}

async fn try_register(
    f: &Fixture,
    subject: &str,
) -> Result<Registration, palazzo_services::ServiceError> {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    f.app
        .register_protocol(
            f.tenant,
            &actor(Role::Operatore, Some(f.office)),
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: subject.into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: None,
                received_date: None,
                primary: DocumentRef {
                    name: format!("{subject}.pdf"),
                    media_type: "application/pdf".into(),
                    size: 3,
                    sha256: Impronta::of(subject.as_bytes()),
                },
                attachments: vec![],
                classification: Some("VI.3".into()),
                office: None,
                emergency: None,
            },
        )
        .await
}

fn input(f: &Fixture, class: &str, subject: &str) -> FascicoloInput {
    FascicoloInput {
        classification: class.into(),
        kind: FascicoloKind::Procedimento,
        subject: subject.into(),
        office: f.office,
        responsible: "Ing. Anna Bianchi".into(),
        participants: vec!["Soprintendenza ABAP di Bari".into()],
        holder: None,
        parent: None,
    }
}

fn code(e: ServiceError) -> &'static str {
    e.code()
}

/// TI-1 seed, TI-3 versioning, classification checked against the current version.
async fn titolario(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let admin = actor(Role::AdminComune, None);
    let op = actor(Role::Operatore, Some(f.office));

    // Seeded on first use: the 2005 titolario, 14 titoli and 125 classes.
    assert!(app.db().titolario_version(t, None).await.unwrap().is_none());
    let v1 = app.titolario(t, &op, None).await.unwrap();
    assert_eq!(v1.info.version, 1);
    let per_titolo: Vec<usize> = (1..=14)
        .map(|n| {
            v1.classes
                .iter()
                .filter(|c| c.titolo == n && c.classe.is_some())
                .count()
        })
        .collect();
    assert_eq!(per_titolo, [17, 22, 15, 14, 3, 10, 15, 7, 4, 5, 4, 5, 4, 0]);
    assert_eq!(v1.classes.len(), 14 + 125);
    // Only once, also for a second reader.
    assert_eq!(app.titolario_history(t, &op).await.unwrap().len(), 1);

    // Who may edit: the administrator and the segretario; not an operatore.
    let add = TitolarioEdit::AddClass {
        titolo: "VI".into(),
        name: "Transizione energetica".into(),
    };
    assert!(matches!(
        app.edit_titolario(t, &op, add.clone()).await,
        Err(ServiceError::Forbidden)
    ));
    let v2 = app.edit_titolario(t, &admin, add).await.unwrap();
    assert_eq!(v2.info.version, 2);
    assert!(v2.classes.iter().any(|c| c.code == "VI.11"));
    let v3 = app
        .edit_titolario(
            t,
            &actor(Role::Segretario, None),
            TitolarioEdit::Rename {
                code: "vi.11".into(),
                name: "Energia e clima".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(v3.info.version, 3);
    assert!(v3.info.change.contains("Energia e clima"));

    // A registration classified under VI.3, then VI.3 is closed (v4): the
    // registration keeps VI.3 (TI-3), new classifications under it are refused.
    let r = register(&f, "Permesso di costruire").await;
    let v4 = app
        .edit_titolario(
            t,
            &admin,
            TitolarioEdit::Close {
                code: "VI.3".into(),
            },
        )
        .await
        .unwrap();
    assert!(v4.classes.iter().find(|c| c.code == "VI.3").unwrap().closed);
    // A new registration under the closed class is refused, although the
    // registration path checks against its in-memory copy (still v3 here):
    // the group commit sees that v4 is newer and checks again (TI-3).
    let e = try_register(&f, "Variante").await.unwrap_err();
    assert_eq!(code(e), "classifica_chiusa");
    let again = app.protocol_entry(t, &op, r.id).await.unwrap();
    assert_eq!(again.data.classification.as_deref(), Some("VI.3"));
    let e = app
        .reassign_protocol(t, &op, r.id, Some("VI.3"), None)
        .await
        .unwrap_err();
    assert_eq!(code(e), "classifica_chiusa");
    // The new class is usable; the old versions are kept unchanged.
    app.reassign_protocol(t, &op, r.id, Some("VI.11"), None)
        .await
        .unwrap();
    assert_eq!(app.titolario(t, &op, Some(1)).await.unwrap(), v1);
    assert_eq!(app.titolario_history(t, &op).await.unwrap().len(), 4);
    for (edit, expected) in [
        (
            TitolarioEdit::Close {
                code: "VI.3".into(),
            },
            "titolario_voce_chiusa",
        ),
        (
            TitolarioEdit::Rename {
                code: "VI.99".into(),
                name: "x".into(),
            },
            "titolario_voce_inesistente",
        ),
        (
            TitolarioEdit::AddClass {
                titolo: "VI.1".into(),
                name: "x".into(),
            },
            "titolario_non_titolo",
        ),
        (
            TitolarioEdit::Rename {
                code: "I.1".into(),
                name: " ".into(),
            },
            "titolario_nome",
        ),
    ] {
        assert_eq!(
            code(app.edit_titolario(t, &admin, edit).await.unwrap_err()),
            expected
        );
    }
    // Every version is a ledger record that verify checks.
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

/// TI-4: identifiers, numbering, closing, the index; permissions; verify.
async fn fascicoli(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let op = actor(Role::Operatore, Some(f.office));
    let outsider = actor(Role::Operatore, Some(f.other_office));
    let year = palazzo_domain::calendar::rome_date(jiff::Timestamp::now()).year();

    // Who may open: the office's staff and the dirigente; not another
    // office's operatore, not the segretario or the admin.
    let a = app
        .open_fascicolo(
            t,
            &op,
            input(&f, "VI.3", "Permesso di costruire via Roma 1"),
        )
        .await
        .unwrap();
    assert_eq!(a.fascicolo.code, format!("{year}-VI.3-1"));
    assert_eq!(a.fascicolo.data.titolario_version, 1);
    for who in [
        outsider.clone(),
        actor(Role::Segretario, None),
        actor(Role::AdminComune, None),
        actor(Role::Cittadino, None),
    ] {
        assert!(
            matches!(
                app.open_fascicolo(t, &who, input(&f, "VI.3", "x")).await,
                Err(ServiceError::Forbidden)
            ),
            "{:?}",
            who.principal
        );
    }
    let b = app
        .open_fascicolo(
            t,
            &actor(Role::Dirigente, None),
            input(&f, "vi.3", "SCIA via Verdi 2"),
        )
        .await
        .unwrap();
    assert_eq!(b.fascicolo.code, format!("{year}-VI.3-2"));
    let other = app
        .open_fascicolo(t, &op, input(&f, "XIV", "Varie"))
        .await
        .unwrap();
    assert_eq!(other.fascicolo.code, format!("{year}-XIV-1"), "per class");

    // Refusals with stable codes (CAD 41 fields required).
    for (mut i, expected) in [
        (input(&f, "VI", "x"), "classifica_class_required"),
        (input(&f, "VI.99", "x"), "classifica_unknown"),
        (input(&f, "", "x"), "fascicolo_classifica"),
        (input(&f, "VI.3", " "), "fascicolo_oggetto"),
    ] {
        i.office = f.office;
        assert_eq!(
            code(app.open_fascicolo(t, &op, i).await.unwrap_err()),
            expected
        );
    }
    let mut no_rup = input(&f, "VI.3", "x");
    no_rup.responsible = String::new();
    assert_eq!(
        code(app.open_fascicolo(t, &op, no_rup).await.unwrap_err()),
        "fascicolo_responsabile"
    );
    let mut pf = input(&f, "VII.12", "Contributo affitto");
    pf.kind = FascicoloKind::PersonaFisica;
    assert_eq!(
        code(app.open_fascicolo(t, &op, pf.clone()).await.unwrap_err()),
        "fascicolo_intestatario"
    );
    pf.holder = Some("Mario Rossi".into());
    app.open_fascicolo(t, &op, pf).await.unwrap();

    // Sub-fascicolo: the parent's class, IdAggPrimario.
    let mut sub = input(&f, "", "Varianti in corso d'opera");
    sub.parent = Some(a.fascicolo.id);
    let sub = app.open_fascicolo(t, &op, sub).await.unwrap();
    assert_eq!(sub.fascicolo.data.classification, "VI.3");
    assert_eq!(sub.fascicolo.code, format!("{year}-VI.3-3"));

    // 16 concurrent openings in one class: numbers 4..=19, no gap, no duplicate.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let app = app.clone();
        let i = input(&f, "VIII.4", &format!("Commercio {i}"));
        let op = op.clone();
        tasks.push(tokio::spawn(
            async move { app.open_fascicolo(t, &op, i).await },
        ));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap().unwrap().fascicolo.number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=16).collect::<Vec<u32>>());

    // A registration in two fascicoli; the index equals the links.
    let r1 = register(&f, "Istanza").await;
    let r2 = register(&f, "Integrazione").await;
    app.file_document(t, &op, a.fascicolo.id, r1.id)
        .await
        .unwrap();
    app.file_document(t, &op, a.fascicolo.id, r2.id)
        .await
        .unwrap();
    app.file_document(t, &op, b.fascicolo.id, r1.id)
        .await
        .unwrap();
    assert_eq!(
        code(
            app.file_document(t, &op, a.fascicolo.id, r1.id)
                .await
                .unwrap_err()
        ),
        "fascicolo_documento_presente"
    );
    assert!(matches!(
        app.file_document(t, &outsider, a.fascicolo.id, r1.id).await,
        Err(ServiceError::Forbidden)
    ));
    let of_r1 = app.registration_fascicoli(t, &op, r1.id).await.unwrap();
    assert_eq!(of_r1.len(), 2, "a document can be in several fascicoli");
    let idx = app.fascicolo_index(t, &op, a.fascicolo.id).await.unwrap();
    let links: Vec<_> = app
        .db()
        .fascicolo_documents(t, a.fascicolo.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.registration)
        .collect();
    let indexed: Vec<_> = idx.documents.iter().map(|d| d.registration).collect();
    assert_eq!(indexed, links);
    assert_eq!(indexed, vec![r1.id, r2.id]);
    let xml = idx.xml();
    assert_eq!(xml.matches("<IdDoc>").count(), 2);
    assert!(xml.contains(&format!("<IdAggregazione>{year}-VI.3-1</IdAggregazione>")));
    assert!(xml.contains(&r1.data.primary.sha256.base64()));
    assert!(xml.contains(
        "<PianoDiClassificazione>urn:palazzo:c_b923:titolario:v1</PianoDiClassificazione>"
    ));
    assert!(xml.contains("<TipoRuolo>AmministrazionePartecipante</TipoRuolo>"));
    let csv = idx.csv();
    assert_eq!(csv.lines().next(), Some(CSV_HEADER));
    assert_eq!(csv.lines().count(), 3);
    let sub_idx = app.fascicolo_index(t, &op, sub.fascicolo.id).await.unwrap();
    assert!(
        sub_idx
            .xml()
            .contains(&format!("<IdAggPrimario>{year}-VI.3-1</IdAggPrimario>"))
    );

    // Remove, then close: a closed fascicolo takes and loses nothing (TI-4).
    // While its sub-fascicolo is open it cannot be closed.
    app.unfile_document(t, &op, a.fascicolo.id, r2.id)
        .await
        .unwrap();
    let refused = app
        .close_fascicolo(t, &op, a.fascicolo.id)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "fascicolo_sottofascicoli_aperti");
    assert!(
        refused.message_it().contains(&sub.fascicolo.code),
        "{}",
        refused.message_it()
    );
    app.close_fascicolo(t, &op, sub.fascicolo.id).await.unwrap();
    let closed = app.close_fascicolo(t, &op, a.fascicolo.id).await.unwrap();
    assert!(closed.fascicolo.closure.is_some());
    assert_eq!(
        code(
            app.file_document(t, &op, a.fascicolo.id, r2.id)
                .await
                .unwrap_err()
        ),
        "fascicolo_chiuso"
    );
    assert_eq!(
        code(
            app.unfile_document(t, &op, a.fascicolo.id, r1.id)
                .await
                .unwrap_err()
        ),
        "fascicolo_chiuso"
    );
    assert_eq!(
        code(
            app.close_fascicolo(t, &op, a.fascicolo.id)
                .await
                .unwrap_err()
        ),
        "fascicolo_gia_chiuso"
    );
    assert_eq!(
        app.fascicolo_index(t, &op, a.fascicolo.id)
            .await
            .unwrap()
            .documents
            .len(),
        1
    );

    // Search by class, year, words; readers only.
    let found = app
        .search_fascicoli(
            t,
            &op,
            FascicoloQuery {
                classification: Some("vi.3".into()),
                year: Some(year),
                subject: Some("via".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(matches!(
        app.search_fascicoli(
            t,
            &actor(Role::AdminComune, None),
            FascicoloQuery::default()
        )
        .await,
        Err(ServiceError::Forbidden)
    ));
    assert_eq!(
        app.fascicolo_by_code(t, &op, &format!(" {year}-vi.3-2 "))
            .await
            .unwrap()
            .fascicolo
            .id,
        b.fascicolo.id
    );

    // Verify: clean, then a fascicolo row or link changed behind Palazzo's back.
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    app.db()
        .execute_raw(&format!(
            "UPDATE fascicoli SET subject = 'Altro' WHERE id = {}",
            b.fascicolo.id.0
        ))
        .await
        .unwrap();
    app.db()
        .execute_raw(&format!(
            "DELETE FROM fascicolo_documents WHERE fascicolo_id = {}",
            a.fascicolo.id.0
        ))
        .await
        .unwrap();
    let report = verify(app.db(), &f.keys).await.unwrap();
    for id in [a.fascicolo.id, b.fascicolo.id] {
        assert!(
            report.problems.iter().any(|p| matches!(p,
                Problem::RecordAltered { subject, .. } if subject == &format!("fascicolo:{}", id.0))),
            "{:?}",
            report.problems
        );
    }
    done(f).await;
}

#[tokio::test]
async fn titolario_sqlite() {
    titolario(Backend::Sqlite).await
}

#[tokio::test]
async fn titolario_postgres() {
    titolario(Backend::Postgres).await
}

#[tokio::test]
async fn fascicoli_sqlite() {
    fascicoli(Backend::Sqlite).await
}

#[tokio::test]
async fn fascicoli_postgres() {
    fascicoli(Backend::Postgres).await
}

/// A sub-fascicolo cannot be opened under a closed parent, and a fascicolo
/// with open sub-fascicoli cannot be closed (stable code, Italian message).
async fn subfascicoli(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let op = actor(Role::Operatore, Some(f.office));
    let parent = app
        .open_fascicolo(t, &op, input(&f, "VI.3", "Lottizzazione"))
        .await
        .unwrap();
    let mut i = input(&f, "", "Opere di urbanizzazione");
    i.parent = Some(parent.fascicolo.id);
    let child = app.open_fascicolo(t, &op, i.clone()).await.unwrap();
    let mut g = input(&f, "", "Collaudo");
    g.parent = Some(child.fascicolo.id);
    let grandchild = app.open_fascicolo(t, &op, g).await.unwrap();

    let e = app
        .close_fascicolo(t, &op, parent.fascicolo.id)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "fascicolo_sottofascicoli_aperti");
    assert!(e.message_it().contains("sottofascicoli aperti"));
    assert!(e.message_it().contains(&child.fascicolo.code));
    assert_eq!(
        code(
            app.close_fascicolo(t, &op, child.fascicolo.id)
                .await
                .unwrap_err()
        ),
        "fascicolo_sottofascicoli_aperti",
        "the rule holds at every level"
    );
    app.close_fascicolo(t, &op, grandchild.fascicolo.id)
        .await
        .unwrap();
    app.close_fascicolo(t, &op, child.fascicolo.id)
        .await
        .unwrap();
    // Under a closed parent no sub-fascicolo opens.
    let mut under_closed = i.clone();
    under_closed.parent = Some(child.fascicolo.id);
    assert_eq!(
        code(app.open_fascicolo(t, &op, under_closed).await.unwrap_err()),
        "fascicolo_chiuso"
    );
    app.close_fascicolo(t, &op, parent.fascicolo.id)
        .await
        .unwrap();
    i.parent = Some(parent.fascicolo.id);
    assert_eq!(
        code(app.open_fascicolo(t, &op, i).await.unwrap_err()),
        "fascicolo_chiuso"
    );

    // Closing a parent while a sub-fascicolo is being opened under it:
    // never both (the opening holds the parent's row; the closing looks
    // for open sub-fascicoli again once it holds it).
    for n in 0..8 {
        let p = app
            .open_fascicolo(t, &op, input(&f, "VI.3", &format!("Gara {n}")))
            .await
            .unwrap()
            .fascicolo
            .id;
        let mut c = input(&f, "", &format!("Lotto {n}"));
        c.parent = Some(p);
        let (a1, o1, a2, o2) = (app.clone(), op.clone(), app.clone(), op.clone());
        let close = tokio::spawn(async move { a1.close_fascicolo(t, &o1, p).await });
        let open = tokio::spawn(async move { a2.open_fascicolo(t, &o2, c).await });
        match (close.await.unwrap(), open.await.unwrap()) {
            (Ok(_), Err(e)) => assert_eq!(e.code(), "fascicolo_chiuso"),
            (Err(e), Ok(child)) => {
                assert_eq!(e.code(), "fascicolo_sottofascicoli_aperti");
                assert!(
                    app.fascicolo(t, &op, p)
                        .await
                        .unwrap()
                        .fascicolo
                        .closure
                        .is_none()
                );
                assert_eq!(child.fascicolo.data.parent, Some(p));
            }
            (c, o) => panic!("closing and opening both {c:?} / {o:?}"),
        }
    }
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

/// TI-5 for fascicoli: a whole fascicolo is handed off with the registration
/// hand-offs' state machine, shows in the office's inbox, its route and the
/// waiting times, is ledgered, and exports as Assegnazione (never
/// overwritten).
async fn handoffs(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let op = actor(Role::Operatore, Some(f.office));
    let there = actor(Role::Operatore, Some(f.other_office));
    let fa = app
        .open_fascicolo(t, &op, input(&f, "VI.3", "Permesso via Roma 1"))
        .await
        .unwrap();
    let id = fa.fascicolo.id;
    let ledger_before = app.db().ledger_size(t).await.unwrap();

    // Only those who work the fascicolo assign it.
    assert!(matches!(
        app.assign_fascicolo(t, &there, id, HandoffKind::Competenza, f.office, None)
            .await,
        Err(ServiceError::Forbidden)
    ));
    let h = app
        .assign_fascicolo(
            t,
            &op,
            id,
            HandoffKind::Competenza,
            f.other_office,
            Some("Parere sui tributi"),
        )
        .await
        .unwrap();
    assert_eq!(h.data.subject, HandoffSubject::Fascicolo(id));
    assert_eq!(h.state, HandoffState::Assegnato);
    assert_eq!(
        app.db().ledger_size(t).await.unwrap(),
        ledger_before + 1,
        "ledgered once"
    );
    let inbox = app.office_inbox(t, &there, f.other_office).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, h.id);

    // Refuse needs a reason; accept; forward back; close.
    assert_eq!(
        code(
            app.act_on_handoff(t, &there, h.id, HandoffAction::Reject, None)
                .await
                .unwrap_err()
        ),
        "handoff_motivo_mancante"
    );
    app.act_on_handoff(t, &there, h.id, HandoffAction::Accept, None)
        .await
        .unwrap();
    let h2 = app
        .forward_handoff(t, &there, h.id, f.office, Some("Di vostra competenza"))
        .await
        .unwrap();
    assert_eq!(h2.data.subject, HandoffSubject::Fascicolo(id));
    assert_eq!(h2.data.parent, Some(h.id));
    assert!(
        app.office_inbox(t, &there, f.other_office)
            .await
            .unwrap()
            .is_empty()
    );
    app.act_on_handoff(t, &op, h2.id, HandoffAction::Close, Some("Fatto"))
        .await
        .unwrap();

    // The route: both hand-offs, every step with actor and time.
    let (route, steps) = app.fascicolo_route(t, &op, id).await.unwrap();
    assert_eq!(route.len(), 2);
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        ["assegnato", "accettato", "inoltrato", "assegnato", "chiuso"]
    );
    assert!(steps.iter().all(|s| s.actor.contains("Test operatore")));
    assert!(
        app.protocol_route(t, &op, palazzo_store::RegistrationId(1))
            .await
            .unwrap()
            .0
            .is_empty(),
        "a registration's route does not show a fascicolo's hand-offs"
    );

    // Waiting times count them.
    let waits = app
        .office_waits(t, &actor(Role::Dirigente, None), jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(waits.iter().map(|w| w.handled).sum::<u32>(), 2);

    // The index: one Assegnazione per hand-off, the ended ones with an end.
    let idx = app.fascicolo_index(t, &op, id).await.unwrap();
    assert_eq!(idx.assignments.len(), 2);
    assert!(idx.assignments.iter().all(|a| a.end.is_some()));
    let xml = idx.xml();
    assert_eq!(xml.matches("<Assegnazione>").count(), 2);
    assert_eq!(
        xml.matches("<TipoAssegnazione>per competenza</TipoAssegnazione>")
            .count(),
        2
    );
    assert_eq!(xml.matches("<DataFineAssegnazione>").count(), 2);

    // A closed fascicolo is not assigned; verify is clean.
    app.close_fascicolo(t, &op, id).await.unwrap();
    assert_eq!(
        code(
            app.assign_fascicolo(t, &op, id, HandoffKind::Conoscenza, f.other_office, None)
                .await
                .unwrap_err()
        ),
        "fascicolo_chiuso"
    );
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

/// TI-6: a restricted fascicolo (and its sub-fascicoli) is read only by the
/// responsible office and the designated subjects; for everyone else it
/// does not exist, on every read.
async fn restricted(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let third = app
        .create_office(t, office_fixture("anagrafe"))
        .await
        .unwrap()
        .id;
    let op = actor(Role::Operatore, Some(f.office));
    let outsider = Actor {
        user: Some(UserId(9002)),
        ..actor(Role::Operatore, Some(f.other_office))
    };
    let segretario = Actor {
        user: Some(UserId(9003)),
        ..actor(Role::Segretario, None)
    };
    let designated_office = Actor {
        user: Some(UserId(9004)),
        ..actor(Role::Operatore, Some(third))
    };
    let dirigente = Actor {
        user: Some(UserId(9005)),
        ..actor(Role::Dirigente, None)
    };
    let fa = app
        .open_fascicolo(t, &op, input(&f, "VI.3", "Accertamento sanitario"))
        .await
        .unwrap();
    let id = fa.fascicolo.id;
    let mut sub = input(&f, "", "Referti");
    sub.parent = Some(id);
    let sub = app.open_fascicolo(t, &op, sub).await.unwrap();
    let r = register(&f, "Referto").await;
    app.file_document(t, &op, id, r.id).await.unwrap();

    // Only who works it sets the restriction; a user must exist.
    assert!(matches!(
        app.restrict_fascicolo(t, &outsider, id, Some(RestrictionInput::default()))
            .await,
        Err(ServiceError::Forbidden)
    ));
    assert_eq!(
        code(
            app.restrict_fascicolo(
                t,
                &op,
                id,
                Some(RestrictionInput {
                    offices: vec![],
                    users: vec![UserId(999)],
                })
            )
            .await
            .unwrap_err()
        ),
        "utente_sconosciuto"
    );
    let before = app.db().ledger_size(t).await.unwrap();
    let restricted = app
        .restrict_fascicolo(
            t,
            &op,
            id,
            Some(RestrictionInput {
                offices: vec![third],
                users: vec![],
            }),
        )
        .await
        .unwrap();
    assert!(restricted.fascicolo.restriction.is_some());
    assert_eq!(app.db().ledger_size(t).await.unwrap(), before + 1);

    // Outsiders, even with the general read permission: not found anywhere.
    let code_str = fa.fascicolo.code.clone();
    for who in [&outsider, &segretario] {
        for target in [id, sub.fascicolo.id] {
            assert!(matches!(
                app.fascicolo(t, who, target).await,
                Err(ServiceError::NotFound)
            ));
            assert!(matches!(
                app.fascicolo_index(t, who, target).await,
                Err(ServiceError::NotFound)
            ));
            assert!(matches!(
                app.fascicolo_route(t, who, target).await,
                Err(ServiceError::NotFound)
            ));
        }
        assert!(matches!(
            app.fascicolo_by_code(t, who, &code_str).await,
            Err(ServiceError::NotFound)
        ));
        let found = app
            .search_fascicoli(
                t,
                who,
                FascicoloQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(found.is_empty(), "{found:?}");
        assert!(
            app.registration_fascicoli(t, who, r.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
    // Writes answer not found too (not forbidden: no hint it exists).
    assert!(matches!(
        app.file_document(t, &outsider, id, r.id).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        app.close_fascicolo(t, &outsider, id).await,
        Err(ServiceError::NotFound)
    ));

    // Insiders: the responsible office, the dirigente, the designated office
    // and a designated user.
    for who in [&op, &dirigente, &designated_office] {
        assert_eq!(app.fascicolo(t, who, id).await.unwrap().documents.len(), 1);
        app.fascicolo(t, who, sub.fascicolo.id).await.unwrap();
        assert_eq!(
            app.search_fascicoli(
                t,
                who,
                FascicoloQuery {
                    limit: 50,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len(),
            2
        );
    }
    // A designated user (of another office) reads it; the others of that
    // office still do not.
    let mut tx = app.db().begin().await.unwrap();
    let user = tx
        .insert_user(
            t,
            &palazzo_store::NewUser {
                codice_fiscale: None,
                given_name: "Laura".into(),
                family_name: "Verdi".into(),
                birth_date: None,
                birth_place: None,
                email: None,
                phone: None,
                notice_channel: Default::default(),
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.restrict_fascicolo(
        t,
        &op,
        id,
        Some(RestrictionInput {
            offices: vec![third],
            users: vec![user.id],
        }),
    )
    .await
    .unwrap();
    let designated_user = Actor {
        user: Some(user.id),
        ..actor(Role::Operatore, Some(f.other_office))
    };
    app.fascicolo(t, &designated_user, id).await.unwrap();
    app.fascicolo_index(t, &designated_user, sub.fascicolo.id)
        .await
        .unwrap();
    assert!(matches!(
        app.fascicolo(t, &outsider, id).await,
        Err(ServiceError::NotFound)
    ));

    // A restricted fascicolo goes only to an office inside its area.
    assert_eq!(
        code(
            app.assign_fascicolo(t, &op, id, HandoffKind::Conoscenza, f.other_office, None)
                .await
                .unwrap_err()
        ),
        "fascicolo_riservato_ufficio"
    );
    let h = app
        .assign_fascicolo(t, &op, id, HandoffKind::Conoscenza, third, None)
        .await
        .unwrap();
    assert_eq!(
        app.office_inbox(t, &designated_office, third)
            .await
            .unwrap()
            .len(),
        1
    );

    // Lifted: everyone who reads the register reads it again. Ledgered.
    app.restrict_fascicolo(t, &op, id, None).await.unwrap();
    assert_eq!(
        code(app.restrict_fascicolo(t, &op, id, None).await.unwrap_err()),
        "fascicolo_non_riservato"
    );
    app.fascicolo(t, &outsider, id).await.unwrap();
    app.fascicolo(t, &segretario, sub.fascicolo.id)
        .await
        .unwrap();
    let _ = h;
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

#[tokio::test]
async fn subfascicoli_sqlite() {
    subfascicoli(Backend::Sqlite).await
}

#[tokio::test]
async fn subfascicoli_postgres() {
    subfascicoli(Backend::Postgres).await
}

#[tokio::test]
async fn handoffs_sqlite() {
    handoffs(Backend::Sqlite).await
}

#[tokio::test]
async fn handoffs_postgres() {
    handoffs(Backend::Postgres).await
}

#[tokio::test]
async fn restricted_sqlite() {
    restricted(Backend::Sqlite).await
}

#[tokio::test]
async fn restricted_postgres() {
    restricted(Backend::Postgres).await
}
