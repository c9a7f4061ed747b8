//! E-mail to citizens (issue 6): a transactional outbox and its sender.
//!
//! A business action queues its message with [`App::queue_mail`] in its own
//! store transaction: the message exists if and only if the action commits
//! (the outbox pattern, migration 0026). [`App::send_mail`] does the same in
//! a transaction of its own. A background worker ([`App::run_mail_worker`],
//! spawned by `palazzo serve` and `palazzo demo`) claims the due messages
//! ([`App::send_due_mails`]) and hands them to the configured transport:
//!
//! - `smtp`: an SMTP server (`smtp://host:25` with STARTTLS when offered,
//!   `smtp://host:587?tls=starttls` with STARTTLS required,
//!   `smtp://host:25?tls=none` never, `smtps://host:465` TLS from the first
//!   byte), with optional authentication;
//! - `file`: one `.eml` file per message in `<data_dir>/mail/` (the demo,
//!   or a comune without an SMTP server yet);
//! - `disabled` (the default): nothing is sent; messages wait in the outbox.
//!
//! Messages are proper MIME: `From` (the comune's name and e-mail unless
//! `[mail] from`/`from_name` say otherwise), `To`, `Reply-To`, a UTF-8
//! `Subject` as RFC 2047 encoded words, `Date`, a `Message-ID` that stays
//! the same across retries, `Auto-Submitted: auto-generated` (RFC 3834),
//! text/plain UTF-8 quoted-printable (with a text/html alternative when
//! given).
//!
//! A failed attempt is retried after 1 minute, 5 minutes, 30 minutes,
//! 2 hours and 12 hours; then, or at once when the server refuses
//! permanently (5xx), the message becomes `failed`, with an error in the log
//! and the `palazzo_mail_failed_total` counter on `/metrics`. Secrets (the
//! SMTP password) are never logged nor stored in `last_error`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use palazzo_store::{Mail, MailId, MailState, NewMail, Store as _, StoreTx as _, Tenant, TenantId};
use serde::{Deserialize, Serialize};

use crate::db::DbTx;
use crate::{App, ServiceError, ServiceResult};

/// Delays before the 2nd, 3rd… attempt; after the last the message fails.
pub const RETRY_DELAYS: [SignedDuration; 5] = [
    SignedDuration::from_secs(60),
    SignedDuration::from_secs(5 * 60),
    SignedDuration::from_secs(30 * 60),
    SignedDuration::from_secs(2 * 3600),
    SignedDuration::from_secs(12 * 3600),
];

/// How long a claimed message is reserved for the worker that claimed it
/// (if that worker dies, another takes the message after this).
pub const LEASE: SignedDuration = SignedDuration::from_secs(10 * 60);

/// Messages claimed per batch.
pub const BATCH: u32 = 50;

/// How often the worker looks for due messages when nobody wakes it.
const POLL: Duration = Duration::from_secs(15);

/// Longest `last_error` kept.
const MAX_ERROR: usize = 500;

/// Which transport sends the messages (`[mail] transport`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// An SMTP server (`smtp_url`).
    Smtp,
    /// `.eml` files in `<data_dir>/mail/`.
    File,
    /// Nothing is sent; messages wait in the outbox.
    #[default]
    Disabled,
}

/// `[mail]` in `palazzo.toml`. The password is never printed: see the
/// hand-written `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtp`, `file` or `disabled` (default; `palazzo demo` uses `file`
    /// when nothing else is configured).
    pub transport: TransportKind,
    /// The SMTP server: `smtp://host:25` (STARTTLS when offered),
    /// `smtp://host:587?tls=starttls` (required), `smtp://host:25?tls=none`,
    /// `smtps://host:465`. Credentials go in `username` and `password`,
    /// never in the URL.
    pub smtp_url: Option<String>,
    /// SMTP user name, if the server wants authentication.
    pub username: Option<String>,
    /// SMTP password (prefer `password_file` or `PALAZZO_MAIL_PASSWORD`).
    pub password: Option<String>,
    /// A file whose first line is the SMTP password.
    pub password_file: Option<PathBuf>,
    /// The sender address of every comune; default each comune's e-mail.
    pub from: Option<String>,
    /// The sender's display name; default each comune's name.
    pub from_name: Option<String>,
    /// The name given in EHLO; default the domain of `from`, else
    /// `localhost`.
    pub helo_name: Option<String>,
    /// Seconds to wait for the SMTP server (default 30).
    pub timeout_secs: Option<u64>,
}

