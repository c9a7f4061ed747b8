//! The protocol register on both backends (issue 4, part 1): numbers from
//! 32 concurrent clients are 1..N with no gap or duplicate and in time
//! order; fixed fields cannot change and `palazzo verify` names a changed
//! one; annulment needs an authorised role, a reason and an act, and leaves
//! the entry readable; every change is a ledger event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_services::verify::{Problem, verify};
use palazzo_services::{App, ServiceError};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::{DocumentRef, RegistrationId, Store, TenantId, UserId};
use palazzo_testkit::{PgDatabase, TempDir};

fn actor(role: Role) -> Actor {
    Actor {
        user: Some(UserId(1)),
        admin: None,
        principal: Principal {
            grants: vec![Grant {
                role,
                office: role.is_office_scoped().then_some(1),
            }],
        },
        name: Some(format!("Test {}", role.code())),
        acr: None,
    }
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

struct Fixture {
    app: App,
    keys: KeyStore,
    tenant: TenantId,
    _dir: TempDir,
    pg: Option<PgDatabase>,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = TempDir::new("protocollo");
    let (db, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (Db::open(&pg.url).await.unwrap(), Some(pg))
        }
        Backend::Sqlite => (
            Db::open_sqlite(&dir.path().join("p.db")).await.unwrap(),
            None,
        ),
    };
    let keys = KeyStore::new(dir.path().join("keys"));
    let app = App::new(db, keys.clone()).await.unwrap();
    let tenant = app.create_tenant(tenant_fixture(1)).await.unwrap().id;
    Fixture {
        app,
        keys,
        tenant,
        _dir: dir,
        pg,
    }
}

