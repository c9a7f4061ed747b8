//! Online istanze in the JSON API (issue 6): every capability of the web
//! pages, for programs and apps.
//!
//! * Anyone: the comune's online services (`/servizi-online`) and the
//!   current definition of one (its form and its legal terms are public).
//! * A signed-in citizen ([`Permission::OwnProfile`]): drafts (`/bozze`),
//!   saved step by step with the field errors as a list, their files, the
//!   submission (idempotent by the draft's key, also accepted as the
//!   `Idempotency-Key` header), their own pratiche and the applicant's
//!   actions on them (`/pratiche`).
//! * Staff of the competent office ([`Permission::WorkOfficeCases`]): the
//!   open pratiche of an office with their deadlines, one pratica with its
//!   whole history, and the procedure's actions (`/backoffice/pratiche`).
//! * Admins of the comune ([`Permission::ManageCatalogue`]): a new version
//!   of a service's definition (`POST /servizi-online/{slug}/definizione`).
//!
//! The API only uses GET and POST (the route table's rule): a deletion is a
//! POST to `…/eliminazione`, a step is saved with a POST. Callers
//! authenticate with [`ApiAuth`]; permissions are checked before any body
//! is read, and again by the services. A draft, a pratica or a file that is
//! not the caller's answers 404, as one that does not exist.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::moduli::{FieldErrors, RawAnswers};
use palazzo_domain::procedimento::{Azione, Clock};
use palazzo_services::ServiceError;
use palazzo_services::access::Actor;
use palazzo_services::pratiche::bozze::Nav;
use palazzo_services::pratiche::definizioni::StoredDefinition;
use palazzo_services::pratiche::{
    ActInput, BozzaView, PraticaView, ServiceDefinition, StepOutcome, Submitted, Upload,
};
use palazzo_store::{Allegato, AllegatoId, BozzaId, Pratica, PraticaId, Registration, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::{ErrorInfo, WebError};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::FullPage;
use crate::routes::{Access, Routes};

/// The largest file accepted for a draft (each slot has its own, smaller,
/// limit checked by the service).
const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::{Needs, Public};
    let citizen = Needs(Permission::OwnProfile);
    let office = Needs(Permission::WorkOfficeCases);
    Routes::new()
        .get("/servizi-online", Public, services)
        .get("/servizi-online/{slug}/definizione", Public, definition)
        .post(
            "/servizi-online/{slug}/definizione",
            Needs(Permission::ManageCatalogue),
            define,
        )
        .get("/bozze", citizen, drafts)
        .post("/bozze", citizen, start)
        .get("/bozze/{id}", citizen, draft)
        .post("/bozze/{id}/passi/{step}", citizen, save_step)
        .upload("/bozze/{id}/allegati", citizen, upload)
        .post(
            "/bozze/{id}/allegati/{aid}/eliminazione",
            citizen,
            remove_file,
        )
        .post("/bozze/{id}/eliminazione", citizen, discard)
        .post("/bozze/{id}/invio", citizen, submit)
        .get("/area-personale", citizen, desk)
        .get("/pratiche", citizen, my_pratiche)
        .get("/pratiche/{id}", citizen, my_pratica)
        .post("/pratiche/{id}/azioni", citizen, my_action)
        .get(
            "/pratiche/{id}/passi/{seq}/documento",
            citizen,
            my_step_document,
        )
        .get("/uffici/{office}/pratiche", office, office_list)
        .get("/backoffice/pratiche/{id}", office, office_one)
        .post("/backoffice/pratiche/{id}/azioni", office, office_action)
}

/// An online service in the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServizioOnlineDto {
    /// The service card's slug.
    pub slug: String,
    /// The card's title.
    pub titolo: String,
    /// The competent office's slug.
    pub ufficio: Option<String>,
    /// The current definition's version (the form's `versione`).
    pub versione: u32,
    /// The procedure's title.
    pub procedimento: String,
    /// The legal term in days.
    pub termine_giorni: u32,
    /// The procedure's legal reference.
    pub riferimento_normativo: String,
    /// Silence past the deadline means acceptance (art. 20 L. 241/1990).
    pub silenzio_assenso: bool,
    /// Where its definition is.
    pub definizione: String,
}

/// A new version of a definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersioneDto {
    /// The service's slug.
    pub servizio: String,
    /// The version saved.
    pub versione: u32,
}

