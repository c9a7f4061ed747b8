//! `palazzo mail test | outbox | retry`: the e-mail outbox from the command
//! line (docs/operations.md, "Posta elettronica").

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use palazzo_store::{MailId, MailState};

use super::{init_logs, load_installation, open_app};

/// Where the installation is and which comune.
#[derive(Args, Debug)]
pub struct MailAt {
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The comune (its slug); the default one when absent.
    #[arg(long)]
    ente: Option<String>,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Send one test message now with the configured transport ([mail])
    /// and print the server's answer; exits 2 when it is refused.
    Test {
        #[command(flatten)]
        at: MailAt,
        /// The recipient.
        #[arg(long)]
        to: String,
    },
    /// List the outbox, newest first.
    Outbox {
        #[command(flatten)]
        at: MailAt,
        /// Only the messages in this state: queued, sent or failed.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue failed messages again (their attempts start over).
    Retry {
        #[command(flatten)]
        at: MailAt,
        /// The message's id (from `outbox`).
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<i64>,
        /// Every failed message of the comune.
        #[arg(long)]
        all_failed: bool,
    },
}

/// Runs a subcommand.
pub async fn run(cmd: MailCommand) -> anyhow::Result<ExitCode> {
    let at = match &cmd {
        MailCommand::Test { at, .. }
        | MailCommand::Outbox { at, .. }
        | MailCommand::Retry { at, .. } => at,
    };
    let config = load_installation(at.config.as_deref(), at.data_dir.clone())?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenants = app.tenants();
    let tenant = match &at.ente {
        Some(slug) => tenants.iter().find(|t| &t.data.slug == slug),
        None => tenants.iter().find(|t| t.data.is_default),
    }
    .with_context(|| match &at.ente {
        Some(slug) => format!("no ente {slug}"),
        None => "no default ente".to_owned(),
    })?
    .clone();
    let fail = |e: palazzo_services::ServiceError| {
        eprintln!("{} ({})", e.message_it(), e.code());
        ExitCode::from(2)
    };
    let code = match cmd {
        MailCommand::Test { to, .. } => {
            if let Err(e) = app.configure_mail(&config.mail) {
                app.db().close().await;
                return Ok(fail(e));
            }
            match app.send_test_mail(tenant.id, &to).await {
                Ok(answer) => {
                    println!("Inviato a {to}: {answer}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        MailCommand::Outbox { state, limit, .. } => {
            let state =
                match state.as_deref() {
                    None => None,
                    Some(s) => Some(MailState::from_code(s).with_context(|| {
                        format!("stato non valido: {s} (queued, sent o failed)")
                    })?),
                };
            match app.outbox(tenant.id, state, limit).await {
                Ok(mails) => {
                    for m in &mails {
                        let related = m
                            .data
                            .related
                            .as_ref()
                            .map_or(String::new(), |r| format!("\t{}/{}", r.kind, r.id));
                        let when = match m.sent_at {
                            Some(t) => format!("sent {t}"),
                            None => format!("next {}", m.next_attempt_at),
                        };
                        println!(
                            "{}\t{}\t{}\tattempts {}\t{}\t{}\t{}{}{}",
                            m.id.0,
                            m.state.code(),
                            m.created_at,
                            m.attempts,
                            when,
                            m.data.recipient,
                            m.data.subject,
                            related,
                            m.last_error
                                .as_deref()
                                .map_or(String::new(), |e| format!("\terror: {e}")),
                        );
                    }
                    println!("{} messaggi.", mails.len());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        MailCommand::Retry { id, all_failed, .. } => {
            if all_failed {
                match app.retry_failed_mails(tenant.id).await {
                    Ok(n) => {
                        println!("{n} messaggi di nuovo in coda.");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(e),
                }
            } else {
                let id = id.context("give the message's id or --all-failed")?;
                match app.retry_mail(tenant.id, MailId(id)).await {
                    Ok(()) => {
                        println!("Messaggio {id} di nuovo in coda.");
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(e),
                }
            }
        }
    };
    app.db().close().await;
    Ok(code)
}
