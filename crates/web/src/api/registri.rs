//! The registri giornalieri di protocollo in the JSON API (PR-9,
//! docs/registro-giornaliero.md): the list, newest first, and the download
//! of each registro's PDF/A and XML. Part of the protocollo API (merged by
//! [`super::protocollo::router`]); callers authenticate with [`ApiAuth`].

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_store::RegistroGiornaliero;
use serde::{Deserialize, Serialize};

use super::protocollo::DocumentDto;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    let read = Access::Needs(Permission::ReadProtocol);
    Routes::new().get("/protocollo/registri", read, list).get(
        "/protocollo/registri/{code}/{formato}",
        read,
        file,
    )
}

/// A registro giornaliero.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegistroDto {
    /// Identifier `<IPA><AOO>-YYYYMMDD-NNN` (for the downloads).
    pub code: String,
    /// The Europe/Rome civil day it covers.
    pub day: Date,
    /// The protocol register (`CodiceRegistro`).
    pub register: String,
    /// Number in the repertorio of the year (the day of the year).
    pub repertorio_number: u32,
    /// First protocol number of the day, if any registration.
    pub first_number: Option<u64>,
    /// Last protocol number of the day.
    pub last_number: Option<u64>,
    /// Registrations of the day.
    pub registrations: u32,
    /// The entries of *Modifiche*: the changes of classification and office
    /// made that day and the annulments of earlier registrations.
    pub modifications: u32,
    /// New versions of documents made that day.
    pub document_versions: u32,
    /// Notices of annulment received from senders that day.
    pub annulment_notices: u32,
    /// The PDF/A.
    pub pdf: DocumentDto,
    /// The XML.
    pub xml: DocumentDto,
    /// Tree size of the ledger checkpoint printed in it.
    pub checkpoint_size: Option<u64>,
    /// Whether that checkpoint carries an RFC 3161 time-stamp token.
    pub timestamped: bool,
    /// When it was produced (RFC 3339, UTC).
    pub produced_at: Timestamp,
    /// Who produced it.
    pub produced_by: String,
    /// `pronto`, `inviato` or `conservato`.
    pub conservation_state: String,
    /// By when it must reach conservation (the next office working day).
    pub conservation_deadline: Date,
}

impl From<&RegistroGiornaliero> for RegistroDto {
    fn from(r: &RegistroGiornaliero) -> Self {
        let d = &r.data;
        RegistroDto {
            code: d.code.clone(),
            day: d.day,
            register: d.register.clone(),
            repertorio_number: d.repertorio_number,
            first_number: d.first_number,
            last_number: d.last_number,
            registrations: d.registrations,
            modifications: d.modifications,
            document_versions: d.document_versions,
            annulment_notices: d.annulment_notices,
            pdf: (&d.pdf).into(),
            xml: (&d.xml).into(),
            checkpoint_size: d.checkpoint_size,
            timestamped: d.timestamped,
            produced_at: d.produced_at,
            produced_by: d.produced_by.clone(),
            conservation_state: d.conservation_state.code().to_owned(),
            conservation_deadline: d.conservation_deadline,
        }
    }
}

/// Query of the list.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many (1–1000, default 100).
    pub limite: Option<u32>,
}

/// Handles `GET /api/v1/protocollo/registri`: the registri, newest first.
async fn list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RegistroDto>>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let Query(q) = q.map_err(|e| {
        WebError::bad_request(
            "invalid_query",
            format!("Parametri non validi: {}", e.body_text()),
        )
    })?;
    let rows = state
        .app()
        .registri_giornalieri(t.id, &actor, q.limite.unwrap_or(100))
        .await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// Handles `GET /api/v1/protocollo/registri/{code}/{formato}`: the PDF/A
/// (`pdf`) or the XML (`xml`) of a registro, checked against its frozen
/// fingerprint.
async fn file(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((code, formato)): Path<(String, String)>,
) -> Result<Response, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let pdf = crate::backoffice::registri::format_of(&formato).ok_or(WebError::NotFound)?;
    Ok(crate::backoffice::registri::file_response(&state, t.id, &actor, &code, pdf).await?)
}
