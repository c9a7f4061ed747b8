//! Appointment booking in the JSON API (issue 6, part 7):
//!
//! * anyone lists the offices that take bookings (optionally only those
//!   competent for a service), their free slots, books a slot, reads and
//!   cancels a booking with its public code;
//! * the office's staff ([`Permission::WorkOfficeCases`], and the office
//!   checked by the services) read the agenda of a day and mark bookings;
//!   the office's managers ([`Permission::DecideCases`]: its responsabile,
//!   the dirigente) read and set its calendar.
//!
//! Callers authenticate with [`ApiAuth`] (a key or the session); a booking
//! made by a signed-in citizen is linked to their profile.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use palazzo_domain::access::Permission;
use palazzo_domain::appuntamenti::{CalendarSpec, RawDetails, parse_date};
use palazzo_domain::calendar::rome_date;
use palazzo_services::ServiceError;
use palazzo_services::appuntamenti::{BookingOffice, BookingRequest};
use palazzo_store::{Booking, BookingId, BookingState};
use serde::{Deserialize, Serialize};

use super::protocollo::json_body;
use super::staff::ApiAuth;
use crate::AppState;
use crate::error::WebError;
use crate::middleware::tenant::CurrentTenant;
use crate::routes::{Access, Routes};

/// The routes, relative to `/api/v1`.
pub fn router() -> Routes {
    use Access::{Needs, Public};
    let office = Needs(Permission::WorkOfficeCases);
    let managers = Needs(Permission::DecideCases);
    Routes::new()
        .get("/appuntamenti/uffici", Public, offices)
        .get("/appuntamenti/uffici/{office}/disponibilita", Public, slots)
        .post("/appuntamenti", Public, book)
        .get("/appuntamenti/prenotazioni/{code}", Public, by_code)
        .post("/appuntamenti/prenotazioni/{code}/annulla", Public, cancel)
        .get("/appuntamenti/uffici/{office}/agenda", office, agenda)
        .post("/appuntamenti/{id}/stato", office, mark)
        .get(
            "/appuntamenti/uffici/{office}/calendario",
            managers,
            calendar,
        )
        .post(
            "/appuntamenti/uffici/{office}/calendario",
            managers,
            set_calendar,
        )
}

/// An office that takes bookings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BookingOfficeDto {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
    /// One-line address.
    pub address: String,
    /// The topics offered.
    pub topics: Vec<String>,
    /// Minimum notice in hours.
    pub notice_hours: u32,
    /// How many days ahead one may book.
    pub horizon_days: u32,
}

impl BookingOfficeDto {
    fn of(o: &BookingOffice) -> Self {
        BookingOfficeDto {
            slug: o.office.data.slug.clone(),
            name: o.office.data.name.clone(),
            address: crate::portal::shell::address_line(&o.office.data.address),
            topics: o.calendar.topics(),
            notice_hours: o.calendar.notice_hours(),
            horizon_days: o.calendar.horizon_days(),
        }
    }
}

/// A free slot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SlotDto {
    /// Start (RFC 3339, UTC): what `POST /appuntamenti` takes as `start`.
    pub start: Timestamp,
    /// End (RFC 3339, UTC).
    pub end: Timestamp,
    /// Civil date in Rome.
    pub date: Date,
    /// Civil start time in Rome, `HH:MM`.
    pub time: String,
    /// Seats still free.
    pub free: u32,
}

/// A booking.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BookingDto {
    /// Id (for the office's actions).
    pub id: i64,
    /// The office's slug.
    pub office: String,
    /// Slot start (UTC).
    pub start: Timestamp,
    /// Slot end (UTC).
    pub end: Timestamp,
    /// Civil date in Rome.
    pub date: Date,
    /// Seat (desk) number.
    pub seat: i64,
    /// The service booked from, if any.
    pub service: Option<String>,
    /// Topic.
    pub topic: String,
    /// Reason.
    pub reason: String,
    /// Given name.
    pub name: String,
    /// Surname.
    pub surname: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// `prenotato`, `annullato`, `presentato`, `assente`.
    pub state: String,
}

