//! The office's work on a pratica in the JSON API (issue 6, part 4; see
//! `palazzo_services::pratiche::ufficio`): naming the responsabile del
//! procedimento, the transfer to another office per competenza, internal
//! opinions asked of another office and their answers, and the messages
//! between the applicant and the office.
//!
//! Each POST is one step of the pratica's history and one ledger event
//! (`pratica.evento`). A stale state answers 409 `pratica_stato_cambiato`;
//! bad input 422 with its code; another office's pratica 404.
//!
//! The messages and the answer to an opinion take JSON, or
//! `multipart/form-data` with the same fields as text parts and a file
//! ([`WithFile`]), read and checked as the web pages' uploads are (at most
//! one file; PDF, P7M, JPEG or PNG by content, at most 10 MB). The office
//! downloads an opinion's document from `…/pareri/{seq}/documento`.

use std::future::Future;

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_services::ServiceResult;
use palazzo_services::access::Actor;
use palazzo_services::pratiche::{
    EsitoParere, MessageInput, ParereAnswer, ParereInterno, ParereRequest, PraticaView, Upload,
};
use palazzo_store::{PraticaId, UserId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::istanze::{act_error, hidden, id_of, pratica_dto};
use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::istanze::ufficio::{
    message_document, parere_document, parere_document_path, read_with_file,
};
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes (under `/api/v1`).
pub fn router() -> Routes {
    use Access::Needs;
    let citizen = Needs(Permission::OwnProfile);
    let office = Needs(Permission::WorkOfficeCases);
    Routes::new()
        .upload("/pratiche/{id}/messaggi", citizen, my_message)
        .post("/backoffice/pratiche/{id}/assegnazione", office, assign)
        .post("/backoffice/pratiche/{id}/trasferimento", office, transfer)
        .post("/backoffice/pratiche/{id}/pareri", office, ask_parere)
        .upload(
            "/backoffice/pratiche/{id}/pareri/{seq}/risposta",
            office,
            answer_parere,
        )
        .get(
            "/backoffice/pratiche/{id}/pareri/{seq}/documento",
            office,
            parere_download,
        )
        .upload("/backoffice/pratiche/{id}/messaggi", office, office_message)
        .get(
            "/backoffice/pratiche/{id}/messaggi/{seq}/documento",
            office,
            office_message_download,
        )
        .get(
            "/pratiche/{id}/messaggi/{seq}/documento",
            citizen,
            my_message_download,
        )
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
    /// Where the office downloads the document that came with the answer
    /// (`/api/v1/backoffice/pratiche/{id}/pareri/{seq}/documento`), if one
    /// did.
    pub documento: Option<String>,
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
            documento: r
                .risposta
                .as_ref()
                .and_then(|a| a.documento.as_ref())
                .map(|_| format!("/api/v1{}", parere_document_path(r.pratica, r.seq))),
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

/// `POST /backoffice/pratiche/{id}/pareri/{seq}/risposta` (JSON, or these
/// fields as the text parts of a multipart body with the signed opinion).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RispostaBody {
    /// `favorevole`, `favorevole_con_prescrizioni` or `contrario`.
    pub esito: String,
    /// The reasons or prescriptions.
    pub testo: String,
}

/// `POST /pratiche/{id}/messaggi` and `POST /backoffice/pratiche/{id}/messaggi`
/// (JSON, or these fields as the text parts of a multipart body with a
/// file; `pubblico` then `true` or `false`).
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

/// The body of a call that may carry a file, told by its `Content-Type`:
/// JSON (held to `max_body_bytes` like every JSON body), or
/// `multipart/form-data` with the JSON body's fields as text parts and a
/// file part. Nothing is refused while extracting, so that the caller's
/// permission is checked first (401/403 before 415); the body is judged,
/// and a multipart one read, by [`WithFile::open`].
pub(crate) enum WithFile<T> {
    /// A JSON body, or why it is not one.
    Json(Result<T, WebError>),
    /// A multipart body, not read yet.
    Multipart(Result<Multipart, MultipartRejection>),
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for WithFile<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("multipart/form-data"));
        if multipart {
            return Ok(WithFile::Multipart(
                Multipart::from_request(req, state).await,
            ));
        }
        // The route takes uploads (`Routes::upload`): JSON keeps the limit
        // of every other JSON body.
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, state.config().max_body_bytes).await else {
            return Ok(WithFile::Json(Err(WebError::PayloadTooLarge)));
        };
        let req = Request::from_parts(parts, Body::from(bytes));
        Ok(WithFile::Json(json_body(
            Json::<T>::from_request(req, state).await,
        )))
    }
}

