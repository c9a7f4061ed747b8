//! The emergency register (DPR 445/2000 art. 63; PR-10) on both backends:
//! who may open, authorise and close; the 24-hour first authorisation and
//! the one-week further ones; the end within the authorised periods; the
//! recovery import (new ordinary numbers in emergency-number order, refusals
//! row by row, idempotent re-import, daily counts, the link both ways);
//! ledger events and `palazzo verify` naming a changed session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::{SignedDuration, Timestamp};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::protocollo::{Correspondent, Flow, Impronta};
use palazzo_services::access::Actor;
use palazzo_services::db::{Backend, Db};
use palazzo_services::emergenza::{
    AuthoriseEmergency, OpenEmergency, RecoveryOutcome, one_week_after,
};
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

struct Fixture {
    app: App,
    keys: KeyStore,
    tenant: TenantId,
    dir: TempDir,
    pg: Option<PgDatabase>,
}

async fn fixture(backend: Backend) -> Fixture {
    let dir = TempDir::new("emergenza");
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
        dir,
        pg,
    }
}

async fn done(f: Fixture) {
    f.app.db().close().await;
    if let Some(pg) = f.pg {
        pg.drop_now().await;
    }
}

/// A whole minute, some days ago.
fn days_ago(days: i64) -> Timestamp {
    let t = Timestamp::now() - SignedDuration::from_hours(24 * days);
    Timestamp::from_second(t.as_second() / 60 * 60).unwrap()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn open_input(start: Timestamp) -> OpenEmergency {
    OpenEmergency {
        code: None,
        cause: "Guasto del server del protocollo".into(),
        started_at: start,
        authorised_by: "Dott.ssa Maria Bianchi".into(),
        act: "Decreto n. 3/2026".into(),
        until: None,
    }
}

fn code_of(e: ServiceError) -> &'static str {
    e.code()
}