async fn concurrent_numbers(backend: Backend) {
    let f = fixture(backend).await;
    let clients = 32;
    let per_client = 8;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let app = f.app.clone();
        let t = f.tenant;
        tasks.push(tokio::spawn(async move {
            let op = actor(Role::Operatore);
            let mut got = Vec::new();
            for i in 0..per_client {
                let r = app
                    .register_protocol(t, &op, input(&format!("Istanza {c}-{i}")))
                    .await
                    .unwrap();
                got.push((r.number.get(), r.registered_at, r.id));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let n = (clients * per_client) as u64;
    let numbers: Vec<u64> = all.iter().map(|x| x.0).collect();
    assert_eq!(
        numbers,
        (1..=n).collect::<Vec<_>>(),
        "1..N, no gap, no duplicate"
    );
    for w in all.windows(2) {
        assert!(w[0].1 < w[1].1, "number order and time order agree: {w:?}");
    }
    // Formatted with seven digits.
    let first = f
        .app
        .db()
        .registration(f.tenant, all[0].2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.number.to_string(), "0000001");
    assert_eq!(
        first.year,
        palazzo_domain::calendar::rome_date(first.registered_at).year()
    );
    let report = verify(f.app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.records >= n as usize);
    done(f).await;
}

async fn rules(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let op = actor(Role::Operatore);

    // Who may register, and what is refused (codes, nothing stored).
    let citizen = actor(Role::Cittadino);
    assert!(matches!(
        app.register_protocol(t, &citizen, input("X")).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        app.register_protocol(t, &Actor::anonymous(), input("X"))
            .await,
        Err(ServiceError::Unauthenticated)
    ));
    let code = |r: Result<_, ServiceError>| match r {
        Err(ServiceError::Invalid { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        code(app.register_protocol(t, &op, input("  ")).await),
        "protocollo_oggetto_mancante"
    );
    let mut two_senders = input("Due mittenti");
    two_senders
        .correspondents
        .push(two_senders.correspondents[0].clone());
    assert_eq!(
        code(app.register_protocol(t, &op, two_senders).await),
        "protocollo_troppi_mittenti"
    );
    let mut no_one = input("Nessuno");
    no_one.correspondents.clear();
    assert_eq!(
        code(app.register_protocol(t, &op, no_one).await),
        "protocollo_corrispondente_mancante"
    );
    let mut bad_class = input("Classe");
    bad_class.classification = Some("XV.1".into());
    assert_eq!(
        code(app.register_protocol(t, &op, bad_class).await),
        "classifica_unknown"
    );
    let mut bad_office = input("Ufficio");
    bad_office.office = Some(palazzo_store::OfficeId(999));
    assert_eq!(
        code(app.register_protocol(t, &op, bad_office).await),
        "office_unknown"
    );
    let mut long_ref = input("Rif");
    long_ref.received_number = Some("x".repeat(101));
    assert_eq!(
        code(app.register_protocol(t, &op, long_ref).await),
        "protocollo_numero_ricevuto"
    );

    // Refusals consumed no number.
    let r1 = app.register_protocol(t, &op, input("Prima")).await.unwrap();
    assert_eq!(r1.number.get(), 1);
    assert_eq!(r1.data.classification.as_deref(), Some("XI.2"));
    let r2 = app
        .register_protocol(t, &op, input("Seconda"))
        .await
        .unwrap();

    // Reassignment: only classification and office, ledgered.
    let size = app.db().ledger_size(t).await.unwrap();
    let r = app
        .reassign_protocol(t, &op, r1.id, Some("i.6"), None)
        .await
        .unwrap();
    assert_eq!(
        r.data.classification.as_deref(),
        Some("I.6"),
        "stored in canonical form"
    );
    assert_eq!(app.db().ledger_size(t).await.unwrap(), size + 1);
    // The change keeps its author, its time and the values before.
    let changed = r.changed.as_ref().expect("last change recorded");
    assert!(changed.by.contains("user:1"), "{}", changed.by);
    let history = app.protocol_changes(t, &op, r1.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old_classification.as_deref(), Some("XI.2"));
    assert_eq!(history[0].new_classification.as_deref(), Some("I.6"));
    assert_eq!((history[0].at, &history[0].by), (changed.at, &changed.by));
    // The author is bound by the ledger: rewriting it is caught by verify.
    let forged = format!(
        "UPDATE protocol_entries SET changed_by = 'Qualcun altro' WHERE id = {}",
        r1.id.0
    );
    app.db().execute_raw(&forged).await.unwrap();
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject, .. } if subject == &format!("protocollo:{}", r1.id.0))),
        "{:?}",
        report.problems
    );
    let restore = format!(
        "UPDATE protocol_entries SET changed_by = '{}' WHERE id = {}",
        changed.by.replace('\'', "''"),
        r1.id.0
    );
    app.db().execute_raw(&restore).await.unwrap();
    assert!(verify(app.db(), &f.keys).await.unwrap().ok());

    // Annulment: an operator may not; reason and act are required.
    assert!(matches!(
        app.annul_protocol(t, &op, r1.id, "Doppione", "Det. 1/2026")
            .await,
        Err(ServiceError::Forbidden)
    ));
    let seg = actor(Role::Segretario);
    assert_eq!(
        code(app.annul_protocol(t, &seg, r1.id, "Doppione", " ").await),
        "protocollo_annullamento_incompleto"
    );
    let annulled = app
        .annul_protocol(
            t,
            &seg,
            r1.id,
            "Registrata due volte",
            "Decreto del responsabile n. 3/2026",
        )
        .await
        .unwrap();
    let a = annulled.annulment.as_ref().unwrap();
    assert_eq!(a.act, "Decreto del responsabile n. 3/2026");
    assert!(a.by.contains("user:1"));
    assert_eq!(
        code(app.annul_protocol(t, &seg, r1.id, "Ancora", "Atto").await),
        "protocollo_gia_annullato"
    );
    // Still readable, number not reused, no more changes.
    let stored = app.protocol_entry(t, &seg, r1.id).await.unwrap();
    assert_eq!(stored.data.subject, "Prima");
    assert_eq!(
        code(
            app.reassign_protocol(t, &op, r1.id, Some("I.6"), None)
                .await
        ),
        "protocollo_annullato"
    );
    let r3 = app.register_protocol(t, &op, input("Terza")).await.unwrap();
    assert_eq!(r3.number.get(), 3);
    let kinds: Vec<String> = {
        let n = app.db().ledger_size(t).await.unwrap();
        app.db()
            .ledger_events(t, 0, n)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.subject == format!("protocollo:{}", r1.id.0))
            .map(|e| e.kind)
            .collect()
    };
    assert_eq!(
        kinds,
        [
            "protocollo.registered",
            "protocollo.reassigned",
            "protocollo.annulled"
        ]
    );
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);

    // The database itself refuses a change of a fixed field...
    let sql = format!(
        "UPDATE protocol_entries SET subject = 'Altro' WHERE id = {}",
        r2.id.0
    );
    assert!(
        app.db().execute_raw(&sql).await.is_err(),
        "fixed fields are guarded"
    );
    assert!(
        app.db()
            .execute_raw(&format!(
                "DELETE FROM protocol_entries WHERE id = {}",
                r2.id.0
            ))
            .await
            .is_err()
    );
    // ...and when someone removes the guard, verify names the registration.
    let disarm = match app.db().backend() {
        Backend::Sqlite => "DROP TRIGGER protocol_entries_fixed",
        Backend::Postgres => "DROP TRIGGER protocol_entries_fixed ON protocol_entries",
    };
    app.db().execute_raw(disarm).await.unwrap();
    app.db().execute_raw(&sql).await.unwrap();
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject, .. } if subject == &format!("protocollo:{}", r2.id.0))),
        "{:?}",
        report.problems
    );
    let _ = RegistrationId(0);
    done(f).await;
}

