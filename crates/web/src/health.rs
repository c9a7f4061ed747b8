//! Probes and metrics: `/healthz` (the process answers), `/readyz` (the
//! store answers too), `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_store::Store as _;

use crate::AppState;

/// Handles `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Handles `GET /readyz`: 200 when the database answers, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.app().db().ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness probe: database unreachable");
            // A plain body: probes read the status, and this must not be
            // turned into a portal page by the error middleware.
            let mut res = (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
            res.extensions_mut().insert(crate::portal::FullPage);
            res
        }
    }
}

/// Handles `GET /metrics`. Operational data is not for the public: only
/// clients on the machine itself or on a private network (the Prometheus
/// scraper) get it; everyone else gets the ordinary 404.
pub async fn metrics(
    State(state): State<AppState>,
    crate::portal::rating::PeerAddr(peer): crate::portal::rating::PeerAddr,
) -> Response {
    if !peer.is_some_and(is_internal) {
        return crate::error::WebError::NotFound.into_response();
    }
    let mut text = state.metrics().render();
    text.push_str("# HELP palazzo_portal_cached_pages Rendered pages in the HTML cache.\n");
    text.push_str("# TYPE palazzo_portal_cached_pages gauge\n");
    text.push_str(&format!(
        "palazzo_portal_cached_pages {}\n",
        state.pages().len()
    ));
    text.push_str(&state.app().mail_metrics());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// Loopback, private (RFC 1918), unique-local and link-local addresses.
pub fn is_internal(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod internal_tests {
    use super::is_internal;

    #[test]
    fn only_internal_addresses_see_metrics() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.5.5",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