fn dto(b: &Booking, office: &str) -> BookingDto {
    let d = &b.data;
    BookingDto {
        id: b.id.0,
        office: office.to_owned(),
        start: d.slot_start,
        end: d.slot_end,
        date: d.slot_date,
        seat: d.seat,
        service: d.service.clone(),
        topic: d.topic.clone(),
        reason: d.reason.clone(),
        name: d.name.clone(),
        surname: d.surname.clone(),
        email: d.email.clone(),
        phone: d.phone.clone(),
        state: b.state.code().to_owned(),
    }
}

async fn office_slug(state: &AppState, tenant: palazzo_store::TenantId, b: &Booking) -> String {
    state
        .app()
        .portal(tenant)
        .await
        .ok()
        .and_then(|s| s.office(b.data.office).map(|o| o.data.slug.clone()))
        .unwrap_or_default()
}

/// `?servizio=`.
#[derive(Debug, Default, Deserialize)]
pub struct OfficesQuery {
    /// Only the offices competent for this service.
    #[serde(default)]
    pub servizio: Option<String>,
}

/// Handles `GET /api/v1/appuntamenti/uffici`.
async fn offices(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Query(q): Query<OfficesQuery>,
) -> Result<Json<Vec<BookingOfficeDto>>, WebError> {
    let list = state
        .app()
        .booking_offices(t.id, q.servizio.as_deref())
        .await?;
    Ok(Json(list.iter().map(BookingOfficeDto::of).collect()))
}

/// `?dal=&al=`.
#[derive(Debug, Default, Deserialize)]
pub struct SlotsQuery {
    /// First day (default today).
    #[serde(default)]
    pub dal: Option<String>,
    /// Last day (default 30 days after the first; at most 92 days after).
    #[serde(default)]
    pub al: Option<String>,
}

fn day(v: Option<&str>, default: Date) -> Result<Date, WebError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_date(s).map_err(|e| WebError::Service(ServiceError::invalid(&e))),
        None => Ok(default),
    }
}

/// Handles `GET /api/v1/appuntamenti/uffici/{office}/disponibilita`.
async fn slots(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Path(office): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> Result<Json<Vec<SlotDto>>, WebError> {
    let today = rome_date(Timestamp::now());
    let from = day(q.dal.as_deref(), today)?;
    let span = |d: Date, n: i64| d.checked_add(jiff::Span::new().days(n)).unwrap_or(d);
    let to = day(q.al.as_deref(), span(from, 30))?.min(span(from, 92));
    let list = state.app().free_slots(t.id, &office, from, to).await?;
    Ok(Json(
        list.iter()
            .map(|f| SlotDto {
                start: f.slot.start,
                end: f.slot.end,
                date: f.slot.date,
                time: crate::appuntamenti::time_label(f.slot.start),
                free: f.free,
            })
            .collect(),
    ))
}

/// `POST /appuntamenti`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    /// The office's slug.
    pub office: String,
    /// The slot's start (RFC 3339), as listed by `disponibilita`.
    pub start: String,
    /// The service booked from, if any (limits to competent offices).
    #[serde(default)]
    pub service: Option<String>,
    /// One of the office's topics.
    pub topic: String,
    /// Reason, at most 500 characters.
    #[serde(default)]
    pub reason: String,
    /// Given name.
    pub name: String,
    /// Surname.
    pub surname: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// The answer to a booking: the booking and its public code (shown once).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BookedDto {
    /// The public code, `XXXX-XXXX-XXXX-XXXX`.
    pub code: String,
    /// The booking.
    pub booking: BookingDto,
}

/// Handles `POST /api/v1/appuntamenti` (201).
async fn book(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    body: Result<Json<BookBody>, JsonRejection>,
) -> Result<Response, WebError> {
    let b = json_body(body)?;
    let req = BookingRequest {
        office: b.office.clone(),
        start: Some(b.start.trim().parse::<Timestamp>().map_err(|_| {
            WebError::Service(ServiceError::invalid(
                &palazzo_domain::appuntamenti::BookingError::NotASlot,
            ))
        })?),
        service: b.service.clone(),
        details: RawDetails {
            topic: b.topic,
            reason: b.reason,
            name: b.name,
            surname: b.surname,
            email: b.email,
            phone: b.phone.unwrap_or_default(),
        },
    };
    let booked = state.app().book_appointment(t.id, &actor, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(BookedDto {
            booking: dto(&booked.booking, b.office.trim()),
            code: booked.code,
        }),
    )
        .into_response())
}

