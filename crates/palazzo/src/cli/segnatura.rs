//! `palazzo protocollo ricevi …` (a protocol message from another AOO,
//! Allegato 6 §3.1, PR-8) and `palazzo protocollo sigillo install …` (the
//! AOO seal, DECISIONS 14; docs/segnatura.md) and `palazzo protocollo
//! fiducia …` (the trust list of received signatures).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use palazzo_domain::access::Role;
use palazzo_services::segnatura::{Esito, FileRicevuto};
use palazzo_services::{App, ServiceError};
use palazzo_store::TenantId;

use super::emergenza::actor;
use super::{init_logs, load_installation, open_app};

/// Which installation and comune.
#[derive(Args, Debug)]
pub struct Target {
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

/// `palazzo protocollo ricevi`: register a protocol message received from
/// another AOO and write the answer.
#[derive(Args, Debug)]
pub struct Ricevi {
    /// A directory holding the segnatura XML and the files it names, or the
    /// segnatura file followed by the files.
    #[arg(required = true)]
    input: Vec<PathBuf>,
    /// Where to write the answer (ConfermaRicezione or NotificaEccezione);
    /// default: beside the segnatura, `<name>-conferma.xml` or
    /// `<name>-eccezione.xml`.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    target: Target,
}

/// `palazzo protocollo sigillo …`.
#[derive(Subcommand, Debug)]
pub enum SigilloCommand {
    /// Install the AOO seal: a PKCS#8 private key (EC P-256 or RSA) and its
    /// certificate issued by a CA (PEM, the seal's certificate first, then
    /// the chain). A self-signed certificate or a key of another
    /// certificate is refused.
    Install {
        /// The private key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// The certificate and its chain (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// The IPA code of the AOO (`CodiceAOO`).
        #[arg(long)]
        aoo: String,
        #[command(flatten)]
        target: Target,
    },
}

fn service(e: ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", e.message_it(), e.code())
}

async fn open(target: &Target) -> anyhow::Result<(App, TenantId, String)> {
    let config = load_installation(target.config.as_deref(), target.data_dir.clone())?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == target.ente)
        .with_context(|| format!("no ente {}", target.ente))?;
    Ok((app, tenant.id, tenant.data.slug.clone()))
}

async fn finish(app: &App) -> anyhow::Result<()> {
    app.checkpoint_all().await.map_err(service)?;
    app.db().close().await;
    Ok(())
}

/// The local name of the root element of an XML text, if it looks like
/// one (prolog, comments and a DOCTYPE skipped). Only used to pick the
/// segnatura among the files; the receiver parses it for real.
fn root_name(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->")? + 3..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = &r[r.find('>')? + 1..];
        } else {
            let r = rest.strip_prefix('<')?;
            let end = r.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            let name = &r[..end];
            return Some(name.rsplit(':').next().unwrap_or(name));
        }
    }
}

/// A segnatura or an annulment notice (the messages `ricevi` takes).
fn is_message(bytes: &[u8]) -> bool {
    matches!(
        root_name(bytes),
        Some("SegnaturaInformatica" | "AnnullamentoProtocollazione")
    )
}

/// The files of the inputs (a directory's files, one level, by name).
fn input_files(input: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in input {
        if p.is_dir() {
            let mut files = Vec::new();
            for e in std::fs::read_dir(p).with_context(|| format!("cannot read {}", p.display()))? {
                let path = e?.path();
                if path.is_file() {
                    files.push(path);
                }
            }
            files.sort();
            out.extend(files);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{} non esiste", p.display());
        }
    }
    Ok(out)
}

/// Runs `palazzo protocollo ricevi`: exits 0 when the message is
/// registered (or was already), 2 when it is answered with an exception.
pub async fn ricevi(cmd: Ricevi) -> anyhow::Result<ExitCode> {
    let files = input_files(&cmd.input)?;
    let mut segnatura: Option<(PathBuf, Vec<u8>)> = None;
    let mut others = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A file we cannot read is handed over as unreadable (003).
        let bytes = std::fs::read(&path).ok();
        if bytes.as_deref().is_some_and(is_message) {
            if let Some((first, _)) = &segnatura {
                anyhow::bail!(
                    "più di una segnatura: {} e {}",
                    first.display(),
                    path.display()
                );
            }
            segnatura = bytes.map(|b| (path, b));
        } else {
            others.push(FileRicevuto { name, bytes });
        }
    }
    let Some((xml_path, xml)) = segnatura else {
        anyhow::bail!(
            "nessuna segnatura tra i file indicati (un XML con radice SegnaturaInformatica o AnnullamentoProtocollazione)"
        );
    };
    let (app, tenant, _) = open(&cmd.target).await?;
    let actor = actor(Role::Operatore);
    let esito = app
        .receive_protocol_message(tenant, &actor, &xml, &others)
        .await
        .map_err(service)?;
    finish(&app).await?;
    let answer_path = |kind: &str| {
        cmd.out.clone().unwrap_or_else(|| {
            let stem = xml_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "segnatura".into());
            xml_path.with_file_name(format!("{stem}-{kind}.xml"))
        })
    };
    let write = |path: &Path, xml: &str| {
        std::fs::write(path, xml).with_context(|| format!("cannot write {}", path.display()))
    };
    Ok(match esito {
        Esito::Registrata {
            registration,
            duplicate,
            risposta,
        } => {
            let path = answer_path("conferma");
            write(&path, &risposta)?;
            let date = palazzo_domain::calendar::rome_date(registration.registered_at);
            println!(
                "{}: protocollo n. {} del {date} (ConfermaRicezione in {})",
                if duplicate {
                    "già registrato"
                } else {
                    "registrato"
                },
                registration.number,
                path.display()
            );
            ExitCode::SUCCESS
        }
        Esito::Eccezione { rifiuto, risposta } => {
            let path = answer_path("eccezione");
            write(&path, &risposta)?;
            println!(
                "eccezione {}: {} (NotificaEccezione in {})",
                rifiuto.anomalia.code(),
                rifiuto.dettaglio,
                path.display()
            );
            ExitCode::from(2)
        }
        Esito::Annullamento {
            registration,
            motivo,
            provvedimento,
            duplicate,
            ..
        } => {
            println!(
                "annullamento del mittente {} per il protocollo n. {} ({motivo}; {provvedimento}): valutare l'annullamento (art. 54)",
                if duplicate {
                    "già registrato"
                } else {
                    "registrato"
                },
                registration.number
            );
            ExitCode::SUCCESS
        }
    })
}

