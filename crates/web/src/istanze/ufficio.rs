//! The office's work on a pratica on the web (issue 6, part 4): the
//! responsabile del procedimento named, the transfer to another office,
//! internal opinions asked and answered ("Pareri richiesti al mio
//! ufficio"), messages between the applicant and the office. Plain forms
//! (CSRF in the body, or in the action URL for uploads), no JavaScript; a
//! refusal shows the page again with the error (role=alert) and its code.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use palazzo_domain::access::Permission;
use palazzo_services::access::Actor;
use palazzo_services::pratiche::{
    EsitoParere, MessageInput, ParereAnswer, ParereInterno, ParereRequest, PraticaView, Upload,
};
use palazzo_services::{App, ServiceError};
use palazzo_store::{OfficeId, PraticaId, Tenant, TenantId, UserId};
use serde::Deserialize;

use super::{citizen_outcome, date_it, id_of, invalid, render, render_office};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome, see_other};
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::{Crumb, Shell};

/// A message as the pages show it.
pub(super) struct MsgRow {
    pub date: String,
    pub from: String,
    pub text: String,
    pub internal: bool,
    pub file: Option<String>,
    /// Where the file downloads ([`message_document_path`]).
    pub file_link: Option<String>,
}

/// An internal opinion as the pages show it.
pub(super) struct ParereRow {
    pub pratica: i64,
    pub seq: u32,
    pub subject: String,
    pub office: String,
    pub from_office: String,
    pub text: String,
    pub asked: String,
    pub due: String,
    pub overdue: bool,
    pub outcome: Option<String>,
    pub answer: Option<String>,
    pub answered: Option<String>,
    /// The name of the document that came with the answer (linked from
    /// [`parere_document_path`]).
    pub file: Option<String>,
}

pub(super) fn msg_rows(view: &palazzo_services::pratiche::PraticaView, staff: bool) -> Vec<MsgRow> {
    view.messaggi
        .iter()
        .map(|m| MsgRow {
            date: rome(m.at),
            from: if m.dal_richiedente {
                "Richiedente".into()
            } else if staff {
                format!("Ufficio ({})", m.autore)
            } else {
                "Ufficio".into()
            },
            text: m.testo.clone(),
            internal: !m.pubblico,
            file: m.documento.as_ref().map(|d| d.name.clone()),
            file_link: m
                .documento
                .as_ref()
                .map(|_| message_document_path(view.pratica.id, m.seq, staff)),
        })
        .collect()
}

/// Where the file of the message at step `seq` downloads: the back
/// office's path for staff, the personal area's for the applicant (the
/// API: the same under `/api/v1`, without `/area-personale`).
pub(crate) fn message_document_path(pratica: PraticaId, seq: u32, staff: bool) -> String {
    if staff {
        format!(
            "/backoffice/pratiche/{}/messaggi/{seq}/documento",
            pratica.0
        )
    } else {
        format!(
            "/area-personale/pratiche/{}/messaggi/{seq}/documento",
            pratica.0
        )
    }
}

/// The file of the message at step `seq`, as a download: for the staff
/// of the pratica's office every message's (internal notes included), for
/// the applicant only the messages they see. `NotFound` for a step that
/// is not a message with a file; another office's staff are refused as on
/// the pratica's page, another citizen gets `NotFound`.
pub(crate) async fn message_document(
    app: &App,
    tenant: TenantId,
    actor: &Actor,
    id: PraticaId,
    seq: u32,
    staff: bool,
) -> Result<Response, ServiceError> {
    // The caller's standing first: a stranger learns nothing of which
    // pratiche exist.
    let view = if staff {
        actor.require(Permission::WorkOfficeCases)?;
        app.office_pratica(tenant, actor, id).await?
    } else {
        actor.require(Permission::OwnProfile)?;
        app.my_pratica(tenant, actor, id).await?
    };
    let doc = view
        .messaggi
        .iter()
        .find(|m| m.seq == seq && (staff || m.pubblico))
        .and_then(|m| m.documento.clone())
        .ok_or(ServiceError::NotFound)?;
    crate::upload::private_file(app, &doc).await
}