/// The password is never printed.
impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("transport", &self.transport)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(crate::config::redact_url),
            )
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("from_name", &self.from_name)
            .field("helo_name", &self.helo_name)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// A configuration error: a stable code and an Italian message.
fn config_error(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        code: "mail_config",
        message: message.into(),
    }
}

/// How an `smtp_url` asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS when the server offers it (`smtp://` without `tls`).
    Opportunistic,
    /// STARTTLS, required (`?tls=starttls`).
    StartTls,
    /// Plain text (`?tls=none`): only for a relay on the same host.
    None,
    /// TLS from the first byte (`smtps://`).
    Wrapper,
}

/// A parsed `smtp_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host name or address.
    pub host: String,
    /// Port (default 25 for `smtp`, 465 for `smtps`).
    pub port: u16,
    /// TLS mode.
    pub tls: SmtpTls,
}

impl SmtpUrl {
    /// Parses `smtp[s]://host[:port][?tls=none|starttls|opportunistic]`.
    pub fn parse(url: &str) -> ServiceResult<SmtpUrl> {
        let bad = |why: &str| config_error(format!("[mail] smtp_url non valido: {why}."));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("manca lo schema smtp:// o smtps://"))?;
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a.trim_end_matches('/'), Some(q)),
            None => (rest.trim_end_matches('/'), None),
        };
        if authority.contains('@') {
            return Err(bad(
                "le credenziali vanno in username e password (o password_file), non nell'URL",
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                let port = p.parse::<u16>().map_err(|_| bad("porta non valida"))?;
                (h, Some(port))
            }
            _ => (authority, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("manca l'host"));
        }
        let mut tls_param = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", v)) => tls_param = Some(v),
                _ => return Err(bad("parametro sconosciuto (solo tls=…)")),
            }
        }
        let (tls, default_port) = match (scheme, tls_param) {
            ("smtps", None | Some("wrapper")) => (SmtpTls::Wrapper, 465),
            ("smtp", None | Some("opportunistic")) => (SmtpTls::Opportunistic, 25),
            ("smtp", Some("starttls" | "required")) => (SmtpTls::StartTls, 25),
            ("smtp", Some("none")) => (SmtpTls::None, 25),
            ("smtp" | "smtps", Some(_)) => {
                return Err(bad("tls è none, starttls o opportunistic"));
            }
            _ => return Err(bad("lo schema è smtp:// o smtps://")),
        };
        Ok(SmtpUrl {
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
            tls,
        })
    }
}

/// The configured transport, ready to send.
#[derive(Clone)]
pub(crate) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(PathBuf),
    Disabled,
}

