//! Command-line interface: `serve`, `demo`, `migrate`, `import`, `export`, `verify`.
//!
//! Configuration is layered (DECISIONS 3): built-in defaults → the TOML file
//! (`--config FILE`, else `./palazzo.toml` when present) → `PALAZZO_*`
//! environment variables → command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use palazzo_services::config::{Config, load_or_create_secret};
use palazzo_services::db::Db;
use palazzo_services::import::EnteFile;
use palazzo_services::keys::KeyStore;
use palazzo_services::{App, demo, verify};

mod anagrafe;
mod appuntamenti;
mod certificati;
mod classificazione;
mod emergenza;
mod eml;
mod keys;
mod mail;
mod metadati;
mod registro;
mod segnatura;
mod servizi_online;
mod tempi;
mod tributi;

/// Palazzo: the digital town hall.
#[derive(Parser, Debug)]
#[command(name = "palazzo", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the portal and the API.
    Serve {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create (or reopen) a demo installation on SQLite and serve it.
    Demo {
        /// Where the demo keeps its data.
        #[arg(long, default_value = "./palazzo-demo")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Residents generated per comune.
        #[arg(long, default_value_t = demo::RESIDENTS)]
        residents: usize,
        /// Create the data and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Configuration file (TOML) for the other settings, e.g. `[federation]`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Break-glass administrators (local account, password and TOTP).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The protocollo informatico.
    #[command(subcommand)]
    Protocollo(ProtocolloCommand),
    /// The population register for certificates (docs/anagrafe-import.md).
    #[command(subcommand)]
    Anagrafe(anagrafe::AnagrafeCommand),
    /// Local taxes: load units and titolarità (docs/tributi-import.md),
    /// enter the IMU rates of a year, print a taxpayer's IMU position.
    #[command(subcommand)]
    Tributi(tributi::TributiCommand),
    /// Appointment booking: an office's weekly calendar, its agenda of a day
    /// (docs/appuntamenti.md).
    #[command(subcommand)]
    Appuntamenti(appuntamenti::AppuntamentiCommand),
    /// Anagrafe certificates at the desk: issue, list, bollo, revoke,
    /// status, and the export of the files an offline verifier caches
    /// (docs/certificati.md).
    #[command(subcommand)]
    Certificates(certificati::CertificatesCommand),
    /// Verify a certificate offline (a PDF, a photo of its code, or with
    /// --text the code's text) against the comune's trust list and status
    /// lists (docs/certificati.md): exits 0 when valid, 1 for any other
    /// verdict, 2 for bad input.
    VerifyCertificate(certificati::VerifyCertificateArgs),
    /// Online services: list, export and import their definitions
    /// (form + procedure, versioned), install the shipped ones
    /// (docs/istanze.md).
    #[command(subcommand, name = "servizi-online")]
    ServiziOnline(servizi_online::ServiziOnlineCommand),
    /// Pratiche of the online istanze: an office's open ones with their
    /// deadlines, one with its history and legal clock (docs/istanze.md).
    #[command(subcommand)]
    Pratiche(servizi_online::PraticheCommand),
    /// The comune's certificate seal keys (docs/seal-format.md).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Fascicoli (docs/fascicoli.md).
    #[command(subcommand)]
    Fascicolo(FascicoloCommand),
    /// Personal API keys of staff members (for programs using /api/v1).
    #[command(subcommand, name = "api-token")]
    ApiToken(ApiTokenCommand),
    /// Import content from a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export content to standard output.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Copy a SQLite installation (database, keys, documents, secret) into a new directory,
    /// consistently, while it runs. PostgreSQL installations use pg_dump.
    Backup {
        /// Configuration file (TOML).
        #[arg(long, conflicts_with = "data_dir")]
        config: Option<PathBuf>,
        /// Data directory of the installation.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Destination directory (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// SPID/CIE OpenID Connect Federation.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// E-mail to citizens: send a test message, list the outbox, retry
    /// failed messages (docs/operations.md, "Posta elettronica").
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Verify a ricevuta di protocollo offline (docs/receipt-format.md):
    /// exits 0 when valid, 2 when not.
    VerifyReceipt {
        /// The receipt (PDF/A).
        file: PathBuf,
        /// A verifier key file (`*.vkey`) to trust; may be repeated.
        #[arg(long = "key", conflicts_with = "keys_dir")]
        keys: Vec<PathBuf>,
        /// A key directory: every `ledger-*.vkey` in it and in its
        /// sub-directories (default: the installation's `<data_dir>/keys`).
        #[arg(long)]
        keys_dir: Option<PathBuf>,
        /// Configuration file (TOML), to find the installation's key directory.
        #[arg(long, conflicts_with = "data_dir")]
        config: Option<PathBuf>,
        /// Data directory of an installation, to find its key directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Verify the ledgers, checkpoints and records; exits non-zero on any mismatch.
    Verify {
        /// Configuration file (TOML).
        #[arg(long, conflicts_with = "data_dir")]
        config: Option<PathBuf>,
        /// Data directory of an installation (its SQLite database and keys).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// The keys of [`Config`], as `PALAZZO_<KEY>` environment variables.
const CONFIG_KEYS: [&str; 8] = [
    "data_dir",
    "demo_sign_in",
    "database_url",
    "listen",
    "behind_tls",
    "max_body_bytes",
    "log_format",
    "log_level",
];

/// The keys of `[mail]`, as `PALAZZO_MAIL_<KEY>` environment variables.
const MAIL_KEYS: [&str; 9] = [
    "transport",
    "smtp_url",
    "username",
    "password",
    "password_file",
    "from",
    "from_name",
    "helo_name",
    "timeout_secs",
];

#[derive(Subcommand, Debug)]
enum ProtocolloCommand {
    /// Register a protocol message received from another AOO (Allegato 6):
    /// a directory with the segnatura and its files, or the segnatura file
    /// and the files; writes the ConfermaRicezione or NotificaEccezione and
    /// exits 0 when registered, 2 on an exception.
    Ricevi(segnatura::Ricevi),
    /// The AOO seal that signs the segnatura (docs/segnatura.md).
    #[command(subcommand)]
    Sigillo(segnatura::SigilloCommand),
    /// The trust list: the CA certificates whose signers the comune trusts
    /// on received segnature and signed documents (docs/segnatura.md).
    #[command(subcommand)]
    Fiducia(segnatura::FiduciaCommand),
    /// Register every row of a CSV file (docs/protocollo-import.md), each in
    /// its own transaction; prints a report of the refused rows and exits 2
    /// when any row was refused.
    Import {
        /// The CSV file; documents are read relative to its folder.
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
    /// Register a received e-mail message (.eml; docs/documents.md): the
    /// message as received is the primary document, its MIME attachments
    /// the attachments; sender, subject, date and Message-ID from it.
    /// Exits 2 when refused (nothing registered).
    Eml(eml::EmlArgs),
    /// The emergency register (DPR 445/2000 art. 63,
    /// docs/emergency-register.md): open, authorize, close, import, show.
    #[command(subcommand)]
    Emergenza(emergenza::EmergenzaCommand),
    /// Produce the registro giornaliero of a closed day (DPR 445/2000 art.
    /// 53 c.2; docs/registro-giornaliero.md); an existing one is not rewritten.
    #[command(name = "registro-giornaliero")]
    RegistroGiornaliero(registro::RegistroArgs),
    /// The Allegato 5 metadata (DocumentoAmministrativoInformatico XML) of
    /// a protocolled document, in any version; with --out, the document,
    /// the metadata and their .hash sidecars (docs/metadati-allegato5.md).
    Metadati(metadati::MetadatiArgs),
    /// The entries still without a classification, the most urgent first,
    /// with their deadline (TI-2; docs/protocollo.md); exits 2 when any is
    /// past it.
    #[command(name = "da-classificare")]
    DaClassificare(classificazione::PendingArgs),
    /// The comune's classification policy: print it, or set it with
    /// --obbligatoria / --differita and --giorni (TI-2).
    Politica(classificazione::PolicyArgs),
}

#[derive(Subcommand, Debug)]
enum FascicoloCommand {
    /// Print the index of a fascicolo (IndiceDocumenti) as the Allegato 5
    /// XML subset or as CSV (docs/fascicoli.md).
    Export {
        /// The fascicolo's identifier, e.g. 2026-VI.3-12.
        id: String,
        /// The comune (its slug).
        #[arg(long)]
        ente: String,
        /// `xml` or `csv`.
        #[arg(long, default_value = "xml")]
        format: String,
        /// Configuration file (TOML).
        #[arg(long, conflicts_with = "data_dir")]
        config: Option<PathBuf>,
        /// Data directory of a SQLite installation.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create a break-glass administrator and print the TOTP secret to enrol
    /// in an authenticator app. The password is read from the environment
    /// variable PALAZZO_ADMIN_PASSWORD or, if unset, from the first line of
    /// standard input (never from the command line, where `ps` would show it).
    Create {
        /// Configuration file (TOML).
        #[arg(long, conflicts_with = "data_dir")]
        config: Option<PathBuf>,
        /// Data directory of a SQLite installation.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Login name (lower case letters, digits, `.`, `_`, `-`).
        #[arg(long)]
        username: String,
        /// Full name, shown in the back office and the ledger.
        #[arg(long)]
        name: String,
        /// Administrator of this comune only (its slug); without it, of the
        /// whole platform.
        #[arg(long)]
        ente: Option<String>,
    },
}

/// Where an installation is, for commands that act on one comune.
#[derive(clap::Args, Debug)]
struct Installation {
    /// Configuration file (TOML).
    #[arg(long, conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Data directory of a SQLite installation.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The ente's slug.
    #[arg(long)]
    ente: String,
}

#[derive(Subcommand, Debug)]
enum ApiTokenCommand {
    /// Create a key for a user (who must exist: staff appear after their
    /// first sign-in) and print it once. The key acts with the user's roles
    /// at the time of each call.
    Create {
        #[command(flatten)]
        at: Installation,
        /// The user's id (shown in the back office, Ruoli).
        #[arg(long)]
        user: i64,
        /// What the key is for.
        #[arg(long)]
        label: String,
        /// Validity in days (1–365).
        #[arg(long, default_value_t = palazzo_services::api_tokens::DEFAULT_DAYS)]
        days: u32,
    },
    /// List a user's keys.
    List {
        #[command(flatten)]
        at: Installation,
        /// The user's id.
        #[arg(long)]
        user: i64,
    },
    /// Revoke a key of a user.
    Revoke {
        #[command(flatten)]
        at: Installation,
        /// The user's id.
        #[arg(long)]
        user: i64,
        /// The key's id (from `list`).
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
enum FederationCommand {
    /// Print the public federation key set (JWKS) of an ente's relying party,
    /// creating its keys if needed: what the trust anchor (or aggregator)
    /// registers. The entity id goes to standard error.
    EntityConfiguration {
        /// The ente's slug; the default ente when absent.
        #[arg(long)]
        ente: Option<String>,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Create or update an ente with its offices, service cards and FAQ from a
    /// TOML file (the format `palazzo export ente` writes; see docs/ente-file.md).
    Ente {
        /// The TOML file.
        file: PathBuf,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ExportCommand {
    /// Write an ente with its offices, service cards and FAQ as TOML.
    Ente {
        /// The ente's slug, e.g. `casamassima`.
        slug: String,
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Loads the layered configuration.
fn load_config(file: Option<&Path>) -> anyhow::Result<Config> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) => {
            anyhow::ensure!(
                path.exists(),
                "configuration file {} not found",
                path.display()
            );
            fig = fig.merge(Toml::file(path));
        }
        None => fig = fig.merge(Toml::file("palazzo.toml")),
    }
    // Only the configuration keys: other PALAZZO_* variables (test settings,
    // scripts) must not be mistaken for unknown keys.
    fig = fig.merge(Env::prefixed("PALAZZO_").only(&CONFIG_KEYS));
    // `[mail]` keys as PALAZZO_MAIL_<KEY> (e.g. PALAZZO_MAIL_PASSWORD).
    fig = fig.merge(
        Env::prefixed("PALAZZO_MAIL_")
            .only(&MAIL_KEYS)
            .map(|k| format!("mail.{k}").into()),
    );
    fig.extract().context("invalid configuration")
}

fn init_logs(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if config.log_format == "json" {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.compact().try_init()
    };
}

/// Runs the command line; the exit code reports success.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("palazzo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the data directory, readable by its owner only: it holds the
/// database, the keys and the secret.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    Ok(())
}

/// The configuration of an installation named by `--config` or by
/// `--data-dir` (a SQLite installation's directory, which must exist).
/// Opens the installation and finds the comune.
async fn open_ente(
    at: &Installation,
) -> anyhow::Result<(App, std::sync::Arc<palazzo_store::Tenant>)> {
    let config = load_installation(at.config.as_deref(), at.data_dir.clone())?;
    init_logs(&config);
    let app = open_app(&config).await?;
    let tenant = app
        .tenants()
        .into_iter()
        .find(|t| t.data.slug == at.ente)
        .with_context(|| format!("no ente {}", at.ente))?;
    Ok((app, tenant))
}

fn service_error(e: palazzo_services::ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", e.message_it(), e.code())
}

async fn api_token(cmd: ApiTokenCommand) -> anyhow::Result<()> {
    use palazzo_store::{ApiTokenId, Store as _, UserId};
    match cmd {
        ApiTokenCommand::Create {
            at,
            user,
            label,
            days,
        } => {
            let (app, t) = open_ente(&at).await?;
            let created = app
                .issue_api_token(t.id, UserId(user), &label, Some(days))
                .await
                .map_err(service_error)?;
            app.db().close().await;
            println!(
                "Created API key {} for user {user}, valid until {}.",
                created.record.id.0, created.record.data.expires_at
            );
            println!("Give it to the program now; it is not shown again:");
            println!("  {}", created.token);
        }
        ApiTokenCommand::List { at, user } => {
            let (app, t) = open_ente(&at).await?;
            let now = palazzo_store::Timestamp::now();
            for k in app.db().api_tokens(t.id, UserId(user)).await? {
                let state = match (k.revoked_at, k.is_live(now)) {
                    (Some(_), _) => "revoked",
                    (None, false) => "expired",
                    (None, true) => "active",
                };
                println!(
                    "{}\t{}\t{}\texpires {}\t{}",
                    k.id.0,
                    state,
                    k.data.label,
                    k.data.expires_at,
                    k.last_used_at
                        .map_or("never used".to_owned(), |t| format!("last used {t}"))
                );
            }
            app.db().close().await;
        }
        ApiTokenCommand::Revoke { at, user, id } => {
            let (app, t) = open_ente(&at).await?;
            app.revoke_api_token(t.id, UserId(user), ApiTokenId(id))
                .await
                .map_err(service_error)?;
            app.db().close().await;
            println!("Revoked API key {id}.");
        }
    }
    Ok(())
}

/// Draws `[=====     ] done/total` on standard error, over itself (the
/// progress of the bulk imports).
fn progress_bar(done: usize, total: usize) {
    let width = 30;
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    eprint!(
        "\r[{}{}] {done}/{total}",
        "=".repeat(filled),
        " ".repeat(width - filled)
    );
}

fn load_installation(config: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
    let mut config = load_config(config)?;
    if let Some(d) = data_dir {
        anyhow::ensure!(d.exists(), "data directory {} not found", d.display());
        config.data_dir = d;
        config.database_url = String::new();
    }
    Ok(config)
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    prepare_data_dir(&config.data_dir)?;
    let db = Db::open(&config.database_url())
        .await
        .context("cannot open the database")?;
    let app = App::new(db, KeyStore::new(config.keys_dir())).await?;
    Ok(app)
}

async fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { config, listen } => {
            let mut config = load_config(config.as_deref())?;
            if let Some(l) = listen {
                config.listen = l;
            }
            init_logs(&config);
            if config.demo_sign_in {
                anyhow::bail!(
                    "demo_sign_in is set: the demonstration sign-in (synthetic residents and staff, no real identity) exists only in `palazzo demo`; remove it from the configuration of this installation"
                );
            }
            let app = open_app(&config).await?;
            serve(app, &config, false).await?;
        }
        Command::Demo {
            data_dir,
            listen,
            residents,
            no_serve,
            config,
        } => {
            let mut config = load_config(config.as_deref())?;
            // The demo keeps its e-mail as .eml files in <data_dir>/mail
            // unless the configuration names a transport.
            if config.mail.transport == palazzo_services::mail::TransportKind::Disabled {
                config.mail.transport = palazzo_services::mail::TransportKind::File;
            }
            config.data_dir = data_dir;
            config.database_url = String::new();
            config.listen = listen;
            init_logs(&config);
            let app = open_app(&config).await?;
            let seeded = demo::seed(&app, residents).await?;
            if seeded.tenants > 0 {
                println!(
                    "Demo created: {} comuni, {} service cards, {} residents in {}",
                    seeded.tenants,
                    seeded.services,
                    seeded.residents,
                    config.data_dir.display()
                );
            } else {
                println!("Demo reopened from {}", config.data_dir.display());
            }
            if !no_serve {
                let port = config
                    .listen
                    .rsplit(':')
                    .next()
                    .unwrap_or("8080")
                    .to_owned();
                for t in app.tenants() {
                    if let Some(h) = t.data.hostnames.iter().find(|h| h.ends_with(".localhost")) {
                        println!("  {}: http://{h}:{port}/", t.data.name);
                    }
                }
                serve(app, &config, true).await?;
            }
        }
        Command::Federation(FederationCommand::EntityConfiguration { ente, config }) => {
            let config = load_config(config.as_deref())?;
            init_logs(&config);
            let app = open_app(&config).await?;
            let tenants = app.tenants();
            app.db().close().await;
            let t = match &ente {
                Some(slug) => tenants.iter().find(|t| &t.data.slug == slug),
                None => tenants.iter().find(|t| t.data.is_default),
            }
            .ok_or_else(|| anyhow::anyhow!("no such ente"))?;
            let scheme = if config.behind_tls { "https" } else { "http" };
            if let Some(id) = config.federation.entity_id(t, scheme) {
                eprintln!("entity id: {id}");
            }
            let jwks = palazzo_web::auth::federation::federation_jwks(app.keys(), &t.data.slug)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{jwks}");
        }
        Command::Migrate { config } => {
            let config = load_config(config.as_deref())?;
            init_logs(&config);
            prepare_data_dir(&config.data_dir)?;
            let db = Db::open(&config.database_url())
                .await
                .context("cannot open the database")?;
            db.close().await;
            println!("Database is up to date.");
        }
        Command::Admin(AdminCommand::Create {
            config,
            data_dir,
            username,
            name,
            ente,
        }) => {
            let config = load_installation(config.as_deref(), data_dir)?;
            init_logs(&config);
            let password = match std::env::var("PALAZZO_ADMIN_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let app = open_app(&config).await?;
            let created = app
                .create_local_admin(ente.as_deref(), &username, &name, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
            app.db().close().await;
            println!(
                "Created administrator {username} ({}).",
                match &ente {
                    Some(e) => format!("comune {e}"),
                    None => "whole platform".to_owned(),
                }
            );
            println!("Enrol this TOTP secret in an authenticator app now; it is not shown again:");
            println!("  secret: {}", created.totp_base32);
            println!("  uri:    {}", created.otpauth_uri);
            println!("Sign in at https://<comune host>/accedi/amministratore");
        }
        Command::ApiToken(cmd) => api_token(cmd).await?,
        Command::Fascicolo(FascicoloCommand::Export {
            id,
            ente,
            format,
            config,
            data_dir,
        }) => {
            if format != "xml" && format != "csv" {
                anyhow::bail!("--format is xml or csv");
            }
            let config = load_installation(config.as_deref(), data_dir)?;
            init_logs(&config);
            let app = open_app(&config).await?;
            let tenant = app
                .tenants()
                .into_iter()
                .find(|t| t.data.slug == ente)
                .with_context(|| format!("no ente {ente}"))?;
            // Whoever can run this command with the installation's
            // configuration holds the database: they export any fascicolo,
            // a restricted one too (TI-6 binds the users of the back office
            // and the API), reading as a dirigente, who works every office.
            let actor = palazzo_services::access::Actor {
                principal: palazzo_domain::access::Principal {
                    grants: vec![palazzo_domain::access::Grant {
                        role: palazzo_domain::access::Role::Dirigente,
                        office: None,
                    }],
                },
                name: Some("Riga di comando".into()),
                ..Default::default()
            };
            let fail = |e: palazzo_services::ServiceError| {
                anyhow::anyhow!("{} ({})", e.message_it(), e.code())
            };
            let state = app
                .fascicolo_by_code(tenant.id, &actor, &id)
                .await
                .map_err(fail)?;
            let index = app
                .fascicolo_index(tenant.id, &actor, state.fascicolo.id)
                .await
                .map_err(fail)?;
            app.db().close().await;
            if format == "csv" {
                print!("{}", index.csv());
            } else {
                print!("{}", index.xml());
            }
        }
        Command::Protocollo(ProtocolloCommand::Import {
            file,
            ente,
            config,
            data_dir,
        }) => {
            let config = load_installation(config.as_deref(), data_dir)?;
            init_logs(&config);
            let app = open_app(&config).await?;
            let tenant = app
                .tenants()
                .into_iter()
                .find(|t| t.data.slug == ente)
                .with_context(|| format!("no ente {ente}"))?;
            // The operating-system user who can run this command with the
            // installation's configuration acts as a protocol operator.
            let who = std::env::var("USER").unwrap_or_else(|_| "operatore".into());
            let actor = palazzo_services::access::Actor {
                principal: palazzo_domain::access::Principal {
                    grants: vec![palazzo_domain::access::Grant {
                        role: palazzo_domain::access::Role::Operatore,
                        office: None,
                    }],
                },
                name: Some(format!("Importazione da riga di comando ({who})")),
                ..Default::default()
            };
            let outcomes = app
                .import_protocollo(tenant.id, &actor, &file, progress_bar)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
            eprintln!();
            app.checkpoint_all()
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
            app.db().close().await;
            let mut refused = 0;
            let mut registered = 0;
            for o in &outcomes {
                match o {
                    palazzo_services::protocollo_import::RowOutcome::Registered(r) => {
                        registered += 1;
                        println!("registrata n. {}/{}: {}", r.number, r.year, r.data.subject);
                    }
                    palazzo_services::protocollo_import::RowOutcome::Refused {
                        line,
                        code,
                        message,
                    } => {
                        refused += 1;
                        println!("riga {line} rifiutata ({code}): {message}");
                    }
                }
            }
            println!("{registered} registrate, {refused} rifiutate.");
            if refused > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Anagrafe(cmd) => {
            return anagrafe::run(cmd).await;
        }
        Command::Tributi(cmd) => {
            return tributi::run(cmd).await;
        }
        Command::Keys(cmd) => {
            return keys::run(cmd).await;
        }
        Command::Mail(cmd) => {
            return mail::run(cmd).await;
        }
        Command::Certificates(cmd) => {
            return certificati::run(cmd).await;
        }
        Command::Appuntamenti(cmd) => {
            return appuntamenti::run(cmd).await;
        }
        Command::VerifyCertificate(args) => {
            return Ok(certificati::verify(&args));
        }
        Command::ServiziOnline(cmd) => {
            return servizi_online::run(cmd).await;
        }
        Command::Pratiche(cmd) => {
            return servizi_online::run_pratiche(cmd).await;
        }
        Command::Protocollo(ProtocolloCommand::Ricevi(cmd)) => {
            return segnatura::ricevi(cmd).await;
        }
        Command::Protocollo(ProtocolloCommand::Sigillo(cmd)) => {
            return segnatura::sigillo(cmd).await;
        }
        Command::Protocollo(ProtocolloCommand::Fiducia(cmd)) => {
            return segnatura::fiducia(cmd).await;
        }
        Command::Protocollo(ProtocolloCommand::Eml(args)) => {
            return eml::run(args).await;
        }
        Command::Protocollo(ProtocolloCommand::Emergenza(cmd)) => {
            return emergenza::run(cmd).await;
        }
        Command::Protocollo(ProtocolloCommand::RegistroGiornaliero(args)) => {
            return registro::run(args).await;
        }
        Command::Protocollo(ProtocolloCommand::Metadati(args)) => {
            return metadati::run(args).await;
        }
        Command::Protocollo(ProtocolloCommand::DaClassificare(args)) => {
            return classificazione::pending(args).await;
        }
        Command::Protocollo(ProtocolloCommand::Politica(args)) => {
            return classificazione::policy(args).await;
        }
        Command::Import(ImportCommand::Ente { file, config }) => {
            let config = load_config(config.as_deref())?;
            init_logs(&config);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let ente: EnteFile = toml::from_str(&text)
                .with_context(|| format!("{} is not a valid ente file", file.display()))?;
            let app = open_app(&config).await?;
            let r = app
                .import_ente(ente)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
            app.checkpoint_all().await?;
            app.db().close().await;
            println!(
                "Ente {}; offices created: {}; service cards created: {}, updated: {}; FAQ created: {}.",
                if r.ente_created {
                    "created"
                } else if r.ente_updated {
                    "updated"
                } else {
                    "unchanged"
                },
                r.offices_created,
                r.services_created,
                r.services_updated,
                r.faqs_created
            );
        }
        Command::Export(ExportCommand::Ente { slug, config }) => {
            let config = load_config(config.as_deref())?;
            init_logs(&config);
            let app = open_app(&config).await?;
            let ente = app.export_ente(&slug).await.map_err(|e| match e {
                palazzo_services::ServiceError::NotFound => {
                    anyhow::anyhow!("no ente with slug {slug}")
                }
                other => anyhow::anyhow!("{other}"),
            })?;
            app.db().close().await;
            print!("{}", toml::to_string(&ente).context("cannot write TOML")?);
        }
        Command::Backup {
            config,
            data_dir,
            to,
        } => {
            let config = load_installation(config.as_deref(), data_dir)?;
            init_logs(&config);
            anyhow::ensure!(!to.exists(), "{} already exists", to.display());
            let db = Db::open_existing(&config.database_url())
                .await
                .context("cannot open the database")?;
            prepare_data_dir(&to)?;
            // Keys (with the newest checkpoint copy) before the database: the
            // copy of the database is then never older than that checkpoint.
            copy_tree(&config.keys_dir(), &to.join("keys"))?;
            db.backup_to(&to.join("palazzo.db"))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            db.close().await;
            // Documents after the database: they are immutable and stored
            // before the registration that names them commits, so every
            // document the copied database refers to is already there.
            copy_tree(&config.data_dir.join("documents"), &to.join("documents"))?;
            if config.secret_path().exists() {
                std::fs::copy(config.secret_path(), to.join("secret.key"))?;
            }
            println!("Backup written to {}", to.display());
        }
        Command::VerifyReceipt {
            file,
            keys,
            keys_dir,
            config,
            data_dir,
        } => return verify_receipt(&file, &keys, keys_dir, config.as_deref(), data_dir),
        Command::Verify { config, data_dir } => {
            let config = load_installation(config.as_deref(), data_dir)?;
            init_logs(&config);
            // Read only: no creation, no migration (an auditor may run this
            // with a read-only database role, on a stopped or running installation).
            let db = Db::open_existing(&config.database_url())
                .await
                .context("cannot open the database")?;
            let keys = KeyStore::new(config.keys_dir());
            let report = verify::verify(&db, &keys)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message_it(), e.code()))?;
            db.close().await;
            println!(
                "Checked {} tenants, {} ledger events, {} checkpoints, {} records.",
                report.tenants, report.events, report.checkpoints, report.records
            );
            if report.ok() {
                println!("OK: every ledger, checkpoint and record verifies.");
            } else {
                for p in &report.problems {
                    println!("MISMATCH: {p}");
                }
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `palazzo verify-receipt`: offline, no database (DECISIONS 13).
fn verify_receipt(
    file: &Path,
    key_files: &[PathBuf],
    keys_dir: Option<PathBuf>,
    config: Option<&Path>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use palazzo_domain::Coded as _;
    use palazzo_domain::checkpoint::parse_verifier_key;
    let read_key =
        |path: &Path| -> anyhow::Result<(String, palazzo_services::receipt::VerifyingKey)> {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            parse_verifier_key(text.trim()).map_err(|e| {
                anyhow::anyhow!("{}: {} ({})", path.display(), e.message_it(), e.code())
            })
        };
    let mut trusted = Vec::new();
    if key_files.is_empty() {
        let dir = match keys_dir {
            Some(d) => d,
            None => load_installation(config, data_dir)?.keys_dir(),
        };
        let mut dirs = vec![dir.clone()];
        for entry in std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read the key directory {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        for d in dirs {
            for entry in std::fs::read_dir(&d)? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("ledger-") && name.ends_with(".vkey") {
                    trusted.push(read_key(&path)?);
                }
            }
        }
    } else {
        for f in key_files {
            trusted.push(read_key(f)?);
        }
    }
    anyhow::ensure!(!trusted.is_empty(), "no verifier key (*.vkey) found");
    let pdf = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    match palazzo_services::receipt::verify_pdf(&pdf, &trusted) {
        Ok(v) => {
            println!("RICEVUTA VALIDA / VALID RECEIPT");
            println!(
                "Protocollo n. {}/{} (registro {}), registrato il {}",
                v.number_text(),
                v.year,
                v.register,
                v.registered_at
            );
            println!("Oggetto: {}", v.subject);
            println!(
                "Documento principale: {}  SHA-256 {}",
                v.primary.name, v.primary.sha256
            );
            for a in &v.attachments {
                println!("Allegato: {}  SHA-256 {}", a.name, a.sha256);
            }
            if v.annulled {
                println!("ATTENZIONE: la registrazione è annullata / the registration is annulled");
            }
            println!(
                "Voce {} ({}) inclusa nel registro {} di {} voci, checkpoint firmato / \
                 entry included in the signed checkpoint",
                v.entry.seq(),
                v.entry.kind(),
                v.checkpoint.origin,
                v.checkpoint.size
            );
            println!(
                "Confronta questi dati con quelli stampati nella ricevuta / compare with the printed receipt."
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("RICEVUTA NON VALIDA / INVALID RECEIPT");
            println!("{} ({})", e.message_it(), e.code());
            println!("Reason: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Copies a directory tree, keeping file modes (keys stay 0600).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.exists() {
        return Ok(());
    }
    prepare_data_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        // Uploads in progress (documents/tmp) are not part of a backup.
        if entry.file_name() == "tmp" && from.ends_with("documents") {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

async fn serve(app: App, config: &Config, demo: bool) -> anyhow::Result<()> {
    config
        .federation
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let entes: Vec<String> = app.tenants().iter().map(|t| t.data.slug.clone()).collect();
    let entes: Vec<&str> = entes.iter().map(String::as_str).collect();
    for slug in palazzo_services::staff_oidc::check_all(&config.staff_oidc, &entes)
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?
    {
        tracing::warn!(ente = %slug, "staff_oidc names an ente this installation does not have");
    }
    let secret = load_or_create_secret(&config.secret_path()).context("cannot read the secret")?;
    let addr: SocketAddr = config.listen.parse().context("invalid listen address")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, "listening");
    let web = palazzo_web::WebConfig {
        behind_tls: config.behind_tls,
        secret,
        max_body_bytes: config.max_body_bytes,
        demo_sign_in: demo,
        staff_oidc: config.staff_oidc.clone(),
        federation: config.federation.clone(),
    };
    let router = palazzo_web::router(app.clone(), web);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let checkpointer = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_checkpointer(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    let sweeper = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_session_sweeper(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    // The registro giornaliero (PR-9): after midnight Rome time for the
    // previous day, and the missed days at start-up.
    match palazzo_services::tsa::TsaClient::from_config(&config.tsa) {
        Ok(Some(tsa)) => app.set_tsa(Some(tsa)),
        Ok(None) => tracing::warn!(
            "no [tsa] configured: the registro giornaliero's checkpoint will not be timestamped"
        ),
        Err(e) => anyhow::bail!("invalid configuration: [tsa] {}", e.message_it()),
    }
    // pagoPA's GPD (issue 7): notices are published there as they are
    // issued, and their payments read back every 10 minutes.
    match palazzo_services::pagopa::gpd::GpdClient::from_config(&config.gpd) {
        Ok(gpd) => app.set_gpd(gpd),
        Err(e) => anyhow::bail!("invalid configuration: [gpd] {e}"),
    }
    let gpd_sync = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_gpd_sync(std::time::Duration::from_secs(600), async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    let registro = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_registro_giornaliero(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    // The legal clocks of the pratiche (issue 6): silenzio-assenso,
    // lapsed integrations, the Soprintendenza's silence.
    let procedure_clock = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_procedure_clock(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    // Appointment reminders (docs/appuntamenti.md): the day before, once.
    let reminders = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_booking_reminders(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    // E-mail to citizens: the outbox worker (docs/operations.md).
    app.configure_mail(&config.mail)
        .map_err(|e| anyhow::anyhow!("invalid configuration: {}", e.message_it()))?;
    if config.mail.transport == palazzo_services::mail::TransportKind::Disabled {
        tracing::warn!("no [mail] transport configured: e-mail to citizens waits in the outbox");
    }
    let mailer = {
        let app = app.clone();
        let mut rx = rx.clone();
        tokio::spawn(async move {
            app.run_mail_worker(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await;
        })
    };
    palazzo_web::serve(listener, router, shutdown_signal()).await?;
    let _ = tx.send(true);
    let _ = mailer.await;
    let _ = checkpointer.await;
    let _ = sweeper.await;
    let _ = registro.await;
    let _ = gpd_sync.await;
    let _ = procedure_clock.await;
    let _ = reminders.await;
    app.db().close().await;
    Ok(())
}
