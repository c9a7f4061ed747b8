//! `palazzo protocollo eml FILE.eml --ente SLUG`: registers a received
//! e-mail message (docs/documents.md, "Registering an e-mail"): the `.eml`
//! is stored as received as the primary document, each MIME attachment
//! becomes an attachment (type-checked by content), and sender, subject,
//! date and Message-ID come from the message unless given.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use palazzo_services::eml::EmlFields;

use super::{init_logs, load_installation, open_app};

/// The arguments.
#[derive(Args, Debug)]
pub struct EmlArgs {
    /// The message, as saved from the mail client or the PEC box (.eml).
    file: PathBuf,
    /// The comune (its slug).
    #[arg(long)]
    ente: String,
    /// Oggetto (default: the message's subject).
    #[arg(long)]
    oggetto: Option<String>,
    /// Classification, a voice of the titolario (e.g. VI.3).
    #[arg(long)]
    classifica: Option<String>,
    /// The competent office (its slug).
    #[arg(long)]
    ufficio: Option<String>,
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Runs the command: exit 0 when registered (the number and the
/// fingerprints are printed), 2 when refused (the reason on standard
/// error; nothing registered).
pub async fn run(args: EmlArgs) -> anyhow::Result<ExitCode> {
    let config = load_installation(args.config.as_deref(), args.data_dir)?;
    init_logs(&config);
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("il file {} non si può leggere", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "messaggio.eml".into());
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == args.ente)
        .with_context(|| format!("no ente {}", args.ente))?;
    let office = match &args.ufficio {
        None => None,
        Some(slug) => Some(
            app.portal(tenant.id)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?
                .office_by_slug(slug)
                .with_context(|| format!("l'ufficio «{slug}» non esiste"))?
                .id,
        ),
    };
    // The operating-system user who can run this command with the
    // installation's configuration acts as a protocol operator.
    let who = std::env::var("USER").unwrap_or_else(|_| "operatore".into());
    let actor = palazzo_services::access::Actor {
        principal: palazzo_domain::access::Principal {
            grants: vec![palazzo_domain::access::Grant {
                role: palazzo_domain::access::Role::Operatore,
                office: None,
            }],
        },
        name: Some(format!("Registrazione da riga di comando ({who})")),
        ..Default::default()
    };
    let fields = EmlFields {
        subject: args.oggetto,
        classification: args.classifica,
        office,
        ..Default::default()
    };
    let outcome = app
        .register_eml(tenant.id, &actor, &name, &bytes, fields)
        .await;
    app.checkpoint_all().await.ok();
    app.db().close().await;
    let r = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{} ({})", e.message_it(), e.code());
            return Ok(ExitCode::from(2));
        }
    };
    let d = &r.data;
    println!("registrata n. {}/{}: {}", r.number, r.year, d.subject);
    for c in &d.correspondents {
        println!("mittente: {}", c.name);
    }
    println!(
        "documento: {} ({}) sha256 {}",
        d.primary.name,
        d.primary.media_type,
        d.primary.sha256.hex()
    );
    for a in &d.attachments {
        println!(
            "allegato: {} ({}) sha256 {}",
            a.name,
            a.media_type,
            a.sha256.hex()
        );
    }
    Ok(ExitCode::SUCCESS)
}
