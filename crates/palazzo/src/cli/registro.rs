//! `palazzo protocollo registro-giornaliero --ente SLUG --giorno YYYY-MM-DD`:
//! produces the registro giornaliero of a closed day on demand
//! (docs/registro-giornaliero.md). Idempotent: an existing registro is
//! printed, never rewritten.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use palazzo_services::tsa::TsaClient;

use super::{init_logs, load_installation, open_app};

/// The arguments.
#[derive(Args, Debug)]
pub struct RegistroArgs {
    /// The comune (its slug).
    #[arg(long)]
    ente: String,
    /// The day (Europe/Rome civil date), e.g. 2026-03-04; must be over.
    #[arg(long)]
    giorno: String,
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Runs the command: exit 0 when the registro exists (made now or
/// before), 2 when it cannot be produced (e.g. the day is not over).
pub async fn run(args: RegistroArgs) -> anyhow::Result<ExitCode> {
    let config = load_installation(args.config.as_deref(), args.data_dir)?;
    init_logs(&config);
    let day: palazzo_store::CivilDate = args
        .giorno
        .parse()
        .with_context(|| format!("giorno non valido: {} (atteso AAAA-MM-GG)", args.giorno))?;
    let app = open_app(&config).await?;
    let tsa = TsaClient::from_config(&config.tsa)
        .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
    if tsa.is_none() {
        eprintln!(
            "attenzione: nessuna [tsa] configurata, il checkpoint non riceverà la marca temporale"
        );
    }
    app.set_tsa(tsa);
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == args.ente)
        .with_context(|| format!("no ente {}", args.ente))?;
    let who = std::env::var("USER").unwrap_or_else(|_| "operatore".into());
    let outcome = app
        .produce_registro_giornaliero(tenant.id, day, &format!("Riga di comando ({who})"))
        .await;
    app.checkpoint_all().await.ok();
    app.db().close().await;
    let produced = match outcome {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{} ({})", e.message_it(), e.code());
            return Ok(ExitCode::from(2));
        }
    };
    for r in &produced.registri {
        let d = &r.data;
        let numbers = match (d.first_number, d.last_number) {
            (Some(a), Some(b)) => format!("n. {a:07}–{b:07}"),
            _ => "nessuna registrazione".to_owned(),
        };
        println!(
            "{} {} registro {}: {} registrazioni ({numbers}), {} modifiche, {} nuove versioni, {} annullamenti comunicati; PDF sha256 {}, XML sha256 {}; {}; scadenza conservazione {}",
            if produced.created {
                "prodotto"
            } else {
                "già esistente"
            },
            d.code,
            d.register,
            d.registrations,
            d.modifications,
            d.document_versions,
            d.annulment_notices,
            d.pdf.sha256.hex(),
            d.xml.sha256.hex(),
            if d.timestamped {
                "checkpoint con marca temporale"
            } else {
                "checkpoint senza marca temporale"
            },
            d.conservation_deadline,
        );
    }
    Ok(ExitCode::SUCCESS)
}
