//! E-mail to citizens (issue 6) on both backends, through a real SMTP
//! server (aiosmtpd, testbeds/smtp, started per test): the outbox row
//! reaches the server as a proper MIME message (RFC 2047 subject decoded
//! back to the same accented Italian, From/To/Reply-To, Message-ID, Date,
//! Auto-Submitted); a rolled-back transaction sends nothing; a server that
//! is down leaves the message queued with a back-off, and it is delivered
//! once the server is up; a permanent refusal and an exhausted back-off
//! fail the message; two concurrent workers deliver 20 messages exactly
//! once; `mails_about` is per comune; the `file` transport writes a
//! parseable .eml.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mail_parser::MessageParser;
use palazzo_services::App;
use palazzo_services::db::{Backend, Db};
use palazzo_services::keys::KeyStore;
use palazzo_services::mail::{MailConfig, RETRY_DELAYS, SendReport, TransportKind};
use palazzo_store::conformance::tenant_fixture;
use palazzo_store::*;
use palazzo_testkit::smtp::{SmtpServer, free_port};
use palazzo_testkit::{PgDatabase, TempDir};

const SUBJECT: &str = "Ricevuta della domanda n. 42 — è già protocollata: perché attendere?";
const BODY: &str = "Gentile cittadina,\nla sua domanda è stata protocollata con il n. 0000042.\n\
Responsabile del procedimento: dott.ssa Lucia Cantù.\nTermine: 30 giorni — entro il 1° aprile.\n";

struct Env {
    dir: TempDir,
    url: String,
    app: App,
    a: Tenant,
    b: Tenant,
    pg: Option<PgDatabase>,
}

async fn env(backend: Backend) -> Env {
    let dir = TempDir::new("mail");
    let (url, pg) = match backend {
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            (pg.url.clone(), Some(pg))
        }
        Backend::Sqlite => (
            format!("sqlite:{}", dir.path().join("m.db").display()),
            None,
        ),
    };
    let app = App::new(
        Db::open(&url).await.unwrap(),
        KeyStore::new(dir.path().join("keys")),
    )
    .await
    .unwrap();
    let a = app.create_tenant(tenant_fixture(1)).await.unwrap();
    let b = app.create_tenant(tenant_fixture(2)).await.unwrap();
    Env {
        dir,
        url,
        app,
        a,
        b,
        pg,
    }
}

impl Env {
    /// A second application over the same database (another process).
    async fn second_app(&self) -> App {
        App::new(
            Db::open(&self.url).await.unwrap(),
            KeyStore::new(self.dir.path().join("keys")),
        )
        .await
        .unwrap()
    }

    async fn close(self) {
        self.app.db().close().await;
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

fn smtp(url: String) -> MailConfig {
    MailConfig {
        transport: TransportKind::Smtp,
        smtp_url: Some(url),
        timeout_secs: Some(10),
        ..MailConfig::default()
    }
}

fn mail(to: &str, related: Option<(&str, i64)>) -> NewMail {
    NewMail {
        recipient: to.into(),
        subject: SUBJECT.into(),
        text_body: BODY.into(),
        html_body: None,
        reply_to: Some("protocollo@alfa.example.it".into()),
        related: related.map(|(kind, id)| MailRelated {
            kind: kind.into(),
            id,
        }),
    }
}

const WAIT: Duration = Duration::from_secs(20);

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    };
}

