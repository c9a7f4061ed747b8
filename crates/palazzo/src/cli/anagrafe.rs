//! `palazzo anagrafe import`: loads the stradario or the residents of a
//! comune from the CSV files of `docs/anagrafe-import.md` (issue 5, part 1),
//! with a progress bar and a report of the refused rows.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use palazzo_domain::access::{Grant, Principal, Role};
use palazzo_domain::anagrafe::FileKind;
use palazzo_services::access::Actor;

use super::{init_logs, load_installation, open_app, progress_bar};

/// `palazzo anagrafe …`.
#[derive(Subcommand, Debug)]
pub enum AnagrafeCommand {
    /// Load a stradario or residents file (docs/anagrafe-import.md; the
    /// kind is told by its header). Good rows are saved, bad ones reported
    /// with line, column and code; exits 2 when any row was refused.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The comune (its slug).
        #[arg(long)]
        ente: String,
        /// Configuration file (TOML).
        #[arg(long, conflicts_with = "data_dir")]
        config: Option<PathBuf>,
        /// Data directory of a SQLite installation.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// Runs `palazzo anagrafe …`.
pub async fn run(cmd: AnagrafeCommand) -> anyhow::Result<ExitCode> {
    let AnagrafeCommand::Import {
        file,
        ente,
        config,
        data_dir,
    } = cmd;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let config = load_installation(config.as_deref(), data_dir)?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == ente)
        .with_context(|| format!("no ente {ente}"))?;
    // Whoever can run this command with the installation's configuration
    // acts as the comune's administrator, who keeps the register's data.
    let who = std::env::var("USER").unwrap_or_else(|_| "amministratore".into());
    let actor = Actor {
        principal: Principal {
            grants: vec![Grant {
                role: Role::AdminComune,
                office: None,
            }],
        },
        name: Some(format!("Importazione da riga di comando ({who})")),
        ..Default::default()
    };
    let report = app
        .import_anagrafe(tenant.id, &actor, &bytes, progress_bar)
        .await;
    app.db().close().await;
    let report = report.map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
    eprintln!();
    for e in &report.errors {
        match e.column {
            Some(c) => println!("riga {}, colonna {c} ({}): {}", e.line, e.code, e.message),
            None => println!("riga {} ({}): {}", e.line, e.code, e.message),
        }
    }
    match report.kind {
        FileKind::Stradario => println!(
            "Stradario: {} vie salvate, {} righe rifiutate.",
            report.saved,
            report.errors.len()
        ),
        FileKind::Residenti => println!(
            "Residenti: {} salvati ({} residenze precedenti), {} righe rifiutate.",
            report.saved,
            report.past_residences,
            report.errors.len()
        ),
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
