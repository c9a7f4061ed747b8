//! The protocollo in the JSON API (issue 4, part 8: "JSON API for every
//! operation"): search and read the register, register (multipart upload,
//! see [`crate::upload`]), classify and assign, annul, hand off and act on
//! hand-offs, office inboxes and the waiting-time report, and download the
//! registered documents. Callers authenticate as in [`super::staff`];
//! permissions are checked by the services.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::protocollo::{Correspondent, Flow};
use std::collections::BTreeMap;

use palazzo_services::access::Actor;
use palazzo_services::handoffs::{HandoffAction, HandoffTarget, ReturnedHandoff};
use palazzo_store::{
    DocumentRef, Handoff, HandoffDesk, HandoffId, HandoffKind, HandoffStep, OfficeId, Registration,
    RegistrationId, RegistrationSearch, TenantId, UserId,
};
use serde::{Deserialize, Serialize};

use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    let register = Needs(Permission::RegisterProtocol);
    let work = Needs(Permission::WorkOfficeCases);
    Routes::new()
        .get("/protocollo", read, search)
        .upload("/protocollo", register, crate::upload::api_register)
        .upload("/protocollo/eml", register, crate::eml::api_prefill)
        .get("/protocollo/tempi", Needs(Permission::SeeAllOffices), waits)
        .get("/protocollo/{anno}/{numero}", read, by_number)
        .get("/protocollo/voci/{id}", read, entry)
        .get("/protocollo/voci/{id}/documenti/{n}", read, document)
        .get("/protocollo/voci/{id}/segnatura", read, segnatura)
        .get("/protocollo/voci/{id}/ricevuta", read, receipt)
        .post("/protocollo/voci/{id}/classificazione", register, classify)
        .post(
            "/protocollo/voci/{id}/annullamento",
            Needs(Permission::AnnulProtocol),
            annul,
        )
        .post("/protocollo/voci/{id}/assegnazioni", register, assign)
        .get("/uffici/{office}/assegnazioni", work, inbox)
        .get("/uffici/{office}/rifiutate", work, office_returned)
        .get("/assegnazioni/mie", work, mine)
        .post("/assegnazioni/{id}", work, act)
        .merge(super::registri::router())
        .merge(super::emergenza::router())
        .merge(super::interoperabilita::router())
        .merge(super::classificazione::router())
}

/// A document of a registration, by fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DocumentDto {
    /// File name.
    pub name: String,
    /// Media type detected from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl From<&DocumentRef> for DocumentDto {
    fn from(d: &DocumentRef) -> Self {
        DocumentDto {
            name: d.name.clone(),
            media_type: d.media_type.clone(),
            size: d.size,
            sha256: d.sha256.hex(),
        }
    }
}

/// The annulment of a registration (DPR 445/2000 art. 54).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnnulmentDto {
    /// When (RFC 3339, UTC).
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// Why.
    pub reason: String,
    /// The authorising act.
    pub act: String,
}

/// A registration of the protocol register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegistrationDto {
    /// Id (for the other calls).
    pub id: i64,
    /// Register code.
    pub register: String,
    /// Register year.
    pub year: i16,
    /// Number, seven digits or more.
    pub number: String,
    /// Registration time (RFC 3339, UTC).
    pub registered_at: Timestamp,
    /// `E` (in entrata), `U` (in uscita), `I` (interno).
    pub flow: String,
    /// Oggetto.
    pub subject: String,
    /// Mittente or destinatari.
    pub correspondents: Vec<Correspondent>,
    /// Number of the received document.
    pub received_number: Option<String>,
    /// Date of the received document.
    pub received_date: Option<Date>,
    /// Primary document.
    pub primary: DocumentDto,
    /// Attachments.
    pub attachments: Vec<DocumentDto>,
    /// Who registered it.
    pub registered_by: String,
    /// Classification (titolario code).
    pub classification: Option<String>,
    /// Competent office id.
    pub office: Option<i64>,
    /// The emergency registration it recovers (art. 63): register and number.
    pub emergency: Option<String>,
    /// The annulment, if annulled.
    pub annulment: Option<AnnulmentDto>,
}

