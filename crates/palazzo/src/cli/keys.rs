//! `palazzo keys …`: the comune's PZ1 seal keys (issue 5, part 4;
//! DECISIONS 14, 15): list them with their periods, rotate to a new one.

use std::process::ExitCode;

use clap::Subcommand;

use super::emergenza::{Target, open_comune, service};

/// `palazzo keys …`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Start sealing certificates with a new key; the old ones stay in the
    /// trust list for the certificates they sealed. Prints the new key.
    Rotate(Target),
    /// List the seal keys with the period each one sealed in.
    List(Target),
}

/// Runs `palazzo keys …`.
pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    let (rotate, target) = match cmd {
        KeysCommand::Rotate(t) => (true, t),
        KeysCommand::List(t) => (false, t),
    };
    let (app, tenant) = open_comune(&target).await?;
    let result = async {
        if rotate {
            let k = app.rotate_seal_key(&tenant).await.map_err(service)?;
            println!(
                "Nuova chiave del sigillo n. {}: kid {} (dal {}).",
                k.number, k.kid, k.created
            );
        } else {
            app.seal_signer(&tenant).await.map_err(service)?;
            for k in app.seal_keys(tenant.id).await.map_err(service)? {
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
