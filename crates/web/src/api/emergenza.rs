//! The emergency register (DPR 445/2000 art. 63; PR-10;
//! docs/emergency-register.md) in the JSON API: list the sessions, open one
//! with its first authorisation, read one with its daily counts and
//! recovered entries, record a further authorisation, close it, look up the
//! registration that recovered an emergency number, and recover the
//! entries from a recovery file (multipart: the CSV in part `recupero`, the
//! documents in parts `documenti`). Part of the protocollo API (merged by
//! [`super::protocollo::router`]); callers authenticate with [`ApiAuth`];
//! permissions are checked here first (so that an anonymous caller learns
//! nothing from a malformed request) and again by the services.
//!
//! Dates and times are read as the back office reads them (RFC 3339 with an
//! offset, or `AAAA-MM-GG HH:MM` in Europe/Rome time) and written as RFC
//! 3339 UTC.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_services::emergenza::{
    AuthoriseEmergency, EmergencyReport, OpenEmergency, RecoveryOutcome, RecoverySummary,
    parse_rome_datetime,
};
use palazzo_store::EmergencySession;
use serde::{Deserialize, Serialize};

use super::protocollo::{RegistrationDto, json_body};
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::Needs;
    let read = Needs(Permission::ReadProtocol);
    let manage = Needs(Permission::ManageEmergencyRegister);
    Routes::new()
        .get("/protocollo/emergenze", read, list)
        .post("/protocollo/emergenze", manage, open)
        .get("/protocollo/emergenze/{code}", read, session)
        .post(
            "/protocollo/emergenze/{code}/autorizzazioni",
            manage,
            authorise,
        )
        .post("/protocollo/emergenze/{code}/chiusura", manage, close)
        .upload(
            "/protocollo/emergenze/{code}/recupero",
            Needs(Permission::RegisterProtocol),
            recover,
        )
        .get("/protocollo/emergenze/{code}/{number}", read, lookup)
}

/// An authorisation to use the emergency register (art. 63 c.1-2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorisationDto {
    /// 1 for the first, then 2, 3…
    pub seq: u32,
    /// Who authorised it.
    pub authorised_by: String,
    /// The act that authorises it.
    pub act: String,
    /// Start of the period.
    pub valid_from: Timestamp,
    /// End of the period.
    pub valid_until: Timestamp,
    /// Who recorded it in Palazzo.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// An emergency register session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionDto {
    /// Code, unique within the AOO (e.g. `EMERG-2026-01`).
    pub code: String,
    /// Cause of the interruption.
    pub cause: String,
    /// Start of the interruption.
    pub started_at: Timestamp,
    /// Who opened it.
    pub opened_by: String,
    /// The authorisations, in order.
    pub authorisations: Vec<AuthorisationDto>,
    /// End of the authorised periods.
    pub authorised_until: Timestamp,
    /// Whether the service is still interrupted.
    pub open: bool,
    /// When the service was restored, once closed.
    pub ended_at: Option<Timestamp>,
    /// Who recorded the closure.
    pub closed_by: Option<String>,
}

impl From<&EmergencySession> for SessionDto {
    fn from(s: &EmergencySession) -> Self {
        SessionDto {
            code: s.data.code.clone(),
            cause: s.data.cause.clone(),
            started_at: s.data.started_at,
            opened_by: s.data.opened_by.clone(),
            authorisations: s
                .authorisations
                .iter()
                .map(|a| AuthorisationDto {
                    seq: a.seq,
                    authorised_by: a.authorised_by.clone(),
                    act: a.act.clone(),
                    valid_from: a.valid_from,
                    valid_until: a.valid_until,
                    recorded_by: a.recorded_by.clone(),
                    recorded_at: a.recorded_at,
                })
                .collect(),
            authorised_until: s.authorised_until(),
            open: s.is_open(),
            ended_at: s.closure.as_ref().map(|c| c.ended_at),
            closed_by: s.closure.as_ref().map(|c| c.closed_by.clone()),
        }
    }
}

/// Registrations of one Europe/Rome day on the emergency register (c.3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DailyCountDto {
    /// The day.
    pub date: Date,
    /// How many.
    pub registrations: u32,
}

