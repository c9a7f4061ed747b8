//! `palazzo servizi-online …`: the definitions of the online services
//! (list, export, import of a new version, installation of the shipped
//! ones) and the cards of the catalogue they belong to (save from a file,
//! export); `palazzo pratiche …`: the open pratiche of an office with their
//! deadlines, and one pratica with its history and legal clock
//! (docs/istanze.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use palazzo_domain::access::Role;
use palazzo_services::emergenza::rome_display;
use palazzo_services::import::ServiceEntry;
use palazzo_services::pratiche::ServiceDefinition;
use palazzo_store::PraticaId;

use super::emergenza::{actor, finish, service};
use super::{init_logs, load_installation, open_app};

/// Which installation and comune.
#[derive(Args, Debug)]
pub struct Comune {
    /// The comune (its slug).
    #[arg(long, alias = "tenant")]
    ente: String,
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// `palazzo servizi-online …`.
#[derive(Subcommand, Debug)]
pub enum ServiziOnlineCommand {
    /// List the online services: slug, definition version, legal term,
    /// silenzio-assenso, title.
    List {
        #[command(flatten)]
        at: Comune,
    },
    /// Write the current definition of a service (TOML, or JSON with
    /// --json) to standard output or to --out.
    Export {
        /// The service's slug.
        #[arg(long)]
        servizio: String,
        /// JSON instead of TOML.
        #[arg(long)]
        json: bool,
        /// The file to write.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        at: Comune,
    },
    /// Validate a definition file (`.toml`, or `.json`) and save it as the
    /// service's new version; prints the version. Exits non-zero with the
    /// problems found, saving nothing.
    Import {
        /// The definition file.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        at: Comune,
    },
    /// Install the definitions Palazzo ships for the services of the
    /// catalogue that have none yet.
    InstallShipped {
        #[command(flatten)]
        at: Comune,
    },
    /// Save a service card of the catalogue from a file (`.toml`, or
    /// `.json`) in the format of the ente file's `servizi` entries: a new
    /// card when its slug is new, else the card is replaced (published on
    /// the portal at once, one ledger event). Exits non-zero with every
    /// problem found, saving nothing.
    SalvaScheda {
        /// The card file.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        at: Comune,
    },
    /// Write a service card (TOML, or JSON with --json) to standard output
    /// or to --out, in the format `salva-scheda` reads.
    EsportaScheda {
        /// The card's slug.
        #[arg(long)]
        servizio: String,
        /// JSON instead of TOML.
        #[arg(long)]
        json: bool,
        /// The file to write.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        at: Comune,
    },
}

/// `palazzo pratiche …`.
#[derive(Subcommand, Debug)]
pub enum PraticheCommand {
    /// The open pratiche of an office, overdue first, then by deadline,
    /// with the days left.
    List {
        /// The office (its slug).
        #[arg(long)]
        ufficio: String,
        /// Only the pratiche past their deadline.
        #[arg(long)]
        scadute: bool,
        #[command(flatten)]
        at: Comune,
    },
    /// One pratica: its data, legal clock and history.
    Show {
        /// The pratica's id.
        id: i64,
        #[command(flatten)]
        at: Comune,
    },
    /// TEMPI-01: the actual times of the procedures per service and
    /// quarter (counts and durations only), as published on
    /// /servizi-online/tempi.
    Tempi {
        /// Only this year's quarters.
        #[arg(long)]
        year: Option<i16>,
        /// `text` (a table), `csv` or `json`.
        #[arg(long, value_enum, default_value_t = super::tempi::Format::Text)]
        format: super::tempi::Format,
        #[command(flatten)]
        at: Comune,
    },
    /// Names the responsabile del procedimento (art. 5 L. 241/1990): a
    /// member of the pratica's office (a user with a role on it). One step
    /// of the history, ledgered.
    Assegna {
        /// The pratica's id.
        id: i64,
        /// The user id of the member of the office.
        #[arg(long)]
        responsabile: i64,
        /// The state you saw (default: the current one).
        #[arg(long)]
        stato: Option<String>,
        #[command(flatten)]
        at: Comune,
    },
    /// Hands the pratica to another office per competenza, with the
    /// reason; the protocol hand-off follows it. One step, ledgered.
    Trasferisci {
        /// The pratica's id.
        id: i64,
        /// The slug of the office it goes to.
        #[arg(long)]
        ufficio: String,
        /// Why.
        #[arg(long)]
        motivo: String,
        /// The state you saw (default: the current one).
        #[arg(long)]
        stato: Option<String>,
        #[command(flatten)]
        at: Comune,
    },
}

async fn open(at: &Comune) -> anyhow::Result<(palazzo_services::App, palazzo_store::TenantId)> {
    let config = load_installation(at.config.as_deref(), at.data_dir.clone())?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == at.ente)
        .with_context(|| format!("no ente {}", at.ente))?;
    Ok((app, tenant.id))
}

