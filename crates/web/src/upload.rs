//! Uploads and downloads of registered documents (issue 4, parts 2 and 8).
//!
//! A registration arrives as one `multipart/form-data` request holding its
//! fields and its files, from the protocol desk's form or from the JSON API:
//! each file streams into the content-addressed document store (type
//! sniffed from the content, size-limited while it streams), then the
//! registration is made with the fingerprints of what was stored. Files are
//! never referenced by a fingerprint the caller merely names, so nobody can
//! register (and then download) a document of another comune by knowing its
//! hash. Downloads go through a registration of the caller's comune.

use std::collections::HashMap;

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::ids::Email;
use palazzo_domain::protocollo::{Correspondent, CorrespondentKind, Flow};
use palazzo_services::ServiceError;
use palazzo_services::access::Actor;
use palazzo_services::documents::StoredDocument;
use palazzo_services::protocollo::RegistrationInput;
use palazzo_store::{OfficeId, RegistrationId, TenantId};
use serde::Deserialize;

use crate::AppState;
use crate::api::protocollo::RegistrationDto;
use crate::api::staff::ApiAuth;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;

/// The largest upload request body: the primary document and its
/// attachments together. Each file is also held to the document store's own
/// limit (`documents::DEFAULT_MAX_SIZE`, 50 MiB) while it streams.
pub const MAX_UPLOAD_BYTES: usize = 200 * 1024 * 1024;

/// At most this many files in one registration (primary + attachments).
pub const MAX_FILES: usize = 100;

/// The largest text field of an upload form.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The largest text file read into memory instead of the document store
/// (see [`TextParts`]), e.g. a recovery file of the emergency register.
pub const MAX_TEXT_FILE_BYTES: usize = 4 * 1024 * 1024;

/// What an upload request carried: its text fields, its stored files and
/// its in-memory text files, each under its form field name, in arrival
/// order.
#[derive(Debug, Default)]
pub struct Upload {
    /// Text fields (a repeated name keeps every value).
    pub fields: HashMap<String, Vec<String>>,
    /// Stored files with the field they came in.
    pub files: Vec<(String, StoredDocument)>,
    /// Files of the fields named by [`TextParts`], read into memory.
    pub texts: Vec<(String, TextFile)>,
}

/// A small UTF-8 text file read into memory, not stored (a CSV to import).
#[derive(Debug, Clone)]
pub struct TextFile {
    /// The sender's file name.
    pub file_name: String,
    /// The content (a leading byte-order mark kept).
    pub text: String,
}

/// Which file fields of an upload are read into memory as text instead of
/// going to the document store, and how large they may be. The document
/// store keeps originals to be registered; a file that only drives an
/// operation (the recovery file of the emergency register) is not one.
#[derive(Debug, Clone, Copy)]
pub struct TextParts<'a> {
    /// The field names.
    pub names: &'a [&'a str],
    /// The largest such file, in bytes.
    pub max_bytes: usize,
}

impl TextParts<'_> {
    /// No field is read into memory: every file goes to the store.
    pub const NONE: TextParts<'static> = TextParts {
        names: &[],
        max_bytes: 0,
    };
}

impl Upload {
    /// The first value of a text field, trimmed; `None` when absent or blank.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// The in-memory text file sent under `name`, if one was.
    pub fn text(&self, name: &str) -> Option<&TextFile> {
        self.texts.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// The files sent under `name`.
    pub fn files(&self, name: &str) -> impl Iterator<Item = &StoredDocument> {
        self.files
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, d)| d)
    }
}

fn multipart_error(e: &MultipartError) -> WebError {
    tracing::info!(error = %e, code = "upload_invalid", "upload refused");
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => WebError::PayloadTooLarge,
        _ => WebError::bad_request(
            "upload_invalid",
            "Il caricamento non è andato a buon fine: riprovare.",
        ),
    }
}

/// An upload that stopped at a refused part: the error, and what was read
/// before it (so that a form can come back filled in).
#[derive(Debug)]
pub struct UploadError {
    /// Why it stopped.
    pub error: WebError,
    /// The fields and files read before the refused part.
    pub partial: Upload,
}