/// A file of a draft or of a pratica.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AllegatoDto {
    /// Its id.
    pub id: i64,
    /// The form's attachment slot (for a pratica step: the action's code).
    pub allegato: String,
    /// The file name.
    pub nome: String,
    /// The media type detected from the content.
    pub tipo: String,
    /// Size in bytes.
    pub dimensione: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// When it was uploaded.
    pub caricato: Timestamp,
}

impl From<&Allegato> for AllegatoDto {
    fn from(a: &Allegato) -> Self {
        let d = &a.data.document;
        AllegatoDto {
            id: a.id.0,
            allegato: a.data.spec_id.clone(),
            nome: d.name.clone(),
            tipo: d.media_type.clone(),
            dimensione: d.size,
            sha256: d.sha256.hex(),
            caricato: a.uploaded_at,
        }
    }
}

/// A step of a form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PassoDto {
    /// Its id.
    pub id: String,
    /// Its title.
    pub titolo: String,
}

/// A draft in the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BozzaSummaryDto {
    /// Its id.
    pub id: i64,
    /// The service.
    pub servizio: String,
    /// The definition version it follows.
    pub versione: u32,
    /// The step last saved (`riepilogo` once every step is complete).
    pub passo: String,
    /// Created.
    pub creata: Timestamp,
    /// Last saved.
    pub aggiornata: Timestamp,
}

/// A draft with its answers and files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BozzaDto {
    /// Its id.
    pub id: i64,
    /// The service.
    pub servizio: String,
    /// The definition version it follows.
    pub versione: u32,
    /// The submission key (send it back with the submission).
    pub chiave: String,
    /// The step last saved (`riepilogo` once every step is complete).
    pub passo: String,
    /// The first incomplete step; `null` when only the submission is left.
    pub passo_da_completare: Option<String>,
    /// The form's steps.
    pub passi: Vec<PassoDto>,
    /// Step id → the values to show in its inputs (what was answered, what
    /// was saved with errors, or what the comune already knows).
    pub risposte: BTreeMap<String, RawAnswers>,
    /// Its files.
    pub allegati: Vec<AllegatoDto>,
    /// Created.
    pub creata: Timestamp,
    /// Last saved.
    pub aggiornata: Timestamp,
}

impl From<&BozzaView> for BozzaDto {
    fn from(v: &BozzaView) -> Self {
        let b = &v.bozza;
        let form = &v.definition.definition.form;
        BozzaDto {
            id: b.id.0,
            servizio: b.data.service_slug.clone(),
            versione: b.data.definition_version,
            chiave: b.data.key.clone(),
            passo: b.data.step.clone(),
            passo_da_completare: v.resume_step(),
            passi: form
                .steps
                .iter()
                .map(|s| PassoDto {
                    id: s.id.clone(),
                    titolo: s.title.clone(),
                })
                .collect(),
            risposte: form
                .steps
                .iter()
                .map(|s| (s.id.clone(), v.raw_for(&s.id)))
                .collect(),
            allegati: v.allegati.iter().map(Into::into).collect(),
            creata: b.created_at,
            aggiornata: b.updated_at,
        }
    }
}

/// A field error of a step or of a submission.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErroreCampoDto {
    /// The field (or attachment slot, or declaration).
    pub campo: String,
    /// The step it belongs to, if any.
    pub passo: Option<String>,
    /// Stable code.
    pub codice: String,
    /// Italian message naming the field.
    pub messaggio: String,
}

/// A step saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PassoSalvatoDto {
    /// Where to go now; `null`: every step is complete, the summary and the
    /// submission are next.
    pub passo_successivo: Option<String>,
}

/// A protocol registration, as the applicant is told it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProtocolloDto {
    /// The number.
    pub numero: String,
    /// The register year.
    pub anno: i16,
    /// The registration time.
    pub registrata: Timestamp,
}

impl From<&Registration> for ProtocolloDto {
    fn from(r: &Registration) -> Self {
        ProtocolloDto {
            numero: r.number.to_string(),
            anno: r.year,
            registrata: r.registered_at,
        }
    }
}

/// A submission's receipt (art. 18-bis L. 241/1990).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PresentazioneDto {
    /// The pratica's id.
    pub pratica: i64,
    /// The service.
    pub servizio: String,
    /// The protocol registration.
    pub protocollo: ProtocolloDto,
    /// The receipt date: the term runs from it.
    pub ricevuta_il: Date,
    /// The fascicolo's code.
    pub fascicolo: Option<String>,
    /// The competent office.
    pub ufficio: String,
    /// The legal deadline.
    pub scadenza: Option<Date>,
    /// Silence past the deadline means acceptance.
    pub silenzio_assenso: bool,
    /// The pratica's state.
    pub stato: String,
}

