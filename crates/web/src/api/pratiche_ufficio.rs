//! The office's work on a pratica in the JSON API (issue 6, part 4; see
//! `palazzo_services::pratiche::ufficio`): naming the responsabile del
//! procedimento, the transfer to another office per competenza, internal
//! opinions asked of another office and their answers, and the messages
//! between the applicant and the office.
//!
//! Each POST is one step of the pratica's history and one ledger event
//! (`pratica.evento`). A stale state answers 409 `pratica_stato_cambiato`;
//! bad input 422 with its code; another office's pratica 404. Files go
//! with messages and opinions on the web pages (multipart); the API takes
//! the text.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_services::pratiche::{
    EsitoParere, MessageInput, ParereAnswer, ParereInterno, ParereRequest,
};
use palazzo_store::{PraticaId, UserId};
use serde::{Deserialize, Serialize};

use super::istanze::{act_error, hidden, id_of, pratica_dto};
use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes (under `/api/v1`).
pub fn router() -> Routes {
    use Access::Needs;
    let citizen = Needs(Permission::OwnProfile);
    let office = Needs(Permission::WorkOfficeCases);
    Routes::new()
        .post("/pratiche/{id}/messaggi", citizen, my_message)
        .post("/backoffice/pratiche/{id}/assegnazione", office, assign)
        .post("/backoffice/pratiche/{id}/trasferimento", office, transfer)
        .post("/backoffice/pratiche/{id}/pareri", office, ask_parere)
        .post(
            "/backoffice/pratiche/{id}/pareri/{seq}/risposta",
            office,
            answer_parere,
        )
        .post("/backoffice/pratiche/{id}/messaggi", office, office_message)
        .get("/uffici/{office}/pareri", office, office_pareri)
}

/// An internal opinion asked of an office.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ParereDto {
    /// The pratica.
    pub pratica: i64,
    /// The pratica's subject.
    pub oggetto: String,
    /// The request's step (for `…/pareri/{seq}/risposta`).
    pub seq: u32,
    /// The office asked (id).
    pub ufficio: i64,
    /// The office asking (id).
    pub ufficio_richiedente: i64,
    /// What is asked.
    pub testo: String,
    /// When.
    pub richiesto_il: Date,
    /// Due date (art. 16 c.1: 20 days unless given).
    pub scadenza: Date,
    /// Pending past its due date.
    pub scaduto: bool,
    /// The outcome, when given (`favorevole`, `favorevole_con_prescrizioni`,
    /// `contrario`).
    pub esito: Option<String>,
    /// The answer's text.
    pub risposta: Option<String>,
    /// When it was given.
    pub reso_il: Option<Date>,
}

impl From<&ParereInterno> for ParereDto {
    fn from(r: &ParereInterno) -> Self {
        ParereDto {
            pratica: r.pratica.0,
            oggetto: r.oggetto.clone(),
            seq: r.seq,
            ufficio: r.ufficio.0,
            ufficio_richiedente: r.ufficio_richiedente.0,
            testo: r.testo.clone(),
            richiesto_il: r.richiesto_il,
            scadenza: r.scadenza,
            scaduto: r.scaduto,
            esito: r.risposta.as_ref().map(|a| a.esito.code().to_owned()),
            risposta: r.risposta.as_ref().map(|a| a.testo.clone()),
            reso_il: r.risposta.as_ref().map(|a| a.il),
        }
    }
}

/// `POST /backoffice/pratiche/{id}/assegnazione`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The user id of the member of the office named.
    pub responsabile: i64,
    /// The state the caller saw.
    pub stato_atteso: String,
}

/// `POST /backoffice/pratiche/{id}/trasferimento`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The slug of the office it goes to.
    pub ufficio: String,
    /// Why (required).
    pub motivo: String,
    /// The state the caller saw.
    pub stato_atteso: String,
}

/// `POST /backoffice/pratiche/{id}/pareri`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParereBody {
    /// The slug of the office asked.
    pub ufficio: String,
    /// What is asked.
    pub testo: String,
    /// Days given (default 20, art. 16 c.1 L. 241/1990).
    #[serde(default)]
    pub giorni: Option<u32>,
}

/// `POST /backoffice/pratiche/{id}/pareri/{seq}/risposta`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RispostaBody {
    /// `favorevole`, `favorevole_con_prescrizioni` or `contrario`.
    pub esito: String,
    /// The reasons or prescriptions.
    pub testo: String,
}

/// `POST /pratiche/{id}/messaggi` and `POST /backoffice/pratiche/{id}/messaggi`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessaggioBody {
    /// The text.
    pub testo: String,
    /// Staff only: `false` for an internal note the applicant never sees
    /// (default `true`).
    #[serde(default)]
    pub pubblico: Option<bool>,
}

