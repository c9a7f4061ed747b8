//! `palazzo tributi …` (issue 7): load the cadastral units, titolarità and
//! TARI utenze of a comune (docs/tributi-import.md) with a progress bar and
//! a report of the refused rows; enter the IMU rates and the TARI tariffs
//! of a year with their delibera; print a taxpayer's IMU or TARI position
//! with its working; issue the pagoPA notices, one taxpayer or the whole
//! comune's TARI (or yearly canone unico) bills at once; the canone unico's
//! coefficients and positions.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use palazzo_domain::access::Role;
use palazzo_domain::ids::CodiceFiscale;
use palazzo_domain::money::Cents;
use palazzo_domain::tributi::Aliquota;
use palazzo_domain::tributi::canone::TariffeCanone;
use palazzo_domain::tributi::f24::Versamento;
use palazzo_domain::tributi::import::FileKind;
use palazzo_domain::tributi::imu::Aliquote;
use palazzo_domain::tributi::tari::TariffeTari;

use super::emergenza::{Target, actor, open_comune, open_comune_with_config, service};
use super::progress_bar;

/// `palazzo tributi …`.
#[derive(Subcommand, Debug)]
pub enum TributiCommand {
    /// Load a units, titolarità, TARI utenze, payments or occupations file
    /// (docs/tributi-import.md; the kind is told by its header). Good rows are saved, bad ones reported with
    /// line, column and code; exits 2 when any row was refused.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Enter (or correct) the IMU rates of a year with their delibera. Rates
    /// not given are the law's base rates (L. 160/2019 cc. 748-754).
    Aliquote {
        /// The year.
        #[arg(long)]
        anno: i16,
        /// The delibera, e.g. "Delibera C.C. n. 12 del 28/03/2026".
        #[arg(long)]
        delibera: String,
        /// A rate in per mille, repeated: `altri_fabbricati=10,6`. Names:
        /// abitazione_principale, rurali_strumentali, beni_merce, terreni,
        /// gruppo_d, altri_fabbricati, aree_fabbricabili.
        #[arg(long = "aliquota", value_name = "NOME=PER_MILLE")]
        aliquote: Vec<String>,
        /// The detrazione for the abitazione principale (c.749), in euro.
        #[arg(long)]
        detrazione: Option<String>,
        /// The minimum payment of the regolamento, in euro.
        #[arg(long)]
        versamento_minimo: Option<String>,
        /// The comune kept the ex-TASI top-up (c.755: up to 11,4 per mille).
        #[arg(long)]
        maggiorazione_ex_tasi: bool,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Enter (or correct) the TARI tariffs of a year from a JSON file
    /// (docs/tributi.md: year, delibera, domestic and non-domestic
    /// tariffs, TEFA, due dates, reductions).
    TariffeTari {
        /// The JSON file.
        file: PathBuf,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Enter (or correct) the canone unico coefficients of a year from a
    /// JSON file (docs/tributi.md: year, delibera, zones, categories with
    /// their permanent and temporary coefficients, due dates).
    TariffeCanone {
        /// The JSON file.
        file: PathBuf,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Issue the pagoPA notices of every TARI bill of a year (or every
    /// yearly canone unico bill of the permanent occupations: --tax
    /// CANONE) and write each bill's avviso di pagamento in a directory
    /// (`TARI-<anno>-<cf>.pdf`, `CANONE-<anno>-<cf>.pdf`),
    /// with a progress bar. Run again after an interruption, it goes on:
    /// notices already issued are kept (never a new IUV for the same bill)
    /// and the files already written are not rendered again. Exits 2 when
    /// any bill could not be issued.
    Avvisi {
        /// The year.
        #[arg(long = "year", visible_alias = "anno")]
        anno: i16,
        /// The tax: TARI or CANONE.
        #[arg(long = "tax", visible_alias = "tributo", default_value = "TARI")]
        tributo: String,
        /// The directory of the PDFs (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Enter the comune's pagoPA data: segregation code, CBILL code, the
    /// IBAN payments are credited to, the postal account if any.
    Pagopa {
        /// The segregation code (two digits).
        #[arg(long)]
        segregazione: u16,
        /// The CBILL code (5 characters).
        #[arg(long)]
        cbill: String,
        /// The IBAN registered on pagoPA.
        #[arg(long)]
        iban: String,
        /// The postal current account (digits), for the Bollettino PA.
        #[arg(long)]
        conto_postale: Option<String>,
        /// Its holder as printed on the bollettino.
        #[arg(long)]
        intestatario: Option<String>,
        /// The codice fiscale of the province receiving the TEFA on the
        /// TARI notices (with --tefa-iban and --tefa-nome).
        #[arg(long, requires_all = ["tefa_iban", "tefa_nome"])]
        tefa_cf: Option<String>,
        /// The IBAN the TEFA is credited to.
        #[arg(long, requires = "tefa_cf")]
        tefa_iban: Option<String>,
        /// The province's name.
        #[arg(long, requires = "tefa_cf")]
        tefa_nome: Option<String>,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Write the pagoPA notice of a taxpayer's IMU payment (issued on first
    /// request, published on GPD when `[gpd]` is configured).
    Avviso {
        /// The taxpayer's codice fiscale.
        #[arg(long)]
        cf: String,
        /// The year.
        #[arg(long)]
        anno: i16,
        /// `acconto`, `saldo` or `unica`.
        #[arg(long)]
        versamento: String,
        /// Where to write the PDF.
        #[arg(long)]
        out: PathBuf,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Record the payment of a pagoPA notice (its receipt).
    Pagamento {
        /// The codice avviso (18 digits).
        #[arg(long)]
        codice: String,
        /// The receipt.
        #[arg(long)]
        ricevuta: String,
        /// When it was paid (RFC 3339); now when absent.
        #[arg(long)]
        pagato_il: Option<String>,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Read the payments of the published notices back from GPD (`[gpd]`).
    Sincronizza {
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
    /// Print a taxpayer's IMU for a year (the F24 lines, acconto and saldo,
    /// and how each unit's tax is computed) or TARI (each utenza's working,
    /// the instalments, the notices).
    Posizione {
        /// The taxpayer's codice fiscale.
        #[arg(long)]
        cf: String,
        /// The year.
        #[arg(long)]
        anno: i16,
        /// `IMU`, `TARI` or `CANONE`.
        #[arg(long, default_value = "IMU")]
        tributo: String,
        /// Print the computation as JSON.
        #[arg(long)]
        json: bool,
        /// The comune and the installation.
        #[command(flatten)]
        target: Target,
    },
}

/// The rates of `anno` from the command line's `NOME=PER_MILLE` pairs, over
/// the law's base rates.
fn rates(
    anno: i16,
    delibera: String,
    pairs: &[String],
    detrazione: Option<&str>,
    minimo: Option<&str>,
    ex_tasi: bool,
) -> anyhow::Result<Aliquote> {
    let mut a = Aliquote {
        delibera,
        maggiorazione_ex_tasi: ex_tasi,
        ..Aliquote::di_base(anno)
    };
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("«{pair}»: scrivere NOME=PER_MILLE"))?;
        let rate =
            Aliquota::parse_per_mille(value).map_err(|e| anyhow::anyhow!("«{pair}»: {e}"))?;
        let Some(slot) = a.per_nome(name.trim()) else {
            anyhow::bail!("aliquota sconosciuta «{}»", name.trim());
        };
        *slot = rate;
    }
    let euro = |s: &str| Cents::parse_it(s).map_err(|e| anyhow::anyhow!("«{s}»: {e}"));
    if let Some(d) = detrazione {
        a.detrazione = euro(d)?;
    }
    if let Some(m) = minimo {
        a.versamento_minimo = euro(m)?;
    }
    Ok(a)
}

/// The comune, with the installation connected to GPD when `[gpd]` is
/// configured.
async fn open_comune_with_gpd(
    target: &Target,
) -> anyhow::Result<(palazzo_services::App, std::sync::Arc<palazzo_store::Tenant>)> {
    let (app, tenant, config) = open_comune_with_config(target).await?;
    let gpd = palazzo_services::pagopa::gpd::GpdClient::from_config(&config.gpd)
        .map_err(|e| anyhow::anyhow!("invalid configuration: [gpd] {e}"))?;
    app.set_gpd(gpd);
    Ok((app, tenant))
}

/// Runs `palazzo tributi …`.
pub async fn run(cmd: TributiCommand) -> anyhow::Result<ExitCode> {
    // Whoever can run these commands with the installation's configuration
    // acts as the funzionario responsabile dei tributi.
    let funzionario = actor(Role::FunzionarioTributi);
    match cmd {
        TributiCommand::Import { file, target } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let (app, tenant) = open_comune(&target).await?;
            let report = app
                .import_tributi(tenant.id, &funzionario, &bytes, progress_bar)
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
            let what = match report.kind {
                FileKind::Unita => "Unità immobiliari",
                FileKind::Titolarita => "Titolarità",
                FileKind::Utenze => "Utenze TARI",
                FileKind::Versamenti => "Versamenti",
                FileKind::Occupazioni => "Occupazioni di suolo pubblico",
            };
            if report.kind == FileKind::Versamenti {
                println!(
                    "{what}: {} salvati, {} già caricati, {} righe rifiutate.",
                    report.saved,
                    report.already,
                    report.errors.len()
                );
            } else {
                println!(
                    "{what}: {} salvate, {} righe rifiutate.",
                    report.saved,
                    report.errors.len()
                );
            }
            Ok(if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        TributiCommand::Aliquote {
            anno,
            delibera,
            aliquote,
            detrazione,
            versamento_minimo,
            maggiorazione_ex_tasi,
            target,
        } => {
            let a = rates(
                anno,
                delibera,
                &aliquote,
                detrazione.as_deref(),
                versamento_minimo.as_deref(),
                maggiorazione_ex_tasi,
            )?;
            let (app, tenant) = open_comune(&target).await?;
            let saved = app.set_imu_rates(tenant.id, &funzionario, a).await;
            app.db().close().await;
            let saved = saved.map_err(service)?;
            println!(
                "Aliquote IMU {} salvate ({}).",
                saved.aliquote.anno, saved.aliquote.delibera
            );
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::Pagopa {
            segregazione,
            cbill,
            iban,
            conto_postale,
            intestatario,
            tefa_cf,
            tefa_iban,
            tefa_nome,
            target,
        } => {
            let (app, tenant) = open_comune(&target).await?;
            let r = app
                .set_pagopa_ente(
                    tenant.id,
                    &funzionario,
                    palazzo_store::PagopaEnte {
                        segregazione,
                        cbill,
                        iban,
                        conto_postale,
                        intestatario,
                        tefa: match (tefa_cf, tefa_iban, tefa_nome) {
                            (Some(codice_fiscale), Some(iban), Some(nome)) => {
                                Some(palazzo_store::BeneficiarioTefa {
                                    codice_fiscale,
                                    iban,
                                    nome,
                                })
                            }
                            _ => None,
                        },
                    },
                )
                .await;
            app.db().close().await;
            r.map_err(service)?;
            println!("Dati pagoPA del Comune salvati.");
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::Avviso {
            cf,
            anno,
            versamento,
            out,
            target,
        } => {
            let cf = CodiceFiscale::parse(&cf)
                .map_err(|e| anyhow::anyhow!("codice fiscale «{cf}»: {e}"))?;
            let v = Versamento::parse(&versamento)
                .with_context(|| format!("versamento «{versamento}»: acconto, saldo o unica"))?;
            let (app, tenant) = open_comune_with_gpd(&target).await?;
            let file = app
                .imu_avviso(tenant.id, &funzionario, Some(&cf), anno, v)
                .await;
            app.db().close().await;
            let file = file.map_err(service)?;
            std::fs::write(&out, &file.pdf)
                .with_context(|| format!("writing {}", out.display()))?;
            let a = &file.avviso;
            println!("Codice avviso: {}", a.codice_avviso);
            println!("Importo: {}", a.data.importo);
            println!("Scadenza: {}", a.data.scadenza.strftime("%d/%m/%Y"));
            println!("Stato: {}", a.stato.code());
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::Pagamento {
            codice,
            ricevuta,
            pagato_il,
            target,
        } => {
            let codice = palazzo_domain::pagopa::CodiceAvviso::parse(&codice)
                .map_err(|e| anyhow::anyhow!("codice avviso «{codice}»: {e}"))?;
            let when = match pagato_il {
                Some(s) => s
                    .parse()
                    .map_err(|e| anyhow::anyhow!("data del pagamento «{s}»: {e}"))?,
                None => palazzo_store::Timestamp::now(),
            };
            let (app, tenant) = open_comune(&target).await?;
            let r = app
                .record_avviso_payment(tenant.id, &funzionario, &codice, when, &ricevuta)
                .await;
            app.db().close().await;
            let a = r.map_err(service)?;
            println!("Avviso {} pagato (ricevuta {ricevuta}).", a.codice_avviso);
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::Sincronizza { target } => {
            let (app, tenant) = open_comune_with_gpd(&target).await?;
            let r = app.sync_gpd_payments(tenant.id, &funzionario).await;
            app.db().close().await;
            let n = r.map_err(service)?;
            println!("Pagamenti registrati: {n}.");
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::TariffeTari { file, target } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let tariffe: TariffeTari = serde_json::from_slice(&bytes).with_context(|| {
                format!("{}: not TARI tariffs (docs/tributi.md)", file.display())
            })?;
            let (app, tenant) = open_comune(&target).await?;
            let r = app.set_tari_tariffs(tenant.id, &funzionario, tariffe).await;
            app.db().close().await;
            let saved = r.map_err(service)?;
            println!(
                "Tariffe TARI {} salvate ({}).",
                saved.tariffe.anno, saved.tariffe.delibera
            );
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::TariffeCanone { file, target } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let tariffe: TariffeCanone = serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{}: not canone unico coefficients (docs/tributi.md)",
                    file.display()
                )
            })?;
            let (app, tenant) = open_comune(&target).await?;
            let r = app
                .set_canone_tariffs(tenant.id, &funzionario, tariffe)
                .await;
            app.db().close().await;
            let saved = r.map_err(service)?;
            println!(
                "Coefficienti del canone unico {} salvati ({}).",
                saved.tariffe.anno, saved.tariffe.delibera
            );
            Ok(ExitCode::SUCCESS)
        }
        TributiCommand::Avvisi {
            anno,
            tributo,
            out,
            target,
        } => {
            let tax = if tributo.eq_ignore_ascii_case("TARI") {
                BatchTax::Tari
            } else if tributo.eq_ignore_ascii_case("CANONE") {
                BatchTax::Canone
            } else {
                anyhow::bail!(
                    "tributo «{tributo}»: gli avvisi in blocco sono quelli della TARI (--tax TARI) \
                     o del canone unico (--tax CANONE)"
                );
            };
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let (app, tenant) = open_comune_with_gpd(&target).await?;
            let r = batch(&app, tenant.id, &funzionario, tax, anno, &out).await;
            app.db().close().await;
            r
        }
        TributiCommand::Posizione {
            cf,
            anno,
            tributo,
            json,
            target,
        } => {
            let cf = CodiceFiscale::parse(&cf)
                .map_err(|e| anyhow::anyhow!("codice fiscale «{cf}»: {e}"))?;
            if tributo.eq_ignore_ascii_case("TARI") {
                let (app, tenant) = open_comune(&target).await?;
                let p = app
                    .tari_position(tenant.id, &funzionario, Some(&cf), anno)
                    .await;
                app.db().close().await;
                print_tari(&p.map_err(service)?, json)?;
                return Ok(ExitCode::SUCCESS);
            }
            if tributo.eq_ignore_ascii_case("CANONE") {
                let (app, tenant) = open_comune(&target).await?;
                let p = app
                    .canone_position(tenant.id, &funzionario, Some(&cf), anno)
                    .await;
                app.db().close().await;
                print_canone(&p.map_err(service)?, json)?;
                return Ok(ExitCode::SUCCESS);
            }
            anyhow::ensure!(
                tributo.eq_ignore_ascii_case("IMU"),
                "tributo «{tributo}»: IMU, TARI o CANONE"
            );
            let (app, tenant) = open_comune(&target).await?;
            let p = app
                .imu_position(tenant.id, &funzionario, Some(&cf), anno)
                .await;
            app.db().close().await;
            let p = p.map_err(service)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p.calcolo)?);
                return Ok(ExitCode::SUCCESS);
            }
            let c = &p.calcolo;
            println!(
                "IMU {} di {} ({})",
                c.anno,
                p.codice_fiscale.as_str(),
                c.delibera
            );
            for i in &c.immobili {
                println!("\n{} — imposta {}", i.descrizione, i.imposta);
                if let Some(e) = &i.esenzione {
                    println!("  {e}");
                }
                for s in &i.passaggi {
                    println!("  {s}");
                }
            }
            println!("\nCodice  Immobili  Acconto  Saldo");
            for r in &c.righe {
                println!(
                    "{}    {:>8}  {:>12}  {:>12}",
                    r.codice.code(),
                    r.numero_immobili,
                    r.acconto.to_string(),
                    r.saldo.to_string()
                );
            }
            println!("Totale acconto {}, saldo {}", c.acconto, c.saldo);
            for n in &c.note {
                println!("Nota: {n}");
            }
            print_situazione(&p.situazione);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The bills of `palazzo tributi avvisi`.
#[derive(Debug, Clone, Copy)]
enum BatchTax {
    /// The TARI bills.
    Tari,
    /// The permanent occupations' yearly canone unico.
    Canone,
}

/// The batch of `palazzo tributi avvisi --tax TARI|CANONE`.
async fn batch(
    app: &palazzo_services::App,
    tenant: palazzo_store::TenantId,
    funzionario: &palazzo_services::access::Actor,
    tax: BatchTax,
    anno: i16,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let (name, label) = match tax {
        BatchTax::Tari => ("TARI", "Avvisi TARI"),
        BatchTax::Canone => ("CANONE", "Avvisi del canone unico"),
    };
    let taxpayers = match tax {
        BatchTax::Tari => app.tari_taxpayers(tenant, funzionario, anno).await,
        BatchTax::Canone => app.canone_taxpayers(tenant, funzionario, anno).await,
    }
    .map_err(service)?;
    let total = taxpayers.len();
    let (mut issued, mut kept, mut nothing, mut errors) = (0_usize, 0_usize, 0_usize, Vec::new());
    progress_bar(0, total);
    for (i, cf) in taxpayers.iter().enumerate() {
        let path = out.join(format!("{name}-{anno}-{}.pdf", cf.as_str()));
        let written = path.exists();
        let bill = match tax {
            BatchTax::Tari => {
                app.tari_bill_for(tenant, funzionario, cf, anno, !written)
                    .await
            }
            BatchTax::Canone => {
                app.canone_bill_for(tenant, funzionario, cf, anno, !written)
                    .await
            }
        };
        match bill {
            Ok(bill) => {
                if bill.emessa {
                    issued += 1;
                } else {
                    kept += 1;
                }
                let pdf = if !bill.pdf.is_empty() {
                    Some(bill.pdf)
                } else if bill.emessa {
                    // New notices replaced those of the file written before.
                    match app.bill_pdf(tenant, &bill.avvisi).await {
                        Ok(pdf) => Some(pdf),
                        Err(e) => {
                            errors.push((cf.clone(), e));
                            None
                        }
                    }
                } else {
                    None
                };
                if let Some(pdf) = pdf {
                    // Written whole or not at all: an interrupted run leaves
                    // no half file that a resumed run would skip.
                    let tmp = path.with_extension("pdf.part");
                    std::fs::write(&tmp, &pdf)
                        .with_context(|| format!("writing {}", tmp.display()))?;
                    std::fs::rename(&tmp, &path)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
            }
            // Nothing to pay (exempt, or all reduced): no bill, no error.
            Err(e) if e.code() == "nulla_da_versare" => nothing += 1,
            Err(e) => errors.push((cf.clone(), e)),
        }
        progress_bar(i + 1, total);
    }
    eprintln!();
    for (cf, e) in &errors {
        println!("{} ({}): {}", cf.as_str(), e.code(), e.message_it());
    }
    println!(
        "{label} {anno}: {total} contribuenti, {issued} emessi ora, {kept} già emessi, \
         {nothing} senza nulla da versare, {} non emessi.",
        errors.len()
    );
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Prints a TARI position (or its JSON).
fn print_tari(p: &palazzo_services::tari::PosizioneTari, json: bool) -> anyhow::Result<()> {
    if json {
        let utenze: Vec<serde_json::Value> = p
            .utenze
            .iter()
            .map(|u| {
                serde_json::json!({
                    "codice": u.utenza.data.codice,
                    "indirizzo": u.utenza.data.indirizzo,
                    "utenza": u.utenza.data.utenza,
                    "dal": u.utenza.data.dal,
                    "al": u.utenza.data.al,
                    "calcolo": u.calcolo,
                })
            })
            .collect();
        let v = serde_json::json!({
            "codice_fiscale": p.codice_fiscale.as_str(),
            "anno": p.anno,
            "delibera": p.tariffe.as_ref().map(|t| t.delibera.clone()),
            "utenze": utenze,
            "tari": p.tari,
            "tefa": p.tefa,
            "totale": p.totale,
            "rate": p.rate,
            "situazione": p.situazione,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let Some(t) = &p.tariffe else {
        println!(
            "Le tariffe TARI del {} non sono state inserite: nessun calcolo.",
            p.anno
        );
        return Ok(());
    };
    println!(
        "TARI {} di {} ({})",
        p.anno,
        p.codice_fiscale.as_str(),
        t.delibera
    );
    for u in &p.utenze {
        println!(
            "\nUtenza {} — {}",
            u.utenza.data.codice, u.utenza.data.indirizzo
        );
        for s in &u.calcolo.passaggi {
            println!("  {s}");
        }
    }
    println!("\nRata  Scadenza    TARI        TEFA");
    for r in &p.rate {
        println!(
            "{:>4}  {}  {:>10}  {:>10}",
            r.numero,
            r.scadenza.strftime("%d/%m/%Y"),
            r.tari.to_string(),
            r.tefa.to_string()
        );
    }
    println!("Totale {} (TARI {}, TEFA {})", p.totale, p.tari, p.tefa);
    print_avvisi(&p.avvisi);
    print_situazione(&p.situazione);
    Ok(())
}

/// Prints a canone unico position (or its JSON).
fn print_canone(p: &palazzo_services::canone::PosizioneCanone, json: bool) -> anyhow::Result<()> {
    if json {
        let occupazioni: Vec<serde_json::Value> = p
            .occupazioni
            .iter()
            .map(|o| {
                serde_json::json!({
                    "occupazione": o.occupazione.data,
                    "calcolo": o.calcolo,
                    "nota": o.nota,
                    "versamento": o.versamento,
                })
            })
            .collect();
        let rate: Vec<serde_json::Value> = p
            .rate
            .iter()
            .map(|r| {
                serde_json::json!({
                    "versamento": r.versamento,
                    "etichetta": r.etichetta,
                    "scadenza": r.scadenza,
                    "importo": r.importo,
                })
            })
            .collect();
        let v = serde_json::json!({
            "codice_fiscale": p.codice_fiscale.as_str(),
            "anno": p.anno,
            "delibera": p.tariffe.as_ref().map(|t| t.delibera.clone()),
            "occupazioni": occupazioni,
            "permanenti": p.permanenti,
            "temporanee": p.temporanee,
            "totale": p.totale,
            "rate": rate,
            "situazione": p.situazione,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let Some(t) = &p.tariffe else {
        println!(
            "I coefficienti del canone unico del {} non sono stati inseriti: nessun calcolo.",
            p.anno
        );
        return Ok(());
    };
    println!(
        "Canone unico {} di {} ({})",
        p.anno,
        p.codice_fiscale.as_str(),
        t.delibera
    );
    for o in &p.occupazioni {
        let d = &o.occupazione.data;
        println!(
            "\nOccupazione {} — {} ({})",
            d.codice, d.descrizione, d.indirizzo
        );
        for s in o.calcolo.iter().flat_map(|c| &c.passaggi) {
            println!("  {s}");
        }
        if let Some(n) = &o.nota {
            println!("  {n}");
        }
    }
    println!("\nScadenza    Importo     Versamento");
    for r in &p.rate {
        println!(
            "{}  {:>10}  {}",
            r.scadenza.strftime("%d/%m/%Y"),
            r.importo.to_string(),
            r.etichetta
        );
    }
    println!(
        "Totale {} (permanenti {}, temporanee {})",
        p.totale, p.permanenti, p.temporanee
    );
    print_avvisi(&p.avvisi);
    print_situazione(&p.situazione);
    Ok(())
}

/// Prints a position's notices, one a line.
fn print_avvisi(avvisi: &[palazzo_store::Avviso]) {
    for a in avvisi {
        println!(
            "Avviso {} {} {} {}",
            a.data.versamento,
            a.codice_avviso,
            a.data.importo,
            a.stato.code()
        );
    }
}

/// Prints what was paid and what remains, with the ravvedimento of what is
/// past due.
fn print_situazione(s: &palazzo_domain::tributi::situazione::Situazione) {
    for v in &s.pagamenti {
        println!(
            "Versamento del {}: {}{} ({})",
            v.data.strftime("%d/%m/%Y"),
            v.importo,
            if v.ravvedimento {
                ", con ravvedimento"
            } else {
                ""
            },
            v.fonte
        );
    }
    for r in &s.rate {
        if let Some(rv) = &r.ravvedimento {
            println!(
                "{} scaduta il {}: {} da versare; oggi con il ravvedimento (sanzione {}, interessi {}): {}",
                r.dovuto.etichetta,
                r.dovuto.scadenza.strftime("%d/%m/%Y"),
                r.residuo,
                rv.sanzione,
                rv.interessi,
                rv.totale
            );
        }
    }
    println!("Pagato {}, da pagare {}", s.pagato, s.residuo);
    if s.eccedenza > Cents::ZERO {
        println!("Versato in più: {}", s.eccedenza);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rates_from_the_command_line_over_the_base_ones() {
        let a = rates(
            2026,
            "Delibera C.C. n. 3".into(),
            &["altri_fabbricati=10,6".into(), "gruppo_d = 9".into()],
            Some("250,00"),
            None,
            false,
        )
        .unwrap();
        assert_eq!(a.altri_fabbricati, Aliquota(1060));
        assert_eq!(a.gruppo_d, Aliquota(900));
        assert_eq!(a.detrazione, Cents::from_cents(25_000));
        assert_eq!(a.terreni, Aliquote::di_base(2026).terreni);
        assert!(rates(2026, String::new(), &["villa=1".into()], None, None, false).is_err());
        assert!(rates(2026, String::new(), &["terreni".into()], None, None, false).is_err());
        assert!(
            rates(
                2026,
                String::new(),
                &["terreni=x".into()],
                None,
                None,
                false
            )
            .is_err()
        );
    }
}
