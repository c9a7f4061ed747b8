//! The titolario and the fascicoli in the JSON API (issue 4, part 3;
//! docs/fascicoli.md): search, read, open and close fascicoli, file and
//! unfile registrations, download the index (XML or CSV), and read the
//! ente's titolario. Callers authenticate with [`ApiAuth`]; permissions are
//! checked by the services (and first here, so that an anonymous caller
//! learns nothing from a malformed request).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_services::fascicoli::{FascicoloInput, RestrictionInput, TitolarioEdit};
use palazzo_store::{
    Fascicolo, FascicoloKind, FascicoloQuery, FascicoloRestriction, FascicoloRowId, FascicoloState,
    OfficeId, RegistrationId, TitolarioVersion, TitolarioVersionInfo, UserId,
};
use serde::{Deserialize, Serialize};

use super::protocollo::{AssignBody, HandoffDto, StepDto, json_body, kind_of};
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    let work = Needs(Permission::WorkOfficeCases);
    let manage = Needs(Permission::ManageTitolario);
    Routes::new()
        .get("/titolario", Needs(Permission::BackOffice), titolario)
        .get(
            "/titolario/versioni",
            Needs(Permission::BackOffice),
            titolario_versions,
        )
        .post("/titolario/classi", manage, add_class)
        .post("/titolario/voci/{voce}/nome", manage, rename_voice)
        .post("/titolario/voci/{voce}/chiusura", manage, close_voice)
        .get("/fascicoli", read, search)
        .post("/fascicoli", work, open)
        .get("/fascicoli/{id}", read, fascicolo)
        .post("/fascicoli/{id}/documenti", work, documents)
        .post("/fascicoli/{id}/chiusura", work, close)
        .get("/fascicoli/{id}/indice", read, index)
        .get("/fascicoli/{id}/assegnazioni", read, route)
        .post("/fascicoli/{id}/assegnazioni", work, assign)
        .post("/fascicoli/{id}/riservatezza", work, restrict)
}

/// A document filed in a fascicolo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FiledDto {
    /// The registration id.
    pub registration: i64,
    /// When it was filed (RFC 3339, UTC).
    pub added_at: Timestamp,
    /// By whom.
    pub added_by: String,
}

/// A fascicolo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FascicoloDto {
    /// Id (for the other calls).
    pub id: i64,
    /// Identifier `YYYY-<titolo>.<classe>-<n>`.
    pub code: String,
    /// Opening year.
    pub year: i16,
    /// Progressive number within class and year.
    pub number: u32,
    /// Classification (a voice of the ente's titolario).
    pub classification: String,
    /// The titolario version in force when it was opened.
    pub titolario_version: u32,
    /// `procedimento`, `affare`, `attivita`, `persona_fisica`, `persona_giuridica`.
    pub kind: String,
    /// Oggetto.
    pub subject: String,
    /// The responsible office id.
    pub office: i64,
    /// Responsabile del procedimento.
    pub responsible: String,
    /// Other participating administrations.
    pub participants: Vec<String>,
    /// The person or organisation it is about.
    pub holder: Option<String>,
    /// The parent fascicolo id, for a sub-fascicolo.
    pub parent: Option<i64>,
    /// Opening date (Europe/Rome).
    pub opened_on: Date,
    /// Who opened it.
    pub opened_by: String,
    /// Closing date, once closed.
    pub closed_on: Option<Date>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// Its documents (only when one fascicolo is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<FiledDto>>,
    /// The restricted area, when the fascicolo is riservato (TI-6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<RestrictionDto>,
}

/// The restricted area of a fascicolo (TI-6; CAD art. 41 c.2-quater).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RestrictionDto {
    /// Designated office ids (besides the responsible office).
    pub offices: Vec<i64>,
    /// Designated user ids.
    pub users: Vec<i64>,
    /// When it was set.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}

impl From<&FascicoloRestriction> for RestrictionDto {
    fn from(r: &FascicoloRestriction) -> Self {
        RestrictionDto {
            offices: r.offices.iter().map(|o| o.0).collect(),
            users: r.users.iter().map(|u| u.0).collect(),
            at: r.at,
            by: r.by.clone(),
        }
    }
}

impl From<&Fascicolo> for FascicoloDto {
    fn from(f: &Fascicolo) -> Self {
        let d = &f.data;
        FascicoloDto {
            id: f.id.0,
            code: f.code.clone(),
            year: f.year,
            number: f.number,
            classification: d.classification.clone(),
            titolario_version: d.titolario_version,
            kind: d.kind.code().to_owned(),
            subject: d.subject.clone(),
            office: d.office.0,
            responsible: d.responsible.clone(),
            participants: d.participants.clone(),
            holder: d.holder.clone(),
            parent: d.parent.map(|p| p.0),
            opened_on: d.opened_on,
            opened_by: d.opened_by.clone(),
            closed_on: f.closure.as_ref().map(|c| c.on),
            closed_by: f.closure.as_ref().map(|c| c.by.clone()),
            documents: None,
            restriction: f.restriction.as_ref().map(Into::into),
        }
    }
}

