//! Back-office pages of the emergency register (DPR 445/2000 art. 63;
//! PR-10): the list of emergency sessions with the form to open one, the
//! session page (cause, times, authorisations, daily counts, recovered
//! entries with both numbers) with the forms to authorise a further period
//! and to close, and the lookup emergency number → ordinary registration.
//!
//! The recovery (art. 63 c.5) is an upload on the session page: the CSV
//! recovery file (read into memory, not stored) and the documents its rows
//! name, after which the page shows the report row by row
//! (docs/emergency-register.md); `palazzo protocollo emergenza import` does
//! the same from the command line.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palazzo_domain::access::Permission;
use palazzo_services::ServiceError;
use palazzo_services::emergenza::{
    AuthoriseEmergency, EmergencyReport, OpenEmergency, RecoveryOutcome, RecoverySummary,
    parse_rome_datetime,
};
use palazzo_store::{EmergencySession, Tenant};
use serde::Deserialize;

use super::{render, shell};
use crate::AppState;
use crate::auth::Auth;
use crate::auth::pages::{needs, rome, see_other};
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::portal::shell::Shell;
use crate::routes::{Access, Routes};

const LIST: &str = "/backoffice/protocollo/emergenze";

/// The routes of this module.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    let manage = Needs(Permission::ManageEmergencyRegister);
    Routes::new()
        .get(LIST, read, list_page)
        .post(LIST, manage, open)
        .get(
            "/backoffice/protocollo/emergenze/{code}",
            read,
            session_page,
        )
        .post(
            "/backoffice/protocollo/emergenze/{code}/autorizza",
            manage,
            authorise,
        )
        .post(
            "/backoffice/protocollo/emergenze/{code}/chiudi",
            manage,
            close,
        )
        .upload(
            "/backoffice/protocollo/emergenze/{code}/recupero",
            Needs(Permission::RegisterProtocol),
            recover,
        )
        .get(
            "/backoffice/protocollo/emergenze/{code}/{number}",
            read,
            lookup,
        )
}

fn session_path(code: &str) -> String {
    format!("{LIST}/{code}")
}

fn status_of(error: Option<&ServiceError>) -> StatusCode {
    if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

struct SessionRow {
    code: String,
    cause: String,
    started: String,
    ended: Option<String>,
    authorised_until: String,
}

#[derive(Template)]
#[template(path = "backoffice/emergenze.html")]
struct ListTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    rows: Vec<SessionRow>,
    can_manage: bool,
    form: OpenForm,
    error: Option<String>,
    error_code: &'static str,
}

/// The open form, also kept to fill the fields again after a refusal.
#[derive(Deserialize, Default, Clone)]
struct OpenForm {
    #[serde(default)]
    codice: String,
    #[serde(default)]
    causa: String,
    #[serde(default)]
    inizio: String,
    #[serde(default)]
    autorizzato_da: String,
    #[serde(default)]
    atto: String,
    #[serde(default)]
    fino: String,
}

fn row(s: &EmergencySession) -> SessionRow {
    SessionRow {
        code: s.data.code.clone(),
        cause: s.data.cause.clone(),
        started: rome(s.data.started_at),
        ended: s.closure.as_ref().map(|c| rome(c.ended_at)),
        authorised_until: rome(s.authorised_until()),
    }
}

async fn render_list(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    form: OpenForm,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let sessions = state.app().emergency_sessions(t.id, &auth.actor).await?;
    let tpl = ListTemplate {
        shell: shell(t, "Registro di emergenza", "Registro di emergenza"),
        csrf: auth.csrf().to_owned(),
        rows: sessions.iter().map(row).collect(),
        can_manage: auth
            .actor
            .principal
            .can(Permission::ManageEmergencyRegister),
        form,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
    };
    Ok(render(tpl, status_of(error)))
}

/// `GET /backoffice/protocollo/emergenze`: the emergency sessions.
async fn list_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
) -> Response {
    render_list(&state, &t, &auth, OpenForm::default(), None)
        .await
        .unwrap_or_else(|e| needs(LIST, e))
}

fn optional_time(s: &str) -> Result<Option<jiff::Timestamp>, ServiceError> {
    match s.trim() {
        "" => Ok(None),
        s => parse_rome_datetime(s).map(Some),
    }
}