both!(delivered_to_a_real_smtp_server);
async fn delivered_to_a_real_smtp_server(backend: Backend) {
    let e = env(backend).await;
    let server = SmtpServer::start();
    e.app.configure_mail(&smtp(server.url())).unwrap();
    let id = e
        .app
        .send_mail(
            e.a.id,
            &mail("mario.rossi@example.it", Some(("pratica", 42))),
        )
        .await
        .unwrap();
    let queued = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!(queued.state, MailState::Queued);

    let report = e.app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!(
        report,
        SendReport {
            claimed: 1,
            sent: 1,
            retried: 0,
            failed: 0
        }
    );
    let got = server.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.subject.as_deref(), Some(SUBJECT), "subject decoded back");
    // The body as written (the message ends with the line breaks of its
    // last line and of the MIME framing).
    let text = m.text.as_deref().unwrap().replace("\r\n", "\n");
    assert_eq!(text.trim_end(), BODY.trim_end());
    assert!(text.starts_with(BODY), "{text:?}");
    assert_eq!(m.from_address.as_deref(), Some("info@alfa.example.it"));
    assert_eq!(m.from_name.as_deref(), Some("Comune di alfa"));
    assert_eq!(m.to, vec!["mario.rossi@example.it".to_owned()]);
    assert_eq!(m.rcpt_tos, vec!["mario.rossi@example.it".to_owned()]);
    assert_eq!(m.mail_from, "info@alfa.example.it");
    assert_eq!(m.reply_to.as_deref(), Some("protocollo@alfa.example.it"));
    assert_eq!(m.auto_submitted.as_deref(), Some("auto-generated"));
    assert!(m.has_date, "a Date header");
    // On the wire: 7-bit, the subject as RFC 2047 encoded words, the body
    // quoted-printable UTF-8.
    assert!(m.raw.is_ascii(), "7-bit message");
    let raw = String::from_utf8(m.raw.clone()).unwrap();
    assert!(raw.contains("=?utf-8?"), "encoded-word subject: {raw}");
    assert!(
        raw.contains("Content-Transfer-Encoding: quoted-printable"),
        "{raw}"
    );
    assert!(raw.to_lowercase().contains("charset=utf-8"), "{raw}");

    let sent = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!(sent.state, MailState::Sent);
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());
    let message_id = sent.message_id.clone().expect("stored Message-ID");
    assert_eq!(m.message_id.as_deref(), Some(message_id.as_str()));
    assert!(message_id.ends_with("@alfa.example.it"), "{message_id}");
    let about = e.app.mails_about(e.a.id, "pratica", 42).await.unwrap();
    assert_eq!(about.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);

    // Nothing more is due: a second run sends nothing again.
    let again = e.app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!(again, SendReport::default());
    assert_eq!(server.received().len(), 1);
    assert!(e.app.mail_metrics().contains("palazzo_mail_sent_total 1"));
    e.close().await;
}

both!(a_rolled_back_transaction_sends_nothing);
async fn a_rolled_back_transaction_sends_nothing(backend: Backend) {
    let e = env(backend).await;
    let server = SmtpServer::start();
    e.app.configure_mail(&smtp(server.url())).unwrap();
    let mut tx = e.app.db().begin().await.unwrap();
    let lost = e
        .app
        .queue_mail(&mut tx, e.a.id, &mail("annullata@example.it", None))
        .await
        .unwrap();
    drop(tx);
    let mut tx = e.app.db().begin().await.unwrap();
    let kept = e
        .app
        .queue_mail(&mut tx, e.a.id, &mail("confermata@example.it", None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = e.app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1));
    let got = server.wait_for(1, WAIT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_later = server.received();
    assert_eq!(got_later.len(), 1, "only the committed mail");
    assert_eq!(got[0].to, vec!["confermata@example.it".to_owned()]);
    // (SQLite may give the committed row the rolled-back row's id.)
    let outbox = e.app.outbox(e.a.id, None, 10).await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].id, kept);
    assert_eq!(outbox[0].data.recipient, "confermata@example.it");
    assert_eq!(outbox[0].state, MailState::Sent);
    let _ = lost;
    // An invalid recipient is refused before anything is queued.
    let err = e
        .app
        .send_mail(e.a.id, &mail("non è un indirizzo", None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "mail_invalid_recipient");
    assert_eq!(e.app.outbox(e.a.id, None, 10).await.unwrap().len(), 1);
    e.close().await;
}

both!(a_server_down_means_retry_later);
async fn a_server_down_means_retry_later(backend: Backend) {
    let e = env(backend).await;
    let port = free_port();
    let mut server = SmtpServer::start_on(port, &[]);
    server.stop();
    e.app
        .configure_mail(&smtp(format!("smtp://127.0.0.1:{port}")))
        .unwrap();
    let id = e
        .app
        .send_mail(e.a.id, &mail("attesa@example.it", None))
        .await
        .unwrap();
    // Microseconds, as both backends store times.
    let now = Timestamp::from_microsecond(Timestamp::now().as_microsecond()).unwrap();
    let report = e.app.send_due_mails(now).await.unwrap();
    assert_eq!((report.claimed, report.retried, report.sent), (1, 1, 0));
    let m = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!(m.state, MailState::Queued);
    assert_eq!(m.attempts, 1);
    assert_eq!(m.next_attempt_at, now + RETRY_DELAYS[0], "first back-off");
    let error = m.last_error.clone().expect("the error is kept");
    assert!(error.starts_with("SMTP"), "{error}");
    assert!(
        e.app
            .mail_metrics()
            .contains("palazzo_mail_retried_total 1")
    );

    // Not due yet: nothing is claimed.
    let early = e
        .app
        .send_due_mails(now + SignedDuration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(early, SendReport::default());

    server.restart();
    let later = now + RETRY_DELAYS[0] + SignedDuration::from_secs(1);
    let report = e.app.send_due_mails(later).await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1));
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].to, vec!["attesa@example.it".to_owned()]);
    let m = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!((m.state, m.attempts), (MailState::Sent, 2));
    assert_eq!(m.message_id.as_deref(), got[0].message_id.as_deref());
    e.close().await;
}