impl From<UploadError> for WebError {
    fn from(e: UploadError) -> WebError {
        e.error
    }
}

/// Reads a multipart request: text fields into memory (each at most 64
/// KiB), files streamed into the document store. A file field with no file
/// chosen (empty name and content, as browsers send it) is skipped.
pub async fn read_upload(state: &AppState, mp: Multipart) -> Result<Upload, UploadError> {
    read_upload_with(state, mp, TextParts::NONE).await
}

/// [`read_upload`], with the file fields named in `texts` read into memory
/// as UTF-8 text (at most `texts.max_bytes` each, one per field) instead of
/// going to the document store: `text_file_too_large` and
/// `text_file_not_utf8` (422) otherwise.
pub async fn read_upload_with(
    state: &AppState,
    mp: Multipart,
    texts: TextParts<'_>,
) -> Result<Upload, UploadError> {
    let mut up = Upload::default();
    match read_parts(state, mp, &mut up, texts).await {
        Ok(()) => Ok(up),
        Err(error) => Err(UploadError { error, partial: up }),
    }
}

async fn read_text_file(
    field: &mut axum::extract::multipart::Field<'_>,
    file_name: &str,
    max: usize,
) -> Result<String, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        if bytes.len() + chunk.len() > max {
            return Err(WebError::unprocessable(
                "text_file_too_large",
                format!(
                    "Il file «{file_name}» supera la dimensione massima di {} KiB.",
                    max / 1024
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| {
        WebError::unprocessable(
            "text_file_not_utf8",
            format!("Il file «{file_name}» non è testo UTF-8: salvalo con la codifica UTF-8."),
        )
    })
}

async fn read_parts(
    state: &AppState,
    mut mp: Multipart,
    up: &mut Upload,
    texts: TextParts<'_>,
) -> Result<(), WebError> {
    while let Some(mut field) = mp.next_field().await.map_err(|e| multipart_error(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) if texts.names.contains(&name.as_str()) => {
                if file_name.trim().is_empty() {
                    // An unused file input: drain its (normally empty) part.
                    while field
                        .chunk()
                        .await
                        .map_err(|e| multipart_error(&e))?
                        .is_some()
                    {}
                    continue;
                }
                if up.text(&name).is_some() {
                    return Err(WebError::unprocessable(
                        "text_file_repeated",
                        format!("Si può caricare un solo file nel campo «{name}»."),
                    ));
                }
                let text = read_text_file(&mut field, &file_name, texts.max_bytes).await?;
                up.texts.push((name, TextFile { file_name, text }));
            }
            Some(file_name) => {
                if file_name.trim().is_empty() {
                    // Drain the (normally empty) part of an unused file input.
                    while field
                        .chunk()
                        .await
                        .map_err(|e| multipart_error(&e))?
                        .is_some()
                    {}
                    continue;
                }
                if up.files.len() >= MAX_FILES {
                    return Err(WebError::unprocessable(
                        "too_many_files",
                        format!("Si possono caricare al massimo {MAX_FILES} file."),
                    ));
                }
                let doc = state
                    .app()
                    .documents()
                    .put_stream(&file_name, field)
                    .await?;
                tracing::info!(
                    sha256 = %doc.sha256.hex(),
                    size = doc.size,
                    media_type = %doc.media_type,
                    "document uploaded"
                );
                up.files.push((name, doc));
            }
            None => {
                let mut value = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
                    if value.len() + chunk.len() > MAX_FIELD_BYTES {
                        return Err(WebError::unprocessable(
                            "field_too_long",
                            format!("Il campo «{name}» è troppo lungo."),
                        ));
                    }
                    value.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(value).map_err(|_| {
                    WebError::bad_request("upload_invalid", "Il modulo contiene testo non valido.")
                })?;
                up.fields.entry(name).or_default().push(value);
            }
        }
    }
    Ok(())
}

/// A correspondent as the API receives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrespondentBody {
    /// `persona_fisica` (default), `persona_giuridica` or `amministrazione`.
    #[serde(default)]
    pub kind: Option<CorrespondentKind>,
    /// Name or denominazione.
    pub name: String,
    /// Codice fiscale or partita IVA.
    #[serde(default)]
    pub fiscal_code: Option<String>,
    /// IPA code of an administration.
    #[serde(default)]
    pub ipa: Option<String>,
    /// E-mail or PEC.
    #[serde(default)]
    pub email: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<String>,
    /// Per conoscenza (destinatari only).
    #[serde(default)]
    pub per_conoscenza: bool,
}

