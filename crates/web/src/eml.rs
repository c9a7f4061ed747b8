//! Registration from an e-mail file (`.eml`) at the protocol desk and in
//! the JSON API (see [`palazzo_services::eml`] for what is read from the
//! message, and `docs/documents.md`).
//!
//! The `.eml` arrives as an upload (field `eml`) and is stored, bit for bit,
//! in the document store like any upload (it is an allowed type); what the
//! message proposes is read back from the stored bytes.
//!
//! At the desk this takes two requests: the message is uploaded, and the
//! form comes back filled in with its attachments listed; the clerk checks
//! it and confirms. The confirmation names the stored message by its
//! fingerprint together with a MAC of the server secret over the comune,
//! the fingerprint and the file name ([`eml_token`]): a fingerprint merely
//! named by a caller is never accepted (as for any upload, see
//! [`crate::upload`]), so nobody can register a message stored by another
//! comune by knowing its hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use palazzo_domain::protocollo::Impronta;
use palazzo_services::ServiceError;
use palazzo_services::documents::{Kind, StoredDocument};
use palazzo_services::eml::{EmlMessage, parse_eml};
use palazzo_store::{DocumentRef, TenantId};
use serde::Serialize;

use crate::AppState;
use crate::api::protocollo::DocumentDto;
use crate::error::WebError;
use crate::upload::Upload;

/// The upload field that carries the `.eml`.
pub const EML_FIELD: &str = "eml";

const TOKEN_LABEL: &[u8] = b"palazzo/desk/eml/v1";

fn mac(
    secret: &[u8; 32],
    tenant: TenantId,
    sha256: &str,
    name: &str,
) -> Option<Hmac<sha2::Sha256>> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).ok()?;
    mac.update(TOKEN_LABEL);
    for part in [
        tenant.0.to_string().as_bytes(),
        sha256.as_bytes(),
        name.as_bytes(),
    ] {
        mac.update(&[0]);
        mac.update(part);
    }
    Some(mac)
}