async fn office_of(
    state: &AppState,
    t: &palazzo_store::Tenant,
    slug: &str,
) -> Result<palazzo_store::OfficeId, WebError> {
    state
        .app()
        .portal(t.id)
        .await?
        .office_by_slug(slug.trim())
        .map(|o| o.id)
        .ok_or_else(|| {
            WebError::unprocessable(
                "pratica_ufficio_sconosciuto",
                format!("L'ufficio «{}» non esiste.", slug.trim()),
            )
        })
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/assegnazione`: names
/// the responsabile del procedimento. 200 with the pratica.
async fn assign(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let b = json_body(body)?;
    let app = state.app();
    app.office_pratica(t.id, &actor, id).await.map_err(hidden)?;
    Ok(
        match app
            .assign_pratica(
                t.id,
                &actor,
                id,
                UserId(b.responsabile),
                b.stato_atteso.trim(),
            )
            .await
        {
            Ok(v) => Json(pratica_dto(&v, true)).into_response(),
            Err(e) => act_error(e),
        },
    )
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/trasferimento`: hands
/// the pratica to another office per competenza. 200 with the pratica.
async fn transfer(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<TransferBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let b = json_body(body)?;
    let app = state.app();
    app.office_pratica(t.id, &actor, id).await.map_err(hidden)?;
    let office = office_of(&state, &t, &b.ufficio).await?;
    Ok(
        match app
            .transfer_pratica(t.id, &actor, id, office, &b.motivo, b.stato_atteso.trim())
            .await
        {
            Ok(v) => Json(pratica_dto(&v, true)).into_response(),
            Err(e) => act_error(e),
        },
    )
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/pareri`: asks another
/// office for an internal opinion. 200 with the pratica.
async fn ask_parere(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<ParereBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let b = json_body(body)?;
    let app = state.app();
    app.office_pratica(t.id, &actor, id).await.map_err(hidden)?;
    let office = office_of(&state, &t, &b.ufficio).await?;
    let req = ParereRequest {
        office,
        text: b.testo,
        days: b.giorni,
    };
    Ok(match app.request_parere(t.id, &actor, id, req).await {
        Ok(v) => Json(pratica_dto(&v, true)).into_response(),
        Err(e) => act_error(e),
    })
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/pareri/{seq}/risposta`:
/// the answer of the office asked. 200 with the opinion.
async fn answer_parere(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, seq)): Path<(String, String)>,
    body: Result<Json<RispostaBody>, JsonRejection>,
) -> Result<Json<ParereDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let seq = u32::try_from(id_of(&seq)?).map_err(|_| WebError::NotFound)?;
    let b = json_body(body)?;
    let app = state.app();
    app.parere_for_office(t.id, &actor, id, seq)
        .await
        .map_err(hidden)?;
    let answer = ParereAnswer {
        esito: EsitoParere::parse(b.esito.trim())?,
        text: b.testo,
        file: None,
    };
    let r = app.answer_parere(t.id, &actor, id, seq, answer).await?;
    Ok(Json(ParereDto::from(&r)))
}

/// Handles `GET /api/v1/uffici/{office}/pareri`: the internal opinions
/// asked of an office, pending first.
async fn office_pareri(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
) -> Result<Json<Vec<ParereDto>>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let app = state.app();
    let office = app
        .portal(t.id)
        .await?
        .office_by_slug(&office)
        .map(|o| o.id)
        .ok_or(WebError::NotFound)?;
    let list = app.pareri_for_office(t.id, &actor, office).await?;
    Ok(Json(list.iter().map(ParereDto::from).collect()))
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/messaggi`: a message of
/// the office to the applicant (e-mailed), or an internal note
/// (`pubblico: false`). 200 with the pratica.
async fn office_message(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<MessaggioBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let b = json_body(body)?;
    let app = state.app();
    app.office_pratica(t.id, &actor, id).await.map_err(hidden)?;
    let input = MessageInput {
        text: b.testo,
        public: b.pubblico.unwrap_or(true),
        file: None,
    };
    Ok(
        match app.send_pratica_message(t.id, &actor, id, input).await {
            Ok(v) => Json(pratica_dto(&v, true)).into_response(),
            Err(e) => act_error(e),
        },
    )
}

/// Handles `POST /api/v1/pratiche/{id}/messaggi`: a message of the
/// applicant to the office. 200 with the pratica.
async fn my_message(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<MessaggioBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = PraticaId(id_of(&id)?);
    let b = json_body(body)?;
    let app = state.app();
    app.my_pratica(t.id, &actor, id).await?;
    let input = MessageInput {
        text: b.testo,
        public: true,
        file: None,
    };
    Ok(
        match app.send_pratica_message(t.id, &actor, id, input).await {
            Ok(v) => Json(pratica_dto(&v, false)).into_response(),
            Err(e) => act_error(e),
        },
    )
}