impl From<&FascicoloState> for FascicoloDto {
    fn from(s: &FascicoloState) -> Self {
        let mut dto = FascicoloDto::from(&s.fascicolo);
        dto.documents = Some(
            s.documents
                .iter()
                .map(|d| FiledDto {
                    registration: d.registration.0,
                    added_at: d.added_at,
                    added_by: d.added_by.clone(),
                })
                .collect(),
        );
        dto
    }
}

fn id_of(s: &str) -> Result<FascicoloRowId, WebError> {
    s.parse()
        .map(FascicoloRowId)
        .map_err(|_| WebError::NotFound)
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, WebError> {
    q.map(|Query(v)| v).map_err(|e| {
        WebError::bad_request(
            "invalid_query",
            format!("Parametri non validi: {}", e.body_text()),
        )
    })
}

/// Search criteria (all optional, combined with AND).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Classification (exact voice, e.g. `VI.3`).
    pub classifica: Option<String>,
    /// Opening year.
    pub anno: Option<i16>,
    /// Words of the oggetto.
    pub oggetto: Option<String>,
    /// Responsible office id.
    pub ufficio: Option<i64>,
    /// Only open fascicoli.
    #[serde(default)]
    pub aperti: bool,
    /// Paging: fascicoli with an id above this.
    pub dopo: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limite: Option<u32>,
}

/// A page of fascicoli with the cursor for the next one.
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchPage {
    /// Matching fascicoli, oldest first.
    pub items: Vec<FascicoloDto>,
    /// Pass as `dopo` for the next page; absent on the last page.
    pub next: Option<i64>,
}

/// Handles `GET /api/v1/fascicoli`.
async fn search(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchPage>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let q = query(q)?;
    let limit = q.limite.unwrap_or(50).clamp(1, 200);
    let rows = state
        .app()
        .search_fascicoli(
            t.id,
            &actor,
            FascicoloQuery {
                classification: q.classifica,
                year: q.anno,
                subject: q.oggetto.filter(|s| !s.trim().is_empty()),
                office: q.ufficio.map(OfficeId),
                open_only: q.aperti,
                after: q.dopo.map(FascicoloRowId),
                limit,
            },
        )
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|f| f.id.0))
        .flatten();
    Ok(Json(SearchPage {
        items: rows.iter().map(Into::into).collect(),
        next,
    }))
}

/// Handles `GET /api/v1/fascicoli/{id}`: the fascicolo with its documents.
async fn fascicolo(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<FascicoloDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let s = state.app().fascicolo(t.id, &actor, id_of(&id)?).await?;
    Ok(Json((&s).into()))
}

/// The opening of a fascicolo (CAD art. 41 c.2-ter).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// Classification (a voice of the titolario); a sub-fascicolo takes
    /// its parent's and may omit it.
    #[serde(default)]
    pub classification: String,
    /// `procedimento`, `affare`, `attivita`, `persona_fisica`, `persona_giuridica`.
    pub kind: String,
    /// Oggetto.
    pub subject: String,
    /// The responsible office id.
    pub office: i64,
    /// Responsabile del procedimento.
    pub responsible: String,
    /// Other participating administrations.
    #[serde(default)]
    pub participants: Vec<String>,
    /// The person or organisation (required for the persona kinds).
    #[serde(default)]
    pub holder: Option<String>,
    /// The parent fascicolo id, for a sub-fascicolo.
    #[serde(default)]
    pub parent: Option<i64>,
}

/// Handles `POST /api/v1/fascicoli`: opens a fascicolo (201).
async fn open(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<OpenBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let b = json_body(body)?;
    let kind = FascicoloKind::from_code(b.kind.trim()).ok_or_else(|| {
        WebError::unprocessable(
            "fascicolo_tipo",
            "Il tipo di fascicolo è procedimento, affare, attivita, persona_fisica o persona_giuridica.",
        )
    })?;
    let s = state
        .app()
        .open_fascicolo(
            t.id,
            &actor,
            FascicoloInput {
                classification: b.classification,
                kind,
                subject: b.subject,
                office: OfficeId(b.office),
                responsible: b.responsible,
                participants: b.participants,
                holder: b.holder,
                parent: b.parent.map(FascicoloRowId),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(FascicoloDto::from(&s))).into_response())
}

/// Filing or unfiling a registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// The registration id.
    pub registration: i64,
    /// `inserisci` (the default) or `togli`.
    #[serde(default)]
    pub action: Option<String>,
}