impl From<&Registration> for RegistrationDto {
    fn from(r: &Registration) -> Self {
        let d = &r.data;
        RegistrationDto {
            id: r.id.0,
            register: d.register.as_str().to_owned(),
            year: r.year,
            number: r.number.to_string(),
            registered_at: r.registered_at,
            flow: d.flow.code().to_owned(),
            subject: d.subject.clone(),
            correspondents: d.correspondents.clone(),
            received_number: d.received_number.clone(),
            received_date: d.received_date,
            primary: (&d.primary).into(),
            attachments: d.attachments.iter().map(Into::into).collect(),
            registered_by: d.registered_by.clone(),
            classification: d.classification.clone(),
            office: d.office.map(|o| o.0),
            emergency: d
                .emergency
                .as_ref()
                .map(|e| format!("{}/{:07}", e.register, e.number)),
            annulment: r.annulment.as_ref().map(|a| AnnulmentDto {
                at: a.at,
                by: a.by.clone(),
                reason: a.reason.clone(),
                act: a.act.clone(),
            }),
        }
    }
}

/// A hand-off of a registration or a whole fascicolo to an office or a
/// person (TI-5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HandoffDto {
    /// Id (for [`act`]).
    pub id: i64,
    /// The registration, when a registration is handed off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<i64>,
    /// The fascicolo, when a whole fascicolo is handed off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fascicolo: Option<i64>,
    /// `competenza` or `conoscenza`.
    pub kind: String,
    /// The office.
    pub office: i64,
    /// The person it is assigned to by name (user id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<i64>,
    /// That person's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The hand-off it continues (forwarded, or re-assigned after a refusal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
    /// The desk it was assigned from, where it comes back if refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DeskDto>,
    /// `assegnato`, `accettato`, `rifiutato`, `inoltrato`, `chiuso`.
    pub state: String,
    /// When it was assigned.
    pub assigned_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// The desk a hand-off was assigned from: an office or a person.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeskDto {
    /// The office id, for an office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<i64>,
    /// The user id, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<i64>,
    /// The person's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
}

impl HandoffDto {
    /// The hand-off, with the names of the people it names.
    pub fn new(h: &Handoff, names: &BTreeMap<UserId, String>) -> Self {
        HandoffDto {
            id: h.id.0,
            registration: h.data.subject.registration().map(|r| r.0),
            fascicolo: h.data.subject.fascicolo().map(|f| f.0),
            kind: h.data.kind.code().to_owned(),
            office: h.data.office.0,
            user: h.data.user.map(|u| u.0),
            person: h.data.user.and_then(|u| names.get(&u).cloned()),
            parent: h.data.parent.map(|p| p.0),
            from: h.data.desk.map(|d| match d {
                HandoffDesk::Office(o) => DeskDto {
                    office: Some(o.0),
                    user: None,
                    person: None,
                },
                HandoffDesk::User(u) => DeskDto {
                    office: None,
                    user: Some(u.0),
                    person: names.get(&u).cloned(),
                },
            }),
            state: h.state.code().to_owned(),
            assigned_at: h.assigned_at,
            updated_at: h.updated_at,
        }
    }
}

/// The hand-offs as JSON, with the names of the people they name.
pub(crate) async fn handoff_dtos(
    state: &AppState,
    t: TenantId,
    actor: &Actor,
    handoffs: &[Handoff],
) -> Result<Vec<HandoffDto>, WebError> {
    let names = state
        .app()
        .staff_names(t, actor, &Handoff::people(handoffs))
        .await?;
    Ok(handoffs
        .iter()
        .map(|h| HandoffDto::new(h, &names))
        .collect())
}

/// One hand-off as JSON.
pub(crate) async fn handoff_dto(
    state: &AppState,
    t: TenantId,
    actor: &Actor,
    h: &Handoff,
) -> Result<HandoffDto, WebError> {
    let mut v = handoff_dtos(state, t, actor, std::slice::from_ref(h)).await?;
    v.pop()
        .ok_or_else(|| WebError::Internal("no hand-off".into()))
}

/// A refused hand-off back at the desk it was assigned from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReturnedDto {
    /// The refused hand-off.
    pub handoff: HandoffDto,
    /// The reason given.
    pub reason: Option<String>,
    /// Who refused it.
    pub refused_by: String,
    /// When.
    pub refused_at: Timestamp,
}

