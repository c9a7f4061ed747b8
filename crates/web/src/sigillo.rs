//! The comune's PZ1 trust list, published for every verifier (issue 5,
//! part 4; DECISIONS 18):
//!
//! - `GET /.well-known/palazzo/trust-list`: the COSE-signed list of the
//!   seal keys with the period each one sealed in
//!   (`application/cose; cose-type="cose-sign1"`);
//! - `GET /.well-known/palazzo/trust-list-key`: the public key that signs
//!   it, as a PEM SubjectPublicKeyInfo, for verifiers to pin;
//! - `GET /.well-known/palazzo/status-list/{n}`: the revocations of the
//!   certificates issued in year `n`, a Status List Token (CWT) signed with
//!   the same key (`application/statuslist+cwt`).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes of this module (public: verification is for everyone,
/// CAD art. 23 c. 2-bis).
pub fn router() -> Routes {
    Routes::new()
        .get(
            "/.well-known/palazzo/trust-list",
            Access::Public,
            trust_list,
        )
        .get(
            "/.well-known/palazzo/trust-list-key",
            Access::Public,
            trust_list_key,
        )
        .get(
            "/.well-known/palazzo/status-list/{n}",
            Access::Public,
            status_list,
        )
}

fn with_type(body: Vec<u8>, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

/// Handles `GET /.well-known/palazzo/trust-list`.
async fn trust_list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
) -> Result<Response, WebError> {
    let bytes = state.app().trust_list(&t).await?;
    Ok(with_type(
        bytes,
        "application/cose; cose-type=\"cose-sign1\"",
    ))
}

/// Handles `GET /.well-known/palazzo/trust-list-key`.
async fn trust_list_key(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
) -> Result<Response, WebError> {
    let pem = state.app().trust_list_key_pem(&t)?;
    Ok(with_type(pem.into_bytes(), "application/x-pem-file"))
}

/// Handles `GET /.well-known/palazzo/status-list/{n}`; a list that is not
/// a year is 404.
async fn status_list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    axum::extract::Path(n): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let n: i64 = n.parse().map_err(|_| WebError::NotFound)?;
    let base = palazzo_services::rilascio::base_url(&t, state.config().behind_tls);
    let bytes = state.app().status_list(&t, n, &base).await?;
    let mut res = with_type(bytes, "application/statuslist+cwt");
    // Revocations must reach verifiers quickly: a short cache (the
    // token's own ttl is an hour).
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
