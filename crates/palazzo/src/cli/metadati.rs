//! `palazzo protocollo metadati --ente SLUG --anno YYYY --numero N
//! [--documento D] [--versione V] [--out DIR [--contenuto-firmato]]`: the
//! Allegato 5 `DocumentoAmministrativoInformatico` metadata of a
//! protocolled document (PR-11; docs/metadati-allegato5.md). Without
//! `--out` the XML goes to standard output; with it, the document itself,
//! its metadata and a `.hash` sidecar of each (Allegato 2 §2.16, PR-13) are
//! written to DIR; with `--contenuto-firmato` also the content signed in a
//! `.p7m` (the innermost, named without `.p7m`; the envelope is written
//! unchanged as the document).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use palazzo_domain::protocollo::Impronta;

use super::{init_logs, load_installation, open_app};

/// The arguments.
#[derive(Args, Debug)]
pub struct MetadatiArgs {
    /// The comune (its slug).
    #[arg(long)]
    ente: String,
    /// The register year.
    #[arg(long)]
    anno: i16,
    /// The protocol number (general register).
    #[arg(long)]
    numero: u64,
    /// The document: 0 the primary (default), 1, 2… the attachments.
    #[arg(long, default_value_t = 0)]
    documento: u32,
    /// The version (the current one by default; 1 is the registered original).
    #[arg(long)]
    versione: Option<u32>,
    /// Write the document, its metadata and their `.hash` sidecars here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// With `--out`: also write the content signed in the `.p7m` document
    /// (exit 2 when it is not a `.p7m` or its envelope is damaged).
    #[arg(long, requires = "out")]
    contenuto_firmato: bool,
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Runs the command: exit 0 with the metadata, 2 when the registration,
/// document or version does not exist, or when the signed content was asked
/// of a document that is not a readable `.p7m`.
pub async fn run(args: MetadatiArgs) -> anyhow::Result<ExitCode> {
    let config = load_installation(args.config.as_deref(), args.data_dir)?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == args.ente)
        .with_context(|| format!("no ente {}", args.ente))?;
    // Whoever can run this command with the installation's configuration
    // reads the register.
    let actor = palazzo_services::access::Actor {
        principal: palazzo_domain::access::Principal {
            grants: vec![palazzo_domain::access::Grant {
                role: palazzo_domain::access::Role::Segretario,
                office: None,
            }],
        },
        name: Some("Riga di comando".into()),
        ..Default::default()
    };
    let result = async {
        let reg = app
            .protocol_by_number(tenant.id, &actor, args.anno, args.numero)
            .await?
            .ok_or(palazzo_services::ServiceError::NotFound)?;
        let m = app
            .documento_amministrativo(tenant.id, &actor, reg.id, args.documento, args.versione)
            .await?;
        // Read before the database closes; refused (exit 2) like a missing
        // document, before anything is written.
        let signed = if args.contenuto_firmato {
            Some(
                app.signed_content(tenant.id, &actor, reg.id, args.documento, m.version)
                    .await,
            )
        } else {
            None
        };
        Ok::<_, palazzo_services::ServiceError>((m, signed))
    }
    .await;
    app.db().close().await;
    let (m, signed) = match result {
        Ok(found) => found,
        Err(palazzo_services::ServiceError::NotFound) => {
            eprintln!(
                "nessun documento {} (versione {}) nella registrazione n. {} del {}",
                args.documento,
                args.versione
                    .map_or_else(|| "attuale".to_owned(), |v| v.to_string()),
                args.numero,
                args.anno
            );
            return Ok(ExitCode::from(2));
        }
        Err(e) => anyhow::bail!("{} ({})", e.message_it(), e.code()),
    };
    let signed = match signed.transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{} ({})", e.message_it(), e.code());
            return Ok(ExitCode::from(2));
        }
    };
    let Some(dir) = args.out else {
        print!("{}", m.xml);
        return Ok(ExitCode::SUCCESS);
    };
    // The document as stored, checked against its fingerprint, with its
    // sidecar; then the metadata and its sidecar.
    let doc = app
        .documents()
        .export_with_sidecar(&m.file.sha256, &dir, &m.file.name)
        .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
    let meta = dir.join(&m.file_name);
    std::fs::write(&meta, m.xml.as_bytes())
        .with_context(|| format!("cannot write {}", meta.display()))?;
    palazzo_services::documents::write_hash_sidecar(&meta, &Impronta::of(m.xml.as_bytes()))
        .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
    println!(
        "documento {} (versione {}, sha256 {}) e metadati {} scritti in {}",
        doc.display(),
        m.version,
        m.file.sha256.hex(),
        m.file_name,
        dir.display()
    );
    if let Some(c) = signed {
        let path = dir.join(&c.name);
        std::fs::write(&path, &c.content)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "contenuto firmato {} ({}, sha256 {}) scritto in {}",
            c.name,
            c.detected.media_type,
            Impronta::of(&c.content).hex(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