/// Handles `POST /api/v1/fascicoli/{id}/documenti`: files a registration
/// into the fascicolo (or takes it out with `"action": "togli"`).
async fn documents(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<DocumentBody>, JsonRejection>,
) -> Result<Json<FascicoloDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = id_of(&id)?;
    let b = json_body(body)?;
    let app = state.app();
    let r = RegistrationId(b.registration);
    let s = match b.action.as_deref().map(str::trim) {
        None | Some("") | Some("inserisci") => app.file_document(t.id, &actor, id, r).await?,
        Some("togli") => app.unfile_document(t.id, &actor, id, r).await?,
        Some(_) => {
            return Err(WebError::unprocessable(
                "fascicolo_azione",
                "L'azione è «inserisci» oppure «togli».",
            ));
        }
    };
    Ok(Json((&s).into()))
}

/// Handles `POST /api/v1/fascicoli/{id}/chiusura`: closes the fascicolo
/// (then nothing can be filed into it or taken out, TI-4).
async fn close(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<FascicoloDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let s = state
        .app()
        .close_fascicolo(t.id, &actor, id_of(&id)?)
        .await?;
    Ok(Json((&s).into()))
}

/// Format of the index.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IndexQuery {
    /// `xml` (the default) or `csv`.
    pub formato: Option<String>,
}

/// Handles `GET /api/v1/fascicoli/{id}/indice`: the index of the
/// fascicolo's documents, XML (default) or CSV.
async fn index(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    q: Result<Query<IndexQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let id = id_of(&id)?;
    let q = query(q)?;
    let csv = match q.formato.as_deref().map(str::trim) {
        None | Some("") | Some("xml") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(WebError::bad_request(
                "invalid_format",
                "Il formato dell'indice è xml oppure csv.",
            ));
        }
    };
    let idx = state.app().fascicolo_index(t.id, &actor, id).await?;
    let (body, mime, ext) = if csv {
        (idx.csv(), "text/csv; charset=utf-8", "csv")
    } else {
        (idx.xml(), "application/xml; charset=utf-8", "xml")
    };
    let name = format!("indice-{}.{ext}", idx.fascicolo.code);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                crate::upload::attachment(&name),
            ),
        ],
        body,
    )
        .into_response())
}

/// A voice of the titolario.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VoiceDto {
    /// Code (`VI`, `VI.3`).
    pub code: String,
    /// Titolo number.
    pub titolo: u8,
    /// Class number; absent for a titolo.
    pub classe: Option<u16>,
    /// Name.
    pub name: String,
    /// Closed: no new classification under it.
    pub closed: bool,
}

/// A version of the ente's titolario.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TitolarioDto {
    /// 1, 2, 3… (1 is the 2005 titolario).
    pub version: u32,
    /// When it was made.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
    /// What changed.
    pub change: String,
    /// The voices, in titolario order.
    pub voices: Vec<VoiceDto>,
}

impl From<&TitolarioVersion> for TitolarioDto {
    fn from(v: &TitolarioVersion) -> Self {
        TitolarioDto {
            version: v.info.version,
            created_at: v.info.created_at,
            created_by: v.info.created_by.clone(),
            change: v.info.change.clone(),
            voices: v
                .classes
                .iter()
                .map(|c| VoiceDto {
                    code: c.code.clone(),
                    titolo: c.titolo,
                    classe: c.classe,
                    name: c.name.clone(),
                    closed: c.closed,
                })
                .collect(),
        }
    }
}

/// Which version of the titolario.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TitolarioQuery {
    /// A version number; the current one when absent.
    pub versione: Option<u32>,
}

/// Handles `GET /api/v1/titolario`: the current titolario of the ente (or
/// an earlier version with `versione`).
async fn titolario(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    q: Result<Query<TitolarioQuery>, QueryRejection>,
) -> Result<Json<TitolarioDto>, WebError> {
    actor.require(Permission::BackOffice)?;
    let q = query(q)?;
    let v = state.app().titolario(t.id, &actor, q.versione).await?;
    Ok(Json((&v).into()))
}

/// A version of the titolario in the list of versions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TitolarioVersionDto {
    /// 1, 2, 3… (1 is the 2005 titolario).
    pub version: u32,
    /// When it was made.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
    /// What changed.
    pub change: String,
}

impl From<&TitolarioVersionInfo> for TitolarioVersionDto {
    fn from(i: &TitolarioVersionInfo) -> Self {
        TitolarioVersionDto {
            version: i.version,
            created_at: i.created_at,
            created_by: i.created_by.clone(),
            change: i.change.clone(),
        }
    }
}