/// Handles `GET /api/v1/appuntamenti/prenotazioni/{code}`.
async fn by_code(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Path(code): Path<String>,
) -> Result<Json<BookingDto>, WebError> {
    let b = state.app().booking_by_code(t.id, &code).await?;
    let slug = office_slug(&state, t.id, &b).await;
    Ok(Json(dto(&b, &slug)))
}

/// Handles `POST /api/v1/appuntamenti/prenotazioni/{code}/annulla`.
async fn cancel(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    Path(code): Path<String>,
) -> Result<Json<BookingDto>, WebError> {
    let b = state.app().cancel_booking_by_code(t.id, &code).await?;
    let slug = office_slug(&state, t.id, &b).await;
    Ok(Json(dto(&b, &slug)))
}

/// `?giorno=`.
#[derive(Debug, Default, Deserialize)]
pub struct AgendaQuery {
    /// The day (default today).
    #[serde(default)]
    pub giorno: Option<String>,
}

/// Handles `GET /api/v1/appuntamenti/uffici/{office}/agenda?giorno=`: the
/// bookings of a day, every state, by time and seat.
async fn agenda(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
    Query(q): Query<AgendaQuery>,
) -> Result<Json<Vec<BookingDto>>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let d = day(q.giorno.as_deref(), rome_date(Timestamp::now()))?;
    let a = state.app().office_agenda(t.id, &actor, &office, d).await?;
    Ok(Json(
        a.bookings
            .iter()
            .map(|b| dto(b, &a.office.data.slug))
            .collect(),
    ))
}

/// `POST /appuntamenti/{id}/stato`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkBody {
    /// `presentato`, `assente` or `annullato`.
    pub state: String,
}

/// Handles `POST /api/v1/appuntamenti/{id}/stato`.
async fn mark(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(id): Path<String>,
    body: Result<Json<MarkBody>, JsonRejection>,
) -> Result<Json<BookingDto>, WebError> {
    actor.require(Permission::WorkOfficeCases)?;
    let id: i64 = id.trim().parse().map_err(|_| WebError::NotFound)?;
    let b = json_body(body)?;
    let to = BookingState::from_code(b.state.trim()).ok_or_else(|| {
        WebError::unprocessable(
            "stato_non_valido",
            "Lo stato deve essere presentato, assente o annullato.",
        )
    })?;
    let booking = state
        .app()
        .mark_booking(t.id, &actor, BookingId(id), to)
        .await?;
    let slug = office_slug(&state, t.id, &booking).await;
    Ok(Json(dto(&booking, &slug)))
}

/// Handles `GET /api/v1/appuntamenti/uffici/{office}/calendario`: the
/// office's calendar (`null` when it has none).
async fn calendar(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
) -> Result<Json<Option<CalendarSpec>>, WebError> {
    actor.require(Permission::DecideCases)?;
    let (_, record) = state.app().office_calendar(t.id, &actor, &office).await?;
    Ok(Json(record.map(|r| r.spec)))
}

/// Handles `POST /api/v1/appuntamenti/uffici/{office}/calendario`: sets the
/// office's calendar; answers it in canonical form.
async fn set_calendar(
    State(state): State<AppState>,
    CurrentTenant(t): CurrentTenant,
    ApiAuth(actor): ApiAuth,
    Path(office): Path<String>,
    body: Result<Json<CalendarSpec>, JsonRejection>,
) -> Result<Json<CalendarSpec>, WebError> {
    actor.require(Permission::DecideCases)?;
    let spec = json_body(body)?;
    let record = state
        .app()
        .set_office_calendar(t.id, Some(&actor), &office, &spec)
        .await?;
    Ok(Json(record.spec))
}
