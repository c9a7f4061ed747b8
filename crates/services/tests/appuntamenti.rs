//! Appointment booking (issue 6, part 7) on both backends: the demo
//! calendars, the offices competent for a service, booking, cancelling by
//! code and from the personal area, the office agenda and its marks, the
//! calendar editor's permissions, reminders once, and no double booking
//! under concurrency: 20 tasks book the same one-seat slot at once and
//! exactly one succeeds (two for a two-seat slot, on different seats).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::Timestamp;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::appuntamenti::RawDetails;
use palazzo_services::App;
use palazzo_services::ServiceError;
use palazzo_services::access::Actor;
use palazzo_services::appuntamenti::{BookingRequest, FreeSlot};
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_store::{BookingState, OfficeId, Store, TenantId};
use palazzo_testkit::{PgDatabase, TempDir};

async fn open(backend: Backend, dir: &TempDir) -> (App, Option<PgDatabase>) {
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
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    palazzo_services::demo::seed(&app, 3).await.unwrap();
    (app, pg)
}

fn tenant(app: &App, slug: &str) -> TenantId {
    app.tenants()
        .into_iter()
        .find(|t| t.data.slug == slug)
        .unwrap()
        .id
}

fn staff(role: Role, office: Option<OfficeId>) -> Actor {
    Actor {
        user: Some(palazzo_store::UserId(9_999)),
        principal: Principal {
            grants: vec![Grant {
                role,
                office: office.map(|o| o.0),
            }],
        },
        name: Some("Personale".into()),
        ..Default::default()
    }
}

fn details(topic: &str, n: usize) -> RawDetails {
    RawDetails {
        topic: topic.into(),
        reason: "Rinnovo del documento".into(),
        name: "Maria".into(),
        surname: format!("Rossi{n}"),
        email: format!("maria{n}@example.org"),
        phone: String::new(),
    }
}

async fn first_free(app: &App, t: TenantId, office: &str) -> FreeSlot {
    let today = palazzo_domain::calendar::rome_date(Timestamp::now());
    let until = today.checked_add(jiff::Span::new().days(30)).unwrap();
    app.free_slots(t, office, today, until)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a free slot in the next 30 days")
}

fn code_of(e: &ServiceError) -> &'static str {
    e.code()
}

async fn concurrency(app: &App, t: TenantId, office: &str, topic: &str, seats: usize) {
    let slot = first_free(app, t, office).await;
    assert_eq!(slot.free as usize, seats);
    let mut tasks = Vec::new();
    for n in 0..20 {
        let app = app.clone();
        let req = BookingRequest {
            office: office.into(),
            start: Some(slot.slot.start),
            service: None,
            details: details(topic, n),
        };
        tasks.push(tokio::spawn(async move {
            app.book_appointment(t, &Actor::anonymous(), &req).await
        }));
    }
    let mut ok = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(b) => ok.push(b.booking.data.seat),
            Err(e) => {
                assert_eq!(code_of(&e), "appuntamento_non_disponibile", "{e:?}");
                refused += 1;
            }
        }
    }
    ok.sort_unstable();
    assert_eq!(
        ok,
        (1..=seats as i64).collect::<Vec<_>>(),
        "one booking per seat"
    );
    assert_eq!(refused, 20 - seats);
    // The stored agenda agrees, and the slot is no longer offered.
    let o = app.booking_office(t, office).await.unwrap();
    let stored = app
        .db()
        .office_bookings(t, o.office.id, slot.slot.date, slot.slot.date)
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .filter(|b| b.data.slot_start == slot.slot.start)
            .count(),
        seats
    );
    let again = first_free(app, t, office).await;
    assert_ne!(again.slot.start, slot.slot.start);
}