async fn returned_dtos(
    state: &AppState,
    t: TenantId,
    actor: &Actor,
    returned: &[ReturnedHandoff],
) -> Result<Vec<ReturnedDto>, WebError> {
    let hs: Vec<Handoff> = returned.iter().map(|r| r.handoff.clone()).collect();
    let dtos = handoff_dtos(state, t, actor, &hs).await?;
    Ok(returned
        .iter()
        .zip(dtos)
        .map(|(r, handoff)| ReturnedDto {
            handoff,
            reason: r.refusal.note.clone(),
            refused_by: r.refusal.actor.clone(),
            refused_at: r.refusal.at,
        })
        .collect())
}

/// One step of the route of a document (the timeline).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StepDto {
    /// The hand-off.
    pub handoff: i64,
    /// What happened.
    pub action: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// Reason or note.
    pub note: Option<String>,
}

impl From<&HandoffStep> for StepDto {
    fn from(s: &HandoffStep) -> Self {
        StepDto {
            handoff: s.handoff.0,
            action: s.action.clone(),
            actor: s.actor.clone(),
            at: s.at,
            note: s.note.clone(),
        }
    }
}

/// A registration with its route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryDto {
    /// The registration.
    pub registration: RegistrationDto,
    /// Its hand-offs.
    pub handoffs: Vec<HandoffDto>,
    /// Every step, in time order.
    pub timeline: Vec<StepDto>,
    /// The validation report of its signatures (the received segnatura's,
    /// the signed documents'), verified when asked.
    pub signatures: palazzo_services::signatures::RegistrationSignatures,
    /// The changes of classification and office, oldest first.
    pub changes: Vec<ChangeDto>,
}

/// A change of the modifiable fields (art. 53): author, time, before, after.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChangeDto {
    /// 1, 2, … per registration.
    pub seq: u32,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// Classification before.
    pub old_classification: Option<String>,
    /// Classification after.
    pub new_classification: Option<String>,
    /// Office before.
    pub old_office: Option<i64>,
    /// Office after.
    pub new_office: Option<i64>,
}

impl From<&palazzo_store::ProtocolChange> for ChangeDto {
    fn from(c: &palazzo_store::ProtocolChange) -> Self {
        ChangeDto {
            seq: c.seq,
            at: c.at,
            by: c.by.clone(),
            old_classification: c.old_classification.clone(),
            new_classification: c.new_classification.clone(),
            old_office: c.old_office.map(|o| o.0),
            new_office: c.new_office.map(|o| o.0),
        }
    }
}

/// A JSON body, or the stable error for what is wrong with it.
pub(crate) fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, WebError> {
    body.map(|Json(v)| v).map_err(|rejection| match rejection {
        JsonRejection::MissingJsonContentType(_) => WebError::UnsupportedMediaType,
        JsonRejection::JsonSyntaxError(_) => WebError::bad_request(
            "invalid_json",
            "Il corpo della richiesta non è JSON valido.",
        ),
        JsonRejection::JsonDataError(e) => {
            tracing::info!(error = %e, code = "invalid_fields", "API body refused");
            WebError::unprocessable(
                "invalid_fields",
                format!("I campi della richiesta non sono validi: {}", e.body_text()),
            )
        }
        other => WebError::body_rejected(
            other.status(),
            "invalid_request",
            "La richiesta non è valida.",
        ),
    })
}

fn rome_start(d: Date) -> Result<Timestamp, WebError> {
    d.to_zoned(palazzo_domain::calendar::rome_time_zone())
        .map(|z| z.timestamp())
        .map_err(|_| WebError::bad_request("invalid_date", "Data non valida."))
}

/// Search criteria (all optional, combined with AND).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Register year.
    pub anno: Option<i16>,
    /// Registered on or after this date (Europe/Rome).
    pub dal: Option<Date>,
    /// Registered on or before this date (Europe/Rome).
    pub al: Option<Date>,
    /// Text in a correspondent.
    pub corrispondente: Option<String>,
    /// Words of the oggetto, separated by spaces.
    pub oggetto: Option<String>,
    /// Classification (with its subdivisions).
    pub classifica: Option<String>,
    /// `E`, `U` or `I`.
    pub flusso: Option<String>,
    /// Paging: entries with an id below this.
    pub prima: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limite: Option<u32>,
}

