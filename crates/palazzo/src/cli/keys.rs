//! `palazzo keys …`: the comune's PZ1 seal keys (issue 5, part 4;
//! DECISIONS 14, 15): list them with their periods, rotate to a new one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use super::{init_logs, load_installation, open_app};

/// `palazzo keys …`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Start sealing certificates with a new key; the old ones stay in the
    /// trust list for the certificates they sealed. Prints the new key.
    Rotate(KeysArgs),
    /// List the seal keys with the period each one sealed in.
    List(KeysArgs),
}

/// The comune and the installation.
#[derive(clap::Args, Debug)]
pub struct KeysArgs {
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

/// Runs `palazzo keys …`.
pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    let (rotate, args) = match cmd {
        KeysCommand::Rotate(a) => (true, a),
        KeysCommand::List(a) => (false, a),
    };
    let config = load_installation(args.config.as_deref(), args.data_dir)?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == args.ente)
        .with_context(|| format!("no ente {}", args.ente))?;
    let fail =
        |e: palazzo_services::ServiceError| anyhow::anyhow!("{} ({})", e.message_it(), e.code());
    let result = async {
        if rotate {
            let k = app.rotate_seal_key(&tenant).await.map_err(fail)?;
            println!(
                "Nuova chiave del sigillo n. {}: kid {} (dal {}).",
                k.number, k.kid, k.created
            );
        } else {
            app.seal_signer(&tenant).await.map_err(fail)?;
            for k in app.seal_keys(tenant.id).await.map_err(fail)? {
                match k.retired {
                    Some(end) => {
                        println!("{}  kid {}  dal {}  al {}", k.number, k.kid, k.created, end)
                    }
                    None => println!("{}  kid {}  dal {}  (in uso)", k.number, k.kid, k.created),
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    app.db().close().await;
    result?;
    Ok(ExitCode::SUCCESS)
}
