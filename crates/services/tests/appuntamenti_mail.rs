//! Appointment e-mail through a real SMTP server (aiosmtpd, testbeds/smtp),
//! on both backends: a booking's confirmation and, at its reminder moment
//! (09:00 Europe/Rome of the day before), its reminder are delivered to the
//! citizen with the office, its address, the day and time in Rome, the
//! topic, the code and the link to cancel; a cancelled booking and one made
//! after the reminder moment get no reminder; nothing is queued before the
//! moment; several reminder runs at once (two applications over the same
//! database, as two processes) queue one reminder per booking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use jiff::{SignedDuration, Span, Timestamp};
use palazzo_domain::appuntamenti::RawDetails;
use palazzo_domain::calendar::{rome_date, rome_time_zone};
use palazzo_services::App;
use palazzo_services::access::Actor;
use palazzo_services::appuntamenti::{BookingRequest, reminder_moment};
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::mail::{MailConfig, TransportKind};
use palazzo_store::{NewBooking, Store, StoreTx, TenantId};
use palazzo_testkit::smtp::SmtpServer;
use palazzo_testkit::{PgDatabase, TempDir};

const OFFICE: &str = "anagrafe-stato-civile";
const TOPIC: &str = "Carta d'identità elettronica";
const HOST: &str = "comune.casamassima.ba.it";
const WAIT: Duration = Duration::from_secs(20);

async fn open(backend: Backend, dir: &TempDir) -> (App, String, Option<PgDatabase>) {
    let (url, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (pg.url.clone(), Some(pg))
        }
        Backend::Sqlite => (
            format!("sqlite:{}", dir.path().join("a.db").display()),
            None,
        ),
    };
    let app = App::new(
        Db::open(&url).await.unwrap(),
        KeyStore::new(dir.path().join("keys")),
    )
    .await
    .unwrap();
    palazzo_services::demo::seed(&app, 3).await.unwrap();
    (app, url, pg)
}

fn details(n: usize) -> RawDetails {
    RawDetails {
        topic: TOPIC.into(),
        reason: "Rinnovo del documento scaduto".into(),
        name: "Maria".into(),
        surname: format!("Rossi{n}"),
        email: format!("maria{n}@example.org"),
        phone: String::new(),
    }
}

fn text(m: &palazzo_testkit::smtp::ReceivedMail) -> String {
    m.text.as_deref().unwrap_or("").replace("\r\n", "\n")
}

