//! Tenant resolution: the `Host` header names the ente
//! (`App::tenant_for_host`, with the default tenant for unknown hosts). The
//! middleware stores a [`CurrentTenant`] in the request extensions and
//! records it in the request span; handlers take it as an extractor.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use palazzo_store::Tenant;

use crate::AppState;
use crate::error::WebError;

/// The ente this request is for.
#[derive(Debug, Clone)]
pub struct CurrentTenant(pub Arc<Tenant>);

impl std::ops::Deref for CurrentTenant {
    type Target = Tenant;
    fn deref(&self) -> &Tenant {
        &self.0
    }
}

/// The `Host` of a request (HTTP/1.1 header, or the URI authority).
pub fn request_host(
    parts_uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts_uri.authority().map(|a| a.as_str().to_owned()))
}

/// The middleware: never fails (health probes have no tenant to speak of);
/// handlers that need a tenant fail with 404 through the extractor.
pub async fn resolve_tenant(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let host = request_host(req.uri(), req.headers()).unwrap_or_default();
    if let Some(tenant) = state.app().tenant_for_host(&host) {
        tracing::Span::current().record("tenant", tenant.data.slug.as_str());
        req.extensions_mut().insert(CurrentTenant(tenant));
    }
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentTenant {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentTenant>()
            .cloned()
            .ok_or(WebError::NoTenant)
    }
}