impl From<&Submitted> for PresentazioneDto {
    fn from(s: &Submitted) -> Self {
        PresentazioneDto {
            pratica: s.pratica.id.0,
            servizio: s.pratica.data.service_slug.clone(),
            protocollo: (&s.registration).into(),
            ricevuta_il: s.pratica.data.received_on,
            fascicolo: s.fascicolo.clone(),
            ufficio: s.office.clone(),
            scadenza: s.deadline,
            silenzio_assenso: s.silenzio_assenso,
            stato: s.pratica.data.state.clone(),
        }
    }
}

/// A pratica in a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PraticaSummaryDto {
    /// Its id.
    pub id: i64,
    /// The service.
    pub servizio: String,
    /// The protocol subject.
    pub oggetto: String,
    /// The applicant's name.
    pub richiedente: String,
    /// The state.
    pub stato: String,
    /// The receipt date.
    pub ricevuta_il: Date,
    /// The legal deadline.
    pub scadenza: Option<Date>,
    /// Days left to the deadline (negative when past); `null` when concluded
    /// or not computed.
    pub giorni_rimanenti: Option<i64>,
    /// Past the deadline.
    pub scaduta: bool,
    /// Concluded.
    pub conclusa: bool,
}

fn summary(p: &Pratica, clock: Option<&Clock>) -> PraticaSummaryDto {
    PraticaSummaryDto {
        id: p.id.0,
        servizio: p.data.service_slug.clone(),
        oggetto: p.data.subject.clone(),
        richiedente: p.data.applicant_name.clone(),
        stato: p.data.state.clone(),
        ricevuta_il: p.data.received_on,
        scadenza: clock.map(|c| c.deadline).or(p.data.deadline),
        giorni_rimanenti: clock.and_then(|c| c.days_left),
        scaduta: clock.is_some_and(|c| c.overdue),
        conclusa: p.closed_at.is_some(),
    }
}

/// The legal clock of a pratica today (PROC-03).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrologioDto {
    /// The receipt date.
    pub ricevuta_il: Date,
    /// The day the term counts from.
    pub decorrenza: Date,
    /// The legal term in days.
    pub termine_giorni: u32,
    /// The deadline.
    pub scadenza: Date,
    /// Suspended days counted in the deadline.
    pub giorni_sospesi: i64,
    /// Net days elapsed.
    pub giorni_trascorsi: i64,
    /// Days left (negative when past); `null` once decided.
    pub giorni_rimanenti: Option<i64>,
    /// The expected resume date while suspended.
    pub sospesa_fino_al: Option<Date>,
    /// Past the deadline.
    pub scaduta: bool,
    /// For silenzio-assenso: the day silence means acceptance.
    pub silenzio_assenso_dal: Option<Date>,
}

impl From<&Clock> for OrologioDto {
    fn from(c: &Clock) -> Self {
        OrologioDto {
            ricevuta_il: c.received,
            decorrenza: c.term_start,
            termine_giorni: c.term_days,
            scadenza: c.deadline,
            giorni_sospesi: c.suspended_days,
            giorni_trascorsi: c.days_elapsed_net,
            giorni_rimanenti: c.days_left,
            sospesa_fino_al: c.paused_until,
            scaduta: c.overdue,
            silenzio_assenso_dal: c.silenzio_assenso_date,
        }
    }
}

/// A step of a pratica's history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventoDto {
    /// 1, 2, … within the pratica.
    pub seq: u32,
    /// The action's code.
    pub azione: String,
    /// When.
    pub momento: Timestamp,
    /// The Europe/Rome date.
    pub data: Date,
    /// The role acting (`cittadino`, `operatore`, …).
    pub ruolo: String,
    /// Who acted (staff only).
    pub autore: Option<String>,
    /// The state before.
    pub da: String,
    /// The state after.
    pub a: String,
    /// The text of the step.
    pub nota: Option<String>,
    /// Where the applicant downloads the document that went with the step
    /// (the provvedimento, a request, their integration as registered):
    /// `/api/v1/pratiche/{id}/passi/{seq}/documento`. Staff: `None`.
    pub documento: Option<String>,
    /// The protocol registration of that document (staff only).
    pub registrazione: Option<i64>,
    /// A message's file: `/api/v1/backoffice/pratiche/{id}/messaggi/{seq}/documento`
    /// for staff, `/api/v1/pratiche/{id}/messaggi/{seq}/documento` for the
    /// applicant.
    #[serde(default)]
    pub allegato: Option<String>,
}