/// The sender: transport and sender overrides. Built once from
/// [`MailConfig`] by [`App::configure_mail`].
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Option<Address>,
    from_name: Option<String>,
    /// A short description for logs (never the password).
    description: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl Mailer {
    /// Builds the sender of a configuration; `data_dir` is where the
    /// `file` transport writes (`<data_dir>/mail/`).
    pub fn from_config(config: &MailConfig, data_dir: &Path) -> ServiceResult<Mailer> {
        let from = match &config.from {
            Some(f) => Some(
                f.trim()
                    .parse::<Address>()
                    .map_err(|_| config_error("[mail] from non è un indirizzo e-mail valido."))?,
            ),
            None => None,
        };
        let (transport, description) = match config.transport {
            TransportKind::Disabled => (Transport::Disabled, "disabled".to_owned()),
            TransportKind::File => {
                let dir = data_dir.join("mail");
                let d = format!("file {}", dir.display());
                (Transport::File(dir), d)
            }
            TransportKind::Smtp => {
                let url = config
                    .smtp_url
                    .as_deref()
                    .ok_or_else(|| config_error("[mail] transport = \"smtp\" vuole smtp_url."))?;
                let parsed = SmtpUrl::parse(url)?;
                let tls_params = || {
                    TlsParameters::new(parsed.host.clone())
                        .map_err(|e| config_error(format!("[mail] TLS per {}: {e}", parsed.host)))
                };
                let tls = match parsed.tls {
                    SmtpTls::None => Tls::None,
                    SmtpTls::Opportunistic => Tls::Opportunistic(tls_params()?),
                    SmtpTls::StartTls => Tls::Required(tls_params()?),
                    SmtpTls::Wrapper => Tls::Wrapper(tls_params()?),
                };
                let helo = config
                    .helo_name
                    .clone()
                    .or_else(|| from.as_ref().map(|a| a.domain().to_owned()))
                    .unwrap_or_else(|| "localhost".to_owned());
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(parsed.host.clone())
                        .port(parsed.port)
                        .tls(tls)
                        .hello_name(ClientId::Domain(helo))
                        .timeout(Some(Duration::from_secs(
                            config.timeout_secs.unwrap_or(30).max(1),
                        )));
                let password = match (&config.password, &config.password_file) {
                    (Some(_), Some(_)) => {
                        return Err(config_error(
                            "[mail] indica password oppure password_file, non entrambi.",
                        ));
                    }
                    (Some(p), None) => Some(p.clone()),
                    (None, Some(file)) => Some(read_password_file(file)?),
                    (None, None) => None,
                };
                match (&config.username, password) {
                    (Some(u), Some(p)) => {
                        builder = builder.credentials(Credentials::new(u.clone(), p))
                    }
                    (None, None) => {}
                    _ => {
                        return Err(config_error(
                            "[mail] username e password vanno indicati insieme.",
                        ));
                    }
                }
                let d = format!(
                    "smtp {}:{} ({:?}{})",
                    parsed.host,
                    parsed.port,
                    parsed.tls,
                    if config.username.is_some() {
                        ", authenticated"
                    } else {
                        ""
                    }
                );
                (Transport::Smtp(builder.build()), d)
            }
        };
        Ok(Mailer {
            transport,
            from,
            from_name: config.from_name.clone(),
            description,
        })
    }

    /// Whether messages are sent at all.
    pub fn enabled(&self) -> bool {
        !matches!(self.transport, Transport::Disabled)
    }

    /// The `From` mailbox of a comune.
    fn sender(&self, tenant: &Tenant) -> ServiceResult<Mailbox> {
        let address = match &self.from {
            Some(a) => a.clone(),
            None => tenant.data.email.as_str().parse::<Address>().map_err(|_| {
                config_error(format!(
                    "L'indirizzo e-mail del comune {} non è valido come mittente.",
                    tenant.data.slug
                ))
            })?,
        };
        let name = self
            .from_name
            .clone()
            .unwrap_or_else(|| tenant.data.name.clone());
        Ok(Mailbox::new(Some(name), address))
    }
}

fn read_password_file(path: &Path) -> ServiceResult<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        config_error(format!(
            "[mail] password_file {} non leggibile: {}",
            path.display(),
            e.kind()
        ))
    })?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// What one run of [`App::send_due_mails`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SendReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Accepted by the server (or written to a file).
    pub sent: usize,
    /// Failed this time, to be retried later.
    pub retried: usize,
    /// Failed for good (`failed`).
    pub failed: usize,
}

/// Counters of the mail worker, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    sent: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
}

/// Why one attempt failed.
struct AttemptError {
    /// The server refused for good (5xx) or the message cannot be built.
    permanent: bool,
    /// What goes to `last_error` and the log (never a secret).
    message: String,
}

