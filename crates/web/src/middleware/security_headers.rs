//! Security headers on every response.
//!
//! The Content-Security-Policy allows no inline script or style: every
//! script and stylesheet comes from our own origin (the embedded assets), and
//! JSON-LD blocks are data, not script, so they need no exception. Fonts may
//! also come from `data:` URLs: the Bootstrap Italia stylesheet embeds the
//! video.js icon font that way, and blocking it only fills the browser
//! console with errors (which Lighthouse counts against the site). A handler
//! may set a stricter CSP of its own (the tenant's SVG logo does); it is kept.
//! HSTS is sent only when the service is reached over HTTPS.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// The Content-Security-Policy of every page.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// `Permissions-Policy`: the portal needs none of these features.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), \
magnetometer=(), microphone=(), payment=(), usb=()";

/// The precomputed header set.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    always: Vec<(HeaderName, HeaderValue)>,
    csp: HeaderValue,
}

impl SecurityHeaders {
    /// The set for this deployment.
    pub fn new(behind_tls: bool) -> Self {
        let mut always = vec![
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static(PERMISSIONS_POLICY),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
        ];
        if behind_tls {
            always.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            ));
        }
        SecurityHeaders {
            always,
            csp: HeaderValue::from_static(CSP),
        }
    }

    /// Adds the headers to a response (a CSP already set is kept).
    pub fn apply(&self, res: &mut Response) {
        let h = res.headers_mut();
        for (name, value) in &self.always {
            h.insert(name.clone(), value.clone());
        }
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        }
    }
}

/// The middleware.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    state.security_headers().apply(&mut res);
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn headers_present_and_hsts_only_over_tls() {
        let mut res = "x".into_response();
        SecurityHeaders::new(false).apply(&mut res);
        let h = res.headers();
        assert_eq!(
            h.get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok()),
            Some(CSP)
        );
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS)
                .and_then(|v| v.to_str().ok()),
            Some("nosniff")
        );
        assert_eq!(
            h.get(header::X_FRAME_OPTIONS).and_then(|v| v.to_str().ok()),
            Some("DENY")
        );
        assert_eq!(
            h.get(header::REFERRER_POLICY).and_then(|v| v.to_str().ok()),
            Some("strict-origin-when-cross-origin")
        );
        assert!(h.contains_key("permissions-policy"));
        assert!(!h.contains_key(header::STRICT_TRANSPORT_SECURITY));
        assert!(!CSP.contains("unsafe-inline"));

        let mut res = "x".into_response();
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox"),
        );
        SecurityHeaders::new(true).apply(&mut res);
        assert!(
            res.headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
        assert_eq!(
            res.headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .and_then(|v| v.to_str().ok()),
            Some("sandbox")
        );
    }
}