/// A pratica with its history, clock and documents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PraticaDto {
    /// Its id.
    pub id: i64,
    /// The service.
    pub servizio: String,
    /// The definition version it follows.
    pub versione: u32,
    /// The protocol subject.
    pub oggetto: String,
    /// The applicant's name.
    pub richiedente: String,
    /// The state.
    pub stato: String,
    /// Concluded.
    pub conclusa: bool,
    /// The competent office.
    pub ufficio: String,
    /// The istanza's protocol registration.
    pub protocollo: Option<ProtocolloDto>,
    /// The legal clock today.
    pub orologio: OrologioDto,
    /// The history (for the applicant: the public steps).
    pub storia: Vec<EventoDto>,
    /// Its documents.
    pub documenti: Vec<AllegatoDto>,
    /// The actions the caller may take now (codes for `…/azioni`).
    pub azioni: Vec<String>,
    /// The responsabile del procedimento (art. 5 L. 241/1990), when named.
    #[serde(default)]
    pub responsabile: Option<String>,
    /// The internal opinions asked of other offices (staff only).
    #[serde(default)]
    pub pareri: Vec<super::pratiche_ufficio::ParereDto>,
}

pub(super) fn pratica_dto(v: &PraticaView, staff: bool) -> PraticaDto {
    let p = &v.pratica;
    PraticaDto {
        id: p.id.0,
        servizio: p.data.service_slug.clone(),
        versione: p.data.definition_version,
        oggetto: p.data.subject.clone(),
        richiedente: p.data.applicant_name.clone(),
        stato: p.data.state.clone(),
        conclusa: p.closed_at.is_some(),
        ufficio: v.office.clone(),
        protocollo: v.registration.as_ref().map(Into::into),
        orologio: (&v.clock).into(),
        storia: v
            .eventi
            .iter()
            .map(|e| EventoDto {
                seq: e.seq,
                azione: e.data.action.clone(),
                momento: e.data.at,
                data: e.data.on_date,
                ruolo: e.data.role.clone(),
                autore: staff.then(|| e.data.actor.clone()),
                da: e.data.from_state.clone(),
                a: e.data.to_state.clone(),
                nota: e.data.note.clone(),
                documento: match (staff, e.data.registration) {
                    (false, Some(_)) => Some(format!(
                        "/api/v1/pratiche/{}/passi/{}/documento",
                        p.id.0, e.seq
                    )),
                    _ => None,
                },
                registrazione: e.data.registration.filter(|_| staff).map(|r| r.0),
                allegato: v
                    .messaggi
                    .iter()
                    .any(|m| m.seq == e.seq && m.documento.is_some())
                    .then(|| {
                        let web =
                            crate::istanze::ufficio::message_document_path(p.id, e.seq, staff);
                        format!("/api/v1{}", web.trim_start_matches("/area-personale"))
                    }),
            })
            .collect(),
        documenti: v.allegati.iter().map(Into::into).collect(),
        azioni: v.actions.iter().map(|a| a.code().to_owned()).collect(),
        responsabile: v.responsabile.clone(),
        pareri: v
            .pareri
            .iter()
            .filter(|_| staff)
            .map(super::pratiche_ufficio::ParereDto::from)
            .collect(),
    }
}

/// `POST /bozze`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The service's slug.
    pub servizio: String,
}

/// `POST /bozze/{id}/invio`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The draft's key (`chiave` of the draft); may be sent instead as the
    /// `Idempotency-Key` header.
    #[serde(default)]
    pub chiave: Option<String>,
    /// The ids of the declarations ticked.
    #[serde(default)]
    pub dichiarazioni: Vec<String>,
}

/// `POST /pratiche/{id}/azioni` and `POST /backoffice/pratiche/{id}/azioni`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// The action's code (`presa_in_carico`, `accoglimento`, `ritiro`, …).
    pub azione: String,
    /// The state the caller saw.
    pub stato_atteso: String,
    /// The text of the request, message or measure.
    #[serde(default)]
    pub nota: Option<String>,
}

/// How a step is left.
#[derive(Debug, Default, Deserialize)]
pub struct StepQuery {
    /// `avanti` (default: the step must be valid), `indietro` or `salva`
    /// (kept as typed, even with errors).
    #[serde(default)]
    pub navigazione: Option<String>,
}

/// The office list's filter.
#[derive(Debug, Default, Deserialize)]
pub struct OfficeQuery {
    /// Only the pratiche past their deadline.
    #[serde(default)]
    pub scadute: Option<bool>,
}