impl SearchQuery {
    /// The store's search, or a 400 naming the bad criterion.
    pub fn to_search(&self) -> Result<(RegistrationSearch, u32), WebError> {
        let flow = match self.flusso.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(Flow::parse(f).map_err(|_| {
                WebError::bad_request("invalid_flow", "Il flusso è E, U oppure I.")
            })?),
        };
        let until = match self.al {
            Some(d) => Some(rome_start(d.tomorrow().map_err(|_| {
                WebError::bad_request("invalid_date", "Data non valida.")
            })?)?),
            None => None,
        };
        let q = RegistrationSearch {
            register: palazzo_domain::protocollo::RegisterCode::general()
                .as_str()
                .to_owned(),
            year: self.anno,
            from: self.dal.map(rome_start).transpose()?,
            until,
            correspondent: self.corrispondente.clone(),
            words: self
                .oggetto
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .take(10)
                .map(str::to_owned)
                .collect(),
            classification: self.classifica.clone(),
            flow,
            before: self.prima.map(RegistrationId),
            unclassified: false,
        };
        Ok((q, self.limite.unwrap_or(50).clamp(1, 200)))
    }
}

/// The page of results with the cursor for the next one.
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchPage {
    /// Matching registrations, newest first.
    pub items: Vec<RegistrationDto>,
    /// Pass as `prima` for the next page; absent on the last page.
    pub next: Option<i64>,
}

async fn search(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    q: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchPage>, WebError> {
    // Authorization before parsing: an anonymous caller learns nothing.
    actor.require(Permission::ReadProtocol)?;
    let Query(q) = q.map_err(|e| {
        WebError::bad_request(
            "invalid_query",
            format!("Parametri di ricerca non validi: {}", e.body_text()),
        )
    })?;
    let (search, limit) = q.to_search()?;
    let rows = state
        .app()
        .search_protocol(t.id, &actor, &search, limit)
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.0))
        .flatten();
    Ok(Json(SearchPage {
        items: rows.iter().map(Into::into).collect(),
        next,
    }))
}

async fn by_number(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((year, number)): Path<(String, String)>,
) -> Result<Json<RegistrationDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let (Ok(year), Ok(number)) = (year.parse::<i16>(), number.parse::<u64>()) else {
        return Err(WebError::NotFound);
    };
    let r = state
        .app()
        .protocol_by_number(t.id, &actor, year, number)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Json((&r).into()))
}

fn id_of(s: &str) -> Result<i64, WebError> {
    s.parse().map_err(|_| WebError::NotFound)
}

async fn entry(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<EntryDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let id = RegistrationId(id_of(&id)?);
    let app = state.app();
    let r = app.protocol_entry(t.id, &actor, id).await?;
    let (handoffs, steps) = app.protocol_route(t.id, &actor, id).await?;
    let signatures = app.protocol_signatures(t.id, &actor, id).await?;
    Ok(Json(EntryDto {
        registration: (&r).into(),
        handoffs: handoff_dtos(&state, t.id, &actor, &handoffs).await?,
        timeline: steps.iter().map(Into::into).collect(),
        signatures,
        changes: app
            .protocol_changes(t.id, &actor, id)
            .await?
            .iter()
            .map(Into::into)
            .collect(),
    }))
}

async fn document(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let id = RegistrationId(id_of(&id)?);
    let n: usize = n.parse().map_err(|_| WebError::NotFound)?;
    crate::upload::download(&state, t.id, &actor, id, n).await
}

/// The modifiable fields (LG §3). Any other field — the fixed ones of art.
/// 53 — is refused with 422 `fixed_field` (PR-3).
#[derive(Debug, Deserialize)]
pub struct ClassifyBody {
    /// New classification: absent keeps the current one, `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub classification: Option<Option<String>>,
    /// New competent office id: absent keeps the current one, `null` clears
    /// it.
    #[serde(default, deserialize_with = "present")]
    pub office: Option<Option<i64>>,
    /// Anything else.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

async fn classify(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<ClassifyBody>, JsonRejection>,
) -> Result<Json<RegistrationDto>, WebError> {
    actor.require(Permission::RegisterProtocol)?;
    let id = RegistrationId(id_of(&id)?);
    let b = json_body(body)?;
    if let Some(field) = b.rest.keys().next() {
        tracing::info!(
            code = "fixed_field",
            field,
            "change of a fixed field refused"
        );
        return Err(WebError::unprocessable(
            "fixed_field",
            format!(
                "Il campo «{field}» non si può modificare: dopo la registrazione si possono \
                 cambiare solo classificazione e ufficio (DPR 445/2000 art. 53); per correggere \
                 un campo fisso si annulla la registrazione."
            ),
        ));
    }
    // A field left out keeps its value (the service reads it).
    let r = state
        .app()
        .update_protocol_assignment(
            t.id,
            &actor,
            id,
            b.classification.as_ref().map(Option::as_deref),
            b.office.map(|o| o.map(OfficeId)),
        )
        .await?;
    Ok(Json((&r).into()))
}

/// Deserializes a field that is present (possibly `null`) as `Some(_)`;
/// with `#[serde(default)]` an absent field stays `None`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An annulment request (art. 54).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnulBody {
    /// Why.
    pub reason: String,
    /// The authorising act (provvedimento).
    pub act: String,
}