/// A recovered entry: both numbers (c.5).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecoveredDto {
    /// Number on the emergency register.
    pub emergency_number: u64,
    /// When it was recorded on the emergency register.
    pub recorded_at: Timestamp,
    /// The ordinary registration's id.
    pub registration: i64,
    /// Its year.
    pub year: i16,
    /// Its number, seven digits.
    pub number: String,
    /// When it was registered in the ordinary register.
    pub registered_at: Timestamp,
    /// Oggetto.
    pub subject: String,
    /// Annulled since.
    pub annulled: bool,
}

/// A session with its daily counts and recovered entries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportDto {
    /// The session.
    pub session: SessionDto,
    /// Registrations per day, every day of the session.
    pub daily_counts: Vec<DailyCountDto>,
    /// The recovered entries, by emergency number.
    pub entries: Vec<RecoveredDto>,
}

impl From<&EmergencyReport> for ReportDto {
    fn from(r: &EmergencyReport) -> Self {
        ReportDto {
            session: (&r.session).into(),
            daily_counts: r
                .daily_counts
                .iter()
                .map(|d| DailyCountDto {
                    date: d.date,
                    registrations: d.registrations,
                })
                .collect(),
            entries: r
                .entries
                .iter()
                .map(|e| RecoveredDto {
                    emergency_number: e.emergency_number,
                    recorded_at: e.recorded_at,
                    registration: e.registration.0,
                    year: e.year,
                    number: e.number.clone(),
                    registered_at: e.registered_at,
                    subject: e.subject.clone(),
                    annulled: e.annulled,
                })
                .collect(),
        }
    }
}

/// What happened to one row of a recovery file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecoveryRowDto {
    /// The 1-based line of the file.
    pub line: usize,
    /// The emergency number, when it could be read.
    pub emergency_number: Option<u64>,
    /// `recovered` (registered now), `already_recovered` (by an earlier
    /// upload: nothing registered again) or `refused` (nothing stored).
    pub outcome: String,
    /// The registration, for `recovered` and `already_recovered`.
    pub registration: Option<RegistrationDto>,
    /// Stable code of a refusal.
    pub error: Option<String>,
    /// Italian reason of a refusal.
    pub message: Option<String>,
}

/// The report of a recovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecoveryDto {
    /// Rows registered now.
    pub recovered: usize,
    /// Rows recovered by an earlier upload.
    pub already_recovered: usize,
    /// Rows refused.
    pub refused: usize,
    /// Every row, in file order.
    pub rows: Vec<RecoveryRowDto>,
}

impl RecoveryDto {
    /// The report of `outcomes`.
    pub fn of(outcomes: &[RecoveryOutcome]) -> RecoveryDto {
        let s = RecoverySummary::of(outcomes);
        RecoveryDto {
            recovered: s.recovered,
            already_recovered: s.already_recovered,
            refused: s.refused,
            rows: outcomes
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
                    } => RecoveryRowDto {
                        line: *line,
                        emergency_number: Some(*emergency_number),
                        outcome: if matches!(o, RecoveryOutcome::Recovered { .. }) {
                            "recovered"
                        } else {
                            "already_recovered"
                        }
                        .to_owned(),
                        registration: Some(RegistrationDto::from(&**registration)),
                        error: None,
                        message: None,
                    },
                    RecoveryOutcome::Refused {
                        line,
                        emergency_number,
                        code,
                        message,
                    } => RecoveryRowDto {
                        line: *line,
                        emergency_number: *emergency_number,
                        outcome: "refused".to_owned(),
                        registration: None,
                        error: Some((*code).to_owned()),
                        message: Some(message.clone()),
                    },
                })
                .collect(),
        }
    }
}

fn time(field: &str, s: &str) -> Result<Timestamp, WebError> {
    if s.trim().is_empty() {
        return Err(WebError::unprocessable(
            "emergenza_data_ora",
            format!("Indica «{field}» (data e ora)."),
        ));
    }
    Ok(parse_rome_datetime(s)?)
}

