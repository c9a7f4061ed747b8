//! Hand-offs to a named person, refused hand-offs back at their desk, and
//! forwarding in one transaction (issue 4, part 4; TI-5, TI-6, LOG-6), for
//! registrations and fascicoli, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::fascicoli::{FascicoloInput, RestrictionInput};
use palazzo_services::handoffs::{HandoffAction, HandoffTarget};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::verify::verify;
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::{office_fixture, tenant_fixture};
use palazzo_store::*;
use palazzo_testkit::{PgDatabase, TempDir};

struct Fixture {
    app: App,
    keys: KeyStore,
    tenant: TenantId,
    protocollo: OfficeId,
    anagrafe: OfficeId,
    tecnico: OfficeId,
    _dir: TempDir,
    pg: Option<PgDatabase>,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = TempDir::new("handoffs");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("h.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let tenant = app.create_tenant(tenant_fixture(1)).await.unwrap().id;
    let mut offices = Vec::new();
    for slug in ["protocollo", "anagrafe", "tecnico"] {
        offices.push(
            app.create_office(tenant, office_fixture(slug))
                .await
                .unwrap()
                .id,
        );
    }
    Fixture {
        app,
        keys,
        tenant,
        protocollo: offices[0],
        anagrafe: offices[1],
        tecnico: offices[2],
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

/// A person of tenant `t` with the given roles, and the actor they sign in as.
async fn person(app: &App, t: TenantId, given: &str, roles: &[(Role, Option<OfficeId>)]) -> Actor {
    let mut tx = app.db().begin().await.unwrap();
    let u = tx
        .insert_user(
            t,
            &NewUser {
                codice_fiscale: None,
                given_name: given.into(),
                family_name: "Rossi".into(),
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
    for (role, office) in roles {
        tx.insert_role_grant(
            t,
            &RoleGrant {
                user: u.id,
                role: *role,
                office: office.unwrap_or(OfficeId(0)),
                source: GrantSource::Admin,
                granted_at: jiff::Timestamp::now(),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    Actor {
        user: Some(u.id),
        admin: None,
        principal: Principal {
            grants: roles
                .iter()
                .map(|(role, office)| Grant {
                    role: *role,
                    office: office.map(|o| o.0),
                })
                .collect(),
        },
        name: Some(format!("{given} Rossi")),
        acr: None,
    }
}

fn user(a: &Actor) -> UserId {
    a.user.unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> &'static str {
    r.unwrap_err().code()
}

fn input(subject: &str) -> RegistrationInput {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
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
            size: subject.len() as u64,
            sha256: Impronta::of(subject.as_bytes()),
        },
        attachments: vec![],
        classification: Some("XI.2".into()),
        office: None,
        emergency: None,
    }
}

async fn ledger(app: &App, t: TenantId) -> Vec<LedgerEvent> {
    let size = app.db().ledger_size(t).await.unwrap();
    app.db().ledger_events(t, 0, size).await.unwrap()
}

async fn people(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let desk = person(app, t, "Paola", &[(Role::Operatore, Some(f.protocollo))]).await;
    let anna = person(app, t, "Anna", &[(Role::Operatore, Some(f.anagrafe))]).await;
    let collega = person(app, t, "Carlo", &[(Role::Operatore, Some(f.anagrafe))]).await;
    let capo = person(app, t, "Rita", &[(Role::Responsabile, Some(f.anagrafe))]).await;
    let capo_tecnico = person(app, t, "Ugo", &[(Role::Responsabile, Some(f.tecnico))]).await;
    let dirigente = person(app, t, "Dario", &[(Role::Dirigente, None)]).await;
    let segretario = person(app, t, "Sara", &[(Role::Segretario, None)]).await;
    let due_uffici = person(
        app,
        t,
        "Bice",
        &[
            (Role::Operatore, Some(f.anagrafe)),
            (Role::Operatore, Some(f.tecnico)),
        ],
    )
    .await;
    let other = app.create_tenant(tenant_fixture(2)).await.unwrap().id;
    let altrove = person(app, other, "Elio", &[(Role::Operatore, None)]).await;
    let r = app
        .register_protocol(t, &desk, input("Richiesta"))
        .await
        .unwrap();
    let assign =
        |to: HandoffTarget| app.assign_protocol(t, &desk, r.id, HandoffKind::Competenza, to, None);

    // Only an active member of staff who works cases, in the office named,
    // or in exactly one office when none is named.
    assert_eq!(
        code(assign(HandoffTarget::default()).await),
        "handoff_destinatario_mancante"
    );
    assert_eq!(
        code(assign(HandoffTarget::person(UserId(999_999))).await),
        "handoff_persona_sconosciuta"
    );
    assert_eq!(
        code(assign(HandoffTarget::person(user(&altrove))).await),
        "handoff_persona_sconosciuta",
        "a person of another comune"
    );
    assert_eq!(
        code(assign(HandoffTarget::person(user(&segretario))).await),
        "handoff_persona_non_abilitata"
    );
    assert_eq!(
        code(assign(HandoffTarget::person_in(user(&anna), f.tecnico)).await),
        "handoff_persona_fuori_ufficio"
    );
    assert_eq!(
        code(assign(HandoffTarget::person(user(&due_uffici))).await),
        "handoff_ufficio_mancante"
    );
    assert_eq!(
        code(assign(HandoffTarget::person(user(&dirigente))).await),
        "handoff_ufficio_mancante"
    );
    assert_eq!(
        code(assign(HandoffTarget::person_in(user(&anna), OfficeId(999_999))).await),
        "office_unknown"
    );
    // Revoking the role ends the person's eligibility.
    let mut tx = app.db().begin().await.unwrap();
    tx.delete_role_grant(t, user(&collega), Role::Operatore, f.anagrafe)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        code(assign(HandoffTarget::person(user(&collega))).await),
        "handoff_persona_non_abilitata"
    );
    let collega = person(app, t, "Carlo", &[(Role::Operatore, Some(f.anagrafe))]).await;
    let refused_attempts = ledger(app, t).await.len();

    // To Anna by name: her office is the one she works in.
    let h = assign(HandoffTarget::person(user(&anna))).await.unwrap();
    assert_eq!(
        (h.data.office, h.data.user),
        (f.anagrafe, Some(user(&anna)))
    );
    assert_eq!(h.data.desk, Some(HandoffDesk::User(user(&desk))));
    assert_eq!(
        ledger(app, t).await.len(),
        refused_attempts + 1,
        "refusals wrote nothing"
    );
    assert_eq!(app.my_handoffs(t, &anna).await.unwrap(), vec![h.clone()]);
    assert!(app.my_handoffs(t, &collega).await.unwrap().is_empty());
    // The office inbox shows it too (with the person), for its staff.
    assert_eq!(
        app.office_inbox(t, &collega, f.anagrafe)
            .await
            .unwrap()
            .len(),
        1
    );

    // A colleague of the same office cannot act on Anna's hand-off; nor
    // can the responsabile of another office. Her responsabile and a
    // dirigente may (they manage the office's hand-offs).
    for who in [&collega, &capo_tecnico, &desk] {
        assert!(
            matches!(
                app.act_on_handoff(t, who, h.id, HandoffAction::Accept, None)
                    .await,
                Err(ServiceError::Forbidden)
            ),
            "{:?}",
            who.name
        );
        assert!(matches!(
            app.forward_handoff(t, who, h.id, f.tecnico, None).await,
            Err(ServiceError::Forbidden)
        ));
    }
    assert_eq!(app.db().handoff(t, h.id).await.unwrap(), Some(h.clone()));

    // Forwarding is one transaction: a refused target leaves the hand-off
    // open and unchanged, and nothing is ledgered.
    let before = ledger(app, t).await.len();
    let steps_before = app
        .db()
        .handoff_steps(t, HandoffSubject::Registration(r.id))
        .await
        .unwrap();
    for bad in [
        HandoffTarget::person(user(&segretario)),
        HandoffTarget::person(UserId(999_999)),
        HandoffTarget::from(OfficeId(999_999)),
        HandoffTarget::person(user(&anna)),
    ] {
        assert!(
            app.forward_handoff(t, &anna, h.id, bad, Some("x"))
                .await
                .is_err()
        );
    }
    assert_eq!(
        code(
            app.forward_handoff(t, &anna, h.id, HandoffTarget::person(user(&anna)), None)
                .await
        ),
        "handoff_stessa_persona"
    );
    assert_eq!(app.db().handoff(t, h.id).await.unwrap(), Some(h.clone()));
    assert_eq!(
        app.db()
            .handoff_steps(t, HandoffSubject::Registration(r.id))
            .await
            .unwrap(),
        steps_before
    );
    assert_eq!(ledger(app, t).await.len(), before);

    // Anna accepts and forwards to the technical office: two ledger events
    // (the ended hand-off, its continuation), consecutive, one commit.
    app.act_on_handoff(t, &anna, h.id, HandoffAction::Accept, None)
        .await
        .unwrap();
    let before = ledger(app, t).await.len();
    let h2 = app
        .forward_handoff(t, &anna, h.id, f.tecnico, Some("Di competenza edilizia"))
        .await
        .unwrap();
    let events = ledger(app, t).await;
    let new: Vec<(&str, &str)> = events[before..]
        .iter()
        .map(|e| (e.kind.as_str(), e.subject.as_str()))
        .collect();
    // LOG-6: one event, on the forwarded hand-off, which names its
    // continuation and binds the state it was created with.
    assert_eq!(
        new,
        vec![("handoff.inoltrato", format!("handoff:{}", h.id.0).as_str())]
    );
    let forwarded = app.db().handoff(t, h.id).await.unwrap().unwrap();
    assert_eq!(
        forwarded.continuation,
        Some((h2.id, palazzo_services::ledger::state_hash(&h2).unwrap()))
    );
    assert_eq!(
        events[before].state_hash,
        palazzo_services::ledger::state_hash(&forwarded).unwrap()
    );
    assert!(verify(app.db(), &f.keys).await.unwrap().ok());
    assert_eq!(h2.data.parent, Some(h.id));
    assert_eq!(
        h2.data.desk,
        Some(HandoffDesk::User(user(&anna))),
        "from Anna's desk"
    );
    assert!(app.my_handoffs(t, &anna).await.unwrap().is_empty());

    // The technical office refuses it with a reason: it comes back to Anna
    // (who forwarded it), flagged with the reason and the refuser, and to
    // nobody else.
    let tecnico_op = person(app, t, "Tea", &[(Role::Operatore, Some(f.tecnico))]).await;
    app.act_on_handoff(
        t,
        &tecnico_op,
        h2.id,
        HandoffAction::Reject,
        Some("Non è edilizia"),
    )
    .await
    .unwrap();
    let back = app.my_returned_handoffs(t, &anna).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].handoff.id, h2.id);
    assert_eq!(back[0].refusal.note.as_deref(), Some("Non è edilizia"));
    assert!(back[0].refusal.actor.starts_with("Tea Rossi"));
    assert!(app.my_returned_handoffs(t, &desk).await.unwrap().is_empty());
    assert!(
        app.returned_handoffs(t, &collega, HandoffDesk::Office(f.anagrafe))
            .await
            .unwrap()
            .is_empty()
    );
    // Only the desk works it.
    assert!(matches!(
        app.returned_handoffs(t, &collega, HandoffDesk::User(user(&anna)))
            .await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        app.acknowledge_refused_handoff(t, &collega, h2.id, None)
            .await,
        Err(ServiceError::Forbidden)
    ));
    // Anna re-assigns it to Bice in the anagrafe: it leaves her "Rifiutate".
    let h3 = app
        .reassign_refused_handoff(
            t,
            &anna,
            h2.id,
            HandoffTarget::person_in(user(&due_uffici), f.anagrafe),
            Some("Prova tu"),
        )
        .await
        .unwrap();
    assert_eq!(h3.data.parent, Some(h2.id));
    assert_eq!(h3.data.desk, Some(HandoffDesk::User(user(&anna))));
    assert!(app.my_returned_handoffs(t, &anna).await.unwrap().is_empty());
    assert_eq!(
        code(
            app.reassign_refused_handoff(t, &anna, h2.id, f.tecnico, None)
                .await
        ),
        "handoff_stato",
        "once"
    );
    // Bice refuses too; Anna takes note without re-assigning.
    app.act_on_handoff(
        t,
        &due_uffici,
        h3.id,
        HandoffAction::Reject,
        Some("Nemmeno"),
    )
    .await
    .unwrap();
    assert_eq!(app.my_returned_handoffs(t, &anna).await.unwrap().len(), 1);
    let noted = app
        .acknowledge_refused_handoff(t, &anna, h3.id, Some("Archivio"))
        .await
        .unwrap();
    assert_eq!(noted.state, HandoffState::Rifiutato);
    assert!(app.my_returned_handoffs(t, &anna).await.unwrap().is_empty());
    assert_eq!(
        code(app.acknowledge_refused_handoff(t, &anna, h3.id, None).await),
        "handoff_stato"
    );

    // A hand-off to the office, refused: back to the office that forwarded
    // it, for that office's staff.
    let h4 = app
        .assign_protocol(t, &desk, r.id, HandoffKind::Competenza, f.anagrafe, None)
        .await
        .unwrap();
    let h5 = app
        .forward_handoff(
            t,
            &collega,
            h4.id,
            HandoffTarget::person(user(&capo_tecnico)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(h5.data.desk, Some(HandoffDesk::Office(f.anagrafe)));
    // The responsabile manages the hand-offs of their own office only.
    assert!(matches!(
        app.act_on_handoff(t, &capo, h5.id, HandoffAction::Accept, None)
            .await,
        Err(ServiceError::Forbidden)
    ));
    app.act_on_handoff(
        t,
        &dirigente,
        h5.id,
        HandoffAction::Reject,
        Some("Decide il dirigente"),
    )
    .await
    .unwrap();
    let back = app
        .returned_handoffs(t, &collega, HandoffDesk::Office(f.anagrafe))
        .await
        .unwrap();
    assert_eq!(
        back.iter().map(|b| b.handoff.id).collect::<Vec<_>>(),
        vec![h5.id]
    );
    assert!(matches!(
        app.returned_handoffs(t, &tecnico_op, HandoffDesk::Office(f.anagrafe))
            .await,
        Err(ServiceError::Forbidden)
    ));
    app.reassign_refused_handoff(t, &capo, h5.id, f.anagrafe, None)
        .await
        .unwrap();

    // TI-5: the whole chain, with persons, never rewritten.
    let seg = actor_segretario();
    let (hs, steps) = app.protocol_route(t, &seg, r.id).await.unwrap();
    let chain: Vec<(Option<HandoffId>, OfficeId, Option<UserId>, HandoffState)> = hs
        .iter()
        .map(|h| (h.data.parent, h.data.office, h.data.user, h.state))
        .collect();
    assert_eq!(
        chain,
        vec![
            (None, f.anagrafe, Some(user(&anna)), HandoffState::Inoltrato),
            (Some(h.id), f.tecnico, None, HandoffState::Rifiutato),
            (
                Some(h2.id),
                f.anagrafe,
                Some(user(&due_uffici)),
                HandoffState::Rifiutato
            ),
            (None, f.anagrafe, None, HandoffState::Inoltrato),
            (
                Some(h4.id),
                f.tecnico,
                Some(user(&capo_tecnico)),
                HandoffState::Rifiutato
            ),
            (Some(h5.id), f.anagrafe, None, HandoffState::Assegnato),
        ]
    );
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "assegnato",
            "accettato",
            "inoltrato",
            "assegnato",
            "rifiutato",
            "assegnato",
            "rifiutato",
            "preso_atto",
            "assegnato",
            "inoltrato",
            "assegnato",
            "rifiutato",
            "assegnato"
        ]
    );

    // The waiting-time report has a row per person assigned by name.
    let waits = app
        .office_waits(t, &seg, jiff::Timestamp::now())
        .await
        .unwrap();
    let row = |o: OfficeId, u: Option<UserId>| {
        waits
            .iter()
            .find(|w| w.office == o && w.user == u)
            .map(|w| (w.handled, w.waiting))
    };
    assert_eq!(row(f.anagrafe, None), Some((3, 1)));
    assert_eq!(row(f.anagrafe, Some(user(&anna))), Some((1, 0)));
    assert_eq!(row(f.anagrafe, Some(user(&due_uffici))), Some((1, 0)));
    assert_eq!(row(f.tecnico, Some(user(&capo_tecnico))), Some((1, 0)));
    let names = app
        .staff_names(t, &seg, &[user(&anna), user(&altrove)])
        .await
        .unwrap();
    assert_eq!(
        names.get(&user(&anna)).map(String::as_str),
        Some("Anna Rossi")
    );
    assert!(
        !names.contains_key(&user(&altrove)),
        "another comune's person"
    );
    let staff = app.handoff_staff(t, &seg).await.unwrap();
    assert!(staff.iter().any(|(u, _)| *u == user(&anna)));
    assert!(!staff.iter().any(|(u, _)| *u == user(&segretario)));

    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

fn actor_segretario() -> Actor {
    Actor {
        user: None,
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role: Role::Segretario,
                office: None,
            }],
        },
        name: Some("Segretario".into()),
        acr: None,
    }
}

/// A fascicolo handed to a person: the index names them (Allegato 5 `AS`),
/// a restricted one only to a person inside its area.
async fn fascicoli(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let op = person(app, t, "Olga", &[(Role::Operatore, Some(f.tecnico))]).await;
    let anna = person(app, t, "Anna", &[(Role::Operatore, Some(f.anagrafe))]).await;
    let collega = person(app, t, "Carlo", &[(Role::Operatore, Some(f.anagrafe))]).await;
    let s = app
        .open_fascicolo(
            t,
            &op,
            FascicoloInput {
                classification: "VI.3".into(),
                kind: palazzo_store::FascicoloKind::Procedimento,
                subject: "Permesso di costruire".into(),
                office: f.tecnico,
                responsible: "Ing. Olga Rossi".into(),
                participants: vec![],
                holder: None,
                parent: None,
            },
        )
        .await
        .unwrap();
    let id = s.fascicolo.id;
    let h = app
        .assign_fascicolo(
            t,
            &op,
            id,
            HandoffKind::Conoscenza,
            HandoffTarget::person(user(&anna)),
            Some("Per parere"),
        )
        .await
        .unwrap();
    assert_eq!(h.data.user, Some(user(&anna)));
    assert_eq!(app.my_handoffs(t, &anna).await.unwrap(), vec![h.clone()]);
    assert!(matches!(
        app.act_on_handoff(t, &collega, h.id, HandoffAction::Close, None)
            .await,
        Err(ServiceError::Forbidden)
    ));
    app.act_on_handoff(t, &anna, h.id, HandoffAction::Close, Some("Visto"))
        .await
        .unwrap();
    let idx = app.fascicolo_index(t, &op, id).await.unwrap();
    assert_eq!(idx.assignments.len(), 1);
    let p = idx.assignments[0].person.as_ref().unwrap();
    assert_eq!(
        (p.given_name.as_str(), p.family_name.as_str()),
        ("Anna", "Rossi")
    );
    let xml = idx.xml();
    assert!(
        xml.contains("<AS><Cognome>Rossi</Cognome><Nome>Anna</Nome></AS></SoggettoAssegnatario>"),
        "{xml}"
    );
    assert!(xml.contains("<DataFineAssegnazione>"));

    // Restricted to the technical office and Anna: Anna may receive it,
    // her colleague (outside the area) may not.
    app.restrict_fascicolo(
        t,
        &op,
        id,
        Some(RestrictionInput {
            offices: vec![],
            users: vec![user(&anna)],
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        code(
            app.assign_fascicolo(
                t,
                &op,
                id,
                HandoffKind::Competenza,
                HandoffTarget::person(user(&collega)),
                None
            )
            .await
        ),
        "fascicolo_riservato_ufficio"
    );
    let h2 = app
        .assign_fascicolo(
            t,
            &op,
            id,
            HandoffKind::Competenza,
            HandoffTarget::person(user(&anna)),
            None,
        )
        .await
        .unwrap();
    // Refused: back to Olga, who assigned it; re-assigned inside the area.
    app.act_on_handoff(
        t,
        &anna,
        h2.id,
        HandoffAction::Reject,
        Some("Non di mia competenza"),
    )
    .await
    .unwrap();
    let back = app.my_returned_handoffs(t, &op).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].handoff.data.subject, HandoffSubject::Fascicolo(id));
    assert_eq!(
        code(
            app.reassign_refused_handoff(
                t,
                &op,
                h2.id,
                HandoffTarget::person(user(&collega)),
                None
            )
            .await
        ),
        "fascicolo_riservato_ufficio"
    );
    app.reassign_refused_handoff(t, &op, h2.id, f.tecnico, None)
        .await
        .unwrap();
    let (hs, _) = app.fascicolo_route(t, &op, id).await.unwrap();
    assert_eq!(hs.len(), 3);
    assert_eq!(hs[2].data.parent, Some(h2.id));
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

/// Two desks re-assigning the same refused hand-off at once: exactly one
/// continuation is created (migration 0022), the others are refused with
/// `handoff_stato` and leave no hand-off and no ledger event behind.
async fn reassign_race(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let desk = person(app, t, "Paola", &[(Role::Operatore, Some(f.protocollo))]).await;
    let tecnico = person(app, t, "Tea", &[(Role::Operatore, Some(f.tecnico))]).await;
    let r = app
        .register_protocol(t, &desk, input("Richiesta contesa"))
        .await
        .unwrap();
    let h = app
        .assign_protocol(t, &desk, r.id, HandoffKind::Competenza, f.tecnico, None)
        .await
        .unwrap();
    app.act_on_handoff(
        t,
        &tecnico,
        h.id,
        HandoffAction::Reject,
        Some("Non è nostro"),
    )
    .await
    .unwrap();
    let events_before = ledger(app, t).await.len();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, desk) = (app.clone(), desk.clone());
        let (id, to) = (h.id, f.anagrafe);
        tasks.push(tokio::spawn(async move {
            app.reassign_refused_handoff(t, &desk, id, to, None).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(n) => {
                won += 1;
                assert_eq!(n.data.parent, Some(h.id));
            }
            Err(e) => assert_eq!(e.code(), "handoff_stato", "{e:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one re-assignment");
    let route = app
        .db()
        .handoffs_of(t, HandoffSubject::Registration(r.id))
        .await
        .unwrap();
    assert_eq!(route.len(), 2, "the refused hand-off and one continuation");
    assert_eq!(ledger(app, t).await.len(), events_before + 1);
    done(f).await;
}

/// The continuation of a forward has no event of its own until it changes:
/// the forwarded hand-off's one event binds it (LOG-6, migration 0023). A
/// change to it, to the binding, or its deletion is still found by
/// `palazzo verify`; once it has an event of its own, that one counts.
async fn forward_binding(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let desk = person(app, t, "Paola", &[(Role::Operatore, Some(f.protocollo))]).await;
    let anna = person(app, t, "Anna", &[(Role::Operatore, Some(f.anagrafe))]).await;
    let tea = person(app, t, "Tea", &[(Role::Operatore, Some(f.tecnico))]).await;
    let mut forwards = Vec::new();
    for subject in ["Uno", "Due", "Tre", "Quattro"] {
        let r = app
            .register_protocol(t, &desk, input(subject))
            .await
            .unwrap();
        let h = app
            .assign_protocol(t, &desk, r.id, HandoffKind::Competenza, f.anagrafe, None)
            .await
            .unwrap();
        let next = app
            .forward_handoff(t, &anna, h.id, f.tecnico, None)
            .await
            .unwrap();
        forwards.push((h.id, next.id));
    }
    // The fourth continuation is accepted: from then on its own event binds it.
    let (_, accepted) = forwards[3];
    app.act_on_handoff(t, &tea, accepted, HandoffAction::Accept, None)
        .await
        .unwrap();
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);

    // The binding cannot be rewritten through the store's guard…
    let (first, _) = forwards[0];
    assert!(
        app.db()
            .execute_raw(&format!(
                "UPDATE handoffs SET continuation_state = NULL WHERE id = {}",
                first.0
            ))
            .await
            .is_err(),
        "the binding is written once"
    );
    // …and behind its back each change is found.
    let disarm: &[&str] = match backend {
        Backend::Sqlite => &[
            "DROP TRIGGER handoffs_continuation_once",
            "DROP TRIGGER handoff_steps_append_only_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER handoffs_continuation_once ON handoffs",
            "DROP TRIGGER handoff_steps_append_only ON handoff_steps",
        ],
    };
    for sql in disarm {
        app.db().execute_raw(sql).await.unwrap();
    }
    let (_, altered) = forwards[0];
    let (unbound_parent, unbound) = forwards[1];
    let (_, deleted) = forwards[2];
    for sql in [
        format!(
            "UPDATE handoffs SET kind = 'conoscenza' WHERE id = {}",
            altered.0
        ),
        format!(
            "UPDATE handoffs SET continuation_id = NULL, continuation_state = NULL WHERE id = {}",
            unbound_parent.0
        ),
        format!("DELETE FROM handoff_steps WHERE handoff_id = {}", deleted.0),
        format!("DELETE FROM handoffs WHERE id = {}", deleted.0),
        format!(
            "UPDATE handoffs SET kind = 'conoscenza' WHERE id = {}",
            accepted.0
        ),
    ] {
        app.db().execute_raw(&sql).await.unwrap();
    }
    let report = verify(app.db(), &f.keys).await.unwrap();
    let altered_subjects = |want: fn(&palazzo_services::verify::Problem) -> Option<&str>| {
        let mut v: Vec<String> = report
            .problems
            .iter()
            .filter_map(want)
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    use palazzo_services::verify::Problem;
    let mut want_altered = vec![
        altered.subject(),
        unbound_parent.subject(),
        accepted.subject(),
    ];
    want_altered.sort();
    assert_eq!(
        altered_subjects(|p| match p {
            Problem::RecordAltered { subject, .. } => Some(subject.as_str()),
            _ => None,
        }),
        want_altered,
        "{:?}",
        report.problems
    );
    assert_eq!(
        altered_subjects(|p| match p {
            Problem::RecordWithoutEvent { subject, .. } => Some(subject.as_str()),
            _ => None,
        }),
        vec![unbound.subject()],
        "{:?}",
        report.problems
    );
    assert_eq!(
        altered_subjects(|p| match p {
            Problem::RecordMissing { subject, .. } => Some(subject.as_str()),
            _ => None,
        }),
        vec![deleted.subject()],
        "{:?}",
        report.problems
    );
    done(f).await;
}

#[tokio::test]
async fn forward_binding_sqlite() {
    forward_binding(Backend::Sqlite).await
}

#[tokio::test]
async fn forward_binding_postgres() {
    forward_binding(Backend::Postgres).await
}

#[tokio::test]
async fn reassign_race_sqlite() {
    reassign_race(Backend::Sqlite).await
}

#[tokio::test]
async fn reassign_race_postgres() {
    reassign_race(Backend::Postgres).await
}

#[tokio::test]
async fn people_sqlite() {
    people(Backend::Sqlite).await
}

#[tokio::test]
async fn people_postgres() {
    people(Backend::Postgres).await
}

#[tokio::test]
async fn fascicoli_sqlite() {
    fascicoli(Backend::Sqlite).await
}

#[tokio::test]
async fn fascicoli_postgres() {
    fascicoli(Backend::Postgres).await
}
