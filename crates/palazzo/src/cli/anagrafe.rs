//! `palazzo anagrafe import`: loads the stradario or the residents of a
//! comune from the CSV files of `docs/anagrafe-import.md` (issue 5, part 1),
//! with a progress bar and a report of the refused rows.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use palazzo_domain::access::Role;
use palazzo_domain::anagrafe::FileKind;

use super::emergenza::{Target, actor, open_comune, service};
use super::progress_bar;

/// `palazzo anagrafe …`.
#[derive(Subcommand, Debug)]
pub enum AnagrafeCommand {
    /// Load a stradario or residents file (docs/anagrafe-import.md; the
    /// kind is told by its header). Good rows are saved, bad ones reported
    /// with line, column and code; exits 2 when any row was refused.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
}

/// Runs `palazzo anagrafe …`.
pub async fn run(cmd: AnagrafeCommand) -> anyhow::Result<ExitCode> {
    let AnagrafeCommand::Import { file, target } = cmd;
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let (app, tenant) = open_comune(&target).await?;
    // Whoever can run this command with the installation's configuration
    // acts as the comune's administrator, who keeps the register's data.
    let actor = actor(Role::AdminComune);
    let report = app
        .import_anagrafe(tenant.id, &actor, &bytes, progress_bar)
        .await;
    app.db().close().await;
    let report = report.map_err(service)?;
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