/// `POST /backoffice/protocollo/emergenze`: opens a session with its first
/// authorisation.
async fn open(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Form(f): Form<OpenForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::ManageEmergencyRegister) {
        return needs(LIST, e);
    }
    let result = async {
        let started_at = optional_time(&f.inizio)?.ok_or_else(|| ServiceError::Invalid {
            code: "emergenza_data_ora",
            message: "Indica quando è iniziata l'interruzione.".into(),
        })?;
        state
            .app()
            .open_emergency(
                t.id,
                &auth.actor,
                OpenEmergency {
                    code: Some(f.codice.clone()),
                    cause: f.causa.clone(),
                    started_at,
                    authorised_by: f.autorizzato_da.clone(),
                    act: f.atto.clone(),
                    until: optional_time(&f.fino)?,
                },
            )
            .await
    }
    .await;
    match result {
        Ok(s) => see_other(&format!("{}?esito=aperto", session_path(&s.data.code))),
        Err(e @ ServiceError::Invalid { .. }) => {
            tracing::info!(code = e.code(), "emergency form refused");
            render_list(&state, &t, &auth, f, Some(&e))
                .await
                .unwrap_or_else(|e| needs(LIST, e))
        }
        Err(e) => needs(LIST, e),
    }
}

struct EntryRow {
    emergency_number: u64,
    recorded_at: String,
    registration: i64,
    number: String,
    year: i16,
    registered_at: String,
    subject: String,
    annulled: bool,
}

#[derive(Template)]
#[template(path = "backoffice/emergenza.html")]
struct SessionTemplate<'a> {
    shell: Shell<'a>,
    csrf: String,
    code: String,
    cause: String,
    started: String,
    opened_by: String,
    ended: Option<(String, String)>,
    authorised_until: String,
    authorisations: Vec<(u32, String, String, String, String, String)>,
    days: Vec<(String, u32)>,
    total: usize,
    entries: Vec<EntryRow>,
    open: bool,
    can_manage: bool,
    can_register: bool,
    notice: Option<String>,
    error: Option<String>,
    error_code: &'static str,
    report: Option<ReportView>,
}

/// One row of a recovery's report.
struct ReportRow {
    line: usize,
    emergency_number: String,
    /// `recuperata`, `gia_recuperata` or `rifiutata`.
    outcome: &'static str,
    /// The registration's id and number (`0000042/2026`).
    registration: Option<(i64, String)>,
    code: &'static str,
    message: String,
}

/// The report of a recovery, shown on the session page after the upload.
struct ReportView {
    summary: RecoverySummary,
    rows: Vec<ReportRow>,
}

impl ReportView {
    fn of(outcomes: &[RecoveryOutcome]) -> ReportView {
        let rows = outcomes
            .iter()
            .map(|o| match o {
                RecoveryOutcome::Recovered {
                    line,
                    emergency_number,
                    registration,
                }
                | RecoveryOutcome::AlreadyRecovered {
                    line,
                    emergency_number,
                    registration,
                } => ReportRow {
                    line: *line,
                    emergency_number: emergency_number.to_string(),
                    outcome: if matches!(o, RecoveryOutcome::Recovered { .. }) {
                        "recuperata"
                    } else {
                        "gia_recuperata"
                    },
                    registration: Some((
                        registration.id.0,
                        format!("{}/{}", registration.number, registration.year),
                    )),
                    code: "",
                    message: String::new(),
                },
                RecoveryOutcome::Refused {
                    line,
                    emergency_number,
                    code,
                    message,
                } => ReportRow {
                    line: *line,
                    emergency_number: emergency_number.map(|n| n.to_string()).unwrap_or_default(),
                    outcome: "rifiutata",
                    registration: None,
                    code,
                    message: message.clone(),
                },
            })
            .collect();
        ReportView {
            summary: RecoverySummary::of(outcomes),
            rows,
        }
    }
}

#[derive(Deserialize, Default)]
struct SessionQuery {
    esito: Option<String>,
    numero: Option<String>,
}