/// `palazzo verify` detects a direct change to any column of any entry
/// (issue 4, "Reliability": "a test alters the stored row directly"): each
/// fixed field of art. 53, and the modifiable ones too when changed behind
/// Palazzo's back, on its own entry, with the guard trigger removed.
async fn tamper_every_column(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let op = actor(Role::Operatore);
    let office = app
        .create_office(t, palazzo_store::conformance::office_fixture("tributi"))
        .await
        .unwrap()
        .id;
    let pg = backend == Backend::Postgres;
    // (column, new value as SQL) — each keeps the row readable, so that
    // verify compares hashes instead of failing to decode.
    let cases: Vec<(&str, String)> = vec![
        ("register", "'REG_ALTRO'".into()),
        ("year", "year - 1".into()),
        ("number", "number + 1000".into()),
        (
            "registered_at",
            if pg {
                "registered_at + interval '1 second'".into()
            } else {
                "'2020-01-01T00:00:00Z'".into()
            },
        ),
        ("flow", "'I'".into()),
        ("subject", "'Oggetto cambiato'".into()),
        (
            "correspondents",
            "REPLACE(correspondents, 'Mario Rossi', 'Maria Rossi')".into(),
        ),
        ("received_number", "'999'".into()),
        ("received_date", "'2020-02-02'".into()),
        (
            "primary_document",
            "REPLACE(primary_document, '.pdf', '.PDF')".into(),
        ),
        (
            "attachments",
            "REPLACE(attachments, 'allegato', 'Allegato')".into(),
        ),
        ("registered_by", "'qualcun altro'".into()),
        (
            "emergency",
            r#"'{"register":"EMERG","number":7,"recorded_at":"2026-01-01T00:00:00Z"}'"#.into(),
        ),
        ("classification", "'I.6'".into()),
        ("office_id", format!("{}", office.0)),
    ];
    let mut altered = Vec::new();
    for (column, _) in &cases {
        let mut i = input(&format!("Voce {column}"));
        i.attachments = vec![DocumentRef {
            name: "allegato.pdf".into(),
            media_type: "application/pdf".into(),
            size: 3,
            sha256: Impronta::of(column.as_bytes()),
        }];
        altered.push(app.register_protocol(t, &op, i).await.unwrap().id);
    }
    let untouched = app
        .register_protocol(t, &op, input("Mai toccata"))
        .await
        .unwrap();
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let disarm = match backend {
        Backend::Sqlite => "DROP TRIGGER protocol_entries_fixed",
        Backend::Postgres => "DROP TRIGGER protocol_entries_fixed ON protocol_entries",
    };
    app.db().execute_raw(disarm).await.unwrap();
    for ((column, value), id) in cases.iter().zip(&altered) {
        let changed = app
            .db()
            .execute_raw(&format!(
                "UPDATE protocol_entries SET {column} = {value} WHERE id = {}",
                id.0
            ))
            .await
            .unwrap_or_else(|e| panic!("altering {column}: {e}"));
        assert_eq!(changed, 1, "{column}");
    }
    let report = verify(app.db(), &f.keys).await.unwrap();
    for ((column, _), id) in cases.iter().zip(&altered) {
        let subject = format!("protocollo:{}", id.0);
        assert!(
            report.problems.iter().any(|p| matches!(p,
                Problem::RecordAltered { subject: s, .. } if s == &subject)),
            "a change of {column} is not detected: {:?}",
            report.problems
        );
    }
    let clean = format!("protocollo:{}", untouched.id.0);
    assert!(
        !report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject: s, .. } if s == &clean)),
        "an untouched entry is reported: {:?}",
        report.problems
    );
    done(f).await;
}

