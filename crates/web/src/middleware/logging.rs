//! Structured request logging with `tracing`: one span per request (method,
//! route template, request id, tenant once known) and one event when the
//! response is ready (status, latency). Never logged: headers (cookies,
//! authorization), query strings (search terms) and bodies.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::request_id::RequestId;

/// The middleware.
pub async fn log_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    // Bounded: an unknown route may carry an arbitrarily long path.
    let path: String = req.uri().path().chars().take(200).collect();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.as_str().to_owned())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "http.request",
        method = %method,
        route = %route,
        request_id = %request_id,
        tenant = tracing::field::Empty,
    );
    let res = next.run(req).instrument(span.clone()).await;
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _enter = span.enter();
    // Static files and probes are frequent and boring: log them at debug.
    let quiet = route.starts_with("/static/")
        || matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics");
    if status >= 500 {
        tracing::error!(status, latency_ms, path = %path, "request completed");
    } else if quiet {
        tracing::debug!(status, latency_ms, path = %path, "request completed");
    } else {
        tracing::info!(status, latency_ms, path = %path, "request completed");
    }
    res
}
