//! Protocol messages between administrations (Allegato 6 §3.1, PR-8) in
//! the JSON API: receive a message (`POST /protocollo/messaggi`,
//! multipart: the `SegnaturaInformatica` or `AnnullamentoProtocollazione`
//! XML in part `segnatura`, the documents in the other file parts) and read
//! the sender's notice of annulment recorded with a registration. Part of
//! the protocollo API (merged by [`super::protocollo::router`]); callers
//! authenticate with [`ApiAuth`]; permissions are checked here first and
//! again by the services.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use palazzo_domain::access::Permission;
use palazzo_services::segnatura::Esito;
use palazzo_store::{AnnulmentNotice, RegistrationId};
use serde::{Deserialize, Serialize};

use super::protocollo::RegistrationDto;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::Needs;
    Routes::new()
        .upload(
            "/protocollo/messaggi",
            Needs(Permission::RegisterProtocol),
            receive,
        )
        .get(
            "/protocollo/voci/{id}/annullamento-mittente",
            Needs(Permission::ReadProtocol),
            notice,
        )
}

/// The sender's notice that it annulled its registration, as recorded with
/// ours.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SenderAnnulmentDto {
    /// Our registration's id.
    pub registration: i64,
    /// When it was received (RFC 3339, UTC).
    pub received_at: Timestamp,
    /// The sender's reason.
    pub reason: String,
    /// The sender's authorising act.
    pub act: String,
    /// Who received it.
    pub recorded_by: String,
    /// SHA-256 of the received `AnnullamentoProtocollazione` XML.
    pub sha256: String,
}

impl From<&AnnulmentNotice> for SenderAnnulmentDto {
    fn from(n: &AnnulmentNotice) -> Self {
        SenderAnnulmentDto {
            registration: n.data.registration.0,
            received_at: n.received_at,
            reason: n.data.reason.clone(),
            act: n.data.act.clone(),
            recorded_by: n.data.recorded_by.clone(),
            sha256: n.data.document.sha256.hex(),
        }
    }
}

/// What the receiver did with a message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessageOutcomeDto {
    /// `registrato`, `gia_registrato` (the same message was registered
    /// before: nothing new), `eccezione` (refused), `annullamento` (the
    /// sender's annulment recorded) or `annullamento_gia_registrato`.
    pub esito: String,
    /// For `eccezione`: the official code (`000_Irricevibile` …
    /// `007_ErroreIdentificatoreNonTrovato`).
    pub codice: Option<String>,
    /// What happened, in Italian.
    pub descrizione: String,
    /// Our registration (the new one, or the one the annulment names).
    pub registrazione: Option<RegistrationDto>,
    /// For an annulment: the recorded notice.
    pub annullamento_mittente: Option<SenderAnnulmentDto>,
    /// The answer to send back to the sender: the `ConfermaRicezione` or
    /// `NotificaEccezione` XML (none for an annulment).
    pub messaggio: Option<String>,
}

impl MessageOutcomeDto {
    /// The outcome of [`Esito`].
    pub fn of(e: &Esito) -> MessageOutcomeDto {
        match e {
            Esito::Registrata {
                registration,
                duplicate,
                risposta,
            } => MessageOutcomeDto {
                esito: if *duplicate {
                    "gia_registrato"
                } else {
                    "registrato"
                }
                .into(),
                codice: None,
                descrizione: format!(
                    "{} come protocollo n. {}/{}.",
                    if *duplicate {
                        "Messaggio già registrato"
                    } else {
                        "Messaggio registrato in entrata"
                    },
                    registration.number,
                    registration.year
                ),
                registrazione: Some(registration.as_ref().into()),
                annullamento_mittente: None,
                messaggio: Some(risposta.clone()),
            },
            Esito::Eccezione { rifiuto, risposta } => MessageOutcomeDto {
                esito: "eccezione".into(),
                codice: Some(rifiuto.anomalia.code().to_owned()),
                descrizione: format!("{} {}", rifiuto.anomalia.message_it(), rifiuto.dettaglio),
                registrazione: None,
                annullamento_mittente: None,
                messaggio: Some(risposta.clone()),
            },
            Esito::Annullamento {
                registration,
                notice,
                duplicate,
                ..
            } => MessageOutcomeDto {
                esito: if *duplicate {
                    "annullamento_gia_registrato"
                } else {
                    "annullamento"
                }
                .into(),
                codice: None,
                descrizione: format!(
                    "Annullamento del mittente registrato per il protocollo n. {}/{}; l'eventuale annullamento della registrazione è un atto distinto (DPR 445/2000, art. 54).",
                    registration.number, registration.year
                ),
                registrazione: Some(registration.as_ref().into()),
                annullamento_mittente: Some(notice.as_ref().into()),
                messaggio: None,
            },
        }
    }
}

/// Handles `POST /api/v1/protocollo/messaggi`: receives a protocol message
/// (`multipart/form-data`: part `segnatura` with the XML, the documents in
/// other file parts named as the segnatura names them). 201 when it is
/// registered now, 200 otherwise (already registered, refused with its
/// official code, an annulment recorded); 422 when the upload itself
/// cannot be read (`segnatura_mancante`, `text_file_not_utf8`, …).
async fn receive(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    // Authorization before reading (and storing) anything.
    actor.require(Permission::RegisterProtocol)?;
    let mp = mp.map_err(|_| WebError::UnsupportedMediaType)?;
    let esito =
        crate::backoffice::interoperabilita::receive_upload(&state, t.id, &actor, mp).await?;
    let status = match &esito {
        Esito::Registrata {
            duplicate: false, ..
        } => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(MessageOutcomeDto::of(&esito))).into_response())
}

/// Handles `GET /api/v1/protocollo/voci/{id}/annullamento-mittente`: the
/// sender's notice of annulment recorded with the registration; 404 when
/// there is none.
async fn notice(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<SenderAnnulmentDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let id = RegistrationId(id.parse().map_err(|_| WebError::NotFound)?);
    let n = state
        .app()
        .protocol_annulment_notice(t.id, &actor, id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Json((&n).into()))
}
