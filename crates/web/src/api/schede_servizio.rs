//! The service cards of the catalogue through the API (issue 6, part 1),
//! for the comune's administrators ([`Permission::ManageCatalogue`]): the
//! same format as the `servizi` entries of the ente file (docs/ente-file.md)
//! — the card's fields with the responsible office named by slug in
//! `ufficio`:
//!
//! * `GET /api/v1/schede-servizio/{slug}`: one card;
//! * `POST /api/v1/schede-servizio`: a new card (201);
//! * `POST /api/v1/schede-servizio/{slug}`: replaces the card (its slug
//!   never changes). An unchanged card writes nothing.
//!
//! A refused card is a 422 whose code is the first problem's and whose
//! message lists every problem; nothing is saved. The public reading of the
//! catalogue stays `GET /api/v1/servizi`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::import::ServiceEntry;
use palazzo_services::tenants::service_card_problems;
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

/// Handles `GET /api/v1/schede-servizio/{slug}`.
async fn card(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(slug): Path<String>,
) -> Result<Json<ServiceEntry>, WebError> {
    actor.require(Permission::ManageCatalogue)?;
    let snap = state.app().portal(t.id).await?;
    let s = snap.service(&slug).ok_or(WebError::NotFound)?;
    Ok(Json(entry_of(&state, s).await?))
}

/// The posted card, with every problem in one 422.
fn parsed(body: Result<Json<Value>, JsonRejection>) -> Result<ServiceEntry, WebError> {
    let value = json_body(body)?;
    let entry: ServiceEntry = serde_json::from_value(value).map_err(|e| {
        WebError::unprocessable(
            "invalid_fields",
            format!("I campi della scheda non sono validi: {e}"),
        )
    })?;
    let problems = service_card_problems(&entry.scheda);
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
    let entry = parsed(body)?;
    let saved = state
        .app()
        .save_service_card(t.id, &actor, None, entry)
        .await?;
    Ok((StatusCode::CREATED, Json(entry_of(&state, &saved).await?)).into_response())
}

/// Handles `POST /api/v1/schede-servizio/{slug}`.
async fn replace(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(slug): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<ServiceEntry>, WebError> {
    actor.require(Permission::ManageCatalogue)?;
    // Another comune's card, or none: 404 before the body is judged.
    state
        .app()
        .portal(t.id)
        .await?
        .service(&slug)
        .ok_or(WebError::NotFound)?;
    let entry = parsed(body)?;
    let saved = state
        .app()
        .save_service_card(t.id, &actor, Some(&slug), entry)
        .await?;
    Ok(Json(entry_of(&state, &saved).await?))
}
