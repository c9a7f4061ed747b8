//! `palazzo protocollo emergenza …`: the emergency register (DPR 445/2000
//! art. 63; docs/emergency-register.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_services::access::Actor;
use palazzo_services::emergenza::{
    AuthoriseEmergency, OpenEmergency, RecoveryOutcome, parse_rome_datetime, rome_display,
};
use palazzo_services::{App, ServiceError};
use palazzo_store::TenantId;

use super::{init_logs, load_installation, open_app};

/// Which installation and comune.
#[derive(Args, Debug)]
pub struct Target {
    /// The comune (its slug).
    #[arg(long)]
    ente: String,
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// The subcommands. Dates and times are Europe/Rome civil time
/// (`AAAA-MM-GG HH:MM` or `GG/MM/AAAA HH:MM`) or RFC 3339 with an offset.
#[derive(Subcommand, Debug)]
pub enum EmergenzaCommand {
    /// Open an emergency register with its first authorisation (at most 24 hours).
    Open {
        /// Cause of the interruption.
        #[arg(long)]
        cause: String,
        /// When the interruption started.
        #[arg(long)]
        start: String,
        /// The responsabile who authorised the emergency register.
        #[arg(long)]
        authorised_by: String,
        /// Reference of the act that authorises it.
        #[arg(long)]
        act: String,
        /// End of the first authorised period (default: 24 hours after the start).
        #[arg(long)]
        until: Option<String>,
        /// Code of the register (default: the next EMERG-<year>-<nn>).
        #[arg(long)]
        code: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Record a further authorisation (at most one week from the end of the previous one).
    Authorize {
        /// Code of the register.
        code: String,
        /// The responsabile who authorised it.
        #[arg(long)]
        authorised_by: String,
        /// Reference of the act that authorises it.
        #[arg(long)]
        act: String,
        /// End of the authorised period.
        #[arg(long)]
        until: String,
        #[command(flatten)]
        target: Target,
    },
    /// Close the register: the service was restored.
    Close {
        /// Code of the register.
        code: String,
        /// When the service was restored.
        #[arg(long)]
        end: String,
        #[command(flatten)]
        target: Target,
    },
    /// Recover the entries of a closed register from a CSV file: each gets a
    /// new ordinary number, in emergency-number order; exits 2 when any row
    /// was refused. Re-running it registers nothing twice.
    Import {
        /// Code of the register.
        code: String,
        /// The CSV file; documents are read relative to its folder.
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Show one register (authorisations, daily counts, recovered entries), or list them all.
    Show {
        /// Code of the register; all registers when omitted.
        code: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

pub(super) fn service(e: ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", e.message_it(), e.code())
}

/// The operating-system user who can run these commands with the
/// installation's configuration acts with `role`.
pub(super) fn actor(role: Role) -> Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "operatore".into());
    Actor {
        principal: Principal {
            grants: vec![Grant { role, office: None }],
        },
        name: Some(format!("Riga di comando ({who})")),
        ..Default::default()
    }
}

fn time(s: &str) -> anyhow::Result<palazzo_store::Timestamp> {
    parse_rome_datetime(s).map_err(service)
}

pub(super) async fn open(target: &Target) -> anyhow::Result<(App, TenantId)> {
    let (app, tenant) = open_comune(target).await?;
    Ok((app, tenant.id))
}

/// The installation of `target` and its comune.
pub(super) async fn open_comune(
    target: &Target,
) -> anyhow::Result<(App, std::sync::Arc<palazzo_store::Tenant>)> {
    let (app, tenant, _) = open_comune_with_config(target).await?;
    Ok((app, tenant))
}

/// As [`open_comune`], with the installation's configuration.
pub(super) async fn open_comune_with_config(
    target: &Target,
) -> anyhow::Result<(
    App,
    std::sync::Arc<palazzo_store::Tenant>,
    palazzo_services::config::Config,
)> {
    let config = load_installation(target.config.as_deref(), target.data_dir.clone())?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == target.ente)
        .with_context(|| format!("no ente {}", target.ente))?;
    Ok((app, tenant, config))
}

pub(super) async fn finish(app: &App) -> anyhow::Result<()> {
    app.checkpoint_all().await.map_err(service)?;
    app.db().close().await;
    Ok(())
}

/// Runs one subcommand.
pub async fn run(cmd: EmergenzaCommand) -> anyhow::Result<ExitCode> {
    // The responsabile della gestione documentale's role for the acts of
    // art. 63 c.1–2; a protocol operator for the recovery.
    let manager = actor(Role::Segretario);
    match cmd {
        EmergenzaCommand::Open {
            cause,
            start,
            authorised_by,
            act,
            until,
            code,
            target,
        } => {
            let input = OpenEmergency {
                code,
                cause,
                started_at: time(&start)?,
                authorised_by,
                act,
                until: until.as_deref().map(time).transpose()?,
            };
            let (app, t) = open(&target).await?;
            let s = app
                .open_emergency(t, &manager, input)
                .await
                .map_err(service)?;
            finish(&app).await?;
            println!(
                "aperto il registro di emergenza {}: autorizzato fino al {}",
                s.data.code,
                rome_display(s.authorised_until())
            );
        }
        EmergenzaCommand::Authorize {
            code,
            authorised_by,
            act,
            until,
            target,
        } => {
            let input = AuthoriseEmergency {
                authorised_by,
                act,
                until: time(&until)?,
            };
            let (app, t) = open(&target).await?;
            let s = app
                .authorise_emergency(t, &manager, &code, input)
                .await
                .map_err(service)?;
            finish(&app).await?;
            println!(
                "registro {}: autorizzazione n. {} registrata, uso autorizzato fino al {}",
                s.data.code,
                s.authorisations.len(),
                rome_display(s.authorised_until())
            );
        }
        EmergenzaCommand::Close { code, end, target } => {
            let ended = time(&end)?;
            let (app, t) = open(&target).await?;
            let s = app
                .close_emergency(t, &manager, &code, ended)
                .await
                .map_err(service)?;
            finish(&app).await?;
            println!(
                "registro {} chiuso: servizio ripristinato il {}",
                s.data.code,
                rome_display(ended)
            );
        }
        EmergenzaCommand::Import { code, file, target } => {
            let (app, t) = open(&target).await?;
            let desk = actor(Role::Operatore);
            let outcomes = app
                .import_emergency(t, &desk, &code, &file, |done, total| {
                    let width = 30;
                    let filled = (done * width).checked_div(total).unwrap_or(width);
                    eprint!(
                        "\r[{}{}] {done}/{total}",
                        "=".repeat(filled),
                        " ".repeat(width - filled)
                    );
                })
                .await
                .map_err(service)?;
            eprintln!();
            finish(&app).await?;
            let (mut recovered, mut already, mut refused) = (0, 0, 0);
            for o in &outcomes {
                match o {
                    RecoveryOutcome::Recovered {
                        emergency_number,
                        registration: r,
                        ..
                    } => {
                        recovered += 1;
                        println!(
                            "emergenza n. {emergency_number} → protocollo n. {}/{}: {}",
                            r.number, r.year, r.data.subject
                        );
                    }
                    RecoveryOutcome::AlreadyRecovered {
                        emergency_number,
                        registration: r,
                        ..
                    } => {
                        already += 1;
                        println!(
                            "emergenza n. {emergency_number} già recuperata: protocollo n. {}/{}",
                            r.number, r.year
                        );
                    }
                    RecoveryOutcome::Refused {
                        line,
                        code,
                        message,
                        ..
                    } => {
                        refused += 1;
                        println!("riga {line} rifiutata ({code}): {message}");
                    }
                }
            }
            println!("{recovered} recuperate, {already} già recuperate, {refused} rifiutate.");
            if refused > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        EmergenzaCommand::Show { code, target } => {
            let (app, t) = open(&target).await?;
            let reader = actor(Role::Segretario);
            match code {
                None => {
                    for s in app.emergency_sessions(t, &reader).await.map_err(service)? {
                        println!(
                            "{}\t{}\t{}\t{}",
                            s.data.code,
                            rome_display(s.data.started_at),
                            s.closure.as_ref().map_or_else(
                                || "in corso".to_owned(),
                                |c| rome_display(c.ended_at)
                            ),
                            s.data.cause
                        );
                    }
                }
                Some(code) => {
                    let r = app
                        .emergency_report(t, &reader, &code)
                        .await
                        .map_err(service)?;
                    let s = &r.session;
                    println!("registro di emergenza {}", s.data.code);
                    println!("causa: {}", s.data.cause);
                    println!("inizio: {}", rome_display(s.data.started_at));
                    match &s.closure {
                        Some(c) => println!("ripristino: {}", rome_display(c.ended_at)),
                        None => println!("ripristino: interruzione in corso"),
                    }
                    for a in &s.authorisations {
                        println!(
                            "autorizzazione {}: dal {} al {}, {} ({})",
                            a.seq,
                            rome_display(a.valid_from),
                            rome_display(a.valid_until),
                            a.authorised_by,
                            a.act
                        );
                    }
                    for d in &r.daily_counts {
                        println!(
                            "giorno {}: {} registrazioni",
                            d.date.strftime("%d/%m/%Y"),
                            d.registrations
                        );
                    }
                    for e in &r.entries {
                        println!(
                            "emergenza n. {} ({}) → protocollo n. {}/{}: {}",
                            e.emergency_number,
                            rome_display(e.recorded_at),
                            e.number,
                            e.year,
                            e.subject
                        );
                    }
                }
            }
            app.db().close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