async fn authorisation_rules(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let seg = actor(Role::Segretario);
    let start = days_ago(5);

    // Only the responsabile's roles open, authorise and close.
    for role in [
        Role::Operatore,
        Role::Responsabile,
        Role::AdminComune,
        Role::Cittadino,
    ] {
        let e = app
            .open_emergency(t, &actor(role), open_input(start))
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{role}: {e:?}");
    }
    let anonymous = Actor::default();
    assert!(matches!(
        app.open_emergency(t, &anonymous, open_input(start))
            .await
            .unwrap_err(),
        ServiceError::Unauthenticated
    ));

    // The first authorisation: at most 24 hours from the start.
    let mut too_long = open_input(start);
    too_long.until = Some(start + hours(25));
    assert_eq!(
        code_of(app.open_emergency(t, &seg, too_long).await.unwrap_err()),
        "emergenza_autorizzazione_24h"
    );
    let mut future = open_input(Timestamp::now() + hours(2));
    future.code = Some("X".into());
    assert_eq!(
        code_of(app.open_emergency(t, &seg, future).await.unwrap_err()),
        "emergenza_inizio_futuro"
    );
    let mut empty = open_input(start);
    empty.act = "  ".into();
    assert_eq!(
        code_of(app.open_emergency(t, &seg, empty).await.unwrap_err()),
        "emergenza_autorizzazione_incompleta"
    );
    let s = app
        .open_emergency(t, &seg, open_input(start))
        .await
        .unwrap();
    let year = palazzo_domain::calendar::rome_date(start).year();
    assert_eq!(
        s.data.code,
        format!("EMERG-{year}-01"),
        "the first code of the year"
    );
    assert_eq!(s.authorisations.len(), 1);
    assert_eq!(
        s.authorised_until(),
        start + hours(24),
        "24 hours by default"
    );
    assert_eq!(s.authorisations[0].act, "Decreto n. 3/2026");
    // The next one takes the next code; a code is unique within the AOO.
    let other = app
        .open_emergency(t, &seg, open_input(start))
        .await
        .unwrap();
    assert_eq!(other.data.code, format!("EMERG-{year}-02"));
    let mut dup = open_input(start);
    dup.code = Some(format!("emerg-{year}-01"));
    assert_eq!(
        code_of(app.open_emergency(t, &seg, dup).await.unwrap_err()),
        "emergenza_codice_esistente"
    );

    // The end must fall within the authorised periods.
    let code = s.data.code.clone();
    assert_eq!(
        code_of(
            app.close_emergency(t, &seg, &code, start + hours(30))
                .await
                .unwrap_err()
        ),
        "emergenza_fine_non_autorizzata"
    );
    // Further periods start where the previous ends and last a week at most.
    let from = start + hours(24);
    let week = one_week_after(from).unwrap();
    let too_far = AuthoriseEmergency {
        authorised_by: "Dott.ssa Maria Bianchi".into(),
        act: "Decreto n. 4/2026".into(),
        until: week + SignedDuration::from_mins(1),
    };
    assert_eq!(
        code_of(
            app.authorise_emergency(t, &seg, &code, too_far)
                .await
                .unwrap_err()
        ),
        "emergenza_autorizzazione_settimana"
    );
    let op = actor(Role::Operatore);
    let ext = AuthoriseEmergency {
        authorised_by: "Dott.ssa Maria Bianchi".into(),
        act: "Decreto n. 4/2026".into(),
        until: from + hours(36),
    };
    assert!(matches!(
        app.authorise_emergency(t, &op, &code, ext.clone())
            .await
            .unwrap_err(),
        ServiceError::Forbidden
    ));
    let s = app.authorise_emergency(t, &seg, &code, ext).await.unwrap();
    assert_eq!(s.authorisations.len(), 2);
    assert_eq!(s.authorisations[1].valid_from, from, "contiguous");
    assert_eq!(s.authorised_until(), from + hours(36));
    // A third, a whole week long (seven Rome calendar days), is accepted.
    let from3 = s.authorised_until();
    let s = app
        .authorise_emergency(
            t,
            &seg,
            &code,
            AuthoriseEmergency {
                authorised_by: "Dott.ssa Maria Bianchi".into(),
                act: "Decreto n. 5/2026".into(),
                until: one_week_after(from3).unwrap(),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.authorisations.len(), 3);
    // Closed at restore; then nothing more can be added.
    let end = start + hours(30);
    assert!(matches!(
        app.close_emergency(t, &op, &code, end).await.unwrap_err(),
        ServiceError::Forbidden
    ));
    assert_eq!(
        code_of(
            app.close_emergency(t, &seg, &code, start - hours(1))
                .await
                .unwrap_err()
        ),
        "emergenza_fine"
    );
    let s = app.close_emergency(t, &seg, &code, end).await.unwrap();
    assert_eq!(s.closure.as_ref().unwrap().ended_at, end);
    assert_eq!(
        code_of(app.close_emergency(t, &seg, &code, end).await.unwrap_err()),
        "emergenza_chiusa"
    );
    assert_eq!(
        code_of(
            app.authorise_emergency(
                t,
                &seg,
                &code,
                AuthoriseEmergency {
                    authorised_by: "X".into(),
                    act: "Y".into(),
                    until: Timestamp::now(),
                },
            )
            .await
            .unwrap_err()
        ),
        "emergenza_chiusa"
    );
    // Stored as returned, and every step is a ledger event.
    let stored = app.emergency_session(t, &op, &code).await.unwrap();
    assert_eq!(stored, s, "the stored session reads back the same");
    let size = app.db().ledger_size(t).await.unwrap();
    let events = app.db().ledger_events(t, 0, size).await.unwrap();
    let subject = format!("emergenza:{}", s.id.0);
    let kinds: Vec<&str> = events
        .iter()
        .filter(|e| e.subject == subject)
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "emergenza.opened",
            "emergenza.authorised",
            "emergenza.authorised",
            "emergenza.closed"
        ]
    );
    // Citizens cannot read sessions.
    assert!(matches!(
        app.emergency_sessions(t, &actor(Role::Cittadino))
            .await
            .unwrap_err(),
        ServiceError::Forbidden
    ));
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    done(f).await;
}

