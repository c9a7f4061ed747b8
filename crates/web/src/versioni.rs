//! Versions of registered documents (SYS-3) and their Allegato 5 metadata
//! (PR-11), in the back office and the JSON API.
//!
//! - `POST /backoffice/protocollo/{id}/documenti/{n}/versioni` and
//!   `POST /api/v1/protocollo/voci/{id}/documenti/{n}/versioni`: a new
//!   version (multipart: file `documento`, fields `tipo` = rettifica |
//!   integrazione | annotazione and `motivo`), streamed into the document
//!   store like every upload ([`crate::upload::read_upload`]: size-limited,
//!   type checked from the content). The back-office form carries its CSRF
//!   token in the action URL, like the desk's.
//! - `GET …/documenti/{n}/versioni/{v}`: version `v` (1 = the registered
//!   original) as a download.
//! - `GET /api/v1/protocollo/voci/{id}/documenti/{n}/versioni`: the list.
//! - `GET /backoffice/protocollo/{id}/documenti/{n}/metadati.xml` and
//!   `GET /api/v1/protocollo/voci/{id}/documenti/{n}/metadati`: the
//!   `DocumentoAmministrativoInformatico` XML (`?versione=N`, the current
//!   version by default).

use axum::Extension;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::access::Actor;
use palazzo_services::metadati::MetadatiDocumento;
use palazzo_services::versioni::DocumentHistory;
use palazzo_store::{DocumentRef, DocumentVersion, Registration, RegistrationId, TipoModifica};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::staff::ApiAuth;
use crate::auth::Auth;
use crate::auth::pages::needs;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};
use crate::upload::{Upload, attachment, read_upload};

/// The back-office routes.
pub fn backoffice_router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    Routes::new()
        .upload(
            "/backoffice/protocollo/{id}/documenti/{n}/versioni",
            Needs(Permission::RegisterProtocol),
            page_add,
        )
        .get(
            "/backoffice/protocollo/{id}/documenti/{n}/versioni/{v}",
            read,
            page_download,
        )
        .get(
            "/backoffice/protocollo/{id}/documenti/{n}/metadati.xml",
            read,
            page_metadata,
        )
}

/// The API routes, relative to `/api/v1`.
pub fn api_router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    Routes::new()
        .get(
            "/protocollo/voci/{id}/documenti/{n}/versioni",
            read,
            api_list,
        )
        .upload(
            "/protocollo/voci/{id}/documenti/{n}/versioni",
            Needs(Permission::RegisterProtocol),
            api_add,
        )
        .get(
            "/protocollo/voci/{id}/documenti/{n}/versioni/{v}",
            read,
            api_download,
        )
        .get(
            "/protocollo/voci/{id}/documenti/{n}/metadati",
            read,
            api_metadata,
        )
}

/// One version of a document in the JSON API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersionDto {
    /// The document: 0 the primary, `n` the n-th attachment.
    pub document: u32,
    /// 1 for the registered original, then 2, 3…
    pub version: u32,
    /// File name.
    pub name: String,
    /// Media type detected from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// `Rettifica`, `Integrazione` or `Annotazione`; `null` for the original.
    pub kind: Option<String>,
    /// Who registered it (the original) or made the version.
    pub author: String,
    /// When (RFC 3339, UTC).
    pub at: Timestamp,
    /// The reason of a new version.
    pub reason: Option<String>,
    /// SHA-256 of the version it follows.
    pub previous_sha256: Option<String>,
}

impl VersionDto {
    fn original(reg: &Registration, document: u32, file: &DocumentRef) -> VersionDto {
        VersionDto {
            document,
            version: 1,
            name: file.name.clone(),
            media_type: file.media_type.clone(),
            size: file.size,
            sha256: file.sha256.hex(),
            kind: None,
            author: reg.data.registered_by.clone(),
            at: reg.registered_at,
            reason: None,
            previous_sha256: None,
        }
    }
}