/// Is the file JSON (by its extension)? Otherwise TOML.
fn is_json(file: &std::path::Path) -> bool {
    file.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn yes_no(b: bool) -> &'static str {
    if b { "sì" } else { "no" }
}

/// Runs one `servizi-online` subcommand.
pub async fn run(cmd: ServiziOnlineCommand) -> anyhow::Result<ExitCode> {
    let admin = actor(Role::AdminComune);
    match cmd {
        ServiziOnlineCommand::List { at } => {
            let (app, t) = open(&at).await?;
            let defs = app.service_definitions(t).await.map_err(service)?;
            let portal = app.portal(t).await.map_err(service)?;
            finish(&app).await?;
            for d in &defs {
                let def = &d.definition;
                let title = portal
                    .service(&def.service)
                    .map(|s| s.data.title.clone())
                    .unwrap_or_default();
                println!(
                    "{}\tversione {}\ttermine {} giorni\tsilenzio-assenso {}\t{}",
                    def.service,
                    d.version,
                    def.procedure.term_days,
                    yes_no(def.procedure.silenzio_assenso),
                    title
                );
            }
            if defs.is_empty() {
                println!("Nessun servizio online.");
            }
        }
        ServiziOnlineCommand::Export {
            servizio,
            json,
            out,
            at,
        } => {
            let (app, t) = open(&at).await?;
            let d = app
                .service_definition(t, &servizio, None)
                .await
                .map_err(service)?;
            finish(&app).await?;
            let d = d.with_context(|| {
                format!("il servizio «{servizio}» non ha una definizione (servizio_non_online)")
            })?;
            let text = if json {
                d.definition.to_json().map_err(service)?
            } else {
                d.definition.to_toml().map_err(service)?
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text.as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "Definizione di {servizio} (versione {}) scritta in {}.",
                        d.version,
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
        }
        ServiziOnlineCommand::Import { file, at } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let def = if is_json(&file) {
                ServiceDefinition::from_json(&text)
            } else {
                ServiceDefinition::from_toml(&text)
            }
            .map_err(service)?;
            // Checked before opening the installation: a bad file changes nothing.
            def.validate().map_err(service)?;
            let (app, t) = open(&at).await?;
            let saved = app.save_service_definition(t, &admin, def).await;
            finish(&app).await?;
            let saved = saved.map_err(service)?;
            println!(
                "Servizio {}: salvata la versione {}.",
                saved.definition.service, saved.version
            );
        }
        ServiziOnlineCommand::InstallShipped { at } => {
            let (app, t) = open(&at).await?;
            let n = app.install_shipped_definitions(t).await;
            finish(&app).await?;
            println!("Definizioni installate: {}.", n.map_err(service)?);
        }
        ServiziOnlineCommand::SalvaScheda { file, at } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let entry: ServiceEntry = if is_json(&file) {
                serde_json::from_str(&text).map_err(anyhow::Error::from)
            } else {
                toml::from_str(&text).map_err(anyhow::Error::from)
            }
            .with_context(|| {
                format!(
                    "{}: la scheda non è leggibile (invalid_fields)",
                    file.display()
                )
            })?;
            let (app, t) = open(&at).await?;
            let saved = async {
                // Every problem at once, the office included; nothing saved.
                let problems = app.service_card_entry_problems(t, &entry).await?;
                if !problems.is_empty() {
                    return Ok(Err(problems));
                }
                let slug = entry.scheda.slug.clone();
                let exists = app.portal(t).await?.service(&slug).is_some();
                let editing = exists.then_some(slug.as_str());
                let saved = app
                    .save_service_card(t, &admin, editing, None, entry)
                    .await?;
                Ok(Ok((saved, exists)))
            }
            .await;
            finish(&app).await?;
            let (saved, exists) = match saved.map_err(service)? {
                Ok(v) => v,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{}: {} ({})", p.field, p.message, p.code);
                    }
                    anyhow::bail!("la scheda non è stata salvata: {} problemi", problems.len());
                }
            };
            println!(
                "Scheda {} {}: {}.",
                saved.data.slug,
                if exists { "aggiornata" } else { "creata" },
                saved.data.title
            );
        }
        ServiziOnlineCommand::EsportaScheda {
            servizio,
            json,
            out,
            at,
        } => {
            let (app, t) = open(&at).await?;
            let snap = app.portal(t).await;
            finish(&app).await?;
            let snap = snap.map_err(service)?;
            let card = snap
                .service(&servizio)
                .with_context(|| format!("la scheda «{servizio}» non esiste (not_found)"))?;
            let mut scheda = card.data.clone();
            let ufficio = snap
                .office(scheda.office)
                .map(|o| o.data.slug.clone())
                .unwrap_or_default();
            scheda.office = palazzo_store::OfficeId::default();
            let entry = ServiceEntry { ufficio, scheda };
            let text = if json {
                serde_json::to_string_pretty(&entry)? + "\n"
            } else {
                toml::to_string_pretty(&entry)?
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text.as_bytes())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("Scheda {servizio} scritta in {}.", path.display());
                }
                None => print!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one `pratiche` subcommand.