impl<T: DeserializeOwned> WithFile<T> {
    /// The fields and the file (kept as `spec_id`). A multipart body is read
    /// after `allowed` answers (nothing of it before): its text parts are
    /// the fields, checked as the JSON ones (`invalid_fields`), its file
    /// read as on the web pages ([`read_with_file`]: `upload_invalid`,
    /// `allegato_troppo_grande`, `campo_troppo_lungo`, `allegato_uno_solo`).
    async fn open(
        self,
        spec_id: &str,
        allowed: impl Future<Output = Result<(), WebError>>,
    ) -> Result<(T, Option<Upload>), WebError> {
        let mp = match self {
            WithFile::Json(body) => return Ok((body?, None)),
            WithFile::Multipart(mp) => mp,
        };
        allowed.await?;
        let (fields, file) = read_with_file(mp, spec_id).await?;
        let pairs = serde_urlencoded::to_string(&fields)
            .map_err(|e| WebError::Internal(format!("multipart fields: {e}")))?;
        let body = serde_urlencoded::from_str(&pairs).map_err(|e| {
            tracing::info!(error = %e, code = "invalid_fields", "API body refused");
            WebError::unprocessable(
                "invalid_fields",
                format!("I campi della richiesta non sono validi: {e}"),
            )
        })?;
        Ok((body, file))
    }
}

/// The office's permission and the pratica's id (404 when not a number):
/// how every call of the office here begins.
fn office_call(actor: &Actor, id: &str) -> Result<PraticaId, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    Ok(PraticaId(id_of(id)?))
}