/// The outcome of handing one message to the transport.
pub(crate) struct Delivered {
    /// The `Message-ID` used, without brackets.
    message_id: String,
    /// The server's answer, or where the file went.
    answer: String,
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR {
        let mut end = MAX_ERROR;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn smtp_error(e: &lettre::transport::smtp::Error) -> AttemptError {
    AttemptError {
        permanent: e.is_permanent(),
        message: truncate(format!("SMTP: {e}")),
    }
}

/// Validates a message before it is queued.
fn validate(m: &NewMail) -> ServiceResult<()> {
    if m.recipient.trim().parse::<Address>().is_err() {
        return Err(ServiceError::Invalid {
            code: "mail_invalid_recipient",
            message: "L'indirizzo e-mail del destinatario non è valido.".into(),
        });
    }
    if let Some(r) = &m.reply_to
        && r.trim().parse::<Address>().is_err()
    {
        return Err(ServiceError::Invalid {
            code: "mail_invalid_reply_to",
            message: "L'indirizzo e-mail di risposta non è valido.".into(),
        });
    }
    if m.subject.trim().is_empty() || m.subject.chars().any(char::is_control) {
        return Err(ServiceError::Invalid {
            code: "mail_invalid_subject",
            message: "L'oggetto del messaggio è vuoto o contiene caratteri non ammessi.".into(),
        });
    }
    if let Some(r) = &m.related
        && (r.kind.is_empty() || r.kind.len() > 40)
    {
        return Err(ServiceError::Invalid {
            code: "mail_invalid_related",
            message: "Il riferimento del messaggio non è valido.".into(),
        });
    }
    Ok(())
}

/// The `Message-ID` of an outbox row (without brackets): the same on every
/// attempt, unique per installation and comune.
pub fn message_id(mail: &Mail, from: &Mailbox) -> String {
    format!(
        "palazzo.{}.{}.{}@{}",
        mail.tenant.0,
        mail.id.0,
        mail.created_at.as_microsecond(),
        from.email.domain()
    )
}

/// Builds the MIME message of an outbox row.
fn build_message(
    mail: &Mail,
    from: Mailbox,
    at: Timestamp,
) -> Result<(Message, String), AttemptError> {
    let permanent = |what: &str| AttemptError {
        permanent: true,
        message: what.to_owned(),
    };
    let to: Address = mail
        .data
        .recipient
        .trim()
        .parse()
        .map_err(|_| permanent("invalid recipient address"))?;
    let id = message_id(mail, &from);
    let mut b = Message::builder()
        .from(from)
        .to(Mailbox::new(None, to))
        .subject(mail.data.subject.clone())
        .date(std::time::SystemTime::from(at))
        .message_id(Some(format!("<{id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    if let Some(r) = &mail.data.reply_to {
        let r: Address = r
            .trim()
            .parse()
            .map_err(|_| permanent("invalid reply-to address"))?;
        b = b.reply_to(Mailbox::new(None, r));
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(mail.data.text_body.clone());
    let message = match &mail.data.html_body {
        None => b.singlepart(text),
        Some(html) => b.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .header(ContentTransferEncoding::QuotedPrintable)
                    .body(html.clone()),
            ),
        ),
    }
    .map_err(|e| permanent(&format!("cannot build the message: {e}")))?;
    Ok((message, id))
}

/// Writes a message into `dir` as `<time>-<tenant>-<id>.eml` (a temporary
/// name first, then renamed: a reader never sees half a file).
async fn write_eml(
    dir: &Path,
    mail: &Mail,
    bytes: Vec<u8>,
    at: Timestamp,
) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let stamp = at.strftime("%Y%m%dT%H%M%SZ").to_string();
    let name = format!("{stamp}-{}-{}.eml", mail.tenant.0, mail.id.0);
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, &path).await?;
    Ok(path)
}

impl App {
    /// Sets the mail transport from `[mail]` (files of the `file` transport
    /// go to `<data_dir>/mail/`, beside the documents). Without it nothing
    /// is sent and messages wait in the outbox.
    pub fn configure_mail(&self, config: &MailConfig) -> ServiceResult<()> {
        let mailer = Mailer::from_config(config, &self.data_dir())?;
        tracing::info!(transport = %mailer.description, "mail transport");
        if let Ok(mut slot) = self.inner().mail.write() {
            *slot = Some(Arc::new(mailer));
        }
        self.inner().mail_wake.notify_one();
        Ok(())
    }

    /// The installation's data directory (the parent of the key directory).
    fn data_dir(&self) -> PathBuf {
        let keys = self.keys().dir();
        keys.parent()
            .map_or_else(|| keys.to_path_buf(), Path::to_path_buf)
    }

    fn mailer(&self) -> Option<Arc<Mailer>> {
        self.inner().mail.read().ok().and_then(|m| m.clone())
    }

    /// Queues a message in the caller's transaction `tx` (the outbox
    /// pattern): it is sent only if `tx` commits. Call
    /// [`App::wake_mail_worker`] after the commit to send it at once rather
    /// than at the worker's next poll. Refuses an invalid recipient,
    /// reply-to or subject (codes `mail_invalid_*`).
    pub async fn queue_mail(
        &self,
        tx: &mut DbTx,
        tenant: TenantId,
        mail: &NewMail,
    ) -> ServiceResult<MailId> {
        validate(mail)?;
        let mut m = mail.clone();
        m.recipient = m.recipient.trim().to_owned();
        Ok(tx.insert_mail(tenant, &m, Timestamp::now()).await?)
    }