fn session_template<'a>(
    t: &'a Tenant,
    auth: &Auth,
    r: EmergencyReport,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> SessionTemplate<'a> {
    let s = &r.session;
    SessionTemplate {
        shell: shell(t, "Registro di emergenza", "Registro di emergenza"),
        csrf: auth.csrf().to_owned(),
        code: s.data.code.clone(),
        cause: s.data.cause.clone(),
        started: rome(s.data.started_at),
        opened_by: s.data.opened_by.clone(),
        ended: s
            .closure
            .as_ref()
            .map(|c| (rome(c.ended_at), c.closed_by.clone())),
        authorised_until: rome(r.authorised_until),
        authorisations: s
            .authorisations
            .iter()
            .map(|a| {
                (
                    a.seq,
                    rome(a.valid_from),
                    rome(a.valid_until),
                    a.authorised_by.clone(),
                    a.act.clone(),
                    a.recorded_by.clone(),
                )
            })
            .collect(),
        days: r
            .daily_counts
            .iter()
            .map(|d| (d.date.strftime("%d/%m/%Y").to_string(), d.registrations))
            .collect(),
        total: r.entries.len(),
        entries: r
            .entries
            .iter()
            .map(|e| EntryRow {
                emergency_number: e.emergency_number,
                recorded_at: rome(e.recorded_at),
                registration: e.registration.0,
                number: e.number.clone(),
                year: e.year,
                registered_at: rome(e.registered_at),
                subject: e.subject.clone(),
                annulled: e.annulled,
            })
            .collect(),
        open: s.is_open(),
        can_manage: auth
            .actor
            .principal
            .can(Permission::ManageEmergencyRegister),
        can_register: auth.actor.principal.can(Permission::RegisterProtocol),
        notice,
        error: error.map(ServiceError::message_it),
        error_code: error.map_or("", ServiceError::code),
        report: None,
    }
}

async fn render_session(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    code: &str,
    notice: Option<String>,
    error: Option<&ServiceError>,
) -> Result<Response, ServiceError> {
    let report = state
        .app()
        .emergency_report(t.id, &auth.actor, code)
        .await?;
    Ok(render(
        session_template(t, auth, report, notice, error),
        status_of(error),
    ))
}

/// `GET /backoffice/protocollo/emergenze/{code}`: one session; with
/// `?numero=N` it goes to the registration that recovered emergency number N.
async fn session_page(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(code): Path<String>,
    Query(q): Query<SessionQuery>,
) -> Response {
    let path = session_path(&code);
    if let Some(n) = q.numero.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        return see_other(&format!("{path}/{n}"));
    }
    let notice = match q.esito.as_deref() {
        Some("aperto") => Some("Registro di emergenza aperto.".to_owned()),
        Some("autorizzato") => Some("Autorizzazione registrata.".to_owned()),
        Some("chiuso") => Some(
            "Registro di emergenza chiuso: ora si possono recuperare le registrazioni.".to_owned(),
        ),
        _ => None,
    };
    render_session(&state, &t, &auth, &code, notice, None)
        .await
        .unwrap_or_else(|e| needs(&path, e))
}

/// After a refused form on the session page: the page again with the error.
async fn refused(
    state: &AppState,
    t: &Tenant,
    auth: &Auth,
    code: &str,
    e: ServiceError,
) -> Response {
    let path = session_path(code);
    match e {
        e @ ServiceError::Invalid { .. } => {
            tracing::info!(code = e.code(), "emergency form refused");
            render_session(state, t, auth, code, None, Some(&e))
                .await
                .unwrap_or_else(|e| needs(&path, e))
        }
        e => needs(&path, e),
    }
}

#[derive(Deserialize)]
struct AuthoriseForm {
    #[serde(default)]
    autorizzato_da: String,
    #[serde(default)]
    atto: String,
    #[serde(default)]
    fino: String,
}