/// `palazzo protocollo fiducia …`: the comune's trust list.
#[derive(Subcommand, Debug)]
pub enum FiduciaCommand {
    /// Add the CA certificates of a PEM file (only CA certificates are
    /// accepted; those already present are skipped).
    Aggiungi {
        /// The CA certificate(s), PEM.
        #[arg(long)]
        cert: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// List the trusted CA certificates (subject, validity, SHA-256).
    Elenca {
        #[command(flatten)]
        target: Target,
    },
    /// Remove a CA certificate by its SHA-256 fingerprint.
    Rimuovi {
        /// The fingerprint (hex, as `elenca` prints it).
        #[arg(long)]
        sha256: String,
        #[command(flatten)]
        target: Target,
    },
}

/// Runs `palazzo protocollo fiducia …`; `rimuovi` exits 2 when the
/// certificate was not in the list.
pub async fn fiducia(cmd: FiduciaCommand) -> anyhow::Result<ExitCode> {
    let day = |t| palazzo_domain::calendar::rome_date(t).to_string();
    match cmd {
        FiduciaCommand::Aggiungi { cert, target } => {
            let pem = std::fs::read_to_string(&cert)
                .with_context(|| format!("cannot read {}", cert.display()))?;
            let (app, _, slug) = open(&target).await?;
            let added = app.add_trust_anchors(&slug, &pem);
            app.db().close().await;
            let added = added.map_err(service)?;
            if added.is_empty() {
                println!(
                    "nessun certificato aggiunto: già presenti nell'elenco di fiducia di {slug}"
                );
            }
            for a in added {
                println!(
                    "aggiunto all'elenco di fiducia di {slug}: {} (valido dal {} al {}; SHA-256 {})",
                    a.subject,
                    day(a.not_before),
                    day(a.not_after),
                    a.fingerprint
                );
            }
        }
        FiduciaCommand::Elenca { target } => {
            let (app, _, slug) = open(&target).await?;
            let list = app.trust_anchor_list(&slug);
            app.db().close().await;
            let list = list.map_err(service)?;
            if list.is_empty() {
                println!(
                    "elenco di fiducia di {slug} vuoto: nessuna segnatura ricevuta sarà accettata"
                );
            }
            for a in list {
                println!(
                    "{}\t{} — {}\t{}",
                    a.fingerprint,
                    day(a.not_before),
                    day(a.not_after),
                    a.subject
                );
            }
        }
        FiduciaCommand::Rimuovi { sha256, target } => {
            let (app, _, slug) = open(&target).await?;
            let removed = app.remove_trust_anchor(&slug, &sha256);
            app.db().close().await;
            if !removed.map_err(service)? {
                println!(
                    "nessun certificato con SHA-256 {sha256} nell'elenco di fiducia di {slug}"
                );
                return Ok(ExitCode::from(2));
            }
            println!("rimosso dall'elenco di fiducia di {slug}: {sha256}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `palazzo protocollo sigillo …`.
pub async fn sigillo(cmd: SigilloCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SigilloCommand::Install {
            key,
            cert,
            aoo,
            target,
        } => {
            let read = |p: &Path| {
                std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let (key_pem, cert_pem) = (read(&key)?, read(&cert)?);
            let (app, _, slug) = open(&target).await?;
            let installed = app.install_aoo_seal(&slug, &key_pem, &cert_pem, &aoo);
            app.db().close().await;
            installed.map_err(service)?;
            println!("sigillo dell'AOO {} installato per {slug}", aoo.trim());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_name_skips_the_prolog() {
        let x = b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c --><!DOCTYPE x>\n<prot:SegnaturaInformatica xmlns:prot=\"u\">";
        assert_eq!(root_name(x), Some("SegnaturaInformatica"));
        assert!(is_message(b"<pec:AnnullamentoProtocollazione/>"));
        assert!(!is_message(b"<pec:ConfermaRicezione>"));
        assert!(!is_message(b"%PDF-1.7"));
        assert_eq!(root_name(b"<?xml"), None);
    }
}
