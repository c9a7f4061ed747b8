//! `palazzo certificates …`: the anagrafe certificates at the desk, acting
//! as the ufficiale d'anagrafe (issue, list, bollo, revoke, status, and the
//! export of the files an offline verifier caches); `palazzo
//! verify-certificate`: the offline verifier, with no database and no
//! network (docs/certificati.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use palazzo_domain::Coded as _;
use palazzo_domain::access::Role;
use palazzo_domain::calendar::rome_date;
use palazzo_domain::certificati::{ESENZIONI, TipoCertificato, Uso};
use palazzo_domain::ids::CodiceFiscale;
use palazzo_services::ServiceError;
use palazzo_services::certificati::{cti_text, parse_cti};
use palazzo_services::emergenza::rome_display;
use palazzo_services::rilascio::{self, CertificateRequest};
use palazzo_services::signatures::TrustAnchors;
use palazzo_services::verifica::{self, Evidence, FileSeal, Verdict};
use palazzo_store::{Certificate, Timestamp};

use super::emergenza::{Target, actor, finish, open_comune_with_config, service};

/// Exit status for bad input (as clap's usage errors).
const USAGE: u8 = 2;

/// `palazzo certificates …`.
#[derive(Subcommand, Debug)]
pub enum CertificatesCommand {
    /// Issue a certificate for a resident; writes its PDF when it can be
    /// released (an exempt use, or once the bollo is recorded).
    Issue {
        /// Codice fiscale of the holder.
        #[arg(long)]
        cf: String,
        /// Type: residenza, stato_famiglia, residenza_stato_famiglia,
        /// nascita, cittadinanza, esistenza_in_vita, stato_civile,
        /// storico_residenza.
        #[arg(long)]
        tipo: String,
        /// Use: `bollo`, or the code of an exempt use (e.g. `scuola`).
        #[arg(long)]
        uso: String,
        /// Where to write the PDF (default: `certificato-<cti>.pdf`).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
    /// List the certificates of a holder.
    List {
        /// Codice fiscale of the holder.
        #[arg(long)]
        cf: String,
        #[command(flatten)]
        target: Target,
    },
    /// Record the paper marca da bollo of a certificate (ANA-03) and write
    /// its PDF, now releasable.
    Bollo {
        /// The certificate's id (cti, base64url).
        cti: String,
        /// The marca's 14-digit identifier.
        #[arg(long)]
        marca: String,
        /// Where to write the PDF (default: `certificato-<cti>.pdf`).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
    /// Revoke a certificate (final; its bit is set in the status list).
    Revoke {
        /// The certificate's id (cti, base64url).
        cti: String,
        /// Why.
        #[arg(long)]
        motivo: String,
        #[command(flatten)]
        target: Target,
    },
    /// The online status of a certificate: exits 0 when valid, 1 otherwise.
    Status {
        /// The certificate's id (cti, base64url).
        cti: String,
        #[command(flatten)]
        target: Target,
    },
    /// Write the files an offline verifier caches: trust-list.cbor,
    /// trust-list-key.pem and status-list-<year>.cbor of the current year.
    Export {
        /// The directory (created if missing).
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        target: Target,
    },
}

/// The comune's seal certificates and their root CA, in an export
/// directory: what checks the PAdES seal of a PDF offline.
const SEAL_FILE: &str = "sigillo.pem";

/// `palazzo verify-certificate`.
#[derive(Args, Debug)]
pub struct VerifyCertificateArgs {
    /// The certificate's PDF, a photo of its code (PNG or JPEG), or with
    /// --text a file holding the code's text (`PZ1:…`).
    file: PathBuf,
    /// The comune's trust list (`trust-list.cbor`).
    #[arg(long)]
    trust_list: Option<PathBuf>,
    /// The comune's list key to pin (`trust-list-key.pem`).
    #[arg(long)]
    list_key: Option<PathBuf>,
    /// A directory written by `palazzo certificates export`: its
    /// trust-list.cbor, trust-list-key.pem and every status-list-*.cbor.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// A status list (`status-list-<year>.cbor`); may be repeated.
    #[arg(long = "status-list")]
    status_lists: Vec<PathBuf>,
    /// The comune's seal certificates and their root CA (`sigillo.pem`,
    /// from `palazzo certificates export`), to check the PAdES seal of a
    /// PDF.
    #[arg(long)]
    sigillo: Option<PathBuf>,
    /// FILE holds the code's text, not a PDF or an image.
    #[arg(long)]
    text: bool,
}

/// Prints `message` and returns the usage exit status.
fn usage(message: &str) -> ExitCode {
    eprintln!("palazzo: {message}");
    ExitCode::from(USAGE)
}

fn refusal(e: &ServiceError) -> ExitCode {
    usage(&format!("{} ({})", e.message_it(), e.code()))
}

fn parse_cf(cf: &str) -> Result<CodiceFiscale, ExitCode> {
    CodiceFiscale::parse(cf.trim()).map_err(|e| {
        usage(&format!(
            "codice fiscale non valido: {} ({})",
            e.message_it(),
            e.code()
        ))
    })
}

fn parse_id(cti: &str) -> Result<[u8; 16], ExitCode> {
    parse_cti(cti.trim()).ok_or_else(|| {
        usage(&format!(
            "identificativo del certificato non valido: «{cti}» (sono 22 caratteri base64url, \
             come in fondo all'indirizzo di verifica)"
        ))
    })
}

fn parse_tipo(code: &str) -> Result<TipoCertificato, ExitCode> {
    TipoCertificato::from_code(code.trim()).ok_or_else(|| {
        let known: Vec<&str> = TipoCertificato::ALL.iter().map(|t| t.code()).collect();
        usage(&format!(
            "tipo di certificato sconosciuto: «{code}»; i tipi sono: {}",
            known.join(", ")
        ))
    })
}

fn parse_uso(code: &str) -> Result<Uso, ExitCode> {
    Uso::from_code(code.trim()).ok_or_else(|| {
        let known: Vec<&str> = ESENZIONI.iter().map(|e| e.code).collect();
        usage(&format!(
            "uso sconosciuto: «{code}»; indica «bollo» oppure un uso esente: {}",
            known.join(", ")
        ))
    })
}

/// The last day a certificate is valid, as printed.
fn valid_until(c: &Certificate) -> String {
    c.data.valid_until.map_or_else(
        || "validità illimitata".to_owned(),
        |d| format!("valido fino al {}", d.strftime("%d/%m/%Y")),
    )
}

fn bollo_state(c: &Certificate) -> String {
    match (&c.bollo_paid, c.data.bollo_cents) {
        (_, 0) => format!("esente (uso {})", c.data.uso),
        (Some(p), _) => format!("assolto (marca {})", p.reference),
        (None, _) => "da assolvere".to_owned(),
    }
}

fn tipo_title(code: &str) -> &str {
    match TipoCertificato::from_code(code) {
        Some(t) => t.title(),
        None => code,
    }
}

fn write_file(path: &Path, pdf: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, pdf)
        .map_err(|e| anyhow::anyhow!("impossibile scrivere {}: {e}", path.display()))
}

fn default_out(out: Option<PathBuf>, cti: &[u8; 16]) -> PathBuf {
    out.unwrap_or_else(|| PathBuf::from(format!("certificato-{}.pdf", cti_text(cti))))
}

/// Runs `palazzo certificates …`.
pub async fn run(cmd: CertificatesCommand) -> anyhow::Result<ExitCode> {
    let desk = actor(Role::UfficialeAnagrafe);
    match cmd {
        CertificatesCommand::Issue {
            cf,
            tipo,
            uso,
            out,
            target,
        } => {
            let holder = match parse_cf(&cf) {
                Ok(h) => h,
                Err(code) => return Ok(code),
            };
            let (tipo, uso) = match (parse_tipo(&tipo), parse_uso(&uso)) {
                (Ok(t), Ok(u)) => (t, u),
                (Err(code), _) | (_, Err(code)) => return Ok(code),
            };
            let (app, tenant, config) = open_comune_with_config(&target).await?;
            let base_url = rilascio::base_url(&tenant, config.behind_tls);
            let result = async {
                let request = CertificateRequest {
                    holder,
                    tipo,
                    uso,
                    base_url: base_url.clone(),
                };
                let cert = app
                    .issue_certificate(tenant.id, &desk, &request)
                    .await
                    .map_err(service)?;
                let pdf = if cert.releasable() {
                    let (_, pdf) = app
                        .certificate_pdf(tenant.id, &desk, &cert.data.cti)
                        .await
                        .map_err(service)?;
                    Some(pdf)
                } else {
                    None
                };
                anyhow::Ok((cert, pdf))
            }
            .await;
            finish(&app).await?;
            let (cert, pdf) = result?;
            let cti = cti_text(&cert.data.cti);
            println!("Certificato rilasciato: {}", tipo.title());
            println!("Identificativo (cti): {cti}");
            println!("Tipo: {}", cert.data.doc_type);
            println!(
                "Intestatario: {} ({})",
                cert.data.holder_surname,
                cert.data.holder_cf.as_str()
            );
            println!("Rilasciato il: {}", rome_display(cert.data.issued_at));
            println!("Validità: {}", valid_until(&cert));
            println!("Bollo: {}", bollo_state(&cert));
            println!("Verifica: {base_url}/verifica/{cti}");
            match pdf {
                Some(pdf) => {
                    let path = default_out(out, &cert.data.cti);
                    write_file(&path, &pdf)?;
                    println!("PDF scritto in {}", path.display());
                }
                None => {
                    println!(
                        "Il certificato è in bollo: il PDF si rilascia dopo il pagamento \
                         dell'imposta di bollo di € 16,00. Registra la marca da bollo con:"
                    );
                    println!(
                        "  palazzo certificates bollo {cti} --marca <14 cifre> --ente {}",
                        tenant.data.slug
                    );
                }
            }
        }
        CertificatesCommand::List { cf, target } => {
            let holder = match parse_cf(&cf) {
                Ok(h) => h,
                Err(code) => return Ok(code),
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let result = app
                .certificates_of_holder(tenant.id, &desk, &holder)
                .await
                .map_err(service);
            app.db().close().await;
            let mut certs = result?;
            certs.sort_by_key(|c| std::cmp::Reverse(c.data.issued_at));
            if certs.is_empty() {
                println!("Nessun certificato per {}.", holder.as_str());
            }
            for c in &certs {
                let state = match &c.revocation {
                    Some(r) => format!("revocato il {}: {}", rome_display(r.at), r.reason),
                    None => "non revocato".to_owned(),
                };
                println!(
                    "{}\t{}\trilasciato il {}\t{}\tbollo {}\t{}",
                    cti_text(&c.data.cti),
                    c.data.doc_type,
                    rome_display(c.data.issued_at),
                    valid_until(c),
                    bollo_state(c),
                    state
                );
            }
        }
        CertificatesCommand::Bollo {
            cti,
            marca,
            out,
            target,
        } => {
            let id = match parse_id(&cti) {
                Ok(id) => id,
                Err(code) => return Ok(code),
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let result = async {
                let cert = app
                    .settle_certificate_bollo(tenant.id, &desk, &id, &marca)
                    .await
                    .map_err(service)?;
                let (_, pdf) = app
                    .certificate_pdf(tenant.id, &desk, &id)
                    .await
                    .map_err(service)?;
                anyhow::Ok((cert, pdf))
            }
            .await;
            finish(&app).await?;
            let (cert, pdf) = result?;
            println!(
                "Bollo assolto per il certificato {}: {}",
                cti_text(&id),
                bollo_state(&cert)
            );
            let path = default_out(out, &id);
            write_file(&path, &pdf)?;
            println!("PDF scritto in {}", path.display());
        }
        CertificatesCommand::Revoke {
            cti,
            motivo,
            target,
        } => {
            let id = match parse_id(&cti) {
                Ok(id) => id,
                Err(code) => return Ok(code),
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let result = app
                .revoke_certificate(tenant.id, &desk, &id, &motivo)
                .await
                .map_err(service);
            finish(&app).await?;
            let cert = result?;
            println!(
                "Certificato {} revocato ({}, {}).",
                cti_text(&id),
                tipo_title(&cert.data.doc_type),
                cert.data.holder_cf.as_str()
            );
            println!(
                "La revoca compare nella lista di stato del Comune: chi verifica senza rete \
                 deve scaricarla di nuovo (palazzo certificates export)."
            );
        }
        CertificatesCommand::Status { cti, target } => {
            let id = match parse_id(&cti) {
                Ok(id) => id,
                Err(code) => return Ok(code),
            };
            let (app, tenant, _) = open_comune_with_config(&target).await?;
            let result = app
                .certificate_status(tenant.id, &id)
                .await
                .map_err(service);
            app.db().close().await;
            let status = result?;
            println!(
                "Esito: {} — {}",
                status.verdict.code(),
                status.verdict.label_it()
            );
            if let Some(c) = &status.certificate {
                println!("Tipo: {}", c.data.doc_type);
                println!(
                    "Intestatario: {} ({})",
                    c.data.holder_surname,
                    c.data.holder_cf.as_str()
                );
                println!("Rilasciato il: {}", rome_display(c.data.issued_at));
                println!("Validità: {}", valid_until(c));
                println!("Bollo: {}", bollo_state(c));
                if let Some(r) = &c.revocation {
                    println!("Revocato il: {} ({})", rome_display(r.at), r.reason);
                }
            }
            if status.verdict != Verdict::Valid {
                return Ok(ExitCode::FAILURE);
            }
        }
        CertificatesCommand::Export { dir, target } => {
            let (app, tenant, config) = open_comune_with_config(&target).await?;
            let base_url = rilascio::base_url(&tenant, config.behind_tls);
            let year = i64::from(rome_date(Timestamp::now()).year());
            let result = async {
                let trust = app.trust_list(&tenant).await.map_err(service)?;
                let key = app.trust_list_key_pem(&tenant).map_err(service)?;
                let status = app
                    .status_list(&tenant, year, &base_url)
                    .await
                    .map_err(service)?;
                anyhow::Ok((trust, key, status))
            }
            .await;
            let ca = app.seal_verification_pem(&tenant.data.slug);
            finish(&app).await?;
            let (trust, key, status) = result?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("impossibile creare {}: {e}", dir.display()))?;
            for (name, bytes) in [
                ("trust-list.cbor".to_owned(), trust),
                ("trust-list-key.pem".to_owned(), key.into_bytes()),
                (format!("status-list-{year}.cbor"), status),
            ] {
                let path = dir.join(name);
                write_file(&path, &bytes)?;
                println!("scritto {}", path.display());
            }
            match ca {
                Some(pem) => {
                    let path = dir.join(SEAL_FILE);
                    write_file(&path, pem.as_bytes())?;
                    println!("scritto {}", path.display());
                }
                None => println!(
                    "nessun sigillo X.509 installato: {SEAL_FILE} non scritto \
                     (il sigillo PAdES dei PDF non si potrà verificare offline)"
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> Result<Vec<u8>, ExitCode> {
    std::fs::read(path).map_err(|e| usage(&format!("impossibile leggere {}: {e}", path.display())))
}

/// A time of a seal (seconds since the Unix epoch) in Rome.
fn seal_time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .map_or_else(|| secs.to_string(), rome_display)
}

/// The last day of validity of a seal whose `exp` is `exp`: the seal's
/// `exp` is the start, in Rome, of the day after it.
fn last_valid_day(exp: u64) -> String {
    i64::try_from(exp)
        .ok()
        .and_then(|s| Timestamp::from_second(s - 1).ok())
        .map_or_else(
            || exp.to_string(),
            |t| rome_date(t).strftime("%d/%m/%Y").to_string(),
        )
}

/// Runs `palazzo verify-certificate`: offline, no database, no network.
/// Exits 0 when valid, 1 for any other verdict, 2 for bad input.
pub fn verify(args: &VerifyCertificateArgs) -> ExitCode {
    match verify_inner(args) {
        Ok(code) | Err(code) => code,
    }
}

fn verify_inner(args: &VerifyCertificateArgs) -> Result<ExitCode, ExitCode> {
    let cached = |name: &str| args.cache.as_ref().map(|d| d.join(name));
    let (Some(list_path), Some(key_path)) = (
        args.trust_list
            .clone()
            .or_else(|| cached("trust-list.cbor")),
        args.list_key
            .clone()
            .or_else(|| cached("trust-list-key.pem")),
    ) else {
        return Err(usage(
            "indica la lista di fiducia e la chiave del Comune (--trust-list e --list-key) \
             oppure la cartella --cache scritta da «palazzo certificates export»",
        ));
    };
    let mut status_paths = args.status_lists.clone();
    if let Some(dir) = &args.cache {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| usage(&format!("impossibile leggere {}: {e}", dir.display())))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("status-list-") && n.ends_with(".cbor"))
            })
            .collect();
        found.sort();
        status_paths.extend(found);
    }
    let key_text = String::from_utf8(read(&key_path)?).map_err(|_| {
        usage(&format!(
            "{} non è un file di testo (PEM)",
            key_path.display()
        ))
    })?;
    let key = verifica::list_key_from_pem(&key_text).map_err(|e| refusal(&e))?;
    let trust = verifica::verified_trust_list(&read(&list_path)?, &key).map_err(|e| refusal(&e))?;
    let mut lists = Vec::new();
    for p in &status_paths {
        lists.push(
            verifica::verified_status_list(&read(p)?, &key).map_err(|e| {
                usage(&format!(
                    "{}: {} ({})",
                    p.display(),
                    e.message_it(),
                    e.code()
                ))
            })?,
        );
    }
    let evidence = if args.text {
        let bytes = read(&args.file)?;
        Evidence::Text(
            String::from_utf8(bytes)
                .map_err(|_| usage(&format!("{} non è un file di testo", args.file.display())))?,
        )
    } else {
        Evidence::from_upload(read(&args.file)?).map_err(|e| refusal(&e))?
    };
    let is_pdf = matches!(evidence, Evidence::Pdf(_));
    let now = u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
    let (mut checked, list) =
        verifica::check_offline_lists(&evidence, &trust, &lists, now).map_err(|e| refusal(&e))?;
    // The PAdES seal of a PDF: by one of the comune's seal certificates,
    // chained to the root, as given in `sigillo.pem` (without it the seal
    // is at best "not recognised").
    let ca_path = args
        .sigillo
        .clone()
        .or_else(|| cached(SEAL_FILE).filter(|p| p.exists()));
    if let Evidence::Pdf(pdf) = &evidence {
        let (anchors, own) = match &ca_path {
            Some(p) => {
                let text = String::from_utf8(read(p)?)
                    .map_err(|_| usage(&format!("{} non è un file PEM", p.display())))?;
                let all = TrustAnchors::from_pem(&text)
                    .map_err(|e| usage(&format!("{}: {e}", p.display())))?;
                let (roots, seals): (Vec<_>, Vec<_>) = all
                    .certificates()
                    .iter()
                    .cloned()
                    .partition(|c| c.is_ca() && c.self_issued());
                (
                    TrustAnchors::new(roots),
                    seals.iter().map(|c| c.fingerprint()).collect::<Vec<_>>(),
                )
            }
            None => (TrustAnchors::empty(), Vec::new()),
        };
        checked.file_seal = Some(FileSeal::of_pdf(pdf, &anchors, &own));
    }
    let verdict = checked.verdict();
    println!("Esito: {} — {}", verdict.code(), verdict.label_it());
    if let Some(c) = &checked.verification.claims {
        if !verdict.is_genuine() && checked.record_matches != Some(false) {
            println!("Attenzione: i dati seguenti non sono garantiti dal Comune.");
        }
        println!("Emesso da: {}", c.issuer);
        println!("Tipo: {} ({})", tipo_title(&c.doc_type), c.doc_type);
        println!("Identificativo (cti): {}", cti_text(&c.cti));
        println!("Rilasciato il: {}", seal_time(c.issued_at));
        match c.expires_at {
            Some(exp) => println!("Valido fino al: {}", last_valid_day(exp)),
            None => println!("Valido fino al: validità illimitata"),
        }
        println!("Dati sigillati:");
        for p in &c.pairs {
            println!("  {}: {}", p.label, p.value);
        }
        if c.status.is_some() {
            match list {
                Some(l) => println!(
                    "Revoca: controllata con la lista di stato del {}",
                    seal_time(l.issued_at)
                ),
                None => println!(
                    "Revoca: non controllata (nessuna lista di stato per questo certificato: \
                     scaricala con «palazzo certificates export» o dal sito del Comune)"
                ),
            }
        }
    }
    if is_pdf {
        match checked.record_matches {
            Some(true) => println!("Dati incorporati nel PDF: corrispondono al contrassegno"),
            Some(false) => println!(
                "Dati incorporati nel PDF: NON corrispondono al contrassegno (il file è stato modificato)"
            ),
            None => println!("Dati incorporati nel PDF: non verificati"),
        }
        if let Some(seal) = &checked.file_seal {
            println!(
                "Sigillo del file (PAdES): {} — {}",
                seal.code(),
                seal.message_it()
            );
            if ca_path.is_none() && matches!(seal, FileSeal::Untrusted { .. }) {
                println!(
                    "  (indica i certificati del sigillo del Comune con --sigillo {SEAL_FILE}, \
                     scritto da «palazzo certificates export»)"
                );
            }
        }
    }
    Ok(if verdict == Verdict::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