pub async fn run_pratiche(cmd: PraticheCommand) -> anyhow::Result<ExitCode> {
    // Who sees every office's pratiche.
    let dirigente = actor(Role::Dirigente);
    match cmd {
        PraticheCommand::List {
            ufficio,
            scadute,
            at,
        } => {
            let (app, t) = open(&at).await?;
            let office = app
                .portal(t)
                .await
                .map_err(service)?
                .office_by_slug(&ufficio)
                .map(|o| o.id);
            let Some(office) = office else {
                finish(&app).await?;
                anyhow::bail!("l'ufficio «{ufficio}» non esiste (office_unknown)");
            };
            let list = app.office_pratiche(t, &dirigente, office).await;
            finish(&app).await?;
            let mut list = list.map_err(service)?;
            list.retain(|(_, c)| !scadute || c.overdue);
            list.sort_by_key(|(p, c)| (!c.overdue, c.deadline, p.id));
            for (p, c) in &list {
                let left = c
                    .days_left
                    .map_or_else(|| "-".to_owned(), |d| d.to_string());
                println!(
                    "{}\t{}\tscadenza {}\tgiorni {}\t{}\t{}\t{}",
                    p.id.0,
                    if c.overdue { "SCADUTA" } else { "in termine" },
                    c.deadline.strftime("%d/%m/%Y"),
                    left,
                    p.data.state,
                    p.data.applicant_name,
                    p.data.subject
                );
            }
            println!("{} pratiche aperte.", list.len());
        }
        PraticheCommand::Tempi { year, format, at } => {
            let (app, t) = open(&at).await?;
            let report = app
                .tempi_procedimenti(t, year, palazzo_store::Timestamp::now())
                .await;
            finish(&app).await?;
            super::tempi::print(&report.map_err(service)?, format)?;
        }
        PraticheCommand::Show { id, at } => {
            let (app, t) = open(&at).await?;
            let v = app.office_pratica(t, &dirigente, PraticaId(id)).await;
            finish(&app).await?;
            let v = v.map_err(service)?;
            let p = &v.pratica;
            let c = &v.clock;
            println!("Pratica: {}", p.id.0);
            println!(
                "Servizio: {} (versione {})",
                p.data.service_slug, p.data.definition_version
            );
            println!("Oggetto: {}", p.data.subject);
            println!("Richiedente: {}", p.data.applicant_name);
            println!("Ufficio: {}", v.office);
            if let Some(r) = &v.registration {
                println!(
                    "Protocollo: n. {}/{} del {}",
                    r.number,
                    r.year,
                    rome_display(r.registered_at)
                );
            }
            println!("Stato: {}", p.data.state);
            println!(
                "Responsabile del procedimento: {}",
                v.responsabile.as_deref().unwrap_or("non assegnato")
            );
            println!("Ricevuta il: {}", c.received.strftime("%d/%m/%Y"));
            println!(
                "Termine: {} giorni dal {}",
                c.term_days,
                c.term_start.strftime("%d/%m/%Y")
            );
            println!("Scadenza: {}", c.deadline.strftime("%d/%m/%Y"));
            println!("Giorni sospesi: {}", c.suspended_days);
            println!("Giorni trascorsi: {}", c.days_elapsed_net);
            if let Some(d) = c.days_left {
                println!("Giorni rimanenti: {d}");
            }
            println!("Scaduta: {}", yes_no(c.overdue));
            println!("Storia:");
            for e in &v.eventi {
                println!(
                    "  {}. {} {} ({}, {}): {} → {}{}",
                    e.seq,
                    e.data.on_date.strftime("%d/%m/%Y"),
                    e.data.action,
                    e.data.role,
                    e.data.actor,
                    e.data.from_state,
                    e.data.to_state,
                    e.data
                        .note
                        .as_deref()
                        .map(|n| format!(" – {n}"))
                        .unwrap_or_default()
                );
            }
        }
        PraticheCommand::Assegna {
            id,
            responsabile,
            stato,
            at,
        } => {
            let (app, t) = open(&at).await?;
            let done = async {
                let id = PraticaId(id);
                let stato = match stato {
                    Some(s) => s,
                    None => {
                        app.office_pratica(t, &dirigente, id)
                            .await?
                            .pratica
                            .data
                            .state
                    }
                };
                app.assign_pratica(
                    t,
                    &dirigente,
                    id,
                    palazzo_store::UserId(responsabile),
                    &stato,
                )
                .await
            }
            .await;
            finish(&app).await?;
            let v = done.map_err(service)?;
            println!(
                "Pratica {}: responsabile del procedimento {}.",
                v.pratica.id.0,
                v.responsabile.as_deref().unwrap_or("-")
            );
        }
        PraticheCommand::Trasferisci {
            id,
            ufficio,
            motivo,
            stato,
            at,
        } => {
            let (app, t) = open(&at).await?;
            let done = async {
                let id = PraticaId(id);
                let office = app
                    .portal(t)
                    .await?
                    .office_by_slug(&ufficio)
                    .map(|o| o.id)
                    .ok_or_else(|| palazzo_services::ServiceError::Invalid {
                        code: "pratica_ufficio_sconosciuto",
                        message: format!("L'ufficio «{ufficio}» non esiste."),
                    })?;
                let stato = match stato {
                    Some(s) => s,
                    None => {
                        app.office_pratica(t, &dirigente, id)
                            .await?
                            .pratica
                            .data
                            .state
                    }
                };
                app.transfer_pratica(t, &dirigente, id, office, &motivo, &stato)
                    .await
            }
            .await;
            finish(&app).await?;
            let v = done.map_err(service)?;
            println!(
                "Pratica {} trasferita per competenza a {}.",
                v.pratica.id.0, v.office
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