/// The token that lets the desk's confirmation name a stored message: a
/// MAC of the server secret over the comune, the fingerprint (hex) and the
/// file name.
pub fn eml_token(secret: &[u8; 32], tenant: TenantId, sha256: &str, name: &str) -> String {
    mac(secret, tenant, sha256, name)
        .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `token` is [`eml_token`] of these values (constant time).
pub fn check_eml_token(
    secret: &[u8; 32],
    tenant: TenantId,
    sha256: &str,
    name: &str,
    token: &str,
) -> bool {
    let (Some(m), Ok(given)) = (
        mac(secret, tenant, sha256, name),
        URL_SAFE_NO_PAD.decode(token),
    ) else {
        return false;
    };
    m.verify_slice(&given).is_ok()
}

fn not_an_email() -> WebError {
    WebError::unprocessable(
        "eml_invalid",
        "Il file non è un messaggio di posta elettronica (.eml): salva il messaggio dal programma di posta con «Salva come» (formato .eml) e riprova.",
    )
}

/// The `.eml` of an upload (field `eml`): none, or exactly one that is an
/// e-mail by content.
pub fn eml_of(up: &Upload) -> Result<Option<&StoredDocument>, WebError> {
    let mut files = up.files(EML_FIELD);
    match (files.next(), files.next()) {
        (None, _) => Ok(None),
        (Some(d), None) if d.detected.kind == Kind::Eml => Ok(Some(d)),
        (Some(_), None) => Err(not_an_email()),
        (Some(_), Some(_)) => Err(WebError::unprocessable(
            "eml_repeated",
            "Carica un solo messaggio .eml per registrazione.",
        )),
    }
}

/// The stored message `doc` read back and parsed.
pub async fn read(state: &AppState, doc: &DocumentRef) -> Result<EmlMessage, WebError> {
    let bytes = match state.app().documents().get(&doc.sha256).await {
        Ok(b) => b,
        Err(ServiceError::NotFound) => {
            return Err(WebError::unprocessable(
                "eml_missing",
                "Il messaggio caricato non è più disponibile: caricalo di nuovo.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(parse_eml(&bytes)?)
}

/// The stored message named by the desk's confirmation (fields
/// `eml_sha256`, `eml_nome`, `eml_firma`), when its token is valid for this
/// comune: its reference as stored (with the name it was uploaded with)
/// and its bytes.
pub async fn confirmed(
    state: &AppState,
    tenant: TenantId,
    up: &Upload,
) -> Result<Option<(DocumentRef, Vec<u8>)>, WebError> {
    let Some(sha) = up.field("eml_sha256") else {
        return Ok(None);
    };
    let name = up.field("eml_nome").unwrap_or("");
    let token = up.field("eml_firma").unwrap_or("");
    let refused = || {
        WebError::unprocessable(
            "eml_token_invalid",
            "Il riferimento al messaggio caricato non è valido: carica di nuovo il file .eml.",
        )
    };
    if !check_eml_token(&state.config().secret, tenant, sha, name, token) {
        tracing::info!(code = "eml_token_invalid", "desk eml confirmation refused");
        return Err(refused());
    }
    let sha256 = Impronta::parse_hex(sha).map_err(|_| refused())?;
    let bytes = match state.app().documents().get(&sha256).await {
        Ok(b) => b,
        Err(ServiceError::NotFound) => return Err(refused()),
        Err(e) => return Err(e.into()),
    };
    let doc = DocumentRef {
        name: name.to_owned(),
        media_type: "message/rfc822".to_owned(),
        size: bytes.len() as u64,
        sha256,
    };
    Ok(Some((doc, bytes)))
}

/// A MIME attachment as the API describes it.
#[derive(Debug, Clone, Serialize)]
pub struct EmlAttachmentDto {
    /// File name.
    pub name: String,
    /// The type the message declares.
    pub declared_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The type detected from the content, when allowed.
    pub media_type: Option<String>,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Why its type is not allowed (Italian): registering the message
    /// would be refused.
    pub refusal: Option<String>,
}

/// What a message proposes for a registration (`POST
/// /api/v1/protocollo/eml`).
#[derive(Debug, Clone, Serialize)]
pub struct EmlPrefillDto {
    /// The message as stored.
    pub eml: DocumentDto,
    /// Always `E`: a received message.
    pub flow: &'static str,
    /// Subject, decoded.
    pub subject: Option<String>,
    /// The sender's display name, decoded.
    pub from_name: Option<String>,
    /// The sender's address.
    pub from_address: Option<String>,
    /// `Date` (RFC 3339, UTC).
    pub sent_at: Option<jiff::Timestamp>,
    /// The received document's date: the Europe/Rome civil date of `Date`.
    pub received_date: Option<jiff::civil::Date>,
    /// The received document's number: the `Message-ID`.
    pub received_number: Option<String>,
    /// The MIME attachments.
    pub attachments: Vec<EmlAttachmentDto>,
}

impl EmlPrefillDto {
    /// The description of `msg`, stored as `eml`.
    pub fn of(eml: &DocumentRef, msg: &EmlMessage) -> EmlPrefillDto {
        EmlPrefillDto {
            eml: eml.into(),
            flow: "E",
            subject: msg.subject.clone(),
            from_name: msg.from_name.clone(),
            from_address: msg.from_address.clone(),
            sent_at: msg.sent_at,
            received_date: msg.date,
            received_number: msg.message_id.clone(),
            attachments: msg
                .attachments
                .iter()
                .map(|a| EmlAttachmentDto {
                    name: a.name.clone(),
                    declared_type: a.declared_type.clone(),
                    size: a.size,
                    media_type: a.detected.as_ref().ok().map(|d| d.media_type.clone()),
                    sha256: Impronta::of(&a.content).hex(),
                    refusal: a.refusal().map(str::to_owned),
                })
                .collect(),
        }
    }
}

/// `POST /api/v1/protocollo/eml`: reads an e-mail message (multipart, part
/// `eml`) and answers what it proposes for a registration, with its
/// attachments and whether each may be registered; nothing is registered
/// (the message is stored, content-addressed, like any upload). Register
/// it with `POST /api/v1/protocollo` and the part `eml`.
pub async fn api_prefill(
    axum::extract::State(state): axum::extract::State<AppState>,
    crate::middleware::tenant::CurrentTenant(_t): crate::middleware::tenant::CurrentTenant,
    crate::api::staff::ApiAuth(actor): crate::api::staff::ApiAuth,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<axum::Json<EmlPrefillDto>, WebError> {
    // Authorization before reading (and storing) anything.
    actor.require(palazzo_domain::access::Permission::RegisterProtocol)?;
    let mp = mp.map_err(|_| WebError::UnsupportedMediaType)?;
    let up = crate::upload::read_upload(&state, mp).await?;
    let doc = eml_of(&up)?
        .ok_or_else(|| {
            WebError::unprocessable(
                "eml_missing",
                "Manca il messaggio da leggere (parte «eml», file .eml).",
            )
        })?
        .to_ref();
    let msg = read(&state, &doc).await?;
    Ok(axum::Json(EmlPrefillDto::of(&doc, &msg)))
}