fn blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl CorrespondentBody {
    /// The domain value; the service checks the rest (check_correspondents).
    pub fn into_correspondent(self) -> Result<Correspondent, WebError> {
        let email = match blank(self.email) {
            None => None,
            Some(e) => Some(Email::parse(&e).map_err(|_| {
                WebError::unprocessable(
                    "correspondent_email",
                    format!("L'indirizzo e-mail «{e}» non è valido."),
                )
            })?),
        };
        Ok(Correspondent {
            kind: self.kind.unwrap_or(CorrespondentKind::PersonaFisica),
            name: self.name.trim().to_owned(),
            fiscal_code: blank(self.fiscal_code).map(|s| s.to_uppercase()),
            ipa: blank(self.ipa),
            email,
            address: blank(self.address),
            per_conoscenza: self.per_conoscenza,
        })
    }
}

/// The fields of a registration, as the API's `dati` part carries them
/// (JSON). The files come as parts `documento` (exactly one) and `allegati`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// `E`, `U` or `I`.
    pub flow: String,
    /// Oggetto.
    pub subject: String,
    /// Mittente or destinatari.
    #[serde(default)]
    pub correspondents: Vec<CorrespondentBody>,
    /// Number of the received document.
    #[serde(default)]
    pub received_number: Option<String>,
    /// Date of the received document.
    #[serde(default)]
    pub received_date: Option<Date>,
    /// Classification (titolario code).
    #[serde(default)]
    pub classification: Option<String>,
    /// Competent office id.
    #[serde(default)]
    pub office: Option<i64>,
}

/// The primary document (field `documento`, exactly one) and the
/// attachments (field `allegati`) of an upload.
pub fn documents_of(
    up: &Upload,
) -> Result<(palazzo_store::DocumentRef, Vec<palazzo_store::DocumentRef>), WebError> {
    let mut primary = up.files("documento");
    let (Some(first), None) = (primary.next(), primary.next()) else {
        return Err(WebError::unprocessable(
            "primary_document",
            "Allegare un solo documento principale (campo «documento»).",
        ));
    };
    Ok((
        first.to_ref(),
        up.files("allegati").map(StoredDocument::to_ref).collect(),
    ))
}

/// The fields of a registration from an e-mail message, as the API's
/// optional `dati` part carries them (JSON): each replaces what the message
/// proposes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmlRegisterBody {
    /// Only `E`: a received message.
    #[serde(default)]
    pub flow: Option<String>,
    /// Oggetto (default: the message's subject).
    #[serde(default)]
    pub subject: Option<String>,
    /// Mittente (default: the sender of `From`).
    #[serde(default)]
    pub correspondents: Vec<CorrespondentBody>,
    /// Number of the received document (default: the `Message-ID`).
    #[serde(default)]
    pub received_number: Option<String>,
    /// Date of the received document (default: the Rome date of `Date`).
    #[serde(default)]
    pub received_date: Option<Date>,
    /// Classification (titolario code).
    #[serde(default)]
    pub classification: Option<String>,
    /// Competent office id.
    #[serde(default)]
    pub office: Option<i64>,
}