/// `POST /backoffice/protocollo/emergenze/{code}/autorizza`: a further
/// period of at most one week.
async fn authorise(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(code): Path<String>,
    Form(f): Form<AuthoriseForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::ManageEmergencyRegister) {
        return needs(&session_path(&code), e);
    }
    let result = async {
        let until = optional_time(&f.fino)?.ok_or_else(|| ServiceError::Invalid {
            code: "emergenza_data_ora",
            message: "Indica fino a quando vale l'autorizzazione.".into(),
        })?;
        state
            .app()
            .authorise_emergency(
                t.id,
                &auth.actor,
                &code,
                AuthoriseEmergency {
                    authorised_by: f.autorizzato_da.clone(),
                    act: f.atto.clone(),
                    until,
                },
            )
            .await
    }
    .await;
    match result {
        Ok(s) => see_other(&format!("{}?esito=autorizzato", session_path(&s.data.code))),
        Err(e) => refused(&state, &t, &auth, &code, e).await,
    }
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    fine: String,
}

/// `POST /backoffice/protocollo/emergenze/{code}/chiudi`: the service is
/// restored.
async fn close(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(code): Path<String>,
    Form(f): Form<CloseForm>,
) -> Response {
    if let Err(e) = auth.actor.require(Permission::ManageEmergencyRegister) {
        return needs(&session_path(&code), e);
    }
    let result = async {
        let ended = optional_time(&f.fine)?.ok_or_else(|| ServiceError::Invalid {
            code: "emergenza_data_ora",
            message: "Indica quando è stato ripristinato il servizio.".into(),
        })?;
        state
            .app()
            .close_emergency(t.id, &auth.actor, &code, ended)
            .await
    }
    .await;
    match result {
        Ok(s) => see_other(&format!("{}?esito=chiuso", session_path(&s.data.code))),
        Err(e) => refused(&state, &t, &auth, &code, e).await,
    }
}

/// `POST /backoffice/protocollo/emergenze/{code}/recupero` (multipart, the
/// CSRF token in the action URL): recovers the entries written on the
/// emergency register from the uploaded recovery file and documents, then
/// shows the session page with the report (registered, already recovered,
/// refused with line and reason). A file refused as a whole (header,
/// session still open, a document of a type not allowed) registers
/// nothing and comes back as the page with the reason (422).
async fn recover(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path(code): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let path = session_path(&code);
    if let Err(e) = auth.actor.require(Permission::RegisterProtocol) {
        return needs(&path, e);
    }
    let Ok(mp) = mp else {
        return WebError::UnsupportedMediaType.into_response();
    };
    let outcomes = match crate::upload::recover_upload(&state, t.id, &auth.actor, &code, mp).await {
        Ok(o) => o,
        Err(WebError::Service(e)) => return refused(&state, &t, &auth, &code, e).await,
        Err(
            WebError::Unprocessable { code: c, message }
            | WebError::BadRequest { code: c, message },
        ) => {
            let e = ServiceError::Invalid { code: c, message };
            return refused(&state, &t, &auth, &code, e).await;
        }
        Err(e) => return e.into_response(),
    };
    let report = ReportView::of(&outcomes);
    tracing::info!(
        code = %code,
        recovered = report.summary.recovered,
        already = report.summary.already_recovered,
        refused = report.summary.refused,
        "emergency recovery from the back office"
    );
    let page = async {
        let r = state
            .app()
            .emergency_report(t.id, &auth.actor, &code)
            .await?;
        let mut tpl = session_template(&t, &auth, r, None, None);
        tpl.report = Some(report);
        Ok::<_, ServiceError>(render(tpl, StatusCode::OK))
    }
    .await;
    page.unwrap_or_else(|e| needs(&path, e))
}

/// `GET /backoffice/protocollo/emergenze/{code}/{number}`: emergency →
/// ordinary (PR-10), to the registration's page.
async fn lookup(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Extension(auth): Extension<Auth>,
    Path((code, number)): Path<(String, String)>,
) -> Response {
    let path = session_path(&code);
    if let Err(e) = auth.actor.require(Permission::ReadProtocol) {
        return needs(&path, e);
    }
    let Ok(n) = number.trim().parse::<u64>() else {
        return needs(&path, ServiceError::NotFound);
    };
    match state
        .app()
        .emergency_lookup(t.id, &auth.actor, &code, n)
        .await
    {
        Ok(r) => see_other(&format!("/backoffice/protocollo/{}", r.id.0)),
        Err(e) => needs(&path, e),
    }
}