/// The answer to a call that changed a pratica: 200 with the pratica as
/// the caller sees it, or the refusal with its code (409 for a stale
/// state). The services answer 404 for another office's (or another
/// person's) pratica and 403 for what the caller's role does not allow.
fn acted(r: ServiceResult<PraticaView>, staff: bool) -> Response {
    match r {
        Ok(v) => Json(pratica_dto(&v, staff)).into_response(),
        Err(e) => act_error(e),
    }
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
    let id = office_call(&actor, &id)?;
    let b = json_body(body)?;
    let r = state
        .app()
        .assign_pratica(
            t.id,
            &actor,
            id,
            UserId(b.responsabile),
            b.stato_atteso.trim(),
        )
        .await;
    Ok(acted(r, true))
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
    let id = office_call(&actor, &id)?;
    let b = json_body(body)?;
    let office = office_of(&state, &t, &b.ufficio).await?;
    let r = state
        .app()
        .transfer_pratica(t.id, &actor, id, office, &b.motivo, b.stato_atteso.trim())
        .await;
    Ok(acted(r, true))
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
    let id = office_call(&actor, &id)?;
    let b = json_body(body)?;
    let req = ParereRequest {
        office: office_of(&state, &t, &b.ufficio).await?,
        text: b.testo,
        days: b.giorni,
    };
    let r = state.app().request_parere(t.id, &actor, id, req).await;
    Ok(acted(r, true))
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/pareri/{seq}/risposta`
/// (JSON, or multipart with the signed opinion): the answer of the office
/// asked. 200 with the opinion. The request is looked up first: 404 for
/// staff of neither office (the service itself would answer 422
/// `parere_ufficio_non_destinatario`), before any file is read.
async fn answer_parere(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, seq)): Path<(String, String)>,
    body: WithFile<RispostaBody>,
) -> Result<Json<ParereDto>, WebError> {
    let id = office_call(&actor, &id)?;
    let seq = u32::try_from(id_of(&seq)?).map_err(|_| WebError::NotFound)?;
    let app = state.app();
    app.parere_for_office(t.id, &actor, id, seq)
        .await
        .map_err(hidden)?;
    let (b, file) = body.open("parere", async { Ok(()) }).await?;
    let answer = ParereAnswer {
        esito: EsitoParere::parse(b.esito.trim())?,
        text: b.testo,
        file,
    };
    let r = app.answer_parere(t.id, &actor, id, seq, answer).await?;
    Ok(Json(ParereDto::from(&r)))
}

/// Handles `GET /api/v1/backoffice/pratiche/{id}/pareri/{seq}/documento`:
/// the document of an opinion's answer, for the staff of the office that
/// owns the pratica and of the office that gave it (404 for anyone else).
async fn parere_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, seq)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = office_call(&actor, &id)?;
    let seq = u32::try_from(id_of(&seq)?).map_err(|_| WebError::NotFound)?;
    parere_document(state.app(), t.id, &actor, id, seq)
        .await
        .map_err(hidden)
}

/// Handles `GET /api/v1/backoffice/pratiche/{id}/messaggi/{seq}/documento`:
/// the file of a message of the pratica (internal notes included), for
/// the staff of its office.
async fn office_message_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, seq)): Path<(String, String)>,
) -> Result<Response, WebError> {
    // The caller's role first (403), then another office's pratica does
    // not exist for its staff (404), as on every call of the office's work.
    let id = office_call(&actor, &id)?;
    let seq = u32::try_from(id_of(&seq)?).map_err(|_| WebError::NotFound)?;
    message_document(state.app(), t.id, &actor, id, seq, true)
        .await
        .map_err(hidden)
}

/// Handles `GET /api/v1/pratiche/{id}/messaggi/{seq}/documento`: the file
/// of a message the applicant sees of their own pratica (404 otherwise).
async fn my_message_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, seq)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id = PraticaId(id_of(&id)?);
    let seq = u32::try_from(id_of(&seq)?).map_err(|_| WebError::NotFound)?;
    Ok(message_document(state.app(), t.id, &actor, id, seq, false).await?)
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

/// Handles `POST /api/v1/backoffice/pratiche/{id}/messaggi` (JSON, or
/// multipart with a file): a message of the office to the applicant
/// (e-mailed), or an internal note (`pubblico: false`). 200 with the
/// pratica.
async fn office_message(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: WithFile<MessaggioBody>,
) -> Result<Response, WebError> {
    let id = office_call(&actor, &id)?;
    let app = state.app();
    let allowed = async {
        app.office_pratica(t.id, &actor, id).await.map_err(hidden)?;
        Ok::<(), WebError>(())
    };
    let (b, file) = body.open("messaggio", allowed).await?;
    let input = MessageInput {
        text: b.testo,
        public: b.pubblico.unwrap_or(true),
        file,
    };
    let r = app.send_pratica_message(t.id, &actor, id, input).await;
    Ok(acted(r, true))
}

/// Handles `POST /api/v1/pratiche/{id}/messaggi` (JSON, or multipart with
/// a file): a message of the applicant to the office. 200 with the
/// pratica.
async fn my_message(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: WithFile<MessaggioBody>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = PraticaId(id_of(&id)?);
    let app = state.app();
    let allowed = async {
        app.my_pratica(t.id, &actor, id).await?;
        Ok::<(), WebError>(())
    };
    let (b, file) = body.open("messaggio", allowed).await?;
    let input = MessageInput {
        text: b.testo,
        public: true,
        file,
    };
    let r = app.send_pratica_message(t.id, &actor, id, input).await;
    Ok(acted(r, false))
}
