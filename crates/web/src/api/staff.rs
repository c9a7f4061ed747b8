//! Who calls the staff part of the JSON API (issue 4, part 8).
//!
//! [`ApiAuth`] resolves the actor of a call to `/api/v1`:
//!
//! * `Authorization: Bearer pzk_…` — a personal API key
//!   ([`palazzo_services::api_tokens`]), for programs. A header that is not a
//!   live key of *this* comune is refused at once with 401 and
//!   `WWW-Authenticate: Bearer`.
//! * otherwise the session cookie, for the back office's own pages. No CSRF
//!   token is needed: these routes read JSON bodies (`application/json`,
//!   which a cross-site form cannot send without a CORS preflight that we
//!   never grant) or uploads, the session cookie is `SameSite=Lax` (not sent
//!   on cross-site POSTs) and the Origin check refuses foreign writes.
//! * neither: the anonymous actor, whom the services answer with 401.
//!
//! The permission itself is checked by the service each handler calls.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use palazzo_services::ServiceError;
use palazzo_services::access::Actor;

use crate::AppState;
use crate::auth::{cookie, session_cookie_name};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;

/// The actor of an API call (see the module docs).
#[derive(Debug, Clone)]
pub struct ApiAuth(pub Actor);

/// A 401 that tells the client to use a bearer token.
pub fn unauthenticated() -> Response {
    let mut r = WebError::Service(ServiceError::Unauthenticated).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"palazzo\""),
    );
    r
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(CurrentTenant(t)) = parts.extensions.get::<CurrentTenant>().cloned() else {
            return Err(WebError::NoTenant.into_response());
        };
        let app = state.app();
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let token = h
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let Some(token) = token else {
                return Err(unauthenticated());
            };
            return match app.api_actor(t.id, token).await {
                Ok(actor) => Ok(ApiAuth(actor)),
                Err(ServiceError::Unauthenticated) => {
                    tracing::info!(code = "api_token_refused", "API key refused");
                    Err(unauthenticated())
                }
                Err(e) => Err(WebError::from(e).into_response()),
            };
        }
        let session = match cookie(&parts.headers, session_cookie_name(state)) {
            Some(token) => app
                .load_session(t.id, token)
                .await
                .map_err(|e| WebError::from(e).into_response())?,
            None => None,
        };
        let actor = app
            .actor(session.as_ref())
            .await
            .map_err(|e| WebError::from(e).into_response())?;
        Ok(ApiAuth(actor))
    }
}