/// A numeric id of a path; 404 when it is not one.
pub(super) fn id_of(s: &str) -> Result<i64, WebError> {
    s.trim().parse().map_err(|_| WebError::NotFound)
}

/// 422 with the list of field errors.
fn field_errors(errors: &FieldErrors) -> Response {
    let code = errors
        .errors
        .first()
        .map_or("modulo_non_valido", |e| e.code);
    let list: Vec<ErroreCampoDto> = errors
        .errors
        .iter()
        .map(|e| ErroreCampoDto {
            campo: e.field.clone(),
            passo: e.step.clone(),
            codice: e.code.to_owned(),
            messaggio: e.message.clone(),
        })
        .collect();
    let message = list
        .iter()
        .map(|e| e.messaggio.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let mut res = (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({ "error": code, "message": message, "errori": list })),
    )
        .into_response();
    // The body is complete: the error middleware keeps it as it is.
    res.extensions_mut().insert(FullPage);
    res
}

/// The service's error; a pratica that moved meanwhile is a 409.
pub(super) fn act_error(e: ServiceError) -> Response {
    match e {
        ServiceError::Invalid {
            code: "pratica_stato_cambiato",
            message,
        } => {
            let mut res = StatusCode::CONFLICT.into_response();
            res.extensions_mut().insert(ErrorInfo {
                code: "pratica_stato_cambiato",
                message,
            });
            res
        }
        e => WebError::from(e).into_response(),
    }
}

/// Another office's pratica does not exist for a staff member.
pub(super) fn hidden(e: ServiceError) -> WebError {
    match e {
        ServiceError::Forbidden => WebError::NotFound,
        e => e.into(),
    }
}

fn service_dto(
    slug: &str,
    title: &str,
    office: Option<String>,
    d: &StoredDefinition,
) -> ServizioOnlineDto {
    let p = &d.definition.procedure;
    ServizioOnlineDto {
        slug: slug.to_owned(),
        titolo: title.to_owned(),
        ufficio: office,
        versione: d.version,
        procedimento: p.title.clone(),
        termine_giorni: p.term_days,
        riferimento_normativo: p.legal_ref.clone(),
        silenzio_assenso: p.silenzio_assenso,
        definizione: format!("/api/v1/servizi-online/{slug}/definizione"),
    }
}

/// Handles `GET /api/v1/servizi-online`: the active services of the
/// catalogue that can be requested online, by title.
async fn services(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
) -> Result<Json<Vec<ServizioOnlineDto>>, WebError> {
    let app = state.app();
    let snap = app.portal(t.id).await?;
    let mut out: Vec<ServizioOnlineDto> = app
        .service_definitions(t.id)
        .await?
        .iter()
        .filter_map(|d| {
            let card = snap.service(&d.definition.service)?;
            (card.data.status == palazzo_domain::portal::ServiceStatus::Active).then(|| {
                service_dto(
                    &card.data.slug,
                    &card.data.title,
                    snap.office(card.data.office).map(|o| o.data.slug.clone()),
                    d,
                )
            })
        })
        .collect();
    out.sort_by(|a, b| a.titolo.cmp(&b.titolo));
    Ok(Json(out))
}

/// Handles `GET /api/v1/servizi-online/{slug}/definizione`: the current
/// definition, in the format of the definition files (JSON).
async fn definition(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Path(slug): Path<String>,
) -> Result<Json<ServiceDefinition>, WebError> {
    let d = state
        .app()
        .service_definition(t.id, &slug, None)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Json((*d.definition).clone()))
}

/// Handles `POST /api/v1/servizi-online/{slug}/definizione`: saves a new
/// version (201), validated (422 with every problem in the message).
async fn define(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(slug): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageCatalogue)?;
    let value = json_body(body)?;
    let def: ServiceDefinition = serde_json::from_value(value).map_err(|e| {
        WebError::unprocessable(
            "servizio_definizione_non_valida",
            format!("La definizione non è valida: {e}"),
        )
    })?;
    if def.service != slug {
        return Err(WebError::unprocessable(
            "servizio_non_corrispondente",
            format!(
                "La definizione è del servizio «{}», non di «{slug}».",
                def.service
            ),
        ));
    }
    let saved = state
        .app()
        .save_service_definition(t.id, &actor, def)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(VersioneDto {
            servizio: slug,
            versione: saved.version,
        }),
    )
        .into_response())
}

