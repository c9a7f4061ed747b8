//! The service cards of the catalogue through the API (issue 6, part 1),
//! for the comune's administrators ([`Permission::ManageCatalogue`]): the
//! same format as the `servizi` entries of the ente file (docs/ente-file.md)
//! — the card's fields with the responsible office named by slug in
//! `ufficio`:
//!
//! * `GET /api/v1/schede-servizio/{slug}`: one card, with its version in
//!   `ETag`;
//! * `POST /api/v1/schede-servizio`: a new card (201);
//! * `POST /api/v1/schede-servizio/{slug}`: replaces the card (its slug
//!   never changes); with `If-Match` (the `ETag` read), only if nobody
//!   changed it since (else 422 `service_card_changed`). An unchanged card
//!   writes nothing.
//!
//! A refused card is a 422 whose code is the first problem's and whose
//! message lists every problem; nothing is saved. The public reading of the
//! catalogue stays `GET /api/v1/servizi`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::import::ServiceEntry;
use palazzo_services::tenants::service_card_tag;
use palazzo_store::TenantId;
use palazzo_store::{OfficeId, Service};
use serde_json::Value;

use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    let admin = Access::Needs(Permission::ManageCatalogue);
    Routes::new()
        .get("/schede-servizio/{slug}", admin, card)
        .post("/schede-servizio", admin, create)
        .post("/schede-servizio/{slug}", admin, replace)
}

/// A stored card in the file format: the office by slug, no internal id.
async fn entry_of(state: &AppState, s: &Service) -> Result<ServiceEntry, ServiceError> {
    let snap = state.app().portal(s.tenant).await?;
    let mut scheda = s.data.clone();
    let ufficio = snap
        .office(scheda.office)
        .map(|o| o.data.slug.clone())
        .unwrap_or_default();
    scheda.office = OfficeId::default();
    Ok(ServiceEntry { ufficio, scheda })
}

/// The card's version as an `ETag` value.
fn etag(s: &Service) -> Result<HeaderValue, WebError> {
    let tag = service_card_tag(s)?;
    HeaderValue::from_str(&format!("\"{tag}\"")).map_err(|e| WebError::Internal(e.to_string()))
}

/// The card and its `ETag`.
async fn with_etag(
    state: &AppState,
    s: &Service,
    status: StatusCode,
) -> Result<Response, WebError> {
    let mut r = (status, Json(entry_of(state, s).await?)).into_response();
    r.headers_mut().insert(header::ETAG, etag(s)?);
    Ok(r)
}

/// Handles `GET /api/v1/schede-servizio/{slug}`.
async fn card(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageCatalogue)?;
    let snap = state.app().portal(t.id).await?;
    let s = snap.service(&slug).ok_or(WebError::NotFound)?;
    with_etag(&state, s, StatusCode::OK).await
}

/// The posted card, with every problem (the office included) in one 422.
async fn parsed(
    state: &AppState,
    tenant: TenantId,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<ServiceEntry, WebError> {
    let value = json_body(body)?;
    let entry: ServiceEntry = serde_json::from_value(value).map_err(|e| {
        WebError::unprocessable(
            "invalid_fields",
            format!("I campi della scheda non sono validi: {e}"),
        )
    })?;
    let problems = state
        .app()
        .service_card_entry_problems(tenant, &entry)
        .await?;
    if let Some(first) = problems.first() {
        let message = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("\n");
        tracing::info!(code = first.code, "service card refused");
        return Err(WebError::unprocessable(first.code, message));
    }
    Ok(entry)
}

/// Handles `POST /api/v1/schede-servizio`.
async fn create(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageCatalogue)?;
    let entry = parsed(&state, t.id, body).await?;
    let saved = state
        .app()
        .save_service_card(t.id, &actor, None, None, entry)
        .await?;
    with_etag(&state, &saved, StatusCode::CREATED).await
}

/// Handles `POST /api/v1/schede-servizio/{slug}`.
async fn replace(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageCatalogue)?;
    // Another comune's card, or none: 404 before the body is judged.
    state
        .app()
        .portal(t.id)
        .await?
        .service(&slug)
        .ok_or(WebError::NotFound)?;
    let seen = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .trim_start_matches("W/")
                .trim_matches('"')
                .to_owned()
        });
    let entry = parsed(&state, t.id, body).await?;
    let saved = state
        .app()
        .save_service_card(t.id, &actor, Some(&slug), seen.as_deref(), entry)
        .await?;
    with_etag(&state, &saved, StatusCode::OK).await
}