/// The registration of the `.eml` of an API upload (part `eml`).
async fn api_register_eml(
    state: &AppState,
    tenant: TenantId,
    actor: &Actor,
    up: &Upload,
    eml: &StoredDocument,
) -> Result<palazzo_store::Registration, WebError> {
    if up.files("documento").next().is_some() {
        return Err(WebError::unprocessable(
            "eml_and_document",
            "Invia il messaggio (parte «eml») oppure il documento principale (parte «documento»), non entrambi.",
        ));
    }
    let body: EmlRegisterBody = match up.field("dati") {
        None => EmlRegisterBody::default(),
        Some(dati) => serde_json::from_str(dati).map_err(|e| {
            WebError::unprocessable(
                "invalid_fields",
                format!("I campi della registrazione non sono validi: {e}"),
            )
        })?,
    };
    if body.flow.as_deref().is_some_and(|f| f.trim() != "E") {
        return Err(WebError::unprocessable(
            "invalid_flow",
            "Un messaggio ricevuto si registra in entrata (E).",
        ));
    }
    let correspondents = body
        .correspondents
        .into_iter()
        .map(CorrespondentBody::into_correspondent)
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = state.app().documents().get(&eml.sha256).await?;
    let fields = palazzo_services::eml::EmlFields {
        subject: body.subject,
        correspondents,
        received_number: blank(body.received_number),
        received_date: body.received_date,
        classification: blank(body.classification),
        office: body.office.map(OfficeId),
        extra_attachments: up.files("allegati").map(StoredDocument::to_ref).collect(),
    };
    Ok(state
        .app()
        .register_eml(tenant, actor, &eml.name, &bytes, fields)
        .await?)
}

/// `POST /api/v1/protocollo`: registers a document (multipart: `dati` JSON,
/// `documento`, `allegati`), or a received e-mail message (part `eml`, the
/// `.eml` file, with an optional `dati` overriding what the message
/// proposes: [`EmlRegisterBody`]). 201 with the registration.
pub async fn api_register(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    // Authorization before reading (and storing) anything.
    actor.require(Permission::RegisterProtocol)?;
    let mp = mp.map_err(|_| WebError::UnsupportedMediaType)?;
    let up = read_upload(&state, mp).await?;
    if let Some(eml) = crate::eml::eml_of(&up)? {
        let reg = api_register_eml(&state, t.id, &actor, &up, eml).await?;
        return Ok((StatusCode::CREATED, axum::Json(RegistrationDto::from(&reg))).into_response());
    }
    let Some(dati) = up.field("dati") else {
        return Err(WebError::unprocessable(
            "fields_missing",
            "Manca la parte «dati» con i campi della registrazione (JSON).",
        ));
    };
    let body: RegisterBody = serde_json::from_str(dati).map_err(|e| {
        WebError::unprocessable(
            "invalid_fields",
            format!("I campi della registrazione non sono validi: {e}"),
        )
    })?;
    let flow = Flow::parse(body.flow.trim())
        .map_err(|_| WebError::unprocessable("invalid_flow", "Il flusso è E, U oppure I."))?;
    let correspondents = body
        .correspondents
        .into_iter()
        .map(CorrespondentBody::into_correspondent)
        .collect::<Result<Vec<_>, _>>()?;
    let (primary, attachments) = documents_of(&up)?;
    let input = RegistrationInput {
        register: None,
        flow,
        subject: body.subject,
        correspondents,
        received_number: body.received_number,
        received_date: body.received_date,
        primary,
        attachments,
        classification: body.classification,
        office: body.office.map(OfficeId),
        emergency: None,
    };
    let reg = state.app().register_protocol(t.id, &actor, input).await?;
    Ok((StatusCode::CREATED, axum::Json(RegistrationDto::from(&reg))).into_response())
}