const HEADER: &str = "numero_emergenza;data_ora_emergenza;verso;oggetto;corrispondente;codice_fiscale;email;numero_ricevuto;data_ricevuto;classifica;ufficio;documento;allegati";

fn rome(t: Timestamp) -> String {
    t.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

async fn recovery(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let seg = actor(Role::Segretario);
    let desk = actor(Role::Operatore);
    // An ordinary registration made before the recovery.
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
    let before = app
        .register_protocol(
            t,
            &desk,
            RegistrationInput {
                register: None,
                flow: Flow::Entrata,
                subject: "Registrazione ordinaria".into(),
                correspondents: vec![Correspondent::person("Mario Rossi", &cf)],
                received_number: None,
                received_date: None,
                primary: DocumentRef {
                    name: "a.pdf".into(),
                    media_type: "application/pdf".into(),
                    size: 4,
                    sha256: Impronta::of(b"%PDF"),
                },
                attachments: vec![],
                classification: None,
                office: None,
                emergency: None,
            },
        )
        .await
        .unwrap();
    // Rome midnight four days ago + 20 h: the session spans two civil days.
    let day = palazzo_domain::calendar::rome_date(days_ago(4));
    let start = day
        .at(20, 0, 0, 0)
        .to_zoned(palazzo_domain::calendar::rome_time_zone())
        .unwrap()
        .timestamp();
    let mut input = open_input(start);
    input.code = Some("EMERG-TEST-01".into());
    let s = app.open_emergency(t, &seg, input).await.unwrap();
    let code = s.data.code.clone();

    let files = f.dir.path().join("recupero");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(
        files.join("istanza.pdf"),
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
    )
    .unwrap();
    let at = |h: i64| rome(start + hours(h));
    // Out of order in the file; 5 twice; 6 after the restore; 7 unreadable time.
    let rows = [
        format!(
            "3;{};E;Terza in emergenza;Anna Verdi;;;;;;;istanza.pdf;",
            at(5)
        ),
        format!(
            "1;{};E;Prima in emergenza;Mario Rossi;RSSMRA80A01H501U;;;;XI.2;;istanza.pdf;",
            at(1)
        ),
        format!("5;{};E;Doppia A;Luca;;;;;;;istanza.pdf;", at(6)),
        format!(
            "2;{};E;Seconda in emergenza;Ditta Alfa srl;01234567890;;;;;;istanza.pdf;",
            at(3)
        ),
        format!("5;{};E;Doppia B;Luca;;;;;;;istanza.pdf;", at(6)),
        format!("6;{};E;Dopo il ripristino;Luca;;;;;;;istanza.pdf;", at(20)),
        "7;ieri mattina;E;Ora illeggibile;Luca;;;;;;;istanza.pdf;".to_owned(),
        format!(
            "8;{};E;Prima dell'inizio;Luca;;;;;;;istanza.pdf;",
            rome(start - hours(1))
        ),
    ];
    let csv = format!("{HEADER}\n{}\n", rows.join("\n"));
    let path = files.join("recupero.csv");
    std::fs::write(&path, &csv).unwrap();

    // Not before the restore.
    assert_eq!(
        code_of(
            app.import_emergency(t, &desk, &code, &path, |_, _| {})
                .await
                .unwrap_err()
        ),
        "emergenza_aperta"
    );
    app.close_emergency(t, &seg, &code, start + hours(12))
        .await
        .unwrap();
    // Recovery registers: the responsabile's segretario role cannot.
    assert!(matches!(
        app.import_emergency(t, &seg, &code, &path, |_, _| {})
            .await
            .unwrap_err(),
        ServiceError::Forbidden
    ));
    assert_eq!(
        code_of(
            app.import_emergency(t, &desk, "EMERG-NESSUNO", &path, |_, _| {})
                .await
                .unwrap_err()
        ),
        "emergenza_sconosciuta"
    );

    let mut calls = Vec::new();
    let out = app
        .import_emergency(t, &desk, &code, &path, |d, n| calls.push((d, n)))
        .await
        .unwrap();
    assert_eq!(out.len(), 8, "one outcome per row");
    let mut recovered = Vec::new();
    let mut refusals = Vec::new();
    for o in &out {
        match o {
            RecoveryOutcome::Recovered {
                line,
                emergency_number,
                registration,
            } => recovered.push((*emergency_number, *line, registration.number.get())),
            RecoveryOutcome::Refused { line, code, .. } => refusals.push((*line, *code)),
            RecoveryOutcome::AlreadyRecovered { .. } => panic!("nothing recovered yet"),
        }
    }
    recovered.sort();
    // New ordinary numbers after the one already taken, in emergency-number order.
    let first = before.number.get();
    assert_eq!(
        recovered,
        [(1, 3, first + 1), (2, 5, first + 2), (3, 2, first + 3)],
        "{out:?}"
    );
    assert_eq!(
        refusals,
        [
            (4, "emergenza_numero_duplicato"),
            (6, "emergenza_numero_duplicato"),
            (7, "emergenza_fuori_periodo"),
            (8, "emergenza_data_ora"),
            (9, "emergenza_fuori_periodo"),
        ]
    );
    assert_eq!(
        calls.last(),
        Some(&(5, 5)),
        "progress over the rows to register"
    );

    // The link, both ways.
    let ordinary = app.emergency_lookup(t, &desk, &code, 2).await.unwrap();
    assert_eq!(ordinary.data.subject, "Seconda in emergenza");
    assert_eq!(ordinary.number.get(), first + 2);
    let e = ordinary.data.emergency.as_ref().unwrap();
    assert_eq!((e.register.as_str(), e.number), (code.as_str(), 2));
    assert_eq!(e.recorded_at, start + hours(3));
    let (session, origin) = app
        .emergency_origin(t, &desk, ordinary.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((session.id, origin.number), (s.id, 2));
    assert!(
        app.emergency_origin(t, &desk, before.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        app.emergency_lookup(t, &desk, &code, 5).await.unwrap_err(),
        ServiceError::NotFound
    ));
    assert!(matches!(
        app.emergency_lookup(t, &actor(Role::Cittadino), &code, 2)
            .await
            .unwrap_err(),
        ServiceError::Forbidden
    ));

    // The session report: daily counts for each Rome day, entries by number.
    let report = app.emergency_report(t, &desk, &code).await.unwrap();
    let numbers: Vec<u64> = report.entries.iter().map(|e| e.emergency_number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    let counts: Vec<(jiff::civil::Date, u32)> = report
        .daily_counts
        .iter()
        .map(|d| (d.date, d.registrations))
        .collect();
    // 21:00 and 23:00 on the first day, 01:00 on the next.
    assert_eq!(counts, [(day, 2), (day.tomorrow().unwrap(), 1)]);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["entries"][0]["number"], format!("{:07}", first + 1));

    // Re-importing the same file registers nothing twice.
    let again = app
        .import_emergency(t, &desk, &code, &path, |_, _| {})
        .await
        .unwrap();
    let skipped = again
        .iter()
        .filter(|o| matches!(o, RecoveryOutcome::AlreadyRecovered { .. }))
        .count();
    assert_eq!(skipped, 3, "{again:?}");
    assert!(
        !again
            .iter()
            .any(|o| matches!(o, RecoveryOutcome::Recovered { .. }))
    );
    let all = app
        .db()
        .registrations_by_id(t, RegistrationId(0), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 4, "one ordinary + three recovered, no more");

    // The same number with different data is refused, naming the protocol number.
    let changed = format!(
        "{HEADER}\n1;{};E;Oggetto diverso;Mario Rossi;;;;;;;istanza.pdf;\n4;{};E;Quarta in emergenza;Anna;;;;;;;istanza.pdf;\n",
        at(1),
        at(7)
    );
    std::fs::write(&path, changed).unwrap();
    let out = app
        .import_emergency(t, &desk, &code, &path, |_, _| {})
        .await
        .unwrap();
    match &out[0] {
        RecoveryOutcome::Refused { code, message, .. } => {
            assert_eq!(*code, "emergenza_numero_gia_recuperato");
            assert!(message.contains(&format!("{:07}", first + 1)), "{message}");
        }
        o => panic!("{o:?}"),
    }
    match &out[1] {
        RecoveryOutcome::Recovered { registration, .. } => {
            assert_eq!(registration.number.get(), first + 4);
        }
        o => panic!("{o:?}"),
    }

    // The same emergency number in another session is another document.
    let mut input = open_input(start);
    input.code = Some("EMERG-TEST-02".into());
    app.open_emergency(t, &seg, input).await.unwrap();
    app.close_emergency(t, &seg, "EMERG-TEST-02", start + hours(12))
        .await
        .unwrap();
    std::fs::write(
        &path,
        format!(
            "{HEADER}\n1;{};E;Altro registro;Anna;;;;;;;istanza.pdf;\n",
            at(2)
        ),
    )
    .unwrap();
    let out = app
        .import_emergency(t, &desk, "EMERG-TEST-02", &path, |_, _| {})
        .await
        .unwrap();
    assert!(
        matches!(out[0], RecoveryOutcome::Recovered { .. }),
        "{out:?}"
    );

    // A wrong header refuses the whole file.
    std::fs::write(&path, "verso;oggetto\nE;x\n").unwrap();
    assert_eq!(
        code_of(
            app.import_emergency(t, &desk, &code, &path, |_, _| {})
                .await
                .unwrap_err()
        ),
        "import_header"
    );
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    done(f).await;
}

/// The database guards a session's fixed fields; when someone removes the
/// guard, `palazzo verify` names the session.
async fn tampering(backend: Backend) {
    let f = fixture(backend).await;
    let (app, t) = (&f.app, f.tenant);
    let seg = actor(Role::Segretario);
    let s = app
        .open_emergency(t, &seg, open_input(days_ago(2)))
        .await
        .unwrap();
    let sql = format!(
        "UPDATE emergency_sessions SET cause = 'Nessuna' WHERE id = {}",
        s.id.0
    );
    assert!(app.db().execute_raw(&sql).await.is_err(), "guarded");
    assert!(
        app.db()
            .execute_raw("UPDATE emergency_authorisations SET act = 'altro'")
            .await
            .is_err()
    );
    assert!(
        app.db()
            .execute_raw("DELETE FROM emergency_authorisations")
            .await
            .is_err()
    );
    let disarm = match app.db().backend() {
        Backend::Sqlite => "DROP TRIGGER emergency_sessions_fixed",
        Backend::Postgres => "DROP TRIGGER emergency_sessions_fixed ON emergency_sessions",
    };
    app.db().execute_raw(disarm).await.unwrap();
    app.db().execute_raw(&sql).await.unwrap();
    let report = verify(app.db(), &f.keys).await.unwrap();
    assert!(
        report.problems.iter().any(|p| matches!(p,
            Problem::RecordAltered { subject, .. } if subject == &format!("emergenza:{}", s.id.0))),
        "{:?}",
        report.problems
    );
    done(f).await;
}

#[tokio::test]
async fn authorisation_rules_sqlite() {
    authorisation_rules(Backend::Sqlite).await
}

#[tokio::test]
async fn authorisation_rules_postgres() {
    authorisation_rules(Backend::Postgres).await
}

#[tokio::test]
async fn recovery_sqlite() {
    recovery(Backend::Sqlite).await
}

#[tokio::test]
async fn recovery_postgres() {
    recovery(Backend::Postgres).await
}

#[tokio::test]
async fn tampering_sqlite() {
    tampering(Backend::Sqlite).await
}

#[tokio::test]
async fn tampering_postgres() {
    tampering(Backend::Postgres).await
}
