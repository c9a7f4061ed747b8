//! `palazzo protocollo da-classificare --ente SLUG` and `palazzo protocollo
//! politica --ente SLUG [--obbligatoria | --differita] [--giorni N]` (issue
//! 4, TI-2; docs/protocollo.md "Classificazione"): the entries still
//! without a class with their deadline, and the comune's classification
//! policy.

use std::process::ExitCode;

use clap::Args;
use palazzo_domain::access::Role;

use super::emergenza::{Target, actor, finish, open, service};

/// The arguments of `da-classificare`.
#[derive(Args, Debug)]
pub struct PendingArgs {
    #[command(flatten)]
    target: Target,
}

/// The arguments of `politica`.
#[derive(Args, Debug)]
pub struct PolicyArgs {
    #[command(flatten)]
    target: Target,
    /// Refuse registrations without a classification.
    #[arg(long, conflicts_with = "differita")]
    obbligatoria: bool,
    /// Allow registrations "da classificare", to classify within the term.
    #[arg(long)]
    differita: bool,
    /// The term to classify, in working days (1–60).
    #[arg(long)]
    giorni: Option<u16>,
}

/// Lists the entries "da classificare", the most urgent first; exits 2 when
/// any is past its deadline (so that a monitoring job can alert).
pub async fn pending(args: PendingArgs) -> anyhow::Result<ExitCode> {
    let (app, tenant) = open(&args.target).await?;
    let result = app
        .unclassified_protocol(tenant, &actor(Role::Segretario), u32::MAX)
        .await;
    app.db().close().await;
    let rows = result.map_err(service)?;
    let overdue = rows.iter().filter(|u| u.overdue).count();
    for u in &rows {
        let r = &u.registration;
        println!(
            "{}/{}\tregistrata {}\tentro {}{}\t{}",
            r.number,
            r.year,
            palazzo_domain::calendar::rome_date(r.registered_at).strftime("%d/%m/%Y"),
            u.deadline.strftime("%d/%m/%Y"),
            if u.overdue { " SCADUTA" } else { "" },
            r.data.subject
        );
    }
    eprintln!(
        "{} registrazioni da classificare, {} oltre il termine",
        rows.len(),
        overdue
    );
    Ok(if overdue > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the policy; with `--obbligatoria`, `--differita` or `--giorni`,
/// sets it first (as the responsabile della gestione documentale).
pub async fn policy(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    let (app, tenant) = open(&args.target).await?;
    let manager = actor(Role::Segretario);
    let result = async {
        let current = app.protocol_policy(tenant, &manager).await?;
        if !args.obbligatoria && !args.differita && args.giorni.is_none() {
            return Ok(current);
        }
        let mandatory = if args.obbligatoria {
            true
        } else if args.differita {
            false
        } else {
            current.classification_mandatory
        };
        app.set_protocol_policy(
            tenant,
            &manager,
            mandatory,
            args.giorni.unwrap_or(current.classify_within_days),
        )
        .await
    }
    .await;
    let p = match result {
        Ok(p) => p,
        Err(e) => {
            app.db().close().await;
            return Err(service(e));
        }
    };
    finish(&app).await?;
    println!(
        "classificazione {}; termine per classificare: {} giorni lavorativi{}",
        if p.classification_mandatory {
            "obbligatoria alla registrazione"
        } else {
            "differita"
        },
        p.classify_within_days,
        p.updated_by
            .map(|by| format!(" (stabilita da {by})"))
            .unwrap_or_else(|| " (valori predefiniti)".to_owned())
    );
    Ok(ExitCode::SUCCESS)
}
