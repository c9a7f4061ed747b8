//! `palazzo appuntamenti …`: the booking calendars of the offices and their
//! agenda (docs/appuntamenti.md).
//!
//! * `calendario --ufficio <slug> --file <toml>` sets an office's weekly
//!   calendar from a TOML file (the keys of
//!   [`palazzo_domain::appuntamenti::CalendarSpec`]); `--mostra` prints the
//!   current one in the same format instead.
//! * `agenda --ufficio <slug> --giorno YYYY-MM-DD` prints the day's
//!   bookings, one per line.
//! * `promemoria [--ora "AAAA-MM-GG HH:MM"]` runs one pass of the reminder
//!   job for the comune (what `palazzo serve` does every ten minutes) and
//!   prints each reminder it queued; a second run queues nothing again.
//!
//! Whoever can run these commands with the installation's configuration is
//! its operator: they act as the command line, not as a person.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use palazzo_domain::access::Role;
use palazzo_domain::appuntamenti::{CalendarSpec, parse_date};
use palazzo_domain::calendar::{rome_date, rome_time_zone};
use palazzo_services::ServiceError;
use palazzo_store::Timestamp;

use super::emergenza::{Target, actor, finish, open_comune_with_config};

/// Exit status for bad input (as clap's usage errors).
const USAGE: u8 = 2;

/// `palazzo appuntamenti …`.
#[derive(Subcommand, Debug)]
pub enum AppuntamentiCommand {
    /// Set (or with --mostra print) the booking calendar of an office.
    Calendario {
        /// The office (its slug).
        #[arg(long)]
        ufficio: String,
        /// The calendar, a TOML file (docs/appuntamenti.md).
        #[arg(long, required_unless_present = "mostra")]
        file: Option<PathBuf>,
        /// Print the current calendar as TOML instead of setting it.
        #[arg(long)]
        mostra: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Print the bookings of an office on one day.
    Agenda {
        /// The office (its slug).
        #[arg(long)]
        ufficio: String,
        /// The day, YYYY-MM-DD (default: today in Rome).
        #[arg(long)]
        giorno: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Queue the reminder e-mails due now (one pass of the job that
    /// `palazzo serve` runs) and print them.
    Promemoria {
        /// The moment to run as, Europe/Rome `AAAA-MM-GG HH:MM` or RFC 3339
        /// (default: now).
        #[arg(long)]
        ora: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

fn usage(message: &str) -> ExitCode {
    eprintln!("palazzo: {message}");
    ExitCode::from(USAGE)
}

fn refusal(e: &ServiceError) -> ExitCode {
    match e {
        ServiceError::NotFound => usage("ufficio sconosciuto (not_found)"),
        e => usage(&format!("{} ({})", e.message_it(), e.code())),
    }
}

fn hhmm(ts: Timestamp) -> String {
    ts.to_zoned(rome_time_zone()).strftime("%H:%M").to_string()
}

/// Runs one subcommand.
pub async fn run(cmd: AppuntamentiCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AppuntamentiCommand::Calendario {
            ufficio,
            file,
            mostra,
            target,
        } => {
            let spec = match (&file, mostra) {
                (Some(path), false) => {
                    let text = match std::fs::read_to_string(path) {
                        Ok(t) => t,
                        Err(e) => {
                            return Ok(usage(&format!(
                                "non riesco a leggere {}: {e}",
                                path.display()
                            )));
                        }
                    };
                    match toml::from_str::<CalendarSpec>(&text) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            return Ok(usage(&format!(
                                "{} non è un calendario valido (calendario_toml_non_valido): {}",
                                path.display(),
                                e.message()
                            )));
                        }
                    }
                }
                _ => None,
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let code = match spec {
                Some(spec) => match app
                    .set_office_calendar(tenant.id, None, &ufficio, &spec)
                    .await
                {
                    Ok(r) => {
                        println!(
                            "Calendario di {ufficio} salvato: {} fasce settimanali.",
                            r.spec.fasce.len()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(e) => refusal(&e),
                },
                None => {
                    // Reading needs a manager's role; the operator has it
                    // over every office.
                    let who = actor(Role::Dirigente);
                    match app.office_calendar(tenant.id, &who, &ufficio).await {
                        Ok((_, Some(r))) => {
                            print!("{}", toml::to_string_pretty(&r.spec)?);
                            ExitCode::SUCCESS
                        }
                        Ok((_, None)) => {
                            println!(
                                "# L'ufficio {ufficio} non ha un calendario delle prenotazioni."
                            );
                            ExitCode::SUCCESS
                        }
                        Err(e) => refusal(&e),
                    }
                }
            };
            finish(&app).await?;
            Ok(code)
        }
        AppuntamentiCommand::Agenda {
            ufficio,
            giorno,
            target,
        } => {
            let day = match giorno.as_deref().map(parse_date).transpose() {
                Ok(d) => d,
                Err(e) => {
                    return Ok(usage(&format!(
                        "{} ({})",
                        palazzo_domain::Coded::message_it(&e),
                        palazzo_domain::Coded::code(&e)
                    )));
                }
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let day = day.unwrap_or_else(|| rome_date(Timestamp::now()));
            let who = actor(Role::Dirigente);
            let code = match app.office_agenda(tenant.id, &who, &ufficio, day).await {
                Ok(a) => {
                    println!(
                        "Agenda di {} per il {} ({} orari)",
                        a.office.data.name,
                        day.strftime("%d/%m/%Y"),
                        a.slots.len()
                    );
                    let active = a
                        .bookings
                        .iter()
                        .filter(|b| b.state != palazzo_store::BookingState::Annullato)
                        .count();
                    println!("Prenotati: {active}");
                    for b in &a.bookings {
                        let d = &b.data;
                        println!(
                            "{}-{}\tsportello {}\t{}\t{} {}\t{}\t{}\t{}",
                            hhmm(d.slot_start),
                            hhmm(d.slot_end),
                            d.seat,
                            b.state.code(),
                            d.name,
                            d.surname,
                            d.email,
                            d.phone.as_deref().unwrap_or("-"),
                            d.topic
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => refusal(&e),
            };
            finish(&app).await?;
            Ok(code)
        }
        AppuntamentiCommand::Promemoria { ora, target } => {
            let now = match ora
                .as_deref()
                .map(palazzo_services::emergenza::parse_rome_datetime)
                .transpose()
            {
                Ok(n) => n.unwrap_or_else(Timestamp::now),
                Err(e) => return Ok(usage(&format!("{} ({})", e.message_it(), e.code()))),
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let code = match app.queue_booking_reminders_of(tenant.id, now).await {
                Ok(queued) => {
                    println!("Promemoria accodati: {}", queued.len());
                    for r in &queued {
                        println!(
                            "{}\t{}\t{}\tprenotazione {}\tmessaggio {}",
                            r.slot_start
                                .to_zoned(rome_time_zone())
                                .strftime("%d/%m/%Y %H:%M"),
                            r.office,
                            r.recipient,
                            r.booking.0,
                            r.mail.0
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => refusal(&e),
            };
            finish(&app).await?;
            Ok(code)
        }
    }
}