async fn annul(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<AnnulBody>, JsonRejection>,
) -> Result<Json<RegistrationDto>, WebError> {
    actor.require(Permission::AnnulProtocol)?;
    let id = RegistrationId(id_of(&id)?);
    let b = json_body(body)?;
    let r = state
        .app()
        .annul_protocol(t.id, &actor, id, &b.reason, &b.act)
        .await?;
    Ok(Json((&r).into()))
}

/// A hand-off to an office, a person, or a person within an office.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The office id (for a person: optional when they work in one office).
    #[serde(default)]
    pub office: Option<i64>,
    /// The person (a staff user id).
    #[serde(default)]
    pub user: Option<i64>,
    /// `competenza` or `conoscenza`.
    pub kind: String,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
}

impl AssignBody {
    /// Whom it goes to.
    pub fn target(&self) -> HandoffTarget {
        HandoffTarget {
            office: self.office.map(OfficeId),
            user: self.user.map(UserId),
        }
    }
}

pub(crate) fn kind_of(s: &str) -> Result<HandoffKind, WebError> {
    HandoffKind::from_code(s.trim()).ok_or_else(|| {
        WebError::unprocessable(
            "handoff_kind",
            "Il tipo di assegnazione è «competenza» oppure «conoscenza».",
        )
    })
}

async fn assign(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::RegisterProtocol)?;
    let id = RegistrationId(id_of(&id)?);
    let b = json_body(body)?;
    let kind = kind_of(&b.kind)?;
    let h = state
        .app()
        .assign_protocol(t.id, &actor, id, kind, b.target(), b.note.as_deref())
        .await?;
    let dto = handoff_dto(&state, t.id, &actor, &h).await?;
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// An office of the comune by slug or id.
async fn office_of(state: &AppState, t: TenantId, office: &str) -> Result<OfficeId, WebError> {
    let snap = state.app().portal(t).await?;
    snap.offices
        .iter()
        .find(|o| o.data.slug == office || o.id.0.to_string() == office)
        .map(|o| o.id)
        .ok_or(WebError::NotFound)
}

async fn inbox(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
) -> Result<Json<Vec<HandoffDto>>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let office = office_of(&state, t.id, &office).await?;
    let rows = state.app().office_inbox(t.id, &actor, office).await?;
    Ok(Json(handoff_dtos(&state, t.id, &actor, &rows).await?))
}

/// Handles `GET /api/v1/uffici/{office}/rifiutate`: the refused hand-offs
/// back at the office (assigned from it), with reason and refuser.
async fn office_returned(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
) -> Result<Json<Vec<ReturnedDto>>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let office = office_of(&state, t.id, &office).await?;
    let rows = state
        .app()
        .returned_handoffs(t.id, &actor, HandoffDesk::Office(office))
        .await?;
    Ok(Json(returned_dtos(&state, t.id, &actor, &rows).await?))
}

/// The personal inbox: hand-offs assigned by name, and refused ones back
/// at the person who assigned them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MineDto {
    /// Open hand-offs assigned to the caller, oldest first.
    pub assegnazioni: Vec<HandoffDto>,
    /// Refused hand-offs the caller assigned, not yet re-assigned or noted.
    pub rifiutate: Vec<ReturnedDto>,
}

/// Handles `GET /api/v1/assegnazioni/mie` ("Le mie assegnazioni").
async fn mine(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<MineDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let app = state.app();
    let open = app.my_handoffs(t.id, &actor).await?;
    let back = app.my_returned_handoffs(t.id, &actor).await?;
    Ok(Json(MineDto {
        assegnazioni: handoff_dtos(&state, t.id, &actor, &open).await?,
        rifiutate: returned_dtos(&state, t.id, &actor, &back).await?,
    }))
}