/// Handles `GET /api/v1/bozze`: the caller's drafts, last saved first.
async fn drafts(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<BozzaSummaryDto>>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let list = state.app().my_bozze(t.id, &actor).await?;
    Ok(Json(
        list.iter()
            .map(|b| BozzaSummaryDto {
                id: b.id.0,
                servizio: b.data.service_slug.clone(),
                versione: b.data.definition_version,
                passo: b.data.step.clone(),
                creata: b.created_at,
                aggiornata: b.updated_at,
            })
            .collect(),
    ))
}

async fn view(
    state: &AppState,
    t: TenantId,
    actor: &Actor,
    id: BozzaId,
) -> Result<BozzaDto, WebError> {
    let v = state.app().bozza_view(t, actor, id).await?;
    Ok((&v).into())
}

/// Handles `POST /api/v1/bozze`: starts a draft (201).
async fn start(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<StartBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let b = json_body(body)?;
    let bozza = state
        .app()
        .start_bozza(t.id, &actor, b.servizio.trim())
        .await?;
    let dto = view(&state, t.id, &actor, bozza.id).await?;
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Handles `GET /api/v1/bozze/{id}`.
async fn draft(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<BozzaDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = BozzaId(id_of(&id)?);
    Ok(Json(view(&state, t.id, &actor, id).await?))
}

/// A JSON object of raw answers: each value a string or an array of
/// strings.
fn raw_answers(value: Value) -> Result<RawAnswers, WebError> {
    let bad = || {
        WebError::unprocessable(
            "invalid_fields",
            "Le risposte sono un oggetto JSON: per ogni campo una stringa o un elenco di stringhe.",
        )
    };
    let Value::Object(map) = value else {
        return Err(bad());
    };
    let mut raw = RawAnswers::new();
    for (k, v) in map {
        let values = match v {
            Value::String(s) => vec![s],
            Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(bad()),
        };
        raw.insert(k, values);
    }
    Ok(raw)
}

/// Handles `POST /api/v1/bozze/{id}/passi/{step}`: saves a step. 200 with
/// the next step; 422 with the list of field errors (what was typed is
/// kept in the draft all the same).
async fn save_step(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, step)): Path<(String, String)>,
    q: Result<Query<StepQuery>, QueryRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = BozzaId(id_of(&id)?);
    let Query(q) = q.map_err(|e| {
        WebError::bad_request(
            "invalid_query",
            format!("Parametri non validi: {}", e.body_text()),
        )
    })?;
    let nav = match q.navigazione.as_deref().map(str::trim) {
        None | Some("") | Some("avanti") => Nav::Next,
        Some("indietro") => Nav::Back,
        Some("salva") => Nav::Save,
        Some(_) => {
            return Err(WebError::bad_request(
                "invalid_query",
                "navigazione: indica avanti, indietro oppure salva.",
            ));
        }
    };
    let raw = raw_answers(json_body(body)?)?;
    match state
        .app()
        .save_bozza_step(t.id, &actor, id, &step, &raw, nav)
        .await?
    {
        StepOutcome::Go(next) => Ok(Json(PassoSalvatoDto {
            passo_successivo: next,
        })
        .into_response()),
        StepOutcome::Invalid(errors) => Ok(field_errors(&errors)),
    }
}

/// Handles `POST /api/v1/bozze/{id}/allegati`: a file for a slot of the
/// form (multipart: `allegato` = the slot's id, `file` = the file). 201
/// with the file; 422 when the slot, the kind (by content) or the size is
/// not accepted.
async fn upload(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = BozzaId(id_of(&id)?);
    let mut mp = mp.map_err(|_| WebError::UnsupportedMediaType)?;
    let bad = |m: &str| WebError::bad_request("invalid_multipart", m.to_owned());
    let mut spec: Option<String> = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|_| bad("Il corpo multipart non è valido."))?
    {
        match field.name() {
            Some("allegato") => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| bad("Il campo «allegato» non è valido."))?;
                spec = Some(text.trim().to_owned());
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("allegato").to_owned();
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|_| bad("Il file non è stato ricevuto per intero."))?
                {
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        return Err(WebError::PayloadTooLarge);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let (Some(spec_id), Some((name, bytes))) = (spec, file) else {
        return Err(WebError::unprocessable(
            "allegato_mancante",
            "Indica l'allegato del modulo (campo «allegato») e il file (campo «file»).",
        ));
    };
    let a = state
        .app()
        .upload_to_bozza(
            t.id,
            &actor,
            id,
            Upload {
                spec_id,
                name,
                bytes,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(AllegatoDto::from(&a))).into_response())
}