/// Handles `GET /api/v1/titolario/versioni`: every version of the ente's
/// titolario, oldest first (the list of the titolario page).
async fn titolario_versions(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<TitolarioVersionDto>>, WebError> {
    actor.require(Permission::BackOffice)?;
    let history = state.app().titolario_history(t.id, &actor).await?;
    Ok(Json(history.iter().map(Into::into).collect()))
}

/// A class to add to a titolo.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddClassBody {
    /// The titolo's code (`VI`).
    pub titolo: String,
    /// The class name.
    pub name: String,
}

/// The new name of a voice.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    /// The new name.
    pub name: String,
}

/// Makes the next version of the titolario with `edit`: the service the
/// titolario page's form calls (`App::edit_titolario`, ledgered as
/// `titolario.version`), with the same permission.
async fn new_version(
    state: &AppState,
    t: palazzo_store::TenantId,
    actor: &palazzo_services::access::Actor,
    edit: TitolarioEdit,
) -> Result<TitolarioDto, WebError> {
    let v = state.app().edit_titolario(t, actor, edit).await?;
    Ok((&v).into())
}

/// Handles `POST /api/v1/titolario/classi`: adds a class to a titolo,
/// numbered after its last class (201 with the new version).
async fn add_class(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<AddClassBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageTitolario)?;
    let b = json_body(body)?;
    let v = new_version(
        &state,
        t.id,
        &actor,
        TitolarioEdit::AddClass {
            titolo: b.titolo,
            name: b.name,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// Handles `POST /api/v1/titolario/voci/{voce}/nome`: renames a voice
/// (documents keep their code); the new version.
async fn rename_voice(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(voce): Path<String>,
    body: Result<Json<RenameBody>, JsonRejection>,
) -> Result<Json<TitolarioDto>, WebError> {
    actor.require(Permission::ManageTitolario)?;
    let b = json_body(body)?;
    let edit = TitolarioEdit::Rename {
        code: voce,
        name: b.name,
    };
    Ok(Json(new_version(&state, t.id, &actor, edit).await?))
}

/// Handles `POST /api/v1/titolario/voci/{voce}/chiusura`: closes a voice
/// (a titolo with all its classes): nothing new is classified under it,
/// nothing already classified changes (TI-3); the new version.
async fn close_voice(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(voce): Path<String>,
) -> Result<Json<TitolarioDto>, WebError> {
    actor.require(Permission::ManageTitolario)?;
    let edit = TitolarioEdit::Close { code: voce };
    Ok(Json(new_version(&state, t.id, &actor, edit).await?))
}

/// The route of a fascicolo: its hand-offs and every step (TI-5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RouteDto {
    /// The hand-offs, oldest first.
    pub handoffs: Vec<HandoffDto>,
    /// Every step, in time order.
    pub timeline: Vec<StepDto>,
}

/// Handles `GET /api/v1/fascicoli/{id}/assegnazioni`: the hand-offs of the
/// fascicolo and their steps.
async fn route(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<RouteDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let (handoffs, steps) = state
        .app()
        .fascicolo_route(t.id, &actor, id_of(&id)?)
        .await?;
    Ok(Json(RouteDto {
        handoffs: super::protocollo::handoff_dtos(&state, t.id, &actor, &handoffs).await?,
        timeline: steps.iter().map(Into::into).collect(),
    }))
}

/// Handles `POST /api/v1/fascicoli/{id}/assegnazioni`: hands the whole
/// fascicolo to an office (201 with the hand-off); the office acts on it
/// with `POST /api/v1/assegnazioni/{id}` like on a registration's.
async fn assign(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = id_of(&id)?;
    let b = json_body(body)?;
    let kind = kind_of(&b.kind)?;
    let h = state
        .app()
        .assign_fascicolo(t.id, &actor, id, kind, b.target(), b.note.as_deref())
        .await?;
    let dto = super::protocollo::handoff_dto(&state, t.id, &actor, &h).await?;
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Sets or lifts the restricted area of a fascicolo.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictBody {
    /// `true` to make it riservato (with the designated subjects), `false`
    /// to lift the restriction.
    pub restricted: bool,
    /// Designated office ids.
    #[serde(default)]
    pub offices: Vec<i64>,
    /// Designated user ids.
    #[serde(default)]
    pub users: Vec<i64>,
}

/// Handles `POST /api/v1/fascicoli/{id}/riservatezza`: makes the fascicolo
/// riservato with the designated offices and users, or lifts it (TI-6).
async fn restrict(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<RestrictBody>, JsonRejection>,
) -> Result<Json<FascicoloDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id = id_of(&id)?;
    let b = json_body(body)?;
    let input = b.restricted.then(|| RestrictionInput {
        offices: b.offices.into_iter().map(OfficeId).collect(),
        users: b.users.into_iter().map(UserId).collect(),
    });
    let s = state
        .app()
        .restrict_fascicolo(t.id, &actor, id, input)
        .await?;
    Ok(Json((&s).into()))
}