/// An action on a hand-off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    /// `accetta`, `rifiuta`, `chiudi` or `inoltra`.
    pub action: String,
    /// The reason (required to refuse) or a note.
    #[serde(default)]
    pub note: Option<String>,
    /// For `inoltra` and `riassegna`: the office id.
    #[serde(default)]
    pub office: Option<i64>,
    /// For `inoltra` and `riassegna`: the person (a staff user id).
    #[serde(default)]
    pub user: Option<i64>,
}

async fn act(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<ActBody>, JsonRejection>,
) -> Result<Json<HandoffDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = HandoffId(id_of(&id)?);
    let b = json_body(body)?;
    let app = state.app();
    let note = b.note.as_deref();
    let to = HandoffTarget {
        office: b.office.map(OfficeId),
        user: b.user.map(UserId),
    };
    let h = match b.action.trim() {
        "accetta" => {
            app.act_on_handoff(t.id, &actor, id, HandoffAction::Accept, note)
                .await?
        }
        "rifiuta" => {
            app.act_on_handoff(t.id, &actor, id, HandoffAction::Reject, note)
                .await?
        }
        "chiudi" => {
            app.act_on_handoff(t.id, &actor, id, HandoffAction::Close, note)
                .await?
        }
        "inoltra" | "riassegna" if b.office.is_none() && b.user.is_none() => {
            return Err(WebError::unprocessable(
                "office_missing",
                "Indicare l'ufficio o la persona a cui assegnare.",
            ));
        }
        "inoltra" => app.forward_handoff(t.id, &actor, id, to, note).await?,
        "riassegna" => {
            app.reassign_refused_handoff(t.id, &actor, id, to, note)
                .await?
        }
        "prendi_atto" => {
            app.acknowledge_refused_handoff(t.id, &actor, id, note)
                .await?
        }
        _ => {
            return Err(WebError::unprocessable(
                "handoff_action",
                "L'azione è «accetta», «rifiuta», «chiudi», «inoltra», «riassegna» oppure «prendi_atto».",
            ));
        }
    };
    Ok(Json(handoff_dto(&state, t.id, &actor, &h).await?))
}

/// Waiting time of one office.
#[derive(Debug, Serialize, Deserialize)]
pub struct WaitDto {
    /// The office id.
    pub office: i64,
    /// A person of the office (user id): the hand-offs assigned to them by
    /// name; absent on the office's own row, which counts every hand-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<i64>,
    /// That person's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// Hand-offs acted on.
    pub handled: u32,
    /// Hand-offs still waiting.
    pub waiting: u32,
    /// Average wait of the handled ones, in seconds.
    pub average_seconds: i64,
    /// Longest wait, handled or still waiting, in seconds.
    pub longest_seconds: i64,
}

async fn waits(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<WaitDto>>, WebError> {
    let rows = state
        .app()
        .office_waits(t.id, &actor, Timestamp::now())
        .await?;
    let names = state
        .app()
        .staff_names(
            t.id,
            &actor,
            &rows.iter().filter_map(|w| w.user).collect::<Vec<_>>(),
        )
        .await?;
    Ok(Json(
        rows.iter()
            .map(|w| WaitDto {
                office: w.office.0,
                user: w.user.map(|u| u.0),
                person: w.user.and_then(|u| names.get(&u).cloned()),
                handled: w.handled,
                waiting: w.waiting,
                average_seconds: w.average.as_secs(),
                longest_seconds: w.longest.as_secs(),
            })
            .collect(),
    ))
}

/// Handles `GET /api/v1/protocollo/voci/{id}/segnatura`: the segnatura
/// XML of a registration as stored (Allegato 6: signed with the AOO seal
/// for an outgoing entry, the received one for an incoming message); 404
/// when the registration has none.
async fn segnatura(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = RegistrationId(id_of(&id)?);
    let (_, xml) = state
        .app()
        .protocol_segnatura(t.id, &actor, id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/xml; charset=utf-8",
        )],
        xml,
    )
        .into_response())
}

/// Handles `GET /api/v1/protocollo/voci/{id}/ricevuta`: the ricevuta di
/// protocollo (PDF/A-3 with the proof bundle, `docs/receipt-format.md`);
/// 503 `receipt_not_ready` with `Retry-After` while no signed checkpoint
/// covers the registration.
async fn receipt(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = RegistrationId(id_of(&id)?);
    let file = state.app().protocol_receipt(t.id, &actor, id).await?;
    Ok(crate::upload::receipt_download(file))
}