async fn run(backend: Backend) {
    let dir = TempDir::new("appuntamenti");
    let (app, pg) = open(backend, &dir).await;
    let t = tenant(&app, "casamassima");
    let other = tenant(&app, "acquaviva");

    // The demo offices take bookings; a service card limits them.
    let all = app.booking_offices(t, None).await.unwrap();
    let slugs: Vec<_> = all.iter().map(|o| o.office.data.slug.as_str()).collect();
    for s in ["anagrafe-stato-civile", "urbanistica", "tributi"] {
        assert!(slugs.contains(&s), "{s} in {slugs:?}");
    }
    let cie = app
        .booking_offices(t, Some("carta-identita-elettronica"))
        .await
        .unwrap();
    assert_eq!(
        cie.iter()
            .map(|o| o.office.data.slug.as_str())
            .collect::<Vec<_>>(),
        ["anagrafe-stato-civile"]
    );
    assert_eq!(
        code_of(&app.booking_offices(t, Some("nessuno")).await.unwrap_err()),
        "servizio_non_valido"
    );

    // Anagrafe: 20-minute slots at two desks, Monday to Friday, 9:00-12:30.
    let slot = first_free(&app, t, "anagrafe-stato-civile").await;
    assert_eq!(slot.free, 2);
    assert_eq!(slot.slot.end.duration_since(slot.slot.start).as_mins(), 20);
    let topic = "Carta d'identità elettronica";
    let req = |n: usize| BookingRequest {
        office: "anagrafe-stato-civile".into(),
        start: Some(slot.slot.start),
        service: Some("carta-identita-elettronica".into()),
        details: details(topic, n),
    };
    // An office not competent for the service is refused.
    let mut wrong = req(0);
    wrong.office = "tributi".into();
    wrong.details.topic = "IMU".into();
    assert_eq!(
        code_of(
            &app.book_appointment(t, &Actor::anonymous(), &wrong)
                .await
                .unwrap_err()
        ),
        "ufficio_non_competente"
    );
    // A start that is not a slot (9:10), and one of another comune's office.
    let mut off = req(0);
    off.start = Some(
        slot.slot
            .start
            .checked_add(jiff::SignedDuration::from_mins(10))
            .unwrap(),
    );
    assert_eq!(
        code_of(
            &app.book_appointment(t, &Actor::anonymous(), &off)
                .await
                .unwrap_err()
        ),
        "appuntamento_orario_non_valido"
    );
    let mut elsewhere = req(0);
    elsewhere.office = "servizi-demografici".into();
    assert_eq!(
        code_of(
            &app.book_appointment(t, &Actor::anonymous(), &elsewhere)
                .await
                .unwrap_err()
        ),
        "ufficio_non_prenotabile"
    );
    // A reason over 500 characters.
    let mut long = req(0);
    long.details.reason = "a".repeat(501);
    assert_eq!(
        code_of(
            &app.book_appointment(t, &Actor::anonymous(), &long)
                .await
                .unwrap_err()
        ),
        "motivo_troppo_lungo"
    );

    let first = app
        .book_appointment(t, &Actor::anonymous(), &req(1))
        .await
        .unwrap();
    assert_eq!(first.booking.data.seat, 1);
    assert_eq!(first.code.len(), 19);
    // The confirmation is queued with the booking, with its code.
    let mails = app
        .mails_about(t, "appuntamento", first.booking.id.0)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].data.recipient, first.booking.data.email);
    assert!(mails[0].data.text_body.contains(&first.code));
    // The code finds it (case and dashes do not matter), only in its comune.
    let found = app
        .booking_by_code(t, &first.code.to_lowercase().replace('-', ""))
        .await
        .unwrap();
    assert_eq!(found.id, first.booking.id);
    assert!(matches!(
        app.booking_by_code(other, &first.code).await,
        Err(ServiceError::NotFound)
    ));
    let second = app
        .book_appointment(t, &Actor::anonymous(), &req(2))
        .await
        .unwrap();
    assert_eq!(second.booking.data.seat, 2);
    let third = app
        .book_appointment(t, &Actor::anonymous(), &req(3))
        .await
        .unwrap_err();
    assert_eq!(code_of(&third), "appuntamento_non_disponibile");
    // Cancelling by code frees seat 1, which the next booking takes.
    let cancelled = app.cancel_booking_by_code(t, &first.code).await.unwrap();
    assert_eq!(cancelled.state, BookingState::Annullato);
    assert_eq!(
        code_of(
            &app.cancel_booking_by_code(t, &first.code)
                .await
                .unwrap_err()
        ),
        "appuntamento_non_annullabile"
    );
    let fourth = app
        .book_appointment(t, &Actor::anonymous(), &req(4))
        .await
        .unwrap();
    assert_eq!(fourth.booking.data.seat, 1);

    // The agenda: the office's staff only.
    let anagrafe = app
        .booking_office(t, "anagrafe-stato-civile")
        .await
        .unwrap()
        .office
        .id;
    let tributi = app.booking_office(t, "tributi").await.unwrap().office.id;
    let clerk = staff(Role::Operatore, Some(anagrafe));
    let agenda = app
        .office_agenda(t, &clerk, "anagrafe-stato-civile", slot.slot.date)
        .await
        .unwrap();
    assert_eq!(agenda.bookings.len(), 3, "two active, one cancelled");
    assert!(agenda.slots.iter().any(|s| s.start == slot.slot.start));
    let stranger = staff(Role::Operatore, Some(tributi));
    assert!(matches!(
        app.office_agenda(t, &stranger, "anagrafe-stato-civile", slot.slot.date)
            .await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        app.mark_booking(t, &stranger, second.booking.id, BookingState::Presentato)
            .await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        app.office_agenda(
            t,
            &Actor::anonymous(),
            "anagrafe-stato-civile",
            slot.slot.date
        )
        .await,
        Err(ServiceError::Unauthenticated)
    ));
    let marked = app
        .mark_booking(t, &clerk, second.booking.id, BookingState::Presentato)
        .await
        .unwrap();
    assert_eq!(marked.state, BookingState::Presentato);
    let corrected = app
        .mark_booking(t, &clerk, second.booking.id, BookingState::Assente)
        .await
        .unwrap();
    assert_eq!(corrected.state, BookingState::Assente);
    assert_eq!(
        code_of(
            &app.mark_booking(t, &clerk, cancelled.id, BookingState::Presentato)
                .await
                .unwrap_err()
        ),
        "stato_non_valido"
    );
    // Another comune's booking id is not found from here.
    let elsewhere_slot = first_free(&app, other, "servizi-demografici").await;
    let theirs = app
        .book_appointment(
            other,
            &Actor::anonymous(),
            &BookingRequest {
                office: "servizi-demografici".into(),
                start: Some(elsewhere_slot.slot.start),
                service: None,
                details: details(topic, 9),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        app.mark_booking(
            t,
            &staff(Role::Dirigente, None),
            theirs.booking.id,
            BookingState::Assente
        )
        .await,
        Err(ServiceError::NotFound)
    ));

    // The calendar editor: the office's responsabile, not its clerk.
    let mut spec = app
        .office_calendar(t, &staff(Role::Responsabile, Some(tributi)), "tributi")
        .await
        .unwrap()
        .1
        .unwrap()
        .spec;
    assert!(matches!(
        app.set_office_calendar(
            t,
            Some(&staff(Role::Operatore, Some(tributi))),
            "tributi",
            &spec
        )
        .await,
        Err(ServiceError::Forbidden)
    ));
    spec.fasce[0].dalle = "25:00".into();
    assert_eq!(
        code_of(
            &app.set_office_calendar(
                t,
                Some(&staff(Role::Responsabile, Some(tributi))),
                "tributi",
                &spec
            )
            .await
            .unwrap_err()
        ),
        "appuntamenti_orario_non_valido"
    );
    // One seat, no notice: the concurrency test's slot.
    spec.fasce[0].dalle = "09:00".into();
    spec.preavviso_ore = 0;
    for w in &mut spec.fasce {
        w.posti = 1;
    }
    assert!(matches!(
        app.set_office_calendar(t, Some(&staff(Role::AdminComune, None)), "tributi", &spec)
            .await,
        Err(ServiceError::Forbidden)
    ));
    app.set_office_calendar(t, Some(&staff(Role::Dirigente, None)), "tributi", &spec)
        .await
        .unwrap();
    concurrency(&app, t, "tributi", "IMU", 1).await;
    concurrency(&app, t, "anagrafe-stato-civile", topic, 2).await;

    // Reminders, once (the whole story, with the SMTP server, is in
    // tests/appuntamenti_mail.rs): whatever the first run at the reminder
    // moment queues, a second run queues nothing, and only prenotato
    // bookings made before that moment are reminded.
    let moment = palazzo_services::appuntamenti::reminder_moment(slot.slot.date).unwrap();
    let at = moment.max(Timestamp::now());
    let queued = app.queue_booking_reminders(at).await.unwrap();
    for r in &queued {
        let b = app
            .db()
            .booking(r.tenant, r.booking)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.state, BookingState::Prenotato);
        assert!(b.data.created_at < moment);
        assert_eq!(b.reminder_sent_at, Some(at));
    }
    assert!(
        !queued.iter().any(|r| r.booking == second.booking.id),
        "marked assente: no reminder"
    );
    assert!(app.queue_booking_reminders(at).await.unwrap().is_empty());

    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn booking_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn booking_postgres() {
    run(Backend::Postgres).await;
}
