//! The content of signed `.p7m` documents, for display (issue 4 part 2: "a
//! signed `.p7m` keeps its envelope and its content is extracted for
//! display"; docs/documents.md, "Signed content").
//!
//! - `GET /backoffice/protocollo/{id}/documenti/{n}/contenuto` and
//!   `GET /api/v1/protocollo/voci/{id}/documenti/{n}/contenuto`: the content
//!   signed in document `n` (0 the primary, then the attachments) as
//!   registered;
//! - `…/documenti/{n}/versioni/{v}/contenuto`: the same for version `v`.
//!
//! The innermost content is served (nested envelopes unwrapped) with the
//! type detected from it against the upload allow-list
//! ([`palazzo_services::documents::signed_content`]). Only what a browser
//! shows without running anything is inline: PDF, PNG and JPEG with their
//! type, XML, CSV and plain text as `text/plain` (shown as text, never
//! interpreted); every other type is an attachment. `nosniff` and the
//! project's CSP come with every response (the security middleware), and
//! nothing is cached. The envelope stays the registered original: it is
//! downloaded as before and its impronta does not change. Access is the
//! document's ([`palazzo_services::App::signed_content`]).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::documents::Kind;
use palazzo_services::versioni::SignedContent;
use palazzo_store::{RegistrationId, TenantId};

use crate::AppState;
use crate::api::staff::ApiAuth;
use crate::auth::Auth;
use crate::auth::pages::needs;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};
use crate::upload::attachment;

/// The back-office routes.
pub fn backoffice_router() -> Routes {
    let read = Access::Needs(Permission::ReadProtocol);
    Routes::new()
        .get(
            "/backoffice/protocollo/{id}/documenti/{n}/contenuto",
            read,
            page_original,
        )
        .get(
            "/backoffice/protocollo/{id}/documenti/{n}/versioni/{v}/contenuto",
            read,
            page_version,
        )
}

/// The API routes, relative to `/api/v1`.
pub fn api_router() -> Routes {
    let read = Access::Needs(Permission::ReadProtocol);
    Routes::new()
        .get(
            "/protocollo/voci/{id}/documenti/{n}/contenuto",
            read,
            api_original,
        )
        .get(
            "/protocollo/voci/{id}/documenti/{n}/versioni/{v}/contenuto",
            read,
            api_version,
        )
}

/// The link to the signed content of version `version` of document `n`.
pub(crate) fn page_link(id: i64, n: u32, version: u32) -> String {
    if version == 1 {
        format!("/backoffice/protocollo/{id}/documenti/{n}/contenuto")
    } else {
        format!("/backoffice/protocollo/{id}/documenti/{n}/versioni/{version}/contenuto")
    }
}

/// `Content-Type` and whether a browser may show it inline: only types it
/// renders without running anything; XML, CSV and text are shown as plain
/// text (an XML document can carry XHTML script).
fn presentation(kind: Kind, media_type: &str) -> (String, bool) {
    match kind {
        Kind::Pdf | Kind::Png | Kind::Jpeg => (media_type.to_owned(), true),
        Kind::Xml | Kind::Csv | Kind::Text => ("text/plain; charset=utf-8".to_owned(), true),
        Kind::Tiff | Kind::Odf | Kind::Ooxml | Kind::Eml | Kind::P7m => {
            (media_type.to_owned(), false)
        }
    }
}

/// `inline; filename=…` with the same encoding as [`attachment`].
fn inline(name: &str) -> HeaderValue {
    let a = attachment(name);
    a.to_str()
        .ok()
        .and_then(|s| s.strip_prefix("attachment"))
        .and_then(|rest| HeaderValue::from_str(&format!("inline{rest}")).ok())
        .unwrap_or_else(|| HeaderValue::from_static("inline"))
}

/// The response carrying the signed content. Headers name what it is: the
/// detected type (`X-Palazzo-Tipo-Rilevato`, also when shown as text), and
/// the envelope's impronta (`X-Palazzo-Impronta-Busta`).
fn content_response(c: SignedContent) -> Response {
    let (content_type, show_inline) = presentation(c.detected.kind, &c.detected.media_type);
    let disposition = if show_inline {
        inline(&c.name)
    } else {
        attachment(&c.name)
    };
    let mut res = (StatusCode::OK, c.content).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_DISPOSITION, disposition);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&c.detected.media_type) {
        h.insert("x-palazzo-tipo-rilevato", v);
    }
    if let Ok(v) = HeaderValue::from_str(&c.envelope.sha256.hex()) {
        h.insert("x-palazzo-impronta-busta", v);
    }
    res
}

/// The registration, document and version of a path; anything that is not
/// a number is a page that does not exist.
fn ids(id: &str, n: &str, v: Option<&str>) -> Result<(RegistrationId, u32, u32), WebError> {
    let id = id.parse().map_err(|_| WebError::NotFound)?;
    let n = n.parse().map_err(|_| WebError::NotFound)?;
    let v = v
        .map_or(Ok(1), str::parse)
        .map_err(|_| WebError::NotFound)?;
    Ok((RegistrationId(id), n, v))
}

async fn page(
    state: &AppState,
    t: TenantId,
    auth: &Auth,
    id: &str,
    n: &str,
    v: Option<&str>,
) -> Response {
    let Ok((rid, n, v)) = ids(id, n, v) else {
        return WebError::NotFound.into_response();
    };
    match state.app().signed_content(t, &auth.actor, rid, n, v).await {
        Ok(c) => content_response(c),
        Err(e) => needs(&format!("/backoffice/protocollo/{}", rid.0), e),
    }
}

/// Handles `GET /backoffice/protocollo/{id}/documenti/{n}/contenuto`.
async fn page_original(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    page(&state, t.id, &auth, &id, &n, None).await
}

/// Handles `GET /backoffice/protocollo/{id}/documenti/{n}/versioni/{v}/contenuto`.
async fn page_version(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, n, v)): Path<(String, String, String)>,
) -> Response {
    page(&state, t.id, &auth, &id, &n, Some(&v)).await
}

async fn api(
    state: &AppState,
    t: TenantId,
    actor: &palazzo_services::access::Actor,
    id: &str,
    n: &str,
    v: Option<&str>,
) -> Result<Response, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let (rid, n, v) = ids(id, n, v)?;
    let c = state.app().signed_content(t, actor, rid, n, v).await?;
    Ok(content_response(c))
}

/// Handles `GET /api/v1/protocollo/voci/{id}/documenti/{n}/contenuto`.
async fn api_original(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, WebError> {
    api(&state, t.id, &actor, &id, &n, None).await
}

/// Handles `GET /api/v1/protocollo/voci/{id}/documenti/{n}/versioni/{v}/contenuto`.
async fn api_version(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n, v)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    api(&state, t.id, &actor, &id, &n, Some(&v)).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_renderable_types_are_inline() {
        assert_eq!(
            presentation(Kind::Pdf, "application/pdf"),
            ("application/pdf".to_owned(), true)
        );
        assert_eq!(
            presentation(Kind::Xml, "application/xml"),
            ("text/plain; charset=utf-8".to_owned(), true)
        );
        assert!(!presentation(Kind::Odf, "application/vnd.oasis.opendocument.text").1);
        assert!(!presentation(Kind::Eml, "message/rfc822").1);
        assert!(!presentation(Kind::Tiff, "image/tiff").1);
        assert_eq!(
            inline("atto è.pdf").to_str().unwrap(),
            attachment("atto è.pdf")
                .to_str()
                .unwrap()
                .replacen("attachment", "inline", 1)
        );
    }
}
