//! Same-origin check of state-changing requests (everything but GET, HEAD,
//! OPTIONS), our CSRF defence for forms that must work without JavaScript
//! and without a session.
//!
//! Choice: modern browsers send `Sec-Fetch-Site` on every request and
//! `Origin` on every POST, and scripts cannot forge either. So:
//! * `Sec-Fetch-Site: same-origin` (or `none`: typed by the user) passes;
//!   `same-site` and `cross-site` are refused — a sibling sub-domain of the
//!   comune is another application and must not post here;
//! * without `Sec-Fetch-Site`, an `Origin` header must name this host
//!   (`Origin: null`, from sandboxed frames and some redirects, is refused);
//! * with neither header the client is not a browser (curl, a server, an
//!   integration), which cannot be driven by a third-party page: it passes.
//!   Such clients are kept in check by the anti-flood measures of each
//!   endpoint (signed form tickets, rate limits).
//!
//! The JSON API additionally requires `Content-Type: application/json`,
//! which a cross-origin page can only send after a CORS preflight that we
//! never grant.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;
use crate::middleware::tenant::request_host;

/// Whether a request with these headers may change state.
pub fn allowed(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(
            site.trim().to_ascii_lowercase().as_str(),
            "same-origin" | "none"
        );
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(authority) = origin.split_once("://").map(|(_, rest)| rest) else {
        return false;
    };
    let Some(host) = request_host(uri, headers) else {
        return false;
    };
    authority.eq_ignore_ascii_case(host.trim())
}

/// The middleware.
pub async fn same_origin_writes(req: Request, next: Next) -> Response {
    if allowed(req.method(), req.uri(), req.headers()) {
        next.run(req).await
    } else {
        tracing::warn!(
            code = "cross_origin_write",
            "state-changing request from another site refused"
        );
        WebError::forbidden(
            "cross_origin_write",
            "La richiesta proviene da un altro sito e non può essere accettata.",
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Uri};

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(
            header::HOST,
            HeaderValue::from_static("comune.casamassima.ba.it"),
        );
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn decides_by_fetch_metadata_then_origin() {
        let u = Uri::from_static("/valutazioni");
        let post = Method::POST;
        assert!(allowed(
            &Method::GET,
            &u,
            &h(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(allowed(&post, &u, &h(&[("sec-fetch-site", "same-origin")])));
        assert!(!allowed(&post, &u, &h(&[("sec-fetch-site", "cross-site")])));
        assert!(!allowed(&post, &u, &h(&[("sec-fetch-site", "same-site")])));
        assert!(allowed(
            &post,
            &u,
            &h(&[("origin", "https://comune.casamassima.ba.it")])
        ));
        assert!(!allowed(
            &post,
            &u,
            &h(&[("origin", "https://evil.example")])
        ));
        assert!(!allowed(&post, &u, &h(&[("origin", "null")])));
        assert!(allowed(&post, &u, &h(&[])));
    }
}