/// Handles `GET /backoffice/pratiche/{id}/messaggi/{seq}/documento` and
/// `GET /area-personale/pratiche/{id}/messaggi/{seq}/documento`: a
/// message's file ([`message_document`]).
async fn message_download(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: &str,
    seq: &str,
    staff: bool,
) -> Response {
    let path = if staff {
        format!("/backoffice/pratiche/{id}")
    } else {
        format!("/area-personale/pratiche/{id}")
    };
    let result = async {
        let id = PraticaId(id_of(id)?);
        let seq = u32::try_from(id_of(seq)?).map_err(|_| ServiceError::NotFound)?;
        message_document(state.app(), t.id, &auth.actor, id, seq, staff).await
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// The back office's route of [`message_download`].
pub(super) async fn office_message_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, seq)): Path<(String, String)>,
) -> Response {
    message_download(&state, &t, &auth, &id, &seq, true).await
}

/// The personal area's route of [`message_download`].
pub(super) async fn my_message_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, seq)): Path<(String, String)>,
) -> Response {
    message_download(&state, &t, &auth, &id, &seq, false).await
}

pub(super) fn parere_rows(
    portal: &palazzo_services::portal::PortalSnapshot,
    list: &[ParereInterno],
) -> Vec<ParereRow> {
    let name = |o: OfficeId| {
        portal
            .office(o)
            .map(|o| o.data.name.clone())
            .unwrap_or_default()
    };
    list.iter()
        .map(|r| ParereRow {
            pratica: r.pratica.0,
            seq: r.seq,
            subject: r.oggetto.clone(),
            office: name(r.ufficio),
            from_office: name(r.ufficio_richiedente),
            text: r.testo.clone(),
            asked: date_it(r.richiesto_il),
            due: date_it(r.scadenza),
            overdue: r.scaduto,
            outcome: r.risposta.as_ref().map(|a| a.esito.label().to_owned()),
            answer: r.risposta.as_ref().map(|a| a.testo.clone()),
            answered: r.risposta.as_ref().map(|a| date_it(a.il)),
            file: r
                .risposta
                .as_ref()
                .and_then(|a| a.documento.as_ref())
                .map(|d| d.name.clone()),
        })
        .collect()
}

/// Where the back office downloads the document of the answer to the
/// internal opinion asked at step `seq` (the API: the same under
/// `/api/v1`).
pub(crate) fn parere_document_path(pratica: PraticaId, seq: u32) -> String {
    format!("/backoffice/pratiche/{}/pareri/{seq}/documento", pratica.0)
}

/// The document that came with the answer to the internal opinion asked at
/// step `seq`, as a download: for the staff of the office that owns the
/// pratica and of the office that gave the opinion only (`NotFound` for
/// anyone else, and when the answer has no document). The applicant never
/// gets it: internal opinions stay with the offices (art. 16-17 L.
/// 241/1990; their pratica lists only the files of the steps they see).
pub(crate) async fn parere_document(
    app: &App,
    tenant: TenantId,
    actor: &Actor,
    id: PraticaId,
    seq: u32,
) -> Result<Response, ServiceError> {
    let r = app.parere_for_office(tenant, actor, id, seq).await?;
    let doc = r
        .risposta
        .and_then(|a| a.documento)
        .ok_or(ServiceError::NotFound)?;
    crate::upload::private_file(app, &doc).await
}

/// The text fields and the file of a message or of an opinion's answer
/// (multipart), read as every upload form of the pratiche is
/// ([`super::read_slot_upload`]: each file at most 50 MB while it
/// streams, each text field at most 64 KiB); the service then checks the
/// file by content and size. One file at most: a second one is refused
/// (`allegato_uno_solo`) rather than dropped.
pub(crate) async fn read_with_file(
    mp: Result<Multipart, MultipartRejection>,
    spec_id: &str,
) -> Result<(BTreeMap<String, String>, Option<Upload>), ServiceError> {
    let (fields, files) = super::read_slot_upload(mp).await?;
    let mut files = files.into_iter();
    let file = files.next().map(|(name, bytes)| Upload {
        spec_id: spec_id.to_owned(),
        name,
        bytes,
    });
    if files.next().is_some() {
        return Err(invalid(
            "allegato_uno_solo",
            "Si può allegare un solo file (PDF, P7M, JPEG o PNG).",
        ));
    }
    Ok((fields, file))
}

/// A refused step of the office: the pratica's page again with the
/// refusal (422, role=alert, its code); any other error goes on.
async fn office_back(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: PraticaId,
    e: ServiceError,
) -> Result<Response, ServiceError> {
    match e {
        e @ ServiceError::Invalid { .. } => {
            tracing::info!(code = e.code(), "office step refused");
            render_office(state, t, auth, id, false, Some(&e)).await
        }
        e => Err(e),
    }
}