impl From<&DocumentVersion> for VersionDto {
    fn from(v: &DocumentVersion) -> Self {
        let d = &v.data;
        VersionDto {
            document: d.document,
            version: d.version,
            name: d.file.name.clone(),
            media_type: d.file.media_type.clone(),
            size: d.file.size,
            sha256: d.file.sha256.hex(),
            kind: Some(d.kind.allegato5().to_owned()),
            author: d.author.clone(),
            at: v.at,
            reason: Some(d.reason.clone()),
            previous_sha256: Some(d.previous.hex()),
        }
    }
}

fn dtos(reg: &Registration, h: &DocumentHistory) -> Vec<VersionDto> {
    h.versions
        .iter()
        .map(|v| match &v.row {
            Some(row) => VersionDto::from(row),
            None => VersionDto::original(reg, h.index, &v.file),
        })
        .collect()
}

fn ids(id: &str, n: &str) -> Result<(RegistrationId, u32), WebError> {
    let id = id.parse().map_err(|_| WebError::NotFound)?;
    let n = n.parse().map_err(|_| WebError::NotFound)?;
    Ok((RegistrationId(id), n))
}

/// Stores the version an upload carries (file `documento`, fields `tipo`
/// and `motivo`).
async fn add(
    state: &AppState,
    tenant: palazzo_store::TenantId,
    actor: &Actor,
    id: RegistrationId,
    n: u32,
    up: &Upload,
) -> Result<DocumentVersion, WebError> {
    let kind = up
        .field("tipo")
        .and_then(TipoModifica::from_code)
        .ok_or_else(|| {
            WebError::unprocessable(
                "versione_tipo",
                "Scegliere il tipo di modifica: rettifica, integrazione o annotazione.",
            )
        })?;
    let mut files = up.files("documento");
    let (Some(file), None) = (files.next(), files.next()) else {
        return Err(WebError::unprocessable(
            "versione_file",
            "Allegare un solo file per la nuova versione (campo «documento»).",
        ));
    };
    Ok(state
        .app()
        .add_document_version(
            tenant,
            actor,
            id,
            n,
            kind,
            up.field("motivo").unwrap_or(""),
            file,
        )
        .await?)
}

fn file_response(file: &DocumentRef, bytes: Vec<u8>) -> Response {
    let content_type = HeaderValue::from_str(&file.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, attachment(&file.name)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The metadata as a download: it names correspondents, so never cached.
fn metadata_response(m: MetadatiDocumento) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, attachment(&m.file_name)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        m.xml,
    )
        .into_response()
}

/// `?versione=N`.
#[derive(Debug, Default, Deserialize)]
pub struct VersionQuery {
    /// The version (the current one when absent).
    pub versione: Option<u32>,
}

fn version_of(q: Result<Query<VersionQuery>, QueryRejection>) -> Result<Option<u32>, WebError> {
    match q {
        Ok(Query(q)) => Ok(q.versione),
        Err(_) => Err(WebError::bad_request(
            "versione_non_valida",
            "Il numero di versione non è valido.",
        )),
    }
}

// ------------------------------------------------------------ back office

/// The kinds of a new version offered by the form (value, label).
pub(crate) const KINDS: [(&str, &str); 3] = [
    ("rettifica", "Rettifica"),
    ("integrazione", "Integrazione"),
    ("annotazione", "Annotazione"),
];

/// One version of a document on the registration page.
pub(crate) struct VersionRow {
    /// 1 the original.
    pub version: u32,
    /// File name.
    pub name: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Allegato 2 format and whether it is conservabile (PR-12).
    pub formato: String,
    /// Conservabile.
    pub conservabile: bool,
    /// `Originale registrato` or the kind of modification.
    pub kind: &'static str,
    /// A signed `.p7m`: the link to its signed content.
    pub signed_content: Option<String>,
    /// Who.
    pub author: String,
    /// When (Rome time).
    pub when: String,
    /// Why (empty for the original).
    pub reason: String,
}

