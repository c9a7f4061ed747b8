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

/// Handles `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics().render();
    text.push_str("# HELP palazzo_portal_cached_pages Rendered pages in the HTML cache.\n");
    text.push_str("# TYPE palazzo_portal_cached_pages gauge\n");
    text.push_str(&format!(
        "palazzo_portal_cached_pages {}\n",
        state.pages().len()
    ));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
