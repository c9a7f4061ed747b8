//! The office's work on a pratica on the web (issue 6, part 4): the
//! responsabile del procedimento named, the transfer to another office,
//! internal opinions asked and answered ("Pareri richiesti al mio
//! ufficio"), messages between the applicant and the office. Plain forms
//! (CSRF in the body, or in the action URL for uploads), no JavaScript; a
//! refusal shows the page again with the error (role=alert) and its code.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::pratiche::{
    EsitoParere, MessageInput, ParereAnswer, ParereInterno, ParereRequest, Upload,
};
use palazzo_store::{OfficeId, PraticaId, Tenant, UserId};
use serde::Deserialize;

use super::{
    PraticaQuery, date_it, id_of, invalid, read_slot_upload, render, render_office, render_pratica,
};
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
        })
        .collect()
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
        })
        .collect()
}

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
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(&id)?);
        let app = state.app();
        app.office_pratica(t.id, &auth.actor, id).await?;
        let outcome = match form.responsabile.trim().parse::<i64>() {
            Ok(u) => {
                app.assign_pratica(t.id, &auth.actor, id, UserId(u), &form.stato)
                    .await
            }
            Err(_) => Err(invalid(
                "pratica_responsabile_non_ammesso",
                "Scegli il responsabile del procedimento tra i componenti dell'ufficio.",
            )),
        };
        match outcome {
            Ok(_) => Ok(see_other(&format!("/backoffice/pratiche/{}?fatto=1", id.0))),
            Err(e) => office_back(&state, &t, &auth, id, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
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
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(&id)?);
        let app = state.app();
        app.office_pratica(t.id, &auth.actor, id).await?;
        let outcome = match form.ufficio.trim().parse::<i64>() {
            Ok(o) => {
                app.transfer_pratica(
                    t.id,
                    &auth.actor,
                    id,
                    OfficeId(o),
                    &form.motivo,
                    &form.stato,
                )
                .await
            }
            Err(_) => Err(invalid(
                "pratica_ufficio_sconosciuto",
                "Scegli l'ufficio a cui trasferire la pratica.",
            )),
        };
        match outcome {
            Ok(_) => Ok(see_other("/backoffice/pratiche?trasferita=1")),
            Err(e) => office_back(&state, &t, &auth, id, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
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
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(&id)?);
        let app = state.app();
        app.office_pratica(t.id, &auth.actor, id).await?;
        let days = match form.giorni.trim() {
            "" => Ok(None),
            d => d.parse::<u32>().map(Some).map_err(|_| {
                invalid(
                    "pratica_parere_giorni",
                    "Il termine per il parere va da 1 a 90 giorni.",
                )
            }),
        };
        let outcome = match (form.ufficio.trim().parse::<i64>(), days) {
            (Ok(o), Ok(days)) => {
                app.request_parere(
                    t.id,
                    &auth.actor,
                    id,
                    ParereRequest {
                        office: OfficeId(o),
                        text: form.testo.clone(),
                        days,
                    },
                )
                .await
            }
            (Err(_), _) => Err(invalid(
                "pratica_ufficio_sconosciuto",
                "Scegli l'ufficio a cui chiedere il parere.",
            )),
            (_, Err(e)) => Err(e),
        };
        match outcome {
            Ok(_) => Ok(see_other(&format!("/backoffice/pratiche/{}?fatto=1", id.0))),
            Err(e) => office_back(&state, &t, &auth, id, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
}

fn message_input(
    fields: &std::collections::BTreeMap<String, String>,
    files: Vec<(String, Vec<u8>)>,
    public: bool,
) -> MessageInput {
    MessageInput {
        text: fields.get("testo").cloned().unwrap_or_default(),
        public,
        file: files.into_iter().next().map(|(name, bytes)| Upload {
            spec_id: "messaggio".into(),
            name,
            bytes,
        }),
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
    let path = format!("/backoffice/pratiche/{id}");
    let result = async {
        auth.actor.require(Permission::WorkOfficeCases)?;
        let id = PraticaId(id_of(&id)?);
        let app = state.app();
        app.office_pratica(t.id, &auth.actor, id).await?;
        let outcome = async {
            let (fields, files) = read_slot_upload(mp).await?;
            let public = fields.get("interno").is_none_or(|v| v.is_empty());
            app.send_pratica_message(t.id, &auth.actor, id, message_input(&fields, files, public))
                .await
        }
        .await;
        match outcome {
            Ok(_) => Ok(see_other(&format!("/backoffice/pratiche/{}?fatto=1", id.0))),
            Err(e) => office_back(&state, &t, &auth, id, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| needs(&path, e))
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
        app.my_pratica(t.id, &auth.actor, id).await?;
        let outcome = async {
            let (fields, files) = read_slot_upload(mp).await?;
            app.send_pratica_message(t.id, &auth.actor, id, message_input(&fields, files, true))
                .await
        }
        .await;
        match outcome {
            Ok(_) => Ok(see_other(&format!(
                "/area-personale/pratiche/{}?fatto=1",
                id.0
            ))),
            Err(e @ ServiceError::Invalid { .. }) => {
                tracing::info!(code = e.code(), "citizen message refused");
                render_pratica(&state, &t, &auth, id, &PraticaQuery::default(), Some(&e)).await
            }
            Err(e) => Err(e),
        }
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
            let (fields, files) = read_slot_upload(mp).await?;
            let esito = EsitoParere::parse(fields.get("esito").map_or("", |s| s.trim()))?;
            app.answer_parere(
                t.id,
                &auth.actor,
                id,
                seq,
                ParereAnswer {
                    esito,
                    text: fields.get("testo").cloned().unwrap_or_default(),
                    file: files.into_iter().next().map(|(name, bytes)| Upload {
                        spec_id: "parere".into(),
                        name,
                        bytes,
                    }),
                },
            )
            .await
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