async fn handoffs(backend: Backend) {
    use palazzo_services::protocollo::HandoffAction;
    use palazzo_store::{HandoffKind, HandoffState};
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let anagrafe = app
        .create_office(t, palazzo_store::conformance::office_fixture("anagrafe"))
        .await
        .unwrap()
        .id;
    let tecnico = app
        .create_office(t, palazzo_store::conformance::office_fixture("tecnico"))
        .await
        .unwrap()
        .id;
    let desk = actor(Role::Operatore);
    let in_office = |office: palazzo_store::OfficeId| Actor {
        principal: Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: Some(office.0),
            }],
        },
        ..actor(Role::Operatore)
    };
    let r = app
        .register_protocol(t, &desk, input("Richiesta"))
        .await
        .unwrap();

    // Assigned per competenza to the anagrafe; only its staff act on it.
    let h = app
        .assign_protocol(
            t,
            &desk,
            r.id,
            HandoffKind::Competenza,
            anagrafe,
            Some("Urgente"),
        )
        .await
        .unwrap();
    assert_eq!(h.state, HandoffState::Assegnato);
    assert!(matches!(
        app.act_on_handoff(t, &in_office(tecnico), h.id, HandoffAction::Accept, None)
            .await,
        Err(ServiceError::Forbidden)
    ));
    assert_eq!(
        app.office_inbox(t, &in_office(anagrafe), anagrafe)
            .await
            .unwrap()
            .len(),
        1
    );
    // A refusal needs a reason.
    let refusal = app
        .act_on_handoff(t, &in_office(anagrafe), h.id, HandoffAction::Reject, None)
        .await;
    assert!(matches!(
        refusal,
        Err(ServiceError::Invalid {
            code: "handoff_motivo_mancante",
            ..
        })
    ));
    let accepted = app
        .act_on_handoff(t, &in_office(anagrafe), h.id, HandoffAction::Accept, None)
        .await
        .unwrap();
    assert_eq!(accepted.state, HandoffState::Accettato);
    // Accepting twice is refused: the state moved on.
    assert!(matches!(
        app.act_on_handoff(t, &in_office(anagrafe), h.id, HandoffAction::Accept, None)
            .await,
        Err(ServiceError::Invalid {
            code: "handoff_stato",
            ..
        })
    ));
    // Forwarded to the technical office, which closes it.
    let next = app
        .forward_handoff(
            t,
            &in_office(anagrafe),
            h.id,
            tecnico,
            Some("Di competenza edilizia"),
        )
        .await
        .unwrap();
    assert_eq!(next.data.parent, Some(h.id));
    assert!(
        app.office_inbox(t, &in_office(anagrafe), anagrafe)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.office_inbox(t, &in_office(tecnico), tecnico)
            .await
            .unwrap()
            .len(),
        1
    );
    app.act_on_handoff(t, &in_office(tecnico), next.id, HandoffAction::Close, None)
        .await
        .unwrap();
    // Per conoscenza to the anagrafe: seen and closed, never accepted.
    let cc = app
        .assign_protocol(t, &desk, r.id, HandoffKind::Conoscenza, anagrafe, None)
        .await
        .unwrap();
    assert!(
        app.act_on_handoff(t, &in_office(anagrafe), cc.id, HandoffAction::Accept, None)
            .await
            .is_err()
    );

    // The route: every step, in order, with actors; nothing rewritten.
    let seg = actor(Role::Segretario);
    let (hs, steps) = app.protocol_route(t, &seg, r.id).await.unwrap();
    assert_eq!(hs.len(), 3);
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "assegnato",
            "accettato",
            "inoltrato",
            "assegnato",
            "chiuso",
            "assegnato"
        ]
    );
    assert!(steps.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(steps[0].note.as_deref(), Some("Urgente"));
    let sql = "UPDATE handoff_steps SET note = 'x'";
    assert!(
        app.db().execute_raw(sql).await.is_err(),
        "steps are append-only"
    );

    // Waiting times per office.
    let waits = app
        .office_waits(t, &seg, jiff::Timestamp::now())
        .await
        .unwrap();
    let a = waits.iter().find(|w| w.office == anagrafe).unwrap();
    assert_eq!(
        (a.handled, a.waiting),
        (1, 1),
        "one forwarded, one per conoscenza still open"
    );
    let b = waits.iter().find(|w| w.office == tecnico).unwrap();
    assert_eq!((b.handled, b.waiting), (1, 0));
    assert!(matches!(
        app.office_waits(t, &desk, jiff::Timestamp::now()).await,
        Err(ServiceError::Forbidden)
    ));
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    done(f).await;
}

async fn done(f: Fixture) {
    f.app.db().close().await;
    if let Some(pg) = f.pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn tamper_every_column_sqlite() {
    tamper_every_column(Backend::Sqlite).await
}

#[tokio::test]
async fn tamper_every_column_postgres() {
    tamper_every_column(Backend::Postgres).await
}

#[tokio::test]
async fn concurrent_numbers_sqlite() {
    concurrent_numbers(Backend::Sqlite).await
}

#[tokio::test]
async fn concurrent_numbers_postgres() {
    concurrent_numbers(Backend::Postgres).await
}

#[tokio::test]
async fn rules_sqlite() {
    rules(Backend::Sqlite).await
}

#[tokio::test]
async fn rules_postgres() {
    rules(Backend::Postgres).await
}

#[tokio::test]
async fn handoffs_sqlite() {
    handoffs(Backend::Sqlite).await
}

#[tokio::test]
async fn handoffs_postgres() {
    handoffs(Backend::Postgres).await
}
