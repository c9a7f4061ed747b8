//! The classification policy and the entries "da classificare" in the JSON
//! API (issue 4, TI-2; see `palazzo_services::classificazione`):
//!
//! - `GET /api/v1/protocollo/da-classificare`: the entries of the general
//!   register without a class, the most urgent first, with the deadline;
//! - `GET /api/v1/protocollo/politica`: the policy in force (any staff);
//! - `POST /api/v1/protocollo/politica`: sets it (whoever keeps the
//!   titolario).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_store::ProtocolPolicy;
use serde::{Deserialize, Serialize};

use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// How many pending entries one call returns at most.
const LIMIT: u32 = 1000;

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    Routes::new()
        .get("/protocollo/da-classificare", read, pending)
        // Any staff member may read the comune's policy, as on the
        // titolario page (its keeper need not read the register).
        .get(
            "/protocollo/politica",
            Needs(Permission::BackOffice),
            policy,
        )
        .post(
            "/protocollo/politica",
            Needs(Permission::ManageTitolario),
            set_policy,
        )
}

/// An entry still "da classificare".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingDto {
    /// Registration id.
    pub id: i64,
    /// Register year.
    pub year: i16,
    /// Number, seven digits or more.
    pub number: String,
    /// Registration time (RFC 3339, UTC).
    pub registered_at: Timestamp,
    /// Oggetto.
    pub subject: String,
    /// The last day to classify it (Europe/Rome civil date).
    pub deadline: Date,
    /// The deadline has passed.
    pub overdue: bool,
}

/// The classification policy (TI-2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyDto {
    /// A registration without a class is refused.
    pub classification_mandatory: bool,
    /// Working days from the registration date to classify an entry.
    pub classify_within_days: u16,
    /// When it was last set (`null`: the default, never set).
    pub updated_at: Option<Timestamp>,
    /// By whom.
    pub updated_by: Option<String>,
}

impl From<ProtocolPolicy> for PolicyDto {
    fn from(p: ProtocolPolicy) -> Self {
        PolicyDto {
            classification_mandatory: p.classification_mandatory,
            classify_within_days: p.classify_within_days,
            updated_at: p.updated_at,
            updated_by: p.updated_by,
        }
    }
}

/// A new policy: both fields are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// A registration without a class is refused.
    pub classification_mandatory: bool,
    /// Working days to classify an entry (1–60).
    pub classify_within_days: u16,
}

/// Handles `GET /api/v1/protocollo/da-classificare`.
async fn pending(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<PendingDto>>, WebError> {
    let rows = state
        .app()
        .unclassified_protocol(t.id, &actor, LIMIT)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|u| PendingDto {
                id: u.registration.id.0,
                year: u.registration.year,
                number: u.registration.number.to_string(),
                registered_at: u.registration.registered_at,
                subject: u.registration.data.subject,
                deadline: u.deadline,
                overdue: u.overdue,
            })
            .collect(),
    ))
}

/// Handles `GET /api/v1/protocollo/politica`.
async fn policy(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<PolicyDto>, WebError> {
    Ok(Json(
        state.app().protocol_policy(t.id, &actor).await?.into(),
    ))
}

/// Handles `POST /api/v1/protocollo/politica`.
async fn set_policy(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<PolicyBody>, JsonRejection>,
) -> Result<Json<PolicyDto>, WebError> {
    actor.require(Permission::ManageTitolario)?;
    let b = json_body(body)?;
    let p = state
        .app()
        .set_protocol_policy(
            t.id,
            &actor,
            b.classification_mandatory,
            b.classify_within_days,
        )
        .await?;
    Ok(Json(p.into()))
}