    /// Queues a message in a transaction of its own, commits, and wakes
    /// the worker.
    pub async fn send_mail(&self, tenant: TenantId, mail: &NewMail) -> ServiceResult<MailId> {
        let mut tx = self.db().begin().await?;
        let id = self.queue_mail(&mut tx, tenant, mail).await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(id)
    }

    /// Makes the worker look for due messages now.
    pub fn wake_mail_worker(&self) {
        self.inner().mail_wake.notify_one();
    }

    /// The outbox of a comune, newest first: every message, or those in
    /// `state`.
    pub async fn outbox(
        &self,
        tenant: TenantId,
        state: Option<MailState>,
        limit: u32,
    ) -> ServiceResult<Vec<Mail>> {
        Ok(self.db().mails(tenant, state, limit).await?)
    }

    /// The messages about one record (`pratica`/42…), newest first: what
    /// the personal area shows as "ti abbiamo scritto".
    pub async fn mails_about(
        &self,
        tenant: TenantId,
        kind: &str,
        id: i64,
    ) -> ServiceResult<Vec<Mail>> {
        Ok(self.db().mails_related(tenant, kind, id).await?)
    }

    /// Queues a failed message again (attempts start over). Not found when
    /// the comune has no such message; `mail_not_failed` when it is not
    /// failed.
    pub async fn retry_mail(&self, tenant: TenantId, id: MailId) -> ServiceResult<()> {
        let mut tx = self.db().begin().await?;
        if !tx.requeue_mail(tenant, id, Timestamp::now()).await? {
            drop(tx);
            return match self.db().mail(tenant, id).await? {
                None => Err(ServiceError::NotFound),
                Some(_) => Err(ServiceError::Invalid {
                    code: "mail_not_failed",
                    message:
                        "Il messaggio non è in stato «non inviato»: non c'è nulla da ritentare."
                            .into(),
                }),
            };
        }
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(())
    }

    /// Queues every failed message of a comune again; how many.
    pub async fn retry_failed_mails(&self, tenant: TenantId) -> ServiceResult<u64> {
        let mut tx = self.db().begin().await?;
        let n = tx.requeue_failed_mails(tenant, Timestamp::now()).await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(n)
    }

    /// Sends one test message to `to` now, outside the outbox, and returns
    /// the server's answer (or the file written). Codes: `mail_disabled`
    /// when no transport is configured, `mail_invalid_recipient`,
    /// `mail_send_failed` with the server's answer.
    pub async fn send_test_mail(&self, tenant: TenantId, to: &str) -> ServiceResult<String> {
        let mailer = self
            .mailer()
            .filter(|m| m.enabled())
            .ok_or(ServiceError::Invalid {
                code: "mail_disabled",
                message: "Nessun trasporto di posta configurato ([mail] transport).".into(),
            })?;
        let t = self.tenant(tenant)?;
        let now = Timestamp::now();
        let data = NewMail {
            recipient: to.trim().to_owned(),
            subject: format!("Prova di invio — {}", t.data.name),
            text_body: format!(
                "Questo è un messaggio di prova inviato da Palazzo per {} il {}.\n\
                 Se lo ricevi, la posta elettronica è configurata correttamente.\n",
                t.data.name,
                now.strftime("%Y-%m-%d %H:%M:%S UTC")
            ),
            html_body: None,
            reply_to: None,
            related: None,
        };
        validate(&data)?;
        let mail = Mail {
            id: MailId(0),
            tenant,
            data,
            state: MailState::Queued,
            attempts: 1,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
            message_id: None,
        };
        match self.deliver(&mailer, &t, &mail, now).await {
            Ok(d) => Ok(d.answer),
            Err(e) => Err(ServiceError::Invalid {
                code: "mail_send_failed",
                message: format!("Invio non riuscito: {}", e.message),
            }),
        }
    }

    /// Hands one message to the transport.
    async fn deliver(
        &self,
        mailer: &Mailer,
        tenant: &Tenant,
        mail: &Mail,
        now: Timestamp,
    ) -> Result<Delivered, AttemptError> {
        let from = mailer.sender(tenant).map_err(|e| AttemptError {
            permanent: false,
            message: e.message_it(),
        })?;
        let (message, message_id) = build_message(mail, from, now)?;
        match &mailer.transport {
            Transport::Disabled => Err(AttemptError {
                permanent: false,
                message: "mail transport disabled".into(),
            }),
            Transport::File(dir) => {
                let path = write_eml(dir, mail, message.formatted(), now)
                    .await
                    .map_err(|e| AttemptError {
                        permanent: false,
                        message: truncate(format!("cannot write the .eml file: {e}")),
                    })?;
                Ok(Delivered {
                    message_id,
                    answer: format!("scritto in {}", path.display()),
                })
            }
            Transport::Smtp(smtp) => {
                let response = smtp.send(message).await.map_err(|e| smtp_error(&e))?;
                let text: Vec<&str> = response.message().collect();
                Ok(Delivered {
                    message_id,
                    answer: format!("{} {}", response.code(), text.join(" ")),
                })
            }
        }
    }