/// Handles `POST /api/v1/bozze/{id}/allegati/{aid}/eliminazione`: removes a
/// file (204).
async fn remove_file(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, aid)): Path<(String, String)>,
) -> Result<StatusCode, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = BozzaId(id_of(&id)?);
    let aid = AllegatoId(id_of(&aid)?);
    state.app().remove_from_bozza(t.id, &actor, id, aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Handles `POST /api/v1/bozze/{id}/eliminazione`: deletes a draft (204).
async fn discard(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = BozzaId(id_of(&id)?);
    state.app().discard_bozza(t.id, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Handles `POST /api/v1/bozze/{id}/invio`: files the istanza. 201 with the
/// receipt; the same request again (same key) answers 200 with the same
/// receipt and files nothing.
async fn submit(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<SubmitBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = BozzaId(id_of(&id)?);
    let b = json_body(body)?;
    let header = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let key = match (b.chiave.map(|k| k.trim().to_owned()), header) {
        (Some(a), Some(h)) if a != h => {
            return Err(WebError::unprocessable(
                "pratica_chiave_non_valida",
                "La chiave nel corpo e l'intestazione Idempotency-Key non coincidono.",
            ));
        }
        (Some(k), _) | (None, Some(k)) if !k.is_empty() => k,
        _ => {
            return Err(WebError::unprocessable(
                "pratica_chiave_mancante",
                "Indica la chiave della bozza (campo «chiave» o intestazione Idempotency-Key).",
            ));
        }
    };
    let declarations: RawAnswers = b
        .dichiarazioni
        .iter()
        .map(|d| (d.trim().to_owned(), vec!["si".to_owned()]))
        .collect();
    let s = state
        .app()
        .submit_bozza(t.id, &actor, id, &key, &declarations)
        .await?;
    let status = if s.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(PresentazioneDto::from(&s))).into_response())
}

/// Handles `GET /api/v1/pratiche`: the caller's pratiche, newest first.
async fn my_pratiche(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<PraticaSummaryDto>>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let list = state.app().my_pratiche(t.id, &actor).await?;
    Ok(Json(list.iter().map(|p| summary(p, None)).collect()))
}

/// Handles `GET /api/v1/pratiche/{id}`: one of the caller's pratiche.
async fn my_pratica(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<PraticaDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = PraticaId(id_of(&id)?);
    let v = state.app().my_pratica(t.id, &actor, id).await?;
    Ok(Json(pratica_dto(&v, false)))
}

/// The citizen's desk (`GET /area-personale`): messages, activities,
/// notices and the services used, as in the personal area.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScrivaniaDto {
    /// What the comune wrote, newest first.
    pub messaggi: Vec<MessaggioDto>,
    /// What the citizen did, newest first.
    pub attivita: Vec<AttivitaDto>,
    /// What waits for the citizen, nearest date first.
    pub notifiche: Vec<NotificaDto>,
    /// The services used, last used first.
    pub servizi: Vec<ServizioUsatoDto>,
}

/// A message of the comune.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessaggioDto {
    /// When.
    pub momento: Timestamp,
    /// The office.
    pub mittente: String,
    /// What about.
    pub oggetto: String,
    /// The text.
    pub testo: String,
    /// The page to read it in context.
    pub link: String,
    /// The address it was also e-mailed to.
    pub email: Option<String>,
}

/// An activity of the citizen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttivitaDto {
    /// When.
    pub momento: Timestamp,
    /// What.
    pub descrizione: String,
    /// The page, if any.
    pub link: Option<String>,
}

/// A notice waiting for the citizen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotificaDto {
    /// Stable code.
    pub codice: String,
    /// What.
    pub testo: String,
    /// By when.
    pub entro: Option<Date>,
    /// Where to act.
    pub link: String,
}

/// A service used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServizioUsatoDto {
    /// The service's slug.
    pub servizio: String,
    /// Its title.
    pub titolo: String,
    /// How many times.
    pub volte: usize,
    /// The last time.
    pub ultimo_uso: Timestamp,
    /// Where to use it again.
    pub link: String,
}