/// Handles `GET /api/v1/protocollo/emergenze`: the sessions, newest first.
async fn list(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
) -> Result<Json<Vec<SessionDto>>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let rows = state.app().emergency_sessions(t.id, &actor).await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// Opening a session (art. 63 c.1) with its first authorisation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// Code; the next `EMERG-<year>-<nn>` when absent.
    #[serde(default)]
    pub code: Option<String>,
    /// Cause of the interruption.
    pub cause: String,
    /// Start of the interruption.
    pub started_at: String,
    /// Who authorised the emergency register.
    pub authorised_by: String,
    /// The act that authorises it.
    pub act: String,
    /// End of the first period (at most, and by default, 24 hours).
    #[serde(default)]
    pub until: Option<String>,
}

/// Handles `POST /api/v1/protocollo/emergenze`: opens a session (201).
async fn open(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<OpenBody>, JsonRejection>,
) -> Result<Response, WebError> {
    actor.require(Permission::ManageEmergencyRegister)?;
    let b = json_body(body)?;
    let until = match b.until.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(time("until", u)?),
    };
    let s = state
        .app()
        .open_emergency(
            t.id,
            &actor,
            OpenEmergency {
                code: b.code,
                cause: b.cause,
                started_at: time("started_at", &b.started_at)?,
                authorised_by: b.authorised_by,
                act: b.act,
                until,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(SessionDto::from(&s))).into_response())
}

/// Handles `GET /api/v1/protocollo/emergenze/{code}`: the session with its
/// daily counts and recovered entries.
async fn session(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(code): Path<String>,
) -> Result<Json<ReportDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let r = state.app().emergency_report(t.id, &actor, &code).await?;
    Ok(Json((&r).into()))
}

/// A further authorisation (art. 63 c.2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthoriseBody {
    /// Who authorised it.
    pub authorised_by: String,
    /// The act.
    pub act: String,
    /// End of the period: at most one week after the previous one ends.
    pub until: String,
}

/// Handles `POST /api/v1/protocollo/emergenze/{code}/autorizzazioni`.
async fn authorise(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(code): Path<String>,
    body: Result<Json<AuthoriseBody>, JsonRejection>,
) -> Result<Json<SessionDto>, WebError> {
    actor.require(Permission::ManageEmergencyRegister)?;
    let b = json_body(body)?;
    let s = state
        .app()
        .authorise_emergency(
            t.id,
            &actor,
            &code,
            AuthoriseEmergency {
                authorised_by: b.authorised_by,
                act: b.act,
                until: time("until", &b.until)?,
            },
        )
        .await?;
    Ok(Json((&s).into()))
}

/// The closure: the service was restored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// When the service was restored.
    pub ended_at: String,
}

/// Handles `POST /api/v1/protocollo/emergenze/{code}/chiusura`.
async fn close(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(code): Path<String>,
    body: Result<Json<CloseBody>, JsonRejection>,
) -> Result<Json<SessionDto>, WebError> {
    actor.require(Permission::ManageEmergencyRegister)?;
    let b = json_body(body)?;
    let s = state
        .app()
        .close_emergency(t.id, &actor, &code, time("ended_at", &b.ended_at)?)
        .await?;
    Ok(Json((&s).into()))
}

/// Handles `POST /api/v1/protocollo/emergenze/{code}/recupero`: recovers
/// the entries from a `multipart/form-data` body with the recovery file
/// (part `recupero`, UTF-8 CSV of at most 4 MiB) and the documents its rows
/// name (parts `documenti`, matched by file name). 200 with the report; a
/// refused row stores nothing and does not stop the others, so the same
/// upload can be sent again after fixing the refused rows.
async fn recover(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(code): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Json<RecoveryDto>, WebError> {
    // Authorization before reading (and storing) anything.
    actor.require(Permission::RegisterProtocol)?;
    let mp = mp.map_err(|_| WebError::UnsupportedMediaType)?;
    let outcomes = crate::upload::recover_upload(&state, t.id, &actor, &code, mp).await?;
    Ok(Json(RecoveryDto::of(&outcomes)))
}

/// Handles `GET /api/v1/protocollo/emergenze/{code}/{number}`: the
/// registration that recovered emergency number `number` (PR-10).
async fn lookup(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path((code, number)): Path<(String, String)>,
) -> Result<Json<RegistrationDto>, WebError> {
    actor.require(Permission::ReadProtocol)?;
    let n = number
        .trim()
        .parse::<u64>()
        .map_err(|_| WebError::NotFound)?;
    let r = state.app().emergency_lookup(t.id, &actor, &code, n).await?;
    Ok(Json((&r).into()))
}