    /// Sends the messages due at `now` (every comune), in batches until
    /// none is due: each is claimed, handed to the transport and marked
    /// sent, or scheduled for a retry ([`RETRY_DELAYS`]), or failed. Safe
    /// to run in several processes at once: a message is claimed by one
    /// only. With no transport configured nothing is claimed.
    pub async fn send_due_mails(&self, now: Timestamp) -> ServiceResult<SendReport> {
        self.send_due_mails_in_batches(now, BATCH).await
    }

    /// [`App::send_due_mails`] claiming `batch` messages at a time (at
    /// least one).
    pub async fn send_due_mails_in_batches(
        &self,
        now: Timestamp,
        batch: u32,
    ) -> ServiceResult<SendReport> {
        let batch = batch.max(1);
        let mut report = SendReport::default();
        let Some(mailer) = self.mailer().filter(|m| m.enabled()) else {
            return Ok(report);
        };
        loop {
            let mut tx = self.db().begin().await?;
            let claimed = tx.claim_due_mails(now, batch, now + LEASE).await?;
            tx.commit().await?;
            let full = claimed.len() as u32 == batch;
            report.claimed += claimed.len();
            for mail in claimed {
                self.attempt(&mailer, &mail, now, &mut report).await?;
            }
            if !full {
                return Ok(report);
            }
        }
    }