/// A document of the registration page with its versions.
pub(crate) struct DocRow {
    /// 0 the primary, `n` the n-th attachment.
    pub index: u32,
    /// Name, `(principale)` for the primary.
    pub label: String,
    /// The registered original (version 1): media type, size, impronta.
    pub media_type: String,
    /// Size, in words.
    pub size: String,
    /// The registered impronta (fixed, PR-3).
    pub sha256: String,
    /// The original's format (Allegato 2).
    pub formato: String,
    /// Whether that format is conservabile (PR-12).
    pub conservabile: bool,
    /// A signed `.p7m`: the link to its signed content.
    pub signed_content: Option<String>,
    /// The outcome of the verification of its signatures (text, code
    /// `valida`, `non_attendibile`, `non_valida`), from the report.
    pub signature_outcome: Option<(String, &'static str)>,
    /// Every version, oldest first (the first is the original).
    pub versions: Vec<VersionRow>,
}

/// The format of a stored object as detected from its content, whether it
/// is conservabile and whether it is a signed envelope (`.p7m`: also when
/// registered as one and now unreadable, so that its page offers the
/// content and says what is wrong); a missing object or an unreadable one
/// is shown as such (never a 5xx: the page must stay usable).
async fn format_of(state: &AppState, file: &DocumentRef) -> (String, bool, bool) {
    let registered_signed = file.media_type == "application/pkcs7-mime";
    match state.app().documents().get(&file.sha256).await {
        Ok(bytes) => match palazzo_services::documents::detect(&bytes) {
            Ok(d) => {
                let signed = d.firmato();
                (d.formato, d.conservabile, signed)
            }
            Err(_) => ("non riconosciuto".to_owned(), false, registered_signed),
        },
        Err(e) => {
            tracing::error!(sha256 = %file.sha256.hex(), error = %e, "registered document unreadable");
            ("file non disponibile".to_owned(), false, false)
        }
    }
}

/// The documents of a registration with their versions and formats, for
/// the registration page.
pub(crate) async fn doc_rows(
    state: &AppState,
    tenant: palazzo_store::TenantId,
    actor: &Actor,
    reg: &Registration,
) -> Result<Vec<DocRow>, ServiceError> {
    let (_, histories) = state
        .app()
        .document_histories(tenant, actor, reg.id)
        .await?;
    let mut out = Vec::with_capacity(histories.len());
    for h in &histories {
        let original = &h.versions[0].file;
        let mut versions = Vec::with_capacity(h.versions.len());
        for v in &h.versions {
            let (formato, conservabile, signed) = format_of(state, &v.file).await;
            let (kind, author, at, reason) = match &v.row {
                Some(row) => (
                    row.data.kind.allegato5(),
                    row.data.author.clone(),
                    row.at,
                    row.data.reason.clone(),
                ),
                None => (
                    "Originale registrato",
                    reg.data.registered_by.clone(),
                    reg.registered_at,
                    String::new(),
                ),
            };
            versions.push(VersionRow {
                version: v.version,
                name: v.file.name.clone(),
                sha256: v.file.sha256.hex(),
                formato,
                conservabile,
                kind,
                signed_content: signed
                    .then(|| crate::firmati::page_link(reg.id.0, h.index, v.version)),
                author,
                when: crate::auth::pages::rome(at),
                reason,
            });
        }
        out.push(DocRow {
            index: h.index,
            label: if h.index == 0 {
                format!("{} (principale)", original.name)
            } else {
                original.name.clone()
            },
            media_type: original.media_type.clone(),
            size: format!("{} byte", original.size),
            sha256: original.sha256.hex(),
            formato: versions[0].formato.clone(),
            conservabile: versions[0].conservabile,
            signed_content: versions[0].signed_content.clone(),
            signature_outcome: None,
            versions,
        });
    }
    Ok(out)
}

fn entry_path(id: &str) -> String {
    format!("/backoffice/protocollo/{id}")
}

/// Handles `POST /backoffice/protocollo/{id}/documenti/{n}/versioni`.
async fn page_add(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = entry_path(&id);
    // Authorization before reading (and storing) anything.
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs(&path, e);
    }
    let Ok((rid, n)) = ids(&id, &n) else {
        return WebError::NotFound.into_response();
    };
    let Ok(mp) = mp else {
        return WebError::UnsupportedMediaType.into_response();
    };
    let result = match read_upload(&state, mp).await {
        Ok(up) => add(&state, t.id, &auth.actor, rid, n, &up).await,
        Err(e) => Err(e.error),
    };
    match result {
        Ok(v) => crate::auth::pages::see_other(&format!(
            "{path}?esito=versione#documento-{}-v{}",
            v.data.document, v.data.version
        )),
        Err(e) => {
            let e = match e {
                WebError::Service(e) => e,
                WebError::Unprocessable { code, message }
                | WebError::BadRequest { code, message } => ServiceError::Invalid { code, message },
                e => return e.into_response(),
            };
            crate::backoffice::refused(&state, &t, &auth, rid.0, e).await
        }
    }
}