both!(back_off_ends_in_failed_and_retry_requeues);
async fn back_off_ends_in_failed_and_retry_requeues(backend: Backend) {
    let e = env(backend).await;
    let port = free_port();
    // Nobody listens on `port`: every attempt fails at connect.
    e.app
        .configure_mail(&smtp(format!("smtp://127.0.0.1:{port}")))
        .unwrap();
    let id = e
        .app
        .send_mail(e.a.id, &mail("giu@example.it", None))
        .await
        .unwrap();
    let mut at = Timestamp::from_microsecond(Timestamp::now().as_microsecond()).unwrap();
    for (n, delay) in RETRY_DELAYS.iter().enumerate() {
        let r = e.app.send_due_mails(at).await.unwrap();
        assert_eq!((r.claimed, r.retried), (1, 1), "attempt {}", n + 1);
        let m = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
        assert_eq!(
            m.next_attempt_at,
            at + *delay,
            "back-off after attempt {}",
            n + 1
        );
        at = m.next_attempt_at;
    }
    let r = e.app.send_due_mails(at).await.unwrap();
    assert_eq!(
        (r.claimed, r.failed),
        (1, 1),
        "the last attempt fails for good"
    );
    let m = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!((m.state, m.attempts), (MailState::Failed, 6));
    assert!(e.app.mail_metrics().contains("palazzo_mail_failed_total 1"));
    let later = e
        .app
        .send_due_mails(at + SignedDuration::from_hours(100))
        .await
        .unwrap();
    assert_eq!(later.claimed, 0, "a failed mail is not retried by itself");

    // An operator queues it again once the server is there.
    let server = SmtpServer::start_on(port, &[]);
    assert_eq!(
        e.app.retry_mail(e.b.id, id).await.unwrap_err().code(),
        "not_found",
        "another comune's message"
    );
    e.app.retry_mail(e.a.id, id).await.unwrap();
    assert_eq!(
        e.app.retry_mail(e.a.id, id).await.unwrap_err().code(),
        "mail_not_failed"
    );
    let r = e.app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!(r.sent, 1);
    server.wait_for(1, WAIT);
    let m = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!((m.state, m.attempts), (MailState::Sent, 1));
    e.close().await;
}

both!(a_permanent_refusal_fails_at_once);
async fn a_permanent_refusal_fails_at_once(backend: Backend) {
    let e = env(backend).await;
    let server = SmtpServer::start_on(free_port(), &["inesistente@example.it"]);
    e.app.configure_mail(&smtp(server.url())).unwrap();
    let bad = e
        .app
        .send_mail(e.a.id, &mail("inesistente@example.it", None))
        .await
        .unwrap();
    let good = e
        .app
        .send_mail(e.a.id, &mail("esistente@example.it", None))
        .await
        .unwrap();
    let r = e.app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!((r.claimed, r.sent, r.failed, r.retried), (2, 1, 1, 0));
    let m = e.app.db().mail(e.a.id, bad).await.unwrap().unwrap();
    assert_eq!((m.state, m.attempts), (MailState::Failed, 1));
    assert!(m.last_error.as_deref().unwrap().contains("550"), "{m:?}");
    let failed = e
        .app
        .outbox(e.a.id, Some(MailState::Failed), 10)
        .await
        .unwrap();
    assert_eq!(failed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![bad]);
    assert_eq!(
        e.app.db().mail(e.a.id, good).await.unwrap().unwrap().state,
        MailState::Sent
    );
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
    e.close().await;
}