/// A stored document as a download that no cache keeps (it holds personal
/// data).
pub(crate) async fn private_file(
    app: &palazzo_services::App,
    doc: &palazzo_store::DocumentRef,
) -> Result<Response, ServiceError> {
    let bytes = match app.documents().get(&doc.sha256).await {
        Ok(b) => b,
        Err(ServiceError::NotFound) => {
            tracing::error!(sha256 = %doc.sha256.hex(), "registered document missing from the store");
            return Err(ServiceError::NotFound);
        }
        Err(e) => return Err(e),
    };
    let content_type = HeaderValue::from_str(&doc.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, attachment(&doc.name)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A `Content-Disposition: attachment` value for a file name: an ASCII
/// fallback and the UTF-8 name (RFC 6266, RFC 8187).
pub fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A ricevuta di protocollo as a download (`docs/receipt-format.md`, "Who
/// can download it"): `application/pdf`, an attachment named
/// `ricevuta-<year>-<number>.pdf`, never stored by caches (the bundle
/// holds the correspondents' fiscal codes).
pub fn receipt_download(file: palazzo_services::receipt::ReceiptFile) -> Response {
    pdf_download(file.bytes, &file.file_name)
}

/// A personal PDF (a receipt, a certificate, an F24) as a download named
/// `name`, never stored by caches.
pub fn pdf_download(bytes: Vec<u8>, name: &str) -> Response {
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CONTENT_DISPOSITION, attachment(name));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// Document `n` (0 the primary, then the attachments) of a registration of
/// the caller's comune, as a download.
pub async fn download(
    state: &AppState,
    tenant: TenantId,
    actor: &Actor,
    id: RegistrationId,
    n: usize,
) -> Result<Response, WebError> {
    let app = state.app();
    let r = app.protocol_entry(tenant, actor, id).await?;
    let doc = if n == 0 {
        Some(&r.data.primary)
    } else {
        r.data.attachments.get(n - 1)
    };
    let doc = doc.ok_or(WebError::NotFound)?;
    Ok(private_file(app, doc).await?)
}

/// `GET /backoffice/protocollo/{id}/documenti/{n}`: the same download for
/// the back-office pages.
pub async fn page_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    axum::Extension(auth): axum::Extension<crate::auth::Auth>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    let (Ok(id), Ok(n)) = (id.parse::<i64>(), n.parse::<usize>()) else {
        return WebError::NotFound.into_response();
    };
    match download(&state, t.id, &auth.actor, RegistrationId(id), n).await {
        Ok(r) => r,
        Err(WebError::Service(e)) => {
            crate::auth::pages::needs(&format!("/backoffice/protocollo/{id}"), e)
        }
        Err(e) => e.into_response(),
    }
}

/// The field of a recovery upload that carries the CSV file (read into
/// memory, at most [`MAX_TEXT_FILE_BYTES`]).
pub const RECOVERY_FILE_FIELD: &str = "recupero";

/// The field of a recovery upload that carries the documents its rows name
/// (any number of files, each stored like any upload).
pub const RECOVERY_DOCUMENTS_FIELD: &str = "documenti";

/// Recovers the entries of emergency register `code` (DPR 445/2000 art. 63
/// c.5) from a multipart upload: the recovery file in field `recupero`
/// (UTF-8 CSV, `docs/emergency-register.md`) and the documents its rows
/// name in field `documenti`, matched by file name. The session is looked
/// up before anything is stored (404 when the comune has none with that
/// code). Shared by the back office and the JSON API.
pub async fn recover_upload(
    state: &AppState,
    tenant: TenantId,
    actor: &Actor,
    code: &str,
    mp: Multipart,
) -> Result<Vec<palazzo_services::emergenza::RecoveryOutcome>, WebError> {
    use palazzo_services::protocollo_import::{ImportDocuments, UploadedDocuments};
    actor.require(Permission::RegisterProtocol)?;
    let app = state.app();
    app.emergency_session(tenant, actor, code).await?;
    let up = read_upload_with(
        state,
        mp,
        TextParts {
            names: &[RECOVERY_FILE_FIELD],
            max_bytes: MAX_TEXT_FILE_BYTES,
        },
    )
    .await?;
    let Some(file) = up.text(RECOVERY_FILE_FIELD) else {
        return Err(WebError::unprocessable(
            "recovery_file_missing",
            "Scegli il file di recupero (CSV) del registro di emergenza (campo «recupero»).",
        ));
    };
    let mut docs = UploadedDocuments::new();
    for d in up.files(RECOVERY_DOCUMENTS_FIELD) {
        docs.add(d.to_ref())?;
    }
    tracing::info!(
        code,
        bytes = file.text.len(),
        documents = docs.len(),
        "emergency recovery upload"
    );
    Ok(app
        .recover_emergency(
            tenant,
            actor,
            code,
            &file.text,
            ImportDocuments::Uploaded(&docs),
            |_, _| {},
        )
        .await?)
}