/// Handles `GET /backoffice/protocollo/{id}/documenti/{n}/versioni/{v}`.
async fn page_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n, v)): Path<(String, String, String)>,
) -> Response {
    let (Ok((rid, n)), Ok(v)) = (ids(&id, &n), v.parse::<u32>()) else {
        return WebError::NotFound.into_response();
    };
    match state
        .app()
        .document_version_file(t.id, &auth.actor, rid, n, v)
        .await
    {
        Ok((file, bytes)) => file_response(&file, bytes),
        Err(e) => needs(&entry_path(&id), e),
    }
}

/// Handles `GET /backoffice/protocollo/{id}/documenti/{n}/metadati.xml`.
async fn page_metadata(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n)): Path<(String, String)>,
    q: Result<Query<VersionQuery>, QueryRejection>,
) -> Response {
    let Ok((rid, n)) = ids(&id, &n) else {
        return WebError::NotFound.into_response();
    };
    let version = match version_of(q) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    match state
        .app()
        .documento_amministrativo(t.id, &auth.actor, rid, n, version)
        .await
    {
        Ok(m) => metadata_response(m),
        Err(e) => needs(&entry_path(&id), e),
    }
}

// --------------------------------------------------------------- JSON API

/// Handles `GET /api/v1/protocollo/voci/{id}/documenti/{n}/versioni`.
async fn api_list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n)): Path<(String, String)>,
) -> Result<axum::Json<Vec<VersionDto>>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let (id, n) = ids(&id, &n)?;
    let (reg, histories) = state.app().document_histories(t.id, &actor, id).await?;
    let h = histories
        .iter()
        .find(|h| h.index == n)
        .ok_or(WebError::NotFound)?;
    Ok(axum::Json(dtos(&reg, h)))
}

/// Handles `POST /api/v1/protocollo/voci/{id}/documenti/{n}/versioni`:
/// 201 with the new version.
async fn api_add(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    // Authorization before reading (and storing) anything.
    actor.require(Permission::RegisterProtocol)?;
    let (id, n) = ids(&id, &n)?;
    let mp = mp.map_err(|_| WebError::UnsupportedMediaType)?;
    let up = read_upload(&state, mp).await?;
    let v = add(&state, t.id, &actor, id, n, &up).await?;
    Ok((StatusCode::CREATED, axum::Json(VersionDto::from(&v))).into_response())
}

/// Handles `GET /api/v1/protocollo/voci/{id}/documenti/{n}/versioni/{v}`.
async fn api_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n, v)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let (id, n) = ids(&id, &n)?;
    let v: u32 = v.parse().map_err(|_| WebError::NotFound)?;
    let (file, bytes) = state
        .app()
        .document_version_file(t.id, &actor, id, n, v)
        .await?;
    Ok(file_response(&file, bytes))
}

/// Handles `GET /api/v1/protocollo/voci/{id}/documenti/{n}/metadati`.
async fn api_metadata(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n)): Path<(String, String)>,
    q: Result<Query<VersionQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let (id, n) = ids(&id, &n)?;
    let version = version_of(q)?;
    let m = state
        .app()
        .documento_amministrativo(t.id, &actor, id, n, version)
        .await?;
    Ok(metadata_response(m))
}