/// Handles `GET /api/v1/area-personale`: the citizen's desk.
async fn desk(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<ScrivaniaDto>, WebError> {
    actor.require(Permission::OwnProfile)?;
    let d = state.app().my_desk(t.id, &actor).await?;
    Ok(Json(ScrivaniaDto {
        messaggi: d
            .messaggi
            .into_iter()
            .map(|m| MessaggioDto {
                momento: m.at,
                mittente: m.mittente,
                oggetto: m.oggetto,
                testo: m.testo,
                link: m.link,
                email: m.email,
            })
            .collect(),
        attivita: d
            .attivita
            .into_iter()
            .map(|a| AttivitaDto {
                momento: a.at,
                descrizione: a.descrizione,
                link: a.link,
            })
            .collect(),
        notifiche: d
            .notifiche
            .into_iter()
            .map(|n| NotificaDto {
                codice: n.codice.to_owned(),
                testo: n.testo,
                entro: n.entro,
                link: n.link,
            })
            .collect(),
        servizi: d
            .servizi
            .into_iter()
            .map(|s| ServizioUsatoDto {
                servizio: s.servizio,
                titolo: s.titolo,
                volte: s.volte,
                ultimo_uso: s.ultima,
                link: s.link,
            })
            .collect(),
    }))
}

/// Handles `GET /api/v1/pratiche/{id}/passi/{seq}/documento`: the
/// document of a step of the applicant's own pratica (the provvedimento,
/// a request of the office…), as registered. 404 for another's pratica or a
/// step without a document.
async fn my_step_document(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, seq)): Path<(String, String)>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = PraticaId(id_of(&id)?);
    let seq = u32::try_from(id_of(&seq)?).map_err(|_| WebError::NotFound)?;
    let app = state.app();
    let (_, doc) = app.my_pratica_document(t.id, &actor, id, seq).await?;
    Ok(crate::upload::private_file(app, &doc).await?)
}

fn act_input(b: ActionBody) -> Result<ActInput, WebError> {
    let action: Azione = serde_json::from_value(Value::String(b.azione.trim().to_owned()))
        .map_err(|_| {
            WebError::unprocessable(
                "pratica_azione_sconosciuta",
                format!("L'azione «{}» non esiste.", b.azione.trim()),
            )
        })?;
    Ok(ActInput {
        action,
        expected_state: b.stato_atteso.trim().to_owned(),
        note: b.nota,
        files: Vec::new(),
    })
}

/// Handles `POST /api/v1/pratiche/{id}/azioni`: an action of the applicant
/// (withdrawal, …). 200 with the pratica; 409 `pratica_stato_cambiato`;
/// 422 when the procedure refuses it.
async fn my_action(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<ActionBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::OwnProfile)?;
    let id = PraticaId(id_of(&id)?);
    let input = act_input(json_body(body)?)?;
    let app = state.app();
    // Only the applicant's own pratica.
    app.my_pratica(t.id, &actor, id).await?;
    Ok(match app.act_on_pratica(t.id, &actor, id, input).await {
        Ok(v) => Json(pratica_dto(&v, false)).into_response(),
        Err(e) => act_error(e),
    })
}

/// Handles `GET /api/v1/uffici/{office}/pratiche`: the open pratiche of an
/// office, the nearest deadline first (`?scadute=true`: only the overdue).
async fn office_list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
    q: Result<Query<OfficeQuery>, QueryRejection>,
) -> Result<Json<Vec<PraticaSummaryDto>>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let Query(q) = q.map_err(|e| {
        WebError::bad_request(
            "invalid_query",
            format!("Parametri non validi: {}", e.body_text()),
        )
    })?;
    let app = state.app();
    let office = app
        .portal(t.id)
        .await?
        .office_by_slug(&office)
        .map(|o| o.id)
        .ok_or(WebError::NotFound)?;
    let list = app.office_pratiche(t.id, &actor, office).await?;
    Ok(Json(
        list.iter()
            .filter(|(_, c)| !q.scadute.unwrap_or(false) || c.overdue)
            .map(|(p, c)| summary(p, Some(c)))
            .collect(),
    ))
}

/// Handles `GET /api/v1/backoffice/pratiche/{id}`: a pratica of the
/// caller's office with its whole history.
async fn office_one(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<PraticaDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let v = state
        .app()
        .office_pratica(t.id, &actor, id)
        .await
        .map_err(hidden)?;
    Ok(Json(pratica_dto(&v, true)))
}

/// Handles `POST /api/v1/backoffice/pratiche/{id}/azioni`: a step of the
/// procedure. 200 with the pratica in its new state; 409
/// `pratica_stato_cambiato`; 422 when the procedure refuses it.
async fn office_action(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<ActionBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = PraticaId(id_of(&id)?);
    let input = act_input(json_body(body)?)?;
    let app = state.app();
    app.office_pratica(t.id, &actor, id).await.map_err(hidden)?;
    Ok(match app.act_on_pratica(t.id, &actor, id, input).await {
        Ok(v) => Json(pratica_dto(&v, true)).into_response(),
        Err(e) => act_error(e),
    })
}