    async fn attempt(
        &self,
        mailer: &Mailer,
        mail: &Mail,
        now: Timestamp,
        report: &mut SendReport,
    ) -> ServiceResult<()> {
        let counters = &self.inner().mail_counters;
        let outcome = match self.tenant(mail.tenant) {
            Ok(t) => self.deliver(mailer, &t, mail, now).await,
            Err(_) => Err(AttemptError {
                permanent: true,
                message: "unknown comune".into(),
            }),
        };
        let mut tx = self.db().begin().await?;
        match outcome {
            Ok(d) => {
                tx.mark_mail_sent(mail.tenant, mail.id, &d.message_id, now)
                    .await?;
                report.sent += 1;
                counters.sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    tenant = mail.tenant.0,
                    mail = mail.id.0,
                    answer = %d.answer,
                    "mail sent"
                );
            }
            Err(e) => {
                let retry_at = (!e.permanent)
                    .then(|| {
                        usize::try_from(mail.attempts)
                            .ok()
                            .and_then(|a| a.checked_sub(1))
                            .and_then(|i| RETRY_DELAYS.get(i))
                            .map(|d| now + *d)
                    })
                    .flatten();
                tx.mark_mail_failed(mail.tenant, mail.id, &e.message, retry_at)
                    .await?;
                match retry_at {
                    Some(at) => {
                        report.retried += 1;
                        counters.retried.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            tenant = mail.tenant.0,
                            mail = mail.id.0,
                            attempts = mail.attempts,
                            retry_at = %at,
                            error = %e.message,
                            "mail not sent, will retry"
                        );
                    }
                    None => {
                        report.failed += 1;
                        counters.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(
                            tenant = mail.tenant.0,
                            mail = mail.id.0,
                            attempts = mail.attempts,
                            error = %e.message,
                            "mail failed for good"
                        );
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs until `shutdown` resolves: sends the due messages every few
    /// seconds, or at once when woken ([`App::wake_mail_worker`]). A
    /// message being sent when `shutdown` resolves is finished first.
    /// Does nothing (but wait) while no transport is configured.
    pub async fn run_mail_worker(&self, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            match self.send_due_mails(Timestamp::now()).await {
                Ok(r) if r.claimed > 0 => tracing::debug!(?r, "mail batch"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "mail worker: will retry"),
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.inner().mail_wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// The mail counters in the Prometheus text format (for `/metrics`).
    pub fn mail_metrics(&self) -> String {
        let c = &self.inner().mail_counters;
        let mut out = String::new();
        for (name, help, v) in [
            (
                "palazzo_mail_sent_total",
                "E-mail messages accepted by the transport.",
                &c.sent,
            ),
            (
                "palazzo_mail_retried_total",
                "E-mail attempts that failed and will be retried.",
                &c.retried,
            ),
            (
                "palazzo_mail_failed_total",
                "E-mail messages given up (state failed).",
                &c.failed,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        let p = |u: &str| SmtpUrl::parse(u).map(|s| (s.host, s.port, s.tls));
        assert_eq!(
            p("smtp://mail.example.it").unwrap(),
            ("mail.example.it".into(), 25, SmtpTls::Opportunistic)
        );
        assert_eq!(
            p("smtp://mail.example.it:587?tls=starttls").unwrap(),
            ("mail.example.it".into(), 587, SmtpTls::StartTls)
        );
        assert_eq!(
            p("smtps://mail.example.it").unwrap(),
            ("mail.example.it".into(), 465, SmtpTls::Wrapper)
        );
        assert_eq!(
            p("smtp://127.0.0.1:2525?tls=none").unwrap(),
            ("127.0.0.1".into(), 2525, SmtpTls::None)
        );
        assert_eq!(
            p("smtp://[::1]:25").unwrap(),
            ("::1".into(), 25, SmtpTls::Opportunistic)
        );
        for bad in [
            "mail.example.it",
            "http://mail.example.it",
            "smtp://user:pw@mail.example.it",
            "smtp://mail.example.it:port",
            "smtp://mail.example.it?tls=maybe",
            "smtps://mail.example.it?tls=none",
            "smtp://",
        ] {
            let e = SmtpUrl::parse(bad).expect_err(bad);
            assert_eq!(e.code(), "mail_config", "{bad}");
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = MailConfig {
            transport: TransportKind::Smtp,
            smtp_url: Some("smtp://mail.example.it:587?tls=starttls".into()),
            username: Some("comune".into()),
            password: Some("s3gr3t0-Pw".into()),
            ..MailConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3gr3t0-Pw"), "{shown}");
        assert!(shown.contains("password: Some(\"***\")"), "{shown}");
        assert!(shown.contains("comune"), "{shown}");
        let m = Mailer::from_config(&c, Path::new("/nonexistent")).unwrap();
        assert!(!format!("{m:?}").contains("s3gr3t0-Pw"));
    }

    #[test]
    fn password_from_file_and_incomplete_credentials() {
        let dir = std::env::temp_dir().join(format!("palazzo-mail-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pw");
        std::fs::write(&f, "dal-file\n").unwrap();
        assert_eq!(read_password_file(&f).unwrap(), "dal-file");
        let c = MailConfig {
            transport: TransportKind::Smtp,
            smtp_url: Some("smtp://127.0.0.1:25".into()),
            password_file: Some(f.clone()),
            ..MailConfig::default()
        };
        let e = Mailer::from_config(&c, &dir).expect_err("password without username");
        assert_eq!(e.code(), "mail_config");
        let both = MailConfig {
            username: Some("u".into()),
            password: Some("p".into()),
            ..c.clone()
        };
        assert!(
            Mailer::from_config(&both, &dir).is_err(),
            "password and password_file"
        );
        let ok = MailConfig {
            username: Some("u".into()),
            ..c
        };
        assert!(Mailer::from_config(&ok, &dir).unwrap().enabled());
        let missing = MailConfig {
            transport: TransportKind::Smtp,
            ..MailConfig::default()
        };
        assert!(
            Mailer::from_config(&missing, &dir).is_err(),
            "smtp without url"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn validation() {
        let ok = palazzo_store::conformance::mail_fixture("mario.rossi@example.it", None);
        assert!(validate(&ok).is_ok());
        for (m, code) in [
            (
                NewMail {
                    recipient: "non-un-indirizzo".into(),
                    ..ok.clone()
                },
                "mail_invalid_recipient",
            ),
            (
                NewMail {
                    subject: "riga\r\nBcc: altri@example.it".into(),
                    ..ok.clone()
                },
                "mail_invalid_subject",
            ),
            (
                NewMail {
                    reply_to: Some("x".into()),
                    ..ok.clone()
                },
                "mail_invalid_reply_to",
            ),
        ] {
            assert_eq!(validate(&m).unwrap_err().code(), code);
        }
    }
}