/// The back office's pratica after a step: its page with the notice.
pub(super) fn done(id: PraticaId) -> String {
    format!("/backoffice/pratiche/{}?fatto=1", id.0)
}

/// One step of the office on pratica `id` (the path's text) from a back
/// office form, in the shape every such form shares: the staff
/// permission, the id (404 when not a number), the step, then a redirect
/// to `next(id)` (303), the pratica's page with the refusal
/// ([`office_back`]), or the error page (another office's pratica: the
/// service answers 404 or 403, so nothing is loaded first).
pub(super) async fn office_step(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    id: &str,
    next: fn(PraticaId) -> String,
    step: impl AsyncFnOnce(PraticaId) -> Result<PraticaView, ServiceError>,
) -> Response {
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(id)?);
        match step(id).await {
            Ok(_) => Ok(see_other(&next(id))),
            Err(e) => office_back(state, t, auth, id, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

#[derive(Deserialize, Default)]
pub(super) struct AssignForm {
    #[serde(default)]
    stato: String,
    #[serde(default)]
    responsabile: String,
}

/// Handles `POST /backoffice/pratiche/{id}/assegnazione`.
pub(super) async fn assign(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Response {
    office_step(&state, &t, &auth, &id, done, async |id| {
        let Ok(u) = form.responsabile.trim().parse::<i64>() else {
            return Err(invalid(
                "pratica_responsabile_non_ammesso",
                "Scegli il responsabile del procedimento tra i componenti dell'ufficio.",
            ));
        };
        state
            .app()
            .assign_pratica(t.id, &auth.actor, id, UserId(u), &form.stato)
            .await
    })
    .await
}

#[derive(Deserialize, Default)]
pub(super) struct TransferForm {
    #[serde(default)]
    stato: String,
    #[serde(default)]
    ufficio: String,
    #[serde(default)]
    motivo: String,
}

/// Handles `POST /backoffice/pratiche/{id}/trasferimento`. The pratica
/// leaves the staff member's office: they go back to the list.
pub(super) async fn transfer(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Form(form): Form<TransferForm>,
) -> Response {
    let to_list = |_: PraticaId| "/backoffice/pratiche?trasferita=1".to_owned();
    office_step(&state, &t, &auth, &id, to_list, async |id| {
        let Ok(o) = form.ufficio.trim().parse::<i64>() else {
            return Err(invalid(
                "pratica_ufficio_sconosciuto",
                "Scegli l'ufficio a cui trasferire la pratica.",
            ));
        };
        state
            .app()
            .transfer_pratica(
                t.id,
                &auth.actor,
                id,
                OfficeId(o),
                &form.motivo,
                &form.stato,
            )
            .await
    })
    .await
}

#[derive(Deserialize, Default)]
pub(super) struct ParereForm {
    #[serde(default)]
    ufficio: String,
    #[serde(default)]
    testo: String,
    #[serde(default)]
    giorni: String,
}

/// Handles `POST /backoffice/pratiche/{id}/pareri`.
pub(super) async fn ask_parere(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Form(form): Form<ParereForm>,
) -> Response {
    office_step(&state, &t, &auth, &id, done, async |id| {
        let Ok(o) = form.ufficio.trim().parse::<i64>() else {
            return Err(invalid(
                "pratica_ufficio_sconosciuto",
                "Scegli l'ufficio a cui chiedere il parere.",
            ));
        };
        let days = match form.giorni.trim() {
            "" => None,
            d => Some(d.parse::<u32>().map_err(|_| {
                invalid(
                    "pratica_parere_giorni",
                    "Il termine per il parere va da 1 a 90 giorni.",
                )
            })?),
        };
        let req = ParereRequest {
            office: OfficeId(o),
            text: form.testo.clone(),
            days,
        };
        state.app().request_parere(t.id, &auth.actor, id, req).await
    })
    .await
}

/// The message of a form's fields (`testo`) and file.
fn message_input(
    fields: &BTreeMap<String, String>,
    file: Option<Upload>,
    public: bool,
) -> MessageInput {
    MessageInput {
        text: fields.get("testo").cloned().unwrap_or_default(),
        public,
        file,
    }
}

/// Handles `POST /backoffice/pratiche/{id}/messaggi` (multipart: `testo`,
/// `interno`, `file`).
pub(super) async fn office_message(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    office_step(&state, &t, &auth, &id, done, async |id| {
        let app = state.app();
        // The pratica must be the office's before the upload is read.
        app.office_pratica(t.id, &auth.actor, id).await?;
        let (fields, file) = read_with_file(mp, "messaggio").await?;
        let public = fields.get("interno").is_none_or(|v| v.is_empty());
        let input = message_input(&fields, file, public);
        app.send_pratica_message(t.id, &auth.actor, id, input).await
    })
    .await
}

/// Handles `POST /area-personale/pratiche/{id}/messaggi` (multipart:
/// `testo`, `file`).
pub(super) async fn my_message(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = format!("/area-personale/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::OwnProfile)?;
        let id = PraticaId(id_of(&id)?);
        let app = state.app();
        // The pratica must be the applicant's before the upload is read.
        app.my_pratica(t.id, &auth.actor, id).await?;
        let outcome = async {
            let (fields, file) = read_with_file(mp, "messaggio").await?;
            app.send_pratica_message(t.id, &auth.actor, id, message_input(&fields, file, true))
                .await
        }
        .await;
        citizen_outcome(&state, &t, &auth, id, outcome, "message").await
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

/// Handles `GET /backoffice/pratiche/{id}/pareri/{seq}/documento`: the
/// document of an internal opinion's answer ([`parere_document`]).
pub(super) async fn parere_download(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, seq)): Path<(String, String)>,
) -> Response {
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        let id = PraticaId(id_of(&id)?);
        let seq = u32::try_from(id_of(&seq)?).map_err(|_| ServiceError::NotFound)?;
        parere_document(state.app(), t.id, &auth.actor, id, seq).await
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

#[derive(Template)]
#[template(path = "backoffice/pareri.html")]
struct PareriTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    rows: Vec<ParereRow>,
    error: Option<String>,
    error_code: &'static str,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub(super) struct PareriQuery {
    reso: Option<String>,
}

async fn render_pareri(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    done: bool,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    auth.actor.require(Permission::WorkOfficeCases)?;
    let app = state.app();
    let portal = app.portal(t.id).await?;
    let mut all = Vec::new();
    for o in &portal.offices {
        if auth.actor.principal.can_work_office(o.id.0) {
            all.extend(app.pareri_for_office(t.id, &auth.actor, o.id).await?);
        }
    }
    all.sort_by_key(|r| (r.risposta.is_some(), r.scadenza, r.pratica, r.seq));
    let mut shell = Shell::new(t, "Pareri richiesti al mio ufficio");
    shell.breadcrumb = vec![
        Crumb::link("Home", "/"),
        Crumb::link("Area riservata", "/backoffice"),
        Crumb::link("Pratiche online", "/backoffice/pratiche"),
        Crumb::here("Pareri richiesti al mio ufficio"),
    ];
    let tpl = PareriTemplate {
        shell,
        csrf: auth.csrf().to_owned(),
        rows: parere_rows(&portal, &all),
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
        notice: done.then_some("Il parere è stato registrato."),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(tpl.render(), status))
}

/// Handles `GET /backoffice/pareri`: the internal opinions asked of the
/// staff member's offices, pending first by due date.
pub(super) async fn pareri_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Query(q): Query<PareriQuery>,
) -> Response {
    render_pareri(&state, &t, &auth, q.reso.is_some(), None)
        .await
        .unwrap_or_else(|e| needs("/backoffice/pareri", e))
}

/// Handles `POST /backoffice/pareri/{id}/{seq}` (multipart: `esito`,
/// `testo`, `file`): the answer of the office asked.
pub(super) async fn answer(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((id, seq)): Path<(String, String)>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(&id)?);
        let seq = u32::try_from(id_of(&seq)?).map_err(|_| ServiceError::NotFound)?;
        let app = state.app();
        app.parere_for_office(t.id, &auth.actor, id, seq).await?;
        let outcome = async {
            let (fields, file) = read_with_file(mp, "parere").await?;
            let esito = EsitoParere::parse(fields.get("esito").map_or("", |s| s.trim()))?;
            let answer = ParereAnswer {
                esito,
                text: fields.get("testo").cloned().unwrap_or_default(),
                file,
            };
            app.answer_parere(t.id, &auth.actor, id, seq, answer).await
        }
        .await;
        match outcome {
            Ok(_) => Ok(see_other("/backoffice/pareri?reso=1")),
            Err(e @ ServiceError::Invalid { .. }) => {
                tracing::info!(code = e.code(), "opinion refused");
                render_pareri(&state, &t, &auth, false, Some(&e)).await
            }
            Err(e) => Err(e),
        }
    }
    .await;
    result.unwrap_or_else(|e| needs("/backoffice/pareri", e))
}
