//! The comune's PZ1 trust list, published for every verifier (issue 5,
//! part 4; DECISIONS 18):
//!
//! - `GET /.well-known/palazzo/trust-list`: the COSE-signed list of the
//!   seal keys with the period each one sealed in
//!   (`application/cose; cose-type="cose-sign1"`);
//! - `GET /.well-known/palazzo/trust-list-key`: the public key that signs
//!   it, as a PEM SubjectPublicKeyInfo, for verifiers to pin.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_seal::cose::SealSigner as _;

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
    // The first key is made on first use, so that the list is never empty.
    state.app().seal_signer(&t).await?;
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
    use base64::Engine as _;
    let signer = state.app().trust_list_signer(&t)?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(signer.spki_der());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    Ok(with_type(pem.into_bytes(), "application/x-pem-file"))
}