both!(two_workers_deliver_each_mail_once);
async fn two_workers_deliver_each_mail_once(backend: Backend) {
    let e = env(backend).await;
    let server = SmtpServer::start();
    let config = smtp(server.url());
    e.app.configure_mail(&config).unwrap();
    let other = e.second_app().await;
    other.configure_mail(&config).unwrap();
    let mut tx = e.app.db().begin().await.unwrap();
    let mut expected = BTreeSet::new();
    for n in 0..20usize {
        let to = format!("cittadino{n:02}@example.it");
        e.app
            .queue_mail(
                &mut tx,
                if n.is_multiple_of(2) { e.a.id } else { e.b.id },
                &mail(&to, None),
            )
            .await
            .unwrap();
        expected.insert(to);
    }
    tx.commit().await.unwrap();
    let now = Timestamp::now();
    let (x, y) = tokio::join!(
        e.app.send_due_mails_in_batches(now, 2),
        other.send_due_mails_in_batches(now, 2)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.sent + y.sent, 20, "{x:?} {y:?}");
    assert_eq!(x.claimed + y.claimed, 20, "{x:?} {y:?}");
    let got = server.wait_for(20, WAIT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = if server.received().len() > got.len() {
        server.received()
    } else {
        got
    };
    assert_eq!(got.len(), 20, "each mail delivered exactly once");
    let recipients: BTreeSet<String> = got.iter().map(|m| m.to[0].clone()).collect();
    assert_eq!(recipients, expected);
    let ids: BTreeSet<String> = got.iter().filter_map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 20, "distinct Message-IDs");
    // Each comune's mails leave with its own sender.
    for m in &got {
        let n: usize = m.to[0][9..11].parse().unwrap();
        let want = if n.is_multiple_of(2) {
            "info@alfa.example.it"
        } else {
            "info@beta.example.it"
        };
        assert_eq!(m.from_address.as_deref(), Some(want));
    }
    other.db().close().await;
    e.close().await;
}

both!(mails_about_a_record_are_per_comune);
async fn mails_about_a_record_are_per_comune(backend: Backend) {
    let e = env(backend).await;
    let a1 = e
        .app
        .send_mail(e.a.id, &mail("uno@example.it", Some(("pratica", 42))))
        .await
        .unwrap();
    e.app
        .send_mail(e.a.id, &mail("uno@example.it", Some(("appuntamento", 42))))
        .await
        .unwrap();
    let b1 = e
        .app
        .send_mail(e.b.id, &mail("due@example.it", Some(("pratica", 42))))
        .await
        .unwrap();
    let ids = |v: Vec<Mail>| v.iter().map(|m| (m.tenant, m.id)).collect::<Vec<_>>();
    assert_eq!(
        ids(e.app.mails_about(e.a.id, "pratica", 42).await.unwrap()),
        vec![(e.a.id, a1)]
    );
    assert_eq!(
        ids(e.app.mails_about(e.b.id, "pratica", 42).await.unwrap()),
        vec![(e.b.id, b1)]
    );
    assert!(
        e.app
            .mails_about(e.b.id, "appuntamento", 42)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(e.app.db().mail(e.b.id, a1).await.unwrap(), None);
    // No transport configured: nothing is claimed, all stay queued.
    assert_eq!(
        e.app.send_due_mails(Timestamp::now()).await.unwrap(),
        SendReport::default()
    );
    assert_eq!(
        e.app
            .outbox(e.a.id, Some(MailState::Queued), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    e.close().await;
}

both!(the_file_transport_writes_an_eml);
async fn the_file_transport_writes_an_eml(backend: Backend) {
    let e = env(backend).await;
    e.app
        .configure_mail(&MailConfig {
            transport: TransportKind::File,
            from: Some("noreply@alfa.example.it".into()),
            from_name: Some("Città di Alfa".into()),
            ..MailConfig::default()
        })
        .unwrap();
    let mut m = mail("file@example.it", None);
    m.html_body = Some("<p>La sua domanda è stata <b>protocollata</b>.</p>".into());
    let id = e.app.send_mail(e.a.id, &m).await.unwrap();
    let r = e.app.send_due_mails(Timestamp::now()).await.unwrap();
    assert_eq!(r.sent, 1);
    let dir = e.dir.path().join("mail");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let bytes = std::fs::read(&files[0]).unwrap();
    let msg = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(msg.subject(), Some(SUBJECT));
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("noreply@alfa.example.it"));
    assert_eq!(from.name(), Some("Città di Alfa"));
    assert_eq!(
        msg.to().unwrap().first().unwrap().address(),
        Some("file@example.it")
    );
    assert_eq!(
        msg.body_text(0).unwrap().replace("\r\n", "\n"),
        BODY,
        "text part"
    );
    assert!(
        msg.body_html(0).unwrap().contains("<b>protocollata</b>"),
        "html alternative"
    );
    let stored = e.app.db().mail(e.a.id, id).await.unwrap().unwrap();
    assert_eq!(stored.state, MailState::Sent);
    assert_eq!(msg.message_id(), stored.message_id.as_deref());
    e.close().await;
}
