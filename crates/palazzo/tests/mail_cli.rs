//! `palazzo mail test | outbox | retry` on a demo installation, with a real
//! SMTP server (aiosmtpd, testbeds/smtp): a test message reaches it and the
//! server's answer is printed; without a transport the command refuses with
//! a code; a message refused for good is listed as failed with the server's
//! error, queued again by `retry`, and `--all-failed` and unknown ids behave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;
use std::time::Duration;

use palazzo_services::App;
use palazzo_services::db::Db;
use palazzo_services::keys::KeyStore;
use palazzo_services::mail::{MailConfig, TransportKind};
use palazzo_store::{MailRelated, MailState, NewMail};
use palazzo_testkit::TempDir;
use palazzo_testkit::smtp::{SmtpServer, free_port};
use palazzo_testkit::{cli, cli::text};

fn palazzo(args: &[&str], env: &[(&str, &str)]) -> Output {
    cli::run_with_env(env!("CARGO_BIN_EXE_palazzo"), args, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_from_the_command_line() {
    let dir = TempDir::new("mail-cli");
    let data = dir.path().to_str().unwrap().to_owned();
    let out = palazzo(
        &[
            "demo",
            "--no-serve",
            "--residents",
            "20",
            "--data-dir",
            &data,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let port = free_port();
    let server = SmtpServer::start_on(port, &["nessuno@example.it"]);
    let url = server.url();
    let smtp = [
        ("PALAZZO_MAIL_TRANSPORT", "smtp"),
        ("PALAZZO_MAIL_SMTP_URL", url.as_str()),
        ("PALAZZO_MAIL_TIMEOUT_SECS", "10"),
    ];
    let at = ["--data-dir", data.as_str(), "--ente", "casamassima"];
    let with = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&at);
        palazzo(&all, env)
    };

    // A test message now, with the server's answer.
    let out = with(&["mail", "test", "--to", "prova@example.it"], &smtp);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.contains("Inviato a prova@example.it: 250"),
        "{stdout}"
    );
    let got = server.wait_for(1, Duration::from_secs(20));
    assert_eq!(got[0].to, vec!["prova@example.it".to_owned()]);
    let subject = got[0].subject.clone().unwrap();
    assert!(
        subject.starts_with("Prova di invio — Comune di"),
        "{subject}"
    );
    assert!(stdout.contains(&format!("queued as {:06}", 1)), "{stdout}");

    // Without a transport: refused with a code, nothing sent.
    let out = with(&["mail", "test", "--to", "prova@example.it"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("(mail_disabled)"), "{}", text(&out));
    // A refused recipient: exit 2 with the server's answer.
    let out = with(&["mail", "test", "--to", "nessuno@example.it"], &smtp);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("550"), "{}", text(&out));
    assert_eq!(server.received().len(), 1);

    // Two messages through the outbox: one refused for good.
    let db = Db::open(&format!(
        "sqlite:{}",
        dir.path().join("palazzo.db").display()
    ))
    .await
    .unwrap();
    let app = App::new(db, KeyStore::new(dir.path().join("keys")))
        .await
        .unwrap();
    let t = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == "casamassima")
        .unwrap();
    let msg = |to: &str| NewMail {
        recipient: to.into(),
        subject: "Appuntamento confermato: lunedì alle 9:30".into(),
        text_body: "Ti aspettiamo all'ufficio anagrafe.\n".into(),
        html_body: None,
        reply_to: None,
        related: Some(MailRelated {
            kind: "appuntamento".into(),
            id: 7,
        }),
    };
    let bad = app
        .send_mail(t.id, &msg("nessuno@example.it"))
        .await
        .unwrap();
    let good = app
        .send_mail(t.id, &msg("cittadino@example.it"))
        .await
        .unwrap();
    app.configure_mail(&MailConfig {
        transport: TransportKind::Smtp,
        smtp_url: Some(url.clone()),
        ..MailConfig::default()
    })
    .unwrap();
    let r = app.send_due_mails(jiff::Timestamp::now()).await.unwrap();
    assert_eq!((r.sent, r.failed), (1, 1));
    app.db().close().await;

    let out = with(&["mail", "outbox", "--state", "failed"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with(&format!("{}\tfailed\t", bad.0)),
        "{listed}"
    );
    assert!(lines[0].contains("nessuno@example.it"), "{listed}");
    assert!(lines[0].contains("appuntamento/7"), "{listed}");
    assert!(lines[0].contains("error: SMTP"), "{listed}");
    assert!(lines[0].contains("550"), "{listed}");
    assert_eq!(lines[1], "1 messaggi.");
    let out = with(&["mail", "outbox"], &[]);
    let all = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(all.contains(&format!("{}\tsent\t", good.0)), "{all}");
    assert!(all.contains("2 messaggi."), "{all}");
    let out = with(&["mail", "outbox", "--state", "perso"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("stato non valido"), "{}", text(&out));

    // Retry one, then all (none left), and an unknown id.
    let id = bad.0.to_string();
    let out = with(&["mail", "retry", &id], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("Messaggio {id} di nuovo in coda.")));
    let out = with(&["mail", "outbox", "--state", "queued"], &[]);
    let queued = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        queued.starts_with(&format!("{id}\tqueued\t")) && queued.contains("attempts 0"),
        "{queued}"
    );
    let out = with(&["mail", "retry", &id], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("(mail_not_failed)"), "{}", text(&out));
    let out = with(&["mail", "retry", "--all-failed"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("0 messaggi di nuovo in coda."),
        "{}",
        text(&out)
    );
    let out = with(&["mail", "retry", "999999"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("(not_found)"), "{}", text(&out));
    let out = with(&["mail", "retry"], &[]);
    assert!(!out.status.success(), "an id or --all-failed is required");

    let db = Db::open_existing(&format!(
        "sqlite:{}",
        dir.path().join("palazzo.db").display()
    ))
    .await
    .unwrap();
    use palazzo_store::Store as _;
    let m = db.mail(t.id, bad).await.unwrap().unwrap();
    assert_eq!((m.state, m.attempts), (MailState::Queued, 0));
    db.close().await;
    drop(server);
}