async fn story(backend: Backend) {
    let dir = TempDir::new("appuntamenti-mail");
    let (app, url, pg) = open(backend, &dir).await;
    let t: TenantId = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap()
        .id;
    let server = SmtpServer::start();
    app.configure_mail(&MailConfig {
        transport: TransportKind::Smtp,
        smtp_url: Some(server.url()),
        timeout_secs: Some(10),
        ..MailConfig::default()
    })
    .unwrap();

    // A slot at least three days ahead: the booking is made well before
    // its reminder moment whatever the time of day the test runs.
    let today = rome_date(Timestamp::now());
    let slot = app
        .free_slots(
            t,
            OFFICE,
            today.checked_add(Span::new().days(3)).unwrap(),
            today.checked_add(Span::new().days(40)).unwrap(),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.free >= 2)
        .expect("a two-desk slot");
    let office = app.booking_office(t, OFFICE).await.unwrap().office;
    let when = slot
        .slot
        .start
        .to_zoned(rome_time_zone())
        .strftime("%d/%m/%Y alle %H:%M")
        .to_string();
    let day = slot
        .slot
        .start
        .to_zoned(rome_time_zone())
        .strftime("%d/%m/%Y")
        .to_string();
    let book = |n: usize| BookingRequest {
        office: OFFICE.into(),
        start: Some(slot.slot.start),
        service: Some("carta-identita-elettronica".into()),
        details: details(n),
    };
    let kept = app
        .book_appointment(t, &Actor::anonymous(), &book(1))
        .await
        .unwrap();
    let dropped = app
        .book_appointment(t, &Actor::anonymous(), &book(2))
        .await
        .unwrap();

    // The two confirmations reach the server.
    let report = app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!(report.sent, 2, "{report:?}");
    let got = server.wait_for(2, WAIT);
    assert_eq!(got.len(), 2);
    for (b, n) in [(&kept, 1), (&dropped, 2)] {
        let to = format!("maria{n}@example.org");
        let m = got
            .iter()
            .find(|m| m.rcpt_tos == vec![to.clone()])
            .unwrap_or_else(|| panic!("confirmation to {to}"));
        assert_eq!(
            m.subject.as_deref(),
            Some(format!("Appuntamento confermato – {}", office.data.name).as_str())
        );
        let body = text(m);
        assert!(body.contains(&when), "day and time in Rome: {body}");
        assert!(body.contains(&b.code), "{body}");
        assert!(
            body.contains(&format!("https://{HOST}/appuntamenti/{}", b.code)),
            "{body}"
        );
    }

    // The second citizen cancels; a third booking (of the same day) is
    // stored after the reminder moment: neither gets a reminder.
    app.cancel_booking_by_code(t, &dropped.code).await.unwrap();
    let moment = reminder_moment(slot.slot.date).unwrap();
    assert_eq!(
        moment.to_zoned(rome_time_zone()).date(),
        slot.slot.date.yesterday().unwrap()
    );
    assert_eq!(moment.to_zoned(rome_time_zone()).hour(), 9);
    let mut tx = app.db().begin().await.unwrap();
    let late = tx
        .insert_booking(
            t,
            &NewBooking {
                seat: 2,
                email: "tardi@example.org".into(),
                code_sha256: [7; 32],
                created_at: moment.checked_add(SignedDuration::from_mins(5)).unwrap(),
                reminder_code: None,
                ..kept.booking.data.clone()
            },
        )
        .await
        .unwrap()
        .expect("seat 2 is free again");
    tx.commit().await.unwrap();

    // Nothing before the moment.
    let before = moment.checked_sub(SignedDuration::from_secs(1)).unwrap();
    assert!(
        app.queue_booking_reminders(before)
            .await
            .unwrap()
            .is_empty()
    );

    // At the moment: six runs at once, three per application (two
    // applications over the same database, as two processes), queue one
    // reminder, for the booking still prenotato.
    let other = App::new(
        Db::open(&url).await.unwrap(),
        KeyStore::new(dir.path().join("keys")),
    )
    .await
    .unwrap();
    let at = moment.checked_add(SignedDuration::from_mins(3)).unwrap();
    let mut runs = Vec::new();
    for n in 0..6 {
        let a = if n % 2 == 0 {
            app.clone()
        } else {
            other.clone()
        };
        runs.push(tokio::spawn(
            async move { a.queue_booking_reminders(at).await },
        ));
    }
    let mut queued = Vec::new();
    for r in runs {
        queued.extend(r.await.unwrap().unwrap());
    }
    assert_eq!(queued.len(), 1, "once: {queued:?}");
    let q = &queued[0];
    assert_eq!(
        (q.tenant, q.booking, q.recipient.as_str()),
        (t, kept.booking.id, "maria1@example.org")
    );
    assert_eq!(q.office, office.data.name);
    assert_eq!(q.slot_start, slot.slot.start);
    // In the outbox: the confirmation and one reminder for the kept
    // booking, only the confirmation for the cancelled one, nothing for the
    // late one.
    let about = |id: i64| {
        let app = app.clone();
        async move { app.mails_about(t, "appuntamento", id).await.unwrap() }
    };
    assert_eq!(about(kept.booking.id.0).await.len(), 2);
    assert_eq!(about(dropped.booking.id.0).await.len(), 1);
    assert!(about(late.id.0).await.is_empty());
    let stored = app.db().booking(t, kept.booking.id).await.unwrap().unwrap();
    assert_eq!(stored.reminder_sent_at, Some(at));
    assert_eq!(stored.data.reminder_code, None, "the code is forgotten");
    // Later runs queue nothing more.
    assert!(app.queue_booking_reminders(at).await.unwrap().is_empty());
    let later = slot
        .slot
        .start
        .checked_sub(SignedDuration::from_mins(30))
        .unwrap();
    assert!(app.queue_booking_reminders(later).await.unwrap().is_empty());

    // The reminder is delivered, to the right citizen, with what it must say.
    let report = app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let got = server.wait_for(3, WAIT);
    assert_eq!(got.len(), 3, "two confirmations and one reminder");
    let reminders: Vec<_> = got
        .iter()
        .filter(|m| {
            m.subject
                .as_deref()
                .is_some_and(|s| s.starts_with("Promemoria"))
        })
        .collect();
    assert_eq!(reminders.len(), 1);
    let m = reminders[0];
    assert_eq!(m.rcpt_tos, vec!["maria1@example.org".to_owned()]);
    assert_eq!(m.to, vec!["maria1@example.org".to_owned()]);
    assert_eq!(
        m.subject.as_deref(),
        Some(format!("Promemoria: appuntamento del {day} – {}", office.data.name).as_str())
    );
    let body = text(m);
    for part in [
        "Gentile Maria Rossi1".to_owned(),
        format!("«{}»", office.data.name),
        format!("il giorno {when}"),
        format!("Argomento: {TOPIC}"),
        format!("Codice della prenotazione: {}", kept.code),
        format!("https://{HOST}/appuntamenti/{}", kept.code),
        format!("Indirizzo: {}", office.data.address.street),
    ] {
        assert!(body.contains(&part), "{part:?} in {body}");
    }
    assert!(!body.contains(&dropped.code));
    assert!(
        !got.iter()
            .any(|m| m.rcpt_tos.contains(&"tardi@example.org".to_owned())),
        "the late booking got nothing"
    );

    other.db().close().await;
    app.db().close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmation_and_reminder_sqlite() {
    story(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmation_and_reminder_postgres() {
    story(Backend::Postgres).await;
}
